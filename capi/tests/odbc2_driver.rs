//! ODBC 3 calls onto an ODBC 2 driver (issue 11, item 2): mdbtools exports SQLSetStmtOption
//! but no SQLSetStmtAttr(W); unixODBC 2.3.11 answers the W form with IM001. Through
//! odbc-dm's libodbc.so.2 both SQLSetStmtAttrW and SQLSetStmtAttr reach the driver's
//! SQLSetStmtOption (docs/decisions.md #66), for the ANSI and the Unicode mdbtools build.
//!
//! The whole ODBC 3 → ODBC 2 mapping on that driver (docs/decisions.md #98):
//! [`odbc3_application_on_an_odbc2_driver`].
//!
//! Needs the Debian package odbc-mdbtools and an .mdb file: the Northwind sample that the
//! odbc-api crate package ships, which drivers-under-test/setup.sh fetches from crates.io
//! into target/odbc-test/nwind.mdb (or `CAPI_MDB_FILE`). Without them the tests fail with
//! the reason: they are part of the test command.

mod common;

use std::path::PathBuf;

fn mdb_file() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("CAPI_MDB_FILE") {
        return Some(PathBuf::from(p));
    }
    let fetched = common::root().join("target/odbc-test/nwind.mdb");
    if fetched.exists() {
        return Some(fetched);
    }
    let home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo"));
    let src = home.join("registry/src");
    std::fs::read_dir(src).ok()?.flatten().find_map(|index| {
        std::fs::read_dir(index.path()).ok()?.flatten().filter(|e| e.file_name().to_string_lossy().starts_with("odbc-api-")).find_map(|e| {
            let f = e.path().join("tests/integration/nwind.mdb");
            f.exists().then_some(f)
        })
    })
}

#[test]
fn set_stmt_attr_w_reaches_an_odbc2_drivers_set_stmt_option() {
    let drivers = ["libmdbodbc.so", "libmdbodbcW.so"].map(|d| PathBuf::from("/usr/lib/x86_64-linux-gnu/odbc").join(d));
    let Some(mdb) = mdb_file() else {
        panic!("set_stmt_attr_w_reaches_an_odbc2_drivers_set_stmt_option needs an .mdb file (CAPI_MDB_FILE)");
    };
    if !drivers.iter().all(|d| d.exists()) {
        panic!("set_stmt_attr_w_reaches_an_odbc2_drivers_set_stmt_option needs odbc-mdbtools (apt-get install odbc-mdbtools)");
    }
    let exe = common::scratch("stmt-attr-w").join("stmt_attr_w");
    common::compile_c(&common::root().join("capi/tests/c/stmt_attr_w.c"), &exe);
    for d in &drivers {
        let cs = format!("Driver={};DBQ={};", d.display(), mdb.display());
        let out = common::command(&exe).arg(&cs).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let ctx = format!("{cs}: {}\n{stdout}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "{ctx}");
        assert!(stdout.contains("W rc=0 "), "SQLSetStmtAttrW on an ODBC 2 driver: {ctx}");
        assert!(stdout.contains("A rc=0"), "{ctx}");
        assert!(stdout.contains("exec rc=0 rows=77"), "{ctx}");
    }
}

/// An ODBC 3 application (ODBC 3 entry points only, A and W; capi/tests/c/odbc3_on_odbc2.c)
/// on mdbtools, the ANSI and the Unicode build: SQLAllocHandle/SQLFreeHandle,
/// SQLSetConnectAttr(W) → SQLSetConnectOption, SQLGetConnectAttr(W) → SQLGetConnectOption,
/// SQLSetStmtAttr(W) → SQLSetStmtOption, SQLColAttribute(W) → SQLColAttributes(W),
/// SQLFetchScroll → SQLExtendedFetch, SQLCloseCursor → SQLFreeStmt(SQL_CLOSE), SQLEndTran →
/// SQLTransact, SQLGetDiagRec(W)/SQLGetDiagField → SQLError(W) (the Unicode build's records
/// come through SQLErrorW), SQLGetFunctions reporting the mapped functions, and a freed
/// handle is SQL_INVALID_HANDLE (§6.5, §6.6 for SQLGetFunctions; docs/decisions.md #98). unixODBC 2.3.11 fails 6
/// of these checks on each build (IM001 for SQLSetStmtAttrW and SQLFetchScroll,
/// SQLGetFunctions, ...): measured in docs/c-abi-compat.md.
#[test]
fn odbc3_application_on_an_odbc2_driver() {
    let drivers = ["libmdbodbc.so", "libmdbodbcW.so"].map(|d| PathBuf::from("/usr/lib/x86_64-linux-gnu/odbc").join(d));
    let Some(mdb) = mdb_file() else {
        panic!("odbc3_application_on_an_odbc2_driver needs an .mdb file (bash drivers-under-test/setup.sh, or CAPI_MDB_FILE)");
    };
    if !drivers.iter().all(|d| d.exists()) {
        panic!("odbc3_application_on_an_odbc2_driver needs odbc-mdbtools (apt-get install odbc-mdbtools)");
    }
    let exe = common::scratch("odbc3-on-odbc2").join("odbc3_on_odbc2");
    common::compile_c(&common::root().join("capi/tests/c/odbc3_on_odbc2.c"), &exe);
    for d in &drivers {
        let cs = format!("Driver={};DBQ={};", d.display(), mdb.display());
        let out = common::command(&exe).arg(&cs).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let ctx = format!("{cs}: {}\n{stdout}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "{ctx}");
        assert!(stdout.contains("CHECK done, 0 failures"), "{ctx}");
    }
}
