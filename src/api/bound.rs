//! [`BoundCursor`]: block fetching into column-wise bound row arrays
//! (`SQL_ATTR_ROW_ARRAY_SIZE`, `SQL_ATTR_ROWS_FETCHED_PTR`, `SQLBindCol`).

use std::mem::size_of;
use std::ptr;

use odbc_dm_abi::*;

use super::cursor::Cursor;
use super::error::{Diag, DiagRecord, Error, Result};
use super::params::TextEncoding;
use crate::raw;

/// The buffer bound to one column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BufferDesc {
    /// `SQL_C_SBIGINT`.
    I64,
    /// `SQL_C_DOUBLE`.
    F64,
    /// Text of up to `max_chars` characters in the connection's [`TextEncoding`]; longer
    /// values are truncated (see [`RowSet::is_truncated`]).
    Text {
        /// The longest value, in characters, that fits without truncation.
        max_chars: usize,
    },
}

enum Data {
    I64(Vec<i64>),
    F64(Vec<f64>),
    Narrow(Vec<u8>),
    Wide(Vec<u16>),
}

/// One column's row array and indicators: heap memory whose addresses are given to the
/// driver with SQLBindCol (shared by [`BoundCursor`] and the asynchronous block cursor).
pub(crate) struct ColumnBuffer {
    data: Data,
    /// Elements (bytes or u16 units) per row, terminator included.
    stride: usize,
    pub(crate) ind: Vec<SqlLen>,
}

impl ColumnBuffer {
    /// Buffers for `rows` rows of a column described by `d`, text in `enc`.
    pub(crate) fn new(d: BufferDesc, enc: TextEncoding, rows: usize) -> ColumnBuffer {
        let (data, stride) = match d {
            BufferDesc::I64 => (Data::I64(vec![0; rows]), 1),
            BufferDesc::F64 => (Data::F64(vec![0.0; rows]), 1),
            BufferDesc::Text { max_chars } => match enc {
                TextEncoding::Utf8 => {
                    let stride = max_chars.max(1) * 4 + 1;
                    (Data::Narrow(vec![0; stride * rows]), stride)
                }
                TextEncoding::Utf16 => {
                    let stride = max_chars.max(1) * 2 + 1;
                    (Data::Wide(vec![0; stride * rows]), stride)
                }
            },
        };
        ColumnBuffer { data, stride, ind: vec![0; rows] }
    }

    /// SQLBindCol's TargetType, TargetValuePtr and BufferLength for this column.
    pub(crate) fn bind_args(&mut self) -> (CDataType, SqlPointer, SqlLen) {
        let (ctype, ptr, elem_bytes) = match &mut self.data {
            Data::I64(v) => (CDataType::SQL_C_SBIGINT, v.as_mut_ptr() as SqlPointer, size_of::<i64>()),
            Data::F64(v) => (CDataType::SQL_C_DOUBLE, v.as_mut_ptr() as SqlPointer, size_of::<f64>()),
            Data::Narrow(v) => (CDataType::SQL_C_CHAR, v.as_mut_ptr() as SqlPointer, self.stride),
            Data::Wide(v) => (CDataType::SQL_C_WCHAR, v.as_mut_ptr() as SqlPointer, self.stride * 2),
        };
        (ctype, ptr, elem_bytes as SqlLen)
    }

    /// Whether `row`'s value is NULL.
    pub(crate) fn is_null(&self, row: usize) -> bool {
        self.ind[row] == SQL_NULL_DATA
    }

    /// `row`'s value of an `I64` column; `None` for NULL. Panics on another binding.
    pub(crate) fn i64(&self, col: u16, row: usize) -> Option<i64> {
        match &self.data {
            Data::I64(v) => (self.ind[row] != SQL_NULL_DATA).then(|| v[row]),
            _ => panic!("column {col} is not bound as BufferDesc::I64"),
        }
    }

    /// `row`'s value of an `F64` column; `None` for NULL. Panics on another binding.
    pub(crate) fn f64(&self, col: u16, row: usize) -> Option<f64> {
        match &self.data {
            Data::F64(v) => (self.ind[row] != SQL_NULL_DATA).then(|| v[row]),
            _ => panic!("column {col} is not bound as BufferDesc::F64"),
        }
    }

