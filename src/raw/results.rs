//! Result sets: describing, binding, fetching, getting data, row counts, more results.

use odbc_dm_abi::{FunctionId as F, *};

use super::{boundary, handle, same_signature, AppPtr, StmtCall};
use crate::diag::{DiagRecord, SqlState};
use crate::handles::stmt_state::StmtState;
use crate::handles::Stmt;
use crate::trace_enter;
use std::sync::Arc;

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
        let h = s.hstmt;
        let count = AppPtr::new(count);
        // SAFETY: live driver statement (the DM statement outlives the operation); non-null
        // application out pointer, valid until the operation completes (§2.9).
        call.invoke(move |_| unsafe { f(h as SqlHStmt, count.get()) })
    })
}

/// SQLFetch: 24000 in S4, HY010 in S1–S3 (§4.5).
pub unsafe extern "C" fn SQLFetch(stmt: SqlHStmt) -> SqlReturn {
    // S6 → S6: the steady state of a fetch loop.
    const S6: u32 = super::stmt_summary(StmtState::S6);
    // No guard of its own: a statement whose concurrency the DM emulates (its fetch
    // snapshots the rowset, §5.7), and every statement while call tracing is on, publishes
    // no summary, so the gate's compare-and-swap below fails and the fetch takes the full
    // path (decisions #102, #103).
    let table = crate::handles::stmt_table();
    // SAFETY: the pin is given back once on every path below (`release_then`, or
    // `fetch_miss`), and `s` is used only until then.
    let Some(pin) = (unsafe { table.lend(stmt as usize) }) else {
        // SAFETY: as above.
        return unsafe { fetch(stmt) };
    };
    let Some(s) = pin.object(stmt as usize) else {
        // SAFETY: the pin of `stmt`, given back there.
        return unsafe { fetch_miss(stmt) };
    };
    if !s.gate.fast_enter(S6) {
        // SAFETY: as above.
        return unsafe { fetch_miss(stmt) };
    }
    let f = s.fast_fetch;
    let rc = super::lanes::stmt_lane_run(
        s,
        F::SQL_API_SQLFETCH,
        // SAFETY: live driver statement handle (the lane holds the gate and the pin).
        move || unsafe { f(s.driver_handle()) },
        move || fetch_tramp(&s),
    );
    // SAFETY: the statement's own slot pins, whose `lend` pin is held (given back here,
    // not through `pin`); `s` is alive until then.
    unsafe { s.slot_pins.release_then(table, || s.id, rc) }
}

/// A SQLFetch lane's driver call through the serialization trampoline (the driver's lock
/// is taken: the trampoline waits for it). Out of line: the lane keeps no closure state.
#[cold]
#[inline(never)]
fn fetch_tramp(s: &Stmt) -> SqlReturn {
    match s.link.driver.fns.SQLFetch {
        // SAFETY: live driver statement handle (the lane holds the gate and the pin).
        Some(t) => unsafe { t(s.driver_handle()) },
        None => SqlReturn::SQL_ERROR,
    }
}

/// SQLFetch's lane did not apply after pinning the slot of `stmt`: gives the pin back and
/// runs the full path (a tail call from the lane).
///
/// # Safety
/// The lane's pin of `stmt` is held and given back here; the caller's arguments as given.
#[cold]
#[inline(never)]
unsafe extern "C" fn fetch_miss(stmt: SqlHStmt) -> SqlReturn {
    // SAFETY: the caller's contract.
    unsafe {
        crate::handles::stmt_table().release_id(stmt as usize);
        fetch(stmt)
    }
}

/// SQLFetch's full path (`extern "C"`, like the miss path: it cannot unwind — its body runs
/// inside `boundary` — so the lane's calls of both are tail calls, decision #122).
#[inline(never)]
unsafe extern "C" fn fetch(stmt: SqlHStmt) -> SqlReturn {
    trace_enter!("SQLFetch", "{:p}", stmt);
    boundary("SQLFetch", || {
        let s = handle!(stmt, stmt);
        let call = match StmtCall::begin(&s, F::SQL_API_SQLFETCH) {
            Ok(c) => c,
            Err(rc) => return rc,
        };
        let fns = &s.link.driver.fns;
        if let (None, Some(xf)) = (fns.SQLFetchScroll, fns.SQLExtendedFetch) {
            // An ODBC 2 driver whose block-cursor attributes the DM keeps: SQLFetch is
            // SQLExtendedFetch(SQL_FETCH_NEXT), so the rows-fetched count and the row
            // status array are filled (decision #115). Such a statement has no lane. The
            // DM's SQL_C_WCHAR conversion and optimistic-concurrency copy follow the
            // driver's answer as on any fetch (decision #123).
            if s.gate.read(|c| c.odbc2_block.is_some()) {
                let hooks = FetchHooks::new(&call, &s);
                return call.invoke(extended_fetch(&s, xf, FetchOrientation::SQL_FETCH_NEXT, 0, hooks));
            }
        }
        let Some(f) = fns.SQLFetch else { return call.missing("SQLFetch") };
        let h = s.hstmt;
        // The optimistic-concurrency copy runs inside the driver-call closure, so it follows
        // the final answer in every asynchronous mode too (decision #84).
        let occ = super::concurrency::fetch_hook(&s);
        if s.ansi_wchar && !s.async_slot.is_active() && super::wconv::before_fetch(&call, &s) {
            let st = s.clone();
            return call.invoke(move |extra| {
                // SAFETY: live driver statement handle (the DM statement outlives the operation).
                let rc = unsafe { f(h as SqlHStmt) };
                if rc.is_success() {
                    super::wconv::after_fetch(&st, extra);
                }
                if let Some(o) = &occ {
                    super::concurrency::after_fetch(o, rc);
                }
                rc
            });
        }
        match occ {
            // SAFETY: live driver statement handle (the DM statement outlives the operation).
            None => call.invoke(move |_| unsafe { f(h as SqlHStmt) }),
            Some(o) => call.invoke(move |_| {
                // SAFETY: as above.
                let rc = unsafe { f(h as SqlHStmt) };
                super::concurrency::after_fetch(&o, rc);
                rc
            }),
        }
    })
}

/// SQLGetData: a negative BufferLength is HY090 (checked before the driver).
pub unsafe extern "C" fn SQLGetData(
    stmt: SqlHStmt,
    col: SqlUSmallInt,
    target_type: CDataType,
    target: SqlPointer,
    buf_len: SqlLen,
    ind: *mut SqlLen,
) -> SqlReturn {
    // SQLGetData leaves S6/S7 as they are.
    const S6: u32 = super::stmt_summary(StmtState::S6);
    const S7: u32 = super::stmt_summary(StmtState::S7);
    // A negative BufferLength (HY090) takes the full path; tracing: see SQLFetch.
    if buf_len < 0 {
        // SAFETY: the caller's arguments, passed on as given.
        return unsafe { get_data(stmt, col, target_type, target, buf_len, ind) };
    }
    let table = crate::handles::stmt_table();
    // SAFETY: the pin is given back once on every path below (`release_then`, or
    // `get_data_miss`), and `s` is used only until then.
    let Some(pin) = (unsafe { table.lend(stmt as usize) }) else {
        // SAFETY: as above.
        return unsafe { get_data(stmt, col, target_type, target, buf_len, ind) };
    };
    let Some(s) = pin.object(stmt as usize) else {
        // SAFETY: the pin of `stmt`, given back there.
        return unsafe { get_data_miss(stmt, col, target_type, target, buf_len, ind) };
    };
    // A type the DM refuses (HY003) or converts (SQL_C_WCHAR on an ANSI-only driver,
    // decision #77) takes the full path: the statement's table says which (#104, #121).
    if !s.lane_c_types[target_type.0 as u16 as usize] || !s.gate.fast_enter_either(S6, S7) {
        // SAFETY: as above.
        return unsafe { get_data_miss(stmt, col, target_type, target, buf_len, ind) };
    }
    let f = s.fast_get_data;
    let rc = super::lanes::stmt_lane_run(
        s,
        F::SQL_API_SQLGETDATA,
        // SAFETY: live driver statement (the lane holds the gate and the pin); the
        // application's buffers as given.
        move || unsafe { f(s.driver_handle(), col, target_type, target, buf_len, ind) },
        move || get_data_tramp(&s, col, target_type, target, buf_len, ind),
    );
    // SAFETY: as in SQLFetch.
    unsafe { s.slot_pins.release_then(table, || s.id, rc) }
}

