//! The dispatcher: one named DM thread, "odbc-dm-dispatcher", driven by command messages
//! (in the manner of sqlx's SQLite worker). It is neither an application thread nor a
//! driver thread. It owns the life of every native notification-mode operation after its
//! first call: which callback may re-invoke it, the re-invocation of the original driver
//! function with the same arguments (§2.9), back-off for misbehaving drivers, and the
//! cancel drive (§2.14). It completes the operation: result stored, event set, future
//! woken.
//!
//! # Telling one callback from another (docs/decisions.md #34)
//!
//! The callback only enqueues `(target, arrival time, thread tag)` (§2.8). The dispatcher
//! knows the window `[start, end]` of every driver call of the operation (it makes the
//! re-invocations itself; the application thread reports the first call's window) and
//! classifies each callback by when it arrived, against the *latest* call:
//!
//! - before the operation's first call started: a late callback of an earlier operation;
//!   ignored;
//! - after an earlier call of the operation ended but before the latest one started: that
//!   call's SQL_STILL_EXECUTING was already answered: a duplicate; ignored;
//! - during the latest call (§7.5): on the thread making the call (the driver called back
//!   inside the entry point, `CallbackOnCallingThread`): the step it announces has not run
//!   yet, so the re-invocation waits for a growing back-off (1, 2, 4 … 256 ms) instead of
//!   spinning; on another thread (`CallbackBeforeReturn`): re-invoked as soon as the call
//!   returns, unless the handle's driver is known to call back twice, in which case it is
//!   taken for the previous call's late duplicate; a second one: a duplicate;
//! - after the latest call returned: the first one is *the* callback of that
//!   SQL_STILL_EXECUTING (one credit per SQL_STILL_EXECUTING); any further one is a
//!   duplicate, and marks the handle's driver as one that calls back twice. On such a
//!   handle the re-invocation waits until no callback has come for a short, growing settle
//!   time, so that a duplicate delayed past the re-invocation cannot open an extra step
//!   for good (a driver that opens a step for every SQL_STILL_EXECUTING would otherwise
//!   stay one step ahead forever).
//!
//! # Cancel drive (§2.14, decision #35)
//!
//! After a cancel, a notification-mode operation that has not ended within the handle's
//! cancel grace is polled by the dispatcher (back-off 1 ms doubling to 100 ms): a driver
//! that never calls back (`NoCallback`, `WrongContext`) still ends. If it still answers
//! SQL_STILL_EXECUTING after [`GIVE_UP`], the DM ends the operation itself with HY008 and
//! leaks its captured buffers (the driver may still write into them).
//!
//! Driver calls here are non-blocking by contract (§2.7), so one thread serves every
//! handle, and the thread count does not grow with the number of operations in flight.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{unbounded, Receiver, RecvTimeoutError, Sender};
use odbc_dm_abi::SqlReturn;

use super::host::{completed, reinvoke_once, resolve, thread_tag};
use super::slot::{now_ns, AsyncSlot, Phase};
use super::token::Target;
use crate::diag::{DiagRecord, SqlState};

/// How long the dispatcher polls a cancelled operation before it gives up on the driver.
pub const GIVE_UP: Duration = Duration::from_secs(30);
/// The longest back-off or settle time between two re-invocations.
const MAX_BACKOFF_NS: u64 = 256_000_000;
/// The longest interval between two polls of a cancelled operation.
const MAX_POLL_NS: u64 = 100_000_000;

/// Messages to the dispatcher.
enum Command {
    /// A driver called back for this handle.
    Callback { target: Target, at_ns: u64, thread: u32 },
    /// The first call of an operation returned SQL_STILL_EXECUTING (its window).
    Started { target: Target, epoch: u64, start: u64, end: u64, thread: u32 },
    /// The operation was cancelled: drive it from `not_before` unless it ends first.
    Cancelled { target: Target, epoch: u64, not_before: u64 },
    /// Stop the thread (tests, process shutdown).
    Shutdown,
}

/// The dispatcher's thread name.
pub const THREAD_NAME: &str = "odbc-dm-dispatcher";

/// The current sender: leaked once per start (a few bytes per restart), so the callback
/// path reads it with one atomic load and takes no lock.
static CURRENT: AtomicPtr<Sender<Command>> = AtomicPtr::new(std::ptr::null_mut());
/// The running thread; also serialises starting and stopping.
static WORKER: Mutex<Option<JoinHandle<()>>> = Mutex::new(None);

