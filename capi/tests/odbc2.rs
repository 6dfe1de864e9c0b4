//! An ODBC 2 application in C (capi/tests/c/odbc2_app.c: only ODBC 2 entry points) runs
//! through odbc-dm's libodbc.so.2 on ODBC 3 drivers (issue 11, items 1 and 2): SQLite,
//! psqlODBC (whose SQLSetParam is a stub returning SQL_ERROR: the DM maps SQLSetParam to
//! SQLBindParameter) and MariaDB (whose SQLColAttributes calls SQLColAttributeW by name:
//! the DM loads drivers with RTLD_DEEPBIND so that call stays inside the driver,
//! docs/decisions.md #64). SQLError hands out each record once, then SQL_NO_DATA;
//! SQLTransact commits and rolls back; SQLExtendedFetch fetches a block cursor sized by
//! SQLSetStmtOption(SQL_ROWSET_SIZE); a second SQLFreeConnect is SQL_INVALID_HANDLE.

mod common;

fn build(name: &str) -> std::path::PathBuf {
    let exe = common::scratch(name).join("odbc2_app");
    common::compile_c(&common::root().join("capi/tests/c/odbc2_app.c"), &exe);
    exe
}

fn run(name: &str, dsn: &str) {
    let exe = build(name);
    let table = format!("capi_{name}_{}", std::process::id()).replace('-', "_");
    let out = common::command(&exe).arg(dsn).arg(&table).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let ctx = format!("{dsn}: {}\n{stdout}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{ctx}");
    assert!(stdout.contains("CHECK done, 0 failures"), "{ctx}");
}

#[test]
fn odbc2_application_on_sqlite() {
    run("odbc2-sqlite", "sqlite-test");
}

#[test]
fn odbc2_application_on_postgresql() {
    if common::server_up(5432, "odbc2_application_on_postgresql") {
        run("odbc2-pg", "pg-test");
    }
}

#[test]
fn odbc2_application_on_mariadb() {
    if common::server_up(3306, "odbc2_application_on_mariadb") {
        run("odbc2-maria", "maria-test");
    }
}
