//! Connection and statement attributes (SQLSet/GetConnectAttr, SQLSet/GetStmtAttr, A and
//! W) and the ODBC 2.x option functions mapped onto them.
//!
//! Before connecting there is no driver: the DM stores what the application sets and
//! replays it at connect (§1.13), and answers SQLGetConnectAttr from what it stored or
//! from the ODBC defaults. Some attributes are the DM's own and never reach a driver:
//! SQL_ATTR_ASYNC_DBC_EVENT / SQL_ATTR_ASYNC_STMT_EVENT (§2.2), SQL_ATTR_TRACE,
//! SQL_ATTR_TRACEFILE and SQL_ATTR_ODBC_CURSORS (08002 once connected, decision #137); the
//! notification callback/context attributes are set only by the DM, so an application
//! setting them gets HY092 (§2.4), as do the read-only SQL_ATTR_CONNECTION_DEAD and
//! SQL_ATTR_AUTO_IPD. A value outside a discrete-valued attribute's set is HY024 from the
//! DM before it is stored or forwarded ([`DISCRETE`], decision #135); the DM writes each
//! integer attribute with its ODBC 3 width (decision #136).
//!
//! Character attributes (SQL_ATTR_CURRENT_CATALOG, SQL_ATTR_TRACEFILE,
//! SQL_ATTR_TRANSLATE_LIB) count BYTES in both forms; they are converted when the driver
//! only has the other width. Statement attributes have no character values.

use std::sync::Arc;

use odbc_dm_abi::{FunctionId as F, *};

use super::connect::set_connect_attr_on_driver;
use super::connect_async::{self, Started};
use super::strings::{put_len, read_app_bytes, recv_text, write_app_bytes, RECV_INITIAL, TRUNCATED};
use super::{boundary, handle, same_signature, AppPtr, Call, StmtCall};
use crate::async_engine::Invoke;
use crate::diag::SqlState;
use crate::handles::conn_state::ConnState;
use crate::handles::{self, AttrValue, Dbc, DbcCore, DbcPost, Desc, DriverLink, Stmt};
use crate::text;
use crate::trace_enter;

same_signature!(
    SQLSetConnectAttr,
    SQLSetConnectAttrW,
    SQLGetConnectAttr,
    SQLGetConnectAttrW,
    SQLSetStmtAttr,
    SQLSetStmtAttrW,
    SQLGetStmtAttr,
    SQLGetStmtAttrW,
    SQLSetConnectOption,
    SQLGetConnectOption,
    SQLSetStmtOption,
    SQLGetStmtOption,
);

/// SQL_ATTR_ASYNC_STMT_EVENT seen through a connection handle (§2.2: IM016).
const CONN_ASYNC_STMT_EVENT: ConnAttr = ConnAttr(StmtAttr::SQL_ATTR_ASYNC_STMT_EVENT.0);
/// The DM's asynchronous-emulation switch (DM-only, never sent to the driver).
const DM_ASYNC_EMULATION: ConnAttr = ConnAttr(crate::async_engine::emulation::SQL_ATTR_DM_ASYNC_EMULATION);
/// SQL_ATTR_DM_ASYNC_EMULATION value: emulate even where the driver is capable.
const DM_ASYNC_EMULATION_FORCE: usize = 2;
/// Invalid use of an automatically allocated descriptor handle.
const HY017: SqlState = SqlState(*b"HY017");
/// SQL_MAX_OPTION_STRING_LENGTH (sqlext.h): the buffer an ODBC 2.x SQLGetConnectOption
/// caller provides for a character option.
const MAX_OPTION_STRING_LENGTH: i32 = 256;

/// Connection attributes whose value is a character string (byte lengths in both forms).
fn is_text_attr(attr: ConnAttr) -> bool {
    matches!(attr, ConnAttr::SQL_ATTR_CURRENT_CATALOG | ConnAttr::SQL_ATTR_TRACEFILE | ConnAttr::SQL_ATTR_TRANSLATE_LIB)
}

/// Connection attributes whose value is pointer-sized (SQLULEN / SQLPOINTER / HWND); every
/// other integer connection attribute is an SQLUINTEGER (ODBC 3.8 SQLSetConnectAttr,
/// decision #136). SQL_ATTR_ASYNC_ENABLE and SQL_ATTR_ODBC_CURSORS are SQLULEN.
fn is_pointer_attr(attr: ConnAttr) -> bool {
    matches!(
        attr,
        ConnAttr::SQL_ATTR_QUIET_MODE
            | ConnAttr::SQL_ATTR_ASYNC_DBC_EVENT
            | ConnAttr::SQL_ATTR_ENLIST_IN_DTC
            | ConnAttr::SQL_ATTR_ENLIST_IN_XA
            | ConnAttr::SQL_ATTR_DBC_INFO_TOKEN
            | ConnAttr::SQL_ATTR_ASYNC_ENABLE
            | ConnAttr::SQL_ATTR_ODBC_CURSORS
    )
}

/// Attributes the DM answers itself and never sends to the driver: tracing, and
/// SQL_ATTR_ODBC_CURSORS (the cursor library is the DM's; odbc-dm has none, decision #137).
fn is_dm_conn_attr(attr: ConnAttr) -> bool {
    matches!(attr, ConnAttr::SQL_ATTR_TRACE | ConnAttr::SQL_ATTR_TRACEFILE | ConnAttr::SQL_ATTR_ODBC_CURSORS)
}

/// Read-only connection attributes: setting one is HY092 from the DM, before and after
/// connecting (SQLSetConnectAttr: "SQL_ATTR_AUTO_IPD ... read-only",
/// "SQL_ATTR_CONNECTION_DEAD ... read-only"; decision #137).
fn is_read_only_conn_attr(attr: ConnAttr) -> bool {
    matches!(attr, ConnAttr::SQL_ATTR_CONNECTION_DEAD | ConnAttr::SQL_ATTR_AUTO_IPD)
}

/// Where an attribute of [`DISCRETE`] is one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Conn,
    Stmt,
    /// The same number and values on both handles (SQL_ATTR_ASYNC_ENABLE, SQL_ATTR_METADATA_ID).
    Both,
}

/// The connection and statement attributes whose values ODBC 3.8 lists as a closed set,
/// with those values. SQLSetConnectAttr/SQLSetStmtAttr HY024: "The Driver Manager returns
/// this SQLSTATE only for connection and statement attributes that accept a discrete set
/// of values, such as SQL_ATTR_ACCESS_MODE or SQL_ATTR_ASYNC_ENABLE"; the DM checks these
/// before storing or forwarding a value (decision #135). Not here: SQL_ATTR_TXN_ISOLATION
/// (a bitmask whose drivers add their own levels, checked by the driver against
/// SQL_TXN_ISOLATION_OPTION), SQL_ATTR_RESET_CONNECTION (pooling's), the read-only
/// SQL_ATTR_AUTO_IPD (HY092), and the DM's own extension attributes.
const DISCRETE: &[(Scope, i32, &[usize])] = &[
    // SQL_MODE_READ_WRITE, SQL_MODE_READ_ONLY
    (Scope::Conn, 101, &[0, 1]),
    // SQL_AUTOCOMMIT_OFF, SQL_AUTOCOMMIT_ON
    (Scope::Conn, 102, &[0, 1]),
    // SQL_OPT_TRACE_OFF, SQL_OPT_TRACE_ON
    (Scope::Conn, 104, &[0, 1]),
    // SQL_CUR_USE_IF_NEEDED, SQL_CUR_USE_ODBC, SQL_CUR_USE_DRIVER
    (Scope::Conn, 110, &[0, 1, 2]),
    // SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE: SQL_ASYNC_DBC_ENABLE_OFF, _ON
    (Scope::Conn, 117, &[0, 1]),
    // SQL_ATTR_ASYNC_ENABLE: SQL_ASYNC_ENABLE_OFF, _ON
    (Scope::Both, 4, &[0, 1]),
    // SQL_ATTR_METADATA_ID: SQL_FALSE, SQL_TRUE
    (Scope::Both, 10014, &[0, 1]),
    // SQL_ATTR_NOSCAN: SQL_NOSCAN_OFF, _ON
    (Scope::Stmt, 2, &[0, 1]),
    // SQL_ATTR_CURSOR_TYPE: FORWARD_ONLY, KEYSET_DRIVEN, DYNAMIC, STATIC
    (Scope::Stmt, 6, &[0, 1, 2, 3]),
    // SQL_ATTR_CONCURRENCY: READ_ONLY, LOCK, ROWVER, VALUES
    (Scope::Stmt, 7, &[1, 2, 3, 4]),
    // SQL_ATTR_SIMULATE_CURSOR: SQL_SC_NON_UNIQUE, _TRY_UNIQUE, _UNIQUE
    (Scope::Stmt, 10, &[0, 1, 2]),
    // SQL_ATTR_RETRIEVE_DATA: SQL_RD_OFF, _ON
    (Scope::Stmt, 11, &[0, 1]),
    // SQL_ATTR_USE_BOOKMARKS: SQL_UB_OFF, SQL_UB_ON (= SQL_UB_FIXED), SQL_UB_VARIABLE
    (Scope::Stmt, 12, &[0, 1, 2]),
    // SQL_ATTR_ENABLE_AUTO_IPD: SQL_FALSE, SQL_TRUE
    (Scope::Stmt, 15, &[0, 1]),
    // SQL_ATTR_CURSOR_SCROLLABLE: SQL_NONSCROLLABLE, SQL_SCROLLABLE
    (Scope::Stmt, -1, &[0, 1]),
    // SQL_ATTR_CURSOR_SENSITIVITY: SQL_UNSPECIFIED, SQL_INSENSITIVE, SQL_SENSITIVE
    (Scope::Stmt, -2, &[0, 1, 2]),
];

