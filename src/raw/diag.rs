//! SQLGetDiagRec, SQLGetDiagField and ODBC 2.x SQLError, answered from the DM's merged
//! diagnostic area. These functions never clear or post diagnostics; truncation of their
//! own output is reported by SQL_SUCCESS_WITH_INFO with the full length.

use std::sync::Arc;

use odbc_dm_abi::*;

use super::{boundary, same_signature, HasDiag};
use crate::diag::DiagRecord;
use crate::handles::{self, gate::Gated, DriverLink};
use crate::text;
use crate::trace_enter;

same_signature!(SQLGetDiagRec, SQLGetDiagRecW, SQLGetDiagField, SQLGetDiagFieldW, SQLError, SQLErrorW);

/// A snapshot of a handle's diagnostic area plus where its driver handle is.
struct Snapshot {
    records: Vec<DiagRecord>,
    return_code: SqlReturn,
    driver: Option<(Arc<DriverLink>, usize)>,
}

fn snap<C: HasDiag>(gate: &Gated<C>) -> (Vec<DiagRecord>, SqlReturn) {
    gate.with(|c| {
        let d = c.diag();
        (d.records().to_vec(), d.return_code)
    })
}

/// The application's SQL_ATTR_ODBC_VERSION on `env`. Not set yet (an environment from
/// SQLAllocHandle before SQLSetEnvAttr, whose HY010 must read HY010): 3.x states; an ODBC 2
/// application's SQLAllocEnv sets SQL_OV_ODBC2 itself.
fn app_version(env: &handles::Env) -> u32 {
    env.gate.read(|c| c.odbc_version.unwrap_or(SQL_OV_ODBC3))
}

/// Reads the diagnostic area of any handle; `None` for an invalid handle. The SQLSTATEs
/// are given in the form of the application's ODBC version (2.x or 3.x, whoever posted
/// them; docs/decisions.md #97).
fn snapshot(ht: HandleType, h: SqlHandle) -> Option<Snapshot> {
    let (mut snapshot, version) = match ht {
        HandleType::SQL_HANDLE_ENV => {
            let e = handles::env(h)?;
            let (records, return_code) = snap(&e.gate);
            (Snapshot { records, return_code, driver: None }, app_version(&e))
        }
        HandleType::SQL_HANDLE_DBC => {
            let d = handles::dbc(h)?;
            let (records, return_code) = snap(&d.gate);
            let driver = d.link().map(|l| {
                let hd = l.hdbc;
                (l, hd)
            });
            (Snapshot { records, return_code, driver }, app_version(&d.env))
        }
        HandleType::SQL_HANDLE_STMT => {
            let s = handles::stmt(h)?;
            let (records, return_code) = snap(&s.gate);
            (Snapshot { records, return_code, driver: Some((s.link.clone(), s.hstmt)) }, app_version(&s.dbc.env))
        }
        HandleType::SQL_HANDLE_DESC => {
            let d = handles::desc(h)?;
            let (records, return_code) = snap(&d.gate);
            (Snapshot { records, return_code, driver: Some((d.link.clone(), d.hdesc)) }, app_version(&d.dbc.env))
        }
        _ => return None,
    };
    for r in &mut snapshot.records {
        r.state = r.state.for_app(version);
    }
    Some(snapshot)
}

/// SQLGetDiagRec (ANSI): SQLSTATE, native error and message of record `rec`.
pub unsafe extern "C" fn SQLGetDiagRec(
    ht: HandleType,
    h: SqlHandle,
    rec: SqlSmallInt,
    state: *mut SqlChar,
    native: *mut SqlInteger,
    msg: *mut SqlChar,
    msg_max: SqlSmallInt,
    msg_len: *mut SqlSmallInt,
) -> SqlReturn {
    trace_enter!("SQLGetDiagRec", "{:?} {:p} {}", ht, h, rec);
    boundary("SQLGetDiagRec", || {
        let Some(s) = snapshot(ht, h) else { return SqlReturn::SQL_INVALID_HANDLE };
        if rec <= 0 || msg_max < 0 {
            return SqlReturn::SQL_ERROR;
        }
        let Some(r) = s.records.get(rec as usize - 1) else { return SqlReturn::SQL_NO_DATA };
        if !state.is_null() {
            // SAFETY: SQLGetDiagRec's SQLState buffer holds 6 characters by contract.
            unsafe {
                std::ptr::copy_nonoverlapping(r.state.0.as_ptr(), state, 5);
                *state.add(5) = 0;
            }
        }
        if !native.is_null() {
            // SAFETY: non-null application out pointer.
            unsafe { *native = r.native };
        }
        let m = r.message.as_bytes();
        // SAFETY: application buffer of `msg_max` bytes.
        let trunc = unsafe { text::write_narrow(m, msg, msg_max as usize) } && !msg.is_null();
        // SAFETY: optional out pointer.
        unsafe { super::strings::put_len(msg_len, m.len(), i16::MAX) };
        if trunc {
            SqlReturn::SQL_SUCCESS_WITH_INFO
        } else {
            SqlReturn::SQL_SUCCESS
        }
    })
}

