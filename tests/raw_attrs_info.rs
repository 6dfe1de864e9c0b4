//! Attributes, SQLGetInfo, SQLGetFunctions, descriptors and the DM-only enumerations of
//! `odbc_dm::raw`, against real drivers loaded by absolute path: Debian's SQLite ODBC
//! driver (narrow-only) and psqlODBC (wide) when PostgreSQL listens on 127.0.0.1:5432.
//! Each test names the rule it proves (§N.M of /work/shared/spec/odbc-rules.md).
//!
//! Environment variables are process-wide: every test of this file calls [`init`] first,
//! which (once, through a `std::sync::Once`) writes a private odbcinst.ini / odbc.ini and
//! points ODBCSYSINI / ODBCINI at them, so all tests see the same configuration.

use std::path::PathBuf;
use std::ptr::null_mut;
use std::sync::Once;

use odbc_dm::abi::*;
use odbc_dm::raw::*;

mod common;

const SQLITE: &str = "/usr/lib/x86_64-linux-gnu/odbc/libsqlite3odbc.so";
const PSQL: &str = "/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so";

fn config_dir() -> PathBuf {
    std::env::temp_dir().join(format!("odbc-dm-raw-attrs-info-{}", std::process::id()))
}

/// Writes the private ini files and sets ODBCSYSINI / ODBCINI, once per test binary.
fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let dir = config_dir();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("odbcinst.ini"),
            format!("[ODBC]\nTrace=No\n\n[SQLite3 Test]\nDescription=SQLite3 ODBC for raw_attrs_info\nDriver={SQLITE}\nThreading=2\n\n[PostgreSQL Test]\nDescription=psqlODBC\nDriver={PSQL}\n"),
        )
        .unwrap();
        std::fs::write(dir.join("odbc.ini"), "[SystemDsnA]\nDriver=SQLite3 Test\nDatabase=/tmp/a.db\n\n[SystemDsnB]\nDriver=PostgreSQL Test\n").unwrap();
        std::fs::write(dir.join("user-odbc.ini"), "[UserDsn]\nDriver=SQLite3 Test\nDatabase=/tmp/u.db\n").unwrap();
        std::env::set_var("ODBCSYSINI", &dir);
        std::env::set_var("ODBCINI", dir.join("user-odbc.ini"));
        std::env::remove_var("ODBCINSTINI");
    });
}

fn temp_db(name: &str) -> PathBuf {
    let p = config_dir().join(format!("{name}-{:?}.db", std::thread::current().id()).replace(['(', ')'], ""));
    let _ = std::fs::remove_file(&p);
    p
}

fn sqlite_cs(name: &str) -> String {
    format!("DRIVER={SQLITE};Database={}", temp_db(name).display())
}

/// psqlODBC connection string, or `None` after [`common::skip`] (a failure in the test command).
fn psql_cs(test: &str) -> Option<String> {
    common::postgres_conn_str(test)?;
    Some(format!("DRIVER={PSQL};Servername=127.0.0.1;Port=5432;Database=test;Username=postgres"))
}

/// First diagnostic record: (SQLSTATE, message).
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

/// All SQLSTATEs of a handle's diagnostics.
fn states(ht: HandleType, h: SqlHandle) -> Vec<String> {
    let mut out = Vec::new();
    for i in 1..20 {
        let mut st = [0u8; 6];
        let mut native = 0;
        let mut msg = [0u8; 512];
        let mut len = 0i16;
        // SAFETY: valid buffers of the sizes passed.
        let rc = unsafe { SQLGetDiagRec(ht, h, i, st.as_mut_ptr(), &mut native, msg.as_mut_ptr(), 512, &mut len) };
        if !rc.is_success() {
            break;
        }
        out.push(String::from_utf8_lossy(&st[..5]).into_owned());
    }
    out
}

fn dbc_state(d: SqlHandle) -> String {
    diag(HandleType::SQL_HANDLE_DBC, d).0
}

fn env3() -> SqlHandle {
    init();
    let mut env = null_mut();
    // SAFETY: valid out pointer.
    unsafe {
        assert_eq!(SQLAllocHandle(HandleType::SQL_HANDLE_ENV, null_mut(), &mut env), SqlReturn::SQL_SUCCESS);
        assert_eq!(SQLSetEnvAttr(env, EnvAttr::SQL_ATTR_ODBC_VERSION, SQL_OV_ODBC3 as usize as SqlPointer, 0), SqlReturn::SQL_SUCCESS);
    }
    env
}

fn new_dbc() -> (SqlHandle, SqlHandle) {
    let env = env3();
    let mut d = null_mut();
    // SAFETY: live env, valid out pointer.
    assert_eq!(unsafe { SQLAllocHandle(HandleType::SQL_HANDLE_DBC, env, &mut d) }, SqlReturn::SQL_SUCCESS);
    (env, d)
}

fn connect(d: SqlHandle, cs: &str) {
    // SAFETY: live dbc; the string outlives the call.
    let rc = unsafe {
        SQLDriverConnect(d, null_mut(), cs.as_ptr(), cs.len() as i16, null_mut(), 0, null_mut(), DriverCompletion::SQL_DRIVER_NOPROMPT)
    };
    assert!(rc.is_success(), "connect {cs}: {rc:?} {:?}", diag(HandleType::SQL_HANDLE_DBC, d));
}

fn connected(cs: &str) -> (SqlHandle, SqlHandle) {
    let (env, d) = new_dbc();
    connect(d, cs);
    (env, d)
}

fn stmt(d: SqlHandle) -> SqlHandle {
    let mut s = null_mut();
    // SAFETY: live dbc, valid out pointer.
    assert_eq!(unsafe { SQLAllocHandle(HandleType::SQL_HANDLE_STMT, d, &mut s) }, SqlReturn::SQL_SUCCESS);
    s
}

fn exec(s: SqlHandle, sql: &str) {
    // SAFETY: live statement; the text outlives the call.
    let rc = unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) };
    assert!(rc.is_success() || rc == SqlReturn::SQL_NO_DATA, "{sql}: {rc:?} {:?}", diag(HandleType::SQL_HANDLE_STMT, s));
}

fn get_functions(d: SqlHandle, id: u16) -> (SqlReturn, u16) {
    let mut v = 0u16;
    // SAFETY: live dbc; a one-word out buffer for a single id.
    let rc = unsafe { SQLGetFunctions(d, FunctionId(id), &mut v) };
    (rc, v)
}

fn disconnect(env: SqlHandle, d: SqlHandle) {
    // SAFETY: live handles, freed in order.
    unsafe {
        SQLDisconnect(d);
        SQLFreeHandle(HandleType::SQL_HANDLE_DBC, d);
        SQLFreeHandle(HandleType::SQL_HANDLE_ENV, env);
    }
}

// ---------------------------------------------------------------------------------------
// SQLGetInfo
// ---------------------------------------------------------------------------------------

