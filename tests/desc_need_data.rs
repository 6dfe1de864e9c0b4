//! Descriptor handles and the need-data states, through `odbc_dm::raw` on the real drivers
//! (psqlODBC, MariaDB Connector/ODBC, libsqlite3odbc, the reference driver).
//!
//! - Explicit descriptors (SQLFreeHandle, SQLSetStmtAttr SQL_ATTR_APP_ROW_DESC /
//!   SQL_ATTR_APP_PARAM_DESC, §4.5 Appendix B descriptor rows): freeing an explicit ARD/APD
//!   sets every statement it was on back to its implicit descriptor, whose DM handle stays
//!   valid the whole time; SQLSetStmtAttr(..., SQL_NULL_HDESC) does the same. psqlODBC
//!   leaves the freed descriptor on its statements (the DM sets the implicit one back
//!   itself); before the fix the DM handed out the freed driver handle and the next
//!   SQLBindCol read freed memory. libsqlite3odbc and the reference driver refuse explicit
//!   descriptors (SQLAllocHandle(SQL_HANDLE_DESC) fails): the implicit ones must keep
//!   working.
//! - S8–S10 (§4.5, §4.7, Appendix B): every statement function but SQLParamData (S8, S10),
//!   SQLPutData (S9, S10), SQLCancel and the diagnostics is (HY010), SQLFreeHandle(STMT),
//!   SQLFreeStmt(SQL_DROP) and SQLGet/SetStmtAttr included; the descriptor functions on a
//!   descriptor of that statement are (HY010) without reaching the driver (libmaodbc's
//!   SQLGetDescRecW crashes there with null outputs); freeing an explicit descriptor that is
//!   the APD of such a statement is HY010 (decision #131).

mod common;

use common::rawh::{self, H};
use odbc_dm::abi::*;
use odbc_dm::raw::*;
use std::ptr::null_mut;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Sqlite,
    Postgres,
    Mariadb,
    Reference,
}

fn conn_str(kind: Kind, test: &str) -> Option<String> {
    common::init();
    match kind {
        Kind::Sqlite => Some(common::sqlite_conn_str(&common::temp_db(test))),
        Kind::Postgres => common::postgres_conn_str(test),
        Kind::Mariadb => common::mariadb_conn_str(test),
        Kind::Reference => Some(common::refdriver_conn_str("")),
    }
}

/// A statement that sends one data-at-execution VARCHAR parameter back as its result.
fn echo_sql(kind: Kind) -> &'static str {
    match kind {
        Kind::Sqlite => "select ?",
        Kind::Mariadb => "select cast(? as char(20))",
        Kind::Postgres | Kind::Reference => "select cast(? as varchar(20))",
    }
}

fn state(ht: HandleType, h: H) -> String {
    rawh::diag_recs(ht, h).first().map(|r| r.state.clone()).unwrap_or_default()
}

#[track_caller]
fn hy010(rc: SqlReturn, ht: HandleType, h: H, what: &str) {
    assert_eq!(rc, SqlReturn::SQL_ERROR, "{what}: expected (HY010)");
    assert_eq!(state(ht, h), "HY010", "{what}: {}", rawh::diag_text(ht, h));
}

fn stmt_desc(s: H, attr: StmtAttr) -> (SqlReturn, H) {
    let mut d: H = null_mut();
    // SAFETY: live (or refused) statement; a slot for a SQLHDESC.
    let rc = unsafe { SQLGetStmtAttr(s, attr, (&mut d as *mut H).cast(), 0, null_mut()) };
    (rc, d)
}

#[track_caller]
fn desc_of(s: H, attr: StmtAttr) -> H {
    let (rc, d) = stmt_desc(s, attr);
    rawh::ok_stmt(rc, s, "SQLGetStmtAttr(descriptor)");
    assert!(!d.is_null());
    d
}

fn desc_count(d: H) -> (SqlReturn, i16) {
    let mut n: i16 = -1;
    // SAFETY: a descriptor handle (live or not); a SQLSMALLINT slot.
    let rc = unsafe { SQLGetDescField(d, 0, DescField::SQL_DESC_COUNT, (&mut n as *mut i16).cast(), 0, null_mut()) };
    (rc, n)
}

fn alloc_desc(dbc: H) -> (SqlReturn, H) {
    let mut d: H = null_mut();
    // SAFETY: live connection, valid out pointer.
    let rc = unsafe { SQLAllocHandle(HandleType::SQL_HANDLE_DESC, dbc, &mut d) };
    (rc, d)
}

