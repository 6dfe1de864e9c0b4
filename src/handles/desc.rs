//! The DM descriptor: an explicitly allocated one, or a wrapper for a statement's implicit
//! descriptor handed out through SQLGetStmtAttr.

use std::sync::Arc;

use crate::diag::DiagArea;

use super::gate::Gated;
use super::{Dbc, DriverLink};

/// Mutable descriptor state.
#[derive(Debug, Default)]
pub struct DescCore {
    pub diag: DiagArea,
}

/// A descriptor handle.
pub struct Desc {
    pub id: usize,
    pub dbc: Arc<Dbc>,
    pub link: Arc<DriverLink>,
    /// The driver's descriptor handle.
    pub hdesc: usize,
    /// `Some(statement id)` for a wrapper of an implicit descriptor (not freeable by the app).
    pub implicit_of: Option<usize>,
    pub gate: Gated<DescCore>,
}

impl Desc {
    /// A new, registered descriptor.
    pub fn new(dbc: Arc<Dbc>, link: Arc<DriverLink>, hdesc: usize, implicit_of: Option<usize>) -> Arc<Desc> {
        let d = Arc::new(Desc {
            id: super::tables().desc.reserve(super::table::Kind::Desc),
            dbc,
            link,
            hdesc,
            implicit_of,
            gate: Gated::new(DescCore::default()),
        });
        super::tables().desc.insert(d.id, d.clone());
        d
    }
}
