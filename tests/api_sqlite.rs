//! The safe API (`odbc_dm::api`) against Debian's SQLite ODBC driver, loaded by absolute
//! path. Each test uses its own database file.

use std::io::Cursor as IoCursor;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use odbc_dm::api::*;

mod common;

const DRIVER: &str = "/usr/lib/x86_64-linux-gnu/odbc/libsqlite3odbc.so";

/// A fresh database file, removed on drop.
struct Db(PathBuf);

impl Db {
    fn new(tag: &str) -> Db {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!("odbc-dm-api-{}-{}-{}.db", tag, std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
        let _ = std::fs::remove_file(&p);
        Db(p)
    }

    fn conn_str(&self) -> String {
        format!("DRIVER={DRIVER};Database={};StepAPI=1", self.0.display())
    }

    fn connect(&self, env: &Environment) -> Connection {
        env.connect_with_connection_string(&self.conn_str()).expect("connect to SQLite")
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Whether libsqlite3odbc is installed; if not, the test is skipped (counted and shown)
/// or, in the test command, fails ([`common::skip`]).
fn have_driver(test: &str) -> bool {
    common::require_driver(test, std::path::Path::new(DRIVER)).is_some()
}

fn create_people(conn: &Connection) {
    assert!(conn
        .execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, score REAL, big INTEGER, data BLOB)", ())
        .unwrap()
        .is_none());
}

fn count(conn: &Connection, table: &str) -> i64 {
    let mut c = conn.execute(&format!("SELECT COUNT(*) FROM {table}"), ()).unwrap().expect("a result set");
    let mut row = c.next_row().unwrap().expect("one row");
    row.get::<i64>(1).unwrap()
}

#[test]
fn send_and_sync_bounds() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Environment>();
    send_sync::<Connection>();
    send_sync::<CancelHandle>();
    send::<Statement<'static>>();
    send::<Prepared<'static>>();
    send::<Cursor<'static>>();
    send::<BoundCursor<'static>>();
    send_sync::<Error>();
}

#[test]
fn insert_with_parameters_and_read_back_unbound() {
    if !have_driver("insert_with_parameters_and_read_back_unbound") {
        return;
    }
    let db = Db::new("unbound");
    let env = Environment::new().unwrap();
    let conn = db.connect(&env);
    create_people(&conn);
    let long: String = "abcdefghij".repeat(1000);
    let insert = "INSERT INTO people (id, name, score, big, data) VALUES (?, ?, ?, ?, ?)";
    conn.execute(insert, (1, "plain", 1.5, 1i64 << 40, vec![0u8, 1, 2, 255])).unwrap();
    conn.execute(insert, (2, "é中😀", Some(2.25), None::<i64>, None::<Vec<u8>>)).unwrap();
    conn.execute(insert, (3, long.as_str(), None::<f64>, -7i64, &b"xyz"[..])).unwrap();
    conn.execute(insert, (4, None::<&str>, 0.0, 0i64, Vec::<u8>::new())).unwrap();

    let mut cursor = conn.execute("SELECT id, name, score, big, data FROM people ORDER BY id", ()).unwrap().expect("a result set");
    assert_eq!(cursor.column_count().unwrap(), 5);
    assert_eq!(cursor.column_names().unwrap(), ["id", "name", "score", "big", "data"]);
    let d = cursor.describe_col(1).unwrap();
    assert_eq!(d.name, "id");

    let mut rows = Vec::new();
    while let Some(mut row) = cursor.next_row().unwrap() {
        let id: i32 = row.get(1).unwrap();
        let name: Option<String> = row.get(2).unwrap();
        let score: Option<f64> = row.get(3).unwrap();
        let big: Option<i64> = row.get(4).unwrap();
        let data: Option<Vec<u8>> = row.get(5).unwrap();
        rows.push((id, name, score, big, data));
    }
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0], (1, Some("plain".into()), Some(1.5), Some(1 << 40), Some(vec![0, 1, 2, 255])));
    assert_eq!(rows[1], (2, Some("é中😀".into()), Some(2.25), None, None));
    assert_eq!(rows[2].1.as_deref().map(str::len), Some(10_000));
    assert_eq!(rows[2].1.as_deref(), Some(long.as_str()), "10,000-char string read in chunks");
    assert_eq!((rows[2].2, rows[2].3, rows[2].4.clone()), (None, Some(-7), Some(b"xyz".to_vec())));
    assert_eq!(rows[3].1, None);
}

