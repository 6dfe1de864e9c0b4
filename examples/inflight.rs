//! Issue 12 item 3: N asynchronous operations in flight at once on the reference driver
//! (native notification, `Steps=1;Delay=<ms>`), reported, never asserted (the test
//! `tests/async_inflight.rs` asserts the properties at 10,000).
//!
//!     cargo build --release -p odbc-refdriver      # once
//!     cargo run --release --example inflight -- [COUNT] [MODE] [CONNECTIONS] [DELAY_MS]
//!
//! COUNT (default 100000) statements over CONNECTIONS (default 100) connections, each
//! running `SELECT <i>`, then fetching and reading the value back (checked = i).
//!
//! MODE:
//! - `futures` (default): the safe API. N `AsyncStatement` tasks (execute, fetch, get_data)
//!   on a one-thread hand-made executor; each statement is in the DM's waker notification
//!   mode (decision #108): no eventfd.
//! - `raw-event`: the raw (ODBC-shaped) layer in notification mode, every statement given
//!   the *same* application eventfd (`SQL_ATTR_ASYNC_STMT_EVENT` = the descriptor number,
//!   decision #63, shared by the application's choice, #109); on each signal the
//!   application reads the eventfd and polls its outstanding statements with
//!   `SQLCompleteAsync` (SQL_NO_DATA = not yet).
//!
//! Reports: time to start all and total time until all are collected and checked; DM
//! threads (`/proc/self/task/*/comm` = `odbc-dm*`) and process threads before, while in
//! flight and after; open file descriptors (`/proc/self/fd`) at the same points; DM heap
//! per statement (allocated and configured, statement object, handle slot and safe-API
//! wrapper included) and per in-flight operation, from a counting `#[global_allocator]`:
//! it sees every Rust allocation of this binary (the DM and the example) but not the
//! driver's (a separate cdylib). The example's own per-operation allocations (the task
//! boxes of the executor) are subtracted and shown.

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use odbc_dm::abi::*;
use odbc_dm::api::{AsyncConnection, AsyncStatement, Environment};
use odbc_dm::raw::*;

struct CountingAlloc;
static LIVE: AtomicI64 = AtomicI64::new(0);

/// With `INFLIGHT_HIST=1`: net live allocations by requested size (bucket = size, the last
/// one = larger) made while `HIST_ON` is set, printed per measured phase: where the bytes
/// per statement and per operation go.
static HIST_ON: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
const HIST_MAX: usize = 1024;
static HIST: [AtomicI64; HIST_MAX + 2] = [const { AtomicI64::new(0) }; HIST_MAX + 2];

fn hist(size: usize, d: i64) {
    if HIST_ON.load(Ordering::Relaxed) {
        HIST[size.min(HIST_MAX + 1)].fetch_add(d, Ordering::Relaxed);
    }
}

fn hist_start() {
    if std::env::var_os("INFLIGHT_HIST").is_some() {
        for b in &HIST {
            b.store(0, Ordering::Relaxed);
        }
        HIST_ON.store(true, Ordering::SeqCst);
    }
}

/// Prints the sizes with at least `n / 2` net live allocations.
fn hist_report(phase: &str, n: usize) {
    if !HIST_ON.swap(false, Ordering::SeqCst) {
        return;
    }
    if phase == "statement" {
        let mut sizes = ext::statement_sizes();
        sizes.push(("AsyncStatement", std::mem::size_of::<AsyncStatement>()));
        println!("  [hist] sizes: {sizes:?}");
    }
    let mut line = format!("  [hist] {phase}: net live allocations per unit by size:");
    for (size, b) in HIST.iter().enumerate() {
        let c = b.load(Ordering::Relaxed);
        if c.unsigned_abs() as usize >= n / 2 {
            let label = if size > HIST_MAX { format!(">{HIST_MAX}") } else { size.to_string() };
            line.push_str(&format!(" {label} B x{:.2};", c as f64 / n as f64));
        }
    }
    println!("{line}");
}

// SAFETY: forwards every call to `System` unchanged; only counts sizes.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            LIVE.fetch_add(l.size() as i64, Ordering::Relaxed);
            hist(l.size(), 1);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc_zeroed(l) };
        if !p.is_null() {
            LIVE.fetch_add(l.size() as i64, Ordering::Relaxed);
            hist(l.size(), 1);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(p, l) };
        LIVE.fetch_sub(l.size() as i64, Ordering::Relaxed);
        hist(l.size(), -1);
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let q = unsafe { System.realloc(p, l, n) };
        if !q.is_null() {
            LIVE.fetch_add(n as i64 - l.size() as i64, Ordering::Relaxed);
            hist(l.size(), -1);
            hist(n, 1);
        }
        q
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

fn live() -> i64 {
    LIVE.load(Ordering::SeqCst)
}

