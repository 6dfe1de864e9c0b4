//! Statement-handle logic (everything behind the statement entry points).

use crate::async_ops::{run_op, Completion, OpCtx, Start};
use crate::convert::{self, Conv, ParamVal};
use crate::diag::DiagRec;
use crate::engine::{self, ColMeta, ResultSet};
use crate::handles::{ColBinding, DaeState, ParamBinding, Stmt};
use crate::util::{lock, put, read_wstr, write_wstr_bytes, write_wstr_chars};
use odbc_dm_abi::SqlReturn;
use rusqlite::types::Value;
use std::ffi::c_void;
use std::sync::atomic::Ordering;
use std::sync::Arc;

const SUCCESS: SqlReturn = SqlReturn::SQL_SUCCESS;
const SWI: SqlReturn = SqlReturn::SQL_SUCCESS_WITH_INFO;
const ERROR: SqlReturn = SqlReturn::SQL_ERROR;
const NO_DATA: SqlReturn = SqlReturn::SQL_NO_DATA;
const NEED_DATA: SqlReturn = SqlReturn::SQL_NEED_DATA;

pub fn ctx<'a>(s: &'a Arc<Stmt>, func: &'static str, args: Vec<usize>) -> OpCtx<'a> {
    let st = lock(&s.conn.settings).clone();
    let async_on = lock(&s.inner).attrs.async_enable;
    OpCtx {
        func,
        handle: s.id(),
        handle_type: "STMT",
        args,
        slot: &s.op,
        notify: &s.notify,
        log: &s.conn.log,
        diag: &s.diag,
        async_on,
        steps: st.steps,
        delay_ms: st.delay_ms,
        faults: st.faults,
        cancel: &s.cancel,
        timeout: None,
    }
}

pub fn log(s: &Stmt, func: &'static str, args: &[usize], ret: SqlReturn) -> SqlReturn {
    s.conn.log.call(func, s.id(), "STMT", 0, ret.0, args);
    ret
}

fn err(s: &Stmt, state: &str, msg: &str) -> SqlReturn {
    s.diag.post(DiagRec::new(state, msg));
    ERROR
}

fn close_cursor(s: &Stmt) {
    let mut g = lock(&s.inner);
    g.result = None;
    g.cursor = -1;
    g.getdata = None;
}

/// Reads every bound parameter; `Err(list)` when some are data-at-execution.
fn read_params(s: &Stmt, count: usize) -> Result<Result<Vec<Value>, Vec<u16>>, DiagRec> {
    let params = lock(&s.inner).params.clone();
    let mut vals = Vec::with_capacity(count);
    let mut dae = Vec::new();
    for n in 1..=count as u16 {
        let Some(b) = params.get(&n) else {
            return Err(DiagRec::new("07002", format!("COUNT field incorrect: parameter {n} is not bound")));
        };
        // SAFETY: ODBC deferred buffers: the application keeps bound buffers valid until execute.
        match unsafe { convert::read_param(b) }? {
            ParamVal::Value(v) => vals.push(v),
            ParamVal::DataAtExec => {
                dae.push(n);
                vals.push(Value::Null);
            }
        }
    }
    Ok(if dae.is_empty() { Ok(vals) } else { Err(dae) })
}

fn is_searched_change(sql: &str) -> bool {
    let u = sql.trim_start().to_ascii_uppercase();
    u.starts_with("UPDATE") || u.starts_with("DELETE")
}

/// The work of executing SQL: runs on the calling thread (sync) or a worker (async).
fn exec_work(s: Arc<Stmt>, sql: String, params: Vec<Value>) -> Completion {
    let (timeout, max_rows) = {
        let g = lock(&s.inner);
        (g.attrs.query_timeout, g.attrs.max_rows)
    };
    match engine::execute(&s.conn, s.id(), &s.cancel, &sql, &params, timeout, max_rows) {
        Ok((rs, n)) => {
            let mut g = lock(&s.inner);
            g.result = rs;
            g.cursor = -1;
            g.getdata = None;
            g.row_count = n;
            drop(g);
            s.diag.set_header(0, n);
            if n == 0 && is_searched_change(&sql) {
                Completion { ret: NO_DATA, diags: vec![] }
            } else {
                Completion::ok()
            }
        }
        Err(d) => Completion::err(d),
    }
}

/// Start of SQLExecDirectW / SQLExecute: capture SQL and parameters on the calling thread.
fn start_exec(s: &Arc<Stmt>, sql: String, param_count: usize, async_on: bool) -> Start {
    close_cursor(s);
    lock(&s.inner).last_sql = sql.clone();
    match read_params(s, param_count) {
        Err(d) => {
            s.diag.post(d);
            Start::Done(ERROR)
        }
        Ok(Err(dae)) => {
            if async_on {
                return Start::Done(err(s, "HYC00", "Data-at-execution parameters are not supported in asynchronous mode"));
            }
            lock(&s.inner).dae = Some(DaeState { sql, pending: dae, current: None, data: Default::default() });
            Start::Done(NEED_DATA)
        }
        Ok(Ok(vals)) => {
            let s2 = s.clone();
            Start::Run(Box::new(move || exec_work(s2, sql, vals)))
        }
    }
}

fn param_count_of(s: &Stmt, sql: &str) -> Result<usize, DiagRec> {
    if lock(&s.inner).params.is_empty() {
        return Ok(0);
    }
    Ok(engine::prepare(&s.conn, sql)?.param_count)
}

