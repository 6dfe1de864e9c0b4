//! The driver-owned threads behind asynchronous execution: a bounded pool of worker threads
//! (`refdrv-worker-N`) and one timer thread (`refdrv-timer`).
//!
//! * Workers run jobs from one ready queue (FIFO; "urgent" jobs go to the front). They are
//!   started on demand — when a job is queued and no worker is idle — up to a fixed bound:
//!   `REFDRIVER_WORKERS` if set to a positive integer, else `2 × available_parallelism`
//!   clamped to 4..=32. Workers never exit; a job that panics is contained (the worker lives
//!   on).
//! * The timer holds delayed jobs in a binary heap of deadlines and waits on a condvar until
//!   the earliest one is due, then moves it to the ready queue. A waiting delay therefore
//!   occupies no worker, however many operations are in flight. A job registered with a
//!   cancel flag leaves the heap early when [`cancel_requested`] is called after the flag was
//!   set (SQLCancel, SQLCancelHandle, freeing a statement).
//! * The first thread started pins the library (`dlopen(RTLD_NODELETE)` of itself), so a DM
//!   that `dlclose`s the driver cannot unmap code under the idle threads.

use crate::util::lock;
use std::cell::Cell;
use std::cmp::{Ordering as CmpOrdering, Reverse};
use std::collections::{BinaryHeap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard, Once, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// A unit of work for a pool thread.
pub type Job = Box<dyn FnOnce() + Send>;

/// Upper bound on `REFDRIVER_WORKERS`.
const MAX_WORKERS: usize = 1024;

thread_local! {
    /// True on the pool's worker threads.
    static ON_WORKER: Cell<bool> = const { Cell::new(false) };
}

/// Whether the calling thread is one of the pool's workers (a DM callback re-entering the
/// driver from a worker must never block waiting for the pool).
pub fn on_worker() -> bool {
    ON_WORKER.try_with(Cell::get).unwrap_or(false)
}

fn wait<'a, T>(cv: &Condvar, g: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
    cv.wait(g).unwrap_or_else(PoisonError::into_inner)
}

fn wait_timeout<'a, T>(cv: &Condvar, g: MutexGuard<'a, T>, d: Duration) -> MutexGuard<'a, T> {
    match cv.wait_timeout(g, d) {
        Ok((g, _)) => g,
        Err(e) => e.into_inner().0,
    }
}

// ------------------------------------------------------------------ workers

struct Ready {
    jobs: VecDeque<Job>,
    /// Workers blocked waiting for a job.
    idle: usize,
    /// Workers spawned that have not yet looked at the queue.
    starting: usize,
    /// Workers started (they never exit).
    threads: usize,
}

struct Pool {
    q: Mutex<Ready>,
    cv: Condvar,
    max: usize,
}

/// The pool size: `REFDRIVER_WORKERS`, else 2 × available parallelism within 4..=32.
fn pool_size() -> usize {
    if let Some(n) = std::env::var("REFDRIVER_WORKERS").ok().and_then(|v| v.trim().parse::<usize>().ok()).filter(|&n| n > 0) {
        return n.min(MAX_WORKERS);
    }
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    cpus.saturating_mul(2).clamp(4, 32)
}

static POOL: LazyLock<Pool> = LazyLock::new(|| Pool {
    q: Mutex::new(Ready { jobs: VecDeque::new(), idle: 0, starting: 0, threads: 0 }),
    cv: Condvar::new(),
    max: pool_size(),
});

static WORKER_SEQ: AtomicUsize = AtomicUsize::new(1);

fn worker_loop(p: &'static Pool) {
    let _ = ON_WORKER.try_with(|w| w.set(true));
    let mut first = true;
    loop {
        let job = {
            let mut q = lock(&p.q);
            if first {
                first = false;
                q.starting -= 1;
            }
            loop {
                if let Some(j) = q.jobs.pop_front() {
                    break j;
                }
                q.idle += 1;
                q = wait(&p.cv, q);
                q.idle -= 1;
            }
        };
        // A panicking job must not take the worker down with it.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
    }
}

