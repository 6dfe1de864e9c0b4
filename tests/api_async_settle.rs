//! Dropped connection futures are settled by the DM itself (issue 10 item 3, decision #81):
//! the safe API hands the running operation and the handle over (`raw::ext::abandon`); the
//! DM cancels it (§2.14, §3.4), and once it has ended collects it (§2.13), disconnects a
//! connection that is connected and frees the handle, on its worker pool. No handle is
//! left behind, and no `odbc-dm-settle` thread exists, for step delays of 0, 5 and 50 ms,
//! with and without the driver's callback (`Fault=NoCallback`: the cancel drive, #35, ends
//! the operation).

mod common;

use std::future::Future;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use odbc_dm::abi::HandleType;
use odbc_dm::api::{AsyncConnection, Environment};
use odbc_dm::raw::ext::{self, OpPhase};

fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    let mut cx = Context::from_waker(Waker::noop());
    std::pin::Pin::new(f).poll(&mut cx)
}

/// A future from `make` whose first poll is pending. At step delay 0 the driver's three
/// steps can all end before the first poll returns (the future is then ready, and the
/// mid-flight case under test did not happen): such a future is dropped with its output (a
/// connection, say) and a new one made, up to 100 times; the test fails if none stays
/// pending.
fn pending_at_first_poll<F: Future + Unpin>(what: &str, mut make: impl FnMut() -> F) -> F {
    for _ in 0..100 {
        let mut f = make();
        if poll_once(&mut f).is_pending() {
            return f;
        }
    }
    panic!("{what}: 100 futures in a row were ready at their first poll");
}

/// The names of this process's threads (/proc/self/task/*/comm).
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("comm")).ok())
        .map(|s| s.trim().to_string())
        .collect()
}

fn assert_no_settle_thread(what: &str) {
    let names = thread_names();
    assert!(!names.iter().any(|n| n.contains("settle")), "{what}: a settle thread exists: {names:?}");
}

/// Waits (no hang: 20 s at most) until the DM handle `h` is freed. Handle ids are never
/// reused, so a gone id means this handle was freed.
fn wait_freed(h: odbc_dm::abi::SqlHandle, what: &str) {
    let t = Instant::now();
    while odbc_dm::internals::handles::dbc(h).is_some() {
        assert!(t.elapsed() < Duration::from_secs(20), "{what}: the connection handle was not freed");
        std::thread::sleep(Duration::from_millis(5));
    }
}

const VARIANTS: [(u32, &str); 6] = [(0, ""), (5, ""), (50, ""), (0, "NoCallback"), (5, "NoCallback"), (50, "NoCallback")];

fn conn_str(delay: u32, fault: &str) -> String {
    let f = if fault.is_empty() { String::new() } else { format!(";Fault={fault}") };
    common::refdriver_conn_str(&format!("Steps=3;Delay={delay}{f}"))
}

/// §2.14 / §3.4: a connect future dropped while the driver runs the connect (notification
/// mode, native) leaves no handle behind and starts no thread.
#[test]
fn s2_14_dropped_connect_future_is_settled_by_the_dm() {
    common::init();
    let env = Environment::new().unwrap();
    for (delay, fault) in VARIANTS {
        let what = format!("Delay={delay} Fault={fault}");
        let cs = conn_str(delay, fault);
        let f = pending_at_first_poll(&what, || AsyncConnection::connect(&env, &cs));
        let h = f.raw_handle().unwrap();
        let st = ext::op_status(HandleType::SQL_HANDLE_DBC, h).unwrap();
        assert!(st.notify && !st.emulated, "{what}: a native notification-mode connect ({st:?})");
        drop(f);
        assert_no_settle_thread(&what);
        wait_freed(h, &what);
        assert_no_settle_thread(&what);
    }
}

