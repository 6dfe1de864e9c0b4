//! Each `Fault=` mode produces exactly its misbehaviour, shown by the event log (and by
//! what the test's own callback observed).

mod common;
use common::*;
use odbc_dm_abi::*;
use std::time::Duration;

fn setup(fault: &str, extra: &str) -> (H, H, H, usize, std::sync::Arc<Probe>) {
    let (env, dbc) = connect(&format!("Database=:memory:;Fault={fault};{extra}"));
    let st = alloc_stmt(dbc);
    let (ctx, probe) = new_probe();
    notify_stmt(st, ctx);
    (env, dbc, st, ctx, probe)
}

fn exec_once(probe: &Probe, st: H, sql: &[u16]) -> SqlReturn {
    // SAFETY: valid handle and NUL-terminated string kept alive by the caller.
    probe.call(|| unsafe { (drv().SQLExecDirectW)(st.0, sql.as_ptr(), SQL_NTS) })
}

#[test]
fn fault_callback_on_calling_thread() {
    let (env, dbc, st, ctx, probe) = setup("CallbackOnCallingThread", "Steps=1;Delay=20");
    let sql = w("SELECT 1");
    let me = gettid();
    assert_eq!(exec_once(&probe, st, &sql), STILL);
    let recs = probe.recs();
    assert_eq!(recs.len(), 1, "the callback already ran when the call returned");
    assert_eq!(recs[0].tid, me, "callback ran on the calling thread");
    assert!(recs[0].during_call, "callback ran inside the entry point");
    assert_eq!(recs[0].ctx, ctx, "nothing else is wrong: context is right");
    let log = event_log(dbc);
    let cbs = events(&log, "SQLExecDirectW", st, "callback");
    assert_eq!(cbs.len(), 1);
    assert_eq!(cbs[0]["tid"].as_i64().unwrap(), me);
    assert!(cbs[0]["rel_us"].as_i64().unwrap() < 0, "logged before the return: {}", cbs[0]);
    // The call still completes with the right result.
    std::thread::sleep(Duration::from_millis(60));
    // SAFETY: same arguments.
    let (r, _) = drive(&probe, || unsafe { (drv().SQLExecDirectW)(st.0, sql.as_ptr(), SQL_NTS) });
    assert_eq!(r, SqlReturn::SQL_SUCCESS);
    assert_eq!(fetch_all(st), vec![vec![Some("1".into())]]);
    free_stmt(st);
    disconnect(env, dbc);
}

#[test]
fn fault_callback_before_return() {
    let (env, dbc, st, ctx, probe) = setup("CallbackBeforeReturn", "Steps=1;Delay=0");
    let sql = w("SELECT 2");
    let me = gettid();
    assert_eq!(exec_once(&probe, st, &sql), STILL);
    let recs = probe.recs();
    assert_eq!(recs.len(), 1, "callback finished before SQL_STILL_EXECUTING was returned");
    assert!(recs[0].during_call, "the entry point had not returned while the callback ran");
    assert_ne!(recs[0].tid, me, "still on the driver's worker thread");
    assert_eq!(recs[0].ctx, ctx);
    let log = event_log(dbc);
    let cbs = events(&log, "SQLExecDirectW", st, "callback");
    assert_eq!(cbs.len(), 1);
    assert!(cbs[0]["rel_us"].as_i64().unwrap() < 0, "callback logged before the return: {}", cbs[0]);
    assert!(cbs[0]["thread"].as_str().unwrap().starts_with("refdrv-worker-"));
    // SAFETY: same arguments.
    let r = unsafe { (drv().SQLExecDirectW)(st.0, sql.as_ptr(), SQL_NTS) };
    assert_eq!(r, SqlReturn::SQL_SUCCESS);
    free_stmt(st);
    disconnect(env, dbc);
}

