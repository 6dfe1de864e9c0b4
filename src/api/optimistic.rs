//! Optimistic concurrency in the safe API (§5, issue 14): read a row as a [`Snapshot`],
//! change it, write it back with [`Snapshot::update`] / [`Snapshot::delete`]; a collision
//! (someone changed or deleted the row in between, SQLSTATE 01001) is the typed
//! [`Error::Conflict`]. [`retry_optimistic`] re-runs a read-modify-write closure on
//! conflicts.
//!
//! Built on the raw layer: the snapshot is a one-row cursor opened under
//! `SQL_ATTR_CONCURRENCY` = ROWVER or VALUES with every column bound; the write is
//! `SQLSetPos(1, SQL_UPDATE | SQL_DELETE)`, which the driver performs where it offers the
//! concurrency and the Driver Manager emulates otherwise (docs/concurrency.md).
//!
//! ```no_run
//! use odbc_dm::api::{retry_optimistic, Concurrency, Environment, SnapshotValue};
//! let env = Environment::new()?;
//! let conn = env.connect_with_connection_string("DSN=pg")?;
//! retry_optimistic(100, || {
//!     let mut s = conn.read_snapshot("SELECT id, n FROM counter WHERE id = 1", Concurrency::Values)?.expect("row");
//!     let n = s.get_i64("n").unwrap_or(0);
//!     s.set("n", SnapshotValue::Int(n + 1))?;
//!     s.update()
//! })?;
//! # Ok::<(), odbc_dm::api::Error>(())
//! ```

use std::ptr;

use odbc_dm_abi::*;

use super::error::{push_warnings, Diag};
use super::{Connection, DiagRecord, Error, Result};
use crate::raw;

/// The optimistic concurrency of a snapshot (§5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Concurrency {
    /// `SQL_CONCUR_ROWVER`: the row's version column pins it (the DM substitutes VALUES,
    /// with a 01S02 warning, when the table has none in the result set).
    RowVersion,
    /// `SQL_CONCUR_VALUES`: the values read pin it.
    Values,
}

/// A value of a snapshot column.
#[derive(Clone, Debug, PartialEq)]
pub enum SnapshotValue {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Int,
    Float,
    Text,
    Bytes,
}

struct Col {
    name: String,
    kind: Kind,
    /// Bound buffer; never resized after binding (its address is with the DM).
    buf: Box<[u8]>,
    ind: Box<SqlLen>,
}

/// The largest buffer bound for one text or binary column (a longer value cannot be
/// pinned: it would be truncated in the buffer).
const MAX_COLUMN_BYTES: usize = 1 << 20;

/// The part of a snapshot both APIs share (decision #86): the bound columns and their
/// values, the row status array, the warnings, the statement setup before execution, the
/// binding of each described column, the length check after the fetch and the reading of
/// a write's outcome (01001 → [`Error::Conflict`]). [`Snapshot`] drives it with direct
/// calls, [`AsyncSnapshot`](crate::api::AsyncSnapshot) with notification-mode operations.
pub(crate) struct SnapshotCore {
    cols: Vec<Col>,
    status: Box<[u16; 1]>,
    pub(crate) warnings: Vec<DiagRecord>,
}

/// What SQLDescribeCol returned for one column.
pub(crate) struct Described {
    pub(crate) name: [u8; 256],
    pub(crate) name_len: SqlSmallInt,
    pub(crate) ty: SqlDataType,
    pub(crate) size: SqlULen,
    pub(crate) digits: SqlSmallInt,
    pub(crate) nullable: Nullability,
}

impl Default for Described {
    fn default() -> Self {
        Described { name: [0; 256], name_len: 0, ty: SqlDataType(0), size: 0, digits: 0, nullable: Nullability(0) }
    }
}

impl SnapshotCore {
    pub(crate) fn new() -> SnapshotCore {
        SnapshotCore { cols: Vec::new(), status: Box::new([0]), warnings: Vec::new() }
    }

