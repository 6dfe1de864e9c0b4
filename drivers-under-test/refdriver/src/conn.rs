//! Environment and connection logic.

use crate::async_ops::{run_op, Completion, OpCtx, Start};
use crate::connstr::{self, ConnSettings};
use crate::diag::{from_sqlite, DiagRec};
use crate::engine;
use crate::handles::{self, Conn, Env, Obj};
use crate::info::{self, InfoVal};
use crate::util::{lock, put, read_wstr, write_bytes, write_wstr_bytes, write_wstr_chars};
use crate::{SQL_ATTR_REFDRIVER_CLEAR_EVENT_LOG, SQL_ATTR_REFDRIVER_EVENT_LOG};
use odbc_dm_abi::SqlReturn;
use std::ffi::c_void;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

const SUCCESS: SqlReturn = SqlReturn::SQL_SUCCESS;
const SWI: SqlReturn = SqlReturn::SQL_SUCCESS_WITH_INFO;
const ERROR: SqlReturn = SqlReturn::SQL_ERROR;

fn err(d: &crate::diag::DiagList, state: &str, msg: &str) -> SqlReturn {
    d.post(DiagRec::new(state, msg));
    ERROR
}

// ------------------------------------------------------------------ environment

pub fn set_env_attr(e: &Env, attr: i32, value: *mut c_void) -> SqlReturn {
    e.diag.clear();
    let v = value as usize;
    match attr {
        200 => {
            if ![2usize, 3, 380].contains(&v) {
                return err(&e.diag, "HY024", "Invalid attribute value");
            }
            e.odbc_version.store(v as u32, Ordering::SeqCst);
            SUCCESS
        }
        201 | 202 => SUCCESS,
        10001 => {
            if v == 1 {
                SUCCESS
            } else {
                err(&e.diag, "HYC00", "Optional feature not implemented")
            }
        }
        _ => err(&e.diag, "HY092", "Invalid attribute/option identifier"),
    }
}

pub fn get_env_attr(e: &Env, attr: i32, value: *mut c_void, out_len: *mut i32) -> SqlReturn {
    e.diag.clear();
    let v: u32 = match attr {
        200 => e.odbc_version.load(Ordering::SeqCst),
        201 | 202 => 0,
        10001 => 1,
        _ => return err(&e.diag, "HY092", "Invalid attribute/option identifier"),
    };
    // SAFETY: app-provided SQLUINTEGER output.
    unsafe {
        put(value as *mut u32, v);
        put(out_len, 4);
    }
    SUCCESS
}

// ------------------------------------------------------------------ connection async ctx

pub fn ctx<'a>(c: &'a Arc<Conn>, func: &'static str, args: Vec<usize>, settings: &ConnSettings) -> OpCtx<'a> {
    let (async_on, conn_timeout) = {
        let a = lock(&c.attrs);
        (a.async_dbc_enable, a.connection_timeout)
    };
    // §1.14: an asynchronous open or close must finish within SQL_ATTR_CONNECTION_TIMEOUT
    // seconds in total, however many calls it takes (HYT01 otherwise).
    let open_or_close = matches!(func, "SQLConnectW" | "SQLDriverConnectW" | "SQLDisconnect");
    let timeout = (open_or_close && conn_timeout > 0).then(|| Duration::from_secs(u64::from(conn_timeout)));
    OpCtx {
        func,
        handle: c.id(),
        handle_type: "DBC",
        args,
        slot: &c.op,
        notify: &c.notify,
        log: &c.log,
        diag: &c.diag,
        async_on,
        steps: settings.steps,
        delay_ms: settings.delay_ms,
        faults: settings.faults,
        cancel: &c.op_cancel,
        timeout,
    }
}

pub fn log(c: &Conn, func: &'static str, args: &[usize], ret: SqlReturn) -> SqlReturn {
    c.log.call(func, c.id(), "DBC", 0, ret.0, args);
    ret
}

