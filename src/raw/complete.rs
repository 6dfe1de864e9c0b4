//! SQLCompleteAsync (§2.13, §1.16): collects an asynchronous operation's result.
//!
//! DM-only (drivers never see it). Notification mode: SQL_NO_DATA until the operation is
//! signalled, then SQL_SUCCESS with *AsyncRetCodePtr = the function's code, its
//! diagnostics on the handle and its state transition applied. Polling mode: it stands in
//! for the repeat call (no arguments needed: the DM re-invokes its capture), and may
//! return SQL_SUCCESS with *AsyncRetCodePtr = SQL_STILL_EXECUTING.

use std::sync::Arc;

use odbc_dm_abi::*;

use super::{boundary, handle, same_signature, StmtCall};
use crate::async_engine::{AsyncSlot, Phase};
use crate::handles::{Dbc, Stmt};
use crate::trace_enter;

same_signature!(SQLCompleteAsync);

/// SQLCompleteAsync.
pub unsafe extern "C" fn SQLCompleteAsync(handle_type: HandleType, h: SqlHandle, async_rc: *mut RetCode) -> SqlReturn {
    trace_enter!("SQLCompleteAsync", "{:?} {:p} {:p}", handle_type, h, async_rc);
    boundary("SQLCompleteAsync", || match handle_type {
        HandleType::SQL_HANDLE_STMT => {
            let s = handle!(stmt, h);
            // SAFETY: the application's out pointer, checked for null inside.
            unsafe { complete_stmt(&s, async_rc) }
        }
        HandleType::SQL_HANDLE_DBC => {
            let d = handle!(dbc, h);
            // SAFETY: as above.
            unsafe { complete_dbc(&d, async_rc) }
        }
        // §2.13: only DBC and STMT; no diagnostics are posted.
        _ => SqlReturn::SQL_INVALID_HANDLE,
    })
}

/// Writes the operation's code for the application.
///
/// # Safety
/// `p` is non-null and valid for a write.
unsafe fn put(p: *mut RetCode, rc: SqlReturn) -> SqlReturn {
    // SAFETY: per the contract.
    unsafe { *p = rc.0 };
    SqlReturn::SQL_SUCCESS
}

/// # Safety
/// `async_rc` is null or valid for a write.
unsafe fn complete_stmt(s: &Arc<Stmt>, async_rc: *mut RetCode) -> SqlReturn {
    if async_rc.is_null() {
        return SqlReturn::SQL_ERROR;
    }
    let slot: &AsyncSlot = &s.async_slot;
    let phase = slot.phase();
    let enabled = s.gate.read(|c| c.async_enabled);
    if !enabled && phase == Phase::Idle {
        // §2.13: async not enabled → SQL_ERROR, no diagnostics.
        return SqlReturn::SQL_ERROR;
    }
    match phase {
        Phase::Idle => SqlReturn::SQL_NO_DATA,
        Phase::Done => {
            let Some(func) = slot.func() else { return SqlReturn::SQL_NO_DATA };
            let call = match StmtCall::begin_completion(s, func) {
                Ok(c) => c,
                Err(rc) => return rc,
            };
            let Some(done) = slot.take_completed() else {
                // Another thread collected it between our look and the gate.
                drop(call);
                return SqlReturn::SQL_NO_DATA;
            };
            let rc = call.finish_completed(done);
            // SAFETY: non-null, the application's RETCODE.
            unsafe { put(async_rc, rc) }
        }
        _ if slot.is_notify() => SqlReturn::SQL_NO_DATA,
        _ if slot.is_emulated() => {
            // Emulated polling, still on the pool.
            // SAFETY: as above.
            unsafe { put(async_rc, SqlReturn::SQL_STILL_EXECUTING) }
        }
        _ => {
            // Native polling (§1.16): re-invoke the captured call in place of the repeat.
            let Some(func) = slot.func() else { return SqlReturn::SQL_NO_DATA };
            let call = match StmtCall::begin_completion(s, func) {
                Ok(c) => c,
                Err(rc) => return rc,
            };
            let Some((func, rc, extra, cancelled)) = crate::async_engine::host::repeat_polling(slot) else {
                drop(call);
                return SqlReturn::SQL_NO_DATA;
            };
            let rc = if rc == SqlReturn::SQL_STILL_EXECUTING {
                call.finish(rc)
            } else {
                call.finish_completed(crate::async_engine::host::completed_as(&**s, func, rc, extra, cancelled))
            };
            // SAFETY: as above.
            unsafe { put(async_rc, rc) }
        }
    }
}

/// # Safety
/// `async_rc` is null or valid for a write.
unsafe fn complete_dbc(d: &Arc<Dbc>, async_rc: *mut RetCode) -> SqlReturn {
    if async_rc.is_null() {
        return SqlReturn::SQL_ERROR;
    }
    match super::connect_async::complete(d) {
        Some(rc) => {
            // SAFETY: non-null, the application's RETCODE.
            unsafe { put(async_rc, rc) }
        }
        None => {
            if d.async_slot.is_active() || d.gate.read(|c| c.asynch.dbc_enabled) {
                SqlReturn::SQL_NO_DATA
            } else {
                SqlReturn::SQL_ERROR
            }
        }
    }
}
