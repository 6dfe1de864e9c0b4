//! Connection-level asynchronous execution through the DM (§1.4, §1.7, §1.10, §1.13,
//! §1.16, §2.3, §2.11–§2.14, §3.4) against the reference driver (capable of
//! SQL_ASYNC_DBC_FUNCTIONS and SQL_ASYNC_NOTIFICATION) and libsqlite3odbc (capable of
//! neither: HY114/S1118, or the DM's emulation).

mod common;

use common::rawh::{self, poll, H};
use odbc_dm::abi::*;
use odbc_dm::raw::*;
use odbc_dm::AsyncEvent;
use std::ptr::null_mut;
use std::time::Duration;

const DBC: HandleType = HandleType::SQL_HANDLE_DBC;
const STILL: SqlReturn = SqlReturn::SQL_STILL_EXECUTING;
/// The reference driver's event log (read-only connection attribute, JSON).
const EVENT_LOG: ConnAttr = ConnAttr(30001);
/// Clears the reference driver's event log.
const CLEAR_EVENT_LOG: ConnAttr = ConnAttr(30002);

fn alloc_dbc(env: H) -> H {
    let mut dbc = null_mut();
    // SAFETY: live env, valid out pointer.
    assert_eq!(unsafe { SQLAllocHandle(DBC, env, &mut dbc) }, SqlReturn::SQL_SUCCESS);
    dbc
}

fn set_attr(dbc: H, attr: ConnAttr, v: usize) -> SqlReturn {
    // SAFETY: live dbc; integer/pointer attribute by value.
    unsafe { SQLSetConnectAttr(dbc, attr, v as SqlPointer, 0) }
}

fn get_attr_usize(dbc: H, attr: ConnAttr) -> (SqlReturn, usize) {
    let mut v: usize = 0;
    // SAFETY: live dbc; a pointer-sized out buffer.
    let rc = unsafe { SQLGetConnectAttr(dbc, attr, (&mut v as *mut usize).cast(), SQL_IS_POINTER, null_mut()) };
    (rc, v)
}

/// The application's output buffer of SQLDriverConnect; it stays where it is (boxed)
/// until the operation completes (§2.9).
struct OutBuf {
    buf: Box<[u8; 1024]>,
    len: Box<i16>,
}

impl OutBuf {
    fn new() -> OutBuf {
        OutBuf { buf: Box::new([0; 1024]), len: Box::new(-1) }
    }
    fn text(&self) -> String {
        let n = (*self.len).clamp(0, 1023) as usize;
        String::from_utf8_lossy(&self.buf[..n]).into_owned()
    }
}

/// SQLDriverConnect (A) with `cs` (a 'static-lived string for the operation) into `out`.
fn driver_connect(dbc: H, cs: &str, out: &mut OutBuf) -> SqlReturn {
    // SAFETY: live dbc; the input outlives the operation (the caller keeps it), the
    // output buffers are boxed and kept until completion.
    unsafe {
        SQLDriverConnect(
            dbc,
            null_mut(),
            cs.as_ptr(),
            cs.len() as i16,
            out.buf.as_mut_ptr(),
            out.buf.len() as i16,
            &mut *out.len,
            DriverCompletion::SQL_DRIVER_NOPROMPT,
        )
    }
}

fn disconnect_rc(dbc: H) -> SqlReturn {
    // SAFETY: live dbc.
    unsafe { SQLDisconnect(dbc) }
}

fn end_tran_rc(dbc: H, c: CompletionType) -> SqlReturn {
    // SAFETY: live dbc.
    unsafe { SQLEndTran(DBC, dbc, c) }
}

fn states(dbc: H) -> Vec<String> {
    rawh::diag_recs(DBC, dbc).into_iter().map(|r| r.state).collect()
}

#[track_caller]
fn assert_state(rc: SqlReturn, dbc: H, state: &str) {
    assert_eq!(rc, SqlReturn::SQL_ERROR, "expected {state}: {}", rawh::diag_text(DBC, dbc));
    assert!(states(dbc).iter().any(|s| s == state), "expected {state}: {}", rawh::diag_text(DBC, dbc));
}

fn wait(ev: &AsyncEvent) {
    assert!(ev.wait_timeout(Duration::from_secs(10)), "event set when the operation ends (§2.12)");
}

fn free(env: H, dbc: H) {
    // SAFETY: live, unconnected handles owned by the test.
    unsafe {
        assert_eq!(SQLFreeHandle(DBC, dbc), SqlReturn::SQL_SUCCESS, "{}", rawh::diag_text(DBC, dbc));
        assert_eq!(SQLFreeHandle(HandleType::SQL_HANDLE_ENV, env), SqlReturn::SQL_SUCCESS);
    }
}

