//! Cancellation (§3.2–§3.5) and transactions (§4.3, §1.11).
//!
//! SQLCancel and SQLCancelHandle never wait for the handle's call gate: a cancel from a
//! second thread reaches the driver while the first thread is inside its call (§3.1).
//! Every driver cancel runs under the handle's cancel fence (`handles::gate::FENCE`,
//! docs/decisions.md #29), which the frees wait for.

use std::sync::Arc;

use odbc_dm_abi::*;

use super::connect_async::{self, Started};
use super::{boundary, handle, reject, same_signature};
use crate::diag::{DiagRecord, SqlState};
use crate::handles::gate::{Busy, CancelHold, FenceTry};
use crate::handles::stmt_state::{self, StmtState};
use crate::handles::{self, Dbc, DbcPost, Stmt, StmtCore};
use crate::trace_enter;

same_signature!(SQLCancel, SQLCancelHandle, SQLEndTran, SQLTransact);

/// SQLCancel on a statement.
pub unsafe extern "C" fn SQLCancel(stmt: SqlHStmt) -> SqlReturn {
    trace_enter!("SQLCancel", "{:p}", stmt);
    boundary("SQLCancel", || {
        let s = handle!(stmt, stmt);
        cancel_stmt(&s)
    })
}

/// The driver's SQLCancel on `s` (through the table: at `Threading` 3 the trampoline takes
/// the driver's lock). The caller holds the cancel fence ([`Gated::fence`]), so the
/// driver handle is not being freed.
fn driver_cancel(s: &Stmt) -> Option<SqlReturn> {
    let f = s.link.driver.fns.SQLCancel?;
    // SAFETY: the caller holds the statement's cancel fence: `fence_free` (SQLFreeHandle,
    // SQLFreeStmt(SQL_DROP), SQLDisconnect) waits for it before the driver frees the
    // handle, and no fence can be set once it has begun (docs/decisions.md #29). Drivers
    // must accept SQLCancel from another thread during a call (§3.1).
    Some(unsafe { f(s.driver_handle()) })
}

/// Whether the driver's SQLCancel may never run beside a call into the same driver
/// (`Threading` 3, libsqlite3odbc's default): it would wait for the running call and then
/// reach an idle statement, whose cursor it closes (docs/decisions.md #30).
fn cancel_serialized(s: &Stmt) -> bool {
    s.link.driver.threading == crate::driver::Threading::DriverWithCancel
}

/// SQLCancel (§3.2–§3.5). Never waits for a running call. The driver's SQLCancel is
/// called only when something runs on the statement — a call on another thread (§3.2), a
/// NEED_DATA sequence (S8–S10) or an asynchronous operation (S11/S12) — and always under
/// the statement's cancel fence, so it can never reach a driver handle that is being or
/// has been freed, nor a later call than the one it was aimed at (docs/decisions.md
/// #29–#31). An idle cancel is a DM no-op (§3.3).
pub(crate) fn cancel_stmt(s: &Arc<Stmt>) -> SqlReturn {
    // §3.5: statement cancel is refused while the connection runs an async function.
    if s.dbc.gate.read(|c| c.asynch.func.is_some()) {
        return reject_now(
            s,
            SqlState::FUNCTION_SEQUENCE_ERROR,
            "SQLCancel is not allowed while an asynchronous connection function is executing (§3.5)",
        );
    }
    // §2.14: an asynchronous operation in flight (notification, emulation) reports HY008
    // through its completion when the cancel takes effect.
    // A native notification-mode operation is driven by the DM once the cancel grace has
    // passed, so it ends even if the driver never calls back (§2.14, decision #35).
    let running = crate::async_engine::cancel_accepted(&**s);
    if s.async_slot.is_emulated() && (!running || cancel_serialized(s)) {
        // An emulated operation runs as a synchronous driver call on the DM's pool
        // (decision #39). Finished (not yet collected): nothing to cancel, and an idle
        // SQLCancel could close the cursor under the result (§3.3). On a driver serialized
        // with its SQLCancel (Threading=3) the driver's cancel would only wait for the
        // running call and then reach an idle statement (#30): not forwarded either. The
        // cancel is recorded: a call that fails reports HY008, one that completes keeps
        // its result. Otherwise the driver's cancel reaches the pool's running call below.
        return SqlReturn::SQL_SUCCESS;
    }
    // The call seen running may end before the fence is set: look again (a bounded
    // number of times; a statement that keeps changing hands gets a no-op).
    for _ in 0..4 {
        if let Some(busy) = s.gate.try_begin() {
            return cancel_owned(s, busy);
        }
        match cancel_cross_thread(s) {
            Some(rc) => return rc,
            None => std::hint::spin_loop(),
        }
    }
    SqlReturn::SQL_SUCCESS
}

