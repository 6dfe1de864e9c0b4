//! Handle tables: the opaque values handed to the application are `index + generation`
//! into a slab of type-stable slots, so a freed or garbage handle is answered with
//! SQL_INVALID_HANDLE instead of being dereferenced (docs/decisions.md #67).
//!
//! A handle value is `k << GEN_SHIFT | index << KIND_BITS | kind`. Resolving it is a kind
//! compare, a bounds-checked index into a fixed directory of slab segments, and one atomic
//! add on the slot's word that both *pins* the slot and returns its generation: no hash, no
//! shared lock, no per-thread state. A garbage value only ever selects a slot inside the
//! slab (or none): the value itself is never dereferenced.
//!
//! Slot memory is never returned to the allocator (segments are leaked once allocated), so
//! touching the word of any slot is always sound. The object lives in an `Arc` owned by the
//! slot; it is dropped only when the handle has been removed (its generation made odd) and
//! no one holds a pin: the last unpinner cleans up. A pinned, live generation therefore
//! guarantees the object is alive; a removal never waits (a driver that calls back into the
//! DM from inside a pinned call and frees that very handle cannot deadlock).
//!
//! Slot word (64 bits): `gen << 32 | PENDING | pins`. `gen` is even while a handle lives in
//! the slot (the handle value carries `gen / 2`), odd while the slot is free or being
//! cleaned up, so no handle value ever matches a free slot. `PENDING`: removed, cleanup
//! waits for the last pin.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The kind of object a handle value names; kept in the value's low bits.
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
/// Index bits of a handle value: 29 on 64-bit targets (≈ 536 M live handles per kind).
const INDEX_BITS: u32 = if usize::BITS >= 64 { 29 } else { 17 };
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;
const GEN_SHIFT: u32 = KIND_BITS + INDEX_BITS;

/// The slab's first segment holds `1 << SEG0_BITS` slots; segment `s` holds
/// `1 << (SEG0_BITS + s)`, so `SEGMENTS` segments cover every index.
const SEG0_BITS: u32 = 8;
const SEGMENTS: usize = (INDEX_BITS + 1 - SEG0_BITS) as usize;

const GEN_ONE: u64 = 1 << 32;
const PENDING: u64 = 1 << 31;
const PINS: u64 = PENDING - 1;

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

/// One slot: its word (generation, pending flag, pins) and the object (`Arc::into_raw`, or
/// null while free or reserved).
struct Slot<T> {
    word: AtomicU64,
    obj: AtomicPtr<T>,
}

/// Allocation state (taken on allocation and free only, never to resolve a handle).
struct Alloc {
    /// Indices never used so far start here.
    next: usize,
    /// Freed indices, reused first (their generation has moved on).
    free: Vec<usize>,
}

/// A table of live handles of one kind.
pub struct HandleTable<T> {
    kind: Kind,
    dir: [AtomicPtr<Slot<T>>; SEGMENTS],
    alloc: Mutex<Alloc>,
    live: AtomicUsize,
}

/// The segment and offset of a slab index.
#[inline(always)]
fn locate(index: usize) -> (usize, usize) {
    let i = index + (1 << SEG0_BITS);
    let top = usize::BITS - 1 - i.leading_zeros();
    let seg = (top - SEG0_BITS) as usize;
    (seg, i - (1 << top))
}

/// The live generation a handle value names (always even).
#[inline(always)]
fn value_gen(id: usize) -> u32 {
    ((id >> GEN_SHIFT) as u32) << 1
}

impl<T> HandleTable<T> {
    /// An empty table of `kind` handles.
    pub const fn new(kind: Kind) -> Self {
        HandleTable {
            kind,
            dir: [const { AtomicPtr::new(std::ptr::null_mut()) }; SEGMENTS],
            alloc: Mutex::new(Alloc { next: 0, free: Vec::new() }),
            live: AtomicUsize::new(0),
        }
    }