fn dm_autocommit(dbc: H) -> bool {
    odbc_dm::internals::handles::dbc(dbc).unwrap().gate.read(|c| c.autocommit)
}

fn event_log(dbc: H) -> String {
    let mut buf = vec![0u8; 1 << 20];
    let mut len = 0i32;
    // SAFETY: live dbc; a buffer of the byte length passed.
    let rc = unsafe { SQLGetConnectAttr(dbc, EVENT_LOG, buf.as_mut_ptr() as SqlPointer, buf.len() as i32, &mut len) };
    assert!(rc.is_success(), "event log: {rc:?} {}", rawh::diag_text(DBC, dbc));
    String::from_utf8_lossy(&buf[..(len.max(0) as usize).min(buf.len())]).into_owned()
}

/// One `call` event of the reference driver's log.
#[derive(Debug)]
struct CallEvent {
    round: u64,
    thread: String,
    args: String,
    ret: i64,
}

fn field<'a>(ev: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("\"{name}\":");
    let at = ev.find(&key)? + key.len();
    let rest = &ev[at..];
    if let Some(r) = rest.strip_prefix('"') {
        return r.find('"').map(|e| &r[..e]);
    }
    if rest.starts_with('[') {
        return rest.find(']').map(|e| &rest[..=e]);
    }
    let e = rest.find([',', '}']).unwrap_or(rest.len());
    Some(&rest[..e])
}

/// The `call` events of `func` in the log, in order.
fn calls_of(log: &str, func: &str) -> Vec<CallEvent> {
    log.split("{\"seq\"")
        .skip(1)
        .filter(|e| field(e, "kind") == Some("call") && field(e, "func") == Some(func))
        .map(|e| CallEvent {
            round: field(e, "round").unwrap().parse().unwrap(),
            thread: field(e, "thread").unwrap().to_string(),
            args: field(e, "args").unwrap().to_string(),
            ret: field(e, "ret").unwrap().parse().unwrap(),
        })
        .collect()
}

/// §1.4, §1.7, §1.10, §1.13: polling mode. SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE set before
/// connecting is stored and applied at connect; the connect, SQLSetConnectAttr,
/// SQLEndTran and SQLDisconnect return SQL_STILL_EXECUTING and are repeated until done;
/// other functions are HY010 meanwhile; the DM applies each one's state change.
#[test]
fn s1_4_s1_7_s1_13_polling_connect_setattr_endtran_disconnect() {
    common::init();
    let env = rawh::env();
    let dbc = alloc_dbc(env);
    assert_eq!(set_attr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE, SQL_ASYNC_DBC_ENABLE_ON), SqlReturn::SQL_SUCCESS);
    assert_eq!(get_attr_usize(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE), (SqlReturn::SQL_SUCCESS, SQL_ASYNC_DBC_ENABLE_ON));
    let cs = common::refdriver_conn_str("Steps=3");
    let mut out = OutBuf::new();
    assert_eq!(driver_connect(dbc, &cs, &mut out), STILL, "{}", rawh::diag_text(DBC, dbc));
    // §1.10/§1.11: other connection functions are refused while the connect runs.
    assert_state(disconnect_rc(dbc), dbc, "HY010");
    assert_state(set_attr(dbc, ConnAttr::SQL_ATTR_AUTOCOMMIT, SQL_AUTOCOMMIT_OFF), dbc, "HY010");
    // SAFETY: live dbc; refused (§1.10), so it stays live.
    assert_state(unsafe { SQLFreeHandle(DBC, dbc) }, dbc, "HY010");
    // §1.10: SQLGetConnectAttr stays allowed.
    assert!(get_attr_usize(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE).0.is_success());
    let (rc, stills) = poll(|| driver_connect(dbc, &cs, &mut out));
    assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{}", rawh::diag_text(DBC, dbc));
    assert!(stills >= 2, "Steps=3: the repeats see SQL_STILL_EXECUTING ({stills})");
    // The output connection string was written by the final call.
    assert!(out.text().contains("Steps=3"), "out: {:?}", out.text());
    assert_eq!(*out.len as usize, out.text().len());
    // Connected (C4): statements work (synchronously: statement async is off).
    assert_eq!(rawh::query_i64(dbc, "SELECT 6 * 7"), 42);

    // SQLSetConnectAttr(AUTOCOMMIT) runs asynchronously in the reference driver.
    assert_eq!(set_attr(dbc, ConnAttr::SQL_ATTR_AUTOCOMMIT, SQL_AUTOCOMMIT_OFF), STILL);
    assert_state(end_tran_rc(dbc, CompletionType::SQL_COMMIT), dbc, "HY010");
    let mut s = null_mut();
    // SAFETY: live dbc, valid out pointer.
    assert_state(unsafe { SQLAllocHandle(HandleType::SQL_HANDLE_STMT, dbc, &mut s) }, dbc, "HY010");
    let (rc, _) = poll(|| set_attr(dbc, ConnAttr::SQL_ATTR_AUTOCOMMIT, SQL_AUTOCOMMIT_OFF));
    assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{}", rawh::diag_text(DBC, dbc));
    assert!(!dm_autocommit(dbc), "the DM tracks the autocommit change at completion");

    assert_eq!(end_tran_rc(dbc, CompletionType::SQL_COMMIT), STILL);
    let (rc, stills) = poll(|| end_tran_rc(dbc, CompletionType::SQL_COMMIT));
    assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{}", rawh::diag_text(DBC, dbc));
    assert!(stills >= 1);

    assert_eq!(disconnect_rc(dbc), STILL);
    let (rc, _) = poll(|| disconnect_rc(dbc));
    assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{}", rawh::diag_text(DBC, dbc));
    // Back in C2 (§4.3): a second disconnect is 08003, and the handle can be freed.
    assert_state(disconnect_rc(dbc), dbc, "08003");
    free(env, dbc);
}

