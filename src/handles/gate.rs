//! The per-handle call gate: calls on one handle are serialized (§3.1), calls on different
//! handles run in parallel.
//!
//! Two parts:
//! - the *busy word*, an atomic that keeps a second caller out while the driver runs on the
//!   handle (one compare-and-swap to take it, one swap to give it back; waiters park on a
//!   condvar only under contention);
//! - the *core*, the handle's state, behind a mutex that is taken only briefly to check and
//!   change state before and after a driver call, never across it.
//!
//! SQLCancel and the notification callback never wait on either (§3.1, §2.8).
//!
//! The busy word also carries a *summary* of the core, which lets the busiest calls
//! (SQLFetch, SQLGetData, SQLGetInfo) skip the core entirely: a call that ends cleanly
//! publishes a summary of the core ("nothing to clear, state S6", say) in the word's middle
//! bits, and every other access to the core withdraws it. A fast call takes the busy word
//! with one compare-and-swap whose expected value is "idle, nobody waiting, this summary",
//! calls the driver and, if the driver answered SQL_SUCCESS, gives the busy word back
//! (keeping the summary): nothing in the core had to change.

use std::sync::atomic::Ordering;
use std::sync::{Mutex, MutexGuard};

use crate::parking::{ParkingWord, HELD as BUSY, WAITERS};
/// The bits of the word that hold the published summary (0 = none).
pub const SUMMARY_BITS: u32 = !(BUSY | WAITERS);

/// A handle's core state `C`, guarded for serialized calls.
pub struct Gated<C> {
    /// The busy word: BUSY | WAITERS | the published summary ([`SUMMARY_BITS`]).
    busy: ParkingWord,
    core: Mutex<C>,
}

impl<C> Gated<C> {
    pub fn new(core: C) -> Self {
        Gated { busy: ParkingWord::new(), core: Mutex::new(core) }
    }

    /// Locks the core. Any access to the core withdraws the published summary.
    #[inline(always)]
    fn lock(&self) -> MutexGuard<'_, C> {
        let g = self.core.lock().unwrap_or_else(|p| p.into_inner());
        // Only a holder of this mutex publishes a summary, so none can appear between the
        // load and the AND.
        if self.busy.word.load(Ordering::Relaxed) & SUMMARY_BITS != 0 {
            self.busy.word.fetch_and(!SUMMARY_BITS, Ordering::Relaxed);
        }
        g
    }

    /// Whether a call holds the busy word (exact for the calling thread's own calls).
    #[inline]
    pub fn is_busy(&self) -> bool {
        self.busy.word.load(Ordering::Relaxed) & BUSY != 0
    }

    /// Takes the busy word if it is free (whatever the summary).
    #[inline(always)]
    pub fn try_acquire(&self) -> bool {
        self.busy.try_take()
    }

    #[inline(always)]
    fn acquire(&self) {
        self.busy.take();
    }

    /// Gives the busy word back (after [`Gated::try_acquire`], [`Gated::fast_enter`] or
    /// from a [`Busy`]); a published summary stays.
    #[inline(always)]
    pub fn release(&self) {
        self.busy.give_back();
    }

    /// Fast lane: takes the busy word if the handle is idle, nobody waits, and exactly
    /// `summary` (non-zero, inside [`SUMMARY_BITS`]) is published; otherwise nothing is held.
    #[inline(always)]
    pub fn fast_enter(&self, summary: u32) -> bool {
        self.busy.word.compare_exchange(summary, summary | BUSY, Ordering::Acquire, Ordering::Relaxed).is_ok()
    }

    /// As [`Gated::fast_enter`], accepting either of two summaries (`second` 0: only
    /// `first`).
    #[inline(always)]
    pub fn fast_enter_either(&self, first: u32, second: u32) -> bool {
        match self.busy.word.compare_exchange(first, first | BUSY, Ordering::Acquire, Ordering::Relaxed) {
            Ok(_) => true,
            Err(cur) => second != 0 && cur == second && self.fast_enter(second),
        }
    }

    /// Turns a busy word taken with [`Gated::fast_enter`] into a [`Busy`] token, to finish
    /// the call on the slow path.
    #[inline(always)]
    pub fn adopt(&self) -> Busy<'_, C> {
        Busy { gate: self, ended: false }
    }

    /// Waits until no call runs on the handle, then runs `f` on the core. On `Ok`, the
    /// handle stays busy and the returned token must be ended with [`Busy::end`].
    #[inline(always)]
    pub fn begin<R, E>(&self, f: impl FnOnce(&mut C) -> Result<R, E>) -> Result<(Busy<'_, C>, R), E> {
        self.acquire();
        let r = {
            let mut g = self.lock();
            f(&mut g)
        };
        match r {
            Ok(v) => Ok((Busy { gate: self, ended: false }, v)),
            Err(e) => {
                self.release();
                Err(e)
            }
        }
    }

    /// Runs `f` on the core while no call is running, without keeping the handle busy.
    /// For DM-only work (diagnostics, state reads) that makes no driver call.
    #[inline]
    pub fn with<R>(&self, f: impl FnOnce(&mut C) -> R) -> R {
        self.acquire();
        let r = {
            let mut g = self.lock();
            f(&mut g)
        };
        self.release();
        r
    }

    /// Runs `f` on the core even while a call is in flight (the core is consistent between
    /// calls, and the in-flight call only touches it under this same mutex). For the
    /// cross-thread paths (SQLCancel, disconnect checks) that must not wait for the call.
    #[inline]
    pub fn peek<R>(&self, f: impl FnOnce(&mut C) -> R) -> R {
        let mut g = self.lock();
        f(&mut g)
    }

    /// Takes the busy word without waiting; `None` if a call is running.
    pub fn try_begin(&self) -> Option<Busy<'_, C>> {
        if self.try_acquire() {
            Some(Busy { gate: self, ended: false })
        } else {
            None
        }
    }
}

