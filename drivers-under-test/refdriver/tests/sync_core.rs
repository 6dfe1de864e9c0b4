//! Synchronous ODBC core: handles, info, functions map, parameters, fetching, piecewise
//! SQLGetData, transactions, catalog functions, SQL_ROWVER convention, data-at-execution.

mod common;
use common::*;
use odbc_dm_abi::*;
use std::ffi::c_void;

#[test]
fn invalid_handles_give_sql_invalid_handle() {
    let d = drv();
    let garbage = 0x1234_5678usize as SqlHandle;
    // SAFETY: the driver must reject these handles without dereferencing them.
    unsafe {
        assert_eq!((d.SQLExecute)(std::ptr::null_mut()), SqlReturn::SQL_INVALID_HANDLE);
        assert_eq!((d.SQLExecute)(garbage), SqlReturn::SQL_INVALID_HANDLE);
        assert_eq!((d.SQLDisconnect)(garbage), SqlReturn::SQL_INVALID_HANDLE);
        assert_eq!((d.SQLFreeHandle)(HandleType::SQL_HANDLE_STMT, garbage), SqlReturn::SQL_INVALID_HANDLE);
    }
    let (env, dbc) = connect("Database=:memory:");
    let st = alloc_stmt(dbc);
    free_stmt(st);
    // SAFETY: a freed handle is garbage too.
    assert_eq!(unsafe { (d.SQLExecute)(st.0) }, SqlReturn::SQL_INVALID_HANDLE);
    // A DBC handle is not a STMT handle.
    // SAFETY: as above.
    assert_eq!(unsafe { (d.SQLExecute)(dbc.0) }, SqlReturn::SQL_INVALID_HANDLE);
    disconnect(env, dbc);
}

fn info_str(dbc: H, t: u16, buf_bytes: i16) -> (SqlReturn, String, i16) {
    let mut buf = vec![0u16; 256];
    let mut len = 0i16;
    // SAFETY: buffer of 512 bytes, buf_bytes <= 512.
    let r = unsafe { (drv().SQLGetInfoW)(dbc.0, InfoType(t), buf.as_mut_ptr() as SqlPointer, buf_bytes, &mut len) };
    let end = buf.iter().position(|&c| c == 0).unwrap_or(0);
    (r, String::from_utf16_lossy(&buf[..end]), len)
}

fn info_u32(dbc: H, t: u16) -> u32 {
    let mut v = 0u32;
    // SAFETY: 4-byte buffer.
    assert!(unsafe { (drv().SQLGetInfoW)(dbc.0, InfoType(t), &mut v as *mut u32 as SqlPointer, 4, std::ptr::null_mut(),) }.is_success());
    v
}

#[test]
fn get_info_w_byte_lengths_and_async_capabilities() {
    let (env, dbc) = connect("Database=:memory:");
    let (r, s, len) = info_str(dbc, 77, 200);
    assert_eq!((r, s.as_str(), len), (SqlReturn::SQL_SUCCESS, "03.80", 10), "length in bytes");
    let (r, s, len) = info_str(dbc, 17, 200);
    assert_eq!((r, s.as_str(), len), (SqlReturn::SQL_SUCCESS, "SQLite", 12));
    // Truncation: 8 bytes hold 3 characters + NUL.
    let (r, s, len) = info_str(dbc, 77, 8);
    assert_eq!((r, s.as_str(), len), (SqlReturn::SQL_SUCCESS_WITH_INFO, "03.", 10));
    assert_eq!(diags(HandleType::SQL_HANDLE_DBC, dbc)[0].0, "01004");
    assert_eq!(info_u32(dbc, 10021), SQL_AM_STATEMENT as u32);
    assert_eq!(info_u32(dbc, 10023), SQL_ASYNC_DBC_CAPABLE);
    assert_eq!(info_u32(dbc, 10025), SQL_ASYNC_NOTIFICATION_CAPABLE);
    assert_eq!(info_u32(dbc, 10022), 0);
    assert_eq!(info_u32(dbc, 43), SQL_SCCO_READ_ONLY);
    assert_eq!(info_u32(dbc, 81) & 3, 3, "SQL_GD_ANY_COLUMN | SQL_GD_ANY_ORDER");
    let mut v = 0u16;
    // SAFETY: 2-byte buffer.
    unsafe { (drv().SQLGetInfoW)(dbc.0, InfoType::SQL_TXN_CAPABLE, &mut v as *mut u16 as SqlPointer, 2, std::ptr::null_mut()) };
    assert_eq!(v, SQL_TC_ALL);
    let (_, q, _) = info_str(dbc, 29, 20);
    assert_eq!(q, "\"");
    disconnect(env, dbc);
}

