//! Errors and diagnostics of the safe API.
//!
//! Every failing ODBC call becomes [`Error::Odbc`], carrying the name of the ODBC function
//! that failed, its return code and the diagnostic records read from the handle with
//! `SQLGetDiagRec` right after the call. Errors the Driver Manager itself raises (a missing
//! data source `IM002`, a driver that cannot be loaded `IM003`, a sequence error `HY010`)
//! take the same path: they are diagnostic records of the DM's merged area.
//!
//! `SQL_SUCCESS_WITH_INFO` is not an error; its records are kept as *warnings* on the
//! object the call was made on (see `warnings()` on [`Connection`](super::Connection),
//! [`Statement`](super::Statement), [`Prepared`](super::Prepared) and
//! [`Cursor`](super::Cursor)).
//!
//! Messages never contain passwords: every message text is passed through
//! [`mask_passwords`](crate::config::mask_passwords) when it is read, because drivers
//! sometimes echo the connection string in their messages.

use std::fmt;

use odbc_dm_abi::{HandleType, SqlHandle, SqlReturn, SqlSmallInt};

use crate::config::mask_passwords;
use crate::raw;

/// The result type of the safe API.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The most records read for one call (a driver could post thousands, e.g. one per row).
const MAX_RECORDS: usize = 64;
/// The most warnings kept on one object between two `take_warnings` calls.
pub(crate) const MAX_WARNINGS: usize = 256;

/// One diagnostic record (`SQLGetDiagRec`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiagRecord {
    /// The five-character SQLSTATE, e.g. `"42000"`.
    pub state: String,
    /// The driver's (or data source's) native error code.
    pub native: i32,
    /// The message text, with any password values masked.
    pub message: String,
}

impl fmt::Display for DiagRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {} (native {})", self.state, self.message, self.native)
    }
}

/// An error of the safe API.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An ODBC function returned `SQL_ERROR` (or a return code the API does not expect,
    /// kept as is in `return_code`; unknown codes never panic).
    #[error("{}", odbc_message(function, *return_code, records))]
    Odbc {
        /// The ODBC function that failed, e.g. `"SQLDriverConnect"`.
        function: &'static str,
        /// Its SQLRETURN (`-1` for SQL_ERROR).
        return_code: i16,
        /// Its diagnostic records, in the order `SQLGetDiagRec` returned them.
        records: Vec<DiagRecord>,
    },
    /// An ODBC function returned `SQL_INVALID_HANDLE` (for instance a [`CancelHandle`]
    /// used after its statement was freed).
    ///
    /// [`CancelHandle`]: super::CancelHandle
    #[error("{function} failed: invalid handle")]
    InvalidHandle {
        /// The ODBC function that was called.
        function: &'static str,
    },
    /// A column read into a non-`Option` type was NULL.
    #[error("column {column} is NULL; read it as Option<T>")]
    UnexpectedNull {
        /// The 1-based column number.
        column: u16,
    },
    /// Text returned by the driver was not valid UTF-8 / UTF-16.
    #[error("column {column}: the driver returned invalid {encoding} text")]
    InvalidText {
        /// The 1-based column number (0 for text that is not column data).
        column: u16,
        /// `"UTF-8"` or `"UTF-16"`.
        encoding: &'static str,
    },
    /// Reading a streamed parameter failed; the execution was cancelled.
    #[error("reading data-at-execution parameter {parameter} failed: {source}")]
    Io {
        /// The 1-based parameter number.
        parameter: u16,
        /// The reader's error.
        #[source]
        source: std::io::Error,
    },
    /// Optimistic concurrency (§5.3): the row was changed or deleted by someone else since
    /// it was read (SQLSTATE 01001); nothing was written. Re-read and retry
    /// ([`retry_optimistic`](super::retry_optimistic)).
    #[error("optimistic concurrency conflict: the row was changed or deleted since it was read{}", records.first().map(|r| format!(" ({r})")).unwrap_or_default())]
    Conflict {
        /// The diagnostic records of the write (01001 among them).
        records: Vec<DiagRecord>,
    },
    /// The caller used the API in a way ODBC cannot express or the API does not allow
    /// (e.g. column 0, a rowset size of 0, a string longer than the length argument of the
    /// ODBC function allows, a column read twice, a future polled after completion).
    #[error("invalid use of the API: {0}")]
    Usage(String),
    /// The driver broke the ODBC protocol: asked for data of a parameter that is not
    /// data-at-execution, returned no result set where one is due, never ended a cancelled
    /// operation (§2.14), and the like.
    #[error("{function}: the driver broke the ODBC protocol: {detail}")]
    DriverProtocol {
        /// The ODBC function during which the driver did so.
        function: &'static str,
        /// What happened.
        detail: String,
    },
    /// The operating system refused a resource the API needs (an eventfd, a thread) or an
    /// output could not be written.
    #[error("{context}: {source}")]
    Os {
        /// What the API was doing.
        context: String,
        /// The system's error.
        #[source]
        source: std::io::Error,
    },
    /// An invariant of the API or the DM did not hold (a bug, or the handle was used through
    /// the raw layer behind the API's back, e.g. an operation's result collected
    /// elsewhere).
    #[error("internal error: {0}")]
    Internal(String),
}

