//! odbc-dm as a drop-in `libodbc.so.2`: the ODBC C API exported with its C names, each
//! export a thin shim over the raw layer (`odbc_dm::raw`), which has exactly the C
//! signature of the entry point, validates every handle (a stale, freed or garbage value
//! is SQL_INVALID_HANDLE, never dereferenced) and runs its body inside `catch_unwind`.
//!
//! Exports:
//! - every entry point of `odbc_dm_abi::with_entry_points!` (the ODBC 3.8 API, A and W
//!   forms, SQLCompleteAsync, SQLCancelHandle and the ODBC 2 functions), generated from
//!   that one list so a signature cannot drift;
//! - unixODBC's `...A` aliases of the ANSI functions (`SQLConnectA` = `SQLConnect`);
//! - unixODBC's extensions `SQLAllocHandleStd`, `SQLGetConnectOptionW`,
//!   `SQLSetConnectOptionW` and `SQLSetStmtOptionW` (mapped onto the ODBC 3 raw functions).
//!
//! At load time the library installs a logger when `ODBC_DM_TRACE` or `RUST_LOG` is set
//! (see [`trace`]), so C applications get the DM's call trace without a Rust logger.
#![allow(non_snake_case)]
#![allow(clippy::too_many_arguments)]

pub mod trace;

use odbc_dm::raw;
use odbc_dm_abi::fns::SqlSetPosIRow;
use odbc_dm_abi::*;

/// One `#[no_mangle]` export per entry point, forwarding to the raw function of the same
/// name and signature (a tail call).
macro_rules! exports {
    ($( $name:ident ( $( $arg:ident : $t:ty ),* $(,)? ); )*) => {
        $(
            /// The ODBC entry point of this name, forwarded to `odbc_dm::raw`.
            ///
            /// # Safety
            /// The ODBC contract of this function: every pointer argument is null or valid
            /// for the use the ODBC specification describes, with the lengths given. Handle
            /// values are checked (an unknown one is SQL_INVALID_HANDLE).
            #[no_mangle]
            pub unsafe extern "C" fn $name( $( $arg: $t ),* ) -> SqlReturn {
                // SAFETY: same signature and contract as the raw function (checked at
                // compile time against `odbc_dm_abi::fns` in odbc_dm::raw).
                unsafe { raw::$name( $( $arg ),* ) }
            }
            ansi_alias!($name ( $( $arg : $t ),* ));
        )*
    };
}

