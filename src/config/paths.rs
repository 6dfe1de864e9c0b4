//! Where the ODBC configuration files live, using unixODBC's rules so that an
//! existing unixODBC setup (and its environment variables) works unchanged:
//!
//! * system dir: `$ODBCSYSINI`, else `/etc`;
//! * driver list: `$ODBCINSTINI` (a file name, relative to the system dir; an
//!   absolute path is honoured as-is), else `<sysdir>/odbcinst.ini`;
//! * system DSNs: `<sysdir>/odbc.ini`;
//! * user DSNs: `$ODBCINI` if set (it replaces `~/.odbc.ini`), else
//!   `~/.odbc.ini`, where `~` is the user's home directory from the password database
//!   (`getpwuid(getuid())`), as unixODBC's `libodbcinst.so.2` finds it, so that the
//!   drivers' own `SQLGetPrivateProfileString` lookups read the same file as the DM
//!   (docs/decisions.md #99); `$HOME` only when the user has no password entry.
//!
//! Empty variables are treated as unset. User DSNs shadow system DSNs of the
//! same name (see `resolve`).

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

use super::ini::IniFile;

/// Default system configuration directory when `$ODBCSYSINI` is not set.
pub const DEFAULT_SYSTEM_DIR: &str = "/etc";

/// Resolved locations of the three configuration files. Holding them in a
/// value (instead of reading the environment on every lookup) keeps the
/// lookup logic testable without mutating process-wide environment variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigSource {
    /// Directory holding the system files (`$ODBCSYSINI` or `/etc`).
    pub system_dir: PathBuf,
    /// The driver registry (`odbcinst.ini`).
    pub odbcinst_ini: PathBuf,
    /// System DSNs (`<sysdir>/odbc.ini`).
    pub system_odbc_ini: PathBuf,
    /// User DSNs (`$ODBCINI` or `~/.odbc.ini`); `None` when there is no home.
    pub user_odbc_ini: Option<PathBuf>,
}

