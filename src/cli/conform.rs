//! `odbc-dm conform`: the conformance harness's command line (issue 13).

use odbc_dm::config::{resolve_driver_file, ConfigSource, IniFile};
use odbc_dm::conform::report;
use odbc_dm::conform::runner::{self, child_main, dialect_of, reachable};
use odbc_dm::conform::{Dialect, DriverMeta, Report, Target};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

#[derive(Default)]
struct Args {
    driver: Option<String>,
    connect: Option<String>,
    only: Option<String>,
    format: Option<String>,
    out: Option<PathBuf>,
    out_dir: Option<PathBuf>,
    all: bool,
    child: Option<String>,
    name: Option<String>,
    dialect: Option<String>,
    long_query: Option<String>,
    from: Option<String>,
    offline: Option<String>,
    timeout_ms: Option<u64>,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut a = Args::default();
    let mut it = args.iter();
    while let Some(k) = it.next() {
        let mut val = || it.next().cloned().ok_or_else(|| format!("{k} needs a value"));
        match k.as_str() {
            "--driver" => a.driver = Some(val()?),
            "--connect" => a.connect = Some(val()?),
            "--only" => a.only = Some(val()?),
            "--format" => a.format = Some(val()?),
            "--out" => a.out = Some(PathBuf::from(val()?)),
            "--out-dir" => a.out_dir = Some(PathBuf::from(val()?)),
            "--all" => a.all = true,
            "--child" => a.child = Some(val()?),
            "--name" => a.name = Some(val()?),
            "--dialect" => a.dialect = Some(val()?),
            "--long-query" => a.long_query = Some(val()?),
            "--from" => a.from = Some(val()?),
            "--offline" => a.offline = Some(val()?),
            "--timeout" => {
                let v = val()?;
                let ms = v
                    .parse::<u64>()
                    .ok()
                    .filter(|&m| m > 0)
                    .ok_or_else(|| format!("--timeout needs a number of milliseconds > 0, not `{v}`"))?;
                a.timeout_ms = Some(ms);
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if let Some(f) = &a.format {
        if !matches!(f.as_str(), "text" | "markdown" | "json") {
            return Err(format!("--format must be text, markdown or json, not `{f}`"));
        }
    }
    Ok(a)
}

const SQLITE_DRIVER: &str = "/usr/lib/x86_64-linux-gnu/odbc/libsqlite3odbc.so";

/// Runs `odbc-dm conform …`; returns the exit code.
pub fn conform(args: &[String]) -> i32 {
    let a = match parse(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("odbc-dm conform: {e}\n\n{}", super::USAGE);
            return 2;
        }
    };
    if let Some(group) = &a.child {
        let Some(d) = &a.driver else { return 2 };
        let path = PathBuf::from(d);
        let t = Target {
            name: a.name.clone().unwrap_or_default(),
            dialect: dialect_of(a.dialect.as_deref(), &path),
            path,
            connect: a.connect.clone().unwrap_or_default(),
            long_query: a.long_query.clone(),
            offline: a.offline.clone(),
        };
        // SAFETY: this is the `--child` process the parent started for exactly this: a
        // driver that corrupts or ends it costs only this group's current check.
        return unsafe { child_main(&t, group, a.from.as_deref(), a.only.as_deref()) };
    }
    if let Some(ms) = a.timeout_ms {
        runner::set_timeout_override(ms);
    }
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("odbc-dm conform: cannot find the current executable: {e}");
            return 1;
        }
    };
    let mut temp_files = Vec::new();
    let targets: Vec<Result<Target, (String, String, String)>> = if a.all || a.driver.is_none() {
        all_targets(&exe, a.all, &mut temp_files)
    } else {
        match single_target(&exe, a.driver.as_deref().unwrap_or_default(), a.connect.as_deref(), &mut temp_files) {
            Ok(t) => vec![Ok(t)],
            Err(e) => {
                eprintln!("odbc-dm conform: {e}");
                return 2;
            }
        }
    };
    let format = a.format.clone().unwrap_or_else(|| "text".into());
    let tty = std::io::stderr().is_terminal();
    let to_stdout = a.out.is_none() && a.out_dir.is_none();
    let mut reports = Vec::new();
    for t in targets {
        let r = match t {
            Err((name, path, why)) => {
                if !to_stdout || format != "text" {
                    eprintln!("{name}: skipped: {why}");
                }
                Report {
                    target: name,
                    driver: DriverMeta { path, ..Default::default() },
                    checks: Vec::new(),
                    skipped: Some(why),
                    offline: None,
                }
            }
            Ok(t) => {
                let mut progress = |c: &odbc_dm::conform::CheckResult| {
                    // A progress line per check on a terminal (stderr, so stdout stays the report).
                    if tty {
                        eprintln!("  {}  {}", t.name, report::text_line(c));
                    }
                };
                if tty {
                    eprintln!("conform: {} ({})", t.name, t.path.display());
                }
                runner::run_target(&exe, &t, a.only.as_deref(), &mut progress)
            }
        };
        if to_stdout && format == "text" {
            print!("{}", report::text(&r, true));
            let _ = std::io::stdout().flush();
        }
        reports.push(r);
    }
    for f in temp_files {
        let _ = std::fs::remove_file(f);
    }
    let render = |r: &Report| match format.as_str() {
        "json" => report::json(r) + "\n",
        "markdown" => report::markdown(r),
        _ => report::text(r, true),
    };
    let joined = || {
        if format == "json" && reports.len() > 1 {
            format!("[{}]\n", reports.iter().map(report::json).collect::<Vec<_>>().join(",\n"))
        } else {
            reports.iter().map(render).collect::<Vec<_>>().join("\n")
        }
    };
    if let Some(dir) = &a.out_dir {
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!("odbc-dm conform: {}: {e}", dir.display());
            return 1;
        }
        let ext = match format.as_str() {
            "json" => "json",
            "markdown" => "md",
            _ => "txt",
        };
        for r in &reports {
            let p = dir.join(format!("{}.{ext}", r.target));
            if let Err(e) = std::fs::write(&p, render(r)) {
                eprintln!("odbc-dm conform: {}: {e}", p.display());
                return 1;
            }
            eprintln!("wrote {}", p.display());
        }
    } else if let Some(p) = &a.out {
        if let Err(e) = std::fs::write(p, joined()) {
            eprintln!("odbc-dm conform: {}: {e}", p.display());
            return 1;
        }
    } else if format != "text" {
        print!("{}", joined());
    }
    if !to_stdout || format != "text" {
        for r in &reports {
            eprint!("{}", report::text(r, false));
        }
    }
    if reports.iter().any(|r| r.is_bad()) {
        1
    } else {
        0
    }
}

