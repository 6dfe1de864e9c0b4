//! Driver loading: one `dlopen` per driver file, an immutable entry-point table shared by
//! `Arc`, and the library kept alive for as long as the process may use it.

mod fn_table;
mod loader;

pub use fn_table::DriverFns;
pub use loader::{load_driver, Driver, LoadError};