fn current() -> Option<&'static Sender<Command>> {
    let p = CURRENT.load(Ordering::Acquire);
    // SAFETY: a non-null CURRENT is a leaked Box, never freed.
    (!p.is_null()).then(|| unsafe { &*p })
}

/// Starts the thread if it is not running; `None` if it cannot be started.
fn start() -> Option<&'static Sender<Command>> {
    let mut g = WORKER.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(tx) = current() {
        if g.as_ref().is_some_and(|j| !j.is_finished()) {
            return Some(tx);
        }
    }
    let (tx, rx) = unbounded();
    match std::thread::Builder::new().name(THREAD_NAME.into()).spawn(move || run(rx)) {
        Ok(j) => {
            *g = Some(j);
            let p = Box::into_raw(Box::new(tx));
            CURRENT.store(p, Ordering::Release);
            // SAFETY: just leaked.
            Some(unsafe { &*p })
        }
        Err(e) => {
            log::error!("odbc-dm: cannot start the dispatcher thread: {e}");
            None
        }
    }
}

/// Sends, starting the dispatcher (again) when it is not running. `false`: the
/// dispatcher cannot be reached; the caller fails the operation.
fn send(cmd: Command) -> bool {
    let cmd = match current() {
        Some(tx) => match tx.send(cmd) {
            Ok(()) => return true,
            Err(e) => e.0,
        },
        None => cmd,
    };
    match start() {
        Some(tx) => tx.send(cmd).is_ok(),
        None => false,
    }
}

/// Starts the dispatcher if it is not running (done before any driver gets the callback).
pub fn ensure_started() -> bool {
    current().is_some() || start().is_some()
}

/// From the callback: enqueue and return (§2.8). The arrival time and the thread are what
/// the dispatcher tells callbacks apart by.
pub(crate) fn send_callback(target: Target) -> bool {
    send(Command::Callback { target, at_ns: now_ns(), thread: thread_tag() })
}

/// From the application thread: the first call of operation `epoch` returned
/// SQL_STILL_EXECUTING; its window and thread.
pub(crate) fn started(target: Target, epoch: u64, start: u64, end: u64, thread: u32) -> bool {
    send(Command::Started { target, epoch, start, end, thread })
}

/// A cancel was accepted for operation `epoch`: unless it ends within `grace`, the
/// dispatcher polls it until it ends (§2.14).
pub(crate) fn cancelled(target: Target, epoch: u64, grace: Duration) -> bool {
    let not_before = now_ns().saturating_add(grace.as_nanos().min(u128::from(u64::MAX / 2)) as u64);
    send(Command::Cancelled { target, epoch, not_before })
}

/// Stops the dispatcher thread and waits for it. Operations in flight are not lost for
/// good: a later message starts a new dispatcher, and a cancel drives them. Meant for
/// orderly shutdown in tests and embedders.
pub fn shutdown() {
    let mut g = WORKER.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(tx) = current() {
        CURRENT.store(std::ptr::null_mut(), Ordering::Release);
        let _ = tx.send(Command::Shutdown);
    }
    if let Some(j) = g.take() {
        let _ = j.join();
    }
}

/// Whether the dispatcher thread is running (tests).
pub fn is_running() -> bool {
    WORKER.lock().unwrap_or_else(|e| e.into_inner()).as_ref().is_some_and(|j| !j.is_finished()) && current().is_some()
}

/// One driver call of an operation: its window and the thread that made it.
#[derive(Clone, Copy, Debug)]
struct Window {
    start: u64,
    end: u64,
    thread: u32,
}

#[derive(Clone, Copy, Debug)]
struct Cb {
    at: u64,
    thread: u32,
}

/// `Track::flags`: the latest call's window is known.
const CALL: u8 = 1;
/// A callback was accepted for the latest call's SQL_STILL_EXECUTING.
const ACCEPTED: u8 = 1 << 1;
/// A callback came during the latest call ...
const EARLY: u8 = 1 << 2;
/// ... on the thread making the call.
const EARLY_CALLING: u8 = 1 << 3;
/// `due` was set by a settle time (pushed back by every further callback).
const SETTLING: u8 = 1 << 4;
/// Sticky for the handle (kept from one operation to the next): its driver was seen
/// calling back twice for one SQL_STILL_EXECUTING (docs/decisions.md #34).
const DUP_SEEN: u8 = 1 << 5;
/// `Track::due`: no re-invocation scheduled.
const NO_DUE: u64 = u64::MAX;

