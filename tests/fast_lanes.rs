//! The fast lanes (SQLFetch, SQLGetData, SQLGetInfo(W)) against the full path: the same
//! random call sequences run with the lanes on and with the lanes off
//! (`handles::set_fast_lanes`, the switch `ODBC_DM_FAST_LANES=0` sets) must give the same
//! return codes, output data, statement states and diagnostic areas, on the reference
//! driver and on Debian's SQLite driver; and a per-handle counter proves the lane ran
//! (docs/decisions.md #68).
//!
//! Rules: §3.1 (a handle's calls are serialized; a freed handle is invalid), §4.5 (statement
//! states of SQLFetch / SQLGetData), §4.1 (DM-detected errors), §3.3 (each call replaces its
//! handle's diagnostics).

use std::ptr::null_mut;
use std::sync::Mutex;

use odbc_dm::abi::*;
use odbc_dm::internals::handles;
use odbc_dm::raw::*;
use proptest::prelude::*;

mod common;
use common::rawh::{self, H};

/// The lane switch is process-wide: the tests of this binary take turns.
static SWITCH: Mutex<()> = Mutex::new(());

#[derive(Clone, Copy, Debug)]
enum Op {
    Exec(usize, usize),
    Fetch(usize),
    GetData { s: usize, col: u16, ctype: u8, buf: i8 },
    Close(usize),
    CloseCursor(usize),
    GetInfo { info: u8, wide: bool, buf: i8 },
    Free(usize),
    Alloc(usize),
}

const QUERIES: [&str; 3] = ["SELECT a, b FROM t ORDER BY a", "SELECT a FROM t WHERE a > 100", "SELECT nosuchcol FROM t"];

fn op() -> impl Strategy<Value = Op> {
    let s = 0usize..2;
    // Weighted towards what the lanes serve (a cursor in S6, clean), with enough of
    // everything else (errors, truncation, closing, freeing) to leave and re-enter them.
    let query = prop::sample::select(vec![0usize, 0, 0, 0, 1, 2]);
    let col = prop::sample::select(vec![0u16, 1, 1, 2, 2, 3]);
    let buf = prop::sample::select(vec![-1i8, 0, 3, 64, 64, 64]);
    prop_oneof![
        3 => (s.clone(), query).prop_map(|(s, q)| Op::Exec(s, q)),
        8 => s.clone().prop_map(Op::Fetch),
        8 => (s.clone(), col, 0u8..3, buf).prop_map(|(s, col, ctype, buf)| Op::GetData { s, col, ctype, buf }),
        1 => s.clone().prop_map(Op::Close),
        1 => s.clone().prop_map(Op::CloseCursor),
        4 => (0u8..4, any::<bool>(), prop::sample::select(vec![-1i8, 0, 4, 100, 100])).prop_map(|(info, wide, buf)| Op::GetInfo { info, wide, buf }),
        1 => s.clone().prop_map(Op::Free),
        1 => s.prop_map(Op::Alloc),
    ]
}

/// What one call left behind.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    rc: SqlReturn,
    /// Output bytes and length/indicator.
    out: Vec<u8>,
    len: i64,
    /// The statement's state (None: no live statement).
    state: Option<String>,
    /// The diagnostic area of the handle called.
    diags: Vec<rawh::Rec>,
}

/// The statement's state, read without withdrawing its fast-lane summary.
fn state_of(h: H) -> Option<String> {
    handles::stmt(h).map(|s| s.gate.observe(|c| format!("{:?}", c.status.state)))
}

