//! SQL_C_WCHAR conversion for ANSI-only drivers (issue 11 item 3; docs/decisions.md
//! #77–#80). A driver without the Unicode API ([`driver_is_ansi_only`]) gets, in place of
//! each SQL_C_WCHAR binding, a SQL_C_CHAR binding of a DM buffer; the DM converts between
//! the application's UTF-16 and the driver's UTF-8:
//!
//! - parameters: at SQLExecute/SQLExecDirect time (the application may change a bound
//!   value until then), output values after the execution;
//! - bound columns: after SQLFetch/SQLFetchScroll/SQLExtendedFetch, row by row of the
//!   rowset (column-wise binding; other layouts fall back to passing the binding through);
//! - SQLGetData: the whole value is read from the driver on the first call and returned in
//!   parts of BufferLength/2 − 1 code units (a surrogate pair on the boundary is split
//!   across two parts, decision #140);
//! - SQLPutData: each part converted as it comes, a trailing odd byte or high surrogate
//!   kept for the next part (decision #141).
//!
//! Lengths are in bytes of UTF-16; truncation is 01004. The state lives in
//! `Stmt::wchar`, locked only around conversions, never across a driver call.
//!
//! [`driver_is_ansi_only`]: crate::handles::wchar::driver_is_ansi_only

use std::sync::Arc;

use odbc_dm_abi::*;

use crate::diag::{DiagRecord, SqlState};
use crate::handles::wchar::{ColBinding, ColConv, GetConv, ParamConv, WcharState, NARROW};
use crate::handles::Stmt;

use super::strings::TRUNCATED;
use super::{AppPtr, StmtCall};

/// Marks a DM indicator the driver did not write (a row past the end of the rowset). Both
/// halves carry the mark, so an indicator written as 32 bits (an SQLINTEGER, as by drivers
/// built before SQLLEN was 64-bit: mdbtools) is recognised: see [`dm_indicator`].
const UNWRITTEN: SqlLen = 0x8000_5743_8000_5743_u64 as SqlLen;

/// The driver's indicator in a DM indicator slot (one that started as [`UNWRITTEN`] or as
/// a length or 0): `None` when the driver did not write it; the low half, sign-extended,
/// when the high half is [`UNWRITTEN`]'s mark or zero, i.e. when only the low 32 bits may
/// have been written (SQL_NULL_DATA written as 32 bits over a 0 reads 4,294,967,295
/// otherwise). No value a driver can put in a DM slot needs the high half: the DM's
/// buffers are below 1 GiB (`MAX_CAP`), and the special values are small negatives
/// (decision #124).
fn dm_indicator(v: SqlLen) -> Option<SqlLen> {
    let hi = v as u64 >> 32;
    if v == UNWRITTEN {
        None
    } else if hi == UNWRITTEN as u64 >> 32 || hi == 0 {
        Some(v as i32 as SqlLen)
    } else {
        Some(v)
    }
}

/// Upper bound of one DM row buffer (bytes).
const MAX_CAP: usize = 1 << 30;

fn lock(s: &Stmt) -> std::sync::MutexGuard<'_, WcharState> {
    s.wchar.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner())
}

/// The DM buffer size (bytes per row) for an application buffer of `app_len` bytes of
/// UTF-16: 4 UTF-8 bytes per code unit, so that every value the application buffer can
/// hold, and then some, arrives whole (and its length exact).
fn narrow_cap(app_len: SqlLen) -> usize {
    let units = usize::try_from(app_len).unwrap_or(0) / 2;
    units.saturating_mul(4).saturating_add(4).clamp(64, MAX_CAP)
}

/// The narrow SQL type the DM declares to an ANSI driver for a wide one.
fn narrow_sql_type(t: SqlDataType) -> SqlDataType {
    match t {
        SqlDataType::SQL_WCHAR => SqlDataType::SQL_CHAR,
        SqlDataType::SQL_WVARCHAR => SqlDataType::SQL_VARCHAR,
        SqlDataType::SQL_WLONGVARCHAR => SqlDataType::SQL_LONGVARCHAR,
        t => t,
    }
}

/// An integer (or pointer) statement attribute as the driver has it; `dflt` when the
/// driver cannot say.
fn driver_attr(s: &Stmt, attr: StmtAttr, dflt: usize) -> usize {
    super::concurrency::driver_stmt_attr(&s.link, s.driver_handle(), attr).unwrap_or(dflt)
}

/// The value at a SQL_ATTR_*_BIND_OFFSET_PTR (0 when unset).
fn bind_offset(s: &Stmt, attr: StmtAttr) -> SqlLen {
    let p = driver_attr(s, attr, 0);
    if p == 0 {
        return 0;
    }
    // SAFETY: the application set this pointer as the attribute and keeps it valid while
    // it is set (ODBC); read unaligned to be safe.
    unsafe { std::ptr::read_unaligned(p as *const SqlLen) }
}

/// The longest prefix of `b` that does not end inside a UTF-8 sequence (a driver cut the
/// value at its buffer's end).
fn complete_utf8(b: &[u8]) -> &[u8] {
    match std::str::from_utf8(b) {
        Err(e) if e.error_len().is_none() => &b[..e.valid_up_to()],
        _ => b,
    }
}

/// Writes `w` whole, or its first `cap_units - 1` code units (room for the NUL), into an
/// application buffer of `cap_units` code units. A cut falls exactly there, even between
/// the two halves of a surrogate pair: SQLGetData's truncated part fills the buffer but for
/// the NUL (BufferLength rounded down to whole characters), and applications rely on it
/// (pyodbc takes BufferLength/2 − 1 units of a truncated part without looking for the
/// NUL); in UTF-16 the parts concatenate to the value (decision #140). Byte-wise: a
/// column-wise array of odd-length elements is not 2-aligned. Returns the units written.
///
/// # Safety
/// `app` must be null or valid for `cap_units * 2` bytes.
unsafe fn write_app_wide(w: &[u16], app: *mut u8, cap_units: usize) -> usize {
    if app.is_null() || cap_units == 0 {
        return 0;
    }
    let n = w.len().min(cap_units - 1);
    // SAFETY: n + 1 <= cap_units code units are writable, per the caller.
    unsafe {
        std::ptr::copy_nonoverlapping(w.as_ptr().cast::<u8>(), app, n * 2);
        std::ptr::write_bytes(app.add(n * 2), 0, 2);
    }
    n
}

/// Writes an indicator (unaligned; null: nothing).
///
/// # Safety
/// `p` must be null or valid for a SQLLEN.
unsafe fn put_ind(p: *mut SqlLen, v: SqlLen) {
    if !p.is_null() {
        // SAFETY: per the caller.
        unsafe { std::ptr::write_unaligned(p, v) };
    }
}

