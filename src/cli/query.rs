//! `query "<conn-str>" "<sql>"`: runs one SQL statement and prints its result.

use odbc_dm::api::{Environment, Error};
use odbc_dm::config::mask_passwords;

use super::output::{print_error, print_notes, read_table};

pub fn query(conn_str: &str, sql: &str) -> i32 {
    match run(conn_str, sql) {
        Ok(()) => 0,
        Err((context, e)) => {
            eprintln!("odbc-dm: {context} failed:");
            print_error(&e);
            1
        }
    }
}

fn run(conn_str: &str, sql: &str) -> Result<(), (String, Error)> {
    let env = Environment::new().map_err(|e| ("allocating the environment".into(), e))?;
    let conn = env.connect_with_connection_string(conn_str).map_err(|e| (format!("connecting with `{}`", mask_passwords(conn_str)), e))?;
    print_notes(&conn.take_warnings());
    let exec = |e| ("the query".to_string(), e);
    let mut stmt = conn.statement().map_err(exec)?;
    let table = match stmt.execute(sql, ()).map_err(exec)? {
        Some(mut cursor) => {
            let t = read_table(&mut cursor).map_err(exec)?;
            print_notes(&cursor.take_warnings());
            Some(t)
        }
        None => None,
    };
    print_notes(&stmt.take_warnings());
    match table {
        Some(t) => t.print(),
        None => {
            let n = stmt.row_count().map_err(exec)?;
            if n < 0 {
                println!("OK, row count not reported by the driver");
            } else {
                println!("OK, {n} rows affected");
            }
        }
    }
    drop(stmt);
    conn.disconnect().map_err(|e| ("disconnecting".to_string(), e))?;
    Ok(())
}