/// The reference driver next to the binary (cargo's target dir), if built.
fn refdriver_path(exe: &Path) -> Option<PathBuf> {
    let dir = exe.parent()?;
    let candidates = [dir.join("libodbc_refdriver.so"), dir.join("deps/libodbc_refdriver.so"), dir.parent()?.join("libodbc_refdriver.so")];
    candidates.into_iter().filter(|p| p.exists()).max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
}

fn temp_db(name: &str, temp_files: &mut Vec<PathBuf>) -> PathBuf {
    let p = std::env::temp_dir().join(format!("odbc-dm-conform-{name}-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&p);
    temp_files.push(p.clone());
    p
}

const SQLITE_LONG_QUERY: &str =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000000) SELECT count(*) FROM c";

/// The reference driver on a temp-file database (the optimistic-concurrency check needs
/// two connections to one database) with its native optimistic concurrency on
/// (`Optimistic=1`), so `concurrency.optimistic-01001` tests the driver's own 01001.
fn refdriver_target(p: PathBuf, temp_files: &mut Vec<PathBuf>) -> Target {
    let db = temp_db("refdriver", temp_files);
    Target {
        name: "refdriver".into(),
        path: p,
        connect: format!("Database={};Steps=2;Delay=1;Optimistic=1", db.display()),
        long_query: Some("SELECT sleep(15000)".into()),
        dialect: Dialect::Sqlite,
        offline: None,
    }
}

fn sqlite_target(temp_files: &mut Vec<PathBuf>) -> Target {
    let db = temp_db("sqliteodbc", temp_files);
    Target {
        name: "sqliteodbc".into(),
        path: PathBuf::from(SQLITE_DRIVER),
        connect: format!("Database={};StepAPI=1", db.display()),
        long_query: Some(SQLITE_LONG_QUERY.into()),
        dialect: Dialect::Sqlite,
        offline: None,
    }
}

/// drivers-under-test/conform.ini: ODBC_DM_CONFORM_INI, else found above the current
/// directory or the executable.
fn conform_ini(exe: &Path) -> Option<IniFile> {
    if let Ok(p) = std::env::var("ODBC_DM_CONFORM_INI") {
        return IniFile::load(p).ok();
    }
    let starts = [std::env::current_dir().ok(), exe.parent().map(Path::to_path_buf)];
    for s in starts.into_iter().flatten() {
        for dir in s.ancestors() {
            let p = dir.join("drivers-under-test/conform.ini");
            if p.exists() {
                return IniFile::load(p).ok();
            }
        }
    }
    None
}

/// A target from a conform.ini section, or why it is skipped (not installed). A driver
/// that is installed but cannot connect here (server down, no database configured) is a
/// target with `offline` set: its connection-free checks still run.
fn ini_target(name: &str, sec: &odbc_dm::config::Section) -> Result<Target, (String, String, String)> {
    let path = resolve_driver_file(sec.get("Driver").unwrap_or_default());
    let p = path.display().to_string();
    if !path.exists() {
        return Err((name.into(), p, format!("{} is not installed", path.display())));
    }
    let mut offline = None;
    if let Some(hp) = sec.get("Probe") {
        if !reachable(hp) {
            offline = Some(format!("server not reachable at {hp}"));
        }
    }
    let connect = match expand_env(sec.get("Connect").unwrap_or_default()) {
        Ok(c) => c,
        Err(var) => {
            offline.get_or_insert(format!("no database for it: set {var} (used in Connect of drivers-under-test/conform.ini)"));
            String::new()
        }
    };
    Ok(Target {
        name: name.into(),
        dialect: dialect_of(sec.get("Dialect"), &path),
        path,
        connect,
        long_query: sec.get("LongQuery").map(str::to_string),
        offline,
    })
}

/// Replaces `${VAR}` with the environment variable; `Err(VAR)` when it is not set.
fn expand_env(s: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let Some(j) = rest[i..].find('}') else { break };
        let var = &rest[i + 2..i + j];
        out.push_str(&std::env::var(var).map_err(|_| var.to_string())?);
        rest = &rest[i + j + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

type TargetOrSkip = Result<Target, (String, String, String)>;

/// The embedded default (reference driver + sqliteodbc on temp files) and, with `all`,
/// every driver of conform.ini (skipped with the reason when its server is down) and
/// every other odbcinst.ini driver (skipped: no connection string known).
fn all_targets(exe: &Path, all: bool, temp_files: &mut Vec<PathBuf>) -> Vec<TargetOrSkip> {
    let mut v = Vec::new();
    match refdriver_path(exe) {
        Some(p) => v.push(Ok(refdriver_target(p, temp_files))),
        None => {
            v.push(Err(("refdriver".into(), String::new(), "libodbc_refdriver.so not built: run `cargo build -p odbc-refdriver`".into())))
        }
    }
    if Path::new(SQLITE_DRIVER).exists() {
        v.push(Ok(sqlite_target(temp_files)));
    } else {
        v.push(Err((
            "sqliteodbc".into(),
            SQLITE_DRIVER.into(),
            "libsqlite3odbc.so is not installed (apt-get install libsqliteodbc)".into(),
        )));
    }
    if !all {
        return v;
    }
    if let Some(ini) = conform_ini(exe) {
        for (name, sec) in ini.sections() {
            v.push(ini_target(name, sec));
        }
    }
    // odbcinst.ini drivers not covered above.
    let covered: Vec<PathBuf> = v
        .iter()
        .map(|t| match t {
            Ok(t) => t.path.clone(),
            Err((_, p, _)) => PathBuf::from(p),
        })
        .collect();
    if let Ok(inst) = ConfigSource::from_env().load_odbcinst() {
        for (name, sec) in inst.sections() {
            if name.eq_ignore_ascii_case("ODBC") {
                continue;
            }
            let Some(d) = sec.get("Driver") else { continue };
            let path = resolve_driver_file(d);
            // Same library file name = covered (the reference driver exists both in
            // target/debug and target/debug/deps).
            if covered.iter().any(|c| c.file_name().is_some() && c.file_name() == path.file_name()) {
                continue;
            }
            // Run it if it connects without keywords (file-less or default-configured
            // drivers); otherwise skip it with the driver's own reason.
            if !path.exists() {
                v.push(Err((name.to_string(), path.display().to_string(), format!("{} is not installed", path.display()))));
                continue;
            }
            let t = Target {
                name: name.to_string(),
                dialect: Dialect::guess(&path),
                path: path.clone(),
                connect: String::new(),
                long_query: None,
                offline: None,
            };
            match runner::probe(exe, &t) {
                Ok(_) => v.push(Ok(t)),
                Err(e) => v.push(Err((
                    name.to_string(),
                    path.display().to_string(),
                    format!("odbcinst.ini driver that does not connect without keywords ({e}); add it to drivers-under-test/conform.ini"),
                ))),
            }
        }
    }
    v
}

/// `--driver <path|odbcinst name>` with optional `--connect`.
fn single_target(exe: &Path, driver: &str, connect: Option<&str>, temp_files: &mut Vec<PathBuf>) -> Result<Target, String> {
    let path = if driver.contains('/') || driver.ends_with(".so") {
        resolve_driver_file(driver)
    } else {
        let inst = ConfigSource::from_env().load_odbcinst().map_err(|e| format!("cannot read odbcinst.ini: {e}"))?;
        let d = inst.get(driver, "Driver").ok_or_else(|| format!("no driver `{driver}` in odbcinst.ini"))?;
        resolve_driver_file(d)
    };
    if !path.exists() {
        return Err(format!("{} does not exist", path.display()));
    }
    let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    // Known drivers keep their defaults (name, long query); --connect replaces the keywords.
    let mut t = if file.contains("refdriver") {
        refdriver_target(path.clone(), temp_files)
    } else if file.contains("sqlite3odbc") {
        let mut t = sqlite_target(temp_files);
        t.path = path.clone();
        t
    } else if let Some((name, sec)) = conform_ini(exe).and_then(|ini| {
        ini.sections()
            .find(|(_, s)| s.get("Driver").map(resolve_driver_file).is_some_and(|p| p == path))
            .map(|(n, s)| (n.to_string(), s.clone()))
    }) {
        ini_target(&name, &sec).unwrap_or_else(|_| Target {
            name: name.clone(),
            path: path.clone(),
            connect: sec.get("Connect").unwrap_or_default().into(),
            long_query: sec.get("LongQuery").map(str::to_string),
            dialect: dialect_of(sec.get("Dialect"), &path),
            offline: None,
        })
    } else {
        Target {
            name: file.trim_end_matches(".so").to_string(),
            dialect: Dialect::guess(&path),
            path: path.clone(),
            connect: String::new(),
            long_query: None,
            offline: None,
        }
    };
    if let Some(c) = connect {
        // Keywords given on the command line: try them, whatever conform.ini knows.
        t.connect = c.to_string();
        t.offline = None;
    }
    Ok(t)
}
