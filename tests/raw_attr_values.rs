//! Values of connection, statement and environment attributes checked by the DM itself,
//! through `odbc_dm::raw` on real drivers (the reference driver, libsqlite3odbc and, when
//! PostgreSQL listens, psqlODBC):
//!
//! - HY024 for a value outside an attribute's discrete set (SQLSetConnectAttr /
//!   SQLSetStmtAttr: "The Driver Manager returns this SQLSTATE only for connection and
//!   statement attributes that accept a discrete set of values"), in the A and W entry
//!   points and the ODBC 2 option functions (S1009 for an ODBC 2 application), before the
//!   value is stored or reaches a driver (decision #135);
//! - the width of the attributes the DM answers (SQLULEN: 8 bytes; SQLUINTEGER: 4;
//!   decision #136);
//! - SQL_ATTR_ODBC_CURSORS is the DM's, settable only before connecting (08002), and the
//!   read-only SQL_ATTR_CONNECTION_DEAD / SQL_ATTR_AUTO_IPD are HY092 (decision #137);
//! - the environment transitions of Appendix B (§4.2, decision #138);
//! - SQLGetStmtAttr(SQL_ATTR_ROW_NUMBER) without an open cursor is 24000 (decision #139).

use std::ptr::null_mut;

use odbc_dm::abi::*;
use odbc_dm::raw::*;

mod common;

const DBC: HandleType = HandleType::SQL_HANDLE_DBC;
const STMT: HandleType = HandleType::SQL_HANDLE_STMT;
const ENV: HandleType = HandleType::SQL_HANDLE_ENV;
/// The 0xAB poison of an application buffer.
const POISON: u64 = 0xABAB_ABAB_ABAB_ABAB;

fn first_state(ht: HandleType, h: SqlHandle) -> String {
    common::rawh::diag_recs(ht, h).first().map(|r| r.state.clone()).unwrap_or_default()
}

fn new_dbc() -> (SqlHandle, SqlHandle) {
    common::init();
    let env = common::rawh::env();
    let mut d = null_mut();
    // SAFETY: live env, valid out pointer.
    assert_eq!(unsafe { SQLAllocHandle(DBC, env, &mut d) }, SqlReturn::SQL_SUCCESS);
    (env, d)
}

fn connect(d: SqlHandle, cs: &str) -> SqlReturn {
    // SAFETY: live dbc; the string outlives the call.
    unsafe {
        SQLDriverConnect(d, null_mut(), cs.as_ptr(), cs.len() as i16, null_mut(), 0, null_mut(), DriverCompletion::SQL_DRIVER_NOPROMPT)
    }
}

fn set_conn(d: SqlHandle, attr: ConnAttr, v: usize, wide: bool) -> SqlReturn {
    // SAFETY: live dbc; an integer attribute passed by value.
    unsafe {
        if wide {
            SQLSetConnectAttrW(d, attr, v as SqlPointer, 0)
        } else {
            SQLSetConnectAttr(d, attr, v as SqlPointer, 0)
        }
    }
}

fn set_stmt(s: SqlHandle, attr: StmtAttr, v: usize, wide: bool) -> SqlReturn {
    // SAFETY: live statement; an integer attribute passed by value.
    unsafe {
        if wide {
            SQLSetStmtAttrW(s, attr, v as SqlPointer, 0)
        } else {
            SQLSetStmtAttr(s, attr, v as SqlPointer, 0)
        }
    }
}

/// SQLGetConnectAttr into a poisoned 8-byte buffer: (rc, value, out length).
fn get_conn_poisoned(d: SqlHandle, attr: ConnAttr) -> (SqlReturn, u64, i32) {
    let mut v: u64 = POISON;
    let mut len = -7;
    // SAFETY: live dbc; an 8-byte buffer (wide enough for every integer attribute).
    let rc = unsafe { SQLGetConnectAttr(d, attr, (&mut v as *mut u64).cast(), 8, &mut len) };
    (rc, v, len)
}

