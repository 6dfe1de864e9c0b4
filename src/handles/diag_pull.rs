//! Copies a driver's diagnostic records into the DM's area right after the call that
//! produced them, so merging, ordering, A↔W conversion and notification-mode completion
//! all read one list. Lengths the driver reports are never trusted beyond its buffer.

use odbc_dm_abi::{HandleType, SqlHandle, SqlReturn};

use super::DriverLink;
use crate::diag::{DiagRecord, Origin, SqlState};
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
        out.push(DiagRecord {
            state: SqlState::from_bytes(&state),
            native,
            message: String::from_utf8_lossy(&msg).into_owned(),
            origin: Origin::Driver,
            row_number: -1,
            column_number: -1,
        });
    }
    out
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
            row_number: -1,
            column_number: -1,
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
            row_number: -1,
            column_number: -1,
        });
    }
}
