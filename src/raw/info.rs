//! SQLGetInfo (A/W) and the DM-only enumerations SQLDataSources and SQLDrivers (A/W).
//!
//! SQLGetInfo: before connecting only SQL_ODBC_VER and SQL_DM_VER are answered (by the
//! DM); everything else is 08003 (§4.3). The DM also answers the driver-handle info
//! types (SQL_DRIVER_HENV/HDBC/HSTMT/HDESC/HLIB). Everything else goes to the driver;
//! character-string info types are converted when the driver has only the other width.
//! BufferLength and *StringLengthPtr count BYTES in both forms.
//!
//! SQLDataSources / SQLDrivers read the ini files on every call ("SQLDataSources and
//! SQLDrivers read the ini files"): `odbc.ini` (user, then system) and `odbcinst.ini`,
//! located through ODBCSYSINI / ODBCINSTINI / ODBCINI as unixODBC does.

use std::sync::Arc;

use odbc_dm_abi::*;

use super::strings::{put_len, recv_text, write_app_bytes, RECV_INITIAL, TRUNCATED};
use super::{boundary, handle, same_signature, Call};
use crate::config::{self, ConfigSource, DsnScope};
use crate::diag::SqlState;
use crate::handles::{self, Dbc, DriverLink};
use crate::text;
use crate::trace_enter;

same_signature!(SQLGetInfo, SQLGetInfoW, SQLDataSources, SQLDataSourcesW, SQLDrivers, SQLDriversW);

/// SQL_ODBC_VER as the DM answers it: the ODBC version the DM implements.
pub const DM_ODBC_VER: &str = "03.80.0000";
/// SQL_DM_VER: `##.##.####.####`, the ODBC version then the DM's own build.
pub const DM_VER: &str = "03.80.0000.0001";
/// SQL_XOPEN_CLI_YEAR: the year of the X/Open (Open Group) CLI specification the *Driver
/// Manager* complies with (SQLGetInfo), answered by the DM: ODBC 3.x follows the 1995 CLI.
pub const DM_XOPEN_CLI_YEAR: &str = "1995";

/// Invalid retrieval code (SQLDataSources / SQLDrivers Direction).
const HY103: SqlState = SqlState(*b"HY103");

/// The InfoTypes whose value is a character string (converted A↔W when the driver has
/// only the other width). Every other InfoType is a fixed-size value and passes as is.
const STRING_INFO_TYPES: &[InfoType] = &[
    InfoType::SQL_ACCESSIBLE_PROCEDURES,
    InfoType::SQL_ACCESSIBLE_TABLES,
    InfoType::SQL_CATALOG_NAME,
    InfoType::SQL_CATALOG_NAME_SEPARATOR,
    InfoType::SQL_CATALOG_TERM,
    InfoType::SQL_COLLATION_SEQ,
    InfoType::SQL_COLUMN_ALIAS,
    InfoType::SQL_DATA_SOURCE_NAME,
    InfoType::SQL_DATA_SOURCE_READ_ONLY,
    InfoType::SQL_DATABASE_NAME,
    InfoType::SQL_DBMS_NAME,
    InfoType::SQL_DBMS_VER,
    InfoType::SQL_DESCRIBE_PARAMETER,
    InfoType::SQL_DM_VER,
    InfoType::SQL_DRIVER_NAME,
    InfoType::SQL_DRIVER_ODBC_VER,
    InfoType::SQL_DRIVER_VER,
    InfoType::SQL_EXPRESSIONS_IN_ORDERBY,
    InfoType::SQL_IDENTIFIER_QUOTE_CHAR,
    InfoType::SQL_INTEGRITY,
    InfoType::SQL_KEYWORDS,
    InfoType::SQL_LIKE_ESCAPE_CLAUSE,
    InfoType::SQL_MAX_ROW_SIZE_INCLUDES_LONG,
    InfoType::SQL_MULT_RESULT_SETS,
    InfoType::SQL_MULTIPLE_ACTIVE_TXN,
    InfoType::SQL_NEED_LONG_DATA_LEN,
    InfoType::SQL_ODBC_VER,
    InfoType::SQL_ORDER_BY_COLUMNS_IN_SELECT,
    InfoType::SQL_OUTER_JOINS,
    InfoType::SQL_PROCEDURE_TERM,
    InfoType::SQL_PROCEDURES,
    InfoType::SQL_ROW_UPDATES,
    InfoType::SQL_SCHEMA_TERM,
    InfoType::SQL_SEARCH_PATTERN_ESCAPE,
    InfoType::SQL_SERVER_NAME,
    InfoType::SQL_SPECIAL_CHARACTERS,
    InfoType::SQL_TABLE_TERM,
    InfoType::SQL_USER_NAME,
    InfoType::SQL_XOPEN_CLI_YEAR,
];

