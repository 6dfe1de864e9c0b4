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

// --- Issue 9 items 1–2 and 8: the idle cancel (§3.3), the cancel fence (docs/decisions.md
// #29–#31) and §1.10. Helpers of tests/common (rawh) from here on.

use common::rawh::{self, H};

const STMT: HandleType = HandleType::SQL_HANDLE_STMT;

/// SQLGetData of column 1 as SQL_C_SBIGINT: (code, value).
fn get_i64(s: H) -> (SqlReturn, i64) {
    let mut v = i64::MIN;
    let mut ind: SqlLen = 0;
    // SAFETY: live statement; an 8-byte buffer for SQL_C_SBIGINT.
    let rc = unsafe { SQLGetData(s, 1, CDataType::SQL_C_SBIGINT, (&mut v as *mut i64).cast(), 8, &mut ind) };
    (rc, v)
}

/// `n` rows 1..=n from a recursive CTE (SQLite and the reference driver).
fn counting_query(n: i64) -> String {
    format!("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {n}) SELECT x FROM c")
}

/// §3.3: an idle SQLCancel is a no-op: on libsqlite3odbc, whose own SQLCancel closes the
/// cursor, the DM must not forward it. Before the fix the fetch after the cancel failed.
#[test]
fn s3_3_idle_cancel_on_owner_thread_keeps_the_cursor_sqlite() {
    common::init();
    let db = common::temp_db("idle-cancel");
    let (env, dbc) = rawh::connect(&common::sqlite_conn_str(&db));
    let s = rawh::stmt(dbc);
    rawh::ok_stmt(rawh::exec_rc(s, &counting_query(3)), s, "SQLExecDirect");
    for want in 1..=3 {
        // SAFETY: live statement.
        rawh::ok_stmt(unsafe { SQLFetch(s) }, s, "SQLFetch");
        assert_eq!(get_i64(s), (SqlReturn::SQL_SUCCESS, want), "value {want} after an idle SQLCancel");
        // SAFETY: live statement; the statement is idle (S6).
        assert_eq!(unsafe { SQLCancel(s) }, SqlReturn::SQL_SUCCESS);
    }
    // SAFETY: live statement.
    assert_eq!(unsafe { SQLFetch(s) }, SqlReturn::SQL_NO_DATA);
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
    let _ = std::fs::remove_file(db);
}

