//! Cancel and free never race into the driver (issue 9 items 1–2; §3.1–§3.4,
//! docs/decisions.md #29–#31): owner threads run queries with known results, free and
//! re-allocate their statements and now and then disconnect and reconnect, while canceller
//! threads call SQLCancel, SQLCancelHandle(STMT) and SQLCancelHandle(DBC) on whatever
//! handles the owners last published (live, being freed, or freed). On libsqlite3odbc,
//! psqlODBC and the reference driver: no crash, and every value is checked — right, or
//! the call failed with a cancel's SQLSTATE (HY008, or 57014 from PostgreSQL); never a
//! wrong value, never a row lost, never SQL_SUCCESS from SQLFetch followed by SQL_NO_DATA
//! from SQLGetData.
//!
//! The same engine runs the soak (`drivers-under-test/soak.sh`, the ignored test `soak`):
//! minutes, 48 threads, optionally under valgrind.

mod common;

use common::rawh::{self, H};
use odbc_dm::abi::*;
use odbc_dm::raw::*;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const STMT: HandleType = HandleType::SQL_HANDLE_STMT;
const DBC: HandleType = HandleType::SQL_HANDLE_DBC;

/// Rows every query returns.
const ROWS: i64 = 20;

/// A driver under stress: its connection string and its query returning `k + 1 ..= k +
/// ROWS` in order, made to spend roughly `delay` (0, 5 or 50 ms) in the driver.
#[derive(Clone)]
struct Target {
    name: &'static str,
    cs: String,
    query: fn(k: i64, delay_ms: u32) -> String,
}

fn sqlite_query(k: i64, delay_ms: u32) -> String {
    // No sleep() in libsqlite3odbc: the recursive CTE runs on past the 20 rows it returns
    // (the last SQLFetch does the extra work), roughly 2,000 rows per ms in a debug build.
    format!(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {}) SELECT x + {k} FROM c WHERE x <= {ROWS}",
        ROWS + delay_ms as i64 * 2_000
    )
}

fn refdriver_query(k: i64, delay_ms: u32) -> String {
    // The reference driver's sleep(ms) is cancellable (§3.2).
    format!(
        "WITH RECURSIVE c(x) AS (SELECT 1 WHERE sleep({delay_ms}) IS NOT NULL UNION ALL SELECT x + 1 FROM c WHERE x < {ROWS}) \
         SELECT x + {k} FROM c"
    )
}

fn pg_query(k: i64, delay_ms: u32) -> String {
    format!("SELECT g + {k} FROM generate_series(1, {ROWS}) g, pg_sleep({}) s ORDER BY g", delay_ms as f64 / 1000.0)
}

fn sqlite_target() -> Target {
    let db = common::temp_db("cancel-stress");
    Target { name: "libsqlite3odbc", cs: common::sqlite_conn_str(&db), query: sqlite_query }
}

fn pg_target() -> Target {
    let cs = common::postgres_conn_str("cancel_stress").expect("PostgreSQL and psqlODBC are part of the test command");
    Target { name: "psqlODBC", cs, query: pg_query }
}

fn refdriver_target() -> Target {
    Target { name: "refdriver", cs: common::refdriver_conn_str(""), query: refdriver_query }
}

/// What a run did (every figure a count).
#[derive(Default, Debug)]
struct Stats {
    queries: AtomicU64,
    values: AtomicU64,
    cancelled: AtomicU64,
    frees: AtomicU64,
    reconnects: AtomicU64,
    cancels: AtomicU64,
    cancels_success: AtomicU64,
    cancels_error: AtomicU64,
    cancels_invalid: AtomicU64,
    dbc_cancels: AtomicU64,
}

impl Stats {
    fn line(&self, name: &str, secs: f64) -> String {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        format!(
            "{name}: {secs:.1} s: {} queries, {} values checked, {} queries cancelled (HY008/57014), {} statement frees, \
             {} reconnects; {} SQLCancel/SQLCancelHandle(STMT) ({} SUCCESS, {} ERROR, {} INVALID_HANDLE), {} SQLCancelHandle(DBC)",
            g(&self.queries),
            g(&self.values),
            g(&self.cancelled),
            g(&self.frees),
            g(&self.reconnects),
            g(&self.cancels),
            g(&self.cancels_success),
            g(&self.cancels_error),
            g(&self.cancels_invalid),
            g(&self.dbc_cancels),
        )
    }
}

