//! Asynchronous connection functions (§1.4, §2.3): SQLConnect, SQLDriverConnect,
//! SQLDisconnect, SQLEndTran and SQLSetConnectAttr through the connection's
//! [`AsyncSlot`](crate::async_engine::AsyncSlot) and SQL_ATTR_ASYNC_DBC_EVENT.
//!
//! Every connection function that may run asynchronously is written as a driver call
//! captured by value (a `'static + Send` closure owning the DM's buffers, application
//! pointers wrapped in [`AppPtr`](super::AppPtr)) plus a [`DbcPost`]: what the DM does to
//! its own state when the call ends. [`run`] runs the closure in the connection's mode:
//!
//! - synchronous: once, in place, then the post-processing;
//! - polling (driver capable, no event, §1.7): once; on SQL_STILL_EXECUTING the capture
//!   and the post-processing are kept on the connection (`DbcAsync::func` blocks the
//!   other functions, §1.10/§1.11) and the application's repeat call, or SQLCompleteAsync
//!   standing in for it (§1.16), re-invokes the first call's capture (the driver ignores
//!   the arguments of a repeat, and the DM must not load the driver again);
//! - notification (driver capable of SQL_ASYNC_NOTIFICATION, event set, §2): the first
//!   call on the application's thread, re-invocations on the dispatcher after each
//!   callback; the application collects with SQLCompleteAsync (IM017/IM018 before, §2.11);
//! - emulation (emulation on, driver incapable): the call runs on the DM's
//!   emulation pool; polling repeats answer SQL_STILL_EXECUTING until it is done.
//!
//! Immediate completion in notification mode (§7.1, docs/decisions.md) follows the
//! statement policy: the application still gets SQL_STILL_EXECUTING, the event is set and
//! SQLCompleteAsync reports the code.

use std::sync::Arc;

use odbc_dm_abi::{ConnAttr, FunctionId, HandleType, SqlHandle, SqlReturn, SQL_AUTOCOMMIT_ON};

use super::Call;
use crate::async_engine::{self, host, AsyncEvent, Delivery, Phase};
use crate::diag::{DiagRecord, SqlState};
use crate::handles::conn_state::ConnState;
use crate::handles::gate::CancelHold;
use crate::handles::{AttrValue, Dbc, DbcCore, DbcPost, DriverLink};

/// How a connection function call runs, decided from the connection's attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DbcMode {
    /// SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE off.
    Sync,
    /// Polling, passed through to a capable driver (§1.7).
    Polling,
    /// Notification, native (§2).
    Notify,
    /// Polling, emulated by the DM's pool.
    EmulatedPolling,
    /// Notification, emulated by the DM's pool.
    EmulatedNotify,
}

impl DbcMode {
    /// The mode of a new call on a connection (after connect: the driver's capabilities
    /// were settled then, or when the attributes were set).
    pub(crate) fn of(c: &DbcCore) -> DbcMode {
        if !c.asynch.dbc_enabled {
            DbcMode::Sync
        } else if c.asynch.dbc_emulated {
            if c.asynch.notification() {
                DbcMode::EmulatedNotify
            } else {
                DbcMode::EmulatedPolling
            }
        } else if c.asynch.notification() && c.asynch.notify_installed {
            DbcMode::Notify
        } else {
            DbcMode::Polling
        }
    }

    fn notify(self) -> bool {
        matches!(self, DbcMode::Notify | DbcMode::EmulatedNotify)
    }
}

