//! SQL_C_WCHAR with ANSI-only drivers (issue 11 item 3; docs/decisions.md #77–#80): the DM
//! converts wide parameters, bound columns (one row and column-wise rowsets) and SQLGetData
//! buffers between the application's UTF-16 and the driver's UTF-8, with lengths in bytes
//! of UTF-16, 01004 on truncation, SQLGetData in parts of BufferLength/2 − 1 code units
//! (a surrogate pair on the boundary split across parts, #140), SQLPutData in parts of any
//! length (#141), NULLs, empty strings and SQL_NTS input. Deferred buffers (§2.9 spirit, ODBC "deferred
//! input"): the value converted is the one in the buffer at SQLExecute, not at bind time.
//!
//! Drivers: psqlodbca (PostgreSQL ANSI: answers SQL_C_WCHAR with errors on its own) and
//! libsqlite3odbc (exports no W function either, so the DM converts there too).

mod common;

use common::rawh::{self, H};
use odbc_dm::abi::*;
use odbc_dm::raw::*;

const SAMPLES: [&str; 4] = ["é", "中文", "🎉 party 🎉", "plain ascii"];

fn w(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

fn states(s: H) -> Vec<String> {
    rawh::diag_recs(HandleType::SQL_HANDLE_STMT, s).into_iter().map(|r| r.state).collect()
}

/// psqlodbca's connection string, or None after a recorded skip.
fn pg_ansi(test: &str) -> Option<String> {
    common::init();
    let drv = common::debian_driver("psqlodbca.so");
    common::require_driver(test, &drv)?;
    if !common::reachable(5432) {
        common::skip(test, "PostgreSQL not reachable on 127.0.0.1:5432");
        return None;
    }
    Some(format!("DRIVER={};Servername=127.0.0.1;Port=5432;Database=test;Username={};CommLog=0;Debug=0", drv.display(), common::pg_user()))
}

fn sqlite(name: &str) -> String {
    common::init();
    common::sqlite_conn_str(&common::temp_db(name))
}

/// Creates `table (id int, txt varchar(200))` and inserts one row per value through a
/// prepared INSERT whose text parameter is SQL_C_WCHAR (SQL_NTS, explicit length in bytes
/// and NULL alternately), changing the bound buffer between executions (deferred input).
fn insert_wide(dbc: H, table: &str, values: &[Option<&str>]) {
    let s = rawh::stmt(dbc);
    rawh::exec(s, &format!("CREATE TABLE {table} (id integer, txt varchar(200))"));
    let sql = format!("INSERT INTO {table} (id, txt) VALUES (?, ?)");
    // SAFETY: live statement; the text outlives the call.
    rawh::ok_stmt(unsafe { SQLPrepare(s, sql.as_ptr(), sql.len() as i32) }, s, "SQLPrepare");
    // One-element arrays: written here, read by the driver through the bound pointers.
    let mut id = [0i32];
    let mut buf = vec![0u16; 256];
    let mut ind = [0 as SqlLen];
    // SAFETY: live statement; the buffers outlive every execution below.
    unsafe {
        let rc = SQLBindParameter(
            s,
            1,
            ParamIoType::SQL_PARAM_INPUT,
            CDataType::SQL_C_SLONG,
            SqlDataType::SQL_INTEGER,
            0,
            0,
            id.as_mut_ptr().cast(),
            0,
            std::ptr::null_mut(),
        );
        rawh::ok_stmt(rc, s, "bind id");
        let rc = SQLBindParameter(
            s,
            2,
            ParamIoType::SQL_PARAM_INPUT,
            CDataType::SQL_C_WCHAR,
            SqlDataType::SQL_WVARCHAR,
            200,
            0,
            buf.as_mut_ptr().cast(),
            (buf.len() * 2) as SqlLen,
            ind.as_mut_ptr(),
        );
        rawh::ok_stmt(rc, s, "bind txt (SQL_C_WCHAR)");
    }
    for (i, v) in values.iter().enumerate() {
        id[0] = i as i32;
        buf.iter_mut().for_each(|u| *u = 0);
        match v {
            None => ind[0] = SQL_NULL_DATA,
            Some(t) => {
                let u = w(t);
                buf[..u.len()].copy_from_slice(&u);
                ind[0] = if i % 2 == 0 { SQL_NTS as SqlLen } else { (u.len() * 2) as SqlLen };
            }
        }
        // SAFETY: live, prepared statement with live bound buffers.
        let rc = unsafe { SQLExecute(s) };
        rawh::ok_stmt(rc, s, &format!("SQLExecute row {i}"));
    }
    rawh::free_stmt(s);
}

fn select(s: H, table: &str) {
    let sql = format!("SELECT txt FROM {table} ORDER BY id");
    // SAFETY: live statement; the text outlives the call.
    rawh::ok_stmt(unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) }, s, "SELECT");
}

fn values() -> Vec<Option<&'static str>> {
    let mut v: Vec<Option<&str>> = SAMPLES.iter().map(|s| Some(*s)).collect();
    v.push(None);
    v.push(Some(""));
    v
}

/// Wide parameters in, SQLGetData(SQL_C_WCHAR) out: every value (non-ASCII, outside the
/// BMP, NULL, empty) comes back exactly, with its length in bytes of UTF-16.
fn params_and_get_data(cs: &str) {
    let (env, dbc) = rawh::connect(cs);
    let table = common::unique_table("wchar_pg");
    let vals = values();
    insert_wide(dbc, &table, &vals);
    // The narrow view proves the driver stored UTF-8 text, not UTF-16 bytes.
    let narrow = rawh::query(dbc, &format!("SELECT txt FROM {table} ORDER BY id"));
    let expect: Vec<Vec<Option<String>>> = vals.iter().map(|v| vec![v.map(str::to_string)]).collect();
    assert_eq!(narrow, expect, "stored text (read as SQL_C_CHAR)");
    let s = rawh::stmt(dbc);
    select(s, &table);
    for v in &vals {
        // SAFETY: live statement with a cursor.
        rawh::ok_stmt(unsafe { SQLFetch(s) }, s, "SQLFetch");
        let mut buf = [0u16; 64];
        let mut ind: SqlLen = 0;
        // SAFETY: live statement; buffer of the byte length passed.
        let rc = unsafe { SQLGetData(s, 1, CDataType::SQL_C_WCHAR, buf.as_mut_ptr().cast(), 128, &mut ind) };
        assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{v:?}: {:?}", states(s));
        match v {
            None => assert_eq!(ind, SQL_NULL_DATA),
            Some(t) => {
                let u = w(t);
                assert_eq!(ind, (u.len() * 2) as SqlLen, "{t}: length in bytes of UTF-16");
                assert_eq!(&buf[..u.len()], &u[..], "{t}");
                assert_eq!(buf[u.len()], 0, "{t}: NUL-terminated");
            }
        }
        // Everything was returned: the next call for the column is SQL_NO_DATA (for NULL
        // the DM leaves the answer to the driver).
        if v.is_some() {
            // SAFETY: as above.
            let rc = unsafe { SQLGetData(s, 1, CDataType::SQL_C_WCHAR, buf.as_mut_ptr().cast(), 128, &mut ind) };
            assert_eq!(rc, SqlReturn::SQL_NO_DATA, "{v:?}: second SQLGetData");
        }
    }
    // SAFETY: as above.
    assert_eq!(unsafe { SQLFetch(s) }, SqlReturn::SQL_NO_DATA);
    rawh::close(s);
    rawh::exec(s, &format!("DROP TABLE {table}"));
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

/// SQLGetData in parts of 3 code units (6 bytes, 2 characters + NUL): 01004 on every
/// part but the last, StrLen_or_Ind the bytes remaining, every truncated part exactly 2
/// units (a surrogate pair on the boundary split, decision #140), then SQL_NO_DATA; the
/// parts join to the value.
fn get_data_in_parts(cs: &str) {
    let (env, dbc) = rawh::connect(cs);
    let s = rawh::stmt(dbc);
    let text = "a🎉é中🎉b";
    let sql = format!("SELECT '{text}'");
    // SAFETY: live statement; the text outlives the call.
    rawh::ok_stmt(unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) }, s, "SELECT literal");
    // SAFETY: as above.
    rawh::ok_stmt(unsafe { SQLFetch(s) }, s, "SQLFetch");
    let full = w(text);
    let mut got = Vec::new();
    let mut calls = 0;
    // A length probe first (null buffer, length 0): the whole length, nothing consumed.
    let mut ind: SqlLen = 0;
    // SAFETY: live statement; null buffer of length 0.
    let rc = unsafe { SQLGetData(s, 1, CDataType::SQL_C_WCHAR, std::ptr::null_mut(), 0, &mut ind) };
    assert!(rc.is_success(), "probe: {rc:?} {:?}", states(s));
    assert_eq!(ind, (full.len() * 2) as SqlLen, "probe length");
    loop {
        let mut buf = [0xFFFFu16; 3];
        let mut ind: SqlLen = 0;
        // SAFETY: live statement; buffer of 6 bytes.
        let rc = unsafe { SQLGetData(s, 1, CDataType::SQL_C_WCHAR, buf.as_mut_ptr().cast(), 6, &mut ind) };
        if rc == SqlReturn::SQL_NO_DATA {
            break;
        }
        calls += 1;
        assert!(calls < 20, "no progress");
        let remaining = full.len() - got.len();
        assert_eq!(ind, (remaining * 2) as SqlLen, "StrLen_or_Ind: bytes remaining before this part");
        let n = buf.iter().position(|&u| u == 0).expect("NUL-terminated part");
        // BufferLength/2 - 1 units, a surrogate pair on the boundary split (decision #140).
        assert_eq!(n, remaining.min(2), "part {calls}: {buf:x?}");
        got.extend_from_slice(&buf[..n]);
        if got.len() < full.len() {
            assert_eq!(rc, SqlReturn::SQL_SUCCESS_WITH_INFO, "part {calls}");
            assert!(states(s).contains(&"01004".to_string()), "01004 on part {calls}: {:?}", states(s));
        } else {
            assert_eq!(rc, SqlReturn::SQL_SUCCESS, "last part");
        }
    }
    assert_eq!(String::from_utf16(&got).unwrap(), text);
    assert!(calls >= 4, "several parts ({calls})");
    rawh::close(s);
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