#[test]
fn null_into_non_option_is_an_error() {
    if !have_driver("null_into_non_option_is_an_error") {
        return;
    }
    let db = Db::new("null");
    let env = Environment::new().unwrap();
    let conn = db.connect(&env);
    let mut c = conn.execute("SELECT NULL", ()).unwrap().unwrap();
    let mut row = c.next_row().unwrap().unwrap();
    let e = row.get::<i64>(1).unwrap_err();
    assert!(matches!(e, Error::UnexpectedNull { column: 1 }), "{e:?}");
}

#[test]
fn utf16_text_encoding_round_trips_non_ascii() {
    if !have_driver("utf16_text_encoding_round_trips_non_ascii") {
        return;
    }
    let db = Db::new("utf16");
    let env = Environment::new().unwrap();
    let mut conn = db.connect(&env);
    conn.set_text_encoding(TextEncoding::Utf16);
    conn.execute("CREATE TABLE t (s TEXT)", ()).unwrap();
    let long: String = "é中😀x".repeat(2500);
    conn.execute("INSERT INTO t VALUES (?)", ("é中😀",)).unwrap();
    conn.execute("INSERT INTO t VALUES (?)", (long.clone(),)).unwrap();
    let mut c = conn.execute("SELECT s FROM t ORDER BY rowid", ()).unwrap().unwrap();
    let mut got = Vec::new();
    while let Some(mut row) = c.next_row().unwrap() {
        got.push(row.get::<String>(1).unwrap());
    }
    assert_eq!(got, ["é中😀".to_string(), long]);
}

#[test]
fn prepared_statement_executes_repeatedly_with_rebinding() {
    if !have_driver("prepared_statement_executes_repeatedly_with_rebinding") {
        return;
    }
    let db = Db::new("prepared");
    let env = Environment::new().unwrap();
    let conn = db.connect(&env);
    create_people(&conn);
    let mut insert = conn.prepare("INSERT INTO people (id, name, score) VALUES (?, ?, ?)").unwrap();
    assert_eq!(insert.num_params().unwrap(), 3);
    for i in 0..50 {
        let name = format!("name-{i}");
        assert!(insert.execute((i, name, i as f64 / 2.0)).unwrap().is_none());
        assert_eq!(insert.row_count().unwrap(), 1);
    }
    drop(insert);
    assert_eq!(count(&conn, "people"), 50);

    let mut select = conn.prepare("SELECT name, score FROM people WHERE id = ?").unwrap();
    for i in [0, 7, 49] {
        let mut c = select.execute((i,)).unwrap().expect("a result set");
        let mut row = c.next_row().unwrap().expect("one row");
        assert_eq!(row.get::<String>(1).unwrap(), format!("name-{i}"));
        assert_eq!(row.get::<f64>(2).unwrap(), i as f64 / 2.0);
        assert!(c.next_row().unwrap().is_none());
    }
}

#[test]
fn statement_reuse_and_row_count() {
    if !have_driver("statement_reuse_and_row_count") {
        return;
    }
    let db = Db::new("rowcount");
    let env = Environment::new().unwrap();
    let conn = db.connect(&env);
    create_people(&conn);
    let mut st = conn.statement().unwrap();
    for i in 0..5 {
        assert!(st.execute("INSERT INTO people (id, score) VALUES (?, ?)", (i, 1.0)).unwrap().is_none());
    }
    st.execute("UPDATE people SET score = 2.0 WHERE id >= ?", (2,)).unwrap();
    assert_eq!(st.row_count().unwrap(), 3);
    let mut c = st.execute("SELECT SUM(score) FROM people", ()).unwrap().unwrap();
    assert_eq!(c.next_row().unwrap().unwrap().get::<f64>(1).unwrap(), 8.0);
}

