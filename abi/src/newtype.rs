//! The macros that declare integer newtypes with their named constants.

/// Declares a `#[repr(transparent)]` integer newtype with C-named associated constants and
/// a table of those names (`C_CONSTANTS`), used by the header check and by traces.
#[macro_export]
macro_rules! odbc_newtype {
    ($(#[$m:meta])* pub struct $name:ident($inner:ty); $( $(#[$cm:meta])* $c:ident = $v:expr, )*) => {
        $(#[$m])*
        #[repr(transparent)]
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(pub $inner);

        #[allow(non_upper_case_globals)]
        impl $name {
            $( $(#[$cm])* pub const $c: $name = $name($v); )*
            /// Every named constant with its C name and value (first name wins for aliases).
            pub const C_CONSTANTS: &'static [(&'static str, i64)] = &[ $( (stringify!($c), $v as i64), )* ];

            /// The C name of this value, if it has one.
            pub fn name(self) -> Option<&'static str> {
                let v = self.0 as i64;
                Self::C_CONSTANTS.iter().find(|(_, x)| *x == v).map(|(n, _)| *n)
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "{}({})", stringify!($name), self.0),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Debug::fmt(self, f)
            }
        }

        impl From<$inner> for $name {
            fn from(v: $inner) -> Self { $name(v) }
        }
    };
}

/// Declares plain value constants (attribute values, bit masks) and a table of them.
#[macro_export]
macro_rules! odbc_values {
    ($table:ident; $( $c:ident : $t:ty = $v:expr, )*) => {
        $( pub const $c: $t = $v; )*
        /// Every value constant of this group with its C name.
        pub const $table: &[(&str, i64)] = &[ $( (stringify!($c), $v as i64), )* ];
    };
}
