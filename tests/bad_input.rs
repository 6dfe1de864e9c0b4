//! Bad input answered clearly and bounded (issue 9 item 8; issue 10 item 5): the
//! `odbc-dm` binary and the configuration files against hostile input, run as processes
//! with their own environment (ODBCINI/ODBCSYSINI per child, never the test's own).
//! Every child runs under a deadline: a hang is a failure, not a stuck test.

mod common;

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// What a bounded child left behind.
struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Runs a prepared command with stdout/stderr captured; kills it and fails the test when
/// it is not done within `limit` (the "never hang" bound, not a speed assertion).
fn run_bounded(mut cmd: Command, limit: Duration) -> Run {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn odbc-dm");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("odbc-dm did not finish within {limit:?}: {cmd:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = String::from_utf8_lossy(&t_out.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&t_err.join().unwrap()).into_owned();
    assert!(!stderr.contains("panicked"), "odbc-dm panicked:\n{stderr}");
    Run { status, stdout, stderr }
}

/// `odbc-dm <args>` with a private configuration: ODBCSYSINI = `sysdir` (holding the
/// test odbcinst.ini unless given), ODBCINI = `odbcini`, no RUST_LOG.
fn odbc_dm(args: &[&OsStr], sysdir: &Path, odbcini: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_odbc-dm"));
    c.args(args).env_remove("RUST_LOG").env("ODBCSYSINI", sysdir).env("ODBCINI", odbcini).env_remove("ODBCINSTINI");
    c
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

/// A fresh empty directory under target/tmp.
fn temp_dir(tag: &str) -> PathBuf {
    let d = common::root().join("target/tmp").join(format!("bad-input-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
    assert_eq!(rc, 0, "mkfifo {}", p.display());
}

fn sqlite_driver() -> String {
    common::debian_driver("libsqlite3odbc.so").display().to_string()
}

const BOUND: Duration = Duration::from_secs(30);

/// Issue 9 item 8: a non-UTF-8 argument was a panic (exit 101); now a message and exit 2.
#[test]
fn non_utf8_argument_is_a_message_and_exit_2_not_a_panic() {
    let d = temp_dir("utf8");
    for args in [vec![OsStr::from_bytes(b"\xff")], vec![os("query"), OsStr::from_bytes(b"DSN=\xc3\x28"), os("select 1")]] {
        let r = run_bounded(odbc_dm(&args, &d, &d.join("none.ini")), BOUND);
        assert_eq!(r.status.code(), Some(2), "{}", r.stderr);
        assert!(r.stderr.contains("not valid UTF-8"), "{}", r.stderr);
    }
}

/// Writes an odbc.ini of `n` filler DSNs followed by `[target]`: the reference driver
/// by path. (libsqlite3odbc re-reads its DSN through unixODBC's libodbcinst, which is
/// itself quadratic on such a file: that is the driver's cost, not the DM's.)
fn big_odbc_ini(path: &Path, n: usize) {
    let mut s = String::with_capacity(n * 48);
    for i in 0..n {
        s.push_str(&format!("[filler{i}]\nDriver = /nonexistent/lib{i}.so\nDatabase = x{i}\n"));
    }
    s.push_str(&format!("[target]\nDriver = {}\nDatabase = :memory:\n", common::refdriver_path().display()));
    std::fs::write(path, s).unwrap();
}

/// Issue 9 item 8: 40,000 sections took 7.3 s per connect and 200,000 never finished
/// (quadratic section/key lookup). Linear parsing: a connect through the last DSN of
/// such a file finishes within the generous bound.
#[test]
fn odbc_ini_with_40k_and_200k_sections_connects_within_bound() {
    for n in [40_000, 200_000] {
        let d = temp_dir(&format!("big{n}"));
        let ini = d.join("odbc.ini");
        big_odbc_ini(&ini, n);
        let r = run_bounded(odbc_dm(&[os("query"), os("DSN=target"), os("select 40 + 2 as v")], &d, &ini), Duration::from_secs(60));
        assert_eq!(r.status.code(), Some(0), "{n} sections: {}", r.stderr);
        assert!(r.stdout.contains("42"), "{}", r.stdout);
        // The DSN listing reads the file once too.
        let r = run_bounded(odbc_dm(&[os("dsns")], &d, &ini), Duration::from_secs(60));
        assert_eq!(r.status.code(), Some(0), "{}", r.stderr);
        assert!(r.stdout.contains("target"));
    }
}

/// Issue 9 item 8: `ODBCINI=/dev/zero` grew to 6 GB. A device is refused at once with
/// a message naming it (HY000, decision #46), bounded in time.
#[test]
fn odbcini_dev_zero_is_refused_with_a_message() {
    let d = temp_dir("devzero");
    let r = run_bounded(odbc_dm(&[os("query"), os("DSN=x"), os("select 1")], &d, Path::new("/dev/zero")), BOUND);
    assert_eq!(r.status.code(), Some(1), "{}", r.stderr);
    assert!(r.stderr.contains("HY000") && r.stderr.contains("/dev/zero") && r.stderr.contains("not a regular file"), "{}", r.stderr);
}

/// Issue 9 item 8: a FIFO as ODBCINI (or as odbcinst.ini) blocked forever; refused now.
#[test]
fn fifo_as_odbcini_or_odbcinst_is_refused_without_blocking() {
    let d = temp_dir("fifoini");
    let fifo = d.join("odbc.ini");
    mkfifo(&fifo);
    let r = run_bounded(odbc_dm(&[os("query"), os("DSN=x"), os("select 1")], &d, &fifo), BOUND);
    assert_eq!(r.status.code(), Some(1), "{}", r.stderr);
    assert!(r.stderr.contains("HY000") && r.stderr.contains("FIFO"), "{}", r.stderr);
    // odbcinst.ini as a FIFO: a DRIVER= name lookup is refused the same way.
    let d2 = temp_dir("fifoinst");
    mkfifo(&d2.join("odbcinst.ini"));
    let r = run_bounded(odbc_dm(&[os("query"), os("DRIVER={SQLite3}"), os("select 1")], &d2, &d2.join("none.ini")), BOUND);
    assert_eq!(r.status.code(), Some(1), "{}", r.stderr);
    assert!(r.stderr.contains("HY000") && r.stderr.contains("FIFO"), "{}", r.stderr);
    // Listings survive it (the file is skipped with a warning).
    let r = run_bounded(odbc_dm(&[os("drivers")], &d2, &d2.join("none.ini")), BOUND);
    assert_eq!(r.status.code(), Some(0), "{}", r.stderr);
}

/// Issue 9 item 8: `DRIVER=<a FIFO>` blocked dlopen forever; now IM003 with a message.
#[test]
fn fifo_or_device_as_driver_is_im003_without_blocking() {
    let d = temp_dir("fifodrv");
    let fifo = d.join("libfifo.so");
    mkfifo(&fifo);
    for drv in [fifo.display().to_string(), "/dev/zero".to_string()] {
        let cs = format!("DRIVER={drv};Database=:memory:");
        let r = run_bounded(odbc_dm(&[os("query"), os(&cs), os("select 1")], &d, &d.join("none.ini")), BOUND);
        assert_eq!(r.status.code(), Some(1), "{}", r.stderr);
        assert!(r.stderr.contains("IM003") && r.stderr.contains(&drv) && r.stderr.contains("FIFO, socket or device"), "{}", r.stderr);
    }
}

/// A configuration file over the 16 MiB limit (decision #46) is refused with a message
/// naming the limit, without reading it (sparse file: no disk cost).
#[test]
fn oversized_odbc_ini_is_refused() {
    let d = temp_dir("huge");
    let ini = d.join("odbc.ini");
    let f = std::fs::File::create(&ini).unwrap();
    f.set_len(odbc_dm::config::MAX_INI_SIZE + 1).unwrap();
    let r = run_bounded(odbc_dm(&[os("query"), os("DSN=x"), os("select 1")], &d, &ini), BOUND);
    assert_eq!(r.status.code(), Some(1), "{}", r.stderr);
    assert!(r.stderr.contains("HY000") && r.stderr.contains("larger than the limit"), "{}", r.stderr);
}

/// Malformed files (binary junk, a header without `]`, a 4 MB line, NULs) parse
/// tolerantly: the readable DSN after the junk is found, nothing panics.
#[test]
fn malformed_odbc_ini_is_parsed_tolerantly() {
    let d = temp_dir("junk");
    let ini = d.join("odbc.ini");
    let mut bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    bytes.extend_from_slice(b"\n[unclosed\nk=v\n[");
    bytes.extend(std::iter::repeat_n(b'x', 4 << 20));
    bytes.extend_from_slice(b"\n=novalue\n\0\0[\0]\n");
    bytes.extend_from_slice(format!("[target]\nDriver = {}\nDatabase = :memory:\n", sqlite_driver()).as_bytes());
    std::fs::write(&ini, &bytes).unwrap();
    let r = run_bounded(odbc_dm(&[os("query"), os("DSN=target"), os("select 7 as v")], &d, &ini), BOUND);
    assert_eq!(r.status.code(), Some(0), "{}", r.stderr);
    assert!(r.stdout.contains('7'), "{}", r.stdout);
}

/// Issue 9 item 8: the README's own example `DRIVER=libsqlite3odbc.so;…` gave IM002. A
/// bare library name that is no odbcinst.ini section resolves in the driver directory.
#[test]
fn readme_bare_driver_library_name_connects() {
    let d = temp_dir("bare");
    // An empty odbcinst.ini: nothing but the driver directory can resolve the name.
    std::fs::write(d.join("odbcinst.ini"), "").unwrap();
    let db = d.join("readme.db");
    let cs = format!("DRIVER=libsqlite3odbc.so;Database={}", db.display());
    let r = run_bounded(odbc_dm(&[os("query"), os(&cs), os("select 1 as one")], &d, &d.join("none.ini")), BOUND);
    assert_eq!(r.status.code(), Some(0), "{}", r.stderr);
    assert!(r.stdout.contains("(1 row)"), "{}", r.stdout);
    // An absolute path keeps working; an unknown bare library name is still IM002/IM003.
    let cs = format!("DRIVER={};Database=:memory:", sqlite_driver());
    let r = run_bounded(odbc_dm(&[os("query"), os(&cs), os("select 1")], &d, &d.join("none.ini")), BOUND);
    assert_eq!(r.status.code(), Some(0), "{}", r.stderr);
    let r = run_bounded(odbc_dm(&[os("query"), os("DRIVER=NoSuchDriverName"), os("select 1")], &d, &d.join("none.ini")), BOUND);
    assert_eq!(r.status.code(), Some(1));
    assert!(r.stderr.contains("IM002"), "{}", r.stderr);
}

/// The README's exact string, through the README's setup (test odbcinst.ini).
#[test]
fn readme_example_string_verbatim() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let line = readme.lines().find(|l| l.contains("\"DRIVER=libsqlite3odbc.so;")).expect("the README's example");
    // The example's own string, with its database moved to a temp dir.
    let start = line.find("\"DRIVER=").unwrap() + 1;
    let example = &line[start..start + line[start..].find('"').unwrap()];
    assert!(example.starts_with("DRIVER=libsqlite3odbc.so;Database="), "{example}");
    let sys = common::root().join("target/odbc-test");
    let d = temp_dir("readme");
    let cs = example.replace("/tmp/x.db", &d.join("r.db").display().to_string());
    let r = run_bounded(odbc_dm(&[os("query"), os(&cs), os("select 2 as two")], &sys, &d.join("none.ini")), BOUND);
    assert_eq!(r.status.code(), Some(0), "{}", r.stderr);
}

/// Issue 9 item 8: `RUST_LOG=odbc_dm::trace=trace odbc-dm …` printed nothing. The CLI's
/// logger prints the call trace on stderr, with every secret keyword masked.
#[test]
fn rust_log_trace_prints_the_call_trace_with_secrets_masked() {
    let d = temp_dir("trace");
    let cs = format!("DRIVER={};Database=:memory:;PASSWD=s3cret1;AuthPassword={{s3;cret2}};ApiToken=s3cret3;PWD=s3cret4", sqlite_driver());
    let mut c = odbc_dm(&[os("query"), os(&cs), os("select 1")], &d, &d.join("none.ini"));
    c.env("RUST_LOG", "odbc_dm::trace=trace");
    let r = run_bounded(c, BOUND);
    assert_eq!(r.status.code(), Some(0), "{}", r.stderr);
    for f in ["Entry SQLDriverConnect", "Entry SQLExecDirect", "Entry SQLFetch", "Exit  SQLDisconnect"] {
        assert!(r.stderr.contains(f), "no `{f}` in the trace:\n{}", r.stderr);
    }
    assert!(!r.stderr.contains("s3cret") && !r.stderr.contains("cret2"), "a secret reached the trace:\n{}", r.stderr);
    // Without RUST_LOG: no trace. With another target only: no call trace.
    let r = run_bounded(odbc_dm(&[os("query"), os(&cs), os("select 1")], &d, &d.join("none.ini")), BOUND);
    assert!(!r.stderr.contains("Entry "), "{}", r.stderr);
    let mut c = odbc_dm(&[os("query"), os(&cs), os("select 1")], &d, &d.join("none.ini"));
    c.env("RUST_LOG", "odbc_dm::config=trace");
    let r = run_bounded(c, BOUND);
    assert!(!r.stderr.contains("Entry "), "{}", r.stderr);
}

/// Secrets are masked in CLI error output too (a failing connect echoes the string).
#[test]
fn cli_errors_mask_every_secret_keyword() {
    let d = temp_dir("errmask");
    let cs = "DRIVER=/nonexistent/libnothing.so;PASSWD=s3cret1;ClientSecret={s3;cret2};AccessKey=s3cret3";
    let r = run_bounded(odbc_dm(&[os("query"), os(cs), os("select 1")], &d, &d.join("none.ini")), BOUND);
    assert_eq!(r.status.code(), Some(1));
    assert!(r.stderr.contains("IM003"), "{}", r.stderr);
    assert!(!r.stderr.contains("s3cret") && !r.stderr.contains("cret2"), "{}", r.stderr);
}

const CTE: &str = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {N}) SELECT x, 'row ' || x AS label FROM c";

/// Issue 9 item 8: `query` held the whole result (969 MB for 3M rows, even piped to
/// `head`). Streamed: 3 million rows piped to a reader that stops after 5 lines end the
/// process cleanly (exit 0, no panic) long before the rows could have been read.
/// StepAPI=1 makes libsqlite3odbc itself stream (otherwise the driver buffers).
#[test]
fn query_of_3m_rows_piped_to_head_stops_cleanly() {
    let d = temp_dir("head");
    let cs = format!("DRIVER={};Database=:memory:;StepAPI=1", sqlite_driver());
    let sql = CTE.replace("{N}", "3000000");
    let mut child =
        odbc_dm(&[os("query"), os(&cs), os(&sql)], &d, &d.join("none.ini")).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut lines = Vec::new();
    {
        let mut rd = BufReader::new(child.stdout.take().unwrap());
        for _ in 0..5 {
            let mut l = String::new();
            rd.read_line(&mut l).unwrap();
            lines.push(l);
        }
        // `rd` dropped: the pipe's read end is closed, like `head -5` exiting.
    }
    assert!(lines[0].contains("label") && lines[2].contains("row 1"), "{lines:?}");
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("odbc-dm kept running after its stdout was closed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(status.code(), Some(0), "clean exit on EPIPE; stderr:\n{err}");
}

/// Memory stays bounded for a large result read to the end (1 million rows, maximum
/// RSS from /usr/bin/time; held in memory the rows took ~320 bytes each).
#[test]
fn query_of_1m_rows_has_bounded_memory() {
    let d = temp_dir("rss");
    let cs = format!("DRIVER={};Database=:memory:;StepAPI=1", sqlite_driver());
    let sql = CTE.replace("{N}", "1000000");
    let rss_file = d.join("rss");
    let mut c = Command::new("/usr/bin/time");
    c.arg("-f").arg("%M").arg("-o").arg(&rss_file).arg(env!("CARGO_BIN_EXE_odbc-dm")).args(["query", &cs, &sql]);
    c.env_remove("RUST_LOG").env("ODBCSYSINI", &d).env("ODBCINI", d.join("none.ini"));
    let r = run_bounded(c, Duration::from_secs(300));
    assert_eq!(r.status.code(), Some(0), "{}", r.stderr);
    assert!(r.stdout.ends_with("(1000000 rows)\n"), "{}", &r.stdout[r.stdout.len().saturating_sub(200)..]);
    assert!(r.stdout.contains(" 999999 | row 999999\n"), "rows are printed as fetched");
    let kb: u64 = std::fs::read_to_string(&rss_file).unwrap().trim().lines().last().unwrap().parse().unwrap();
    assert!(kb < 64 * 1024, "maximum RSS {kb} KB for 1M streamed rows (bound 64 MB)");
}
