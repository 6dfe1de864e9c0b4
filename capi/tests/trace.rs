//! Tracing through the C ABI (issue 11, item 6): a C application (unixODBC's isql) gets
//! odbc-dm's call trace from `ODBC_DM_TRACE` (a file, or `stderr`) or `RUST_LOG`, without a
//! Rust logger of its own, and no password reaches the trace (masked as `****`, odbc_dm::config::mask_passwords).

mod common;

use std::io::Write;
use std::process::{Output, Stdio};

const SECRET: &str = "s3cret-Pw";

/// Runs `isql -b args...` with `select 1` on stdin and extra environment variables.
fn isql(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = common::command("isql");
    c.arg("-b").args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.spawn().expect("isql (unixodbc package) must be installed");
    // A closed pipe (isql exited early) is not the finding: its exit status and output are,
    // checked below.
    let _ = child.stdin.take().unwrap().write_all(b"select 1\n");
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "isql {args:?}: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    out
}

#[test]
fn odbc_dm_trace_file_has_the_calls_and_masks_the_password_of_a_connection_string() {
    let dir = common::scratch("trace-file");
    let file = dir.join("odbc.trace");
    let cs = format!("DSN=sqlite-test;UID=me;PWD={SECRET};");
    let out = isql(&["-k", &cs], &[("ODBC_DM_TRACE", file.to_str().unwrap())]);
    let trace = std::fs::read_to_string(&file).expect("ODBC_DM_TRACE file written");
    assert!(trace.contains("Entry SQLDriverConnect"), "{trace}");
    assert!(trace.contains("PWD=****"), "{trace}");
    assert!(trace.contains("Exit  SQLFetch -> SQL_NO_DATA") || trace.contains("Exit  SQLFetch -> SQL_SUCCESS"), "{trace}");
    assert!(!trace.contains(SECRET), "password in the trace:\n{trace}");
    // Nothing on stderr: the trace went to the file only.
    assert!(!String::from_utf8_lossy(&out.stderr).contains("Entry SQL"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn odbc_dm_trace_stderr_masks_the_password_of_sqlconnect() {
    let out = isql(&["sqlite-test", "me", SECRET], &[("ODBC_DM_TRACE", "stderr")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Entry SQLConnect"), "{err}");
    assert!(err.contains("Exit  SQLExecDirect -> SQL_SUCCESS") || err.contains("Exit  SQLPrepare -> SQL_SUCCESS"), "{err}");
    assert!(!err.contains(SECRET), "password in the trace:\n{err}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Entry SQL"));
}

#[test]
fn rust_log_selects_the_call_trace() {
    let cs = format!("DSN=sqlite-test;PWD={SECRET}");
    let out = isql(&["-k", &cs], &[("RUST_LOG", "odbc_dm::trace=trace")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Entry SQLDriverConnect"), "{err}");
    assert!(!err.contains(SECRET), "password in the trace:\n{err}");
}

#[test]
fn no_trace_without_the_variables() {
    let out = isql(&["sqlite-test"], &[]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("Entry SQL"));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Entry SQL"));
}
