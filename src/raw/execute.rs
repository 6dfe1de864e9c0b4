//! Preparing and executing statements, parameters and data-at-execution.

use odbc_dm_abi::{FunctionId as F, *};

use super::checks;
use super::strings::{InNarrow, InWide};
use super::{boundary, handle, same_signature, AppPtr, StmtCall};
use crate::diag::{DiagRecord, SqlState};
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
    ($name:literal, $wname:literal, $func:expr, $a:ident, $w:ident, $exec:expr) => {
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
                // §5.7: positioned statements on an emulated cursor (raw/concurrency).
                // SAFETY: the application's text with its length (validated above).
                let call = match super::concurrency::before_text(call, &s, $func, || {
                    unsafe { crate::text::narrow_in(text, len as isize) }.ok().flatten().map(|b| String::from_utf8_lossy(b).into_owned())
                }) {
                    Ok(rc) => return rc,
                    Err(c) => c,
                };
                // SQL_C_WCHAR parameters of an ANSI-only driver (decision #77).
                let post = match super::wconv::exec_prelude(&s, $exec) {
                    Ok(p) => p,
                    Err((state, msg)) => return call.fail(state, msg),
                };
                let fns = &s.link.driver.fns;
                let h = s.hstmt;
                if let Some(f) = fns.$a {
                    let text = AppPtr::from_const(text);
                    call.invoke(move |extra| {
                        // SAFETY: live driver statement (the DM statement outlives any
                        // re-invocation); the application's text as given (§2.9).
                        let rc = unsafe { f(h as SqlHStmt, text.get_const(), len) };
                        super::wconv::exec_after(&post, rc, extra);
                        rc
                    })
                } else if let Some(f) = fns.$w {
                    // SAFETY: the application's text with its length (validated above).
                    let w = match unsafe { InWide::from_narrow(text, len as isize) } {
                        Ok(w) => w,
                        Err(_) => return call.fail(SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "Invalid string or buffer length"),
                    };
                    call.invoke(move |extra| {
                        // SAFETY: live driver statement; the closure owns `w`, so the converted
                        // text lives until the operation completes.
                        let rc = unsafe { f(h as SqlHStmt, w.ptr(), w.len_i32()) };
                        super::wconv::exec_after(&post, rc, extra);
                        rc
                    })
                } else {
                    call.missing($name)
                }
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
                // §5.7: positioned statements on an emulated cursor (raw/concurrency).
                // SAFETY: the application's text with its length (validated above).
                let call = match super::concurrency::before_text(call, &s, $func, || {
                    unsafe { crate::text::wide_in(text, len as isize) }.ok().flatten().map(String::from_utf16_lossy)
                }) {
                    Ok(rc) => return rc,
                    Err(c) => c,
                };
                // SQL_C_WCHAR parameters of an ANSI-only driver (decision #77).
                let post = match super::wconv::exec_prelude(&s, $exec) {
                    Ok(p) => p,
                    Err((state, msg)) => return call.fail(state, msg),
                };
                let fns = &s.link.driver.fns;
                let h = s.hstmt;
                if let Some(f) = fns.$w {
                    let text = AppPtr::from_const(text);
                    call.invoke(move |extra| {
                        // SAFETY: live driver statement (the DM statement outlives any
                        // re-invocation); the application's text as given (§2.9).
                        let rc = unsafe { f(h as SqlHStmt, text.get_const(), len) };
                        super::wconv::exec_after(&post, rc, extra);
                        rc
                    })
                } else if let Some(f) = fns.$a {
                    // SAFETY: the application's text with its length (validated above).
                    let n = match unsafe { InNarrow::from_wide(text, len as isize) } {
                        Ok(n) => n,
                        Err(_) => return call.fail(SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "Invalid string or buffer length"),
                    };
                    call.invoke(move |extra| {
                        // SAFETY: live driver statement; the closure owns `n`, so the converted
                        // text lives until the operation completes.
                        let rc = unsafe { f(h as SqlHStmt, n.ptr(), n.len_i32()) };
                        super::wconv::exec_after(&post, rc, extra);
                        rc
                    })
                } else {
                    call.missing($wname)
                }
            })
        }
    };
}

