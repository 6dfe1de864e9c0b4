//! Handle tables: the opaque values handed to the application are ids looked up in a
//! `DashMap`, so a freed or garbage handle is answered with SQL_INVALID_HANDLE instead of
//! being dereferenced.
//!
//! A lookup clones the `Arc` and drops the map reference at once: no shard lock is ever
//! held across a driver call.

use std::cell::{Cell, RefCell};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::LocalKey;

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
    /// Bumped after every removal, so per-thread lookup caches can tell a stale entry. A
    /// plain static (not inside the lazily built tables), so the fast lane reads it directly.
    epoch: &'static AtomicUsize,
}

impl<T> HandleTable<T> {
    /// An empty table whose removals bump `epoch`.
    pub fn new(epoch: &'static AtomicUsize) -> Self {
        HandleTable { map: DashMap::with_hasher(Default::default()), epoch }
    }

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
///
/// Two thread-locals per kind: this one, plain words with no destructor (reading it is a
/// thread-pointer-relative access, no registration check and no `RefCell`), and a
/// [`Keep`], which owns the cached object's `Arc` and is touched on a miss only. `obj`
/// points into this thread's `Keep`; it is replaced only by [`lookup`], which updates
/// this cache with it, never while the kept object is in a call ([`InCall`]), and the
/// `Keep` clears this cache before it is destroyed. A fast lane borrows the object only
/// while it makes no call, or while it holds the object's busy word (its driver call),
/// so a DM call that the driver makes on this thread from inside a lane's driver call
/// cannot replace the object the lane borrows.
pub struct LookupCache<T> {
    id: Cell<usize>,
    epoch: Cell<usize>,
    /// `Arc::as_ptr` of the object this thread's `Keep` holds.
    obj: Cell<*const T>,
}

/// Whether an object is in a call: it holds its busy word (see [`LookupCache`]).
pub trait InCall {
    fn in_call(&self) -> bool;
}

/// An epoch no table reaches: the cache is empty.
const NO_EPOCH: usize = usize::MAX;

impl<T> LookupCache<T> {
    pub const fn new() -> Self {
        LookupCache { id: Cell::new(0), epoch: Cell::new(NO_EPOCH), obj: Cell::new(std::ptr::null()) }
    }

    #[inline(always)]
    fn hit(&self, id: usize, epoch: usize) -> bool {
        self.id.get() == id && self.epoch.get() == epoch
    }

    /// Forgets the entry.
    pub fn clear(&self) {
        self.id.set(0);
        self.epoch.set(NO_EPOCH);
        self.obj.set(std::ptr::null());
    }

    /// Runs `f` on the cached object for `id` without touching its reference count, if
    /// the cache holds it and it is still live (`epoch`: the table's removal epoch). `f`
    /// may call out (to the driver, or anything that may call back into the DM on this
    /// thread) only while it holds the object's busy word: a nested lookup on this thread
    /// then leaves the cache as it is (see [`InCall`]), so the object stays alive (and
    /// [`Lent::arc`] may be used) until `f` returns.
    #[inline(always)]
    pub fn with_cached<R>(&self, epoch: &AtomicUsize, id: usize, f: impl FnOnce(Lent<'_, T>) -> R) -> Option<R> {
        if !self.hit(id, epoch.load(Ordering::Acquire)) {
            return None;
        }
        // SAFETY: on a hit, `obj` is `Arc::as_ptr` of the `Arc` this thread's `Keep` holds
        // (see the type's documentation); it is not replaced while the object is in a call,
        // which is whenever `f` calls out (the contract above), and the `Keep` cannot be
        // destroyed while this thread is inside an API call.
        Some(f(Lent(unsafe { &*self.obj.get() })))
    }
}

impl<T> Default for LookupCache<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// An object borrowed from this thread's [`LookupCache`]: kept alive by the thread's
/// `Keep` (which holds a strong reference) for as long as the borrow.
pub struct Lent<'a, T>(&'a T);

impl<'a, T> Clone for Lent<'a, T> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}
impl<'a, T> Copy for Lent<'a, T> {}

impl<'a, T> std::ops::Deref for Lent<'a, T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        self.0
    }
}

impl<'a, T> Lent<'a, T> {
    /// The object as an `Arc` (for the slow path), without touching the reference count.
    #[inline(always)]
    pub fn arc(self) -> std::mem::ManuallyDrop<Arc<T>> {
        // SAFETY: the object was handed out by `Arc::as_ptr` of the `Arc` the `Keep` holds,
        // which stays alive for 'a; `ManuallyDrop` never gives the borrowed count back.
        std::mem::ManuallyDrop::new(unsafe { Arc::from_raw(self.0 as *const T) })
    }
}

/// Owner of the object a thread's [`LookupCache`] points to.
pub struct Keep<T> {
    arc: RefCell<Option<Arc<T>>>,
    /// Clears this thread's [`LookupCache`] (run before the kept object is dropped).
    clear: fn(),
}

impl<T> Keep<T> {
    pub const fn new(clear: fn()) -> Self {
        Keep { arc: RefCell::new(None), clear }
    }
}

impl<T> Drop for Keep<T> {
    fn drop(&mut self) {
        (self.clear)();
    }
}

/// Looks `id` up through this thread's cache (`cache`, `keep`), and caches what it finds.
pub fn lookup<T: InCall>(
    cache: &'static LocalKey<LookupCache<T>>,
    keep: &'static LocalKey<Keep<T>>,
    table: &HandleTable<T>,
    id: usize,
) -> Option<Arc<T>> {
    let epoch = table.epoch();
    let cached = cache.with(|c| {
        c.hit(id, epoch).then(|| {
            let p = c.obj.get();
            // SAFETY: on a hit, `obj` is `Arc::as_ptr` of the `Arc` this thread's `Keep`
            // holds (see `LookupCache`): one more strong reference for the caller.
            unsafe {
                Arc::increment_strong_count(p);
                Arc::from_raw(p)
            }
        })
    });
    if cached.is_some() {
        return cached;
    }
    miss(cache, keep, table, id, epoch)
}

#[inline(never)]
fn miss<T: InCall>(
    cache: &'static LocalKey<LookupCache<T>>,
    keep: &'static LocalKey<Keep<T>>,
    table: &HandleTable<T>,
    id: usize,
    epoch: usize,
) -> Option<Arc<T>> {
    let obj = table.get(id)?;
    cache.with(|c| {
        let _ = keep.try_with(|k| {
            let Ok(mut slot) = k.arc.try_borrow_mut() else { return };
            if slot.as_ref().is_some_and(|o| o.in_call()) {
                // A fast lane on this thread may borrow the kept object (this is a call the
                // driver made from inside the lane's driver call); or another thread's call
                // holds it, and the cache is only updated later.
                return;
            }
            let old = slot.replace(obj.clone());
            let p = slot.as_ref().map_or(std::ptr::null(), Arc::as_ptr);
            c.id.set(id);
            c.epoch.set(epoch);
            c.obj.set(p);
            drop(slot);
            // Dropped last: the cache no longer points to it.
            drop(old);
        });
    });
    Some(obj)
}