/// (process threads, DM threads `odbc-dm*`).
fn threads() -> (usize, usize) {
    let (mut all, mut dm) = (0, 0);
    for e in std::fs::read_dir("/proc/self/task").expect("/proc/self/task").flatten() {
        all += 1;
        if std::fs::read_to_string(e.path().join("comm")).unwrap_or_default().starts_with("odbc-dm") {
            dm += 1;
        }
    }
    (all, dm)
}

fn fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0)
}

#[derive(Clone, Copy, Debug)]
struct Snap {
    threads: usize,
    dm_threads: usize,
    fds: usize,
}

fn snap() -> Snap {
    let (threads, dm_threads) = threads();
    Snap { threads, dm_threads, fds: fds() }
}

fn refdriver() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target");
    for p in ["release/libodbc_refdriver.so", "debug/libodbc_refdriver.so"] {
        if root.join(p).exists() {
            return root.join(p);
        }
    }
    panic!("build the reference driver first: cargo build --release -p odbc-refdriver");
}

/// The soft open-file limit, left as it is: the DM needs no descriptor per statement.
fn nofile_limit() -> u64 {
    let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: valid out pointer.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) };
    r.rlim_cur
}

// ---------------------------------------------------------------------------------------
// A one-thread executor: a ready queue of task indices, woken by wakers made up front.

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

type Task<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + 'a>>;

struct Report {
    mode: &'static str,
    n: usize,
    conns: usize,
    alloc_time: Duration,
    start_time: Duration,
    total: Duration,
    per_stmt: f64,
    per_op: f64,
    example_per_op: f64,
    before: Snap,
    during: Snap,
    after: Snap,
    in_flight: usize,
    /// Of those, still running at the DM (not yet ended) at the snapshot.
    running: usize,
}

/// How many of `hs` have an operation still running at the DM (started, not ended).
fn running_at_dm(hs: impl Iterator<Item = SqlHandle>) -> usize {
    hs.filter(|&h| {
        ext::op_status(HandleType::SQL_HANDLE_STMT, h)
            .is_ok_and(|s| matches!(s.phase, ext::OpPhase::First | ext::OpPhase::Waiting | ext::OpPhase::Running))
    })
    .count()
}

fn futures_mode(n: usize, conns: usize, cs: &str) -> Report {
    let env = Environment::new().expect("environment");
    let connections: Vec<AsyncConnection> = (0..conns).map(|_| AsyncConnection::connect_blocking(&env, cs).expect("connect")).collect();
    let before = snap();
    let l0 = live();
    hist_start();
    let t = Instant::now();
    let mut stmts: Vec<AsyncStatement> = Vec::with_capacity(n);
    for i in 0..n {
        stmts.push(connections[i % conns].statement().expect("statement"));
    }
    let alloc_time = t.elapsed();
    let per_stmt = (live() - l0) as f64 / n as f64;
    hist_report("statement", n);

    // The executor's own memory, made before the measurement: wakers and the task vector.
    let ready = Arc::new(Mutex::new(Vec::<usize>::with_capacity(n)));
    let wakers: Vec<Waker> =
        (0..n).map(|idx| Waker::from(Arc::new(TaskWaker { idx, ready: ready.clone(), thread: std::thread::current() }))).collect();
    let stmts_raw: Vec<SqlHandle> = stmts.iter().map(|s| s.as_raw()).collect();
    let mut tasks: Vec<Option<Task<'_>>> = Vec::with_capacity(n);
    let l1 = live();
    hist_start();
    let t = Instant::now();
    let mut task_bytes = 0usize;
    for (i, st) in stmts.iter_mut().enumerate() {
        let task: Task<'_> = Box::pin(async move {
            // The text goes to the operation (no copy kept here: the example's own
            // allocations are not the DM's).
            if !st.execute(format!("SELECT {i}")).await.map_err(|e| e.to_string())? {
                return Err(format!("SELECT {i}: no result set"));
            }
            if !st.fetch().await.map_err(|e| e.to_string())? {
                return Err(format!("SELECT {i}: no row"));
            }
            let v: i64 = st.get_data(1).await.map_err(|e| e.to_string())?;
            if v != i as i64 {
                return Err(format!("SELECT {i} returned {v}"));
            }
            Ok(())
        });
        task_bytes += std::mem::size_of_val(&*task);
        tasks.push(Some(task));
    }
    // First poll of every task: each starts its SQLExecDirect (SQL_STILL_EXECUTING).
    let mut done = 0usize;
    let mut failures = Vec::new();
    for i in 0..n {
        let mut cx = Context::from_waker(&wakers[i]);
        if let Poll::Ready(r) = tasks[i].as_mut().unwrap().as_mut().poll(&mut cx) {
            tasks[i] = None;
            done += 1;
            if let Err(e) = r {
                failures.push(e);
            }
        }
    }
    let start_time = t.elapsed();
    let in_flight = n - done;
    let during = snap();
    let running = running_at_dm(stmts_raw.iter().copied());
    let heap = (live() - l1) as f64;
    hist_report("operation (the example's task box included)", n);
    let example_per_op = task_bytes as f64 / n as f64;
    let per_op = (heap - task_bytes as f64) / in_flight.max(1) as f64;
    while done < n {
        let batch = std::mem::take(&mut *ready.lock().unwrap());
        if batch.is_empty() {
            std::thread::park_timeout(Duration::from_millis(100));
            continue;
        }
        for i in batch {
            let Some(task) = tasks[i].as_mut() else { continue };
            let mut cx = Context::from_waker(&wakers[i]);
            if let Poll::Ready(r) = task.as_mut().poll(&mut cx) {
                tasks[i] = None;
                done += 1;
                if let Err(e) = r {
                    failures.push(e);
                }
            }
        }
    }
    let total = t.elapsed();
    assert!(failures.is_empty(), "{} operations failed, first: {}", failures.len(), failures[0]);
    drop(tasks);
    drop(stmts);
    let after = snap();
    drop(connections);
    Report {
        mode: "futures",
        n,
        conns,
        alloc_time,
        start_time,
        total,
        per_stmt,
        per_op,
        example_per_op,
        before,
        during,
        after,
        in_flight,
        running,
    }
}

