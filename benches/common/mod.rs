//! Shared code of `benches/forwarding.rs` and `examples/scan_callgrind.rs`: one table of
//! ODBC function pointers per way of reaching libsqlite3odbc, and ONE loop that drives any
//! of them, so the three ways run literally the same code:
//!
//! - `dm`: odbc-dm's raw layer (`odbc_dm::raw::SQL*`), which loads the driver itself, at
//!   its default `Threading` level for libsqlite3odbc (3: every call serialized, the
//!   driver is not thread-safe; docs/decisions.md #28);
//! - `dm-threading0`: the same with `Threading=0` in the connection string: what the DM
//!   adds for a thread-safe driver (no serializing trampoline);
//! - `direct`: libsqlite3odbc's own entry points, no driver manager (the floor);
//! - `unixodbc`: unixODBC's `libodbc.so.2`, which loads the driver from `DRIVER=/path`;
//! - `capi`: odbc-dm's own drop-in `libodbc.so.2` (the C ABI build of `capi/`), dlopened
//!   like unixODBC's: `$ODBC_DM_CAPI_LIB`, by default
//!   `target/release/odbc-dm-lib/libodbc.so.2` (made by `capi/scripts/make-libdir.sh
//!   --release`). Left out of [`Way::selected`] when the file does not exist.
//!
//! `ODBC_DM_BENCH_WAYS=direct,dm,...` (comma-separated names) chooses the ways of a bench
//! run ([`Way::selected`]); by default every available one.
//!
//! Every entry point is called through a pointer of the `odbc_dm::abi::fns` type, so the
//! call itself (one indirect call) costs the same each way.
#![allow(dead_code)]

use std::ffi::c_void;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::ptr::null_mut;

use libloading::Library;
use odbc_dm::abi::fns;
use odbc_dm::abi::*;

/// The SQLite ODBC driver (Debian package libsqliteodbc).
pub const SQLITE_DRIVER: &str = "/usr/lib/x86_64-linux-gnu/odbc/libsqlite3odbc.so";
/// unixODBC's driver manager (Debian package libodbc2, pulled in by unixodbc).
pub const UNIXODBC: &str = "/usr/lib/x86_64-linux-gnu/libodbc.so.2";
/// odbc-dm's drop-in `libodbc.so.2` for the `capi` way: `$ODBC_DM_CAPI_LIB`, else the
/// release build's library directory (`capi/scripts/make-libdir.sh --release`).
pub fn capi_lib() -> String {
    std::env::var("ODBC_DM_CAPI_LIB")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/odbc-dm-lib/libodbc.so.2").to_string())
}

/// Rows in the benchmark table.
pub const TABLE_ROWS: u64 = 1_000_000;
/// The query of the scan.
pub const SCAN_SQL: &str = "SELECT id, name, val FROM t";

/// How the application reaches the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Way {
    Dm,
    DmThreading0,
    Direct,
    UnixOdbc,
    Capi,
}

impl Way {
    pub const ALL: [Way; 5] = [Way::Direct, Way::Dm, Way::DmThreading0, Way::Capi, Way::UnixOdbc];

    /// The ways of this run: `ODBC_DM_BENCH_WAYS` (comma-separated names; an unknown name
    /// panics), else every way whose library exists (see the module documentation).
    pub fn selected() -> Vec<Way> {
        match std::env::var("ODBC_DM_BENCH_WAYS") {
            Ok(list) if !list.trim().is_empty() => {
                list.split(',').map(|n| Way::parse(n.trim()).unwrap_or_else(|| panic!("ODBC_DM_BENCH_WAYS: unknown way {n:?}"))).collect()
            }
            _ => Way::ALL
                .into_iter()
                .filter(|w| {
                    let ok = *w != Way::Capi || Path::new(&capi_lib()).exists();
                    if !ok {
                        eprintln!("way capi left out: {} does not exist (capi/scripts/make-libdir.sh --release)", capi_lib());
                    }
                    ok
                })
                .collect(),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Way::Dm => "dm",
            Way::DmThreading0 => "dm-threading0",
            Way::Direct => "direct",
            Way::UnixOdbc => "unixodbc",
            Way::Capi => "capi",
        }
    }

    pub fn parse(s: &str) -> Option<Way> {
        Way::ALL.into_iter().find(|w| w.name() == s)
    }
}

