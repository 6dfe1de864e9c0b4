//! §3.1 (threads): "drivers must be thread-safe, so a handle may be used from several
//! threads; serializing concurrent use of one handle is acceptable" — and the DM itself must
//! neither corrupt results nor deadlock when an application uses it from many threads.
//!
//! Two scenarios, each run 20 times, with SQLite and (if reachable) PostgreSQL, through the
//! safe API (`odbc_dm::api`: `Connection` is `Send + Sync`, statements belong to one thread):
//! - §3.1 A: 8 threads, each with its own connection and its own table;
//! - §3.1 B: 8 threads sharing one connection, each with its own statement and rows.
//!
//! A watchdog turns a hang into a failure ("no deadlock").

mod common;

use odbc_dm::api::{Connection, Environment, ParamValue};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const THREADS: usize = 8;
const ITERATIONS: usize = 20;
const ROWS: i64 = 10;

/// Runs `f` on its own thread and fails if it has not finished within `limit`.
fn with_watchdog(what: &str, limit: Duration, f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    let h = std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    match rx.recv_timeout(limit) {
        Ok(()) => h.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The closure panicked: re-raise its panic.
            if let Err(p) = h.join() {
                std::panic::resume_unwind(p);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("§3.1 {what}: not finished after {limit:?} (deadlock?)"),
    }
}

fn txt(thread: usize, i: i64) -> String {
    format!("t{thread}-r{i}-é中")
}

fn val(thread: usize, i: i64) -> f64 {
    thread as f64 * 1000.0 + i as f64 + 0.5
}

/// One multi-row INSERT with bound parameters: ids `base+1 ..= base+ROWS`.
fn insert_rows(exec: &mut dyn FnMut(&str, Vec<ParamValue>), table: &str, thread: usize, base: i64) {
    let mut params = Vec::new();
    let mut values = Vec::new();
    for i in 1..=ROWS {
        values.push("(?, ?, ?)");
        params.push(ParamValue::I64(base + i));
        params.push(ParamValue::Text(txt(thread, i)));
        params.push(ParamValue::F64(val(thread, i)));
    }
    exec(&format!("INSERT INTO {table} (id, txt, val) VALUES {}", values.join(", ")), params);
}

/// Checks rows `base+1 ..= base+ROWS` as read back by `rows`.
fn check_rows(what: &str, rows: Vec<(i64, String, f64)>, thread: usize, base: i64) {
    assert_eq!(rows.len(), ROWS as usize, "{what}: thread {thread} row count");
    for (k, (id, t, v)) in rows.into_iter().enumerate() {
        let i = k as i64 + 1;
        assert_eq!(id, base + i, "{what}: thread {thread} id");
        assert_eq!(t, txt(thread, i), "{what}: thread {thread} txt of row {i}");
        assert_eq!(v, val(thread, i), "{what}: thread {thread} val of row {i}");
    }
}

fn query_conn(conn: &Connection, sql: &str) -> Vec<(i64, String, f64)> {
    let mut cursor = conn.execute(sql, ()).unwrap_or_else(|e| panic!("{sql}: {e}")).expect("a result set");
    let mut out = Vec::new();
    while let Some(mut row) = cursor.next_row().expect("fetch") {
        out.push((row.get::<i64>(1).unwrap(), row.get::<String>(2).unwrap(), row.get::<f64>(3).unwrap()));
    }
    out
}

const DDL: &str = "(id INTEGER NOT NULL PRIMARY KEY, txt VARCHAR(64), val DOUBLE PRECISION)";

/// §3.1 A: 8 threads on 8 connections, each its own table.
fn eight_connections(make_cs: impl Fn(usize, usize) -> String + Send + Sync + 'static, what: &'static str) {
    let env = Environment::new().expect("environment");
    with_watchdog(what, Duration::from_secs(90), move || {
        for iter in 0..ITERATIONS {
            std::thread::scope(|sc| {
                for t in 0..THREADS {
                    let env = &env;
                    let cs = make_cs(iter, t);
                    sc.spawn(move || {
                        let conn = env.connect_with_connection_string(&cs).unwrap_or_else(|e| panic!("{what}: connect: {e}"));
                        let table = common::unique_table("cc_own");
                        conn.execute(&format!("CREATE TABLE {table} {DDL}"), ()).expect("create");
                        insert_rows(&mut |sql, p| drop(conn.execute(sql, p).expect("insert")), &table, t, 0);
                        let rows = query_conn(&conn, &format!("SELECT id, txt, val FROM {table} ORDER BY id"));
                        check_rows(what, rows, t, 0);
                        conn.execute(&format!("DROP TABLE {table}"), ()).expect("drop");
                        conn.disconnect().expect("disconnect");
                    });
                }
            });
        }
    });
}

/// §3.1 B: 8 threads sharing one connection, each with its own statement and rows.
fn shared_connection(cs: String, what: &'static str) {
    with_watchdog(what, Duration::from_secs(90), move || {
        let env = Environment::new().expect("environment");
        for _ in 0..ITERATIONS {
            let conn = env.connect_with_connection_string(&cs).unwrap_or_else(|e| panic!("{what}: connect: {e}"));
            let table = common::unique_table("cc_shared");
            conn.execute(&format!("CREATE TABLE {table} {DDL}"), ()).expect("create");
            std::thread::scope(|sc| {
                for t in 0..THREADS {
                    let conn = &conn;
                    let table = &table;
                    sc.spawn(move || {
                        let mut st = conn.statement().expect("statement");
                        let base = (t as i64) * 100;
                        insert_rows(&mut |sql, p| drop(st.execute(sql, p).expect("insert")), table, t, base);
                        let sql = format!("SELECT id, txt, val FROM {table} WHERE id > ? AND id <= ? ORDER BY id");
                        let mut cursor = st.execute(&sql, (base, base + 100)).expect("select").expect("a result set");
                        let mut rows = Vec::new();
                        while let Some(mut row) = cursor.next_row().expect("fetch") {
                            rows.push((row.get::<i64>(1).unwrap(), row.get::<String>(2).unwrap(), row.get::<f64>(3).unwrap()));
                        }
                        drop(cursor);
                        check_rows(what, rows, t, base);
                    });
                }
            });
            let total: Vec<_> = query_conn(&conn, &format!("SELECT COUNT(*), 'x', 0.0 FROM {table}"));
            assert_eq!(total[0].0, THREADS as i64 * ROWS, "{what}: all threads' rows are there");
            conn.execute(&format!("DROP TABLE {table}"), ()).expect("drop");
            conn.disconnect().expect("disconnect");
        }
    });
}

#[test]
fn s3_1_sqlite_8_threads_8_connections_20_times() {
    common::init();
    let t0 = Instant::now();
    eight_connections(|iter, t| common::sqlite_conn_str(&common::temp_db(&format!("cc-own-{iter}-{t}"))), "SQLite, 8 connections");
    eprintln!("§3.1 A SQLite: {:?}", t0.elapsed());
    // The 160 database files of this test.
    let pid = format!("-{}-", std::process::id());
    for e in std::fs::read_dir(common::root().join("target/tmp")).unwrap().flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if n.starts_with("cc-own-") && n.contains(&pid) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

#[test]
fn s3_1_sqlite_8_threads_share_one_connection_20_times() {
    common::init();
    let t0 = Instant::now();
    shared_connection(common::sqlite_conn_str(&common::temp_db("cc-shared")), "SQLite, one shared connection");
    eprintln!("§3.1 B SQLite: {:?}", t0.elapsed());
}

#[test]
fn s3_1_postgres_8_threads_8_connections_20_times() {
    common::init();
    let Some(cs) = common::postgres_conn_str("s3_1_postgres_8_threads_8_connections_20_times") else { return };
    let t0 = Instant::now();
    eight_connections(move |_, _| cs.clone(), "PostgreSQL, 8 connections");
    eprintln!("§3.1 A PostgreSQL: {:?}", t0.elapsed());
}

#[test]
fn s3_1_postgres_8_threads_share_one_connection_20_times() {
    common::init();
    let Some(cs) = common::postgres_conn_str("s3_1_postgres_8_threads_share_one_connection_20_times") else { return };
    let t0 = Instant::now();
    shared_connection(cs, "PostgreSQL, one shared connection");
    eprintln!("§3.1 B PostgreSQL: {:?}", t0.elapsed());
}
