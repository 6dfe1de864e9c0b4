//! The shape of every forwarded call: look the handle up, take the call gate and check the
//! state (DM-detected errors never reach the driver), call the driver with no lock held,
//! then record diagnostics and apply the state transition as the gate is released.

use crate::handles::stmt_state::StmtState;
use std::sync::Arc;

use odbc_dm_abi::{FunctionId, HandleType, SqlHandle, SqlReturn};

use crate::async_engine::{self, AsyncEvent, Completed, Delivery};
use crate::diag::{DiagArea, DiagRecord, SqlState};
use crate::handles::gate::{Busy, Gated};
use crate::handles::{stmt_state, DbcCore, DescCore, DriverLink, EnvCore, Lent, Stmt, StmtCore};

use super::{driver_has_result, opens_result, pull_driver_diags};

/// An application pointer captured by a driver call that may be re-invoked on another
/// thread (§2.9): the application keeps what it points to valid until the operation
/// completes, and the DM passes it back unchanged (same pointer in every re-invocation).
///
/// Use it through [`AppPtr::get`] inside closures: a method call captures the whole
/// wrapper (which is `Send`), whereas `p.0` would capture the bare raw pointer.
#[derive(Debug)]
pub struct AppPtr<T>(*mut T);

impl<T> Clone for AppPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for AppPtr<T> {}

// SAFETY: an AppPtr is only handed back to the driver, which must accept the same
// arguments from any thread (§2.9, §3.1); the DM never dereferences it off-thread itself
// except where the owning raw function documents it.
unsafe impl<T> Send for AppPtr<T> {}

impl<T> AppPtr<T> {
    #[inline(always)]
    pub fn new(p: *mut T) -> Self {
        AppPtr(p)
    }
    #[inline(always)]
    pub fn from_const(p: *const T) -> Self {
        AppPtr(p as *mut T)
    }
    #[inline(always)]
    pub fn get(self) -> *mut T {
        self.0
    }
    #[inline(always)]
    pub fn get_const(self) -> *const T {
        self.0 as *const T
    }
}

/// A handle core that owns a diagnostic area.
pub trait HasDiag {
    fn diag(&mut self) -> &mut DiagArea;

    /// The fast-lane summary to publish when a call ends with `rc` (0 = none); see
    /// `handles::gate`.
    #[inline(always)]
    fn summary(&mut self, _rc: SqlReturn) -> u32 {
        0
    }
}

/// Bit set in every published summary (a summary is never 0); summaries live in
/// `gate::SUMMARY_BITS`.
pub const SUMMARY_VALID: u32 = 1 << 30;

/// The summary of a clean statement in `state` (see [`HasDiag::summary`]).
#[inline(always)]
pub const fn stmt_summary(state: StmtState) -> u32 {
    SUMMARY_VALID | (state as u32) << 1
}

impl HasDiag for StmtCore {
    #[inline]
    fn diag(&mut self) -> &mut DiagArea {
        &mut self.diag
    }

    /// Clean statement after a plain SQL_SUCCESS: no diagnostics to clear, no async mode,
    /// not freed, no cancel in flight, and a driver with both lane entry points. The
    /// summary carries the state.
    #[inline(always)]
    fn summary(&mut self, rc: SqlReturn) -> u32 {
        if rc == SqlReturn::SQL_SUCCESS
            && self.diag.is_empty()
            && !self.async_enabled
            && !self.freed
            && self.lanes_ok
            && !self.wchar_active
            && !self.fetch_full_path
        {
            stmt_summary(self.status.state)
        } else {
            0
        }
    }
}
impl HasDiag for DbcCore {
    #[inline]
    fn diag(&mut self) -> &mut DiagArea {
        &mut self.diag
    }

