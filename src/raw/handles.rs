//! Allocating and freeing handles; environment attributes (pure DM state).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use odbc_dm_abi::*;

use super::{boundary, handle, reject, same_signature, Call, StmtCall};
use crate::diag::SqlState;
use crate::handles::conn_state::ConnState;
use crate::handles::stmt_state::StmtState;
use crate::handles::{self, tables, Dbc, Desc, Env, Stmt};
use crate::trace_enter;

same_signature!(
    SQLAllocHandle,
    SQLFreeHandle,
    SQLFreeStmt,
    SQLAllocEnv,
    SQLAllocConnect,
    SQLAllocStmt,
    SQLFreeEnv,
    SQLFreeConnect,
    SQLSetEnvAttr,
    SQLGetEnvAttr
);

/// SQL_ATTR_CONNECTION_POOLING set on a NULL environment: process-wide (§6.1).
static PROCESS_POOLING: AtomicU32 = AtomicU32::new(0);

/// SQLAllocHandle: ENV needs no input; DBC needs SQL_ATTR_ODBC_VERSION set (HY010, §4.2);
/// STMT and DESC need a connection (08003, §4.3).
pub unsafe extern "C" fn SQLAllocHandle(handle_type: HandleType, input: SqlHandle, output: *mut SqlHandle) -> SqlReturn {
    trace_enter!("SQLAllocHandle", "{:?} {:p} {:p}", handle_type, input, output);
    boundary("SQLAllocHandle", || match handle_type {
        HandleType::SQL_HANDLE_ENV => {
            if output.is_null() {
                return SqlReturn::SQL_ERROR;
            }
            // The engine finds DM handles through the lookup the raw layer registers
            // (it imports no layer above it, decision #36).
            crate::async_engine::host::register_resolver(crate::handles::async_host);
            let env = Env::new();
            // SAFETY: `output` is non-null and points to the application's handle slot.
            unsafe { *output = env.id as SqlHandle };
            SqlReturn::SQL_SUCCESS
        }
        HandleType::SQL_HANDLE_DBC => {
            let env = handle!(env, input);
            alloc_dbc(&env, output)
        }
        HandleType::SQL_HANDLE_STMT => {
            let dbc = handle!(dbc, input);
            alloc_stmt(&dbc, output)
        }
        HandleType::SQL_HANDLE_DESC => {
            let dbc = handle!(dbc, input);
            alloc_desc(&dbc, output)
        }
        _ => {
            // The input handle decides where the diagnostic goes, if it is one of ours.
            if let Some(e) = handles::env(input) {
                reject(&e.gate, SqlState::INVALID_ATTRIBUTE_IDENTIFIER, "Invalid handle type")
            } else if let Some(d) = handles::dbc(input) {
                reject(&d.gate, SqlState::INVALID_ATTRIBUTE_IDENTIFIER, "Invalid handle type")
            } else {
                SqlReturn::SQL_INVALID_HANDLE
            }
        }
    })
}

fn alloc_dbc(env: &Arc<Env>, output: *mut SqlHandle) -> SqlReturn {
    let call = match Call::begin(&env.gate, |c| {
        if output.is_null() {
            return Err((SqlState::INVALID_NULL_POINTER, "OutputHandlePtr is a null pointer".into()));
        }
        if c.odbc_version.is_none() {
            return Err((
                SqlState::FUNCTION_SEQUENCE_ERROR,
                "SQL_ATTR_ODBC_VERSION must be set before allocating a connection (§4.2)".into(),
            ));
        }
        Ok(())
    }) {
        Ok(c) => c,
        Err(rc) => return rc,
    };
    let dbc = Dbc::new(env.clone());
    // SAFETY: checked non-null above; the application's handle slot.
    unsafe { *output = dbc.id as SqlHandle };
    call.finish(SqlReturn::SQL_SUCCESS, None, |c, _| c.connections.push(dbc.id))
}

