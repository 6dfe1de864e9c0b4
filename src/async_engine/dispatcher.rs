//! The dispatcher: one named DM thread, "odbc-dm-dispatcher", driven by command messages
//! (in the manner of sqlx's SQLite worker). It is neither an application thread nor a
//! driver thread. For each callback it re-invokes the original driver function with the
//! same arguments (§2.9), repeats on every further callback until the call completes
//! (§2.7: never busy-polls), then records the result, sets the event and wakes the future.
//!
//! Driver calls here are non-blocking by contract (§2.7), so one thread serves every
//! handle, and the thread count does not grow with the number of operations in flight.
//! Operations whose application gave up on callbacks (abort of a driver that never calls
//! back) are "driven": polled every couple of milliseconds until they end.

use std::sync::{Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{unbounded, Receiver, RecvTimeoutError, Sender};

use super::host::{reinvoke, resolve};
use super::token::Target;

/// Messages to the dispatcher.
enum Command {
    /// A driver called back for this handle (`last` = the driver's fLast hint).
    Callback { target: Target, last: bool, at_ns: u64 },
    /// A callback came while a driver call was on the application's stack (§7.5); the
    /// phase is already RUNNING: re-invoke.
    Kick(Target),
    /// Poll this operation until it ends (abort of an operation whose callbacks never come).
    Drive(Target, Instant),
    /// Stop the thread (tests, process shutdown).
    Shutdown,
}

struct Worker {
    tx: Sender<Command>,
    join: Option<JoinHandle<()>>,
}

static WORKER: OnceLock<Mutex<Option<Worker>>> = OnceLock::new();
/// The sender, cloned out once so the callback path never takes a lock.
static TX: OnceLock<Sender<Command>> = OnceLock::new();

/// The dispatcher's thread name.
pub const THREAD_NAME: &str = "odbc-dm-dispatcher";

fn sender() -> &'static Sender<Command> {
    TX.get_or_init(|| {
        let (tx, rx) = unbounded();
        let join =
            std::thread::Builder::new().name(THREAD_NAME.into()).spawn(move || run(rx)).expect("spawn the odbc-dm dispatcher thread");
        *WORKER.get_or_init(|| Mutex::new(None)).lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Worker { tx: tx.clone(), join: Some(join) });
        tx
    })
}

/// Starts the dispatcher if it is not running (done before any driver gets the callback).
pub fn ensure_started() {
    let _ = sender();
}

/// From the callback: enqueue and return (§2.8).
pub(crate) fn send_callback(target: Target, last: bool) {
    let _ = sender().send(Command::Callback { target, last, at_ns: super::slot::now_ns() });
}

/// From the thread that saw an early callback (§7.5).
pub(crate) fn kick(target: Target) {
    let _ = sender().send(Command::Kick(target));
}

/// Poll an operation until it ends, starting at `not_before` (unless the driver calls
/// back first, which clears the operation's DRIVEN flag).
pub(crate) fn drive(target: Target, not_before: Instant) {
    let _ = sender().send(Command::Drive(target, not_before));
}

/// Stops the dispatcher thread and waits for it. Later callbacks are dropped (the process
/// is ending); meant for orderly shutdown in tests and embedders.
pub fn shutdown() {
    let Some(m) = WORKER.get() else { return };
    let w = m.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(mut w) = w {
        let _ = w.tx.send(Command::Shutdown);
        if let Some(j) = w.join.take() {
            let _ = j.join();
        }
    }
}

fn run(rx: Receiver<Command>) {
    let mut driven: Vec<(Target, Instant)> = Vec::new();
    loop {
        let cmd = if driven.is_empty() {
            match rx.recv() {
                Ok(c) => Some(c),
                Err(_) => return,
            }
        } else {
            match rx.recv_timeout(Duration::from_millis(2)) {
                Ok(c) => Some(c),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        };
        if matches!(cmd, Some(Command::Shutdown)) {
            return;
        }
        // A panic in one step (a DM bug) must not take the dispatcher down with every
        // other handle's operation: it is logged and the loop goes on.
        let step = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handle(cmd, &mut driven)));
        if step.is_err() {
            log::error!("odbc-dm: panic in the dispatcher (caught; the dispatcher keeps running)");
        }
    }
}

/// One message (or, with `None`, one polling round of the driven operations).
fn handle(cmd: Option<Command>, driven: &mut Vec<(Target, Instant)>) {
    {
        match cmd {
            Some(Command::Shutdown) => {}
            Some(Command::Callback { target, last, at_ns }) => {
                let Some(host) = resolve(target) else {
                    log::debug!("odbc-dm: callback for a handle that is gone ({target:?})");
                    return;
                };
                log::trace!(target: "odbc_dm::trace", "notification callback {target:?} fLast={last}");
                host.slot().stats.last_callback_ns.store(at_ns, std::sync::atomic::Ordering::Relaxed);
                if host.slot().word() & super::slot::DRIVEN != 0 {
                    // The driver does call back after all: stop polling it, or every
                    // premature re-invocation would restart a step (and its callback).
                    host.slot().unmark(super::slot::DRIVEN);
                    driven.retain(|(t, _)| *t != target);
                }
                if host.slot().on_callback() {
                    reinvoke(&*host);
                }
            }
            Some(Command::Kick(target)) => {
                if let Some(host) = resolve(target) {
                    reinvoke(&*host);
                }
            }
            Some(Command::Drive(target, not_before)) => {
                driven.retain(|(t, _)| *t != target);
                driven.push((target, not_before));
            }
            None => {}
        }
        if !driven.is_empty() {
            let now = Instant::now();
            driven.retain(|&(t, not_before)| {
                let Some(host) = resolve(t) else { return false };
                let slot = host.slot();
                if slot.word() & super::slot::DRIVEN == 0 {
                    // That operation ended (or the driver called back); a new operation
                    // on the same handle is not driven unless asked again.
                    return false;
                }
                if now >= not_before && slot.claim_waiting() {
                    reinvoke(&*host);
                }
                matches!(slot.phase(), super::slot::WAITING | super::slot::RUNNING | super::slot::FIRST)
            });
        }
    }
}
