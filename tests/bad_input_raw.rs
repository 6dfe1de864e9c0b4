//! Bad arguments at the raw (ODBC) layer, answered by the DM itself (the "(DM)" rows of
//! the function pages, §4.1) with nothing reaching the driver, and the lengths the DM
//! passes on checked instead of wrapped (issue 9 item 8, issue 10 item 5). Real drivers:
//! libsqlite3odbc (narrow), psqlODBC (both forms), the reference driver (wide only).

mod common;

use odbc_dm::abi::*;
use odbc_dm::raw::*;
use std::ptr::null_mut;

/// All diagnostic records of a handle: (SQLSTATE, message).
fn diags(ht: HandleType, h: SqlHandle) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for rec in 1..20 {
        let mut st = [0u8; 6];
        let mut native = 0;
        let mut msg = [0u8; 1024];
        let mut len = 0i16;
        // SAFETY: valid buffers of the sizes passed.
        let rc = unsafe { SQLGetDiagRec(ht, h, rec, st.as_mut_ptr(), &mut native, msg.as_mut_ptr(), 1024, &mut len) };
        if !rc.is_success() {
            break;
        }
        out.push((String::from_utf8_lossy(&st[..5]).into(), String::from_utf8_lossy(&msg[..len.clamp(0, 1023) as usize]).into()));
    }
    out
}

/// Asserts the call failed with `want` posted by the DM alone (the record's message has
/// the DM's prefix and there is no driver record): the driver was not called.
#[track_caller]
fn assert_dm_error(rc: SqlReturn, ht: HandleType, h: SqlHandle, want: &str, case: &str) {
    assert_eq!(rc, SqlReturn::SQL_ERROR, "{case}: return code");
    let d = diags(ht, h);
    assert_eq!(d.len(), 1, "{case}: exactly the DM's record, got {d:?}");
    assert_eq!(d[0].0, want, "{case}: {d:?}");
    assert!(d[0].1.starts_with("[odbc-dm]"), "{case}: the record must be the DM's: {d:?}");
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
        SQLDriverConnect(d, null_mut(), cs.as_ptr(), SQL_NTS as i16, null_mut(), 0, null_mut(), DriverCompletion::SQL_DRIVER_NOPROMPT)
    }
}

fn stmt(d: SqlHandle) -> SqlHandle {
    let mut s = null_mut();
    // SAFETY: live dbc, valid out pointer.
    assert_eq!(unsafe { SQLAllocHandle(HandleType::SQL_HANDLE_STMT, d, &mut s) }, SqlReturn::SQL_SUCCESS);
    s
}

fn exec(s: SqlHandle, sql: &str) -> SqlReturn {
    // SAFETY: live statement; the text outlives the call.
    unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) }
}

fn sqlite() -> (SqlHandle, SqlHandle) {
    let env = env3();
    let d = dbc(env);
    let rc = connect(d, &common::sqlite_conn_str(&common::temp_db("bad-input-raw")));
    assert!(rc.is_success(), "connect: {rc:?} {:?}", diags(HandleType::SQL_HANDLE_DBC, d));
    (env, d)
}

const ST: HandleType = HandleType::SQL_HANDLE_STMT;
const DB: HandleType = HandleType::SQL_HANDLE_DBC;

