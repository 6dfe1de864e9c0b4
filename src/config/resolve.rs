//! Turns a connection string into "which shared library to load and what to
//! send it", following unixODBC's lookup rules so existing configurations
//! behave identically:
//!
//! * `DRIVER=/abs/or/rel/path.so` (contains `/`) → that file;
//! * `DRIVER={Name}` → `[Name]` in odbcinst.ini, key `Driver64` (64-bit
//!   targets, as unixODBC does) or `Driver`; a bare file name is looked up in
//!   [`DEFAULT_DRIVER_DIR`] and, if absent there, returned unchanged so the
//!   dynamic loader's own search path applies;
//! * `DSN=name` → `[name]` in the user odbc.ini, else the system one (user
//!   DSNs shadow system DSNs); its `Driver` key is a path or an odbcinst name;
//!   DSN attributes are merged under the explicit keywords (explicit wins);
//! * neither → the DSN named `Default`, if any;
//! * both `DSN` and `DRIVER` → whichever appears first (ODBC rule); the other
//!   keyword is dropped.

use std::fmt;
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::conn_str::{build_connection_string, is_password_key, mask_passwords, ConnectionString, MASK};
use super::ini::{IniFile, Section};
use super::paths::ConfigSource;

/// Directory where Debian/Ubuntu install ODBC drivers for this target; bare
/// driver file names from odbcinst.ini are looked up here first, exactly as
/// Debian's unixODBC does.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub const DEFAULT_DRIVER_DIR: &str = "/usr/lib/x86_64-linux-gnu/odbc";
/// Directory where Debian/Ubuntu install ODBC drivers for this target.
#[cfg(all(target_os = "linux", target_arch = "aarch64"))]
pub const DEFAULT_DRIVER_DIR: &str = "/usr/lib/aarch64-linux-gnu/odbc";
/// Directory where Debian/Ubuntu install ODBC drivers for this target.
#[cfg(all(target_os = "linux", target_arch = "x86"))]
pub const DEFAULT_DRIVER_DIR: &str = "/usr/lib/i386-linux-gnu/odbc";
/// Directory where Debian/Ubuntu install ODBC drivers for this target.
#[cfg(all(target_os = "linux", target_arch = "arm"))]
pub const DEFAULT_DRIVER_DIR: &str = "/usr/lib/arm-linux-gnueabihf/odbc";
/// Fallback driver directory for targets without a known multiarch triple.
#[cfg(not(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64", target_arch = "x86", target_arch = "arm"))))]
pub const DEFAULT_DRIVER_DIR: &str = "/usr/lib/odbc";

/// Name of the odbcinst.ini / odbc.ini section holding DM-wide options,
/// which is not a driver or a DSN.
pub const ODBC_SECTION: &str = "ODBC";

/// Name of the DSN used when a connection string names neither DSN nor DRIVER.
pub const DEFAULT_DSN: &str = "Default";

/// Why a connection string could not be resolved. The lookup failures map to
/// SQLSTATE IM002, a refused configuration file to HY000; messages are
/// password-masked.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// The DSN is in neither the user nor the system odbc.ini.
    #[error("Data source name not found and no default driver specified (DSN '{}')", mask_passwords(.0))]
    DataSourceNotFound(String),
    /// The driver name has no odbcinst.ini section, or the section (or the
    /// DSN) has no usable `Driver` key.
    #[error("Data source name not found and no default driver specified (driver '{}' not found in odbcinst.ini)", mask_passwords(.0))]
    DriverNotFound(String),
    /// No DSN or DRIVER keyword and no `Default` DSN.
    #[error("Data source name not found and no default driver specified (no DSN or DRIVER keyword and no Default DSN)")]
    NoDriverOrDsn,
    /// An odbc.ini / odbcinst.ini that must not be read: a FIFO, a device or a
    /// file larger than [`super::ini::MAX_INI_SIZE`] (docs/decisions.md #46).
    #[error("ODBC configuration file refused: {0}")]
    ConfigFileRefused(String),
}

impl ConfigError {
    /// The SQLSTATE to post for this error (IM002 for all, like unixODBC).
    pub fn sqlstate(&self) -> &'static str {
        match self {
            ConfigError::DataSourceNotFound(_) | ConfigError::DriverNotFound(_) | ConfigError::NoDriverOrDsn => "IM002",
            ConfigError::ConfigFileRefused(_) => "HY000",
        }
    }
}

