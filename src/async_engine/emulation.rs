//! Emulated asynchronous execution for drivers that only run synchronously (beyond the
//! spec; opt-in through `AsyncEmulation=Yes` or the DM connection attribute
//! [`SQL_ATTR_DM_ASYNC_EMULATION`]).
//!
//! The DM captures the call exactly as in notification mode, returns SQL_STILL_EXECUTING,
//! and runs the (blocking) driver call on a bounded pool of DM threads
//! ("odbc-dm-emu-N"). It completes through the same path as a native notification: result
//! and diagnostics stored on the handle, event set, future woken, SQLCompleteAsync or the
//! polling repeat call collects it. Cancel reaches the driver as a cross-thread SQLCancel.

use std::sync::{Arc, OnceLock};

use crossbeam_channel::{unbounded, Sender};

use super::host::{run_to_completion, AsyncHost};

/// DM connection attribute: `SQL_ASYNC_ENABLE_ON` lets the DM emulate asynchronous
/// execution (polling and notification) where the driver cannot. In unixODBC's range of
/// DM-private attributes, never sent to a driver.
pub const SQL_ATTR_DM_ASYNC_EMULATION: i32 = 65_501;

/// Environment variable overriding the pool size.
pub const POOL_SIZE_ENV: &str = "ODBC_DM_EMULATION_THREADS";

type Job = Box<dyn FnOnce() + Send>;

static POOL: OnceLock<Sender<Job>> = OnceLock::new();

/// The number of emulation threads: `ODBC_DM_EMULATION_THREADS`, else 16. Each runs one
/// blocking driver call at a time, so this bounds the emulated operations that make
/// progress at once; the others queue.
pub fn pool_size() -> usize {
    std::env::var(POOL_SIZE_ENV).ok().and_then(|v| v.parse().ok()).filter(|&n| n > 0).unwrap_or(16)
}

fn pool() -> &'static Sender<Job> {
    POOL.get_or_init(|| {
        let (tx, rx) = unbounded::<Job>();
        for i in 0..pool_size() {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("odbc-dm-emu-{i}"))
                .spawn(move || {
                    while let Ok(job) = rx.recv() {
                        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).is_err() {
                            log::error!("odbc-dm: panic in an emulated asynchronous call (caught)");
                        }
                    }
                })
                .expect("spawn an odbc-dm emulation thread");
        }
        tx
    })
}

/// Runs the operation captured on `host` on the pool.
pub(crate) fn submit<H: AsyncHost>(host: Arc<H>) {
    let _ = pool().send(Box::new(move || run_to_completion(&*host)));
}

/// The pending result of a closure run on the emulation pool ([`spawn_blocking`]): a
/// runtime-agnostic future, woken from the pool thread through an `AtomicWaker`.
pub(crate) struct BlockingTask<T> {
    shared: Arc<TaskShared<T>>,
}

struct TaskShared<T> {
    value: std::sync::Mutex<Option<T>>,
    done: std::sync::atomic::AtomicBool,
    waker: atomic_waker::AtomicWaker,
}

impl<T> BlockingTask<T> {
    /// Whether the closure has finished (its value may already have been taken).
    // Its user, the safe API's PoolFuture, was replaced by connection-level async.
    #[allow(dead_code)]
    pub(crate) fn is_done(&self) -> bool {
        self.shared.done.load(std::sync::atomic::Ordering::Acquire)
    }
}

impl<T> std::future::Future for BlockingTask<T> {
    type Output = T;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<T> {
        let s = &self.shared;
        if !s.done.load(std::sync::atomic::Ordering::Acquire) {
            s.waker.register(cx.waker());
            if !s.done.load(std::sync::atomic::Ordering::Acquire) {
                return std::task::Poll::Pending;
            }
        }
        match s.value.lock().unwrap_or_else(|e| e.into_inner()).take() {
            Some(v) => std::task::Poll::Ready(v),
            None => panic!("BlockingTask polled after completion"),
        }
    }
}

/// Runs `f` on the emulation pool (the threads that run sync-only drivers' calls) and
/// returns a future of its result. Used by the safe API for connection functions of
/// drivers (or DM paths) without notification-mode connection async. Dropping the future
/// does not stop `f`; its result is then dropped on the pool thread.
pub(crate) fn spawn_blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> BlockingTask<T> {
    let shared = Arc::new(TaskShared {
        value: std::sync::Mutex::new(None),
        done: std::sync::atomic::AtomicBool::new(false),
        waker: atomic_waker::AtomicWaker::new(),
    });
    let s2 = shared.clone();
    let job: Job = Box::new(move || {
        // Completes even if `f` panics (the pool catches the panic): the waiter is woken
        // and finds no value (reported as a panic in its poll, not a hang).
        struct Finish<T>(Arc<TaskShared<T>>);
        impl<T> Drop for Finish<T> {
            fn drop(&mut self) {
                self.0.done.store(true, std::sync::atomic::Ordering::Release);
                self.0.waker.wake();
            }
        }
        let fin = Finish(s2);
        let v = f();
        *fin.0.value.lock().unwrap_or_else(|e| e.into_inner()) = Some(v);
        drop(fin);
    });
    let _ = pool().send(job);
    BlockingTask { shared }
}
