//! Test harness shared by the integration tests: loads libodbc_refdriver.so with
//! libloading and plays the Driver Manager (no DM in between), including a notification
//! callback that records thread, time, context and fLast of every call.
#![allow(dead_code, non_snake_case)]

pub mod locate;

use odbc_dm_abi::fns;
use odbc_dm_abi::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, LazyLock, Mutex};
use std::time::{Duration, Instant};

pub const SQL_ATTR_REFDRIVER_EVENT_LOG: i32 = 30001;
pub const SQL_ATTR_REFDRIVER_CLEAR_EVENT_LOG: i32 = 30002;
pub const STILL: SqlReturn = SqlReturn::SQL_STILL_EXECUTING;

pub struct Driver {
    _lib: libloading::Library,
    pub SQLAllocHandle: fns::SQLAllocHandle,
    pub SQLFreeHandle: fns::SQLFreeHandle,
    pub SQLFreeStmt: fns::SQLFreeStmt,
    pub SQLSetEnvAttr: fns::SQLSetEnvAttr,
    pub SQLSetConnectAttrW: fns::SQLSetConnectAttrW,
    pub SQLGetConnectAttrW: fns::SQLGetConnectAttrW,
    pub SQLSetStmtAttrW: fns::SQLSetStmtAttrW,
    pub SQLDriverConnectW: fns::SQLDriverConnectW,
    pub SQLConnectW: fns::SQLConnectW,
    pub SQLDisconnect: fns::SQLDisconnect,
    pub SQLGetInfoW: fns::SQLGetInfoW,
    pub SQLGetFunctions: fns::SQLGetFunctions,
    pub SQLPrepareW: fns::SQLPrepareW,
    pub SQLExecute: fns::SQLExecute,
    pub SQLExecDirectW: fns::SQLExecDirectW,
    pub SQLBindParameter: fns::SQLBindParameter,
    pub SQLNumParams: fns::SQLNumParams,
    pub SQLParamData: fns::SQLParamData,
    pub SQLPutData: fns::SQLPutData,
    pub SQLNumResultCols: fns::SQLNumResultCols,
    pub SQLDescribeColW: fns::SQLDescribeColW,
    pub SQLColAttributeW: fns::SQLColAttributeW,
    pub SQLBindCol: fns::SQLBindCol,
    pub SQLFetch: fns::SQLFetch,
    pub SQLFetchScroll: fns::SQLFetchScroll,
    pub SQLExtendedFetch: fns::SQLExtendedFetch,
    pub SQLDescribeParam: fns::SQLDescribeParam,
    pub SQLGetTypeInfoW: fns::SQLGetTypeInfoW,
    pub SQLGetData: fns::SQLGetData,
    pub SQLRowCount: fns::SQLRowCount,
    pub SQLMoreResults: fns::SQLMoreResults,
    pub SQLCloseCursor: fns::SQLCloseCursor,
    pub SQLEndTran: fns::SQLEndTran,
    pub SQLTablesW: fns::SQLTablesW,
    pub SQLColumnsW: fns::SQLColumnsW,
    pub SQLPrimaryKeysW: fns::SQLPrimaryKeysW,
    pub SQLSpecialColumnsW: fns::SQLSpecialColumnsW,
    pub SQLGetDiagRecW: fns::SQLGetDiagRecW,
    pub SQLCancel: fns::SQLCancel,
    pub SQLCancelHandle: fns::SQLCancelHandle,
}

macro_rules! sym {
    ($lib:expr, $name:ident) => {{
        // SAFETY: the symbol is declared with the matching odbc_dm_abi::fns type.
        let s: libloading::Symbol<fns::$name> = unsafe { $lib.get(concat!(stringify!($name), "\0").as_bytes()) }
            .unwrap_or_else(|e| panic!("symbol {} missing: {e}", stringify!($name)));
        *s
    }};
}