#[test]
fn s4_3_getinfo_before_connect_is_08003_but_odbc_ver_and_dm_ver_are_answered() {
    let (_env, d) = new_dbc();
    let mut buf = [0u8; 64];
    let mut len = 0i16;
    // SAFETY: live dbc; buffer of 64 bytes.
    let rc = unsafe { SQLGetInfo(d, InfoType::SQL_DBMS_NAME, buf.as_mut_ptr().cast(), 64, &mut len) };
    assert_eq!(rc, SqlReturn::SQL_ERROR);
    assert_eq!(dbc_state(d), "08003");

    // SAFETY: as above.
    let rc = unsafe { SQLGetInfo(d, InfoType::SQL_ODBC_VER, buf.as_mut_ptr().cast(), 64, &mut len) };
    assert_eq!(rc, SqlReturn::SQL_SUCCESS);
    assert_eq!(&buf[..len as usize], b"03.80.0000");

    // W form: lengths in bytes.
    let mut wbuf = [0u16; 32];
    // SAFETY: live dbc; buffer of 64 bytes.
    let rc = unsafe { SQLGetInfoW(d, InfoType::SQL_DM_VER, wbuf.as_mut_ptr().cast(), 64, &mut len) };
    assert_eq!(rc, SqlReturn::SQL_SUCCESS);
    let s = String::from_utf16(&wbuf[..len as usize / 2]).unwrap();
    assert!(s.starts_with("03.80."), "{s}");
    assert_eq!(len as usize, s.len() * 2);

    // HY090: negative BufferLength.
    // SAFETY: as above.
    let rc = unsafe { SQLGetInfo(d, InfoType::SQL_ODBC_VER, buf.as_mut_ptr().cast(), -1, &mut len) };
    assert_eq!(rc, SqlReturn::SQL_ERROR);
    assert_eq!(dbc_state(d), "HY090");
}

/// SQLGetInfo(SQL_XOPEN_CLI_YEAR) is the Driver Manager's compliance year (the
/// specification: "the Open Group specification with which the version of the ODBC Driver
/// Manager fully complies"), answered by the DM in both widths whatever the driver says
/// (psqlODBC itself answers HYC00, MariaDB "1992").
#[test]
fn s6_5_xopen_cli_year_is_the_dms_psql() {
    let Some(cs) = psql_cs("s6_5_xopen_cli_year_is_the_dms_psql") else { return };
    let (env, d) = connected(&cs);
    let mut buf = [0u8; 16];
    let mut len = 0i16;
    // SAFETY: live dbc; buffer of 16 bytes.
    let rc = unsafe { SQLGetInfo(d, InfoType::SQL_XOPEN_CLI_YEAR, buf.as_mut_ptr().cast(), 16, &mut len) };
    assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{:?}", diag(HandleType::SQL_HANDLE_DBC, d));
    assert_eq!(&buf[..len as usize], b"1995");
    let mut w = [0u16; 8];
    // SAFETY: live dbc; buffer of 16 bytes.
    let rc = unsafe { SQLGetInfoW(d, InfoType::SQL_XOPEN_CLI_YEAR, w.as_mut_ptr().cast(), 16, &mut len) };
    assert_eq!(rc, SqlReturn::SQL_SUCCESS);
    assert_eq!((len, String::from_utf16_lossy(&w[..4])), (8, "1995".to_string()));
    disconnect(env, d);
}

/// SQLGetInfoW(SQL_DRIVER_NAME) through the narrow-only SQLite driver: the DM converts,
/// counts bytes of UTF-16, and reports truncation with 01004 and the full length.
#[test]
fn getinfo_w_driver_name_through_narrow_driver_converts_and_truncates_with_01004() {
    let (env, d) = connected(&sqlite_cs("info-w"));
    let mut w = [0u16; 128];
    let mut len = 0i16;
    // SAFETY: live dbc; 256-byte buffer.
    let rc = unsafe { SQLGetInfoW(d, InfoType::SQL_DRIVER_NAME, w.as_mut_ptr().cast(), 256, &mut len) };
    assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{:?}", diag(HandleType::SQL_HANDLE_DBC, d));
    let name = String::from_utf16(&w[..len as usize / 2]).unwrap();
    assert!(name.contains("sqlite"), "{name}");
    assert_eq!(len as usize, name.len() * 2, "StringLength is in bytes");

    let mut small = [0xFFFFu16; 4];
    // SAFETY: live dbc; 6-byte buffer (2 characters + NUL).
    let rc = unsafe { SQLGetInfoW(d, InfoType::SQL_DRIVER_NAME, small.as_mut_ptr().cast(), 6, &mut len) };
    assert_eq!(rc, SqlReturn::SQL_SUCCESS_WITH_INFO);
    assert_eq!(dbc_state(d), "01004");
    assert_eq!(len as usize, name.len() * 2, "full length in bytes");
    assert_eq!(String::from_utf16(&small[..2]).unwrap(), name[..2]);
    assert_eq!(small[2], 0);

    // A non-string info type passes through unchanged.
    let mut txn: u16 = 99;
    // SAFETY: live dbc; a SQLUSMALLINT buffer.
    let rc = unsafe { SQLGetInfoW(d, InfoType::SQL_TXN_CAPABLE, (&mut txn as *mut u16).cast(), 2, &mut len) };
    assert!(rc.is_success());
    assert!(txn <= 4);
    disconnect(env, d);
}

/// SQLGetInfo (A) through psqlODBC, whose ANSI twins the DM does not use: converted from
/// UTF-16, with 01004 and the full UTF-8 length on truncation.
#[test]
fn getinfo_a_driver_name_through_wide_driver_converts_and_truncates_with_01004() {
    let Some(cs) = psql_cs("getinfo_a_driver_name_through_wide_driver") else { return };
    let (env, d) = connected(&cs);
    let mut buf = [0u8; 128];
    let mut len = 0i16;
    // SAFETY: live dbc; 128-byte buffer.
    let rc = unsafe { SQLGetInfo(d, InfoType::SQL_DRIVER_NAME, buf.as_mut_ptr().cast(), 128, &mut len) };
    assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{:?}", diag(HandleType::SQL_HANDLE_DBC, d));
    let name = String::from_utf8(buf[..len as usize].to_vec()).unwrap();
    assert!(name.to_lowercase().contains("psqlodbc"), "{name}");

    let mut small = [0xAAu8; 4];
    // SAFETY: live dbc; 4-byte buffer.
    let rc = unsafe { SQLGetInfo(d, InfoType::SQL_DRIVER_NAME, small.as_mut_ptr().cast(), 4, &mut len) };
    assert_eq!(rc, SqlReturn::SQL_SUCCESS_WITH_INFO);
    assert_eq!(dbc_state(d), "01004");
    assert_eq!(len as usize, name.len());
    assert_eq!(&small[..3], &name.as_bytes()[..3]);
    assert_eq!(small[3], 0);

    // SQL_ODBC_VER is the DM's even after connect.
    // SAFETY: as above.
    let rc = unsafe { SQLGetInfo(d, InfoType::SQL_ODBC_VER, buf.as_mut_ptr().cast(), 128, &mut len) };
    assert_eq!(rc, SqlReturn::SQL_SUCCESS);
    assert_eq!(&buf[..len as usize], b"03.80.0000");
    disconnect(env, d);
}

#[test]
fn getinfo_driver_handles_are_the_drivers() {
    let (env, d) = connected(&sqlite_cs("info-handles"));
    let s = stmt(d);
    let mut h: SqlHandle = null_mut();
    // SAFETY: live dbc; a handle-sized buffer.
    unsafe {
        assert!(SQLGetInfo(d, InfoType::SQL_DRIVER_HDBC, (&mut h as *mut SqlHandle).cast(), 8, null_mut()).is_success());
        assert!(!h.is_null() && h != d);
        assert!(SQLGetInfo(d, InfoType::SQL_DRIVER_HLIB, (&mut h as *mut SqlHandle).cast(), 8, null_mut()).is_success());
        assert!(!h.is_null());
        // SQL_DRIVER_HSTMT: the DM statement handle goes in, the driver's comes out.
        h = s;
        assert!(SQLGetInfo(d, InfoType::SQL_DRIVER_HSTMT, (&mut h as *mut SqlHandle).cast(), 8, null_mut()).is_success());
        assert!(!h.is_null() && h != s);
    }
    disconnect(env, d);
}