/// §1.4 for SQLConnect (DSN `ref-test` of the test odbc.ini) in polling mode.
#[test]
fn s1_4_sqlconnect_polling() {
    common::init();
    let env = rawh::env();
    let dbc = alloc_dbc(env);
    assert_eq!(set_attr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE, SQL_ASYNC_DBC_ENABLE_ON), SqlReturn::SQL_SUCCESS);
    let dsn = "ref-test";
    // SAFETY: live dbc; the DSN outlives the calls.
    let connect = || unsafe { SQLConnect(dbc, dsn.as_ptr(), dsn.len() as i16, null_mut(), 0, null_mut(), 0) };
    let (rc, _) = poll(connect);
    assert!(rc.is_success(), "{rc:?} {}", rawh::diag_text(DBC, dbc));
    assert_eq!(rawh::query_i64(dbc, "SELECT 1"), 1);
    let (rc, _) = poll(|| disconnect_rc(dbc));
    assert!(rc.is_success(), "{}", rawh::diag_text(DBC, dbc));
    free(env, dbc);
}

/// §1.16: in polling mode SQLCompleteAsync stands in for the repeat call: SQL_SUCCESS with
/// *AsyncRetCodePtr = SQL_STILL_EXECUTING while it runs, then the function's code, with
/// the post-processing applied (connected, then disconnected).
#[test]
fn s1_16_complete_async_in_polling_mode() {
    common::init();
    let env = rawh::env();
    let dbc = alloc_dbc(env);
    assert_eq!(set_attr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE, SQL_ASYNC_DBC_ENABLE_ON), SqlReturn::SQL_SUCCESS);
    // §2.13: async enabled, nothing outstanding → SQL_NO_DATA.
    assert_eq!(rawh::complete_async(DBC, dbc).0, SqlReturn::SQL_NO_DATA);
    let cs = common::refdriver_conn_str("Steps=3");
    let mut out = OutBuf::new();
    assert_eq!(driver_connect(dbc, &cs, &mut out), STILL);
    let mut stills = 0;
    let code = loop {
        let (r, code) = rawh::complete_async(DBC, dbc);
        assert_eq!(r, SqlReturn::SQL_SUCCESS);
        if code != STILL {
            break code;
        }
        stills += 1;
        std::thread::sleep(Duration::from_millis(1));
    };
    assert_eq!(code, SqlReturn::SQL_SUCCESS, "{}", rawh::diag_text(DBC, dbc));
    assert!(stills >= 1, "§1.16: SQLCompleteAsync may report SQL_STILL_EXECUTING in polling mode");
    assert!(out.text().contains("Steps=3"), "the output string is written at completion: {:?}", out.text());
    assert_eq!(rawh::complete_async(DBC, dbc).0, SqlReturn::SQL_NO_DATA, "collected: nothing outstanding");
    assert_eq!(rawh::query_i64(dbc, "SELECT 2"), 2);
    assert_eq!(disconnect_rc(dbc), STILL);
    let code = loop {
        let (r, code) = rawh::complete_async(DBC, dbc);
        assert_eq!(r, SqlReturn::SQL_SUCCESS);
        if code != STILL {
            break code;
        }
    };
    assert_eq!(code, SqlReturn::SQL_SUCCESS);
    assert_state(disconnect_rc(dbc), dbc, "08003");
    free(env, dbc);
}