/// The connection attributes with a discrete set of values, a value outside it, and a
/// value the spec lists (set back afterwards, so the connection stays usable).
const CONN_DISCRETE: &[(ConnAttr, usize, usize)] = &[
    (ConnAttr::SQL_ATTR_ACCESS_MODE, 99, SQL_MODE_READ_WRITE),
    (ConnAttr::SQL_ATTR_ASYNC_ENABLE, 99, SQL_ASYNC_ENABLE_OFF),
    (ConnAttr::SQL_ATTR_AUTOCOMMIT, 99, SQL_AUTOCOMMIT_ON),
    (ConnAttr::SQL_ATTR_ODBC_CURSORS, 99, SQL_CUR_USE_DRIVER),
    (ConnAttr::SQL_ATTR_TRACE, 99, 0),
    (ConnAttr::SQL_ATTR_METADATA_ID, 99, 0),
    (ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE, 99, SQL_ASYNC_DBC_ENABLE_OFF),
];

/// Decision #135: before connecting, a value outside the discrete set is HY024 from the DM
/// and is not stored (the connect afterwards is SQL_SUCCESS, no IM006 from a replay); the
/// listed values are accepted.
fn discrete_conn_before_connect(cs: &str, wide: bool) {
    let (env, d) = new_dbc();
    for &(attr, bad, good) in CONN_DISCRETE {
        assert_eq!(set_conn(d, attr, bad, wide), SqlReturn::SQL_ERROR, "attribute {} = {bad}", attr.0);
        assert_eq!(first_state(DBC, d), "HY024", "attribute {} = {bad}", attr.0);
        assert_eq!(set_conn(d, attr, good, wide), SqlReturn::SQL_SUCCESS, "attribute {} = {good}: a listed value", attr.0);
    }
    // Every listed value of SQL_ATTR_ODBC_CURSORS and SQL_ATTR_ACCESS_MODE is accepted.
    for v in [SQL_CUR_USE_IF_NEEDED, SQL_CUR_USE_ODBC, SQL_CUR_USE_DRIVER] {
        assert_eq!(set_conn(d, ConnAttr::SQL_ATTR_ODBC_CURSORS, v, wide), SqlReturn::SQL_SUCCESS);
    }
    assert_eq!(set_conn(d, ConnAttr::SQL_ATTR_ACCESS_MODE, SQL_MODE_READ_ONLY, wide), SqlReturn::SQL_SUCCESS);
    assert_eq!(set_conn(d, ConnAttr::SQL_ATTR_ACCESS_MODE, SQL_MODE_READ_WRITE, wide), SqlReturn::SQL_SUCCESS);
    // SQL_ATTR_TXN_ISOLATION is a bitmask with driver-specific levels: not the DM's to judge.
    assert_eq!(set_conn(d, ConnAttr::SQL_ATTR_TXN_ISOLATION, 99, wide), SqlReturn::SQL_SUCCESS);
    // An empty SQL_ATTR_TRACEFILE names no file: HY024.
    let empty = [0u16; 1];
    // SAFETY: live dbc; a NUL-terminated empty string in either width.
    let rc = unsafe {
        if wide {
            SQLSetConnectAttrW(d, ConnAttr::SQL_ATTR_TRACEFILE, empty.as_ptr() as SqlPointer, SQL_NTS)
        } else {
            SQLSetConnectAttr(d, ConnAttr::SQL_ATTR_TRACEFILE, empty.as_ptr() as SqlPointer, SQL_NTS)
        }
    };
    assert_eq!(rc, SqlReturn::SQL_ERROR);
    assert_eq!(first_state(DBC, d), "HY024");
    // Nothing bad was stored, so nothing is refused at connect (no IM006).
    set_conn(d, ConnAttr::SQL_ATTR_TXN_ISOLATION, 0, wide);
    let (env, d) = {
        // A fresh connection for the connect: SQL_ATTR_TXN_ISOLATION = 99 would be replayed.
        // SAFETY: live handles, freed in order.
        unsafe {
            SQLFreeHandle(DBC, d);
            SQLFreeHandle(ENV, env);
        }
        new_dbc()
    };
    for &(attr, bad, _) in CONN_DISCRETE {
        assert_eq!(set_conn(d, attr, bad, wide), SqlReturn::SQL_ERROR, "attribute {} = {bad}", attr.0);
    }
    assert_eq!(connect(d, cs), SqlReturn::SQL_SUCCESS, "{}", common::rawh::diag_text(DBC, d));
    // After connecting the DM still checks, before the driver sees the value.
    for &(attr, bad, _) in CONN_DISCRETE {
        if attr == ConnAttr::SQL_ATTR_ODBC_CURSORS {
            continue;
        }
        assert_eq!(set_conn(d, attr, bad, wide), SqlReturn::SQL_ERROR, "attribute {} = {bad} after connect", attr.0);
        let recs = common::rawh::diag_recs(DBC, d);
        assert_eq!(recs[0].state, "HY024", "attribute {} = {bad}: {recs:?}", attr.0);
        assert!(recs[0].message.contains("[odbc-dm]"), "the driver answered, not the DM: {recs:?}");
    }
    common::rawh::disconnect(env, d);
}