// ---------------------------------------------------------------------------------------
// SQLGetFunctions
// ---------------------------------------------------------------------------------------

#[test]
fn s6_5_getfunctions_before_connect_is_hy010() {
    let (_env, d) = new_dbc();
    assert_eq!(get_functions(d, FunctionId::SQL_API_SQLFETCH.0).0, SqlReturn::SQL_ERROR);
    assert_eq!(dbc_state(d), "HY010");
}

#[test]
fn s6_5_getfunctions_bad_id_is_hy095() {
    let (env, d) = connected(&sqlite_cs("fn-bad"));
    for bad in [998u16, 1013, 1500, 4000, 60000] {
        assert_eq!(get_functions(d, bad).0, SqlReturn::SQL_ERROR, "id {bad}");
        assert_eq!(dbc_state(d), "HY095", "id {bad}");
    }
    disconnect(env, d);
}

/// §6.6: the ODBC3 bitmap agrees with every single-id answer, and with the 2.x array;
/// SQLCancelHandle's two ids (1022 unixODBC, 1550 Microsoft) agree (§7.6); the DM's own
/// functions are always there (§6.5).
fn check_function_maps(d: SqlHandle) {
    let mut map = [0u16; 250];
    // SAFETY: live dbc; 250-word buffer.
    assert_eq!(unsafe { SQLGetFunctions(d, FunctionId::SQL_API_ODBC3_ALL_FUNCTIONS, map.as_mut_ptr()) }, SqlReturn::SQL_SUCCESS);
    let bit = |id: u16| map[(id >> 4) as usize] & (1 << (id & 15)) != 0;
    let mut all = [0u16; 100];
    // SAFETY: live dbc; 100-element buffer.
    assert_eq!(unsafe { SQLGetFunctions(d, FunctionId::SQL_API_ALL_FUNCTIONS, all.as_mut_ptr()) }, SqlReturn::SQL_SUCCESS);
    let mut valid = 0;
    for id in 1u16..4000 {
        if id == 999 {
            continue;
        }
        let (rc, v) = get_functions(d, id);
        if rc == SqlReturn::SQL_ERROR {
            assert_eq!(dbc_state(d), "HY095");
            assert!(!bit(id), "bit {id} set for an invalid id");
            continue;
        }
        valid += 1;
        assert_eq!(rc, SqlReturn::SQL_SUCCESS);
        assert_eq!(v == 1, bit(id), "bitmap and single answer disagree for {id}");
        if id < 100 {
            assert_eq!(all[id as usize], v, "2.x array and single answer disagree for {id}");
        }
    }
    assert!(valid > 70, "only {valid} valid ids");
    assert_eq!(bit(1022), bit(1550), "SQLCancelHandle ids disagree (§6.6)");
    assert_eq!(get_functions(d, 1022).1, get_functions(d, 1550).1);
    for id in [
        FunctionId::SQL_API_SQLGETFUNCTIONS,
        FunctionId::SQL_API_SQLDATASOURCES,
        FunctionId::SQL_API_SQLDRIVERS,
        FunctionId::SQL_API_SQLALLOCHANDLE,
        FunctionId::SQL_API_SQLFREEHANDLE,
        FunctionId::SQL_API_SQLGETDIAGREC,
        FunctionId::SQL_API_SQLGETDIAGFIELD,
        FunctionId::SQL_API_SQLSETENVATTR,
        FunctionId::SQL_API_SQLGETENVATTR,
        FunctionId::SQL_API_SQLERROR,
        FunctionId::SQL_API_SQLALLOCENV,
        FunctionId::SQL_API_SQLALLOCCONNECT,
        FunctionId::SQL_API_SQLFREEENV,
        FunctionId::SQL_API_SQLFREECONNECT,
        FunctionId::SQL_API_SQLFETCH,
        FunctionId::SQL_API_SQLSETCONNECTATTR,
        FunctionId::SQL_API_SQLGETINFO,
    ] {
        assert!(bit(id.0), "{id:?} not reported");
    }
}

#[test]
fn s6_6_odbc3_bitmap_consistent_with_single_ids_and_both_cancel_handle_ids_sqlite() {
    let (env, d) = connected(&sqlite_cs("fn-map"));
    check_function_maps(d);
    // libsqlite3odbc exports SQLCancel but not SQLCancelHandle: neither id is reported (§3.5).
    assert_eq!(get_functions(d, 1022), (SqlReturn::SQL_SUCCESS, 0));
    assert_eq!(get_functions(d, 1550), (SqlReturn::SQL_SUCCESS, 0));
    disconnect(env, d);
}

#[test]
fn s6_6_odbc3_bitmap_consistent_with_single_ids_and_both_cancel_handle_ids_psql() {
    let Some(cs) = psql_cs("s6_6_odbc3_bitmap_psql") else { return };
    let (env, d) = connected(&cs);
    check_function_maps(d);
    // The wide driver's W-only twins count (§6.5): SQLColumns is reported.
    assert_eq!(get_functions(d, FunctionId::SQL_API_SQLCOLUMNS.0), (SqlReturn::SQL_SUCCESS, 1));
    // §6.5: what the DM maps onto other entry points is reported when it can map it, and
    // works: psqlODBC exports neither SQLParamOptions nor SQLSetScrollOptions (the DM sets
    // statement attributes), and SQLBindParam/SQLSetParam go to its SQLBindParameter.
    for id in [22u16, 64, 69, 1002] {
        assert_eq!(get_functions(d, id), (SqlReturn::SQL_SUCCESS, 1), "function id {id}");
    }
    // SQLBrowseConnect is not offered (decision #7: always IM001), so never reported.
    assert_eq!(get_functions(d, 55), (SqlReturn::SQL_SUCCESS, 0));
    let s = stmt(d);
    let mut irow: SqlULen = 0;
    // SAFETY: live statement; `irow` outlives the statement's use of it (freed below).
    let rc = unsafe { SQLParamOptions(s, 2, &mut irow) };
    assert!(rc.is_success(), "SQLParamOptions: {rc:?} {:?}", diag(HandleType::SQL_HANDLE_STMT, s));
    // SAFETY: live statement in S1.
    let rc = unsafe {
        SQLSetScrollOptions(s, 1, -3 /* SQL_SCROLL_STATIC */, 1)
    };
    assert!(rc.is_success(), "SQLSetScrollOptions: {rc:?} {:?}", diag(HandleType::SQL_HANDLE_STMT, s));
    // SAFETY: live statement.
    unsafe { SQLFreeHandle(HandleType::SQL_HANDLE_STMT, s) };
    disconnect(env, d);
}

// ---------------------------------------------------------------------------------------
// Connection and environment attributes
// ---------------------------------------------------------------------------------------

fn get_u32_attr(d: SqlHandle, attr: ConnAttr) -> (SqlReturn, u32) {
    let mut v: u32 = 0xDEAD;
    // SAFETY: live dbc; a SQLUINTEGER buffer.
    let rc = unsafe { SQLGetConnectAttr(d, attr, (&mut v as *mut u32).cast(), 0, null_mut()) };
    (rc, v)
}

