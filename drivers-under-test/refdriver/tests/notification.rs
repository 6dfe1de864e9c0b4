//! Notification-mode async (§2.7–§2.10), polling mode (§1.7), connection async (§1.4) and
//! cancel (§3.2–§3.4), proven from the driver's side: the test plays the DM, installs its
//! own callback, and checks both what the callback saw and the driver's event log.

mod common;
use common::*;
use odbc_dm_abi::*;
use std::time::{Duration, Instant};

fn select_scalar(st: H) -> Option<String> {
    let rows = fetch_all(st);
    rows.first().and_then(|r| r[0].clone())
}

#[test]
fn s2_7_one_callback_per_still_executing() {
    let (env, dbc) = connect("Database=:memory:;Steps=3;Delay=5");
    let st = alloc_stmt(dbc);
    let (ctx, probe) = new_probe();
    notify_stmt(st, ctx);
    let sql = w("SELECT 40 + 2");
    // SAFETY: valid handle and string (kept alive across re-invocations, §2.9).
    let (r, stills) = drive(&probe, || unsafe { (drv().SQLExecDirectW)(st.0, sql.as_ptr(), SQL_NTS) });
    assert_eq!(r, SqlReturn::SQL_SUCCESS);
    assert_eq!(stills, 3, "Steps=3 gives three SQL_STILL_EXECUTING");
    std::thread::sleep(Duration::from_millis(100)); // any extra callback would show up now
    assert_eq!(probe.recs().len(), 3, "§2.7: exactly one callback per SQL_STILL_EXECUTING");
    let log = event_log(dbc);
    let calls = events(&log, "SQLExecDirectW", st, "call");
    let cbs = events(&log, "SQLExecDirectW", st, "callback");
    assert_eq!(calls.len(), 4);
    assert_eq!(calls.iter().filter(|c| c["still_executing"] == true).count(), 3);
    assert_eq!(cbs.len(), 3);
    for round in 0..3 {
        assert_eq!(cbs.iter().filter(|c| c["round"] == round).count(), 1, "one callback for round {round}");
    }
    assert_eq!(select_scalar(st).as_deref(), Some("42"));
    free_stmt(st);
    disconnect(env, dbc);
}

#[test]
fn s2_8_callback_on_driver_thread_after_return() {
    let (env, dbc) = connect("Database=:memory:;Steps=2;Delay=0");
    let st = alloc_stmt(dbc);
    let (ctx, probe) = new_probe();
    notify_stmt(st, ctx);
    let me = gettid();
    let sql = w("SELECT 1");
    for _ in 0..25 {
        // SAFETY: valid handle and string.
        let (r, stills) = drive(&probe, || unsafe { (drv().SQLExecDirectW)(st.0, sql.as_ptr(), SQL_NTS) });
        assert_eq!(r, SqlReturn::SQL_SUCCESS);
        assert_eq!(stills, 2);
        // SAFETY: valid handle.
        unsafe { (drv().SQLFreeStmt)(st.0, FreeStmtOption::SQL_CLOSE) };
    }
    let recs = probe.recs();
    assert_eq!(recs.len(), 50);
    for r in &recs {
        assert_ne!(r.tid, me, "§2.8: the callback must not run on the calling thread");
        assert!(!r.during_call, "§2.8: the callback must not come before the call returned");
    }
    let log = event_log(dbc);
    let cbs = events(&log, "SQLExecDirectW", st, "callback");
    assert_eq!(cbs.len(), 50);
    for c in &cbs {
        assert!(c["rel_us"].as_i64().unwrap() >= 0, "§2.8: callback after the return: {c}");
        assert_ne!(c["tid"].as_i64().unwrap(), me);
        assert!(c["thread"].as_str().unwrap().starts_with("refdrv-worker-"), "driver's own thread: {c}");
    }
    free_stmt(st);
    disconnect(env, dbc);
}

