//! `query "<conn-str>" "<sql>"`: runs one SQL statement and prints its result, streamed:
//! the first [`PREVIEW_ROWS`] rows fix the column widths, every later row is printed as
//! it is fetched (memory bounded whatever the result's size, docs/decisions.md #48). A
//! closed stdout (`odbc-dm query … | head`) ends the query cleanly: the cursor is closed,
//! the connection disconnected, exit code 0.

use std::io::{self, Write};

use odbc_dm::api::{Cursor, Environment, Error};
use odbc_dm::config::mask_passwords;

use super::output::{count_line, print_error, print_notes, read_header, read_row, Layout, PREVIEW_ROWS};

pub fn query(conn_str: &str, sql: &str) -> i32 {
    // A closed pipe is an EPIPE error from write (handled below), not a SIGPIPE kill, so
    // the query ends cleanly (statement closed, connection disconnected).
    ignore_sigpipe();
    match run(conn_str, sql) {
        Ok(()) => 0,
        Err((context, e)) => {
            eprintln!("odbc-dm: {context} failed:");
            print_error(&e);
            1
        }
    }
}

/// Why printing stopped early.
enum Stop {
    /// stdout is closed (EPIPE): not an error.
    Closed,
    /// Another write error (disk full, …).
    Io(io::Error),
    /// The driver failed.
    Odbc(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Odbc(e)
    }
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Stop::Closed
        } else {
            Stop::Io(e)
        }
    }
}

fn run(conn_str: &str, sql: &str) -> Result<(), (String, Error)> {
    let env = Environment::new().map_err(|e| ("allocating the environment".into(), e))?;
    let conn = env.connect_with_connection_string(conn_str).map_err(|e| (format!("connecting with `{}`", mask_passwords(conn_str)), e))?;
    print_notes(&conn.take_warnings());
    let exec = |e| ("the query".to_string(), e);
    let mut stmt = conn.statement().map_err(exec)?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    let had_result = match stmt.execute(sql, ()).map_err(exec)? {
        Some(mut cursor) => {
            let r = stream(&mut cursor, &mut out);
            print_notes(&cursor.take_warnings());
            drop(cursor);
            match r {
                Ok(()) | Err(Stop::Closed) => {}
                Err(Stop::Io(e)) => {
                    return Err(("writing the result".into(), Error::Os { context: "writing the result".into(), source: e }))
                }
                Err(Stop::Odbc(e)) => return Err(exec(e)),
            }
            true
        }
        None => false,
    };
    if !had_result {
        let n = stmt.row_count().map_err(exec)?;
        let line = if n < 0 { "OK, row count not reported by the driver".to_string() } else { format!("OK, {n} rows affected") };
        let _ = writeln!(out, "{line}").and_then(|_| out.flush());
    }
    print_notes(&stmt.take_warnings());
    drop(stmt);
    conn.disconnect().map_err(|e| ("disconnecting".to_string(), e))?;
    Ok(())
}

/// Prints the result set: header and widths from the first rows, then row by row.
fn stream(cursor: &mut Cursor<'_>, out: &mut impl Write) -> Result<(), Stop> {
    let (headers, right) = read_header(cursor)?;
    let n = headers.len();
    let mut preview = Vec::new();
    while preview.len() < PREVIEW_ROWS {
        match read_row(cursor, n)? {
            Some(r) => preview.push(r),
            None => break,
        }
    }
    let layout = Layout::new(&headers, &right, &preview);
    out.write_all(layout.header(&headers).as_bytes())?;
    let mut count = preview.len() as u64;
    for r in preview.drain(..) {
        out.write_all(layout.row(&r).as_bytes())?;
    }
    if count as usize == PREVIEW_ROWS {
        while let Some(r) = read_row(cursor, n)? {
            out.write_all(layout.row(&r).as_bytes())?;
            count += 1;
            if count.is_multiple_of(4096) {
                // Warnings gathered per row would grow without bound: print them as we go.
                print_notes(&cursor.take_warnings());
            }
        }
    }
    writeln!(out, "{}", count_line(count))?;
    out.flush()?;
    Ok(())
}

/// SIGPIPE ignored: writing to a closed pipe returns EPIPE, which [`stream`] handles.
fn ignore_sigpipe() {
    // SAFETY: libc's signal(2) with a valid signal number and SIG_IGN, before any thread
    // or driver is created by this command.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
}
