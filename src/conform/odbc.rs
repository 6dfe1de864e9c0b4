//! Raw-layer helpers for the checks: connections through odbc-dm's ODBC-shaped API and
//! output buffers with guard bytes.

use crate::raw::*;
use odbc_dm_abi::*;
use std::ptr::null_mut;

/// An environment and a connection made through the raw layer (the DM).
pub struct Conn {
    pub env: SqlHandle,
    pub dbc: SqlHandle,
}

// SAFETY: raw-layer handles are thread-safe per §3.1 (the DM serializes per handle).
unsafe impl Send for Conn {}
// SAFETY: as above.
unsafe impl Sync for Conn {}

/// A statement handle value that may cross threads (§3.1).
#[derive(Clone, Copy, Debug)]
pub struct H(pub SqlHandle);
// SAFETY: a handle is an opaque value; the DM makes its use thread-safe (§3.1).
unsafe impl Send for H {}
// SAFETY: as above.
unsafe impl Sync for H {}

impl Conn {
    pub fn connect(cs: &str) -> Result<Conn, String> {
        let (mut env, mut dbc) = (null_mut(), null_mut());
        // SAFETY: valid out pointers; integer attribute by value; the string outlives the call.
        unsafe {
            if SQLAllocHandle(HandleType::SQL_HANDLE_ENV, null_mut(), &mut env) != SqlReturn::SQL_SUCCESS {
                return Err("SQLAllocHandle(ENV) failed".into());
            }
            SQLSetEnvAttr(env, EnvAttr::SQL_ATTR_ODBC_VERSION, SQL_OV_ODBC3 as usize as SqlPointer, 0);
            if SQLAllocHandle(HandleType::SQL_HANDLE_DBC, env, &mut dbc) != SqlReturn::SQL_SUCCESS {
                SQLFreeHandle(HandleType::SQL_HANDLE_ENV, env);
                return Err("SQLAllocHandle(DBC) failed".into());
            }
            let rc = SQLDriverConnect(
                dbc,
                null_mut(),
                cs.as_ptr(),
                cs.len() as i16,
                null_mut(),
                0,
                null_mut(),
                DriverCompletion::SQL_DRIVER_NOPROMPT,
            );
            if !rc.is_success() {
                let d = diag_text(HandleType::SQL_HANDLE_DBC, dbc);
                SQLFreeHandle(HandleType::SQL_HANDLE_DBC, dbc);
                SQLFreeHandle(HandleType::SQL_HANDLE_ENV, env);
                return Err(format!("SQLDriverConnect returned {rc:?} {d}"));
            }
        }
        Ok(Conn { env, dbc })
    }

    pub fn stmt(&self) -> Result<SqlHandle, String> {
        let mut s = null_mut();
        // SAFETY: live dbc, valid out pointer.
        let rc = unsafe { SQLAllocHandle(HandleType::SQL_HANDLE_STMT, self.dbc, &mut s) };
        if rc.is_success() {
            Ok(s)
        } else {
            Err(format!("SQLAllocHandle(STMT) returned {rc:?} {}", diag_text(HandleType::SQL_HANDLE_DBC, self.dbc)))
        }
    }

    /// Runs `sql` on a fresh statement; Err with the diagnostics unless it succeeds.
    pub fn exec(&self, sql: &str) -> Result<(), String> {
        let s = self.stmt()?;
        let rc = exec_rc(s, sql);
        let r = if rc.is_success() || rc == SqlReturn::SQL_NO_DATA {
            Ok(())
        } else {
            Err(format!("SQLExecDirect({sql}) returned {rc:?} {}", stmt_diag(s)))
        };
        free_stmt(s);
        r
    }

    /// Runs `sql` and ignores the outcome (DROP TABLE of a table that may not exist).
    pub fn exec_quiet(&self, sql: &str) {
        if let Ok(s) = self.stmt() {
            exec_rc(s, sql);
            free_stmt(s);
        }
    }

    /// Turns the DM's SQL_C_WCHAR conversion for ANSI-only drivers on or off for the
    /// statements allocated afterwards (`raw::ext::SQL_ATTR_DM_WCHAR_CONVERSION`, decision
    /// #90): off, SQL_C_WCHAR reaches the driver unchanged, so a check tests the driver.
    pub fn wchar_conversion(&self, on: bool) -> Result<(), String> {
        let attr = ConnAttr(crate::raw::ext::SQL_ATTR_DM_WCHAR_CONVERSION);
        // SAFETY: live dbc; integer attribute by value.
        let rc = unsafe { SQLSetConnectAttr(self.dbc, attr, usize::from(on) as SqlPointer, SQL_IS_UINTEGER) };
        if rc.is_success() {
            Ok(())
        } else {
            Err(format!(
                "SQLSetConnectAttr(SQL_ATTR_DM_WCHAR_CONVERSION) returned {rc:?} {}",
                diag_text(HandleType::SQL_HANDLE_DBC, self.dbc)
            ))
        }
    }

    /// A string SQLGetInfo answer through the DM (narrow).
    pub fn info_str(&self, info: InfoType) -> Option<String> {
        let mut buf = [0u8; 512];
        let mut len = 0i16;
        // SAFETY: live dbc; buffer of the length passed.
        let rc = unsafe { SQLGetInfo(self.dbc, info, buf.as_mut_ptr().cast(), buf.len() as i16, &mut len) };
        rc.is_success().then(|| cstr(&buf))
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // SAFETY: live handles owned by this value, freed once.
        unsafe {
            if !SQLDisconnect(self.dbc).is_success() {
                SQLEndTran(HandleType::SQL_HANDLE_DBC, self.dbc, CompletionType::SQL_ROLLBACK);
                SQLDisconnect(self.dbc);
            }
            SQLFreeHandle(HandleType::SQL_HANDLE_DBC, self.dbc);
            SQLFreeHandle(HandleType::SQL_HANDLE_ENV, self.env);
        }
    }
}

