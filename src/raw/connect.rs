//! Connecting and disconnecting (§1.13, §4.3): resolve the driver from the connection
//! string or DSN, load it, allocate the driver's environment and connection, set the ODBC
//! version, replay stored connection attributes, then connect.

use std::sync::Arc;

use odbc_dm_abi::*;

use super::strings::{narrow_to_app_wide, put_len, wide_to_app_narrow, TRUNCATED};
use super::{boundary, handle, pull_driver_diags, same_signature, Call};
use crate::config;
use crate::diag::SqlState;
use crate::driver::{load_driver, Driver};
use crate::handles::conn_state::ConnState;
use crate::handles::{AttrValue, Dbc, DriverLink};
use crate::text;
use crate::trace_enter;

same_signature!(SQLConnect, SQLConnectW, SQLDriverConnect, SQLDriverConnectW, SQLBrowseConnect, SQLBrowseConnectW, SQLDisconnect);

/// Where the connect's output connection string goes.
enum OutConn {
    Narrow { buf: *mut u8, max: i16, len: *mut i16 },
    Wide { buf: *mut u16, max: i16, len: *mut i16 },
}

/// What the application asked for.
enum Target {
    DriverConnect { conn_str: String, out: OutConn, completion: DriverCompletion, hwnd: SqlHWnd, wide: bool },
    Connect { dsn: String, uid: Option<String>, pwd: Option<String>, wide: bool },
}

fn utf8(s: Option<&[u8]>) -> Option<String> {
    s.map(|b| String::from_utf8_lossy(b).into_owned())
}

fn utf16(s: Option<&[u16]>) -> Option<String> {
    s.map(String::from_utf16_lossy)
}

/// SQLConnect (ANSI).
pub unsafe extern "C" fn SQLConnect(
    dbc: SqlHDbc,
    dsn: *const SqlChar,
    dsn_len: SqlSmallInt,
    uid: *const SqlChar,
    uid_len: SqlSmallInt,
    pwd: *const SqlChar,
    pwd_len: SqlSmallInt,
) -> SqlReturn {
    trace_enter!("SQLConnect", "{:p}", dbc);
    boundary("SQLConnect", || {
        let d = handle!(dbc, dbc);
        // SAFETY: the application's string arguments with their lengths.
        let args = unsafe {
            (text::narrow_in(dsn, dsn_len as isize), text::narrow_in(uid, uid_len as isize), text::narrow_in(pwd, pwd_len as isize))
        };
        let (Ok(dsn), Ok(uid), Ok(pwd)) = args else {
            return super::reject(&d.gate, SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "Invalid string or buffer length");
        };
        let dsn = utf8(dsn).unwrap_or_default();
        connect(&d, Target::Connect { dsn, uid: utf8(uid), pwd: utf8(pwd), wide: false })
    })
}

/// SQLConnectW (Unicode).
pub unsafe extern "C" fn SQLConnectW(
    dbc: SqlHDbc,
    dsn: *const SqlWChar,
    dsn_len: SqlSmallInt,
    uid: *const SqlWChar,
    uid_len: SqlSmallInt,
    pwd: *const SqlWChar,
    pwd_len: SqlSmallInt,
) -> SqlReturn {
    trace_enter!("SQLConnectW", "{:p}", dbc);
    boundary("SQLConnectW", || {
        let d = handle!(dbc, dbc);
        // SAFETY: the application's string arguments with their lengths.
        let args =
            unsafe { (text::wide_in(dsn, dsn_len as isize), text::wide_in(uid, uid_len as isize), text::wide_in(pwd, pwd_len as isize)) };
        let (Ok(dsn), Ok(uid), Ok(pwd)) = args else {
            return super::reject(&d.gate, SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "Invalid string or buffer length");
        };
        let dsn = utf16(dsn).unwrap_or_default();
        connect(&d, Target::Connect { dsn, uid: utf16(uid), pwd: utf16(pwd), wide: true })
    })
}

