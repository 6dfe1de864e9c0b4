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
/// The cancel fence (docs/decisions.md #29): set while a cancel is inside the driver's
/// SQLCancel / SQLCancelHandle for this handle. While it is set no call can take the busy
/// word (so a cancel aimed at call N never reaches call N + 1 on that handle), and the
/// driver handle cannot be freed ([`Gated::fence_free`] waits for it to clear).
pub const FENCE: u32 = 1 << 29;
/// The driver handle is being (or has been) freed: a cancel that sees it is a no-op, and
/// no new fence can be set (docs/decisions.md #29).
pub const FREEING: u32 = 1 << 28;
/// A cross-thread cancel was accepted while a call ran and no call has consumed it yet
/// (a statement's `cancel_pending`, decision #120). Kept in the word so that the fast
/// lane's compare-and-swap, which expects the word to be exactly the published summary,
/// fails while it is set: the next call takes the full path, which forgets a stale cancel
/// as every call does, instead of every lane call testing a separate flag.
pub const CANCEL_PENDING: u32 = 1 << 27;
/// The bits of the word that hold the published summary (0 = none).
pub const SUMMARY_BITS: u32 = !(BUSY | WAITERS | FENCE | FREEING | CANCEL_PENDING);

/// What [`Gated::fence_running`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FenceTry {
    /// The fence is set and a call still holds the busy word: the caller may call the
    /// driver's cancel, then must [`Gated::unfence`].
    Entered,
    /// No call holds the handle (the call ended meanwhile).
    Idle,
    /// Another cancel is inside the driver for this handle, or the driver handle is being
    /// freed: nothing to do.
    Closed,
}