/// SQLBindCol(SQL_C_WCHAR): one row at a time, then a column-wise rowset of 4 rows with
/// SQL_ATTR_ROWS_FETCHED_PTR (the last rowset partly filled: rows past the end untouched),
/// then a buffer too small (01004, data cut on a character boundary, NUL-terminated).
fn bound_columns(cs: &str) {
    let (env, dbc) = rawh::connect(cs);
    let table = common::unique_table("wchar_bind");
    let vals = values();
    insert_wide(dbc, &table, &vals);
    let s = rawh::stmt(dbc);

    // One row at a time.
    let mut buf = [0u16; 64];
    let mut ind: SqlLen = 0;
    // SAFETY: live statement; the buffers outlive every fetch.
    rawh::ok_stmt(unsafe { SQLBindCol(s, 1, CDataType::SQL_C_WCHAR, buf.as_mut_ptr().cast(), 128, &mut ind) }, s, "SQLBindCol");
    select(s, &table);
    for v in &vals {
        buf.fill(0xFFFF);
        // SAFETY: live statement with a cursor and bound buffers.
        rawh::ok_stmt(unsafe { SQLFetch(s) }, s, "SQLFetch");
        match v {
            None => assert_eq!(ind, SQL_NULL_DATA),
            Some(t) => {
                let u = w(t);
                assert_eq!(ind, (u.len() * 2) as SqlLen, "{t}");
                assert_eq!(&buf[..=u.len()], &[&u[..], &[0]].concat()[..], "{t}");
            }
        }
    }
    rawh::close(s);

    // A column-wise rowset of 4 (6 rows: 4 + 2).
    const N: usize = 4;
    const UNITS: usize = 32;
    let mut arr = vec![0xFFFFu16; N * UNITS];
    let mut inds = [0 as SqlLen; N];
    let mut fetched: SqlULen = 0;
    assert!(rawh::set_stmt_attr(s, StmtAttr::SQL_ATTR_ROW_ARRAY_SIZE, N).is_success());
    assert!(rawh::set_stmt_attr(s, StmtAttr::SQL_ATTR_ROWS_FETCHED_PTR, &mut fetched as *mut SqlULen as usize).is_success());
    // SAFETY: live statement; the arrays outlive every fetch.
    let rc = unsafe { SQLBindCol(s, 1, CDataType::SQL_C_WCHAR, arr.as_mut_ptr().cast(), (UNITS * 2) as SqlLen, inds.as_mut_ptr()) };
    rawh::ok_stmt(rc, s, "SQLBindCol (rowset)");
    select(s, &table);
    let mut seen = 0;
    loop {
        arr.fill(0xFFFF);
        inds.fill(-77);
        // SAFETY: live statement with a cursor and bound arrays.
        let rc = unsafe { SQLFetchScroll(s, FetchOrientation::SQL_FETCH_NEXT, 0) };
        if rc == SqlReturn::SQL_NO_DATA {
            break;
        }
        rawh::ok_stmt(rc, s, "SQLFetchScroll");
        let n = fetched as usize;
        assert!((1..=N).contains(&n));
        for r in 0..n {
            let v = vals[seen + r];
            let row = &arr[r * UNITS..(r + 1) * UNITS];
            match v {
                None => assert_eq!(inds[r], SQL_NULL_DATA, "row {}", seen + r),
                Some(t) => {
                    let u = w(t);
                    assert_eq!(inds[r], (u.len() * 2) as SqlLen, "row {} {t}", seen + r);
                    assert_eq!(&row[..u.len()], &u[..], "row {} {t}", seen + r);
                    assert_eq!(row[u.len()], 0);
                }
            }
        }
        for r in n..N {
            assert_eq!(inds[r], -77, "row {r} past the rowset's end is untouched");
            assert!(arr[r * UNITS..(r + 1) * UNITS].iter().all(|&u| u == 0xFFFF));
        }
        seen += n;
    }
    assert_eq!(seen, vals.len());
    rawh::close(s);
    // SAFETY: live statement.
    rawh::ok_stmt(unsafe { SQLFreeStmt(s, FreeStmtOption::SQL_UNBIND) }, s, "UNBIND");
    assert!(rawh::set_stmt_attr(s, StmtAttr::SQL_ATTR_ROW_ARRAY_SIZE, 1).is_success());
    assert!(rawh::set_stmt_attr(s, StmtAttr::SQL_ATTR_ROWS_FETCHED_PTR, 0).is_success());

    // Truncation: 4 code units (3 + NUL) for "🎉 party 🎉": "🎉 " fits (3 units), 01004.
    let mut small = [0xFFFFu16; 4];
    let mut ind: SqlLen = 0;
    // SAFETY: live statement; the buffers outlive the fetch.
    rawh::ok_stmt(unsafe { SQLBindCol(s, 1, CDataType::SQL_C_WCHAR, small.as_mut_ptr().cast(), 8, &mut ind) }, s, "SQLBindCol small");
    let sql = format!("SELECT txt FROM {table} WHERE id = 2");
    // SAFETY: live statement; the text outlives the call.
    rawh::ok_stmt(unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) }, s, "SELECT id 2");
    // SAFETY: live statement with a cursor and bound buffers.
    let rc = unsafe { SQLFetch(s) };
    assert_eq!(rc, SqlReturn::SQL_SUCCESS_WITH_INFO, "{:?}", states(s));
    assert!(states(s).contains(&"01004".to_string()));
    let full = w(SAMPLES[2]);
    assert_eq!(ind, (full.len() * 2) as SqlLen, "the whole length in bytes");
    assert_eq!(&small[..], &[full[0], full[1], full[2], 0], "cut on a character boundary");
    rawh::close(s);
    rawh::exec(s, &format!("DROP TABLE {table}"));
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

/// A surrogate pair that does not fit is not split: 3 code units (2 + NUL) for "a🎉"
/// return "a" only.
/// A bound SQL_C_WCHAR column cut as SQLGetData cuts (SQLBindCol/SQLFetch: "the data is
/// truncated to BufferLength less the length of a null-termination character", 01004):
/// BufferLength/2 − 1 code units, odd BufferLength rounded down, a surrogate pair on the
/// boundary split (decision #140); StrLen_or_Ind the whole length.
fn bound_column_cut_at_buffer_length(cs: &str) {
    let (env, dbc) = rawh::connect(cs);
    let s = rawh::stmt(dbc);
    for (buf_len, expect) in [(6usize, vec![u16::from(b'a'), 0xD83C, 0]), (7, vec![u16::from(b'a'), 0xD83C, 0]), (8, w("a🎉\0"))] {
        let mut small = [0xFFFFu16; 4];
        let mut ind: SqlLen = 0;
        // SAFETY: live statement; the buffers outlive the fetch.
        let rc = unsafe { SQLBindCol(s, 1, CDataType::SQL_C_WCHAR, small.as_mut_ptr().cast(), buf_len as SqlLen, &mut ind) };
        rawh::ok_stmt(rc, s, "SQLBindCol");
        let sql = "SELECT 'a🎉'";
        // SAFETY: live statement; the text outlives the call.
        rawh::ok_stmt(unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) }, s, "SELECT");
        // SAFETY: live statement with a cursor.
        let rc = unsafe { SQLFetch(s) };
        let cut = expect.len() < 4;
        assert_eq!(rc, if cut { SqlReturn::SQL_SUCCESS_WITH_INFO } else { SqlReturn::SQL_SUCCESS }, "BufferLength {buf_len}");
        if cut {
            assert!(states(s).contains(&"01004".to_string()), "{:?}", states(s));
        }
        assert_eq!(ind, 6, "BufferLength {buf_len}: the whole length");
        assert_eq!(&small[..expect.len()], &expect[..], "BufferLength {buf_len}");
        rawh::close(s);
    }
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

#[test]
fn pg_ansi_wchar_params_and_get_data() {
    if let Some(cs) = pg_ansi("pg_ansi_wchar_params_and_get_data") {
        params_and_get_data(&cs);
    }
}

#[test]
fn pg_ansi_wchar_get_data_in_parts_01004() {
    if let Some(cs) = pg_ansi("pg_ansi_wchar_get_data_in_parts_01004") {
        get_data_in_parts(&cs);
    }
}

#[test]
fn pg_ansi_wchar_bound_columns_rowset_truncation() {
    if let Some(cs) = pg_ansi("pg_ansi_wchar_bound_columns_rowset_truncation") {
        bound_columns(&cs);
    }
}

#[test]
fn pg_ansi_wchar_bound_column_cut_at_buffer_length_decision_140() {
    if let Some(cs) = pg_ansi("pg_ansi_wchar_bound_column_cut_at_buffer_length_decision_140") {
        bound_column_cut_at_buffer_length(&cs);
    }
}

#[test]
fn sqlite_wchar_bound_column_cut_at_buffer_length_decision_140() {
    bound_column_cut_at_buffer_length(&sqlite("wchar-bound-cut"));
}

#[test]
fn sqlite_wchar_params_and_get_data() {
    params_and_get_data(&sqlite("wchar-params"));
}

#[test]
fn sqlite_wchar_get_data_in_parts_01004() {
    get_data_in_parts(&sqlite("wchar-parts"));
}

#[test]
fn sqlite_wchar_bound_columns_rowset_truncation() {
    bound_columns(&sqlite("wchar-bind"));
}