/// A SQLGetData lane's driver call through the serialization trampoline (see
/// [`fetch_tramp`]).
#[cold]
#[inline(never)]
fn get_data_tramp(s: &Stmt, col: SqlUSmallInt, target_type: CDataType, target: SqlPointer, buf_len: SqlLen, ind: *mut SqlLen) -> SqlReturn {
    match s.link.driver.fns.SQLGetData {
        // SAFETY: live driver statement (the lane holds the gate and the pin); the
        // application's buffers as given.
        Some(t) => unsafe { t(s.driver_handle(), col, target_type, target, buf_len, ind) },
        None => SqlReturn::SQL_ERROR,
    }
}

/// SQLGetData's lane did not apply after pinning the slot of `stmt`: gives the pin back and
/// runs the full path (a tail call from the lane).
///
/// # Safety
/// The lane's pin of `stmt` is held and given back here; the caller's arguments as given.
#[cold]
#[inline(never)]
unsafe extern "C" fn get_data_miss(
    stmt: SqlHStmt,
    col: SqlUSmallInt,
    target_type: CDataType,
    target: SqlPointer,
    buf_len: SqlLen,
    ind: *mut SqlLen,
) -> SqlReturn {
    // SAFETY: the caller's contract.
    unsafe {
        crate::handles::stmt_table().release_id(stmt as usize);
        get_data(stmt, col, target_type, target, buf_len, ind)
    }
}

/// SQLGetData's full path.
#[inline(never)]
unsafe extern "C" fn get_data(
    stmt: SqlHStmt,
    col: SqlUSmallInt,
    target_type: CDataType,
    target: SqlPointer,
    buf_len: SqlLen,
    ind: *mut SqlLen,
) -> SqlReturn {
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
        // HY003 (DM, §4.1). The page's HY009 for a null TargetValuePtr is not enforced:
        // applications probe a value's length with a null buffer of length 0 and the
        // drivers accept it (docs/decisions.md #50).
        if let Err((state, msg)) = super::checks::check_c_type(target_type, super::checks::CTypeUse::GetData) {
            return call.fail(state, msg);
        }
        // SQL_C_DATE/TIME/TIMESTAMP ↔ SQL_C_TYPE_* as the driver's ODBC version wants (#128).
        let target_type = CDataType(super::checks::datetime_for_driver(target_type.0, s.link.driver_is_odbc3()));
        // (A repeat call of an outstanding asynchronous SQLGetData only collects it.)
        if s.ansi_wchar && !s.async_slot.is_active() {
            if target_type == CDataType::SQL_C_WCHAR {
                return super::wconv::get_data(call, &s, col, target, buf_len, ind);
            }
            super::wconv::forget_get(&s);
        }
        let Some(f) = s.link.driver.fns.SQLGetData else { return call.missing("SQLGetData") };
        let h = s.hstmt;
        let (target, ind) = (AppPtr::new(target), AppPtr::new(ind));
        // SAFETY: live driver statement (the DM statement outlives the operation); the
        // application's buffers as given, valid until the operation completes (§2.9).
        call.invoke(move |_| unsafe { f(h as SqlHStmt, col, target_type, target.get(), buf_len, ind.get()) })
    })
}

/// SQLBindCol: a negative BufferLength is HY090, a TargetType that is no C type HY003
/// (both DM).
pub unsafe extern "C" fn SQLBindCol(
    stmt: SqlHStmt,
    col: SqlUSmallInt,
    target_type: CDataType,
    target: SqlPointer,
    buf_len: SqlLen,
    ind: *mut SqlLen,
) -> SqlReturn {
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
        // HY003 (DM, §4.1); a null TargetValuePtr unbinds and needs no type.
        if !target.is_null() {
            if let Err((state, msg)) = super::checks::check_c_type(target_type, super::checks::CTypeUse::BindCol) {
                return call.fail(state, msg);
            }
        }
        // SQL_C_DATE/TIME/TIMESTAMP ↔ SQL_C_TYPE_* as the driver's ODBC version wants (#128).
        let target_type = CDataType(super::checks::datetime_for_driver(target_type.0, s.link.driver_is_odbc3()));
        let Some(f) = s.link.driver.fns.SQLBindCol else { return call.missing("SQLBindCol") };
        if s.ansi_wchar {
            let rc = super::wconv::bind_col(&call, &s, f, col, target_type, target, buf_len, ind);
            if rc.is_success() {
                // The application's own binding, as the optimistic-concurrency copy reads it.
                super::concurrency::on_bind_col(&s, col, target_type, target, buf_len, ind);
            }
            return call.finish(rc);
        }
        // SAFETY: live driver statement; the application's buffers as given.
        let rc = unsafe { f(s.driver_handle(), col, target_type, target, buf_len, ind) };
        if rc.is_success() {
            super::concurrency::on_bind_col(&s, col, target_type, target, buf_len, ind);
        }
        call.finish(rc)
    })
}

// ---------------------------------------------------------------------------------------
// Describing columns, attributes, scrolling, positioned operations, cursor names.
// ---------------------------------------------------------------------------------------

use super::strings::{narrow_to_app_wide, put_len, recv_text, wide_to_app_narrow, InNarrow, InWide, RecvBuf, TRUNCATED};