// The error travels between threads and into `Box<dyn Error + Send + Sync + 'static>`.
const _: fn() = || {
    fn check<T: Send + Sync + 'static>() {}
    check::<Error>();
};

fn odbc_message(function: &str, rc: i16, records: &[DiagRecord]) -> String {
    let mut s = match SqlReturn(rc) {
        SqlReturn::SQL_ERROR => format!("{function} failed"),
        SqlReturn::SQL_NO_DATA => format!("{function} returned SQL_NO_DATA where data was expected"),
        _ => format!("{function} returned unexpected code {rc}"),
    };
    if records.is_empty() {
        s.push_str(" (no diagnostic records)");
    }
    for (i, r) in records.iter().enumerate() {
        s.push_str(if i == 0 { ": " } else { "; " });
        s.push_str(&r.to_string());
    }
    s
}

impl Error {
    /// A copy of the error (`Error` is not `Clone`: an I/O source is rebuilt from its kind
    /// and message). For status handles that report an operation's error more than once.
    pub(crate) fn duplicate(&self) -> Error {
        let io = |e: &std::io::Error| std::io::Error::new(e.kind(), e.to_string());
        match self {
            Error::Odbc { function, return_code, records } => Error::Odbc { function, return_code: *return_code, records: records.clone() },
            Error::InvalidHandle { function } => Error::InvalidHandle { function },
            Error::UnexpectedNull { column } => Error::UnexpectedNull { column: *column },
            Error::InvalidText { column, encoding } => Error::InvalidText { column: *column, encoding },
            Error::Io { parameter, source } => Error::Io { parameter: *parameter, source: io(source) },
            Error::Usage(m) => Error::Usage(m.clone()),
            Error::DriverProtocol { function, detail } => Error::DriverProtocol { function, detail: detail.clone() },
            Error::Os { context, source } => Error::Os { context: context.clone(), source: io(source) },
            Error::Internal(m) => Error::Internal(m.clone()),
            Error::Conflict { records } => Error::Conflict { records: records.clone() },
        }
    }

    /// The SQLSTATE of the first diagnostic record, if this is an ODBC error with records.
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            Error::Odbc { records, .. } => records.first().map(|r| r.state.as_str()),
            _ => None,
        }
    }

    /// The diagnostic records of an ODBC error or a conflict (empty for other errors).
    pub fn records(&self) -> &[DiagRecord] {
        match self {
            Error::Odbc { records, .. } | Error::Conflict { records } => records,
            _ => &[],
        }
    }

    /// The ODBC function that failed, for ODBC, invalid-handle and driver-protocol errors.
    pub fn function(&self) -> Option<&'static str> {
        match self {
            Error::Odbc { function, .. } | Error::InvalidHandle { function } | Error::DriverProtocol { function, .. } => Some(function),
            _ => None,
        }
    }
}

