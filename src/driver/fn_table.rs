//! The driver's entry points, read once at load time into an immutable table.
//!
//! Each field is `Option<fn pointer>`: a driver that lacks a function is legal, and the
//! DM answers IM001 (or converts A↔W) when the application asks for it (§6.6).
#![allow(non_snake_case)]

use libloading::os::unix::Library;
use odbc_dm_abi::fns;

macro_rules! fn_table {
    ($( $name:ident ),* $(,)?) => {
        /// The driver's exported ODBC functions (`None` = not exported).
        #[derive(Clone, Copy, Default)]
        pub struct DriverFns {
            $( pub $name: Option<fns::$name>, )*
        }

        impl DriverFns {
            /// The same table with every entry point replaced by the `Threading` trampoline
            /// of serialization slot `N` (see [`super::serialize`]), which takes the slot's
            /// lock and calls the entry point of this table stored in the slot.
            pub(crate) fn serialized<const N: usize>(&self) -> DriverFns {
                DriverFns {
                    $( $name: self.$name.map(|_| super::serialize::tramp::$name::<N> as fns::$name), )*
                }
            }

            /// Reads every known entry point from the library with `dlsym`.
            pub(crate) fn load(lib: &Library) -> DriverFns {
                DriverFns {
                    $( $name: {
                        // SAFETY: the symbol, if present, is the driver's C function of that
                        // name; its prototype is fixed by the ODBC specification and matches
                        // `fns::$name` (checked against unixODBC's headers in the ABI tests).
                        unsafe { lib.get::<fns::$name>(concat!(stringify!($name), "\0").as_bytes()) }
                            .ok()
                            .map(|s| *s)
                    }, )*
                }
            }

            /// Names of the exported entry points, for `odbc-dm info` and the harness.
            pub fn exported_names(&self) -> Vec<&'static str> {
                let mut v = Vec::new();
                $( if self.$name.is_some() { v.push(stringify!($name)); } )*
                v
            }

            /// Whether the named entry point is exported.
            pub fn has(&self, name: &str) -> bool {
                match name {
                    $( stringify!($name) => self.$name.is_some(), )*
                    _ => false,
                }
            }
        }
    };
}

fn_table!(
    SQLAllocHandle,
    SQLFreeHandle,
    SQLFreeStmt,
    SQLAllocEnv,
    SQLAllocConnect,
    SQLAllocStmt,
    SQLFreeEnv,
    SQLFreeConnect,
    SQLSetEnvAttr,
    SQLGetEnvAttr,
    SQLSetConnectAttr,
    SQLSetConnectAttrW,
    SQLGetConnectAttr,
    SQLGetConnectAttrW,
    SQLSetStmtAttr,
    SQLSetStmtAttrW,
    SQLGetStmtAttr,
    SQLGetStmtAttrW,
    SQLSetConnectOption,
    SQLGetConnectOption,
    SQLSetStmtOption,
    SQLGetStmtOption,
    SQLConnect,
    SQLConnectW,
    SQLDriverConnect,
    SQLDriverConnectW,
    SQLBrowseConnect,
    SQLBrowseConnectW,
    SQLDisconnect,
    SQLGetInfo,
    SQLGetInfoW,
    SQLGetFunctions,
    SQLGetTypeInfo,
    SQLGetTypeInfoW,
    SQLNativeSql,
    SQLNativeSqlW,
    SQLPrepare,
    SQLPrepareW,
    SQLExecute,
    SQLExecDirect,
    SQLExecDirectW,
    SQLBindParameter,
    SQLBindParam,
    SQLSetParam,
    SQLParamOptions,
    SQLDescribeParam,
    SQLNumParams,
    SQLParamData,
    SQLPutData,
    SQLCancel,
    SQLCancelHandle,
    SQLCompleteAsync,
    SQLEndTran,
    SQLTransact,
    SQLNumResultCols,
    SQLDescribeCol,
    SQLDescribeColW,
    SQLColAttribute,
    SQLColAttributeW,
    SQLColAttributes,
    SQLColAttributesW,
    SQLBindCol,
    SQLFetch,
    SQLFetchScroll,
    SQLExtendedFetch,
    SQLGetData,
    SQLSetPos,
    SQLBulkOperations,
    SQLSetScrollOptions,
    SQLMoreResults,
    SQLRowCount,
    SQLCloseCursor,
    SQLGetCursorName,
    SQLGetCursorNameW,
    SQLSetCursorName,
    SQLSetCursorNameW,
    SQLTables,
    SQLTablesW,
    SQLColumns,
    SQLColumnsW,
    SQLColumnPrivileges,
    SQLColumnPrivilegesW,
    SQLPrimaryKeys,
    SQLPrimaryKeysW,
    SQLTablePrivileges,
    SQLTablePrivilegesW,
    SQLProcedures,
    SQLProceduresW,
    SQLProcedureColumns,
    SQLProcedureColumnsW,
    SQLSpecialColumns,
    SQLSpecialColumnsW,
    SQLStatistics,
    SQLStatisticsW,
    SQLForeignKeys,
    SQLForeignKeysW,
    SQLCopyDesc,
    SQLGetDescField,
    SQLGetDescFieldW,
    SQLSetDescField,
    SQLSetDescFieldW,
    SQLGetDescRec,
    SQLGetDescRecW,
    SQLSetDescRec,
    SQLGetDiagRec,
    SQLGetDiagRecW,
    SQLGetDiagField,
    SQLGetDiagFieldW,
    SQLError,
    SQLErrorW,
    // DM functions; a driver never needs to export them (kept so that the table covers
    // every entry point type of `odbc_dm_abi::fns`).
    SQLDataSources,
    SQLDataSourcesW,
    SQLDrivers,
    SQLDriversW,
);