text_call!("SQLExecDirect", "SQLExecDirectW", F::SQL_API_SQLEXECDIRECT, SQLExecDirect, SQLExecDirectW, true);
text_call!("SQLPrepare", "SQLPrepareW", F::SQL_API_SQLPREPARE, SQLPrepare, SQLPrepareW, false);

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
        let h = s.hstmt;
        if s.ansi_wchar {
            // SQL_C_WCHAR parameters of an ANSI-only driver (decision #77).
            let post = match super::wconv::exec_prelude(&s, true) {
                Ok(p) => p,
                Err((state, msg)) => return call.fail(state, msg),
            };
            return call.invoke(move |extra| {
                // SAFETY: live driver statement handle (the DM statement outlives the operation).
                let rc = unsafe { f(h as SqlHStmt) };
                super::wconv::exec_after(&post, rc, extra);
                rc
            });
        }
        // SAFETY: live driver statement handle (the DM statement outlives the operation).
        call.invoke(move |_| unsafe { f(h as SqlHStmt) })
    })
}

// ---------------------------------------------------------------------------------------
// Parameters, data-at-execution, SQLNativeSql.
// ---------------------------------------------------------------------------------------

use super::strings::{narrow_to_app_wide, put_len, recv_text, wide_to_app_narrow, TRUNCATED};
use super::Call;
use crate::handles::Dbc;

same_signature!(
    SQLBindParameter,
    SQLBindParam,
    SQLSetParam,
    SQLParamOptions,
    SQLNumParams,
    SQLDescribeParam,
    SQLParamData,
    SQLPutData,
    SQLNativeSql,
    SQLNativeSqlW,
);

/// Begins a statement call or returns its SQLRETURN from the enclosing closure.
macro_rules! begin {
    ($s:expr, $f:expr) => {
        match StmtCall::begin(&$s, $f) {
            Ok(c) => c,
            Err(rc) => return rc,
        }
    };
}

/// Invalid descriptor index.
const INVALID_DESCRIPTOR_INDEX: SqlState = SqlState(*b"07009");
/// Invalid parameter type.
const INVALID_PARAMETER_TYPE: SqlState = SqlState(*b"HY105");
/// Row value out of range.
const ROW_VALUE_OUT_OF_RANGE: SqlState = SqlState(*b"HY107");
/// SQL_SETPARAM_VALUE_MAX: the BufferLength of a SQLSetParam/SQLBindParam mapped to
/// SQLBindParameter.
const SQL_SETPARAM_VALUE_MAX: SqlLen = -1;

