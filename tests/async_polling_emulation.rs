//! Polling mode with SQLCompleteAsync (§1.16), and the DM's emulation of asynchronous
//! execution for drivers that only run synchronously (libsqlite3odbc, psqlODBC, MariaDB),
//! through the raw layer.

mod common;

use common::rawh::{self, poll, set_stmt_attr, H};
use odbc_dm::abi::*;
use odbc_dm::raw::*;
use odbc_dm::AsyncEvent;
use std::time::{Duration, Instant};

const STMT: HandleType = HandleType::SQL_HANDLE_STMT;

fn exec(s: H, sql: &'static str) -> SqlReturn {
    // SAFETY: live statement; 'static text outlives any asynchronous operation.
    unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) }
}

fn get_i64(s: H) -> i64 {
    let mut v: i64 = 0;
    let mut ind: SqlLen = 0;
    // SAFETY: buffers outlive the (synchronous) call.
    let r = unsafe { SQLGetData(s, 1, CDataType::SQL_C_SBIGINT, (&mut v as *mut i64).cast(), 8, &mut ind) };
    assert!(r.is_success(), "{}", rawh::diag_text(STMT, s));
    v
}

/// §1.16: in polling mode SQLCompleteAsync stands in for the repeat call: no arguments, and
/// SQL_SUCCESS with *AsyncRetCodePtr = SQL_STILL_EXECUTING while the driver works.
#[test]
fn s1_16_complete_async_stands_in_for_the_polling_repeat_call() {
    common::init();
    let (env, dbc) = rawh::connect(&common::refdriver_conn_str("Steps=3;Delay=10"));
    let s = rawh::stmt(dbc);
    assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_ON), SqlReturn::SQL_SUCCESS);
    assert_eq!(exec(s, "SELECT 12"), SqlReturn::SQL_STILL_EXECUTING);
    let mut stills = 0;
    let final_rc = loop {
        let (r, rc) = rawh::complete_async(STMT, s);
        assert_eq!(r, SqlReturn::SQL_SUCCESS);
        if rc != SqlReturn::SQL_STILL_EXECUTING {
            break rc;
        }
        stills += 1;
        std::thread::sleep(Duration::from_millis(2));
    };
    assert_eq!(final_rc, SqlReturn::SQL_SUCCESS);
    assert!(stills >= 1, "the driver was still executing at least once");
    assert_eq!(rawh::complete_async(STMT, s).0, SqlReturn::SQL_NO_DATA, "nothing outstanding any more");
    // The state transition was applied: a fetch is allowed (S5).
    // SAFETY: live statement.
    let (r, _) = poll(|| unsafe { SQLFetch(s) });
    assert_eq!(r, SqlReturn::SQL_SUCCESS);
    assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_OFF), SqlReturn::SQL_SUCCESS);
    assert_eq!(get_i64(s), 12);
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

/// Emulation, polling: libsqlite3odbc has no async (SQL_ASYNC_MODE = SQL_AM_NONE); with
/// `AsyncEmulation=Yes` the DM answers SQL_ATTR_ASYNC_ENABLE itself, runs the calls on its
/// pool and the application polls as with a capable driver (§1.7). S4 vs S5 is known
/// (an emulated INSERT leaves no cursor: SQLFetch → 24000 from the DM).
#[test]
fn emulated_polling_on_sqlite() {
    common::init();
    let db = common::temp_db("emu-poll");
    let (env, dbc) = rawh::connect(&format!("{};AsyncEmulation=Yes", common::sqlite_conn_str(&db)));
    let s = rawh::stmt(dbc);
    assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_ON), SqlReturn::SQL_SUCCESS);
    let mut v: usize = 0;
    // SAFETY: pointer-sized buffer.
    unsafe { SQLGetStmtAttr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, (&mut v as *mut usize).cast(), 0, std::ptr::null_mut()) };
    assert_eq!(v, SQL_ASYNC_ENABLE_ON, "the DM answers for the emulated attribute");
    let (r, stills) = poll(|| exec(s, "CREATE TABLE t(a INTEGER)"));
    assert_eq!(r, SqlReturn::SQL_SUCCESS, "{}", rawh::diag_text(STMT, s));
    assert!(stills >= 1, "emulation always starts with SQL_STILL_EXECUTING");
    assert_eq!(poll(|| exec(s, "INSERT INTO t VALUES (5)")).0, SqlReturn::SQL_SUCCESS);
    // SAFETY: live statement.
    assert_eq!(unsafe { SQLFetch(s) }, SqlReturn::SQL_ERROR);
    assert_eq!(rawh::diag_recs(STMT, s)[0].state, "24000", "no cursor after an emulated INSERT");
    assert_eq!(poll(|| exec(s, "SELECT a * 3 FROM t")).0, SqlReturn::SQL_SUCCESS);
    // SAFETY: live statement.
    assert_eq!(poll(|| unsafe { SQLFetch(s) }).0, SqlReturn::SQL_SUCCESS);
    let mut out: i64 = 0;
    let mut ind: SqlLen = 0;
    // SAFETY: `out`/`ind` outlive the polled operation (we poll it to the end here).
    let (r, _) = poll(|| unsafe { SQLGetData(s, 1, CDataType::SQL_C_SBIGINT, (&mut out as *mut i64).cast(), 8, &mut ind) });
    assert_eq!(r, SqlReturn::SQL_SUCCESS);
    assert_eq!(out, 15);
    // SAFETY: live statement.
    assert_eq!(poll(|| unsafe { SQLFetch(s) }).0, SqlReturn::SQL_NO_DATA);
    // §4.6: no S11 leftover.
    // SAFETY: live statement.
    assert_eq!(unsafe { SQLFreeStmt(s, FreeStmtOption::SQL_CLOSE) }, SqlReturn::SQL_SUCCESS);
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

