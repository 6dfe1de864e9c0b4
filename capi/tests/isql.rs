//! unixODBC's `isql` (ANSI API) and `iusql` (Unicode API) run an interactive session through
//! odbc-dm's `libodbc.so.2` (issue 11): connect, create, insert with non-ASCII text, select,
//! drop, on SQLite, PostgreSQL and MariaDB. The session is typed on stdin (no batch flag,
//! so isql prints its banner and prompts as for a user). Each run proves that our library is
//! the one loaded: the dynamic loader's log (`LD_DEBUG=libs`) shows it initialised from our
//! directory and unixODBC's never, and our ODBC_DM_TRACE file holds the session's calls.

mod common;

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// The non-ASCII text inserted and read back (Latin-1 range, BMP symbol, and a character
/// outside the BMP, which is a surrogate pair in UTF-16).
const TEXT: &str = "Grüße ☃ 𝄞";

/// Runs `tool -v dsn` with `input` on stdin; returns (stdout, stderr, trace file text).
fn session(tool: &str, dsn: &str, input: &str) -> (String, String, String) {
    let dir = common::scratch(&format!("{tool}-{dsn}"));
    let trace = dir.join("trace.log");
    let mut child = common::command(tool)
        .arg("-v")
        .arg(dsn)
        .env("ODBC_DM_TRACE", &trace)
        .env("LD_DEBUG", "libs")
        // iusql converts what it reads with mbstowcs: a UTF-8 locale.
        .env("LC_ALL", "C.UTF-8")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{tool} (unixodbc package) must be installed: {e}"));
    // A closed pipe (isql exited early) is not the finding: its exit status and output are,
    // checked below.
    let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    // No hang: the whole session ends within a generous bound.
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("{tool} {dsn}: no exit within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{tool} {dsn} failed ({}):\n{stdout}\n{stderr}", out.status);
    let traced = std::fs::read_to_string(&trace).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    (stdout, stderr, traced)
}

fn check(tool: &str, dsn: &str, drop_if_exists: bool) {
    let table = format!("capi_{}_{}", tool, std::process::id());
    let mut input = String::new();
    if drop_if_exists {
        input += &format!("drop table if exists {table}\n");
    }
    input += &format!(
        "create table {table} (id integer, name varchar(40))\n\
         insert into {table} values (1, '{TEXT}')\n\
         insert into {table} values (2, NULL)\n\
         select id, name from {table} order by id\n\
         drop table {table}\n\
         quit\n"
    );
    let (out, err, trace) = session(tool, dsn, &input);
    let ctx = format!("{tool} {dsn}:\n--- stdout\n{out}\n--- trace (head)\n{}", trace.lines().take(40).collect::<Vec<_>>().join("\n"));
    assert!(out.contains("Connected!"), "{ctx}");
    assert!(out.contains("SQL> "), "no interactive prompt: {ctx}");
    assert!(!out.contains("[ISQL]ERROR"), "{ctx}");
    // The row with the non-ASCII text, byte for byte, and the NULL row.
    let row = out.lines().find(|l| l.starts_with('|') && l.contains(TEXT)).unwrap_or_else(|| panic!("{TEXT:?} not read back: {ctx}"));
    assert!(row.trim_start_matches('|').trim_start().starts_with('1'), "{row}: {ctx}");
    assert!(out.contains("2 rows fetched"), "{ctx}");
    // Our library, from our directory, is the one the loader initialised; unixODBC's never.
    let ours = common::lib_dir().join("libodbc.so.2");
    assert!(err.contains(&format!("calling init: {}", ours.display())), "our libodbc.so.2 was not loaded:\n{err}");
    assert!(!err.contains("calling init: /usr/lib/x86_64-linux-gnu/libodbc.so.2"), "unixODBC's libodbc.so.2 was loaded:\n{err}");
    // ... and it served the session: our call trace has the connect, the statements and
    // the text that was inserted.
    let connect = if tool == "iusql" { "Entry SQLDriverConnectW" } else { "Entry SQLConnect" };
    assert!(trace.contains(connect), "no {connect} in our trace: {ctx}");
    assert!(trace.contains(&format!("create table {table}")), "statement text not traced: {ctx}");
}

#[test]
fn isql_session_on_sqlite() {
    check("isql", "sqlite-test", false);
}

#[test]
fn iusql_session_on_sqlite() {
    check("iusql", "sqlite-test", false);
}

#[test]
fn isql_session_on_postgresql() {
    if common::server_up(5432, "isql_session_on_postgresql") {
        check("isql", "pg-test", true);
    }
}

#[test]
fn iusql_session_on_postgresql() {
    if common::server_up(5432, "iusql_session_on_postgresql") {
        check("iusql", "pg-test", true);
    }
}

#[test]
fn isql_session_on_mariadb() {
    if common::server_up(3306, "isql_session_on_mariadb") {
        check("isql", "maria-test", true);
    }
}

#[test]
fn iusql_session_on_mariadb() {
    if common::server_up(3306, "iusql_session_on_mariadb") {
        check("iusql", "maria-test", true);
    }
}
