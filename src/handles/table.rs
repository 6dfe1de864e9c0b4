//! Handle tables: the opaque values handed to the application are `generation + index`
//! into a slab of type-stable slots, so a freed or garbage handle is answered with
//! SQL_INVALID_HANDLE instead of being dereferenced (docs/decisions.md #67).
//!
//! A handle value (64 bits) is `gen << 32 | segment << SEG_SHIFT | offset << 5 | kind`.
//! Resolving it takes the segment (segment 0: 65,536 slots inside the table itself, in the
//! static; the others from a fixed directory, allocated on demand: a bounded index, so a
//! garbage value only ever selects a slot inside the slab, or none; the value itself is
//! never dereferenced), takes the slot at `value & OFFSET_MASK` bytes into it, pins the
//! slot (one atomic add on its pin count) and compares the slot's `value` word with the
//! whole handle value: kind, generation, index and every unused bit in one compare. No
//! hash, no shared lock, no per-thread state.
//!
//! Slot memory is never returned to the allocator (segments are leaked once allocated), so
//! touching any slot is always sound. The object lives in an `Arc` owned by the slot; it is
//! given up only when the handle has been removed (`value` cleared) and no pin is held: the
//! last unpinner cleans up (`PENDING`). A pin held with a matching `value` therefore
//! guarantees the object is alive; a removal never waits (a driver that calls back into the
//! DM from inside a pinned call and frees that very handle cannot deadlock).

use std::marker::PhantomData;
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

#[cfg(not(target_pointer_width = "64"))]
compile_error!("odbc-dm handle values need 64-bit pointers (generation in the upper half)");

/// The kind of object a handle value names; kept in the value's low bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum Kind {
    Env = 1,
    Dbc = 2,
    Stmt = 3,
    Desc = 4,
}

const KIND_MASK: usize = 7;
/// A slot is 32 bytes: the offset part of a value is the slot's byte offset.
const SLOT_SHIFT: u32 = 5;
/// Slots per segment (65,536: 2 MiB segments; segment 0 is part of the table).
const SEG_SLOTS_BITS: u32 = 16;
const SEG_SHIFT: u32 = SLOT_SHIFT + SEG_SLOTS_BITS;
const OFFSET_MASK: usize = ((1 << SEG_SLOTS_BITS) - 1) << SLOT_SHIFT;
/// Segments per table (256: 16 M handles of each kind); the directory is a fixed array.
const SEGMENTS_BITS: u32 = 8;
const SEGMENTS: usize = 1 << SEGMENTS_BITS;
const GEN_SHIFT: u32 = 32;

/// The pin count's flag: the handle was removed, cleanup waits for the last pin.
const PENDING: u32 = 1 << 31;

/// Gives one pin back; `true` if the slot's handle was removed ([`PENDING`] set), when the
/// caller must try the cleanup ([`HandleTable::cleanup`], which does it only if this was
/// the last pin: its compare-and-swap expects exactly `PENDING`). Decision #119: the test
/// is the sign of the value after the decrement (`PENDING` is the top bit, and the low
/// bits held at least this pin, so the decrement never borrows from it), read from the
/// flags of the `lock dec` itself: no `xadd` operand, no compare. A removed handle's every
/// unpinner, not only its last one, takes the cold path; that costs only after a removal.
#[inline(always)]
fn unpin_may_clean(pins: &AtomicU32) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        // LLVM does not read the sign from the flags of the `lock dec` here (it emits an
        // `xadd` of -1 and a test of the old value): written out, the unpin is two
        // instructions. The `lock`ed instruction is a full barrier (at least the AcqRel of
        // the portable version below), and the block is a compiler barrier for memory
        // (no `nomem`/`readonly`), so nothing the caller did with the object moves after it.
        // SAFETY: `pins` is a valid, aligned `AtomicU32` (a slot's, never freed); a
        // `lock dec` of it is an atomic read-modify-write like `fetch_sub(1)`; the jump
        // goes to the label block, which returns.
        unsafe {
            std::arch::asm!(
                "lock dec dword ptr [{p}]",
                "js {pending}",
                p = in(reg) pins.as_ptr(),
                pending = label { return true; },
                options(nostack),
            );
        }
        false
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        (pins.fetch_sub(1, Ordering::AcqRel) as i32) < 1
    }
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

