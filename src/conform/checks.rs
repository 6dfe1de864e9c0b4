//! The checks: stable ids, the rule each tests, grouped for the child processes.
//!
//! A check returns `Ok((outcome, detail))`; `Err(detail)` is a failure of the driver in
//! the check's set-up (connect, allocate, execute), reported as `fail`.

use super::direct::{diag_rec, entry, DConn, Driver};
use super::odbc::{self, cstr, states, Conn, Guarded, H};
use super::{Outcome, Target};
use crate::raw::*;
use odbc_dm_abi::*;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

pub type Res = Result<(Outcome, String), String>;

/// What a check gets: the target and the driver loaded by the harness.
pub struct Ctx<'a> {
    pub t: &'a Target,
    pub d: &'a Driver,
}

impl Ctx<'_> {
    fn conn(&self) -> Result<Conn, String> {
        Conn::connect(&self.t.dm_conn_str())
    }
    fn dconn(&self) -> Result<DConn<'_>, String> {
        DConn::connect(self.d, &self.t.connect)
    }
    /// A table name unique to this child process.
    fn table(&self, base: &str) -> String {
        format!("{base}_{}", std::process::id())
    }
}

pub struct Check {
    pub id: &'static str,
    pub rule: &'static str,
    pub run: fn(&Ctx) -> Res,
    /// The check's own time limit in milliseconds (`--timeout` replaces it): past it the
    /// child process is killed and the check reported as `timeout`.
    pub timeout_ms: u64,
    /// The check needs no connection (it runs also when the server is down).
    pub offline_ok: bool,
}

pub struct Group {
    pub name: &'static str,
    pub checks: &'static [Check],
}

/// The time limit of a check whose definition states none: well above what any check
/// takes on a working driver (the slowest, the concurrency and notification checks,
/// take about 1 s on the servers here).
pub const DEFAULT_TIMEOUT_MS: u64 = 15_000;
/// Checks that run a long query (LongQuery, 15–30 s when nothing cancels it).
const CANCEL_TIMEOUT_MS: u64 = 25_000;
/// Checks that only call a few functions with bad handles.
const SHORT_TIMEOUT_MS: u64 = 5_000;

macro_rules! check {
    ($id:literal, $rule:literal, $f:ident) => {
        check!($id, $rule, $f, DEFAULT_TIMEOUT_MS)
    };
    ($id:literal, $rule:literal, $f:ident, $ms:expr) => {
        Check { id: $id, rule: $rule, run: $f, timeout_ms: $ms, offline_ok: false }
    };
    ($id:literal, $rule:literal, $f:ident, $ms:expr, offline) => {
        Check { id: $id, rule: $rule, run: $f, timeout_ms: $ms, offline_ok: true }
    };
}

/// Every check group, in run order.
pub static GROUPS: &[Group] = &[
    Group { name: "exports", checks: &[check!("exports.claims-exported", "§6.5, §6.6", exports_claims, DEFAULT_TIMEOUT_MS, offline)] },
    Group {
        name: "info",
        checks: &[check!("info.required", "MS SQLGetInfo (GI)", info_required), check!("info.async-answers", "§1.4, §2.6", info_async)],
    },
    Group {
        name: "handles",
        checks: &[
            check!("handles.lifecycle", "Appendix B §4.3, §4.5", handles_lifecycle),
            check!("handles.invalid-null", "MS Return Codes (SQL_INVALID_HANDLE)", handles_invalid_null, SHORT_TIMEOUT_MS, offline),
            check!("handles.invalid-freed", "MS Return Codes (SQL_INVALID_HANDLE)", handles_invalid_freed, SHORT_TIMEOUT_MS, offline),
            check!(
                "handles.invalid-wrong-kind",
                "MS Return Codes (SQL_INVALID_HANDLE)",
                handles_invalid_wrong_kind,
                SHORT_TIMEOUT_MS,
                offline
            ),
        ],
    },
    Group {
        name: "diag",
        checks: &[
            check!("diag.sqlstate-format", "MS SQLGetDiagRec", diag_format),
            check!("diag.honest-length", "MS SQLGetDiagRec", diag_length),
            check!("diag.readable-twice", "MS SQLGetDiagRec", diag_twice),
            check!("diag.truncation-01004", "MS SQLGetDiagRec", diag_trunc),
        ],
    },
    Group {
        name: "buffers",
        checks: &[
            check!("buffers.getinfo.a", "MS SQLGetInfo", buf_getinfo_a),
            check!("buffers.getinfo.w", "MS SQLGetInfo", buf_getinfo_w),
            check!("buffers.getconnectattr.a", "MS SQLGetConnectAttr", buf_connattr_a),
            check!("buffers.getconnectattr.w", "MS SQLGetConnectAttr", buf_connattr_w),
            check!("buffers.describecol.a", "MS SQLDescribeCol", buf_describe_a),
            check!("buffers.describecol.w", "MS SQLDescribeCol", buf_describe_w),
            check!("buffers.colattribute.a", "MS SQLColAttribute", buf_colattr_a),
            check!("buffers.colattribute.w", "MS SQLColAttribute", buf_colattr_w),
            check!("buffers.getdata.char", "MS SQLGetData", buf_getdata_char),
            check!("buffers.getdata.wchar", "MS SQLGetData", buf_getdata_wchar),
            check!("buffers.getdiagrec.a", "MS SQLGetDiagRec", buf_diag_a),
            check!("buffers.getdiagrec.w", "MS SQLGetDiagRec", buf_diag_w),
            check!("buffers.getdiagfield.a", "MS SQLGetDiagField", buf_diagfield_a),
            check!("buffers.getdiagfield.w", "MS SQLGetDiagField", buf_diagfield_w),
            check!("buffers.driverconnect.a", "MS SQLDriverConnect", buf_driverconnect_a),
            check!("buffers.driverconnect.w", "MS SQLDriverConnect", buf_driverconnect_w),
        ],
    },
    Group { name: "unicode", checks: &[check!("unicode.roundtrip", "MS Unicode drivers", unicode_roundtrip)] },
    Group {
        name: "state",
        checks: &[
            check!("state.fetch-without-cursor", "§4.5 (SQLFetch S4: 24000)", state_fetch_s4),
            check!("state.exec-with-open-cursor", "§4.5 (SQLExecDirect S5: 24000)", state_exec_s5),
            check!("state.getdata-before-fetch", "§4.5 (SQLGetData S5: 24000)", state_getdata_s5),
            check!("state.s12-cancel-async", "§4.5, §4.8, §3.3 (S11 → S12)", state_s12_cancel, CANCEL_TIMEOUT_MS),
            check!("state.s12-unaffected-functions", "§4.7 (S11–S12: unaffected functions)", state_s12_unaffected, CANCEL_TIMEOUT_MS),
        ],
    },
    Group {
        name: "desc",
        checks: &[
            check!("desc.stmt-attr-defaults", "MS SQLSetStmtAttr (SSA)", desc_stmt_defaults),
            check!("desc.ard-defaults", "MS SQLSetDescField", desc_ard_defaults),
        ],
    },
    Group {
        name: "cancel",
        checks: &[
            check!("cancel.cross-thread", "§3.1, §3.2", cancel_cross_thread, CANCEL_TIMEOUT_MS),
            check!("cancel.idle-keeps-cursor", "§3.3", cancel_idle),
            check!("cancel.handle-stmt", "§3.4, §3.2 (SQLCancelHandle STMT)", cancel_handle_stmt, CANCEL_TIMEOUT_MS),
            check!("cancel.handle-dbc", "§3.4 (SQLCancelHandle DBC)", cancel_handle_dbc, CANCEL_TIMEOUT_MS),
        ],
    },
    Group {
        name: "concurrency",
        checks: &[
            check!("concurrency.separate-connections", "§3.1", conc_separate),
            check!("concurrency.shared-connection", "§3.1", conc_shared),
            check!("concurrency.optimistic-01001", "§5.3, §5.5", conc_optimistic),
        ],
    },
    Group {
        name: "async",
        checks: &[
            check!("async.polling", "§1.6, §1.7", async_polling),
            check!("async.dbc-functions", "§1.1, §1.4, §1.5, §1.7", async_dbc_functions),
        ],
    },
    Group {
        name: "notify",
        checks: &[
            check!("notify.one-callback-per-still-executing", "§2.7", notify_one_per_still),
            check!("notify.thread-and-timing", "§2.8", notify_thread),
            check!("notify.context", "§2.7, §2.10", notify_context),
            check!("notify.flast", "§2.10", notify_flast),
            check!("notify.concurrent", "§2.10", notify_concurrent),
            check!("notify.dbc", "§2.3, §2.4, §2.7, §2.8, §2.10 (connection)", notify_dbc),
        ],
    },
];

/// Every check id with its rule, in run order.
pub fn all_checks() -> impl Iterator<Item = (&'static str, &'static Check)> {
    GROUPS.iter().flat_map(|g| g.checks.iter().map(move |c| (g.name, c)))
}

fn pass() -> Res {
    Ok((Outcome::Pass, String::new()))
}
fn fail(d: impl Into<String>) -> Res {
    Ok((Outcome::Fail, d.into()))
}
fn unsupported(d: impl Into<String>) -> Res {
    Ok((Outcome::Unsupported, d.into()))
}
fn skip(d: impl Into<String>) -> Res {
    Ok((Outcome::Skip, d.into()))
}
/// Pass, or fail with the first problems (one line; the count of the rest).
fn verdict(problems: Vec<String>) -> Res {
    const SHOWN: usize = 4;
    if problems.is_empty() {
        pass()
    } else if problems.len() <= SHOWN {
        fail(problems.join("; "))
    } else {
        fail(format!("{}; and {} more", problems[..SHOWN].join("; "), problems.len() - SHOWN))
    }
}

// ------------------------------------------------------------------ exports

/// Function ids and the entry points that implement them (any of the names).
const FUNCTION_NAMES: &[(u16, &[&str])] = &[
    (1, &["SQLAllocConnect", "SQLAllocHandle"]),
    (2, &["SQLAllocEnv", "SQLAllocHandle"]),
    (3, &["SQLAllocStmt", "SQLAllocHandle"]),
    (4, &["SQLBindCol"]),
    (5, &["SQLCancel"]),
    (6, &["SQLColAttribute", "SQLColAttributeW", "SQLColAttributes", "SQLColAttributesW"]),
    (7, &["SQLConnect", "SQLConnectW"]),
    (8, &["SQLDescribeCol", "SQLDescribeColW"]),
    (9, &["SQLDisconnect"]),
    (10, &["SQLError", "SQLErrorW", "SQLGetDiagRec", "SQLGetDiagRecW"]),
    (11, &["SQLExecDirect", "SQLExecDirectW"]),
    (12, &["SQLExecute"]),
    (13, &["SQLFetch"]),
    (14, &["SQLFreeConnect", "SQLFreeHandle"]),
    (15, &["SQLFreeEnv", "SQLFreeHandle"]),
    (16, &["SQLFreeStmt"]),
    (17, &["SQLGetCursorName", "SQLGetCursorNameW"]),
    (18, &["SQLNumResultCols"]),
    (19, &["SQLPrepare", "SQLPrepareW"]),
    (20, &["SQLRowCount"]),
    (21, &["SQLSetCursorName", "SQLSetCursorNameW"]),
    (22, &["SQLSetParam", "SQLBindParameter"]),
    (23, &["SQLTransact", "SQLEndTran"]),
    (24, &["SQLBulkOperations"]),
    (40, &["SQLColumns", "SQLColumnsW"]),
    (41, &["SQLDriverConnect", "SQLDriverConnectW"]),
    (42, &["SQLGetConnectOption", "SQLGetConnectOptionW", "SQLGetConnectAttr", "SQLGetConnectAttrW"]),
    (43, &["SQLGetData"]),
    (45, &["SQLGetInfo", "SQLGetInfoW"]),
    (46, &["SQLGetStmtOption", "SQLGetStmtAttr", "SQLGetStmtAttrW"]),
    (47, &["SQLGetTypeInfo", "SQLGetTypeInfoW"]),
    (48, &["SQLParamData"]),
    (49, &["SQLPutData"]),
    (50, &["SQLSetConnectOption", "SQLSetConnectOptionW", "SQLSetConnectAttr", "SQLSetConnectAttrW"]),
    (51, &["SQLSetStmtOption", "SQLSetStmtAttr", "SQLSetStmtAttrW"]),
    (52, &["SQLSpecialColumns", "SQLSpecialColumnsW"]),
    (53, &["SQLStatistics", "SQLStatisticsW"]),
    (54, &["SQLTables", "SQLTablesW"]),
    (55, &["SQLBrowseConnect", "SQLBrowseConnectW"]),
    (56, &["SQLColumnPrivileges", "SQLColumnPrivilegesW"]),
    (58, &["SQLDescribeParam"]),
    (59, &["SQLExtendedFetch"]),
    (60, &["SQLForeignKeys", "SQLForeignKeysW"]),
    (61, &["SQLMoreResults"]),
    (62, &["SQLNativeSql", "SQLNativeSqlW"]),
    (63, &["SQLNumParams"]),
    (64, &["SQLParamOptions"]),
    (65, &["SQLPrimaryKeys", "SQLPrimaryKeysW"]),
    (66, &["SQLProcedureColumns", "SQLProcedureColumnsW"]),
    (67, &["SQLProcedures", "SQLProceduresW"]),
    (68, &["SQLSetPos"]),
    (69, &["SQLSetScrollOptions"]),
    (70, &["SQLTablePrivileges", "SQLTablePrivilegesW"]),
    (72, &["SQLBindParameter"]),
    (1001, &["SQLAllocHandle"]),
    (1002, &["SQLBindParam", "SQLBindParameter"]),
    (1003, &["SQLCloseCursor"]),
    (1004, &["SQLCopyDesc"]),
    (1005, &["SQLEndTran"]),
    (1006, &["SQLFreeHandle"]),
    (1007, &["SQLGetConnectAttr", "SQLGetConnectAttrW"]),
    (1008, &["SQLGetDescField", "SQLGetDescFieldW"]),
    (1009, &["SQLGetDescRec", "SQLGetDescRecW"]),
    (1010, &["SQLGetDiagField", "SQLGetDiagFieldW"]),
    (1011, &["SQLGetDiagRec", "SQLGetDiagRecW"]),
    (1012, &["SQLGetEnvAttr"]),
    (1014, &["SQLGetStmtAttr", "SQLGetStmtAttrW"]),
    (1016, &["SQLSetConnectAttr", "SQLSetConnectAttrW"]),
    (1017, &["SQLSetDescField", "SQLSetDescFieldW"]),
    (1018, &["SQLSetDescRec"]),
    (1019, &["SQLSetEnvAttr"]),
    (1020, &["SQLSetStmtAttr", "SQLSetStmtAttrW"]),
    (1021, &["SQLFetchScroll"]),
    (1022, &["SQLCancelHandle"]),
    (1550, &["SQLCancelHandle"]),
];