/// The dispatcher's view of one handle's operation (valid for one epoch). It lives in the
/// handle's [`AsyncSlot`] (decision #116): no map entry per operation in flight, nothing
/// to sweep, and it goes with the handle. Only the dispatcher thread touches it, under the
/// slot's lock ([`AsyncSlot::with_track`]), never across a driver call. 56 bytes: what a
/// well-behaved driver's operation needs inline, the rest ([`RareTrack`]) on first use.
#[derive(Debug)]
pub(crate) struct Track {
    /// The operation's generation; 0: no operation (generations start at 1).
    epoch: u64,
    /// Start of the operation's first call.
    op_start: u64,
    /// The latest driver call (valid with `CALL`; unknown until the first call's window
    /// is).
    call_start: u64,
    call_end: u64,
    /// When to re-invoke (ns); `NO_DUE`: wait for a callback.
    due: u64,
    /// Rare state, allocated on first use.
    rare: Option<Box<RareTrack>>,
    call_thread: u32,
    flags: u8,
}

impl Default for Track {
    fn default() -> Self {
        Track::fresh(0, 0)
    }
}

/// What only misbehaving drivers or a cancel need (issue 12 item 3: allocated then).
#[derive(Debug, Default)]
struct RareTrack {
    /// Callbacks that came before the first call's window was known.
    buffered: Vec<Cb>,
    /// Cancel accepted: start driving at this time.
    drive_at: Option<u64>,
    /// Driving: (poll interval, give-up time).
    poll: Option<(u64, u64)>,
    backoffs: u32,
    settles: u32,
}

impl Track {
    fn fresh(epoch: u64, flags: u8) -> Track {
        Track { epoch, op_start: 0, call_start: 0, call_end: 0, due: NO_DUE, rare: None, call_thread: 0, flags: flags & DUP_SEEN }
    }

    /// The track of operation `epoch`: a fresh one when it holds an earlier operation's
    /// (or none).
    fn of(&mut self, epoch: u64) -> &mut Track {
        if self.epoch != epoch {
            *self = Track::fresh(epoch, self.flags);
        }
        self
    }

    /// Forgets the operation (what stays: the handle's sticky flags).
    fn clear(&mut self) {
        *self = Track::fresh(0, self.flags);
    }

    fn has(&self, f: u8) -> bool {
        self.flags & f != 0
    }

    fn set(&mut self, f: u8, on: bool) {
        if on {
            self.flags |= f;
        } else {
            self.flags &= !f;
        }
    }

    fn call(&self) -> Option<Window> {
        self.has(CALL).then_some(Window { start: self.call_start, end: self.call_end, thread: self.call_thread })
    }

    fn set_call(&mut self, w: Window) {
        self.call_start = w.start;
        self.call_end = w.end;
        self.call_thread = w.thread;
        self.flags |= CALL;
    }

    /// A callback came during the latest call: `Some(on the calling thread)`.
    fn early(&self) -> Option<bool> {
        self.has(EARLY).then_some(self.has(EARLY_CALLING))
    }

    fn set_early(&mut self, e: Option<bool>) {
        self.set(EARLY, e.is_some());
        self.set(EARLY_CALLING, e == Some(true));
    }

    fn due(&self) -> Option<u64> {
        (self.due != NO_DUE).then_some(self.due)
    }

    fn set_due(&mut self, at: Option<u64>) {
        // A real time is never u64::MAX ns (585 years of uptime).
        self.due = at.map_or(NO_DUE, |t| t.min(NO_DUE - 1));
    }

    fn rare_mut(&mut self) -> &mut RareTrack {
        self.rare.get_or_insert_with(Default::default)
    }

    fn backoffs(&self) -> u32 {
        self.rare.as_ref().map_or(0, |r| r.backoffs)
    }

    fn settles(&self) -> u32 {
        self.rare.as_ref().map_or(0, |r| r.settles)
    }

    fn drive_at(&self) -> Option<u64> {
        self.rare.as_ref().and_then(|r| r.drive_at)
    }

    fn driving(&self) -> Option<(u64, u64)> {
        self.rare.as_ref().and_then(|r| r.poll)
    }

    fn take_buffered(&mut self) -> Vec<Cb> {
        self.rare.as_mut().map(|r| std::mem::take(&mut r.buffered)).unwrap_or_default()
    }
}

fn growing(n: u32) -> u64 {
    (1_000_000u64 << n.min(20)).min(MAX_BACKOFF_NS)
}