/// The work of a connect: opens SQLite, records settings. Runs inline or on a worker.
fn connect_work(c: Arc<Conn>, settings: ConnSettings, out_conn_str: String, dsn: String, info: Option<DiagRec>) -> Completion {
    if let Err(d) = engine::open(&c, &settings.database, settings.busy_timeout_ms) {
        return Completion::err(d);
    }
    *lock(&c.settings) = settings;
    let mut a = lock(&c.attrs);
    a.connected = true;
    a.out_conn_str = out_conn_str;
    a.dsn = dsn;
    drop(a);
    match info {
        Some(d) => Completion { ret: SWI, diags: vec![d] },
        None => Completion::ok(),
    }
}

#[allow(clippy::too_many_arguments)]
pub fn driver_connect(
    c: &Arc<Conn>,
    in_str: *const u16,
    in_len: i16,
    out_str: *mut u16,
    out_max: i16,
    out_len: *mut i16,
    completion: u16,
) -> SqlReturn {
    let args = vec![in_str as usize, in_len as usize, out_str as usize, out_max as usize, out_len as usize, completion as usize];
    // SAFETY: the application passes a valid connection string of in_len characters / SQL_NTS.
    let text = unsafe { read_wstr(in_str, in_len as i32) }.unwrap_or_default();
    let parsed = connstr::parse(&text);
    let settings = match &parsed {
        Ok((s, _)) => s.clone(),
        Err(_) => lock(&c.settings).clone(),
    };
    let cx = ctx(c, "SQLDriverConnectW", args, &settings);
    run_op(
        cx,
        || {
            if lock(&c.attrs).connected {
                return Start::Done(err(&c.diag, "08002", "Connection name in use"));
            }
            let (settings, pairs) = match parsed {
                Ok(p) => p,
                Err(m) => return Start::Done(err(&c.diag, "HY000", &format!("Invalid connection string: {m}"))),
            };
            let dsn = pairs.iter().find(|(k, _)| k.eq_ignore_ascii_case("dsn")).map(|(_, v)| v.clone()).unwrap_or_default();
            let c2 = c.clone();
            Start::Run(Box::new(move || connect_work(c2, settings, text, dsn, None)))
        },
        || {
            let s = lock(&c.attrs).out_conn_str.clone();
            // SAFETY: out_str holds out_max characters.
            let w = unsafe { write_wstr_chars(&s, out_str, out_max as isize) };
            // SAFETY: app-provided output pointer.
            unsafe { put(out_len, w.full as i16) };
            if w.truncated {
                c.diag.post(DiagRec::new("01004", "String data, right truncated"));
                SWI
            } else {
                SUCCESS
            }
        },
    )
}

/// SQLConnectW: a server name that looks like a path (contains '/', ends in .db/.sqlite,
/// or is ":memory:") is the database; otherwise the DSN's odbc.ini section is read; an
/// unknown DSN connects to ":memory:" with SQL_SUCCESS_WITH_INFO (01000).
pub fn connect(c: &Arc<Conn>, dsn: *const u16, dsn_len: i16, uid: *const u16, uid_len: i16, pwd: *const u16, pwd_len: i16) -> SqlReturn {
    let args = vec![dsn as usize, dsn_len as usize, uid as usize, uid_len as usize, pwd as usize, pwd_len as usize];
    // SAFETY: valid string of dsn_len characters / SQL_NTS per the SQLConnectW contract.
    let name = unsafe { read_wstr(dsn, dsn_len as i32) }.unwrap_or_default();
    let mut settings = ConnSettings::default();
    let mut note = None;
    let mut bad = None;
    if connstr::looks_like_path(&name) {
        settings.database = name.clone();
    } else if let Some(pairs) = connstr::lookup_dsn(&name) {
        if let Err(m) = connstr::apply_pairs(&mut settings, &pairs) {
            bad = Some(m);
        }
    } else {
        note = Some(DiagRec::new("01000", format!("DSN '{name}' not found in odbc.ini; connected to :memory:")));
    }
    let cx = ctx(c, "SQLConnectW", args, &settings);
    run_op(
        cx,
        || {
            if lock(&c.attrs).connected {
                return Start::Done(err(&c.diag, "08002", "Connection name in use"));
            }
            if let Some(m) = bad {
                return Start::Done(err(&c.diag, "HY000", &format!("Invalid DSN settings: {m}")));
            }
            let c2 = c.clone();
            let out = format!("DSN={name}");
            Start::Run(Box::new(move || connect_work(c2, settings, out, name, note)))
        },
        || SUCCESS,
    )
}

