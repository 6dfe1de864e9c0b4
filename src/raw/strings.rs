//! A↔W adaptation of string arguments between the application's call and the driver's
//! entry point (§ issue 2 point 7): inputs are converted into owned, NUL-terminated
//! buffers; outputs are received in a DM buffer of the driver's width and converted into
//! the application's buffer with honest truncation and the full length in the
//! application's units.

use crate::text;

/// Input text for a driver call of the other width. A boxed slice, not a `Vec`: a
/// statement text converted for a Unicode driver lives in the captured call for the whole
/// asynchronous operation (decision #107).
pub struct InWide {
    buf: Option<Box<[u16]>>,
    len: usize,
}

impl InWide {
    /// Converts an application narrow string `(ptr, len)` (len may be SQL_NTS).
    ///
    /// # Safety
    /// As [`text::narrow_in`].
    pub unsafe fn from_narrow(ptr: *const u8, len: isize) -> Result<InWide, text::BadLength> {
        // SAFETY: forwarded contract.
        let s = unsafe { text::narrow_in(ptr, len) }?;
        Ok(match text::opt_to_wide(s) {
            // The conversion reserved the exact length for ASCII text (no reallocation).
            Some((b, n)) => InWide { buf: Some(b.into_boxed_slice()), len: n },
            None => InWide { buf: None, len: 0 },
        })
    }
    pub fn ptr(&self) -> *const u16 {
        self.buf.as_ref().map_or(std::ptr::null(), |b| b.as_ptr())
    }
    pub fn len_i16(&self) -> i16 {
        self.len.min(i16::MAX as usize) as i16
    }
    pub fn len_i32(&self) -> i32 {
        self.len.min(i32::MAX as usize) as i32
    }
}

/// Input text for a driver call of the other width.
pub struct InNarrow {
    buf: Option<Vec<u8>>,
    len: usize,
}

impl InNarrow {
    /// Converts an application wide string `(ptr, len in chars)` (len may be SQL_NTS).
    ///
    /// # Safety
    /// As [`text::wide_in`].
    pub unsafe fn from_wide(ptr: *const u16, len: isize) -> Result<InNarrow, text::BadLength> {
        // SAFETY: forwarded contract.
        let s = unsafe { text::wide_in(ptr, len) }?;
        Ok(match text::opt_to_narrow(s) {
            Some((b, n)) => InNarrow { buf: Some(b), len: n },
            None => InNarrow { buf: None, len: 0 },
        })
    }
    pub fn ptr(&self) -> *const u8 {
        self.buf.as_ref().map_or(std::ptr::null(), |b| b.as_ptr())
    }
    pub fn len_i16(&self) -> i16 {
        self.len.min(i16::MAX as usize) as i16
    }
    pub fn len_i32(&self) -> i32 {
        self.len.min(i32::MAX as usize) as i32
    }
}

/// Writes driver wide output into the application's narrow buffer of `cap` bytes.
/// Returns (full length in bytes, truncated).
///
/// # Safety
/// `app` must be null or valid for `cap` bytes.
pub unsafe fn wide_to_app_narrow(src: &[u16], app: *mut u8, cap: usize) -> (usize, bool) {
    let s = text::to_narrow(src);
    // SAFETY: forwarded contract.
    let t = unsafe { text::write_narrow(&s, app, cap) };
    (s.len(), t && !app.is_null())
}

/// Writes driver narrow output into the application's wide buffer of `cap` characters.
/// Returns (full length in characters, truncated).
///
/// # Safety
/// `app` must be null or valid for `cap` code units.
pub unsafe fn narrow_to_app_wide(src: &[u8], app: *mut u16, cap: usize) -> (usize, bool) {
    let s = text::to_wide(src);
    // SAFETY: forwarded contract.
    let t = unsafe { text::write_wide(&s, app, cap) };
    (s.len(), t && !app.is_null())
}

/// Stores a length through an optional out pointer of any integer width, saturating.
///
/// # Safety
/// `p` must be null or valid for writes of `T`.
pub unsafe fn put_len<T: TryFrom<usize> + Copy>(p: *mut T, n: usize, max: T) {
    if !p.is_null() {
        let v = T::try_from(n).unwrap_or(max);
        // SAFETY: non-null, valid per the caller.
        unsafe { *p = v };
    }
}