/// The handle's diagnostic area: after plain SQL_SUCCESS the DM's own area, read without
/// withdrawing the summary (it must be empty on both paths, and reading it through
/// SQLGetDiagRec would keep every next call off the lane); otherwise every record through
/// SQLGetDiagRec (the driver's included).
fn diags_of(rc: SqlReturn, ht: HandleType, h: H) -> Vec<rawh::Rec> {
    if rc == SqlReturn::SQL_SUCCESS {
        let area = match ht {
            HandleType::SQL_HANDLE_STMT => handles::stmt(h).map(|s| s.gate.observe(|c| format!("{:?}", c.diag))),
            _ => handles::dbc(h).map(|d| d.gate.observe(|c| format!("{:?}", c.diag))),
        };
        return vec![rawh::Rec { state: "peek".into(), native: 0, message: area.unwrap_or_default() }];
    }
    rawh::diag_recs(ht, h)
}

fn lane_calls(h: H) -> u64 {
    handles::stmt(h).map_or(0, |s| s.lane_calls.load(std::sync::atomic::Ordering::Relaxed))
}

fn dbc_lane_calls(h: H) -> u64 {
    handles::dbc(h).map_or(0, |d| d.lane_calls.load(std::sync::atomic::Ordering::Relaxed))
}

/// Runs `ops` on a fresh connection; returns every call's outcome and the number of lane
/// calls counted.
fn run(cs: &str, ops: &[Op]) -> (Vec<Outcome>, u64) {
    let (env, dbc) = rawh::connect(cs);
    rawh::exec_on(dbc, "DROP TABLE IF EXISTS t");
    rawh::exec_on(dbc, "CREATE TABLE t (a INTEGER, b VARCHAR(20))");
    rawh::exec_on(dbc, "INSERT INTO t VALUES (1, 'one'), (2, 'a longer text'), (3, NULL), (4, 'four'), (5, '')");
    let mut stmts: [H; 2] = [rawh::stmt(dbc), rawh::stmt(dbc)];
    let mut live = [true, true];
    let mut lanes = 0u64;
    let mut outs = Vec::new();
    for &o in ops {
        let mut out = vec![0u8; 128];
        let mut len: SqlLen = -7;
        let mut len16: SqlSmallInt = -7;
        let (rc, ht, h) = match o {
            Op::Exec(s, q) => (rawh::exec_rc(stmts[s], QUERIES[q]), HandleType::SQL_HANDLE_STMT, stmts[s]),
            // SAFETY (all calls below): live or stale handles (a stale one is rejected by the
            // DM); buffers of at least the lengths passed.
            Op::Fetch(s) => (unsafe { SQLFetch(stmts[s]) }, HandleType::SQL_HANDLE_STMT, stmts[s]),
            Op::GetData { s, col, ctype, buf } => {
                let t = [CDataType::SQL_C_SLONG, CDataType::SQL_C_CHAR, CDataType::SQL_C_WCHAR][ctype as usize];
                let rc = unsafe { SQLGetData(stmts[s], col, t, out.as_mut_ptr().cast(), buf as SqlLen, &mut len) };
                (rc, HandleType::SQL_HANDLE_STMT, stmts[s])
            }
            Op::Close(s) => (unsafe { SQLFreeStmt(stmts[s], FreeStmtOption::SQL_CLOSE) }, HandleType::SQL_HANDLE_STMT, stmts[s]),
            Op::CloseCursor(s) => (unsafe { SQLCloseCursor(stmts[s]) }, HandleType::SQL_HANDLE_STMT, stmts[s]),
            Op::GetInfo { info, wide, buf } => {
                let it = [InfoType::SQL_DBMS_NAME, InfoType::SQL_MAX_COLUMN_NAME_LEN, InfoType::SQL_DATA_SOURCE_READ_ONLY, InfoType(9999)]
                    [info as usize];
                let p = out.as_mut_ptr().cast();
                let rc = unsafe {
                    if wide {
                        SQLGetInfoW(dbc, it, p, buf as SqlSmallInt, &mut len16)
                    } else {
                        SQLGetInfo(dbc, it, p, buf as SqlSmallInt, &mut len16)
                    }
                };
                len = len16 as SqlLen;
                (rc, HandleType::SQL_HANDLE_DBC, dbc)
            }
            Op::Free(s) => {
                lanes += lane_calls(stmts[s]);
                let rc = unsafe { SQLFreeHandle(HandleType::SQL_HANDLE_STMT, stmts[s]) };
                if rc == SqlReturn::SQL_SUCCESS {
                    live[s] = false;
                }
                (rc, HandleType::SQL_HANDLE_STMT, stmts[s])
            }
            Op::Alloc(s) => {
                if !live[s] {
                    stmts[s] = rawh::stmt(dbc);
                    live[s] = true;
                }
                (SqlReturn::SQL_SUCCESS, HandleType::SQL_HANDLE_STMT, stmts[s])
            }
        };
        let n = if rc.is_success() { (len.clamp(0, 64) as usize).min(out.len()) } else { 0 };
        outs.push(Outcome {
            rc,
            out: out[..n].to_vec(),
            len: if rc.is_success() { len as i64 } else { 0 },
            state: if ht == HandleType::SQL_HANDLE_STMT { state_of(h) } else { None },
            diags: diags_of(rc, ht, h),
        });
    }
    for (s, l) in stmts.iter().zip(live) {
        if l {
            lanes += lane_calls(*s);
            rawh::free_stmt(*s);
        }
    }
    lanes += dbc_lane_calls(dbc);
    rawh::disconnect(env, dbc);
    (outs, lanes)
}

