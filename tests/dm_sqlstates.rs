//! Every SQLSTATE the DM itself detects (the parenthesised entries of Appendix B, §4.1),
//! and bad input that must get a clear error and no crash. Real drivers only.

mod common;

use odbc_dm::abi::*;
use odbc_dm::raw::*;
use std::ptr::{null, null_mut};

/// First diagnostic record of a handle: (SQLSTATE, message).
fn diag(ht: HandleType, h: SqlHandle) -> (String, String) {
    let mut st = [0u8; 6];
    let mut native = 0;
    let mut msg = [0u8; 1024];
    let mut len = 0i16;
    // SAFETY: valid buffers of the sizes passed.
    let rc = unsafe { SQLGetDiagRec(ht, h, 1, st.as_mut_ptr(), &mut native, msg.as_mut_ptr(), 1024, &mut len) };
    if !rc.is_success() {
        return (String::new(), format!("no diagnostic ({rc:?})"));
    }
    (String::from_utf8_lossy(&st[..5]).into(), String::from_utf8_lossy(&msg[..len.clamp(0, 1023) as usize]).into())
}

fn state(ht: HandleType, h: SqlHandle) -> String {
    diag(ht, h).0
}

fn env3() -> SqlHandle {
    let mut env = null_mut();
    // SAFETY: valid out pointer.
    unsafe {
        assert_eq!(SQLAllocHandle(HandleType::SQL_HANDLE_ENV, null_mut(), &mut env), SqlReturn::SQL_SUCCESS);
        assert_eq!(SQLSetEnvAttr(env, EnvAttr::SQL_ATTR_ODBC_VERSION, SQL_OV_ODBC3 as usize as SqlPointer, 0), SqlReturn::SQL_SUCCESS);
    }
    env
}

fn dbc(env: SqlHandle) -> SqlHandle {
    let mut d = null_mut();
    // SAFETY: live env, valid out pointer.
    assert_eq!(unsafe { SQLAllocHandle(HandleType::SQL_HANDLE_DBC, env, &mut d) }, SqlReturn::SQL_SUCCESS);
    d
}

fn connect(d: SqlHandle, cs: &str) -> SqlReturn {
    // SAFETY: live dbc; the string outlives the call.
    unsafe {
        SQLDriverConnect(d, null_mut(), cs.as_ptr(), cs.len() as i16, null_mut(), 0, null_mut(), DriverCompletion::SQL_DRIVER_NOPROMPT)
    }
}

fn sqlite_dbc(name: &str) -> (SqlHandle, SqlHandle) {
    let env = env3();
    let d = dbc(env);
    let db = common::temp_db(name);
    let rc = connect(d, &common::sqlite_conn_str(&db));
    assert!(rc.is_success(), "connect: {:?} {:?}", rc, diag(HandleType::SQL_HANDLE_DBC, d));
    (env, d)
}

fn stmt(d: SqlHandle) -> SqlHandle {
    let mut s = null_mut();
    // SAFETY: live dbc, valid out pointer.
    assert_eq!(unsafe { SQLAllocHandle(HandleType::SQL_HANDLE_STMT, d, &mut s) }, SqlReturn::SQL_SUCCESS);
    s
}

#[test]
fn s4_2_hy010_alloc_dbc_before_odbc_version() {
    let mut env = null_mut();
    let mut d = null_mut();
    // SAFETY: valid out pointers.
    unsafe {
        SQLAllocHandle(HandleType::SQL_HANDLE_ENV, null_mut(), &mut env);
        assert_eq!(SQLAllocHandle(HandleType::SQL_HANDLE_DBC, env, &mut d), SqlReturn::SQL_ERROR);
    }
    assert_eq!(state(HandleType::SQL_HANDLE_ENV, env), "HY010");
}

#[test]
fn s4_2_hy010_free_env_with_connections() {
    let env = env3();
    let _d = dbc(env);
    // SAFETY: live env.
    assert_eq!(unsafe { SQLFreeHandle(HandleType::SQL_HANDLE_ENV, env) }, SqlReturn::SQL_ERROR);
    assert_eq!(state(HandleType::SQL_HANDLE_ENV, env), "HY010");
}

#[test]
fn s4_3_hy010_free_connected_dbc() {
    let (_env, d) = sqlite_dbc("free-connected");
    // SAFETY: live dbc.
    assert_eq!(unsafe { SQLFreeHandle(HandleType::SQL_HANDLE_DBC, d) }, SqlReturn::SQL_ERROR);
    assert_eq!(state(HandleType::SQL_HANDLE_DBC, d), "HY010");
    // SAFETY: live dbc.
    unsafe {
        assert_eq!(SQLDisconnect(d), SqlReturn::SQL_SUCCESS);
        assert_eq!(SQLFreeHandle(HandleType::SQL_HANDLE_DBC, d), SqlReturn::SQL_SUCCESS);
    }
}

#[test]
fn s4_3_08002_connect_twice() {
    let (_env, d) = sqlite_dbc("connect-twice");
    let db = common::temp_db("connect-twice-2");
    assert_eq!(connect(d, &common::sqlite_conn_str(&db)), SqlReturn::SQL_ERROR);
    assert_eq!(state(HandleType::SQL_HANDLE_DBC, d), "08002");
}

/// SQLDriverConnect: a DriverCompletion other than the four the specification defines is
/// HY110 from the DM (before any driver is loaded); the handle stays unconnected and a
/// valid call then connects.
#[test]
fn s4_1_hy110_invalid_driver_completion() {
    let env = env3();
    let d = dbc(env);
    let cs = common::sqlite_conn_str(&common::temp_db("hy110"));
    for bad in [4u16, 99, u16::MAX] {
        let mut out = [0u8; 64];
        let mut out_len = -7i16;
        // SAFETY: live dbc; the string and buffers outlive the call.
        let rc = unsafe {
            SQLDriverConnect(d, null_mut(), cs.as_ptr(), cs.len() as i16, out.as_mut_ptr(), 64, &mut out_len, DriverCompletion(bad))
        };
        assert_eq!(rc, SqlReturn::SQL_ERROR, "DriverCompletion {bad}");
        assert_eq!(state(HandleType::SQL_HANDLE_DBC, d), "HY110", "DriverCompletion {bad}");
        assert_eq!(out_len, -7, "nothing written for DriverCompletion {bad}");
    }
    assert!(connect(d, &cs).is_success(), "{:?}", diag(HandleType::SQL_HANDLE_DBC, d));
}

