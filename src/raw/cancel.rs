//! Cancellation (§3.2–§3.5) and transactions (§4.3, §1.11).
//!
//! SQLCancel and SQLCancelHandle never wait for the handle's call gate: a cancel from a
//! second thread reaches the driver while the first thread is inside its call (§3.1).

use std::sync::Arc;

use odbc_dm_abi::*;

use super::connect_async::{self, Started};
use super::{boundary, handle, reject, same_signature};
use crate::diag::{DiagRecord, SqlState};
use crate::handles::stmt_state::{self, StmtState};
use crate::handles::{self, Dbc, DbcPost, Stmt};
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

fn driver_cancel(s: &Stmt) -> Option<SqlReturn> {
    let f = s.link.driver.fns.SQLCancel?;
    // SAFETY: the driver statement handle stays valid while `s` is registered; drivers
    // must accept SQLCancel from another thread during a call (§3.1).
    Some(unsafe { f(s.driver_handle()) })
}

pub(crate) fn cancel_stmt(s: &Arc<Stmt>) -> SqlReturn {
    // §3.5: statement cancel is refused while the connection runs an async function.
    if s.dbc.gate.peek(|c| c.asynch.func.is_some()) {
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
    if s.async_slot.is_emulated() {
        // An emulated operation runs as a synchronous driver call on the DM's pool
        // (decision #39). Finished (not yet collected): nothing to cancel, and an idle
        // SQLCancel could close the cursor under the result (§3.3). On a driver serialized
        // with its SQLCancel (Threading=3), the driver's cancel would only wait for the
        // running call and then reach an idle statement: not forwarded either. The cancel
        // is recorded: a call that fails reports HY008, one that completes keeps its result.
        if !running || s.link.driver.threading == crate::driver::serialize::Threading::DriverWithCancel {
            return SqlReturn::SQL_SUCCESS;
        }
        // Otherwise the driver's cancel reaches the pool's running call (§3.1) below.
    }
    match s.gate.try_begin() {
        None => {
            // Cross-thread cancel (§3.2): no diagnostics, SUCCESS or ERROR only, and the
            // victim's diagnostics are not touched (§3.3).
            // Mark first: the victim may return before the driver's SQLCancel does.
            s.cancel_pending.store(true, std::sync::atomic::Ordering::Release);
            match driver_cancel(s) {
                Some(rc) if rc.is_success() => SqlReturn::SQL_SUCCESS,
                _ => {
                    s.cancel_pending.store(false, std::sync::atomic::Ordering::Release);
                    SqlReturn::SQL_ERROR
                }
            }
        }
        Some(busy) => {
            let state = busy.core(|c| c.status.state);
            let Some(rc) = driver_cancel(s) else {
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
            busy.end(|c| {
                if matches!(state, StmtState::S8 | StmtState::S9 | StmtState::S10 | StmtState::S11 | StmtState::S12) {
                    // Cancelling a NEED_DATA sequence or an async call replaces the victim's
                    // diagnostics with SQLCancel's (§3.3).
                    c.diag.replace(recs);
                    c.diag.return_code = rc;
                } else if !recs.is_empty() {
                    c.diag.clear();
                    c.diag.replace(recs);
                    c.diag.return_code = rc;
                }
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
    }
}

/// Posts a DM error without waiting for a running call (cancel paths).
fn reject_now(s: &Stmt, state: SqlState, msg: &str) -> SqlReturn {
    s.gate.peek(|c| {
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
            if !matches!(completion, CompletionType::SQL_COMMIT | CompletionType::SQL_ROLLBACK) {
                return reject(&e.gate, SqlState::INVALID_TRANSACTION_OPCODE, "Invalid transaction operation code");
            }
            let conns = e.gate.with(|c| c.connections.clone());
            // §1.15: refused while any connection of the environment has dbc-async on.
            let dbc_async = conns.iter().any(|id| handles::tables().dbc.get(*id).is_some_and(|d| d.gate.peek(|c| c.asynch.dbc_enabled)));
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
                if !d.gate.peek(|c| c.state.is_connected()) {
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
        for sid in &c.statements {
            if let Some(s) = handles::tables().stmt.get(*sid) {
                if s.gate
                    .peek(|sc| matches!(sc.status.state, StmtState::S8 | StmtState::S9 | StmtState::S10 | StmtState::S11 | StmtState::S12))
                {
                    return Err((
                        SqlState::FUNCTION_SEQUENCE_ERROR,
                        "A statement of this connection is executing asynchronously or needs data (§1.11)".into(),
                    ));
                }
            }
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