/// §3.3: an idle SQLCancel on the thread whose call left diagnostics clears them (every
/// call clears its handle's records) and answers SQL_SUCCESS; one from another thread is a
/// late cross-thread cancel and leaves them alone (§3.2). Before the fix the records stayed.
#[test]
fn s3_3_idle_cancel_clears_old_diagnostics_on_the_owner_thread_only() {
    common::init();
    let (env, dbc) = rawh::connect(&common::refdriver_conn_str(""));
    let s = rawh::stmt(dbc);
    assert_eq!(rawh::exec_rc(s, "SELEC 1"), SqlReturn::SQL_ERROR);
    let before = rawh::diag_recs(STMT, s);
    assert!(!before.is_empty(), "the syntax error left records");
    let h = s as usize;
    // SAFETY: live statement, cancelled from another thread while idle.
    let rc = std::thread::spawn(move || unsafe { SQLCancel(h as SqlHandle) }).join().unwrap();
    assert_eq!(rc, SqlReturn::SQL_SUCCESS);
    assert_eq!(rawh::diag_recs(STMT, s), before, "§3.2: a cross-thread cancel touches the victim's records");
    // SAFETY: live statement; idle, on the thread that made the failed call.
    assert_eq!(unsafe { SQLCancel(s) }, SqlReturn::SQL_SUCCESS);
    assert!(rawh::diag_recs(STMT, s).is_empty(), "§3.3: the idle SQLCancel cleared the old records");
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

/// §3.2, §3.3 (issue 9 item 2): a canceller calling SQLCancel without pause while the
/// owner fetches and reads 2,000 rows on libsqlite3odbc (`Threading` 3): every value is
/// right or the call failed with HY008; never SQL_SUCCESS from SQLFetch and then
/// SQL_NO_DATA from SQLGetData. The run is repeated with the last SQLFetch spending about
/// 0, 5 and 50 ms in the driver. Before the fix values were lost within milliseconds.
#[test]
fn s3_3_cancel_racing_fetch_and_getdata_loses_no_value_sqlite() {
    common::init();
    let db = common::temp_db("cancel-fetch-race");
    let (env, dbc) = rawh::connect(&common::sqlite_conn_str(&db));
    for extra in [0i64, 10_000, 100_000] {
        let s = rawh::stmt(dbc);
        let h = s as usize;
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|sc| {
            let stop = &stop;
            let c = sc.spawn(move || {
                let mut n = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    // SAFETY: live statement (freed only after this thread is joined).
                    let rc = unsafe { SQLCancel(h as SqlHandle) };
                    assert!(rc == SqlReturn::SQL_SUCCESS || rc == SqlReturn::SQL_ERROR, "§3.2: {rc:?}");
                    n += 1;
                }
                n
            });
            // Stops the canceller however this thread leaves the scope (a failed assertion
            // included), so a failure is reported instead of hanging the join.
            struct StopOnDrop<'a>(&'a std::sync::atomic::AtomicBool);
            impl Drop for StopOnDrop<'_> {
                fn drop(&mut self) {
                    self.0.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            }
            let _stop = StopOnDrop(stop);
            let t0 = Instant::now();
            let mut cancelled = 0;
            for round in 0..5 {
                let sql = format!(
                    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {}) SELECT x + {round} FROM c WHERE x <= 2000",
                    2000 + extra
                );
                let rc = rawh::exec_rc(s, &sql);
                if rc == SqlReturn::SQL_ERROR {
                    assert!(rawh::diag_recs(STMT, s).iter().any(|r| r.state == "HY008"), "{}", rawh::diag_text(STMT, s));
                    cancelled += 1;
                    continue;
                }
                rawh::ok_stmt(rc, s, "SQLExecDirect");
                for want in 1 + round..=2000 + round {
                    // No hang: before the fix the canceller, queued on the driver's lock
                    // beside every call, slowed the owner to a crawl.
                    assert!(t0.elapsed() < Duration::from_secs(30), "no progress: 30 s and still at value {want} of round {round}");
                    // SAFETY: live statement.
                    let rc = unsafe { SQLFetch(s) };
                    if rc == SqlReturn::SQL_ERROR {
                        assert!(rawh::diag_recs(STMT, s).iter().any(|r| r.state == "HY008"), "{}", rawh::diag_text(STMT, s));
                        cancelled += 1;
                        break;
                    }
                    assert_eq!(rc, SqlReturn::SQL_SUCCESS, "row {want} lost");
                    let (rc, v) = get_i64(s);
                    assert_ne!(rc, SqlReturn::SQL_NO_DATA, "SQLFetch said SQL_SUCCESS, SQLGetData SQL_NO_DATA (row {want})");
                    assert_eq!((rc, v), (SqlReturn::SQL_SUCCESS, want));
                    if want == 2000 + round {
                        // SAFETY: live statement.
                        assert_eq!(unsafe { SQLFetch(s) }, SqlReturn::SQL_NO_DATA);
                    }
                }
                rawh::close(s);
            }
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            let n = c.join().unwrap();
            assert!(n > 0, "the canceller ran");
            // libsqlite3odbc runs at Threading 3: the DM never forwards a cancel beside a
            // call, so none takes effect.
            assert_eq!(cancelled, 0, "no call of a Threading 3 driver is cancelled");
        });
        rawh::free_stmt(s);
    }
    rawh::disconnect(env, dbc);
    let _ = std::fs::remove_file(db);
}

/// §1.10: while an asynchronous connect is outstanding, SQLAllocHandle(STMT) on the
/// connection is HY010 (before: 08003, the connection not being open yet). Step delays of
/// 0, 5 and 50 ms.
#[test]
fn s1_10_alloc_stmt_during_async_connect_is_hy010() {
    common::init();
    for delay in [0, 5, 50] {
        let env = rawh::env();
        let mut dbc = null_mut();
        // SAFETY: live env, valid out pointer.
        assert_eq!(unsafe { SQLAllocHandle(HandleType::SQL_HANDLE_DBC, env, &mut dbc) }, SqlReturn::SQL_SUCCESS);
        let on = SQL_ASYNC_DBC_ENABLE_ON as SqlPointer;
        // SAFETY: live dbc; an integer attribute passed by value.
        assert_eq!(unsafe { SQLSetConnectAttr(dbc, ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE, on, 0) }, SqlReturn::SQL_SUCCESS);
        let cs = common::refdriver_conn_str(&format!("Steps=3;Delay={delay}"));
        let connect = || {
            // SAFETY: live dbc; `cs` outlives the operation (it is repeated with the same text).
            unsafe {
                SQLDriverConnect(
                    dbc,
                    null_mut(),
                    cs.as_ptr(),
                    cs.len() as i16,
                    null_mut(),
                    0,
                    null_mut(),
                    DriverCompletion::SQL_DRIVER_NOPROMPT,
                )
            }
        };
        assert_eq!(connect(), SqlReturn::SQL_STILL_EXECUTING, "Delay={delay}");
        let mut s = null_mut();
        // SAFETY: live dbc, valid out pointer.
        assert_eq!(unsafe { SQLAllocHandle(STMT, dbc, &mut s) }, SqlReturn::SQL_ERROR);
        let recs = rawh::diag_recs(HandleType::SQL_HANDLE_DBC, dbc);
        assert_eq!(recs.first().map(|r| r.state.as_str()), Some("HY010"), "Delay={delay}: {recs:?}");
        let (rc, _) = rawh::poll(connect);
        rawh::ok(rc, HandleType::SQL_HANDLE_DBC, dbc, "async connect");
        let s = rawh::stmt(dbc);
        rawh::free_stmt(s);
        // SAFETY: live dbc (the disconnect is asynchronous too: polled).
        let (rc, _) = rawh::poll(|| unsafe { SQLDisconnect(dbc) });
        rawh::ok(rc, HandleType::SQL_HANDLE_DBC, dbc, "async disconnect");
        // SAFETY: disconnected dbc, then its env.
        unsafe {
            assert_eq!(SQLFreeHandle(HandleType::SQL_HANDLE_DBC, dbc), SqlReturn::SQL_SUCCESS);
            assert_eq!(SQLFreeHandle(HandleType::SQL_HANDLE_ENV, env), SqlReturn::SQL_SUCCESS);
        }
    }
}