fn alloc_stmt(dbc: &Arc<Dbc>, output: *mut SqlHandle) -> SqlReturn {
    let call = match Call::begin(&dbc.gate, |c| {
        if output.is_null() {
            return Err((SqlState::INVALID_NULL_POINTER, "OutputHandlePtr is a null pointer".into()));
        }
        // §1.10: first, since an asynchronous connect leaves the connection unconnected
        // until it is collected (08003 would be wrong).
        if c.asynch.func.is_some() {
            return Err((SqlState::FUNCTION_SEQUENCE_ERROR, "An asynchronous connection function is still executing (§1.10)".into()));
        }
        if !c.state.is_connected() {
            return Err((SqlState::CONNECTION_NOT_OPEN, "Connection not open".into()));
        }
        Ok(())
    }) {
        Ok(c) => c,
        Err(rc) => return rc,
    };
    let link = call.core(|c| c.link.clone()).expect("connected implies a link");
    let fns = &link.driver.fns;
    let mut h: SqlHandle = std::ptr::null_mut();
    let rc = if let Some(f) = fns.SQLAllocHandle {
        // SAFETY: live driver connection handle and a valid out pointer.
        unsafe { f(HandleType::SQL_HANDLE_STMT, link.hdbc as SqlHandle, &mut h) }
    } else if let Some(f) = fns.SQLAllocStmt {
        // SAFETY: as above (ODBC 2.x entry point).
        unsafe { f(link.hdbc as SqlHandle, &mut h) }
    } else {
        return call.fail(SqlState::DRIVER_LACKS_FUNCTION, "Driver lacks SQLAllocHandle and SQLAllocStmt");
    };
    if !rc.is_success() || h.is_null() {
        return call.finish(
            if rc.is_success() { SqlReturn::SQL_ERROR } else { rc },
            Some((&link, HandleType::SQL_HANDLE_DBC, link.hdbc as SqlHandle)),
            |_, _| {},
        );
    }
    let stmt = Stmt::new(dbc.clone(), link.clone(), h as usize, super::checks::lane_c_types);
    // The connection's SQL_ATTR_DM_CANCEL_GRACE is the statement's default (decision #35).
    stmt.async_slot.set_cancel_grace(dbc.async_slot.cancel_grace());
    // A connection-level SQL_ATTR_ASYNC_ENABLE may have made the new statement async (§1.2).
    let async_on = driver_stmt_async_enabled(&link, h);
    stmt.gate.write_unguarded(|c| c.async_enabled = async_on);
    // SAFETY: checked non-null; the application's handle slot.
    unsafe { *output = stmt.id as SqlHandle };
    call.finish(rc, Some((&link, HandleType::SQL_HANDLE_DBC, link.hdbc as SqlHandle)), |c, _| {
        c.statements.push(stmt.id);
        if c.state == ConnState::C4 {
            c.state = ConnState::C5;
        }
    })
}

fn alloc_desc(dbc: &Arc<Dbc>, output: *mut SqlHandle) -> SqlReturn {
    let call = match Call::begin(&dbc.gate, |c| {
        if output.is_null() {
            return Err((SqlState::INVALID_NULL_POINTER, "OutputHandlePtr is a null pointer".into()));
        }
        if !c.state.is_connected() {
            return Err((SqlState::CONNECTION_NOT_OPEN, "Connection not open".into()));
        }
        Ok(())
    }) {
        Ok(c) => c,
        Err(rc) => return rc,
    };
    let link = call.core(|c| c.link.clone()).expect("connected implies a link");
    let Some(f) = link.driver.fns.SQLAllocHandle else {
        return call.fail(SqlState::DRIVER_LACKS_FUNCTION, "Driver lacks SQLAllocHandle (descriptors)");
    };
    let mut h: SqlHandle = std::ptr::null_mut();
    // SAFETY: live driver connection handle and a valid out pointer.
    let rc = unsafe { f(HandleType::SQL_HANDLE_DESC, link.hdbc as SqlHandle, &mut h) };
    if !rc.is_success() || h.is_null() {
        return call.finish(
            if rc.is_success() { SqlReturn::SQL_ERROR } else { rc },
            Some((&link, HandleType::SQL_HANDLE_DBC, link.hdbc as SqlHandle)),
            |_, _| {},
        );
    }
    let desc = Desc::new(dbc.clone(), link.clone(), h as usize, None);
    // SAFETY: checked non-null; the application's handle slot.
    unsafe { *output = desc.id as SqlHandle };
    call.finish(rc, Some((&link, HandleType::SQL_HANDLE_DBC, link.hdbc as SqlHandle)), |c, _| c.descriptors.push(desc.id))
}