fn exports_claims(c: &Ctx) -> Res {
    let Some(gf) = entry!(c.d, SQLGetFunctions) else {
        return unsupported("the driver exports no SQLGetFunctions (the DM answers from the exports)");
    };
    let mut map = [0u16; 250];
    // Connected when it can; without a connection (server down) many drivers still answer
    // SQLGetFunctions from a static table on an unconnected connection handle.
    let rc = if c.t.offline.is_none() {
        let dc = c.dconn()?;
        // SAFETY: live dbc; 250-word array as SQL_API_ODBC3_ALL_FUNCTIONS requires.
        unsafe { gf(dc.dbc, FunctionId::SQL_API_ODBC3_ALL_FUNCTIONS, map.as_mut_ptr()) }
    } else {
        let (env, dbc) = driver_env_dbc(c)?;
        // SAFETY: the driver's own unconnected dbc; 250-word array.
        let rc = unsafe { gf(dbc, FunctionId::SQL_API_ODBC3_ALL_FUNCTIONS, map.as_mut_ptr()) };
        free_env_dbc(c, env, dbc);
        if !rc.is_success() {
            return skip(format!(
                "no connection ({}) and SQLGetFunctions on an unconnected connection returned {rc:?}",
                c.t.offline.as_deref().unwrap_or_default()
            ));
        }
        rc
    };
    if !rc.is_success() {
        return fail(format!("driver SQLGetFunctions(SQL_API_ODBC3_ALL_FUNCTIONS) returned {rc:?}"));
    }
    let claimed = |id: u16| map[(id >> 4) as usize] & (1 << (id & 15)) != 0;
    let mut lies = Vec::new();
    for (id, names) in FUNCTION_NAMES {
        if claimed(*id) && !names.iter().any(|n| c.d.has(n)) {
            lies.push(format!("{} ({id})", names[0]));
        }
    }
    if lies.is_empty() {
        pass()
    } else {
        fail(format!("SQLGetFunctions(SQL_API_ODBC3_ALL_FUNCTIONS) claims functions the library does not export: {}", lies.join(", ")))
    }
}

// ------------------------------------------------------------------ info

/// The driver's own SQLGetInfo(W) answer for a string info type, with its reported length.
fn direct_info_str(c: &Ctx, dc: &DConn, info: InfoType) -> Option<(SqlReturn, String, i16)> {
    let mut len = -7i16;
    if let Some(f) = entry!(c.d, SQLGetInfoW) {
        let mut buf = [0u16; 256];
        // SAFETY: live dbc; buffer of the byte length passed.
        let rc = unsafe { f(dc.dbc, info, buf.as_mut_ptr().cast(), 512, &mut len) };
        let end = buf.iter().position(|&u| u == 0).unwrap_or(256);
        Some((rc, String::from_utf16_lossy(&buf[..end]), len))
    } else {
        let f = entry!(c.d, SQLGetInfo)?;
        let mut buf = [0u8; 512];
        // SAFETY: as above.
        let rc = unsafe { f(dc.dbc, info, buf.as_mut_ptr().cast(), 512, &mut len) };
        Some((rc, cstr(&buf), len))
    }
}

fn direct_info_u32(c: &Ctx, dc: &DConn, info: InfoType) -> Option<(SqlReturn, u32)> {
    let f = entry!(c.d, SQLGetInfoW).or(entry!(c.d, SQLGetInfo))?;
    let mut v = 0u32;
    let mut len = 0i16;
    // SAFETY: live dbc; 4-byte buffer.
    let rc = unsafe { f(dc.dbc, info, (&mut v as *mut u32).cast(), 4, &mut len) };
    Some((rc, v))
}

fn info_required(c: &Ctx) -> Res {
    let dc = c.dconn()?;
    let wide = c.d.has("SQLGetInfoW");
    let mut problems = Vec::new();
    for (info, name) in [
        (InfoType::SQL_DRIVER_NAME, "SQL_DRIVER_NAME"),
        (InfoType::SQL_DRIVER_VER, "SQL_DRIVER_VER"),
        (InfoType::SQL_DRIVER_ODBC_VER, "SQL_DRIVER_ODBC_VER"),
        (InfoType::SQL_DBMS_NAME, "SQL_DBMS_NAME"),
    ] {
        let Some((rc, s, len)) = direct_info_str(c, &dc, info) else {
            return fail("the driver exports neither SQLGetInfo nor SQLGetInfoW");
        };
        if !rc.is_success() {
            problems.push(format!("SQLGetInfo{}({name}) returned {rc:?}", if wide { "W" } else { "" }));
            continue;
        }
        let honest = if wide { s.encode_utf16().count() * 2 } else { s.len() };
        if len as usize != honest {
            problems.push(format!("SQLGetInfo{}({name}) = {s:?}: length {len}, the text has {honest} bytes", if wide { "W" } else { "" }));
        }
        if info == InfoType::SQL_DRIVER_ODBC_VER {
            let ok = s.len() == 5 && s.as_bytes()[2] == b'.' && s.bytes().enumerate().all(|(i, b)| i == 2 || b.is_ascii_digit());
            if !ok {
                problems.push(format!("SQL_DRIVER_ODBC_VER {s:?} is not ##.##"));
            }
        }
    }
    verdict(problems)
}

fn info_async(c: &Ctx) -> Res {
    let dc = c.dconn()?;
    let ver = direct_info_str(c, &dc, InfoType::SQL_DRIVER_ODBC_VER).map(|x| x.1).unwrap_or_default();
    let v38 = ver.as_str() >= "03.80";
    let mut problems = Vec::new();
    for (info, name, max) in [
        (InfoType::SQL_ASYNC_MODE, "SQL_ASYNC_MODE", 2u32),
        (InfoType::SQL_ASYNC_DBC_FUNCTIONS, "SQL_ASYNC_DBC_FUNCTIONS", 1),
        (InfoType::SQL_ASYNC_NOTIFICATION, "SQL_ASYNC_NOTIFICATION", 1),
    ] {
        let Some((rc, v)) = direct_info_u32(c, &dc, info) else { return fail("no SQLGetInfo") };
        if !rc.is_success() {
            if v38 || info == InfoType::SQL_ASYNC_MODE {
                problems.push(format!("SQLGetInfo({name}) returned {rc:?} (driver ODBC version {ver})"));
            }
        } else if v > max {
            problems.push(format!("SQLGetInfo({name}) = {v}, not a defined value"));
        }
    }
    verdict(problems)
}

// ------------------------------------------------------------------ handles

fn handles_lifecycle(c: &Ctx) -> Res {
    let conn = c.conn()?;
    let mut stmts = Vec::new();
    for _ in 0..32 {
        stmts.push(conn.stmt()?);
    }
    for s in &stmts {
        let rc = odbc::exec_rc(*s, "SELECT 1");
        if !rc.is_success() {
            return fail(format!("SQLExecDirect(SELECT 1) on one of 32 statements returned {rc:?} {}", odbc::stmt_diag(*s)));
        }
    }
    for s in stmts.drain(..).rev() {
        // SAFETY: live statement, freed once.
        let rc = unsafe { SQLFreeHandle(HandleType::SQL_HANDLE_STMT, s) };
        if !rc.is_success() {
            return fail(format!("SQLFreeHandle(STMT) with an open cursor returned {rc:?}"));
        }
    }
    // Disconnect and connect again on the same connection handle.
    // SAFETY: live dbc.
    let rc = unsafe { SQLDisconnect(conn.dbc) };
    if !rc.is_success() {
        return fail(format!("SQLDisconnect returned {rc:?} {}", odbc::diag_text(HandleType::SQL_HANDLE_DBC, conn.dbc)));
    }
    let cs = c.t.dm_conn_str();
    // SAFETY: live, disconnected dbc; the string outlives the call.
    let rc = unsafe {
        SQLDriverConnect(
            conn.dbc,
            null_mut(),
            cs.as_ptr(),
            cs.len() as i16,
            null_mut(),
            0,
            null_mut(),
            DriverCompletion::SQL_DRIVER_NOPROMPT,
        )
    };
    if !rc.is_success() {
        return fail(format!(
            "SQLDriverConnect again after SQLDisconnect returned {rc:?} {}",
            odbc::diag_text(HandleType::SQL_HANDLE_DBC, conn.dbc)
        ));
    }
    conn.exec("SELECT 1").map(|_| (Outcome::Pass, String::new()))
}

// ------------------------------------------------------------------ diagnostics

/// A statement of a direct connection with a failed SQLExecDirect on it.
fn provoke_error(c: &Ctx, dc: &DConn) -> Result<SqlHandle, String> {
    let s = dc.stmt()?;
    let rc = dc.exec(s, "SELECT * FROM odbc_dm_conform_no_such_table");
    if rc != SqlReturn::SQL_ERROR {
        return Err(format!("SQLExecDirect on a missing table returned {rc:?}, expected SQL_ERROR"));
    }
    let _ = c;
    Ok(s)
}

/// `unsupported` when the driver exports neither SQLGetDiagRec nor SQLGetDiagRecW.
fn no_diag_rec(c: &Ctx) -> Option<Res> {
    (!c.d.has("SQLGetDiagRec") && !c.d.has("SQLGetDiagRecW"))
        .then(|| unsupported("the driver exports neither SQLGetDiagRec nor SQLGetDiagRecW"))
}

fn diag_format(c: &Ctx) -> Res {
    if let Some(r) = no_diag_rec(c) {
        return r;
    }
    let dc = c.dconn()?;
    let s = provoke_error(c, &dc)?;
    let Some(r) = dc.diag(HandleType::SQL_HANDLE_STMT, s, 1) else {
        return fail("SQLExecDirect returned SQL_ERROR but SQLGetDiagRec(1) found no record");
    };
    let ok = r.state.len() == 5 && r.state.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
    dc.free_stmt(s);
    if ok {
        pass()
    } else {
        fail(format!("SQLGetDiagRec(1) SQLSTATE {:?} is not 5 characters [0-9A-Z]", r.state))
    }
}

fn diag_length(c: &Ctx) -> Res {
    if let Some(r) = no_diag_rec(c) {
        return r;
    }
    let dc = c.dconn()?;
    let s = provoke_error(c, &dc)?;
    let r = dc.diag(HandleType::SQL_HANDLE_STMT, s, 1).ok_or("no diagnostic record")?;
    dc.free_stmt(s);
    let wide = c.d.has("SQLGetDiagRecW");
    let real = if wide { r.text.encode_utf16().count() } else { r.text.len() };
    if r.len as usize == real {
        pass()
    } else {
        fail(format!(
            "SQLGetDiagRec{}(1): TextLength {} but the message has {real} {}",
            if wide { "W" } else { "" },
            r.len,
            if wide { "characters" } else { "bytes" }
        ))
    }
}

fn diag_twice(c: &Ctx) -> Res {
    if let Some(r) = no_diag_rec(c) {
        return r;
    }
    let dc = c.dconn()?;
    let s = provoke_error(c, &dc)?;
    let a = dc.diag(HandleType::SQL_HANDLE_STMT, s, 1).ok_or("no diagnostic record")?;
    let b = dc.diag(HandleType::SQL_HANDLE_STMT, s, 1);
    dc.free_stmt(s);
    match b {
        Some(b) if b.state == a.state && b.text == a.text => pass(),
        Some(b) => fail(format!("SQLGetDiagRec(1) read twice differs: [{}] then [{}]", a.state, b.state)),
        None => fail(format!("SQLGetDiagRec(1) read a second time returned no record (first read: [{}] {})", a.state, a.text)),
    }
}

fn diag_trunc(c: &Ctx) -> Res {
    if let Some(r) = no_diag_rec(c) {
        return r;
    }
    diag_trunc_width(c, c.d.has("SQLGetDiagRecW"))
}

fn buf_diag_a(c: &Ctx) -> Res {
    wants(c, "SQLGetDiagRec").unwrap_or_else(|| diag_trunc_width(c, false))
}

fn buf_diag_w(c: &Ctx) -> Res {
    wants(c, "SQLGetDiagRecW").unwrap_or_else(|| diag_trunc_width(c, true))
}

/// One call of the driver's SQLGetDiagRec(W) for record 1 of `s` with `cap` units of text
/// buffer, both buffers guarded: (rc, TextLength, text buffer, SQLSTATE buffer).
fn diag_call(c: &Ctx, wide: bool, s: SqlHandle, cap: usize) -> Option<(SqlReturn, i16, Guarded, Guarded)> {
    let unit = if wide { 2 } else { 1 };
    let mut g = Guarded::new(cap * unit);
    let mut st = Guarded::new(6 * unit);
    let mut native = 0;
    let mut len = -7i16;
    let rc = if wide {
        let f = entry!(c.d, SQLGetDiagRecW)?;
        // SAFETY: buffers of the sizes passed (cap units, 6 units for the SQLSTATE).
        unsafe { f(HandleType::SQL_HANDLE_STMT, s, 1, st.ptr().cast(), &mut native, g.ptr().cast(), cap as i16, &mut len) }
    } else {
        let f = entry!(c.d, SQLGetDiagRec)?;
        // SAFETY: as above.
        unsafe { f(HandleType::SQL_HANDLE_STMT, s, 1, st.ptr(), &mut native, g.ptr(), cap as i16, &mut len) }
    };
    Some((rc, len, g, st))
}

fn diag_trunc_width(c: &Ctx, wide: bool) -> Res {
    let dc = c.dconn()?;
    let fname = if wide { "SQLGetDiagRecW" } else { "SQLGetDiagRec" };
    // The full message, from an error of its own (some drivers hand a record out once).
    let s = provoke_error(c, &dc)?;
    let Some((rc, _, big, _)) = diag_call(c, wide, s, 1024) else { return unsupported(format!("no {fname}")) };
    dc.free_stmt(s);
    if rc != SqlReturn::SQL_SUCCESS {
        return fail(format!("{fname}(1) with a 1024-unit buffer returned {rc:?}"));
    }
    let full_units =
        if wide { big.units().iter().take_while(|&&u| u != 0).count() } else { big.bytes().iter().take_while(|&&b| b != 0).count() };
    let mut problems = Vec::new();
    for cap in [0usize, 1, 7, 8] {
        if cap > full_units {
            continue;
        }
        // A fresh error for each read, so a driver that hands a record out only once
        // (diag.readable-twice) does not confuse this check.
        let s = provoke_error(c, &dc)?;
        let (rc, len, g, st) = diag_call(c, wide, s, cap).ok_or("entry point vanished")?;
        dc.free_stmt(s);
        let name = format!("{fname}(BufferLength={cap})");
        if let Err(e) = g.check().and(st.check()) {
            problems.push(format!("{name}: {e}"));
        }
        // BufferLength 0 is a length query: nothing may be written and the length must
        // be the full one, but SQL_SUCCESS is tolerated (as in the buffer checks).
        if cap > 0 && rc != SqlReturn::SQL_SUCCESS_WITH_INFO {
            problems.push(format!("{name} on a {full_units}-unit message returned {rc:?}, expected SQL_SUCCESS_WITH_INFO"));
        }
        if len as usize != full_units {
            problems.push(format!("{name}: TextLength {len}, expected the full {full_units}"));
        }
        if cap > 0 && rc.is_success() {
            let terminated = if wide { g.units().contains(&0) } else { g.bytes().contains(&0) };
            if !terminated {
                problems.push(format!("{name}: no terminating NUL"));
            }
        }
    }
    verdict(problems)
}

// ------------------------------------------------------------------ output buffers

/// One call of a text-returning function with a buffer: the return code, the length it
/// reported, and the SQLSTATEs posted.
struct Out {
    rc: SqlReturn,
    len: isize,
    states: Vec<String>,
}