/// Converts one driver value (DM buffer `dm` of `dm.len()` bytes, DM indicator `dm_ind`)
/// into the application's wide buffer and indicator. Returns whether it was truncated.
///
/// # Safety
/// `app` null or valid for `app_len` bytes; `app_ind` null or valid for a SQLLEN.
unsafe fn put_wide(dm: &[u8], dm_ind: SqlLen, app: *mut u8, app_len: SqlLen, app_ind: *mut SqlLen) -> bool {
    if dm_ind == SQL_NULL_DATA {
        // SAFETY: per the caller.
        unsafe { put_ind(app_ind, SQL_NULL_DATA) };
        return false;
    }
    let avail = dm.len().saturating_sub(1);
    let cut = dm_ind < 0 || dm_ind as usize > avail;
    let bytes = if cut { complete_utf8(&dm[..avail]) } else { &dm[..dm_ind as usize] };
    let w = crate::text::to_wide(bytes);
    let units = usize::try_from(app_len).unwrap_or(0) / 2;
    // SAFETY: per the caller.
    let n = unsafe { write_app_wide(&w, app, units) };
    // SAFETY: per the caller.
    unsafe { put_ind(app_ind, if cut { SQL_NO_TOTAL } else { (w.len() * 2) as SqlLen }) };
    cut || n < w.len()
}

fn truncated() -> DiagRecord {
    DiagRecord::dm(SqlState::STRING_TRUNCATED, TRUNCATED)
}

// ---------------------------------------------------------------------------------------
// Bound columns.
// ---------------------------------------------------------------------------------------

/// SQLBindCol on an ANSI-only driver: a SQL_C_WCHAR binding becomes a SQL_C_CHAR binding
/// of a DM buffer; any other binding (or unbinding) of the column ends its conversion.
/// Returns the driver's return code; sets the statement's lane flag.
pub(super) fn bind_col(
    call: &StmtCall<'_>,
    s: &Stmt,
    f: fns::SQLBindCol,
    col: u16,
    target_type: CDataType,
    target: SqlPointer,
    buf_len: SqlLen,
    ind: *mut SqlLen,
) -> SqlReturn {
    let rc = if target_type == CDataType::SQL_C_WCHAR && !target.is_null() && !lock(s).driver_row_offset {
        let cap = narrow_cap(buf_len);
        let mut c = ColConv {
            col,
            app_target: target as usize,
            app_len: buf_len,
            app_ind: ind as usize,
            cap,
            rows: 1,
            stride: 0,
            buf: vec![0; cap],
            ind: vec![UNWRITTEN; 1],
        };
        // SAFETY: live driver statement; the DM's buffers, which live in `Stmt::wchar`
        // while bound (heap memory: moving the `ColConv` does not move them).
        let rc = unsafe { f(s.driver_handle(), col, NARROW, c.buf.as_mut_ptr().cast(), cap as SqlLen, c.ind.as_mut_ptr()) };
        if rc.is_success() {
            let mut st = lock(s);
            st.cols.retain(|x| x.col != col);
            st.col_bindings.retain(|x| x.col != col);
            st.cols.push(c);
        }
        rc
    } else {
        // SAFETY: live driver statement; the application's buffers as given.
        let rc = unsafe { f(s.driver_handle(), col, target_type, target, buf_len, ind) };
        if rc.is_success() {
            let mut st = lock(s);
            st.cols.retain(|x| x.col != col);
            st.col_bindings.retain(|x| x.col != col);
            if !target.is_null() || !ind.is_null() {
                // Kept for the row bind offset the DM applies (decision #149).
                st.col_bindings.push(ColBinding {
                    col,
                    c_type: target_type,
                    target: target as usize,
                    buf_len,
                    ind: ind as usize,
                    applied: 0,
                });
            }
        }
        rc
    };
    let active = lock(s).lane_blocking();
    call.core(|c| c.wchar_active = active);
    rc
}

/// Before a fetch: forgets a partly returned SQLGetData value, and fits the DM's column
/// buffers to the rowset as the driver will fill it: SQL_ATTR_ROW_ARRAY_SIZE may have grown
/// since SQLBindCol, and with row-wise binding (SQL_ATTR_ROW_BIND_TYPE = the application's
/// row size) the driver steps through the DM's buffers by that row size too, so each row
/// of a DM buffer is at most that long (decision #78). A bind offset
/// (SQL_ATTR_ROW_BIND_OFFSET_PTR), which the driver would add to the DM's addresses, gives
/// the application's bindings back to the driver unconverted. Returns whether conversions
/// remain (the fetch must run [`after_fetch`]); sets the lane flag.
pub(super) fn before_fetch(call: &StmtCall<'_>, s: &Stmt) -> bool {
    lock(s).get = None;
    // The application's row bind offset, which the DM keeps (decision #149): the bindings
    // it does not convert move with it; its own buffers for the converted ones do not.
    let row_offset = apply_row_offset(s);
    let mut cols = {
        let mut st = lock(s);
        st.row_offset = row_offset;
        std::mem::take(&mut st.cols)
    };
    if cols.is_empty() {
        let active = lock(s).lane_blocking();
        call.core(|c| c.wchar_active = active);
        return false;
    }
    let Some(bind) = s.link.driver.fns.SQLBindCol else {
        lock(s).cols = cols;
        return true;
    };
    let h = s.driver_handle();
    // SQLExtendedFetch fills SQL_ROWSET_SIZE rows, the others SQL_ATTR_ROW_ARRAY_SIZE:
    // the DM's buffers hold the larger.
    // For an ODBC 2 driver SQL_ATTR_ROW_ARRAY_SIZE is the DM's (decision #115), and its
    // SQLExtendedFetch fills SQL_ROWSET_SIZE rows (decision #123).
    let odbc2 = s.link.driver.fns.SQLFetchScroll.is_none() && s.link.driver.fns.SQLExtendedFetch.is_some();
    let rows = driver_attr(s, StmtAttr::SQL_ATTR_ROW_ARRAY_SIZE, 1)
        .max(driver_attr(s, StmtAttr::SQL_ROWSET_SIZE, 1))
        .max(if odbc2 { super::results::odbc2_rowset_size(s) } else { 1 })
        .max(1);
    let stride = if rows > 1 { driver_attr(s, StmtAttr::SQL_ATTR_ROW_BIND_TYPE, 0) } else { 0 };
    // A bind offset the driver holds itself (set through the ARD's SQL_DESC_BIND_OFFSET_PTR,
    // which the DM does not see) would be added to the DM's addresses.
    let offset = bind_offset(s, StmtAttr::SQL_ATTR_ROW_BIND_OFFSET_PTR) != 0;
    let unconvert = |c: &ColConv| give_back(bind, h, c);
    cols.retain_mut(|c| {
        if offset {
            log::warn!("SQL_C_WCHAR column {} with a bind offset: passed to the ANSI driver unconverted (decision #78)", c.col);
            unconvert(c);
            return false;
        }
        if c.rows < rows || c.stride != stride {
            let cap = if stride > 0 { narrow_cap(c.app_len).min(stride) } else { narrow_cap(c.app_len) };
            let total = if stride > 0 { stride.checked_mul(rows) } else { cap.checked_mul(rows) };
            let Some(total) = total.filter(|&t| t <= MAX_CAP) else {
                unconvert(c);
                return false;
            };
            let mut buf = vec![0u8; total];
            let mut ind = vec![UNWRITTEN; if stride > 0 { total / std::mem::size_of::<SqlLen>() + 1 } else { rows }];
            // SAFETY: live driver statement; the new DM buffers (kept in the state).
            let rc = unsafe { bind(h, c.col, NARROW, buf.as_mut_ptr().cast(), cap as SqlLen, ind.as_mut_ptr()) };
            if !rc.is_success() {
                unconvert(c);
                return false;
            }
            (c.buf, c.ind, c.rows, c.stride, c.cap) = (buf, ind, rows, stride, cap);
        }
        for r in 0..c.rows {
            // SAFETY: row r's indicator lies inside `c.ind` (see `dm_ind_ptr`).
            unsafe { std::ptr::write_unaligned(dm_ind_ptr(c, r), UNWRITTEN) };
        }
        true
    });
    let converting = !cols.is_empty();
    let active = {
        let mut st = lock(s);
        st.cols = cols;
        st.lane_blocking()
    };
    call.core(|c| c.wchar_active = active);
    converting
}

