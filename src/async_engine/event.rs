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
//!
//! C applications (the `libodbc.so.2` build) have no `AsyncEvent`: they create an
//! eventfd themselves and pass the file descriptor itself as the attribute value,
//! `(SQLPOINTER)(intptr_t)efd` (docs/decisions.md #63). A value that is not a registered
//! `AsyncEvent` and lies in 1..=i32::MAX is taken as such a descriptor: it must be an
//! eventfd (HY024 otherwise); the DM keeps its own duplicate of it while the attribute
//! holds it, signals it by adding 1 to its counter, and never reads (resets) it.
//!
//! Several handles given the same application eventfd share one duplicate (decision #109):
//! the DM finds the duplicate it already holds for that descriptor number and checks with
//! `kcmp(KCMP_FILE)` that it is still the same open file (the application may have closed
//! its descriptor and opened another under the same number); so an application that
//! shares one event among 100,000 statements costs the DM one descriptor, not 100,000.
//! Where `kcmp` is unavailable, each handle gets its own duplicate as before.
//!
//! The safe API's futures need no event at all: they use the DM's waker notification mode
//! (`raw::ext::SQL_ATTR_DM_ASYNC_WAKER`, decision #108).

use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Weak};
use std::time::{Duration, Instant};

use dashmap::DashMap;

/// Registry of live events by attribute value, so the DM never dereferences an unknown
/// pointer that an application passed as an attribute.
static REGISTRY: LazyLock<DashMap<usize, Weak<Inner>>> = LazyLock::new(DashMap::new);

/// The DM's duplicates of application eventfds, by the application's descriptor number,
/// shared by every handle given that descriptor (see the module docs).
static APP_EVENTS: LazyLock<DashMap<RawFd, Weak<Inner>>> = LazyLock::new(DashMap::new);

/// Whether descriptors `a` and `b` of this process refer to the same open file:
/// `Some(true/false)`, or `None` when the kernel cannot tell (no `kcmp`).
fn same_file(a: RawFd, b: RawFd) -> Option<bool> {
    const KCMP_FILE: libc::c_long = 0;
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() } as libc::c_long;
    // SAFETY: kcmp only compares kernel objects named by numbers; no memory is passed.
    let r = unsafe { libc::syscall(libc::SYS_kcmp, pid, pid, KCMP_FILE, a as libc::c_long, b as libc::c_long) };
    match r {
        0 => Some(true),
        1..=3 => Some(false),
        _ => None,
    }
}

