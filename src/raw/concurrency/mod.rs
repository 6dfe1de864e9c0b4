//! Optimistic concurrency (§5): SQL_ATTR_CONCURRENCY passed through where the driver
//! offers the requested concurrency for the cursor type, emulated by the DM otherwise
//! (ROWVER and VALUES), with SQLSetPos SQL_UPDATE/SQL_DELETE/SQL_REFRESH and positioned
//! `... WHERE CURRENT OF` statements rewritten into searched statements whose WHERE pins
//! the row's old version or old values (docs/concurrency.md, decisions #71–#76).
//!
//! The DM keeps, per statement, what it needs in a record in the statement object
//! (`Stmt::occ`, whose type `handles` does not know; decision #89), created lazily on the
//! statement's first binding or concurrency attribute: the columns and input parameters
//! the application bound (always, so binding order does not matter), the row attributes
//! of the rowset, the emulated concurrency and SQL_ATTR_SIMULATE_CURSOR, and, while
//! emulating, a copy of each fetched row's bound values (the "cache" of the cursor
//! library, §5.7). The record's lock is never held across a driver call: the record is
//! copied out, the driver is called, results written back.

mod drv;

/// An integer statement attribute of a driver statement, through SQLGetStmtAttr(W) or, on
/// an ODBC 2 driver, SQLGetStmtOption (the one reader the raw layer uses for this).
pub(super) use drv::stmt_attr_usize as driver_stmt_attr;
pub(crate) mod setpos;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use odbc_dm_abi::*;

use crate::diag::SqlState;
use crate::handles::stmt_state::StmtState;
use crate::handles::Stmt;

use super::StmtCall;

/// How many statements currently have DM-emulated concurrency (while it is 0,
/// [`emulated`] costs one load).
pub(crate) static EMULATING: AtomicUsize = AtomicUsize::new(0);

/// One SQLBindCol binding as the application made it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ColBind {
    pub ctype: CDataType,
    pub ptr: usize,
    pub buf_len: isize,
    pub ind: usize,
}

/// One SQLBindParameter input binding as the application made it (always recorded, for
/// positioned statements with parameter markers, decision #88).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ParamBind {
    pub ctype: CDataType,
    pub sqltype: SqlDataType,
    pub size: usize,
    pub digits: i16,
    pub ptr: usize,
    pub buf_len: isize,
    pub ind: usize,
}

/// A small map keyed by column or parameter number: a sorted vector (a statement binds a
/// handful; a vector of them is a fraction of a B-tree node, decision #89).
#[derive(Clone, Debug)]
pub(crate) struct VecMap<V>(Vec<(u16, V)>);

impl<V> Default for VecMap<V> {
    fn default() -> Self {
        VecMap(Vec::new())
    }
}

impl<V> VecMap<V> {
    pub fn get(&self, k: &u16) -> Option<&V> {
        self.0.binary_search_by_key(k, |e| e.0).ok().map(|i| &self.0[i].1)
    }
    pub fn contains_key(&self, k: &u16) -> bool {
        self.get(k).is_some()
    }
    pub fn insert(&mut self, k: u16, v: V) {
        match self.0.binary_search_by_key(&k, |e| e.0) {
            Ok(i) => self.0[i].1 = v,
            Err(i) => self.0.insert(i, (k, v)),
        }
    }
    pub fn remove(&mut self, k: &u16) {
        if let Ok(i) = self.0.binary_search_by_key(k, |e| e.0) {
            self.0.remove(i);
        }
    }
    pub fn clear(&mut self) {
        // (The capacity goes too: an unbound statement keeps no buffer.)
        self.0 = Vec::new();
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn keys(&self) -> impl Iterator<Item = &u16> + '_ {
        self.0.iter().map(|e| &e.0)
    }
    pub fn iter(&self) -> impl Iterator<Item = (&u16, &V)> + '_ {
        self.0.iter().map(|e| (&e.0, &e.1))
    }
}

impl<V> std::ops::Index<&u16> for VecMap<V> {
    type Output = V;
    fn index(&self, k: &u16) -> &V {
        self.get(k).expect("a bound number")
    }
}

impl<'a, V> IntoIterator for &'a VecMap<V> {
    type Item = (&'a u16, &'a V);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (u16, V)>, fn(&'a (u16, V)) -> (&'a u16, &'a V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|e| (&e.0, &e.1))
    }
}

/// One cached value: `None` = NULL.
pub(crate) type Cell = Option<Vec<u8>>;

