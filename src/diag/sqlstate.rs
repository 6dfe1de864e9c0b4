//! SQLSTATE values as named constants.

/// A five-character SQLSTATE.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SqlState(pub [u8; 5]);

macro_rules! states {
    ($( $(#[$m:meta])* $name:ident = $s:literal, )*) => {
        impl SqlState {
            $( $(#[$m])* pub const $name: SqlState = SqlState(*$s); )*
        }
    };
}

states! {
    /// General warning.
    GENERAL_WARNING = b"01000",
    /// Cursor operation conflict (§5.3).
    CURSOR_OPERATION_CONFLICT = b"01001",
    /// String data, right truncated.
    STRING_TRUNCATED = b"01004",
    /// Option value changed.
    OPTION_VALUE_CHANGED = b"01S02",
    /// Client unable to establish connection.
    CONNECTION_FAILED = b"08001",
    /// Connection name in use.
    CONNECTION_IN_USE = b"08002",
    /// Connection not open.
    CONNECTION_NOT_OPEN = b"08003",
    /// String data, right truncated (an error: the data cannot be sent whole).
    STRING_DATA_RIGHT_TRUNCATED = b"22001",
    /// String data, length mismatch.
    STRING_LENGTH_MISMATCH = b"22026",
    /// Invalid cursor state.
    INVALID_CURSOR_STATE = b"24000",
    /// Invalid transaction state.
    INVALID_TRANSACTION_STATE = b"25000",
    /// General error.
    GENERAL_ERROR = b"HY000",
    /// Memory allocation error.
    MEMORY_ALLOCATION = b"HY001",
    /// Invalid application buffer type.
    INVALID_BUFFER_TYPE = b"HY003",
    /// Operation canceled.
    OPERATION_CANCELED = b"HY008",
    /// Invalid use of null pointer.
    INVALID_NULL_POINTER = b"HY009",
    /// Function sequence error.
    FUNCTION_SEQUENCE_ERROR = b"HY010",
    /// Attribute cannot be set now.
    ATTRIBUTE_CANNOT_BE_SET_NOW = b"HY011",
    /// Invalid transaction operation code.
    INVALID_TRANSACTION_OPCODE = b"HY012",
    /// Invalid attribute value.
    INVALID_ATTRIBUTE_VALUE = b"HY024",
    /// Invalid string or buffer length.
    INVALID_STRING_OR_BUFFER_LENGTH = b"HY090",
    /// Invalid descriptor field identifier.
    INVALID_DESCRIPTOR_FIELD = b"HY091",
    /// Invalid attribute/option identifier.
    INVALID_ATTRIBUTE_IDENTIFIER = b"HY092",
    /// Function type out of range.
    FUNCTION_TYPE_OUT_OF_RANGE = b"HY095",
    /// Information type out of range.
    INFO_TYPE_OUT_OF_RANGE = b"HY096",
    /// Fetch type out of range.
    FETCH_TYPE_OUT_OF_RANGE = b"HY106",
    /// Invalid driver completion.
    INVALID_DRIVER_COMPLETION = b"HY110",
    /// Connection does not support connection-level asynchronous execution.
    NO_DBC_ASYNC = b"HY114",
    /// SQLEndTran not allowed for an environment with dbc-async connections.
    END_TRAN_ENV_WITH_DBC_ASYNC = b"HY115",
    /// Connection is in a suspended state.
    CONNECTION_SUSPENDED = b"HY117",
    /// Optional feature not implemented.
    NOT_IMPLEMENTED = b"HYC00",
    /// Timeout expired.
    TIMEOUT_EXPIRED = b"HYT00",
    /// Connection timeout expired.
    CONNECTION_TIMEOUT = b"HYT01",
    /// Driver does not support this function.
    DRIVER_LACKS_FUNCTION = b"IM001",
    /// Data source name not found and no default driver specified.
    DSN_NOT_FOUND = b"IM002",
    /// Specified driver could not be loaded.
    DRIVER_LOAD_FAILED = b"IM003",
    /// Driver's SQLAllocHandle on SQL_HANDLE_ENV failed.
    DRIVER_ENV_ALLOC_FAILED = b"IM004",
    /// Driver's SQLAllocHandle on SQL_HANDLE_DBC failed.
    DRIVER_DBC_ALLOC_FAILED = b"IM005",
    /// Driver's SQLSetConnectAttr failed.
    DRIVER_SET_CONNECT_ATTR_FAILED = b"IM006",
    /// Invalid connection string attribute.
    INVALID_CONN_STR_ATTRIBUTE = b"IM012",
    /// Statement attribute set on a connection handle (§2.2).
    STMT_ATTR_ON_DBC = b"IM016",
    /// Polling is disabled in asynchronous notification mode (§2.11).
    POLLING_IN_NOTIFICATION_MODE = b"IM017",
    /// SQLCompleteAsync has not been called to complete the previous operation (§2.11).
    COMPLETE_ASYNC_NOT_CALLED = b"IM018",
    /// The driver does not support asynchronous notification (§2.3).
    NO_ASYNC_NOTIFICATION = b"S1118",
    /// Cursor library and notification are incompatible (§2.15).
    CURSOR_LIBRARY_WITH_NOTIFICATION = b"S1119",
}

impl SqlState {
    /// Parses the first five bytes of `s`; anything shorter becomes `HY000`.
    pub fn from_bytes(s: &[u8]) -> SqlState {
        let mut a = *b"HY000";
        if s.len() >= 5 {
            a.copy_from_slice(&s[..5]);
        }
        SqlState(a)
    }

    /// The state as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("HY000")
    }

    /// SQL_DIAG_CLASS_ORIGIN for this state: "ODBC 3.0" for the ODBC-specific classes (IM,
    /// and ODBC 2's S1), "ISO 9075" for every class the ISO call-level interface defines,
    /// HY included (SQLGetDiagField, SQL_DIAG_CLASS_ORIGIN).
    pub fn class_origin(&self) -> &'static str {
        match &self.0[..2] {
            b"IM" | b"S1" => "ODBC 3.0",
            _ => "ISO 9075",
        }
    }

    /// SQL_DIAG_SUBCLASS_ORIGIN: "ODBC 3.0" for the ODBC-specific subclasses the
    /// specification lists (SQLGetDiagField, SQL_DIAG_SUBCLASS_ORIGIN) and the ODBC-specific
    /// classes; "ISO 9075" otherwise (HY000, HY010, HY024 … are ISO's).
    pub fn subclass_origin(&self) -> &'static str {
        const ODBC_SUBCLASSES: &[&[u8; 5]] = &[
            b"01S00", b"01S01", b"01S02", b"01S06", b"01S07", b"07S01", b"08S01", b"21S01", b"21S02", b"25S01", b"25S02", b"25S03",
            b"42S01", b"42S02", b"42S11", b"42S12", b"42S21", b"42S22", b"HY095", b"HY097", b"HY098", b"HY099", b"HY100", b"HY101",
            b"HY105", b"HY107", b"HY109", b"HY110", b"HY111", b"HYT00", b"HYT01", b"IM001", b"IM002", b"IM003", b"IM004", b"IM005",
            b"IM006", b"IM007", b"IM008", b"IM010", b"IM011", b"IM012",
        ];
        if ODBC_SUBCLASSES.contains(&&self.0) || self.class_origin() == "ODBC 3.0" {
            "ODBC 3.0"
        } else {
            "ISO 9075"
        }
    }
}

impl std::fmt::Debug for SqlState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for SqlState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl SqlState {
    /// The state an application of ODBC version `app_version` (SQL_ATTR_ODBC_VERSION) is
    /// given (Microsoft's "SQLSTATE Mappings", docs/decisions.md #97): an ODBC 2
    /// application gets the 2.x form of a 3.x state ([`SqlState::to_odbc2`]), an ODBC 3(.8)
    /// application the 3.x form of a 2.x one ([`SqlState::to_odbc3`]), whoever posted it
    /// (the DM, an ODBC 3 driver, an ODBC 2 driver).
    pub fn for_app(self, app_version: u32) -> SqlState {
        if app_version == odbc_dm_abi::SQL_OV_ODBC2 {
            self.to_odbc2()
        } else {
            self.to_odbc3()
        }
    }

    /// 3.x → 2.x. Only states that ODBC 2 did not have are changed; one 3.x state that had
    /// several 2.x forms takes the most common one (07009 → S1002, the column-number form;
    /// the parameter functions' S1093 is not told apart).
    pub fn to_odbc2(self) -> SqlState {
        let s = &self.0;
        let mapped: &[u8; 5] = match s {
            b"01001" => b"01S03",
            b"07005" => b"24000",
            b"07009" => b"S1002",
            b"22007" => b"22008",
            b"22018" => b"22005",
            b"42000" => b"37000",
            b"HY007" => b"S1010",
            b"HY018" => b"70100",
            b"HY019" => b"22003",
            b"HY024" => b"S1009",
            b"HYT01" => b"S1T00",
            _ if &s[..3] == b"42S" => return SqlState([b'S', b'0', b'0', s[3], s[4]]),
            _ if &s[..2] == b"HY" => return SqlState([b'S', b'1', s[2], s[3], s[4]]),
            _ => return self,
        };
        SqlState(*mapped)
    }

    /// 2.x → 3.x. Only states that exist in ODBC 2 alone are changed (22003, 22005, 22008
    /// and 24000 are 3.x states too and stay); S1118 and S1119 are ODBC 3.8 states and stay.
    pub fn to_odbc3(self) -> SqlState {
        let s = &self.0;
        let mapped: &[u8; 5] = match s {
            b"01S03" | b"01S04" => b"01001",
            b"37000" => b"42000",
            b"70100" => b"HY018",
            b"S1002" | b"S1093" => b"07009",
            b"S1118" | b"S1119" => return self,
            _ if &s[..3] == b"S00" => return SqlState([b'4', b'2', b'S', s[3], s[4]]),
            _ if &s[..2] == b"S1" => return SqlState([b'H', b'Y', s[2], s[3], s[4]]),
            _ => return self,
        };
        SqlState(*mapped)
    }
}

#[cfg(test)]
mod mapping_tests {
    use super::SqlState;

    fn st(s: &str) -> SqlState {
        SqlState::from_bytes(s.as_bytes())
    }

    /// Microsoft's "SQLSTATE Mappings" table, both directions (docs/decisions.md #97).
    #[test]
    fn odbc2_and_odbc3_sqlstates_map_both_ways() {
        for (v3, v2) in [
            ("HY000", "S1000"),
            ("HY009", "S1009"),
            ("HY010", "S1010"),
            ("HYC00", "S1C00"),
            ("HYT00", "S1T00"),
            ("42S02", "S0002"),
            ("42S22", "S0022"),
            ("42000", "37000"),
            ("07009", "S1002"),
            ("01001", "01S03"),
            ("HY018", "70100"),
        ] {
            assert_eq!(st(v3).to_odbc2().as_str(), v2, "{v3} for an ODBC 2 application");
            assert_eq!(st(v2).to_odbc3().as_str(), v3, "{v2} for an ODBC 3 application");
        }
        assert_eq!(st("S1093").to_odbc3().as_str(), "07009");
        assert_eq!(st("HY024").to_odbc2().as_str(), "S1009");
        // Shared by both versions, or the DM's 3.8 states: unchanged.
        for same in ["22003", "24000", "08001", "01004", "IM001", "S1118", "S1119", "HY008"] {
            assert_eq!(st(same).to_odbc3(), st(same), "{same}");
        }
        for same in ["22003", "24000", "08001", "01004", "IM001", "S1000"] {
            assert_eq!(st(same).to_odbc2(), st(same), "{same}");
        }
        assert_eq!(st("HY000").for_app(odbc_dm_abi::SQL_OV_ODBC2).as_str(), "S1000");
        assert_eq!(st("S1000").for_app(odbc_dm_abi::SQL_OV_ODBC3).as_str(), "HY000");
        assert_eq!(st("S0002").for_app(odbc_dm_abi::SQL_OV_ODBC3_80).as_str(), "42S02");
    }
}
