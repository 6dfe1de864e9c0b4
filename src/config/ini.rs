//! A small, forgiving INI reader for `odbc.ini` / `odbcinst.ini`.
//!
//! Rules (chosen to match what unixODBC accepts in practice):
//! * `[Name]` starts a section; the name is the text between `[` and the first
//!   `]` (or the end of the line if `]` is missing), trimmed.
//! * `key = value` lines; key and value are trimmed; the value is everything
//!   after the first `=` (so values may contain `=` and `;`).
//! * Lines whose first non-blank character is `;` or `#` are comments. There are
//!   no inline comments, because connection-string-like values contain `;`.
//! * Lines without `=` and lines before the first section are ignored.
//! * Names keep their case; lookup of sections and keys is ASCII
//!   case-insensitive.
//! * A later duplicate key overrides the earlier one (keeping the first key's
//!   position); a repeated section header continues the earlier section.
//! * Parsing never fails and never panics: anything unrecognised is skipped.
//! * Parsing is linear in the file's size (sections and keys are indexed by
//!   their lower-cased name), and [`IniFile::load`] reads at most
//!   [`MAX_INI_SIZE`] bytes of a regular file: a FIFO, a device or a larger
//!   file is refused with an error, never read or waited on
//!   (docs/decisions.md #46).

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read};
use std::path::Path;

/// Largest odbc.ini / odbcinst.ini the DM reads (16 MiB): far beyond any real
/// configuration, small enough that a runaway file cannot exhaust memory.
pub const MAX_INI_SIZE: u64 = 16 << 20;

/// One `[Name]` section: its name as written and its entries in file order.
#[derive(Debug, Clone, Default)]
pub struct Section {
    name: String,
    entries: Vec<(String, String)>,
    /// Lower-cased key → index in `entries` (linear-time parsing and lookup).
    index: HashMap<String, usize>,
}

/// Equality is by name and entries (the index is derived from them).
impl PartialEq for Section {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.entries == other.entries
    }
}
impl Eq for Section {}

impl Section {
    /// Creates an empty section; used by the parser and by tests that build
    /// configurations programmatically.
    pub fn new(name: impl Into<String>) -> Self {
        Section { name: name.into(), entries: Vec::new(), index: HashMap::new() }
    }

    /// The section name exactly as written in the file (case preserved), so
    /// listings such as SQLDrivers show what the administrator typed.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Case-insensitive key lookup, because ODBC keywords are case-insensitive
    /// (`Driver`, `DRIVER` and `driver` are the same key).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.index.get(&key.to_ascii_lowercase()).map(|&i| self.entries[i].1.as_str())
    }

    /// True if the key is present (case-insensitively), even with an empty
    /// value; lets callers distinguish "absent" from "set to empty".
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// All entries in file order (duplicates already collapsed), for passing
    /// DSN attributes on to a driver in a stable order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Owned copy of the entries, for result types that outlive the file.
    pub fn to_vec(&self) -> Vec<(String, String)> {
        self.entries.clone()
    }

    /// Number of distinct keys; mostly for tests and diagnostics.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if the section has no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Sets a key, replacing an existing one (case-insensitively) in place so
    /// that "later duplicate overrides" keeps the original position.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        let value = value.into();
        match self.index.get(&key.to_ascii_lowercase()) {
            Some(&i) => self.entries[i].1 = value,
            None => {
                self.index.insert(key.to_ascii_lowercase(), self.entries.len());
                self.entries.push((key, value));
            }
        }
    }
}

/// A parsed INI file: sections in file order.
#[derive(Debug, Clone, Default)]
pub struct IniFile {
    sections: Vec<Section>,
    /// Lower-cased section name → index in `sections`.
    index: HashMap<String, usize>,
}

/// Equality is by sections (the index is derived from them).
impl PartialEq for IniFile {
    fn eq(&self, other: &Self) -> bool {
        self.sections == other.sections
    }
}
impl Eq for IniFile {}

