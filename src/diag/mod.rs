//! Diagnostics: SQLSTATEs as named constants, diagnostic records, and the per-handle area
//! that merges the DM's records with the driver's, in order, cleared at each new call.

mod area;
mod sqlstate;

pub use area::{DiagArea, DiagRecord, Origin};
pub use sqlstate::SqlState;