/// Everything the DM needs to load and connect a driver.
#[derive(Clone, PartialEq, Eq)]
pub struct ResolvedDriver {
    /// Library to dlopen: absolute when known, or a bare name for the
    /// loader's own search.
    pub driver_path: PathBuf,
    /// odbcinst.ini section name, when the driver was found by name.
    pub driver_name: Option<String>,
    /// DSN used, when the connection went through one.
    pub dsn: Option<String>,
    /// Keywords to send to the driver: explicit ones first (in order), then
    /// DSN attributes not overridden (the DSN's `Driver` key excluded).
    pub attributes: Vec<(String, String)>,
    /// The odbcinst.ini section of the driver (e.g. `Threading`, `CommLog`).
    pub driver_section: Option<Vec<(String, String)>>,
    /// The application's own text of a braced `DRIVER` value (`{MariaDB Unicode}`),
    /// given to the driver as written (decision #147).
    pub driver_spelling: Option<String>,
}

impl ResolvedDriver {
    /// The connection string to pass to the driver's SQLDriverConnect
    /// (contains secrets: never log it unmasked).
    ///
    /// Values are written bare unless they need braces, so a driver that reads its
    /// keywords literally (libsqlite3odbc's `Database`) gets the value itself; the one
    /// exception is `DRIVER`, which the DM has consumed and drivers only echo into the
    /// completed connection string: it keeps the application's spelling, braces included,
    /// as under unixODBC and the Windows DM (decision #147).
    pub fn to_driver_connection_string(&self) -> String {
        // The spelling counts only while it still says the driver's value (parsed alone, it
        // gives that value back).
        let spelled = |k: &str, v: &str| {
            let raw = self.driver_spelling.as_deref().filter(|_| k.eq_ignore_ascii_case("DRIVER"))?;
            let text = format!("{k}={raw}");
            (super::conn_str::parse_pairs(&text).first().map(|(_, pv)| pv.as_str()) == Some(v)).then_some(text)
        };
        let parts: Vec<String> = self
            .attributes
            .iter()
            .map(|(k, v)| spelled(k, v).unwrap_or_else(|| build_connection_string([(k.as_str(), v.as_str())])))
            .collect();
        parts.join(";")
    }

    /// Case-insensitive lookup in the merged attributes.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str())
    }

    /// Case-insensitive lookup in the driver's odbcinst.ini section, e.g. to
    /// read `Threading` or `CommLog`.
    pub fn driver_option(&self, key: &str) -> Option<&str> {
        self.driver_section.as_ref()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str())
    }
}

/// Debug masks password attributes so resolved connections can be logged.
impl fmt::Debug for ResolvedDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let masked: Vec<(&str, &str)> =
            self.attributes.iter().map(|(k, v)| if is_password_key(k) { (k.as_str(), MASK) } else { (k.as_str(), v.as_str()) }).collect();
        f.debug_struct("ResolvedDriver")
            .field("driver_path", &self.driver_path)
            .field("driver_name", &self.driver_name)
            .field("dsn", &self.dsn)
            .field("attributes", &masked)
            .field("driver_section", &self.driver_section)
            .finish()
    }
}

/// Which odbc.ini files SQLDataSources enumerates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DsnScope {
    /// Only the user file (SQL_FETCH_FIRST_USER).
    User,
    /// Only the system file (SQL_FETCH_FIRST_SYSTEM).
    System,
    /// User then system, system entries shadowed by user ones omitted.
    All,
}

/// Loads an INI file, treating unreadable files like missing ones (with a
/// warning) because unixODBC silently ignores them too, except for files the
/// DM refuses to read (a FIFO, a device, over [`super::ini::MAX_INI_SIZE`]):
/// those are an error, so a connect says why instead of "DSN not found".
fn load_checked(path: &Path, result: std::io::Result<IniFile>) -> Result<IniFile, ConfigError> {
    match result {
        Ok(ini) => Ok(ini),
        Err(e) if matches!(e.kind(), std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData) => {
            Err(ConfigError::ConfigFileRefused(e.to_string()))
        }
        Err(e) => {
            log::warn!("cannot read ODBC config {}: {e}", path.display());
            Ok(IniFile::default())
        }
    }
}

