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
fn run(conn: &str, width: &str, hexf: &str, unixodbc: bool) -> Answer {
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
    Answer { ty: field("type="), concise: field("concise="), colname: field("colname="), text: field("text="), stored: field("stored=") }
}

/// What the program printed.
struct Answer {
    ty: String,
    concise: String,
    colname: String,
    text: String,
    stored: String,
}

/// "prénom" in UTF-8, the alias of the described column.
const COLNAME_HEX: &str = "7072C3A96E6F6D";

#[test]
fn ansi_connect_makes_psqlodbc_report_narrow_types() {
    if !common::server_up(5432, "ansi_connect_makes_psqlodbc_report_narrow_types") {
        return;
    }
    let hexf = "upper(encode(convert_to(name,'UTF8'),'hex'))";
    let a = run("DSN=pg-test", "a", hexf, false);
    assert_eq!(a.ty, SQL_LONGVARCHAR, "ANSI connect on psqlodbcw: narrow type");
    assert_eq!((a.text.as_str(), a.stored.as_str(), a.colname.as_str()), (UTF8_HEX, UTF8_HEX, COLNAME_HEX));
    let unix = run("DSN=pg-test", "a", hexf, true);
    assert_eq!((&a.ty, &a.concise), (&unix.ty, &unix.concise), "the same types as unixODBC reports");
    let w = run("DSN=pg-test", "w", hexf, false);
    assert_eq!(w.ty, SQL_WLONGVARCHAR, "Unicode connect on psqlodbcw: wide type");
    assert_eq!((w.text.as_str(), w.stored.as_str(), w.colname.as_str()), (UTF8_HEX, UTF8_HEX, COLNAME_HEX));
}

#[test]
fn non_ascii_text_survives_on_mariadb_after_either_connect() {
    if !common::server_up(3306, "non_ascii_text_survives_on_mariadb_after_either_connect") {
        return;
    }
    for width in ["a", "w"] {
        let r = run("DSN=maria-test", width, "hex(name)", false);
        assert_eq!(
            (r.text.as_str(), r.stored.as_str(), r.colname.as_str()),
            (UTF8_HEX, UTF8_HEX, COLNAME_HEX),
            "{width} connect on MariaDB"
        );
    }
}

/// Decision #148: an ANSI application's SQLDescribeCol reaches MariaDB Connector/ODBC's
/// ANSI SQLDescribeCol, as under unixODBC: a VARCHAR column is SQL_VARCHAR there, and
/// agrees with what SQLColAttribute(SQL_DESC_CONCISE_TYPE) says (its SQLDescribeColW says
/// SQL_WVARCHAR, its SQLColAttributeW SQL_VARCHAR). odbc-api's narrow
/// `data_types_for_varchar_1000_from_description` (MariaDB) expects SQL_VARCHAR.
#[test]
fn ansi_describe_col_on_mariadb_agrees_with_col_attribute_and_unixodbc_decision_148() {
    if !common::server_up(3306, "ansi_describe_col_on_mariadb_agrees_with_col_attribute_and_unixodbc_decision_148") {
        return;
    }
    const SQL_VARCHAR: &str = "12";
    let a = run("DSN=maria-test", "a", "hex(name)", false);
    assert_eq!((a.ty.as_str(), a.concise.as_str()), (SQL_VARCHAR, SQL_VARCHAR), "ANSI connect on MariaDB");
    let unix = run("DSN=maria-test", "a", "hex(name)", true);
    assert_eq!((&a.ty, &a.concise, &a.colname), (&unix.ty, &unix.concise, &unix.colname), "the same answers as unixODBC");
    // After a Unicode connect the ANSI call goes to the driver's ANSI function too.
    let w = run("DSN=maria-test", "w", "hex(name)", false);
    assert_eq!(w.ty, SQL_VARCHAR, "Unicode connect, ANSI SQLDescribeCol on MariaDB");
}
