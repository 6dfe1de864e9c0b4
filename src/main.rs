//! `odbc-dm`: the command-line face of the driver manager.
//!
//! - `odbc-dm drivers` / `odbc-dm dsns`: what odbcinst.ini / odbc.ini declare;
//! - `odbc-dm info "<conn-str>"`: driver name and version, ODBC version, the
//!   SQLGetFunctions map and the async capability info types;
//! - `odbc-dm query "<conn-str>" "<sql>"`: runs SQL and prints an aligned table;
//! - `odbc-dm demo`: the main job on the embedded default (no server needed).

mod cli;

fn main() {
    // std::env::args() panics on an argument that is not valid UTF-8: read them as
    // OsStrings and refuse such an argument with a message (exit 2, a usage error).
    let mut args = Vec::new();
    for (i, a) in std::env::args_os().skip(1).enumerate() {
        match a.into_string() {
            Ok(s) => args.push(s),
            Err(a) => {
                eprintln!(
                    "odbc-dm: argument {} is not valid UTF-8 ({:?}); connection strings and SQL must be UTF-8",
                    i + 1,
                    a.to_string_lossy()
                );
                std::process::exit(2);
            }
        }
    }
    std::process::exit(cli::run(&args));
}
