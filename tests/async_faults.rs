//! Every fault mode of the reference driver in notification mode, through the raw layer,
//! with step delays of 0, 5 and 50 ms and 1 or 3 steps (issue 9 items 3–5): each
//! operation completes with the right result, or, for a driver that never completes on
//! its own, with HY008 after SQLCancel alone (§2.14: the DM drives it after the cancel
//! grace), and then the handles are freed through the ODBC API alone. No operation spins:
//! the DM's re-invocation counter (`raw::ext::op_stats`) stays within a small multiple of
//! the driver's steps.

mod common;

use common::rawh::{self, set_stmt_attr, H};
use odbc_dm::abi::*;
use odbc_dm::AsyncEvent;
use odbc_dm::raw::ext::{self, OpStats};
use odbc_dm::raw::*;
use std::time::{Duration, Instant};

const STMT: HandleType = HandleType::SQL_HANDLE_STMT;
const DBC: HandleType = HandleType::SQL_HANDLE_DBC;
const DELAYS: [u64; 3] = [0, 5, 50];
const STEPS: [u32; 2] = [1, 3];
/// "No hang": generous bound for any one operation.
const NO_HANG: Duration = Duration::from_secs(20);

fn notify_mode(s: H) -> AsyncEvent {
    let ev = AsyncEvent::new().unwrap();
    assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_ON), SqlReturn::SQL_SUCCESS);
    let rc = set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_STMT_EVENT, ev.as_attr() as usize);
    assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{}", rawh::diag_text(STMT, s));
    ev
}

fn stats(ht: HandleType, h: H) -> OpStats {
    ext::op_stats(ht, h).expect("live handle")
}

/// Waits (bounded) for the event and collects: the operation's code.
#[track_caller]
fn collect(ev: &AsyncEvent, ht: HandleType, h: H, what: &str) -> SqlReturn {
    assert!(ev.wait_timeout(NO_HANG), "{what}: no completion within {NO_HANG:?} (hang)");
    let (r, rc) = rawh::complete_async(ht, h);
    assert_eq!(r, SqlReturn::SQL_SUCCESS, "{what}: SQLCompleteAsync after the event");
    ev.reset();
    rc
}

/// The most re-invocations one operation of `steps` steps may take: the driver's steps
/// plus a bounded number of premature ones (back-off after a callback on the calling
/// thread grows 1, 2, 4 … ms, so it converges in a few rounds even with 50 ms steps).
/// A spinning dispatcher makes thousands.
fn max_reinvocations(steps: u32) -> u64 {
    4 * u64::from(steps) + 12
}

/// One notification-mode statement operation that must succeed; returns the
/// re-invocations it took.
#[track_caller]
fn op_ok(ev: &AsyncEvent, s: H, first: SqlReturn, what: &str) -> u64 {
    let before = stats(STMT, s).reinvocations;
    assert_eq!(first, SqlReturn::SQL_STILL_EXECUTING, "{what}: {}", rawh::diag_text(STMT, s));
    let rc = collect(ev, STMT, s, what);
    assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{what}: {}", rawh::diag_text(STMT, s));
    stats(STMT, s).reinvocations - before
}

/// Execute, fetch, read: three operations in a row on one statement, each checked (a
/// duplicate or late callback of one must not leak into the next).
fn select_fetch_get(ev: &AsyncEvent, s: H, steps: u32, what: &str) {
    let sql = "SELECT 7";
    // SAFETY: live statement; a 'static text outlives the operation (§2.9).
    let n = op_ok(ev, s, unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) }, &format!("{what} exec"));
    assert!(n <= max_reinvocations(steps), "{what}: exec took {n} re-invocations (spinning)");
    // SAFETY: live statement.
    let n = op_ok(ev, s, unsafe { SQLFetch(s) }, &format!("{what} fetch"));
    assert!(n <= max_reinvocations(steps), "{what}: fetch took {n} re-invocations (spinning)");
    let mut v: i64 = 0;
    let mut ind: SqlLen = 0;
    // SAFETY: `v` and `ind` outlive the operation: it is collected below.
    let r = unsafe { SQLGetData(s, 1, CDataType::SQL_C_SBIGINT, (&mut v as *mut i64).cast(), 8, &mut ind) };
    let n = op_ok(ev, s, r, &format!("{what} get_data"));
    assert!(n <= max_reinvocations(steps), "{what}: get_data took {n} re-invocations (spinning)");
    assert_eq!(v, 7, "{what}: the value");
    rawh::close(s);
}

