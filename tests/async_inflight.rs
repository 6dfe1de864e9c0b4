//! Issue 12 item 3: asynchronous operations without a file descriptor per statement.
//!
//! - The futures API puts its handles in the DM's waker notification mode (decision #108):
//!   10,000 operations in flight on the reference driver open no descriptor per statement
//!   and start no DM thread per operation, and all complete with the right results (§2.1,
//!   §2.12, §2.13).
//! - An application may give several statements the same eventfd (§2.1/§2.2 say one event
//!   *should* not serve two handles; the application chooses so here, decision #109): the
//!   DM keeps one duplicate for all of them, signals it at every end, and the application
//!   polls each statement with SQLCompleteAsync (§2.12, §2.13, §7.7).
//! - The waker mode is a DM extension: a raw handle with async on and neither an event nor
//!   the extension stays in polling mode (§2.1).
//!
//! Never asserts on time. Step delays 0, 5 and 50 ms.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use common::rawh::{self, set_stmt_attr, H};
use odbc_dm::abi::*;
use odbc_dm::api::{AsyncConnection, AsyncStatement, Environment};
use odbc_dm::raw::*;

const STMT: HandleType = HandleType::SQL_HANDLE_STMT;

fn fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap()
}

/// Every open descriptor and what it is, for failure messages.
fn fd_list() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir("/proc/self/fd")
        .map(|d| {
            d.flatten()
                .map(|e| {
                    format!(
                        "{} -> {}",
                        e.file_name().to_string_lossy(),
                        std::fs::read_link(e.path()).map(|l| l.display().to_string()).unwrap_or_default()
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn eventfds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .filter(|e| std::fs::read_link(e.path()).is_ok_and(|l| l.as_os_str() == "anon_inode:[eventfd]"))
        .count()
}

/// Threads of the DM (named `odbc-dm*`).
fn dm_threads() -> usize {
    let names: Vec<String> = std::fs::read_dir("/proc/self/task")
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path().join("comm")).unwrap_or_default())
        .filter(|c| c.starts_with("odbc-dm"))
        .collect();
    names.len()
}

/// The tests count the process's descriptors and threads: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

struct TaskWaker {
    idx: usize,
    ready: Arc<Mutex<Vec<usize>>>,
    thread: std::thread::Thread,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.ready.lock().unwrap().push(self.idx);
        self.thread.unpark();
    }
}

type Task<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// N futures-API statements over `conns` connections, all started before any is collected
/// on a one-thread executor; returns (descriptors, DM threads) before and while in flight.
fn run_in_flight(n: usize, conns: usize, delay: u32) {
    let env = Environment::new().unwrap();
    let cs = common::refdriver_conn_str(&format!("Steps=1;Delay={delay}"));
    let connections: Vec<AsyncConnection> = (0..conns).map(|_| AsyncConnection::connect_blocking(&env, &cs).unwrap()).collect();
    // Warm up: the dispatcher starts with the first notification-mode operation.
    {
        let mut st = connections[0].statement().unwrap();
        assert!(st.execute_blocking("SELECT 1").unwrap());
    }
    let fds_before = fds();
    let eventfds_before = eventfds();
    let dm_before = dm_threads();
    let mut stmts: Vec<AsyncStatement> = (0..n).map(|i| connections[i % conns].statement().unwrap()).collect();
    assert!(fds() <= fds_before + 8, "{n} statements opened descriptors: {} → {}", fds_before, fds());
    let ready = Arc::new(Mutex::new(Vec::new()));
    let wakers: Vec<Waker> =
        (0..n).map(|idx| Waker::from(Arc::new(TaskWaker { idx, ready: ready.clone(), thread: std::thread::current() }))).collect();
    let mut tasks: Vec<Option<Task<'_>>> = stmts
        .iter_mut()
        .enumerate()
        .map(|(i, st)| {
            let t: Task<'_> = Box::pin(async move {
                let sql = format!("SELECT {i}");
                if !st.execute(&sql).await.map_err(|e| e.to_string())? {
                    return Err(format!("{sql}: no result set"));
                }
                if !st.fetch().await.map_err(|e| e.to_string())? {
                    return Err(format!("{sql}: no row"));
                }
                let v: i64 = st.get_data(1).await.map_err(|e| e.to_string())?;
                if v != i as i64 {
                    return Err(format!("{sql} returned {v}"));
                }
                Ok(())
            });
            Some(t)
        })
        .collect();
    let mut done = 0;
    for i in 0..n {
        let mut cx = Context::from_waker(&wakers[i]);
        if let Poll::Ready(r) = tasks[i].as_mut().unwrap().as_mut().poll(&mut cx) {
            r.unwrap();
            tasks[i] = None;
            done += 1;
        }
    }
    // Every operation was started (Steps=1: each first call returns SQL_STILL_EXECUTING)
    // and, with a step delay, none has even reached its last driver call: all n in flight.
    if delay >= 50 {
        assert_eq!(done, 0, "§7.1: every first call returns SQL_STILL_EXECUTING");
    }
    let fds_during = fds();
    let dm_during = dm_threads();
    assert!(fds_during <= fds_before + 8, "no descriptor per in-flight statement: {fds_before} → {fds_during} for {n}");
    assert_eq!(eventfds(), eventfds_before, "the futures API creates no eventfd (decision #108)");
    assert_eq!(dm_during, dm_before, "DM threads constant with {n} in flight");
    let deadline = Instant::now() + Duration::from_secs(300);
    while done < n {
        assert!(Instant::now() < deadline, "only {done} of {n} completed");
        let batch = std::mem::take(&mut *ready.lock().unwrap());
        if batch.is_empty() {
            std::thread::park_timeout(Duration::from_millis(50));
            continue;
        }
        for i in batch {
            let Some(t) = tasks[i].as_mut() else { continue };
            let mut cx = Context::from_waker(&wakers[i]);
            if let Poll::Ready(r) = t.as_mut().poll(&mut cx) {
                r.unwrap_or_else(|e| panic!("statement {i}: {e}"));
                tasks[i] = None;
                done += 1;
            }
        }
    }
    drop(tasks);
    drop(stmts);
    assert_eq!(dm_threads(), dm_before, "DM threads constant after");
    assert!(fds() <= fds_before + 8);
}