/// Independent map of function ids to C names (W form where one exists).
fn name_of(id: u16) -> Option<&'static str> {
    Some(match id {
        4 => "SQLBindCol",
        5 => "SQLCancel",
        6 => "SQLColAttributeW",
        7 => "SQLConnectW",
        8 => "SQLDescribeColW",
        9 => "SQLDisconnect",
        11 => "SQLExecDirectW",
        12 => "SQLExecute",
        13 => "SQLFetch",
        16 => "SQLFreeStmt",
        18 => "SQLNumResultCols",
        19 => "SQLPrepareW",
        20 => "SQLRowCount",
        40 => "SQLColumnsW",
        41 => "SQLDriverConnectW",
        43 => "SQLGetData",
        44 => "SQLGetFunctions",
        45 => "SQLGetInfoW",
        48 => "SQLParamData",
        47 => "SQLGetTypeInfoW",
        49 => "SQLPutData",
        52 => "SQLSpecialColumnsW",
        54 => "SQLTablesW",
        55 => "SQLBrowseConnectW",
        58 => "SQLDescribeParam",
        59 => "SQLExtendedFetch",
        61 => "SQLMoreResults",
        63 => "SQLNumParams",
        65 => "SQLPrimaryKeysW",
        67 => "SQLProceduresW",
        68 => "SQLSetPos",
        72 => "SQLBindParameter",
        1001 => "SQLAllocHandle",
        1003 => "SQLCloseCursor",
        1005 => "SQLEndTran",
        1006 => "SQLFreeHandle",
        1007 => "SQLGetConnectAttrW",
        1010 => "SQLGetDiagFieldW",
        1011 => "SQLGetDiagRecW",
        1012 => "SQLGetEnvAttr",
        1014 => "SQLGetStmtAttrW",
        1016 => "SQLSetConnectAttrW",
        1019 => "SQLSetEnvAttr",
        1020 => "SQLSetStmtAttrW",
        1021 => "SQLFetchScroll",
        1022 | 1550 => "SQLCancelHandle",
        _ => return None,
    })
}

#[test]
fn get_functions_is_truthful_and_no_ansi_twins_exported() {
    let (env, dbc) = connect("Database=:memory:");
    let mut map = [0u16; 250];
    // SAFETY: 250-word buffer for SQL_API_ODBC3_ALL_FUNCTIONS.
    assert!(unsafe { (drv().SQLGetFunctions)(dbc.0, FunctionId::SQL_API_ODBC3_ALL_FUNCTIONS, map.as_mut_ptr(),) }.is_success());
    // SAFETY: probing symbols only.
    let lib = unsafe { libloading::Library::new(locate::refdriver_so()) }.unwrap();
    let has = |n: &str| unsafe { lib.get::<*const ()>(format!("{n}\0").as_bytes()) }.is_ok();
    let mut claimed = 0;
    for id in 0..4000u16 {
        if map[(id >> 4) as usize] & (1 << (id & 15)) != 0 {
            claimed += 1;
            let n = name_of(id).unwrap_or_else(|| panic!("claims unknown function id {id}"));
            assert!(has(n), "claims {n} ({id}) but does not export it");
        }
    }
    assert!(claimed >= 40);
    for (id, n) in [(55u16, "SQLBrowseConnectW"), (67, "SQLProceduresW")] {
        assert_eq!(map[(id >> 4) as usize] & (1 << (id & 15)), 0);
        assert!(!has(n));
    }
    // Single ids and the 2.x array agree with the bitmap.
    let mut one = 9u16;
    // SAFETY: single SQLUSMALLINT.
    unsafe { (drv().SQLGetFunctions)(dbc.0, FunctionId(11), &mut one) };
    assert_eq!(one, 1);
    let mut old = [0u16; 100];
    // SAFETY: 100-word buffer for SQL_API_ALL_FUNCTIONS.
    unsafe { (drv().SQLGetFunctions)(dbc.0, FunctionId::SQL_API_ALL_FUNCTIONS, old.as_mut_ptr()) };
    for id in 0..100u16 {
        assert_eq!(old[id as usize] != 0, map[(id >> 4) as usize] & (1 << (id & 15)) != 0, "id {id}");
    }
    // Unicode only: no ANSI twin of a string function.
    for n in [
        "SQLExecDirect",
        "SQLPrepare",
        "SQLDriverConnect",
        "SQLConnect",
        "SQLGetInfo",
        "SQLGetDiagRec",
        "SQLColAttribute",
        "SQLDescribeCol",
        "SQLTables",
    ] {
        assert!(!has(n), "ANSI {n} must not be exported");
        assert!(has(&format!("{n}W")), "{n}W must be exported");
    }
    disconnect(env, dbc);
}

