//! The ODBC C ABI as odbc-dm and its reference driver see it, written out by hand:
//! `#[repr(transparent)]` integer newtypes with C-named associated constants, plain value
//! constants, and one `unsafe extern "C" fn` pointer type per entry point.
//!
//! Deliberately not `odbc-sys`: that crate links `-lodbc`, uses closed enums (undefined
//! behaviour when a caller passes an unknown value) and lacks the notification SPI.

pub mod consts;
pub mod fns;
mod newtype;
pub mod types;

pub use consts::*;
pub use types::*;
