//! SQLGetFunctions, answered by the DM (§6.5, §6.6).
//!
//! The answer is built from what the driver library really exports (`dlsym`, kept in
//! `Driver::exported`), never from the driver's own SQLGetFunctions: a driver may claim a
//! function it does not export, and calling it would be IM001 (§7.6). An ANSI or Unicode
//! twin counts (the DM converts). Functions the DM implements itself are always reported.
//!
//! Which entry points back which function id is data: [`FUNCTIONS`].

use std::sync::Arc;

use odbc_dm_abi::*;

use super::{boundary, handle, same_signature, Call};
use crate::diag::SqlState;
use crate::driver::Driver;
use crate::handles::Dbc;
use crate::trace_enter;

same_signature!(SQLGetFunctions);

/// How the DM can serve a function id.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Support {
    /// The DM implements it itself, with or without a driver (always reported, §6.5).
    Dm,
    /// Reported when the driver exports any of these entry points (A/W twins, or the
    /// 2.x/3.x entry point the DM maps the call onto).
    Driver(&'static [&'static str]),
    /// SQLCancelHandle: reported only if the driver exports both SQLCancel and
    /// SQLCancelHandle (§3.5).
    CancelHandle,
    /// A valid id the DM does not implement yet (answered SQL_FALSE, never HY095).
    No,
}

use Support::{CancelHandle, Dm, Driver as Drv, No};