    /// Before execution: SQL_ATTR_CONCURRENCY and the row status array (neither call runs
    /// asynchronously).
    pub(crate) fn setup(&mut self, h: SqlHStmt, concurrency: Concurrency) -> Result<()> {
        let c = match concurrency {
            Concurrency::RowVersion => SQL_CONCUR_ROWVER,
            Concurrency::Values => SQL_CONCUR_VALUES,
        };
        // SAFETY: our statement; an integer attribute passed by value.
        let rc = unsafe { raw::SQLSetStmtAttr(h, StmtAttr::SQL_ATTR_CONCURRENCY, c as SqlPointer, 0) };
        Diag::stmt(h).check("SQLSetStmtAttr", rc, &mut self.warnings)?;
        // SAFETY: our statement; the status array is boxed and outlives the statement's
        // use of it (the owner frees or settles the statement first).
        let rc = unsafe { raw::SQLSetStmtAttr(h, StmtAttr::SQL_ATTR_ROW_STATUS_PTR, self.status.as_mut_ptr().cast(), 0) };
        Diag::stmt(h).check("SQLSetStmtAttr", rc, &mut self.warnings)?;
        Ok(())
    }

    /// After SQLNumResultCols.
    pub(crate) fn check_count(n: i64) -> Result<u16> {
        if n <= 0 {
            return Err(Error::Usage("read_snapshot needs a query that returns a result set".into()));
        }
        u16::try_from(n).map_err(|_| Error::Usage("too many columns".into()))
    }

    /// Binds column `c` as described (SQLBindCol, never asynchronous).
    pub(crate) fn bind(&mut self, h: SqlHStmt, c: u16, d: &Described) -> Result<()> {
        let kind = match d.ty {
            SqlDataType::SQL_SMALLINT
            | SqlDataType::SQL_INTEGER
            | SqlDataType::SQL_BIGINT
            | SqlDataType::SQL_TINYINT
            | SqlDataType::SQL_BIT => Kind::Int,
            SqlDataType::SQL_FLOAT | SqlDataType::SQL_REAL | SqlDataType::SQL_DOUBLE => Kind::Float,
            SqlDataType::SQL_BINARY | SqlDataType::SQL_VARBINARY | SqlDataType::SQL_LONGVARBINARY => Kind::Bytes,
            _ => Kind::Text,
        };
        let cap = match kind {
            Kind::Int | Kind::Float => 8,
            Kind::Bytes => d.size.clamp(1, MAX_COLUMN_BYTES),
            Kind::Text => d.size.saturating_mul(4).saturating_add(1).clamp(64, MAX_COLUMN_BYTES),
        };
        let ctype = match kind {
            Kind::Int => CDataType::SQL_C_SBIGINT,
            Kind::Float => CDataType::SQL_C_DOUBLE,
            Kind::Bytes => CDataType::SQL_C_BINARY,
            Kind::Text => CDataType::SQL_C_CHAR,
        };
        let mut col = Col {
            name: String::from_utf8_lossy(&d.name[..(d.name_len.max(0) as usize).min(255)]).into_owned(),
            kind,
            buf: vec![0u8; cap].into_boxed_slice(),
            ind: Box::new(0),
        };
        // SAFETY: our statement; the boxed buffers live as long as the statement uses them
        // and are unbound (or the statement freed) before they are freed.
        let rc = unsafe { raw::SQLBindCol(h, c, ctype, col.buf.as_mut_ptr().cast(), cap as SqlLen, &mut *col.ind) };
        self.cols.push(col);
        Diag::stmt(h).check("SQLBindCol", rc, &mut self.warnings).map(drop)
    }

    /// After the fetch: a value that filled its buffer cannot be pinned.
    pub(crate) fn check_lengths(&self) -> Result<()> {
        for c in &self.cols {
            if c.kind != Kind::Int
                && c.kind != Kind::Float
                && *c.ind >= 0
                && (*c.ind as usize) >= c.buf.len() - usize::from(c.kind == Kind::Text)
            {
                return Err(Error::Usage(format!("column {} is longer than {MAX_COLUMN_BYTES} bytes and cannot be pinned", c.name)));
            }
        }
        Ok(())
    }

