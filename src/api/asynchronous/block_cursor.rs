//! Block fetching on an [`AsyncStatement`]: [`AsyncBlockCursor`].

use super::*;

/// Block fetching on an [`AsyncStatement`]: column-wise row arrays bound to the statement,
/// an asynchronous driver of [`RowSet`] (which it dereferences to: read the last rowset
/// with [`i64`](RowSet::i64), [`text`](RowSet::text), … as on a [`BoundCursor`](crate::api::BoundCursor)).
///
/// The [`RowSet`] is a heap allocation owned by the cursor. It is never freed while a
/// driver call is in flight: dropping the cursor first waits (bounded, cancelling if
/// needed) for an outstanding fetch, then unbinds, then frees it; if the driver never ends
/// the fetch, it is leaked rather than freed.
pub struct AsyncBlockCursor<'s> {
    pub(super) st: &'s mut AsyncStatement,
    pub(super) rowset: Option<Box<RowSet>>,
}

impl<'s> AsyncBlockCursor<'s> {
    pub(super) fn new(st: &'s mut AsyncStatement, rowset_size: usize, columns: &[BufferDesc]) -> Result<Self> {
        st.settle_leftover_blocking()?;
        let rowset = RowSet::bind(st.shared.hstmt(), rowset_size, columns, st.enc, &mut st.warnings)?;
        Ok(AsyncBlockCursor { st, rowset: Some(rowset) })
    }

    /// Fetches the next rowset (`SQLFetch`) into the bound buffers; the number of rows
    /// (0 at the end of the result set).
    pub fn fetch(&mut self) -> OpFuture<'_, usize> {
        let rowset = self.rowset.as_deref_mut().expect("a block cursor holds its rowset until dropped");
        rowset.start_fetch();
        self.st.op("SQLFetch", move |st| async move {
            let rc = st.simple_op("SQLFetch", raw::SQLFetch).await?;
            Ok(rowset.end_fetch(rc))
        })
    }

    /// Blocking twin of [`fetch`](Self::fetch).
    pub fn fetch_blocking(&mut self) -> Result<usize> {
        self.fetch().wait()
    }

    /// Rows in the last fetched rowset (as [`RowSet::len`]).
    pub fn rows(&self) -> usize {
        self.len()
    }
}

impl std::ops::Deref for AsyncBlockCursor<'_> {
    type Target = RowSet;
    fn deref(&self) -> &RowSet {
        self.rowset.as_deref().expect("a block cursor holds its rowset until dropped")
    }
}

impl Drop for AsyncBlockCursor<'_> {
    fn drop(&mut self) {
        let Some(rowset) = self.rowset.take() else { return };
        if !self.st.shared.settle_blocking() {
            // The driver may still write into the buffers: never free them.
            log::error!("an asynchronous fetch did not end; its row buffers are leaked");
            Box::leak(rowset);
            return;
        }
        rowset.unbind(self.st.shared.hstmt());
    }
}
