//! Result-set description, catalog functions, parameters and data-at-execution through
//! `odbc_dm::raw`, against real drivers loaded by absolute path:
//! - Debian's SQLite ODBC driver (narrow only): the W forms exercise the DM's W→A
//!   conversion (lengths in characters for the application, bytes for the driver);
//! - psqlODBC (psqlodbcw.so) on 127.0.0.1:5432 (unreachable: a failure in the test command,
//!   a counted skip outside it, `common::skip`).
//!
//! DM-detected errors (the parenthesised entries of Appendix B and the "(DM)" SQLSTATEs of
//! the function pages) are named after §4.1.

use odbc_dm::abi::*;
use odbc_dm::raw::*;

mod common;
use std::path::PathBuf;
use std::ptr::{null, null_mut};

const SQLITE: &str = "/usr/lib/x86_64-linux-gnu/odbc/libsqlite3odbc.so";
const PSQL: &str = "/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so";
/// The non-ASCII column name: 2-, 3- and 4-byte UTF-8; 1, 1 and 2 UTF-16 units.
const COL: &str = "é中😀";

fn w(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

fn wstr(b: &[u16]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf16_lossy(&b[..end])
}

fn nstr(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// All diagnostic records of a handle: (SQLSTATE, message).
fn diags(ht: HandleType, h: SqlHandle) -> Vec<(String, String)> {
    let mut v = Vec::new();
    for i in 1..20 {
        let mut st = [0u8; 6];
        let mut native = 0;
        let mut msg = [0u8; 1024];
        let mut len = 0i16;
        // SAFETY: valid buffers of the sizes passed.
        let rc = unsafe { SQLGetDiagRec(ht, h, i, st.as_mut_ptr(), &mut native, msg.as_mut_ptr(), 1024, &mut len) };
        if !rc.is_success() {
            break;
        }
        v.push((nstr(&st), nstr(&msg)));
    }
    v
}

fn states(h: SqlHandle) -> Vec<String> {
    diags(HandleType::SQL_HANDLE_STMT, h).into_iter().map(|d| d.0).collect()
}

fn first_state(h: SqlHandle) -> String {
    states(h).into_iter().next().unwrap_or_default()
}

struct Conn {
    env: SqlHandle,
    dbc: SqlHandle,
    name: &'static str,
    /// The driver exports only the ANSI entry points: every W call is converted by the DM.
    narrow_only: bool,
}

impl Drop for Conn {
    fn drop(&mut self) {
        // SAFETY: handles allocated by `connect`.
        unsafe {
            SQLDisconnect(self.dbc);
            SQLFreeHandle(HandleType::SQL_HANDLE_DBC, self.dbc);
            SQLFreeHandle(HandleType::SQL_HANDLE_ENV, self.env);
        }
    }
}

fn connect(name: &'static str, cs: &str, narrow_only: bool) -> Conn {
    let mut env = null_mut();
    let mut dbc = null_mut();
    // SAFETY: valid out pointers; the connection string outlives the call.
    unsafe {
        assert_eq!(SQLAllocHandle(HandleType::SQL_HANDLE_ENV, null_mut(), &mut env), SqlReturn::SQL_SUCCESS);
        assert_eq!(SQLSetEnvAttr(env, EnvAttr::SQL_ATTR_ODBC_VERSION, SQL_OV_ODBC3 as usize as SqlPointer, 0), SqlReturn::SQL_SUCCESS);
        assert_eq!(SQLAllocHandle(HandleType::SQL_HANDLE_DBC, env, &mut dbc), SqlReturn::SQL_SUCCESS);
        let rc = SQLDriverConnect(
            dbc,
            null_mut(),
            cs.as_ptr(),
            cs.len() as i16,
            null_mut(),
            0,
            null_mut(),
            DriverCompletion::SQL_DRIVER_NOPROMPT,
        );
        assert!(rc.is_success(), "{name} connect: {rc:?} {:?}", diags(HandleType::SQL_HANDLE_DBC, dbc));
    }
    Conn { env, dbc, name, narrow_only }
}

fn stmt(c: &Conn) -> SqlHandle {
    let mut s = null_mut();
    // SAFETY: live dbc, valid out pointer.
    assert_eq!(unsafe { SQLAllocHandle(HandleType::SQL_HANDLE_STMT, c.dbc, &mut s) }, SqlReturn::SQL_SUCCESS);
    s
}

fn exec(s: SqlHandle, sql: &str) -> SqlReturn {
    // SAFETY: live statement; the text outlives the call.
    unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) }
}

