//! Fuzz test of the C ABI (issue 11): random, stale, double-freed and wrong-kind handle
//! values into every exported entry point (the SQL_INVALID_HANDLE return code of §0; §2.13 for SQLCompleteAsync)
//! give SQL_INVALID_HANDLE, or SQL_ERROR where the HandleType argument itself is out of
//! range; nothing crashes. The calls run in a child process (this test binary re-executed),
//! so a crash (SIGSEGV, abort) is reported as a failure with the seed that reproduces it;
//! iterations are bounded (`CAPI_FUZZ_ROUNDS`, default 200 per entry point).
//!
//! The library is loaded with dlopen from the directory tests put first on
//! LD_LIBRARY_PATH, the way an application's loader finds it. Data pointer arguments are
//! null or point into a zeroed scratch area (the fuzz target is the handle, not buffers
//! the ODBC contract requires to be valid).

mod common;

use std::any::TypeId;
use std::collections::BTreeMap;
use std::ffi::c_void;
use std::process::Command;
use std::time::{Duration, Instant};

use odbc_dm_abi::fns::SqlSetPosIRow;
use odbc_dm_abi::*;

const CHILD_ENV: &str = "CAPI_FUZZ_CHILD";

/// xorshift64*: reproducible from the printed seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Scratch area for pointer arguments: one 4 KiB region per argument position.
const REGION: usize = 4096;
const REGIONS: usize = 24;

struct Ctx {
    rng: Rng,
    /// Handle values that name nothing: freed (stale), freed twice, and near misses.
    bad: Vec<usize>,
    /// Live handles, given only to parameters of another kind (wrong-kind handles).
    live_env: usize,
    live_dbc: usize,
    scratch: Vec<u64>,
    /// Index of the next scratch region to hand out in this call.
    next_region: usize,
    /// HandleType argument of the current call, if any.
    handle_type: Option<i16>,
    /// Where an output handle of the current call would be written.
    out_region: Option<*mut usize>,
}

impl Ctx {
    fn region(&mut self) -> *mut u8 {
        let i = self.next_region % REGIONS;
        self.next_region += 1;
        // SAFETY: i < REGIONS, so the offset stays inside `scratch`.
        unsafe { (self.scratch.as_mut_ptr() as *mut u8).add(i * REGION) }
    }

    /// A handle value for a parameter named `name`.
    fn handle(&mut self, name: &str) -> *mut c_void {
        let r = self.rng.below(10);
        let v = if r < 6 {
            self.bad[self.rng.below(self.bad.len() as u64) as usize]
        } else if r < 8 {
            self.rng.next() as usize
        } else if r < 9 {
            0
        } else {
            // A live handle of another kind than the parameter names.
            match name {
                "env" => self.live_dbc,
                "dbc" | "stmt" | "desc" | "source" => self.live_env,
                _ => self.rng.next() as usize,
            }
        };
        v as *mut c_void
    }
}

/// Produces an argument value of one parameter type.
trait Arg: Sized {
    fn make(name: &str, ctx: &mut Ctx) -> Self;
}

/// Parameter names that carry an input handle (`target` of SQLCopyDesc is a handle too,
/// but shares its name with data buffers; it gets a scratch pointer, never dereferenced
/// before `source` is validated).
fn is_handle_param(name: &str) -> bool {
    matches!(name, "env" | "dbc" | "stmt" | "desc" | "handle" | "input" | "source")
}

impl<T: 'static> Arg for *mut T {
    fn make(name: &str, ctx: &mut Ctx) -> Self {
        if TypeId::of::<T>() == TypeId::of::<c_void>() && is_handle_param(name) {
            return ctx.handle(name) as *mut T;
        }
        let p = ctx.region();
        if matches!(name, "output" | "env" | "dbc" | "stmt") {
            // The output handle of an allocation: always a valid place.
            ctx.out_region = Some(p as *mut usize);
            return p as *mut T;
        }
        if ctx.rng.below(4) == 0 {
            std::ptr::null_mut()
        } else {
            p as *mut T
        }
    }
}

impl<T: 'static> Arg for *const T {
    fn make(name: &str, ctx: &mut Ctx) -> Self {
        <*mut T as Arg>::make(name, ctx) as *const T
    }
}