pub fn disconnect(c: &Arc<Conn>) -> SqlReturn {
    let settings = lock(&c.settings).clone();
    let cx = ctx(c, "SQLDisconnect", vec![], &settings);
    run_op(
        cx,
        || {
            if !lock(&c.attrs).connected {
                return Start::Done(err(&c.diag, "08003", "Connection not open"));
            }
            let c2 = c.clone();
            Start::Run(Box::new(move || {
                engine::close(&c2);
                lock(&c2.attrs).connected = false;
                Completion::ok()
            }))
        },
        || SUCCESS,
    )
}

fn end_tran_work(c: &Conn, completion: i16) -> Completion {
    let g = lock(&c.db);
    let Some(db) = g.as_ref() else {
        return Completion::err(DiagRec::new("08003", "Connection not open"));
    };
    if db.is_autocommit() {
        return Completion::ok();
    }
    let sql = if completion == 1 { "ROLLBACK" } else { "COMMIT" };
    match db.execute_batch(sql) {
        Ok(()) => Completion::ok(),
        Err(e) => Completion::err(from_sqlite(&e, false)),
    }
}

pub fn end_tran_dbc(c: &Arc<Conn>, completion: i16) -> SqlReturn {
    let settings = lock(&c.settings).clone();
    let cx = ctx(c, "SQLEndTran", vec![2, c.id(), completion as usize], &settings);
    run_op(
        cx,
        || {
            if completion != 0 && completion != 1 {
                return Start::Done(err(&c.diag, "HY012", "Invalid transaction operation code"));
            }
            if !lock(&c.attrs).connected {
                return Start::Done(err(&c.diag, "08003", "Connection not open"));
            }
            let c2 = c.clone();
            Start::Run(Box::new(move || end_tran_work(&c2, completion)))
        },
        || SUCCESS,
    )
}

/// SQLEndTran(SQL_HANDLE_ENV): every connected connection of the environment, synchronously.
pub fn end_tran_env(e: &Arc<Env>, completion: i16) -> SqlReturn {
    e.diag.clear();
    let conns: Vec<Arc<Conn>> = handles::all()
        .into_iter()
        .filter_map(|o| match o {
            Obj::Dbc(c) if Arc::ptr_eq(&c.env, e) => Some(c),
            _ => None,
        })
        .collect();
    let mut ret = SUCCESS;
    for c in conns {
        if !lock(&c.attrs).connected {
            continue;
        }
        let r = end_tran_work(&c, completion);
        if !r.ret.is_success() {
            e.diag.post_all(r.diags);
            ret = ERROR;
        }
    }
    ret
}

fn set_autocommit_work(c: &Conn, on: bool) -> Completion {
    if on {
        let g = lock(&c.db);
        if let Some(db) = g.as_ref() {
            if !db.is_autocommit() {
                if let Err(e) = db.execute_batch("COMMIT") {
                    return Completion::err(from_sqlite(&e, false));
                }
            }
        }
    }
    lock(&c.attrs).autocommit = on;
    Completion::ok()
}