/// Whether an InfoType's value is a character string.
pub(crate) fn is_string_info(info: InfoType) -> bool {
    STRING_INFO_TYPES.contains(&info)
}

/// SQLGetInfo (ANSI).
pub unsafe extern "C" fn SQLGetInfo(
    dbc: SqlHDbc,
    info: InfoType,
    value: SqlPointer,
    buf_len: SqlSmallInt,
    out_len: *mut SqlSmallInt,
) -> SqlReturn {
    // Tracing: no summary is published while it may be on (decision #103).
    if !lane_may_apply(info, buf_len) {
        return get_info_full_a(dbc, info, value, buf_len, out_len);
    }
    let table = crate::handles::dbc_table();
    // SAFETY: the pin is given back once on every path below (`release_then`, or the miss
    // path), and `d` is used only until then.
    let Some(pin) = (unsafe { table.lend(dbc as usize) }) else {
        return get_info_full_a(dbc, info, value, buf_len, out_len);
    };
    let Some(d) = pin.object(dbc as usize) else {
        // SAFETY: the pin of `dbc`, given back there.
        return unsafe { get_info_miss::<false>(dbc, info, value, buf_len, out_len) };
    };
    if !get_info_enter(&d, false) {
        // SAFETY: the pin of `dbc`, given back there.
        return unsafe { get_info_miss::<false>(dbc, info, value, buf_len, out_len) };
    }
    // SAFETY: the gate and the pin of `d` are held and given back there.
    unsafe { get_info_lane::<false>(&d, info, value, buf_len, out_len) }
}

/// The SQLGetInfo(W) lane after its entry point took the gate: the driver call, then the
/// gate and the pin given back. Out of line, with the connection first and the
/// application's other four arguments where the entry point received them, so that the
/// entry point tail-calls it without moving any of them, and its only callee-saved register
/// is the connection (decision #122). `extern "C"`, so that the call cannot unwind (nothing
/// in it panics: the continuation has its own `catch_unwind`) and is a tail call: the entry
/// point keeps no landing pad around it.
///
/// # Safety
/// `d` is the object of a pinned live connection handle: the caller holds its gate (taken
/// by [`get_info_enter`]) and the [`HandleTable::lend`](crate::handles::HandleTable::lend)
/// pin of its handle, both given back here; the application's arguments as given.
#[inline(never)]
unsafe extern "C" fn get_info_lane<const WIDE: bool>(
    d: &Dbc,
    info: InfoType,
    value: SqlPointer,
    buf_len: SqlSmallInt,
    out_len: *mut SqlSmallInt,
) -> SqlReturn {
    let rc = get_info_run(d, info, value, buf_len, out_len, WIDE);
    // SAFETY: the connection's own slot pins, whose `lend` pin the caller holds (given
    // back here, not through its `LanePin`); `d` is alive until then.
    unsafe { d.slot_pins.release_then(crate::handles::dbc_table(), || d.id, rc) }
}

/// SQLGetInfoW (Unicode; lengths in bytes).
pub unsafe extern "C" fn SQLGetInfoW(
    dbc: SqlHDbc,
    info: InfoType,
    value: SqlPointer,
    buf_len: SqlSmallInt,
    out_len: *mut SqlSmallInt,
) -> SqlReturn {
    // Tracing: no summary is published while it may be on (decision #103).
    if !lane_may_apply(info, buf_len) {
        return get_info_full_w(dbc, info, value, buf_len, out_len);
    }
    let table = crate::handles::dbc_table();
    // SAFETY: the pin is given back once on every path below (`release_then`, or the miss
    // path), and `d` is used only until then.
    let Some(pin) = (unsafe { table.lend(dbc as usize) }) else {
        return get_info_full_w(dbc, info, value, buf_len, out_len);
    };
    let Some(d) = pin.object(dbc as usize) else {
        // SAFETY: the pin of `dbc`, given back there.
        return unsafe { get_info_miss::<true>(dbc, info, value, buf_len, out_len) };
    };
    if !get_info_enter(&d, true) {
        // SAFETY: the pin of `dbc`, given back there.
        return unsafe { get_info_miss::<true>(dbc, info, value, buf_len, out_len) };
    }
    // SAFETY: the gate and the pin of `d` are held and given back there.
    unsafe { get_info_lane::<true>(&d, info, value, buf_len, out_len) }
}

