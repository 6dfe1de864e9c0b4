//! Statements: [`Statement`], [`Prepared`], [`CancelHandle`], and the execution machinery
//! (parameter binding, data-at-execution) they share with [`Connection`].

use std::io::Read;
use std::marker::PhantomData;
use std::ptr;

use odbc_dm_abi::*;

use super::catalog::{catalog_methods, CatalogArgs};
use super::connection::Connection;
use super::cursor::Cursor;
use super::error::{Diag, DiagRecord, Error, Result};
use super::params::{NullKind, ParamValue, Params, Streamed, TextEncoding};
use crate::raw;

/// Text at or below this many characters / bytes is bound as VARCHAR, above as LONGVARCHAR.
const LONG_THRESHOLD: usize = 4000;
/// Bytes per `SQLPutData` call.
const PUT_CHUNK: usize = 8192;

/// The owned buffer of one bound parameter. Scalars live inline: the `Vec` holding the
/// `BoundParam`s is never resized after binding, so their addresses are stable even when
/// the `Vec` itself moves (into a cursor).
enum ParamBuf {
    Null(u64, NullKind),
    I32(i32),
    I64(i64),
    F64(f64),
    Bit(u8),
    Narrow(Vec<u8>),
    Wide(Vec<u16>),
    Binary(Vec<u8>),
    AtExecNarrow(Vec<u8>),
    AtExecWide(Vec<u16>),
    AtExecStream(Streamed),
}

pub(crate) struct BoundParam {
    buf: ParamBuf,
    ind: SqlLen,
}

/// An owned statement handle plus the parameter buffers bound to it. Freed on drop (after
/// which the buffers go).
pub(crate) struct StmtHandle<'c> {
    pub(crate) h: SqlHStmt,
    pub(crate) enc: TextEncoding,
    params: Vec<BoundParam>,
    _conn: PhantomData<&'c Connection>,
}

// SAFETY: `h` is an id into the Driver Manager's handle table; the DM serializes every call
// on a handle (§3.1) and its handles may be used from any thread. The parameter buffers are
// plain owned data (`Streamed` readers are `Send`).
unsafe impl Send for StmtHandle<'_> {}

impl Drop for StmtHandle<'_> {
    fn drop(&mut self) {
        // SAFETY: our statement id; no cursor borrows it any more.
        let mut rc = unsafe { raw::SQLFreeHandle(HandleType::SQL_HANDLE_STMT, self.h) };
        if rc == SqlReturn::SQL_ERROR {
            // A data-at-execution sequence left open (a panic while sending a value): the
            // statement cannot be freed in S8–S10 (HY010, §4.5); SQLCancel ends the sequence.
            cancel_need_data(self.h);
            // SAFETY: as above.
            rc = unsafe { raw::SQLFreeHandle(HandleType::SQL_HANDLE_STMT, self.h) };
        }
        if !rc.is_success() {
            let e = Diag::stmt(self.h).error("SQLFreeHandle", rc);
            log::warn!("freeing an ODBC statement failed: {e}");
        }
    }
}

impl<'c> StmtHandle<'c> {
    pub(crate) fn alloc(conn: &'c Connection) -> Result<Self> {
        let mut h: SqlHandle = ptr::null_mut();
        // SAFETY: our connection id and a valid out slot.
        let rc = unsafe { raw::SQLAllocHandle(HandleType::SQL_HANDLE_STMT, conn.h, &mut h) };
        conn.check("SQLAllocHandle", rc)?;
        if h.is_null() {
            return Err(Error::Odbc { function: "SQLAllocHandle", return_code: rc.0, records: Vec::new() });
        }
        Ok(StmtHandle { h, enc: conn.text_encoding(), params: Vec::new(), _conn: PhantomData })
    }

    pub(crate) fn diag(&self) -> Diag {
        Diag::stmt(self.h)
    }

    pub(crate) fn check(&self, function: &'static str, rc: SqlReturn, warnings: &mut Vec<DiagRecord>) -> Result<SqlReturn> {
        self.diag().check(function, rc, warnings)
    }