/// The cancel of one asynchronous operation, by its generation (the safe API's `abort`,
/// `raw::ext::cancel_generation`): as [`cancel_stmt`], but the generation is checked while
/// no new call can begin (this cancel holds the statement's busy word, or the fence over
/// the call that holds it), so a later operation of the statement is never marked nor
/// reached by the driver's SQLCancel, however the operation and the owner's next call
/// race with it. `None`: the operation is no longer the statement's running one.
pub(crate) fn cancel_stmt_generation(s: &Arc<Stmt>, generation: u64) -> Option<SqlReturn> {
    let ours = || s.async_slot.epoch() == generation && s.async_slot.is_running();
    if !ours() {
        return None;
    }
    if s.dbc.gate.read(|c| c.asynch.func.is_some()) {
        return Some(reject_now(
            s,
            SqlState::FUNCTION_SEQUENCE_ERROR,
            "SQLCancel is not allowed while an asynchronous connection function is executing (§3.5)",
        ));
    }
    match s.gate.hold_for_cancel(ours) {
        CancelHold::Owned(busy) => {
            let running = crate::async_engine::cancel_accepted(&**s);
            if s.async_slot.is_emulated() && (!running || cancel_serialized(s)) {
                // As in `cancel_stmt`: recorded, not forwarded.
                drop(busy);
                return Some(SqlReturn::SQL_SUCCESS);
            }
            Some(cancel_owned(s, busy))
        }
        CancelHold::Fenced => {
            let running = crate::async_engine::cancel_accepted(&**s);
            if cancel_serialized(s) || (s.async_slot.is_emulated() && !running) {
                s.gate.unfence();
                return Some(SqlReturn::SQL_SUCCESS);
            }
            Some(forward_fenced(s))
        }
        CancelHold::NotOurs => None,
        CancelHold::Closed => Some(SqlReturn::SQL_SUCCESS),
    }
}

/// A call holds the statement (§3.2): SUCCESS or ERROR only, no diagnostics, and the
/// victim's diagnostics are not touched (§3.3). `None`: the call ended meanwhile.
fn cancel_cross_thread(s: &Stmt) -> Option<SqlReturn> {
    if cancel_serialized(s) {
        // Accepted, not forwarded: the driver's SQLCancel could only run after the call it
        // is aimed at has left the driver, on an idle statement (§3.1: success is not
        // guaranteed). docs/decisions.md #30.
        return Some(SqlReturn::SQL_SUCCESS);
    }
    match s.gate.fence_running() {
        FenceTry::Entered => {}
        FenceTry::Idle => return None,
        // Another cancel is already in the driver for this call, or the statement is being
        // freed: nothing left to cancel.
        FenceTry::Closed => return Some(SqlReturn::SQL_SUCCESS),
    }
    Some(forward_fenced(s))
}

