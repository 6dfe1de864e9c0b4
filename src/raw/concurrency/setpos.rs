//! The DM's SQLSetPos SQL_UPDATE / SQL_DELETE / SQL_REFRESH / SQL_POSITION for
//! statements whose concurrency it emulates (§5.5–§5.8), and the positioned
//! `UPDATE/DELETE ... WHERE CURRENT OF` rewrite (§5.7). The SQL it generates is described
//! in docs/concurrency.md. Values always travel as bound parameters.

use std::collections::BTreeMap;
use std::sync::Arc;

use odbc_dm_abi::*;

use super::drv::{self, Catalog, DrvStmt, Param};
use super::{Cell, ColBind, Occ};
use crate::diag::SqlState;
use crate::handles::{DriverLink, Stmt};

/// SQL_PRED_BASIC / SQL_PRED_SEARCHABLE (SQL_DESC_SEARCHABLE).
const PRED_BASIC: isize = 2;

/// One result column as the emulation needs it.
#[derive(Clone, Debug)]
pub(crate) struct ColInfo {
    /// Quoted base column name.
    pub name: String,
    pub sqltype: SqlDataType,
    pub size: usize,
    pub digits: i16,
    pub searchable: bool,
}

/// What the DM learned about the result set, once per result set.
#[derive(Debug)]
pub(crate) struct Plan {
    /// Quoted (schema-qualified) table name.
    pub table: String,
    pub cols: BTreeMap<u16, ColInfo>,
    /// Result columns forming the table's key (SQLPrimaryKeys, else SQL_BEST_ROWID); empty
    /// when the table has none or a key column is not in the result.
    pub key: Vec<u16>,
    /// The version column (SQLSpecialColumns(SQL_ROWVER)) in the result, under ROWVER.
    pub rowver: Option<u16>,
    /// The effective mode: SQL_CONCUR_ROWVER (a version column was found) or VALUES.
    pub mode: usize,
}

/// A value read from an application buffer.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Null,
    Bytes(Vec<u8>),
    /// SQL_COLUMN_IGNORE in the length/indicator buffer (§5.5).
    Ignore,
}

/// Octet size of a fixed-length C type; `None` for character and binary types.
fn fixed_size(t: CDataType) -> Option<usize> {
    Some(match t.0 {
        4 | -16 | -18 | 7 => 4,   // LONG, SLONG, ULONG, FLOAT
        5 | -15 | -17 => 2,       // SHORT, SSHORT, USHORT
        -6 | -26 | -28 | -7 => 1, // TINYINT, STINYINT, UTINYINT, BIT
        -25 | -27 | 8 => 8,       // SBIGINT, UBIGINT, DOUBLE
        9 | 10 | 91 | 92 => 6,    // DATE, TIME
        11 | 93 => 16,            // TIMESTAMP
        2 => 19,                  // NUMERIC
        -11 => 16,                // GUID
        _ => return None,
    })
}

/// The application's data and length/indicator addresses of `b` for rowset row `row`
/// (0-based), column- or row-wise, plus the bind offset.
fn addr(o: &Occ, b: &ColBind, row: usize) -> (usize, usize) {
    let offset = if o.offset_ptr != 0 {
        // SAFETY: SQL_ATTR_ROW_BIND_OFFSET_PTR as the application set it; ODBC requires
        // it to stay valid while the binding is in use.
        unsafe { *(o.offset_ptr as *const isize) }
    } else {
        0
    };
    let (data, ind) = if o.bind_type == 0 {
        let elem = fixed_size(b.ctype).unwrap_or(b.buf_len.max(0) as usize);
        (b.ptr + row * elem, if b.ind != 0 { b.ind + row * std::mem::size_of::<SqlLen>() } else { 0 })
    } else {
        (b.ptr + row * o.bind_type, if b.ind != 0 { b.ind + row * o.bind_type } else { 0 })
    };
    ((data as isize + offset) as usize, if ind != 0 { (ind as isize + offset) as usize } else { 0 })
}

/// Reads one bound value of rowset row `row`.
///
/// The application's bound buffers must be valid as ODBC requires of a bound rowset
/// (SQLBindCol's contract): the DM reads them as the driver would.
fn read_value(o: &Occ, b: &ColBind, row: usize) -> Value {
    let (data, ind) = addr(o, b, row);
    let ind_v = if ind != 0 {
        // SAFETY: the application's bound length/indicator buffer (SQLBindCol contract).
        Some(unsafe { *(ind as *const SqlLen) })
    } else {
        None
    };
    match ind_v {
        Some(SQL_NULL_DATA) => return Value::Null,
        Some(SQL_COLUMN_IGNORE) => return Value::Ignore,
        _ => {}
    }
    let cap = b.buf_len.max(0) as usize;
    let len = match fixed_size(b.ctype) {
        Some(n) => n,
        None => {
            let unit = if b.ctype == CDataType::SQL_C_WCHAR { 2 } else { 1 };
            let is_char = b.ctype == CDataType::SQL_C_CHAR || b.ctype == CDataType::SQL_C_WCHAR;
            let room = if is_char { cap.saturating_sub(unit) } else { cap };
            match ind_v {
                Some(n) if n >= 0 => (n as usize).min(room),
                _ if is_char => {
                    // SQL_NTS or no length buffer: up to the terminating NUL.
                    // SAFETY: the application's bound buffer of `cap` bytes.
                    let bytes = unsafe { std::slice::from_raw_parts(data as *const u8, room) };
                    let mut n = 0;
                    while n + unit <= room && bytes[n..n + unit].iter().any(|&x| x != 0) {
                        n += unit;
                    }
                    n
                }
                _ => cap,
            }
        }
    };
    // SAFETY: the application's bound buffer; `len` never exceeds its size.
    Value::Bytes(unsafe { std::slice::from_raw_parts(data as *const u8, len) }.to_vec())
}