    /// Connected, nothing outstanding, no diagnostics; plus which SQLGetInfo widths the
    /// driver exports.
    #[inline(always)]
    fn summary(&mut self, rc: SqlReturn) -> u32 {
        if rc == SqlReturn::SQL_SUCCESS && self.diag.is_empty() && self.state.is_connected() && self.asynch.func.is_none() {
            // The widths of SQLGetInfo the driver exports (the lane forwards only those).
            match &self.link {
                Some(l) => {
                    SUMMARY_VALID
                        | if l.driver.fns.SQLGetInfo.is_some() { crate::handles::DBC_HAS_A } else { 0 }
                        | if l.driver.fns.SQLGetInfoW.is_some() { crate::handles::DBC_HAS_W } else { 0 }
                }
                None => 0,
            }
        } else {
            0
        }
    }
}
impl HasDiag for EnvCore {
    #[inline]
    fn diag(&mut self) -> &mut DiagArea {
        &mut self.diag
    }
}
impl HasDiag for DescCore {
    #[inline]
    fn diag(&mut self) -> &mut DiagArea {
        &mut self.diag
    }
}

/// Posts one DM error as the whole outcome of a call (the driver is not called) and
/// returns SQL_ERROR.
pub fn reject<C: HasDiag>(gate: &Gated<C>, state: SqlState, msg: &str) -> SqlReturn {
    gate.with(|c| {
        let d = c.diag();
        d.clear();
        d.post(state, msg);
        d.return_code = SqlReturn::SQL_ERROR;
    });
    SqlReturn::SQL_ERROR
}

/// A call in progress on a handle whose core is `C`: the gate is held (busy), no lock is.
pub struct Call<'a, C: HasDiag> {
    busy: Busy<'a, C>,
    /// DM records to append after the driver's (e.g. 01004 from an A↔W conversion).
    /// `None` in the common case (nothing queued), so finishing costs no drop glue.
    #[allow(clippy::box_collection)]
    extra: Option<Box<Vec<DiagRecord>>>,
}

impl<'a, C: HasDiag> Call<'a, C> {
    /// Takes the gate and runs `check` (state checks); clears the diagnostics first.
    /// On `Err`, the DM's record is posted and SQL_ERROR is returned as `Err`.
    #[inline(always)]
    pub fn begin(gate: &'a Gated<C>, check: impl FnOnce(&mut C) -> Result<(), (SqlState, String)>) -> Result<Self, SqlReturn> {
        let r = gate.begin(|c| {
            c.diag().clear();
            match check(c) {
                Ok(()) => Ok(()),
                Err((state, msg)) => {
                    let d = c.diag();
                    d.post(state, msg);
                    d.return_code = SqlReturn::SQL_ERROR;
                    Err(SqlReturn::SQL_ERROR)
                }
            }
        });
        match r {
            Ok((busy, ())) => Ok(Call { busy, extra: None }),
            Err(rc) => Err(rc),
        }
    }

    /// Continues a fast-lane call on the slow path (the gate is already held; the
    /// published summary proved there was nothing to clear).
    #[inline(never)]
    pub fn adopt(gate: &'a Gated<C>) -> Self {
        Call { busy: gate.adopt(), extra: None }
    }

    /// Ends the call with a DM error (nothing reached the driver, or the DM refuses the
    /// result).
    pub fn fail(self, state: SqlState, msg: impl Into<String>) -> SqlReturn {
        let msg = msg.into();
        self.busy.end(|c| {
            let d = c.diag();
            d.post(state, msg);
            d.return_code = SqlReturn::SQL_ERROR;
        });
        SqlReturn::SQL_ERROR
    }

    /// Queues a DM record that follows the driver's records (e.g. 01004).
    pub fn warn(&mut self, state: SqlState, msg: impl Into<String>) {
        self.extra.get_or_insert_with(Default::default).push(DiagRecord::dm(state, msg));
    }

    /// Runs `f` on the core while keeping the call slot.
    pub fn core<R>(&self, f: impl FnOnce(&mut C) -> R) -> R {
        self.busy.core(f)
    }