struct State {
    timers: BinaryHeap<Reverse<(u64, Target)>>,
    me: u32,
}

/// What a timer found to do (decided under the slot's lock, done outside it).
enum Step {
    Nothing,
    /// Look again at this time (the first call is still on the application's stack).
    Retry(u64),
    /// The driver did not end a cancelled operation: give up on it.
    GiveUp,
    /// Re-invoke; `Some`: a cancel drive (poll interval, give-up time).
    Reinvoke(Option<(u64, u64)>),
}

impl State {
    fn arm(&mut self, target: Target, at: u64) {
        self.timers.push(Reverse((at, target)));
    }

    fn callback(&mut self, target: Target, cb: Cb) {
        let Some(host) = resolve(target) else {
            log::debug!("odbc-dm: callback for a handle that is gone ({target:?})");
            return;
        };
        let slot = host.slot();
        if !slot.is_notify() || matches!(slot.phase(), Phase::Idle | Phase::Done) {
            ignore(slot, "no operation waits for it");
            return;
        }
        log::trace!(target: "odbc_dm::trace", "notification callback {target:?}");
        super::slot::LATENCY.last_callback_ns.store(cb.at, Ordering::Relaxed);
        let epoch = slot.epoch();
        let arm = slot.with_track(|tr| {
            let tr = tr.of(epoch);
            if tr.call().is_none() {
                tr.rare_mut().buffered.push(cb);
                return None;
            }
            classify(tr, slot, cb)
        });
        if let Some(at) = arm {
            self.arm(target, at);
        }
    }

    fn started(&mut self, target: Target, epoch: u64, w: Window) {
        let Some(host) = resolve(target) else { return };
        let slot = host.slot();
        if slot.epoch() != epoch || slot.phase() != Phase::Waiting {
            return;
        }
        let arm = slot.with_track(|tr| {
            let tr = tr.of(epoch);
            tr.op_start = w.start;
            if tr.call().is_some() {
                // A cancel drive re-invoked the operation before this message was read.
                return None;
            }
            tr.set_call(w);
            let mut arm = None;
            for cb in tr.take_buffered() {
                if let Some(at) = classify(tr, slot, cb) {
                    arm = Some(at);
                }
            }
            if tr.drive_at().is_some() && arm.is_none() {
                arm = tr.drive_at();
            }
            arm
        });
        if let Some(at) = arm {
            self.arm(target, at);
        }
    }

    fn cancelled(&mut self, target: Target, epoch: u64, not_before: u64) {
        let Some(host) = resolve(target) else { return };
        let slot = host.slot();
        // Only a cancelled operation is driven: polling one that the driver still works on
        // would open extra steps (see `classify`) and might never let it end.
        if slot.epoch() != epoch || !slot.is_running() || !slot.is_cancelled() {
            return;
        }
        let arm = slot.with_track(|tr| {
            let tr = tr.of(epoch);
            if tr.drive_at().is_some() {
                return false;
            }
            tr.rare_mut().drive_at = Some(not_before);
            true
        });
        if arm {
            self.arm(target, not_before);
        }
    }

    /// Runs every timer that is due; returns the next deadline.
    fn timers(&mut self) -> Option<u64> {
        loop {
            let now = now_ns();
            let &Reverse((at, target)) = self.timers.peek()?;
            if at > now {
                return Some(at);
            }
            self.timers.pop();
            self.fire(target, now);
        }
    }