/// SQLDriverConnect (ANSI).
pub unsafe extern "C" fn SQLDriverConnect(
    dbc: SqlHDbc,
    hwnd: SqlHWnd,
    in_str: *const SqlChar,
    in_len: SqlSmallInt,
    out_str: *mut SqlChar,
    out_max: SqlSmallInt,
    out_len: *mut SqlSmallInt,
    completion: DriverCompletion,
) -> SqlReturn {
    boundary("SQLDriverConnect", || {
        // Traced inside the boundary: reading the application's string must not unwind into C.
        // SAFETY: the same read of the application's input string the call makes below.
        trace_enter!("SQLDriverConnect", "{:p} {:?} {}", dbc, completion, unsafe {
            traced_conn_str(text::narrow_in(in_str, in_len as isize).map(|o| o.map(String::from_utf8_lossy)))
        });
        let d = handle!(dbc, dbc);
        // SAFETY: the application's input string with its length.
        let Ok(s) = (unsafe { text::narrow_in(in_str, in_len as isize) }) else {
            return super::reject(&d.gate, SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "Invalid string or buffer length");
        };
        if out_max < 0 {
            return super::reject(&d.gate, SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "BufferLength is negative");
        }
        let conn_str = utf8(s).unwrap_or_default();
        connect(
            &d,
            Target::DriverConnect {
                conn_str,
                out: OutConn::Narrow { buf: out_str, max: out_max, len: out_len },
                completion,
                hwnd,
                wide: false,
            },
        )
    })
}

/// SQLDriverConnectW (Unicode).
pub unsafe extern "C" fn SQLDriverConnectW(
    dbc: SqlHDbc,
    hwnd: SqlHWnd,
    in_str: *const SqlWChar,
    in_len: SqlSmallInt,
    out_str: *mut SqlWChar,
    out_max: SqlSmallInt,
    out_len: *mut SqlSmallInt,
    completion: DriverCompletion,
) -> SqlReturn {
    boundary("SQLDriverConnectW", || {
        // SAFETY: the same read of the application's input string the call makes below.
        trace_enter!("SQLDriverConnectW", "{:p} {:?} {}", dbc, completion, unsafe {
            traced_conn_str(text::wide_in(in_str, in_len as isize).map(|o| o.map(|w| String::from_utf16_lossy(w).into())))
        });
        let d = handle!(dbc, dbc);
        // SAFETY: the application's input string with its length.
        let Ok(s) = (unsafe { text::wide_in(in_str, in_len as isize) }) else {
            return super::reject(&d.gate, SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "Invalid string or buffer length");
        };
        if out_max < 0 {
            return super::reject(&d.gate, SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "BufferLength is negative");
        }
        let conn_str = utf16(s).unwrap_or_default();
        connect(
            &d,
            Target::DriverConnect {
                conn_str,
                out: OutConn::Wide { buf: out_str, max: out_max, len: out_len },
                completion,
                hwnd,
                wide: true,
            },
        )
    })
}

/// The connection string as traced on entry to SQLDriverConnect/W: passwords masked
/// (`PWD=`, `Password=`), never the application's secret.
fn traced_conn_str(s: Result<Option<std::borrow::Cow<'_, str>>, text::BadLength>) -> String {
    match s {
        Ok(Some(cs)) => crate::trace::masked(&cs),
        Ok(None) => "(null)".into(),
        Err(_) => "(invalid length)".into(),
    }
}

/// SQLBrowseConnect: not offered by odbc-dm (no driver here implements it usefully);
/// answered IM001 so applications fall back to SQLDriverConnect.
pub unsafe extern "C" fn SQLBrowseConnect(
    dbc: SqlHDbc,
    _in_str: *const SqlChar,
    _in_len: SqlSmallInt,
    _out_str: *mut SqlChar,
    _out_max: SqlSmallInt,
    _out_len: *mut SqlSmallInt,
) -> SqlReturn {
    boundary("SQLBrowseConnect", || {
        let d = handle!(dbc, dbc);
        super::reject(&d.gate, SqlState::DRIVER_LACKS_FUNCTION, "SQLBrowseConnect is not supported by odbc-dm; use SQLDriverConnect")
    })
}