/// The SQLGetInfo(W) lane did not apply after pinning the slot of `dbc`: gives the pin back
/// and runs the full path (a tail call from the lane).
///
/// # Safety
/// The lane's pin of `dbc` is held and given back here.
#[cold]
#[inline(never)]
unsafe extern "C" fn get_info_miss<const WIDE: bool>(
    dbc: SqlHDbc,
    info: InfoType,
    value: SqlPointer,
    buf_len: SqlSmallInt,
    out_len: *mut SqlSmallInt,
) -> SqlReturn {
    // SAFETY: the caller's contract.
    unsafe { crate::handles::dbc_table().release_id(dbc as usize) };
    if WIDE {
        get_info_full_w(dbc, info, value, buf_len, out_len)
    } else {
        get_info_full_a(dbc, info, value, buf_len, out_len)
    }
}

/// SQLGetInfo's full path (the entry point's own arguments, so that calling it is a tail
/// call; `extern "C"`: it cannot unwind, its body runs inside `boundary`).
#[inline(never)]
extern "C" fn get_info_full_a(
    dbc: SqlHDbc,
    info: InfoType,
    value: SqlPointer,
    buf_len: SqlSmallInt,
    out_len: *mut SqlSmallInt,
) -> SqlReturn {
    get_info_full("SQLGetInfo", dbc, info, value, buf_len, out_len, false)
}

/// SQLGetInfoW's full path (as [`get_info_full_a`]).
#[inline(never)]
extern "C" fn get_info_full_w(
    dbc: SqlHDbc,
    info: InfoType,
    value: SqlPointer,
    buf_len: SqlSmallInt,
    out_len: *mut SqlSmallInt,
) -> SqlReturn {
    get_info_full("SQLGetInfoW", dbc, info, value, buf_len, out_len, true)
}

/// SQLGetInfo(W)'s full path.
#[inline(always)]
fn get_info_full(
    name: &'static str,
    dbc: SqlHDbc,
    info: InfoType,
    value: SqlPointer,
    buf_len: SqlSmallInt,
    out_len: *mut SqlSmallInt,
    wide: bool,
) -> SqlReturn {
    trace_enter!(name, "{:p} {:?} {:p} {}", dbc, info, value, buf_len);
    boundary(name, || {
        let d = handle!(dbc, dbc);
        get_info(&d, info, value, buf_len, out_len, wide)
    })
}

/// The library handle of the loaded driver (SQL_DRIVER_HLIB): `dlopen(RTLD_NOLOAD)` of
/// the path it was loaded from returns the same handle without loading anything (the
/// reference it adds is harmless: drivers are never unloaded).
fn driver_hlib(link: &DriverLink) -> usize {
    const RTLD_NOLOAD: i32 = 0x4;
    // SAFETY: RTLD_NOLOAD only looks up an already-loaded library; no constructor runs.
    match unsafe { libloading::os::unix::Library::open(Some(link.driver.path()), libloading::os::unix::RTLD_NOW | RTLD_NOLOAD) } {
        Ok(lib) => lib.into_raw() as usize,
        Err(_) => 0,
    }
}