/// §2.1, §2.12, §2.13, decision #108: 10,000 in flight, Delay=50.
#[test]
fn ten_thousand_futures_in_flight_need_no_descriptor_or_thread_per_statement() {
    common::init();
    let _serial = serial();
    run_in_flight(10_000, 20, 50);
}

/// The same, smaller, with step delays 0 and 5 ms.
#[test]
fn futures_in_flight_with_short_step_delays() {
    common::init();
    let _serial = serial();
    for delay in [0, 5] {
        run_in_flight(500, 4, delay);
    }
}

fn exec_text(s: H, sql: &str) -> SqlReturn {
    // SAFETY: live statement; the caller keeps the text until the operation is collected.
    unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) }
}

/// §2.1, §2.12, §2.13, §7.7, decision #109: statements sharing one application eventfd
/// (the C ABI's event, #63) all complete; the application sees the event and polls each
/// with SQLCompleteAsync; the DM holds one duplicate for all of them.
#[test]
fn statements_sharing_one_application_eventfd_all_complete() {
    common::init();
    let _serial = serial();
    for delay in [0u32, 5, 50] {
        let (env, dbc) = rawh::connect(&common::refdriver_conn_str(&format!("Steps=1;Delay={delay}")));
        // SAFETY: plain syscall.
        let efd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        assert!(efd >= 0);
        let n = 40;
        let before = fds();
        let before_list = fd_list();
        let stmts: Vec<H> = (0..n).map(|_| rawh::stmt(dbc)).collect();
        for &s in &stmts {
            assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_ON), SqlReturn::SQL_SUCCESS);
            let rc = set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_STMT_EVENT, efd as usize);
            assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{}", rawh::diag_text(STMT, s));
        }
        let dups = fds() - before;
        if dups > 1 {
            // Without kcmp the DM keeps one duplicate per handle (still correct).
            eprintln!("kcmp unavailable? {dups} duplicates for {n} handles sharing one eventfd");
        } else {
            assert_eq!(dups, 1, "one DM duplicate for every handle sharing the eventfd (#109)");
        }
        let texts: Vec<String> = (0..n).map(|i| format!("SELECT {}", i * 7)).collect();
        for (i, &s) in stmts.iter().enumerate() {
            assert_eq!(exec_text(s, &texts[i]), SqlReturn::SQL_STILL_EXECUTING, "{}", rawh::diag_text(STMT, s));
        }
        let mut outstanding: Vec<usize> = (0..n).collect();
        let mut signals = 0;
        let deadline = Instant::now() + Duration::from_secs(60);
        while !outstanding.is_empty() {
            assert!(Instant::now() < deadline, "{} statements never completed", outstanding.len());
            let mut pfd = libc::pollfd { fd: efd, events: libc::POLLIN, revents: 0 };
            // SAFETY: one valid pollfd.
            if unsafe { libc::poll(&mut pfd, 1, 1000) } != 1 {
                continue;
            }
            let mut v = 0u64;
            // SAFETY: 8 bytes into a valid u64 from our eventfd: the application resets it.
            assert_eq!(unsafe { libc::read(efd, &mut v as *mut u64 as *mut libc::c_void, 8) }, 8);
            assert!(v >= 1);
            signals += v;
            outstanding.retain(|&i| {
                let (r, code) = rawh::complete_async(STMT, stmts[i]);
                if r == SqlReturn::SQL_NO_DATA {
                    return true; // not finished yet (§2.13)
                }
                assert_eq!(r, SqlReturn::SQL_SUCCESS);
                assert!(code.is_success(), "statement {i}: {code:?} {}", rawh::diag_text(STMT, stmts[i]));
                false
            });
        }
        // The last event write may follow the result being stored by a moment.
        let t = Instant::now();
        while signals < n as u64 && t.elapsed() < Duration::from_secs(5) {
            let mut pfd = libc::pollfd { fd: efd, events: libc::POLLIN, revents: 0 };
            // SAFETY: one valid pollfd.
            if unsafe { libc::poll(&mut pfd, 1, 100) } == 1 {
                let mut v = 0u64;
                // SAFETY: 8 bytes into a valid u64 from our eventfd.
                unsafe { libc::read(efd, &mut v as *mut u64 as *mut libc::c_void, 8) };
                signals += v;
            }
        }
        assert_eq!(signals, n as u64, "the DM set the shared event once per operation's end (§2.12)");
        for (i, &s) in stmts.iter().enumerate() {
            // Synchronous from here: polling off the event, async off.
            assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_STMT_EVENT, 0), SqlReturn::SQL_SUCCESS);
            assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_OFF), SqlReturn::SQL_SUCCESS);
            let rows = rawh::fetch_all_text(s);
            assert_eq!(rows, vec![vec![Some((i * 7).to_string())]], "statement {i}");
            rawh::free_stmt(s);
        }
        // The duplicate is closed when the DM object that holds it last goes: the freed
        // statement's, or the dispatcher's reference to it (the completion it was
        // signalling when the application saw the shared event set by another statement
        // and freed this one) a few microseconds later. So: within a bound, not at once.
        let deadline = Instant::now() + Duration::from_secs(5);
        while fds() != before && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(
            fds(),
            before,
            "the duplicate is closed with the last handle that held it: before {before_list:#?}, now {:#?}",
            fd_list()
        );
        // SAFETY: our descriptor.
        unsafe { libc::close(efd) };
        rawh::disconnect(env, dbc);
    }
}