/// A fault with which the driver completes (possibly misbehaving on the way).
fn completes(fault: &str) {
    common::init();
    for delay in DELAYS {
        for steps in STEPS {
            let what = format!("Fault={fault};Delay={delay};Steps={steps}");
            let (env, dbc) = rawh::connect(&common::refdriver_conn_str(&format!("Steps={steps};Delay={delay};Fault={fault}")));
            let s = rawh::stmt(dbc);
            let ev = notify_mode(s);
            let t0 = Instant::now();
            select_fetch_get(&ev, s, steps, &what);
            // Twice: whatever the first round left behind (a late duplicate) must not
            // disturb the second.
            select_fetch_get(&ev, s, steps, &format!("{what} (again)"));
            assert!(t0.elapsed() < 2 * NO_HANG, "{what}: took {:?}", t0.elapsed());
            rawh::free_stmt(s);
            rawh::disconnect(env, dbc);
        }
    }
}

/// A fault with which the driver never completes on its own: SQLCancel alone ends the
/// operation (§2.14), SQLCompleteAsync reports HY008, and the statement and connection
/// are freed through the ODBC API (issue 9 item 3).
fn needs_cancel(fault: &str) {
    common::init();
    for delay in DELAYS {
        for steps in STEPS {
            let what = format!("Fault={fault};Delay={delay};Steps={steps}");
            let (env, dbc) = rawh::connect(&common::refdriver_conn_str(&format!("Steps={steps};Delay={delay};Fault={fault}")));
            let s = rawh::stmt(dbc);
            let ev = notify_mode(s);
            let t0 = Instant::now();
            let sql = "SELECT 3";
            // SAFETY: live statement; 'static text.
            assert_eq!(unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) }, SqlReturn::SQL_STILL_EXECUTING, "{what}");
            assert!(!ev.wait_timeout(Duration::from_millis(120)), "{what}: the driver does not complete on its own");
            // SAFETY: live statement.
            assert_eq!(unsafe { SQLCancel(s) }, SqlReturn::SQL_SUCCESS, "{what}");
            let rc = collect(&ev, STMT, s, &what);
            if rc == SqlReturn::SQL_SUCCESS && fault != "StillExecutingForever" {
                // The driver had finished its work before the cancel: the real result
                // (§2.14 allows either), reached by the DM's polling.
            } else {
                assert_eq!(rc, SqlReturn::SQL_ERROR, "{what}");
                assert_eq!(rawh::diag_recs(STMT, s)[0].state, "HY008", "{what}");
            }
            let st = stats(STMT, s);
            if fault == "StillExecutingForever" {
                // The driver calls back for every step and never ends: the DM re-invokes
                // at the driver's pace (one per step), no faster.
                if let Some(steps_elapsed) = (t0.elapsed().as_millis() as u64).checked_div(delay) {
                    let paced = steps_elapsed + 1;
                    assert!(st.reinvocations <= 2 * paced + 10, "{what}: {st:?} in {:?}", t0.elapsed());
                }
            } else {
                assert!(st.reinvocations <= max_reinvocations(steps) + 20, "{what}: {st:?}");
            }
            assert_eq!(st.gave_up, 0, "{what}: the driver ended the cancelled call itself");
            // Through the ODBC API alone: nothing outstanding, free and disconnect work.
            assert_eq!(rawh::complete_async(STMT, s).0, SqlReturn::SQL_NO_DATA, "{what}");
            // SAFETY: live handles.
            unsafe {
                assert_eq!(SQLFreeHandle(STMT, s), SqlReturn::SQL_SUCCESS, "{what}");
                assert_eq!(SQLDisconnect(dbc), SqlReturn::SQL_SUCCESS, "{what}");
                assert_eq!(SQLFreeHandle(DBC, dbc), SqlReturn::SQL_SUCCESS, "{what}");
                assert_eq!(SQLFreeHandle(HandleType::SQL_HANDLE_ENV, env), SqlReturn::SQL_SUCCESS, "{what}");
            }
        }
    }
}

#[test]
fn s2_7_no_fault_completes_without_backoff() {
    completes("None");
}

/// §2.7, §2.8 violated: two callbacks per SQL_STILL_EXECUTING (issue 9 item 4).
#[test]
fn s2_7_double_callback_completes_with_any_step_timing() {
    completes("DoubleCallback");
}

