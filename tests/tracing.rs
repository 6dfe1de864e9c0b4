//! Call tracing (target `odbc_dm::trace`, `log` trace level) and password masking
//! (issue requirement "passwords are masked in traces and error texts").
//!
//! This binary installs its own `log::Log` that collects every record of the trace target;
//! it is installed before `common::init()` so env_logger's `try_init` there is a no-op.

mod common;

use common::rawh;
use odbc_dm::abi::*;
use odbc_dm::raw::*;
use std::ptr::null_mut;
use std::sync::{Mutex, MutexGuard, Once};

const SECRET: &str = "supersecret";

struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.target().starts_with(odbc_dm::trace::TARGET)
    }
    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            self.0.lock().unwrap().push(format!("{}", r.args()));
        }
    }
    fn flush(&self) {}
}

static CAPTURE: Capture = Capture(Mutex::new(Vec::new()));

/// Installs the capturing logger once; the tests of this binary take turns (the trace is
/// process-wide), so each holds the returned guard and clears the capture first.
fn setup() -> MutexGuard<'static, ()> {
    static ONCE: Once = Once::new();
    static TURN: Mutex<()> = Mutex::new(());
    ONCE.call_once(|| {
        log::set_logger(&CAPTURE).expect("the capture logger is the first logger of this binary");
        log::set_max_level(log::LevelFilter::Trace);
        common::init();
    });
    let g = TURN.lock().unwrap_or_else(|e| e.into_inner());
    CAPTURE.0.lock().unwrap().clear();
    g
}

fn captured() -> Vec<String> {
    CAPTURE.0.lock().unwrap().clone()
}

fn assert_no_secret(lines: &[String], what: &str) {
    let leaks: Vec<&String> = lines.iter().filter(|l| l.contains(SECRET)).collect();
    assert!(leaks.is_empty(), "{what}: the password appears in {} line(s): {leaks:#?}", leaks.len());
}

#[test]
fn trace_has_entry_exit_lines_with_names_and_return_codes_and_masks_pwd() {
    let _turn = setup();
    assert!(odbc_dm::trace::enabled(), "trace level is on for target {}", odbc_dm::trace::TARGET);
    let db = common::temp_db("trace");
    // libsqlite3odbc ignores PWD, so the connect succeeds and the password is only in
    // the application's string.
    let cs = format!("{};UID=tracer;PWD={SECRET}", common::sqlite_conn_str(&db));
    let (env, dbc) = rawh::connect(&cs);
    let rows = rawh::query(dbc, "SELECT 40 + 2");
    assert_eq!(rows, vec![vec![Some("42".to_string())]]);
    // Also the W connect, with a braced password.
    let mut dbc_w = null_mut();
    // SAFETY: live env, valid out pointer.
    assert!(unsafe { SQLAllocHandle(HandleType::SQL_HANDLE_DBC, env, &mut dbc_w) }.is_success());
    let cs_w: Vec<u16> = format!("{};PWD={{{SECRET};x}}", common::sqlite_conn_str(&db)).encode_utf16().collect();
    // SAFETY: live dbc; the string outlives the call.
    let rc = unsafe {
        SQLDriverConnectW(
            dbc_w,
            null_mut(),
            cs_w.as_ptr(),
            cs_w.len() as i16,
            null_mut(),
            0,
            null_mut(),
            DriverCompletion::SQL_DRIVER_NOPROMPT,
        )
    };
    rawh::ok(rc, HandleType::SQL_HANDLE_DBC, dbc_w, "SQLDriverConnectW");
    // SAFETY: live, connected dbc.
    unsafe {
        SQLDisconnect(dbc_w);
        SQLFreeHandle(HandleType::SQL_HANDLE_DBC, dbc_w);
    }
    rawh::disconnect(env, dbc);

    let lines = captured();
    let has = |prefix: &str| lines.iter().any(|l| l.starts_with(prefix));
    for f in [
        "SQLAllocHandle",
        "SQLSetEnvAttr",
        "SQLDriverConnect",
        "SQLDriverConnectW",
        "SQLExecDirect",
        "SQLNumResultCols",
        "SQLFetch",
        "SQLGetData",
        "SQLFreeHandle",
        "SQLDisconnect",
    ] {
        assert!(has(&format!("Entry {f} ")), "no `Entry {f}` line in the trace:\n{}", lines.join("\n"));
        assert!(has(&format!("Exit  {f} -> ")), "no `Exit  {f} -> <rc>` line in the trace:\n{}", lines.join("\n"));
    }
    // Exit lines carry the return code.
    assert!(
        lines.iter().any(|l| l.starts_with("Exit  SQLDriverConnect -> ") && l.contains("SQL_SUCCESS")),
        "SQLDriverConnect's exit shows its return code"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("Exit  SQLFetch -> ") && l.contains("SQL_NO_DATA")),
        "the last SQLFetch's exit shows SQL_NO_DATA"
    );
    // The connect entries show the connection string, password masked.
    let entry = lines.iter().find(|l| l.starts_with("Entry SQLDriverConnect ")).unwrap();
    assert!(
        entry.contains("UID=tracer") && entry.contains("PWD=****") && entry.contains("StepAPI=1"),
        "SQLDriverConnect's entry traces the (masked) connection string: {entry}"
    );
    let entry_w = lines.iter().find(|l| l.starts_with("Entry SQLDriverConnectW ")).unwrap();
    assert!(
        entry_w.contains("PWD=****") && entry_w.contains("StepAPI=1"),
        "SQLDriverConnectW's entry traces the (masked) connection string: {entry_w}"
    );
    assert_no_secret(&lines, "trace");
}

#[test]
fn connect_errors_and_their_traces_mask_pwd() {
    let _turn = setup();
    let env = rawh::env();
    let cases = [
        // IM002: no such DSN.
        format!("DSN=no_such_dsn_for_trace;PWD={SECRET}"),
        // IM003: the driver library cannot be loaded.
        format!("DRIVER=/nonexistent/libnodriver.so;PWD={SECRET}"),
        // The driver's own failure: SQLite cannot open a database in a missing directory.
        format!("DRIVER={};Database=/nonexistent/dir/x.db;PWD={SECRET}", common::debian_driver("libsqlite3odbc.so").display()),
        // Password keyword spelled `Password`, braced.
        format!("DSN=no_such_dsn_for_trace;Password={{{SECRET};}}"),
    ];
    for cs in &cases {
        let err = rawh::try_connect(env, cs).expect_err("this connect fails");
        assert!(!err.contains(SECRET), "error text of `{}` leaks the password: {err}", odbc_dm::trace::masked(cs));
        assert!(err.starts_with("SQL_ERROR ["), "the failure is SQL_ERROR with a diagnostic: {err}");
    }
    // SAFETY: live env without connections.
    unsafe { SQLFreeHandle(HandleType::SQL_HANDLE_ENV, env) };
    let lines = captured();
    assert!(
        lines.iter().any(|l| l.starts_with("Exit  SQLDriverConnect -> ") && l.contains("SQL_ERROR")),
        "failed connects are traced with SQL_ERROR"
    );
    assert_no_secret(&lines, "trace of failed connects");
}