macro_rules! twins {
    ($( $a:ident / $w:ident ),* $(,)?) => {
        impl DriverFns {
            /// Unicode-driver policy: when the driver exports W entry points, drop the ANSI
            /// twins of string functions from the table the DM calls through, so every call
            /// reaches the driver's W function (the application's ANSI text is converted):
            /// a Unicode driver's ANSI entry points may expect a client code page, not UTF-8.
            /// The connect functions are not twins here: an ANSI connect reaches the driver's
            /// ANSI connect when it has one (docs/decisions.md #96), which is how psqlODBC
            /// learns that the application is ANSI (it then reports SQL_CHAR types), without
            /// SQL_ATTR_ANSI_APP (which makes MariaDB Connector/ODBC use the locale's charset).
            /// Nor are SQLSetConnectAttr/SQLGetConnectAttr: the application's width is used
            /// when the driver has it, because psqlODBC's SQLGetConnectAttrW answers a
            /// character attribute in the width of the connect (narrow after an ANSI
            /// connect) and its SQLSetConnectAttrW marks the connection Unicode again.
            /// SQLGetInfoW and SQLNativeSqlW do the same in psqlODBC (an ANSI application's
            /// SQL_ATTR_CURRENT_CATALOG then came back as UTF-16 bytes, and its columns as
            /// SQL_WVARCHAR), so SQLGetInfo and SQLNativeSql keep both widths as well and go
            /// to the application's when the driver has it (decision #129). So does
            /// SQLDescribeCol: MariaDB Connector/ODBC's SQLDescribeColW reports a VARCHAR
            /// column as SQL_WVARCHAR whatever the connect, where its ANSI SQLDescribeCol
            /// and its SQLColAttributeW(SQL_DESC_CONCISE_TYPE) say SQL_VARCHAR; an ANSI
            /// application got the two answers side by side (decision #148).
            pub(crate) fn prefer_wide(&mut self) {
                $( if self.$w.is_some() { self.$a = None; } )*
            }

            /// Whether the driver is a Unicode driver (exports a W connect function).
            pub fn is_unicode(&self) -> bool {
                self.SQLDriverConnectW.is_some() || self.SQLConnectW.is_some()
            }
        }
    };
}

twins!(
    SQLSetStmtAttr / SQLSetStmtAttrW,
    SQLGetStmtAttr / SQLGetStmtAttrW,
    SQLGetTypeInfo / SQLGetTypeInfoW,
    SQLPrepare / SQLPrepareW,
    SQLExecDirect / SQLExecDirectW,
    SQLColAttribute / SQLColAttributeW,
    SQLColAttributes / SQLColAttributesW,
    SQLGetCursorName / SQLGetCursorNameW,
    SQLSetCursorName / SQLSetCursorNameW,
    SQLTables / SQLTablesW,
    SQLColumns / SQLColumnsW,
    SQLColumnPrivileges / SQLColumnPrivilegesW,
    SQLPrimaryKeys / SQLPrimaryKeysW,
    SQLTablePrivileges / SQLTablePrivilegesW,
    SQLProcedures / SQLProceduresW,
    SQLProcedureColumns / SQLProcedureColumnsW,
    SQLSpecialColumns / SQLSpecialColumnsW,
    SQLStatistics / SQLStatisticsW,
    SQLForeignKeys / SQLForeignKeysW,
    SQLGetDescField / SQLGetDescFieldW,
    SQLSetDescField / SQLSetDescFieldW,
    SQLGetDescRec / SQLGetDescRecW,
    SQLGetDiagRec / SQLGetDiagRecW,
    SQLGetDiagField / SQLGetDiagFieldW,
    SQLError / SQLErrorW,
);