/// §2.3, §2.11, §2.12, §2.13, §2.9: notification mode with SQL_ATTR_ASYNC_DBC_EVENT set
/// before connecting. The connect returns SQL_STILL_EXECUTING; polling is IM017, other
/// functions IM018; the event is set at the end; SQLCompleteAsync reports the code (NULL
/// pointer → SQL_ERROR, nothing outstanding → SQL_NO_DATA) and applies the state change.
/// The reference driver's log shows the re-invocations on the DM's dispatcher thread with
/// the first call's arguments.
#[test]
fn s2_3_s2_9_s2_11_s2_12_s2_13_notification_connect_endtran_setattr_disconnect() {
    common::init();
    let env = rawh::env();
    let dbc = alloc_dbc(env);
    let ev = AsyncEvent::new().unwrap();
    assert_eq!(set_attr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE, SQL_ASYNC_DBC_ENABLE_ON), SqlReturn::SQL_SUCCESS);
    // §2.3: set before connecting → SUCCESS, checked at connect.
    assert_eq!(set_attr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_EVENT, ev.as_attr() as usize), SqlReturn::SQL_SUCCESS);
    assert_eq!(get_attr_usize(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_EVENT), (SqlReturn::SQL_SUCCESS, ev.as_attr() as usize));
    // §2.13: NULL AsyncRetCodePtr → SQL_ERROR; nothing outstanding → SQL_NO_DATA.
    // SAFETY: live dbc; a null out pointer is what is tested.
    assert_eq!(unsafe { SQLCompleteAsync(DBC, dbc, null_mut()) }, SqlReturn::SQL_ERROR);
    assert_eq!(rawh::complete_async(DBC, dbc).0, SqlReturn::SQL_NO_DATA);

    let cs = common::refdriver_conn_str("Steps=3");
    let mut out = OutBuf::new();
    assert_eq!(driver_connect(dbc, &cs, &mut out), STILL, "{}", rawh::diag_text(DBC, dbc));
    // §2.11: the same function again → IM017; another → IM018.
    assert_state(driver_connect(dbc, &cs, &mut out), dbc, "IM017");
    assert_state(disconnect_rc(dbc), dbc, "IM018");
    assert_state(set_attr(dbc, ConnAttr::SQL_ATTR_AUTOCOMMIT, SQL_AUTOCOMMIT_OFF), dbc, "IM018");
    wait(&ev);
    assert_eq!(rawh::complete_async(DBC, dbc), (SqlReturn::SQL_SUCCESS, SqlReturn::SQL_SUCCESS), "{}", rawh::diag_text(DBC, dbc));
    assert_eq!(rawh::complete_async(DBC, dbc).0, SqlReturn::SQL_NO_DATA, "collected");
    assert!(out.text().contains("Steps=3"), "out: {:?}", out.text());

    // §2.9: round 0 on the application's thread, every re-invocation on the dispatcher,
    // all with the first call's arguments (the DM's buffers, the application's out buffer).
    let log = event_log(dbc);
    let calls = calls_of(&log, "SQLDriverConnectW");
    assert!(calls.len() >= 3, "Steps=3: first call + re-invocations: {calls:?}");
    assert_eq!(calls[0].round, 0);
    assert!(!calls[0].thread.starts_with("odbc-dm-dispatc"), "first call on the application's thread: {calls:?}");
    for c in &calls[1..] {
        assert!(c.thread.starts_with("odbc-dm-dispatc"), "re-invocation on the dispatcher: {c:?}");
        assert_eq!(c.args, calls[0].args, "same arguments in every round (§2.9)");
    }
    assert_eq!(calls.last().unwrap().ret, 0);
    assert!(calls[..calls.len() - 1].iter().all(|c| c.ret == 2), "{calls:?}");
    // The driver's connection has the DM's context: no callback was refused.
    assert!(!log.contains("\"cb_ret\":-1"), "every callback accepted: {log}");

    // Statements work once connected.
    assert_eq!(rawh::query_i64(dbc, "SELECT 6 * 7"), 42);

    // SQLSetConnectAttr(AUTOCOMMIT) in notification mode: the DM tracks it at completion.
    ev.reset();
    assert_eq!(set_attr(dbc, ConnAttr::SQL_ATTR_AUTOCOMMIT, SQL_AUTOCOMMIT_OFF), STILL);
    wait(&ev);
    assert!(dm_autocommit(dbc), "not applied before SQLCompleteAsync (§2.13)");
    assert_eq!(rawh::complete_async(DBC, dbc), (SqlReturn::SQL_SUCCESS, SqlReturn::SQL_SUCCESS));
    assert!(!dm_autocommit(dbc));

    ev.reset();
    assert_eq!(end_tran_rc(dbc, CompletionType::SQL_ROLLBACK), STILL);
    assert_state(end_tran_rc(dbc, CompletionType::SQL_ROLLBACK), dbc, "IM017");
    wait(&ev);
    assert_eq!(rawh::complete_async(DBC, dbc), (SqlReturn::SQL_SUCCESS, SqlReturn::SQL_SUCCESS));

    // §7.1 (docs/decisions.md): a driver call that finishes at once in notification mode
    // (the reference driver sets this attribute synchronously) is still reported through
    // SQL_STILL_EXECUTING, the event and SQLCompleteAsync.
    ev.reset();
    assert_eq!(set_attr(dbc, CLEAR_EVENT_LOG, 1), STILL);
    wait(&ev);
    assert_eq!(rawh::complete_async(DBC, dbc), (SqlReturn::SQL_SUCCESS, SqlReturn::SQL_SUCCESS));

    ev.reset();
    assert_eq!(disconnect_rc(dbc), STILL);
    wait(&ev);
    assert_eq!(rawh::complete_async(DBC, dbc), (SqlReturn::SQL_SUCCESS, SqlReturn::SQL_SUCCESS));
    // C2 again: disconnect is 08003 (synchronously: the DM detects it, §4.3).
    assert_state(disconnect_rc(dbc), dbc, "08003");
    free(env, dbc);
}