/// For listings: a refused file is logged and listed as empty.
fn load_or_empty(path: &Path, result: std::io::Result<IniFile>) -> IniFile {
    load_checked(path, result).unwrap_or_else(|e| {
        log::warn!("{e}");
        IniFile::default()
    })
}

/// The parsed odbcinst.ini of a source.
fn odbcinst(src: &ConfigSource) -> IniFile {
    load_or_empty(&src.odbcinst_ini, src.load_odbcinst())
}

/// The parsed user odbc.ini of a source (empty if none).
fn user_dsns(src: &ConfigSource) -> IniFile {
    match &src.user_odbc_ini {
        Some(p) => load_or_empty(p, src.load_user_dsns()),
        None => IniFile::default(),
    }
}

/// The parsed system odbc.ini of a source.
fn system_dsns(src: &ConfigSource) -> IniFile {
    load_or_empty(&src.system_odbc_ini, src.load_system_dsns())
}

/// Finds a DSN section, user file first so user DSNs shadow system ones. Each
/// file is read and parsed at most once.
fn find_dsn(src: &ConfigSource, name: &str) -> Result<Option<Section>, ConfigError> {
    if name.eq_ignore_ascii_case(ODBC_SECTION) {
        return Ok(None);
    }
    if let Some(p) = &src.user_odbc_ini {
        if let Some(s) = load_checked(p, src.load_user_dsns())?.section(name) {
            return Ok(Some(s.clone()));
        }
    }
    Ok(load_checked(&src.system_odbc_ini, src.load_system_dsns())?.section(name).cloned())
}

/// Refuses a driver library that is a FIFO, socket or device (dlopen would block on a
/// FIFO or read `/dev/zero` forever) or a directory; a missing file or a bare name is
/// left to the loader. Never blocks: only `stat`. The message names the file.
pub fn check_driver_file(path: &Path) -> Result<(), String> {
    match std::fs::metadata(path) {
        Ok(m) if super::ini::is_special_file(&m.file_type()) => {
            Err(format!("{} is a FIFO, socket or device, not a shared library; refusing to load it", path.display()))
        }
        Ok(m) if m.is_dir() => Err(format!("{} is a directory, not a shared library", path.display())),
        _ => Ok(()),
    }
}

/// Non-empty value of `key` in a section.
fn non_empty<'a>(s: &'a Section, key: &str) -> Option<&'a str> {
    s.get(key).filter(|v| !v.is_empty())
}

/// Resolves a bare driver file name against [`DEFAULT_DRIVER_DIR`]; see
/// [`resolve_driver_file_in`].
pub fn resolve_driver_file(value: &str) -> PathBuf {
    resolve_driver_file_in(Path::new(DEFAULT_DRIVER_DIR), value)
}

/// Values containing `/` are paths and returned as-is; a bare file name is
/// replaced by `<dir>/<name>` if that file exists, otherwise returned
/// unchanged so dlopen's own search (LD_LIBRARY_PATH, ld.so.cache) applies.
pub fn resolve_driver_file_in(dir: &Path, value: &str) -> PathBuf {
    if value.contains('/') {
        return PathBuf::from(value);
    }
    let candidate = dir.join(value);
    if candidate.is_file() {
        candidate
    } else {
        PathBuf::from(value)
    }
}

/// A driver found in odbcinst.ini: its library and section.
struct DriverEntry {
    path: PathBuf,
    name: String,
    section: Vec<(String, String)>,
}

/// Looks up `[name]` in odbcinst.ini and resolves its library, preferring
/// `Driver64` on 64-bit targets like unixODBC.
fn driver_by_name(inst: &IniFile, name: &str, driver_dir: &Path) -> Result<DriverEntry, ConfigError> {
    let not_found = || ConfigError::DriverNotFound(name.to_string());
    if name.eq_ignore_ascii_case(ODBC_SECTION) {
        return Err(not_found());
    }
    let section = inst.section(name).ok_or_else(not_found)?;
    let lib = if cfg!(target_pointer_width = "64") {
        non_empty(section, "Driver64").or_else(|| non_empty(section, "Driver"))
    } else {
        non_empty(section, "Driver")
    }
    .ok_or_else(not_found)?;
    Ok(DriverEntry { path: resolve_driver_file_in(driver_dir, lib), name: section.name().to_string(), section: section.to_vec() })
}