/// The home directory of the real user in the password database (`getpwuid_r(getuid())`),
/// the directory in which `libodbcinst.so.2` looks for `.odbc.ini`; `None` without an entry.
fn passwd_home() -> Option<OsString> {
    use std::os::unix::ffi::OsStrExt;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: `passwd` is plain old data; zeroed is a valid (empty) value.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: getuid has no preconditions; getpwuid_r writes into `pw` and `buf` (of the
    // length given) and sets `result` to `&pw` on success or null.
    let rc = unsafe { libc::getpwuid_r(libc::getuid(), &mut pw, buf.as_mut_ptr(), buf.len(), &mut result) };
    if rc != 0 || result.is_null() || pw.pw_dir.is_null() {
        return None;
    }
    // SAFETY: on success pw_dir points to a NUL-terminated string inside `buf`, alive here.
    let dir = unsafe { std::ffi::CStr::from_ptr(pw.pw_dir) };
    (!dir.to_bytes().is_empty()).then(|| std::ffi::OsStr::from_bytes(dir.to_bytes()).to_os_string())
}

impl ConfigSource {
    /// Resolves paths from the current process environment (the normal
    /// production entry point).
    pub fn from_env() -> Self {
        Self::from_vars(|name| if name == "HOME" { passwd_home().or_else(|| std::env::var_os("HOME")) } else { std::env::var_os(name) })
    }

    /// Resolves paths from an arbitrary variable lookup, so tests can supply
    /// `ODBCSYSINI`/`ODBCINSTINI`/`ODBCINI`/`HOME` without touching the real
    /// environment.
    pub fn from_vars<F>(get: F) -> Self
    where
        F: Fn(&str) -> Option<OsString>,
    {
        let get = |name: &str| get(name).filter(|v| !v.is_empty());
        let system_dir = get("ODBCSYSINI").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(DEFAULT_SYSTEM_DIR));
        // Path::join keeps an absolute $ODBCINSTINI as-is and makes a relative
        // one relative to the system dir.
        let odbcinst_ini = match get("ODBCINSTINI") {
            Some(name) => system_dir.join(name),
            None => system_dir.join("odbcinst.ini"),
        };
        let system_odbc_ini = system_dir.join("odbc.ini");
        let user_odbc_ini = match get("ODBCINI") {
            Some(file) => Some(PathBuf::from(file)),
            None => get("HOME").map(|home| PathBuf::from(home).join(".odbc.ini")),
        };
        ConfigSource { system_dir, odbcinst_ini, system_odbc_ini, user_odbc_ini }
    }

    /// Builds a source from explicit file paths (tests, embedding
    /// applications with private configs). `system_dir` is taken as the
    /// parent of `odbcinst_ini`.
    pub fn from_paths(odbcinst_ini: impl Into<PathBuf>, system_odbc_ini: impl Into<PathBuf>, user_odbc_ini: Option<PathBuf>) -> Self {
        let odbcinst_ini = odbcinst_ini.into();
        let system_dir = odbcinst_ini.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from(DEFAULT_SYSTEM_DIR));
        ConfigSource { system_dir, odbcinst_ini, system_odbc_ini: system_odbc_ini.into(), user_odbc_ini }
    }

    /// Builds a source rooted at one directory (`<dir>/odbcinst.ini`,
    /// `<dir>/odbc.ini`, no user file), like `ODBCSYSINI=<dir>` with no home.
    pub fn from_system_dir(dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        ConfigSource { odbcinst_ini: dir.join("odbcinst.ini"), system_odbc_ini: dir.join("odbc.ini"), system_dir: dir, user_odbc_ini: None }
    }

    /// Parses odbcinst.ini (missing file = empty).
    pub fn load_odbcinst(&self) -> io::Result<IniFile> {
        IniFile::load(&self.odbcinst_ini)
    }

    /// Parses the system odbc.ini (missing file = empty).
    pub fn load_system_dsns(&self) -> io::Result<IniFile> {
        IniFile::load(&self.system_odbc_ini)
    }

    /// Parses the user odbc.ini (missing file or no home = empty).
    pub fn load_user_dsns(&self) -> io::Result<IniFile> {
        match &self.user_odbc_ini {
            Some(p) => IniFile::load(p),
            None => Ok(IniFile::default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Variable lookup backed by a map, so no test mutates the process env.
    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let map: HashMap<String, OsString> = pairs.iter().map(|(k, v)| (k.to_string(), OsString::from(v))).collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults() {
        let s = ConfigSource::from_vars(vars(&[("HOME", "/home/u")]));
        assert_eq!(s.system_dir, PathBuf::from("/etc"));
        assert_eq!(s.odbcinst_ini, PathBuf::from("/etc/odbcinst.ini"));
        assert_eq!(s.system_odbc_ini, PathBuf::from("/etc/odbc.ini"));
        assert_eq!(s.user_odbc_ini, Some(PathBuf::from("/home/u/.odbc.ini")));
    }

    #[test]
    fn no_home_no_user_file() {
        let s = ConfigSource::from_vars(vars(&[]));
        assert_eq!(s.user_odbc_ini, None);
        assert!(s.load_user_dsns().unwrap().is_empty());
    }

    #[test]
    fn odbcsysini_and_odbcini() {
        let s = ConfigSource::from_vars(vars(&[("ODBCSYSINI", "/opt/odbc"), ("ODBCINI", "/tmp/my.ini"), ("HOME", "/home/u")]));
        assert_eq!(s.odbcinst_ini, PathBuf::from("/opt/odbc/odbcinst.ini"));
        assert_eq!(s.system_odbc_ini, PathBuf::from("/opt/odbc/odbc.ini"));
        assert_eq!(s.user_odbc_ini, Some(PathBuf::from("/tmp/my.ini")));
    }

    #[test]
    fn odbcinstini_relative_and_absolute() {
        let rel = ConfigSource::from_vars(vars(&[("ODBCSYSINI", "/opt/odbc"), ("ODBCINSTINI", "drivers.ini")]));
        assert_eq!(rel.odbcinst_ini, PathBuf::from("/opt/odbc/drivers.ini"));
        let rel_default_dir = ConfigSource::from_vars(vars(&[("ODBCINSTINI", "x.ini")]));
        assert_eq!(rel_default_dir.odbcinst_ini, PathBuf::from("/etc/x.ini"));
        let abs = ConfigSource::from_vars(vars(&[("ODBCSYSINI", "/opt/odbc"), ("ODBCINSTINI", "/srv/inst.ini")]));
        assert_eq!(abs.odbcinst_ini, PathBuf::from("/srv/inst.ini"));
    }

    #[test]
    fn empty_vars_are_unset() {
        let s = ConfigSource::from_vars(vars(&[("ODBCSYSINI", ""), ("ODBCINSTINI", ""), ("ODBCINI", ""), ("HOME", "/h")]));
        assert_eq!(s.odbcinst_ini, PathBuf::from("/etc/odbcinst.ini"));
        assert_eq!(s.user_odbc_ini, Some(PathBuf::from("/h/.odbc.ini")));
    }

    #[test]
    fn explicit_constructors_and_missing_files() {
        let dir = std::env::temp_dir().join(format!("odbc-dm-paths-{}-missing", std::process::id()));
        let s = ConfigSource::from_system_dir(&dir);
        assert_eq!(s.odbcinst_ini, dir.join("odbcinst.ini"));
        assert!(s.load_odbcinst().unwrap().is_empty());
        assert!(s.load_system_dsns().unwrap().is_empty());
        let p = ConfigSource::from_paths(dir.join("a.ini"), dir.join("b.ini"), Some(dir.join("c.ini")));
        assert_eq!(p.system_dir, dir);
        assert!(p.load_user_dsns().unwrap().is_empty());
    }
}
