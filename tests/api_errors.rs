//! The safe API's typed errors (issue 10 item 5, decision #82): misuse (`Usage`), driver
//! protocol violations (`DriverProtocol`), operating-system errors (`Os`) and broken
//! invariants (`Internal`) are told apart; every `Error` is `Send + Sync + 'static`.

mod common;

use std::future::Future;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use odbc_dm::abi::{HandleType, RetCode, SqlReturn};
use odbc_dm::api::{AsyncConnection, Environment, Error};
use odbc_dm::raw::{self, ext};

fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    let mut cx = Context::from_waker(Waker::noop());
    std::pin::Pin::new(f).poll(&mut cx)
}

fn wait_done(ht: HandleType, h: odbc_dm::abi::SqlHandle) {
    let t = Instant::now();
    while ext::op_status(ht, h).unwrap().phase != ext::OpPhase::Done {
        assert!(t.elapsed() < Duration::from_secs(10), "the operation did not end");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// §2.13: an operation's result collected behind the API's back (raw `SQLCompleteAsync` on
/// the statement's handle) is an `Internal` error of the future, not a misuse of the API
/// by its own caller nor an ODBC error; delays 0, 5 and 50 ms.
#[test]
fn s2_13_result_collected_behind_the_apis_back_is_internal() {
    common::init();
    let env = Environment::new().unwrap();
    for delay in [0u32, 5, 50] {
        let conn = AsyncConnection::connect_blocking(&env, &common::refdriver_conn_str(&format!("Steps=3;Delay={delay}"))).unwrap();
        let mut st = conn.statement().unwrap();
        let h = st.as_raw();
        // At delay 0 the three steps can all end before the first poll returns (the future
        // is then ready and nothing is left to collect behind its back): close and retry.
        let mut tries = 0;
        loop {
            let mut f = st.execute("SELECT 1");
            if poll_once(&mut f).is_ready() {
                drop(f);
                st.close_cursor().unwrap();
                tries += 1;
                assert!(tries < 100, "delay {delay}: 100 executes in a row were ready at their first poll");
                continue;
            }
            wait_done(HandleType::SQL_HANDLE_STMT, h);
            let mut code: RetCode = 0;
            // SAFETY: a live statement handle and a valid out slot.
            let rc = unsafe { raw::SQLCompleteAsync(HandleType::SQL_HANDLE_STMT, h, &mut code) };
            assert_eq!(rc, SqlReturn::SQL_SUCCESS, "delay {delay}");
            let e = pollster::block_on(f).unwrap_err();
            assert!(matches!(&e, Error::Internal(m) if m.contains("collected elsewhere")), "delay {delay}: {e:?}");
            assert!(e.sqlstate().is_none() && e.records().is_empty());
            break;
        }
    }
}

/// §1.10: a connection future polled after it completed is a `Usage` error (the caller's
/// misuse), never a panic.
#[test]
fn s1_10_conn_future_polled_after_completion_is_usage() {
    common::init();
    let env = Environment::new().unwrap();
    let conn = AsyncConnection::connect_blocking(&env, &common::refdriver_conn_str("Steps=2;Delay=5")).unwrap();
    let mut f = conn.commit();
    let t = Instant::now();
    loop {
        match poll_once(&mut f) {
            Poll::Ready(r) => {
                r.unwrap();
                break;
            }
            Poll::Pending => {
                assert!(t.elapsed() < Duration::from_secs(10), "the commit did not end");
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }
    let Poll::Ready(Err(e)) = poll_once(&mut f) else { panic!("a completed future answers at once with an error") };
    assert!(matches!(&e, Error::Usage(m) if m.contains("polled after completion")), "{e:?}");
}

/// The variants' texts, sources and functions; the error crosses threads and boxes.
#[test]
fn error_variants_tell_their_kind() {
    fn boxed(e: Error) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        Box::new(e)
    }
    let os = Error::Os { context: "cannot create the completion event".into(), source: std::io::Error::from_raw_os_error(24) };
    assert!(os.to_string().starts_with("cannot create the completion event: "), "{os}");
    assert!(std::error::Error::source(&os).is_some(), "the OS error is the source");
    let dp = Error::DriverProtocol { function: "SQLParamData", detail: "driver asked for data of bound parameter 2".into() };
    assert_eq!(dp.function(), Some("SQLParamData"));
    assert!(dp.to_string().contains("broke the ODBC protocol"), "{dp}");
    let internal = Error::Internal("started twice".into());
    assert_eq!(internal.to_string(), "internal error: started twice");
    assert_eq!(Error::Usage("column 0".into()).to_string(), "invalid use of the API: column 0");
    let b = boxed(os);
    assert!(std::thread::spawn(move || b.to_string()).join().unwrap().contains("completion event"));
}