/// HY024 for a value outside an attribute's discrete set ([`DISCRETE`]). `on_dbc`: set
/// through a connection handle, where the statement attributes count too (ODBC 2's
/// SQLSetConnectOption sets statement options for the connection's statements).
fn check_discrete(attr: i32, value: usize, on_dbc: bool) -> Result<(), (SqlState, String)> {
    let entry = DISCRETE.iter().find(|(scope, a, _)| {
        *a == attr && (*scope == Scope::Both || on_dbc || *scope == Scope::Stmt) && (on_dbc || *scope != Scope::Conn)
    });
    match entry {
        Some((_, _, allowed)) if !allowed.contains(&value) => Err((
            SqlState::INVALID_ATTRIBUTE_VALUE,
            format!("Invalid attribute value {value} for attribute {attr}: not one of {allowed:?} (decision #135)"),
        )),
        _ => Ok(()),
    }
}

/// The value SQLGetConnectAttr reports before connecting for an attribute the application
/// did not set: the ODBC defaults the DM can know without a driver.
fn default_conn_attr(c: &DbcCore, attr: ConnAttr) -> Option<AttrValue> {
    Some(match attr {
        ConnAttr::SQL_ATTR_AUTOCOMMIT => AttrValue::Int(if c.autocommit { SQL_AUTOCOMMIT_ON } else { SQL_AUTOCOMMIT_OFF }),
        ConnAttr::SQL_ATTR_LOGIN_TIMEOUT => AttrValue::Int(0),
        ConnAttr::SQL_ATTR_ACCESS_MODE => AttrValue::Int(SQL_MODE_READ_WRITE),
        ConnAttr::SQL_ATTR_ASYNC_ENABLE => AttrValue::Int(SQL_ASYNC_ENABLE_OFF),
        ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE => AttrValue::Int(SQL_ASYNC_DBC_ENABLE_OFF),
        ConnAttr::SQL_ATTR_ODBC_CURSORS => AttrValue::Int(SQL_CUR_USE_DRIVER),
        ConnAttr::SQL_ATTR_CONNECTION_TIMEOUT => AttrValue::Int(0),
        ConnAttr::SQL_ATTR_METADATA_ID => AttrValue::Int(0),
        ConnAttr::SQL_ATTR_QUIET_MODE => AttrValue::Int(0),
        ConnAttr::SQL_ATTR_TRACE => AttrValue::Int(0),
        ConnAttr::SQL_ATTR_TRACEFILE => AttrValue::Text(Vec::new()),
        _ => return None,
    })
}

/// Whether a statement of the connection is executing asynchronously or waits for data:
/// SQLSetConnectAttr is then HY010 (§1.11), the same check as SQLEndTran's.
fn statement_busy(c: &DbcCore) -> bool {
    c.statement_outstanding()
}

/// Writes an integer attribute value: pointer-sized for pointer attributes (or when the
/// application says SQL_IS_POINTER), SQLUINTEGER otherwise. Returns the byte count.
///
/// # Safety
/// `value` must be null or valid for the write chosen.
unsafe fn put_int(value: SqlPointer, v: usize, pointer_sized: bool) -> usize {
    if pointer_sized {
        if !value.is_null() {
            // SAFETY: the application's buffer for a pointer-sized value.
            unsafe { *(value as *mut usize) = v };
        }
        std::mem::size_of::<usize>()
    } else {
        if !value.is_null() {
            // SAFETY: the application's buffer for a SQLUINTEGER.
            unsafe { *(value as *mut u32) = v as u32 };
        }
        4
    }
}

// ------------------------------------------------------------------------------------
// SQLSetConnectAttr
// ------------------------------------------------------------------------------------

/// SQLSetConnectAttr (ANSI).
pub unsafe extern "C" fn SQLSetConnectAttr(dbc: SqlHDbc, attr: ConnAttr, value: SqlPointer, len: SqlInteger) -> SqlReturn {
    trace_enter!("SQLSetConnectAttr", "{:p} {:?} {:p} {}", dbc, attr, value, len);
    boundary("SQLSetConnectAttr", || {
        let d = handle!(dbc, dbc);
        set_connect_attr(&d, attr, value, len, false)
    })
}

/// SQLSetConnectAttrW (Unicode; character values still counted in bytes).
pub unsafe extern "C" fn SQLSetConnectAttrW(dbc: SqlHDbc, attr: ConnAttr, value: SqlPointer, len: SqlInteger) -> SqlReturn {
    trace_enter!("SQLSetConnectAttrW", "{:p} {:?} {:p} {}", dbc, attr, value, len);
    boundary("SQLSetConnectAttrW", || {
        let d = handle!(dbc, dbc);
        set_connect_attr(&d, attr, value, len, true)
    })
}

fn set_connect_attr(d: &Arc<Dbc>, attr: ConnAttr, value: SqlPointer, len: SqlInteger, wide: bool) -> SqlReturn {
    let text_attr = is_text_attr(attr);
    let started = connect_async::begin(d, F::SQL_API_SQLSETCONNECTATTR, |c| {
        if matches!(attr, ConnAttr::SQL_ATTR_ASYNC_DBC_NOTIFICATION_CALLBACK | ConnAttr::SQL_ATTR_ASYNC_DBC_NOTIFICATION_CONTEXT) {
            return Err((
                SqlState::INVALID_ATTRIBUTE_IDENTIFIER,
                format!("Invalid attribute identifier {}: only the Driver Manager sets it (§2.4)", attr.0),
            ));
        }
        if attr == CONN_ASYNC_STMT_EVENT {
            return Err((
                SqlState::STMT_ATTR_ON_DBC,
                "SQL_ATTR_ASYNC_STMT_EVENT is a statement attribute and cannot be set on a connection handle (§2.2)".into(),
            ));
        }
        if c.state == ConnState::C3 {
            return Err((SqlState::FUNCTION_SEQUENCE_ERROR, "SQLBrowseConnect is in progress on this connection (§4.3)".into()));
        }
        if statement_busy(c) {
            return Err((
                SqlState::FUNCTION_SEQUENCE_ERROR,
                "A statement of this connection is executing asynchronously or needs data (§1.11)".into(),
            ));
        }
        if text_attr && value.is_null() {
            return Err((SqlState::INVALID_NULL_POINTER, "ValuePtr is a null pointer".into()));
        }
        if text_attr && len < 0 && len != SQL_NTS {
            return Err((SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "StringLength is negative".into()));
        }
        if is_read_only_conn_attr(attr) {
            return Err((
                SqlState::INVALID_ATTRIBUTE_IDENTIFIER,
                format!("Invalid attribute identifier {}: the attribute is read-only (decision #137)", attr.0),
            ));
        }
        if !text_attr {
            check_discrete(attr.0, value as usize, true)?;
        }
        if attr == ConnAttr::SQL_ATTR_ODBC_CURSORS && c.link.is_some() {
            return Err((SqlState::CONNECTION_IN_USE, "SQL_ATTR_ODBC_CURSORS can only be set before connecting (decision #137)".into()));
        }
        Ok(())
    });
    let (call, mode) = match started {
        Ok(Started::New(call, mode)) => (call, mode),
        // §1.7: a polling repeat of an asynchronous SQLSetConnectAttr.
        Ok(Started::Repeat(call)) => return connect_async::repeat(d, call),
        Err(rc) => return rc,
    };

    let val = if text_attr {
        // SAFETY: the application's string with its byte length (checked above).
        match unsafe { read_app_bytes(value, len as isize, wide) } {
            Ok(t) => AttrValue::Text(t.unwrap_or_default()),
            Err(_) => return call.fail(SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "Invalid string or buffer length"),
        }
    } else {
        AttrValue::Int(value as usize)
    };
    if attr == ConnAttr::SQL_ATTR_TRACEFILE && val == AttrValue::Text(Vec::new()) {
        // No file to trace to (unixODBC: HY024 as well).
        return call.fail(SqlState::INVALID_ATTRIBUTE_VALUE, "Invalid attribute value: SQL_ATTR_TRACEFILE is empty");
    }

    // Always synchronous (§1.5): the async switches themselves, DM-only attributes and
    // anything set before connecting.
    if attr == ConnAttr::SQL_ATTR_ASYNC_DBC_EVENT {
        return set_dbc_event(call, d, value as usize);
    }
    if attr == ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE {
        return set_dbc_async_enable(call, value as usize == SQL_ASYNC_DBC_ENABLE_ON);
    }
    if attr.0 == super::ext::SQL_ATTR_DM_ASYNC_WAKER {
        // DM-only (decision #108), never sent to the driver.
        return set_dbc_waker_mode(call, d, value as usize != 0);
    }
    if attr.0 == super::ext::SQL_ATTR_DM_CANCEL_GRACE {
        // DM-only (decision #35): the connection's own operations, and the default of
        // statements allocated afterwards.
        d.async_slot.set_cancel_grace(std::time::Duration::from_millis(value as usize as u64));
        return call.finish(SqlReturn::SQL_SUCCESS, None, |_, _| {});
    }
    if attr.0 == super::ext::SQL_ATTR_DM_WCHAR_CONVERSION {
        // DM-only (decision #90): statements allocated afterwards.
        d.wchar_conversion.store(value as usize != 0, std::sync::atomic::Ordering::Relaxed);
        return call.finish(SqlReturn::SQL_SUCCESS, None, |_, _| {});
    }
    if attr == DM_ASYNC_EMULATION {
        return call.finish(SqlReturn::SQL_SUCCESS, None, move |c, _| {
            c.asynch.emulation = crate::handles::AsyncEmulation::from_flags(
                value as usize != SQL_ASYNC_ENABLE_OFF,
                value as usize == DM_ASYNC_EMULATION_FORCE,
            );
        });
    }
    if is_dm_conn_attr(attr) {
        return call.finish(SqlReturn::SQL_SUCCESS, None, move |c, _| {
            c.dm_attrs.retain(|(a, _)| *a != attr);
            c.dm_attrs.push((attr, val));
        });
    }

    let link = call.core(|c| c.link.clone());
    let Some(link) = link else {
        // Before connect (C2): store, replay at connect (§1.13).
        return call.finish(SqlReturn::SQL_SUCCESS, None, move |c, _| {
            if attr == ConnAttr::SQL_ATTR_AUTOCOMMIT {
                c.autocommit = value as usize == SQL_AUTOCOMMIT_ON;
            }
            c.stored_attrs.retain(|(a, _)| *a != attr);
            c.stored_attrs.push((attr, val));
        });
    };

    // The driver call, captured with its arguments (§2.9): the application's value and
    // length as given, or a converted character value owned by the closure.
    let fns = &link.driver.fns;
    let h = link.hdbc;
    let (same, other) =
        if wide { (fns.SQLSetConnectAttrW, fns.SQLSetConnectAttr) } else { (fns.SQLSetConnectAttr, fns.SQLSetConnectAttrW) };
    let v = AppPtr::new(value);
    let invoke: Invoke = match (same, other, val) {
        // An ODBC 2 driver (mdbtools): SQLSetConnectOption, the option number being the
        // attribute number; an integer passes by value, a string as a pointer to a
        // NUL-terminated narrow string (ODBC 2's convention; docs/decisions.md #98).
        (None, None, val) => {
            let (Some(opt), Ok(option)) = (fns.SQLSetConnectOption, u16::try_from(attr.0)) else {
                return call.fail(SqlState::DRIVER_LACKS_FUNCTION, "Driver does not support this function: SQLSetConnectAttr");
            };
            match val {
                AttrValue::Int(_) => {
                    // SAFETY: live driver connection; an integer value passed by value.
                    Box::new(move |_: &mut Vec<crate::diag::DiagRecord>| unsafe { opt(h as SqlHandle, option, v.get() as SqlULen) })
                }
                AttrValue::Text(t) => {
                    let mut buf: Vec<u8> = t;
                    buf.push(0);
                    // SAFETY: live driver connection; the NUL-terminated value is owned by
                    // the closure.
                    Box::new(move |_: &mut Vec<crate::diag::DiagRecord>| unsafe {
                        opt(h as SqlHandle, option, buf.as_mut_ptr() as SqlULen)
                    })
                }
            }
        }
        // SAFETY: live driver connection; the application's value and length as given,
        // valid until the operation completes (§2.9).
        (Some(f), _, _) => Box::new(move |_: &mut Vec<crate::diag::DiagRecord>| unsafe { f(h as SqlHandle, attr, v.get(), len) }),
        // The other width: character values are converted, integers pass unchanged.
        (None, Some(f), AttrValue::Text(t)) => {
            // A narrow driver counts bytes of UTF-8, a wide one bytes of UTF-16.
            let mut buf: Vec<u8> = if wide { t } else { text::to_wide(&t).iter().flat_map(|u| u.to_ne_bytes()).collect() };
            let n = buf.len() as SqlInteger;
            buf.extend_from_slice(&[0, 0]);
            // SAFETY: live driver connection; the converted value is owned by the closure
            // (NUL-terminated, `n` bytes).
            Box::new(move |_: &mut Vec<crate::diag::DiagRecord>| unsafe { f(h as SqlHandle, attr, buf.as_mut_ptr().cast(), n) })
        }
        (None, Some(f), AttrValue::Int(_)) => {
            // SAFETY: as above; a non-character value means the same in both widths.
            Box::new(move |_: &mut Vec<crate::diag::DiagRecord>| unsafe { f(h as SqlHandle, attr, v.get(), len) })
        }
    };
    connect_async::run(d, call, F::SQL_API_SQLSETCONNECTATTR, mode, invoke, DbcPost::SetAttr { attr, value: value as usize })
}

/// SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE (§1.1, §1.13, always synchronous §1.5): before
/// connecting it is stored and applied at connect; after, a capable driver gets it, an
/// incapable one makes it HY114 unless the DM emulates.
fn set_dbc_async_enable(call: Call<'_, DbcCore>, on: bool) -> SqlReturn {
    let (link, emulated, emulation) = call.core(|c| (c.link.clone(), c.asynch.dbc_emulated, c.asynch.emulation.is_on()));
    let Some(link) = link else {
        return call.finish(SqlReturn::SQL_SUCCESS, None, move |c, _| c.asynch.dbc_enabled = on);
    };
    let caps = link.async_caps();
    if emulated || (on && !caps.dbc_async) {
        if !emulated && !emulation {
            return call.fail(
                SqlState::NO_DBC_ASYNC,
                "The driver does not support connection-level asynchronous execution (SQL_ASYNC_DBC_FUNCTIONS); enable AsyncEmulation to have the Driver Manager emulate it (§1.13)",
            );
        }
        // The DM runs the connection functions on its pool; the driver stays synchronous.
        return call.finish(SqlReturn::SQL_SUCCESS, None, move |c, _| {
            c.asynch.dbc_emulated = true;
            c.asynch.dbc_enabled = on;
        });
    }
    let v = if on { SQL_ASYNC_DBC_ENABLE_ON } else { SQL_ASYNC_DBC_ENABLE_OFF };
    let rc = set_connect_attr_on_driver(&link, ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE, &AttrValue::Int(v));
    call.finish(rc, Some((&link, HandleType::SQL_HANDLE_DBC, link.hdbc as SqlHandle)), move |c, rc| {
        if rc.is_success() {
            c.asynch.dbc_enabled = on;
        }
    })
}

/// SQL_ATTR_ASYNC_DBC_EVENT (§2.1–§2.3, always synchronous §1.5): DM-only. A non-null
/// value must be an [`AsyncEvent`](crate::async_engine::AsyncEvent) (HY024 otherwise).
/// Before connecting it is stored and checked at connect. After connecting, a driver
/// capable of SQL_ASYNC_DBC_FUNCTIONS and SQL_ASYNC_NOTIFICATION gets the DM's callback
/// and this connection's token; otherwise the DM emulates when emulation is on, and
/// answers S1118 when it is not (§2.3, §7.2: S1118 rather than HY092, docs/decisions.md).
fn set_dbc_event(call: Call<'_, DbcCore>, d: &Arc<Dbc>, value: usize) -> SqlReturn {
    use crate::async_engine::AsyncEvent;
    if value == 0 {
        return leave_dbc_notification(call, |a| a.event = None);
    }
    let Some(event) = AsyncEvent::from_attr(value) else {
        return call.fail(SqlState::INVALID_ATTRIBUTE_VALUE, "Invalid attribute value: not an AsyncEvent of this Driver Manager (§7.7)");
    };
    enter_dbc_notification(call, d, Some(event))
}

/// `SQL_ATTR_DM_ASYNC_WAKER` on a connection (decision #108): as [`set_stmt_waker_mode`]
/// for the connection functions.
fn set_dbc_waker_mode(call: Call<'_, DbcCore>, d: &Arc<Dbc>, on: bool) -> SqlReturn {
    if !on {
        return leave_dbc_notification(call, |a| a.notify_waker = false);
    }
    enter_dbc_notification(call, d, None)
}

/// Applies `clear`; when notification was asked for neither way any more, back to polling:
/// the driver must stop calling back.
fn leave_dbc_notification(call: Call<'_, DbcCore>, clear: fn(&mut crate::handles::DbcAsync)) -> SqlReturn {
    let (link, installed, still) = call.core(|c| {
        let mut a = crate::handles::DbcAsync { event: c.asynch.event.clone(), notify_waker: c.asynch.notify_waker, ..Default::default() };
        clear(&mut a);
        (c.link.clone(), c.asynch.notify_installed, a.notification())
    });
    if let (Some(link), true, false) = (&link, installed, still) {
        connect_async::uninstall_notification(link);
    }
    call.finish(SqlReturn::SQL_SUCCESS, None, move |c, _| {
        clear(&mut c.asynch);
        if !still {
            c.asynch.notify_installed = false;
        }
    })
}

/// Puts the connection in notification mode (§2.1–§2.3): with the application's `event`,
/// or (`None`) in the DM's waker mode.
fn enter_dbc_notification(call: Call<'_, DbcCore>, d: &Arc<Dbc>, event: Option<crate::async_engine::AsyncEvent>) -> SqlReturn {
    let (link, emulated, installed, emulation, enabled) =
        call.core(|c| (c.link.clone(), c.asynch.dbc_emulated, c.asynch.notify_installed, c.asynch.emulation.is_on(), c.asynch.dbc_enabled));
    let mut now_emulated = emulated;
    let mut now_installed = installed;
    if let Some(link) = &link {
        let caps = link.async_caps();
        if !emulated && !installed && caps.dbc_async && caps.notification {
            let rc = connect_async::install_notification(d, link);
            if !rc.is_success() {
                return call.finish(rc, Some((link, HandleType::SQL_HANDLE_DBC, link.hdbc as SqlHandle)), |_, _| {});
            }
            now_installed = true;
        } else if !emulated && !installed {
            if !emulation {
                return call.fail(
                    SqlState::NO_ASYNC_NOTIFICATION,
                    "The driver does not support asynchronous notification (SQL_ASYNC_DBC_FUNCTIONS with SQL_ASYNC_NOTIFICATION); enable AsyncEmulation to have the Driver Manager emulate it (§2.3)",
                );
            }
            // Emulate: the driver runs the connection functions synchronously from now on.
            if enabled && caps.dbc_async {
                set_connect_attr_on_driver(link, ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE, &AttrValue::Int(SQL_ASYNC_DBC_ENABLE_OFF));
            }
            now_emulated = true;
        }
    }
    call.finish(SqlReturn::SQL_SUCCESS, None, move |c, _| {
        match event {
            Some(e) => c.asynch.event = Some(e),
            None => c.asynch.notify_waker = true,
        }
        c.asynch.dbc_emulated = now_emulated;
        c.asynch.notify_installed = now_installed;
    })
}

// ------------------------------------------------------------------------------------
// SQLGetConnectAttr
// ------------------------------------------------------------------------------------