fn autocommit_stored_then_replayed(cs: &str) {
    let (env, d) = new_dbc();
    // Before connect: default ON, answered by the DM.
    assert_eq!(get_u32_attr(d, ConnAttr::SQL_ATTR_AUTOCOMMIT), (SqlReturn::SQL_SUCCESS, 1));
    // SAFETY: live dbc; integer attribute by value.
    let rc = unsafe { SQLSetConnectAttr(d, ConnAttr::SQL_ATTR_AUTOCOMMIT, SQL_AUTOCOMMIT_OFF as SqlPointer, SQL_IS_UINTEGER) };
    assert_eq!(rc, SqlReturn::SQL_SUCCESS);
    assert_eq!(get_u32_attr(d, ConnAttr::SQL_ATTR_AUTOCOMMIT), (SqlReturn::SQL_SUCCESS, 0));
    // An attribute that needs the driver: 08003 before connect.
    assert_eq!(get_u32_attr(d, ConnAttr::SQL_ATTR_TXN_ISOLATION).0, SqlReturn::SQL_ERROR);
    assert_eq!(dbc_state(d), "08003");
    connect(d, cs);
    // After connect the driver answers, and it says OFF: the DM replayed the stored value.
    let (rc, v) = get_u32_attr(d, ConnAttr::SQL_ATTR_AUTOCOMMIT);
    assert!(rc.is_success(), "{:?}", diag(HandleType::SQL_HANDLE_DBC, d));
    assert_eq!(v, 0, "SQL_ATTR_AUTOCOMMIT was not replayed at connect (§1.13)");
    // SAFETY: live dbc.
    let rc = unsafe { SQLSetConnectAttr(d, ConnAttr::SQL_ATTR_AUTOCOMMIT, SQL_AUTOCOMMIT_ON as SqlPointer, SQL_IS_UINTEGER) };
    assert!(rc.is_success(), "{:?}", diag(HandleType::SQL_HANDLE_DBC, d));
    assert_eq!(get_u32_attr(d, ConnAttr::SQL_ATTR_AUTOCOMMIT).1, 1);
    disconnect(env, d);
}

#[test]
fn s1_13_autocommit_stored_before_connect_then_replayed_sqlite() {
    autocommit_stored_then_replayed(&sqlite_cs("autocommit"));
}

#[test]
fn s1_13_autocommit_stored_before_connect_then_replayed_psql() {
    let Some(cs) = psql_cs("s1_13_autocommit_psql") else { return };
    autocommit_stored_then_replayed(&cs);
}

/// §1.13: a character attribute set with SQLSetConnectAttrW before connect (length in
/// bytes) is stored as text and read back in either width.
#[test]
fn s1_13_string_attribute_stored_before_connect_w_bytes() {
    let (_env, d) = new_dbc();
    let cat: Vec<u16> = "main".encode_utf16().collect();
    // SAFETY: live dbc; the string outlives the call; length in bytes.
    let rc = unsafe { SQLSetConnectAttrW(d, ConnAttr::SQL_ATTR_CURRENT_CATALOG, cat.as_ptr() as SqlPointer, (cat.len() * 2) as i32) };
    assert_eq!(rc, SqlReturn::SQL_SUCCESS);
    let mut buf = [0u8; 16];
    let mut len = 0i32;
    // SAFETY: live dbc; 16-byte buffer.
    let rc = unsafe { SQLGetConnectAttr(d, ConnAttr::SQL_ATTR_CURRENT_CATALOG, buf.as_mut_ptr().cast(), 16, &mut len) };
    assert_eq!(rc, SqlReturn::SQL_SUCCESS);
    assert_eq!(&buf[..len as usize], b"main");
    let mut small = [0u16; 2];
    // SAFETY: live dbc; 4-byte buffer.
    let rc = unsafe { SQLGetConnectAttrW(d, ConnAttr::SQL_ATTR_CURRENT_CATALOG, small.as_mut_ptr().cast(), 4, &mut len) };
    assert_eq!(rc, SqlReturn::SQL_SUCCESS_WITH_INFO);
    assert_eq!(dbc_state(d), "01004");
    assert_eq!(len, 8);
    // HY009: null ValuePtr for a character attribute.
    // SAFETY: the null value is the bad input under test.
    assert_eq!(unsafe { SQLSetConnectAttr(d, ConnAttr::SQL_ATTR_CURRENT_CATALOG, null_mut(), SQL_NTS) }, SqlReturn::SQL_ERROR);
    assert_eq!(dbc_state(d), "HY009");
}

#[test]
fn unknown_connection_attribute_after_connect_reaches_the_driver() {
    let Some(cs) = psql_cs("unknown_connection_attribute_after_connect") else { return };
    let (env, d) = connected(&cs);
    // SAFETY: live dbc; 31337 is an attribute no driver knows.
    let rc = unsafe { SQLSetConnectAttr(d, ConnAttr(31337), 5 as SqlPointer, SQL_IS_UINTEGER) };
    assert_eq!(rc, SqlReturn::SQL_ERROR);
    let (st, msg) = diag(HandleType::SQL_HANDLE_DBC, d);
    // psqlODBC answers HYC00 ("Unknown connect option"); HY092/HY024 from others.
    assert!(["HY092", "HY024", "HYC00"].contains(&st.as_str()), "{st} {msg}");
    assert!(!msg.starts_with("[odbc-dm]"), "the DM answered instead of the driver: {msg}");
    disconnect(env, d);
}

#[test]
fn unknown_connection_attribute_before_connect_is_stored_sqlite_after_connect_forwarded() {
    // Before connect the DM cannot judge a driver attribute: it stores it (§1.13).
    let (env, d) = new_dbc();
    // SAFETY: live dbc.
    assert_eq!(unsafe { SQLSetConnectAttr(d, ConnAttr(31337), 5 as SqlPointer, SQL_IS_UINTEGER) }, SqlReturn::SQL_SUCCESS);
    assert_eq!(get_u32_attr(d, ConnAttr(31337)), (SqlReturn::SQL_SUCCESS, 5));
    // At connect the replay fails in the driver (or is accepted): never an error (IM006 is a warning).
    let cs = sqlite_cs("unknown-stored");
    // SAFETY: live dbc; the string outlives the call.
    let rc = unsafe {
        SQLDriverConnect(d, null_mut(), cs.as_ptr(), cs.len() as i16, null_mut(), 0, null_mut(), DriverCompletion::SQL_DRIVER_NOPROMPT)
    };
    assert!(rc.is_success(), "{:?}", diag(HandleType::SQL_HANDLE_DBC, d));
    disconnect(env, d);
}

#[test]
fn unknown_env_attribute_is_hy092_and_bad_odbc_version_is_hy024() {
    let env = env3();
    // SAFETY: live env; 4242 is the unknown attribute under test.
    assert_eq!(unsafe { SQLSetEnvAttr(env, EnvAttr(4242), null_mut(), 0) }, SqlReturn::SQL_ERROR);
    assert_eq!(diag(HandleType::SQL_HANDLE_ENV, env).0, "HY092");
    // SAFETY: live env; 7 is not an ODBC version.
    assert_eq!(unsafe { SQLSetEnvAttr(env, EnvAttr::SQL_ATTR_ODBC_VERSION, 7 as SqlPointer, 0) }, SqlReturn::SQL_ERROR);
    assert_eq!(diag(HandleType::SQL_HANDLE_ENV, env).0, "HY024");
}

