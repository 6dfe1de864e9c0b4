//! The asynchronous safe API (`odbc_dm::api::{AsyncConnection, AsyncStatement, ...}`):
//! notification mode (§2) natively on the reference driver, emulated by the DM on the
//! real drivers; cancellation (§2.14, §3.2) through `AsyncOperation::abort` and by dropping
//! futures; driver faults that never call back.

mod common;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use odbc_dm::api::{AbortOutcome, AsyncConnection, AsyncStatement, BufferDesc, Environment, Error, Phase};

fn refdriver(extra: &str) -> (Environment, AsyncConnection) {
    common::init();
    let env = Environment::new().unwrap();
    let conn = AsyncConnection::connect_blocking(&env, &common::refdriver_conn_str(extra)).unwrap();
    (env, conn)
}

fn assert_hy008<T: std::fmt::Debug>(r: Result<T, Error>, what: &str) {
    match r {
        Err(e) => assert_eq!(e.sqlstate(), Some("HY008"), "{what}: {e}"),
        Ok(v) => panic!("{what}: expected HY008, got Ok({v:?})"),
    }
}

/// Polls a future once with a no-op waker.
fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    let mut cx = Context::from_waker(Waker::noop());
    std::pin::Pin::new(f).poll(&mut cx)
}

/// Waits until the operation left `Phase::Pending` (its future started it on another thread).
fn wait_started(op: &odbc_dm::api::AsyncOperation) {
    let t = Instant::now();
    while op.phase() == Phase::Pending {
        assert!(t.elapsed() < Duration::from_secs(5), "operation never started");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// (1) Native notification on the reference driver (§2.1, §2.4): every call returns
/// SQL_STILL_EXECUTING, five steps each (`Steps=5`), completion through the callback, the
/// dispatcher's waker and SQLCompleteAsync (§2.13); values come back right. Run with
/// pollster (no runtime), plus the blocking twins.
#[test]
fn refdriver_execute_fetch_get_data_with_pollster() {
    let (env, conn) = refdriver("Steps=5");
    pollster::block_on(async {
        let mut st = conn.statement().unwrap();
        assert!(!st.is_emulated(), "the reference driver is notification-capable (§2.3)");
        assert!(st.execute("SELECT 42, 'héllo', 1.5, NULL").await.unwrap());
        assert_eq!(st.column_count().await.unwrap(), 4);
        assert!(st.fetch().await.unwrap());
        assert_eq!(st.get_data::<i64>(1).await.unwrap(), 42);
        assert_eq!(st.get_data::<String>(2).await.unwrap(), "héllo");
        assert_eq!(st.get_data::<f64>(3).await.unwrap(), 1.5);
        assert_eq!(st.get_data::<Option<i64>>(4).await.unwrap(), None);
        assert!(!st.fetch().await.unwrap());
        assert!(!st.more_results().await.unwrap());

        // A long text value comes in several SQLGetData pieces (01004).
        let long = "x".repeat(10_000);
        assert!(st.execute(format!("SELECT '{long}'")).await.unwrap());
        assert!(st.fetch().await.unwrap());
        assert_eq!(st.get_data::<String>(1).await.unwrap(), long);

        // Errors carry SQLSTATE, message and the ODBC function.
        let e = st.execute("SELECT * FROM no_such_table").await.unwrap_err();
        assert_eq!(e.function(), Some("SQLExecDirect"), "{e}");
        assert!(e.sqlstate().is_some(), "{e}");

        // Prepare / execute, block fetch into cursor-owned buffers.
        assert!(!st.execute("CREATE TABLE t (a INTEGER, b TEXT)").await.unwrap());
        for i in 1..=5 {
            st.execute(format!("INSERT INTO t VALUES ({i}, 'r{i}')")).await.unwrap();
        }
        st.prepare("SELECT a, b FROM t ORDER BY a").await.unwrap();
        assert!(st.execute_prepared().await.unwrap());
        let mut rows = Vec::new();
        {
            let mut bc = st.bind_block(2, &[BufferDesc::I64, BufferDesc::Text { max_chars: 10 }]).unwrap();
            loop {
                let n = bc.fetch().await.unwrap();
                if n == 0 {
                    break;
                }
                for r in 0..n {
                    rows.push((bc.i64(1, r).unwrap(), bc.text(2, r).unwrap()));
                }
            }
        }
        assert_eq!(rows, (1..=5).map(|i| (i, format!("r{i}"))).collect::<Vec<_>>());
        st.close_cursor().unwrap();
    });

    // Blocking twins.
    let mut st = conn.statement().unwrap();
    assert!(st.execute_blocking("SELECT 7").unwrap());
    assert!(st.fetch_blocking().unwrap());
    assert_eq!(st.get_data_blocking::<i32>(1).unwrap(), 7);
    st.close_cursor().unwrap();
    conn.connection().set_autocommit(false).unwrap();
    pollster::block_on(conn.commit()).unwrap();
    conn.rollback_blocking().unwrap();
    drop(st);
    pollster::block_on(conn.disconnect()).unwrap();
    drop(env);
}

/// 100 queries as `tokio::spawn`ed futures (so they must be `Send + 'static`) on a
/// multi-thread runtime, spread over a few connections, each with its own statement; each
/// returns its own value. The drivers here are synchronous: the DM emulates notification
/// on its worker pool.
async fn hundred_queries(cs: String, connections: usize) {
    let env = Environment::new().unwrap();
    let mut conns = Vec::new();
    for _ in 0..connections {
        conns.push(AsyncConnection::connect(&env, &cs).await.unwrap());
    }
    let t = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..100i64 {
        let conn = conns[i as usize % connections].clone();
        tasks.push(tokio::spawn(async move {
            let mut st: AsyncStatement = conn.statement().unwrap();
            assert!(st.is_emulated(), "this driver has no native notification: the DM emulates it");
            assert!(st.execute(format!("SELECT {}", i * 7 + 3)).await.unwrap());
            assert!(st.fetch().await.unwrap());
            let v: i64 = st.get_data(1).await.unwrap();
            assert!(!st.fetch().await.unwrap());
            (i, v)
        }));
    }
    for task in tasks {
        let (i, v) = task.await.unwrap();
        assert_eq!(v, i * 7 + 3);
    }
    eprintln!("100 emulated queries in {:?}", t.elapsed());
    for c in conns {
        c.disconnect().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_concurrent_queries_sqlite_emulated() {
    common::init();
    let db = common::temp_db("api_async_100");
    hundred_queries(common::sqlite_conn_str(&db), 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_concurrent_queries_postgres_emulated() {
    common::init();
    let Some(cs) = common::postgres_conn_str("hundred_concurrent_queries_postgres_emulated") else { return };
    hundred_queries(cs, 10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_concurrent_queries_mariadb_emulated() {
    common::init();
    let Some(cs) = common::mariadb_conn_str("hundred_concurrent_queries_mariadb_emulated") else { return };
    hundred_queries(cs, 10).await;
}

/// (3) Aborting an emulated `SELECT pg_sleep(30)`: SQLCancel reaches psqlODBC from another
/// thread while the pool thread is inside SQLExecDirect; the completion reports HY008
/// (§2.14, §3.2) within 2 s, to `abort()` and to the future alike; the statement is usable
/// afterwards.
#[test]
fn abort_emulated_pg_sleep_yields_hy008() {
    common::init();
    let Some(cs) = common::postgres_conn_str("abort_emulated_pg_sleep_yields_hy008") else { return };
    let env = Environment::new().unwrap();
    let conn = AsyncConnection::connect_blocking(&env, &cs).unwrap();
    let mut st = conn.statement().unwrap();
    assert!(st.is_emulated());
    let fut = st.execute("SELECT pg_sleep(30)");
    let op = fut.operation();
    std::thread::scope(|s| {
        let runner = s.spawn(move || pollster::block_on(fut));
        wait_started(&op);
        assert!(!op.wait_timeout(Duration::from_millis(300)), "pg_sleep(30) cannot be done yet");
        assert_eq!(op.phase(), Phase::Executing);
        let t = Instant::now();
        assert_eq!(op.abort().unwrap(), AbortOutcome::Cancelled, "abort()");
        assert!(t.elapsed() < Duration::from_secs(2), "abort took {:?}", t.elapsed());
        assert_eq!(op.phase(), Phase::Completed);
        assert_hy008(runner.join().unwrap(), "the aborted future");
    });
    assert!(st.execute_blocking("SELECT 5").unwrap());
    assert!(st.fetch_blocking().unwrap());
    assert_eq!(st.get_data_blocking::<i64>(1).unwrap(), 5);
}

/// (3, 5) Dropping the future of an emulated `SELECT pg_sleep(30)` mid-flight cancels it
/// (§2.14); the SQL text stays alive in the statement's slot until the driver is done
/// (§2.9); the next operation on the statement waits for the cancelled one, then runs —
/// all within 2 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_emulated_pg_sleep_then_reuse() {
    common::init();
    let Some(cs) = common::postgres_conn_str("drop_emulated_pg_sleep_then_reuse") else { return };
    let env = Environment::new().unwrap();
    let conn = AsyncConnection::connect(&env, &cs).await.unwrap();
    let mut st = conn.statement().unwrap();
    let r = tokio::time::timeout(Duration::from_millis(300), st.execute("SELECT pg_sleep(30)")).await;
    assert!(r.is_err(), "pg_sleep(30) finished early?");
    let t = Instant::now();
    assert!(st.execute("SELECT 6").await.unwrap());
    assert!(st.fetch().await.unwrap());
    assert_eq!(st.get_data::<i64>(1).await.unwrap(), 6);
    assert!(t.elapsed() < Duration::from_secs(2), "reuse after drop took {:?}", t.elapsed());
}

/// (4) Drivers that misbehave (§2.7, §2.10): no callback at all, a callback with a garbage
/// context (refused by the DM), or an operation that never completes by itself. The
/// future cannot complete: `wait_timeout(200 ms)` is false; `abort()` cancels, has the
/// DM poll the operation, and collects it (HY008), without hanging. The statement is
/// usable afterwards: a new operation starts cleanly (no IM017/IM018/HY010) and can be
/// aborted the same way, and synchronous calls work.
#[test]
fn faulty_drivers_wait_timeout_and_abort() {
    for (fault, delay) in ["NoCallback", "WrongContext", "StillExecutingForever"].into_iter().flat_map(|f| [0, 5, 50].map(|d| (f, d))) {
        let (_env, conn) = refdriver(&format!("Steps=2;Delay={delay};Fault={fault}"));
        let mut st = conn.statement().unwrap();
        let t = Instant::now();
        for round in 0..2 {
            let fut = st.execute(format!("SELECT {round}"));
            let op = fut.operation();
            assert_eq!(op.phase(), Phase::Pending);
            std::thread::scope(|s| {
                let runner = s.spawn(move || pollster::block_on(fut));
                wait_started(&op);
                assert!(!op.wait_timeout(Duration::from_millis(200)), "{fault}: the operation cannot complete on its own");
                assert_eq!(op.phase(), Phase::Executing, "{fault}");
                let r = op.abort().unwrap();
                assert_eq!(r, AbortOutcome::Cancelled, "{fault}: abort() round {round}");
                assert_eq!(op.phase(), Phase::Completed, "{fault}");
                assert_hy008(runner.join().unwrap(), &format!("{fault}: the aborted future"));
            });
        }
        st.close_cursor().unwrap();
        assert!(t.elapsed() < Duration::from_secs(5), "{fault}: took {:?}", t.elapsed());
    }
}

/// (5) Dropping futures mid-flight (native notification, `Steps=3;Delay=50`): the
/// execute and a GetData into an owned buffer are cancelled, their buffers handed to the
/// slot until the driver is done (§2.9); the statement then works normally.
#[test]
fn drop_future_mid_flight_then_reuse_statement() {
    let (_env, conn) = refdriver("Steps=3;Delay=50");
    let mut st = conn.statement().unwrap();
    {
        let mut f = st.execute("SELECT 1");
        assert!(poll_once(&mut f).is_pending());
        assert_eq!(f.operation().phase(), Phase::Executing);
    }
    assert!(st.execute_blocking("SELECT 'abc', 9").unwrap());
    assert!(st.fetch_blocking().unwrap());
    {
        let mut f = st.get_data::<String>(1);
        assert!(poll_once(&mut f).is_pending());
    }
    // Dropped before even starting: nothing reaches the driver.
    drop(st.fetch());
    let t = Instant::now();
    assert!(st.execute_blocking("SELECT 7").unwrap());
    assert!(st.fetch_blocking().unwrap());
    assert_eq!(st.get_data_blocking::<i64>(1).unwrap(), 7);
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());

    // Pinned futures work too (Unpin is not required by executors).
    let mut f = pin!(st.fetch());
    assert!(matches!(f.as_mut().poll(&mut Context::from_waker(Waker::noop())), Poll::Pending | Poll::Ready(Ok(false))));
}

// ---------------------------------------------------------------------------------------
// Connection functions through connection-level async (§1.4, §2.3)
// ---------------------------------------------------------------------------------------

/// The reference driver's event log (read-only connection attribute 30001, JSON).
fn event_log(conn: &AsyncConnection) -> String {
    use odbc_dm::abi::*;
    let h = conn.connection().as_raw();
    let mut buf = vec![0u8; 1 << 20];
    let mut len = 0i32;
    // SAFETY: live dbc; a buffer of the byte length passed.
    let rc = unsafe { odbc_dm::raw::SQLGetConnectAttr(h, ConnAttr(30001), buf.as_mut_ptr() as SqlPointer, buf.len() as i32, &mut len) };
    assert!(rc.is_success(), "event log: {rc:?}");
    String::from_utf8_lossy(&buf[..(len.max(0) as usize).min(buf.len())]).into_owned()
}

/// `(round, thread)` of every `call` event of `func` in the log, in order.
fn calls_of(log: &str, func: &str) -> Vec<(u64, String)> {
    let field = |ev: &str, name: &str| -> Option<String> {
        let key = format!("\"{name}\":");
        let rest = &ev[ev.find(&key)? + key.len()..];
        Some(match rest.strip_prefix('"') {
            Some(r) => r[..r.find('"')?].to_string(),
            None => rest[..rest.find([',', '}']).unwrap_or(rest.len())].to_string(),
        })
    };
    log.split("{\"seq\"")
        .skip(1)
        .filter(|e| field(e, "kind").as_deref() == Some("call") && field(e, "func").as_deref() == Some(func))
        .map(|e| (field(e, "round").unwrap().parse().unwrap(), field(e, "thread").unwrap()))
        .collect()
}

fn dm_dbc<R>(conn: &AsyncConnection, f: impl FnOnce(&odbc_dm::internals::handles::DbcCore) -> R) -> R {
    odbc_dm::internals::handles::dbc(conn.connection().as_raw()).unwrap().gate.read(|c| f(c))
}

/// `AsyncConnection::connect` really runs asynchronously on the reference driver (native
/// connection-level notification, §2.3): the driver's log shows the first
/// SQLDriverConnectW on the polling thread and its re-invocations on the DM's dispatcher;
/// commit and rollback likewise. Between operations connection-level async is off again,
/// so the synchronous methods of `connection()` work. Disconnect as a future.
#[test]
fn refdriver_connect_commit_disconnect_run_natively_async() {
    common::init();
    let env = Environment::new().unwrap();
    pollster::block_on(async {
        // Delay: the commit below must still be running after its first poll (with no
        // delay, three steps can all end before that poll returns, and the future is ready).
        let conn = AsyncConnection::connect(&env, &common::refdriver_conn_str("Steps=3;Delay=20")).await.unwrap();
        let log = event_log(&conn);
        let calls = calls_of(&log, "SQLDriverConnectW");
        assert!(calls.len() >= 3, "Steps=3: the first call and its re-invocations: {calls:?}");
        assert_eq!(calls[0].0, 0);
        assert!(!calls[0].1.starts_with("odbc-dm-dispatc"), "first call on the polling thread: {calls:?}");
        assert!(calls[1..].iter().all(|(_, t)| t.starts_with("odbc-dm-dispatc")), "re-invocations on the dispatcher: {calls:?}");
        assert!(!dm_dbc(&conn, |c| c.asynch.dbc_emulated), "native, not emulated");
        assert!(!dm_dbc(&conn, |c| c.asynch.dbc_enabled), "connection-level async is off between operations");

        conn.connection().set_autocommit(false).unwrap();
        let mut st = conn.statement().unwrap();
        st.execute("CREATE TABLE ct (a INTEGER)").await.unwrap();
        st.execute("INSERT INTO ct VALUES (1)").await.unwrap();
        conn.commit().await.unwrap();
        st.execute("INSERT INTO ct VALUES (2)").await.unwrap();
        conn.rollback().await.unwrap();
        assert!(st.execute("SELECT COUNT(*) FROM ct").await.unwrap());
        assert!(st.fetch().await.unwrap());
        assert_eq!(st.get_data::<i64>(1).await.unwrap(), 1, "committed row kept, rolled-back row gone");
        st.close_cursor().unwrap();
        let log = event_log(&conn);
        let end = calls_of(&log, "SQLEndTran");
        assert!(end.iter().any(|(r, t)| *r > 0 && t.starts_with("odbc-dm-dispatc")), "SQLEndTran re-invoked on the dispatcher: {end:?}");
        // Blocking twins still work (synchronous calls).
        conn.commit_blocking().unwrap();
        // Another connection function while one runs: HY010, not a hang.
        let c2 = conn.clone();
        let mut f1 = conn.commit();
        assert!(poll_once(&mut f1).is_pending());
        let e = c2.rollback().await.unwrap_err();
        assert_eq!(e.sqlstate(), Some("HY010"), "{e}");
        f1.await.unwrap();
        drop(c2);
        drop(st);
        conn.disconnect().await.unwrap();
    });
}

/// Dropping a connect future mid-flight (§2.14, §3.4): the connect is cancelled with
/// SQLCancelHandle(DBC) and its handle freed off-thread, also for a driver that would never
/// finish by itself (`Fault=StillExecutingForever`: the cancel ends it with HY008).
#[test]
fn dropped_connect_future_is_cancelled_and_freed() {
    common::init();
    let env = Environment::new().unwrap();
    for extra in ["Steps=3;Delay=50", "Steps=2;Delay=5;Fault=StillExecutingForever"] {
        let h = {
            let mut f = AsyncConnection::connect(&env, &common::refdriver_conn_str(extra));
            assert!(poll_once(&mut f).is_pending(), "{extra}");
            let h = f.raw_handle().unwrap();
            assert!(odbc_dm::internals::handles::dbc(h).unwrap().async_slot.is_active(), "{extra}: the connect is outstanding");
            h
        };
        // Handle ids are never reused: the handle is gone once freed.
        let t = Instant::now();
        while odbc_dm::internals::handles::dbc(h).is_some() {
            assert!(t.elapsed() < Duration::from_secs(5), "{extra}: the connection handle was not freed");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    // A connect the DM refuses at once (driver not found) fails through the future too.
    let e = pollster::block_on(AsyncConnection::connect(&env, "DRIVER=/nonexistent/libnone.so")).unwrap_err();
    assert!(e.sqlstate().is_some_and(|s| s.starts_with("IM")), "{e}");
    // The environment is still fine.
    let conn = AsyncConnection::connect_blocking(&env, &common::refdriver_conn_str("")).unwrap();
    conn.disconnect_blocking().unwrap();
}

/// Connect, commit, rollback and disconnect as futures on drivers without connection-level
/// async (the DM emulates it on its pool, attribute 65501 = 1): the values show the
/// transaction outcome.
async fn emulated_connection_functions(cs: String, table: &str) {
    let env = Environment::new().unwrap();
    let conn = AsyncConnection::connect(&env, &cs).await.unwrap();
    assert!(dm_dbc(&conn, |c| c.asynch.dbc_emulated), "the DM emulates connection-level async for this driver");
    let mut st = conn.statement().unwrap();
    let _ = st.execute(format!("DROP TABLE {table}")).await;
    st.execute(format!("CREATE TABLE {table} (a INTEGER)")).await.unwrap();
    conn.connection().set_autocommit(false).unwrap();
    st.execute_with(format!("INSERT INTO {table} VALUES (?)"), (1,)).await.unwrap();
    conn.commit().await.unwrap();
    st.execute_with(format!("INSERT INTO {table} VALUES (?)"), (2,)).await.unwrap();
    conn.rollback().await.unwrap();
    assert!(st.execute(format!("SELECT SUM(a) FROM {table}")).await.unwrap());
    assert!(st.fetch().await.unwrap());
    assert_eq!(st.get_data::<i64>(1).await.unwrap(), 1);
    st.close_cursor().unwrap();
    st.execute(format!("DROP TABLE {table}")).await.unwrap();
    conn.commit().await.unwrap();
    drop(st);
    conn.disconnect().await.unwrap();
}

#[test]
fn emulated_connection_functions_sqlite() {
    common::init();
    let db = common::temp_db("api_async_conn_emu");
    pollster::block_on(emulated_connection_functions(common::sqlite_conn_str(&db), "ct"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulated_connection_functions_postgres() {
    common::init();
    let Some(cs) = common::postgres_conn_str("emulated_connection_functions_postgres") else { return };
    emulated_connection_functions(cs, &common::unique_table("api_async_ct")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulated_connection_functions_mariadb() {
    common::init();
    let Some(cs) = common::mariadb_conn_str("emulated_connection_functions_mariadb") else { return };
    emulated_connection_functions(cs, &common::unique_table("api_async_ct")).await;
}

// ---------------------------------------------------------------------------------------
// Parameters and catalog functions
// ---------------------------------------------------------------------------------------

/// `execute_with` / `execute_prepared_with`: statement-owned parameter buffers of each
/// supported type, NULLs included; values read back unchanged.
async fn params_roundtrip(conn: &AsyncConnection, driver_refuses_async_at_exec: bool) {
    let mut st = conn.statement().unwrap();
    let _ = st.execute("DROP TABLE pt").await;
    st.execute("CREATE TABLE pt (a INTEGER, b BIGINT, c DOUBLE PRECISION, d VARCHAR(50), e BLOB, f VARCHAR(50))").await.unwrap();
    let blob: &[u8] = &[0, 1, 2, 255, 254];
    let none: Option<String> = None;
    let n = st
        .execute_with("INSERT INTO pt VALUES (?, ?, ?, ?, ?, ?)", (7i32, 1i64 << 40, 2.25f64, "héllo".to_string(), blob, none))
        .await
        .unwrap();
    assert!(!n);
    st.prepare("INSERT INTO pt VALUES (?, ?, ?, ?, ?, ?)").await.unwrap();
    for i in 0..3i32 {
        let text: Option<&str> = Some("opt");
        st.execute_prepared_with((100 + i, -(i as i64), i as f64 / 2.0, format!("row{i}"), vec![i as u8; 3], text)).await.unwrap();
    }
    assert!(st.execute_with("SELECT a, b, c, d, e, f FROM pt WHERE a >= ? ORDER BY a", (0,)).await.unwrap());
    assert!(st.fetch().await.unwrap());
    assert_eq!(st.get_data::<i32>(1).await.unwrap(), 7);
    assert_eq!(st.get_data::<i64>(2).await.unwrap(), 1 << 40);
    assert_eq!(st.get_data::<f64>(3).await.unwrap(), 2.25);
    assert_eq!(st.get_data::<String>(4).await.unwrap(), "héllo");
    assert_eq!(st.get_data::<Vec<u8>>(5).await.unwrap(), blob);
    assert_eq!(st.get_data::<Option<String>>(6).await.unwrap(), None);
    for i in 0..3i32 {
        assert!(st.fetch().await.unwrap());
        assert_eq!(st.get_data::<i32>(1).await.unwrap(), 100 + i);
        assert_eq!(st.get_data::<i64>(2).await.unwrap(), -(i as i64));
        assert_eq!(st.get_data::<f64>(3).await.unwrap(), i as f64 / 2.0);
        assert_eq!(st.get_data::<String>(4).await.unwrap(), format!("row{i}"));
        assert_eq!(st.get_data::<Vec<u8>>(5).await.unwrap(), vec![i as u8; 3]);
        assert_eq!(st.get_data::<Option<String>>(6).await.unwrap().as_deref(), Some("opt"));
    }
    assert!(!st.fetch().await.unwrap());
    // A plain execute resets the parameters.
    assert!(st.execute("SELECT COUNT(*) FROM pt").await.unwrap());
    assert!(st.fetch().await.unwrap());
    assert_eq!(st.get_data::<i64>(1).await.unwrap(), 4);
    st.close_cursor().unwrap();
    // Data-at-execution values go out with SQLParamData/SQLPutData as asynchronous
    // operations (§1.3); a driver that refuses them asynchronously says so with its own
    // SQLSTATE (the reference driver: HYC00), and the statement stays usable.
    let r = st.execute_with("SELECT ?", (odbc_dm::api::LongText("x".into()),)).await;
    if driver_refuses_async_at_exec {
        let e = r.unwrap_err();
        assert_eq!(e.sqlstate(), Some("HYC00"), "{e}");
        assert!(st.execute("SELECT 1").await.unwrap());
    } else {
        assert!(r.unwrap());
        assert!(st.fetch().await.unwrap());
        assert_eq!(st.get_data::<String>(1).await.unwrap(), "x");
    }
}

#[test]
fn params_refdriver_native() {
    let (_env, conn) = refdriver("Steps=2");
    pollster::block_on(params_roundtrip(&conn, true));
    // Dropped mid-flight: the parameters stay bound and alive in the statement; the next
    // execution rebinds them.
    let (_env2, conn) = refdriver("Steps=3;Delay=50");
    let mut st = conn.statement().unwrap();
    {
        let mut f = st.execute_with("SELECT ?, ?", (5, "five"));
        assert!(poll_once(&mut f).is_pending());
    }
    assert!(st.execute_with_blocking("SELECT ?, ?", (6, "six")).unwrap());
    assert!(st.fetch_blocking().unwrap());
    assert_eq!(st.get_data_blocking::<i64>(1).unwrap(), 6);
    assert_eq!(st.get_data_blocking::<String>(2).unwrap(), "six");
}

#[test]
fn params_sqlite_emulated() {
    common::init();
    let db = common::temp_db("api_async_params");
    let env = Environment::new().unwrap();
    let conn = AsyncConnection::connect_blocking(&env, &common::sqlite_conn_str(&db)).unwrap();
    assert!(conn.statement().unwrap().is_emulated());
    pollster::block_on(params_roundtrip(&conn, false));
}

/// `tables` / `columns` leave the statement with the catalog's result set open; owned
/// argument strings (native notification on the reference driver).
#[test]
fn catalog_tables_and_columns_refdriver() {
    let (_env, conn) = refdriver("Steps=2");
    pollster::block_on(async {
        let mut st = conn.statement().unwrap();
        st.execute("CREATE TABLE cat_t (id INTEGER, name VARCHAR(20))").await.unwrap();
        st.execute("CREATE TABLE other_t (x INTEGER)").await.unwrap();
        let pattern = String::from("cat_%");
        assert!(st.tables(None, None, Some(&pattern), Some("TABLE")).await.unwrap());
        drop(pattern);
        let mut names = Vec::new();
        while st.fetch().await.unwrap() {
            names.push(st.get_data::<String>(3).await.unwrap());
            assert_eq!(st.get_data::<String>(4).await.unwrap(), "TABLE");
        }
        assert_eq!(names, ["cat_t"]);
        assert!(st.columns(None, None, Some("cat_t"), None).await.unwrap());
        let mut cols = Vec::new();
        while st.fetch().await.unwrap() {
            assert_eq!(st.get_data::<String>(3).await.unwrap(), "cat_t");
            cols.push((st.get_data::<String>(4).await.unwrap(), st.get_data::<i64>(17).await.unwrap()));
        }
        assert_eq!(cols, [("id".to_string(), 1), ("name".to_string(), 2)]);
        assert!(st.tables_blocking(None, None, Some("other_t"), None).unwrap());
        assert!(st.fetch_blocking().unwrap());
        assert_eq!(st.get_data_blocking::<String>(3).unwrap(), "other_t");
        assert!(st.columns_blocking(None, None, Some("other_t"), Some("x")).unwrap());
        assert!(st.fetch_blocking().unwrap());
        assert_eq!(st.get_data_blocking::<String>(4).unwrap(), "x");
        st.close_cursor().unwrap();
    });
}