/// What [`Gated::hold_for_cancel`] holds, or why it holds nothing.
pub enum CancelHold<'a, C> {
    /// The busy word: no call runs and none can begin until it is dropped or ended.
    Owned(Busy<'a, C>),
    /// The cancel fence over the call that holds the busy word: no other call can begin
    /// until the caller's [`Gated::unfence`].
    Fenced,
    /// The operation no longer runs; nothing is held.
    NotOurs,
    /// Another cancel is inside the driver, the driver handle is being freed, or the word
    /// kept changing hands: nothing is held, nothing to cancel.
    Closed,
}

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

    /// Sets [`CANCEL_PENDING`] (a cross-thread cancel was accepted; the word keeps every
    /// other bit). Release: orders the cancel's earlier writes before a consumer's
    /// [`Gated::take_cancel`].
    #[inline]
    pub fn set_cancel_pending(&self) {
        self.busy.word.fetch_or(CANCEL_PENDING, Ordering::Release);
    }

    /// Clears [`CANCEL_PENDING`]; whether it was set.
    #[inline]
    pub fn take_cancel(&self) -> bool {
        self.busy.word.fetch_and(!CANCEL_PENDING, Ordering::AcqRel) & CANCEL_PENDING != 0
    }

    /// Whether [`CANCEL_PENDING`] is set.
    #[inline]
    pub fn cancel_pending(&self) -> bool {
        self.busy.word.load(Ordering::Acquire) & CANCEL_PENDING != 0
    }

    /// Whether a call holds the busy word (exact for the calling thread's own calls).
    #[inline]
    pub fn is_busy(&self) -> bool {
        self.busy.word.load(Ordering::Relaxed) & BUSY != 0
    }

    /// Takes the busy word if it is free (whatever the summary) and no cancel fence is set.
    #[inline(always)]
    pub fn try_acquire(&self) -> bool {
        self.busy.try_take_unless(FENCE)
    }

    /// Takes the busy word, waiting for a running call and for a cancel in the driver
    /// ([`FENCE`]).
    #[inline(always)]
    fn acquire(&self) {
        self.busy.take_unless(FENCE);
    }

    /// Cross-thread cancel (§3.2): sets the cancel fence if a call holds the busy word,
    /// nothing is being freed and no other cancel is in the driver — one atomic step, so
    /// the call the fence is set for is the call that holds the word at that moment, and
    /// no later call can take the word before [`Gated::unfence`].
    pub fn fence_running(&self) -> FenceTry {
        let mut w = self.busy.word.load(Ordering::Relaxed);
        loop {
            if w & (FENCE | FREEING) != 0 {
                return FenceTry::Closed;
            }
            if w & BUSY == 0 {
                return FenceTry::Idle;
            }
            match self.busy.word.compare_exchange_weak(w, w | FENCE, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => return FenceTry::Entered,
                Err(cur) => w = cur,
            }
        }
    }

    /// For a cancel aimed at one operation (decisions #144, #146): takes the busy word if no
    /// call runs, or else the cancel fence over the call that holds it, so that no new call
    /// can begin, and only then asks `ours` whether the operation still runs. Whatever it
    /// holds is held only when `ours` said yes.
    pub fn hold_for_cancel(&self, ours: impl Fn() -> bool) -> CancelHold<'_, C> {
        if !ours() {
            return CancelHold::NotOurs;
        }
        for _ in 0..4 {
            if let Some(busy) = self.try_begin() {
                // No call runs and none can begin: the operation cannot change under this.
                return if ours() { CancelHold::Owned(busy) } else { CancelHold::NotOurs };
            }
            match self.fence_running() {
                FenceTry::Entered => {}
                FenceTry::Idle => {
                    std::hint::spin_loop();
                    continue;
                }
                FenceTry::Closed => return CancelHold::Closed,
            }
            // The call that holds the word now is the only one that can run until the fence
            // is cleared: it belongs to the operation only if the operation still runs.
            if ours() {
                return CancelHold::Fenced;
            }
            self.unfence();
            return CancelHold::NotOurs;
        }
        CancelHold::Closed
    }

    /// Sets the cancel fence whether or not a call runs (a cancel that holds the busy word
    /// itself, or a connection cancel of an asynchronous operation); `false` if the driver
    /// handle is being freed or another cancel is in the driver.
    pub fn fence(&self) -> bool {
        let mut w = self.busy.word.load(Ordering::Relaxed);
        loop {
            if w & (FENCE | FREEING) != 0 {
                return false;
            }
            match self.busy.word.compare_exchange_weak(w, w | FENCE, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => return true,
                Err(cur) => w = cur,
            }
        }
    }

    /// Clears the cancel fence (after the driver's cancel returned) and wakes the calls
    /// and the free that wait for it.
    pub fn unfence(&self) {
        self.busy.clear_bits(FENCE);
    }

    /// Before the driver handle is freed: marks it [`FREEING`] (every later cancel is a
    /// no-op and sets no fence), after waiting for a cancel that is inside the driver to
    /// come out. Never waits for anything else, so it cannot deadlock: a fence holder only
    /// waits for the driver (and, at `Threading` 3, its leaf lock).
    pub fn fence_free(&self) {
        let mut w = self.busy.word.load(Ordering::Acquire);
        loop {
            if w & FENCE != 0 {
                self.busy.wait_while(FENCE);
                w = self.busy.word.load(Ordering::Acquire);
                continue;
            }
            match self.busy.word.compare_exchange_weak(w, w | FREEING, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return,
                Err(cur) => w = cur,
            }
        }
    }

    /// Undoes [`Gated::fence_free`] (the driver refused to free its handle, or the
    /// connection's driver handles are gone and a new connect may install new ones).
    pub fn unfence_free(&self) {
        self.busy.word.fetch_and(!FREEING, Ordering::Release);
    }

    /// Whether [`Gated::fence_free`] is in force.
    pub fn is_freeing(&self) -> bool {
        self.busy.word.load(Ordering::Acquire) & FREEING != 0
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

    /// Reads the core even while a call is in flight (the core is consistent between
    /// calls, and the in-flight call only changes it under this same mutex). For the
    /// cross-thread paths (SQLCancel, the §1.11 checks of a connection's statements) that
    /// must not wait for the call. Read-only: a change goes through the busy word
    /// ([`Gated::with`], [`Busy::core`], [`Busy::end`]).
    #[inline]
    pub fn read<R>(&self, f: impl FnOnce(&C) -> R) -> R {
        let g = self.lock();
        f(&g)
    }

    /// Reads the core like [`Gated::read`] but leaves a published summary in place: an
    /// observation that changes nothing (the crate's tests, through `internals`, compare
    /// states and diagnostics between calls without keeping the next call off its fast
    /// lane).
    pub fn observe<R>(&self, f: impl FnOnce(&C) -> R) -> R {
        let g = self.core.lock().unwrap_or_else(|p| p.into_inner());
        f(&g)
    }

    /// Changes the core of a handle whose busy word the caller holds through a call in
    /// progress (a `Call`/`StmtCall` of this handle) without the [`Busy`] token at hand.
    /// Debug builds check that the word is held.
    #[inline]
    pub fn update<R>(&self, f: impl FnOnce(&mut C) -> R) -> R {
        debug_assert!(self.is_busy(), "Gated::update without the busy word");
        let mut g = self.lock();
        f(&mut g)
    }

    /// Changes the core *without* the busy word. Only for the few writes that must not
    /// wait for a call on this handle and that no call keeps across a driver call: a
    /// cross-thread SQLCancel's own DM error (§3.1: it never waits), the bookkeeping a
    /// connection keeps of its children (its statement and descriptor lists, written by
    /// a child's free while the child — not the connection — is held: waiting for the
    /// connection there could deadlock with SQLDisconnect), marking the children of a
    /// disconnected connection freed, and a handle's first set-up before the application
    /// has seen it. Everything else uses [`Gated::with`] or the [`Busy`] token.
    #[inline]
    pub fn write_unguarded<R>(&self, f: impl FnOnce(&mut C) -> R) -> R {
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
            if hot != 0 && super::may_publish() {
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
    fn cancel_fence_is_set_only_on_a_running_call_and_keeps_the_next_call_out() {
        // docs/decisions.md #29 (§3.2): the fence needs a call holding the word; while it is
        // set, no other call (slow path or fast lane) can take the word.
        let g = Arc::new(Gated::new(0u32));
        assert_eq!(g.fence_running(), FenceTry::Idle, "nothing runs");
        let (busy, ()) = g.begin(|_| Ok::<(), ()>(())).unwrap();
        busy.end_publishing(|_| ((), 8));
        assert!(g.fast_enter(8)); // call N, on the fast lane
        assert_eq!(g.fence_running(), FenceTry::Entered);
        assert_eq!(g.fence_running(), FenceTry::Closed, "one cancel in the driver at a time");
        g.release(); // call N ends while the cancel is in the driver
        assert!(!g.fast_enter(8), "the fast lane cannot take the word under the fence");
        assert!(!g.try_acquire(), "nor the slow path");
        let entered = Arc::new(AtomicU32::new(0));
        let t = {
            let (g, entered) = (g.clone(), entered.clone());
            std::thread::spawn(move || {
                g.with(|c| *c += 1); // call N + 1 parks until the fence is cleared
                entered.store(1, Ordering::SeqCst);
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert_eq!(entered.load(Ordering::SeqCst), 0, "call N + 1 ran while the cancel was in the driver");
        g.unfence();
        t.join().unwrap();
        assert_eq!(g.with(|c| *c), 1);
        assert!(g.try_acquire(), "the fence is gone");
        g.release();
    }

    #[test]
    fn free_waits_for_the_cancel_in_the_driver_and_then_fences_out_every_cancel() {
        // docs/decisions.md #29 (§3.1): the free never overlaps a driver cancel.
        let g = Arc::new(Gated::new(()));
        let (busy, ()) = g.begin(|_| Ok::<(), ()>(())).unwrap(); // the free's own call
        assert_eq!(g.fence_running(), FenceTry::Entered); // a cancel got in first
        let freeing = Arc::new(AtomicU32::new(0));
        let t = {
            let (g, freeing) = (g.clone(), freeing.clone());
            std::thread::spawn(move || {
                g.fence_free();
                freeing.store(1, Ordering::SeqCst);
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert_eq!(freeing.load(Ordering::SeqCst), 0, "the free went ahead while a cancel was in the driver");
        g.unfence();
        t.join().unwrap();
        assert!(g.is_freeing());
        assert_eq!(g.fence_running(), FenceTry::Closed, "a cancel after the free began is a no-op");
        assert!(!g.fence(), "also for the owner-path and connection cancels");
        busy.end(|_| ());
        g.unfence_free();
        assert!(g.fence());
        g.unfence();
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
        g.read(|_| ());
        assert!(!g.fast_enter(8));
        // The slow path takes the word whatever the summary.
        let (busy, ()) = g.begin(|_| Ok::<(), ()>(())).unwrap();
        busy.end_publishing(|_| ((), 8));
        assert!(g.try_acquire());
        g.release();
    }
}