/// The DM's per-statement concurrency record: created on the statement's first SQLBindCol
/// / SQLBindParameter or its first SQL_ATTR_CONCURRENCY / SQL_ATTR_SIMULATE_CURSOR
/// (decision #89); a statement that does neither has none.
#[derive(Clone, Debug, Default)]
pub(crate) struct Occ {
    /// The statement uses the emulation's attributes: the rowset attributes below are
    /// tracked (seeded from the driver statement when it started).
    pub active: bool,
    /// SQL_CONCUR_ROWVER / SQL_CONCUR_VALUES when the DM emulates; 0 otherwise.
    pub emulated: usize,
    /// SQL_ATTR_SIMULATE_CURSOR as the DM honours it (`None`: never set; the DM's default
    /// is SQL_SC_UNIQUE, decision #73).
    pub simulate: Option<usize>,
    /// The application's column bindings (always recorded, whatever the binding order).
    pub binds: VecMap<ColBind>,
    /// The application's input parameters (always recorded, decision #88).
    pub params: VecMap<ParamBind>,
    /// SQL_ATTR_ROW_BIND_TYPE (0 = column-wise), ROW_ARRAY_SIZE, ROW_STATUS_PTR,
    /// ROW_OPERATION_PTR, ROW_BIND_OFFSET_PTR, ROWS_FETCHED_PTR.
    pub bind_type: usize,
    pub array_size: usize,
    pub status_ptr: usize,
    pub op_ptr: usize,
    pub offset_ptr: usize,
    pub fetched_ptr: usize,
    /// SQL_ROWSET_SIZE (the rowset of SQLExtendedFetch, ODBC 2).
    pub rowset_size: usize,
    /// The RowStatusArray of the last fetch when it was SQLExtendedFetch (ODBC 2: SQLSetPos
    /// then reports in that array); `None` after SQLFetch/SQLFetchScroll.
    pub ext_status: Option<usize>,
    /// Cached old values of each row of the current rowset, per bound column.
    pub cache: Vec<BTreeMap<u16, Cell>>,
    /// Current row (1-based) in the rowset, for positioned statements.
    pub pos: usize,
    /// What the DM learned about the result set (table, key, version column).
    pub plan: Option<Arc<setpos::Plan>>,
    /// The ROWVER→VALUES substitution has been reported (01S02) for this result set.
    pub substituted: bool,
    /// The text of the last SQLExecDirect/SQLPrepare (for `SELECT ... FROM t` when the
    /// driver does not name the base table).
    pub sql_text: Option<String>,
    /// The rows an emulated SQLSetPos(SQL_UPDATE/SQL_DELETE) or an emulated positioned
    /// UPDATE/DELETE on this statement affected: SQLRowCount's answer (the driver's
    /// statement ran no such statement; it would report its SELECT's count). Forgotten
    /// at the next fetch, execution or preparation.
    pub dm_row_count: Option<isize>,
}

impl Occ {
    /// The row status array SQLSetPos reports in: SQLExtendedFetch's RowStatusArray after
    /// that function, else SQL_ATTR_ROW_STATUS_PTR.
    pub(crate) fn row_status_ptr(&self) -> usize {
        self.ext_status.unwrap_or(self.status_ptr)
    }
}

/// A copy of the statement's record (default when it has none).
pub(crate) fn get(s: &Stmt) -> Occ {
    s.occ.with::<Occ, _>(false, |o| o.clone()).unwrap_or_default()
}

/// Updates (creating) the statement's record.
pub(crate) fn update<R>(s: &Stmt, f: impl FnOnce(&mut Occ) -> R) -> R {
    let (r, was, now) = s
        .occ
        .with::<Occ, _>(true, |o| {
            let was = o.emulated != 0;
            let r = f(o);
            (r, was, o.emulated != 0)
        })
        .expect("the statement's concurrency record has the raw layer's type");
    if was != now {
        if now {
            EMULATING.fetch_add(1, Ordering::AcqRel);
        } else {
            EMULATING.fetch_sub(1, Ordering::AcqRel);
        }
    }
    r
}

/// Whether the statement's concurrency is DM-emulated (one relaxed load when nothing is).
pub(crate) fn emulated(s: &Stmt) -> bool {
    EMULATING.load(Ordering::Relaxed) != 0 && s.occ.with::<Occ, _>(false, |o| o.emulated != 0).unwrap_or(false)
}