/// SQLBindParameter: ParameterNumber 0 is 07009, an InputOutputType that is not a
/// SQL_PARAM_* value is HY105, a negative BufferLength is HY090, a ValueType that is no C
/// type HY003, a ParameterType that is no SQL type HY004, null ParameterValuePtr and
/// StrLen_or_IndPtr for a parameter that is not SQL_PARAM_OUTPUT HY009 (all DM, §4.1). A 2.x driver
/// without SQLBindParameter gets SQLBindParam/SQLSetParam for input parameters.
pub unsafe extern "C" fn SQLBindParameter(
    stmt: SqlHStmt,
    number: SqlUSmallInt,
    io_type: ParamIoType,
    value_type: CDataType,
    param_type: SqlDataType,
    column_size: SqlULen,
    decimal_digits: SqlSmallInt,
    value: SqlPointer,
    buf_len: SqlLen,
    ind: *mut SqlLen,
) -> SqlReturn {
    trace_enter!(
        "SQLBindParameter",
        "{:p} {} {:?} {:?} {:?} {} {} {:p} {} {:p}",
        stmt,
        number,
        io_type,
        value_type,
        param_type,
        column_size,
        decimal_digits,
        value,
        buf_len,
        ind
    );
    boundary("SQLBindParameter", || {
        let s = handle!(stmt, stmt);
        let call = begin!(s, F::SQL_API_SQLBINDPARAMETER);
        if number == 0 {
            return call.fail(INVALID_DESCRIPTOR_INDEX, "Invalid descriptor index: ParameterNumber is 0");
        }
        if !matches!(
            io_type,
            ParamIoType::SQL_PARAM_INPUT
                | ParamIoType::SQL_PARAM_INPUT_OUTPUT
                | ParamIoType::SQL_PARAM_OUTPUT
                | ParamIoType::SQL_PARAM_INPUT_OUTPUT_STREAM
                | ParamIoType::SQL_PARAM_OUTPUT_STREAM
        ) {
            return call.fail(INVALID_PARAMETER_TYPE, "Invalid parameter type");
        }
        if buf_len < 0 {
            return call.fail(SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "BufferLength is negative");
        }
        // HY003 / HY004 / HY009 (DM, §4.1): nothing reaches the driver.
        if let Err((state, msg)) =
            checks::check_c_type(value_type, checks::CTypeUse::Param).and_then(|_| checks::check_sql_type(param_type))
        {
            return call.fail(state, msg);
        }
        // The ODBC 2 / ODBC 3 date/time codes as the driver's version wants (#128).
        let odbc3 = s.link.driver_is_odbc3();
        let (value_type, param_type) =
            (CDataType(checks::datetime_for_driver(value_type.0, odbc3)), SqlDataType(checks::datetime_for_driver(param_type.0, odbc3)));
        if value.is_null() && ind.is_null() && io_type != ParamIoType::SQL_PARAM_OUTPUT {
            return call.fail(SqlState::INVALID_NULL_POINTER, "ParameterValuePtr and StrLen_or_IndPtr are both null pointers");
        }
        let fns = &s.link.driver.fns;
        let h = s.driver_handle();
        let rc = if let (Some(f), true) = (fns.SQLBindParameter, s.ansi_wchar) {
            // SQL_C_WCHAR on an ANSI-only driver: a DM buffer in its place (decision #77).
            super::wconv::bind_param(&s, f, number, io_type, value_type, param_type, column_size, decimal_digits, value, buf_len, ind)
        } else if let Some(f) = fns.SQLBindParameter {
            // SAFETY: live driver statement; the application's buffers as given (deferred).
            unsafe { f(h, number, io_type, value_type, param_type, column_size, decimal_digits, value, buf_len, ind) }
        } else if let (ParamIoType::SQL_PARAM_INPUT, Some(f)) = (io_type, fns.SQLBindParam.or(fns.SQLSetParam)) {
            // SAFETY: as above (ODBC 2.x / X/Open form).
            unsafe { f(h, number, value_type, param_type, column_size, decimal_digits, value, ind) }
        } else {
            return call.missing("SQLBindParameter");
        };
        if rc.is_success() {
            super::concurrency::on_bind_param(
                &s,
                number,
                io_type,
                value_type,
                param_type,
                column_size,
                decimal_digits,
                value,
                buf_len,
                ind,
            );
            if s.link.driver.ignores_param_offset {
                super::wconv::record_binding(
                    &s,
                    crate::handles::wchar::ParamBinding {
                        num: number,
                        io: io_type,
                        c_type: value_type,
                        sql_type: param_type,
                        column_size,
                        digits: decimal_digits,
                        value: value as usize,
                        buf_len,
                        ind: ind as usize,
                        applied: 0,
                    },
                );
            }
        }
        call.finish(rc)
    })
}