/// Issue 9 item 8: SQLBindParameter with C or SQL type 9999 returned SQL_SUCCESS. Every
/// DM-detected argument check of SQLBindParameter/SQLBindParam (§4.1: HY003, HY004, HY009,
/// HY090, HY105, 07009), table-driven; after each refusal the parameter still holds its
/// earlier binding (the driver never saw the bad one).
#[test]
fn s4_1_bind_parameter_argument_checks() {
    let (_env, d) = sqlite();
    let s = stmt(d);
    let mut good: i32 = 5;
    let mut good_ind: SqlLen = 0;
    // SAFETY: live statement; `good`/`good_ind` outlive the execute below.
    let rc = unsafe {
        SQLBindParameter(
            s,
            1,
            ParamIoType::SQL_PARAM_INPUT,
            CDataType::SQL_C_SLONG,
            SqlDataType::SQL_INTEGER,
            0,
            0,
            (&mut good as *mut i32).cast(),
            0,
            &mut good_ind,
        )
    };
    assert!(rc.is_success());
    let mut bad: i32 = 7;
    let mut ind: SqlLen = 0;
    let pv: SqlPointer = (&mut bad as *mut i32).cast();
    let io_in = ParamIoType::SQL_PARAM_INPUT;
    #[allow(clippy::type_complexity)]
    let cases: Vec<(&str, u16, ParamIoType, CDataType, SqlDataType, SqlPointer, SqlLen, *mut SqlLen, &str)> = vec![
        ("C type 9999", 1, io_in, CDataType(9999), SqlDataType::SQL_INTEGER, pv, 0, &mut ind, "HY003"),
        ("C type -3", 1, io_in, CDataType(-3), SqlDataType::SQL_INTEGER, pv, 0, &mut ind, "HY003"),
        ("C type 0", 1, io_in, CDataType(0), SqlDataType::SQL_INTEGER, pv, 0, &mut ind, "HY003"),
        ("SQL type 9999", 1, io_in, CDataType::SQL_C_SLONG, SqlDataType(9999), pv, 0, &mut ind, "HY004"),
        ("SQL type 0", 1, io_in, CDataType::SQL_C_SLONG, SqlDataType(0), pv, 0, &mut ind, "HY004"),
        ("SQL type 50", 1, io_in, CDataType::SQL_C_SLONG, SqlDataType(50), pv, 0, &mut ind, "HY004"),
        ("both pointers null", 1, io_in, CDataType::SQL_C_SLONG, SqlDataType::SQL_INTEGER, null_mut(), 0, null_mut(), "HY009"),
        ("negative BufferLength", 1, io_in, CDataType::SQL_C_CHAR, SqlDataType::SQL_VARCHAR, pv, -1, &mut ind, "HY090"),
        ("io type 77", 1, ParamIoType(77), CDataType::SQL_C_SLONG, SqlDataType::SQL_INTEGER, pv, 0, &mut ind, "HY105"),
        ("parameter 0", 0, io_in, CDataType::SQL_C_SLONG, SqlDataType::SQL_INTEGER, pv, 0, &mut ind, "07009"),
    ];
    for (case, n, io, ct, st, p, bl, ip, want) in cases {
        // SAFETY: live statement; pointers valid or null as the case says.
        let rc = unsafe { SQLBindParameter(s, n, io, ct, st, 0, 0, p, bl, ip) };
        assert_dm_error(rc, ST, s, want, case);
    }
    // SQLBindParam (the X/Open form) makes the same type checks.
    // SAFETY: as above.
    let rc = unsafe { SQLBindParam(s, 1, CDataType(9999), SqlDataType::SQL_INTEGER, 0, 0, pv, &mut ind) };
    assert_dm_error(rc, ST, s, "HY003", "SQLBindParam C type 9999");
    // SAFETY: as above.
    let rc = unsafe { SQLBindParam(s, 1, CDataType::SQL_C_SLONG, SqlDataType(9999), 0, 0, pv, &mut ind) };
    assert_dm_error(rc, ST, s, "HY004", "SQLBindParam SQL type 9999");
    // Standard, ODBC 2.x, interval and driver-specific types pass the DM's check.
    for (ct, st) in [
        (CDataType::SQL_C_WCHAR, SqlDataType::SQL_WVARCHAR),
        (CDataType::SQL_C_TIMESTAMP, SqlDataType(11)),
        (CDataType(0x4001), SqlDataType(-152)),
    ] {
        let mut buf = [0u8; 32];
        let mut ind2: SqlLen = 0;
        // SAFETY: live statement, a parameter 2 bound to local buffers, unbound below.
        let rc = unsafe { SQLBindParameter(s, 2, io_in, ct, st, 10, 0, buf.as_mut_ptr().cast(), 32, &mut ind2) };
        let d = diags(ST, s);
        assert!(rc.is_success() || d.iter().all(|(_, m)| !m.starts_with("[odbc-dm]")), "{ct:?}/{st:?} refused by the DM: {d:?}");
        // SAFETY: live statement.
        unsafe { SQLFreeStmt(s, FreeStmtOption::SQL_RESET_PARAMS) };
        // SAFETY: rebind parameter 1 (reset above) to `good`.
        let rc = unsafe {
            SQLBindParameter(
                s,
                1,
                io_in,
                CDataType::SQL_C_SLONG,
                SqlDataType::SQL_INTEGER,
                0,
                0,
                (&mut good as *mut i32).cast(),
                0,
                &mut good_ind,
            )
        };
        assert!(rc.is_success());
    }
    // Nothing changed: parameter 1 still reads `good`.
    assert!(exec(s, "SELECT ?").is_success(), "{:?}", diags(ST, s));
    // SAFETY: live statement with a result.
    assert!(unsafe { SQLFetch(s) }.is_success());
    let mut v: i32 = 0;
    // SAFETY: a 4-byte target for SQL_C_SLONG.
    let rc = unsafe { SQLGetData(s, 1, CDataType::SQL_C_SLONG, (&mut v as *mut i32).cast(), 4, null_mut()) };
    assert!(rc.is_success());
    assert_eq!(v, 5, "the refused bindings never reached the driver");
}

