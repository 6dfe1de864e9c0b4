//! [`Cursor`]: an open result set, read row by row with `SQLFetch` + `SQLGetData`.

use std::marker::PhantomData;

use odbc_dm_abi::*;

use super::bound::BoundCursor;
use super::column::FromColumn;
use super::error::{Diag, DiagRecord, Error, Result};
use super::getdata::{self, ReadColumns};
use super::params::TextEncoding;
use super::rowset::BufferDesc;
use super::statement::{row_count, StmtHandle};
use crate::raw;

/// Description of one result column (`SQLDescribeCol`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnDescription {
    /// The column name (may be empty).
    pub name: String,
    /// Its SQL type.
    pub data_type: SqlDataType,
    /// Column size (characters for text, precision for numbers); 0 when unknown.
    pub column_size: usize,
    /// Decimal digits (scale).
    pub decimal_digits: i16,
    /// Whether it may be NULL.
    pub nullable: Nullability,
}

/// An open result set.
///
/// Either owns its statement handle (cursors from [`Connection`](super::Connection)
/// methods: the statement is freed when the cursor drops) or borrows one (cursors from a
/// [`Statement`](super::Statement) or [`Prepared`](super::Prepared): the statement stays
/// usable afterwards). Dropping it closes the cursor (`SQLFreeStmt(SQL_CLOSE)`), so the
/// statement can execute again. `Send`, not `Sync`.
pub struct Cursor<'a> {
    pub(crate) h: SqlHStmt,
    pub(crate) enc: TextEncoding,
    /// Held for its `Drop` (frees an owned statement after the cursor closes).
    _owned: Option<StmtHandle<'a>>,
    pub(crate) warnings: Vec<DiagRecord>,
    _borrow: PhantomData<&'a mut ()>,
}

// SAFETY: `h` is a DM handle id; the DM serializes calls per handle and its handles may be
// used from any thread (§3.1). The owned `StmtHandle` is `Send`.
unsafe impl Send for Cursor<'_> {}

impl Drop for Cursor<'_> {
    fn drop(&mut self) {
        // SAFETY: our statement id; SQL_CLOSE on a statement without a cursor is harmless.
        let rc = unsafe { raw::SQLFreeStmt(self.h, FreeStmtOption::SQL_CLOSE) };
        if !rc.is_success() {
            log::warn!("closing a cursor failed: {}", Diag::stmt(self.h).error("SQLFreeStmt", rc));
        }
        // `owned`, if any, drops next and frees the statement.
    }
}

impl<'a> Cursor<'a> {
    pub(crate) fn borrowed(handle: &'a StmtHandle<'_>) -> Self {
        Cursor { h: handle.h, enc: handle.enc, _owned: None, warnings: Vec::new(), _borrow: PhantomData }
    }

    pub(crate) fn owned(handle: StmtHandle<'a>) -> Self {
        Cursor { h: handle.h, enc: handle.enc, _owned: Some(handle), warnings: Vec::new(), _borrow: PhantomData }
    }

    fn check(&mut self, function: &'static str, rc: SqlReturn) -> Result<SqlReturn> {
        Diag::stmt(self.h).check(function, rc, &mut self.warnings)
    }

    /// The raw statement handle; owned by the statement this cursor belongs to.
    pub fn as_raw(&self) -> SqlHStmt {
        self.h
    }

    /// The number of result columns (`SQLNumResultCols`).
    pub fn column_count(&mut self) -> Result<u16> {
        let mut n: SqlSmallInt = 0;
        // SAFETY: our statement id and a valid out slot.
        let rc = unsafe { raw::SQLNumResultCols(self.h, &mut n) };
        self.check("SQLNumResultCols", rc)?;
        Ok(n.max(0) as u16)
    }

    /// Describes column `col` (1-based) with `SQLDescribeCol`.
    pub fn describe_col(&mut self, col: u16) -> Result<ColumnDescription> {
        if col == 0 {
            return Err(Error::Usage("columns are numbered from 1".into()));
        }
        let mut name = vec![0u8; 256];
        loop {
            let (mut len, mut ty, mut size, mut digits, mut nullable) =
                (0i16, SqlDataType::default(), 0usize, 0i16, Nullability::default());
            // SAFETY: our statement id; `name` holds `name.len()` bytes; valid out slots.
            let rc = unsafe {
                raw::SQLDescribeCol(
                    self.h,
                    col,
                    name.as_mut_ptr(),
                    name.len() as i16,
                    &mut len,
                    &mut ty,
                    &mut size,
                    &mut digits,
                    &mut nullable,
                )
            };
            let rc = self.check("SQLDescribeCol", rc)?;
            let len = len.max(0) as usize;
            if rc == SqlReturn::SQL_SUCCESS_WITH_INFO && len >= name.len() && name.len() < i16::MAX as usize {
                name.resize((len + 1).min(i16::MAX as usize), 0);
                continue;
            }
            let end = len.min(name.len());
            let end = name[..end].iter().position(|&b| b == 0).unwrap_or(end);
            return Ok(ColumnDescription {
                name: String::from_utf8_lossy(&name[..end]).into_owned(),
                data_type: ty,
                column_size: size,
                decimal_digits: digits,
                nullable,
            });
        }
    }

