//! `common::skip`, the one way a test gives up for a missing driver or server (decision
//! #54): a failure with its reason under `ODBC_DM_REQUIRE_SERVERS` (the test command), a
//! counted, visible skip otherwise. One test in its own binary, because it sets process
//! environment variables.

mod common;

use std::sync::Mutex;

#[test]
fn skip_fails_in_the_test_command_and_is_counted_outside_it() {
    static ENV: Mutex<()> = Mutex::new(());
    let _g = ENV.lock().unwrap();
    let saved = (std::env::var_os("ODBC_DM_REQUIRE_SERVERS"), std::env::var_os("ODBC_DM_SKIPS_LOG"));
    let log = std::env::temp_dir().join(format!("odbc-dm-skips-test-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    std::env::set_var("ODBC_DM_SKIPS_LOG", &log);

    // In the test command: a panic that names the test and the reason.
    std::env::set_var("ODBC_DM_REQUIRE_SERVERS", "1");
    let r = std::panic::catch_unwind(|| common::skip("some_test", "PostgreSQL not reachable on 127.0.0.1:5432"));
    let msg = r.expect_err("a missing server fails the test in the test command");
    let msg = msg.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("some_test") && msg.contains("PostgreSQL not reachable"), "{msg}");
    assert!(!log.exists(), "a failure is not counted as a skip");
    // A missing driver file goes the same way.
    let r = std::panic::catch_unwind(|| common::require_driver("t2", std::path::Path::new("/nonexistent/libnodriver.so")));
    assert!(r.is_err(), "a missing driver fails the test in the test command");

    // Outside it: no panic, one line per skip in the log.
    for off in ["0", ""] {
        std::env::set_var("ODBC_DM_REQUIRE_SERVERS", off);
        common::skip("skips_rs_self_check", "MariaDB not reachable on 127.0.0.1:3306");
        assert_eq!(common::require_driver("skips_rs_self_check_driver", std::path::Path::new("/nonexistent/libnodriver.so")), None);
    }
    let lines = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        lines.lines().collect::<Vec<_>>(),
        [
            "SKIPPED skips_rs_self_check: MariaDB not reachable on 127.0.0.1:3306",
            "SKIPPED skips_rs_self_check_driver: driver /nonexistent/libnodriver.so not installed",
            "SKIPPED skips_rs_self_check: MariaDB not reachable on 127.0.0.1:3306",
            "SKIPPED skips_rs_self_check_driver: driver /nonexistent/libnodriver.so not installed",
        ]
    );
    let _ = std::fs::remove_file(&log);
    for (k, v) in [("ODBC_DM_REQUIRE_SERVERS", saved.0), ("ODBC_DM_SKIPS_LOG", saved.1)] {
        match v {
            Some(v) => std::env::set_var(k, v),
            None => std::env::remove_var(k),
        }
    }
}