/// Row `r`'s indicator in a column's DM indicator area: element r (column-wise), or the
/// byte offset r × row size (row-wise; the area is sized for it).
fn dm_ind_ptr(c: &mut ColConv, r: usize) -> *mut SqlLen {
    if c.stride == 0 {
        c.ind[..].as_mut_ptr().wrapping_add(r)
    } else {
        c.ind.as_mut_ptr().cast::<u8>().wrapping_add(r * c.stride).cast()
    }
}

/// After a successful fetch: converts every row the driver wrote into the application's
/// buffers (01004 when one was cut).
pub(super) fn after_fetch(s: &Stmt, extra: &mut Vec<DiagRecord>) {
    let mut st = lock(s);
    let mut cut = false;
    let off = st.row_offset;
    for c in st.cols.iter_mut() {
        // Column-wise: element r at r × BufferLength; row-wise: r × the row size.
        let step = if c.stride == 0 { c.app_len.max(0) as usize } else { c.stride };
        let ind_step = if c.stride == 0 { std::mem::size_of::<SqlLen>() } else { c.stride };
        for r in 0..c.rows {
            // SAFETY: row r's indicator lies inside `c.ind`.
            let Some(dm_ind) = dm_indicator(unsafe { std::ptr::read_unaligned(dm_ind_ptr(c, r)) }) else {
                continue;
            };
            let at = if c.stride == 0 { r * c.cap } else { r * c.stride };
            let dm = &c.buf[at..at + c.cap];
            // The application's addresses moved by its row bind offset (decision #149).
            let app = if c.app_target == 0 { std::ptr::null_mut() } else { (shifted(c.app_target, off) as *mut u8).wrapping_add(r * step) };
            let app_ind =
                if c.app_ind == 0 { std::ptr::null_mut() } else { (shifted(c.app_ind, off) as *mut u8).wrapping_add(r * ind_step).cast() };
            // SAFETY: the application bound these buffers, at its row bind offset, for a
            // rowset of at least `r + 1` rows in this layout, valid while bound.
            cut |= unsafe { put_wide(dm, dm_ind, app, c.app_len, app_ind) };
        }
    }
    if cut {
        extra.push(truncated());
    }
}

// ---------------------------------------------------------------------------------------
// SQLGetData.
// ---------------------------------------------------------------------------------------

/// Forgets a value being returned in parts (new result, cursor closed, another column).
pub(super) fn forget_get(s: &Stmt) {
    if s.ansi_wchar {
        lock(s).get = None;
    }
}

/// Returns the next part of `g` into the application's buffer: BufferLength/2 − 1 code
/// units while more remains (decision #140), so every call with BufferLength ≥ 4
/// progresses; BufferLength 2 or 3 (room for the NUL only) is 01004 with the whole
/// remaining length and no progress, as SQLGetData says. `None`: everything was returned
/// before (SQL_NO_DATA).
///
/// # Safety
/// `target` null or valid for `buf_len` bytes; `ind` null or valid for a SQLLEN.
unsafe fn serve(g: &mut GetConv, target: *mut u8, buf_len: SqlLen, ind: *mut SqlLen) -> Option<bool> {
    if g.finished {
        return None;
    }
    let Some(w) = &g.data else {
        // SAFETY: per the caller.
        unsafe { put_ind(ind, SQL_NULL_DATA) };
        g.finished = true;
        return Some(false);
    };
    let rem = &w[g.pos..];
    let units = usize::try_from(buf_len).unwrap_or(0) / 2;
    // SAFETY: per the caller.
    unsafe { put_ind(ind, (rem.len() * 2) as SqlLen) };
    if target.is_null() || units == 0 {
        // A length probe: nothing returned yet.
        return Some(!rem.is_empty());
    }
    // SAFETY: per the caller.
    let n = unsafe { write_app_wide(rem, target, units) };
    g.pos += n;
    g.finished = g.pos == w.len();
    Some(!g.finished)
}