/// How a SQLGetInfo call is answered.
enum Answer {
    Text(&'static str),
    Handle(usize),
    /// A SQLUINTEGER the DM answers itself.
    U32(u32),
    Driver,
}

#[inline(always)]
fn get_info(d: &Dbc, info: InfoType, value: SqlPointer, buf_len: SqlSmallInt, out_len: *mut SqlSmallInt, wide: bool) -> SqlReturn {
    if lane_may_apply(info, buf_len) && crate::handles::fast_lanes() {
        if let Some(rc) = get_info_fast(d, info, value, buf_len, out_len, wide) {
            return rc;
        }
    }
    get_info_slow(d, info, value, buf_len, out_len, wide)
}

#[inline(never)]
fn get_info_slow(d: &Dbc, info: InfoType, value: SqlPointer, buf_len: SqlSmallInt, out_len: *mut SqlSmallInt, wide: bool) -> SqlReturn {
    let mut link: Option<Arc<DriverLink>> = None;
    let mut emulation = false;
    // SQLGetInfo is allowed while a function runs asynchronously (§1.9, §1.10).
    let mut call = match Call::begin(&d.gate, |c| {
        emulation = c.asynch.emulation.is_on();
        let dm_only = matches!(info, InfoType::SQL_ODBC_VER | InfoType::SQL_DM_VER);
        if !c.state.is_connected() && !dm_only {
            return Err((
                SqlState::CONNECTION_NOT_OPEN,
                "Connection not open: only SQL_ODBC_VER and SQL_DM_VER are available before connecting (§4.3)".into(),
            ));
        }
        if buf_len < 0 {
            return Err((SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "BufferLength is negative".into()));
        }
        link = c.link.clone();
        Ok(())
    }) {
        Ok(c) => c,
        Err(rc) => return rc,
    };

    let answer = match info {
        InfoType::SQL_ODBC_VER => Answer::Text(DM_ODBC_VER),
        InfoType::SQL_DM_VER => Answer::Text(DM_VER),
        InfoType::SQL_XOPEN_CLI_YEAR => Answer::Text(DM_XOPEN_CLI_YEAR),
        // With emulation on, the application talks to the DM's asynchronous execution, not
        // the driver's: the DM's capabilities (decision #40).
        InfoType::SQL_ASYNC_MODE if emulation => Answer::U32(u32::from(SQL_AM_STATEMENT)),
        InfoType::SQL_ASYNC_NOTIFICATION if emulation => Answer::U32(SQL_ASYNC_NOTIFICATION_CAPABLE),
        InfoType::SQL_ASYNC_DBC_FUNCTIONS if emulation => Answer::U32(SQL_ASYNC_DBC_CAPABLE),
        InfoType::SQL_DRIVER_HENV
        | InfoType::SQL_DRIVER_HDBC
        | InfoType::SQL_DRIVER_HLIB
        | InfoType::SQL_DRIVER_HSTMT
        | InfoType::SQL_DRIVER_HDESC => {
            let link = link.as_ref().expect("connected implies a link");
            match info {
                InfoType::SQL_DRIVER_HENV => Answer::Handle(link.henv),
                InfoType::SQL_DRIVER_HDBC => Answer::Handle(link.hdbc),
                InfoType::SQL_DRIVER_HLIB => Answer::Handle(driver_hlib(link)),
                _ => {
                    // On input, *InfoValuePtr holds one of our statement/descriptor handles.
                    if value.is_null() {
                        return call.fail(SqlState::INVALID_NULL_POINTER, "InfoValuePtr is a null pointer");
                    }
                    // SAFETY: non-null; the application passes a handle in the buffer.
                    let h = unsafe { *(value as *const SqlHandle) };
                    let driver_h = if info == InfoType::SQL_DRIVER_HSTMT {
                        handles::stmt(h).filter(|s| s.dbc.id == d.id).map(|s| s.hstmt)
                    } else {
                        handles::desc(h).filter(|x| x.dbc.id == d.id).map(|x| x.hdesc)
                    };
                    match driver_h {
                        Some(x) => Answer::Handle(x),
                        None => {
                            return call.fail(SqlState::INVALID_ATTRIBUTE_VALUE, "InfoValuePtr does not hold a handle of this connection")
                        }
                    }
                }
            }
        }
        _ => Answer::Driver,
    };
    match answer {
        Answer::Text(t) => {
            // SAFETY: the application's buffer of `buf_len` bytes (checked non-negative).
            let (n, trunc) = unsafe { write_app_bytes(t.as_bytes(), wide, value, buf_len as usize) };
            // SAFETY: optional application out pointer.
            unsafe { put_len(out_len, n, i16::MAX) };
            if trunc {
                call.warn(SqlState::STRING_TRUNCATED, TRUNCATED);
            }
            return call.finish(SqlReturn::SQL_SUCCESS, None, |_, _| {});
        }
        Answer::Handle(h) => {
            if !value.is_null() {
                // SAFETY: the application's buffer for a handle (SQLHANDLE-sized).
                unsafe { *(value as *mut SqlHandle) = h as SqlHandle };
            }
            // SAFETY: optional application out pointer.
            unsafe { put_len(out_len, std::mem::size_of::<SqlHandle>(), i16::MAX) };
            return call.finish(SqlReturn::SQL_SUCCESS, None, |_, _| {});
        }
        Answer::U32(v) => {
            if !value.is_null() {
                // SAFETY: the application's buffer for a SQLUINTEGER value.
                unsafe { (value as *mut u32).write_unaligned(v) };
            }
            // SAFETY: optional application out pointer.
            unsafe { put_len(out_len, 4, i16::MAX) };
            return call.finish(SqlReturn::SQL_SUCCESS, None, |_, _| {});
        }
        Answer::Driver => {}
    }

    let link = link.expect("connected implies a link");
    let fns = &link.driver.fns;
    let h = link.hdbc as SqlHandle;
    let (same, other) = if wide { (fns.SQLGetInfoW, fns.SQLGetInfo) } else { (fns.SQLGetInfo, fns.SQLGetInfoW) };
    let rc = match (same, other) {
        (None, None) => return call.fail(SqlState::DRIVER_LACKS_FUNCTION, "Driver does not support this function: SQLGetInfo"),
        // SAFETY: live driver connection; the application's buffers as given.
        (Some(f), _) => unsafe { f(h, info, value, buf_len, out_len) },
        // SAFETY: as above; a fixed-size value means the same in both widths.
        (None, Some(f)) if !is_string_info(info) => unsafe { f(h, info, value, buf_len, out_len) },
        (None, Some(f)) => {
            // Generous first buffer: some drivers (libsqlite3odbc) report the truncated
            // length instead of the full one, which would defeat the retry in recv_text.
            let initial = (buf_len as usize + 1).max(RECV_INITIAL);
            let (rc, utf8) = if wide {
                // Narrow driver: lengths in bytes of UTF-8.
                recv_text::<u8>(d.id, initial, |p, cap| {
                    let mut n: SqlSmallInt = 0;
                    // SAFETY: live driver connection; DM buffer of `cap` bytes.
                    let rc = unsafe { f(h, info, p.cast(), cap.min(i16::MAX as usize) as i16, &mut n) };
                    (rc, usize::try_from(n).ok())
                })
            } else {
                // Wide driver: lengths in bytes of UTF-16.
                let (rc, w) = recv_text::<u16>(d.id, initial, |p, cap| {
                    let mut n: SqlSmallInt = 0;
                    // SAFETY: live driver connection; DM buffer of `cap` code units.
                    let rc = unsafe { f(h, info, p.cast(), (cap * 2).min(i16::MAX as usize & !1) as i16, &mut n) };
                    (rc, usize::try_from(n).ok().map(|b| b / 2))
                });
                (rc, text::to_narrow(&w))
            };
            if rc.is_success() {
                // SAFETY: the application's buffer of `buf_len` bytes (checked non-negative).
                let (n, trunc) = unsafe { write_app_bytes(&utf8, wide, value, buf_len as usize) };
                // SAFETY: optional application out pointer.
                unsafe { put_len(out_len, n, i16::MAX) };
                if trunc {
                    call.warn(SqlState::STRING_TRUNCATED, TRUNCATED);
                }
            }
            rc
        }
    };
    call.finish(rc, Some((&link, HandleType::SQL_HANDLE_DBC, h)), |_, _| {})
}

// ------------------------------------------------------------------------------------
// SQLDataSources / SQLDrivers
// ------------------------------------------------------------------------------------

/// An application output string of SQLDataSources / SQLDrivers: lengths in bytes (A) or
/// characters (W).
#[derive(Clone, Copy)]
enum Out {
    Narrow { buf: *mut u8, max: i16, len: *mut i16 },
    Wide { buf: *mut u16, max: i16, len: *mut i16 },
}

impl Out {
    fn max(&self) -> i16 {
        match *self {
            Out::Narrow { max, .. } | Out::Wide { max, .. } => max,
        }
    }

