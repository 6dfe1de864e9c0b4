//! Argument checks the DM makes itself before a call reaches the driver ("(DM)" rows of
//! the function pages, §4.1), and one checked length helper for lengths the DM passes on:
//! a length that does not fit the ODBC integer type is HY090, never a wrapped value
//! (docs/decisions.md #50, #51).

use odbc_dm_abi::{CDataType, DescField, SqlDataType};

use crate::diag::SqlState;

/// First driver-specific C type (ODBC 3.8: 0x4000..=0x7FFF belong to drivers).
const DRIVER_C_TYPE_BASE: i16 = 0x4000;

/// The standard C types (sqlext.h), intervals (101..=113) included.
const fn standard_c_type(t: i16) -> bool {
    matches!(
        t,
        1 | 2 | 4 | 5 | 7 | 8 | 9 | 10 | 11 | 91 | 92 | 93 | 99 | 101
            ..=113 | -2 | -6 | -7 | -8 | -11 | -15 | -16 | -17 | -18 | -25 | -26 | -27 | -28
    )
}

/// Where a C type is used: what SQL_ARD_TYPE / SQL_APD_TYPE mean differs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum CTypeUse {
    /// SQLBindCol: a concrete type or SQL_C_DEFAULT.
    BindCol,
    /// SQLGetData: also SQL_ARD_TYPE and SQL_APD_TYPE (streamed output parameters).
    GetData,
    /// SQLBindParameter / SQLBindParam / SQLSetParam ValueType.
    Param,
}

/// HY003 unless `t` is a C type for this use: a standard one, a driver-specific one
/// (0x4000..=0x7FFF), or SQL_ARD_TYPE/SQL_APD_TYPE for SQLGetData.
pub(crate) fn check_c_type(t: CDataType, usage: CTypeUse) -> Result<(), (SqlState, String)> {
    let v = t.0;
    let ok = standard_c_type(v)
        || v >= DRIVER_C_TYPE_BASE
        || (usage == CTypeUse::GetData && (t == CDataType::SQL_ARD_TYPE || t == CDataType::SQL_APD_TYPE));
    if ok {
        Ok(())
    } else {
        Err((SqlState::INVALID_BUFFER_TYPE, format!("Invalid application buffer type: {v} is not a valid C data type")))
    }
}

/// Whether SQLGetData's TargetType is a standard C type (-28..=113) that passes
/// [`check_c_type`]: the fast lanes' guard, one load from a table indexed by the 16-bit
/// value itself (64 KiB of read-only data, of which the lanes touch the two pages that hold
/// the standard types; no bounds test: decision #104). `false` for everything else
/// (driver-specific types, SQL_ARD_TYPE/SQL_APD_TYPE, invalid values), which takes the full
/// path and its full check.
#[cfg(test)]
pub(crate) fn get_data_c_type_ok(t: CDataType) -> bool {
    LANE_C_TYPES[t.0 as u16 as usize] || LANE_C_TYPES_ODBC2[t.0 as u16 as usize]
}

/// `LANE_C_TYPES[t as u16]`: `t` is a standard C type (see [`get_data_c_type_ok`]) that an
/// ODBC 3 driver gets as is (not SQL_C_DATE/TIME/TIMESTAMP 9–11, which the DM maps:
/// [`datetime_for_driver`]).
static LANE_C_TYPES: [bool; 1 << 16] = lane_c_types_table(false, false);
/// The same without SQL_C_WCHAR: the table of a statement whose SQL_C_WCHAR the DM
/// converts (an ANSI-only driver, decision #77), which takes the full path.
static LANE_C_TYPES_NO_WCHAR: [bool; 1 << 16] = lane_c_types_table(true, false);
/// The tables of an ODBC 2 driver's statements: SQL_C_TYPE_DATE/TIME/TIMESTAMP 91–93 are
/// mapped (to 9–11), 9–11 go as they are.
static LANE_C_TYPES_ODBC2: [bool; 1 << 16] = lane_c_types_table(false, true);
static LANE_C_TYPES_NO_WCHAR_ODBC2: [bool; 1 << 16] = lane_c_types_table(true, true);