/// §4.1: SQLBindCol HY003/HY090, SQLGetData HY003/HY090, SQLColAttribute HY091,
/// SQLFetchScroll HY106, SQLSetPos HY092, SQLGetInfo and SQLGetConnectAttr HY090, all
/// from the DM; the cursor, the bindings and the row are unchanged afterwards.
#[test]
fn s4_1_result_and_info_argument_checks() {
    let (_env, d) = sqlite();
    let s = stmt(d);
    assert!(exec(s, "SELECT 41 AS a, 'x' AS b UNION ALL SELECT 42, 'y' ORDER BY 1").is_success());
    let mut a: i32 = -1;
    let mut other: i32 = -1;
    let mut ind: SqlLen = 0;
    // SAFETY: live statement; `a`/`ind` outlive the fetch below.
    let rc = unsafe { SQLBindCol(s, 1, CDataType::SQL_C_SLONG, (&mut a as *mut i32).cast(), 4, &mut ind) };
    assert!(rc.is_success());
    let po: SqlPointer = (&mut other as *mut i32).cast();
    // SAFETY (all cases): live statement; valid or deliberately bad argument values, valid pointers.
    type Case = (&'static str, Box<dyn Fn() -> SqlReturn>, &'static str);
    let cases: Vec<Case> = vec![
        ("SQLBindCol C type 9999", Box::new(move || unsafe { SQLBindCol(s, 1, CDataType(9999), po, 4, null_mut()) }), "HY003"),
        ("SQLBindCol SQL_ARD_TYPE", Box::new(move || unsafe { SQLBindCol(s, 1, CDataType::SQL_ARD_TYPE, po, 4, null_mut()) }), "HY003"),
        ("SQLBindCol BufferLength -1", Box::new(move || unsafe { SQLBindCol(s, 1, CDataType::SQL_C_CHAR, po, -1, null_mut()) }), "HY090"),
        (
            "SQLColAttribute field 500",
            Box::new(move || unsafe { SQLColAttribute(s, 1, DescField(500), null_mut(), 0, null_mut(), null_mut()) }),
            "HY091",
        ),
        (
            "SQLColAttribute field -7",
            Box::new(move || unsafe { SQLColAttribute(s, 1, DescField(-7), null_mut(), 0, null_mut(), null_mut()) }),
            "HY091",
        ),
        (
            "SQLColAttributeW field 500",
            Box::new(move || unsafe { SQLColAttributeW(s, 1, DescField(500), null_mut(), 0, null_mut(), null_mut()) }),
            "HY091",
        ),
        ("SQLFetchScroll orientation 77", Box::new(move || unsafe { SQLFetchScroll(s, FetchOrientation(77), 0) }), "HY106"),
    ];
    for (case, f, want) in &cases {
        assert_dm_error(f(), ST, s, want, case);
    }
    // The cursor did not move and the binding of column 1 is the first one.
    // SAFETY: live statement.
    assert!(unsafe { SQLFetch(s) }.is_success());
    assert_eq!((a, other), (41, -1), "first row into the original binding; the refused binding's buffer untouched");
    // SQLSetPos on the fetched row (S6): bad Operation / LockType.
    // SAFETY: live statement; argument values only.
    let rc = unsafe { SQLSetPos(s, 1, SetPosOperation(9), LockType::SQL_LOCK_NO_CHANGE) };
    assert_dm_error(rc, ST, s, "HY092", "SQLSetPos operation 9");
    // SAFETY: as above.
    let rc = unsafe { SQLSetPos(s, 1, SetPosOperation::SQL_POSITION, LockType(9)) };
    assert_dm_error(rc, ST, s, "HY092", "SQLSetPos lock 9");
    // SQLGetData on the current row: bad type and negative length refused, then a valid
    // read still gets the value (the driver saw neither bad call).
    let mut buf = [0u8; 8];
    let pb: SqlPointer = buf.as_mut_ptr().cast();
    for (case, ct, bl, want) in
        [("SQLGetData C type 9999", CDataType(9999), 8, "HY003"), ("SQLGetData BufferLength -1", CDataType::SQL_C_CHAR, -1, "HY090")]
    {
        // SAFETY: live statement; an 8-byte buffer.
        let rc = unsafe { SQLGetData(s, 2, ct, pb, bl, null_mut()) };
        assert_dm_error(rc, ST, s, want, case);
    }
    let mut n: SqlLen = 0;
    // SAFETY: live statement; an 8-byte buffer.
    let rc = unsafe { SQLGetData(s, 2, CDataType::SQL_C_CHAR, pb, 8, &mut n) };
    assert!(rc.is_success());
    assert_eq!(&buf[..2], b"x\0");

    // Connection-level buffer lengths.
    let mut cbuf = [0u8; 64];
    let mut l16: i16 = 0;
    // SAFETY: live dbc; a 64-byte buffer (the negative length must be refused first).
    let rc = unsafe { SQLGetInfo(d, InfoType::SQL_DBMS_NAME, cbuf.as_mut_ptr().cast(), -1, &mut l16) };
    assert_dm_error(rc, DB, d, "HY090", "SQLGetInfo BufferLength -1");
    let mut l32: i32 = 0;
    // SAFETY: as above.
    let rc = unsafe { SQLGetConnectAttr(d, ConnAttr::SQL_ATTR_CURRENT_CATALOG, cbuf.as_mut_ptr().cast(), -5, &mut l32) };
    assert_dm_error(rc, DB, d, "HY090", "SQLGetConnectAttr CURRENT_CATALOG BufferLength -5");
    assert_eq!(cbuf, [0u8; 64], "nothing written");
}

