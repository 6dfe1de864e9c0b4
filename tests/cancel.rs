//! Cross-thread SQLCancel (§3.1, §3.2): the cancel bypasses the statement's call gate and
//! reaches the driver while another thread is inside SQLExecDirect.

mod common;

use odbc_dm::abi::*;
use odbc_dm::raw::*;
use std::ptr::null_mut;
use std::time::{Duration, Instant};

fn state(ht: HandleType, h: SqlHandle) -> String {
    let mut st = [0u8; 6];
    let mut native = 0;
    let mut msg = [0u8; 512];
    let mut len = 0i16;
    // SAFETY: valid buffers of the sizes passed.
    unsafe { SQLGetDiagRec(ht, h, 1, st.as_mut_ptr(), &mut native, msg.as_mut_ptr(), 512, &mut len) };
    String::from_utf8_lossy(&st[..5]).into()
}

fn connect(cs: &str) -> (SqlHandle, SqlHandle) {
    let mut env = null_mut();
    let mut dbc = null_mut();
    // SAFETY: valid out pointers and a connection string that outlives the call.
    unsafe {
        SQLAllocHandle(HandleType::SQL_HANDLE_ENV, null_mut(), &mut env);
        SQLSetEnvAttr(env, EnvAttr::SQL_ATTR_ODBC_VERSION, SQL_OV_ODBC3_80 as usize as SqlPointer, 0);
        SQLAllocHandle(HandleType::SQL_HANDLE_DBC, env, &mut dbc);
        let rc = SQLDriverConnect(
            dbc,
            null_mut(),
            cs.as_ptr(),
            cs.len() as i16,
            null_mut(),
            0,
            null_mut(),
            DriverCompletion::SQL_DRIVER_NOPROMPT,
        );
        assert!(rc.is_success(), "connect failed: {}", state(HandleType::SQL_HANDLE_DBC, dbc));
    }
    (env, dbc)
}

/// Runs `sql` on one thread, cancels it from another after 300 ms, and returns
/// (return code, SQLSTATE, how long the victim took).
fn cancel_during(cs: &str, sql: &str) -> (SqlReturn, String, Duration) {
    let (_env, dbc) = connect(cs);
    let mut s = null_mut();
    // SAFETY: live connection, valid out pointer.
    assert!(unsafe { SQLAllocHandle(HandleType::SQL_HANDLE_STMT, dbc, &mut s) }.is_success());
    let handle = s as usize; // handle values are plain integers and may cross threads (§3.1)
    let sql_owned = sql.to_string();
    let victim = std::thread::spawn(move || {
        let t0 = Instant::now();
        // SAFETY: live statement; the text outlives the call.
        let rc = unsafe { SQLExecDirect(handle as SqlHandle, sql_owned.as_ptr(), sql_owned.len() as i32) };
        (rc, t0.elapsed())
    });
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: live statement, used from a second thread on purpose.
    let crc = unsafe { SQLCancel(handle as SqlHandle) };
    assert!(
        crc == SqlReturn::SQL_SUCCESS || crc == SqlReturn::SQL_ERROR,
        "§3.2: cross-thread SQLCancel returns SUCCESS or ERROR only, got {crc:?}"
    );
    let (rc, took) = victim.join().unwrap();
    (rc, state(HandleType::SQL_HANDLE_STMT, s), took)
}

#[test]
fn s3_2_cross_thread_cancel_stops_pg_sleep_within_2s() {
    let Some(cs) = common::postgres_conn_str("s3_2_cross_thread_cancel_stops_pg_sleep_within_2s") else { return };
    let (rc, st, took) = cancel_during(&cs, "SELECT pg_sleep(30)");
    assert_eq!(rc, SqlReturn::SQL_ERROR, "the cancelled call returns SQL_ERROR (§3.2)");
    assert_eq!(st, "HY008", "the cancelled call reports HY008 (§3.2)");
    assert!(took < Duration::from_secs(2), "cancel took {took:?}");
}

#[test]
fn s3_2_cross_thread_cancel_stops_mariadb_sleep() {
    let Some(cs) = common::mariadb_conn_str("s3_2_cross_thread_cancel_stops_mariadb_sleep") else { return };
    let (rc, st, took) = cancel_during(&cs, "SELECT SLEEP(30)");
    // MariaDB's SLEEP() returns 1 when interrupted instead of failing, and Connector/ODBC
    // implements SQLCancel with KILL QUERY: the call ends early either way.
    assert!(took < Duration::from_secs(5), "cancel took {took:?} (rc {rc:?}, state {st})");
}