/// Resolves a DRIVER keyword value: a path if it contains `/`, else an
/// odbcinst.ini name. Braces are already removed by the parser.
fn driver_from_value(inst: &IniFile, value: &str, driver_dir: &Path) -> Result<DriverEntry, ConfigError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ConfigError::DriverNotFound(String::new()));
    }
    if value.contains('/') {
        return Ok(DriverEntry { path: PathBuf::from(value), name: String::new(), section: Vec::new() });
    }
    match driver_by_name(inst, value, driver_dir) {
        // Not an odbcinst.ini section, but a library file name (the README's
        // `DRIVER=libsqlite3odbc.so`): resolved like odbcinst.ini's bare names,
        // in the driver directory, else by the dynamic loader's search.
        Err(_) if inst.section(value).is_none() && (driver_dir.join(value).is_file() || looks_like_library(value)) => {
            Ok(DriverEntry { path: resolve_driver_file_in(driver_dir, value), name: String::new(), section: Vec::new() })
        }
        r => r,
    }
}

/// A bare file name of a shared library (`libx.so`, `libx.so.2`, `x.dylib`).
fn looks_like_library(value: &str) -> bool {
    value.ends_with(".so") || value.contains(".so.") || value.ends_with(".dylib")
}

/// Resolves a connection string using the default driver directory.
pub fn resolve_connection_string(src: &ConfigSource, conn_str: &str) -> Result<ResolvedDriver, ConfigError> {
    resolve(src, &ConnectionString::parse(conn_str))
}

/// Resolves a parsed connection string using the default driver directory.
pub fn resolve(src: &ConfigSource, cs: &ConnectionString) -> Result<ResolvedDriver, ConfigError> {
    resolve_with_driver_dir(src, cs, Path::new(DEFAULT_DRIVER_DIR))
}

/// Resolves for SQLConnect(ServerName, UserName, Authentication): the DSN
/// (empty = `Default`) plus UID/PWD when given, which override the DSN's.
pub fn resolve_dsn(src: &ConfigSource, dsn: &str, uid: Option<&str>, pwd: Option<&str>) -> Result<ResolvedDriver, ConfigError> {
    let mut cs = ConnectionString::default();
    cs.set("DSN", dsn);
    if let Some(u) = uid.filter(|u| !u.is_empty()) {
        cs.set("UID", u);
    }
    if let Some(p) = pwd.filter(|p| !p.is_empty()) {
        cs.set("PWD", p);
    }
    resolve(src, &cs)
}

/// Full resolution with an explicit bare-name driver directory (so tests do
/// not depend on what is installed under /usr/lib).
pub fn resolve_with_driver_dir(src: &ConfigSource, cs: &ConnectionString, driver_dir: &Path) -> Result<ResolvedDriver, ConfigError> {
    let dsn_pos = cs.position("DSN").filter(|&i| !cs.pairs()[i].1.trim().is_empty());
    let driver_pos = cs.position("DRIVER");
    let inst = load_checked(&src.odbcinst_ini, src.load_odbcinst())?;

    // DRIVER wins if it appears before any (non-empty) DSN.
    if let Some(dp) = driver_pos {
        if dsn_pos.is_none_or(|sp| dp < sp) {
            let entry = driver_from_value(&inst, &cs.pairs()[dp].1, driver_dir)?;
            let mut attrs = cs.clone();
            attrs.remove("DSN");
            return Ok(ResolvedDriver {
                driver_path: entry.path,
                driver_name: (!entry.name.is_empty()).then_some(entry.name),
                dsn: None,
                attributes: attrs.into_pairs(),
                driver_section: (!entry.section.is_empty()).then_some(entry.section),
                driver_spelling: cs.spelling("DRIVER").map(str::to_string),
            });
        }
    }

    let mut explicit = cs.clone();
    explicit.remove("DRIVER");
    let (dsn_name, section) = match dsn_pos {
        Some(i) => {
            let name = cs.pairs()[i].1.trim().to_string();
            let section = find_dsn(src, &name)?.ok_or_else(|| ConfigError::DataSourceNotFound(name.clone()))?;
            (name, section)
        }
        None => {
            let section = find_dsn(src, DEFAULT_DSN)?.ok_or(ConfigError::NoDriverOrDsn)?;
            // Put DSN=Default first, as unixODBC does, so the driver sees it.
            explicit.remove("DSN");
            let mut with_dsn = ConnectionString::default();
            with_dsn.set("DSN", section.name());
            for (k, v) in explicit.into_pairs() {
                with_dsn.set(k, v);
            }
            explicit = with_dsn;
            (section.name().to_string(), section)
        }
    };

    let driver_value = non_empty(&section, "Driver").ok_or_else(|| ConfigError::DriverNotFound(String::new()))?;
    let entry = driver_from_value(&inst, driver_value, driver_dir)?;

    let mut attributes = explicit.into_pairs();
    for (k, v) in section.entries() {
        if k.eq_ignore_ascii_case("Driver") || k.eq_ignore_ascii_case("DSN") {
            continue;
        }
        if !attributes.iter().any(|(ek, _)| ek.eq_ignore_ascii_case(k)) {
            attributes.push((k.to_string(), v.to_string()));
        }
    }
    Ok(ResolvedDriver {
        driver_path: entry.path,
        driver_name: (!entry.name.is_empty()).then_some(entry.name),
        dsn: Some(dsn_name),
        attributes,
        driver_section: (!entry.section.is_empty()).then_some(entry.section),
        driver_spelling: None,
    })
}