/// The entry points the benchmark uses, as C function pointers.
pub struct Api {
    pub way: Way,
    pub alloc_handle: fns::SQLAllocHandle,
    pub free_handle: fns::SQLFreeHandle,
    pub set_env_attr: fns::SQLSetEnvAttr,
    pub driver_connect: fns::SQLDriverConnect,
    pub disconnect: fns::SQLDisconnect,
    pub exec_direct: fns::SQLExecDirect,
    pub fetch: fns::SQLFetch,
    pub get_data: fns::SQLGetData,
    pub free_stmt: fns::SQLFreeStmt,
    pub get_info: fns::SQLGetInfo,
    pub get_diag_rec: fns::SQLGetDiagRec,
    /// Keeps the loaded library (direct / unixODBC) alive as long as the pointers.
    _lib: Option<Library>,
}

/// Looks `name` up in `lib` as a pointer of type `T` (an `abi::fns` type).
unsafe fn sym<T: Copy>(lib: &Library, name: &str) -> T {
    // SAFETY: the caller names an ODBC entry point whose C prototype is `T`.
    match unsafe { lib.get::<T>(name.as_bytes()) } {
        Ok(s) => *s,
        Err(e) => panic!("{name} not found: {e}"),
    }
}

impl Api {
    /// The function table of one way (loads the library for `direct` and `unixodbc`).
    pub fn load(way: Way) -> Api {
        match way {
            Way::Dm | Way::DmThreading0 => Api {
                way,
                alloc_handle: odbc_dm::raw::SQLAllocHandle,
                free_handle: odbc_dm::raw::SQLFreeHandle,
                set_env_attr: odbc_dm::raw::SQLSetEnvAttr,
                driver_connect: odbc_dm::raw::SQLDriverConnect,
                disconnect: odbc_dm::raw::SQLDisconnect,
                exec_direct: odbc_dm::raw::SQLExecDirect,
                fetch: odbc_dm::raw::SQLFetch,
                get_data: odbc_dm::raw::SQLGetData,
                free_stmt: odbc_dm::raw::SQLFreeStmt,
                get_info: odbc_dm::raw::SQLGetInfo,
                get_diag_rec: odbc_dm::raw::SQLGetDiagRec,
                _lib: None,
            },
            Way::Direct | Way::UnixOdbc | Way::Capi => {
                let path = match way {
                    Way::Direct => SQLITE_DRIVER.to_string(),
                    Way::UnixOdbc => UNIXODBC.to_string(),
                    _ => capi_lib(),
                };
                let path = path.as_str();
                // SAFETY: an ODBC driver / driver manager library; its initialisers are
                // meant to run on dlopen. libloading opens with RTLD_LAZY | RTLD_LOCAL.
                let lib = unsafe { Library::new(path) }.unwrap_or_else(|e| panic!("cannot load {path}: {e}"));
                // SAFETY (all `sym` calls): each name is the ODBC entry point whose
                // prototype is the `fns` type it is read as.
                unsafe {
                    Api {
                        way,
                        alloc_handle: sym(&lib, "SQLAllocHandle"),
                        free_handle: sym(&lib, "SQLFreeHandle"),
                        set_env_attr: sym(&lib, "SQLSetEnvAttr"),
                        driver_connect: sym(&lib, "SQLDriverConnect"),
                        disconnect: sym(&lib, "SQLDisconnect"),
                        exec_direct: sym(&lib, "SQLExecDirect"),
                        fetch: sym(&lib, "SQLFetch"),
                        get_data: sym(&lib, "SQLGetData"),
                        free_stmt: sym(&lib, "SQLFreeStmt"),
                        get_info: sym(&lib, "SQLGetInfo"),
                        get_diag_rec: sym(&lib, "SQLGetDiagRec"),
                        _lib: Some(lib),
                    }
                }
            }
        }
    }

    /// First diagnostic record of a handle, for error messages.
    pub fn diag(&self, ht: HandleType, h: SqlHandle) -> String {
        let mut state = [0u8; 6];
        let mut native = 0i32;
        let mut msg = [0u8; 1024];
        let mut len = 0i16;
        // SAFETY: valid out buffers of the sizes passed.
        let rc = unsafe { (self.get_diag_rec)(ht, h, 1, state.as_mut_ptr(), &mut native, msg.as_mut_ptr(), msg.len() as i16, &mut len) };
        if !rc.is_success() {
            return format!("(no diagnostic: {rc:?})");
        }
        let n = msg.iter().position(|&b| b == 0).unwrap_or(msg.len());
        format!("{} {}", String::from_utf8_lossy(&state[..5]), String::from_utf8_lossy(&msg[..n]))
    }