/// Length and buffer-size parameters (`len`, `buf_len`, `name_max`, `length`, ...).
fn is_length_param(name: &str) -> bool {
    name.ends_with("len") || name.ends_with("max") || name == "length"
}

macro_rules! int_args {
    ($($t:ty),*) => {$(
        impl Arg for $t {
            fn make(name: &str, ctx: &mut Ctx) -> Self {
                if is_length_param(name) {
                    // Lengths stay within the scratch regions the pointers get (the ODBC
                    // contract: a length describes the buffer given); negative ones too.
                    return match ctx.rng.below(4) {
                        0 => (-3i64) as $t, // SQL_NTS
                        1 => (-(ctx.rng.below(1000) as i64)) as $t,
                        _ => ctx.rng.below((REGION / 2) as u64) as $t,
                    };
                }
                match ctx.rng.below(4) {
                    0 => 0 as $t,
                    1 => (ctx.rng.below(8) as $t),
                    2 => (-3i64) as $t, // SQL_NTS
                    _ => ctx.rng.next() as $t,
                }
            }
        }
    )*};
}
int_args!(i16, u16, i32, u32, i64, u64, isize, usize);

macro_rules! newtype_args {
    ($($t:ident($inner:ty)),*) => {$(
        impl Arg for $t {
            fn make(name: &str, ctx: &mut Ctx) -> Self {
                $t(<$inner as Arg>::make(name, ctx))
            }
        }
    )*};
}
newtype_args!(
    EnvAttr(i32),
    ConnAttr(i32),
    StmtAttr(i32),
    InfoType(u16),
    FunctionId(u16),
    DiagField(i16),
    CDataType(i16),
    SqlDataType(i16),
    FetchOrientation(i16),
    FreeStmtOption(u16),
    CompletionType(i16),
    DriverCompletion(u16),
    ParamIoType(i16),
    DescField(i16),
    SetPosOperation(u16),
    LockType(u16),
    BulkOperation(u16),
    RowIdentifier(u16),
    Nullability(i16)
);

impl Arg for HandleType {
    fn make(_: &str, ctx: &mut Ctx) -> Self {
        let v = if ctx.rng.below(5) == 0 { ctx.rng.next() as i16 } else { 1 + ctx.rng.below(4) as i16 };
        ctx.handle_type = Some(v);
        HandleType(v)
    }
}

/// One fuzzable export: its name and a caller that makes random arguments and calls it.
type Caller = Box<dyn Fn(&mut Ctx) -> SqlReturn>;

