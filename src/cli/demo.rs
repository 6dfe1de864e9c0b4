//! `demo`: the main job on the embedded default — our reference driver and SQLite's ODBC
//! driver, no server — synchronously, asynchronously (polling), on several threads, and
//! cancelled from another thread.

use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use odbc_dm::abi::*;
use odbc_dm::api::{Connection, DiagRecord, Environment, Error};
use odbc_dm::raw;

use super::output::{is_numeric, print_error, read_table, record_line, Table};

/// SQLite's ODBC driver (Debian package libsqliteodbc): narrow entry points only.
const SQLITE_DRIVER: &str = "/usr/lib/x86_64-linux-gnu/odbc/libsqlite3odbc.so";
const REFDRIVER_FILE: &str = "libodbc_refdriver.so";
/// Pause between two polls of an asynchronous call.
const POLL_PAUSE: Duration = Duration::from_millis(5);
/// A polled call still running after this long is cancelled (SQLCancel), then polled to
/// its end.
const POLL_LIMIT: Duration = Duration::from_secs(30);

/// Text values bound as parameters: ASCII, Latin-1 range, CJK, and a non-BMP emoji.
const ROWS: [(i32, &str, &str, Option<f64>); 4] = [
    (1, "English", "hello", Some(1.5)),
    (2, "Français", "café, é", Some(2.25)),
    (3, "中文", "你好, 中文", Some(3.0)),
    (4, "Emoji", "😀 smile", None),
];