#[test]
fn s2_2_im016_async_stmt_event_on_connection_and_dm_only_event_attributes() {
    let (env, d) = new_dbc();
    let mut ev = 0u64;
    // SAFETY: live dbc; the pointer is only stored.
    let rc = unsafe { SQLSetConnectAttr(d, ConnAttr(StmtAttr::SQL_ATTR_ASYNC_STMT_EVENT.0), (&mut ev as *mut u64).cast(), SQL_IS_POINTER) };
    assert_eq!(rc, SqlReturn::SQL_ERROR);
    assert_eq!(dbc_state(d), "IM016");
    // §2.2: the connection event is the DM's: it must be an AsyncEvent (HY024 otherwise,
    // §7.7); stored, answered, never sent to the driver.
    // SAFETY: as above.
    let rc = unsafe { SQLSetConnectAttr(d, ConnAttr::SQL_ATTR_ASYNC_DBC_EVENT, (&mut ev as *mut u64).cast(), SQL_IS_POINTER) };
    assert_eq!(rc, SqlReturn::SQL_ERROR);
    assert_eq!(dbc_state(d), "HY024");
    let event = odbc_dm::AsyncEvent::new().unwrap();
    // SAFETY: live dbc; the event's attribute value.
    let rc = unsafe { SQLSetConnectAttr(d, ConnAttr::SQL_ATTR_ASYNC_DBC_EVENT, event.as_attr(), SQL_IS_POINTER) };
    assert_eq!(rc, SqlReturn::SQL_SUCCESS);
    let mut back: usize = 0;
    // SAFETY: a pointer-sized buffer.
    let rc =
        unsafe { SQLGetConnectAttr(d, ConnAttr::SQL_ATTR_ASYNC_DBC_EVENT, (&mut back as *mut usize).cast(), SQL_IS_POINTER, null_mut()) };
    assert_eq!(rc, SqlReturn::SQL_SUCCESS);
    assert_eq!(back, event.as_attr() as usize);
    // §2.4: only the DM sets the notification callback and context.
    for attr in [ConnAttr::SQL_ATTR_ASYNC_DBC_NOTIFICATION_CALLBACK, ConnAttr::SQL_ATTR_ASYNC_DBC_NOTIFICATION_CONTEXT] {
        // SAFETY: live dbc.
        assert_eq!(unsafe { SQLSetConnectAttr(d, attr, 1 as SqlPointer, SQL_IS_POINTER) }, SqlReturn::SQL_ERROR);
        assert_eq!(dbc_state(d), "HY092");
    }
    // The event survives connect (it is not replayed to the driver) and still reads back.
    // libsqlite3odbc cannot notify: the DM emulates (without it the connect is S1118, §2.3;
    // tests/async_connection.rs).
    connect(d, &format!("{};AsyncEmulation=Yes", sqlite_cs("dbc-event")));
    let mut back2: usize = 0;
    // SAFETY: a pointer-sized buffer.
    let rc =
        unsafe { SQLGetConnectAttr(d, ConnAttr::SQL_ATTR_ASYNC_DBC_EVENT, (&mut back2 as *mut usize).cast(), SQL_IS_POINTER, null_mut()) };
    assert_eq!(rc, SqlReturn::SQL_SUCCESS);
    assert_eq!(back2, back);
    disconnect(env, d);
}

/// §2.4 / §2.2 / §2.3 on a statement: the app cannot set the notification callback/context;
/// the statement event is DM state, must be an `AsyncEvent` (HY024 otherwise, §7.7), and on
/// a driver without SQL_ASYNC_NOTIFICATION (libsqlite3odbc) it is S1118 unless the DM
/// emulates (§2.3, §7.2).
#[test]
fn s2_4_statement_notification_attributes_are_hy092_and_event_is_dm_state() {
    let (env, d) = connected(&sqlite_cs("stmt-event"));
    let s = stmt(d);
    for attr in [StmtAttr::SQL_ATTR_ASYNC_STMT_NOTIFICATION_CALLBACK, StmtAttr::SQL_ATTR_ASYNC_STMT_NOTIFICATION_CONTEXT] {
        // SAFETY: live statement.
        assert_eq!(unsafe { SQLSetStmtAttr(s, attr, 1 as SqlPointer, SQL_IS_POINTER) }, SqlReturn::SQL_ERROR);
        assert_eq!(diag(HandleType::SQL_HANDLE_STMT, s).0, "HY092");
    }
    // A value that is not an event of this DM is refused, never dereferenced.
    // SAFETY: live statement; the value is only looked up.
    assert_eq!(
        unsafe { SQLSetStmtAttr(s, StmtAttr::SQL_ATTR_ASYNC_STMT_EVENT, 0x1234 as SqlPointer, SQL_IS_POINTER) },
        SqlReturn::SQL_ERROR
    );
    assert_eq!(diag(HandleType::SQL_HANDLE_STMT, s).0, "HY024");
    let ev = odbc_dm::AsyncEvent::new().unwrap();
    // SAFETY: live statement; a live event.
    assert_eq!(unsafe { SQLSetStmtAttr(s, StmtAttr::SQL_ATTR_ASYNC_STMT_EVENT, ev.as_attr(), SQL_IS_POINTER) }, SqlReturn::SQL_ERROR);
    assert_eq!(diag(HandleType::SQL_HANDLE_STMT, s).0, "S1118", "§2.3: libsqlite3odbc cannot notify");
    // With the DM's emulation on, the same event is accepted and reads back.
    let emu = ConnAttr(odbc_dm::raw::SQL_ATTR_DM_ASYNC_EMULATION);
    // SAFETY: live dbc; integer attribute.
    assert_eq!(unsafe { SQLSetConnectAttr(d, emu, 1 as SqlPointer, 0) }, SqlReturn::SQL_SUCCESS);
    // SAFETY: as above.
    assert_eq!(unsafe { SQLSetStmtAttr(s, StmtAttr::SQL_ATTR_ASYNC_STMT_EVENT, ev.as_attr(), SQL_IS_POINTER) }, SqlReturn::SQL_SUCCESS);
    let mut v: usize = 0;
    // SAFETY: pointer-sized buffer.
    assert_eq!(
        unsafe { SQLGetStmtAttr(s, StmtAttr::SQL_ATTR_ASYNC_STMT_EVENT, (&mut v as *mut usize).cast(), SQL_IS_POINTER, null_mut()) },
        SqlReturn::SQL_SUCCESS
    );
    assert_eq!(v, ev.as_attr() as usize);
    disconnect(env, d);
}

// ---------------------------------------------------------------------------------------
// Descriptors
// ---------------------------------------------------------------------------------------