#[test]
fn bound_parameters_all_c_types_and_bound_columns() {
    let (env, dbc) = connect("Database=:memory:");
    let st = alloc_stmt(dbc);
    exec_ok(st, "CREATE TABLE p(c TEXT, wc TEXT, l INTEGER, b INTEGER, d REAL, bin BLOB, n TEXT)");
    let d = drv();
    let sql = w("INSERT INTO p VALUES (?, ?, ?, ?, ?, ?, ?)");
    let mut c = *b"hello\0";
    let mut wc = w("wörld");
    let mut l: i32 = -123456;
    let lp = &mut l as *mut i32;
    let mut b: i64 = 9_000_000_000;
    let mut dd: f64 = 2.5;
    let mut bin = [0xDEu8, 0xAD, 0xBE, 0xEF];
    let mut nts: isize = SQL_NTS as isize;
    let mut wlen: isize = 10; // bytes: 5 UTF-16 units
    let mut binlen: isize = 4;
    let mut null: isize = SQL_NULL_DATA;
    let mut nbuf = [0u8; 4];
    // SAFETY: all bound buffers live until SQLExecute below.
    unsafe {
        assert_eq!((d.SQLPrepareW)(st.0, sql.as_ptr(), SQL_NTS), SqlReturn::SQL_SUCCESS);
        let mut np = 0i16;
        (d.SQLNumParams)(st.0, &mut np);
        assert_eq!(np, 7);
        let bp = |n: u16, ct: CDataType, stt: SqlDataType, p: *mut c_void, bl: isize, ind: *mut isize| {
            let r = (d.SQLBindParameter)(st.0, n, ParamIoType::SQL_PARAM_INPUT, ct, stt, 0, 0, p, bl, ind);
            assert_eq!(r, SqlReturn::SQL_SUCCESS);
        };
        bp(1, CDataType::SQL_C_CHAR, SqlDataType::SQL_VARCHAR, c.as_mut_ptr() as _, 6, &mut nts);
        bp(2, CDataType::SQL_C_WCHAR, SqlDataType::SQL_WVARCHAR, wc.as_mut_ptr() as _, 12, &mut wlen);
        bp(3, CDataType::SQL_C_SLONG, SqlDataType::SQL_INTEGER, lp as _, 0, std::ptr::null_mut());
        bp(4, CDataType::SQL_C_SBIGINT, SqlDataType::SQL_BIGINT, &mut b as *mut i64 as _, 0, std::ptr::null_mut());
        bp(5, CDataType::SQL_C_DOUBLE, SqlDataType::SQL_DOUBLE, &mut dd as *mut f64 as _, 0, std::ptr::null_mut());
        bp(6, CDataType::SQL_C_BINARY, SqlDataType::SQL_VARBINARY, bin.as_mut_ptr() as _, 4, &mut binlen);
        bp(7, CDataType::SQL_C_CHAR, SqlDataType::SQL_VARCHAR, nbuf.as_mut_ptr() as _, 4, &mut null);
        assert_eq!((d.SQLExecute)(st.0), SqlReturn::SQL_SUCCESS, "{:?}", stmt_states(st));
        let mut rc = 0isize;
        (d.SQLRowCount)(st.0, &mut rc);
        assert_eq!(rc, 1);
        // Re-execute with changed buffer contents (deferred input buffers).
        *lp = 7;
        assert_eq!((d.SQLExecute)(st.0), SqlReturn::SQL_SUCCESS);
        (d.SQLFreeStmt)(st.0, FreeStmtOption::SQL_RESET_PARAMS);
    }
    exec_ok(st, "SELECT c, wc, l, b, d, bin, n FROM p ORDER BY l DESC");
    // Bound columns.
    let mut oc = [0u8; 16];
    let mut owc = [0u16; 16];
    let mut ol = 0i32;
    let mut ob = 0i64;
    let mut od = 0f64;
    let mut obin = [0u8; 8];
    let mut on = [0u8; 8];
    let mut inds = [0isize; 7];
    // SAFETY: buffers outlive the fetches below.
    unsafe {
        let ip = inds.as_mut_ptr();
        (d.SQLBindCol)(st.0, 1, CDataType::SQL_C_CHAR, oc.as_mut_ptr() as _, 16, ip);
        (d.SQLBindCol)(st.0, 2, CDataType::SQL_C_WCHAR, owc.as_mut_ptr() as _, 32, ip.add(1));
        (d.SQLBindCol)(st.0, 3, CDataType::SQL_C_SLONG, &mut ol as *mut i32 as _, 0, ip.add(2));
        (d.SQLBindCol)(st.0, 4, CDataType::SQL_C_SBIGINT, &mut ob as *mut i64 as _, 0, ip.add(3));
        (d.SQLBindCol)(st.0, 5, CDataType::SQL_C_DOUBLE, &mut od as *mut f64 as _, 0, ip.add(4));
        (d.SQLBindCol)(st.0, 6, CDataType::SQL_C_BINARY, obin.as_mut_ptr() as _, 8, ip.add(5));
        (d.SQLBindCol)(st.0, 7, CDataType::SQL_C_CHAR, on.as_mut_ptr() as _, 8, ip.add(6));
        assert_eq!((d.SQLFetch)(st.0), SqlReturn::SQL_SUCCESS);
        assert_eq!(ol, 7);
        assert_eq!((d.SQLFetch)(st.0), SqlReturn::SQL_SUCCESS);
    }
    assert_eq!(&oc[..inds[0] as usize], b"hello");
    assert_eq!(String::from_utf16_lossy(&owc[..inds[1] as usize / 2]), "wörld");
    assert_eq!((ol, ob, od), (-123456, 9_000_000_000, 2.5));
    assert_eq!(&obin[..inds[5] as usize], &[0xDE, 0xAD, 0xBE, 0xEF]);
    assert_eq!(inds[6], SQL_NULL_DATA);
    // SAFETY: valid statement.
    unsafe {
        assert_eq!((d.SQLFetch)(st.0), SqlReturn::SQL_NO_DATA);
        assert_eq!((d.SQLMoreResults)(st.0), SqlReturn::SQL_NO_DATA);
        (d.SQLFreeStmt)(st.0, FreeStmtOption::SQL_UNBIND);
    }
    free_stmt(st);
    disconnect(env, dbc);
}