/// The message of an 01004 record.
pub const TRUNCATED: &str = "String data, right truncated";

/// A code unit of driver output text (u8 for narrow, u16 for wide).
pub trait Unit: Copy + Default + PartialEq + Send + 'static {
    /// Wraps a buffer of this unit for the pending-buffer stash.
    fn stash(v: Vec<Self>) -> Stashed;
    /// Takes a buffer of this unit back from the stash.
    fn unstash(s: Stashed) -> Option<Vec<Self>>;
}

/// A DM output buffer lent to a driver call that returned SQL_STILL_EXECUTING: the driver
/// may still write into it, so it is kept (and passed again) until the call completes (§1.7).
pub enum Stashed {
    Narrow(Vec<u8>),
    Wide(Vec<u16>),
}

impl Unit for u8 {
    fn stash(v: Vec<u8>) -> Stashed {
        Stashed::Narrow(v)
    }
    fn unstash(s: Stashed) -> Option<Vec<u8>> {
        match s {
            Stashed::Narrow(v) => Some(v),
            Stashed::Wide(_) => None,
        }
    }
}

impl Unit for u16 {
    fn stash(v: Vec<u16>) -> Stashed {
        Stashed::Wide(v)
    }
    fn unstash(s: Stashed) -> Option<Vec<u16>> {
        match s {
            Stashed::Wide(v) => Some(v),
            Stashed::Narrow(_) => None,
        }
    }
}

/// Buffers kept by [`recv_text`] after a driver answered SQL_STILL_EXECUTING, per DM
/// handle id. One process-wide map behind a mutex; taken only while [`PENDING_COUNT`] says
/// it is non-empty.
static PENDING_OUT: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<usize, Stashed>>> =
    std::sync::LazyLock::new(Default::default);

/// The number of entries in [`PENDING_OUT`], changed under its mutex. The stash is only
/// filled after a driver anomaly, so on every ordinary call this is 0 and [`recv_text`]
/// takes no process-wide lock: conversions on different handles share nothing. A key's
/// entry is inserted by an earlier call on the same handle, which the handle's call gate
/// orders before the current one (the gate is held across `recv_text`), so the count read
/// here already includes it: while that entry exists the count is at least 1.
static PENDING_COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Drops a buffer kept for `key`'s next polling call: the handle was freed (its driver
/// handle with it), so no driver can write into it any more (decision #40).
pub(crate) fn forget_pending(key: usize) {
    if PENDING_COUNT.load(std::sync::atomic::Ordering::Acquire) == 0 {
        return;
    }
    let kept = {
        let mut map = PENDING_OUT.lock().unwrap_or_else(|p| p.into_inner());
        let kept = map.remove(&key);
        if kept.is_some() {
            PENDING_COUNT.fetch_sub(1, std::sync::atomic::Ordering::Release);
        }
        kept
    };
    drop(kept);
}

/// Largest DM buffer used to receive converted driver output, in code units.
pub const RECV_LIMIT: usize = 1 << 20;