/// SQLGetDiagRecW (Unicode): lengths in characters.
pub unsafe extern "C" fn SQLGetDiagRecW(
    ht: HandleType,
    h: SqlHandle,
    rec: SqlSmallInt,
    state: *mut SqlWChar,
    native: *mut SqlInteger,
    msg: *mut SqlWChar,
    msg_max: SqlSmallInt,
    msg_len: *mut SqlSmallInt,
) -> SqlReturn {
    trace_enter!("SQLGetDiagRecW", "{:?} {:p} {}", ht, h, rec);
    boundary("SQLGetDiagRecW", || {
        let Some(s) = snapshot(ht, h) else { return SqlReturn::SQL_INVALID_HANDLE };
        if rec <= 0 || msg_max < 0 {
            return SqlReturn::SQL_ERROR;
        }
        let Some(r) = s.records.get(rec as usize - 1) else { return SqlReturn::SQL_NO_DATA };
        if !state.is_null() {
            for (i, b) in r.state.0.iter().enumerate() {
                // SAFETY: the SQLState buffer holds 6 characters by contract.
                unsafe { *state.add(i) = *b as u16 };
            }
            // SAFETY: as above.
            unsafe { *state.add(5) = 0 };
        }
        if !native.is_null() {
            // SAFETY: non-null application out pointer.
            unsafe { *native = r.native };
        }
        let m: Vec<u16> = r.message.encode_utf16().collect();
        // SAFETY: application buffer of `msg_max` characters.
        let trunc = unsafe { text::write_wide(&m, msg, msg_max as usize) } && !msg.is_null();
        // SAFETY: optional out pointer.
        unsafe { super::strings::put_len(msg_len, m.len(), i16::MAX) };
        if trunc {
            SqlReturn::SQL_SUCCESS_WITH_INFO
        } else {
            SqlReturn::SQL_SUCCESS
        }
    })
}

/// What a diagnostic field holds.
enum FieldValue {
    Int(i32),
    Len(isize),
    Ret(i16),
    Text(String),
}

fn field_value(s: &Snapshot, ht: HandleType, rec: i16, field: DiagField) -> Result<FieldValue, SqlReturn> {
    if rec == 0 || is_header(field) {
        return Ok(match field {
            DiagField::SQL_DIAG_NUMBER => FieldValue::Int(s.records.len() as i32),
            DiagField::SQL_DIAG_RETURNCODE => FieldValue::Ret(s.return_code.0),
            DiagField::SQL_DIAG_ROW_COUNT
            | DiagField::SQL_DIAG_CURSOR_ROW_COUNT
            | DiagField::SQL_DIAG_DYNAMIC_FUNCTION_CODE
            | DiagField::SQL_DIAG_DYNAMIC_FUNCTION => {
                if ht != HandleType::SQL_HANDLE_STMT {
                    return Err(SqlReturn::SQL_ERROR);
                }
                forward_header(s, field)?
            }
            _ => return Err(SqlReturn::SQL_ERROR),
        });
    }
    if rec < 0 {
        return Err(SqlReturn::SQL_ERROR);
    }
    let Some(r) = s.records.get(rec as usize - 1) else { return Err(SqlReturn::SQL_NO_DATA) };
    Ok(match field {
        DiagField::SQL_DIAG_SQLSTATE => FieldValue::Text(r.state.as_str().to_string()),
        DiagField::SQL_DIAG_NATIVE => FieldValue::Int(r.native),
        DiagField::SQL_DIAG_MESSAGE_TEXT => FieldValue::Text(r.message.clone()),
        DiagField::SQL_DIAG_CLASS_ORIGIN => FieldValue::Text(r.state.class_origin().into()),
        DiagField::SQL_DIAG_SUBCLASS_ORIGIN => FieldValue::Text(r.state.subclass_origin().into()),
        DiagField::SQL_DIAG_CONNECTION_NAME | DiagField::SQL_DIAG_SERVER_NAME => FieldValue::Text(String::new()),
        DiagField::SQL_DIAG_ROW_NUMBER => FieldValue::Len(r.row_number),
        DiagField::SQL_DIAG_COLUMN_NUMBER => FieldValue::Int(r.column_number),
        _ => return Err(SqlReturn::SQL_ERROR),
    })
}

