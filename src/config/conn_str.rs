//! ODBC connection-string parsing, building and password masking.
//!
//! Grammar (ODBC `SQLDriverConnect`):
//! `key=value;key={braced;value};...`
//! * keys are trimmed and compared ASCII case-insensitively;
//! * a value may be wrapped in `{...}`; inside braces `;` and `=` are literal
//!   and `}}` stands for one `}`; text between the closing brace and the next
//!   `;` is ignored; an unterminated brace runs to the end of the string;
//! * unbraced values run to the next `;` and are trimmed;
//! * empty segments, segments without `=`, and empty keys are ignored;
//! * if a keyword repeats, the FIRST occurrence wins (ODBC: "the driver uses
//!   the value associated with the first occurrence of the keyword"); this
//!   applies to every key, including `DSN` and `DRIVER`. Which of `DSN` /
//!   `DRIVER` wins when both are present is decided by position in
//!   `resolve` (whichever appears first).

use std::fmt;

/// Keywords whose values are secrets and must never reach logs or errors.
const PASSWORD_KEYWORDS: [&str; 2] = ["PASSWORD", "PWD"];

/// Replacement text for masked secrets.
pub const MASK: &str = "****";

/// A parsed connection string: `(key, value)` pairs in original order with
/// duplicate keys removed (first occurrence kept). Keys keep their case.
///
/// `Debug` masks passwords; there is deliberately no `Display`, so the
/// unmasked text is only produced by an explicit [`ConnectionString::build`].
#[derive(Clone, Default)]
pub struct ConnectionString {
    pairs: Vec<(String, String)>,
    /// The text of each braced value as the application wrote it (key, `{...}` text);
    /// dropped when the value changes. Only DRIVER's is given back, to the driver
    /// (decision #147). Never part of `Debug`.
    spelled: Vec<(String, String)>,
}

impl ConnectionString {
    /// Parses a connection string; never fails, because drivers and the DM
    /// must accept sloppy strings (stray `;`, spaces, junk segments).
    pub fn parse(s: &str) -> Self {
        let mut cs = ConnectionString::default();
        for (k, v, raw) in parse_segments(s) {
            if !cs.contains_key(&k) {
                if let Some(raw) = raw {
                    cs.spelled.push((k.clone(), raw));
                }
                cs.pairs.push((k, v));
            }
        }
        cs
    }

    /// How the application wrote the value of `key` when it was braced (`{...}`, with
    /// anything up to the `;` after the closing brace), if it still holds that value.
    pub fn spelling(&self, key: &str) -> Option<&str> {
        self.spelled.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, r)| r.as_str())
    }

    /// Builds from pairs, applying "first occurrence wins" so the result has
    /// the same invariants as a parsed string.
    pub fn from_pairs<K, V, I>(pairs: I) -> Self
    where
        K: Into<String>,
        V: Into<String>,
        I: IntoIterator<Item = (K, V)>,
    {
        let mut cs = ConnectionString::default();
        for (k, v) in pairs {
            let k = k.into();
            if !cs.contains_key(&k) {
                cs.pairs.push((k, v.into()));
            }
        }
        cs
    }

    /// Case-insensitive lookup, since ODBC keywords are case-insensitive.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.position(key).map(|i| self.pairs[i].1.as_str())
    }

    /// True if the key is present (case-insensitively).
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Index of a key in order of appearance; used to decide whether `DSN`
    /// or `DRIVER` came first.
    pub fn position(&self, key: &str) -> Option<usize> {
        self.pairs.iter().position(|(k, _)| k.eq_ignore_ascii_case(key))
    }

    /// Sets a key, replacing an existing value in place or appending; for
    /// the DM adding keywords (e.g. UID/PWD from SQLConnect).
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        let value = value.into();
        self.spelled.retain(|(k, _)| !k.eq_ignore_ascii_case(&key));
        match self.position(&key) {
            Some(i) => self.pairs[i].1 = value,
            None => self.pairs.push((key, value)),
        }
    }

    /// Removes a key (case-insensitively) and returns its value; used to
    /// drop keywords that must not be forwarded to a driver.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.spelled.retain(|(k, _)| !k.eq_ignore_ascii_case(key));
        self.position(key).map(|i| self.pairs.remove(i).1)
    }

    /// The pairs in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// Consumes into the pairs vector.
    pub fn into_pairs(self) -> Vec<(String, String)> {
        self.pairs
    }

    /// Number of distinct keywords.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// True if there are no keywords.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The connection-string text with values re-quoted where needed
    /// (contains secrets; do not log — use [`ConnectionString::masked`]).
    pub fn build(&self) -> String {
        build_connection_string(self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// The connection-string text with password values replaced by `****`,
    /// safe for logs, traces and error messages.
    pub fn masked(&self) -> String {
        build_connection_string(self.pairs.iter().map(
            |(k, v)| {
                if is_password_key(k) {
                    (k.as_str(), MASK)
                } else {
                    (k.as_str(), v.as_str())
                }
            },
        ))
    }
}

/// Two connection strings are equal when they hold the same pairs in the same order
/// (however their braced values were spelled).
impl PartialEq for ConnectionString {
    fn eq(&self, other: &Self) -> bool {
        self.pairs == other.pairs
    }
}
impl Eq for ConnectionString {}

/// Debug output is masked so `{:?}` in a log line can never leak a password.
impl fmt::Debug for ConnectionString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ConnectionString").field(&self.masked()).finish()
    }
}