/// SQLGetData(SQL_C_WCHAR) on an ANSI-only driver: the first call for a column reads the
/// whole value as SQL_C_CHAR (in 4 KiB parts), every call returns the next part.
pub(super) fn get_data(call: StmtCall<'_>, s: &Arc<Stmt>, col: u16, target: SqlPointer, buf_len: SqlLen, ind: *mut SqlLen) -> SqlReturn {
    let pending = lock(s).get.take().filter(|g| g.col == col);
    let mut call = call;
    if let Some(mut g) = pending {
        // SAFETY: the application's buffers, valid for this call.
        let r = unsafe { serve(&mut g, target.cast(), buf_len, ind) };
        if !g.finished {
            lock(s).get = Some(g);
        }
        return match r {
            None => call.finish(SqlReturn::SQL_NO_DATA),
            Some(cut) => {
                if cut {
                    call.warn(SqlState::STRING_TRUNCATED, TRUNCATED);
                }
                call.finish(SqlReturn::SQL_SUCCESS)
            }
        };
    }
    let Some(f) = s.link.driver.fns.SQLGetData else { return call.missing("SQLGetData") };
    // Lanes off until the next fetch (which forgets the value).
    call.core(|c| c.wchar_active = true);
    let st = s.clone();
    let h = s.hstmt;
    let (target, ind) = (AppPtr::new(target.cast::<u8>()), AppPtr::new(ind));
    let mut acc: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 4096];
    call.invoke(move |extra| {
        let mut null = false;
        loop {
            let mut l: SqlLen = 0;
            // SAFETY: live driver statement (the DM statement outlives the operation); the
            // DM's chunk buffer owned by this closure.
            let rc = unsafe { f(h as SqlHStmt, col, NARROW, chunk.as_mut_ptr().cast(), chunk.len() as SqlLen, &mut l) };
            let l = dm_indicator(l).unwrap_or(0);
            match rc {
                SqlReturn::SQL_SUCCESS | SqlReturn::SQL_SUCCESS_WITH_INFO => {
                    if l == SQL_NULL_DATA {
                        null = true;
                        break;
                    }
                    let avail = chunk.len() - 1;
                    let more = l == SQL_NO_TOTAL || l < 0 || l as usize > avail;
                    acc.extend_from_slice(&chunk[..if more { avail } else { l as usize }]);
                    if !more {
                        break;
                    }
                }
                // Nothing left before the first part: the value was read already.
                SqlReturn::SQL_NO_DATA if acc.is_empty() => return rc,
                SqlReturn::SQL_NO_DATA => break,
                _ => return rc,
            }
        }
        let data = if null { None } else { Some(crate::text::to_wide(&std::mem::take(&mut acc))) };
        let mut g = GetConv { col, data, pos: 0, finished: false };
        // SAFETY: the application's buffers, valid until the operation completes (§2.9).
        let cut = unsafe { serve(&mut g, target.get(), buf_len, ind.get()) }.unwrap_or(false);
        if !g.finished {
            lock(&st).get = Some(g);
        }
        if cut {
            extra.push(truncated());
        }
        SqlReturn::SQL_SUCCESS
    })
}

// ---------------------------------------------------------------------------------------
// Parameters.
// ---------------------------------------------------------------------------------------

fn is_output(io: ParamIoType) -> bool {
    matches!(io, ParamIoType::SQL_PARAM_OUTPUT | ParamIoType::SQL_PARAM_INPUT_OUTPUT)
}

/// SQLBindParameter on an ANSI-only driver: a SQL_C_WCHAR parameter becomes SQL_C_CHAR of
/// a DM buffer (filled at execution); any other binding of the number ends its conversion.
pub(super) fn bind_param(
    s: &Stmt,
    f: fns::SQLBindParameter,
    num: u16,
    io: ParamIoType,
    value_type: CDataType,
    param_type: SqlDataType,
    column_size: SqlULen,
    digits: i16,
    value: SqlPointer,
    buf_len: SqlLen,
    ind: *mut SqlLen,
) -> SqlReturn {
    let h = s.driver_handle();
    if value_type != CDataType::SQL_C_WCHAR
        || matches!(io, ParamIoType::SQL_PARAM_INPUT_OUTPUT_STREAM | ParamIoType::SQL_PARAM_OUTPUT_STREAM)
    {
        // SAFETY: live driver statement; the application's buffers as given (deferred).
        let rc = unsafe { f(h, num, io, value_type, param_type, column_size, digits, value, buf_len, ind) };
        if rc.is_success() {
            lock(s).params.retain(|p| p.num != num);
        }
        return rc;
    }
    let cap = if is_output(io) { narrow_cap(buf_len) } else { 1 };
    let mut p = ParamConv {
        num,
        io,
        param_type: narrow_sql_type(param_type),
        column_size,
        digits,
        app_value: value as usize,
        app_len: buf_len,
        app_ind: ind as usize,
        cap,
        rows: 1,
        stride: 0,
        offset: 0,
        passthrough: false,
        buf: vec![0; cap],
        ind: vec![0; 1],
    };
    // SAFETY: live driver statement; the DM's buffers, kept in `Stmt::wchar` while bound.
    let rc =
        unsafe { f(h, num, io, NARROW, p.param_type, column_size, digits, p.buf.as_mut_ptr().cast(), cap as SqlLen, p.ind.as_mut_ptr()) };
    if rc.is_success() {
        let mut st = lock(s);
        st.params.retain(|x| x.num != num);
        st.params.push(p);
    }
    rc
}

/// Ends every parameter conversion (SQLFreeStmt(SQL_RESET_PARAMS)).
pub(super) fn reset_params(s: &Stmt) {
    if s.ansi_wchar || s.link.driver.ignores_param_offset {
        let mut st = lock(s);
        st.params.clear();
        st.bindings.clear();
    }
}

// ---------------------------------------------------------------------------------------
// The parameter bind offset for a driver that ignores it (decision #143).
// ---------------------------------------------------------------------------------------

/// SQLSetStmtAttr(SQL_ATTR_PARAM_BIND_OFFSET_PTR) on a driver that ignores it: kept by the
/// DM (the driver's stays null).
pub(super) fn set_param_offset_ptr(s: &Stmt, ptr: usize) {
    lock(s).offset_ptr = ptr;
}

/// The application's SQL_ATTR_PARAM_BIND_OFFSET_PTR as the DM keeps it.
pub(super) fn param_offset_ptr(s: &Stmt) -> usize {
    lock(s).offset_ptr
}

/// A successful SQLBindParameter on such a driver, as the application made it.
pub(super) fn record_binding(s: &Stmt, b: crate::handles::wchar::ParamBinding) {
    let mut st = lock(s);
    st.bindings.retain(|x| x.num != b.num);
    st.bindings.push(b);
}

/// The offset the application's SQL_ATTR_PARAM_BIND_OFFSET_PTR names now (0: none).
fn dm_param_offset(s: &Stmt) -> isize {
    read_offset(param_offset_ptr(s))
}

/// The value at a bind offset pointer (0 when the pointer is null).
fn read_offset(p: usize) -> isize {
    if p == 0 {
        return 0;
    }
    // SAFETY: the application set this pointer as the attribute and keeps it valid while
    // it is set (ODBC); read unaligned to be safe.
    unsafe { std::ptr::read_unaligned(p as *const SqlLen) as isize }
}