/// Output and input/output SQL_C_WCHAR parameters: the driver's UTF-8 output is converted
/// back into the application's buffer after the execution (length in bytes of UTF-16),
/// and an output buffer too small gives 01004.
#[test]
fn pg_ansi_wchar_output_parameters() {
    let Some(cs) = pg_ansi("pg_ansi_wchar_output_parameters") else { return };
    let (env, dbc) = rawh::connect(&cs);
    let func = common::unique_table("wchar_io");
    rawh::exec_on(dbc, &format!("CREATE FUNCTION {func}(INOUT t text) AS $$ SELECT t || '🎉中' $$ LANGUAGE sql"));
    let s = rawh::stmt(dbc);
    let sql = format!("{{call {func}(?)}}");
    // Cut at BufferLength/2 - 1 units, a pair on the boundary split (decision #140).
    for (cap_units, expect_cut) in [(64usize, false), (4, true), (3, true)] {
        let mut buf = vec![0u16; cap_units];
        let input = w("é");
        buf[..input.len()].copy_from_slice(&input);
        let mut ind = [SQL_NTS as SqlLen];
        // SAFETY: live statement; the buffers outlive the execution.
        unsafe {
            let rc = SQLBindParameter(
                s,
                1,
                ParamIoType::SQL_PARAM_INPUT_OUTPUT,
                CDataType::SQL_C_WCHAR,
                SqlDataType::SQL_WVARCHAR,
                100,
                0,
                buf.as_mut_ptr().cast(),
                (cap_units * 2) as SqlLen,
                ind.as_mut_ptr(),
            );
            rawh::ok_stmt(rc, s, "bind INOUT");
        }
        // SAFETY: live statement; the text outlives the call.
        let rc = unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) };
        assert!(rc.is_success(), "{rc:?} {}", rawh::diag_text(HandleType::SQL_HANDLE_STMT, s));
        let full = w("é🎉中");
        assert_eq!(ind[0], (full.len() * 2) as SqlLen, "output length in bytes of UTF-16");
        if expect_cut {
            assert_eq!(rc, SqlReturn::SQL_SUCCESS_WITH_INFO);
            assert!(states(s).contains(&"01004".to_string()), "{:?}", states(s));
            assert_eq!(&buf[..cap_units - 1], &full[..cap_units - 1], "BufferLength/2 - 1 units");
            assert_eq!(buf[cap_units - 1], 0, "then the NUL");
        } else {
            assert_eq!(&buf[..=full.len()], &[&full[..], &[0]].concat()[..]);
        }
        rawh::close(s);
    }
    rawh::free_stmt(s);
    rawh::exec_on(dbc, &format!("DROP FUNCTION {func}(text)"));
    rawh::disconnect(env, dbc);
}

/// The conversions run inside the asynchronous operation (§1.7 polling, emulated by the DM
/// for the sync-only SQLite driver, §2.9 same arguments on every call): a wide parameter
/// is converted once at the first SQLExecute call, bound wide columns and SQLGetData(WCHAR)
/// are filled when the fetch completes, and repeat calls only collect.
#[test]
fn sqlite_wchar_conversion_under_emulated_polling_1_7() {
    let cs = sqlite("wchar-async");
    let (env, dbc) = rawh::connect(&cs);
    // SAFETY: live dbc; integer attribute.
    assert!(unsafe { SQLSetConnectAttr(dbc, ConnAttr(odbc_dm::raw::SQL_ATTR_DM_ASYNC_EMULATION), 1 as SqlPointer, 0) }.is_success());
    let table = common::unique_table("wchar_async");
    rawh::exec_on(dbc, &format!("CREATE TABLE {table} (id integer, txt varchar(200))"));
    let s = rawh::stmt(dbc);
    assert!(rawh::set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_ON).is_success());
    let sql = format!("INSERT INTO {table} (id, txt) VALUES (1, ?)");
    // SAFETY: live statement; the arguments outlive every (repeat) call.
    let (rc, _) = rawh::poll(|| unsafe { SQLPrepare(s, sql.as_ptr(), sql.len() as i32) });
    rawh::ok_stmt(rc, s, "SQLPrepare");
    let text = w("中 🎉 é");
    let mut buf = text.clone();
    buf.push(0);
    let mut ind = [SQL_NTS as SqlLen];
    // SAFETY: live statement; the buffers outlive the execution.
    let rc = unsafe {
        SQLBindParameter(
            s,
            1,
            ParamIoType::SQL_PARAM_INPUT,
            CDataType::SQL_C_WCHAR,
            SqlDataType::SQL_WVARCHAR,
            200,
            0,
            buf.as_mut_ptr().cast(),
            (buf.len() * 2) as SqlLen,
            ind.as_mut_ptr(),
        )
    };
    rawh::ok_stmt(rc, s, "bind");
    // SAFETY: live, prepared statement.
    assert_eq!(unsafe { SQLExecute(s) }, SqlReturn::SQL_STILL_EXECUTING, "emulated: the first call returns at once");
    // SAFETY: as above (repeat calls).
    let (rc, _) = rawh::poll(|| unsafe { SQLExecute(s) });
    rawh::ok_stmt(rc, s, "SQLExecute");
    // SAFETY: live statement.
    rawh::ok_stmt(unsafe { SQLFreeStmt(s, FreeStmtOption::SQL_RESET_PARAMS) }, s, "RESET_PARAMS");
    assert_eq!(rawh::query(dbc, &format!("SELECT txt FROM {table}")), vec![vec![Some("中 🎉 é".to_string())]]);

    let mut col = [0xFFFFu16; 32];
    let mut cind: SqlLen = 0;
    // SAFETY: live statement; the buffers outlive the fetch.
    rawh::ok_stmt(unsafe { SQLBindCol(s, 1, CDataType::SQL_C_WCHAR, col.as_mut_ptr().cast(), 64, &mut cind) }, s, "SQLBindCol");
    let sel = format!("SELECT txt, txt FROM {table}");
    // SAFETY: live statement; the arguments outlive every (repeat) call.
    let (rc, _) = rawh::poll(|| unsafe { SQLExecDirect(s, sel.as_ptr(), sel.len() as i32) });
    rawh::ok_stmt(rc, s, "SELECT");
    // SAFETY: live statement with a cursor and bound buffers.
    let (rc, _) = rawh::poll(|| unsafe { SQLFetch(s) });
    rawh::ok_stmt(rc, s, "SQLFetch");
    assert_eq!(cind, (text.len() * 2) as SqlLen);
    assert_eq!(&col[..=text.len()], &buf[..]);
    let mut g = [0u16; 32];
    let mut gind: SqlLen = 0;
    // SAFETY: live statement; buffer of the byte length passed.
    let (rc, _) = rawh::poll(|| unsafe { SQLGetData(s, 2, CDataType::SQL_C_WCHAR, g.as_mut_ptr().cast(), 64, &mut gind) });
    rawh::ok_stmt(rc, s, "SQLGetData");
    assert_eq!(gind, (text.len() * 2) as SqlLen);
    assert_eq!(&g[..=text.len()], &buf[..]);
    // SAFETY: live statement; the arguments outlive every (repeat) call.
    let (rc, _) = rawh::poll(|| unsafe { SQLCloseCursor(s) });
    rawh::ok_stmt(rc, s, "SQLCloseCursor");
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

/// One row of a row-wise bound rowset (SQL_ATTR_ROW_BIND_TYPE = its size).
#[repr(C)]
struct Row {
    txt: [u16; 40],
    ind: SqlLen,
    n: i32,
}

/// Row-wise binding of a rowset of 3 with a SQL_C_WCHAR column (decision #78): every row's
/// text and length land in the application's row structures.
fn bound_rows_row_wise(cs: &str) {
    let (env, dbc) = rawh::connect(cs);
    let table = common::unique_table("wchar_rows");
    let vals = values();
    insert_wide(dbc, &table, &vals);
    let s = rawh::stmt(dbc);
    const N: usize = 3;
    // SAFETY: all-zero bytes are a valid Row.
    let mut rows: Vec<Row> = (0..N).map(|_| unsafe { std::mem::zeroed() }).collect();
    let mut fetched: SqlULen = 0;
    assert!(rawh::set_stmt_attr(s, StmtAttr::SQL_ATTR_ROW_BIND_TYPE, std::mem::size_of::<Row>()).is_success());
    assert!(rawh::set_stmt_attr(s, StmtAttr::SQL_ATTR_ROW_ARRAY_SIZE, N).is_success());
    assert!(rawh::set_stmt_attr(s, StmtAttr::SQL_ATTR_ROWS_FETCHED_PTR, &mut fetched as *mut SqlULen as usize).is_success());
    let base = rows.as_mut_ptr();
    // SAFETY: live statement; row 0's fields, the rest reached by the row size; the rows
    // outlive every fetch.
    unsafe {
        let rc = SQLBindCol(s, 1, CDataType::SQL_C_WCHAR, (*base).txt.as_mut_ptr().cast(), 80, &mut (*base).ind);
        rawh::ok_stmt(rc, s, "SQLBindCol txt");
        let rc = SQLBindCol(s, 2, CDataType::SQL_C_SLONG, (&mut (*base).n as *mut i32).cast(), 4, std::ptr::null_mut());
        rawh::ok_stmt(rc, s, "SQLBindCol id");
    }
    let sql = format!("SELECT txt, id FROM {table} ORDER BY id");
    // SAFETY: live statement; the text outlives the call.
    rawh::ok_stmt(unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) }, s, "SELECT");
    let mut seen = 0;
    loop {
        for r in rows.iter_mut() {
            r.txt.fill(0xFFFF);
            r.ind = -77;
            r.n = -1;
        }
        // SAFETY: live statement with a cursor and bound rows.
        let rc = unsafe { SQLFetchScroll(s, FetchOrientation::SQL_FETCH_NEXT, 0) };
        if rc == SqlReturn::SQL_NO_DATA {
            break;
        }
        rawh::ok_stmt(rc, s, "SQLFetchScroll (row-wise)");
        for (r, row) in rows.iter().enumerate().take(fetched as usize) {
            let i = seen + r;
            assert_eq!(row.n, i as i32, "the narrow column of row {i}");
            match vals[i] {
                None => assert_eq!(row.ind, SQL_NULL_DATA, "row {i}"),
                Some(t) => {
                    let u = w(t);
                    assert_eq!(row.ind, (u.len() * 2) as SqlLen, "row {i} {t}");
                    assert_eq!(&row.txt[..=u.len()], &[&u[..], &[0]].concat()[..], "row {i} {t}");
                }
            }
        }
        for row in rows.iter().skip(fetched as usize) {
            assert_eq!(row.ind, -77, "rows past the rowset's end are untouched");
        }
        seen += fetched as usize;
    }
    assert_eq!(seen, vals.len());
    rawh::close(s);
    rawh::exec(s, &format!("DROP TABLE {table}"));
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

