//! Child-process isolation: the parent re-executes the current binary as
//! `odbc-dm conform --child <group> …` for each check group; the child prints one line per
//! check start and result on stdout. A check that runs past its time limit is killed
//! (`timeout`); a child that dies in a check (signal, abort) gives `crash` for that check.
//! Either way the group goes on in a fresh child from the next check, so one bad check
//! never hides the rest of the report and a run never hangs.

use super::checks::{Ctx, GROUPS};
use super::direct::Driver;
use super::odbc::Conn;
use super::{CheckResult, Dialect, DriverMeta, Outcome, Report, Target};
use odbc_dm_abi::InfoType;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The CLI's `--timeout MS` (0 = none): replaces every check's own limit.
static TIMEOUT_OVERRIDE_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Sets the time limit that replaces every check's own (`--timeout MS`); 0 restores the
/// checks' own limits.
pub fn set_timeout_override(ms: u64) {
    TIMEOUT_OVERRIDE_MS.store(ms, std::sync::atomic::Ordering::Relaxed);
}

/// The override of every check's limit: `--timeout`, else ODBC_DM_CONFORM_CHECK_TIMEOUT_MS.
fn timeout_override() -> Option<Duration> {
    let ms = TIMEOUT_OVERRIDE_MS.load(std::sync::atomic::Ordering::Relaxed);
    if ms > 0 {
        return Some(Duration::from_millis(ms));
    }
    std::env::var("ODBC_DM_CONFORM_CHECK_TIMEOUT_MS").ok().and_then(|v| v.parse().ok()).filter(|&m: &u64| m > 0).map(Duration::from_millis)
}

/// The time limit of check `id`: the override, else the limit its definition states.
pub fn check_timeout_of(id: &str) -> Duration {
    timeout_override().unwrap_or_else(|| {
        let ms = super::checks::all_checks().find(|(_, c)| c.id == id).map_or(super::checks::DEFAULT_TIMEOUT_MS, |(_, c)| c.timeout_ms);
        Duration::from_millis(ms)
    })
}

/// The time limit outside any check (starting the child, loading the driver, connecting
/// for the identity): the default check limit, or the override when that is longer. A
/// short `--timeout` is meant for the checks: on a loaded machine starting a process can
/// take longer than a few hundred milliseconds, which must not abandon a group.
pub fn check_timeout() -> Duration {
    let default = Duration::from_millis(super::checks::DEFAULT_TIMEOUT_MS);
    timeout_override().map_or(default, |o| o.max(default))
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\t', "\\t").replace('\n', "\\n").replace('\r', "\\r")
}

