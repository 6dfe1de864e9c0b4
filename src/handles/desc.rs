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
    /// An explicit descriptor's statements: those it is set on as ARD or APD (a freed
    /// explicit descriptor's statements revert to their implicit ones). A leaf lock, never
    /// held across a driver call.
    pub users: std::sync::Mutex<DescUsers>,
}

/// The statements an explicit descriptor is associated with (see [`Desc::users`]).
#[derive(Debug, Default)]
pub struct DescUsers {
    /// Statement ids (possibly stale: each is checked against the statement's own record).
    pub stmts: Vec<usize>,
    /// SQLFreeHandle has begun on the descriptor: no statement may take it any more, and
    /// no SQLCopyDesc may read it.
    pub freeing: bool,
    /// SQLCopyDesc calls reading this descriptor as their source right now (they hold the
    /// target's call, not this one's): SQLFreeHandle waits for them before the driver
    /// frees the handle.
    pub pins: u32,
}

impl Desc {
    /// The users record (a poisoned lock is still usable: the record stays consistent).
    pub fn users(&self) -> std::sync::MutexGuard<'_, DescUsers> {
        self.users.lock().unwrap_or_else(|p| p.into_inner())
    }
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
            users: Default::default(),
        });
        super::tables().desc.insert(d.id, d.clone());
        d
    }
}