/// SQLBindParam and SQLSetParam: mapped to the driver's SQLBindParameter with
/// SQL_PARAM_INPUT (SQLBindParam) / SQL_PARAM_INPUT_OUTPUT (SQLSetParam) and BufferLength
/// SQL_SETPARAM_VALUE_MAX; forwarded only to a driver without SQLBindParameter.
macro_rules! old_bind {
    ($name:ident, $func:expr, $io:expr) => {
        /// See the mapping above.
        pub unsafe extern "C" fn $name(
            stmt: SqlHStmt,
            number: SqlUSmallInt,
            value_type: CDataType,
            param_type: SqlDataType,
            column_size: SqlULen,
            decimal_digits: SqlSmallInt,
            value: SqlPointer,
            ind: *mut SqlLen,
        ) -> SqlReturn {
            trace_enter!(
                stringify!($name),
                "{:p} {} {:?} {:?} {} {} {:p} {:p}",
                stmt,
                number,
                value_type,
                param_type,
                column_size,
                decimal_digits,
                value,
                ind
            );
            boundary(stringify!($name), || {
                let s = handle!(stmt, stmt);
                let call = begin!(s, $func);
                if number == 0 {
                    return call.fail(INVALID_DESCRIPTOR_INDEX, "Invalid descriptor index: ParameterNumber is 0");
                }
                if let Err((state, msg)) =
                    checks::check_c_type(value_type, checks::CTypeUse::Param).and_then(|_| checks::check_sql_type(param_type))
                {
                    return call.fail(state, msg);
                }
                // The ODBC 2 / ODBC 3 date/time codes as the driver's version wants (#128).
                let odbc3 = s.link.driver_is_odbc3();
                let (value_type, param_type) = (
                    CDataType(checks::datetime_for_driver(value_type.0, odbc3)),
                    SqlDataType(checks::datetime_for_driver(param_type.0, odbc3)),
                );
                let fns = &s.link.driver.fns;
                let h = s.driver_handle();
                // The 3.x entry point first: an ODBC 3 driver need not implement the old
                // one, and psqlODBC's SQLSetParam is a stub that returns SQL_ERROR.
                let rc = if let (Some(f), true) = (fns.SQLBindParameter, s.ansi_wchar) {
                    // SQL_C_WCHAR on an ANSI-only driver: a DM buffer in its place (decision #77).
                    super::wconv::bind_param(
                        &s,
                        f,
                        number,
                        $io,
                        value_type,
                        param_type,
                        column_size,
                        decimal_digits,
                        value,
                        SQL_SETPARAM_VALUE_MAX,
                        ind,
                    )
                } else if let Some(f) = fns.SQLBindParameter {
                    // SAFETY: live driver statement; the application's buffers as given.
                    unsafe { f(h, number, $io, value_type, param_type, column_size, decimal_digits, value, SQL_SETPARAM_VALUE_MAX, ind) }
                } else if let Some(f) = fns.$name {
                    // SAFETY: as above, through the driver's own (ODBC 2 / X/Open) entry point.
                    unsafe { f(h, number, value_type, param_type, column_size, decimal_digits, value, ind) }
                } else {
                    return call.missing(stringify!($name));
                };
                call.finish(rc)
            })
        }
    };
}

old_bind!(SQLBindParam, F::SQL_API_SQLBINDPARAM, ParamIoType::SQL_PARAM_INPUT);
old_bind!(SQLSetParam, F::SQL_API_SQLSETPARAM, ParamIoType::SQL_PARAM_INPUT_OUTPUT);