pub fn demo() -> i32 {
    let (sqlite, refdriver) = match locate_drivers() {
        Ok(p) => p,
        Err(msg) => {
            eprintln!("odbc-dm demo: {msg}");
            eprintln!("Run `bash drivers-under-test/setup.sh` first (it installs libsqliteodbc and builds the reference driver).");
            return 1;
        }
    };
    let env = match Environment::new() {
        Ok(e) => e,
        Err(e) => {
            print_error(&e);
            return 1;
        }
    };
    let sqlite_db = std::env::temp_dir().join(format!("odbc-dm-demo-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&sqlite_db);
    let sqlite_cs = format!("DRIVER={};Database={}", sqlite.display(), sqlite_db.display());
    let ref_cs = format!("DRIVER={};Database=:memory:", refdriver.display());

    let mut failures = 0;
    let mut section = |title: &str, r: Result<(), Error>| {
        if let Err(e) = r {
            println!("  FAILED:");
            for line in error_lines(&e) {
                println!("    {line}");
            }
            eprintln!("odbc-dm demo: section `{title}` failed");
            failures += 1;
        }
        println!();
    };

    println!("== Drivers ==");
    let conns = connect_both(&env, &sqlite, &sqlite_cs, &refdriver, &ref_cs);
    let (sqlite_conn, ref_conn) = match conns {
        Ok(c) => c,
        Err(e) => {
            section("Drivers", Err(e));
            let _ = std::fs::remove_file(&sqlite_db);
            return 1;
        }
    };
    println!();

    println!("== SQLite via libsqlite3odbc (narrow driver: the DM calls its A entry points with UTF-8) ==");
    println!("  database: {}", sqlite_db.display());
    section("SQLite", roundtrip(&sqlite_conn));
    drop(sqlite_conn);
    let _ = std::fs::remove_file(&sqlite_db);

    println!("== Reference driver (Unicode-only: the DM converts the A calls to W / UTF-16) ==");
    println!("  database: :memory:");
    section("Reference driver", roundtrip(&ref_conn));
    drop(ref_conn);

    println!("== Async polling (reference driver, Steps=3;Delay=20) ==");
    section("Async", async_polling(&env, &format!("{ref_cs};Steps=3;Delay=20")));

    println!("== Async notification (reference driver, Steps=3): futures, re-invoked by the DM's dispatcher ==");
    section("Notification", super::demo_async::notification(&env, &format!("{ref_cs};Steps=3")));

    println!("== Async emulation (SQLite has no async; AsyncEmulation=Yes) ==");
    let emu_db = std::env::temp_dir().join(format!("odbc-dm-demo-emu-{}.db", std::process::id()));
    section("Emulation", super::demo_async::emulation(&env, &format!("DRIVER={};Database={}", sqlite.display(), emu_db.display())));
    let _ = std::fs::remove_file(&emu_db);

    println!("== Four queries on four threads (one connection each) ==");
    section("Threads", concurrent(&env, &ref_cs));

    println!("== Cross-thread cancel ==");
    section("Cancel", cancel(&env, &ref_cs));

    if failures > 0 {
        println!("demo: {failures} section(s) failed");
        1
    } else {
        println!("demo: done");
        0
    }
}

/// The reference driver next to the running executable (its dir, and `deps/`; the newest
/// wins) and SQLite's driver.
fn locate_drivers() -> Result<(PathBuf, PathBuf), String> {
    let sqlite = PathBuf::from(SQLITE_DRIVER);
    let exe = std::env::current_exe().map_err(|e| format!("cannot locate the running executable: {e}"))?;
    let dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    // On equal times the last candidate wins: prefer the file cargo build puts beside the binary.
    let candidates = [dir.join("deps").join(REFDRIVER_FILE), dir.join(REFDRIVER_FILE)];
    let refdriver = candidates
        .iter()
        .filter_map(|p| p.metadata().and_then(|m| m.modified()).ok().map(|t| (t, p.clone())))
        .max_by_key(|(t, _)| *t)
        .map(|(_, p)| p);
    let mut missing = Vec::new();
    if !sqlite.exists() {
        missing.push(format!("SQLite's ODBC driver {SQLITE_DRIVER} is missing (package libsqliteodbc)"));
    }
    if refdriver.is_none() {
        missing.push(format!(
            "the reference driver {REFDRIVER_FILE} is not built (looked in {} and {})",
            candidates[0].parent().unwrap_or(&dir).display(),
            candidates[1].parent().unwrap_or(&dir).display()
        ));
    }
    match refdriver {
        Some(r) if missing.is_empty() => Ok((sqlite, r)),
        _ => Err(missing.join("; ")),
    }
}

fn error_lines(e: &Error) -> Vec<String> {
    match e.records() {
        [] => vec![e.to_string()],
        recs => recs.iter().map(record_line).collect(),
    }
}

fn notes(records: &[DiagRecord]) {
    for r in records {
        println!("  note: {}", record_line(r));
    }
}

/// Connects to both drivers and prints what they are, and the DM's version.
fn connect_both(
    env: &Environment,
    sqlite: &Path,
    sqlite_cs: &str,
    refdriver: &Path,
    ref_cs: &str,
) -> Result<(Connection, Connection), Error> {
    let sqlite_conn = env.connect_with_connection_string(sqlite_cs)?;
    let ref_conn = env.connect_with_connection_string(ref_cs)?;
    let info = |c: &Connection, it: InfoType| c.get_info_string(it).unwrap_or_else(|_| "?".into());
    println!(
        "Driver Manager: odbc-dm {} (SQL_DM_VER {}, ODBC {})",
        env!("CARGO_PKG_VERSION"),
        info(&sqlite_conn, InfoType::SQL_DM_VER),
        info(&sqlite_conn, InfoType::SQL_ODBC_VER)
    );
    for (label, path, conn) in [("SQLite ODBC", sqlite, &sqlite_conn), ("reference driver", refdriver, &ref_conn)] {
        println!("{label}: {}", path.display());
        println!(
            "  {} {} (ODBC {}), DBMS {} {}, functions: {}",
            info(conn, InfoType::SQL_DRIVER_NAME),
            info(conn, InfoType::SQL_DRIVER_VER),
            info(conn, InfoType::SQL_DRIVER_ODBC_VER),
            info(conn, InfoType::SQL_DBMS_NAME),
            info(conn, InfoType::SQL_DBMS_VER),
            functions(conn)
        );
        notes(&conn.take_warnings());
    }
    Ok((sqlite_conn, ref_conn))
}

/// How many ODBC 3 functions the connection supports, as the DM answers SQLGetFunctions
/// (SQL_API_ODBC3_ALL_FUNCTIONS, §6.5): the raw layer, no DM internals.
fn functions(conn: &Connection) -> String {
    let mut map = [0u16; SQL_API_ODBC3_ALL_FUNCTIONS_SIZE as usize];
    // SAFETY: a live connection handle owned by `conn`; the bitmap has the size §6.5 names.
    let rc = unsafe { raw::SQLGetFunctions(conn.as_raw(), FunctionId::SQL_API_ODBC3_ALL_FUNCTIONS, map.as_mut_ptr()) };
    if !rc.is_success() {
        return "?".into();
    }
    let n: u32 = map.iter().map(|w| w.count_ones()).sum();
    format!("{n} (SQLGetFunctions)")
}

/// Creates a table, inserts [`ROWS`] with bound parameters, reads them back and prints
/// them; checks the text came back unchanged.
fn roundtrip(conn: &Connection) -> Result<(), Error> {
    let mut stmt = conn.statement()?;
    let _ = stmt.execute("DROP TABLE IF EXISTS greetings", ());
    stmt.execute("CREATE TABLE greetings (id INTEGER, lang VARCHAR(20), greeting VARCHAR(40), score DOUBLE)", ())?;
    let mut insert = conn.prepare("INSERT INTO greetings (id, lang, greeting, score) VALUES (?, ?, ?, ?)")?;
    for (id, lang, greeting, score) in ROWS {
        insert.execute((id, lang, greeting, score))?;
    }
    drop(insert);
    println!("  inserted {} rows with SQLBindParameter (SQL_C_CHAR, UTF-8) and SQLExecute", ROWS.len());
    let mut cursor = conn
        .execute("SELECT id, lang, greeting, score FROM greetings ORDER BY id", ())?
        .ok_or_else(|| Error::DriverProtocol { function: "SQLExecDirect", detail: "the SELECT returned no result set".into() })?;
    let table = read_table(&mut cursor)?;
    notes(&cursor.take_warnings());
    drop(cursor);
    print_indented(&table);
    let mismatches: Vec<String> = ROWS
        .iter()
        .zip(&table.rows)
        .filter_map(|((_, lang, greeting, _), row)| {
            let got = (row.get(1).cloned().flatten(), row.get(2).cloned().flatten());
            (got != (Some(lang.to_string()), Some(greeting.to_string()))).then(|| format!("{lang}/{greeting} came back as {got:?}"))
        })
        .collect();
    if mismatches.is_empty() && table.rows.len() == ROWS.len() {
        println!("  round trip: every text value read back is identical to the one bound");
        Ok(())
    } else {
        Err(Error::DriverProtocol {
            function: "SQLFetch",
            detail: format!("round trip changed the data: {} rows; {}", table.rows.len(), mismatches.join("; ")),
        })
    }
}

fn print_indented(t: &Table) {
    for line in t.render().lines() {
        println!("  {line}");
    }
    println!("  {}", t.count_line());
}

// ---------------------------------------------------------------------------------------
// Async polling through the raw layer.

/// Calls `f` until it returns something other than SQL_STILL_EXECUTING, sleeping
/// [`POLL_PAUSE`] between calls; returns the final code and the number of
/// SQL_STILL_EXECUTING seen. A call still running after [`POLL_LIMIT`] is cancelled.
fn poll(h: SqlHStmt, mut f: impl FnMut() -> SqlReturn) -> (SqlReturn, u32) {
    let start = Instant::now();
    let mut stills = 0;
    let mut cancelled = false;
    loop {
        let rc = f();
        if rc != SqlReturn::SQL_STILL_EXECUTING {
            return (rc, stills);
        }
        stills += 1;
        if !cancelled && start.elapsed() > POLL_LIMIT {
            // SAFETY: a live DM statement handle owned by the caller.
            unsafe { raw::SQLCancel(h) };
            cancelled = true;
        }
        thread::sleep(POLL_PAUSE);
    }
}

/// The diagnostic records of a statement, read with the raw SQLGetDiagRec.
fn stmt_records(h: SqlHStmt) -> Vec<DiagRecord> {
    let mut out = Vec::new();
    for i in 1..=32i16 {
        let mut state = [0u8; 6];
        let mut native = 0;
        let mut msg = vec![0u8; 1024];
        let mut len = 0i16;
        // SAFETY: live statement handle; buffers of the sizes passed; valid out slots.
        let rc = unsafe {
            raw::SQLGetDiagRec(
                HandleType::SQL_HANDLE_STMT,
                h,
                i,
                state.as_mut_ptr(),
                &mut native,
                msg.as_mut_ptr(),
                msg.len() as i16,
                &mut len,
            )
        };
        if !rc.is_success() {
            break;
        }
        let n = (len.max(0) as usize).min(msg.len() - 1);
        out.push(DiagRecord {
            state: String::from_utf8_lossy(&state[..5]).into_owned(),
            native,
            message: odbc_dm::config::mask_passwords(&String::from_utf8_lossy(&msg[..n])),
        });
    }
    out
}

fn raw_error(function: &'static str, h: SqlHStmt, rc: SqlReturn) -> Error {
    Error::Odbc { function, return_code: rc.0, records: stmt_records(h) }
}

/// Fails with the statement's diagnostics unless `rc` is a success.
fn ok(function: &'static str, h: SqlHStmt, rc: SqlReturn) -> Result<(), Error> {
    if rc.is_success() {
        Ok(())
    } else {
        Err(raw_error(function, h, rc))
    }
}

/// Reads one column of the current row as UTF-8 text with SQLGetData, polling each call.
fn get_text_polled(h: SqlHStmt, col: u16, stills: &mut u32) -> Result<Option<String>, Error> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1024];
    loop {
        let mut ind: SqlLen = 0;
        let (rc, n) = poll(h, || {
            // SAFETY: live statement; `buf` holds `buf.len()` bytes; valid indicator. The
            // same arguments are passed on every re-invocation (§2.9).
            unsafe { raw::SQLGetData(h, col, CDataType::SQL_C_CHAR, buf.as_mut_ptr() as SqlPointer, buf.len() as SqlLen, &mut ind) }
        });
        *stills += n;
        if rc == SqlReturn::SQL_NO_DATA {
            break;
        }
        ok("SQLGetData", h, rc)?;
        if ind == SQL_NULL_DATA {
            return Ok(None);
        }
        let piece = if ind == SQL_NO_TOTAL || ind as usize >= buf.len() { buf.len() - 1 } else { ind.max(0) as usize };
        out.extend_from_slice(&buf[..piece]);
        if rc == SqlReturn::SQL_SUCCESS {
            break;
        }
    }
    String::from_utf8(out).map(Some).map_err(|_| Error::InvalidText { column: col, encoding: "UTF-8" })
}

