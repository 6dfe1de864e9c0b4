//! One `unsafe extern "C" fn` pointer type per ODBC entry point, ANSI (`A`, the plain C
//! name as drivers export it) and Unicode (`W`). Types are named after the C symbol.
#![allow(non_camel_case_types)]

use crate::consts::*;
use crate::types::*;

/// Counts the identifiers it is given (the parameter names of one entry point).
macro_rules! count_args {
    () => { 0usize };
    ($head:ident $( $tail:ident )*) => { 1usize + count_args!($( $tail )*) };
}

macro_rules! entry_points {
    ($( $name:ident ( $( $arg:ident : $t:ty ),* $(,)? ); )*) => {
        $( pub type $name = unsafe extern "C" fn( $( $arg: $t ),* ) -> SqlReturn; )*
        /// The C symbol name of every entry point type declared here.
        pub const ENTRY_POINT_NAMES: &[&str] = &[ $( stringify!($name), )* ];
        /// The number of parameters of every entry point type declared here, in the order of
        /// `ENTRY_POINT_NAMES`; checked against unixODBC's prototypes by `tests/header_values.rs`.
        pub const ENTRY_POINT_ARITIES: &[(&str, usize)] =
            &[ $( (stringify!($name), count_args!($( $arg )*)), )* ];
        /// The size in bytes of every parameter of every entry point type declared here
        /// (`size_of` of the Rust type), in the order of `ENTRY_POINT_NAMES`; checked against
        /// `sizeof` of the C parameter types by `tests/header_values.rs`.
        pub const ENTRY_POINT_PARAM_SIZES: &[(&str, &[usize])] =
            &[ $( (stringify!($name), &[ $( ::std::mem::size_of::<$t>(), )* ]), )* ];
    };
}