/// §7.5 with a callback on the thread that is inside the driver call (issue 9 item 5):
/// completes, backs off instead of spinning.
#[test]
fn s7_5_callback_on_calling_thread_backs_off_and_completes() {
    completes("CallbackOnCallingThread");
    // The back-off is counted.
    let (env, dbc) = rawh::connect(&common::refdriver_conn_str("Steps=3;Delay=5;Fault=CallbackOnCallingThread"));
    let s = rawh::stmt(dbc);
    let ev = notify_mode(s);
    let sql = "SELECT 1";
    // SAFETY: live statement; 'static text.
    op_ok(&ev, s, unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) }, "exec");
    let st = stats(STMT, s);
    assert!(st.backoffs >= 1 && st.early_callbacks >= 1, "{st:?}");
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

/// §7.5: the worker calls back before SQL_STILL_EXECUTING is returned.
#[test]
fn s7_5_callback_before_return_completes() {
    completes("CallbackBeforeReturn");
}

/// Faults unrelated to callbacks still complete in notification mode.
#[test]
fn other_faults_complete_in_notification_mode() {
    completes("LyingFunctions");
    completes("DiagOverflow");
}

/// A driver call that panics inside the driver ends the operation with SQL_ERROR through
/// the event (§7.1 policy), never a hang.
#[test]
fn s7_1_panic_in_call_completes_with_an_error() {
    common::init();
    for delay in DELAYS {
        for steps in STEPS {
            let what = format!("PanicInCall;Delay={delay};Steps={steps}");
            let (env, dbc) = rawh::connect(&common::refdriver_conn_str(&format!("Steps={steps};Delay={delay};Fault=PanicInCall")));
            let s = rawh::stmt(dbc);
            let ev = notify_mode(s);
            let sql = "SELECT 1";
            // SAFETY: live statement; 'static text.
            let first = unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) };
            let rc = if first == SqlReturn::SQL_STILL_EXECUTING { collect(&ev, STMT, s, &what) } else { first };
            assert_eq!(rc, SqlReturn::SQL_ERROR, "{what}");
            rawh::free_stmt(s);
            rawh::disconnect(env, dbc);
        }
    }
}

/// §2.14 with a driver that never calls back (issue 9 item 3).
#[test]
fn s2_14_cancel_ends_no_callback_through_the_odbc_api() {
    needs_cancel("NoCallback");
}

/// §2.10, §2.14: every callback carries a garbage context (refused); cancel still ends it.
#[test]
fn s2_14_cancel_ends_wrong_context_through_the_odbc_api() {
    needs_cancel("WrongContext");
}

/// §2.14: a driver that calls back but never finishes on its own.
#[test]
fn s2_14_cancel_ends_still_executing_forever() {
    needs_cancel("StillExecutingForever");
}

/// §2.14, decision #35: SQL_ATTR_DM_CANCEL_GRACE is a statement and connection attribute
/// (DM-only), 500 ms by default, inherited by new statements; a shorter grace ends a
/// NoCallback operation sooner. Stale handles answer SQL_INVALID_HANDLE in the extension.
#[test]
fn s2_14_cancel_grace_attribute() {
    common::init();
    let (env, dbc) = rawh::connect(&common::refdriver_conn_str("Steps=2;Delay=5;Fault=NoCallback"));
    let grace = StmtAttr(ext::SQL_ATTR_DM_CANCEL_GRACE);
    let s = rawh::stmt(dbc);
    let mut v: usize = 0;
    // SAFETY: live statement; a SQLULEN out buffer.
    let rc = unsafe { SQLGetStmtAttr(s, grace, (&mut v as *mut usize).cast(), 0, std::ptr::null_mut()) };
    assert_eq!((rc, v), (SqlReturn::SQL_SUCCESS, 500), "default");
    // SAFETY: live dbc; integer attribute.
    assert_eq!(unsafe { SQLSetConnectAttr(dbc, ConnAttr(ext::SQL_ATTR_DM_CANCEL_GRACE), 20 as SqlPointer, 0) }, SqlReturn::SQL_SUCCESS);
    let s2 = rawh::stmt(dbc);
    assert_eq!(ext::cancel_grace(STMT, s2), Ok(Duration::from_millis(20)), "inherited by a new statement");
    assert_eq!(ext::cancel_grace(STMT, s), Ok(Duration::from_millis(500)), "not by an existing one");
    assert_eq!(set_stmt_attr(s, grace, 3000), SqlReturn::SQL_SUCCESS);
    assert_eq!(ext::cancel_grace(STMT, s), Ok(Duration::from_millis(3000)));
    // The grace is honoured: with 3 s the operation is still running 1 s after the cancel.
    let ev = notify_mode(s);
    let sql = "SELECT 3";
    // SAFETY: live statement; 'static text.
    assert_eq!(unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) }, SqlReturn::SQL_STILL_EXECUTING);
    // SAFETY: live statement.
    assert_eq!(unsafe { SQLCancel(s) }, SqlReturn::SQL_SUCCESS);
    assert!(!ev.wait_timeout(Duration::from_millis(1000)), "not driven before the grace");
    assert_eq!(collect(&ev, STMT, s, "grace 3 s"), SqlReturn::SQL_ERROR);
    assert!(stats(STMT, s).driven_polls >= 1);
    rawh::free_stmt(s);
    rawh::free_stmt(s2);
    assert_eq!(ext::op_stats(STMT, s), Err(SqlReturn::SQL_INVALID_HANDLE), "stale handle");
    assert_eq!(ext::op_status(STMT, std::ptr::null_mut()).map(|_| ()), Err(SqlReturn::SQL_INVALID_HANDLE));
    rawh::disconnect(env, dbc);
}