/// A bound address moved by a bind offset; a null address stays null (an unbound field
/// stays unbound, as drivers that apply offsets do).
fn shifted(addr: usize, off: isize) -> usize {
    if addr == 0 {
        0
    } else {
        (addr as isize).wrapping_add(off) as usize
    }
}

/// Before an execution on a driver that ignores the parameter bind offset: binds every
/// parameter the DM does not convert again at its address plus the current offset (a
/// null address stays null, as drivers that apply offsets do), where the driver's binding
/// carries another offset.
fn apply_param_offset(s: &Stmt) -> Result<(), (SqlState, String)> {
    let Some(f) = s.link.driver.fns.SQLBindParameter else { return Ok(()) };
    let (off, mut bindings, converted) = {
        let mut st = lock(s);
        let off = read_offset(st.offset_ptr);
        if st.bindings.iter().all(|b| b.applied == off) {
            return Ok(());
        }
        let converted: Vec<u16> = if s.ansi_wchar { st.params.iter().map(|p| p.num).collect() } else { Vec::new() };
        (off, std::mem::take(&mut st.bindings), converted)
    };
    let h = s.driver_handle();
    let mut r = Ok(());
    for b in bindings.iter_mut().filter(|b| b.applied != off && !converted.contains(&b.num)) {
        let (value, ind) = (shifted(b.value, off), shifted(b.ind, off));
        // SAFETY: live driver statement; the application's own binding moved by the bind
        // offset it set, exactly as a driver that honours the offset would read it.
        let rc =
            unsafe { f(h, b.num, b.io, b.c_type, b.sql_type, b.column_size, b.digits, value as SqlPointer, b.buf_len, ind as *mut SqlLen) };
        if !rc.is_success() {
            r = Err((SqlState::GENERAL_ERROR, format!("The driver refused parameter {} with the bind offset applied", b.num)));
            break;
        }
        b.applied = off;
    }
    lock(s).bindings = bindings;
    r
}

/// Ends every column conversion (SQLFreeStmt(SQL_UNBIND)).
pub(super) fn unbind(s: &Stmt) {
    if s.ansi_wchar {
        let mut st = lock(s);
        st.cols.clear();
        st.col_bindings.clear();
        st.get = None;
    }
}

// ---------------------------------------------------------------------------------------
// The row bind offset on an ANSI-only driver (decision #149).
// ---------------------------------------------------------------------------------------

/// Binds a converted column to the driver as the application bound it (SQL_C_WCHAR, its
/// own buffers): the DM stops converting it.
fn give_back(bind: fns::SQLBindCol, h: SqlHStmt, c: &ColConv) {
    // SAFETY: live driver statement; the application's own binding, as given.
    unsafe { bind(h, c.col, CDataType::SQL_C_WCHAR, c.app_target as SqlPointer, c.app_len, c.app_ind as *mut SqlLen) };
}

/// Whether the DM keeps the statement's SQL_ATTR_ROW_BIND_OFFSET_PTR itself: an ANSI-only
/// driver's statement whose SQL_C_WCHAR columns it converts, unless the driver's SQLBindCol
/// writes through the indicator (libsqlite3odbc then holds the offset, decision #149).
pub(super) fn dm_keeps_row_offset(s: &Stmt) -> bool {
    s.ansi_wchar && !s.link.driver.writes_indicator_at_bind
}

/// SQLSetStmtAttr(SQL_ATTR_ROW_BIND_OFFSET_PTR) on a statement whose SQL_C_WCHAR columns
/// the DM converts: kept by the DM (the driver's stays null, so that it adds nothing to the
/// DM's own buffers); sets the lane flag (a fetch must apply the offset).
pub(super) fn set_row_offset_ptr(call: &StmtCall<'_>, s: &Stmt, ptr: usize) {
    let active = {
        let mut st = lock(s);
        st.row_offset_ptr = ptr;
        st.lane_blocking()
    };
    call.core(|c| c.wchar_active = active);
}

/// SQLSetStmtAttr(SQL_ATTR_ROW_BIND_OFFSET_PTR) on a driver whose SQLBindCol writes through
/// the indicator (`Driver::writes_indicator_at_bind`): the attribute goes to the driver, and
/// while it is set the DM converts no bound column: the converted ones are bound to the
/// driver as the application made them, now, before any fetch at an offset (the driver's
/// write of 0 lands on the indicator the next fetch fills), and so are later ones.
pub(super) fn set_driver_row_offset(call: &StmtCall<'_>, s: &Stmt, set: bool) {
    let cols = {
        let mut st = lock(s);
        st.driver_row_offset = set;
        if set {
            std::mem::take(&mut st.cols)
        } else {
            Vec::new()
        }
    };
    if let Some(bind) = s.link.driver.fns.SQLBindCol {
        for c in &cols {
            give_back(bind, s.driver_handle(), c);
        }
    }
    let active = lock(s).lane_blocking();
    call.core(|c| c.wchar_active = active);
}

/// The application's SQL_ATTR_ROW_BIND_OFFSET_PTR as the DM keeps it.
pub(super) fn row_offset_ptr(s: &Stmt) -> usize {
    lock(s).row_offset_ptr
}

/// Binds every column the DM does not convert again at the application's address plus its
/// current row bind offset (a null address stays null), where the driver's binding carries
/// another offset; returns that offset. Before a fetch, SQLSetPos and SQLBulkOperations.
pub(super) fn apply_row_offset(s: &Stmt) -> isize {
    let (off, mut bindings) = {
        let mut st = lock(s);
        let off = read_offset(st.row_offset_ptr);
        if st.col_bindings.iter().all(|b| b.applied == off) {
            return off;
        }
        (off, std::mem::take(&mut st.col_bindings))
    };
    if let Some(f) = s.link.driver.fns.SQLBindCol {
        let h = s.driver_handle();
        for b in bindings.iter_mut().filter(|b| b.applied != off) {
            let (target, ind) = (shifted(b.target, off), shifted(b.ind, off));
            // SAFETY: live driver statement; the application's own binding moved by the row
            // bind offset it set, as a driver that holds the offset would read it.
            let rc = unsafe { f(h, b.col, b.c_type, target as SqlPointer, b.buf_len, ind as *mut SqlLen) };
            if rc.is_success() {
                b.applied = off;
            } else {
                log::warn!("column {}: the driver refused its binding moved by the row bind offset {off}", b.col);
            }
        }
    }
    lock(s).col_bindings = bindings;
    off
}

