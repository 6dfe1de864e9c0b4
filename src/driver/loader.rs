//! `dlopen(RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND)` of a driver, once per canonical path.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};

use super::serialize::{self, Threading};
use super::DriverFns;

/// A loaded ODBC driver: its library and its entry points.
///
/// Drivers are never unloaded: a driver may own threads (the reference driver's workers,
/// psqlODBC's) that outlive its last handle, and `dlclose` under them would crash the
/// process. The library therefore lives as long as the process, which also satisfies
/// "alive while any handle uses it".
pub struct Driver {
    path: PathBuf,
    /// The entry points the DM calls through; immutable after load, so shared without a
    /// lock. For a Unicode driver the ANSI twins of string functions are removed (see
    /// [`DriverFns::prefer_wide`]).
    pub fns: DriverFns,
    /// The `Threading` level `fns` serializes at (trampolines at 2 and 3, see
    /// [`super::serialize`]).
    pub threading: Threading,
    /// For the fast lanes: the entry points `fns` calls in the end (the driver's own, after
    /// [`DriverFns::prefer_wide`]; the same as `fns` at level 0/1) and, at level 2/3, the
    /// serialization lock the lanes take themselves around them (see [`super::serialize`]).
    pub(crate) real: DriverFns,
    pub(crate) serial: Option<&'static serialize::SerialLock>,
    /// Every entry point the library exports, as `dlsym` found them (SQLGetFunctions, `info`).
    pub exported: DriverFns,
    /// The driver accepts SQL_ATTR_PARAM_BIND_OFFSET_PTR but never adds the offset when it
    /// reads parameters (libsqlite3odbc): the DM keeps the attribute and applies the offset
    /// itself (decision #143).
    pub(crate) ignores_param_offset: bool,
    /// The driver's SQLBindCol writes through StrLen_or_IndPtr at once (libsqlite3odbc
    /// stores 0 there), so the DM never binds an address of the application's that the
    /// fetch would not write anyway (decision #149).
    pub(crate) writes_indicator_at_bind: bool,
    _lib: Library,
}

impl Driver {
    /// The file the driver was loaded from, as given (not canonicalised).
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver").field("path", &self.path).finish()
    }
}

/// Why a driver could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// dlopen failed (IM003); the message carries dlerror's text.
    #[error("[odbc-dm] Specified driver could not be loaded: {path}: {reason}")]
    Dlopen { path: String, reason: String },
    /// The library loaded but exports none of the ODBC entry points a driver must have.
    #[error("[odbc-dm] {path} is not an ODBC driver: it exports no SQLAllocHandle, SQLAllocEnv or SQLDriverConnect")]
    NotADriver { path: String },
    /// `Threading` 2 or 3 asked for more serialized drivers than the DM has slots for.
    #[error("[odbc-dm] cannot serialize {path}: {source}")]
    NoSerializationSlot { path: String, source: serialize::NoSlotLeft },
}

impl LoadError {
    /// The SQLSTATE the DM posts for this failure.
    pub fn sqlstate(&self) -> &'static str {
        "IM003"
    }
}

type Registry = Mutex<HashMap<(PathBuf, Threading), Arc<Driver>>>;

fn registry() -> &'static Registry {
    static REG: OnceLock<Registry> = OnceLock::new();
    REG.get_or_init(Default::default)
}

/// Loads `path` at its default `Threading` level ([`serialize::default_level`]).
///
/// # Safety
///
/// `dlopen` runs the library's initialisers, and the entry points found in it are called
/// as ODBC functions of the declared signatures: `path` must be an ODBC driver (or a
/// library whose initialisers are sound to run and whose `SQL*` symbols, if any, have the
/// ODBC signatures). Only the crate's own tests use this (`internals`); the DM loads
/// drivers through [`load_driver_with`] after resolving the connection string.
pub unsafe fn load_driver(path: &Path) -> Result<Arc<Driver>, LoadError> {
    load_driver_with(path, serialize::default_level(path))
}

/// Loads `path` (or returns the already-loaded driver for it) with calls serialized at
/// `threading`.
///
/// One `Driver` per file and level: two odbcinst.ini sections naming the same file with
/// different `Threading` share the library (dlopen counts references) but not the table.
///
/// The registry lock is held across `dlopen` on purpose: it makes "load each driver once"
/// exact. dlopen runs only the driver's constructors, never an ODBC call, and the lock is
/// never taken on a call path.
///
/// Crate-private: runs foreign code (the library's initialisers); see [`load_driver`].
pub(crate) fn load_driver_with(path: &Path, threading: Threading) -> Result<Arc<Driver>, LoadError> {
    let key = (std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()), threading);
    let mut reg = registry().lock().unwrap_or_else(|p| p.into_inner());
    if let Some(d) = reg.get(&key) {
        return Ok(d.clone());
    }
    // SAFETY: loading a shared library runs its initialisers; an ODBC driver is meant to be
    // loaded this way by a driver manager. RTLD_LOCAL keeps its symbols out of the global
    // namespace, so two drivers exporting the same SQL* names cannot collide.
    // RTLD_DEEPBIND: the driver's calls to its own SQL* functions bind to the driver, not
    // to the same-named exports of the process's libodbc.so.2 (odbc-dm's C ABI build,
    // docs/decisions.md #64): MariaDB's SQLColAttributes calls SQLColAttributeW by name.
    let lib = unsafe { Library::open(Some(path), RTLD_NOW | RTLD_LOCAL | libc::RTLD_DEEPBIND) }
        .map_err(|e| LoadError::Dlopen { path: path.display().to_string(), reason: error_chain(&e) })?;
    let exported = DriverFns::load(&lib);
    if exported.SQLAllocHandle.is_none() && exported.SQLAllocEnv.is_none() {
        return Err(LoadError::NotADriver { path: path.display().to_string() });
    }
    let mut fns = exported;
    if fns.is_unicode() {
        fns.prefer_wide();
    }
    let real = fns;
    let (fns, serial) = serialize::table_for(fns, threading)
        .map_err(|source| LoadError::NoSerializationSlot { path: path.display().to_string(), source })?;
    // libsqlite3odbc 0.9998 accepts SQL_ATTR_PARAM_BIND_OFFSET_PTR and never adds it: it
    // read pyodbc's `fast_executemany` binding (addresses near null) near null (#143).
    let ignores_param_offset = serialize::is_sqlite_odbc(path);
    // Its SQLBindCol also sets the indicator to 0 (#149).
    let writes_indicator_at_bind = serialize::is_sqlite_odbc(path);
    let d = Arc::new(Driver {
        path: path.to_path_buf(),
        fns,
        threading,
        real,
        serial,
        exported,
        ignores_param_offset,
        writes_indicator_at_bind,
        _lib: lib,
    });
    reg.insert(key, d.clone());
    Ok(d)
}

/// An error with its sources, so dlerror's own text reaches the message (IM003).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
