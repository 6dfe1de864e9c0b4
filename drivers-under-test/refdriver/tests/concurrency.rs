//! 200 concurrent notification-mode async statements over 20 connections (§1.8, §2.7,
//! §2.10 callbacks fired concurrently on different handles), all with correct results.

mod common;
use common::*;
use odbc_dm_abi::*;
use std::time::{Duration, Instant};

const CONNS: usize = 20;
const PER_CONN: usize = 10;

#[test]
fn two_hundred_concurrent_async_statements_over_twenty_connections() {
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