impl IniFile {
    /// Parses INI text; never fails, so a half-broken config file still yields
    /// whatever sections are readable (unixODBC behaves the same way).
    pub fn parse(text: &str) -> IniFile {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut ini = IniFile::default();
        // Index into `ini.sections` of the section currently being filled.
        let mut current: Option<usize> = None;
        for raw in text.lines() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
                continue;
            }
            if let Some(rest) = line.strip_prefix('[') {
                let name = match rest.find(']') {
                    Some(end) => &rest[..end],
                    None => rest,
                }
                .trim();
                current = Some(ini.section_index_or_insert(name));
                continue;
            }
            let Some(idx) = current else { continue };
            let Some(eq) = line.find('=') else { continue };
            let key = line[..eq].trim();
            if key.is_empty() {
                continue;
            }
            let value = line[eq + 1..].trim();
            ini.sections[idx].set(key, value);
        }
        ini
    }

    /// Reads and parses a file; a missing file is an empty configuration
    /// because unixODBC treats absent odbc.ini/odbcinst.ini as "no entries".
    /// Invalid UTF-8 is replaced rather than rejected, for robustness.
    ///
    /// Bounded: the file is opened with `O_NONBLOCK` (opening a FIFO never
    /// waits for a writer), checked with `fstat` to be a regular file (a FIFO,
    /// socket or device such as `/dev/zero` is refused with
    /// [`io::ErrorKind::InvalidInput`]) and read up to [`MAX_INI_SIZE`] bytes
    /// (a larger file is refused with [`io::ErrorKind::InvalidData`]). The
    /// errors name the file.
    pub fn load(path: impl AsRef<Path>) -> io::Result<IniFile> {
        match read_bounded(path.as_ref(), MAX_INI_SIZE) {
            Ok(bytes) => Ok(IniFile::parse(&String::from_utf8_lossy(&bytes))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(IniFile::default()),
            Err(e) => Err(e),
        }
    }

    /// Sections in file order, as `(name, section)` pairs, for SQLDrivers /
    /// SQLDataSources enumeration.
    pub fn sections(&self) -> impl Iterator<Item = (&str, &Section)> + '_ {
        self.sections.iter().map(|s| (s.name(), s))
    }

    /// Case-insensitive section lookup, because DSN and driver names are
    /// matched case-insensitively by unixODBC.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.index.get(&name.to_ascii_lowercase()).map(|&i| &self.sections[i])
    }

    /// Convenience: value of `key` in section `section`, both case-insensitive.
    pub fn get(&self, section: &str, key: &str) -> Option<&str> {
        self.section(section).and_then(|s| s.get(key))
    }

    /// Returns a mutable section, creating it at the end if missing; used to
    /// build configurations in code (tests, tools).
    pub fn section_mut(&mut self, name: &str) -> &mut Section {
        let idx = self.section_index_or_insert(name);
        &mut self.sections[idx]
    }

    /// True if the file has no sections.
    pub fn is_empty(&self) -> bool {
        self.sections.is_empty()
    }

    /// Finds a section case-insensitively or appends a new one, so repeated
    /// headers merge into the first occurrence.
    fn section_index_or_insert(&mut self, name: &str) -> usize {
        let key = name.to_ascii_lowercase();
        match self.index.get(&key) {
            Some(&i) => i,
            None => {
                self.sections.push(Section::new(name));
                self.index.insert(key, self.sections.len() - 1);
                self.sections.len() - 1
            }
        }
    }
}

/// True if a configuration or driver file is a special file (FIFO, socket,
/// character or block device) that must not be read or loaded: reading blocks
/// (FIFO) or never ends (`/dev/zero`).
pub fn is_special_file(ft: &std::fs::FileType) -> bool {
    use std::os::unix::fs::FileTypeExt;
    ft.is_fifo() || ft.is_socket() || ft.is_char_device() || ft.is_block_device()
}

