//! Statement parameters.
//!
//! A parameter is anything implementing [`Param`]: `i32`, `i64`, `f64`, `bool`, `&str`,
//! `String`, `&[u8]`, `Vec<u8>`, `Option<T>` (None is NULL), [`LongText`] and [`Streamed`]
//! (both sent at execution time with `SQLParamData` / `SQLPutData`), or a ready
//! [`ParamValue`]. A parameter list is anything implementing [`Params`]: `()`, a tuple of
//! up to 12 parameters, an array `[T; N]`, or a `Vec<ParamValue>`.
//!
//! Values are copied into buffers owned by the statement and bound with
//! `SQLBindParameter`; they stay alive until the next execution of that statement or until
//! it is freed, so drivers that read parameters lazily (while fetching) see valid memory.
//!
//! **Text** is bound in the connection's [`TextEncoding`]: UTF-8 as `SQL_C_CHAR` (the
//! default; the DM's narrow convention, and what Linux drivers such as SQLite ODBC and
//! psqlODBC's Unicode-in-UTF-8 setups expect) or UTF-16 as `SQL_C_WCHAR`
//! ([`Connection::set_text_encoding`](super::Connection::set_text_encoding)).

use std::io::Read;

use odbc_dm_abi::SqlDataType;

/// How text data (parameters and `String` columns) travels between the API and the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TextEncoding {
    /// UTF-8 in `SQL_C_CHAR` buffers (the default).
    #[default]
    Utf8,
    /// UTF-16 in `SQL_C_WCHAR` buffers.
    Utf16,
}

/// The SQL type a NULL parameter is declared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NullKind {
    /// `SQL_INTEGER`.
    Integer,
    /// `SQL_BIGINT`.
    BigInt,
    /// `SQL_DOUBLE`.
    Double,
    /// `SQL_BIT`.
    Bit,
    /// `SQL_VARCHAR` (or `SQL_WVARCHAR` in UTF-16 mode).
    Text,
    /// `SQL_VARBINARY`.
    Binary,
}

/// Text sent at execution time in chunks (`SQL_DATA_AT_EXEC` + `SQLPutData`), for values
/// too large to bind in one buffer comfortably or for drivers that limit bound lengths.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LongText(pub String);

/// A reader sent at execution time in chunks (`SQLParamData` + `SQLPutData`).
///
/// Without a length it is bound with `SQL_DATA_AT_EXEC`; with [`Streamed::with_len`] it
/// announces its total length (`SQL_LEN_DATA_AT_EXEC(len)`). Some drivers need the length
/// to handle the value: SQLite ODBC 0.9998 stores an unannounced value as empty and answers
/// its second `SQLPutData` with HY010. Prefer `with_len` whenever the length is known.
pub struct Streamed {
    pub(crate) reader: Box<dyn Read + Send>,
    pub(crate) text: bool,
    pub(crate) len: Option<usize>,
}

impl Streamed {
    /// Binary data (`SQL_C_BINARY` → `SQL_LONGVARBINARY`).
    pub fn binary(reader: impl Read + Send + 'static) -> Self {
        Streamed { reader: Box::new(reader), text: false, len: None }
    }

    /// UTF-8 text (`SQL_C_CHAR` → `SQL_LONGVARCHAR`); sent as bytes in either
    /// [`TextEncoding`].
    pub fn text(reader: impl Read + Send + 'static) -> Self {
        Streamed { reader: Box::new(reader), text: true, len: None }
    }

    /// Announces the total length in bytes. The reader must yield exactly that many bytes
    /// (it is not read beyond them; a shorter reader sends fewer).
    pub fn with_len(mut self, len: usize) -> Self {
        self.len = Some(len);
        self
    }
}

impl std::fmt::Debug for Streamed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Streamed").field("text", &self.text).field("len", &self.len).finish_non_exhaustive()
    }
}

/// One parameter value, owned.
#[derive(Debug)]
pub enum ParamValue {
    /// NULL of the given SQL type.
    Null(NullKind),
    /// `SQL_C_SLONG` → `SQL_INTEGER`.
    I32(i32),
    /// `SQL_C_SBIGINT` → `SQL_BIGINT`.
    I64(i64),
    /// `SQL_C_DOUBLE` → `SQL_DOUBLE`.
    F64(f64),
    /// `SQL_C_BIT` → `SQL_BIT`.
    Bool(bool),
    /// Text, bound in the connection's [`TextEncoding`].
    Text(String),
    /// `SQL_C_BINARY` → `SQL_VARBINARY` (`SQL_LONGVARBINARY` above 8000 bytes).
    Binary(Vec<u8>),
    /// Text sent at execution time.
    LongText(String),
    /// A reader sent at execution time.
    Streamed(Streamed),
}