/// The rows of the current rowset (ROWS_FETCHED_PTR, else the row status array, else the
/// rowset size).
pub(crate) fn rows_in_rowset(o: &Occ) -> usize {
    let size = o.array_size.max(1);
    if o.fetched_ptr != 0 {
        // SAFETY: SQL_ATTR_ROWS_FETCHED_PTR as the application set it (valid while set).
        return unsafe { *(o.fetched_ptr as *const usize) }.min(size);
    }
    if o.status_ptr != 0 {
        // SAFETY: SQL_ATTR_ROW_STATUS_PTR, an array of the rowset size (ODBC contract).
        let st = unsafe { std::slice::from_raw_parts(o.status_ptr as *const u16, size) };
        return st.iter().take_while(|&&x| x != SQL_ROW_NOROW).count();
    }
    size
}

/// The cache entry of rowset row `row`: every bound column's current value.
pub(crate) fn read_row(o: &Occ, row: usize) -> BTreeMap<u16, Cell> {
    o.binds
        .iter()
        .map(|(&c, b)| {
            let v = match read_value(o, b, row) {
                Value::Bytes(v) => Some(v),
                _ => None,
            };
            (c, v)
        })
        .collect()
}

fn quote(q: &str, name: &str) -> String {
    let q = q.trim();
    if q.is_empty() {
        return name.to_string();
    }
    format!("{q}{}{q}", name.replace(q, &format!("{q}{q}")))
}

/// `SELECT ... FROM <name>` → name (a simple single-table SELECT, §5.8).
fn table_from_sql(sql: &str) -> Option<String> {
    let lower = sql.to_ascii_lowercase();
    let i = lower.find(" from ")?;
    let rest = sql[i + 6..].trim_start();
    let end = rest.find(|c: char| c.is_whitespace() || c == ';' || c == ',').unwrap_or(rest.len());
    let name = rest[..end].trim_matches(|c| c == '"' || c == '`');
    (!name.is_empty()).then(|| name.to_string())
}

fn catalog_names(link: &DriverLink, kind: Catalog, schema: Option<&str>, table: &str, name_col: u16) -> Vec<String> {
    let Ok(st) = DrvStmt::new(link) else { return Vec::new() };
    if !st.catalog(kind, schema, table).is_success() {
        return Vec::new();
    }
    // A catalog function that "succeeds" without a result set (mdbtools' SQLPrimaryKeys
    // is such a stub, and its SQLFetch then dereferences a null table): nothing to fetch
    // (decision #123).
    if st.num_result_cols() < name_col as i16 {
        return Vec::new();
    }
    let mut out = Vec::new();
    while st.fetch().is_success() && out.len() < 64 {
        if let Some(n) = st.text(name_col) {
            out.push(n);
        }
    }
    st.close();
    out
}

/// Learns the table, columns, key and version column of the statement's result set.
fn build_plan(s: &Stmt, o: &Occ) -> Result<Plan, String> {
    let link = &*s.link;
    let h = s.driver_handle();
    let mut n: i16 = 0;
    if let Some(f) = link.driver.fns.SQLNumResultCols {
        // SAFETY: live driver statement; a valid out pointer.
        unsafe { f(h, &mut n) };
    }
    if n <= 0 {
        return Err("the statement has no result set".into());
    }
    let q = drv::quote_char(link);
    let mut cols = BTreeMap::new();
    let mut names: Vec<(u16, String, String)> = Vec::new();
    for c in 1..=n as u16 {
        let Some((label, ty, size, digits)) = drv::describe_col(link, h, c) else { continue };
        let base = drv::col_text_attr(link, h, c, DescField::SQL_DESC_BASE_COLUMN_NAME).filter(|x| !x.is_empty()).unwrap_or(label.clone());
        let searchable = drv::col_num_attr(link, h, c, DescField::SQL_DESC_SEARCHABLE).is_none_or(|v| v >= PRED_BASIC);
        names.push((c, base.clone(), label));
        cols.insert(c, ColInfo { name: quote(&q, &base), sqltype: ty, size, digits, searchable });
    }
    let table = drv::col_text_attr(link, h, 1, DescField::SQL_DESC_BASE_TABLE_NAME)
        .filter(|x| !x.is_empty())
        .or_else(|| drv::col_text_attr(link, h, 1, DescField::SQL_DESC_TABLE_NAME).filter(|x| !x.is_empty()))
        .or_else(|| o.sql_text.as_deref().and_then(table_from_sql))
        .ok_or("the Driver Manager cannot tell the result set's table (SQL_DESC_BASE_TABLE_NAME is empty)")?;
    let schema = drv::col_text_attr(link, h, 1, DescField::SQL_DESC_SCHEMA_NAME).filter(|x| !x.is_empty());
    let find = |name: &str| {
        names
            .iter()
            .find(|(_, b, _)| b.eq_ignore_ascii_case(name))
            .or_else(|| names.iter().find(|(_, _, l)| l.eq_ignore_ascii_case(name)))
            .map(|x| x.0)
    };
    let mut key_names = catalog_names(link, Catalog::PrimaryKeys, schema.as_deref(), &table, 4);
    if key_names.is_empty() {
        key_names = catalog_names(link, Catalog::Special(RowIdentifier::SQL_BEST_ROWID), schema.as_deref(), &table, 2);
    }
    let key: Vec<u16> = key_names.iter().map(|k| find(k)).collect::<Option<Vec<_>>>().unwrap_or_default();
    let rowver = if o.emulated == SQL_CONCUR_ROWVER {
        catalog_names(link, Catalog::Special(RowIdentifier::SQL_ROWVER), schema.as_deref(), &table, 2)
            .iter()
            .find_map(|v| find(v).filter(|c| o.binds.contains_key(c)))
    } else {
        None
    };
    if let Some(v) = rowver {
        // psqlODBC names xmin's base column "oid": the catalog's name is the one to use.
        if let (Some(ci), Some((_, _, label))) = (cols.get_mut(&v), names.iter().find(|x| x.0 == v)) {
            ci.name = quote(&q, label);
            ci.searchable = true;
        }
    }
    let mode = if rowver.is_some() { SQL_CONCUR_ROWVER } else { SQL_CONCUR_VALUES };
    let full_table = match &schema {
        Some(sch) => format!("{}.{}", quote(&q, sch), quote(&q, &table)),
        None => quote(&q, &table),
    };
    Ok(Plan { table: full_table, cols, key, rowver, mode })
}

