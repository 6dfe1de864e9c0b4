//! The application-side completion event of notification mode (§2.1, §2.2, §2.12, §7.7).
//!
//! The spec's event is a Win32 event object. On Linux the DM defines it as an
//! [`AsyncEvent`]: a manual-reset event backed by an `eventfd`, so an application can wait
//! on it directly (`wait`, `wait_timeout`) or put its file descriptor ([`AsyncEvent::raw_fd`])
//! in its own epoll set or reactor: the fd is readable exactly while the event is set.
//!
//! The value given to `SQL_ATTR_ASYNC_STMT_EVENT` / `SQL_ATTR_ASYNC_DBC_EVENT` is
//! [`AsyncEvent::as_attr`]. The DM looks that pointer up in a registry of live events before
//! using it, so a stale or garbage value is refused with HY024 instead of being
//! dereferenced, and it keeps its own reference to the event for as long as the attribute
//! holds it. The DM sets the event when an operation ends and never resets it (§2.12).

use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Weak};
use std::time::{Duration, Instant};

use dashmap::DashMap;

/// Registry of live events by attribute value, so the DM never dereferences an unknown
/// pointer that an application passed as an attribute.
static REGISTRY: LazyLock<DashMap<usize, Weak<Inner>>> = LazyLock::new(DashMap::new);

struct Inner {
    fd: RawFd,
    /// Mirrors "the counter is non-zero", so `set` on a set event is one atomic load.
    set: AtomicBool,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // SAFETY: `fd` is the eventfd this object created and owns; closed exactly once.
        unsafe { libc::close(self.fd) };
    }
}

/// A manual-reset event backed by an eventfd. Cloning shares the same event.
#[derive(Clone)]
pub struct AsyncEvent {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for AsyncEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncEvent").field("fd", &self.inner.fd).field("set", &self.is_set()).finish()
    }
}

impl AsyncEvent {
    /// A new event, not set.
    pub fn new() -> std::io::Result<AsyncEvent> {
        // SAFETY: plain syscall; flags are valid eventfd flags.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let inner = Arc::new(Inner { fd, set: AtomicBool::new(false) });
        REGISTRY.insert(Arc::as_ptr(&inner) as usize, Arc::downgrade(&inner));
        Ok(AsyncEvent { inner })
    }

    /// The value to pass as `SQL_ATTR_ASYNC_STMT_EVENT` / `SQL_ATTR_ASYNC_DBC_EVENT`.
    pub fn as_attr(&self) -> *mut std::ffi::c_void {
        Arc::as_ptr(&self.inner) as *mut std::ffi::c_void
    }

    /// The event an attribute value names, if it is a live event.
    pub fn from_attr(value: usize) -> Option<AsyncEvent> {
        let weak = REGISTRY.get(&value).map(|w| w.clone())?;
        weak.upgrade().map(|inner| AsyncEvent { inner })
    }

    /// The eventfd: readable (POLLIN) exactly while the event is set.
    pub fn raw_fd(&self) -> RawFd {
        self.inner.fd
    }

    /// Whether the event is set.
    pub fn is_set(&self) -> bool {
        self.inner.set.load(Ordering::Acquire)
    }

    /// Sets the event (idempotent) and wakes every waiter.
    pub fn set(&self) {
        if self.inner.set.swap(true, Ordering::AcqRel) {
            return;
        }
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a valid u64 to our own eventfd. A full counter
        // (EAGAIN) cannot happen: the counter is at most 1 while `set` guards it.
        unsafe { libc::write(self.inner.fd, &one as *const u64 as *const libc::c_void, 8) };
    }

    /// Clears the event; the application does this before starting the next operation
    /// (§2.12: the DM never resets it).
    pub fn reset(&self) {
        let mut v: u64 = 0;
        // SAFETY: reads 8 bytes into a valid u64 from our own non-blocking eventfd; EAGAIN
        // (already clear) is fine.
        unsafe { libc::read(self.inner.fd, &mut v as *mut u64 as *mut libc::c_void, 8) };
        self.inner.set.store(false, Ordering::Release);
    }

    /// Waits until the event is set.
    pub fn wait(&self) {
        while !self.wait_timeout(Duration::from_secs(3600)) {}
    }

    /// Waits until the event is set or `timeout` passes; `true` if it is set.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.is_set() {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return self.is_set();
            }
            let mut pfd = libc::pollfd { fd: self.inner.fd, events: libc::POLLIN, revents: 0 };
            let ms = left.as_millis().clamp(1, i32::MAX as u128) as i32;
            // SAFETY: one valid pollfd for our own fd.
            unsafe { libc::poll(&mut pfd, 1, ms) };
        }
    }
}

impl Drop for AsyncEvent {
    fn drop(&mut self) {
        // The last application/DM reference: forget the registry entry.
        if Arc::strong_count(&self.inner) == 1 {
            REGISTRY.remove(&(Arc::as_ptr(&self.inner) as usize));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_reset_wait() {
        let e = AsyncEvent::new().unwrap();
        assert!(!e.wait_timeout(Duration::from_millis(5)));
        e.set();
        e.set();
        assert!(e.wait_timeout(Duration::ZERO));
        e.reset();
        assert!(!e.is_set());
        let e2 = e.clone();
        let t = std::thread::spawn(move || e2.set());
        assert!(e.wait_timeout(Duration::from_secs(5)));
        t.join().unwrap();
    }

    #[test]
    fn attr_value_is_checked_against_the_registry() {
        let e = AsyncEvent::new().unwrap();
        let v = e.as_attr() as usize;
        assert!(AsyncEvent::from_attr(v).is_some());
        assert!(AsyncEvent::from_attr(0xdead_beef).is_none());
        drop(e);
        assert!(AsyncEvent::from_attr(v).is_none());
    }

    #[test]
    fn fd_is_readable_only_while_set() {
        let e = AsyncEvent::new().unwrap();
        let mut pfd = libc::pollfd { fd: e.raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd.
        assert_eq!(unsafe { libc::poll(&mut pfd, 1, 0) }, 0);
        e.set();
        // SAFETY: as above.
        assert_eq!(unsafe { libc::poll(&mut pfd, 1, 0) }, 1);
        e.reset();
        // SAFETY: as above.
        assert_eq!(unsafe { libc::poll(&mut pfd, 1, 0) }, 0);
    }
}
