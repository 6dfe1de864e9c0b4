//! Connection-string parsing (`KEY=value;KEY={braced;value}`) and the odbc.ini lookup
//! used by SQLConnectW for a DSN name.

use crate::faults::Faults;

/// Settings taken from a connection string (or a DSN's odbc.ini section).
#[derive(Clone, Debug)]
pub struct ConnSettings {
    pub database: String,
    /// SQL_STILL_EXECUTING returns per async call (0 = async calls complete at once).
    pub steps: u32,
    /// Added latency (ms) for each step.
    pub delay_ms: u64,
    pub faults: Faults,
    /// `Optimistic=1`: native SQL_CONCUR_ROWVER / SQL_CONCUR_VALUES with SQLSetPos
    /// SQL_UPDATE / SQL_DELETE (README "Optimistic concurrency"); off by default.
    pub optimistic: bool,
    /// `BusyTimeout=ms`: SQLite's busy timeout (a writer waiting for another's lock).
    pub busy_timeout_ms: u64,
}

impl Default for ConnSettings {
    fn default() -> Self {
        ConnSettings {
            database: ":memory:".into(),
            steps: 1,
            delay_ms: 0,
            faults: Faults::default(),
            optimistic: false,
            busy_timeout_ms: 5000,
        }
    }
}

/// Splits a connection string into (key, value) pairs; keys keep their spelling.
pub fn parse_pairs(s: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let b: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i] == ';' || b[i].is_whitespace()) {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let ks = i;
        while i < b.len() && b[i] != '=' && b[i] != ';' {
            i += 1;
        }
        let key: String = b[ks..i].iter().collect::<String>().trim().to_string();
        if i >= b.len() || b[i] == ';' {
            return Err(format!("keyword '{key}' has no value"));
        }
        i += 1; // '='
        let mut val = String::new();
        if i < b.len() && b[i] == '{' {
            i += 1;
            loop {
                if i >= b.len() {
                    return Err(format!("unterminated '{{' in value of '{key}'"));
                }
                if b[i] == '}' {
                    if i + 1 < b.len() && b[i + 1] == '}' {
                        val.push('}');
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                val.push(b[i]);
                i += 1;
            }
            while i < b.len() && b[i] != ';' {
                i += 1;
            }
        } else {
            while i < b.len() && b[i] != ';' {
                val.push(b[i]);
                i += 1;
            }
            val = val.trim().to_string();
        }
        out.push((key, val));
    }
    Ok(out)
}

/// Applies recognised keywords (case-insensitive) to `cs`; unknown ones are ignored.
pub fn apply_pairs(cs: &mut ConnSettings, pairs: &[(String, String)]) -> Result<(), String> {
    for (k, v) in pairs {
        match k.to_ascii_lowercase().as_str() {
            "database" | "dbq" => cs.database = v.clone(),
            "steps" => cs.steps = v.trim().parse().map_err(|_| format!("bad Steps value '{v}'"))?,
            "delay" => cs.delay_ms = v.trim().parse().map_err(|_| format!("bad Delay value '{v}'"))?,
            "fault" | "faults" => cs.faults = Faults::parse(v)?,
            "busytimeout" => cs.busy_timeout_ms = v.trim().parse().map_err(|_| format!("bad BusyTimeout value '{v}'"))?,
            "optimistic" => cs.optimistic = matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "yes" | "true"),
            _ => {}
        }
    }
    Ok(())
}

pub fn parse(s: &str) -> Result<(ConnSettings, Vec<(String, String)>), String> {
    let pairs = parse_pairs(s)?;
    let mut cs = ConnSettings::default();
    apply_pairs(&mut cs, &pairs)?;
    Ok((cs, pairs))
}

/// True when a SQLConnectW server name should be taken as the database itself.
pub fn looks_like_path(dsn: &str) -> bool {
    dsn == ":memory:" || dsn.contains('/') || dsn.ends_with(".db") || dsn.ends_with(".sqlite")
}

/// Finds the `[dsn]` section in the odbc.ini files a DM would use: `$ODBCINI`,
/// `$HOME/.odbc.ini`, `$ODBCSYSINI/odbc.ini`, `/etc/odbc.ini` (first hit wins).
pub fn lookup_dsn(dsn: &str) -> Option<Vec<(String, String)>> {
    let mut files = Vec::new();
    if let Ok(p) = std::env::var("ODBCINI") {
        files.push(p);
    }
    if let Ok(h) = std::env::var("HOME") {
        files.push(format!("{h}/.odbc.ini"));
    }
    if let Ok(p) = std::env::var("ODBCSYSINI") {
        files.push(format!("{p}/odbc.ini"));
    }
    files.push("/etc/odbc.ini".into());
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let mut in_sec = false;
        let mut found = false;
        let mut pairs = Vec::new();
        for line in text.lines() {
            let l = line.trim();
            if l.starts_with('#') || l.starts_with(';') || l.is_empty() {
                continue;
            }
            if l.starts_with('[') && l.ends_with(']') {
                in_sec = l[1..l.len() - 1].trim().eq_ignore_ascii_case(dsn);
                found |= in_sec;
                continue;
            }
            if in_sec {
                if let Some((k, v)) = l.split_once('=') {
                    pairs.push((k.trim().to_string(), v.trim().to_string()));
                }
            }
        }
        if found {
            return Some(pairs);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn braces_and_case() {
        let (cs, _) = parse("DATABASE={/tmp/a;b.db};steps=3;Delay = 5;FAULT={NoCallback,DoubleCallback}").unwrap();
        assert_eq!(cs.database, "/tmp/a;b.db");
        assert_eq!(cs.steps, 3);
        assert_eq!(cs.delay_ms, 5);
        assert!(cs.faults.no_callback && cs.faults.double_callback);
        assert!(parse("Fault=Bogus").is_err());
    }
}
