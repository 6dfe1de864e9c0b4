//! 200 concurrent notification-mode async statements over 20 connections (§1.8, §2.7,
//! §2.10 callbacks fired concurrently on different handles), all with correct results; and
//! 2,000 delayed operations in flight on a bounded number of driver threads.

mod common;
use common::*;
use odbc_dm_abi::*;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const CONNS: usize = 20;
const PER_CONN: usize = 10;

/// The tests of this file run one at a time, so the thread count measured by one is not
/// inflated by the other's application threads.
static SERIAL: Mutex<()> = Mutex::new(());

/// The number of threads of this process right now.
fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task").map(|d| d.count()).unwrap_or(0)
}

#[test]
fn two_hundred_concurrent_async_statements_over_twenty_connections() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let t0 = Instant::now();
    let workers: Vec<_> = (0..CONNS)
        .map(|c| {
            std::thread::spawn(move || {
                let (env, dbc) = connect("Database=:memory:;Steps=2;Delay=5");
                struct S {
                    st: H,
                    probe: std::sync::Arc<Probe>,
                    sql: Vec<u16>,
                    stills: usize,
                    done: Option<SqlReturn>,
                    expect: i64,
                }
                let mut stmts: Vec<S> = (0..PER_CONN)
                    .map(|i| {
                        let st = alloc_stmt(dbc);
                        let (ctx, probe) = new_probe();
                        notify_stmt(st, ctx);
                        let expect = (c * 1000 + i) as i64;
                        let sql = w(&format!("SELECT {c} * 1000 + {i}, sleep(2)"));
                        S { st, probe, sql, stills: 0, done: None, expect }
                    })
                    .collect();
                // Start all ten: each returns SQL_STILL_EXECUTING.
                for s in stmts.iter_mut() {
                    // SAFETY: valid handle and string kept alive until completion.
                    let r = s.probe.call(|| unsafe { (drv().SQLExecDirectW)(s.st.0, s.sql.as_ptr(), SQL_NTS) });
                    assert_eq!(r, STILL);
                    s.stills = 1;
                }
                // Event loop: re-invoke a statement only after its callback (§2.7).
                let deadline = Instant::now() + Duration::from_secs(30);
                while stmts.iter().any(|s| s.done.is_none()) {
                    assert!(Instant::now() < deadline, "timed out");
                    let mut progressed = false;
                    for s in stmts.iter_mut().filter(|s| s.done.is_none()) {
                        if s.probe.recs().len() >= s.stills {
                            // SAFETY: same arguments as the first call.
                            let r = s.probe.call(|| unsafe { (drv().SQLExecDirectW)(s.st.0, s.sql.as_ptr(), SQL_NTS) });
                            if r == STILL {
                                s.stills += 1;
                            } else {
                                s.done = Some(r);
                            }
                            progressed = true;
                        }
                    }
                    if !progressed {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
                std::thread::sleep(Duration::from_millis(50));
                for s in &stmts {
                    assert_eq!(s.done, Some(SqlReturn::SQL_SUCCESS));
                    assert_eq!(s.stills, 2);
                    let recs = s.probe.recs();
                    assert_eq!(recs.len(), s.stills, "one callback per SQL_STILL_EXECUTING");
                    assert_eq!(recs.iter().filter(|r| r.f_last == 1).count(), 1);
                    assert!(recs.iter().all(|r| !r.during_call));
                    let rows = fetch_all(s.st);
                    assert_eq!(rows, vec![vec![Some(s.expect.to_string()), Some("2".into())]]);
                    free_stmt(s.st);
                }
                let log = event_log(dbc);
                let cbs = log["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "callback").count();
                assert_eq!(cbs, PER_CONN * 2);
                disconnect(env, dbc);
                PER_CONN
            })
        })
        .collect();
    let total: usize = workers.into_iter().map(|h| h.join().expect("connection thread")).sum();
    assert_eq!(total, 200);
    eprintln!("200 async statements in {:?}", t0.elapsed());
}

/// 2,000 notification-mode statements in flight at once with `Delay=50` (every step waits
/// 50 ms): the delays wait on the driver's timer, not on threads, so the whole process stays
/// well below 64 threads, and every operation still gets exactly one callback per
/// SQL_STILL_EXECUTING, on a `refdrv-worker-` thread, after the return, with an honest fLast.
#[test]
fn two_thousand_delayed_operations_in_flight_on_a_bounded_pool() {
    const N_CONNS: usize = 20;
    const N_STMTS: usize = 2000;
    const MAX_THREADS: usize = 64;
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    struct S {
        st: H,
        dbc: usize,
        probe: std::sync::Arc<Probe>,
        sql: Vec<u16>,
        stills: usize,
        done: Option<SqlReturn>,
    }
    let conns: Vec<(H, H)> = (0..N_CONNS).map(|_| connect("Database=:memory:;Steps=2;Delay=50")).collect();
    let mut stmts: Vec<S> = (0..N_STMTS)
        .map(|i| {
            let dbc = i % N_CONNS;
            let st = alloc_stmt(conns[dbc].1);
            let (ctx, probe) = new_probe();
            notify_stmt(st, ctx);
            S { st, dbc, probe, sql: w(&format!("SELECT {i}, 'op{i}'")), stills: 0, done: None }
        })
        .collect();
    let mut max_threads = thread_count();
    let t0 = Instant::now();
    // Start all 2,000: none can complete before its re-invocations, so all are in flight.
    for s in stmts.iter_mut() {
        // SAFETY: valid handle and NUL-terminated string kept alive until completion (§2.9).
        let r = s.probe.call(|| unsafe { (drv().SQLExecDirectW)(s.st.0, s.sql.as_ptr(), SQL_NTS) });
        assert_eq!(r, STILL);
        s.stills = 1;
    }
    let started = t0.elapsed();
    max_threads = max_threads.max(thread_count());
    // Event loop: re-invoke an operation only after its callback (§2.7).
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut max_in_flight = 0;
    while stmts.iter().any(|s| s.done.is_none()) {
        assert!(Instant::now() < deadline, "timed out");
        max_threads = max_threads.max(thread_count());
        max_in_flight = max_in_flight.max(stmts.iter().filter(|s| s.done.is_none()).count());
        let mut progressed = false;
        for s in stmts.iter_mut().filter(|s| s.done.is_none()) {
            if s.probe.recs().len() >= s.stills {
                // SAFETY: same arguments as the first call.
                let r = s.probe.call(|| unsafe { (drv().SQLExecDirectW)(s.st.0, s.sql.as_ptr(), SQL_NTS) });
                if r == STILL {
                    s.stills += 1;
                } else {
                    s.done = Some(r);
                }
                progressed = true;
            }
        }
        if !progressed {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    let elapsed = t0.elapsed();
    max_threads = max_threads.max(thread_count());
    eprintln!("{N_STMTS} delayed async statements in {elapsed:?} (started in {started:?}); at most {max_threads} threads");
    assert_eq!(max_in_flight, N_STMTS);
    assert!(max_threads < MAX_THREADS, "the process reached {max_threads} threads");
    // Serially the delays alone would take 2,000 × 2 × 50 ms = 200 s.
    assert!(elapsed < Duration::from_secs(30), "delays overlapped: {elapsed:?}");
    std::thread::sleep(Duration::from_millis(100)); // any extra callback would show up now
    for (i, s) in stmts.iter().enumerate() {
        assert_eq!(s.done, Some(SqlReturn::SQL_SUCCESS), "statement {i}");
        assert_eq!(s.stills, 2);
        let recs = s.probe.recs();
        assert_eq!(recs.len(), 2, "one callback per SQL_STILL_EXECUTING");
        assert_eq!(recs.iter().map(|r| r.f_last).collect::<Vec<_>>(), vec![0, 1], "§2.10 honest fLast");
        assert!(recs.iter().all(|r| !r.during_call), "§2.8 after the return");
        assert_eq!(fetch_all(s.st), vec![vec![Some(i.to_string()), Some(format!("op{i}"))]]);
    }
    // The driver's side: every callback on a pool worker, after the return, per connection.
    for (c, (_, dbc)) in conns.iter().enumerate() {
        let log = event_log(*dbc);
        let cbs: Vec<_> = log["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "callback").cloned().collect();
        assert_eq!(cbs.len(), stmts.iter().filter(|s| s.dbc == c).count() * 2);
        for cb in &cbs {
            assert!(cb["thread"].as_str().unwrap().starts_with("refdrv-worker-"), "{cb}");
            assert!(cb["rel_us"].as_i64().unwrap() >= 0, "{cb}");
        }
    }
    for s in &stmts {
        free_stmt(s.st);
    }
    for (env, dbc) in conns {
        disconnect(env, dbc);
    }
}