#[test]
fn s2_7_context_is_the_attribute_value_at_callback_time() {
    let (env, dbc) = connect("Database=:memory:;Steps=2;Delay=60");
    let st = alloc_stmt(dbc);
    let (ctx_a, probe_a) = new_probe();
    let (ctx_b, probe_b) = new_probe();
    notify_stmt(st, ctx_a);
    let sql = w("SELECT 1");
    // SAFETY: valid handle and string.
    let r = probe_a.call(|| unsafe { (drv().SQLExecDirectW)(st.0, sql.as_ptr(), SQL_NTS) });
    assert_eq!(r, STILL);
    // Change the context before the worker calls back (Delay=60 ms).
    set_stmt_attr(st, StmtAttr::SQL_ATTR_ASYNC_STMT_NOTIFICATION_CONTEXT, ctx_b);
    assert_eq!(probe_b.wait_for(1, Duration::from_secs(5)), 1, "callback carries the new context");
    assert_eq!(probe_a.recs().len(), 0, "the old context was not used");
    // SAFETY: same arguments (§1.7).
    let (r, _) = drive(&probe_b, || unsafe { (drv().SQLExecDirectW)(st.0, sql.as_ptr(), SQL_NTS) });
    assert_eq!(r, SqlReturn::SQL_SUCCESS);
    assert!(probe_b.recs().iter().all(|c| c.ctx == ctx_b));
    let log = event_log(dbc);
    for c in events(&log, "SQLExecDirectW", st, "callback") {
        assert_eq!(c["context"].as_u64().unwrap() as usize, ctx_b);
    }
    free_stmt(st);
    disconnect(env, dbc);
}

#[test]
fn s2_10_flast_is_honest() {
    let (env, dbc) = connect("Database=:memory:;Steps=4;Delay=2");
    let st = alloc_stmt(dbc);
    let (ctx, probe) = new_probe();
    notify_stmt(st, ctx);
    let sql = w("SELECT 'x'");
    let mut results = Vec::new();
    // SAFETY: valid handle and string.
    let mut r = probe.call(|| unsafe { (drv().SQLExecDirectW)(st.0, sql.as_ptr(), SQL_NTS) });
    let mut n = 0;
    while r == STILL {
        n += 1;
        probe.wait_for(n, Duration::from_secs(5));
        let f_last = probe.recs()[n - 1].f_last;
        // SAFETY: same arguments.
        r = probe.call(|| unsafe { (drv().SQLExecDirectW)(st.0, sql.as_ptr(), SQL_NTS) });
        results.push((f_last, r));
    }
    assert_eq!(results.len(), 4);
    for (f_last, next) in &results {
        assert_eq!(*f_last == 1, *next != STILL, "§2.10: fLast=1 iff the next re-invocation completes ({results:?})");
    }
    assert_eq!(results.iter().map(|x| x.0).collect::<Vec<_>>(), vec![0, 0, 0, 1]);
    free_stmt(st);
    disconnect(env, dbc);
}

#[test]
fn s2_9_reinvocation_from_a_third_thread_completes_the_call() {
    let (env, dbc) = connect("Database=:memory:;Steps=3;Delay=1");
    let st = alloc_stmt(dbc);
    let (ctx, probe) = new_probe();
    notify_stmt(st, ctx);
    let sql = w("SELECT 6 * 7, 'forty-two'");
    let sql_ptr = sql.as_ptr() as usize;
    // SAFETY: valid handle and string.
    let mut r = probe.call(|| unsafe { (drv().SQLExecDirectW)(st.0, sql.as_ptr(), SQL_NTS) });
    let mut n = 0;
    let mut tids = vec![gettid()];
    while r == STILL {
        n += 1;
        assert_eq!(probe.wait_for(n, Duration::from_secs(5)), n);
        let p = probe.clone();
        // Neither the app's nor the driver's thread: a fresh one per re-invocation.
        let (rr, tid) = std::thread::spawn(move || {
            let st = st;
            // SAFETY: the DM keeps the original argument pointers valid (§2.9).
            let rr = p.call(|| unsafe { (drv().SQLExecDirectW)(st.0, sql_ptr as *const u16, SQL_NTS) });
            (rr, gettid())
        })
        .join()
        .unwrap();
        tids.push(tid);
        r = rr;
    }
    assert_eq!(r, SqlReturn::SQL_SUCCESS);
    let rows = fetch_all(st);
    assert_eq!(rows, vec![vec![Some("42".to_string()), Some("forty-two".to_string())]]);
    let log = event_log(dbc);
    let calls = events(&log, "SQLExecDirectW", st, "call");
    assert_eq!(calls.len(), 4);
    for (i, c) in calls.iter().enumerate() {
        assert_eq!(c["round"], i, "rounds are numbered");
        assert_eq!(c["args"], calls[0]["args"], "re-invocation used identical argument pointers");
        assert_eq!(c["tid"].as_i64().unwrap(), tids[i]);
    }
    free_stmt(st);
    disconnect(env, dbc);
}