#[test]
fn get_data_piecewise_with_truncation_then_no_data() {
    let (env, dbc) = connect("Database=:memory:");
    let st = alloc_stmt(dbc);
    exec_ok(st, "SELECT 'abcdefghijklmnopqrstuvwxy', 'ÄÖÜabcdefgh', 12345678901");
    let d = drv();
    // SAFETY: buffers as declared.
    unsafe {
        assert_eq!((d.SQLFetch)(st.0), SqlReturn::SQL_SUCCESS);
        let mut buf = [0u8; 10];
        let mut ind = 0isize;
        let mut got = Vec::new();
        let mut inds = Vec::new();
        loop {
            let r = (d.SQLGetData)(st.0, 1, CDataType::SQL_C_CHAR, buf.as_mut_ptr() as _, 10, &mut ind);
            if r == SqlReturn::SQL_NO_DATA {
                break;
            }
            inds.push(ind);
            let n = buf.iter().position(|&c| c == 0).unwrap();
            got.extend_from_slice(&buf[..n]);
            if r == SqlReturn::SQL_SUCCESS_WITH_INFO {
                assert_eq!(stmt_states(st), vec!["01004".to_string()]);
            } else {
                assert_eq!(r, SqlReturn::SQL_SUCCESS);
            }
        }
        assert_eq!(got, b"abcdefghijklmnopqrstuvwxy");
        assert_eq!(inds, vec![25, 16, 7], "indicator = bytes remaining before each piece");
        // WCHAR pieces of 4 characters (10 bytes).
        let mut wb = [0u16; 5];
        let mut wgot = Vec::new();
        loop {
            let r = (d.SQLGetData)(st.0, 2, CDataType::SQL_C_WCHAR, wb.as_mut_ptr() as _, 10, &mut ind);
            if r == SqlReturn::SQL_NO_DATA {
                break;
            }
            assert!(r.is_success());
            let n = wb.iter().position(|&c| c == 0).unwrap();
            wgot.extend_from_slice(&wb[..n]);
        }
        assert_eq!(String::from_utf16_lossy(&wgot), "ÄÖÜabcdefgh");
        // Fixed-size types: second call → SQL_NO_DATA.
        let mut v = 0i64;
        assert_eq!((d.SQLGetData)(st.0, 3, CDataType::SQL_C_SBIGINT, &mut v as *mut i64 as _, 8, &mut ind), SqlReturn::SQL_SUCCESS);
        assert_eq!(v, 12345678901);
        assert_eq!((d.SQLGetData)(st.0, 3, CDataType::SQL_C_SBIGINT, &mut v as *mut i64 as _, 8, &mut ind), SqlReturn::SQL_NO_DATA);
        // SLONG overflow → 22003.
        let mut l = 0i32;
        assert_eq!(
            (d.SQLGetData)(st.0, 3, CDataType::SQL_C_SLONG, &mut l as *mut i32 as _, 4, &mut ind),
            SqlReturn::SQL_NO_DATA,
            "column 3 already consumed"
        );
        // SQL_C_DEFAULT on a text column gives WCHAR.
        let mut db = [0u16; 64];
        assert_eq!((d.SQLGetData)(st.0, 1, CDataType::SQL_C_DEFAULT, db.as_mut_ptr() as _, 128, &mut ind), SqlReturn::SQL_SUCCESS);
        assert_eq!(ind, 50);
    }
    free_stmt(st);
    disconnect(env, dbc);
}