/// SQLBrowseConnectW: see [`SQLBrowseConnect`].
pub unsafe extern "C" fn SQLBrowseConnectW(
    dbc: SqlHDbc,
    _in_str: *const SqlWChar,
    _in_len: SqlSmallInt,
    _out_str: *mut SqlWChar,
    _out_max: SqlSmallInt,
    _out_len: *mut SqlSmallInt,
) -> SqlReturn {
    boundary("SQLBrowseConnectW", || {
        let d = handle!(dbc, dbc);
        super::reject(&d.gate, SqlState::DRIVER_LACKS_FUNCTION, "SQLBrowseConnect is not supported by odbc-dm; use SQLDriverConnect")
    })
}

/// Frees the driver's connection and environment handles after a failed connect or a
/// disconnect.
fn release_driver_handles(driver: &Driver, henv: SqlHandle, hdbc: SqlHandle) {
    let fns = &driver.fns;
    if !hdbc.is_null() {
        if let Some(f) = fns.SQLFreeHandle {
            // SAFETY: a driver connection handle the DM allocated and no longer uses.
            unsafe { f(HandleType::SQL_HANDLE_DBC, hdbc) };
        } else if let Some(f) = fns.SQLFreeConnect {
            // SAFETY: as above (ODBC 2.x).
            unsafe { f(hdbc) };
        }
    }
    if !henv.is_null() {
        if let Some(f) = fns.SQLFreeHandle {
            // SAFETY: a driver environment handle the DM allocated and no longer uses.
            unsafe { f(HandleType::SQL_HANDLE_ENV, henv) };
        } else if let Some(f) = fns.SQLFreeEnv {
            // SAFETY: as above (ODBC 2.x).
            unsafe { f(henv) };
        }
    }
}

/// Connection-string keyword turning on the DM's asynchronous emulation.
pub const ASYNC_EMULATION_KEYWORD: &str = "AsyncEmulation";