/// SQLParamOptions (ODBC 2.x): Crow 0 is HY107 (DM); mapped to SQL_ATTR_PARAMSET_SIZE and
/// SQL_ATTR_PARAMS_PROCESSED_PTR when the driver lacks it.
pub unsafe extern "C" fn SQLParamOptions(stmt: SqlHStmt, crow: SqlULen, irow: *mut SqlULen) -> SqlReturn {
    trace_enter!("SQLParamOptions", "{:p} {} {:p}", stmt, crow, irow);
    boundary("SQLParamOptions", || {
        let s = handle!(stmt, stmt);
        let call = begin!(s, F::SQL_API_SQLPARAMOPTIONS);
        if crow == 0 {
            return call.fail(ROW_VALUE_OUT_OF_RANGE, "Row value out of range");
        }
        let fns = &s.link.driver.fns;
        let h = s.driver_handle();
        if let Some(f) = fns.SQLParamOptions {
            // SAFETY: live driver statement; the application's pointer as given (deferred).
            let rc = unsafe { f(h, crow, irow) };
            return call.finish(rc);
        }
        let Some(set) = fns.SQLSetStmtAttr.or(fns.SQLSetStmtAttrW) else { return call.missing("SQLParamOptions") };
        // SAFETY: live driver statement; an integer attribute passed by value.
        let rc = unsafe { set(h, StmtAttr::SQL_ATTR_PARAMSET_SIZE, crow as SqlPointer, 0) };
        if !rc.is_success() {
            return call.finish(rc);
        }
        // SAFETY: live driver statement; the application's pointer (deferred).
        let rc2 = unsafe { set(h, StmtAttr::SQL_ATTR_PARAMS_PROCESSED_PTR, irow.cast(), 0) };
        call.finish(if rc2 == SqlReturn::SQL_SUCCESS { rc } else { rc2 })
    })
}

/// SQLNumParams: HY010 in S1 (§4.5).
pub unsafe extern "C" fn SQLNumParams(stmt: SqlHStmt, count: *mut SqlSmallInt) -> SqlReturn {
    trace_enter!("SQLNumParams", "{:p}", stmt);
    boundary("SQLNumParams", || {
        let s = handle!(stmt, stmt);
        let call = begin!(s, F::SQL_API_SQLNUMPARAMS);
        let Some(f) = s.link.driver.fns.SQLNumParams else { return call.missing("SQLNumParams") };
        let h = s.hstmt;
        let count = AppPtr::new(count);
        // SAFETY: live driver statement (the DM statement outlives the operation); the
        // application's out pointer, valid until the operation completes (§2.9).
        call.invoke(move |_| unsafe { f(h as SqlHStmt, count.get()) })
    })
}

/// SQLDescribeParam.
pub unsafe extern "C" fn SQLDescribeParam(
    stmt: SqlHStmt,
    number: SqlUSmallInt,
    data_type: *mut SqlDataType,
    size: *mut SqlULen,
    digits: *mut SqlSmallInt,
    nullable: *mut Nullability,
) -> SqlReturn {
    trace_enter!("SQLDescribeParam", "{:p} {}", stmt, number);
    boundary("SQLDescribeParam", || {
        let s = handle!(stmt, stmt);
        let call = begin!(s, F::SQL_API_SQLDESCRIBEPARAM);
        let Some(f) = s.link.driver.fns.SQLDescribeParam else { return call.missing("SQLDescribeParam") };
        let h = s.hstmt;
        let (data_type, size, digits, nullable) = (AppPtr::new(data_type), AppPtr::new(size), AppPtr::new(digits), AppPtr::new(nullable));
        // SAFETY: live driver statement (the DM statement outlives the operation); the
        // application's out pointers, valid until the operation completes (§2.9).
        call.invoke(move |_| unsafe { f(h as SqlHStmt, number, data_type.get(), size.get(), digits.get(), nullable.get()) })
    })
}