/// Reads every diagnostic record of a handle (up to `MAX_RECORDS`), masking passwords.
pub(crate) fn diag_records(ht: HandleType, h: SqlHandle) -> Vec<DiagRecord> {
    let mut out = Vec::new();
    let mut msg = vec![0u8; 1024];
    let mut i: SqlSmallInt = 1;
    while out.len() < MAX_RECORDS {
        let mut state = [0u8; 6];
        let mut native = 0i32;
        let mut len: SqlSmallInt = 0;
        // SAFETY: `state` holds 6 bytes, `msg` holds `msg.len()` bytes (< i16::MAX), the
        // out pointers are valid locals; `h` is a DM handle id (a stale one is rejected).
        let rc =
            unsafe { raw::SQLGetDiagRec(ht, h, i, state.as_mut_ptr(), &mut native, msg.as_mut_ptr(), msg.len() as SqlSmallInt, &mut len) };
        if !rc.is_success() {
            break;
        }
        let len = len.max(0) as usize;
        if len >= msg.len() && msg.len() < i16::MAX as usize {
            // Truncated: read the same record again with room for the whole text.
            msg.resize((len + 1).min(i16::MAX as usize), 0);
            continue;
        }
        let text_end = len.min(msg.len().saturating_sub(1));
        let state_end = state.iter().position(|&b| b == 0).unwrap_or(5);
        out.push(DiagRecord {
            state: String::from_utf8_lossy(&state[..state_end]).into_owned(),
            native,
            message: mask_passwords(&String::from_utf8_lossy(&msg[..text_end])),
        });
        i += 1;
    }
    out
}

/// Where a call's diagnostics live.
#[derive(Clone, Copy)]
pub(crate) struct Diag {
    pub ht: HandleType,
    pub h: SqlHandle,
}

impl Diag {
    pub(crate) fn env(h: SqlHandle) -> Self {
        Diag { ht: HandleType::SQL_HANDLE_ENV, h }
    }
    pub(crate) fn dbc(h: SqlHandle) -> Self {
        Diag { ht: HandleType::SQL_HANDLE_DBC, h }
    }
    pub(crate) fn stmt(h: SqlHandle) -> Self {
        Diag { ht: HandleType::SQL_HANDLE_STMT, h }
    }

    /// The error for a return code that is not a success.
    pub(crate) fn error(self, function: &'static str, rc: SqlReturn) -> Error {
        if rc == SqlReturn::SQL_INVALID_HANDLE {
            return Error::InvalidHandle { function };
        }
        Error::Odbc { function, return_code: rc.0, records: diag_records(self.ht, self.h) }
    }

    /// Maps a return code: SUCCESS → `Ok`, SUCCESS_WITH_INFO → `Ok` with its records pushed
    /// to `warnings`, NO_DATA / NEED_DATA / PARAM_DATA_AVAILABLE → `Ok` (the caller looks at
    /// the code), anything else → `Err`. Unknown codes are errors, never panics.
    pub(crate) fn check(self, function: &'static str, rc: SqlReturn, warnings: &mut Vec<DiagRecord>) -> Result<SqlReturn> {
        match rc {
            SqlReturn::SQL_SUCCESS | SqlReturn::SQL_NO_DATA | SqlReturn::SQL_NEED_DATA | SqlReturn::SQL_PARAM_DATA_AVAILABLE => Ok(rc),
            SqlReturn::SQL_INVALID_HANDLE => Err(Error::InvalidHandle { function }),
            _ => outcome(function, rc, diag_records(self.ht, self.h), warnings),
        }
    }
}

/// Maps a return code with its records already read, as [`Diag::check`] does (used where
/// the records come from elsewhere, e.g. an asynchronous operation's outcome).
pub(crate) fn outcome(
    function: &'static str,
    rc: SqlReturn,
    records: Vec<DiagRecord>,
    warnings: &mut Vec<DiagRecord>,
) -> Result<SqlReturn> {
    match rc {
        SqlReturn::SQL_SUCCESS | SqlReturn::SQL_NO_DATA | SqlReturn::SQL_NEED_DATA | SqlReturn::SQL_PARAM_DATA_AVAILABLE => Ok(rc),
        SqlReturn::SQL_SUCCESS_WITH_INFO => {
            push_warnings(warnings, records);
            Ok(rc)
        }
        SqlReturn::SQL_INVALID_HANDLE => Err(Error::InvalidHandle { function }),
        _ => Err(Error::Odbc { function, return_code: rc.0, records }),
    }
}

/// Appends warnings, keeping at most `MAX_WARNINGS` (the newest are dropped beyond that).
pub(crate) fn push_warnings(warnings: &mut Vec<DiagRecord>, new: Vec<DiagRecord>) {
    let room = MAX_WARNINGS.saturating_sub(warnings.len());
    warnings.extend(new.into_iter().take(room));
}