#[test]
fn fault_no_callback() {
    let (env, dbc, st, _ctx, probe) = setup("NoCallback", "Steps=2;Delay=0");
    let sql = w("SELECT 3");
    assert_eq!(exec_once(&probe, st, &sql), STILL);
    assert_eq!(probe.wait_for(1, Duration::from_millis(300)), 0, "no callback arrives");
    // Re-invoking anyway (like a polling DM) still completes the call.
    let mut stills = 1;
    let r = loop {
        // SAFETY: same arguments.
        let r = unsafe { (drv().SQLExecDirectW)(st.0, sql.as_ptr(), SQL_NTS) };
        if r != STILL {
            break r;
        }
        stills += 1;
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(r, SqlReturn::SQL_SUCCESS);
    assert_eq!(probe.recs().len(), 0);
    let log = event_log(dbc);
    assert!(events(&log, "SQLExecDirectW", st, "call").iter().filter(|c| c["still_executing"] == true).count() >= 2);
    assert_eq!(events(&log, "SQLExecDirectW", st, "callback").len(), 0);
    assert!(stills >= 2);
    free_stmt(st);
    disconnect(env, dbc);
}

#[test]
fn fault_double_callback() {
    let (env, dbc, st, ctx, probe) = setup("DoubleCallback", "Steps=2;Delay=0");
    let sql = w("SELECT 4");
    assert_eq!(exec_once(&probe, st, &sql), STILL);
    assert_eq!(probe.wait_for(2, Duration::from_secs(2)), 2);
    assert_eq!(exec_once(&probe, st, &sql), STILL);
    assert_eq!(probe.wait_for(4, Duration::from_secs(2)), 4);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(probe.recs().len(), 4, "two callbacks per SQL_STILL_EXECUTING, no more");
    assert_eq!(exec_once(&probe, st, &sql), SqlReturn::SQL_SUCCESS);
    assert!(probe.recs().iter().all(|r| r.ctx == ctx && !r.during_call));
    let log = event_log(dbc);
    let cbs = events(&log, "SQLExecDirectW", st, "callback");
    assert_eq!(cbs.iter().filter(|c| c["round"] == 0).count(), 2);
    assert_eq!(cbs.iter().filter(|c| c["round"] == 1).count(), 2);
    free_stmt(st);
    disconnect(env, dbc);
}

#[test]
fn fault_wrong_context() {
    let (env, dbc, st, ctx, probe) = setup("WrongContext", "Steps=1;Delay=0");
    let sql = w("SELECT 5");
    let before = STRAYS.lock().unwrap().len();
    assert_eq!(exec_once(&probe, st, &sql), STILL);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(probe.recs().len(), 0, "the callback did not carry our context");
    let strays: Vec<CbRec> = STRAYS.lock().unwrap()[before..].to_vec();
    assert_eq!(strays.len(), 1, "exactly one callback, with a foreign context");
    assert_ne!(strays[0].ctx, ctx);
    assert_eq!(strays[0].ctx, 0xDEAD_BEEF);
    let log = event_log(dbc);
    let cbs = events(&log, "SQLExecDirectW", st, "callback");
    assert_eq!(cbs.len(), 1);
    assert_eq!(cbs[0]["context"].as_u64().unwrap(), 0xDEAD_BEEF);
    assert_eq!(cbs[0]["cb_ret"].as_i64().unwrap(), -1, "our callback rejected the unknown context");
    // SAFETY: same arguments.
    assert_eq!(unsafe { (drv().SQLExecDirectW)(st.0, sql.as_ptr(), SQL_NTS) }, SqlReturn::SQL_SUCCESS);
    free_stmt(st);
    disconnect(env, dbc);
}

#[test]
fn fault_still_executing_forever() {
    let (env, dbc, st, _ctx, probe) = setup("StillExecutingForever", "Steps=1;Delay=1");
    let sql = w("SELECT 6");
    let mut n = 0;
    for _ in 0..6 {
        assert_eq!(exec_once(&probe, st, &sql), STILL);
        n += 1;
        assert_eq!(probe.wait_for(n, Duration::from_secs(2)), n, "each SQL_STILL_EXECUTING still gets a callback");
    }
    assert!(probe.recs().iter().all(|r| r.f_last == 0), "fLast never claims completion");
    // SQLCancel ends it (documented): HY008.
    // SAFETY: valid handle.
    assert_eq!(unsafe { (drv().SQLCancel)(st.0) }, SqlReturn::SQL_SUCCESS);
    assert_eq!(exec_once(&probe, st, &sql), STILL);
    probe.wait_for(n + 1, Duration::from_secs(2));
    assert_eq!(exec_once(&probe, st, &sql), SqlReturn::SQL_ERROR);
    assert_eq!(stmt_states(st), vec!["HY008".to_string()]);
    let log = event_log(dbc);
    let calls = events(&log, "SQLExecDirectW", st, "call");
    assert_eq!(calls.iter().filter(|c| c["still_executing"] == true).count(), 7);
    free_stmt(st);
    disconnect(env, dbc);
}

fn get_function(dbc: H, id: u16) -> u16 {
    let mut v = 0u16;
    // SAFETY: valid handle, out pointer.
    assert!(unsafe { (drv().SQLGetFunctions)(dbc.0, FunctionId(id), &mut v) }.is_success());
    v
}

fn has_symbol(name: &str) -> bool {
    // SAFETY: only probing for a symbol.
    let lib = unsafe { libloading::Library::new(locate::refdriver_so()) }.unwrap();
    // SAFETY: the symbol is not called.
    unsafe { lib.get::<*const ()>(format!("{name}\0").as_bytes()) }.is_ok()
}

#[test]
fn fault_lying_functions() {
    let (env, dbc) = connect("Database=:memory:;Fault=LyingFunctions");
    let (env2, honest) = connect("Database=:memory:");
    for (id, sym) in [(55u16, "SQLBrowseConnectW"), (67, "SQLProceduresW")] {
        assert_eq!(get_function(dbc, id), 1, "lying driver claims {sym}");
        assert_eq!(get_function(honest, id), 0, "honest driver does not claim {sym}");
        assert!(!has_symbol(sym), "{sym} is really not exported");
    }
    // Nothing else differs.
    for id in [0u16, 4, 5, 11, 12, 13, 41, 1021, 1022, 1550] {
        if id != 0 {
            assert_eq!(get_function(dbc, id), get_function(honest, id), "id {id}");
        }
    }
    disconnect(env, dbc);
    disconnect(env2, honest);
}

#[test]
fn fault_panic_in_call() {
    let (env, dbc) = connect("Database=:memory:;Fault=PanicInCall");
    let st = alloc_stmt(dbc);
    let r = exec(st, "SELECT 1");
    assert_eq!(r, SqlReturn::SQL_ERROR, "the panic was caught at the FFI boundary");
    let d = diags(HandleType::SQL_HANDLE_STMT, st);
    assert_eq!(d[0].0, "HY000");
    assert!(d[0].1.contains("panic"), "{d:?}");
    let log = event_log(dbc);
    let calls = events(&log, "SQLExecDirectW", st, "call");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["ret"], -1);
    // Only SQLExecDirectW panics: prepare/execute on the same handle works.
    let sql = w("SELECT 7");
    // SAFETY: valid handle and string.
    unsafe {
        assert_eq!((drv().SQLPrepareW)(st.0, sql.as_ptr(), SQL_NTS), SqlReturn::SQL_SUCCESS);
        assert_eq!((drv().SQLExecute)(st.0), SqlReturn::SQL_SUCCESS);
    }
    assert_eq!(fetch_all(st), vec![vec![Some("7".into())]]);
    free_stmt(st);
    disconnect(env, dbc);
}