/// The statement's plan, built on first use for this result set. `Ok((plan, substituted))`
/// where `substituted` says ROWVER fell back to VALUES just now (01S02).
fn plan_for(s: &Stmt) -> Result<(Arc<Plan>, bool), String> {
    let o = super::get(s);
    if let Some(p) = o.plan.clone() {
        return Ok((p, false));
    }
    // Plans are cached per driver connection, statement text, mode and bound columns, so a
    // read-modify-write loop does not repeat the catalog calls (decision #75).
    let key = o.sql_text.clone().map(|sql| (s.link.hdbc, sql, o.emulated, o.binds.keys().copied().collect::<Vec<u16>>()));
    let cached = key.as_ref().and_then(|k| plan_cache().lock().ok().and_then(|c| c.get(k).cloned()));
    let p = match cached {
        Some(p) => p,
        None => {
            let p = Arc::new(build_plan(s, &o)?);
            if let (Some(k), Ok(mut c)) = (key, plan_cache().lock()) {
                if c.len() >= 256 {
                    c.clear();
                }
                c.insert(k, p.clone());
            }
            p
        }
    };
    let sub = o.emulated == SQL_CONCUR_ROWVER && p.mode == SQL_CONCUR_VALUES && !o.substituted;
    let pc = p.clone();
    super::update(s, |o| {
        o.plan = Some(pc);
        o.substituted |= sub;
    });
    Ok((p, sub))
}

type PlanKey = (usize, String, usize, Vec<u16>);

fn plan_cache() -> &'static std::sync::Mutex<std::collections::HashMap<PlanKey, Arc<Plan>>> {
    static C: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<PlanKey, Arc<Plan>>>> = std::sync::OnceLock::new();
    C.get_or_init(Default::default)
}

/// Forgets the cached plans of a driver connection (it disconnected).
pub(crate) fn forget_plans(hdbc: usize) {
    if let Ok(mut c) = plan_cache().lock() {
        c.retain(|k, _| k.0 != hdbc);
    }
}

/// Whether every key column is bound (the WHERE then identifies one row).
fn key_bound(p: &Plan, o: &Occ) -> bool {
    !p.key.is_empty() && p.key.iter().all(|c| o.binds.contains_key(c))
}

fn param(p: &Plan, b: &ColBind, col: u16, value: Option<Vec<u8>>) -> Param {
    let ci = &p.cols[&col];
    Param { ctype: b.ctype, sqltype: ci.sqltype, size: ci.size, digits: ci.digits, value }
}

/// The WHERE clause pinning a cached row (§5.4, §5.7): ROWVER → key (or all searchable
/// columns) + the old version; VALUES → every bound searchable column. NULL → IS NULL.
fn where_clause(p: &Plan, o: &Occ, old: &BTreeMap<u16, Cell>, params: &mut Vec<Param>) -> (String, bool) {
    let unique = key_bound(p, o);
    let cols: Vec<u16> = match p.rowver {
        Some(v) if unique => p.key.iter().copied().chain(std::iter::once(v)).collect(),
        _ => o.binds.keys().copied().filter(|c| p.cols.get(c).is_some_and(|ci| ci.searchable) || p.key.contains(c)).collect(),
    };
    let mut terms = Vec::new();
    for c in cols {
        let (Some(ci), Some(b)) = (p.cols.get(&c), o.binds.get(&c)) else { continue };
        match old.get(&c).cloned().flatten() {
            None => terms.push(format!("{} IS NULL", ci.name)),
            Some(v) => match approx(ci, b, &v) {
                // Approximate numerics: a driver may return fewer digits than it stores
                // (libsqlite3odbc: 15), so the DM pins a range of relative width 1e-13
                // (decision #74).
                Some(x) => {
                    let tol = x.abs() * 1e-13;
                    terms.push(format!("{} BETWEEN ? AND ?", ci.name));
                    for bound in [x - tol, x + tol] {
                        params.push(Param {
                            ctype: CDataType::SQL_C_DOUBLE,
                            sqltype: SqlDataType::SQL_DOUBLE,
                            size: 15,
                            digits: 0,
                            value: Some(bound.to_ne_bytes().to_vec()),
                        });
                    }
                }
                None => {
                    terms.push(format!("{} = ?", ci.name));
                    params.push(param(p, b, c, Some(v)));
                }
            },
        }
    }
    if terms.is_empty() {
        terms.push("1 = 0".into());
    }
    (terms.join(" AND "), unique)
}