/// SQLParamData: only in S8 and S10 (HY010 otherwise, S9 included: §4.5, Appendix B). ValuePtrPtr may be null.
pub unsafe extern "C" fn SQLParamData(stmt: SqlHStmt, value: *mut SqlPointer) -> SqlReturn {
    trace_enter!("SQLParamData", "{:p} {:p}", stmt, value);
    boundary("SQLParamData", || {
        let s = handle!(stmt, stmt);
        let call = begin!(s, F::SQL_API_SQLPARAMDATA);
        let Some(f) = s.link.driver.fns.SQLParamData else { return call.missing("SQLParamData") };
        let h = s.hstmt;
        let value = AppPtr::new(value);
        if s.ansi_wchar && !s.async_slot.is_active() {
            // Converted SQL_C_WCHAR parameters (decision #77): the driver names the DM's
            // buffer; the application gets its own pointer back. The parameter whose parts
            // the application just sent may have left half a code unit (22026: the driver's
            // data-at-execution sequence is cancelled, the statement is back where it was
            // before the execution, as after any SQLParamData error) or a lone high
            // surrogate (sent on as U+FFFD) behind (decision #141).
            let Ok(mut tail) = super::wconv::end_put(&s) else {
                let cancel = s.link.driver.fns.SQLCancel;
                return call.invoke_dm(move |extra| {
                    if let Some(c) = cancel {
                        // SAFETY: live driver statement, in its data-at-execution sequence.
                        unsafe { c(h as SqlHStmt) };
                    }
                    extra.push(DiagRecord::dm(
                        SqlState::STRING_LENGTH_MISMATCH,
                        "String data, length mismatch: the SQL_C_WCHAR data sent with SQLPutData ends in half a character (an odd number of bytes)",
                    ));
                    SqlReturn::SQL_ERROR
                });
            };
            let put = s.link.driver.fns.SQLPutData;
            let st = s.clone();
            return call.invoke(move |_| {
                if let (false, Some(put)) = (tail.is_empty(), put) {
                    let l = tail.len() as SqlLen;
                    // SAFETY: live driver statement, in its data-at-execution sequence; the
                    // closure owns the converted tail.
                    let rc = unsafe { put(h as SqlHStmt, tail.as_mut_ptr().cast(), l) };
                    tail.clear();
                    if !rc.is_success() {
                        return rc;
                    }
                }
                // SAFETY: live driver statement (the DM statement outlives the operation); the
                // application's (possibly null) out pointer, valid until completion (§2.9).
                let rc = unsafe { f(h as SqlHStmt, value.get()) };
                if rc != SqlReturn::SQL_STILL_EXECUTING {
                    // SAFETY: as above.
                    unsafe { super::wconv::after_param_data(&st, rc, value.get()) };
                }
                rc
            });
        }
        // SAFETY: live driver statement (the DM statement outlives the operation); the
        // application's (possibly null) out pointer, valid until completion (§2.9).
        call.invoke(move |_| unsafe { f(h as SqlHStmt, value.get()) })
    })
}

/// SQLPutData: only in S9–S10 (HY010 otherwise). A null DataPtr with a StrLen_or_Ind other
/// than 0, SQL_DEFAULT_PARAM or SQL_NULL_DATA is HY009 (DM).
pub unsafe extern "C" fn SQLPutData(stmt: SqlHStmt, data: SqlPointer, len: SqlLen) -> SqlReturn {
    trace_enter!("SQLPutData", "{:p} {:p} {}", stmt, data, len);
    boundary("SQLPutData", || {
        let s = handle!(stmt, stmt);
        let call = begin!(s, F::SQL_API_SQLPUTDATA);
        if data.is_null() && len != 0 && len != SQL_DEFAULT_PARAM && len != SQL_NULL_DATA {
            return call.fail(SqlState::INVALID_NULL_POINTER, "DataPtr is a null pointer");
        }
        let Some(f) = s.link.driver.fns.SQLPutData else { return call.missing("SQLPutData") };
        let h = s.hstmt;
        if s.ansi_wchar && !s.async_slot.is_active() {
            // SAFETY: the application's part as its length describes.
            match unsafe { super::wconv::put_data_narrow(&s, data.cast(), len) } {
                None => {}
                Some(Err((state, msg))) => return call.fail(state, msg),
                // Nothing whole yet (half a code unit, or a high surrogate waiting for its
                // pair): nothing for the driver (psqlODBC answers an empty part with HY000
                // "bad cbValue"), the part is taken (decision #141).
                Some(Ok((_, 0))) if len != 0 => return call.invoke_dm(|_| SqlReturn::SQL_SUCCESS),
                Some(Ok((mut n, l))) => {
                    // SAFETY: live driver statement; the closure owns the converted part.
                    return call.invoke(move |_| unsafe { f(h as SqlHStmt, n.as_mut_ptr().cast(), l) });
                }
            }
        }
        let data = AppPtr::new(data);
        // SAFETY: live driver statement (the DM statement outlives the operation); the
        // application's data as given, valid until the operation completes (§2.9).
        call.invoke(move |_| unsafe { f(h as SqlHStmt, data.get(), len) })
    })
}