    fn fire(&mut self, target: Target, now: u64) {
        let Some(host) = resolve(target) else { return };
        let slot = host.slot();
        let epoch = slot.epoch();
        let running = slot.is_running();
        let step = slot.with_track(|tr| {
            if tr.epoch != epoch || !running {
                // An earlier operation's timer, or the operation ended another way.
                tr.clear();
                return Step::Nothing;
            }
            if let Some(d) = tr.drive_at() {
                if d <= now && tr.driving().is_none() {
                    tr.rare_mut().poll = Some((1_000_000, now.saturating_add(GIVE_UP.as_nanos() as u64)));
                    tr.set_due(Some(tr.due().map_or(now, |x| x.min(now))));
                }
            }
            let Some(due) = tr.due() else { return Step::Nothing };
            if due > now {
                return Step::Nothing; // an older timer; the current one is still armed
            }
            if let Some((_, give_up)) = tr.driving() {
                if now >= give_up {
                    tr.clear();
                    return Step::GiveUp;
                }
            }
            if !slot.claim_waiting() {
                // The first call is still on the application's stack: look again shortly.
                let at = now + 1_000_000;
                tr.set_due(Some(at));
                return Step::Retry(at);
            }
            tr.set_due(None);
            tr.set(SETTLING, false);
            Step::Reinvoke(tr.driving())
        });
        let driving = match step {
            Step::Nothing => return,
            Step::Retry(at) => {
                self.arm(target, at);
                return;
            }
            Step::GiveUp => {
                if slot.claim_waiting() {
                    log::error!("odbc-dm: the driver did not end a cancelled operation within {GIVE_UP:?}; the DM ends it with HY008 and leaks its buffers");
                    let func = slot.func().unwrap_or(odbc_dm_abi::FunctionId(0));
                    let extra = vec![DiagRecord::dm(
                        SqlState::OPERATION_CANCELED,
                        format!("Operation canceled: the driver did not end it within {GIVE_UP:?} (the Driver Manager gave up)"),
                    )];
                    let mut done = completed(&*host, func, SqlReturn::SQL_ERROR, Vec::new());
                    done.diags.retain(|r| r.state != SqlState::OPERATION_CANCELED);
                    done.diags.splice(0..0, extra);
                    slot.complete_abandoned(done);
                }
                return;
            }
            Step::Reinvoke(driving) => driving,
        };
        if driving.is_some() {
            slot.stats.count(|r| &r.driven_polls);
        }
        let me = self.me;
        // No lock is held during the driver call: a callback made on this thread only
        // enqueues.
        match reinvoke_once(&*host) {
            Some((start, end)) => {
                let arm = slot.with_track(|tr| {
                    let tr = tr.of(epoch);
                    tr.op_start = tr.op_start.min(start);
                    tr.set_call(Window { start, end, thread: me });
                    tr.set(ACCEPTED, false);
                    tr.set_early(None);
                    let (interval, give_up) = driving?;
                    let at = end.saturating_add(interval);
                    tr.rare_mut().poll = Some(((interval * 2).min(MAX_POLL_NS), give_up));
                    tr.set_due(Some(at));
                    Some(at)
                });
                if let Some(at) = arm {
                    self.arm(target, at);
                }
            }
            None => slot.with_track(|tr| {
                if tr.epoch == epoch {
                    tr.clear();
                }
            }),
        }
    }
}

fn ignore(slot: &AsyncSlot, why: &str) {
    slot.stats.count(|r| &r.ignored_callbacks);
    log::debug!("odbc-dm: ignored a notification callback ({why})");
}

/// Classifies one callback against the operation's latest call (see the module
/// documentation) and returns the time of a re-invocation it schedules, if any.
fn classify(tr: &mut Track, slot: &AsyncSlot, cb: Cb) -> Option<u64> {
    let w = tr.call()?;
    let now = now_ns();
    if cb.at < tr.op_start {
        ignore(slot, "late: an earlier operation's");
        return None;
    }
    if cb.at < w.start {
        // For an earlier call of this operation, whose SQL_STILL_EXECUTING was answered.
        ignore(slot, "duplicate of an answered callback");
        if tr.early().is_none() {
            tr.set(DUP_SEEN, true);
        }
        return settle_more(tr, cb.at);
    }
    let twice = tr.has(DUP_SEEN);
    if cb.at <= w.end && cb.thread == w.thread && tr.early().is_none() && !tr.has(ACCEPTED) {
        // On the thread making the call, inside the driver's entry point (§7.5): the
        // step it announces has not run yet. Back off instead of re-invoking at once.
        tr.set_early(Some(true));
        slot.stats.count(|r| &r.early_callbacks);
        slot.stats.count(|r| &r.backoffs);
        let at = w.end.saturating_add(growing(tr.backoffs())).max(now);
        tr.rare_mut().backoffs += 1;
        tr.set_due(Some(at));
        return Some(at);
    }
    if cb.at <= w.end && !twice {
        // During the latest call, on another thread (§7.5, or a driver whose worker
        // called back just as the call returned): re-invoke as soon as it has returned.
        if tr.early().is_some() || tr.has(ACCEPTED) {
            ignore(slot, "second callback during one call");
            tr.set(DUP_SEEN, true);
            return None;
        }
        tr.set_early(Some(false));
        slot.stats.count(|r| &r.early_callbacks);
        tr.set_due(Some(now));
        return Some(now);
    }
    // After the latest call returned (or, on a handle whose driver calls back twice,
    // during it: taken as this call's callback, with a settle time).
    if tr.has(ACCEPTED) || tr.early().is_some() {
        ignore(slot, "duplicate");
        if tr.early() != Some(true) {
            tr.set(DUP_SEEN, true);
        }
        return settle_more(tr, cb.at);
    }
    tr.set(ACCEPTED, true);
    if twice {
        slot.stats.count(|r| &r.backoffs);
        let at = cb.at.max(w.end).saturating_add(growing(tr.settles())).max(now);
        tr.rare_mut().settles += 1;
        tr.set(SETTLING, true);
        tr.set_due(Some(at));
        return Some(at);
    }
    tr.set_due(Some(now));
    Some(now)
}

