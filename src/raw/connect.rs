//! Connecting and disconnecting (§1.13, §4.3): resolve the driver from the connection
//! string or DSN, load it, allocate the driver's environment and connection, set the ODBC
//! version, replay stored connection attributes, then connect.

use std::sync::Arc;

use odbc_dm_abi::*;

use super::checks;
use super::connect_async::{self, Started};
use super::strings::{narrow_to_app_wide, put_len, wide_to_app_narrow, TRUNCATED};
use super::{boundary, handle, pull_driver_diags, same_signature, AppPtr, Call};
use crate::async_engine::Invoke;
use crate::config;
use crate::diag::{DiagRecord, SqlState};
use crate::driver::{load_driver_with, serialize, Driver, Threading};
use crate::handles::conn_state::ConnState;
use crate::handles::{AttrValue, Dbc, DbcCore, DbcPost, DriverLink};
use crate::text;
use crate::trace_enter;

same_signature!(SQLConnect, SQLConnectW, SQLDriverConnect, SQLDriverConnectW, SQLBrowseConnect, SQLBrowseConnectW, SQLDisconnect);

/// Where the connect's output connection string goes: the application's buffers, kept
/// raw until the operation completes (§2.9) and written by the final driver call.
#[derive(Clone, Copy)]
enum OutConn {
    Narrow { buf: AppPtr<u8>, max: i16, len: AppPtr<i16> },
    Wide { buf: AppPtr<u16>, max: i16, len: AppPtr<i16> },
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
        if !valid_completion(completion) {
            return super::reject(&d.gate, SqlState::INVALID_DRIVER_COMPLETION, "Invalid driver completion");
        }
        let conn_str = utf8(s).unwrap_or_default();
        connect(
            &d,
            Target::DriverConnect {
                conn_str,
                out: OutConn::Narrow { buf: AppPtr::new(out_str), max: out_max, len: AppPtr::new(out_len) },
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
        if !valid_completion(completion) {
            return super::reject(&d.gate, SqlState::INVALID_DRIVER_COMPLETION, "Invalid driver completion");
        }
        let conn_str = utf16(s).unwrap_or_default();
        connect(
            &d,
            Target::DriverConnect {
                conn_str,
                out: OutConn::Wide { buf: AppPtr::new(out_str), max: out_max, len: AppPtr::new(out_len) },
                completion,
                hwnd,
                wide: true,
            },
        )
    })
}

