//! A small driver for instruction counting with callgrind (docs/performance.md):
//!
//!     cargo build --release --example scan_callgrind
//!     valgrind --tool=callgrind --toggle-collect='*fetch_loop*' \
//!         target/release/examples/scan_callgrind dm scan 100000
//!     valgrind --tool=callgrind --toggle-collect='*interleaved_loop*' \
//!         target/release/examples/scan_callgrind dm interleaved 100000
//!     valgrind --tool=callgrind --toggle-collect='*getinfo_loop*' \
//!         target/release/examples/scan_callgrind unixodbc getinfo 100000
//!
//! Arguments: `dm|dm-threading0|direct|unixodbc|capi` (`capi`: odbc-dm's libodbc.so.2, see `benches/common`), `scan|interleaved|getinfo`, and N (rows
//! to fetch / SQLGetInfo calls; default 100000; or the environment variable
//! `SCAN_CALLGRIND_N`). It runs the benchmark's own loops (`benches/common`) once:
//! `fetch_loop` over the first N rows of the 1M-row table; `interleaved_loop`: two
//! statements on one connection, each scanning the table, N rows fetched alternately (N/2
//! from each); or `getinfo_loop` N times.
//! With `--toggle-collect` only those loops are counted; running N and 2N and taking the
//! difference also removes their constant part (first-call symbol binding, the final
//! SQL_NO_DATA fetch, ...).

#[path = "../benches/common/mod.rs"]
mod common;

use common::{ensure_db, expected_sum, fetch_loop, getinfo_loop, interleaved_loop, Api, Conn, Way, SCAN_SQL, TABLE_ROWS};

fn usage() -> ! {
    eprintln!("usage: scan_callgrind dm|dm-threading0|direct|unixodbc|capi scan|interleaved|getinfo [N]");
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let way = args.first().and_then(|s| Way::parse(s)).unwrap_or_else(|| usage());
    let mode = args.get(1).map(String::as_str).unwrap_or_else(|| usage());
    let n: u64 = args
        .get(2)
        .cloned()
        .or_else(|| std::env::var("SCAN_CALLGRIND_N").ok())
        .map(|s| s.parse().unwrap_or_else(|_| usage()))
        .unwrap_or(100_000);

    let db = ensure_db(TABLE_ROWS);
    let api = Api::load(way);
    let conn = Conn::open(&api, &db);
    match mode {
        "scan" => {
            assert!(n <= TABLE_ROWS, "N must be at most {TABLE_ROWS}");
            let stmt = conn.exec(SCAN_SQL);
            let sum = fetch_loop(&api, stmt, n);
            conn.free(stmt);
            assert_eq!(sum, expected_sum(n), "{} read different data", way.name());
            println!("{} scan: {} rows", way.name(), sum.rows);
        }
        "interleaved" => {
            assert!(n <= TABLE_ROWS, "N must be at most {TABLE_ROWS}");
            let (a, b) = (conn.exec(SCAN_SQL), conn.exec(SCAN_SQL));
            let (sa, sb) = interleaved_loop(&api, a, b, n);
            conn.free(a);
            conn.free(b);
            assert_eq!(sa, expected_sum(n.div_ceil(2)), "{} read different data (statement 1)", way.name());
            assert_eq!(sb, expected_sum(n / 2), "{} read different data (statement 2)", way.name());
            println!("{} interleaved: {} + {} rows", way.name(), sa.rows, sb.rows);
        }
        "getinfo" => {
            let total = getinfo_loop(&api, conn.dbc, n);
            println!("{} getinfo: {n} calls, {} bytes reported", way.name(), total);
        }
        _ => usage(),
    }
}
