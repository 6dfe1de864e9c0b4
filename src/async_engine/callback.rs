//! The notification callback the DM installs on driver handles (§2.4, §2.10).
//!
//! It runs on a driver thread (or, for a misbehaving driver, on the calling thread while
//! the DM's own driver call is on the stack, §7.5). It therefore does the least possible:
//! check the context against the lock-free token table, enqueue one message for the
//! dispatcher on an unbounded channel, return. No lock, no map, no driver call (§2.8).

use std::ffi::c_void;
use std::os::raw::c_int;
use std::sync::atomic::{AtomicU64, Ordering};

use odbc_dm_abi::SqlReturn;

use super::dispatcher;
use super::token::Token;

/// Callbacks refused because their context was unknown or stale (§2.10: SQL_ERROR).
pub static REFUSED_CALLBACKS: AtomicU64 = AtomicU64::new(0);

/// The DM's `SQL_ASYNC_NOTIFICATION_CALLBACK`.
///
/// # Safety
/// Any context value is accepted (it is only compared against the token table, never
/// dereferenced); callable from any thread.
pub unsafe extern "C" fn notification_callback(context: *mut c_void, _last: c_int) -> SqlReturn {
    let r = std::panic::catch_unwind(|| match Token::check(context as usize) {
        // fLast is only a hint (§2.10); the dispatcher does not rely on it.
        Some((_, target)) if dispatcher::send_callback(target) => SqlReturn::SQL_SUCCESS,
        Some(_) => SqlReturn::SQL_ERROR,
        None => {
            REFUSED_CALLBACKS.fetch_add(1, Ordering::Relaxed);
            SqlReturn::SQL_ERROR
        }
    });
    r.unwrap_or(SqlReturn::SQL_ERROR)
}

/// The callback as the attribute value drivers receive.
pub fn callback_attr_value() -> usize {
    notification_callback as odbc_dm_abi::SqlAsyncNotificationCallback as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_context_is_refused_2_10() {
        let before = REFUSED_CALLBACKS.load(Ordering::Relaxed);
        // SAFETY: the callback accepts any context value.
        let rc = unsafe { notification_callback(0xDEAD_BEEF as *mut c_void, 0) };
        assert_eq!(rc, SqlReturn::SQL_ERROR);
        assert!(REFUSED_CALLBACKS.load(Ordering::Relaxed) > before);
    }
}