/// unixODBC exports an `...A` alias for each ANSI function that has a W form; so do we.
/// Entry points without one match the last arm and produce nothing.
macro_rules! ansi_alias {
    (SQLBrowseConnect $sig:tt) => { alias!("SQLBrowseConnectA", SQLBrowseConnect $sig); };
    (SQLColAttribute $sig:tt) => { alias!("SQLColAttributeA", SQLColAttribute $sig); };
    (SQLColAttributes $sig:tt) => { alias!("SQLColAttributesA", SQLColAttributes $sig); };
    (SQLColumnPrivileges $sig:tt) => { alias!("SQLColumnPrivilegesA", SQLColumnPrivileges $sig); };
    (SQLColumns $sig:tt) => { alias!("SQLColumnsA", SQLColumns $sig); };
    (SQLConnect $sig:tt) => { alias!("SQLConnectA", SQLConnect $sig); };
    (SQLDataSources $sig:tt) => { alias!("SQLDataSourcesA", SQLDataSources $sig); };
    (SQLDescribeCol $sig:tt) => { alias!("SQLDescribeColA", SQLDescribeCol $sig); };
    (SQLDriverConnect $sig:tt) => { alias!("SQLDriverConnectA", SQLDriverConnect $sig); };
    (SQLDrivers $sig:tt) => { alias!("SQLDriversA", SQLDrivers $sig); };
    (SQLError $sig:tt) => { alias!("SQLErrorA", SQLError $sig); };
    (SQLExecDirect $sig:tt) => { alias!("SQLExecDirectA", SQLExecDirect $sig); };
    (SQLForeignKeys $sig:tt) => { alias!("SQLForeignKeysA", SQLForeignKeys $sig); };
    (SQLGetConnectAttr $sig:tt) => { alias!("SQLGetConnectAttrA", SQLGetConnectAttr $sig); };
    (SQLGetConnectOption $sig:tt) => { alias!("SQLGetConnectOptionA", SQLGetConnectOption $sig); };
    (SQLGetCursorName $sig:tt) => { alias!("SQLGetCursorNameA", SQLGetCursorName $sig); };
    (SQLGetDescField $sig:tt) => { alias!("SQLGetDescFieldA", SQLGetDescField $sig); };
    (SQLGetDescRec $sig:tt) => { alias!("SQLGetDescRecA", SQLGetDescRec $sig); };
    (SQLGetDiagField $sig:tt) => { alias!("SQLGetDiagFieldA", SQLGetDiagField $sig); };
    (SQLGetDiagRec $sig:tt) => { alias!("SQLGetDiagRecA", SQLGetDiagRec $sig); };
    (SQLGetInfo $sig:tt) => { alias!("SQLGetInfoA", SQLGetInfo $sig); };
    (SQLGetStmtAttr $sig:tt) => { alias!("SQLGetStmtAttrA", SQLGetStmtAttr $sig); };
    (SQLGetTypeInfo $sig:tt) => { alias!("SQLGetTypeInfoA", SQLGetTypeInfo $sig); };
    (SQLNativeSql $sig:tt) => { alias!("SQLNativeSqlA", SQLNativeSql $sig); };
    (SQLPrepare $sig:tt) => { alias!("SQLPrepareA", SQLPrepare $sig); };
    (SQLPrimaryKeys $sig:tt) => { alias!("SQLPrimaryKeysA", SQLPrimaryKeys $sig); };
    (SQLProcedureColumns $sig:tt) => { alias!("SQLProcedureColumnsA", SQLProcedureColumns $sig); };
    (SQLProcedures $sig:tt) => { alias!("SQLProceduresA", SQLProcedures $sig); };
    (SQLSetConnectAttr $sig:tt) => { alias!("SQLSetConnectAttrA", SQLSetConnectAttr $sig); };
    (SQLSetConnectOption $sig:tt) => { alias!("SQLSetConnectOptionA", SQLSetConnectOption $sig); };
    (SQLSetCursorName $sig:tt) => { alias!("SQLSetCursorNameA", SQLSetCursorName $sig); };
    (SQLSetDescField $sig:tt) => { alias!("SQLSetDescFieldA", SQLSetDescField $sig); };
    (SQLSetStmtAttr $sig:tt) => { alias!("SQLSetStmtAttrA", SQLSetStmtAttr $sig); };
    (SQLSetStmtOption $sig:tt) => { alias!("SQLSetStmtOptionA", SQLSetStmtOption $sig); };
    (SQLSpecialColumns $sig:tt) => { alias!("SQLSpecialColumnsA", SQLSpecialColumns $sig); };
    (SQLStatistics $sig:tt) => { alias!("SQLStatisticsA", SQLStatistics $sig); };
    (SQLTablePrivileges $sig:tt) => { alias!("SQLTablePrivilegesA", SQLTablePrivileges $sig); };
    (SQLTables $sig:tt) => { alias!("SQLTablesA", SQLTables $sig); };
    ($other:ident $sig:tt) => {};
}

/// An export named `$sym` forwarding to the raw function `$name`.
macro_rules! alias {
    ($sym:literal, $name:ident ( $( $arg:ident : $t:ty ),* )) => {
        const _: () = {
            /// unixODBC's `...A` alias of the ANSI entry point.
            ///
            /// # Safety
            /// As the ANSI entry point it aliases.
            #[export_name = $sym]
            pub unsafe extern "C" fn alias( $( $arg: $t ),* ) -> SqlReturn {
                // SAFETY: same signature and contract as the raw function.
                unsafe { raw::$name( $( $arg ),* ) }
            }
        };
    };
}

odbc_dm_abi::with_entry_points!(exports);

/// The ODBC 2 connection options whose value is a string (SQL_CURRENT_QUALIFIER,
/// SQL_OPT_TRACEFILE, SQL_TRANSLATE_DLL).
fn is_text_option(option: SqlUSmallInt) -> bool {
    let attr = ConnAttr(option as i32);
    matches!(attr, ConnAttr::SQL_ATTR_CURRENT_CATALOG | ConnAttr::SQL_ATTR_TRACEFILE | ConnAttr::SQL_ATTR_TRANSLATE_LIB)
}

