//! `odbc-dm`: the command-line face of the driver manager.
//!
//! - `odbc-dm drivers` / `odbc-dm dsns`: what odbcinst.ini / odbc.ini declare;
//! - `odbc-dm info "<conn-str>"`: driver name and version, ODBC version, the
//!   SQLGetFunctions map and the async capability info types;
//! - `odbc-dm query "<conn-str>" "<sql>"`: runs SQL and prints an aligned table;
//! - `odbc-dm demo`: the main job on the embedded default (no server needed).

mod cli;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(cli::run(&args));
}
