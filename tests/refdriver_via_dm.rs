//! The reference driver served through the DM: it is Unicode-only, so every ANSI call the
//! application makes is converted to the driver's W entry point; polling-mode async passes
//! through with the S11 bookkeeping (§1.7, §4.6); cross-thread cancel reaches it (§3.2).

mod common;

use odbc_dm::abi::*;
use odbc_dm::raw::*;
use std::ptr::null_mut;
use std::time::{Duration, Instant};

fn diag(ht: HandleType, h: SqlHandle) -> (String, String) {
    let mut st = [0u8; 6];
    let mut native = 0;
    let mut msg = [0u8; 1024];
    let mut len = 0i16;
    // SAFETY: valid buffers of the sizes passed.
    let rc = unsafe { SQLGetDiagRec(ht, h, 1, st.as_mut_ptr(), &mut native, msg.as_mut_ptr(), 1024, &mut len) };
    if !rc.is_success() {
        return (String::new(), String::new());
    }
    (String::from_utf8_lossy(&st[..5]).into(), String::from_utf8_lossy(&msg[..len.clamp(0, 1023) as usize]).into())
}

fn connect(cs: &str) -> SqlHandle {
    connect_completed(cs).0
}

/// Connects with SQLDriverConnect; the connection and its completed connection string.
fn connect_completed(cs: &str) -> (SqlHandle, String) {
    let mut env = null_mut();
    let mut dbc = null_mut();
    let mut out = [0u8; 1024];
    let mut out_len = 0i16;
    // SAFETY: valid out pointers and buffers of the sizes passed; the string outlives the call.
    unsafe {
        SQLAllocHandle(HandleType::SQL_HANDLE_ENV, null_mut(), &mut env);
        SQLSetEnvAttr(env, EnvAttr::SQL_ATTR_ODBC_VERSION, SQL_OV_ODBC3_80 as usize as SqlPointer, 0);
        SQLAllocHandle(HandleType::SQL_HANDLE_DBC, env, &mut dbc);
        let rc = SQLDriverConnect(
            dbc,
            null_mut(),
            cs.as_ptr(),
            cs.len() as i16,
            out.as_mut_ptr(),
            out.len() as i16,
            &mut out_len,
            DriverCompletion::SQL_DRIVER_NOPROMPT,
        );
        assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{:?}", diag(HandleType::SQL_HANDLE_DBC, dbc));
    }
    (dbc, String::from_utf8_lossy(&out[..out_len.clamp(0, 1023) as usize]).into_owned())
}

fn stmt(dbc: SqlHandle) -> SqlHandle {
    let mut s = null_mut();
    // SAFETY: live connection, valid out pointer.
    assert!(unsafe { SQLAllocHandle(HandleType::SQL_HANDLE_STMT, dbc, &mut s) }.is_success());
    s
}

fn exec_a(s: SqlHandle, sql: &str) -> SqlReturn {
    // SAFETY: live statement; the text outlives the call.
    unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) }
}

fn get_text_a(s: SqlHandle, col: u16) -> String {
    let mut buf = vec![0u8; 256];
    let mut ind = 0isize;
    // SAFETY: live statement; buffer of 256 bytes.
    let rc = unsafe { SQLGetData(s, col, CDataType::SQL_C_CHAR, buf.as_mut_ptr().cast(), 256, &mut ind) };
    assert!(rc.is_success(), "{:?}", diag(HandleType::SQL_HANDLE_STMT, s));
    String::from_utf8(buf[..ind as usize].to_vec()).unwrap()
}

#[test]
fn ansi_application_calls_reach_the_unicode_only_driver() {
    let dbc = connect(&common::refdriver_conn_str(""));
    let s = stmt(dbc);
    assert!(exec_a(s, "create table t(id integer primary key, name text)").is_success());
    assert!(exec_a(s, "insert into t values (1, 'é中😀'), (2, 'plain')").is_success());
    assert!(exec_a(s, "select id, name from t order by id").is_success());
    // SAFETY: live statement.
    assert_eq!(unsafe { SQLFetch(s) }, SqlReturn::SQL_SUCCESS);
    assert_eq!(get_text_a(s, 2), "é中😀");
    // The ANSI SQLDescribeCol is converted from the driver's SQLDescribeColW.
    let mut name = [0u8; 32];
    let mut len = 0i16;
    let (mut ty, mut size, mut digits, mut nullable) = (SqlDataType(0), 0usize, 0i16, Nullability(0));
    // SAFETY: live statement; buffers as sized.
    let rc = unsafe { SQLDescribeCol(s, 2, name.as_mut_ptr(), 32, &mut len, &mut ty, &mut size, &mut digits, &mut nullable) };
    assert!(rc.is_success());
    assert_eq!(&name[..len as usize], b"name");
}