#[test]
fn bound_block_cursor_fetches_rowsets() {
    if !have_driver("bound_block_cursor_fetches_rowsets") {
        return;
    }
    let db = Db::new("bound");
    let env = Environment::new().unwrap();
    let conn = db.connect(&env);
    create_people(&conn);
    let mut ins = conn.prepare("INSERT INTO people (id, name, score) VALUES (?, ?, ?)").unwrap();
    for i in 0..25i64 {
        let name = if i == 3 { None } else { Some(format!("n{i}é")) };
        ins.execute((i, name, i as f64 * 0.5)).unwrap();
    }
    drop(ins);
    let cursor = conn.execute("SELECT id, score, name FROM people ORDER BY id", ()).unwrap().unwrap();
    let mut bound = cursor.bind_buffers(10, &[BufferDesc::I64, BufferDesc::F64, BufferDesc::Text { max_chars: 8 }]).unwrap();
    // SQLite ODBC fetches row arrays: 25 rows come as 10 + 10 + 5.
    assert_eq!(bound.rowset_size(), 10);
    let mut seen = Vec::new();
    let mut sets = Vec::new();
    while let Some(rs) = bound.fetch().unwrap() {
        sets.push(rs.len());
        for r in 0..rs.len() {
            assert_eq!(rs.row_status(r), 0);
            seen.push((rs.i64(1, r).unwrap(), rs.f64(2, r).unwrap(), rs.text(3, r)));
        }
    }
    assert_eq!(sets, [10, 10, 5]);
    assert_eq!(seen.len(), 25);
    for (i, (id, score, name)) in seen.iter().enumerate() {
        assert_eq!(*id, i as i64);
        assert_eq!(*score, i as f64 * 0.5);
        assert_eq!(name.clone(), if i == 3 { None } else { Some(format!("n{i}é")) });
    }
    // Unbinding returns a usable plain cursor (at its end).
    let mut c = bound.into_cursor();
    assert!(c.next_row().unwrap().is_none());
}

#[test]
fn bound_text_longer_than_buffer_is_truncated() {
    if !have_driver("bound_text_longer_than_buffer_is_truncated") {
        return;
    }
    let db = Db::new("trunc");
    let env = Environment::new().unwrap();
    let conn = db.connect(&env);
    let cursor = conn.execute("SELECT 'abcdefghijklmnopqrstuvwxyz', 'ok'", ()).unwrap().unwrap();
    let mut bound = cursor.bind_buffers(4, &[BufferDesc::Text { max_chars: 2 }, BufferDesc::Text { max_chars: 2 }]).unwrap();
    let rs = bound.fetch().unwrap().unwrap();
    assert_eq!(rs.len(), 1);
    assert!(rs.is_truncated(1, 0));
    assert!(rs.text(1, 0).unwrap().starts_with("abcdefgh"), "buffer holds 2 chars * 4 bytes");
    assert!(!rs.is_truncated(2, 0));
    assert_eq!(rs.text(2, 0).as_deref(), Some("ok"));
    // The fetch returned SQL_SUCCESS_WITH_INFO; its 01004 is kept, not lost.
    let states: Vec<String> = bound.warnings().iter().map(|w| w.state.clone()).collect();
    assert!(states.iter().any(|s| s == "01004"), "{states:?}");
}