fn set_desc(s: H, attr: StmtAttr, d: H) -> SqlReturn {
    // SAFETY: live statement; a descriptor handle (or null) travels in the pointer.
    unsafe { SQLSetStmtAttr(s, attr, d, 0) }
}

fn free_desc(d: H) -> SqlReturn {
    // SAFETY: a descriptor handle the test owns.
    unsafe { SQLFreeHandle(HandleType::SQL_HANDLE_DESC, d) }
}

/// Binds column 1 as SQL_C_LONG, runs `select 42` and fetches it: the ARD in use works.
#[track_caller]
fn bind_fetch_42(s: H) {
    let mut v: i32 = 0;
    let mut ind: SqlLen = 0;
    // SAFETY: live statement; `v` and `ind` outlive the fetch (unbound before returning).
    unsafe {
        rawh::ok_stmt(SQLBindCol(s, 1, CDataType::SQL_C_LONG, (&mut v as *mut i32).cast(), 4, &mut ind), s, "SQLBindCol");
        rawh::ok_stmt(SQLExecDirect(s, "select 42".as_ptr(), 9), s, "SQLExecDirect(select 42)");
        rawh::ok_stmt(SQLFetch(s), s, "SQLFetch");
        assert_eq!(v, 42);
        rawh::ok_stmt(SQLCloseCursor(s), s, "SQLCloseCursor");
        rawh::ok_stmt(SQLFreeStmt(s, FreeStmtOption::SQL_UNBIND), s, "SQLFreeStmt(UNBIND)");
    }
}

// ----------------------------------------------------------------- explicit descriptors

/// SQLBindCol of column 1 puts the buffer's address in record 1's SQL_DESC_DATA_PTR of the
/// ARD in use: it must be `want` (the implicit ARD the DM reports), not `other` (an
/// explicit one no longer in use).
#[track_caller]
fn bind_lands_in(s: H, want: H, other: H) {
    let mut v: i32 = 0;
    let mut ind: SqlLen = 0;
    let addr = (&mut v as *mut i32) as usize;
    // SAFETY: live statement; `v` and `ind` outlive the binding (unbound below, never fetched).
    unsafe {
        rawh::ok_stmt(SQLBindCol(s, 1, CDataType::SQL_C_LONG, addr as SqlPointer, 4, &mut ind), s, "SQLBindCol");
    }
    let data_ptr = |d: H| {
        let mut p: usize = 0;
        // SAFETY: a descriptor handle; a pointer-sized slot.
        let rc = unsafe { SQLGetDescField(d, 1, DescField::SQL_DESC_DATA_PTR, (&mut p as *mut usize).cast(), 0, null_mut()) };
        (rc, p)
    };
    let (rc, p) = data_ptr(want);
    assert!(rc.is_success() && p == addr, "the ARD in use: {rc:?} data ptr {p:#x}, bound {addr:#x}");
    if !other.is_null() {
        let (rc, p) = data_ptr(other);
        assert!(!(rc.is_success() && p == addr), "the binding went to the explicit descriptor");
    }
    // SAFETY: live statement.
    rawh::ok_stmt(unsafe { SQLFreeStmt(s, FreeStmtOption::SQL_UNBIND) }, s, "SQLFreeStmt(UNBIND)");
}

