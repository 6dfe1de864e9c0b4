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

// The implementation is written once, as a macro, and expanded twice: here on std's
// primitives (`new` is `const`, for the static slot table of `driver::serialize`), and in
// the loom model below on loom's (whose constructors are not `const`). So the model checks
// exactly the code the DM runs.

/// The word's "held" bit.
pub(crate) const HELD: u32 = 1;
/// Someone is parked waiting. The top bit, so that giving the word back (`fetch_sub(HELD)`)
/// tells by the sign whether to wake anyone; the wake-up clears it.
pub(crate) const WAITERS: u32 = 1 << 31;

macro_rules! parking_word {
    ($($constness:ident)?) => {
        /// The lock word and its parking place.
        pub(crate) struct ParkingWord {
            /// HELD | WAITERS | whatever the owner keeps in the other bits.
            pub(crate) word: AtomicU32,
            park: Mutex<()>,
            cv: Condvar,
        }

        impl ParkingWord {
            pub(crate) $($constness)? fn new() -> ParkingWord {
                ParkingWord { word: AtomicU32::new(0), park: Mutex::new(()), cv: Condvar::new() }
            }

            /// Takes the word if it is not held (whatever the other bits say). Cannot panic.
            #[inline(always)]
            pub(crate) fn try_take(&self) -> bool {
                self.word.fetch_or(HELD, Ordering::Acquire) & HELD == 0
            }

            /// Takes the word, parking until it is free (the DM's gates use
            /// `take_unless`; the loom model exercises this one, in its own expansion, so
            /// the DM's expansion never calls it).
            #[allow(dead_code)]
            #[inline(always)]
            pub(crate) fn take(&self) {
                if !self.try_take() {
                    self.take_slow();
                }
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
                // Opaque on purpose: where LLVM can see that this returns `v`, it may keep
                // the caller's own copy of `v` alive across the call (a callee-saved
                // register, pushed and popped on the hot path of every lane) instead of
                // using the return value; which it does depended on how the crate was split
                // into codegen units (issue 12, decision #125). The cost is here, cold.
                std::hint::black_box(v)
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
    };
}

parking_word!(const);

/// Model checks of the parking word with loom (every interleaving of 2–3 threads, within
/// loom's bounds): mutual exclusion, no lost wake-up (a missed wake-up is a deadlock loom
/// reports), and the owner's other bits untouched. Run:
/// `bash drivers-under-test/loom.sh` (`cargo test -p odbc-dm --lib --features loom-model
/// parking::loom`).
#[cfg(all(test, feature = "loom-model"))]
mod loom {
    // The model exercises `take`, `try_take` and `give_back_passing`; the expansion's other
    // methods (the gates' variants) are not called here.
    #[allow(dead_code)]
    mod model {
        use super::super::{HELD, WAITERS};
        use loom::sync::atomic::{AtomicU32, Ordering};
        use loom::sync::{Condvar, Mutex};
        parking_word!();
    }

    use loom::cell::UnsafeCell;
    use loom::sync::atomic::Ordering;
    use loom::sync::Arc;
    use model::ParkingWord;

    /// A counter only ever touched under the word: loom's `UnsafeCell` reports any access
    /// that is not ordered by the lock as a data race.
    struct Guarded {
        lock: ParkingWord,
        n: UnsafeCell<u32>,
    }
    // SAFETY: `n` is only accessed while holding `lock` (which loom checks).
    unsafe impl Sync for Guarded {}

    fn add_under_lock(g: &Guarded, slow: bool) {
        if slow {
            if !g.lock.try_take() {
                g.lock.take_slow();
            }
        } else {
            g.lock.take();
        }
        // SAFETY: the word is held.
        g.n.with_mut(|p| unsafe { *p += 1 });
        g.lock.give_back();
    }

    /// Two threads: both increments happen, under mutual exclusion, and the word ends free
    /// with no WAITERS left behind.
    #[test]
    fn two_threads_exclusive_and_no_lost_wakeup() {
        loom::model(|| {
            let g = Arc::new(Guarded { lock: ParkingWord::new(), n: UnsafeCell::new(0) });
            let t = {
                let g = g.clone();
                loom::thread::spawn(move || add_under_lock(&g, false))
            };
            add_under_lock(&g, false);
            t.join().unwrap();
            // SAFETY: every other thread has ended.
            assert_eq!(g.n.with(|p| unsafe { *p }), 2);
            assert_eq!(g.lock.word.load(Ordering::SeqCst) & (HELD_BIT | WAITERS_BIT), 0);
        });
    }

    /// Three threads, one of them through `give_back_passing`, with bits of the owner's in
    /// the word (the gate's fast-lane summary): they survive every take and give-back.
    #[test]
    fn three_threads_keep_the_owners_bits() {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(3);
        b.check(|| {
            const SUMMARY: u32 = 0b110;
            let g = Arc::new(Guarded { lock: ParkingWord::new(), n: UnsafeCell::new(0) });
            g.lock.word.store(SUMMARY, Ordering::SeqCst);
            let ts: Vec<_> = (0..2)
                .map(|i| {
                    let g = g.clone();
                    loom::thread::spawn(move || add_under_lock(&g, i == 0))
                })
                .collect();
            g.lock.take();
            // SAFETY: the word is held.
            g.n.with_mut(|p| unsafe { *p += 1 });
            assert_eq!(g.lock.give_back_passing(7u8), 7);
            for t in ts {
                t.join().unwrap();
            }
            // SAFETY: every other thread has ended.
            assert_eq!(g.n.with(|p| unsafe { *p }), 3);
            assert_eq!(g.lock.word.load(Ordering::SeqCst), SUMMARY, "free, no WAITERS, summary kept");
        });
    }

    const HELD_BIT: u32 = super::HELD;
    const WAITERS_BIT: u32 = super::WAITERS;
}