    fn check(&self, what: &str, rc: SqlReturn, ht: HandleType, h: SqlHandle) {
        if !rc.is_success() {
            panic!("[{}] {what} failed: {rc:?}: {}", self.way.name(), self.diag(ht, h));
        }
    }
}

/// An open connection (environment + connection handle) through one `Api`.
pub struct Conn<'a> {
    pub api: &'a Api,
    pub env: SqlHEnv,
    pub dbc: SqlHDbc,
}

impl<'a> Conn<'a> {
    /// Connects to the SQLite database `db` with `DRIVER=<path>;Database=<db>;StepAPI=1`.
    /// For `direct` the driver ignores `DRIVER=`; for `dm` and `unixodbc` it is how the
    /// driver is found (no odbcinst.ini entry needed).
    pub fn open(api: &'a Api, db: &Path) -> Conn<'a> {
        let mut env: SqlHEnv = null_mut();
        let mut dbc: SqlHDbc = null_mut();
        // SAFETY: valid out pointers; handles are used only with the API that made them.
        unsafe {
            let rc = (api.alloc_handle)(HandleType::SQL_HANDLE_ENV, null_mut(), &mut env);
            assert!(rc.is_success(), "[{}] SQLAllocHandle(ENV) failed: {rc:?}", api.way.name());
            let rc = (api.set_env_attr)(env, EnvAttr::SQL_ATTR_ODBC_VERSION, SQL_OV_ODBC3 as usize as SqlPointer, 0);
            api.check("SQLSetEnvAttr(ODBC_VERSION)", rc, HandleType::SQL_HANDLE_ENV, env);
            let rc = (api.alloc_handle)(HandleType::SQL_HANDLE_DBC, env, &mut dbc);
            api.check("SQLAllocHandle(DBC)", rc, HandleType::SQL_HANDLE_ENV, env);
            let threading = if api.way == Way::DmThreading0 { ";Threading=0" } else { "" };
            let cs = format!("DRIVER={SQLITE_DRIVER};Database={};StepAPI=1{threading}", db.display());
            let mut out = [0u8; 1024];
            let mut out_len = 0i16;
            let rc = (api.driver_connect)(
                dbc,
                null_mut(),
                cs.as_ptr(),
                cs.len() as i16,
                out.as_mut_ptr(),
                out.len() as i16,
                &mut out_len,
                DriverCompletion::SQL_DRIVER_NOPROMPT,
            );
            api.check(&format!("SQLDriverConnect({cs})"), rc, HandleType::SQL_HANDLE_DBC, dbc);
        }
        Conn { api, env, dbc }
    }

    /// Allocates a statement and executes `sql` on it.
    pub fn exec(&self, sql: &str) -> SqlHStmt {
        let api = self.api;
        let mut stmt: SqlHStmt = null_mut();
        // SAFETY: live connection; valid out pointer; `sql` outlives the call.
        unsafe {
            let rc = (api.alloc_handle)(HandleType::SQL_HANDLE_STMT, self.dbc, &mut stmt);
            api.check("SQLAllocHandle(STMT)", rc, HandleType::SQL_HANDLE_DBC, self.dbc);
            let rc = (api.exec_direct)(stmt, sql.as_ptr(), sql.len() as i32);
            api.check(&format!("SQLExecDirect({sql})"), rc, HandleType::SQL_HANDLE_STMT, stmt);
        }
        stmt
    }

    /// Frees a statement from [`Conn::exec`].
    pub fn free(&self, stmt: SqlHStmt) {
        // SAFETY: a live statement of this connection.
        let rc = unsafe { (self.api.free_handle)(HandleType::SQL_HANDLE_STMT, stmt) };
        assert!(rc.is_success(), "[{}] SQLFreeHandle(STMT) failed: {rc:?}", self.api.way.name());
    }

    /// Executes a statement that returns no rows.
    pub fn run(&self, sql: &str) {
        let s = self.exec(sql);
        self.free(s);
    }

    /// A full scan of `sql` (3 columns) with [`fetch_loop`]: allocate, execute, fetch every
    /// row, free.
    pub fn scan(&self, sql: &str) -> ScanSum {
        let stmt = self.exec(sql);
        let sum = fetch_loop(self.api, stmt, u64::MAX);
        self.free(stmt);
        sum
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        // SAFETY: handles made by this API; freed once, connection first.
        unsafe {
            (self.api.disconnect)(self.dbc);
            (self.api.free_handle)(HandleType::SQL_HANDLE_DBC, self.dbc);
            (self.api.free_handle)(HandleType::SQL_HANDLE_ENV, self.env);
        }
    }
}

/// What a scan read: enough to check that every way read the same data.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ScanSum {
    pub rows: u64,
    pub id_sum: i64,
    pub name_bytes: i64,
    pub val_sum: f64,
}