/// The value of an approximate-numeric column bound as SQL_C_DOUBLE / SQL_C_FLOAT.
fn approx(ci: &ColInfo, b: &ColBind, v: &[u8]) -> Option<f64> {
    if !matches!(ci.sqltype, SqlDataType::SQL_FLOAT | SqlDataType::SQL_REAL | SqlDataType::SQL_DOUBLE) {
        return None;
    }
    match (b.ctype, v.len()) {
        (CDataType::SQL_C_DOUBLE, 8) => Some(f64::from_ne_bytes(v.try_into().ok()?)),
        (CDataType::SQL_C_FLOAT, 4) => Some(f32::from_ne_bytes(v.try_into().ok()?) as f64),
        _ => None,
    }
    .filter(|x| x.is_finite())
}

/// Runs `sql` with `params` on a DM statement; under a guard (a transaction or savepoint
/// the DM opens) a count other than 1 is rolled back (§5.6 UNIQUE/TRY_UNIQUE). Returns the
/// rows affected and whether they were kept.
fn run_guarded(link: &DriverLink, sql: &str, params: &[Param], guard: bool) -> Result<(isize, bool), String> {
    let st = DrvStmt::new(link)?;
    if !st.prepare(sql).is_success() {
        return Err(st.diag());
    }
    if !guard {
        let rc = st.execute_with(params);
        if !rc.is_success() && rc != SqlReturn::SQL_NO_DATA {
            return Err(st.diag());
        }
        return Ok((st.row_count().unwrap_or(0), true));
    }
    let auto = drv::conn_attr_u32(link, ConnAttr::SQL_ATTR_AUTOCOMMIT).unwrap_or(1) != 0;
    if auto {
        drv::set_conn_attr(link, ConnAttr::SQL_ATTR_AUTOCOMMIT, SQL_AUTOCOMMIT_OFF);
    } else if !drv::exec_direct(link, "SAVEPOINT odbc_dm_occ").is_success() {
        return Err("the Driver Manager could not open a savepoint to guard the update (§5.6)".into());
    }
    let rc = st.execute_with(params);
    let n = if rc.is_success() || rc == SqlReturn::SQL_NO_DATA { st.row_count().unwrap_or(0) } else { -1 };
    let err = (n < 0).then(|| st.diag());
    let keep = n == 1;
    if auto {
        drv::end_tran(link, if keep { CompletionType::SQL_COMMIT } else { CompletionType::SQL_ROLLBACK });
        drv::set_conn_attr(link, ConnAttr::SQL_ATTR_AUTOCOMMIT, SQL_AUTOCOMMIT_ON);
    } else {
        if !keep {
            drv::exec_direct(link, "ROLLBACK TO SAVEPOINT odbc_dm_occ");
        }
        drv::exec_direct(link, "RELEASE SAVEPOINT odbc_dm_occ");
    }
    match err {
        Some(e) => Err(e),
        None => Ok((n, keep)),
    }
}

/// Re-reads rowset row `row` into the application's buffers (SQL_REFRESH) by its key, or
/// by its old values without one. `Ok(false)`: the row is gone.
fn refresh_row(link: &DriverLink, p: &Plan, o: &Occ, row: usize, old: &BTreeMap<u16, Cell>) -> Result<bool, String> {
    let cols: Vec<u16> = o.binds.keys().copied().filter(|c| p.cols.contains_key(c)).collect();
    if cols.is_empty() {
        return Ok(true);
    }
    let mut params = Vec::new();
    let (w, unique) = if key_bound(p, o) {
        let mut terms = Vec::new();
        for c in &p.key {
            match old.get(c).cloned().flatten() {
                None => terms.push(format!("{} IS NULL", p.cols[c].name)),
                Some(v) => {
                    terms.push(format!("{} = ?", p.cols[c].name));
                    params.push(param(p, &o.binds[c], *c, Some(v)));
                }
            }
        }
        (terms.join(" AND "), true)
    } else {
        where_clause(p, o, old, &mut params)
    };
    let _ = unique;
    let list: Vec<&str> = cols.iter().map(|c| p.cols[c].name.as_str()).collect();
    let sql = format!("SELECT {} FROM {} WHERE {}", list.join(", "), p.table, w);
    let st = DrvStmt::new(link)?;
    if !st.prepare(&sql).is_success() {
        return Err(st.diag());
    }
    let Some(bind) = link.driver.fns.SQLBindCol else { return Err("the driver lacks SQLBindCol".into()) };
    for (i, c) in cols.iter().enumerate() {
        let b = &o.binds[c];
        let (data, ind) = addr(o, b, row);
        // SAFETY: live DM statement; the application's bound buffers of this row (valid
        // as SQLBindCol requires); unbound again before returning (the handle is freed).
        let rc = unsafe { bind(st.h, (i + 1) as u16, b.ctype, data as SqlPointer, b.buf_len, ind as *mut SqlLen) };
        if !rc.is_success() {
            return Err(st.diag());
        }
    }
    let rc = st.execute_with(&params);
    if !rc.is_success() {
        return Err(st.diag());
    }
    let rc = st.fetch();
    st.close();
    if rc == SqlReturn::SQL_NO_DATA {
        return Ok(false);
    }
    if !rc.is_success() {
        return Err(st.diag());
    }
    Ok(true)
}