/// An explicit descriptor set as the ARD: SQLSetDescField binds a column through it, the
/// fetch fills that buffer, and SQLGetStmtAttr(SQL_ATTR_APP_ROW_DESC) returns the same DM
/// handle.
///
/// psqlODBC gives a freshly allocated descriptor no type until something is copied into
/// it (its SQLSetDescField answers "Error not implemented" before), so the test first
/// copies the statement's implicit ARD into it with SQLCopyDesc: that also proves the
/// implicit ARD's DM handle maps to the driver's.
fn explicit_ard(cs: &str, table_sql: &str) {
    let (env, d) = connected(cs);
    let s = stmt(d);
    let t = format!("t_ard_{}", std::process::id());
    exec(s, &format!("drop table if exists {t}"));
    exec(s, &format!("create {table_sql} {t}(a integer)"));
    exec(s, &format!("insert into {t} values (42)"));
    let mut desc: SqlHandle = null_mut();
    let mut implicit_ard: SqlHandle = null_mut();
    let mut dummy: i32 = -1;
    let mut value: i32 = 0;
    let mut ind: isize = 0;
    // SAFETY: live handles; `dummy`, `value` and `ind` outlive the fetch.
    unsafe {
        assert_eq!(
            SQLAllocHandle(HandleType::SQL_HANDLE_DESC, d, &mut desc),
            SqlReturn::SQL_SUCCESS,
            "{:?}",
            diag(HandleType::SQL_HANDLE_DBC, d)
        );
        // Give the explicit descriptor an ARD shape: bind on the implicit ARD, copy it.
        assert!(SQLBindCol(s, 1, CDataType::SQL_C_SLONG, (&mut dummy as *mut i32).cast(), 4, &mut ind).is_success());
        let rc =
            SQLGetStmtAttr(s, StmtAttr::SQL_ATTR_APP_ROW_DESC, (&mut implicit_ard as *mut SqlHandle).cast(), SQL_IS_POINTER, null_mut());
        assert!(rc.is_success(), "{:?}", diag(HandleType::SQL_HANDLE_STMT, s));
        let rc = SQLCopyDesc(implicit_ard, desc);
        assert!(rc.is_success(), "{:?}", diag(HandleType::SQL_HANDLE_DESC, desc));

        let rc = SQLSetStmtAttr(s, StmtAttr::SQL_ATTR_APP_ROW_DESC, desc, SQL_IS_POINTER);
        assert!(rc.is_success(), "{:?}", diag(HandleType::SQL_HANDLE_STMT, s));
        // Rebind column 1 through the explicit descriptor only.
        let rc = SQLSetDescField(desc, 1, DescField::SQL_DESC_DATA_PTR, (&mut value as *mut i32).cast(), SQL_IS_POINTER);
        assert!(rc.is_success(), "{:?}", diag(HandleType::SQL_HANDLE_DESC, desc));
        let mut ty: i16 = 0;
        let rc = SQLGetDescField(desc, 1, DescField::SQL_DESC_CONCISE_TYPE, (&mut ty as *mut i16).cast(), SQL_IS_SMALLINT, null_mut());
        assert!(rc.is_success(), "{:?}", diag(HandleType::SQL_HANDLE_DESC, desc));
        assert_eq!(ty, CDataType::SQL_C_SLONG.0);

        let mut back: SqlHandle = null_mut();
        let rc = SQLGetStmtAttr(s, StmtAttr::SQL_ATTR_APP_ROW_DESC, (&mut back as *mut SqlHandle).cast(), SQL_IS_POINTER, null_mut());
        assert!(rc.is_success(), "{:?}", diag(HandleType::SQL_HANDLE_STMT, s));
        assert_eq!(back, desc, "SQLGetStmtAttr(SQL_ATTR_APP_ROW_DESC) must return the application's DM handle");

        exec(s, &format!("select a from {t}"));
        let rc = SQLFetch(s);
        assert!(rc.is_success(), "{:?}", diag(HandleType::SQL_HANDLE_STMT, s));
    }
    assert_eq!(value, 42, "the fetch did not read into the explicit ARD's buffer");
    assert_eq!(dummy, -1, "the implicit ARD's buffer was used");
    // SAFETY: live handles.
    unsafe {
        SQLCloseCursor(s);
        // Reverting to the implicit ARD: SQL_NULL_HANDLE; the implicit ARD's DM handle again.
        assert!(SQLSetStmtAttr(s, StmtAttr::SQL_ATTR_APP_ROW_DESC, null_mut(), SQL_IS_POINTER).is_success());
        let mut back: SqlHandle = null_mut();
        assert!(SQLGetStmtAttr(s, StmtAttr::SQL_ATTR_APP_ROW_DESC, (&mut back as *mut SqlHandle).cast(), SQL_IS_POINTER, null_mut())
            .is_success());
        assert_eq!(back, implicit_ard);
        // The statement's own implicit ARD may be set back explicitly.
        assert!(
            SQLSetStmtAttr(s, StmtAttr::SQL_ATTR_APP_ROW_DESC, implicit_ard, SQL_IS_POINTER).is_success(),
            "{:?}",
            diag(HandleType::SQL_HANDLE_STMT, s)
        );
        // A garbage descriptor handle is HY024.
        assert_eq!(SQLSetStmtAttr(s, StmtAttr::SQL_ATTR_APP_ROW_DESC, 0x7777_0004 as SqlPointer, SQL_IS_POINTER), SqlReturn::SQL_ERROR);
        assert_eq!(diag(HandleType::SQL_HANDLE_STMT, s).0, "HY024");
        exec(s, &format!("drop table {t}"));
        assert_eq!(SQLFreeHandle(HandleType::SQL_HANDLE_DESC, desc), SqlReturn::SQL_SUCCESS);
        SQLFreeHandle(HandleType::SQL_HANDLE_STMT, s);
    }
    disconnect(env, d);
}

#[test]
fn explicit_ard_descriptor_binds_fetch_and_round_trips_psql() {
    let Some(cs) = psql_cs("explicit_ard_descriptor_psql") else { return };
    explicit_ard(&cs, "temporary table");
}

/// SQLGetStmtAttr(SQL_ATTR_IMP_ROW_DESC) returns a DM handle (the driver's is wrapped,
/// once), usable with SQLGetDescField; the application cannot free it (HY017) nor set an
/// implementation descriptor (HY017).
fn implicit_ird(cs: &str, driver_has_descriptors: bool) {
    let (env, d) = connected(cs);
    let s = stmt(d);
    exec(s, "select 1 as alpha, 2 as beta");
    let mut ird: SqlHandle = null_mut();
    let mut ird2: SqlHandle = null_mut();
    // SAFETY: live statement; handle-sized buffers.
    unsafe {
        let rc = SQLGetStmtAttr(s, StmtAttr::SQL_ATTR_IMP_ROW_DESC, (&mut ird as *mut SqlHandle).cast(), SQL_IS_POINTER, null_mut());
        assert!(rc.is_success(), "{:?}", diag(HandleType::SQL_HANDLE_STMT, s));
        let rc = SQLGetStmtAttrW(s, StmtAttr::SQL_ATTR_IMP_ROW_DESC, (&mut ird2 as *mut SqlHandle).cast(), SQL_IS_POINTER, null_mut());
        assert!(rc.is_success());
    }
    assert!(!ird.is_null());
    assert_eq!(ird, ird2, "the implicit descriptor is wrapped once");
    if driver_has_descriptors {
        ird_fields(ird);
    } else {
        // libsqlite3odbc's descriptor functions are stubs; the call still reaches it
        // through the DM handle (no SQL_INVALID_HANDLE).
        let mut count: i16 = 0;
        // SAFETY: live descriptor; a SQLSMALLINT buffer.
        let rc =
            unsafe { SQLGetDescField(ird, 0, DescField::SQL_DESC_COUNT, (&mut count as *mut i16).cast(), SQL_IS_SMALLINT, null_mut()) };
        assert_ne!(rc, SqlReturn::SQL_INVALID_HANDLE);
    }
    // SAFETY: live handles.
    unsafe {
        assert_eq!(SQLFreeHandle(HandleType::SQL_HANDLE_DESC, ird), SqlReturn::SQL_ERROR);
        assert_eq!(diag(HandleType::SQL_HANDLE_DESC, ird).0, "HY017");
        assert_eq!(SQLSetStmtAttr(s, StmtAttr::SQL_ATTR_IMP_ROW_DESC, ird, SQL_IS_POINTER), SqlReturn::SQL_ERROR);
        assert_eq!(diag(HandleType::SQL_HANDLE_STMT, s).0, "HY017");
        // Setting the IRD wrapper as the ARD is HY017 too (an implicit handle that is not
        // this statement's ARD).
        assert_eq!(SQLSetStmtAttr(s, StmtAttr::SQL_ATTR_APP_ROW_DESC, ird, SQL_IS_POINTER), SqlReturn::SQL_ERROR);
        assert_eq!(diag(HandleType::SQL_HANDLE_STMT, s).0, "HY017");
        SQLFreeHandle(HandleType::SQL_HANDLE_STMT, s);
    }
    // The wrapper goes with its statement.
    let mut c2: i16 = 0;
    // SAFETY: a stale handle is the input under test.
    assert_eq!(
        unsafe { SQLGetDescField(ird, 0, DescField::SQL_DESC_COUNT, (&mut c2 as *mut i16).cast(), 0, null_mut()) },
        SqlReturn::SQL_INVALID_HANDLE
    );
    disconnect(env, d);
}

