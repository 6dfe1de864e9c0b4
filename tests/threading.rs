//! odbcinst.ini `Threading` (unixODBC's keyword, docs/decisions.md #28): serialization for
//! drivers that are not thread-safe (§3.1, §3.7), checked on the reference driver loaded
//! through the odbcinst.ini sections `[OdbcDmRef Threading2]` and `[OdbcDmRef Threading3]`
//! that drivers-under-test/setup.sh writes, and on libsqlite3odbc's default.
//!
//! The tests assert on the *order* of events (does one call end before the other starts,
//! does SQLCancel return before the cancelled call), never on how long anything takes.

mod common;

use common::rawh::{self, H};
use odbc_dm::abi::*;
use odbc_dm::internals::driver::Threading;
use odbc_dm::raw::*;
use std::sync::{Barrier, Mutex, MutexGuard};
use std::time::{Duration, Instant};

const STMT: HandleType = HandleType::SQL_HANDLE_STMT;

/// A raw handle that may cross threads (the DM's handles are Send + Sync, §3).
#[derive(Clone, Copy)]
struct Shared(usize);
impl Shared {
    fn h(self) -> H {
        self.0 as H
    }
}

fn ref_by_name(section: &str) -> String {
    format!("DRIVER={{{section}}};Database=:memory:")
}

/// When a synchronous `SELECT sleep(ms)` started and ended on the calling thread.
fn timed_sleep(s: H, ms: u32) -> (Instant, Instant, SqlReturn) {
    let sql = format!("SELECT sleep({ms})");
    let start = Instant::now();
    let rc = rawh::exec_rc(s, &sql);
    (start, Instant::now(), rc)
}