/// A value usable as a statement parameter.
pub trait Param {
    /// The owned value to bind.
    fn into_param(self) -> ParamValue;
    /// The SQL type of a NULL of this type (`None::<Self>`).
    fn null_kind() -> NullKind
    where
        Self: Sized;
}

macro_rules! param {
    ($t:ty, $kind:ident, |$v:ident| $e:expr) => {
        impl Param for $t {
            fn into_param(self) -> ParamValue {
                let $v = self;
                $e
            }
            fn null_kind() -> NullKind {
                NullKind::$kind
            }
        }
    };
}

param!(i32, Integer, |v| ParamValue::I32(v));
param!(i64, BigInt, |v| ParamValue::I64(v));
param!(f64, Double, |v| ParamValue::F64(v));
param!(bool, Bit, |v| ParamValue::Bool(v));
param!(&str, Text, |v| ParamValue::Text(v.to_owned()));
param!(String, Text, |v| ParamValue::Text(v));
param!(&String, Text, |v| ParamValue::Text(v.clone()));
param!(&[u8], Binary, |v| ParamValue::Binary(v.to_vec()));
param!(Vec<u8>, Binary, |v| ParamValue::Binary(v));
param!(&Vec<u8>, Binary, |v| ParamValue::Binary(v.clone()));
param!(LongText, Text, |v| ParamValue::LongText(v.0));
param!(Streamed, Binary, |v| ParamValue::Streamed(v));

impl Param for ParamValue {
    fn into_param(self) -> ParamValue {
        self
    }
    fn null_kind() -> NullKind {
        NullKind::Text
    }
}

impl<T: Param> Param for Option<T> {
    fn into_param(self) -> ParamValue {
        match self {
            Some(v) => v.into_param(),
            None => ParamValue::Null(T::null_kind()),
        }
    }
    fn null_kind() -> NullKind {
        T::null_kind()
    }
}

/// A list of parameters, bound to markers 1, 2, … in order.
pub trait Params {
    /// The owned values, in marker order.
    fn into_values(self) -> Vec<ParamValue>;
}

impl Params for () {
    fn into_values(self) -> Vec<ParamValue> {
        Vec::new()
    }
}

impl Params for Vec<ParamValue> {
    fn into_values(self) -> Vec<ParamValue> {
        self
    }
}

impl<T: Param, const N: usize> Params for [T; N] {
    fn into_values(self) -> Vec<ParamValue> {
        self.into_iter().map(Param::into_param).collect()
    }
}

macro_rules! tuple_params {
    ($($name:ident)+) => {
        impl<$($name: Param),+> Params for ($($name,)+) {
            #[allow(non_snake_case)]
            fn into_values(self) -> Vec<ParamValue> {
                let ($($name,)+) = self;
                vec![$($name.into_param()),+]
            }
        }
    };
}

tuple_params!(A);
tuple_params!(A B);
tuple_params!(A B C);
tuple_params!(A B C D);
tuple_params!(A B C D E);
tuple_params!(A B C D E F);
tuple_params!(A B C D E F G);
tuple_params!(A B C D E F G H);
tuple_params!(A B C D E F G H I);
tuple_params!(A B C D E F G H I J);
tuple_params!(A B C D E F G H I J K);
tuple_params!(A B C D E F G H I J K L);

impl NullKind {
    pub(crate) fn sql_type(self, enc: TextEncoding) -> SqlDataType {
        match self {
            NullKind::Integer => SqlDataType::SQL_INTEGER,
            NullKind::BigInt => SqlDataType::SQL_BIGINT,
            NullKind::Double => SqlDataType::SQL_DOUBLE,
            NullKind::Bit => SqlDataType::SQL_BIT,
            NullKind::Text if enc == TextEncoding::Utf16 => SqlDataType::SQL_WVARCHAR,
            NullKind::Text => SqlDataType::SQL_VARCHAR,
            NullKind::Binary => SqlDataType::SQL_VARBINARY,
        }
    }
}