/// SQLGetConnectAttr (ANSI).
pub unsafe extern "C" fn SQLGetConnectAttr(
    dbc: SqlHDbc,
    attr: ConnAttr,
    value: SqlPointer,
    buf_len: SqlInteger,
    out_len: *mut SqlInteger,
) -> SqlReturn {
    trace_enter!("SQLGetConnectAttr", "{:p} {:?} {:p} {}", dbc, attr, value, buf_len);
    boundary("SQLGetConnectAttr", || {
        let d = handle!(dbc, dbc);
        get_connect_attr(&d, attr, value, buf_len, out_len, false)
    })
}

/// SQLGetConnectAttrW (Unicode; character values counted in bytes).
pub unsafe extern "C" fn SQLGetConnectAttrW(
    dbc: SqlHDbc,
    attr: ConnAttr,
    value: SqlPointer,
    buf_len: SqlInteger,
    out_len: *mut SqlInteger,
) -> SqlReturn {
    trace_enter!("SQLGetConnectAttrW", "{:p} {:?} {:p} {}", dbc, attr, value, buf_len);
    boundary("SQLGetConnectAttrW", || {
        let d = handle!(dbc, dbc);
        get_connect_attr(&d, attr, value, buf_len, out_len, true)
    })
}

/// What SQLGetConnectAttr answers without the driver.
enum DmAnswer {
    Value(AttrValue),
    NotConnected,
    Driver(Arc<DriverLink>),
}