/// Emulation, notification: the event is set by the DM's pool and SQLCompleteAsync returns
/// the driver's code, errors included, with the driver's diagnostics.
#[test]
fn emulated_notification_on_sqlite() {
    common::init();
    let db = common::temp_db("emu-notify");
    let (env, dbc) = rawh::connect(&format!("{};AsyncEmulation=Yes", common::sqlite_conn_str(&db)));
    let s = rawh::stmt(dbc);
    let ev = AsyncEvent::new().unwrap();
    assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_ON), SqlReturn::SQL_SUCCESS);
    assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_STMT_EVENT, ev.as_attr() as usize), SqlReturn::SQL_SUCCESS);
    let run = |first: SqlReturn| {
        assert_eq!(first, SqlReturn::SQL_STILL_EXECUTING);
        assert!(ev.wait_timeout(Duration::from_secs(10)));
        ev.reset();
        let (r, rc) = rawh::complete_async(STMT, s);
        assert_eq!(r, SqlReturn::SQL_SUCCESS);
        rc
    };
    assert_eq!(run(exec(s, "SELECT 6 * 7")), SqlReturn::SQL_SUCCESS);
    // SAFETY: live statement.
    assert_eq!(run(unsafe { SQLFetch(s) }), SqlReturn::SQL_SUCCESS);
    let mut out: i64 = 0;
    let mut ind: SqlLen = 0;
    // SAFETY: `out`/`ind` outlive the operation (collected below).
    let r = unsafe { SQLGetData(s, 1, CDataType::SQL_C_SBIGINT, (&mut out as *mut i64).cast(), 8, &mut ind) };
    assert_eq!(run(r), SqlReturn::SQL_SUCCESS);
    assert_eq!(out, 42);
    // SAFETY: live statement.
    assert_eq!(unsafe { SQLFreeStmt(s, FreeStmtOption::SQL_CLOSE) }, SqlReturn::SQL_SUCCESS);
    assert_eq!(run(exec(s, "SELECT * FROM no_such_table")), SqlReturn::SQL_ERROR);
    assert!(rawh::diag_text(STMT, s).contains("no_such_table"), "{}", rawh::diag_text(STMT, s));
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

/// §2.14 under emulation: cancelling an emulated `SELECT pg_sleep(30)` reaches psqlODBC as
/// a cross-thread SQLCancel; the operation completes with HY008 within 2 s.
#[test]
fn emulated_cancel_of_pg_sleep_gives_hy008_within_2s() {
    common::init();
    let Some(cs) = common::postgres_conn_str("emulated_cancel_of_pg_sleep") else { return };
    let (env, dbc) = rawh::connect(&format!("{cs};AsyncEmulation=Yes"));
    let s = rawh::stmt(dbc);
    let ev = AsyncEvent::new().unwrap();
    assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_ON), SqlReturn::SQL_SUCCESS);
    assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_STMT_EVENT, ev.as_attr() as usize), SqlReturn::SQL_SUCCESS);
    assert_eq!(exec(s, "SELECT pg_sleep(30)"), SqlReturn::SQL_STILL_EXECUTING);
    std::thread::sleep(Duration::from_millis(300));
    let t0 = Instant::now();
    // SAFETY: live statement.
    assert_eq!(unsafe { SQLCancel(s) }, SqlReturn::SQL_SUCCESS);
    assert!(ev.wait_timeout(Duration::from_secs(2)), "completed within 2 s of the cancel");
    let (r, rc) = rawh::complete_async(STMT, s);
    assert_eq!((r, rc), (SqlReturn::SQL_SUCCESS, SqlReturn::SQL_ERROR));
    assert!(t0.elapsed() < Duration::from_secs(2));
    assert_eq!(rawh::diag_recs(STMT, s)[0].state, "HY008", "{}", rawh::diag_text(STMT, s));
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