    /// The slot a handle value selects, if the value is of this table's kind and its
    /// segment exists. Reads only the directory: never the value as an address.
    #[inline(always)]
    fn slot(&self, id: usize) -> Option<&Slot<T>> {
        if id & KIND_MASK != self.kind as usize {
            return None;
        }
        let (seg, off) = locate((id >> KIND_BITS) & INDEX_MASK);
        // `seg < SEGMENTS` for every masked index; the check is for the compiler.
        let base = self.dir.get(seg)?.load(Ordering::Acquire);
        if base.is_null() {
            return None;
        }
        // SAFETY: segment `seg` is a leaked allocation of `1 << (SEG0_BITS + seg)` slots,
        // never freed, and `off` is below that by construction of `locate`.
        Some(unsafe { &*base.add(off) })
    }

    /// Pins the slot of `id` if `id` names its live object: the object then stays alive
    /// until the returned pin is dropped.
    #[inline(always)]
    fn pin(&self, id: usize) -> Option<Pin<'_, T>> {
        let slot = self.slot(id)?;
        let w = slot.word.fetch_add(1, Ordering::AcqRel);
        let pin = Pin { table: self, slot, index: (id >> KIND_BITS) & INDEX_MASK };
        if (w >> 32) as u32 != value_gen(id) {
            return None;
        }
        let p = slot.obj.load(Ordering::Acquire);
        if p.is_null() {
            // Reserved, not yet inserted.
            return None;
        }
        Some(pin)
    }

    /// Runs `f` on the live object of `id`, borrowed without touching its reference count
    /// (the fast lane). `None`: `id` names no live object of this kind.
    #[inline(always)]
    pub fn with<R>(&self, id: usize, f: impl FnOnce(Lent<'_, T>) -> R) -> Option<R> {
        let pin = self.pin(id)?;
        // SAFETY: pinned with a live generation and a non-null object: the slot's `Arc`
        // is not dropped before the pin is (see the module documentation).
        let obj = unsafe { &*pin.slot.obj.load(Ordering::Acquire) };
        Some(f(Lent(obj, PhantomData)))
    }

    /// The live object for `id`, if any (a new strong reference).
    pub fn get(&self, id: usize) -> Option<Arc<T>> {
        let pin = self.pin(id)?;
        let p = pin.slot.obj.load(Ordering::Acquire);
        // SAFETY: pinned live slot: `p` is the `Arc::into_raw` the slot owns, alive while
        // pinned; one more strong reference for the caller.
        unsafe {
            Arc::increment_strong_count(p);
            Some(Arc::from_raw(p))
        }
    }

    /// A fresh handle value of this table's kind, naming nothing until [`insert`](Self::insert).
    pub fn reserve(&self) -> usize {
        let mut a = self.alloc.lock().unwrap_or_else(|p| p.into_inner());
        let index = match a.free.pop() {
            Some(i) => i,
            None => {
                let i = a.next;
                assert!(i <= INDEX_MASK, "handle table full");
                let (seg, _) = locate(i);
                if self.dir[seg].load(Ordering::Relaxed).is_null() {
                    let n = 1usize << (SEG0_BITS + seg as u32);
                    // Free slots: odd generation.
                    let slots: Box<[Slot<T>]> =
                        (0..n).map(|_| Slot { word: AtomicU64::new(GEN_ONE), obj: AtomicPtr::new(std::ptr::null_mut()) }).collect();
                    // Leaked on purpose: slots are type-stable, never freed.
                    let base = Box::leak(slots).as_mut_ptr();
                    self.dir[seg].store(base, Ordering::Release);
                }
                a.next = i + 1;
                i
            }
        };
        drop(a);
        let slot = self.slot(index << KIND_BITS | self.kind as usize).expect("segment allocated");
        // Free (odd) → live (even); pins of concurrent garbage lookups are kept.
        let w = slot.word.fetch_add(GEN_ONE, Ordering::AcqRel) + GEN_ONE;
        let gen = (w >> 32) as u32;
        debug_assert!(gen & 1 == 0);
        ((gen >> 1) as usize) << GEN_SHIFT | index << KIND_BITS | self.kind as usize
    }

    /// Registers the object for a value from [`reserve`](Self::reserve).
    pub fn insert(&self, id: usize, obj: Arc<T>) {
        let slot = self.slot(id).expect("a reserved handle value");
        debug_assert_eq!((slot.word.load(Ordering::Relaxed) >> 32) as u32, value_gen(id));
        let old = slot.obj.swap(Arc::into_raw(obj) as *mut T, Ordering::AcqRel);
        debug_assert!(old.is_null());
        self.live.fetch_add(1, Ordering::Relaxed);
    }

    /// Unregisters an object: later lookups of `id` fail at once. The slot's reference is
    /// given up when the last pin on the slot is released (at once if none). Returns a
    /// strong reference to the removed object.
    pub fn remove(&self, id: usize) -> Option<Arc<T>> {
        let pin = self.pin(id)?;
        let p = pin.slot.obj.load(Ordering::Acquire);
        // SAFETY: pinned live slot, as in `get`.
        let obj = unsafe {
            Arc::increment_strong_count(p);
            Arc::from_raw(p)
        };
        let live = (value_gen(id) as u64) << 32;
        let mut w = pin.slot.word.load(Ordering::Relaxed);
        loop {
            if w & !(PENDING | PINS) != live {
                // Another removal won.
                return None;
            }
            // Live (even) → removed (odd), cleanup pending (we hold a pin).
            match pin.slot.word.compare_exchange_weak(w, (w + GEN_ONE) | PENDING, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => break,
                Err(x) => w = x,
            }
        }
        self.live.fetch_sub(1, Ordering::Relaxed);
        drop(pin);
        Some(obj)
    }

    /// Number of live handles.
    pub fn len(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cleanup of a removed slot, by whoever released its last pin.
    #[cold]
    #[inline(never)]
    fn cleanup(&self, slot: &Slot<T>, index: usize) {
        let mut w = slot.word.load(Ordering::Acquire);
        loop {
            if w & PENDING == 0 || w & PINS != 0 {
                // Done by another unpinner, or a later pin holder will do it.
                return;
            }
            match slot.word.compare_exchange_weak(w, w & !PENDING, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => break,
                Err(x) => w = x,
            }
        }
        let p = slot.obj.swap(std::ptr::null_mut(), Ordering::AcqRel);
        self.alloc.lock().unwrap_or_else(|e| e.into_inner()).free.push(index);
        if !p.is_null() {
            // SAFETY: the slot's own `Arc::into_raw`, taken out exactly once (PENDING was
            // cleared by this thread with no pin held).
            drop(unsafe { Arc::from_raw(p) });
        }
    }
}

/// A pinned slot (see the module documentation); released on drop.
struct Pin<'a, T> {
    table: &'a HandleTable<T>,
    slot: &'a Slot<T>,
    index: usize,
}

