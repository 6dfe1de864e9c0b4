//! Unicode round trips through the DM (issue requirement "narrow text is UTF-8, wide text
//! is UTF-16, A and W entry points both work against narrow and Unicode drivers"):
//! 2 drivers × 2 API forms.
//!
//! - narrow driver: libsqlite3odbc (exports only A functions: the DM converts W calls);
//! - wide driver: psqlodbcw (a Unicode driver: the DM drops its A twins and converts A
//!   calls to its W functions, docs/architecture.md "How the code is organised", A/W);
//! - A form: SQLExecDirect / SQLPrepare / SQLDescribeCol with UTF-8 statement text, and
//!   SQL_C_CHAR (UTF-8) parameter and result buffers;
//! - W form: SQLExecDirectW / SQLPrepareW / SQLDescribeColW with UTF-16 statement text,
//!   and SQL_C_WCHAR (UTF-16) parameter and result buffers.
//!
//! Every value is inserted twice (as a literal in the statement text, and as a bound
//! parameter) and read back with SQLGetData; the bytes (A) or code units (W) must be
//! exactly those sent.

mod common;

use common::rawh::{self, H};
use odbc_dm::abi::*;
use odbc_dm::raw::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Drv {
    /// libsqlite3odbc, narrow.
    NarrowSqlite,
    /// psqlodbcw, Unicode.
    WidePg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    A,
    W,
}

/// `é`, `中文`, `😀` and a 10,000-character mix of ASCII, 2-, 3- and 4-byte characters.
fn samples() -> Vec<String> {
    let pieces = ["a", "é", "中", "😀", "Z", "ß", "€", " ", "文", "9"];
    let long: String = (0..10_000).map(|i| pieces[(i * 7 + i / 13) % pieces.len()]).collect();
    assert_eq!(long.chars().count(), 10_000);
    vec!["é".into(), "中文".into(), "😀".into(), long]
}

fn conn_str(d: Drv, test: &str) -> Option<String> {
    common::init();
    match d {
        Drv::NarrowSqlite => Some(common::sqlite_conn_str(&common::temp_db(test))),
        Drv::WidePg => common::postgres_conn_str(test),
    }
}

fn exec_form(s: H, form: Form, sql: &str) -> SqlReturn {
    match form {
        Form::A => rawh::exec_rc(s, sql),
        Form::W => {
            let w: Vec<u16> = sql.encode_utf16().collect();
            // SAFETY: live statement; the text outlives the call; length in characters.
            unsafe { SQLExecDirectW(s, w.as_ptr(), w.len() as i32) }
        }
    }
}

fn prepare_form(s: H, form: Form, sql: &str) -> SqlReturn {
    match form {
        // SAFETY: live statement; the text outlives the call.
        Form::A => unsafe { SQLPrepare(s, sql.as_ptr(), sql.len() as i32) },
        Form::W => {
            let w: Vec<u16> = sql.encode_utf16().collect();
            // SAFETY: as above; length in characters.
            unsafe { SQLPrepareW(s, w.as_ptr(), w.len() as i32) }
        }
    }
}

/// Reads `SELECT s FROM table WHERE id = id` with the form's entry point and C type and
/// returns what came back as a String, panicking unless it is exactly `want`.
fn check_row(s: H, form: Form, table: &str, id: usize, want: &str, what: &str) {
    let q = format!("SELECT s FROM {table} WHERE id = {id}");
    rawh::ok_stmt(exec_form(s, form, &q), s, &q);
    // SAFETY: live statement with a result set.
    rawh::ok_stmt(unsafe { SQLFetch(s) }, s, "SQLFetch");
    match form {
        Form::A => {
            let got = rawh::get_text(s, 1).expect("not NULL");
            if got != want.as_bytes() {
                panic!(
                    "{what}: SQL_C_CHAR bytes differ: sent {} bytes, got {} bytes; first difference at byte {:?}; got starts {:?}",
                    want.len(),
                    got.len(),
                    got.iter().zip(want.as_bytes()).position(|(a, b)| a != b),
                    String::from_utf8_lossy(&got[..got.len().min(40)])
                );
            }
        }
        Form::W => {
            let got = rawh::get_wtext(s, 1).expect("not NULL");
            let want16: Vec<u16> = want.encode_utf16().collect();
            if got != want16 {
                panic!(
                    "{what}: SQL_C_WCHAR code units differ: sent {} units, got {}; first difference at {:?}; got starts {:?}",
                    want16.len(),
                    got.len(),
                    got.iter().zip(&want16).position(|(a, b)| a != b),
                    String::from_utf16_lossy(&got[..got.len().min(40)])
                );
            }
        }
    }
    rawh::close(s);
}

