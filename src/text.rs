//! ANSI/Unicode text at the API boundary.
//!
//! The narrow ("A") API carries UTF-8 bytes; the wide ("W") API carries UTF-16 code units
//! (SQLWCHAR = u16 on Linux). Lengths are in bytes for narrow and in characters (code
//! units) for wide text arguments; a few attribute-style functions (SQLGetInfo,
//! SQLGet/SetConnectAttr, SQLColAttribute, SQLGet/SetDescField, SQLGetDiagField) count
//! bytes in both forms. Truncation never splits a UTF-8 sequence or a surrogate pair.

use odbc_dm_abi::SQL_NTS;

/// A length argument that is neither SQL_NTS nor non-negative (HY090).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadLength;

/// Reads a narrow input string. `Ok(None)` for a null pointer.
///
/// # Safety
/// `ptr` must be null or valid for `len` bytes (or NUL-terminated when `len` is SQL_NTS).
pub unsafe fn narrow_in<'a>(ptr: *const u8, len: isize) -> Result<Option<&'a [u8]>, BadLength> {
    if ptr.is_null() {
        return Ok(None);
    }
    if len == SQL_NTS as isize {
        // SAFETY: the caller promises a NUL-terminated string.
        let c = unsafe { std::ffi::CStr::from_ptr(ptr.cast()) };
        return Ok(Some(c.to_bytes()));
    }
    if len < 0 {
        return Err(BadLength);
    }
    // SAFETY: the caller promises `len` readable bytes.
    Ok(Some(unsafe { std::slice::from_raw_parts(ptr, len as usize) }))
}

/// Reads a wide input string (`len` in characters). `Ok(None)` for a null pointer.
///
/// # Safety
/// `ptr` must be null or valid for `len` code units (or NUL-terminated for SQL_NTS).
pub unsafe fn wide_in<'a>(ptr: *const u16, len: isize) -> Result<Option<&'a [u16]>, BadLength> {
    if ptr.is_null() {
        return Ok(None);
    }
    if len == SQL_NTS as isize {
        let mut n = 0usize;
        // SAFETY: the caller promises a NUL-terminated string; we stop at the terminator.
        while unsafe { *ptr.add(n) } != 0 {
            n += 1;
        }
        // SAFETY: `n` code units were just read.
        return Ok(Some(unsafe { std::slice::from_raw_parts(ptr, n) }));
    }
    if len < 0 {
        return Err(BadLength);
    }
    // SAFETY: the caller promises `len` readable code units.
    Ok(Some(unsafe { std::slice::from_raw_parts(ptr, len as usize) }))
}

/// UTF-8 (invalid sequences replaced) to UTF-16.
pub fn to_wide(s: &[u8]) -> Vec<u16> {
    to_wide_reserving(s, 0)
}

/// As [`to_wide`], with room for `extra` more code units, in one allocation of at most
/// the UTF-8 length (exact for ASCII: a statement text converted for a Unicode driver is
/// kept for the whole operation, decision #107).
fn to_wide_reserving(s: &[u8], extra: usize) -> Vec<u16> {
    let s = String::from_utf8_lossy(s);
    // A UTF-8 string never has more UTF-16 code units than bytes.
    let mut w = Vec::with_capacity(s.len() + extra);
    w.extend(s.encode_utf16());
    w
}

/// UTF-16 (unpaired surrogates replaced) to UTF-8.
pub fn to_narrow(s: &[u16]) -> Vec<u8> {
    String::from_utf16_lossy(s).into_bytes()
}

/// Converted text kept alive for the duration of a driver call, NUL-terminated.
pub enum Owned {
    Narrow(Vec<u8>),
    Wide(Vec<u16>),
}

impl Owned {
    /// Narrow copy with a terminator.
    pub fn narrow(s: &[u8]) -> Vec<u8> {
        let mut v = Vec::with_capacity(s.len() + 1);
        v.extend_from_slice(s);
        v.push(0);
        v
    }
}