/// A connection function call that passed the DM's checks.
pub(crate) enum Started<'a> {
    /// A new call, and how it runs (`mode` is final except for connect, which settles it
    /// once the driver is loaded).
    New(Call<'a, DbcCore>, DbcMode),
    /// The application repeats the outstanding polling-mode function (§1.7).
    Repeat(Call<'a, DbcCore>),
}

/// Begins `func` on `d`: §2.11 IM017 (the same function) / IM018 (another) while a
/// notification-mode operation is outstanding; a polling repeat of the outstanding
/// function; HY010 while another asynchronous function is outstanding (§1.10, §1.11);
/// then the function's own checks.
pub(crate) fn begin<'a>(
    d: &'a Arc<Dbc>,
    func: FunctionId,
    check: impl FnOnce(&mut DbcCore) -> Result<(), (SqlState, String)>,
) -> Result<Started<'a>, SqlReturn> {
    let mut repeat = false;
    let mut mode = DbcMode::Sync;
    let call = Call::begin(&d.gate, |c| {
        if d.async_slot.is_notify() {
            return Err(if c.asynch.func == Some(func) {
                (SqlState::POLLING_IN_NOTIFICATION_MODE, "Polling is disabled in asynchronous notification mode (§2.11)".into())
            } else {
                (
                    SqlState::COMPLETE_ASYNC_NOT_CALLED,
                    "SQLCompleteAsync has not been called to complete the asynchronous operation (§2.11)".into(),
                )
            });
        }
        match c.asynch.func {
            Some(f) if f == func => {
                repeat = true;
                return Ok(());
            }
            Some(_) => {
                return Err((
                    SqlState::FUNCTION_SEQUENCE_ERROR,
                    "Another asynchronous function is executing on this connection (§1.10, §1.11)".into(),
                ))
            }
            None => {}
        }
        check(c)?;
        mode = DbcMode::of(c);
        Ok(())
    })?;
    Ok(if repeat { Started::Repeat(call) } else { Started::New(call, mode) })
}

/// The connection's event for a notification-mode call.
fn event_of(call: &Call<'_, DbcCore>, mode: DbcMode) -> Option<AsyncEvent> {
    if mode.notify() {
        call.core(|c| c.asynch.event.clone())
    } else {
        None
    }
}

/// Runs the driver call `f` of `func` in `mode` and ends the call; `post` is applied when
/// the operation ends (now, or when it is collected).
pub(crate) fn run(
    d: &Arc<Dbc>,
    call: Call<'_, DbcCore>,
    func: FunctionId,
    mode: DbcMode,
    mut f: impl FnMut(&mut Vec<DiagRecord>) -> SqlReturn + Send + 'static,
    post: DbcPost,
) -> SqlReturn {
    let slot = &d.async_slot;
    match mode {
        DbcMode::Sync => {
            let mut extra = Vec::new();
            let rc = f(&mut extra);
            let done = host::completed(&**d, func, rc, extra);
            conclude(d, call, done.rc, done.diags, post)
        }
        DbcMode::Polling => {
            let mut extra = Vec::new();
            let rc = f(&mut extra);
            if rc == SqlReturn::SQL_STILL_EXECUTING {
                // Kept for SQLCompleteAsync and the repeat calls (§1.16): the driver may
                // keep pointers into the first call's buffers until the end (§2.9).
                host::begin_polling(slot, func, Box::new(f));
                return outstanding(call, func, post);
            }
            let done = host::completed(&**d, func, rc, extra);
            conclude(d, call, done.rc, done.diags, post)
        }
        DbcMode::Notify => {
            let event = event_of(&call, mode);
            slot.begin(Delivery::Notify, event);
            // The first call runs here, on the application's thread.
            host::notify_first_call(&**d, func, f, move || outstanding(call, func, post))
        }
        DbcMode::EmulatedPolling | DbcMode::EmulatedNotify => {
            let event = event_of(&call, mode);
            slot.begin(if mode.notify() { Delivery::EmulatedNotify } else { Delivery::EmulatedPolling }, event);
            host::emulate(d.clone(), func, f, move || outstanding(call, func, post))
        }
    }
}

/// Ends the first call of an operation that continues: SQL_STILL_EXECUTING, the function
/// recorded as outstanding (§4.4) with its post-processing.
fn outstanding(call: Call<'_, DbcCore>, func: FunctionId, post: DbcPost) -> SqlReturn {
    call.finish(SqlReturn::SQL_STILL_EXECUTING, None, move |c, _| {
        c.asynch.func = Some(func);
        c.asynch.post = Some(post);
    })
}