fn exec_ok(s: SqlHandle, sql: &str) {
    let rc = exec(s, sql);
    assert!(rc.is_success() || rc == SqlReturn::SQL_NO_DATA, "{sql}: {rc:?} {:?}", diags(HandleType::SQL_HANDLE_STMT, s));
}

fn close(s: SqlHandle) {
    // SAFETY: live statement.
    unsafe { SQLFreeStmt(s, FreeStmtOption::SQL_CLOSE) };
}

fn get_text(s: SqlHandle, col: u16) -> Option<String> {
    let mut buf = [0u8; 512];
    let mut ind: SqlLen = 0;
    // SAFETY: live statement; buffer of the size passed.
    let rc = unsafe { SQLGetData(s, col, CDataType::SQL_C_CHAR, buf.as_mut_ptr().cast(), buf.len() as isize, &mut ind) };
    assert!(rc.is_success(), "SQLGetData({col}): {rc:?} {:?}", states(s));
    (ind != SQL_NULL_DATA).then(|| nstr(&buf))
}

/// Fetches every row, returning column `col` of each; closes the cursor.
fn fetch_col(s: SqlHandle, col: u16) -> Vec<Option<String>> {
    let mut v = Vec::new();
    loop {
        // SAFETY: live statement.
        let rc = unsafe { SQLFetch(s) };
        if rc == SqlReturn::SQL_NO_DATA {
            break;
        }
        assert!(rc.is_success(), "SQLFetch: {rc:?} {:?}", states(s));
        v.push(get_text(s, col));
    }
    // §4.5: after fetching to the end the statement is in S6; close it before reuse.
    // SAFETY: live statement.
    assert!(unsafe { SQLCloseCursor(s) }.is_success());
    v
}

/// Creates the test table `rrc` with the non-ASCII key column and one text column.
fn create_table(s: SqlHandle) {
    let _ = exec(s, "DROP TABLE rrc");
    exec_ok(s, &format!("CREATE TABLE rrc (\"{COL}\" INTEGER PRIMARY KEY, name VARCHAR(100))"));
}

