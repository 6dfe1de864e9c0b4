//! Descriptors: SQLCopyDesc, SQLGet/SetDescField (A/W), SQLGetDescRec (A/W),
//! SQLSetDescRec. A DM descriptor handle (explicit, or the wrapper of a statement's
//! implicit descriptor) stands for one driver descriptor handle.
//!
//! Character fields count BYTES in SQLGet/SetDescField (both forms) and are converted when
//! the driver has only the other width; SQLGetDescRec's name counts characters for W.
//! While a statement the descriptor is associated with (the owner of an implicit one, or a
//! statement an explicit one is set on) runs asynchronously (S11/S12) or needs data
//! (S8–S10), the descriptor functions are HY010 (§4.7 and each function's page).

use std::sync::Arc;

use odbc_dm_abi::*;

use super::strings::{
    narrow_to_app_wide, put_len, read_app_bytes, recv_text, wide_to_app_narrow, write_app_bytes, RECV_INITIAL, TRUNCATED,
};
use super::{boundary, handle, same_signature, Call};
use crate::diag::SqlState;
use crate::handles::stmt_state::StmtState;
use crate::handles::{self, Desc, DescCore};
use crate::text;
use crate::trace_enter;

same_signature!(
    SQLCopyDesc,
    SQLGetDescField,
    SQLGetDescFieldW,
    SQLSetDescField,
    SQLSetDescFieldW,
    SQLGetDescRec,
    SQLGetDescRecW,
    SQLSetDescRec
);

/// Descriptor fields whose value is a character string.
const CHAR_FIELDS: &[DescField] = &[
    DescField::SQL_DESC_NAME,
    DescField::SQL_DESC_BASE_COLUMN_NAME,
    DescField::SQL_DESC_BASE_TABLE_NAME,
    DescField::SQL_DESC_CATALOG_NAME,
    DescField::SQL_DESC_LABEL,
    DescField::SQL_DESC_LITERAL_PREFIX,
    DescField::SQL_DESC_LITERAL_SUFFIX,
    DescField::SQL_DESC_LOCAL_TYPE_NAME,
    DescField::SQL_DESC_SCHEMA_NAME,
    DescField::SQL_DESC_TABLE_NAME,
    DescField::SQL_DESC_TYPE_NAME,
];

fn is_char_field(f: DescField) -> bool {
    CHAR_FIELDS.contains(&f)
}

/// The states of the statements the descriptor is associated with: the owner of an
/// implicit descriptor, or the statements an explicit one is set on as ARD / APD.
fn owner_states(d: &Desc) -> Vec<StmtState> {
    let state = |sid: usize| handles::tables().stmt.get(sid).map(|s| s.gate.read(|c| c.status.state));
    if let Some(sid) = d.implicit_of {
        return state(sid).into_iter().collect();
    }
    let users = d.users().stmts.clone();
    users
        .into_iter()
        .filter_map(|sid| {
            let s = handles::tables().stmt.get(sid)?;
            let (uses, st) = s.gate.read(|c| (c.explicit_desc(0) == Some(d.id) || c.explicit_desc(1) == Some(d.id), c.status.state));
            uses.then_some(st)
        })
        .collect()
}

