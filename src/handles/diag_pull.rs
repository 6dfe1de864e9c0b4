//! Copies a driver's diagnostic records into the DM's area right after the call that
//! produced them, so merging, ordering, A↔W conversion and notification-mode completion
//! all read one list. Lengths the driver reports are never trusted beyond its buffer.

use odbc_dm_abi::{DiagField, HandleType, SqlHandle, SqlReturn};

use super::DriverLink;
use crate::diag::{DiagRecord, Origin, SqlState};
use crate::diag::{COLUMN_NUMBER_UNKNOWN, NO_COLUMN_NUMBER, NO_ROW_NUMBER, ROW_NUMBER_UNKNOWN};
use crate::text;

/// At most this many records are copied from one call.
const MAX_RECORDS: i16 = 512;

/// Reads every diagnostic record of the driver handle `h`.
pub(crate) fn pull_driver_diags(link: &DriverLink, ht: HandleType, h: SqlHandle) -> Vec<DiagRecord> {
    let mut out = Vec::new();
    let fns = &link.driver.fns;
    for rec in 1..=MAX_RECORDS {
        let got = if let Some(f) = fns.SQLGetDiagRecW {
            let mut state = [0u16; 6];
            let mut native = 0i32;
            let mut buf = vec![0u16; 1024];
            let mut len: i16 = 0;
            // SAFETY: every out pointer is valid for the sizes passed; `h` is a live driver
            // handle owned by the caller's DM handle.
            let rc = unsafe { f(ht, h, rec, state.as_mut_ptr(), &mut native, buf.as_mut_ptr(), buf.len() as i16, &mut len) };
            if !rc.is_success() {
                None
            } else {
                if len as usize >= buf.len() && len > 0 {
                    buf = vec![0u16; len as usize + 1];
                    // SAFETY: as above, with the larger buffer.
                    let rc2 = unsafe { f(ht, h, rec, state.as_mut_ptr(), &mut native, buf.as_mut_ptr(), buf.len() as i16, &mut len) };
                    if !rc2.is_success() {
                        buf.fill(0);
                    }
                }
                let st = text::to_narrow(text::wide_from_buf(&state));
                let msg = text::to_narrow(text::wide_from_buf(&buf));
                Some((st, native, msg))
            }
        } else if let Some(f) = fns.SQLGetDiagRec {
            let mut state = [0u8; 6];
            let mut native = 0i32;
            let mut buf = vec![0u8; 2048];
            let mut len: i16 = 0;
            // SAFETY: as above, narrow buffers.
            let rc = unsafe { f(ht, h, rec, state.as_mut_ptr(), &mut native, buf.as_mut_ptr(), buf.len() as i16, &mut len) };
            if !rc.is_success() {
                None
            } else {
                if len as usize >= buf.len() && len > 0 {
                    buf = vec![0u8; len as usize + 1];
                    // SAFETY: as above, with the larger buffer.
                    let rc2 = unsafe { f(ht, h, rec, state.as_mut_ptr(), &mut native, buf.as_mut_ptr(), buf.len() as i16, &mut len) };
                    if !rc2.is_success() {
                        buf.fill(0);
                    }
                }
                Some((text::narrow_from_buf(&state).to_vec(), native, text::narrow_from_buf(&buf).to_vec()))
            }
        } else if rec == 1 {
            pull_with_sqlerror(link, ht, h, &mut out);
            return out;
        } else {
            None
        };
        let Some((state, native, msg)) = got else { break };
        let (row_number, column_number) = row_and_column(link, ht, h, rec);
        out.push(DiagRecord {
            state: SqlState::from_bytes(&state),
            native,
            message: String::from_utf8_lossy(&msg).into_owned(),
            origin: Origin::Driver,
            row_number,
            column_number,
        });
    }
    out
}