const fn lane_c_types_table(no_wchar: bool, odbc2_driver: bool) -> [bool; 1 << 16] {
    let mut m = [false; 1 << 16];
    let mut t: i16 = -28;
    while t <= 113 {
        m[t as u16 as usize] =
            standard_c_type(t) && !(no_wchar && t == CDataType::SQL_C_WCHAR.0) && datetime_for_driver(t, !odbc2_driver) == t;
        t += 1;
    }
    m
}

/// The SQLGetData lane's C-type guard of a statement (`Stmt::lane_c_types`, decision
/// #121): the lane indexes it with the TargetType value, so that the test for an ANSI-only
/// driver's SQL_C_WCHAR, or for a date/time code the DM maps, costs nothing on the lane.
pub(crate) fn lane_c_types(ansi_wchar: bool, odbc2_driver: bool) -> &'static [bool; 1 << 16] {
    match (ansi_wchar, odbc2_driver) {
        (false, false) => &LANE_C_TYPES,
        (true, false) => &LANE_C_TYPES_NO_WCHAR,
        (false, true) => &LANE_C_TYPES_ODBC2,
        (true, true) => &LANE_C_TYPES_NO_WCHAR_ODBC2,
    }
}

/// A date, time or timestamp type code as the driver must get it ("Datetime Data Type
/// Changes": the DM's mapping of the C types in SQLBindCol/SQLGetData TargetType and
/// SQLBindParameter ValueType, and of the SQL types in SQLBindParameter ParameterType and
/// SQLGetTypeInfo DataType). The ODBC 2 codes 9, 10, 11 (SQL_C_DATE/TIME/TIMESTAMP,
/// SQL_DATE/TIME/TIMESTAMP) become 91, 92, 93 for an ODBC 3 driver (pyodbc, for one,
/// binds datetime parameters as SQL_C_TIMESTAMP/SQL_TIMESTAMP); 91, 92, 93 become 9, 10,
/// 11 for an ODBC 2 driver. The C and SQL codes are the same numbers. Everything else
/// passes unchanged (decision #128).
pub(crate) const fn datetime_for_driver(v: i16, driver_odbc3: bool) -> i16 {
    match v {
        9..=11 if driver_odbc3 => v + 82,
        91..=93 if !driver_odbc3 => v - 82,
        _ => v,
    }
}

/// HY004 unless `t` is an SQL type: a standard one (concise or verbose, intervals and the
/// ODBC 2.x date/time codes included) or a negative driver-specific one (drivers number
/// theirs below zero: SQL Server -150..-155, DB2 -95..-370). A positive unknown value
/// such as 9999 is refused.
pub(crate) fn check_sql_type(t: SqlDataType) -> Result<(), (SqlState, String)> {
    let v = t.0;
    if v < 0 || matches!(v, 1..=12 | 91..=93 | 101..=113) {
        Ok(())
    } else {
        Err((SqlState(*b"HY004"), format!("Invalid SQL data type: {v}")))
    }
}

/// HY091 for a FieldIdentifier of SQLColAttribute(s) that is in no defined range: negative,
/// or in 36..=999 (ODBC's own range has no such field). 0..=35 and 1001..=1013, 1099 are
/// the ODBC fields (2.x SQL_COLUMN_* included); 1000 and above is also where drivers put
/// their own (SQL Server 1200+), so those pass.
pub(crate) fn check_col_attr_field(f: DescField) -> Result<(), (SqlState, String)> {
    let v = f.0;
    if v < 0 || (36..1000).contains(&v) {
        Err((SqlState::INVALID_DESCRIPTOR_FIELD, format!("Invalid descriptor field identifier: {v}")))
    } else {
        Ok(())
    }
}

/// The checked length helper: a count of characters or bytes the DM passes on as a
/// SQLSMALLINT. Over `i16::MAX` it is HY090 with a message naming `what`, never a wrapped
/// negative length (issue 10 item 5).
pub(crate) fn len_i16(n: usize, what: &str) -> Result<i16, (SqlState, String)> {
    i16::try_from(n).map_err(|_| {
        (
            SqlState::INVALID_STRING_OR_BUFFER_LENGTH,
            format!("Invalid string or buffer length: {what} is {n} units long; ODBC's SQLSMALLINT length allows at most {}", i16::MAX),
        )
    })
}

