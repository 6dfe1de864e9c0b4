//! A DM-owned driver statement on the application's driver connection, used by the
//! concurrency emulation (§5) to run its own searched UPDATE/DELETE/SELECT and catalog
//! calls. Freed on drop. Never shared: each emulated operation allocates its own.

use odbc_dm_abi::*;

use crate::handles::DriverLink;

/// One parameter value the DM binds (owned bytes; `None` = NULL).
#[derive(Clone, Debug)]
pub(crate) struct Param {
    pub ctype: CDataType,
    pub sqltype: SqlDataType,
    pub size: usize,
    pub digits: i16,
    pub value: Option<Vec<u8>>,
}

/// A driver statement handle the DM allocated on `link.hdbc`.
pub(crate) struct DrvStmt<'a> {
    pub link: &'a DriverLink,
    pub h: SqlHStmt,
    /// The driver's message of a failed execution, read before the parameters are reset
    /// (which clears the driver's diagnostics).
    last_err: std::cell::RefCell<String>,
}

impl<'a> DrvStmt<'a> {
    /// Allocates a statement on the driver connection.
    pub fn new(link: &'a DriverLink) -> Result<DrvStmt<'a>, String> {
        let Some(f) = link.driver.fns.SQLAllocHandle else { return Err("the driver lacks SQLAllocHandle".into()) };
        let mut h: SqlHandle = std::ptr::null_mut();
        // SAFETY: live driver connection (the DM's link); a valid out pointer.
        let rc = unsafe { f(HandleType::SQL_HANDLE_STMT, link.hdbc as SqlHandle, &mut h) };
        if !rc.is_success() || h.is_null() {
            return Err("the driver could not allocate a statement for the concurrency emulation".into());
        }
        Ok(DrvStmt { link, h, last_err: Default::default() })
    }

    /// The driver's first diagnostic of this statement, for messages.
    pub fn diag(&self) -> String {
        let saved = self.last_err.borrow().clone();
        if !saved.is_empty() {
            return saved;
        }
        crate::handles::pull_driver_diags(self.link, HandleType::SQL_HANDLE_STMT, self.h)
            .first()
            .map(|r| format!("[{}] {}", String::from_utf8_lossy(&r.state.0), r.message))
            .unwrap_or_default()
    }

    /// Prepares `sql` (narrow entry point when exported, else wide).
    pub fn prepare(&self, sql: &str) -> SqlReturn {
        let fns = &self.link.driver.fns;
        if let Some(f) = fns.SQLPrepare {
            // SAFETY: live driver statement; the text outlives the call.
            unsafe { f(self.h, sql.as_ptr(), sql.len() as i32) }
        } else if let Some(f) = fns.SQLPrepareW {
            let w: Vec<u16> = sql.encode_utf16().collect();
            // SAFETY: as above.
            unsafe { f(self.h, w.as_ptr(), w.len() as i32) }
        } else {
            SqlReturn::SQL_ERROR
        }
    }

    /// Binds `params` (1-based, in order) and executes the prepared statement. The
    /// parameter buffers live in `bufs` for the duration of the call.
    pub fn execute_with(&self, params: &[Param]) -> SqlReturn {
        let fns = &self.link.driver.fns;
        let (Some(bind), Some(exec)) = (fns.SQLBindParameter, fns.SQLExecute) else { return SqlReturn::SQL_ERROR };
        if let Some(f) = fns.SQLFreeStmt {
            // SAFETY: live driver statement.
            unsafe { f(self.h, FreeStmtOption::SQL_RESET_PARAMS) };
        }
        let mut bufs: Vec<(Vec<u8>, SqlLen)> = params
            .iter()
            .map(|p| match &p.value {
                Some(v) => {
                    let mut b = v.clone();
                    let n = b.len() as SqlLen;
                    b.extend_from_slice(&[0, 0, 0, 0]);
                    (b, n)
                }
                None => (vec![0u8; 8], SQL_NULL_DATA),
            })
            .collect();
        for (i, p) in params.iter().enumerate() {
            let (buf, ind) = &mut bufs[i];
            let size = if p.size == 0 { (*ind).max(1) as usize } else { p.size.max((*ind).max(0) as usize) };
            let size = match p.sqltype {
                // Text and binary: the column size must admit the value (a 10,000-char string).
                SqlDataType::SQL_CHAR
                | SqlDataType::SQL_VARCHAR
                | SqlDataType::SQL_LONGVARCHAR
                | SqlDataType::SQL_WCHAR
                | SqlDataType::SQL_WVARCHAR
                | SqlDataType::SQL_WLONGVARCHAR
                | SqlDataType::SQL_BINARY
                | SqlDataType::SQL_VARBINARY
                | SqlDataType::SQL_LONGVARBINARY => size.max((*ind).max(1) as usize),
                _ => size,
            };
            // SAFETY: live driver statement; `buf` and `ind` stay alive and unmoved until
            // after SQLExecute below (the vector is not resized in between).
            let rc = unsafe {
                bind(
                    self.h,
                    (i + 1) as u16,
                    ParamIoType::SQL_PARAM_INPUT,
                    p.ctype,
                    p.sqltype,
                    size,
                    p.digits,
                    buf.as_mut_ptr().cast(),
                    buf.len() as SqlLen,
                    ind as *mut SqlLen,
                )
            };
            if !rc.is_success() {
                return rc;
            }
        }
        // SAFETY: live driver statement; every bound buffer is alive (in `bufs`).
        let rc = unsafe { exec(self.h) };
        if !rc.is_success() && rc != SqlReturn::SQL_NO_DATA {
            *self.last_err.borrow_mut() = self.diag();
        }
        if let Some(f) = fns.SQLFreeStmt {
            // SAFETY: live driver statement; unbinds before `bufs` is dropped.
            unsafe { f(self.h, FreeStmtOption::SQL_RESET_PARAMS) };
        }
        drop(bufs);
        rc
    }

    /// SQLRowCount.
    pub fn row_count(&self) -> Option<isize> {
        let f = self.link.driver.fns.SQLRowCount?;
        let mut n: SqlLen = 0;
        // SAFETY: live driver statement; a valid out pointer.
        let rc = unsafe { f(self.h, &mut n) };
        rc.is_success().then_some(n)
    }

    /// Closes any cursor.
    pub fn close(&self) {
        if let Some(f) = self.link.driver.fns.SQLFreeStmt {
            // SAFETY: live driver statement.
            unsafe { f(self.h, FreeStmtOption::SQL_CLOSE) };
        }
    }

    /// SQLNumResultCols (0 when the driver does not answer).
    pub fn num_result_cols(&self) -> i16 {
        let Some(f) = self.link.driver.fns.SQLNumResultCols else { return 0 };
        let mut n: i16 = 0;
        // SAFETY: live driver statement; a valid out pointer.
        let rc = unsafe { f(self.h, &mut n) };
        if rc.is_success() {
            n
        } else {
            0
        }
    }

    /// SQLFetch.
    pub fn fetch(&self) -> SqlReturn {
        match self.link.driver.fns.SQLFetch {
            // SAFETY: live driver statement.
            Some(f) => unsafe { f(self.h) },
            None => SqlReturn::SQL_ERROR,
        }
    }

    /// A text column of the current row (SQLGetData as SQL_C_CHAR), `None` for NULL.
    pub fn text(&self, col: u16) -> Option<String> {
        let f = self.link.driver.fns.SQLGetData?;
        let mut buf = vec![0u8; 1024];
        let mut ind: SqlLen = 0;
        // SAFETY: live driver statement; a buffer of the size passed.
        let rc = unsafe { f(self.h, col, CDataType::SQL_C_CHAR, buf.as_mut_ptr().cast(), buf.len() as SqlLen, &mut ind) };
        if !rc.is_success() || ind < 0 {
            return None;
        }
        let n = (ind as usize).min(buf.len() - 1);
        Some(String::from_utf8_lossy(&buf[..n]).trim_end_matches('\0').to_string())
    }

    /// Runs a catalog function with a table name (SQLPrimaryKeys / SQLSpecialColumns).
    pub fn catalog(&self, kind: Catalog, schema: Option<&str>, table: &str) -> SqlReturn {
        let fns = &self.link.driver.fns;
        let (sp, sl) = match schema {
            Some(s) => (s.as_ptr(), s.len() as i16),
            None => (std::ptr::null(), 0),
        };
        let (tp, tl) = (table.as_ptr(), table.len() as i16);
        match kind {
            Catalog::PrimaryKeys => {
                if let Some(f) = fns.SQLPrimaryKeys {
                    // SAFETY: live driver statement; the strings outlive the call.
                    return unsafe { f(self.h, std::ptr::null(), 0, sp, sl, tp, tl) };
                }
                if let Some(f) = fns.SQLPrimaryKeysW {
                    let ws: Option<Vec<u16>> = schema.map(|s| s.encode_utf16().collect());
                    let wt: Vec<u16> = table.encode_utf16().collect();
                    let (wsp, wsl) = ws.as_ref().map_or((std::ptr::null(), 0), |v| (v.as_ptr(), v.len() as i16));
                    // SAFETY: as above.
                    return unsafe { f(self.h, std::ptr::null(), 0, wsp, wsl, wt.as_ptr(), wt.len() as i16) };
                }
                SqlReturn::SQL_ERROR
            }
            Catalog::Special(id) => {
                if let Some(f) = fns.SQLSpecialColumns {
                    // SAFETY: live driver statement; the strings outlive the call.
                    return unsafe {
                        f(self.h, id, std::ptr::null(), 0, sp, sl, tp, tl, 0 /* SQL_SCOPE_CURROW */, Nullability::SQL_NULLABLE)
                    };
                }
                if let Some(f) = fns.SQLSpecialColumnsW {
                    let ws: Option<Vec<u16>> = schema.map(|s| s.encode_utf16().collect());
                    let wt: Vec<u16> = table.encode_utf16().collect();
                    let (wsp, wsl) = ws.as_ref().map_or((std::ptr::null(), 0), |v| (v.as_ptr(), v.len() as i16));
                    // SAFETY: as above.
                    return unsafe {
                        f(self.h, id, std::ptr::null(), 0, wsp, wsl, wt.as_ptr(), wt.len() as i16, 0, Nullability::SQL_NULLABLE)
                    };
                }
                SqlReturn::SQL_ERROR
            }
        }
    }
}

/// The catalog functions the emulation asks.
#[derive(Clone, Copy)]
pub(crate) enum Catalog {
    PrimaryKeys,
    Special(RowIdentifier),
}

impl Drop for DrvStmt<'_> {
    fn drop(&mut self) {
        let fns = &self.link.driver.fns;
        if let Some(f) = fns.SQLFreeHandle {
            // SAFETY: the DM allocated this driver statement and nobody else knows it.
            unsafe { f(HandleType::SQL_HANDLE_STMT, self.h) };
        } else if let Some(f) = fns.SQLFreeStmt {
            // SAFETY: as above (ODBC 2.x).
            unsafe { f(self.h, FreeStmtOption::SQL_DROP) };
        }
    }
}