/// One slot: the live handle value (0: none), pins, the object (`Arc::into_raw`, null while
/// free), and the generation the next handle in this slot gets. All zero when new (segment
/// 0 lives in `.bss`).
#[repr(C, align(32))]
struct Slot<T> {
    value: AtomicUsize,
    pins: AtomicU32,
    next_gen: AtomicU32,
    obj: AtomicPtr<T>,
    /// The slot's index in the table (set when first reserved).
    index: AtomicUsize,
}

impl<T> Slot<T> {
    const fn new() -> Self {
        Slot {
            value: AtomicUsize::new(0),
            pins: AtomicU32::new(0),
            next_gen: AtomicU32::new(0),
            obj: AtomicPtr::new(std::ptr::null_mut()),
            index: AtomicUsize::new(0),
        }
    }
}

const _: () = assert!(std::mem::size_of::<Slot<u8>>() == 1 << SLOT_SHIFT);

/// Allocation state (taken on allocation and free only, never to resolve a handle).
struct Alloc {
    /// Indices never used so far start here.
    next: usize,
    /// Freed indices, reused first (their generation has moved on). `None` until the
    /// first free (boxed: `None` is then all zero, as is every field of a new table, so
    /// the tables with their segment 0 live in `.bss`).
    #[allow(clippy::box_collection)]
    free: Option<Box<Vec<usize>>>,
}

/// A table of live handles of one kind.
pub struct HandleTable<T> {
    /// Segment 0.
    first: [Slot<T>; 1 << SEG_SLOTS_BITS],
    /// Segments 1.. (entry 0 unused).
    dir: [AtomicPtr<Slot<T>>; SEGMENTS],
    alloc: Mutex<Alloc>,
    live: AtomicUsize,
}