fn ok(rc: SqlReturn, what: &str) {
    assert!(rc.is_success(), "{what}: {rc:?}");
}

fn raw_event_mode(n: usize, conns: usize, cs: &str) -> Report {
    let mut env = null_mut();
    // SAFETY: valid out pointers; version by value.
    unsafe {
        ok(SQLAllocHandle(HandleType::SQL_HANDLE_ENV, null_mut(), &mut env), "env");
        ok(SQLSetEnvAttr(env, EnvAttr::SQL_ATTR_ODBC_VERSION, SQL_OV_ODBC3_80 as SqlPointer, 0), "version");
    }
    let mut dbcs = Vec::new();
    for _ in 0..conns {
        let mut dbc = null_mut();
        // SAFETY: live env, valid out pointer; the string outlives the call.
        unsafe {
            ok(SQLAllocHandle(HandleType::SQL_HANDLE_DBC, env, &mut dbc), "dbc");
            let rc = SQLDriverConnect(
                dbc,
                null_mut(),
                cs.as_ptr(),
                cs.len() as i16,
                null_mut(),
                0,
                null_mut(),
                DriverCompletion::SQL_DRIVER_NOPROMPT,
            );
            ok(rc, "connect");
        }
        dbcs.push(dbc);
    }
    // One application eventfd for every statement (the application's choice, #109).
    // SAFETY: plain syscall.
    let efd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    assert!(efd >= 0, "eventfd");
    let before = snap();
    let l0 = live();
    hist_start();
    let t = Instant::now();
    let mut stmts = Vec::with_capacity(n);
    for i in 0..n {
        let mut s = null_mut();
        // SAFETY: live connection; valid out pointer; integer attributes by value.
        unsafe {
            ok(SQLAllocHandle(HandleType::SQL_HANDLE_STMT, dbcs[i % conns], &mut s), "stmt");
            ok(SQLSetStmtAttr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_ON as SqlPointer, 0), "async enable");
            ok(SQLSetStmtAttr(s, StmtAttr::SQL_ATTR_ASYNC_STMT_EVENT, efd as usize as SqlPointer, 0), "event");
        }
        stmts.push(s);
    }
    let alloc_time = t.elapsed();
    let per_stmt = (live() - l0) as f64 / n as f64;
    hist_report("statement", n);
    // The SQL texts stay alive until collected (§2.9); made before the measurement.
    let texts: Vec<String> = (0..n).map(|i| format!("SELECT {i}")).collect();
    let mut outstanding: Vec<usize> = Vec::with_capacity(n);
    let mut next: Vec<usize> = Vec::with_capacity(n);
    let l1 = live();
    hist_start();
    let t = Instant::now();
    for (i, &s) in stmts.iter().enumerate() {
        // SAFETY: live statement; the text outlives the operation.
        let rc = unsafe { SQLExecDirect(s, texts[i].as_ptr(), texts[i].len() as i32) };
        assert_eq!(rc, SqlReturn::SQL_STILL_EXECUTING, "statement {i}");
        outstanding.push(i);
    }
    let start_time = t.elapsed();
    let in_flight = outstanding.len();
    let during = snap();
    let running = running_at_dm(stmts.iter().copied());
    let per_op = (live() - l1) as f64 / in_flight as f64;
    hist_report("operation", n);
    // Each statement: execute, then fetch (async too), then SQLGetData (async too).
    let mut stage = vec![0u8; n];
    let mut values = vec![0i64; n];
    while !outstanding.is_empty() {
        let mut pfd = libc::pollfd { fd: efd, events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut pfd, 1, 1000) };
        let mut v = 0u64;
        // SAFETY: 8 bytes into a valid u64; EAGAIN when not set is fine.
        unsafe { libc::read(efd, &mut v as *mut u64 as *mut libc::c_void, 8) };
        next.clear();
        for &i in &outstanding {
            let s = stmts[i];
            let mut code: RetCode = 0;
            // SAFETY: live statement, valid out pointer.
            let r = unsafe { SQLCompleteAsync(HandleType::SQL_HANDLE_STMT, s, &mut code) };
            if r == SqlReturn::SQL_NO_DATA {
                next.push(i);
                continue;
            }
            ok(r, "SQLCompleteAsync");
            ok(SqlReturn(code), "operation");
            stage[i] += 1;
            // SAFETY: live statement; the out buffer lives in `values` until collected.
            let rc = unsafe {
                match stage[i] {
                    1 => SQLFetch(s),
                    2 => SQLGetData(s, 1, CDataType::SQL_C_SBIGINT, (&mut values[i]) as *mut i64 as SqlPointer, 8, null_mut()),
                    _ => {
                        assert_eq!(values[i], i as i64, "statement {i}");
                        continue;
                    }
                }
            };
            assert_eq!(rc, SqlReturn::SQL_STILL_EXECUTING, "statement {i} stage {}", stage[i]);
            next.push(i);
        }
        std::mem::swap(&mut outstanding, &mut next);
    }
    let total = t.elapsed();
    for s in stmts {
        // SAFETY: live statement, nothing outstanding.
        unsafe { SQLFreeHandle(HandleType::SQL_HANDLE_STMT, s) };
    }
    let after = snap();
    for d in dbcs {
        // SAFETY: live connection without statements.
        unsafe {
            SQLDisconnect(d);
            SQLFreeHandle(HandleType::SQL_HANDLE_DBC, d);
        }
    }
    // SAFETY: our descriptor; the live environment without connections.
    unsafe {
        libc::close(efd);
        SQLFreeHandle(HandleType::SQL_HANDLE_ENV, env);
    }
    Report {
        mode: "raw-event",
        n,
        conns,
        alloc_time,
        start_time,
        total,
        per_stmt,
        per_op,
        example_per_op: 0.0,
        before,
        during,
        after,
        in_flight,
        running,
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map(|a| a.parse().expect("COUNT")).unwrap_or(100_000);
    let mode = args.next().unwrap_or_else(|| "futures".into());
    let conns: usize = args.next().map(|a| a.parse().expect("CONNECTIONS")).unwrap_or(100);
    let delay: u64 = args.next().map(|a| a.parse().expect("DELAY_MS")).unwrap_or(50);
    let cs = format!("DRIVER={};Database=:memory:;Steps=1;Delay={delay}", refdriver().display());
    let nofile = nofile_limit();
    let r = match mode.as_str() {
        "futures" => futures_mode(n, conns, &cs),
        "raw-event" => raw_event_mode(n, conns, &cs),
        m => panic!("unknown mode {m} (futures | raw-event)"),
    };
    println!("inflight: mode={} N={} connections={} Steps=1 Delay={delay} ms (RLIMIT_NOFILE soft {nofile})", r.mode, r.n, r.conns);
    println!("  allocate + configure {} statements: {:.1} ms", r.n, r.alloc_time.as_secs_f64() * 1e3);
    println!(
        "  start all: {:.1} ms; in flight at snapshot: {} started, not collected; {} still running at the DM (the rest ended before the snapshot; use a DELAY_MS longer than the start)",
        r.start_time.as_secs_f64() * 1e3,
        r.in_flight,
        r.running
    );
    println!("  total until all collected and checked (execute + fetch + get_data): {:.1} ms", r.total.as_secs_f64() * 1e3);
    println!(
        "  threads (process / DM): before {} / {}, in flight {} / {}, after {} / {}",
        r.before.threads, r.before.dm_threads, r.during.threads, r.during.dm_threads, r.after.threads, r.after.dm_threads
    );
    println!("  open fds: before {}, in flight {}, after {}", r.before.fds, r.during.fds, r.after.fds);
    println!("  DM heap per statement (allocated, configured, idle): {:.0} bytes", r.per_stmt);
    println!(
        "  DM heap per in-flight operation: {:.0} bytes (example's task box {:.0} bytes subtracted); statement + operation: {:.0} bytes",
        r.per_op,
        r.example_per_op,
        r.per_stmt + r.per_op
    );
}