/// §2.14, §3.4 on a connection: a notification-mode connect to a driver that never calls
/// back ends after SQLCancelHandle(DBC) alone, then the handle is freed (issue 9 item 3).
#[test]
fn s2_14_cancel_handle_ends_a_connect_that_never_calls_back() {
    common::init();
    for fault in ["NoCallback", "WrongContext", "StillExecutingForever"] {
        for delay in DELAYS {
            let what = format!("connect Fault={fault};Delay={delay}");
            let env = rawh::env();
            let mut dbc = std::ptr::null_mut();
            // SAFETY: live env, valid out pointer.
            assert_eq!(unsafe { SQLAllocHandle(DBC, env, &mut dbc) }, SqlReturn::SQL_SUCCESS);
            let ev = AsyncEvent::new().unwrap();
            // SAFETY: live dbc; integer / event attributes.
            unsafe {
                assert_eq!(SQLSetConnectAttr(dbc, ConnAttr(ext::SQL_ATTR_DM_CANCEL_GRACE), 50 as SqlPointer, 0), SqlReturn::SQL_SUCCESS);
                assert_eq!(
                    SQLSetConnectAttr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE, SQL_ASYNC_DBC_ENABLE_ON as SqlPointer, 0),
                    SqlReturn::SQL_SUCCESS
                );
                assert_eq!(SQLSetConnectAttr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_EVENT, ev.as_attr(), 0), SqlReturn::SQL_SUCCESS);
            }
            let cs: &'static str = Box::leak(common::refdriver_conn_str(&format!("Steps=2;Delay={delay};Fault={fault}")).into_boxed_str());
            let mut len: SqlSmallInt = 0;
            // SAFETY: live dbc; a 'static connection string; no output buffer.
            let rc = unsafe {
                SQLDriverConnect(
                    dbc,
                    std::ptr::null_mut(),
                    cs.as_ptr(),
                    cs.len() as i16,
                    std::ptr::null_mut(),
                    0,
                    &mut len,
                    DriverCompletion::SQL_DRIVER_NOPROMPT,
                )
            };
            assert_eq!(rc, SqlReturn::SQL_STILL_EXECUTING, "{what}: {}", rawh::diag_text(DBC, dbc));
            assert!(!ev.wait_timeout(Duration::from_millis(100)), "{what}: no completion on its own");
            // SAFETY: live dbc.
            assert_eq!(unsafe { SQLCancelHandle(DBC, dbc) }, SqlReturn::SQL_SUCCESS, "{what}");
            let rc = collect(&ev, DBC, dbc, &what);
            assert_eq!(rc, SqlReturn::SQL_ERROR, "{what}");
            assert_eq!(rawh::diag_recs(DBC, dbc)[0].state, "HY008", "{what}");
            // SAFETY: live handles; the connect failed, so the connection is not open.
            unsafe {
                assert_eq!(SQLFreeHandle(DBC, dbc), SqlReturn::SQL_SUCCESS, "{what}: {}", rawh::diag_text(DBC, dbc));
                assert_eq!(SQLFreeHandle(HandleType::SQL_HANDLE_ENV, env), SqlReturn::SQL_SUCCESS, "{what}");
            }
        }
    }
}

