//! The safe API's shared cores (issue 10 item 4): one column trait that the synchronous
//! and asynchronous APIs read alike (same C type per Rust type, same chunked SQLGetData),
//! data-at-execution through the asynchronous statement (§1.3: SQLParamData and SQLPutData
//! run asynchronously; §1.7: SQL_NEED_DATA is a final result), and `SQL_NO_DATA` from
//! SQLGetData told apart from "column already read" (issue 9 item 8, §3.2: a cursor closed
//! underneath).

mod common;

use std::future::Future;
use std::io::Read;

use odbc_dm::api::{AsyncConnection, AsyncStatement, Connection, Environment, Error, LongText, Streamed, TextEncoding};
use odbc_dm::raw;
use odbc_dm_abi::*;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Db {
    Sqlite,
    Postgres,
}

fn conn_str(db: Db, test: &str) -> String {
    common::init();
    match db {
        Db::Sqlite => common::sqlite_conn_str(&common::temp_db(test)),
        // The test command starts PostgreSQL: a missing server is a failure, not a skip.
        Db::Postgres => common::postgres_conn_str(test).unwrap_or_else(|| panic!("{test}: PostgreSQL is required")),
    }
}

fn connect(env: &Environment, cs: &str, enc: TextEncoding) -> Connection {
    let mut c = env.connect_with_connection_string(cs).unwrap();
    c.set_text_encoding(enc);
    c
}

fn blob_type(db: Db) -> &'static str {
    match db {
        Db::Sqlite => "BLOB",
        Db::Postgres => "BYTEA",
    }
}

/// Text with 1-, 2-, 3- and 4-byte UTF-8 characters (a surrogate pair in UTF-16), long
/// enough that SQLGetData returns it in several pieces and pieces end inside characters.
fn long_text(chars: usize) -> String {
    "aé€𝄞".chars().cycle().take(chars).collect()
}

fn blob(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 256) as u8).collect()
}

/// What a read gave, comparable between the two APIs: the value, or the error's kind and
/// SQLSTATE.
fn outcome<T: std::fmt::Debug>(r: Result<T, Error>) -> String {
    match r {
        Ok(v) => format!("Ok({v:?})"),
        Err(Error::Odbc { function, return_code, records }) => {
            format!("Odbc({function}, {return_code}, {:?})", records.first().map(|r| r.state.clone()))
        }
        Err(Error::UnexpectedNull { column }) => format!("UnexpectedNull({column})"),
        Err(e) => format!("Other({e})"),
    }
}

/// Reads the row `(a INTEGER, b BIGINT, c DOUBLE PRECISION, d TEXT, e BLOB, f INTEGER NULL)`
/// with the synchronous API; one outcome string per read, in order.
fn read_sync(conn: &Connection, table: &str) -> Vec<String> {
    let mut cur = conn.execute(&format!("SELECT a, b, c, d, e, f, f, d, b FROM {table}"), ()).unwrap().unwrap();
    let mut row = cur.next_row().unwrap().unwrap();
    vec![
        outcome(row.get::<i32>(1)),
        outcome(row.get::<i64>(2)),
        outcome(row.get::<f64>(3)),
        outcome(row.get::<String>(4)),
        outcome(row.get::<Vec<u8>>(5)),
        outcome(row.get::<Option<i32>>(6)),
        outcome(row.get::<i64>(7)),
        outcome(row.get::<Option<String>>(8)),
        // A BIGINT above i32::MAX read as i32.
        outcome(row.get::<i32>(9)),
    ]
}