pub fn exec_rc(s: SqlHandle, sql: &str) -> SqlReturn {
    // SAFETY: live statement; the text outlives the call.
    unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) }
}

pub fn free_stmt(s: SqlHandle) {
    // SAFETY: live statement, freed once.
    unsafe { SQLFreeHandle(HandleType::SQL_HANDLE_STMT, s) };
}

pub fn close(s: SqlHandle) {
    // SAFETY: live statement.
    unsafe { SQLFreeStmt(s, FreeStmtOption::SQL_CLOSE) };
}

/// SQLSTATEs of every record on a handle (through the DM).
pub fn states(ht: HandleType, h: SqlHandle) -> Vec<String> {
    diag_recs(ht, h).into_iter().map(|(s, _)| s).collect()
}

pub fn diag_recs(ht: HandleType, h: SqlHandle) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for i in 1..=20i16 {
        let mut st = [0u8; 6];
        let mut native = 0;
        let mut msg = vec![0u8; 1024];
        let mut len = 0i16;
        // SAFETY: buffers of the sizes passed.
        let rc = unsafe { SQLGetDiagRec(ht, h, i, st.as_mut_ptr(), &mut native, msg.as_mut_ptr(), msg.len() as i16, &mut len) };
        if !rc.is_success() {
            break;
        }
        out.push((cstr(&st), cstr(&msg)));
    }
    out
}

pub fn diag_text(ht: HandleType, h: SqlHandle) -> String {
    diag_recs(ht, h).iter().map(|(s, m)| format!("[{s}] {m}")).collect::<Vec<_>>().join(" | ")
}

pub fn stmt_diag(s: SqlHandle) -> String {
    diag_text(HandleType::SQL_HANDLE_STMT, s)
}

/// The bytes before the first NUL, lossily as UTF-8.
pub fn cstr(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// Guard-byte value around every output buffer.
pub const GUARD: u8 = 0xA5;
/// Initial fill of the buffer proper.
pub const FILL: u8 = 0xCC;
const PAD: usize = 16;

/// An output buffer of `len` bytes with [`PAD`] guard bytes on both sides, 8-byte aligned.
pub struct Guarded {
    store: Vec<u64>,
    pub len: usize,
}

impl Guarded {
    pub fn new(len: usize) -> Guarded {
        let words = (len + 2 * PAD).div_ceil(8) + 1;
        let mut g = Guarded { store: vec![0; words], len };
        let all = g.all_mut();
        all.fill(GUARD);
        all[PAD..PAD + len].fill(FILL);
        g
    }

    fn all_mut(&mut self) -> &mut [u8] {
        let n = self.store.len() * 8;
        // SAFETY: the u64 storage viewed as its n bytes; u8 has no alignment or validity needs.
        unsafe { std::slice::from_raw_parts_mut(self.store.as_mut_ptr().cast::<u8>(), n) }
    }

    fn all(&self) -> &[u8] {
        let n = self.store.len() * 8;
        // SAFETY: as in all_mut, shared.
        unsafe { std::slice::from_raw_parts(self.store.as_ptr().cast::<u8>(), n) }
    }

    /// The buffer proper (what the driver may write), 8-byte aligned.
    pub fn ptr(&mut self) -> *mut u8 {
        // SAFETY: PAD < the storage length.
        unsafe { self.all_mut().as_mut_ptr().add(PAD) }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.all()[PAD..PAD + self.len]
    }

    /// The buffer as UTF-16 units (len / 2 of them).
    pub fn units(&self) -> Vec<u16> {
        self.bytes().chunks_exact(2).map(|c| u16::from_ne_bytes([c[0], c[1]])).collect()
    }

    /// `Err` naming where the guard bytes were overwritten.
    pub fn check(&self) -> Result<(), String> {
        let a = self.all();
        let before = a[..PAD].iter().rev().take_while(|&&b| b != GUARD).count();
        let before_any = a[..PAD].iter().position(|&b| b != GUARD);
        let after = a[PAD + self.len..PAD + self.len + PAD].iter().rposition(|&b| b != GUARD);
        match (before_any, after) {
            (None, None) => Ok(()),
            (_, Some(n)) => Err(format!("wrote {} byte(s) past the {}-byte buffer", n + 1, self.len)),
            (Some(_), None) => Err(format!("wrote {} byte(s) before the buffer", before.max(1))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_bytes_catch_a_write_past_the_end_and_before_the_start() {
        let mut g = Guarded::new(3);
        assert!(g.check().is_ok());
        // SAFETY: inside the guarded allocation (3 bytes + 16 guard bytes after).
        unsafe { *g.ptr().add(3) = 0 };
        assert_eq!(g.check().unwrap_err(), "wrote 1 byte(s) past the 3-byte buffer");
        let mut g = Guarded::new(0);
        // SAFETY: inside the guarded allocation (16 guard bytes before the buffer).
        unsafe { *g.ptr().sub(1) = 0 };
        assert!(g.check().unwrap_err().contains("before the buffer"));
        let mut g = Guarded::new(4);
        // SAFETY: the buffer proper.
        unsafe { std::ptr::write_bytes(g.ptr(), 0x41, 4) };
        assert!(g.check().is_ok());
        assert_eq!(g.bytes(), b"AAAA");
        assert_eq!(g.units(), vec![0x4141, 0x4141]);
    }
}