    /// `row`'s value of a `Text` column (possibly truncated; invalid text replaced with
    /// U+FFFD); `None` for NULL. Panics on another binding.
    pub(crate) fn text(&self, col: u16, row: usize) -> Option<String> {
        let ind = self.ind[row];
        if ind == SQL_NULL_DATA {
            return None;
        }
        let usable = self.stride - 1;
        let c = self;
        match &c.data {
            Data::Narrow(v) => {
                let n = if ind < 0 { usable } else { (ind as usize).min(usable) };
                let s = &v[row * c.stride..row * c.stride + n];
                let s = if ind < 0 { &s[..s.iter().position(|&b| b == 0).unwrap_or(n)] } else { s };
                Some(String::from_utf8_lossy(s).into_owned())
            }
            Data::Wide(v) => {
                let n = if ind < 0 { usable } else { (ind as usize / 2).min(usable) };
                let s = &v[row * c.stride..row * c.stride + n];
                let s = if ind < 0 { &s[..s.iter().position(|&u| u == 0).unwrap_or(n)] } else { s };
                Some(String::from_utf16_lossy(s))
            }
            _ => panic!("column {col} is not bound as BufferDesc::Text"),
        }
    }

    /// Whether `row`'s `Text` value did not fit its buffer.
    pub(crate) fn is_truncated(&self, row: usize) -> bool {
        let ind = self.ind[row];
        let unit = if matches!(self.data, Data::Wide(_)) { 2 } else { 1 };
        match &self.data {
            Data::Narrow(_) | Data::Wide(_) => ind == SQL_NO_TOTAL || (ind >= 0 && ind as usize > (self.stride - 1) * unit),
            _ => false,
        }
    }
}

/// A cursor with row-array buffers bound to its columns, fetching a rowset per call.
///
/// Owns the buffers, the rows-fetched counter and the row status array whose addresses it
/// gave to the driver; on drop it unbinds them (`SQLFreeStmt(SQL_UNBIND)`, attributes reset)
/// before freeing them, then closes the cursor. `Send`, not `Sync`.
pub struct BoundCursor<'a> {
    cursor: Option<Cursor<'a>>,
    columns: Vec<ColumnBuffer>,
    rowset_size: usize,
    rows_fetched: Box<SqlULen>,
    has_rows_fetched: bool,
    status: Vec<SqlUSmallInt>,
    has_status: bool,
}

// SAFETY: the buffers are heap memory owned by this value (their addresses do not change
// when it moves); the handle is a DM id usable from any thread (§3.1).
unsafe impl Send for BoundCursor<'_> {}

