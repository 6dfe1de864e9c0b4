//! [`Connection`]: a connected ODBC connection handle.

use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use odbc_dm_abi::*;

use super::catalog::CatalogArgs;
use super::cursor::Cursor;
use super::environment::EnvHandle;
use super::error::{push_warnings, Diag, DiagRecord, Error, Result};
use super::params::{Params, TextEncoding};
use super::statement::{CancelHandle, Prepared, Statement, StmtHandle};
use crate::raw;

/// The `SQLGetFunctions(SQL_API_ODBC3_ALL_FUNCTIONS)` bitmap.
#[derive(Clone)]
pub struct SupportedFunctions {
    bits: [u16; 250],
}

impl SupportedFunctions {
    /// Whether the driver (through the DM) supports `f` (`SQL_FUNC_EXISTS`).
    pub fn is_supported(&self, f: FunctionId) -> bool {
        let id = f.0 as usize;
        id < 250 * 16 && (self.bits[id >> 4] >> (id & 0xF)) & 1 == 1
    }

    /// The raw bitmap.
    pub fn bits(&self) -> &[u16; 250] {
        &self.bits
    }
}

impl std::fmt::Debug for SupportedFunctions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<u16> = (0..250 * 16).filter(|&i| self.is_supported(FunctionId(i as u16))).map(|i| i as u16).collect();
        f.debug_struct("SupportedFunctions").field("ids", &ids).finish()
    }
}

/// A connection to a data source.
///
/// Owns one Driver Manager connection handle and keeps its [`Environment`]'s handle alive
/// (an `Arc`). Drop disconnects (rolling back an open transaction if the driver refuses to
/// disconnect with one, 25000) and frees the handle; failures there are logged, never
/// panics. [`Connection::disconnect`] does the same and reports errors.
///
/// `Connection` is `Send + Sync`: the DM serializes every call on a handle with its call
/// gate (§3.1), so threads may share one connection — typically each with its own
/// [`Statement`]s, which borrow it. Calls that need the connection at the same moment wait
/// for each other in the DM. Diagnostics are read from the handle right after the failing
/// call; with several threads failing on the same connection at once, records of one call
/// may show up in the error of another.
///
/// [`Environment`]: super::Environment
pub struct Connection {
    pub(crate) h: SqlHDbc,
    _env: Arc<EnvHandle>,
    connected: AtomicBool,
    text: TextEncoding,
    warnings: Mutex<Vec<DiagRecord>>,
}

// SAFETY: `h` is a DM handle id, not dereferenced here; the DM's per-handle gate makes calls
// from several threads safe (§3.1). The remaining state is atomics and a mutex.
unsafe impl Send for Connection {}
// SAFETY: as above; all methods take `&self` and each ODBC call is serialized by the DM.
unsafe impl Sync for Connection {}

impl Connection {
    /// The connection's reference to its environment (kept alive by whoever takes over
    /// the handle, decision #81).
    pub(crate) fn env_ref(&self) -> Arc<EnvHandle> {
        self._env.clone()
    }

    /// Drops this object without disconnecting or freeing the handle: the DM took the
    /// handle over (`raw::ext::abandon`, decision #81).
    pub(crate) fn forget_handle(self) {
        let me = std::mem::ManuallyDrop::new(self);
        // SAFETY: `me` is never used or dropped again; each field with drop glue is read
        // out once and dropped here (the others are plain data).
        unsafe {
            drop(std::ptr::read(&me._env));
            drop(std::ptr::read(&me.warnings));
        }
    }

    pub(crate) fn alloc(env: Arc<EnvHandle>) -> Result<Self> {
        let mut h: SqlHandle = ptr::null_mut();
        // SAFETY: our environment id and a valid out slot.
        let rc = unsafe { raw::SQLAllocHandle(HandleType::SQL_HANDLE_DBC, env.h, &mut h) };
        if !rc.is_success() || h.is_null() {
            return Err(Diag::env(env.h).error("SQLAllocHandle", if rc.is_success() { SqlReturn::SQL_ERROR } else { rc }));
        }
        Ok(Connection { h, _env: env, connected: AtomicBool::new(false), text: TextEncoding::default(), warnings: Mutex::new(Vec::new()) })
    }