#[test]
fn describe_col_and_col_attribute() {
    let (env, dbc) = connect("Database=:memory:");
    let st = alloc_stmt(dbc);
    exec_ok(st, "CREATE TABLE t(id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL, v REAL)");
    let sql = w("SELECT id, name, v FROM t");
    let d = drv();
    // SAFETY: buffers as declared.
    unsafe {
        assert_eq!((d.SQLPrepareW)(st.0, sql.as_ptr(), SQL_NTS), SqlReturn::SQL_SUCCESS);
        let mut n = 0i16;
        (d.SQLNumResultCols)(st.0, &mut n);
        assert_eq!(n, 3);
        let mut name = [0u16; 32];
        let (mut nl, mut dt, mut sz, mut dg, mut nu) = (0i16, SqlDataType(0), 0usize, 0i16, Nullability(9));
        assert_eq!(
            (d.SQLDescribeColW)(st.0, 2, name.as_mut_ptr(), 32, &mut nl, &mut dt, &mut sz, &mut dg, &mut nu),
            SqlReturn::SQL_SUCCESS
        );
        assert_eq!(String::from_utf16_lossy(&name[..nl as usize]), "name");
        assert_eq!((dt, sz), (SqlDataType::SQL_WVARCHAR, 40));
        assert_eq!(
            (d.SQLDescribeColW)(st.0, 1, name.as_mut_ptr(), 32, &mut nl, &mut dt, &mut sz, &mut dg, &mut nu),
            SqlReturn::SQL_SUCCESS
        );
        assert_eq!(dt, SqlDataType::SQL_BIGINT);
        // Truncated name → 01004, full length in characters.
        assert_eq!(
            (d.SQLDescribeColW)(st.0, 2, name.as_mut_ptr(), 3, &mut nl, &mut dt, &mut sz, &mut dg, &mut nu),
            SqlReturn::SQL_SUCCESS_WITH_INFO
        );
        assert_eq!(nl, 4);
        let mut lab = [0u16; 32];
        let mut ll = 0i16;
        let mut num = 0isize;
        assert_eq!(
            (d.SQLColAttributeW)(st.0, 3, DescField::SQL_DESC_LABEL, lab.as_mut_ptr() as _, 64, &mut ll, &mut num),
            SqlReturn::SQL_SUCCESS
        );
        assert_eq!(ll, 2, "byte length");
        assert_eq!(
            (d.SQLColAttributeW)(st.0, 3, DescField::SQL_DESC_CONCISE_TYPE, std::ptr::null_mut(), 0, &mut ll, &mut num),
            SqlReturn::SQL_SUCCESS
        );
        assert_eq!(num, SqlDataType::SQL_DOUBLE.0 as isize);
        assert_eq!(
            (d.SQLColAttributeW)(st.0, 0, DescField::SQL_DESC_COUNT, std::ptr::null_mut(), 0, &mut ll, &mut num),
            SqlReturn::SQL_SUCCESS
        );
        assert_eq!(num, 3);
    }
    free_stmt(st);
    disconnect(env, dbc);
}