/// The per-row outcome of an emulated operation.
enum RowOutcome {
    Done(u16),
    Conflict(String),
    Failed(String),
}

/// SQLSetPos on a statement whose concurrency the DM emulates. `Err(call)`: not an
/// emulated statement; the caller forwards to the driver.
///
/// The checks that need no round trip answer at once; the operation itself runs through
/// [`StmtCall::invoke_dm`](super::StmtCall::invoke_dm): synchronously, or with
/// asynchronous execution enabled as an emulated asynchronous operation (notification,
/// emulated polling: SQL_STILL_EXECUTING, then completion as for any other function), or
/// at once under native polling (decision #85).
pub(crate) fn set_pos<'a>(
    call: super::StmtCall<'a>,
    s: &Arc<Stmt>,
    row: usize,
    op: SetPosOperation,
    lock: LockType,
) -> Result<SqlReturn, super::StmtCall<'a>> {
    if !super::emulated(s) || op == SetPosOperation::SQL_ADD {
        return Err(call);
    }
    let rows = super::get(s).cache.len();
    if row > rows {
        return Ok(call.fail(SqlState(*b"HY107"), "Row value out of range"));
    }
    if op == SetPosOperation::SQL_POSITION && row == 0 {
        return Ok(call.fail(SqlState(*b"HY109"), "Invalid cursor position: SQL_POSITION needs a row"));
    }
    let driver_async = call.driver_async();
    let s = s.clone();
    Ok(call.invoke_dm(move |extra| set_pos_run(&s, row, op, lock, driver_async, extra)))
}

fn dm_rec(state: SqlState, msg: impl Into<String>) -> crate::diag::DiagRecord {
    crate::diag::DiagRecord::dm(state, msg)
}

/// The emulated SQLSetPos operation: DM records go to `extra` (after the driver's).
fn set_pos_run(
    s: &Arc<Stmt>,
    row: usize,
    op: SetPosOperation,
    lock: LockType,
    driver_async: bool,
    extra: &mut Vec<crate::diag::DiagRecord>,
) -> SqlReturn {
    let o = super::get(s);
    let rows = o.cache.len();
    if row > rows {
        extra.push(dm_rec(SqlState(*b"HY107"), "Row value out of range"));
        return SqlReturn::SQL_ERROR;
    }
    if op == SetPosOperation::SQL_POSITION {
        // Let a driver that can position do so too (for SQLGetData on the row).
        if let Some(f) = s.link.driver.fns.SQLSetPos {
            drv::with_sync_driver(&s.link, s.driver_handle(), driver_async, || {
                // SAFETY: live driver statement; the application's arguments.
                unsafe { f(s.driver_handle(), row, op, lock) }
            });
        }
        super::update(s, |o| o.pos = row);
        return SqlReturn::SQL_SUCCESS;
    }
    if o.binds.is_empty() {
        // Nothing to write or pin: refuse rather than report a write that did nothing.
        extra.push(dm_rec(
            SqlState::GENERAL_ERROR,
            "General error: no column of this statement is bound (SQLBindCol), so there is nothing to write or pin",
        ));
        return SqlReturn::SQL_ERROR;
    }
    let (plan, substituted) = match drv::with_sync_driver(&s.link, s.driver_handle(), driver_async, || plan_for(s)) {
        Ok(p) => p,
        Err(e) => {
            extra.push(dm_rec(SqlState::GENERAL_ERROR, format!("Optimistic concurrency emulation: {e} (§5.8)")));
            return SqlReturn::SQL_ERROR;
        }
    };
    if substituted {
        extra.push(dm_rec(
            SqlState::OPTION_VALUE_CHANGED,
            "Option value changed: no row-version column (SQLSpecialColumns SQL_ROWVER) in the result set; SQL_CONCUR_VALUES substituted (§5.1)",
        ));
    }
    let targets: Vec<usize> = if row == 0 { (0..rows).collect() } else { vec![row - 1] };
    let mut outcomes: Vec<(usize, RowOutcome)> = Vec::new();
    for r in targets {
        if row == 0 && o.op_ptr != 0 {
            // SAFETY: SQL_ATTR_ROW_OPERATION_PTR, an array of the rowset size (ODBC contract).
            if unsafe { *(o.op_ptr as *const u16).add(r) } == SQL_ROW_IGNORE {
                continue;
            }
        }
        let outcome = one_row(s, &plan, &o, r, op);
        outcomes.push((r, outcome));
    }
    // SQLRowCount after an emulated SQL_UPDATE / SQL_DELETE: the rows it changed.
    if matches!(op, SetPosOperation::SQL_UPDATE | SetPosOperation::SQL_DELETE) {
        let changed = outcomes
            .iter()
            .filter(|(_, out)| matches!(out, RowOutcome::Done(st) if *st == SQL_ROW_UPDATED || *st == SQL_ROW_DELETED))
            .count();
        super::set_dm_row_count(s, changed as isize);
    }
    // Row status array and the returned code.
    let mut conflict = 0;
    let mut failed = Vec::new();
    for (r, out) in &outcomes {
        let status = match out {
            RowOutcome::Done(st) => *st,
            RowOutcome::Conflict(_) => {
                conflict += 1;
                SQL_ROW_ERROR
            }
            RowOutcome::Failed(e) => {
                failed.push(e.clone());
                SQL_ROW_ERROR
            }
        };
        if o.row_status_ptr() != 0 {
            // SAFETY: SQL_ATTR_ROW_STATUS_PTR, an array of the rowset size (ODBC contract).
            unsafe { *(o.row_status_ptr() as *mut u16).add(*r) = status };
        }
    }
    if row != 0 && !failed.is_empty() {
        extra.retain(|r| r.state != SqlState::OPTION_VALUE_CHANGED);
        extra.push(dm_rec(SqlState::GENERAL_ERROR, failed[0].clone()));
        return SqlReturn::SQL_ERROR;
    }
    for e in &failed {
        extra.push(dm_rec(SqlState(*b"01S01"), format!("Error in row: {e}")));
    }
    if conflict > 0 {
        let detail =
            outcomes.iter().find_map(|(_, o)| if let RowOutcome::Conflict(m) = o { Some(m.clone()) } else { None }).unwrap_or_default();
        extra.push(dm_rec(SqlState::CURSOR_OPERATION_CONFLICT, format!("Cursor operation conflict: {conflict} row(s) {detail} (§5.5)")));
    }
    SqlReturn::SQL_SUCCESS
}