/// Every valid function id with how it is supported.
///
/// SQLCancelHandle is listed twice, under unixODBC's id 1022 (`SQL_API_SQLCANCELHANDLE`
/// in its sql.h) and Microsoft's 1550 (Windows SDK). Applications built on either header
/// ask with their own value, and a driver built on unixODBC's header may set bit 1022 in
/// its own map (§6.6, §7.6). The DM therefore answers both ids the same way and, in the
/// SQL_API_ODBC3_ALL_FUNCTIONS bitmap, sets (or clears) both bits together.
pub(crate) const FUNCTIONS: &[(u16, Support)] = &[
    // ---- ODBC 1.0/2.x ids (< 100: also in the SQL_API_ALL_FUNCTIONS array) ----
    (1, Dm),                                       // SQLAllocConnect
    (2, Dm),                                       // SQLAllocEnv
    (3, Drv(&["SQLAllocHandle", "SQLAllocStmt"])), // SQLAllocStmt
    (4, Drv(&["SQLBindCol"])),
    (5, Drv(&["SQLCancel"])),
    (6, Drv(&["SQLColAttribute", "SQLColAttributeW", "SQLColAttributes", "SQLColAttributesW"])), // SQLColAttribute(s)
    (7, Drv(&["SQLConnect", "SQLConnectW", "SQLDriverConnectW"])), // SQLConnect (DM falls back to SQLDriverConnectW)
    (8, Drv(&["SQLDescribeCol", "SQLDescribeColW"])),
    (9, Drv(&["SQLDisconnect"])),
    (10, Dm), // SQLError (from the DM's diagnostics)
    (11, Drv(&["SQLExecDirect", "SQLExecDirectW"])),
    (12, Drv(&["SQLExecute"])),
    (13, Drv(&["SQLFetch"])),
    (14, Dm), // SQLFreeConnect
    (15, Dm), // SQLFreeEnv
    (16, Drv(&["SQLFreeStmt"])),
    (17, Drv(&["SQLGetCursorName", "SQLGetCursorNameW"])),
    (18, Drv(&["SQLNumResultCols"])),
    (19, Drv(&["SQLPrepare", "SQLPrepareW"])),
    (20, Drv(&["SQLRowCount"])),
    (21, Drv(&["SQLSetCursorName", "SQLSetCursorNameW"])),
    (22, Drv(&["SQLSetParam", "SQLBindParameter"])), // mapped to SQLBindParameter
    (23, Drv(&["SQLEndTran", "SQLTransact"])),       // SQLTransact (mapped to SQLEndTran)
    (24, Drv(&["SQLBulkOperations"])),
    (40, Drv(&["SQLColumns", "SQLColumnsW"])),
    (41, Drv(&["SQLDriverConnect", "SQLDriverConnectW"])),
    (42, Drv(&["SQLGetConnectAttr", "SQLGetConnectAttrW", "SQLGetConnectOption"])), // SQLGetConnectOption (mapped)
    (43, Drv(&["SQLGetData"])),
    (44, Dm), // SQLGetFunctions
    (45, Drv(&["SQLGetInfo", "SQLGetInfoW"])),
    (46, Drv(&["SQLGetStmtAttr", "SQLGetStmtAttrW"])), // SQLGetStmtOption (mapped)
    (47, Drv(&["SQLGetTypeInfo", "SQLGetTypeInfoW"])),
    (48, Drv(&["SQLParamData"])),
    (49, Drv(&["SQLPutData"])),
    (50, Drv(&["SQLSetConnectAttr", "SQLSetConnectAttrW", "SQLSetConnectOption"])), // SQLSetConnectOption (mapped)
    (51, Drv(&["SQLSetStmtAttr", "SQLSetStmtAttrW", "SQLSetStmtOption"])),          // SQLSetStmtOption (mapped)
    (52, Drv(&["SQLSpecialColumns", "SQLSpecialColumnsW"])),
    (53, Drv(&["SQLStatistics", "SQLStatisticsW"])),
    (54, Drv(&["SQLTables", "SQLTablesW"])),
    (55, No), // SQLBrowseConnect: not offered (decision #7), always IM001
    (56, Drv(&["SQLColumnPrivileges", "SQLColumnPrivilegesW"])),
    (57, Dm), // SQLDataSources
    (58, Drv(&["SQLDescribeParam"])),
    (59, Drv(&["SQLExtendedFetch"])),
    (60, Drv(&["SQLForeignKeys", "SQLForeignKeysW"])),
    (61, Drv(&["SQLMoreResults"])),
    (62, Drv(&["SQLNativeSql", "SQLNativeSqlW"])),
    (63, Drv(&["SQLNumParams"])),
    (64, Drv(&["SQLParamOptions", "SQLSetStmtAttr", "SQLSetStmtAttrW"])), // mapped to SQL_ATTR_PARAMSET_SIZE
    (65, Drv(&["SQLPrimaryKeys", "SQLPrimaryKeysW"])),
    (66, Drv(&["SQLProcedureColumns", "SQLProcedureColumnsW"])),
    (67, Drv(&["SQLProcedures", "SQLProceduresW"])),
    (68, Drv(&["SQLSetPos"])),
    (69, Drv(&["SQLSetScrollOptions", "SQLSetStmtAttr", "SQLSetStmtAttrW"])), // mapped to statement attributes
    (70, Drv(&["SQLTablePrivileges", "SQLTablePrivilegesW"])),
    (71, Dm), // SQLDrivers
    (72, Drv(&["SQLBindParameter"])),
    (73, Dm), // SQLAllocHandleStd: libodbc.so.2's (capi), SQLAllocHandle + SQL_OV_ODBC3 on a new environment
    // ---- ODBC 3.x ids ----
    (1001, Dm),                                         // SQLAllocHandle
    (1002, Drv(&["SQLBindParam", "SQLBindParameter"])), // mapped to SQLBindParameter
    (1003, Drv(&["SQLCloseCursor", "SQLFreeStmt"])),    // ODBC 2 driver: SQLFreeStmt(SQL_CLOSE)
    (1004, Drv(&["SQLCopyDesc"])),
    (1005, Drv(&["SQLEndTran", "SQLTransact"])),
    (1006, Dm), // SQLFreeHandle
    (1007, Drv(&["SQLGetConnectAttr", "SQLGetConnectAttrW", "SQLGetConnectOption"])),
    (1008, Drv(&["SQLGetDescField", "SQLGetDescFieldW"])),
    (1009, Drv(&["SQLGetDescRec", "SQLGetDescRecW"])),
    (1010, Dm), // SQLGetDiagField
    (1011, Dm), // SQLGetDiagRec
    (1012, Dm), // SQLGetEnvAttr
    (1014, Drv(&["SQLGetStmtAttr", "SQLGetStmtAttrW"])),
    (1016, Drv(&["SQLSetConnectAttr", "SQLSetConnectAttrW", "SQLSetConnectOption"])),
    (1017, Drv(&["SQLSetDescField", "SQLSetDescFieldW"])),
    (1018, Drv(&["SQLSetDescRec"])),
    (1019, Dm), // SQLSetEnvAttr
    (1020, Drv(&["SQLSetStmtAttr", "SQLSetStmtAttrW", "SQLSetStmtOption"])),
    (1021, Drv(&["SQLFetchScroll", "SQLExtendedFetch"])), // ODBC 2 driver: SQLExtendedFetch
    (1022, CancelHandle),                                 // SQLCancelHandle (unixODBC id)
    (1550, CancelHandle),                                 // SQLCancelHandle (Microsoft id)
    (1551, Dm),                                           // SQLCompleteAsync (answered by the DM, §2.13)
];

/// Size of the SQL_API_ALL_FUNCTIONS array (2.x ids).
const ALL_FUNCTIONS_SIZE: usize = 100;

/// Whether the DM can serve `id` with this driver; `None` for an unknown id (HY095).
pub(crate) fn supported(driver: &Driver, id: u16) -> Option<bool> {
    let (_, how) = FUNCTIONS.iter().find(|(i, _)| *i == id)?;
    let has = |n: &str| driver.exported.has(n);
    Some(match how {
        Support::Dm => true,
        Support::Driver(names) => names.iter().any(|n| has(n)),
        Support::CancelHandle => has("SQLCancel") && has("SQLCancelHandle"),
        Support::No => false,
    })
}