#[test]
fn manual_commit_and_rollback() {
    let path = std::env::temp_dir().join(format!("refdrv-tx-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let (env, dbc) = connect(&format!("Database={{{}}}", path.display()));
    let st = alloc_stmt(dbc);
    exec_ok(st, "CREATE TABLE t(a)");
    set_conn_attr(dbc, 102, 0);
    exec_ok(st, "INSERT INTO t VALUES (1)");
    // SAFETY: valid handle.
    assert_eq!(unsafe { (drv().SQLEndTran)(HandleType::SQL_HANDLE_DBC, dbc.0, CompletionType::SQL_ROLLBACK,) }, SqlReturn::SQL_SUCCESS);
    exec_ok(st, "INSERT INTO t VALUES (2)");
    // SAFETY: valid handle.
    assert_eq!(unsafe { (drv().SQLEndTran)(HandleType::SQL_HANDLE_DBC, dbc.0, CompletionType::SQL_COMMIT,) }, SqlReturn::SQL_SUCCESS);
    free_stmt(st);
    disconnect(env, dbc);
    // A second connection through SQLConnectW (path-like server name) sees only row 2.
    let env = alloc_env();
    let dbc = alloc_dbc(env);
    let p = w(&path.display().to_string());
    // SAFETY: valid handle and strings.
    let r = unsafe { (drv().SQLConnectW)(dbc.0, p.as_ptr(), SQL_NTS as i16, std::ptr::null(), 0, std::ptr::null(), 0) };
    assert_eq!(r, SqlReturn::SQL_SUCCESS);
    let st = alloc_stmt(dbc);
    exec_ok(st, "SELECT a FROM t");
    assert_eq!(fetch_all(st), vec![vec![Some("2".into())]]);
    free_stmt(st);
    disconnect(env, dbc);
    let _ = std::fs::remove_file(&path);
}

fn catalog_rows(st: H, f: impl FnOnce() -> SqlReturn) -> Vec<Vec<Option<String>>> {
    let r = f();
    assert_eq!(r, SqlReturn::SQL_SUCCESS, "{:?}", stmt_states(st));
    fetch_all(st)
}

#[test]
fn catalog_functions_and_rowver_convention() {
    let (env, dbc) = connect("Database=:memory:");
    let st = alloc_stmt(dbc);
    exec_ok(st, "CREATE TABLE acct(id INTEGER PRIMARY KEY, owner TEXT NOT NULL, balance REAL, row_version ROWVERSION NOT NULL DEFAULT 1)");
    exec_ok(
        st,
        "CREATE TRIGGER acct_rv AFTER UPDATE ON acct BEGIN UPDATE acct SET row_version = old.row_version + 1 WHERE id = new.id; END",
    );
    exec_ok(st, "CREATE TABLE log(msg TEXT)");
    let d = drv();
    let (acct, pat, table_kind) = (w("acct"), w("a%"), w("TABLE"));
    // SAFETY: valid strings for every call below.
    let rows = catalog_rows(st, || unsafe {
        (d.SQLTablesW)(st.0, std::ptr::null(), 0, std::ptr::null(), 0, pat.as_ptr(), SQL_NTS as i16, table_kind.as_ptr(), SQL_NTS as i16)
    });
    assert_eq!(rows, vec![vec![None, None, Some("acct".into()), Some("TABLE".into()), None]]);
    // SAFETY: as above.
    let rows = catalog_rows(st, || unsafe {
        (d.SQLColumnsW)(st.0, std::ptr::null(), 0, std::ptr::null(), 0, acct.as_ptr(), SQL_NTS as i16, std::ptr::null(), 0)
    });
    let names: Vec<_> = rows.iter().map(|r| r[3].clone().unwrap()).collect();
    assert_eq!(names, ["id", "owner", "balance", "row_version"]);
    assert_eq!(rows[1][4].as_deref(), Some("-9"), "owner is SQL_WVARCHAR");
    assert_eq!(rows[1][10].as_deref(), Some("0"), "owner NOT NULL");
    // SAFETY: as above.
    let rows =
        catalog_rows(st, || unsafe { (d.SQLPrimaryKeysW)(st.0, std::ptr::null(), 0, std::ptr::null(), 0, acct.as_ptr(), SQL_NTS as i16) });
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0][3].as_deref(), rows[0][4].as_deref()), (Some("id"), Some("1")));
    // SAFETY: as above.
    let rows = catalog_rows(st, || unsafe {
        (d.SQLSpecialColumnsW)(
            st.0,
            RowIdentifier::SQL_BEST_ROWID,
            std::ptr::null(),
            0,
            std::ptr::null(),
            0,
            acct.as_ptr(),
            SQL_NTS as i16,
            0,
            Nullability::SQL_NULLABLE,
        )
    });
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][1].as_deref(), Some("id"));
    // SAFETY: as above.
    let rows = catalog_rows(st, || unsafe {
        (d.SQLSpecialColumnsW)(
            st.0,
            RowIdentifier::SQL_ROWVER,
            std::ptr::null(),
            0,
            std::ptr::null(),
            0,
            acct.as_ptr(),
            SQL_NTS as i16,
            0,
            Nullability::SQL_NULLABLE,
        )
    });
    assert_eq!(rows.len(), 1, "the ROWVERSION column is the row-version column");
    assert_eq!(rows[0][1].as_deref(), Some("row_version"));
    // The trigger maintains it.
    exec_ok(st, "INSERT INTO acct(id, owner, balance) VALUES (1, 'ann', 10)");
    exec_ok(st, "UPDATE acct SET balance = 20 WHERE id = 1");
    exec_ok(st, "SELECT row_version FROM acct WHERE id = 1");
    assert_eq!(fetch_all(st), vec![vec![Some("2".into())]]);
    // A table without a key: BEST_ROWID is the rowid pseudo column; no ROWVER column.
    let log = w("log");
    // SAFETY: as above.
    let rows = catalog_rows(st, || unsafe {
        (d.SQLSpecialColumnsW)(
            st.0,
            RowIdentifier::SQL_BEST_ROWID,
            std::ptr::null(),
            0,
            std::ptr::null(),
            0,
            log.as_ptr(),
            SQL_NTS as i16,
            0,
            Nullability::SQL_NULLABLE,
        )
    });
    assert_eq!(rows[0][1].as_deref(), Some("rowid"));
    assert_eq!(rows[0][7].as_deref(), Some("2"), "SQL_PC_PSEUDO");
    // SAFETY: as above.
    let rows = catalog_rows(st, || unsafe {
        (d.SQLSpecialColumnsW)(
            st.0,
            RowIdentifier::SQL_ROWVER,
            std::ptr::null(),
            0,
            std::ptr::null(),
            0,
            log.as_ptr(),
            SQL_NTS as i16,
            0,
            Nullability::SQL_NULLABLE,
        )
    });
    assert!(rows.is_empty());
    free_stmt(st);
    disconnect(env, dbc);
}