async fn read_async(st: &mut AsyncStatement, table: &str) -> Vec<String> {
    assert!(st.execute(format!("SELECT a, b, c, d, e, f, f, d, b FROM {table}")).await.unwrap());
    assert!(st.fetch().await.unwrap());
    vec![
        outcome(st.get_data::<i32>(1).await),
        outcome(st.get_data::<i64>(2).await),
        outcome(st.get_data::<f64>(3).await),
        outcome(st.get_data::<String>(4).await),
        outcome(st.get_data::<Vec<u8>>(5).await),
        outcome(st.get_data::<Option<i32>>(6).await),
        outcome(st.get_data::<i64>(7).await),
        outcome(st.get_data::<Option<String>>(8).await),
        outcome(st.get_data::<i32>(9).await),
    ]
}

/// One column trait, one C type per Rust type (i64 and i32 → SQL_C_SBIGINT, i32 checked,
/// f64 → SQL_C_DOUBLE, String → SQL_C_CHAR/WCHAR, Vec<u8> → SQL_C_BINARY), one chunked
/// SQLGetData: the sync and async APIs give the same outcome for every read — values,
/// NULL into `Option` and into a plain type, long text and binary read in pieces, and a
/// BIGINT too large for an i32 — in both text encodings.
fn columns_read_alike(db: Db) {
    let cs = conn_str(db, &format!("api_core_cols_{db:?}"));
    let env = Environment::new().unwrap();
    let table = common::unique_table("api_core_cols");
    let text = long_text(9000);
    let bytes = blob(10_000);
    {
        let conn = connect(&env, &cs, TextEncoding::Utf8);
        conn.execute(
            &format!("CREATE TABLE {table} (a INTEGER, b BIGINT, c DOUBLE PRECISION, d TEXT, e {}, f INTEGER)", blob_type(db)),
            (),
        )
        .unwrap();
        conn.execute(&format!("INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?)"), (-7i32, 1i64 << 40, 2.5f64, &text, &bytes, None::<i32>))
            .unwrap();
    }
    let expected_values = [
        "Ok(-7)".to_string(),
        format!("Ok({})", 1i64 << 40),
        "Ok(2.5)".to_string(),
        format!("Ok({text:?})"),
        format!("Ok({bytes:?})"),
        "Ok(None)".to_string(),
        "UnexpectedNull(7)".to_string(),
        format!("Ok(Some({text:?}))"),
    ];
    for enc in [TextEncoding::Utf8, TextEncoding::Utf16] {
        let sync = read_sync(&connect(&env, &cs, enc), &table);
        let conn = AsyncConnection::from_connection(connect(&env, &cs, enc)).unwrap();
        let mut st = conn.statement().unwrap();
        let asynchronous = pollster::block_on(read_async(&mut st, &table));
        assert_eq!(&sync[..8], &expected_values[..], "{db:?} {enc:?}: sync values");
        assert_eq!(sync, asynchronous, "{db:?} {enc:?}: the async API reads like the sync one");
        // Both drivers wrap 2^40 to 0 when asked for SQL_C_SLONG: an i32 is read as
        // SQL_C_SBIGINT and checked, so the overflow is an error, never a wrong number.
        assert!(sync[8].contains("does not fit an i32"), "{db:?} {enc:?}: {}", sync[8]);
        drop(st);
    }
    let conn = connect(&env, &cs, TextEncoding::Utf8);
    conn.execute(&format!("DROP TABLE {table}"), ()).unwrap();
}

#[test]
fn columns_read_alike_sync_and_async_sqlite() {
    columns_read_alike(Db::Sqlite);
}

#[test]
fn columns_read_alike_sync_and_async_postgres() {
    columns_read_alike(Db::Postgres);
}

/// A reader that fails after `ok` bytes.
struct Failing {
    ok: usize,
}

impl Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.ok == 0 {
            return Err(std::io::Error::other("disk on fire"));
        }
        let n = buf.len().min(self.ok);
        buf[..n].fill(b'x');
        self.ok -= n;
        Ok(n)
    }
}