pub fn exec_direct(s: &Arc<Stmt>, text: *const u16, len: i32) -> SqlReturn {
    let c = ctx(s, "SQLExecDirectW", vec![text as usize, len as usize]);
    let async_on = c.async_on;
    let panic = c.faults.panic_in_call;
    run_op(
        c,
        || {
            if panic {
                panic!("injected fault PanicInCall in SQLExecDirectW");
            }
            // SAFETY: the application passes a valid string of `len` characters (or SQL_NTS).
            let Some(sql) = (unsafe { read_wstr(text, len) }) else {
                return Start::Done(err(s, "HY009", "Invalid use of null pointer"));
            };
            // Appendix B, SQLExecDirect in S5–S7: 24000, detected by the driver.
            if lock(&s.inner).result.is_some() {
                return Start::Done(err(s, "24000", "Invalid cursor state: a cursor is open"));
            }
            lock(&s.inner).prepared = None;
            let n = match param_count_of(s, &sql) {
                Ok(n) => n,
                Err(d) => {
                    s.diag.post(d);
                    return Start::Done(ERROR);
                }
            };
            start_exec(s, sql, n, async_on)
        },
        || SUCCESS,
    )
}

pub fn prepare(s: &Arc<Stmt>, text: *const u16, len: i32) -> SqlReturn {
    let c = ctx(s, "SQLPrepareW", vec![text as usize, len as usize]);
    run_op(
        c,
        || {
            // SAFETY: as in exec_direct.
            let Some(sql) = (unsafe { read_wstr(text, len) }) else {
                return Start::Done(err(s, "HY009", "Invalid use of null pointer"));
            };
            close_cursor(s);
            let s2 = s.clone();
            Start::Run(Box::new(move || match engine::prepare(&s2.conn, &sql) {
                Ok(p) => {
                    lock(&s2.inner).prepared = Some(p);
                    Completion::ok()
                }
                Err(d) => Completion::err(d),
            }))
        },
        || SUCCESS,
    )
}

pub fn execute(s: &Arc<Stmt>) -> SqlReturn {
    let c = ctx(s, "SQLExecute", vec![]);
    let async_on = c.async_on;
    run_op(
        c,
        || {
            let Some(p) = lock(&s.inner).prepared.clone() else {
                return Start::Done(err(s, "HY010", "Function sequence error: statement not prepared"));
            };
            start_exec(s, p.sql, p.param_count, async_on)
        },
        || SUCCESS,
    )
}

/// A "fetch-like" operation: nothing slow to do on the worker; the output arguments are
/// written by `finish` on the completing invocation.
fn cheap_op(
    s: &Arc<Stmt>,
    func: &'static str,
    args: Vec<usize>,
    check: impl FnOnce() -> Option<SqlReturn>,
    finish: impl FnOnce() -> SqlReturn,
) -> SqlReturn {
    let c = ctx(s, func, args);
    run_op(
        c,
        || match check() {
            Some(r) => Start::Done(r),
            None => Start::Run(Box::new(Completion::ok)),
        },
        finish,
    )
}

fn need_result(s: &Stmt) -> Option<SqlReturn> {
    if lock(&s.inner).result.is_none() {
        Some(err(s, "24000", "Invalid cursor state: no result set"))
    } else {
        None
    }
}

pub fn fetch_scroll(s: &Arc<Stmt>, func: &'static str, orientation: i16, offset: isize) -> SqlReturn {
    let args = if func == "SQLFetch" { vec![] } else { vec![orientation as usize, offset as usize] };
    cheap_op(s, func, args, || need_result(s), || do_fetch(s, orientation, offset, None))
}

/// SQLExtendedFetch (ODBC 2 applications, e.g. PHP's odbc extension): SQLFetchScroll with
/// the rows-fetched count and the row status array given as arguments instead of the
/// statement attributes (which it leaves alone). The rowset (SQL_ROWSET_SIZE) is one row.
pub fn extended_fetch(s: &Arc<Stmt>, orientation: i16, offset: isize, row_count: *mut usize, row_status: *mut u16) -> SqlReturn {
    let args = vec![orientation as usize, offset as usize, row_count as usize, row_status as usize];
    if orientation == 8 {
        s.diag.clear();
        return log(s, "SQLExtendedFetch", &args, err(s, "HYC00", "Bookmarks are not supported"));
    }
    cheap_op(s, "SQLExtendedFetch", args, || need_result(s), || do_fetch(s, orientation, offset, Some((row_count, row_status))))
}