#[test]
fn pg_ansi_wchar_row_wise_rowset() {
    if let Some(cs) = pg_ansi("pg_ansi_wchar_row_wise_rowset") {
        bound_rows_row_wise(&cs);
    }
}

#[test]
fn sqlite_wchar_row_wise_rowset() {
    bound_rows_row_wise(&sqlite("wchar-rows"));
}

/// Decision #149: a row bind offset (SQL_ATTR_ROW_BIND_OFFSET_PTR) with a converted
/// SQL_C_WCHAR column, the application fetching each rowset of 2 into the next rows of
/// one array of 8 by moving the offset (what bind offsets are for). The DM keeps the
/// offset and applies it: its own buffers for the converted column, the application's
/// addresses plus the offset for the others (an integer column and its indicator). Every
/// row of every rowset stays where it landed: libsqlite3odbc's SQLBindCol writes 0
/// through the indicator pointer it is given, which used to clobber row 0's indicator when
/// the DM gave the binding back to the driver at the second fetch.
fn bound_rows_with_row_offset(cs: &str) {
    #[repr(C)]
    struct OffRow {
        txt: [u16; 40],
        ind: SqlLen,
        n: i32,
        n_ind: SqlLen,
    }
    let (env, dbc) = rawh::connect(cs);
    let table = common::unique_table("wchar_offset");
    let vals = values();
    insert_wide(dbc, &table, &vals);
    let s = rawh::stmt(dbc);
    // SAFETY: all-zero bytes are a valid OffRow.
    let mut rows: Vec<OffRow> = (0..8).map(|_| unsafe { std::mem::zeroed() }).collect();
    for r in rows.iter_mut() {
        r.txt.fill(0xFFFF);
        (r.ind, r.n, r.n_ind) = (-77, -1, -77);
    }
    let mut offset: SqlLen = 0;
    let mut fetched: SqlULen = 0;
    let size = std::mem::size_of::<OffRow>();
    assert!(rawh::set_stmt_attr(s, StmtAttr::SQL_ATTR_ROW_BIND_TYPE, size).is_success());
    assert!(rawh::set_stmt_attr(s, StmtAttr::SQL_ATTR_ROW_ARRAY_SIZE, 2).is_success());
    assert!(rawh::set_stmt_attr(s, StmtAttr::SQL_ATTR_ROWS_FETCHED_PTR, &mut fetched as *mut SqlULen as usize).is_success());
    let offset_ptr = &mut offset as *mut SqlLen;
    assert!(rawh::set_stmt_attr(s, StmtAttr::SQL_ATTR_ROW_BIND_OFFSET_PTR, offset_ptr as usize).is_success());
    let mut got = 0usize;
    // SAFETY: live statement; a pointer-sized out value.
    let rc = unsafe { SQLGetStmtAttr(s, StmtAttr::SQL_ATTR_ROW_BIND_OFFSET_PTR, (&mut got as *mut usize).cast(), 8, std::ptr::null_mut()) };
    assert!(rc.is_success());
    assert_eq!(got, offset_ptr as usize, "the application's pointer is answered back");
    let base = rows.as_mut_ptr();
    // SAFETY: live statement; row 0's fields, the others reached by the row size and the
    // offset; the rows outlive every fetch.
    unsafe {
        let rc = SQLBindCol(s, 1, CDataType::SQL_C_WCHAR, (*base).txt.as_mut_ptr().cast(), 80, &mut (*base).ind);
        rawh::ok_stmt(rc, s, "SQLBindCol txt");
        let rc = SQLBindCol(s, 2, CDataType::SQL_C_SLONG, (&mut (*base).n as *mut i32).cast(), 4, &mut (*base).n_ind);
        rawh::ok_stmt(rc, s, "SQLBindCol id");
    }
    let sql = format!("SELECT txt, id FROM {table} ORDER BY id");
    // SAFETY: live statement; the text outlives the call.
    rawh::ok_stmt(unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) }, s, "SELECT");
    let mut seen = 0;
    loop {
        // SAFETY: the application's own offset variable, read by the DM at the fetch.
        unsafe { offset_ptr.write((seen * size) as SqlLen) };
        // SAFETY: live statement with a cursor and bound rows.
        let rc = unsafe { SQLFetchScroll(s, FetchOrientation::SQL_FETCH_NEXT, 0) };
        if rc == SqlReturn::SQL_NO_DATA {
            break;
        }
        rawh::ok_stmt(rc, s, &format!("SQLFetchScroll at offset {seen} rows"));
        seen += fetched as usize;
        assert!(seen <= 8, "more rows than inserted");
    }
    assert_eq!(seen, vals.len());
    for (i, row) in rows.iter().enumerate().take(seen) {
        assert_eq!((row.n, row.n_ind), (i as i32, 4), "the integer column of row {i}, at its offset");
        match vals[i] {
            None => assert_eq!(row.ind, SQL_NULL_DATA, "row {i}"),
            Some(t) => {
                let u = w(t);
                assert_eq!(row.ind, (u.len() * 2) as SqlLen, "row {i} {t}: its indicator, after every later fetch");
                assert_eq!(&row.txt[..=u.len()], &[&u[..], &[0]].concat()[..], "row {i} {t}");
            }
        }
    }
    for row in rows.iter().skip(seen) {
        assert_eq!((row.ind, row.n, row.n_ind), (-77, -1, -77), "rows past the last rowset are untouched");
    }
    rawh::close(s);
    rawh::exec(s, &format!("DROP TABLE {table}"));
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

#[test]
fn pg_ansi_wchar_row_bind_offset_decision_149() {
    if let Some(cs) = pg_ansi("pg_ansi_wchar_row_bind_offset_decision_149") {
        bound_rows_with_row_offset(&cs);
    }
}

#[test]
fn sqlite_wchar_row_bind_offset_decision_149() {
    bound_rows_with_row_offset(&sqlite("wchar-offset"));
}

/// SQLExtendedFetch (ODBC 2) fills SQL_ROWSET_SIZE rows, not SQL_ATTR_ROW_ARRAY_SIZE: the
/// DM's buffers hold them all and every row is converted.
fn extended_fetch_rowset(cs: &str) {
    let (env, dbc) = rawh::connect(cs);
    let table = common::unique_table("wchar_ext");
    let vals = values();
    insert_wide(dbc, &table, &vals);
    let s = rawh::stmt(dbc);
    const N: usize = 4;
    const UNITS: usize = 16;
    let mut arr = vec![0xFFFFu16; N * UNITS];
    let mut inds = [-77 as SqlLen; N];
    assert!(rawh::set_stmt_attr(s, StmtAttr::SQL_ROWSET_SIZE, N).is_success());
    // SAFETY: live statement; the arrays outlive every fetch.
    let rc = unsafe { SQLBindCol(s, 1, CDataType::SQL_C_WCHAR, arr.as_mut_ptr().cast(), (UNITS * 2) as SqlLen, inds.as_mut_ptr()) };
    rawh::ok_stmt(rc, s, "SQLBindCol");
    select(s, &table);
    let mut count: SqlULen = 0;
    let mut status = [0u16; N];
    // SAFETY: live statement with a cursor; out pointers valid.
    let rc = unsafe { SQLExtendedFetch(s, FetchOrientation::SQL_FETCH_NEXT, 0, &mut count, status.as_mut_ptr()) };
    rawh::ok_stmt(rc, s, "SQLExtendedFetch");
    assert_eq!(count as usize, N);
    for (r, v) in vals.iter().take(N).enumerate() {
        match v {
            None => assert_eq!(inds[r], SQL_NULL_DATA),
            Some(t) => {
                let u = w(t);
                assert_eq!(inds[r], (u.len() * 2) as SqlLen, "row {r} {t}");
                assert_eq!(&arr[r * UNITS..r * UNITS + u.len()], &u[..], "row {r} {t}");
            }
        }
    }
    rawh::close(s);
    rawh::exec(s, &format!("DROP TABLE {table}"));
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

#[test]
fn pg_ansi_wchar_extended_fetch_rowset() {
    if let Some(cs) = pg_ansi("pg_ansi_wchar_extended_fetch_rowset") {
        extended_fetch_rowset(&cs);
    }
}

#[test]
fn sqlite_wchar_extended_fetch_rowset() {
    extended_fetch_rowset(&sqlite("wchar-ext"));
}

/// Data at execution with a SQL_C_WCHAR parameter: SQLParamData hands the application its
/// own ParameterValuePtr back (not the DM's buffer), and SQLPutData parts are converted,
/// a surrogate pair split across two parts included.
fn data_at_execution(cs: &str) {
    let (env, dbc) = rawh::connect(cs);
    let table = common::unique_table("wchar_dae");
    rawh::exec_on(dbc, &format!("CREATE TABLE {table} (txt varchar(200))"));
    let s = rawh::stmt(dbc);
    let sql = format!("INSERT INTO {table} (txt) VALUES (?)");
    let mut token = [0u8; 8];
    let mut ind = [SQL_DATA_AT_EXEC];
    // SAFETY: live statement; the token and indicator outlive the execution.
    let rc = unsafe {
        SQLBindParameter(
            s,
            1,
            ParamIoType::SQL_PARAM_INPUT,
            CDataType::SQL_C_WCHAR,
            SqlDataType::SQL_WVARCHAR,
            200,
            0,
            token.as_mut_ptr().cast(),
            0,
            ind.as_mut_ptr(),
        )
    };
    rawh::ok_stmt(rc, s, "bind DAE");
    // SAFETY: live statement; the text outlives the call.
    let rc = unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) };
    assert_eq!(rc, SqlReturn::SQL_NEED_DATA, "{}", rawh::diag_text(HandleType::SQL_HANDLE_STMT, s));
    let mut which: SqlPointer = std::ptr::null_mut();
    // SAFETY: live statement; valid out pointer.
    assert_eq!(unsafe { SQLParamData(s, &mut which) }, SqlReturn::SQL_NEED_DATA);
    assert_eq!(which, token.as_mut_ptr().cast(), "the application's own ParameterValuePtr");
    let text = w("a🎉b中é");
    let (p1, p2) = text.split_at(2); // "a" + the high surrogate | the low one + "b中é"
    for part in [p1, p2] {
        // SAFETY: live statement; the part outlives the call.
        let rc = unsafe { SQLPutData(s, part.as_ptr() as SqlPointer, (part.len() * 2) as SqlLen) };
        rawh::ok_stmt(rc, s, "SQLPutData");
    }
    // SAFETY: as above.
    let rc = unsafe { SQLParamData(s, &mut which) };
    rawh::ok_stmt(rc, s, "final SQLParamData");
    assert_eq!(rawh::query(dbc, &format!("SELECT txt FROM {table}")), vec![vec![Some("a🎉b中é".to_string())]]);
    rawh::free_stmt(s);
    rawh::exec_on(dbc, &format!("DROP TABLE {table}"));
    rawh::disconnect(env, dbc);
}

