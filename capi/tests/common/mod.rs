//! Shared set-up of the C ABI tests: the built `libodbc.so.2` in a directory of its own
//! (first on LD_LIBRARY_PATH for the child processes), the private ODBC configuration
//! written by `drivers-under-test/setup.sh`, and loud skips for unreachable servers.
#![allow(dead_code)]

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

/// target/<profile> of this test binary.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent().and_then(Path::parent).expect("target/<profile>").to_path_buf()
}

/// The cdylib cargo built for this crate (soname `libodbc.so.2`): the newer of
/// `target/<profile>/libodbc.so` (cargo build) and `.../deps/libodbc.so` (cargo test only
/// refreshes that one).
pub fn built_library() -> PathBuf {
    let dir = profile_dir();
    let candidates = [dir.join("libodbc.so"), dir.join("deps/libodbc.so")];
    candidates
        .iter()
        .filter_map(|p| p.metadata().and_then(|m| m.modified()).ok().map(|t| (t, p.clone())))
        .max_by_key(|(t, _)| *t)
        .map(|(_, p)| p)
        .unwrap_or_else(|| panic!("libodbc.so not built in {}: run `cargo build -p odbc-dm-capi`", dir.display()))
}

/// A directory holding `libodbc.so.2` (a link to the built library) and the development
/// link `libodbc.so`, as capi/scripts/make-libdir.sh makes it: put it first on
/// LD_LIBRARY_PATH. Made once per test process; safe against other test processes doing the
/// same at once (each link is created under a unique name and renamed into place).
pub fn lib_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = profile_dir().join("odbc-dm-lib");
        std::fs::create_dir_all(&dir).unwrap();
        let lib = built_library();
        for (name, target) in [("libodbc.so.2", lib.clone()), ("libodbc.so", PathBuf::from("libodbc.so.2"))] {
            let tmp = dir.join(format!(".{name}.{}", std::process::id()));
            let _ = std::fs::remove_file(&tmp);
            std::os::unix::fs::symlink(&target, &tmp).unwrap();
            std::fs::rename(&tmp, dir.join(name)).unwrap();
        }
        dir
    })
    .clone()
}

/// The private ODBC configuration (setup.sh): target/odbc-test.
pub fn odbc_test_dir() -> PathBuf {
    let dir = root().join("target/odbc-test");
    assert!(
        dir.join("odbcinst.ini").exists(),
        "{} is missing: run `bash drivers-under-test/setup.sh` (the test command does)",
        dir.display()
    );
    dir
}

/// A command that runs with our library first on LD_LIBRARY_PATH and the test ODBC config.
pub fn command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut c = Command::new(program);
    let cfg = odbc_test_dir();
    c.env("LD_LIBRARY_PATH", lib_dir())
        .env("ODBCSYSINI", &cfg)
        .env("ODBCINI", cfg.join("odbc.ini"))
        .env_remove("ODBC_DM_TRACE")
        .env_remove("RUST_LOG");
    c
}

/// Whether a local server listens on `port`; prints a SKIPPED notice if not.
pub fn server_up(port: u16, test: &str) -> bool {
    let up = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500)).is_ok();
    if !up {
        let line = format!("SKIPPED {test}: no server on 127.0.0.1:{port}");
        // In the test command (drivers-under-test/test.sh) a missing server is a failure.
        if std::env::var_os("ODBC_DM_REQUIRE_SERVERS").is_some() {
            panic!("{line} (ODBC_DM_REQUIRE_SERVERS is set: in the test command a missing server is a failure)");
        }
        use std::io::Write;
        let _ = writeln!(std::io::stderr().lock(), "{line}");
        let log = std::env::var_os("ODBC_DM_SKIPS_LOG").map(PathBuf::from).unwrap_or_else(|| root().join("target/odbc-test/skips.log"));
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(&log) {
            let _ = writeln!(f, "{line}");
        }
    }
    up
}

/// A scratch directory under target/tmp for this test.
pub fn scratch(name: &str) -> PathBuf {
    let d = root().join("target/tmp").join(format!("capi-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Compiles a C program with `cc` against the system ODBC headers (unixODBC-dev's
/// sql.h/sqlext.h, headers only) and links it with `-lodbc` from [`lib_dir`], so it runs
/// on our library. Panics with the compiler's output on failure.
pub fn compile_c(src: &Path, out: &Path) {
    let o = Command::new("cc")
        .arg("-std=c11")
        .arg("-Wall")
        .arg("-Werror")
        .arg("-o")
        .arg(out)
        .arg(src)
        .arg("-L")
        .arg(lib_dir())
        .arg("-lodbc")
        .output()
        .expect("cc must be installed");
    assert!(
        o.status.success(),
        "cc {} failed:\n{}{}",
        src.display(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}
