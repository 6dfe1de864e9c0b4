//! Notification mode through the DM (§2), against the reference driver loaded like any
//! other driver: the DM installs its callback and a token, the dispatcher thread re-invokes
//! the original function with the same arguments, SQLCompleteAsync collects. Thread
//! identity and arguments are checked from the driver's own event log.

mod common;

use common::rawh::{self, set_stmt_attr, H};
use odbc_dm::abi::*;
use odbc_dm::internals::async_engine::{self, AsyncHost};
use odbc_dm::raw::*;
use odbc_dm::AsyncEvent;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const STMT: HandleType = HandleType::SQL_HANDLE_STMT;

/// Puts `s` in notification mode with a new event.
fn notify_mode(s: H) -> AsyncEvent {
    let ev = AsyncEvent::new().unwrap();
    assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_ON), SqlReturn::SQL_SUCCESS);
    let rc = set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_STMT_EVENT, ev.as_attr() as usize);
    assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{}", rawh::diag_text(STMT, s));
    ev
}

fn exec(s: H, sql: &'static str) -> SqlReturn {
    // SAFETY: live statement; a 'static text outlives the operation (§2.9).
    unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) }
}

/// Waits for the event, then collects: the operation's code.
fn wait_complete(ev: &AsyncEvent, s: H) -> SqlReturn {
    assert!(ev.wait_timeout(Duration::from_secs(20)), "event set on completion (§2.12)");
    let (r, rc) = rawh::complete_async(STMT, s);
    assert_eq!(r, SqlReturn::SQL_SUCCESS, "SQLCompleteAsync after the event");
    ev.reset();
    rc
}

/// Runs one notification-mode call to completion: STILL_EXECUTING first (§7.1 policy),
/// then the code collected by SQLCompleteAsync.
fn run(ev: &AsyncEvent, s: H, first: SqlReturn) -> SqlReturn {
    assert_eq!(first, SqlReturn::SQL_STILL_EXECUTING, "{}", rawh::diag_text(STMT, s));
    wait_complete(ev, s)
}

/// Reads column 1 of the current row through async SQLGetData in notification mode.
fn get_i64(ev: &AsyncEvent, s: H) -> i64 {
    let mut v: i64 = 0;
    let mut ind: SqlLen = 0;
    // SAFETY: `v` and `ind` outlive the operation: we wait for it below.
    let r = unsafe { SQLGetData(s, 1, CDataType::SQL_C_SBIGINT, (&mut v as *mut i64).cast(), 8, &mut ind) };
    assert_eq!(run(ev, s, r), SqlReturn::SQL_SUCCESS, "{}", rawh::diag_text(STMT, s));
    v
}

fn event_log(dbc: H) -> serde_json::Value {
    std::thread::sleep(Duration::from_millis(50));
    let mut len = 0i32;
    // SAFETY: length query with a null buffer (reference driver attribute 30001).
    unsafe { SQLGetConnectAttr(dbc, ConnAttr(30001), std::ptr::null_mut(), 0, &mut len) };
    let mut buf = vec![0u8; len as usize + 16];
    // SAFETY: a buffer of buf.len() bytes.
    let rc = unsafe { SQLGetConnectAttr(dbc, ConnAttr(30001), buf.as_mut_ptr() as SqlPointer, buf.len() as i32, &mut len) };
    assert_eq!(rc, SqlReturn::SQL_SUCCESS);
    serde_json::from_slice(&buf[..len as usize]).expect("event log is JSON")
}

fn events(log: &serde_json::Value, func: &str, drv_handle: usize, kind: &str) -> Vec<serde_json::Value> {
    log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["func"] == func && e["handle"].as_u64() == Some(drv_handle as u64) && e["kind"] == kind)
        .cloned()
        .collect()
}

fn dm_stmt(s: H) -> std::sync::Arc<odbc_dm::internals::handles::Stmt> {
    odbc_dm::internals::handles::stmt(s).expect("live statement")
}

fn gettid() -> u64 {
    // SAFETY: plain syscall.
    unsafe { libc::gettid() as u64 }
}