/// A polling-mode repeat call (§1.7): re-invokes the first call's capture (native), or
/// reports the emulated operation's progress.
pub(crate) fn repeat(d: &Arc<Dbc>, call: Call<'_, DbcCore>) -> SqlReturn {
    match collect(d, call) {
        Some(rc) => rc,
        None => super::reject(&d.gate, SqlState::FUNCTION_SEQUENCE_ERROR, "No asynchronous operation is outstanding (§1.7)"),
    }
}

/// Collects or advances the outstanding operation with the gate held: a finished one is
/// concluded; an emulated one still running is SQL_STILL_EXECUTING; a native polling one
/// is re-invoked once. `None` (the call dropped): nothing to collect.
fn collect(d: &Arc<Dbc>, call: Call<'_, DbcCore>) -> Option<SqlReturn> {
    let slot = &d.async_slot;
    if slot.phase() == Phase::Done {
        let Some(done) = slot.take_completed() else {
            drop(call);
            return None;
        };
        let post = call.core(|c| c.asynch.post.take());
        return Some(conclude_opt(d, call, done.rc, done.diags, post));
    }
    if slot.phase() == Phase::Idle {
        drop(call);
        return None;
    }
    if slot.is_emulated() || slot.is_notify() {
        // Still running on the pool or waiting for a callback.
        return Some(call.finish(SqlReturn::SQL_STILL_EXECUTING, None, |_, _| {}));
    }
    // Native polling: the driver ignores the arguments of a repeat (§1.7); the capture has
    // the first call's.
    let Some((func, rc, extra, cancelled)) = host::repeat_polling(slot) else {
        drop(call);
        return None;
    };
    if rc == SqlReturn::SQL_STILL_EXECUTING {
        return Some(call.finish(rc, None, |_, _| {}));
    }
    let done = host::completed_as(&**d, func, rc, extra, cancelled);
    let post = call.core(|c| c.asynch.post.take());
    Some(conclude_opt(d, call, done.rc, done.diags, post))
}

fn conclude_opt(d: &Arc<Dbc>, call: Call<'_, DbcCore>, rc: SqlReturn, recs: Vec<DiagRecord>, post: Option<DbcPost>) -> SqlReturn {
    match post {
        Some(p) => conclude(d, call, rc, recs, p),
        None => call.finish_records(rc, recs, |c, _| c.asynch.func = None),
    }
}

/// The state change of a concluded connection function, applied as the gate is released.
type PostApply = Box<dyn FnOnce(&mut DbcCore, SqlReturn)>;

/// Ends a connection function: its records become the handle's, and the DM applies what
/// the synchronous call applies (state, link, driver handles).
pub(crate) fn conclude(d: &Arc<Dbc>, call: Call<'_, DbcCore>, rc: SqlReturn, mut recs: Vec<DiagRecord>, post: DbcPost) -> SqlReturn {
    let mut rc = rc;
    let apply: PostApply = match post {
        DbcPost::Connect { link, masked, warnings } => {
            if !warnings.is_empty() {
                recs.extend(warnings);
                if rc == SqlReturn::SQL_SUCCESS {
                    rc = SqlReturn::SQL_SUCCESS_WITH_INFO;
                }
            }
            if rc.is_success() {
                // This call holds the busy word, so no fast-lane call reads the fast info.
                d.set_fast_info(Some(&link));
                Box::new(move |c, _| {
                    c.pending_link = None;
                    c.link = Some(link);
                    c.state = ConnState::C4;
                    c.masked_conn_str = masked;
                })
            } else {
                super::connect::release_fenced(&call, d, &link.driver, link.henv as SqlHandle, link.hdbc as SqlHandle, |c| {
                    c.pending_link = None
                });
                Box::new(move |c, _| {
                    c.pending_link = None;
                    c.asynch.notify_installed = false;
                    c.asynch.dbc_emulated = false;
                })
            }
        }
        DbcPost::Disconnect { link } => {
            if rc.is_success() {
                super::connect::forget_children(&call);
                super::connect::release_fenced(&call, d, &link.driver, link.henv as SqlHandle, link.hdbc as SqlHandle, |c| c.link = None);
                // This call holds the busy word, so no fast-lane call reads the fast info.
                d.set_fast_info(None);
                Box::new(|c, _| {
                    c.link = None;
                    c.state = ConnState::C2;
                    c.asynch.notify_installed = false;
                    c.asynch.dbc_emulated = false;
                })
            } else {
                // The driver kept its statements: cancels may reach them again (#29).
                let ids = call.core(|c| c.statements.clone());
                let stmts: Vec<_> = ids.into_iter().filter_map(|id| crate::handles::tables().stmt.get(id)).collect();
                super::connect::unfence_statements(&stmts);
                Box::new(|_, _| {})
            }
        }
        DbcPost::EndTran => Box::new(|c, rc| {
            if rc.is_success() && c.state == ConnState::C6 {
                c.state = if c.statements.is_empty() { ConnState::C4 } else { ConnState::C5 };
            }
        }),
        DbcPost::SetAttr { attr, value } => Box::new(move |c, rc| {
            if rc.is_success() && attr == ConnAttr::SQL_ATTR_AUTOCOMMIT {
                c.autocommit = value == SQL_AUTOCOMMIT_ON;
                // Turning autocommit on commits the open transaction (Appendix B, C6).
                if c.autocommit && c.state == ConnState::C6 {
                    c.state = if c.statements.is_empty() { ConnState::C4 } else { ConnState::C5 };
                }
            }
        }),
    };
    let apply = move |c: &mut DbcCore, rc: SqlReturn| {
        c.asynch.func = None;
        c.asynch.post = None;
        apply(c, rc);
    };
    if recs.is_empty() {
        call.finish(rc, None, apply)
    } else {
        call.finish_records(rc, recs, apply)
    }
}

