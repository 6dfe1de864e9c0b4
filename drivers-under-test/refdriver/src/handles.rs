//! Handle objects and the registry of live handles. A handle value given to the
//! application is the address of the object inside its `Arc`; it is only ever used as a
//! key into the registry, never dereferenced, so a null, stale or garbage handle yields
//! SQL_INVALID_HANDLE instead of undefined behaviour.

use crate::async_ops::{AsyncOp, Notify};
use crate::connstr::ConnSettings;
use crate::diag::DiagList;
use crate::engine::{ExecCtx, Prepared, ResultSet};
use crate::eventlog::EventLog;
use crate::util::lock;
use std::collections::{BTreeMap, HashMap};
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize};
use std::sync::{Arc, LazyLock, Mutex};

pub struct Env {
    pub diag: DiagList,
    pub odbc_version: AtomicU32,
}

#[derive(Clone, Debug)]
pub struct ConnAttrs {
    pub autocommit: bool,
    pub async_dbc_enable: bool,
    pub login_timeout: u32,
    pub connection_timeout: u32,
    pub access_mode: u32,
    pub txn_isolation: u32,
    pub ansi_app: usize,
    /// SQL_ATTR_ASYNC_ENABLE set on the connection: the default for statements allocated later.
    pub stmt_async_default: bool,
    pub connected: bool,
    pub out_conn_str: String,
    pub dsn: String,
}

impl Default for ConnAttrs {
    fn default() -> Self {
        ConnAttrs {
            autocommit: true,
            async_dbc_enable: false,
            login_timeout: 0,
            connection_timeout: 0,
            access_mode: 0,
            txn_isolation: 8,
            ansi_app: 0,
            stmt_async_default: false,
            connected: false,
            out_conn_str: String::new(),
            dsn: String::new(),
        }
    }
}

pub struct Conn {
    pub env: Arc<Env>,
    pub diag: DiagList,
    pub log: Arc<EventLog>,
    /// The SQLite connection. Held by whoever executes SQL; SQLCancel never takes it.
    pub db: Mutex<Option<rusqlite::Connection>>,
    /// sqlite3_interrupt handle of `db` (only locked briefly; never held while executing).
    pub interrupt: Mutex<Option<rusqlite::InterruptHandle>>,
    /// Handle of the statement currently executing SQL on `db` (0 = none).
    pub executing_stmt: AtomicUsize,
    /// What the `sleep()` SQL function checks: the executing statement's cancel flag and deadline.
    pub exec_ctx: Arc<Mutex<ExecCtx>>,
    pub attrs: Mutex<ConnAttrs>,
    pub settings: Mutex<ConnSettings>,
    pub notify: Arc<Notify>,
    pub op: Mutex<Option<AsyncOp>>,
    /// Cancel flag of the outstanding async connection function (SQLCancelHandle(DBC)).
    pub op_cancel: Arc<AtomicBool>,
}

impl Conn {
    pub fn id(&self) -> usize {
        self as *const Conn as usize
    }
}

#[allow(dead_code)] // recorded for completeness (SQLDescribeParam describes the statement, not the binding)
#[derive(Clone, Copy, Debug)]
pub struct ParamBinding {
    pub io_type: i16,
    pub c_type: i16,
    pub sql_type: i16,
    pub column_size: usize,
    pub digits: i16,
    pub value: usize,
    pub buf_len: isize,
    pub ind: usize,
}

#[derive(Clone, Copy, Debug)]
pub struct ColBinding {
    pub c_type: i16,
    pub target: usize,
    pub buf_len: isize,
    pub ind: usize,
}

#[allow(dead_code)]
#[derive(Clone, Debug)]
pub struct StmtAttrs {
    pub async_enable: bool,
    pub concurrency: usize,
    pub cursor_type: usize,
    pub row_array_size: usize,
    pub query_timeout: usize,
    pub max_rows: usize,
    pub max_length: usize,
    pub noscan: usize,
    pub retrieve_data: usize,
    pub use_bookmarks: usize,
    pub cursor_scrollable: usize,
    pub cursor_sensitivity: usize,
    pub simulate_cursor: usize,
    pub metadata_id: usize,
    pub rows_fetched_ptr: usize,
    pub row_status_ptr: usize,
    pub row_bind_type: usize,
    pub paramset_size: usize,
}

impl Default for StmtAttrs {
    fn default() -> Self {
        StmtAttrs {
            async_enable: false,
            concurrency: 1,
            cursor_type: 0,
            row_array_size: 1,
            query_timeout: 0,
            max_rows: 0,
            max_length: 0,
            noscan: 0,
            retrieve_data: 1,
            use_bookmarks: 0,
            cursor_scrollable: 0,
            cursor_sensitivity: 0,
            simulate_cursor: 0,
            metadata_id: 0,
            rows_fetched_ptr: 0,
            row_status_ptr: 0,
            row_bind_type: 0,
            paramset_size: 1,
        }
    }
}

/// Piecewise SQLGetData progress on the current row.
#[derive(Clone, Copy, Debug)]
pub struct GetDataState {
    pub col: u16,
    /// Units already returned (bytes for CHAR/BINARY, UTF-16 units for WCHAR).
    pub offset: usize,
    /// The final piece has been returned: the next call gives SQL_NO_DATA.
    pub done: bool,
}

/// Data-at-execution progress (SQLParamData / SQLPutData).
#[derive(Clone, Debug)]
pub struct DaeState {
    pub sql: String,
    /// Parameter numbers still needing data, in order.
    pub pending: Vec<u16>,
    /// The parameter currently receiving SQLPutData, if any.
    pub current: Option<u16>,
    /// Collected data per parameter (`None` = SQL_NULL_DATA was put).
    pub data: BTreeMap<u16, Option<Vec<u8>>>,
}