pub static DRV: LazyLock<Driver> = LazyLock::new(|| {
    let path = locate::refdriver_so();
    // SAFETY: loading our own driver library; its initialisers are plain Rust statics.
    let lib = unsafe { libloading::Library::new(&path) }.expect("load driver");
    Driver {
        SQLAllocHandle: sym!(lib, SQLAllocHandle),
        SQLFreeHandle: sym!(lib, SQLFreeHandle),
        SQLFreeStmt: sym!(lib, SQLFreeStmt),
        SQLSetEnvAttr: sym!(lib, SQLSetEnvAttr),
        SQLSetConnectAttrW: sym!(lib, SQLSetConnectAttrW),
        SQLGetConnectAttrW: sym!(lib, SQLGetConnectAttrW),
        SQLSetStmtAttrW: sym!(lib, SQLSetStmtAttrW),
        SQLDriverConnectW: sym!(lib, SQLDriverConnectW),
        SQLConnectW: sym!(lib, SQLConnectW),
        SQLDisconnect: sym!(lib, SQLDisconnect),
        SQLGetInfoW: sym!(lib, SQLGetInfoW),
        SQLGetFunctions: sym!(lib, SQLGetFunctions),
        SQLPrepareW: sym!(lib, SQLPrepareW),
        SQLExecute: sym!(lib, SQLExecute),
        SQLExecDirectW: sym!(lib, SQLExecDirectW),
        SQLBindParameter: sym!(lib, SQLBindParameter),
        SQLNumParams: sym!(lib, SQLNumParams),
        SQLParamData: sym!(lib, SQLParamData),
        SQLPutData: sym!(lib, SQLPutData),
        SQLNumResultCols: sym!(lib, SQLNumResultCols),
        SQLDescribeColW: sym!(lib, SQLDescribeColW),
        SQLColAttributeW: sym!(lib, SQLColAttributeW),
        SQLBindCol: sym!(lib, SQLBindCol),
        SQLFetch: sym!(lib, SQLFetch),
        SQLFetchScroll: sym!(lib, SQLFetchScroll),
        SQLExtendedFetch: sym!(lib, SQLExtendedFetch),
        SQLDescribeParam: sym!(lib, SQLDescribeParam),
        SQLGetTypeInfoW: sym!(lib, SQLGetTypeInfoW),
        SQLGetData: sym!(lib, SQLGetData),
        SQLRowCount: sym!(lib, SQLRowCount),
        SQLMoreResults: sym!(lib, SQLMoreResults),
        SQLCloseCursor: sym!(lib, SQLCloseCursor),
        SQLEndTran: sym!(lib, SQLEndTran),
        SQLTablesW: sym!(lib, SQLTablesW),
        SQLColumnsW: sym!(lib, SQLColumnsW),
        SQLPrimaryKeysW: sym!(lib, SQLPrimaryKeysW),
        SQLSpecialColumnsW: sym!(lib, SQLSpecialColumnsW),
        SQLGetDiagRecW: sym!(lib, SQLGetDiagRecW),
        SQLCancel: sym!(lib, SQLCancel),
        SQLCancelHandle: sym!(lib, SQLCancelHandle),
        _lib: lib,
    }
});

pub fn drv() -> &'static Driver {
    &DRV
}