#[test]
fn hy024_discrete_connection_attributes_a_and_w_refdriver() {
    discrete_conn_before_connect(&common::refdriver_conn_str(""), false);
    discrete_conn_before_connect(&common::refdriver_conn_str(""), true);
}

#[test]
fn hy024_discrete_connection_attributes_sqlite() {
    common::init();
    let db = common::temp_db("hy024-conn");
    discrete_conn_before_connect(&common::sqlite_conn_str(&db), false);
}

#[test]
fn hy024_discrete_connection_attributes_psql() {
    let Some(cs) = common::postgres_conn_str("hy024_discrete_connection_attributes_psql") else { return };
    discrete_conn_before_connect(&cs, true);
}

/// The statement attributes with a discrete set of values: (attribute, listed values).
const STMT_DISCRETE: &[(StmtAttr, &[usize])] = &[
    (StmtAttr::SQL_ATTR_ASYNC_ENABLE, &[0, 1]),
    (StmtAttr::SQL_ATTR_CONCURRENCY, &[1, 2, 3, 4]),
    (StmtAttr::SQL_ATTR_CURSOR_SCROLLABLE, &[0, 1]),
    (StmtAttr::SQL_ATTR_CURSOR_SENSITIVITY, &[0, 1, 2]),
    (StmtAttr::SQL_ATTR_CURSOR_TYPE, &[0, 1, 2, 3]),
    (StmtAttr::SQL_ATTR_ENABLE_AUTO_IPD, &[0, 1]),
    (StmtAttr::SQL_ATTR_METADATA_ID, &[0, 1]),
    (StmtAttr::SQL_ATTR_NOSCAN, &[0, 1]),
    (StmtAttr::SQL_ATTR_RETRIEVE_DATA, &[0, 1]),
    (StmtAttr::SQL_ATTR_SIMULATE_CURSOR, &[0, 1, 2]),
    (StmtAttr::SQL_ATTR_USE_BOOKMARKS, &[0, 1, 2]),
];