/// DriverCompletion is one of the four values the specification defines (otherwise the DM
/// answers HY110 itself, before any driver is loaded: SQLDriverConnect, §"Diagnostics").
fn valid_completion(c: DriverCompletion) -> bool {
    [
        DriverCompletion::SQL_DRIVER_NOPROMPT,
        DriverCompletion::SQL_DRIVER_COMPLETE,
        DriverCompletion::SQL_DRIVER_PROMPT,
        DriverCompletion::SQL_DRIVER_COMPLETE_REQUIRED,
    ]
    .contains(&c)
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
pub(super) fn release_driver_handles(driver: &Driver, henv: SqlHandle, hdbc: SqlHandle) {
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
/// DM keyword (connection string, DSN or the driver's odbcinst.ini section): unixODBC's
/// `Threading` level 0-3 for a driver that is not thread-safe (docs/decisions.md #28).
pub const THREADING_KEYWORD: &str = "Threading";

fn connect(d: &Arc<Dbc>, target: Target) -> SqlReturn {
    let func = match target {
        Target::DriverConnect { .. } => FunctionId::SQL_API_SQLDRIVERCONNECT,
        Target::Connect { .. } => FunctionId::SQL_API_SQLCONNECT,
    };
    let started = connect_async::begin(d, func, |c| match c.state {
        ConnState::C2 => Ok(()),
        _ => Err((SqlState::CONNECTION_IN_USE, "Connection name in use: the connection is already open (§4.3)".into())),
    });
    let call = match started {
        Ok(Started::New(call, _)) => call,
        // §1.7: a polling repeat; the driver is loaded and its call captured already.
        Ok(Started::Repeat(call)) => return connect_async::repeat(d, call),
        Err(rc) => return rc,
    };
    let app_version = d.env.gate.read(|c| c.odbc_version.unwrap_or(SQL_OV_ODBC3));
    // DM records of the connect sequence, reported with the connect's outcome.
    let mut warnings: Vec<DiagRecord> = Vec::new();

    // 0. A connection string no SQLSMALLINT length can describe (possible with SQL_NTS) is
    //    HY090 before anything is resolved or loaded (docs/decisions.md #51).
    if let Target::DriverConnect { conn_str, wide, .. } = &target {
        let units = if *wide { conn_str.encode_utf16().count() } else { conn_str.len() };
        if let Err((state, msg)) = checks::len_i16(units, "the connection string") {
            return call.fail(state, msg);
        }
    }

    // 1. Resolve and load the driver.
    let src = config::ConfigSource::from_env();
    let conn_str_for_resolve = match &target {
        Target::DriverConnect { conn_str, .. } => conn_str.clone(),
        Target::Connect { dsn, .. } => config::build_connection_string([("DSN", dsn.as_str())]),
    };
    let mut resolved = match config::resolve_connection_string(&src, &conn_str_for_resolve) {
        Ok(r) => r,
        Err(e) => {
            let state = e.sqlstate().as_bytes();
            return call.fail(SqlState([state[0], state[1], state[2], state[3], state[4]]), e.to_string());
        }
    };
    // DM keyword (also accepted from a DSN): asynchronous emulation for sync-only drivers.
    // The driver never sees it.
    if let Some(v) = resolved.attribute(ASYNC_EMULATION_KEYWORD) {
        let v = v.to_ascii_lowercase();
        let forced = v == "force";
        let on = forced || matches!(v.as_str(), "yes" | "1" | "true" | "on");
        call.core(|c| {
            c.asynch.emulation = crate::handles::AsyncEmulation::from_flags(on, forced);
        });
        resolved.attributes.retain(|(k, _)| !k.eq_ignore_ascii_case(ASYNC_EMULATION_KEYWORD));
    }
    // `Threading` (unixODBC's odbcinst.ini keyword; also a DM keyword of the connection
    // string or DSN, which wins and which the driver never sees): serialization for drivers
    // that are not thread-safe (src/driver/serialize.rs); without it, the DM's default for
    // the driver.
    let threading_value = match resolved.attribute(THREADING_KEYWORD) {
        Some(v) => Some(v.to_string()),
        None => resolved.driver_option(THREADING_KEYWORD).map(str::to_string),
    };
    resolved.attributes.retain(|(k, _)| !k.eq_ignore_ascii_case(THREADING_KEYWORD));
    let threading = match threading_value {
        Some(v) => Threading::parse(&v).unwrap_or_else(|| {
            log::warn!("Threading = {v:?} is not 0-3; using the driver's default");
            serialize::default_level(&resolved.driver_path)
        }),
        None => serialize::default_level(&resolved.driver_path),
    };
    // A FIFO or device as the driver would block dlopen forever (docs/decisions.md #46).
    if let Err(msg) = config::check_driver_file(&resolved.driver_path) {
        return call.fail(SqlState::DRIVER_LOAD_FAILED, msg);
    }
    let driver = match load_driver_with(&resolved.driver_path, threading) {
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
                warnings.push(DiagRecord::dm(
                    SqlState::GENERAL_WARNING,
                    "Driver does not support the requested version (ODBC 3.80); using ODBC 3.0",
                ));
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
    call.core(|c| c.pending_link = Some(link.clone()));
    // Ends the connect before the driver's connect call: frees the driver's handles.
    let abort = |call: Call<'_, DbcCore>, state: SqlState, msg: String, recs: Vec<DiagRecord>| -> SqlReturn {
        release_fenced(&call, d, &driver, henv, hdbc, |c| {
            c.pending_link = None;
            c.asynch.notify_installed = false;
            c.asynch.dbc_emulated = false;
        });
        let mut all = vec![DiagRecord::dm(state, msg)];
        all.extend(recs);
        call.finish_records(SqlReturn::SQL_ERROR, all, |_, _| {})
    };

    // 4. Connection-level asynchronous execution and notification, decided now that the
    //    driver is loaded (§1.13, §2.3): the callback and context go on the driver's
    //    connection before anything else.
    let (enabled, has_event, emulation) = call.core(|c| (c.asynch.dbc_enabled, c.asynch.notification(), c.asynch.emulation.is_on()));
    let mut emulated = false;
    let mut install = false;
    if enabled || has_event {
        // Asked before the connect: a driver that cannot answer yet counts as incapable.
        let dbc_async = link.info_u32(InfoType::SQL_ASYNC_DBC_FUNCTIONS).is_some_and(|v| v != 0);
        let notification = link.info_u32(InfoType::SQL_ASYNC_NOTIFICATION).is_some_and(|v| v != 0);
        if enabled && !dbc_async && !emulation {
            return abort(
                call,
                SqlState::NO_DBC_ASYNC,
                "The driver does not support connection-level asynchronous execution (SQL_ASYNC_DBC_FUNCTIONS); enable AsyncEmulation to have the Driver Manager emulate it (§1.13)".into(),
                Vec::new(),
            );
        }
        if has_event && !notification && !emulation {
            return abort(
                call,
                SqlState::NO_ASYNC_NOTIFICATION,
                "The driver does not support asynchronous notification (SQL_ASYNC_NOTIFICATION); enable AsyncEmulation to have the Driver Manager emulate it (§2.3)".into(),
                Vec::new(),
            );
        }
        emulated = emulation && ((enabled && !dbc_async) || (has_event && !notification));
        install = has_event && notification && !emulated;
    }
    if install {
        let rc = connect_async::install_notification(d, &link);
        if !rc.is_success() {
            let recs = pull_driver_diags(&link, HandleType::SQL_HANDLE_DBC, hdbc);
            return abort(
                call,
                SqlState::NO_ASYNC_NOTIFICATION,
                "The driver refused the Driver Manager's notification callback (§2.3)".into(),
                recs,
            );
        }
    }

    // 5. Replay stored attributes (§1.13): a failure is IM006 with SUCCESS_WITH_INFO.
    let stored = call.core(|c| c.stored_attrs.clone());
    for (attr, value) in &stored {
        let rc = set_connect_attr_on_driver(&link, *attr, value);
        if !rc.is_success() {
            let recs = pull_driver_diags(&link, HandleType::SQL_HANDLE_DBC, hdbc);
            warnings.push(DiagRecord::dm(
                SqlState::DRIVER_SET_CONNECT_ATTR_FAILED,
                format!("Driver's SQLSetConnectAttr failed for attribute {}", attr.0),
            ));
            warnings.extend(recs);
        }
    }
    // The driver runs the connection functions asynchronously itself (§1.13).
    if enabled && !emulated {
        let rc = set_connect_attr_on_driver(&link, ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE, &AttrValue::Int(SQL_ASYNC_DBC_ENABLE_ON));
        if !rc.is_success() {
            let recs = pull_driver_diags(&link, HandleType::SQL_HANDLE_DBC, hdbc);
            return abort(call, SqlState::NO_DBC_ASYNC, "The driver refused SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE (§1.13)".into(), recs);
        }
    }
    let mode = call.core(|c| {
        c.asynch.dbc_emulated = emulated;
        c.asynch.notify_installed = install;
        connect_async::DbcMode::of(c)
    });

    // 6. Connect: the driver call captured with its own buffers, run in the connection's mode.
    let (invoke, masked) = match target {
        Target::DriverConnect { conn_str: _, out, completion, hwnd, wide } => {
            let driver_str = resolved.to_driver_connection_string();
            let masked = config::mask_passwords(&driver_str);
            (driver_connect(&link, &driver_str, out, completion, hwnd, wide), masked)
        }
        Target::Connect { dsn, uid, pwd, wide } => {
            let masked = format!("DSN={dsn}");
            (plain_connect(&link, &resolved, &dsn, uid.as_deref(), pwd.as_deref(), wide), masked)
        }
    };
    let invoke = match invoke {
        Some(Ok(invoke)) => invoke,
        Some(Err((state, msg))) => return abort(call, state, msg, Vec::new()),
        None => {
            return abort(
                call,
                SqlState::DRIVER_LACKS_FUNCTION,
                "Driver does not support this function: SQLConnect/SQLDriverConnect".into(),
                Vec::new(),
            )
        }
    };
    connect_async::run(d, call, func, mode, invoke, DbcPost::Connect { link, masked, warnings })
}

/// Sets one connection attribute on the driver, choosing W or A by what it exports.
pub(crate) fn set_connect_attr_on_driver(link: &DriverLink, attr: ConnAttr, value: &AttrValue) -> SqlReturn {
    let fns = &link.driver.fns;
    let h = link.hdbc as SqlHandle;
    match value {
        AttrValue::Int(v) => {
            // The ANSI function first: an integer means the same in both widths, and
            // psqlODBC's SQLSetConnectAttrW would mark an ANSI connection Unicode (#96).
            let f = fns.SQLSetConnectAttr.or(fns.SQLSetConnectAttrW);
            match f {
                // SAFETY: live driver connection; integer attributes pass by value.
                Some(f) => unsafe { f(h, attr, *v as SqlPointer, 0) },
                None => SqlReturn::SQL_ERROR,
            }
        }
        AttrValue::Text(t) => {
            if let Some(f) = fns.SQLSetConnectAttrW {
                let mut w = text::to_wide(t);
                let Ok(bytes) = checks::len_i32(w.len() * 2, "the attribute value") else { return SqlReturn::SQL_ERROR };
                w.push(0);
                // SAFETY: live driver connection; `w` outlives the call; length in bytes.
                unsafe { f(h, attr, w.as_mut_ptr().cast(), bytes) }
            } else if let Some(f) = fns.SQLSetConnectAttr {
                let mut n = t.clone();
                let Ok(len) = checks::len_i32(n.len(), "the attribute value") else { return SqlReturn::SQL_ERROR };
                n.push(0);
                // SAFETY: as above, narrow.
                unsafe { f(h, attr, n.as_mut_ptr().cast(), len) }
            } else {
                SqlReturn::SQL_ERROR
            }
        }
    }
}

/// The captured driver call of SQLDriverConnect: the DM's input and output buffers are
/// owned by the closure (same pointers in every re-invocation, §2.9); the final call (not
/// SQL_STILL_EXECUTING) converts the driver's output string into the application's buffer,
/// whose pointers were captured. `None`: the driver has no SQLDriverConnect; `Some(Err)`:
/// the connection string is too long for a SQLSMALLINT length (HY090).
fn driver_connect(
    link: &DriverLink,
    conn_str: &str,
    out: OutConn,
    completion: DriverCompletion,
    hwnd: SqlHWnd,
    app_wide: bool,
) -> Option<Result<Invoke, (SqlState, String)>> {
    let fns = &link.driver.fns;
    let h = link.hdbc;
    let hwnd = AppPtr::new(hwnd);
    let use_wide = match (fns.SQLDriverConnectW.is_some(), fns.SQLDriverConnect.is_some()) {
        (true, true) => app_wide,
        (true, false) => true,
        (false, true) => false,
        (false, false) => return None,
    };
    let mut out_len_drv: Box<i16> = Box::new(0);
    if use_wide {
        let f = fns.SQLDriverConnectW?;
        let mut w = text::to_wide(conn_str.as_bytes());
        let n = match checks::len_i16(w.len(), "the connection string") {
            Ok(n) => n,
            Err(e) => return Some(Err(e)),
        };
        w.push(0);
        // The largest output a SQLSMALLINT length can describe: the driver never cuts the
        // string for the DM, so the application gets its full length and 01004 (#51).
        let mut obuf = vec![0u16; OUT_CONN_UNITS];
        Some(Ok(Box::new(move |extra: &mut Vec<DiagRecord>| {
            // SAFETY: live driver connection (freed only when the operation is collected);
            // DM buffers owned by this closure, valid for the sizes passed; the window
            // handle is the application's, passed through.
            let rc = unsafe {
                f(h as SqlHandle, hwnd.get(), w.as_ptr(), n, obuf.as_mut_ptr(), OUT_CONN_UNITS as i16, &mut *out_len_drv, completion)
            };
            if rc.is_success() {
                write_out_conn(out, text::wide_from_buf(&obuf), *out_len_drv, extra);
            }
            rc
        })))
    } else {
        let f = fns.SQLDriverConnect?;
        let mut s = conn_str.as_bytes().to_vec();
        let n = match checks::len_i16(s.len(), "the connection string") {
            Ok(n) => n,
            Err(e) => return Some(Err(e)),
        };
        s.push(0);
        let mut obuf = vec![0u8; OUT_CONN_UNITS];
        Some(Ok(Box::new(move |extra: &mut Vec<DiagRecord>| {
            // SAFETY: as above, narrow.
            let rc = unsafe {
                f(h as SqlHandle, hwnd.get(), s.as_ptr(), n, obuf.as_mut_ptr(), OUT_CONN_UNITS as i16, &mut *out_len_drv, completion)
            };
            if rc.is_success() {
                write_out_conn(out, &text::to_wide(text::narrow_from_buf(&obuf)), *out_len_drv, extra);
            }
            rc
        })))
    }
}

/// Size in code units of the DM's buffer for the driver's output connection string
/// (docs/decisions.md #51): 16,383, so that drivers computing `BufferLength + 1` or
/// `BufferLength * 2` in a SQLSMALLINT do not overflow (psqlODBC's SQLDriverConnectW
/// fails with HY001 at 32,767). A longer output is cut by the driver; the application then
/// gets 01004 and the driver's full length.
const OUT_CONN_UNITS: usize = 16_383;

/// Writes the driver's output connection string into the application's buffer:
/// *StringLength2Ptr gets the full length in the application's units and 01004 is posted
/// when the application's buffer is too small (or the driver cut the string in the DM's
/// buffer: then the driver's own full length, `driver_len`, is reported when larger). The
/// output string goes back with passwords as the driver wrote them: it is the
/// application's own connection string.
fn write_out_conn(out: OutConn, result: &[u16], driver_len: i16, extra: &mut Vec<DiagRecord>) {
    let driver_cut = usize::try_from(driver_len).is_ok_and(|l| l >= OUT_CONN_UNITS);
    let trunc = match out {
        OutConn::Narrow { buf, max, len } => {
            // SAFETY: application buffer of `max` bytes (checked non-negative), valid until
            // the operation completes (§2.9).
            let (n, t) = unsafe { wide_to_app_narrow(result, buf.get(), max as usize) };
            let n = if driver_cut { n.max(driver_len as usize) } else { n };
            // SAFETY: optional application out pointer.
            unsafe { put_len(len.get(), n, i16::MAX) };
            t
        }
        OutConn::Wide { buf, max, len } => {
            let narrow = text::to_narrow(result);
            // SAFETY: application buffer of `max` characters.
            let (n, t) = unsafe { narrow_to_app_wide(&narrow, buf.get(), max as usize) };
            let n = if driver_cut { n.max(driver_len as usize) } else { n };
            // SAFETY: optional application out pointer.
            unsafe { put_len(len.get(), n, i16::MAX) };
            t
        }
    };
    if trunc || driver_cut {
        extra.push(DiagRecord::dm(SqlState::STRING_TRUNCATED, TRUNCATED));
    }
}

/// The captured driver call of SQLConnect (W or A by what the driver exports; through
/// SQLDriverConnectW with the DSN's attributes when it has no SQLConnect). `None`: the
/// driver has neither; `Some(Err)`: a string too long for a SQLSMALLINT length (HY090).
fn plain_connect(
    link: &DriverLink,
    resolved: &config::ResolvedDriver,
    dsn: &str,
    uid: Option<&str>,
    pwd: Option<&str>,
    app_wide: bool,
) -> Option<Result<Invoke, (SqlState, String)>> {
    let fns = &link.driver.fns;
    let h = link.hdbc;
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
            let f = fns.SQLDriverConnectW?;
            let mut w = text::to_wide(s.as_bytes());
            let n = match checks::len_i16(w.len(), "the connection string") {
                Ok(n) => n,
                Err(e) => return Some(Err(e)),
            };
            w.push(0);
            let mut out_len: Box<i16> = Box::new(0);
            return Some(Ok(Box::new(move |_: &mut Vec<DiagRecord>| {
                // SAFETY: live driver connection; NUL-terminated input owned by the closure;
                // no output buffer.
                unsafe {
                    f(
                        h as SqlHandle,
                        std::ptr::null_mut(),
                        w.as_ptr(),
                        n,
                        std::ptr::null_mut(),
                        0,
                        &mut *out_len,
                        DriverCompletion::SQL_DRIVER_NOPROMPT,
                    )
                }
            })));
        }
    };
    if use_wide {
        let f = fns.SQLConnectW?;
        let (d, u, p) = (InWideOwned::new(Some(dsn)), InWideOwned::new(uid), InWideOwned::new(pwd));
        let lens = (|| Ok::<_, (SqlState, String)>((d.len("ServerName")?, u.len("UserName")?, p.len("Authentication")?)))();
        let (dl, ul, pl) = match lens {
            Ok(l) => l,
            Err(e) => return Some(Err(e)),
        };
        // SAFETY: live driver connection; NUL-terminated inputs owned by the closure.
        Some(Ok(Box::new(move |_: &mut Vec<DiagRecord>| unsafe { f(h as SqlHandle, d.ptr(), dl, u.ptr(), ul, p.ptr(), pl) })))
    } else {
        let f = fns.SQLConnect?;
        let (d, u, p) = (InNarrowOwned::new(Some(dsn)), InNarrowOwned::new(uid), InNarrowOwned::new(pwd));
        let lens = (|| Ok::<_, (SqlState, String)>((d.len("ServerName")?, u.len("UserName")?, p.len("Authentication")?)))();
        let (dl, ul, pl) = match lens {
            Ok(l) => l,
            Err(e) => return Some(Err(e)),
        };
        // SAFETY: as above, narrow.
        Some(Ok(Box::new(move |_: &mut Vec<DiagRecord>| unsafe { f(h as SqlHandle, d.ptr(), dl, u.ptr(), ul, p.ptr(), pl) })))
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
    /// The length without the NUL, checked (HY090 over `i16::MAX`).
    fn len(&self, what: &str) -> Result<i16, (SqlState, String)> {
        checks::len_i16(self.0.as_ref().map_or(0, |v| v.len() - 1), what)
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
    /// The length without the NUL, checked (HY090 over `i16::MAX`).
    fn len(&self, what: &str) -> Result<i16, (SqlState, String)> {
        checks::len_i16(self.0.as_ref().map_or(0, |v| v.len() - 1), what)
    }
}

/// SQLDisconnect: 08003 when not connected, 25000 in a transaction (C6), HY010 while an
/// asynchronous function runs on the connection or one of its statements (§1.11, §4.3).
/// Frees the connection's statements, then the driver's connection and environment (when
/// the disconnect succeeded: at once, or when the asynchronous disconnect is collected).
pub unsafe extern "C" fn SQLDisconnect(dbc: SqlHDbc) -> SqlReturn {
    trace_enter!("SQLDisconnect", "{:p}", dbc);
    boundary("SQLDisconnect", || {
        let d = handle!(dbc, dbc);
        let started = connect_async::begin(&d, FunctionId::SQL_API_SQLDISCONNECT, |c| {
            match c.state {
                ConnState::C2 => return Err((SqlState::CONNECTION_NOT_OPEN, "Connection not open".into())),
                ConnState::C6 => {
                    return Err((SqlState::INVALID_TRANSACTION_STATE, "Invalid transaction state: a transaction is open".into()))
                }
                _ => {}
            }
            if c.statement_outstanding() {
                return Err((
                    SqlState::FUNCTION_SEQUENCE_ERROR,
                    "A statement of this connection is executing asynchronously or needs data (§1.11)".into(),
                ));
            }
            Ok(())
        });
        let (call, mode) = match started {
            Ok(Started::New(call, mode)) => (call, mode),
            Ok(Started::Repeat(call)) => return connect_async::repeat(&d, call),
            Err(rc) => return rc,
        };
        let Some(link) = call.core(|c| c.link.clone()) else {
            return call.fail(SqlState::CONNECTION_NOT_OPEN, "Connection not open");
        };
        let Some(f) = link.driver.fns.SQLDisconnect else {
            return call.fail(SqlState::DRIVER_LACKS_FUNCTION, "Driver does not support this function: SQLDisconnect");
        };
        let h = link.hdbc;
        // The optimistic-concurrency plans of this driver connection are stale (§5).
        super::concurrency::setpos::forget_plans(h);
        // The driver's SQLDisconnect frees its statements: fence out statement cancels
        // first (docs/decisions.md #29); undone if the disconnect fails.
        let stmts = fence_statements(&call);
        // SAFETY: live driver connection handle (freed only after the disconnect is collected).
        let invoke = move |_: &mut Vec<DiagRecord>| unsafe { f(h as SqlHandle) };
        let rc = connect_async::run(&d, call, FunctionId::SQL_API_SQLDISCONNECT, mode, invoke, DbcPost::Disconnect { link });
        if !rc.is_success() && rc != SqlReturn::SQL_STILL_EXECUTING {
            unfence_statements(&stmts);
        }
        rc
    })
}

/// Marks every statement of the connection FREEING (`Gated::fence_free`), waiting for a
/// cancel that is inside the driver for one of them: from here on a statement cancel is a
/// no-op, so none can reach a driver statement that SQLDisconnect frees.
pub(super) fn fence_statements(call: &Call<'_, DbcCore>) -> Vec<std::sync::Arc<crate::handles::Stmt>> {
    let ids = call.core(|c| c.statements.clone());
    let stmts: Vec<_> = ids.into_iter().filter_map(|id| crate::handles::tables().stmt.get(id)).collect();
    for s in &stmts {
        s.gate.fence_free();
    }
    stmts
}

/// Undoes [`fence_statements`] (the disconnect failed: the driver statements live on).
pub(super) fn unfence_statements(stmts: &[std::sync::Arc<crate::handles::Stmt>]) {
    for s in stmts {
        if !s.gate.read(|c| c.freed) {
            s.gate.unfence_free();
        }
    }
}

/// Frees a connection's driver handles (`henv`, `hdbc`) behind the connection's cancel
/// fence (docs/decisions.md #29): waits for an SQLCancelHandle(DBC) that is inside the
/// driver, makes the link unreachable to later ones (`forget` runs on the core), frees,
/// then lets cancels in again (they find no link: a no-op).
pub(super) fn release_fenced(
    call: &Call<'_, DbcCore>,
    d: &Dbc,
    driver: &Driver,
    henv: SqlHandle,
    hdbc: SqlHandle,
    forget: impl FnOnce(&mut DbcCore),
) {
    d.gate.fence_free();
    call.core(forget);
    release_driver_handles(driver, henv, hdbc);
    d.gate.unfence_free();
}

/// After a successful disconnect: the driver freed its statements and descriptors; the DM
/// forgets its own.
pub(super) fn forget_children(call: &Call<'_, DbcCore>) {
    let (stmts, descs) = call.core(|c| (std::mem::take(&mut c.statements), std::mem::take(&mut c.descriptors)));
    for sid in stmts {
        if let Some(s) = crate::handles::tables().stmt.remove(sid) {
            s.gate.write_unguarded(|c| c.freed = true);
            let implicit = s.gate.read(|c| c.implicit_descs());
            for dd in implicit.into_iter().flatten() {
                crate::handles::tables().desc.remove(dd);
            }
        }
    }
    for did in descs {
        crate::handles::tables().desc.remove(did);
    }
}