/// Probes a text output with guard bytes.
/// `unit`: 1 (narrow) or 2 (UTF-16); `chars`: BufferLength and the length are counted
/// in characters (else bytes); `sizes`: buffer sizes in bytes; `call(buf, BufferLength)`.
fn probe_text(
    name: &str,
    unit: usize,
    chars: bool,
    piecewise: bool,
    sizes: &[usize],
    mut call: impl FnMut(&mut Guarded, isize) -> Out,
) -> Result<Vec<String>, Res> {
    let mut big = Guarded::new(1024);
    let o = call(&mut big, if chars { (1024 / unit) as isize } else { 1024 });
    if o.rc != SqlReturn::SQL_SUCCESS {
        let what = format!("{name} with a 1024-byte buffer returned {:?} {:?}", o.rc, o.states);
        // 07006 (restricted conversion) / HYC00: the driver honestly lacks it.
        if o.states.iter().any(|s| s == "07006" || s == "HYC00") {
            return Err(unsupported(what));
        }
        return Err(fail(what));
    }
    let full: Vec<u8> = if unit == 1 {
        big.bytes().iter().take_while(|&&b| b != 0).copied().collect()
    } else {
        big.units().into_iter().take_while(|&u| u != 0).flat_map(|u| u.to_ne_bytes()).collect()
    };
    let full_len = if chars { full.len() / unit } else { full.len() } as isize;
    let mut problems = Vec::new();
    if o.len != full_len {
        problems.push(format!("{name}: length {} but {full_len} returned", o.len));
    }
    for &size in sizes {
        let mut g = Guarded::new(size);
        let blen = if chars { (size / unit) as isize } else { size as isize };
        let o = call(&mut g, blen);
        let what = format!("{name}(BufferLength={blen})");
        if let Err(e) = g.check() {
            problems.push(format!("{what}: {e}"));
            continue;
        }
        if !o.rc.is_success() {
            // An odd byte count for UTF-16 text may be refused (HY090, MS SQLGetInfo:
            // "BufferLength must be an even number").
            if unit == 2 && !chars && size % 2 == 1 && o.rc == SqlReturn::SQL_ERROR && o.states.iter().any(|s| s == "HY090") {
                continue;
            }
            problems.push(format!("{what} returned {:?} {:?}", o.rc, o.states));
            continue;
        }
        if o.len != full_len {
            problems.push(format!("{what}: length {} instead of the full {full_len}", o.len));
        }
        let truncated = full.len() + unit > size;
        if size >= unit {
            let b = g.bytes();
            let nul = if unit == 1 { b.iter().position(|&x| x == 0) } else { g.units().iter().position(|&u| u == 0).map(|p| p * 2) };
            match nul {
                None => problems.push(format!("{what}: no terminating NUL in the buffer ({:02x?})", &b[..b.len().min(8)])),
                Some(p) => {
                    if !full.starts_with(&b[..p]) {
                        problems.push(format!("{what}: content is not a prefix of the value"));
                    } else if unit == 1 && !piecewise && std::str::from_utf8(&b[..p]).is_err() {
                        problems.push(format!("{what}: truncation split a UTF-8 character ({:02x?})", &b[..p]));
                    }
                }
            }
            if truncated && (o.rc != SqlReturn::SQL_SUCCESS_WITH_INFO || !o.states.iter().any(|s| s == "01004")) {
                problems.push(format!("{what} truncated the {}-byte value without 01004 (returned {:?} {:?})", full.len(), o.rc, o.states));
            }
        }
    }
    Ok(problems)
}

fn wants(c: &Ctx, name: &str) -> Option<Res> {
    (!c.d.has(name)).then(|| skip(format!("the driver does not export {name} (the DM would convert; not a driver check)")))
}

fn getinfo_probe(c: &Ctx, wide: bool) -> Res {
    let conn = c.conn()?;
    let dbc = conn.dbc;
    let name = if wide { "SQLGetInfoW(SQL_DRIVER_NAME)" } else { "SQLGetInfo(SQL_DRIVER_NAME)" };
    let unit = if wide { 2 } else { 1 };
    let sizes: &[usize] = if wide { &[0, 1, 2, 3, 5, 6, 9] } else { &[0, 1, 2, 5, 6] };
    let p = probe_text(name, unit, false, false, sizes, |g, blen| {
        let mut len = -7i16;
        // SAFETY: live dbc; guarded buffer of `blen` bytes.
        let rc = unsafe {
            if wide {
                SQLGetInfoW(dbc, InfoType::SQL_DRIVER_NAME, g.ptr().cast(), blen as i16, &mut len)
            } else {
                SQLGetInfo(dbc, InfoType::SQL_DRIVER_NAME, g.ptr().cast(), blen as i16, &mut len)
            }
        };
        Out { rc, len: len as isize, states: states(HandleType::SQL_HANDLE_DBC, dbc) }
    });
    match p {
        Ok(p) => verdict(p),
        Err(r) => r,
    }
}

fn buf_getinfo_a(c: &Ctx) -> Res {
    wants(c, "SQLGetInfo").unwrap_or_else(|| getinfo_probe(c, false))
}
fn buf_getinfo_w(c: &Ctx) -> Res {
    wants(c, "SQLGetInfoW").unwrap_or_else(|| getinfo_probe(c, true))
}

fn connattr_probe(c: &Ctx, wide: bool) -> Res {
    let conn = c.conn()?;
    let dbc = conn.dbc;
    let name = if wide { "SQLGetConnectAttrW(SQL_ATTR_CURRENT_CATALOG)" } else { "SQLGetConnectAttr(SQL_ATTR_CURRENT_CATALOG)" };
    let call = |g: &mut Guarded, blen: isize| {
        let mut len = -7i32;
        // SAFETY: live dbc; guarded buffer of `blen` bytes.
        let rc = unsafe {
            if wide {
                SQLGetConnectAttrW(dbc, ConnAttr::SQL_ATTR_CURRENT_CATALOG, g.ptr().cast(), blen as i32, &mut len)
            } else {
                SQLGetConnectAttr(dbc, ConnAttr::SQL_ATTR_CURRENT_CATALOG, g.ptr().cast(), blen as i32, &mut len)
            }
        };
        Out { rc, len: len as isize, states: states(HandleType::SQL_HANDLE_DBC, dbc) }
    };
    // A driver without catalogs answers an error or SQL_NO_DATA: unsupported.
    let mut probe = Guarded::new(1024);
    let o = call(&mut probe, 1024);
    if !o.rc.is_success() {
        return unsupported(format!("{name} returned {:?} {:?}", o.rc, o.states));
    }
    let unit = if wide { 2 } else { 1 };
    let sizes: &[usize] = if wide { &[0, 1, 2, 3, 5] } else { &[0, 1, 2, 3] };
    probe_text(name, unit, false, false, sizes, call).map_or_else(|r| r, verdict)
}

fn buf_connattr_a(c: &Ctx) -> Res {
    wants(c, "SQLGetConnectAttr").unwrap_or_else(|| connattr_probe(c, false))
}
fn buf_connattr_w(c: &Ctx) -> Res {
    wants(c, "SQLGetConnectAttrW").unwrap_or_else(|| connattr_probe(c, true))
}

/// A non-ASCII column name: é (2 UTF-8 bytes), 中 (3), 𝄞 (4, a surrogate pair), x.
const NON_ASCII_NAME: &str = "é中𝄞x";
/// The same without the supplementary character, for DBMSs that refuse it in identifiers.
const NON_ASCII_NAME_BMP: &str = "é中ñx";

fn describe_probe(c: &Ctx, wide: bool) -> Res {
    let conn = c.conn()?;
    let s = conn.stmt()?;
    // MariaDB identifiers cannot hold characters outside the BMP.
    let col = if c.t.dialect == super::Dialect::Mysql { NON_ASCII_NAME_BMP } else { NON_ASCII_NAME };
    let sql = format!("SELECT 1 AS {}", c.t.dialect.quote(col));
    let w: Vec<u16> = sql.encode_utf16().collect();
    // SAFETY: live statement; the text outlives the call.
    let rc = unsafe { SQLExecDirectW(s, w.as_ptr(), w.len() as i32) };
    if !rc.is_success() {
        let d = odbc::stmt_diag(s);
        odbc::free_stmt(s);
        return Err(format!("{sql}: {rc:?} {d}"));
    }
    let name = if wide { "SQLDescribeColW" } else { "SQLDescribeCol" };
    let sizes: &[usize] = if wide { &[0, 2, 4, 6, 8, 10] } else { &[0, 1, 2, 3, 4, 5, 6, 9, 10] };
    let p = probe_text(name, if wide { 2 } else { 1 }, wide, false, sizes, |g, blen| {
        let (mut len, mut ty, mut size, mut digits, mut nullable) = (-7i16, SqlDataType(0), 0usize, 0i16, Nullability(0));
        // SAFETY: live statement; guarded buffer of `blen` units.
        let rc = unsafe {
            if wide {
                SQLDescribeColW(s, 1, g.ptr().cast(), blen as i16, &mut len, &mut ty, &mut size, &mut digits, &mut nullable)
            } else {
                SQLDescribeCol(s, 1, g.ptr(), blen as i16, &mut len, &mut ty, &mut size, &mut digits, &mut nullable)
            }
        };
        Out { rc, len: len as isize, states: states(HandleType::SQL_HANDLE_STMT, s) }
    });
    odbc::free_stmt(s);
    p.map_or_else(|r| r, verdict)
}

fn buf_describe_a(c: &Ctx) -> Res {
    wants(c, "SQLDescribeCol").unwrap_or_else(|| describe_probe(c, false))
}
fn buf_describe_w(c: &Ctx) -> Res {
    wants(c, "SQLDescribeColW").unwrap_or_else(|| describe_probe(c, true))
}

/// A text value with non-ASCII characters for SQLGetData.
const VALUE: &str = "héllo wörld 中𝄞";

fn getdata_probe(c: &Ctx, wide: bool) -> Res {
    let conn = c.conn()?;
    // The driver, not the DM's SQL_C_WCHAR conversion for ANSI-only drivers (decision #90).
    conn.wchar_conversion(false)?;
    let s = conn.stmt()?;
    let sql = format!("SELECT '{VALUE}'");
    let w: Vec<u16> = sql.encode_utf16().collect();
    let ctype = if wide { CDataType::SQL_C_WCHAR } else { CDataType::SQL_C_CHAR };
    let name = if wide { "SQLGetData(SQL_C_WCHAR)" } else { "SQLGetData(SQL_C_CHAR)" };
    let sizes: &[usize] = if wide { &[0, 1, 3, 5, 7, 8] } else { &[0, 1, 2, 3, 4, 7] };
    let p = probe_text(name, if wide { 2 } else { 1 }, false, true, sizes, |g, blen| {
        // A fresh execution for each buffer: SQLGetData hands out a value once.
        // SAFETY: live statement; the text outlives the call.
        unsafe {
            SQLFreeStmt(s, FreeStmtOption::SQL_CLOSE);
            let rc = SQLExecDirectW(s, w.as_ptr(), w.len() as i32);
            if !rc.is_success() {
                return Out { rc, len: -7, states: states(HandleType::SQL_HANDLE_STMT, s) };
            }
            let rc = SQLFetch(s);
            if !rc.is_success() {
                return Out { rc, len: -7, states: states(HandleType::SQL_HANDLE_STMT, s) };
            }
        }
        let mut ind: SqlLen = -7;
        // SAFETY: live statement positioned on a row; guarded buffer of `blen` bytes.
        let rc = unsafe { SQLGetData(s, 1, ctype, g.ptr().cast(), blen, &mut ind) };
        Out { rc, len: ind, states: states(HandleType::SQL_HANDLE_STMT, s) }
    });
    odbc::free_stmt(s);
    p.map_or_else(|r| r, verdict)
}

fn buf_getdata_char(c: &Ctx) -> Res {
    getdata_probe(c, false)
}
fn buf_getdata_wchar(c: &Ctx) -> Res {
    // A driver without the Unicode API would get SQL_C_WCHAR converted by the DM (decision
    // #77); getdata_probe turns that off for its connection (SQL_ATTR_DM_WCHAR_CONVERSION,
    // decision #90) so the driver itself is tested.
    getdata_probe(c, true)
}

// ------------------------------------------------------------------ unicode

fn unicode_roundtrip(c: &Ctx) -> Res {
    let conn = c.conn()?;
    let t = c.table("conform_uni");
    conn.exec_quiet(&format!("DROP TABLE {t}"));
    conn.exec(&format!("CREATE TABLE {t} (id INTEGER, v VARCHAR(64))"))?;
    let s = conn.stmt()?;
    let sql: Vec<u16> = format!("INSERT INTO {t} VALUES (1, '{VALUE}')").encode_utf16().collect();
    // SAFETY: live statement; the text outlives the call.
    let rc = unsafe { SQLExecDirectW(s, sql.as_ptr(), sql.len() as i32) };
    if !rc.is_success() {
        let d = odbc::stmt_diag(s);
        odbc::free_stmt(s);
        conn.exec_quiet(&format!("DROP TABLE {t}"));
        return Err(format!("INSERT through SQLExecDirectW: {rc:?} {d}"));
    }
    odbc::close(s);
    let mut problems = Vec::new();
    let mut unsupported_wide = false;
    for wide in [false, true] {
        let q = format!("SELECT v FROM {t} WHERE id = 1");
        // SAFETY: live statement; text outlives the call; buffers of the sizes passed.
        let got = unsafe {
            SQLFreeStmt(s, FreeStmtOption::SQL_CLOSE);
            let rc = SQLExecDirect(s, q.as_ptr(), q.len() as i32);
            if !rc.is_success() || !SQLFetch(s).is_success() {
                problems.push(format!("{q}: {rc:?} {}", odbc::stmt_diag(s)));
                continue;
            }
            let mut ind: SqlLen = 0;
            if wide {
                let mut b = [0u16; 128];
                let rc = SQLGetData(s, 1, CDataType::SQL_C_WCHAR, b.as_mut_ptr().cast(), 256, &mut ind);
                (rc, String::from_utf16_lossy(&b[..b.iter().position(|&u| u == 0).unwrap_or(0)]))
            } else {
                let mut b = [0u8; 256];
                let rc = SQLGetData(s, 1, CDataType::SQL_C_CHAR, b.as_mut_ptr().cast(), 256, &mut ind);
                (rc, cstr(&b))
            }
        };
        if wide
            && got.0 == SqlReturn::SQL_ERROR
            && states(HandleType::SQL_HANDLE_STMT, s).iter().any(|x| x == "07006")
            && !c.d.has("SQLExecDirectW")
        {
            // An ANSI driver refusing SQL_C_WCHAR: a limitation (the DM does not convert
            // SQLGetData's C type), reported as unsupported below if nothing else failed.
            unsupported_wide = true;
            continue;
        }
        if got.0 != SqlReturn::SQL_SUCCESS || got.1 != VALUE {
            problems.push(format!(
                "SQLGetData({}) read back {:?} ({:?}) instead of {VALUE:?}",
                if wide { "SQL_C_WCHAR" } else { "SQL_C_CHAR" },
                got.1,
                got.0
            ));
        }
    }
    odbc::free_stmt(s);
    conn.exec_quiet(&format!("DROP TABLE {t}"));
    if problems.is_empty() && unsupported_wide {
        return unsupported("narrow round trip passes; the ANSI driver refuses SQL_C_WCHAR (07006)");
    }
    verdict(problems)
}