/// A duplicate on a handle that settles: the re-invocation waits until callbacks stop.
fn settle_more(tr: &mut Track, at: u64) -> Option<u64> {
    if !tr.has(SETTLING) || !tr.has(DUP_SEEN) {
        return None;
    }
    let next = at.saturating_add(growing(tr.settles().saturating_sub(1)));
    match tr.due() {
        Some(d) if d >= next => None,
        _ => {
            tr.set_due(Some(next));
            Some(next)
        }
    }
}

fn run(rx: Receiver<Command>) {
    let mut st = State { timers: BinaryHeap::new(), me: thread_tag() };
    let mut next: Option<u64> = None;
    loop {
        let first = match next {
            None => match rx.recv() {
                Ok(c) => Some(c),
                Err(_) => return,
            },
            Some(at) => {
                let wait = Duration::from_nanos(at.saturating_sub(now_ns()));
                match rx.recv_timeout(wait) {
                    Ok(c) => Some(c),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            }
        };
        // Everything already queued is classified before anything is re-invoked: a
        // callback that came during the last call is seen with that call's window.
        let mut cmd = first;
        loop {
            if let Some(c) = cmd.take() {
                if matches!(c, Command::Shutdown) {
                    return;
                }
                // A panic in one step (a DM bug) must not take the dispatcher down with
                // every other handle's operation: it is logged and the loop goes on.
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handle(&mut st, c)));
                if r.is_err() {
                    log::error!("odbc-dm: panic in the dispatcher (caught; the dispatcher keeps running)");
                }
            }
            match rx.try_recv() {
                Ok(c) => cmd = Some(c),
                Err(_) => break,
            }
        }
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| st.timers()));
        next = match r {
            Ok(n) => n,
            Err(_) => {
                log::error!("odbc-dm: panic in the dispatcher (caught; the dispatcher keeps running)");
                st.timers.peek().map(|r| r.0 .0)
            }
        };
    }
}

fn handle(st: &mut State, c: Command) {
    match c {
        Command::Callback { target, at_ns, thread } => st.callback(target, Cb { at: at_ns, thread }),
        Command::Started { target, epoch, start, end, thread } => st.started(target, epoch, Window { start, end, thread }),
        Command::Cancelled { target, epoch, not_before } => st.cancelled(target, epoch, not_before),
        Command::Shutdown => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decision #116: the track lives in every handle's slot; what a well-behaved driver's
    /// operation needs stays inline and small.
    #[test]
    fn track_is_small() {
        assert!(std::mem::size_of::<Track>() <= 56, "{}", std::mem::size_of::<Track>());
    }

    /// A new operation starts from a fresh track; only the handle's sticky knowledge
    /// (its driver calls back twice, decision #34) carries over.
    #[test]
    fn a_new_operation_gets_a_fresh_track() {
        let mut tr = Track::default();
        let t = tr.of(1);
        t.set_call(Window { start: 10, end: 20, thread: 3 });
        t.set(ACCEPTED | SETTLING | DUP_SEEN, true);
        t.set_early(Some(true));
        t.set_due(Some(30));
        t.rare_mut().backoffs = 2;
        t.rare_mut().drive_at = Some(40);
        assert_eq!(tr.of(1).due(), Some(30), "same operation: kept");
        let t = tr.of(2);
        assert!(t.call().is_none() && t.due().is_none() && t.early().is_none() && t.drive_at().is_none());
        assert!(!t.has(ACCEPTED) && !t.has(SETTLING) && t.backoffs() == 0);
        assert!(t.has(DUP_SEEN), "sticky for the handle");
        t.clear();
        assert_eq!(t.epoch, 0);
        assert!(t.has(DUP_SEEN));
        t.set_early(Some(false));
        assert_eq!(t.early(), Some(false));
        t.set_early(None);
        assert_eq!(t.early(), None);
    }
}
