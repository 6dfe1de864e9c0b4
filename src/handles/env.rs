//! The DM environment. It never reaches a driver: each connection gets its own driver
//! environment at connect time, so environment attributes are pure DM state.

use std::sync::Arc;

use crate::diag::DiagArea;

use super::gate::Gated;

/// Mutable environment state.
#[derive(Debug, Default)]
pub struct EnvCore {
    /// SQL_ATTR_ODBC_VERSION; `None` until the application sets it (E1, §4.2).
    pub odbc_version: Option<u32>,
    pub connection_pooling: u32,
    pub cp_match: u32,
    pub output_nts: i32,
    pub diag: DiagArea,
    /// Live connections allocated on this environment (ids).
    pub connections: Vec<usize>,
    /// Cursor positions of SQLDataSources and SQLDrivers.
    pub dsn_cursor: usize,
    pub driver_cursor: usize,
}

/// An environment handle.
pub struct Env {
    pub id: usize,
    pub gate: Gated<EnvCore>,
}

impl Env {
    /// A new, registered environment.
    pub fn new() -> Arc<Env> {
        super::read_lane_switch();
        let env = Arc::new(Env {
            id: super::tables().env.reserve(super::table::Kind::Env),
            gate: Gated::new(EnvCore { output_nts: 1, ..Default::default() }),
        });
        super::tables().env.insert(env.id, env.clone());
        env
    }
}
