//! A word-sized lock whose waiters park on a condvar only under contention: bit 0 says
//! "held", the top bit says "someone is parked". One atomic read-modify-write takes it
//! (`lock bts`), one gives it back (`lock dec`, whose sign flag says whether to wake
//! anyone), so an uncontended take and give-back cost a few instructions.
//!
//! Two users: the per-handle call gate (`handles::gate`, whose word also carries the fast
//! lane's summary in the bits between) and the lock of a driver serialized by `Threading`
//! (`driver::serialize`).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Condvar, Mutex};

/// The word's "held" bit.
pub(crate) const HELD: u32 = 1;
/// Someone is parked waiting. The top bit, so that giving the word back (`fetch_sub(HELD)`)
/// tells by the sign whether to wake anyone; the wake-up clears it.
pub(crate) const WAITERS: u32 = 1 << 31;

/// The lock word and its parking place.
pub(crate) struct ParkingWord {
    /// HELD | WAITERS | whatever the owner keeps in the other bits.
    pub(crate) word: AtomicU32,
    park: Mutex<()>,
    cv: Condvar,
}

impl ParkingWord {
    pub(crate) const fn new() -> ParkingWord {
        ParkingWord { word: AtomicU32::new(0), park: Mutex::new(()), cv: Condvar::new() }
    }

    /// Takes the word if it is not held (whatever the other bits say). Cannot panic.
    #[inline(always)]
    pub(crate) fn try_take(&self) -> bool {
        self.word.fetch_or(HELD, Ordering::Acquire) & HELD == 0
    }

    /// The contended path of [`ParkingWord::take`]. Cannot panic (a poisoned park mutex is
    /// used as is: it guards nothing).
    #[cold]
    #[inline(never)]
    pub(crate) fn take_slow(&self) {
        let mut g = self.park.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let w = self.word.load(Ordering::Relaxed);
            if w & HELD == 0 {
                if self.word.compare_exchange(w, w | HELD, Ordering::Acquire, Ordering::Relaxed).is_ok() {
                    return;
                }
                continue;
            }
            if w & WAITERS == 0 && self.word.compare_exchange(w, w | WAITERS, Ordering::Relaxed, Ordering::Relaxed).is_err() {
                continue;
            }
            g = self.cv.wait(g).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// As [`ParkingWord::try_take`], but also fails while any bit of `block` is set (the
    /// call gate's cancel fence). The common case costs what `try_take` costs: the blocking
    /// bits are tested in the value the `lock bts` returns; a word taken while one of them
    /// was set is given back at once.
    #[inline(always)]
    pub(crate) fn try_take_unless(&self, block: u32) -> bool {
        let old = self.word.fetch_or(HELD, Ordering::Acquire);
        if old & HELD != 0 {
            return false;
        }
        if old & block == 0 {
            return true;
        }
        self.give_back();
        false
    }

    /// Takes the word, parking while it is held or any bit of `block` is set.
    #[inline(always)]
    pub(crate) fn take_unless(&self, block: u32) {
        if !self.try_take_unless(block) {
            self.take_slow_unless(block);
        }
    }

    /// The contended path of [`ParkingWord::take_unless`].
    #[cold]
    #[inline(never)]
    pub(crate) fn take_slow_unless(&self, block: u32) {
        let mut g = self.park.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let w = self.word.load(Ordering::Relaxed);
            if w & (HELD | block) == 0 {
                if self.word.compare_exchange(w, w | HELD, Ordering::Acquire, Ordering::Relaxed).is_ok() {
                    return;
                }
                continue;
            }
            if w & WAITERS == 0 && self.word.compare_exchange(w, w | WAITERS, Ordering::Relaxed, Ordering::Relaxed).is_err() {
                continue;
            }
            g = self.cv.wait(g).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Parks until no bit of `mask` is set (whoever clears them uses
    /// [`ParkingWord::clear_bits`], which wakes the parked). Cannot panic.
    #[cold]
    #[inline(never)]
    pub(crate) fn wait_while(&self, mask: u32) {
        let mut g = self.park.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let w = self.word.load(Ordering::Acquire);
            if w & mask == 0 {
                return;
            }
            if w & WAITERS == 0 && self.word.compare_exchange(w, w | WAITERS, Ordering::Relaxed, Ordering::Relaxed).is_err() {
                continue;
            }
            g = self.cv.wait(g).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Clears the bits of `mask` and wakes the parked, if any (they test again). Cannot
    /// panic.
    #[inline]
    pub(crate) fn clear_bits(&self, mask: u32) {
        let old = self.word.fetch_and(!mask, Ordering::Release);
        if old & WAITERS != 0 {
            self.wake();
        }
    }

    /// Gives the word back (the other bits stay). Cannot panic.
    #[inline(always)]
    pub(crate) fn give_back(&self) {
        let old = self.word.fetch_sub(HELD, Ordering::Release);
        // HELD was set, so `old` is never 0: `old < 1` (signed) is "WAITERS (the sign bit)
        // set". Written so, the compiler tests the flags of the `lock sub` itself.
        if (old as i32) < 1 {
            self.wake();
        }
    }

    /// [`ParkingWord::give_back`] that carries a value through the wake-up call, so that a
    /// caller keeps nothing in callee-saved registers for it (the serialized fast lanes pass
    /// the driver's return code).
    #[inline(always)]
    pub(crate) fn give_back_passing<T>(&self, v: T) -> T {
        let old = self.word.fetch_sub(HELD, Ordering::Release);
        if (old as i32) < 1 {
            return self.wake_passing(v);
        }
        v
    }

    #[cold]
    #[inline(never)]
    fn wake_passing<T>(&self, v: T) -> T {
        self.wake();
        v
    }

    /// Wakes every parked caller and clears WAITERS (under the park mutex, so no waiter
    /// that set it before is missed; those that still wait set it again).
    #[cold]
    #[inline(never)]
    fn wake(&self) {
        let _g = self.park.lock().unwrap_or_else(|p| p.into_inner());
        self.word.fetch_and(!WAITERS, Ordering::Relaxed);
        self.cv.notify_all();
    }
}