/// NUL-terminated UTF-16.
pub fn w(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

pub fn gettid() -> i64 {
    // SAFETY: gettid has no arguments and no side effects.
    unsafe { libc::syscall(libc::SYS_gettid) }
}

// ------------------------------------------------------------------ callback probe

#[derive(Clone, Debug)]
pub struct CbRec {
    pub ctx: usize,
    pub f_last: i32,
    pub tid: i64,
    pub at: Instant,
    /// The test-DM's driver call was in progress when the callback started *and* did not
    /// return while the callback waited 200 ms for it: the callback came before the return
    /// (a call that is merely returning concurrently clears the flag within microseconds).
    pub during_call: bool,
    /// The call was in progress when the callback started (may be a benign race).
    pub overlapped: bool,
}

#[derive(Default)]
pub struct Probe {
    pub recs: Mutex<Vec<CbRec>>,
    pub cv: Condvar,
    pub in_call: AtomicBool,
}

static PROBES: LazyLock<Mutex<HashMap<usize, Arc<Probe>>>> = LazyLock::new(|| Mutex::new(HashMap::new()));
/// Callbacks whose context matched no probe (e.g. the WrongContext fault).
pub static STRAYS: LazyLock<Mutex<Vec<CbRec>>> = LazyLock::new(|| Mutex::new(Vec::new()));
static NEXT_CTX: AtomicUsize = AtomicUsize::new(0x5EED_0000);

/// The test's notification callback (what a DM would install). The context is a plain
/// integer id, never dereferenced, so a garbage context cannot crash the test.
pub unsafe extern "C" fn test_callback(ctx: SqlPointer, f_last: Bool) -> SqlReturn {
    let ctx = ctx as usize;
    let probe = PROBES.lock().unwrap().get(&ctx).cloned();
    let at = Instant::now();
    let overlapped = probe.as_ref().is_some_and(|p| p.in_call.load(Ordering::SeqCst));
    let mut during = overlapped;
    if let Some(p) = &probe {
        let end = Instant::now() + Duration::from_millis(200);
        while during && Instant::now() < end {
            std::thread::yield_now();
            during = p.in_call.load(Ordering::SeqCst);
        }
    }
    let rec = CbRec { ctx, f_last, tid: gettid(), at, during_call: during, overlapped };
    match probe {
        Some(p) => {
            p.recs.lock().unwrap().push(rec);
            p.cv.notify_all();
            SqlReturn::SQL_SUCCESS
        }
        None => {
            STRAYS.lock().unwrap().push(rec);
            SqlReturn::SQL_ERROR
        }
    }
}

/// The callback's address, as passed in SQL_ATTR_ASYNC_*_NOTIFICATION_CALLBACK.
pub fn cb_addr() -> usize {
    let f: SqlAsyncNotificationCallback = test_callback;
    f as usize
}

/// Registers a new probe; returns (context value, probe).
pub fn new_probe() -> (usize, Arc<Probe>) {
    let ctx = NEXT_CTX.fetch_add(0x10, Ordering::SeqCst);
    let p = Arc::new(Probe::default());
    PROBES.lock().unwrap().insert(ctx, p.clone());
    (ctx, p)
}

impl Probe {
    /// Waits until at least `n` callbacks arrived (or `timeout`); returns the count.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> usize {
        let end = Instant::now() + timeout;
        let mut g = self.recs.lock().unwrap();
        while g.len() < n {
            let now = Instant::now();
            if now >= end {
                break;
            }
            g = self.cv.wait_timeout(g, end - now).unwrap().0;
        }
        g.len()
    }
    pub fn recs(&self) -> Vec<CbRec> {
        self.recs.lock().unwrap().clone()
    }
    /// Runs a driver call with `in_call` raised, so callbacks can tell if they came early.
    pub fn call(&self, f: impl FnOnce() -> SqlReturn) -> SqlReturn {
        self.in_call.store(true, Ordering::SeqCst);
        let r = f();
        self.in_call.store(false, Ordering::SeqCst);
        r
    }
}

// ------------------------------------------------------------------ handle helpers

#[derive(Clone, Copy, Debug)]
pub struct H(pub SqlHandle);
// SAFETY: handles are opaque integers to the test; the driver is thread-safe.
unsafe impl Send for H {}
unsafe impl Sync for H {}

pub fn alloc_env() -> H {
    let d = drv();
    let mut env: SqlHandle = std::ptr::null_mut();
    // SAFETY: valid out pointer.
    let r = unsafe { (d.SQLAllocHandle)(HandleType::SQL_HANDLE_ENV, std::ptr::null_mut(), &mut env) };
    assert_eq!(r, SqlReturn::SQL_SUCCESS);
    // SAFETY: env handle just allocated.
    let r = unsafe { (d.SQLSetEnvAttr)(env, EnvAttr::SQL_ATTR_ODBC_VERSION, SQL_OV_ODBC3_80 as usize as SqlPointer, 0) };
    assert_eq!(r, SqlReturn::SQL_SUCCESS);
    H(env)
}

pub fn alloc_dbc(env: H) -> H {
    let mut dbc: SqlHandle = std::ptr::null_mut();
    // SAFETY: valid env and out pointer.
    let r = unsafe { (drv().SQLAllocHandle)(HandleType::SQL_HANDLE_DBC, env.0, &mut dbc) };
    assert_eq!(r, SqlReturn::SQL_SUCCESS);
    H(dbc)
}

