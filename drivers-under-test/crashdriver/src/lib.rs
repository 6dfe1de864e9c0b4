//! A tiny ODBC driver that aborts the process in `SQLExecDirect` (issue 13): the
//! conformance harness must report `crash` for the checks that execute a statement and a
//! complete report for the rest. ANSI entry points only; every handle is a heap cell.
//! Everything except SQLExecDirect behaves: connect succeeds (any connection string),
//! SQLGetInfo answers the few string info types, SQLGetFunctions claims exactly the exports.
//!
//! With the environment variable `ODBC_CRASHDRIVER_MODE=hang`, SQLExecDirect hangs
//! instead (sleeps for ever): the harness's per-check time limit must turn that into
//! `timeout` for the checks that execute a statement (tests/conform.rs).
#![allow(non_snake_case)]
#![allow(clippy::missing_safety_doc)]

use odbc_dm_abi::*;
use std::ffi::c_void;

/// The exported entry points (SQLGetFunctions claims exactly these ids).
const EXPORTED: &[u16] = &[1001, 1006, 1019, 1012, 41, 9, 45, 44, 11, 16, 1011, 5, 13, 18];

fn new_handle() -> SqlHandle {
    Box::into_raw(Box::new(0u64)).cast::<c_void>()
}

/// # Safety
/// `output` must be valid for a write.
#[no_mangle]
pub unsafe extern "C" fn SQLAllocHandle(_ht: HandleType, _input: SqlHandle, output: *mut SqlHandle) -> SqlReturn {
    if output.is_null() {
        return SqlReturn::SQL_ERROR;
    }
    // SAFETY: non-null out pointer from the caller.
    unsafe { *output = new_handle() };
    SqlReturn::SQL_SUCCESS
}

/// # Safety
/// `handle` must come from SQLAllocHandle and be freed once.
#[no_mangle]
pub unsafe extern "C" fn SQLFreeHandle(_ht: HandleType, handle: SqlHandle) -> SqlReturn {
    if handle.is_null() {
        return SqlReturn::SQL_INVALID_HANDLE;
    }
    // SAFETY: a handle of ours (Box<u64>), freed once.
    drop(unsafe { Box::from_raw(handle.cast::<u64>()) });
    SqlReturn::SQL_SUCCESS
}

#[no_mangle]
pub extern "C" fn SQLSetEnvAttr(_env: SqlHandle, _attr: EnvAttr, _value: SqlPointer, _len: SqlInteger) -> SqlReturn {
    SqlReturn::SQL_SUCCESS
}

#[no_mangle]
pub extern "C" fn SQLGetEnvAttr(_env: SqlHandle, _attr: EnvAttr, _value: SqlPointer, _buf: SqlInteger, _out: *mut SqlInteger) -> SqlReturn {
    SqlReturn::SQL_ERROR
}

#[no_mangle]
pub extern "C" fn SQLDriverConnect(
    _dbc: SqlHandle,
    _hwnd: SqlHWnd,
    _in_str: *const SqlChar,
    _in_len: SqlSmallInt,
    _out_str: *mut SqlChar,
    _out_max: SqlSmallInt,
    _out_len: *mut SqlSmallInt,
    _completion: DriverCompletion,
) -> SqlReturn {
    SqlReturn::SQL_SUCCESS
}

#[no_mangle]
pub extern "C" fn SQLDisconnect(_dbc: SqlHandle) -> SqlReturn {
    SqlReturn::SQL_SUCCESS
}