/// SQLFreeHandle: an environment with connections, a connected connection, or an
/// executing statement cannot be freed (HY010, §4.2, §4.3, §4.7).
pub unsafe extern "C" fn SQLFreeHandle(handle_type: HandleType, handle: SqlHandle) -> SqlReturn {
    trace_enter!("SQLFreeHandle", "{:?} {:p}", handle_type, handle);
    boundary("SQLFreeHandle", || match handle_type {
        HandleType::SQL_HANDLE_ENV => {
            let env = handle!(env, handle);
            let call = match Call::begin(&env.gate, |c| {
                if c.connections.is_empty() {
                    Ok(())
                } else {
                    Err((SqlState::FUNCTION_SEQUENCE_ERROR, "Environment still has connections (§4.2)".into()))
                }
            }) {
                Ok(c) => c,
                Err(rc) => return rc,
            };
            tables().env.remove(env.id);
            call.finish(SqlReturn::SQL_SUCCESS, None, |_, _| {})
        }
        HandleType::SQL_HANDLE_DBC => {
            let dbc = handle!(dbc, handle);
            let call = match Call::begin(&dbc.gate, |c| {
                if c.asynch.func.is_some() {
                    // §1.10: an asynchronous connect is outstanding (its driver handles and
                    // captured buffers live until it is collected).
                    Err((SqlState::FUNCTION_SEQUENCE_ERROR, "An asynchronous connection function is still executing (§1.10)".into()))
                } else if c.state == ConnState::C2 {
                    Ok(())
                } else {
                    Err((SqlState::FUNCTION_SEQUENCE_ERROR, "Connection is still connected (§4.3)".into()))
                }
            }) {
                Ok(c) => c,
                Err(rc) => return rc,
            };
            tables().dbc.remove(dbc.id);
            super::strings::forget_pending(dbc.id);
            let id = dbc.id;
            dbc.env.gate.with(|c| c.connections.retain(|&x| x != id));
            call.finish(SqlReturn::SQL_SUCCESS, None, |_, _| {})
        }
        HandleType::SQL_HANDLE_STMT => {
            let stmt = handle!(stmt, handle);
            free_stmt(&stmt)
        }
        HandleType::SQL_HANDLE_DESC => {
            let desc = handle!(desc, handle);
            free_desc(&desc)
        }
        _ => SqlReturn::SQL_INVALID_HANDLE,
    })
}

fn free_stmt(stmt: &Arc<Stmt>) -> SqlReturn {
    let call = match StmtCall::begin(stmt, FunctionId::SQL_API_SQLFREEHANDLE) {
        Ok(c) => c,
        Err(rc) => return rc,
    };
    let fns = &stmt.link.driver.fns;
    let (free_handle, free_stmt) = (fns.SQLFreeHandle, fns.SQLFreeStmt);
    if free_handle.is_none() && free_stmt.is_none() {
        return call.missing("SQLFreeHandle");
    }
    // Fence out cancels (docs/decisions.md #29): a cancel already inside the driver's
    // SQLCancel for this statement is waited for; every later one is a no-op.
    stmt.gate.fence_free();
    let rc = match (free_handle, free_stmt) {
        // SAFETY: the driver statement handle is live until this call, and no cancel is
        // inside the driver for it (fenced above).
        (Some(f), _) => unsafe { f(HandleType::SQL_HANDLE_STMT, stmt.driver_handle()) },
        // SAFETY: as above (ODBC 2.x).
        (None, Some(f)) => unsafe { f(stmt.driver_handle(), FreeStmtOption::SQL_DROP) },
        (None, None) => SqlReturn::SQL_ERROR,
    };
    if rc == SqlReturn::SQL_ERROR {
        // The driver kept its handle: cancels may reach it again.
        stmt.gate.unfence_free();
        return call.finish(rc);
    }
    forget_stmt(stmt);
    // The driver handle is gone: finish without reading its diagnostics, and make any call
    // that was waiting for the gate see the handle as invalid.
    call.finish_freed(rc)
}