/// True for every keyword whose value is a secret, case-insensitively and ignoring
/// `_`, `-`, `.` and blanks (docs/decisions.md #47): `PWD` and any keyword starting or
/// ending with it (`PWD2`, `DBPwd`), anything containing `password`, `passwd`,
/// `passphrase`, `secret`, `token` or `credential`, anything ending in `pass` or `key`
/// (`KeystorePass`, `AccessKey`, `ApiKey`, `SSLKey`). Used to decide what to mask;
/// errs towards masking.
pub fn is_password_key(key: &str) -> bool {
    let k: String = key.chars().filter(|c| !matches!(c, '_' | '-' | '.' | ' ' | '\t')).map(|c| c.to_ascii_lowercase()).collect();
    if k.is_empty() {
        return false;
    }
    PASSWORD_KEYWORDS.iter().any(|p| k.eq_ignore_ascii_case(p))
        || k.starts_with("pwd")
        || k.ends_with("pwd")
        || SECRET_PARTS.iter().any(|p| k.contains(p))
        || k.ends_with("pass")
        || k.ends_with("key")
        || k.ends_with("keys")
}

/// Parts of a keyword that make its value a secret.
const SECRET_PARTS: [&str; 6] = ["password", "passwd", "passphrase", "secret", "token", "credential"];

/// Parses into raw pairs in order, keeping duplicates (callers that need ODBC
/// semantics use [`ConnectionString::parse`]). Never panics.
pub fn parse_pairs(s: &str) -> Vec<(String, String)> {
    parse_segments(s).into_iter().map(|(k, v, _)| (k, v)).collect()
}