#[test]
fn transaction_commit_and_rollback_seen_from_second_connection() {
    if !have_driver("transaction_commit_and_rollback_seen_from_second_connection") {
        return;
    }
    let db = Db::new("txn");
    let env = Environment::new().unwrap();
    let a = db.connect(&env);
    a.execute("CREATE TABLE t (x INTEGER)", ()).unwrap();
    let b = db.connect(&env);
    a.set_autocommit(false).unwrap();
    assert!(!a.autocommit().unwrap());
    a.execute("INSERT INTO t VALUES (1)", ()).unwrap();
    assert_eq!(count(&a, "t"), 1, "own uncommitted row visible");
    assert_eq!(count(&b, "t"), 0, "uncommitted row invisible to the second connection");
    a.commit().unwrap();
    assert_eq!(count(&b, "t"), 1);
    a.execute("INSERT INTO t VALUES (2)", ()).unwrap();
    a.rollback().unwrap();
    assert_eq!(count(&a, "t"), 1);
    assert_eq!(count(&b, "t"), 1);
}

#[test]
fn catalog_functions_return_cursors() {
    if !have_driver("catalog_functions_return_cursors") {
        return;
    }
    let db = Db::new("catalog");
    let env = Environment::new().unwrap();
    let conn = db.connect(&env);
    create_people(&conn);

    let mut t = conn.tables(None, None, Some("people"), None).unwrap();
    let names = t.column_names().unwrap();
    assert_eq!(names[2].to_uppercase(), "TABLE_NAME");
    let mut tables = Vec::new();
    while let Some(mut r) = t.next_row().unwrap() {
        tables.push((r.get::<String>(3).unwrap(), r.get::<Option<String>>(4).unwrap()));
    }
    assert_eq!(tables, [("people".to_string(), Some("TABLE".to_string()))]);

    let mut c = conn.columns(None, None, Some("people"), None).unwrap();
    let mut cols = Vec::new();
    while let Some(mut r) = c.next_row().unwrap() {
        cols.push(r.get::<String>(4).unwrap());
    }
    assert_eq!(cols, ["id", "name", "score", "big", "data"]);

    let mut st = conn.statement().unwrap();
    let mut pk = st.primary_keys(None, None, "people").unwrap();
    let mut row = pk.next_row().unwrap().expect("one key column");
    assert_eq!(row.get::<String>(3).unwrap(), "people");
    assert_eq!(row.get::<String>(4).unwrap(), "id");
    assert!(pk.next_row().unwrap().is_none());
}

#[test]
fn driver_error_carries_sqlstate_and_driver_text() {
    if !have_driver("driver_error_carries_sqlstate_and_driver_text") {
        return;
    }
    let db = Db::new("err");
    let env = Environment::new().unwrap();
    let conn = db.connect(&env);
    let e = conn.execute("SELEC 1", ()).map(|_| ()).unwrap_err();
    eprintln!("{e}");
    match &e {
        Error::Odbc { function, return_code, records } => {
            assert_eq!(*function, "SQLExecDirect");
            assert_eq!(*return_code, -1);
            assert!(!records.is_empty());
        }
        other => panic!("expected an ODBC error, got {other:?}"),
    }
    // SQLite ODBC reports SQLite's prepare error as HY000 with SQLite's own message.
    assert_eq!(e.sqlstate(), Some("HY000"));
    let msg = e.to_string();
    assert!(msg.starts_with("SQLExecDirect failed: [HY000] "), "{msg}");
    assert!(msg.contains("syntax error"), "{msg}");
    // The connection stays usable.
    assert_eq!(count_one(&conn), 1);

    let e = conn.execute("SELECT * FROM no_such_table", ()).map(|_| ()).unwrap_err();
    assert!(e.to_string().contains("no such table"), "{e}");
}

fn count_one(conn: &Connection) -> i64 {
    let mut c = conn.execute("SELECT 1", ()).unwrap().unwrap();
    let mut r = c.next_row().unwrap().unwrap();
    r.get(1).unwrap()
}