/// Issue 9 item 8, §3.3: cancelling an emulated asynchronous fetch on libsqlite3odbc
/// (serialized with its SQLCancel, Threading=3) neither blocks the caller behind the
/// running call nor loses the fetched row: the cancel is recorded, the fetch that
/// completes keeps its row, and SQLGetData reads it.
#[test]
fn s3_3_cancel_of_an_emulated_fetch_keeps_the_row() {
    common::init();
    let db = common::temp_db("emu_cancel_fetch");
    let (env, dbc) = rawh::connect(&format!("{};AsyncEmulation=Yes", common::sqlite_conn_str(&db)));
    let setup = rawh::stmt(dbc);
    rawh::exec(setup, "DROP TABLE IF EXISTS t");
    rawh::exec(setup, "CREATE TABLE t (v INTEGER)");
    let values: Vec<String> = (1..=200).map(|i| format!("({i})")).collect();
    rawh::exec(setup, &format!("INSERT INTO t VALUES {}", values.join(",")));
    rawh::free_stmt(setup);
    assert_eq!(rawh::query_i64(dbc, "SELECT COUNT(*) FROM t"), 200);
    let s = rawh::stmt(dbc);
    let ev = notify_mode(s);
    let sql = "SELECT v FROM t ORDER BY v";
    // SAFETY: live statement; 'static text.
    assert_eq!(collect_first(&ev, s, unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) }), SqlReturn::SQL_SUCCESS);
    let mut slowest = Duration::ZERO;
    for row in 1..=200i64 {
        // SAFETY: live statement.
        let first = unsafe { SQLFetch(s) };
        let t = Instant::now();
        // SAFETY: live statement; the cancel races with the pool's fetch.
        let rc = unsafe { SQLCancel(s) };
        slowest = slowest.max(t.elapsed());
        assert!(rc.is_success(), "row {row}: {rc:?}");
        let rc = collect_first(&ev, s, first);
        assert_eq!(rc, SqlReturn::SQL_SUCCESS, "row {row}: the fetch keeps its row: {}", rawh::diag_text(STMT, s));
        let mut v: i64 = 0;
        let mut ind: SqlLen = 0;
        // SAFETY: `v`, `ind` outlive the (emulated) operation, collected below.
        let r = unsafe { SQLGetData(s, 1, CDataType::SQL_C_SBIGINT, (&mut v as *mut i64).cast(), 8, &mut ind) };
        assert_eq!(collect_first(&ev, s, r), SqlReturn::SQL_SUCCESS, "row {row}: {}", rawh::diag_text(STMT, s));
        assert_eq!(v, row, "row {row}: the value");
    }
    assert!(slowest < Duration::from_secs(1), "SQLCancel blocked the caller for {slowest:?}");
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

/// The code of an operation that may have completed at once or gone asynchronous.
#[track_caller]
fn collect_first(ev: &AsyncEvent, s: H, first: SqlReturn) -> SqlReturn {
    if first == SqlReturn::SQL_STILL_EXECUTING {
        collect(ev, STMT, s, "operation")
    } else {
        first
    }
}

fn info_u32(dbc: H, info: InfoType) -> Option<u32> {
    let mut v: u32 = 0xFFFF_FFFF;
    let mut len: SqlSmallInt = 0;
    // SAFETY: live dbc; a SQLUINTEGER buffer.
    let rc = unsafe { SQLGetInfo(dbc, info, (&mut v as *mut u32).cast(), 4, &mut len) };
    rc.is_success().then_some(v)
}

/// §2.3, §1.1, decision #40: with the DM's emulation on, SQLGetInfo reports the DM's
/// asynchronous capability (statement-level async, notification, connection functions),
/// not the sync-only driver's; without it, the driver's own answer.
#[test]
fn s2_3_get_info_under_emulation_reports_the_dm_capability() {
    common::init();
    let db = common::temp_db("emu_info");
    let (env, dbc) = rawh::connect(&format!("{};AsyncEmulation=Yes", common::sqlite_conn_str(&db)));
    assert_eq!(info_u32(dbc, InfoType::SQL_ASYNC_MODE), Some(u32::from(SQL_AM_STATEMENT)));
    assert_eq!(info_u32(dbc, InfoType::SQL_ASYNC_NOTIFICATION), Some(SQL_ASYNC_NOTIFICATION_CAPABLE));
    assert_eq!(info_u32(dbc, InfoType::SQL_ASYNC_DBC_FUNCTIONS), Some(SQL_ASYNC_DBC_CAPABLE));
    rawh::disconnect(env, dbc);
    let (env, dbc) = rawh::connect(&common::sqlite_conn_str(&db));
    // libsqlite3odbc's own answer: HYC00 (unknown option) or not capable.
    assert_ne!(info_u32(dbc, InfoType::SQL_ASYNC_NOTIFICATION), Some(SQL_ASYNC_NOTIFICATION_CAPABLE), "the driver's own answer");
    rawh::disconnect(env, dbc);
}
