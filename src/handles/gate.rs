//! The per-handle call gate: calls on one handle are serialized (§3.1), calls on different
//! handles run in parallel.
//!
//! The gate is a busy flag plus a short-lived mutex around the handle's core state. The
//! mutex is taken only to check and flip state before and after a driver call, never
//! across it; the busy flag is what keeps a second caller out while the driver runs.
//! SQLCancel and the notification callback never wait on either (§3.1, §2.8).

use std::sync::{Condvar, Mutex, MutexGuard};

struct Slot<C> {
    busy: bool,
    waiters: u32,
    core: C,
}

/// A handle's core state `C`, guarded for serialized calls.
pub struct Gated<C> {
    slot: Mutex<Slot<C>>,
    cv: Condvar,
}

impl<C> Gated<C> {
    pub fn new(core: C) -> Self {
        Gated { slot: Mutex::new(Slot { busy: false, waiters: 0, core }), cv: Condvar::new() }
    }

    #[inline(always)]
    fn lock(&self) -> MutexGuard<'_, Slot<C>> {
        self.slot.lock().unwrap_or_else(|p| p.into_inner())
    }

    #[inline(always)]
    fn lock_idle(&self) -> MutexGuard<'_, Slot<C>> {
        let mut g = self.lock();
        if g.busy {
            g = self.wait_idle(g);
        }
        g
    }

    #[cold]
    #[inline(never)]
    fn wait_idle<'g>(&'g self, mut g: MutexGuard<'g, Slot<C>>) -> MutexGuard<'g, Slot<C>> {
        g.waiters += 1;
        while g.busy {
            g = self.cv.wait(g).unwrap_or_else(|p| p.into_inner());
        }
        g.waiters -= 1;
        g
    }

    /// Waits until no call runs on the handle, then runs `f` on the core. On `Ok`, the
    /// handle is marked busy and the returned token must be ended with [`Gated::end`].
    #[inline(always)]
    pub fn begin<R, E>(&self, f: impl FnOnce(&mut C) -> Result<R, E>) -> Result<(Busy<'_, C>, R), E> {
        let mut g = self.lock_idle();
        let r = f(&mut g.core)?;
        g.busy = true;
        Ok((Busy { gate: self, ended: false }, r))
    }

    /// Runs `f` on the core while no call is running, without marking the handle busy.
    /// For DM-only work (diagnostics, state reads) that makes no driver call.
    #[inline]
    pub fn with<R>(&self, f: impl FnOnce(&mut C) -> R) -> R {
        let mut g = self.lock_idle();
        f(&mut g.core)
    }

    /// Runs `f` on the core even while a call is in flight (the core is consistent between
    /// calls, and the in-flight call only touches it under this same mutex). For the
    /// cross-thread paths (SQLCancel, the dispatcher) that must not wait for the call.
    #[inline]
    pub fn peek<R>(&self, f: impl FnOnce(&mut C) -> R) -> R {
        let mut g = self.lock();
        f(&mut g.core)
    }

    /// Tries to mark the handle busy without waiting; `None` if a call is running.
    pub fn try_begin(&self) -> Option<Busy<'_, C>> {
        let mut g = self.lock();
        if g.busy {
            None
        } else {
            g.busy = true;
            Some(Busy { gate: self, ended: false })
        }
    }

    fn release(&self) {
        let mut g = self.lock();
        g.busy = false;
        if g.waiters > 0 {
            self.cv.notify_one();
        }
    }
}

/// Proof that the current thread owns the handle's call slot. Dropping it without
/// [`Busy::end`] (for example on unwinding) still frees the slot.
pub struct Busy<'a, C> {
    gate: &'a Gated<C>,
    ended: bool,
}

impl<'a, C> Busy<'a, C> {
    /// Runs `f` on the core (e.g. to apply the state transition and record diagnostics)
    /// and frees the call slot, atomically with respect to other callers.
    #[inline(always)]
    pub fn end<R>(mut self, f: impl FnOnce(&mut C) -> R) -> R {
        let mut g = self.gate.lock();
        let r = f(&mut g.core);
        g.busy = false;
        if g.waiters > 0 {
            self.gate.cv.notify_one();
        }
        self.ended = true;
        r
    }

    /// Runs `f` on the core while keeping the slot (between two driver calls of one DM call).
    #[inline]
    pub fn core<R>(&self, f: impl FnOnce(&mut C) -> R) -> R {
        let mut g = self.gate.lock();
        f(&mut g.core)
    }
}

impl<'a, C> Drop for Busy<'a, C> {
    fn drop(&mut self) {
        if !self.ended {
            self.gate.release();
        }
    }
}