#[derive(Default)]
pub struct StmtInner {
    pub attrs: StmtAttrs,
    pub prepared: Option<Prepared>,
    pub params: BTreeMap<u16, ParamBinding>,
    pub cols: BTreeMap<u16, ColBinding>,
    pub result: Option<ResultSet>,
    /// Current row index into `result.rows` (-1 = before the first row).
    pub cursor: isize,
    pub getdata: Option<GetDataState>,
    pub row_count: isize,
    pub dae: Option<DaeState>,
    /// The text of the last execution (SQLSetPos finds its table there).
    pub last_sql: String,
}

pub struct Stmt {
    pub conn: Arc<Conn>,
    pub diag: DiagList,
    pub inner: Mutex<StmtInner>,
    pub notify: Arc<Notify>,
    pub op: Mutex<Option<AsyncOp>>,
    /// Set by SQLCancel; checked by `sleep()`, by the async worker, and after execution.
    pub cancel: Arc<AtomicBool>,
    /// Implicit descriptor handles: ARD, APD, IRD, IPD.
    pub descs: Mutex<[usize; 4]>,
}

impl Stmt {
    pub fn id(&self) -> usize {
        self as *const Stmt as usize
    }
}

/// An implicit descriptor (only its handle value exists; no descriptor functions are exported).
#[allow(dead_code)]
pub struct Desc {
    pub stmt: usize,
    pub diag: DiagList,
}

#[derive(Clone)]
pub enum Obj {
    Env(Arc<Env>),
    Dbc(Arc<Conn>),
    Stmt(Arc<Stmt>),
    Desc(Arc<Desc>),
}

static REGISTRY: LazyLock<Mutex<HashMap<usize, Obj>>> = LazyLock::new(|| Mutex::new(HashMap::new()));

pub fn register(o: Obj) -> usize {
    let key = match &o {
        Obj::Env(a) => Arc::as_ptr(a) as usize,
        Obj::Dbc(a) => Arc::as_ptr(a) as usize,
        Obj::Stmt(a) => Arc::as_ptr(a) as usize,
        Obj::Desc(a) => Arc::as_ptr(a) as usize,
    };
    lock(&REGISTRY).insert(key, o);
    key
}

pub fn unregister(h: usize) -> Option<Obj> {
    lock(&REGISTRY).remove(&h)
}

pub fn lookup(h: *mut c_void) -> Option<Obj> {
    if h.is_null() {
        return None;
    }
    lock(&REGISTRY).get(&(h as usize)).cloned()
}

pub fn env(h: *mut c_void) -> Option<Arc<Env>> {
    match lookup(h)? {
        Obj::Env(e) => Some(e),
        _ => None,
    }
}
pub fn dbc(h: *mut c_void) -> Option<Arc<Conn>> {
    match lookup(h)? {
        Obj::Dbc(c) => Some(c),
        _ => None,
    }
}
pub fn stmt(h: *mut c_void) -> Option<Arc<Stmt>> {
    match lookup(h)? {
        Obj::Stmt(s) => Some(s),
        _ => None,
    }
}

/// The diagnostic area of any live handle (used by the panic boundary and SQLGetDiag*).
pub fn diag_of(o: &Obj) -> &DiagList {
    match o {
        Obj::Env(e) => &e.diag,
        Obj::Dbc(c) => &c.diag,
        Obj::Stmt(s) => &s.diag,
        Obj::Desc(d) => &d.diag,
    }
}

pub fn new_env() -> usize {
    register(Obj::Env(Arc::new(Env { diag: DiagList::default(), odbc_version: AtomicU32::new(3) })))
}

pub fn new_conn(env: Arc<Env>) -> usize {
    let c = Conn {
        env,
        diag: DiagList::default(),
        log: Arc::new(EventLog::default()),
        db: Mutex::new(None),
        interrupt: Mutex::new(None),
        executing_stmt: AtomicUsize::new(0),
        exec_ctx: Arc::new(Mutex::new(ExecCtx::default())),
        attrs: Mutex::new(ConnAttrs::default()),
        settings: Mutex::new(ConnSettings::default()),
        notify: Arc::new(Notify::default()),
        op: Mutex::new(None),
        op_cancel: Arc::new(AtomicBool::new(false)),
    };
    register(Obj::Dbc(Arc::new(c)))
}

pub fn new_stmt(conn: Arc<Conn>) -> usize {
    let attrs = StmtAttrs { async_enable: lock(&conn.attrs).stmt_async_default, ..Default::default() };
    let s = Arc::new(Stmt {
        conn,
        diag: DiagList::default(),
        inner: Mutex::new(StmtInner { cursor: -1, row_count: -1, attrs, ..Default::default() }),
        notify: Arc::new(Notify::default()),
        op: Mutex::new(None),
        cancel: Arc::new(AtomicBool::new(false)),
        descs: Mutex::new([0; 4]),
    });
    let id = register(Obj::Stmt(s.clone()));
    let mut d = [0usize; 4];
    for slot in d.iter_mut() {
        *slot = register(Obj::Desc(Arc::new(Desc { stmt: id, diag: DiagList::default() })));
    }
    *lock(&s.descs) = d;
    id
}

pub fn free_stmt(s: &Stmt) {
    for d in *lock(&s.descs) {
        unregister(d);
    }
    unregister(s.id());
}

/// Every live handle object (used by SQLEndTran(ENV)).
pub fn all() -> Vec<Obj> {
    lock(&REGISTRY).values().cloned().collect()
}