/// Emulation forced on a capable driver (`AsyncEmulation=Force`, for benchmarks and for
/// this check): the driver sees one synchronous call, made on a DM pool thread
/// ("odbc-dm-emu-N"), never the application's thread; its async attribute stays off.
#[test]
fn forced_emulation_runs_the_driver_call_on_the_dm_pool() {
    common::init();
    let (env, dbc) = rawh::connect(&common::refdriver_conn_str("Steps=3;AsyncEmulation=Force"));
    let s = rawh::stmt(dbc);
    let ev = AsyncEvent::new().unwrap();
    assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_ON), SqlReturn::SQL_SUCCESS);
    assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_STMT_EVENT, ev.as_attr() as usize), SqlReturn::SQL_SUCCESS);
    assert_eq!(exec(s, "SELECT 99"), SqlReturn::SQL_STILL_EXECUTING);
    assert!(ev.wait_timeout(Duration::from_secs(10)));
    assert_eq!(rawh::complete_async(STMT, s), (SqlReturn::SQL_SUCCESS, SqlReturn::SQL_SUCCESS));
    std::thread::sleep(Duration::from_millis(50));
    let mut len = 0i32;
    // SAFETY: length query (reference driver event log, attribute 30001).
    unsafe { SQLGetConnectAttr(dbc, ConnAttr(30001), std::ptr::null_mut(), 0, &mut len) };
    let mut buf = vec![0u8; len as usize + 16];
    // SAFETY: a buffer of buf.len() bytes.
    unsafe { SQLGetConnectAttr(dbc, ConnAttr(30001), buf.as_mut_ptr() as SqlPointer, buf.len() as i32, &mut len) };
    let log: serde_json::Value = serde_json::from_slice(&buf[..len as usize]).unwrap();
    let calls: Vec<_> = log["events"].as_array().unwrap().iter().filter(|e| e["func"] == "SQLExecDirectW").collect();
    assert_eq!(calls.len(), 1, "one synchronous driver call: {calls:?}");
    assert!(calls[0]["thread"].as_str().unwrap().starts_with("odbc-dm-emu-"), "{}", calls[0]);
    assert_eq!(calls[0]["still_executing"], false);
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

/// §1.3, §4.6: SQLMoreResults runs asynchronously too (polling); when it ends in
/// SQL_NO_DATA the statement leaves S11 (no unixODBC-style leftover), so closing works.
#[test]
fn s1_3_s4_6_more_results_polling_then_close() {
    common::init();
    let (env, dbc) = rawh::connect(&common::refdriver_conn_str("Steps=2;Delay=5"));
    let s = rawh::stmt(dbc);
    assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_ON), SqlReturn::SQL_SUCCESS);
    assert_eq!(poll(|| exec(s, "SELECT 1")).0, SqlReturn::SQL_SUCCESS);
    // SAFETY: live statement.
    let (r, stills) = poll(|| unsafe { SQLMoreResults(s) });
    assert_eq!(r, SqlReturn::SQL_NO_DATA);
    assert!(stills >= 1, "SQLMoreResults went asynchronous");
    // SAFETY: live statement.
    assert_eq!(unsafe { SQLFreeStmt(s, FreeStmtOption::SQL_CLOSE) }, SqlReturn::SQL_SUCCESS, "{}", rawh::diag_text(STMT, s));
    assert_eq!(poll(|| exec(s, "SELECT 2")).0, SqlReturn::SQL_SUCCESS, "the statement is usable again");
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

/// §1.5: setting statement attributes is always synchronous, even on a statement in
/// asynchronous (here notification) mode: the event and async attributes answer at once.
#[test]
fn s1_5_set_stmt_attr_is_always_synchronous() {
    common::init();
    let (env, dbc) = rawh::connect(&common::refdriver_conn_str("Steps=3;Delay=20"));
    let s = rawh::stmt(dbc);
    let ev = AsyncEvent::new().unwrap();
    assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_ON), SqlReturn::SQL_SUCCESS);
    assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_STMT_EVENT, ev.as_attr() as usize), SqlReturn::SQL_SUCCESS);
    assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_QUERY_TIMEOUT, 5), SqlReturn::SQL_SUCCESS);
    assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_STMT_EVENT, 0), SqlReturn::SQL_SUCCESS, "back to polling");
    assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_OFF), SqlReturn::SQL_SUCCESS);
    assert!(!ev.is_set(), "no operation ran");
    // Synchronous again: the call completes in place.
    assert_eq!(exec(s, "SELECT 1"), SqlReturn::SQL_SUCCESS);
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}