/// SQL_DESC_COUNT and SQL_DESC_NAME of an IRD whose result is `alpha, beta`, in both
/// widths (byte lengths, conversion, 01004).
fn ird_fields(ird: SqlHandle) {
    let mut count: i16 = 0;
    // SAFETY: live descriptor; a SQLSMALLINT buffer.
    let rc = unsafe { SQLGetDescField(ird, 0, DescField::SQL_DESC_COUNT, (&mut count as *mut i16).cast(), SQL_IS_SMALLINT, null_mut()) };
    assert!(rc.is_success(), "{:?}", diag(HandleType::SQL_HANDLE_DESC, ird));
    assert_eq!(count, 2);
    // A character field in both widths: byte lengths; through the other width (A against
    // psqlODBC's W entry points) the DM converts and reports 01004 itself.
    let mut len = 0i32;
    {
        let mut w = [0u16; 32];
        // SAFETY: live descriptor; 64-byte buffer.
        let rc = unsafe { SQLGetDescFieldW(ird, 1, DescField::SQL_DESC_NAME, w.as_mut_ptr().cast(), 64, &mut len) };
        assert!(rc.is_success(), "{:?}", diag(HandleType::SQL_HANDLE_DESC, ird));
        assert_eq!(String::from_utf16(&w[..len as usize / 2]).unwrap(), "alpha");
        let mut small = [0u16; 2];
        // SAFETY: 4-byte buffer.
        let rc = unsafe { SQLGetDescFieldW(ird, 1, DescField::SQL_DESC_NAME, small.as_mut_ptr().cast(), 4, &mut len) };
        assert_eq!(rc, SqlReturn::SQL_SUCCESS_WITH_INFO);
        assert_eq!(len, 10);
        // Same width as the driver: its own warning passes through (psqlODBC says 01S01).
        assert!(!states(HandleType::SQL_HANDLE_DESC, ird).is_empty());
    }
    {
        let mut b = [0u8; 32];
        // SAFETY: live descriptor; 32-byte buffer.
        let rc = unsafe { SQLGetDescField(ird, 2, DescField::SQL_DESC_NAME, b.as_mut_ptr().cast(), 32, &mut len) };
        assert!(rc.is_success(), "{:?}", diag(HandleType::SQL_HANDLE_DESC, ird));
        assert_eq!(&b[..len as usize], b"beta");
        let mut small = [0u8; 3];
        // SAFETY: 3-byte buffer.
        let rc = unsafe { SQLGetDescField(ird, 2, DescField::SQL_DESC_NAME, small.as_mut_ptr().cast(), 3, &mut len) };
        assert_eq!(rc, SqlReturn::SQL_SUCCESS_WITH_INFO);
        assert_eq!(len, 4);
        assert!(states(HandleType::SQL_HANDLE_DESC, ird).contains(&"01004".to_string()));
    }
}

#[test]
fn implicit_ird_is_a_dm_handle_usable_with_getdescfield_and_not_freeable_hy017_psql() {
    let Some(cs) = psql_cs("implicit_ird_psql") else { return };
    implicit_ird(&cs, true);
}

#[test]
fn implicit_ird_is_a_dm_handle_usable_with_getdescfield_and_not_freeable_hy017_sqlite() {
    implicit_ird(&sqlite_cs("ird"), false);
}

#[test]
fn s4_7_stmt_attr_hy010_while_need_data() {
    let (env, d) = connected(&sqlite_cs("need-data"));
    let s = stmt(d);
    exec(s, "create table nd(x text)");
    let sql = "insert into nd values (?)";
    let mut ind: isize = SQL_DATA_AT_EXEC;
    // SAFETY: live statement; the indicator outlives the execution.
    unsafe {
        assert!(SQLPrepare(s, sql.as_ptr(), sql.len() as i32).is_success());
        let rc = SQLBindParameter(
            s,
            1,
            ParamIoType::SQL_PARAM_INPUT,
            CDataType::SQL_C_CHAR,
            SqlDataType::SQL_VARCHAR,
            10,
            0,
            1 as SqlPointer,
            0,
            &mut ind,
        );
        assert!(rc.is_success(), "{:?}", diag(HandleType::SQL_HANDLE_STMT, s));
        assert_eq!(SQLExecute(s), SqlReturn::SQL_NEED_DATA);
        // S8: SQLSetStmtAttr and SQLGetStmtAttr are (HY010) in Appendix B (§4.5, §4.7).
        assert_eq!(SQLSetStmtAttr(s, StmtAttr::SQL_ATTR_MAX_ROWS, 5 as SqlPointer, 0), SqlReturn::SQL_ERROR);
        assert_eq!(diag(HandleType::SQL_HANDLE_STMT, s).0, "HY010");
        let mut v: usize = 0;
        assert_eq!(SQLGetStmtAttr(s, StmtAttr::SQL_ATTR_MAX_ROWS, (&mut v as *mut usize).cast(), 0, null_mut()), SqlReturn::SQL_ERROR);
        assert_eq!(diag(HandleType::SQL_HANDLE_STMT, s).0, "HY010");
        // §1.11: SQLSetConnectAttr on its connection is HY010 too.
        assert_eq!(SQLSetConnectAttr(d, ConnAttr::SQL_ATTR_AUTOCOMMIT, 1 as SqlPointer, 0), SqlReturn::SQL_ERROR);
        assert_eq!(dbc_state(d), "HY010");
        SQLCancel(s);
    }
    disconnect(env, d);
}

// ---------------------------------------------------------------------------------------
// SQLDataSources / SQLDrivers ("SQLDataSources and SQLDrivers read the ini files")
// ---------------------------------------------------------------------------------------