/// §1.3, §1.7, §4.5: data-at-execution through the asynchronous statement. The execution
/// ends in SQL_NEED_DATA; SQLParamData names the parameter; SQLPutData sends it in chunks
/// (≈ 50 KB of multi-byte text: several 8 KB chunks cut on character boundaries), each
/// call an asynchronous operation; the value reads back equal. Also with a prepared
/// statement, a `Streamed` reader with its length, both text encodings, and a reader that
/// fails half way: an [`Error::Io`], the NEED_DATA sequence is cancelled (§4.8) and the
/// statement executes again.
fn async_data_at_exec(db: Db) {
    let cs = conn_str(db, &format!("api_core_dae_{db:?}"));
    let env = Environment::new().unwrap();
    let table = common::unique_table("api_core_dae");
    for enc in [TextEncoding::Utf8, TextEncoding::Utf16] {
        let conn = AsyncConnection::from_connection(connect(&env, &cs, enc)).unwrap();
        let mut st = conn.statement().unwrap();
        pollster::block_on(async {
            st.execute(format!("CREATE TABLE {table} (id INTEGER, t TEXT)")).await.unwrap();
            let big = long_text(20_000);
            assert!(big.len() > 40_000);
            st.execute_with(format!("INSERT INTO {table} VALUES (?, ?)"), (1, LongText(big.clone()))).await.unwrap();
            let streamed = long_text(7_000);
            let reader = Streamed::text(std::io::Cursor::new(streamed.clone().into_bytes())).with_len(streamed.len());
            st.execute_with(format!("INSERT INTO {table} VALUES (?, ?)"), (2, reader)).await.unwrap();
            st.prepare(format!("INSERT INTO {table} VALUES (?, ?)")).await.unwrap();
            st.execute_prepared_with((3, LongText(String::new()))).await.unwrap();
            st.execute_prepared_with((4, LongText("short".into()))).await.unwrap();
            // A reader failing after 10 000 bytes: an I/O error, the sequence cancelled.
            let failing = Streamed::text(Failing { ok: 10_000 }).with_len(20_000);
            let e = st.execute_with(format!("INSERT INTO {table} VALUES (?, ?)"), (5, failing)).await.unwrap_err();
            assert!(matches!(e, Error::Io { parameter: 2, .. }), "{e}");

            assert!(st.execute(format!("SELECT id, t FROM {table} ORDER BY id")).await.unwrap());
            let expected = [(1, big.as_str()), (2, streamed.as_str()), (3, ""), (4, "short")];
            for (id, t) in expected {
                assert!(st.fetch().await.unwrap(), "{db:?} {enc:?}: row {id}");
                assert_eq!(st.get_data::<i32>(1).await.unwrap(), id);
                let got = st.get_data::<Option<String>>(2).await.unwrap();
                // SQLite stores an empty data-at-execution value as NULL or ''.
                assert_eq!(got.unwrap_or_default(), t, "{db:?} {enc:?}: row {id} read back equal");
            }
            assert!(!st.fetch().await.unwrap(), "{db:?} {enc:?}: the failed insert left no row");
            st.execute(format!("DROP TABLE {table}")).await.unwrap();
        });
    }
}

#[test]
fn s1_3_async_data_at_exec_long_text_sqlite() {
    async_data_at_exec(Db::Sqlite);
}

#[test]
fn s1_3_async_data_at_exec_long_text_postgres() {
    async_data_at_exec(Db::Postgres);
}

fn is_already_read(e: &Error) -> bool {
    matches!(e, Error::Usage(m) if m.contains("already read"))
}

/// Reads text column 1 of the current row of `h` with a raw SQLGetData (a large buffer).
fn raw_read_text(h: SqlHStmt) -> SqlReturn {
    let mut buf = vec![0u8; 1024];
    let mut ind: SqlLen = 0;
    // SAFETY: a live statement handle with a fetched row; `buf` and `ind` valid.
    unsafe { raw::SQLGetData(h, 1, CDataType::SQL_C_CHAR, buf.as_mut_ptr() as SqlPointer, buf.len() as SqlLen, &mut ind) }
}