/// Decision #135 on statements: HY024 from the DM for 99 and for one past the largest
/// listed value, in both entry points; never for a listed value (the driver may still
/// refuse one it does not support, with its own SQLSTATE).
fn discrete_stmt(cs: &str) {
    common::init();
    let (env, d) = common::rawh::connect(cs);
    let s = common::rawh::stmt(d);
    for wide in [false, true] {
        for &(attr, listed) in STMT_DISCRETE {
            let past = listed.iter().max().unwrap() + 1;
            for bad in [99, past] {
                assert_eq!(set_stmt(s, attr, bad, wide), SqlReturn::SQL_ERROR, "attribute {} = {bad}", attr.0);
                let recs = common::rawh::diag_recs(STMT, s);
                assert_eq!(recs[0].state, "HY024", "attribute {} = {bad}: {recs:?}", attr.0);
                assert!(recs[0].message.contains("[odbc-dm]"), "the driver answered, not the DM: {recs:?}");
            }
            for &v in listed {
                let rc = set_stmt(s, attr, v, wide);
                if !rc.is_success() {
                    let st = first_state(STMT, s);
                    assert_ne!(st, "HY024", "attribute {} = {v} is a listed value", attr.0);
                }
            }
        }
        // Back to defaults the rest of the loop relies on.
        set_stmt(s, StmtAttr::SQL_ATTR_CONCURRENCY, SQL_CONCUR_READ_ONLY, wide);
        set_stmt(s, StmtAttr::SQL_ATTR_CURSOR_TYPE, SQL_CURSOR_FORWARD_ONLY, wide);
        set_stmt(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_OFF, wide);
    }
    common::rawh::free_stmt(s);
    common::rawh::disconnect(env, d);
}

#[test]
fn hy024_discrete_statement_attributes_refdriver() {
    discrete_stmt(&common::refdriver_conn_str(""));
}

#[test]
fn hy024_discrete_statement_attributes_sqlite() {
    common::init();
    let db = common::temp_db("hy024-stmt");
    discrete_stmt(&common::sqlite_conn_str(&db));
}

#[test]
fn hy024_discrete_statement_attributes_psql() {
    let Some(cs) = common::postgres_conn_str("hy024_discrete_statement_attributes_psql") else { return };
    discrete_stmt(&cs);
}