#[test]
fn dm_errors_name_the_function_and_mask_passwords() {
    let env = Environment::new().unwrap();
    let e = env.connect_with_connection_string("DSN=odbc-dm-api-no-such-dsn;UID=u;PWD=s3cr3t-pw").map(|_| ()).unwrap_err();
    let msg = e.to_string();
    eprintln!("{msg}");
    assert_eq!(e.sqlstate(), Some("IM002"), "{msg}");
    assert!(msg.starts_with("SQLDriverConnect failed: [IM002] "), "{msg}");
    assert!(msg.contains("(native "), "{msg}");
    assert!(!msg.contains("s3cr3t-pw"), "{msg}");
    assert!(!format!("{e:?}").contains("s3cr3t-pw"));

    let e = env.connect_with_connection_string("DRIVER=/nonexistent/libnothing.so;PWD={x;y}").map(|_| ()).unwrap_err();
    eprintln!("{e}");
    assert_eq!(e.function(), Some("SQLDriverConnect"));
    assert_eq!(e.sqlstate(), Some("IM003"), "{e}");
}

#[test]
fn data_at_execution_long_text_and_streams() {
    if !have_driver("data_at_execution_long_text_and_streams") {
        return;
    }
    let db = Db::new("dae");
    let env = Environment::new().unwrap();
    let conn = db.connect(&env);
    conn.execute("CREATE TABLE t (id INTEGER, s TEXT, b BLOB)", ()).unwrap();
    let long: String = (0..30_000).map(|i| ['a', 'é', '中', '😀'][i % 4]).collect();
    let blob: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    let streamed_text = "streamed é text".repeat(1000);
    conn.execute(
        "INSERT INTO t VALUES (?, ?, ?)",
        (1, LongText(long.clone()), Streamed::binary(IoCursor::new(blob.clone())).with_len(blob.len())),
    )
    .unwrap();
    conn.execute(
        "INSERT INTO t VALUES (?, ?, ?)",
        (
            2,
            Streamed::text(IoCursor::new(streamed_text.clone().into_bytes())).with_len(streamed_text.len()),
            Streamed::binary(std::io::empty()),
        ),
    )
    .unwrap();
    // Without an announced length (SQL_DATA_AT_EXEC) the execution succeeds, but SQLite
    // ODBC 0.9998 stores an empty value (and refuses a second chunk with HY010): the
    // driver needs SQL_LEN_DATA_AT_EXEC(len), i.e. `Streamed::with_len`.
    conn.execute(
        "INSERT INTO t VALUES (?, ?, ?)",
        (4, Streamed::text(IoCursor::new(b"short unannounced".to_vec())), Streamed::binary(IoCursor::new(vec![7u8; 100]))),
    )
    .unwrap();
    conn.execute("INSERT INTO t VALUES (?, ?, ?)", (3, LongText(String::new()), None::<Vec<u8>>)).unwrap();

    let mut c = conn.execute("SELECT id, s, b FROM t ORDER BY id", ()).unwrap().unwrap();
    let mut r = c.next_row().unwrap().unwrap();
    assert_eq!(r.get::<i32>(1).unwrap(), 1);
    assert_eq!(r.get::<String>(2).unwrap(), long);
    assert_eq!(r.get::<Vec<u8>>(3).unwrap(), blob);
    let mut r = c.next_row().unwrap().unwrap();
    assert_eq!(r.get::<String>(2).unwrap(), streamed_text);
    assert_eq!(r.get::<Option<Vec<u8>>>(3).unwrap().unwrap_or_default(), Vec::<u8>::new());
    let mut r = c.next_row().unwrap().unwrap();
    assert_eq!(r.get::<Option<String>>(2).unwrap().unwrap_or_default(), "");
    let mut r = c.next_row().unwrap().unwrap();
    assert_eq!(r.get::<i32>(1).unwrap(), 4);
    eprintln!("unannounced text read back as {:?}", r.get::<Option<String>>(2).unwrap());
}