/// Begins SQLNativeSql on a connection: 08003 when not connected; HY010 while a connection
/// function runs asynchronously (§1.10; statement-level async does not block it, §1.9).
fn native_sql_begin(
    d: &Dbc,
    null_in: bool,
    in_len: i32,
    out_max: i32,
) -> Result<(Call<'_, crate::handles::DbcCore>, std::sync::Arc<crate::handles::DriverLink>), SqlReturn> {
    let call = Call::begin(&d.gate, |c| {
        if !c.state.is_connected() {
            return Err((SqlState::CONNECTION_NOT_OPEN, "Connection not open".into()));
        }
        if c.asynch.func.is_some() {
            return Err((SqlState::FUNCTION_SEQUENCE_ERROR, "An asynchronous function is executing on this connection (§1.10)".into()));
        }
        if null_in {
            return Err((SqlState::INVALID_NULL_POINTER, "InStatementText is a null pointer".into()));
        }
        if (in_len < 0 && in_len != SQL_NTS) || out_max < 0 {
            return Err((SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "Invalid string or buffer length".into()));
        }
        Ok(())
    })?;
    let link = call.core(|c| c.link.clone()).expect("connected implies a link");
    Ok((call, link))
}

/// The converted input text of SQLNativeSql, NUL-terminated and padded with NULs to at
/// least the output buffer's size: libsqlite3odbc's SQLNativeSql writes a terminator into
/// the *input* string at index BufferLength - 1, which must stay inside a DM buffer.
fn padded_input<T: Copy + Default>(text: &[T], out_cap: usize) -> Vec<T> {
    let mut v = Vec::with_capacity((text.len() + 1).max(out_cap));
    v.extend_from_slice(text);
    v.resize((text.len() + 1).max(out_cap), T::default());
    v
}

/// SQLNativeSql (ANSI; lengths in bytes): via SQLNativeSqlW when the driver has only the
/// Unicode form (01004 and the full length in bytes when the output is cut).
pub unsafe extern "C" fn SQLNativeSql(
    dbc: SqlHDbc,
    in_str: *const SqlChar,
    in_len: SqlInteger,
    out_str: *mut SqlChar,
    out_max: SqlInteger,
    out_len: *mut SqlInteger,
) -> SqlReturn {
    trace_enter!("SQLNativeSql", "{:p} {} {:p} {}", dbc, in_len, out_str, out_max);
    boundary("SQLNativeSql", || {
        let d = handle!(dbc, dbc);
        let (mut call, link) = match native_sql_begin(&d, in_str.is_null(), in_len, out_max) {
            Ok(x) => x,
            Err(rc) => return rc,
        };
        let fns = &link.driver.fns;
        let h = link.hdbc as SqlHandle;
        let rc = if let Some(f) = fns.SQLNativeSql {
            // SAFETY: live driver connection; the application's buffers as given.
            unsafe { f(h, in_str, in_len, out_str, out_max, out_len) }
        } else if let Some(f) = fns.SQLNativeSqlW {
            // SAFETY: the application's text with its (validated) length.
            let Ok(Some(app_in)) = (unsafe { crate::text::narrow_in(in_str, in_len as isize) }) else {
                return call.fail(SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "Invalid string or buffer length");
            };
            let w = crate::text::to_wide(app_in);
            let wl = match checks::len_i32(w.len(), "the statement text") {
                Ok(l) => l,
                Err((state, msg)) => return call.fail(state, msg),
            };
            let (rc, out) = recv_text::<u16>(d.id, (w.len() * 2).max(out_max as usize).min(1 << 16) + 64, |buf, cap| {
                let mut l: i32 = 0;
                let mut inp = padded_input(&w, cap);
                // SAFETY: live driver connection; `inp` and the DM buffer of `cap` units.
                let rc = unsafe { f(h, inp.as_mut_ptr(), wl, buf, cap.min(i32::MAX as usize) as i32, &mut l) };
                (rc, usize::try_from(l).ok())
            });
            if rc.is_success() {
                // SAFETY: application buffer of `out_max` bytes (checked non-negative).
                let (n, t) = unsafe { wide_to_app_narrow(&out, out_str, out_max as usize) };
                // SAFETY: optional application out pointer.
                unsafe { put_len(out_len, n, i32::MAX) };
                if t {
                    call.warn(SqlState::STRING_TRUNCATED, TRUNCATED);
                }
            }
            rc
        } else {
            return call.fail(SqlState::DRIVER_LACKS_FUNCTION, "Driver does not support this function: SQLNativeSql");
        };
        call.finish(rc, Some((&link, HandleType::SQL_HANDLE_DBC, h)), |_, _| {})
    })
}

