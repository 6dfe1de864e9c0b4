//! Explicit descriptors and the need-data states through odbc-dm's libodbc.so.2
//! (capi/tests/c/desc_need_data_app.c), on psqlODBC, MariaDB, libsqlite3odbc and the
//! reference driver — the two defects a differential test against unixODBC found:
//! - SQLFreeHandle(SQL_HANDLE_DESC) of an explicit ARD (SQLFreeHandle, SQLSetStmtAttr
//!   SQL_ATTR_APP_ROW_DESC: the statement reverts to its implicit descriptor): on psqlODBC
//!   the DM handed out the freed driver handle, made the implicit ARD handle invalid, and
//!   the next SQLBindCol read freed memory (SIGSEGV);
//! - S8 (§4.5, §4.7, Appendix B): SQLGet/SetStmtAttr, SQLFreeStmt(SQL_DROP),
//!   SQLFreeHandle(STMT) and the descriptor functions on the statement's APD are (HY010);
//!   they reached the driver (libmaodbc's SQLGetDescRecW crashed on null outputs).

mod common;

fn exe() -> std::path::PathBuf {
    static EXE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    EXE.get_or_init(|| {
        let exe = common::scratch("desc-need-data-app").join("desc_need_data_app");
        common::compile_c(&common::root().join("capi/tests/c/desc_need_data_app.c"), &exe);
        exe
    })
    .clone()
}

/// Runs the program; panics on a crash, a FAIL line or a missing end line. Returns stdout.
fn run(args: &[&str]) -> String {
    let out = common::command(exe()).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{args:?}: {} (a crash is the defect)\n{stdout}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    assert!(!stdout.contains(" FAIL "), "{args:?}:\n{stdout}");
    assert!(stdout.contains("end fails=0"), "{args:?}:\n{stdout}");
    stdout
}

#[test]
fn sqlfreehandle_desc_explicit_ard_reverts_to_the_implicit_one_on_every_driver() {
    if common::server_up(5432, "sqlfreehandle_desc_explicit_ard (PostgreSQL)") {
        let out = run(&["desc", "pg-test"]);
        assert!(out.contains("check fetch-after-free ok"), "{out}");
    }
    if common::server_up(3306, "sqlfreehandle_desc_explicit_ard (MariaDB)") {
        let out = run(&["desc", "maria-test"]);
        assert!(out.contains("check null-reverts-to-implicit ok"), "{out}");
    }
    // No explicit descriptors: the implicit ARD keeps working.
    for dsn in ["sqlite-test", "ref-test"] {
        let out = run(&["desc", dsn]);
        assert!(out.contains("noexplicit") && out.contains("check fetch-implicit ok"), "{dsn}: {out}");
    }
}

#[test]
fn s4_5_s4_7_need_data_s8_refuses_stmt_attrs_frees_and_descriptor_calls() {
    if common::server_up(5432, "s4_5_s4_7_need_data (PostgreSQL)") {
        run(&["needdata", "pg-test"]);
    }
    if common::server_up(3306, "s4_5_s4_7_need_data (MariaDB)") {
        run(&["needdata", "maria-test", "select cast(? as char(20))"]);
    }
    run(&["needdata", "sqlite-test", "select ?"]);
    run(&["needdata", "ref-test"]);
}