/// Runs `ops` with the lanes on and off and compares; returns the lane calls counted with
/// the lanes on.
fn differential(cs: &str, ops: &[Op]) -> Result<u64, TestCaseError> {
    let _g = SWITCH.lock().unwrap_or_else(|p| p.into_inner());
    handles::set_fast_lanes(true);
    let (on, lanes_on) = run(cs, ops);
    handles::set_fast_lanes(false);
    let (off, lanes_off) = run(cs, ops);
    handles::set_fast_lanes(true);
    prop_assert_eq!(lanes_off, 0, "lanes off: no lane may run");
    for (i, (a, b)) in on.iter().zip(&off).enumerate() {
        prop_assert_eq!(a, b, "call {} ({:?}) of {:?}", i, ops[i], ops);
    }
    Ok(lanes_on)
}

fn sqlite_cs() -> String {
    common::init();
    common::sqlite_conn_str(&common::temp_db("fast_lanes"))
}

fn ref_cs() -> String {
    common::init();
    common::refdriver_conn_str("")
}

/// Proptest runs, with the total of lane calls over all cases.
fn prop_differential(cs: String) {
    let total = std::cell::Cell::new(0u64);
    let mut runner =
        proptest::test_runner::TestRunner::new(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() });
    let seq = prop::collection::vec(op(), 1..60);
    runner
        .run(&seq, |ops| {
            let n = differential(&cs, &ops)?;
            total.set(total.get() + n);
            Ok(())
        })
        .unwrap();
    eprintln!("lane calls: {}", total.get());
    assert!(total.get() > 0, "the lanes never ran: the differential compared the slow path with itself");
}

#[test]
fn lanes_on_and_off_agree_on_the_reference_driver_s3_1_s4_5() {
    prop_differential(ref_cs());
}

#[test]
fn lanes_on_and_off_agree_on_sqlite_s3_1_s4_5() {
    prop_differential(sqlite_cs());
}

