//! PHP (Debian's php-cli with php-odbc) runs a workload through odbc-dm's libodbc.so.2 with
//! both of its ODBC interfaces, the odbc extension and PDO_ODBC: capi/tests/php/php_workload.php.
//! Prepared inserts (SQLPrepare, SQLNumParams, SQLDescribeParam, SQLBindParameter) of
//! non-ASCII and non-BMP text, bound result columns fetched with SQLExtendedFetch (PHP asks
//! SQL_FETCH_DIRECTION and uses the ODBC 2 block fetch where the driver reports absolute
//! fetches) or SQLFetch, an absolute fetch, row counts, manual commit and rollback, a NULL
//! parameter, SQLTables/SQLColumns/SQLGetTypeInfo, a driver error's SQLSTATE, a 40 KB text
//! value, the DM's own SQLDataSources, and PDO's prepare/execute/fetchAll, named
//! parameters, transactions and exceptions.
//!
//! Every driver of the test setup: SQLite, PostgreSQL (Unicode driver), MariaDB and the
//! reference driver. The trace file proves odbc-dm served the calls. PHP is installed by
//! drivers-under-test/setup.sh; without it the tests fail with the reason.

mod common;

use std::process::Command;

/// Panics with the reason unless `php` has both the odbc and the PDO_ODBC module.
fn php_ready() {
    let out = Command::new("php").arg("-m").output().unwrap_or_else(|e| {
        panic!("php is needed for the PHP client tests (apt-get install php-cli php-odbc; drivers-under-test/setup.sh does): {e}")
    });
    let modules = String::from_utf8_lossy(&out.stdout);
    for m in ["odbc", "PDO_ODBC"] {
        assert!(
            modules.lines().any(|l| l.trim() == m),
            "php has no {m} module (apt-get install php-odbc; drivers-under-test/setup.sh does): {modules}"
        );
    }
}

fn run(kind: &str, name: &str, conn_str: &str) {
    php_ready();
    let dir = common::scratch(name);
    let trace = dir.join("trace.log");
    let conn_str = conn_str.replace("{scratch}", &dir.display().to_string());
    let prefix = format!("capi_php_{kind}_{}", std::process::id());
    let script = common::root().join("capi/tests/php/php_workload.php");
    let out = common::command("php").arg(&script).arg(kind).arg(&conn_str).arg(&prefix).env("ODBC_DM_TRACE", &trace).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let ctx = format!("{kind} {conn_str}: {}\n{stdout}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{ctx}");
    assert!(stdout.contains("ALL OK"), "{ctx}");
    let traced = std::fs::read_to_string(&trace).unwrap_or_default();
    // PHP calls the ANSI API: SQLConnect for a DSN, SQLDriverConnect for a connection string.
    assert!(traced.contains("Entry SQLConnect") || traced.contains("Entry SQLDriverConnect"), "odbc-dm did not serve PHP: {ctx}");
    assert!(traced.contains("Entry SQLDataSources"), "{ctx}");
    if kind != "maria" {
        // The drivers that report absolute fetches get PHP's ODBC 2 block fetch.
        assert!(traced.contains("Entry SQLExtendedFetch"), "{ctx}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn php_workload_on_sqlite() {
    run("sqlite", "php-sqlite", "sqlite-test");
}

#[test]
fn php_workload_on_postgresql() {
    if common::server_up(5432, "php_workload_on_postgresql") {
        run("pg", "php-pg", "pg-test");
    }
}

#[test]
fn php_workload_on_mariadb() {
    if common::server_up(3306, "php_workload_on_mariadb") {
        run("maria", "php-maria", "maria-test");
    }
}

/// The reference driver, with a database file of its own (PDO opens a second connection,
/// which an in-memory database would not share). It needs SQLDescribeParam (PHP's
/// odbc_prepare gives up without it) and SQLExtendedFetch (PHP uses it because the driver
/// reports absolute fetches), both exported since PHP was first tried on it.
#[test]
fn php_workload_on_the_reference_driver() {
    run("ref", "php-ref", "DRIVER=OdbcDmRef;Database={scratch}/ref.db");
}