// ------------------------------------------------------------------ Appendix B states (driver side)

fn first_state(dc: &DConn, s: SqlHandle) -> String {
    dc.diag(HandleType::SQL_HANDLE_STMT, s, 1).map(|r| r.state).unwrap_or_else(|| "(no record)".into())
}

fn state_fetch_s4(c: &Ctx) -> Res {
    let dc = c.dconn()?;
    let t = c.table("conform_s4");
    let s = dc.stmt()?;
    dc.exec(s, &format!("DROP TABLE {t}"));
    dc.close(s);
    let rc = dc.exec(s, &format!("CREATE TABLE {t} (a INTEGER)"));
    if !rc.is_success() {
        return Err(format!("CREATE TABLE returned {rc:?} {}", first_state(&dc, s)));
    }
    let f = entry!(c.d, SQLFetch).ok_or("no SQLFetch")?;
    // SAFETY: live statement in S4 (executed, no result set): the state under test.
    let rc = unsafe { f(s) };
    let st = if rc == SqlReturn::SQL_ERROR { first_state(&dc, s) } else { String::new() };
    dc.close(s);
    dc.exec(s, &format!("DROP TABLE {t}"));
    dc.free_stmt(s);
    if rc == SqlReturn::SQL_ERROR && st == "24000" {
        pass()
    } else {
        fail(format!("SQLFetch after CREATE TABLE (S4, no result set) returned {rc:?} {st}, expected SQL_ERROR 24000"))
    }
}

fn state_exec_s5(c: &Ctx) -> Res {
    let dc = c.dconn()?;
    let s = dc.stmt()?;
    let rc = dc.exec(s, "SELECT 1");
    if !rc.is_success() {
        return Err(format!("SELECT 1 returned {rc:?}"));
    }
    let rc = dc.exec(s, "SELECT 2");
    let st = if rc == SqlReturn::SQL_ERROR { first_state(&dc, s) } else { String::new() };
    dc.close(s);
    dc.free_stmt(s);
    if rc == SqlReturn::SQL_ERROR && st == "24000" {
        pass()
    } else {
        fail(format!("SQLExecDirect with a cursor open (S5) returned {rc:?} {st}, expected SQL_ERROR 24000"))
    }
}

fn state_getdata_s5(c: &Ctx) -> Res {
    let dc = c.dconn()?;
    let s = dc.stmt()?;
    let rc = dc.exec(s, "SELECT 1");
    if !rc.is_success() {
        return Err(format!("SELECT 1 returned {rc:?}"));
    }
    let f = entry!(c.d, SQLGetData).ok_or("no SQLGetData")?;
    let mut v = 0i32;
    let mut ind: SqlLen = 0;
    // SAFETY: live statement in S5 (cursor open, no row fetched): the state under test;
    // a 4-byte buffer for SQL_C_SLONG.
    let rc = unsafe { f(s, 1, CDataType::SQL_C_SLONG, (&mut v as *mut i32).cast(), 4, &mut ind) };
    let st = if rc == SqlReturn::SQL_ERROR { first_state(&dc, s) } else { String::new() };
    dc.close(s);
    dc.free_stmt(s);
    if rc == SqlReturn::SQL_ERROR && st == "24000" {
        pass()
    } else {
        fail(format!("SQLGetData before any SQLFetch (S5) returned {rc:?} {st}, expected SQL_ERROR 24000"))
    }
}

// ------------------------------------------------------------------ descriptors

fn get_stmt_attr_usize(c: &Ctx, s: SqlHandle, attr: StmtAttr) -> Option<(SqlReturn, usize)> {
    let f = entry!(c.d, SQLGetStmtAttrW).or(entry!(c.d, SQLGetStmtAttr))?;
    let mut v = 0usize;
    let mut len = 0i32;
    // SAFETY: live statement; pointer-sized buffer.
    let rc = unsafe { f(s, attr, (&mut v as *mut usize).cast(), std::mem::size_of::<usize>() as i32, &mut len) };
    Some((rc, v))
}

fn desc_stmt_defaults(c: &Ctx) -> Res {
    let dc = c.dconn()?;
    let s = dc.stmt()?;
    let mut problems = Vec::new();
    for (attr, name, want) in [
        (StmtAttr::SQL_ATTR_ROW_ARRAY_SIZE, "SQL_ATTR_ROW_ARRAY_SIZE", 1usize),
        (StmtAttr::SQL_ATTR_CONCURRENCY, "SQL_ATTR_CONCURRENCY", SQL_CONCUR_READ_ONLY),
        (StmtAttr::SQL_ATTR_CURSOR_TYPE, "SQL_ATTR_CURSOR_TYPE", SQL_CURSOR_FORWARD_ONLY),
        (StmtAttr::SQL_ATTR_ASYNC_ENABLE, "SQL_ATTR_ASYNC_ENABLE", SQL_ASYNC_ENABLE_OFF),
    ] {
        match get_stmt_attr_usize(c, s, attr) {
            None => return unsupported("no SQLGetStmtAttr"),
            Some((rc, v)) if rc.is_success() => {
                // Drivers may write only 32 bits of an SQLULEN attribute; compare the low half.
                if v as u32 as usize != want {
                    problems.push(format!("SQLGetStmtAttr({name}) = {v}, default is {want}"));
                }
            }
            Some((rc, _)) => problems.push(format!("SQLGetStmtAttr({name}) returned {rc:?}")),
        }
    }
    dc.free_stmt(s);
    verdict(problems)
}

fn desc_ard_defaults(c: &Ctx) -> Res {
    let Some(gdf) = entry!(c.d, SQLGetDescFieldW).or(entry!(c.d, SQLGetDescField)) else {
        return unsupported("the driver exports no SQLGetDescField(W)");
    };
    let dc = c.dconn()?;
    let s = dc.stmt()?;
    let (rc, ard) = get_stmt_attr_usize(c, s, StmtAttr::SQL_ATTR_APP_ROW_DESC).ok_or("no SQLGetStmtAttr")?;
    if !rc.is_success() || ard == 0 {
        dc.free_stmt(s);
        return fail(format!("SQLGetStmtAttr(SQL_ATTR_APP_ROW_DESC) returned {rc:?}, handle {ard:#x}"));
    }
    let mut problems = Vec::new();
    for (field, name, want) in
        [(DescField::SQL_DESC_ARRAY_SIZE, "SQL_DESC_ARRAY_SIZE", 1isize), (DescField::SQL_DESC_COUNT, "SQL_DESC_COUNT", 0)]
    {
        let mut v: isize = 0;
        let mut len = 0i32;
        // SAFETY: the driver's ARD handle; pointer-sized buffer.
        let rc = unsafe { gdf(ard as SqlHandle, 0, field, (&mut v as *mut isize).cast(), 8, &mut len) };
        let v = if field == DescField::SQL_DESC_COUNT { v as i16 as isize } else { v };
        if !rc.is_success() {
            let st = diag_rec(c.d, HandleType::SQL_HANDLE_DESC, ard as SqlHandle, 1, 512)
                .map(|r| r.state)
                .unwrap_or_else(|| "(no diagnostic record)".into());
            if st == "HYC00" || st == "IM001" {
                dc.free_stmt(s);
                return unsupported(format!("SQLGetDescField(ARD, {name}) returned {rc:?} {st}"));
            }
            problems.push(format!("SQLGetDescField(ARD, {name}) returned {rc:?} {st}"));
        } else if v != want {
            problems.push(format!("SQLGetDescField(ARD, {name}) = {v}, default is {want}"));
        }
    }
    dc.free_stmt(s);
    verdict(problems)
}

// ------------------------------------------------------------------ cancel

fn cancel_cross_thread(c: &Ctx) -> Res {
    let Some(q) = c.t.long_query.clone() else {
        return skip("no long query known for this driver (LongQuery in conform.ini)");
    };
    let cancel = entry!(c.d, SQLCancel).ok_or("no SQLCancel")?;
    let dc = c.dconn()?;
    let s = H(dc.stmt()?);
    let started = Arc::new(AtomicBool::new(false));
    let (rc, state, took) = std::thread::scope(|sc| {
        let st = started.clone();
        let dcr = &dc;
        let q = &q;
        let h = sc.spawn(move || {
            let s = s;
            st.store(true, Ordering::SeqCst);
            let t0 = Instant::now();
            // Drivers that run the query at the first fetch (sqliteodbc's StepAPI) are
            // cancelled in SQLFetch: either call may be the long one.
            let mut rc = dcr.exec(s.0, q);
            let mut what = "SQLExecDirect";
            if rc.is_success() {
                if let Some(fetch) = entry!(dcr.d, SQLFetch) {
                    what = "SQLFetch";
                    // SAFETY: live statement with a result set.
                    rc = unsafe { fetch(s.0) };
                }
            }
            let state = if rc == SqlReturn::SQL_ERROR { first_state(dcr, s.0) } else { String::new() };
            (rc, format!("{what}: {state}"), t0.elapsed())
        });
        while !started.load(Ordering::SeqCst) {
            std::thread::yield_now();
        }
        std::thread::sleep(Duration::from_millis(300));
        // SAFETY: live statement; SQLCancel from another thread is the call under test (§3.2).
        let crc = unsafe { cancel(s.0) };
        let r = h.join().expect("exec thread");
        let _ = crc;
        r
    });
    dc.close(s.0);
    dc.free_stmt(s.0);
    if rc == SqlReturn::SQL_ERROR && state.ends_with("HY008") {
        pass()
    } else {
        fail(format!(
            "the long query ({q}) cancelled from another thread after 300 ms: {state} {rc:?} after {} ms, expected SQL_ERROR HY008",
            took.as_millis()
        ))
    }
}

fn cancel_idle(c: &Ctx) -> Res {
    let cancel = entry!(c.d, SQLCancel).ok_or("no SQLCancel")?;
    let fetch = entry!(c.d, SQLFetch).ok_or("no SQLFetch")?;
    let dc = c.dconn()?;
    let s = dc.stmt()?;
    let rc = dc.exec(s, "SELECT 1 UNION ALL SELECT 2");
    if !rc.is_success() {
        return Err(format!("SELECT 1 UNION ALL SELECT 2 returned {rc:?}"));
    }
    // SAFETY: live statement with an open cursor.
    let (r1, crc, r2) = unsafe { (fetch(s), cancel(s), fetch(s)) };
    let st = if r2 == SqlReturn::SQL_ERROR { first_state(&dc, s) } else { String::new() };
    dc.close(s);
    dc.free_stmt(s);
    if !r1.is_success() {
        return Err(format!("first SQLFetch returned {r1:?}"));
    }
    if r2.is_success() {
        pass()
    } else {
        fail(format!("SQLCancel on an idle statement (returned {crc:?}) closed its cursor: the next SQLFetch returned {r2:?} {st}"))
    }
}

// ------------------------------------------------------------------ concurrency

fn conc_separate(c: &Ctx) -> Res {
    let cs = c.t.dm_conn_str();
    let errors = Mutex::new(Vec::new());
    std::thread::scope(|sc| {
        for t in 0..4 {
            let (cs, errors) = (&cs, &errors);
            sc.spawn(move || {
                let r = (|| -> Result<(), String> {
                    let conn = Conn::connect(cs)?;
                    for i in 0..25 {
                        let n = t * 1000 + i;
                        let got = query_one(&conn, &format!("SELECT {n}"))?;
                        if got.trim() != n.to_string() {
                            return Err(format!("thread {t}: SELECT {n} gave {got:?}"));
                        }
                    }
                    Ok(())
                })();
                if let Err(e) = r {
                    errors.lock().unwrap().push(e);
                }
            });
        }
    });
    verdict(errors.into_inner().unwrap())
}

fn conc_shared(c: &Ctx) -> Res {
    let conn = c.conn()?;
    let errors = Mutex::new(Vec::new());
    std::thread::scope(|sc| {
        for t in 0..4 {
            let (conn, errors) = (&conn, &errors);
            sc.spawn(move || {
                for i in 0..25 {
                    let n = t * 1000 + i;
                    match query_one(conn, &format!("SELECT {n}")) {
                        Ok(g) if g.trim() == n.to_string() => {}
                        Ok(g) => errors.lock().unwrap().push(format!("thread {t}: SELECT {n} gave {g:?}")),
                        Err(e) => errors.lock().unwrap().push(e),
                    }
                }
            });
        }
    });
    verdict(errors.into_inner().unwrap())
}

fn query_one(conn: &Conn, sql: &str) -> Result<String, String> {
    let s = conn.stmt()?;
    let r = (|| {
        let rc = odbc::exec_rc(s, sql);
        if !rc.is_success() {
            return Err(format!("{sql}: {rc:?} {}", odbc::stmt_diag(s)));
        }
        // SAFETY: live statement with a result set.
        let rc = unsafe { SQLFetch(s) };
        if !rc.is_success() {
            return Err(format!("{sql}: SQLFetch {rc:?} {}", odbc::stmt_diag(s)));
        }
        let mut b = [0u8; 64];
        let mut ind: SqlLen = 0;
        // SAFETY: positioned statement; buffer of the length passed.
        let rc = unsafe { SQLGetData(s, 1, CDataType::SQL_C_CHAR, b.as_mut_ptr().cast(), 64, &mut ind) };
        if !rc.is_success() {
            return Err(format!("{sql}: SQLGetData {rc:?} {}", odbc::stmt_diag(s)));
        }
        Ok(cstr(&b))
    })();
    odbc::free_stmt(s);
    r
}