/// A text column attribute of the application's result set, through the driver
/// (narrow entry point when exported, else wide).
pub(crate) fn col_text_attr(link: &DriverLink, hstmt: SqlHStmt, col: u16, field: DescField) -> Option<String> {
    let fns = &link.driver.fns;
    let mut len: i16 = 0;
    if let Some(f) = fns.SQLColAttribute {
        let mut buf = vec![0u8; 512];
        // SAFETY: live driver statement; a buffer of the size passed.
        let rc = unsafe { f(hstmt, col, field, buf.as_mut_ptr().cast(), buf.len() as i16, &mut len, std::ptr::null_mut()) };
        if !rc.is_success() {
            return None;
        }
        let n = (len.max(0) as usize).min(buf.len() - 1);
        return Some(String::from_utf8_lossy(&buf[..n]).trim_end_matches('\0').to_string());
    }
    if let Some(f) = fns.SQLColAttributeW {
        let mut buf = vec![0u16; 512];
        // SAFETY: live driver statement; a buffer of the size (bytes) passed.
        let rc = unsafe { f(hstmt, col, field, buf.as_mut_ptr().cast(), (buf.len() * 2) as i16, &mut len, std::ptr::null_mut()) };
        if !rc.is_success() {
            return None;
        }
        let n = (len.max(0) as usize / 2).min(buf.len() - 1);
        return Some(String::from_utf16_lossy(&buf[..n]).trim_end_matches('\0').to_string());
    }
    None
}

