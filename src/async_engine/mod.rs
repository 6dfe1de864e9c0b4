//! The asynchronous engine: notification mode (§2), polling bookkeeping (§1) and DM
//! emulation for drivers that only run synchronously.
//!
//! - [`event`]: the application's completion event (eventfd), §2.1, §7.7;
//! - [`token`]: generation-tagged notification contexts, checked lock-free by the callback;
//! - [`slot`]: one handle's operation: phase word, captured call, result;
//! - [`callback`]: the `SQL_ASYNC_NOTIFICATION_CALLBACK` the DM gives drivers: it only
//!   enqueues (§2.8);
//! - [`dispatcher`]: the named DM thread that re-invokes the original driver function with
//!   the same arguments (§2.9) and completes the operation;
//! - [`emulation`]: the bounded DM worker pool that runs sync-only drivers' calls;
//! - [`host`]: what the engine needs from a DM handle (statement or connection).
//!
//! See docs/architecture.md for one notification-mode call drawn end to end.

pub mod callback;
pub mod dispatcher;
pub mod emulation;
pub mod event;
pub mod host;
pub mod slot;
pub mod token;

pub use event::AsyncEvent;
pub use host::AsyncHost;
pub use slot::{AsyncSlot, Completed, Delivery, Finish, Invoke, Phase};
pub use token::{Target, Token};

/// A cancel was accepted on `host` (SQLCancel, SQLCancelHandle, §2.14): marks its
/// operation cancelled (HY008 through its completion) and, for a native notification-mode
/// operation, has the dispatcher drive it once the handle's cancel grace has passed, so
/// that it ends even if the driver never calls back (decision #35). Returns whether an
/// operation was running.
pub fn cancel_accepted(host: &dyn AsyncHost) -> bool {
    let slot = host.slot();
    if !slot.mark_cancelled() {
        return false;
    }
    if slot.is_notify() && !slot.is_emulated() {
        let _ = dispatcher::cancelled(host.target(), slot.epoch(), slot.cancel_grace());
    }
    true
}

/// Has the dispatcher poll `target`'s running, cancelled notification-mode operation now
/// (for drivers that never call back). See [`drive_by_polling_after`].
pub fn drive_by_polling(target: Target) {
    drive_by_polling_after(target, std::time::Duration::ZERO);
}

/// As [`drive_by_polling`], starting only after `grace`: a driver whose callback ends the
/// operation within it is not polled. Only the operation running now is driven (by its
/// generation), never a later one on the same handle, and only once it was cancelled.
pub fn drive_by_polling_after(target: Target, grace: std::time::Duration) {
    if let Some(h) = host::resolve(target) {
        drive_generation(target, h.slot().epoch(), grace);
    }
}

/// As [`drive_by_polling_after`] for the operation of generation `epoch` only.
pub fn drive_generation(target: Target, epoch: u64, grace: std::time::Duration) {
    if let Some(h) = host::resolve(target) {
        let slot = h.slot();
        if slot.epoch() == epoch && slot.is_notify() && !slot.is_emulated() && slot.is_running() {
            let _ = dispatcher::cancelled(target, epoch, grace);
        }
    }
}

/// The owner of `host`'s operation goes away (decision #81): `finish` (built by the raw
/// layer: collect the operation, disconnect a connection, free the handle) runs on the DM's
/// worker pool once the operation has ended, or at once (on the pool) when it has ended
/// already. No thread per abandoned operation, no fixed wait: the operation's own end (or
/// the cancel drive, #35, for a driver that never calls back) triggers it.
pub fn abandon(host: &dyn AsyncHost, finish: Finish) {
    if let Err(f) = host.slot().abandon(finish) {
        emulation::run_detached(f);
    }
}