    /// Writes UTF-8 `s` (may contain NULs, e.g. SQLDrivers' attribute list); returns
    /// whether it was truncated.
    ///
    /// # Safety
    /// The buffer must be null or valid for `max` units; `len` null or valid.
    unsafe fn put(&self, s: &[u8]) -> bool {
        match *self {
            Out::Narrow { buf, max, len } => {
                // SAFETY: forwarded contract.
                let t = unsafe { text::write_narrow(s, buf, max.max(0) as usize) };
                // SAFETY: forwarded contract.
                unsafe { put_len(len, s.len(), i16::MAX) };
                t && !buf.is_null()
            }
            Out::Wide { buf, max, len } => {
                let w = text::to_wide(s);
                // SAFETY: forwarded contract.
                let t = unsafe { text::write_wide(&w, buf, max.max(0) as usize) };
                // SAFETY: forwarded contract.
                unsafe { put_len(len, w.len(), i16::MAX) };
                t && !buf.is_null()
            }
        }
    }
}

/// SQLDataSources' cursor in `EnvCore::dsn_cursor`: the next index in the low 32 bits and
/// the scope chosen by the last FETCH_FIRST* above them (0 all, 1 user, 2 system), so
/// FETCH_NEXT after FETCH_FIRST_USER keeps listing user DSNs only.
fn dsn_cursor_split(c: usize) -> (DsnScope, usize) {
    let scope = match c >> 32 {
        1 => DsnScope::User,
        2 => DsnScope::System,
        _ => DsnScope::All,
    };
    (scope, c & 0xFFFF_FFFF)
}

fn dsn_cursor_join(scope: DsnScope, next: usize) -> usize {
    let tag = match scope {
        DsnScope::All => 0usize,
        DsnScope::User => 1,
        DsnScope::System => 2,
    };
    (tag << 32) | (next & 0xFFFF_FFFF)
}

/// SQLDataSources (ANSI).
pub unsafe extern "C" fn SQLDataSources(
    env: SqlHEnv,
    direction: FetchOrientation,
    dsn: *mut SqlChar,
    dsn_max: SqlSmallInt,
    dsn_len: *mut SqlSmallInt,
    desc: *mut SqlChar,
    desc_max: SqlSmallInt,
    desc_len: *mut SqlSmallInt,
) -> SqlReturn {
    trace_enter!("SQLDataSources", "{:p} {:?}", env, direction);
    boundary("SQLDataSources", || {
        let e = handle!(env, env);
        data_sources(
            &e,
            direction,
            Out::Narrow { buf: dsn, max: dsn_max, len: dsn_len },
            Out::Narrow { buf: desc, max: desc_max, len: desc_len },
        )
    })
}

/// SQLDataSourcesW (Unicode; lengths in characters).
pub unsafe extern "C" fn SQLDataSourcesW(
    env: SqlHEnv,
    direction: FetchOrientation,
    dsn: *mut SqlWChar,
    dsn_max: SqlSmallInt,
    dsn_len: *mut SqlSmallInt,
    desc: *mut SqlWChar,
    desc_max: SqlSmallInt,
    desc_len: *mut SqlSmallInt,
) -> SqlReturn {
    trace_enter!("SQLDataSourcesW", "{:p} {:?}", env, direction);
    boundary("SQLDataSourcesW", || {
        let e = handle!(env, env);
        data_sources(
            &e,
            direction,
            Out::Wide { buf: dsn, max: dsn_max, len: dsn_len },
            Out::Wide { buf: desc, max: desc_max, len: desc_len },
        )
    })
}

/// Checks common to SQLDataSources and SQLDrivers.
fn enum_checks(c: &crate::handles::EnvCore, ok_direction: bool, a: Out, b: Out) -> Result<(), (SqlState, String)> {
    if c.odbc_version.is_none() {
        return Err((SqlState::FUNCTION_SEQUENCE_ERROR, "SQL_ATTR_ODBC_VERSION has not been set (§4.2)".into()));
    }
    if !ok_direction {
        return Err((HY103, "Invalid retrieval code (Direction)".into()));
    }
    if a.max() < 0 || b.max() < 0 {
        return Err((SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "Buffer length is negative".into()));
    }
    Ok(())
}

fn data_sources(e: &Arc<crate::handles::Env>, direction: FetchOrientation, name: Out, desc: Out) -> SqlReturn {
    use FetchOrientation as D;
    let ok = matches!(direction, D::SQL_FETCH_NEXT | D::SQL_FETCH_FIRST | D::SQL_FETCH_FIRST_USER | D::SQL_FETCH_FIRST_SYSTEM);
    let mut call = match Call::begin(&e.gate, |c| enum_checks(c, ok, name, desc)) {
        Ok(c) => c,
        Err(rc) => return rc,
    };
    let (scope, index) = match direction {
        D::SQL_FETCH_FIRST => (DsnScope::All, 0),
        D::SQL_FETCH_FIRST_USER => (DsnScope::User, 0),
        D::SQL_FETCH_FIRST_SYSTEM => (DsnScope::System, 0),
        _ => dsn_cursor_split(call.core(|c| c.dsn_cursor)),
    };
    let list = config::list_dsns(&ConfigSource::from_env(), scope);
    let Some((dsn, driver)) = list.get(index) else {
        // The end: the next FETCH_NEXT starts over.
        return call.finish(SqlReturn::SQL_NO_DATA, None, |c, _| c.dsn_cursor = 0);
    };
    // SAFETY: the application's buffers with the lengths it gave (checked non-negative).
    let t1 = unsafe { name.put(dsn.as_bytes()) };
    // SAFETY: as above.
    let t2 = unsafe { desc.put(driver.as_bytes()) };
    if t1 || t2 {
        call.warn(SqlState::STRING_TRUNCATED, TRUNCATED);
    }
    let next = dsn_cursor_join(scope, index + 1);
    call.finish(SqlReturn::SQL_SUCCESS, None, move |c, _| c.dsn_cursor = next)
}

/// SQLDrivers (ANSI).
pub unsafe extern "C" fn SQLDrivers(
    env: SqlHEnv,
    direction: FetchOrientation,
    desc: *mut SqlChar,
    desc_max: SqlSmallInt,
    desc_len: *mut SqlSmallInt,
    attrs: *mut SqlChar,
    attrs_max: SqlSmallInt,
    attrs_len: *mut SqlSmallInt,
) -> SqlReturn {
    trace_enter!("SQLDrivers", "{:p} {:?}", env, direction);
    boundary("SQLDrivers", || {
        let e = handle!(env, env);
        drivers(
            &e,
            direction,
            Out::Narrow { buf: desc, max: desc_max, len: desc_len },
            Out::Narrow { buf: attrs, max: attrs_max, len: attrs_len },
        )
    })
}

/// SQLDriversW (Unicode; lengths in characters).
pub unsafe extern "C" fn SQLDriversW(
    env: SqlHEnv,
    direction: FetchOrientation,
    desc: *mut SqlWChar,
    desc_max: SqlSmallInt,
    desc_len: *mut SqlSmallInt,
    attrs: *mut SqlWChar,
    attrs_max: SqlSmallInt,
    attrs_len: *mut SqlSmallInt,
) -> SqlReturn {
    trace_enter!("SQLDriversW", "{:p} {:?}", env, direction);
    boundary("SQLDriversW", || {
        let e = handle!(env, env);
        drivers(
            &e,
            direction,
            Out::Wide { buf: desc, max: desc_max, len: desc_len },
            Out::Wide { buf: attrs, max: attrs_max, len: attrs_len },
        )
    })
}

/// SQLDrivers' attribute list: `key=value\0key=value\0` (the writer adds the final NUL,
/// which makes the list's double-NUL terminator). The reported length covers everything
/// but that final NUL.
fn driver_attributes(attrs: &[(String, String)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in attrs {
        out.extend_from_slice(k.as_bytes());
        out.push(b'=');
        out.extend_from_slice(v.as_bytes());
        out.push(0);
    }
    out
}

fn drivers(e: &Arc<crate::handles::Env>, direction: FetchOrientation, desc: Out, attrs: Out) -> SqlReturn {
    use FetchOrientation as D;
    let ok = matches!(direction, D::SQL_FETCH_NEXT | D::SQL_FETCH_FIRST);
    let mut call = match Call::begin(&e.gate, |c| enum_checks(c, ok, desc, attrs)) {
        Ok(c) => c,
        Err(rc) => return rc,
    };
    let index = if direction == D::SQL_FETCH_FIRST { 0 } else { call.core(|c| c.driver_cursor) };
    let list = config::list_drivers(&ConfigSource::from_env());
    let Some((name, section)) = list.get(index) else {
        return call.finish(SqlReturn::SQL_NO_DATA, None, |c, _| c.driver_cursor = 0);
    };
    // SAFETY: the application's buffers with the lengths it gave (checked non-negative).
    let t1 = unsafe { desc.put(name.as_bytes()) };
    // SAFETY: as above.
    let t2 = unsafe { attrs.put(&driver_attributes(section)) };
    if t1 || t2 {
        call.warn(SqlState::STRING_TRUNCATED, TRUNCATED);
    }
    call.finish(SqlReturn::SQL_SUCCESS, None, move |c, _| c.driver_cursor = index + 1)
}

/// The InfoTypes the DM answers itself (SQL_DRIVER_HDBC/HENV/HSTMT 3–5, SQL_ODBC_VER 10,
/// SQL_DRIVER_HLIB 76, SQL_DRIVER_HDESC 135, SQL_DM_VER 171, SQL_XOPEN_CLI_YEAR 10000) as bits of `InfoType % 64`:
/// an InfoType whose bit is clear is certainly forwarded to the driver. (Set bits also
/// match a few forwarded types, e.g. SQL_DRIVER_VER 7; those only miss the fast lane.)
const DM_ANSWERED_MOD64: u64 = 1 << 3
    | 1 << 4
    | 1 << 5
    | 1 << 10
    | 1 << (76 % 64)
    | 1 << (135 % 64)
    | 1 << (171 % 64)
    // SQL_XOPEN_CLI_YEAR 10000 (bit 16: SQL_DATABASE_NAME 16 then misses the lane too).
    | 1 << (10000 % 64)
    // SQL_ASYNC_MODE 10021, SQL_ASYNC_DBC_FUNCTIONS 10023, SQL_ASYNC_NOTIFICATION 10025: the
    // DM's own answer under emulation.
    | 1 << (10021 % 64)
    | 1 << (10023 % 64)
    | 1 << (10025 % 64);

/// Whether a SQLGetInfo call may take the fast lane: a non-negative BufferLength (else
/// HY090) and an InfoType the driver answers (one bit test: see [`DM_ANSWERED_MOD64`]).
#[inline(always)]
fn lane_may_apply(info: InfoType, buf_len: SqlSmallInt) -> bool {
    buf_len >= 0 && (DM_ANSWERED_MOD64 >> (info.0 & 63)) & 1 == 0
}

/// The fast lane of SQLGetInfo (see `handles::gate`): a connected, clean connection whose
/// driver has the entry point of the application's width forwards the call as is. Only
/// for calls that pass [`lane_may_apply`]. `None`: nothing was done.
#[inline(always)]
fn get_info_fast(
    d: &Dbc,
    info: InfoType,
    value: SqlPointer,
    buf_len: SqlSmallInt,
    out_len: *mut SqlSmallInt,
    wide: bool,
) -> Option<SqlReturn> {
    get_info_enter(d, wide).then(|| get_info_run(d, info, value, buf_len, out_len, wide))
}

/// Takes the gate of a connected, clean connection whose driver exports this width (the
/// slow path converts from the other one): the lane's compare-and-swap, the more likely
/// summary first.
#[inline(always)]
fn get_info_enter(d: &Dbc, wide: bool) -> bool {
    use crate::handles::{DBC_HAS_A as A, DBC_HAS_W as W};
    const V: u32 = super::call::SUMMARY_VALID;
    if wide {
        d.gate.fast_enter_either(V | A | W, V | W)
    } else {
        d.gate.fast_enter_either(V | A, V | A | W)
    }
}

/// The lane's driver call, after [`get_info_enter`]; gives the gate back on plain
/// SQL_SUCCESS, finishes on the slow path otherwise.
#[inline(always)]
fn get_info_run(d: &Dbc, info: InfoType, value: SqlPointer, buf_len: SqlSmallInt, out_len: *mut SqlSmallInt, wide: bool) -> SqlReturn {
    d.count_lane();
    let (f, h) = d.fast_info(wide);
    // `f` is the driver's own entry point: a serialized driver's lock is taken around it
    // here; the trampoline waits for a contended lock (see `driver::serialize`).
    let rc = crate::driver::serialize::lane_call(
        d.fast_serial_addr(),
        move || {
            // SAFETY: live driver connection (the lane holds the gate, and the summary says
            // the driver exports `f`); the application's buffers as given.
            unsafe { f(h as SqlHDbc, info, value, buf_len, out_len) }
        },
        move || {
            // SAFETY: as above, through the serialization trampoline of `f`.
            unsafe { d.fast_info_tramp(wide)(h as SqlHDbc, info, value, buf_len, out_len) }
        },
    );
    if rc == SqlReturn::SQL_SUCCESS {
        d.gate.release();
        return rc;
    }
    get_info_lane_finish(d, rc)
}

/// The rest of a fast-lane SQLGetInfo whose driver call did not return plain SQL_SUCCESS.
#[cold]
#[inline(never)]
fn get_info_lane_finish(d: &Dbc, rc: SqlReturn) -> SqlReturn {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| get_info_lane_rest(d, rc))) {
        Ok(rc) => rc,
        Err(p) => super::lane_panicked("SQLGetInfo's fast lane", p),
    }
}

/// [`get_info_lane_finish`] inside its panic boundary.
fn get_info_lane_rest(d: &Dbc, rc: SqlReturn) -> SqlReturn {
    let call = Call::adopt(&d.gate);
    let link = call.core(|c| c.link.clone());
    match link {
        Some(link) => call.finish(rc, Some((&link, HandleType::SQL_HANDLE_DBC, link.hdbc as SqlHandle)), |_, _| {}),
        None => call.finish(rc, None, |_, _| {}),
    }
}