#[test]
fn pg_ansi_wchar_data_at_execution() {
    if let Some(cs) = pg_ansi("pg_ansi_wchar_data_at_execution") {
        data_at_execution(&cs);
    }
}

// Not on SQLite: libsqlite3odbc 0.9998 takes data at execution only with an announced
// length (SQL_LEN_DATA_AT_EXEC(n), see api_sqlite.rs), which the DM cannot give in UTF-8:
// such a parameter goes to it unconverted (decision #80; api_core.rs's data-at-execution
// test covers it).

/// Bad input at execution time (decision #78): a SQL_C_WCHAR parameter whose indicator is
/// no length and no special value is HY090 and does not reach the driver (nothing
/// inserted); with a valid indicator the same binding executes. (Row-wise parameter arrays,
/// HYC00 here before decision #142, are converted now: see
/// `*_wchar_row_wise_parameter_arrays_decision_142`.)
#[test]
fn sqlite_wchar_bad_parameter_input_is_refused_before_the_driver() {
    let cs = sqlite("wchar-bad");
    let (env, dbc) = rawh::connect(&cs);
    let table = common::unique_table("wchar_bad");
    rawh::exec_on(dbc, &format!("CREATE TABLE {table} (txt varchar(20))"));
    let s = rawh::stmt(dbc);
    let sql = format!("INSERT INTO {table} (txt) VALUES (?)");
    // SAFETY: live statement; the text outlives the call.
    rawh::ok_stmt(unsafe { SQLPrepare(s, sql.as_ptr(), sql.len() as i32) }, s, "SQLPrepare");
    let mut buf = [u16::from(b'x'); 32];
    let mut ind = [-7 as SqlLen, 2]; // -7: no length and no special value
                                     // SAFETY: live statement; the buffers outlive the executions.
    let rc = unsafe {
        SQLBindParameter(
            s,
            1,
            ParamIoType::SQL_PARAM_INPUT,
            CDataType::SQL_C_WCHAR,
            SqlDataType::SQL_WVARCHAR,
            20,
            0,
            buf.as_mut_ptr().cast(),
            32,
            ind.as_mut_ptr(),
        )
    };
    rawh::ok_stmt(rc, s, "bind");
    // SAFETY: live, prepared statement.
    assert_eq!(unsafe { SQLExecute(s) }, SqlReturn::SQL_ERROR);
    assert_eq!(states(s), vec!["HY090".to_string()]);
    assert_eq!(rawh::query_i64(dbc, &format!("SELECT count(*) FROM {table}")), 0, "nothing reached the driver");
    ind.copy_from_slice(&[2, 2]);
    // SAFETY: as above.
    rawh::ok_stmt(unsafe { SQLExecute(s) }, s, "SQLExecute");
    assert_eq!(rawh::query(dbc, &format!("SELECT txt FROM {table}")), vec![vec![Some("x".to_string())]]);
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

/// Decision #90: `SQL_ATTR_DM_WCHAR_CONVERSION` = 0 turns the DM's SQL_C_WCHAR conversion
/// off for statements allocated afterwards, so SQL_C_WCHAR reaches the ANSI driver itself
/// (what the conformance harness tests). With the conversion (default, and on a statement
/// allocated before the switch) a 3-byte SQL_C_WCHAR SQLGetData buffer is respected; with
/// it off, libsqlite3odbc writes its 2-byte NUL at offsets 2–3, one byte past the buffer
/// (its known finding, docs/conformance/README.md d).
#[test]
fn sqlite_wchar_conversion_can_be_turned_off_per_connection_decision_90() {
    let cs = sqlite("wchar_switch");
    let (env, dbc) = rawh::connect(&cs);
    let attr = ConnAttr(ext::SQL_ATTR_DM_WCHAR_CONVERSION);
    let get = || {
        let mut v: u32 = 7;
        // SAFETY: live dbc; 4-byte buffer.
        let rc = unsafe { SQLGetConnectAttr(dbc, attr, (&mut v as *mut u32).cast(), 4, std::ptr::null_mut()) };
        assert_eq!(rc, SqlReturn::SQL_SUCCESS);
        v
    };
    assert_eq!(get(), 1, "on by default");
    let before = rawh::stmt(dbc);
    // SAFETY: live dbc; integer attribute by value.
    assert_eq!(unsafe { SQLSetConnectAttr(dbc, attr, std::ptr::null_mut(), SQL_IS_UINTEGER) }, SqlReturn::SQL_SUCCESS);
    assert_eq!(get(), 0);
    let after = rawh::stmt(dbc);
    // Byte 3 of each 8-byte guarded buffer: the first byte past a 3-byte buffer.
    let past_end = |s: H| {
        let sql = "SELECT 'hello'";
        // SAFETY: live statement; the text outlives the call.
        rawh::ok_stmt(unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) }, s, "SELECT");
        // SAFETY: as above.
        rawh::ok_stmt(unsafe { SQLFetch(s) }, s, "SQLFetch");
        let mut buf = [0xA5u8; 8];
        let mut ind: SqlLen = 0;
        // SAFETY: live statement on a row; BufferLength 3 of an 8-byte buffer.
        let rc = unsafe { SQLGetData(s, 1, CDataType::SQL_C_WCHAR, buf.as_mut_ptr().cast(), 3, &mut ind) };
        assert_eq!(rc, SqlReturn::SQL_SUCCESS_WITH_INFO, "{:?}", states(s));
        assert_eq!(ind, 10, "5 UTF-16 units");
        rawh::close(s);
        buf[3]
    };
    assert_eq!(past_end(before), 0xA5, "the DM's conversion respects the buffer (statement allocated before the switch)");
    assert_ne!(past_end(after), 0xA5, "conversion off: the driver itself writes past the 3-byte buffer");
    rawh::free_stmt(before);
    rawh::free_stmt(after);
    rawh::disconnect(env, dbc);
}

// ---------------------------------------------------------------------------------------
// Pieces (decisions #140, #141): SQLGetData's truncated part fills the buffer but for the
// NUL, a surrogate pair on the boundary split across parts; SQLPutData's parts may end
// inside a code unit.
// ---------------------------------------------------------------------------------------

/// The values the pyodbc differential test broke on: a surrogate pair straddling pyodbc's
/// 4096-byte first piece, thousands of pairs, and a pair at the very start.
fn piece_values() -> Vec<String> {
    vec!["x".repeat(2046) + "😀tail", "x".repeat(2046) + "😀😀😀tail", "é世😀".repeat(1000), "😀a".to_string()]
}