fn is_header(f: DiagField) -> bool {
    matches!(
        f,
        DiagField::SQL_DIAG_NUMBER
            | DiagField::SQL_DIAG_RETURNCODE
            | DiagField::SQL_DIAG_ROW_COUNT
            | DiagField::SQL_DIAG_CURSOR_ROW_COUNT
            | DiagField::SQL_DIAG_DYNAMIC_FUNCTION
            | DiagField::SQL_DIAG_DYNAMIC_FUNCTION_CODE
    )
}

/// Header fields only the driver knows (row counts, dynamic function) are read from the
/// driver's statement handle.
fn forward_header(s: &Snapshot, field: DiagField) -> Result<FieldValue, SqlReturn> {
    let Some((link, h)) = &s.driver else { return Err(SqlReturn::SQL_ERROR) };
    let fns = &link.driver.fns;
    let h = *h as SqlHandle;
    let mut len: i16 = 0;
    if field == DiagField::SQL_DIAG_DYNAMIC_FUNCTION {
        if let Some(f) = fns.SQLGetDiagFieldW {
            let mut buf = [0u16; 256];
            // SAFETY: live driver handle; buffer of 512 bytes.
            let rc = unsafe { f(HandleType::SQL_HANDLE_STMT, h, 0, field, buf.as_mut_ptr().cast(), 512, &mut len) };
            return if rc.is_success() {
                Ok(FieldValue::Text(String::from_utf16_lossy(text::wide_from_buf(&buf))))
            } else {
                Ok(FieldValue::Text(String::new()))
            };
        }
        if let Some(f) = fns.SQLGetDiagField {
            let mut buf = [0u8; 512];
            // SAFETY: live driver handle; buffer of 512 bytes.
            let rc = unsafe { f(HandleType::SQL_HANDLE_STMT, h, 0, field, buf.as_mut_ptr().cast(), 512, &mut len) };
            return if rc.is_success() {
                Ok(FieldValue::Text(String::from_utf8_lossy(text::narrow_from_buf(&buf)).into_owned()))
            } else {
                Ok(FieldValue::Text(String::new()))
            };
        }
        return Ok(FieldValue::Text(String::new()));
    }
    let f = fns.SQLGetDiagField.or(fns.SQLGetDiagFieldW);
    let Some(f) = f else { return Err(SqlReturn::SQL_ERROR) };
    let mut v: isize = 0;
    // SAFETY: live driver handle; an SQLLEN-sized value buffer (large enough for SQLINTEGER).
    let rc = unsafe { f(HandleType::SQL_HANDLE_STMT, h, 0, field, (&mut v as *mut isize).cast(), 0, &mut len) };
    if !rc.is_success() {
        return Err(rc);
    }
    Ok(if field == DiagField::SQL_DIAG_DYNAMIC_FUNCTION_CODE { FieldValue::Int(v as i32) } else { FieldValue::Len(v) })
}

/// Writes a non-text field value.
///
/// # Safety
/// `value` must be null or valid for the field's type.
unsafe fn write_scalar(v: &FieldValue, value: SqlPointer) {
    if value.is_null() {
        return;
    }
    // SAFETY: the field's documented type decides the width; the caller passes a buffer of it.
    unsafe {
        match v {
            FieldValue::Int(i) => *(value as *mut i32) = *i,
            FieldValue::Len(l) => *(value as *mut isize) = *l,
            FieldValue::Ret(r) => *(value as *mut i16) = *r,
            FieldValue::Text(_) => {}
        }
    }
}

/// SQLGetDiagField (ANSI).
pub unsafe extern "C" fn SQLGetDiagField(
    ht: HandleType,
    h: SqlHandle,
    rec: SqlSmallInt,
    field: DiagField,
    value: SqlPointer,
    buf_len: SqlSmallInt,
    out_len: *mut SqlSmallInt,
) -> SqlReturn {
    trace_enter!("SQLGetDiagField", "{:?} {:p} {} {:?}", ht, h, rec, field);
    boundary("SQLGetDiagField", || {
        let Some(s) = snapshot(ht, h) else { return SqlReturn::SQL_INVALID_HANDLE };
        let v = match field_value(&s, ht, rec, field) {
            Ok(v) => v,
            Err(rc) => return rc,
        };
        match &v {
            FieldValue::Text(t) => {
                if buf_len < 0 {
                    return SqlReturn::SQL_ERROR;
                }
                // SAFETY: application buffer of `buf_len` bytes.
                let trunc = unsafe { text::write_narrow(t.as_bytes(), value.cast(), buf_len as usize) } && !value.is_null();
                // SAFETY: optional out pointer.
                unsafe { super::strings::put_len(out_len, t.len(), i16::MAX) };
                if trunc {
                    SqlReturn::SQL_SUCCESS_WITH_INFO
                } else {
                    SqlReturn::SQL_SUCCESS
                }
            }
            _ => {
                // SAFETY: application buffer of the field's type.
                unsafe { write_scalar(&v, value) };
                SqlReturn::SQL_SUCCESS
            }
        }
    })
}

