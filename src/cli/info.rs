//! `info "<conn-str>"`: what the driver behind a connection string is and can do.

use odbc_dm::abi::{FunctionId, InfoType, SQL_AM_CONNECTION, SQL_AM_NONE, SQL_AM_STATEMENT};
use odbc_dm::api::{Connection, Environment, Error};
use odbc_dm::config::{mask_passwords, resolve_connection_string, ConfigSource};
use odbc_dm::raw;

use super::output::{print_error, record_line};

/// Size of the SQL_API_ALL_FUNCTIONS array (ODBC 2.x ids 0..99).
const ALL_FUNCTIONS_SIZE: usize = 100;

pub fn info(conn_str: &str) -> i32 {
    match resolve_connection_string(&ConfigSource::from_env(), conn_str) {
        Ok(r) => {
            println!("driver file            {}", r.driver_path.display());
            if let Some(dsn) = &r.dsn {
                println!("data source            {dsn}");
            }
            if let Some(name) = &r.driver_name {
                println!("odbcinst.ini driver    {name}");
            }
        }
        Err(e) => println!("driver file            not resolved: {}: {e}", e.sqlstate()),
    }
    let env = match Environment::new() {
        Ok(e) => e,
        Err(e) => return fail("allocating the environment", &e),
    };
    let conn = match env.connect_with_connection_string(conn_str) {
        Ok(c) => c,
        Err(e) => return fail(&format!("connecting with `{}`", mask_passwords(conn_str)), &e),
    };
    for w in conn.take_warnings() {
        println!("note: {}", record_line(&w));
    }
    for (label, it) in [
        ("SQL_DRIVER_NAME", InfoType::SQL_DRIVER_NAME),
        ("SQL_DRIVER_VER", InfoType::SQL_DRIVER_VER),
        ("SQL_DRIVER_ODBC_VER", InfoType::SQL_DRIVER_ODBC_VER),
        ("SQL_DBMS_NAME", InfoType::SQL_DBMS_NAME),
        ("SQL_DBMS_VER", InfoType::SQL_DBMS_VER),
        ("SQL_ODBC_VER (DM)", InfoType::SQL_ODBC_VER),
        ("SQL_DM_VER", InfoType::SQL_DM_VER),
    ] {
        println!("{label:<22} {}", or_not_reported(conn.get_info_string(it)));
    }

    println!();
    match functions(&conn) {
        Ok(()) => {}
        Err(e) => {
            println!("SQLGetFunctions        not reported");
            print_error(&e);
        }
    }

    println!();
    println!("Async capabilities");
    let mode = conn.get_info_u32(InfoType::SQL_ASYNC_MODE).map(|v| match v {
        v if v == SQL_AM_NONE as u32 => "none (SQL_AM_NONE)".to_string(),
        v if v == SQL_AM_CONNECTION as u32 => "connection (SQL_AM_CONNECTION)".to_string(),
        v if v == SQL_AM_STATEMENT as u32 => "statement (SQL_AM_STATEMENT)".to_string(),
        v => format!("unknown value {v}"),
    });
    println!("  SQL_ASYNC_MODE                       {}", or_not_reported(mode));
    let capable = |v: u32| {
        if v == 1 {
            "capable".to_string()
        } else if v == 0 {
            "not capable".to_string()
        } else {
            format!("unknown value {v}")
        }
    };
    let dbc = conn.get_info_u32(InfoType::SQL_ASYNC_DBC_FUNCTIONS).map(capable);
    println!("  SQL_ASYNC_DBC_FUNCTIONS              {}", or_not_reported(dbc));
    let notif = conn.get_info_u32(InfoType::SQL_ASYNC_NOTIFICATION).map(capable);
    println!("  SQL_ASYNC_NOTIFICATION               {}", or_not_reported(notif));
    let max = conn.get_info_u32(InfoType::SQL_MAX_ASYNC_CONCURRENT_STATEMENTS).map(|v| match v {
        0 => "0 (no limit or unknown)".to_string(),
        v => v.to_string(),
    });
    println!("  SQL_MAX_ASYNC_CONCURRENT_STATEMENTS  {}", or_not_reported(max));
    for w in conn.take_warnings() {
        println!("note: {}", record_line(&w));
    }
    if let Err(e) = conn.disconnect() {
        return fail("disconnecting", &e);
    }
    0
}