/// An owner's published handles (0 = none yet); cancellers read them at any time.
#[derive(Default)]
struct Published {
    stmt: AtomicUsize,
    dbc: AtomicUsize,
}

/// A query ended by a cancel.
struct Cancelled;

fn states(ht: HandleType, h: H) -> Vec<String> {
    rawh::diag_recs(ht, h).into_iter().map(|r| r.state).collect()
}

/// A failure is acceptable only if a cancel caused it: HY008 (§3.2), or PostgreSQL's own
/// 57014 (a cancel request that reached the server after the call it was aimed at, for the
/// next query of the connection: an effect of PostgreSQL's protocol, not of the DM).
fn cancel_caused(ht: HandleType, h: H, what: &str, target: &str) -> Cancelled {
    let st = states(ht, h);
    assert!(st.iter().any(|s| s == "HY008" || s == "57014"), "{target}: {what} failed, not by a cancel: {st:?} {}", rawh::diag_text(ht, h));
    Cancelled
}

/// Runs one query and checks every value: `Ok(())` all `ROWS` values right and then
/// SQL_NO_DATA, `Err(Cancelled)` a cancel ended it. Panics on anything else.
fn run_query(s: H, sql: &str, k: i64, t: &Target, stats: &Stats) -> Result<(), Cancelled> {
    stats.queries.fetch_add(1, Ordering::Relaxed);
    let rc = rawh::exec_rc(s, sql);
    if rc == SqlReturn::SQL_ERROR {
        return Err(cancel_caused(STMT, s, "SQLExecDirect", t.name));
    }
    assert!(rc.is_success(), "{}: SQLExecDirect: {rc:?} {}", t.name, rawh::diag_text(STMT, s));
    let r = (|| {
        for want in k + 1..=k + ROWS {
            // SAFETY: live statement of this thread.
            let rc = unsafe { SQLFetch(s) };
            if rc == SqlReturn::SQL_ERROR {
                return Err(cancel_caused(STMT, s, "SQLFetch", t.name));
            }
            assert!(rc.is_success(), "{}: SQLFetch for value {want} returned {rc:?}: a row was lost", t.name);
            let mut v: i64 = i64::MIN;
            let mut ind: SqlLen = 0;
            // SAFETY: live statement; an 8-byte buffer for SQL_C_SBIGINT.
            let rc = unsafe { SQLGetData(s, 1, CDataType::SQL_C_SBIGINT, (&mut v as *mut i64).cast(), 8, &mut ind) };
            assert_ne!(
                rc,
                SqlReturn::SQL_NO_DATA,
                "{}: SQLFetch said SQL_SUCCESS, then SQLGetData SQL_NO_DATA (the cursor was closed underneath, value {want})",
                t.name
            );
            if rc == SqlReturn::SQL_ERROR {
                return Err(cancel_caused(STMT, s, "SQLGetData", t.name));
            }
            assert!(rc.is_success(), "{}: SQLGetData: {rc:?}", t.name);
            assert_eq!(v, want, "{}: wrong value", t.name);
            stats.values.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: live statement.
        let rc = unsafe { SQLFetch(s) };
        if rc == SqlReturn::SQL_ERROR {
            return Err(cancel_caused(STMT, s, "SQLFetch (end)", t.name));
        }
        assert_eq!(rc, SqlReturn::SQL_NO_DATA, "{}: more than {ROWS} rows", t.name);
        Ok(())
    })();
    // SAFETY: live statement.
    unsafe { SQLFreeStmt(s, FreeStmtOption::SQL_CLOSE) };
    r
}

fn connect(env: H, cs: &str) -> H {
    let mut dbc = null_mut();
    // SAFETY: live env, valid out pointer.
    rawh::ok(unsafe { SQLAllocHandle(DBC, env, &mut dbc) }, HandleType::SQL_HANDLE_ENV, env, "SQLAllocHandle(DBC)");
    // A cancel may hit the connect (SQLCancelHandle(DBC) from a canceller): retry.
    for _ in 0..20 {
        // SAFETY: live dbc; the connection string outlives the call.
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
            return dbc;
        }
        let _ = cancel_caused(DBC, dbc, "SQLDriverConnect", cs);
    }
    panic!("could not connect 20 times in a row: {cs}");
}

