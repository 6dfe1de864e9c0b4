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

/// One diagnostic record.
#[derive(Clone, Debug)]
pub struct DiagRecord {
    pub state: SqlState,
    pub native: i32,
    pub message: String,
    pub origin: Origin,
    /// SQL_DIAG_ROW_NUMBER (-1 = unknown / SQL_ROW_NUMBER_UNKNOWN, 0 = no row).
    pub row_number: isize,
    /// SQL_DIAG_COLUMN_NUMBER (-1 = unknown / SQL_COLUMN_NUMBER_UNKNOWN).
    pub column_number: i32,
}

impl DiagRecord {
    /// A record posted by the DM itself.
    pub fn dm(state: SqlState, message: impl Into<String>) -> DiagRecord {
        let mut m: String = message.into();
        if !m.starts_with('[') {
            m = format!("[odbc-dm]{m}");
        }
        DiagRecord { state, native: 0, message: m, origin: Origin::DriverManager, row_number: 0, column_number: 0 }
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
