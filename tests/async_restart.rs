//! The dispatcher and the emulation pool start again after `shutdown()` (issue 10 item 3,
//! issue 9 item 8). A binary of its own: a shutdown while other tests' operations are in
//! flight would drop their queued callbacks.

mod common;

use common::rawh::{self, set_stmt_attr, H};
use odbc_dm::abi::*;
use odbc_dm::AsyncEvent;
use odbc_dm::raw::*;
use std::time::Duration;

const STMT: HandleType = HandleType::SQL_HANDLE_STMT;

fn notify_mode(s: H) -> AsyncEvent {
    let ev = AsyncEvent::new().unwrap();
    assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_ON), SqlReturn::SQL_SUCCESS);
    assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_STMT_EVENT, ev.as_attr() as usize), SqlReturn::SQL_SUCCESS);
    ev
}

#[track_caller]
fn op_ok(ev: &AsyncEvent, s: H, first: SqlReturn, what: &str) {
    assert_eq!(first, SqlReturn::SQL_STILL_EXECUTING, "{what}: {}", rawh::diag_text(STMT, s));
    assert!(ev.wait_timeout(Duration::from_secs(20)), "{what}: hang");
    assert_eq!(rawh::complete_async(STMT, s), (SqlReturn::SQL_SUCCESS, SqlReturn::SQL_SUCCESS), "{what}");
    ev.reset();
}

/// An operation after `shutdown()` completes, natively and emulated.
#[test]
fn dispatcher_and_pool_restart_after_shutdown() {
    common::init();
    let (env, dbc) = rawh::connect(&common::refdriver_conn_str("Steps=2;Delay=1"));
    let s = rawh::stmt(dbc);
    let ev = notify_mode(s);
    let sql = "SELECT 7";
    for round in 0..3 {
        odbc_dm::internals::async_engine::dispatcher::shutdown();
        odbc_dm::internals::async_engine::emulation::shutdown();
        // SAFETY: live statement; 'static text.
        op_ok(&ev, s, unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) }, &format!("round {round}"));
        assert!(odbc_dm::internals::async_engine::dispatcher::is_running());
        rawh::close(s);
    }
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

/// The emulation pool can be shut down and starts again for the next emulated operation.
#[test]
fn emulation_pool_restarts_after_shutdown() {
    common::init();
    let db = common::temp_db("restart");
    let (env, dbc) = rawh::connect(&format!("{};AsyncEmulation=Yes", common::sqlite_conn_str(&db)));
    let s = rawh::stmt(dbc);
    let ev = notify_mode(s);
    for round in 0..3 {
        odbc_dm::internals::async_engine::emulation::shutdown();
        let sql = "SELECT 7";
        // SAFETY: live statement; 'static text.
        op_ok(&ev, s, unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) }, &format!("emulated round {round}"));
        rawh::close(s);
    }
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}