#[test]
fn s1_7_polling_async_passes_through_and_leaves_s11() {
    let dbc = connect(&common::refdriver_conn_str("Steps=3"));
    let s = stmt(dbc);
    // SAFETY: live statement; async enable is passed by value.
    unsafe {
        assert!(SQLSetStmtAttr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_ON as SqlPointer, 0).is_success());
    }
    let sql = "select 42";
    let mut polls = 0;
    let rc = loop {
        let rc = exec_a(s, sql);
        if rc != SqlReturn::SQL_STILL_EXECUTING {
            break rc;
        }
        polls += 1;
        // §1.9: while outstanding, other statement functions are HY010 from the DM.
        // SAFETY: live statement.
        assert_eq!(unsafe { SQLFetch(s) }, SqlReturn::SQL_ERROR);
        assert_eq!(diag(HandleType::SQL_HANDLE_STMT, s).0, "HY010");
        std::thread::sleep(Duration::from_millis(2));
    };
    assert!(rc.is_success());
    assert!(polls >= 3, "Steps=3 should give at least 3 STILL_EXECUTING, got {polls}");
    // An async fetch that ends in NO_DATA, then SQLFreeStmt: no S11 leftover (§4.6).
    let mut fetches = Vec::new();
    for _ in 0..10_000 {
        // SAFETY: live statement.
        let rc = unsafe { SQLFetch(s) };
        if rc == SqlReturn::SQL_STILL_EXECUTING {
            std::thread::sleep(Duration::from_millis(1));
            continue;
        }
        fetches.push(rc);
        if rc != SqlReturn::SQL_SUCCESS {
            break;
        }
    }
    assert_eq!(fetches, vec![SqlReturn::SQL_SUCCESS, SqlReturn::SQL_NO_DATA]);
    // SAFETY: live statement.
    assert_eq!(unsafe { SQLFreeStmt(s, FreeStmtOption::SQL_CLOSE) }, SqlReturn::SQL_SUCCESS);
}

#[test]
fn s3_2_cross_thread_cancel_of_driver_sleep() {
    let dbc = connect(&common::refdriver_conn_str(""));
    let s = stmt(dbc);
    let h = s as usize;
    let victim = std::thread::spawn(move || {
        let t0 = Instant::now();
        let rc = exec_a(h as SqlHandle, "select sleep(30000)");
        (rc, t0.elapsed())
    });
    std::thread::sleep(Duration::from_millis(200));
    // SAFETY: live statement, from a second thread on purpose.
    assert_eq!(unsafe { SQLCancel(h as SqlHandle) }, SqlReturn::SQL_SUCCESS);
    let (rc, took) = victim.join().unwrap();
    assert_eq!(rc, SqlReturn::SQL_ERROR);
    assert_eq!(diag(HandleType::SQL_HANDLE_STMT, s).0, "HY008");
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn connect_by_odbcinst_name_and_by_dsn() {
    common::init();
    let dbc = connect("DRIVER={OdbcDmRef};Database=:memory:");
    let s = stmt(dbc);
    assert!(exec_a(s, "select 'by-name'").is_success());
    let dbc = connect("DSN=ref-test");
    let s = stmt(dbc);
    assert!(exec_a(s, "select 'by-dsn'").is_success());
    // SAFETY: live statement.
    assert!(unsafe { SQLFetch(s) }.is_success());
    assert_eq!(get_text_a(s, 1), "by-dsn");
}

/// Decision #147: the driver receives the DRIVER value as the application spelled it
/// (braces included: drivers echo it into the completed connection string, as MariaDB's
/// does, which odbc-api checks is at least as long as its input), every other value bare
/// unless it needs braces. The reference driver's completed string is what it received.
#[test]
fn driver_keyword_keeps_the_applications_spelling_decision_147() {
    common::init();
    let db = common::temp_db("spelling");
    let cs = format!("DRIVER={{OdbcDmRef}};Database={{{}}};Note = {{a b}} ;Semi={{x;y}}", db.display());
    let (dbc, completed) = connect_completed(&cs);
    assert_eq!(completed, format!("DRIVER={{OdbcDmRef}};Database={};Note=a b;Semi={{x;y}}", db.display()));
    let s = stmt(dbc);
    assert!(exec_a(s, "create table spelled (x text)").is_success());
    assert!(exec_a(s, "insert into spelled values ('same file')").is_success());
    // The completed string connects again, to the same database.
    let s = stmt(connect(&completed));
    assert!(exec_a(s, "select x from spelled").is_success());
    // SAFETY: live statement with a result set.
    assert!(unsafe { SQLFetch(s) }.is_success());
    assert_eq!(get_text_a(s, 1), "same file");
}

fn set_async(s: SqlHandle) {
    // SAFETY: live statement; async enable is passed by value.
    unsafe {
        assert!(SQLSetStmtAttr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_ON as SqlPointer, 0).is_success());
    }
}