fn conc_optimistic(c: &Ctx) -> Res {
    let dc = c.dconn()?;
    let bits = direct_info_u32(c, &dc, InfoType::SQL_SCROLL_CONCURRENCY).filter(|(rc, _)| rc.is_success()).map(|(_, v)| v).unwrap_or(0);
    if bits & (SQL_SCCO_OPT_ROWVER | SQL_SCCO_OPT_VALUES) == 0 {
        return unsupported(format!("SQL_SCROLL_CONCURRENCY = {bits:#x}: no optimistic concurrency offered"));
    }
    let (Some(set_pos), Some(bind)) = (entry!(c.d, SQLSetPos), entry!(c.d, SQLBindCol)) else {
        return unsupported(format!("SQL_SCROLL_CONCURRENCY = {bits:#x} but SQLSetPos/SQLBindCol not exported"));
    };
    let fetch = entry!(c.d, SQLFetchScroll).ok_or("no SQLFetchScroll")?;
    let other = c.dconn()?;
    let t = c.table("conform_opt");
    let setup = dc.stmt()?;
    dc.exec(setup, &format!("DROP TABLE {t}"));
    dc.close(setup);
    for sql in [format!("CREATE TABLE {t} (id INTEGER PRIMARY KEY, v VARCHAR(20))"), format!("INSERT INTO {t} VALUES (1, 'a')")] {
        let rc = dc.exec(setup, &sql);
        if !rc.is_success() {
            return Err(format!("{sql}: {rc:?} {}", first_state(&dc, setup)));
        }
        dc.close(setup);
    }
    let conc = if bits & SQL_SCCO_OPT_ROWVER != 0 { SQL_CONCUR_ROWVER } else { SQL_CONCUR_VALUES };
    let s = dc.stmt()?;
    let r = (|| -> Res {
        for (attr, v) in [(StmtAttr::SQL_ATTR_CURSOR_TYPE, SQL_CURSOR_STATIC), (StmtAttr::SQL_ATTR_CONCURRENCY, conc)] {
            let rc = dc.set_stmt_attr(s, attr, v);
            if !rc.is_success() {
                return unsupported(format!("SQLSetStmtAttr({}, {v}) returned {rc:?} {}", attr.0, first_state(&dc, s)));
            }
        }
        let got = get_stmt_attr_usize(c, s, StmtAttr::SQL_ATTR_CONCURRENCY).map(|x| x.1 as u32 as usize).unwrap_or(0);
        if got != SQL_CONCUR_ROWVER && got != SQL_CONCUR_VALUES {
            return unsupported(format!("SQL_ATTR_CONCURRENCY {conc} became {got} on a static cursor"));
        }
        let rc = dc.exec(s, &format!("SELECT id, v FROM {t}"));
        if !rc.is_success() {
            return Err(format!("SELECT with optimistic concurrency: {rc:?} {}", first_state(&dc, s)));
        }
        let mut id = 0i32;
        let mut id_ind: SqlLen = 0;
        let mut v = [0u8; 21];
        let mut v_ind: SqlLen = 0;
        // SAFETY: live statement; the bound buffers outlive every call that writes them
        // (this closure), sizes as passed.
        let rc = unsafe {
            bind(s, 1, CDataType::SQL_C_SLONG, (&mut id as *mut i32).cast(), 4, &mut id_ind);
            bind(s, 2, CDataType::SQL_C_CHAR, v.as_mut_ptr().cast(), 21, &mut v_ind);
            fetch(s, FetchOrientation::SQL_FETCH_NEXT, 0)
        };
        if !rc.is_success() {
            return Err(format!("SQLFetchScroll: {rc:?} {}", first_state(&dc, s)));
        }
        // Another connection changes the row after it was read (§5.3).
        let o = other.stmt()?;
        let rc = other.exec(o, &format!("UPDATE {t} SET v = 'b' WHERE id = 1"));
        other.free_stmt(o);
        if !rc.is_success() {
            return Err(format!("UPDATE from a second connection: {rc:?}"));
        }
        v[..2].copy_from_slice(b"c\0");
        v_ind = 1;
        // SAFETY: positioned static cursor; the bound buffers are live.
        let rc = unsafe { set_pos(s, 1, SetPosOperation::SQL_UPDATE, LockType::SQL_LOCK_NO_CHANGE) };
        let states: Vec<String> = dc.diags(HandleType::SQL_HANDLE_STMT, s).into_iter().map(|r| r.state).collect();
        let _ = (id, id_ind, v_ind);
        if let Some(free) = entry!(c.d, SQLFreeStmt) {
            // SAFETY: live statement; the row update is over: unbind before the buffers go.
            unsafe { free(s, FreeStmtOption::SQL_UNBIND) };
        }
        let now = direct_query_text(&other, &format!("SELECT v FROM {t} WHERE id = 1"));
        if now.as_deref().map(str::trim) != Some("b") {
            return fail(format!(
                "SQLSetPos(SQL_UPDATE) returned {rc:?} {states:?} and the other connection's change is lost: v = {now:?}"
            ));
        }
        if rc == SqlReturn::SQL_SUCCESS_WITH_INFO && states.iter().any(|x| x == "01001") {
            pass()
        } else if rc == SqlReturn::SQL_ERROR && states.iter().any(|x| x == "HYC00" || x == "HY092" || x == "IM001") {
            unsupported(format!("SQLSetPos(SQL_UPDATE) returned {rc:?} {states:?}"))
        } else {
            fail(format!("SQLSetPos(SQL_UPDATE) of a row another connection changed after the fetch (concurrency {got}) returned {rc:?} {states:?}, expected SQL_SUCCESS_WITH_INFO 01001"))
        }
    })();
    dc.close(s);
    dc.free_stmt(s);
    dc.exec(setup, &format!("DROP TABLE {t}"));
    dc.free_stmt(setup);
    r
}

/// The first column of the first row of `sql`, read with the driver's own functions.
fn direct_query_text(dc: &DConn, sql: &str) -> Option<String> {
    let s = dc.stmt().ok()?;
    let r = (|| {
        if !dc.exec(s, sql).is_success() {
            return None;
        }
        let (fetch, get) = (entry!(dc.d, SQLFetch)?, entry!(dc.d, SQLGetData)?);
        let mut b = [0u8; 256];
        let mut ind: SqlLen = 0;
        // SAFETY: live statement with a result set; buffer of the length passed.
        unsafe {
            if !fetch(s).is_success() || !get(s, 1, CDataType::SQL_C_CHAR, b.as_mut_ptr().cast(), 256, &mut ind).is_success() {
                return None;
            }
        }
        Some(cstr(&b))
    })();
    dc.close(s);
    dc.free_stmt(s);
    r
}

// ------------------------------------------------------------------ async polling

fn async_mode(c: &Ctx, dc: &DConn) -> u32 {
    direct_info_u32(c, dc, InfoType::SQL_ASYNC_MODE).filter(|(rc, _)| rc.is_success()).map(|(_, v)| v & 0xFFFF).unwrap_or(0)
}

fn async_polling(c: &Ctx) -> Res {
    let dc = c.dconn()?;
    if async_mode(c, &dc) == SQL_AM_NONE as u32 {
        return unsupported("SQL_ASYNC_MODE = SQL_AM_NONE");
    }
    let s = dc.stmt()?;
    let rc = dc.set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_ON);
    if !rc.is_success() {
        let st = first_state(&dc, s);
        dc.free_stmt(s);
        return fail(format!("SQL_ASYNC_MODE is not SQL_AM_NONE but SQLSetStmtAttr(SQL_ATTR_ASYNC_ENABLE, ON) returned {rc:?} {st}"));
    }
    let sql = "SELECT 42";
    let w: Vec<u16> = sql.encode_utf16().collect();
    let t0 = Instant::now();
    let mut stills = 0;
    let rc = loop {
        let rc = dc.exec_text(s, sql, &w);
        if rc != SqlReturn::SQL_STILL_EXECUTING {
            break rc;
        }
        stills += 1;
        if t0.elapsed() > Duration::from_secs(5) {
            break rc;
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let fetch = entry!(c.d, SQLFetch).ok_or("no SQLFetch")?;
    let mut frc = SqlReturn::SQL_STILL_EXECUTING;
    if rc.is_success() {
        while frc == SqlReturn::SQL_STILL_EXECUTING && t0.elapsed() < Duration::from_secs(5) {
            // SAFETY: live statement with a result set.
            frc = unsafe { fetch(s) };
        }
    }
    dc.close(s);
    dc.free_stmt(s);
    if !rc.is_success() {
        return fail(format!("polling SQLExecDirect(SELECT 42): {rc:?} after {stills} SQL_STILL_EXECUTING"));
    }
    if !frc.is_success() {
        return fail(format!("SQLFetch after an async SQLExecDirect returned {frc:?}"));
    }
    pass()
}

// ------------------------------------------------------------------ notification (harness plays the DM)

/// One callback the harness received.
#[derive(Clone, Debug)]
struct CbRec {
    ctx: usize,
    f_last: bool,
    tid: i64,
    during_call: bool,
}

/// What the harness's callback records (one notification check runs at a time per process).
struct Probe {
    recs: Mutex<Vec<CbRec>>,
    cv: Condvar,
    /// The thread id of the thread inside a driver call, 0 when none.
    in_call: AtomicUsize,
}

static PROBE: Probe = Probe { recs: Mutex::new(Vec::new()), cv: Condvar::new(), in_call: AtomicUsize::new(0) };

fn gettid() -> i64 {
    // SAFETY: gettid(2) has no arguments and no preconditions.
    unsafe { libc::syscall(libc::SYS_gettid) }
}

/// The harness's notification callback (§2.10): records and returns at once (it only waits,
/// at most 500 ms, for the calling thread to leave the driver call, to tell an early
/// callback from a benign race with the return: a driver calling back before it returns
/// keeps the caller inside the call for the whole wait).
extern "C" fn harness_callback(ctx: SqlPointer, f_last: Bool) -> SqlReturn {
    let r = std::panic::catch_unwind(|| {
        let caller = PROBE.in_call.load(Ordering::SeqCst);
        // On the calling thread itself the call cannot return while we wait: no spin.
        let mut during = caller != 0 && caller != gettid() as usize;
        let on_caller = caller != 0 && caller == gettid() as usize;
        let end = Instant::now() + Duration::from_millis(500);
        while during && Instant::now() < end {
            std::thread::yield_now();
            during = PROBE.in_call.load(Ordering::SeqCst) != 0;
        }
        let rec = CbRec { ctx: ctx as usize, f_last: f_last != 0, tid: gettid(), during_call: during || on_caller };
        PROBE.recs.lock().unwrap_or_else(|e| e.into_inner()).push(rec);
        PROBE.cv.notify_all();
    });
    if r.is_ok() {
        SqlReturn::SQL_SUCCESS
    } else {
        SqlReturn::SQL_ERROR
    }
}

fn probe_reset() {
    PROBE.recs.lock().unwrap_or_else(|e| e.into_inner()).clear();
}
fn probe_recs() -> Vec<CbRec> {
    PROBE.recs.lock().unwrap_or_else(|e| e.into_inner()).clone()
}
/// Waits until at least `n` callbacks for `ctx` arrived; their number.
fn probe_wait(ctx: usize, n: usize, within: Duration) -> usize {
    let end = Instant::now() + within;
    let mut g = PROBE.recs.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let have = g.iter().filter(|r| r.ctx == ctx).count();
        let now = Instant::now();
        if have >= n || now >= end {
            return have;
        }
        g = PROBE.cv.wait_timeout(g, end - now).unwrap_or_else(|e| e.into_inner()).0;
    }
}

fn in_call<R>(f: impl FnOnce() -> R) -> R {
    PROBE.in_call.store(gettid() as usize, Ordering::SeqCst);
    let r = f();
    PROBE.in_call.store(0, Ordering::SeqCst);
    r
}

/// A statement in notification mode, or the reason it cannot be.
fn notify_stmt(c: &Ctx, dc: &DConn, ctx: usize) -> Result<SqlHandle, Res> {
    let cap = direct_info_u32(c, dc, InfoType::SQL_ASYNC_NOTIFICATION).filter(|(rc, _)| rc.is_success()).map(|(_, v)| v).unwrap_or(0);
    if cap != SQL_ASYNC_NOTIFICATION_CAPABLE {
        return Err(unsupported("SQL_ASYNC_NOTIFICATION is not SQL_ASYNC_NOTIFICATION_CAPABLE"));
    }
    let s = dc.stmt().map_err(Err)?;
    for (attr, v) in [
        (StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_ON),
        (StmtAttr::SQL_ATTR_ASYNC_STMT_NOTIFICATION_CALLBACK, harness_callback as SqlAsyncNotificationCallback as usize),
        (StmtAttr::SQL_ATTR_ASYNC_STMT_NOTIFICATION_CONTEXT, ctx),
    ] {
        let rc = dc.set_stmt_attr(s, attr, v);
        if !rc.is_success() {
            let st = first_state(dc, s);
            dc.free_stmt(s);
            return Err(fail(format!("notification capable, but SQLSetStmtAttr({}) returned {rc:?} {st}", attr.0)));
        }
    }
    Ok(s)
}

/// Quiet period after the callback a re-invocation waits for: a driver that calls back
/// more than once per SQL_STILL_EXECUTING has done so by then, so the extra callback is
/// counted for the right call (notify.one-callback-per-still-executing) and never lands
/// inside the next call, where it would look like an early callback of that call.
const SETTLE: Duration = Duration::from_millis(25);

/// Drives one notification-mode SQLExecDirect to its end (see [`drive_with`]).
fn drive(dc: &DConn, s: SqlHandle, ctx: usize, sql: &str) -> (SqlReturn, usize, Vec<String>) {
    let w: Vec<u16> = sql.encode_utf16().collect();
    drive_with(ctx, || dc.exec_text(s, sql, &w))
}

/// Drives one notification-mode call to its end as a DM does: after each
/// SQL_STILL_EXECUTING it waits for a callback that came after the call began (3 s at
/// most), lets the callbacks settle, and re-invokes. (final code, STILL_EXECUTING count,
/// problems). fLast is judged only on callbacks that kept the protocol (after the return,
/// off the calling thread): an early callback is notify.thread-and-timing's finding.
fn drive_with(ctx: usize, mut call: impl FnMut() -> SqlReturn) -> (SqlReturn, usize, Vec<String>) {
    let mut stills = 0;
    let mut problems = Vec::new();
    let count = || probe_recs().iter().filter(|r| r.ctx == ctx).count();
    let t0 = Instant::now();
    let mut before = count();
    let mut backoff = SETTLE;
    let mut rc = in_call(&mut call);
    while rc == SqlReturn::SQL_STILL_EXECUTING {
        stills += 1;
        if probe_wait(ctx, before + 1, Duration::from_secs(3)) <= before {
            problems.push(format!("no callback within 3 s after SQL_STILL_EXECUTING #{stills}"));
            break;
        }
        let mut n = count();
        loop {
            std::thread::sleep(SETTLE);
            let m = count();
            if m == n {
                break;
            }
            n = m;
        }
        let recs: Vec<CbRec> = probe_recs().into_iter().filter(|r| r.ctx == ctx).collect();
        let f_last = recs.last().filter(|r| !r.during_call).is_some_and(|r| r.f_last);
        // A callback that came before the driver returned (notify.thread-and-timing's
        // finding) cannot tell the harness when the step it announces is done: re-invoking
        // at once would only open more steps. The harness then waits as a polling DM does,
        // with a growing pause, so the driver's queue drains and the call ends.
        if recs[before.min(recs.len())..].iter().any(|r| r.during_call) {
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(Duration::from_millis(800));
        }
        before = recs.len();
        rc = in_call(&mut call);
        if f_last && rc == SqlReturn::SQL_STILL_EXECUTING {
            problems.push(format!("callback #{stills} had fLast = TRUE but the re-invocation returned SQL_STILL_EXECUTING again"));
        }
        if t0.elapsed() > Duration::from_secs(5) && rc == SqlReturn::SQL_STILL_EXECUTING {
            problems.push(format!("still executing after 5 s and {stills} SQL_STILL_EXECUTING"));
            break;
        }
    }
    (rc, stills, problems)
}

const CTX_BASE: usize = 0x5EED_0000;
/// Each notification check uses contexts of its own generation, so a late callback of an
/// earlier check (a stale context) is not blamed on the next one.
static GENERATION: AtomicUsize = AtomicUsize::new(0);

fn next_ctx_base() -> usize {
    CTX_BASE + (GENERATION.fetch_add(1, Ordering::SeqCst) + 1) * 0x100
}

/// Whether `ctx` is one the harness handed out in an earlier check.
fn stale(ctx: usize, base: usize) -> bool {
    ctx >= CTX_BASE + 0x100 && ctx < base && (ctx - CTX_BASE) % 0x100 < 8
}

fn notify_run(c: &Ctx, body: impl FnOnce(&DConn, SqlHandle, usize) -> Res) -> Res {
    let dc = c.dconn()?;
    probe_reset();
    let ctx = next_ctx_base() + 1;
    let s = match notify_stmt(c, &dc, ctx) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let r = body(&dc, s, ctx);
    // Let a late callback arrive before the statement goes.
    std::thread::sleep(Duration::from_millis(100));
    dc.close(s);
    dc.free_stmt(s);
    r
}

