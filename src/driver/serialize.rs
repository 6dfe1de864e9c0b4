//! `Threading`: serialization for drivers that are not thread-safe and rely on the driver
//! manager to serialize their calls, as unixODBC does.
//!
//! §3.1 says drivers must be thread-safe, and odbc-dm trusts them by default: calls on
//! different handles run in parallel (the per-handle gate still serializes calls on one
//! handle). Some drivers are not: libsqlite3odbc's own source says that on Unix it assumes
//! "the driver manager provides serialization", and its SQLCancel frees the statement's
//! result (after `sqlite3_interrupt`) while another thread may still be inside a call on
//! that statement. For such drivers the DM honours unixODBC's odbcinst.ini keyword
//! `Threading` (docs/decisions.md #28):
//!
//! | level | unixODBC | odbc-dm |
//! |---|---|---|
//! | 0 | no protection | none beyond the per-handle gate (the default) |
//! | 1 | per statement | the same: the per-handle gate already does it |
//! | 2 | per connection | one lock per loaded driver around every call, SQLCancel and SQLCancelHandle excepted (coarser than unixODBC, never unsafe) |
//! | 3 | per environment | one lock per loaded driver around every call, SQLCancel and SQLCancelHandle included |
//!
//! Without the keyword, known unsafe drivers get a level of their own (see
//! [`default_level`]).
//!
//! How: the lock is a *leaf* taken around the driver's C function only, never while the DM
//! takes any other lock, so it cannot deadlock with the DM's gates. It is installed in the
//! driver's function table itself: each entry point is replaced by a trampoline with the
//! same signature, generic over a slot number `N`, that takes slot `N`'s lock and calls the
//! real entry point stored in the slot. Every DM path but the fast lanes calls through the
//! table, so nothing else in the DM knows about serialization, and a driver that needs none
//! pays nothing. This is the one place where the DM holds a lock across a driver call, on
//! purpose: it is what the driver asked for.
//!
//! The fast lanes (SQLFetch, SQLGetData, SQLGetInfo/W) bypass the trampoline, which cost
//! ≈ 23 instructions per call: the handle caches the driver's own entry point
//! (`Driver::real`) and the address of the slot's lock (`Driver::serial`, 0 when not
//! serialized), and `lane_call` takes the lock around the call itself (`lock bts`, call,
//! `lock dec`), after the handle's busy word, as a trampoline would. A lock that is taken
//! sends the call through the trampoline instead, which waits for it: the lane then holds
//! its handle's busy word and no other DM lock while it waits, as the full path does. The
//! lock is still a leaf: nothing else is taken while it is held.

use std::path::Path;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use odbc_dm_abi::SqlReturn;

use super::DriverFns;
use crate::parking::ParkingWord;

/// unixODBC's `Threading` level (odbcinst.ini).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Threading {
    /// 0 and 1: the driver is thread-safe (§3.1); the per-handle gate serializes each handle.
    Handle,
    /// 2: every call into the driver is serialized, except SQLCancel and SQLCancelHandle.
    Driver,
    /// 3: every call into the driver is serialized, SQLCancel and SQLCancelHandle included.
    DriverWithCancel,
}

impl Threading {
    /// The level of an odbcinst.ini `Threading` value; `None` for anything but 0–3.
    pub fn parse(value: &str) -> Option<Threading> {
        match value.trim() {
            "0" | "1" => Some(Threading::Handle),
            "2" => Some(Threading::Driver),
            "3" => Some(Threading::DriverWithCancel),
            _ => None,
        }
    }

    /// The unixODBC number of this level (0, 2 or 3).
    pub fn level(self) -> u8 {
        match self {
            Threading::Handle => 0,
            Threading::Driver => 2,
            Threading::DriverWithCancel => 3,
        }
    }
}

/// The level of a driver whose odbcinst.ini section has no `Threading` (or that was given
/// by path): level 3 for the SQLite ODBC drivers (they rely on the DM to serialize, and
/// their SQLCancel closes the cursor, so it must not run beside another call), level 0
/// (thread-safe, §3.1) for everything else.
pub fn default_level(driver_path: &Path) -> Threading {
    if is_sqlite_odbc(driver_path) {
        Threading::DriverWithCancel
    } else {
        Threading::Handle
    }
}