/// Allocates env+dbc and connects synchronously with `conn_str`.
pub fn connect(conn_str: &str) -> (H, H) {
    let env = alloc_env();
    let dbc = alloc_dbc(env);
    let cs = w(conn_str);
    // SAFETY: valid handle and NUL-terminated string.
    let r = unsafe {
        (drv().SQLDriverConnectW)(
            dbc.0,
            std::ptr::null_mut(),
            cs.as_ptr(),
            SQL_NTS as i16,
            std::ptr::null_mut(),
            0,
            std::ptr::null_mut(),
            DriverCompletion::SQL_DRIVER_NOPROMPT,
        )
    };
    assert!(r.is_success(), "connect failed: {r:?} {:?}", diags(HandleType::SQL_HANDLE_DBC, dbc));
    (env, dbc)
}

pub fn disconnect(env: H, dbc: H) {
    let d = drv();
    // SAFETY: valid handles owned by the test.
    unsafe {
        assert!((d.SQLDisconnect)(dbc.0).is_success());
        assert_eq!((d.SQLFreeHandle)(HandleType::SQL_HANDLE_DBC, dbc.0), SqlReturn::SQL_SUCCESS);
        assert_eq!((d.SQLFreeHandle)(HandleType::SQL_HANDLE_ENV, env.0), SqlReturn::SQL_SUCCESS);
    }
}

pub fn alloc_stmt(dbc: H) -> H {
    let mut st: SqlHandle = std::ptr::null_mut();
    // SAFETY: valid dbc and out pointer.
    let r = unsafe { (drv().SQLAllocHandle)(HandleType::SQL_HANDLE_STMT, dbc.0, &mut st) };
    assert_eq!(r, SqlReturn::SQL_SUCCESS, "{:?}", diags(HandleType::SQL_HANDLE_DBC, dbc));
    H(st)
}

pub fn free_stmt(st: H) {
    // SAFETY: valid statement handle.
    assert_eq!(unsafe { (drv().SQLFreeHandle)(HandleType::SQL_HANDLE_STMT, st.0) }, SqlReturn::SQL_SUCCESS);
}

/// All diagnostic records (SQLSTATE, message) of a handle.
pub fn diags(ht: HandleType, h: H) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for i in 1..20i16 {
        let mut state = [0u16; 6];
        let mut native = 0i32;
        let mut msg = [0u16; 1024];
        let mut len = 0i16;
        // SAFETY: buffers sized as declared.
        let r =
            unsafe { (drv().SQLGetDiagRecW)(ht, h.0, i, state.as_mut_ptr(), &mut native, msg.as_mut_ptr(), msg.len() as i16, &mut len) };
        if !r.is_success() {
            break;
        }
        let s = String::from_utf16_lossy(&state[..5]);
        let m = String::from_utf16_lossy(&msg[..(len.max(0) as usize).min(msg.len())]);
        out.push((s, m));
    }
    out
}

pub fn stmt_states(st: H) -> Vec<String> {
    diags(HandleType::SQL_HANDLE_STMT, st).into_iter().map(|d| d.0).collect()
}

pub fn exec(st: H, sql: &str) -> SqlReturn {
    let s = w(sql);
    // SAFETY: valid statement and NUL-terminated text.
    unsafe { (drv().SQLExecDirectW)(st.0, s.as_ptr(), SQL_NTS) }
}

pub fn exec_ok(st: H, sql: &str) {
    let r = exec(st, sql);
    assert!(r.is_success() || r == SqlReturn::SQL_NO_DATA, "{sql}: {r:?} {:?}", diags(HandleType::SQL_HANDLE_STMT, st));
}

/// Fetches every remaining row, each column via SQLGetData(SQL_C_WCHAR); None = NULL.
/// Switches the statement to synchronous mode first.
pub fn fetch_all(st: H) -> Vec<Vec<Option<String>>> {
    let d = drv();
    set_stmt_attr(st, StmtAttr::SQL_ATTR_ASYNC_ENABLE, 0);
    let mut ncol = 0i16;
    // SAFETY: valid statement, out pointer.
    assert!(unsafe { (d.SQLNumResultCols)(st.0, &mut ncol) }.is_success());
    let mut rows = Vec::new();
    loop {
        // SAFETY: valid statement.
        let r = unsafe { (d.SQLFetch)(st.0) };
        if r == SqlReturn::SQL_NO_DATA {
            break;
        }
        assert!(r.is_success(), "fetch: {r:?} {:?}", stmt_states(st));
        let mut row = Vec::new();
        for c in 1..=ncol as u16 {
            let mut buf = [0u16; 512];
            let mut ind: isize = 0;
            // SAFETY: buffer of 1024 bytes, indicator pointer.
            let r = unsafe { (d.SQLGetData)(st.0, c, CDataType::SQL_C_WCHAR, buf.as_mut_ptr() as SqlPointer, 1024, &mut ind) };
            assert!(r.is_success(), "getdata {r:?}");
            row.push(if ind == -1 { None } else { Some(String::from_utf16_lossy(&buf[..(ind as usize / 2)])) });
        }
        rows.push(row);
    }
    // SAFETY: valid statement.
    unsafe { (d.SQLFreeStmt)(st.0, FreeStmtOption::SQL_CLOSE) };
    rows
}