/// Drops the DM side of a statement whose driver handle is gone.
pub(crate) fn forget_stmt(stmt: &Stmt) {
    tables().stmt.remove(stmt.id);
    // A text buffer kept for a polling call the statement will never repeat.
    super::strings::forget_pending(stmt.id);
    super::concurrency::forget(stmt);
    // A late callback for this statement is now refused with SQL_ERROR (§2.10).
    let token = stmt.notify_token.swap(0, std::sync::atomic::Ordering::AcqRel);
    if token != 0 {
        crate::async_engine::Token(token).unregister();
    }
    let (implicit, explicit) = stmt.gate.read(|c| (c.implicit_descs(), [c.explicit_desc(0), c.explicit_desc(1)]));
    for d in implicit.into_iter().flatten() {
        tables().desc.remove(d);
    }
    // Explicit descriptors forget the statement (they outlive it, SQLFreeHandle).
    for d in explicit.into_iter().flatten().filter_map(|id| tables().desc.get(id)) {
        d.users().stmts.retain(|&x| x != stmt.id);
    }
    let id = stmt.id;
    stmt.dbc.gate.write_unguarded(|c| {
        c.statements.retain(|&x| x != id);
        if c.statements.is_empty() && c.state == ConnState::C5 {
            c.state = ConnState::C4;
        }
    });
}