/// §3.3, docs/decisions.md #30 (issue 9 item 2): cancelling an *emulated* asynchronous
/// SQLFetch of libsqlite3odbc (`Threading` 3) while the pool thread is inside the driver
/// does not wait for it (before the fix SQLCancel blocked until the fetch had ended, then
/// closed the cursor). Every fetch ends SQL_SUCCESS with the right value or SQL_ERROR with
/// HY008; none is SQL_SUCCESS followed by SQL_NO_DATA from SQLGetData.
#[test]
fn s3_3_cancel_of_an_emulated_fetch_does_not_wait_and_loses_no_value_sqlite() {
    common::init();
    let db = common::temp_db("emu-cancel");
    let (env, dbc) = rawh::connect(&format!("{};AsyncEmulation=Yes", common::sqlite_conn_str(&db)));
    let s = rawh::stmt(dbc);
    assert_eq!(rawh::set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_ON), SqlReturn::SQL_SUCCESS);
    // Rows 1..=3, then the CTE runs on for a while: the fetch that finds the end is slow.
    let sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT x FROM c WHERE x <= 3";
    let (rc, _) = rawh::poll(|| rawh::exec_rc(s, sql));
    rawh::ok_stmt(rc, s, "SQLExecDirect (emulated)");
    let mut last = 0i64;
    let mut longest_cancel = Duration::ZERO;
    // Fetches that returned a row or ended with HY008 (a cancelled fetch may have consumed
    // its row): SQL_NO_DATA before three of them means a row was lost.
    let mut ended = 0;
    loop {
        // SAFETY: live statement.
        let first = unsafe { SQLFetch(s) };
        assert_eq!(first, SqlReturn::SQL_STILL_EXECUTING, "emulation starts with SQL_STILL_EXECUTING");
        let t0 = Instant::now();
        // SAFETY: live statement; the fetch runs on the DM's pool.
        assert_eq!(unsafe { SQLCancel(s) }, SqlReturn::SQL_SUCCESS);
        longest_cancel = longest_cancel.max(t0.elapsed());
        // SAFETY: live statement.
        let (rc, _) = rawh::poll(|| unsafe { SQLFetch(s) });
        if rc == SqlReturn::SQL_NO_DATA {
            assert!(ended >= 3, "SQL_NO_DATA after {ended} fetches (last value {last}): the cancel closed the cursor");
            break;
        }
        ended += 1;
        if rc == SqlReturn::SQL_ERROR {
            let st = rawh::diag_recs(STMT, s);
            assert!(st.iter().any(|r| r.state == "HY008"), "{st:?}");
            if ended > 3 {
                break; // the slow end-of-data fetch was cancelled
            }
            continue;
        }
        assert_eq!(rc, SqlReturn::SQL_SUCCESS);
        let mut v = 0i64;
        let mut ind: SqlLen = 0;
        // SAFETY: `v`/`ind` outlive the polled operation.
        let (rc, _) = rawh::poll(|| unsafe { SQLGetData(s, 1, CDataType::SQL_C_SBIGINT, (&mut v as *mut i64).cast(), 8, &mut ind) });
        assert_ne!(rc, SqlReturn::SQL_NO_DATA, "SQLFetch said SQL_SUCCESS, SQLGetData SQL_NO_DATA");
        assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{}", rawh::diag_text(STMT, s));
        assert!(v > last && v <= 3, "value {v} after {last}");
        last = v;
    }
    assert!(longest_cancel < Duration::from_secs(1), "SQLCancel waited for the emulated fetch: {longest_cancel:?}");
    rawh::close(s);
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
    let _ = std::fs::remove_file(db);
}
