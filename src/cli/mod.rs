//! Command dispatch for the `odbc-dm` binary.

mod config_cmds;
mod conform;
mod demo;
mod demo_async;
mod info;
mod logger;
mod output;
mod query;

/// Runs the command line; returns the process exit code.
pub fn run(args: &[String]) -> i32 {
    logger::init();
    default_sigpipe();
    match (args.first().map(String::as_str), args.len()) {
        (Some("drivers"), _) => config_cmds::drivers(),
        (Some("dsns"), _) => config_cmds::dsns(),
        (Some("info"), 2) => info::info(&args[1]),
        (Some("query"), 3) => query::query(&args[1], &args[2]),
        (Some("demo"), 1) => demo::demo(),
        (Some("conform"), _) => conform::conform(&args[1..]),
        (Some(cmd @ ("info" | "query" | "demo")), _) => {
            eprintln!("odbc-dm: wrong number of arguments for `{cmd}`\n\n{USAGE}");
            2
        }
        (Some("-h") | Some("--help") | Some("help") | None, _) => {
            print!("{USAGE}");
            0
        }
        (Some(other), _) => {
            eprintln!("odbc-dm: unknown command `{other}`\n\n{USAGE}");
            2
        }
    }
}

pub(crate) const USAGE: &str = "\
usage: odbc-dm <command>

  drivers                      list the drivers of odbcinst.ini
  dsns                         list the data sources of odbc.ini (user and system)
  info  \"<connection string>\"  driver, ODBC version, SQLGetFunctions map, async capabilities
  query \"<connection string>\" \"<sql>\"   run SQL and print the result as a table
  demo                         the DM serving queries on the embedded default drivers
                               (run `bash drivers-under-test/setup.sh` first)
  conform [--driver <path|odbcinst name>] [--connect \"<keywords>\"] [--only <id prefix>]
          [--format text|markdown|json] [--out FILE | --out-dir DIR] [--all] [--timeout MS]
                               conformance report of a driver, rule by rule; no --driver:
                               the reference driver and sqliteodbc on temp files; --all
                               adds drivers-under-test/conform.ini and odbcinst.ini drivers;
                               --timeout replaces every check's own time limit

Exit codes: 0 success, 1 ODBC or driver error (SQLSTATE: message on stderr; conform: a\ncheck failed, crashed or timed out), 2 usage.
Configuration follows unixODBC: ODBCSYSINI, ODBCINSTINI, ODBCINI, ~/.odbc.ini.
Set RUST_LOG=odbc_dm::trace=trace to trace every ODBC call (on stderr; passwords masked).
`query` streams: column widths come from the first 100 rows.
";

/// Restores the default SIGPIPE action (Rust ignores it, so `odbc-dm info … | head` would
/// panic on the closed pipe): a CLI writing to a closed pipe just ends, like `cat`.
fn default_sigpipe() {
    extern "C" {
        fn signal(signum: i32, handler: usize) -> usize;
    }
    const SIGPIPE: i32 = 13;
    const SIG_DFL: usize = 0;
    // SAFETY: libc's signal(2) with a valid signal number and SIG_DFL; called at start-up,
    // before any thread or driver is created.
    unsafe { signal(SIGPIPE, SIG_DFL) };
}