/// Optional input converted to wide, NUL-terminated; length in characters (no NUL).
pub fn opt_to_wide(s: Option<&[u8]>) -> Option<(Vec<u16>, usize)> {
    s.map(|s| {
        let mut w = to_wide_reserving(s, 1);
        let n = w.len();
        w.push(0);
        (w, n)
    })
}

/// Optional input converted to narrow, NUL-terminated; length in bytes (no NUL).
pub fn opt_to_narrow(s: Option<&[u16]>) -> Option<(Vec<u8>, usize)> {
    s.map(|s| {
        let mut n = to_narrow(s);
        let l = n.len();
        n.push(0);
        (n, l)
    })
}

/// Largest prefix of `s` that fits in `max` bytes without splitting a UTF-8 sequence.
pub fn narrow_prefix(s: &[u8], max: usize) -> usize {
    if s.len() <= max {
        return s.len();
    }
    let mut n = max;
    while n > 0 && (s[n] & 0xC0) == 0x80 {
        n -= 1;
    }
    n
}

/// Largest prefix of `s` that fits in `max` code units without splitting a surrogate pair.
pub fn wide_prefix(s: &[u16], max: usize) -> usize {
    if s.len() <= max {
        return s.len();
    }
    let mut n = max;
    if n > 0 && (0xD800..0xDC00).contains(&s[n - 1]) {
        n -= 1;
    }
    n
}

/// Copies `src` into a narrow output buffer of `cap` bytes (terminator included), as the
/// ODBC output-string rules say. Returns `true` when the text was truncated (01004).
///
/// # Safety
/// `buf` must be null or valid for `cap` bytes.
pub unsafe fn write_narrow(src: &[u8], buf: *mut u8, cap: usize) -> bool {
    if buf.is_null() || cap == 0 {
        return !src.is_empty();
    }
    let n = narrow_prefix(src, cap - 1);
    // SAFETY: n + 1 <= cap bytes are writable, per the caller.
    unsafe {
        std::ptr::copy_nonoverlapping(src.as_ptr(), buf, n);
        *buf.add(n) = 0;
    }
    n < src.len()
}

/// Copies `src` into a wide output buffer of `cap` code units (terminator included).
/// Returns `true` when truncated.
///
/// # Safety
/// `buf` must be null or valid for `cap` code units.
pub unsafe fn write_wide(src: &[u16], buf: *mut u16, cap: usize) -> bool {
    if buf.is_null() || cap == 0 {
        return !src.is_empty();
    }
    let n = wide_prefix(src, cap - 1);
    // SAFETY: n + 1 <= cap code units are writable, per the caller.
    unsafe {
        std::ptr::copy_nonoverlapping(src.as_ptr(), buf, n);
        *buf.add(n) = 0;
    }
    n < src.len()
}

/// Reads a NUL-terminated narrow string from a driver-filled buffer of `cap` bytes,
/// never trusting a length the driver reported (it may lie: the DiagOverflow fault).
pub fn narrow_from_buf(buf: &[u8]) -> &[u8] {
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    &buf[..end]
}

/// Wide counterpart of [`narrow_from_buf`].
pub fn wide_from_buf(buf: &[u16]) -> &[u16] {
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    &buf[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_whole_characters() {
        let s = "aé中😀".as_bytes();
        assert_eq!(narrow_prefix(s, 2), 1);
        assert_eq!(narrow_prefix(s, 3), 3);
        let w: Vec<u16> = "a😀".encode_utf16().collect();
        assert_eq!(wide_prefix(&w, 2), 1);
        assert_eq!(wide_prefix(&w, 3), 3);
    }

    #[test]
    fn write_reports_truncation() {
        let mut b = [0u8; 4];
        // SAFETY: b has 4 bytes.
        assert!(unsafe { write_narrow(b"hello", b.as_mut_ptr(), 4) });
        assert_eq!(&b, b"hel\0");
        // SAFETY: b has 4 bytes.
        assert!(!unsafe { write_narrow(b"hi", b.as_mut_ptr(), 4) });
    }
}
