//! The diagnostic area of one DM handle.

use odbc_dm_abi::SqlReturn;

use super::SqlState;

/// Who posted a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Detected by the DM (message prefixed `[odbc-dm]`).
    DriverManager,
    /// Copied from the driver's handle after the call.
    Driver,
}

/// SQL_NO_ROW_NUMBER (sqlext.h).
pub const NO_ROW_NUMBER: isize = -1;
/// SQL_NO_COLUMN_NUMBER (sqlext.h).
pub const NO_COLUMN_NUMBER: i32 = -1;
/// SQL_ROW_NUMBER_UNKNOWN (sqlext.h).
pub const ROW_NUMBER_UNKNOWN: isize = -2;
/// SQL_COLUMN_NUMBER_UNKNOWN (sqlext.h).
pub const COLUMN_NUMBER_UNKNOWN: i32 = -2;

/// One diagnostic record.
#[derive(Clone, Debug)]
pub struct DiagRecord {
    pub state: SqlState,
    pub native: i32,
    pub message: String,
    pub origin: Origin,
    /// SQL_DIAG_ROW_NUMBER: a row of the rowset or parameter set (from 1),
    /// SQL_NO_ROW_NUMBER (-1: not about a row) or SQL_ROW_NUMBER_UNKNOWN (-2).
    pub row_number: isize,
    /// SQL_DIAG_COLUMN_NUMBER: a column or parameter (from 1; 0 = the bookmark column),
    /// SQL_NO_COLUMN_NUMBER (-1) or SQL_COLUMN_NUMBER_UNKNOWN (-2).
    pub column_number: i32,
}

impl DiagRecord {
    /// A record posted by the DM itself.
    pub fn dm(state: SqlState, message: impl Into<String>) -> DiagRecord {
        let mut m: String = message.into();
        if !m.starts_with('[') {
            m = format!("[odbc-dm]{m}");
        }
        // The DM's own records are about the call, never about a row or a column.
        DiagRecord {
            state,
            native: 0,
            message: m,
            origin: Origin::DriverManager,
            row_number: NO_ROW_NUMBER,
            column_number: NO_COLUMN_NUMBER,
        }
    }
}

/// The records of the last call on a handle, plus the header fields the DM owns.
#[derive(Debug)]
pub struct DiagArea {
    records: Vec<DiagRecord>,
    /// SQL_DIAG_RETURNCODE: the return code of the last call.
    pub return_code: SqlReturn,
}

impl Default for DiagArea {
    fn default() -> Self {
        DiagArea { records: Vec::new(), return_code: SqlReturn::SQL_SUCCESS }
    }
}

impl DiagArea {
    /// Clears the area at the start of a call (every function but the SQLGetDiag* family).
    #[inline]
    pub fn clear(&mut self) {
        if !self.records.is_empty() {
            self.records.clear();
        }
        self.return_code = SqlReturn::SQL_SUCCESS;
    }

    /// Appends a record.
    pub fn push(&mut self, r: DiagRecord) {
        self.records.push(r);
    }

    /// Appends a DM record.
    pub fn post(&mut self, state: SqlState, message: impl Into<String>) {
        self.records.push(DiagRecord::dm(state, message));
    }

    /// Number of records (SQL_DIAG_NUMBER).
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether there is no record.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Record `n`, 1-based as in SQLGetDiagRec.
    pub fn get(&self, n: usize) -> Option<&DiagRecord> {
        n.checked_sub(1).and_then(|i| self.records.get(i))
    }

    /// All records, in order.
    pub fn records(&self) -> &[DiagRecord] {
        &self.records
    }

    /// Replaces the records (used when a cancelled operation's records are replaced, §3.3).
    pub fn replace(&mut self, recs: Vec<DiagRecord>) {
        self.records = recs;
    }

    /// Takes the records out.
    pub fn take(&mut self) -> Vec<DiagRecord> {
        std::mem::take(&mut self.records)
    }
}
