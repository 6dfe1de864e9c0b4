//! The conformance harness (`odbc-dm conform`, issue 13) run as a user runs it: the
//! binary, real drivers, JSON output. Rules are cited per check in src/conform/checks.rs.
//!
//! - the reference driver passes every check it supports, notification protocol included
//!   (§2.7–§2.10);
//! - each `Fault=` mode of the reference driver fails the checks that concern it and no
//!   others, at step delays 0, 5 and 50 ms;
//! - a driver that aborts in SQLExecDirect yields `crash` for exactly the checks that
//!   execute a statement and a complete report for the rest;
//! - a check that hangs yields `timeout`, the run goes on and ends;
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
        "async.polling",
        "cancel.cross-thread",
        "cancel.idle-keeps-cursor",
        "state.exec-with-open-cursor",
        "exports.claims-exported",
        "diag.readable-twice",
    ] {
        assert_eq!(check(&r, id)["outcome"], "pass", "{id}: {}", check(&r, id));
    }
}

/// Each fault mode: the checks that must fail (they test what the fault breaks) and the
/// family outside which nothing may fail. For the notification faults, a driver that calls
/// back early, twice, never or with a garbage context sends the harness (playing the DM)
/// re-invoking at the wrong time, so other notification checks may fail too, depending on
/// timing; nothing outside `notify.` (and `async.` for StillExecutingForever) may.
#[test]
fn each_fault_mode_fails_the_checks_that_concern_it_and_no_others() {
    let statement_checks = [
        "handles.lifecycle",
        "buffers.describecol.w",
        "buffers.getdata.char",
        "buffers.getdata.wchar",
        "unicode.roundtrip",
        "state.fetch-without-cursor",
        "state.exec-with-open-cursor",
        "state.getdata-before-fetch",
        "cancel.cross-thread",
        "cancel.idle-keeps-cursor",
        "concurrency.separate-connections",
        "concurrency.shared-connection",
        "async.polling",
        "notify.one-callback-per-still-executing",
        "notify.thread-and-timing",
        "notify.context",
        "notify.flast",
        "notify.concurrent",
    ];
    let notify_all =
        ["notify.one-callback-per-still-executing", "notify.thread-and-timing", "notify.context", "notify.flast", "notify.concurrent"];
    // (fault, must fail, may fail besides: id prefixes)
    let modes: Vec<(&str, Vec<&str>, Vec<&str>)> = vec![
        ("CallbackOnCallingThread", vec!["notify.thread-and-timing"], vec!["notify."]),
        ("CallbackBeforeReturn", vec!["notify.thread-and-timing"], vec![]),
        ("NoCallback", notify_all.to_vec(), vec![]),
        ("DoubleCallback", vec!["notify.one-callback-per-still-executing"], vec!["notify."]),
        ("WrongContext", notify_all.to_vec(), vec![]),
        ("StillExecutingForever", [&["async.polling"][..], &notify_all[..]].concat(), vec![]),
        ("LyingFunctions", vec!["exports.claims-exported"], vec![]),
        ("PanicInCall", statement_checks.to_vec(), vec![]),
        ("DiagOverflow", vec!["diag.honest-length", "diag.truncation-01004", "buffers.getdiagrec.w"], vec![]),
    ];
    // Every mode at three step delays, all runs at once (each is its own process tree).
    let results: Vec<(String, u64, i32, Value)> = std::thread::scope(|s| {
        let hs: Vec<_> = modes
            .iter()
            .flat_map(|(f, _, _)| [0u64, 5, 50].map(|d| (f.to_string(), d)))
            .map(|(f, d)| {
                s.spawn(move || {
                    let (code, r) = refdriver(&format!("Database=:memory:;Steps=2;Delay={d};Fault={f}"));
                    (f, d, code, r)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (f, d, code, r) in &results {
        let (_, must, may) = modes.iter().find(|(m, _, _)| m == f).unwrap();
        let failed = bad(r);
        let must = set(must);
        assert!(must.is_subset(&failed), "Fault={f} Delay={d}: {must:?} must fail, failed: {failed:?}");
        let extra: Vec<_> = failed.iter().filter(|id| !must.contains(*id) && !may.iter().any(|p| id.starts_with(p))).collect();
        assert!(extra.is_empty(), "Fault={f} Delay={d}: unrelated checks failed: {extra:?}\n{r:#}");
        assert!(ids_with(r, &["crash", "timeout"]).is_empty(), "Fault={f} Delay={d}: a driver fault is a fail, not a crash or hang: {r:#}");
        assert_eq!(*code, 1, "Fault={f}: exit code 1 when a check failed");
    }
    // The detail names the call and what came back.
    let lying = &results.iter().find(|(f, ..)| f == "LyingFunctions").unwrap().3;
    let d = check(lying, "exports.claims-exported")["detail"].as_str().unwrap();
    assert!(d.contains("SQLBrowseConnect") && d.contains("SQLProcedures"), "{d}");
    let ctx = &results.iter().find(|(f, ..)| f == "WrongContext").unwrap().3;
    assert!(check(ctx, "notify.context")["detail"].as_str().unwrap().contains("0xdeadbeef"), "{ctx:#}");
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
    let expected = set(&[
        "handles.lifecycle",
        "diag.sqlstate-format",
        "diag.honest-length",
        "diag.readable-twice",
        "diag.truncation-01004",
        "buffers.getdata.char",
        "buffers.getdiagrec.a",
        "unicode.roundtrip",
        "state.fetch-without-cursor",
        "state.exec-with-open-cursor",
        "state.getdata-before-fetch",
        "cancel.idle-keeps-cursor",
        "concurrency.separate-connections",
        "concurrency.shared-connection",
    ]);
    assert_eq!(crashed, expected, "{r:#}");
    for id in &crashed {
        let d = check(&r, id)["detail"].as_str().unwrap();
        assert!(d.contains("SIGABRT"), "{id}: {d}");
    }
    // A complete report: every check of the harness is there once, in order.
    let (_, reference) = refdriver("Database=:memory:;Steps=0");
    assert_eq!(all_ids(&r), all_ids(&reference));
    assert_eq!(check(&r, "exports.claims-exported")["outcome"], "pass");
    assert_eq!(check(&r, "info.required")["outcome"], "pass");
    assert_eq!(r["driver"]["name"], "libodbc_crashdriver.so");
    // No Unicode API: the DM converts SQL_C_WCHAR, so that probe is no driver check (#77).
    assert_eq!(check(&r, "buffers.getdata.wchar")["outcome"], "skip");
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
    assert_eq!(ids_with(&r, &["timeout"]).len(), 5, "{r:#}");
    assert_eq!(all_ids(&r).len(), 5, "--only keeps the notify checks only: {r:#}");
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
    // SQL_C_WCHAR never reaches this driver without a Unicode API: the DM converts it
    // (decision #77; the driver itself writes 1 byte past an odd-sized SQL_C_WCHAR buffer).
    let c = check(&r, "buffers.getdata.wchar");
    assert_eq!(c["outcome"], "skip", "{c}");
    assert!(c["detail"].as_str().unwrap().contains("the DM converts SQL_C_WCHAR"), "{c}");
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
