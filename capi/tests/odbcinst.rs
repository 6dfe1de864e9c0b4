//! The drivers' own configuration lookups see the same ini files as the DM (issue 11 item
//! 5, docs/decisions.md #65, #99). psqlODBC reads a DSN's keys itself, with
//! `SQLGetPrivateProfileString` from unixODBC's `libodbcinst.so.2`, when it is connected
//! with SQLConnect(DSN) — the DM passes only the name. The probe DSN's `ConnSettings`
//! (read by the driver alone) sets PostgreSQL's application_name, which the session then
//! reads back, so the value proves which odbc.ini the *driver* read:
//! - `$ODBCINI` (user file) and `$ODBCSYSINI/odbc.ini` (system file) are found by both;
//! - a user DSN shadows a system DSN of the same name for both;
//! - `~` is the password database's home directory for both: a `.odbc.ini` under another
//!   `$HOME` is not read (libodbcinst ignores `$HOME`; so does the DM, else it would connect
//!   a DSN whose keys the driver cannot see).
//!
//! Every session runs unixODBC's `isql` on odbc-dm's libodbc.so.2.

mod common;

use std::path::Path;

fn probe_dsn(name: &str, app: &str) -> String {
    format!(
        "[{name}]\nDriver = PostgreSQL Unicode\nServername = 127.0.0.1\nPort = 5432\nDatabase = test\nUsername = postgres\nConnSettings = SET application_name='{app}'\n"
    )
}

/// Runs isql on `dsn` with the given configuration variables; returns stdout + stderr.
fn session(dsn: &str, sysdir: &Path, odbcini: Option<&Path>, home: Option<&Path>) -> String {
    let mut c = common::command("isql");
    c.arg("-b").arg("-v").arg(dsn).env("ODBCSYSINI", sysdir).env_remove("ODBCINI").env_remove("ODBCINSTINI");
    if let Some(f) = odbcini {
        c.env("ODBCINI", f);
    }
    if let Some(h) = home {
        c.env("HOME", h);
    }
    use std::io::Write;
    let mut child = c
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("isql (unixodbc package)");
    // isql exits at once when it cannot connect (the cases this test expects to fail): the
    // write then meets a closed pipe, which is not the test's finding; its output is.
    let _ = child.stdin.take().unwrap().write_all(b"SELECT current_setting('application_name')\n");
    let out = child.wait_with_output().unwrap();
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn app_name(out: &str) -> Option<&str> {
    out.lines().filter_map(|l| l.strip_prefix("| ")).map(|l| l.trim_end_matches('|').trim()).find(|v| v.starts_with("probe_"))
}

#[test]
fn drivers_read_the_same_odbc_ini_as_the_dm() {
    if !common::server_up(5432, "drivers_read_the_same_odbc_ini_as_the_dm") {
        return;
    }
    let dir = common::scratch("odbcinst");
    let sys = dir.join("sys");
    let home = dir.join("home");
    std::fs::create_dir_all(&sys).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    std::fs::copy(common::odbc_test_dir().join("odbcinst.ini"), sys.join("odbcinst.ini")).unwrap();
    let user = dir.join("user.ini");
    std::fs::write(&user, probe_dsn("probe", "probe_user") + &probe_dsn("probe_u", "probe_user_only")).unwrap();
    std::fs::write(sys.join("odbc.ini"), probe_dsn("probe", "probe_system") + &probe_dsn("probe_s", "probe_system_only")).unwrap();
    std::fs::write(home.join(".odbc.ini"), probe_dsn("probe_h", "probe_home")).unwrap();

    // $ODBCINI: a user DSN; the system file's DSN of the same name is shadowed.
    let out = session("probe_u", &sys, Some(&user), None);
    assert_eq!(app_name(&out), Some("probe_user_only"), "$ODBCINI DSN:\n{out}");
    let out = session("probe", &sys, Some(&user), None);
    assert_eq!(app_name(&out), Some("probe_user"), "user DSN shadows system DSN:\n{out}");
    // $ODBCSYSINI/odbc.ini: a system DSN.
    let out = session("probe_s", &sys, Some(&user), None);
    assert_eq!(app_name(&out), Some("probe_system_only"), "system DSN:\n{out}");
    // $HOME is not the home libodbcinst reads: the DSN is not found (IM002), by the DM
    // as by the driver.
    let out = session("probe_h", &sys, None, Some(&home));
    assert!(app_name(&out).is_none() && out.contains("IM002"), "a DSN only in $HOME/.odbc.ini must not be found:\n{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