/// `status`: SQLExtendedFetch's own RowCountPtr and RowStatusArray (None: the statement's
/// SQL_ATTR_ROWS_FETCHED_PTR and SQL_ATTR_ROW_STATUS_PTR).
fn do_fetch(s: &Stmt, orientation: i16, offset: isize, status: Option<(*mut usize, *mut u16)>) -> SqlReturn {
    let mut g = lock(&s.inner);
    let cursor_type = g.attrs.cursor_type;
    let (rows_fetched, row_status) = status.unwrap_or((g.attrs.rows_fetched_ptr as *mut usize, g.attrs.row_status_ptr as *mut u16));
    let Some(rs) = g.result.as_ref() else {
        drop(g);
        return err(s, "24000", "Invalid cursor state");
    };
    let n = rs.rows.len() as isize;
    if orientation != 1 && cursor_type == 0 {
        drop(g);
        return err(s, "HY106", "Fetch type out of range: forward-only cursor");
    }
    let cur = g.cursor;
    let new = match orientation {
        1 => cur + 1,
        2 => 0,
        3 => n - 1,
        4 => cur - 1,
        5 => {
            if offset > 0 {
                offset - 1
            } else if offset < 0 {
                n + offset
            } else {
                -1
            }
        }
        6 => cur + offset,
        _ => {
            drop(g);
            return err(s, "HY106", "Fetch type out of range");
        }
    };
    g.getdata = None;
    if new < 0 || new >= n {
        g.cursor = if new < 0 { -1 } else { n };
        // SAFETY: pointers set through SQL_ATTR_ROWS_FETCHED_PTR / ROW_STATUS_PTR by the app.
        unsafe { put(rows_fetched, 0) };
        return NO_DATA;
    }
    g.cursor = new;
    let row = g.result.as_ref().unwrap().rows[new as usize].clone();
    let cols: Vec<ColMeta> = g.result.as_ref().unwrap().cols.clone();
    let binds: Vec<(u16, ColBinding)> = g.cols.iter().map(|(k, v)| (*k, *v)).collect();
    drop(g);
    let mut ret = SUCCESS;
    for (col, b) in binds {
        let i = col as usize - 1;
        if i >= row.len() {
            continue;
        }
        let (mut off, mut done) = (0usize, false);
        // SAFETY: the application bound `target`/`ind` with SQLBindCol and keeps them valid.
        let r = unsafe {
            convert::write_value(
                &row[i],
                cols[i].sql_type,
                b.c_type,
                b.target as *mut c_void,
                b.buf_len,
                b.ind as *mut isize,
                &mut off,
                &mut done,
            )
        };
        match r {
            Conv::Ok | Conv::NoData => {}
            Conv::Info(d) => {
                s.diag.post(d);
                if ret == SUCCESS {
                    ret = SWI;
                }
            }
            Conv::Err(d) => {
                s.diag.post(d);
                ret = ERROR;
            }
        }
    }
    // SAFETY: app-provided status pointers (see above).
    unsafe {
        put(rows_fetched, 1);
        put(
            row_status,
            if ret == SUCCESS {
                0
            } else if ret == SWI {
                6
            } else {
                5
            },
        );
    }
    ret
}

pub fn get_data(s: &Arc<Stmt>, col: u16, c_type: i16, target: *mut c_void, buf_len: isize, ind: *mut isize) -> SqlReturn {
    let args = vec![col as usize, c_type as usize, target as usize, buf_len as usize, ind as usize];
    cheap_op(
        s,
        "SQLGetData",
        args,
        || {
            let g = lock(&s.inner);
            let Some(rs) = g.result.as_ref() else {
                drop(g);
                return Some(err(s, "24000", "Invalid cursor state: no result set"));
            };
            if g.cursor < 0 || g.cursor >= rs.rows.len() as isize {
                drop(g);
                return Some(err(s, "24000", "Invalid cursor state: not positioned on a row"));
            }
            if col == 0 || col as usize > rs.cols.len() {
                drop(g);
                return Some(err(s, "07009", "Invalid descriptor index"));
            }
            None
        },
        || do_get_data(s, col, c_type, target, buf_len, ind),
    )
}

fn do_get_data(s: &Stmt, col: u16, c_type: i16, target: *mut c_void, buf_len: isize, ind: *mut isize) -> SqlReturn {
    let mut g = lock(&s.inner);
    let Some(rs) = g.result.as_ref() else {
        drop(g);
        return err(s, "24000", "Invalid cursor state");
    };
    let i = col as usize - 1;
    let v = rs.rows[g.cursor as usize][i].clone();
    let sql_type = rs.cols[i].sql_type;
    let mut st = match g.getdata {
        Some(st) if st.col == col => st,
        _ => crate::handles::GetDataState { col, offset: 0, done: false },
    };
    // SAFETY: the application passes a buffer of buf_len bytes and a valid indicator.
    let r = unsafe { convert::write_value(&v, sql_type, c_type, target, buf_len, ind, &mut st.offset, &mut st.done) };
    g.getdata = Some(st);
    drop(g);
    match r {
        Conv::Ok => SUCCESS,
        Conv::Info(d) => {
            s.diag.post(d);
            SWI
        }
        Conv::NoData => NO_DATA,
        Conv::Err(d) => {
            s.diag.post(d);
            ERROR
        }
    }
}

/// Columns of the current result set, or of the prepared statement.
fn columns(s: &Stmt) -> Option<Vec<ColMeta>> {
    let g = lock(&s.inner);
    if let Some(rs) = &g.result {
        return Some(rs.cols.clone());
    }
    g.prepared.as_ref().map(|p| p.cols.clone())
}

pub fn num_result_cols(s: &Arc<Stmt>, out: *mut i16) -> SqlReturn {
    cheap_op(
        s,
        "SQLNumResultCols",
        vec![out as usize],
        || None,
        || {
            let n = columns(s).map(|c| c.len()).unwrap_or(0);
            // SAFETY: app-provided output pointer.
            unsafe { put(out, n as i16) };
            SUCCESS
        },
    )
}

#[allow(clippy::too_many_arguments)]
pub fn describe_col(
    s: &Arc<Stmt>,
    col: u16,
    name: *mut u16,
    name_max: i16,
    name_len: *mut i16,
    data_type: *mut i16,
    size: *mut usize,
    digits: *mut i16,
    nullable: *mut i16,
) -> SqlReturn {
    let args = vec![
        col as usize,
        name as usize,
        name_max as usize,
        name_len as usize,
        data_type as usize,
        size as usize,
        digits as usize,
        nullable as usize,
    ];
    cheap_op(
        s,
        "SQLDescribeColW",
        args,
        || match columns(s) {
            None => Some(err(s, "07005", "Prepared statement not a cursor-specification")),
            Some(c) if col == 0 || col as usize > c.len() => Some(err(s, "07009", "Invalid descriptor index")),
            _ => None,
        },
        || {
            let cols = columns(s).unwrap_or_default();
            let Some(c) = cols.get(col as usize - 1) else {
                return err(s, "07009", "Invalid descriptor index");
            };
            // SAFETY: app-provided output buffers (name_max characters for `name`).
            let w = unsafe { write_wstr_chars(&c.name, name, name_max as isize) };
            // SAFETY: app-provided output pointers.
            unsafe {
                put(name_len, w.full as i16);
                put(data_type, c.sql_type);
                put(size, c.column_size);
                put(digits, c.digits);
                put(nullable, c.nullable);
            }
            if w.truncated {
                s.diag.post(DiagRec::new("01004", "String data, right truncated"));
                SWI
            } else {
                SUCCESS
            }
        },
    )
}

