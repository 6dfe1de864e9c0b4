//! [`Environment`]: the ODBC environment handle and the entry point of the safe API.

use std::ptr;
use std::sync::{Arc, Mutex};

use odbc_dm_abi::*;

use super::connection::Connection;
use super::error::{Diag, Error, Result};
use crate::raw;

/// The ODBC behaviour an environment asks for (`SQL_ATTR_ODBC_VERSION`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OdbcVersion {
    /// `SQL_OV_ODBC3`.
    Odbc3,
    /// `SQL_OV_ODBC3_80` (the default).
    #[default]
    Odbc3_80,
}

impl OdbcVersion {
    fn value(self) -> u32 {
        match self {
            OdbcVersion::Odbc3 => SQL_OV_ODBC3,
            OdbcVersion::Odbc3_80 => SQL_OV_ODBC3_80,
        }
    }
}

/// The owned environment handle; freed when the last [`Environment`] clone and the last
/// [`Connection`] made from it are gone.
pub(crate) struct EnvHandle {
    pub(crate) h: SqlHEnv,
    /// `SQLDrivers` / `SQLDataSources` iterate with state kept on the handle
    /// (`SQL_FETCH_NEXT`), so one enumeration at a time.
    enumerate: Mutex<()>,
}

// SAFETY: `h` is an id into the Driver Manager's handle table, not a pointer that is
// dereferenced here. The DM serializes calls per handle with its call gate (§3.1), so the
// handle may be used and freed from any thread; enumerations, whose state spans several
// calls, are serialized by `enumerate`.
unsafe impl Send for EnvHandle {}
// SAFETY: as above; every method takes `&self` and goes through the DM's per-handle gate.
unsafe impl Sync for EnvHandle {}

impl Drop for EnvHandle {
    fn drop(&mut self) {
        // SAFETY: our environment id; every connection made from it holds an `Arc` to this
        // object, so none is left.
        let rc = unsafe { raw::SQLFreeHandle(HandleType::SQL_HANDLE_ENV, self.h) };
        if !rc.is_success() {
            let e = Diag::env(self.h).error("SQLFreeHandle", rc);
            log::warn!("freeing the ODBC environment failed: {e}");
        }
    }
}

/// An installed driver, as `SQLDrivers` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriverInfo {
    /// The driver's description (its section name in odbcinst.ini).
    pub description: String,
    /// Its attributes (`key=value` pairs of odbcinst.ini).
    pub attributes: Vec<(String, String)>,
}

/// A data source, as `SQLDataSources` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataSourceInfo {
    /// The data source name.
    pub server_name: String,
    /// The description: the name of its driver.
    pub driver: String,
}

/// The ODBC environment: the entry point for connecting and for listing drivers and data
/// sources.
///
/// Owns one Driver Manager environment handle, freed on drop once no [`Connection`] made
/// from it is left (connections keep it alive through an `Arc`). Cloning is cheap and
/// shares the handle.
///
/// `Environment` is `Send + Sync`: the Driver Manager's handles are thread safe. Every call
/// on one handle is serialized by the DM's per-handle call gate (§3.1), so concurrent calls
/// from several threads wait for each other instead of racing inside the driver.
#[derive(Clone)]
pub struct Environment {
    pub(crate) inner: Arc<EnvHandle>,
}

impl Environment {
    /// Allocates an environment asking for ODBC 3.80 behaviour.
    pub fn new() -> Result<Self> {
        Self::with_version(OdbcVersion::Odbc3_80)
    }

    /// Allocates an environment asking for the given ODBC behaviour.
    pub fn with_version(version: OdbcVersion) -> Result<Self> {
        let mut h: SqlHandle = ptr::null_mut();
        // SAFETY: allocating an environment needs no input handle; `h` is a valid out slot.
        let rc = unsafe { raw::SQLAllocHandle(HandleType::SQL_HANDLE_ENV, SQL_NULL_HANDLE, &mut h) };
        if !rc.is_success() || h.is_null() {
            return Err(Error::Odbc { function: "SQLAllocHandle", return_code: rc.0, records: Vec::new() });
        }
        let inner = Arc::new(EnvHandle { h, enumerate: Mutex::new(()) });
        // SAFETY: our environment; an integer attribute is passed in the pointer itself.
        let rc = unsafe { raw::SQLSetEnvAttr(h, EnvAttr::SQL_ATTR_ODBC_VERSION, version.value() as usize as SqlPointer, 0) };
        Diag::env(h).check("SQLSetEnvAttr", rc, &mut Vec::new())?;
        Ok(Environment { inner })
    }

    /// The raw environment handle (a DM handle usable with [`crate::raw`]); owned by `self`.
    pub fn as_raw(&self) -> SqlHEnv {
        self.inner.h
    }

