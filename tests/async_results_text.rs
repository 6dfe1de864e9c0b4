//! Converted text output (ANSI application, Unicode-only reference driver) of statement
//! functions that run asynchronously: the DM buffer is owned by the driver-call closure
//! (§2.9), the conversion and 01004 happen when the operation completes, in notification
//! mode (collected by SQLCompleteAsync) and in polling mode (the repeat calls).

mod common;

use common::rawh::{self, poll, set_stmt_attr};

const STMT: HandleType = HandleType::SQL_HANDLE_STMT;

/// The final code of a polled call (§1.7).
fn poll_rc(f: impl FnMut() -> SqlReturn) -> SqlReturn {
    poll(f).0
}
use odbc_dm::abi::*;
use odbc_dm::raw::*;
use odbc_dm::AsyncEvent;
use std::time::Duration;

const SQL: &str = "select 1 as a_rather_long_column_name, 'x' as b";

#[test]
fn describe_col_and_col_attribute_convert_on_completion_in_notification_mode() {
    common::init();
    let (env, dbc) = rawh::connect(&common::refdriver_conn_str("Steps=3"));
    let s = rawh::stmt(dbc);
    assert!(rawh::exec_rc(s, SQL).is_success());
    let ev = AsyncEvent::new().unwrap();
    assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_ON), SqlReturn::SQL_SUCCESS);
    assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_STMT_EVENT, ev.as_attr() as usize), SqlReturn::SQL_SUCCESS);
    // Heap buffers: they must outlive the operation (§2.9).
    let mut name = Box::new([0u8; 8]);
    let mut len = Box::new(0i16);
    let (mut ty, mut size, mut digits, mut nullable) =
        (Box::new(SqlDataType(0)), Box::new(0usize), Box::new(0i16), Box::new(Nullability(0)));
    // SAFETY: live statement; buffers as sized, alive until completion.
    let rc = unsafe { SQLDescribeCol(s, 1, name.as_mut_ptr(), 8, &mut *len, &mut *ty, &mut *size, &mut *digits, &mut *nullable) };
    assert_eq!(rc, SqlReturn::SQL_STILL_EXECUTING);
    assert!(ev.wait_timeout(Duration::from_secs(3)));
    assert_eq!(rawh::complete_async(STMT, s), (SqlReturn::SQL_SUCCESS, SqlReturn::SQL_SUCCESS_WITH_INFO));
    assert!(rawh::diag_text(HandleType::SQL_HANDLE_STMT, s).contains("01004"));
    assert_eq!(&name[..], b"a_rathe\0");
    assert_eq!(*len, 25);

    ev.reset();
    let mut cbuf = Box::new([0u8; 64]);
    let mut clen = Box::new(0i16);
    let mut num = Box::new(0isize);
    // SAFETY: as above.
    let rc = unsafe { SQLColAttribute(s, 2, DescField::SQL_DESC_NAME, cbuf.as_mut_ptr().cast(), 64, &mut *clen, &mut *num) };
    assert_eq!(rc, SqlReturn::SQL_STILL_EXECUTING);
    assert!(ev.wait_timeout(Duration::from_secs(3)));
    assert_eq!(rawh::complete_async(STMT, s), (SqlReturn::SQL_SUCCESS, SqlReturn::SQL_SUCCESS));
    assert_eq!(&cbuf[..*clen as usize], b"b");
    assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_OFF), SqlReturn::SQL_SUCCESS);
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

#[test]
fn describe_col_converts_on_the_completing_poll_in_polling_mode() {
    common::init();
    let (env, dbc) = rawh::connect(&common::refdriver_conn_str("Steps=3"));
    let s = rawh::stmt(dbc);
    assert!(rawh::exec_rc(s, SQL).is_success());
    assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_ON), SqlReturn::SQL_SUCCESS);
    let (mut len, mut ty, mut size, mut digits, mut nullable) = (0i16, SqlDataType(0), 0usize, 0i16, Nullability(0));
    let mut name = [0u8; 64];
    // SAFETY: live statement; buffers as sized, the same ones on every poll.
    let rc = poll_rc(|| unsafe { SQLDescribeCol(s, 1, name.as_mut_ptr(), 64, &mut len, &mut ty, &mut size, &mut digits, &mut nullable) });
    assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{}", rawh::diag_text(HandleType::SQL_HANDLE_STMT, s));
    assert_eq!(&name[..len as usize], b"a_rather_long_column_name");
    assert_eq!(odbc_dm::internals::handles::stmt(s).unwrap().async_slot.phase(), odbc_dm::internals::async_engine::Phase::Idle, "the operation ended");

    let mut short = [0u8; 4];
    // SAFETY: as above.
    let rc = poll_rc(|| unsafe { SQLDescribeCol(s, 1, short.as_mut_ptr(), 4, &mut len, &mut ty, &mut size, &mut digits, &mut nullable) });
    assert_eq!(rc, SqlReturn::SQL_SUCCESS_WITH_INFO);
    assert!(rawh::diag_text(HandleType::SQL_HANDLE_STMT, s).contains("01004"));
    assert_eq!(&short, b"a_r\0");
    assert_eq!(len, 25);

    let mut n = 0isize;
    // SAFETY: live statement; numeric attribute only.
    let rc = poll_rc(|| unsafe { SQLColAttribute(s, 0, DescField::SQL_DESC_COUNT, std::ptr::null_mut(), 0, std::ptr::null_mut(), &mut n) });
    assert_eq!((rc, n), (SqlReturn::SQL_SUCCESS, 2));
    // SAFETY: live statement.
    assert_eq!(poll_rc(|| unsafe { SQLFetch(s) }), SqlReturn::SQL_SUCCESS);
    assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_OFF), SqlReturn::SQL_SUCCESS);
    assert_eq!(rawh::get_text(s, 2).as_deref(), Some(&b"x"[..]));
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}