fn get_connect_attr(
    d: &Arc<Dbc>,
    attr: ConnAttr,
    value: SqlPointer,
    buf_len: SqlInteger,
    out_len: *mut SqlInteger,
    wide: bool,
) -> SqlReturn {
    let text_attr = is_text_attr(attr);
    let mut answer = DmAnswer::NotConnected;
    // SQLGetConnectAttr is allowed while a function runs asynchronously (§1.9, §1.10).
    let mut call = match Call::begin(&d.gate, |c| {
        if matches!(attr, ConnAttr::SQL_ATTR_ASYNC_DBC_NOTIFICATION_CALLBACK | ConnAttr::SQL_ATTR_ASYNC_DBC_NOTIFICATION_CONTEXT) {
            return Err((
                SqlState::INVALID_ATTRIBUTE_IDENTIFIER,
                format!("Invalid attribute identifier {}: only the Driver Manager uses it (§2.4)", attr.0),
            ));
        }
        if attr == CONN_ASYNC_STMT_EVENT {
            return Err((
                SqlState::STMT_ATTR_ON_DBC,
                "SQL_ATTR_ASYNC_STMT_EVENT is a statement attribute, not a connection attribute (§2.2)".into(),
            ));
        }
        if text_attr && buf_len < 0 {
            return Err((SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "BufferLength is negative".into()));
        }
        answer = if attr == ConnAttr::SQL_ATTR_ASYNC_DBC_EVENT {
            DmAnswer::Value(AttrValue::Int(c.asynch.event.as_ref().map_or(0, |e| e.as_attr() as usize)))
        } else if attr == ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE {
            // The DM's view (the driver's stays off when the DM emulates).
            DmAnswer::Value(AttrValue::Int(if c.asynch.dbc_enabled { SQL_ASYNC_DBC_ENABLE_ON } else { SQL_ASYNC_DBC_ENABLE_OFF }))
        } else if attr.0 == super::ext::SQL_ATTR_DM_ASYNC_WAKER {
            DmAnswer::Value(AttrValue::Int(usize::from(c.asynch.notify_waker)))
        } else if attr.0 == super::ext::SQL_ATTR_DM_CANCEL_GRACE {
            DmAnswer::Value(AttrValue::Int(d.async_slot.cancel_grace().as_millis() as usize))
        } else if attr.0 == super::ext::SQL_ATTR_DM_WCHAR_CONVERSION {
            DmAnswer::Value(AttrValue::Int(usize::from(d.wchar_conversion.load(std::sync::atomic::Ordering::Relaxed))))
        } else if attr == DM_ASYNC_EMULATION {
            DmAnswer::Value(AttrValue::Int(if c.asynch.emulation.is_forced() {
                DM_ASYNC_EMULATION_FORCE
            } else {
                usize::from(c.asynch.emulation.is_on())
            }))
        } else if is_dm_conn_attr(attr) {
            let stored = c.dm_attrs.iter().find(|(a, _)| *a == attr).map(|(_, v)| v.clone());
            DmAnswer::Value(stored.or_else(|| default_conn_attr(c, attr)).expect("the DM's attributes have defaults"))
        } else if let Some(link) = &c.link {
            DmAnswer::Driver(link.clone())
        } else {
            let stored = c.stored_attrs.iter().find(|(a, _)| *a == attr).map(|(_, v)| v.clone());
            match stored.or_else(|| default_conn_attr(c, attr)) {
                Some(v) => DmAnswer::Value(v),
                None => DmAnswer::NotConnected,
            }
        };
        if matches!(answer, DmAnswer::NotConnected) {
            return Err((SqlState::CONNECTION_NOT_OPEN, format!("Connection not open: attribute {} needs a connection (§4.3)", attr.0)));
        }
        Ok(())
    }) {
        Ok(c) => c,
        Err(rc) => return rc,
    };

    let link = match answer {
        DmAnswer::Value(AttrValue::Int(v)) => {
            let pointer_sized = is_pointer_attr(attr) || buf_len == SQL_IS_POINTER;
            // SAFETY: the application's buffer for this attribute's type.
            let n = unsafe { put_int(value, v, pointer_sized) };
            // SAFETY: optional application out pointer.
            unsafe { put_len(out_len, n, i32::MAX) };
            return call.finish(SqlReturn::SQL_SUCCESS, None, |_, _| {});
        }
        DmAnswer::Value(AttrValue::Text(t)) => {
            // SAFETY: the application's buffer of `buf_len` bytes (checked non-negative).
            let (n, trunc) = unsafe { write_app_bytes(&t, wide, value, buf_len.max(0) as usize) };
            // SAFETY: optional application out pointer.
            unsafe { put_len(out_len, n, i32::MAX) };
            if trunc {
                call.warn(SqlState::STRING_TRUNCATED, TRUNCATED);
            }
            return call.finish(SqlReturn::SQL_SUCCESS, None, |_, _| {});
        }
        DmAnswer::NotConnected => unreachable!("rejected in the check"),
        DmAnswer::Driver(link) => link,
    };

    let fns = &link.driver.fns;
    let h = link.hdbc as SqlHandle;
    let (same, other) =
        if wide { (fns.SQLGetConnectAttrW, fns.SQLGetConnectAttr) } else { (fns.SQLGetConnectAttr, fns.SQLGetConnectAttrW) };
    let rc = match (same, other) {
        // An ODBC 2 driver: SQLGetConnectOption (docs/decisions.md #98). An integer option
        // is a 32-bit value in ODBC 2; a string one goes through a DM buffer of
        // SQL_MAX_OPTION_STRING_LENGTH + 1 bytes.
        (None, None) => {
            let (Some(opt), Ok(option)) = (fns.SQLGetConnectOption, u16::try_from(attr.0)) else {
                return call.fail(SqlState::DRIVER_LACKS_FUNCTION, "Driver does not support this function: SQLGetConnectAttr");
            };
            if text_attr {
                let mut buf = vec![0u8; 257];
                // SAFETY: live driver connection; DM buffer of 257 bytes.
                let rc = unsafe { opt(h, option, buf.as_mut_ptr().cast()) };
                if rc.is_success() {
                    // SAFETY: the application's buffer of `buf_len` bytes.
                    let (n, trunc) = unsafe { write_app_bytes(text::narrow_from_buf(&buf), wide, value, buf_len.max(0) as usize) };
                    // SAFETY: optional application out pointer.
                    unsafe { put_len(out_len, n, i32::MAX) };
                    if trunc {
                        call.warn(SqlState::STRING_TRUNCATED, TRUNCATED);
                    }
                }
                rc
            } else {
                let mut v: u64 = 0;
                // SAFETY: live driver connection; a DM buffer wider than ODBC 2's 32 bits.
                let rc = unsafe { opt(h, option, (&mut v as *mut u64).cast()) };
                if rc.is_success() {
                    // An ODBC 2 driver writes 32 bits; the application gets the ODBC 3
                    // type's width (decision #136).
                    let v = if is_pointer_attr(attr) { v as usize } else { v as u32 as usize };
                    // SAFETY: the application's buffer for this attribute's type.
                    unsafe { put_int(value, v, is_pointer_attr(attr)) };
                }
                rc
            }
        }
        // An SQLULEN or pointer attribute: through a zeroed DM buffer of 8 bytes, so that
        // a driver writing only 4 (libsqlite3odbc, psqlODBC, the reference driver for
        // SQL_ATTR_ASYNC_ENABLE) leaves no garbage in the application's upper half
        // (decision #136).
        (Some(f), _) | (None, Some(f)) if is_pointer_attr(attr) && !value.is_null() => {
            let mut v: usize = 0;
            // SAFETY: live driver connection; a DM buffer for a pointer-sized value.
            let rc = unsafe { f(h, attr, (&mut v as *mut usize).cast(), SQL_IS_POINTER, out_len) };
            if rc.is_success() {
                // SAFETY: the application's buffer for an SQLULEN / pointer value.
                let n = unsafe { put_int(value, v, true) };
                // SAFETY: optional application out pointer.
                unsafe { put_len(out_len, n, i32::MAX) };
            }
            rc
        }
        // SAFETY: live driver connection; the application's buffers as given.
        (Some(f), _) => unsafe { f(h, attr, value, buf_len, out_len) },
        // SAFETY: as above; a non-character value means the same in both widths.
        (None, Some(f)) if !text_attr => unsafe { f(h, attr, value, buf_len, out_len) },
        (None, Some(f)) => {
            // Character value from a driver of the other width: receive, convert, and
            // report the full length in bytes of the application's encoding.
            let key = d.id;
            // Generous first buffer: some drivers report the truncated length, not the full one.
            let initial = (buf_len.max(0) as usize + 1).max(RECV_INITIAL);
            let (rc, utf8) = if wide {
                // Narrow driver: its lengths are bytes.
                let (rc, b) = recv_text::<u8>(key, initial, |p, cap| {
                    let mut n: SqlInteger = 0;
                    // SAFETY: live driver connection; DM buffer of `cap` bytes.
                    let rc = unsafe { f(h, attr, p.cast(), cap.min(i32::MAX as usize) as i32, &mut n) };
                    (rc, usize::try_from(n).ok())
                });
                (rc, b)
            } else {
                // Wide driver: its lengths are bytes of UTF-16.
                let (rc, w) = recv_text::<u16>(key, initial, |p, cap| {
                    let mut n: SqlInteger = 0;
                    // SAFETY: live driver connection; DM buffer of `cap` code units.
                    let rc = unsafe { f(h, attr, p.cast(), (cap * 2).min(i32::MAX as usize) as i32, &mut n) };
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
    call.finish(rc, Some((&link, HandleType::SQL_HANDLE_DBC, h)), |_, _| {})
}

// ------------------------------------------------------------------------------------
// SQLSetStmtAttr / SQLGetStmtAttr
// ------------------------------------------------------------------------------------

/// SQLSetStmtAttr (ANSI).
pub unsafe extern "C" fn SQLSetStmtAttr(stmt: SqlHStmt, attr: StmtAttr, value: SqlPointer, len: SqlInteger) -> SqlReturn {
    trace_enter!("SQLSetStmtAttr", "{:p} {:?} {:p} {}", stmt, attr, value, len);
    boundary("SQLSetStmtAttr", || {
        let s = handle!(stmt, stmt);
        set_stmt_attr(&s, attr, value, len, false)
    })
}

/// SQLSetStmtAttrW (Unicode).
pub unsafe extern "C" fn SQLSetStmtAttrW(stmt: SqlHStmt, attr: StmtAttr, value: SqlPointer, len: SqlInteger) -> SqlReturn {
    trace_enter!("SQLSetStmtAttrW", "{:p} {:?} {:p} {}", stmt, attr, value, len);
    boundary("SQLSetStmtAttrW", || {
        let s = handle!(stmt, stmt);
        set_stmt_attr(&s, attr, value, len, true)
    })
}

/// Slot of a descriptor attribute in `StmtCore::implicit_descs` ([ARD, APD, IRD, IPD]).
fn desc_slot(attr: StmtAttr) -> Option<usize> {
    match attr {
        StmtAttr::SQL_ATTR_APP_ROW_DESC => Some(0),
        StmtAttr::SQL_ATTR_APP_PARAM_DESC => Some(1),
        StmtAttr::SQL_ATTR_IMP_ROW_DESC => Some(2),
        StmtAttr::SQL_ATTR_IMP_PARAM_DESC => Some(3),
        _ => None,
    }
}

fn stmt_fn<T: Copy>(wide: bool, a: Option<T>, w: Option<T>) -> Option<T> {
    if wide {
        w.or(a)
    } else {
        a.or(w)
    }
}

/// Sets a statement attribute on the driver (integer value).
fn driver_stmt_attr(s: &Stmt, attr: StmtAttr, value: usize) -> SqlReturn {
    let fns = &s.link.driver.fns;
    match fns.SQLSetStmtAttrW.or(fns.SQLSetStmtAttr) {
        // SAFETY: live driver statement; an integer/pointer attribute passed by value.
        Some(f) => unsafe { f(s.driver_handle(), attr, value as SqlPointer, 0) },
        None => SqlReturn::SQL_ERROR,
    }
}

/// SQL_ATTR_ASYNC_ENABLE when the DM emulates: answered by the DM (the driver's stays
/// off). `None`: the driver takes it (native asynchronous execution).
fn set_stmt_async_enable_dm(s: &Stmt, on: bool) -> Option<SqlReturn> {
    let emulated = s.gate.read(|c| c.async_emulated);
    let (emulation, forced) = s.dbc.gate.read(|c| (c.asynch.emulation.is_on(), c.asynch.emulation.is_forced()));
    let emulate = emulated || (on && emulation && (forced || !s.link.async_caps().stmt_async));
    if !emulate {
        return None;
    }
    s.gate.update(|c| {
        c.async_emulated = true;
        c.async_enabled = on;
    });
    Some(SqlReturn::SQL_SUCCESS)
}

/// SQL_ATTR_ASYNC_STMT_EVENT (§2.1–§2.4): DM-only. A non-null value must be an
/// [`AsyncEvent`](crate::async_engine::AsyncEvent) (HY024 otherwise). A driver that can
/// notify gets the DM's callback and a fresh context token on its statement; otherwise the
/// DM emulates when emulation is on, and answers S1118 when it is not (§2.3, §7.2).
fn set_stmt_event(call: StmtCall<'_>, s: &Arc<Stmt>, value: usize) -> SqlReturn {
    use crate::async_engine::AsyncEvent;
    if value == 0 {
        // Back to polling (unless the DM's waker mode stays on): the driver must stop
        // calling back.
        leave_stmt_notification(s, |c| c.async_event = None);
        return call.finish(SqlReturn::SQL_SUCCESS);
    }
    let Some(event) = AsyncEvent::from_attr(value) else {
        return call.fail(SqlState::INVALID_ATTRIBUTE_VALUE, "Invalid attribute value: not an AsyncEvent of this Driver Manager (§7.7)");
    };
    enter_stmt_notification(call, s, Some(event))
}

/// `SQL_ATTR_DM_ASYNC_WAKER` on a statement (decision #108): notification mode without an
/// event, for the safe API's futures. On: as setting an event (the same capability checks,
/// S1118 / emulation), except that no event is kept; the operation's end wakes the waker
/// registered through `raw::ext::register_waker`. Off: polling again unless an event is set.
fn set_stmt_waker_mode(call: StmtCall<'_>, s: &Arc<Stmt>, on: bool) -> SqlReturn {
    if !on {
        leave_stmt_notification(s, |c| c.notify_waker = false);
        return call.finish(SqlReturn::SQL_SUCCESS);
    }
    enter_stmt_notification(call, s, None)
}

/// Applies `clear` (drops the event or the waker mode); when notification was asked for
/// neither way any more, takes the DM's callback off the driver statement.
fn leave_stmt_notification(s: &Arc<Stmt>, clear: impl FnOnce(&mut crate::handles::StmtCore)) {
    let uninstall = s.gate.update(|c| {
        clear(c);
        !c.notification() && std::mem::replace(&mut c.notify_installed, false)
    });
    if uninstall {
        driver_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_STMT_NOTIFICATION_CALLBACK, 0);
        driver_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_STMT_NOTIFICATION_CONTEXT, 0);
    }
}

/// Puts the statement in notification mode (§2.1–§2.4, §2.15): with the application's
/// `event`, or (`None`) in the DM's waker mode.
fn enter_stmt_notification(call: StmtCall<'_>, s: &Arc<Stmt>, event: Option<crate::async_engine::AsyncEvent>) -> SqlReturn {
    use crate::async_engine::{callback, dispatcher, Token};
    use std::sync::atomic::Ordering;
    // §2.15: the cursor library cannot be combined with notification. odbc-dm has no
    // cursor library; an application that asked for it always (SQL_CUR_USE_ODBC) is told.
    let cursor_lib = s
        .dbc
        .gate
        .read(|c| c.dm_attrs.iter().any(|(a, v)| *a == ConnAttr::SQL_ATTR_ODBC_CURSORS && *v == AttrValue::Int(SQL_CUR_USE_ODBC)));
    if cursor_lib {
        return call
            .fail(SqlState::CURSOR_LIBRARY_WITH_NOTIFICATION, "The cursor library cannot be used with asynchronous notification (§2.15)");
    }
    let caps = s.link.async_caps();
    let (emulated, installed) = s.gate.read(|c| (c.async_emulated, c.notify_installed));
    let forced = s.dbc.gate.read(|c| c.asynch.emulation.is_forced());
    if !emulated && !installed && caps.stmt_async && caps.notification && !forced {
        dispatcher::ensure_started();
        let mut token = s.notify_token.load(Ordering::Acquire);
        if token == 0 {
            let Some(t) = Token::register(HandleType::SQL_HANDLE_STMT, s.id) else {
                return call.fail(SqlState::MEMORY_ALLOCATION, "Too many handles in notification mode");
            };
            token = t.0;
            s.notify_token.store(token, Ordering::Release);
        }
        let rc = driver_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_STMT_NOTIFICATION_CONTEXT, token as usize);
        let rc = if rc.is_success() {
            driver_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_STMT_NOTIFICATION_CALLBACK, callback::callback_attr_value())
        } else {
            rc
        };
        if !rc.is_success() {
            return call.finish(rc);
        }
        s.gate.update(|c| c.notify_installed = true);
    } else if !emulated && !installed {
        if !s.dbc.gate.read(|c| c.asynch.emulation.is_on()) {
            return call.fail(
                SqlState::NO_ASYNC_NOTIFICATION,
                "The driver does not support asynchronous notification (SQL_ASYNC_NOTIFICATION); enable AsyncEmulation to have the Driver Manager emulate it (§2.3)",
            );
        }
        // Emulate: the driver runs synchronously from now on.
        let was_on = s.gate.update(|c| std::mem::replace(&mut c.async_emulated, true) || c.async_enabled);
        if was_on && caps.stmt_async {
            driver_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_OFF);
        }
    }
    s.gate.update(|c| match event {
        Some(e) => c.async_event = Some(e),
        None => c.notify_waker = true,
    });
    call.finish(SqlReturn::SQL_SUCCESS)
}

/// ODBC 2.x statement option SQL_ROWSET_SIZE (ODBC 3: SQL_ATTR_ROW_ARRAY_SIZE).
const SQL_ROWSET_SIZE: u16 = 9;

/// Whether the driver takes statement attributes only through the ODBC 2 options
/// (mdbtools: SQLSetStmtOption, no SQLSetStmtAttr(W)).
fn odbc2_stmt_attrs(s: &Stmt) -> bool {
    let fns = &s.link.driver.fns;
    fns.SQLSetStmtAttr.is_none() && fns.SQLSetStmtAttrW.is_none() && fns.SQLSetStmtOption.is_some()
}