fn notify_one_per_still(c: &Ctx) -> Res {
    notify_run(c, |dc, s, ctx| {
        let mut problems = Vec::new();
        let mut total_stills = 0;
        for _ in 0..3 {
            let (rc, stills, p) = drive(dc, s, ctx, "SELECT 1");
            problems.extend(p);
            if !rc.is_success() && problems.is_empty() {
                problems.push(format!("SQLExecDirectW ended with {rc:?}"));
            }
            dc.close(s);
            total_stills += stills;
            if !problems.is_empty() {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(150));
        let got = probe_recs().iter().filter(|r| r.ctx == ctx).count();
        if problems.is_empty() && got != total_stills {
            problems.push(format!("{got} callbacks for {total_stills} SQL_STILL_EXECUTING"));
        }
        if problems.is_empty() && total_stills == 0 {
            return unsupported("the driver completed every call at once (no SQL_STILL_EXECUTING to observe)");
        }
        verdict(problems)
    })
}

fn notify_thread(c: &Ctx) -> Res {
    notify_run(c, |dc, s, ctx| {
        let me = gettid();
        let mut problems = Vec::new();
        let mut later = Vec::new();
        for _ in 0..5 {
            let (rc, _, p) = drive(dc, s, ctx, "SELECT 1");
            dc.close(s);
            if !rc.is_success() {
                later.push(format!("SQLExecDirectW ended with {rc:?}"));
                later.extend(p);
                break;
            }
        }
        let recs: Vec<CbRec> = probe_recs().into_iter().filter(|r| r.ctx == ctx).collect();
        if recs.is_empty() && later.is_empty() {
            return unsupported("no callback observed (no SQL_STILL_EXECUTING)");
        }
        if let Some(r) = recs.iter().find(|r| r.tid == me) {
            problems.push(format!("callback (context {:#x}) ran on the calling thread", r.ctx));
        }
        if recs.iter().any(|r| r.during_call && r.tid != me) {
            problems.push("callback came before the driver call returned SQL_STILL_EXECUTING".into());
        }
        problems.extend(later);
        verdict(problems)
    })
}

fn notify_context(c: &Ctx) -> Res {
    notify_run(c, |dc, s, ctx| {
        let (rc, stills, _) = drive(dc, s, ctx, "SELECT 1");
        std::thread::sleep(Duration::from_millis(100));
        let recs = probe_recs();
        if let Some(bad) = recs.iter().find(|r| r.ctx != ctx && !stale(r.ctx, ctx - 1)) {
            return fail(format!("callback carried context {:#x}, the attribute is {ctx:#x}", bad.ctx));
        }
        if !rc.is_success() {
            return fail(format!("SQLExecDirectW ended with {rc:?}"));
        }
        if stills == 0 {
            return unsupported("no SQL_STILL_EXECUTING to observe");
        }
        pass()
    })
}

fn notify_flast(c: &Ctx) -> Res {
    notify_run(c, |dc, s, ctx| {
        let (rc, stills, problems) = drive(dc, s, ctx, "SELECT 1");
        let p: Vec<String> = problems.into_iter().filter(|p| p.contains("fLast")).collect();
        if p.is_empty() && !rc.is_success() {
            return fail(format!("SQLExecDirectW ended with {rc:?}"));
        }
        if p.is_empty() && stills == 0 {
            return unsupported("no SQL_STILL_EXECUTING to observe");
        }
        verdict(p)
    })
}

fn notify_concurrent(c: &Ctx) -> Res {
    let dc = c.dconn()?;
    probe_reset();
    let base = next_ctx_base();
    let mut stmts = Vec::new();
    for i in 0..4 {
        match notify_stmt(c, &dc, base + i) {
            Ok(s) => stmts.push(H(s)),
            Err(r) => return r,
        }
    }
    // Start all four, then drive each: the callbacks of different handles may interleave.
    let sql = "SELECT 7";
    let w: Vec<u16> = sql.encode_utf16().collect();
    let mut problems = Vec::new();
    let mut rcs: Vec<SqlReturn> = stmts.iter().map(|s| in_call(|| dc.exec_text(s.0, sql, &w))).collect();
    let mut seen = [0usize; 4];
    // Per statement: when it may be re-invoked next, and its pause after an early callback
    // (as in drive_with).
    let mut next_at = [None::<Instant>; 4];
    let mut backoff = [SETTLE; 4];
    let t0 = Instant::now();
    while rcs.contains(&SqlReturn::SQL_STILL_EXECUTING) && t0.elapsed() < Duration::from_secs(5) {
        for i in 0..4 {
            if rcs[i] != SqlReturn::SQL_STILL_EXECUTING {
                continue;
            }
            let ctx = base + i;
            let recs: Vec<CbRec> = probe_recs().into_iter().filter(|r| r.ctx == ctx).collect();
            if recs.len() > seen[i] {
                // New callbacks: settle, longer when one came before the return.
                let early = recs[seen[i]..].iter().any(|r| r.during_call);
                let pause = if early {
                    let p = backoff[i];
                    backoff[i] = (p * 2).min(Duration::from_millis(800));
                    p
                } else {
                    SETTLE
                };
                seen[i] = recs.len();
                next_at[i] = Some(Instant::now() + pause);
            }
            if next_at[i].is_some_and(|t| Instant::now() >= t) {
                next_at[i] = None;
                seen[i] = probe_recs().iter().filter(|r| r.ctx == ctx).count();
                rcs[i] = in_call(|| dc.exec_text(stmts[i].0, sql, &w));
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(Duration::from_millis(50));
    for (i, rc) in rcs.iter().enumerate() {
        if !rc.is_success() {
            problems.push(format!("statement {i}: {rc:?} (callbacks seen: {})", seen[i]));
        }
    }
    let recs = probe_recs();
    if let Some(r) = recs.iter().find(|r| !(base..base + 4).contains(&r.ctx) && !stale(r.ctx, base)) {
        problems.push(format!("a callback carried an unknown context {:#x}", r.ctx));
    }
    for s in stmts {
        dc.close(s.0);
        dc.free_stmt(s.0);
    }
    if recs.is_empty() && problems.is_empty() {
        return unsupported("no SQL_STILL_EXECUTING to observe");
    }
    verdict(problems)
}

// ------------------------------------------------------------------ invalid handles

/// Announces the next driver call on stderr: when it kills the process, the runner's
/// `crash` detail quotes this line (the last one on stderr), so the report names the call.
fn announce(call: &str) {
    eprintln!("conform: calling {call}");
}

/// Records a call that did not answer SQL_INVALID_HANDLE.
fn want_invalid(problems: &mut Vec<String>, call: &str, rc: SqlReturn) {
    if rc != SqlReturn::SQL_INVALID_HANDLE {
        problems.push(format!("{call} returned {rc:?}, expected SQL_INVALID_HANDLE"));
    }
}

/// The driver's own env and an unconnected dbc (no connection needed).
fn driver_env_dbc(c: &Ctx) -> Result<(SqlHandle, SqlHandle), String> {
    let alloc = entry!(c.d, SQLAllocHandle).ok_or("driver exports no SQLAllocHandle")?;
    let (mut env, mut dbc) = (null_mut(), null_mut());
    // SAFETY: the driver's own handles, valid out pointers; integer attribute by value.
    unsafe {
        let rc = alloc(HandleType::SQL_HANDLE_ENV, null_mut(), &mut env);
        if !rc.is_success() {
            return Err(format!("driver SQLAllocHandle(ENV) returned {rc:?}"));
        }
        if let Some(set) = entry!(c.d, SQLSetEnvAttr) {
            set(env, EnvAttr::SQL_ATTR_ODBC_VERSION, SQL_OV_ODBC3 as usize as SqlPointer, 0);
        }
        let rc = alloc(HandleType::SQL_HANDLE_DBC, env, &mut dbc);
        if !rc.is_success() {
            return Err(format!("driver SQLAllocHandle(DBC) returned {rc:?}"));
        }
    }
    Ok((env, dbc))
}

fn free_env_dbc(c: &Ctx, env: SqlHandle, dbc: SqlHandle) {
    if let Some(free) = entry!(c.d, SQLFreeHandle) {
        // SAFETY: the driver's own handles, freed once (dbc may be null: already freed).
        unsafe {
            if !dbc.is_null() {
                free(HandleType::SQL_HANDLE_DBC, dbc);
            }
            free(HandleType::SQL_HANDLE_ENV, env);
        }
    }
}

/// Calls the driver's functions with `h` as a handle of the kinds named and collects every
/// answer that is not SQL_INVALID_HANDLE. `what` describes `h` ("NULL", "a freed DBC", …).
/// `stmt_fns`: pass `h` where a statement handle belongs; `dbc_fns`: where a connection
/// handle belongs.
fn invalid_calls(c: &Ctx, h: SqlHandle, what: &str, dbc_fns: bool, stmt_fns: bool, problems: &mut Vec<String>) {
    let mut buf = [0u8; 64];
    let mut len16 = 0i16;
    let mut len32 = 0i32;
    if dbc_fns {
        // SAFETY (every call below): `h` is the invalid handle under test, which the driver
        // must refuse before touching anything (MS "Return Codes": SQL_INVALID_HANDLE); all
        // other arguments are valid buffers of the lengths passed. A driver that does
        // touch it may crash: this runs in the check's child process.
        if let Some(f) = entry!(c.d, SQLGetInfoW).or(entry!(c.d, SQLGetInfo)) {
            let call = format!("SQLGetInfo(hdbc = {what}, SQL_DRIVER_NAME)");
            announce(&call);
            let rc = unsafe { f(h, InfoType::SQL_DRIVER_NAME, buf.as_mut_ptr().cast(), 64, &mut len16) };
            want_invalid(problems, &call, rc);
        }
        if let Some(f) = entry!(c.d, SQLGetConnectAttrW).or(entry!(c.d, SQLGetConnectAttr)) {
            let call = format!("SQLGetConnectAttr(hdbc = {what}, SQL_ATTR_AUTOCOMMIT)");
            announce(&call);
            let rc = unsafe { f(h, ConnAttr::SQL_ATTR_AUTOCOMMIT, buf.as_mut_ptr().cast(), 8, &mut len32) };
            want_invalid(problems, &call, rc);
        }
        if let Some(f) = entry!(c.d, SQLAllocHandle) {
            let call = format!("SQLAllocHandle(SQL_HANDLE_STMT, InputHandle = {what})");
            announce(&call);
            let mut out = null_mut();
            let rc = unsafe { f(HandleType::SQL_HANDLE_STMT, h, &mut out) };
            want_invalid(problems, &call, rc);
        }
    }
    if stmt_fns {
        let sql = "SELECT 1";
        let w: Vec<u16> = sql.encode_utf16().collect();
        if let Some(f) = entry!(c.d, SQLExecDirectW) {
            let call = format!("SQLExecDirectW(hstmt = {what})");
            announce(&call);
            let rc = unsafe { f(h, w.as_ptr(), w.len() as i32) };
            want_invalid(problems, &call, rc);
        } else if let Some(f) = entry!(c.d, SQLExecDirect) {
            let call = format!("SQLExecDirect(hstmt = {what})");
            announce(&call);
            let rc = unsafe { f(h, sql.as_ptr(), sql.len() as i32) };
            want_invalid(problems, &call, rc);
        }
        if let Some(f) = entry!(c.d, SQLFreeStmt) {
            let call = format!("SQLFreeStmt(hstmt = {what}, SQL_CLOSE)");
            announce(&call);
            let rc = unsafe { f(h, FreeStmtOption::SQL_CLOSE) };
            want_invalid(problems, &call, rc);
        }
        if let Some(f) = entry!(c.d, SQLGetDiagRecW) {
            let call = format!("SQLGetDiagRecW(SQL_HANDLE_STMT, {what}, 1)");
            announce(&call);
            let (mut st, mut msg, mut native) = ([0u16; 6], [0u16; 64], 0i32);
            let rc = unsafe { f(HandleType::SQL_HANDLE_STMT, h, 1, st.as_mut_ptr(), &mut native, msg.as_mut_ptr(), 64, &mut len16) };
            want_invalid(problems, &call, rc);
        } else if let Some(f) = entry!(c.d, SQLGetDiagRec) {
            let call = format!("SQLGetDiagRec(SQL_HANDLE_STMT, {what}, 1)");
            announce(&call);
            let (mut st, mut msg, mut native) = ([0u8; 6], [0u8; 64], 0i32);
            let rc = unsafe { f(HandleType::SQL_HANDLE_STMT, h, 1, st.as_mut_ptr(), &mut native, msg.as_mut_ptr(), 64, &mut len16) };
            want_invalid(problems, &call, rc);
        }
    }
    eprintln!("conform: {what}: done");
}

/// NULL where a connection or statement handle belongs (no connection needed).
fn handles_invalid_null(c: &Ctx) -> Res {
    let mut problems = Vec::new();
    invalid_calls(c, null_mut(), "NULL", true, true, &mut problems);
    if let Some(f) = entry!(c.d, SQLFreeHandle) {
        let call = "SQLFreeHandle(SQL_HANDLE_STMT, NULL)";
        announce(call);
        // SAFETY: a null handle, which the driver must refuse.
        let rc = unsafe { f(HandleType::SQL_HANDLE_STMT, null_mut()) };
        want_invalid(&mut problems, call, rc);
    }
    verdict(problems)
}

/// A connection handle the driver has freed, passed back to it (no connection needed).
fn handles_invalid_freed(c: &Ctx) -> Res {
    let (env, dbc) = driver_env_dbc(c)?;
    let free = entry!(c.d, SQLFreeHandle).ok_or("driver exports no SQLFreeHandle")?;
    // SAFETY: the driver's own unconnected dbc, freed once here.
    let rc = unsafe { free(HandleType::SQL_HANDLE_DBC, dbc) };
    if !rc.is_success() {
        free_env_dbc(c, env, null_mut());
        return Err(format!("driver SQLFreeHandle(DBC) of an unconnected connection returned {rc:?}"));
    }
    let mut problems = Vec::new();
    invalid_calls(c, dbc, "a freed DBC", true, false, &mut problems);
    free_env_dbc(c, env, null_mut());
    verdict(problems)
}

/// Handles of the wrong kind: the environment where a connection belongs, the
/// (unconnected) connection where a statement belongs (no connection needed).
fn handles_invalid_wrong_kind(c: &Ctx) -> Res {
    let (env, dbc) = driver_env_dbc(c)?;
    let mut problems = Vec::new();
    invalid_calls(c, env, "an ENV", true, false, &mut problems);
    invalid_calls(c, dbc, "a DBC", false, true, &mut problems);
    free_env_dbc(c, env, dbc);
    verdict(problems)
}

// ------------------------------------------------------------------ more output buffers (driver alone)

/// Sizes in bytes: 0, odd and even, narrow and wide.
const SIZES_A: &[usize] = &[0, 1, 2, 3, 5, 6];
const SIZES_W: &[usize] = &[0, 1, 2, 3, 4, 5, 6, 9, 10];

/// A statement of the driver alone with `SELECT 1 AS <non-ASCII name>` executed.
fn non_ascii_select(c: &Ctx, dc: &DConn) -> Result<SqlHandle, String> {
    let col = if c.t.dialect == super::Dialect::Mysql { NON_ASCII_NAME_BMP } else { NON_ASCII_NAME };
    let sql = format!("SELECT 1 AS {}", c.t.dialect.quote(col));
    let s = dc.stmt()?;
    let rc = if let Some(f) = entry!(c.d, SQLExecDirectW) {
        let w: Vec<u16> = sql.encode_utf16().collect();
        // SAFETY: live statement; the text outlives the call.
        unsafe { f(s, w.as_ptr(), w.len() as i32) }
    } else {
        dc.exec(s, &sql)
    };
    if !rc.is_success() {
        let st = first_state(dc, s);
        dc.free_stmt(s);
        return Err(format!("{sql}: {rc:?} {st}"));
    }
    Ok(s)
}

fn dstates(dc: &DConn, ht: HandleType, h: SqlHandle) -> Vec<String> {
    dc.diags(ht, h).into_iter().map(|r| r.state).collect()
}

fn colattr_probe(c: &Ctx, wide: bool) -> Res {
    let name = if wide { "SQLColAttributeW" } else { "SQLColAttribute" };
    if let Some(r) = wants(c, name) {
        return r;
    }
    let f = if wide { entry!(c.d, SQLColAttributeW) } else { entry!(c.d, SQLColAttribute) }.ok_or("entry point vanished")?;
    let dc = c.dconn()?;
    let s = non_ascii_select(c, &dc)?;
    let mut problems = Vec::new();
    for (field, fname) in [(DescField::SQL_DESC_NAME, "SQL_DESC_NAME"), (DescField::SQL_DESC_TYPE_NAME, "SQL_DESC_TYPE_NAME")] {
        let call = format!("{name}(1, {fname})");
        let p = probe_text(&call, if wide { 2 } else { 1 }, false, false, if wide { SIZES_W } else { SIZES_A }, |g, blen| {
            let mut len = -7i16;
            let mut num: SqlLen = 0;
            // SAFETY: live statement with a result set; guarded buffer of `blen` bytes.
            let rc = unsafe { f(s, 1, field, g.ptr().cast(), blen as i16, &mut len, &mut num) };
            Out { rc, len: len as isize, states: dstates(&dc, HandleType::SQL_HANDLE_STMT, s) }
        });
        match p {
            Ok(p) => problems.extend(p),
            Err(r) => {
                dc.close(s);
                dc.free_stmt(s);
                return r;
            }
        }
    }
    dc.close(s);
    dc.free_stmt(s);
    verdict(problems)
}

fn buf_colattr_a(c: &Ctx) -> Res {
    colattr_probe(c, false)
}
fn buf_colattr_w(c: &Ctx) -> Res {
    colattr_probe(c, true)
}

fn diagfield_probe(c: &Ctx, wide: bool) -> Res {
    let name = if wide { "SQLGetDiagFieldW" } else { "SQLGetDiagField" };
    if let Some(r) = wants(c, name) {
        return r;
    }
    let f = if wide { entry!(c.d, SQLGetDiagFieldW) } else { entry!(c.d, SQLGetDiagField) }.ok_or("entry point vanished")?;
    let dc = c.dconn()?;
    let mut problems = Vec::new();
    for (field, fname) in [(DiagField::SQL_DIAG_MESSAGE_TEXT, "SQL_DIAG_MESSAGE_TEXT"), (DiagField::SQL_DIAG_SQLSTATE, "SQL_DIAG_SQLSTATE")]
    {
        let call = format!("{name}(SQL_HANDLE_STMT, 1, {fname})");
        let p = probe_text(&call, if wide { 2 } else { 1 }, false, false, if wide { SIZES_W } else { SIZES_A }, |g, blen| {
            // A fresh error for every read: some drivers hand a record out only once
            // (diag.readable-twice), which is not what this check is about.
            let s = match provoke_error(c, &dc) {
                Ok(s) => s,
                Err(e) => return Out { rc: SqlReturn::SQL_ERROR, len: -7, states: vec![e] },
            };
            let mut len = -7i16;
            // SAFETY: a statement with a diagnostic record; guarded buffer of `blen` bytes.
            let rc = unsafe { f(HandleType::SQL_HANDLE_STMT, s, 1, field, g.ptr().cast(), blen as i16, &mut len) };
            // SQLGetDiagField posts no diagnostics of its own: 01004 shows in the code only.
            let states = if rc == SqlReturn::SQL_SUCCESS_WITH_INFO { vec!["01004".to_string()] } else { Vec::new() };
            dc.free_stmt(s);
            Out { rc, len: len as isize, states }
        });
        match p {
            Ok(p) => problems.extend(p),
            Err(r) => return r,
        }
    }
    verdict(problems)
}

fn buf_diagfield_a(c: &Ctx) -> Res {
    diagfield_probe(c, false)
}
fn buf_diagfield_w(c: &Ctx) -> Res {
    diagfield_probe(c, true)
}

/// SQLDriverConnect(W)'s output connection string, a fresh connection per buffer.
fn driverconnect_probe(c: &Ctx, wide: bool) -> Res {
    let name = if wide { "SQLDriverConnectW" } else { "SQLDriverConnect" };
    if let Some(r) = wants(c, name) {
        return r;
    }
    let disconnect = entry!(c.d, SQLDisconnect);
    let conn = c.t.connect.clone();
    let w: Vec<u16> = conn.encode_utf16().collect();
    let call = format!("{name}(OutConnectionString)");
    let p = probe_text(&call, if wide { 2 } else { 1 }, wide, false, if wide { SIZES_W } else { SIZES_A }, |g, blen| {
        let (env, dbc) = match driver_env_dbc(c) {
            Ok(x) => x,
            Err(e) => return Out { rc: SqlReturn::SQL_ERROR, len: -7, states: vec![e] },
        };
        let mut len = -7i16;
        announce(&format!("{name}(BufferLength={blen}) with a guarded {}-byte OutConnectionString", g.bytes().len()));
        // SAFETY: the driver's own unconnected dbc; the input string outlives the call; a
        // guarded output buffer of `blen` units.
        let rc = unsafe {
            if wide {
                let f = entry!(c.d, SQLDriverConnectW).expect("checked above");
                f(dbc, null_mut(), w.as_ptr(), w.len() as i16, g.ptr().cast(), blen as i16, &mut len, DriverCompletion::SQL_DRIVER_NOPROMPT)
            } else {
                let f = entry!(c.d, SQLDriverConnect).expect("checked above");
                f(dbc, null_mut(), conn.as_ptr(), conn.len() as i16, g.ptr(), blen as i16, &mut len, DriverCompletion::SQL_DRIVER_NOPROMPT)
            }
        };
        let states = diag_rec(c.d, HandleType::SQL_HANDLE_DBC, dbc, 1, 512).map(|r| vec![r.state]).unwrap_or_default();
        if rc.is_success() {
            if let Some(d) = disconnect {
                // SAFETY: the connection just made.
                unsafe { d(dbc) };
            }
        }
        free_env_dbc(c, env, dbc);
        eprintln!("conform: {name}: done");
        Out { rc, len: len as isize, states }
    });
    p.map_or_else(|r| r, verdict)
}

fn buf_driverconnect_a(c: &Ctx) -> Res {
    driverconnect_probe(c, false)
}
fn buf_driverconnect_w(c: &Ctx) -> Res {
    driverconnect_probe(c, true)
}

// ------------------------------------------------------------------ S12: async cancelled (driver side)

/// A statement of the driver alone with SQL_ATTR_ASYNC_ENABLE on, or why not.
fn async_stmt(c: &Ctx, dc: &DConn) -> Result<SqlHandle, Res> {
    if async_mode(c, dc) == SQL_AM_NONE as u32 {
        return Err(unsupported("SQL_ASYNC_MODE = SQL_AM_NONE"));
    }
    let s = dc.stmt().map_err(Err)?;
    let rc = dc.set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_ON);
    if !rc.is_success() {
        let st = first_state(dc, s);
        dc.free_stmt(s);
        return Err(fail(format!("SQL_ASYNC_MODE is not SQL_AM_NONE but SQLSetStmtAttr(SQL_ATTR_ASYNC_ENABLE, ON) returned {rc:?} {st}")));
    }
    Ok(s)
}

/// The statement the S12 checks run asynchronously: the long query when known.
fn s12_query(c: &Ctx) -> String {
    c.t.long_query.clone().unwrap_or_else(|| "SELECT 1".into())
}

/// Starts `sql` asynchronously and cancels it (S11 → S12). Ok((stmt, text)) in S12;
/// Err(outcome) when the driver completed at once (nothing to cancel) or failed.
fn enter_s12(c: &Ctx, dc: &DConn, sql: &str, w: &[u16]) -> Result<(SqlHandle, SqlReturn), Res> {
    let s = async_stmt(c, dc)?;
    let rc = dc.exec_text(s, sql, w);
    if rc != SqlReturn::SQL_STILL_EXECUTING {
        dc.close(s);
        dc.free_stmt(s);
        return Err(if rc.is_success() {
            unsupported(format!("the asynchronous SQLExecDirect({sql}) completed in its first call: no S11/S12 to observe"))
        } else {
            Err(format!("asynchronous SQLExecDirect({sql}) returned {rc:?}"))
        });
    }
    let cancel = entry!(c.d, SQLCancel).ok_or_else(|| fail("the driver exports no SQLCancel"))?;
    // SAFETY: live statement in S11 (async): the transition under test (§4.8: → S12).
    let crc = unsafe { cancel(s) };
    Ok((s, crc))
}

/// Re-invokes until the call stops returning SQL_STILL_EXECUTING (at most 8 s).
fn finish_async(dc: &DConn, s: SqlHandle, sql: &str, w: &[u16]) -> (SqlReturn, usize) {
    let t0 = Instant::now();
    let mut n = 0;
    loop {
        let rc = dc.exec_text(s, sql, w);
        if rc != SqlReturn::SQL_STILL_EXECUTING || t0.elapsed() > Duration::from_secs(8) {
            return (rc, n);
        }
        n += 1;
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// §4.5, §4.8, §3.3: SQLCancel of an asynchronous statement (S11 → S12); in S12 another
/// SQLCancel keeps S12; re-invoking ends with SQL_ERROR + HY008 (the cancel worked) or the
/// normal result (it came too late); afterwards the statement executes again (S1).
fn state_s12_cancel(c: &Ctx) -> Res {
    let dc = c.dconn()?;
    let sql = s12_query(c);
    let w: Vec<u16> = sql.encode_utf16().collect();
    let (s, crc) = match enter_s12(c, &dc, &sql, &w) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut problems = Vec::new();
    if crc != SqlReturn::SQL_SUCCESS && crc != SqlReturn::SQL_ERROR {
        problems.push(format!("SQLCancel of an asynchronous statement returned {crc:?} (§3.2: SQL_SUCCESS or SQL_ERROR)"));
    }
    let cancel = entry!(c.d, SQLCancel).ok_or("no SQLCancel")?;
    // SAFETY: live statement in S12: §4.8 "S12 stays S12".
    let crc2 = unsafe { cancel(s) };
    if crc2 != SqlReturn::SQL_SUCCESS && crc2 != SqlReturn::SQL_ERROR {
        problems.push(format!("a second SQLCancel in S12 returned {crc2:?}"));
    }
    let (rc, stills) = finish_async(&dc, s, &sql, &w);
    let st = if rc == SqlReturn::SQL_ERROR { first_state(&dc, s) } else { String::new() };
    if rc == SqlReturn::SQL_STILL_EXECUTING {
        problems
            .push(format!("after SQLCancel the re-invoked SQLExecDirect still returned SQL_STILL_EXECUTING after 8 s ({stills} times)"));
    } else if rc == SqlReturn::SQL_ERROR && st != "HY008" {
        problems.push(format!("the cancelled asynchronous SQLExecDirect ended with SQL_ERROR {st}, expected HY008 (§4.5: cancel worked only if SQL_ERROR + HY008)"));
    } else if !rc.is_success() && rc != SqlReturn::SQL_ERROR {
        problems.push(format!("the cancelled asynchronous SQLExecDirect ended with {rc:?}"));
    }
    // Back in S1 (or S5 when the cancel came too late): close and run again, synchronously
    // (the state is the point, not another asynchronous run).
    dc.close(s);
    dc.set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_OFF);
    if rc != SqlReturn::SQL_STILL_EXECUTING {
        let (rc2, _) = {
            let q = "SELECT 1";
            let qw: Vec<u16> = q.encode_utf16().collect();
            let first = dc.exec_text(s, q, &qw);
            if first == SqlReturn::SQL_STILL_EXECUTING {
                finish_async(&dc, s, q, &qw)
            } else {
                (first, 0)
            }
        };
        if !rc2.is_success() {
            problems.push(format!(
                "after the cancelled call ended, SQLExecDirect(SELECT 1) on the statement returned {rc2:?} {}",
                first_state(&dc, s)
            ));
        }
        dc.close(s);
    }
    dc.free_stmt(s);
    verdict(problems)
}

/// §4.7: in S11–S12 the functions Appendix B leaves unaffected answer normally from the
/// driver (SQLGetDiagRec, SQLGetInfo, SQLGetFunctions, SQLGetConnectAttr), no HY010.
fn state_s12_unaffected(c: &Ctx) -> Res {
    let dc = c.dconn()?;
    let sql = s12_query(c);
    let w: Vec<u16> = sql.encode_utf16().collect();
    let (s, _) = match enter_s12(c, &dc, &sql, &w) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut problems = Vec::new();
    if let Some((rc, v)) = direct_info_u32(c, &dc, InfoType::SQL_ASYNC_MODE) {
        if !rc.is_success() {
            problems.push(format!(
                "SQLGetInfo(SQL_ASYNC_MODE) in S12 returned {rc:?} {}",
                diag_rec(c.d, HandleType::SQL_HANDLE_DBC, dc.dbc, 1, 512).map(|r| r.state).unwrap_or_default()
            ));
        } else if v > 2 {
            problems.push(format!("SQLGetInfo(SQL_ASYNC_MODE) in S12 = {v}"));
        }
    }
    if let Some(gf) = entry!(c.d, SQLGetFunctions) {
        let mut v = 0u16;
        // SAFETY: live dbc; one SQLUSMALLINT.
        let rc = unsafe { gf(dc.dbc, FunctionId::SQL_API_SQLEXECDIRECT, &mut v) };
        if !rc.is_success() {
            problems.push(format!("SQLGetFunctions(SQL_API_SQLEXECDIRECT) in S12 returned {rc:?}"));
        }
    }
    if let Some(f) = entry!(c.d, SQLGetConnectAttrW).or(entry!(c.d, SQLGetConnectAttr)) {
        let mut v = 0u64;
        let mut len = 0i32;
        // SAFETY: live dbc; 8-byte buffer for an SQLUINTEGER attribute.
        let rc = unsafe { f(dc.dbc, ConnAttr::SQL_ATTR_AUTOCOMMIT, (&mut v as *mut u64).cast(), 8, &mut len) };
        if !rc.is_success() {
            problems.push(format!("SQLGetConnectAttr(SQL_ATTR_AUTOCOMMIT) in S12 returned {rc:?}"));
        }
    }
    // SQLGetDiagRec in S12: SQL_SUCCESS or SQL_NO_DATA, never an error (§1.12: the records
    // gathered so far).
    let rec = if let Some(g) = entry!(c.d, SQLGetDiagRecW) {
        let (mut st, mut msg, mut native, mut len) = ([0u16; 6], [0u16; 256], 0i32, 0i16);
        // SAFETY: live statement; buffers of the sizes passed.
        unsafe { g(HandleType::SQL_HANDLE_STMT, s, 1, st.as_mut_ptr(), &mut native, msg.as_mut_ptr(), 256, &mut len) }
    } else if let Some(g) = entry!(c.d, SQLGetDiagRec) {
        let (mut st, mut msg, mut native, mut len) = ([0u8; 6], [0u8; 256], 0i32, 0i16);
        // SAFETY: as above.
        unsafe { g(HandleType::SQL_HANDLE_STMT, s, 1, st.as_mut_ptr(), &mut native, msg.as_mut_ptr(), 256, &mut len) }
    } else {
        SqlReturn::SQL_NO_DATA
    };
    if !rec.is_success() && rec != SqlReturn::SQL_NO_DATA {
        problems.push(format!("SQLGetDiagRec(SQL_HANDLE_STMT, 1) in S12 returned {rec:?}"));
    }
    let (rc, _) = finish_async(&dc, s, &sql, &w);
    dc.close(s);
    dc.free_stmt(s);
    if rc == SqlReturn::SQL_STILL_EXECUTING {
        problems.push("after SQLCancel the re-invoked SQLExecDirect still returned SQL_STILL_EXECUTING after 8 s".into());
    }
    verdict(problems)
}

// ------------------------------------------------------------------ SQLCancelHandle

/// §3.4, §3.2: SQLCancelHandle(SQL_HANDLE_STMT) from another thread on the long query.
fn cancel_handle_stmt(c: &Ctx) -> Res {
    let Some(ch) = entry!(c.d, SQLCancelHandle) else {
        return unsupported("the driver exports no SQLCancelHandle (ODBC 3.8)");
    };
    let Some(q) = c.t.long_query.clone() else {
        return skip("no long query known for this driver (LongQuery in conform.ini)");
    };
    let dc = c.dconn()?;
    let s = H(dc.stmt()?);
    let (rc, state, crc, took) = std::thread::scope(|sc| {
        let dcr = &dc;
        let q = &q;
        let h = sc.spawn(move || {
            let s = s;
            let t0 = Instant::now();
            let mut rc = dcr.exec(s.0, q);
            if rc.is_success() {
                if let Some(fetch) = entry!(dcr.d, SQLFetch) {
                    // SAFETY: live statement with a result set.
                    rc = unsafe { fetch(s.0) };
                }
            }
            let state = if rc == SqlReturn::SQL_ERROR { first_state(dcr, s.0) } else { String::new() };
            (rc, state, t0.elapsed())
        });
        std::thread::sleep(Duration::from_millis(300));
        // SAFETY: live statement; the cross-thread cancel under test (§3.4: STMT → SQLCancel).
        let crc = unsafe { ch(HandleType::SQL_HANDLE_STMT, s.0) };
        let (rc, state, took) = h.join().expect("exec thread");
        (rc, state, crc, took)
    });
    dc.close(s.0);
    dc.free_stmt(s.0);
    if rc == SqlReturn::SQL_ERROR && state == "HY008" {
        pass()
    } else {
        fail(format!(
            "the long query cancelled with SQLCancelHandle(SQL_HANDLE_STMT) (returned {crc:?}) from another thread after 300 ms: {rc:?} {state} after {} ms, expected SQL_ERROR HY008",
            took.as_millis()
        ))
    }
}

/// §3.4: SQLCancelHandle(SQL_HANDLE_DBC): a no-op on an idle connection (which stays
/// usable); with connection-level async, it cancels the outstanding connection function
/// (SQL_ERROR + HY008, or the normal result when too late).
fn cancel_handle_dbc(c: &Ctx) -> Res {
    let Some(ch) = entry!(c.d, SQLCancelHandle) else {
        return unsupported("the driver exports no SQLCancelHandle (ODBC 3.8)");
    };
    let dc = c.dconn()?;
    let mut problems = Vec::new();
    // SAFETY: live, idle dbc.
    let rc = unsafe { ch(HandleType::SQL_HANDLE_DBC, dc.dbc) };
    if rc != SqlReturn::SQL_SUCCESS {
        let st = diag_rec(c.d, HandleType::SQL_HANDLE_DBC, dc.dbc, 1, 512).map(|r| r.state).unwrap_or_default();
        problems
            .push(format!("SQLCancelHandle(SQL_HANDLE_DBC) on an idle connection returned {rc:?} {st}, expected SQL_SUCCESS (a no-op)"));
    }
    if direct_query_text(&dc, "SELECT 1").is_none() {
        problems.push("after SQLCancelHandle(SQL_HANDLE_DBC) on an idle connection, SELECT 1 failed".into());
    }
    if let Ok(dbc_async) = dbc_async_on(c, &dc) {
        if dbc_async {
            let end = entry!(c.d, SQLEndTran).ok_or("no SQLEndTran")?;
            // SAFETY: live dbc with connection-level async on.
            let rc = unsafe { end(HandleType::SQL_HANDLE_DBC, dc.dbc, CompletionType::SQL_COMMIT) };
            if rc == SqlReturn::SQL_STILL_EXECUTING {
                // SAFETY: live dbc with an outstanding async SQLEndTran: the cancel under test.
                let crc = unsafe { ch(HandleType::SQL_HANDLE_DBC, dc.dbc) };
                let t0 = Instant::now();
                let mut rc = SqlReturn::SQL_STILL_EXECUTING;
                while rc == SqlReturn::SQL_STILL_EXECUTING && t0.elapsed() < Duration::from_secs(8) {
                    std::thread::sleep(Duration::from_millis(2));
                    // SAFETY: as above (the polling re-invocation, §1.7).
                    rc = unsafe { end(HandleType::SQL_HANDLE_DBC, dc.dbc, CompletionType::SQL_COMMIT) };
                }
                let st = if rc == SqlReturn::SQL_ERROR {
                    diag_rec(c.d, HandleType::SQL_HANDLE_DBC, dc.dbc, 1, 512).map(|r| r.state).unwrap_or_default()
                } else {
                    String::new()
                };
                if crc != SqlReturn::SQL_SUCCESS && crc != SqlReturn::SQL_ERROR {
                    problems.push(format!("SQLCancelHandle(SQL_HANDLE_DBC) of an asynchronous SQLEndTran returned {crc:?}"));
                }
                if rc == SqlReturn::SQL_STILL_EXECUTING {
                    problems.push("the cancelled asynchronous SQLEndTran still returned SQL_STILL_EXECUTING after 8 s".into());
                } else if rc == SqlReturn::SQL_ERROR && st != "HY008" {
                    problems.push(format!("the cancelled asynchronous SQLEndTran ended with SQL_ERROR {st}, expected HY008"));
                }
            }
            dbc_async_off(c, &dc);
        }
    }
    verdict(problems)
}

// ------------------------------------------------------------------ connection-level async and notification

/// Turns SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE on when the driver says it can: Ok(true) on,
/// Ok(false) not capable, Err(detail) when the driver refuses what it claims.
fn dbc_async_on(c: &Ctx, dc: &DConn) -> Result<bool, String> {
    let cap = direct_info_u32(c, dc, InfoType::SQL_ASYNC_DBC_FUNCTIONS).filter(|(rc, _)| rc.is_success()).map(|(_, v)| v).unwrap_or(0);
    if cap != SQL_ASYNC_DBC_CAPABLE {
        return Ok(false);
    }
    let set = entry!(c.d, SQLSetConnectAttrW).or(entry!(c.d, SQLSetConnectAttr)).ok_or("no SQLSetConnectAttr")?;
    // SAFETY: live dbc; integer attribute by value.
    let rc = unsafe { set(dc.dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE, SQL_ASYNC_DBC_ENABLE_ON as SqlPointer, SQL_IS_UINTEGER) };
    if rc != SqlReturn::SQL_SUCCESS && rc != SqlReturn::SQL_SUCCESS_WITH_INFO {
        let st = diag_rec(c.d, HandleType::SQL_HANDLE_DBC, dc.dbc, 1, 512).map(|r| r.state).unwrap_or_default();
        return Err(format!(
            "SQL_ASYNC_DBC_FUNCTIONS = SQL_ASYNC_DBC_CAPABLE but SQLSetConnectAttr(SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE, ON) returned {rc:?} {st} (§1.5: always synchronous)"
        ));
    }
    Ok(true)
}

fn dbc_async_off(c: &Ctx, dc: &DConn) {
    if let Some(set) = entry!(c.d, SQLSetConnectAttrW).or(entry!(c.d, SQLSetConnectAttr)) {
        // SAFETY: live dbc; integer attribute by value.
        unsafe { set(dc.dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE, null_mut(), SQL_IS_UINTEGER) };
    }
}

/// §1.1, §1.4, §1.5, §1.7: with SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE on, SQLEndTran and
/// SQLSetConnectAttr(SQL_ATTR_AUTOCOMMIT) may return SQL_STILL_EXECUTING and end, when
/// polled, with the result a synchronous call would give.
fn async_dbc_functions(c: &Ctx) -> Res {
    let dc = c.dconn()?;
    match dbc_async_on(c, &dc) {
        Ok(false) => return unsupported("SQL_ASYNC_DBC_FUNCTIONS is not SQL_ASYNC_DBC_CAPABLE"),
        Err(e) => return fail(e),
        Ok(true) => {}
    }
    let end = entry!(c.d, SQLEndTran).ok_or("no SQLEndTran")?;
    let set = entry!(c.d, SQLSetConnectAttrW).or(entry!(c.d, SQLSetConnectAttr)).ok_or("no SQLSetConnectAttr")?;
    let mut problems = Vec::new();
    let poll = |name: &str, f: &dyn Fn() -> SqlReturn, problems: &mut Vec<String>| {
        let t0 = Instant::now();
        let mut stills = 0;
        let mut rc = f();
        while rc == SqlReturn::SQL_STILL_EXECUTING && t0.elapsed() < Duration::from_secs(5) {
            stills += 1;
            std::thread::sleep(Duration::from_millis(1));
            rc = f();
        }
        if !rc.is_success() {
            let st = diag_rec(c.d, HandleType::SQL_HANDLE_DBC, dc.dbc, 1, 512).map(|r| r.state).unwrap_or_default();
            problems.push(format!("polling {name}: {rc:?} {st} after {stills} SQL_STILL_EXECUTING"));
        }
    };
    // SAFETY (closures): live dbc with connection-level async on; the same arguments at
    // every re-invocation (§1.7).
    poll(
        "SQLSetConnectAttr(SQL_ATTR_AUTOCOMMIT, OFF)",
        &|| unsafe { set(dc.dbc, ConnAttr::SQL_ATTR_AUTOCOMMIT, SQL_AUTOCOMMIT_OFF as SqlPointer, SQL_IS_UINTEGER) },
        &mut problems,
    );
    poll(
        "SQLEndTran(SQL_HANDLE_DBC, SQL_COMMIT)",
        &|| unsafe { end(HandleType::SQL_HANDLE_DBC, dc.dbc, CompletionType::SQL_COMMIT) },
        &mut problems,
    );
    poll(
        "SQLSetConnectAttr(SQL_ATTR_AUTOCOMMIT, ON)",
        &|| unsafe { set(dc.dbc, ConnAttr::SQL_ATTR_AUTOCOMMIT, 1 as SqlPointer, SQL_IS_UINTEGER) },
        &mut problems,
    );
    dbc_async_off(c, &dc);
    verdict(problems)
}

/// §2.3, §2.4, §2.6–§2.10 on a connection: SQL_ATTR_ASYNC_DBC_NOTIFICATION_CALLBACK and
/// _CONTEXT set (the harness plays the DM), an asynchronous SQLEndTran gets one callback per
/// SQL_STILL_EXECUTING, after the return, off the calling thread, with the context, and
/// honest fLast.
fn notify_dbc(c: &Ctx) -> Res {
    let dc = c.dconn()?;
    let cap = direct_info_u32(c, &dc, InfoType::SQL_ASYNC_NOTIFICATION).filter(|(rc, _)| rc.is_success()).map(|(_, v)| v).unwrap_or(0);
    if cap != SQL_ASYNC_NOTIFICATION_CAPABLE {
        return unsupported("SQL_ASYNC_NOTIFICATION is not SQL_ASYNC_NOTIFICATION_CAPABLE");
    }
    match dbc_async_on(c, &dc) {
        Ok(false) => return unsupported("notification capable, but SQL_ASYNC_DBC_FUNCTIONS is not SQL_ASYNC_DBC_CAPABLE"),
        Err(e) => return fail(e),
        Ok(true) => {}
    }
    probe_reset();
    let ctx = next_ctx_base() + 1;
    let set = entry!(c.d, SQLSetConnectAttrW).or(entry!(c.d, SQLSetConnectAttr)).ok_or("no SQLSetConnectAttr")?;
    for (attr, v) in [
        (ConnAttr::SQL_ATTR_ASYNC_DBC_NOTIFICATION_CALLBACK, harness_callback as SqlAsyncNotificationCallback as usize),
        (ConnAttr::SQL_ATTR_ASYNC_DBC_NOTIFICATION_CONTEXT, ctx),
    ] {
        // SAFETY: live dbc; pointer attributes by value (§2.4).
        let rc = unsafe { set(dc.dbc, attr, v as SqlPointer, SQL_IS_POINTER) };
        if !rc.is_success() {
            return fail(format!("notification capable, but SQLSetConnectAttr({}) returned {rc:?}", attr.0));
        }
    }
    let end = entry!(c.d, SQLEndTran).ok_or("no SQLEndTran")?;
    let me = gettid();
    // SAFETY (closure): live dbc in notification mode; the same arguments each time.
    let call = || unsafe { end(HandleType::SQL_HANDLE_DBC, dc.dbc, CompletionType::SQL_COMMIT) };
    let (rc, stills, mut problems) = drive_with(ctx, call);
    std::thread::sleep(Duration::from_millis(100));
    let recs: Vec<CbRec> = probe_recs().into_iter().filter(|r| !stale(r.ctx, ctx - 1)).collect();
    if let Some(bad) = recs.iter().find(|r| r.ctx != ctx) {
        problems.push(format!("callback carried context {:#x}, the attribute is {ctx:#x}", bad.ctx));
    }
    let mine = recs.iter().filter(|r| r.ctx == ctx).count();
    if mine != stills && problems.is_empty() {
        problems.push(format!("{mine} callbacks for {stills} SQL_STILL_EXECUTING of SQLEndTran"));
    }
    if recs.iter().any(|r| r.tid == me) {
        problems.push("a callback ran on the calling thread".into());
    } else if recs.iter().any(|r| r.during_call) {
        problems.push("a callback came before SQLEndTran returned SQL_STILL_EXECUTING".into());
    }
    if !rc.is_success() && problems.is_empty() {
        problems.push(format!("SQLEndTran ended with {rc:?}"));
    }
    // SAFETY: live dbc; back to no notification, async off.
    unsafe { set(dc.dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_NOTIFICATION_CALLBACK, null_mut(), SQL_IS_POINTER) };
    dbc_async_off(c, &dc);
    if problems.is_empty() && stills == 0 {
        return unsupported("SQLEndTran completed at once (no SQL_STILL_EXECUTING to observe)");
    }
    verdict(problems)
}