/// SQL_DIAG_ROW_NUMBER and SQL_DIAG_COLUMN_NUMBER of the driver's record `rec`, as the
/// driver reports them (which row of an array of parameters or of a rowset, which column,
/// failed: what array-binding applications read). Defined for statement handles only;
/// elsewhere SQL_NO_ROW_NUMBER / SQL_NO_COLUMN_NUMBER. A driver that cannot answer gives
/// SQL_ROW_NUMBER_UNKNOWN / SQL_COLUMN_NUMBER_UNKNOWN.
fn row_and_column(link: &DriverLink, ht: HandleType, h: SqlHandle, rec: i16) -> (isize, i32) {
    if ht != HandleType::SQL_HANDLE_STMT {
        return (NO_ROW_NUMBER, NO_COLUMN_NUMBER);
    }
    let fns = &link.driver.fns;
    let Some(f) = fns.SQLGetDiagFieldW.or(fns.SQLGetDiagField) else {
        return (ROW_NUMBER_UNKNOWN, COLUMN_NUMBER_UNKNOWN);
    };
    let mut row: isize = 0;
    let mut col: i32 = COLUMN_NUMBER_UNKNOWN;
    let mut len: i16 = 0;
    // SAFETY: live driver statement handle (the caller's); integer fields written into
    // buffers of their types (SQLLEN, SQLINTEGER); BufferLength is ignored for them.
    let (r1, r2) = unsafe {
        (
            f(ht, h, rec, DiagField::SQL_DIAG_ROW_NUMBER, (&mut row as *mut isize).cast(), 0, &mut len),
            f(ht, h, rec, DiagField::SQL_DIAG_COLUMN_NUMBER, (&mut col as *mut i32).cast(), 0, &mut len),
        )
    };
    let row = if !r1.is_success() {
        ROW_NUMBER_UNKNOWN
    } else if row > i32::MAX as isize && row <= u32::MAX as isize {
        // A driver that wrote a 4-byte SQLLEN (decision #124): its value, sign-extended.
        row as u32 as i32 as isize
    } else {
        row
    };
    (row, if r2.is_success() { col } else { COLUMN_NUMBER_UNKNOWN })
}

/// ODBC 2.x drivers without SQLGetDiagRec: drain SQLError, or SQLErrorW when the driver
/// is a Unicode ODBC 2 driver (mdbtools' libmdbodbcW: its SQLError is not in the table
/// the DM calls through, see `DriverFns::prefer_wide`).
fn pull_with_sqlerror(link: &DriverLink, ht: HandleType, h: SqlHandle, out: &mut Vec<DiagRecord>) {
    let Some(f) = link.driver.fns.SQLError else {
        pull_with_sqlerror_w(link, ht, h, out);
        return;
    };
    let null = std::ptr::null_mut();
    let (e, d, s) = match ht {
        HandleType::SQL_HANDLE_ENV => (h, null, null),
        HandleType::SQL_HANDLE_DBC => (null, h, null),
        _ => (null, null, h),
    };
    for _ in 0..MAX_RECORDS {
        let mut state = [0u8; 6];
        let mut native = 0i32;
        let mut buf = vec![0u8; 2048];
        let mut len: i16 = 0;
        // SAFETY: valid out buffers; exactly one handle is non-null as SQLError requires.
        let rc = unsafe { f(e, d, s, state.as_mut_ptr(), &mut native, buf.as_mut_ptr(), buf.len() as i16, &mut len) };
        if rc != SqlReturn::SQL_SUCCESS && rc != SqlReturn::SQL_SUCCESS_WITH_INFO {
            break;
        }
        out.push(DiagRecord {
            state: SqlState::from_bytes(text::narrow_from_buf(&state)),
            native,
            message: String::from_utf8_lossy(text::narrow_from_buf(&buf)).into_owned(),
            origin: Origin::Driver,
            row_number: ROW_NUMBER_UNKNOWN,
            column_number: COLUMN_NUMBER_UNKNOWN,
        });
    }
}

/// [`pull_with_sqlerror`] through SQLErrorW: the state and message converted from UTF-16.
fn pull_with_sqlerror_w(link: &DriverLink, ht: HandleType, h: SqlHandle, out: &mut Vec<DiagRecord>) {
    let Some(f) = link.driver.fns.SQLErrorW else { return };
    let null = std::ptr::null_mut();
    let (e, d, s) = match ht {
        HandleType::SQL_HANDLE_ENV => (h, null, null),
        HandleType::SQL_HANDLE_DBC => (null, h, null),
        _ => (null, null, h),
    };
    for _ in 0..MAX_RECORDS {
        let mut state = [0u16; 6];
        let mut native = 0i32;
        let mut buf = vec![0u16; 2048];
        let mut len: i16 = 0;
        // SAFETY: valid out buffers (the message buffer's length in characters); exactly
        // one handle is non-null as SQLErrorW requires.
        let rc = unsafe { f(e, d, s, state.as_mut_ptr(), &mut native, buf.as_mut_ptr(), buf.len() as i16, &mut len) };
        if rc != SqlReturn::SQL_SUCCESS && rc != SqlReturn::SQL_SUCCESS_WITH_INFO {
            break;
        }
        let state: Vec<u8> = text::wide_from_buf(&state).iter().map(|&u| u8::try_from(u).unwrap_or(b'?')).collect();
        out.push(DiagRecord {
            state: SqlState::from_bytes(&state),
            native,
            message: String::from_utf16_lossy(text::wide_from_buf(&buf)),
            origin: Origin::Driver,
            row_number: ROW_NUMBER_UNKNOWN,
            column_number: COLUMN_NUMBER_UNKNOWN,
        });
    }
}