/// THE row loop: SQLFetch, then SQLGetData for column 1 (SQL_C_SLONG), 2 (SQL_C_CHAR into a
/// 64-byte buffer) and 3 (SQL_C_DOUBLE), until SQL_NO_DATA or `max_rows` rows.
///
/// Not inlined, so `valgrind --toggle-collect='*fetch_loop*'` measures exactly this loop.
#[inline(never)]
pub fn fetch_loop(api: &Api, stmt: SqlHStmt, max_rows: u64) -> ScanSum {
    let fetch = api.fetch;
    let get_data = api.get_data;
    let mut sum = ScanSum::default();
    let mut id: i32 = 0;
    let mut name = [0u8; 64];
    let mut val: f64 = 0.0;
    let (mut ind1, mut ind2, mut ind3): (SqlLen, SqlLen, SqlLen) = (0, 0, 0);
    while sum.rows < max_rows {
        // SAFETY: `stmt` is a live statement with an open 3-column result set of `api`;
        // every target buffer is valid for the length passed.
        unsafe {
            let rc = fetch(stmt);
            if rc == SqlReturn::SQL_NO_DATA {
                break;
            }
            if !rc.is_success() {
                panic!("[{}] SQLFetch failed: {rc:?}: {}", api.way.name(), api.diag(HandleType::SQL_HANDLE_STMT, stmt));
            }
            let r1 = get_data(stmt, 1, CDataType::SQL_C_SLONG, (&mut id as *mut i32).cast::<c_void>(), 4, &mut ind1);
            let r2 = get_data(stmt, 2, CDataType::SQL_C_CHAR, name.as_mut_ptr().cast::<c_void>(), name.len() as SqlLen, &mut ind2);
            let r3 = get_data(stmt, 3, CDataType::SQL_C_DOUBLE, (&mut val as *mut f64).cast::<c_void>(), 8, &mut ind3);
            if !(r1.is_success() && r2.is_success() && r3.is_success()) {
                panic!("[{}] SQLGetData failed: {r1:?} {r2:?} {r3:?}: {}", api.way.name(), api.diag(HandleType::SQL_HANDLE_STMT, stmt));
            }
        }
        sum.rows += 1;
        sum.id_sum += black_box(id) as i64;
        sum.name_bytes += black_box(ind2) as i64;
        sum.val_sum += black_box(val);
    }
    sum
}

/// The two-statement interleaved scan: `a` and `b` are two statements of one connection,
/// each with the 3-column result set of [`fetch_loop`]; rows are fetched alternately (one
/// row of `a` — SQLFetch + 3 SQLGetData — then one of `b`), `rows` rows in all (`rows / 2`
/// from each), as an application with two open cursors or a nested query does. Returns the
/// sums of each statement.
///
/// Not inlined, so `valgrind --toggle-collect='*interleaved_loop*'` measures exactly this
/// loop.
#[inline(never)]
pub fn interleaved_loop(api: &Api, a: SqlHStmt, b: SqlHStmt, rows: u64) -> (ScanSum, ScanSum) {
    let mut sums = (ScanSum::default(), ScanSum::default());
    for i in 0..rows {
        let (stmt, sum) = if i % 2 == 0 { (a, &mut sums.0) } else { (b, &mut sums.1) };
        // One row of this statement: the body of `fetch_loop`.
        let one = fetch_loop(api, stmt, 1);
        if one.rows == 0 {
            break;
        }
        sum.rows += 1;
        sum.id_sum += one.id_sum;
        sum.name_bytes += one.name_bytes;
        sum.val_sum += one.val_sum;
    }
    sums
}