/// The value of an integer or text field of diagnostic record `rec`.
fn diag_field_text(ht: HandleType, h: SqlHandle, rec: i16, f: DiagField) -> String {
    let mut buf = [0u8; 64];
    let mut len = 0i16;
    // SAFETY: 64-byte buffer.
    let rc = unsafe { SQLGetDiagField(ht, h, rec, f, buf.as_mut_ptr().cast(), 64, &mut len) };
    assert!(rc.is_success(), "{f:?}: {rc:?}");
    String::from_utf8_lossy(&buf[..len.clamp(0, 63) as usize]).into_owned()
}

/// (SQL_DIAG_ROW_NUMBER, SQL_DIAG_COLUMN_NUMBER) of statement record `rec`.
fn diag_row_col(s: SqlHandle, rec: i16) -> (isize, i32) {
    let (mut row, mut col) = (12_345isize, 12_345i32);
    let mut len = 0i16;
    // SAFETY: SQLLEN and SQLINTEGER buffers.
    unsafe {
        assert!(SQLGetDiagField(
            HandleType::SQL_HANDLE_STMT,
            s,
            rec,
            DiagField::SQL_DIAG_ROW_NUMBER,
            (&mut row as *mut isize).cast(),
            0,
            &mut len
        )
        .is_success());
        assert!(SQLGetDiagField(
            HandleType::SQL_HANDLE_STMT,
            s,
            rec,
            DiagField::SQL_DIAG_COLUMN_NUMBER,
            (&mut col as *mut i32).cast(),
            0,
            &mut len
        )
        .is_success());
    }
    (row, col)
}

/// SQLGetDiagField's origin fields: class origin "ISO 9075" for every class but IM,
/// subclass origin "ODBC 3.0" only for the ODBC-specific subclasses the specification
/// lists; the DM's own records are about no row and no column (SQL_NO_ROW_NUMBER,
/// SQL_NO_COLUMN_NUMBER: -1).
#[test]
fn s4_1_dm_records_origins_and_no_row_or_column() {
    let (_env, d) = sqlite_dbc("origins");
    let s = stmt(d);
    // HY010 from the DM: SQLFetch on an allocated statement.
    // SAFETY: live statement.
    assert_eq!(unsafe { SQLFetch(s) }, SqlReturn::SQL_ERROR);
    let st = HandleType::SQL_HANDLE_STMT;
    assert_eq!(state(st, s), "HY010");
    assert_eq!(diag_field_text(st, s, 1, DiagField::SQL_DIAG_CLASS_ORIGIN), "ISO 9075");
    assert_eq!(diag_field_text(st, s, 1, DiagField::SQL_DIAG_SUBCLASS_ORIGIN), "ISO 9075");
    assert_eq!(diag_row_col(s, 1), (-1, -1));
    // HY092 (ISO) on the connection, IM001 (ODBC's class) from SQLBrowseConnect.
    let cs = "DSN=x";
    // SAFETY: live dbc; the string outlives the call; no output buffer.
    let rc = unsafe { SQLBrowseConnect(d, cs.as_ptr(), cs.len() as i16, null_mut(), 0, null_mut()) };
    assert_eq!(rc, SqlReturn::SQL_ERROR);
    let dt = HandleType::SQL_HANDLE_DBC;
    assert_eq!(state(dt, d), "IM001");
    assert_eq!(diag_field_text(dt, d, 1, DiagField::SQL_DIAG_CLASS_ORIGIN), "ODBC 3.0");
    assert_eq!(diag_field_text(dt, d, 1, DiagField::SQL_DIAG_SUBCLASS_ORIGIN), "ODBC 3.0");
    // HY105 (an ODBC subclass of an ISO class): SQLBindParameter with a bad parameter type.
    // SAFETY: live statement; no buffers are read (the DM refuses the type first).
    let rc = unsafe {
        SQLBindParameter(s, 1, ParamIoType(99), CDataType::SQL_C_LONG, SqlDataType::SQL_INTEGER, 0, 0, null_mut(), 0, null_mut())
    };
    assert_eq!(rc, SqlReturn::SQL_ERROR);
    assert_eq!(state(st, s), "HY105");
    assert_eq!(diag_field_text(st, s, 1, DiagField::SQL_DIAG_CLASS_ORIGIN), "ISO 9075");
    assert_eq!(diag_field_text(st, s, 1, DiagField::SQL_DIAG_SUBCLASS_ORIGIN), "ODBC 3.0");
}

/// A driver's record keeps the row and column numbers the driver gives (which row of an
/// array of parameters failed is what array-binding applications read): psqlODBC says
/// SQL_ROW_NUMBER_UNKNOWN / SQL_COLUMN_NUMBER_UNKNOWN (-2) for a failed row of an array
/// insert; the DM used to report -1 ("no row") for every driver record.
#[test]
fn driver_records_keep_the_drivers_row_and_column_numbers_psql() {
    let Some(cs) = common::postgres_conn_str("driver_records_keep_the_drivers_row_and_column_numbers_psql") else { return };
    let env = env3();
    let d = dbc(env);
    assert!(connect(d, &cs).is_success(), "{:?}", diag(HandleType::SQL_HANDLE_DBC, d));
    let s = stmt(d);
    let t = common::unique_table("diagrow");
    let run = |sql: String| {
        // SAFETY: live statement; the text outlives the call.
        unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) }
    };
    assert!(run(format!("CREATE TABLE {t} (a INTEGER PRIMARY KEY)")).is_success(), "{:?}", diag(HandleType::SQL_HANDLE_STMT, s));
    let vals: [i32; 3] = [1, 1, 3];
    // SAFETY: live statement; `vals` outlives the execution below.
    unsafe {
        assert!(SQLSetStmtAttr(s, StmtAttr::SQL_ATTR_PARAMSET_SIZE, 3usize as SqlPointer, 0).is_success());
        assert!(SQLBindParameter(
            s,
            1,
            ParamIoType::SQL_PARAM_INPUT,
            CDataType::SQL_C_LONG,
            SqlDataType::SQL_INTEGER,
            0,
            0,
            vals.as_ptr() as SqlPointer,
            0,
            null_mut()
        )
        .is_success());
    }
    assert_eq!(run(format!("INSERT INTO {t} VALUES (?)")), SqlReturn::SQL_ERROR);
    assert_eq!(state(HandleType::SQL_HANDLE_STMT, s), "23505");
    assert_eq!(diag_row_col(s, 1), (-2, -2), "psqlODBC's own answer, passed through");
    // SAFETY: live statement.
    unsafe { SQLSetStmtAttr(s, StmtAttr::SQL_ATTR_PARAMSET_SIZE, 1usize as SqlPointer, 0) };
    // SAFETY: live statement.
    unsafe { SQLFreeStmt(s, FreeStmtOption::SQL_RESET_PARAMS) };
    run(format!("DROP TABLE {t}"));
}

