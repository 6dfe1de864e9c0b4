//! Call tracing for C applications, which have no Rust logger to install.
//!
//! At load time ([`install_from_env`]):
//! - `ODBC_DM_TRACE=stderr` or `ODBC_DM_TRACE=/path/file` (appended): every `odbc_dm`
//!   record up to trace level, which includes the call trace (target `odbc_dm::trace`:
//!   `Entry SQLxxx args` / `Exit SQLxxx -> rc`).
//! - otherwise `RUST_LOG`, in its simple form: a comma-separated list of `level` or
//!   `target=level` (`RUST_LOG=odbc_dm::trace=trace`), written to stderr.
//! - neither: no logger; tracing costs one level comparison per call.
//!
//! Passwords are masked: the DM masks connection strings before it traces them, and this
//! logger passes every line through `odbc_dm::config::mask_passwords` as well, so a
//! `PWD=` in any message (a driver's diagnostic that echoes the connection string) is
//! masked too.

use std::io::Write;
use std::sync::Mutex;

use log::{Level, LevelFilter, Log, Metadata, Record};

/// One `target=level` rule; an empty target matches every record.
struct Rule {
    target: String,
    level: LevelFilter,
}

struct Logger {
    rules: Vec<Rule>,
    out: Mutex<Box<dyn Write + Send>>,
}

impl Logger {
    /// The level allowed for `target`: the longest matching rule's.
    fn level_for(&self, target: &str) -> LevelFilter {
        self.rules
            .iter()
            .filter(|r| r.target.is_empty() || target == r.target || target.starts_with(&format!("{}::", r.target)))
            .max_by_key(|r| r.target.len())
            .map_or(LevelFilter::Off, |r| r.level)
    }
}

impl Log for Logger {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        m.level() <= self.level_for(m.target())
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let text = format!("{}", record.args());
        let text = if needs_mask(&text) { odbc_dm::config::mask_passwords(&text) } else { text };
        let line = format!("[odbc-dm {:?} {} {}] {}\n", std::thread::current().id(), record.level(), record.target(), text);
        if let Ok(mut out) = self.out.lock() {
            let _ = out.write_all(line.as_bytes());
            let _ = out.flush();
        }
    }

    fn flush(&self) {
        if let Ok(mut out) = self.out.lock() {
            let _ = out.flush();
        }
    }
}

/// Whether a line may contain a password keyword (cheap test before masking).
fn needs_mask(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.contains("pwd") || lower.contains("password")
}

/// Parses the simple `RUST_LOG` form: `level` or `target=level`, comma-separated.
fn parse_rules(spec: &str) -> Vec<Rule> {
    spec.split(',')
        .filter_map(|item| {
            let item = item.trim();
            if item.is_empty() {
                return None;
            }
            let (target, level) = match item.split_once('=') {
                Some((t, l)) => (t.trim().to_string(), l.trim()),
                None => match item.parse::<LevelFilter>() {
                    Ok(l) => return Some(Rule { target: String::new(), level: l }),
                    // A bare target means "everything from it".
                    Err(_) => return Some(Rule { target: item.to_string(), level: LevelFilter::Trace }),
                },
            };
            level.parse::<LevelFilter>().ok().map(|level| Rule { target, level })
        })
        .collect()
}

/// Installs the logger described by `ODBC_DM_TRACE` / `RUST_LOG`, if any. Never fails
/// loudly: a trace file that cannot be opened leaves tracing off (and says so on stderr).
pub fn install_from_env() {
    let (rules, out): (Vec<Rule>, Box<dyn Write + Send>) = match std::env::var("ODBC_DM_TRACE") {
        Ok(dest) if !dest.is_empty() => {
            let rules = vec![Rule { target: "odbc_dm".into(), level: LevelFilter::Trace }];
            if dest.eq_ignore_ascii_case("stderr") {
                (rules, Box::new(std::io::stderr()))
            } else {
                match std::fs::OpenOptions::new().create(true).append(true).open(&dest) {
                    Ok(f) => (rules, Box::new(f)),
                    Err(e) => {
                        eprintln!("odbc-dm: ODBC_DM_TRACE={dest}: cannot open the trace file ({e}); tracing is off");
                        return;
                    }
                }
            }
        }
        _ => match std::env::var("RUST_LOG") {
            Ok(spec) if !spec.trim().is_empty() => (parse_rules(&spec), Box::new(std::io::stderr())),
            _ => return,
        },
    };
    let max = rules.iter().map(|r| r.level).max().unwrap_or(LevelFilter::Off);
    if max == LevelFilter::Off {
        return;
    }
    let logger: &'static Logger = Box::leak(Box::new(Logger { rules, out: Mutex::new(out) }));
    if log::set_logger(logger).is_ok() {
        log::set_max_level(max);
        log::log!(target: "odbc_dm::capi", Level::Debug, "odbc-dm libodbc.so.2 loaded, tracing on");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_the_simple_rust_log_form() {
        let r = parse_rules("warn, odbc_dm::trace=trace ,bad=nonsense");
        assert_eq!(r.len(), 2);
        let l = Logger { rules: r, out: Mutex::new(Box::new(std::io::sink())) };
        assert_eq!(l.level_for("odbc_dm::trace"), LevelFilter::Trace);
        assert_eq!(l.level_for("odbc_dm::raw"), LevelFilter::Warn);
        assert_eq!(l.level_for("odbc_dm::tracer"), LevelFilter::Warn);
    }
}