/// As [`parse_pairs`], with the text of each braced value as written (from its `{` to the
/// end of its segment, trailing blanks cut). Never panics.
fn parse_segments(s: &str) -> Vec<(String, String, Option<String>)> {
    let b = s.as_bytes();
    let len = b.len();
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < len {
        // Key: up to the first '=' of this segment.
        let Some(rel) = b[pos..].iter().position(|&c| c == b'=' || c == b';') else {
            break; // trailing segment without '=': ignored
        };
        let stop = pos + rel;
        if b[stop] == b';' {
            pos = stop + 1; // segment without '=' (or empty): ignored
            continue;
        }
        let key = s[pos..stop].trim();
        let mut vpos = stop + 1;
        while vpos < len && b[vpos].is_ascii_whitespace() {
            vpos += 1;
        }
        let value;
        let mut raw = None;
        if vpos < len && b[vpos] == b'{' {
            let mut v = String::new();
            let mut i = vpos + 1;
            let mut seg_start = i;
            let mut closed = false;
            while i < len {
                if b[i] == b'}' {
                    v.push_str(&s[seg_start..i]);
                    if i + 1 < len && b[i + 1] == b'}' {
                        v.push('}');
                        i += 2;
                        seg_start = i;
                    } else {
                        i += 1;
                        closed = true;
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            if !closed {
                v.push_str(&s[seg_start.min(len)..]);
            }
            value = v;
            // Skip anything between the closing brace and the next ';'.
            let end = b[i.min(len)..].iter().position(|&c| c == b';').map_or(len, |r| i + r);
            raw = Some(s[vpos..end].trim_end().to_string());
            pos = if end < len { end + 1 } else { len };
        } else {
            let end = b[vpos..].iter().position(|&c| c == b';').map_or(len, |r| vpos + r);
            value = s[vpos..end].trim().to_string();
            pos = end + 1;
        }
        if !key.is_empty() {
            out.push((key.to_string(), value, raw));
        }
    }
    out
}

/// True if a value cannot be written bare and must be wrapped in braces.
fn needs_braces(v: &str) -> bool {
    v.contains([';', '{', '}']) || v.starts_with(char::is_whitespace) || v.ends_with(char::is_whitespace)
}

/// Builds `key=value;key={va;lue}` text, bracing values that contain `;`,
/// braces or leading/trailing whitespace and doubling `}` inside braces, so
/// that `parse(build(pairs)) == pairs`. Keys are written as given (they must
/// not contain `=`, `;` or braces).
pub fn build_connection_string<K, V, I>(pairs: I) -> String
where
    K: AsRef<str>,
    V: AsRef<str>,
    I: IntoIterator<Item = (K, V)>,
{
    let mut out = String::new();
    for (k, v) in pairs {
        let (k, v) = (k.as_ref(), v.as_ref());
        if !out.is_empty() {
            out.push(';');
        }
        out.push_str(k);
        out.push('=');
        if needs_braces(v) {
            out.push('{');
            out.push_str(&v.replace('}', "}}"));
            out.push('}');
        } else {
            out.push_str(v);
        }
    }
    out
}

/// True for bytes that can be part of a keyword as the masker sees it.
fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// Replaces the value of every secret keyword (see [`is_password_key`]: `PWD`,
/// `Password`, `PASSWD`, `AuthPassword`, `*secret*`, `*token*`, `*key`, … in any
/// case) with `****` in any text — a connection string, a trace line or an error
/// message — so secrets never reach logs. Braced values (`{a;b}}c}`) are masked up
/// to their closing brace; unbraced ones up to the next `;` or line end (erring
/// towards masking too much when the secret is embedded in prose). Linear time.
pub fn mask_passwords(text: &str) -> String {
    let b = text.as_bytes();
    let len = b.len();
    let mut out = String::with_capacity(len);
    let mut copied = 0;
    let mut e = 0;
    while e < len {
        if b[e] != b'=' {
            e += 1;
            continue;
        }
        // The keyword: the run of word bytes before the '=' (blanks allowed between).
        let mut kw_end = e;
        while kw_end > copied && (b[kw_end - 1] == b' ' || b[kw_end - 1] == b'\t') {
            kw_end -= 1;
        }
        let mut kw_start = kw_end;
        while kw_start > copied && is_word_byte(b[kw_start - 1]) {
            kw_start -= 1;
        }
        if kw_start == kw_end || !is_password_key(&text[kw_start..kw_end]) {
            e += 1;
            continue;
        }
        let mut j = e + 1;
        while j < len && (b[j] == b' ' || b[j] == b'\t') {
            j += 1;
        }
        let end = if j < len && b[j] == b'{' {
            let mut k = j + 1;
            loop {
                if k >= len {
                    break len;
                }
                if b[k] == b'}' {
                    if k + 1 < len && b[k + 1] == b'}' {
                        k += 2;
                        continue;
                    }
                    break k + 1;
                }
                k += 1;
            }
        } else {
            b[j..].iter().position(|&c| c == b';' || c == b'\n' || c == b'\r').map_or(len, |r| j + r)
        };
        out.push_str(&text[copied..j]);
        out.push_str(MASK);
        copied = end;
        e = end.max(e + 1);
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> Vec<(String, String)> {
        ConnectionString::parse(s).into_pairs()
    }

    fn v(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn simple_and_whitespace() {
        assert_eq!(p("DSN=foo;UID = bob ;; PWD=x;"), v(&[("DSN", "foo"), ("UID", "bob"), ("PWD", "x")]));
        assert_eq!(p(""), v(&[]));
        assert_eq!(p(";;;"), v(&[]));
        assert_eq!(p("novalue;=x;k=v"), v(&[("k", "v")]));
        assert_eq!(p("a=b=c"), v(&[("a", "b=c")]));
        assert_eq!(p("a="), v(&[("a", "")]));
    }

    #[test]
    fn braces() {
        assert_eq!(
            p("DRIVER={PostgreSQL Unicode};PWD={a;b=c}};d} ;X=1"),
            v(&[("DRIVER", "PostgreSQL Unicode"), ("PWD", "a;b=c};d"), ("X", "1")])
        );
        assert_eq!(p("k= {v} junk;z=1"), v(&[("k", "v"), ("z", "1")]));
        assert_eq!(p("k={unterminated;z=1"), v(&[("k", "unterminated;z=1")]));
        assert_eq!(p("k={}}"), v(&[("k", "}")]));
        assert_eq!(p("k={}"), v(&[("k", "")]));
        assert_eq!(p("k={ sp }"), v(&[("k", " sp ")]));
    }

    /// Decision #147: a braced value's spelling is kept while the value is, and only the
    /// first occurrence's.
    #[test]
    fn braced_spelling_kept_until_changed() {
        let mut cs = ConnectionString::parse("DRIVER = {My Driver} ;driver={Other};X=1;Y={a}}b} z");
        assert_eq!(cs.spelling("driver"), Some("{My Driver}"));
        assert_eq!(cs.spelling("X"), None);
        assert_eq!(cs.spelling("Y"), Some("{a}}b} z"));
        assert_eq!(cs.get("Y"), Some("a}b"));
        cs.set("Y", "c");
        assert_eq!(cs.spelling("Y"), None);
        cs.remove("DRIVER");
        assert_eq!(cs.spelling("DRIVER"), None);
        assert_eq!(ConnectionString::parse("k={unterminated;z=1").spelling("k"), Some("{unterminated;z=1"));
    }

    #[test]
    fn case_insensitive_first_wins() {
        let cs = ConnectionString::parse("dsn=a;DSN=b;Uid=u;UID=v;driver=d;DRIVER=e");
        assert_eq!(cs.get("DSN"), Some("a"));
        assert_eq!(cs.get("uid"), Some("u"));
        assert_eq!(cs.get("Driver"), Some("d"));
        assert_eq!(cs.len(), 3);
        assert_eq!(cs.position("DRIVER"), Some(2));
        // Raw parse keeps duplicates.
        assert_eq!(parse_pairs("a=1;A=2").len(), 2);
    }

    #[test]
    fn set_remove() {
        let mut cs = ConnectionString::parse("DSN=x;uid=a");
        cs.set("UID", "b");
        cs.set("PWD", "c");
        assert_eq!(cs.build(), "DSN=x;uid=b;PWD=c");
        assert_eq!(cs.remove("dsn"), Some("x".into()));
        assert_eq!(cs.build(), "uid=b;PWD=c");
    }

    #[test]
    fn builder_quotes() {
        let s = build_connection_string([("DRIVER", "My Driver"), ("PWD", "a;b}c"), ("X", " lead"), ("Y", "{x"), ("Z", "a=b")]);
        assert_eq!(s, "DRIVER=My Driver;PWD={a;b}}c};X={ lead};Y={{x};Z=a=b");
        assert_eq!(p(&s), v(&[("DRIVER", "My Driver"), ("PWD", "a;b}c"), ("X", " lead"), ("Y", "{x"), ("Z", "a=b")]));
    }

    #[test]
    fn masking() {
        assert_eq!(mask_passwords("DSN=x;PWD=secret;UID=u"), "DSN=x;PWD=****;UID=u");
        assert_eq!(mask_passwords("dsn=x;password = {se;c}}ret} ;pwd=z"), "dsn=x;password = **** ;pwd=****");
        // Any keyword ending in PWD is a secret now (decision #47), errs towards masking.
        assert_eq!(mask_passwords("OLDPWD=old;Pwd=x"), "OLDPWD=****;Pwd=****");
        assert_eq!(mask_passwords("PWD={unterminated;x=1"), "PWD=****");
        assert_eq!(mask_passwords("SQLDriverConnect(\"UID=a;PWD=s3\")\nnext line"), "SQLDriverConnect(\"UID=a;PWD=****\nnext line");
        assert_eq!(mask_passwords("no secrets; PWD is a word"), "no secrets; PWD is a word");
        assert_eq!(mask_passwords("PWD"), "PWD");
        assert_eq!(mask_passwords("PWD="), "PWD=****");
        assert_eq!(mask_passwords("Ünï PWD=é;x"), "Ünï PWD=****;x");
        let cs = ConnectionString::parse("UID=u;Password={p;w}");
        assert_eq!(cs.masked(), "UID=u;Password=****");
        assert!(!format!("{cs:?}").contains("p;w"));
    }

    /// Issue 9 item 8 (no §-rule: decision #47): every password-like keyword is masked, in any
    /// case, braced or not; ordinary keywords are kept.
    #[test]
    fn masking_covers_every_secret_keyword() {
        for key in [
            "PWD",
            "pwd",
            "Password",
            "PASSWD",
            "passwd",
            "AuthPassword",
            "Auth_Password",
            "DBPassword",
            "SSLPassword",
            "client-secret",
            "ClientSecret",
            "SECRET",
            "AccessToken",
            "token",
            "RefreshToken",
            "ApiKey",
            "API_KEY",
            "AccessKey",
            "SecretAccessKey",
            "SSLKey",
            "PrivateKey",
            "KeystorePass",
            "TrustStorePassword",
            "Passphrase",
            "Credentials",
            "PWD2",
            "NewPwd",
            "OldPassword",
        ] {
            assert!(is_password_key(key), "{key} must be a secret");
            for text in [format!("DSN=x;{key}=s3cr3t;UID=u"), format!("DSN=x;{key} = {{s3;cr=3t}};UID=u"), format!("{key}=s3cr3t")] {
                let m = mask_passwords(&text);
                assert!(!m.contains("s3cr3t") && !m.contains("cr=3t"), "{text} -> {m}");
                assert!(m.contains(MASK), "{text} -> {m}");
                if text.starts_with("DSN") {
                    assert!(m.starts_with("DSN=x;") && m.ends_with(";UID=u"), "{text} -> {m}");
                }
            }
            let cs = ConnectionString::from_pairs([("UID", "u"), (key, "s3;cr3t")]);
            assert!(!cs.masked().contains("s3;cr3t"));
            assert!(!format!("{cs:?}").contains("cr3t"));
        }
        for key in ["DSN", "DRIVER", "UID", "User", "Server", "Database", "Port", "Threading", "Authentication", "SSLMode", "Steps"] {
            assert!(!is_password_key(key), "{key} is not a secret");
            assert_eq!(mask_passwords(&format!("{key}=visible;x=1")), format!("{key}=visible;x=1"));
        }
    }

    fn key_strategy() -> impl Strategy<Value = String> {
        "[^=;{}]{1,12}".prop_map(|k| k.trim().to_string()).prop_filter("non-empty key", |k| !k.is_empty())
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let cs = ConnectionString::parse(&s);
            let _ = cs.build();
            let _ = mask_passwords(&s);
        }

        #[test]
        fn parse_never_panics_on_delimiter_soup(s in "[{}=; \tPWDpwd\u{e9}a]{0,40}") {
            let _ = ConnectionString::parse(&s);
            let m = mask_passwords(&s);
            let _ = ConnectionString::parse(&m);
        }

        #[test]
        fn round_trip(pairs in prop::collection::vec((key_strategy(), any::<String>()), 0..8)) {
            let cs = ConnectionString::from_pairs(pairs);
            let text = cs.build();
            prop_assert_eq!(ConnectionString::parse(&text), cs);
        }

        #[test]
        fn masked_build_hides_password(pw in "[a-zA-Z0-9;{}= ]{1,20}", other in "[a-z]{0,5}") {
            let cs = ConnectionString::from_pairs([("UID", other.as_str()), ("PWD", pw.as_str())]);
            let masked = mask_passwords(&cs.build());
            let reparsed = ConnectionString::parse(&masked);
            prop_assert_eq!(reparsed.get("PWD"), Some(MASK));
            prop_assert_eq!(reparsed.get("UID"), Some(other.as_str()));
        }
    }
}