/// Issue 9 item 8: connection strings over 32 KB were refused with no SQLSTATE. Now
/// HY090 from the DM (decision #51), before any driver is loaded; the connection stays
/// usable, for A and W.
#[test]
fn s4_1_connection_string_over_32k_is_hy090() {
    let env = env3();
    let d = dbc(env);
    let long = format!("{};Filler={}", common::sqlite_conn_str(&common::temp_db("long-cs")), "x".repeat(40_000));
    let rc = connect(d, &long);
    assert_dm_error(rc, DB, d, "HY090", "SQLDriverConnect 40 KB");
    let w: Vec<u16> = long.encode_utf16().chain(std::iter::once(0)).collect();
    // SAFETY: live dbc; NUL-terminated wide string.
    let rc = unsafe {
        SQLDriverConnectW(d, null_mut(), w.as_ptr(), SQL_NTS as i16, null_mut(), 0, null_mut(), DriverCompletion::SQL_DRIVER_NOPROMPT)
    };
    assert_dm_error(rc, DB, d, "HY090", "SQLDriverConnectW 40 KB");
    // The connection is still usable.
    let ok = common::sqlite_conn_str(&common::temp_db("long-cs-ok"));
    assert!(connect(d, &ok).is_success(), "{:?}", diags(DB, d));
    // SAFETY: live dbc.
    unsafe { SQLDisconnect(d) };
}