fn data_sources(env: SqlHandle, first: FetchOrientation) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut dir = first;
    loop {
        let mut name = [0u8; 64];
        let mut desc = [0u8; 128];
        let (mut nl, mut dl) = (0i16, 0i16);
        // SAFETY: live env; buffers of the sizes passed.
        let rc = unsafe { SQLDataSources(env, dir, name.as_mut_ptr(), 64, &mut nl, desc.as_mut_ptr(), 128, &mut dl) };
        if rc == SqlReturn::SQL_NO_DATA {
            break;
        }
        assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{:?}", diag(HandleType::SQL_HANDLE_ENV, env));
        out.push((String::from_utf8_lossy(&name[..nl as usize]).into_owned(), String::from_utf8_lossy(&desc[..dl as usize]).into_owned()));
        dir = FetchOrientation::SQL_FETCH_NEXT;
    }
    out
}

#[test]
fn sqldatasources_reads_the_ini_files() {
    let env = env3();
    let all = data_sources(env, FetchOrientation::SQL_FETCH_FIRST);
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["UserDsn", "SystemDsnA", "SystemDsnB"]);
    assert_eq!(all[0].1, "SQLite3 Test");
    let user: Vec<String> = data_sources(env, FetchOrientation::SQL_FETCH_FIRST_USER).into_iter().map(|x| x.0).collect();
    assert_eq!(user, ["UserDsn"]);
    let system: Vec<String> = data_sources(env, FetchOrientation::SQL_FETCH_FIRST_SYSTEM).into_iter().map(|x| x.0).collect();
    assert_eq!(system, ["SystemDsnA", "SystemDsnB"]);

    // Truncation: 01004 with the full length; the wide form counts characters.
    let mut name = [0u16; 4];
    let mut nl = 0i16;
    // SAFETY: live env; a 4-character buffer and no description buffer.
    let rc = unsafe { SQLDataSourcesW(env, FetchOrientation::SQL_FETCH_FIRST, name.as_mut_ptr(), 4, &mut nl, null_mut(), 0, null_mut()) };
    assert_eq!(rc, SqlReturn::SQL_SUCCESS_WITH_INFO);
    assert_eq!(diag(HandleType::SQL_HANDLE_ENV, env).0, "01004");
    assert_eq!(nl, 7);
    assert_eq!(String::from_utf16(&name[..3]).unwrap(), "Use");

    // Bad direction: HY103.
    // SAFETY: live env.
    let rc = unsafe { SQLDataSources(env, FetchOrientation::SQL_FETCH_LAST, null_mut(), 0, null_mut(), null_mut(), 0, null_mut()) };
    assert_eq!(rc, SqlReturn::SQL_ERROR);
    assert_eq!(diag(HandleType::SQL_HANDLE_ENV, env).0, "HY103");
}

#[test]
fn sqldrivers_reads_the_ini_files() {
    let env = env3();
    let mut found = Vec::new();
    let mut dir = FetchOrientation::SQL_FETCH_FIRST;
    loop {
        let mut desc = [0u8; 64];
        let mut attrs = [0u8; 512];
        let (mut dl, mut al) = (0i16, 0i16);
        // SAFETY: live env; buffers of the sizes passed.
        let rc = unsafe { SQLDrivers(env, dir, desc.as_mut_ptr(), 64, &mut dl, attrs.as_mut_ptr(), 512, &mut al) };
        if rc == SqlReturn::SQL_NO_DATA {
            break;
        }
        assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{:?}", diag(HandleType::SQL_HANDLE_ENV, env));
        let pairs: Vec<String> =
            attrs[..al as usize].split(|b| *b == 0).filter(|p| !p.is_empty()).map(|p| String::from_utf8_lossy(p).into_owned()).collect();
        // The list ends with two NULs.
        assert_eq!(&attrs[al as usize - 1..al as usize + 1], &[0, 0]);
        found.push((String::from_utf8_lossy(&desc[..dl as usize]).into_owned(), pairs));
        dir = FetchOrientation::SQL_FETCH_NEXT;
    }
    let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["SQLite3 Test", "PostgreSQL Test"], "[ODBC] is not a driver");
    assert!(found[0].1.contains(&format!("Driver={SQLITE}")), "{:?}", found[0].1);
    assert!(found[0].1.contains(&"Threading=2".to_string()));

    // The wide form, truncated: 01004 and the full length in characters.
    let mut desc = [0u16; 5];
    let mut dl = 0i16;
    // SAFETY: live env; a 5-character buffer.
    let rc = unsafe { SQLDriversW(env, FetchOrientation::SQL_FETCH_FIRST, desc.as_mut_ptr(), 5, &mut dl, null_mut(), 0, null_mut()) };
    assert_eq!(rc, SqlReturn::SQL_SUCCESS_WITH_INFO);
    assert_eq!(dl, "SQLite3 Test".len() as i16);
    assert_eq!(String::from_utf16(&desc[..4]).unwrap(), "SQLi");
    // SQL_FETCH_FIRST_USER is for SQLDataSources only: HY103.
    // SAFETY: live env.
    let rc = unsafe { SQLDrivers(env, FetchOrientation::SQL_FETCH_FIRST_USER, null_mut(), 0, null_mut(), null_mut(), 0, null_mut()) };
    assert_eq!(rc, SqlReturn::SQL_ERROR);
    assert_eq!(diag(HandleType::SQL_HANDLE_ENV, env).0, "HY103");
}

/// ODBC 2.x option functions are mapped onto the 3.x attribute functions (stored before
/// connect like them, §1.13) and reported by SQLGetFunctions (§6.5).
#[test]
fn s1_13_odbc2_option_functions_map_to_attributes() {
    let (env, d) = new_dbc();
    let mut v: u32 = 9;
    // SAFETY: live dbc; a SQLUINTEGER buffer.
    unsafe {
        assert_eq!(SQLSetConnectOption(d, ConnAttr::SQL_ATTR_AUTOCOMMIT.0 as u16, SQL_AUTOCOMMIT_OFF), SqlReturn::SQL_SUCCESS);
        assert_eq!(SQLGetConnectOption(d, ConnAttr::SQL_ATTR_AUTOCOMMIT.0 as u16, (&mut v as *mut u32).cast()), SqlReturn::SQL_SUCCESS);
    }
    assert_eq!(v, 0);
    connect(d, &sqlite_cs("odbc2-options"));
    assert_eq!(get_u32_attr(d, ConnAttr::SQL_ATTR_AUTOCOMMIT).1, 0);
    let s = stmt(d);
    let mut rows: usize = 77;
    // SAFETY: live statement; SQL_MAX_ROWS (1) is a SQLULEN.
    unsafe {
        assert!(SQLSetStmtOption(s, StmtAttr::SQL_ATTR_MAX_ROWS.0 as u16, 5).is_success(), "{:?}", diag(HandleType::SQL_HANDLE_STMT, s));
        assert!(SQLGetStmtOption(s, StmtAttr::SQL_ATTR_MAX_ROWS.0 as u16, (&mut rows as *mut usize).cast()).is_success());
    }
    assert_eq!(rows, 5);
    for id in [
        FunctionId::SQL_API_SQLSETCONNECTOPTION,
        FunctionId::SQL_API_SQLGETCONNECTOPTION,
        FunctionId::SQL_API_SQLSETSTMTOPTION,
        FunctionId::SQL_API_SQLGETSTMTOPTION,
    ] {
        assert_eq!(get_functions(d, id.0), (SqlReturn::SQL_SUCCESS, 1), "{id:?}");
    }
    disconnect(env, d);
}