/// SQLNativeSqlW (Unicode; lengths in characters): via SQLNativeSql when the driver has
/// only the ANSI form.
pub unsafe extern "C" fn SQLNativeSqlW(
    dbc: SqlHDbc,
    in_str: *const SqlWChar,
    in_len: SqlInteger,
    out_str: *mut SqlWChar,
    out_max: SqlInteger,
    out_len: *mut SqlInteger,
) -> SqlReturn {
    trace_enter!("SQLNativeSqlW", "{:p} {} {:p} {}", dbc, in_len, out_str, out_max);
    boundary("SQLNativeSqlW", || {
        let d = handle!(dbc, dbc);
        let (mut call, link) = match native_sql_begin(&d, in_str.is_null(), in_len, out_max) {
            Ok(x) => x,
            Err(rc) => return rc,
        };
        let fns = &link.driver.fns;
        let h = link.hdbc as SqlHandle;
        let rc = if let Some(f) = fns.SQLNativeSqlW {
            // SAFETY: live driver connection; the application's buffers as given.
            unsafe { f(h, in_str, in_len, out_str, out_max, out_len) }
        } else if let Some(f) = fns.SQLNativeSql {
            // SAFETY: the application's text with its (validated) length.
            let Ok(Some(app_in)) = (unsafe { crate::text::wide_in(in_str, in_len as isize) }) else {
                return call.fail(SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "Invalid string or buffer length");
            };
            let n = crate::text::to_narrow(app_in);
            let nl = match checks::len_i32(n.len(), "the statement text") {
                Ok(l) => l,
                Err((state, msg)) => return call.fail(state, msg),
            };
            let (rc, out) = recv_text::<u8>(d.id, (n.len() * 2).max(out_max as usize * 4).min(1 << 18) + 64, |buf, cap| {
                let mut l: i32 = 0;
                let mut inp = padded_input(&n, cap);
                // SAFETY: live driver connection; `inp` and the DM buffer of `cap` bytes.
                let rc = unsafe { f(h, inp.as_mut_ptr(), nl, buf, cap.min(i32::MAX as usize) as i32, &mut l) };
                (rc, usize::try_from(l).ok())
            });
            if rc.is_success() {
                // SAFETY: application buffer of `out_max` characters (checked non-negative).
                let (n, t) = unsafe { narrow_to_app_wide(&out, out_str, out_max as usize) };
                // SAFETY: optional application out pointer.
                unsafe { put_len(out_len, n, i32::MAX) };
                if t {
                    call.warn(SqlState::STRING_TRUNCATED, TRUNCATED);
                }
            }
            rc
        } else {
            return call.fail(SqlState::DRIVER_LACKS_FUNCTION, "Driver does not support this function: SQLNativeSqlW");
        };
        call.finish(rc, Some((&link, HandleType::SQL_HANDLE_DBC, h)), |_, _| {})
    })
}