/// A numeric column attribute of the application's result set, through the driver.
pub(crate) fn col_num_attr(link: &DriverLink, hstmt: SqlHStmt, col: u16, field: DescField) -> Option<isize> {
    let fns = &link.driver.fns;
    let mut n: SqlLen = 0;
    let f = fns.SQLColAttribute.or(fns.SQLColAttributeW)?;
    // SAFETY: live driver statement; a valid numeric out pointer.
    let rc = unsafe { f(hstmt, col, field, std::ptr::null_mut(), 0, std::ptr::null_mut(), &mut n) };
    rc.is_success().then_some(n)
}

/// SQLDescribeCol through the driver: (name, SQL type, column size, decimal digits).
pub(crate) fn describe_col(link: &DriverLink, hstmt: SqlHStmt, col: u16) -> Option<(String, SqlDataType, usize, i16)> {
    let fns = &link.driver.fns;
    let (mut ty, mut size, mut digits, mut nullable) = (SqlDataType(0), 0usize, 0i16, Nullability(0));
    let mut len: i16 = 0;
    if let Some(f) = fns.SQLDescribeCol {
        let mut buf = vec![0u8; 512];
        // SAFETY: live driver statement; buffers of the sizes passed.
        let rc = unsafe { f(hstmt, col, buf.as_mut_ptr(), buf.len() as i16, &mut len, &mut ty, &mut size, &mut digits, &mut nullable) };
        if !rc.is_success() {
            return None;
        }
        let n = (len.max(0) as usize).min(buf.len() - 1);
        return Some((String::from_utf8_lossy(&buf[..n]).to_string(), ty, size, digits));
    }
    let f = fns.SQLDescribeColW?;
    let mut buf = vec![0u16; 512];
    // SAFETY: as above.
    let rc = unsafe { f(hstmt, col, buf.as_mut_ptr(), buf.len() as i16, &mut len, &mut ty, &mut size, &mut digits, &mut nullable) };
    if !rc.is_success() {
        return None;
    }
    let n = (len.max(0) as usize).min(buf.len() - 1);
    Some((String::from_utf16_lossy(&buf[..n]), ty, size, digits))
}