    /// The outcome of SQLSetPos(1, SQL_UPDATE | SQL_DELETE): `checked` as the handle's
    /// diagnostics made it, `w` its warnings. 01001 → [`Error::Conflict`].
    pub(crate) fn write_outcome(&mut self, checked: Result<SqlReturn>, w: Vec<DiagRecord>) -> Result<Vec<DiagRecord>> {
        if w.iter().any(|r| r.state == "01001") {
            return Err(Error::Conflict { records: w });
        }
        checked?;
        push_warnings(&mut self.warnings, w);
        Ok(std::mem::take(&mut self.warnings))
    }

    /// Leaks the buffers (their statement may still be used by a driver that never ended).
    pub(crate) fn leak(&mut self) {
        for c in std::mem::take(&mut self.cols) {
            std::mem::forget(c);
        }
        std::mem::forget(std::mem::replace(&mut self.status, Box::new([0])));
    }

    fn col(&self, name: &str) -> Option<&Col> {
        self.cols.iter().find(|c| c.name.eq_ignore_ascii_case(name))
    }

    pub(crate) fn columns(&self) -> impl Iterator<Item = &str> {
        self.cols.iter().map(|c| c.name.as_str())
    }

    pub(crate) fn get(&self, name: &str) -> Option<SnapshotValue> {
        let c = self.col(name)?;
        if *c.ind == SQL_NULL_DATA {
            return Some(SnapshotValue::Null);
        }
        let n = (*c.ind).max(0) as usize;
        Some(match c.kind {
            Kind::Int => SnapshotValue::Int(i64::from_ne_bytes(c.buf[..8].try_into().ok()?)),
            Kind::Float => SnapshotValue::Float(f64::from_ne_bytes(c.buf[..8].try_into().ok()?)),
            Kind::Bytes => SnapshotValue::Bytes(c.buf[..n.min(c.buf.len())].to_vec()),
            Kind::Text => SnapshotValue::Text(String::from_utf8_lossy(&c.buf[..n.min(c.buf.len() - 1)]).into_owned()),
        })
    }

    pub(crate) fn set(&mut self, name: &str, value: SnapshotValue) -> Result<()> {
        let c =
            self.cols.iter_mut().find(|c| c.name.eq_ignore_ascii_case(name)).ok_or_else(|| Error::Usage(format!("no column {name}")))?;
        match (c.kind, value) {
            (_, SnapshotValue::Null) => *c.ind = SQL_NULL_DATA,
            (Kind::Int, SnapshotValue::Int(v)) => {
                c.buf[..8].copy_from_slice(&v.to_ne_bytes());
                *c.ind = 8;
            }
            (Kind::Float, SnapshotValue::Float(v)) => {
                c.buf[..8].copy_from_slice(&v.to_ne_bytes());
                *c.ind = 8;
            }
            (Kind::Text, SnapshotValue::Text(t)) if t.len() < c.buf.len() => {
                c.buf[..t.len()].copy_from_slice(t.as_bytes());
                c.buf[t.len()] = 0;
                *c.ind = t.len() as SqlLen;
            }
            (Kind::Bytes, SnapshotValue::Bytes(b)) if b.len() <= c.buf.len() => {
                c.buf[..b.len()].copy_from_slice(&b);
                *c.ind = b.len() as SqlLen;
            }
            (k, v) => return Err(Error::Usage(format!("column {name} ({k:?}) cannot hold {v:?}"))),
        }
        Ok(())
    }
}

/// The accessors of [`Snapshot`] and [`AsyncSnapshot`](crate::api::AsyncSnapshot), written
/// once over their `core` field.
macro_rules! snapshot_accessors {
    () => {
        /// The column names, in result order.
        pub fn columns(&self) -> impl Iterator<Item = &str> {
            self.core.columns()
        }

        /// The current value of a column (as read, or as set). `None`: no such column.
        pub fn get(&self, name: &str) -> Option<$crate::api::SnapshotValue> {
            self.core.get(name)
        }

        /// An integer column (`None` for NULL, another type or no such column).
        pub fn get_i64(&self, name: &str) -> Option<i64> {
            match self.core.get(name)? {
                $crate::api::SnapshotValue::Int(v) => Some(v),
                _ => None,
            }
        }

        /// Sets a column's new value (written by `update`).
        pub fn set(&mut self, name: &str, value: $crate::api::SnapshotValue) -> $crate::api::Result<()> {
            self.core.set(name, value)
        }

        /// The warnings gathered while reading (e.g. 01S02 for a substituted concurrency).
        pub fn warnings(&self) -> &[$crate::api::DiagRecord] {
            &self.core.warnings
        }
    };
}
pub(crate) use snapshot_accessors;