fn disconnect_and_free(dbc: H, name: &str) {
    for _ in 0..20 {
        // SAFETY: live dbc.
        let rc = unsafe { SQLDisconnect(dbc) };
        if rc.is_success() {
            // SAFETY: disconnected dbc.
            assert_eq!(unsafe { SQLFreeHandle(DBC, dbc) }, SqlReturn::SQL_SUCCESS);
            return;
        }
        let _ = cancel_caused(DBC, dbc, "SQLDisconnect", name);
    }
    panic!("{name}: SQLDisconnect failed 20 times in a row");
}

/// One owner: allocates a statement, runs three queries (the delays cycle through 0, 5
/// and 50 ms), frees it; every fifth round disconnects with the statement still allocated
/// (the driver frees it) and reconnects.
fn owner(t: &Target, env: H, pubd: &Published, stats: &Stats, stop: &AtomicBool, seed: i64) {
    let delays = [0u32, 5, 50];
    let mut dbc = connect(env, &t.cs);
    pubd.dbc.store(dbc as usize, Ordering::Release);
    let mut round: i64 = 0;
    while !stop.load(Ordering::Relaxed) {
        let mut s = null_mut();
        // SAFETY: live dbc, valid out pointer.
        let rc = unsafe { SQLAllocHandle(STMT, dbc, &mut s) };
        rawh::ok(rc, DBC, dbc, "SQLAllocHandle(STMT)");
        pubd.stmt.store(s as usize, Ordering::Release);
        for q in 0..3 {
            let k = seed * 1_000_000 + round * 10 + q;
            let d = delays[((round + q) % 3) as usize];
            if run_query(s, &(t.query)(k, d), k, t, stats).is_err() {
                stats.cancelled.fetch_add(1, Ordering::Relaxed);
            }
        }
        if round % 5 == 4 {
            // The statement stays allocated: SQLDisconnect frees it while cancellers aim
            // at it and at the connection.
            disconnect_and_free(dbc, t.name);
            stats.reconnects.fetch_add(1, Ordering::Relaxed);
            dbc = connect(env, &t.cs);
            pubd.dbc.store(dbc as usize, Ordering::Release);
        } else {
            // SAFETY: live statement; cancellers may be inside SQLCancel on it.
            let rc = unsafe { SQLFreeHandle(STMT, s) };
            assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{}: SQLFreeHandle(STMT): {}", t.name, rawh::diag_text(STMT, s));
            stats.frees.fetch_add(1, Ordering::Relaxed);
        }
        round += 1;
    }
    disconnect_and_free(dbc, t.name);
}

/// One canceller: cancels the owners' last published handles in turn.
fn canceller(owners: &[Published], stats: &Stats, stop: &AtomicBool, n: usize) {
    let mut i = n;
    while !stop.load(Ordering::Relaxed) {
        i = i.wrapping_add(1);
        let p = &owners[i % owners.len()];
        let s = p.stmt.load(Ordering::Acquire) as H;
        if !s.is_null() {
            // SAFETY: any handle value is acceptable to the DM (stale ones are
            // SQL_INVALID_HANDLE); cancels cross threads by design (§3.1).
            let rc = if i.is_multiple_of(3) { unsafe { SQLCancelHandle(STMT, s) } } else { unsafe { SQLCancel(s) } };
            stats.cancels.fetch_add(1, Ordering::Relaxed);
            match rc {
                SqlReturn::SQL_SUCCESS => stats.cancels_success.fetch_add(1, Ordering::Relaxed),
                SqlReturn::SQL_ERROR => stats.cancels_error.fetch_add(1, Ordering::Relaxed),
                SqlReturn::SQL_INVALID_HANDLE => stats.cancels_invalid.fetch_add(1, Ordering::Relaxed),
                other => panic!("§3.2: SQLCancel returned {other:?}"),
            };
        }
        if i.is_multiple_of(16) {
            let d = p.dbc.load(Ordering::Acquire) as H;
            if !d.is_null() {
                // SAFETY: as above.
                let rc = unsafe { SQLCancelHandle(DBC, d) };
                assert!(
                    matches!(rc, SqlReturn::SQL_SUCCESS | SqlReturn::SQL_ERROR | SqlReturn::SQL_INVALID_HANDLE),
                    "SQLCancelHandle(DBC) returned {rc:?}"
                );
                stats.dbc_cancels.fetch_add(1, Ordering::Relaxed);
            }
        }
        if i.is_multiple_of(4) {
            std::thread::yield_now();
        }
    }
}