    fn free_stmt(&self, option: FreeStmtOption) {
        // SAFETY: our statement id.
        let rc = unsafe { raw::SQLFreeStmt(self.h, option) };
        if !rc.is_success() {
            log::debug!("SQLFreeStmt({option:?}) failed: {}", self.diag().error("SQLFreeStmt", rc));
        }
    }

    /// Unbinds the previous parameters, then copies and binds `params`.
    fn bind_params(&mut self, params: Vec<ParamValue>, warnings: &mut Vec<DiagRecord>) -> Result<()> {
        if !self.params.is_empty() {
            self.free_stmt(FreeStmtOption::SQL_RESET_PARAMS);
        }
        let enc = self.enc;
        self.params = params.into_iter().map(|v| to_bound(v, enc)).collect();
        bind_bound_params(self.h, &mut self.params, enc, warnings)
    }

    /// Executes `sql` directly, or the prepared statement when `sql` is `None`, with
    /// `params`; drives data-at-execution. `Ok(true)` when a result set is open.
    pub(crate) fn execute(&mut self, sql: Option<&str>, params: Vec<ParamValue>, warnings: &mut Vec<DiagRecord>) -> Result<bool> {
        self.free_stmt(FreeStmtOption::SQL_CLOSE);
        self.bind_params(params, warnings)?;
        let (function, rc) = match sql {
            Some(sql) => {
                let len = i32::try_from(sql.len()).map_err(|_| Error::Usage("statement text longer than i32::MAX bytes".into()))?;
                // SAFETY: our statement id; `sql` is valid UTF-8 of `len` bytes for the call.
                ("SQLExecDirect", unsafe { raw::SQLExecDirect(self.h, sql.as_ptr(), len) })
            }
            // SAFETY: our statement id.
            None => ("SQLExecute", unsafe { raw::SQLExecute(self.h) }),
        };
        let mut rc = self.check(function, rc, warnings)?;
        if rc == SqlReturn::SQL_NEED_DATA {
            rc = self.put_data_at_exec(warnings)?;
        }
        if rc == SqlReturn::SQL_NO_DATA {
            // A searched UPDATE/DELETE that touched no row: no result set.
            return Ok(false);
        }
        Ok(self.num_result_cols(warnings)? > 0)
    }

    /// The `SQLParamData` / `SQLPutData` loop after SQL_NEED_DATA.
    fn put_data_at_exec(&mut self, warnings: &mut Vec<DiagRecord>) -> Result<SqlReturn> {
        loop {
            let mut token: SqlPointer = ptr::null_mut();
            // SAFETY: our statement id and a valid out slot.
            let rc = unsafe { raw::SQLParamData(self.h, &mut token) };
            let rc = self.check("SQLParamData", rc, warnings)?;
            if rc != SqlReturn::SQL_NEED_DATA {
                return Ok(rc);
            }
            if let Err(e) = self.send_param(token, warnings) {
                cancel_need_data(self.h);
                return Err(e);
            }
        }
    }

    fn send_param(&mut self, token: SqlPointer, warnings: &mut Vec<DiagRecord>) -> Result<()> {
        let mut at = AtExec::new(&self.params, token)?;
        while let Some(chunk) = at.next_chunk(&mut self.params)? {
            // SAFETY: our statement id; `chunk` is readable for the call.
            let rc = unsafe { raw::SQLPutData(self.h, chunk.as_ptr() as SqlPointer, chunk.len() as SqlLen) };
            Diag::stmt(self.h).check("SQLPutData", rc, warnings)?;
        }
        Ok(())
    }

    pub(crate) fn num_result_cols(&self, warnings: &mut Vec<DiagRecord>) -> Result<i16> {
        let mut n: SqlSmallInt = 0;
        // SAFETY: our statement id and a valid out slot.
        let rc = unsafe { raw::SQLNumResultCols(self.h, &mut n) };
        self.check("SQLNumResultCols", rc, warnings)?;
        Ok(n)
    }