/// Issue 9 item 8, §3.2: SQL_NO_DATA from SQLGetData is "already read" only when the API
/// read that column in this row. A column read through the raw handle first, or a cursor
/// closed underneath (SQLCloseCursor on the raw handle), is reported as the real condition:
/// SQL_NO_DATA as an ODBC outcome, or the DM's own SQLSTATE. Sync and async alike.
fn no_data_told_apart(db: Db) {
    let cs = conn_str(db, &format!("api_core_nodata_{db:?}"));
    let env = Environment::new().unwrap();
    let conn = connect(&env, &cs, TextEncoding::Utf8);
    let sql = "SELECT 'abc', 'def'";

    // Sync: read twice → already read.
    let mut cur = conn.execute(sql, ()).unwrap().unwrap();
    let mut row = cur.next_row().unwrap().unwrap();
    assert_eq!(row.get::<String>(1).unwrap(), "abc");
    let e = row.get::<String>(1).unwrap_err();
    assert!(is_already_read(&e), "{db:?}: {e}");
    drop(cur);

    // Sync: read through the raw handle first → SQL_NO_DATA reported as such.
    let mut cur = conn.execute(sql, ()).unwrap().unwrap();
    let h = cur.as_raw();
    let mut row = cur.next_row().unwrap().unwrap();
    assert_eq!(raw_read_text(h), SqlReturn::SQL_SUCCESS);
    let e = row.get::<String>(1).unwrap_err();
    assert!(!is_already_read(&e), "{db:?}: the API did not read column 1: {e}");
    assert!(matches!(e, Error::Odbc { function: "SQLGetData", return_code: 100, .. }), "{db:?}: {e}");
    assert!(e.to_string().contains("SQL_NO_DATA"), "{e}");
    // Column 2, never read, still reads.
    assert_eq!(row.get::<String>(2).unwrap(), "def");
    drop(cur);

    // Sync: the cursor closed underneath → the DM's answer (24000 invalid cursor state or
    // HY010 sequence error), never "already read".
    let mut cur = conn.execute(sql, ()).unwrap().unwrap();
    let h = cur.as_raw();
    let mut row = cur.next_row().unwrap().unwrap();
    assert_eq!(row.get::<String>(1).unwrap(), "abc");
    // SAFETY: the cursor's live statement handle.
    assert!(unsafe { raw::SQLCloseCursor(h) }.is_success());
    let e = row.get::<String>(2).unwrap_err();
    assert!(!is_already_read(&e), "{db:?}: {e}");
    let closed_state = e.sqlstate().map(str::to_owned);
    assert!(matches!(closed_state.as_deref(), Some("24000" | "HY010")), "{db:?}: {e}");
    drop(cur);

    // Sync: an idle SQLCancel on the raw handle (the case: SQLite's driver closes
    // the cursor when such a cancel reaches it, §3.3 makes it a no-op): the next column
    // reads, or its SQL_NO_DATA is reported as such, never as "already read".
    let mut cur = conn.execute(sql, ()).unwrap().unwrap();
    let h = cur.as_raw();
    let mut row = cur.next_row().unwrap().unwrap();
    assert_eq!(row.get::<String>(1).unwrap(), "abc");
    // SAFETY: the cursor's live statement handle.
    assert!(unsafe { raw::SQLCancel(h) }.is_success());
    match row.get::<String>(2) {
        Ok(v) => assert_eq!(v, "def", "{db:?}"),
        Err(e) => {
            assert!(!is_already_read(&e), "{db:?}: {e}");
            assert!(matches!(e, Error::Odbc { function: "SQLGetData", return_code: 100, .. }), "{db:?}: {e}");
        }
    }
    drop(cur);

    // Async: the same two cases.
    let conn = AsyncConnection::from_connection(conn).unwrap();
    let mut st = conn.statement().unwrap();
    pollster::block_on(async {
        assert!(st.execute(sql).await.unwrap());
        assert!(st.fetch().await.unwrap());
        assert_eq!(st.get_data::<String>(1).await.unwrap(), "abc");
        let e = st.get_data::<String>(1).await.unwrap_err();
        assert!(is_already_read(&e), "{db:?} async: {e}");
        // A new row (a new execution): nothing read yet.
        assert!(st.execute(sql).await.unwrap());
        assert!(st.fetch().await.unwrap());
        assert_eq!(st.get_data::<String>(1).await.unwrap(), "abc");
        // SAFETY: the statement's live handle; nothing outstanding.
        assert!(unsafe { raw::SQLCloseCursor(st.as_raw()) }.is_success());
        let e = st.get_data::<String>(2).await.unwrap_err();
        assert!(!is_already_read(&e), "{db:?} async: {e}");
        assert_eq!(e.sqlstate().map(str::to_owned), closed_state, "{db:?} async: as the sync API reports it");
    });
}