    pub(crate) fn check(&self, function: &'static str, rc: SqlReturn) -> Result<SqlReturn> {
        let mut w = Vec::new();
        let r = Diag::dbc(self.h).check(function, rc, &mut w);
        if !w.is_empty() {
            push_warnings(&mut self.warnings.lock().unwrap_or_else(|p| p.into_inner()), w);
        }
        r
    }

    pub(crate) fn driver_connect(&self, conn_str: &str) -> Result<()> {
        let len = i16::try_from(conn_str.len()).map_err(|_| Error::Usage("connection string longer than 32767 bytes".into()))?;
        let mut out_len: SqlSmallInt = 0;
        // SAFETY: our connection id; the input string is valid for `len` bytes; no output
        // buffer (NULL, 0) and a valid length slot; no window handle (NOPROMPT).
        let rc = unsafe {
            raw::SQLDriverConnect(
                self.h,
                ptr::null_mut(),
                conn_str.as_ptr(),
                len,
                ptr::null_mut(),
                0,
                &mut out_len,
                DriverCompletion::SQL_DRIVER_NOPROMPT,
            )
        };
        self.check("SQLDriverConnect", rc)?;
        self.connected.store(true, Ordering::SeqCst);
        Ok(())
    }

    pub(crate) fn sql_connect(&self, dsn: &str, user: &str, pwd: &str) -> Result<()> {
        let too_long = |what: &str| Error::Usage(format!("{what} longer than 32767 bytes"));
        let dl = i16::try_from(dsn.len()).map_err(|_| too_long("data source name"))?;
        let ul = i16::try_from(user.len()).map_err(|_| too_long("user name"))?;
        let pl = i16::try_from(pwd.len()).map_err(|_| too_long("password"))?;
        // SAFETY: our connection id; each string valid for its length during the call.
        let rc = unsafe { raw::SQLConnect(self.h, dsn.as_ptr(), dl, user.as_ptr(), ul, pwd.as_ptr(), pl) };
        self.check("SQLConnect", rc)?;
        self.connected.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Records whether the handle is connected (the asynchronous API connects and
    /// disconnects through its own calls; Drop disconnects only a connected handle).
    pub(crate) fn set_connected(&self, on: bool) {
        self.connected.store(on, Ordering::SeqCst);
    }

    /// The raw connection handle (a DM handle usable with [`crate::raw`]); owned by `self`.
    pub fn as_raw(&self) -> SqlHDbc {
        self.h
    }

    /// Chooses how text parameters and `String` columns travel (default
    /// [`TextEncoding::Utf8`], `SQL_C_CHAR`). Applies to statements allocated afterwards.
    pub fn set_text_encoding(&mut self, encoding: TextEncoding) {
        self.text = encoding;
    }

    /// The text encoding of new statements.
    pub fn text_encoding(&self) -> TextEncoding {
        self.text
    }

    /// The SUCCESS_WITH_INFO records of connection-level calls so far (connect included).
    pub fn warnings(&self) -> Vec<DiagRecord> {
        self.warnings.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Returns and clears the connection-level warnings.
    pub fn take_warnings(&self) -> Vec<DiagRecord> {
        std::mem::take(&mut *self.warnings.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Allocates a statement handle.
    pub fn statement(&self) -> Result<Statement<'_>> {
        Statement::new(self)
    }

    /// Executes `sql` once (`SQLExecDirect`) on a new statement with `params`; returns the
    /// cursor (which owns that statement) when there is a result set.
    pub fn execute(&self, sql: &str, params: impl Params) -> Result<Option<Cursor<'_>>> {
        let mut handle = StmtHandle::alloc(self)?;
        let mut w = Vec::new();
        let has_cursor = handle.execute(Some(sql), params.into_values(), &mut w)?;
        Ok(has_cursor.then(|| {
            let mut c = Cursor::owned(handle);
            c.warnings = w;
            c
        }))
    }

    /// Prepares `sql` on a new statement.
    pub fn prepare(&self, sql: &str) -> Result<Prepared<'_>> {
        self.statement()?.prepare(sql)
    }

    /// `SQLTables` on a new statement; `None` arguments are NULL (no restriction).
    pub fn tables(&self, catalog: Option<&str>, schema: Option<&str>, table: Option<&str>, table_type: Option<&str>) -> Result<Cursor<'_>> {
        self.catalog(CatalogArgs::tables(catalog, schema, table, table_type)?)
    }

    /// `SQLColumns` on a new statement; `None` arguments are NULL (no restriction).
    pub fn columns(&self, catalog: Option<&str>, schema: Option<&str>, table: Option<&str>, column: Option<&str>) -> Result<Cursor<'_>> {
        self.catalog(CatalogArgs::columns(catalog, schema, table, column)?)
    }