    pub(crate) fn prepare(&mut self, sql: &str, warnings: &mut Vec<DiagRecord>) -> Result<()> {
        let len = i32::try_from(sql.len()).map_err(|_| Error::Usage("statement text longer than i32::MAX bytes".into()))?;
        // SAFETY: our statement id; `sql` is valid for `len` bytes during the call.
        let rc = unsafe { raw::SQLPrepare(self.h, sql.as_ptr(), len) };
        self.check("SQLPrepare", rc, warnings).map(drop)
    }

    /// A catalog function (the open cursor is closed first).
    pub(crate) fn catalog(&mut self, args: &CatalogArgs, warnings: &mut Vec<DiagRecord>) -> Result<()> {
        // SAFETY: our statement id; a synchronous call, `args` outlives it.
        let rc = unsafe { args.call(self.h) };
        self.check(args.function(), rc, warnings).map(drop)
    }

    pub(crate) fn row_count(&self, warnings: &mut Vec<DiagRecord>) -> Result<isize> {
        row_count(self.h, warnings)
    }

    pub(crate) fn set_attr_uint(&self, attr: StmtAttr, value: usize, warnings: &mut Vec<DiagRecord>) -> Result<SqlReturn> {
        // SAFETY: our statement id; an integer attribute travels in the pointer itself.
        let rc = unsafe { raw::SQLSetStmtAttr(self.h, attr, value as SqlPointer, SQL_IS_UINTEGER) };
        self.check("SQLSetStmtAttr", rc, warnings)
    }

    pub(crate) fn cancel_handle(&self) -> CancelHandle {
        CancelHandle { ht: HandleType::SQL_HANDLE_STMT, h: self.h as usize }
    }
}

/// Ends a NEED_DATA sequence after a failure (`SQLCancel`, §4.5), so the statement is
/// usable again.
pub(crate) fn cancel_need_data(h: SqlHStmt) {
    // SAFETY: the caller's statement id.
    let _ = unsafe { raw::SQLCancel(h) };
}

/// The sending of one data-at-execution value in chunks, written once for both APIs: the
/// caller asks [`next_chunk`](Self::next_chunk) for each piece and sends it with
/// `SQLPutData` (blocking, or as an asynchronous operation that owns a copy).
pub(crate) struct AtExec {
    idx: usize,
    /// Elements (bytes or UTF-16 units) of the value already handed out.
    pos: usize,
    /// Bytes a stream may still yield (its announced length, or unlimited).
    left: usize,
    sent: bool,
    scratch: Vec<u8>,
}

impl AtExec {
    /// The parameter the driver asks for with `token` (SQLParamData's ValuePtr: the
    /// 1-based parameter number bound as the data-at-execution token).
    pub(crate) fn new(params: &[BoundParam], token: SqlPointer) -> Result<AtExec> {
        let idx = (token as usize).wrapping_sub(1);
        let left = match params.get(idx).map(|p| &p.buf) {
            Some(ParamBuf::AtExecStream(s)) => s.len.unwrap_or(usize::MAX),
            Some(ParamBuf::AtExecNarrow(_) | ParamBuf::AtExecWide(_)) => usize::MAX,
            Some(_) => {
                return Err(Error::DriverProtocol {
                    function: "SQLParamData",
                    detail: format!("driver asked for data of bound parameter {}", idx + 1),
                })
            }
            None => {
                return Err(Error::DriverProtocol {
                    function: "SQLParamData",
                    detail: format!("driver asked for data of an unknown parameter (token {token:p})"),
                })
            }
        };
        Ok(AtExec { idx, pos: 0, left, sent: false, scratch: Vec::new() })
    }