fn unesc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('t') => out.push('\t'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some(o) => out.push(o),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The arguments that describe a target to a child.
pub fn target_args(t: &Target) -> Vec<String> {
    let mut a = vec![
        "--driver".into(),
        t.path.display().to_string(),
        "--connect".into(),
        t.connect.clone(),
        "--name".into(),
        t.name.clone(),
        "--dialect".into(),
        t.dialect.as_str().into(),
    ];
    if let Some(q) = &t.long_query {
        a.push("--long-query".into());
        a.push(q.clone());
    }
    if let Some(o) = &t.offline {
        a.push("--offline".into());
        a.push(o.clone());
    }
    a
}

fn matches(id: &str, only: Option<&str>) -> bool {
    only.is_none_or(|p| id.starts_with(p))
}

/// Child side: runs the checks of `group` (from `from` on, filtered by `only`) and prints
/// `begin` / `result` lines. Group `meta` prints the driver's identity instead.
///
/// # Safety
/// Loads the driver library `t.path` into this process and calls its entry points with
/// the arguments the checks choose (null pointers, undersized buffers, calls from several
/// threads): a faulty driver can corrupt or end the process. Call it only in a process
/// made for that purpose (the `--child` process [`run_target`] starts).
pub unsafe fn child_main(t: &Target, group: &str, from: Option<&str>, only: Option<&str>) -> i32 {
    let mut out = std::io::stdout().lock();
    if group == "meta" {
        let m = match Conn::connect(&t.dm_conn_str()) {
            Ok(c) => [InfoType::SQL_DRIVER_NAME, InfoType::SQL_DRIVER_VER, InfoType::SQL_DRIVER_ODBC_VER]
                .map(|i| c.info_str(i).unwrap_or_default()),
            Err(e) => {
                let _ = writeln!(out, "error\t{}", esc(&e));
                return 1;
            }
        };
        let _ = writeln!(out, "meta\t{}\t{}\t{}", esc(&m[0]), esc(&m[1]), esc(&m[2]));
        return 0;
    }
    let Some(g) = GROUPS.iter().find(|g| g.name == group) else {
        eprintln!("odbc-dm conform: unknown group {group}");
        return 2;
    };
    let d = match Driver::load(&t.path) {
        Ok(d) => d,
        Err(e) => {
            for c in g.checks.iter().filter(|c| matches(c.id, only)) {
                let _ = writeln!(out, "result\t{}\tfail\t0\t{}", c.id, esc(&e));
            }
            return 0;
        }
    };
    let ctx = Ctx { t, d: &d };
    let mut started = from.is_none();
    for c in g.checks {
        if !started {
            started = c.id == from.unwrap_or_default();
        }
        if !started || !matches(c.id, only) || (t.offline.is_some() && !c.offline_ok) {
            continue;
        }
        let _ = writeln!(out, "begin\t{}", c.id);
        let _ = out.flush();
        let t0 = Instant::now();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (c.run)(&ctx)));
        let ms = t0.elapsed().as_millis();
        let (o, detail) = match r {
            Ok(Ok(x)) => x,
            Ok(Err(e)) => (Outcome::Fail, e),
            Err(p) => {
                let what =
                    p.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| p.downcast_ref::<String>().cloned()).unwrap_or_default();
                (Outcome::Fail, format!("harness panic (a harness bug, not the driver's): {what}"))
            }
        };
        let _ = writeln!(out, "result\t{}\t{}\t{ms}\t{}", c.id, o, esc(&one_line(&detail)));
        let _ = out.flush();
    }
    0
}

/// A detail on one line: driver messages may end in or contain line breaks.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

enum Line {
    Out(String),
    Eof,
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        15 => "SIGTERM",
        _ => "signal",
    }
}

/// What the parent does after one child.
enum Next {
    /// The child ran to its end.
    Done,
    /// The child crashed or hung in this check: go on after it in a fresh child.
    After(String),
    /// The child could not run any check (not started, hung outside a check): the checks
    /// not reported get this outcome and detail.
    Abandon(Outcome, String),
}