/// §2.1: the DM's waker mode is an extension; without it (and without an event) a raw
/// statement with async on polls. With it: notification (IM017 on a repeat, §2.11), the
/// event attribute still reads NULL; off again: polling.
#[test]
fn waker_mode_is_a_dm_extension_and_raw_handles_keep_the_spec_behaviour() {
    common::init();
    let _serial = serial();
    let (env, dbc) = rawh::connect(&common::refdriver_conn_str("Steps=2;Delay=5"));
    let s = rawh::stmt(dbc);
    assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_ON), SqlReturn::SQL_SUCCESS);
    let waker = StmtAttr(ext::SQL_ATTR_DM_ASYNC_WAKER);
    let get = |attr: StmtAttr| {
        let mut v: usize = 99;
        // SAFETY: live statement, a pointer-sized out buffer.
        let rc = unsafe { SQLGetStmtAttr(s, attr, (&mut v as *mut usize).cast(), 0, std::ptr::null_mut()) };
        assert_eq!(rc, SqlReturn::SQL_SUCCESS);
        v
    };
    assert_eq!(get(waker), 0, "off by default");
    // Polling (§1.7): the repeat call returns SQL_STILL_EXECUTING or the result.
    assert_eq!(exec_text(s, "SELECT 1"), SqlReturn::SQL_STILL_EXECUTING);
    let (rc, _) = rawh::poll(|| exec_text(s, "SELECT 1"));
    assert_eq!(rc, SqlReturn::SQL_SUCCESS);
    rawh::close(s);
    // Waker mode: notification without an event.
    assert_eq!(set_stmt_attr(s, waker, 1), SqlReturn::SQL_SUCCESS, "{}", rawh::diag_text(STMT, s));
    assert_eq!(get(waker), 1);
    assert_eq!(get(StmtAttr::SQL_ATTR_ASYNC_STMT_EVENT), 0, "no event was set");
    assert_eq!(exec_text(s, "SELECT 2"), SqlReturn::SQL_STILL_EXECUTING);
    assert_eq!(exec_text(s, "SELECT 2"), SqlReturn::SQL_ERROR, "§2.11: no polling in notification mode");
    assert_eq!(rawh::diag_recs(STMT, s)[0].state, "IM017");
    let ended = ext::op_status(STMT, s).unwrap().generation;
    assert!(ext::wait_for_end(STMT, s, ended, Duration::from_secs(20)).unwrap(), "the DM's completion wait ends");
    let (r, code) = rawh::complete_async(STMT, s);
    assert_eq!((r, code), (SqlReturn::SQL_SUCCESS, SqlReturn::SQL_SUCCESS));
    rawh::close(s);
    // Off: polling again.
    assert_eq!(set_stmt_attr(s, waker, 0), SqlReturn::SQL_SUCCESS);
    assert_eq!(exec_text(s, "SELECT 3"), SqlReturn::SQL_STILL_EXECUTING);
    let (rc, _) = rawh::poll(|| exec_text(s, "SELECT 3"));
    assert_eq!(rc, SqlReturn::SQL_SUCCESS, "polling repeat calls work again");
    rawh::close(s);
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}