/// The driver's SQLCancel of the call that the fence this thread set ([`Gated::fence_running`])
/// holds, then the fence cleared: SUCCESS or ERROR only (§3.2).
fn forward_fenced(s: &Stmt) -> SqlReturn {
    // Mark first: the victim may return before the driver's SQLCancel does.
    // Set when a cross-thread SQLCancel was accepted while a call ran (§3.2), so the
    // cancelled call's SQL_ERROR carries HY008 whatever SQLSTATE the driver chose.
    s.gate.set_cancel_pending();
    let rc = driver_cancel(s);
    s.gate.unfence();
    match rc {
        Some(rc) if rc.is_success() => SqlReturn::SQL_SUCCESS,
        _ => {
            s.gate.take_cancel();
            SqlReturn::SQL_ERROR
        }
    }
}

/// No call runs on the statement and this cancel holds it.
fn cancel_owned(s: &Stmt, busy: Busy<'_, StmtCore>) -> SqlReturn {
    let (state, freed, emulated) = busy.core(|c| (c.status.state, c.freed, c.async_emulated));
    if freed {
        // SQLDisconnect freed it while this cancel waited for nothing.
        drop(busy);
        return SqlReturn::SQL_INVALID_HANDLE;
    }
    let need_data = matches!(state, StmtState::S8 | StmtState::S9 | StmtState::S10);
    let in_async = matches!(state, StmtState::S11 | StmtState::S12);
    if !need_data && !in_async {
        // §3.3: an idle SQLCancel is a no-op (since ODBC 3.5). The driver is not called:
        // some drivers (the SQLite driver) would close the cursor. On the thread whose call
        // left the diagnostics it clears them, as every call does; from another thread it
        // is a cross-thread cancel that came after its call ended and touches nothing
        // (§3.2: the victim's diagnostics are its own).
        let me = crate::handles::this_thread();
        return busy.end(|c| {
            if c.last_caller == me {
                c.diag.clear();
                c.diag.return_code = SqlReturn::SQL_SUCCESS;
            }
            SqlReturn::SQL_SUCCESS
        });
    }
    let (rc, recs) = if in_async && emulated && cancel_serialized(s) {
        // An emulated operation is a synchronous driver call on a pool thread: at
        // `Threading` 3 the driver's SQLCancel would wait for it and then close the
        // cursor it produced. Accepted: the operation ends with HY008 through its
        // completion (the slot is marked above).
        (SqlReturn::SQL_SUCCESS, Vec::new())
    } else if !s.gate.fence() {
        // SQLDisconnect is freeing the driver's statements: nothing left to cancel.
        return busy.end(|_| SqlReturn::SQL_SUCCESS);
    } else {
        let Some(rc) = driver_cancel(s) else {
            s.gate.unfence();
            return busy.end(|c| {
                c.diag.clear();
                c.diag.post(SqlState::DRIVER_LACKS_FUNCTION, "Driver does not support this function: SQLCancel");
                c.diag.return_code = SqlReturn::SQL_ERROR;
                SqlReturn::SQL_ERROR
            });
        };
        let recs = if rc == SqlReturn::SQL_SUCCESS_WITH_INFO || rc == SqlReturn::SQL_ERROR {
            super::pull_driver_diags(&s.link, HandleType::SQL_HANDLE_STMT, s.driver_handle())
        } else {
            Vec::new()
        };
        s.gate.unfence();
        (rc, recs)
    };
    busy.end(|c| {
        // Cancelling a NEED_DATA sequence or an async call replaces the victim's
        // diagnostics with SQLCancel's (§3.3).
        c.diag.replace(recs);
        c.diag.return_code = rc;
        if rc.is_success() {
            match state {
                StmtState::S8 | StmtState::S9 | StmtState::S10 => stmt_state::cancel_need_data(&mut c.status),
                StmtState::S11 => c.status.state = StmtState::S12, // §4.8
                _ => {}
            }
        }
    });
    rc
}