pub fn more_results(s: &Arc<Stmt>) -> SqlReturn {
    cheap_op(
        s,
        "SQLMoreResults",
        vec![],
        || None,
        || {
            close_cursor(s);
            NO_DATA
        },
    )
}

/// Catalog functions: the result set is built on the worker (or inline).
fn catalog(
    s: &Arc<Stmt>,
    func: &'static str,
    args: Vec<usize>,
    build: impl FnOnce(&Arc<Stmt>) -> Result<ResultSet, DiagRec> + Send + 'static,
) -> SqlReturn {
    let c = ctx(s, func, args);
    run_op(
        c,
        || {
            close_cursor(s);
            let s2 = s.clone();
            Start::Run(Box::new(move || match build(&s2) {
                Ok(rs) => {
                    let mut g = lock(&s2.inner);
                    g.result = Some(rs);
                    g.cursor = -1;
                    g.row_count = -1;
                    Completion::ok()
                }
                Err(d) => Completion::err(d),
            }))
        },
        || SUCCESS,
    )
}

/// Reads an optional catalog argument (the pointer values are logged by the caller).
///
/// # Safety
/// `p` null or a valid string of `len` characters / SQL_NTS.
pub unsafe fn arg(p: *const u16, len: i16) -> Option<String> {
    // SAFETY: forwarded contract.
    unsafe { read_wstr(p, len as i32) }
}

pub fn tables(
    s: &Arc<Stmt>,
    args: Vec<usize>,
    cat: Option<String>,
    schema: Option<String>,
    table: Option<String>,
    kind: Option<String>,
) -> SqlReturn {
    catalog(s, "SQLTablesW", args, move |s| {
        engine::cat_tables(&s.conn, cat.as_deref(), schema.as_deref(), table.as_deref(), kind.as_deref())
    })
}

pub fn columns_cat(s: &Arc<Stmt>, args: Vec<usize>, table: Option<String>, column: Option<String>) -> SqlReturn {
    catalog(s, "SQLColumnsW", args, move |s| engine::cat_columns(&s.conn, table.as_deref(), column.as_deref()))
}

/// SQLGetTypeInfoW: the four types the engine reports (SQL_ALL_TYPES, or the rows of one
/// type; a type the driver does not have gives an empty result set).
pub fn type_info(s: &Arc<Stmt>, args: Vec<usize>, data_type: i16) -> SqlReturn {
    catalog(s, "SQLGetTypeInfoW", args, move |_| Ok(engine::cat_type_info(data_type)))
}

pub fn primary_keys(s: &Arc<Stmt>, args: Vec<usize>, table: Option<String>) -> SqlReturn {
    let Some(t) = table else {
        s.diag.clear();
        return log(s, "SQLPrimaryKeysW", &args, err(s, "HY009", "Invalid use of null pointer: table name required"));
    };
    catalog(s, "SQLPrimaryKeysW", args, move |s| engine::cat_primary_keys(&s.conn, &t))
}

pub fn special_columns(s: &Arc<Stmt>, args: Vec<usize>, identifier: u16, table: Option<String>) -> SqlReturn {
    let Some(t) = table else {
        s.diag.clear();
        return log(s, "SQLSpecialColumnsW", &args, err(s, "HY009", "Invalid use of null pointer: table name required"));
    };
    if identifier != 1 && identifier != 2 {
        s.diag.clear();
        return log(s, "SQLSpecialColumnsW", &args, err(s, "HY097", "Column type out of range"));
    }
    catalog(s, "SQLSpecialColumnsW", args, move |s| engine::cat_special_columns(&s.conn, identifier, &t))
}

// ---------------------------------------------------------------- synchronous functions

#[allow(clippy::too_many_arguments)]
pub fn bind_parameter(
    s: &Stmt,
    number: u16,
    io_type: i16,
    c_type: i16,
    sql_type: i16,
    column_size: usize,
    digits: i16,
    value: *mut c_void,
    buf_len: isize,
    ind: *mut isize,
) -> SqlReturn {
    s.diag.clear();
    if number == 0 {
        return err(s, "07009", "Invalid descriptor index");
    }
    if io_type != 1 {
        return err(s, "HYC00", "Only SQL_PARAM_INPUT parameters are supported");
    }
    lock(&s.inner)
        .params
        .insert(number, ParamBinding { io_type, c_type, sql_type, column_size, digits, value: value as usize, buf_len, ind: ind as usize });
    SUCCESS
}

pub fn bind_col(s: &Stmt, col: u16, c_type: i16, target: *mut c_void, buf_len: isize, ind: *mut isize) -> SqlReturn {
    s.diag.clear();
    if col == 0 {
        return err(s, "07009", "Invalid descriptor index: bookmarks are not supported");
    }
    let mut g = lock(&s.inner);
    if target.is_null() && ind.is_null() {
        g.cols.remove(&col);
    } else {
        g.cols.insert(col, ColBinding { c_type, target: target as usize, buf_len, ind: ind as usize });
    }
    SUCCESS
}

