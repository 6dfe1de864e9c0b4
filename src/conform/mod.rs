//! The conformance harness (`odbc-dm conform`): runs checks against one ODBC driver and
//! reports, rule by rule, where it breaks the spec (issue 13).
//!
//! Layering (decision 57): the checks sit on the raw layer ([`crate::raw`], ODBC-shaped,
//! pass-through for calls of the driver's own width) plus [`crate::config`] for odbcinst
//! look-ups. Where the DM deliberately replaces the driver's own answer (SQLGetFunctions is
//! answered from the exports, diagnostics are copied into the DM's area, Appendix B states
//! are checked by the DM before the driver is called, the notification attributes are never
//! forwarded), the harness loads the driver itself with libloading ([`direct`]) and plays the
//! DM, as `drivers-under-test/refdriver/tests/notification.rs` does.
//!
//! Isolation: every check group runs in a child process ([`runner`]); a crash or a hang of
//! the driver becomes `crash` / `timeout` for the check that was running and the group goes
//! on in a fresh child from the next check.

// The checks, the harness's own driver loading and the raw-layer helpers take unchecked
// handle values and run driver code: crate-private (issue 10). The binary reaches them
// only through `runner` (which runs them in a child process) and `report`.
pub(crate) mod checks;
pub(crate) mod direct;
pub(crate) mod odbc;
pub mod report;
pub mod runner;

use std::fmt;
use std::path::PathBuf;

/// The outcome of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    Pass,
    Fail,
    /// The driver honestly says it lacks the feature.
    Unsupported,
    /// Not run (missing prerequisite, not applicable to this driver).
    Skip,
    /// The child process died (signal, abort) while the check ran.
    Crash,
    /// The check exceeded its time limit; the child was killed.
    Timeout,
}

impl Outcome {
    pub const ALL: [Outcome; 6] = [Outcome::Pass, Outcome::Fail, Outcome::Unsupported, Outcome::Skip, Outcome::Crash, Outcome::Timeout];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Unsupported => "unsupported",
            Outcome::Skip => "skip",
            Outcome::Crash => "crash",
            Outcome::Timeout => "timeout",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// Whether this outcome makes the run's exit code non-zero.
    pub fn is_bad(self) -> bool {
        matches!(self, Outcome::Fail | Outcome::Crash | Outcome::Timeout)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reported check.
#[derive(Clone, Debug)]
pub struct CheckResult {
    pub id: String,
    pub rule: String,
    pub outcome: Outcome,
    /// One line; empty on pass.
    pub detail: String,
    pub ms: u64,
}

/// What the harness tests: a driver library and how to connect to it.
#[derive(Clone, Debug)]
pub struct Target {
    /// Short name used in reports and file names (`refdriver`, `sqliteodbc`, …).
    pub name: String,
    /// The driver library.
    pub path: PathBuf,
    /// Connection-string keywords for the driver itself (no DRIVER=).
    pub connect: String,
    /// A statement that runs for several seconds and can be cancelled (cancel checks).
    pub long_query: Option<String>,
    /// SQL dialect hints for the checks.
    pub dialect: Dialect,
    /// Set when the driver cannot connect here (server down, no database configured):
    /// only the checks that need no connection run; the others are skipped with this
    /// reason.
    pub offline: Option<String>,
}

/// The few SQL differences the checks need to know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite (reference driver, sqliteodbc): `"` quotes identifiers.
    Sqlite,
    /// PostgreSQL: `"` quotes identifiers.
    Postgres,
    /// MariaDB/MySQL: backticks quote identifiers.
    Mysql,
    /// Unknown: ANSI quoting.
    Other,
}

impl Dialect {
    pub fn parse(s: &str) -> Dialect {
        match s.to_ascii_lowercase().as_str() {
            "sqlite" => Dialect::Sqlite,
            "postgres" | "postgresql" => Dialect::Postgres,
            "mysql" | "mariadb" => Dialect::Mysql,
            _ => Dialect::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
            Dialect::Mysql => "mysql",
            Dialect::Other => "other",
        }
    }

    /// Quotes an identifier.
    pub fn quote(self, ident: &str) -> String {
        match self {
            Dialect::Mysql => format!("`{ident}`"),
            _ => format!("\"{ident}\""),
        }
    }

    /// Guesses the dialect from a driver file name.
    pub fn guess(path: &std::path::Path) -> Dialect {
        let f = path.file_name().map(|f| f.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
        if f.contains("sqlite") || f.contains("refdriver") {
            Dialect::Sqlite
        } else if f.contains("psql") || f.contains("postgres") {
            Dialect::Postgres
        } else if f.contains("maodbc") || f.contains("mysql") || f.contains("maria") {
            Dialect::Mysql
        } else {
            Dialect::Other
        }
    }
}

impl Target {
    /// The connection string the harness gives the DM (`DRIVER={path};` + keywords).
    pub fn dm_conn_str(&self) -> String {
        format!("DRIVER={{{}}};{}", self.path.display(), self.connect)
    }
}

/// Driver identity for the report header.
#[derive(Clone, Debug, Default)]
pub struct DriverMeta {
    pub path: String,
    pub name: String,
    pub version: String,
    pub odbc_version: String,
}

/// A whole run against one driver.
#[derive(Clone, Debug)]
pub struct Report {
    pub target: String,
    pub driver: DriverMeta,
    pub checks: Vec<CheckResult>,
    /// Set when the driver was not run at all (not installed, not loadable).
    pub skipped: Option<String>,
    /// Set when the driver could not connect: only the connection-free checks ran.
    pub offline: Option<String>,
}

impl Report {
    /// Number of checks per outcome, in [`Outcome::ALL`] order.
    pub fn summary(&self) -> [(Outcome, usize); 6] {
        Outcome::ALL.map(|o| (o, self.checks.iter().filter(|c| c.outcome == o).count()))
    }

    /// Whether anything failed, crashed or timed out.
    pub fn is_bad(&self) -> bool {
        self.checks.iter().any(|c| c.outcome.is_bad())
    }
}
