//! The CLI's logger: a minimal `log` backend writing to stderr, configured by `RUST_LOG`
//! with env_logger's directive syntax (docs/decisions.md #49), so
//! `RUST_LOG=odbc_dm::trace=trace odbc-dm …` prints the call trace the README promises.
//!
//! `RUST_LOG` is a comma-separated list of directives: `level` (all targets),
//! `target` (that target and its children at every level) or `target=level`; levels are
//! `off`, `error`, `warn`, `info`, `debug`, `trace` in any case. The longest matching
//! target prefix (on `::` boundaries) wins. Unknown levels are ignored with a note.
//! Nothing is printed without `RUST_LOG`.

use std::io::Write;

use log::{LevelFilter, Log, Metadata, Record};

/// One `target=level` directive; an empty target applies to every target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub target: String,
    pub level: LevelFilter,
}

/// Parses `RUST_LOG`; returns the directives and the texts it could not read.
pub fn parse(spec: &str) -> (Vec<Directive>, Vec<String>) {
    let mut dirs = Vec::new();
    let mut bad = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (target, level) = match part.split_once('=') {
            Some((t, l)) => match l.trim().parse::<LevelFilter>() {
                Ok(level) => (t.trim().to_string(), level),
                Err(_) => {
                    bad.push(part.to_string());
                    continue;
                }
            },
            // A bare word is a level if it parses as one, else a target at every level.
            None => match part.parse::<LevelFilter>() {
                Ok(level) => (String::new(), level),
                Err(_) => (part.to_string(), LevelFilter::Trace),
            },
        };
        dirs.push(Directive { target, level });
    }
    (dirs, bad)
}

/// True if `target` is `prefix` or a child of it (`prefix::…`).
fn matches(prefix: &str, target: &str) -> bool {
    prefix.is_empty() || target == prefix || (target.starts_with(prefix) && target[prefix.len()..].starts_with("::"))
}

/// The level enabled for `target`: the longest matching directive's, else off.
pub fn level_for(dirs: &[Directive], target: &str) -> LevelFilter {
    dirs.iter().filter(|d| matches(&d.target, target)).max_by_key(|d| d.target.len()).map_or(LevelFilter::Off, |d| d.level)
}

struct StderrLogger {
    dirs: Vec<Directive>,
}

impl Log for StderrLogger {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        m.level() <= level_for(&self.dirs, m.target())
    }

    fn log(&self, r: &Record<'_>) {
        if self.enabled(r.metadata()) {
            // One write per line, so lines of different threads do not interleave; a
            // closed stderr is ignored.
            let line = format!("[{} {}] {}\n", r.level(), r.target(), r.args());
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

/// Installs the logger when `RUST_LOG` is set (non-empty); otherwise nothing is logged.
pub fn init() {
    let Some(spec) = std::env::var_os("RUST_LOG") else { return };
    let spec = spec.to_string_lossy();
    let (dirs, bad) = parse(&spec);
    for b in &bad {
        eprintln!("odbc-dm: RUST_LOG: ignoring `{b}` (levels: off, error, warn, info, debug, trace)");
    }
    let max = dirs.iter().map(|d| d.level).max().unwrap_or(LevelFilter::Off);
    if max == LevelFilter::Off {
        return;
    }
    // The logger lives for the whole process (`log` needs a 'static one).
    if log::set_logger(Box::leak(Box::new(StderrLogger { dirs }))).is_ok() {
        log::set_max_level(max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_and_longest_prefix() {
        let (d, bad) = parse("warn, odbc_dm::trace=trace ,odbc_dm=info,hyper, x=nonsense");
        assert_eq!(bad, vec!["x=nonsense".to_string()]);
        assert_eq!(level_for(&d, "odbc_dm::trace"), LevelFilter::Trace);
        assert_eq!(level_for(&d, "odbc_dm::trace::sub"), LevelFilter::Trace);
        assert_eq!(level_for(&d, "odbc_dm::tracex"), LevelFilter::Info);
        assert_eq!(level_for(&d, "odbc_dm"), LevelFilter::Info);
        assert_eq!(level_for(&d, "hyper::client"), LevelFilter::Trace);
        assert_eq!(level_for(&d, "other"), LevelFilter::Warn);
        let (d, _) = parse("odbc_dm::trace=TRACE");
        assert_eq!(level_for(&d, "odbc_dm::trace"), LevelFilter::Trace);
        assert_eq!(level_for(&d, "odbc_dm"), LevelFilter::Off);
        assert!(parse("").0.is_empty());
    }
}