/// Updates the DM's record of an ODBC 2 driver's block-cursor attributes, creating it on
/// first use; the statement then leaves the fast lanes (its SQLFetch is mapped to
/// SQLExtendedFetch, decision #115).
fn set_odbc2_block(s: &Stmt, f: impl FnOnce(&mut crate::handles::Odbc2Block)) {
    s.gate.update(|c| {
        c.lanes_ok = false;
        f(c.odbc2_block.get_or_insert_with(Default::default));
    });
}

/// HY010 in S8–S12 comes from the state table (§4.7) through `StmtCall::begin`.
fn set_stmt_attr(s: &Arc<Stmt>, attr: StmtAttr, value: SqlPointer, len: SqlInteger, wide: bool) -> SqlReturn {
    let call = match StmtCall::begin(s, F::SQL_API_SQLSETSTMTATTR) {
        Ok(c) => c,
        Err(rc) => return rc,
    };
    // HY024 for a value outside a discrete set, before anything is stored or forwarded
    // (decision #135).
    if let Err((state, msg)) = check_discrete(attr.0, value as usize, false) {
        return call.fail(state, msg);
    }
    match attr {
        StmtAttr::SQL_ATTR_ASYNC_STMT_NOTIFICATION_CALLBACK | StmtAttr::SQL_ATTR_ASYNC_STMT_NOTIFICATION_CONTEXT => {
            return call.fail(
                SqlState::INVALID_ATTRIBUTE_IDENTIFIER,
                format!("Invalid attribute identifier {}: only the Driver Manager sets it (§2.4)", attr.0),
            );
        }
        StmtAttr::SQL_ATTR_ASYNC_STMT_EVENT => return set_stmt_event(call, s, value as usize),
        StmtAttr(a) if a == super::ext::SQL_ATTR_DM_ASYNC_WAKER => {
            // DM-only (decision #108), never sent to the driver.
            return set_stmt_waker_mode(call, s, value as usize != 0);
        }
        StmtAttr(a) if a == super::ext::SQL_ATTR_DM_CANCEL_GRACE => {
            // DM-only (decision #35), never sent to the driver.
            s.async_slot.set_cancel_grace(std::time::Duration::from_millis(value as usize as u64));
            return call.finish(SqlReturn::SQL_SUCCESS);
        }
        StmtAttr::SQL_ATTR_ASYNC_ENABLE => {
            if let Some(rc) = set_stmt_async_enable_dm(s, value as usize != SQL_ASYNC_ENABLE_OFF) {
                return call.finish(rc);
            }
        }
        StmtAttr::SQL_ATTR_IMP_ROW_DESC | StmtAttr::SQL_ATTR_IMP_PARAM_DESC => {
            return call
                .fail(HY017, "Invalid use of an automatically allocated descriptor handle: implementation descriptors cannot be set");
        }
        StmtAttr::SQL_ATTR_PARAM_BIND_OFFSET_PTR if s.link.driver.ignores_param_offset => {
            // The driver would ignore it: the DM keeps it and applies the offset to the
            // parameter bindings itself at each execution (decision #143).
            super::wconv::set_param_offset_ptr(s, value as usize);
            return call.finish(SqlReturn::SQL_SUCCESS);
        }
        StmtAttr::SQL_ATTR_ROW_BIND_OFFSET_PTR if s.ansi_wchar && s.link.driver.writes_indicator_at_bind => {
            // libsqlite3odbc: it holds the offset (and takes SQL_C_WCHAR itself); the DM
            // stops converting bound columns while it is set (decision #149). Forwarded below.
            super::wconv::set_driver_row_offset(&call, s, !value.is_null());
        }
        StmtAttr::SQL_ATTR_ROW_BIND_OFFSET_PTR if super::wconv::dm_keeps_row_offset(s) => {
            // The driver would add it to the DM's own buffers of converted columns: the DM
            // keeps it and moves the other bindings itself before each fetch (decision #149).
            super::wconv::set_row_offset_ptr(&call, s, value as usize);
            super::concurrency::on_stmt_attr(s, attr, value);
            return call.finish(SqlReturn::SQL_SUCCESS);
        }
        // §5.1/§5.2/§5.6: passthrough or DM emulation (raw/concurrency).
        StmtAttr::SQL_ATTR_CONCURRENCY | StmtAttr::SQL_ATTR_SIMULATE_CURSOR => {
            return match super::concurrency::set_attr(call, s, attr, value, len) {
                Ok(rc) => rc,
                Err(call) => call.finish(SqlReturn::SQL_ERROR),
            };
        }
        _ => {}
    }
    let fns = &s.link.driver.fns;
    let Some(f) = stmt_fn(wide, fns.SQLSetStmtAttr, fns.SQLSetStmtAttrW) else {
        // An ODBC 2 driver (mdbtools has only SQLSetStmtOption): the 2.x function, for the
        // A and the W form alike (docs/decisions.md #66); descriptor handles have no 2.x form.
        if let (Some(opt), false, Ok(option)) = (fns.SQLSetStmtOption, matches!(desc_slot(attr), Some(0 | 1)), u16::try_from(attr.0)) {
            // The rows-fetched and row-status pointers have no 2.x option: the DM keeps
            // them and passes them to SQLExtendedFetch (decision #115).
            if matches!(attr, StmtAttr::SQL_ATTR_ROWS_FETCHED_PTR | StmtAttr::SQL_ATTR_ROW_STATUS_PTR) {
                set_odbc2_block(s, |b| {
                    if attr == StmtAttr::SQL_ATTR_ROWS_FETCHED_PTR {
                        b.rows_fetched = value as usize;
                    } else {
                        b.row_status = value as usize;
                    }
                });
                return call.finish(SqlReturn::SQL_SUCCESS);
            }
            // SQL_ATTR_ROW_ARRAY_SIZE is the 2.x SQL_ROWSET_SIZE (decision #115).
            let option = if attr == StmtAttr::SQL_ATTR_ROW_ARRAY_SIZE { SQL_ROWSET_SIZE } else { option };
            // SAFETY: live driver statement; statement options are integers passed by value.
            let rc = unsafe { opt(s.driver_handle(), option, value as SqlULen) };
            if attr == StmtAttr::SQL_ATTR_ASYNC_ENABLE && rc.is_success() {
                s.gate.update(|c| c.async_enabled = value as usize != SQL_ASYNC_ENABLE_OFF);
            }
            if attr == StmtAttr::SQL_ATTR_ROW_ARRAY_SIZE && rc.is_success() {
                set_odbc2_block(s, |b| b.array_size = value as usize);
            }
            return call.finish(rc);
        }
        return call.missing("SQLSetStmtAttr");
    };

    if let Some(slot @ (0 | 1)) = desc_slot(attr) {
        return set_app_desc(call, s, slot, attr, value, len, f);
    }

    // SAFETY: live driver statement; the application's value and length as given
    // (statement attributes have no character values, so both widths agree).
    let rc = unsafe { f(s.driver_handle(), attr, value, len) };
    if attr == StmtAttr::SQL_ATTR_ASYNC_ENABLE && rc.is_success() {
        s.gate.update(|c| c.async_enabled = value as usize != SQL_ASYNC_ENABLE_OFF);
    }
    if rc.is_success() {
        super::concurrency::on_stmt_attr(s, attr, value);
    } else if attr == StmtAttr::SQL_ATTR_ROW_OPERATION_PTR && super::concurrency::emulated(s) {
        // §5.5: the DM's SQLSetPos honours the row operation array even where the driver
        // does not take it (libsqlite3odbc: "not supported").
        super::concurrency::on_stmt_attr(s, attr, value);
        return call.finish(SqlReturn::SQL_SUCCESS);
    }
    call.finish(rc)
}

/// SQLGetStmtAttr (ANSI).
pub unsafe extern "C" fn SQLGetStmtAttr(
    stmt: SqlHStmt,
    attr: StmtAttr,
    value: SqlPointer,
    buf_len: SqlInteger,
    out_len: *mut SqlInteger,
) -> SqlReturn {
    trace_enter!("SQLGetStmtAttr", "{:p} {:?} {:p} {}", stmt, attr, value, buf_len);
    boundary("SQLGetStmtAttr", || {
        let s = handle!(stmt, stmt);
        get_stmt_attr(&s, attr, value, buf_len, out_len, false)
    })
}

/// SQLGetStmtAttrW (Unicode).
pub unsafe extern "C" fn SQLGetStmtAttrW(
    stmt: SqlHStmt,
    attr: StmtAttr,
    value: SqlPointer,
    buf_len: SqlInteger,
    out_len: *mut SqlInteger,
) -> SqlReturn {
    trace_enter!("SQLGetStmtAttrW", "{:p} {:?} {:p} {}", stmt, attr, value, buf_len);
    boundary("SQLGetStmtAttrW", || {
        let s = handle!(stmt, stmt);
        get_stmt_attr(&s, attr, value, buf_len, out_len, true)
    })
}

/// The DM handle for a driver descriptor handle returned for `slot`: the explicit
/// descriptor if one is in use, else the statement's wrapper of the implicit one, created
/// on first request and kept for the statement's life (the implicit descriptors never
/// change, SQLSetStmtAttr page: an implicit descriptor handle stays valid until its statement is freed).
/// A driver handle the DM does not know is never wrapped once the implicit wrapper exists:
/// it could be a descriptor the driver has freed (psqlODBC keeps a freed explicit ARD on
/// its statements).
fn dm_desc_for(s: &Arc<Stmt>, slot: usize, hdesc: usize) -> usize {
    if let Some(id) = known_desc(s, slot) {
        return id;
    }
    let d = Desc::new(s.dbc.clone(), s.link.clone(), hdesc, Some(s.id));
    let old = s.gate.update(|c| c.descs_mut().implicit[slot].replace(d.id));
    if let Some(old) = old {
        handles::tables().desc.remove(old);
    }
    d.id
}