/// SQLFreeHandle(SQL_HANDLE_DESC) of an explicit descriptor. Every statement it is set on
/// as ARD or APD goes back to its implicit descriptor first (SQLFreeHandle, SQLSetStmtAttr
/// SQL_ATTR_APP_ROW_DESC: "the statements revert to their implicitly allocated
/// descriptors"): the DM sets the implicit one on the driver statement itself, because not
/// every driver does it (psqlODBC leaves the freed descriptor on its statements and reads
/// it at the next SQLBindCol). A statement that needs data or runs asynchronously (S8–S12)
/// cannot take the change: HY010 (decision #131).
fn free_desc(desc: &Arc<Desc>) -> SqlReturn {
    if desc.implicit_of.is_some() {
        return reject(&desc.gate, SqlState(*b"HY017"), "Invalid use of an automatically allocated descriptor handle");
    }
    let call = match Call::begin(&desc.gate, |_| Ok(())) {
        Ok(c) => c,
        Err(rc) => return rc,
    };
    let Some(f) = desc.link.driver.fns.SQLFreeHandle else {
        return call.fail(SqlState::DRIVER_LACKS_FUNCTION, "Driver lacks SQLFreeHandle");
    };
    // No statement can take the descriptor from here on; the ones that have it.
    let users = {
        let mut u = desc.users();
        u.freeing = true;
        u.stmts.clone()
    };
    let users: Vec<Arc<Stmt>> = users.into_iter().filter_map(|id| tables().stmt.get(id)).collect();
    let busy_state = |s: &Stmt| {
        s.gate.read(|c| {
            matches!(c.status.state, StmtState::S8 | StmtState::S9 | StmtState::S10 | StmtState::S11 | StmtState::S12)
                && (c.explicit_desc(0) == Some(desc.id) || c.explicit_desc(1) == Some(desc.id))
        })
    };
    if users.iter().any(|s| busy_state(s)) {
        desc.users().freeing = false;
        return call.fail(
            SqlState::FUNCTION_SEQUENCE_ERROR,
            "The descriptor is the ARD or APD of a statement that needs data or is executing asynchronously (decision #131)",
        );
    }
    for s in &users {
        if let Err(msg) = revert_to_implicit(s, desc) {
            desc.users().freeing = false;
            return call.fail(SqlState::FUNCTION_SEQUENCE_ERROR, msg);
        }
    }
    // A SQLCopyDesc reading it as its source finishes first (`freeing` keeps new ones off).
    while desc.users().pins > 0 {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    // SAFETY: the driver descriptor handle is live until this call, and nothing of the DM
    // uses it any more: no statement has it (set back above), no SQLCopyDesc reads it.
    let rc = unsafe { f(HandleType::SQL_HANDLE_DESC, desc.hdesc as SqlHandle) };
    if rc != SqlReturn::SQL_ERROR {
        tables().desc.remove(desc.id);
        super::strings::forget_pending(desc.id);
        let id = desc.id;
        desc.dbc.gate.write_unguarded(|c| c.descriptors.retain(|&x| x != id));
    } else {
        desc.users().freeing = false;
    }
    call.finish(rc, Some((&desc.link, HandleType::SQL_HANDLE_DESC, desc.hdesc as SqlHandle)), |_, _| {})
}

/// Sets statement `s` back to its implicit ARD / APD wherever it has the explicit `desc`:
/// on the driver (the implicit driver handle the DM recorded before the explicit one was
/// set, else SQL_NULL_HDESC) and in the DM's record. Holds the statement's busy word for
/// the driver call (waiting for a call in progress on it), without touching its
/// diagnostics: the application did not call the statement.
fn revert_to_implicit(s: &Arc<Stmt>, desc: &Desc) -> Result<(), String> {
    let (busy, slots) = s.gate.begin(|c| {
        if c.freed {
            return Ok([false; 2]);
        }
        let slots = [c.explicit_desc(0) == Some(desc.id), c.explicit_desc(1) == Some(desc.id)];
        if slots.iter().any(|&x| x)
            && matches!(c.status.state, StmtState::S8 | StmtState::S9 | StmtState::S10 | StmtState::S11 | StmtState::S12)
        {
            return Err("The descriptor is the ARD or APD of a statement that needs data or is executing asynchronously (decision #131)"
                .to_string());
        }
        Ok(slots)
    })?;
    let fns = &s.link.driver.fns;
    let set = fns.SQLSetStmtAttr.or(fns.SQLSetStmtAttrW);
    let implicit = busy.core(|c| c.implicit_descs());
    let mut done = [false; 2];
    for (slot, attr) in [(0, StmtAttr::SQL_ATTR_APP_ROW_DESC), (1, StmtAttr::SQL_ATTR_APP_PARAM_DESC)] {
        if !slots[slot] {
            continue;
        }
        let Some(f) = set else { continue };
        let back = implicit[slot].and_then(|id| tables().desc.get(id)).map_or(std::ptr::null_mut(), |d| d.hdesc as SqlPointer);
        // SAFETY: live driver statement (its busy word is held and it is not freed); its
        // own implicit descriptor handle, or null (SQL_NULL_HDESC).
        let mut rc = unsafe { f(s.driver_handle(), attr, back, SQL_IS_POINTER) };
        if !rc.is_success() && !back.is_null() {
            // SAFETY: as above; SQL_NULL_HDESC, the spec's other way back.
            rc = unsafe { f(s.driver_handle(), attr, std::ptr::null_mut(), SQL_IS_POINTER) };
        }
        // Whatever the driver answered, the DM's statement no longer names the descriptor
        // that is about to go (it never hands out or uses it again).
        done[slot] = true;
        if !rc.is_success() {
            log::warn!("SQLFreeHandle(DESC): the driver refused to set statement {} back to its implicit descriptor ({rc:?})", s.id);
        }
    }
    busy.end(|c| {
        if let Some(d) = c.descs.as_mut() {
            if done[0] {
                d.explicit_ard = None;
            }
            if done[1] {
                d.explicit_apd = None;
            }
        }
    });
    Ok(())
}

/// SQLFreeStmt: CLOSE, DROP, UNBIND, RESET_PARAMS; anything else is HY092. Not allowed
/// while an asynchronous function runs (HY010, §4.7).
pub unsafe extern "C" fn SQLFreeStmt(stmt: SqlHStmt, option: FreeStmtOption) -> SqlReturn {
    trace_enter!("SQLFreeStmt", "{:p} {:?}", stmt, option);
    boundary("SQLFreeStmt", || {
        let s = handle!(stmt, stmt);
        if option == FreeStmtOption::SQL_DROP {
            return free_stmt(&s);
        }
        if !matches!(option, FreeStmtOption::SQL_CLOSE | FreeStmtOption::SQL_UNBIND | FreeStmtOption::SQL_RESET_PARAMS) {
            return reject(&s.gate, SqlState::INVALID_ATTRIBUTE_IDENTIFIER, "Invalid SQLFreeStmt option");
        }
        let call = match Call::begin(&s.gate, |c| {
            super::call::notification_refusal(&s, FunctionId::SQL_API_SQLFREESTMT, c)?;
            if matches!(c.status.state, StmtState::S11 | StmtState::S12) {
                return Err((
                    SqlState::FUNCTION_SEQUENCE_ERROR,
                    "An asynchronous function is still executing on this statement (§4.7)".into(),
                ));
            }
            if matches!(c.status.state, StmtState::S8 | StmtState::S9 | StmtState::S10) {
                return Err((SqlState::FUNCTION_SEQUENCE_ERROR, "The statement is waiting for data-at-execution parameters".into()));
            }
            Ok(())
        }) {
            Ok(c) => c,
            Err(rc) => return rc,
        };
        let Some(f) = s.link.driver.fns.SQLFreeStmt else {
            return call.fail(SqlState::DRIVER_LACKS_FUNCTION, "Driver does not support this function: SQLFreeStmt");
        };
        // SAFETY: live driver statement handle.
        let rc = unsafe { f(s.driver_handle(), option) };
        if rc.is_success() {
            super::concurrency::on_free_stmt(&s, option);
        }
        if rc.is_success() && s.ansi_wchar {
            match option {
                FreeStmtOption::SQL_UNBIND => super::wconv::unbind(&s),
                FreeStmtOption::SQL_RESET_PARAMS => super::wconv::reset_params(&s),
                _ => super::wconv::forget_get(&s),
            }
        }
        call.finish(rc, Some((&s.link, HandleType::SQL_HANDLE_STMT, s.driver_handle())), |c, rc| {
            if option == FreeStmtOption::SQL_CLOSE && rc.is_success() {
                crate::handles::stmt_state::close(&mut c.status);
            }
        })
    })
}

/// ODBC 2.x SQLAllocEnv, mapped to SQLAllocHandle; the environment defaults to ODBC 2.
pub unsafe extern "C" fn SQLAllocEnv(env: *mut SqlHEnv) -> SqlReturn {
    boundary("SQLAllocEnv", || {
        // SAFETY: forwarded with the caller's pointer.
        let rc = unsafe { SQLAllocHandle(HandleType::SQL_HANDLE_ENV, std::ptr::null_mut(), env) };
        if rc.is_success() {
            // SAFETY: SQLAllocHandle succeeded, so `env` is valid and holds the new handle.
            if let Some(e) = handles::env(unsafe { *env }) {
                e.gate.with(|c| c.odbc_version = Some(SQL_OV_ODBC2));
            }
        }
        rc
    })
}

/// ODBC 2.x SQLAllocConnect.
pub unsafe extern "C" fn SQLAllocConnect(env: SqlHEnv, dbc: *mut SqlHDbc) -> SqlReturn {
    // SAFETY: forwarded.
    unsafe { SQLAllocHandle(HandleType::SQL_HANDLE_DBC, env, dbc) }
}

/// ODBC 2.x SQLAllocStmt.
pub unsafe extern "C" fn SQLAllocStmt(dbc: SqlHDbc, stmt: *mut SqlHStmt) -> SqlReturn {
    // SAFETY: forwarded.
    unsafe { SQLAllocHandle(HandleType::SQL_HANDLE_STMT, dbc, stmt) }
}

/// ODBC 2.x SQLFreeEnv.
pub unsafe extern "C" fn SQLFreeEnv(env: SqlHEnv) -> SqlReturn {
    // SAFETY: forwarded.
    unsafe { SQLFreeHandle(HandleType::SQL_HANDLE_ENV, env) }
}

/// ODBC 2.x SQLFreeConnect.
pub unsafe extern "C" fn SQLFreeConnect(dbc: SqlHDbc) -> SqlReturn {
    // SAFETY: forwarded.
    unsafe { SQLFreeHandle(HandleType::SQL_HANDLE_DBC, dbc) }
}

/// SQLSetEnvAttr: environment attributes are DM state. Unknown attribute → HY092, bad
/// value → HY024. Appendix B, environment transitions (§4.2, decision #138): in E1 an
/// attribute other than SQL_ATTR_ODBC_VERSION is (HY010) until SQL_ATTR_ODBC_VERSION is
/// set; in E2 (a connection handle is allocated) every attribute is (HY011).
pub unsafe extern "C" fn SQLSetEnvAttr(env: SqlHEnv, attr: EnvAttr, value: SqlPointer, len: SqlInteger) -> SqlReturn {
    trace_enter!("SQLSetEnvAttr", "{:p} {:?} {:p} {}", env, attr, value, len);
    boundary("SQLSetEnvAttr", || {
        let v = value as usize;
        if env.is_null() {
            // Only the process-wide pooling setting may be set on a NULL environment (§6.1).
            if attr == EnvAttr::SQL_ATTR_CONNECTION_POOLING && v <= SQL_CP_DRIVER_AWARE as usize {
                PROCESS_POOLING.store(v as u32, Ordering::Relaxed);
                return SqlReturn::SQL_SUCCESS;
            }
            return SqlReturn::SQL_INVALID_HANDLE;
        }
        let e = handle!(env, env);
        let call = match Call::begin(&e.gate, |c| match attr {
            _ if !c.connections.is_empty() => Err((
                SqlState::ATTRIBUTE_CANNOT_BE_SET_NOW,
                "Environment attributes cannot be set while a connection handle is allocated (§4.2)".into(),
            )),
            EnvAttr::SQL_ATTR_ODBC_VERSION => {
                if !matches!(v as u32, SQL_OV_ODBC2 | SQL_OV_ODBC3 | SQL_OV_ODBC3_80) || v > u32::MAX as usize {
                    return Err((SqlState::INVALID_ATTRIBUTE_VALUE, format!("Invalid SQL_ATTR_ODBC_VERSION value {v}")));
                }
                c.odbc_version = Some(v as u32);
                Ok(())
            }
            _ if c.odbc_version.is_none()
                && matches!(attr, EnvAttr::SQL_ATTR_CONNECTION_POOLING | EnvAttr::SQL_ATTR_CP_MATCH | EnvAttr::SQL_ATTR_OUTPUT_NTS) =>
            {
                Err((SqlState::FUNCTION_SEQUENCE_ERROR, "SQL_ATTR_ODBC_VERSION has not been set (§4.2)".into()))
            }
            EnvAttr::SQL_ATTR_CONNECTION_POOLING => {
                if v > SQL_CP_DRIVER_AWARE as usize {
                    return Err((SqlState::INVALID_ATTRIBUTE_VALUE, format!("Invalid SQL_ATTR_CONNECTION_POOLING value {v}")));
                }
                c.connection_pooling = v as u32;
                Ok(())
            }
            EnvAttr::SQL_ATTR_CP_MATCH => {
                if v > 1 {
                    return Err((SqlState::INVALID_ATTRIBUTE_VALUE, format!("Invalid SQL_ATTR_CP_MATCH value {v}")));
                }
                c.cp_match = v as u32;
                Ok(())
            }
            EnvAttr::SQL_ATTR_OUTPUT_NTS => {
                if v as i32 == SQL_TRUE {
                    Ok(())
                } else if v == 0 {
                    Err((SqlState::NOT_IMPLEMENTED, "SQL_ATTR_OUTPUT_NTS = SQL_FALSE is not supported".into()))
                } else {
                    Err((SqlState::INVALID_ATTRIBUTE_VALUE, "Invalid SQL_ATTR_OUTPUT_NTS value".into()))
                }
            }
            _ => Err((SqlState::INVALID_ATTRIBUTE_IDENTIFIER, format!("Invalid environment attribute {}", attr.0))),
        }) {
            Ok(c) => c,
            Err(rc) => return rc,
        };
        call.finish(SqlReturn::SQL_SUCCESS, None, |_, _| {})
    })
}

/// SQLGetEnvAttr: answered by the DM.
pub unsafe extern "C" fn SQLGetEnvAttr(
    env: SqlHEnv,
    attr: EnvAttr,
    value: SqlPointer,
    _buf_len: SqlInteger,
    out_len: *mut SqlInteger,
) -> SqlReturn {
    trace_enter!("SQLGetEnvAttr", "{:p} {:?}", env, attr);
    boundary("SQLGetEnvAttr", || {
        let e = handle!(env, env);
        let mut out = 0u32;
        let call = match Call::begin(&e.gate, |c| {
            if c.odbc_version.is_none() {
                // Appendix B, environment transitions: (HY010) until SQL_ATTR_ODBC_VERSION
                // is set (§4.2, decision #138).
                return Err((SqlState::FUNCTION_SEQUENCE_ERROR, "SQL_ATTR_ODBC_VERSION has not been set (§4.2)".into()));
            }
            out = match attr {
                EnvAttr::SQL_ATTR_ODBC_VERSION => c.odbc_version.unwrap_or(SQL_OV_ODBC3),
                EnvAttr::SQL_ATTR_CONNECTION_POOLING => c.connection_pooling,
                EnvAttr::SQL_ATTR_CP_MATCH => c.cp_match,
                EnvAttr::SQL_ATTR_OUTPUT_NTS => c.output_nts as u32,
                _ => return Err((SqlState::INVALID_ATTRIBUTE_IDENTIFIER, format!("Invalid environment attribute {}", attr.0))),
            };
            Ok(())
        }) {
            Ok(c) => c,
            Err(rc) => return rc,
        };
        if !value.is_null() {
            // SAFETY: environment attributes are 32-bit integers; the application passes a
            // buffer for one.
            unsafe { *(value as *mut u32) = out };
        }
        if !out_len.is_null() {
            // SAFETY: non-null out pointer from the application.
            unsafe { *out_len = 4 };
        }
        call.finish(SqlReturn::SQL_SUCCESS, None, |_, _| {})
    })
}

/// Asks the driver whether a fresh statement has SQL_ATTR_ASYNC_ENABLE on.
fn driver_stmt_async_enabled(link: &crate::handles::DriverLink, h: SqlHandle) -> bool {
    let fns = &link.driver.fns;
    let Some(f) = fns.SQLGetStmtAttrW.or(fns.SQLGetStmtAttr) else { return false };
    let mut v: usize = 0;
    let mut len = 0i32;
    // SAFETY: live driver statement; SQL_ATTR_ASYNC_ENABLE is an SQLULEN value.
    let rc = unsafe { f(h, StmtAttr::SQL_ATTR_ASYNC_ENABLE, (&mut v as *mut usize).cast(), 0, &mut len) };
    rc.is_success() && v != SQL_ASYNC_ENABLE_OFF
}