fn simulate(o: &Occ) -> usize {
    o.simulate.unwrap_or(SQL_SC_UNIQUE)
}

/// One row of an emulated SQL_UPDATE / SQL_DELETE / SQL_REFRESH.
fn one_row(s: &Stmt, p: &Plan, o: &Occ, r: usize, op: SetPosOperation) -> RowOutcome {
    let link = &*s.link;
    let Some(old) = o.cache.get(r) else { return RowOutcome::Failed("no cached row".into()) };
    match op {
        SetPosOperation::SQL_REFRESH => match refresh_row(link, p, o, r, old) {
            Ok(true) => {
                let fresh = read_row(o, r);
                super::update(s, |x| {
                    if let Some(c) = x.cache.get_mut(r) {
                        *c = fresh;
                    }
                });
                RowOutcome::Done(SQL_ROW_SUCCESS)
            }
            Ok(false) => RowOutcome::Done(SQL_ROW_DELETED),
            Err(e) => RowOutcome::Failed(e),
        },
        SetPosOperation::SQL_UPDATE | SetPosOperation::SQL_DELETE => {
            let mut params = Vec::new();
            let mut sets = Vec::new();
            let mut new_row = old.clone();
            if op == SetPosOperation::SQL_UPDATE {
                for (&c, b) in &o.binds {
                    if Some(c) == p.rowver || !p.cols.contains_key(&c) {
                        continue;
                    }
                    match read_value(o, b, r) {
                        Value::Ignore => continue,
                        Value::Null => {
                            sets.push(format!("{} = NULL", p.cols[&c].name));
                            new_row.insert(c, None);
                        }
                        Value::Bytes(v) => {
                            sets.push(format!("{} = ?", p.cols[&c].name));
                            params.push(param(p, b, c, Some(v.clone())));
                            new_row.insert(c, Some(v));
                        }
                    }
                }
                if sets.is_empty() {
                    return RowOutcome::Done(SQL_ROW_SUCCESS);
                }
            }
            let (w, unique) = where_clause(p, o, old, &mut params);
            let sql = if op == SetPosOperation::SQL_UPDATE {
                format!("UPDATE {} SET {} WHERE {}", p.table, sets.join(", "), w)
            } else {
                format!("DELETE FROM {} WHERE {}", p.table, w)
            };
            let guard = !unique && simulate(o) != SQL_SC_NON_UNIQUE;
            log::debug!(
                "odbc-dm optimistic concurrency: {sql} (guarded: {guard}; parameters: {:?})",
                params.iter().map(|p| (p.ctype.0, p.sqltype.0, p.size, p.value.as_ref().map(|v| v.len()))).collect::<Vec<_>>()
            );
            match run_guarded(link, &sql, &params, guard) {
                Ok((1, true)) => {
                    if op == SetPosOperation::SQL_UPDATE {
                        // The version changed with the update: re-read the row so that a
                        // later update pins the new version (§5.7 cache refresh).
                        if p.rowver.is_some() && key_bound(p, o) {
                            let mut keyed = old.clone();
                            for c in &p.key {
                                keyed.insert(*c, new_row.get(c).cloned().flatten());
                            }
                            let _ = refresh_row(link, p, o, r, &keyed);
                            new_row = read_row(o, r);
                        }
                        super::update(s, |x| {
                            if let Some(c) = x.cache.get_mut(r) {
                                *c = new_row;
                            }
                        });
                        RowOutcome::Done(SQL_ROW_UPDATED)
                    } else {
                        RowOutcome::Done(SQL_ROW_DELETED)
                    }
                }
                Ok((0, _)) => RowOutcome::Conflict("matched no row: changed or deleted by someone else".into()),
                Ok((n, true)) => RowOutcome::Conflict(format!("matched {n} rows, all changed (SQL_SC_NON_UNIQUE)")),
                Ok((n, false)) => RowOutcome::Conflict(format!("would have matched {n} rows; rolled back, nothing changed (§5.6)")),
                Err(e) => RowOutcome::Failed(e),
            }
        }
        _ => RowOutcome::Failed("unsupported operation".into()),
    }
}