same_signature!(
    SQLDescribeCol,
    SQLDescribeColW,
    SQLColAttribute,
    SQLColAttributeW,
    SQLColAttributes,
    SQLColAttributesW,
    SQLFetchScroll,
    SQLExtendedFetch,
    SQLSetPos,
    SQLBulkOperations,
    SQLMoreResults,
    SQLRowCount,
    SQLCloseCursor,
    SQLGetCursorName,
    SQLGetCursorNameW,
    SQLSetCursorName,
    SQLSetCursorNameW,
    SQLSetScrollOptions,
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

/// Initial size (code units) of a DM buffer receiving converted output for an application
/// buffer of `app_cap` units.
fn initial_cap(app_cap: usize) -> usize {
    app_cap.clamp(256, 4096) + 1
}

/// Length reported by the driver (`i16`), as a count if non-negative.
fn reported(n: i16) -> Option<usize> {
    usize::try_from(n).ok()
}

/// SQLDescribeCol (ANSI): ColumnName length in bytes; a Unicode driver's ANSI function
/// with the name cut by the DM (decision #148), or via SQLDescribeColW when the driver has
/// only the Unicode form (01004 and the full length in bytes when the name is cut).
pub unsafe extern "C" fn SQLDescribeCol(
    stmt: SqlHStmt,
    col: SqlUSmallInt,
    name: *mut SqlChar,
    name_max: SqlSmallInt,
    name_len: *mut SqlSmallInt,
    data_type: *mut SqlDataType,
    size: *mut SqlULen,
    digits: *mut SqlSmallInt,
    nullable: *mut Nullability,
) -> SqlReturn {
    trace_enter!("SQLDescribeCol", "{:p} {} {:p} {}", stmt, col, name, name_max);
    boundary("SQLDescribeCol", || {
        let s = handle!(stmt, stmt);
        let call = begin!(s, F::SQL_API_SQLDESCRIBECOL);
        if name_max < 0 {
            return call.fail(SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "BufferLength is negative");
        }
        let fns = &s.link.driver.fns;
        let h = s.hstmt;
        let (name, name_len) = (AppPtr::new(name), AppPtr::new(name_len));
        let (data_type, size, digits, nullable) = (AppPtr::new(data_type), AppPtr::new(size), AppPtr::new(digits), AppPtr::new(nullable));
        if let Some(f) = fns.SQLDescribeCol.filter(|_| fns.is_unicode()) {
            // A Unicode driver's ANSI function (decision #148): its answer for the type, the
            // name received whole into a DM buffer and given to the application cut at a
            // character boundary, as the W path below does; psqlODBC's own ANSI function
            // cuts inside a UTF-8 sequence.
            describe_via_dm_buffer(
                call,
                name_max,
                name_len,
                // SAFETY: live driver statement; the DM buffer of `cap` bytes and the length,
                // owned by the operation; the application's other out pointers.
                move |buf, cap, l| unsafe { f(h as SqlHStmt, col, buf, cap, l, data_type.get(), size.get(), digits.get(), nullable.get()) },
                move |n8: &[u8]| {
                    // SAFETY: application buffer of `name_max` bytes (checked non-negative), or null.
                    let cut = unsafe { crate::text::write_narrow(n8, name.get(), name_max as usize) };
                    (n8.len(), cut && !name.get().is_null())
                },
            )
        } else if let Some(f) = fns.SQLDescribeCol {
            // SAFETY: live driver statement (the DM statement outlives the operation); the
            // application's buffers as given, valid until the operation completes (§2.9).
            call.invoke(move |_| unsafe {
                f(h as SqlHStmt, col, name.get(), name_max, name_len.get(), data_type.get(), size.get(), digits.get(), nullable.get())
            })
        } else if let Some(f) = fns.SQLDescribeColW {
            describe_via_dm_buffer(
                call,
                name_max,
                name_len,
                // SAFETY: live driver statement; the DM buffer of `cap` units and the length,
                // owned by the operation; the application's other out pointers.
                move |buf, cap, l| unsafe { f(h as SqlHStmt, col, buf, cap, l, data_type.get(), size.get(), digits.get(), nullable.get()) },
                // SAFETY: application buffer of `name_max` bytes (checked non-negative).
                move |w: &[u16]| unsafe { wide_to_app_narrow(w, name.get(), name_max as usize) },
            )
        } else {
            call.missing("SQLDescribeCol")
        }
    })
}

/// An ANSI SQLDescribeCol through a DM buffer for the column name: `driver(buf, cap, len)`
/// calls the driver's function of unit `T` (grown and called again while the name does
/// not fit, see [`RecvBuf`]); `write(name)` gives the application the name and returns its
/// full length in bytes and whether it was cut (then 01004).
fn describe_via_dm_buffer<T: super::strings::Unit>(
    call: StmtCall<'_>,
    name_max: SqlSmallInt,
    name_len: AppPtr<SqlSmallInt>,
    mut driver: impl FnMut(*mut T, SqlSmallInt, *mut SqlSmallInt) -> SqlReturn + Send + 'static,
    write: impl Fn(&[T]) -> (usize, bool) + Send + 'static,
) -> SqlReturn {
    let mut rb = RecvBuf::<T, i16>::new(initial_cap(name_max as usize));
    call.invoke(move |extra| {
        let (rc, name) = rb.recv(|buf, cap, l| driver(buf, cap.min(i16::MAX as usize) as i16, l), reported);
        if rc.is_success() {
            let (n, cut) = write(name);
            // SAFETY: optional application out pointer.
            unsafe { put_len(name_len.get(), n, i16::MAX) };
            if cut {
                extra.push(DiagRecord::dm(SqlState::STRING_TRUNCATED, TRUNCATED));
            }
        }
        rc
    })
}

/// SQLDescribeColW (Unicode): ColumnName length in characters; via SQLDescribeCol when the
/// driver has only the ANSI form.
pub unsafe extern "C" fn SQLDescribeColW(
    stmt: SqlHStmt,
    col: SqlUSmallInt,
    name: *mut SqlWChar,
    name_max: SqlSmallInt,
    name_len: *mut SqlSmallInt,
    data_type: *mut SqlDataType,
    size: *mut SqlULen,
    digits: *mut SqlSmallInt,
    nullable: *mut Nullability,
) -> SqlReturn {
    trace_enter!("SQLDescribeColW", "{:p} {} {:p} {}", stmt, col, name, name_max);
    boundary("SQLDescribeColW", || {
        let s = handle!(stmt, stmt);
        let call = begin!(s, F::SQL_API_SQLDESCRIBECOL);
        if name_max < 0 {
            return call.fail(SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "BufferLength is negative");
        }
        let fns = &s.link.driver.fns;
        let h = s.hstmt;
        let (name, name_len) = (AppPtr::new(name), AppPtr::new(name_len));
        let (data_type, size, digits, nullable) = (AppPtr::new(data_type), AppPtr::new(size), AppPtr::new(digits), AppPtr::new(nullable));
        if let Some(f) = fns.SQLDescribeColW {
            // SAFETY: live driver statement (the DM statement outlives the operation); the
            // application's buffers as given, valid until the operation completes (§2.9).
            call.invoke(move |_| unsafe {
                f(h as SqlHStmt, col, name.get(), name_max, name_len.get(), data_type.get(), size.get(), digits.get(), nullable.get())
            })
        } else if let Some(f) = fns.SQLDescribeCol {
            let mut rb = RecvBuf::<u8, i16>::new(initial_cap(name_max as usize * 4));
            call.invoke(move |extra| {
                let (rc, n8) = rb.recv(
                    |buf, cap, l| {
                        let cap = cap.min(i16::MAX as usize) as i16;
                        // SAFETY: live driver statement; the DM buffer of `cap` bytes and the
                        // length, owned by this closure; the application's other out pointers.
                        unsafe { f(h as SqlHStmt, col, buf, cap, l, data_type.get(), size.get(), digits.get(), nullable.get()) }
                    },
                    reported,
                );
                if rc.is_success() {
                    // SAFETY: application buffer of `name_max` characters (checked non-negative).
                    let (n, t) = unsafe { narrow_to_app_wide(n8, name.get(), name_max as usize) };
                    // SAFETY: optional application out pointer.
                    unsafe { put_len(name_len.get(), n, i16::MAX) };
                    if t {
                        extra.push(DiagRecord::dm(SqlState::STRING_TRUNCATED, TRUNCATED));
                    }
                }
                rc
            })
        } else {
            call.missing("SQLDescribeColW")
        }
    })
}

/// Whether a SQLColAttribute(s) FieldIdentifier returns a character string (ODBC 3.x
/// SQL_DESC_* and the 2.x SQL_COLUMN_* names; 14–18 are shared by both).
pub(crate) fn is_char_col_attr(field: i32) -> bool {
    matches!(
        field,
        1 /* SQL_COLUMN_NAME */
            | 14 /* SQL_DESC_TYPE_NAME */
            | 15 /* SQL_DESC_TABLE_NAME */
            | 16 /* SQL_DESC_SCHEMA_NAME */
            | 17 /* SQL_DESC_CATALOG_NAME */
            | 18 /* SQL_DESC_LABEL */
            | 22 /* SQL_DESC_BASE_COLUMN_NAME */
            | 23 /* SQL_DESC_BASE_TABLE_NAME */
            | 27 /* SQL_DESC_LITERAL_PREFIX */
            | 28 /* SQL_DESC_LITERAL_SUFFIX */
            | 29 /* SQL_DESC_LOCAL_TYPE_NAME */
            | 1011 /* SQL_DESC_NAME */
    )
}

/// 2.x SQLColAttributes identifier → 3.x SQLColAttribute identifier (SQLColAttributes
/// mapping: COUNT, NAME and NULLABLE move; the others keep their value).
fn v2_to_v3_field(f: u16) -> DescField {
    match f {
        0 => DescField::SQL_DESC_COUNT,
        1 => DescField::SQL_DESC_NAME,
        7 => DescField::SQL_DESC_NULLABLE,
        other => DescField(other as i16),
    }
}

/// 3.x identifier → 2.x, for a driver that has only SQLColAttributes.
fn v3_to_v2_field(f: DescField) -> u16 {
    match f {
        DescField::SQL_DESC_COUNT => 0,
        DescField::SQL_DESC_NAME => 1,
        DescField::SQL_DESC_NULLABLE => 7,
        other => other.0 as u16,
    }
}

/// One of the driver's four column-attribute entry points.
#[derive(Clone, Copy)]
enum AttrFn {
    V3 { f: fns::SQLColAttribute, wide: bool },
    V2 { f: fns::SQLColAttributes, wide: bool },
}

impl AttrFn {
    fn wide(self) -> bool {
        match self {
            AttrFn::V3 { wide, .. } | AttrFn::V2 { wide, .. } => wide,
        }
    }

    /// Calls the driver with a 3.x identifier (mapped to 2.x for SQLColAttributes).
    ///
    /// # Safety
    /// Live driver statement; buffers valid as for SQLColAttribute.
    unsafe fn call(
        self,
        h: SqlHStmt,
        col: u16,
        field: DescField,
        ptr: SqlPointer,
        len: i16,
        out_len: *mut i16,
        num: *mut SqlLen,
    ) -> SqlReturn {
        match self {
            // SAFETY: forwarded contract.
            AttrFn::V3 { f, .. } => unsafe { f(h, col, field, ptr, len, out_len, num) },
            // SAFETY: forwarded contract.
            AttrFn::V2 { f, .. } => unsafe { f(h, col, v3_to_v2_field(field), ptr, len, out_len, num) },
        }
    }
}

/// Picks the driver entry point for a column-attribute call: same version and width first,
/// then the other width (converted), then the other ODBC version.
fn pick_attr_fn(d: &crate::driver::DriverFns, app_wide: bool, v2_first: bool) -> Option<AttrFn> {
    let v3 = |wide: bool| if wide { d.SQLColAttributeW } else { d.SQLColAttribute }.map(|f| AttrFn::V3 { f, wide });
    let v2 = |wide: bool| if wide { d.SQLColAttributesW } else { d.SQLColAttributes }.map(|f| AttrFn::V2 { f, wide });
    if v2_first {
        v2(app_wide).or_else(|| v2(!app_wide)).or_else(|| v3(app_wide)).or_else(|| v3(!app_wide))
    } else {
        v3(app_wide).or_else(|| v3(!app_wide)).or_else(|| v2(app_wide)).or_else(|| v2(!app_wide))
    }
}

/// The shared body of SQLColAttribute(W) and SQLColAttributes(W). Character attributes
/// count bytes in both forms (BufferLength and *StringLengthPtr); numeric ones go to
/// NumericAttributePtr untouched.
fn col_attribute(
    name: &'static str,
    stmt: SqlHStmt,
    col: u16,
    field: DescField,
    char_attr: SqlPointer,
    buf_len: i16,
    out_len: *mut i16,
    num_attr: *mut SqlLen,
    app_wide: bool,
    v2: bool,
) -> SqlReturn {
    let s = handle!(stmt, stmt);
    let call = begin!(s, F::SQL_API_SQLCOLATTRIBUTE);
    // HY091 (DM, §4.1): a FieldIdentifier in no defined range.
    if let Err((state, msg)) = super::checks::check_col_attr_field(field) {
        return call.fail(state, msg);
    }
    let is_char = is_char_col_attr(field.0 as i32);
    if is_char && buf_len < 0 && buf_len as i32 != SQL_NTS {
        return call.fail(SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "BufferLength is negative");
    }
    let Some(af) = pick_attr_fn(&s.link.driver.fns, app_wide, v2) else { return call.missing(name) };
    let h = s.hstmt;
    let (char_attr, out_len, num_attr) = (AppPtr::new(char_attr), AppPtr::new(out_len), AppPtr::new(num_attr));
    if !is_char || af.wide() == app_wide {
        // SAFETY: live driver statement (the DM statement outlives the operation); the
        // application's buffers as given, valid until the operation completes (§2.9).
        return call
            .invoke(move |_| unsafe { af.call(h as SqlHStmt, col, field, char_attr.get(), buf_len, out_len.get(), num_attr.get()) });
    }
    let cap_bytes = buf_len.max(0) as usize;
    if af.wide() {
        // Application narrow, driver wide.
        let mut rb = RecvBuf::<u16, i16>::new(initial_cap(cap_bytes));
        call.invoke(move |extra| {
            let (rc, w) = rb.recv(
                |buf, cap, l| {
                    let bytes = (cap * 2).min(i16::MAX as usize - 1) as i16;
                    // SAFETY: live driver statement; the DM buffer of `bytes` bytes and the
                    // length, owned by this closure; the application's numeric out pointer.
                    unsafe { af.call(h as SqlHStmt, col, field, buf.cast(), bytes, l, num_attr.get()) }
                },
                |b| reported(b).map(|b| b / 2),
            );
            if rc.is_success() {
                // SAFETY: application buffer of `buf_len` bytes.
                let (n, t) = unsafe { wide_to_app_narrow(w, char_attr.get().cast(), cap_bytes) };
                // SAFETY: optional application out pointer.
                unsafe { put_len(out_len.get(), n, i16::MAX) };
                if t {
                    extra.push(DiagRecord::dm(SqlState::STRING_TRUNCATED, TRUNCATED));
                }
            }
            rc
        })
    } else {
        // Application wide (length in bytes), driver narrow.
        let mut rb = RecvBuf::<u8, i16>::new(initial_cap(cap_bytes * 2));
        call.invoke(move |extra| {
            let (rc, n8) = rb.recv(
                |buf, cap, l| {
                    let cap = cap.min(i16::MAX as usize) as i16;
                    // SAFETY: live driver statement; the DM buffer of `cap` bytes and the
                    // length, owned by this closure; the application's numeric out pointer.
                    unsafe { af.call(h as SqlHStmt, col, field, buf.cast(), cap, l, num_attr.get()) }
                },
                reported,
            );
            if rc.is_success() {
                // SAFETY: application buffer of `buf_len` bytes = `buf_len / 2` characters.
                let (n, t) = unsafe { narrow_to_app_wide(n8, char_attr.get().cast(), cap_bytes / 2) };
                // SAFETY: optional application out pointer; the length is in bytes.
                unsafe { put_len(out_len.get(), n * 2, i16::MAX) };
                if t {
                    extra.push(DiagRecord::dm(SqlState::STRING_TRUNCATED, TRUNCATED));
                }
            }
            rc
        })
    }
}

/// SQLColAttribute (ANSI).
pub unsafe extern "C" fn SQLColAttribute(
    stmt: SqlHStmt,
    col: SqlUSmallInt,
    field: DescField,
    char_attr: SqlPointer,
    buf_len: SqlSmallInt,
    out_len: *mut SqlSmallInt,
    num_attr: *mut SqlLen,
) -> SqlReturn {
    trace_enter!("SQLColAttribute", "{:p} {} {:?} {:p} {}", stmt, col, field, char_attr, buf_len);
    boundary("SQLColAttribute", || col_attribute("SQLColAttribute", stmt, col, field, char_attr, buf_len, out_len, num_attr, false, false))
}

/// SQLColAttributeW (Unicode; character attributes still count bytes).
pub unsafe extern "C" fn SQLColAttributeW(
    stmt: SqlHStmt,
    col: SqlUSmallInt,
    field: DescField,
    char_attr: SqlPointer,
    buf_len: SqlSmallInt,
    out_len: *mut SqlSmallInt,
    num_attr: *mut SqlLen,
) -> SqlReturn {
    trace_enter!("SQLColAttributeW", "{:p} {} {:?} {:p} {}", stmt, col, field, char_attr, buf_len);
    boundary("SQLColAttributeW", || col_attribute("SQLColAttributeW", stmt, col, field, char_attr, buf_len, out_len, num_attr, true, false))
}

/// SQLColAttributes (ODBC 2.x): forwarded to the driver's SQLColAttributes, or mapped to
/// SQLColAttribute (SQL_COLUMN_COUNT/NAME/NULLABLE → SQL_DESC_COUNT/NAME/NULLABLE).
pub unsafe extern "C" fn SQLColAttributes(
    stmt: SqlHStmt,
    col: SqlUSmallInt,
    field: SqlUSmallInt,
    char_attr: SqlPointer,
    buf_len: SqlSmallInt,
    out_len: *mut SqlSmallInt,
    num_attr: *mut SqlLen,
) -> SqlReturn {
    trace_enter!("SQLColAttributes", "{:p} {} {} {:p} {}", stmt, col, field, char_attr, buf_len);
    boundary("SQLColAttributes", || {
        col_attribute("SQLColAttributes", stmt, col, v2_to_v3_field(field), char_attr, buf_len, out_len, num_attr, false, true)
    })
}

/// SQLColAttributesW (ODBC 2.x, Unicode).
pub unsafe extern "C" fn SQLColAttributesW(
    stmt: SqlHStmt,
    col: SqlUSmallInt,
    field: SqlUSmallInt,
    char_attr: SqlPointer,
    buf_len: SqlSmallInt,
    out_len: *mut SqlSmallInt,
    num_attr: *mut SqlLen,
) -> SqlReturn {
    trace_enter!("SQLColAttributesW", "{:p} {} {} {:p} {}", stmt, col, field, char_attr, buf_len);
    boundary("SQLColAttributesW", || {
        col_attribute("SQLColAttributesW", stmt, col, v2_to_v3_field(field), char_attr, buf_len, out_len, num_attr, true, true)
    })
}

/// Plain forward of a statement function without string arguments: IM001 when missing.
/// The arguments are evaluated inside the driver-call closure (re-run on re-invocation),
/// so application pointers must be passed as `AppPtr` values with `.get()`.
macro_rules! forward {
    ($call:ident, $s:ident, $name:literal, $field:ident ( $($arg:expr),* )) => {{
        let Some(f) = $s.link.driver.fns.$field else { return $call.missing($name) };
        let h = $s.hstmt;
        // SAFETY: live driver statement (the DM statement outlives the operation); the
        // application's arguments as given, pointers wrapped in `AppPtr` by the caller and
        // valid until the operation completes (§2.9).
        $call.invoke(move |_| unsafe { f(h as SqlHStmt, $($arg),*) })
    }};
}

/// Whether `o` is a FetchOrientation of SQLFetchScroll/SQLExtendedFetch (NEXT, FIRST, LAST,
/// PRIOR, ABSOLUTE, RELATIVE, BOOKMARK).
fn valid_orientation(o: FetchOrientation) -> bool {
    matches!(o.0, 1..=6 | 8)
}

/// SQLFetchScroll: an unknown FetchOrientation is HY106, detected by the DM (§4.1).
pub unsafe extern "C" fn SQLFetchScroll(stmt: SqlHStmt, orientation: FetchOrientation, offset: SqlLen) -> SqlReturn {
    trace_enter!("SQLFetchScroll", "{:p} {:?} {}", stmt, orientation, offset);
    boundary("SQLFetchScroll", || {
        let s = handle!(stmt, stmt);
        let call = begin!(s, F::SQL_API_SQLFETCHSCROLL);
        if !valid_orientation(orientation) {
            return call.fail(SqlState::FETCH_TYPE_OUT_OF_RANGE, "Fetch type out of range");
        }
        let fns = &s.link.driver.fns;
        if let (None, Some(f)) = (fns.SQLFetchScroll, fns.SQLExtendedFetch) {
            // An ODBC 2 driver (docs/decisions.md #98, #115, #123): SQLExtendedFetch, with
            // the DM's conversions after it.
            let hooks = FetchHooks::new(&call, &s);
            return call.invoke(extended_fetch(&s, f, orientation, offset, hooks));
        }
        let occ = super::concurrency::fetch_hook(&s);
        let wconv = s.ansi_wchar && !s.async_slot.is_active() && super::wconv::before_fetch(&call, &s);
        if wconv || occ.is_some() {
            let Some(f) = s.link.driver.fns.SQLFetchScroll else { return call.missing("SQLFetchScroll") };
            let (h, st) = (s.hstmt, s.clone());
            return call.invoke(move |extra| {
                // SAFETY: live driver statement (the DM statement outlives the operation).
                let rc = unsafe { f(h as SqlHStmt, orientation, offset) };
                if wconv && rc.is_success() {
                    super::wconv::after_fetch(&st, extra);
                }
                if let Some(o) = &occ {
                    super::concurrency::after_fetch(o, rc);
                }
                rc
            });
        }
        forward!(call, s, "SQLFetchScroll", SQLFetchScroll(orientation, offset))
    })
}

/// The driver call of SQLFetchScroll / SQLFetch on an ODBC 2 driver: SQLExtendedFetch with
/// the application's SQL_ATTR_ROWS_FETCHED_PTR and SQL_ATTR_ROW_STATUS_PTR, which the DM
/// keeps for such a driver (decision #115), or DM buffers where they are not set (the
/// status array sized by the driver's rowset size).
fn extended_fetch(
    s: &Stmt,
    f: odbc_dm_abi::fns::SQLExtendedFetch,
    orientation: FetchOrientation,
    offset: SqlLen,
    hooks: FetchHooks,
) -> impl FnMut(&mut Vec<DiagRecord>) -> SqlReturn + Send + 'static {
    let (rows_fetched, row_status) = s.gate.read(|c| c.odbc2_block.as_ref().map_or((0, 0), |b| (b.rows_fetched, b.row_status)));
    let rows = if row_status == 0 { odbc2_rowset_size(s) } else { 0 };
    let (rows_fetched, row_status) = (AppPtr::new(rows_fetched as *mut SqlULen), AppPtr::new(row_status as *mut SqlUSmallInt));
    let h = s.hstmt;
    move |extra| {
        let mut fetched: SqlULen = 0;
        let mut status = vec![0u16; rows];
        let pf = if rows_fetched.get().is_null() { &mut fetched as *mut SqlULen } else { rows_fetched.get() };
        let ps = if row_status.get().is_null() { status.as_mut_ptr() } else { row_status.get() };
        // SAFETY: live driver statement; the application's pointers, valid while they are
        // set as statement attributes (§2.9), or DM buffers of the driver's rowset size.
        let rc = unsafe { f(h as SqlHStmt, orientation, offset, pf, ps) };
        if let Some(st) = &hooks.wconv {
            if rc.is_success() {
                super::wconv::after_fetch(st, extra);
            }
        }
        if let Some(o) = &hooks.occ {
            // SQLSetPos reports in the application's SQL_ATTR_ROW_STATUS_PTR (kept by the
            // DM), never in this call's own buffer.
            super::concurrency::after_extended_fetch(o, rc, pf as usize, row_status.get() as usize);
        }
        rc
    }
}