/// SQLGetData (ODBC reference, SQLGetData "Retrieving Variable-Length Data in Parts"): a
/// truncated part is SQL_SUCCESS_WITH_INFO + 01004 and fills the buffer but for the NUL,
/// i.e. exactly BufferLength/2 − 1 code units (BufferLength rounded down to whole
/// characters), whether or not that cuts a surrogate pair; StrLen_or_Ind is the length
/// remaining before the call; the next part continues right after; the last part is
/// SQL_SUCCESS, then SQL_NO_DATA. An application that takes BufferLength/2 − 1 units of
/// every truncated part (pyodbc) gets the value back; every call with BufferLength ≥ 4
/// progresses. Before decision #140 a part stopped before a high surrogate: with
/// BufferLength 4 and "😀a" no part ever progressed (getdata_ind.py), and pyodbc read a NUL
/// into the value (r1_getdata_surrogate.py).
fn get_data_parts_fill_the_buffer(cs: &str) {
    let (env, dbc) = rawh::connect(cs);
    let s = rawh::stmt(dbc);
    for text in piece_values() {
        let full = w(&text);
        for buf_len in [4usize, 5, 6, 7, 10, 4096, 4097, 8191] {
            let sql = format!("SELECT '{text}'");
            // SAFETY: live statement; the text outlives the call.
            rawh::ok_stmt(unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) }, s, "SELECT literal");
            // SAFETY: as above.
            rawh::ok_stmt(unsafe { SQLFetch(s) }, s, "SQLFetch");
            let per_part = buf_len / 2 - 1;
            let mut got: Vec<u16> = Vec::new();
            let mut calls = 0usize;
            loop {
                let mut buf = vec![0xFFFFu16; buf_len / 2 + 1];
                let mut ind: SqlLen = 0;
                // SAFETY: live statement; the buffer holds at least buf_len bytes.
                let rc = unsafe { SQLGetData(s, 1, CDataType::SQL_C_WCHAR, buf.as_mut_ptr().cast(), buf_len as SqlLen, &mut ind) };
                if rc == SqlReturn::SQL_NO_DATA {
                    break;
                }
                calls += 1;
                assert!(
                    calls <= full.len() / per_part + 2,
                    "BufferLength {buf_len}: no progress after {calls} calls ({} of {} units)",
                    got.len(),
                    full.len()
                );
                let remaining = full.len() - got.len();
                assert_eq!(ind, (remaining * 2) as SqlLen, "BufferLength {buf_len}, part {calls}: StrLen_or_Ind is the bytes remaining");
                if remaining > per_part {
                    assert_eq!(rc, SqlReturn::SQL_SUCCESS_WITH_INFO, "BufferLength {buf_len}, part {calls}");
                    assert!(states(s).contains(&"01004".to_string()), "01004 on part {calls}: {:?}", states(s));
                    assert_eq!(buf[per_part], 0, "BufferLength {buf_len}, part {calls}: NUL right after BufferLength/2 - 1 units");
                    got.extend_from_slice(&buf[..per_part]);
                } else {
                    assert_eq!(rc, SqlReturn::SQL_SUCCESS, "BufferLength {buf_len}: last part");
                    assert_eq!(buf[remaining], 0, "BufferLength {buf_len}: last part NUL-terminated");
                    got.extend_from_slice(&buf[..remaining]);
                }
                assert_eq!(&got[..], &full[..got.len()], "BufferLength {buf_len}, part {calls}: the parts so far are the value's start");
            }
            assert_eq!(got, full, "BufferLength {buf_len}: the parts concatenate to the value");
            rawh::close(s);
        }
    }
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

#[test]
fn pg_ansi_wchar_get_data_parts_fill_the_buffer_decision_140() {
    if let Some(cs) = pg_ansi("pg_ansi_wchar_get_data_parts_fill_the_buffer_decision_140") {
        get_data_parts_fill_the_buffer(&cs);
    }
}

#[test]
fn sqlite_wchar_get_data_parts_fill_the_buffer_decision_140() {
    get_data_parts_fill_the_buffer(&sqlite("wchar-parts-fill"));
}

/// SQLGetData with BufferLength 2 or 3 (room for the NUL only): per SQLGetData, 01004, the
/// NUL, StrLen_or_Ind the whole remaining length, nothing consumed (the application must
/// grow its buffer); a following call with room continues from the same place.
fn get_data_nul_only_buffer(cs: &str) {
    let (env, dbc) = rawh::connect(cs);
    let s = rawh::stmt(dbc);
    let full = w("😀ab");
    let sql = "SELECT '😀ab'";
    // SAFETY: live statement; the text outlives the call.
    rawh::ok_stmt(unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) }, s, "SELECT literal");
    // SAFETY: as above.
    rawh::ok_stmt(unsafe { SQLFetch(s) }, s, "SQLFetch");
    let mut got = Vec::new();
    for (buf_len, expect) in [(2usize, 0usize), (3, 0), (4, 1), (2, 0), (3, 0), (4, 1), (8, 2)] {
        let mut buf = [0xFFFFu16; 4];
        let mut ind: SqlLen = 0;
        // SAFETY: live statement; the buffer holds 8 bytes.
        let rc = unsafe { SQLGetData(s, 1, CDataType::SQL_C_WCHAR, buf.as_mut_ptr().cast(), buf_len as SqlLen, &mut ind) };
        let remaining = full.len() - got.len();
        assert_eq!(ind, (remaining * 2) as SqlLen, "BufferLength {buf_len}: remaining length");
        assert_eq!(buf[expect], 0, "BufferLength {buf_len}: NUL after {expect} units");
        got.extend_from_slice(&buf[..expect]);
        if got.len() < full.len() {
            assert_eq!(rc, SqlReturn::SQL_SUCCESS_WITH_INFO, "BufferLength {buf_len}");
            assert!(states(s).contains(&"01004".to_string()), "{:?}", states(s));
        } else {
            assert_eq!(rc, SqlReturn::SQL_SUCCESS, "BufferLength {buf_len}: last part");
        }
    }
    assert_eq!(got, full);
    // SAFETY: live statement.
    let rc = unsafe { SQLGetData(s, 1, CDataType::SQL_C_WCHAR, std::ptr::null_mut(), 0, std::ptr::null_mut()) };
    assert_eq!(rc, SqlReturn::SQL_NO_DATA);
    rawh::close(s);
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

#[test]
fn pg_ansi_wchar_get_data_nul_only_buffer_decision_140() {
    if let Some(cs) = pg_ansi("pg_ansi_wchar_get_data_nul_only_buffer_decision_140") {
        get_data_nul_only_buffer(&cs);
    }
}

#[test]
fn sqlite_wchar_get_data_nul_only_buffer_decision_140() {
    get_data_nul_only_buffer(&sqlite("wchar-nul-only"));
}

/// Data at execution in parts of `sizes` bytes (cycled) of the UTF-16 of `text`; returns
/// the final SQLParamData's code and the statement (still allocated) with the table.
fn put_in_pieces(dbc: H, table: &str, text: &[u16], sizes: &[usize]) -> (SqlReturn, H) {
    let s = rawh::stmt(dbc);
    let sql = format!("INSERT INTO {table} (txt) VALUES (?)");
    let mut token = [0u8; 8];
    let mut ind = [SQL_DATA_AT_EXEC];
    // SAFETY: live statement; the token and indicator outlive the execution.
    let rc = unsafe {
        SQLBindParameter(
            s,
            1,
            ParamIoType::SQL_PARAM_INPUT,
            CDataType::SQL_C_WCHAR,
            SqlDataType::SQL_WLONGVARCHAR,
            100_000,
            0,
            token.as_mut_ptr().cast(),
            0,
            ind.as_mut_ptr(),
        )
    };
    rawh::ok_stmt(rc, s, "bind DAE");
    // SAFETY: live statement; the text outlives the call.
    let rc = unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) };
    assert_eq!(rc, SqlReturn::SQL_NEED_DATA, "{}", rawh::diag_text(HandleType::SQL_HANDLE_STMT, s));
    let mut which: SqlPointer = std::ptr::null_mut();
    // SAFETY: live statement; valid out pointer.
    assert_eq!(unsafe { SQLParamData(s, &mut which) }, SqlReturn::SQL_NEED_DATA);
    // SAFETY: the text's storage, read as bytes.
    let bytes = unsafe { std::slice::from_raw_parts(text.as_ptr().cast::<u8>(), text.len() * 2) };
    let mut at = 0;
    for &n in sizes.iter().cycle() {
        if at >= bytes.len() {
            break;
        }
        let part = &bytes[at..(at + n).min(bytes.len())];
        at += part.len();
        // A copy at an odd address half the time: the DM reads parts byte-wise.
        let mut store = vec![0u8; part.len() + 1];
        let off = at % 2;
        store[off..off + part.len()].copy_from_slice(part);
        // SAFETY: live statement; the part outlives the call.
        let rc = unsafe { SQLPutData(s, store[off..].as_mut_ptr().cast(), part.len() as SqlLen) };
        rawh::ok_stmt(rc, s, &format!("SQLPutData of {} bytes", part.len()));
    }
    // SAFETY: as above.
    let rc = unsafe { SQLParamData(s, &mut which) };
    (rc, s)
}

/// SQLPutData (ODBC reference, SQLPutData "Sending Data in Parts"): character data may be
/// sent in parts of any length; for SQL_C_WCHAR a part may end inside a code unit (odd
/// StrLen_or_Ind) or between the halves of a surrogate pair. The DM keeps the odd byte
/// for the next part (decision #141). Before, pyodbc's 1001-byte parts (r6) stored 2997
/// characters ending in '砀砀砀'. Parts of 1000, 1001, 1002, 1 byte, odd and even splits
/// of a surrogate pair; the value stored is the value sent.
#[test]
fn pg_ansi_wchar_put_data_parts_of_any_length_decision_141() {
    let Some(cs) = pg_ansi("pg_ansi_wchar_put_data_parts_of_any_length_decision_141") else { return };
    let (env, dbc) = rawh::connect(&cs);
    let table = common::unique_table("wchar_pieces");
    rawh::exec_on(dbc, &format!("CREATE TABLE {table} (txt text)"));
    let cases: Vec<(String, Vec<usize>)> = vec![
        ("x".repeat(3000), vec![1000]),
        ("x".repeat(3000), vec![1001]),
        ("x".repeat(3000), vec![1002]),
        ("é世😀b".repeat(400), vec![1001]),
        ("é世😀b".repeat(400), vec![1000, 3, 1002, 5]),
        ("a😀b中é".to_string(), vec![1]),
        // "ab😀c": bytes 4–5 are the high surrogate, 6–7 the low one.
        ("ab😀c".to_string(), vec![5, 5]),
        ("ab😀c".to_string(), vec![6, 4]),
        ("ab😀c".to_string(), vec![7, 3]),
        ("ab😀c".to_string(), vec![3, 1, 1, 1, 1, 3]),
    ];
    for (text, sizes) in &cases {
        rawh::exec_on(dbc, &format!("DELETE FROM {table}"));
        let (rc, s) = put_in_pieces(dbc, &table, &w(text), sizes);
        rawh::ok_stmt(rc, s, &format!("final SQLParamData ({sizes:?})"));
        rawh::free_stmt(s);
        let got = rawh::query(dbc, &format!("SELECT txt FROM {table}"));
        let got = got[0][0].clone().unwrap();
        assert!(
            got == *text,
            "parts {sizes:?}: {} chars stored, {} sent; tail {:?}",
            got.chars().count(),
            text.chars().count(),
            got.chars().rev().take(5).collect::<String>()
        );
    }
    rawh::exec_on(dbc, &format!("DROP TABLE {table}"));
    rawh::disconnect(env, dbc);
}

