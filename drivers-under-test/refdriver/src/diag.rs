//! Diagnostic records kept per handle (SQLGetDiagRecW / SQLGetDiagFieldW).

use crate::util::lock;
use std::sync::Mutex;

#[derive(Clone, Debug)]
pub struct DiagRec {
    pub state: String,
    pub native: i32,
    pub msg: String,
}

impl DiagRec {
    pub fn new(state: &str, msg: impl Into<String>) -> DiagRec {
        DiagRec { state: state.to_string(), native: 0, msg: format!("[odbc-refdriver]{}", msg.into()) }
    }
    pub fn sqlite(state: &str, native: i32, msg: impl Into<String>) -> DiagRec {
        DiagRec { state: state.to_string(), native, msg: format!("[odbc-refdriver][SQLite]{}", msg.into()) }
    }
}

/// The diagnostic area of one handle.
#[derive(Default)]
pub struct DiagList {
    recs: Mutex<Vec<DiagRec>>,
    /// SQL_DIAG_ROW_COUNT / SQL_DIAG_RETURNCODE header fields.
    header: Mutex<(i16, isize)>,
}

impl DiagList {
    pub fn clear(&self) {
        lock(&self.recs).clear();
    }
    pub fn post(&self, r: DiagRec) {
        lock(&self.recs).push(r);
    }
    pub fn post_all(&self, rs: Vec<DiagRec>) {
        lock(&self.recs).extend(rs);
    }
    pub fn get(&self, i: usize) -> Option<DiagRec> {
        let mut r = lock(&self.recs).get(i).cloned()?;
        if odbc2_states() {
            r.state = odbc2_form(&r.state);
        }
        Some(r)
    }
    pub fn len(&self) -> usize {
        lock(&self.recs).len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn set_header(&self, ret: i16, row_count: isize) {
        *lock(&self.header) = (ret, row_count);
    }
    pub fn header(&self) -> (i16, isize) {
        *lock(&self.header)
    }
}

/// Maps a rusqlite error to a diagnostic record with a fitting SQLSTATE.
pub fn from_sqlite(e: &rusqlite::Error, cancelled: bool) -> DiagRec {
    if cancelled {
        return DiagRec::new("HY008", "Operation canceled");
    }
    use rusqlite::ffi::ErrorCode;
    let (fe, text) = match e {
        rusqlite::Error::SqliteFailure(fe, msg) => (Some(fe), msg.clone().unwrap_or_else(|| fe.to_string())),
        rusqlite::Error::SqlInputError { error, msg, .. } => (Some(error), msg.clone()),
        _ => (None, String::new()),
    };
    match (e, fe) {
        (_, Some(fe)) => {
            let state = match fe.code {
                ErrorCode::OperationInterrupted => "HY008",
                ErrorCode::ConstraintViolation => "23000",
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => "HYT00",
                ErrorCode::CannotOpen => "08001",
                ErrorCode::ReadOnly => "HY000",
                _ => {
                    if text.contains("syntax error") {
                        "42000"
                    } else if text.contains("no such table") {
                        "42S02"
                    } else if text.contains("no such column") {
                        "42S22"
                    } else if text.contains("already exists") {
                        "42S01"
                    } else {
                        "HY000"
                    }
                }
            };
            DiagRec::sqlite(state, fe.extended_code, text)
        }
        (rusqlite::Error::UserFunctionError(inner), None) => {
            let t = inner.to_string();
            if t.contains("cancel") {
                DiagRec::new("HY008", "Operation canceled")
            } else if t.contains("timeout") {
                DiagRec::new("HYT00", "Timeout expired")
            } else {
                DiagRec::sqlite("HY000", 0, t)
            }
        }
        (other, None) => DiagRec::sqlite("HY000", 0, other.to_string()),
    }
}

/// `ODBC_REFDRIVER_ODBC2_STATES=1`: the driver reports its SQLSTATEs in their ODBC 2.x form
/// whatever the application declared, like an ODBC 2 driver (for the DM's 2.x → 3.x
/// SQLSTATE mapping tests, capi/tests/sqlstate_mapping.rs).
fn odbc2_states() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var("ODBC_REFDRIVER_ODBC2_STATES").is_ok_and(|v| v == "1"))
}

/// The 2.x form of the common 3.x states: HYxxx -> S1xxx, 42Sxx -> S00xx, 42000 -> 37000.
fn odbc2_form(state: &str) -> String {
    match state {
        "42000" => "37000".into(),
        s if s.starts_with("42S") => format!("S00{}", &s[3..]),
        s if s.starts_with("HY") => format!("S1{}", &s[2..]),
        s => s.into(),
    }
}
