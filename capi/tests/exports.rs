//! The export list of our `libodbc.so.2` (issue 11, item 1): every SQL* function
//! unixODBC's libodbc.so.2 exports, the ODBC 3.8 API in A and W forms, SQLCompleteAsync,
//! SQLCancelHandle and the ODBC 2 entry points; the soname is `libodbc.so.2`.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// unixODBC's library on Debian (package libodbc2).
const UNIXODBC: &str = "/usr/lib/x86_64-linux-gnu/libodbc.so.2";

/// The defined dynamic symbols of a shared library (`nm -D --defined-only`).
fn exports(lib: &Path) -> BTreeSet<String> {
    let o = Command::new("nm").arg("-D").arg("--defined-only").arg(lib).output().expect("nm (binutils) must be installed");
    assert!(o.status.success(), "nm {}: {}", lib.display(), String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (_, kind, name) = (f.next()?, f.next()?, f.next()?);
            (kind == "T").then(|| name.to_string())
        })
        .collect()
}

#[test]
fn every_sql_function_unixodbc_exports_is_exported() {
    let ours = exports(&common::built_library());
    assert!(Path::new(UNIXODBC).exists(), "{UNIXODBC} missing: install libodbc2 (the comparison needs unixODBC's export list)");
    let theirs: BTreeSet<String> = exports(Path::new(UNIXODBC)).into_iter().filter(|s| s.starts_with("SQL")).collect();
    assert!(theirs.len() > 140, "unixODBC's list looks wrong: {theirs:?}");
    let missing: Vec<_> = theirs.difference(&ours).collect();
    assert!(missing.is_empty(), "exported by unixODBC but not by odbc-dm's libodbc.so.2: {missing:?}");
}

#[test]
fn every_entry_point_of_the_abi_list_is_exported() {
    let ours = exports(&common::built_library());
    let missing: Vec<_> = odbc_dm_abi::fns::ENTRY_POINT_NAMES.iter().filter(|n| !ours.contains(**n)).collect();
    assert!(missing.is_empty(), "not exported: {missing:?}");
    // The ones the issue names explicitly.
    for n in [
        "SQLCompleteAsync",
        "SQLCancelHandle",
        "SQLAllocEnv",
        "SQLAllocConnect",
        "SQLAllocStmt",
        "SQLFreeEnv",
        "SQLFreeConnect",
        "SQLError",
        "SQLErrorW",
        "SQLGetConnectOption",
        "SQLGetConnectOptionW",
        "SQLSetConnectOption",
        "SQLSetConnectOptionW",
        "SQLGetStmtOption",
        "SQLSetStmtOption",
        "SQLTransact",
        "SQLColAttributes",
        "SQLColAttributesW",
        "SQLSetParam",
        "SQLParamOptions",
        "SQLExtendedFetch",
        "SQLSetScrollOptions",
        "SQLDriverConnectW",
        "SQLGetDiagRecW",
    ] {
        assert!(ours.contains(n), "{n} not exported");
    }
}

#[test]
fn only_odbc_functions_are_exported() {
    // No Rust symbol leaks into the global namespace an application and its drivers share.
    let ours = exports(&common::built_library());
    let other: Vec<_> = ours.iter().filter(|s| !s.starts_with("SQL")).collect();
    assert!(other.is_empty(), "unexpected exports: {other:?}");
}

#[test]
fn soname_is_libodbc_so_2() {
    let o = Command::new("readelf").arg("-d").arg(common::built_library()).output().expect("readelf (binutils)");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("Library soname: [libodbc.so.2]"), "{text}");
    let dir = common::lib_dir();
    assert_eq!(std::fs::read_link(dir.join("libodbc.so")).unwrap(), Path::new("libodbc.so.2"));
    assert!(dir.join("libodbc.so.2").exists());
}