    /// Connects with a connection string (`SQLDriverConnect`, `SQL_DRIVER_NOPROMPT`), e.g.
    /// `"DRIVER=/path/to/driver.so;Database=/tmp/x.db"` or `"DSN=name;UID=u;PWD=p"`.
    ///
    /// Warnings of the connect (`SQL_SUCCESS_WITH_INFO`) are kept in
    /// [`Connection::warnings`].
    pub fn connect_with_connection_string(&self, connection_string: &str) -> Result<Connection> {
        let conn = Connection::alloc(self.inner.clone())?;
        conn.driver_connect(connection_string)?;
        Ok(conn)
    }

    /// Connects to a data source by name (`SQLConnect`).
    pub fn connect(&self, dsn: &str, user: &str, password: &str) -> Result<Connection> {
        let conn = Connection::alloc(self.inner.clone())?;
        conn.sql_connect(dsn, user, password)?;
        Ok(conn)
    }

    /// The installed drivers (`SQLDrivers`).
    pub fn drivers(&self) -> Result<Vec<DriverInfo>> {
        let _one_at_a_time = self.inner.enumerate.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::new();
        let mut direction = FetchOrientation::SQL_FETCH_FIRST;
        let (mut desc, mut attrs) = (vec![0u8; 256], vec![0u8; 1024]);
        loop {
            let (mut dl, mut al) = (0i16, 0i16);
            // SAFETY: our environment; buffers of the given byte lengths, valid out slots.
            let rc = unsafe {
                raw::SQLDrivers(
                    self.inner.h,
                    direction,
                    desc.as_mut_ptr(),
                    desc.len() as i16,
                    &mut dl,
                    attrs.as_mut_ptr(),
                    attrs.len() as i16,
                    &mut al,
                )
            };
            if rc == SqlReturn::SQL_NO_DATA {
                break;
            }
            let info = Diag::env(self.inner.h).check("SQLDrivers", rc, &mut Vec::new())?;
            if info == SqlReturn::SQL_SUCCESS_WITH_INFO && (dl as usize >= desc.len() || al as usize >= attrs.len()) {
                // Truncated: grow and read the same entry again (SQL_FETCH_NEXT would skip
                // it, so restart the enumeration and skip what we already have).
                desc.resize((dl.max(0) as usize + 1).max(desc.len()), 0);
                attrs.resize((al.max(0) as usize + 1).max(attrs.len()), 0);
                out.clear();
                direction = FetchOrientation::SQL_FETCH_FIRST;
                continue;
            }
            let description = cstr(&desc, dl);
            let attributes = cstr_list(&attrs, al);
            out.push(DriverInfo { description, attributes });
            direction = FetchOrientation::SQL_FETCH_NEXT;
        }
        Ok(out)
    }

    /// The user and system data sources (`SQLDataSources`).
    pub fn data_sources(&self) -> Result<Vec<DataSourceInfo>> {
        let _one_at_a_time = self.inner.enumerate.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::new();
        let mut direction = FetchOrientation::SQL_FETCH_FIRST;
        let (mut name, mut desc) = (vec![0u8; 256], vec![0u8; 512]);
        loop {
            let (mut nl, mut dl) = (0i16, 0i16);
            // SAFETY: our environment; buffers of the given byte lengths, valid out slots.
            let rc = unsafe {
                raw::SQLDataSources(
                    self.inner.h,
                    direction,
                    name.as_mut_ptr(),
                    name.len() as i16,
                    &mut nl,
                    desc.as_mut_ptr(),
                    desc.len() as i16,
                    &mut dl,
                )
            };
            if rc == SqlReturn::SQL_NO_DATA {
                break;
            }
            let info = Diag::env(self.inner.h).check("SQLDataSources", rc, &mut Vec::new())?;
            if info == SqlReturn::SQL_SUCCESS_WITH_INFO && (nl as usize >= name.len() || dl as usize >= desc.len()) {
                name.resize((nl.max(0) as usize + 1).max(name.len()), 0);
                desc.resize((dl.max(0) as usize + 1).max(desc.len()), 0);
                out.clear();
                direction = FetchOrientation::SQL_FETCH_FIRST;
                continue;
            }
            out.push(DataSourceInfo { server_name: cstr(&name, nl), driver: cstr(&desc, dl) });
            direction = FetchOrientation::SQL_FETCH_NEXT;
        }
        Ok(out)
    }
}

/// The text of a NUL-terminated output buffer whose length the driver reported as `len`.
fn cstr(buf: &[u8], len: i16) -> String {
    let end = (len.max(0) as usize).min(buf.len());
    let end = buf[..end].iter().position(|&b| b == 0).unwrap_or(end);
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// `key=value\0key=value\0\0` → pairs.
fn cstr_list(buf: &[u8], len: i16) -> Vec<(String, String)> {
    let end = (len.max(0) as usize).min(buf.len());
    buf[..end]
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| {
            let s = String::from_utf8_lossy(s);
            match s.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (s.into_owned(), String::new()),
            }
        })
        .collect()
}