/// Collects a finished connection operation for SQLCompleteAsync (§2.13, §1.16): its
/// diagnostics become the handle's and its post-processing runs. In polling mode it stands
/// in for the repeat call and may report SQL_STILL_EXECUTING. `None`: nothing to collect
/// (nothing outstanding, or a notification-mode operation not yet signalled).
pub(crate) fn complete(d: &Arc<Dbc>) -> Option<SqlReturn> {
    let slot = &d.async_slot;
    let phase = slot.phase();
    if phase == Phase::Idle || (phase != Phase::Done && slot.is_notify()) {
        return None;
    }
    let call = Call::begin(&d.gate, |_| Ok(())).ok()?;
    collect(d, call)
}

/// SQLCancelHandle(SQL_HANDLE_DBC) (§3.4, §2.14): marks an outstanding operation
/// cancelled and asks the driver to cancel it; the operation then ends with HY008
/// through its completion. An emulated operation is a synchronous driver call on the
/// DM's pool: the cancel is accepted but it runs to completion (docs/decisions.md).
pub(crate) fn cancel(d: &Arc<Dbc>) -> SqlReturn {
    let slot = &d.async_slot;
    let running = slot.is_running();
    if slot.is_emulated() {
        // Accepted; the emulated call runs to completion (docs/decisions.md).
        return SqlReturn::SQL_SUCCESS;
    }
    if !running && !d.gate.is_busy() {
        // §3.4: no-op when idle (nothing outstanding, no call running on the connection).
        return SqlReturn::SQL_SUCCESS;
    }
    // The cancel fence (docs/decisions.md #29): while it is set, the connection's driver
    // handles cannot be freed (SQLDisconnect's and a failed connect's release wait for it);
    // once they are being freed, a cancel is a no-op. The link is read under the fence.
    if !d.gate.fence() {
        return SqlReturn::SQL_SUCCESS;
    }
    forward_fenced(d, running)
}

