//! The demo's asynchronous sections: notification mode through the DM's dispatcher, and
//! emulation of a synchronous driver, both through the safe async API's futures.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Instant;

use odbc_dm::abi::*;
use odbc_dm::api::{AsyncConnection, Environment, Error};
use odbc_dm::raw;

/// A boxed, sendable future borrowing the demo's statements.
type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A minimal executor: polls every future until all are ready, parking in between (the
/// dispatcher's or the pool's wake-up unparks this thread). Any runtime would do: the
/// futures are runtime-agnostic and `Send`.
fn join_all<T>(futs: Vec<BoxFut<'_, T>>) -> Vec<T> {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut futs: Vec<Option<BoxFut<'_, T>>> = futs.into_iter().map(Some).collect();
    let mut out: Vec<Option<T>> = (0..futs.len()).map(|_| None).collect();
    while out.iter().any(Option::is_none) {
        for (i, slot) in futs.iter_mut().enumerate() {
            if let Some(f) = slot {
                if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                    out[i] = Some(v);
                    *slot = None;
                }
            }
        }
        if out.iter().any(Option::is_none) {
            std::thread::park_timeout(std::time::Duration::from_millis(50));
        }
    }
    out.into_iter().map(|v| v.expect("all ready")).collect()
}

fn block_on<F: Future + Send>(f: F) -> F::Output {
    join_all(vec![Box::pin(f)]).pop().expect("one output")
}

/// Reads the reference driver's event log (connection attribute 30001) and summarises
/// which thread ran each round of `func`.
fn rounds(dbc: SqlHDbc, func: &str) -> Vec<String> {
    let mut len = 0i32;
    // SAFETY: a length query on a live connection (reference driver attribute 30001).
    unsafe { raw::SQLGetConnectAttr(dbc, ConnAttr(30001), std::ptr::null_mut(), 0, &mut len) };
    let mut buf = vec![0u8; len.max(0) as usize + 16];
    // SAFETY: a buffer of buf.len() bytes.
    unsafe { raw::SQLGetConnectAttr(dbc, ConnAttr(30001), buf.as_mut_ptr() as SqlPointer, buf.len() as i32, &mut len) };
    let log = String::from_utf8_lossy(&buf[..len.clamp(0, buf.len() as i32) as usize]).into_owned();
    // The log is one JSON object per event; pick "round" and "thread" of the calls of
    // `func` without a JSON parser (the demo keeps the binary's dependencies small).
    log.split("{\"seq\"")
        .filter(|e| e.contains(&format!("\"kind\":\"call\",\"func\":\"{func}\"")))
        .filter_map(|e| {
            let round = e.split("\"round\":").nth(1)?.split(',').next()?.to_string();
            let thread = e.split("\"thread\":\"").nth(1)?.split('"').next()?.to_string();
            Some(format!("round {round} on {thread}"))
        })
        .collect()
}

/// Notification mode on the reference driver: the first call on this thread, every
/// re-invocation on the DM's dispatcher thread, woken futures.
pub fn notification(env: &Environment, cs: &str) -> Result<(), Error> {
    let conn = AsyncConnection::connect_blocking(env, cs)?;
    let mut stmt = conn.statement()?;
    println!("  statement in notification mode (driver's own SQL_ASYNC_NOTIFICATION): {}", !stmt.is_emulated());
    let t = Instant::now();
    let (sum, word) = block_on(async {
        stmt.execute("SELECT 40 + 2, 'réponse'").await?;
        stmt.fetch().await?;
        let n: i64 = stmt.get_data(1).await?;
        let w: String = stmt.get_data(2).await?;
        Ok::<_, Error>((n, w))
    })?;
    println!("  execute + fetch + 2 × get_data as futures: ({sum}, {word}) in {} ms", t.elapsed().as_millis());
    println!("  the reference driver's event log (the application thread is the process's main thread, `odbc-dm`):");
    for r in rounds(conn.connection().as_raw(), "SQLExecDirectW") {
        println!("    SQLExecDirectW {r}");
    }
    Ok(())
}

/// Emulation: libsqlite3odbc has no async at all; with `AsyncEmulation=Yes` the DM runs
/// its calls on a bounded pool, and twenty queries run as futures at once.
pub fn emulation(env: &Environment, cs: &str) -> Result<(), Error> {
    let conn = AsyncConnection::connect_blocking(env, &format!("{cs};AsyncEmulation=Yes"))?;
    let mut stmts = (0..20).map(|_| conn.statement()).collect::<Result<Vec<_>, _>>()?;
    println!("  20 statements, emulated by the DM: {}", stmts.iter().all(|s| s.is_emulated()));
    let t = Instant::now();
    let futs: Vec<BoxFut<'_, Result<i64, Error>>> = stmts
        .iter_mut()
        .enumerate()
        .map(|(i, s)| {
            Box::pin(async move {
                s.execute(format!("SELECT {i} * {i}")).await?;
                s.fetch().await?;
                s.get_data::<i64>(1).await
            }) as BoxFut<'_, _>
        })
        .collect();
    let results = join_all(futs).into_iter().collect::<Result<Vec<_>, _>>()?;
    let ok = results.iter().enumerate().all(|(i, v)| *v == (i * i) as i64);
    println!("  results {:?}… all correct: {ok} ({} ms)", &results[..5], t.elapsed().as_millis());
    if !ok {
        return Err(Error::DriverProtocol { function: "SQLGetData", detail: "an emulated query returned a wrong value".into() });
    }
    Ok(())
}