/// One row read under optimistic concurrency, with every column bound. Owns its
/// statement (freed on drop). Write it back with [`Snapshot::update`] or
/// [`Snapshot::delete`].
pub struct Snapshot<'c> {
    _conn: &'c Connection,
    h: SqlHStmt,
    core: SnapshotCore,
}

// SAFETY: `h` is a DM handle id (the DM serializes calls per handle, §3.1); the buffers
// are owned heap allocations only this snapshot uses.
unsafe impl Send for Snapshot<'_> {}

impl Connection {
    /// Runs `sql` (a single-table SELECT naming the columns to read and write, including
    /// the table's key) under `concurrency` and reads its first row as a [`Snapshot`].
    /// `None` when the query returns no row.
    pub fn read_snapshot(&self, sql: &str, concurrency: Concurrency) -> Result<Option<Snapshot<'_>>> {
        let mut h: SqlHandle = ptr::null_mut();
        // SAFETY: our connection id and a valid out slot.
        let rc = unsafe { raw::SQLAllocHandle(HandleType::SQL_HANDLE_STMT, self.h, &mut h) };
        if !rc.is_success() || h.is_null() {
            return Err(Diag::dbc(self.h).error("SQLAllocHandle", if rc.is_success() { SqlReturn::SQL_ERROR } else { rc }));
        }
        let mut s = Snapshot { _conn: self, h, core: SnapshotCore::new() };
        s.core.setup(h, concurrency)?;
        let len = i32::try_from(sql.len()).map_err(|_| Error::Usage("statement text too long".into()))?;
        // SAFETY: our statement; the text outlives the call.
        let rc = unsafe { raw::SQLExecDirect(h, sql.as_ptr(), len) };
        s.check("SQLExecDirect", rc)?;
        let mut n: SqlSmallInt = 0;
        // SAFETY: our statement; a valid out pointer.
        let rc = unsafe { raw::SQLNumResultCols(h, &mut n) };
        s.check("SQLNumResultCols", rc)?;
        let n = SnapshotCore::check_count(n.into())?;
        for c in 1..=n {
            let mut d = Described::default();
            // SAFETY: our statement; buffers of the sizes passed.
            let rc = unsafe {
                raw::SQLDescribeCol(h, c, d.name.as_mut_ptr(), 256, &mut d.name_len, &mut d.ty, &mut d.size, &mut d.digits, &mut d.nullable)
            };
            s.check("SQLDescribeCol", rc)?;
            s.core.bind(h, c, &d)?;
        }
        // SAFETY: our statement with live bound buffers.
        let rc = unsafe { raw::SQLFetch(h) };
        if s.check("SQLFetch", rc)? == SqlReturn::SQL_NO_DATA {
            return Ok(None);
        }
        s.core.check_lengths()?;
        Ok(Some(s))
    }
}

impl Snapshot<'_> {
    fn check(&mut self, function: &'static str, rc: SqlReturn) -> Result<SqlReturn> {
        Diag::stmt(self.h).check(function, rc, &mut self.core.warnings)
    }

    snapshot_accessors!();

    fn set_pos(mut self, op: SetPosOperation) -> Result<Vec<DiagRecord>> {
        // SAFETY: our statement, positioned on its row, with live bound buffers.
        let rc = unsafe { raw::SQLSetPos(self.h, 1, op, LockType::SQL_LOCK_NO_CHANGE) };
        let mut w = Vec::new();
        let r = Diag::stmt(self.h).check("SQLSetPos", rc, &mut w);
        self.core.write_outcome(r, w)
    }

    /// Writes the changed row back (§5.5). `Err(Error::Conflict)` when the row was changed
    /// or deleted since it was read (01001): nothing was written. Returns the warnings.
    pub fn update(self) -> Result<Vec<DiagRecord>> {
        self.set_pos(SetPosOperation::SQL_UPDATE)
    }

    /// Deletes the row (§5.5); `Err(Error::Conflict)` when it was changed or deleted since
    /// it was read.
    pub fn delete(self) -> Result<Vec<DiagRecord>> {
        self.set_pos(SetPosOperation::SQL_DELETE)
    }
}

