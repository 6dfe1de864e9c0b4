//! Notification mode through the DM (§2) against the reference driver: the DM installs its
//! callback, the dispatcher re-invokes, SQLCompleteAsync collects.

mod common;

use common::rawh::{self, H};
use odbc_dm::abi::*;
use odbc_dm::async_engine::AsyncEvent;
use odbc_dm::raw::*;
use std::time::Duration;

fn set_stmt_attr(s: H, attr: StmtAttr, v: usize) -> SqlReturn {
    // SAFETY: live statement; integer attribute by value.
    unsafe { SQLSetStmtAttr(s, attr, v as SqlPointer, 0) }
}

fn complete(s: H) -> (SqlReturn, SqlReturn) {
    let mut rc: RetCode = -99;
    // SAFETY: live statement, valid out pointer.
    let r = unsafe { SQLCompleteAsync(HandleType::SQL_HANDLE_STMT, s, &mut rc) };
    (r, SqlReturn(rc))
}

/// Puts `s` in notification mode with a new event.
fn notify_mode(s: H) -> AsyncEvent {
    let ev = AsyncEvent::new().unwrap();
    assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_ON), SqlReturn::SQL_SUCCESS);
    let rc = set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_STMT_EVENT, ev.as_attr() as usize);
    assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{}", rawh::diag_text(HandleType::SQL_HANDLE_STMT, s));
    ev
}

fn wait(ev: &AsyncEvent, s: H, dbc: H) -> bool {
    let ok = ev.wait_timeout(Duration::from_secs(3));
    if !ok {
        let st = odbc_dm::handles::stmt(s).unwrap();
        eprintln!("word={:#x} stats={:?} refused={}", st.async_slot.word(), st.async_slot.stats, odbc_dm::async_engine::callback::REFUSED_CALLBACKS.load(std::sync::atomic::Ordering::Relaxed));
        let mut buf = vec![0u8; 1 << 20];
        let mut len = 0i32;
        unsafe { SQLGetConnectAttr(dbc, ConnAttr(30001), buf.as_mut_ptr() as SqlPointer, buf.len() as i32, &mut len) };
        eprintln!("{}", String::from_utf8_lossy(&buf[..len.max(0) as usize]));
    }
    ok
}

#[test]
fn steps_5_execute_and_fetch_complete_through_the_dispatcher_2_9_2_13() {
    common::init();
    let (env, dbc) = rawh::connect(&common::refdriver_conn_str("Steps=5"));
    let s = rawh::stmt(dbc);
    let ev = notify_mode(s);
    let sql = "SELECT 41 + 1";
    // SAFETY: live statement; the text is 'static so it outlives the operation (§2.9).
    let rc = unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) };
    assert_eq!(rc, SqlReturn::SQL_STILL_EXECUTING);
    // §2.11: polling in notification mode is IM017, another function IM018.
    // SAFETY: as above.
    assert_eq!(unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) }, SqlReturn::SQL_ERROR);
    assert!(rawh::diag_text(HandleType::SQL_HANDLE_STMT, s).contains("IM017"));
    // SAFETY: live statement.
    assert_eq!(unsafe { SQLFetch(s) }, SqlReturn::SQL_ERROR);
    assert!(rawh::diag_text(HandleType::SQL_HANDLE_STMT, s).contains("IM018"));
    assert!(wait(&ev, s, dbc), "event set on completion (§2.12)");
    assert_eq!(complete(s), (SqlReturn::SQL_SUCCESS, SqlReturn::SQL_SUCCESS));
    // Nothing outstanding any more.
    assert_eq!(complete(s).0, SqlReturn::SQL_NO_DATA);
    // Fetch, in notification mode too.
    ev.reset();
    // SAFETY: live statement.
    assert_eq!(unsafe { SQLFetch(s) }, SqlReturn::SQL_STILL_EXECUTING);
    assert!(wait(&ev, s, dbc));
    assert_eq!(complete(s), (SqlReturn::SQL_SUCCESS, SqlReturn::SQL_SUCCESS));
    // Back to synchronous to read the value.
    assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_OFF), SqlReturn::SQL_SUCCESS);
    assert_eq!(rawh::get_text(s, 1).as_deref(), Some(&b"42"[..]));
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}