    /// The names of all result columns.
    pub fn column_names(&mut self) -> Result<Vec<String>> {
        let n = self.column_count()?;
        (1..=n).map(|c| self.describe_col(c).map(|d| d.name)).collect()
    }

    /// Fetches the next row (`SQLFetch`); `None` at the end of the result set.
    pub fn next_row(&mut self) -> Result<Option<Row<'_>>> {
        // SAFETY: our statement id.
        let rc = unsafe { raw::SQLFetch(self.h) };
        if self.check("SQLFetch", rc)? == SqlReturn::SQL_NO_DATA {
            return Ok(None);
        }
        Ok(Some(Row { h: self.h, enc: self.enc, read: ReadColumns::default(), warnings: &mut self.warnings }))
    }

    /// The rows affected by the statement (`SQLRowCount`); many drivers return -1 for a
    /// SELECT.
    pub fn row_count(&mut self) -> Result<isize> {
        row_count(self.h, &mut self.warnings)
    }

    /// Moves to the next result set (`SQLMoreResults`), skipping results without columns
    /// (row counts). `false` when there is none; the cursor is then exhausted.
    pub fn more_results(&mut self) -> Result<bool> {
        loop {
            // SAFETY: our statement id.
            let rc = unsafe { raw::SQLMoreResults(self.h) };
            if self.check("SQLMoreResults", rc)? == SqlReturn::SQL_NO_DATA {
                return Ok(false);
            }
            if self.column_count()? > 0 {
                return Ok(true);
            }
        }
    }

    /// Switches to block fetching: binds one buffer per entry of `columns` to columns 1, 2,
    /// … and fetches up to `rowset_size` rows per [`BoundCursor::fetch`]. When the driver
    /// cannot fetch arrays, the rowset size falls back to what it accepts (at least 1).
    pub fn bind_buffers(self, rowset_size: usize, columns: &[BufferDesc]) -> Result<BoundCursor<'a>> {
        BoundCursor::new(self, rowset_size, columns)
    }

    /// The SUCCESS_WITH_INFO records gathered while reading this cursor.
    pub fn warnings(&self) -> &[DiagRecord] {
        &self.warnings
    }

    /// Returns and clears the gathered warnings.
    pub fn take_warnings(&mut self) -> Vec<DiagRecord> {
        std::mem::take(&mut self.warnings)
    }
}

/// The current row of a [`Cursor`]; read its columns with [`Row::get`] (`SQLGetData`).
///
/// Columns are best read in increasing order: many drivers only allow that
/// (`SQL_GETDATA_EXTENSIONS`), and each column can be read once.
pub struct Row<'r> {
    h: SqlHStmt,
    enc: TextEncoding,
    read: ReadColumns,
    warnings: &'r mut Vec<DiagRecord>,
}

impl Row<'_> {
    /// Reads column `col` (1-based) with `SQLGetData` (in pieces for long values; see
    /// [`FromColumn`] for the C type of each Rust type). A NULL is an
    /// [`Error::UnexpectedNull`] unless `T` is an `Option`. Reading a column twice is an
    /// [`Error::Usage`] ("already read"); `SQL_NO_DATA` for a column not read yet (the
    /// cursor was closed underneath, e.g. by `SQLCancel` or `SQLCloseCursor` on the raw
    /// handle) is an [`Error::Odbc`] with return code `SQL_NO_DATA` and the handle's records.
    pub fn get<T: FromColumn>(&mut self, col: u16) -> Result<T> {
        if col == 0 {
            return Err(Error::Usage("columns are numbered from 1 (bookmarks are not supported)".into()));
        }
        let v = getdata::read_blocking(self.h, col, T::KIND, self.enc, &mut self.read, self.warnings)?;
        T::from_value(v, col)
    }
}
