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
mod env;
mod stmt;

use std::sync::{Arc, LazyLock};

pub use dbc::{AsyncCaps, AttrValue, Dbc, DbcCore, DbcPost, DriverLink};
pub use desc::{Desc, DescCore};
pub use env::{Env, EnvCore};
pub use stmt::{Stmt, StmtCore};
use table::HandleTable;

/// The process-wide handle tables.
pub struct Tables {
    pub env: HandleTable<Env>,
    pub dbc: HandleTable<Dbc>,
    pub stmt: HandleTable<Stmt>,
    pub desc: HandleTable<Desc>,
}

static TABLES: LazyLock<Tables> = LazyLock::new(|| Tables {
    env: HandleTable::default(),
    dbc: HandleTable::default(),
    stmt: HandleTable::default(),
    desc: HandleTable::default(),
});

/// The handle tables.
#[inline]
pub fn tables() -> &'static Tables {
    &TABLES
}

/// Looks up a live environment.
#[inline]
pub fn env(h: odbc_dm_abi::SqlHandle) -> Option<Arc<Env>> {
    TABLES.env.get(h as usize)
}

thread_local! {
    static DBC_CACHE: table::LookupCache<Dbc> = const { table::LookupCache::new() };
    static STMT_CACHE: table::LookupCache<Stmt> = const { table::LookupCache::new() };
}

/// Looks up a live connection (through this thread's one-entry cache).
#[inline(always)]
pub fn dbc(h: odbc_dm_abi::SqlHandle) -> Option<Arc<Dbc>> {
    let t = &TABLES.dbc;
    DBC_CACHE.try_with(|c| c.get(t, h as usize)).unwrap_or_else(|_| t.get(h as usize))
}

/// Looks up a live statement (through this thread's one-entry cache).
#[inline(always)]
pub fn stmt(h: odbc_dm_abi::SqlHandle) -> Option<Arc<Stmt>> {
    let t = &TABLES.stmt;
    STMT_CACHE.try_with(|c| c.get(t, h as usize)).unwrap_or_else(|_| t.get(h as usize))
}

/// Runs `f` on a statement found in this thread's lookup cache, without a reference-count
/// round trip (the fast lane). `None`: not cached; use [`stmt`].
#[inline(always)]
pub fn with_cached_stmt<R>(h: odbc_dm_abi::SqlHandle, f: impl FnOnce(&Arc<Stmt>) -> R) -> Option<R> {
    let t = &TABLES.stmt;
    STMT_CACHE.try_with(|c| c.with_cached(t, h as usize, f)).ok().flatten()
}

/// As [`with_cached_stmt`], for connections.
#[inline(always)]
pub fn with_cached_dbc<R>(h: odbc_dm_abi::SqlHandle, f: impl FnOnce(&Arc<Dbc>) -> R) -> Option<R> {
    let t = &TABLES.dbc;
    DBC_CACHE.try_with(|c| c.with_cached(t, h as usize, f)).ok().flatten()
}

/// Looks up a live descriptor.
#[inline]
pub fn desc(h: odbc_dm_abi::SqlHandle) -> Option<Arc<Desc>> {
    TABLES.desc.get(h as usize)
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
