//! What the engine needs from a DM handle, and the steps it runs on one: re-invoking the
//! captured call and completing the operation. Shared by the dispatcher (notification),
//! the emulation pool and the application thread (a callback that came early, §7.5).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use odbc_dm_abi::{FunctionId, SqlReturn};

use super::slot::{AsyncSlot, Completed, Pending};
use super::token::Target;
use crate::diag::{DiagRecord, SqlState};

/// A DM handle that can run an asynchronous operation.
pub trait AsyncHost: Send + Sync + 'static {
    fn slot(&self) -> &AsyncSlot;
    /// The driver's diagnostic records for this handle, read right after a call.
    fn driver_diags(&self) -> Vec<DiagRecord>;
    /// The token table's name for this handle.
    fn target(&self) -> Target;
    /// After an emulated (synchronous) driver call of `func` ended with `rc`: whether a
    /// result set is open, when the handle can ask the driver safely. `None`: unknown.
    fn probe_result(&self, _func: FunctionId, _rc: SqlReturn) -> Option<bool> {
        None
    }
}

/// Runs a captured call, turning a panic inside it (a DM conversion bug, or a driver
/// panic that unwound) into SQL_ERROR/HY000 so the operation still completes.
fn run_captured(p: &mut Pending, extra: &mut Vec<DiagRecord>) -> SqlReturn {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (p.invoke)(extra))) {
        Ok(rc) => rc,
        Err(_) => {
            log::error!("odbc-dm: panic inside an asynchronous driver call (caught)");
            extra.push(DiagRecord::dm(SqlState::GENERAL_ERROR, "Internal error in an asynchronous call"));
            SqlReturn::SQL_ERROR
        }
    }
}

/// Builds the operation's result: the driver's records when the code carries any, then the
/// DM's; HY008 first when a cancel was accepted (§2.14, §3.2).
pub(crate) fn completed<H: AsyncHost + ?Sized>(host: &H, func: FunctionId, rc: SqlReturn, extra: Vec<DiagRecord>) -> Completed {
    completed_as(host, func, rc, extra, host.slot().is_cancelled())
}

/// As [`completed`], with whether a cancel was accepted given (read before the slot was
/// cleared).
pub(crate) fn completed_as<H: AsyncHost + ?Sized>(
    host: &H,
    func: FunctionId,
    rc: SqlReturn,
    extra: Vec<DiagRecord>,
    cancelled: bool,
) -> Completed {
    let mut rc = rc;
    let mut diags = if rc == SqlReturn::SQL_SUCCESS_WITH_INFO || rc == SqlReturn::SQL_ERROR { host.driver_diags() } else { Vec::new() };
    if !extra.is_empty() && rc == SqlReturn::SQL_SUCCESS {
        rc = SqlReturn::SQL_SUCCESS_WITH_INFO;
    }
    diags.extend(extra);
    if cancelled && rc == SqlReturn::SQL_ERROR && !diags.iter().any(|r| r.state == SqlState::OPERATION_CANCELED) {
        diags.insert(0, DiagRecord::dm(SqlState::OPERATION_CANCELED, "Operation canceled"));
    }
    Completed { func, rc, diags, has_result: None }
}