/// Decision #135 for an ODBC 2 application (SQLAllocEnv): SQLSetConnectOption and
/// SQLSetStmtOption with a value outside the discrete set are S1009 (HY024 mapped to
/// ODBC 2), also for a statement option set through the connection; SQLGetConnectOption
/// writes an integer option as 32 bits (decision #136).
#[test]
fn s1009_discrete_values_and_32_bit_options_through_odbc2_option_functions_sqlite() {
    common::init();
    let mut env = null_mut();
    let mut d = null_mut();
    let mut s = null_mut();
    let db = common::temp_db("s1009-odbc2");
    let cs = common::sqlite_conn_str(&db);
    let sqlerror = |env: SqlHandle, d: SqlHandle, s: SqlHandle| {
        let mut st = [0u8; 6];
        let mut native = 0;
        let mut msg = [0u8; 512];
        let mut len = 0i16;
        // SAFETY: live handles; buffers of the sizes passed.
        let rc = unsafe { SQLError(env, d, s, st.as_mut_ptr(), &mut native, msg.as_mut_ptr(), 512, &mut len) };
        assert!(rc.is_success(), "no record: {rc:?}");
        String::from_utf8_lossy(&st[..5]).into_owned()
    };
    // SAFETY: valid out pointers; live handles throughout.
    unsafe {
        assert_eq!(SQLAllocEnv(&mut env), SqlReturn::SQL_SUCCESS);
        assert_eq!(SQLAllocConnect(env, &mut d), SqlReturn::SQL_SUCCESS);
        // Decision #136: an ODBC 2 option is a 32-bit UDWORD, also where SQLGetConnectAttr's
        // is an SQLULEN.
        let mut v: u64 = POISON;
        assert_eq!(SQLGetConnectOption(d, ConnAttr::SQL_ATTR_ODBC_CURSORS.0 as u16, (&mut v as *mut u64).cast()), SqlReturn::SQL_SUCCESS);
        assert_eq!(v, 0xABAB_ABAB_0000_0000 | SQL_CUR_USE_DRIVER as u64);
        assert_eq!(SQLSetConnectOption(d, ConnAttr::SQL_ATTR_ACCESS_MODE.0 as u16, 99), SqlReturn::SQL_ERROR);
        assert_eq!(sqlerror(null_mut(), d, null_mut()), "S1009");
        assert_eq!(SQLSetConnectOption(d, StmtAttr::SQL_ATTR_CURSOR_TYPE.0 as u16, 99), SqlReturn::SQL_ERROR);
        assert_eq!(sqlerror(null_mut(), d, null_mut()), "S1009");
        assert_eq!(connect(d, &cs), SqlReturn::SQL_SUCCESS);
        assert_eq!(SQLSetConnectOption(d, ConnAttr::SQL_ATTR_AUTOCOMMIT.0 as u16, 99), SqlReturn::SQL_ERROR);
        assert_eq!(sqlerror(null_mut(), d, null_mut()), "S1009");
        let mut v: u64 = POISON;
        assert_eq!(SQLGetConnectOption(d, ConnAttr::SQL_ATTR_ASYNC_ENABLE.0 as u16, (&mut v as *mut u64).cast()), SqlReturn::SQL_SUCCESS);
        assert_eq!(v, 0xABAB_ABAB_0000_0000, "SQL_ASYNC_ENABLE through SQLGetConnectOption: {v:#x}");
        assert_eq!(SQLAllocStmt(d, &mut s), SqlReturn::SQL_SUCCESS);
        assert_eq!(SQLSetStmtOption(s, StmtAttr::SQL_ATTR_CURSOR_TYPE.0 as u16, 99), SqlReturn::SQL_ERROR);
        assert_eq!(sqlerror(null_mut(), null_mut(), s), "S1009");
        assert_eq!(SQLSetStmtOption(s, StmtAttr::SQL_ATTR_NOSCAN.0 as u16, 2), SqlReturn::SQL_ERROR);
        assert_eq!(sqlerror(null_mut(), null_mut(), s), "S1009");
        // A listed value is the driver's to accept or refuse (libsqlite3odbc refuses
        // SQL_NOSCAN_ON), never S1009 from the DM.
        if !SQLSetStmtOption(s, StmtAttr::SQL_ATTR_NOSCAN.0 as u16, 1).is_success() {
            assert_ne!(sqlerror(null_mut(), null_mut(), s), "S1009");
        }
        SQLFreeStmt(s, FreeStmtOption::SQL_DROP);
        SQLDisconnect(d);
        SQLFreeConnect(d);
        SQLFreeEnv(env);
    }
}

/// Decision #136: the DM writes SQL_ATTR_ASYNC_ENABLE and SQL_ATTR_ODBC_CURSORS (SQLULEN)
/// as 8 bytes, before and after connecting (after, SQL_ATTR_ASYNC_ENABLE goes through a
/// zeroed DM buffer: the drivers write 4 bytes), and the SQLUINTEGER attributes as 4,
/// leaving the rest of the application's buffer alone.
fn widths(cs: &str) {
    let (env, d) = new_dbc();
    for connected in [false, true] {
        if connected {
            assert!(connect(d, cs).is_success(), "{}", common::rawh::diag_text(DBC, d));
        }
        let (rc, v, len) = get_conn_poisoned(d, ConnAttr::SQL_ATTR_ASYNC_ENABLE);
        assert_eq!((rc, v, len), (SqlReturn::SQL_SUCCESS, 0, 8), "ASYNC_ENABLE (connected: {connected}): {v:#x}");
        let (rc, v, len) = get_conn_poisoned(d, ConnAttr::SQL_ATTR_ODBC_CURSORS);
        assert_eq!((rc, v, len), (SqlReturn::SQL_SUCCESS, SQL_CUR_USE_DRIVER as u64, 8), "ODBC_CURSORS (connected: {connected}): {v:#x}");
        let (rc, v, _) = get_conn_poisoned(d, ConnAttr::SQL_ATTR_TRACE);
        assert_eq!((rc, v), (SqlReturn::SQL_SUCCESS, 0xABAB_ABAB_0000_0000), "TRACE is an SQLUINTEGER: {v:#x}");
        if !connected {
            let (rc, v, _) = get_conn_poisoned(d, ConnAttr::SQL_ATTR_AUTOCOMMIT);
            assert_eq!((rc, v), (SqlReturn::SQL_SUCCESS, 0xABAB_ABAB_0000_0001), "AUTOCOMMIT is an SQLUINTEGER: {v:#x}");
            let (rc, v, _) = get_conn_poisoned(d, ConnAttr::SQL_ATTR_ACCESS_MODE);
            assert_eq!((rc, v), (SqlReturn::SQL_SUCCESS, 0xABAB_ABAB_0000_0000), "ACCESS_MODE is an SQLUINTEGER: {v:#x}");
        }
    }
    // SQLGetEnvAttr: every environment attribute is an SQLUINTEGER.
    let mut v: u64 = POISON;
    // SAFETY: live env; an 8-byte buffer.
    let rc = unsafe { SQLGetEnvAttr(env, EnvAttr::SQL_ATTR_ODBC_VERSION, (&mut v as *mut u64).cast(), 8, null_mut()) };
    assert_eq!((rc, v), (SqlReturn::SQL_SUCCESS, 0xABAB_ABAB_0000_0000 | SQL_OV_ODBC3 as u64));
    common::rawh::disconnect(env, d);
}