impl<T> HandleTable<T> {
    /// An empty table (of one kind of handle: see [`HandleTable::reserve`]). For statics
    /// only (2 MiB: segment 0 is inside), hence no `Default`.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        HandleTable {
            first: [const { Slot::new() }; 1 << SEG_SLOTS_BITS],
            dir: [const { AtomicPtr::new(std::ptr::null_mut()) }; SEGMENTS],
            alloc: Mutex::new(Alloc { next: 0, free: None }),
            live: AtomicUsize::new(0),
        }
    }

    /// The slot a handle value selects, if its segment exists. Reads only the directory
    /// (a bounded index): never the value as an address.
    #[inline(always)]
    fn slot(&self, id: usize) -> Option<&Slot<T>> {
        // 0 is no handle (SQL_NULL_HANDLE), and it is also the value an empty or freed slot
        // stores: without this test a null handle would "match" slot 0 while it is empty.
        if id == 0 {
            return None;
        }
        self.slot_at(id)
    }

    /// The slot `bits` selects (segment and offset bits; the others are ignored), if its
    /// segment exists.
    #[inline(always)]
    fn slot_at(&self, id: usize) -> Option<&Slot<T>> {
        let base = if id & ((SEGMENTS - 1) << SEG_SHIFT) == 0 {
            self.first.as_ptr()
        } else {
            let b = self.dir[(id >> SEG_SHIFT) & (SEGMENTS - 1)].load(Ordering::Acquire);
            if b.is_null() {
                return None;
            }
            b.cast_const()
        };
        // SAFETY: a segment is `first` or a leaked allocation of `1 << SEG_SLOTS_BITS`
        // slots of 32 bytes, never freed, and `id & OFFSET_MASK` is a multiple of 32 below
        // its size.
        Some(unsafe { &*base.byte_add(id & OFFSET_MASK) })
    }

    /// Pins the slot of `id` if `id` names its live object: the object then stays alive
    /// until the returned pin is dropped.
    #[inline(always)]
    fn pin(&self, id: usize) -> Option<Pin<'_, T>> {
        let slot = self.slot(id)?;
        slot.pins.fetch_add(1, Ordering::AcqRel);
        let pin = Pin { table: self, slot };
        // The whole value: kind, generation, index and the unused bits (0, the value of an
        // empty slot, never gets here: `slot` refuses it).
        if slot.value.load(Ordering::Acquire) != id {
            return None;
        }
        Some(pin)
    }

    /// Runs `f` on the live object of `id`, borrowed without touching its reference count
    /// (the fast lane). `None`: `id` names no live object of this kind.
    #[inline(always)]
    pub fn with<R>(&self, id: usize, f: impl FnOnce(Lent<'_, T>) -> R) -> Option<R> {
        let pin = self.pin(id)?;
        // SAFETY: pinned with a matching value: the slot's `Arc` (stored before the value
        // was published) is not given up before the pin is dropped (module documentation).
        let obj = unsafe { &*pin.slot.obj.load(Ordering::Acquire) };
        Some(f(Lent(obj, PhantomData)))
    }

    /// Pins the slot `id` selects, for a fast lane (no `Drop` guard, so that the lane's
    /// failure paths and its driver call need no unwinding landing pad, and its failure
    /// paths can tail-call): then [`LanePin::object`] says whether `id` names the slot's
    /// live object. `None`: no such slot, nothing is held.
    ///
    /// # Safety
    /// The caller gives the pin back exactly once: [`LanePin::release_then`], or
    /// [`HandleTable::release_id`] with the same `id` (forgetting it only leaks the object:
    /// it is never dropped); and uses a [`Lent`] from [`LanePin::object`] only until then.
    #[inline(always)]
    pub unsafe fn lend(&self, id: usize) -> Option<LanePin<'_, T>> {
        let slot = self.slot(id)?;
        slot.pins.fetch_add(1, Ordering::AcqRel);
        Some(LanePin { table: self, slot })
    }

    /// Gives back the pin of a [`HandleTable::lend`] of `id` (the lane's cold miss path,
    /// which no longer has the [`LanePin`]: the slot is found again from `id`).
    ///
    /// # Safety
    /// `id` was pinned by [`HandleTable::lend`], and that pin is not given back otherwise.
    #[cold]
    #[inline(never)]
    pub unsafe fn release_id(&self, id: usize) {
        if let Some(slot) = self.slot(id) {
            if unpin_may_clean(&slot.pins) {
                self.cleanup(slot);
            }
        }
    }

    /// The pin count of the slot of `id`, a value from [`HandleTable::reserve`]: its
    /// object keeps it, so that a lane gives its pin back from the object alone
    /// ([`SlotPins::release_then`]).
    pub fn slot_pins(&'static self, id: usize) -> SlotPins {
        SlotPins(&self.slot(id).expect("a reserved handle value").pins)
    }

    /// The cleanup of the removed slot of `id` after its last pin was given back through
    /// [`SlotPins::release_then`], then `r`.
    #[cold]
    #[inline(never)]
    fn cleanup_id_then<R>(&self, id: usize, r: R) -> R {
        if let Some(slot) = self.slot_at(id) {
            self.cleanup(slot);
        }
        r
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

    /// A fresh handle value of `kind` (always the same for one table), naming nothing until
    /// [`insert`](Self::insert).
    pub fn reserve(&self, kind: Kind) -> usize {
        let mut a = self.alloc.lock().unwrap_or_else(|p| p.into_inner());
        let index = match a.free.as_mut().and_then(|f| f.pop()) {
            Some(i) => i,
            None => {
                let i = a.next;
                let seg = i >> SEG_SLOTS_BITS;
                assert!(seg < SEGMENTS, "handle table full");
                if seg > 0 && self.dir[seg].load(Ordering::Relaxed).is_null() {
                    let slots: Box<[Slot<T>]> = (0..1usize << SEG_SLOTS_BITS).map(|_| Slot::new()).collect();
                    // Leaked on purpose: slots are type-stable, never freed.
                    let base = Box::leak(slots).as_mut_ptr();
                    self.dir[seg].store(base, Ordering::Release);
                }
                a.next = i + 1;
                i
            }
        };
        drop(a);
        let bits = (index >> SEG_SLOTS_BITS) << SEG_SHIFT | (index & ((1 << SEG_SLOTS_BITS) - 1)) << SLOT_SHIFT;
        let slot = self.slot_at(bits).expect("segment allocated");
        // This slot is ours until inserted (off the free list); the generation only here.
        let gen = slot.next_gen.load(Ordering::Relaxed);
        slot.next_gen.store(gen.wrapping_add(1), Ordering::Relaxed);
        slot.index.store(index, Ordering::Relaxed);
        (gen as usize) << GEN_SHIFT | bits | kind as usize
    }

    /// Registers the object for a value from [`reserve`](Self::reserve).
    pub fn insert(&self, id: usize, obj: Arc<T>) {
        let slot = self.slot(id).expect("a reserved handle value");
        let old = slot.obj.swap(Arc::into_raw(obj) as *mut T, Ordering::AcqRel);
        debug_assert!(old.is_null());
        // Published after the object.
        slot.value.store(id, Ordering::Release);
        self.live.fetch_add(1, Ordering::Relaxed);
    }

    /// Unregisters an object: later lookups of `id` fail at once. The slot's reference is
    /// given up when the last pin on the slot is released (at once if none). Returns a
    /// strong reference to the removed object.
    pub fn remove(&self, id: usize) -> Option<Arc<T>> {
        let pin = self.pin(id)?;
        if pin.slot.value.compare_exchange(id, 0, Ordering::AcqRel, Ordering::Relaxed).is_err() {
            // Another removal won.
            return None;
        }
        let p = pin.slot.obj.load(Ordering::Acquire);
        // SAFETY: pinned (this removal's own pin keeps the cleanup off): `p` is the slot's
        // `Arc::into_raw`; one more strong reference for the caller.
        let obj = unsafe {
            Arc::increment_strong_count(p);
            Arc::from_raw(p)
        };
        // Cleanup by the last unpinner (maybe this one, just below).
        pin.slot.pins.fetch_or(PENDING, Ordering::AcqRel);
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

    /// [`HandleTable::cleanup`], then `r`.
    #[cold]
    #[inline(never)]
    fn cleanup_then<R>(&self, slot: &Slot<T>, r: R) -> R {
        self.cleanup(slot);
        r
    }

    /// The cleanup of a removed slot, by whoever released its last pin.
    #[cold]
    #[inline(never)]
    fn cleanup(&self, slot: &Slot<T>) {
        if slot.pins.compare_exchange(PENDING, 0, Ordering::AcqRel, Ordering::Acquire).is_err() {
            // Pinned again meanwhile (that pin's release cleans up), or done by another.
            return;
        }
        let p = slot.obj.swap(std::ptr::null_mut(), Ordering::AcqRel);
        self.alloc
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .free
            .get_or_insert_with(Default::default)
            .push(slot.index.load(Ordering::Relaxed));
        if !p.is_null() {
            // SAFETY: the slot's own `Arc::into_raw`, taken out exactly once (PENDING was
            // cleared by this thread with no pin held; the value was cleared before).
            drop(unsafe { Arc::from_raw(p) });
        }
    }
}

/// A pinned slot (see the module documentation); released on drop.
struct Pin<'a, T> {
    table: &'a HandleTable<T>,
    slot: &'a Slot<T>,
}