    /// The next chunk to send; `None` when the value is complete. An empty value is one
    /// empty chunk. Text is cut on character boundaries (UTF-8 sequences and UTF-16
    /// surrogate pairs stay whole).
    pub(crate) fn next_chunk<'a>(&'a mut self, params: &'a mut [BoundParam]) -> Result<Option<&'a [u8]>> {
        let (start, end) = match &mut params[self.idx].buf {
            ParamBuf::AtExecNarrow(b) => {
                let rest = &b[self.pos..];
                let mut n = rest.len().min(PUT_CHUNK);
                while n < rest.len() && n > 0 && (rest[n] & 0xC0) == 0x80 {
                    n -= 1;
                }
                (self.pos, self.pos + n)
            }
            ParamBuf::AtExecWide(w) => {
                let rest = &w[self.pos..];
                let mut n = rest.len().min(PUT_CHUNK / 2);
                if n < rest.len() && (0xD800..0xDC00).contains(&rest[n - 1]) {
                    n -= 1;
                }
                (self.pos, self.pos + n)
            }
            ParamBuf::AtExecStream(s) => {
                self.scratch.resize(PUT_CHUNK, 0);
                let want = self.left.min(PUT_CHUNK);
                let n = loop {
                    if want == 0 {
                        break 0;
                    }
                    match s.reader.read(&mut self.scratch[..want]) {
                        Ok(n) => break n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(source) => return Err(Error::Io { parameter: (self.idx + 1) as u16, source }),
                    }
                };
                self.left -= n;
                (0, n)
            }
            _ => unreachable!("AtExec::new checked the parameter kind"),
        };
        if start == end && self.sent {
            return Ok(None);
        }
        self.sent = true;
        Ok(Some(match &params[self.idx].buf {
            ParamBuf::AtExecNarrow(b) => {
                self.pos = end;
                &b[start..end]
            }
            ParamBuf::AtExecWide(w) => {
                self.pos = end;
                let units = &w[start..end];
                // SAFETY: `units` is initialized u16 memory; viewed as its bytes.
                unsafe { std::slice::from_raw_parts(units.as_ptr() as *const u8, units.len() * 2) }
            }
            _ => &self.scratch[..end],
        }))
    }
}

pub(crate) fn row_count(h: SqlHStmt, warnings: &mut Vec<DiagRecord>) -> Result<isize> {
    let mut n: SqlLen = 0;
    // SAFETY: a statement id owned by the caller and a valid out slot.
    let rc = unsafe { raw::SQLRowCount(h, &mut n) };
    Diag::stmt(h).check("SQLRowCount", rc, warnings)?;
    Ok(n)
}

