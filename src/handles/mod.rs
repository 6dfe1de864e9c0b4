//! DM handle objects (environment, connection, statement, descriptor), the tables that map
//! application handle values to them, and their state machines (§4).
//!
//! Every object is `Send + Sync`: its mutable state lives behind its call gate
//! ([`gate::Gated`]), and the driver handles it owns are plain integers that the driver
//! itself must accept from any thread (§3.1).

pub mod conn_state;
pub mod gate;
pub mod stmt_state;
pub mod table;

mod dbc;
mod desc;
mod diag_pull;
mod env;
mod stmt;
pub mod wchar;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub use dbc::{AsyncCaps, AsyncEmulation, AttrValue, Dbc, DbcAsync, DbcCore, DbcPost, DriverLink, DBC_HAS_A, DBC_HAS_W};
pub use desc::{Desc, DescCore, DescUsers};
pub(crate) use diag_pull::pull_driver_diags;
pub use env::{Env, EnvCore};
pub(crate) use stmt::driver_has_result;
pub use stmt::{this_thread, Odbc2Block, Stmt, StmtCore};
pub use table::HandleTable;
pub use table::{LanePin, Lent, SlotPins};

/// The process-wide handle tables (slabs of type-stable slots, see `table`).
pub struct Tables {
    pub env: HandleTable<Env>,
    pub dbc: HandleTable<Dbc>,
    pub stmt: HandleTable<Stmt>,
    pub desc: HandleTable<Desc>,
}

static TABLES: Tables = Tables { env: HandleTable::new(), dbc: HandleTable::new(), stmt: HandleTable::new(), desc: HandleTable::new() };

/// The handle tables.
pub fn tables() -> &'static Tables {
    &TABLES
}

/// The async engine's lookup of a DM handle by its target (registered with
/// `async_engine::host::register_resolver`).
pub fn async_host(t: crate::async_engine::Target) -> Option<Arc<dyn crate::async_engine::AsyncHost>> {
    match t.kind {
        odbc_dm_abi::HandleType::SQL_HANDLE_STMT => TABLES.stmt.get(t.handle).map(|s| s as Arc<dyn crate::async_engine::AsyncHost>),
        odbc_dm_abi::HandleType::SQL_HANDLE_DBC => TABLES.dbc.get(t.handle).map(|d| d as Arc<dyn crate::async_engine::AsyncHost>),
        _ => None,
    }
}

/// Looks up a live environment.
pub fn env(h: odbc_dm_abi::SqlHandle) -> Option<Arc<Env>> {
    TABLES.env.get(h as usize)
}

/// Looks up a live connection.
pub fn dbc(h: odbc_dm_abi::SqlHandle) -> Option<Arc<Dbc>> {
    TABLES.dbc.get(h as usize)
}

/// Looks up a live statement.
pub fn stmt(h: odbc_dm_abi::SqlHandle) -> Option<Arc<Stmt>> {
    TABLES.stmt.get(h as usize)
}

/// Looks up a live descriptor.
pub fn desc(h: odbc_dm_abi::SqlHandle) -> Option<Arc<Desc>> {
    TABLES.desc.get(h as usize)
}

/// The statement table (the fast lanes: `HandleTable::lend`, `release_id`).
#[inline(always)]
pub fn stmt_table() -> &'static HandleTable<Stmt> {
    &TABLES.stmt
}

/// The connection table (the SQLGetInfo lane).
#[inline(always)]
pub fn dbc_table() -> &'static HandleTable<Dbc> {
    &TABLES.dbc
}

/// The fast lanes are off (docs/decisions.md #68): every call takes the full path. Set
/// from `ODBC_DM_FAST_LANES=0` when the first environment is allocated, or by
/// [`set_fast_lanes`] (tests). Read where a call would publish a summary (`gate`), not in
/// the lanes: with no summary published, a lane's compare-and-swap never succeeds.
static LANES_OFF: AtomicBool = AtomicBool::new(false);

/// Reads `ODBC_DM_FAST_LANES` once (at the first environment allocation).
pub(crate) fn read_lane_switch() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("ODBC_DM_FAST_LANES").is_some_and(|v| v == "0") {
            LANES_OFF.store(true, Ordering::Relaxed);
        }
    });
}

/// Turns the fast lanes on or off for the whole process (the lanes-on vs lanes-off
/// differential test). Off takes effect for each handle at its next full-path call (a
/// summary already published stays until then).
pub fn set_fast_lanes(on: bool) {
    LANES_OFF.store(!on, Ordering::Relaxed);
}

/// Whether the fast lanes are on.
pub fn fast_lanes() -> bool {
    !LANES_OFF.load(Ordering::Relaxed)
}

/// Whether a call that ends cleanly may publish its handle's fast-lane summary: the lanes
/// are on and call tracing may not be (decision #103). Both are read here, at
/// publication, instead of in every lane: a lane runs only on a published summary, so a
/// traced process never takes one once each handle has made one full-path call after the
/// tracing was switched on.
#[inline]
pub(crate) fn may_publish() -> bool {
    fast_lanes() && !crate::trace::maybe_enabled()
}

#[cfg(test)]
mod tests {
    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn handle_objects_are_send_and_sync() {
        // §3.1: a handle may be used from several threads.
        assert_send_sync::<super::Env>();
        assert_send_sync::<super::Dbc>();
        assert_send_sync::<super::Stmt>();
        assert_send_sync::<super::Desc>();
    }
}