fn describe_col(c: &Conn, s: SqlHandle) {
    exec_ok(s, &format!("SELECT \"{COL}\", name FROM rrc"));
    // SAFETY (whole block): live statement; every buffer is valid for the length passed.
    unsafe {
        // W form: length in characters.
        let mut name = [0u16; 32];
        let (mut len, mut ty, mut size, mut digits, mut nullable) = (0i16, SqlDataType(0), 0usize, 0i16, Nullability(0));
        let rc = SQLDescribeColW(s, 1, name.as_mut_ptr(), 32, &mut len, &mut ty, &mut size, &mut digits, &mut nullable);
        assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{}: DescribeColW {:?}", c.name, states(s));
        assert_eq!(wstr(&name), COL, "{}", c.name);
        assert_eq!(len, 4, "{}: length in UTF-16 units", c.name);

        // Too small: 3 units hold "é中" + NUL (the surrogate pair is never split).
        let mut small = [0xFFFFu16; 3];
        let rc = SQLDescribeColW(s, 1, small.as_mut_ptr(), 3, &mut len, &mut ty, &mut size, &mut digits, &mut nullable);
        assert_eq!(rc, SqlReturn::SQL_SUCCESS_WITH_INFO, "{}", c.name);
        assert!(states(s).contains(&"01004".to_string()), "{}: {:?}", c.name, states(s));
        if c.narrow_only {
            // DM conversion: never splits the surrogate pair.
            assert_eq!(wstr(&small), "é中", "{}", c.name);
        } else {
            // The driver's own truncation (psqlODBC may leave half a surrogate pair).
            assert!(wstr(&small).starts_with("é中"), "{}", c.name);
        }
        assert_eq!(len, 4, "{}: full length in characters", c.name);

        // A form: length in bytes.
        let mut nname = [0u8; 32];
        let rc = SQLDescribeCol(s, 1, nname.as_mut_ptr(), 32, &mut len, &mut ty, &mut size, &mut digits, &mut nullable);
        assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{}: DescribeCol {:?}", c.name, states(s));
        assert_eq!(nstr(&nname), COL, "{}", c.name);
        assert_eq!(len, 9, "{}: length in UTF-8 bytes", c.name);
        let mut nsmall = [0xFFu8; 5];
        let rc = SQLDescribeCol(s, 1, nsmall.as_mut_ptr(), 5, &mut len, &mut ty, &mut size, &mut digits, &mut nullable);
        if c.narrow_only {
            // Passed through to the driver's own SQLDescribeCol: its behaviour, not the DM's.
            // (libsqlite3odbc cuts the name without 01004.)
            eprintln!("{}: driver SQLDescribeCol with a 5-byte buffer: {rc:?} len={len} {:?} {:?}", c.name, nsmall, states(s));
            assert!(rc.is_success());
        } else {
            assert_eq!(rc, SqlReturn::SQL_SUCCESS_WITH_INFO, "{}", c.name);
            assert!(states(s).contains(&"01004".to_string()), "{}: {:?}", c.name, states(s));
            assert_eq!(len, 9, "{}: full length in bytes", c.name);
        }

        // HY090 (DM, §4.1): negative BufferLength.
        let rc = SQLDescribeColW(s, 1, name.as_mut_ptr(), -1, &mut len, &mut ty, &mut size, &mut digits, &mut nullable);
        assert_eq!(rc, SqlReturn::SQL_ERROR);
        assert_eq!(first_state(s), "HY090");

        // SQLColAttribute: character attributes count bytes in both forms.
        let mut wb = [0u16; 32];
        let mut blen = 0i16;
        let mut num: SqlLen = 0;
        let rc = SQLColAttributeW(s, 1, DescField::SQL_DESC_NAME, wb.as_mut_ptr().cast(), 64, &mut blen, &mut num);
        assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{}: ColAttributeW {:?}", c.name, states(s));
        assert_eq!(wstr(&wb), COL, "{}", c.name);
        assert_eq!(blen, 8, "{}: SQLColAttributeW length in bytes", c.name);
        let mut wsmall = [0xFFFFu16; 3];
        let rc = SQLColAttributeW(s, 1, DescField::SQL_DESC_NAME, wsmall.as_mut_ptr().cast(), 6, &mut blen, &mut num);
        assert_eq!(rc, SqlReturn::SQL_SUCCESS_WITH_INFO, "{}", c.name);
        assert!(states(s).contains(&"01004".to_string()), "{}: {:?}", c.name, states(s));
        if c.narrow_only {
            assert_eq!(wstr(&wsmall), "é中", "{}", c.name);
        } else {
            assert!(wstr(&wsmall).starts_with("é中"), "{}", c.name);
        }
        assert_eq!(blen, 8, "{}: full length in bytes", c.name);
        let mut nb = [0u8; 32];
        let rc = SQLColAttribute(s, 1, DescField::SQL_DESC_NAME, nb.as_mut_ptr().cast(), 32, &mut blen, &mut num);
        assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{}: ColAttribute {:?}", c.name, states(s));
        assert_eq!((nstr(&nb).as_str(), blen), (COL, 9), "{}", c.name);
        // A numeric attribute goes to NumericAttributePtr.
        num = 0;
        let rc = SQLColAttributeW(s, 1, DescField::SQL_DESC_CONCISE_TYPE, null_mut(), 0, null_mut(), &mut num);
        assert!(rc.is_success(), "{}: {:?}", c.name, states(s));
        assert_eq!(num, SqlDataType::SQL_INTEGER.0 as SqlLen, "{}", c.name);
        // 2.x SQLColAttributes(SQL_COLUMN_NAME), W form.
        let mut wb2 = [0u16; 32];
        let rc = SQLColAttributesW(s, 1, 1, wb2.as_mut_ptr().cast(), 64, &mut blen, &mut num);
        assert!(rc.is_success(), "{}: ColAttributesW {:?}", c.name, diags(HandleType::SQL_HANDLE_STMT, s));
        assert_eq!((wstr(&wb2).as_str(), blen), (COL, 8), "{}", c.name);

        // HY106 (DM, §4.1): FetchOrientation 99 never reaches the driver.
        let rc = SQLFetchScroll(s, FetchOrientation(99), 0);
        assert_eq!(rc, SqlReturn::SQL_ERROR);
        assert_eq!(first_state(s), "HY106", "{}", c.name);
        // 24000 (DM): SQLSetPos before any fetch (S5).
        assert_eq!(SQLSetPos(s, 1, SetPosOperation::SQL_POSITION, LockType::SQL_LOCK_NO_CHANGE), SqlReturn::SQL_ERROR);
        assert_eq!(first_state(s), "24000");
        // A valid SQLFetchScroll(NEXT) still works after the DM errors.
        let rc = SQLFetchScroll(s, FetchOrientation::SQL_FETCH_NEXT, 0);
        assert!(rc.is_success(), "{}: {rc:?} {:?}", c.name, states(s));
        // HY092 (DM): SQLSetPos Operation / LockType out of range (S6).
        assert_eq!(SQLSetPos(s, 1, SetPosOperation(5), LockType::SQL_LOCK_NO_CHANGE), SqlReturn::SQL_ERROR);
        assert_eq!(first_state(s), "HY092");
        assert_eq!(SQLSetPos(s, 1, SetPosOperation::SQL_POSITION, LockType(3)), SqlReturn::SQL_ERROR);
        assert_eq!(first_state(s), "HY092");
        // HY010 (DM): SQLExtendedFetch after SQLFetchScroll (S6).
        let mut rows: SqlULen = 0;
        assert_eq!(SQLExtendedFetch(s, FetchOrientation::SQL_FETCH_NEXT, 0, &mut rows, null_mut()), SqlReturn::SQL_ERROR);
        assert_eq!(first_state(s), "HY010");
        assert_eq!(SQLCloseCursor(s), SqlReturn::SQL_SUCCESS);
        // 24000 (DM): no cursor any more.
        assert_eq!(SQLCloseCursor(s), SqlReturn::SQL_ERROR);
        assert_eq!(first_state(s), "24000");
    }
}

