//! The `odbc-dm` binary: `query`, `info`, `demo` and the usage text, run as a process
//! against the real drivers (connection strings with DRIVER= paths, no ini files needed).

mod common;

use std::process::{Command, Output};

fn odbc_dm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_odbc-dm")).args(args).env_remove("RUST_LOG").output().expect("run the odbc-dm binary")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("stderr is UTF-8")
}

#[track_caller]
fn assert_exit(o: &Output, code: i32) {
    assert_eq!(o.status.code(), Some(code), "exit code\nstdout:\n{}\nstderr:\n{}", stdout(o), stderr(o));
}

fn sqlite_cs(name: &str) -> String {
    let db = common::temp_db(name);
    format!("DRIVER={};Database={}", common::debian_driver("libsqlite3odbc.so").display(), db.display())
}

#[test]
fn query_prints_an_aligned_table_with_nulls_and_non_ascii_text() {
    let cs = sqlite_cs("cli-query");
    let o = odbc_dm(&["query", &cs, "CREATE TABLE t (id INTEGER, name VARCHAR(20), score DOUBLE)"]);
    assert_exit(&o, 0);
    assert!(stdout(&o).starts_with("OK, "), "{}", stdout(&o));
    let o = odbc_dm(&["query", &cs, "INSERT INTO t VALUES (1, 'é', 1.5), (2, '中文', NULL), (10, '😀', -3)"]);
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), "OK, 3 rows affected\n");
    let o = odbc_dm(&["query", &cs, "SELECT id, name, score FROM t ORDER BY id"]);
    assert_exit(&o, 0);
    let expected = concat!(
        " id | name | score\n",
        "----+------+-------\n",
        "  1 | é    |   1.5\n",
        "  2 | 中文 |  NULL\n",
        " 10 | 😀   |  -3.0\n",
        "(3 rows)\n",
    );
    assert_eq!(stdout(&o), expected);
}

#[test]
fn query_syntax_error_prints_sqlstate_and_exits_1() {
    let cs = sqlite_cs("cli-error");
    let o = odbc_dm(&["query", &cs, "SELECT * FROM"]);
    assert_exit(&o, 1);
    let err = stderr(&o);
    assert!(err.lines().any(|l| l.starts_with("HY000: ")), "stderr:\n{err}");
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));

    let ref_cs = common::refdriver_conn_str("");
    let o = odbc_dm(&["query", &ref_cs, "SELEC 1"]);
    assert_exit(&o, 1);
    let err = stderr(&o);
    assert!(err.lines().any(|l| l.starts_with("42000: ") && l.contains("syntax error")), "stderr:\n{err}");
}

#[test]
fn query_through_the_unicode_only_refdriver() {
    let o = odbc_dm(&["query", &common::refdriver_conn_str(""), "select 1 as one, 'x😀' as two, null as three"]);
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), " one | two | three\n-----+-----+-------\n   1 | x😀 | NULL\n(1 row)\n");
}

#[test]
fn connection_errors_mask_passwords() {
    let o = odbc_dm(&["query", "DSN=no-such-dsn-for-cli-test;UID=u;PWD=hunter2", "select 1"]);
    assert_exit(&o, 1);
    let err = stderr(&o);
    assert!(err.contains("IM002: "), "stderr:\n{err}");
    assert!(err.contains("PWD=****"), "stderr:\n{err}");
    assert!(!err.contains("hunter2") && !stdout(&o).contains("hunter2"), "password leaked:\n{err}");
}

#[test]
fn info_sqlite_prints_driver_functions_and_unreported_async_types() {
    let cs = sqlite_cs("cli-info");
    let o = odbc_dm(&["info", &cs]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    for want in [
        "driver file            /usr/lib/x86_64-linux-gnu/odbc/libsqlite3odbc.so",
        "SQL_DRIVER_NAME        sqlite3odbc.so",
        "SQL_DRIVER_ODBC_VER    03.00",
        "SQL_ODBC_VER (DM)      03.80",
        "SQLGetFunctions: ",
        "SQLEXECDIRECT",
        "SQL_ASYNC_MODE                       none",
        // libsqlite3odbc does not know 10023..10025.
        "SQL_ASYNC_DBC_FUNCTIONS              not reported (",
        "SQL_ASYNC_NOTIFICATION               not reported (",
        // The ODBC 3.80 → 3.0 fallback of the DM is shown as a note.
        "note: 01000: ",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
}

#[test]
fn info_refdriver_reports_statement_async_and_notification() {
    let o = odbc_dm(&["info", &common::refdriver_conn_str("")]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    for want in [
        "SQL_DRIVER_NAME        libodbc_refdriver.so",
        "SQL_DRIVER_ODBC_VER    03.80",
        "SQLGetFunctions: ",
        "SQL_ASYNC_MODE                       statement (SQL_AM_STATEMENT)",
        "SQL_ASYNC_DBC_FUNCTIONS              capable",
        "SQL_ASYNC_NOTIFICATION               capable",
        "SQL_MAX_ASYNC_CONCURRENT_STATEMENTS  ",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    // Supported: SQLCancelHandle; not supported: SQLProcedures (not exported).
    let supported = out.split("not supported:").next().unwrap();
    assert!(supported.contains("SQLCANCELHANDLE"), "{out}");
    assert!(!supported.contains("SQLPROCEDURES"), "{out}");
}

#[test]
fn demo_runs_every_section() {
    // The demo finds the reference driver next to the binary (target/debug or its deps/).
    let _ = common::refdriver_path();
    assert!(common::debian_driver("libsqlite3odbc.so").exists(), "libsqliteodbc missing: run drivers-under-test/setup.sh");
    let o = odbc_dm(&["demo"]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    for want in [
        "== Drivers ==",
        "Driver Manager: odbc-dm",
        "sqlite3odbc.so",
        "libodbc_refdriver.so",
        "== SQLite via libsqlite3odbc",
        "== Reference driver",
        "== Async polling",
        "× SQL_STILL_EXECUTING, then SQL_SUCCESS",
        "== Four queries on four threads",
        "wall time ",
        "== Cross-thread cancel",
        "SQL_ERROR HY008",
        "demo: done",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    // Non-ASCII text survives both drivers (once per table).
    assert_eq!(out.matches("😀 smile").count(), 2, "{out}");
    assert_eq!(out.matches("你好, 中文").count(), 2, "{out}");
    assert_eq!(out.matches("round trip: every text value read back is identical").count(), 2, "{out}");
    assert!(!out.contains("FAILED"), "{out}");
}

#[test]
fn usage_and_bad_arguments() {
    let o = odbc_dm(&[]);
    assert_exit(&o, 0);
    assert!(stdout(&o).contains("query \"<connection string>\" \"<sql>\""));
    assert_exit(&odbc_dm(&["frobnicate"]), 2);
    assert_exit(&odbc_dm(&["query", "DSN=x"]), 2);
}