/// Whether the file is Christian Werner's SQLite ODBC driver (`libsqlite3odbc*` or
/// `libsqliteodbc*`), whose quirks the DM knows by name: it needs serialization (#28) and
/// ignores the parameter bind offset (#143).
pub(crate) fn is_sqlite_odbc(driver_path: &Path) -> bool {
    let name = driver_path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.starts_with("libsqlite3odbc") || name.starts_with("libsqliteodbc")
}

/// How many serialized drivers (distinct file + level) a process can load.
pub const SLOTS: usize = 16;

/// One serialized driver: its lock and its real entry points.
pub(crate) struct Slot {
    lock: SerialLock,
    /// The real table, leaked on purpose (drivers are never unloaded); null until set.
    real: AtomicPtr<DriverFns>,
}

impl Slot {
    const fn new() -> Slot {
        Slot { lock: SerialLock::new(), real: AtomicPtr::new(std::ptr::null_mut()) }
    }
}

/// The lock of a serialized driver: a [`ParkingWord`] (one atomic read-modify-write to
/// take, one to give back, waiters parked only under contention; the same scheme as the
/// per-handle gate's busy word), so an uncontended serialized call costs a few
/// instructions.
pub(crate) struct SerialLock(ParkingWord);

impl SerialLock {
    const fn new() -> SerialLock {
        SerialLock(ParkingWord::new())
    }

    /// Takes the lock if it is free. Cannot panic.
    #[inline(always)]
    pub(crate) fn try_lock(&self) -> bool {
        self.0.try_take()
    }

    /// Waits for the lock (the contended path, out of line). Cannot panic.
    fn lock_slow(&self) {
        self.0.take_slow();
    }

    /// Gives the lock back (taken by [`SerialLock::try_lock`] or the contended path). Cannot
    /// panic (the wake-up tolerates a poisoned mutex).
    #[inline(always)]
    pub(crate) fn unlock(&self) {
        self.0.give_back();
    }

    /// [`SerialLock::unlock`] that carries the driver's return code through the wake-up
    /// call, so that a caller keeps nothing in callee-saved registers for it.
    #[inline(always)]
    fn unlock_passing(&self, rc: SqlReturn) -> SqlReturn {
        self.0.give_back_passing(rc)
    }
}

/// The address of a serialized driver's lock as a fast lane caches it (0: the driver is
/// not serialized).
#[inline]
pub(crate) fn lock_addr(lock: Option<&'static SerialLock>) -> usize {
    lock.map_or(0, |l| l as *const SerialLock as usize)
}

/// A fast lane's driver call: `real` (a call of the driver's own entry point) under the lock
/// whose address `addr` holds (0: none; see [`lock_addr`]), taken around the call only, as
/// a trampoline would. `addr` is read again after the call rather than kept in a register
/// across it: it does not change while the lane runs (the handle's busy word, which the
/// lane holds, guards it). If the lock is taken, `tramp` (the same call through the
/// trampoline of the table, `Driver::fns`) waits for it, exactly as the full path would: the
/// lane then holds its handle's busy word, never another DM lock, while it waits. Cannot
/// panic.
#[inline(always)]
pub(crate) fn lane_call(addr: &AtomicUsize, real: impl FnOnce() -> SqlReturn, tramp: impl FnOnce() -> SqlReturn) -> SqlReturn {
    let p = addr.load(Ordering::Relaxed) as *const SerialLock;
    if p.is_null() {
        return real();
    }
    // SAFETY: a non-zero address is `lock_addr` of a lock in the static slot table.
    let l = unsafe { &*p };
    if !l.try_lock() {
        return tramp();
    }
    let rc = real();
    // SAFETY: the same address as above (unchanged while the lane runs, see the doc).
    let l = unsafe { &*(addr.load(Ordering::Relaxed) as *const SerialLock) };
    l.unlock_passing(rc)
}

static SLOT_TABLE: [Slot; SLOTS] = [const { Slot::new() }; SLOTS];
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