/// Receives a driver's text output of the other width into a DM buffer: `call(buf, cap)`
/// calls the driver with a buffer of `cap` units and returns its code and the full length
/// it reported (in units). When the driver reports more than fits, the call is repeated
/// once with a buffer large enough, so the DM knows the whole text and can report the full
/// length in the application's units. The text is read up to the first NUL, never trusting
/// the reported length. `key` identifies the handle: a buffer lent to a call that returned
/// SQL_STILL_EXECUTING is kept and lent again to the next (polling) call.
///
/// Only for functions the DM never runs asynchronously (SQLGetInfo, SQLGetConnectAttr,
/// SQLGetDescField/Rec, SQLNativeSql, SQLGetCursorName), where SQL_STILL_EXECUTING is a
/// driver anomaly: a kept buffer stays in the stash until the next call with the same key.
/// Statement functions that may run asynchronously use [`RecvBuf`], owned by the
/// driver-call closure, instead.
pub fn recv_text<T: Unit>(
    key: usize,
    initial: usize,
    mut call: impl FnMut(*mut T, usize) -> (odbc_dm_abi::SqlReturn, Option<usize>),
) -> (odbc_dm_abi::SqlReturn, Vec<T>) {
    use odbc_dm_abi::SqlReturn;
    use std::sync::atomic::Ordering;
    let stashed = if PENDING_COUNT.load(Ordering::Acquire) == 0 {
        None
    } else {
        let mut map = PENDING_OUT.lock().unwrap_or_else(|p| p.into_inner());
        let v = map.remove(&key);
        if v.is_some() {
            PENDING_COUNT.fetch_sub(1, Ordering::Release);
        }
        v.and_then(T::unstash)
    };
    let mut buf = stashed.unwrap_or_else(|| vec![T::default(); initial.clamp(2, RECV_LIMIT)]);
    for attempt in 0..3 {
        let cap = buf.len();
        let (rc, reported) = call(buf.as_mut_ptr(), cap);
        if rc == SqlReturn::SQL_STILL_EXECUTING {
            let mut map = PENDING_OUT.lock().unwrap_or_else(|p| p.into_inner());
            if map.insert(key, T::stash(buf)).is_none() {
                PENDING_COUNT.fetch_add(1, Ordering::Release);
            }
            return (rc, Vec::new());
        }
        if !rc.is_success() {
            return (rc, Vec::new());
        }
        match reported {
            Some(n) if n >= cap && cap < RECV_LIMIT && attempt < 2 => {
                buf = vec![T::default(); (n + 1).min(RECV_LIMIT)];
            }
            _ => {
                let end = buf.iter().position(|c| *c == T::default()).unwrap_or(cap);
                buf.truncate(end);
                return (rc, buf);
            }
        }
    }
    unreachable!("the third attempt always returns")
}

/// A DM buffer receiving a driver's text output of the other width, for a statement call
/// that may run asynchronously. It is owned by the driver-call closure given to
/// `StmtCall::invoke`, so it lives exactly as long as the operation (§2.9) and is dropped
/// with it — also when the statement is freed mid-call, which the per-handle stash of
/// [`recv_text`] could not do. The text and the length the driver writes are both on the
/// heap: their addresses do not change when the closure moves into the async engine, so
/// every re-invocation lends the driver the same pointers.
pub struct RecvBuf<T, L> {
    buf: Vec<T>,
    len: Box<L>,
    /// Enlarged-buffer retries made since the last completed driver call sequence.
    attempt: u8,
    /// The last driver call returned SQL_STILL_EXECUTING: the next one continues it.
    resuming: bool,
}

impl<T: Unit, L: Copy + Default> RecvBuf<T, L> {
    /// A buffer of `initial` code units (clamped to 2..=[`RECV_LIMIT`]).
    pub fn new(initial: usize) -> Self {
        RecvBuf { buf: vec![T::default(); initial.clamp(2, RECV_LIMIT)], len: Box::default(), attempt: 0, resuming: false }
    }

    /// As [`recv_text`], with the buffer owned: `call(buf, cap, len)` calls the driver with
    /// this buffer of `cap` units and the DM's length out pointer; `reported` turns the
    /// length the driver wrote into units (None when negative). When the driver reports more
    /// than fits, the call is repeated (at most twice) with a buffer large enough. Returns
    /// the driver's code and, when it succeeded, the text up to the first NUL (never
    /// trusting the reported length). After SQL_STILL_EXECUTING the next `recv` passes the
    /// same buffer and length pointers again.
    pub fn recv(
        &mut self,
        mut call: impl FnMut(*mut T, usize, *mut L) -> odbc_dm_abi::SqlReturn,
        reported: impl Fn(L) -> Option<usize>,
    ) -> (odbc_dm_abi::SqlReturn, &[T]) {
        use odbc_dm_abi::SqlReturn;
        loop {
            if !self.resuming {
                *self.len = L::default();
            }
            let cap = self.buf.len();
            let rc = call(self.buf.as_mut_ptr(), cap, &mut *self.len);
            if rc == SqlReturn::SQL_STILL_EXECUTING {
                self.resuming = true;
                return (rc, &[]);
            }
            self.resuming = false;
            if !rc.is_success() {
                self.attempt = 0;
                return (rc, &[]);
            }
            match reported(*self.len) {
                Some(n) if n >= cap && cap < RECV_LIMIT && self.attempt < 2 => {
                    // The driver is done with the old buffer (its call completed).
                    self.attempt += 1;
                    self.buf = vec![T::default(); (n + 1).min(RECV_LIMIT)];
                }
                _ => {
                    self.attempt = 0;
                    let end = self.buf.iter().position(|c| *c == T::default()).unwrap_or(cap);
                    return (rc, &self.buf[..end]);
                }
            }
        }
    }
}

