//! Handle tables: the opaque values handed to the application are ids looked up in a
//! `DashMap`, so a freed or garbage handle is answered with SQL_INVALID_HANDLE instead of
//! being dereferenced.
//!
//! A lookup clones the `Arc` and drops the map reference at once: no shard lock is ever
//! held across a driver call.

use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use dashmap::DashMap;

/// Hasher for handle ids: ids are unique counters, so one multiply spreads them well.
#[derive(Default, Clone, Copy)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ *b as u64).wrapping_mul(0x100_0000_01b3);
        }
    }
    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// The kind of object a handle id names; kept in the id's low bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum Kind {
    Env = 1,
    Dbc = 2,
    Stmt = 3,
    Desc = 4,
}

const KIND_BITS: u32 = 3;
const KIND_MASK: usize = (1 << KIND_BITS) - 1;

/// A fresh handle id of the given kind. Ids are never reused, so a stale handle can never
/// name a newer object.
pub fn new_id(kind: Kind) -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0x1000);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    (n << KIND_BITS) | kind as usize
}

/// The kind encoded in a handle value, if any.
pub fn kind_of(id: usize) -> Option<Kind> {
    match id & KIND_MASK {
        1 => Some(Kind::Env),
        2 => Some(Kind::Dbc),
        3 => Some(Kind::Stmt),
        4 => Some(Kind::Desc),
        _ => None,
    }
}

/// A table of live handles of one kind.
pub struct HandleTable<T> {
    map: DashMap<usize, Arc<T>, BuildHasherDefault<IdHasher>>,
    /// Bumped after every removal, so per-thread lookup caches can tell a stale entry.
    epoch: AtomicUsize,
}

impl<T> Default for HandleTable<T> {
    fn default() -> Self {
        HandleTable { map: DashMap::with_hasher(Default::default()), epoch: AtomicUsize::new(0) }
    }
}

impl<T> HandleTable<T> {
    /// The live object for `id`, if any.
    #[inline]
    pub fn get(&self, id: usize) -> Option<Arc<T>> {
        self.map.get(&id).map(|r| r.value().clone())
    }

    /// Registers an object.
    pub fn insert(&self, id: usize, obj: Arc<T>) {
        self.map.insert(id, obj);
    }

    /// Unregisters an object; later lookups of `id` fail.
    pub fn remove(&self, id: usize) -> Option<Arc<T>> {
        let r = self.map.remove(&id).map(|(_, v)| v);
        self.epoch.fetch_add(1, Ordering::AcqRel);
        r
    }

    /// The removal epoch (see [`LookupCache`]).
    #[inline(always)]
    pub fn epoch(&self) -> usize {
        self.epoch.load(Ordering::Acquire)
    }

    /// Number of live handles.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// A one-entry, per-thread cache in front of a [`HandleTable`]: an application that calls
/// SQLFetch/SQLGetData in a loop on one statement skips the dashmap probe. An entry is
/// valid only while the table's removal epoch is unchanged, so a freed handle is never
/// served from the cache (the epoch is read before the table, and bumped after removal).
pub struct LookupCache<T> {
    slot: std::cell::RefCell<Option<(usize, usize, Arc<T>)>>,
}

impl<T> LookupCache<T> {
    pub const fn new() -> Self {
        LookupCache { slot: std::cell::RefCell::new(None) }
    }

    /// Looks `id` up through the cache.
    #[inline(always)]
    pub fn get(&self, table: &HandleTable<T>, id: usize) -> Option<Arc<T>> {
        let epoch = table.epoch();
        if let Ok(slot) = self.slot.try_borrow() {
            if let Some((i, e, obj)) = slot.as_ref() {
                if *i == id && *e == epoch {
                    return Some(obj.clone());
                }
            }
        }
        self.miss(table, id, epoch)
    }

    /// Runs `f` on the cached object for `id` without touching its reference count, if
    /// the cache holds it and it is still live. The cache stays borrowed while `f` runs:
    /// a nested lookup on this thread goes to the table instead.
    #[inline(always)]
    pub fn with_cached<R>(&self, table: &HandleTable<T>, id: usize, f: impl FnOnce(&Arc<T>) -> R) -> Option<R> {
        let epoch = table.epoch();
        let slot = self.slot.try_borrow().ok()?;
        match slot.as_ref() {
            Some((i, e, obj)) if *i == id && *e == epoch => Some(f(obj)),
            _ => None,
        }
    }

    #[inline(never)]
    fn miss(&self, table: &HandleTable<T>, id: usize, epoch: usize) -> Option<Arc<T>> {
        let obj = table.get(id)?;
        if let Ok(mut slot) = self.slot.try_borrow_mut() {
            *slot = Some((id, epoch, obj.clone()));
        }
        Some(obj)
    }
}

impl<T> Default for LookupCache<T> {
    fn default() -> Self {
        Self::new()
    }
}
