//! Shared set-up for the integration tests: the private ODBC configuration written by
//! `drivers-under-test/setup.sh`, the real drivers on this machine, and skips for drivers
//! and servers that are missing: counted and shown outside the test command, failures in
//! it ([`skip`]).
#![allow(dead_code)]

use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::Once;
use std::time::Duration;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Points ODBCSYSINI/ODBCINI at target/odbc-test (written by setup.sh). Call first in
/// every test that reads configuration; all tests of a binary share the same values.
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = env_logger::builder().is_test(true).try_init();
        let dir = root().join("target/odbc-test");
        assert!(
            dir.join("odbcinst.ini").exists(),
            "{} is missing: run `bash drivers-under-test/setup.sh` (the test command does)",
            dir.display()
        );
        // SAFETY-free: std::env::set_var is safe in edition 2021; done once, before any
        // test of this binary reads the variables.
        std::env::set_var("ODBCSYSINI", &dir);
        std::env::set_var("ODBCINI", dir.join("odbc.ini"));
    });
}

/// Absolute path of a Debian driver.
pub fn debian_driver(file: &str) -> PathBuf {
    PathBuf::from("/usr/lib/x86_64-linux-gnu/odbc").join(file)
}

/// The reference driver built by setup.sh / cargo: the newer of
/// `target/<profile>/libodbc_refdriver.so` (cargo build) and `.../deps/` (cargo test only
/// refreshes that one).
pub fn refdriver_path() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("deps dir");
    let dir = deps.parent().expect("target dir");
    let candidates = [dir.join("libodbc_refdriver.so"), deps.join("libodbc_refdriver.so")];
    let newest = candidates
        .iter()
        .filter_map(|p| p.metadata().and_then(|m| m.modified()).ok().map(|t| (t, p.clone())))
        .max_by_key(|(t, _)| *t)
        .map(|(_, p)| p);
    newest.unwrap_or_else(|| panic!("libodbc_refdriver.so not built: run `cargo build -p odbc-refdriver` (setup.sh does)"))
}

/// Connection string for the reference driver by absolute path.
pub fn refdriver_conn_str(extra: &str) -> String {
    format!("DRIVER={};Database=:memory:;{extra}", refdriver_path().display())
}

/// A fresh SQLite database file under target/tmp.
pub fn temp_db(name: &str) -> PathBuf {
    let dir = root().join("target/tmp");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{name}-{}-{:?}.db", std::process::id(), std::thread::current().id()).replace(['(', ')'], ""));
    let _ = std::fs::remove_file(&p);
    p
}

/// Connection string for libsqlite3odbc (narrow driver) by absolute path.
pub fn sqlite_conn_str(db: &std::path::Path) -> String {
    format!("DRIVER={};Database={};StepAPI=1", debian_driver("libsqlite3odbc.so").display(), db.display())
}

pub fn reachable(port: u16) -> bool {
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500)).is_ok()
}