/// Why a driver could not be given a serialization slot.
#[derive(Debug, thiserror::Error)]
#[error("more than {SLOTS} drivers with Threading 2 or 3 loaded in this process")]
pub struct NoSlotLeft;

/// The table the DM calls through for `real` at level `level`: `real` itself at level 0/1,
/// otherwise trampolines of a fresh slot (SQLCancel and SQLCancelHandle left direct at
/// level 2), with that slot's lock (for the fast lanes, which take it themselves around
/// the real entry point: see the module doc).
pub(crate) fn table_for(real: DriverFns, level: Threading) -> Result<(DriverFns, Option<&'static SerialLock>), NoSlotLeft> {
    if level == Threading::Handle {
        return Ok((real, None));
    }
    let n = NEXT_SLOT.fetch_add(1, Ordering::Relaxed);
    if n >= SLOTS {
        return Err(NoSlotLeft);
    }
    // The slot is fresh: nobody calls its trampolines before this returns. Leaked: the
    // table lives as long as the driver, which is never unloaded.
    SLOT_TABLE[n].real.store(Box::into_raw(Box::new(real)), Ordering::Release);
    let mut t = by_slot(n, &real);
    if level == Threading::Driver {
        t.SQLCancel = real.SQLCancel;
        t.SQLCancelHandle = real.SQLCancelHandle;
    }
    Ok((t, Some(&SLOT_TABLE[n].lock)))
}

macro_rules! by_slot {
    ($( $n:literal )*) => {
        /// `real.serialized::<n>()` for a slot number known only at run time.
        fn by_slot(n: usize, real: &DriverFns) -> DriverFns {
            match n {
                $( $n => real.serialized::<$n>(), )*
                _ => *real,
            }
        }
    };
}
by_slot!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);

/// Slot `n`'s real table (`None` if the slot is empty, which no installed trampoline can
/// see).
#[inline(always)]
pub(crate) fn real(n: usize) -> Option<&'static DriverFns> {
    let p = SLOT_TABLE[n].real.load(Ordering::Acquire);
    // SAFETY: a non-null pointer was stored from a leaked Box by `table_for` and is never
    // freed or written again.
    (!p.is_null()).then(|| unsafe { &*p })
}

/// Takes slot `n`'s lock if it is free (the trampolines' fast path).
#[inline(always)]
pub(crate) fn try_lock(n: usize) -> bool {
    SLOT_TABLE[n].lock.try_lock()
}

/// Waits for slot `n`'s lock (the trampolines' contended path, out of line).
pub(crate) fn lock(n: usize) {
    SLOT_TABLE[n].lock.lock_slow();
}

/// Gives slot `n`'s lock back.
#[inline(always)]
pub(crate) fn unlock(n: usize) {
    SLOT_TABLE[n].lock.unlock();
}

