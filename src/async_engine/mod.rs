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
pub use slot::{AsyncSlot, Completed, Invoke};
pub use token::{Target, Token};

/// Gives up waiting for callbacks on `target`'s operation: the dispatcher polls it (the
/// captured call, re-invoked every ~2 ms) until it ends. Used by `abort()` after a cancel,
/// for drivers that never call back (faults `NoCallback`, `WrongContext`).
pub fn drive_by_polling(target: Target) {
    drive_by_polling_after(target, std::time::Duration::ZERO);
}

/// As [`drive_by_polling`], starting only after `grace`: a driver that calls back within
/// it is not polled at all (its callback clears the request), because polling a driver
/// that does call back pairs each extra SQL_STILL_EXECUTING with one more callback (§2.7).
/// A new operation on the handle is never polled on behalf of an earlier one.
pub fn drive_by_polling_after(target: Target, grace: std::time::Duration) {
    let host = host::resolve(target);
    if let Some(h) = host {
        if h.slot().mark(slot::DRIVEN) {
            dispatcher::ensure_started();
            dispatcher::drive(target, std::time::Instant::now() + grace);
        }
    }
}