    /// `SQLPrimaryKeys` of `table` on a new statement.
    pub fn primary_keys(&self, catalog: Option<&str>, schema: Option<&str>, table: &str) -> Result<Cursor<'_>> {
        self.catalog(CatalogArgs::primary_keys(catalog, schema, table)?)
    }

    /// A catalog function on a new statement; the cursor owns the statement.
    fn catalog(&self, args: CatalogArgs) -> Result<Cursor<'_>> {
        let mut handle = StmtHandle::alloc(self)?;
        let mut w = Vec::new();
        handle.catalog(&args, &mut w)?;
        Ok(with_warnings(Cursor::owned(handle), w))
    }

    fn set_attr_uint(&self, attr: ConnAttr, value: usize) -> Result<()> {
        // SAFETY: our connection id; an integer attribute travels in the pointer itself.
        let rc = unsafe { raw::SQLSetConnectAttr(self.h, attr, value as SqlPointer, SQL_IS_UINTEGER) };
        self.check("SQLSetConnectAttr", rc).map(drop)
    }

    /// `SQL_ATTR_AUTOCOMMIT` on or off (manual commit: [`commit`](Self::commit) /
    /// [`rollback`](Self::rollback)).
    pub fn set_autocommit(&self, on: bool) -> Result<()> {
        self.set_attr_uint(ConnAttr::SQL_ATTR_AUTOCOMMIT, if on { SQL_AUTOCOMMIT_ON } else { SQL_AUTOCOMMIT_OFF })
    }

    /// Whether autocommit is on.
    pub fn autocommit(&self) -> Result<bool> {
        // SQLUINTEGER by the spec, but some drivers write a full SQLULEN: give them 8
        // zeroed bytes and read the low 32 bits (little-endian).
        let mut v: u64 = 0;
        // SAFETY: our connection id; `v` is an 8-byte slot, enough for either width.
        let rc =
            unsafe { raw::SQLGetConnectAttr(self.h, ConnAttr::SQL_ATTR_AUTOCOMMIT, &mut v as *mut u64 as SqlPointer, 0, ptr::null_mut()) };
        self.check("SQLGetConnectAttr", rc)?;
        Ok(v as u32 as usize == SQL_AUTOCOMMIT_ON)
    }

    fn end_tran(&self, completion: CompletionType) -> Result<()> {
        // SAFETY: our connection id.
        let rc = unsafe { raw::SQLEndTran(HandleType::SQL_HANDLE_DBC, self.h, completion) };
        self.check("SQLEndTran", rc).map(drop)
    }

    /// Commits the current transaction (`SQLEndTran(SQL_COMMIT)`).
    pub fn commit(&self) -> Result<()> {
        self.end_tran(CompletionType::SQL_COMMIT)
    }

    /// Rolls the current transaction back (`SQLEndTran(SQL_ROLLBACK)`).
    pub fn rollback(&self) -> Result<()> {
        self.end_tran(CompletionType::SQL_ROLLBACK)
    }

    /// A character-string `SQLGetInfo` value (read in full, however long).
    pub fn get_info_string(&self, info: InfoType) -> Result<String> {
        let mut buf = vec![0u8; 256];
        loop {
            let mut len: SqlSmallInt = 0;
            // SAFETY: our connection id; `buf` holds `buf.len()` bytes; valid length slot.
            let rc = unsafe { raw::SQLGetInfo(self.h, info, buf.as_mut_ptr() as SqlPointer, buf.len() as i16, &mut len) };
            let rc = self.check("SQLGetInfo", rc)?;
            let len = len.max(0) as usize;
            if rc == SqlReturn::SQL_SUCCESS_WITH_INFO && len >= buf.len() && buf.len() < i16::MAX as usize {
                buf.resize((len + 1).min(i16::MAX as usize), 0);
                continue;
            }
            let end = len.min(buf.len());
            let end = buf[..end].iter().position(|&b| b == 0).unwrap_or(end);
            return Ok(String::from_utf8_lossy(&buf[..end]).into_owned());
        }
    }

    /// An SQLUINTEGER (32-bit) `SQLGetInfo` value.
    pub fn get_info_u32(&self, info: InfoType) -> Result<u32> {
        let mut v: u32 = 0;
        // SAFETY: our connection id; a 4-byte slot.
        let rc = unsafe { raw::SQLGetInfo(self.h, info, &mut v as *mut u32 as SqlPointer, 4, ptr::null_mut()) };
        self.check("SQLGetInfo", rc)?;
        Ok(v)
    }

    /// An SQLUSMALLINT (16-bit) `SQLGetInfo` value.
    pub fn get_info_u16(&self, info: InfoType) -> Result<u16> {
        let mut v: u16 = 0;
        // SAFETY: our connection id; a 2-byte slot.
        let rc = unsafe { raw::SQLGetInfo(self.h, info, &mut v as *mut u16 as SqlPointer, 2, ptr::null_mut()) };
        self.check("SQLGetInfo", rc)?;
        Ok(v)
    }

    /// `SQL_DRIVER_NAME`: the driver's file name.
    pub fn driver_name(&self) -> Result<String> {
        self.get_info_string(InfoType::SQL_DRIVER_NAME)
    }

    /// `SQL_DBMS_NAME`: the data source's product name.
    pub fn dbms_name(&self) -> Result<String> {
        self.get_info_string(InfoType::SQL_DBMS_NAME)
    }

    /// The functions supported through this connection
    /// (`SQLGetFunctions(SQL_API_ODBC3_ALL_FUNCTIONS)`).
    pub fn functions(&self) -> Result<SupportedFunctions> {
        let mut bits = [0u16; 250];
        // SAFETY: our connection id; SQL_API_ODBC3_ALL_FUNCTIONS writes 250 SQLUSMALLINTs.
        let rc = unsafe { raw::SQLGetFunctions(self.h, FunctionId::SQL_API_ODBC3_ALL_FUNCTIONS, bits.as_mut_ptr()) };
        self.check("SQLGetFunctions", rc)?;
        Ok(SupportedFunctions { bits })
    }

    /// A handle that cancels a function running on this connection
    /// (`SQLCancelHandle(SQL_HANDLE_DBC)`) from any thread. To cancel a query, use the
    /// statement's [`Statement::cancel_handle`].
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle::connection(self.h)
    }

    /// Disconnects and frees the connection, reporting errors (Drop does the same but only
    /// logs them).
    pub fn disconnect(self) -> Result<()> {
        let r = self.disconnect_inner(false);
        // Drop then only frees the handle.
        r
    }

    /// `SQLDisconnect`; with `rollback_on_25000`, an open transaction (25000) is rolled
    /// back and the disconnect retried.
    fn disconnect_inner(&self, rollback_on_25000: bool) -> Result<()> {
        if !self.connected.load(Ordering::SeqCst) {
            return Ok(());
        }
        // SAFETY: our connection id; every statement borrowing it is gone (`self` by value
        // or in Drop).
        let rc = unsafe { raw::SQLDisconnect(self.h) };
        let r = self.check("SQLDisconnect", rc);
        let r = match r {
            Err(e) if rollback_on_25000 && e.sqlstate() == Some("25000") => {
                self.rollback()?;
                // SAFETY: as above.
                let rc = unsafe { raw::SQLDisconnect(self.h) };
                self.check("SQLDisconnect", rc)
            }
            r => r,
        };
        if r.is_ok() {
            self.connected.store(false, Ordering::SeqCst);
        }
        r.map(drop)
    }
}

fn with_warnings(mut c: Cursor<'_>, w: Vec<DiagRecord>) -> Cursor<'_> {
    c.warnings = w;
    c
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Err(e) = self.disconnect_inner(true) {
            log::warn!("disconnecting an ODBC connection failed: {e}");
        }
        // SAFETY: our connection id; no statement borrows it any more.
        let rc = unsafe { raw::SQLFreeHandle(HandleType::SQL_HANDLE_DBC, self.h) };
        if !rc.is_success() {
            log::warn!("freeing an ODBC connection failed: {}", Diag::dbc(self.h).error("SQLFreeHandle", rc));
        }
    }
}