/// Whether SQLFetch on `s` must take the full path, which snapshots the rowset of a
/// statement whose concurrency the DM emulates (§5.7). The fast lanes do not call this:
/// it is evaluated when a call on `s` finishes and folded into the statement's published
/// fast-lane summary (no summary while it is true; decision #102). Every change of its
/// answer for `s` must therefore happen inside a call on `s` (today: SQLSetStmtAttr
/// SQL_ATTR_CONCURRENCY, through `update`).
pub(crate) fn fetch_needs_full_path(s: &Stmt) -> bool {
    emulated(s)
}

/// The statement is gone: forget its record.
pub(crate) fn forget(s: &Stmt) {
    if let Some(o) = s.occ.take::<Occ>() {
        if o.emulated != 0 {
            EMULATING.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// The statement starts using the emulation's attributes (SQL_ATTR_CONCURRENCY or
/// SQL_ATTR_SIMULATE_CURSOR is set): the rowset attributes set before, which the DM did not
/// track, are read from the driver statement (SQLGetStmtAttr, which every driver answers);
/// from now on they are tracked. The bindings are already in the record, whenever they
/// were made (decision #89).
fn activate(s: &Stmt) {
    if s.occ.with::<Occ, _>(false, |o| o.active).unwrap_or(false) {
        return;
    }
    let (link, h) = (&s.link, s.driver_handle());
    let attr = |a: StmtAttr| drv::stmt_attr_usize(link, h, a).unwrap_or(0);
    let (bind_type, array_size, status_ptr, op_ptr, offset_ptr, fetched_ptr, rowset_size) = (
        attr(StmtAttr::SQL_ATTR_ROW_BIND_TYPE),
        attr(StmtAttr::SQL_ATTR_ROW_ARRAY_SIZE).max(1),
        attr(StmtAttr::SQL_ATTR_ROW_STATUS_PTR),
        attr(StmtAttr::SQL_ATTR_ROW_OPERATION_PTR),
        // Kept by the DM on an ANSI-only driver whose SQL_C_WCHAR columns it converts (#149).
        if super::wconv::dm_keeps_row_offset(s) { super::wconv::row_offset_ptr(s) } else { attr(StmtAttr::SQL_ATTR_ROW_BIND_OFFSET_PTR) },
        attr(StmtAttr::SQL_ATTR_ROWS_FETCHED_PTR),
        attr(StmtAttr::SQL_ROWSET_SIZE).max(1),
    );
    update(s, |o| {
        o.active = true;
        o.bind_type = bind_type;
        o.array_size = array_size;
        o.status_ptr = status_ptr;
        o.op_ptr = op_ptr;
        o.offset_ptr = offset_ptr;
        o.fetched_ptr = fetched_ptr;
        o.rowset_size = rowset_size;
        o.cache.clear();
        o.pos = 0;
    });
}

/// SQLBindCol succeeded: remember the binding (a null pointer unbinds) in the statement's
/// record, created on the first binding. Setup-time cost: one uncontended per-statement
/// lock and a small sorted insert; nothing per row (decision #89).
pub(crate) fn on_bind_col(s: &Stmt, col: u16, ctype: CDataType, ptr: SqlPointer, buf_len: SqlLen, ind: *mut SqlLen) {
    if ptr.is_null() && !s.occ.is_on() {
        return;
    }
    update(s, |o| {
        if ptr.is_null() {
            o.binds.remove(&col);
        } else {
            o.binds.insert(col, ColBind { ctype, ptr: ptr as usize, buf_len, ind: ind as usize });
        }
    });
}

/// SQLBindParameter succeeded: remember an input binding (a positioned statement may use
/// it, decision #88), in the statement's record, created on the first binding; an output
/// binding forgets the number.
#[allow(clippy::too_many_arguments)]
pub(crate) fn on_bind_param(
    s: &Stmt,
    number: u16,
    io: ParamIoType,
    ctype: CDataType,
    sqltype: SqlDataType,
    size: usize,
    digits: i16,
    ptr: SqlPointer,
    buf_len: SqlLen,
    ind: *mut SqlLen,
) {
    let input = io == ParamIoType::SQL_PARAM_INPUT || io == ParamIoType::SQL_PARAM_INPUT_OUTPUT;
    if !input && !s.occ.is_on() {
        return;
    }
    update(s, |o| {
        if input || io == ParamIoType::SQL_PARAM_INPUT_OUTPUT {
            o.params.insert(number, ParamBind { ctype, sqltype, size, digits, ptr: ptr as usize, buf_len, ind: ind as usize });
        } else {
            o.params.remove(&number);
        }
    });
}

/// SQLFreeStmt(SQL_UNBIND / SQL_RESET_PARAMS) / SQL_CLOSE succeeded: the bindings are
/// forgotten; a close drops the cache (of an emulated statement: others have none).
pub(crate) fn on_free_stmt(s: &Stmt, option: FreeStmtOption) {
    if !s.occ.is_on() || (option == FreeStmtOption::SQL_CLOSE && !emulated(s)) {
        return;
    }
    update(s, |o| {
        if option == FreeStmtOption::SQL_UNBIND {
            o.binds.clear();
        }
        if option == FreeStmtOption::SQL_RESET_PARAMS {
            o.params.clear();
        }
        if option == FreeStmtOption::SQL_CLOSE {
            // (The rowset stays after SQL_UNBIND / SQL_RESET_PARAMS.)
            o.cache.clear();
            o.pos = 0;
        }
    });
}

/// SQLRowCount's answer when the DM ran the statement's last UPDATE/DELETE itself (see
/// [`Occ::dm_row_count`]); `None`: the driver answers.
pub(crate) fn dm_row_count(s: &Stmt) -> Option<isize> {
    if EMULATING.load(Ordering::Acquire) == 0 || !s.occ.is_on() {
        return None;
    }
    s.occ.with::<Occ, _>(false, |o| o.dm_row_count).flatten()
}

/// Records SQLRowCount's answer for the statement (see [`Occ::dm_row_count`]).
pub(crate) fn set_dm_row_count(s: &Stmt, n: isize) {
    update(s, |o| o.dm_row_count = Some(n));
}

/// The next fetch, execution or preparation: SQLRowCount is the driver's again.
fn forget_row_count(s: &Stmt) {
    if s.occ.is_on() && s.occ.with::<Occ, _>(false, |o| o.dm_row_count.is_some()).unwrap_or(false) {
        update(s, |o| o.dm_row_count = None);
    }
}

/// A new statement executed on an emulated statement: the cache and plan are stale.
pub(crate) fn on_new_result(s: &Stmt, sql: Option<&str>) {
    if !emulated(s) {
        return;
    }
    update(s, |o| {
        if let Some(t) = sql {
            o.sql_text = Some(t.chars().take(4096).collect());
        }
        o.cache.clear();
        o.pos = 0;
        o.plan = None;
        o.substituted = false;
    });
}

/// Tracks the row attributes the emulation needs, on a statement that uses the emulation's
/// attributes (one relaxed load on a statement without a record; `activate` reads the
/// earlier ones).
pub(crate) fn on_stmt_attr(s: &Stmt, attr: StmtAttr, value: SqlPointer) {
    if !s.occ.is_on() {
        return;
    }
    let v = value as usize;
    let field: fn(&mut Occ, usize) = match attr {
        StmtAttr::SQL_ATTR_ROW_BIND_TYPE => |o, v| o.bind_type = v,
        StmtAttr::SQL_ATTR_ROW_ARRAY_SIZE => |o, v| o.array_size = v,
        StmtAttr::SQL_ATTR_ROW_STATUS_PTR => |o, v| o.status_ptr = v,
        StmtAttr::SQL_ATTR_ROW_OPERATION_PTR => |o, v| o.op_ptr = v,
        StmtAttr::SQL_ATTR_ROW_BIND_OFFSET_PTR => |o, v| o.offset_ptr = v,
        StmtAttr::SQL_ATTR_ROWS_FETCHED_PTR => |o, v| o.fetched_ptr = v,
        StmtAttr::SQL_ROWSET_SIZE => |o, v| o.rowset_size = v,
        _ => return,
    };
    update(s, |o| {
        if o.active {
            field(o, v)
        }
    });
}

/// The cursor type's SQL_CA2_*_CONCURRENCY bits, or SQL_SCROLL_CONCURRENCY when the
/// driver does not answer the per-cursor-type info (§5.2).
fn driver_concurrency_bits(s: &Stmt) -> u32 {
    let cursor = drv::stmt_attr_usize(&s.link, s.driver_handle(), StmtAttr::SQL_ATTR_CURSOR_TYPE).unwrap_or(0);
    let info = match cursor {
        1 => InfoType::SQL_KEYSET_CURSOR_ATTRIBUTES2,
        2 => InfoType::SQL_DYNAMIC_CURSOR_ATTRIBUTES2,
        3 => InfoType::SQL_STATIC_CURSOR_ATTRIBUTES2,
        _ => InfoType::SQL_FORWARD_ONLY_CURSOR_ATTRIBUTES2,
    };
    // The per-cursor-type answer wins (MariaDB: 0 for forward-only cursors, although its
    // SQL_SCROLL_CONCURRENCY offers VALUES); SQL_SCROLL_CONCURRENCY only for a driver that
    // does not answer it (ODBC 2.x).
    match s.link.info_u32(info) {
        Some(bits) => bits & 0xF,
        None => s.link.info_u32(InfoType::SQL_SCROLL_CONCURRENCY).unwrap_or(SQL_SCCO_READ_ONLY) & 0xF,
    }
}

fn bit_of(concurrency: usize) -> u32 {
    match concurrency {
        SQL_CONCUR_READ_ONLY => SQL_SCCO_READ_ONLY,
        SQL_CONCUR_LOCK => SQL_SCCO_LOCK,
        SQL_CONCUR_ROWVER => SQL_SCCO_OPT_ROWVER,
        SQL_CONCUR_VALUES => SQL_SCCO_OPT_VALUES,
        _ => 0,
    }
}

/// §5.1: SQL_ATTR_CONCURRENCY and SQL_ATTR_SIMULATE_CURSOR cannot be changed while a
/// cursor is open (24000) or once the statement is prepared (HY011). Checked by the DM
/// for both attributes, whether it emulates or passes them through.
fn settable_now(s: &Stmt) -> Result<(), (SqlState, &'static str)> {
    let st = s.gate.read(|c| c.status);
    if matches!(st.state, StmtState::S5 | StmtState::S6 | StmtState::S7) {
        return Err((SqlState::INVALID_CURSOR_STATE, "Invalid cursor state: a cursor is open (§5.1)"));
    }
    if st.prepared.is_some() {
        return Err((SqlState::ATTRIBUTE_CANNOT_BE_SET_NOW, "Attribute cannot be set now: the statement is prepared (§5.1)"));
    }
    Ok(())
}

/// SQLSetStmtAttr(SQL_ATTR_CONCURRENCY / SQL_ATTR_SIMULATE_CURSOR). `None`: not one of
/// them, the caller forwards as usual.
pub(crate) fn set_attr<'a>(
    call: StmtCall<'a>,
    s: &Arc<Stmt>,
    attr: StmtAttr,
    value: SqlPointer,
    len: SqlInteger,
) -> Result<SqlReturn, StmtCall<'a>> {
    let v = value as usize;
    let forward = |attr: StmtAttr, v: usize| -> SqlReturn {
        let fns = &s.link.driver.fns;
        match (fns.SQLSetStmtAttrW.or(fns.SQLSetStmtAttr), fns.SQLSetStmtOption) {
            // SAFETY: live driver statement; an integer attribute passed by value.
            (Some(f), _) => unsafe { f(s.driver_handle(), attr, v as SqlPointer, len) },
            // An ODBC 2 driver (decision #98): SQL_CONCURRENCY (7) and SQL_SIMULATE_CURSOR
            // (10) are 2.x options of the same numbers.
            // SAFETY: live driver statement; an option value passed by value.
            (None, Some(f)) => unsafe { f(s.driver_handle(), attr.0 as u16, v as SqlULen) },
            (None, None) => SqlReturn::SQL_ERROR,
        }
    };
    match attr {
        StmtAttr::SQL_ATTR_CONCURRENCY => {
            if let Err((st, msg)) = settable_now(s) {
                return Ok(call.fail(st, msg));
            }
            activate(s);
            if !(SQL_CONCUR_READ_ONLY..=SQL_CONCUR_VALUES).contains(&v) {
                return Ok(call.fail(SqlState::INVALID_ATTRIBUTE_VALUE, "Invalid attribute value: SQL_ATTR_CONCURRENCY"));
            }
            let bits = driver_concurrency_bits(s);
            let mut call = call;
            if v == SQL_CONCUR_READ_ONLY || bits & bit_of(v) != 0 {
                // Passthrough (§5.2): the driver offers it for this cursor type.
                let rc = forward(attr, v);
                let now = drv::stmt_attr_usize(&s.link, s.driver_handle(), StmtAttr::SQL_ATTR_CONCURRENCY).unwrap_or(v);
                if rc == SqlReturn::SQL_SUCCESS_WITH_INFO
                    && v != SQL_CONCUR_READ_ONLY
                    && bit_of(now) & (SQL_SCCO_OPT_ROWVER | SQL_SCCO_OPT_VALUES) == 0
                {
                    // The driver substituted a non-optimistic mode after all: the DM
                    // emulates what was asked instead (the driver's 01S02 is dropped).
                    update(s, |o| {
                        o.emulated = if v == SQL_CONCUR_LOCK { SQL_CONCUR_ROWVER } else { v };
                        o.plan = None;
                    });
                    if v == SQL_CONCUR_LOCK {
                        call.warn(
                            SqlState::OPTION_VALUE_CHANGED,
                            "Option value changed: SQL_CONCUR_LOCK is not available; the Driver Manager emulates SQL_CONCUR_ROWVER (§5.1)",
                        );
                    }
                    return Ok(call.finish(SqlReturn::SQL_SUCCESS));
                }
                if rc.is_success() {
                    update(s, |o| o.emulated = 0);
                }
                return Ok(call.finish(rc));
            }
            // §5.1 substitution order: LOCK → ROWVER, then VALUES; VALUES ↔ ROWVER. The
            // driver's own optimistic modes come first; the DM emulates what is left.
            let candidates: &[usize] = match v {
                SQL_CONCUR_LOCK => &[SQL_CONCUR_ROWVER, SQL_CONCUR_VALUES],
                SQL_CONCUR_ROWVER => &[SQL_CONCUR_VALUES],
                _ => &[SQL_CONCUR_ROWVER],
            };
            if let Some(&sub) = candidates.iter().find(|&&c| bits & bit_of(c) != 0) {
                let rc = forward(attr, sub);
                if rc.is_success() {
                    update(s, |o| o.emulated = 0);
                    call.warn(
                        SqlState::OPTION_VALUE_CHANGED,
                        format!("Option value changed: SQL_ATTR_CONCURRENCY {v} is not offered by the driver; {sub} substituted (§5.1)"),
                    );
                }
                return Ok(call.finish(rc));
            }
            // The DM emulates: the driver statement stays read-only.
            let dm = if v == SQL_CONCUR_LOCK { SQL_CONCUR_ROWVER } else { v };
            update(s, |o| {
                o.emulated = dm;
                o.plan = None;
            });
            if dm != v {
                call.warn(
                    SqlState::OPTION_VALUE_CHANGED,
                    "Option value changed: SQL_CONCUR_LOCK is not offered by the driver; the Driver Manager emulates SQL_CONCUR_ROWVER (§5.1)",
                );
            }
            Ok(call.finish(SqlReturn::SQL_SUCCESS))
        }
        StmtAttr::SQL_ATTR_SIMULATE_CURSOR => {
            if let Err((st, msg)) = settable_now(s) {
                return Ok(call.fail(st, msg));
            }
            activate(s);
            if v > SQL_SC_UNIQUE {
                return Ok(call.fail(SqlState::INVALID_ATTRIBUTE_VALUE, "Invalid attribute value: SQL_ATTR_SIMULATE_CURSOR"));
            }
            let rc = forward(attr, v);
            update(s, |o| o.simulate = Some(v));
            // A driver without positioned-statement simulation refuses it (HYC00/HY092);
            // the DM honours it for its own emulation (§5.6), so the application succeeds.
            Ok(call.finish(if rc.is_success() { rc } else { SqlReturn::SQL_SUCCESS }))
        }
        _ => Err(call),
    }
}

/// SQLGetStmtAttr for the attributes the DM answers while emulating. `None`: forward.
pub(crate) fn get_attr(s: &Stmt, attr: StmtAttr) -> Option<usize> {
    match attr {
        StmtAttr::SQL_ATTR_CONCURRENCY => s.occ.with::<Occ, _>(false, |e| (e.emulated != 0).then_some(e.emulated)).flatten(),
        StmtAttr::SQL_ATTR_SIMULATE_CURSOR => s.occ.with::<Occ, _>(false, |e| e.simulate).flatten(),
        _ => None,
    }
}

/// The statement to hand to [`after_fetch`] from inside a fetch's driver-call closure, when
/// its concurrency is emulated (`None` otherwise: the closure stays as it was). The
/// closure runs wherever the call runs: in place, on the DM's emulation pool, or on the
/// dispatcher re-invoking a notification-mode call, so the rowset is copied right after the
/// driver's final answer whatever the asynchronous mode (decision #84).
pub(crate) fn fetch_hook(s: &Arc<Stmt>) -> Option<Arc<Stmt>> {
    emulated(s).then(|| s.clone())
}

/// After a fetch's driver call on an emulated statement: copy the rowset's bound values
/// (the old values the WHERE will pin, §5.7). SQL_STILL_EXECUTING (the rowset is being
/// replaced), an error or SQL_NO_DATA empties the cache.
pub(crate) fn after_fetch(s: &Stmt, rc: SqlReturn) {
    cache_rowset(s, rc, None, setpos::rows_in_rowset);
}

/// After SQLExtendedFetch's driver call on an emulated statement (ODBC 2): the rowset is
/// `*row_count` rows of SQL_ROWSET_SIZE, and SQLSetPos reports in `row_status` from now on.
pub(crate) fn after_extended_fetch(s: &Stmt, rc: SqlReturn, row_count: usize, row_status: usize) {
    cache_rowset(s, rc, (row_status != 0).then_some(row_status), |o| {
        // SQL_ROWSET_SIZE for an ODBC 2 application; an ODBC 3 application's SQLFetch(Scroll)
        // mapped here set SQL_ATTR_ROW_ARRAY_SIZE, which the DM passed on as that option
        // (decisions #115, #123). The driver's count bounds it either way.
        let size = o.rowset_size.max(o.array_size).max(1);
        if row_count == 0 {
            return size;
        }
        // SAFETY: the application's RowCountPtr, written by the driver just now.
        unsafe { *(row_count as *const SqlULen) }.min(size)
    });
}

fn cache_rowset(s: &Stmt, rc: SqlReturn, ext_status: Option<usize>, rows: impl FnOnce(&Occ) -> usize) {
    if !emulated(s) {
        return;
    }
    forget_row_count(s);
    if rc == SqlReturn::SQL_NO_DATA || !rc.is_success() {
        update(s, |o| {
            o.cache.clear();
            o.pos = 0;
        });
        return;
    }
    let o = get(s);
    let cache = (0..rows(&o)).map(|r| setpos::read_row(&o, r)).collect();
    update(s, |o| {
        o.cache = cache;
        o.pos = 1;
        o.ext_status = ext_status;
    });
}

pub(crate) use setpos::{rewrite_positioned, set_pos};

/// Before SQLExecDirect/SQLPrepare: a positioned statement naming an emulated cursor is
/// answered by the DM (§5.7); an emulated statement records its text and drops its cache.
/// `Err(call)`: go on to the driver. `text` is only evaluated while something is emulated.
pub(crate) fn before_text<'a>(
    call: StmtCall<'a>,
    s: &Arc<Stmt>,
    func: FunctionId,
    text: impl FnOnce() -> Option<String>,
) -> Result<SqlReturn, StmtCall<'a>> {
    if EMULATING.load(Ordering::Acquire) == 0 {
        return Err(call);
    }
    forget_row_count(s);
    let Some(text) = text() else { return Err(call) };
    let call = if func == FunctionId::SQL_API_SQLEXECDIRECT {
        match rewrite_positioned(call, s, &text) {
            Ok(rc) => return Ok(rc),
            Err(c) => c,
        }
    } else {
        call
    };
    if emulated(s) {
        on_new_result(s, Some(&text));
    }
    Err(call)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decision #89: every binding statement carries this record, so it stays small (the
    /// per-statement DM memory target is 1 KiB).
    #[test]
    fn record_is_small() {
        let (rec, col, param) =
            (std::mem::size_of::<Occ>(), std::mem::size_of::<(u16, ColBind)>(), std::mem::size_of::<(u16, ParamBind)>());
        eprintln!("Occ {rec} bytes; per column binding {col}, per parameter binding {param}");
        assert!(rec <= 384, "{rec}");
        assert!(col <= 48 && param <= 64, "{col} {param}");
    }

    #[test]
    fn vec_map_keeps_order() {
        let mut m = VecMap::default();
        for k in [3u16, 1, 2, 3] {
            m.insert(k, k * 10);
        }
        assert_eq!(m.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>(), vec![(1, 10), (2, 20), (3, 30)]);
        m.remove(&2);
        assert!(!m.contains_key(&2) && m[&3] == 30);
        m.clear();
        assert!(m.is_empty());
    }
}
