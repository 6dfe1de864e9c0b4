//! Preparing and executing statements, parameters and data-at-execution.

use odbc_dm_abi::{FunctionId as F, *};

use super::strings::{InNarrow, InWide};
use super::{boundary, handle, same_signature, StmtCall};
use crate::diag::SqlState;
use crate::trace_enter;

same_signature!(SQLExecDirect, SQLExecDirectW, SQLPrepare, SQLPrepareW, SQLExecute);

/// Validates a statement text argument (HY009 null, HY090 bad length).
fn check_text(call: StmtCall<'_>, null: bool, len: i32) -> Result<StmtCall<'_>, SqlReturn> {
    if null {
        return Err(call.fail(SqlState::INVALID_NULL_POINTER, "StatementText is a null pointer"));
    }
    if len < 0 && len != SQL_NTS {
        return Err(call.fail(SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "Invalid string or buffer length"));
    }
    Ok(call)
}

macro_rules! text_call {
    ($name:literal, $wname:literal, $func:expr, $a:ident, $w:ident) => {
        /// ANSI form: calls the driver's ANSI entry point, or converts to its W one.
        pub unsafe extern "C" fn $a(stmt: SqlHStmt, text: *const SqlChar, len: SqlInteger) -> SqlReturn {
            trace_enter!($name, "{:p} {:?}", stmt, {
                // SAFETY: traced only when enabled; same contract as the call itself.
                unsafe { crate::text::narrow_in(text, len as isize) }.ok().flatten().map(String::from_utf8_lossy)
            });
            boundary($name, || {
                let s = handle!(stmt, stmt);
                let call = match StmtCall::begin(&s, $func) {
                    Ok(c) => c,
                    Err(rc) => return rc,
                };
                let call = match check_text(call, text.is_null(), len) {
                    Ok(c) => c,
                    Err(rc) => return rc,
                };
                let fns = &s.link.driver.fns;
                let rc = if let Some(f) = fns.$a {
                    // SAFETY: live driver statement; the application's text as given.
                    unsafe { f(s.driver_handle(), text, len) }
                } else if let Some(f) = fns.$w {
                    // SAFETY: the application's text with its length (validated above).
                    let w = match unsafe { InWide::from_narrow(text, len as isize) } {
                        Ok(w) => w,
                        Err(_) => return call.fail(SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "Invalid string or buffer length"),
                    };
                    // SAFETY: live driver statement; `w` outlives the call.
                    unsafe { f(s.driver_handle(), w.ptr(), w.len_i32()) }
                } else {
                    return call.missing($name);
                };
                call.finish(rc)
            })
        }

        /// Unicode form: calls the driver's W entry point, or converts to its ANSI one.
        pub unsafe extern "C" fn $w(stmt: SqlHStmt, text: *const SqlWChar, len: SqlInteger) -> SqlReturn {
            trace_enter!($wname, "{:p} {:?}", stmt, {
                // SAFETY: traced only when enabled; same contract as the call itself.
                unsafe { crate::text::wide_in(text, len as isize) }.ok().flatten().map(String::from_utf16_lossy)
            });
            boundary($wname, || {
                let s = handle!(stmt, stmt);
                let call = match StmtCall::begin(&s, $func) {
                    Ok(c) => c,
                    Err(rc) => return rc,
                };
                let call = match check_text(call, text.is_null(), len) {
                    Ok(c) => c,
                    Err(rc) => return rc,
                };
                let fns = &s.link.driver.fns;
                let rc = if let Some(f) = fns.$w {
                    // SAFETY: live driver statement; the application's text as given.
                    unsafe { f(s.driver_handle(), text, len) }
                } else if let Some(f) = fns.$a {
                    // SAFETY: the application's text with its length (validated above).
                    let n = match unsafe { InNarrow::from_wide(text, len as isize) } {
                        Ok(n) => n,
                        Err(_) => return call.fail(SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "Invalid string or buffer length"),
                    };
                    // SAFETY: live driver statement; `n` outlives the call.
                    unsafe { f(s.driver_handle(), n.ptr(), n.len_i32()) }
                } else {
                    return call.missing($wname);
                };
                call.finish(rc)
            })
        }
    };
}

text_call!("SQLExecDirect", "SQLExecDirectW", F::SQL_API_SQLEXECDIRECT, SQLExecDirect, SQLExecDirectW);
text_call!("SQLPrepare", "SQLPrepareW", F::SQL_API_SQLPREPARE, SQLPrepare, SQLPrepareW);

/// SQLExecute: runs the prepared statement (HY010 in S1, §4.5).
pub unsafe extern "C" fn SQLExecute(stmt: SqlHStmt) -> SqlReturn {
    trace_enter!("SQLExecute", "{:p}", stmt);
    boundary("SQLExecute", || {
        let s = handle!(stmt, stmt);
        let call = match StmtCall::begin(&s, F::SQL_API_SQLEXECUTE) {
            Ok(c) => c,
            Err(rc) => return rc,
        };
        let Some(f) = s.link.driver.fns.SQLExecute else { return call.missing("SQLExecute") };
        // SAFETY: live driver statement handle.
        let rc = unsafe { f(s.driver_handle()) };
        call.finish(rc)
    })
}