/// §2.3 after connecting: setting the event on a connected, capable connection installs
/// the callback at once; an invalid event value is HY024.
#[test]
fn s2_3_event_set_after_connect_and_hy024_for_a_non_event() {
    common::init();
    let env = rawh::env();
    let dbc = alloc_dbc(env);
    assert_state(set_attr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_EVENT, 0xDEAD_BEEF), dbc, "HY024");
    let cs = common::refdriver_conn_str("Steps=2");
    let mut out = OutBuf::new();
    assert_eq!(driver_connect(dbc, &cs, &mut out), SqlReturn::SQL_SUCCESS, "{}", rawh::diag_text(DBC, dbc));
    let ev = AsyncEvent::new().unwrap();
    assert_eq!(set_attr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_EVENT, ev.as_attr() as usize), SqlReturn::SQL_SUCCESS);
    assert_eq!(set_attr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE, SQL_ASYNC_DBC_ENABLE_ON), SqlReturn::SQL_SUCCESS);
    assert_eq!(end_tran_rc(dbc, CompletionType::SQL_COMMIT), STILL);
    wait(&ev);
    assert_eq!(rawh::complete_async(DBC, dbc), (SqlReturn::SQL_SUCCESS, SqlReturn::SQL_SUCCESS));
    // Event cleared → polling (§2.1).
    assert_eq!(set_attr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_EVENT, 0), SqlReturn::SQL_SUCCESS);
    assert_eq!(disconnect_rc(dbc), STILL);
    let (rc, _) = poll(|| disconnect_rc(dbc));
    assert_eq!(rc, SqlReturn::SQL_SUCCESS);
    free(env, dbc);
}

/// §1.13, §2.3, §7.2: libsqlite3odbc has neither SQL_ASYNC_DBC_FUNCTIONS nor
/// SQL_ASYNC_NOTIFICATION. Enabled before connect → the connect fails with HY114; the
/// event set before connect → S1118 at connect; set after connecting → S1118 (and HY114
/// for the enable) at once. The failed connects leave the handle reusable (C2).
#[test]
fn s1_13_s2_3_hy114_and_s1118_for_an_incapable_driver() {
    common::init();
    let env = rawh::env();
    let db = common::temp_db("async-conn-incapable");
    let cs = common::sqlite_conn_str(&db);
    let dbc = alloc_dbc(env);
    assert_eq!(set_attr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE, SQL_ASYNC_DBC_ENABLE_ON), SqlReturn::SQL_SUCCESS);
    let mut out = OutBuf::new();
    assert_state(driver_connect(dbc, &cs, &mut out), dbc, "HY114");
    assert_eq!(set_attr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE, SQL_ASYNC_DBC_ENABLE_OFF), SqlReturn::SQL_SUCCESS);
    let ev = AsyncEvent::new().unwrap();
    assert_eq!(set_attr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_EVENT, ev.as_attr() as usize), SqlReturn::SQL_SUCCESS);
    assert_state(driver_connect(dbc, &cs, &mut out), dbc, "S1118");
    assert_eq!(set_attr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_EVENT, 0), SqlReturn::SQL_SUCCESS);
    // Still C2: a plain connect works.
    assert!(driver_connect(dbc, &cs, &mut out).is_success(), "{}", rawh::diag_text(DBC, dbc));
    assert_state(set_attr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_EVENT, ev.as_attr() as usize), dbc, "S1118");
    assert_state(set_attr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE, SQL_ASYNC_DBC_ENABLE_ON), dbc, "HY114");
    assert_eq!(get_attr_usize(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_EVENT).1, 0);
    rawh::disconnect(env, dbc);
}