fn roundtrip(d: Drv, form: Form, test: &str) {
    let Some(cs) = conn_str(d, test) else { return };
    let (env, dbc) = rawh::connect(&cs);
    let table = common::unique_table("uni");
    rawh::exec_on(dbc, &format!("CREATE TABLE {table} (id INTEGER NOT NULL PRIMARY KEY, s TEXT)"));
    let s = rawh::stmt(dbc);
    let samples = samples();

    // 1. Literals in the statement text (ids 1..).
    for (k, v) in samples.iter().enumerate() {
        let sql = format!("INSERT INTO {table} (id, s) VALUES ({}, '{v}')", k + 1);
        let rc = exec_form(s, form, &sql);
        rawh::ok_stmt(rc, s, &format!("{d:?}/{form:?} literal insert of sample {k}"));
        rawh::close(s);
    }

    // 2. Bound parameters (ids 101..), one prepare.
    let sql = format!("INSERT INTO {table} (id, s) VALUES (?, ?)");
    rawh::ok_stmt(prepare_form(s, form, &sql), s, "prepare");
    for (k, v) in samples.iter().enumerate() {
        let mut id = (101 + k) as i32;
        let mut id_ind: SqlLen = 4;
        let mut narrow = v.as_bytes().to_vec();
        let mut wide: Vec<u16> = v.encode_utf16().collect();
        let (ctype, sqltype, ptr, chars, bytes) = match form {
            Form::A => (CDataType::SQL_C_CHAR, SqlDataType::SQL_LONGVARCHAR, narrow.as_mut_ptr() as SqlPointer, narrow.len(), narrow.len()),
            Form::W => (CDataType::SQL_C_WCHAR, SqlDataType::SQL_WLONGVARCHAR, wide.as_mut_ptr() as SqlPointer, wide.len(), wide.len() * 2),
        };
        let mut ind = bytes as SqlLen;
        // SAFETY: live prepared statement; every buffer outlives the SQLExecute below.
        unsafe {
            rawh::ok_stmt(
                SQLBindParameter(
                    s,
                    1,
                    ParamIoType::SQL_PARAM_INPUT,
                    CDataType::SQL_C_SLONG,
                    SqlDataType::SQL_INTEGER,
                    10,
                    0,
                    (&mut id as *mut i32).cast(),
                    4,
                    &mut id_ind,
                ),
                s,
                "bind id",
            );
            rawh::ok_stmt(
                SQLBindParameter(s, 2, ParamIoType::SQL_PARAM_INPUT, ctype, sqltype, chars, 0, ptr, bytes as SqlLen, &mut ind),
                s,
                "bind s",
            );
            rawh::ok_stmt(SQLExecute(s), s, &format!("{d:?}/{form:?} parameter insert of sample {k}"));
        }
    }
    // SAFETY: live statement.
    unsafe { SQLFreeStmt(s, FreeStmtOption::SQL_RESET_PARAMS) };
    rawh::close(s);

    // 3. Read back each row with the same form.
    for (k, v) in samples.iter().enumerate() {
        let label = if v.chars().count() > 10 { "10,000-character string".to_string() } else { format!("{v:?}") };
        check_row(s, form, &table, k + 1, v, &format!("{d:?}/{form:?} literal {label}"));
        check_row(s, form, &table, 101 + k, v, &format!("{d:?}/{form:?} parameter {label}"));
    }

    // 3b. The database holds characters, not mojibake that happens to round-trip: its own
    // LENGTH() counts the characters sent (😀 is one character in both databases).
    for (k, v) in samples.iter().enumerate() {
        for id in [k + 1, 101 + k] {
            let n = rawh::query_i64(dbc, &format!("SELECT LENGTH(s) FROM {table} WHERE id = {id}"));
            assert_eq!(n as usize, v.chars().count(), "{d:?}/{form:?}: server-side LENGTH of sample {k} (row {id})");
        }
    }

    // 4. SQLDescribeCol / SQLDescribeColW of a column aliased with a non-ASCII name.
    let alias = "名前é😀";
    let q = format!("SELECT s AS \"{alias}\" FROM {table} WHERE id = 1");
    rawh::ok_stmt(exec_form(s, form, &q), s, &q);
    let mut ty = SqlDataType(0);
    let mut size: SqlULen = 0;
    let mut digits = 0i16;
    let mut nullable = Nullability(0);
    let mut len = 0i16;
    match form {
        Form::A => {
            let mut name = [0u8; 128];
            // SAFETY: live statement with a result set; buffers of the sizes passed.
            let rc = unsafe {
                SQLDescribeCol(s, 1, name.as_mut_ptr(), name.len() as i16, &mut len, &mut ty, &mut size, &mut digits, &mut nullable)
            };
            rawh::ok_stmt(rc, s, "SQLDescribeCol");
            assert_eq!(len as usize, alias.len(), "{d:?}: SQLDescribeCol NameLength counts UTF-8 bytes");
            assert_eq!(
                &name[..alias.len()],
                alias.as_bytes(),
                "{d:?}: SQLDescribeCol name is the alias in UTF-8: {:?}",
                String::from_utf8_lossy(&name[..len.max(0) as usize])
            );
            assert_eq!(name[alias.len()], 0, "NUL-terminated");
        }
        Form::W => {
            let mut name = [0u16; 64];
            // SAFETY: as above, BufferLength in characters.
            let rc = unsafe {
                SQLDescribeColW(s, 1, name.as_mut_ptr(), name.len() as i16, &mut len, &mut ty, &mut size, &mut digits, &mut nullable)
            };
            rawh::ok_stmt(rc, s, "SQLDescribeColW");
            let want: Vec<u16> = alias.encode_utf16().collect();
            assert_eq!(len as usize, want.len(), "{d:?}: SQLDescribeColW NameLength counts UTF-16 units");
            assert_eq!(
                &name[..want.len()],
                &want[..],
                "{d:?}: SQLDescribeColW name is the alias in UTF-16: {:?}",
                String::from_utf16_lossy(&name[..len.max(0) as usize])
            );
            assert_eq!(name[want.len()], 0, "NUL-terminated");
        }
    }
    rawh::close(s);
    rawh::free_stmt(s);
    rawh::drop_table(dbc, &table);
    rawh::disconnect(env, dbc);
}