/// One re-invocation of the captured call; the caller claimed the operation (Running).
/// Returns the call's window `(start_ns, end_ns)` when the driver answered
/// SQL_STILL_EXECUTING again (the phase is Waiting again), `None` when the operation
/// completed. Runs on the dispatcher thread.
pub(crate) fn reinvoke_once<H: AsyncHost + ?Sized>(host: &H) -> Option<(u64, u64)> {
    let slot = host.slot();
    let Some(mut p) = slot.take_pending() else {
        log::warn!("odbc-dm: re-invocation with no captured call (handle {:?})", host.target());
        let func = slot.func().unwrap_or(FunctionId(0));
        let extra = vec![DiagRecord::dm(SqlState::GENERAL_ERROR, "Internal error: the asynchronous call was lost")];
        slot.complete(completed(host, func, SqlReturn::SQL_ERROR, extra));
        return None;
    };
    slot.stats.reinvocations.fetch_add(1, Ordering::Relaxed);
    let start = super::slot::now_ns();
    super::slot::LATENCY.reinvoke_started_ns.store(start, Ordering::Relaxed);
    let mut extra = Vec::new();
    let rc = run_captured(&mut p, &mut extra);
    let end = super::slot::now_ns();
    super::slot::LATENCY.reinvoke_ended_ns.store(end, Ordering::Relaxed);
    if rc == SqlReturn::SQL_STILL_EXECUTING {
        slot.put_back_pending(p);
        slot.running_still_executing();
        return Some((start, end));
    }
    let done = completed(host, p.func, rc, extra);
    slot.complete(done);
    // The driver is done with the captured arguments: release them now (§2.9).
    drop(p);
    None
}

/// Runs a captured call to completion on the current thread (emulation: the driver is
/// synchronous, so one call normally suffices; a driver that still answers
/// SQL_STILL_EXECUTING is polled with a growing back-off).
pub(crate) fn run_to_completion<H: AsyncHost + ?Sized>(host: &H) {
    let slot = host.slot();
    slot.start_running();
    let Some(mut p) = slot.take_pending() else { return };
    let mut extra = Vec::new();
    let mut rc = run_captured(&mut p, &mut extra);
    let mut pause = std::time::Duration::from_millis(1);
    while rc == SqlReturn::SQL_STILL_EXECUTING {
        slot.stats.count(|r| &r.backoffs);
        std::thread::sleep(pause);
        pause = (pause * 2).min(std::time::Duration::from_millis(50));
        extra.clear();
        rc = run_captured(&mut p, &mut extra);
    }
    let mut done = completed(host, p.func, rc, extra);
    done.has_result = host.probe_result(p.func, rc);
    slot.complete(done);
    drop(p);
}

/// A thread's tag: tells the dispatcher which thread made a callback (a callback on the
/// thread that is inside the driver call is §7.5's early callback, decision #34).
/// 32 bits (the dispatcher keeps the calling thread's tag in every handle's slot, decision
/// #116): a tag reused after 2^32 threads were started could at worst make a callback
/// from another thread look like one on the calling thread, i.e. cost a back-off.
pub(crate) fn thread_tag() -> u32 {
    use std::sync::atomic::AtomicU32;
    static NEXT: AtomicU32 = AtomicU32::new(1);
    thread_local! {
        static TAG: u32 = NEXT.fetch_add(1, Ordering::Relaxed).max(1);
    }
    TAG.try_with(|t| *t).unwrap_or(0)
}

/// Ends an operation that the DM could not hand to its dispatcher or pool (a thread could
/// not be started): SQL_ERROR with HY000 and a clear message, never a hang.
fn fail_unreachable<H: AsyncHost + ?Sized>(host: &H, func: FunctionId, what: &str) {
    let slot = host.slot();
    let extra = vec![DiagRecord::dm(SqlState::GENERAL_ERROR, format!("The Driver Manager's {what} is not available"))];
    let done = completed(host, func, SqlReturn::SQL_ERROR, extra);
    slot.complete(done);
}

/// The first call of a native notification-mode operation, on the application's thread
/// (the slot is First): runs `f`; `end_call` ends the application's call with
/// SQL_STILL_EXECUTING (state transition, gate released) and its code is returned.
/// - SQL_STILL_EXECUTING: the capture is stored before `end_call`, then the dispatcher is
///   told the first call's window, against which it classifies the callbacks (§7.5).
/// - anything else (§7.1, docs/decisions.md): the result is stored and signalled like any
///   completion, after `end_call`, so SQLCompleteAsync finds the handle in its async state.
pub(crate) fn notify_first_call<H: AsyncHost + ?Sized>(
    host: &H,
    func: FunctionId,
    mut f: impl FnMut(&mut Vec<DiagRecord>) -> SqlReturn + Send + 'static,
    end_call: impl FnOnce() -> SqlReturn,
) -> SqlReturn {
    let slot = host.slot();
    let mut extra = Vec::new();
    let start = super::slot::now_ns();
    let rc = f(&mut extra);
    let end = super::slot::now_ns();
    if rc == SqlReturn::SQL_STILL_EXECUTING {
        capture(slot, func, Box::new(f));
        let out = end_call();
        let epoch = slot.epoch();
        slot.first_still_executing();
        if !super::dispatcher::started(host.target(), epoch, start, end, thread_tag()) && slot.claim_waiting() {
            fail_unreachable(host, func, "dispatcher thread");
        }
        return out;
    }
    let done = completed(host, func, rc, extra);
    let out = end_call();
    slot.complete(done);
    drop(f);
    out
}