/// Emulation (beyond the spec, docs/decisions.md) with notification (§2.12, §2.13):
/// `AsyncEmulation=Yes` lets a sync-only driver (libsqlite3odbc) connect, end transactions
/// and disconnect asynchronously with the event set; SQLCompleteAsync returns each code.
#[test]
fn emulated_notification_connect_with_event_2_12_2_13() {
    common::init();
    let env = rawh::env();
    let db = common::temp_db("async-conn-emu");
    let cs = format!("{};AsyncEmulation=Yes", common::sqlite_conn_str(&db));
    let dbc = alloc_dbc(env);
    let ev = AsyncEvent::new().unwrap();
    assert_eq!(set_attr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE, SQL_ASYNC_DBC_ENABLE_ON), SqlReturn::SQL_SUCCESS);
    assert_eq!(set_attr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_EVENT, ev.as_attr() as usize), SqlReturn::SQL_SUCCESS);
    let mut out = OutBuf::new();
    assert_eq!(driver_connect(dbc, &cs, &mut out), STILL, "{}", rawh::diag_text(DBC, dbc));
    assert_state(driver_connect(dbc, &cs, &mut out), dbc, "IM017");
    wait(&ev);
    let (r, code) = rawh::complete_async(DBC, dbc);
    assert_eq!(r, SqlReturn::SQL_SUCCESS);
    assert!(code.is_success(), "the connect's code: {code:?} {}", rawh::diag_text(DBC, dbc));
    assert!(out.text().to_ascii_lowercase().contains("database="), "out: {:?}", out.text());
    assert!(!out.text().contains("AsyncEmulation"), "the DM keyword never reaches the driver");
    assert_eq!(rawh::query_i64(dbc, "SELECT 5"), 5);

    ev.reset();
    assert_eq!(end_tran_rc(dbc, CompletionType::SQL_COMMIT), STILL);
    wait(&ev);
    assert_eq!(rawh::complete_async(DBC, dbc), (SqlReturn::SQL_SUCCESS, SqlReturn::SQL_SUCCESS));

    ev.reset();
    assert_eq!(disconnect_rc(dbc), STILL);
    wait(&ev);
    assert_eq!(rawh::complete_async(DBC, dbc), (SqlReturn::SQL_SUCCESS, SqlReturn::SQL_SUCCESS));
    assert_state(disconnect_rc(dbc), dbc, "08003");
    free(env, dbc);
}

/// Emulated polling (§1.7 shape): emulation switched on with the DM attribute 65501; the
/// repeat call answers SQL_STILL_EXECUTING until the pool finished the connect.
#[test]
fn emulated_polling_connect_through_attribute_65501_1_7() {
    common::init();
    let env = rawh::env();
    let db = common::temp_db("async-conn-emu-poll");
    let cs = common::sqlite_conn_str(&db);
    let dbc = alloc_dbc(env);
    assert_eq!(set_attr(dbc, ConnAttr(odbc_dm::raw::SQL_ATTR_DM_ASYNC_EMULATION), 1), SqlReturn::SQL_SUCCESS);
    assert_eq!(set_attr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE, SQL_ASYNC_DBC_ENABLE_ON), SqlReturn::SQL_SUCCESS);
    let mut out = OutBuf::new();
    assert_eq!(driver_connect(dbc, &cs, &mut out), STILL);
    let (rc, _) = poll(|| driver_connect(dbc, &cs, &mut out));
    assert!(rc.is_success(), "{rc:?} {}", rawh::diag_text(DBC, dbc));
    assert_eq!(rawh::query_i64(dbc, "SELECT 9"), 9);
    assert_eq!(disconnect_rc(dbc), STILL);
    let (rc, _) = poll(|| disconnect_rc(dbc));
    assert!(rc.is_success());
    free(env, dbc);
}