/// What runs after a fetch's driver call besides the call itself: the DM's SQL_C_WCHAR
/// conversion for an ANSI-only driver (prepared by [`super::wconv::before_fetch`], which
/// this runs) and the optimistic-concurrency copy of the rowset.
struct FetchHooks {
    wconv: Option<Arc<Stmt>>,
    occ: Option<Arc<Stmt>>,
}

impl FetchHooks {
    fn new(call: &StmtCall<'_>, s: &Arc<Stmt>) -> FetchHooks {
        let wconv = s.ansi_wchar && !s.async_slot.is_active() && super::wconv::before_fetch(call, s);
        FetchHooks { wconv: wconv.then(|| s.clone()), occ: super::concurrency::fetch_hook(s) }
    }
}

/// The rows an ODBC 2 driver's SQLExtendedFetch fills: the larger of the driver's
/// SQL_ROWSET_SIZE and the array size the DM set for SQL_ATTR_ROW_ARRAY_SIZE (a driver whose
/// SQLGetStmtOption is a stub answers nothing).
pub(super) fn odbc2_rowset_size(s: &Stmt) -> usize {
    let size = s.gate.read(|c| c.odbc2_block.as_ref().map_or(0, |b| b.array_size));
    driver_rowset_size(s).max(size.min(65_536))
}