macro_rules! trampolines {
    ($( $name:ident ( $( $arg:ident : $t:ty ),* $(,)? ); )*) => {
        /// One trampoline per entry point, generic over the slot number. The uncontended
        /// path takes the lock with one compare-and-swap, calls the driver with the
        /// arguments still in place, and gives the lock back; a contended lock hands the
        /// call, arguments untouched, to the out-of-line twin in [`contended`], so the fast
        /// path keeps nothing in callee-saved registers.
        #[allow(non_snake_case, clippy::too_many_arguments)]
        pub(crate) mod tramp {
            use odbc_dm_abi::*;
            use odbc_dm_abi::fns::SqlSetPosIRow;
            $(
                /// Serialized call of the entry point of the same name (see the module doc).
                pub(crate) unsafe extern "C" fn $name<const N: usize>( $( $arg: $t ),* ) -> SqlReturn {
                    // No panic can start in a trampoline (atomics, a poison-tolerant
                    // condvar wait), so nothing unwinds into the caller's `extern "C"` frame.
                    if !super::try_lock(N) {
                        // SAFETY: the same call, with the caller's arguments unchanged.
                        return unsafe { super::contended::$name::<N>( $( $arg ),* ) };
                    }
                    let rc = match super::real(N).and_then(|r| r.$name) {
                        // SAFETY: the driver's own entry point of this name and signature,
                        // called with the caller's arguments unchanged, as the caller would
                        // have called it directly; the slot's lock only delays it.
                        Some(f) => unsafe { f( $( $arg ),* ) },
                        None => SqlReturn::SQL_ERROR,
                    };
                    super::unlock(N);
                    rc
                }
            )*
        }

        /// The trampolines' path when the lock is taken: wait for it, then call.
        #[allow(non_snake_case, clippy::too_many_arguments)]
        pub(crate) mod contended {
            use odbc_dm_abi::*;
            use odbc_dm_abi::fns::SqlSetPosIRow;
            $(
                #[cold]
                #[inline(never)]
                pub(crate) unsafe extern "C" fn $name<const N: usize>( $( $arg: $t ),* ) -> SqlReturn {
                    super::lock(N);
                    let rc = match super::real(N).and_then(|r| r.$name) {
                        // SAFETY: as in the uncontended trampoline.
                        Some(f) => unsafe { f( $( $arg ),* ) },
                        None => SqlReturn::SQL_ERROR,
                    };
                    super::unlock(N);
                    rc
                }
            )*
        }
    };
}
odbc_dm_abi::with_entry_points!(trampolines);

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    #[test]
    fn threading_values_parse_as_unixodbc_levels() {
        assert_eq!(Threading::parse("0"), Some(Threading::Handle));
        assert_eq!(Threading::parse(" 1 "), Some(Threading::Handle));
        assert_eq!(Threading::parse("2"), Some(Threading::Driver));
        assert_eq!(Threading::parse("3"), Some(Threading::DriverWithCancel));
        assert_eq!(Threading::parse("4"), None);
        assert_eq!(Threading::parse("yes"), None);
    }

    #[test]
    fn serial_lock_excludes_and_wakes_waiters() {
        static LOCK: SerialLock = SerialLock::new();
        let inside = std::sync::Arc::new(AtomicU32::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let inside = inside.clone();
                std::thread::spawn(move || {
                    for _ in 0..2000 {
                        if !LOCK.try_lock() {
                            LOCK.lock_slow();
                        }
                        assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "two holders");
                        std::hint::spin_loop();
                        inside.fetch_sub(1, Ordering::SeqCst);
                        LOCK.unlock();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(LOCK.0.word.load(Ordering::SeqCst) & crate::parking::HELD, 0);
    }

    #[test]
    fn lane_call_locks_around_the_call_and_uses_the_trampoline_when_taken() {
        static LOCK: SerialLock = SerialLock::new();
        let addr = AtomicUsize::new(lock_addr(Some(&LOCK)));
        let rc = lane_call(
            &addr,
            || {
                assert!(!LOCK.try_lock(), "held during the call");
                SqlReturn::SQL_SUCCESS
            },
            || unreachable!(),
        );
        assert_eq!(rc, SqlReturn::SQL_SUCCESS);
        assert!(LOCK.try_lock(), "given back");
        // Taken: the trampoline's call instead, the lock left to its holder.
        assert_eq!(lane_call(&addr, || unreachable!(), || SqlReturn::SQL_NO_DATA), SqlReturn::SQL_NO_DATA);
        LOCK.unlock();
        assert_eq!(LOCK.0.word.load(Ordering::SeqCst), 0);
        // Not serialized: the call as is.
        let none = AtomicUsize::new(lock_addr(None));
        assert_eq!(lane_call(&none, || SqlReturn::SQL_SUCCESS_WITH_INFO, || unreachable!()), SqlReturn::SQL_SUCCESS_WITH_INFO);
    }

    #[test]
    fn sqlite_drivers_default_to_level_3_others_to_0() {
        let p = Path::new("/usr/lib/x86_64-linux-gnu/odbc/libsqlite3odbc.so");
        assert_eq!(default_level(p), Threading::DriverWithCancel);
        assert_eq!(default_level(Path::new("libsqliteodbc.so")), Threading::DriverWithCancel);
        assert_eq!(default_level(Path::new("/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so")), Threading::Handle);
        assert_eq!(default_level(Path::new("libmaodbc.so")), Threading::Handle);
    }
}