/// Posts a DM error without waiting for a running call (cancel paths): the one write
/// to a statement's core made without its busy word (a cross-thread SQLCancel must not
/// wait, §3.1).
fn reject_now(s: &Stmt, state: SqlState, msg: &str) -> SqlReturn {
    s.gate.write_unguarded(|c| {
        c.diag.clear();
        c.diag.post(state, msg);
        c.diag.return_code = SqlReturn::SQL_ERROR;
    });
    SqlReturn::SQL_ERROR
}

/// SQLCancelHandle (3.8, §3.4): ENV and DESC → HY092; STMT → SQLCancel; DBC → the
/// driver's SQLCancelHandle (IM001 if it has none).
pub unsafe extern "C" fn SQLCancelHandle(handle_type: HandleType, h: SqlHandle) -> SqlReturn {
    trace_enter!("SQLCancelHandle", "{:?} {:p}", handle_type, h);
    boundary("SQLCancelHandle", || match handle_type {
        HandleType::SQL_HANDLE_STMT => {
            let s = handle!(stmt, h);
            cancel_stmt(&s)
        }
        HandleType::SQL_HANDLE_DBC => {
            let d = handle!(dbc, h);
            // §3.4, §2.14: an outstanding asynchronous connection function ends with HY008.
            super::connect_async::cancel(&d)
        }
        HandleType::SQL_HANDLE_ENV => {
            let e = handle!(env, h);
            reject(&e.gate, SqlState::INVALID_ATTRIBUTE_IDENTIFIER, "SQLCancelHandle does not accept an environment handle (§3.4)")
        }
        HandleType::SQL_HANDLE_DESC => {
            let d = handle!(desc, h);
            reject(&d.gate, SqlState::INVALID_ATTRIBUTE_IDENTIFIER, "SQLCancelHandle does not accept a descriptor handle (§3.4)")
        }
        _ => SqlReturn::SQL_INVALID_HANDLE,
    })
}

/// SQLEndTran on a connection or on every connection of an environment.
pub unsafe extern "C" fn SQLEndTran(handle_type: HandleType, h: SqlHandle, completion: CompletionType) -> SqlReturn {
    trace_enter!("SQLEndTran", "{:?} {:p} {:?}", handle_type, h, completion);
    boundary("SQLEndTran", || match handle_type {
        HandleType::SQL_HANDLE_DBC => {
            let d = handle!(dbc, h);
            end_tran_dbc(&d, completion)
        }
        HandleType::SQL_HANDLE_ENV => {
            let e = handle!(env, h);
            if e.gate.read(|c| c.odbc_version.is_none()) {
                // Appendix B, environment transitions: SQLEndTran(ENV) in E1/E2 is
                // (HY010) until SQL_ATTR_ODBC_VERSION is set (§4.2, decision #138).
                return reject(&e.gate, SqlState::FUNCTION_SEQUENCE_ERROR, "SQL_ATTR_ODBC_VERSION has not been set (§4.2)");
            }
            if !matches!(completion, CompletionType::SQL_COMMIT | CompletionType::SQL_ROLLBACK) {
                return reject(&e.gate, SqlState::INVALID_TRANSACTION_OPCODE, "Invalid transaction operation code");
            }
            let conns = e.gate.with(|c| c.connections.clone());
            // §1.15: refused while any connection of the environment has dbc-async on.
            let dbc_async = conns.iter().any(|id| handles::tables().dbc.get(*id).is_some_and(|d| d.gate.read(|c| c.asynch.dbc_enabled)));
            if dbc_async {
                return reject(
                    &e.gate,
                    SqlState::END_TRAN_ENV_WITH_DBC_ASYNC,
                    "SQLEndTran(SQL_HANDLE_ENV) is not allowed while SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE is on for a connection (§1.15)",
                );
            }
            let mut worst = SqlReturn::SQL_SUCCESS;
            for id in conns {
                let Some(d) = handles::tables().dbc.get(id) else { continue };
                if !d.gate.read(|c| c.state.is_connected()) {
                    continue;
                }
                let rc = end_tran_dbc(&d, completion);
                // The worst outcome wins: ERROR over SUCCESS_WITH_INFO over SUCCESS.
                if rc == SqlReturn::SQL_ERROR || (rc == SqlReturn::SQL_SUCCESS_WITH_INFO && worst == SqlReturn::SQL_SUCCESS) {
                    worst = rc;
                }
            }
            if worst == SqlReturn::SQL_ERROR {
                e.gate.with(|c| {
                    c.diag.clear();
                    c.diag.post(SqlState::GENERAL_ERROR, "SQLEndTran failed on at least one connection of the environment");
                    c.diag.return_code = SqlReturn::SQL_ERROR;
                });
            }
            worst
        }
        _ => SqlReturn::SQL_INVALID_HANDLE,
    })
}