/// Starts one worker; on failure gives back the slot reserved for it.
fn spawn_worker(p: &'static Pool) -> bool {
    pin_library();
    let n = WORKER_SEQ.fetch_add(1, Ordering::SeqCst);
    let ok = std::thread::Builder::new().name(format!("refdrv-worker-{n}")).spawn(move || worker_loop(p)).is_ok();
    if !ok {
        let mut q = lock(&p.q);
        q.threads -= 1;
        q.starting -= 1;
    }
    ok
}

/// Queues jobs for the workers, first starting workers while there would be more queued
/// jobs than idle or starting workers and the bound allows. Workers are started *before* the
/// jobs are published, so on the hand-off path the very last action of an entry point is
/// the publication itself (a thread start never sits between a step and the return).
fn push(jobs: impl IntoIterator<Item = (Job, bool)>) {
    let p: &'static Pool = &POOL;
    let jobs: Vec<(Job, bool)> = jobs.into_iter().collect();
    if jobs.is_empty() {
        return;
    }
    let spawn = {
        let mut q = lock(&p.q);
        let spawn = (q.jobs.len() + jobs.len()).saturating_sub(q.idle + q.starting).min(p.max.saturating_sub(q.threads));
        q.threads += spawn;
        q.starting += spawn;
        spawn
    };
    for i in 0..spawn {
        if !spawn_worker(p) {
            // Give back the reservations of the workers not attempted either.
            let rest = spawn - i - 1;
            let mut q = lock(&p.q);
            q.threads -= rest;
            q.starting -= rest;
            break;
        }
    }
    let added = jobs.len();
    {
        let mut q = lock(&p.q);
        for (job, urgent) in jobs {
            if urgent {
                q.jobs.push_front(job);
            } else {
                q.jobs.push_back(job);
            }
        }
    }
    if added == 1 {
        p.cv.notify_one();
    } else {
        p.cv.notify_all();
    }
}

/// Runs `job` on a worker as soon as one is free (`urgent`: ahead of queued jobs).
pub fn run(job: Job, urgent: bool) {
    push([(job, urgent)]);
}

/// Makes sure at least one worker exists (so queued jobs will run) and, if `need_timer`,
/// that the timer thread runs. False if no worker could be started.
pub fn ensure(need_timer: bool) -> bool {
    let p: &'static Pool = &POOL;
    let start = {
        let mut q = lock(&p.q);
        let start = q.threads == 0;
        if start {
            q.threads += 1;
            q.starting += 1;
        }
        start
    };
    if start && !spawn_worker(p) {
        return false;
    }
    if need_timer {
        timer_running();
    }
    true
}

// ------------------------------------------------------------------ timer

struct Timed {
    at: Instant,
    seq: u64,
    cancel: Arc<AtomicBool>,
    urgent: bool,
    job: Job,
}