/// §2.14, §3.4: SQLCancelHandle(DBC) on an outstanding notification-mode connect that
/// would never finish (`Fault=StillExecutingForever`): SUCCESS (accepted), the event is
/// set, SQLCompleteAsync reports SQL_ERROR with HY008, and the handle is back in C2.
#[test]
fn s2_14_s3_4_cancel_handle_dbc_gives_hy008_through_complete_async() {
    common::init();
    let env = rawh::env();
    let dbc = alloc_dbc(env);
    let ev = AsyncEvent::new().unwrap();
    assert_eq!(set_attr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE, SQL_ASYNC_DBC_ENABLE_ON), SqlReturn::SQL_SUCCESS);
    assert_eq!(set_attr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_EVENT, ev.as_attr() as usize), SqlReturn::SQL_SUCCESS);
    let cs = common::refdriver_conn_str("Steps=2;Delay=5;Fault=StillExecutingForever");
    let mut out = OutBuf::new();
    assert_eq!(driver_connect(dbc, &cs, &mut out), STILL);
    std::thread::sleep(Duration::from_millis(50));
    // §2.13: not signalled yet → SQL_NO_DATA.
    assert_eq!(rawh::complete_async(DBC, dbc).0, SqlReturn::SQL_NO_DATA);
    assert!(!ev.is_set());
    // SAFETY: live dbc.
    assert_eq!(unsafe { SQLCancelHandle(DBC, dbc) }, SqlReturn::SQL_SUCCESS);
    wait(&ev);
    assert_eq!(rawh::complete_async(DBC, dbc), (SqlReturn::SQL_SUCCESS, SqlReturn::SQL_ERROR));
    assert!(states(dbc).iter().any(|s| s == "HY008"), "{}", rawh::diag_text(DBC, dbc));
    // The failed connect released the driver's handles: C2, reusable.
    assert_eq!(set_attr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_EVENT, 0), SqlReturn::SQL_SUCCESS);
    assert_eq!(set_attr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE, SQL_ASYNC_DBC_ENABLE_OFF), SqlReturn::SQL_SUCCESS);
    let cs2 = common::refdriver_conn_str("");
    assert_eq!(driver_connect(dbc, &cs2, &mut out), SqlReturn::SQL_SUCCESS, "{}", rawh::diag_text(DBC, dbc));
    rawh::disconnect(env, dbc);
}

/// §3.4 in polling mode: after SQLCancelHandle(DBC), the repeat call ends with HY008.
#[test]
fn s3_4_cancel_handle_dbc_in_polling_mode() {
    common::init();
    let env = rawh::env();
    let dbc = alloc_dbc(env);
    assert_eq!(set_attr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE, SQL_ASYNC_DBC_ENABLE_ON), SqlReturn::SQL_SUCCESS);
    let cs = common::refdriver_conn_str("Steps=2;Fault=StillExecutingForever");
    let mut out = OutBuf::new();
    assert_eq!(driver_connect(dbc, &cs, &mut out), STILL);
    assert_eq!(driver_connect(dbc, &cs, &mut out), STILL);
    // SAFETY: live dbc.
    assert_eq!(unsafe { SQLCancelHandle(DBC, dbc) }, SqlReturn::SQL_SUCCESS);
    let (rc, _) = poll(|| driver_connect(dbc, &cs, &mut out));
    assert_state(rc, dbc, "HY008");
    assert_state(disconnect_rc(dbc), dbc, "08003");
    free(env, dbc);
}

/// §1.15: SQLEndTran(SQL_HANDLE_ENV) is HY115 while a connection of the environment has
/// SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE on.
#[test]
fn s1_15_end_tran_env_is_hy115_with_dbc_async() {
    common::init();
    let env = rawh::env();
    let dbc = alloc_dbc(env);
    assert_eq!(set_attr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE, SQL_ASYNC_DBC_ENABLE_ON), SqlReturn::SQL_SUCCESS);
    // SAFETY: live env.
    let rc = unsafe { SQLEndTran(HandleType::SQL_HANDLE_ENV, env, CompletionType::SQL_COMMIT) };
    assert_eq!(rc, SqlReturn::SQL_ERROR);
    let recs = rawh::diag_recs(HandleType::SQL_HANDLE_ENV, env);
    assert!(recs.iter().any(|r| r.state == "HY115"), "{recs:?}");
    free(env, dbc);
}

/// SQL_ATTR_CONNECTION_TIMEOUT (seconds) on the DM connection.
fn set_connection_timeout(dbc: H, secs: usize) {
    assert_eq!(set_attr(dbc, ConnAttr::SQL_ATTR_CONNECTION_TIMEOUT, secs), SqlReturn::SQL_SUCCESS, "{}", rawh::diag_text(DBC, dbc));
}