/// The DM handle the statement's `slot` descriptor is, if the DM knows it without asking
/// the driver: the explicit ARD/APD in use, else the implicit wrapper already made.
fn known_desc(s: &Stmt, slot: usize) -> Option<usize> {
    let (explicit, cached) = s.gate.read(|c| (c.explicit_desc(slot), c.implicit_descs()[slot]));
    let live = |id: Option<usize>| id.filter(|&id| handles::tables().desc.get(id).is_some());
    live(explicit).or_else(|| live(cached))
}

/// The statement's implicit `slot` descriptor (ARD 0, APD 1) as a DM wrapper, made now if
/// the application never asked for it. Called before an explicit descriptor is set (so the
/// driver still answers with its implicit one): the DM then always knows the handle to
/// set back when the explicit one goes (SQL_NULL_HDESC, or the explicit one is freed).
fn ensure_implicit(s: &Arc<Stmt>, slot: usize, attr: StmtAttr, get: Option<odbc_dm_abi::fns::SQLGetStmtAttr>) -> Option<Arc<Desc>> {
    if let Some(id) = s.gate.read(|c| c.implicit_descs()[slot]) {
        if let Some(d) = handles::tables().desc.get(id) {
            return Some(d);
        }
    }
    if s.gate.read(|c| c.explicit_desc(slot)).is_some() {
        // The driver would answer with the explicit one.
        return None;
    }
    let f = get?;
    let mut hdesc: SqlHandle = std::ptr::null_mut();
    // SAFETY: live driver statement (the caller holds its call); a DM slot for the handle.
    let rc = unsafe { f(s.driver_handle(), attr, (&mut hdesc as *mut SqlHandle).cast(), SQL_IS_POINTER, std::ptr::null_mut()) };
    if !rc.is_success() || hdesc.is_null() {
        return None;
    }
    let id = dm_desc_for(s, slot, hdesc as usize);
    handles::tables().desc.get(id)
}

/// SQLSetStmtAttr(SQL_ATTR_APP_ROW_DESC / SQL_ATTR_APP_PARAM_DESC): an explicit descriptor
/// of the same connection, the statement's own implicit one, or SQL_NULL_HDESC (back to
/// the implicit one). The DM handle becomes the driver's handle; the DM records which
/// statements an explicit descriptor is on, so that freeing it can set them back (decision #130,
/// SQLFreeHandle: "the statements revert to their implicitly allocated descriptors").
fn set_app_desc(
    call: StmtCall<'_>,
    s: &Arc<Stmt>,
    slot: usize,
    attr: StmtAttr,
    value: SqlPointer,
    len: SqlInteger,
    f: odbc_dm_abi::fns::SQLSetStmtAttr,
) -> SqlReturn {
    let fns = &s.link.driver.fns;
    let get = fns.SQLGetStmtAttr.or(fns.SQLGetStmtAttrW);
    let explicit = if value.is_null() {
        None
    } else {
        let Some(dd) = handles::desc(value) else {
            return call.fail(SqlState::INVALID_ATTRIBUTE_VALUE, "Invalid attribute value: not a descriptor handle");
        };
        match dd.implicit_of {
            Some(_) => {
                // Only the statement's own implicit ARD/APD may be set back.
                if s.gate.read(|c| c.implicit_descs()[slot]) != Some(dd.id) {
                    return call.fail(HY017, "Invalid use of an automatically allocated descriptor handle");
                }
                None
            }
            None => {
                if dd.dbc.id != s.dbc.id {
                    return call
                        .fail(SqlState::INVALID_ATTRIBUTE_VALUE, "Invalid attribute value: the descriptor belongs to another connection");
                }
                Some(dd)
            }
        }
    };
    // Back to the implicit descriptor: its driver handle when the DM knows it (every driver
    // takes its own implicit handle; SQL_NULL_HDESC is the spec's other way).
    let implicit = if explicit.is_some() { ensure_implicit(s, slot, attr, get) } else { known_implicit(s, slot) };
    let driver_value = match &explicit {
        Some(dd) => {
            let mut u = dd.users();
            if u.freeing {
                drop(u);
                return call.fail(SqlState::INVALID_ATTRIBUTE_VALUE, "Invalid attribute value: the descriptor is being freed");
            }
            // Registered before the driver sees it: a concurrent SQLFreeHandle of the
            // descriptor then sets this statement back after this call.
            if !u.stmts.contains(&s.id) {
                u.stmts.push(s.id);
            }
            dd.hdesc as SqlPointer
        }
        None => implicit.as_ref().map_or(std::ptr::null_mut(), |d| d.hdesc as SqlPointer),
    };
    // SAFETY: live driver statement; a live driver descriptor handle of the same connection
    // (an explicit one cannot be freed before it is taken off this statement, see above),
    // or the statement's own implicit one, or null.
    let rc = unsafe { f(s.driver_handle(), attr, driver_value, len) };
    let previous = if rc.is_success() {
        let new = explicit.as_ref().map(|d| d.id);
        s.gate.update(|c| {
            if new.is_none() && c.descs.is_none() {
                return None;
            }
            let d = c.descs_mut();
            let field = if slot == 0 { &mut d.explicit_ard } else { &mut d.explicit_apd };
            std::mem::replace(field, new)
        })
    } else {
        None
    };
    // The statement's record is the truth; an explicit descriptor no longer on it forgets it.
    let now = s.gate.read(|c| c.explicit_desc(slot));
    for id in previous.into_iter().chain(explicit.as_ref().map(|d| d.id)) {
        if now != Some(id) {
            if let Some(d) = handles::tables().desc.get(id) {
                forget_user(&d, s);
            }
        }
    }
    call.finish(rc)
}

/// The statement's implicit `slot` wrapper, if made.
fn known_implicit(s: &Stmt, slot: usize) -> Option<Arc<Desc>> {
    let id = s.gate.read(|c| c.implicit_descs()[slot])?;
    handles::tables().desc.get(id)
}

/// Removes `s` from an explicit descriptor's users unless it still uses it as ARD or APD.
pub(crate) fn forget_user(d: &Desc, s: &Stmt) {
    let still = s.gate.read(|c| c.explicit_desc(0) == Some(d.id) || c.explicit_desc(1) == Some(d.id));
    if !still {
        d.users().stmts.retain(|&x| x != s.id);
    }
}