/// Proof that the current thread owns the handle's busy word. Dropping it without
/// [`Busy::end`] (for example on unwinding) still frees the handle.
pub struct Busy<'a, C> {
    gate: &'a Gated<C>,
    ended: bool,
}

impl<'a, C> Busy<'a, C> {
    /// Runs `f` on the core (e.g. to apply the state transition and record diagnostics)
    /// and frees the handle.
    #[inline(always)]
    pub fn end<R>(self, f: impl FnOnce(&mut C) -> R) -> R {
        self.end_publishing(|c| (f(c), 0))
    }

    /// As [`Busy::end`], and publishes the summary `f` returns for the fast lane (0 = none).
    #[inline(always)]
    pub fn end_publishing<R>(mut self, f: impl FnOnce(&mut C) -> (R, u32)) -> R {
        let r = {
            let mut g = self.gate.lock();
            let (r, hot) = f(&mut g);
            debug_assert_eq!(hot & !SUMMARY_BITS, 0, "a summary lives in SUMMARY_BITS");
            if hot != 0 {
                // Under the core mutex (see `lock`); made visible by the release below.
                self.gate.busy.word.fetch_or(hot & SUMMARY_BITS, Ordering::Relaxed);
            }
            r
        };
        self.ended = true;
        self.gate.release();
        r
    }

    /// Runs `f` on the core while keeping the handle busy (between two driver calls of one
    /// DM call).
    #[inline]
    pub fn core<R>(&self, f: impl FnOnce(&mut C) -> R) -> R {
        let mut g = self.gate.lock();
        f(&mut g)
    }
}

impl<'a, C> Drop for Busy<'a, C> {
    fn drop(&mut self) {
        if !self.ended {
            self.gate.release();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;
    use std::sync::Arc;

    #[test]
    fn calls_on_one_gate_are_serialized() {
        // §3.1: one call at a time per handle; waiters are woken, none is lost.
        let g = Arc::new(Gated::new(0u64));
        let inside = Arc::new(AtomicU32::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (g, inside) = (g.clone(), inside.clone());
                std::thread::spawn(move || {
                    for _ in 0..2000 {
                        let (busy, ()) = g.begin(|_| Ok::<(), ()>(())).unwrap();
                        assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "two calls inside the gate");
                        std::hint::spin_loop();
                        inside.fetch_sub(1, Ordering::SeqCst);
                        busy.end(|c| *c += 1);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(g.with(|c| *c), 8000);
    }

    #[test]
    fn summary_is_withdrawn_by_any_core_access() {
        let g = Gated::new(());
        let (busy, ()) = g.begin(|_| Ok::<(), ()>(())).unwrap();
        busy.end_publishing(|_| ((), 8));
        assert!(!g.fast_enter(4));
        assert!(g.fast_enter_either(4, 8));
        assert!(!g.fast_enter(8), "busy");
        g.release();
        assert!(g.fast_enter(8));
        g.release();
        g.peek(|_| ());
        assert!(!g.fast_enter(8));
        // The slow path takes the word whatever the summary.
        let (busy, ()) = g.begin(|_| Ok::<(), ()>(())).unwrap();
        busy.end_publishing(|_| ((), 8));
        assert!(g.try_acquire());
        g.release();
    }
}
