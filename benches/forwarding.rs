//! Forwarding overhead of odbc-dm against calling the driver directly (the floor) and
//! against unixODBC, on libsqlite3odbc:
//!
//! - `scan_1M_rows/{direct,dm,dm-threading0,capi,unixodbc}`: a full scan of 1,000,000 rows
//!   `(id INTEGER, name TEXT(20), val REAL)`, row by row: SQLFetch + 3 × SQLGetData
//!   (SQL_C_SLONG, SQL_C_CHAR into 64 bytes, SQL_C_DOUBLE); one iteration = allocate,
//!   SQLExecDirect, fetch every row, free;
//! - `interleaved_200k_rows/{direct,dm,dm-threading0,capi,unixodbc}`: two statements on one connection, each
//!   scanning the table, 200,000 rows fetched alternately (100,000 from each): what an
//!   application with two open cursors does (`common::interleaved_loop`); one iteration =
//!   allocate both, execute both, fetch, free;
//! - `getinfo_1M_calls/{direct,dm,dm-threading0,capi,unixodbc}`: 1,000,000 × SQLGetInfo(SQL_DRIVER_NAME),
//!   the per-call cost of a call the driver answers cheaply.
//!
//! All three ways run the same loop (`common::fetch_loop` / `common::getinfo_loop`) over a
//! table of `abi::fns` pointers. The database is created once under
//! `target/bench-data/` and reused. Method and results: docs/performance.md.
//!
//!     cargo bench --bench forwarding
//!     cargo bench --bench forwarding -- scan_1M_rows/dm     # one case
//!     cargo bench --bench forwarding -- --warm-up-time 1 --measurement-time 3   # quicker

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};

mod common;
use common::{ensure_db, expected_sum, getinfo_loop, interleaved_loop, Api, Conn, Way, SCAN_SQL, TABLE_ROWS};

/// SQLGetInfo calls per iteration.
const GETINFO_CALLS: u64 = 1_000_000;

fn scan(c: &mut Criterion) {
    let db = ensure_db(TABLE_ROWS);
    let mut g = c.benchmark_group("scan_1M_rows");
    g.throughput(Throughput::Elements(TABLE_ROWS));
    // One iteration takes ~1 s: run each sample as a fixed number of iterations.
    g.sampling_mode(SamplingMode::Flat);
    for way in Way::selected() {
        let api = Api::load(way);
        let conn = Conn::open(&api, &db);
        // Every way must read exactly the same data.
        assert_eq!(conn.scan(SCAN_SQL), expected_sum(TABLE_ROWS), "{} read different data", way.name());
        g.bench_function(way.name(), |b| b.iter(|| conn.scan(SCAN_SQL)));
    }
    g.finish();
}

/// Rows per iteration of the interleaved scan (both statements together).
const INTERLEAVED_ROWS: u64 = 200_000;

fn interleaved(c: &mut Criterion) {
    let db = ensure_db(TABLE_ROWS);
    let mut g = c.benchmark_group("interleaved_200k_rows");
    g.throughput(Throughput::Elements(INTERLEAVED_ROWS));
    g.sampling_mode(SamplingMode::Flat);
    for way in Way::selected() {
        let api = Api::load(way);
        let conn = Conn::open(&api, &db);
        let run = || {
            let (a, b) = (conn.exec(SCAN_SQL), conn.exec(SCAN_SQL));
            let sums = interleaved_loop(&api, a, b, INTERLEAVED_ROWS);
            conn.free(a);
            conn.free(b);
            sums
        };
        // Every way must read exactly the same data.
        let half = expected_sum(INTERLEAVED_ROWS / 2);
        assert_eq!(run(), (half, half), "{} read different data", way.name());
        g.bench_function(way.name(), |b| b.iter(run));
    }
    g.finish();
}

fn getinfo(c: &mut Criterion) {
    let db = ensure_db(TABLE_ROWS);
    let mut g = c.benchmark_group("getinfo_1M_calls");
    g.throughput(Throughput::Elements(GETINFO_CALLS));
    g.sampling_mode(SamplingMode::Flat);
    let mut answers = Vec::new();
    for way in Way::selected() {
        let api = Api::load(way);
        let conn = Conn::open(&api, &db);
        answers.push(getinfo_loop(&api, conn.dbc, 1));
        g.bench_function(way.name(), |b| b.iter(|| getinfo_loop(&api, conn.dbc, GETINFO_CALLS)));
    }
    // Same answer (length of the driver's file name) every way.
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "SQLGetInfo answers differ: {answers:?}");
    g.finish();
}

criterion_group! {
    name = benches;
    // Small and short, so the whole bench runs in about two minutes; command-line options
    // (--sample-size, --warm-up-time, --measurement-time) override these.
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(10));
    targets = scan, interleaved, getinfo
}
criterion_main!(benches);