    /// Ends the call: copies the driver's diagnostics when `rc` can carry any, appends
    /// queued DM records (upgrading SUCCESS to SUCCESS_WITH_INFO), and runs `apply` on the
    /// core before the gate is released.
    #[inline(always)]
    pub fn finish(
        self,
        rc: SqlReturn,
        diag_source: Option<(&DriverLink, HandleType, SqlHandle)>,
        apply: impl FnOnce(&mut C, SqlReturn),
    ) -> SqlReturn {
        if self.extra.is_none() && rc != SqlReturn::SQL_SUCCESS_WITH_INFO && rc != SqlReturn::SQL_ERROR {
            // Nothing to copy, nothing queued.
            self.busy.end_publishing(|c| {
                c.diag().return_code = rc;
                apply(c, rc);
                ((), c.summary(rc))
            });
            return rc;
        }
        self.finish_with_diags(rc, diag_source, apply)
    }

    /// Ends the call with a result computed earlier (an asynchronous operation collected
    /// by SQLCompleteAsync or a polling repeat call): its records become the handle's.
    pub fn finish_records(self, rc: SqlReturn, recs: Vec<DiagRecord>, apply: impl FnOnce(&mut C, SqlReturn)) -> SqlReturn {
        let extra = self.extra.map(|b| *b).unwrap_or_default();
        self.busy.end(|c| {
            let d = c.diag();
            for r in recs.into_iter().chain(extra) {
                d.push(r);
            }
            d.return_code = rc;
            apply(c, rc);
        });
        rc
    }

    #[inline(never)]
    fn finish_with_diags(
        self,
        rc: SqlReturn,
        diag_source: Option<(&DriverLink, HandleType, SqlHandle)>,
        apply: impl FnOnce(&mut C, SqlReturn),
    ) -> SqlReturn {
        let mut recs = Vec::new();
        if rc == SqlReturn::SQL_SUCCESS_WITH_INFO || rc == SqlReturn::SQL_ERROR {
            if let Some((link, ht, h)) = diag_source {
                recs = pull_driver_diags(link, ht, h);
            }
        }
        self.finish_pulled(rc, recs, apply)
    }

    /// As [`Call::finish`], with the driver's records already read (`recs`: the caller had
    /// to read them before another driver call on the handle, which would clear them).
    fn finish_pulled(mut self, rc: SqlReturn, recs: Vec<DiagRecord>, apply: impl FnOnce(&mut C, SqlReturn)) -> SqlReturn {
        let mut rc = rc;
        if self.extra.is_some() && rc == SqlReturn::SQL_SUCCESS {
            rc = SqlReturn::SQL_SUCCESS_WITH_INFO;
        }
        let extra = self.extra.take().map(|b| *b).unwrap_or_default();
        self.busy.end(|c| {
            {
                let d = c.diag();
                for r in recs {
                    d.push(r);
                }
                for r in extra {
                    d.push(r);
                }
                d.return_code = rc;
            }
            apply(c, rc);
        });
        rc
    }
}

/// A statement call: the common case, with the Appendix B checks and transitions.
pub struct StmtCall<'a> {
    pub stmt: &'a Arc<Stmt>,
    pub func: FunctionId,
    call: Call<'a, StmtCore>,
    async_enabled: bool,
    mode: AsyncMode,
    event: Option<AsyncEvent>,
}

/// How a statement call runs, decided from the statement's attributes when it begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AsyncMode {
    /// Synchronous (async off, or a function that never runs asynchronously).
    Sync,
    /// Polling, passed through to an async-capable driver (§1).
    Polling,
    /// Notification, native: the driver calls the DM back (§2).
    Notify,
    /// Polling, emulated by the DM's worker pool.
    EmulatedPolling,
    /// Notification, emulated by the DM's worker pool.
    EmulatedNotify,
}