/// unixODBC's SQLAllocHandleStd (X/Open): SQLAllocHandle, and an environment allocated by
/// it is an ODBC 3 environment (SQL_ATTR_ODBC_VERSION = SQL_OV_ODBC3).
///
/// # Safety
/// As SQLAllocHandle: `output` is null or valid for writing one handle.
#[no_mangle]
pub unsafe extern "C" fn SQLAllocHandleStd(handle_type: HandleType, input: SqlHandle, output: *mut SqlHandle) -> SqlReturn {
    // SAFETY: the caller's arguments, SQLAllocHandle's contract.
    let rc = unsafe { raw::SQLAllocHandle(handle_type, input, output) };
    if handle_type == HandleType::SQL_HANDLE_ENV && rc.is_success() && !output.is_null() {
        // SAFETY: SQLAllocHandle succeeded, so it wrote a live environment to `output`.
        let env = unsafe { *output } as SqlHEnv;
        // SAFETY: a live environment handle; an integer attribute passed by value.
        let set = unsafe { raw::SQLSetEnvAttr(env, EnvAttr::SQL_ATTR_ODBC_VERSION, SQL_OV_ODBC3 as usize as SqlPointer, 0) };
        if !set.is_success() {
            return set;
        }
    }
    rc
}

/// unixODBC's SQLSetConnectOptionW: the ODBC 2 SQLSetConnectOption with a character
/// option's value as a NUL-terminated UTF-16 string; mapped to SQLSetConnectAttrW.
///
/// # Safety
/// For a character option `value` is a pointer to a NUL-terminated SQLWCHAR string.
#[no_mangle]
pub unsafe extern "C" fn SQLSetConnectOptionW(dbc: SqlHDbc, option: SqlUSmallInt, value: SqlULen) -> SqlReturn {
    let len = if is_text_option(option) { SQL_NTS } else { 0 };
    // SAFETY: the caller's arguments; for a text option a NUL-terminated string (SQL_NTS).
    unsafe { raw::SQLSetConnectAttrW(dbc, ConnAttr(option as i32), value as SqlPointer, len) }
}

/// unixODBC's SQLGetConnectOptionW: mapped to SQLGetConnectAttrW; a character option's
/// buffer is SQL_MAX_OPTION_STRING_LENGTH characters (as the A form's is bytes).
///
/// # Safety
/// `value` is valid for writing a UDWORD (32 bits; a pointer for SQL_QUIET_MODE), or
/// SQL_MAX_OPTION_STRING_LENGTH SQLWCHARs for a character option.
#[no_mangle]
pub unsafe extern "C" fn SQLGetConnectOptionW(dbc: SqlHDbc, option: SqlUSmallInt, value: SqlPointer) -> SqlReturn {
    // SAFETY: the caller's buffer with the length and width ODBC 2 defines for it.
    unsafe { raw::get_connect_option(dbc, option, value, true) }
}

/// unixODBC's SQLSetStmtOptionW: statement options are integers, so this is
/// SQLSetStmtOption through SQLSetStmtAttrW (the W form reaches an ODBC 2 driver through
/// the raw layer's mapping).
///
/// # Safety
/// As SQLSetStmtOption.
#[no_mangle]
pub unsafe extern "C" fn SQLSetStmtOptionW(stmt: SqlHStmt, option: SqlUSmallInt, value: SqlULen) -> SqlReturn {
    // SAFETY: the caller's arguments; an integer option passed by value.
    unsafe { raw::SQLSetStmtAttrW(stmt, StmtAttr(option as i32), value as SqlPointer, 0) }
}

/// Runs when the library is loaded (the ELF `.init_array`): installs the trace logger.
extern "C" fn on_load() {
    // A panic must not unwind into the dynamic loader.
    let _ = std::panic::catch_unwind(trace::install_from_env);
}

#[used]
#[link_section = ".init_array"]
static ON_LOAD: extern "C" fn() = on_load;