fn connect(d: &Arc<Dbc>, target: Target) -> SqlReturn {
    let mut call = match Call::begin(&d.gate, |c| {
        if c.async_func.is_some() {
            return Err((
                SqlState::FUNCTION_SEQUENCE_ERROR,
                "Another asynchronous function is executing on this connection (§1.11)".into(),
            ));
        }
        match c.state {
            ConnState::C2 => Ok(()),
            _ => Err((SqlState::CONNECTION_IN_USE, "Connection name in use: the connection is already open (§4.3)".into())),
        }
    }) {
        Ok(c) => c,
        Err(rc) => return rc,
    };
    let app_version = d.env.gate.peek(|c| c.odbc_version.unwrap_or(SQL_OV_ODBC3));

    // 1. Resolve and load the driver.
    let src = config::ConfigSource::from_env();
    let conn_str_for_resolve = match &target {
        Target::DriverConnect { conn_str, .. } => conn_str.clone(),
        Target::Connect { dsn, .. } => config::build_connection_string([("DSN", dsn.as_str())]),
    };
    let mut resolved = match config::resolve_connection_string(&src, &conn_str_for_resolve) {
        Ok(r) => r,
        Err(e) => return call.fail(SqlState(*b"IM002"), e.to_string()),
    };
    // DM keyword (also accepted from a DSN): asynchronous emulation for sync-only drivers.
    // The driver never sees it.
    if let Some(v) = resolved.attribute(ASYNC_EMULATION_KEYWORD) {
        let on = matches!(v.to_ascii_lowercase().as_str(), "yes" | "1" | "true" | "on");
        call.core(|c| c.async_emulation = on);
        resolved.attributes.retain(|(k, _)| !k.eq_ignore_ascii_case(ASYNC_EMULATION_KEYWORD));
    }
    let driver = match load_driver(&resolved.driver_path) {
        Ok(drv) => drv,
        Err(e) => return call.fail(SqlState::DRIVER_LOAD_FAILED, e.to_string()),
    };
    let fns = &driver.fns;

    // 2. Driver environment and ODBC version (§1.13).
    let mut henv: SqlHandle = std::ptr::null_mut();
    // SAFETY: valid out pointer; ENV allocation takes a null input handle.
    let rc = unsafe {
        match (fns.SQLAllocHandle, fns.SQLAllocEnv) {
            (Some(f), _) => f(HandleType::SQL_HANDLE_ENV, std::ptr::null_mut(), &mut henv),
            (None, Some(f)) => f(&mut henv),
            _ => SqlReturn::SQL_ERROR,
        }
    };
    if !rc.is_success() || henv.is_null() {
        return call.fail(SqlState::DRIVER_ENV_ALLOC_FAILED, "Driver's SQLAllocHandle on SQL_HANDLE_ENV failed");
    }
    let mut odbc_version = app_version;
    if let Some(f) = fns.SQLSetEnvAttr {
        // SAFETY: live driver env; the version is passed by value as SQLPOINTER.
        let rc = unsafe { f(henv, EnvAttr::SQL_ATTR_ODBC_VERSION, app_version as usize as SqlPointer, 0) };
        if !rc.is_success() && app_version == SQL_OV_ODBC3_80 {
            // libsqlite3odbc and FreeTDS reject 3.80: fall back to 3 and say so, as unixODBC does.
            // SAFETY: as above.
            let rc3 = unsafe { f(henv, EnvAttr::SQL_ATTR_ODBC_VERSION, SQL_OV_ODBC3 as usize as SqlPointer, 0) };
            if rc3.is_success() {
                odbc_version = SQL_OV_ODBC3;
                call.warn(SqlState::GENERAL_WARNING, "Driver does not support the requested version (ODBC 3.80); using ODBC 3.0");
            }
        }
    }

    // 3. Driver connection.
    let mut hdbc: SqlHandle = std::ptr::null_mut();
    // SAFETY: live driver env and a valid out pointer.
    let rc = unsafe {
        match (fns.SQLAllocHandle, fns.SQLAllocConnect) {
            (Some(f), _) => f(HandleType::SQL_HANDLE_DBC, henv, &mut hdbc),
            (None, Some(f)) => f(henv, &mut hdbc),
            _ => SqlReturn::SQL_ERROR,
        }
    };
    if !rc.is_success() || hdbc.is_null() {
        release_driver_handles(&driver, henv, std::ptr::null_mut());
        return call.fail(SqlState::DRIVER_DBC_ALLOC_FAILED, "Driver's SQLAllocHandle on SQL_HANDLE_DBC failed");
    }
    let link = Arc::new(DriverLink::new(driver.clone(), henv as usize, hdbc as usize, odbc_version));

    // 4. Replay stored attributes (§1.13): a failure is IM006 with SUCCESS_WITH_INFO.
    let stored = call.core(|c| c.stored_attrs.clone());
    for (attr, value) in &stored {
        let rc = set_connect_attr_on_driver(&link, *attr, value);
        if !rc.is_success() {
            let recs = pull_driver_diags(&link, HandleType::SQL_HANDLE_DBC, hdbc);
            call.warn(SqlState::DRIVER_SET_CONNECT_ATTR_FAILED, format!("Driver's SQLSetConnectAttr failed for attribute {}", attr.0));
            for r in recs {
                call.warn(r.state, r.message);
            }
        }
    }

    // 5. Connect.
    let (rc, masked) = match target {
        Target::DriverConnect { conn_str: _, out, completion, hwnd, wide } => {
            let driver_str = resolved.to_driver_connection_string();
            let masked = config::mask_passwords(&driver_str);
            let rc = driver_connect(&link, &driver_str, out, completion, hwnd, wide, &mut call);
            (rc, masked)
        }
        Target::Connect { dsn, uid, pwd, wide } => {
            let masked = format!("DSN={dsn}");
            (plain_connect(&link, &resolved, &dsn, uid.as_deref(), pwd.as_deref(), wide), masked)
        }
    };
    if rc.is_success() {
        call.finish(rc, Some((&link, HandleType::SQL_HANDLE_DBC, hdbc)), |c, _| {
            d.fast_link.store(Arc::as_ptr(&link) as *mut DriverLink, std::sync::atomic::Ordering::Release);
            c.link = Some(link.clone());
            c.state = ConnState::C4;
            c.masked_conn_str = masked;
        })
    } else {
        let recs = pull_driver_diags(&link, HandleType::SQL_HANDLE_DBC, hdbc);
        release_driver_handles(&driver, henv, hdbc);
        call.finish(rc, None, move |c, _| {
            for r in recs {
                c.diag.push(r);
            }
        })
    }
}

