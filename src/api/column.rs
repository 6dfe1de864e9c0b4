//! Column decoding, written once for the synchronous ([`Row::get`](super::Row::get)) and the
//! asynchronous ([`AsyncStatement::get_data`](super::AsyncStatement::get_data)) API: one
//! trait, [`FromColumn`], implemented once per Rust type. The type picks its C type
//! ([`ColumnKind`]); [`getdata`](super::getdata) reads the value in that C type (in pieces
//! for long values) and the type converts the [`ColumnValue`] it gets.

use odbc_dm_abi::CDataType;

use super::error::{Error, Result};
use super::params::TextEncoding;

/// The C type a column is read as (implementation detail of [`FromColumn`]).
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnKind {
    /// `SQL_C_SBIGINT`, 8 bytes.
    I64,
    /// `SQL_C_DOUBLE`, 8 bytes.
    F64,
    /// `SQL_C_BIT`, 1 byte.
    Bit,
    /// `SQL_C_CHAR` (UTF-8) or `SQL_C_WCHAR` (UTF-16), by the connection's [`TextEncoding`].
    Text,
    /// `SQL_C_BINARY`.
    Bytes,
}

impl ColumnKind {
    /// The C type to read with in `enc`.
    pub(crate) fn c_type(self, enc: TextEncoding) -> CDataType {
        match self {
            ColumnKind::I64 => CDataType::SQL_C_SBIGINT,
            ColumnKind::F64 => CDataType::SQL_C_DOUBLE,
            ColumnKind::Bit => CDataType::SQL_C_BIT,
            ColumnKind::Text if enc == TextEncoding::Utf16 => CDataType::SQL_C_WCHAR,
            ColumnKind::Text => CDataType::SQL_C_CHAR,
            ColumnKind::Bytes => CDataType::SQL_C_BINARY,
        }
    }

    /// The size of a fixed-size C type; `None` for the variable-length ones.
    pub(crate) fn fixed_size(self) -> Option<usize> {
        match self {
            ColumnKind::I64 | ColumnKind::F64 => Some(8),
            ColumnKind::Bit => Some(1),
            ColumnKind::Text | ColumnKind::Bytes => None,
        }
    }

    /// Decodes a fixed-size value from the (native-endian) bytes the driver wrote.
    pub(crate) fn decode_fixed(self, b: [u8; 8]) -> ColumnValue {
        match self {
            ColumnKind::I64 => ColumnValue::I64(i64::from_ne_bytes(b)),
            ColumnKind::F64 => ColumnValue::F64(f64::from_ne_bytes(b)),
            ColumnKind::Bit => ColumnValue::Bit(b[0] != 0),
            ColumnKind::Text | ColumnKind::Bytes => unreachable!("decode_fixed on a variable-length kind"),
        }
    }
}

/// A column value as read (implementation detail of [`FromColumn`]).
#[doc(hidden)]
#[derive(Debug)]
pub enum ColumnValue {
    Null,
    I64(i64),
    F64(f64),
    Bit(bool),
    Text(String),
    Bytes(Vec<u8>),
}

/// A Rust type a column can be read into, with [`Row::get`](super::Row::get) and
/// [`AsyncStatement::get_data`](super::AsyncStatement::get_data) alike.
///
/// Implemented for `i64` (`SQL_C_SBIGINT`), `i32` (`SQL_C_SBIGINT`, then checked: a value
/// outside the `i32` range is an [`Error::Usage`], never a wrapped number — SQLite ODBC and
/// psqlODBC wrap silently when asked for `SQL_C_SLONG`), `f64` (`SQL_C_DOUBLE`), `bool`
/// (`SQL_C_BIT`), `String` (the connection's [`TextEncoding`]: `SQL_C_CHAR` UTF-8 or
/// `SQL_C_WCHAR` UTF-16), `Vec<u8>` (`SQL_C_BINARY`) and `Option<T>` of those (`None` for
/// NULL).
pub trait FromColumn: Sized + Send + 'static {
    #[doc(hidden)]
    const KIND: ColumnKind;
    #[doc(hidden)]
    fn from_value(v: ColumnValue, col: u16) -> Result<Self>;
}

/// The former name of [`FromColumn`] in the asynchronous API, kept as an alias.
#[deprecated(note = "use FromColumn, the one column trait of the sync and async APIs")]
pub trait AsyncColumn: FromColumn {}

#[allow(deprecated)]
impl<T: FromColumn> AsyncColumn for T {}

macro_rules! from_column {
    ($t:ty, $kind:ident) => {
        impl FromColumn for $t {
            const KIND: ColumnKind = ColumnKind::$kind;
            fn from_value(v: ColumnValue, col: u16) -> Result<Self> {
                match v {
                    ColumnValue::$kind(v) => Ok(v),
                    ColumnValue::Null => Err(Error::UnexpectedNull { column: col }),
                    other => Err(Error::Internal(format!("column {col}: unexpected value {other:?}"))),
                }
            }
        }
    };
}

from_column!(i64, I64);
from_column!(f64, F64);
from_column!(bool, Bit);
from_column!(String, Text);
from_column!(Vec<u8>, Bytes);

impl FromColumn for i32 {
    const KIND: ColumnKind = ColumnKind::I64;
    fn from_value(v: ColumnValue, col: u16) -> Result<Self> {
        let v = i64::from_value(v, col)?;
        i32::try_from(v).map_err(|_| Error::Usage(format!("column {col}: {v} does not fit an i32")))
    }
}

impl<T: FromColumn> FromColumn for Option<T> {
    const KIND: ColumnKind = T::KIND;
    fn from_value(v: ColumnValue, col: u16) -> Result<Self> {
        match v {
            ColumnValue::Null => Ok(None),
            v => T::from_value(v, col).map(Some),
        }
    }
}