#[test]
fn s1_7_polling_mode_without_callbacks() {
    let (env, dbc) = connect("Database=:memory:;Steps=3;Delay=5");
    let st = alloc_stmt(dbc);
    set_stmt_attr(st, StmtAttr::SQL_ATTR_ASYNC_ENABLE, 1);
    let sql = w("SELECT 'polled'");
    let mut stills = 0;
    loop {
        // SAFETY: valid handle and string.
        let r = unsafe { (drv().SQLExecDirectW)(st.0, sql.as_ptr(), SQL_NTS) };
        if r != STILL {
            assert_eq!(r, SqlReturn::SQL_SUCCESS);
            break;
        }
        stills += 1;
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(stills >= 3, "at least Steps STILL_EXECUTING in polling mode, got {stills}");
    // Async fetch and get data also poll.
    loop {
        // SAFETY: valid handle.
        let r = unsafe { (drv().SQLFetch)(st.0) };
        if r != STILL {
            assert_eq!(r, SqlReturn::SQL_SUCCESS);
            break;
        }
    }
    let mut buf = [0u8; 32];
    let mut ind = 0isize;
    let r = loop {
        // SAFETY: 32-byte buffer and indicator.
        let r = unsafe { (drv().SQLGetData)(st.0, 1, CDataType::SQL_C_CHAR, buf.as_mut_ptr() as SqlPointer, 32, &mut ind) };
        if r != STILL {
            break r;
        }
    };
    assert_eq!(r, SqlReturn::SQL_SUCCESS);
    assert_eq!(&buf[..ind as usize], b"polled");
    let log = event_log(dbc);
    assert!(log["events"].as_array().unwrap().iter().all(|e| e["kind"] != "callback"), "no callbacks in polling mode");
    free_stmt(st);
    disconnect(env, dbc);
}

#[test]
fn s1_4_connection_functions_async_with_notification() {
    let env = alloc_env();
    let dbc = alloc_dbc(env);
    let (ctx, probe) = new_probe();
    set_conn_attr(dbc, 117, 1); // SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE
    set_conn_attr(dbc, 120, cb_addr());
    set_conn_attr(dbc, 121, ctx);
    let cs = w("Database=:memory:;Steps=2;Delay=3");
    let mut out = [0u16; 256];
    let mut out_len = 0i16;
    let outp = out.as_mut_ptr() as usize;
    let outl = &mut out_len as *mut i16 as usize;
    let (r, stills) = drive(&probe, || {
        // SAFETY: valid handle, input string, output buffer of 256 chars, length pointer.
        unsafe {
            (drv().SQLDriverConnectW)(
                dbc.0,
                std::ptr::null_mut(),
                cs.as_ptr(),
                SQL_NTS as i16,
                outp as *mut u16,
                256,
                outl as *mut i16,
                DriverCompletion::SQL_DRIVER_NOPROMPT,
            )
        }
    });
    assert_eq!(r, SqlReturn::SQL_SUCCESS, "{:?}", diags(HandleType::SQL_HANDLE_DBC, dbc));
    assert_eq!(stills, 2);
    assert_eq!(String::from_utf16_lossy(&out[..out_len as usize]), "Database=:memory:;Steps=2;Delay=3");
    // A statement on the async-connected connection works.
    let st = alloc_stmt(dbc);
    exec_ok(st, "CREATE TABLE t(a)");
    free_stmt(st);
    // SQLSetConnectAttrW(autocommit off) async, then SQLEndTran async, then disconnect async.
    // SAFETY: valid handle.
    let (r, s1) = drive(&probe, || unsafe { (drv().SQLSetConnectAttrW)(dbc.0, ConnAttr::SQL_ATTR_AUTOCOMMIT, 0 as SqlPointer, 0) });
    assert_eq!((r, s1), (SqlReturn::SQL_SUCCESS, 2));
    let st = alloc_stmt(dbc);
    exec_ok(st, "INSERT INTO t VALUES (1)");
    // SAFETY: valid handle.
    let (r, s2) = drive(&probe, || unsafe { (drv().SQLEndTran)(HandleType::SQL_HANDLE_DBC, dbc.0, CompletionType::SQL_ROLLBACK) });
    assert_eq!((r, s2), (SqlReturn::SQL_SUCCESS, 2));
    exec_ok(st, "SELECT count(*) FROM t");
    assert_eq!(fetch_all(st), vec![vec![Some("0".into())]], "rolled back");
    free_stmt(st);
    // SAFETY: valid handle.
    let (r, s3) = drive(&probe, || unsafe { (drv().SQLDisconnect)(dbc.0) });
    assert_eq!((r, s3), (SqlReturn::SQL_SUCCESS, 2));
    assert_eq!(probe.recs().len(), 8, "§2.7 for connection functions too");
    assert!(probe.recs().iter().all(|c| !c.during_call && c.tid != gettid()));
    // SAFETY: valid handles.
    unsafe {
        assert_eq!((drv().SQLFreeHandle)(HandleType::SQL_HANDLE_DBC, dbc.0), SqlReturn::SQL_SUCCESS);
        (drv().SQLFreeHandle)(HandleType::SQL_HANDLE_ENV, env.0);
    }
}

#[test]
fn s3_2_cross_thread_cancel_interrupts_sleep() {
    let (env, dbc) = connect("Database=:memory:");
    let st = alloc_stmt(dbc);
    let t0 = Instant::now();
    let h = std::thread::spawn(move || {
        let st = st;
        (exec(st, "SELECT sleep(5000)"), stmt_states(st))
    });
    std::thread::sleep(Duration::from_millis(150));
    // SAFETY: valid handle; SQLCancel from another thread (§3.1).
    let rc = unsafe { (drv().SQLCancel)(st.0) };
    assert_eq!(rc, SqlReturn::SQL_SUCCESS);
    let (r, states) = h.join().unwrap();
    assert_eq!(r, SqlReturn::SQL_ERROR);
    assert_eq!(states, vec!["HY008".to_string()]);
    assert!(t0.elapsed() < Duration::from_secs(2), "cancel took effect promptly");
    // The statement is usable afterwards.
    exec_ok(st, "SELECT 1");
    assert_eq!(fetch_all(st).len(), 1);
    free_stmt(st);
    disconnect(env, dbc);
}

#[test]
fn s3_2_cross_thread_cancel_interrupts_real_sqlite_work() {
    let (env, dbc) = connect("Database=:memory:");
    let st = alloc_stmt(dbc);
    let t0 = Instant::now();
    let h = std::thread::spawn(move || {
        let st = st;
        let r = exec(st, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c");
        (r, stmt_states(st))
    });
    std::thread::sleep(Duration::from_millis(200));
    // SAFETY: valid handle.
    assert_eq!(unsafe { (drv().SQLCancel)(st.0) }, SqlReturn::SQL_SUCCESS);
    let (r, states) = h.join().unwrap();
    assert_eq!(r, SqlReturn::SQL_ERROR);
    assert_eq!(states, vec!["HY008".to_string()]);
    assert!(t0.elapsed() < Duration::from_secs(3));
    free_stmt(st);
    disconnect(env, dbc);
}

#[test]
fn s3_3_async_statement_cancel_gives_hy008_on_reinvocation() {
    let (env, dbc) = connect("Database=:memory:;Steps=1");
    let st = alloc_stmt(dbc);
    let (ctx, probe) = new_probe();
    notify_stmt(st, ctx);
    let sql = w("SELECT sleep(5000)");
    let t0 = Instant::now();
    // SAFETY: valid handle and string.
    let r = probe.call(|| unsafe { (drv().SQLExecDirectW)(st.0, sql.as_ptr(), SQL_NTS) });
    assert_eq!(r, STILL);
    std::thread::sleep(Duration::from_millis(100));
    // SAFETY: valid handle.
    assert_eq!(unsafe { (drv().SQLCancel)(st.0) }, SqlReturn::SQL_SUCCESS);
    assert_eq!(probe.wait_for(1, Duration::from_secs(3)), 1, "the cancelled step still gets its callback");
    assert_eq!(probe.recs()[0].f_last, 1);
    // SAFETY: same arguments.
    let r = unsafe { (drv().SQLExecDirectW)(st.0, sql.as_ptr(), SQL_NTS) };
    assert_eq!(r, SqlReturn::SQL_ERROR);
    assert_eq!(stmt_states(st), vec!["HY008".to_string()]);
    assert!(t0.elapsed() < Duration::from_secs(2));
    free_stmt(st);
    disconnect(env, dbc);
}

#[test]
fn s3_4_cancel_handle_dbc_cancels_async_connect() {
    let env = alloc_env();
    let dbc = alloc_dbc(env);
    let (ctx, probe) = new_probe();
    set_conn_attr(dbc, 117, 1);
    set_conn_attr(dbc, 120, cb_addr());
    set_conn_attr(dbc, 121, ctx);
    let cs = w("Database=:memory:;Steps=1;Delay=3000");
    let t0 = Instant::now();
    // SAFETY: valid handle and string; no output buffers.
    let call = || unsafe {
        (drv().SQLDriverConnectW)(
            dbc.0,
            std::ptr::null_mut(),
            cs.as_ptr(),
            SQL_NTS as i16,
            std::ptr::null_mut(),
            0,
            std::ptr::null_mut(),
            DriverCompletion::SQL_DRIVER_NOPROMPT,
        )
    };
    assert_eq!(probe.call(call), STILL);
    // SAFETY: valid handle.
    assert_eq!(unsafe { (drv().SQLCancelHandle)(HandleType::SQL_HANDLE_DBC, dbc.0) }, SqlReturn::SQL_SUCCESS);
    assert_eq!(probe.wait_for(1, Duration::from_secs(2)), 1);
    assert_eq!(probe.call(call), SqlReturn::SQL_ERROR);
    assert_eq!(diags(HandleType::SQL_HANDLE_DBC, dbc)[0].0, "HY008");
    assert!(t0.elapsed() < Duration::from_secs(2), "the 3 s delay was cut short");
    // Not connected: allocating a statement fails with 08003.
    let mut st: SqlHandle = std::ptr::null_mut();
    // SAFETY: valid handle, out pointer.
    let r = unsafe { (drv().SQLAllocHandle)(HandleType::SQL_HANDLE_STMT, dbc.0, &mut st) };
    assert_eq!(r, SqlReturn::SQL_ERROR);
    assert_eq!(diags(HandleType::SQL_HANDLE_DBC, dbc)[0].0, "08003");
    // SAFETY: valid handles.
    unsafe {
        (drv().SQLFreeHandle)(HandleType::SQL_HANDLE_DBC, dbc.0);
        (drv().SQLFreeHandle)(HandleType::SQL_HANDLE_ENV, env.0);
    }
}