#[test]
fn data_at_execution_parameters() {
    let (env, dbc) = connect("Database=:memory:");
    let st = alloc_stmt(dbc);
    exec_ok(st, "CREATE TABLE t(a TEXT, b INTEGER)");
    let d = drv();
    let sql = w("INSERT INTO t VALUES (?, ?)");
    let mut token = 0x77usize; // the ParameterValuePtr echoed by SQLParamData
    let mut dae: isize = SQL_DATA_AT_EXEC;
    let mut b: i32 = 5;
    // SAFETY: buffers live until the statement has executed.
    unsafe {
        (d.SQLBindParameter)(
            st.0,
            1,
            ParamIoType::SQL_PARAM_INPUT,
            CDataType::SQL_C_CHAR,
            SqlDataType::SQL_VARCHAR,
            100,
            0,
            &mut token as *mut usize as _,
            0,
            &mut dae,
        );
        (d.SQLBindParameter)(
            st.0,
            2,
            ParamIoType::SQL_PARAM_INPUT,
            CDataType::SQL_C_SLONG,
            SqlDataType::SQL_INTEGER,
            0,
            0,
            &mut b as *mut i32 as _,
            0,
            std::ptr::null_mut(),
        );
        assert_eq!((d.SQLExecDirectW)(st.0, sql.as_ptr(), SQL_NTS), SqlReturn::SQL_NEED_DATA);
        let mut p: SqlPointer = std::ptr::null_mut();
        assert_eq!((d.SQLParamData)(st.0, &mut p), SqlReturn::SQL_NEED_DATA);
        assert_eq!(p as usize, &mut token as *mut usize as usize);
        assert_eq!((d.SQLPutData)(st.0, b"chunk-one ".as_ptr() as _, 10), SqlReturn::SQL_SUCCESS);
        assert_eq!((d.SQLPutData)(st.0, c"chunk-two".as_ptr() as _, SQL_NTS as isize), SqlReturn::SQL_SUCCESS);
        assert_eq!((d.SQLParamData)(st.0, &mut p), SqlReturn::SQL_SUCCESS, "{:?}", stmt_states(st));
        (d.SQLFreeStmt)(st.0, FreeStmtOption::SQL_RESET_PARAMS);
    }
    exec_ok(st, "SELECT a, b FROM t");
    assert_eq!(fetch_all(st), vec![vec![Some("chunk-one chunk-two".into()), Some("5".into())]]);
    free_stmt(st);
    disconnect(env, dbc);
}

#[test]
fn event_log_attribute_truncation_and_clear() {
    let (env, dbc) = connect("Database=:memory:");
    let st = alloc_stmt(dbc);
    exec_ok(st, "SELECT 1");
    let mut buf = [0u8; 16];
    let mut len = 0i32;
    // SAFETY: 16-byte buffer.
    let r = unsafe { (drv().SQLGetConnectAttrW)(dbc.0, ConnAttr(SQL_ATTR_REFDRIVER_EVENT_LOG), buf.as_mut_ptr() as _, 16, &mut len) };
    assert_eq!(r, SqlReturn::SQL_SUCCESS_WITH_INFO);
    assert!(len > 16, "full length reported");
    assert_eq!(diags(HandleType::SQL_HANDLE_DBC, dbc)[0].0, "01004");
    let log = event_log(dbc);
    let call = &events(&log, "SQLExecDirectW", st, "call")[0];
    assert_eq!(call["round"], 0);
    assert_eq!(call["still_executing"], false);
    assert_eq!(call["tid"].as_i64().unwrap(), gettid());
    set_conn_attr(dbc, SQL_ATTR_REFDRIVER_CLEAR_EVENT_LOG, 1);
    let after = event_log(dbc);
    let ev = after["events"].as_array().unwrap();
    assert_eq!(ev.len(), 1, "only the clearing call itself remains: {after}");
    assert_eq!(ev[0]["func"], "SQLSetConnectAttrW");
    free_stmt(st);
    disconnect(env, dbc);
}