fn row_count_and_more_results(c: &Conn, s: SqlHandle) {
    exec_ok(s, &format!("INSERT INTO rrc (\"{COL}\", name) VALUES (1, 'a')"));
    // SAFETY: live statement; valid out pointers.
    unsafe {
        let mut n: SqlLen = -7;
        assert!(SQLRowCount(s, &mut n).is_success(), "{}: {:?}", c.name, states(s));
        assert_eq!(n, 1, "{}", c.name);
        // HY009 (DM): null RowCountPtr.
        assert_eq!(SQLRowCount(s, null_mut()), SqlReturn::SQL_ERROR);
        assert_eq!(first_state(s), "HY009");
        assert_eq!(SQLMoreResults(s), SqlReturn::SQL_NO_DATA, "{}: {:?}", c.name, states(s));
    }
    exec_ok(s, &format!("INSERT INTO rrc (\"{COL}\", name) VALUES (2, 'b')"));
    let mut n: SqlLen = 0;
    // SAFETY: live statement; valid out pointer.
    assert!(unsafe { SQLRowCount(s, &mut n) }.is_success());
    assert_eq!(n, 1);
}

fn catalog(c: &Conn, s: SqlHandle) {
    // SAFETY (whole block): live statement; strings NUL-terminated or with their lengths.
    unsafe {
        // SQLTablesW (W→A conversion on the narrow driver), table name with SQL_NTS.
        let t = w("rrc");
        let rc = SQLTablesW(s, null(), 0, null(), 0, t.as_ptr(), SQL_NTS as i16, null(), 0);
        assert!(rc.is_success(), "{}: SQLTablesW {:?}", c.name, states(s));
        assert_eq!(fetch_col(s, 3), vec![Some("rrc".to_string())], "{}", c.name);
        // SQLTables (A) with an explicit byte length and a TABLE type filter.
        let rc = SQLTables(s, null(), 0, null(), 0, b"rrcXX".as_ptr(), 3, b"TABLE".as_ptr(), 5);
        assert!(rc.is_success(), "{}: SQLTables {:?}", c.name, states(s));
        assert_eq!(fetch_col(s, 3), vec![Some("rrc".to_string())], "{}", c.name);
        // SQLColumnsW: both columns, in order, the non-ASCII one intact.
        let rc = SQLColumnsW(s, null(), 0, null(), 0, t.as_ptr(), 3, null(), 0);
        assert!(rc.is_success(), "{}: SQLColumnsW {:?}", c.name, states(s));
        assert_eq!(fetch_col(s, 4), vec![Some(COL.to_string()), Some("name".to_string())], "{}", c.name);
        // SQLColumns (A).
        let rc = SQLColumns(s, null(), 0, null(), 0, c"rrc".as_ptr().cast(), SQL_NTS as i16, c"name".as_ptr().cast(), SQL_NTS as i16);
        assert!(rc.is_success(), "{}: SQLColumns {:?}", c.name, states(s));
        assert_eq!(fetch_col(s, 4), vec![Some("name".to_string())], "{}", c.name);
        // SQLPrimaryKeysW / SQLPrimaryKeys: the key column.
        let rc = SQLPrimaryKeysW(s, null(), 0, null(), 0, t.as_ptr(), SQL_NTS as i16);
        assert!(rc.is_success(), "{}: SQLPrimaryKeysW {:?}", c.name, states(s));
        assert_eq!(fetch_col(s, 4), vec![Some(COL.to_string())], "{}", c.name);
        let rc = SQLPrimaryKeys(s, null(), 0, null(), 0, b"rrc".as_ptr(), 3);
        assert!(rc.is_success(), "{}: SQLPrimaryKeys {:?}", c.name, states(s));
        assert_eq!(fetch_col(s, 4), vec![Some(COL.to_string())], "{}", c.name);
        // SQLGetTypeInfoW(SQL_ALL_TYPES): some rows.
        let rc = SQLGetTypeInfoW(s, SqlDataType(0));
        assert!(rc.is_success(), "{}: SQLGetTypeInfoW {:?}", c.name, states(s));
        assert!(!fetch_col(s, 1).is_empty(), "{}", c.name);

        // DM argument checks (§4.1): nothing reaches the driver.
        assert_eq!(SQLTablesW(s, null(), 0, null(), 0, t.as_ptr(), -7, null(), 0), SqlReturn::SQL_ERROR);
        assert_eq!(first_state(s), "HY090");
        assert_eq!(SQLStatistics(s, null(), 0, null(), 0, b"rrc".as_ptr(), 3, 7, SQL_QUICK), SqlReturn::SQL_ERROR);
        assert_eq!(first_state(s), "HY100");
        assert_eq!(SQLStatisticsW(s, null(), 0, null(), 0, t.as_ptr(), 3, SQL_INDEX_ALL, 9), SqlReturn::SQL_ERROR);
        assert_eq!(first_state(s), "HY101");
        assert_eq!(
            SQLSpecialColumns(s, RowIdentifier(3), null(), 0, null(), 0, b"rrc".as_ptr(), 3, SQL_SCOPE_SESSION, Nullability::SQL_NULLABLE),
            SqlReturn::SQL_ERROR
        );
        assert_eq!(first_state(s), "HY097");
        assert_eq!(
            SQLSpecialColumnsW(s, RowIdentifier::SQL_BEST_ROWID, null(), 0, null(), 0, t.as_ptr(), 3, 3, Nullability::SQL_NULLABLE),
            SqlReturn::SQL_ERROR
        );
        assert_eq!(first_state(s), "HY098");
        assert_eq!(
            SQLSpecialColumns(
                s,
                RowIdentifier::SQL_BEST_ROWID,
                null(),
                0,
                null(),
                0,
                b"rrc".as_ptr(),
                3,
                SQL_SCOPE_SESSION,
                Nullability(2)
            ),
            SqlReturn::SQL_ERROR
        );
        assert_eq!(first_state(s), "HY099");
        // Valid SQLStatistics / SQLSpecialColumns go through.
        let rc = SQLStatisticsW(s, null(), 0, null(), 0, t.as_ptr(), 3, SQL_INDEX_ALL, SQL_QUICK);
        assert!(rc.is_success(), "{}: SQLStatisticsW {:?}", c.name, states(s));
        close(s);
        // 24000 (DM): a catalog function while a cursor is open.
        exec_ok(s, "SELECT name FROM rrc");
        assert_eq!(SQLTables(s, null(), 0, null(), 0, null(), 0, null(), 0), SqlReturn::SQL_ERROR);
        assert_eq!(first_state(s), "24000");
        close(s);
    }
}

