//! Driver loading: one `dlopen` per driver file, an immutable entry-point table shared by
//! `Arc`, and the library kept alive for as long as the process may use it.

mod fn_table;
mod loader;
pub mod serialize;

pub use fn_table::DriverFns;
pub(crate) use loader::load_driver_with;
pub use loader::{load_driver, Driver, LoadError};
pub use serialize::Threading;