/// §1.14: SQL_ATTR_CONNECTION_TIMEOUT covers the total time of all the calls of an
/// asynchronous open, not each call: the reference driver's connect takes 4 steps of
/// 400 ms, each repeat call returns at once, and the whole connect still ends with HYT01
/// after ≈ 1 s. The attribute was set before connecting, so the DM stored it and replayed
/// it on the driver's connection (§1.13). An open that failed is not finished (§1.14): the
/// connection stays unconnected (08003) and connects again without the timeout.
#[test]
fn s1_14_connection_timeout_covers_all_polling_calls_of_an_async_connect() {
    common::init();
    let env = rawh::env();
    let dbc = alloc_dbc(env);
    set_connection_timeout(dbc, 1);
    assert_eq!(set_attr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE, SQL_ASYNC_DBC_ENABLE_ON), SqlReturn::SQL_SUCCESS);
    let cs = common::refdriver_conn_str("Steps=4;Delay=400");
    let mut out = OutBuf::new();
    let t0 = std::time::Instant::now();
    let mut calls = 0;
    let rc = loop {
        calls += 1;
        let rc = driver_connect(dbc, &cs, &mut out);
        if rc != STILL {
            break rc;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = t0.elapsed();
    assert_state(rc, dbc, "HYT01");
    assert!(calls > 10, "many short calls, one timeout over all of them ({calls} calls)");
    assert!(took >= Duration::from_secs(1), "not before the timeout: {took:?}");
    // Not connected: the DM still refuses statement work with 08003.
    let mut stmt = null_mut();
    // SAFETY: live dbc, valid out pointer.
    let rc = unsafe { SQLAllocHandle(HandleType::SQL_HANDLE_STMT, dbc, &mut stmt) };
    assert_state(rc, dbc, "08003");
    // Without the timeout the same connect completes.
    set_connection_timeout(dbc, 0);
    let (rc, _) = poll(|| driver_connect(dbc, &cs, &mut out));
    assert!(rc.is_success(), "{rc:?} {}", rawh::diag_text(DBC, dbc));
    assert_eq!(rawh::query_i64(dbc, "SELECT 7"), 7);
    let (rc, _) = poll(|| disconnect_rc(dbc));
    assert!(rc.is_success(), "{}", rawh::diag_text(DBC, dbc));
    free(env, dbc);
}

/// §1.14 in notification mode, for a close: the timeout covers every re-invocation the
/// dispatcher makes; SQLCompleteAsync reports SQL_ERROR with HYT01, and a close that did
/// not succeed leaves the connection open (it still runs queries), until a disconnect
/// without the timeout closes it.
#[test]
fn s1_14_connection_timeout_ends_a_notification_mode_disconnect_with_hyt01() {
    common::init();
    let env = rawh::env();
    let dbc = alloc_dbc(env);
    let cs = common::refdriver_conn_str("Steps=4;Delay=400");
    let mut out = OutBuf::new();
    assert_eq!(driver_connect(dbc, &cs, &mut out), SqlReturn::SQL_SUCCESS, "{}", rawh::diag_text(DBC, dbc));
    // Set while the connection is synchronous (in notification mode SQLSetConnectAttr is
    // itself an asynchronous connection function).
    set_connection_timeout(dbc, 1);
    let ev = AsyncEvent::new().unwrap();
    assert_eq!(set_attr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE, SQL_ASYNC_DBC_ENABLE_ON), SqlReturn::SQL_SUCCESS);
    assert_eq!(set_attr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_EVENT, ev.as_attr() as usize), SqlReturn::SQL_SUCCESS);
    let t0 = std::time::Instant::now();
    assert_eq!(disconnect_rc(dbc), STILL);
    wait(&ev);
    assert!(t0.elapsed() >= Duration::from_secs(1), "{:?}", t0.elapsed());
    assert_eq!(rawh::complete_async(DBC, dbc), (SqlReturn::SQL_SUCCESS, SqlReturn::SQL_ERROR));
    assert!(states(dbc).iter().any(|s| s == "HYT01"), "{}", rawh::diag_text(DBC, dbc));
    // Still connected (C4).
    assert_eq!(set_attr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_EVENT, 0), SqlReturn::SQL_SUCCESS);
    assert_eq!(set_attr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE, SQL_ASYNC_DBC_ENABLE_OFF), SqlReturn::SQL_SUCCESS);
    assert_eq!(rawh::query_i64(dbc, "SELECT 8"), 8);
    set_connection_timeout(dbc, 0);
    rawh::disconnect(env, dbc);
}