/// `n` calls of SQLGetInfo(SQL_DRIVER_NAME) into a 64-byte buffer; returns the total of the
/// reported lengths.
///
/// Not inlined, so `valgrind --toggle-collect='*getinfo_loop*'` measures exactly this loop.
#[inline(never)]
pub fn getinfo_loop(api: &Api, dbc: SqlHDbc, n: u64) -> i64 {
    let get_info = api.get_info;
    let mut buf = [0u8; 64];
    let mut len: i16 = 0;
    let mut total = 0i64;
    for _ in 0..n {
        // SAFETY: live connection of `api`; valid buffer and length pointer.
        let rc = unsafe { get_info(dbc, InfoType::SQL_DRIVER_NAME, buf.as_mut_ptr().cast::<c_void>(), buf.len() as i16, &mut len) };
        if !rc.is_success() {
            panic!("[{}] SQLGetInfo(SQL_DRIVER_NAME) failed: {rc:?}: {}", api.way.name(), api.diag(HandleType::SQL_HANDLE_DBC, dbc));
        }
        total += black_box(len) as i64;
    }
    total
}

/// Directory of generated benchmark data (`<workspace>/target/bench-data/`).
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("bench-data")
}

/// The benchmark database: `t(id INTEGER, name TEXT, val REAL)` with `rows` rows, `name`
/// 20 characters. Created once (through the SQLite ODBC driver, called directly, in one
/// INSERT…SELECT statement = one transaction) and reused when present.
pub fn ensure_db(rows: u64) -> PathBuf {
    let dir = data_dir();
    let path = dir.join(format!("scan-{rows}.sqlite"));
    if path.exists() {
        return path;
    }
    std::fs::create_dir_all(&dir).expect("create target/bench-data");
    let tmp = dir.join(format!("scan-{rows}.sqlite.tmp{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    eprintln!("creating {} ({rows} rows)...", path.display());
    {
        let api = Api::load(Way::Direct);
        let conn = Conn::open(&api, &tmp);
        conn.run("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, val REAL NOT NULL)");
        conn.run(&format!(
            "INSERT INTO t (id, name, val) \
             WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {rows}) \
             SELECT x, printf('name-%015d', x), x * 0.25 FROM c"
        ));
        let s = conn.exec("SELECT COUNT(*), MIN(LENGTH(name)), MAX(LENGTH(name)) FROM t");
        let mut v = [0i32; 3];
        // SAFETY: a live statement with a one-row, three-integer result.
        unsafe {
            assert!((api.fetch)(s).is_success());
            for (i, x) in v.iter_mut().enumerate() {
                let mut ind: SqlLen = 0;
                let rc = (api.get_data)(s, i as u16 + 1, CDataType::SQL_C_SLONG, (x as *mut i32).cast(), 4, &mut ind);
                assert!(rc.is_success());
            }
        }
        conn.free(s);
        assert_eq!(v, [rows as i32, 20, 20], "unexpected table contents");
    }
    std::fs::rename(&tmp, &path).expect("rename the database into place");
    path
}

/// The sums a scan of the first `rows` rows must produce.
pub fn expected_sum(rows: u64) -> ScanSum {
    let n = rows as i64;
    ScanSum { rows, id_sum: n * (n + 1) / 2, name_bytes: 20 * n, val_sum: (n * (n + 1) / 2) as f64 * 0.25 }
}

/// The reference driver (`drivers-under-test/refdriver`) for benchmarks: the release build
/// `target/release/libodbc_refdriver.so` (`cargo build --release -p odbc-refdriver`, or
/// `PROFILE=release bash drivers-under-test/setup.sh`); falls back to the debug build with
/// a warning on stderr (a debug driver distorts every figure). `None` if neither exists.
pub fn refdriver_for_bench() -> Option<PathBuf> {
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    let release = target.join("release").join("libodbc_refdriver.so");
    if release.exists() {
        return Some(release);
    }
    let debug = target.join("debug").join("libodbc_refdriver.so");
    if debug.exists() {
        eprintln!(
            "WARNING: using the DEBUG reference driver {}; build the release one first: cargo build --release -p odbc-refdriver",
            debug.display()
        );
        return Some(debug);
    }
    None
}

/// Points ODBCSYSINI/ODBCINI at the private configuration `target/odbc-test` written by
/// `drivers-under-test/setup.sh`, when present (drivers given by path need none).
pub fn use_test_odbc_config() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("odbc-test");
    if dir.join("odbcinst.ini").exists() {
        std::env::set_var("ODBCSYSINI", &dir);
        std::env::set_var("ODBCINI", dir.join("odbc.ini"));
    }
}