impl<T> Drop for Pin<'_, T> {
    #[inline(always)]
    fn drop(&mut self) {
        if unpin_may_clean(&self.slot.pins) {
            self.table.cleanup(self.slot);
        }
    }
}

/// The pin of a [`HandleTable::lend`] (see its safety contract).
pub struct LanePin<'a, T> {
    table: &'a HandleTable<T>,
    slot: &'a Slot<T>,
}

impl<'a, T> LanePin<'a, T> {
    /// The live object `id` names in the pinned slot, if it does.
    #[inline(always)]
    pub fn object(&self, id: usize) -> Option<Lent<'a, T>> {
        if self.slot.value.load(Ordering::Acquire) != id {
            return None;
        }
        let p = self.slot.obj.load(Ordering::Acquire);
        // SAFETY: a published value implies its object was stored before it, and the pin
        // keeps it (see `with`); the borrow ends with the pin (`lend`'s contract).
        unsafe {
            std::hint::assert_unchecked(!p.is_null());
            Some(Lent(&*p, PhantomData))
        }
    }

    /// Gives the pin back and returns `r` (the cleanup of a removed handle, if this was its
    /// last pin, is a tail call).
    #[inline(always)]
    pub fn release_then<R>(self, r: R) -> R {
        if unpin_may_clean(&self.slot.pins) {
            return self.table.cleanup_then(self.slot, r);
        }
        r
    }
}