/// SQLSetConnectAttrW. Setting SQL_ATTR_AUTOCOMMIT on a connected connection with
/// SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE on runs asynchronously; everything else is
/// synchronous (§1.5: async enable, pre-connect attributes, notification attributes).
pub fn set_connect_attr(c: &Arc<Conn>, attr: i32, value: *mut c_void, len: i32) -> SqlReturn {
    let v = value as usize;
    let args = vec![attr as usize, v, len as usize];
    let connected = lock(&c.attrs).connected;
    if attr == 102 && connected {
        let settings = lock(&c.settings).clone();
        let cx = ctx(c, "SQLSetConnectAttrW", args, &settings);
        return run_op(
            cx,
            || {
                if v > 1 {
                    return Start::Done(err(&c.diag, "HY024", "Invalid attribute value"));
                }
                let c2 = c.clone();
                Start::Run(Box::new(move || set_autocommit_work(&c2, v == 1)))
            },
            || SUCCESS,
        );
    }
    if lock(&c.op).is_some() {
        c.diag.clear();
        return log(
            c,
            "SQLSetConnectAttrW",
            &args,
            err(&c.diag, "HY010", "Function sequence error: an asynchronous function is in progress"),
        );
    }
    c.diag.clear();
    let r = set_connect_attr_sync(c, attr, value, len);
    log(c, "SQLSetConnectAttrW", &args, r)
}

fn set_connect_attr_sync(c: &Conn, attr: i32, value: *mut c_void, len: i32) -> SqlReturn {
    let v = value as usize;
    let mut a = lock(&c.attrs);
    match attr {
        102 => {
            if v > 1 {
                drop(a);
                return err(&c.diag, "HY024", "Invalid attribute value");
            }
            a.autocommit = v == 1;
        }
        117 => a.async_dbc_enable = v == 1,
        120 => c.notify.callback.store(v, Ordering::SeqCst),
        121 => c.notify.context.store(v, Ordering::SeqCst),
        4 => a.stmt_async_default = v == 1,
        101 => a.access_mode = v as u32,
        103 => a.login_timeout = v as u32,
        113 => a.connection_timeout = v as u32,
        108 => a.txn_isolation = v as u32,
        115 => a.ansi_app = v,
        104 | 105 | 106 | 107 | 110 | 111 | 112 | 114 | 10014 => {}
        109 => {
            // SQL_ATTR_CURRENT_CATALOG: only "main" exists.
            // SAFETY: a string attribute of len bytes (W: bytes) or SQL_NTS.
            let s = unsafe { read_wstr(value as *const u16, if len == crate::util::SQL_NTS { len } else { len / 2 }) };
            if s.as_deref().is_some_and(|s| s != "main") {
                drop(a);
                return err(&c.diag, "HY024", "Only the catalog 'main' exists");
            }
        }
        116 => {
            // SQL_ATTR_RESET_CONNECTION: back to defaults (kept: connection itself).
            a.autocommit = true;
            a.stmt_async_default = false;
        }
        SQL_ATTR_REFDRIVER_CLEAR_EVENT_LOG => c.log.clear(),
        SQL_ATTR_REFDRIVER_EVENT_LOG => {
            drop(a);
            return err(&c.diag, "HY092", "The event log attribute is read-only");
        }
        _ => {
            drop(a);
            return err(&c.diag, "HY092", "Invalid attribute/option identifier");
        }
    }
    SUCCESS
}

pub fn get_connect_attr(c: &Conn, attr: i32, value: *mut c_void, buf_len: i32, out_len: *mut i32) -> SqlReturn {
    c.diag.clear();
    if attr == SQL_ATTR_REFDRIVER_EVENT_LOG {
        let json = c.log.to_json();
        // SAFETY: `value` holds buf_len bytes.
        let w = unsafe { write_bytes(json.as_bytes(), value, buf_len as isize) };
        // SAFETY: app-provided output pointer.
        unsafe { put(out_len, w.full as i32) };
        if w.truncated {
            c.diag.post(DiagRec::new("01004", "String data, right truncated"));
            return SWI;
        }
        return SUCCESS;
    }
    let a = lock(&c.attrs).clone();
    if attr == 109 {
        // SAFETY: `value` holds buf_len bytes (W rule).
        let w = unsafe { write_wstr_bytes("main", value, buf_len as isize) };
        // SAFETY: app-provided output pointer.
        unsafe { put(out_len, w.full as i32) };
        return if w.truncated {
            c.diag.post(DiagRec::new("01004", "String data, right truncated"));
            SWI
        } else {
            SUCCESS
        };
    }
    let ptr_attr = matches!(attr, 120 | 121);
    let v: usize = match attr {
        102 => a.autocommit as usize,
        117 => a.async_dbc_enable as usize,
        120 => c.notify.callback.load(Ordering::SeqCst),
        121 => c.notify.context.load(Ordering::SeqCst),
        4 => a.stmt_async_default as usize,
        101 => a.access_mode as usize,
        103 => a.login_timeout as usize,
        113 => a.connection_timeout as usize,
        108 => a.txn_isolation as usize,
        115 => a.ansi_app,
        1209 => (!a.connected) as usize,
        10001 => 0,
        10014 => 0,
        104 => 0,
        110 => 2,
        112 => 0,
        _ => return err(&c.diag, "HY092", "Invalid attribute/option identifier"),
    };
    // SAFETY: app-provided buffer for an SQLUINTEGER (or a pointer for 120/121).
    unsafe {
        if ptr_attr {
            put(value as *mut usize, v);
            put(out_len, 8);
        } else {
            put(value as *mut u32, v as u32);
            put(out_len, 4);
        }
    }
    SUCCESS
}

