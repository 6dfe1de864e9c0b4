//! What the engine needs from a DM handle, and the steps it runs on one: re-invoking the
//! captured call and completing the operation. Shared by the dispatcher (notification),
//! the emulation pool and the application thread (a callback that came early, §7.5).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use odbc_dm_abi::{FunctionId, SqlReturn};

use super::slot::{AsyncSlot, Completed, Pending, CANCELLED};
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
    let mut rc = rc;
    let mut diags = if rc == SqlReturn::SQL_SUCCESS_WITH_INFO || rc == SqlReturn::SQL_ERROR { host.driver_diags() } else { Vec::new() };
    if !extra.is_empty() && rc == SqlReturn::SQL_SUCCESS {
        rc = SqlReturn::SQL_SUCCESS_WITH_INFO;
    }
    diags.extend(extra);
    let cancelled = host.slot().word() & CANCELLED != 0;
    if cancelled && rc == SqlReturn::SQL_ERROR && !diags.iter().any(|r| r.state == SqlState::OPERATION_CANCELED) {
        diags.insert(0, DiagRecord::dm(SqlState::OPERATION_CANCELED, "Operation canceled"));
    }
    Completed { func, rc, diags, has_result: None }
}

/// Re-invokes the captured call (the phase is RUNNING and this thread owns it) until it
/// waits for a callback again or completes. Runs on the dispatcher thread, or on an
/// emulation worker.
pub(crate) fn reinvoke<H: AsyncHost + ?Sized>(host: &H) {
    let slot = host.slot();
    loop {
        let Some(mut p) = slot.take_pending() else {
            log::warn!("odbc-dm: re-invocation with no captured call (handle {:?})", host.target());
            return;
        };
        slot.stats.reinvocations.fetch_add(1, Ordering::Relaxed);
        slot.stats.reinvoke_started_ns.store(super::slot::now_ns(), Ordering::Relaxed);
        let mut extra = Vec::new();
        let rc = run_captured(&mut p, &mut extra);
        slot.stats.reinvoke_ended_ns.store(super::slot::now_ns(), Ordering::Relaxed);
        if rc == SqlReturn::SQL_STILL_EXECUTING {
            slot.put_back_pending(p);
            if slot.still_executing() {
                // The callback for this SQL_STILL_EXECUTING already came (§7.5).
                continue;
            }
            return;
        }
        let done = completed(host, p.func, rc, extra);
        slot.complete(done);
        // The driver is done with the captured arguments: release them now (§2.9).
        drop(p);
        return;
    }
}

/// Runs a captured call to completion on the current thread (emulation: the driver is
/// synchronous, so one call normally suffices; a driver that still answers
/// SQL_STILL_EXECUTING is polled).
pub(crate) fn run_to_completion<H: AsyncHost + ?Sized>(host: &H) {
    let slot = host.slot();
    let Some(mut p) = slot.take_pending() else { return };
    let mut extra = Vec::new();
    let mut rc = run_captured(&mut p, &mut extra);
    while rc == SqlReturn::SQL_STILL_EXECUTING {
        std::thread::sleep(std::time::Duration::from_millis(1));
        extra.clear();
        rc = run_captured(&mut p, &mut extra);
    }
    let mut done = completed(host, p.func, rc, extra);
    done.has_result = host.probe_result(p.func, rc);
    slot.complete(done);
    drop(p);
}

/// The first call of a native notification-mode operation, on the application's thread
/// (the slot is FIRST): runs `f`; `end_call` ends the application's call with
/// SQL_STILL_EXECUTING (state transition, gate released) and its code is returned.
/// - SQL_STILL_EXECUTING: the capture is stored before `end_call`; if the callback already
///   came while `f` was on the stack (§7.5) the re-invocation goes to the dispatcher.
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
    let rc = f(&mut extra);
    if rc == SqlReturn::SQL_STILL_EXECUTING {
        capture(slot, func, Box::new(f));
        let out = end_call();
        if slot.still_executing() {
            super::dispatcher::kick(host.target());
        }
        return out;
    }
    let done = completed(host, func, rc, extra);
    let out = end_call();
    slot.complete(done);
    drop(f);
    out
}

/// An emulated operation (the slot is FIRST): the capture is stored, `end_call` ends the
/// application's call with SQL_STILL_EXECUTING, then the pool runs the driver call.
pub(crate) fn emulate<H: AsyncHost>(
    host: Arc<H>,
    func: FunctionId,
    f: impl FnMut(&mut Vec<DiagRecord>) -> SqlReturn + Send + 'static,
    end_call: impl FnOnce() -> SqlReturn,
) -> SqlReturn {
    capture(host.slot(), func, Box::new(f));
    let out = end_call();
    super::emulation::submit(host);
    out
}

/// Stores a captured call for the operation in progress.
pub(crate) fn capture(slot: &AsyncSlot, func: FunctionId, invoke: super::Invoke) {
    slot.store_pending(Pending { func, invoke });
}

/// Looks a target up in the handle tables (a clone; no map reference is kept).
pub(crate) fn resolve(t: Target) -> Option<Arc<dyn AsyncHost>> {
    match t.kind {
        odbc_dm_abi::HandleType::SQL_HANDLE_STMT => crate::handles::tables().stmt.get(t.handle).map(|s| s as Arc<dyn AsyncHost>),
        odbc_dm_abi::HandleType::SQL_HANDLE_DBC => crate::handles::tables().dbc.get(t.handle).map(|d| d as Arc<dyn AsyncHost>),
        _ => None,
    }
}