/// Reads a regular file of at most `limit` bytes without ever blocking on a
/// special file: open with `O_NONBLOCK`, `fstat`, refuse anything that is not
/// a regular file, read at most `limit + 1` bytes.
pub fn read_bounded(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)?;
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        let what = if is_special_file(&meta.file_type()) { "a FIFO, socket or device" } else { "a directory" };
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is {what}, not a regular file; refusing to read it", path.display()),
        ));
    }
    let too_large = || {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} is larger than the limit of {limit} bytes ({} MiB); refusing to read it", path.display(), limit >> 20),
        )
    };
    if meta.len() > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Writes the file back in INI syntax (used by setup tooling and the
/// round-trip tests); parse(display(x)) == x for well-formed names/values.
impl fmt::Display for IniFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.sections.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            writeln!(f, "[{}]", s.name)?;
            for (k, v) in &s.entries {
                writeln!(f, "{k} = {v}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn basic_sections_keys_comments() {
        let ini = IniFile::parse(
            "; leading comment\n\
             orphan = ignored\n\
             [ODBC Drivers]\n\
             SQLite3 = Installed\n\
             \n\
             [SQLite3]\n\
             # hash comment\n\
             Description=SQLite3 ODBC Driver\n\
             Driver   =   libsqlite3odbc.so   \n\
             not a key value line\n\
             Setup = a=b;c=d\n",
        );
        let names: Vec<_> = ini.sections().map(|(n, _)| n).collect();
        assert_eq!(names, vec!["ODBC Drivers", "SQLite3"]);
        let s = ini.section("sqlite3").unwrap();
        assert_eq!(s.name(), "SQLite3");
        assert_eq!(s.get("DRIVER"), Some("libsqlite3odbc.so"));
        assert_eq!(s.get("setup"), Some("a=b;c=d"));
        assert_eq!(s.get("orphan"), None);
        assert_eq!(s.len(), 3);
        let keys: Vec<_> = s.entries().map(|(k, _)| k).collect();
        assert_eq!(keys, vec!["Description", "Driver", "Setup"]);
    }

    #[test]
    fn duplicates_override_and_sections_merge() {
        let ini = IniFile::parse("[A]\nk=1\nx=0\nK=2\n[b]\ny=1\n[a]\nx=3\nz=4\n");
        let a = ini.section("A").unwrap();
        assert_eq!(
            a.to_vec(),
            vec![("k".to_string(), "2".to_string()), ("x".to_string(), "3".to_string()), ("z".to_string(), "4".to_string())]
        );
        assert_eq!(ini.sections().count(), 2);
        assert_eq!(ini.get("B", "Y"), Some("1"));
    }

    #[test]
    fn malformed_headers_and_bom_and_crlf() {
        let ini = IniFile::parse("\u{feff}[ Spaced ]\r\nk = v\r\n[Unclosed\r\nq=1\r\n[]\r\ne=1\r\n");
        assert_eq!(ini.get("spaced", "k"), Some("v"));
        assert_eq!(ini.get("unclosed", "q"), Some("1"));
        assert_eq!(ini.get("", "e"), Some("1"));
        assert_eq!(IniFile::parse("").sections().count(), 0);
        assert_eq!(IniFile::parse("[a]\n=novalue\nk=\n").get("a", "k"), Some(""));
    }

    #[test]
    fn missing_file_is_empty() {
        let p = std::env::temp_dir().join(format!("odbc-dm-ini-missing-{}-{}.ini", std::process::id(), line!()));
        let ini = IniFile::load(&p).unwrap();
        assert!(ini.is_empty());
    }

    #[test]
    fn load_existing_file() {
        let p = std::env::temp_dir().join(format!("odbc-dm-ini-load-{}-{}.ini", std::process::id(), line!()));
        std::fs::write(&p, b"[x]\nk=v\xff\n").unwrap();
        let ini = IniFile::load(&p).unwrap();
        std::fs::remove_file(&p).ok();
        assert_eq!(ini.get("X", "K"), Some("v\u{fffd}"));
    }

    /// Issue 9 item 8: parsing is linear (sections and keys indexed): 200,000 sections
    /// with a repeated key each parse and look up in bounded time (the quadratic parser
    /// never finished).
    #[test]
    fn two_hundred_thousand_sections_parse_linearly() {
        let mut text = String::new();
        for i in 0..200_000 {
            text.push_str(&format!("[s{i}]\nk = {i}\nK = again{i}\n"));
        }
        let start = std::time::Instant::now();
        let ini = IniFile::parse(&text);
        assert_eq!(ini.sections().count(), 200_000);
        assert_eq!(ini.get("S199999", "k"), Some("again199999"));
        assert!(start.elapsed() < std::time::Duration::from_secs(30), "no hang: {:?}", start.elapsed());
    }

    /// Special files are refused without blocking; the size limit holds (decision #46).
    #[test]
    fn special_and_oversized_files_are_refused() {
        let e = IniFile::load("/dev/zero").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("/dev/zero"), "{e}");
        let dir = std::env::temp_dir().join(format!("odbc-dm-ini-special-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo.ini");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = IniFile::load(&fifo).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{e}");
        assert!(IniFile::load(&dir).is_err(), "a directory is not a configuration file");
        let big = dir.join("big.ini");
        std::fs::File::create(&big).unwrap().set_len(MAX_INI_SIZE + 1).unwrap();
        assert_eq!(IniFile::load(&big).unwrap_err().kind(), io::ErrorKind::InvalidData);
        let ok = dir.join("ok.ini");
        std::fs::write(&ok, "[a]\nk=v\n").unwrap();
        assert_eq!(read_bounded(&ok, 4).unwrap_err().kind(), io::ErrorKind::InvalidData, "limit counts bytes");
        assert_eq!(IniFile::load(&ok).unwrap().get("A", "K"), Some("v"));
        std::fs::remove_dir_all(&dir).ok();
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in any::<String>()) {
            let ini = IniFile::parse(&s);
            for (_, sec) in ini.sections() {
                for (k, _) in sec.entries() {
                    prop_assert!(!k.is_empty());
                }
            }
        }

        #[test]
        fn arbitrary_line_soup_never_panics(
            lines in prop::collection::vec("[\\[\\];#= a-zA-Z\u{e9}\u{4e2d}\t]{0,12}", 0..20)
        ) {
            let _ = IniFile::parse(&lines.join("\n"));
        }

        #[test]
        fn round_trip(
            secs in prop::collection::vec(
                (
                    "[A-Za-z0-9_.][A-Za-z0-9 _.-]{0,10}[A-Za-z0-9_.]",
                    prop::collection::vec(
                        ("[A-Za-z][A-Za-z0-9_ ]{0,8}[A-Za-z0-9_]", "[^\\r\\n\\s]([^\\r\\n]{0,15}[^\\r\\n\\s])?"),
                        0..6,
                    ),
                ),
                0..6,
            )
        ) {
            // Build the expected model with the same case-insensitive
            // de-duplication rules the parser applies.
            let mut expected = IniFile::default();
            for (name, entries) in &secs {
                let s = expected.section_mut(name);
                for (k, v) in entries {
                    s.set(k.clone(), v.clone());
                }
            }
            let text = expected.to_string();
            let parsed = IniFile::parse(&text);
            prop_assert_eq!(&parsed, &expected);
            for (name, entries) in &secs {
                for (k, _) in entries {
                    let upper = parsed.get(&name.to_ascii_uppercase(), &k.to_ascii_lowercase());
                    prop_assert_eq!(upper, expected.get(name, k));
                }
            }
        }
    }
}