/// A fixed sequence that certainly takes each lane: exact lane counts.
fn lanes_run_and_are_counted(cs: &str, wide: bool) {
    // The driver's own width (the other one goes through the DM's conversion).
    let info = if wide { SQLGetInfoW } else { SQLGetInfo };
    let _g = SWITCH.lock().unwrap_or_else(|p| p.into_inner());
    handles::set_fast_lanes(true);
    let (env, dbc) = rawh::connect(cs);
    let s = rawh::stmt(dbc);
    let sql = "SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3";
    assert!(rawh::exec_rc(s, sql).is_success());
    let mut v = 0i32;
    let mut ind: SqlLen = 0;
    // SAFETY: live handles; buffers as sized.
    unsafe {
        assert_eq!(SQLFetch(s), SqlReturn::SQL_SUCCESS); // S5 → S6: full path
        assert_eq!(lane_calls(s), 0);
        assert_eq!(SQLGetData(s, 1, CDataType::SQL_C_SLONG, (&mut v as *mut i32).cast(), 4, &mut ind), SqlReturn::SQL_SUCCESS);
        assert_eq!(SQLFetch(s), SqlReturn::SQL_SUCCESS);
        assert_eq!(SQLGetData(s, 1, CDataType::SQL_C_SLONG, (&mut v as *mut i32).cast(), 4, &mut ind), SqlReturn::SQL_SUCCESS);
        assert_eq!(v, 2);
        assert_eq!(lane_calls(s), 3, "GetData, Fetch, GetData in S6 take the lane");
        // A negative BufferLength is the DM's HY090: never the lane.
        assert_eq!(SQLGetData(s, 1, CDataType::SQL_C_CHAR, (&mut v as *mut i32).cast(), -1, &mut ind), SqlReturn::SQL_ERROR);
        assert_eq!(lane_calls(s), 3);
        let mut buf = [0u8; 64];
        let mut len = 0i16;
        // The first call after connecting may take the full path; the second is a lane.
        assert!(info(dbc, InfoType::SQL_DBMS_NAME, buf.as_mut_ptr().cast(), 64, &mut len).is_success());
        let before = dbc_lane_calls(dbc);
        assert_eq!(info(dbc, InfoType::SQL_DBMS_NAME, buf.as_mut_ptr().cast(), 64, &mut len), SqlReturn::SQL_SUCCESS);
        assert_eq!(dbc_lane_calls(dbc), before + 1);
        // Lanes off (from each handle's next full-path call on): nothing counted.
        handles::set_fast_lanes(false);
        assert_eq!(SQLFreeStmt(s, FreeStmtOption::SQL_CLOSE), SqlReturn::SQL_SUCCESS);
        assert!(rawh::exec_rc(s, sql).is_success());
        assert_eq!(SQLFetch(s), SqlReturn::SQL_SUCCESS);
        assert_eq!(SQLFetch(s), SqlReturn::SQL_SUCCESS);
        assert_eq!(SQLGetData(s, 1, CDataType::SQL_C_SLONG, (&mut v as *mut i32).cast(), 4, &mut ind), SqlReturn::SQL_SUCCESS);
        // SQL_DM_VER is the DM's own answer (full path); then the driver's.
        assert_eq!(info(dbc, InfoType::SQL_DM_VER, buf.as_mut_ptr().cast(), 64, &mut len), SqlReturn::SQL_SUCCESS);
        assert_eq!(info(dbc, InfoType::SQL_DBMS_NAME, buf.as_mut_ptr().cast(), 64, &mut len), SqlReturn::SQL_SUCCESS);
        assert_eq!(info(dbc, InfoType::SQL_DBMS_NAME, buf.as_mut_ptr().cast(), 64, &mut len), SqlReturn::SQL_SUCCESS);
        handles::set_fast_lanes(true);
        assert_eq!(lane_calls(s), 3);
        assert_eq!(dbc_lane_calls(dbc), before + 1);
    }
    rawh::free_stmt(s);
    // §3.1: the freed handle is invalid for the lane's entry points too.
    // SAFETY: a stale handle value, rejected by the DM without being dereferenced.
    assert_eq!(unsafe { SQLFetch(s) }, SqlReturn::SQL_INVALID_HANDLE);
    rawh::disconnect(env, dbc);
    // SAFETY: as above.
    let mut l = 0i16;
    assert_eq!(unsafe { SQLGetInfo(dbc, InfoType::SQL_DBMS_NAME, null_mut(), 0, &mut l) }, SqlReturn::SQL_INVALID_HANDLE);
}

