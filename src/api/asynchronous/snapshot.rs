//! Optimistic concurrency in the asynchronous API (§5, issue 14): [`AsyncSnapshot`],
//! [`AsyncConnection::read_snapshot`] and [`retry_optimistic_async`]. The snapshot's logic
//! (binding, values, the length check, the conflict) is `SnapshotCore` of
//! `src/api/optimistic.rs`, shared with [`Snapshot`](crate::api::Snapshot); here the
//! driver calls are notification-mode operations: SQLExecDirect, SQLNumResultCols,
//! SQLDescribeCol, SQLFetch and SQLSetPos (which the DM emulates on its pool where it
//! emulates the concurrency, decision #85).

use super::*;
use crate::api::optimistic::{snapshot_accessors, Backoff, Concurrency, Described, SnapshotCore, Step};

/// One row read under optimistic concurrency through the asynchronous API, with every
/// column bound. Owns its [`AsyncStatement`]. Write it back with
/// [`AsyncSnapshot::update`] or [`AsyncSnapshot::delete`]. `Send + 'static`.
pub struct AsyncSnapshot {
    // Declared first: dropped (its handle freed or handed to the DM) before the buffers.
    st: AsyncStatement,
    core: SnapshotCore,
}

impl AsyncConnection {
    /// Runs `sql` (a single-table SELECT naming the columns to read and write, including
    /// the table's key) under `concurrency` on a new statement and reads its first row as an
    /// [`AsyncSnapshot`]; `None` when the query returns no row. The future is `'static`.
    pub fn read_snapshot(
        &self,
        sql: impl Into<String>,
        concurrency: Concurrency,
    ) -> impl Future<Output = Result<Option<AsyncSnapshot>>> + Send + 'static {
        let sql: String = sql.into();
        let st = self.statement();
        async move {
            let mut snap = AsyncSnapshot { st: st?, core: SnapshotCore::new() };
            snap.core.setup(snap.st.as_raw(), concurrency)?;
            if !snap.st.execute(sql).await? {
                return Err(Error::Usage("read_snapshot needs a query that returns a result set".into()));
            }
            let n = SnapshotCore::check_count(snap.st.column_count().await?.into())?;
            let described = snap.st.describe_all(n).await?;
            for (i, d) in described.iter().enumerate() {
                snap.core.bind(snap.st.as_raw(), i as u16 + 1, d)?;
            }
            if !snap.st.fetch().await? {
                return Ok(None);
            }
            snap.core.check_lengths()?;
            push_warnings_from(&mut snap.core.warnings, snap.st.take_warnings());
            Ok(Some(snap))
        }
    }
}

fn push_warnings_from(into: &mut Vec<DiagRecord>, w: Vec<DiagRecord>) {
    super::super::error::push_warnings(into, w);
}