impl<'a> BoundCursor<'a> {
    pub(crate) fn new(cursor: Cursor<'a>, rowset_size: usize, columns: &[BufferDesc]) -> Result<Self> {
        if rowset_size == 0 {
            return Err(Error::Usage("rowset size must be at least 1".into()));
        }
        if columns.is_empty() || columns.len() > u16::MAX as usize {
            return Err(Error::Usage("bind between 1 and 65535 columns".into()));
        }
        let h = cursor.h;
        let mut bc = BoundCursor {
            cursor: Some(cursor),
            columns: Vec::new(),
            rowset_size: 1,
            rows_fetched: Box::new(0),
            has_rows_fetched: false,
            status: Vec::new(),
            has_status: false,
        };
        let mut w = Vec::new();
        // Column-wise binding (the default, set anyway in case the statement was changed).
        let _ = set_attr(h, StmtAttr::SQL_ATTR_ROW_BIND_TYPE, SQL_BIND_BY_COLUMN, &mut w);
        let mut size = rowset_size;
        if size > 1 {
            match set_attr(h, StmtAttr::SQL_ATTR_ROW_ARRAY_SIZE, size, &mut w) {
                Ok(SqlReturn::SQL_SUCCESS_WITH_INFO) => size = get_attr(h, StmtAttr::SQL_ATTR_ROW_ARRAY_SIZE).unwrap_or(1).max(1),
                Ok(_) => {}
                Err(e) => {
                    log::info!("driver refused SQL_ATTR_ROW_ARRAY_SIZE={size}, fetching one row at a time: {e}");
                    size = 1;
                }
            }
        }
        // SAFETY (of the pointer handed over): `rows_fetched` is boxed, so its address is
        // stable for the life of `bc`; it is unset in `unbind` before the box is freed.
        let fetched_ptr = &mut *bc.rows_fetched as *mut SqlULen as usize;
        bc.has_rows_fetched = set_attr_ptr(h, StmtAttr::SQL_ATTR_ROWS_FETCHED_PTR, fetched_ptr).is_ok();
        if !bc.has_rows_fetched && size > 1 {
            // Without the count the rows of a short last rowset are unknown: one at a time.
            let _ = set_attr(h, StmtAttr::SQL_ATTR_ROW_ARRAY_SIZE, 1, &mut w);
            size = 1;
        }
        bc.rowset_size = size;
        bc.status = vec![SQL_ROW_SUCCESS; size];
        bc.has_status = set_attr_ptr(h, StmtAttr::SQL_ATTR_ROW_STATUS_PTR, bc.status.as_mut_ptr() as usize).is_ok();
        let enc = bc.cursor.as_ref().map(|c| c.enc).unwrap_or_default();
        bc.columns = columns.iter().map(|d| ColumnBuffer::new(*d, enc, size)).collect();
        for (i, c) in bc.columns.iter_mut().enumerate() {
            let (ctype, ptr, elem_bytes) = c.bind_args();
            // SAFETY: our statement id; `ptr` addresses `size` elements of `elem_bytes`
            // and `ind` `size` indicators, heap memory owned by `bc` that is unbound in
            // `unbind` before it is freed.
            let rc = unsafe { raw::SQLBindCol(h, (i + 1) as u16, ctype, ptr, elem_bytes, c.ind.as_mut_ptr()) };
            // On error `bc` drops here and unbinds whatever was bound.
            Diag::stmt(h).check("SQLBindCol", rc, &mut w)?;
        }
        if let Some(c) = bc.cursor.as_mut() {
            super::error::push_warnings(&mut c.warnings, w);
        }
        Ok(bc)
    }

    /// The rowset size in effect (the requested one, or less when the driver refused it).
    pub fn rowset_size(&self) -> usize {
        self.rowset_size
    }

    /// Fetches the next rowset (`SQLFetch`); `None` at the end of the result set.
    pub fn fetch(&mut self) -> Result<Option<RowSet<'_>>> {
        let Some(cursor) = self.cursor.as_mut() else {
            return Ok(None);
        };
        *self.rows_fetched = 0;
        // SAFETY: our statement id; the bound buffers are alive (owned by `self`).
        let rc = unsafe { raw::SQLFetch(cursor.h) };
        if Diag::stmt(cursor.h).check("SQLFetch", rc, &mut cursor.warnings)? == SqlReturn::SQL_NO_DATA {
            return Ok(None);
        }
        let rows = if self.has_rows_fetched { (*self.rows_fetched).min(self.rowset_size) } else { 1 };
        if rows == 0 {
            return Ok(None);
        }
        Ok(Some(RowSet { cursor: self, rows }))
    }

    /// Unbinds the buffers and returns the plain cursor (positioned after the last rowset).
    pub fn into_cursor(mut self) -> Cursor<'a> {
        self.unbind();
        self.cursor.take().expect("a BoundCursor holds its cursor until dropped")
    }

    /// The warnings gathered on the cursor (e.g. 01004 for truncated text).
    pub fn warnings(&self) -> &[DiagRecord] {
        self.cursor.as_ref().map(|c| c.warnings()).unwrap_or(&[])
    }

    fn unbind(&mut self) {
        let Some(c) = self.cursor.as_ref() else {
            return;
        };
        let h = c.h;
        // SAFETY: our statement id.
        let rc = unsafe { raw::SQLFreeStmt(h, FreeStmtOption::SQL_UNBIND) };
        if !rc.is_success() {
            log::warn!("unbinding columns failed: {}", Diag::stmt(h).error("SQLFreeStmt", rc));
        }
        let _ = set_attr_ptr(h, StmtAttr::SQL_ATTR_ROWS_FETCHED_PTR, 0);
        let _ = set_attr_ptr(h, StmtAttr::SQL_ATTR_ROW_STATUS_PTR, 0);
        if self.rowset_size > 1 {
            let _ = set_attr(h, StmtAttr::SQL_ATTR_ROW_ARRAY_SIZE, 1, &mut Vec::new());
        }
    }
}