/// §1.11 and §4.7: while a statement runs asynchronously (S11) the DM refuses, without
/// calling the driver, SQLDisconnect, SQLEndTran, SQLSetConnectAttr on its connection and
/// SQLFreeStmt / SQLFreeHandle on the statement itself (HY010).
#[test]
fn s1_11_s4_7_hy010_while_a_statement_is_async() {
    let dbc = connect(&common::refdriver_conn_str("Steps=1000;Delay=5"));
    let s = stmt(dbc);
    set_async(s);
    assert_eq!(exec_a(s, "select 1"), SqlReturn::SQL_STILL_EXECUTING);
    // SAFETY: live handles; autocommit passed by value.
    unsafe {
        assert_eq!(SQLDisconnect(dbc), SqlReturn::SQL_ERROR);
        assert_eq!(diag(HandleType::SQL_HANDLE_DBC, dbc).0, "HY010");
        assert_eq!(SQLEndTran(HandleType::SQL_HANDLE_DBC, dbc, CompletionType::SQL_COMMIT), SqlReturn::SQL_ERROR);
        assert_eq!(diag(HandleType::SQL_HANDLE_DBC, dbc).0, "HY010");
        assert_eq!(SQLSetConnectAttr(dbc, ConnAttr::SQL_ATTR_AUTOCOMMIT, SQL_AUTOCOMMIT_OFF as SqlPointer, 0), SqlReturn::SQL_ERROR);
        assert_eq!(diag(HandleType::SQL_HANDLE_DBC, dbc).0, "HY010");
        assert_eq!(SQLFreeStmt(s, FreeStmtOption::SQL_CLOSE), SqlReturn::SQL_ERROR);
        assert_eq!(diag(HandleType::SQL_HANDLE_STMT, s).0, "HY010");
        assert_eq!(SQLFreeHandle(HandleType::SQL_HANDLE_STMT, s), SqlReturn::SQL_ERROR);
        assert_eq!(diag(HandleType::SQL_HANDLE_STMT, s).0, "HY010");
        // §1.9: SQLGetInfo on the connection stays allowed.
        let mut buf = [0u8; 64];
        let mut len = 0i16;
        assert!(SQLGetInfo(dbc, InfoType::SQL_DRIVER_NAME, buf.as_mut_ptr().cast(), 64, &mut len).is_success());
    }
}

/// §4.8 and §3.3: SQLCancel on an asynchronous call moves the statement to S12; the
/// application keeps calling the function until it stops returning SQL_STILL_EXECUTING,
/// and SQL_ERROR with HY008 says the cancel worked. The statement is then usable again.
#[test]
fn s4_8_s3_3_async_cancel_goes_through_s12_to_hy008() {
    let dbc = connect(&common::refdriver_conn_str("Steps=1000;Delay=5"));
    let s = stmt(dbc);
    set_async(s);
    let sql = "select 1";
    assert_eq!(exec_a(s, sql), SqlReturn::SQL_STILL_EXECUTING);
    // SAFETY: live statement.
    assert_eq!(unsafe { SQLCancel(s) }, SqlReturn::SQL_SUCCESS);
    let mut rc = SqlReturn::SQL_STILL_EXECUTING;
    for _ in 0..2000 {
        rc = exec_a(s, sql);
        if rc != SqlReturn::SQL_STILL_EXECUTING {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(rc, SqlReturn::SQL_ERROR);
    assert_eq!(diag(HandleType::SQL_HANDLE_STMT, s).0, "HY008");
    // Out of S12: the statement runs again (now synchronously).
    // SAFETY: live statement.
    unsafe {
        assert!(SQLSetStmtAttr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_OFF as SqlPointer, 0).is_success());
    }
    assert!(exec_a(s, "select 2").is_success());
}