#[test]
fn attribute_widths_sqlulen_8_bytes_sqluinteger_4_refdriver() {
    widths(&common::refdriver_conn_str(""));
}

#[test]
fn attribute_widths_sqlulen_8_bytes_sqluinteger_4_sqlite() {
    common::init();
    let db = common::temp_db("widths");
    widths(&common::sqlite_conn_str(&db));
}

#[test]
fn attribute_widths_sqlulen_8_bytes_sqluinteger_4_psql() {
    let Some(cs) = common::postgres_conn_str("attribute_widths_psql") else { return };
    widths(&cs);
}

/// Decision #137: SQL_ATTR_ODBC_CURSORS is the DM's: kept across connect (never sent to the
/// driver, whose answer psqlODBC left unwritten), and 08002 once connected;
/// SQL_ATTR_CONNECTION_DEAD and SQL_ATTR_AUTO_IPD are read-only: HY092 before and after.
fn dm_only_and_read_only(cs: &str) {
    let (env, d) = new_dbc();
    for attr in [ConnAttr::SQL_ATTR_CONNECTION_DEAD, ConnAttr::SQL_ATTR_AUTO_IPD] {
        assert_eq!(set_conn(d, attr, 1, false), SqlReturn::SQL_ERROR);
        assert_eq!(first_state(DBC, d), "HY092", "attribute {} before connect", attr.0);
    }
    assert_eq!(set_conn(d, ConnAttr::SQL_ATTR_ODBC_CURSORS, SQL_CUR_USE_IF_NEEDED, false), SqlReturn::SQL_SUCCESS);
    assert_eq!(connect(d, cs), SqlReturn::SQL_SUCCESS, "not replayed to the driver: {}", common::rawh::diag_text(DBC, d));
    let (rc, v, _) = get_conn_poisoned(d, ConnAttr::SQL_ATTR_ODBC_CURSORS);
    assert_eq!((rc, v), (SqlReturn::SQL_SUCCESS, SQL_CUR_USE_IF_NEEDED as u64));
    for wide in [false, true] {
        assert_eq!(set_conn(d, ConnAttr::SQL_ATTR_ODBC_CURSORS, SQL_CUR_USE_DRIVER, wide), SqlReturn::SQL_ERROR);
        let recs = common::rawh::diag_recs(DBC, d);
        assert_eq!(recs[0].state, "08002", "{recs:?}");
        assert!(recs[0].message.contains("[odbc-dm]"), "{recs:?}");
        for attr in [ConnAttr::SQL_ATTR_CONNECTION_DEAD, ConnAttr::SQL_ATTR_AUTO_IPD] {
            assert_eq!(set_conn(d, attr, 1, wide), SqlReturn::SQL_ERROR);
            let recs = common::rawh::diag_recs(DBC, d);
            assert_eq!(recs[0].state, "HY092", "attribute {} after connect: {recs:?}", attr.0);
            assert!(recs[0].message.contains("[odbc-dm]"), "{recs:?}");
        }
    }
    // Still the application's value; reading the read-only attributes still works.
    assert_eq!(get_conn_poisoned(d, ConnAttr::SQL_ATTR_ODBC_CURSORS).1, SQL_CUR_USE_IF_NEEDED as u64);
    common::rawh::disconnect(env, d);
}