/// Sets one connection attribute on the driver, choosing W or A by what it exports.
pub(crate) fn set_connect_attr_on_driver(link: &DriverLink, attr: ConnAttr, value: &AttrValue) -> SqlReturn {
    let fns = &link.driver.fns;
    let h = link.hdbc as SqlHandle;
    match value {
        AttrValue::Int(v) => {
            let f = fns.SQLSetConnectAttrW.or(fns.SQLSetConnectAttr);
            match f {
                // SAFETY: live driver connection; integer attributes pass by value.
                Some(f) => unsafe { f(h, attr, *v as SqlPointer, 0) },
                None => SqlReturn::SQL_ERROR,
            }
        }
        AttrValue::Text(t) => {
            if let Some(f) = fns.SQLSetConnectAttrW {
                let mut w = text::to_wide(t);
                let bytes = (w.len() * 2) as i32;
                w.push(0);
                // SAFETY: live driver connection; `w` outlives the call; length in bytes.
                unsafe { f(h, attr, w.as_mut_ptr().cast(), bytes) }
            } else if let Some(f) = fns.SQLSetConnectAttr {
                let mut n = t.clone();
                let len = n.len() as i32;
                n.push(0);
                // SAFETY: as above, narrow.
                unsafe { f(h, attr, n.as_mut_ptr().cast(), len) }
            } else {
                SqlReturn::SQL_ERROR
            }
        }
    }
}

fn driver_connect(
    link: &DriverLink,
    conn_str: &str,
    out: OutConn,
    completion: DriverCompletion,
    hwnd: SqlHWnd,
    app_wide: bool,
    call: &mut Call<'_, crate::handles::DbcCore>,
) -> SqlReturn {
    let fns = &link.driver.fns;
    let h = link.hdbc as SqlHandle;
    let use_wide = match (fns.SQLDriverConnectW.is_some(), fns.SQLDriverConnect.is_some()) {
        (true, true) => app_wide,
        (true, false) => true,
        (false, true) => false,
        (false, false) => return SqlReturn::SQL_ERROR,
    };
    let mut out_len_drv: i16 = 0;
    let (rc, result): (SqlReturn, Vec<u16>) = if use_wide {
        let mut w = text::to_wide(conn_str.as_bytes());
        let n = w.len() as i16;
        w.push(0);
        let mut obuf = vec![0u16; 4096];
        // SAFETY: live driver connection; buffers valid for the sizes passed.
        let rc = unsafe {
            fns.SQLDriverConnectW.unwrap()(h, hwnd, w.as_ptr(), n, obuf.as_mut_ptr(), obuf.len() as i16, &mut out_len_drv, completion)
        };
        (rc, text::wide_from_buf(&obuf).to_vec())
    } else {
        let mut s = conn_str.as_bytes().to_vec();
        let n = s.len() as i16;
        s.push(0);
        let mut obuf = vec![0u8; 8192];
        // SAFETY: as above, narrow.
        let rc = unsafe {
            fns.SQLDriverConnect.unwrap()(h, hwnd, s.as_ptr(), n, obuf.as_mut_ptr(), obuf.len() as i16, &mut out_len_drv, completion)
        };
        (rc, text::to_wide(text::narrow_from_buf(&obuf)))
    };
    if rc.is_success() {
        // The output string goes back with passwords as the driver wrote them: it is the
        // application's own connection string.
        let (full, trunc) = match out {
            OutConn::Narrow { buf, max, len } => {
                // SAFETY: application buffer of `max` bytes (checked non-negative).
                let (n, t) = unsafe { wide_to_app_narrow(&result, buf, max as usize) };
                // SAFETY: optional application out pointer.
                unsafe { put_len(len, n, i16::MAX) };
                (n, t)
            }
            OutConn::Wide { buf, max, len } => {
                let narrow = text::to_narrow(&result);
                // SAFETY: application buffer of `max` characters.
                let (n, t) = unsafe { narrow_to_app_wide(&narrow, buf, max as usize) };
                // SAFETY: optional application out pointer.
                unsafe { put_len(len, n, i16::MAX) };
                (n, t)
            }
        };
        let _ = full;
        if trunc {
            call.warn(SqlState::STRING_TRUNCATED, TRUNCATED);
        }
    }
    rc
}