pub fn set_stmt_attr(st: H, attr: StmtAttr, v: usize) {
    // SAFETY: valid statement; integer/pointer attribute passed by value.
    let r = unsafe { (drv().SQLSetStmtAttrW)(st.0, attr, v as SqlPointer, 0) };
    assert!(r.is_success(), "set stmt attr {attr:?}: {r:?}");
}

pub fn set_conn_attr(dbc: H, attr: i32, v: usize) {
    // SAFETY: valid dbc; integer/pointer attribute passed by value.
    let r = unsafe { (drv().SQLSetConnectAttrW)(dbc.0, ConnAttr(attr), v as SqlPointer, 0) };
    assert!(r.is_success(), "set conn attr {attr}: {r:?}");
}

/// Turns on statement notification mode with the test callback and `ctx`.
pub fn notify_stmt(st: H, ctx: usize) {
    set_stmt_attr(st, StmtAttr::SQL_ATTR_ASYNC_ENABLE, 1);
    set_stmt_attr(st, StmtAttr::SQL_ATTR_ASYNC_STMT_NOTIFICATION_CALLBACK, cb_addr());
    set_stmt_attr(st, StmtAttr::SQL_ATTR_ASYNC_STMT_NOTIFICATION_CONTEXT, ctx);
}

/// The connection's event log, parsed.
/// Waits 50 ms first: the driver logs a callback after the callback function returned, so
/// the last callback's entry may trail the test's view of it by a few microseconds.
pub fn event_log(dbc: H) -> serde_json::Value {
    std::thread::sleep(Duration::from_millis(50));
    let d = drv();
    let mut len = 0i32;
    // SAFETY: length query with a null buffer.
    unsafe { (d.SQLGetConnectAttrW)(dbc.0, ConnAttr(SQL_ATTR_REFDRIVER_EVENT_LOG), std::ptr::null_mut(), 0, &mut len) };
    let mut buf = vec![0u8; len as usize + 16];
    // SAFETY: buffer of buf.len() bytes.
    let r = unsafe {
        (d.SQLGetConnectAttrW)(dbc.0, ConnAttr(SQL_ATTR_REFDRIVER_EVENT_LOG), buf.as_mut_ptr() as SqlPointer, buf.len() as i32, &mut len)
    };
    assert_eq!(r, SqlReturn::SQL_SUCCESS);
    serde_json::from_slice(&buf[..len as usize]).expect("event log is JSON")
}

/// Events of one function on one handle, in log order.
pub fn events(log: &serde_json::Value, func: &str, handle: H, kind: &str) -> Vec<serde_json::Value> {
    log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["func"] == func && e["handle"].as_u64() == Some(handle.0 as u64) && e["kind"] == kind)
        .cloned()
        .collect()
}

/// Drives a notification-mode call like a DM: call, then after each callback re-invoke,
/// until the result is not SQL_STILL_EXECUTING. Returns (final code, number of STILLs).
/// Callbacks already recorded on the probe count as consumed.
pub fn drive(probe: &Probe, mut call: impl FnMut() -> SqlReturn) -> (SqlReturn, usize) {
    let base = probe.recs().len();
    let mut stills = 0;
    let mut r = probe.call(&mut call);
    while r == STILL {
        stills += 1;
        let got = probe.wait_for(base + stills, Duration::from_secs(10));
        assert!(got >= base + stills, "no callback for SQL_STILL_EXECUTING #{stills}");
        r = probe.call(&mut call);
    }
    (r, stills)
}