fn get_stmt_attr(s: &Arc<Stmt>, attr: StmtAttr, value: SqlPointer, buf_len: SqlInteger, out_len: *mut SqlInteger, wide: bool) -> SqlReturn {
    let call = match StmtCall::begin(s, F::SQL_API_SQLGETSTMTATTR) {
        Ok(c) => c,
        Err(rc) => return rc,
    };
    match attr {
        StmtAttr::SQL_ATTR_ROW_NUMBER
            if s.gate.read(|c| {
                use crate::handles::stmt_state::StmtState;
                matches!(c.status.state, StmtState::S1 | StmtState::S2 | StmtState::S3 | StmtState::S4)
            }) =>
        {
            // SQLGetStmtAttr 24000 / Appendix B (S1–S4: "(24000)", the DM's): no cursor is
            // open, so there is no current row (decision #139).
            return call.fail(SqlState::INVALID_CURSOR_STATE, "Invalid cursor state: SQL_ATTR_ROW_NUMBER needs an open cursor");
        }
        StmtAttr::SQL_ATTR_ASYNC_STMT_NOTIFICATION_CALLBACK | StmtAttr::SQL_ATTR_ASYNC_STMT_NOTIFICATION_CONTEXT => {
            return call.fail(
                SqlState::INVALID_ATTRIBUTE_IDENTIFIER,
                format!("Invalid attribute identifier {}: only the Driver Manager uses it (§2.4)", attr.0),
            );
        }
        StmtAttr::SQL_ATTR_ASYNC_ENABLE if s.gate.read(|c| c.async_emulated) => {
            let on = s.gate.read(|c| c.async_enabled);
            // SAFETY: the application's buffer for a SQLULEN value.
            let n = unsafe { put_int(value, usize::from(on), true) };
            // SAFETY: optional application out pointer.
            unsafe { put_len(out_len, n, i32::MAX) };
            return call.finish(SqlReturn::SQL_SUCCESS);
        }
        StmtAttr(a) if a == super::ext::SQL_ATTR_DM_ASYNC_WAKER => {
            let on = s.gate.read(|c| c.notify_waker);
            // SAFETY: the application's buffer for a SQLULEN value.
            let n = unsafe { put_int(value, usize::from(on), true) };
            // SAFETY: optional application out pointer.
            unsafe { put_len(out_len, n, i32::MAX) };
            return call.finish(SqlReturn::SQL_SUCCESS);
        }
        StmtAttr(a) if a == super::ext::SQL_ATTR_DM_CANCEL_GRACE => {
            let ms = s.async_slot.cancel_grace().as_millis() as usize;
            // SAFETY: the application's buffer for a SQLULEN value.
            let n = unsafe { put_int(value, ms, true) };
            // SAFETY: optional application out pointer.
            unsafe { put_len(out_len, n, i32::MAX) };
            return call.finish(SqlReturn::SQL_SUCCESS);
        }
        StmtAttr::SQL_ATTR_CONCURRENCY | StmtAttr::SQL_ATTR_SIMULATE_CURSOR if super::concurrency::get_attr(s, attr).is_some() => {
            let v = super::concurrency::get_attr(s, attr).unwrap_or(0);
            // SAFETY: the application's buffer for a SQLULEN value.
            let n = unsafe { put_int(value, v, true) };
            // SAFETY: optional application out pointer.
            unsafe { put_len(out_len, n, i32::MAX) };
            return call.finish(SqlReturn::SQL_SUCCESS);
        }
        // A bind offset pointer the DM keeps instead of the driver (decisions #143, #149).
        StmtAttr::SQL_ATTR_PARAM_BIND_OFFSET_PTR | StmtAttr::SQL_ATTR_ROW_BIND_OFFSET_PTR => {
            let kept = match attr {
                StmtAttr::SQL_ATTR_PARAM_BIND_OFFSET_PTR if s.link.driver.ignores_param_offset => Some(super::wconv::param_offset_ptr(s)),
                StmtAttr::SQL_ATTR_ROW_BIND_OFFSET_PTR if super::wconv::dm_keeps_row_offset(s) => Some(super::wconv::row_offset_ptr(s)),
                _ => None,
            };
            if let Some(p) = kept {
                // SAFETY: the application's buffer for a pointer-sized value.
                let n = unsafe { put_int(value, p, true) };
                // SAFETY: optional application out pointer.
                unsafe { put_len(out_len, n, i32::MAX) };
                return call.finish(SqlReturn::SQL_SUCCESS);
            }
        }
        StmtAttr::SQL_ATTR_ASYNC_STMT_EVENT => {
            let ev = s.gate.read(|c| c.async_event.as_ref().map_or(0, |e| e.as_attr() as usize));
            // SAFETY: the application's buffer for a pointer-sized value.
            let n = unsafe { put_int(value, ev, true) };
            // SAFETY: optional application out pointer.
            unsafe { put_len(out_len, n, i32::MAX) };
            return call.finish(SqlReturn::SQL_SUCCESS);
        }
        _ => {}
    }
    let fns = &s.link.driver.fns;
    if odbc2_stmt_attrs(s) {
        // An ODBC 2 driver (decision #115): the pointers the DM keeps; the array size is
        // SQL_ROWSET_SIZE; any other attribute through SQLGetStmtOption when the driver
        // has no SQLGetStmtAttr.
        let kept = match attr {
            StmtAttr::SQL_ATTR_ROWS_FETCHED_PTR => Some(s.gate.read(|c| c.odbc2_block.as_ref().map_or(0, |b| b.rows_fetched))),
            StmtAttr::SQL_ATTR_ROW_STATUS_PTR => Some(s.gate.read(|c| c.odbc2_block.as_ref().map_or(0, |b| b.row_status))),
            _ => None,
        };
        if let Some(v) = kept {
            // SAFETY: the application's buffer for a pointer value.
            let n = unsafe { put_int(value, v, true) };
            // SAFETY: optional application out pointer.
            unsafe { put_len(out_len, n, i32::MAX) };
            return call.finish(SqlReturn::SQL_SUCCESS);
        }
        let no_attr = stmt_fn(wide, fns.SQLGetStmtAttr, fns.SQLGetStmtAttrW).is_none();
        if let (Some(g), Ok(option)) = (fns.SQLGetStmtOption, u16::try_from(attr.0)) {
            if (attr == StmtAttr::SQL_ATTR_ROW_ARRAY_SIZE || no_attr) && desc_slot(attr).is_none() {
                let option = if attr == StmtAttr::SQL_ATTR_ROW_ARRAY_SIZE { SQL_ROWSET_SIZE } else { option };
                let mut v: u64 = 0;
                // SAFETY: live driver statement; a DM buffer wider than any option's value.
                let rc = unsafe { g(s.driver_handle(), option, (&mut v as *mut u64).cast()) };
                if rc.is_success() && v == 0 && option == SQL_ROWSET_SIZE {
                    // 0 is no rowset size: the driver wrote nothing (mdbtools' SQLGetStmtOption
                    // is a stub); the size it accepted from SQLSetStmtOption, as the DM kept it.
                    v = s.gate.read(|c| c.odbc2_block.as_ref().map_or(1, |b| b.array_size.max(1))) as u64;
                }
                if rc.is_success() {
                    // SAFETY: the application's buffer for a SQLULEN value.
                    let n = unsafe { put_int(value, v as usize, true) };
                    // SAFETY: optional application out pointer.
                    unsafe { put_len(out_len, n, i32::MAX) };
                }
                return call.finish(rc);
            }
        }
    }
    let Some(f) = stmt_fn(wide, fns.SQLGetStmtAttr, fns.SQLGetStmtAttrW) else { return call.missing("SQLGetStmtAttr") };

    if let Some(slot) = desc_slot(attr) {
        if value.is_null() {
            return call.fail(SqlState::INVALID_NULL_POINTER, "ValuePtr is a null pointer");
        }
        if let Some(id) = known_desc(s, slot) {
            // The DM's own record (never a driver handle, never a freed one).
            // SAFETY: non-null application buffer for a SQLHDESC.
            unsafe { *(value as *mut SqlHandle) = id as SqlHandle };
            // SAFETY: optional application out pointer.
            unsafe { put_len(out_len, std::mem::size_of::<SqlHandle>(), i32::MAX) };
            return call.finish(SqlReturn::SQL_SUCCESS);
        }
        let mut hdesc: SqlHandle = std::ptr::null_mut();
        // SAFETY: live driver statement; a DM slot for the driver's descriptor handle.
        let rc = unsafe { f(s.driver_handle(), attr, (&mut hdesc as *mut SqlHandle).cast(), SQL_IS_POINTER, std::ptr::null_mut()) };
        if rc.is_success() {
            let id = if hdesc.is_null() { 0 } else { dm_desc_for(s, slot, hdesc as usize) };
            // SAFETY: non-null application buffer for a SQLHDESC.
            unsafe { *(value as *mut SqlHandle) = id as SqlHandle };
            // SAFETY: optional application out pointer.
            unsafe { put_len(out_len, std::mem::size_of::<SqlHandle>(), i32::MAX) };
        }
        return call.finish(rc);
    }

    // SAFETY: live driver statement; the application's buffers as given.
    let rc = unsafe { f(s.driver_handle(), attr, value, buf_len, out_len) };
    call.finish(rc)
}

// ------------------------------------------------------------------------------------
// ODBC 2.x options
// ------------------------------------------------------------------------------------

/// ODBC 2.x SQLSetConnectOption, mapped to SQLSetConnectAttr (character options are
/// NUL-terminated).
pub unsafe extern "C" fn SQLSetConnectOption(dbc: SqlHDbc, option: SqlUSmallInt, value: SqlULen) -> SqlReturn {
    trace_enter!("SQLSetConnectOption", "{:p} {} {}", dbc, option, value);
    boundary("SQLSetConnectOption", || {
        let d = handle!(dbc, dbc);
        let attr = ConnAttr(option as i32);
        let len = if is_text_attr(attr) { SQL_NTS } else { 0 };
        set_connect_attr(&d, attr, value as SqlPointer, len, false)
    })
}

/// ODBC 2.x SQLGetConnectOption, mapped to SQLGetConnectAttr (a character option's buffer
/// is SQL_MAX_OPTION_STRING_LENGTH bytes).
pub unsafe extern "C" fn SQLGetConnectOption(dbc: SqlHDbc, option: SqlUSmallInt, value: SqlPointer) -> SqlReturn {
    trace_enter!("SQLGetConnectOption", "{:p} {} {:p}", dbc, option, value);
    boundary("SQLGetConnectOption", || {
        let d = handle!(dbc, dbc);
        connect_option(&d, option, value, false)
    })
}

/// The ODBC 2.x SQLGetConnectOption(W) of `dbc` (the W form is unixODBC's, exported by the
/// C ABI): a character option's buffer is SQL_MAX_OPTION_STRING_LENGTH characters; an
/// integer option is a 32-bit UDWORD in ODBC 2 (unixODBC writes SQL_ODBC_CURSORS as an
/// SQLINTEGER there too), so the value is read into a DM buffer and written as 4 bytes,
/// except a pointer (SQL_ATTR_QUIET_MODE's HWND), 8 (decision #136).
///
/// # Safety
/// `dbc` is a handle of this DM or anything else (checked); `value` is null or valid for
/// the option's type.
pub unsafe fn get_connect_option(dbc: SqlHDbc, option: SqlUSmallInt, value: SqlPointer, wide: bool) -> SqlReturn {
    boundary(if wide { "SQLGetConnectOptionW" } else { "SQLGetConnectOption" }, || {
        let d = handle!(dbc, dbc);
        connect_option(&d, option, value, wide)
    })
}

fn connect_option(d: &Arc<Dbc>, option: SqlUSmallInt, value: SqlPointer, wide: bool) -> SqlReturn {
    let attr = ConnAttr(option as i32);
    if is_text_attr(attr) {
        let len = if wide { MAX_OPTION_STRING_LENGTH * 2 } else { MAX_OPTION_STRING_LENGTH };
        return get_connect_attr(d, attr, value, len, std::ptr::null_mut(), wide);
    }
    let pointer = matches!(attr, ConnAttr::SQL_ATTR_QUIET_MODE);
    let mut v: usize = 0;
    let rc = get_connect_attr(d, attr, (&mut v as *mut usize).cast(), 0, std::ptr::null_mut(), wide);
    if rc.is_success() {
        // SAFETY: the application's buffer for a UDWORD (a pointer for SQL_QUIET_MODE).
        unsafe { put_int(value, if pointer { v } else { v as u32 as usize }, pointer) };
    }
    rc
}

/// ODBC 2.x SQLSetStmtOption, mapped to SQLSetStmtAttr.
pub unsafe extern "C" fn SQLSetStmtOption(stmt: SqlHStmt, option: SqlUSmallInt, value: SqlULen) -> SqlReturn {
    trace_enter!("SQLSetStmtOption", "{:p} {} {}", stmt, option, value);
    boundary("SQLSetStmtOption", || {
        let s = handle!(stmt, stmt);
        set_stmt_attr(&s, StmtAttr(option as i32), value as SqlPointer, 0, false)
    })
}

/// ODBC 2.x SQLGetStmtOption, mapped to SQLGetStmtAttr.
pub unsafe extern "C" fn SQLGetStmtOption(stmt: SqlHStmt, option: SqlUSmallInt, value: SqlPointer) -> SqlReturn {
    trace_enter!("SQLGetStmtOption", "{:p} {} {:p}", stmt, option, value);
    boundary("SQLGetStmtOption", || {
        let s = handle!(stmt, stmt);
        get_stmt_attr(&s, StmtAttr(option as i32), value, 0, std::ptr::null_mut(), false)
    })
}
