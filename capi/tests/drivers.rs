//! SQLDriversW and SQLDrivers from C over an odbcinst.ini whose Driver and Setup entries
//! are absolute paths (issue 11: unixODBC 2.3.11 was reported to abort with "double free or
//! corruption" in SQLDriversW there): every section is listed by both forms, with its full
//! attribute list, then SQL_NO_DATA; the program exits normally.

mod common;

#[test]
fn sqldriversw_lists_drivers_with_absolute_driver_and_setup_paths() {
    let dir = common::scratch("drivers-w");
    let lib = "/usr/lib/x86_64-linux-gnu/odbc";
    std::fs::write(
        dir.join("odbcinst.ini"),
        format!(
            "[PG Abs]\nDescription = PostgreSQL by absolute path\nDriver = {lib}/psqlodbcw.so\nSetup = {lib}/libodbcpsqlS.so\n\n\
             [SQLite Abs]\nDescription = SQLite by absolute path\nDriver = {lib}/libsqlite3odbc.so\nSetup = {lib}/libsqlite3odbc.so\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.join("odbc.ini"), "").unwrap();
    let exe = dir.join("drivers_w");
    common::compile_c(&common::root().join("capi/tests/c/drivers_w.c"), &exe);
    let out = common::command(&exe).env("ODBCSYSINI", &dir).env("ODBCINI", dir.join("odbc.ini")).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let ctx = format!("{}\n{stdout}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{ctx}");
    for form in ["W", "A"] {
        assert!(
            stdout.contains(&format!(
                "{form} DRIVER PG Abs | Description=PostgreSQL by absolute path;Driver={lib}/psqlodbcw.so;Setup={lib}/libodbcpsqlS.so;"
            )),
            "{ctx}"
        );
        assert!(
            stdout.contains(&format!(
                "{form} DRIVER SQLite Abs | Description=SQLite by absolute path;Driver={lib}/libsqlite3odbc.so;Setup={lib}/libsqlite3odbc.so;"
            )),
            "{ctx}"
        );
        assert!(stdout.contains(&format!("{form} end rc=100 count=2")), "{ctx}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