fn data_at_exec(c: &Conn, s: SqlHandle) {
    let sql = format!("INSERT INTO rrc (\"{COL}\", name) VALUES (?, ?)");
    // SAFETY (whole block): live statement; bound buffers live until the row is inserted.
    unsafe {
        assert!(SQLPrepare(s, sql.as_ptr(), sql.len() as i32).is_success(), "{}: {:?}", c.name, states(s));
        let mut count = 0i16;
        assert!(SQLNumParams(s, &mut count).is_success());
        assert_eq!(count, 2, "{}", c.name);
        let mut id: i32 = 3;
        let mut id_ind: SqlLen = 0;
        let rc = SQLBindParameter(
            s,
            1,
            ParamIoType::SQL_PARAM_INPUT,
            CDataType::SQL_C_LONG,
            SqlDataType::SQL_INTEGER,
            0,
            0,
            (&mut id as *mut i32).cast(),
            0,
            &mut id_ind,
        );
        assert!(rc.is_success(), "{}: {:?}", c.name, states(s));
        // SQL_LEN_DATA_AT_EXEC(0); the value pointer is the application's token.
        // libsqlite3odbc needs the total length in SQL_LEN_DATA_AT_EXEC(length) to accept a
        // second SQLPutData for a character parameter (with 0 the driver answers HY010
        // "sequence error"); the spec lets a driver ignore the length, psqlODBC does.
        let total: SqlLen = if c.narrow_only { 11 } else { 0 };
        let mut ind: SqlLen = SQL_LEN_DATA_AT_EXEC_OFFSET - total;
        let token = 2usize as SqlPointer;
        let rc = SQLBindParameter(
            s,
            2,
            ParamIoType::SQL_PARAM_INPUT,
            CDataType::SQL_C_CHAR,
            SqlDataType::SQL_VARCHAR,
            100,
            0,
            token,
            0,
            &mut ind,
        );
        assert!(rc.is_success(), "{}: {:?}", c.name, states(s));
        // DM checks of SQLBindParameter (§4.1).
        assert_eq!(
            SQLBindParameter(
                s,
                0,
                ParamIoType::SQL_PARAM_INPUT,
                CDataType::SQL_C_CHAR,
                SqlDataType::SQL_VARCHAR,
                10,
                0,
                token,
                0,
                &mut ind
            ),
            SqlReturn::SQL_ERROR
        );
        assert_eq!(first_state(s), "07009");
        assert_eq!(
            SQLBindParameter(s, 2, ParamIoType(3), CDataType::SQL_C_CHAR, SqlDataType::SQL_VARCHAR, 10, 0, token, 0, &mut ind),
            SqlReturn::SQL_ERROR
        );
        assert_eq!(first_state(s), "HY105");
        assert_eq!(
            SQLBindParameter(
                s,
                2,
                ParamIoType::SQL_PARAM_INPUT,
                CDataType::SQL_C_CHAR,
                SqlDataType::SQL_VARCHAR,
                10,
                0,
                token,
                -1,
                &mut ind
            ),
            SqlReturn::SQL_ERROR
        );
        assert_eq!(first_state(s), "HY090");
        // HY010 (DM): SQLPutData before the NEED_DATA sequence.
        assert_eq!(SQLPutData(s, b"x".as_ptr() as SqlPointer, 1), SqlReturn::SQL_ERROR);
        assert_eq!(first_state(s), "HY010");

        assert_eq!(SQLExecute(s), SqlReturn::SQL_NEED_DATA, "{}: {:?}", c.name, states(s));
        let mut which: SqlPointer = null_mut();
        assert_eq!(SQLParamData(s, &mut which), SqlReturn::SQL_NEED_DATA, "{}: {:?}", c.name, states(s));
        assert_eq!(which, token, "{}: SQLParamData returns the token", c.name);
        assert!(SQLPutData(s, b"hello ".as_ptr() as SqlPointer, 6).is_success(), "{}: {:?}", c.name, states(s));
        assert!(SQLPutData(s, b"world".as_ptr() as SqlPointer, 5).is_success(), "{}: {:?}", c.name, diags(HandleType::SQL_HANDLE_STMT, s));
        let rc = SQLParamData(s, &mut which);
        assert!(rc.is_success(), "{}: final SQLParamData {rc:?} {:?}", c.name, states(s));
        let mut n: SqlLen = 0;
        assert!(SQLRowCount(s, &mut n).is_success());
        assert_eq!(n, 1, "{}", c.name);
        SQLFreeStmt(s, FreeStmtOption::SQL_RESET_PARAMS);
    }
    exec_ok(s, &format!("SELECT name FROM rrc WHERE \"{COL}\" = 3"));
    assert_eq!(fetch_col(s, 1), vec![Some("hello world".to_string())], "{}", c.name);
}

