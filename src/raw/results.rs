//! Result sets: describing, binding, fetching, getting data, row counts, more results.

use odbc_dm_abi::{FunctionId as F, *};

use super::{boundary, handle, same_signature, StmtCall};
use crate::diag::SqlState;
use crate::trace_enter;

same_signature!(SQLNumResultCols, SQLFetch, SQLGetData, SQLBindCol);

/// SQLNumResultCols.
pub unsafe extern "C" fn SQLNumResultCols(stmt: SqlHStmt, count: *mut SqlSmallInt) -> SqlReturn {
    trace_enter!("SQLNumResultCols", "{:p}", stmt);
    boundary("SQLNumResultCols", || {
        let s = handle!(stmt, stmt);
        let call = match StmtCall::begin(&s, F::SQL_API_SQLNUMRESULTCOLS) {
            Ok(c) => c,
            Err(rc) => return rc,
        };
        if count.is_null() {
            return call.fail(SqlState::INVALID_NULL_POINTER, "ColumnCountPtr is a null pointer");
        }
        let Some(f) = s.link.driver.fns.SQLNumResultCols else { return call.missing("SQLNumResultCols") };
        // SAFETY: live driver statement; non-null application out pointer.
        let rc = unsafe { f(s.driver_handle(), count) };
        call.finish(rc)
    })
}

/// SQLFetch: 24000 in S4, HY010 in S1–S3 (§4.5).
pub unsafe extern "C" fn SQLFetch(stmt: SqlHStmt) -> SqlReturn {
    trace_enter!("SQLFetch", "{:p}", stmt);
    boundary("SQLFetch", || {
        let s = handle!(stmt, stmt);
        let call = match StmtCall::begin(&s, F::SQL_API_SQLFETCH) {
            Ok(c) => c,
            Err(rc) => return rc,
        };
        let Some(f) = s.link.driver.fns.SQLFetch else { return call.missing("SQLFetch") };
        // SAFETY: live driver statement handle.
        let rc = unsafe { f(s.driver_handle()) };
        call.finish(rc)
    })
}

/// SQLGetData: a negative BufferLength is HY090 (checked before the driver).
pub unsafe extern "C" fn SQLGetData(stmt: SqlHStmt, col: SqlUSmallInt, target_type: CDataType, target: SqlPointer, buf_len: SqlLen, ind: *mut SqlLen) -> SqlReturn {
    trace_enter!("SQLGetData", "{:p} {} {:?} {:p} {}", stmt, col, target_type, target, buf_len);
    boundary("SQLGetData", || {
        let s = handle!(stmt, stmt);
        let call = match StmtCall::begin(&s, F::SQL_API_SQLGETDATA) {
            Ok(c) => c,
            Err(rc) => return rc,
        };
        if buf_len < 0 {
            return call.fail(SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "BufferLength is negative");
        }
        let Some(f) = s.link.driver.fns.SQLGetData else { return call.missing("SQLGetData") };
        // SAFETY: live driver statement; the application's buffers as given.
        let rc = unsafe { f(s.driver_handle(), col, target_type, target, buf_len, ind) };
        call.finish(rc)
    })
}

/// SQLBindCol: a negative BufferLength is HY090.
pub unsafe extern "C" fn SQLBindCol(stmt: SqlHStmt, col: SqlUSmallInt, target_type: CDataType, target: SqlPointer, buf_len: SqlLen, ind: *mut SqlLen) -> SqlReturn {
    trace_enter!("SQLBindCol", "{:p} {} {:?} {:p} {}", stmt, col, target_type, target, buf_len);
    boundary("SQLBindCol", || {
        let s = handle!(stmt, stmt);
        let call = match StmtCall::begin(&s, F::SQL_API_SQLBINDCOL) {
            Ok(c) => c,
            Err(rc) => return rc,
        };
        if buf_len < 0 {
            return call.fail(SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "BufferLength is negative");
        }
        let Some(f) = s.link.driver.fns.SQLBindCol else { return call.missing("SQLBindCol") };
        // SAFETY: live driver statement; the application's buffers as given.
        let rc = unsafe { f(s.driver_handle(), col, target_type, target, buf_len, ind) };
        call.finish(rc)
    })
}