/// The rowset size an ODBC 2 driver's SQLExtendedFetch fills (SQL_ROWSET_SIZE, read with
/// SQLGetStmtAttr or SQLGetStmtOption), at least 1 and at most 65,536.
fn driver_rowset_size(s: &Stmt) -> usize {
    super::concurrency::driver_stmt_attr(&s.link, s.driver_handle(), StmtAttr::SQL_ROWSET_SIZE).map_or(1, |v| v.clamp(1, 65_536))
}

/// SQLExtendedFetch (ODBC 2.x): HY106 for an unknown FetchOrientation (DM).
pub unsafe extern "C" fn SQLExtendedFetch(
    stmt: SqlHStmt,
    orientation: FetchOrientation,
    offset: SqlLen,
    row_count: *mut SqlULen,
    row_status: *mut SqlUSmallInt,
) -> SqlReturn {
    trace_enter!("SQLExtendedFetch", "{:p} {:?} {}", stmt, orientation, offset);
    boundary("SQLExtendedFetch", || {
        let s = handle!(stmt, stmt);
        let call = begin!(s, F::SQL_API_SQLEXTENDEDFETCH);
        if !valid_orientation(orientation) {
            return call.fail(SqlState::FETCH_TYPE_OUT_OF_RANGE, "Fetch type out of range");
        }
        let (row_count, row_status) = (AppPtr::new(row_count), AppPtr::new(row_status));
        if let Some(o) = super::concurrency::fetch_hook(&s) {
            // The DM's optimistic concurrency copies the rowset after the driver's answer
            // (decision #84); SQLSetPos then reports in RowStatusArray (ODBC 2).
            let Some(f) = s.link.driver.fns.SQLExtendedFetch else { return call.missing("SQLExtendedFetch") };
            let h = s.hstmt;
            let wconv = s.ansi_wchar && !s.async_slot.is_active() && super::wconv::before_fetch(&call, &s);
            return call.invoke(move |extra| {
                // SAFETY: live driver statement (the DM statement outlives the operation);
                // the application's out pointers, valid until the operation completes.
                let rc = unsafe { f(h as SqlHStmt, orientation, offset, row_count.get(), row_status.get()) };
                if wconv && rc.is_success() {
                    super::wconv::after_fetch(&o, extra);
                }
                super::concurrency::after_extended_fetch(&o, rc, row_count.get() as usize, row_status.get() as usize);
                rc
            });
        }
        if s.ansi_wchar && !s.async_slot.is_active() && super::wconv::before_fetch(&call, &s) {
            let Some(f) = s.link.driver.fns.SQLExtendedFetch else { return call.missing("SQLExtendedFetch") };
            let (h, st) = (s.hstmt, s.clone());
            return call.invoke(move |extra| {
                // SAFETY: live driver statement (the DM statement outlives the operation);
                // the application's out pointers, valid until the operation completes.
                let rc = unsafe { f(h as SqlHStmt, orientation, offset, row_count.get(), row_status.get()) };
                if rc.is_success() {
                    super::wconv::after_fetch(&st, extra);
                }
                rc
            });
        }
        forward!(call, s, "SQLExtendedFetch", SQLExtendedFetch(orientation, offset, row_count.get(), row_status.get()))
    })
}