fn native_sql(c: &Conn) {
    let sql = "SELECT {fn UCASE('abc')} FROM rrc";
    // libsqlite3odbc's SQLNativeSql writes a NUL into the *input* text at index
    // BufferLength - 1: give it a writable input at least as large as the output buffer.
    // (The DM pads its own converted input the same way for SQLNativeSqlW.)
    let mut sql_in = sql.as_bytes().to_vec();
    sql_in.resize(512, 0);
    // SAFETY (whole block): live connection; buffers valid for the lengths passed.
    unsafe {
        let mut a = [0u8; 256];
        let mut alen = 0i32;
        let rc = SQLNativeSql(c.dbc, sql_in.as_mut_ptr(), sql.len() as i32, a.as_mut_ptr(), 256, &mut alen);
        assert!(rc.is_success(), "{}: SQLNativeSql {:?}", c.name, diags(HandleType::SQL_HANDLE_DBC, c.dbc));
        let native = nstr(&a);
        assert!(!native.is_empty());
        assert_eq!(alen as usize, native.len());
        // W form (W→A conversion on SQLite): same text, length in characters.
        let ws = w(sql);
        let mut b = [0u16; 256];
        let mut blen = 0i32;
        let rc = SQLNativeSqlW(c.dbc, ws.as_ptr(), SQL_NTS, b.as_mut_ptr(), 256, &mut blen);
        assert!(rc.is_success(), "{}: SQLNativeSqlW {:?}", c.name, diags(HandleType::SQL_HANDLE_DBC, c.dbc));
        assert_eq!(wstr(&b), native, "{}", c.name);
        assert_eq!(blen as usize, native.encode_utf16().count());
        // Too small: 01004, truncated text, full length.
        let mut small = [0u16; 8];
        let rc = SQLNativeSqlW(c.dbc, ws.as_ptr(), SQL_NTS, small.as_mut_ptr(), 8, &mut blen);
        assert_eq!(rc, SqlReturn::SQL_SUCCESS_WITH_INFO, "{}", c.name);
        let ds = diags(HandleType::SQL_HANDLE_DBC, c.dbc);
        assert!(ds.iter().any(|d| d.0 == "01004"), "{}: {ds:?}", c.name);
        if c.narrow_only {
            // DM conversion: 7 characters and the terminator.
            assert_eq!(wstr(&small), native.chars().take(7).collect::<String>());
        } else {
            // The driver's own truncation (psqlODBC may fill all 8 without a terminator).
            assert!(native.starts_with(&wstr(&small)), "{}", c.name);
        }
        assert_eq!(blen as usize, native.encode_utf16().count());
        // HY009 / HY090 (DM).
        assert_eq!(SQLNativeSql(c.dbc, null(), 3, a.as_mut_ptr(), 256, &mut alen), SqlReturn::SQL_ERROR);
        assert_eq!(diags(HandleType::SQL_HANDLE_DBC, c.dbc)[0].0, "HY009");
        assert_eq!(SQLNativeSqlW(c.dbc, ws.as_ptr(), -9, b.as_mut_ptr(), 256, &mut blen), SqlReturn::SQL_ERROR);
        assert_eq!(diags(HandleType::SQL_HANDLE_DBC, c.dbc)[0].0, "HY090");
    }
}