/// # Safety
/// `value` must be valid for `buf_len` bytes, `out_len` for a write (or null).
#[no_mangle]
pub unsafe extern "C" fn SQLGetInfo(
    _dbc: SqlHandle,
    info: InfoType,
    value: SqlPointer,
    buf_len: SqlSmallInt,
    out_len: *mut SqlSmallInt,
) -> SqlReturn {
    let text: &[u8] = match info {
        InfoType::SQL_DRIVER_NAME => b"libodbc_crashdriver.so",
        InfoType::SQL_DRIVER_VER => b"00.01.0000",
        InfoType::SQL_DRIVER_ODBC_VER => b"03.00",
        InfoType::SQL_DBMS_NAME => b"crash",
        InfoType::SQL_DBMS_VER => b"00.01.0000",
        InfoType::SQL_ASYNC_MODE | InfoType::SQL_SCROLL_CONCURRENCY => {
            if !value.is_null() && buf_len >= 4 {
                // SAFETY: the caller's 4-byte buffer.
                unsafe { *value.cast::<u32>() = 0 };
            }
            return SqlReturn::SQL_SUCCESS;
        }
        _ => return SqlReturn::SQL_ERROR,
    };
    // SAFETY: out pointers from the caller, written within the lengths given.
    unsafe {
        if !out_len.is_null() {
            *out_len = text.len() as i16;
        }
        if value.is_null() || buf_len <= 0 {
            return SqlReturn::SQL_SUCCESS_WITH_INFO;
        }
        let n = text.len().min(buf_len as usize - 1);
        std::ptr::copy_nonoverlapping(text.as_ptr(), value.cast::<u8>(), n);
        *value.cast::<u8>().add(n) = 0;
        if n < text.len() {
            SqlReturn::SQL_SUCCESS_WITH_INFO
        } else {
            SqlReturn::SQL_SUCCESS
        }
    }
}

/// # Safety
/// `supported` must be valid for 250 words (SQL_API_ODBC3_ALL_FUNCTIONS) or one.
#[no_mangle]
pub unsafe extern "C" fn SQLGetFunctions(_dbc: SqlHandle, function: FunctionId, supported: *mut SqlUSmallInt) -> SqlReturn {
    if supported.is_null() {
        return SqlReturn::SQL_ERROR;
    }
    // SAFETY: the caller's array of the size the function id requires.
    unsafe {
        if function == FunctionId::SQL_API_ODBC3_ALL_FUNCTIONS {
            std::ptr::write_bytes(supported, 0, 250);
            for id in EXPORTED {
                *supported.add((id >> 4) as usize) |= 1 << (id & 15);
            }
        } else {
            *supported = EXPORTED.contains(&function.0) as u16;
        }
    }
    SqlReturn::SQL_SUCCESS
}

/// Aborts the process (or, with `ODBC_CRASHDRIVER_MODE=hang`, never returns): the fault
/// this driver exists for.
#[no_mangle]
pub extern "C" fn SQLExecDirect(_stmt: SqlHandle, _text: *const SqlChar, _len: SqlInteger) -> SqlReturn {
    if std::env::var("ODBC_CRASHDRIVER_MODE").is_ok_and(|m| m == "hang") {
        eprintln!("odbc-crashdriver: SQLExecDirect hangs (deliberate)");
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
    eprintln!("odbc-crashdriver: SQLExecDirect aborts the process (deliberate)");
    std::process::abort()
}

#[no_mangle]
pub extern "C" fn SQLFreeStmt(_stmt: SqlHandle, _option: FreeStmtOption) -> SqlReturn {
    SqlReturn::SQL_SUCCESS
}

#[no_mangle]
pub extern "C" fn SQLGetDiagRec(
    _ht: HandleType,
    _h: SqlHandle,
    _rec: SqlSmallInt,
    _state: *mut SqlChar,
    _native: *mut SqlInteger,
    _msg: *mut SqlChar,
    _max: SqlSmallInt,
    _len: *mut SqlSmallInt,
) -> SqlReturn {
    SqlReturn::SQL_NO_DATA
}

#[no_mangle]
pub extern "C" fn SQLCancel(_stmt: SqlHandle) -> SqlReturn {
    SqlReturn::SQL_SUCCESS
}

#[no_mangle]
pub extern "C" fn SQLFetch(_stmt: SqlHandle) -> SqlReturn {
    SqlReturn::SQL_ERROR
}

/// # Safety
/// `count` must be valid for a write (or null).
#[no_mangle]
pub unsafe extern "C" fn SQLNumResultCols(_stmt: SqlHandle, count: *mut SqlSmallInt) -> SqlReturn {
    if !count.is_null() {
        // SAFETY: the caller's out pointer.
        unsafe { *count = 0 };
    }
    SqlReturn::SQL_SUCCESS
}