/// Reads one input value of the application: `Ok(None)` for an indicator the DM passes as
/// is (NULL, default), `Err` for data-at-execution.
///
/// # Safety
/// `value` null or valid for the value the indicator describes (NUL-terminated for
/// SQL_NTS, at most `app_len` bytes when `app_len` > 0).
unsafe fn read_input(value: *const u8, app_len: SqlLen, ind: SqlLen) -> Result<Result<Vec<u8>, SqlLen>, (SqlState, &'static str)> {
    if ind == SQL_NULL_DATA || ind == SQL_DEFAULT_PARAM {
        return Ok(Err(ind));
    }
    if ind == SQL_DATA_AT_EXEC || ind <= SQL_LEN_DATA_AT_EXEC_OFFSET {
        // Data at execution: the driver asks for it (SQLParamData), the application sends
        // it in parts (SQLPutData, converted there). Its length in UTF-8 is unknown.
        return Ok(Err(SQL_DATA_AT_EXEC));
    }
    if value.is_null() {
        return Err((SqlState::INVALID_NULL_POINTER, "ParameterValuePtr is a null pointer"));
    }
    let units: Vec<u16> = if ind == SQL_NTS as SqlLen {
        let max = if app_len > 0 { app_len as usize / 2 } else { usize::MAX / 4 };
        let mut v = Vec::new();
        let mut i = 0;
        while i < max {
            // SAFETY: NUL-terminated (or `app_len`-bounded) per the caller.
            let u = unsafe { std::ptr::read_unaligned(value.add(i * 2).cast::<u16>()) };
            if u == 0 {
                break;
            }
            v.push(u);
            i += 1;
        }
        v
    } else if ind >= 0 {
        let n = ind as usize / 2;
        let mut v = vec![0u16; n];
        // SAFETY: `ind` bytes readable per the caller.
        unsafe { std::ptr::copy_nonoverlapping(value, v.as_mut_ptr().cast::<u8>(), n * 2) };
        v
    } else {
        return Err((SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "Invalid string or buffer length"));
    };
    Ok(Ok(crate::text::to_narrow(&units)))
}

/// Before SQLExecute/SQLExecDirect: converts the current values of the wide parameters into
/// DM buffers and binds them to the driver; forgets a partly returned SQLGetData value.
/// Returns whether output values must be converted after the execution
/// ([`after_execute`]). `Err`: a DM error for the call.
pub(super) fn before_execute(s: &Stmt) -> Result<bool, (SqlState, String)> {
    let mut params = {
        let mut st = lock(s);
        st.get = None;
        st.put = None;
        if st.params.is_empty() {
            return Ok(false);
        }
        std::mem::take(&mut st.params)
    };
    let r = convert_params(s, &mut params);
    let mut st = lock(s);
    st.params = params;
    r.map(|_| st.params.iter().any(|p| is_output(p.io) && !p.passthrough))
}

/// The application's element of parameter set `r` (value, indicator) by its binding: the
/// bind offset added, then r × the row size (row-wise), or r × BufferLength and r × the
/// indicator's size (column-wise). Addresses only; null stays null.
fn app_elem(p: &ParamConv, r: usize) -> (*mut u8, *mut SqlLen) {
    let vstep = if p.stride == 0 { p.app_len.max(0) as usize } else { p.stride };
    let istep = if p.stride == 0 { std::mem::size_of::<SqlLen>() } else { p.stride };
    let at = |base: usize, step: usize| {
        let a = shifted(base, p.offset);
        if a == 0 {
            std::ptr::null_mut()
        } else {
            (a as *mut u8).wrapping_add(r * step)
        }
    };
    (at(p.app_value, vstep), at(p.app_ind, istep).cast())
}

/// Parameter set `r`'s indicator in the DM's indicator area: element r (column-wise), or
/// the byte offset r × row size (row-wise; the area is sized for it).
fn dm_param_ind(p: &mut ParamConv, r: usize) -> *mut SqlLen {
    if p.stride == 0 {
        p.ind[..].as_mut_ptr().wrapping_add(r)
    } else {
        p.ind.as_mut_ptr().cast::<u8>().wrapping_add(r * p.stride).cast()
    }
}