/// The end of data at execution (decision #141): parts that end in half a code unit (an
/// odd total) make the closing SQLParamData SQL_ERROR + 22026 (listed for SQLParamData:
/// "String data, length mismatch"); nothing is stored, and the statement is back where it
/// was before the execution (§4.5: SQLParamData's error leaves S8–S10, the driver's
/// sequence is cancelled), so it executes again. A trailing lone high surrogate arrives as
/// U+FFFD, as a lone surrogate converts anywhere else.
#[test]
fn pg_ansi_wchar_put_data_dangling_byte_is_22026_decision_141() {
    let Some(cs) = pg_ansi("pg_ansi_wchar_put_data_dangling_byte_is_22026_decision_141") else { return };
    let (env, dbc) = rawh::connect(&cs);
    let table = common::unique_table("wchar_dangling");
    rawh::exec_on(dbc, &format!("CREATE TABLE {table} (txt text)"));
    let text = w("abc");
    // An odd total: the closing SQLParamData fails with 22026; an even one after works.
    let s = rawh::stmt(dbc);
    let sql = format!("INSERT INTO {table} (txt) VALUES (?)");
    let mut token = [0u8; 8];
    let mut ind = [SQL_DATA_AT_EXEC];
    // SAFETY: live statement; the token and indicator outlive the executions.
    let rc = unsafe {
        SQLBindParameter(
            s,
            1,
            ParamIoType::SQL_PARAM_INPUT,
            CDataType::SQL_C_WCHAR,
            SqlDataType::SQL_WVARCHAR,
            100,
            0,
            token.as_mut_ptr().cast(),
            0,
            ind.as_mut_ptr(),
        )
    };
    rawh::ok_stmt(rc, s, "bind DAE");
    rawh::exec_on(dbc, &format!("DELETE FROM {table}"));
    let mut which: SqlPointer = std::ptr::null_mut();
    for (parts, expect) in [(vec![5usize], None), (vec![6], Some("abc")), (vec![3, 2], None), (vec![2, 3, 1], Some("abc"))] {
        // SAFETY: live statement; the text outlives the call.
        let rc = unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) };
        assert_eq!(rc, SqlReturn::SQL_NEED_DATA, "{}", rawh::diag_text(HandleType::SQL_HANDLE_STMT, s));
        // SAFETY: live statement; valid out pointer.
        assert_eq!(unsafe { SQLParamData(s, &mut which) }, SqlReturn::SQL_NEED_DATA);
        let mut at = 0;
        for n in &parts {
            // SAFETY: live statement; the part lies inside `text`.
            let rc = unsafe { SQLPutData(s, text.as_ptr().cast::<u8>().add(at) as SqlPointer, *n as SqlLen) };
            rawh::ok_stmt(rc, s, "SQLPutData");
            at += n;
        }
        // SAFETY: as above.
        let rc = unsafe { SQLParamData(s, &mut which) };
        match expect {
            None => {
                assert_eq!(rc, SqlReturn::SQL_ERROR, "parts {parts:?}: an odd total");
                assert_eq!(states(s), vec!["22026".to_string()], "parts {parts:?}");
                assert_eq!(rawh::query_i64(dbc, &format!("SELECT count(*) FROM {table}")), 0, "nothing stored");
            }
            Some(v) => {
                rawh::ok_stmt(rc, s, &format!("parts {parts:?}"));
                assert_eq!(rawh::query(dbc, &format!("SELECT txt FROM {table}")), vec![vec![Some(v.to_string())]]);
                rawh::exec_on(dbc, &format!("DELETE FROM {table}"));
            }
        }
    }
    rawh::free_stmt(s);
    // A lone high surrogate at the very end.
    let (rc, s) = put_in_pieces(dbc, &table, &[u16::from(b'a'), 0xD83D], &[4]);
    rawh::ok_stmt(rc, s, "final SQLParamData (lone high surrogate)");
    rawh::free_stmt(s);
    assert_eq!(rawh::query(dbc, &format!("SELECT txt FROM {table}")), vec![vec![Some("a\u{FFFD}".to_string())]]);
    rawh::exec_on(dbc, &format!("DROP TABLE {table}"));
    rawh::disconnect(env, dbc);
}

/// One row of the application's row-wise parameter array (SQL_ATTR_PARAM_BIND_TYPE = its
/// size): an integer, a SQL_C_WCHAR text and their indicators.
#[repr(C)]
#[derive(Clone, Copy)]
struct ParamRow {
    id: i32,
    id_ind: SqlLen,
    txt: [u16; 32],
    txt_ind: SqlLen,
}

/// Binds `ParamRow`'s two fields of the row at address `base` as parameters 1 and 2,
/// row-wise. A small `base` binds addresses near null, as pyodbc's `fast_executemany`
/// does (the real address then comes from SQL_ATTR_PARAM_BIND_OFFSET_PTR).
fn bind_param_rows(s: H, base: usize, sets: usize) {
    assert!(rawh::set_stmt_attr(s, StmtAttr::SQL_ATTR_PARAM_BIND_TYPE, std::mem::size_of::<ParamRow>()).is_success());
    assert!(rawh::set_stmt_attr(s, StmtAttr::SQL_ATTR_PARAMSET_SIZE, sets).is_success());
    let at = |off: usize| (base + off) as SqlPointer;
    // SAFETY: live statement; the addresses (with the bind offset in effect at each
    // execution) name rows the caller keeps alive for every parameter set until the
    // executions are done.
    unsafe {
        let rc = SQLBindParameter(
            s,
            1,
            ParamIoType::SQL_PARAM_INPUT,
            CDataType::SQL_C_SLONG,
            SqlDataType::SQL_INTEGER,
            0,
            0,
            at(std::mem::offset_of!(ParamRow, id)),
            0,
            at(std::mem::offset_of!(ParamRow, id_ind)).cast(),
        );
        rawh::ok_stmt(rc, s, "bind id (row-wise)");
        let rc = SQLBindParameter(
            s,
            2,
            ParamIoType::SQL_PARAM_INPUT,
            CDataType::SQL_C_WCHAR,
            SqlDataType::SQL_WVARCHAR,
            100,
            0,
            at(std::mem::offset_of!(ParamRow, txt)),
            64,
            at(std::mem::offset_of!(ParamRow, txt_ind)).cast(),
        );
        rawh::ok_stmt(rc, s, "bind txt (SQL_C_WCHAR, row-wise)");
    }
}

/// A row: `txt` None is NULL; `nts` sends SQL_NTS, else the length in bytes of UTF-16.
fn param_row(id: i32, txt: Option<&str>, nts: bool) -> ParamRow {
    let mut r = ParamRow { id, id_ind: 0, txt: [0; 32], txt_ind: SQL_NULL_DATA };
    if let Some(t) = txt {
        let u = w(t);
        r.txt[..u.len()].copy_from_slice(&u);
        r.txt_ind = if nts { SQL_NTS as SqlLen } else { (u.len() * 2) as SqlLen };
    }
    r
}

/// Decision #142: SQL_C_WCHAR parameters in row-wise parameter arrays, with and without a
/// bind offset (SQL_ATTR_PARAM_BIND_OFFSET_PTR), are converted for an ANSI driver. pyodbc's
/// `fast_executemany` binds so: offsets from null, its buffer's address as the bind
/// offset. Every parameter set arrives whole (non-ASCII, outside the BMP, NULL, empty,
/// SQL_NTS and lengths); a value whose UTF-8 does not fit in one row size is refused with
/// 22001 before anything reaches the driver. Before, every such execution was HYC00.
#[test]
fn pg_ansi_wchar_row_wise_parameter_arrays_decision_142() {
    if let Some(cs) = pg_ansi("pg_ansi_wchar_row_wise_parameter_arrays_decision_142") {
        row_wise_params(&cs, true);
    }
}

/// As above on libsqlite3odbc, whose bind offset the DM applies itself (decision #143).
#[test]
fn sqlite_wchar_row_wise_parameter_arrays_decision_142() {
    row_wise_params(&sqlite("wchar-param-rows"), true);
}

