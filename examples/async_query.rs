//! Asynchronous execution through odbc-dm, as shown in the README:
//!
//!     bash drivers-under-test/setup.sh      # builds the reference driver, installs drivers
//!     cargo run --example async_query
//!
//! 1. The safe API (`AsyncConnection`, `AsyncStatement`): connect, execute with
//!    parameters, fetch and get-data as futures, run here with `pollster` (any executor
//!    works: the futures are `Send` and need no particular runtime). Against the reference
//!    driver (native notification, §2) and SQLite's ODBC driver (emulated by the DM).
//! 2. The raw, ODBC-shaped layer in notification mode: `SQL_ATTR_ASYNC_ENABLE` plus
//!    `SQL_ATTR_ASYNC_STMT_EVENT`, a call that returns `SQL_STILL_EXECUTING`, a wait on
//!    the event, `SQLCompleteAsync`. SQLite's driver needs `AsyncEmulation=Yes` for that.

use std::path::PathBuf;
use std::ptr::null_mut;
use std::time::Duration;

use odbc_dm::abi::*;
use odbc_dm::api::{AsyncConnection, Environment};
use odbc_dm::raw::*;
use odbc_dm::AsyncEvent;

type BoxError = Box<dyn std::error::Error>;

/// The README's safe-API example.
async fn safe_api(env: &Environment, conn_str: &str) -> odbc_dm::api::Result<()> {
    let conn = AsyncConnection::connect(env, conn_str).await?;
    let mut st = conn.statement()?;
    if st.execute_with("SELECT ? * 2, ?", (21, "async")).await? {
        while st.fetch().await? {
            let n: i64 = st.get_data(1).await?;
            let s: String = st.get_data(2).await?;
            println!("  {n} {s} (emulated by the DM: {})", st.is_emulated());
        }
    }
    drop(st);
    conn.disconnect().await
}

fn check(rc: SqlReturn, what: &str) -> Result<(), BoxError> {
    if rc.is_success() {
        Ok(())
    } else {
        Err(format!("{what} returned {rc:?}").into())
    }
}

/// The README's raw notification-mode example, with the handles around it.
fn raw_notification(conn_str: &str) -> Result<(), BoxError> {
    let (mut env, mut dbc, mut stmt) = (null_mut(), null_mut(), null_mut());
    // SAFETY: valid out pointers; each handle is used only after its allocation succeeded,
    // the strings outlive the calls that read them, and the handles are freed at the end.
    unsafe {
        check(SQLAllocHandle(HandleType::SQL_HANDLE_ENV, null_mut(), &mut env), "SQLAllocHandle(ENV)")?;
        check(SQLSetEnvAttr(env, EnvAttr::SQL_ATTR_ODBC_VERSION, SQL_OV_ODBC3_80 as SqlPointer, 0), "SQLSetEnvAttr")?;
        check(SQLAllocHandle(HandleType::SQL_HANDLE_DBC, env, &mut dbc), "SQLAllocHandle(DBC)")?;
        let mut out_len = 0i16;
        let rc = SQLDriverConnect(
            dbc,
            null_mut(),
            conn_str.as_ptr(),
            conn_str.len() as i16,
            null_mut(),
            0,
            &mut out_len,
            DriverCompletion::SQL_DRIVER_NOPROMPT,
        );
        check(rc, "SQLDriverConnect")?;
        check(SQLAllocHandle(HandleType::SQL_HANDLE_STMT, dbc, &mut stmt), "SQLAllocHandle(STMT)")?;

        // --- the README's eight lines ---
        let ev = AsyncEvent::new()?;
        SQLSetStmtAttr(stmt, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_ON as SqlPointer, 0);
        SQLSetStmtAttr(stmt, StmtAttr::SQL_ATTR_ASYNC_STMT_EVENT, ev.as_attr(), 0);
        let sql = "SELECT 6 * 7";
        assert_eq!(SQLExecDirect(stmt, sql.as_ptr(), sql.len() as i32), SqlReturn::SQL_STILL_EXECUTING);
        assert!(ev.wait_timeout(Duration::from_secs(5))); // or epoll/poll on ev.raw_fd()
        let mut rc: RetCode = 0;
        assert_eq!(SQLCompleteAsync(HandleType::SQL_HANDLE_STMT, stmt, &mut rc), SqlReturn::SQL_SUCCESS);
        // --- rc is SQLExecDirect's own return code ---
        let exec_rc = SqlReturn(rc);
        check(exec_rc, "SQLExecDirect (completed)")?;

        // Back to synchronous calls to read the row.
        SQLSetStmtAttr(stmt, StmtAttr::SQL_ATTR_ASYNC_STMT_EVENT, null_mut(), 0);
        SQLSetStmtAttr(stmt, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_OFF as SqlPointer, 0);
        check(SQLFetch(stmt), "SQLFetch")?;
        let mut v = 0i64;
        let rc = SQLGetData(stmt, 1, CDataType::SQL_C_SBIGINT, (&mut v as *mut i64).cast(), 8, null_mut());
        check(rc, "SQLGetData")?;
        println!("  SQLExecDirect completed with {exec_rc:?}; value {v}");

        SQLFreeHandle(HandleType::SQL_HANDLE_STMT, stmt);
        SQLDisconnect(dbc);
        SQLFreeHandle(HandleType::SQL_HANDLE_DBC, dbc);
        SQLFreeHandle(HandleType::SQL_HANDLE_ENV, env);
    }
    Ok(())
}

/// `target/<profile>/libodbc_refdriver.so`, next to this example's directory.
fn refdriver() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let p = exe.parent()?.parent()?.join("libodbc_refdriver.so");
    p.exists().then_some(p)
}

fn main() -> Result<(), BoxError> {
    let sqlite_so = "/usr/lib/x86_64-linux-gnu/odbc/libsqlite3odbc.so";
    let db = std::env::temp_dir().join(format!("odbc-dm-async-example-{}.db", std::process::id()));
    let sqlite = format!("DRIVER={sqlite_so};Database={}", db.display());
    let mut targets: Vec<(&str, String)> = Vec::new();
    match refdriver() {
        Some(p) => targets.push(("reference driver", format!("DRIVER={};Database=:memory:;Steps=3", p.display()))),
        None => eprintln!("libodbc_refdriver.so not built: run `bash drivers-under-test/setup.sh` (skipping it)"),
    }
    if std::path::Path::new(sqlite_so).exists() {
        targets.push(("sqlite", sqlite));
    } else {
        eprintln!("{sqlite_so} missing: install libsqliteodbc (skipping it)");
    }

    let env = Environment::new()?;
    for (name, cs) in &targets {
        println!("{name}, safe API:");
        pollster::block_on(safe_api(&env, cs))?;
    }
    for (name, cs) in &targets {
        // A sync-only driver gets notification mode from the DM's emulation.
        let cs = if *name == "sqlite" { format!("{cs};AsyncEmulation=Yes") } else { cs.clone() };
        println!("{name}, raw notification mode:");
        raw_notification(&cs)?;
    }
    let _ = std::fs::remove_file(&db);
    Ok(())
}