/// Calls the macro `$cb` with the list of every entry point, as
/// `Name(arg: Type, ...);` items (the list `entry_points!` turns into the fn-pointer types
/// below). The DM uses it to generate code per entry point with the same signature, e.g. the
/// serializing trampolines of `Threading` (odbc-dm `src/driver/serialize.rs`). Types are
/// written unqualified: the caller's scope must import this crate's `consts`, `types` and
/// [`SqlSetPosIRow`].
#[macro_export]
macro_rules! with_entry_points {
    ($cb:ident) => {
        $cb! {
            // ---- handles ----
            SQLAllocHandle(handle_type: HandleType, input: SqlHandle, output: *mut SqlHandle);
            SQLFreeHandle(handle_type: HandleType, handle: SqlHandle);
            SQLFreeStmt(stmt: SqlHStmt, option: FreeStmtOption);
            SQLAllocEnv(env: *mut SqlHEnv);
            SQLAllocConnect(env: SqlHEnv, dbc: *mut SqlHDbc);
            SQLAllocStmt(dbc: SqlHDbc, stmt: *mut SqlHStmt);
            SQLFreeEnv(env: SqlHEnv);
            SQLFreeConnect(dbc: SqlHDbc);
            // ---- attributes ----
            SQLSetEnvAttr(env: SqlHEnv, attr: EnvAttr, value: SqlPointer, len: SqlInteger);
            SQLGetEnvAttr(env: SqlHEnv, attr: EnvAttr, value: SqlPointer, buf_len: SqlInteger, out_len: *mut SqlInteger);
            SQLSetConnectAttr(dbc: SqlHDbc, attr: ConnAttr, value: SqlPointer, len: SqlInteger);
            SQLSetConnectAttrW(dbc: SqlHDbc, attr: ConnAttr, value: SqlPointer, len: SqlInteger);
            SQLGetConnectAttr(dbc: SqlHDbc, attr: ConnAttr, value: SqlPointer, buf_len: SqlInteger, out_len: *mut SqlInteger);
            SQLGetConnectAttrW(dbc: SqlHDbc, attr: ConnAttr, value: SqlPointer, buf_len: SqlInteger, out_len: *mut SqlInteger);
            SQLSetStmtAttr(stmt: SqlHStmt, attr: StmtAttr, value: SqlPointer, len: SqlInteger);
            SQLSetStmtAttrW(stmt: SqlHStmt, attr: StmtAttr, value: SqlPointer, len: SqlInteger);
            SQLGetStmtAttr(stmt: SqlHStmt, attr: StmtAttr, value: SqlPointer, buf_len: SqlInteger, out_len: *mut SqlInteger);
            SQLGetStmtAttrW(stmt: SqlHStmt, attr: StmtAttr, value: SqlPointer, buf_len: SqlInteger, out_len: *mut SqlInteger);
            SQLSetConnectOption(dbc: SqlHDbc, option: SqlUSmallInt, value: SqlULen);
            SQLGetConnectOption(dbc: SqlHDbc, option: SqlUSmallInt, value: SqlPointer);
            SQLSetStmtOption(stmt: SqlHStmt, option: SqlUSmallInt, value: SqlULen);
            SQLGetStmtOption(stmt: SqlHStmt, option: SqlUSmallInt, value: SqlPointer);
            // ---- connect ----
            SQLConnect(dbc: SqlHDbc, dsn: *const SqlChar, dsn_len: SqlSmallInt, uid: *const SqlChar, uid_len: SqlSmallInt, pwd: *const SqlChar, pwd_len: SqlSmallInt);
            SQLConnectW(dbc: SqlHDbc, dsn: *const SqlWChar, dsn_len: SqlSmallInt, uid: *const SqlWChar, uid_len: SqlSmallInt, pwd: *const SqlWChar, pwd_len: SqlSmallInt);
            SQLDriverConnect(dbc: SqlHDbc, hwnd: SqlHWnd, in_str: *const SqlChar, in_len: SqlSmallInt, out_str: *mut SqlChar, out_max: SqlSmallInt, out_len: *mut SqlSmallInt, completion: DriverCompletion);
            SQLDriverConnectW(dbc: SqlHDbc, hwnd: SqlHWnd, in_str: *const SqlWChar, in_len: SqlSmallInt, out_str: *mut SqlWChar, out_max: SqlSmallInt, out_len: *mut SqlSmallInt, completion: DriverCompletion);
            SQLBrowseConnect(dbc: SqlHDbc, in_str: *const SqlChar, in_len: SqlSmallInt, out_str: *mut SqlChar, out_max: SqlSmallInt, out_len: *mut SqlSmallInt);
            SQLBrowseConnectW(dbc: SqlHDbc, in_str: *const SqlWChar, in_len: SqlSmallInt, out_str: *mut SqlWChar, out_max: SqlSmallInt, out_len: *mut SqlSmallInt);
            SQLDisconnect(dbc: SqlHDbc);
            // ---- info ----
            SQLGetInfo(dbc: SqlHDbc, info: InfoType, value: SqlPointer, buf_len: SqlSmallInt, out_len: *mut SqlSmallInt);
            SQLGetInfoW(dbc: SqlHDbc, info: InfoType, value: SqlPointer, buf_len: SqlSmallInt, out_len: *mut SqlSmallInt);
            SQLGetFunctions(dbc: SqlHDbc, function: FunctionId, supported: *mut SqlUSmallInt);
            SQLGetTypeInfo(stmt: SqlHStmt, data_type: SqlDataType);
            SQLGetTypeInfoW(stmt: SqlHStmt, data_type: SqlDataType);
            SQLNativeSql(dbc: SqlHDbc, in_str: *const SqlChar, in_len: SqlInteger, out_str: *mut SqlChar, out_max: SqlInteger, out_len: *mut SqlInteger);
            SQLNativeSqlW(dbc: SqlHDbc, in_str: *const SqlWChar, in_len: SqlInteger, out_str: *mut SqlWChar, out_max: SqlInteger, out_len: *mut SqlInteger);
            SQLDataSources(env: SqlHEnv, direction: FetchOrientation, dsn: *mut SqlChar, dsn_max: SqlSmallInt, dsn_len: *mut SqlSmallInt, desc: *mut SqlChar, desc_max: SqlSmallInt, desc_len: *mut SqlSmallInt);
            SQLDataSourcesW(env: SqlHEnv, direction: FetchOrientation, dsn: *mut SqlWChar, dsn_max: SqlSmallInt, dsn_len: *mut SqlSmallInt, desc: *mut SqlWChar, desc_max: SqlSmallInt, desc_len: *mut SqlSmallInt);
            SQLDrivers(env: SqlHEnv, direction: FetchOrientation, desc: *mut SqlChar, desc_max: SqlSmallInt, desc_len: *mut SqlSmallInt, attrs: *mut SqlChar, attrs_max: SqlSmallInt, attrs_len: *mut SqlSmallInt);
            SQLDriversW(env: SqlHEnv, direction: FetchOrientation, desc: *mut SqlWChar, desc_max: SqlSmallInt, desc_len: *mut SqlSmallInt, attrs: *mut SqlWChar, attrs_max: SqlSmallInt, attrs_len: *mut SqlSmallInt);
            // ---- prepare / execute ----
            SQLPrepare(stmt: SqlHStmt, text: *const SqlChar, len: SqlInteger);
            SQLPrepareW(stmt: SqlHStmt, text: *const SqlWChar, len: SqlInteger);
            SQLExecute(stmt: SqlHStmt);
            SQLExecDirect(stmt: SqlHStmt, text: *const SqlChar, len: SqlInteger);
            SQLExecDirectW(stmt: SqlHStmt, text: *const SqlWChar, len: SqlInteger);
            SQLBindParameter(stmt: SqlHStmt, number: SqlUSmallInt, io_type: ParamIoType, value_type: CDataType, param_type: SqlDataType, column_size: SqlULen, decimal_digits: SqlSmallInt, value: SqlPointer, buf_len: SqlLen, ind: *mut SqlLen);
            SQLBindParam(stmt: SqlHStmt, number: SqlUSmallInt, value_type: CDataType, param_type: SqlDataType, column_size: SqlULen, decimal_digits: SqlSmallInt, value: SqlPointer, ind: *mut SqlLen);
            SQLSetParam(stmt: SqlHStmt, number: SqlUSmallInt, value_type: CDataType, param_type: SqlDataType, column_size: SqlULen, decimal_digits: SqlSmallInt, value: SqlPointer, ind: *mut SqlLen);
            SQLParamOptions(stmt: SqlHStmt, crow: SqlULen, irow: *mut SqlULen);
            SQLDescribeParam(stmt: SqlHStmt, number: SqlUSmallInt, data_type: *mut SqlDataType, size: *mut SqlULen, digits: *mut SqlSmallInt, nullable: *mut Nullability);
            SQLNumParams(stmt: SqlHStmt, count: *mut SqlSmallInt);
            SQLParamData(stmt: SqlHStmt, value: *mut SqlPointer);
            SQLPutData(stmt: SqlHStmt, data: SqlPointer, len: SqlLen);
            SQLCancel(stmt: SqlHStmt);
            SQLCancelHandle(handle_type: HandleType, handle: SqlHandle);
            SQLCompleteAsync(handle_type: HandleType, handle: SqlHandle, ret: *mut RetCode);
            SQLEndTran(handle_type: HandleType, handle: SqlHandle, completion: CompletionType);
            SQLTransact(env: SqlHEnv, dbc: SqlHDbc, completion: SqlUSmallInt);
            // ---- results ----
            SQLNumResultCols(stmt: SqlHStmt, count: *mut SqlSmallInt);
            SQLDescribeCol(stmt: SqlHStmt, col: SqlUSmallInt, name: *mut SqlChar, name_max: SqlSmallInt, name_len: *mut SqlSmallInt, data_type: *mut SqlDataType, size: *mut SqlULen, digits: *mut SqlSmallInt, nullable: *mut Nullability);
            SQLDescribeColW(stmt: SqlHStmt, col: SqlUSmallInt, name: *mut SqlWChar, name_max: SqlSmallInt, name_len: *mut SqlSmallInt, data_type: *mut SqlDataType, size: *mut SqlULen, digits: *mut SqlSmallInt, nullable: *mut Nullability);
            SQLColAttribute(stmt: SqlHStmt, col: SqlUSmallInt, field: DescField, char_attr: SqlPointer, buf_len: SqlSmallInt, out_len: *mut SqlSmallInt, num_attr: *mut SqlLen);
            SQLColAttributeW(stmt: SqlHStmt, col: SqlUSmallInt, field: DescField, char_attr: SqlPointer, buf_len: SqlSmallInt, out_len: *mut SqlSmallInt, num_attr: *mut SqlLen);
            SQLColAttributes(stmt: SqlHStmt, col: SqlUSmallInt, field: SqlUSmallInt, char_attr: SqlPointer, buf_len: SqlSmallInt, out_len: *mut SqlSmallInt, num_attr: *mut SqlLen);
            SQLColAttributesW(stmt: SqlHStmt, col: SqlUSmallInt, field: SqlUSmallInt, char_attr: SqlPointer, buf_len: SqlSmallInt, out_len: *mut SqlSmallInt, num_attr: *mut SqlLen);
            SQLBindCol(stmt: SqlHStmt, col: SqlUSmallInt, target_type: CDataType, target: SqlPointer, buf_len: SqlLen, ind: *mut SqlLen);
            SQLFetch(stmt: SqlHStmt);
            SQLFetchScroll(stmt: SqlHStmt, orientation: FetchOrientation, offset: SqlLen);
            SQLExtendedFetch(stmt: SqlHStmt, orientation: FetchOrientation, offset: SqlLen, row_count: *mut SqlULen, row_status: *mut SqlUSmallInt);
            SQLGetData(stmt: SqlHStmt, col: SqlUSmallInt, target_type: CDataType, target: SqlPointer, buf_len: SqlLen, ind: *mut SqlLen);
            SQLSetPos(stmt: SqlHStmt, row: SqlSetPosIRow, operation: SetPosOperation, lock: LockType);
            SQLBulkOperations(stmt: SqlHStmt, operation: BulkOperation);
            SQLSetScrollOptions(stmt: SqlHStmt, concurrency: SqlUSmallInt, keyset: SqlLen, rowset: SqlUSmallInt);
            SQLMoreResults(stmt: SqlHStmt);
            SQLRowCount(stmt: SqlHStmt, count: *mut SqlLen);
            SQLCloseCursor(stmt: SqlHStmt);
            SQLGetCursorName(stmt: SqlHStmt, name: *mut SqlChar, name_max: SqlSmallInt, name_len: *mut SqlSmallInt);
            SQLGetCursorNameW(stmt: SqlHStmt, name: *mut SqlWChar, name_max: SqlSmallInt, name_len: *mut SqlSmallInt);
            SQLSetCursorName(stmt: SqlHStmt, name: *const SqlChar, name_len: SqlSmallInt);
            SQLSetCursorNameW(stmt: SqlHStmt, name: *const SqlWChar, name_len: SqlSmallInt);
            // ---- catalog ----
            SQLTables(stmt: SqlHStmt, cat: *const SqlChar, cat_len: SqlSmallInt, schema: *const SqlChar, schema_len: SqlSmallInt, table: *const SqlChar, table_len: SqlSmallInt, kind: *const SqlChar, kind_len: SqlSmallInt);
            SQLTablesW(stmt: SqlHStmt, cat: *const SqlWChar, cat_len: SqlSmallInt, schema: *const SqlWChar, schema_len: SqlSmallInt, table: *const SqlWChar, table_len: SqlSmallInt, kind: *const SqlWChar, kind_len: SqlSmallInt);
            SQLColumns(stmt: SqlHStmt, cat: *const SqlChar, cat_len: SqlSmallInt, schema: *const SqlChar, schema_len: SqlSmallInt, table: *const SqlChar, table_len: SqlSmallInt, column: *const SqlChar, column_len: SqlSmallInt);
            SQLColumnsW(stmt: SqlHStmt, cat: *const SqlWChar, cat_len: SqlSmallInt, schema: *const SqlWChar, schema_len: SqlSmallInt, table: *const SqlWChar, table_len: SqlSmallInt, column: *const SqlWChar, column_len: SqlSmallInt);
            SQLColumnPrivileges(stmt: SqlHStmt, cat: *const SqlChar, cat_len: SqlSmallInt, schema: *const SqlChar, schema_len: SqlSmallInt, table: *const SqlChar, table_len: SqlSmallInt, column: *const SqlChar, column_len: SqlSmallInt);
            SQLColumnPrivilegesW(stmt: SqlHStmt, cat: *const SqlWChar, cat_len: SqlSmallInt, schema: *const SqlWChar, schema_len: SqlSmallInt, table: *const SqlWChar, table_len: SqlSmallInt, column: *const SqlWChar, column_len: SqlSmallInt);
            SQLPrimaryKeys(stmt: SqlHStmt, cat: *const SqlChar, cat_len: SqlSmallInt, schema: *const SqlChar, schema_len: SqlSmallInt, table: *const SqlChar, table_len: SqlSmallInt);
            SQLPrimaryKeysW(stmt: SqlHStmt, cat: *const SqlWChar, cat_len: SqlSmallInt, schema: *const SqlWChar, schema_len: SqlSmallInt, table: *const SqlWChar, table_len: SqlSmallInt);
            SQLTablePrivileges(stmt: SqlHStmt, cat: *const SqlChar, cat_len: SqlSmallInt, schema: *const SqlChar, schema_len: SqlSmallInt, table: *const SqlChar, table_len: SqlSmallInt);
            SQLTablePrivilegesW(stmt: SqlHStmt, cat: *const SqlWChar, cat_len: SqlSmallInt, schema: *const SqlWChar, schema_len: SqlSmallInt, table: *const SqlWChar, table_len: SqlSmallInt);
            SQLProcedures(stmt: SqlHStmt, cat: *const SqlChar, cat_len: SqlSmallInt, schema: *const SqlChar, schema_len: SqlSmallInt, proc_name: *const SqlChar, proc_len: SqlSmallInt);
            SQLProceduresW(stmt: SqlHStmt, cat: *const SqlWChar, cat_len: SqlSmallInt, schema: *const SqlWChar, schema_len: SqlSmallInt, proc_name: *const SqlWChar, proc_len: SqlSmallInt);
            SQLProcedureColumns(stmt: SqlHStmt, cat: *const SqlChar, cat_len: SqlSmallInt, schema: *const SqlChar, schema_len: SqlSmallInt, proc_name: *const SqlChar, proc_len: SqlSmallInt, column: *const SqlChar, column_len: SqlSmallInt);
            SQLProcedureColumnsW(stmt: SqlHStmt, cat: *const SqlWChar, cat_len: SqlSmallInt, schema: *const SqlWChar, schema_len: SqlSmallInt, proc_name: *const SqlWChar, proc_len: SqlSmallInt, column: *const SqlWChar, column_len: SqlSmallInt);
            SQLSpecialColumns(stmt: SqlHStmt, identifier: RowIdentifier, cat: *const SqlChar, cat_len: SqlSmallInt, schema: *const SqlChar, schema_len: SqlSmallInt, table: *const SqlChar, table_len: SqlSmallInt, scope: SqlUSmallInt, nullable: Nullability);
            SQLSpecialColumnsW(stmt: SqlHStmt, identifier: RowIdentifier, cat: *const SqlWChar, cat_len: SqlSmallInt, schema: *const SqlWChar, schema_len: SqlSmallInt, table: *const SqlWChar, table_len: SqlSmallInt, scope: SqlUSmallInt, nullable: Nullability);
            SQLStatistics(stmt: SqlHStmt, cat: *const SqlChar, cat_len: SqlSmallInt, schema: *const SqlChar, schema_len: SqlSmallInt, table: *const SqlChar, table_len: SqlSmallInt, unique: SqlUSmallInt, reserved: SqlUSmallInt);
            SQLStatisticsW(stmt: SqlHStmt, cat: *const SqlWChar, cat_len: SqlSmallInt, schema: *const SqlWChar, schema_len: SqlSmallInt, table: *const SqlWChar, table_len: SqlSmallInt, unique: SqlUSmallInt, reserved: SqlUSmallInt);
            SQLForeignKeys(stmt: SqlHStmt, pk_cat: *const SqlChar, pk_cat_len: SqlSmallInt, pk_schema: *const SqlChar, pk_schema_len: SqlSmallInt, pk_table: *const SqlChar, pk_table_len: SqlSmallInt, fk_cat: *const SqlChar, fk_cat_len: SqlSmallInt, fk_schema: *const SqlChar, fk_schema_len: SqlSmallInt, fk_table: *const SqlChar, fk_table_len: SqlSmallInt);
            SQLForeignKeysW(stmt: SqlHStmt, pk_cat: *const SqlWChar, pk_cat_len: SqlSmallInt, pk_schema: *const SqlWChar, pk_schema_len: SqlSmallInt, pk_table: *const SqlWChar, pk_table_len: SqlSmallInt, fk_cat: *const SqlWChar, fk_cat_len: SqlSmallInt, fk_schema: *const SqlWChar, fk_schema_len: SqlSmallInt, fk_table: *const SqlWChar, fk_table_len: SqlSmallInt);
            // ---- descriptors ----
            SQLCopyDesc(source: SqlHDesc, target: SqlHDesc);
            SQLGetDescField(desc: SqlHDesc, rec: SqlSmallInt, field: DescField, value: SqlPointer, buf_len: SqlInteger, out_len: *mut SqlInteger);
            SQLGetDescFieldW(desc: SqlHDesc, rec: SqlSmallInt, field: DescField, value: SqlPointer, buf_len: SqlInteger, out_len: *mut SqlInteger);
            SQLSetDescField(desc: SqlHDesc, rec: SqlSmallInt, field: DescField, value: SqlPointer, buf_len: SqlInteger);
            SQLSetDescFieldW(desc: SqlHDesc, rec: SqlSmallInt, field: DescField, value: SqlPointer, buf_len: SqlInteger);
            SQLGetDescRec(desc: SqlHDesc, rec: SqlSmallInt, name: *mut SqlChar, name_max: SqlSmallInt, name_len: *mut SqlSmallInt, kind: *mut SqlSmallInt, sub_type: *mut SqlSmallInt, length: *mut SqlLen, precision: *mut SqlSmallInt, scale: *mut SqlSmallInt, nullable: *mut Nullability);
            SQLGetDescRecW(desc: SqlHDesc, rec: SqlSmallInt, name: *mut SqlWChar, name_max: SqlSmallInt, name_len: *mut SqlSmallInt, kind: *mut SqlSmallInt, sub_type: *mut SqlSmallInt, length: *mut SqlLen, precision: *mut SqlSmallInt, scale: *mut SqlSmallInt, nullable: *mut Nullability);
            SQLSetDescRec(desc: SqlHDesc, rec: SqlSmallInt, kind: SqlSmallInt, sub_type: SqlSmallInt, length: SqlLen, precision: SqlSmallInt, scale: SqlSmallInt, data: SqlPointer, string_len: *mut SqlLen, ind: *mut SqlLen);
            // ---- diagnostics ----
            SQLGetDiagRec(handle_type: HandleType, handle: SqlHandle, rec: SqlSmallInt, state: *mut SqlChar, native: *mut SqlInteger, msg: *mut SqlChar, msg_max: SqlSmallInt, msg_len: *mut SqlSmallInt);
            SQLGetDiagRecW(handle_type: HandleType, handle: SqlHandle, rec: SqlSmallInt, state: *mut SqlWChar, native: *mut SqlInteger, msg: *mut SqlWChar, msg_max: SqlSmallInt, msg_len: *mut SqlSmallInt);
            SQLGetDiagField(handle_type: HandleType, handle: SqlHandle, rec: SqlSmallInt, field: DiagField, value: SqlPointer, buf_len: SqlSmallInt, out_len: *mut SqlSmallInt);
            SQLGetDiagFieldW(handle_type: HandleType, handle: SqlHandle, rec: SqlSmallInt, field: DiagField, value: SqlPointer, buf_len: SqlSmallInt, out_len: *mut SqlSmallInt);
            SQLError(env: SqlHEnv, dbc: SqlHDbc, stmt: SqlHStmt, state: *mut SqlChar, native: *mut SqlInteger, msg: *mut SqlChar, msg_max: SqlSmallInt, msg_len: *mut SqlSmallInt);
            SQLErrorW(env: SqlHEnv, dbc: SqlHDbc, stmt: SqlHStmt, state: *mut SqlWChar, native: *mut SqlInteger, msg: *mut SqlWChar, msg_max: SqlSmallInt, msg_len: *mut SqlSmallInt);
        }
    };
}

with_entry_points!(entry_points);

/// `RowNumber` of SQLSetPos: SQLSETPOSIROW, 64-bit (SQLULEN) on LP64.
pub type SqlSetPosIRow = SqlULen;