/// Installed drivers for SQLDrivers: every odbcinst.ini section except
/// `[ODBC]` (DM options), in file order, with its attributes.
pub fn list_drivers(src: &ConfigSource) -> Vec<(String, Vec<(String, String)>)> {
    odbcinst(src)
        .sections()
        .filter(|(name, _)| !name.eq_ignore_ascii_case(ODBC_SECTION))
        .map(|(name, s)| (name.to_string(), s.to_vec()))
        .collect()
}

/// DSNs for SQLDataSources: `(name, description)` where, as in unixODBC, the
/// description is the DSN's `Driver` key; `[ODBC]` is skipped and with
/// [`DsnScope::All`] system DSNs shadowed by user ones are omitted.
pub fn list_dsns(src: &ConfigSource, scope: DsnScope) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    // Lower-cased names already listed: linear, not a scan of `out` per section.
    let mut seen = std::collections::HashSet::new();
    let mut add = |ini: &IniFile, out: &mut Vec<(String, String)>| {
        for (name, s) in ini.sections() {
            if name.eq_ignore_ascii_case(ODBC_SECTION) || !seen.insert(name.to_ascii_lowercase()) {
                continue;
            }
            out.push((name.to_string(), s.get("Driver").unwrap_or("").to_string()));
        }
    };
    if matches!(scope, DsnScope::User | DsnScope::All) {
        add(&user_dsns(src), &mut out);
    }
    if matches!(scope, DsnScope::System | DsnScope::All) {
        add(&system_dsns(src), &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A unique temp directory removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> Self {
            static N: AtomicUsize = AtomicUsize::new(0);
            let p =
                std::env::temp_dir().join(format!("odbc-dm-resolve-{tag}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
            std::fs::create_dir_all(&p).unwrap();
            TempDir(p)
        }
        fn write(&self, name: &str, text: &str) -> PathBuf {
            let p = self.0.join(name);
            std::fs::write(&p, text).unwrap();
            p
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const INST: &str = "[ODBC]\nTrace=No\n\n[SQLite3]\nDescription=SQLite\nDriver=libsqlite3odbc.so\nThreading=2\n\n\
                        [Abs]\nDriver=/opt/abs/libabs.so\n\n[Both]\nDriver=/lib32/x.so\nDriver64=/lib64/x.so\n\n\
                        [NoLib]\nDescription=broken\n\n[Missing Bare]\nDriver=libnothere.so\n";

    fn setup(system: &str, user: Option<&str>) -> (TempDir, ConfigSource) {
        let d = TempDir::new("t");
        d.write("odbcinst.ini", INST);
        d.write("odbc.ini", system);
        let user = user.map(|u| d.write("user.ini", u));
        let src = ConfigSource::from_paths(d.0.join("odbcinst.ini"), d.0.join("odbc.ini"), user);
        (d, src)
    }

    fn res(src: &ConfigSource, dir: &Path, s: &str) -> Result<ResolvedDriver, ConfigError> {
        resolve_with_driver_dir(src, &ConnectionString::parse(s), dir)
    }

    #[test]
    fn driver_absolute_path() {
        let (d, src) = setup("", None);
        let r = res(&src, &d.0, "DRIVER=/x/y/lib.so;Database=a").unwrap();
        assert_eq!(r.driver_path, PathBuf::from("/x/y/lib.so"));
        assert_eq!(r.driver_name, None);
        assert_eq!(r.driver_section, None);
        assert_eq!(r.to_driver_connection_string(), "DRIVER=/x/y/lib.so;Database=a");
    }

    #[test]
    fn driver_by_name_braces_case_and_bare_fallback() {
        let (d, src) = setup("", None);
        let libdir = TempDir::new("lib");
        let lib = libdir.write("libsqlite3odbc.so", "");
        let r = res(&src, &libdir.0, "driver={sqlite3};Database=/tmp/x.db").unwrap();
        assert_eq!(r.driver_path, lib);
        assert_eq!(r.driver_name.as_deref(), Some("SQLite3"));
        assert_eq!(r.driver_option("threading"), Some("2"));
        // Bare name not in the dir → unchanged, for dlopen's own search.
        let r = res(&src, &libdir.0, "DRIVER={Missing Bare}").unwrap();
        assert_eq!(r.driver_path, PathBuf::from("libnothere.so"));
        // Empty dir → unchanged too.
        let r = res(&src, &d.0.join("nope"), "DRIVER=SQLite3").unwrap();
        assert_eq!(r.driver_path, PathBuf::from("libsqlite3odbc.so"));
        let r = res(&src, &d.0, "DRIVER=Abs").unwrap();
        assert_eq!(r.driver_path, PathBuf::from("/opt/abs/libabs.so"));
    }

    /// Decision #147: the DRIVER value goes to the driver as the application spelled it
    /// (braces, and anything after them up to the `;`), every other value bare unless it
    /// needs braces (libsqlite3odbc reads `Database={..}` with its braces).
    #[test]
    fn driver_keeps_its_spelling_decision_147() {
        let (d, src) = setup("", None);
        let r = res(&src, &d.0, "DRIVER={Both};Database={/tmp/x y.db};PWD={a;b}").unwrap();
        assert_eq!(r.to_driver_connection_string(), "DRIVER={Both};Database=/tmp/x y.db;PWD={a;b}");
        let r = res(&src, &d.0, "Driver = {Both} ;X=1").unwrap();
        assert_eq!(r.to_driver_connection_string(), "Driver={Both};X=1");
        let r = res(&src, &d.0, "DRIVER={/x/y/lib.so} junk;X=1").unwrap();
        assert_eq!(r.to_driver_connection_string(), "DRIVER={/x/y/lib.so} junk;X=1");
        // Written bare, it stays bare.
        let r = res(&src, &d.0, "DRIVER=Both;X=1").unwrap();
        assert_eq!(r.to_driver_connection_string(), "DRIVER=Both;X=1");
        // A DSN connection gives the driver no DRIVER keyword at all.
        let (d2, src2) = setup("[ds]\nDriver=Both\nDatabase=db\n", None);
        let r = res(&src2, &d2.0, "DSN=ds;DRIVER={Both}").unwrap();
        assert_eq!(r.to_driver_connection_string(), "DSN=ds;Database=db");
    }

    #[test]
    fn driver64_preferred_on_64bit() {
        let (d, src) = setup("", None);
        let r = res(&src, &d.0, "DRIVER={Both}").unwrap();
        if cfg!(target_pointer_width = "64") {
            assert_eq!(r.driver_path, PathBuf::from("/lib64/x.so"));
        } else {
            assert_eq!(r.driver_path, PathBuf::from("/lib32/x.so"));
        }
    }

    #[test]
    fn driver_errors() {
        let (d, src) = setup("", None);
        let e = res(&src, &d.0, "DRIVER={Nope};PWD=secret").unwrap_err();
        assert_eq!(e, ConfigError::DriverNotFound("Nope".into()));
        assert_eq!(e.sqlstate(), "IM002");
        assert!(e.to_string().contains("Nope"));
        assert!(matches!(res(&src, &d.0, "DRIVER={NoLib}"), Err(ConfigError::DriverNotFound(_))));
        assert!(matches!(res(&src, &d.0, "DRIVER=ODBC"), Err(ConfigError::DriverNotFound(_))));
        assert!(matches!(res(&src, &d.0, "DRIVER="), Err(ConfigError::DriverNotFound(_))));
    }

    #[test]
    fn dsn_merge_precedence() {
        let (_d, src) = setup("[ODBC]\nTrace=No\n[mydb]\nDriver=SQLite3\nDatabase=/dsn.db\nStepAPI=1\nUID=dsnuser\n", None);
        let libdir = TempDir::new("lib2");
        let lib = libdir.write("libsqlite3odbc.so", "");
        let r = res(&src, &libdir.0, "uid=me;DSN=MYDB;Timeout=5;pwd={p;w}").unwrap();
        assert_eq!(r.driver_path, lib);
        assert_eq!(r.dsn.as_deref(), Some("MYDB"));
        assert_eq!(r.driver_name.as_deref(), Some("SQLite3"));
        assert_eq!(r.attribute("UID"), Some("me"));
        assert_eq!(r.attribute("Database"), Some("/dsn.db"));
        assert_eq!(r.attribute("Driver"), None);
        assert_eq!(r.to_driver_connection_string(), "uid=me;DSN=MYDB;Timeout=5;pwd={p;w};Database=/dsn.db;StepAPI=1");
        assert!(!format!("{r:?}").contains("p;w"));
    }

    #[test]
    fn dsn_with_path_driver_and_dsn_first_wins() {
        let (d, src) = setup("[p]\nDriver=/abs/lib.so\nX=1\n", None);
        let r = res(&src, &d.0, "DSN=p;DRIVER={SQLite3}").unwrap();
        assert_eq!(r.driver_path, PathBuf::from("/abs/lib.so"));
        assert_eq!(r.driver_name, None);
        assert_eq!(r.to_driver_connection_string(), "DSN=p;X=1");
        // DRIVER first → DSN ignored and dropped.
        let r = res(&src, &d.0, "DRIVER={SQLite3};DSN=p").unwrap();
        assert_eq!(r.driver_name.as_deref(), Some("SQLite3"));
        assert_eq!(r.dsn, None);
        assert_eq!(r.to_driver_connection_string(), "DRIVER={SQLite3}", "as the application spelled it (#147)");
    }

    #[test]
    fn user_dsn_shadows_system() {
        let (d, src) = setup(
            "[shared]\nDriver=/sys/lib.so\nSysOnly=1\n[sysdsn]\nDriver=Abs\n",
            Some("[SHARED]\nDriver=/user/lib.so\nDescription=mine\n"),
        );
        let r = res(&src, &d.0, "DSN=shared").unwrap();
        assert_eq!(r.driver_path, PathBuf::from("/user/lib.so"));
        assert_eq!(r.attribute("SysOnly"), None);
        let r = res(&src, &d.0, "DSN=sysdsn").unwrap();
        assert_eq!(r.driver_path, PathBuf::from("/opt/abs/libabs.so"));
        assert_eq!(
            list_dsns(&src, DsnScope::All),
            vec![("SHARED".to_string(), "/user/lib.so".to_string()), ("sysdsn".to_string(), "Abs".to_string())]
        );
        assert_eq!(list_dsns(&src, DsnScope::User).len(), 1);
        assert_eq!(list_dsns(&src, DsnScope::System).len(), 2);
    }

    #[test]
    fn dsn_errors_and_default() {
        let (d, src) = setup("[ODBC]\nTrace=No\n[nodrv]\nDatabase=x\n[baddrv]\nDriver=Nope\n", None);
        let e = res(&src, &d.0, "DSN=ghost;PWD=hunter2").unwrap_err();
        assert_eq!(e, ConfigError::DataSourceNotFound("ghost".into()));
        assert_eq!(e.sqlstate(), "IM002");
        assert!(matches!(res(&src, &d.0, "DSN=ODBC"), Err(ConfigError::DataSourceNotFound(_))));
        assert!(matches!(res(&src, &d.0, "DSN=nodrv"), Err(ConfigError::DriverNotFound(_))));
        assert_eq!(res(&src, &d.0, "DSN=baddrv").unwrap_err(), ConfigError::DriverNotFound("Nope".into()));
        let e = res(&src, &d.0, "UID=x;PWD=y").unwrap_err();
        assert_eq!(e, ConfigError::NoDriverOrDsn);
        assert_eq!(e.sqlstate(), "IM002");

        let (d, src) = setup("[default]\nDriver=Abs\nDatabase=def\n", None);
        let r = res(&src, &d.0, "UID=x").unwrap();
        assert_eq!(r.dsn.as_deref(), Some("default"));
        assert_eq!(r.to_driver_connection_string(), "DSN=default;UID=x;Database=def");
        // Empty DSN value behaves like no DSN.
        let r = res(&src, &d.0, "DSN=;UID=x").unwrap();
        assert_eq!(r.to_driver_connection_string(), "DSN=default;UID=x;Database=def");
    }

    #[test]
    fn error_messages_are_masked() {
        let e = ConfigError::DataSourceNotFound("x;PWD=secret".into());
        assert!(!e.to_string().contains("secret"));
        let e = ConfigError::DriverNotFound("Password={a}".into());
        assert!(!e.to_string().contains("{a}"));
    }

    #[test]
    fn missing_files_everywhere() {
        let d = TempDir::new("empty");
        let src = ConfigSource::from_paths(d.0.join("a.ini"), d.0.join("b.ini"), Some(d.0.join("c.ini")));
        assert!(list_drivers(&src).is_empty());
        assert!(list_dsns(&src, DsnScope::All).is_empty());
        assert_eq!(res(&src, &d.0, "DSN=x").unwrap_err(), ConfigError::DataSourceNotFound("x".into()));
        assert_eq!(res(&src, &d.0, "").unwrap_err(), ConfigError::NoDriverOrDsn);
        let r = res(&src, &d.0, "DRIVER=/l.so").unwrap();
        assert_eq!(r.driver_path, PathBuf::from("/l.so"));
    }

    #[test]
    fn list_drivers_skips_odbc_section() {
        let (_d, src) = setup("", None);
        let names: Vec<String> = list_drivers(&src).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, vec!["SQLite3", "Abs", "Both", "NoLib", "Missing Bare"]);
        let sqlite = &list_drivers(&src)[0].1;
        assert!(sqlite.contains(&("Threading".to_string(), "2".to_string())));
    }

    #[test]
    fn odbcinstini_relative_name_via_env_vars() {
        let d = TempDir::new("envvars");
        d.write("custom-inst.ini", "[Mine]\nDriver=/m/lib.so\n");
        d.write("odbc.ini", "[m]\nDriver=Mine\n");
        let sys = d.0.clone();
        let src = ConfigSource::from_vars(move |k| match k {
            "ODBCSYSINI" => Some(sys.clone().into_os_string()),
            "ODBCINSTINI" => Some("custom-inst.ini".into()),
            _ => None,
        });
        let r = res(&src, &d.0, "DSN=m").unwrap();
        assert_eq!(r.driver_path, PathBuf::from("/m/lib.so"));
        assert_eq!(r.driver_name.as_deref(), Some("Mine"));
    }

    #[test]
    fn sqlconnect_style() {
        let (d, src) = setup("[s]\nDriver=Abs\nUID=dsnu\nPWD=dsnp\n", None);
        let r = resolve_dsn(&src, "s", Some("u"), Some("p")).unwrap();
        assert_eq!(r.attribute("UID"), Some("u"));
        assert_eq!(r.attribute("PWD"), Some("p"));
        let r = resolve_dsn(&src, "s", None, Some("")).unwrap();
        assert_eq!(r.attribute("UID"), Some("dsnu"));
        assert_eq!(r.attribute("PWD"), Some("dsnp"));
        let _ = d;
    }

    #[test]
    fn default_driver_dir_const() {
        #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
        assert_eq!(DEFAULT_DRIVER_DIR, "/usr/lib/x86_64-linux-gnu/odbc");
        assert_eq!(resolve_driver_file("/a/b.so"), PathBuf::from("/a/b.so"));
        assert_eq!(resolve_driver_file("definitely-not-a-driver-xyz.so"), PathBuf::from("definitely-not-a-driver-xyz.so"));
    }
}