/// Decision #143: libsqlite3odbc accepts SQL_ATTR_PARAM_BIND_OFFSET_PTR but never adds the
/// offset when it reads parameters, so pyodbc's `fast_executemany` binding (addresses as
/// offsets from null, the buffer's address as the bind offset) made it read near null:
/// SIGSEGV, under unixODBC too. The DM keeps the attribute (SQLGetStmtAttr answers it) and
/// binds the parameters again at their address plus the offset at each execution; a null
/// indicator stays null; moving the offset moves the rows read; unsetting it brings the
/// plain addresses back.
#[test]
fn sqlite_param_bind_offset_is_applied_by_the_dm_decision_143() {
    #[repr(C)]
    struct IntRow {
        a: i32,
        a_ind: SqlLen,
        b: i32,
    }
    let cs = sqlite("param-offset");
    let (env, dbc) = rawh::connect(&cs);
    rawh::exec_on(dbc, "CREATE TABLE t (a integer, b integer)");
    let s = rawh::stmt(dbc);
    let sql = "INSERT INTO t (a, b) VALUES (?, ?)";
    // SAFETY: live statement; the text outlives the call.
    rawh::ok_stmt(unsafe { SQLPrepare(s, sql.as_ptr(), sql.len() as i32) }, s, "SQLPrepare");
    let mut rows: Vec<IntRow> = (0..6).map(|i| IntRow { a: i, a_ind: 4, b: i * 10 }).collect();
    let row = std::mem::size_of::<IntRow>();
    // Addresses near null (8 + the field's offset; a null address would stay null).
    let mut offset = rows.as_mut_ptr() as SqlLen - 8;
    assert!(rawh::set_stmt_attr(s, StmtAttr::SQL_ATTR_PARAM_BIND_TYPE, row).is_success());
    assert!(rawh::set_stmt_attr(s, StmtAttr::SQL_ATTR_PARAMSET_SIZE, 3).is_success());
    // SAFETY: live statement; `offset` outlives the executions.
    let rc = unsafe { SQLSetStmtAttr(s, StmtAttr::SQL_ATTR_PARAM_BIND_OFFSET_PTR, (&mut offset as *mut SqlLen).cast(), 0) };
    rawh::ok_stmt(rc, s, "SQL_ATTR_PARAM_BIND_OFFSET_PTR");
    let mut got: usize = 0;
    // SAFETY: live statement; a pointer-sized out buffer.
    let rc =
        unsafe { SQLGetStmtAttr(s, StmtAttr::SQL_ATTR_PARAM_BIND_OFFSET_PTR, (&mut got as *mut usize).cast(), 8, std::ptr::null_mut()) };
    rawh::ok_stmt(rc, s, "SQLGetStmtAttr");
    assert_eq!(got, &offset as *const SqlLen as usize, "the application's pointer is answered");
    // SAFETY: live statement; addresses relative to the bind offset (pyodbc's binding):
    // the rows outlive the executions; b has no indicator (null stays null).
    unsafe {
        let rc = SQLBindParameter(
            s,
            1,
            ParamIoType::SQL_PARAM_INPUT,
            CDataType::SQL_C_SLONG,
            SqlDataType::SQL_INTEGER,
            0,
            0,
            (8 + std::mem::offset_of!(IntRow, a)) as SqlPointer,
            0,
            (8 + std::mem::offset_of!(IntRow, a_ind)) as *mut SqlLen,
        );
        rawh::ok_stmt(rc, s, "bind a");
        let rc = SQLBindParameter(
            s,
            2,
            ParamIoType::SQL_PARAM_INPUT,
            CDataType::SQL_C_SLONG,
            SqlDataType::SQL_INTEGER,
            0,
            0,
            (8 + std::mem::offset_of!(IntRow, b)) as SqlPointer,
            0,
            std::ptr::null_mut(),
        );
        rawh::ok_stmt(rc, s, "bind b");
    }
    // SAFETY: live, prepared statement; the rows and the offset outlive the execution.
    rawh::ok_stmt(unsafe { SQLExecute(s) }, s, "SQLExecute (rows 0..3 through the offset)");
    // SAFETY: `offset` is read at the execution through the attribute's pointer.
    unsafe { std::ptr::write_volatile(&mut offset, rows.as_mut_ptr().wrapping_add(3) as SqlLen - 8) };
    // SAFETY: as above.
    rawh::ok_stmt(unsafe { SQLExecute(s) }, s, "SQLExecute (rows 3..6 through the offset)");
    // Unset: the plain addresses again.
    // SAFETY: live statement; a null pointer unsets the attribute.
    let rc = unsafe { SQLSetStmtAttr(s, StmtAttr::SQL_ATTR_PARAM_BIND_OFFSET_PTR, std::ptr::null_mut(), 0) };
    rawh::ok_stmt(rc, s, "unset");
    let mut one = IntRow { a: 100, a_ind: 4, b: 1000 };
    assert!(rawh::set_stmt_attr(s, StmtAttr::SQL_ATTR_PARAMSET_SIZE, 1).is_success());
    // SAFETY: live statement; `one` outlives the execution.
    unsafe {
        let rc = SQLBindParameter(
            s,
            1,
            ParamIoType::SQL_PARAM_INPUT,
            CDataType::SQL_C_SLONG,
            SqlDataType::SQL_INTEGER,
            0,
            0,
            (&mut one.a as *mut i32).cast(),
            0,
            &mut one.a_ind,
        );
        rawh::ok_stmt(rc, s, "bind a (plain)");
        let rc = SQLBindParameter(
            s,
            2,
            ParamIoType::SQL_PARAM_INPUT,
            CDataType::SQL_C_SLONG,
            SqlDataType::SQL_INTEGER,
            0,
            0,
            (&mut one.b as *mut i32).cast(),
            0,
            std::ptr::null_mut(),
        );
        rawh::ok_stmt(rc, s, "bind b (plain)");
        rawh::ok_stmt(SQLExecute(s), s, "SQLExecute (no offset)");
    }
    let want: Vec<Vec<Option<String>>> = (0..6).chain([100]).map(|i| vec![Some(i.to_string()), Some((i * 10).to_string())]).collect();
    assert_eq!(rawh::query(dbc, "SELECT a, b FROM t ORDER BY a"), want);
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

/// Row-wise parameter arrays with a SQL_C_WCHAR text (see the tests above); `offsets`:
/// also through a bind offset, and bound as pyodbc binds.
fn row_wise_params(cs: &str, offsets: bool) {
    let (env, dbc) = rawh::connect(cs);
    let table = common::unique_table("wchar_rows");
    rawh::exec_on(dbc, &format!("CREATE TABLE {table} (id integer, txt varchar(100))"));
    let s = rawh::stmt(dbc);
    let sql = format!("INSERT INTO {table} (id, txt) VALUES (?, ?)");
    // SAFETY: live statement; the text outlives the call.
    rawh::ok_stmt(unsafe { SQLPrepare(s, sql.as_ptr(), sql.len() as i32) }, s, "SQLPrepare");
    let texts: [Option<&str>; 7] =
        [Some("é"), Some("中文中文中文中文中文中文中文中文"), Some("🎉 party 🎉"), None, Some(""), Some("plain ascii"), Some("ö")];
    // Rows 0..7 at the bound addresses; 7..14 with a bind offset of 7 rows; 14..21 bound
    // as pyodbc binds: offsets from null, the rows' address as the bind offset.
    let mut rows: Vec<ParamRow> = (0..21).map(|i| param_row(i, texts[i as usize % 7], i % 2 == 0)).collect();
    let base = rows.as_mut_ptr() as usize;
    let row = std::mem::size_of::<ParamRow>();
    bind_param_rows(s, base, 7);
    // SAFETY: live, prepared statement; the rows outlive the execution.
    rawh::ok_stmt(unsafe { SQLExecute(s) }, s, "SQLExecute (row-wise)");
    let mut offset = (7 * row) as SqlLen;
    let sets = if offsets { 21 } else { 7 };
    if offsets {
        // SAFETY: live statement; `offset` outlives the executions (read at each one).
        let rc = unsafe { SQLSetStmtAttr(s, StmtAttr::SQL_ATTR_PARAM_BIND_OFFSET_PTR, (&mut offset as *mut SqlLen).cast(), 0) };
        rawh::ok_stmt(rc, s, "SQL_ATTR_PARAM_BIND_OFFSET_PTR");
        // SAFETY: as above.
        rawh::ok_stmt(unsafe { SQLExecute(s) }, s, "SQLExecute (row-wise, bind offset)");
        // Near null, not at null: a null address stays null (no offset is added to it).
        bind_param_rows(s, 8, 7);
        // SAFETY: `offset` is read by the execution through the attribute's pointer.
        unsafe { std::ptr::write_volatile(&mut offset, (base + 14 * row - 8) as SqlLen) };
        // SAFETY: as above.
        rawh::ok_stmt(unsafe { SQLExecute(s) }, s, "SQLExecute (pyodbc's binding: offsets from null)");
    }
    let want: Vec<Vec<Option<String>>> = (0..sets).map(|i| vec![Some(i.to_string()), texts[i % 7].map(str::to_string)]).collect();
    assert_eq!(rawh::query(dbc, &format!("SELECT id, txt FROM {table} ORDER BY id")), want);

    // 32 CJK code units in one row: 96 bytes of UTF-8, more than the row size (88).
    let big = "中".repeat(32);
    let mut two = [param_row(1000, Some("ok"), true), param_row(1001, None, true)];
    let u = w(&big);
    two[1].txt.copy_from_slice(&u);
    two[1].txt_ind = (u.len() * 2) as SqlLen;
    assert!(big.len() > std::mem::size_of::<ParamRow>(), "the test needs a value longer than a row");
    // SAFETY: live statement; a null offset pointer unsets it.
    let rc = unsafe { SQLSetStmtAttr(s, StmtAttr::SQL_ATTR_PARAM_BIND_OFFSET_PTR, std::ptr::null_mut(), 0) };
    rawh::ok_stmt(rc, s, "unset the bind offset");
    bind_param_rows(s, two.as_mut_ptr() as usize, 2);
    // SAFETY: live, prepared statement; `two` outlives the execution.
    assert_eq!(unsafe { SQLExecute(s) }, SqlReturn::SQL_ERROR);
    assert_eq!(states(s), vec!["22001".to_string()], "{}", rawh::diag_text(HandleType::SQL_HANDLE_STMT, s));
    assert_eq!(rawh::query_i64(dbc, &format!("SELECT count(*) FROM {table}")), sets as i64, "nothing reached the driver");
    // Shorter, it goes.
    let u = w(&"中".repeat(20));
    two[1].txt = [0; 32];
    two[1].txt[..u.len()].copy_from_slice(&u);
    two[1].txt_ind = (u.len() * 2) as SqlLen;
    bind_param_rows(s, two.as_mut_ptr() as usize, 2);
    // SAFETY: as above.
    rawh::ok_stmt(unsafe { SQLExecute(s) }, s, "SQLExecute (60 bytes of UTF-8 in a row)");
    assert_eq!(
        rawh::query(dbc, &format!("SELECT txt FROM {table} WHERE id >= 1000 ORDER BY id")),
        vec![vec![Some("ok".to_string())], vec![Some("中".repeat(20))]]
    );
    rawh::free_stmt(s);
    rawh::exec_on(dbc, &format!("DROP TABLE {table}"));
    rawh::disconnect(env, dbc);
}