fn async_polling(env: &Environment, cs: &str) -> Result<(), Error> {
    const SQL: &str = "SELECT 1 AS n, 'one' AS word UNION ALL SELECT 2, 'deux' UNION ALL SELECT 3, '三'";
    let conn = env.connect_with_connection_string(cs)?;
    notes(&conn.take_warnings());
    let stmt = conn.statement()?;
    let h = stmt.as_raw();
    // SAFETY: our statement; an integer attribute travels in the pointer itself.
    let rc = unsafe { raw::SQLSetStmtAttr(h, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_ON as SqlPointer, SQL_IS_UINTEGER) };
    ok("SQLSetStmtAttr(SQL_ATTR_ASYNC_ENABLE)", h, rc)?;
    println!("  SQL_ATTR_ASYNC_ENABLE = SQL_ASYNC_ENABLE_ON; {SQL}");

    let t = Instant::now();
    let (rc, stills) = poll(h, || {
        // SAFETY: our statement; the text is valid for its length on every re-invocation.
        unsafe { raw::SQLExecDirect(h, SQL.as_ptr(), SQL.len() as i32) }
    });
    ok("SQLExecDirect", h, rc)?;
    println!("  SQLExecDirect polling: {stills} × SQL_STILL_EXECUTING, then {rc:?} ({} ms)", t.elapsed().as_millis());

    let t = Instant::now();
    let mut ncols: SqlSmallInt = 0;
    let (rc, mut stills) = poll(h, || {
        // SAFETY: our statement and a valid out slot.
        unsafe { raw::SQLNumResultCols(h, &mut ncols) }
    });
    ok("SQLNumResultCols", h, rc)?;
    let mut headers = Vec::new();
    let mut right = Vec::new();
    for c in 1..=ncols.max(0) as u16 {
        let mut name = [0u8; 256];
        let (mut len, mut ty, mut size, mut digits, mut nullable) = (0i16, SqlDataType::default(), 0usize, 0i16, Nullability::default());
        let (rc, n) = poll(h, || {
            // SAFETY: our statement; `name` holds 256 bytes; valid out slots, the same on
            // every re-invocation.
            unsafe {
                raw::SQLDescribeCol(h, c, name.as_mut_ptr(), name.len() as i16, &mut len, &mut ty, &mut size, &mut digits, &mut nullable)
            }
        });
        stills += n;
        ok("SQLDescribeCol", h, rc)?;
        let end = (len.max(0) as usize).min(name.len() - 1);
        headers.push(String::from_utf8_lossy(&name[..end]).into_owned());
        right.push(is_numeric(ty));
    }

    let mut rows = Vec::new();
    let mut fetches = 0;
    loop {
        let (rc, n) = poll(h, || {
            // SAFETY: our statement.
            unsafe { raw::SQLFetch(h) }
        });
        stills += n;
        fetches += 1;
        if rc == SqlReturn::SQL_NO_DATA {
            break;
        }
        if rc == SqlReturn::SQL_ERROR {
            let recs = stmt_records(h);
            if ncols <= 0 || recs.iter().any(|r| r.state == "24000") {
                // Known DM bug: after a polled SQLExecDirect the DM may record "no result
                // set". Show the rows through a synchronous query instead.
                println!("  KNOWN DM BUG: SQLFetch after the polled SQLExecDirect failed:");
                for r in &recs {
                    println!("    {}", record_line(r));
                }
                println!("  the rows, from a second (synchronous) query:");
                let mut c = conn
                    .execute(SQL, ())?
                    .ok_or_else(|| Error::DriverProtocol { function: "SQLExecDirect", detail: "no result set".into() })?;
                print_indented(&read_table(&mut c)?);
                return Ok(());
            }
            return Err(Error::Odbc { function: "SQLFetch", return_code: rc.0, records: recs });
        }
        ok("SQLFetch", h, rc)?;
        let mut row = Vec::new();
        for c in 1..=ncols as u16 {
            row.push(get_text_polled(h, c, &mut stills)?);
        }
        rows.push(row);
    }
    println!(
        "  reading: SQLNumResultCols, {ncols} × SQLDescribeCol, {fetches} × SQLFetch and the SQLGetData calls, all polled: {stills} × SQL_STILL_EXECUTING in all ({} ms)",
        t.elapsed().as_millis()
    );
    if ncols <= 0 {
        println!("  KNOWN DM BUG: SQLNumResultCols reports no result set after the polled SQLExecDirect");
        println!("  the rows, from a second (synchronous) query:");
        let mut c =
            conn.execute(SQL, ())?.ok_or_else(|| Error::DriverProtocol { function: "SQLExecDirect", detail: "no result set".into() })?;
        print_indented(&read_table(&mut c)?);
        return Ok(());
    }
    print_indented(&Table { headers, right, rows });
    // SAFETY: our statement; closes the cursor (a no-op without one).
    unsafe { raw::SQLFreeStmt(h, FreeStmtOption::SQL_CLOSE) };
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Threads and cancel through the safe API.

fn concurrent(env: &Environment, cs: &str) -> Result<(), Error> {
    const QUERY_MS: u64 = 200;
    let conns = (0..4).map(|_| env.connect_with_connection_string(cs)).collect::<Result<Vec<_>, _>>()?;
    let start = Instant::now();
    let results: Vec<Result<(String, Duration), Error>> = thread::scope(|s| {
        let handles: Vec<_> = conns
            .iter()
            .enumerate()
            .map(|(i, conn)| {
                s.spawn(move || {
                    let t = Instant::now();
                    let sql = format!("select sleep({QUERY_MS}), {}", i + 1);
                    let mut c = conn
                        .execute(&sql, ())?
                        .ok_or_else(|| Error::DriverProtocol { function: "SQLExecDirect", detail: "no result set".into() })?;
                    let v: String = match c.next_row()? {
                        Some(mut row) => row.get::<Option<String>>(2)?.unwrap_or_else(|| "NULL".into()),
                        None => "(no row)".into(),
                    };
                    Ok((v, t.elapsed()))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err(Error::Internal("query thread panicked".into())))).collect()
    });
    let wall = start.elapsed();
    let mut sum = Duration::ZERO;
    let mut per = Vec::new();
    for r in results {
        let (v, d) = r?;
        sum += d;
        per.push(format!("{v}: {} ms", d.as_millis()));
    }
    println!("  4 × `select sleep({QUERY_MS}), n` at once: {}", per.join(", "));
    println!("  wall time {} ms for all four; one after the other they would take {} ms (sum)", wall.as_millis(), sum.as_millis());
    Ok(())
}

fn cancel(env: &Environment, cs: &str) -> Result<(), Error> {
    const SQL: &str = "select sleep(30000)";
    let conn = env.connect_with_connection_string(cs)?;
    let mut stmt = conn.statement()?;
    let handle = stmt.cancel_handle();
    let (outcome, cancel_took, returned_after, cancel_rc) = thread::scope(|s| {
        let worker = s.spawn(move || {
            let r = stmt.execute(SQL, ()).map(|c| c.is_some());
            (r, Instant::now())
        });
        thread::sleep(Duration::from_millis(100));
        let t = Instant::now();
        let cancel_rc = handle.cancel();
        let cancel_took = t.elapsed();
        let (r, ended) = worker.join().unwrap_or_else(|_| (Err(Error::Internal("query thread panicked".into())), Instant::now()));
        (r, cancel_took, ended.saturating_duration_since(t), cancel_rc)
    });
    println!("  thread 1: {SQL}; thread 2, 100 ms later: SQLCancel on the same statement");
    match cancel_rc {
        Ok(()) => println!("  SQLCancel returned SQL_SUCCESS after {:.1} ms", cancel_took.as_secs_f64() * 1e3),
        Err(e) => println!("  SQLCancel failed after {:.1} ms: {}", cancel_took.as_secs_f64() * 1e3, error_lines(&e).join("; ")),
    }
    match outcome {
        Err(e) => {
            let state = e.sqlstate().unwrap_or("-");
            let msg = e.records().first().map(|r| r.message.clone()).unwrap_or_else(|| e.to_string());
            println!("  SQLExecDirect returned SQL_ERROR {state} ({msg}) {:.1} ms after the cancel", returned_after.as_secs_f64() * 1e3);
        }
        Ok(_) => println!("  the query was not cancelled: it completed {} ms after the cancel", returned_after.as_millis()),
    }
    Ok(())
}