/// Output connection string of SQLDriverConnect(W) into a buffer of `cap` units; returns
/// (rc, records, *StringLength2Ptr, the text written).
fn driver_connect_out(cs: &str, wide: bool, cap: usize) -> (SqlReturn, Vec<(String, String)>, i16, String) {
    let env = env3();
    let d = dbc(env);
    let mut len: i16 = -99;
    let (rc, text) = if wide {
        let w: Vec<u16> = cs.encode_utf16().collect();
        let mut out = vec![0xAAAAu16; cap + 1];
        // SAFETY: live dbc; input of w.len() units; output buffer of `cap` units (+1 canary).
        let rc = unsafe {
            SQLDriverConnectW(
                d,
                null_mut(),
                w.as_ptr(),
                w.len() as i16,
                out.as_mut_ptr(),
                cap as i16,
                &mut len,
                DriverCompletion::SQL_DRIVER_NOPROMPT,
            )
        };
        assert_eq!(out[cap], 0xAAAA, "wrote past BufferLength");
        let end = out.iter().position(|&c| c == 0).unwrap_or(cap);
        (rc, String::from_utf16_lossy(&out[..end]))
    } else {
        let mut out = vec![0xAAu8; cap + 1];
        // SAFETY: as above, narrow.
        let rc = unsafe {
            SQLDriverConnect(
                d,
                null_mut(),
                cs.as_ptr(),
                cs.len() as i16,
                out.as_mut_ptr(),
                cap as i16,
                &mut len,
                DriverCompletion::SQL_DRIVER_NOPROMPT,
            )
        };
        assert_eq!(out[cap], 0xAA, "wrote past BufferLength");
        let end = out.iter().position(|&c| c == 0).unwrap_or(cap);
        (rc, String::from_utf8_lossy(&out[..end]).into_owned())
    };
    let recs = diags(DB, d);
    if rc.is_success() {
        // SAFETY: live, connected dbc.
        unsafe { SQLDisconnect(d) };
    }
    (rc, recs, len, text)
}

/// Issue 10 item 5: the output string is complete up to what a SQLSMALLINT describes; a
/// short buffer gets 01004 (SUCCESS_WITH_INFO) and the full length in *StringLength2Ptr,
/// for A and W, on SQLite, PostgreSQL and (over 8,192 units, where the DM used to cut
/// silently) the reference driver, which returns its input string.
#[test]
fn driver_connect_output_truncation_reports_01004_and_full_length() {
    let mut cases: Vec<(String, String)> = vec![("sqlite".into(), common::sqlite_conn_str(&common::temp_db("outcs")))];
    match common::postgres_conn_str("driver_connect_output_truncation") {
        Some(pg) => cases.push(("postgres".into(), pg)),
        None => assert!(std::env::var_os("ODBC_DM_REQUIRE_SERVERS").is_none(), "PostgreSQL required"),
    }
    cases.push(("refdriver 10k".into(), common::refdriver_conn_str(&format!("Filler={}", "z".repeat(10_000)))));
    for (name, cs) in &cases {
        for wide in [false, true] {
            let (rc, recs, full, text) = driver_connect_out(cs, wide, 32_000);
            assert!(rc == SqlReturn::SQL_SUCCESS || rc == SqlReturn::SQL_SUCCESS_WITH_INFO, "{name} wide={wide}: {rc:?} {recs:?}");
            assert!(!recs.iter().any(|(s, _)| s == "01004"), "{name} wide={wide}: a 32,000-unit buffer is enough: {recs:?}");
            let units = if wide { text.encode_utf16().count() } else { text.len() };
            assert!(full > 10 && full as usize == units, "{name} wide={wide}: length {full} for {units} units written");
            if name.starts_with("refdriver") {
                assert!(full > 10_000 && text.contains(&"z".repeat(10_000)), "{name} wide={wide}: output cut to {full}");
            }
            for cap in [1usize, 5] {
                let (rc, recs, len, small) = driver_connect_out(cs, wide, cap);
                assert_eq!(rc, SqlReturn::SQL_SUCCESS_WITH_INFO, "{name} wide={wide} cap={cap}: {recs:?}");
                assert!(recs.iter().any(|(s, _)| s == "01004"), "{name} wide={wide} cap={cap}: {recs:?}");
                assert_eq!(len, full, "{name} wide={wide} cap={cap}: the full length, not the written one");
                let units = if wide { small.encode_utf16().count() } else { small.len() };
                assert_eq!(units, cap - 1, "{name} wide={wide} cap={cap}: {small:?}");
                assert!(text.starts_with(&small), "{name}: {small:?} is a prefix of {text:?}");
            }
        }
    }
}

/// The null-pointer out arguments stay allowed (no output wanted).
#[test]
fn driver_connect_without_output_buffer_is_fine() {
    let env = env3();
    let d = dbc(env);
    let cs = common::sqlite_conn_str(&common::temp_db("noout"));
    // SAFETY: live dbc; no output buffer, null length pointer.
    let rc = unsafe {
        SQLDriverConnect(d, null_mut(), cs.as_ptr(), cs.len() as i16, null_mut(), 0, null_mut(), DriverCompletion::SQL_DRIVER_NOPROMPT)
    };
    assert!(rc.is_success());
    // SAFETY: live dbc.
    unsafe { SQLDisconnect(d) };
}