pub fn num_params(s: &Stmt, out: *mut i16) -> SqlReturn {
    s.diag.clear();
    let n = lock(&s.inner).prepared.as_ref().map(|p| p.param_count).unwrap_or(0);
    // SAFETY: app-provided output pointer.
    unsafe { put(out, n as i16) };
    SUCCESS
}

/// SQLDescribeParam: SQLite parameters have no declared type, so every parameter is
/// described as the driver's text type (what the engine converts any value to and from),
/// nullable unknown, as libsqlite3odbc does with its SQL_VARCHAR.
pub fn describe_param(s: &Stmt, number: u16, data_type: *mut i16, size: *mut usize, digits: *mut i16, nullable: *mut i16) -> SqlReturn {
    s.diag.clear();
    let Some(n) = lock(&s.inner).prepared.as_ref().map(|p| p.param_count) else {
        return err(s, "HY010", "Function sequence error: no prepared statement");
    };
    if number == 0 || number as usize > n {
        return err(s, "07009", "Invalid descriptor index: no such parameter");
    }
    // SAFETY: app-provided output pointers (each may be null).
    unsafe {
        put(data_type, crate::engine::sqlt::WVARCHAR);
        put(size, 255);
        put(digits, 0);
        put(nullable, 2);
    }
    SUCCESS
}

pub fn row_count(s: &Stmt, out: *mut isize) -> SqlReturn {
    s.diag.clear();
    let n = lock(&s.inner).row_count;
    // SAFETY: app-provided output pointer.
    unsafe { put(out, n) };
    SUCCESS
}

pub fn close(s: &Stmt) -> SqlReturn {
    s.diag.clear();
    if lock(&s.inner).result.is_none() {
        return err(s, "24000", "Invalid cursor state: no cursor open");
    }
    close_cursor(s);
    SUCCESS
}

pub fn free_stmt_option(s: &Stmt, option: u16) -> SqlReturn {
    s.diag.clear();
    match option {
        0 => {
            close_cursor(s);
            lock(&s.inner).dae = None;
        }
        2 => lock(&s.inner).cols.clear(),
        3 => lock(&s.inner).params.clear(),
        _ => return err(s, "HY092", "Option type out of range"),
    }
    SUCCESS
}

/// SQLCancel: never takes a lock the running call holds (§3.1): it sets the statement's
/// cancel flag (seen by `sleep()`, the async steps and their timer, and the executor) and,
/// if this statement is the one executing SQL right now, calls sqlite3_interrupt.
pub fn cancel(s: &Stmt) -> SqlReturn {
    s.cancel.store(true, Ordering::SeqCst);
    crate::async_ops::cancel_requested(); // a step waiting for its Delay starts now
    if s.conn.executing_stmt.load(Ordering::SeqCst) == s.id() {
        if let Some(h) = lock(&s.conn.interrupt).as_ref() {
            h.interrupt();
        }
    }
    if let Ok(mut g) = s.inner.try_lock() {
        g.dae = None; // ends a NEED_DATA sequence (§4.8)
    }
    SUCCESS
}

pub fn param_data(s: &Arc<Stmt>, value_out: *mut *mut c_void) -> SqlReturn {
    s.diag.clear();
    let mut g = lock(&s.inner);
    let Some(dae) = g.dae.as_mut() else {
        drop(g);
        return err(s, "HY010", "Function sequence error: no data-at-execution parameter pending");
    };
    if let Some(cur) = dae.current.take() {
        dae.data.entry(cur).or_insert_with(|| Some(Vec::new()));
    }
    if !dae.pending.is_empty() {
        let next = dae.pending.remove(0);
        dae.current = Some(next);
        let ptr = g.params.get(&next).map(|b| b.value).unwrap_or(0);
        // SAFETY: app-provided output pointer.
        unsafe { put(value_out, ptr as *mut c_void) };
        return NEED_DATA;
    }
    let dae = g.dae.take().expect("checked");
    let params = g.params.clone();
    drop(g);
    let mut vals = Vec::new();
    for (n, b) in &params {
        if let Some(d) = dae.data.get(n) {
            vals.push(match d {
                None => Value::Null,
                Some(bytes) => convert::dae_value(b, bytes),
            });
        } else {
            // SAFETY: deferred input buffers remain valid until the statement executes.
            match unsafe { convert::read_param(b) } {
                Ok(ParamVal::Value(v)) => vals.push(v),
                Ok(ParamVal::DataAtExec) => vals.push(Value::Null),
                Err(d) => {
                    s.diag.post(d);
                    return ERROR;
                }
            }
        }
    }
    let c = exec_work(s.clone(), dae.sql, vals);
    s.diag.post_all(c.diags);
    c.ret
}

pub fn put_data(s: &Stmt, data: *mut c_void, len: isize) -> SqlReturn {
    s.diag.clear();
    let mut g = lock(&s.inner);
    let Some(cur) = g.dae.as_ref().and_then(|d| d.current) else {
        drop(g);
        return err(s, "HY010", "Function sequence error: SQLParamData must precede SQLPutData");
    };
    let c_type = g.params.get(&cur).map(|b| b.c_type).unwrap_or(1);
    let bytes: Option<Vec<u8>> = if len == convert::SQL_NULL_DATA {
        None
    } else if data.is_null() {
        Some(Vec::new())
    } else {
        let n = if len == convert::SQL_NTS {
            if c_type == convert::ct::WCHAR {
                let mut k = 0usize;
                // SAFETY: NUL-terminated UTF-16 per SQL_NTS.
                while unsafe { *(data as *const u16).add(k) } != 0 {
                    k += 1;
                }
                k * 2
            } else {
                // SAFETY: NUL-terminated bytes per SQL_NTS.
                unsafe { libc::strlen(data as *const libc::c_char) }
            }
        } else {
            len.max(0) as usize
        };
        // SAFETY: `n` bytes readable at `data` per the SQLPutData contract.
        Some(unsafe { std::slice::from_raw_parts(data as *const u8, n) }.to_vec())
    };
    let dae = g.dae.as_mut().expect("checked");
    match (dae.data.get_mut(&cur), bytes) {
        (Some(Some(v)), Some(b)) => v.extend_from_slice(&b),
        (_, b) => {
            dae.data.insert(cur, b);
        }
    }
    SUCCESS
}