/// Runs the child for `group` from check `from`, appending what it reported to `results`.
fn run_child_once(
    exe: &std::path::Path,
    t: &Target,
    group: &str,
    from: Option<&str>,
    only: Option<&str>,
    progress: &mut dyn FnMut(&CheckResult),
    results: &mut Vec<CheckResult>,
) -> Next {
    let rule = |id: &str| super::checks::all_checks().find(|(_, c)| c.id == id).map(|(_, c)| c.rule.to_string()).unwrap_or_default();
    let mut cmd = Command::new(exe);
    cmd.arg("conform").arg("--child").arg(group).args(target_args(t));
    if let Some(f) = from {
        cmd.arg("--from").arg(f);
    }
    if let Some(o) = only {
        cmd.arg("--only").arg(o);
    }
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Next::Abandon(Outcome::Crash, format!("cannot start the child process: {e}"));
        }
    };
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().expect("piped stdout");
    let txo = tx.clone();
    std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines() {
            match l {
                Ok(l) => {
                    if txo.send(Line::Out(l)).is_err() {
                        return;
                    }
                }
                Err(_) => break,
            }
        }
        let _ = txo.send(Line::Eof);
    });
    let mut stderr = child.stderr.take().expect("piped stderr");
    let err_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stderr.read_to_end(&mut v);
        let s = String::from_utf8_lossy(&v).into_owned();
        let last = s.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default().chars().take(200).collect::<String>();
        // The call a check announced last (checks::announce), unless it finished.
        let call = s
            .lines()
            .rev()
            .find(|l| l.starts_with("conform: "))
            .and_then(|l| l.strip_prefix("conform: calling "))
            .map(|c| c.chars().take(200).collect::<String>());
        (last, call)
    });
    let idle_limit = check_timeout();
    let mut current: Option<(String, Instant)> = None;
    let mut idle_since = Instant::now();
    loop {
        let wait = match &current {
            Some((id, t0)) => check_timeout_of(id).saturating_sub(t0.elapsed()),
            None => idle_limit.saturating_sub(idle_since.elapsed()),
        };
        match rx.recv_timeout(wait) {
            Ok(Line::Out(l)) => {
                let f: Vec<&str> = l.splitn(5, '\t').collect();
                match f.as_slice() {
                    ["begin", id] => current = Some((id.to_string(), Instant::now())),
                    ["result", id, o, ms, detail] => {
                        let r = CheckResult {
                            id: id.to_string(),
                            rule: rule(id),
                            outcome: Outcome::parse(o).unwrap_or(Outcome::Fail),
                            detail: unesc(detail),
                            ms: ms.parse().unwrap_or(0),
                        };
                        progress(&r);
                        results.push(r);
                        current = None;
                        idle_since = Instant::now();
                    }
                    _ => {}
                }
            }
            Ok(Line::Eof) => {
                let status = child.wait().ok();
                let (last_err, call) = err_thread.join().unwrap_or_default();
                let Some((id, t0)) = current else { return Next::Done };
                use std::os::unix::process::ExitStatusExt;
                let how = match status {
                    Some(s) if s.signal().is_some() => {
                        format!("killed by {} ({})", signal_name(s.signal().unwrap_or(0)), s.signal().unwrap_or(0))
                    }
                    Some(s) => format!("exited with {s}"),
                    None => "vanished".into(),
                };
                let during = match call {
                    Some(c) => format!("in {c}"),
                    None => "during this check".into(),
                };
                let detail = if last_err.is_empty() || last_err.starts_with("conform: calling ") {
                    format!("the process running the driver {how} {during}")
                } else {
                    format!("the process running the driver {how} {during}; last stderr line: {last_err}")
                };
                let r =
                    CheckResult { id: id.clone(), rule: rule(&id), outcome: Outcome::Crash, detail, ms: t0.elapsed().as_millis() as u64 };
                progress(&r);
                results.push(r);
                return Next::After(id);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // Our own child, killed by its handle (never by name).
                let _ = child.kill();
                let _ = child.wait();
                let Some((id, _)) = current else {
                    return Next::Abandon(
                        Outcome::Timeout,
                        format!(
                            "the child made no progress for {} ms outside any check (loading or connecting?); killed",
                            idle_limit.as_millis()
                        ),
                    );
                };
                let limit = check_timeout_of(&id);
                let (_, call) = err_thread.join().unwrap_or_default();
                let during = call.map(|c| format!(" (hung in {c})")).unwrap_or_default();
                let r = CheckResult {
                    id: id.clone(),
                    rule: rule(&id),
                    outcome: Outcome::Timeout,
                    detail: format!("no result within the check's time limit of {} ms{during}; the process was killed", limit.as_millis()),
                    ms: limit.as_millis() as u64,
                };
                progress(&r);
                results.push(r);
                return Next::After(id);
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return Next::Done,
        }
    }
}