/// Binds already converted parameters to markers 1, 2, … of `h` (`SQLBindParameter`).
/// The caller keeps `params` alive, neither resized nor moved element-wise, until the
/// parameters are reset (`SQL_RESET_PARAMS`) or the statement is freed.
pub(crate) fn bind_bound_params(h: SqlHStmt, params: &mut [BoundParam], enc: TextEncoding, warnings: &mut Vec<DiagRecord>) -> Result<()> {
    if params.len() > u16::MAX as usize {
        return Err(Error::Usage(format!("{} parameters are more than ODBC can number", params.len())));
    }
    for (i, p) in params.iter_mut().enumerate() {
        let (ctype, stype, size, digits, value, buf_len): (CDataType, SqlDataType, usize, i16, SqlPointer, SqlLen) = match &mut p.buf {
            ParamBuf::Null(d, k) => {
                let (ct, size) = match k {
                    NullKind::Integer => (CDataType::SQL_C_SLONG, 10),
                    NullKind::BigInt => (CDataType::SQL_C_SBIGINT, 19),
                    NullKind::Double => (CDataType::SQL_C_DOUBLE, 15),
                    NullKind::Bit => (CDataType::SQL_C_BIT, 1),
                    NullKind::Text if enc == TextEncoding::Utf16 => (CDataType::SQL_C_WCHAR, 1),
                    NullKind::Text => (CDataType::SQL_C_CHAR, 1),
                    NullKind::Binary => (CDataType::SQL_C_BINARY, 1),
                };
                (ct, k.sql_type(enc), size, 0, d as *mut u64 as SqlPointer, 0)
            }
            ParamBuf::I32(v) => (CDataType::SQL_C_SLONG, SqlDataType::SQL_INTEGER, 10, 0, v as *mut i32 as SqlPointer, 0),
            ParamBuf::I64(v) => (CDataType::SQL_C_SBIGINT, SqlDataType::SQL_BIGINT, 19, 0, v as *mut i64 as SqlPointer, 0),
            ParamBuf::F64(v) => (CDataType::SQL_C_DOUBLE, SqlDataType::SQL_DOUBLE, 15, 0, v as *mut f64 as SqlPointer, 0),
            ParamBuf::Bit(v) => (CDataType::SQL_C_BIT, SqlDataType::SQL_BIT, 1, 0, v as *mut u8 as SqlPointer, 0),
            ParamBuf::Narrow(b) => {
                let st = if b.len() > LONG_THRESHOLD { SqlDataType::SQL_LONGVARCHAR } else { SqlDataType::SQL_VARCHAR };
                (CDataType::SQL_C_CHAR, st, b.len().max(1), 0, b.as_mut_ptr() as SqlPointer, b.len() as SqlLen)
            }
            ParamBuf::Wide(w) => {
                let st = if w.len() > LONG_THRESHOLD { SqlDataType::SQL_WLONGVARCHAR } else { SqlDataType::SQL_WVARCHAR };
                (CDataType::SQL_C_WCHAR, st, w.len().max(1), 0, w.as_mut_ptr() as SqlPointer, (w.len() * 2) as SqlLen)
            }
            ParamBuf::Binary(b) => {
                let st = if b.len() > 8000 { SqlDataType::SQL_LONGVARBINARY } else { SqlDataType::SQL_VARBINARY };
                (CDataType::SQL_C_BINARY, st, b.len().max(1), 0, b.as_mut_ptr() as SqlPointer, b.len() as SqlLen)
            }
            ParamBuf::AtExecNarrow(b) => (CDataType::SQL_C_CHAR, SqlDataType::SQL_LONGVARCHAR, b.len().max(1), 0, (i + 1) as SqlPointer, 0),
            ParamBuf::AtExecWide(w) => (CDataType::SQL_C_WCHAR, SqlDataType::SQL_WLONGVARCHAR, w.len().max(1), 0, (i + 1) as SqlPointer, 0),
            ParamBuf::AtExecStream(s) if s.text => {
                (CDataType::SQL_C_CHAR, SqlDataType::SQL_LONGVARCHAR, s.len.unwrap_or(0), 0, (i + 1) as SqlPointer, 0)
            }
            ParamBuf::AtExecStream(s) => {
                (CDataType::SQL_C_BINARY, SqlDataType::SQL_LONGVARBINARY, s.len.unwrap_or(0), 0, (i + 1) as SqlPointer, 0)
            }
        };
        let ind: *mut SqlLen = &mut p.ind;
        // SAFETY: the caller's statement id; `value` and `ind` point into `params`, which the
        // caller neither resizes nor drops until the parameters are reset (next execution)
        // or the handle is freed. Data-at-execution values pass a token instead.
        let rc = unsafe {
            raw::SQLBindParameter(h, (i + 1) as u16, ParamIoType::SQL_PARAM_INPUT, ctype, stype, size, digits, value, buf_len, ind)
        };
        Diag::stmt(h).check("SQLBindParameter", rc, warnings)?;
    }
    Ok(())
}

/// Copies a value into its bindable form in the connection's text encoding.
pub(crate) fn to_bound(v: ParamValue, enc: TextEncoding) -> BoundParam {
    let wide = |s: &str| s.encode_utf16().collect::<Vec<u16>>();
    match v {
        ParamValue::Null(k) => BoundParam { buf: ParamBuf::Null(0, k), ind: SQL_NULL_DATA },
        ParamValue::I32(x) => BoundParam { buf: ParamBuf::I32(x), ind: 0 },
        ParamValue::I64(x) => BoundParam { buf: ParamBuf::I64(x), ind: 0 },
        ParamValue::F64(x) => BoundParam { buf: ParamBuf::F64(x), ind: 0 },
        ParamValue::Bool(x) => BoundParam { buf: ParamBuf::Bit(x as u8), ind: 0 },
        ParamValue::Text(s) => match enc {
            TextEncoding::Utf8 => {
                let b = s.into_bytes();
                let ind = b.len() as SqlLen;
                BoundParam { buf: ParamBuf::Narrow(b), ind }
            }
            TextEncoding::Utf16 => {
                let w = wide(&s);
                let ind = (w.len() * 2) as SqlLen;
                BoundParam { buf: ParamBuf::Wide(w), ind }
            }
        },
        ParamValue::Binary(b) => {
            let ind = b.len() as SqlLen;
            BoundParam { buf: ParamBuf::Binary(b), ind }
        }
        ParamValue::LongText(s) => match enc {
            TextEncoding::Utf8 => {
                let b = s.into_bytes();
                let ind = SQL_LEN_DATA_AT_EXEC_OFFSET - b.len() as SqlLen;
                BoundParam { buf: ParamBuf::AtExecNarrow(b), ind }
            }
            TextEncoding::Utf16 => {
                let w = wide(&s);
                let ind = SQL_LEN_DATA_AT_EXEC_OFFSET - (w.len() * 2) as SqlLen;
                BoundParam { buf: ParamBuf::AtExecWide(w), ind }
            }
        },
        ParamValue::Streamed(s) => {
            let ind = match s.len {
                Some(n) => SQL_LEN_DATA_AT_EXEC_OFFSET - n as SqlLen,
                None => SQL_DATA_AT_EXEC,
            };
            BoundParam { buf: ParamBuf::AtExecStream(s), ind }
        }
    }
}