/// SQLSetPos: Operation must be SQL_POSITION..SQL_ADD and LockType SQL_LOCK_NO_CHANGE..
/// SQL_LOCK_UNLOCK, else HY092 (DM).
pub unsafe extern "C" fn SQLSetPos(stmt: SqlHStmt, row: fns::SqlSetPosIRow, operation: SetPosOperation, lock: LockType) -> SqlReturn {
    trace_enter!("SQLSetPos", "{:p} {} {:?} {:?}", stmt, row, operation, lock);
    boundary("SQLSetPos", || {
        let s = handle!(stmt, stmt);
        let call = begin!(s, F::SQL_API_SQLSETPOS);
        if operation.0 > SetPosOperation::SQL_ADD.0 {
            return call.fail(SqlState::INVALID_ATTRIBUTE_IDENTIFIER, "Invalid attribute/option identifier: Operation");
        }
        if lock.0 > LockType::SQL_LOCK_UNLOCK.0 {
            return call.fail(SqlState::INVALID_ATTRIBUTE_IDENTIFIER, "Invalid attribute/option identifier: LockType");
        }
        // §5.5: the DM's own SQL_UPDATE/DELETE/REFRESH where it emulates concurrency.
        let call = match super::concurrency::set_pos(call, &s, row, operation, lock) {
            Ok(rc) => return rc,
            Err(c) => c,
        };
        if s.ansi_wchar && !s.async_slot.is_active() {
            // The bound columns at the row bind offset the DM keeps (decision #149).
            super::wconv::apply_row_offset(&s);
        }
        forward!(call, s, "SQLSetPos", SQLSetPos(row, operation, lock))
    })
}

