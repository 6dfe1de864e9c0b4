//! The conformance harness (`odbc-dm conform`, issue 13) run as a user runs it: the
//! binary, real drivers, JSON output. Rules are cited per check in src/conform/checks.rs.
//!
//! - the reference driver passes every check it supports, notification protocol included
//!   (§2.7–§2.10);
//! - each `Fault=` mode of the reference driver fails exactly the checks that concern it,
//!   at step delays 0, 5 and 50 ms (the failing set is asserted, not bounded);
//! - a driver that aborts in SQLExecDirect yields `crash` for exactly the checks that
//!   execute a statement and a complete report for the rest;
//! - a check that hangs yields `timeout` at its own time limit (or `--timeout`), the run
//!   goes on and ends;
//! - a driver whose server is down runs its connection-free checks (FreeTDS here);
//! - the known findings about the Debian drivers are found (sqliteodbc always; psqlODBC and
//!   MariaDB when their servers run).

mod common;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_odbc-dm")
}

/// Runs `odbc-dm conform … --format json`: (exit code, report).
fn conform(args: &[&str], env: &[(&str, &str)]) -> (i32, Value) {
    common::init();
    let mut c = Command::new(bin());
    c.arg("conform").args(args).args(["--format", "json"]);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("run odbc-dm conform");
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}\nstderr: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().expect("exit code"), v)
}

fn refdriver(connect: &str) -> (i32, Value) {
    let p = common::refdriver_path();
    conform(&["--driver", p.to_str().unwrap(), "--connect", connect], &[])
}

fn ids_with(r: &Value, outcomes: &[&str]) -> BTreeSet<String> {
    r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| outcomes.contains(&c["outcome"].as_str().unwrap()))
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

fn bad(r: &Value) -> BTreeSet<String> {
    ids_with(r, &["fail", "crash", "timeout"])
}

fn check<'a>(r: &'a Value, id: &str) -> &'a Value {
    r["checks"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("no check {id} in {r}"))
}

