//! Catalog functions (SQLTables, SQLColumns, ...): up to six pattern/name arguments each,
//! converted A↔W when the driver has only the other width. A null pointer means "no
//! restriction" and is passed on as null; a length below 0 other than SQL_NTS is HY090
//! (DM). Lengths count bytes for A and characters for W.

use odbc_dm_abi::{FunctionId as F, *};

use super::strings::{InNarrow, InWide};
use super::{boundary, handle, same_signature, AppPtr, StmtCall};
use crate::diag::SqlState;
use crate::handles::Stmt;
use crate::trace_enter;

same_signature!(
    SQLTables,
    SQLTablesW,
    SQLColumns,
    SQLColumnsW,
    SQLColumnPrivileges,
    SQLColumnPrivilegesW,
    SQLPrimaryKeys,
    SQLPrimaryKeysW,
    SQLForeignKeys,
    SQLForeignKeysW,
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
    SQLGetTypeInfo,
    SQLGetTypeInfoW,
);

/// A DM-detected argument error: SQLSTATE and message.
type ArgError = (SqlState, &'static str);

/// Uniqueness option type out of range.
const HY100: SqlState = SqlState(*b"HY100");
/// Accuracy option type out of range.
const HY101: SqlState = SqlState(*b"HY101");
/// Column type out of range.
const HY097: SqlState = SqlState(*b"HY097");
/// Scope type out of range.
const HY098: SqlState = SqlState(*b"HY098");
/// Nullable type out of range.
const HY099: SqlState = SqlState(*b"HY099");

/// Validates the length of each string argument (HY090 for < 0 other than SQL_NTS).
fn check_lengths(lens: &[i16]) -> Result<(), ArgError> {
    if lens.iter().any(|&l| l < 0 && l as i32 != SQL_NTS) {
        return Err((SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "Invalid string or buffer length"));
    }
    Ok(())
}

/// A non-string argument of a catalog function as the driver gets it: SQLGetTypeInfo's
/// DataType with the date/time codes of the driver's ODBC version (decision #128); the
/// others as given.
trait ForDriver: Sized {
    fn for_driver(self, _s: &Stmt) -> Self {
        self
    }
}

impl ForDriver for RowIdentifier {}

impl ForDriver for SqlDataType {
    fn for_driver(self, s: &Stmt) -> Self {
        SqlDataType(super::checks::datetime_for_driver(self.0, s.link.driver_is_odbc3()))
    }
}

/// Declares the A and W forms of one catalog function. `pre`/`post` are the non-string
/// arguments before/after the (pointer, length) pairs in `strs`; `check` is evaluated with
/// all arguments in scope and returns `Result<(), ArgError>`.
macro_rules! catalog {
    (
        $a:ident, $w:ident, $func:expr,
        pre($($p:ident : $pt:ty),*),
        strs($($s:ident, $sl:ident);*),
        post($($q:ident : $qt:ty),*),
        check = $check:expr
    ) => {
        /// ANSI form: the driver's ANSI entry point, or its Unicode one with converted strings.
        pub unsafe extern "C" fn $a(stmt: SqlHStmt, $($p: $pt,)* $($s: *const SqlChar, $sl: SqlSmallInt,)* $($q: $qt),*) -> SqlReturn {
            trace_enter!(stringify!($a), "{:p} {:?}", stmt, ($($p,)* $($sl,)* $($q),*));
            boundary(stringify!($a), || {
                let s = handle!(stmt, stmt);
                let call = match StmtCall::begin(&s, $func) {
                    Ok(c) => c,
                    Err(rc) => return rc,
                };
                let checked: Result<(), ArgError> = check_lengths(&[$($sl),*]).and_then(|()| $check);
                if let Err((st, msg)) = checked {
                    return call.fail(st, msg);
                }
                let fns = &s.link.driver.fns;
                let h = s.hstmt;
                $( let $p = ForDriver::for_driver($p, &s); )*
                if let Some(f) = fns.$a {
                    $( let $s = AppPtr::from_const($s); )*
                    // SAFETY: live driver statement (the DM statement outlives the operation);
                    // the application's arguments as given, valid until completion (§2.9).
                    call.invoke(move |_| unsafe { f(h as SqlHStmt, $($p,)* $($s.get_const(), $sl,)* $($q),*) })
                } else if let Some(f) = fns.$w {
                    $(
                        // SAFETY: the application's string with its (validated) length.
                        let Ok($s) = (unsafe { InWide::from_narrow($s, $sl as isize) }) else {
                            return call.fail(SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "Invalid string or buffer length");
                        };
                    )*
                    // SAFETY: live driver statement; the closure owns the converted strings,
                    // so they live until the operation completes.
                    call.invoke(move |_| unsafe { f(h as SqlHStmt, $($p,)* $($s.ptr(), $s.len_i16(),)* $($q),*) })
                } else {
                    call.missing(stringify!($a))
                }
            })
        }

        /// Unicode form: the driver's W entry point, or its ANSI one with converted strings.
        pub unsafe extern "C" fn $w(stmt: SqlHStmt, $($p: $pt,)* $($s: *const SqlWChar, $sl: SqlSmallInt,)* $($q: $qt),*) -> SqlReturn {
            trace_enter!(stringify!($w), "{:p} {:?}", stmt, ($($p,)* $($sl,)* $($q),*));
            boundary(stringify!($w), || {
                let s = handle!(stmt, stmt);
                let call = match StmtCall::begin(&s, $func) {
                    Ok(c) => c,
                    Err(rc) => return rc,
                };
                let checked: Result<(), ArgError> = check_lengths(&[$($sl),*]).and_then(|()| $check);
                if let Err((st, msg)) = checked {
                    return call.fail(st, msg);
                }
                let fns = &s.link.driver.fns;
                let h = s.hstmt;
                $( let $p = ForDriver::for_driver($p, &s); )*
                if let Some(f) = fns.$w {
                    $( let $s = AppPtr::from_const($s); )*
                    // SAFETY: live driver statement (the DM statement outlives the operation);
                    // the application's arguments as given, valid until completion (§2.9).
                    call.invoke(move |_| unsafe { f(h as SqlHStmt, $($p,)* $($s.get_const(), $sl,)* $($q),*) })
                } else if let Some(f) = fns.$a {
                    $(
                        // SAFETY: the application's string with its (validated) length.
                        let Ok($s) = (unsafe { InNarrow::from_wide($s, $sl as isize) }) else {
                            return call.fail(SqlState::INVALID_STRING_OR_BUFFER_LENGTH, "Invalid string or buffer length");
                        };
                    )*
                    // SAFETY: live driver statement; the closure owns the converted strings,
                    // so they live until the operation completes.
                    call.invoke(move |_| unsafe { f(h as SqlHStmt, $($p,)* $($s.ptr(), $s.len_i16(),)* $($q),*) })
                } else {
                    call.missing(stringify!($w))
                }
            })
        }
    };
}

catalog!(SQLTables, SQLTablesW, F::SQL_API_SQLTABLES,
    pre(), strs(cat, cat_len; schema, schema_len; table, table_len; kind, kind_len), post(),
    check = Ok(()));

catalog!(SQLColumns, SQLColumnsW, F::SQL_API_SQLCOLUMNS,
    pre(), strs(cat, cat_len; schema, schema_len; table, table_len; column, column_len), post(),
    check = Ok(()));

catalog!(SQLColumnPrivileges, SQLColumnPrivilegesW, F::SQL_API_SQLCOLUMNPRIVILEGES,
    pre(), strs(cat, cat_len; schema, schema_len; table, table_len; column, column_len), post(),
    check = Ok(()));

catalog!(SQLPrimaryKeys, SQLPrimaryKeysW, F::SQL_API_SQLPRIMARYKEYS,
    pre(), strs(cat, cat_len; schema, schema_len; table, table_len), post(),
    check = Ok(()));

catalog!(SQLTablePrivileges, SQLTablePrivilegesW, F::SQL_API_SQLTABLEPRIVILEGES,
    pre(), strs(cat, cat_len; schema, schema_len; table, table_len), post(),
    check = Ok(()));

catalog!(SQLProcedures, SQLProceduresW, F::SQL_API_SQLPROCEDURES,
    pre(), strs(cat, cat_len; schema, schema_len; proc_name, proc_len), post(),
    check = Ok(()));

catalog!(SQLProcedureColumns, SQLProcedureColumnsW, F::SQL_API_SQLPROCEDURECOLUMNS,
    pre(), strs(cat, cat_len; schema, schema_len; proc_name, proc_len; column, column_len), post(),
    check = Ok(()));

catalog!(SQLForeignKeys, SQLForeignKeysW, F::SQL_API_SQLFOREIGNKEYS,
    pre(),
    strs(pk_cat, pk_cat_len; pk_schema, pk_schema_len; pk_table, pk_table_len; fk_cat, fk_cat_len; fk_schema, fk_schema_len; fk_table, fk_table_len),
    post(),
    check = Ok(()));

// SQLSpecialColumns: IdentifierType SQL_BEST_ROWID/SQL_ROWVER (HY097), Scope
// SQL_SCOPE_CURROW..SQL_SCOPE_SESSION (HY098), Nullable SQL_NO_NULLS/SQL_NULLABLE (HY099).
catalog!(SQLSpecialColumns, SQLSpecialColumnsW, F::SQL_API_SQLSPECIALCOLUMNS,
pre(identifier: RowIdentifier),
strs(cat, cat_len; schema, schema_len; table, table_len),
post(scope: SqlUSmallInt, nullable: Nullability),
check = if !matches!(identifier, RowIdentifier::SQL_BEST_ROWID | RowIdentifier::SQL_ROWVER) {
    Err((HY097, "Column type out of range"))
} else if scope > SQL_SCOPE_SESSION {
    Err((HY098, "Scope type out of range"))
} else if !matches!(nullable, Nullability::SQL_NO_NULLS | Nullability::SQL_NULLABLE) {
    Err((HY099, "Nullable type out of range"))
} else {
    Ok(())
});

// SQLStatistics: Unique SQL_INDEX_UNIQUE/SQL_INDEX_ALL (HY100), Reserved
// SQL_QUICK/SQL_ENSURE (HY101).
catalog!(SQLStatistics, SQLStatisticsW, F::SQL_API_SQLSTATISTICS,
pre(),
strs(cat, cat_len; schema, schema_len; table, table_len),
post(unique: SqlUSmallInt, reserved: SqlUSmallInt),
check = if unique != SQL_INDEX_UNIQUE && unique != SQL_INDEX_ALL {
    Err((HY100, "Uniqueness option type out of range"))
} else if reserved != SQL_QUICK && reserved != SQL_ENSURE {
    Err((HY101, "Accuracy option type out of range"))
} else {
    Ok(())
});

// SQLGetTypeInfo has no string argument; the A and W forms differ only in the name.
catalog!(SQLGetTypeInfo, SQLGetTypeInfoW, F::SQL_API_SQLGETTYPEINFO,
    pre(data_type: SqlDataType), strs(), post(),
    check = Ok(()));
