//! The width of the application's connect reaches the driver (issue 11, docs/decisions.md
//! #96): an ANSI SQLDriverConnect goes to a Unicode driver's ANSI SQLDriverConnect (the
//! rest of the ANSI API still goes to the driver's W functions, converted exactly as
//! UTF-8). That is how psqlODBC learns that the application is ANSI: it then describes a
//! VARCHAR(1000) column as SQL_LONGVARCHAR, as under unixODBC, and SQL_WLONGVARCHAR to a
//! Unicode connect (odbc-api's `data_types_for_varchar_1000_*` tests). The DM never sets
//! SQL_ATTR_ANSI_APP: MariaDB Connector/ODBC would then use the locale's character set,
//! and non-ASCII text must survive on it after either connect (checked on the server by
//! HEX()). The same program also runs on the system's unixODBC, whose answer for the ANSI
//! connect must match ours (§S: drop-in behaviour of the C ABI, issue 11).

mod common;

/// "Grüße ☃ 𝄞" in UTF-8, upper-case hex.
const UTF8_HEX: &str = "4772C3BCC39F6520E2988320F09D849E";
const SQL_LONGVARCHAR: &str = "-1";
const SQL_WLONGVARCHAR: &str = "-10";

fn exe() -> std::path::PathBuf {
    static EXE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    EXE.get_or_init(|| {
        let exe = common::scratch("ansi-app").join("ansi_app");
        common::compile_c(&common::root().join("capi/tests/c/ansi_app.c"), &exe);
        exe
    })
    .clone()
}

/// Runs the program; `unixodbc`: on the system's libodbc.so.2 instead of ours.
fn run(conn: &str, width: &str, hexf: &str, unixodbc: bool) -> (String, String, String) {
    let table = format!("capi_ansi_{width}_{}_{}", u8::from(unixodbc), std::process::id());
    let mut c = common::command(exe());
    if unixodbc {
        c.env_remove("LD_LIBRARY_PATH");
    }
    let out = c.args([conn, width, &table, hexf]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let ctx = format!("{conn} {width} (unixODBC: {unixodbc}): {}\n{stdout}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{ctx}");
    let field = |k: &str| stdout.lines().find_map(|l| l.strip_prefix(k)).unwrap_or_else(|| panic!("no {k}: {ctx}")).to_string();
    (field("type="), field("text="), field("stored="))
}

#[test]
fn ansi_connect_makes_psqlodbc_report_narrow_types() {
    if !common::server_up(5432, "ansi_connect_makes_psqlodbc_report_narrow_types") {
        return;
    }
    let hexf = "upper(encode(convert_to(name,'UTF8'),'hex'))";
    let (ty, text, stored) = run("DSN=pg-test", "a", hexf, false);
    assert_eq!(ty, SQL_LONGVARCHAR, "ANSI connect on psqlodbcw: narrow type");
    assert_eq!((text.as_str(), stored.as_str()), (UTF8_HEX, UTF8_HEX));
    let (unix_ty, _, _) = run("DSN=pg-test", "a", hexf, true);
    assert_eq!(ty, unix_ty, "the same type as unixODBC reports");
    let (ty, text, stored) = run("DSN=pg-test", "w", hexf, false);
    assert_eq!(ty, SQL_WLONGVARCHAR, "Unicode connect on psqlodbcw: wide type");
    assert_eq!((text.as_str(), stored.as_str()), (UTF8_HEX, UTF8_HEX));
}

#[test]
fn non_ascii_text_survives_on_mariadb_after_either_connect() {
    if !common::server_up(3306, "non_ascii_text_survives_on_mariadb_after_either_connect") {
        return;
    }
    for width in ["a", "w"] {
        let (_, text, stored) = run("DSN=maria-test", width, "hex(name)", false);
        assert_eq!((text.as_str(), stored.as_str()), (UTF8_HEX, UTF8_HEX), "{width} connect on MariaDB");
    }
}