/// SQLGetFunctions: HY010 before connecting (C2/C3), HY095 for an unknown id (§6.5);
/// SQL_API_ODBC3_ALL_FUNCTIONS fills a 250-word bitmap, SQL_API_ALL_FUNCTIONS a
/// 100-entry array of the 2.x ids (§6.6).
pub unsafe extern "C" fn SQLGetFunctions(dbc: SqlHDbc, function: FunctionId, supported_ptr: *mut SqlUSmallInt) -> SqlReturn {
    trace_enter!("SQLGetFunctions", "{:p} {:?} {:p}", dbc, function, supported_ptr);
    boundary("SQLGetFunctions", || {
        let d = handle!(dbc, dbc);
        get_functions(&d, function, supported_ptr)
    })
}

fn get_functions(d: &Arc<Dbc>, function: FunctionId, out: *mut SqlUSmallInt) -> SqlReturn {
    let id = function.0;
    let mut link = None;
    // SQLGetFunctions is allowed while a function runs asynchronously (§1.9, §1.10).
    let call = match Call::begin(&d.gate, |c| {
        if !c.state.is_connected() {
            return Err((SqlState::FUNCTION_SEQUENCE_ERROR, "SQLGetFunctions needs a connection (§6.5, §4.3)".into()));
        }
        let valid = id == FunctionId::SQL_API_ALL_FUNCTIONS.0
            || id == FunctionId::SQL_API_ODBC3_ALL_FUNCTIONS.0
            || FUNCTIONS.iter().any(|(i, _)| *i == id);
        if !valid {
            return Err((SqlState::FUNCTION_TYPE_OUT_OF_RANGE, format!("Function type out of range: {id} (§6.5)")));
        }
        if out.is_null() {
            return Err((SqlState::INVALID_NULL_POINTER, "SupportedPtr is a null pointer".into()));
        }
        link = c.link.clone();
        Ok(())
    }) {
        Ok(c) => c,
        Err(rc) => return rc,
    };
    let link = link.expect("connected implies a link");
    let drv = &link.driver;
    if id == FunctionId::SQL_API_ODBC3_ALL_FUNCTIONS.0 {
        let words = SQL_API_ODBC3_ALL_FUNCTIONS_SIZE as usize;
        let mut map = vec![0u16; words];
        for (fid, _) in FUNCTIONS {
            if supported(drv, *fid) == Some(true) && (*fid as usize >> 4) < words {
                map[*fid as usize >> 4] |= 1 << (fid & 15);
            }
        }
        // SAFETY: the application provides SQL_API_ODBC3_ALL_FUNCTIONS_SIZE words.
        unsafe { std::ptr::copy_nonoverlapping(map.as_ptr(), out, words) };
    } else if id == FunctionId::SQL_API_ALL_FUNCTIONS.0 {
        let mut arr = [0u16; ALL_FUNCTIONS_SIZE];
        for (fid, _) in FUNCTIONS.iter().filter(|(i, _)| (*i as usize) < ALL_FUNCTIONS_SIZE) {
            arr[*fid as usize] = (supported(drv, *fid) == Some(true)) as u16;
        }
        // SAFETY: the application provides a 100-element array for SQL_API_ALL_FUNCTIONS.
        unsafe { std::ptr::copy_nonoverlapping(arr.as_ptr(), out, ALL_FUNCTIONS_SIZE) };
    } else {
        let v = supported(drv, id).unwrap_or(false) as u16;
        // SAFETY: non-null application out pointer (checked).
        unsafe { *out = v };
    }
    call.finish(SqlReturn::SQL_SUCCESS, None, |_, _| {})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_table_has_unique_ids_and_both_cancel_handle_ids() {
        let mut ids: Vec<u16> = FUNCTIONS.iter().map(|(i, _)| *i).collect();
        ids.sort_unstable();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate function id in FUNCTIONS");
        // §6.6, §7.6: both SQLCancelHandle ids are answered.
        assert!(ids.contains(&FunctionId::SQL_API_SQLCANCELHANDLE.0));
        assert!(ids.contains(&FunctionId::SQL_API_SQLCANCELHANDLE_MS.0));
        // Every named SQL_API_* id of the ABI (except the two ALL selectors) is in the table.
        for (name, v) in FunctionId::C_CONSTANTS {
            if *v == 0 || *v == 999 {
                continue;
            }
            assert!(ids.contains(&(*v as u16)), "{name} missing from FUNCTIONS");
        }
    }

    #[test]
    fn every_driver_entry_point_name_is_known() {
        for (_, how) in FUNCTIONS {
            if let Support::Driver(names) = how {
                for n in *names {
                    assert!(odbc_dm_abi::fns::ENTRY_POINT_NAMES.contains(n), "{n} is not an entry point");
                }
            }
        }
    }
}