#[test]
fn failing_stream_cancels_execution_and_statement_stays_usable() {
    if !have_driver("failing_stream_cancels_execution_and_statement_stays_usable") {
        return;
    }
    struct Broken;
    impl std::io::Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
    }
    let db = Db::new("broken");
    let env = Environment::new().unwrap();
    let conn = db.connect(&env);
    conn.execute("CREATE TABLE t (b BLOB)", ()).unwrap();
    let mut st = conn.statement().unwrap();
    let e = st.execute("INSERT INTO t VALUES (?)", (Streamed::binary(Broken),)).map(|_| ()).unwrap_err();
    assert!(matches!(e, Error::Io { parameter: 1, .. }), "{e:?}");
    st.execute("INSERT INTO t VALUES (?)", (vec![1u8],)).unwrap();
    assert_eq!(count(&conn, "t"), 1);
}

#[test]
fn threads_share_one_connection_with_their_own_statements() {
    if !have_driver("threads_share_one_connection_with_their_own_statements") {
        return;
    }
    let db = Db::new("threads");
    let env = Environment::new().unwrap();
    let conn = db.connect(&env);
    conn.execute("CREATE TABLE t (x INTEGER)", ()).unwrap();
    for i in 0..10 {
        conn.execute("INSERT INTO t VALUES (?)", (i,)).unwrap();
    }
    std::thread::scope(|s| {
        for k in 0..8 {
            let conn = &conn;
            s.spawn(move || {
                let mut st = conn.statement().unwrap();
                for _ in 0..20 {
                    let mut c = st.execute("SELECT SUM(x) + ? FROM t", (k,)).unwrap().unwrap();
                    let v: i64 = c.next_row().unwrap().unwrap().get(1).unwrap();
                    assert_eq!(v, 45 + k);
                }
            });
        }
    });
}

#[test]
fn cancel_handle_works_from_another_thread_and_after_free() {
    if !have_driver("cancel_handle_works_from_another_thread_and_after_free") {
        return;
    }
    let db = Db::new("cancel");
    let env = Environment::new().unwrap();
    let conn = db.connect(&env);
    let st = conn.statement().unwrap();
    let ch = st.cancel_handle();
    let ch2 = ch.clone();
    std::thread::spawn(move || ch2.cancel()).join().unwrap().expect("cancel on an idle statement is a no-op");
    drop(st);
    let e = ch.cancel().unwrap_err();
    assert!(matches!(e, Error::InvalidHandle { function: "SQLCancel" }), "{e:?}");
}

#[test]
fn connection_info_and_functions() {
    if !have_driver("connection_info_and_functions") {
        return;
    }
    let db = Db::new("info");
    let env = Environment::new().unwrap();
    let conn = db.connect(&env);
    assert_eq!(conn.dbms_name().unwrap(), "SQLite");
    assert!(conn.driver_name().unwrap().contains("sqlite3odbc"));
    let f = conn.functions().unwrap();
    assert!(f.is_supported(odbc_dm::abi::FunctionId::SQL_API_SQLEXECDIRECT));
    assert!(f.is_supported(odbc_dm::abi::FunctionId::SQL_API_SQLFETCH));
    conn.disconnect().unwrap();
}

#[test]
fn environment_lists_drivers_and_data_sources() {
    let env = Environment::with_version(OdbcVersion::Odbc3).unwrap();
    // Contents depend on the machine's odbcinst.ini / odbc.ini; the calls must succeed.
    let drivers = env.drivers().unwrap();
    let sources = env.data_sources().unwrap();
    eprintln!("{} drivers, {} data sources", drivers.len(), sources.len());
    for d in &drivers {
        assert!(!d.description.is_empty());
    }
}

#[test]
fn cursor_drop_closes_so_statement_can_run_again() {
    if !have_driver("cursor_drop_closes_so_statement_can_run_again") {
        return;
    }
    let db = Db::new("close");
    let env = Environment::new().unwrap();
    let conn = db.connect(&env);
    let mut st = conn.statement().unwrap();
    for _ in 0..3 {
        let mut c = st.execute("SELECT 1 UNION ALL SELECT 2", ()).unwrap().unwrap();
        // Read only the first row, then drop the cursor with a row pending.
        assert_eq!(c.next_row().unwrap().unwrap().get::<i32>(1).unwrap(), 1);
    }
    assert!(st.warnings().is_empty());
}