/// An emulated operation (the slot is First): the capture is stored, `end_call` ends the
/// application's call with SQL_STILL_EXECUTING, then the pool runs the driver call.
pub(crate) fn emulate<H: AsyncHost>(
    host: Arc<H>,
    func: FunctionId,
    f: impl FnMut(&mut Vec<DiagRecord>) -> SqlReturn + Send + 'static,
    end_call: impl FnOnce() -> SqlReturn,
) -> SqlReturn {
    capture(host.slot(), func, Box::new(f));
    let out = end_call();
    if let Err(host) = super::emulation::submit(host) {
        host.slot().start_running();
        drop(host.slot().take_pending());
        fail_unreachable(&*host, func, "emulation pool");
    }
    out
}

/// A polling-mode operation whose first call returned SQL_STILL_EXECUTING (§1.7): the
/// slot is claimed and keeps the capture for the repeat calls (the driver may keep pointers
/// into the first call's buffers until the end, §2.9).
pub(crate) fn begin_polling(slot: &AsyncSlot, func: FunctionId, invoke: super::Invoke) {
    if !slot.is_active() {
        slot.begin(super::Delivery::Polling, None);
    }
    slot.store_pending(Pending { func, invoke });
}

/// A polling-mode repeat call, or SQLCompleteAsync standing in for one (§1.7, §1.16):
/// re-invokes the first call's capture once, on the calling thread (the driver ignores a
/// repeat's own arguments). `None`: nothing is captured. After SQL_STILL_EXECUTING the
/// capture is kept; after anything else the operation is over (slot Idle, capture dropped)
/// and the caller reports it: `(function, code, DM records, a cancel was accepted)`.
pub(crate) fn repeat_polling(slot: &AsyncSlot) -> Option<(FunctionId, SqlReturn, Vec<DiagRecord>, bool)> {
    let mut p = slot.take_pending()?;
    let mut extra = Vec::new();
    let rc = run_captured(&mut p, &mut extra);
    let func = p.func;
    let cancelled = slot.is_cancelled();
    if rc == SqlReturn::SQL_STILL_EXECUTING {
        slot.put_back_pending(p);
    } else {
        slot.clear();
        // The driver is done with the first call's buffers.
        drop(p);
    }
    Some((func, rc, extra, cancelled))
}

/// Stores a captured call for the operation in progress.
pub(crate) fn capture(slot: &AsyncSlot, func: FunctionId, invoke: super::Invoke) {
    slot.store_pending(Pending { func, invoke });
}

/// Looks DM handles up for the engine: registered by the handle layer, so that the engine
/// depends on no layer above it (docs/decisions.md #36).
pub type Resolver = fn(Target) -> Option<Arc<dyn AsyncHost>>;

static RESOLVER: std::sync::OnceLock<Resolver> = std::sync::OnceLock::new();

/// Registers the handle lookup (once; later registrations are ignored).
pub fn register_resolver(r: Resolver) {
    let _ = RESOLVER.set(r);
}

/// Looks a target up in the handle tables (a clone; no map reference is kept).
pub(crate) fn resolve(t: Target) -> Option<Arc<dyn AsyncHost>> {
    RESOLVER.get().and_then(|r| r(t))
}