/// HY010 when a statement the descriptor is associated with runs asynchronously (S11/S12)
/// or needs data (S8–S10): every descriptor function's page (SQLGetDescField,
/// SQLSetDescField, SQLGetDescRec, SQLSetDescRec, SQLCopyDesc: "(DM) The descriptor handle
/// was associated with a StatementHandle for which ... SQL_NEED_DATA"), §4.7. A driver is
/// never asked about a descriptor in the middle of a data-at-execution sequence
/// (libmaodbc's SQLGetDescRecW crashes there).
fn check_owner(d: &Desc) -> Result<(), (SqlState, String)> {
    for st in owner_states(d) {
        match st {
            StmtState::S11 | StmtState::S12 => {
                return Err((SqlState::FUNCTION_SEQUENCE_ERROR, "The descriptor's statement is executing asynchronously (§4.7)".into()))
            }
            StmtState::S8 | StmtState::S9 | StmtState::S10 => {
                return Err((
                    SqlState::FUNCTION_SEQUENCE_ERROR,
                    "The descriptor's statement is waiting for data-at-execution parameters (§4.7)".into(),
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

fn begin<'a>(d: &'a Desc, extra: impl FnOnce() -> Result<(), (SqlState, String)>) -> Result<Call<'a, DescCore>, SqlReturn> {
    Call::begin(&d.gate, |_| {
        check_owner(d)?;
        extra()
    })
}

fn desc_source(d: &Desc) -> Option<(&crate::handles::DriverLink, HandleType, SqlHandle)> {
    Some((&d.link, HandleType::SQL_HANDLE_DESC, d.hdesc as SqlHandle))
}

fn missing(call: Call<'_, DescCore>, name: &str) -> SqlReturn {
    call.fail(SqlState::DRIVER_LACKS_FUNCTION, format!("Driver does not support this function: {name}"))
}

// ------------------------------------------------------------------------------------
// SQLCopyDesc
// ------------------------------------------------------------------------------------

/// SQLCopyDesc: both DM handles become driver handles; the diagnostics go to the target.
/// A target that is an IRD is the driver's HY016.
pub unsafe extern "C" fn SQLCopyDesc(source: SqlHDesc, target: SqlHDesc) -> SqlReturn {
    trace_enter!("SQLCopyDesc", "{:p} {:p}", source, target);
    boundary("SQLCopyDesc", || {
        let src = handle!(desc, source);
        let tgt = handle!(desc, target);
        let call = match begin(&tgt, || check_owner(&src)) {
            Ok(c) => c,
            Err(rc) => return rc,
        };
        if !Arc::ptr_eq(&src.link.driver, &tgt.link.driver) {
            return call.fail(SqlState::NOT_IMPLEMENTED, "Copying a descriptor between connections to different drivers is not supported");
        }
        let Some(f) = tgt.link.driver.fns.SQLCopyDesc else { return missing(call, "SQLCopyDesc") };
        // The source is not this call's handle: pin it so that a concurrent SQLFreeHandle of
        // it waits until the driver has read it (a driver handle is never used while freed).
        let _pin = if Arc::ptr_eq(&src, &tgt) {
            None
        } else {
            match SourcePin::new(&src) {
                Some(p) => Some(p),
                None => return call.fail(SqlState::FUNCTION_SEQUENCE_ERROR, "The source descriptor is being freed"),
            }
        };
        // SAFETY: two live driver descriptor handles of the same driver (the source pinned).
        let rc = unsafe { f(src.hdesc as SqlHandle, tgt.hdesc as SqlHandle) };
        call.finish(rc, desc_source(&tgt), |_, _| {})
    })
}

/// A pin on SQLCopyDesc's source descriptor ([`DescUsers::pins`](crate::handles::DescUsers)).
struct SourcePin<'a>(&'a Desc);

impl<'a> SourcePin<'a> {
    /// `None` when the descriptor is being freed.
    fn new(d: &'a Desc) -> Option<Self> {
        let mut u = d.users();
        if u.freeing {
            return None;
        }
        u.pins += 1;
        Some(SourcePin(d))
    }
}

impl Drop for SourcePin<'_> {
    fn drop(&mut self) {
        self.0.users().pins -= 1;
    }
}

// ------------------------------------------------------------------------------------
// SQLGetDescField / SQLSetDescField
// ------------------------------------------------------------------------------------

/// SQLGetDescField (ANSI).
pub unsafe extern "C" fn SQLGetDescField(
    desc: SqlHDesc,
    rec: SqlSmallInt,
    field: DescField,
    value: SqlPointer,
    buf_len: SqlInteger,
    out_len: *mut SqlInteger,
) -> SqlReturn {
    trace_enter!("SQLGetDescField", "{:p} {} {:?} {:p} {}", desc, rec, field, value, buf_len);
    boundary("SQLGetDescField", || {
        let d = handle!(desc, desc);
        get_desc_field(&d, rec, field, value, buf_len, out_len, false)
    })
}

/// SQLGetDescFieldW (Unicode; lengths in bytes).
pub unsafe extern "C" fn SQLGetDescFieldW(
    desc: SqlHDesc,
    rec: SqlSmallInt,
    field: DescField,
    value: SqlPointer,
    buf_len: SqlInteger,
    out_len: *mut SqlInteger,
) -> SqlReturn {
    trace_enter!("SQLGetDescFieldW", "{:p} {} {:?} {:p} {}", desc, rec, field, value, buf_len);
    boundary("SQLGetDescFieldW", || {
        let d = handle!(desc, desc);
        get_desc_field(&d, rec, field, value, buf_len, out_len, true)
    })
}

fn get_desc_field(
    d: &Arc<Desc>,
    rec: SqlSmallInt,
    field: DescField,
    value: SqlPointer,
    buf_len: SqlInteger,
    out_len: *mut SqlInteger,
    wide: bool,
) -> SqlReturn {
    let char_field = is_char_field(field);
    let mut call = match begin(d, || {
        if char_field && buf_len < 0 {
            return Err((SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "BufferLength is negative".into()));
        }
        Ok(())
    }) {
        Ok(c) => c,
        Err(rc) => return rc,
    };
    let fns = &d.link.driver.fns;
    let h = d.hdesc as SqlHandle;
    let (same, other) = if wide { (fns.SQLGetDescFieldW, fns.SQLGetDescField) } else { (fns.SQLGetDescField, fns.SQLGetDescFieldW) };
    let rc = match (same, other) {
        (None, None) => return missing(call, "SQLGetDescField"),
        // SAFETY: live driver descriptor; the application's buffers as given.
        (Some(f), _) => unsafe { f(h, rec, field, value, buf_len, out_len) },
        // SAFETY: as above; a non-character field means the same in both widths.
        (None, Some(f)) if !char_field => unsafe { f(h, rec, field, value, buf_len, out_len) },
        (None, Some(f)) => {
            // Generous first buffer: some drivers report the truncated length, not the full one.
            let initial = (buf_len as usize + 1).max(RECV_INITIAL);
            let (rc, utf8) = if wide {
                recv_text::<u8>(d.id, initial, |p, cap| {
                    let mut n: SqlInteger = 0;
                    // SAFETY: live driver descriptor; DM buffer of `cap` bytes.
                    let rc = unsafe { f(h, rec, field, p.cast(), cap.min(i32::MAX as usize) as i32, &mut n) };
                    (rc, usize::try_from(n).ok())
                })
            } else {
                let (rc, w) = recv_text::<u16>(d.id, initial, |p, cap| {
                    let mut n: SqlInteger = 0;
                    // SAFETY: live driver descriptor; DM buffer of `cap` code units.
                    let rc = unsafe { f(h, rec, field, p.cast(), (cap * 2).min(i32::MAX as usize) as i32, &mut n) };
                    (rc, usize::try_from(n).ok().map(|b| b / 2))
                });
                (rc, text::to_narrow(&w))
            };
            if rc.is_success() {
                // SAFETY: the application's buffer of `buf_len` bytes (checked non-negative).
                let (n, trunc) = unsafe { write_app_bytes(&utf8, wide, value, buf_len as usize) };
                // SAFETY: optional application out pointer.
                unsafe { put_len(out_len, n, i32::MAX) };
                if trunc {
                    call.warn(SqlState::STRING_TRUNCATED, TRUNCATED);
                }
            }
            rc
        }
    };
    call.finish(rc, desc_source(d), |_, _| {})
}

/// SQLSetDescField (ANSI).
pub unsafe extern "C" fn SQLSetDescField(
    desc: SqlHDesc,
    rec: SqlSmallInt,
    field: DescField,
    value: SqlPointer,
    buf_len: SqlInteger,
) -> SqlReturn {
    trace_enter!("SQLSetDescField", "{:p} {} {:?} {:p} {}", desc, rec, field, value, buf_len);
    boundary("SQLSetDescField", || {
        let d = handle!(desc, desc);
        set_desc_field(&d, rec, field, value, buf_len, false)
    })
}

/// SQLSetDescFieldW (Unicode; lengths in bytes).
pub unsafe extern "C" fn SQLSetDescFieldW(
    desc: SqlHDesc,
    rec: SqlSmallInt,
    field: DescField,
    value: SqlPointer,
    buf_len: SqlInteger,
) -> SqlReturn {
    trace_enter!("SQLSetDescFieldW", "{:p} {} {:?} {:p} {}", desc, rec, field, value, buf_len);
    boundary("SQLSetDescFieldW", || {
        let d = handle!(desc, desc);
        set_desc_field(&d, rec, field, value, buf_len, true)
    })
}

fn set_desc_field(d: &Arc<Desc>, rec: SqlSmallInt, field: DescField, value: SqlPointer, buf_len: SqlInteger, wide: bool) -> SqlReturn {
    let char_field = is_char_field(field);
    let call = match begin(d, || {
        if char_field && !value.is_null() && buf_len < 0 && buf_len != SQL_NTS {
            return Err((SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "BufferLength is negative".into()));
        }
        Ok(())
    }) {
        Ok(c) => c,
        Err(rc) => return rc,
    };
    let fns = &d.link.driver.fns;
    let h = d.hdesc as SqlHandle;
    let (same, other) = if wide { (fns.SQLSetDescFieldW, fns.SQLSetDescField) } else { (fns.SQLSetDescField, fns.SQLSetDescFieldW) };
    let rc = match (same, other) {
        (None, None) => return missing(call, "SQLSetDescField"),
        // SAFETY: live driver descriptor; the application's value and length as given.
        (Some(f), _) => unsafe { f(h, rec, field, value, buf_len) },
        // SAFETY: as above; a non-character field means the same in both widths.
        (None, Some(f)) if !char_field || value.is_null() => unsafe { f(h, rec, field, value, buf_len) },
        (None, Some(f)) => {
            // SAFETY: the application's string with its byte length (checked above).
            let utf8 = match unsafe { read_app_bytes(value, buf_len as isize, wide) } {
                Ok(t) => t.unwrap_or_default(),
                Err(_) => return call.fail(SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "Invalid string or buffer length"),
            };
            if wide {
                // Narrow driver.
                let mut n = utf8.clone();
                let len = n.len() as i32;
                n.push(0);
                // SAFETY: live driver descriptor; `n` outlives the call; length in bytes.
                unsafe { f(h, rec, field, n.as_mut_ptr().cast(), len) }
            } else {
                // Wide driver.
                let mut w = text::to_wide(&utf8);
                let len = (w.len() * 2) as i32;
                w.push(0);
                // SAFETY: live driver descriptor; `w` outlives the call; length in bytes.
                unsafe { f(h, rec, field, w.as_mut_ptr().cast(), len) }
            }
        }
    };
    call.finish(rc, desc_source(d), |_, _| {})
}

// ------------------------------------------------------------------------------------
// SQLGetDescRec / SQLSetDescRec
// ------------------------------------------------------------------------------------

/// SQLGetDescRec (ANSI; name length in bytes).
pub unsafe extern "C" fn SQLGetDescRec(
    desc: SqlHDesc,
    rec: SqlSmallInt,
    name: *mut SqlChar,
    name_max: SqlSmallInt,
    name_len: *mut SqlSmallInt,
    kind: *mut SqlSmallInt,
    sub_type: *mut SqlSmallInt,
    length: *mut SqlLen,
    precision: *mut SqlSmallInt,
    scale: *mut SqlSmallInt,
    nullable: *mut Nullability,
) -> SqlReturn {
    trace_enter!("SQLGetDescRec", "{:p} {} {:p} {}", desc, rec, name, name_max);
    boundary("SQLGetDescRec", || {
        let d = handle!(desc, desc);
        let mut call = match begin(&d, || {
            if name_max < 0 {
                Err((SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "BufferLength is negative".into()))
            } else {
                Ok(())
            }
        }) {
            Ok(c) => c,
            Err(rc) => return rc,
        };
        let fns = &d.link.driver.fns;
        let h = d.hdesc as SqlHandle;
        let rc = if let Some(f) = fns.SQLGetDescRec {
            // SAFETY: live driver descriptor; the application's buffers as given.
            unsafe { f(h, rec, name, name_max, name_len, kind, sub_type, length, precision, scale, nullable) }
        } else if let Some(f) = fns.SQLGetDescRecW {
            let (rc, w) = recv_text::<u16>(d.id, (name_max as usize + 1).max(RECV_INITIAL), |p, cap| {
                let mut n: SqlSmallInt = 0;
                // SAFETY: live driver descriptor; DM buffer of `cap` code units; the
                // application's other out pointers as given.
                let rc =
                    unsafe { f(h, rec, p, cap.min(i16::MAX as usize) as i16, &mut n, kind, sub_type, length, precision, scale, nullable) };
                (rc, usize::try_from(n).ok())
            });
            if rc.is_success() {
                // SAFETY: the application's buffer of `name_max` bytes (checked non-negative).
                let (n, trunc) = unsafe { wide_to_app_narrow(&w, name, name_max as usize) };
                // SAFETY: optional application out pointer.
                unsafe { put_len(name_len, n, i16::MAX) };
                if trunc {
                    call.warn(SqlState::STRING_TRUNCATED, TRUNCATED);
                }
            }
            rc
        } else {
            return missing(call, "SQLGetDescRec");
        };
        call.finish(rc, desc_source(&d), |_, _| {})
    })
}

/// SQLGetDescRecW (Unicode; name length in characters).
pub unsafe extern "C" fn SQLGetDescRecW(
    desc: SqlHDesc,
    rec: SqlSmallInt,
    name: *mut SqlWChar,
    name_max: SqlSmallInt,
    name_len: *mut SqlSmallInt,
    kind: *mut SqlSmallInt,
    sub_type: *mut SqlSmallInt,
    length: *mut SqlLen,
    precision: *mut SqlSmallInt,
    scale: *mut SqlSmallInt,
    nullable: *mut Nullability,
) -> SqlReturn {
    trace_enter!("SQLGetDescRecW", "{:p} {} {:p} {}", desc, rec, name, name_max);
    boundary("SQLGetDescRecW", || {
        let d = handle!(desc, desc);
        let mut call = match begin(&d, || {
            if name_max < 0 {
                Err((SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "BufferLength is negative".into()))
            } else {
                Ok(())
            }
        }) {
            Ok(c) => c,
            Err(rc) => return rc,
        };
        let fns = &d.link.driver.fns;
        let h = d.hdesc as SqlHandle;
        let rc = if let Some(f) = fns.SQLGetDescRecW {
            // SAFETY: live driver descriptor; the application's buffers as given.
            unsafe { f(h, rec, name, name_max, name_len, kind, sub_type, length, precision, scale, nullable) }
        } else if let Some(f) = fns.SQLGetDescRec {
            let (rc, b) = recv_text::<u8>(d.id, (name_max as usize * 4 + 1).max(RECV_INITIAL), |p, cap| {
                let mut n: SqlSmallInt = 0;
                // SAFETY: live driver descriptor; DM buffer of `cap` bytes; the
                // application's other out pointers as given.
                let rc =
                    unsafe { f(h, rec, p, cap.min(i16::MAX as usize) as i16, &mut n, kind, sub_type, length, precision, scale, nullable) };
                (rc, usize::try_from(n).ok())
            });
            if rc.is_success() {
                // SAFETY: the application's buffer of `name_max` characters (checked non-negative).
                let (n, trunc) = unsafe { narrow_to_app_wide(&b, name, name_max as usize) };
                // SAFETY: optional application out pointer.
                unsafe { put_len(name_len, n, i16::MAX) };
                if trunc {
                    call.warn(SqlState::STRING_TRUNCATED, TRUNCATED);
                }
            }
            rc
        } else {
            return missing(call, "SQLGetDescRecW");
        };
        call.finish(rc, desc_source(&d), |_, _| {})
    })
}

/// SQLSetDescRec (no character arguments: one form).
pub unsafe extern "C" fn SQLSetDescRec(
    desc: SqlHDesc,
    rec: SqlSmallInt,
    kind: SqlSmallInt,
    sub_type: SqlSmallInt,
    length: SqlLen,
    precision: SqlSmallInt,
    scale: SqlSmallInt,
    data: SqlPointer,
    string_len: *mut SqlLen,
    ind: *mut SqlLen,
) -> SqlReturn {
    trace_enter!("SQLSetDescRec", "{:p} {} {} {} {}", desc, rec, kind, sub_type, length);
    boundary("SQLSetDescRec", || {
        let d = handle!(desc, desc);
        let call = match begin(&d, || Ok(())) {
            Ok(c) => c,
            Err(rc) => return rc,
        };
        let Some(f) = d.link.driver.fns.SQLSetDescRec else { return missing(call, "SQLSetDescRec") };
        // SAFETY: live driver descriptor; the application's pointers as given (deferred).
        let rc = unsafe { f(d.hdesc as SqlHandle, rec, kind, sub_type, length, precision, scale, data, string_len, ind) };
        call.finish(rc, desc_source(&d), |_, _| {})
    })
}