impl Drop for BoundCursor<'_> {
    fn drop(&mut self) {
        // Unbind before the buffers (fields) are freed; the cursor field then closes.
        self.unbind();
    }
}

fn set_attr(h: SqlHStmt, attr: StmtAttr, value: usize, w: &mut Vec<DiagRecord>) -> Result<SqlReturn> {
    // SAFETY: our statement id; an integer attribute travels in the pointer itself.
    let rc = unsafe { raw::SQLSetStmtAttr(h, attr, value as SqlPointer, SQL_IS_UINTEGER) };
    Diag::stmt(h).check("SQLSetStmtAttr", rc, w)
}

fn set_attr_ptr(h: SqlHStmt, attr: StmtAttr, value: usize) -> Result<SqlReturn> {
    // SAFETY: our statement id; the pointer (or NULL) stays valid while it is set (see the
    // callers).
    let rc = unsafe { raw::SQLSetStmtAttr(h, attr, value as SqlPointer, SQL_IS_POINTER) };
    Diag::stmt(h).check("SQLSetStmtAttr", rc, &mut Vec::new())
}

fn get_attr(h: SqlHStmt, attr: StmtAttr) -> Option<usize> {
    let mut v: SqlULen = 0;
    // SAFETY: our statement id; `v` is an SQLULEN slot.
    let rc = unsafe { raw::SQLGetStmtAttr(h, attr, &mut v as *mut SqlULen as SqlPointer, SQL_IS_UINTEGER, ptr::null_mut()) };
    rc.is_success().then_some(v)
}

/// One fetched rowset of a [`BoundCursor`]. Columns are numbered from 1 in the order of the
/// [`BufferDesc`]s, rows from 0.
///
/// The accessors panic, like slice indexing, when `col` or `row` is out of range or `col`
/// was bound with another [`BufferDesc`].
pub struct RowSet<'b> {
    cursor: &'b BoundCursor<'b>,
    rows: usize,
}

impl RowSet<'_> {
    /// The number of rows in this rowset (≤ the rowset size).
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether the rowset has no rows (never true for a returned rowset).
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    fn column(&self, col: u16, row: usize) -> &ColumnBuffer {
        assert!(row < self.rows, "row {row} out of range (rowset has {} rows)", self.rows);
        assert!(col >= 1 && (col as usize) <= self.cursor.columns.len(), "column {col} out of range");
        &self.cursor.columns[col as usize - 1]
    }

    /// The row status (`SQL_ROW_SUCCESS`, `SQL_ROW_ERROR`, …; SUCCESS when the driver
    /// does not report statuses).
    pub fn row_status(&self, row: usize) -> u16 {
        assert!(row < self.rows, "row {row} out of range");
        if self.cursor.has_status {
            self.cursor.status[row]
        } else {
            SQL_ROW_SUCCESS
        }
    }

    /// Whether the value is NULL.
    pub fn is_null(&self, col: u16, row: usize) -> bool {
        self.column(col, row).is_null(row)
    }

    /// An `I64` column's value; `None` for NULL.
    pub fn i64(&self, col: u16, row: usize) -> Option<i64> {
        self.column(col, row).i64(col, row)
    }

    /// An `F64` column's value; `None` for NULL.
    pub fn f64(&self, col: u16, row: usize) -> Option<f64> {
        self.column(col, row).f64(col, row)
    }

    /// A `Text` column's value (possibly truncated); `None` for NULL. Invalid text is
    /// replaced with U+FFFD.
    pub fn text(&self, col: u16, row: usize) -> Option<String> {
        self.column(col, row).text(col, row)
    }

    /// Whether a `Text` value did not fit its buffer.
    pub fn is_truncated(&self, col: u16, row: usize) -> bool {
        self.column(col, row).is_truncated(row)
    }
}