/// A statement handle of a [`Connection`], reusable for several executions.
///
/// Owns one statement handle (freed on drop) and the buffers of the parameters last bound
/// to it. It borrows its connection, so it cannot outlive it. `Statement` is `Send` (the
/// DM's handles may be used from any thread, §3.1); it is not shared between threads —
/// give each thread its own statement. To cancel it from another thread, use a
/// [`CancelHandle`] from [`Statement::cancel_handle`].
pub struct Statement<'c> {
    pub(crate) handle: StmtHandle<'c>,
    pub(crate) warnings: Vec<DiagRecord>,
}

impl<'c> Statement<'c> {
    pub(crate) fn new(conn: &'c Connection) -> Result<Self> {
        Ok(Statement { handle: StmtHandle::alloc(conn)?, warnings: Vec::new() })
    }

    /// The raw statement handle (a DM handle usable with [`crate::raw`]); owned by `self`.
    pub fn as_raw(&self) -> SqlHStmt {
        self.handle.h
    }

    /// Executes `sql` directly (`SQLExecDirect`) with `params` bound to its `?` markers.
    /// Returns the cursor when the statement produced a result set; otherwise
    /// [`Statement::row_count`] tells how many rows it affected.
    pub fn execute(&mut self, sql: &str, params: impl Params) -> Result<Option<Cursor<'_>>> {
        let has_cursor = self.handle.execute(Some(sql), params.into_values(), &mut self.warnings)?;
        Ok(has_cursor.then(|| Cursor::borrowed(&self.handle)))
    }

    /// Prepares `sql` (`SQLPrepare`) on this statement.
    pub fn prepare(mut self, sql: &str) -> Result<Prepared<'c>> {
        self.handle.prepare(sql, &mut self.warnings)?;
        Ok(Prepared { handle: self.handle, warnings: self.warnings })
    }

    catalog_methods!(Result<Cursor<'_>>, catalog, "on this statement; the cursor borrows it", tables, columns, primary_keys);

    fn catalog(&mut self, _function: &'static str, args: Result<CatalogArgs>) -> Result<Cursor<'_>> {
        self.handle.catalog(&args?, &mut self.warnings)?;
        Ok(Cursor::borrowed(&self.handle))
    }

    /// The rows affected by the last execution (`SQLRowCount`); -1 when unknown.
    pub fn row_count(&mut self) -> Result<isize> {
        self.handle.row_count(&mut self.warnings)
    }

    /// `SQL_ATTR_QUERY_TIMEOUT` in seconds (0 = none).
    pub fn set_query_timeout(&mut self, seconds: usize) -> Result<()> {
        self.handle.set_attr_uint(StmtAttr::SQL_ATTR_QUERY_TIMEOUT, seconds, &mut self.warnings).map(drop)
    }

    /// A handle that cancels this statement from any thread.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.handle.cancel_handle()
    }

    /// `SQLCancel` on this statement.
    pub fn cancel(&self) -> Result<()> {
        self.cancel_handle().cancel()
    }

    /// The SUCCESS_WITH_INFO records gathered so far on this statement.
    pub fn warnings(&self) -> &[DiagRecord] {
        &self.warnings
    }

    /// Returns and clears the gathered warnings.
    pub fn take_warnings(&mut self) -> Vec<DiagRecord> {
        std::mem::take(&mut self.warnings)
    }
}