#[test]
fn unicode_narrow_driver_a_entry_points_utf8_roundtrip_exact_bytes() {
    roundtrip(Drv::NarrowSqlite, Form::A, "unicode_narrow_a");
}

#[test]
fn unicode_narrow_driver_w_entry_points_utf16_roundtrip_exact_units() {
    roundtrip(Drv::NarrowSqlite, Form::W, "unicode_narrow_w");
}

#[test]
fn unicode_wide_driver_a_entry_points_utf8_roundtrip_exact_bytes() {
    roundtrip(Drv::WidePg, Form::A, "unicode_wide_a");
}

#[test]
fn unicode_wide_driver_w_entry_points_utf16_roundtrip_exact_units() {
    roundtrip(Drv::WidePg, Form::W, "unicode_wide_w");
}

/// A driver message with non-ASCII text reaches SQLGetDiagRec (A) as UTF-8 and
/// SQLGetDiagRecW as UTF-16, whichever width the driver has.
fn diag_non_ascii(d: Drv, test: &str) {
    let Some(cs) = conn_str(d, test) else { return };
    let (env, dbc) = rawh::connect(&cs);
    let s = rawh::stmt(dbc);
    let name = "表不存在é";
    let sql = format!("SELECT * FROM \"{name}\"");
    assert_eq!(exec_form(s, Form::W, &sql), SqlReturn::SQL_ERROR);
    let a = rawh::diag_recs(HandleType::SQL_HANDLE_STMT, s);
    assert!(a[0].message.contains(name), "{d:?}: SQLGetDiagRec (UTF-8) message {:?} names the table", a[0].message);
    let mut st = [0u16; 6];
    let mut native = 0;
    let mut msg = [0u16; 1024];
    let mut len = 0i16;
    // SAFETY: buffers of the sizes passed (characters).
    let rc = unsafe { SQLGetDiagRecW(HandleType::SQL_HANDLE_STMT, s, 1, st.as_mut_ptr(), &mut native, msg.as_mut_ptr(), 1024, &mut len) };
    assert!(rc.is_success());
    let w = String::from_utf16(&msg[..len as usize]).expect("valid UTF-16");
    assert_eq!(w, a[0].message, "{d:?}: SQLGetDiagRecW and SQLGetDiagRec give the same text");
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

#[test]
fn unicode_narrow_driver_non_ascii_diagnostic_text_a_and_w() {
    diag_non_ascii(Drv::NarrowSqlite, "unicode_diag_narrow");
}

#[test]
fn unicode_wide_driver_non_ascii_diagnostic_text_a_and_w() {
    diag_non_ascii(Drv::WidePg, "unicode_diag_wide");
}

/// A/W rule "truncation of output → SQL_SUCCESS_WITH_INFO with 01004 and the FULL length in
/// the app's units", where the DM writes the application's buffer: SQLDescribeColW
/// (characters) on the narrow driver, SQLDescribeCol (bytes) on the wide driver (its ANSI
/// function's name received whole and cut by the DM, decision #148), with a name buffer
/// too small for a non-ASCII alias.
///
/// Same-width calls go to the driver untouched, so their truncation is the driver's own
/// (checked by calling the drivers directly, without the DM): libsqlite3odbc's
/// SQLDescribeCol returns SQL_SUCCESS without 01004, reports the truncated length (4) and
/// cuts "名" mid-sequence (e5 90 8d e5 00); psqlodbcw's SQLDescribeColW with a 3-character
/// buffer fills all 3 characters and writes no NUL terminator (01004 and length 5 are right).
fn describe_truncated(d: Drv, form: Form, test: &str) {
    let Some(cs) = conn_str(d, test) else { return };
    let (env, dbc) = rawh::connect(&cs);
    let s = rawh::stmt(dbc);
    let alias = "名前é😀";
    let q = format!("SELECT 1 AS \"{alias}\"");
    let (mut ty, mut size, mut digits, mut nullable, mut len) = (SqlDataType(0), 0usize, 0i16, Nullability(0), 0i16);
    rawh::ok_stmt(exec_form(s, form, &q), s, &q);
    match form {
        Form::A => {
            let mut name = [0xFFu8; 5];
            // SAFETY: live statement with a result set; 5-byte buffer passed as 5.
            let rc = unsafe { SQLDescribeCol(s, 1, name.as_mut_ptr(), 5, &mut len, &mut ty, &mut size, &mut digits, &mut nullable) };
            assert_eq!(rc, SqlReturn::SQL_SUCCESS_WITH_INFO, "{d:?}: truncated SQLDescribeCol");
            assert_eq!(rawh::diag_recs(HandleType::SQL_HANDLE_STMT, s).last().map(|r| r.state.clone()).as_deref(), Some("01004"));
            assert_eq!(len as usize, alias.len(), "{d:?}: SQLDescribeCol gives the full length in bytes");
            let nul = name.iter().position(|&b| b == 0).expect("NUL-terminated within the buffer");
            assert!(alias.as_bytes().starts_with(&name[..nul]), "{d:?}: the truncated name is a prefix of the alias: {:?}", &name[..nul]);
            assert!(
                std::str::from_utf8(&name[..nul]).is_ok(),
                "{d:?}: the truncated name is not cut inside a character: {:?}",
                &name[..nul]
            );
        }
        Form::W => {
            let mut wname = [0xFFFFu16; 3];
            // SAFETY: as above; 3-character buffer.
            let rc = unsafe { SQLDescribeColW(s, 1, wname.as_mut_ptr(), 3, &mut len, &mut ty, &mut size, &mut digits, &mut nullable) };
            assert_eq!(rc, SqlReturn::SQL_SUCCESS_WITH_INFO, "{d:?}: truncated SQLDescribeColW");
            assert_eq!(rawh::diag_recs(HandleType::SQL_HANDLE_STMT, s).last().map(|r| r.state.clone()).as_deref(), Some("01004"));
            let want: Vec<u16> = alias.encode_utf16().collect();
            assert_eq!(len as usize, want.len(), "{d:?}: SQLDescribeColW gives the full length in characters");
            assert_eq!(&wname[..2], &want[..2], "{d:?}: prefix");
            assert_eq!(wname[2], 0, "{d:?}: NUL-terminated");
        }
    }
    rawh::close(s);
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

#[test]
fn unicode_narrow_driver_describecolw_converted_truncation_01004_full_length() {
    describe_truncated(Drv::NarrowSqlite, Form::W, "unicode_trunc_narrow");
}

#[test]
fn unicode_wide_driver_describecol_converted_truncation_01004_full_length() {
    describe_truncated(Drv::WidePg, Form::A, "unicode_trunc_wide");
}
