//! Emulated asynchronous execution for drivers that only run synchronously (beyond the
//! spec; opt-in through `AsyncEmulation=Yes` or the DM connection attribute
//! [`SQL_ATTR_DM_ASYNC_EMULATION`]).
//!
//! The DM captures the call exactly as in notification mode, returns SQL_STILL_EXECUTING,
//! and runs the (blocking) driver call on a bounded pool of DM threads
//! ("odbc-dm-emu-N"). It completes through the same path as a native notification: result
//! and diagnostics stored on the handle, event set, future woken, SQLCompleteAsync or the
//! polling repeat call collects it. Cancel reaches the driver as a cross-thread SQLCancel.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crossbeam_channel::{unbounded, Sender};

use super::host::{run_to_completion, AsyncHost};

/// DM connection attribute: `SQL_ASYNC_ENABLE_ON` lets the DM emulate asynchronous
/// execution (polling and notification) where the driver cannot. In unixODBC's range of
/// DM-private attributes, never sent to a driver.
pub const SQL_ATTR_DM_ASYNC_EMULATION: i32 = 65_501;

/// Environment variable overriding the pool size.
pub const POOL_SIZE_ENV: &str = "ODBC_DM_EMULATION_THREADS";

type Job = Box<dyn FnOnce() + Send>;

struct Pool {
    tx: Sender<Job>,
    threads: Vec<JoinHandle<()>>,
}

/// The running pool (started on first use, again after [`shutdown`]). Only the
/// application threads that start emulated operations take this lock, never a driver.
static POOL: Mutex<Option<Pool>> = Mutex::new(None);

/// The number of emulation threads: `ODBC_DM_EMULATION_THREADS`, else 16. Each runs one
/// blocking driver call at a time, so this bounds the emulated operations that make
/// progress at once; the others queue.
pub fn pool_size() -> usize {
    std::env::var(POOL_SIZE_ENV).ok().and_then(|v| v.parse().ok()).filter(|&n| n > 0).unwrap_or(16)
}

fn start() -> Option<Pool> {
    let (tx, rx) = unbounded::<Job>();
    let mut threads = Vec::new();
    for i in 0..pool_size() {
        let rx = rx.clone();
        let t = std::thread::Builder::new().name(format!("odbc-dm-emu-{i}")).spawn(move || {
            while let Ok(job) = rx.recv() {
                if std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).is_err() {
                    log::error!("odbc-dm: panic in an emulated asynchronous call (caught)");
                }
            }
        });
        match t {
            Ok(t) => threads.push(t),
            Err(e) => log::error!("odbc-dm: cannot start an emulation thread: {e}"),
        }
    }
    if threads.is_empty() {
        return None;
    }
    Some(Pool { tx, threads })
}

/// Runs the operation captured on `host` on the pool (started, or started again, as
/// needed). `Err(host)` when no pool thread can run it: the caller fails the operation.
pub(crate) fn submit<H: AsyncHost>(host: Arc<H>) -> Result<(), Arc<H>> {
    let mut g = POOL.lock().unwrap_or_else(|e| e.into_inner());
    if g.is_none() {
        *g = start();
    }
    let Some(p) = g.as_ref() else { return Err(host) };
    let h2 = host.clone();
    match p.tx.send(Box::new(move || run_to_completion(&*h2))) {
        Ok(()) => Ok(()),
        Err(_) => {
            *g = None;
            Err(host)
        }
    }
}

/// Runs `job` on the pool (started, or started again, as needed): the DM's own follow-up
/// work, such as settling an abandoned operation (decision #81). Run on the calling thread
/// when no pool thread can take it.
pub(crate) fn run_detached(job: Job) {
    let job = {
        let mut g = POOL.lock().unwrap_or_else(|e| e.into_inner());
        if g.is_none() {
            *g = start();
        }
        match g.as_ref() {
            Some(p) => match p.tx.send(job) {
                Ok(()) => return,
                Err(e) => {
                    *g = None;
                    e.0
                }
            },
            None => job,
        }
    };
    log::warn!("odbc-dm: no emulation thread can run the DM's follow-up work; it runs on the calling thread");
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).is_err() {
        log::error!("odbc-dm: panic in the DM's follow-up work (caught)");
    }
}

/// Stops the pool: the queued calls still run, then its threads end and are joined. A
/// later emulated operation starts a new pool. Meant for orderly shutdown (tests,
/// embedders unloading the DM).
pub fn shutdown() {
    let p = POOL.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(p) = p {
        drop(p.tx);
        for t in p.threads {
            let _ = t.join();
        }
    }
}