#[test]
fn no_data_told_apart_from_already_read_sqlite() {
    no_data_told_apart(Db::Sqlite);
}

#[test]
fn no_data_told_apart_from_already_read_postgres() {
    no_data_told_apart(Db::Postgres);
}

/// A reader that counts its reads (shared with the test).
struct Counting {
    inner: std::io::Cursor<Vec<u8>>,
    reads: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.read(buf)
    }
}

/// §4.8: a data-at-execution execution whose future is dropped half way (after its first
/// chunk went out, with SQLPutData operations still to come) leaves the statement usable:
/// the next operation ends the NEED_DATA sequence with SQLCancel first, then runs.
fn async_data_at_exec_dropped(db: Db) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Context, Waker};
    use std::time::{Duration, Instant};
    let cs = conn_str(db, &format!("api_core_dae_drop_{db:?}"));
    let env = Environment::new().unwrap();
    let table = common::unique_table("api_core_dae_drop");
    let conn = AsyncConnection::from_connection(connect(&env, &cs, TextEncoding::Utf8)).unwrap();
    let mut st = conn.statement().unwrap();
    st.execute_blocking(format!("CREATE TABLE {table} (id INTEGER, t TEXT)")).unwrap();
    // Dropped after the first, second and fifth chunk was read (of about ten).
    for drop_after in [1, 2, 5] {
        let reads = Arc::new(AtomicUsize::new(0));
        let text = long_text(30_000).into_bytes();
        let reader = Streamed::text(Counting { inner: std::io::Cursor::new(text.clone()), reads: reads.clone() }).with_len(text.len());
        {
            let mut f = st.execute_with(format!("INSERT INTO {table} VALUES (?, ?)"), (1, reader));
            let mut cx = Context::from_waker(Waker::noop());
            let t = Instant::now();
            while reads.load(Ordering::SeqCst) < drop_after {
                assert!(std::pin::Pin::new(&mut f).poll(&mut cx).is_pending(), "{db:?}: the execution ended before it was dropped");
                assert!(t.elapsed() < Duration::from_secs(10), "{db:?}: no chunk sent within 10 s");
                std::thread::sleep(Duration::from_millis(1));
            }
            // Dropped here, in the middle of the data-at-execution sequence.
        }
        assert!(st.execute_blocking(format!("SELECT COUNT(*) FROM {table}")).unwrap(), "{db:?}: usable after the drop");
        assert!(st.fetch_blocking().unwrap());
        assert_eq!(st.get_data_blocking::<i64>(1).unwrap(), 0, "{db:?}: the dropped insert inserted nothing");
    }
    st.execute_blocking(format!("DROP TABLE {table}")).unwrap();
}

#[test]
fn s4_8_async_data_at_exec_dropped_future_sqlite() {
    async_data_at_exec_dropped(Db::Sqlite);
}

#[test]
fn s4_8_async_data_at_exec_dropped_future_postgres() {
    async_data_at_exec_dropped(Db::Postgres);
}