/// Builds a caller for every entry point of the ABI list, resolved in `lib` (plus the
/// unixODBC extras with the signature of the ODBC function they extend).
fn callers(lib: &'static libloading::Library) -> Vec<(&'static str, Caller)> {
    let mut v: Vec<(&'static str, Caller)> = Vec::new();
    macro_rules! collect {
        ($( $name:ident ( $( $arg:ident : $t:ty ),* $(,)? ); )*) => {$(
            // SAFETY: the symbol is our export of this name, with this C signature.
            let f: odbc_dm_abi::fns::$name = unsafe { *lib.get::<odbc_dm_abi::fns::$name>(concat!(stringify!($name), "\0").as_bytes()).expect(stringify!($name)) };
            v.push((stringify!($name), Box::new(move |ctx: &mut Ctx| {
                $( let $arg = <$t as Arg>::make(stringify!($arg), ctx); )*
                // SAFETY: every pointer argument is null or points into the scratch area;
                // handle arguments are the values under test.
                unsafe { f($( $arg ),*) }
            })));
        )*};
    }
    odbc_dm_abi::with_entry_points!(collect);
    macro_rules! extra {
        ($sym:literal as $ty:ident) => {{
            // SAFETY: unixODBC's extension, exported with the signature of `$ty`.
            let f: odbc_dm_abi::fns::$ty = unsafe { *lib.get::<odbc_dm_abi::fns::$ty>(concat!($sym, "\0").as_bytes()).expect($sym) };
            let c: Caller = Box::new(move |ctx: &mut Ctx| fuzz_extra(f, ctx));
            v.push(($sym, c));
        }};
    }
    extra!("SQLAllocHandleStd" as SQLAllocHandle);
    extra!("SQLSetConnectOptionW" as SQLSetConnectOption);
    extra!("SQLGetConnectOptionW" as SQLGetConnectOption);
    extra!("SQLSetStmtOptionW" as SQLSetStmtOption);
    extra!("SQLExecDirectA" as SQLExecDirect);
    v
}

/// Calls one of the extras by re-using the argument makers of its signature.
trait Extra {
    fn call(self, ctx: &mut Ctx) -> SqlReturn;
}
fn fuzz_extra<F: Extra>(f: F, ctx: &mut Ctx) -> SqlReturn {
    f.call(ctx)
}
macro_rules! extra_sig {
    ($($a:ident: $t:ty),*) => {
        impl Extra for unsafe extern "C" fn($($t),*) -> SqlReturn {
            fn call(self, ctx: &mut Ctx) -> SqlReturn {
                $( let $a = <$t as Arg>::make(stringify!($a), ctx); )*
                // SAFETY: as for the entry points above.
                unsafe { self($($a),*) }
            }
        }
    };
}
extra_sig!(handle_type: HandleType, input: SqlHandle, output: *mut SqlHandle);
extra_sig!(dbc: SqlHDbc, option: SqlUSmallInt, value: SqlULen);
extra_sig!(dbc: SqlHDbc, option: SqlUSmallInt, value: SqlPointer);
extra_sig!(stmt: SqlHStmt, text: *const SqlChar, len: SqlInteger);

/// Resolves a function of our library by name.
fn sym<T: Copy>(lib: &libloading::Library, name: &str) -> T {
    let n = format!("{name}\0");
    // SAFETY: the caller names the type of the export.
    unsafe { *lib.get::<T>(n.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}")) }
}

/// Allocates and frees real handles (env, dbc connected to the reference driver, stmt and
/// its implicit ARD), so their values are stale; frees each twice (the second free must be
/// SQL_INVALID_HANDLE). Returns the stale values and a live (env, dbc) pair.
fn stale_handles(lib: &libloading::Library) -> (Vec<usize>, usize, usize) {
    let alloc: odbc_dm_abi::fns::SQLAllocHandle = sym(lib, "SQLAllocHandle");
    let free: odbc_dm_abi::fns::SQLFreeHandle = sym(lib, "SQLFreeHandle");
    let set_env: odbc_dm_abi::fns::SQLSetEnvAttr = sym(lib, "SQLSetEnvAttr");
    let connect: odbc_dm_abi::fns::SQLDriverConnect = sym(lib, "SQLDriverConnect");
    let exec: odbc_dm_abi::fns::SQLExecDirect = sym(lib, "SQLExecDirect");
    let disconnect: odbc_dm_abi::fns::SQLDisconnect = sym(lib, "SQLDisconnect");
    let ok = |rc: SqlReturn, what: &str| assert!(rc.is_success(), "{what}: {rc:?}");
    let okt = |rc: SqlReturn, t: HandleType| assert!(rc.is_success(), "SQLAllocHandle({t:?}): {rc:?}");
    let h = |t: HandleType, input: SqlHandle| {
        let mut out: SqlHandle = std::ptr::null_mut();
        // SAFETY: valid output pointer; `input` is a live handle or null for ENV.
        okt(unsafe { alloc(t, input, &mut out) }, t);
        out
    };
    let env = h(HandleType::SQL_HANDLE_ENV, std::ptr::null_mut());
    // SAFETY: live env; integer attribute by value.
    ok(unsafe { set_env(env, EnvAttr::SQL_ATTR_ODBC_VERSION, 380usize as SqlPointer, 0) }, "ODBC version");
    let dbc = h(HandleType::SQL_HANDLE_DBC, env);
    let cs = b"DSN=ref-test;";
    // SAFETY: live dbc; the connection string with its length; no output buffers.
    let rc = unsafe {
        connect(
            dbc,
            std::ptr::null_mut(),
            cs.as_ptr(),
            cs.len() as i16,
            std::ptr::null_mut(),
            0,
            std::ptr::null_mut(),
            DriverCompletion::SQL_DRIVER_NOPROMPT,
        )
    };
    ok(rc, "connect to ref-test");
    let stmt = h(HandleType::SQL_HANDLE_STMT, dbc);
    // The statement's implicit ARD: stale once the statement is freed (the reference
    // driver has no explicitly allocated descriptors).
    let get_attr: odbc_dm_abi::fns::SQLGetStmtAttr = sym(lib, "SQLGetStmtAttr");
    let mut desc: SqlHandle = std::ptr::null_mut();
    // SAFETY: live stmt; a pointer-sized output.
    ok(
        unsafe { get_attr(stmt, StmtAttr::SQL_ATTR_APP_ROW_DESC, &mut desc as *mut SqlHandle as SqlPointer, 0, std::ptr::null_mut()) },
        "SQL_ATTR_APP_ROW_DESC",
    );
    let sql = b"SELECT 1";
    // SAFETY: live stmt, the text with its length.
    ok(unsafe { exec(stmt, sql.as_ptr(), sql.len() as i32) }, "SQLExecDirect");
    let mut stale = Vec::new();
    // SAFETY: live stmt, freed once (its implicit descriptors go with it).
    ok(unsafe { free(HandleType::SQL_HANDLE_STMT, stmt) }, "free stmt");
    stale.extend([stmt as usize, desc as usize]);
    // SAFETY: live dbc.
    ok(unsafe { disconnect(dbc) }, "disconnect");
    for (t, x) in [(HandleType::SQL_HANDLE_DBC, dbc), (HandleType::SQL_HANDLE_ENV, env)] {
        // SAFETY: live handle, freed once.
        ok(unsafe { free(t, x) }, "free");
        stale.push(x as usize);
    }
    for (t, x) in [
        (HandleType::SQL_HANDLE_STMT, stmt),
        (HandleType::SQL_HANDLE_DESC, desc),
        (HandleType::SQL_HANDLE_DBC, dbc),
        (HandleType::SQL_HANDLE_ENV, env),
    ] {
        // SAFETY: a stale handle value: the call under test (double free).
        let rc = unsafe { free(t, x) };
        assert_eq!(rc, SqlReturn::SQL_INVALID_HANDLE, "double free of {t:?} {x:p}");
    }
    let live_env = h(HandleType::SQL_HANDLE_ENV, std::ptr::null_mut());
    // SAFETY: live env; integer attribute by value.
    ok(unsafe { set_env(live_env, EnvAttr::SQL_ATTR_ODBC_VERSION, 3usize as SqlPointer, 0) }, "ODBC version");
    let live_dbc = h(HandleType::SQL_HANDLE_DBC, live_env);
    // Near misses of the stale values (neighbouring ids, flipped kind bits).
    let mut bad = stale.clone();
    for s in &stale {
        for d in [1usize, 2, 3, 4, 7, 8, 16, 0x100, 0x1_0000] {
            bad.push(s ^ d);
            bad.push(s.wrapping_add(d * 8));
        }
    }
    bad.extend([1, 0x10, 0xdead_beef, usize::MAX, usize::MAX - 7, 0x7fff_ffff_f000]);
    bad.retain(|v| *v != 0 && *v != live_env as usize && *v != live_dbc as usize);
    (bad, live_env as usize, live_dbc as usize)
}

/// The child: every export, `rounds` times, with random bad handles. Prints one line per
/// unexpected return code; exits 0 when there was none.
fn child(seed: u64, rounds: usize) {
    let path = common::lib_dir().join("libodbc.so.2");
    // SAFETY: loading our own library; its initialisers only read the environment.
    let lib: &'static libloading::Library = Box::leak(Box::new(unsafe { libloading::Library::new(&path) }.expect("dlopen libodbc.so.2")));
    let free: odbc_dm_abi::fns::SQLFreeHandle = sym(lib, "SQLFreeHandle");
    let (bad, live_env, live_dbc) = stale_handles(lib);
    let mut ctx = Ctx {
        rng: Rng(seed | 1),
        bad,
        live_env,
        live_dbc,
        scratch: vec![0u64; REGION * REGIONS / 8],
        next_region: 0,
        handle_type: None,
        out_region: None,
    };
    let callers = callers(lib);
    let mut unexpected: BTreeMap<String, usize> = BTreeMap::new();
    let mut calls = 0usize;
    for _ in 0..rounds {
        for (name, call) in &callers {
            ctx.scratch.iter_mut().for_each(|w| *w = 0);
            ctx.next_region = 0;
            ctx.handle_type = None;
            ctx.out_region = None;
            let rc = call(&mut ctx);
            calls += 1;
            let allocates_env =
                matches!(*name, "SQLAllocEnv") || (matches!(*name, "SQLAllocHandle" | "SQLAllocHandleStd") && ctx.handle_type == Some(1));
            if allocates_env {
                if rc.is_success() {
                    // SAFETY: the allocation wrote a live env handle into the out region.
                    let env = unsafe { *ctx.out_region.expect("output region") };
                    // SAFETY: the env just allocated, freed once.
                    assert!(unsafe { free(HandleType::SQL_HANDLE_ENV, env as SqlHandle) }.is_success());
                }
                continue;
            }
            let bad_type = ctx.handle_type.is_some_and(|t| !(1..=4).contains(&t));
            let expected = rc == SqlReturn::SQL_INVALID_HANDLE || (bad_type && rc == SqlReturn::SQL_ERROR);
            if !expected {
                *unexpected.entry(format!("{name} -> {rc:?} (HandleType {:?})", ctx.handle_type)).or_default() += 1;
            }
        }
    }
    for (what, n) in &unexpected {
        println!("UNEXPECTED {what} ×{n}");
    }
    println!("CALLS {calls} over {} entry points", callers.len());
    std::process::exit(if unexpected.is_empty() { 0 } else { 3 });
}

/// §0, §2.13 (invalid handles): the entry point of the child process; does nothing unless
/// started by `every_export_survives_bad_handles`.
#[test]
fn fuzz_child() {
    if let Ok(seed) = std::env::var(CHILD_ENV) {
        let rounds = std::env::var("CAPI_FUZZ_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(200);
        child(seed.parse().unwrap(), rounds);
    }
}

/// §0, §2.13: random, stale, double-freed and wrong-kind handle values into every export of
/// libodbc.so.2 give SQL_INVALID_HANDLE (or SQL_ERROR for an out-of-range HandleType);
/// the child process does not crash.
#[test]
fn every_export_survives_bad_handles() {
    let seed = std::env::var("CAPI_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64);
    let exe = std::env::current_exe().unwrap();
    let dir = common::scratch("fuzz");
    // Twice: without tracing (the fast paths), and with ODBC_DM_TRACE on, whose entry
    // traces format the arguments before the handle is checked.
    for (trace, rounds, min_calls) in [(None, "200", 150 * 100), (Some(dir.join("trace.log")), "20", 100 * 20)] {
        let mut cmd: Command = common::command(&exe);
        cmd.args(["--exact", "fuzz_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, seed.to_string())
            .env("CAPI_FUZZ_ROUNDS", rounds);
        if let Some(t) = &trace {
            cmd.env("ODBC_DM_TRACE", t);
        }
        let started = Instant::now();
        let out = cmd.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let report = format!("seed {seed} (rerun with CAPI_FUZZ_SEED={seed}), trace {trace:?}, status {}:\n{stdout}\n{stderr}", out.status);
        assert!(out.status.success(), "C ABI fuzz child failed or crashed: {report}");
        let calls: usize = stdout
            .lines()
            .find_map(|l| l.split_once("CALLS ").and_then(|(_, r)| r.split_whitespace().next()).and_then(|n| n.parse().ok()))
            .unwrap_or_else(|| panic!("the child did not run: {report}"));
        assert!(calls >= min_calls, "too few calls ({calls}): {report}");
        assert!(started.elapsed() < Duration::from_secs(120), "no hang: {report}");
        if let Some(t) = &trace {
            let traced = std::fs::read_to_string(t).unwrap();
            assert!(traced.contains("Exit  SQLExecDirect -> SQL_INVALID_HANDLE"), "tracing was not on: {report}");
        }
        eprintln!("C ABI fuzz: {calls} calls, seed {seed}, trace {}, {:?}", trace.is_some(), started.elapsed());
    }
    let _ = std::fs::remove_dir_all(&dir);
}