/// A slot's pin count (`'static`: slots are never freed). An object keeps its own slot's
/// (decision #105), so that a fast lane gives its pin back through the object it already
/// holds in a register instead of keeping the slot's address alive across the driver call
/// (one callee-saved register less: no save and restore of two more registers).
#[derive(Clone, Copy)]
pub struct SlotPins(&'static AtomicU32);

impl SlotPins {
    /// Gives back the pin that [`HandleTable::lend`] of `id` took on this slot and returns
    /// `r` (the cleanup of a removed handle, if this was its last pin, is a tail call; `id`
    /// is only evaluated then).
    ///
    /// # Safety
    /// `self` is the [`HandleTable::slot_pins`] of `id` in `table`, whose
    /// [`HandleTable::lend`] pin the caller holds and gives back here instead of through
    /// its [`LanePin`] (which is then simply dropped; it has no `Drop`).
    #[inline(always)]
    pub unsafe fn release_then<T, R>(self, table: &HandleTable<T>, id: impl FnOnce() -> usize, r: R) -> R {
        if unpin_may_clean(self.0) {
            return table.cleanup_id_then(id(), r);
        }
        r
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
        static T: HandleTable<u32> = HandleTable::new();
        const K: Kind = Kind::Stmt;
        let t = &T;
        // The null handle, on an empty table (slot 0 holds the value 0) and later on.
        let null_resolves_to_nothing = || {
            assert!(t.get(0).is_none());
            assert!(t.with(0, |x| *x).is_none());
            // SAFETY: `lend` refuses 0, so there is no pin to give back.
            assert!(unsafe { t.lend(0) }.is_none());
        };
        null_resolves_to_nothing();
        let a = t.reserve(K);
        t.insert(a, Arc::new(7));
        assert_eq!(t.get(a).as_deref(), Some(&7));
        assert_eq!(t.with(a, |x| *x), Some(7));
        assert!(t.remove(a).is_some());
        assert!(t.get(a).is_none());
        assert!(t.remove(a).is_none());
        null_resolves_to_nothing();
        let b = t.reserve(K);
        t.insert(b, Arc::new(8));
        assert_ne!(a, b, "a reused slot gets a new generation");
        assert_eq!(a & 0xffff_ffff, b & 0xffff_ffff, "the slot is reused");
        assert!(t.get(a).is_none());
        for v in [
            0usize,
            1,
            3,
            usize::MAX,
            b ^ 1,
            b ^ (1 << GEN_SHIFT),
            b ^ (1 << 3),
            b ^ (1 << 30),
            b + (1 << SLOT_SHIFT),
            0xdead_beef_0003,
            b | OFFSET_MASK,
            b ^ (1 << SEG_SHIFT),
        ] {
            assert!(t.get(v).is_none(), "{v:#x}");
        }
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn a_removed_object_lives_until_the_last_pin_is_released() {
        static T: HandleTable<u32> = HandleTable::new();
        const K: Kind = Kind::Dbc;
        let t = &T;
        let a = t.reserve(K);
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
        let b = t.reserve(K);
        assert_ne!(a, b);
    }

    #[test]
    fn many_handles_across_segments() {
        static T: HandleTable<usize> = HandleTable::new();
        const K: Kind = Kind::Desc;
        let t = &T;
        // Past segment 0 into a heap segment.
        let ids: Vec<usize> = (0..70_000)
            .map(|i| {
                let id = t.reserve(K);
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
        static T: HandleTable<Probe> = HandleTable::new();
        const K: Kind = Kind::Stmt;
        let ids: Vec<AtomicUsize> = (0..8).map(|_| AtomicUsize::new(0)).collect();
        let ids: &'static [AtomicUsize] = Box::leak(ids.into_boxed_slice());
        let fresh = || {
            let id = T.reserve(K);
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