pub fn get_info(c: &Conn, t: u16, value: *mut c_void, buf_len: i16, out_len: *mut i16) -> SqlReturn {
    c.diag.clear();
    let Some(v) = info::get_info(c, t) else {
        return err(&c.diag, "HY096", "Information type out of range");
    };
    match v {
        InfoVal::Str(s) => {
            // SAFETY: `value` holds buf_len BYTES (SQLGetInfoW rule).
            let w = unsafe { write_wstr_bytes(&s, value, buf_len as isize) };
            // SAFETY: app-provided output pointer; length in bytes.
            unsafe { put(out_len, w.full as i16) };
            if w.truncated {
                c.diag.post(DiagRec::new("01004", "String data, right truncated"));
                return SWI;
            }
        }
        InfoVal::U16(n) => {
            // SAFETY: app buffer for an SQLUSMALLINT.
            unsafe {
                put(value as *mut u16, n);
                put(out_len, 2);
            }
        }
        InfoVal::U32(n) => {
            // SAFETY: app buffer for an SQLUINTEGER.
            unsafe {
                put(value as *mut u32, n);
                put(out_len, 4);
            }
        }
    }
    SUCCESS
}

pub fn get_functions(c: &Conn, id: u16, out: *mut u16) -> SqlReturn {
    c.diag.clear();
    if out.is_null() {
        return err(&c.diag, "HY009", "Invalid use of null pointer");
    }
    let lying = lock(&c.settings).faults.lying_functions;
    match id {
        999 => {
            let mut words = [0u16; 250];
            for w in 0..4000u16 {
                if info::supported(w, lying) {
                    words[(w >> 4) as usize] |= 1 << (w & 15);
                }
            }
            // SAFETY: SQL_API_ODBC3_ALL_FUNCTIONS requires a 250-element SQLUSMALLINT array.
            unsafe { std::ptr::copy_nonoverlapping(words.as_ptr(), out, 250) };
        }
        0 => {
            // SAFETY: SQL_API_ALL_FUNCTIONS requires a 100-element SQLUSMALLINT array.
            unsafe {
                for i in 0..100u16 {
                    out.add(i as usize).write_unaligned(info::supported(i, lying) as u16);
                }
            }
        }
        _ => {
            // SAFETY: single SQLUSMALLINT output.
            unsafe { out.write_unaligned(info::supported(id, lying) as u16) };
        }
    }
    SUCCESS
}

/// SQLCancelHandle(SQL_HANDLE_DBC): cancels the outstanding async connection function
/// (its completion then returns SQL_ERROR/HY008); a no-op when idle.
pub fn cancel_dbc(c: &Conn) -> SqlReturn {
    if lock(&c.op).is_some() {
        c.op_cancel.store(true, Ordering::SeqCst);
        crate::async_ops::cancel_requested(); // a step waiting for its Delay starts now
    }
    SUCCESS
}