impl<T> Drop for Pin<'_, T> {
    #[inline(always)]
    fn drop(&mut self) {
        let w = self.slot.word.fetch_sub(1, Ordering::AcqRel);
        if w & (PENDING | PINS) == PENDING | 1 {
            self.table.cleanup(self.slot, self.index);
        }
    }
}

/// An object borrowed from a pinned slot: alive (the slot holds a strong reference) for as
/// long as the borrow.
pub struct Lent<'a, T>(&'a T, PhantomData<&'a T>);

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
        // SAFETY: the object is the `Arc::into_raw` of the `Arc` its pinned slot owns,
        // which stays alive for 'a; `ManuallyDrop` never gives the borrowed count back.
        std::mem::ManuallyDrop::new(unsafe { Arc::from_raw(self.0 as *const T) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_and_garbage_values_resolve_to_nothing() {
        // §3.1 / invalid handles: a freed handle and arbitrary values give no object.
        let t: HandleTable<u32> = HandleTable::new(Kind::Stmt);
        let a = t.reserve();
        t.insert(a, Arc::new(7));
        assert_eq!(t.get(a).as_deref(), Some(&7));
        assert_eq!(t.with(a, |x| *x), Some(7));
        assert!(t.remove(a).is_some());
        assert!(t.get(a).is_none());
        assert!(t.remove(a).is_none());
        let b = t.reserve();
        t.insert(b, Arc::new(8));
        assert_ne!(a, b, "a reused slot gets a new generation");
        assert_eq!((a >> KIND_BITS) & INDEX_MASK, (b >> KIND_BITS) & INDEX_MASK, "the slot is reused");
        assert!(t.get(a).is_none());
        for v in
            [0usize, 1, 3, usize::MAX, b ^ 1, b ^ (1 << GEN_SHIFT), b + (1 << KIND_BITS), 0xdead_beef_0003, b | (INDEX_MASK << KIND_BITS)]
        {
            assert!(t.get(v).is_none(), "{v:#x}");
        }
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn a_removed_object_lives_until_the_last_pin_is_released() {
        let t: HandleTable<u32> = HandleTable::new(Kind::Dbc);
        let a = t.reserve();
        let obj = Arc::new(1);
        t.insert(a, obj.clone());
        let seen = t.with(a, |x| {
            let r = t.remove(a).expect("live");
            drop(r);
            // The slot still owns its reference while this borrow pins it.
            assert_eq!(Arc::strong_count(&obj), 2);
            assert!(t.get(a).is_none());
            *x
        });
        assert_eq!(seen, Some(1));
        assert_eq!(Arc::strong_count(&obj), 1, "released by the last unpin");
        // The slot is free again, with a new generation.
        let b = t.reserve();
        assert_ne!(a, b);
    }

    #[test]
    fn many_handles_across_segments() {
        let t: HandleTable<usize> = HandleTable::new(Kind::Desc);
        let ids: Vec<usize> = (0..5000)
            .map(|i| {
                let id = t.reserve();
                t.insert(id, Arc::new(i));
                id
            })
            .collect();
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(t.with(*id, |x| *x), Some(i));
        }
        for id in &ids {
            t.remove(*id);
        }
        assert!(t.is_empty());
        assert!(ids.iter().all(|id| t.get(*id).is_none()));
    }

    /// §3.1: a handle freed on one thread while others are inside a call on it — the
    /// object is never dropped while a lookup holds it, and once removed no lookup finds
    /// it (the slot is reused under a new generation meanwhile).
    #[test]
    fn removal_races_with_borrows_and_reuse() {
        use std::sync::atomic::AtomicBool;
        struct Probe(&'static AtomicBool);
        impl Drop for Probe {
            fn drop(&mut self) {
                self.0.store(false, Ordering::SeqCst);
            }
        }
        static T: HandleTable<Probe> = HandleTable::new(Kind::Stmt);
        let ids: Vec<AtomicUsize> = (0..8).map(|_| AtomicUsize::new(0)).collect();
        let ids: &'static [AtomicUsize] = Box::leak(ids.into_boxed_slice());
        let fresh = || {
            let id = T.reserve();
            T.insert(id, Arc::new(Probe(Box::leak(Box::new(AtomicBool::new(true))))));
            id
        };
        for id in ids {
            id.store(fresh(), Ordering::SeqCst);
        }
        let stop: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
        let readers: Vec<_> = (0..3)
            .map(|r| {
                std::thread::spawn(move || {
                    let mut seen = 0u64;
                    let mut i = r;
                    while !stop.load(Ordering::Relaxed) {
                        let id = ids[i % ids.len()].load(Ordering::Relaxed);
                        i += 1;
                        T.with(id, |p| {
                            for _ in 0..20 {
                                assert!((*p).0.load(Ordering::SeqCst), "object dropped while borrowed");
                                std::hint::spin_loop();
                            }
                            seen += 1;
                        });
                        if let Some(p) = T.get(id) {
                            assert!(p.0.load(Ordering::SeqCst));
                        }
                    }
                    seen
                })
            })
            .collect();
        let mut old = Vec::new();
        for n in 0..20_000 {
            let k = n % ids.len();
            let id = ids[k].swap(fresh(), Ordering::SeqCst);
            assert!(T.remove(id).is_some());
            old.push(id);
        }
        stop.store(true, Ordering::Relaxed);
        let seen: u64 = readers.into_iter().map(|t| t.join().unwrap()).sum();
        assert!(seen > 0);
        assert!(old.iter().all(|id| T.get(*id).is_none()), "a removed handle resolved");
        assert_eq!(T.len(), ids.len());
    }
}