/// SQLEndTran on one connection: synchronous, or asynchronous with
/// SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE (§1.4; polling, notification or emulation, see
/// `connect_async`). HY010 while another function is outstanding or a statement is async
/// or needs data (§1.11).
fn end_tran_dbc(d: &Arc<Dbc>, completion: CompletionType) -> SqlReturn {
    let started = connect_async::begin(d, FunctionId::SQL_API_SQLENDTRAN, |c| {
        if !matches!(completion, CompletionType::SQL_COMMIT | CompletionType::SQL_ROLLBACK) {
            return Err((SqlState::INVALID_TRANSACTION_OPCODE, "Invalid transaction operation code".into()));
        }
        if !c.state.is_connected() {
            return Err((SqlState::CONNECTION_NOT_OPEN, "Connection not open".into()));
        }
        if c.statement_outstanding() {
            return Err((
                SqlState::FUNCTION_SEQUENCE_ERROR,
                "A statement of this connection is executing asynchronously or needs data (§1.11)".into(),
            ));
        }
        Ok(())
    });
    let (call, mode) = match started {
        Ok(Started::New(call, mode)) => (call, mode),
        Ok(Started::Repeat(call)) => return connect_async::repeat(d, call),
        Err(rc) => return rc,
    };
    let Some(link) = call.core(|c| c.link.clone()) else {
        return call.fail(SqlState::CONNECTION_NOT_OPEN, "Connection not open");
    };
    let fns = &link.driver.fns;
    let h = link.hdbc;
    let invoke: crate::async_engine::Invoke = if let Some(f) = fns.SQLEndTran {
        // SAFETY: live driver connection handle (the connection stays connected while the
        // operation is outstanding: SQLDisconnect is HY010/IM018 until it is collected).
        Box::new(move |_: &mut Vec<DiagRecord>| unsafe { f(HandleType::SQL_HANDLE_DBC, h as SqlHandle, completion) })
    } else if let Some(f) = fns.SQLTransact {
        // SAFETY: as above (ODBC 2.x).
        Box::new(move |_: &mut Vec<DiagRecord>| unsafe { f(std::ptr::null_mut(), h as SqlHandle, completion.0 as u16) })
    } else {
        return call.fail(SqlState::DRIVER_LACKS_FUNCTION, "Driver does not support this function: SQLEndTran");
    };
    connect_async::run(d, call, FunctionId::SQL_API_SQLENDTRAN, mode, invoke, DbcPost::EndTran)
}

/// ODBC 2.x SQLTransact.
pub unsafe extern "C" fn SQLTransact(env: SqlHEnv, dbc: SqlHDbc, completion: SqlUSmallInt) -> SqlReturn {
    let c = CompletionType(completion as i16);
    if !dbc.is_null() {
        // SAFETY: forwarded.
        unsafe { SQLEndTran(HandleType::SQL_HANDLE_DBC, dbc, c) }
    } else {
        // SAFETY: forwarded.
        unsafe { SQLEndTran(HandleType::SQL_HANDLE_ENV, env, c) }
    }
}
