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

/// Sixty sections with long names and long absolute Driver/Setup paths, listed by
/// SQLDriversW with large, small and tiny buffers (issue 11): every section exactly once,
/// in file order, then SQL_NO_DATA; a buffer too small for the name gives 01004
/// (SQL_SUCCESS_WITH_INFO) with the name cut, never a crash. unixODBC 2.3.11 could not be
/// made to abort here (also under valgrind), but it lists only the first 18 of these 60
/// drivers: its section list is cut at about 1,000 bytes of names (the count is printed
/// for the record, docs/c-abi-compat.md).
#[test]
fn sqldriversw_lists_sixty_long_named_drivers_with_any_buffer_size() {
    let dir = common::scratch("drivers-many");
    let lib = "/usr/lib/x86_64-linux-gnu/odbc";
    let long = format!("{lib}/{}", "../odbc/".repeat(30));
    let names: Vec<String> = (0..60).map(|i| format!("Driver number {i} with a long descriptive name {}", "x".repeat(i + 1))).collect();
    let mut ini = String::new();
    for (i, n) in names.iter().enumerate() {
        ini += &format!(
            "[{n}]\nDescription = Driver {i} {}\nDriver = {long}psqlodbcw.so\nSetup = {long}libodbcpsqlS.so\nFileUsage = 1\n\n",
            "d".repeat(i * 3)
        );
    }
    std::fs::write(dir.join("odbcinst.ini"), ini).unwrap();
    std::fs::write(dir.join("odbc.ini"), "").unwrap();
    let exe = dir.join("drivers_many");
    common::compile_c(&common::root().join("capi/tests/c/drivers_many.c"), &exe);
    let run = |d: usize, a: usize, ours: bool| {
        let mut c = common::command(&exe);
        if !ours {
            c.env_remove("LD_LIBRARY_PATH");
        }
        let out = c.env("ODBCSYSINI", &dir).env("ODBCINI", dir.join("odbc.ini")).args([d.to_string(), a.to_string()]).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "buffers {d}/{a} (odbc-dm: {ours}): {}\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };
    for (d, a) in [(256, 4096), (16, 16), (1, 1)] {
        let out = run(d, a, true);
        let listed: Vec<&str> = out.lines().filter_map(|l| l.strip_prefix("D ")).collect();
        assert_eq!(listed.len(), 60, "buffers {d}/{a}:\n{out}");
        for (got, want) in listed.iter().zip(&names) {
            // The buffer holds d - 1 characters and the NUL.
            let cut: String = want.chars().take(d - 1).collect();
            assert_eq!(*got, cut, "buffers {d}/{a}");
        }
        let expect_trunc = if d == 256 { 0 } else { 60 };
        assert!(out.contains(&format!("end rc=100 count=60 truncated={expect_trunc}")), "buffers {d}/{a}:\n{out}");
    }
    let unix = run(256, 4096, false);
    eprintln!("unixODBC 2.3.11 on the same file: {}", unix.lines().last().unwrap_or(""));
    let _ = std::fs::remove_dir_all(&dir);
}