impl AsyncMode {
    fn of(c: &StmtCore, func: FunctionId) -> AsyncMode {
        if !c.async_enabled || !stmt_state::is_async_capable(func) {
            AsyncMode::Sync
        } else if c.async_emulated {
            if c.notification() {
                AsyncMode::EmulatedNotify
            } else {
                AsyncMode::EmulatedPolling
            }
        } else if c.notification() && c.notify_installed {
            AsyncMode::Notify
        } else {
            AsyncMode::Polling
        }
    }
}

impl<'a> StmtCall<'a> {
    /// Begins `func` on `stmt`, applying the statement state table (§4).
    #[inline(always)]
    pub fn begin(stmt: &'a Arc<Stmt>, func: FunctionId) -> Result<Self, SqlReturn> {
        Self::begin_as(stmt, func, false)
    }

    /// Begins collecting a finished asynchronous operation of `func` (SQLCompleteAsync):
    /// the notification-mode IM017/IM018 refusals do not apply.
    pub fn begin_completion(stmt: &'a Arc<Stmt>, func: FunctionId) -> Result<Self, SqlReturn> {
        Self::begin_as(stmt, func, true)
    }

    #[inline(always)]
    fn begin_as(stmt: &'a Arc<Stmt>, func: FunctionId, completing: bool) -> Result<Self, SqlReturn> {
        // A cross-thread cancel that hit an earlier call and was not consumed by it is
        // forgotten (the flag lives in the gate word, decision #120).
        if stmt.gate.cancel_pending() {
            stmt.gate.take_cancel();
        }
        let mut async_enabled = false;
        let mut freed = false;
        let mut mode = AsyncMode::Sync;
        let mut event = None;
        let call = Call::begin(&stmt.gate, |c| {
            c.last_caller = crate::handles::this_thread();
            async_enabled = c.async_enabled;
            freed = c.freed;
            if freed {
                return Ok(());
            }
            if async_enabled {
                mode = AsyncMode::of(c, func);
                if matches!(mode, AsyncMode::Notify | AsyncMode::EmulatedNotify) {
                    event = c.async_event.clone();
                }
                if !completing {
                    notification_refusal(stmt, func, c)?;
                }
            }
            stmt_state::check(func, &c.status).map_err(|s| {
                (
                    s,
                    format!(
                        "Function sequence or cursor state error: {} not allowed in state {:?}",
                        crate::trace::func_name(func),
                        c.status.state
                    ),
                )
            })
        })?;
        if freed {
            return Err(SqlReturn::SQL_INVALID_HANDLE);
        }
        if mode != AsyncMode::Sync && !completing && stmt.dbc.gate.read(|c| c.asynch.func.is_some()) {
            // §1.8: a statement may start an asynchronous function only while its connection
            // runs none. (Checked outside the statement's core lock: the connection side
            // looks at its statements while holding its own.)
            return Err(call.fail(SqlState::FUNCTION_SEQUENCE_ERROR, "An asynchronous function is executing on the connection (§1.8)"));
        }
        Ok(StmtCall { stmt, func, call, async_enabled, mode, event })
    }

    /// Ends with a DM error.
    pub fn fail(self, state: SqlState, msg: impl Into<String>) -> SqlReturn {
        self.call.fail(state, msg)
    }

    /// Calls the driver through `f` and ends the call. `f` is the driver call with its
    /// arguments captured by value (application pointers as they were given, DM buffers
    /// owned), so that the asynchronous engine can re-invoke it with the same arguments
    /// on another thread (§2.9) or run it on the emulation pool; it may queue DM records
    /// (e.g. 01004) that follow the driver's. Synchronous calls run `f` once, in place.
    #[inline(always)]
    pub fn invoke(self, f: impl FnMut(&mut Vec<DiagRecord>) -> SqlReturn + Send + 'static) -> SqlReturn {
        match self.mode {
            AsyncMode::Sync => self.run_sync(f),
            AsyncMode::Polling => self.run_polling(f),
            _ => self.run_async(f),
        }
    }