/// §2.9, §2.7, §2.8: Steps=5 completes; the first call runs on the application's thread,
/// every re-invocation on the DM's dispatcher thread (neither the app's nor the driver's),
/// with the very same argument values (pointers included); one re-invocation per callback.
#[test]
fn s2_9_steps_5_thread_identity_and_same_arguments() {
    common::init();
    let (env, dbc) = rawh::connect(&common::refdriver_conn_str("Steps=5"));
    let s = rawh::stmt(dbc);
    let ev = notify_mode(s);
    let app_tid = gettid();
    assert_eq!(run(&ev, s, exec(s, "SELECT 41 + 1")), SqlReturn::SQL_SUCCESS);
    // SAFETY: live statement.
    assert_eq!(run(&ev, s, unsafe { SQLFetch(s) }), SqlReturn::SQL_SUCCESS);
    assert_eq!(get_i64(&ev, s), 42);
    // SAFETY: live statement.
    assert_eq!(run(&ev, s, unsafe { SQLFetch(s) }), SqlReturn::SQL_NO_DATA);

    let log = event_log(dbc);
    let h = dm_stmt(s).hstmt;
    let calls = events(&log, "SQLExecDirectW", h, "call");
    let callbacks = events(&log, "SQLExecDirectW", h, "callback");
    assert_eq!(calls.len(), 6, "first call + 5 re-invocations: {calls:#?}");
    assert_eq!(callbacks.len(), 5, "one callback per SQL_STILL_EXECUTING (§2.7)");
    assert_eq!(calls[0]["tid"].as_u64(), Some(app_tid), "the first call runs on the application's thread");
    let cb_tids: Vec<u64> = callbacks.iter().map(|c| c["tid"].as_u64().unwrap()).collect();
    for (i, c) in calls.iter().enumerate().skip(1) {
        let tid = c["tid"].as_u64().unwrap();
        assert_ne!(tid, app_tid, "re-invocation {i} not on the app thread");
        assert!(!cb_tids.contains(&tid), "re-invocation {i} not on the driver's thread");
        assert!(c["thread"].as_str().unwrap().starts_with("odbc-dm-dispatc"), "re-invocation {i} on the dispatcher: {c}");
        assert_eq!(c["args"], calls[0]["args"], "re-invocation {i}: same arguments (§2.9)");
        assert_eq!(c["round"].as_u64(), Some(i as u64));
    }
    for cb in &callbacks {
        assert!(cb["thread"].as_str().unwrap().starts_with("refdrv-worker"), "callback on a driver thread (§2.8)");
        assert_eq!(cb["cb_ret"].as_i64(), Some(0), "the DM's callback returned SQL_SUCCESS");
    }
    // The async fetch and get-data went through the dispatcher too.
    assert!(events(&log, "SQLGetData", h, "call").iter().skip(1).all(|c| c["thread"].as_str().unwrap().starts_with("odbc-dm-dispatc")));
    assert_eq!(dm_stmt(s).async_slot.stats.rare(|r| &r.ignored_callbacks), 0);
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

/// §2.11: the original function again is IM017, any other function IM018, until
/// SQLCompleteAsync; §2.13: NO_DATA before the signal, then SUCCESS with the code, then
/// NO_DATA (nothing outstanding). Diagnostics of the IM017/IM018 refusals do not replace
/// the operation's.
#[test]
fn s2_11_s2_13_im017_im018_and_complete_async_codes() {
    common::init();
    let (env, dbc) = rawh::connect(&common::refdriver_conn_str("Steps=2;Delay=150"));
    let s = rawh::stmt(dbc);
    let mut rc: RetCode = 0;
    // §2.13: async not enabled → SQL_ERROR; bad handle → SQL_INVALID_HANDLE; NULL pointer → SQL_ERROR.
    // SAFETY: live statement; valid out pointer.
    assert_eq!(unsafe { SQLCompleteAsync(STMT, s, &mut rc) }, SqlReturn::SQL_ERROR);
    // SAFETY: a garbage handle value is answered, never dereferenced.
    assert_eq!(unsafe { SQLCompleteAsync(STMT, 0x5151 as SqlHandle, &mut rc) }, SqlReturn::SQL_INVALID_HANDLE);
    let ev = notify_mode(s);
    // SAFETY: live statement; null out pointer.
    assert_eq!(unsafe { SQLCompleteAsync(STMT, s, std::ptr::null_mut()) }, SqlReturn::SQL_ERROR);
    assert_eq!(rawh::complete_async(STMT, s).0, SqlReturn::SQL_NO_DATA, "nothing outstanding");

    assert_eq!(exec(s, "SELECT 'x'"), SqlReturn::SQL_STILL_EXECUTING);
    assert_eq!(exec(s, "SELECT 'x'"), SqlReturn::SQL_ERROR);
    assert_eq!(rawh::diag_recs(STMT, s)[0].state, "IM017");
    // SAFETY: live statement.
    assert_eq!(unsafe { SQLNumResultCols(s, &mut 0) }, SqlReturn::SQL_ERROR);
    assert_eq!(rawh::diag_recs(STMT, s)[0].state, "IM018");
    // SAFETY: live statement.
    assert_eq!(unsafe { SQLFreeStmt(s, FreeStmtOption::SQL_CLOSE) }, SqlReturn::SQL_ERROR);
    assert_eq!(rawh::diag_recs(STMT, s)[0].state, "IM018");
    assert_eq!(rawh::complete_async(STMT, s).0, SqlReturn::SQL_NO_DATA, "not signalled yet");
    assert!(!ev.is_set());
    assert_eq!(wait_complete(&ev, s), SqlReturn::SQL_SUCCESS);
    assert!(rawh::diag_recs(STMT, s).is_empty(), "the operation's (empty) diagnostics, not IM018");
    assert_eq!(rawh::complete_async(STMT, s).0, SqlReturn::SQL_NO_DATA, "collected once");
    // The statement is usable again.
    // SAFETY: live statement.
    assert_eq!(run(&ev, s, unsafe { SQLFetch(s) }), SqlReturn::SQL_SUCCESS);
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

/// §2.12: the event is set when the operation fails too, and the driver's diagnostics are
/// read after SQLCompleteAsync (§2.13).
#[test]
fn s2_12_event_set_on_failure_with_driver_diagnostics() {
    common::init();
    let (env, dbc) = rawh::connect(&common::refdriver_conn_str("Steps=2"));
    let s = rawh::stmt(dbc);
    let ev = notify_mode(s);
    assert_eq!(run(&ev, s, exec(s, "SELEC nothing")), SqlReturn::SQL_ERROR);
    let recs = rawh::diag_recs(STMT, s);
    assert!(!recs.is_empty() && recs[0].message.contains("syntax"), "{recs:?}");
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

/// §7.1 (docs/decisions.md #10): with Steps=0 the driver completes on the first call; the
/// application still gets SQL_STILL_EXECUTING, the event, and the code via SQLCompleteAsync.
#[test]
fn s7_1_immediate_completion_is_reported_through_the_event() {
    common::init();
    let (env, dbc) = rawh::connect(&common::refdriver_conn_str("Steps=0"));
    let s = rawh::stmt(dbc);
    let ev = notify_mode(s);
    assert_eq!(run(&ev, s, exec(s, "SELECT 1")), SqlReturn::SQL_SUCCESS);
    let log = event_log(dbc);
    let calls = events(&log, "SQLExecDirectW", dm_stmt(s).hstmt, "call");
    assert_eq!(calls.len(), 1, "no re-invocation when the first call completed");
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

/// §2.14, §3.3: SQLCancel during a notification-mode operation succeeds at once; the event
/// is still signalled; SQLCompleteAsync gives SQL_ERROR with HY008.
#[test]
fn s2_14_cancel_gives_hy008_through_completion() {
    common::init();
    let (env, dbc) = rawh::connect(&common::refdriver_conn_str("Steps=3;Delay=300"));
    let s = rawh::stmt(dbc);
    let ev = notify_mode(s);
    assert_eq!(exec(s, "SELECT 1"), SqlReturn::SQL_STILL_EXECUTING);
    let t0 = Instant::now();
    // SAFETY: live statement.
    assert_eq!(unsafe { SQLCancel(s) }, SqlReturn::SQL_SUCCESS);
    assert_eq!(wait_complete(&ev, s), SqlReturn::SQL_ERROR);
    assert!(t0.elapsed() < Duration::from_secs(2));
    assert_eq!(rawh::diag_recs(STMT, s)[0].state, "HY008");
    // The statement is back in its pre-async state and reusable.
    assert_eq!(run(&ev, s, exec(s, "SELECT 2")), SqlReturn::SQL_SUCCESS);
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

/// §4.6 and the unixODBC S11 bug: an async fetch that ends in SQL_NO_DATA leaves S11, so
/// SQLFreeStmt(SQL_CLOSE) and SQLFreeHandle succeed afterwards.
#[test]
fn s4_6_async_fetch_no_data_then_free_stmt_succeeds() {
    common::init();
    let (env, dbc) = rawh::connect(&common::refdriver_conn_str("Steps=2"));
    let s = rawh::stmt(dbc);
    let ev = notify_mode(s);
    assert_eq!(run(&ev, s, exec(s, "SELECT 1 WHERE 0")), SqlReturn::SQL_SUCCESS);
    // SAFETY: live statement.
    assert_eq!(run(&ev, s, unsafe { SQLFetch(s) }), SqlReturn::SQL_NO_DATA);
    // SAFETY: live statement.
    assert_eq!(unsafe { SQLFreeStmt(s, FreeStmtOption::SQL_CLOSE) }, SqlReturn::SQL_SUCCESS, "{}", rawh::diag_text(STMT, s));
    // SAFETY: live statement.
    assert_eq!(unsafe { SQLFreeHandle(STMT, s) }, SqlReturn::SQL_SUCCESS);
    rawh::disconnect(env, dbc);
}

/// Faults `CallbackOnCallingThread` and `CallbackBeforeReturn` (§2.8 violated, §7.5): the
/// callback arrives while the first call is still on the DM's stack; the call completes
/// correctly, without deadlock, and the early callback is recorded.
#[test]
fn s7_5_callbacks_during_the_call_complete_without_deadlock() {
    common::init();
    for (fault, delay) in ["CallbackOnCallingThread", "CallbackBeforeReturn"].into_iter().flat_map(|f| [0, 5, 50].map(|d| (f, d))) {
        let (env, dbc) = rawh::connect(&common::refdriver_conn_str(&format!("Steps=3;Delay={delay};Fault={fault}")));
        let s = rawh::stmt(dbc);
        let ev = notify_mode(s);
        assert_eq!(run(&ev, s, exec(s, "SELECT 7")), SqlReturn::SQL_SUCCESS, "{fault}");
        // SAFETY: live statement.
        assert_eq!(run(&ev, s, unsafe { SQLFetch(s) }), SqlReturn::SQL_SUCCESS, "{fault}");
        assert_eq!(get_i64(&ev, s), 7, "{fault}");
        // The driver really called back before returning (rel_us < 0), on the calling
        // thread for CallbackOnCallingThread. Whether the DM counts it as "early" depends
        // on whether the dispatcher dequeued it before the call returned; either way the
        // operation must complete exactly once.
        let log = event_log(dbc);
        let cbs = events(&log, "SQLExecDirectW", dm_stmt(s).hstmt, "callback");
        let calls = events(&log, "SQLExecDirectW", dm_stmt(s).hstmt, "call");
        // One callback per SQL_STILL_EXECUTING. Under CallbackOnCallingThread the callback
        // comes before the driver's worker finished the step, so the DM's re-invocation
        // can be premature and get SQL_STILL_EXECUTING (and a callback) again: more rounds.
        let stills = calls.iter().filter(|c| c["still_executing"] == true).count();
        assert_eq!(cbs.len(), stills, "{fault}: one callback per SQL_STILL_EXECUTING");
        if fault == "CallbackBeforeReturn" {
            assert_eq!(stills, 3, "{fault}: Steps=3");
        } else {
            assert!(stills >= 3, "{fault}: at least Steps=3");
        }
        assert!(cbs.iter().all(|c| c["rel_us"].as_i64().unwrap() < 0), "{fault}: callbacks before the return: {cbs:?}");
        if fault == "CallbackOnCallingThread" {
            assert_eq!(cbs[0]["tid"], calls[0]["tid"], "the first callback ran on the application's thread");
        }
        assert_eq!(dm_stmt(s).async_slot.stats.rare(|r| &r.ignored_callbacks), 0, "{fault}: no callback lost or doubled");
        rawh::free_stmt(s);
        rawh::disconnect(env, dbc);
    }
}

/// Fault `DoubleCallback` (§2.7 violated): the second callback of each pair is ignored and
/// counted; results stay correct.
#[test]
fn s2_7_double_callback_is_ignored() {
    common::init();
    for (steps, delay) in [1, 3].into_iter().flat_map(|st| [0, 5, 50].map(|d| (st, d))) {
        let (env, dbc) = rawh::connect(&common::refdriver_conn_str(&format!("Steps={steps};Delay={delay};Fault=DoubleCallback")));
        let s = rawh::stmt(dbc);
        let ev = notify_mode(s);
        assert_eq!(run(&ev, s, exec(s, "SELECT 5")), SqlReturn::SQL_SUCCESS);
        // SAFETY: live statement.
        assert_eq!(run(&ev, s, unsafe { SQLFetch(s) }), SqlReturn::SQL_SUCCESS);
        assert_eq!(get_i64(&ev, s), 5);
        std::thread::sleep(Duration::from_millis(100));
        assert!(dm_stmt(s).async_slot.stats.rare(|r| &r.ignored_callbacks) >= 1, "Steps={steps} Delay={delay}: duplicate ignored");
        rawh::free_stmt(s);
        rawh::disconnect(env, dbc);
    }
}

/// Faults `NoCallback`, `WrongContext` and `StillExecutingForever`: the application's
/// wait with a timeout times out; cancel plus abort (the dispatcher drives the call by
/// polling) ends the operation with HY008 and the statement is usable again. A wrong
/// context is refused with SQL_ERROR (§2.10).
#[test]
fn faults_that_never_complete_time_out_and_abort_cleans_up() {
    common::init();
    for fault in ["NoCallback", "WrongContext", "StillExecutingForever"] {
        let refused_before = async_engine::callback::REFUSED_CALLBACKS.load(Ordering::Relaxed);
        let (env, dbc) = rawh::connect(&common::refdriver_conn_str(&format!("Steps=2;Delay=20;Fault={fault}")));
        let s = rawh::stmt(dbc);
        let ev = notify_mode(s);
        assert_eq!(exec(s, "SELECT 3"), SqlReturn::SQL_STILL_EXECUTING);
        assert!(!ev.wait_timeout(Duration::from_millis(300)), "{fault}: the wait times out");
        if fault == "WrongContext" {
            assert!(async_engine::callback::REFUSED_CALLBACKS.load(Ordering::Relaxed) > refused_before, "0xDEADBEEF refused");
            let log = event_log(dbc);
            let cbs = events(&log, "SQLExecDirectW", dm_stmt(s).hstmt, "callback");
            assert!(cbs.iter().all(|c| c["cb_ret"].as_i64() == Some(-1)), "callback returned SQL_ERROR: {cbs:?}");
        }
        // abort(): cancel, then let the dispatcher poll the captured call.
        let t0 = Instant::now();
        // SAFETY: live statement.
        assert_eq!(unsafe { SQLCancel(s) }, SqlReturn::SQL_SUCCESS);
        async_engine::drive_by_polling(dm_stmt(s).target());
        assert_eq!(wait_complete(&ev, s), SqlReturn::SQL_ERROR, "{fault}");
        assert!(t0.elapsed() < Duration::from_secs(5), "{fault}: abort took {:?}", t0.elapsed());
        assert_eq!(rawh::diag_recs(STMT, s)[0].state, "HY008", "{fault}");
        // Cleaned up: nothing outstanding, the statement can be freed.
        assert_eq!(rawh::complete_async(STMT, s).0, SqlReturn::SQL_NO_DATA);
        rawh::free_stmt(s);
        rawh::disconnect(env, dbc);
    }
}

/// 1,000 notification-mode statements over 50 connections in flight at once (Steps=2),
/// each executing, fetching and reading its own value asynchronously: all complete with
/// the right result.
#[test]
fn thousand_statements_over_fifty_connections() {
    common::init();
    const CONNS: usize = 50;
    const PER: usize = 20;
    let conns: Vec<(H, H)> = (0..CONNS).map(|_| rawh::connect(&common::refdriver_conn_str("Steps=2"))).collect();
    struct Op {
        s: H,
        ev: AsyncEvent,
        want: i64,
        sql: String,
    }
    let mut ops = Vec::new();
    for (c, &(_, dbc)) in conns.iter().enumerate() {
        for k in 0..PER {
            let s = rawh::stmt(dbc);
            let ev = notify_mode(s);
            let want = (c * PER + k) as i64;
            ops.push(Op { s, ev, want, sql: format!("SELECT {want}") });
        }
    }
    // Start all executions before collecting any.
    for op in &ops {
        // SAFETY: live statement; `op.sql` lives in `ops` until after completion.
        let r = unsafe { SQLExecDirect(op.s, op.sql.as_ptr(), op.sql.len() as i32) };
        assert_eq!(r, SqlReturn::SQL_STILL_EXECUTING);
    }
    for op in &ops {
        assert_eq!(wait_complete(&op.ev, op.s), SqlReturn::SQL_SUCCESS);
    }
    for op in &ops {
        // SAFETY: live statement.
        assert_eq!(unsafe { SQLFetch(op.s) }, SqlReturn::SQL_STILL_EXECUTING);
    }
    for op in &ops {
        assert_eq!(wait_complete(&op.ev, op.s), SqlReturn::SQL_SUCCESS);
        assert_eq!(get_i64(&op.ev, op.s), op.want);
    }
    let ignored: u64 = ops.iter().map(|o| dm_stmt(o.s).async_slot.stats.rare(|r| &r.ignored_callbacks)).sum();
    assert_eq!(ignored, 0, "no callback was lost or duplicated");
    for op in ops {
        rawh::free_stmt(op.s);
    }
    for (env, dbc) in conns {
        rawh::disconnect(env, dbc);
    }
}

/// §2.15: the cursor library cannot be combined with notification (S1119). odbc-dm has
/// no cursor library; an application that demands it (SQL_CUR_USE_ODBC) is told so when it
/// asks for notification.
#[test]
fn s2_15_cursor_library_with_notification_is_s1119() {
    common::init();
    let env = rawh::env();
    let mut dbc = std::ptr::null_mut();
    // SAFETY: live env, valid out pointer.
    assert_eq!(unsafe { SQLAllocHandle(HandleType::SQL_HANDLE_DBC, env, &mut dbc) }, SqlReturn::SQL_SUCCESS);
    // SAFETY: live dbc; integer attribute, stored until connect.
    assert_eq!(
        unsafe { SQLSetConnectAttr(dbc, ConnAttr::SQL_ATTR_ODBC_CURSORS, SQL_CUR_USE_ODBC as SqlPointer, 0) },
        SqlReturn::SQL_SUCCESS
    );
    let cs = common::refdriver_conn_str("");
    // SAFETY: live dbc; the string outlives the call.
    let rc = unsafe {
        SQLDriverConnect(
            dbc,
            std::ptr::null_mut(),
            cs.as_ptr(),
            cs.len() as i16,
            std::ptr::null_mut(),
            0,
            std::ptr::null_mut(),
            DriverCompletion::SQL_DRIVER_NOPROMPT,
        )
    };
    assert!(rc.is_success(), "{}", rawh::diag_text(HandleType::SQL_HANDLE_DBC, dbc));
    let s = rawh::stmt(dbc);
    assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_ON), SqlReturn::SQL_SUCCESS);
    let ev = AsyncEvent::new().unwrap();
    assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_STMT_EVENT, ev.as_attr() as usize), SqlReturn::SQL_ERROR);
    assert_eq!(rawh::diag_recs(STMT, s)[0].state, "S1119");
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

/// §1.12: each repeated polling call clears the previous call's diagnostics; §1.8: only one
/// asynchronous function per statement (another one → HY010).
#[test]
fn s1_8_s1_12_polling_one_function_and_fresh_diagnostics() {
    common::init();
    let (env, dbc) = rawh::connect(&common::refdriver_conn_str("Steps=3;Delay=30"));
    let s = rawh::stmt(dbc);
    assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_ON), SqlReturn::SQL_SUCCESS);
    assert_eq!(exec(s, "SELECT 1"), SqlReturn::SQL_STILL_EXECUTING);
    // Another asynchronous function on the same statement → HY010 (§1.8).
    // SAFETY: live statement.
    assert_eq!(unsafe { SQLNumResultCols(s, &mut 0) }, SqlReturn::SQL_ERROR);
    assert_eq!(rawh::diag_recs(STMT, s)[0].state, "HY010");
    // The repeat clears that record (§1.12).
    let mut r = exec(s, "SELECT 1");
    assert!(rawh::diag_recs(STMT, s).is_empty(), "repeat call cleared the diagnostics");
    while r == SqlReturn::SQL_STILL_EXECUTING {
        std::thread::sleep(Duration::from_millis(5));
        r = exec(s, "SELECT 1");
    }
    assert_eq!(r, SqlReturn::SQL_SUCCESS);
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

/// §1.9: while a statement's operation is outstanding, its connection still answers
/// SQLGetInfo, SQLGetConnectAttr and SQLAllocHandle, and the statement SQLGetDiagRec;
/// SQLEndTran is HY010 (§1.11). §2.2/§2.5: the event attribute never reaches the driver;
/// only the DM's callback and context (30/31) do.
#[test]
fn s1_9_s2_5_allowed_calls_during_an_operation_and_event_stays_in_the_dm() {
    common::init();
    let (env, dbc) = rawh::connect(&common::refdriver_conn_str("Steps=2;Delay=150"));
    let s = rawh::stmt(dbc);
    let ev = notify_mode(s);
    assert_eq!(exec(s, "SELECT 1"), SqlReturn::SQL_STILL_EXECUTING);
    let mut buf = [0u8; 64];
    let mut len: i16 = 0;
    // SAFETY: live connection; a 64-byte buffer.
    let rc = unsafe { SQLGetInfo(dbc, InfoType::SQL_DBMS_NAME, buf.as_mut_ptr().cast(), 64, &mut len) };
    assert!(rc.is_success(), "SQLGetInfo during the operation: {}", rawh::diag_text(HandleType::SQL_HANDLE_DBC, dbc));
    let mut ac: usize = 0;
    // SAFETY: live connection; a pointer-sized buffer.
    let rc = unsafe { SQLGetConnectAttr(dbc, ConnAttr::SQL_ATTR_AUTOCOMMIT, (&mut ac as *mut usize).cast(), 0, std::ptr::null_mut()) };
    assert!(rc.is_success());
    let s2 = rawh::stmt(dbc);
    // SAFETY: live connection.
    assert_eq!(unsafe { SQLEndTran(HandleType::SQL_HANDLE_DBC, dbc, CompletionType::SQL_COMMIT) }, SqlReturn::SQL_ERROR);
    assert_eq!(rawh::diag_recs(HandleType::SQL_HANDLE_DBC, dbc)[0].state, "HY010");
    assert!(rawh::diag_recs(STMT, s).is_empty(), "SQLGetDiagRec answers during the operation");
    assert!(!ev.is_set(), "the operation is still running (Delay=150)");
    assert_eq!(wait_complete(&ev, s), SqlReturn::SQL_SUCCESS);
    let log = event_log(dbc);
    let h = dm_stmt(s).hstmt;
    let attrs: Vec<u64> = events(&log, "SQLSetStmtAttrW", h, "call").iter().map(|c| c["args"][0].as_u64().unwrap()).collect();
    assert!(attrs.contains(&30) && attrs.contains(&31), "the DM set its callback and context: {attrs:?}");
    assert!(!attrs.contains(&29), "SQL_ATTR_ASYNC_STMT_EVENT never sent to the driver: {attrs:?}");
    rawh::free_stmt(s2);
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}