fn cursor_name(c: &Conn, s: SqlHandle) {
    // SAFETY: live statement; buffers valid for the lengths passed.
    unsafe {
        let name = w("cür_1");
        assert!(SQLSetCursorNameW(s, name.as_ptr(), SQL_NTS as i16).is_success(), "{}: {:?}", c.name, states(s));
        let mut b = [0u16; 32];
        let mut len = 0i16;
        assert!(SQLGetCursorNameW(s, b.as_mut_ptr(), 32, &mut len).is_success(), "{}: {:?}", c.name, states(s));
        assert_eq!((wstr(&b).as_str(), len), ("cür_1", 5), "{}", c.name);
        let mut a = [0u8; 32];
        assert!(SQLGetCursorName(s, a.as_mut_ptr(), 32, &mut len).is_success());
        assert_eq!((nstr(&a).as_str(), len), ("cür_1", 6), "{}", c.name);
        assert_eq!(SQLSetCursorName(s, null(), SQL_NTS as i16), SqlReturn::SQL_ERROR);
        assert_eq!(first_state(s), "HY009");
    }
}

fn run_all(c: &Conn) {
    let s = stmt(c);
    create_table(s);
    row_count_and_more_results(c, s);
    describe_col(c, s);
    catalog(c, s);
    data_at_exec(c, s);
    native_sql(c);
    cursor_name(c, s);
    // SAFETY: live statement.
    unsafe { SQLFreeHandle(HandleType::SQL_HANDLE_STMT, s) };
}

fn temp_db() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tmp");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("raw_results_catalog-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p
}

#[test]
fn sqlite_narrow_driver_results_catalog_params() {
    let db = temp_db();
    let c = connect("sqlite", &format!("DRIVER={SQLITE};Database={}", db.display()), true);
    run_all(&c);
    drop(c);
    let _ = std::fs::remove_file(&db);
}

#[test]
fn postgres_wide_driver_results_catalog_params() {
    if common::postgres_conn_str("postgres_wide_driver_results_catalog_params").is_none() {
        return;
    }
    let c = connect("psqlodbc", &format!("DRIVER={PSQL};Servername=127.0.0.1;Port=5432;Database=test;Username=postgres"), false);
    run_all(&c);
}