/// §4.1 / SQLGetDiagRec: a driver's SQL_SUCCESS_WITH_INFO from a function that may open a
/// result set keeps its records. The DM asks the driver SQLNumResultCols after such a call
/// (S4 or S5), and that call clears the driver's diagnostics: they must be read first
/// (psqlODBC's NOTICE was lost: SQL_SUCCESS_WITH_INFO and no record at all).
#[test]
fn success_with_info_records_survive_the_result_probe_psql() {
    let Some(cs) = common::postgres_conn_str("success_with_info_records_survive_the_result_probe_psql") else { return };
    let env = env3();
    let d = dbc(env);
    assert!(connect(d, &cs).is_success(), "{:?}", diag(HandleType::SQL_HANDLE_DBC, d));
    let s = stmt(d);
    let st = HandleType::SQL_HANDLE_STMT;
    let notice = "DO $$ BEGIN RAISE NOTICE 'hello notice'; END $$";
    // SAFETY: live statement; the text outlives the call.
    let rc = unsafe { SQLExecDirect(s, notice.as_ptr(), notice.len() as i32) };
    assert_eq!(rc, SqlReturn::SQL_SUCCESS_WITH_INFO, "{:?}", common::rawh::diag_recs(st, s));
    let recs = common::rawh::diag_recs(st, s);
    assert!(recs.iter().any(|r| r.message.contains("hello notice")), "SQLExecDirect's NOTICE: {recs:?}");
    // SAFETY: live statement.
    unsafe { SQLFreeStmt(s, FreeStmtOption::SQL_CLOSE) };
    // The same through SQLPrepare + SQLExecute, on a statement that opens a result set.
    let f = "CREATE OR REPLACE FUNCTION odbc_dm_notice_fn(x integer) RETURNS integer AS $$ BEGIN RAISE NOTICE 'notice %', x; RETURN x; END $$ LANGUAGE plpgsql";
    // SAFETY: as above.
    assert!(unsafe { SQLExecDirect(s, f.as_ptr(), f.len() as i32) }.is_success(), "{:?}", common::rawh::diag_recs(st, s));
    let sel = "SELECT odbc_dm_notice_fn(42)";
    // SAFETY: as above.
    unsafe {
        assert!(SQLPrepare(s, sel.as_ptr(), sel.len() as i32).is_success(), "{:?}", common::rawh::diag_recs(st, s));
        assert_eq!(SQLExecute(s), SqlReturn::SQL_SUCCESS_WITH_INFO, "{:?}", common::rawh::diag_recs(st, s));
    }
    let recs = common::rawh::diag_recs(st, s);
    assert!(recs.iter().any(|r| r.message.contains("notice 42")), "SQLExecute's NOTICE: {recs:?}");
    // And the statement knows it has a result set (S5): the row is there.
    // SAFETY: live statement.
    assert!(unsafe { SQLFetch(s) }.is_success(), "{:?}", common::rawh::diag_recs(st, s));
    // SAFETY: live statement.
    unsafe { SQLFreeStmt(s, FreeStmtOption::SQL_CLOSE) };
}

/// SQL_TIMESTAMP_STRUCT.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Timestamp {
    year: i16,
    month: u16,
    day: u16,
    hour: u16,
    minute: u16,
    second: u16,
    fraction: u32,
}

