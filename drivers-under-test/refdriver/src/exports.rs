//! The exported ODBC entry points: thin `extern "C"` shims. Each body runs inside
//! `catch_unwind` (the `ffi!` macro), so a panic never crosses the FFI boundary: it becomes
//! SQL_ERROR with SQLSTATE HY000 on the handle. Handles are validated through the registry
//! (SQL_INVALID_HANDLE for null, freed or garbage values) before anything is touched.
//!
//! Only Unicode (W) forms and functions without a W form are exported (no ANSI twins).
#![allow(non_snake_case, clippy::missing_safety_doc, clippy::too_many_arguments)]

use crate::diag::DiagRec;
use crate::handles::{self, Obj};
use crate::util::{lock, put, write_wstr_bytes, write_wstr_chars};
use crate::{conn, stmt};
use odbc_dm_abi::*;
use std::ffi::c_void;
use std::sync::atomic::Ordering;

const INVALID: SqlReturn = SqlReturn::SQL_INVALID_HANDLE;

/// Converts a caught panic into SQL_ERROR + HY000 on the handle (if it is live).
fn on_panic(func: &'static str, h: usize, p: Box<dyn std::any::Any + Send>) -> SqlReturn {
    let msg = p
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    if let Some(o) = handles::lookup(h as *mut c_void) {
        handles::diag_of(&o).post(DiagRec::new("HY000", format!("General error: internal panic in {func}: {msg}")));
        match &o {
            Obj::Stmt(s) => s.conn.log.call(func, h, "STMT", 0, -1, &[]),
            Obj::Dbc(c) => c.log.call(func, h, "DBC", 0, -1, &[]),
            _ => {}
        }
    }
    SqlReturn::SQL_ERROR
}

macro_rules! ffi {
    ($func:literal, $h:expr, $body:block) => {{
        let __h: usize = $h as usize;
        let __r = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> SqlReturn { $body })) {
            Ok(r) => r,
            Err(p) => on_panic($func, __h, p),
        };
        crate::async_ops::flush_handoff();
        __r
    }};
}

macro_rules! get_stmt {
    ($h:expr) => {
        match handles::stmt($h) {
            Some(s) => s,
            None => return INVALID,
        }
    };
}
macro_rules! get_dbc {
    ($h:expr) => {
        match handles::dbc($h) {
            Some(c) => c,
            None => return INVALID,
        }
    };
}

// ------------------------------------------------------------------ handles