fn all_ids(r: &Value) -> Vec<String> {
    r["checks"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect()
}

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn reference_driver_passes_every_check_it_supports_in_the_issue_json_shape() {
    let (code, r) = refdriver("Database=:memory:;Steps=2;Delay=5");
    assert_eq!(bad(&r), BTreeSet::new(), "{r:#}");
    assert_eq!(code, 0, "exit code 0 when nothing failed");
    // The JSON shape of issue 13, exactly.
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<BTreeSet<_>>();
    assert_eq!(keys(&r), set(&["driver", "checks", "summary"]));
    assert_eq!(keys(&r["driver"]), set(&["path", "name", "version", "odbc_version"]));
    assert_eq!(keys(&r["summary"]), set(&["pass", "fail", "unsupported", "skip", "crash", "timeout"]));
    for c in r["checks"].as_array().unwrap() {
        assert_eq!(keys(c), set(&["id", "rule", "outcome", "detail", "ms"]));
        assert!(!c["rule"].as_str().unwrap().is_empty(), "every check names its rule: {c}");
        if c["outcome"] != "pass" {
            assert!(!c["detail"].as_str().unwrap().is_empty(), "one-line detail on anything but pass: {c}");
        }
    }
    let total: u64 = r["summary"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(total as usize, r["checks"].as_array().unwrap().len());
    assert_eq!(r["driver"]["odbc_version"], "03.80");
    // The notification protocol from the driver's side (§2.7–§2.10) is checked, not skipped.
    for id in [
        "notify.one-callback-per-still-executing",
        "notify.thread-and-timing",
        "notify.context",
        "notify.flast",
        "notify.concurrent",
        "notify.dbc",
        "async.polling",
        "async.dbc-functions",
        "cancel.cross-thread",
        "cancel.idle-keeps-cursor",
        "cancel.handle-stmt",
        "cancel.handle-dbc",
        "state.exec-with-open-cursor",
        "state.s12-cancel-async",
        "state.s12-unaffected-functions",
        "exports.claims-exported",
        "diag.readable-twice",
        "handles.invalid-null",
        "handles.invalid-freed",
        "handles.invalid-wrong-kind",
        "buffers.colattribute.w",
        "buffers.getdiagfield.w",
        "buffers.driverconnect.w",
        "buffers.getdata.wchar",
    ] {
        assert_eq!(check(&r, id)["outcome"], "pass", "{id}: {}", check(&r, id));
    }
}

/// Each fault mode fails exactly the checks that concern it, and no others, at step delays
/// 0, 5 and 50 ms. The notification checks are deterministic under every fault: the
/// harness (playing the DM) lets a step's callbacks settle before it re-invokes (so a
/// second callback is counted for the right call, never inside the next one), judges fLast
/// only on callbacks that kept the protocol, and backs off after a callback that came
/// before the return (checks.rs `drive_with`). `notify.dbc` is the connection-level
/// notification check (§2.3, §2.4): every notification fault concerns it too.
#[test]
fn each_fault_mode_fails_exactly_the_checks_that_concern_it() {
    let statement_checks = [
        "handles.lifecycle",
        "buffers.describecol.w",
        "buffers.colattribute.w",
        "buffers.getdata.char",
        "buffers.getdata.wchar",
        "unicode.roundtrip",
        "state.fetch-without-cursor",
        "state.exec-with-open-cursor",
        "state.getdata-before-fetch",
        "state.s12-cancel-async",
        "state.s12-unaffected-functions",
        "cancel.cross-thread",
        "cancel.idle-keeps-cursor",
        "cancel.handle-stmt",
        "cancel.handle-dbc",
        "concurrency.separate-connections",
        "concurrency.shared-connection",
        "async.polling",
        "notify.one-callback-per-still-executing",
        "notify.thread-and-timing",
        "notify.context",
        "notify.flast",
        "notify.concurrent",
    ];
    let notify_all = [
        "notify.one-callback-per-still-executing",
        "notify.thread-and-timing",
        "notify.context",
        "notify.flast",
        "notify.concurrent",
        "notify.dbc",
    ];
    // (fault, exactly the checks that fail)
    let modes: Vec<(&str, Vec<&str>)> = vec![
        ("CallbackOnCallingThread", vec!["notify.thread-and-timing", "notify.dbc"]),
        ("CallbackBeforeReturn", vec!["notify.thread-and-timing", "notify.dbc"]),
        ("NoCallback", notify_all.to_vec()),
        ("DoubleCallback", vec!["notify.one-callback-per-still-executing", "notify.dbc"]),
        ("WrongContext", notify_all.to_vec()),
        ("StillExecutingForever", [&["async.polling", "async.dbc-functions"][..], &notify_all[..]].concat()),
        ("LyingFunctions", vec!["exports.claims-exported"]),
        ("PanicInCall", statement_checks.to_vec()),
        ("DiagOverflow", vec!["diag.honest-length", "diag.truncation-01004", "buffers.getdiagrec.w"]),
    ];
    // Every mode at three step delays; three runs at a time (each is its own process tree).
    let runs: Vec<(String, u64)> = modes.iter().flat_map(|(f, _)| [0u64, 5, 50].map(|d| (f.to_string(), d))).collect();
    let mut results: Vec<(String, u64, i32, Value)> = Vec::new();
    for chunk in runs.chunks(3) {
        let got: Vec<_> = std::thread::scope(|s| {
            let hs: Vec<_> = chunk
                .iter()
                .map(|(f, d)| {
                    s.spawn(move || {
                        let (code, r) = refdriver(&format!("Database=:memory:;Steps=2;Delay={d};Fault={f}"));
                        (f.clone(), *d, code, r)
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        results.extend(got);
    }
    for (f, d, code, r) in &results {
        let (_, must) = modes.iter().find(|(m, _)| m == f).unwrap();
        assert_eq!(bad(r), set(must), "Fault={f} Delay={d}: exactly these checks fail\n{r:#}");
        assert!(ids_with(r, &["crash", "timeout"]).is_empty(), "Fault={f} Delay={d}: a driver fault is a fail, not a crash or hang: {r:#}");
        assert_eq!(*code, 1, "Fault={f}: exit code 1 when a check failed");
    }
    // The detail names the call and what came back.
    let lying = &results.iter().find(|(f, ..)| f == "LyingFunctions").unwrap().3;
    let d = check(lying, "exports.claims-exported")["detail"].as_str().unwrap();
    assert!(d.contains("SQLBrowseConnect") && d.contains("SQLProcedures"), "{d}");
    let ctx = &results.iter().find(|(f, ..)| f == "WrongContext").unwrap().3;
    assert!(check(ctx, "notify.context")["detail"].as_str().unwrap().contains("0xdeadbeef"), "{ctx:#}");
    let dbl = &results.iter().find(|(f, ..)| f == "DoubleCallback").unwrap().3;
    assert!(check(dbl, "notify.one-callback-per-still-executing")["detail"].as_str().unwrap().contains("callbacks for"), "{dbl:#}");
}

fn crashdriver_path() -> PathBuf {
    let dir = common::refdriver_path().parent().unwrap().to_path_buf();
    let p = dir.join("libodbc_crashdriver.so");
    let deps = dir.join("deps/libodbc_crashdriver.so");
    if !p.exists() && !deps.exists() {
        let st = Command::new(env!("CARGO"))
            .args(["build", "-p", "odbc-crashdriver"])
            .current_dir(common::root())
            .status()
            .expect("cargo build");
        assert!(st.success(), "cargo build -p odbc-crashdriver");
    }
    if p.exists() {
        p
    } else {
        deps
    }
}

#[test]
fn a_driver_that_aborts_in_sqlexecdirect_gives_crash_there_and_a_complete_report() {
    let p = crashdriver_path();
    let (code, r) = conform(&["--driver", p.to_str().unwrap()], &[]);
    assert_eq!(code, 1);
    let crashed = ids_with(&r, &["crash"]);
    let expected = crashdriver_exec_checks();
    assert_eq!(crashed, expected, "{r:#}");
    for id in &crashed {
        let d = check(&r, id)["detail"].as_str().unwrap();
        assert!(d.contains("SIGABRT"), "{id}: {d}");
    }
    // The call that killed the process is named (checks.rs `announce`).
    let d = check(&r, "handles.invalid-null")["detail"].as_str().unwrap();
    assert!(d.contains("in SQLExecDirect(hstmt = NULL)"), "{d}");
    // A complete report: every check of the harness is there once, in order.
    let (_, reference) = refdriver("Database=:memory:;Steps=0");
    assert_eq!(all_ids(&r), all_ids(&reference));
    assert_eq!(check(&r, "exports.claims-exported")["outcome"], "pass");
    assert_eq!(check(&r, "info.required")["outcome"], "pass");
    assert_eq!(r["driver"]["name"], "libodbc_crashdriver.so");
}

/// The checks of the crash driver that reach its SQLExecDirect (which aborts or hangs).
fn crashdriver_exec_checks() -> BTreeSet<String> {
    set(&[
        "handles.lifecycle",
        "handles.invalid-null",
        "handles.invalid-wrong-kind",
        "diag.sqlstate-format",
        "diag.honest-length",
        "diag.readable-twice",
        "diag.truncation-01004",
        "buffers.getdata.char",
        "buffers.getdata.wchar",
        "buffers.getdiagrec.a",
        "unicode.roundtrip",
        "state.fetch-without-cursor",
        "state.exec-with-open-cursor",
        "state.getdata-before-fetch",
        "cancel.idle-keeps-cursor",
        "concurrency.separate-connections",
        "concurrency.shared-connection",
    ])
}

/// Per-check time limits (issue 13 "a run never hangs"): the crash driver's SQLExecDirect
/// hangs for ever (`ODBC_CRASHDRIVER_MODE=hang`); every check that reaches it is killed at
/// its limit and reported as `timeout` naming the call, the next one runs in a fresh child,
/// and the report is complete. `--timeout` replaces the checks' own limits; without it a
/// check's own limit (stated in its definition) applies.
#[test]
fn a_hanging_driver_call_times_out_per_check_and_the_run_goes_on() {
    let p = crashdriver_path();
    let t0 = std::time::Instant::now();
    let (code, r) = conform(&["--driver", p.to_str().unwrap(), "--timeout", "1500"], &[("ODBC_CRASHDRIVER_MODE", "hang")]);
    assert_eq!(code, 1);
    assert_eq!(ids_with(&r, &["timeout"]), crashdriver_exec_checks(), "{r:#}");
    assert!(ids_with(&r, &["crash"]).is_empty(), "{r:#}");
    let d = check(&r, "handles.invalid-null")["detail"].as_str().unwrap();
    assert!(d.contains("time limit of 1500 ms") && d.contains("hung in SQLExecDirect(hstmt = NULL)"), "{d}");
    let (_, reference) = refdriver("Database=:memory:;Steps=0");
    assert_eq!(all_ids(&r), all_ids(&reference), "complete report");
    assert!(t0.elapsed() < std::time::Duration::from_secs(120), "no hang");
    // The check's own limit: handles.invalid-null states 5 s.
    let (_, r) = conform(&["--driver", p.to_str().unwrap(), "--only", "handles.invalid-null"], &[("ODBC_CRASHDRIVER_MODE", "hang")]);
    let c = check(&r, "handles.invalid-null");
    assert_eq!(c["outcome"], "timeout", "{c}");
    assert!(c["detail"].as_str().unwrap().contains("time limit of 5000 ms"), "{c}");
}

#[test]
fn a_hanging_check_times_out_and_the_run_goes_on() {
    // NoCallback leaves every notification check waiting; with a 600 ms limit per check
    // each one is killed, reported as timeout, and the next one runs in a fresh child.
    let p = common::refdriver_path();
    let t0 = std::time::Instant::now();
    let mut c = Command::new(bin());
    common::init();
    let out = c
        .args([
            "conform",
            "--driver",
            p.to_str().unwrap(),
            "--connect",
            "Database=:memory:;Steps=2;Fault=NoCallback",
            "--only",
            "notify.",
            "--format",
            "json",
        ])
        .env("ODBC_DM_CONFORM_CHECK_TIMEOUT_MS", "600")
        .output()
        .unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(t0.elapsed() < std::time::Duration::from_secs(30), "no hang");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(ids_with(&r, &["timeout"]).len(), 6, "{r:#}");
    assert_eq!(all_ids(&r).len(), 6, "--only keeps the notify checks only: {r:#}");
    assert!(check(&r, "notify.flast")["detail"].as_str().unwrap().contains("killed"));
}

#[test]
fn sqliteodbc_known_findings_are_found() {
    let (code, r) = conform(&["--driver", "/usr/lib/x86_64-linux-gnu/odbc/libsqlite3odbc.so"], &[]);
    assert_eq!(code, 1);
    let detail = |id: &str| {
        let c = check(&r, id);
        assert_eq!(c["outcome"], "fail", "{id}: {c}");
        c["detail"].as_str().unwrap().to_string()
    };
    // ANSI SQLDescribeCol truncates without 01004 and splits a UTF-8 character.
    let d = detail("buffers.describecol.a");
    assert!(d.contains("without 01004") && d.contains("split a UTF-8 character"), "{d}");
    // Each diagnostic record handed out only once.
    assert!(detail("diag.readable-twice").contains("second time returned no record"));
    // One byte into a 0-byte SQLGetConnectAttr buffer.
    assert!(detail("buffers.getconnectattr.a").contains("BufferLength=0): wrote 1 byte(s) past the 0-byte buffer"));
    // One byte past an odd-sized SQL_C_WCHAR SQLGetData buffer: the harness turns the DM's
    // conversion for ANSI-only drivers off (SQL_ATTR_DM_WCHAR_CONVERSION, decision #90), so
    // SQL_C_WCHAR reaches the driver itself.
    assert!(detail("buffers.getdata.wchar").contains("BufferLength=3): wrote 1 byte(s) past the 3-byte buffer"));
    // SQLCancel on an idle statement closes its cursor (§3.3).
    assert!(detail("cancel.idle-keeps-cursor").contains("closed its cursor"));
}

/// A server-driver test: the report, or None after a loud skip when the server is down
/// (a failure under ODBC_DM_REQUIRE_SERVERS, which the test command sets).
fn server_report(file: &str, reachable: Option<String>) -> Option<Value> {
    if reachable.is_none() {
        assert!(std::env::var_os("ODBC_DM_REQUIRE_SERVERS").is_none(), "{file}: server required but not reachable");
        return None;
    }
    let (_, r) = conform(&["--driver", &format!("/usr/lib/x86_64-linux-gnu/odbc/{file}")], &[]);
    assert!(r["driver"]["name"].as_str().is_some_and(|n| !n.is_empty()), "connected: {r:#}");
    Some(r)
}

#[test]
fn psqlodbcw_describecolw_writes_no_nul_on_truncation_and_reports_01001() {
    let Some(r) = server_report("psqlodbcw.so", common::postgres_conn_str("psqlodbcw conform")) else { return };
    let c = check(&r, "buffers.describecol.w");
    assert_eq!(c["outcome"], "fail", "{c}");
    assert!(c["detail"].as_str().unwrap().contains("SQLDescribeColW(BufferLength=1): no terminating NUL"), "{c}");
    // §5.3: psqlODBC offers optimistic concurrency (ROWVER) and reports the collision.
    assert_eq!(check(&r, "concurrency.optimistic-01001")["outcome"], "pass", "{r:#}");
}

#[test]
fn mariadb_sqlcancel_closes_an_idle_cursor() {
    let Some(r) = server_report("libmaodbc.so", common::mariadb_conn_str("mariadb conform")) else { return };
    let c = check(&r, "cancel.idle-keeps-cursor");
    assert_eq!(c["outcome"], "fail", "§3.3: {c}");
    assert!(c["detail"].as_str().unwrap().contains("24000"), "{c}");
}

#[test]
fn cli_only_filter_markdown_and_usage_errors() {
    common::init();
    let p = common::refdriver_path();
    let out =
        Command::new(bin()).args(["conform", "--driver", p.to_str().unwrap(), "--only", "diag.", "--format", "markdown"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.contains("| check | rule | outcome | detail |"), "{md}");
    assert!(md.contains("`diag.readable-twice`") && !md.contains("`exports."), "{md}");
    let out = Command::new(bin()).args(["conform", "--format", "yaml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "usage error");
    let out = Command::new(bin()).args(["conform", "--driver", "/nonexistent/libx.so"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn all_runs_odbcinst_drivers_that_connect_and_skips_the_rest_with_the_reason() {
    common::init();
    let dir = common::root().join(format!("target/tmp/conform-inst-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A copy of the reference driver under another file name: not one of the drivers
    // under test, connects without keywords.
    let copy = dir.join("libref_copy.so");
    std::fs::copy(common::refdriver_path(), &copy).unwrap();
    std::fs::write(
        dir.join("odbcinst.ini"),
        format!("[RefCopy]\nDriver = {}\n\n[Missing]\nDriver = /nonexistent/libx.so\n", copy.display()),
    )
    .unwrap();
    std::fs::write(dir.join("odbc.ini"), "").unwrap();
    let out = Command::new(bin())
        .args(["conform", "--all", "--only", "info.", "--format", "json"])
        .env("ODBCSYSINI", &dir)
        .env("ODBCINI", dir.join("odbc.ini"))
        .current_dir(common::root())
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    let reports = v.as_array().expect("--all --format json gives an array of reports");
    let by_path = |p: &str| reports.iter().find(|r| r["driver"]["path"] == p).unwrap_or_else(|| panic!("no report for {p}: {v:#}"));
    let r = by_path(copy.to_str().unwrap());
    assert_eq!(all_ids(r), vec!["info.required", "info.async-answers"], "{r:#}");
    assert_eq!(bad(r), BTreeSet::new());
    let m = by_path("/nonexistent/libx.so");
    assert!(m["skipped"].as_str().unwrap().contains("not installed"), "{m:#}");
    assert!(m["checks"].as_array().unwrap().is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The connection-free checks of an ODBC driver (issue 13 item 5).
fn offline_checks() -> BTreeSet<String> {
    set(&["exports.claims-exported", "handles.invalid-null", "handles.invalid-freed", "handles.invalid-wrong-kind"])
}

/// A driver of conform.ini whose server does not answer: its connection-free checks still
/// run (exports vs SQLGetFunctions on an unconnected handle, invalid handles); every other
/// check is `skip` with the reason; the report is complete.
#[test]
fn a_driver_whose_server_is_down_runs_its_connection_free_checks_and_skips_the_rest() {
    common::init();
    let dir = common::root().join(format!("target/tmp/conform-offline-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("libref_offline.so");
    std::fs::copy(common::refdriver_path(), &copy).unwrap();
    let ini = dir.join("conform.ini");
    // Port 1 on loopback: nothing listens there.
    std::fs::write(&ini, format!("[offline]\nDriver = {}\nConnect = Database=:memory:\nProbe = 127.0.0.1:1\n", copy.display())).unwrap();
    let (code, r) = conform(&["--driver", copy.to_str().unwrap()], &[("ODBC_DM_CONFORM_INI", ini.to_str().unwrap())]);
    assert_eq!(code, 0, "{r:#}");
    assert!(r["offline"].as_str().unwrap().contains("server not reachable at 127.0.0.1:1"), "{r:#}");
    assert_eq!(ids_with(&r, &["pass"]), offline_checks(), "{r:#}");
    for c in r["checks"].as_array().unwrap() {
        if !offline_checks().contains(c["id"].as_str().unwrap()) {
            assert_eq!(c["outcome"], "skip", "{c}");
            assert!(c["detail"].as_str().unwrap().starts_with("needs a connection: server not reachable"), "{c}");
        }
    }
    let (_, reference) = refdriver("Database=:memory:;Steps=0");
    assert_eq!(all_ids(&r), all_ids(&reference), "complete report");
    let _ = std::fs::remove_dir_all(&dir);
}

/// FreeTDS (Debian `tdsodbc`, installed by setup.sh) without a SQL Server here: reported
/// with its connection-free checks, the rest skipped with the reason.
#[test]
fn freetds_without_a_server_reports_its_connection_free_checks() {
    common::init();
    let p = PathBuf::from("/usr/lib/x86_64-linux-gnu/odbc/libtdsodbc.so");
    if common::require_driver("freetds conform", &p).is_none() {
        return;
    }
    if std::net::TcpStream::connect("127.0.0.1:1433").is_ok() {
        return; // a SQL Server answers: the full report runs (not this test's case)
    }
    let (_, r) = conform(&["--driver", p.to_str().unwrap()], &[]);
    assert!(r["offline"].as_str().unwrap().contains("server not reachable at 127.0.0.1:1433"), "{r:#}");
    let ran: BTreeSet<String> = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["detail"].as_str().unwrap().starts_with("needs a connection"))
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ran, offline_checks(), "{r:#}");
    // FreeTDS answers SQLGetFunctions without a connection.
    assert_eq!(check(&r, "exports.claims-exported")["outcome"], "pass", "{r:#}");
}