    /// Like [`invoke`](Self::invoke) for work the DM does itself (no driver operation on
    /// this statement is left running; e.g. the emulated SQLSetPos, decision #85): with
    /// notification (native or emulated) or emulated polling, `f` runs on the DM's
    /// emulation pool and the call returns SQL_STILL_EXECUTING, completing like any
    /// emulated operation; with native polling (the application repeats the call) and
    /// synchronously, `f` runs in place and the call returns its final code at once.
    pub fn invoke_dm(mut self, f: impl FnMut(&mut Vec<DiagRecord>) -> SqlReturn + Send + 'static) -> SqlReturn {
        match self.mode {
            AsyncMode::Sync | AsyncMode::Polling => {
                // The driver did not run this function: its statement's records (from the
                // DM's own calls on it) are not the answer; only the DM's are.
                let mut f = f;
                let mut extra = Vec::new();
                let rc = f(&mut extra);
                for r in extra {
                    self.call.extra.get_or_insert_with(Default::default).push(r);
                }
                let func = self.func;
                self.call.finish(rc, None, |c, rc| stmt_state::after(func, &mut c.status, rc, None))
            }
            AsyncMode::Notify => {
                self.mode = AsyncMode::EmulatedNotify;
                self.run_async(f)
            }
            _ => self.run_async(f),
        }
    }

    /// Whether the driver's statement itself has asynchronous execution on (native polling
    /// or notification): a DM call on it could return SQL_STILL_EXECUTING.
    pub fn driver_async(&self) -> bool {
        matches!(self.mode, AsyncMode::Polling | AsyncMode::Notify)
    }

    #[inline(always)]
    fn run_sync(mut self, mut f: impl FnMut(&mut Vec<DiagRecord>) -> SqlReturn) -> SqlReturn {
        let mut extra = Vec::new();
        let rc = f(&mut extra);
        for r in extra {
            self.call.extra.get_or_insert_with(Default::default).push(r);
        }
        self.finish(rc)
    }

    /// Polling pass-through (§1.7): the application repeats the call itself. The first
    /// call's capture is kept while the operation is outstanding, and every repeat (and
    /// SQLCompleteAsync standing in for one, §1.16) re-runs it: the driver gets the same
    /// arguments, including the DM's conversion buffers, on every call of the operation
    /// (§2.9), and the output is read from the buffer the driver wrote. The repeat's own
    /// arguments were validated at begin and are otherwise unused (the driver ignores a
    /// repeat's arguments anyway).
    #[inline(never)]
    fn run_polling(mut self, mut f: impl FnMut(&mut Vec<DiagRecord>) -> SqlReturn + Send + 'static) -> SqlReturn {
        let slot = &self.stmt.async_slot;
        let repeat = slot.is_active() && slot.func() == Some(self.func);
        let (rc, extra) = match repeat.then(|| async_engine::host::repeat_polling(slot)).flatten() {
            Some((_, rc, extra, _)) => {
                drop(f);
                (rc, extra)
            }
            // The first call: boxed only if it goes asynchronous.
            None => {
                let mut extra = Vec::new();
                let rc = f(&mut extra);
                if rc == SqlReturn::SQL_STILL_EXECUTING {
                    async_engine::host::begin_polling(slot, self.func, Box::new(f));
                } else if slot.is_active() {
                    slot.clear();
                }
                (rc, extra)
            }
        };
        for r in extra {
            self.call.extra.get_or_insert_with(Default::default).push(r);
        }
        self.finish(rc)
    }