/// Converts every wide parameter's values of every parameter set into DM buffers laid out
/// as the application's binding is: column-wise, or row-wise with the application's row
/// size (the driver steps through the DM's buffers by it too, so a converted value may take
/// at most one row size: a longer one gives 22001), and with the bind offset
/// (SQL_ATTR_PARAM_BIND_OFFSET_PTR: pyodbc's `fast_executemany` binds offsets from null
/// and puts its buffer's address there), which the driver adds to the DM's addresses as
/// to the application's: the DM's buffers are bound that much lower (decision #142).
fn convert_params(s: &Stmt, params: &mut [ParamConv]) -> Result<(), (SqlState, String)> {
    let Some(f) = s.link.driver.fns.SQLBindParameter else { return Ok(()) };
    let h = s.driver_handle();
    let rows = driver_attr(s, StmtAttr::SQL_ATTR_PARAMSET_SIZE, 1).max(1);
    let stride = if rows > 1 { driver_attr(s, StmtAttr::SQL_ATTR_PARAM_BIND_TYPE, 0) } else { 0 };
    // A driver that ignores the offset (decision #143) gets the DM's buffers at their own
    // addresses; the others add it, so they get them that much lower.
    let (offset, driver_adds) = if s.link.driver.ignores_param_offset {
        (dm_param_offset(s), false)
    } else {
        (bind_offset(s, StmtAttr::SQL_ATTR_PARAM_BIND_OFFSET_PTR) as isize, true)
    };
    let shift = if driver_adds { offset } else { 0 };
    let Some(area) = rows.checked_mul(stride.max(1)).filter(|&a| a <= MAX_CAP) else {
        return Err((SqlState::MEMORY_ALLOCATION, "Memory allocation error".into()));
    };
    let mut needs_len = None;
    for p in params.iter_mut() {
        p.passthrough = false;
        (p.rows, p.stride, p.offset) = (rows, stride, offset);
        if p.io != ParamIoType::SQL_PARAM_OUTPUT && p.app_ind != 0 {
            let announced = (0..rows).any(|r| {
                // SAFETY: the application's bound indicator for parameter set r.
                unsafe { std::ptr::read_unaligned(app_elem(p, r).1) <= SQL_LEN_DATA_AT_EXEC_OFFSET }
            });
            if announced && *needs_len.get_or_insert_with(|| driver_needs_long_data_len(s)) {
                // The driver needs the length of data at execution in advance, which the DM
                // cannot give in UTF-8: the parameter goes to the driver unconverted (moved
                // by the offset the driver would not add, decision #143).
                let moved = |a: usize| if driver_adds { a } else { shifted(a, offset) };
                // SAFETY: live driver statement; the application's own binding, as given.
                let rc = unsafe {
                    f(
                        h,
                        p.num,
                        p.io,
                        CDataType::SQL_C_WCHAR,
                        p.param_type,
                        p.column_size,
                        p.digits,
                        moved(p.app_value) as SqlPointer,
                        p.app_len,
                        moved(p.app_ind) as *mut SqlLen,
                    )
                };
                if !rc.is_success() {
                    return Err((SqlState::GENERAL_ERROR, format!("The driver refused parameter {}", p.num)));
                }
                p.passthrough = true;
                continue;
            }
        }
        let mut texts = Vec::with_capacity(rows);
        let mut inds = vec![0 as SqlLen; rows];
        let mut cap = if is_output(p.io) { narrow_cap(p.app_len) } else { 1 };
        for (r, dm_ind) in inds.iter_mut().enumerate() {
            if p.io == ParamIoType::SQL_PARAM_OUTPUT {
                texts.push(Vec::new());
                continue;
            }
            let (value, ind) = app_elem(p, r);
            let app_ind = if ind.is_null() {
                SQL_NTS as SqlLen
            } else {
                // SAFETY: the application's bound indicator for parameter set r.
                unsafe { std::ptr::read_unaligned(ind) }
            };
            // SAFETY: the application's bound value for parameter set r, as its indicator
            // describes.
            match unsafe { read_input(value, p.app_len, app_ind) } {
                Ok(Ok(t)) => {
                    *dm_ind = t.len() as SqlLen;
                    cap = cap.max(t.len() + 1);
                    texts.push(t);
                }
                Ok(Err(i)) => {
                    *dm_ind = i;
                    texts.push(Vec::new());
                }
                Err((state, msg)) => return Err((state, format!("{msg} (parameter {})", p.num))),
            }
        }
        if stride > 0 {
            // Each parameter set's value has one row size in the DM's buffer.
            if let Some(r) = texts.iter().position(|t| t.len() > stride) {
                let msg = format!(
                    "String data, right truncated: parameter {} of parameter set {} is {} bytes in UTF-8 for the ANSI driver, more than the row size ({} bytes, SQL_ATTR_PARAM_BIND_TYPE)",
                    p.num,
                    r + 1,
                    texts[r].len(),
                    stride
                );
                return Err((SqlState::STRING_DATA_RIGHT_TRUNCATED, msg));
            }
            cap = stride;
        }
        let Some(total) = (if stride > 0 { Some(area) } else { cap.checked_mul(rows) }) else {
            return Err((SqlState::MEMORY_ALLOCATION, "Memory allocation error".into()));
        };
        let mut buf = vec![0u8; total];
        let at = |r: usize| if stride > 0 { r * stride } else { r * cap };
        for (r, t) in texts.iter().enumerate() {
            buf[at(r)..at(r) + t.len()].copy_from_slice(t);
        }
        let mut ind = if stride > 0 {
            // Row r's indicator at byte r × row size.
            let mut area_ind = vec![0 as SqlLen; area / std::mem::size_of::<SqlLen>() + 1];
            for (r, &i) in inds.iter().enumerate() {
                // SAFETY: byte r × stride + 8 ≤ rows × stride + 8 ≤ the area's size.
                unsafe { std::ptr::write_unaligned(area_ind.as_mut_ptr().cast::<u8>().add(r * stride).cast::<SqlLen>(), i) };
            }
            area_ind
        } else {
            inds
        };
        // The driver adds the bind offset to these addresses as to the application's.
        let vptr = buf.as_mut_ptr().wrapping_offset(-shift);
        let iptr = ind.as_mut_ptr().cast::<u8>().wrapping_offset(-shift).cast::<SqlLen>();
        // SAFETY: live driver statement; the new DM buffers, kept in the state while bound
        // (the old ones are dropped only after the driver has the new ones); with the
        // offset the driver adds at execution, every set it reaches lies inside them.
        let rc = unsafe { f(h, p.num, p.io, NARROW, p.param_type, p.column_size, p.digits, vptr.cast(), cap as SqlLen, iptr) };
        if !rc.is_success() {
            return Err((SqlState::GENERAL_ERROR, format!("The driver refused the converted parameter {}", p.num)));
        }
        p.buf = buf;
        p.ind = ind;
        p.cap = cap;
    }
    Ok(())
}

/// After an execution: converts output parameter values back (01004 when one was cut).
pub(super) fn after_execute(s: &Stmt, rc: SqlReturn, extra: &mut Vec<DiagRecord>) {
    if !rc.is_success() {
        return;
    }
    let mut st = lock(s);
    let mut cut = false;
    for p in st.params.iter_mut().filter(|p| is_output(p.io) && !p.passthrough) {
        for r in 0..p.rows {
            // SAFETY: row r's indicator lies inside `p.ind`.
            let dm_ind = unsafe { std::ptr::read_unaligned(dm_param_ind(p, r)) };
            let at = if p.stride > 0 { r * p.stride } else { r * p.cap };
            let Some(dm) = p.buf.get(at..at + p.cap) else { continue };
            let (app, app_ind) = app_elem(p, r);
            let dm_ind = dm_indicator(dm_ind).unwrap_or(dm_ind);
            // SAFETY: the application's bound output buffers for parameter set r.
            cut |= unsafe { put_wide(dm, dm_ind, app, p.app_len, app_ind) };
        }
    }
    if cut {
        extra.push(truncated());
    }
}

/// The execution side of [`before_execute`] for the raw functions: `Ok(Some(stmt))` when
/// output values must be converted after the execution ([`exec_after`]).
pub(super) fn exec_prelude(s: &Arc<Stmt>, executes: bool) -> Result<Option<Arc<Stmt>>, (SqlState, String)> {
    // A repeat call of an outstanding asynchronous execution only collects it: the DM's
    // buffers are the driver's until it completes.
    if !executes || s.async_slot.is_active() {
        return Ok(None);
    }
    if s.link.driver.ignores_param_offset {
        apply_param_offset(s)?;
    }
    if !s.ansi_wchar {
        return Ok(None);
    }
    Ok(before_execute(s)?.then(|| s.clone()))
}