#[test]
fn fault_diag_overflow() {
    for (cs, lie) in [("Database=:memory:;Fault=DiagOverflow", true), ("Database=:memory:", false)] {
        let (env, dbc) = connect(cs);
        let st = alloc_stmt(dbc);
        assert_eq!(exec(st, "SELEKT nonsense"), SqlReturn::SQL_ERROR);
        let mut state = [0u16; 6];
        let mut native = 0i32;
        let mut msg = [0u16; 1024];
        let mut len = 0i16;
        // SAFETY: buffers as declared.
        let r = unsafe {
            (drv().SQLGetDiagRecW)(HandleType::SQL_HANDLE_STMT, st.0, 1, state.as_mut_ptr(), &mut native, msg.as_mut_ptr(), 1024, &mut len)
        };
        assert_eq!(r, SqlReturn::SQL_SUCCESS);
        let real = msg.iter().position(|&c| c == 0).unwrap() as i16;
        if lie {
            assert!(len < real, "DiagOverflow reports {len} < real {real}");
        } else {
            assert_eq!(len, real);
        }
        assert_eq!(String::from_utf16_lossy(&state[..5]), "42000", "{}", String::from_utf16_lossy(&msg[..real as usize]));
        free_stmt(st);
        disconnect(env, dbc);
    }
}