/// As [`len_i16`], for a SQLINTEGER length.
pub(crate) fn len_i32(n: usize, what: &str) -> Result<i32, (SqlState, String)> {
    i32::try_from(n).map_err(|_| {
        (
            SqlState::INVALID_STRING_OR_BUFFER_LENGTH,
            format!("Invalid string or buffer length: {what} is {n} units long; ODBC's SQLINTEGER length allows at most {}", i32::MAX),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_types() {
        for t in [1, 4, -8, 99, 101, 113, -28, 0x4000, 0x7fff] {
            assert!(check_c_type(CDataType(t), CTypeUse::Param).is_ok(), "{t}");
        }
        for t in [0, 3, 6, 12, 98, 100, 114, 9999, -1, -3, -99, -100, 0x3fff] {
            assert_eq!(check_c_type(CDataType(t), CTypeUse::Param).unwrap_err().0, SqlState::INVALID_BUFFER_TYPE, "{t}");
        }
        assert!(check_c_type(CDataType::SQL_ARD_TYPE, CTypeUse::GetData).is_ok());
        assert!(check_c_type(CDataType::SQL_ARD_TYPE, CTypeUse::BindCol).is_err());
    }

    #[test]
    fn the_lanes_c_type_guard_accepts_only_what_check_c_type_accepts() {
        // §4.1 HY003: the fast lanes' guard accepts every standard type the full path
        // accepts, and nothing the full path refuses (the rest takes the full path).
        for t in i16::MIN..=i16::MAX {
            let full = check_c_type(CDataType(t), CTypeUse::GetData).is_ok();
            let lane = get_data_c_type_ok(CDataType(t));
            assert!(!lane || full, "{t}");
            assert_eq!(lane, full && (-28..=113).contains(&t), "{t}");
            // Decision #128: the date/time codes the DM maps for the driver's ODBC version
            // take the full path (9–11 on an ODBC 3 driver, 91–93 on an ODBC 2 one).
            for odbc2 in [false, true] {
                let mapped = if odbc2 { (91..=93).contains(&t) } else { (9..=11).contains(&t) };
                assert_eq!(lane_c_types(false, odbc2)[t as u16 as usize], lane && !mapped, "{t} odbc2 {odbc2}");
                // §4.1 / decision #77: an ANSI-only driver's SQL_C_WCHAR is converted on the
                // full path, so its statements' table refuses exactly that type more.
                assert_eq!(
                    lane_c_types(true, odbc2)[t as u16 as usize],
                    lane && !mapped && t != CDataType::SQL_C_WCHAR.0,
                    "{t} odbc2 {odbc2}"
                );
            }
        }
    }

    /// Decision #128 ("Datetime Data Type Changes"): 9–11 → 91–93 for an ODBC 3 driver,
    /// 91–93 → 9–11 for an ODBC 2 one, nothing else touched.
    #[test]
    fn datetime_codes_for_the_drivers_version() {
        for (v, to3, to2) in [(9, 91, 9), (10, 92, 10), (11, 93, 11), (91, 91, 9), (92, 92, 10), (93, 93, 11)] {
            assert_eq!(datetime_for_driver(v, true), to3, "{v}");
            assert_eq!(datetime_for_driver(v, false), to2, "{v}");
        }
        for v in [-8, 1, 8, 12, 90, 94, 101, 113] {
            assert_eq!(datetime_for_driver(v, true), v);
            assert_eq!(datetime_for_driver(v, false), v);
        }
    }

    #[test]
    fn sql_types_fields_lengths() {
        for t in [1, 12, 93, -1, -11, -152, 9, 113] {
            assert!(check_sql_type(SqlDataType(t)).is_ok(), "{t}");
        }
        for t in [0, 13, 90, 94, 100, 114, 9999] {
            assert_eq!(check_sql_type(SqlDataType(t)).unwrap_err().0 .0, *b"HY004", "{t}");
        }
        assert!(check_col_attr_field(DescField(1011)).is_ok());
        assert!(check_col_attr_field(DescField(1200)).is_ok());
        assert!(check_col_attr_field(DescField(500)).is_err());
        assert!(check_col_attr_field(DescField(-1)).is_err());
        assert_eq!(len_i16(32767, "x"), Ok(32767));
        assert_eq!(len_i16(32768, "x").unwrap_err().0, SqlState::INVALID_STRING_OR_BUFFER_LENGTH);
        assert_eq!(len_i32(1 << 31, "x").unwrap_err().0, SqlState::INVALID_STRING_OR_BUFFER_LENGTH);
    }
}