/// "Datetime Data Type Changes": the DM maps the ODBC 2 date/time codes an application
/// passes (SQL_C_TIMESTAMP 11 as ValueType/TargetType, SQL_TIMESTAMP 11 as ParameterType,
/// as pyodbc does for every datetime parameter) to the ODBC 3 ones (93) for an ODBC 3
/// driver. The reference driver is a strict ODBC 3 driver: it knows only 91/93, and
/// answers HY003 "Program type 11 out of range" when the DM does not map.
#[test]
fn odbc2_datetime_codes_are_mapped_for_an_odbc3_driver() {
    common::init();
    let env = env3();
    let d = dbc(env);
    let cs = common::refdriver_conn_str("");
    assert!(connect(d, &cs).is_success(), "{:?}", diag(HandleType::SQL_HANDLE_DBC, d));
    let s = stmt(d);
    let st = HandleType::SQL_HANDLE_STMT;
    let ts = Timestamp { year: 2024, month: 2, day: 29, hour: 13, minute: 14, second: 15, fraction: 123_456_000 };
    let mut ind: isize = std::mem::size_of::<Timestamp>() as isize;
    // SAFETY: live statement; `ts` and `ind` outlive the execution below.
    let rc = unsafe {
        SQLBindParameter(
            s,
            1,
            ParamIoType::SQL_PARAM_INPUT,
            CDataType(11),
            SqlDataType(11),
            29,
            9,
            (&ts as *const Timestamp) as SqlPointer,
            0,
            &mut ind,
        )
    };
    assert!(rc.is_success(), "SQLBindParameter(SQL_C_TIMESTAMP, SQL_TIMESTAMP): {:?}", common::rawh::diag_recs(st, s));
    let sql = "SELECT ?";
    // SAFETY: live statement; the text outlives the call.
    let rc = unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) };
    assert!(rc.is_success(), "execute with a SQL_C_TIMESTAMP parameter: {:?}", common::rawh::diag_recs(st, s));
    // SAFETY: live statement.
    assert!(unsafe { SQLFetch(s) }.is_success(), "{:?}", common::rawh::diag_recs(st, s));
    for target in [11i16, 93] {
        let mut out = Timestamp::default();
        let mut len: isize = 0;
        // SAFETY: a buffer of the struct's size.
        let rc = unsafe {
            SQLGetData(
                s,
                1,
                CDataType(target),
                (&mut out as *mut Timestamp) as SqlPointer,
                std::mem::size_of::<Timestamp>() as isize,
                &mut len,
            )
        };
        assert!(rc.is_success(), "SQLGetData as C type {target}: {:?}", common::rawh::diag_recs(st, s));
        assert_eq!(out, ts, "C type {target}");
        assert_eq!(len, std::mem::size_of::<Timestamp>() as isize);
        // Read again from the start: a fresh execution.
        // SAFETY: live statement.
        unsafe { SQLFreeStmt(s, FreeStmtOption::SQL_CLOSE) };
        // SAFETY: as above.
        assert!(unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) }.is_success());
        // SAFETY: live statement.
        assert!(unsafe { SQLFetch(s) }.is_success());
    }
    // SQLBindCol with SQL_C_TIMESTAMP too.
    // SAFETY: live statement.
    unsafe { SQLFreeStmt(s, FreeStmtOption::SQL_CLOSE) };
    let mut out = Timestamp::default();
    let mut len: isize = 0;
    // SAFETY: `out` and `len` outlive the fetch below.
    let rc = unsafe {
        SQLBindCol(s, 1, CDataType(11), (&mut out as *mut Timestamp) as SqlPointer, std::mem::size_of::<Timestamp>() as isize, &mut len)
    };
    assert!(rc.is_success(), "{:?}", common::rawh::diag_recs(st, s));
    // SAFETY: as above.
    assert!(unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) }.is_success());
    // SAFETY: live statement.
    assert!(unsafe { SQLFetch(s) }.is_success(), "fetch into a SQL_C_TIMESTAMP binding: {:?}", common::rawh::diag_recs(st, s));
    assert_eq!(out, ts);
    // SAFETY: live statement.
    unsafe {
        SQLFreeStmt(s, FreeStmtOption::SQL_CLOSE);
        SQLFreeStmt(s, FreeStmtOption::SQL_UNBIND);
        SQLFreeStmt(s, FreeStmtOption::SQL_RESET_PARAMS);
    }
}

/// (CURRENT_CATALOG bytes and length, SQLDescribeCol's type of a varchar column) on an
/// ANSI connection.
fn ansi_catalog_and_varchar_type(d: SqlHandle) -> (Vec<u8>, i32, SqlDataType) {
    let mut buf = [0xABu8; 64];
    let mut len: i32 = -1;
    // SAFETY: live dbc; 64-byte buffer.
    let rc = unsafe { SQLGetConnectAttr(d, ConnAttr::SQL_ATTR_CURRENT_CATALOG, buf.as_mut_ptr().cast(), 64, &mut len) };
    assert!(rc.is_success(), "{:?}", common::rawh::diag_recs(HandleType::SQL_HANDLE_DBC, d));
    let s = stmt(d);
    let sql = "SELECT CAST('x' AS varchar(10))";
    // SAFETY: live statement; the text outlives the call.
    assert!(
        unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) }.is_success(),
        "{:?}",
        common::rawh::diag_recs(HandleType::SQL_HANDLE_STMT, s)
    );
    let mut ty = SqlDataType(0);
    let (mut size, mut digits, mut nullable) = (0usize, 0i16, Nullability::SQL_NULLABLE_UNKNOWN);
    // SAFETY: live statement; out pointers of the right types; no name buffer.
    let rc = unsafe { SQLDescribeCol(s, 1, null_mut(), 0, null_mut(), &mut ty, &mut size, &mut digits, &mut nullable) };
    assert!(rc.is_success(), "{:?}", common::rawh::diag_recs(HandleType::SQL_HANDLE_STMT, s));
    // SAFETY: live statement.
    unsafe { SQLFreeHandle(HandleType::SQL_HANDLE_STMT, s) };
    (buf[..len.clamp(0, 63) as usize].to_vec(), len, ty)
}

/// An ANSI application on psqlODBC's Unicode driver stays ANSI: SQLGetInfo and
/// SQLNativeSql go to the driver's ANSI entry points (its W ones mark the connection
/// Unicode for good: SQL_ATTR_CURRENT_CATALOG then came back as UTF-16 bytes to the ANSI
/// caller, and varchar columns as SQL_WVARCHAR), as the connect and the connection
/// attributes do (decisions #96, #129). SQL_DATABASE_NAME takes SQLGetInfo's full path.
#[test]
fn ansi_application_stays_ansi_after_getinfo_and_nativesql_psql() {
    let Some(cs) = common::postgres_conn_str("ansi_application_stays_ansi_after_getinfo_and_nativesql_psql") else { return };
    let env = env3();
    let d = dbc(env);
    assert!(connect(d, &cs).is_success(), "{:?}", diag(HandleType::SQL_HANDLE_DBC, d));
    let before = ansi_catalog_and_varchar_type(d);
    assert_eq!((before.1, before.2), (before.0.len() as i32, SqlDataType::SQL_VARCHAR), "{before:?}");
    for info in [InfoType::SQL_DBMS_NAME, InfoType::SQL_DATABASE_NAME, InfoType::SQL_DRIVER_NAME] {
        let mut buf = [0u8; 128];
        let mut len = 0i16;
        // SAFETY: live dbc; 128-byte buffer.
        let rc = unsafe { SQLGetInfo(d, info, buf.as_mut_ptr().cast(), 128, &mut len) };
        assert!(rc.is_success(), "{info:?}: {:?}", common::rawh::diag_recs(HandleType::SQL_HANDLE_DBC, d));
        assert!(len > 0 && buf[1] != 0, "{info:?}: narrow text expected: {:?}", &buf[..len.clamp(0, 127) as usize]);
    }
    let sql = "SELECT {fn UCASE('a')}";
    let mut out = [0u8; 128];
    let mut out_len = 0i32;
    // SAFETY: live dbc; the text and buffer outlive the call.
    let rc = unsafe { SQLNativeSql(d, sql.as_ptr(), sql.len() as i32, out.as_mut_ptr(), 128, &mut out_len) };
    assert!(rc.is_success(), "{:?}", common::rawh::diag_recs(HandleType::SQL_HANDLE_DBC, d));
    assert!(out_len > 0 && out[1] != 0, "narrow text expected: {:?}", &out[..out_len.clamp(0, 127) as usize]);
    assert_eq!(ansi_catalog_and_varchar_type(d), before, "the connection stays ANSI after SQLGetInfo and SQLNativeSql");
}

