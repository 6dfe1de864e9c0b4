//! pyodbc (from PyPI) runs a realistic workload through odbc-dm's libodbc.so.2 (issue 11):
//! capi/tests/py/pyodbc_workload.py — every common type as parameter and result (integers,
//! double, decimal, narrow and wide text incl. characters outside the BMP, long text, date,
//! timestamp, binary, boolean), NULLs, executemany, cursor.description, rowcount,
//! commit/rollback, errors mapped to pyodbc.ProgrammingError/IntegrityError, a catalog
//! call, and (PostgreSQL) a cross-thread cursor.cancel() that ends a 30 s query at once
//! with HY008 (§3.2). The trace file proves odbc-dm served the calls.
//!
//! pyodbc is installed with pip if it is missing; the test fails with the reason if that is
//! impossible.

mod common;

use std::process::Command;

/// Makes sure `import pyodbc` works (pip-installing it once if needed).
fn pyodbc_ready() {
    let import = || Command::new("python3").args(["-c", "import pyodbc"]).output().map(|o| o.status.success()).unwrap_or(false);
    if import() {
        return;
    }
    let out = Command::new("python3")
        .args(["-m", "pip", "install", "--quiet", "pyodbc"])
        .output()
        .unwrap_or_else(|e| panic!("python3 is needed for the pyodbc tests: {e}"));
    assert!(
        import(),
        "pyodbc cannot be installed (python3 -m pip install pyodbc): {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn run(kind: &str, name: &str, conn_str: &str) {
    pyodbc_ready();
    let dir = common::scratch(name);
    let trace = dir.join("trace.log");
    let table = format!("capi_py_{name}_{}", std::process::id()).replace('-', "_");
    let script = common::root().join("capi/tests/py/pyodbc_workload.py");
    let out = common::command("python3")
        .arg(&script)
        .arg(kind)
        .arg(conn_str)
        .arg(&table)
        .env("ODBC_DM_TRACE", &trace)
        .env("PYTHONIOENCODING", "utf-8")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let ctx = format!("{kind} {conn_str}: {}\n{stdout}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{ctx}");
    assert!(stdout.contains("ALL OK"), "{ctx}");
    assert!(stdout.contains("OK fast_executemany"), "{ctx}");
    let traced = std::fs::read_to_string(&trace).unwrap_or_default();
    assert!(traced.contains("Entry SQLDriverConnectW"), "odbc-dm did not serve pyodbc: {ctx}");
    if kind == "pg" {
        assert!(stdout.contains("OK cross-thread cancel"), "{ctx}");
        assert!(stdout.contains("'state': 'HY008'"), "a cancelled statement is HY008 (§3.2): {ctx}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn pyodbc_workload_on_sqlite() {
    run("sqlite", "py-sqlite", "DSN=sqlite-test");
}

#[test]
fn pyodbc_workload_on_postgresql_unicode() {
    if common::server_up(5432, "pyodbc_workload_on_postgresql_unicode") {
        run("pg", "py-pgw", "DSN=pg-test");
    }
}

/// psqlODBC's ANSI driver (psqlodbca): pyodbc binds str parameters as SQL_C_WCHAR, which
/// the ANSI driver cannot take (unixODBC passes them through: HYC00). odbc-dm converts
/// SQL_C_WCHAR parameters, bound columns and SQLGetData buffers for a driver without the
/// Unicode API (issue 11 item 3, docs/decisions.md #77).
#[test]
fn pyodbc_workload_on_postgresql_ansi() {
    if common::server_up(5432, "pyodbc_workload_on_postgresql_ansi") {
        run(
            "pg",
            "py-pga",
            "DRIVER=/usr/lib/x86_64-linux-gnu/odbc/psqlodbca.so;Servername=127.0.0.1;Port=5432;Database=test;Username=postgres",
        );
    }
}