/// SQLFreeHandle / SQLSetStmtAttr(SQL_ATTR_APP_ROW_DESC, SQL_ATTR_APP_PARAM_DESC): a freed
/// explicit ARD/APD leaves its statements on their implicit descriptors, whose DM handles
/// never change; SQL_NULL_HDESC sets the implicit one back too.
fn explicit_desc_freed_reverts_to_implicit(kind: Kind) {
    let Some(cs) = conn_str(kind, "desc_revert") else { return };
    let (env, dbc) = rawh::connect(&cs);
    let s = rawh::stmt(dbc);
    let ard0 = desc_of(s, StmtAttr::SQL_ATTR_APP_ROW_DESC);
    let apd0 = desc_of(s, StmtAttr::SQL_ATTR_APP_PARAM_DESC);
    let (rc, ed) = alloc_desc(dbc);
    if !rc.is_success() {
        // libsqlite3odbc and the reference driver have no explicit descriptors.
        assert!(matches!(kind, Kind::Sqlite | Kind::Reference), "{kind:?}: SQLAllocHandle(DESC) {rc:?}");
        assert_eq!(rc, SqlReturn::SQL_ERROR);
        assert_eq!(desc_of(s, StmtAttr::SQL_ATTR_APP_ROW_DESC), ard0);
        bind_fetch_42(s);
        // Setting the implicit ARD back is always allowed; the DM handle stays the same.
        let rc = set_desc(s, StmtAttr::SQL_ATTR_APP_ROW_DESC, ard0);
        // (libsqlite3odbc: IM001 "not supported"; the reference driver: HYC00.)
        assert!(
            rc.is_success() || matches!(kind, Kind::Sqlite | Kind::Reference),
            "{kind:?}: {rc:?} {}",
            rawh::diag_text(HandleType::SQL_HANDLE_STMT, s)
        );
        assert_eq!(desc_of(s, StmtAttr::SQL_ATTR_APP_ROW_DESC), ard0);
        rawh::free_stmt(s);
        rawh::disconnect(env, dbc);
        return;
    }
    assert!(matches!(kind, Kind::Postgres | Kind::Mariadb), "{kind:?} has explicit descriptors now: extend the test");

    // Explicit ARD, shared by a second statement.
    let s2 = rawh::stmt(dbc);
    let ard2 = desc_of(s2, StmtAttr::SQL_ATTR_APP_ROW_DESC);
    for st in [s, s2] {
        rawh::ok_stmt(set_desc(st, StmtAttr::SQL_ATTR_APP_ROW_DESC, ed), st, "SQLSetStmtAttr(ARD, explicit)");
        assert_eq!(desc_of(st, StmtAttr::SQL_ATTR_APP_ROW_DESC), ed);
    }
    bind_fetch_42(s);
    assert_eq!(free_desc(ed), SqlReturn::SQL_SUCCESS);
    // The freed handle is gone; the implicit ones are back and were valid all along.
    assert_eq!(desc_count(ed).0, SqlReturn::SQL_INVALID_HANDLE);
    assert_eq!(desc_of(s, StmtAttr::SQL_ATTR_APP_ROW_DESC), ard0);
    assert_eq!(desc_of(s2, StmtAttr::SQL_ATTR_APP_ROW_DESC), ard2);
    for d in [ard0, ard2] {
        let (rc, _) = desc_count(d);
        assert!(rc.is_success(), "{kind:?}: implicit ARD after the free: {rc:?}");
    }
    bind_lands_in(s, ard0, null_mut());
    bind_lands_in(s2, ard2, null_mut());
    // The driver uses its implicit ARD again (psqlODBC read the freed one here).
    bind_fetch_42(s);
    bind_fetch_42(s2);

    // SQL_NULL_HDESC reverts to the implicit descriptor; the explicit one lives on.
    let (rc, ed2) = alloc_desc(dbc);
    rawh::ok(rc, HandleType::SQL_HANDLE_DBC, dbc, "SQLAllocHandle(DESC)");
    rawh::ok_stmt(set_desc(s, StmtAttr::SQL_ATTR_APP_ROW_DESC, ed2), s, "SQLSetStmtAttr(ARD, explicit)");
    rawh::ok_stmt(set_desc(s, StmtAttr::SQL_ATTR_APP_ROW_DESC, null_mut()), s, "SQLSetStmtAttr(ARD, SQL_NULL_HDESC)");
    assert_eq!(desc_of(s, StmtAttr::SQL_ATTR_APP_ROW_DESC), ard0);
    // The driver binds into the implicit ARD again, not into the explicit one (the DM's
    // answer above is its own record: the driver must agree).
    bind_lands_in(s, ard0, ed2);
    bind_fetch_42(s);
    // Still a descriptor handle (psqlODBC answers HY000 "not implemented" for the fields
    // of an explicit descriptor no statement uses: the DM's part is that it is not freed).
    assert_ne!(desc_count(ed2).0, SqlReturn::SQL_INVALID_HANDLE);
    // Setting the implicit handle itself back works the same way.
    rawh::ok_stmt(set_desc(s, StmtAttr::SQL_ATTR_APP_ROW_DESC, ed2), s, "SQLSetStmtAttr(ARD, explicit)");
    rawh::ok_stmt(set_desc(s, StmtAttr::SQL_ATTR_APP_ROW_DESC, ard0), s, "SQLSetStmtAttr(ARD, implicit)");
    assert_eq!(desc_of(s, StmtAttr::SQL_ATTR_APP_ROW_DESC), ard0);
    assert_eq!(free_desc(ed2), SqlReturn::SQL_SUCCESS);
    assert_eq!(desc_of(s, StmtAttr::SQL_ATTR_APP_ROW_DESC), ard0);

    // Explicit APD: freed, the statement's implicit APD is back and parameters bind on it.
    let (rc, ep) = alloc_desc(dbc);
    rawh::ok(rc, HandleType::SQL_HANDLE_DBC, dbc, "SQLAllocHandle(DESC)");
    rawh::ok_stmt(set_desc(s, StmtAttr::SQL_ATTR_APP_PARAM_DESC, ep), s, "SQLSetStmtAttr(APD, explicit)");
    assert_eq!(desc_of(s, StmtAttr::SQL_ATTR_APP_PARAM_DESC), ep);
    assert_eq!(free_desc(ep), SqlReturn::SQL_SUCCESS);
    assert_eq!(desc_of(s, StmtAttr::SQL_ATTR_APP_PARAM_DESC), apd0);
    let mut p: i32 = 7;
    let mut v: i32 = 0;
    let mut ind: SqlLen = 0;
    let sql = "select ?";
    // SAFETY: live statement; `p`, `v`, `ind` outlive the execution and fetch.
    unsafe {
        let rc = SQLBindParameter(
            s,
            1,
            ParamIoType::SQL_PARAM_INPUT,
            CDataType::SQL_C_LONG,
            SqlDataType::SQL_INTEGER,
            0,
            0,
            (&mut p as *mut i32).cast(),
            0,
            null_mut(),
        );
        rawh::ok_stmt(rc, s, "SQLBindParameter");
        rawh::ok_stmt(SQLBindCol(s, 1, CDataType::SQL_C_LONG, (&mut v as *mut i32).cast(), 4, &mut ind), s, "SQLBindCol");
        rawh::ok_stmt(SQLExecDirect(s, sql.as_ptr(), sql.len() as i32), s, "SQLExecDirect(select ?)");
        rawh::ok_stmt(SQLFetch(s), s, "SQLFetch");
        assert_eq!(v, 7);
        rawh::ok_stmt(SQLCloseCursor(s), s, "SQLCloseCursor");
        rawh::ok_stmt(SQLFreeStmt(s, FreeStmtOption::SQL_UNBIND), s, "SQLFreeStmt(UNBIND)");
        rawh::ok_stmt(SQLFreeStmt(s, FreeStmtOption::SQL_RESET_PARAMS), s, "SQLFreeStmt(RESET_PARAMS)");
    }
    assert!(desc_count(apd0).0.is_success());

    // An explicit descriptor outlives a statement it was on; freeing it later touches no
    // other statement.
    let (rc, e3) = alloc_desc(dbc);
    rawh::ok(rc, HandleType::SQL_HANDLE_DBC, dbc, "SQLAllocHandle(DESC)");
    rawh::ok_stmt(set_desc(s2, StmtAttr::SQL_ATTR_APP_ROW_DESC, e3), s2, "SQLSetStmtAttr(ARD, explicit)");
    rawh::free_stmt(s2);
    assert_ne!(desc_count(e3).0, SqlReturn::SQL_INVALID_HANDLE);
    let s3 = rawh::stmt(dbc);
    let ard3 = desc_of(s3, StmtAttr::SQL_ATTR_APP_ROW_DESC);
    assert_eq!(free_desc(e3), SqlReturn::SQL_SUCCESS);
    assert_eq!(desc_of(s3, StmtAttr::SQL_ATTR_APP_ROW_DESC), ard3);
    bind_fetch_42(s3);
    rawh::free_stmt(s3);

    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

/// The free of an explicit ARD races a thread that binds and fetches through it on the
/// statement: the DM waits for that call before setting the implicit ARD back, so the
/// driver never reads the freed descriptor. Step delays 0, 5 and 50 ms.
fn explicit_desc_freed_while_the_statement_works(kind: Kind) {
    let Some(cs) = conn_str(kind, "desc_race") else { return };
    let (env, dbc) = rawh::connect(&cs);
    let (rc, probe) = alloc_desc(dbc);
    if !rc.is_success() {
        rawh::disconnect(env, dbc);
        return; // no explicit descriptors (covered by the test above)
    }
    assert_eq!(free_desc(probe), SqlReturn::SQL_SUCCESS);
    for delay in [0u64, 5, 50] {
        let s = rawh::stmt(dbc);
        let ard0 = desc_of(s, StmtAttr::SQL_ATTR_APP_ROW_DESC);
        let (rc, ed) = alloc_desc(dbc);
        rawh::ok(rc, HandleType::SQL_HANDLE_DBC, dbc, "SQLAllocHandle(DESC)");
        rawh::ok_stmt(set_desc(s, StmtAttr::SQL_ATTR_APP_ROW_DESC, ed), s, "SQLSetStmtAttr(ARD, explicit)");
        let (su, eu) = (s as usize, ed as usize);
        let worker = std::thread::spawn(move || {
            let s = su as H;
            let mut v: i32;
            let mut ind: SqlLen = 0;
            let mut fetched = 0;
            for _ in 0..20 {
                v = 0;
                // SAFETY: live statement; `v` and `ind` outlive every fetch (unbound below).
                unsafe {
                    let rc = SQLBindCol(s, 1, CDataType::SQL_C_LONG, (&mut v as *mut i32).cast(), 4, &mut ind);
                    assert!(rc.is_success(), "SQLBindCol: {rc:?} {}", rawh::diag_text(HandleType::SQL_HANDLE_STMT, s));
                    let rc = SQLExecDirect(s, "select 42".as_ptr(), 9);
                    assert!(rc.is_success(), "SQLExecDirect: {rc:?} {}", rawh::diag_text(HandleType::SQL_HANDLE_STMT, s));
                    // The one round the free lands in (between the bind and the fetch) may
                    // fetch through the implicit ARD, which has no binding: psqlODBC then
                    // answers 07005, MariaDB fetches nothing into `v`. Every other round
                    // fetches 42.
                    if SQLFetch(s).is_success() && std::ptr::read_volatile(&v) == 42 {
                        fetched += 1;
                    }
                    SQLFreeStmt(s, FreeStmtOption::SQL_CLOSE);
                }
                std::thread::sleep(Duration::from_millis(delay / 5));
            }
            // SAFETY: live statement.
            unsafe { SQLFreeStmt(s, FreeStmtOption::SQL_UNBIND) };
            fetched
        });
        std::thread::sleep(Duration::from_millis(delay));
        assert_eq!(free_desc(eu as H), SqlReturn::SQL_SUCCESS, "delay {delay} ms");
        let fetched = worker.join().expect("worker");
        assert!(fetched >= 19, "{kind:?}, delay {delay} ms: {fetched} of 20 fetches worked, before and after the free");
        assert_eq!(desc_of(s, StmtAttr::SQL_ATTR_APP_ROW_DESC), ard0, "delay {delay} ms");
        bind_fetch_42(s);
        rawh::free_stmt(s);
    }
    rawh::disconnect(env, dbc);
}

/// SQLCopyDesc reads its source without holding the source's call: a SQLFreeHandle of the
/// source on another thread waits for it (the driver never reads a freed descriptor), and
/// a later copy gets SQL_INVALID_HANDLE or HY010. Step delays 0, 5 and 50 ms.
fn copy_desc_races_the_free_of_its_source(kind: Kind) {
    let Some(cs) = conn_str(kind, "desc_copy_race") else { return };
    let (env, dbc) = rawh::connect(&cs);
    let (rc, probe) = alloc_desc(dbc);
    if !rc.is_success() {
        rawh::disconnect(env, dbc);
        return; // no explicit descriptors
    }
    assert_eq!(free_desc(probe), SqlReturn::SQL_SUCCESS);
    let s = rawh::stmt(dbc);
    let mut v: i32 = 0;
    let mut ind: SqlLen = 0;
    for delay in [0u64, 5, 50] {
        let (rc, src) = alloc_desc(dbc);
        rawh::ok(rc, HandleType::SQL_HANDLE_DBC, dbc, "SQLAllocHandle(DESC)");
        let (rc, tgt) = alloc_desc(dbc);
        rawh::ok(rc, HandleType::SQL_HANDLE_DBC, dbc, "SQLAllocHandle(DESC)");
        // The source becomes an ARD with one bound record (so the driver has something to
        // read); the free sets the statement back to its implicit ARD meanwhile.
        rawh::ok_stmt(set_desc(s, StmtAttr::SQL_ATTR_APP_ROW_DESC, src), s, "SQLSetStmtAttr(ARD, explicit)");
        // SAFETY: live statement; `v` and `ind` outlive the binding (the descriptor is freed
        // below, nothing is fetched).
        unsafe {
            rawh::ok_stmt(SQLBindCol(s, 1, CDataType::SQL_C_LONG, (&mut v as *mut i32).cast(), 4, &mut ind), s, "SQLBindCol");
        }
        let (su, tu) = (src as usize, tgt as usize);
        let copier = std::thread::spawn(move || {
            let mut codes = Vec::new();
            for _ in 0..200 {
                // SAFETY: descriptor handles of the test (the source may be freed meanwhile:
                // the DM answers SQL_INVALID_HANDLE for it then).
                let rc = unsafe { SQLCopyDesc(su as H, tu as H) };
                codes.push(rc);
                if rc == SqlReturn::SQL_INVALID_HANDLE {
                    break;
                }
                if delay > 0 {
                    std::thread::sleep(Duration::from_micros(delay * 20));
                }
            }
            codes
        });
        std::thread::sleep(Duration::from_millis(delay));
        assert_eq!(free_desc(src), SqlReturn::SQL_SUCCESS, "{kind:?}, delay {delay} ms");
        let codes = copier.join().expect("copier");
        for rc in &codes {
            assert!(
                rc.is_success() || *rc == SqlReturn::SQL_INVALID_HANDLE || *rc == SqlReturn::SQL_ERROR,
                "{kind:?}, delay {delay} ms: {rc:?}"
            );
        }
        if delay == 50 {
            // The copies before the free reached the driver (psqlODBC refuses them with
            // HY000 "source handle type undefined" after reading the source).
            assert!(codes.iter().any(|rc| *rc != SqlReturn::SQL_INVALID_HANDLE), "{kind:?}: no copy before the free");
        }
        // After the free the source is gone for the DM.
        // SAFETY: a freed handle (the DM answers SQL_INVALID_HANDLE).
        assert_eq!(unsafe { SQLCopyDesc(src, tgt) }, SqlReturn::SQL_INVALID_HANDLE);
        assert_eq!(free_desc(tgt), SqlReturn::SQL_SUCCESS);
    }
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

// ----------------------------------------------------------------- S8–S10

/// Executes `echo_sql` with one data-at-execution parameter: SQL_NEED_DATA (S8).
fn start_need_data(kind: Kind, s: H, ind: &mut SqlLen) {
    *ind = SQL_DATA_AT_EXEC;
    let sql = echo_sql(kind);
    // SAFETY: live statement; the token (1) travels in the pointer; `ind` outlives the
    // data-at-execution sequence (the caller keeps it).
    unsafe {
        let rc = SQLBindParameter(
            s,
            1,
            ParamIoType::SQL_PARAM_INPUT,
            CDataType::SQL_C_CHAR,
            SqlDataType::SQL_VARCHAR,
            20,
            0,
            1 as SqlPointer,
            0,
            ind,
        );
        rawh::ok_stmt(rc, s, "SQLBindParameter(DATA_AT_EXEC)");
        let rc = SQLExecDirect(s, sql.as_ptr(), sql.len() as i32);
        assert_eq!(rc, SqlReturn::SQL_NEED_DATA, "{kind:?}: {}", rawh::diag_text(HandleType::SQL_HANDLE_STMT, s));
    }
}

/// What every state of S8–S10 refuses with (HY010), on the statement and on its APD
/// (§4.5, §4.7, Appendix B; the descriptor functions' pages).
fn refused_in_need_data(s: H, apd: H, where_: &str) {
    let st = HandleType::SQL_HANDLE_STMT;
    let mut v: usize = 0;
    let mut buf = [0u8; 32];
    let mut n: i16 = 0;
    // SAFETY: live statement and descriptor; buffers of the sizes passed; null outputs where
    // the functions allow them (libmaodbc's SQLGetDescRecW dereferences them: it must never
    // be reached here).
    unsafe {
        let p = (&mut v as *mut usize).cast();
        hy010(SQLGetStmtAttr(s, StmtAttr::SQL_ATTR_ROW_ARRAY_SIZE, p, 0, null_mut()), st, s, &format!("{where_}: SQLGetStmtAttr"));
        hy010(SQLGetStmtAttr(s, StmtAttr::SQL_ATTR_APP_PARAM_DESC, p, 0, null_mut()), st, s, &format!("{where_}: SQLGetStmtAttr(APD)"));
        hy010(SQLSetStmtAttr(s, StmtAttr::SQL_ATTR_ROW_ARRAY_SIZE, 1 as SqlPointer, 0), st, s, &format!("{where_}: SQLSetStmtAttr"));
        hy010(SQLGetCursorName(s, buf.as_mut_ptr(), 32, &mut n), st, s, &format!("{where_}: SQLGetCursorName"));
        hy010(SQLNumResultCols(s, &mut n), st, s, &format!("{where_}: SQLNumResultCols"));
        hy010(SQLFreeStmt(s, FreeStmtOption::SQL_CLOSE), st, s, &format!("{where_}: SQLFreeStmt(CLOSE)"));
        hy010(SQLFreeStmt(s, FreeStmtOption::SQL_DROP), st, s, &format!("{where_}: SQLFreeStmt(DROP)"));
        hy010(SQLFreeHandle(HandleType::SQL_HANDLE_STMT, s), st, s, &format!("{where_}: SQLFreeHandle(STMT)"));
        let dt = HandleType::SQL_HANDLE_DESC;
        let (rc, _) = desc_count(apd);
        hy010(rc, dt, apd, &format!("{where_}: SQLGetDescField(APD)"));
        let rc = SQLGetDescRec(apd, 1, null_mut(), 0, null_mut(), null_mut(), null_mut(), null_mut(), null_mut(), null_mut(), null_mut());
        hy010(rc, dt, apd, &format!("{where_}: SQLGetDescRec(APD)"));
        let rc = SQLGetDescRecW(apd, 1, null_mut(), 0, null_mut(), null_mut(), null_mut(), null_mut(), null_mut(), null_mut(), null_mut());
        hy010(rc, dt, apd, &format!("{where_}: SQLGetDescRecW(APD)"));
        let rc = SQLSetDescField(apd, 1, DescField::SQL_DESC_OCTET_LENGTH, 5 as SqlPointer, 0);
        hy010(rc, dt, apd, &format!("{where_}: SQLSetDescField(APD)"));
    }
}

/// §4.5, §4.7 (Appendix B S8–S10): the sequence S8 → S9 → S10 → done, each state refusing
/// what the table refuses, then a second sequence ended by SQLCancel; the statement is
/// freed only after it left S8–S10.
fn need_data_states_refuse_per_the_state_table(kind: Kind) {
    let Some(cs) = conn_str(kind, "need_data_states") else { return };
    let (env, dbc) = rawh::connect(&cs);
    let s = rawh::stmt(dbc);
    let apd = desc_of(s, StmtAttr::SQL_ATTR_APP_PARAM_DESC);
    let mut ind: SqlLen = 0;
    start_need_data(kind, s, &mut ind);
    // S8.
    refused_in_need_data(s, apd, "S8");
    let st = HandleType::SQL_HANDLE_STMT;
    // SAFETY: live statement; the data outlives each call.
    unsafe {
        hy010(SQLPutData(s, b"ab".as_ptr() as SqlPointer, 2), st, s, "S8: SQLPutData");
        let mut token: SqlPointer = null_mut();
        assert_eq!(SQLParamData(s, &mut token), SqlReturn::SQL_NEED_DATA);
        assert_eq!(token as usize, 1);
        // S9: SQLParamData before any SQLPutData is (HY010).
        refused_in_need_data(s, apd, "S9");
        hy010(SQLParamData(s, &mut token), st, s, "S9: SQLParamData");
        rawh::ok_stmt(SQLPutData(s, b"ab".as_ptr() as SqlPointer, 2), s, "S9: SQLPutData");
        // S10 (a second SQLPutData of the same value would be allowed too, but
        // libsqlite3odbc refuses it: one part is enough here).
        refused_in_need_data(s, apd, "S10");
        let rc = SQLParamData(s, &mut token);
        rawh::ok_stmt(rc, s, "S10: SQLParamData (execute)");
    }
    // The sequence ended: the statement works again and its result is the data sent.
    // (libsqlite3odbc answers '' for `select ?` with a data-at-execution parameter, under
    // unixODBC too.)
    let want = if kind == Kind::Sqlite { "" } else { "ab" };
    assert_eq!(rawh::fetch_all_text(s), vec![vec![Some(want.to_string())]]);
    // The DM no longer refuses the APD (libsqlite3odbc and the reference driver have no
    // SQLGetDescField of their own: their answer is theirs).
    let (rc, _) = desc_count(apd);
    assert!(rc.is_success() || matches!(kind, Kind::Sqlite | Kind::Reference), "{kind:?}: {rc:?}");
    assert_ne!(state(HandleType::SQL_HANDLE_DESC, apd), "HY010");

    // A second sequence, ended by SQLCancel (§4.8): everything is allowed again.
    rawh::close(s);
    start_need_data(kind, s, &mut ind);
    refused_in_need_data(s, apd, "S8 (again)");
    // SAFETY: live statement.
    unsafe { rawh::ok_stmt(SQLCancel(s), s, "SQLCancel") };
    let (rc, d) = stmt_desc(s, StmtAttr::SQL_ATTR_APP_PARAM_DESC);
    rawh::ok_stmt(rc, s, "SQLGetStmtAttr after SQLCancel");
    assert_eq!(d, apd);
    // SAFETY: live statement; freed once.
    assert_eq!(unsafe { SQLFreeHandle(HandleType::SQL_HANDLE_STMT, s) }, SqlReturn::SQL_SUCCESS);
    rawh::disconnect(env, dbc);
}

/// An explicit APD of a statement in S8: its descriptor functions are (HY010) and freeing
/// it is HY010 (decision #131: the DM cannot set the statement back to its implicit APD
/// while the driver is collecting the parameter data); after SQLCancel the free works and
/// the statement is on its implicit APD.
fn explicit_apd_of_a_statement_that_needs_data(kind: Kind) {
    let Some(cs) = conn_str(kind, "need_data_explicit") else { return };
    let (env, dbc) = rawh::connect(&cs);
    let (rc, ep) = alloc_desc(dbc);
    if !rc.is_success() {
        rawh::disconnect(env, dbc);
        return; // no explicit descriptors
    }
    let s = rawh::stmt(dbc);
    let apd0 = desc_of(s, StmtAttr::SQL_ATTR_APP_PARAM_DESC);
    rawh::ok_stmt(set_desc(s, StmtAttr::SQL_ATTR_APP_PARAM_DESC, ep), s, "SQLSetStmtAttr(APD, explicit)");
    let mut ind: SqlLen = 0;
    start_need_data(kind, s, &mut ind);
    refused_in_need_data(s, ep, "S8, explicit APD");
    hy010(free_desc(ep), HandleType::SQL_HANDLE_DESC, ep, "S8: SQLFreeHandle(DESC) of the explicit APD");
    // The descriptor is still there.
    // SAFETY: live statement.
    unsafe { rawh::ok_stmt(SQLCancel(s), s, "SQLCancel") };
    assert_eq!(desc_of(s, StmtAttr::SQL_ATTR_APP_PARAM_DESC), ep);
    let (rc, _) = desc_count(ep);
    assert_ne!(rc, SqlReturn::SQL_INVALID_HANDLE);
    assert_ne!(state(HandleType::SQL_HANDLE_DESC, ep), "HY010", "{kind:?}: explicit APD after SQLCancel");
    assert_eq!(free_desc(ep), SqlReturn::SQL_SUCCESS);
    assert_eq!(desc_of(s, StmtAttr::SQL_ATTR_APP_PARAM_DESC), apd0);
    assert!(desc_count(apd0).0.is_success());
    rawh::free_stmt(s);
    rawh::disconnect(env, dbc);
}

macro_rules! driver_tests {
    ($module:ident, $kind:expr) => {
        mod $module {
            use super::*;

            #[test]
            fn sqlfreehandle_desc_explicit_ard_apd_freed_statements_revert_to_implicit() {
                explicit_desc_freed_reverts_to_implicit($kind);
            }

            #[test]
            fn sqlfreehandle_desc_races_binds_and_fetches_on_its_statement_delays_0_5_50() {
                explicit_desc_freed_while_the_statement_works($kind);
            }

            #[test]
            fn sqlcopydesc_races_the_free_of_its_source_delays_0_5_50() {
                copy_desc_races_the_free_of_its_source($kind);
            }

            #[test]
            fn s4_5_s4_7_need_data_s8_s9_s10_refuse_all_but_paramdata_putdata_cancel() {
                need_data_states_refuse_per_the_state_table($kind);
            }

            #[test]
            fn s4_7_explicit_apd_of_a_need_data_statement_is_hy010_decision_131() {
                explicit_apd_of_a_statement_that_needs_data($kind);
            }
        }
    };
}

driver_tests!(sqlite, Kind::Sqlite);
driver_tests!(postgres, Kind::Postgres);
driver_tests!(mariadb, Kind::Mariadb);
driver_tests!(reference, Kind::Reference);
