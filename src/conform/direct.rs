//! The harness's own loading of a driver library (decision 57): for the checks where the DM
//! replaces the driver's answer (exports vs SQLGetFunctions, diagnostics read twice,
//! driver-side Appendix B states, async polling and the notification protocol), the harness
//! talks to the driver alone and plays the DM. Nothing of the DM's internals is used: only
//! libloading and the fn-pointer types of `odbc_dm_abi`.

use odbc_dm_abi::*;
use std::path::Path;
use std::ptr::null_mut;

/// A driver library loaded by the harness.
pub struct Driver {
    lib: libloading::Library,
}

impl Driver {
    /// Loads the library (its initialisers run: that is the point of a conformance run,
    /// which does it in a child process).
    pub fn load(path: &Path) -> Result<Driver, String> {
        // SAFETY: loading a driver runs its initialisers; the harness runs every check in a
        // child process so that a misbehaving initialiser only ends that child.
        let lib = unsafe { libloading::Library::new(path) }.map_err(|e| format!("dlopen {}: {e}", path.display()))?;
        Ok(Driver { lib })
    }

    /// Whether the library exports `name`.
    pub fn has(&self, name: &str) -> bool {
        // SAFETY: only the address is looked up; it is not called or read.
        unsafe { self.lib.get::<*const ()>(name.as_bytes()) }.is_ok()
    }

    /// The entry point `name` as the fn-pointer type `T`.
    ///
    /// # Safety
    /// `T` must be the C signature of the entry point called `name` (one of `abi::fns`).
    pub unsafe fn sym<T: Copy>(&self, name: &str) -> Option<T> {
        // SAFETY: the caller guarantees `T` is the symbol's real type; the library outlives
        // the copied pointer because `Driver` is kept for the whole child process.
        unsafe { self.lib.get::<T>(name.as_bytes()).ok().map(|s| *s) }
    }
}

macro_rules! entry {
    ($d:expr, $name:ident) => {{
        #[allow(unused_unsafe)]
        // SAFETY: the fn-pointer type is the one `abi::fns` declares for this name.
        let f = unsafe { $d.sym::<$crate::abi::fns::$name>(stringify!($name)) };
        f
    }};
}
pub(crate) use entry;

/// One diagnostic record as the driver itself hands it out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DRec {
    pub rc: SqlReturn,
    pub state: String,
    pub native: i32,
    pub text: String,
    /// The text length the driver reported (characters for W, bytes for A).
    pub len: i16,
}

/// An environment and a connection made with the driver's own functions.
pub struct DConn<'a> {
    pub d: &'a Driver,
    pub env: SqlHandle,
    pub dbc: SqlHandle,
}

// SAFETY: ODBC drivers must be thread-safe (§3.1); the checks that share a connection
// across threads test exactly that.
unsafe impl Send for DConn<'_> {}
// SAFETY: as above.
unsafe impl Sync for DConn<'_> {}