/// Splits `... WHERE CURRENT OF <name>` off a statement: (the statement before WHERE,
/// the cursor name). Case-insensitive; the name may be quoted.
fn split_current_of(sql: &str) -> Option<(&str, String)> {
    let lower = sql.to_ascii_lowercase();
    let i = lower.rfind("where current of")?;
    let head = sql[..i].trim_end();
    let name = sql[i + "where current of".len()..].trim().trim_end_matches(';').trim();
    let name = name.trim_matches(|c| c == '"' || c == '`' || c == '[' || c == ']');
    if name.is_empty() || name.contains(char::is_whitespace) {
        return None;
    }
    let h = head.trim_start().to_ascii_lowercase();
    (h.starts_with("update ") || h.starts_with("delete ")).then(|| (head, name.to_string()))
}

/// The number of parameter markers in `sql` outside quoted strings and identifiers.
fn count_markers(sql: &str) -> usize {
    let mut n = 0;
    let mut quote: Option<char> = None;
    for ch in sql.chars() {
        match quote {
            Some(q) if ch == q => quote = None,
            Some(_) => {}
            None if ch == '\'' || ch == '"' || ch == '`' => quote = Some(ch),
            None if ch == '?' => n += 1,
            None => {}
        }
    }
    n
}

/// The values of the application's input parameters 1..=k of `s` for the `k` markers of
/// `head`, read from its buffers as the driver would at execution.
fn app_params(s: &Stmt, head: &str) -> Result<Vec<Param>, (SqlState, String)> {
    let k = count_markers(head);
    if k == 0 {
        return Ok(Vec::new());
    }
    let o = super::get(s);
    let mut out = Vec::with_capacity(k);
    for n in 1..=k as u16 {
        let Some(b) = o.params.get(&n) else {
            return Err((SqlState(*b"07002"), format!("COUNT field incorrect: parameter {n} of the positioned statement is not bound")));
        };
        let ind_v = (b.ind != 0).then(|| {
            // SAFETY: the application's StrLen_or_IndPtr (SQLBindParameter's contract:
            // valid at execution).
            unsafe { *(b.ind as *const SqlLen) }
        });
        let value =
            match ind_v {
                Some(SQL_NULL_DATA) => None,
                Some(v) if v == SQL_DATA_AT_EXEC || v <= SQL_LEN_DATA_AT_EXEC_OFFSET => return Err((
                    SqlState::NOT_IMPLEMENTED,
                    "Optional feature not implemented: data-at-execution parameters in a positioned statement the Driver Manager rewrites"
                        .into(),
                )),
                _ if b.ctype == CDataType::SQL_C_DEFAULT => {
                    return Err((
                        SqlState::NOT_IMPLEMENTED,
                        "Optional feature not implemented: SQL_C_DEFAULT parameters in a positioned statement the Driver Manager rewrites"
                            .into(),
                    ))
                }
                ind_v => {
                    let len = match fixed_size(b.ctype) {
                        Some(n) => n,
                        None => match ind_v {
                            Some(n) if n >= 0 => n as usize,
                            _ => {
                                // SQL_NTS (or no length buffer): up to the terminating NUL.
                                let unit = if b.ctype == CDataType::SQL_C_WCHAR { 2 } else { 1 };
                                let cap = if b.buf_len > 0 { b.buf_len as usize } else { usize::MAX };
                                let mut n = 0;
                                // SAFETY: the application's parameter buffer, NUL-terminated
                                // (SQL_NTS) or `buf_len` bytes long (SQLBindParameter's contract).
                                while n + unit <= cap
                                    && unsafe { std::slice::from_raw_parts((b.ptr + n) as *const u8, unit) }.iter().any(|&x| x != 0)
                                {
                                    n += unit;
                                }
                                n
                            }
                        },
                    };
                    // SAFETY: the application's parameter buffer of at least `len` bytes.
                    Some(unsafe { std::slice::from_raw_parts(b.ptr as *const u8, len) }.to_vec())
                }
            };
        let size = if b.size == 0 { value.as_ref().map_or(1, |v| v.len().max(1)) } else { b.size };
        out.push(Param { ctype: b.ctype, sqltype: b.sqltype, size, digits: b.digits, value });
    }
    Ok(out)
}

/// The driver's cursor name of a statement.
fn cursor_name(s: &Stmt) -> Option<String> {
    let fns = &s.link.driver.fns;
    let mut len: i16 = 0;
    if let Some(f) = fns.SQLGetCursorName {
        let mut buf = [0u8; 256];
        // SAFETY: live driver statement; a buffer of the size passed.
        let rc = unsafe { f(s.driver_handle(), buf.as_mut_ptr(), 256, &mut len) };
        if rc.is_success() {
            return Some(String::from_utf8_lossy(&buf[..(len.max(0) as usize).min(255)]).to_string());
        }
    }
    if let Some(f) = fns.SQLGetCursorNameW {
        let mut buf = [0u16; 256];
        // SAFETY: as above.
        let rc = unsafe { f(s.driver_handle(), buf.as_mut_ptr(), 256, &mut len) };
        if rc.is_success() {
            return Some(String::from_utf16_lossy(&buf[..(len.max(0) as usize).min(255)]));
        }
    }
    None
}