/// §2.13: a connect that ended (successfully) before its future was dropped, not collected:
/// the DM collects it, disconnects and frees the handle.
#[test]
fn s2_13_dropped_connect_future_after_the_driver_finished_is_disconnected_and_freed() {
    common::init();
    let env = Environment::new().unwrap();
    for delay in [0u32, 5, 50] {
        let what = format!("Delay={delay}");
        let cs = conn_str(delay, "");
        let f = pending_at_first_poll(&what, || AsyncConnection::connect(&env, &cs));
        let h = f.raw_handle().unwrap();
        let t = Instant::now();
        while ext::op_status(HandleType::SQL_HANDLE_DBC, h).unwrap().phase != OpPhase::Done {
            assert!(t.elapsed() < Duration::from_secs(10), "{what}: the connect did not end");
            std::thread::sleep(Duration::from_millis(2));
        }
        drop(f);
        wait_freed(h, &what);
        assert_no_settle_thread(&what);
    }
}

/// §2.14 / §1.4: a disconnect future dropped mid-flight leaves no handle behind.
#[test]
fn s2_14_dropped_disconnect_future_is_settled_by_the_dm() {
    common::init();
    let env = Environment::new().unwrap();
    for (delay, fault) in VARIANTS {
        let what = format!("Delay={delay} Fault={fault}");
        // (NoCallback: an asynchronous connect would never be woken; connect synchronously.)
        let cs = conn_str(delay, fault);
        let f = pending_at_first_poll(&what, || AsyncConnection::connect_blocking(&env, &cs).unwrap().disconnect());
        let h = f.raw_handle().unwrap();
        assert!(ext::is_connected(h).unwrap(), "{what}");
        drop(f);
        assert_no_settle_thread(&what);
        wait_freed(h, &what);
        assert_no_settle_thread(&what);
    }
}

/// §1.10 / §2.13: a dropped commit stays a leftover; dropping the connection then hands the
/// handle to the DM, which collects, disconnects and frees it (no wait in the drop).
#[test]
fn s2_13_connection_dropped_with_a_leftover_commit_is_settled_by_the_dm() {
    common::init();
    let env = Environment::new().unwrap();
    for delay in [0u32, 5, 50] {
        let what = format!("Delay={delay}");
        let conn = pollster::block_on(AsyncConnection::connect(&env, &conn_str(delay, ""))).unwrap();
        let h = {
            let f = pending_at_first_poll(&what, || conn.commit());
            f.raw_handle().unwrap()
        };
        drop(conn);
        wait_freed(h, &what);
        assert_no_settle_thread(&what);
    }
}

/// §2.14 / §2.9: a statement dropped while its operation runs (its future dropped first)
/// is freed by the DM once the operation has ended; the drop does not wait, and the
/// connection stays usable until then and is freed after the statement.
#[test]
fn s2_14_statement_dropped_mid_operation_is_freed_by_the_dm() {
    common::init();
    let env = Environment::new().unwrap();
    for (delay, fault) in VARIANTS {
        let what = format!("Delay={delay} Fault={fault}");
        let conn = AsyncConnection::connect_blocking(&env, &conn_str(delay, fault)).unwrap();
        let hdbc = conn.connection().as_raw();
        let mut st = conn.statement().unwrap();
        // (See `pending_at_first_poll`: an execute that ended within its first poll is
        // closed and made again.)
        let mut tries = 0;
        let h = loop {
            let mut f = st.execute("SELECT 1");
            if poll_once(&mut f).is_pending() {
                drop(f);
                break st.as_raw();
            }
            drop(f);
            st.close_cursor().unwrap();
            tries += 1;
            assert!(tries < 100, "{what}: 100 executes in a row were ready at their first poll");
        };
        // Outstanding: running, or ended (the drop cancelled it) and not collected.
        assert!(odbc_dm::internals::handles::stmt(h).unwrap().async_slot.is_active(), "{what}: the execute is outstanding");
        drop(st);
        drop(conn);
        let t = Instant::now();
        while odbc_dm::internals::handles::stmt(h).is_some() {
            assert!(t.elapsed() < Duration::from_secs(20), "{what}: the statement handle was not freed");
            std::thread::sleep(Duration::from_millis(5));
        }
        wait_freed(hdbc, &what);
        assert_no_settle_thread(&what);
    }
}