fn fail(context: &str, e: &Error) -> i32 {
    eprintln!("odbc-dm: {context} failed:");
    print_error(e);
    1
}

/// The value, or `not reported (SQLSTATE: message)` when the driver refused the info type.
fn or_not_reported(r: Result<String, Error>) -> String {
    match r {
        Ok(v) => v,
        Err(e) => match e.records().first() {
            Some(rec) => format!("not reported ({})", record_line(rec)),
            None => format!("not reported ({})", mask_passwords(&e.to_string())),
        },
    }
}

/// Prints the SQLGetFunctions map: SQL_API_ODBC3_ALL_FUNCTIONS bitmap for every id, plus
/// SQL_API_ALL_FUNCTIONS for the ODBC 2.x ids (< 100); the two answers should agree.
fn functions(conn: &Connection) -> Result<(), Error> {
    let bitmap = conn.functions()?;
    let mut all = [0u16; ALL_FUNCTIONS_SIZE];
    // SAFETY: a connected DM connection handle owned by `conn`; SQL_API_ALL_FUNCTIONS writes
    // 100 SQLUSMALLINTs, the size of `all`.
    let rc = unsafe { raw::SQLGetFunctions(conn.as_raw(), FunctionId::SQL_API_ALL_FUNCTIONS, all.as_mut_ptr()) };
    let all_ok = rc.is_success();
    if !all_ok {
        println!("note: SQLGetFunctions(SQL_API_ALL_FUNCTIONS) returned {rc:?}");
    }
    let mut yes = Vec::new();
    let mut no = Vec::new();
    let mut disagree = Vec::new();
    for (cname, id) in FunctionId::C_CONSTANTS {
        let fid = FunctionId(*id as u16);
        if fid == FunctionId::SQL_API_ALL_FUNCTIONS || fid == FunctionId::SQL_API_ODBC3_ALL_FUNCTIONS {
            continue;
        }
        let name = cname.strip_prefix("SQL_API_").unwrap_or(cname);
        let in_map = bitmap.is_supported(fid);
        let in_all = all_ok && (*id as usize) < ALL_FUNCTIONS_SIZE && all[*id as usize] != 0;
        if all_ok && (*id as usize) < ALL_FUNCTIONS_SIZE && in_map != in_all {
            disagree.push(format!("{name} (ODBC3 bitmap: {in_map}, ALL_FUNCTIONS: {in_all})"));
        }
        if in_map || in_all {
            yes.push(name);
        } else {
            no.push(name);
        }
    }
    println!("SQLGetFunctions: {} of {} functions supported", yes.len(), yes.len() + no.len());
    print_wrapped("  supported:     ", &yes);
    print_wrapped("  not supported: ", &no);
    for d in disagree {
        println!("  note: the two SQLGetFunctions answers disagree on {d}");
    }
    Ok(())
}

/// Prints names separated by spaces, wrapped at 100 columns under `label`.
fn print_wrapped(label: &str, names: &[&str]) {
    if names.is_empty() {
        println!("{label}(none)");
        return;
    }
    let indent = " ".repeat(label.len());
    let mut line = label.to_string();
    let mut first = true;
    for n in names {
        if !first && line.len() + 1 + n.len() > 100 {
            println!("{line}");
            line = indent.clone();
            first = true;
        }
        if !first {
            line.push(' ');
        }
        line.push_str(n);
        first = false;
    }
    println!("{line}");
}
