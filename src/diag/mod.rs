//! Diagnostics: SQLSTATEs as named constants, diagnostic records, and the per-handle area
//! that merges the DM's records with the driver's, in order, cleared at each new call.

mod area;
mod sqlstate;

pub use area::{DiagArea, DiagRecord, Origin, COLUMN_NUMBER_UNKNOWN, NO_COLUMN_NUMBER, NO_ROW_NUMBER, ROW_NUMBER_UNKNOWN};
pub use sqlstate::SqlState;