/// A positioned `UPDATE/DELETE ... WHERE CURRENT OF c` executed on `s` (§5.7): when `c`
/// names an emulated cursor of another statement of the connection, the DM runs the
/// searched statement itself and answers. `Err(call)`: not for the DM; forward.
pub(crate) fn rewrite_positioned<'a>(call: super::StmtCall<'a>, s: &Arc<Stmt>, sql: &str) -> Result<SqlReturn, super::StmtCall<'a>> {
    if super::EMULATING.load(std::sync::atomic::Ordering::Acquire) == 0 {
        return Err(call);
    }
    let Some((head, name)) = split_current_of(sql) else { return Err(call) };
    let ids: Vec<usize> = s.dbc.gate.read(|c| c.statements.clone());
    // The cursor's statement is used under its own busy word, taken without waiting (two
    // threads rewriting positioned statements against each other's cursors must not
    // deadlock): it cannot be freed or called meanwhile.
    let mut busy_seen = false;
    let mut found: Option<Arc<Stmt>> = None;
    for id in ids.into_iter().filter(|&id| id != s.id) {
        let Some(t) = crate::handles::tables().stmt.get(id) else { continue };
        if !super::emulated(&t) {
            continue;
        }
        let matched = match t.gate.try_begin() {
            None => {
                busy_seen = true;
                false
            }
            Some(busy) => {
                let m = !t.gate.read(|c| c.freed) && cursor_name(&t).is_some_and(|n| n.eq_ignore_ascii_case(&name));
                drop(busy);
                m
            }
        };
        if matched {
            found = Some(t);
            break;
        }
    }
    let busy_msg =
        format!("General error: the statement of cursor {name} (or of another cursor of the connection) is in use by another call; retry");
    let Some(t) = found else {
        if busy_seen {
            return Ok(call.fail(SqlState::GENERAL_ERROR, busy_msg));
        }
        return Err(call);
    };
    let Some(busy) = t.gate.try_begin() else { return Ok(call.fail(SqlState::GENERAL_ERROR, busy_msg)) };
    if t.gate.read(|c| c.freed) {
        drop(busy);
        return Err(call);
    }
    let r = rewrite_on(call, s, &t, head, &name);
    busy.end(|_| ());
    Ok(r)
}

/// The positioned statement `head WHERE CURRENT OF name` against the cursor of `t`,
/// whose busy word the caller holds.
fn rewrite_on(call: super::StmtCall<'_>, s: &Arc<Stmt>, t: &Arc<Stmt>, head: &str, name: &str) -> SqlReturn {
    let mut call = call;
    let o = super::get(t);
    if o.pos == 0 || o.pos > o.cache.len() {
        return call.fail(SqlState::INVALID_CURSOR_STATE, format!("Invalid cursor state: cursor {name} is not positioned on a row"));
    }
    let (p, substituted) = match plan_for(t) {
        Ok(p) => p,
        Err(e) => return call.fail(SqlState::GENERAL_ERROR, format!("Optimistic concurrency emulation: {e} (§5.8)")),
    };
    if substituted {
        call.warn(SqlState::OPTION_VALUE_CHANGED, "Option value changed: no row-version column; SQL_CONCUR_VALUES substituted (§5.1)");
    }
    // The application's parameters come first (its markers precede the WHERE), then the
    // DM's pinned values (decision #88).
    let mut params = match app_params(s, head) {
        Ok(p) => p,
        Err((st, msg)) => return call.fail(st, msg),
    };
    let r = o.pos - 1;
    let old = &o.cache[r];
    let (w, unique) = where_clause(&p, &o, old, &mut params);
    let is_delete = head.trim_start().to_ascii_lowercase().starts_with("delete");
    let searched = format!("{head} WHERE {w}");
    let guard = !unique && simulate(&o) != SQL_SC_NON_UNIQUE;
    let run = run_guarded(&s.link, &searched, &params, guard);
    // SQLRowCount of the positioned statement: the rows the DM's searched statement changed.
    if let Ok((n, kept)) = run {
        super::set_dm_row_count(s, if kept { n.max(0) } else { 0 });
    }
    let status = match run {
        Ok((1, true)) => Some(if is_delete { SQL_ROW_DELETED } else { SQL_ROW_UPDATED }),
        Ok((n, kept)) => {
            let what = if n == 0 {
                "matched no row: changed or deleted by someone else".to_string()
            } else if kept {
                format!("matched {n} rows, all changed (SQL_SC_NON_UNIQUE)")
            } else {
                format!("would have matched {n} rows; rolled back, nothing changed (§5.6)")
            };
            call.warn(SqlState::CURSOR_OPERATION_CONFLICT, format!("Cursor operation conflict: the positioned statement {what} (§5.7)"));
            None
        }
        Err(e) => return call.fail(SqlState::GENERAL_ERROR, e),
    };
    if let Some(st) = status {
        if o.row_status_ptr() != 0 {
            // SAFETY: the cursor statement's SQL_ATTR_ROW_STATUS_PTR (ODBC contract).
            unsafe { *(o.row_status_ptr() as *mut u16).add(r) = st };
        }
        if !is_delete {
            // The application's buffers hold the values it just wrote? Not necessarily
            // (the SET list is its own): re-read the row so the cache holds what is stored.
            let old2 = old.clone();
            if refresh_row(&s.link, &p, &o, r, &old2).unwrap_or(false) {
                let fresh = read_row(&o, r);
                super::update(t, |x| {
                    if let Some(c) = x.cache.get_mut(r) {
                        *c = fresh;
                    }
                });
            }
        }
    } else if o.row_status_ptr() != 0 {
        // SAFETY: as above.
        unsafe { *(o.row_status_ptr() as *mut u16).add(r) = SQL_ROW_ERROR };
    }
    call.finish(SqlReturn::SQL_SUCCESS)
}