/// What PHP's odbc extension needs of a driver (capi/tests/php.rs): SQLDescribeParam for
/// every parameter of a prepared statement, SQLExtendedFetch where the driver reports
/// absolute fetches (it fills its own RowCountPtr and RowStatusArray and leaves
/// SQL_ATTR_ROWS_FETCHED_PTR alone), and SQLGetTypeInfo.
#[test]
fn describe_param_extended_fetch_and_type_info() {
    let d = drv();
    let (env, dbc) = connect("Database=:memory:");
    let st = alloc_stmt(dbc);
    exec_ok(st, "CREATE TABLE t(id INTEGER, name TEXT)");
    exec_ok(st, "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')");
    let (mut ty, mut size, mut digits, mut nullable) = (SqlDataType(0), 0usize, -1i16, Nullability(9));
    // SAFETY: live statement, valid output pointers.
    let describe = |n: u16, ty: &mut SqlDataType, size: &mut usize, digits: &mut i16, nullable: &mut Nullability| unsafe {
        (d.SQLDescribeParam)(st.0, n, ty, size, digits, nullable)
    };
    assert_eq!(describe(1, &mut ty, &mut size, &mut digits, &mut nullable), SqlReturn::SQL_ERROR, "not prepared");
    assert_eq!(stmt_states(st), ["HY010"]);
    let sql = w("SELECT id, name FROM t WHERE id > ? AND name <> ? ORDER BY id");
    // SAFETY: NUL-terminated statement text.
    assert_eq!(unsafe { (d.SQLPrepareW)(st.0, sql.as_ptr(), SQL_NTS) }, SqlReturn::SQL_SUCCESS);
    assert_eq!(describe(2, &mut ty, &mut size, &mut digits, &mut nullable), SqlReturn::SQL_SUCCESS);
    assert_eq!((ty, size, digits, nullable), (SqlDataType(-9), 255, 0, Nullability(2)));
    for bad in [0, 3] {
        assert_eq!(describe(bad, &mut ty, &mut size, &mut digits, &mut nullable), SqlReturn::SQL_ERROR, "parameter {bad}");
        assert_eq!(stmt_states(st), ["07009"]);
    }
    // SAFETY: null outputs are allowed.
    let r =
        unsafe { (d.SQLDescribeParam)(st.0, 1, std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null_mut()) };
    assert_eq!(r, SqlReturn::SQL_SUCCESS);

    // SQLExtendedFetch on a static cursor.
    free_stmt(st);
    let st = alloc_stmt(dbc);
    set_stmt_attr(st, StmtAttr::SQL_ATTR_CURSOR_TYPE, 3);
    let mut fetched_attr: Box<usize> = Box::new(77);
    set_stmt_attr(st, StmtAttr::SQL_ATTR_ROWS_FETCHED_PTR, &mut *fetched_attr as *mut usize as usize);
    exec_ok(st, "SELECT id FROM t ORDER BY id");
    let mut id = 0i32;
    let mut ind = 0isize;
    // SAFETY: bound buffers outlive the statement's fetches below.
    unsafe { (d.SQLBindCol)(st.0, 1, CDataType::SQL_C_SLONG, &mut id as *mut i32 as SqlPointer, 4, &mut ind) };
    let mut count = 9usize;
    let mut status = [9u16; 1];
    // SAFETY: valid RowCountPtr and a one-row RowStatusArray (SQL_ROWSET_SIZE is 1).
    let xfetch = |o: FetchOrientation, off: isize, count: &mut usize, status: &mut [u16; 1]| unsafe {
        (d.SQLExtendedFetch)(st.0, o, off, count, status.as_mut_ptr())
    };
    assert_eq!(xfetch(FetchOrientation::SQL_FETCH_NEXT, 0, &mut count, &mut status), SqlReturn::SQL_SUCCESS);
    assert_eq!((id, count, status[0]), (1, 1, 0));
    assert_eq!(xfetch(FetchOrientation::SQL_FETCH_ABSOLUTE, 3, &mut count, &mut status), SqlReturn::SQL_SUCCESS);
    assert_eq!((id, count), (3, 1));
    assert_eq!(xfetch(FetchOrientation::SQL_FETCH_NEXT, 0, &mut count, &mut status), SqlReturn::SQL_NO_DATA);
    assert_eq!(count, 0);
    assert_eq!(*fetched_attr, 77, "SQLExtendedFetch leaves SQL_ATTR_ROWS_FETCHED_PTR alone");
    assert_eq!(xfetch(FetchOrientation::SQL_FETCH_BOOKMARK, 0, &mut count, &mut status), SqlReturn::SQL_ERROR);
    assert_eq!(stmt_states(st), ["HYC00"]);
    free_stmt(st);

    // SQLGetTypeInfoW: all types, one type, a type the driver does not have.
    let st = alloc_stmt(dbc);
    // SAFETY: live statement.
    let rows = catalog_rows(st, || unsafe { (d.SQLGetTypeInfoW)(st.0, SqlDataType(0)) });
    let types: Vec<_> = rows.iter().map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap())).collect();
    assert_eq!(
        types,
        [
            ("TEXT".to_string(), "-9".to_string()),
            ("INTEGER".into(), "-5".into()),
            ("BLOB".into(), "-3".into()),
            ("REAL".into(), "8".into())
        ]
    );
    assert!(rows.iter().all(|r| r.len() == 19));
    // SAFETY: as above.
    let rows = catalog_rows(st, || unsafe { (d.SQLGetTypeInfoW)(st.0, SqlDataType(-5)) });
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0].as_deref(), Some("INTEGER"));
    // SAFETY: as above.
    let rows = catalog_rows(st, || unsafe { (d.SQLGetTypeInfoW)(st.0, SqlDataType(91)) });
    assert!(rows.is_empty(), "no DATE type: {rows:?}");
    free_stmt(st);
    disconnect(env, dbc);
}