/// The safe API's abort of one connection operation (`raw::ext::cancel_generation`;
/// decision #146, as #144 for statements): SQLCancelHandle(SQL_HANDLE_DBC) only while the
/// operation of generation `generation` runs, checked where no new call can begin on the
/// connection: with its busy word held, or with the cancel fence over the call that holds
/// it (no later call can take the word until the fence is cleared). `None`: that operation
/// no longer runs, and nothing was touched (a later operation is never cancelled).
pub(crate) fn cancel_generation(d: &Arc<Dbc>, generation: u64) -> Option<SqlReturn> {
    let slot = &d.async_slot;
    match d.gate.hold_for_cancel(|| slot.epoch() == generation && slot.is_running()) {
        CancelHold::Owned(busy) => {
            let rc = cancel(d);
            drop(busy);
            Some(rc)
        }
        CancelHold::Fenced if slot.is_emulated() => {
            // Accepted; the emulated call runs to completion (as in `cancel`).
            d.gate.unfence();
            Some(SqlReturn::SQL_SUCCESS)
        }
        CancelHold::Fenced => Some(forward_fenced(d, true)),
        CancelHold::NotOurs => None,
        CancelHold::Closed => Some(SqlReturn::SQL_SUCCESS),
    }
}

/// With the connection's cancel fence set by the caller (cleared here): marks a running
/// operation cancelled and calls the driver's SQLCancelHandle(SQL_HANDLE_DBC).
fn forward_fenced(d: &Arc<Dbc>, running: bool) -> SqlReturn {
    let Some(link) = d.gate.read(|c| c.link.clone().or_else(|| c.pending_link.clone())) else {
        d.gate.unfence();
        // Nothing can be running on an unconnected handle: a no-op (§3.4).
        return SqlReturn::SQL_SUCCESS;
    };
    let Some(f) = link.driver.fns.SQLCancelHandle else {
        d.gate.unfence();
        d.gate.write_unguarded(|c| {
            c.diag.clear();
            c.diag.post(SqlState::DRIVER_LACKS_FUNCTION, "Driver does not support this function: SQLCancelHandle");
            c.diag.return_code = SqlReturn::SQL_ERROR;
        });
        return SqlReturn::SQL_ERROR;
    };
    if running {
        // Before the driver's cancel: the operation may end right after it (§2.14). A
        // notification-mode operation is driven by the DM after the cancel grace if the
        // driver does not end it (decision #35).
        async_engine::cancel_accepted(&**d);
    }
    // SAFETY: live driver connection handle: read under the connection's cancel fence,
    // which its release waits for (docs/decisions.md #29); cancel is meant to cross
    // threads (§3.1, §3.4).
    let rc = unsafe { f(HandleType::SQL_HANDLE_DBC, link.hdbc as SqlHandle) };
    d.gate.unfence();
    rc
}

/// Installs the DM's notification callback on the driver's connection (§2.3, §2.4): the
/// connection's token (registered once, kept for the handle's life, `Dbc::drop`
/// unregisters it) as the context first, so the callback never sees a stale one, then the
/// callback. Runs with the connection's gate held and no lock.
pub(crate) fn install_notification(d: &Dbc, link: &DriverLink) -> SqlReturn {
    use std::sync::atomic::Ordering;
    async_engine::dispatcher::ensure_started();
    let mut token = d.notify_token.load(Ordering::Acquire);
    if token == 0 {
        let Some(t) = async_engine::Token::register(HandleType::SQL_HANDLE_DBC, d.id) else {
            return SqlReturn::SQL_ERROR;
        };
        token = t.0;
        d.notify_token.store(token, Ordering::Release);
    }
    let rc = super::connect::set_connect_attr_on_driver(
        link,
        ConnAttr::SQL_ATTR_ASYNC_DBC_NOTIFICATION_CONTEXT,
        &AttrValue::Int(token as usize),
    );
    if !rc.is_success() {
        return rc;
    }
    super::connect::set_connect_attr_on_driver(
        link,
        ConnAttr::SQL_ATTR_ASYNC_DBC_NOTIFICATION_CALLBACK,
        &AttrValue::Int(async_engine::callback::callback_attr_value()),
    )
}

/// Takes the DM's callback off the driver's connection (the event was cleared: polling).
pub(crate) fn uninstall_notification(link: &DriverLink) {
    super::connect::set_connect_attr_on_driver(link, ConnAttr::SQL_ATTR_ASYNC_DBC_NOTIFICATION_CALLBACK, &AttrValue::Int(0));
    super::connect::set_connect_attr_on_driver(link, ConnAttr::SQL_ATTR_ASYNC_DBC_NOTIFICATION_CONTEXT, &AttrValue::Int(0));
}