struct Inner {
    fd: RawFd,
    /// Mirrors "the counter is non-zero", so `set` on a set event is one atomic load.
    /// Unused for an application's eventfd, which the application resets itself.
    set: AtomicBool,
    /// For an application's eventfd: the descriptor number it passed (the attribute
    /// value it reads back); `None` for the DM's own events.
    app_fd: Option<RawFd>,
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
        let inner = Arc::new(Inner { fd, set: AtomicBool::new(false), app_fd: None });
        REGISTRY.insert(Arc::as_ptr(&inner) as usize, Arc::downgrade(&inner));
        Ok(AsyncEvent { inner })
    }

    /// The value to pass as `SQL_ATTR_ASYNC_STMT_EVENT` / `SQL_ATTR_ASYNC_DBC_EVENT`.
    pub fn as_attr(&self) -> *mut std::ffi::c_void {
        match self.inner.app_fd {
            Some(fd) => fd as usize as *mut std::ffi::c_void,
            None => Arc::as_ptr(&self.inner) as *mut std::ffi::c_void,
        }
    }

    /// The event an attribute value names, if it is a live event: a registered
    /// `AsyncEvent`, or else an application's eventfd descriptor (see the module docs).
    pub fn from_attr(value: usize) -> Option<AsyncEvent> {
        if let Some(weak) = REGISTRY.get(&value).map(|w| w.clone()) {
            return weak.upgrade().map(|inner| AsyncEvent { inner });
        }
        if (1..=i32::MAX as usize).contains(&value) {
            return AsyncEvent::from_app_fd(value as RawFd);
        }
        None
    }

    /// An application's eventfd `fd` as an event: the DM's own duplicate of the
    /// descriptor, so the application may close its copy at any time. `None` if `fd` is
    /// not an open eventfd.
    fn from_app_fd(fd: RawFd) -> Option<AsyncEvent> {
        let link = std::fs::read_link(format!("/proc/self/fd/{fd}")).ok()?;
        if link.as_os_str() != "anon_inode:[eventfd]" {
            return None;
        }
        // The duplicate another handle holds for the same open eventfd, if any.
        let known = APP_EVENTS.get(&fd).and_then(|w| w.upgrade());
        if let Some(inner) = known {
            if same_file(fd, inner.fd) == Some(true) {
                return Some(AsyncEvent { inner });
            }
        }
        // SAFETY: plain syscall on a descriptor number; an invalid one fails with EBADF.
        let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
        if dup < 0 {
            return None;
        }
        let inner = Arc::new(Inner { fd: dup, set: AtomicBool::new(false), app_fd: Some(fd) });
        if same_file(fd, dup) == Some(true) {
            APP_EVENTS.insert(fd, Arc::downgrade(&inner));
        }
        Some(AsyncEvent { inner })
    }

    /// The eventfd: readable (POLLIN) exactly while the event is set.
    pub fn raw_fd(&self) -> RawFd {
        self.inner.fd
    }

    /// Whether the event is set.
    pub fn is_set(&self) -> bool {
        if self.inner.app_fd.is_some() {
            let mut pfd = libc::pollfd { fd: self.inner.fd, events: libc::POLLIN, revents: 0 };
            // SAFETY: one valid pollfd for our own descriptor; no wait.
            return unsafe { libc::poll(&mut pfd, 1, 0) } == 1;
        }
        self.inner.set.load(Ordering::Acquire)
    }

    /// Sets the event (idempotent) and wakes every waiter.
    pub fn set(&self) {
        if self.inner.app_fd.is_some() {
            // The application resets its eventfd by reading it, unseen by `set`: always
            // add 1 (the counter cannot reach its maximum by ones).
            let one: u64 = 1;
            // SAFETY: writes 8 bytes from a valid u64 to our duplicate of the eventfd.
            unsafe { libc::write(self.inner.fd, &one as *const u64 as *const libc::c_void, 8) };
            return;
        }
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
            match self.inner.app_fd {
                None => {
                    REGISTRY.remove(&(Arc::as_ptr(&self.inner) as usize));
                }
                Some(fd) => {
                    let me = Arc::as_ptr(&self.inner);
                    APP_EVENTS.remove_if(&fd, |_, w| w.as_ptr() == me);
                }
            }
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
    fn an_application_eventfd_is_an_event_and_other_descriptors_are_not() {
        // SAFETY: plain syscall.
        let efd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
        assert!(efd > 0);
        let e = AsyncEvent::from_attr(efd as usize).expect("an eventfd is accepted");
        assert_eq!(e.as_attr() as usize, efd as usize, "reads back as the application's fd");
        assert!(!e.is_set());
        e.set();
        e.set();
        let mut v: u64 = 0;
        // SAFETY: reads 8 bytes into a valid u64 from the application's eventfd.
        assert_eq!(unsafe { libc::read(efd, &mut v as *mut u64 as *mut libc::c_void, 8) }, 8);
        assert_eq!(v, 2, "the DM adds 1 per set on the application's descriptor");
        // The DM's duplicate outlives the application's descriptor.
        // SAFETY: closing our own descriptor.
        unsafe { libc::close(efd) };
        e.set();
        assert!(e.is_set());
        // Not an eventfd (a pipe), and not an open descriptor: no event.
        let mut p = [0; 2];
        // SAFETY: valid array of two ints.
        assert_eq!(unsafe { libc::pipe(p.as_mut_ptr()) }, 0);
        assert!(AsyncEvent::from_attr(p[0] as usize).is_none());
        assert!(AsyncEvent::from_attr(1_000_000).is_none());
        // SAFETY: closing our own descriptors.
        unsafe {
            libc::close(p[0]);
            libc::close(p[1])
        };
    }

    /// Decision #109: handles given the same application eventfd share the DM's one
    /// duplicate; a different eventfd (even under a reused number) gets its own.
    #[test]
    fn handles_sharing_an_application_eventfd_share_one_duplicate() {
        // SAFETY: plain syscall.
        let efd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
        assert!(efd > 0);
        let a = AsyncEvent::from_attr(efd as usize).unwrap();
        let b = AsyncEvent::from_attr(efd as usize).unwrap();
        if same_file(efd, a.raw_fd()).is_none() {
            eprintln!("kcmp unavailable: one duplicate per handle");
            return;
        }
        assert_eq!(a.raw_fd(), b.raw_fd(), "one duplicate for both handles");
        drop((a, b));
        // SAFETY: our own descriptor.
        unsafe { libc::close(efd) };
        // A new eventfd, very likely under the same number: a new duplicate.
        // SAFETY: plain syscall.
        let efd2 = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
        let keep = AsyncEvent::from_attr(efd2 as usize).unwrap();
        // SAFETY: our own descriptor.
        unsafe { libc::close(efd2) };
        // SAFETY: plain syscall.
        let efd3 = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
        let other = AsyncEvent::from_attr(efd3 as usize).unwrap();
        assert_ne!(keep.raw_fd(), other.raw_fd(), "a different open file is never shared");
        other.set();
        let mut v: u64 = 0;
        // SAFETY: reads 8 bytes into a valid u64 from our descriptor.
        assert_eq!(unsafe { libc::read(efd3, &mut v as *mut u64 as *mut libc::c_void, 8) }, 8);
        assert!(!keep.is_set(), "setting one event leaves the other alone");
        // SAFETY: our own descriptor.
        unsafe { libc::close(efd3) };
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