fn plain_connect(
    link: &DriverLink,
    resolved: &config::ResolvedDriver,
    dsn: &str,
    uid: Option<&str>,
    pwd: Option<&str>,
    app_wide: bool,
) -> SqlReturn {
    let fns = &link.driver.fns;
    let h = link.hdbc as SqlHandle;
    let use_wide = match (fns.SQLConnectW.is_some(), fns.SQLConnect.is_some()) {
        (true, true) => app_wide,
        (true, false) => true,
        (false, true) => false,
        (false, false) => {
            // No SQLConnect: connect through SQLDriverConnect with the DSN's attributes.
            let mut s = resolved.to_driver_connection_string();
            if let Some(u) = uid {
                s.push_str(&format!(";UID={}", config::build_connection_string([("x", u)]).trim_start_matches("x=")));
            }
            if let Some(p) = pwd {
                s.push_str(&format!(";PWD={}", config::build_connection_string([("x", p)]).trim_start_matches("x=")));
            }
            let mut w = text::to_wide(s.as_bytes());
            let n = w.len() as i16;
            w.push(0);
            let mut out_len: i16 = 0;
            return match fns.SQLDriverConnectW {
                // SAFETY: live driver connection; NUL-terminated input; no output buffer.
                Some(f) => unsafe {
                    f(h, std::ptr::null_mut(), w.as_ptr(), n, std::ptr::null_mut(), 0, &mut out_len, DriverCompletion::SQL_DRIVER_NOPROMPT)
                },
                None => SqlReturn::SQL_ERROR,
            };
        }
    };
    if use_wide {
        let (d, u, p) = (InWideOwned::new(Some(dsn)), InWideOwned::new(uid), InWideOwned::new(pwd));
        // SAFETY: live driver connection; NUL-terminated inputs that outlive the call.
        unsafe { fns.SQLConnectW.unwrap()(h, d.ptr(), d.len(), u.ptr(), u.len(), p.ptr(), p.len()) }
    } else {
        let (d, u, p) = (InNarrowOwned::new(Some(dsn)), InNarrowOwned::new(uid), InNarrowOwned::new(pwd));
        // SAFETY: as above, narrow.
        unsafe { fns.SQLConnect.unwrap()(h, d.ptr(), d.len(), u.ptr(), u.len(), p.ptr(), p.len()) }
    }
}

struct InWideOwned(Option<Vec<u16>>);
impl InWideOwned {
    fn new(s: Option<&str>) -> Self {
        InWideOwned(s.map(|s| s.encode_utf16().chain(std::iter::once(0)).collect()))
    }
    fn ptr(&self) -> *const u16 {
        self.0.as_ref().map_or(std::ptr::null(), |v| v.as_ptr())
    }
    fn len(&self) -> i16 {
        self.0.as_ref().map_or(0, |v| (v.len() - 1) as i16)
    }
}