    /// Notification (native or emulated) and emulated polling.
    #[inline(never)]
    fn run_async(self, f: impl FnMut(&mut Vec<DiagRecord>) -> SqlReturn + Send + 'static) -> SqlReturn {
        let stmt = self.stmt.clone();
        let func = self.func;
        let slot = &stmt.async_slot;
        if slot.is_active() {
            // Only an emulated-polling repeat call gets here (a notification-mode repeat
            // is IM017 at begin): collect the result, or still running.
            drop(f);
            return match slot.take_completed() {
                Some(done) => self.finish_completed(done),
                None => self.finish(SqlReturn::SQL_STILL_EXECUTING),
            };
        }
        let emulated = matches!(self.mode, AsyncMode::EmulatedPolling | AsyncMode::EmulatedNotify);
        let delivery = match self.mode {
            AsyncMode::Notify => Delivery::Notify,
            AsyncMode::EmulatedNotify => Delivery::EmulatedNotify,
            _ => Delivery::EmulatedPolling,
        };
        slot.begin(delivery, self.event.clone());
        let end_call = move || self.finish(SqlReturn::SQL_STILL_EXECUTING);
        if emulated {
            async_engine::host::emulate(stmt.clone(), func, f, end_call)
        } else {
            // Native notification: the first call runs here, on the application's thread.
            async_engine::host::notify_first_call(&*stmt, func, f, end_call)
        }
    }

    /// Ends the call with a finished asynchronous operation's result and diagnostics, and
    /// applies its state transition (§2.13: SQLCompleteAsync does the post-processing).
    pub fn finish_completed(self, done: Completed) -> SqlReturn {
        let func = done.func;
        let rc = done.rc;
        // With async on, the DM cannot ask the driver SQLNumResultCols (it could go
        // asynchronous itself): assume a cursor; the driver reports 24000 if there is none.
        let has_result =
            if rc.is_success() && opens_result(func) || rc == SqlReturn::SQL_SUCCESS && func == FunctionId::SQL_API_SQLPARAMDATA {
                Some(done.has_result.unwrap_or(true))
            } else {
                None
            };
        // A cursor assumed, not asked: S5 with `result_unknown` (#133).
        let assumed = has_result.is_some() && done.has_result.is_none();
        self.call.finish_records(rc, done.diags, |c, rc| {
            stmt_state::after(func, &mut c.status, rc, has_result);
            if has_result.is_some() {
                c.status.result_unknown = assumed && c.status.state == stmt_state::StmtState::S5;
            }
        })
    }

    /// Continues a fast-lane call (see `handles::gate`) whose driver call did not return
    /// plain SQL_SUCCESS: the gate is already held and the published summary proved that
    /// the state check passed and there was nothing to clear.
    #[inline(never)]
    pub fn adopt(stmt: &'a Arc<Stmt>, func: FunctionId) -> Self {
        let busy = stmt.gate.adopt();
        StmtCall { stmt, func, call: Call { busy, extra: None }, async_enabled: false, mode: AsyncMode::Sync, event: None }
    }

    /// Ends SQLFreeHandle(STMT) after the driver freed its handle.
    pub fn finish_freed(self, rc: SqlReturn) -> SqlReturn {
        let rc = if rc == SqlReturn::SQL_SUCCESS_WITH_INFO { SqlReturn::SQL_SUCCESS } else { rc };
        self.call.finish(rc, None, |c, _| c.freed = true)
    }

    /// IM001: the driver does not export the function.
    pub fn missing(self, name: &str) -> SqlReturn {
        self.call.fail(SqlState::DRIVER_LACKS_FUNCTION, format!("Driver does not support this function: {name}"))
    }

    /// Queues a DM record after the driver's.
    pub fn warn(&mut self, state: SqlState, msg: impl Into<String>) {
        self.call.warn(state, msg)
    }

    /// Runs `f` on the statement's core while keeping the call slot.
    pub fn core<R>(&self, f: impl FnOnce(&mut StmtCore) -> R) -> R {
        self.call.core(f)
    }

