//! Rowset views over bound buffers, written once for [`BoundCursor`](super::BoundCursor)
//! and [`AsyncBlockCursor`](super::AsyncBlockCursor): [`RowSet`] owns the column-wise row
//! arrays, the rows-fetched counter and the row status array whose addresses are given to
//! the driver (`SQL_ATTR_ROW_ARRAY_SIZE`, `SQL_ATTR_ROWS_FETCHED_PTR`,
//! `SQL_ATTR_ROW_STATUS_PTR`, `SQLBindCol`), binds and unbinds them, and reads the last
//! fetched rowset. The cursors only decide when to fetch (blocking or as a future) and
//! never free a `RowSet` while the driver may write into it.

use std::mem::size_of;
use std::ptr;

use odbc_dm_abi::*;

use super::error::{push_warnings, Diag, DiagRecord, Error, Result};
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
/// driver with SQLBindCol.
struct ColumnBuffer {
    data: Data,
    /// Elements (bytes or u16 units) per row, terminator included.
    stride: usize,
    ind: Vec<SqlLen>,
}

impl ColumnBuffer {
    /// Buffers for `rows` rows of a column described by `d`, text in `enc`.
    fn new(d: BufferDesc, enc: TextEncoding, rows: usize) -> ColumnBuffer {
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
    fn bind_args(&mut self) -> (CDataType, SqlPointer, SqlLen) {
        let (ctype, ptr, elem_bytes) = match &mut self.data {
            Data::I64(v) => (CDataType::SQL_C_SBIGINT, v.as_mut_ptr() as SqlPointer, size_of::<i64>()),
            Data::F64(v) => (CDataType::SQL_C_DOUBLE, v.as_mut_ptr() as SqlPointer, size_of::<f64>()),
            Data::Narrow(v) => (CDataType::SQL_C_CHAR, v.as_mut_ptr() as SqlPointer, self.stride),
            Data::Wide(v) => (CDataType::SQL_C_WCHAR, v.as_mut_ptr() as SqlPointer, self.stride * 2),
        };
        (ctype, ptr, elem_bytes as SqlLen)
    }

    /// Whether `row`'s value is NULL.
    fn is_null(&self, row: usize) -> bool {
        self.ind[row] == SQL_NULL_DATA
    }

    /// `row`'s value of an `I64` column; `None` for NULL. Panics on another binding.
    fn i64(&self, col: u16, row: usize) -> Option<i64> {
        match &self.data {
            Data::I64(v) => (self.ind[row] != SQL_NULL_DATA).then(|| v[row]),
            _ => panic!("column {col} is not bound as BufferDesc::I64"),
        }
    }

    /// `row`'s value of an `F64` column; `None` for NULL. Panics on another binding.
    fn f64(&self, col: u16, row: usize) -> Option<f64> {
        match &self.data {
            Data::F64(v) => (self.ind[row] != SQL_NULL_DATA).then(|| v[row]),
            _ => panic!("column {col} is not bound as BufferDesc::F64"),
        }
    }

    /// `row`'s value of a `Text` column (possibly truncated; invalid text replaced with
    /// U+FFFD); `None` for NULL. Panics on another binding.
    fn text(&self, col: u16, row: usize) -> Option<String> {
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
    fn is_truncated(&self, row: usize) -> bool {
        let ind = self.ind[row];
        let unit = if matches!(self.data, Data::Wide(_)) { 2 } else { 1 };
        match &self.data {
            Data::Narrow(_) | Data::Wide(_) => ind == SQL_NO_TOTAL || (ind >= 0 && ind as usize > (self.stride - 1) * unit),
            _ => false,
        }
    }
}

/// The buffers bound to a statement's columns and the last rowset fetched into them.
/// Columns are numbered from 1 in the order of the [`BufferDesc`]s, rows from 0.
///
/// Heap memory (a cursor holds it in a `Box`) whose addresses the driver keeps from
/// binding to unbinding. The accessors panic, like slice indexing, when `col` or `row` is
/// out of range or `col` was bound with another [`BufferDesc`].
pub struct RowSet {
    columns: Vec<ColumnBuffer>,
    rows_fetched: SqlULen,
    has_rows_fetched: bool,
    status: Vec<SqlUSmallInt>,
    has_status: bool,
    rowset_size: usize,
    rows: usize,
}

impl RowSet {
    /// Binds new buffers for `columns` to statement `h` (column-wise, up to `rowset_size`
    /// rows per fetch, fewer when the driver refuses arrays). Nothing stays bound on error.
    pub(crate) fn bind(
        h: SqlHStmt,
        rowset_size: usize,
        columns: &[BufferDesc],
        enc: TextEncoding,
        warnings: &mut Vec<DiagRecord>,
    ) -> Result<Box<RowSet>> {
        if rowset_size == 0 {
            return Err(Error::Usage("rowset size must be at least 1".into()));
        }
        if columns.is_empty() || columns.len() > u16::MAX as usize {
            return Err(Error::Usage("bind between 1 and 65535 columns".into()));
        }
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
        let mut rs = Box::new(RowSet {
            columns: Vec::new(),
            rows_fetched: 0,
            has_rows_fetched: false,
            status: vec![SQL_ROW_SUCCESS; size],
            has_status: false,
            rowset_size: size,
            rows: 0,
        });
        // The box's fields do not move: their addresses stay valid until `unbind`.
        rs.has_rows_fetched = set_attr_ptr(h, StmtAttr::SQL_ATTR_ROWS_FETCHED_PTR, &mut rs.rows_fetched as *mut SqlULen as usize).is_ok();
        if !rs.has_rows_fetched && size > 1 {
            // Without the count the rows of a short last rowset are unknown: one at a time.
            let _ = set_attr(h, StmtAttr::SQL_ATTR_ROW_ARRAY_SIZE, 1, &mut w);
            size = 1;
            rs.rowset_size = 1;
        }
        rs.has_status = set_attr_ptr(h, StmtAttr::SQL_ATTR_ROW_STATUS_PTR, rs.status.as_mut_ptr() as usize).is_ok();
        rs.columns = columns.iter().map(|d| ColumnBuffer::new(*d, enc, size)).collect();
        for i in 0..rs.columns.len() {
            let c = &mut rs.columns[i];
            let (ctype, p, elem_bytes) = c.bind_args();
            // SAFETY: the caller's statement id; `p` addresses `size` elements of
            // `elem_bytes` and `ind` `size` indicators, heap memory of the box that is
            // unbound (`unbind`) before it is freed.
            let rc = unsafe { raw::SQLBindCol(h, (i + 1) as u16, ctype, p, elem_bytes, c.ind.as_mut_ptr()) };
            if let Err(e) = Diag::stmt(h).check("SQLBindCol", rc, &mut w) {
                rs.unbind(h);
                return Err(e);
            }
        }
        push_warnings(warnings, w);
        Ok(rs)
    }

    /// Takes the buffers back from statement `h` (`SQL_UNBIND`, the pointer attributes
    /// and the array size reset). Call only when no driver call on `h` is in flight.
    pub(crate) fn unbind(&self, h: SqlHStmt) {
        // SAFETY: the caller's statement id.
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

    /// Before a fetch: no rows.
    pub(crate) fn start_fetch(&mut self) {
        self.rows = 0;
        self.rows_fetched = 0;
    }

    /// After a fetch that returned `rc` (success or `SQL_NO_DATA`): the rows it fetched.
    pub(crate) fn end_fetch(&mut self, rc: SqlReturn) -> usize {
        self.rows = if rc == SqlReturn::SQL_NO_DATA {
            0
        } else if self.has_rows_fetched {
            self.rows_fetched.min(self.rowset_size)
        } else {
            1
        };
        self.rows
    }

    /// The rowset size in effect (the requested one, or less when the driver refused it).
    pub fn rowset_size(&self) -> usize {
        self.rowset_size
    }

    /// The number of rows in the last rowset (≤ the rowset size).
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether the last rowset has no rows (never true for a rowset a fetch returned).
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    fn column(&self, col: u16, row: usize) -> &ColumnBuffer {
        assert!(row < self.rows, "row {row} out of range (rowset has {} rows)", self.rows);
        assert!(col >= 1 && (col as usize) <= self.columns.len(), "column {col} out of range");
        &self.columns[col as usize - 1]
    }

    /// The row status (`SQL_ROW_SUCCESS`, `SQL_ROW_ERROR`, …; SUCCESS when the driver
    /// does not report statuses).
    pub fn row_status(&self, row: usize) -> u16 {
        assert!(row < self.rows, "row {row} out of range");
        if self.has_status {
            self.status[row]
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