/// Whether a missing driver or server is a failure (the test command,
/// drivers-under-test/test.sh, sets `ODBC_DM_REQUIRE_SERVERS=1`: it installs the drivers
/// and starts the servers, so there a missing one is a defect, not a skip).
pub fn servers_required() -> bool {
    std::env::var_os("ODBC_DM_REQUIRE_SERVERS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Where skips are counted: one line per skipped test (test.sh sums them in its summary).
pub fn skips_log() -> PathBuf {
    std::env::var_os("ODBC_DM_SKIPS_LOG").map(PathBuf::from).unwrap_or_else(|| root().join("target/odbc-test/skips.log"))
}

/// `test` cannot run because `reason` (a driver or server is missing). Under
/// `ODBC_DM_REQUIRE_SERVERS` this panics with the reason (the test fails); otherwise it
/// writes `SKIPPED …` straight to the process's stderr (not through `eprintln!`, which the
/// test harness captures and hides for a passing test) and appends a line to
/// [`skips_log`]. The caller then returns: the test is counted as skipped, not as a pass
/// that checked something.
#[track_caller]
pub fn skip(test: &str, reason: &str) {
    let line = format!("SKIPPED {test}: {reason}");
    if servers_required() {
        panic!("{line} (ODBC_DM_REQUIRE_SERVERS is set: in the test command a missing driver or server is a failure)");
    }
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
    let log = skips_log();
    if let Some(dir) = log.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(&log) {
        let _ = writeln!(f, "{line}");
    }
}

/// `Some(())` when the driver library exists, else [`skip`] (a failure in the test command).
pub fn require_driver(test: &str, path: &std::path::Path) -> Option<()> {
    if path.exists() {
        Some(())
    } else {
        skip(test, &format!("driver {} not installed", path.display()));
        None
    }
}

/// `Some(())` when the driver exists and its server answers on 127.0.0.1:`port`, else [`skip`].
fn require_server(test: &str, driver: &str, server: &str, port: u16) -> Option<()> {
    require_driver(test, &debian_driver(driver))?;
    if reachable(port) {
        Some(())
    } else {
        skip(test, &format!("{server} not reachable on 127.0.0.1:{port}"));
        None
    }
}

/// psqlODBC (wide) connection string, or `None` after [`skip`] (a failure in the test command).
#[track_caller]
pub fn postgres_conn_str(test: &str) -> Option<String> {
    require_server(test, "psqlodbcw.so", "PostgreSQL", 5432)?;
    Some(format!(
        "DRIVER={};Servername=127.0.0.1;Port=5432;Database=test;Username=postgres;CommLog=0;Debug=0",
        debian_driver("psqlodbcw.so").display()
    ))
}

/// MariaDB Connector/ODBC connection string, or `None` after [`skip`] (a failure in the
/// test command).
#[track_caller]
pub fn mariadb_conn_str(test: &str) -> Option<String> {
    require_server(test, "libmaodbc.so", "MariaDB", 3306)?;
    Some(format!("DRIVER={};Server=127.0.0.1;Port=3306;Database=test;User=root;Password=", debian_driver("libmaodbc.so").display()))
}

/// A table name unique to this process and test, so parallel tests never collide.
pub fn unique_table(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!("{prefix}_{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// Connection string for libsqlite3odbc by its odbcinst.ini name (`[SQLite3]`).
pub fn sqlite_conn_str_by_name(db: &std::path::Path) -> String {
    format!("DRIVER={{SQLite3}};Database={};StepAPI=1", db.display())
}

/// The PostgreSQL user setup.sh found (the `Username` of `[pg-test]` in odbc.ini).
pub fn pg_user() -> String {
    let ini = std::fs::read_to_string(root().join("target/odbc-test/odbc.ini")).unwrap_or_default();
    let mut in_pg = false;
    for line in ini.lines() {
        let l = line.trim();
        if l.starts_with('[') {
            in_pg = l == "[pg-test]";
        } else if in_pg {
            if let Some(v) = l.strip_prefix("Username") {
                return v.trim_start().trim_start_matches('=').trim().to_string();
            }
        }
    }
    "postgres".into()
}

/// Raw-layer helpers shared by the driver, Unicode, concurrency and tracing tests.
/// Handles are raw pointers; cast them to `usize` to cross threads (§3.1).
pub mod rawh {
    use odbc_dm::abi::*;
    use odbc_dm::raw::*;
    use std::ptr::null_mut;

    pub type H = SqlHandle;

    /// One diagnostic record.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Rec {
        pub state: String,
        pub native: i32,
        pub message: String,
    }

    /// Every diagnostic record of a handle, read through the DM (SQLGetDiagRec, UTF-8).
    pub fn diag_recs(ht: HandleType, h: H) -> Vec<Rec> {
        let mut out = Vec::new();
        for i in 1..=50i16 {
            let mut st = [0u8; 6];
            let mut native = 0;
            let mut msg = vec![0u8; 4096];
            let mut len = 0i16;
            // SAFETY: buffers of the sizes passed.
            let rc = unsafe { SQLGetDiagRec(ht, h, i, st.as_mut_ptr(), &mut native, msg.as_mut_ptr(), msg.len() as i16, &mut len) };
            if !rc.is_success() {
                break;
            }
            let n = (len.max(0) as usize).min(msg.len() - 1);
            out.push(Rec { state: String::from_utf8_lossy(&st[..5]).into(), native, message: String::from_utf8_lossy(&msg[..n]).into() });
        }
        out
    }

    pub fn diag_text(ht: HandleType, h: H) -> String {
        diag_recs(ht, h).iter().map(|r| format!("[{}] ({}) {}", r.state, r.native, r.message)).collect::<Vec<_>>().join(" | ")
    }

    /// Panics with the handle's diagnostics unless `rc` is SUCCESS or SUCCESS_WITH_INFO.
    #[track_caller]
    pub fn ok(rc: SqlReturn, ht: HandleType, h: H, what: &str) {
        assert!(rc.is_success(), "{what}: {rc:?} {}", diag_text(ht, h));
    }

    #[track_caller]
    pub fn ok_stmt(rc: SqlReturn, s: H, what: &str) {
        ok(rc, HandleType::SQL_HANDLE_STMT, s, what)
    }

    /// A new environment with SQL_ATTR_ODBC_VERSION = 3.
    pub fn env() -> H {
        let mut env = null_mut();
        // SAFETY: valid out pointer; the version is passed by value.
        unsafe {
            assert_eq!(SQLAllocHandle(HandleType::SQL_HANDLE_ENV, null_mut(), &mut env), SqlReturn::SQL_SUCCESS);
            assert_eq!(SQLSetEnvAttr(env, EnvAttr::SQL_ATTR_ODBC_VERSION, SQL_OV_ODBC3 as usize as SqlPointer, 0), SqlReturn::SQL_SUCCESS);
        }
        env
    }

    /// Allocates a connection on `env` and connects it with SQLDriverConnect (A); on
    /// failure frees it and returns the diagnostics.
    pub fn try_connect(env: H, cs: &str) -> Result<H, String> {
        let mut dbc = null_mut();
        // SAFETY: live env, valid out pointer.
        assert_eq!(unsafe { SQLAllocHandle(HandleType::SQL_HANDLE_DBC, env, &mut dbc) }, SqlReturn::SQL_SUCCESS);
        // SAFETY: live dbc; the string outlives the call.
        let rc = unsafe {
            SQLDriverConnect(
                dbc,
                null_mut(),
                cs.as_ptr(),
                cs.len() as i16,
                null_mut(),
                0,
                null_mut(),
                DriverCompletion::SQL_DRIVER_NOPROMPT,
            )
        };
        if rc.is_success() {
            Ok(dbc)
        } else {
            let d = diag_text(HandleType::SQL_HANDLE_DBC, dbc);
            // SAFETY: live, unconnected dbc.
            unsafe { SQLFreeHandle(HandleType::SQL_HANDLE_DBC, dbc) };
            Err(format!("{rc:?} {d}"))
        }
    }

    /// A connected (env, dbc) pair; panics with the diagnostics on failure.
    #[track_caller]
    pub fn connect(cs: &str) -> (H, H) {
        let env = env();
        let dbc = try_connect(env, cs).unwrap_or_else(|e| panic!("connect failed: {e}"));
        (env, dbc)
    }

    /// Disconnects (rolling back an open transaction first) and frees dbc and env.
    pub fn disconnect(env: H, dbc: H) {
        // SAFETY: live handles owned by the caller.
        unsafe {
            let rc = SQLDisconnect(dbc);
            if !rc.is_success() {
                SQLEndTran(HandleType::SQL_HANDLE_DBC, dbc, CompletionType::SQL_ROLLBACK);
                let rc = SQLDisconnect(dbc);
                assert!(rc.is_success(), "SQLDisconnect: {rc:?} {}", diag_text(HandleType::SQL_HANDLE_DBC, dbc));
            }
            assert_eq!(SQLFreeHandle(HandleType::SQL_HANDLE_DBC, dbc), SqlReturn::SQL_SUCCESS);
            assert_eq!(SQLFreeHandle(HandleType::SQL_HANDLE_ENV, env), SqlReturn::SQL_SUCCESS);
        }
    }

    pub fn stmt(dbc: H) -> H {
        let mut s = null_mut();
        // SAFETY: live dbc, valid out pointer.
        let rc = unsafe { SQLAllocHandle(HandleType::SQL_HANDLE_STMT, dbc, &mut s) };
        ok(rc, HandleType::SQL_HANDLE_DBC, dbc, "SQLAllocHandle(STMT)");
        s
    }

    /// SQLSetStmtAttr with an integer value.
    pub fn set_stmt_attr(s: H, attr: StmtAttr, v: usize) -> SqlReturn {
        // SAFETY: live statement; an integer attribute travels in the pointer itself.
        unsafe { SQLSetStmtAttr(s, attr, v as SqlPointer, 0) }
    }

    /// SQLCompleteAsync: (its return, *AsyncRetCodePtr).
    pub fn complete_async(ht: HandleType, h: H) -> (SqlReturn, SqlReturn) {
        let mut rc: RetCode = -99;
        // SAFETY: live handle, valid out pointer.
        let r = unsafe { SQLCompleteAsync(ht, h, &mut rc) };
        (r, SqlReturn(rc))
    }

    /// Repeats `f` while it returns SQL_STILL_EXECUTING (polling, §1.7), sleeping 1 ms
    /// between calls: the final code and how many times it was still executing.
    pub fn poll(mut f: impl FnMut() -> SqlReturn) -> (SqlReturn, usize) {
        let mut n = 0;
        loop {
            let r = f();
            if r != SqlReturn::SQL_STILL_EXECUTING {
                return (r, n);
            }
            n += 1;
            assert!(n < 100_000, "never completed");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    pub fn free_stmt(s: H) {
        // SAFETY: live statement.
        assert_eq!(unsafe { SQLFreeHandle(HandleType::SQL_HANDLE_STMT, s) }, SqlReturn::SQL_SUCCESS);
    }

    pub fn close(s: H) {
        // SAFETY: live statement.
        unsafe { SQLFreeStmt(s, FreeStmtOption::SQL_CLOSE) };
    }

    /// SQLExecDirect (A) returning the code.
    pub fn exec_rc(s: H, sql: &str) -> SqlReturn {
        // SAFETY: live statement; the text outlives the call.
        unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) }
    }

    /// SQLExecDirect (A) that must succeed (or find no rows), then closes any cursor.
    #[track_caller]
    pub fn exec(s: H, sql: &str) {
        let rc = exec_rc(s, sql);
        assert!(rc.is_success() || rc == SqlReturn::SQL_NO_DATA, "{sql}: {rc:?} {}", diag_text(HandleType::SQL_HANDLE_STMT, s));
        close(s);
    }

    /// Runs one statement on a fresh statement handle of `dbc`.
    #[track_caller]
    pub fn exec_on(dbc: H, sql: &str) {
        let s = stmt(dbc);
        exec(s, sql);
        free_stmt(s);
    }

    /// Reads column `col` of the current row in full as SQL_C_CHAR (UTF-8) with
    /// SQLGetData, in pieces; None for NULL.
    #[track_caller]
    pub fn get_text(s: H, col: u16) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 4096];
        loop {
            let mut ind: SqlLen = 0;
            // SAFETY: live statement; buffer of the length passed.
            let rc = unsafe { SQLGetData(s, col, CDataType::SQL_C_CHAR, buf.as_mut_ptr().cast(), buf.len() as SqlLen, &mut ind) };
            if rc == SqlReturn::SQL_NO_DATA {
                return Some(out);
            }
            ok_stmt(rc, s, "SQLGetData(SQL_C_CHAR)");
            if ind == SQL_NULL_DATA {
                return None;
            }
            let piece = if ind == SQL_NO_TOTAL || ind as usize >= buf.len() { buf.len() - 1 } else { ind as usize };
            out.extend_from_slice(&buf[..piece]);
            if rc == SqlReturn::SQL_SUCCESS {
                return Some(out);
            }
        }
    }

    /// Reads column `col` in full as SQL_C_WCHAR (UTF-16) with SQLGetData; None for NULL.
    #[track_caller]
    pub fn get_wtext(s: H, col: u16) -> Option<Vec<u16>> {
        let mut out = Vec::new();
        let mut buf = vec![0u16; 2048];
        loop {
            let mut ind: SqlLen = 0;
            // SAFETY: live statement; buffer of the byte length passed.
            let rc = unsafe { SQLGetData(s, col, CDataType::SQL_C_WCHAR, buf.as_mut_ptr().cast(), (buf.len() * 2) as SqlLen, &mut ind) };
            if rc == SqlReturn::SQL_NO_DATA {
                return Some(out);
            }
            ok_stmt(rc, s, "SQLGetData(SQL_C_WCHAR)");
            if ind == SQL_NULL_DATA {
                return None;
            }
            let piece = if ind == SQL_NO_TOTAL || ind as usize >= buf.len() * 2 { buf.len() - 1 } else { ind as usize / 2 };
            out.extend_from_slice(&buf[..piece]);
            if rc == SqlReturn::SQL_SUCCESS {
                return Some(out);
            }
        }
    }

    /// All rows of the current result set, every column read as text with SQLGetData.
    #[track_caller]
    pub fn fetch_all_text(s: H) -> Vec<Vec<Option<String>>> {
        let mut ncols = 0i16;
        // SAFETY: live statement, valid out pointer.
        ok_stmt(unsafe { SQLNumResultCols(s, &mut ncols) }, s, "SQLNumResultCols");
        let mut rows = Vec::new();
        loop {
            // SAFETY: live statement.
            let rc = unsafe { SQLFetch(s) };
            if rc == SqlReturn::SQL_NO_DATA {
                break;
            }
            ok_stmt(rc, s, "SQLFetch");
            rows.push((1..=ncols as u16).map(|c| get_text(s, c).map(|b| String::from_utf8_lossy(&b).into_owned())).collect());
        }
        close(s);
        rows
    }

    /// Runs a query on a fresh statement of `dbc` and returns every row as text.
    #[track_caller]
    pub fn query(dbc: H, sql: &str) -> Vec<Vec<Option<String>>> {
        let s = stmt(dbc);
        let rc = exec_rc(s, sql);
        ok_stmt(rc, s, sql);
        let rows = fetch_all_text(s);
        free_stmt(s);
        rows
    }

    /// Single integer result of a query (first column of the first row).
    #[track_caller]
    pub fn query_i64(dbc: H, sql: &str) -> i64 {
        let rows = query(dbc, sql);
        rows[0][0].as_deref().expect("NULL").trim().parse().unwrap_or_else(|e| panic!("{sql}: {e}: {rows:?}"))
    }

    /// Sets SQL_ATTR_AUTOCOMMIT through the DM (SQLSetConnectAttr).
    #[track_caller]
    pub fn set_autocommit(dbc: H, on: bool) {
        let v = if on { SQL_AUTOCOMMIT_ON } else { SQL_AUTOCOMMIT_OFF };
        // SAFETY: live dbc; integer attribute passed by value.
        let rc = unsafe { SQLSetConnectAttr(dbc, ConnAttr::SQL_ATTR_AUTOCOMMIT, v as SqlPointer, SQL_IS_UINTEGER) };
        ok(rc, HandleType::SQL_HANDLE_DBC, dbc, &format!("SQLSetConnectAttr(AUTOCOMMIT={on})"));
    }

    /// SQLEndTran(DBC) through the DM; must succeed.
    #[track_caller]
    pub fn end_tran(dbc: H, commit: bool) {
        let c = if commit { CompletionType::SQL_COMMIT } else { CompletionType::SQL_ROLLBACK };
        // SAFETY: live dbc.
        let rc = unsafe { SQLEndTran(HandleType::SQL_HANDLE_DBC, dbc, c) };
        ok(rc, HandleType::SQL_HANDLE_DBC, dbc, "SQLEndTran");
    }

    /// The "plain reading" of a driver error, without the DM in between: loads the driver
    /// library, connects with its own SQLAllocHandle/SQLDriverConnect, runs `sql` with its
    /// SQLExecDirect and returns the driver's first diagnostic record from its own
    /// SQLGetDiagRec (W form when exported, as the DM uses). Some drivers (libsqlite3odbc)
    /// hand a record out only once, so the DM's copy cannot be compared with a second
    /// reading of the same handle.
    pub fn plain_driver_error(driver_path: &std::path::Path, conn_str: &str, sql: &str) -> Rec {
        // SAFETY: `driver_path` names one of the ODBC drivers under test.
        let drv = unsafe { odbc_dm::internals::driver::load_driver(driver_path) }.expect("load driver");
        let f = &drv.exported;
        let (alloc, connect_w, connect_a) = (f.SQLAllocHandle.expect("SQLAllocHandle"), f.SQLDriverConnectW, f.SQLDriverConnect);
        let (mut env, mut dbc, mut st) = (null_mut(), null_mut(), null_mut());
        // SAFETY: the driver's own handles, used only here, in order; buffers valid for the
        // sizes passed; strings outlive the calls.
        unsafe {
            assert!(alloc(HandleType::SQL_HANDLE_ENV, null_mut(), &mut env).is_success());
            f.SQLSetEnvAttr.expect("SQLSetEnvAttr")(env, EnvAttr::SQL_ATTR_ODBC_VERSION, SQL_OV_ODBC3 as usize as SqlPointer, 0);
            assert!(alloc(HandleType::SQL_HANDLE_DBC, env, &mut dbc).is_success());
            let mut out = 0i16;
            let rc = if let Some(c) = connect_w {
                let w: Vec<u16> = conn_str.encode_utf16().collect();
                c(dbc, null_mut(), w.as_ptr(), w.len() as i16, null_mut(), 0, &mut out, DriverCompletion::SQL_DRIVER_NOPROMPT)
            } else {
                connect_a.expect("SQLDriverConnect")(
                    dbc,
                    null_mut(),
                    conn_str.as_ptr(),
                    conn_str.len() as i16,
                    null_mut(),
                    0,
                    &mut out,
                    DriverCompletion::SQL_DRIVER_NOPROMPT,
                )
            };
            assert!(rc.is_success(), "plain driver connect: {rc:?}");
            assert!(alloc(HandleType::SQL_HANDLE_STMT, dbc, &mut st).is_success());
            let rc = if let Some(e) = f.SQLExecDirectW {
                let w: Vec<u16> = sql.encode_utf16().collect();
                e(st, w.as_ptr(), w.len() as i32)
            } else {
                f.SQLExecDirect.expect("SQLExecDirect")(st, sql.as_ptr(), sql.len() as i32)
            };
            assert_eq!(rc, SqlReturn::SQL_ERROR, "plain driver: {sql} fails");
            let mut native = 0;
            let mut len = 0i16;
            let rec = if let Some(g) = f.SQLGetDiagRecW {
                let mut state = [0u16; 6];
                let mut msg = vec![0u16; 4096];
                assert!(g(
                    HandleType::SQL_HANDLE_STMT,
                    st,
                    1,
                    state.as_mut_ptr(),
                    &mut native,
                    msg.as_mut_ptr(),
                    msg.len() as i16,
                    &mut len
                )
                .is_success());
                let n = (len.max(0) as usize).min(msg.len() - 1);
                Rec { state: String::from_utf16_lossy(&state[..5]), native, message: String::from_utf16_lossy(&msg[..n]) }
            } else {
                let g = f.SQLGetDiagRec.expect("SQLGetDiagRec");
                let mut state = [0u8; 6];
                let mut msg = vec![0u8; 4096];
                assert!(g(
                    HandleType::SQL_HANDLE_STMT,
                    st,
                    1,
                    state.as_mut_ptr(),
                    &mut native,
                    msg.as_mut_ptr(),
                    msg.len() as i16,
                    &mut len
                )
                .is_success());
                let n = (len.max(0) as usize).min(msg.len() - 1);
                Rec { state: String::from_utf8_lossy(&state[..5]).into(), native, message: String::from_utf8_lossy(&msg[..n]).into() }
            };
            let free = f.SQLFreeHandle.expect("SQLFreeHandle");
            free(HandleType::SQL_HANDLE_STMT, st);
            f.SQLDisconnect.expect("SQLDisconnect")(dbc);
            free(HandleType::SQL_HANDLE_DBC, dbc);
            free(HandleType::SQL_HANDLE_ENV, env);
            rec
        }
    }

    /// Drops a table, ignoring errors (best-effort clean-up).
    pub fn drop_table(dbc: H, table: &str) {
        let s = stmt(dbc);
        let _ = exec_rc(s, &format!("DROP TABLE {table}"));
        free_stmt(s);
    }
}