#[test]
fn odbc_cursors_dm_only_08002_after_connect_read_only_attrs_hy092_refdriver() {
    dm_only_and_read_only(&common::refdriver_conn_str(""));
}

#[test]
fn odbc_cursors_dm_only_08002_after_connect_read_only_attrs_hy092_psql() {
    let Some(cs) = common::postgres_conn_str("odbc_cursors_dm_only_psql") else { return };
    dm_only_and_read_only(&cs);
}

/// Decision #139 (SQLGetStmtAttr 24000; Appendix B: "(24000)" in S1–S4): no open cursor,
/// no row number, for every driver; with a positioned cursor the driver answers.
fn row_number(cs: &str, query: &str) {
    common::init();
    let (env, d) = common::rawh::connect(cs);
    let s = common::rawh::stmt(d);
    let get = |s: SqlHandle| {
        let mut v: u64 = POISON;
        // SAFETY: live statement; an 8-byte buffer for an SQLULEN.
        let rc = unsafe { SQLGetStmtAttr(s, StmtAttr::SQL_ATTR_ROW_NUMBER, (&mut v as *mut u64).cast(), 0, null_mut()) };
        (rc, v)
    };
    // S1.
    assert_eq!(get(s), (SqlReturn::SQL_ERROR, POISON));
    assert_eq!(first_state(STMT, s), "24000");
    // S3 (prepared, result set).
    // SAFETY: live statement; the text outlives the call.
    assert!(unsafe { SQLPrepare(s, query.as_ptr(), query.len() as i32) }.is_success());
    assert_eq!(get(s).0, SqlReturn::SQL_ERROR);
    assert_eq!(first_state(STMT, s), "24000");
    // S6: positioned on the first row.
    // SAFETY: live statement.
    unsafe {
        assert!(SQLExecute(s).is_success(), "{}", common::rawh::diag_text(STMT, s));
        assert!(SQLFetch(s).is_success());
    }
    let (rc, v) = get(s);
    assert!(rc.is_success(), "{}", common::rawh::diag_text(STMT, s));
    assert_eq!(v & 0xFFFF_FFFF, 1, "row 1: {v:#x}");
    // Closed again: S3.
    // SAFETY: live statement.
    assert!(unsafe { SQLFreeStmt(s, FreeStmtOption::SQL_CLOSE) }.is_success());
    assert_eq!(get(s).0, SqlReturn::SQL_ERROR);
    assert_eq!(first_state(STMT, s), "24000");
    common::rawh::free_stmt(s);
    common::rawh::disconnect(env, d);
}

#[test]
fn row_number_without_open_cursor_is_24000_refdriver() {
    row_number(&common::refdriver_conn_str(""), "SELECT 1");
}

#[test]
fn row_number_without_open_cursor_is_24000_sqlite() {
    common::init();
    let db = common::temp_db("row-number");
    row_number(&common::sqlite_conn_str(&db), "SELECT 1");
}

#[test]
fn row_number_without_open_cursor_is_24000_psql() {
    let Some(cs) = common::postgres_conn_str("row_number_psql") else { return };
    row_number(&cs, "SELECT 1");
}