struct InNarrowOwned(Option<Vec<u8>>);
impl InNarrowOwned {
    fn new(s: Option<&str>) -> Self {
        InNarrowOwned(s.map(|s| s.bytes().chain(std::iter::once(0)).collect()))
    }
    fn ptr(&self) -> *const u8 {
        self.0.as_ref().map_or(std::ptr::null(), |v| v.as_ptr())
    }
    fn len(&self) -> i16 {
        self.0.as_ref().map_or(0, |v| (v.len() - 1) as i16)
    }
}

/// SQLDisconnect: 08003 when not connected, 25000 in a transaction (C6), HY010 while an
/// asynchronous function runs on the connection or one of its statements (§1.11, §4.3).
/// Frees the connection's statements, then the driver's connection and environment.
pub unsafe extern "C" fn SQLDisconnect(dbc: SqlHDbc) -> SqlReturn {
    trace_enter!("SQLDisconnect", "{:p}", dbc);
    boundary("SQLDisconnect", || {
        let d = handle!(dbc, dbc);
        let call = match Call::begin(&d.gate, |c| {
            match c.state {
                ConnState::C2 => return Err((SqlState::CONNECTION_NOT_OPEN, "Connection not open".into())),
                ConnState::C6 => {
                    return Err((SqlState::INVALID_TRANSACTION_STATE, "Invalid transaction state: a transaction is open".into()))
                }
                _ => {}
            }
            if c.async_func.is_some() {
                return Err((SqlState::FUNCTION_SEQUENCE_ERROR, "An asynchronous function is executing on this connection (§1.11)".into()));
            }
            for sid in &c.statements {
                if let Some(s) = crate::handles::tables().stmt.get(*sid) {
                    let busy = s.gate.peek(|sc| {
                        use crate::handles::stmt_state::StmtState::*;
                        matches!(sc.status.state, S8 | S9 | S10 | S11 | S12)
                    });
                    if busy {
                        return Err((
                            SqlState::FUNCTION_SEQUENCE_ERROR,
                            "A statement of this connection is executing asynchronously or needs data (§1.11)".into(),
                        ));
                    }
                }
            }
            Ok(())
        }) {
            Ok(c) => c,
            Err(rc) => return rc,
        };
        let link = call.core(|c| c.link.clone()).expect("connected implies a link");
        let Some(f) = link.driver.fns.SQLDisconnect else {
            return call.fail(SqlState::DRIVER_LACKS_FUNCTION, "Driver does not support this function: SQLDisconnect");
        };
        // SAFETY: live driver connection handle.
        let rc = unsafe { f(link.hdbc as SqlHandle) };
        if rc == SqlReturn::SQL_ERROR || rc == SqlReturn::SQL_STILL_EXECUTING {
            return call.finish(rc, Some((&link, HandleType::SQL_HANDLE_DBC, link.hdbc as SqlHandle)), |_, _| {});
        }
        let recs = if rc == SqlReturn::SQL_SUCCESS_WITH_INFO {
            pull_driver_diags(&link, HandleType::SQL_HANDLE_DBC, link.hdbc as SqlHandle)
        } else {
            Vec::new()
        };
        // The driver freed its statements; forget ours.
        let (stmts, descs) = call.core(|c| (std::mem::take(&mut c.statements), std::mem::take(&mut c.descriptors)));
        for sid in stmts {
            if let Some(s) = crate::handles::tables().stmt.remove(sid) {
                s.gate.peek(|c| c.freed = true);
                let implicit = s.gate.peek(|c| c.implicit_descs);
                for dd in implicit.into_iter().flatten() {
                    crate::handles::tables().desc.remove(dd);
                }
            }
        }
        for did in descs {
            crate::handles::tables().desc.remove(did);
        }
        release_driver_handles(&link.driver, link.henv as SqlHandle, link.hdbc as SqlHandle);
        // This call holds the busy word, so no fast-lane call can be reading the pointer.
        d.fast_link.store(std::ptr::null_mut(), std::sync::atomic::Ordering::Release);
        call.finish(rc, None, move |c, _| {
            for r in recs {
                c.diag.push(r);
            }
            c.link = None;
            c.state = ConnState::C2;
        })
    })
}