#[allow(clippy::too_many_arguments)]
pub fn col_attribute(
    s: &Stmt,
    col: u16,
    field: u16,
    char_attr: *mut c_void,
    buf_len: i16,
    out_len: *mut i16,
    num_attr: *mut isize,
) -> SqlReturn {
    s.diag.clear();
    let Some(cols) = columns(s) else {
        return err(s, "07005", "Prepared statement not a cursor-specification");
    };
    if field == 0 || field == 1001 {
        // SAFETY: app-provided output pointer.
        unsafe { put(num_attr, cols.len() as isize) };
        return SUCCESS;
    }
    if col == 0 || col as usize > cols.len() {
        return err(s, "07009", "Invalid descriptor index");
    }
    let c = &cols[col as usize - 1];
    let is_char = c.sql_type == engine::sqlt::WVARCHAR;
    let is_num = matches!(c.sql_type, engine::sqlt::BIGINT | engine::sqlt::INTEGER | engine::sqlt::SMALLINT | engine::sqlt::DOUBLE);
    let text: Option<String> = match field {
        1 | 1011 | 18 | 22 => Some(c.name.clone()),
        14 | 29 => Some(c.type_name.clone()),
        15 | 23 => Some(c.table.clone()),
        16 | 17 => Some(String::new()),
        27 | 28 => Some(if is_char {
            "'".into()
        } else if c.sql_type == engine::sqlt::VARBINARY {
            if field == 27 {
                "X'".into()
            } else {
                "'".into()
            }
        } else {
            String::new()
        }),
        _ => None,
    };
    if let Some(t) = text {
        // SAFETY: char_attr holds buf_len bytes (W rule: lengths in bytes).
        let w = unsafe { write_wstr_bytes(&t, char_attr, buf_len as isize) };
        // SAFETY: app-provided output pointer.
        unsafe { put(out_len, w.full as i16) };
        if w.truncated {
            s.diag.post(DiagRec::new("01004", "String data, right truncated"));
            return SWI;
        }
        return SUCCESS;
    }
    let n: isize = match field {
        2 | 1002 => c.sql_type as isize,
        3 | 1003 => c.column_size as isize,
        1013 => c.octet_length() as isize,
        4 | 1005 => c.column_size as isize,
        5 | 1006 => c.digits as isize,
        6 => c.display_size() as isize,
        7 | 1008 => c.nullable as isize,
        8 => (!is_num) as isize,
        9 => 0,
        10 => 2,
        11 => 0,
        12 => is_char as isize,
        13 => 3,
        32 => {
            if is_num {
                10
            } else {
                0
            }
        }
        35 => engine::is_rowver_column(&c.name, &c.type_name) as isize,
        1012 => c.name.is_empty() as isize,
        1099 => 1,
        _ => return err(s, "HY091", "Invalid descriptor field identifier"),
    };
    // SAFETY: app-provided output pointer.
    unsafe { put(num_attr, n) };
    SUCCESS
}

const ATTR_ROWS_FETCHED: i32 = 26;

pub fn set_attr(s: &Stmt, attr: i32, value: *mut c_void) -> SqlReturn {
    s.diag.clear();
    let v = value as usize;
    let mut g = lock(&s.inner);
    let a = &mut g.attrs;
    let mut info: Option<&str> = None;
    match attr {
        4 => a.async_enable = v == 1,
        30 => s.notify.callback.store(v, Ordering::SeqCst),
        31 => s.notify.context.store(v, Ordering::SeqCst),
        7 => {
            if lock(&s.conn.settings).optimistic && (v == 1 || v == 3 || v == 4) {
                a.concurrency = v;
            } else if lock(&s.conn.settings).optimistic && v == 2 {
                a.concurrency = 3;
                info = Some("Option value changed: SQL_CONCUR_LOCK is not supported; SQL_CONCUR_ROWVER substituted");
            } else {
                a.concurrency = 1;
                if v != 1 {
                    info = Some("Option value changed: only SQL_CONCUR_READ_ONLY is supported");
                }
            }
        }
        6 => {
            if v == 0 || v == 3 {
                a.cursor_type = v;
            } else {
                a.cursor_type = 3;
                info = Some("Option value changed: cursor type set to SQL_CURSOR_STATIC");
            }
        }
        -1 => {
            a.cursor_scrollable = v;
            a.cursor_type = if v == 1 { 3 } else { 0 };
        }
        -2 => a.cursor_sensitivity = v,
        27 | 9 => {
            a.row_array_size = 1;
            if v != 1 {
                info = Some("Option value changed: row array size is 1");
            }
        }
        0 => a.query_timeout = v,
        1 => a.max_rows = v,
        2 => a.noscan = v,
        3 => a.max_length = v,
        5 => {
            if v != 0 {
                drop(g);
                return err(s, "HYC00", "Only column-wise binding is supported");
            }
        }
        10 => a.simulate_cursor = v,
        11 => a.retrieve_data = v,
        12 => {
            if v != 0 {
                drop(g);
                return err(s, "HYC00", "Bookmarks are not supported");
            }
        }
        15 => {}
        10014 => a.metadata_id = v,
        ATTR_ROWS_FETCHED => a.rows_fetched_ptr = v,
        25 => a.row_status_ptr = v,
        20 | 21 | 24 | 19 => {}
        22 => {
            if v != 1 {
                drop(g);
                return err(s, "HYC00", "Parameter arrays are not supported");
            }
            a.paramset_size = 1;
        }
        17 | 23 => {
            if v != 0 {
                drop(g);
                return err(s, "HYC00", "Bind offsets are not supported");
            }
        }
        10010 | 10011 => {
            drop(g);
            return err(s, "HYC00", "Explicit descriptors are not supported");
        }
        10012 | 10013 => {
            drop(g);
            return err(s, "HY017", "Invalid use of an automatically allocated descriptor handle");
        }
        _ => {
            drop(g);
            return err(s, "HY092", "Invalid attribute/option identifier");
        }
    }
    drop(g);
    if let Some(m) = info {
        s.diag.post(DiagRec::new("01S02", m));
        return SWI;
    }
    SUCCESS
}