impl AsyncStatement {
    /// SQLDescribeCol of columns 1..=n, one notification-mode operation each.
    pub(super) fn describe_all(&mut self, n: u16) -> OpFuture<'_, Vec<Described>> {
        self.op("SQLDescribeCol", move |st| async move {
            let mut out = Vec::with_capacity(n as usize);
            for c in 1..=n {
                out.push(*st.describe_col_op(c).await?);
            }
            Ok(out)
        })
    }

    fn describe_col_op(&mut self, col: u16) -> RawOp<'_, Box<Described>> {
        let mut d = Box::<Described>::default();
        let p = (
            Addr::of(d.name.as_mut_ptr() as *const u8),
            Addr::of(&mut d.name_len as *mut SqlSmallInt as *const SqlSmallInt),
            Addr::of(&mut d.ty as *mut SqlDataType as *const SqlDataType),
            Addr::of(&mut d.size as *mut SqlULen as *const SqlULen),
            Addr::of(&mut d.digits as *mut SqlSmallInt as *const SqlSmallInt),
            Addr::of(&mut d.nullable as *mut Nullability as *const Nullability),
        );
        let start = start_fn(move |h| {
            // SAFETY: our statement id; every out pointer points into the boxed `Described`
            // owned by `finish` (then by the slot) until the driver is done with it.
            unsafe { raw::SQLDescribeCol(h, col, p.0.ptr(), 256, p.1.ptr(), p.2.ptr(), p.3.ptr(), p.4.ptr(), p.5.ptr()) }
        });
        let finish = finish_fn::<Box<Described>, _>(move |st, _, rc, recs| {
            check_outcome("SQLDescribeCol", rc, recs, &mut st.warnings)?;
            Ok(d)
        });
        self.raw("SQLDescribeCol", (), start, finish)
    }

    /// SQLSetPos(row, op) as an operation: the checked code and the warnings.
    fn set_pos_op(&mut self, row: usize, op: SetPosOperation) -> OpFuture<'_, (Result<SqlReturn>, Vec<DiagRecord>)> {
        self.op("SQLSetPos", move |st| async move {
            let start = start_fn(move |h| {
                // SAFETY: our statement id; the snapshot's bound buffers outlive the
                // operation (the snapshot settles it before freeing them).
                unsafe { raw::SQLSetPos(h, row, op, LockType::SQL_LOCK_NO_CHANGE) }
            });
            let finish = finish_fn::<(Result<SqlReturn>, Vec<DiagRecord>), _>(move |_st, _, rc, recs| {
                let mut w = Vec::new();
                let r = check_outcome("SQLSetPos", rc, recs, &mut w);
                Ok((r, w))
            });
            st.raw("SQLSetPos", (), start, finish).await
        })
    }
}

impl AsyncSnapshot {
    snapshot_accessors!();

    async fn write(mut self, op: SetPosOperation) -> Result<Vec<DiagRecord>> {
        let (r, w) = self.st.set_pos_op(1, op).await?;
        self.core.write_outcome(r, w)
    }

    /// Writes the changed row back (§5.5). `Err(Error::Conflict)` when the row was changed
    /// or deleted since it was read (01001): nothing was written. Returns the warnings.
    pub fn update(self) -> impl Future<Output = Result<Vec<DiagRecord>>> + Send + 'static {
        self.write(SetPosOperation::SQL_UPDATE)
    }

    /// Deletes the row (§5.5); `Err(Error::Conflict)` when it was changed or deleted since
    /// it was read.
    pub fn delete(self) -> impl Future<Output = Result<Vec<DiagRecord>>> + Send + 'static {
        self.write(SetPosOperation::SQL_DELETE)
    }

    /// The statement (for raw access; owned by the snapshot).
    pub fn statement(&self) -> &AsyncStatement {
        &self.st
    }
}

impl Drop for AsyncSnapshot {
    fn drop(&mut self) {
        // A future dropped mid-operation may have left the driver (or the DM's emulation)
        // working with the bound buffers: wait for it (bounded); if it never ends, the
        // buffers are leaked rather than freed under it.
        if !self.st.shared.settle_blocking() {
            log::error!("AsyncSnapshot: an operation did not end; its buffers are leaked");
            self.core.leak();
            return;
        }
        let h = self.st.as_raw();
        // SAFETY: our statement, nothing outstanding: close and unbind (no buffer address
        // outlives its box); the statement is freed by its own drop.
        unsafe {
            raw::SQLFreeStmt(h, FreeStmtOption::SQL_CLOSE);
            raw::SQLFreeStmt(h, FreeStmtOption::SQL_UNBIND);
        }
    }
}

/// The asynchronous twin of [`retry_optimistic`](crate::api::retry_optimistic): awaits
/// `f()` until it does not end in [`Error::Conflict`], at most `max_attempts` times, with
/// the same randomized pause between attempts (a runtime-agnostic timer, [`pause`]).
pub async fn retry_optimistic_async<T, F, Fut>(max_attempts: usize, mut f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut b = Backoff::new(max_attempts);
    loop {
        match b.step(f().await) {
            Step::Done(r) => return r,
            Step::RetryAfter(d) => pause(d).await,
        }
    }
}