/// Runs `f` until it stops answering SQL_STILL_EXECUTING (polling mode, §1.7).
fn polled(mut f: impl FnMut() -> SqlReturn) -> SqlReturn {
    let t = std::time::Instant::now();
    loop {
        let rc = f();
        if rc != SqlReturn::SQL_STILL_EXECUTING {
            return rc;
        }
        assert!(t.elapsed() < std::time::Duration::from_secs(20), "still executing after 20 s");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// §4.5 / decision #133: with asynchronous execution on (and no emulation) the DM does
/// not ask the driver SQLNumResultCols after an execution, and used to assume a cursor
/// (S5) — so a CREATE or INSERT left the statement in S5, and the next SQLExecDirect or
/// SQLExecute was refused with 24000 by the DM itself (the application's rows were lost).
/// The assumed S5 now lets a new execution through to the driver. On the reference
/// driver natively asynchronous (step delays 0 and 5 ms), and on drivers that refuse the
/// attribute (libsqlite3odbc: 01S02) or accept it and run synchronously (psqlODBC).
#[test]
fn s4_5_async_execution_without_result_set_allows_the_next_execution() {
    common::init();
    let mut targets = vec![
        ("refdriver Delay=0".to_string(), common::refdriver_conn_str("Steps=2;Delay=0")),
        ("refdriver Delay=5".to_string(), common::refdriver_conn_str("Steps=2;Delay=5")),
        ("sqlite".to_string(), common::sqlite_conn_str(&common::temp_db("async-s4"))),
    ];
    if let Some(cs) = common::postgres_conn_str("s4_5_async_execution_without_result_set_allows_the_next_execution") {
        targets.push(("psql".to_string(), cs));
    }
    for (name, cs) in targets {
        let env = env3();
        let d = dbc(env);
        assert!(connect(d, &cs).is_success(), "{name}: {:?}", diag(HandleType::SQL_HANDLE_DBC, d));
        let s = stmt(d);
        let st = HandleType::SQL_HANDLE_STMT;
        let t = common::unique_table("async_s4");
        // SAFETY: live statement; an integer attribute by value.
        let rc = unsafe { SQLSetStmtAttr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, 1usize as SqlPointer, 0) };
        assert!(rc.is_success(), "{name}: {:?}", common::rawh::diag_recs(st, s));
        let exec = |sql: String| {
            // SAFETY: live statement; the text outlives every repeat call.
            polled(|| unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) })
        };
        let _ = exec(format!("DROP TABLE {t}"));
        assert!(exec(format!("CREATE TABLE {t} (i INTEGER)")).is_success(), "{name}: {:?}", common::rawh::diag_recs(st, s));
        assert!(exec(format!("INSERT INTO {t} VALUES (1)")).is_success(), "{name}: {:?}", common::rawh::diag_recs(st, s));
        let ins = format!("INSERT INTO {t} VALUES (2)");
        // SAFETY: as above.
        assert!(
            polled(|| unsafe { SQLPrepare(s, ins.as_ptr(), ins.len() as i32) }).is_success(),
            "{name}: {:?}",
            common::rawh::diag_recs(st, s)
        );
        for round in 0..2 {
            // SAFETY: live prepared statement.
            let rc = polled(|| unsafe { SQLExecute(s) });
            assert!(rc.is_success(), "{name}: SQLExecute round {round}: {:?}", common::rawh::diag_recs(st, s));
        }
        assert!(exec(format!("SELECT COUNT(*) FROM {t}")).is_success(), "{name}: {:?}", common::rawh::diag_recs(st, s));
        // SAFETY: live statement.
        assert!(polled(|| unsafe { SQLFetch(s) }).is_success(), "{name}: {:?}", common::rawh::diag_recs(st, s));
        let mut n: i64 = 0;
        // SAFETY: an 8-byte buffer for SQL_C_SBIGINT.
        let rc = polled(|| unsafe { SQLGetData(s, 1, CDataType::SQL_C_SBIGINT, (&mut n as *mut i64).cast(), 8, null_mut()) });
        assert!(rc.is_success(), "{name}: {:?}", common::rawh::diag_recs(st, s));
        assert_eq!(n, 3, "{name}: every insert reached the table");
        // SAFETY: live statement.
        unsafe { SQLCloseCursor(s) };
        let _ = exec(format!("DROP TABLE {t}"));
        // SAFETY: live statement.
        unsafe { SQLFreeHandle(HandleType::SQL_HANDLE_STMT, s) };
    }
}

#[test]
fn s4_3_08003_statement_or_disconnect_before_connect() {
    let env = env3();
    let d = dbc(env);
    let mut s = null_mut();
    // SAFETY: live dbc; valid out pointer.
    assert_eq!(unsafe { SQLAllocHandle(HandleType::SQL_HANDLE_STMT, d, &mut s) }, SqlReturn::SQL_ERROR);
    assert_eq!(state(HandleType::SQL_HANDLE_DBC, d), "08003");
    // SAFETY: live dbc.
    assert_eq!(unsafe { SQLDisconnect(d) }, SqlReturn::SQL_ERROR);
    assert_eq!(state(HandleType::SQL_HANDLE_DBC, d), "08003");
}