impl Drop for Snapshot<'_> {
    fn drop(&mut self) {
        // SAFETY: our statement: close, unbind (so no buffer address outlives its box), free.
        unsafe {
            raw::SQLFreeStmt(self.h, FreeStmtOption::SQL_CLOSE);
            raw::SQLFreeStmt(self.h, FreeStmtOption::SQL_UNBIND);
            let rc = raw::SQLFreeHandle(HandleType::SQL_HANDLE_STMT, self.h);
            if !rc.is_success() {
                log::warn!("Snapshot: SQLFreeHandle(STMT) returned {rc:?}");
            }
        }
    }
}

/// The retry policy of [`retry_optimistic`] and
/// [`retry_optimistic_async`](crate::api::retry_optimistic_async), written once: after a
/// result, either the result stands or the attempt is repeated after a pause.
///
/// The pause is "full jitter" exponential backoff scaled by how long an attempt takes here
/// and now: uniformly random in `[0, w)` with `w = attempt time × 2^(conflicts − 1)`
/// (at most ×64, and at most [`Backoff::MAX_PAUSE`]). A fixed pause of microseconds is no
/// pause at all next to a read-modify-write of milliseconds: colliding writers re-read at
/// the same instant and collide again, the more so the longer the window between read and
/// write (an asynchronous round trip, a loaded machine). Scaling by the measured attempt
/// time spreads the retries over a few attempt lengths whatever the driver, the API or the
/// load.
pub(crate) struct Backoff {
    attempt: usize,
    max_attempts: usize,
    /// When the current attempt began (the end of the previous pause).
    began: std::time::Instant,
    /// A smoothed attempt time (the window a writer holds its snapshot).
    typical: std::time::Duration,
}

pub(crate) enum Step<T> {
    Done(Result<T>),
    RetryAfter(std::time::Duration),
}

impl Backoff {
    /// The longest single pause.
    pub(crate) const MAX_PAUSE: std::time::Duration = std::time::Duration::from_millis(250);

    pub(crate) fn new(max_attempts: usize) -> Backoff {
        Backoff { attempt: 0, max_attempts, began: std::time::Instant::now(), typical: std::time::Duration::ZERO }
    }

    /// Takes an attempt's result: a conflict before the last attempt is retried after a
    /// randomized pause (colliding writers spread out); anything else stands.
    pub(crate) fn step<T>(&mut self, r: Result<T>) -> Step<T> {
        self.attempt += 1;
        let took = self.began.elapsed();
        // Exponential smoothing (1/4 new) so that one slow attempt does not dominate.
        self.typical = if self.typical.is_zero() { took } else { (self.typical * 3 + took) / 4 };
        match r {
            Err(Error::Conflict { records }) if self.attempt < self.max_attempts => {
                drop(records);
                let window = self
                    .typical
                    .max(std::time::Duration::from_micros(100))
                    .saturating_mul(1 << (self.attempt - 1).min(6))
                    .min(Self::MAX_PAUSE);
                let d = window.mul_f64(unit_random());
                self.began = std::time::Instant::now() + d;
                Step::RetryAfter(d)
            }
            r => Step::Done(r),
        }
    }
}

/// A random number in `[0, 1)`: std's per-process random hash keys (advanced for every
/// `RandomState`) over the time and the thread, enough to decorrelate retrying writers.
fn unit_random() -> f64 {
    use std::hash::{BuildHasher, Hash, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    std::thread::current().id().hash(&mut h);
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Runs a read-modify-write closure until it does not end in [`Error::Conflict`], at most
/// `max_attempts` times (the last conflict is returned), with a randomized, exponentially
/// growing pause between attempts, scaled by how long an attempt takes, so that colliding
/// writers spread out.
pub fn retry_optimistic<T>(max_attempts: usize, mut f: impl FnMut() -> Result<T>) -> Result<T> {
    let mut b = Backoff::new(max_attempts);
    loop {
        match b.step(f()) {
            Step::Done(r) => return r,
            Step::RetryAfter(d) => std::thread::sleep(d),
        }
    }
}
