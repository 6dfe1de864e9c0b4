//! Small helpers: poison-tolerant locking, thread identity, UTF-16 (SQLWCHAR) string
//! reading/writing with the ODBC length rules, and null-checked output writes.

use std::sync::{Mutex, MutexGuard};

/// Locks a mutex, ignoring poisoning (a caught panic must not brick a handle).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The OS-level thread id (gettid) of the calling thread.
pub fn os_tid() -> i64 {
    // SAFETY: SYS_gettid takes no arguments, cannot fail and has no side effects.
    unsafe { libc::syscall(libc::SYS_gettid) }
}

/// The calling thread's name: Rust's name if it has one, else the kernel's `comm` (read
/// once per thread and cached: threads the driver did not start — the application's, the
/// DM's — are unnamed to this library's copy of std, and reading /proc on every logged
/// call would dominate the cost of a short call).
pub fn thread_name() -> String {
    if let Some(n) = std::thread::current().name() {
        return n.to_string();
    }
    thread_local! {
        static COMM: std::cell::OnceCell<String> = const { std::cell::OnceCell::new() };
    }
    COMM.try_with(|c| c.get_or_init(read_comm).clone()).unwrap_or_else(|_| read_comm())
}

fn read_comm() -> String {
    std::fs::read_to_string("/proc/thread-self/comm").map(|s| s.trim_end().to_string()).unwrap_or_default()
}

pub const SQL_NTS: i32 = -3;

/// Reads a SQLWCHAR string given a length in characters (or SQL_NTS). `None` for a null pointer.
///
/// # Safety
/// `p` must be null or point to `len` readable u16s (or a NUL-terminated u16 string for SQL_NTS).
pub unsafe fn read_wstr(p: *const u16, len: i32) -> Option<String> {
    if p.is_null() {
        return None;
    }
    let n = if len == SQL_NTS {
        let mut n = 0usize;
        // SAFETY: the caller guarantees NUL termination for SQL_NTS.
        while unsafe { *p.add(n) } != 0 {
            n += 1;
        }
        n
    } else if len < 0 {
        0
    } else {
        len as usize
    };
    // SAFETY: n u16s are readable per the caller's contract.
    let s = unsafe { std::slice::from_raw_parts(p, n) };
    Some(String::from_utf16_lossy(s))
}

/// Reads a byte string (SQLCHAR, UTF-8 assumed) given a length in bytes or SQL_NTS.
///
/// # Safety
/// As [`read_wstr`], for bytes.
pub unsafe fn read_str(p: *const u8, len: isize) -> Option<String> {
    if p.is_null() {
        return None;
    }
    let n = if len == SQL_NTS as isize {
        // SAFETY: NUL-terminated per the caller's contract.
        unsafe { libc::strlen(p as *const libc::c_char) }
    } else if len < 0 {
        0
    } else {
        len as usize
    };
    // SAFETY: n bytes are readable per the caller's contract.
    let s = unsafe { std::slice::from_raw_parts(p, n) };
    Some(String::from_utf8_lossy(s).into_owned())
}

/// Writes `v` through `p` when `p` is not null.
///
/// # Safety
/// `p` must be null or valid for a write of `T` (alignment not required).
pub unsafe fn put<T>(p: *mut T, v: T) {
    if !p.is_null() {
        // SAFETY: non-null and valid per the caller's contract; unaligned write is allowed.
        unsafe { p.write_unaligned(v) }
    }
}

/// Result of writing a string into an application buffer.
pub struct Written {
    /// Full length of the value (units given by the writer: bytes or characters).
    pub full: usize,
    /// The value did not fit (01004).
    pub truncated: bool,
}

/// Writes `s` as NUL-terminated UTF-16 into `buf` whose capacity is `cap_chars` characters
/// (NUL included). Returns the full length in characters.
///
/// # Safety
/// `buf` must be null or valid for `cap_chars` u16 writes.
pub unsafe fn write_wstr_chars(s: &str, buf: *mut u16, cap_chars: isize) -> Written {
    let w: Vec<u16> = s.encode_utf16().collect();
    let full = w.len();
    if buf.is_null() || cap_chars <= 0 {
        return Written { full, truncated: !buf.is_null() && full > 0 };
    }
    let room = (cap_chars as usize) - 1;
    let mut n = full.min(room);
    // never split a surrogate pair
    if n < full && n > 0 && (0xD800..0xDC00).contains(&w[n - 1]) {
        n -= 1;
    }
    // SAFETY: n + 1 <= cap_chars u16s are writable per the caller's contract.
    unsafe {
        std::ptr::copy_nonoverlapping(w.as_ptr(), buf, n);
        buf.add(n).write_unaligned(0);
    }
    Written { full, truncated: n < full }
}

/// Writes `s` as NUL-terminated UTF-16 into `buf` whose capacity is `cap_bytes` BYTES.
/// Returns the full length in BYTES (the W rule for SQLGetInfoW, SQLGetConnectAttrW,
/// SQLColAttributeW, SQLGetDiagFieldW).
///
/// # Safety
/// `buf` must be null or valid for `cap_bytes` bytes of writes.
pub unsafe fn write_wstr_bytes(s: &str, buf: *mut std::ffi::c_void, cap_bytes: isize) -> Written {
    // SAFETY: forwarded contract; capacity converted from bytes to whole characters.
    let w = unsafe { write_wstr_chars(s, buf as *mut u16, cap_bytes / 2) };
    Written { full: w.full * 2, truncated: w.truncated }
}

/// Writes raw bytes (no terminator) into `buf` of `cap` bytes; truncated if they don't fit.
///
/// # Safety
/// `buf` must be null or valid for `cap` bytes of writes.
pub unsafe fn write_bytes(src: &[u8], buf: *mut std::ffi::c_void, cap: isize) -> Written {
    let full = src.len();
    if buf.is_null() || cap <= 0 {
        return Written { full, truncated: full > 0 && !buf.is_null() };
    }
    let n = full.min(cap as usize);
    // SAFETY: n <= cap bytes writable per the caller's contract.
    unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), buf as *mut u8, n) };
    Written { full, truncated: n < full }
}

/// Writes UTF-8 text NUL-terminated into `buf` of `cap` bytes (SQL_C_CHAR).
///
/// # Safety
/// `buf` must be null or valid for `cap` bytes of writes.
pub unsafe fn write_cstr(src: &[u8], buf: *mut std::ffi::c_void, cap: isize) -> Written {
    let full = src.len();
    if buf.is_null() || cap <= 0 {
        return Written { full, truncated: full > 0 && !buf.is_null() };
    }
    let n = full.min(cap as usize - 1);
    // SAFETY: n + 1 <= cap bytes writable per the caller's contract.
    unsafe {
        std::ptr::copy_nonoverlapping(src.as_ptr(), buf as *mut u8, n);
        (buf as *mut u8).add(n).write(0);
    }
    Written { full, truncated: n < full }
}