/// Converts output parameters once the execution has finished (not while it is still
/// executing asynchronously).
#[inline(always)]
pub(super) fn exec_after(post: &Option<Arc<Stmt>>, rc: SqlReturn, extra: &mut Vec<DiagRecord>) {
    if let Some(s) = post {
        if rc != SqlReturn::SQL_STILL_EXECUTING {
            after_execute(s, rc, extra);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Data at execution (SQLParamData / SQLPutData) of converted parameters.
// ---------------------------------------------------------------------------------------

/// After the driver's SQLParamData returned SQL_NEED_DATA with `*value` the address it was
/// given for the parameter: for a converted parameter that is the DM's buffer, so the
/// application gets its own ParameterValuePtr (for that row) back, and the following
/// SQLPutData calls are converted.
///
/// # Safety
/// `value` null or valid for a pointer (the application's ValuePtrPtr).
pub(super) unsafe fn after_param_data(s: &Stmt, rc: SqlReturn, value: *mut SqlPointer) {
    let mut st = lock(s);
    st.put = None;
    if rc != SqlReturn::SQL_NEED_DATA || value.is_null() {
        return;
    }
    // SAFETY: per the caller; the driver just wrote it.
    let at = unsafe { *value } as usize;
    let hit = st.params.iter().find_map(|p| {
        let base = p.buf.as_ptr() as usize;
        let step = if p.stride > 0 { p.stride } else { p.cap.max(1) };
        (at >= base && at < base + p.buf.len().max(1)).then(|| (p.num, app_elem(p, (at - base) / step).0))
    });
    if let Some((num, app)) = hit {
        // SAFETY: per the caller.
        unsafe { *value = app as SqlPointer };
        st.put = Some(crate::handles::wchar::PutConv { num, high: None, odd: None });
    }
}

/// A converted SQLPutData part (bytes and length), or the DM's error.
pub(super) type PutPart = Result<(Vec<u8>, SqlLen), (SqlState, &'static str)>;

/// SQLPutData for a converted parameter: the application's UTF-16 part (`len` bytes, or
/// SQL_NTS) as UTF-8. A part may end inside a code unit (an odd length) or between the
/// halves of a surrogate pair: the odd byte and a trailing high surrogate wait for the
/// next part (decision #141). `None`: the parameter is not converted (pass the call on as
/// it is).
///
/// # Safety
/// `data` valid for the part `len` describes (NUL-terminated for SQL_NTS).
pub(super) unsafe fn put_data_narrow(s: &Stmt, data: *const u8, len: SqlLen) -> Option<PutPart> {
    let mut st = lock(s);
    let put = st.put.as_mut()?;
    if len == SQL_NULL_DATA || len == SQL_DEFAULT_PARAM {
        return Some(Ok((Vec::new(), len)));
    }
    if len < 0 && len != SQL_NTS as SqlLen {
        return Some(Err((SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "Invalid string or buffer length")));
    }
    // SAFETY: per the caller.
    let mut bytes = unsafe { read_bytes(data, len) };
    if let Some(b) = put.odd.take() {
        bytes.insert(0, b);
    }
    if bytes.len() % 2 == 1 {
        put.odd = bytes.pop();
    }
    let units = bytes.chunks_exact(2).map(|c| u16::from_ne_bytes([c[0], c[1]]));
    let mut u: Vec<u16> = put.high.take().into_iter().chain(units).collect();
    if u.last().is_some_and(|&x| (0xD800..0xDC00).contains(&x)) {
        put.high = u.pop();
    }
    let n = crate::text::to_narrow(&u);
    let l = n.len() as SqlLen;
    Some(Ok((n, l)))
}

/// What the application's SQLPutData parts left over when it calls SQLParamData again
/// (forgotten here): `Err` for a dangling odd byte (half a code unit: 22026, decision
/// #141), else the UTF-8 the driver must still get for a trailing lone high surrogate
/// (U+FFFD, as a lone surrogate anywhere else converts), empty when nothing is left.
pub(super) fn end_put(s: &Stmt) -> Result<Vec<u8>, ()> {
    if !s.ansi_wchar {
        return Ok(Vec::new());
    }
    let mut st = lock(s);
    match st.put.take() {
        Some(p) if p.odd.is_some() => Err(()),
        Some(p) => Ok(p.high.map(|h| crate::text::to_narrow(&[h])).unwrap_or_default()),
        None => Ok(Vec::new()),
    }
}

/// The bytes of a SQLPutData part (a SQL_NTS part ends at its first 16-bit NUL).
///
/// # Safety
/// As [`put_data_narrow`].
unsafe fn read_bytes(data: *const u8, len: SqlLen) -> Vec<u8> {
    if data.is_null() {
        return Vec::new();
    }
    let n = if len == SQL_NTS as SqlLen {
        let mut i = 0;
        // SAFETY: NUL-terminated per the caller.
        while unsafe { std::ptr::read_unaligned(data.add(i * 2).cast::<u16>()) } != 0 {
            i += 1;
        }
        i * 2
    } else {
        len as usize
    };
    let mut v = vec![0u8; n];
    // SAFETY: n bytes readable per the caller.
    unsafe { std::ptr::copy_nonoverlapping(data, v.as_mut_ptr(), n) };
    v
}

/// SQLGetInfo(SQL_NEED_LONG_DATA_LEN) is "Y" (libsqlite3odbc: data at execution needs
/// SQL_LEN_DATA_AT_EXEC(length)).
fn driver_needs_long_data_len(s: &Stmt) -> bool {
    let Some(f) = s.link.driver.fns.SQLGetInfo else { return false };
    let mut b = [0u8; 8];
    let mut l: i16 = 0;
    // SAFETY: live driver connection; an 8-byte buffer for a one-character string.
    let rc = unsafe { f(s.link.hdbc as SqlHDbc, InfoType(111), b.as_mut_ptr().cast(), b.len() as i16, &mut l) };
    rc.is_success() && b[0] == b'Y'
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decision #124: a 32-bit indicator write into a DM slot is read as that 32-bit value.
    #[test]
    fn indicator_written_as_32_bits_is_recognised() {
        assert_eq!(dm_indicator(UNWRITTEN), None);
        for v in [0i64, 8, 4096, -1 /* SQL_NULL_DATA */, -4 /* SQL_NO_TOTAL */] {
            assert_eq!(dm_indicator(v as SqlLen), Some(v as SqlLen), "a 64-bit write of {v}");
            for start in [UNWRITTEN, 0] {
                let mut slot = start.to_ne_bytes();
                slot[..4].copy_from_slice(&(v as i32).to_ne_bytes());
                assert_eq!(dm_indicator(SqlLen::from_ne_bytes(slot)), Some(v as SqlLen), "a 32-bit write of {v} over {start:#x}");
            }
        }
        // A 64-bit negative is itself.
        assert_eq!(dm_indicator(-4), Some(-4));
    }
}