    /// Ends the call with the driver's `rc`: diagnostics, then the state transition. For
    /// functions that may open a result set, the driver is asked (SQLNumResultCols) so the
    /// DM knows S4 from S5 (unixODBC does the same).
    #[inline(always)]
    pub fn finish(self, rc: SqlReturn) -> SqlReturn {
        let stmt = self.stmt;
        let func = self.func;
        // The driver's records of a SQL_SUCCESS_WITH_INFO that may have opened a result
        // set, read before SQLNumResultCols below: that call starts by clearing them
        // (psqlODBC's NOTICE, for one, would be lost: SQL_SUCCESS_WITH_INFO and no record).
        let mut pulled = None;
        let has_result =
            if rc.is_success() && opens_result(func) || rc == SqlReturn::SQL_SUCCESS && func == FunctionId::SQL_API_SQLPARAMDATA {
                // An async-enabled statement may answer SQLNumResultCols asynchronously too:
                // assume a cursor and let the driver report 24000 if there is none.
                if self.async_enabled {
                    Some(true)
                } else {
                    if rc == SqlReturn::SQL_SUCCESS_WITH_INFO {
                        pulled = Some(pull_driver_diags(&stmt.link, HandleType::SQL_HANDLE_STMT, stmt.driver_handle()));
                    }
                    Some(driver_has_result(stmt))
                }
            } else {
                None
            };
        let cancelled = rc == SqlReturn::SQL_ERROR && stmt.gate.take_cancel();
        // A cursor assumed, not asked (async on): S5 with `result_unknown` (#133).
        let assumed = has_result.is_some() && self.async_enabled;
        let apply = move |c: &mut StmtCore, rc: SqlReturn| {
            if cancelled && !c.diag.records().iter().any(|r| r.state == SqlState::OPERATION_CANCELED) {
                // §3.2: the cancelled call reports HY008. psqlODBC says 57014, for one;
                // its record follows ours.
                let mut recs = c.diag.take();
                recs.insert(0, DiagRecord::dm(SqlState::OPERATION_CANCELED, "Operation canceled"));
                c.diag.replace(recs);
            }
            stmt_state::after(func, &mut c.status, rc, has_result);
            if has_result.is_some() {
                c.status.result_unknown = assumed && c.status.state == crate::handles::stmt_state::StmtState::S5;
            }
            // Folded into the summary (decision #102): every change of what the predicate
            // answers for this statement happens inside a call on it, which ends here.
            c.fetch_full_path = super::concurrency::fetch_needs_full_path(stmt);
        };
        match pulled {
            Some(recs) => self.call.finish_pulled(rc, recs, apply),
            None => self.call.finish(rc, Some((&stmt.link, HandleType::SQL_HANDLE_STMT, stmt.driver_handle())), apply),
        }
    }
}

/// §2.11: while a notification-mode operation is outstanding (until SQLCompleteAsync
/// collects it), the original function gets IM017 and any other function IM018.
#[inline]
pub(crate) fn notification_refusal(stmt: &Stmt, func: FunctionId, c: &StmtCore) -> Result<(), (SqlState, String)> {
    if !stmt.async_slot.is_notify() {
        return Ok(());
    }
    if c.status.async_func == Some(func) {
        Err((SqlState::POLLING_IN_NOTIFICATION_MODE, "Polling is disabled in asynchronous notification mode (§2.11)".into()))
    } else {
        Err((
            SqlState::COMPLETE_ASYNC_NOT_CALLED,
            "SQLCompleteAsync has not been called to complete the asynchronous operation (§2.11)".into(),
        ))
    }
}

/// The rest of a fast-lane call whose driver call did not return plain SQL_SUCCESS: out of
/// line, so the lane itself stays small.
#[cold]
#[inline(never)]
pub(super) fn stmt_lane_finish(s: Lent<'_, Stmt>, func: FunctionId, rc: SqlReturn) -> SqlReturn {
    let s = s.arc();
    StmtCall::adopt(&s, func).finish(rc)
}