pub fn get_attr(s: &Stmt, attr: i32, value: *mut c_void, _buf_len: i32, out_len: *mut i32) -> SqlReturn {
    s.diag.clear();
    let g = lock(&s.inner);
    let a = &g.attrs;
    let descs = *lock(&s.descs);
    let v: usize = match attr {
        4 => a.async_enable as usize,
        30 => s.notify.callback.load(Ordering::SeqCst),
        31 => s.notify.context.load(Ordering::SeqCst),
        7 => a.concurrency,
        6 => a.cursor_type,
        -1 => (a.cursor_type != 0) as usize,
        -2 => a.cursor_sensitivity,
        27 | 9 => a.row_array_size,
        0 => a.query_timeout,
        1 => a.max_rows,
        2 => a.noscan,
        3 => a.max_length,
        5 => 0,
        10 => a.simulate_cursor,
        11 => a.retrieve_data,
        12 => a.use_bookmarks,
        15 => 0,
        10014 => a.metadata_id,
        26 => a.rows_fetched_ptr,
        25 => a.row_status_ptr,
        22 => a.paramset_size,
        14 => (g.cursor + 1).max(0) as usize,
        10010 => descs[0],
        10011 => descs[1],
        10012 => descs[2],
        10013 => descs[3],
        17 | 19 | 20 | 21 | 23 | 24 => 0,
        _ => {
            drop(g);
            return err(s, "HY092", "Invalid attribute/option identifier");
        }
    };
    drop(g);
    // SQLULEN / pointer sized values; descriptor handles and pointers too.
    // SAFETY: the application passes a buffer large enough for the attribute's type.
    unsafe {
        put(value as *mut usize, v);
        put(out_len, std::mem::size_of::<usize>() as i32);
    }
    SUCCESS
}

/// SQLSetPos with `Optimistic=1` (README "Optimistic concurrency"): SQL_POSITION,
/// SQL_UPDATE and SQL_DELETE of the current row (RowNumber 0 or 1; the rowset is one row)
/// under SQL_CONCUR_ROWVER (WHERE key = old AND row-version column = old) or
/// SQL_CONCUR_VALUES (WHERE every column of the result = its old value, NULL → IS NULL).
/// No row matched → SQL_SUCCESS_WITH_INFO with 01001 and SQL_ROW_ERROR.
pub fn set_pos(s: &Arc<Stmt>, row: usize, op: u16, lock_type: u16) -> SqlReturn {
    let args = vec![row, op as usize, lock_type as usize];
    s.diag.clear();
    let r = do_set_pos(s, row, op);
    log(s, "SQLSetPos", &args, r)
}