/// Runs every check group of `t` (filtered by `only`) in child processes of `exe`.
pub fn run_target(exe: &std::path::Path, t: &Target, only: Option<&str>, progress: &mut dyn FnMut(&CheckResult)) -> Report {
    let driver = if t.offline.is_some() { DriverMeta { path: t.path.display().to_string(), ..Default::default() } } else { meta(exe, t) };
    let mut checks = Vec::new();
    for g in GROUPS {
        // Without a connection only the connection-free checks run; the rest are skipped
        // with the reason (in run order, so the report keeps its shape).
        let offline_skips: Vec<&str> = match &t.offline {
            Some(_) => g.checks.iter().filter(|c| matches(c.id, only) && !c.offline_ok).map(|c| c.id).collect(),
            None => Vec::new(),
        };
        let ids: Vec<&str> = g.checks.iter().map(|c| c.id).filter(|id| matches(id, only) && !offline_skips.contains(id)).collect();
        for id in &offline_skips {
            let rule = g.checks.iter().find(|c| c.id == *id).map(|c| c.rule).unwrap_or_default();
            let why = t.offline.clone().unwrap_or_default();
            let r = CheckResult {
                id: id.to_string(),
                rule: rule.into(),
                outcome: Outcome::Skip,
                detail: format!("needs a connection: {why}"),
                ms: 0,
            };
            progress(&r);
            checks.push(r);
        }
        if ids.is_empty() {
            continue;
        }
        let mut from: Option<String> = None;
        let mut missing = (Outcome::Crash, "the child process ended before running this check".to_string());
        for _ in 0..=ids.len() {
            match run_child_once(exe, t, g.name, from.as_deref(), only, progress, &mut checks) {
                Next::Done => break,
                Next::Abandon(o, d) => {
                    missing = (o, d);
                    break;
                }
                Next::After(after) => match ids.iter().position(|i| *i == after).and_then(|p| ids.get(p + 1)) {
                    Some(next) => from = Some(next.to_string()),
                    None => break,
                },
            }
        }
        // Anything the children never reported: the report stays complete.
        for id in ids {
            if !checks.iter().any(|c| c.id == id) {
                let rule = g.checks.iter().find(|c| c.id == id).map(|c| c.rule).unwrap_or_default();
                let r = CheckResult { id: id.into(), rule: rule.into(), outcome: missing.0, detail: missing.1.clone(), ms: 0 };
                progress(&r);
                checks.push(r);
            }
        }
    }
    // The completeness fill-in above appends; restore the definition order once more.
    let pos = |id: &str| super::checks::all_checks().position(|(_, c)| c.id == id).unwrap_or(usize::MAX);
    checks.sort_by_key(|c| pos(&c.id));
    Report { target: t.name.clone(), driver, checks, skipped: None, offline: t.offline.clone() }
}

fn meta(exe: &std::path::Path, t: &Target) -> DriverMeta {
    probe(exe, t).unwrap_or_else(|_| DriverMeta { path: t.path.display().to_string(), ..Default::default() })
}

/// Connects to the target in a child process (the parent never loads a driver) and reads
/// the driver's identity; `Err` with the reason when it cannot connect.
pub fn probe(exe: &std::path::Path, t: &Target) -> Result<DriverMeta, String> {
    let mut m = DriverMeta { path: t.path.display().to_string(), ..Default::default() };
    let mut cmd = Command::new(exe);
    cmd.arg("conform").arg("--child").arg("meta").args(target_args(t)).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = cmd.spawn().map_err(|e| format!("cannot start the child process: {e}"))?;
    let mut stdout = child.stdout.take().expect("piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        let _ = tx.send(s);
    });
    match rx.recv_timeout(check_timeout()) {
        Ok(s) => {
            let status = child.wait().ok();
            for l in s.lines() {
                let f: Vec<&str> = l.split('\t').collect();
                if f.len() == 4 && f[0] == "meta" {
                    m.name = unesc(f[1]);
                    m.version = unesc(f[2]);
                    m.odbc_version = unesc(f[3]);
                    return Ok(m);
                }
                if f.len() == 2 && f[0] == "error" {
                    return Err(one_line(&unesc(f[1])));
                }
            }
            Err(format!("the connecting process ended without an answer ({})", status.map(|s| s.to_string()).unwrap_or_default()))
        }
        Err(_) => {
            // Our own child, killed by its handle.
            let _ = child.kill();
            let _ = child.wait();
            Err(format!("connecting took longer than {} ms", check_timeout().as_millis()))
        }
    }
}

/// Whether a `host:port` answers a TCP connect within 500 ms.
pub fn reachable(hostport: &str) -> bool {
    use std::net::ToSocketAddrs;
    let Ok(mut addrs) = hostport.to_socket_addrs() else { return false };
    addrs.any(|a| std::net::TcpStream::connect_timeout(&a, Duration::from_millis(500)).is_ok())
}

/// The SQL dialect of a target named in conform.ini or guessed from its file.
pub fn dialect_of(v: Option<&str>, path: &std::path::Path) -> Dialect {
    v.map(Dialect::parse).unwrap_or_else(|| Dialect::guess(path))
}