impl PartialEq for Timed {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Timed {}
impl PartialOrd for Timed {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}
impl Ord for Timed {
    fn cmp(&self, other: &Self) -> CmpOrdering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

struct TimerQ {
    /// Min-heap of deadlines (ties in submission order).
    heap: BinaryHeap<Reverse<Timed>>,
    next_seq: u64,
    /// A cancel flag was set: release every entry whose flag is set.
    rescan: bool,
}

struct Timer {
    q: Mutex<TimerQ>,
    cv: Condvar,
}

static TIMER: LazyLock<Timer> =
    LazyLock::new(|| Timer { q: Mutex::new(TimerQ { heap: BinaryHeap::new(), next_seq: 0, rescan: false }), cv: Condvar::new() });

/// Whether the timer thread was started (started on first use).
static TIMER_THREAD: OnceLock<bool> = OnceLock::new();

fn timer_running() -> bool {
    *TIMER_THREAD.get_or_init(|| {
        pin_library();
        let t: &'static Timer = &TIMER;
        std::thread::Builder::new().name("refdrv-timer".into()).spawn(move || timer_loop(t)).is_ok()
    })
}

fn timer_loop(t: &'static Timer) {
    let mut due: Vec<(Job, bool)> = Vec::new();
    let mut q = lock(&t.q);
    loop {
        if q.rescan {
            q.rescan = false;
            let (gone, keep): (Vec<_>, Vec<_>) =
                std::mem::take(&mut q.heap).into_vec().into_iter().partition(|e| e.0.cancel.load(Ordering::SeqCst));
            q.heap = BinaryHeap::from(keep);
            due.extend(gone.into_iter().map(|e| (e.0.job, e.0.urgent)));
        }
        let now = Instant::now();
        while q.heap.peek().is_some_and(|e| e.0.at <= now) {
            if let Some(Reverse(e)) = q.heap.pop() {
                due.push((e.job, e.urgent));
            }
        }
        if !due.is_empty() {
            drop(q);
            push(due.drain(..));
            q = lock(&t.q);
            continue;
        }
        q = match q.heap.peek().map(|e| e.0.at.saturating_duration_since(now)) {
            Some(d) => wait_timeout(&t.cv, q, d),
            None => wait(&t.cv, q),
        };
    }
}

/// Sleeps until `at`, waking early when `cancel` is set (polls every 2 ms). Used where a
/// thread must wait itself: without a timer thread, and for an inline step on a worker.
pub fn sleep_until_cancellable(at: Instant, cancel: &AtomicBool) {
    while !cancel.load(Ordering::SeqCst) {
        let now = Instant::now();
        if now >= at {
            break;
        }
        std::thread::sleep((at - now).min(Duration::from_millis(2)));
    }
}

/// Runs `job` on a worker at `at`, or as soon as `cancel` is set and [`cancel_requested`]
/// called. The wait occupies no worker.
pub fn run_after(at: Instant, cancel: Arc<AtomicBool>, job: Job, urgent: bool) {
    if !timer_running() {
        // No timer thread could be started: wait on a worker instead (degraded, still correct).
        run(
            Box::new(move || {
                sleep_until_cancellable(at, &cancel);
                job()
            }),
            urgent,
        );
        return;
    }
    let t: &'static Timer = &TIMER;
    let mut q = lock(&t.q);
    // Checked under the timer lock: a cancel setting the flag after this check finds the
    // entry in the heap when its rescan takes the lock.
    if cancel.load(Ordering::SeqCst) || at <= Instant::now() {
        drop(q);
        run(job, urgent);
        return;
    }
    let seq = q.next_seq;
    q.next_seq += 1;
    q.heap.push(Reverse(Timed { at, seq, cancel, urgent, job }));
    let earliest = q.heap.peek().is_some_and(|e| e.0.seq == seq);
    drop(q);
    if earliest {
        t.cv.notify_one();
    }
}

/// Call after setting a cancel flag: delayed jobs registered with a set flag become due now.
pub fn cancel_requested() {
    if TIMER_THREAD.get().copied() != Some(true) {
        return;
    }
    let t: &'static Timer = &TIMER;
    lock(&t.q).rescan = true;
    t.cv.notify_one();
}

// ------------------------------------------------------------------ library pinning

/// Keeps the library mapped for the life of the process once it owns threads: a `dlclose`
/// by the DM would otherwise unmap code that idle workers and the timer return into.
fn pin_library() {
    static PIN: Once = Once::new();
    PIN.call_once(|| {
        let here: fn() = pin_library;
        // SAFETY: Dl_info is a plain C struct of pointers and integers; all-zero is valid.
        let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
        // SAFETY: dladdr only inspects the address (a function of this library) and writes
        // into `info`, a valid out-parameter.
        let found = unsafe { libc::dladdr(here as *const libc::c_void, &mut info) };
        if found != 0 && !info.dli_fname.is_null() {
            // SAFETY: dli_fname is the loader's NUL-terminated path of the object containing
            // `here`. RTLD_NOLOAD only takes another reference to that already-loaded object
            // (no initialisers run) and RTLD_NODELETE makes every later dlclose keep it
            // mapped. The handle is deliberately never closed.
            let _handle = unsafe { libc::dlopen(info.dli_fname, libc::RTLD_NOW | libc::RTLD_NOLOAD | libc::RTLD_NODELETE) };
        }
    });
}
