//! [`Cursor`]: an open result set, read row by row with `SQLFetch` + `SQLGetData`.

use std::marker::PhantomData;
use std::mem::size_of;

use odbc_dm_abi::*;

use super::bound::{BoundCursor, BufferDesc};
use super::error::{push_warnings, Diag, DiagRecord, Error, Result};
use super::params::TextEncoding;
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
        Ok(Some(Row { h: self.h, enc: self.enc, warnings: &mut self.warnings }))
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
    warnings: &'r mut Vec<DiagRecord>,
}

impl Row<'_> {
    /// Reads column `col` (1-based). A NULL is an [`Error::UnexpectedNull`] unless `T` is
    /// an `Option`.
    pub fn get<T: FromColumn>(&mut self, col: u16) -> Result<T> {
        if col == 0 {
            return Err(Error::Usage("columns are numbered from 1 (bookmarks are not supported)".into()));
        }
        T::read_column(self, col)?.ok_or(Error::UnexpectedNull { column: col })
    }

    fn get_fixed<T: Copy + Default>(&mut self, col: u16, ctype: CDataType) -> Result<Option<T>> {
        let mut v = T::default();
        let mut ind: SqlLen = 0;
        // SAFETY: our statement id; `v` is a `T`, the C type's size; valid indicator.
        let rc = unsafe { raw::SQLGetData(self.h, col, ctype, &mut v as *mut T as SqlPointer, size_of::<T>() as SqlLen, &mut ind) };
        if rc == SqlReturn::SQL_NO_DATA {
            return Err(Error::Usage(format!("column {col} was already read")));
        }
        Diag::stmt(self.h).check("SQLGetData", rc, self.warnings)?;
        Ok(if ind == SQL_NULL_DATA { None } else { Some(v) })
    }

    /// Reads a variable-length value in chunks until complete: `SQL_SUCCESS_WITH_INFO` with
    /// 01004 means more data follows; the indicator gives the remaining length or
    /// `SQL_NO_TOTAL`. `terminated`: the driver NUL-terminates each chunk (text).
    fn get_var<U: Copy + Default>(&mut self, col: u16, ctype: CDataType, terminated: bool) -> Result<Option<Vec<U>>> {
        let unit = size_of::<U>();
        let term = terminated as usize;
        let mut buf: Vec<U> = vec![U::default(); 4096 / unit];
        let mut out: Vec<U> = Vec::new();
        let mut first = true;
        loop {
            let mut ind: SqlLen = 0;
            // SAFETY: our statement id; `buf` holds `buf.len() * unit` bytes; valid indicator.
            let rc = unsafe { raw::SQLGetData(self.h, col, ctype, buf.as_mut_ptr() as SqlPointer, (buf.len() * unit) as SqlLen, &mut ind) };
            if rc == SqlReturn::SQL_NO_DATA {
                if first {
                    return Err(Error::Usage(format!("column {col} was already read")));
                }
                break;
            }
            let diag = Diag::stmt(self.h);
            let mut records = Vec::new();
            diag.check("SQLGetData", rc, &mut records)?;
            if ind == SQL_NULL_DATA {
                return Ok(None);
            }
            let usable = buf.len() - term;
            let truncated = records.iter().any(|r| r.state == "01004");
            let n = if truncated || ind == SQL_NO_TOTAL { usable } else { (ind.max(0) as usize / unit).min(usable) };
            out.extend_from_slice(&buf[..n]);
            push_warnings(self.warnings, records.into_iter().filter(|r| r.state != "01004").collect());
            if !truncated {
                break;
            }
            first = false;
            // Grow towards the announced remainder (bounded), or double when unknown.
            let want = if ind == SQL_NO_TOTAL || ind < 0 { buf.len() * 2 } else { (ind as usize / unit).saturating_sub(n) + term };
            let want = want.clamp(buf.len(), (1 << 22) / unit);
            buf.resize(want, U::default());
        }
        Ok(Some(out))
    }

    fn get_text(&mut self, col: u16) -> Result<Option<String>> {
        match self.enc {
            TextEncoding::Utf8 => match self.get_var::<u8>(col, CDataType::SQL_C_CHAR, true)? {
                None => Ok(None),
                Some(b) => String::from_utf8(b).map(Some).map_err(|_| Error::InvalidText { column: col, encoding: "UTF-8" }),
            },
            TextEncoding::Utf16 => match self.get_var::<u16>(col, CDataType::SQL_C_WCHAR, true)? {
                None => Ok(None),
                Some(w) => String::from_utf16(&w).map(Some).map_err(|_| Error::InvalidText { column: col, encoding: "UTF-16" }),
            },
        }
    }
}

/// A Rust type a column can be read into with [`Row::get`].
///
/// Implemented for `i32` (`SQL_C_SLONG`), `i64` (`SQL_C_SBIGINT`), `f64` (`SQL_C_DOUBLE`),
/// `bool` (`SQL_C_BIT`), `String` (the connection's [`TextEncoding`]), `Vec<u8>`
/// (`SQL_C_BINARY`) and `Option<T>` of those (None for NULL).
pub trait FromColumn: Sized {
    /// Reads column `col` of `row`; `Ok(None)` for NULL.
    fn read_column(row: &mut Row<'_>, col: u16) -> Result<Option<Self>>;
}

impl FromColumn for i32 {
    fn read_column(row: &mut Row<'_>, col: u16) -> Result<Option<Self>> {
        row.get_fixed(col, CDataType::SQL_C_SLONG)
    }
}

impl FromColumn for i64 {
    fn read_column(row: &mut Row<'_>, col: u16) -> Result<Option<Self>> {
        row.get_fixed(col, CDataType::SQL_C_SBIGINT)
    }
}

impl FromColumn for f64 {
    fn read_column(row: &mut Row<'_>, col: u16) -> Result<Option<Self>> {
        row.get_fixed(col, CDataType::SQL_C_DOUBLE)
    }
}

impl FromColumn for bool {
    fn read_column(row: &mut Row<'_>, col: u16) -> Result<Option<Self>> {
        Ok(row.get_fixed::<u8>(col, CDataType::SQL_C_BIT)?.map(|b| b != 0))
    }
}

impl FromColumn for String {
    fn read_column(row: &mut Row<'_>, col: u16) -> Result<Option<Self>> {
        row.get_text(col)
    }
}

impl FromColumn for Vec<u8> {
    fn read_column(row: &mut Row<'_>, col: u16) -> Result<Option<Self>> {
        row.get_var::<u8>(col, CDataType::SQL_C_BINARY, false)
    }
}

impl<T: FromColumn> FromColumn for Option<T> {
    fn read_column(row: &mut Row<'_>, col: u16) -> Result<Option<Self>> {
        Ok(Some(T::read_column(row, col)?))
    }
}