/// A prepared statement, executable many times with different parameters.
///
/// Owns its statement handle (freed on drop) and the buffers of its current parameters;
/// each [`Prepared::execute`] resets and rebinds the parameters. `Send`, not shared (see
/// [`Statement`]).
pub struct Prepared<'c> {
    handle: StmtHandle<'c>,
    warnings: Vec<DiagRecord>,
}

impl<'c> Prepared<'c> {
    /// The raw statement handle; owned by `self`.
    pub fn as_raw(&self) -> SqlHStmt {
        self.handle.h
    }

    /// Executes the prepared statement (`SQLExecute`) with `params`.
    pub fn execute(&mut self, params: impl Params) -> Result<Option<Cursor<'_>>> {
        let has_cursor = self.handle.execute(None, params.into_values(), &mut self.warnings)?;
        Ok(has_cursor.then(|| Cursor::borrowed(&self.handle)))
    }

    /// The number of parameter markers (`SQLNumParams`).
    pub fn num_params(&mut self) -> Result<u16> {
        let mut n: SqlSmallInt = 0;
        // SAFETY: our statement id and a valid out slot.
        let rc = unsafe { raw::SQLNumParams(self.handle.h, &mut n) };
        self.handle.check("SQLNumParams", rc, &mut self.warnings)?;
        Ok(n.max(0) as u16)
    }

    /// The number of result columns (`SQLNumResultCols`); 0 for statements without a
    /// result set.
    pub fn column_count(&mut self) -> Result<u16> {
        Ok(self.handle.num_result_cols(&mut self.warnings)?.max(0) as u16)
    }

    /// The rows affected by the last execution (`SQLRowCount`); -1 when unknown.
    pub fn row_count(&mut self) -> Result<isize> {
        self.handle.row_count(&mut self.warnings)
    }

    /// A handle that cancels this statement from any thread.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.handle.cancel_handle()
    }

    /// The SUCCESS_WITH_INFO records gathered so far on this statement.
    pub fn warnings(&self) -> &[DiagRecord] {
        &self.warnings
    }

    /// Returns and clears the gathered warnings.
    pub fn take_warnings(&mut self) -> Vec<DiagRecord> {
        std::mem::take(&mut self.warnings)
    }
}

/// Cancels a statement (`SQLCancel`) or a connection's running function
/// (`SQLCancelHandle`) from any thread.
///
/// `Clone + Send + Sync`: it holds only the DM handle id. The DM lets `SQLCancel` through
/// while another thread is inside a call on the same handle (§3.1–§3.5) — that is its
/// purpose. DM handle ids are never reused, so a handle used after its statement was freed
/// fails with [`Error::InvalidHandle`] instead of touching another statement.
#[derive(Clone, Debug)]
pub struct CancelHandle {
    ht: HandleType,
    h: usize,
}

impl CancelHandle {
    pub(crate) fn connection(h: SqlHDbc) -> Self {
        CancelHandle { ht: HandleType::SQL_HANDLE_DBC, h: h as usize }
    }

    /// Cancels. Success (also SUCCESS_WITH_INFO) returns at once without reading
    /// diagnostics: the DM's `SQLGetDiagRec` waits until the call being cancelled has
    /// returned. On failure the records are read, which may wait for that call.
    pub fn cancel(&self) -> Result<()> {
        let h = self.h as SqlHandle;
        let (function, rc) = if self.ht == HandleType::SQL_HANDLE_STMT {
            // SAFETY: a DM handle id; a stale one yields SQL_INVALID_HANDLE.
            ("SQLCancel", unsafe { raw::SQLCancel(h) })
        } else {
            // SAFETY: as above.
            ("SQLCancelHandle", unsafe { raw::SQLCancelHandle(self.ht, h) })
        };
        if rc.is_success() {
            return Ok(());
        }
        Err(Diag { ht: self.ht, h }.error(function, rc))
    }
}