/// Writes UTF-8 `text` into an application buffer of `cap_bytes` BYTES, narrow (UTF-8)
/// or wide (UTF-16), for the byte-counted attribute-style functions (SQLGetInfo,
/// SQLGetConnectAttr, SQLGetDescField, ...). Returns (full length in bytes of the
/// application's encoding, truncated). A null buffer is not a truncation.
///
/// # Safety
/// `buf` must be null or valid for `cap_bytes` bytes (2-byte aligned when `wide`).
pub unsafe fn write_app_bytes(text: &[u8], wide: bool, buf: *mut std::ffi::c_void, cap_bytes: usize) -> (usize, bool) {
    if wide {
        let w = text::to_wide(text);
        // SAFETY: forwarded contract; `cap_bytes / 2` code units fit in the buffer.
        let t = unsafe { text::write_wide(&w, buf.cast(), cap_bytes / 2) };
        (w.len() * 2, t && !buf.is_null())
    } else {
        // SAFETY: forwarded contract.
        let t = unsafe { text::write_narrow(text, buf.cast(), cap_bytes) };
        (text.len(), t && !buf.is_null())
    }
}

/// Reads an application input string whose length is in BYTES in both forms (SQL_NTS
/// allowed), as UTF-8. `Ok(None)` for a null pointer; `Err` for a bad length (HY090).
///
/// # Safety
/// `ptr` must be null or valid for `len` bytes (NUL-terminated for SQL_NTS).
pub unsafe fn read_app_bytes(ptr: *const std::ffi::c_void, len: isize, wide: bool) -> Result<Option<Vec<u8>>, text::BadLength> {
    if wide {
        let chars = if len == odbc_dm_abi::SQL_NTS as isize {
            len
        } else if len < 0 {
            return Err(text::BadLength);
        } else {
            len / 2
        };
        // SAFETY: forwarded contract (bytes converted to code units).
        let s = unsafe { text::wide_in(ptr.cast(), chars) }?;
        Ok(s.map(text::to_narrow))
    } else {
        // SAFETY: forwarded contract.
        let s = unsafe { text::narrow_in(ptr.cast(), len) }?;
        Ok(s.map(|b| b.to_vec()))
    }
}

/// Smallest first buffer (in code units) for a converted attribute-style output
/// ([`recv_text`]): large enough for any info string or name, so a driver that reports
/// the truncated length instead of the full one is never truncated by the DM.
pub const RECV_INITIAL: usize = 4096;

#[cfg(test)]
mod pending_tests {
    use super::*;

    /// A buffer lent to a call that returned SQL_STILL_EXECUTING is kept for the handle's
    /// next call; freeing the handle drops it (issue 10: no DM text buffer leaked when a
    /// handle is freed mid-call).
    #[test]
    fn freeing_a_handle_drops_its_kept_buffer() {
        let key = usize::MAX - 7;
        let (rc, _) = recv_text::<u16>(key, 64, |_, _| (odbc_dm_abi::SqlReturn::SQL_STILL_EXECUTING, None));
        assert_eq!(rc, odbc_dm_abi::SqlReturn::SQL_STILL_EXECUTING);
        assert!(PENDING_OUT.lock().unwrap().contains_key(&key), "kept for the repeat call");
        forget_pending(key);
        assert!(!PENDING_OUT.lock().unwrap().contains_key(&key), "dropped with the handle");
    }
}