#[test]
fn s4_5_hy010_fetch_on_allocated_statement_and_24000_without_cursor() {
    let (_env, d) = sqlite_dbc("fetch-s1");
    let s = stmt(d);
    // SAFETY: live statement.
    assert_eq!(unsafe { SQLFetch(s) }, SqlReturn::SQL_ERROR);
    assert_eq!(state(HandleType::SQL_HANDLE_STMT, s), "HY010");
    let sql = "create table t(x integer)";
    // SAFETY: live statement; the text outlives the call.
    unsafe {
        assert!(SQLExecDirect(s, sql.as_ptr(), sql.len() as i32).is_success());
        // S4: executed, no result set → 24000 from the DM.
        assert_eq!(SQLFetch(s), SqlReturn::SQL_ERROR);
    }
    assert_eq!(state(HandleType::SQL_HANDLE_STMT, s), "24000");
}

#[test]
fn s4_1_hy009_null_output_handle_and_null_statement_text() {
    let env = env3();
    // SAFETY: a null output pointer is the bad input under test.
    assert_eq!(unsafe { SQLAllocHandle(HandleType::SQL_HANDLE_DBC, env, null_mut()) }, SqlReturn::SQL_ERROR);
    assert_eq!(state(HandleType::SQL_HANDLE_ENV, env), "HY009");
    let (_e, d) = sqlite_dbc("hy009");
    let s = stmt(d);
    // SAFETY: null text is the bad input under test.
    assert_eq!(unsafe { SQLExecDirect(s, null(), SQL_NTS) }, SqlReturn::SQL_ERROR);
    assert_eq!(state(HandleType::SQL_HANDLE_STMT, s), "HY009");
}

#[test]
fn s4_1_hy090_negative_buffer_lengths() {
    let (_e, d) = sqlite_dbc("hy090");
    let s = stmt(d);
    let sql = "select 1";
    let mut v = 0i32;
    let mut ind = 0isize;
    // SAFETY: live statement; -7 is the bad length under test.
    unsafe {
        assert_eq!(SQLExecDirect(s, sql.as_ptr(), -7), SqlReturn::SQL_ERROR);
        assert_eq!(state(HandleType::SQL_HANDLE_STMT, s), "HY090");
        assert!(SQLExecDirect(s, sql.as_ptr(), sql.len() as i32).is_success());
        assert!(SQLFetch(s).is_success());
        assert_eq!(SQLGetData(s, 1, CDataType::SQL_C_SLONG, (&mut v as *mut i32).cast(), -1, &mut ind), SqlReturn::SQL_ERROR);
        assert_eq!(state(HandleType::SQL_HANDLE_STMT, s), "HY090");
        // Nothing was lost: the row can still be read.
        assert!(SQLGetData(s, 1, CDataType::SQL_C_SLONG, (&mut v as *mut i32).cast(), 4, &mut ind).is_success());
    }
    assert_eq!(v, 1);
}

#[test]
fn s4_1_s3_4_hy092_unknown_env_attribute_free_stmt_option_cancel_handle_env() {
    let env = env3();
    // SAFETY: live env; 4242 is the unknown attribute under test.
    assert_eq!(unsafe { SQLSetEnvAttr(env, EnvAttr(4242), null_mut(), 0) }, SqlReturn::SQL_ERROR);
    assert_eq!(state(HandleType::SQL_HANDLE_ENV, env), "HY092");
    // §3.4: SQLCancelHandle on an environment is HY092.
    // SAFETY: live env.
    assert_eq!(unsafe { SQLCancelHandle(HandleType::SQL_HANDLE_ENV, env) }, SqlReturn::SQL_ERROR);
    assert_eq!(state(HandleType::SQL_HANDLE_ENV, env), "HY092");
    let (_e, d) = sqlite_dbc("hy092");
    let s = stmt(d);
    // SAFETY: live statement; option 77 is invalid.
    assert_eq!(unsafe { SQLFreeStmt(s, FreeStmtOption(77)) }, SqlReturn::SQL_ERROR);
    assert_eq!(state(HandleType::SQL_HANDLE_STMT, s), "HY092");
}

#[test]
fn s4_1_hy024_invalid_odbc_version() {
    let env = env3();
    // SAFETY: live env; 7 is not an ODBC version.
    assert_eq!(unsafe { SQLSetEnvAttr(env, EnvAttr::SQL_ATTR_ODBC_VERSION, 7 as SqlPointer, 0) }, SqlReturn::SQL_ERROR);
    assert_eq!(state(HandleType::SQL_HANDLE_ENV, env), "HY024");
}

#[test]
fn stale_and_garbage_handles_are_invalid_not_crashes() {
    let (_e, d) = sqlite_dbc("stale");
    let s = stmt(d);
    // SAFETY: freeing a live statement, then using the stale value (the point of the test),
    // then a garbage value that never was a handle.
    unsafe {
        assert_eq!(SQLFreeHandle(HandleType::SQL_HANDLE_STMT, s), SqlReturn::SQL_SUCCESS);
        assert_eq!(SQLFetch(s), SqlReturn::SQL_INVALID_HANDLE);
        assert_eq!(SQLExecDirect(s, "select 1".as_ptr(), 8), SqlReturn::SQL_INVALID_HANDLE);
        assert_eq!(SQLFreeHandle(HandleType::SQL_HANDLE_STMT, s), SqlReturn::SQL_INVALID_HANDLE);
        assert_eq!(SQLFetch(0xdead_beef_usize as SqlHandle), SqlReturn::SQL_INVALID_HANDLE);
        assert_eq!(SQLFetch(null_mut()), SqlReturn::SQL_INVALID_HANDLE);
        assert_eq!(SQLDisconnect(0x1234_5678 as SqlHandle), SqlReturn::SQL_INVALID_HANDLE);
    }
}

#[test]
fn im003_missing_shared_object_carries_dlerror_text() {
    let env = env3();
    let d = dbc(env);
    assert_eq!(connect(d, "DRIVER=/nonexistent/libnothing.so;Database=x"), SqlReturn::SQL_ERROR);
    let (st, msg) = diag(HandleType::SQL_HANDLE_DBC, d);
    assert_eq!(st, "IM003");
    assert!(msg.contains("libnothing.so") && msg.contains("No such file"), "{msg}");
}

