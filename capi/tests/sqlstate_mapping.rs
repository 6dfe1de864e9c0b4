//! SQLSTATEs in the form of the application's SQL_ATTR_ODBC_VERSION (issue 11 item 2,
//! docs/decisions.md #97; Microsoft's "SQLSTATE Mappings"), through odbc-dm's libodbc.so.2
//! (capi/tests/c/sqlstate_app.c):
//! - an ODBC 2 application (SQLAllocEnv) gets 2.x states from SQLError and SQLErrorW, for
//!   the DM's own errors (HY106 → S1106) and for the drivers' (42S02 → S0002, HY000 →
//!   S1000), on SQLite, PostgreSQL, MariaDB and the reference driver;
//! - an ODBC 3 application gets 3.x states from SQLGetDiagRec, SQLGetDiagRecW and
//!   SQLGetDiagField, also from a driver that reports 2.x states like an ODBC 2 driver (the
//!   reference driver with ODBC_REFDRIVER_ODBC2_STATES=1 posts S0002; the application must
//!   see 42S02).

mod common;

use std::collections::BTreeMap;

fn exe() -> std::path::PathBuf {
    static EXE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    EXE.get_or_init(|| {
        let exe = common::scratch("sqlstate-app").join("sqlstate_app");
        common::compile_c(&common::root().join("capi/tests/c/sqlstate_app.c"), &exe);
        exe
    })
    .clone()
}

/// Runs the program; returns "what api" → SQLSTATE.
fn states(version: &str, dsn: &str, odbc2_driver: bool) -> BTreeMap<String, String> {
    let mut c = common::command(exe());
    if odbc2_driver {
        c.env("ODBC_REFDRIVER_ODBC2_STATES", "1");
    }
    let out = c.args([version, dsn]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{dsn} v{version}: {}\n{stdout}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    stdout
        .lines()
        .filter_map(|l| {
            let mut f = l.strip_prefix("state ")?.split(' ');
            let (what, api, st) = (f.next()?, f.next()?, f.next().unwrap_or(""));
            Some((format!("{what} {api}"), st.to_string()))
        })
        .collect()
}

fn check(got: &BTreeMap<String, String>, apis: &[&str], driver_state: &str, dm_state: &str, ctx: &str) {
    for api in apis {
        assert_eq!(
            got.get(&format!("driver {api}")).map(String::as_str),
            Some(driver_state),
            "{ctx}: the driver's error via {api}: {got:?}"
        );
        assert_eq!(got.get(&format!("dm {api}")).map(String::as_str), Some(dm_state), "{ctx}: the DM's HY106 via {api}: {got:?}");
    }
}

const V2_APIS: &[&str] = &["Error", "ErrorW"];
const V3_APIS: &[&str] = &["GetDiagRec", "GetDiagRecW", "GetDiagField"];

#[test]
fn odbc2_application_gets_odbc2_sqlstates() {
    check(&states("2", "ref-test", false), V2_APIS, "S0002", "S1106", "reference driver");
    check(&states("2", "sqlite-test", false), V2_APIS, "S1000", "S1106", "SQLite");
    if common::server_up(3306, "odbc2_application_gets_odbc2_sqlstates (MariaDB)") {
        check(&states("2", "maria-test", false), V2_APIS, "S0002", "S1106", "MariaDB");
    }
    if common::server_up(5432, "odbc2_application_gets_odbc2_sqlstates (PostgreSQL)") {
        // PostgreSQL's own class-42 state has no 2.x form: passed through.
        check(&states("2", "pg-test", false), V2_APIS, "42P01", "S1106", "PostgreSQL");
    }
}

#[test]
fn odbc3_application_gets_odbc3_sqlstates_also_from_an_odbc2_style_driver() {
    check(&states("3", "ref-test", true), V3_APIS, "42S02", "HY106", "reference driver posting 2.x states");
    check(&states("3", "ref-test", false), V3_APIS, "42S02", "HY106", "reference driver");
    check(&states("3", "sqlite-test", false), V3_APIS, "HY000", "HY106", "SQLite");
}