#[no_mangle]
pub unsafe extern "C" fn SQLAllocHandle(handle_type: HandleType, input: SqlHandle, output: *mut SqlHandle) -> SqlReturn {
    ffi!("SQLAllocHandle", input, {
        match handle_type {
            HandleType::SQL_HANDLE_ENV => {
                if output.is_null() {
                    return SqlReturn::SQL_ERROR;
                }
                let h = handles::new_env();
                // SAFETY: output checked non-null; the caller provides a SQLHANDLE slot.
                unsafe { put(output, h as SqlHandle) };
                SqlReturn::SQL_SUCCESS
            }
            HandleType::SQL_HANDLE_DBC => {
                let Some(e) = handles::env(input) else {
                    return INVALID;
                };
                e.diag.clear();
                if output.is_null() {
                    e.diag.post(DiagRec::new("HY009", "Invalid use of null pointer"));
                    return SqlReturn::SQL_ERROR;
                }
                let h = handles::new_conn(e);
                // SAFETY: non-null output slot.
                unsafe { put(output, h as SqlHandle) };
                SqlReturn::SQL_SUCCESS
            }
            HandleType::SQL_HANDLE_STMT => {
                let c = get_dbc!(input);
                c.diag.clear();
                if output.is_null() {
                    c.diag.post(DiagRec::new("HY009", "Invalid use of null pointer"));
                    return SqlReturn::SQL_ERROR;
                }
                if !lock(&c.attrs).connected {
                    c.diag.post(DiagRec::new("08003", "Connection not open"));
                    return SqlReturn::SQL_ERROR;
                }
                let h = handles::new_stmt(c.clone());
                // SAFETY: non-null output slot.
                unsafe { put(output, h as SqlHandle) };
                conn::log(&c, "SQLAllocHandle", &[3, output as usize], SqlReturn::SQL_SUCCESS)
            }
            HandleType::SQL_HANDLE_DESC => {
                let c = get_dbc!(input);
                c.diag.clear();
                c.diag.post(DiagRec::new("HYC00", "Explicitly allocated descriptors are not supported"));
                SqlReturn::SQL_ERROR
            }
            _ => {
                if let Some(o) = handles::lookup(input) {
                    handles::diag_of(&o).post(DiagRec::new("HY092", "Invalid handle type"));
                    return SqlReturn::SQL_ERROR;
                }
                INVALID
            }
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLFreeHandle(handle_type: HandleType, handle: SqlHandle) -> SqlReturn {
    ffi!("SQLFreeHandle", handle, {
        match (handle_type, handles::lookup(handle)) {
            (HandleType::SQL_HANDLE_ENV, Some(Obj::Env(_))) => {
                handles::unregister(handle as usize);
                SqlReturn::SQL_SUCCESS
            }
            (HandleType::SQL_HANDLE_DBC, Some(Obj::Dbc(c))) => {
                if lock(&c.attrs).connected {
                    c.diag.clear();
                    c.diag.post(DiagRec::new("HY010", "Function sequence error: connection still open"));
                    return SqlReturn::SQL_ERROR;
                }
                crate::async_ops::abandon(&c.op);
                handles::unregister(handle as usize);
                SqlReturn::SQL_SUCCESS
            }
            (HandleType::SQL_HANDLE_STMT, Some(Obj::Stmt(s))) => {
                s.cancel.store(true, Ordering::SeqCst);
                crate::async_ops::cancel_requested();
                crate::async_ops::abandon(&s.op);
                handles::free_stmt(&s);
                s.conn.log.call("SQLFreeHandle", s.id(), "STMT", 0, 0, &[3]);
                SqlReturn::SQL_SUCCESS
            }
            (HandleType::SQL_HANDLE_DESC, Some(Obj::Desc(d))) => {
                d.diag.clear();
                d.diag.post(DiagRec::new("HY017", "Invalid use of an automatically allocated descriptor handle"));
                SqlReturn::SQL_ERROR
            }
            _ => INVALID,
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLFreeStmt(hstmt: SqlHStmt, option: FreeStmtOption) -> SqlReturn {
    ffi!("SQLFreeStmt", hstmt, {
        if option == FreeStmtOption::SQL_DROP {
            // SAFETY: same contract as SQLFreeHandle(SQL_HANDLE_STMT).
            return unsafe { SQLFreeHandle(HandleType::SQL_HANDLE_STMT, hstmt) };
        }
        let s = get_stmt!(hstmt);
        let r = stmt::free_stmt_option(&s, option.0);
        stmt::log(&s, "SQLFreeStmt", &[option.0 as usize], r)
    })
}

// ------------------------------------------------------------------ attributes

#[no_mangle]
pub unsafe extern "C" fn SQLSetEnvAttr(env: SqlHEnv, attr: EnvAttr, value: SqlPointer, _len: SqlInteger) -> SqlReturn {
    ffi!("SQLSetEnvAttr", env, {
        let Some(e) = handles::env(env) else {
            return INVALID;
        };
        conn::set_env_attr(&e, attr.0, value)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLGetEnvAttr(
    env: SqlHEnv,
    attr: EnvAttr,
    value: SqlPointer,
    _buf_len: SqlInteger,
    out_len: *mut SqlInteger,
) -> SqlReturn {
    ffi!("SQLGetEnvAttr", env, {
        let Some(e) = handles::env(env) else {
            return INVALID;
        };
        conn::get_env_attr(&e, attr.0, value, out_len)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLSetConnectAttrW(dbc: SqlHDbc, attr: ConnAttr, value: SqlPointer, len: SqlInteger) -> SqlReturn {
    ffi!("SQLSetConnectAttrW", dbc, {
        let c = get_dbc!(dbc);
        conn::set_connect_attr(&c, attr.0, value, len)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLGetConnectAttrW(
    dbc: SqlHDbc,
    attr: ConnAttr,
    value: SqlPointer,
    buf_len: SqlInteger,
    out_len: *mut SqlInteger,
) -> SqlReturn {
    ffi!("SQLGetConnectAttrW", dbc, {
        let c = get_dbc!(dbc);
        let r = conn::get_connect_attr(&c, attr.0, value, buf_len, out_len);
        if attr.0 != crate::SQL_ATTR_REFDRIVER_EVENT_LOG {
            conn::log(&c, "SQLGetConnectAttrW", &[attr.0 as usize, value as usize, buf_len as usize, out_len as usize], r);
        }
        r
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLSetStmtAttrW(hstmt: SqlHStmt, attr: StmtAttr, value: SqlPointer, len: SqlInteger) -> SqlReturn {
    ffi!("SQLSetStmtAttrW", hstmt, {
        let s = get_stmt!(hstmt);
        let r = stmt::set_attr(&s, attr.0, value);
        stmt::log(&s, "SQLSetStmtAttrW", &[attr.0 as usize, value as usize, len as usize], r)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLGetStmtAttrW(
    hstmt: SqlHStmt,
    attr: StmtAttr,
    value: SqlPointer,
    buf_len: SqlInteger,
    out_len: *mut SqlInteger,
) -> SqlReturn {
    ffi!("SQLGetStmtAttrW", hstmt, {
        let s = get_stmt!(hstmt);
        let r = stmt::get_attr(&s, attr.0, value, buf_len, out_len);
        stmt::log(&s, "SQLGetStmtAttrW", &[attr.0 as usize, value as usize, buf_len as usize, out_len as usize], r)
    })
}

// ------------------------------------------------------------------ connect

#[no_mangle]
pub unsafe extern "C" fn SQLDriverConnectW(
    dbc: SqlHDbc,
    _hwnd: SqlHWnd,
    in_str: *const SqlWChar,
    in_len: SqlSmallInt,
    out_str: *mut SqlWChar,
    out_max: SqlSmallInt,
    out_len: *mut SqlSmallInt,
    completion: DriverCompletion,
) -> SqlReturn {
    ffi!("SQLDriverConnectW", dbc, {
        let c = get_dbc!(dbc);
        conn::driver_connect(&c, in_str, in_len, out_str, out_max, out_len, completion.0)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLConnectW(
    dbc: SqlHDbc,
    dsn: *const SqlWChar,
    dsn_len: SqlSmallInt,
    uid: *const SqlWChar,
    uid_len: SqlSmallInt,
    pwd: *const SqlWChar,
    pwd_len: SqlSmallInt,
) -> SqlReturn {
    ffi!("SQLConnectW", dbc, {
        let c = get_dbc!(dbc);
        conn::connect(&c, dsn, dsn_len, uid, uid_len, pwd, pwd_len)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLDisconnect(dbc: SqlHDbc) -> SqlReturn {
    ffi!("SQLDisconnect", dbc, {
        let c = get_dbc!(dbc);
        conn::disconnect(&c)
    })
}

// ------------------------------------------------------------------ info

#[no_mangle]
pub unsafe extern "C" fn SQLGetInfoW(
    dbc: SqlHDbc,
    info: InfoType,
    value: SqlPointer,
    buf_len: SqlSmallInt,
    out_len: *mut SqlSmallInt,
) -> SqlReturn {
    ffi!("SQLGetInfoW", dbc, {
        let c = get_dbc!(dbc);
        let r = conn::get_info(&c, info.0, value, buf_len, out_len);
        conn::log(&c, "SQLGetInfoW", &[info.0 as usize, value as usize, buf_len as usize, out_len as usize], r)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLGetFunctions(dbc: SqlHDbc, function: FunctionId, supported: *mut SqlUSmallInt) -> SqlReturn {
    ffi!("SQLGetFunctions", dbc, {
        let c = get_dbc!(dbc);
        let r = conn::get_functions(&c, function.0, supported);
        conn::log(&c, "SQLGetFunctions", &[function.0 as usize, supported as usize], r)
    })
}

// ------------------------------------------------------------------ prepare / execute

#[no_mangle]
pub unsafe extern "C" fn SQLPrepareW(hstmt: SqlHStmt, text: *const SqlWChar, len: SqlInteger) -> SqlReturn {
    ffi!("SQLPrepareW", hstmt, {
        let s = get_stmt!(hstmt);
        stmt::prepare(&s, text, len)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLExecute(hstmt: SqlHStmt) -> SqlReturn {
    ffi!("SQLExecute", hstmt, {
        let s = get_stmt!(hstmt);
        stmt::execute(&s)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLExecDirectW(hstmt: SqlHStmt, text: *const SqlWChar, len: SqlInteger) -> SqlReturn {
    ffi!("SQLExecDirectW", hstmt, {
        let s = get_stmt!(hstmt);
        stmt::exec_direct(&s, text, len)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLBindParameter(
    hstmt: SqlHStmt,
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
    ffi!("SQLBindParameter", hstmt, {
        let s = get_stmt!(hstmt);
        let r = stmt::bind_parameter(&s, number, io_type.0, value_type.0, param_type.0, column_size, decimal_digits, value, buf_len, ind);
        stmt::log(&s, "SQLBindParameter", &[number as usize, value_type.0 as usize, value as usize, buf_len as usize, ind as usize], r)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLNumParams(hstmt: SqlHStmt, count: *mut SqlSmallInt) -> SqlReturn {
    ffi!("SQLNumParams", hstmt, {
        let s = get_stmt!(hstmt);
        let r = stmt::num_params(&s, count);
        stmt::log(&s, "SQLNumParams", &[count as usize], r)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLDescribeParam(
    hstmt: SqlHStmt,
    number: SqlUSmallInt,
    data_type: *mut SqlDataType,
    size: *mut SqlULen,
    digits: *mut SqlSmallInt,
    nullable: *mut Nullability,
) -> SqlReturn {
    ffi!("SQLDescribeParam", hstmt, {
        let s = get_stmt!(hstmt);
        let r = stmt::describe_param(&s, number, data_type as *mut i16, size, digits, nullable as *mut i16);
        stmt::log(&s, "SQLDescribeParam", &[number as usize], r)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLParamData(hstmt: SqlHStmt, value: *mut SqlPointer) -> SqlReturn {
    ffi!("SQLParamData", hstmt, {
        let s = get_stmt!(hstmt);
        let r = stmt::param_data(&s, value);
        stmt::log(&s, "SQLParamData", &[value as usize], r)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLPutData(hstmt: SqlHStmt, data: SqlPointer, len: SqlLen) -> SqlReturn {
    ffi!("SQLPutData", hstmt, {
        let s = get_stmt!(hstmt);
        let r = stmt::put_data(&s, data, len);
        stmt::log(&s, "SQLPutData", &[data as usize, len as usize], r)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLCancel(hstmt: SqlHStmt) -> SqlReturn {
    ffi!("SQLCancel", hstmt, {
        let s = get_stmt!(hstmt);
        let r = stmt::cancel(&s);
        stmt::log(&s, "SQLCancel", &[], r)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLCancelHandle(handle_type: HandleType, handle: SqlHandle) -> SqlReturn {
    ffi!("SQLCancelHandle", handle, {
        match (handle_type, handles::lookup(handle)) {
            (HandleType::SQL_HANDLE_STMT, Some(Obj::Stmt(s))) => {
                let r = stmt::cancel(&s);
                stmt::log(&s, "SQLCancelHandle", &[3], r)
            }
            (HandleType::SQL_HANDLE_DBC, Some(Obj::Dbc(c))) => {
                let r = conn::cancel_dbc(&c);
                conn::log(&c, "SQLCancelHandle", &[2], r)
            }
            (_, Some(o)) => {
                handles::diag_of(&o).post(DiagRec::new("HY092", "Invalid attribute/option identifier: handle type"));
                SqlReturn::SQL_ERROR
            }
            _ => INVALID,
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLEndTran(handle_type: HandleType, handle: SqlHandle, completion: CompletionType) -> SqlReturn {
    ffi!("SQLEndTran", handle, {
        match (handle_type, handles::lookup(handle)) {
            (HandleType::SQL_HANDLE_DBC, Some(Obj::Dbc(c))) => conn::end_tran_dbc(&c, completion.0),
            (HandleType::SQL_HANDLE_ENV, Some(Obj::Env(e))) => conn::end_tran_env(&e, completion.0),
            _ => INVALID,
        }
    })
}

// ------------------------------------------------------------------ results

#[no_mangle]
pub unsafe extern "C" fn SQLNumResultCols(hstmt: SqlHStmt, count: *mut SqlSmallInt) -> SqlReturn {
    ffi!("SQLNumResultCols", hstmt, {
        let s = get_stmt!(hstmt);
        stmt::num_result_cols(&s, count)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLDescribeColW(
    hstmt: SqlHStmt,
    col: SqlUSmallInt,
    name: *mut SqlWChar,
    name_max: SqlSmallInt,
    name_len: *mut SqlSmallInt,
    data_type: *mut SqlDataType,
    size: *mut SqlULen,
    digits: *mut SqlSmallInt,
    nullable: *mut Nullability,
) -> SqlReturn {
    ffi!("SQLDescribeColW", hstmt, {
        let s = get_stmt!(hstmt);
        stmt::describe_col(&s, col, name, name_max, name_len, data_type as *mut i16, size, digits, nullable as *mut i16)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLColAttributeW(
    hstmt: SqlHStmt,
    col: SqlUSmallInt,
    field: DescField,
    char_attr: SqlPointer,
    buf_len: SqlSmallInt,
    out_len: *mut SqlSmallInt,
    num_attr: *mut SqlLen,
) -> SqlReturn {
    ffi!("SQLColAttributeW", hstmt, {
        let s = get_stmt!(hstmt);
        let r = stmt::col_attribute(&s, col, field.0 as u16, char_attr, buf_len, out_len, num_attr);
        stmt::log(
            &s,
            "SQLColAttributeW",
            &[col as usize, field.0 as usize, char_attr as usize, buf_len as usize, out_len as usize, num_attr as usize],
            r,
        )
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLBindCol(
    hstmt: SqlHStmt,
    col: SqlUSmallInt,
    target_type: CDataType,
    target: SqlPointer,
    buf_len: SqlLen,
    ind: *mut SqlLen,
) -> SqlReturn {
    ffi!("SQLBindCol", hstmt, {
        let s = get_stmt!(hstmt);
        let r = stmt::bind_col(&s, col, target_type.0, target, buf_len, ind);
        stmt::log(&s, "SQLBindCol", &[col as usize, target_type.0 as usize, target as usize, buf_len as usize, ind as usize], r)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLSetPos(hstmt: SqlHStmt, row: SqlULen, operation: SetPosOperation, lock_type: LockType) -> SqlReturn {
    ffi!("SQLSetPos", hstmt, {
        let s = get_stmt!(hstmt);
        stmt::set_pos(&s, row, operation.0, lock_type.0)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLFetch(hstmt: SqlHStmt) -> SqlReturn {
    ffi!("SQLFetch", hstmt, {
        let s = get_stmt!(hstmt);
        stmt::fetch_scroll(&s, "SQLFetch", 1, 0)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLFetchScroll(hstmt: SqlHStmt, orientation: FetchOrientation, offset: SqlLen) -> SqlReturn {
    ffi!("SQLFetchScroll", hstmt, {
        let s = get_stmt!(hstmt);
        stmt::fetch_scroll(&s, "SQLFetchScroll", orientation.0, offset)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLExtendedFetch(
    hstmt: SqlHStmt,
    orientation: FetchOrientation,
    offset: SqlLen,
    row_count: *mut SqlULen,
    row_status: *mut SqlUSmallInt,
) -> SqlReturn {
    ffi!("SQLExtendedFetch", hstmt, {
        let s = get_stmt!(hstmt);
        stmt::extended_fetch(&s, orientation.0, offset, row_count, row_status)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLGetData(
    hstmt: SqlHStmt,
    col: SqlUSmallInt,
    target_type: CDataType,
    target: SqlPointer,
    buf_len: SqlLen,
    ind: *mut SqlLen,
) -> SqlReturn {
    ffi!("SQLGetData", hstmt, {
        let s = get_stmt!(hstmt);
        stmt::get_data(&s, col, target_type.0, target, buf_len, ind)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLRowCount(hstmt: SqlHStmt, count: *mut SqlLen) -> SqlReturn {
    ffi!("SQLRowCount", hstmt, {
        let s = get_stmt!(hstmt);
        let r = stmt::row_count(&s, count);
        stmt::log(&s, "SQLRowCount", &[count as usize], r)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLMoreResults(hstmt: SqlHStmt) -> SqlReturn {
    ffi!("SQLMoreResults", hstmt, {
        let s = get_stmt!(hstmt);
        stmt::more_results(&s)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLCloseCursor(hstmt: SqlHStmt) -> SqlReturn {
    ffi!("SQLCloseCursor", hstmt, {
        let s = get_stmt!(hstmt);
        let r = stmt::close(&s);
        stmt::log(&s, "SQLCloseCursor", &[], r)
    })
}

// ------------------------------------------------------------------ catalog

#[no_mangle]
pub unsafe extern "C" fn SQLTablesW(
    hstmt: SqlHStmt,
    cat: *const SqlWChar,
    cat_len: SqlSmallInt,
    schema: *const SqlWChar,
    schema_len: SqlSmallInt,
    table: *const SqlWChar,
    table_len: SqlSmallInt,
    kind: *const SqlWChar,
    kind_len: SqlSmallInt,
) -> SqlReturn {
    ffi!("SQLTablesW", hstmt, {
        let s = get_stmt!(hstmt);
        let args = vec![
            cat as usize,
            cat_len as usize,
            schema as usize,
            schema_len as usize,
            table as usize,
            table_len as usize,
            kind as usize,
            kind_len as usize,
        ];
        // SAFETY: catalog arguments are null or valid strings of the given length / SQL_NTS.
        let (a, b, c, d) =
            unsafe { (stmt::arg(cat, cat_len), stmt::arg(schema, schema_len), stmt::arg(table, table_len), stmt::arg(kind, kind_len)) };
        stmt::tables(&s, args, a, b, c, d)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLColumnsW(
    hstmt: SqlHStmt,
    cat: *const SqlWChar,
    cat_len: SqlSmallInt,
    schema: *const SqlWChar,
    schema_len: SqlSmallInt,
    table: *const SqlWChar,
    table_len: SqlSmallInt,
    column: *const SqlWChar,
    column_len: SqlSmallInt,
) -> SqlReturn {
    ffi!("SQLColumnsW", hstmt, {
        let s = get_stmt!(hstmt);
        let args = vec![
            cat as usize,
            cat_len as usize,
            schema as usize,
            schema_len as usize,
            table as usize,
            table_len as usize,
            column as usize,
            column_len as usize,
        ];
        // SAFETY: as in SQLTablesW.
        let (t, c) = unsafe { (stmt::arg(table, table_len), stmt::arg(column, column_len)) };
        stmt::columns_cat(&s, args, t, c)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLGetTypeInfoW(hstmt: SqlHStmt, data_type: SqlDataType) -> SqlReturn {
    ffi!("SQLGetTypeInfoW", hstmt, {
        let s = get_stmt!(hstmt);
        stmt::type_info(&s, vec![data_type.0 as u16 as usize], data_type.0)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLPrimaryKeysW(
    hstmt: SqlHStmt,
    cat: *const SqlWChar,
    cat_len: SqlSmallInt,
    schema: *const SqlWChar,
    schema_len: SqlSmallInt,
    table: *const SqlWChar,
    table_len: SqlSmallInt,
) -> SqlReturn {
    ffi!("SQLPrimaryKeysW", hstmt, {
        let s = get_stmt!(hstmt);
        let args = vec![cat as usize, cat_len as usize, schema as usize, schema_len as usize, table as usize, table_len as usize];
        // SAFETY: as in SQLTablesW.
        let t = unsafe { stmt::arg(table, table_len) };
        stmt::primary_keys(&s, args, t)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLSpecialColumnsW(
    hstmt: SqlHStmt,
    identifier: RowIdentifier,
    cat: *const SqlWChar,
    cat_len: SqlSmallInt,
    schema: *const SqlWChar,
    schema_len: SqlSmallInt,
    table: *const SqlWChar,
    table_len: SqlSmallInt,
    scope: SqlUSmallInt,
    nullable: Nullability,
) -> SqlReturn {
    ffi!("SQLSpecialColumnsW", hstmt, {
        let s = get_stmt!(hstmt);
        let args = vec![
            identifier.0 as usize,
            cat as usize,
            cat_len as usize,
            schema as usize,
            schema_len as usize,
            table as usize,
            table_len as usize,
            scope as usize,
            nullable.0 as usize,
        ];
        // SAFETY: as in SQLTablesW.
        let t = unsafe { stmt::arg(table, table_len) };
        stmt::special_columns(&s, args, identifier.0, t)
    })
}

// ------------------------------------------------------------------ diagnostics

fn diag_owner(handle_type: HandleType, handle: SqlHandle) -> Option<(Obj, bool)> {
    let o = handles::lookup(handle)?;
    let ok = matches!(
        (handle_type, &o),
        (HandleType::SQL_HANDLE_ENV, Obj::Env(_))
            | (HandleType::SQL_HANDLE_DBC, Obj::Dbc(_))
            | (HandleType::SQL_HANDLE_STMT, Obj::Stmt(_))
            | (HandleType::SQL_HANDLE_DESC, Obj::Desc(_))
    );
    if !ok {
        return None;
    }
    let overflow = match &o {
        Obj::Dbc(c) => lock(&c.settings).faults.diag_overflow,
        Obj::Stmt(s) => lock(&s.conn.settings).faults.diag_overflow,
        _ => false,
    };
    Some((o, overflow))
}

#[no_mangle]
pub unsafe extern "C" fn SQLGetDiagRecW(
    handle_type: HandleType,
    handle: SqlHandle,
    rec: SqlSmallInt,
    state: *mut SqlWChar,
    native: *mut SqlInteger,
    msg: *mut SqlWChar,
    msg_max: SqlSmallInt,
    msg_len: *mut SqlSmallInt,
) -> SqlReturn {
    ffi!("SQLGetDiagRecW", handle, {
        let Some((o, overflow)) = diag_owner(handle_type, handle) else {
            return INVALID;
        };
        if rec <= 0 {
            return SqlReturn::SQL_ERROR;
        }
        if msg_max < 0 {
            return SqlReturn::SQL_ERROR;
        }
        let Some(d) = handles::diag_of(&o).get(rec as usize - 1) else {
            return SqlReturn::SQL_NO_DATA;
        };
        // SAFETY: `state` holds 6 SQLWCHARs; `msg` holds msg_max characters; others are scalars.
        let w = unsafe {
            write_wstr_chars(&d.state, state, 6);
            put(native, d.native);
            write_wstr_chars(&d.msg, msg, msg_max as isize)
        };
        // DiagOverflow fault: report a text length smaller than the real one.
        let reported = if overflow { w.full / 2 } else { w.full };
        // SAFETY: app-provided output pointer.
        unsafe { put(msg_len, reported as i16) };
        if w.truncated {
            SqlReturn::SQL_SUCCESS_WITH_INFO
        } else {
            SqlReturn::SQL_SUCCESS
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn SQLGetDiagFieldW(
    handle_type: HandleType,
    handle: SqlHandle,
    rec: SqlSmallInt,
    field: DiagField,
    value: SqlPointer,
    buf_len: SqlSmallInt,
    out_len: *mut SqlSmallInt,
) -> SqlReturn {
    ffi!("SQLGetDiagFieldW", handle, {
        let Some((o, _)) = diag_owner(handle_type, handle) else {
            return INVALID;
        };
        let dl = handles::diag_of(&o);
        let (hdr_ret, hdr_rows) = dl.header();
        // header fields
        match field.0 {
            2 => {
                // SAFETY: SQLINTEGER output.
                unsafe { put(value as *mut i32, dl.len() as i32) };
                return SqlReturn::SQL_SUCCESS;
            }
            1 => {
                // SAFETY: SQLRETURN output.
                unsafe { put(value as *mut i16, hdr_ret) };
                return SqlReturn::SQL_SUCCESS;
            }
            3 | -1249 => {
                if !matches!(o, Obj::Stmt(_)) {
                    return SqlReturn::SQL_ERROR;
                }
                // SAFETY: SQLLEN output.
                unsafe { put(value as *mut isize, hdr_rows) };
                return SqlReturn::SQL_SUCCESS;
            }
            7 | 12 => {
                if field.0 == 12 {
                    // SAFETY: SQLINTEGER output.
                    unsafe { put(value as *mut i32, 0) };
                    return SqlReturn::SQL_SUCCESS;
                }
                // SAFETY: buf_len bytes at value.
                let w = unsafe { write_wstr_bytes("", value, buf_len as isize) };
                // SAFETY: output pointer.
                unsafe { put(out_len, w.full as i16) };
                return SqlReturn::SQL_SUCCESS;
            }
            _ => {}
        }
        if rec <= 0 {
            return SqlReturn::SQL_ERROR;
        }
        let Some(d) = dl.get(rec as usize - 1) else {
            return SqlReturn::SQL_NO_DATA;
        };
        let text = match field.0 {
            4 => d.state.clone(),
            6 => d.msg.clone(),
            8 | 9 => {
                if d.state.starts_with("IM") || d.state.starts_with("HY") && field.0 == 9 || d.state.starts_with("01S") {
                    "ODBC 3.0".into()
                } else {
                    "ISO 9075".into()
                }
            }
            10 | 11 => String::new(),
            5 => {
                // SAFETY: SQLINTEGER output.
                unsafe { put(value as *mut i32, d.native) };
                return SqlReturn::SQL_SUCCESS;
            }
            -1248 | -1247 => {
                // SAFETY: SQLLEN / SQLINTEGER output (SQL_NO_ROW_NUMBER / SQL_NO_COLUMN_NUMBER = -1).
                unsafe {
                    if field.0 == -1248 {
                        put(value as *mut isize, -1)
                    } else {
                        put(value as *mut i32, -1)
                    }
                };
                return SqlReturn::SQL_SUCCESS;
            }
            _ => return SqlReturn::SQL_ERROR,
        };
        // SAFETY: buf_len bytes at value (W rule: lengths in bytes).
        let w = unsafe { write_wstr_bytes(&text, value, buf_len as isize) };
        // SAFETY: output pointer.
        unsafe { put(out_len, w.full as i16) };
        if w.truncated {
            SqlReturn::SQL_SUCCESS_WITH_INFO
        } else {
            SqlReturn::SQL_SUCCESS
        }
    })
}

/// Compile-time proof that every export has exactly the ABI of `odbc_dm_abi::fns`.
#[allow(dead_code)]
const _SIGNATURES: () = {
    let _: fns::SQLAllocHandle = SQLAllocHandle;
    let _: fns::SQLFreeHandle = SQLFreeHandle;
    let _: fns::SQLFreeStmt = SQLFreeStmt;
    let _: fns::SQLSetEnvAttr = SQLSetEnvAttr;
    let _: fns::SQLGetEnvAttr = SQLGetEnvAttr;
    let _: fns::SQLSetConnectAttrW = SQLSetConnectAttrW;
    let _: fns::SQLGetConnectAttrW = SQLGetConnectAttrW;
    let _: fns::SQLSetStmtAttrW = SQLSetStmtAttrW;
    let _: fns::SQLGetStmtAttrW = SQLGetStmtAttrW;
    let _: fns::SQLDriverConnectW = SQLDriverConnectW;
    let _: fns::SQLConnectW = SQLConnectW;
    let _: fns::SQLDisconnect = SQLDisconnect;
    let _: fns::SQLGetInfoW = SQLGetInfoW;
    let _: fns::SQLGetFunctions = SQLGetFunctions;
    let _: fns::SQLPrepareW = SQLPrepareW;
    let _: fns::SQLExecute = SQLExecute;
    let _: fns::SQLExecDirectW = SQLExecDirectW;
    let _: fns::SQLBindParameter = SQLBindParameter;
    let _: fns::SQLNumParams = SQLNumParams;
    let _: fns::SQLParamData = SQLParamData;
    let _: fns::SQLPutData = SQLPutData;
    let _: fns::SQLCancel = SQLCancel;
    let _: fns::SQLCancelHandle = SQLCancelHandle;
    let _: fns::SQLEndTran = SQLEndTran;
    let _: fns::SQLNumResultCols = SQLNumResultCols;
    let _: fns::SQLDescribeColW = SQLDescribeColW;
    let _: fns::SQLColAttributeW = SQLColAttributeW;
    let _: fns::SQLBindCol = SQLBindCol;
    let _: fns::SQLFetch = SQLFetch;
    let _: fns::SQLFetchScroll = SQLFetchScroll;
    let _: fns::SQLExtendedFetch = SQLExtendedFetch;
    let _: fns::SQLDescribeParam = SQLDescribeParam;
    let _: fns::SQLGetTypeInfoW = SQLGetTypeInfoW;
    let _: fns::SQLGetData = SQLGetData;
    let _: fns::SQLRowCount = SQLRowCount;
    let _: fns::SQLMoreResults = SQLMoreResults;
    let _: fns::SQLCloseCursor = SQLCloseCursor;
    let _: fns::SQLTablesW = SQLTablesW;
    let _: fns::SQLColumnsW = SQLColumnsW;
    let _: fns::SQLPrimaryKeysW = SQLPrimaryKeysW;
    let _: fns::SQLSpecialColumnsW = SQLSpecialColumnsW;
    let _: fns::SQLSetPos = SQLSetPos;
    let _: fns::SQLGetDiagRecW = SQLGetDiagRecW;
    let _: fns::SQLGetDiagFieldW = SQLGetDiagFieldW;
};