/// SQLBulkOperations: Operation must be SQL_ADD..SQL_FETCH_BY_BOOKMARK, else HY092 (DM).
pub unsafe extern "C" fn SQLBulkOperations(stmt: SqlHStmt, operation: BulkOperation) -> SqlReturn {
    trace_enter!("SQLBulkOperations", "{:p} {:?}", stmt, operation);
    boundary("SQLBulkOperations", || {
        let s = handle!(stmt, stmt);
        let call = begin!(s, F::SQL_API_SQLBULKOPERATIONS);
        if !(BulkOperation::SQL_ADD.0..=BulkOperation::SQL_FETCH_BY_BOOKMARK.0).contains(&operation.0) {
            return call.fail(SqlState::INVALID_ATTRIBUTE_IDENTIFIER, "Invalid attribute/option identifier: Operation");
        }
        if s.ansi_wchar && !s.async_slot.is_active() {
            // The bound columns at the row bind offset the DM keeps (decision #149).
            super::wconv::apply_row_offset(&s);
        }
        forward!(call, s, "SQLBulkOperations", SQLBulkOperations(operation))
    })
}

/// SQLMoreResults: SQL_NO_DATA from the driver when there is no further result.
pub unsafe extern "C" fn SQLMoreResults(stmt: SqlHStmt) -> SqlReturn {
    trace_enter!("SQLMoreResults", "{:p}", stmt);
    boundary("SQLMoreResults", || {
        let s = handle!(stmt, stmt);
        let call = begin!(s, F::SQL_API_SQLMORERESULTS);
        super::wconv::forget_get(&s);
        forward!(call, s, "SQLMoreResults", SQLMoreResults())
    })
}

/// SQLRowCount: (HY010) in S1–S3 and S8–S12; a null RowCountPtr is HY009.
pub unsafe extern "C" fn SQLRowCount(stmt: SqlHStmt, count: *mut SqlLen) -> SqlReturn {
    trace_enter!("SQLRowCount", "{:p}", stmt);
    boundary("SQLRowCount", || {
        let s = handle!(stmt, stmt);
        let call = begin!(s, F::SQL_API_SQLROWCOUNT);
        if count.is_null() {
            return call.fail(SqlState::INVALID_NULL_POINTER, "RowCountPtr is a null pointer");
        }
        if let Some(n) = super::concurrency::dm_row_count(&s) {
            // The DM ran the statement's last UPDATE/DELETE itself (emulated SQLSetPos or
            // positioned statement): its count, not the driver statement's.
            // SAFETY: non-null application out pointer.
            unsafe { count.write_unaligned(n) };
            return call.finish(SqlReturn::SQL_SUCCESS);
        }
        let count = AppPtr::new(count);
        forward!(call, s, "SQLRowCount", SQLRowCount(count.get()))
    })
}

/// SQLCloseCursor: 24000 without a cursor (§4.5). An ODBC 2.x driver gets
/// SQLFreeStmt(SQL_CLOSE), which closes silently, so the DM's state check stands for it.
pub unsafe extern "C" fn SQLCloseCursor(stmt: SqlHStmt) -> SqlReturn {
    trace_enter!("SQLCloseCursor", "{:p}", stmt);
    boundary("SQLCloseCursor", || {
        let s = handle!(stmt, stmt);
        let call = begin!(s, F::SQL_API_SQLCLOSECURSOR);
        super::wconv::forget_get(&s);
        let fns = &s.link.driver.fns;
        let rc = if let Some(f) = fns.SQLCloseCursor {
            // SAFETY: live driver statement.
            unsafe { f(s.driver_handle()) }
        } else if let Some(f) = fns.SQLFreeStmt {
            // SAFETY: live driver statement.
            unsafe { f(s.driver_handle(), FreeStmtOption::SQL_CLOSE) }
        } else {
            return call.missing("SQLCloseCursor");
        };
        if rc.is_success() {
            super::concurrency::on_free_stmt(&s, FreeStmtOption::SQL_CLOSE);
        }
        call.finish(rc)
    })
}

/// SQLGetCursorName (ANSI; lengths in bytes).
pub unsafe extern "C" fn SQLGetCursorName(
    stmt: SqlHStmt,
    name: *mut SqlChar,
    name_max: SqlSmallInt,
    name_len: *mut SqlSmallInt,
) -> SqlReturn {
    trace_enter!("SQLGetCursorName", "{:p} {:p} {}", stmt, name, name_max);
    boundary("SQLGetCursorName", || {
        let s = handle!(stmt, stmt);
        let mut call = begin!(s, F::SQL_API_SQLGETCURSORNAME);
        if name_max < 0 {
            return call.fail(SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "BufferLength is negative");
        }
        let fns = &s.link.driver.fns;
        let h = s.driver_handle();
        let rc = if let Some(f) = fns.SQLGetCursorName {
            // SAFETY: live driver statement; the application's buffers as given.
            unsafe { f(h, name, name_max, name_len) }
        } else if let Some(f) = fns.SQLGetCursorNameW {
            let (rc, w) = recv_text::<u16>(s.id, initial_cap(name_max as usize), |buf, cap| {
                let mut l: i16 = 0;
                // SAFETY: DM buffer of `cap` units.
                let rc = unsafe { f(h, buf, cap.min(i16::MAX as usize) as i16, &mut l) };
                (rc, reported(l))
            });
            if rc.is_success() {
                // SAFETY: application buffer of `name_max` bytes.
                let (n, t) = unsafe { wide_to_app_narrow(&w, name, name_max as usize) };
                // SAFETY: optional application out pointer.
                unsafe { put_len(name_len, n, i16::MAX) };
                if t {
                    call.warn(SqlState::STRING_TRUNCATED, TRUNCATED);
                }
            }
            rc
        } else {
            return call.missing("SQLGetCursorName");
        };
        call.finish(rc)
    })
}

/// SQLGetCursorNameW (Unicode; lengths in characters).
pub unsafe extern "C" fn SQLGetCursorNameW(
    stmt: SqlHStmt,
    name: *mut SqlWChar,
    name_max: SqlSmallInt,
    name_len: *mut SqlSmallInt,
) -> SqlReturn {
    trace_enter!("SQLGetCursorNameW", "{:p} {:p} {}", stmt, name, name_max);
    boundary("SQLGetCursorNameW", || {
        let s = handle!(stmt, stmt);
        let mut call = begin!(s, F::SQL_API_SQLGETCURSORNAME);
        if name_max < 0 {
            return call.fail(SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "BufferLength is negative");
        }
        let fns = &s.link.driver.fns;
        let h = s.driver_handle();
        let rc = if let Some(f) = fns.SQLGetCursorNameW {
            // SAFETY: live driver statement; the application's buffers as given.
            unsafe { f(h, name, name_max, name_len) }
        } else if let Some(f) = fns.SQLGetCursorName {
            let (rc, n8) = recv_text::<u8>(s.id, initial_cap(name_max as usize * 4), |buf, cap| {
                let mut l: i16 = 0;
                // SAFETY: DM buffer of `cap` bytes.
                let rc = unsafe { f(h, buf, cap.min(i16::MAX as usize) as i16, &mut l) };
                (rc, reported(l))
            });
            if rc.is_success() {
                // SAFETY: application buffer of `name_max` characters.
                let (n, t) = unsafe { narrow_to_app_wide(&n8, name, name_max as usize) };
                // SAFETY: optional application out pointer.
                unsafe { put_len(name_len, n, i16::MAX) };
                if t {
                    call.warn(SqlState::STRING_TRUNCATED, TRUNCATED);
                }
            }
            rc
        } else {
            return call.missing("SQLGetCursorNameW");
        };
        call.finish(rc)
    })
}

