//! Notification mode from C (issue 11, item 4; §2.1, §2.2, §2.12, §2.13, §7.7): the
//! example docs/examples/notify_epoll.c, compiled with `cc` against our libodbc.so.2, passes
//! its own eventfds as SQL_ATTR_ASYNC_DBC_EVENT / SQL_ATTR_ASYNC_STMT_EVENT (the descriptor
//! as the pointer value, docs/decisions.md #63), waits on them with epoll and completes each
//! operation with SQLCompleteAsync: an asynchronous connect, N × (execute, fetch, get data)
//! and an asynchronous disconnect. Every call returns SQL_STILL_EXECUTING (decision #10),
//! so the example must have waited on its eventfds exactly 2 + 3 N times; a missing signal
//! is a 10 s epoll timeout and a failure.
//! Reference driver (native notification) with step delays 0, 5 and 50 ms, and SQLite
//! (a synchronous driver: the DM's emulation signals the same eventfds).

mod common;

use std::time::{Duration, Instant};

fn build(name: &str) -> std::path::PathBuf {
    let dir = common::scratch(name);
    let exe = dir.join("notify_epoll");
    common::compile_c(&common::root().join("docs/examples/notify_epoll.c"), &exe);
    exe
}

fn run(exe: &std::path::Path, conn_str: &str, ops: usize) {
    let started = Instant::now();
    let out = common::command(exe).arg(conn_str).arg(ops.to_string()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let ctx = format!("{conn_str}: {}\n{stdout}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{ctx}");
    assert!(stdout.contains("connected (asynchronous connect completed through the connection eventfd)"), "{ctx}");
    for i in 1..=ops {
        assert!(stdout.contains(&format!("op {i}: SELECT {i} * 7 = {}", i * 7)), "{ctx}");
    }
    assert!(stdout.contains(&format!("done: {} operations completed through epoll", 2 + 3 * ops)), "{ctx}");
    assert!(started.elapsed() < Duration::from_secs(60), "no hang: {ctx}");
}

#[test]
fn s2_12_c_example_waits_on_its_eventfds_with_epoll_reference_driver() {
    let exe = build("notify-ref");
    for delay in [0, 5, 50] {
        for steps in [1, 3] {
            run(&exe, &format!("DSN=ref-test;Steps={steps};Delay={delay}"), 3);
        }
    }
}

#[test]
fn s2_12_c_example_waits_on_its_eventfds_with_epoll_sqlite_emulated() {
    let exe = build("notify-sqlite");
    run(&exe, "DSN=sqlite-test;AsyncEmulation=1", 3);
}