#[test]
fn im003_shared_object_that_is_not_a_driver() {
    let env = env3();
    let d = dbc(env);
    // libm is a real shared object with no ODBC entry points.
    assert_eq!(connect(d, "DRIVER=/lib/x86_64-linux-gnu/libm.so.6"), SqlReturn::SQL_ERROR);
    let (st, msg) = diag(HandleType::SQL_HANDLE_DBC, d);
    assert_eq!(st, "IM003");
    assert!(msg.contains("not an ODBC driver"), "{msg}");
}

#[test]
fn im002_unknown_dsn_and_unknown_driver_name() {
    common::init();
    let env = env3();
    let d = dbc(env);
    assert_eq!(connect(d, "DSN=no-such-dsn-here"), SqlReturn::SQL_ERROR);
    assert_eq!(state(HandleType::SQL_HANDLE_DBC, d), "IM002");
    assert_eq!(connect(d, "DRIVER={No Such Driver};PWD=secret"), SqlReturn::SQL_ERROR);
    let (st, msg) = diag(HandleType::SQL_HANDLE_DBC, d);
    assert_eq!(st, "IM002");
    assert!(!msg.contains("secret"), "password leaked into the message: {msg}");
}

/// §1.13: attributes set before connecting are stored by the DM and replayed after the
/// driver is loaded; a driver refusal is IM006 with SQL_SUCCESS_WITH_INFO, and the
/// connection is made.
#[test]
fn s1_13_replayed_attribute_refused_by_driver_is_im006_with_info() {
    let env = env3();
    let d = dbc(env);
    // SAFETY: live dbc; 4242 is an attribute no driver knows; stored by the DM in C2.
    assert_eq!(unsafe { SQLSetConnectAttr(d, ConnAttr(4242), 7 as SqlPointer, 0) }, SqlReturn::SQL_SUCCESS);
    let rc = connect(d, &common::refdriver_conn_str(""));
    assert_eq!(rc, SqlReturn::SQL_SUCCESS_WITH_INFO);
    let (st, msg) = diag(HandleType::SQL_HANDLE_DBC, d);
    assert_eq!(st, "IM006", "{msg}");
    // The connection is usable.
    let s = stmt(d);
    // SAFETY: live statement.
    assert!(unsafe { SQLExecDirect(s, "select 1".as_ptr(), 8) }.is_success());
}

/// Diagnostics (issue 2 point 6): header and record fields through SQLGetDiagField, DM and
/// driver records merged in order, truncation with the full length (01004 semantics of the
/// diagnostic functions: SQL_SUCCESS_WITH_INFO and the untruncated length).
#[test]
fn diag_fields_header_and_records() {
    let (_e, d) = sqlite_dbc("diagfields");
    let s = stmt(d);
    let sql = "select * from no_such_table";
    // SAFETY: live statement; text outlives the call.
    assert_eq!(unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) }, SqlReturn::SQL_ERROR);
    let ht = HandleType::SQL_HANDLE_STMT;
    let mut n: i32 = 0;
    let mut rc16: i16 = 0;
    let mut len = 0i16;
    // SAFETY: value buffers of the field types (SQLINTEGER, SQLRETURN).
    unsafe {
        assert_eq!(SQLGetDiagField(ht, s, 0, DiagField::SQL_DIAG_NUMBER, (&mut n as *mut i32).cast(), 0, &mut len), SqlReturn::SQL_SUCCESS);
        assert_eq!(
            SQLGetDiagField(ht, s, 0, DiagField::SQL_DIAG_RETURNCODE, (&mut rc16 as *mut i16).cast(), 0, &mut len),
            SqlReturn::SQL_SUCCESS
        );
    }
    assert!(n >= 1);
    assert_eq!(rc16, SqlReturn::SQL_ERROR.0);
    let mut buf = [0u8; 64];
    // SAFETY: 64-byte buffer.
    unsafe {
        assert!(SQLGetDiagField(ht, s, 1, DiagField::SQL_DIAG_SQLSTATE, buf.as_mut_ptr().cast(), 64, &mut len).is_success());
    }
    assert_eq!(&buf[..5], b"HY000");
    // SAFETY: 64-byte buffer.
    unsafe { assert!(SQLGetDiagField(ht, s, 1, DiagField::SQL_DIAG_CLASS_ORIGIN, buf.as_mut_ptr().cast(), 64, &mut len).is_success()) };
    // Class HY is the ISO call-level interface's (SQLGetDiagField: only class IM is ODBC's).
    assert_eq!(&buf[..len as usize], b"ISO 9075");
    // Message truncated to 8 bytes: SUCCESS_WITH_INFO and the full length.
    let mut full = [0u8; 512];
    let mut full_len = 0i16;
    let mut small = [0u8; 8];
    let mut small_len = 0i16;
    // SAFETY: buffers as sized.
    unsafe {
        assert_eq!(
            SQLGetDiagField(ht, s, 1, DiagField::SQL_DIAG_MESSAGE_TEXT, full.as_mut_ptr().cast(), 512, &mut full_len),
            SqlReturn::SQL_SUCCESS
        );
        assert_eq!(
            SQLGetDiagField(ht, s, 1, DiagField::SQL_DIAG_MESSAGE_TEXT, small.as_mut_ptr().cast(), 8, &mut small_len),
            SqlReturn::SQL_SUCCESS_WITH_INFO
        );
    }
    assert_eq!(small_len, full_len);
    assert_eq!(&small[..7], &full[..7]);
    assert_eq!(small[7], 0);
    let msg = String::from_utf8_lossy(&full[..full_len as usize]);
    assert!(msg.contains("no such table"), "{msg}");
    // SQL_DIAG_ROW_COUNT is a statement header field answered by the driver.
    let mut rows: isize = -99;
    // SAFETY: SQLLEN buffer.
    unsafe {
        assert!(SQLGetDiagField(ht, s, 0, DiagField::SQL_DIAG_ROW_COUNT, (&mut rows as *mut isize).cast(), 0, &mut len).is_success())
    };
    assert!(rows >= -1, "{rows}");
    // Past the last record: SQL_NO_DATA; record 0 of a record field: SQL_ERROR.
    // SAFETY: buffers as sized.
    unsafe {
        assert_eq!(
            SQLGetDiagField(ht, s, (n + 1) as i16, DiagField::SQL_DIAG_SQLSTATE, buf.as_mut_ptr().cast(), 64, &mut len),
            SqlReturn::SQL_NO_DATA
        );
    }
    // A new call clears the area (§1.12 for the repeated-call case; every call in general).
    let ok = "select 1";
    // SAFETY: live statement.
    unsafe {
        assert!(SQLExecDirect(s, ok.as_ptr(), ok.len() as i32).is_success());
        assert!(SQLGetDiagField(ht, s, 0, DiagField::SQL_DIAG_NUMBER, (&mut n as *mut i32).cast(), 0, &mut len).is_success());
    }
    assert_eq!(n, 0);
}

