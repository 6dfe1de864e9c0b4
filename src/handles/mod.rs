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

use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, LazyLock};

pub use dbc::{AsyncCaps, AsyncEmulation, AttrValue, Dbc, DbcAsync, DbcCore, DbcPost, DriverLink, DBC_HAS_A, DBC_HAS_W};
pub use desc::{Desc, DescCore};
pub(crate) use diag_pull::pull_driver_diags;
pub use env::{Env, EnvCore};
pub(crate) use stmt::driver_has_result;
pub use stmt::{this_thread, Stmt, StmtCore};
pub use table::Lent;
use table::{HandleTable, Keep, LookupCache};

/// The process-wide handle tables.
pub struct Tables {
    pub env: HandleTable<Env>,
    pub dbc: HandleTable<Dbc>,
    pub stmt: HandleTable<Stmt>,
    pub desc: HandleTable<Desc>,
}

static TABLES: LazyLock<Tables> = LazyLock::new(|| Tables {
    env: HandleTable::new(&ENV_EPOCH),
    dbc: HandleTable::new(&DBC_EPOCH),
    stmt: HandleTable::new(&STMT_EPOCH),
    desc: HandleTable::new(&DESC_EPOCH),
});

/// The tables' removal epochs (see `table::LookupCache`).
static ENV_EPOCH: AtomicUsize = AtomicUsize::new(0);
static DBC_EPOCH: AtomicUsize = AtomicUsize::new(0);
static STMT_EPOCH: AtomicUsize = AtomicUsize::new(0);
static DESC_EPOCH: AtomicUsize = AtomicUsize::new(0);

/// The handle tables.
#[inline]
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
#[inline]
pub fn env(h: odbc_dm_abi::SqlHandle) -> Option<Arc<Env>> {
    TABLES.env.get(h as usize)
}

thread_local! {
    static DBC_CACHE: LookupCache<Dbc> = const { LookupCache::new() };
    static STMT_CACHE: LookupCache<Stmt> = const { LookupCache::new() };
    static DBC_KEEP: Keep<Dbc> = const { Keep::new(|| DBC_CACHE.with(LookupCache::clear)) };
    static STMT_KEEP: Keep<Stmt> = const { Keep::new(|| STMT_CACHE.with(LookupCache::clear)) };
}

/// Looks up a live connection (through this thread's one-entry cache).
#[inline(always)]
pub fn dbc(h: odbc_dm_abi::SqlHandle) -> Option<Arc<Dbc>> {
    table::lookup(&DBC_CACHE, &DBC_KEEP, &TABLES.dbc, h as usize)
}

/// Looks up a live statement (through this thread's one-entry cache).
#[inline(always)]
pub fn stmt(h: odbc_dm_abi::SqlHandle) -> Option<Arc<Stmt>> {
    table::lookup(&STMT_CACHE, &STMT_KEEP, &TABLES.stmt, h as usize)
}

/// Runs `f` on a statement found in this thread's lookup cache, without a reference-count
/// round trip (the fast lane). `None`: not cached; use [`stmt`].
#[inline(always)]
pub fn with_cached_stmt<R>(h: odbc_dm_abi::SqlHandle, f: impl FnOnce(Lent<'_, Stmt>) -> R) -> Option<R> {
    let c = STMT_CACHE.with(|c| c as *const LookupCache<Stmt>);
    // SAFETY: this thread's cache, a const thread-local without destructor: valid as long
    // as the thread runs (`LocalKey::with` is only used to get its address, so that the
    // lane itself is inlined here).
    unsafe { &*c }.with_cached(&STMT_EPOCH, h as usize, f)
}

/// As [`with_cached_stmt`], for connections.
#[inline(always)]
pub fn with_cached_dbc<R>(h: odbc_dm_abi::SqlHandle, f: impl FnOnce(Lent<'_, Dbc>) -> R) -> Option<R> {
    let c = DBC_CACHE.with(|c| c as *const LookupCache<Dbc>);
    // SAFETY: this thread's cache, a const thread-local without destructor: valid as long
    // as the thread runs (`LocalKey::with` is only used to get its address, so that the
    // lane itself is inlined here).
    unsafe { &*c }.with_cached(&DBC_EPOCH, h as usize, f)
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