/// SQLGetDiagFieldW (Unicode): text fields' BufferLength and length are in bytes.
pub unsafe extern "C" fn SQLGetDiagFieldW(
    ht: HandleType,
    h: SqlHandle,
    rec: SqlSmallInt,
    field: DiagField,
    value: SqlPointer,
    buf_len: SqlSmallInt,
    out_len: *mut SqlSmallInt,
) -> SqlReturn {
    trace_enter!("SQLGetDiagFieldW", "{:?} {:p} {} {:?}", ht, h, rec, field);
    boundary("SQLGetDiagFieldW", || {
        let Some(s) = snapshot(ht, h) else { return SqlReturn::SQL_INVALID_HANDLE };
        let v = match field_value(&s, ht, rec, field) {
            Ok(v) => v,
            Err(rc) => return rc,
        };
        match &v {
            FieldValue::Text(t) => {
                if buf_len < 0 {
                    return SqlReturn::SQL_ERROR;
                }
                let w: Vec<u16> = t.encode_utf16().collect();
                // SAFETY: application buffer of `buf_len` bytes = buf_len / 2 characters.
                let trunc = unsafe { text::write_wide(&w, value.cast(), buf_len as usize / 2) } && !value.is_null();
                // SAFETY: optional out pointer.
                unsafe { super::strings::put_len(out_len, w.len() * 2, i16::MAX) };
                if trunc {
                    SqlReturn::SQL_SUCCESS_WITH_INFO
                } else {
                    SqlReturn::SQL_SUCCESS
                }
            }
            _ => {
                // SAFETY: application buffer of the field's type.
                unsafe { write_scalar(&v, value) };
                SqlReturn::SQL_SUCCESS
            }
        }
    })
}

/// Which handle SQLError reports on: the most specific non-null one.
fn error_target(env: SqlHEnv, dbc: SqlHDbc, stmt: SqlHStmt) -> (HandleType, SqlHandle) {
    if !stmt.is_null() {
        (HandleType::SQL_HANDLE_STMT, stmt)
    } else if !dbc.is_null() {
        (HandleType::SQL_HANDLE_DBC, dbc)
    } else {
        (HandleType::SQL_HANDLE_ENV, env)
    }
}

/// Removes the first record, as SQLError consumes records one at a time.
fn pop_first(ht: HandleType, h: SqlHandle) {
    fn pop<C: HasDiag>(g: &Gated<C>) {
        g.with(|c| {
            let mut r = c.diag().take();
            if !r.is_empty() {
                r.remove(0);
            }
            c.diag().replace(r);
        })
    }
    match ht {
        HandleType::SQL_HANDLE_ENV => {
            if let Some(e) = handles::env(h) {
                pop(&e.gate)
            }
        }
        HandleType::SQL_HANDLE_DBC => {
            if let Some(d) = handles::dbc(h) {
                pop(&d.gate)
            }
        }
        _ => {
            if let Some(s) = handles::stmt(h) {
                pop(&s.gate)
            }
        }
    }
}

/// ODBC 2.x SQLError: the next record of the most specific handle, consumed.
pub unsafe extern "C" fn SQLError(
    env: SqlHEnv,
    dbc: SqlHDbc,
    stmt: SqlHStmt,
    state: *mut SqlChar,
    native: *mut SqlInteger,
    msg: *mut SqlChar,
    msg_max: SqlSmallInt,
    msg_len: *mut SqlSmallInt,
) -> SqlReturn {
    boundary("SQLError", || {
        let (ht, h) = error_target(env, dbc, stmt);
        // SAFETY: forwarded application pointers.
        let rc = unsafe { SQLGetDiagRec(ht, h, 1, state, native, msg, msg_max, msg_len) };
        if rc.is_success() {
            pop_first(ht, h);
        }
        rc
    })
}

/// ODBC 2.x SQLErrorW.
pub unsafe extern "C" fn SQLErrorW(
    env: SqlHEnv,
    dbc: SqlHDbc,
    stmt: SqlHStmt,
    state: *mut SqlWChar,
    native: *mut SqlInteger,
    msg: *mut SqlWChar,
    msg_max: SqlSmallInt,
    msg_len: *mut SqlSmallInt,
) -> SqlReturn {
    boundary("SQLErrorW", || {
        let (ht, h) = error_target(env, dbc, stmt);
        // SAFETY: forwarded application pointers.
        let rc = unsafe { SQLGetDiagRecW(ht, h, 1, state, native, msg, msg_max, msg_len) };
        if rc.is_success() {
            pop_first(ht, h);
        }
        rc
    })
}
