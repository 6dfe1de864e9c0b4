//! The state of the DM's SQL_C_WCHAR conversion for an ANSI-only driver (decision #77):
//! the application's wide bindings and the DM's narrow buffers bound to the driver in
//! their place. Plain data; the conversion itself is `raw::wconv`.

use odbc_dm_abi::{CDataType, ParamIoType, SqlDataType, SqlLen, SqlULen};

/// Whether the driver lacks the Unicode API (exports neither SQLDriverConnectW,
/// SQLConnectW, SQLExecDirectW nor SQLPrepareW): the DM then converts SQL_C_WCHAR
/// parameters, bound columns and SQLGetData buffers itself (decision #77).
pub fn driver_is_ansi_only(d: &crate::driver::Driver) -> bool {
    let e = &d.exported;
    e.SQLDriverConnectW.is_none() && e.SQLConnectW.is_none() && e.SQLExecDirectW.is_none() && e.SQLPrepareW.is_none()
}

/// One SQL_C_WCHAR column bound by the application, converted by the DM.
#[derive(Debug)]
pub struct ColConv {
    pub col: u16,
    /// The application's TargetValuePtr (address), BufferLength (bytes) and
    /// StrLen_or_IndPtr (address; 0 = none).
    pub app_target: usize,
    pub app_len: SqlLen,
    pub app_ind: usize,
    /// The DM's narrow buffer bound to the driver: `rows` rows of `cap` bytes, and its
    /// indicator array.
    pub cap: usize,
    pub rows: usize,
    /// Row-wise binding: the row size the driver steps by (0: column-wise). The indicator
    /// area then holds row r's indicator at byte offset r × `stride`.
    pub stride: usize,
    pub buf: Vec<u8>,
    pub ind: Vec<SqlLen>,
}

/// One SQL_C_WCHAR parameter bound by the application, converted by the DM.
#[derive(Debug)]
pub struct ParamConv {
    pub num: u16,
    pub io: ParamIoType,
    pub param_type: SqlDataType,
    pub column_size: SqlULen,
    pub digits: i16,
    pub app_value: usize,
    pub app_len: SqlLen,
    pub app_ind: usize,
    /// Bytes per row of `buf` as last bound to the driver.
    pub cap: usize,
    /// Parameter sets in `buf` and `ind` as last bound (SQL_ATTR_PARAMSET_SIZE then).
    pub rows: usize,
    /// Row-wise binding: SQL_ATTR_PARAM_BIND_TYPE (the application's row size), the step
    /// between two parameter sets in the application's arrays and in the DM's; 0:
    /// column-wise (decision #142).
    pub stride: usize,
    /// SQL_ATTR_PARAM_BIND_OFFSET_PTR's value at the execution: added to the application's
    /// addresses; the DM's buffers were bound that much lower, so that the driver's
    /// addition lands on them (decision #142).
    pub offset: isize,
    /// For the current execution the application's own binding went to the driver
    /// (data at execution with an announced length the driver needs, decision #80).
    pub passthrough: bool,
    pub buf: Vec<u8>,
    pub ind: Vec<SqlLen>,
}

/// A SQL_C_WCHAR value being returned by SQLGetData in parts.
#[derive(Debug)]
pub struct GetConv {
    pub col: u16,
    /// The whole value in UTF-16 (`None`: NULL).
    pub data: Option<Vec<u16>>,
    /// Code units already returned.
    pub pos: usize,
    /// Everything was returned: the next call is SQL_NO_DATA.
    pub finished: bool,
}

/// A converted parameter whose data the application is sending with SQLPutData.
#[derive(Debug)]
pub struct PutConv {
    pub num: u16,
    /// A high surrogate that ended the previous part (sent with the next one).
    pub high: Option<u16>,
    /// The odd last byte of the previous part (half a code unit, sent with the next part).
    pub odd: Option<u8>,
}

/// The conversion state of one statement.
#[derive(Debug, Default)]
pub struct WcharState {
    pub cols: Vec<ColConv>,
    pub params: Vec<ParamConv>,
    pub get: Option<GetConv>,
    pub put: Option<PutConv>,
    /// For a driver that ignores the parameter bind offset (decision #143): the
    /// application's SQL_ATTR_PARAM_BIND_OFFSET_PTR (kept by the DM, the driver's stays
    /// null), every parameter binding as the application made it, and the offset the
    /// driver's bindings carry now.
    pub offset_ptr: usize,
    pub bindings: Vec<ParamBinding>,
    /// The application's SQL_ATTR_ROW_BIND_OFFSET_PTR, kept by the DM (the driver's stays
    /// null), every column binding the DM does not convert as the application made it,
    /// and the offset the DM's conversion of the last fetch applied (decision #149).
    pub row_offset_ptr: usize,
    pub col_bindings: Vec<ColBinding>,
    pub row_offset: isize,
    /// A driver whose SQLBindCol writes through the indicator (libsqlite3odbc) holds a
    /// non-null SQL_ATTR_ROW_BIND_OFFSET_PTR itself: SQL_C_WCHAR columns are then bound to
    /// it as the application made them, unconverted (decision #149).
    pub driver_row_offset: bool,
}

/// One SQLBindCol the DM does not convert, as the application made it (decision #149).
#[derive(Debug, Clone, Copy)]
pub struct ColBinding {
    pub col: u16,
    pub c_type: CDataType,
    pub target: usize,
    pub buf_len: SqlLen,
    pub ind: usize,
    /// The row bind offset the driver's binding of this column carries (0 when just
    /// bound).
    pub applied: isize,
}

/// One SQLBindParameter as the application made it (decision #143).
#[derive(Debug, Clone, Copy)]
pub struct ParamBinding {
    pub num: u16,
    pub io: ParamIoType,
    pub c_type: CDataType,
    pub sql_type: SqlDataType,
    pub column_size: SqlULen,
    pub digits: i16,
    pub value: usize,
    pub buf_len: SqlLen,
    pub ind: usize,
    /// The offset the driver's binding of this parameter carries (0 when just bound).
    pub applied: isize,
}

impl WcharState {
    /// Whether anything routes the statement off the fast lanes.
    pub fn lane_blocking(&self) -> bool {
        !self.cols.is_empty() || self.get.is_some() || (self.row_offset_ptr != 0 && !self.col_bindings.is_empty())
    }
}

/// The C type the DM binds to the driver in place of SQL_C_WCHAR.
pub const NARROW: CDataType = CDataType::SQL_C_CHAR;
