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
}

pub struct Group {
    pub name: &'static str,
    pub checks: &'static [Check],
}

macro_rules! check {
    ($id:literal, $rule:literal, $f:ident) => {
        Check { id: $id, rule: $rule, run: $f }
    };
}

/// Every check group, in run order.
pub static GROUPS: &[Group] = &[
    Group { name: "exports", checks: &[check!("exports.claims-exported", "§6.5, §6.6", exports_claims)] },
    Group {
        name: "info",
        checks: &[check!("info.required", "MS SQLGetInfo (GI)", info_required), check!("info.async-answers", "§1.4, §2.6", info_async)],
    },
    Group { name: "handles", checks: &[check!("handles.lifecycle", "Appendix B §4.3, §4.5", handles_lifecycle)] },
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
            check!("buffers.getdata.char", "MS SQLGetData", buf_getdata_char),
            check!("buffers.getdata.wchar", "MS SQLGetData", buf_getdata_wchar),
            check!("buffers.getdiagrec.a", "MS SQLGetDiagRec", buf_diag_a),
            check!("buffers.getdiagrec.w", "MS SQLGetDiagRec", buf_diag_w),
        ],
    },
    Group { name: "unicode", checks: &[check!("unicode.roundtrip", "MS Unicode drivers", unicode_roundtrip)] },
    Group {
        name: "state",
        checks: &[
            check!("state.fetch-without-cursor", "§4.5 (SQLFetch S4: 24000)", state_fetch_s4),
            check!("state.exec-with-open-cursor", "§4.5 (SQLExecDirect S5: 24000)", state_exec_s5),
            check!("state.getdata-before-fetch", "§4.5 (SQLGetData S5: 24000)", state_getdata_s5),
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
            check!("cancel.cross-thread", "§3.1, §3.2", cancel_cross_thread),
            check!("cancel.idle-keeps-cursor", "§3.3", cancel_idle),
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
    Group { name: "async", checks: &[check!("async.polling", "§1.6, §1.7", async_polling)] },
    Group {
        name: "notify",
        checks: &[
            check!("notify.one-callback-per-still-executing", "§2.7", notify_one_per_still),
            check!("notify.thread-and-timing", "§2.8", notify_thread),
            check!("notify.context", "§2.7, §2.10", notify_context),
            check!("notify.flast", "§2.10", notify_flast),
            check!("notify.concurrent", "§2.10", notify_concurrent),
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
    let dc = c.dconn()?;
    let mut map = [0u16; 250];
    // SAFETY: live dbc; 250-word array as SQL_API_ODBC3_ALL_FUNCTIONS requires.
    let rc = unsafe { gf(dc.dbc, FunctionId::SQL_API_ODBC3_ALL_FUNCTIONS, map.as_mut_ptr()) };
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
    // A driver without the Unicode API never sees SQL_C_WCHAR through the DM: the DM
    // converts it (docs/decisions.md #77), so the probe would test the DM.
    if ["SQLDriverConnectW", "SQLConnectW", "SQLExecDirectW", "SQLPrepareW"].iter().all(|n| !c.d.has(n)) {
        return skip("the driver has no Unicode API: the DM converts SQL_C_WCHAR itself (decision #77); not a driver check");
    }
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

/// Drives one notification-mode SQLExecDirect to its end, waiting for one callback per
/// SQL_STILL_EXECUTING: (final code, STILL_EXECUTING count, f_last seen before each
/// re-invocation, problems).
fn drive(dc: &DConn, s: SqlHandle, ctx: usize, sql: &str) -> (SqlReturn, usize, Vec<String>) {
    let w: Vec<u16> = sql.encode_utf16().collect();
    let mut stills = 0;
    let mut problems = Vec::new();
    let count = || probe_recs().iter().filter(|r| r.ctx == ctx).count();
    let base = count();
    let t0 = Instant::now();
    let mut rc = in_call(|| dc.exec_text(s, sql, &w));
    while rc == SqlReturn::SQL_STILL_EXECUTING {
        stills += 1;
        if probe_wait(ctx, base + stills, Duration::from_secs(3)) < base + stills {
            problems.push(format!("no callback within 3 s after SQL_STILL_EXECUTING #{stills}"));
            break;
        }
        let f_last = probe_recs().iter().filter(|r| r.ctx == ctx).nth(base + stills - 1).is_some_and(|r| r.f_last);
        rc = in_call(|| dc.exec_text(s, sql, &w));
        if f_last && rc == SqlReturn::SQL_STILL_EXECUTING {
            problems.push(format!("callback #{stills} had fLast = TRUE but the re-invocation returned SQL_STILL_EXECUTING again"));
        }
        if t0.elapsed() > Duration::from_secs(3) {
            problems.push(format!("still executing after 3 s and {stills} SQL_STILL_EXECUTING"));
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
    let mut rcs: Vec<SqlReturn> = stmts.iter().map(|s| dc.exec_text(s.0, sql, &w)).collect();
    let mut seen = [0usize; 4];
    let t0 = Instant::now();
    while rcs.contains(&SqlReturn::SQL_STILL_EXECUTING) && t0.elapsed() < Duration::from_secs(3) {
        for i in 0..4 {
            if rcs[i] == SqlReturn::SQL_STILL_EXECUTING {
                let ctx = base + i;
                let have = probe_recs().iter().filter(|r| r.ctx == ctx).count();
                if have > seen[i] {
                    seen[i] = have;
                    rcs[i] = dc.exec_text(stmts[i].0, sql, &w);
                }
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