/// One rowset view over bound buffers: a [`BoundCursor`](odbc_dm::api::BoundCursor) and an
/// [`AsyncBlockCursor`](odbc_dm::api::AsyncBlockCursor) over the same query give the same
/// rows, NULLs, truncation flags and row statuses (rowsets of 3 over 7 rows: a short last
/// one). And the catalog functions, built once, answer alike in both APIs.
fn rowsets_and_catalog_alike(db: Db) {
    use odbc_dm::api::{BufferDesc, RowSet};
    let cs = conn_str(db, &format!("api_core_rowset_{db:?}"));
    let env = Environment::new().unwrap();
    let table = common::unique_table("api_core_rowset");
    let conn = connect(&env, &cs, TextEncoding::Utf8);
    conn.execute(&format!("CREATE TABLE {table} (id BIGINT PRIMARY KEY, x DOUBLE PRECISION, t VARCHAR(40))"), ()).unwrap();
    for i in 0..7i64 {
        let t = if i == 3 { None } else { Some(format!("row {i} {}", "é".repeat(i as usize))) };
        conn.execute(&format!("INSERT INTO {table} VALUES (?, ?, ?)"), (i, i as f64 / 4.0, t)).unwrap();
    }
    let sql = format!("SELECT id, x, t FROM {table} ORDER BY id");
    let cols = [BufferDesc::I64, BufferDesc::F64, BufferDesc::Text { max_chars: 2 }];
    let dump = |rs: &RowSet, out: &mut Vec<String>| {
        for r in 0..rs.len() {
            out.push(format!("{:?} {:?} {:?} {} {}", rs.i64(1, r), rs.f64(2, r), rs.text(3, r), rs.is_truncated(3, r), rs.row_status(r)));
        }
    };
    let mut sync_rows = Vec::new();
    let mut sync_sizes = Vec::new();
    {
        let mut bc = conn.execute(&sql, ()).unwrap().unwrap().bind_buffers(3, &cols).unwrap();
        while let Some(rs) = bc.fetch().unwrap() {
            sync_sizes.push(rs.len());
            dump(rs, &mut sync_rows);
        }
    }
    let sync_tables = {
        let mut st = conn.statement().unwrap();
        let mut cur = st.primary_keys(None, None, &table).unwrap();
        let mut n = 0;
        while cur.next_row().unwrap().is_some() {
            n += 1;
        }
        n
    };
    let aconn = AsyncConnection::from_connection(conn).unwrap();
    let mut st = aconn.statement().unwrap();
    let (async_rows, async_sizes, async_tables) = pollster::block_on(async {
        assert!(st.execute(sql.clone()).await.unwrap());
        let mut rows = Vec::new();
        let mut sizes = Vec::new();
        {
            let mut bc = st.bind_block(3, &cols).unwrap();
            while bc.fetch().await.unwrap() > 0 {
                sizes.push(bc.rows());
                dump(&bc, &mut rows);
            }
        }
        assert!(st.primary_keys(None, None, &table).await.unwrap());
        let mut n = 0;
        while st.fetch().await.unwrap() {
            n += 1;
        }
        (rows, sizes, n)
    });
    assert_eq!(sync_rows.len(), 7, "{db:?}: {sync_rows:?}");
    assert!(
        sync_rows[3].contains("None") && sync_rows[0].contains("false") && sync_rows[6].contains("true"),
        "{db:?}: NULL and truncation seen: {sync_rows:?}"
    );
    assert_eq!(sync_rows, async_rows, "{db:?}: the same rowset view");
    assert_eq!(sync_sizes, async_sizes, "{db:?}");
    assert_eq!((sync_tables, async_tables), (1, 1), "{db:?}: SQLPrimaryKeys in both APIs");
    // An argument too long for SQLSMALLINT: the same typed error in both APIs.
    let long = "t".repeat(40_000);
    let e = st.tables_blocking(None, None, Some(&long), None).unwrap_err();
    assert!(matches!(e, Error::Usage(_)), "{e}");
    let e = aconn.connection().statement().unwrap().tables(None, None, Some(&long), None).err().unwrap();
    assert!(matches!(e, Error::Usage(_)), "{e}");
    st.execute_blocking(format!("DROP TABLE {table}")).unwrap();
}