impl<'a> DConn<'a> {
    /// Allocates env + dbc (ODBC 3.80 asked first, then 3) and connects with
    /// SQLDriverConnect(W when exported) using `conn` (the driver's own keywords).
    pub fn connect(d: &'a Driver, conn: &str) -> Result<DConn<'a>, String> {
        let alloc = entry!(d, SQLAllocHandle).ok_or("driver exports no SQLAllocHandle")?;
        let (mut env, mut dbc) = (null_mut(), null_mut());
        // SAFETY: the driver's own handles, valid out pointers; integer attribute by value.
        unsafe {
            let rc = alloc(HandleType::SQL_HANDLE_ENV, null_mut(), &mut env);
            if !rc.is_success() {
                return Err(format!("driver SQLAllocHandle(ENV) returned {rc:?}"));
            }
            if let Some(set) = entry!(d, SQLSetEnvAttr) {
                if !set(env, EnvAttr::SQL_ATTR_ODBC_VERSION, SQL_OV_ODBC3_80 as usize as SqlPointer, 0).is_success() {
                    set(env, EnvAttr::SQL_ATTR_ODBC_VERSION, SQL_OV_ODBC3 as usize as SqlPointer, 0);
                }
            }
            let rc = alloc(HandleType::SQL_HANDLE_DBC, env, &mut dbc);
            if !rc.is_success() {
                return Err(format!("driver SQLAllocHandle(DBC) returned {rc:?}"));
            }
        }
        let c = DConn { d, env, dbc };
        let rc = if let Some(f) = entry!(d, SQLDriverConnectW) {
            let w: Vec<u16> = conn.encode_utf16().collect();
            let mut out = 0i16;
            // SAFETY: live dbc; the string outlives the call; no output buffer.
            unsafe { f(c.dbc, null_mut(), w.as_ptr(), w.len() as i16, null_mut(), 0, &mut out, DriverCompletion::SQL_DRIVER_NOPROMPT) }
        } else if let Some(f) = entry!(d, SQLDriverConnect) {
            let mut out = 0i16;
            // SAFETY: as above.
            unsafe {
                f(c.dbc, null_mut(), conn.as_ptr(), conn.len() as i16, null_mut(), 0, &mut out, DriverCompletion::SQL_DRIVER_NOPROMPT)
            }
        } else {
            return Err("driver exports neither SQLDriverConnect nor SQLDriverConnectW".into());
        };
        if !rc.is_success() {
            let recs = c.diags(HandleType::SQL_HANDLE_DBC, c.dbc);
            // Not connected: only free (Drop would disconnect first).
            let free = entry!(d, SQLFreeHandle);
            // SAFETY: the driver's own handles, freed once.
            unsafe {
                if let Some(free) = free {
                    free(HandleType::SQL_HANDLE_DBC, c.dbc);
                    free(HandleType::SQL_HANDLE_ENV, c.env);
                }
            }
            std::mem::forget(c);
            return Err(format!("driver SQLDriverConnect returned {rc:?} {}", fmt_recs(&recs)));
        }
        Ok(c)
    }

    /// A new statement on this connection.
    pub fn stmt(&self) -> Result<SqlHandle, String> {
        let alloc = entry!(self.d, SQLAllocHandle).ok_or("no SQLAllocHandle")?;
        let mut s = null_mut();
        // SAFETY: live dbc, valid out pointer.
        let rc = unsafe { alloc(HandleType::SQL_HANDLE_STMT, self.dbc, &mut s) };
        if rc.is_success() {
            Ok(s)
        } else {
            Err(format!("driver SQLAllocHandle(STMT) returned {rc:?}"))
        }
    }

    pub fn free_stmt(&self, s: SqlHandle) {
        if let Some(free) = entry!(self.d, SQLFreeHandle) {
            // SAFETY: a statement of this connection, freed once by the caller.
            unsafe { free(HandleType::SQL_HANDLE_STMT, s) };
        }
    }

    /// SQLExecDirect(W when exported) of `sql`; `keep` must outlive async re-invocations,
    /// so the text buffers are returned to the caller through `exec_with`.
    pub fn exec(&self, s: SqlHandle, sql: &str) -> SqlReturn {
        let w: Vec<u16> = sql.encode_utf16().collect();
        self.exec_text(s, sql, &w)
    }

    /// SQLExecDirect(W) with caller-owned text (kept alive across re-invocations, §2.9).
    pub fn exec_text(&self, s: SqlHandle, narrow: &str, wide: &[u16]) -> SqlReturn {
        if let Some(f) = entry!(self.d, SQLExecDirectW) {
            // SAFETY: live statement; the text outlives the call.
            unsafe { f(s, wide.as_ptr(), wide.len() as i32) }
        } else if let Some(f) = entry!(self.d, SQLExecDirect) {
            // SAFETY: as above.
            unsafe { f(s, narrow.as_ptr(), narrow.len() as i32) }
        } else {
            SqlReturn::SQL_ERROR
        }
    }

    /// SQLSetStmtAttr(W) with a pointer-sized value.
    pub fn set_stmt_attr(&self, s: SqlHandle, attr: StmtAttr, v: usize) -> SqlReturn {
        let f = entry!(self.d, SQLSetStmtAttrW).or(entry!(self.d, SQLSetStmtAttr));
        match f {
            // SAFETY: live statement; the value travels in the pointer itself.
            Some(f) => unsafe { f(s, attr, v as SqlPointer, SQL_IS_POINTER) },
            None => SqlReturn::SQL_ERROR,
        }
    }

    /// SQLFreeStmt(SQL_CLOSE).
    pub fn close(&self, s: SqlHandle) {
        if let Some(f) = entry!(self.d, SQLFreeStmt) {
            // SAFETY: live statement.
            unsafe { f(s, FreeStmtOption::SQL_CLOSE) };
        }
    }

    /// Record `n` read with the driver's SQLGetDiagRec(W when exported) into a large buffer.
    pub fn diag(&self, ht: HandleType, h: SqlHandle, n: i16) -> Option<DRec> {
        diag_rec(self.d, ht, h, n, 1024)
    }

    /// Every record of the handle (stops at the first non-success, at most 20).
    pub fn diags(&self, ht: HandleType, h: SqlHandle) -> Vec<DRec> {
        (1..=20).map_while(|n| self.diag(ht, h, n)).collect()
    }
}

/// One record read with a text buffer of `cap` units; `None` when the driver returns
/// anything but SUCCESS / SUCCESS_WITH_INFO.
pub fn diag_rec(d: &Driver, ht: HandleType, h: SqlHandle, n: i16, cap: usize) -> Option<DRec> {
    let mut native = 0i32;
    let mut len = -7i16;
    if let Some(g) = entry!(d, SQLGetDiagRecW) {
        let mut st = [0u16; 6];
        let mut msg = vec![0u16; cap.max(1)];
        // SAFETY: buffers of the sizes passed.
        let rc = unsafe { g(ht, h, n, st.as_mut_ptr(), &mut native, msg.as_mut_ptr(), cap as i16, &mut len) };
        if !rc.is_success() {
            return None;
        }
        let end = msg.iter().position(|&c| c == 0).unwrap_or(msg.len());
        let send = st.iter().position(|&c| c == 0).unwrap_or(5);
        Some(DRec { rc, state: String::from_utf16_lossy(&st[..send]), native, text: String::from_utf16_lossy(&msg[..end]), len })
    } else if let Some(g) = entry!(d, SQLGetDiagRec) {
        let mut st = [0u8; 6];
        let mut msg = vec![0u8; cap.max(1)];
        // SAFETY: buffers of the sizes passed.
        let rc = unsafe { g(ht, h, n, st.as_mut_ptr(), &mut native, msg.as_mut_ptr(), cap as i16, &mut len) };
        if !rc.is_success() {
            return None;
        }
        let end = msg.iter().position(|&c| c == 0).unwrap_or(msg.len());
        let send = st.iter().position(|&c| c == 0).unwrap_or(5);
        Some(DRec {
            rc,
            state: String::from_utf8_lossy(&st[..send]).into(),
            native,
            text: String::from_utf8_lossy(&msg[..end]).into(),
            len,
        })
    } else {
        None
    }
}

pub fn fmt_recs(r: &[DRec]) -> String {
    r.iter().map(|r| format!("[{}] {}", r.state, r.text)).collect::<Vec<_>>().join(" | ")
}

impl Drop for DConn<'_> {
    fn drop(&mut self) {
        // SAFETY: the driver's own handles, freed once, children first (the caller freed
        // its statements or the driver frees them with the connection).
        unsafe {
            if let Some(f) = entry!(self.d, SQLDisconnect) {
                f(self.dbc);
            }
            if let Some(free) = entry!(self.d, SQLFreeHandle) {
                free(HandleType::SQL_HANDLE_DBC, self.dbc);
                free(HandleType::SQL_HANDLE_ENV, self.env);
            }
        }
    }
}