/// Runs `owners` owner threads and `cancellers` canceller threads on `t` for `secs`.
fn stress(t: &Target, secs: f64, owners: usize, cancellers: usize) -> Arc<Stats> {
    common::init();
    let env = rawh::env();
    let stats = Arc::new(Stats::default());
    let stop = AtomicBool::new(false);
    let pubs: Vec<Published> = (0..owners).map(|_| Published::default()).collect();
    let t0 = Instant::now();
    std::thread::scope(|sc| {
        let mut hs = Vec::new();
        for (i, p) in pubs.iter().enumerate() {
            let (stats, stop) = (&*stats, &stop);
            let envh = env as usize;
            hs.push(sc.spawn(move || owner(t, envh as H, p, stats, stop, i as i64 + 1)));
        }
        for n in 0..cancellers {
            let (stats, stop, pubs) = (&*stats, &stop, &pubs);
            hs.push(sc.spawn(move || canceller(pubs, stats, stop, n * 7)));
        }
        while t0.elapsed() < Duration::from_secs_f64(secs) && !hs.iter().any(|h| h.is_finished()) {
            std::thread::sleep(Duration::from_millis(20));
        }
        stop.store(true, Ordering::Relaxed);
        for h in hs {
            if let Err(e) = h.join() {
                std::panic::resume_unwind(e);
            }
        }
    });
    // SAFETY: every connection of `env` was freed by its owner.
    assert_eq!(unsafe { SQLFreeHandle(HandleType::SQL_HANDLE_ENV, env) }, SqlReturn::SQL_SUCCESS);
    println!("{}", stats.line(t.name, t0.elapsed().as_secs_f64()));
    stats
}

fn check_ran(stats: &Stats, t: &Target) {
    let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
    assert!(g(&stats.queries) > 0 && g(&stats.frees) > 0 && g(&stats.cancels) > 0, "{}: nothing ran: {stats:?}", t.name);
}

/// §3.1, §3.2, §3.3: libsqlite3odbc (`Threading` 3): before the fence this segfaulted in
/// the driver's SQLCancel on a statement being freed, and cancels closed cursors under
/// successful fetches.
#[test]
fn s3_2_s3_3_cancel_free_realloc_stress_sqlite() {
    let t = sqlite_target();
    let stats = stress(&t, 3.0, 3, 2);
    check_ran(&stats, &t);
}

/// §3.1, §3.2: psqlODBC (thread-safe, cancels reach the server): no invalid read in its
/// SQLCancel on a freed statement; values right or HY008/57014.
#[test]
fn s3_2_s3_4_cancel_free_realloc_stress_psqlodbc() {
    let t = pg_target();
    let stats = stress(&t, 3.0, 3, 2);
    check_ran(&stats, &t);
}

/// §3.2: the reference driver (its sleep() is cancellable, so cancels do take effect).
#[test]
fn s3_2_cancel_free_realloc_stress_refdriver() {
    let t = refdriver_target();
    let stats = stress(&t, 3.0, 3, 2);
    check_ran(&stats, &t);
}

/// The soak (drivers-under-test/soak.sh): `SOAK_SECS` seconds (default 120) per driver,
/// `SOAK_THREADS` threads in all (default 48; a third cancel), `SOAK_DRIVERS` a
/// comma-separated subset of `sqlite,pg,ref` (default all three).
/// Compiled only with `--features soak` (soak.sh), so the test command has no ignored test.
#[cfg(feature = "soak")]
#[test]
fn soak() {
    let secs: f64 = std::env::var("SOAK_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(120.0);
    let threads: usize = std::env::var("SOAK_THREADS").ok().and_then(|v| v.parse().ok()).unwrap_or(48).max(2);
    let drivers = std::env::var("SOAK_DRIVERS").unwrap_or_else(|_| "sqlite,pg,ref".into());
    let cancellers = (threads / 3).max(1);
    let owners = threads - cancellers;
    for d in drivers.split(',').map(str::trim) {
        let t = match d {
            "sqlite" => sqlite_target(),
            "pg" => pg_target(),
            "ref" => refdriver_target(),
            other => panic!("SOAK_DRIVERS: unknown driver {other:?} (sqlite, pg, ref)"),
        };
        println!("soak: {} for {secs} s, {owners} owner threads, {cancellers} canceller threads", t.name);
        let stats = stress(&t, secs, owners, cancellers);
        check_ran(&stats, &t);
    }
}