/// Decision #138, Appendix B environment transitions (§4.2): before SQL_ATTR_ODBC_VERSION
/// is set, SQLGetEnvAttr, SQLSetEnvAttr of another attribute and SQLEndTran(ENV) are
/// HY010; once a connection handle is allocated (E2), SQLSetEnvAttr is HY011 for every
/// attribute; after the connection is freed (E1) it is accepted again.
#[test]
fn s4_2_environment_transitions_hy010_before_version_hy011_with_connection() {
    common::init();
    let mut env = null_mut();
    let mut v: u32 = 0xDEAD;
    // SAFETY: valid out pointers; live env throughout.
    unsafe {
        assert_eq!(SQLAllocHandle(ENV, null_mut(), &mut env), SqlReturn::SQL_SUCCESS);
        assert_eq!(SQLGetEnvAttr(env, EnvAttr::SQL_ATTR_ODBC_VERSION, (&mut v as *mut u32).cast(), 0, null_mut()), SqlReturn::SQL_ERROR);
        assert_eq!(first_state(ENV, env), "HY010");
        assert_eq!(v, 0xDEAD);
        assert_eq!(SQLGetEnvAttr(env, EnvAttr::SQL_ATTR_OUTPUT_NTS, (&mut v as *mut u32).cast(), 0, null_mut()), SqlReturn::SQL_ERROR);
        assert_eq!(first_state(ENV, env), "HY010");
        assert_eq!(SQLSetEnvAttr(env, EnvAttr::SQL_ATTR_CP_MATCH, SQL_CP_RELAXED_MATCH as usize as SqlPointer, 0), SqlReturn::SQL_ERROR);
        assert_eq!(first_state(ENV, env), "HY010");
        assert_eq!(SQLEndTran(ENV, env, CompletionType::SQL_COMMIT), SqlReturn::SQL_ERROR);
        assert_eq!(first_state(ENV, env), "HY010");
        assert_eq!(SQLSetEnvAttr(env, EnvAttr::SQL_ATTR_ODBC_VERSION, SQL_OV_ODBC3 as usize as SqlPointer, 0), SqlReturn::SQL_SUCCESS);
        assert_eq!(SQLSetEnvAttr(env, EnvAttr::SQL_ATTR_CP_MATCH, SQL_CP_RELAXED_MATCH as usize as SqlPointer, 0), SqlReturn::SQL_SUCCESS);
        assert_eq!(SQLEndTran(ENV, env, CompletionType::SQL_COMMIT), SqlReturn::SQL_SUCCESS);
        let mut d = null_mut();
        assert_eq!(SQLAllocHandle(DBC, env, &mut d), SqlReturn::SQL_SUCCESS);
        for (attr, val) in [
            (EnvAttr::SQL_ATTR_ODBC_VERSION, SQL_OV_ODBC3_80 as usize),
            (EnvAttr::SQL_ATTR_CP_MATCH, SQL_CP_STRICT_MATCH as usize),
            (EnvAttr::SQL_ATTR_OUTPUT_NTS, SQL_TRUE as usize),
        ] {
            assert_eq!(SQLSetEnvAttr(env, attr, val as SqlPointer, 0), SqlReturn::SQL_ERROR, "attribute {}", attr.0);
            assert_eq!(first_state(ENV, env), "HY011", "attribute {}", attr.0);
        }
        // SQLGetEnvAttr still answers in E2.
        assert_eq!(SQLGetEnvAttr(env, EnvAttr::SQL_ATTR_ODBC_VERSION, (&mut v as *mut u32).cast(), 0, null_mut()), SqlReturn::SQL_SUCCESS);
        assert_eq!(v, SQL_OV_ODBC3);
        assert_eq!(SQLFreeHandle(DBC, d), SqlReturn::SQL_SUCCESS);
        assert_eq!(SQLSetEnvAttr(env, EnvAttr::SQL_ATTR_ODBC_VERSION, SQL_OV_ODBC3_80 as usize as SqlPointer, 0), SqlReturn::SQL_SUCCESS);
        SQLFreeHandle(ENV, env);
    }
}