#[test]
fn lane_counter_proves_the_lanes_ran_reference_driver_s4_5() {
    lanes_run_and_are_counted(&ref_cs(), true);
}

#[test]
fn lane_counter_proves_the_lanes_ran_sqlite_s4_5() {
    lanes_run_and_are_counted(&sqlite_cs(), false);
}

/// Decision #102 (§5.7): a statement whose concurrency the DM emulates stays off the lanes
/// (its fetch snapshots the rowset on the full path) while another statement of the same
/// process keeps them; decision #103: while call tracing may be on, no summary is
/// published, so no lane runs (every call is traced on the full path).
#[test]
fn emulated_concurrency_and_tracing_keep_their_calls_off_the_lanes_s5_7() {
    let cs = ref_cs();
    let _g = SWITCH.lock().unwrap_or_else(|p| p.into_inner());
    handles::set_fast_lanes(true);
    let (env, dbc) = rawh::connect(&cs);
    let sql = "SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4";
    let emulated = rawh::stmt(dbc);
    // The reference driver (without Optimistic=1) offers no optimistic mode: the DM emulates.
    assert_eq!(rawh::set_stmt_attr(emulated, StmtAttr::SQL_ATTR_CONCURRENCY, SQL_CONCUR_VALUES), SqlReturn::SQL_SUCCESS);
    let plain = rawh::stmt(dbc);
    let mut v = 0i32;
    let mut ind: SqlLen = 0;
    let mut fetch_all = |s: H| -> Vec<i32> {
        let mut got = Vec::new();
        // SAFETY: live statement; buffers as sized.
        unsafe {
            while SQLFetch(s) == SqlReturn::SQL_SUCCESS {
                assert_eq!(SQLGetData(s, 1, CDataType::SQL_C_SLONG, (&mut v as *mut i32).cast(), 4, &mut ind), SqlReturn::SQL_SUCCESS);
                got.push(v);
            }
        }
        got
    };
    assert!(rawh::exec_rc(emulated, sql).is_success());
    assert!(rawh::exec_rc(plain, sql).is_success());
    // Interleaved: the emulated statement's fetches must not keep the other off its lanes.
    let (a, b) = (fetch_all(emulated), fetch_all(plain));
    assert_eq!(a, [1, 2, 3, 4]);
    assert_eq!(b, [1, 2, 3, 4]);
    assert_eq!(lane_calls(emulated), 0, "an emulated statement's calls take the full path");
    // Fetch 1 (S5 → S6) is a full-path call; the 4 GetData, fetches 2–4 and the fifth
    // (SQL_NO_DATA, finished on the slow path) take the lane.
    assert_eq!(lane_calls(plain), 8, "a plain statement keeps its lanes while another is emulated");
    // Tracing: from the next full-path call (here the execute) on, no lane.
    let prev = log::max_level();
    log::set_max_level(log::LevelFilter::Trace);
    // SAFETY: live statement.
    assert_eq!(unsafe { SQLFreeStmt(plain, FreeStmtOption::SQL_CLOSE) }, SqlReturn::SQL_SUCCESS);
    assert!(rawh::exec_rc(plain, sql).is_success());
    let traced = fetch_all(plain);
    log::set_max_level(prev);
    assert_eq!(traced, [1, 2, 3, 4]);
    assert_eq!(lane_calls(plain), 8, "no lane while tracing may be on");
    // Tracing off again: the lanes come back after the next full-path call.
    // SAFETY: live statement.
    assert_eq!(unsafe { SQLFreeStmt(plain, FreeStmtOption::SQL_CLOSE) }, SqlReturn::SQL_SUCCESS);
    assert!(rawh::exec_rc(plain, sql).is_success());
    assert_eq!(fetch_all(plain), [1, 2, 3, 4]);
    assert_eq!(lane_calls(plain), 16);
    rawh::free_stmt(plain);
    rawh::free_stmt(emulated);
    rawh::disconnect(env, dbc);
}