#[test]
fn rowsets_and_catalog_alike_sync_and_async_sqlite() {
    rowsets_and_catalog_alike(Db::Sqlite);
}

#[test]
fn rowsets_and_catalog_alike_sync_and_async_postgres() {
    rowsets_and_catalog_alike(Db::Postgres);
}

/// A waker that counts its wakes.
struct CountingWaker(std::sync::atomic::AtomicUsize);

impl std::task::Wake for CountingWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// §2.9, §2.14: a `get_data` future dropped while the value is being read in pieces (the
/// driver holds a piece, or has returned some) never lets a later read return the rest of
/// the value as if it were the whole: the column reads whole, or the read is refused
/// ("read in part"); the next row reads normally. Reference driver in notification mode
/// (each SQLGetData piece takes two steps), step delays of 0, 5 and 50 ms, the future
/// dropped after its first, second and third wake.
#[test]
fn s2_9_dropped_get_data_never_yields_the_rest_as_a_value_refdriver() {
    use std::sync::atomic::Ordering;
    use std::sync::Arc;
    use std::task::{Context, Waker};
    use std::time::{Duration, Instant};
    common::init();
    let env = Environment::new().unwrap();
    let long = "ab".repeat(15_000);
    for delay in [0, 5, 50] {
        let conn = AsyncConnection::connect_blocking(&env, &common::refdriver_conn_str(&format!("Steps=2;Delay={delay}"))).unwrap();
        let mut st = conn.statement().unwrap();
        assert!(!st.is_emulated());
        for wakes in 1..=3 {
            assert!(st.execute_blocking(format!("SELECT '{long}', 5 UNION ALL SELECT '{long}', 6")).unwrap());
            assert!(st.fetch_blocking().unwrap());
            let counter = Arc::new(CountingWaker(Default::default()));
            let waker = Waker::from(counter.clone());
            let mut cx = Context::from_waker(&waker);
            let mut finished = None;
            {
                let mut f = st.get_data::<String>(1);
                let t = Instant::now();
                loop {
                    if let std::task::Poll::Ready(r) = std::pin::Pin::new(&mut f).poll(&mut cx) {
                        finished = Some(r);
                        break;
                    }
                    if counter.0.load(Ordering::SeqCst) >= wakes {
                        break;
                    }
                    assert!(t.elapsed() < Duration::from_secs(10), "delay {delay}: no progress");
                    std::thread::sleep(Duration::from_millis(1));
                }
                // Dropped here unless it finished.
            }
            let again = st.get_data_blocking::<String>(1);
            match (finished, again) {
                (Some(r), again) => {
                    assert_eq!(r.unwrap(), long, "delay {delay}");
                    assert!(matches!(again, Err(Error::Usage(m)) if m.contains("already read")), "delay {delay}");
                }
                (None, Ok(v)) => assert!(
                    v == long,
                    "delay {delay}, {wakes} wakes: a re-read is the whole value or nothing, got {} bytes starting {:?}",
                    v.len(),
                    &v[..v.len().min(8)]
                ),
                (None, Err(e)) => assert!(matches!(&e, Error::Usage(m) if m.contains("in part")), "delay {delay}, {wakes} wakes: {e}"),
            }
            assert_eq!(st.get_data_blocking::<i64>(2).unwrap(), 5, "delay {delay}: the other column reads");
            assert!(st.fetch_blocking().unwrap());
            assert_eq!(st.get_data_blocking::<String>(1).unwrap(), long, "delay {delay}: the next row reads whole");
            st.close_cursor().unwrap();
        }
    }
}