/// SQL_IDENTIFIER_QUOTE_CHAR of the driver (" " when identifiers cannot be quoted).
pub(crate) fn quote_char(link: &DriverLink) -> String {
    let fns = &link.driver.fns;
    let mut len: i16 = 0;
    if let Some(f) = fns.SQLGetInfo {
        let mut buf = [0u8; 16];
        // SAFETY: live driver connection; a buffer of the size passed.
        let rc = unsafe { f(link.hdbc as SqlHDbc, InfoType::SQL_IDENTIFIER_QUOTE_CHAR, buf.as_mut_ptr().cast(), 16, &mut len) };
        if rc.is_success() {
            let n = (len.max(0) as usize).min(15);
            return String::from_utf8_lossy(&buf[..n]).trim_end_matches('\0').to_string();
        }
    }
    if let Some(f) = fns.SQLGetInfoW {
        let mut buf = [0u16; 16];
        // SAFETY: as above.
        let rc = unsafe { f(link.hdbc as SqlHDbc, InfoType::SQL_IDENTIFIER_QUOTE_CHAR, buf.as_mut_ptr().cast(), 32, &mut len) };
        if rc.is_success() {
            let n = (len.max(0) as usize / 2).min(15);
            return String::from_utf16_lossy(&buf[..n]).trim_end_matches('\0').to_string();
        }
    }
    "\"".into()
}