fn do_set_pos(s: &Stmt, row: usize, op: u16) -> SqlReturn {
    let g = lock(&s.inner);
    let Some(rs) = g.result.as_ref() else {
        drop(g);
        return err(s, "24000", "Invalid cursor state: no result set");
    };
    if g.cursor < 0 || g.cursor as usize >= rs.rows.len() {
        drop(g);
        return err(s, "24000", "Invalid cursor state: not positioned on a row");
    }
    if row > 1 {
        drop(g);
        return err(s, "HY107", "Row value out of range");
    }
    if op == 0 {
        return SUCCESS;
    }
    let concurrency = g.attrs.concurrency;
    if !(op == 2 || op == 3) || !(concurrency == 3 || concurrency == 4) {
        drop(g);
        return err(s, "HYC00", "Optional feature not implemented: SQLSetPos needs Optimistic=1, ROWVER/VALUES and SQL_UPDATE/SQL_DELETE");
    }
    let cur = g.cursor as usize;
    let old = rs.rows[cur].clone();
    let cols = rs.cols.clone();
    let binds: Vec<(u16, ColBinding)> = g.cols.iter().map(|(k, v)| (*k, *v)).collect();
    let status = g.attrs.row_status_ptr as *mut u16;
    drop(g);
    let table =
        cols.first().map(|c| c.table.clone()).filter(|t| !t.is_empty()).or_else(|| table_of(&lock(&s.inner).last_sql)).unwrap_or_default();
    if table.is_empty() {
        return err(s, "HY000", "SQLSetPos: the result set has no base table");
    }
    let info = match engine::table_columns(&s.conn, &table) {
        Ok(i) => i,
        Err(d) => {
            s.diag.post(d);
            return ERROR;
        }
    };
    let q = |n: &str| format!("\"{}\"", n.replace('"', "\"\""));
    let mut params: Vec<Value> = Vec::new();
    let mut sets = Vec::new();
    if op == 2 {
        for (col, b) in &binds {
            let i = *col as usize - 1;
            let Some(c) = cols.get(i) else { continue };
            if info.iter().any(|(n, _, rv)| *rv && n.eq_ignore_ascii_case(&c.name)) {
                continue;
            }
            if b.ind != 0 && unsafe_ind(b.ind) == -6 {
                continue; // SQL_COLUMN_IGNORE
            }
            let pb = ParamBinding {
                io_type: 1,
                c_type: b.c_type,
                sql_type: c.sql_type,
                column_size: 0,
                digits: 0,
                value: b.target,
                buf_len: b.buf_len,
                ind: b.ind,
            };
            // SAFETY: the application's bound buffers, valid while bound (SQLBindCol contract).
            match unsafe { convert::read_param(&pb) } {
                Ok(convert::ParamVal::Value(v)) => {
                    sets.push(format!("{} = ?", q(&c.name)));
                    params.push(v);
                }
                Ok(_) => {}
                Err(d) => {
                    s.diag.post(d);
                    return ERROR;
                }
            }
        }
        if sets.is_empty() {
            return SUCCESS;
        }
    }
    let key: Vec<&str> = info.iter().filter(|(_, pk, _)| *pk).map(|(n, _, _)| n.as_str()).collect();
    let rowver = info.iter().find(|(_, _, rv)| *rv).map(|(n, _, _)| n.clone());
    let pos = |name: &str| cols.iter().position(|c| c.name.eq_ignore_ascii_case(name));
    let pinned: Vec<usize> = match (&rowver, concurrency) {
        (Some(v), 3) if !key.is_empty() && key.iter().all(|k| pos(k).is_some()) && pos(v).is_some() => {
            key.iter().filter_map(|k| pos(k)).chain(pos(v)).collect()
        }
        _ => (0..cols.len()).collect(),
    };
    let mut terms = Vec::new();
    for i in pinned {
        match &old[i] {
            Value::Null => terms.push(format!("{} IS NULL", q(&cols[i].name))),
            v => {
                terms.push(format!("{} = ?", q(&cols[i].name)));
                params.push(v.clone());
            }
        }
    }
    let sql = if op == 2 {
        format!("UPDATE {} SET {} WHERE {}", q(&table), sets.join(", "), terms.join(" AND "))
    } else {
        format!("DELETE FROM {} WHERE {}", q(&table), terms.join(" AND "))
    };
    let guard = lock(&s.inner).attrs.simulate_cursor != 0;
    let n = match engine::execute_changes(&s.conn, &sql, &params, guard) {
        Ok(n) => n,
        Err(d) => {
            s.diag.post(d);
            return ERROR;
        }
    };
    let (ret, st) = if n == 1 {
        (SUCCESS, if op == 2 { 2u16 } else { 1u16 })
    } else {
        s.diag.post(DiagRec::new("01001", format!("Cursor operation conflict: {n} rows matched")));
        (SWI, 5u16)
    };
    // SAFETY: SQL_ATTR_ROW_STATUS_PTR as the application set it.
    unsafe { put(status, st) };
    if n == 1 && op == 2 {
        // The materialised row now holds what is stored (version column included).
        let mut g = lock(&s.inner);
        let cur = g.cursor;
        if let Some(rs) = g.result.as_mut() {
            if let Some(r) = rs.rows.get_mut(cur as usize) {
                refresh_row(&s.conn, &table, &cols, r, &key);
            }
        }
    }
    ret
}

/// Re-reads a materialised row by its key (after a successful update).
fn refresh_row(conn: &crate::handles::Conn, table: &str, cols: &[ColMeta], row: &mut [Value], key: &[&str]) {
    let q = |n: &str| format!("\"{}\"", n.replace('"', "\"\""));
    let pos = |name: &str| cols.iter().position(|c| c.name.eq_ignore_ascii_case(name));
    let Some(kpos) = key.iter().map(|k| pos(k)).collect::<Option<Vec<usize>>>() else { return };
    if kpos.is_empty() {
        return;
    }
    let list: Vec<String> = cols.iter().map(|c| q(&c.name)).collect();
    let w: Vec<String> = kpos.iter().map(|&i| format!("{} = ?", q(&cols[i].name))).collect();
    let params: Vec<Value> = kpos.iter().map(|&i| row[i].clone()).collect();
    if let Ok(rows) = engine::query_rows(conn, &format!("SELECT {} FROM {} WHERE {}", list.join(", "), q(table), w.join(" AND ")), &params)
    {
        if let Some(r) = rows.into_iter().next() {
            for (i, v) in r.into_iter().enumerate() {
                if i < row.len() {
                    row[i] = v;
                }
            }
        }
    }
}

fn unsafe_ind(p: usize) -> isize {
    // SAFETY: a non-null SQLLEN length/indicator buffer bound with SQLBindCol.
    unsafe { (p as *const isize).read_unaligned() }
}

/// The table of a simple `SELECT ... FROM t ...` (no join: the name must be followed by
/// the end, WHERE, ORDER or LIMIT).
fn table_of(sql: &str) -> Option<String> {
    let lower = sql.to_ascii_lowercase();
    let i = lower.find(" from ")?;
    let rest = sql[i + 6..].trim_start();
    let end = rest.find(|c: char| c.is_whitespace() || c == ';' || c == ',').unwrap_or(rest.len());
    let after = rest[end..].trim_start().to_ascii_lowercase();
    if !(after.is_empty()
        || after.starts_with("where")
        || after.starts_with("order")
        || after.starts_with("limit")
        || after.starts_with(';'))
    {
        return None;
    }
    let name = rest[..end].trim_matches('"');
    (!name.is_empty()).then(|| name.to_string())
}