/// SQLSetCursorName (ANSI): HY009 for a null name, HY090 for a bad length (DM).
pub unsafe extern "C" fn SQLSetCursorName(stmt: SqlHStmt, name: *const SqlChar, name_len: SqlSmallInt) -> SqlReturn {
    trace_enter!("SQLSetCursorName", "{:p} {:p} {}", stmt, name, name_len);
    boundary("SQLSetCursorName", || {
        let s = handle!(stmt, stmt);
        let call = begin!(s, F::SQL_API_SQLSETCURSORNAME);
        if name.is_null() {
            return call.fail(SqlState::INVALID_NULL_POINTER, "CursorName is a null pointer");
        }
        if name_len < 0 && name_len as i32 != SQL_NTS {
            return call.fail(SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "Invalid string or buffer length");
        }
        let fns = &s.link.driver.fns;
        let rc = if let Some(f) = fns.SQLSetCursorName {
            // SAFETY: live driver statement; the application's string as given.
            unsafe { f(s.driver_handle(), name, name_len) }
        } else if let Some(f) = fns.SQLSetCursorNameW {
            // SAFETY: the application's string with its (validated) length.
            let Ok(w) = (unsafe { InWide::from_narrow(name, name_len as isize) }) else {
                return call.fail(SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "Invalid string or buffer length");
            };
            // SAFETY: live driver statement; `w` outlives the call.
            unsafe { f(s.driver_handle(), w.ptr(), w.len_i16()) }
        } else {
            return call.missing("SQLSetCursorName");
        };
        call.finish(rc)
    })
}

/// SQLSetCursorNameW (Unicode).
pub unsafe extern "C" fn SQLSetCursorNameW(stmt: SqlHStmt, name: *const SqlWChar, name_len: SqlSmallInt) -> SqlReturn {
    trace_enter!("SQLSetCursorNameW", "{:p} {:p} {}", stmt, name, name_len);
    boundary("SQLSetCursorNameW", || {
        let s = handle!(stmt, stmt);
        let call = begin!(s, F::SQL_API_SQLSETCURSORNAME);
        if name.is_null() {
            return call.fail(SqlState::INVALID_NULL_POINTER, "CursorName is a null pointer");
        }
        if name_len < 0 && name_len as i32 != SQL_NTS {
            return call.fail(SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "Invalid string or buffer length");
        }
        let fns = &s.link.driver.fns;
        let rc = if let Some(f) = fns.SQLSetCursorNameW {
            // SAFETY: live driver statement; the application's string as given.
            unsafe { f(s.driver_handle(), name, name_len) }
        } else if let Some(f) = fns.SQLSetCursorName {
            // SAFETY: the application's string with its (validated) length.
            let Ok(n) = (unsafe { InNarrow::from_wide(name, name_len as isize) }) else {
                return call.fail(SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "Invalid string or buffer length");
            };
            // SAFETY: live driver statement; `n` outlives the call.
            unsafe { f(s.driver_handle(), n.ptr(), n.len_i16()) }
        } else {
            return call.missing("SQLSetCursorNameW");
        };
        call.finish(rc)
    })
}

/// SQL_SCROLL_* KeysetSize values of SQLSetScrollOptions.
const SQL_SCROLL_FORWARD_ONLY: isize = 0;
const SQL_SCROLL_KEYSET_DRIVEN: isize = -1;
const SQL_SCROLL_DYNAMIC: isize = -2;
const SQL_SCROLL_STATIC: isize = -3;

/// SQLSetScrollOptions (ODBC 2.x): forwarded when the driver has it; otherwise mapped to
/// SQLSetStmtAttr(SQL_ATTR_CURSOR_TYPE, SQL_ATTR_KEYSET_SIZE, SQL_ATTR_CONCURRENCY,
/// SQL_ROWSET_SIZE) as the SQLSetScrollOptions mapping appendix describes. HY107 for a bad
/// KeysetSize/RowsetSize and HY108 for a bad Concurrency (DM). Allowed only before the
/// statement is prepared or executed (HY010 otherwise).
pub unsafe extern "C" fn SQLSetScrollOptions(stmt: SqlHStmt, concurrency: SqlUSmallInt, keyset: SqlLen, rowset: SqlUSmallInt) -> SqlReturn {
    trace_enter!("SQLSetScrollOptions", "{:p} {} {} {}", stmt, concurrency, keyset, rowset);
    boundary("SQLSetScrollOptions", || {
        let s = handle!(stmt, stmt);
        let call = begin!(s, F::SQL_API_SQLSETSCROLLOPTIONS);
        if s.gate.read(|c| c.status.state) != crate::handles::stmt_state::StmtState::S1 {
            return call
                .fail(SqlState::FUNCTION_SEQUENCE_ERROR, "Function sequence error: SQLSetScrollOptions after SQLPrepare or SQLExecDirect");
        }
        let keyset_ok = matches!(keyset, SQL_SCROLL_FORWARD_ONLY | SQL_SCROLL_KEYSET_DRIVEN | SQL_SCROLL_DYNAMIC | SQL_SCROLL_STATIC)
            || keyset > rowset as isize;
        if rowset == 0 || !keyset_ok {
            return call.fail(SqlState(*b"HY107"), "Row value out of range");
        }
        if !(1..=4).contains(&concurrency) {
            return call.fail(SqlState(*b"HY108"), "Concurrency option out of range");
        }
        let fns = &s.link.driver.fns;
        let h = s.driver_handle();
        if let Some(f) = fns.SQLSetScrollOptions {
            // SAFETY: live driver statement; plain values.
            let rc = unsafe { f(h, concurrency, keyset, rowset) };
            return call.finish(rc);
        }
        let Some(set) = fns.SQLSetStmtAttr.or(fns.SQLSetStmtAttrW) else { return call.missing("SQLSetScrollOptions") };
        let cursor_type = match keyset {
            SQL_SCROLL_FORWARD_ONLY => SQL_CURSOR_FORWARD_ONLY,
            SQL_SCROLL_STATIC => SQL_CURSOR_STATIC,
            SQL_SCROLL_DYNAMIC => SQL_CURSOR_DYNAMIC,
            _ => SQL_CURSOR_KEYSET_DRIVEN,
        };
        let mut attrs = vec![(StmtAttr::SQL_ATTR_CURSOR_TYPE, cursor_type)];
        if keyset > 0 {
            attrs.push((StmtAttr::SQL_ATTR_KEYSET_SIZE, keyset as usize));
        }
        attrs.push((StmtAttr::SQL_ATTR_CONCURRENCY, concurrency as usize));
        attrs.push((StmtAttr::SQL_ROWSET_SIZE, rowset as usize));
        let mut worst = SqlReturn::SQL_SUCCESS;
        for (attr, v) in attrs {
            // SAFETY: live driver statement; integer attributes passed by value.
            let rc = unsafe { set(h, attr, v as SqlPointer, 0) };
            if !rc.is_success() {
                return call.finish(rc);
            }
            if rc == SqlReturn::SQL_SUCCESS_WITH_INFO {
                worst = rc;
            }
        }
        call.finish(worst)
    })
}