/// An integer statement attribute of the driver statement.
pub(crate) fn stmt_attr_usize(link: &DriverLink, hstmt: SqlHStmt, attr: StmtAttr) -> Option<usize> {
    let fns = &link.driver.fns;
    let mut v: usize = 0;
    let rc = match (fns.SQLGetStmtAttr.or(fns.SQLGetStmtAttrW), fns.SQLGetStmtOption) {
        // SAFETY: live driver statement; a SQLULEN-sized buffer.
        (Some(f), _) => unsafe { f(hstmt, attr, (&mut v as *mut usize).cast(), SQL_IS_INTEGER, std::ptr::null_mut()) },
        // An ODBC 2 driver: the 2.x option of the same number (those below 100 exist in 2.x).
        // SAFETY: live driver statement; an option value is at most SQLULEN-sized.
        (None, Some(g)) if (0..100).contains(&attr.0) => unsafe { g(hstmt, attr.0 as u16, (&mut v as *mut usize).cast()) },
        (None, _) => return None,
    };
    rc.is_success().then_some(v)
}

/// An integer connection attribute of the driver connection.
pub(crate) fn conn_attr_u32(link: &DriverLink, attr: ConnAttr) -> Option<u32> {
    let fns = &link.driver.fns;
    let f = fns.SQLGetConnectAttr.or(fns.SQLGetConnectAttrW)?;
    let mut v: usize = 0;
    // SAFETY: live driver connection; a SQLULEN-sized buffer (drivers write 4 or 8 bytes).
    let rc = unsafe { f(link.hdbc as SqlHDbc, attr, (&mut v as *mut usize).cast(), SQL_IS_INTEGER, std::ptr::null_mut()) };
    rc.is_success().then_some(v as u32)
}

/// Sets an integer connection attribute on the driver connection.
pub(crate) fn set_conn_attr(link: &DriverLink, attr: ConnAttr, v: usize) -> SqlReturn {
    let fns = &link.driver.fns;
    match fns.SQLSetConnectAttr.or(fns.SQLSetConnectAttrW) {
        // SAFETY: live driver connection; an integer attribute passed by value.
        Some(f) => unsafe { f(link.hdbc as SqlHDbc, attr, v as SqlPointer, 0) },
        None => SqlReturn::SQL_ERROR,
    }
}

/// SQLEndTran on the driver connection.
pub(crate) fn end_tran(link: &DriverLink, c: CompletionType) -> SqlReturn {
    match link.driver.fns.SQLEndTran {
        // SAFETY: live driver connection.
        Some(f) => unsafe { f(HandleType::SQL_HANDLE_DBC, link.hdbc as SqlHandle, c) },
        None => SqlReturn::SQL_ERROR,
    }
}

/// Runs one statement without parameters on a fresh driver statement.
pub(crate) fn exec_direct(link: &DriverLink, sql: &str) -> SqlReturn {
    let Ok(s) = DrvStmt::new(link) else { return SqlReturn::SQL_ERROR };
    let rc = s.prepare(sql);
    if !rc.is_success() {
        return rc;
    }
    s.execute_with(&[])
}

/// Runs `f`, which calls the application's driver statement `hstmt` synchronously, with
/// the driver's SQL_ATTR_ASYNC_ENABLE switched off for the duration when `driver_async`
/// (native polling or notification: the driver would otherwise answer
/// SQL_STILL_EXECUTING). Only while no driver operation runs on the statement.
pub(crate) fn with_sync_driver<R>(link: &DriverLink, hstmt: SqlHStmt, driver_async: bool, f: impl FnOnce() -> R) -> R {
    if !driver_async {
        return f();
    }
    let fns = &link.driver.fns;
    let set = fns.SQLSetStmtAttr.or(fns.SQLSetStmtAttrW);
    let switch = |v: usize| {
        if let Some(set) = set {
            // SAFETY: live driver statement with no operation in flight; an integer
            // attribute passed by value.
            unsafe { set(hstmt, StmtAttr::SQL_ATTR_ASYNC_ENABLE, v as SqlPointer, SQL_IS_UINTEGER) };
        }
    };
    switch(SQL_ASYNC_ENABLE_OFF);
    let r = f();
    switch(SQL_ASYNC_ENABLE_ON);
    r
}