/// §4.8: SQLCancel during a NEED_DATA sequence returns the statement to its state before
/// the SQLExecute (S2, prepared), and §3.3 replaces the diagnostics with SQLCancel's.
#[test]
fn s4_8_cancel_need_data_returns_to_prepared_state() {
    let (_e, d) = sqlite_dbc("needdata-cancel");
    let s = stmt(d);
    let create = "create table t(v text)";
    let insert = "insert into t values (?)";
    let mut ind: isize = SQL_LEN_DATA_AT_EXEC_OFFSET - 5; // SQL_LEN_DATA_AT_EXEC(5)
                                                          // SAFETY: live statement; the token value (1) is what SQLParamData hands back; `ind`
                                                          // outlives the execution.
    unsafe {
        assert!(SQLExecDirect(s, create.as_ptr(), create.len() as i32).is_success());
        assert!(SQLPrepare(s, insert.as_ptr(), insert.len() as i32).is_success());
        assert!(SQLBindParameter(
            s,
            1,
            ParamIoType::SQL_PARAM_INPUT,
            CDataType::SQL_C_CHAR,
            SqlDataType::SQL_VARCHAR,
            5,
            0,
            1 as SqlPointer,
            0,
            &mut ind
        )
        .is_success());
        assert_eq!(SQLExecute(s), SqlReturn::SQL_NEED_DATA);
        // S8: only SQLParamData, SQLCancel and a few others.
        assert_eq!(SQLExecute(s), SqlReturn::SQL_ERROR);
        assert_eq!(state(HandleType::SQL_HANDLE_STMT, s), "HY010");
        assert_eq!(SQLCancel(s), SqlReturn::SQL_SUCCESS);
        // Back in S2: executing the prepared statement is allowed again.
        assert_eq!(SQLExecute(s), SqlReturn::SQL_NEED_DATA);
        let mut token: SqlPointer = null_mut();
        assert_eq!(SQLParamData(s, &mut token), SqlReturn::SQL_NEED_DATA);
        assert_eq!(token as usize, 1);
        assert!(SQLPutData(s, b"hello".as_ptr() as SqlPointer, 5).is_success());
        assert!(SQLParamData(s, &mut token).is_success());
    }
}

/// The fast lane (docs/architecture.md "call gate") must keep the diagnostics exact: an
/// error returned inside the lane is recorded like any other, and the next call clears it.
#[test]
fn fast_lane_errors_are_recorded_and_cleared() {
    let (_e, d) = sqlite_dbc("fastlane");
    let s = stmt(d);
    let sql = "select 1 union all select 2 union all select 3";
    let mut v = 0i32;
    let mut ind = 0isize;
    let mut n = -1i32;
    let mut rc16 = 0i16;
    let mut len = 0i16;
    // SAFETY: live statement; buffers as sized.
    unsafe {
        assert!(SQLExecDirect(s, sql.as_ptr(), sql.len() as i32).is_success());
        assert_eq!(SQLFetch(s), SqlReturn::SQL_SUCCESS); // S5 → S6 (slow path)
        assert_eq!(SQLGetData(s, 1, CDataType::SQL_C_SLONG, (&mut v as *mut i32).cast(), 4, &mut ind), SqlReturn::SQL_SUCCESS);
        assert_eq!(SQLFetch(s), SqlReturn::SQL_SUCCESS); // S6 → S6 (fast lane)
                                                         // Column 99 does not exist: the driver's error, inside the lane.
        assert_eq!(SQLGetData(s, 99, CDataType::SQL_C_SLONG, (&mut v as *mut i32).cast(), 4, &mut ind), SqlReturn::SQL_ERROR);
        assert_eq!(state(HandleType::SQL_HANDLE_STMT, s), "07009");
        assert!(SQLGetDiagField(
            HandleType::SQL_HANDLE_STMT,
            s,
            0,
            DiagField::SQL_DIAG_RETURNCODE,
            (&mut rc16 as *mut i16).cast(),
            0,
            &mut len
        )
        .is_success());
        assert_eq!(rc16, SqlReturn::SQL_ERROR.0);
        // The next call starts clean.
        assert_eq!(SQLGetData(s, 1, CDataType::SQL_C_SLONG, (&mut v as *mut i32).cast(), 4, &mut ind), SqlReturn::SQL_SUCCESS);
        assert_eq!(v, 2);
        assert!(SQLGetDiagField(HandleType::SQL_HANDLE_STMT, s, 0, DiagField::SQL_DIAG_NUMBER, (&mut n as *mut i32).cast(), 0, &mut len)
            .is_success());
        assert_eq!(n, 0);
        assert!(SQLGetDiagField(
            HandleType::SQL_HANDLE_STMT,
            s,
            0,
            DiagField::SQL_DIAG_RETURNCODE,
            (&mut rc16 as *mut i16).cast(),
            0,
            &mut len
        )
        .is_success());
        assert_eq!(rc16, SqlReturn::SQL_SUCCESS.0);
        assert_eq!(SQLFetch(s), SqlReturn::SQL_SUCCESS);
        assert_eq!(SQLFetch(s), SqlReturn::SQL_NO_DATA);
        // After the cursor is exhausted and closed, SQLGetData is HY010/24000 from the DM.
        assert!(SQLCloseCursor(s).is_success());
        assert_eq!(SQLGetData(s, 1, CDataType::SQL_C_SLONG, (&mut v as *mut i32).cast(), 4, &mut ind), SqlReturn::SQL_ERROR);
    }
    assert_eq!(state(HandleType::SQL_HANDLE_STMT, s), "HY010");
}