/// Runs `SELECT sleep(ms)` on two connections of `cs` at once (released together by a
/// barrier); returns the two (start, end) intervals.
fn two_sleeps(cs: &str, ms: u32) -> [(Instant, Instant); 2] {
    let conns: Vec<(H, H)> = (0..2).map(|_| rawh::connect(cs)).collect();
    let stmts: Vec<Shared> = conns.iter().map(|&(_, dbc)| Shared(rawh::stmt(dbc) as usize)).collect();
    let barrier = Barrier::new(2);
    let out: Vec<(Instant, Instant)> = std::thread::scope(|sc| {
        let hs: Vec<_> = stmts
            .iter()
            .map(|&s| {
                let barrier = &barrier;
                sc.spawn(move || {
                    barrier.wait();
                    let (a, b, rc) = timed_sleep(s.h(), ms);
                    assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{}", rawh::diag_text(STMT, s.h()));
                    (a, b)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (s, (env, dbc)) in stmts.into_iter().zip(conns) {
        rawh::free_stmt(s.h());
        rawh::disconnect(env, dbc);
    }
    [out[0], out[1]]
}

/// From the first start to the last end of the two calls.
fn span(a: (Instant, Instant), b: (Instant, Instant)) -> Duration {
    a.1.max(b.1) - a.0.min(b.0)
}

/// §3.1, §3.7: `Threading = 3` (and 2) serializes every call into the driver, across
/// connections. Two `sleep(400)` calls started together on two connections: serialized,
/// the two sleeps cannot overlap, so from the first start to the last end at least 800 ms
/// pass (asserted as ≥ 700 ms); in parallel (the same driver without `Threading`, level 0,
/// the DM's default for a thread-safe driver) both end after ≈ 400 ms (asserted as
/// < 700 ms). The lower bound follows from what a sleep is, not from the machine's speed:
/// a slow machine only lengthens the serialized span. (The end of each DM call says little
/// by itself: SQLExecDirect makes more than one driver call, so the first caller's last
/// driver call may wait behind the second caller's sleep.)
#[test]
fn s3_7_threading_2_and_3_serialize_calls_across_connections_level_0_does_not() {
    common::init();
    let _one = one_at_a_time();
    let two_sleeps_in_a_row = Duration::from_millis(700);
    for section in ["OdbcDmRef Threading3", "OdbcDmRef Threading2"] {
        let [a, b] = two_sleeps(&ref_by_name(section), 400);
        assert!(span(a, b) >= two_sleeps_in_a_row, "{section}: the two sleeps overlapped ({:?} in all)", span(a, b));
    }
    let [a, b] = two_sleeps(&common::refdriver_conn_str(""), 400);
    assert!(span(a, b) < two_sleeps_in_a_row, "level 0: calls on different connections run in parallel ({:?} in all)", span(a, b));
}

/// The tests of this file share the serialized drivers' locks (one per odbcinst.ini
/// section): each holds this while it runs, so that no other test's call sits in the lock.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs `SELECT sleep(ms)` on a new statement of `cs` on a second thread and, from this
/// thread, calls SQLCancel on the statement every 100 ms until the call has ended (a cancel
/// that comes before the call reaches the driver is a no-op, so one of the later ones is
/// the cancel under test). Returns (when the call started, its return code and SQLSTATEs,
/// the instant the first SQLCancel returned, the first SQLCancel's code, the longest time
/// one SQLCancel took).
fn cancel_during_sleep(cs: &str, ms: u32) -> (Instant, SqlReturn, Vec<String>, Instant, SqlReturn, Duration) {
    let (env, dbc) = rawh::connect(cs);
    let s = Shared(rawh::stmt(dbc) as usize);
    let (start, rc, states, first_cancel, longest) = std::thread::scope(|sc| {
        let h = sc.spawn(move || {
            let (start, _, rc) = timed_sleep(s.h(), ms);
            let states: Vec<String> = rawh::diag_recs(STMT, s.h()).into_iter().map(|r| r.state).collect();
            (start, rc, states)
        });
        let mut first_cancel = None;
        let mut longest = Duration::ZERO;
        while !h.is_finished() {
            std::thread::sleep(Duration::from_millis(100));
            let t0 = Instant::now();
            // SAFETY: live statement; SQLCancel may be called from another thread (§3.1).
            let cancel_rc = unsafe { SQLCancel(s.h()) };
            longest = longest.max(t0.elapsed());
            first_cancel.get_or_insert((Instant::now(), cancel_rc));
        }
        let (start, rc, states) = h.join().unwrap();
        (start, rc, states, first_cancel.expect("at least one SQLCancel"), longest)
    });
    rawh::free_stmt(s.h());
    rawh::disconnect(env, dbc);
    (start, rc, states, first_cancel.0, first_cancel.1, longest)
}

/// §3.1, §3.3, §3.7: at `Threading = 2` SQLCancel is not serialized: it reaches the driver
/// while the 5 s sleep runs, and the call ends with HY008 (without the cancel it would
/// succeed). At `Threading = 3` (unixODBC's level 3; what libsqlite3odbc needs, whose
/// SQLCancel closes the cursor) the driver's SQLCancel may never run beside a call, so it
/// could only reach the statement after the call it was aimed at, when it is idle: the DM
/// accepts the cross-thread cancel without forwarding it (docs/decisions.md #30) — no
/// SQLCancel waits for the 2 s sleep (before the fix each one that came during the sleep
/// waited for its end), and the call is not cancelled.
#[test]
fn s3_7_threading_2_lets_sqlcancel_through_threading_3_never_forwards_it_beside_a_call() {
    common::init();
    let _one = one_at_a_time();
    let (_, rc, states, _, cancel_rc, _) = cancel_during_sleep(&ref_by_name("OdbcDmRef Threading2"), 5_000);
    assert_eq!(cancel_rc, SqlReturn::SQL_SUCCESS);
    assert_eq!(rc, SqlReturn::SQL_ERROR, "level 2: the call was cancelled while it ran: {states:?}");
    assert!(states.iter().any(|s| s == "HY008"), "{states:?}");

    let (_, rc, states, _, cancel_rc, longest) = cancel_during_sleep(&ref_by_name("OdbcDmRef Threading3"), 2_000);
    assert!(cancel_rc.is_success(), "{cancel_rc:?}");
    assert!(longest < Duration::from_millis(1_000), "level 3: an SQLCancel waited for the running call ({longest:?})");
    assert_eq!(rc, SqlReturn::SQL_SUCCESS, "level 3: the call ran to its end: {states:?}");
}

/// The DM's defaults: libsqlite3odbc, given by path with no odbcinst.ini section, is
/// loaded at level 3 (its source relies on the DM to serialize, and its SQLCancel closes
/// the cursor); the reference driver at level 0; an odbcinst.ini `Threading` wins over the
/// default, and `Threading` in the connection string (a DM keyword) over both.
#[test]
fn s3_7_default_threading_levels() {
    common::init();
    let _one = one_at_a_time();
    let level_of = |cs: &str| {
        let (env, dbc) = rawh::connect(cs);
        let level = odbc_dm::internals::handles::dbc(dbc).unwrap().gate.read(|c| c.link.as_ref().map(|l| l.driver.threading));
        rawh::disconnect(env, dbc);
        level
    };
    let db = common::temp_db("threading-default");
    assert_eq!(level_of(&common::sqlite_conn_str(&db)), Some(Threading::DriverWithCancel));
    assert_eq!(level_of(&common::refdriver_conn_str("")), Some(Threading::Handle));
    assert_eq!(level_of(&ref_by_name("OdbcDmRef Threading2")), Some(Threading::Driver));
    assert_eq!(level_of(&ref_by_name("OdbcDmRef Threading3")), Some(Threading::DriverWithCancel));
    // The DM keyword in the connection string wins over odbcinst.ini and the default.
    assert_eq!(level_of(&format!("{};Threading=0", common::sqlite_conn_str(&db))), Some(Threading::Handle));
    assert_eq!(level_of(&format!("{};Threading=2", ref_by_name("OdbcDmRef Threading3"))), Some(Threading::Driver));
    assert_eq!(level_of(&common::refdriver_conn_str("Threading=3")), Some(Threading::DriverWithCancel));
    let _ = std::fs::remove_file(db);
}
