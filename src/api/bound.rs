//! [`BoundCursor`]: block fetching into column-wise bound row arrays, a blocking driver
//! of [`RowSet`] (see [`rowset`](super::rowset)).

use super::cursor::Cursor;
use super::error::{Diag, DiagRecord, Result};
use super::rowset::{BufferDesc, RowSet};
use crate::raw;

/// A cursor with row-array buffers bound to its columns, fetching a rowset per call.
///
/// Owns the [`RowSet`] (buffers, rows-fetched counter, row status array) whose addresses
/// it gave to the driver; on drop it unbinds them before freeing them, then closes the
/// cursor. `Send`, not `Sync`.
pub struct BoundCursor<'a> {
    cursor: Option<Cursor<'a>>,
    rowset: Box<RowSet>,
}

impl<'a> BoundCursor<'a> {
    pub(crate) fn new(mut cursor: Cursor<'a>, rowset_size: usize, columns: &[BufferDesc]) -> Result<Self> {
        let rowset = RowSet::bind(cursor.h, rowset_size, columns, cursor.enc, &mut cursor.warnings)?;
        Ok(BoundCursor { cursor: Some(cursor), rowset })
    }

    /// The rowset size in effect (the requested one, or less when the driver refused it).
    pub fn rowset_size(&self) -> usize {
        self.rowset.rowset_size()
    }

    /// Fetches the next rowset (`SQLFetch`); `None` at the end of the result set.
    pub fn fetch(&mut self) -> Result<Option<&RowSet>> {
        let Some(cursor) = self.cursor.as_mut() else {
            return Ok(None);
        };
        self.rowset.start_fetch();
        // SAFETY: our statement id; the bound buffers are alive (owned by `self`).
        let rc = unsafe { raw::SQLFetch(cursor.h) };
        let rc = Diag::stmt(cursor.h).check("SQLFetch", rc, &mut cursor.warnings)?;
        Ok((self.rowset.end_fetch(rc) > 0).then_some(&*self.rowset))
    }

    /// Unbinds the buffers and returns the plain cursor (positioned after the last rowset).
    pub fn into_cursor(mut self) -> Cursor<'a> {
        self.unbind();
        self.cursor.take().expect("a BoundCursor holds its cursor until dropped")
    }

    /// The warnings gathered on the cursor (e.g. 01004 for truncated text).
    pub fn warnings(&self) -> &[DiagRecord] {
        self.cursor.as_ref().map(|c| c.warnings()).unwrap_or(&[])
    }

    fn unbind(&mut self) {
        if let Some(c) = self.cursor.as_ref() {
            self.rowset.unbind(c.h);
        }
    }
}

impl Drop for BoundCursor<'_> {
    fn drop(&mut self) {
        // Unbind before the buffers (fields) are freed; the cursor field then closes.
        self.unbind();
    }
}
