//! Shared set-up for the integration tests: the private ODBC configuration written by
//! `drivers-under-test/setup.sh`, the real drivers on this machine, and loud skips for
//! servers that are not reachable.
#![allow(dead_code)]

use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::Once;
use std::time::Duration;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Points ODBCSYSINI/ODBCINI at target/odbc-test (written by setup.sh). Call first in
/// every test that reads configuration; all tests of a binary share the same values.
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = env_logger::builder().is_test(true).try_init();
        let dir = root().join("target/odbc-test");
        assert!(
            dir.join("odbcinst.ini").exists(),
            "{} is missing: run `bash drivers-under-test/setup.sh` (the test command does)",
            dir.display()
        );
        // SAFETY-free: std::env::set_var is safe in edition 2021; done once, before any
        // test of this binary reads the variables.
        std::env::set_var("ODBCSYSINI", &dir);
        std::env::set_var("ODBCINI", dir.join("odbc.ini"));
    });
}

/// Absolute path of a Debian driver.
pub fn debian_driver(file: &str) -> PathBuf {
    PathBuf::from("/usr/lib/x86_64-linux-gnu/odbc").join(file)
}

/// The reference driver built by setup.sh / cargo.
pub fn refdriver_path() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let dir = exe.parent().and_then(|p| p.parent()).expect("target dir");
    dir.join("libodbc_refdriver.so")
}

/// A fresh SQLite database file under target/tmp.
pub fn temp_db(name: &str) -> PathBuf {
    let dir = root().join("target/tmp");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{name}-{}-{:?}.db", std::process::id(), std::thread::current().id()).replace(['(', ')'], ""));
    let _ = std::fs::remove_file(&p);
    p
}

/// Connection string for libsqlite3odbc (narrow driver) by absolute path.
pub fn sqlite_conn_str(db: &std::path::Path) -> String {
    format!("DRIVER={};Database={};StepAPI=1", debian_driver("libsqlite3odbc.so").display(), db.display())
}

fn reachable(port: u16) -> bool {
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500)).is_ok()
}

/// psqlODBC (wide) connection string, or `None` after printing a SKIPPED notice.
pub fn postgres_conn_str(test: &str) -> Option<String> {
    if reachable(5432) && debian_driver("psqlodbcw.so").exists() {
        Some(format!(
            "DRIVER={};Servername=127.0.0.1;Port=5432;Database=test;Username=postgres;CommLog=0;Debug=0",
            debian_driver("psqlodbcw.so").display()
        ))
    } else {
        eprintln!("SKIPPED {test}: PostgreSQL not reachable on 127.0.0.1:5432 or psqlodbcw.so missing");
        None
    }
}

/// MariaDB Connector/ODBC connection string, or `None` after printing a SKIPPED notice.
pub fn mariadb_conn_str(test: &str) -> Option<String> {
    if reachable(3306) && debian_driver("libmaodbc.so").exists() {
        Some(format!(
            "DRIVER={};Server=127.0.0.1;Port=3306;Database=test;User=root;Password=",
            debian_driver("libmaodbc.so").display()
        ))
    } else {
        eprintln!("SKIPPED {test}: MariaDB not reachable on 127.0.0.1:3306 or libmaodbc.so missing");
        None
    }
}

/// A table name unique to this process and test, so parallel tests never collide.
pub fn unique_table(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!("{prefix}_{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}
