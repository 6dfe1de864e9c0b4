//! Optimistic concurrency (§5, issue 14) on real drivers through the raw layer:
//! SQL_ATTR_CONCURRENCY rules (§5.1, §5.2), the DM's emulated SQLSetPos (§5.5, §5.6) and
//! positioned statements (§5.7), with collisions reported as 01001 (§5.3, §5.8).
//!
//! Drivers: libsqlite3odbc (file database shared by two connections), psqlODBC and
//! MariaDB Connector/ODBC. None of them offers ROWVER/VALUES for its default cursor, so
//! the DM emulates; the tests read the final table state through a third connection.

mod common;

use common::rawh::*;
use odbc_dm::abi::*;
use odbc_dm::raw::*;

/// One driver under test.
#[derive(Clone)]
struct Db {
    name: &'static str,
    cs: String,
    int: &'static str,
    text: &'static str,
    /// A character type for a 10,000-character value that `=` can compare.
    long: &'static str,
    float: &'static str,
    bin: &'static str,
}

fn sqlite_cs(db: &std::path::Path) -> String {
    // StepAPI=0: the driver reads a result completely at execution, so an open cursor
    // holds no SQLite read lock that would block the other connection's write.
    format!("DRIVER={};Database={};StepAPI=0;Timeout=120000", common::debian_driver("libsqlite3odbc.so").display(), db.display())
}

/// The drivers of this test (a missing server is a skip, a failure under the test command).
fn dbs(test: &str) -> Vec<Db> {
    common::init();
    let mut v = Vec::new();
    if common::require_driver(test, &common::debian_driver("libsqlite3odbc.so")).is_some() {
        v.push(Db {
            name: "sqlite",
            cs: sqlite_cs(&common::temp_db(test)),
            int: "INTEGER",
            text: "TEXT",
            long: "TEXT",
            float: "DOUBLE",
            bin: "BLOB",
        });
    }
    if common::require_driver(test, &common::refdriver_path()).is_some() {
        // The reference driver on a file database (two connections see the same rows).
        let file = common::temp_db(&format!("{test}-ref"));
        v.push(Db {
            name: "refdriver",
            // A generous busy timeout: eight writers on a loaded machine (lost-update test).
            cs: format!("DRIVER={};Database={};BusyTimeout=120000", common::refdriver_path().display(), file.display()),
            int: "INTEGER",
            text: "TEXT",
            long: "TEXT",
            float: "DOUBLE",
            bin: "BLOB",
        });
    }
    if common::require_driver(test, &common::refdriver_path()).is_some() {
        // The reference driver with its native ROWVER/VALUES (Optimistic=1): the DM passes
        // SQL_ATTR_CONCURRENCY and SQLSetPos through (§5.2).
        let file = common::temp_db(&format!("{test}-refnative"));
        v.push(Db {
            name: "refdriver-native",
            cs: format!("DRIVER={};Database={};Optimistic=1;BusyTimeout=120000", common::refdriver_path().display(), file.display()),
            int: "INTEGER",
            text: "TEXT",
            long: "TEXT",
            float: "DOUBLE",
            bin: "BLOB",
        });
    }
    if let Some(cs) = common::postgres_conn_str(test) {
        v.push(Db {
            name: "postgres",
            cs,
            int: "INTEGER",
            text: "VARCHAR(300)",
            long: "VARCHAR(20000)",
            float: "DOUBLE PRECISION",
            bin: "BYTEA",
        });
    }
    if let Some(cs) = common::mariadb_conn_str(test) {
        v.push(Db {
            name: "mariadb",
            cs,
            int: "INT",
            text: "VARCHAR(300)",
            long: "VARCHAR(10000)",
            float: "DOUBLE",
            bin: "VARBINARY(300)",
        });
    }
    v
}

/// SQLSTATEs of a statement's diagnostics.
fn states(s: H) -> Vec<String> {
    diag_recs(HandleType::SQL_HANDLE_STMT, s).into_iter().map(|r| r.state).collect()
}

/// The optimistic bits the driver reports for its forward-only cursor (§5.2) and
/// SQL_SCROLL_CONCURRENCY, read through the DM.
fn driver_bits(dbc: H) -> (u32, u32) {
    let info = |i: InfoType| {
        let mut v: u32 = 0;
        // SAFETY: live connection; a 4-byte buffer.
        unsafe { SQLGetInfo(dbc, i, (&mut v as *mut u32).cast(), 4, std::ptr::null_mut()) };
        v
    };
    (info(InfoType::SQL_FORWARD_ONLY_CURSOR_ATTRIBUTES2) & 0xF, info(InfoType::SQL_SCROLL_CONCURRENCY))
}

fn get_attr(s: H, attr: StmtAttr) -> usize {
    let mut v: usize = 0;
    // SAFETY: live statement; a SQLULEN buffer.
    let rc = unsafe { SQLGetStmtAttr(s, attr, (&mut v as *mut usize).cast(), 0, std::ptr::null_mut()) };
    ok_stmt(rc, s, "SQLGetStmtAttr");
    v
}

/// SQLRowCount of a statement.
#[track_caller]
fn row_count(s: H) -> isize {
    let mut n: isize = -99;
    // SAFETY: live statement; a SQLLEN out pointer.
    ok_stmt(unsafe { SQLRowCount(s, &mut n) }, s, "SQLRowCount");
    n
}

/// A one-row cursor over `SELECT id, n FROM t WHERE id = ?` with bound buffers.
struct IntCursor {
    s: H,
    id: Box<(i32, SqlLen)>,
    n: Box<(i32, SqlLen)>,
    status: Box<[u16; 1]>,
}

impl IntCursor {
    /// Opens the cursor under `concurrency`, binds and fetches the row.
    #[track_caller]
    fn open(dbc: H, table: &str, id: i32, concurrency: usize) -> IntCursor {
        Self::open_named(dbc, table, id, concurrency, None)
    }

    #[track_caller]
    fn open_named(dbc: H, table: &str, id: i32, concurrency: usize, name: Option<&str>) -> IntCursor {
        let s = stmt(dbc);
        if let Some(n) = name {
            // SAFETY: live statement; the name outlives the call.
            ok_stmt(unsafe { SQLSetCursorName(s, n.as_ptr(), n.len() as i16) }, s, "SQLSetCursorName");
        }
        let rc = set_stmt_attr(s, StmtAttr::SQL_ATTR_CONCURRENCY, concurrency);
        ok_stmt(rc, s, "SQL_ATTR_CONCURRENCY");
        let mut c = IntCursor { s, id: Box::new((0, 0)), n: Box::new((0, 0)), status: Box::new([99]) };
        // SAFETY: live statement; the row status array outlives the statement (freed in drop).
        ok_stmt(unsafe { SQLSetStmtAttr(s, StmtAttr::SQL_ATTR_ROW_STATUS_PTR, c.status.as_mut_ptr().cast(), 0) }, s, "ROW_STATUS_PTR");
        ok_stmt(exec_rc(s, &format!("SELECT id, n FROM {table} WHERE id = {id}")), s, "SELECT");
        // SAFETY: live statement; boxed buffers that outlive the bindings.
        unsafe {
            ok_stmt(SQLBindCol(s, 1, CDataType::SQL_C_SLONG, (&mut c.id.0 as *mut i32).cast(), 4, &mut c.id.1), s, "bind 1");
            ok_stmt(SQLBindCol(s, 2, CDataType::SQL_C_SLONG, (&mut c.n.0 as *mut i32).cast(), 4, &mut c.n.1), s, "bind 2");
            ok_stmt(SQLFetch(s), s, "SQLFetch");
        }
        c
    }

    /// Writes `n` into the buffer and runs SQLSetPos(1, op).
    fn set_pos(&mut self, op: SetPosOperation, n: i32) -> SqlReturn {
        self.n.0 = n;
        // SAFETY: live statement with bound, live buffers.
        unsafe { SQLSetPos(self.s, 1, op, LockType::SQL_LOCK_NO_CHANGE) }
    }
}

impl Drop for IntCursor {
    fn drop(&mut self) {
        close(self.s);
        // SAFETY: live statement.
        unsafe { SQLFreeHandle(HandleType::SQL_HANDLE_STMT, self.s) };
    }
}

fn setup_counter(db: &Db, dbc: H, table: &str) {
    let s = stmt(dbc);
    let _ = exec_rc(s, &format!("DROP TABLE {table}"));
    close(s);
    for ddl in counter_ddl(db, table) {
        exec(s, &ddl);
    }
    exec(s, &format!("INSERT INTO {table} (id, n) VALUES (1, 0)"));
    free_stmt(s);
}

fn drop_table(dbc: H, table: &str) {
    let s = stmt(dbc);
    let _ = exec_rc(s, &format!("DROP TABLE {table}"));
    close(s);
    free_stmt(s);
}

/// §5.1: 24000 with a cursor open, HY011 after prepare, 01S02 for LOCK where the driver
/// lacks it; the DM answers SQLGetStmtAttr with what it emulates (§5.2).
#[test]
fn concurrency_attr_24000_hy011_01s02_sec5_1() {
    for db in dbs("concurrency_attr_24000_hy011_01s02_sec5_1") {
        let (env, dbc) = connect(&db.cs);
        eprintln!("{}: forward-only CA2 concurrency bits / SQL_SCROLL_CONCURRENCY: {:?}", db.name, driver_bits(dbc));
        let t = common::unique_table("occ_attr");
        setup_counter(&db, dbc, &t);
        let s = stmt(dbc);
        // Emulated or passed through: either way the DM reports the requested value.
        assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_CONCURRENCY, SQL_CONCUR_VALUES), SqlReturn::SQL_SUCCESS, "{}", db.name);
        assert_eq!(get_attr(s, StmtAttr::SQL_ATTR_CONCURRENCY), SQL_CONCUR_VALUES, "{}", db.name);
        // 24000: a cursor is open.
        ok_stmt(exec_rc(s, &format!("SELECT id, n FROM {t}")), s, "SELECT");
        assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_CONCURRENCY, SQL_CONCUR_ROWVER), SqlReturn::SQL_ERROR, "{}", db.name);
        assert_eq!(states(s), ["24000"], "{}", db.name);
        assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_SIMULATE_CURSOR, SQL_SC_UNIQUE), SqlReturn::SQL_ERROR, "{}", db.name);
        assert_eq!(states(s), ["24000"], "{}", db.name);
        assert_eq!(get_attr(s, StmtAttr::SQL_ATTR_CONCURRENCY), SQL_CONCUR_VALUES, "{} unchanged", db.name);
        close(s);
        // HY011: prepared.
        let sql = format!("SELECT id, n FROM {t}");
        // SAFETY: live statement; the text outlives the call.
        ok_stmt(unsafe { SQLPrepare(s, sql.as_ptr(), sql.len() as i32) }, s, "SQLPrepare");
        assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_CONCURRENCY, SQL_CONCUR_ROWVER), SqlReturn::SQL_ERROR, "{}", db.name);
        assert_eq!(states(s), ["HY011"], "{}", db.name);
        assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_SIMULATE_CURSOR, SQL_SC_NON_UNIQUE), SqlReturn::SQL_ERROR, "{}", db.name);
        assert_eq!(states(s), ["HY011"], "{}", db.name);
        free_stmt(s);
        // Invalid value: HY024.
        let s = stmt(dbc);
        assert_eq!(set_stmt_attr(s, StmtAttr::SQL_ATTR_CONCURRENCY, 77), SqlReturn::SQL_ERROR);
        assert_eq!(states(s), ["HY024"], "{}", db.name);
        // LOCK: the driver's LOCK when it offers it; otherwise 01S02 and an optimistic mode.
        let rc = set_stmt_attr(s, StmtAttr::SQL_ATTR_CONCURRENCY, SQL_CONCUR_LOCK);
        let st = states(s);
        let text = diag_text(HandleType::SQL_HANDLE_STMT, s);
        if rc == SqlReturn::SQL_SUCCESS_WITH_INFO {
            // The DM substitutes (its own record), with the driver's ROWVER/VALUES where
            // offered (refdriver-native: passthrough of ROWVER) or its emulation.
            assert!(text.contains("[odbc-dm]"), "{}: {text}", db.name);
        }
        let got = get_attr(s, StmtAttr::SQL_ATTR_CONCURRENCY);
        if rc == SqlReturn::SQL_SUCCESS_WITH_INFO {
            assert_eq!(st, ["01S02"], "{}", db.name);
            assert!(got == SQL_CONCUR_ROWVER || got == SQL_CONCUR_VALUES, "{}: LOCK substituted by {got}", db.name);
        } else {
            assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{}", db.name);
            assert_eq!(got, SQL_CONCUR_LOCK, "{}", db.name);
        }
        eprintln!("{}: SQL_CONCUR_LOCK → {rc:?}, reads back {got}", db.name);
        // Back to READ_ONLY goes to the driver (always offered, §5.1); the DM stops emulating.
        let rc = set_stmt_attr(s, StmtAttr::SQL_ATTR_CONCURRENCY, SQL_CONCUR_READ_ONLY);
        eprintln!(
            "{}: back to READ_ONLY → {rc:?} {}, reads back {}",
            db.name,
            diag_text(HandleType::SQL_HANDLE_STMT, s),
            get_attr(s, StmtAttr::SQL_ATTR_CONCURRENCY)
        );
        assert!(rc.is_success());
        free_stmt(s);
        drop_table(dbc, &t);
        disconnect(env, dbc);
    }
}

/// §5.3, §5.5: two connections read the same row and both update it through SQLSetPos:
/// exactly one succeeds, the other gets SQL_SUCCESS_WITH_INFO + 01001 and SQL_ROW_ERROR;
/// the winner's value stays. As VALUES and as ROWVER (01S02 → VALUES without a version
/// column).
#[test]
fn setpos_update_collision_01001_sec5_5() {
    for db in dbs("setpos_update_collision_01001_sec5_5") {
        for mode in [SQL_CONCUR_VALUES, SQL_CONCUR_ROWVER] {
            let (env, a) = connect(&db.cs);
            let (env2, b) = connect(&db.cs);
            let t = common::unique_table("occ_upd");
            setup_counter(&db, a, &t);
            let mut ca = IntCursor::open(a, &t, 1, mode);
            let mut cb = IntCursor::open(b, &t, 1, mode);
            assert_eq!((ca.n.0, cb.n.0), (0, 0));
            let ra = ca.set_pos(SetPosOperation::SQL_UPDATE, 10);
            assert!(ra.is_success(), "{} A: {ra:?} {}", db.name, diag_text(HandleType::SQL_HANDLE_STMT, ca.s));
            assert!(!states(ca.s).contains(&"01001".to_string()), "{}: A must not collide", db.name);
            if mode == SQL_CONCUR_ROWVER && db.name != "refdriver-native" {
                // §5.1: the DM emulates ROWVER, but `SELECT id, n` has no version column:
                // VALUES is substituted, announced with 01S02 at the first SQLSetPos.
                assert_eq!(ra, SqlReturn::SQL_SUCCESS_WITH_INFO, "{}", db.name);
                assert_eq!(states(ca.s), ["01S02"], "{}", db.name);
            }
            assert_eq!(ca.status[0], SQL_ROW_UPDATED, "{}", db.name);
            let rb = cb.set_pos(SetPosOperation::SQL_UPDATE, 20);
            assert_eq!(rb, SqlReturn::SQL_SUCCESS_WITH_INFO, "{} B: {}", db.name, diag_text(HandleType::SQL_HANDLE_STMT, cb.s));
            assert!(states(cb.s).contains(&"01001".to_string()), "{}: {:?}", db.name, states(cb.s));
            assert_eq!(cb.status[0], SQL_ROW_ERROR, "{}", db.name);
            if db.name != "refdriver-native" {
                // SQLRowCount after SQLSetPos(SQL_UPDATE) is the rows it changed: the DM ran
                // the UPDATE, so it answers, not the driver's SELECT statement.
                assert_eq!((row_count(ca.s), row_count(cb.s)), (1, 0), "{} mode {mode}", db.name);
            }
            drop((ca, cb));
            assert_eq!(query_i64(a, &format!("SELECT n FROM {t} WHERE id = 1")), 10, "{} mode {mode}", db.name);
            drop_table(a, &t);
            disconnect(env2, b);
            disconnect(env, a);
        }
    }
}

/// §5.5: delete versus update. A deletes the row; B's update collides (01001); and the
/// other way round, B's delete of a row A changed collides and leaves A's row.
#[test]
fn setpos_delete_vs_update_01001_sec5_5() {
    for db in dbs("setpos_delete_vs_update_01001_sec5_5") {
        let (env, a) = connect(&db.cs);
        let (env2, b) = connect(&db.cs);
        let t = common::unique_table("occ_del");
        setup_counter(&db, a, &t);
        // Delete first, then update.
        let mut ca = IntCursor::open(a, &t, 1, SQL_CONCUR_VALUES);
        let mut cb = IntCursor::open(b, &t, 1, SQL_CONCUR_VALUES);
        assert!(ca.set_pos(SetPosOperation::SQL_DELETE, 0).is_success());
        assert_eq!(ca.status[0], SQL_ROW_DELETED);
        assert_eq!(cb.set_pos(SetPosOperation::SQL_UPDATE, 5), SqlReturn::SQL_SUCCESS_WITH_INFO, "{}", db.name);
        assert!(states(cb.s).contains(&"01001".to_string()));
        assert_eq!(cb.status[0], SQL_ROW_ERROR);
        drop((ca, cb));
        assert_eq!(query_i64(a, &format!("SELECT COUNT(*) FROM {t}")), 0, "{}", db.name);
        // Update first, then delete.
        exec_on(a, &format!("INSERT INTO {t} (id, n) VALUES (1, 0)"));
        let mut ca = IntCursor::open(a, &t, 1, SQL_CONCUR_VALUES);
        let mut cb = IntCursor::open(b, &t, 1, SQL_CONCUR_VALUES);
        assert!(ca.set_pos(SetPosOperation::SQL_UPDATE, 7).is_success());
        assert_eq!(cb.set_pos(SetPosOperation::SQL_DELETE, 0), SqlReturn::SQL_SUCCESS_WITH_INFO, "{}", db.name);
        assert!(states(cb.s).contains(&"01001".to_string()));
        drop((ca, cb));
        assert_eq!(query_i64(a, &format!("SELECT n FROM {t} WHERE id = 1")), 7, "{}", db.name);
        drop_table(a, &t);
        disconnect(env2, b);
        disconnect(env, a);
    }
}

/// §5.7: positioned `UPDATE ... WHERE CURRENT OF c` on another statement of the connection,
/// rewritten by the DM into a searched UPDATE pinning the cursor's old values: the second
/// writer gets 01001 and the first writer's value stays.
#[test]
fn positioned_update_collision_01001_sec5_7() {
    // The reference driver has no cursor names (SQLSetCursorName is IM001).
    for db in dbs("positioned_update_collision_01001_sec5_7").into_iter().filter(|d| !d.name.starts_with("refdriver")) {
        let (env, a) = connect(&db.cs);
        let (env2, b) = connect(&db.cs);
        let t = common::unique_table("occ_pos");
        setup_counter(&db, a, &t);
        let ca = IntCursor::open_named(a, &t, 1, SQL_CONCUR_VALUES, Some("occ_ca"));
        let cb = IntCursor::open_named(b, &t, 1, SQL_CONCUR_VALUES, Some("occ_cb"));
        let ua = stmt(a);
        let rc = exec_rc(ua, &format!("UPDATE {t} SET n = 11 WHERE CURRENT OF occ_ca"));
        assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{}: {}", db.name, diag_text(HandleType::SQL_HANDLE_STMT, ua));
        let ub = stmt(b);
        let rc = exec_rc(ub, &format!("UPDATE {t} SET n = 22 WHERE CURRENT OF occ_cb"));
        assert_eq!(rc, SqlReturn::SQL_SUCCESS_WITH_INFO, "{}: {}", db.name, diag_text(HandleType::SQL_HANDLE_STMT, ub));
        assert!(states(ub).contains(&"01001".to_string()), "{}: {:?}", db.name, states(ub));
        // SQLRowCount of a positioned statement the DM ran: 1 changed, 0 for the collision.
        assert_eq!((row_count(ua), row_count(ub)), (1, 0), "{}", db.name);
        // Positioned DELETE on a row someone changed: 01001 as well.
        let rc = exec_rc(ub, &format!("DELETE FROM {t} WHERE CURRENT OF occ_cb"));
        assert_eq!(rc, SqlReturn::SQL_SUCCESS_WITH_INFO, "{}: {}", db.name, diag_text(HandleType::SQL_HANDLE_STMT, ub));
        assert!(states(ub).contains(&"01001".to_string()));
        free_stmt(ua);
        free_stmt(ub);
        drop((ca, cb));
        assert_eq!(query_i64(a, &format!("SELECT n FROM {t} WHERE id = 1")), 11, "{}", db.name);
        drop_table(a, &t);
        disconnect(env2, b);
        disconnect(env, a);
    }
}

/// Bound buffers of one row of the tricky-values table.
struct Tricky {
    id: (i32, SqlLen),
    t: ([u8; 256], SqlLen),
    f: (f64, SqlLen),
    b: ([u8; 300], SqlLen),
    nul: ([u8; 32], SqlLen),
    big: (Vec<u8>, SqlLen),
}

/// §5.4, §5.7: values that break a naive WHERE (quotes, `%` and `_`, a float that is not
/// exact in decimal, binary bytes with NUL and quote bytes, NULL, a 10,000-character
/// string) are pinned as bound parameters (NULL as IS NULL): the update of the untouched
/// row matches exactly one row (no 01001), and a change of only the long string by another
/// connection is detected (01001).
#[test]
fn values_that_break_naive_where_sec5_4() {
    for db in dbs("values_that_break_naive_where_sec5_4") {
        let (env, a) = connect(&db.cs);
        let (env2, b) = connect(&db.cs);
        let t = common::unique_table("occ_tricky");
        drop_table(a, &t);
        exec_on(
            a,
            &format!(
                "CREATE TABLE {t} (id {i} NOT NULL PRIMARY KEY, t {x}, f {f}, b {bin}, nul {x}, big {l})",
                i = db.int,
                x = db.text,
                l = db.long,
                f = db.float,
                bin = db.bin
            ),
        );
        let text: &[u8] = b"it's a \"quote\" 100% _x_ \\ ; -- end";
        let float = 0.1f64 + 0.2f64; // 0.30000000000000004
        let bin: Vec<u8> = (0..=255u8).rev().collect();
        let big: Vec<u8> = (0..10_000).map(|i| if i % 97 == 0 { b'\'' } else { b'a' + (i % 26) as u8 }).collect();
        // Insert through bound parameters too.
        let s = stmt(a);
        let ins = format!("INSERT INTO {t} (id, t, f, b, nul, big) VALUES (1, ?, ?, ?, NULL, ?)");
        let (mut l1, mut l2, mut l3, mut l4) = (text.len() as SqlLen, 8 as SqlLen, bin.len() as SqlLen, big.len() as SqlLen);
        let mut fv = float;
        // SAFETY: live statement; every buffer outlives SQLExecDirect.
        unsafe {
            ok_stmt(
                SQLBindParameter(
                    s,
                    1,
                    ParamIoType::SQL_PARAM_INPUT,
                    CDataType::SQL_C_CHAR,
                    SqlDataType::SQL_VARCHAR,
                    200,
                    0,
                    text.as_ptr() as SqlPointer,
                    0,
                    &mut l1,
                ),
                s,
                "p1",
            );
            ok_stmt(
                SQLBindParameter(
                    s,
                    2,
                    ParamIoType::SQL_PARAM_INPUT,
                    CDataType::SQL_C_DOUBLE,
                    SqlDataType::SQL_DOUBLE,
                    15,
                    0,
                    (&mut fv as *mut f64).cast(),
                    0,
                    &mut l2,
                ),
                s,
                "p2",
            );
            ok_stmt(
                SQLBindParameter(
                    s,
                    3,
                    ParamIoType::SQL_PARAM_INPUT,
                    CDataType::SQL_C_BINARY,
                    SqlDataType::SQL_VARBINARY,
                    256,
                    0,
                    bin.as_ptr() as SqlPointer,
                    0,
                    &mut l3,
                ),
                s,
                "p3",
            );
            ok_stmt(
                SQLBindParameter(
                    s,
                    4,
                    ParamIoType::SQL_PARAM_INPUT,
                    CDataType::SQL_C_CHAR,
                    SqlDataType::SQL_LONGVARCHAR,
                    10_000,
                    0,
                    big.as_ptr() as SqlPointer,
                    0,
                    &mut l4,
                ),
                s,
                "p4",
            );
        }
        ok_stmt(exec_rc(s, &ins), s, "INSERT");
        free_stmt(s);

        let s = stmt(a);
        ok_stmt(set_stmt_attr(s, StmtAttr::SQL_ATTR_CONCURRENCY, SQL_CONCUR_VALUES), s, "VALUES");
        ok_stmt(exec_rc(s, &format!("SELECT id, t, f, b, nul, big FROM {t}")), s, "SELECT");
        let mut r = Box::new(Tricky {
            id: (0, 0),
            t: ([0; 256], 0),
            f: (0.0, 0),
            b: ([0; 300], 0),
            nul: ([0; 32], 0),
            big: (vec![0u8; 10_001], 0),
        });
        // SAFETY: live statement; the boxed buffers outlive the bindings (freed below).
        unsafe {
            ok_stmt(SQLBindCol(s, 1, CDataType::SQL_C_SLONG, (&mut r.id.0 as *mut i32).cast(), 4, &mut r.id.1), s, "b1");
            ok_stmt(SQLBindCol(s, 2, CDataType::SQL_C_CHAR, r.t.0.as_mut_ptr().cast(), 256, &mut r.t.1), s, "b2");
            ok_stmt(SQLBindCol(s, 3, CDataType::SQL_C_DOUBLE, (&mut r.f.0 as *mut f64).cast(), 8, &mut r.f.1), s, "b3");
            ok_stmt(SQLBindCol(s, 4, CDataType::SQL_C_BINARY, r.b.0.as_mut_ptr().cast(), 300, &mut r.b.1), s, "b4");
            ok_stmt(SQLBindCol(s, 5, CDataType::SQL_C_CHAR, r.nul.0.as_mut_ptr().cast(), 32, &mut r.nul.1), s, "b5");
            ok_stmt(SQLBindCol(s, 6, CDataType::SQL_C_CHAR, r.big.0.as_mut_ptr().cast(), 10_001, &mut r.big.1), s, "b6");
            ok_stmt(SQLFetch(s), s, "SQLFetch");
        }
        assert_eq!(&r.t.0[..r.t.1 as usize], text, "{}", db.name);
        // libsqlite3odbc sends a double parameter as text with 15 significant digits, so
        // 0.30000000000000004 is stored as 0.3 there; the WHERE pins what was read.
        assert!((r.f.0 - float).abs() < 1e-12, "{}: {}", db.name, r.f.0);
        assert_eq!(&r.b.0[..r.b.1 as usize], &bin[..], "{}", db.name);
        assert_eq!(r.nul.1, SQL_NULL_DATA, "{}", db.name);
        assert_eq!(r.big.1, 10_000, "{}", db.name);
        // Update the float; every other value is pinned in the WHERE.
        r.f.0 = 2.5;
        // SAFETY: live statement; bound buffers alive.
        let rc = unsafe { SQLSetPos(s, 1, SetPosOperation::SQL_UPDATE, LockType::SQL_LOCK_NO_CHANGE) };
        assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{}: {}", db.name, diag_text(HandleType::SQL_HANDLE_STMT, s));
        // Another connection changes the last character of the long string only.
        exec_on(
            b,
            &format!(
                "UPDATE {t} SET big = {} WHERE id = 1",
                if db.name == "mariadb" { "CONCAT(SUBSTR(big, 1, 9999), 'Z')" } else { "SUBSTR(big, 1, 9999) || 'Z'" }
            ),
        );
        // Update again (the cache holds 2.5 now): the long string no longer matches.
        r.f.0 = 3.5;
        // SAFETY: as above.
        let rc = unsafe { SQLSetPos(s, 1, SetPosOperation::SQL_UPDATE, LockType::SQL_LOCK_NO_CHANGE) };
        assert_eq!(rc, SqlReturn::SQL_SUCCESS_WITH_INFO, "{}: {}", db.name, diag_text(HandleType::SQL_HANDLE_STMT, s));
        assert!(states(s).contains(&"01001".to_string()), "{}", db.name);
        close(s);
        free_stmt(s);
        drop(r);
        let rows = query(a, &format!("SELECT f, nul FROM {t}"));
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0][0].as_deref().map(|x| x.parse::<f64>().unwrap()), Some(2.5), "{}", db.name);
        assert_eq!(rows[0][1], None, "{}: the NULL stays NULL", db.name);
        drop_table(a, &t);
        disconnect(env2, b);
        disconnect(env, a);
    }
}

/// §5.6: a table without a key, two identical rows, under VALUES. An update of one of them
/// would match both: SQL_SC_UNIQUE and SQL_SC_TRY_UNIQUE refuse it (the DM's transaction
/// or savepoint rolls it back: no row changes) with 01001; SQL_SC_NON_UNIQUE reports 01001
/// after the fact — both rows changed (the documented risk). Autocommit on and off.
#[test]
fn keyless_duplicates_simulate_cursor_sec5_6() {
    for db in dbs("keyless_duplicates_simulate_cursor_sec5_6") {
        for autocommit in [true, false] {
            for mode in [SQL_SC_UNIQUE, SQL_SC_TRY_UNIQUE, SQL_SC_NON_UNIQUE] {
                let (env, a) = connect(&db.cs);
                let t = common::unique_table("occ_dup");
                drop_table(a, &t);
                exec_on(a, &format!("CREATE TABLE {t} (a {}, b {})", db.int, db.text));
                exec_on(a, &format!("INSERT INTO {t} (a, b) VALUES (1, 'x')"));
                exec_on(a, &format!("INSERT INTO {t} (a, b) VALUES (1, 'x')"));
                exec_on(a, &format!("INSERT INTO {t} (a, b) VALUES (2, 'y')"));
                if !autocommit {
                    set_autocommit(a, false);
                }
                let s = stmt(a);
                ok_stmt(set_stmt_attr(s, StmtAttr::SQL_ATTR_CONCURRENCY, SQL_CONCUR_VALUES), s, "VALUES");
                ok_stmt(set_stmt_attr(s, StmtAttr::SQL_ATTR_SIMULATE_CURSOR, mode), s, "SIMULATE_CURSOR");
                assert_eq!(get_attr(s, StmtAttr::SQL_ATTR_SIMULATE_CURSOR), mode);
                let mut status = [99u16; 1];
                // SAFETY: live statement; `status` outlives the statement.
                ok_stmt(unsafe { SQLSetStmtAttr(s, StmtAttr::SQL_ATTR_ROW_STATUS_PTR, status.as_mut_ptr().cast(), 0) }, s, "status");
                ok_stmt(exec_rc(s, &format!("SELECT a, b FROM {t} WHERE a = 1")), s, "SELECT");
                let (mut av, mut ai, mut bv, mut bi) = (0i32, 0 as SqlLen, [0u8; 16], 0 as SqlLen);
                // SAFETY: live statement; the buffers outlive the statement.
                unsafe {
                    ok_stmt(SQLBindCol(s, 1, CDataType::SQL_C_SLONG, (&mut av as *mut i32).cast(), 4, &mut ai), s, "b1");
                    ok_stmt(SQLBindCol(s, 2, CDataType::SQL_C_CHAR, bv.as_mut_ptr().cast(), 16, &mut bi), s, "b2");
                    ok_stmt(SQLFetch(s), s, "fetch");
                }
                bv[..2].copy_from_slice(b"z\0");
                bi = 1;
                let _ = bi;
                // SAFETY: live statement; bound buffers alive.
                let rc = unsafe { SQLSetPos(s, 1, SetPosOperation::SQL_UPDATE, LockType::SQL_LOCK_NO_CHANGE) };
                let what = format!("{} autocommit={autocommit} simulate={mode}", db.name);
                assert_eq!(rc, SqlReturn::SQL_SUCCESS_WITH_INFO, "{what}: {}", diag_text(HandleType::SQL_HANDLE_STMT, s));
                assert!(states(s).contains(&"01001".to_string()), "{what}");
                assert_eq!(status[0], SQL_ROW_ERROR, "{what}");
                close(s);
                free_stmt(s);
                if !autocommit {
                    end_tran(a, true);
                    set_autocommit(a, true);
                }
                let changed = query_i64(a, &format!("SELECT COUNT(*) FROM {t} WHERE b = 'z'"));
                let untouched = query_i64(a, &format!("SELECT COUNT(*) FROM {t} WHERE b = 'y'"));
                assert_eq!(untouched, 1, "{what}");
                if mode == SQL_SC_NON_UNIQUE {
                    assert_eq!(changed, 2, "{what}: NON_UNIQUE changes every matching row");
                } else {
                    assert_eq!(changed, 0, "{what}: refused, nothing changed");
                }
                drop_table(a, &t);
                disconnect(env, a);
            }
        }
    }
}

use odbc_dm::api::{retry_optimistic, Concurrency, Environment, Error as ApiError, SnapshotValue};

/// The counter table. On the reference driver it has a `row_version ROWVERSION` column kept
/// by a trigger, which its SQLSpecialColumns(SQL_ROWVER) reports (README "SQL_ROWVER
/// convention").
fn counter_ddl(db: &Db, t: &str) -> Vec<String> {
    if db.name.starts_with("refdriver") {
        vec![
            format!("CREATE TABLE {t} (id INTEGER NOT NULL PRIMARY KEY, n INTEGER, row_version ROWVERSION NOT NULL DEFAULT 1)"),
            format!(
                "CREATE TRIGGER {t}_rv AFTER UPDATE ON {t} BEGIN UPDATE {t} SET row_version = old.row_version + 1 WHERE id = new.id; END"
            ),
        ]
    } else {
        vec![format!("CREATE TABLE {t} (id {} NOT NULL PRIMARY KEY, n {})", db.int, db.int)]
    }
}

/// The SELECT of the counter row for a mode: under ROWVER on PostgreSQL the result carries
/// the row version psqlODBC reports through SQLSpecialColumns(SQL_ROWVER) (xmin), so the DM
/// pins it; elsewhere the DM substitutes VALUES (01S02).
fn counter_select(db: &Db, t: &str, mode: Concurrency) -> String {
    if mode == Concurrency::RowVersion && db.name == "postgres" {
        format!("SELECT id, n, xmin FROM {t} WHERE id = 1")
    } else if mode == Concurrency::RowVersion && db.name.starts_with("refdriver") {
        format!("SELECT id, n, row_version FROM {t} WHERE id = 1")
    } else {
        format!("SELECT id, n FROM {t} WHERE id = 1")
    }
}

/// §5.3 through the safe API: two connections read the same row as snapshots and both
/// update it: one succeeds, the other gets the typed `Error::Conflict`; a delete against a
/// stale snapshot is a conflict too; after a re-read the write goes through.
#[test]
fn safe_api_snapshot_conflict_sec5_3() {
    for db in dbs("safe_api_snapshot_conflict_sec5_3") {
        for mode in [Concurrency::Values, Concurrency::RowVersion] {
            let env = Environment::new().unwrap();
            let a = env.connect_with_connection_string(&db.cs).unwrap();
            let b = env.connect_with_connection_string(&db.cs).unwrap();
            let t = common::unique_table("occ_api");
            let _ = a.execute(&format!("DROP TABLE {t}"), ());
            for ddl in counter_ddl(&db, &t) {
                a.execute(&ddl, ()).unwrap();
            }
            a.execute(&format!("INSERT INTO {t} (id, n) VALUES (1, 0)"), ()).unwrap();
            let sql = counter_select(&db, &t, mode);
            let mut sa = a.read_snapshot(&sql, mode).unwrap().expect("row");
            let mut sb = b.read_snapshot(&sql, mode).unwrap().expect("row");
            sa.set("n", SnapshotValue::Int(1)).unwrap();
            sb.set("n", SnapshotValue::Int(2)).unwrap();
            sa.update().unwrap_or_else(|e| panic!("{} {mode:?}: {e}", db.name));
            match sb.update() {
                Err(ApiError::Conflict { records }) => assert!(records.iter().any(|r| r.state == "01001")),
                other => panic!("{} {mode:?}: expected a conflict, got {other:?}", db.name),
            }
            // Delete against a stale snapshot.
            let sd = b.read_snapshot(&sql, mode).unwrap().expect("row");
            let mut sa = a.read_snapshot(&sql, mode).unwrap().expect("row");
            sa.set("n", SnapshotValue::Int(3)).unwrap();
            sa.update().unwrap();
            assert!(matches!(sd.delete(), Err(ApiError::Conflict { .. })), "{} {mode:?}", db.name);
            let sd = b.read_snapshot(&sql, mode).unwrap().expect("row");
            assert_eq!(sd.get_i64("n"), Some(3));
            sd.delete().unwrap();
            assert!(b.read_snapshot(&sql, mode).unwrap().is_none());
            a.execute(&format!("DROP TABLE {t}"), ()).unwrap();
        }
    }
}

/// §5.3, §5.5 (issue 14): the lost-update test. 8 threads × 500 increments of one counter,
/// each a read-modify-write through a snapshot with `retry_optimistic`; every thread has its
/// own connection. The final value must be exactly 4,000, as VALUES and as ROWVER.
#[test]
fn lost_update_8_threads_x_500_sec5_3() {
    const THREADS: usize = 8;
    const INCREMENTS: usize = 500;
    for db in dbs("lost_update_8_threads_x_500_sec5_3") {
        for mode in [Concurrency::Values, Concurrency::RowVersion] {
            let started = std::time::Instant::now();
            let env = Environment::new().unwrap();
            let setup = env.connect_with_connection_string(&db.cs).unwrap();
            if db.name.starts_with("sqlite") || db.name.starts_with("refdriver") {
                // Eight writers on one SQLite file: WAL, so that readers never block the
                // writer (with the rollback journal a loaded machine sees "database is
                // locked" once a writer waits longer than the driver's busy timeout).
                drop(setup.execute("PRAGMA journal_mode=WAL", ()).unwrap());
            }
            let t = common::unique_table("occ_lost");
            let _ = setup.execute(&format!("DROP TABLE {t}"), ());
            for ddl in counter_ddl(&db, &t) {
                setup.execute(&ddl, ()).unwrap();
            }
            setup.execute(&format!("INSERT INTO {t} (id, n) VALUES (1, 0)"), ()).unwrap();
            let sql = counter_select(&db, &t, mode);
            let conflicts = std::sync::atomic::AtomicUsize::new(0);
            std::thread::scope(|sc| {
                for _ in 0..THREADS {
                    let (env, db, sql, conflicts) = (&env, &db, &sql, &conflicts);
                    sc.spawn(move || {
                        let conn = env.connect_with_connection_string(&db.cs).unwrap();
                        if db.name.starts_with("sqlite") || db.name.starts_with("refdriver") {
                            // WAL without an fsync per commit (this test is about lost
                            // updates, not durability): keeps the run short.
                            drop(conn.execute("PRAGMA synchronous=NORMAL", ()).unwrap());
                        }
                        for _ in 0..INCREMENTS {
                            retry_optimistic(10_000, || {
                                let mut s = conn.read_snapshot(sql, mode)?.expect("row");
                                let n = s.get_i64("n").expect("n");
                                s.set("n", SnapshotValue::Int(n + 1))?;
                                let r = s.update();
                                if matches!(r, Err(ApiError::Conflict { .. })) {
                                    conflicts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                }
                                r
                            })
                            .unwrap_or_else(|e| panic!("{} {mode:?}: {e}", db.name));
                        }
                    });
                }
            });
            let mut c = setup.execute(&format!("SELECT n FROM {t} WHERE id = 1"), ()).unwrap().unwrap();
            let n: i64 = c.next_row().unwrap().unwrap().get(1).unwrap();
            drop(c);
            eprintln!(
                "lost-update {} {mode:?}: n = {n}, {} conflicts retried, {:.1} s",
                db.name,
                conflicts.load(std::sync::atomic::Ordering::Relaxed),
                started.elapsed().as_secs_f64()
            );
            assert_eq!(n, (THREADS * INCREMENTS) as i64, "{} {mode:?}", db.name);
            setup.execute(&format!("DROP TABLE {t}"), ()).unwrap();
        }
    }
}

/// §5.3, §5.5 (issue 14): the lost-update test through the asynchronous (futures) API:
/// 8 tasks on a multi-threaded tokio runtime × 500 increments, each a read-modify-write
/// through an `AsyncSnapshot` with `retry_optimistic_async`; every task has its own
/// `AsyncConnection` (notification mode: native on the reference driver, emulated by the
/// DM elsewhere). The fetch is asynchronous and the emulated SQLSetPos runs as an
/// asynchronous operation (decisions #84, #85). The final value must be exactly 4,000.
#[test]
fn lost_update_async_8_tasks_x_500_sec5_3() {
    use odbc_dm::api::{retry_optimistic_async, AsyncConnection};
    const TASKS: usize = 8;
    const INCREMENTS: usize = 500;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().unwrap();
    for db in dbs("lost_update_async_8_tasks_x_500_sec5_3") {
        for mode in [Concurrency::Values, Concurrency::RowVersion] {
            let started = std::time::Instant::now();
            let env = std::sync::Arc::new(Environment::new().unwrap());
            let setup = env.connect_with_connection_string(&db.cs).unwrap();
            if db.name.starts_with("sqlite") || db.name.starts_with("refdriver") {
                drop(setup.execute("PRAGMA journal_mode=WAL", ()).unwrap());
            }
            let t = common::unique_table("occ_alost");
            let _ = setup.execute(&format!("DROP TABLE {t}"), ());
            for ddl in counter_ddl(&db, &t) {
                setup.execute(&ddl, ()).unwrap();
            }
            setup.execute(&format!("INSERT INTO {t} (id, n) VALUES (1, 0)"), ()).unwrap();
            let sql = counter_select(&db, &t, mode);
            let conflicts = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let async_emulated = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
            rt.block_on(async {
                let mut tasks = Vec::new();
                for _ in 0..TASKS {
                    let (env, cs, sql, conflicts, emu, name) =
                        (env.clone(), db.cs.clone(), sql.clone(), conflicts.clone(), async_emulated.clone(), db.name);
                    tasks.push(tokio::spawn(async move {
                        let conn = AsyncConnection::connect(&env, &cs).await.unwrap();
                        if name.starts_with("sqlite") || name.starts_with("refdriver") {
                            // WAL without an fsync per commit (as in the threads' test).
                            let mut st = conn.statement().unwrap();
                            st.execute("PRAGMA synchronous=NORMAL").await.unwrap();
                        }
                        if conn.statement().unwrap().is_emulated() {
                            emu.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        for _ in 0..INCREMENTS {
                            retry_optimistic_async(10_000, || async {
                                let mut s = conn.read_snapshot(sql.clone(), mode).await?.expect("row");
                                let n = s.get_i64("n").expect("n");
                                s.set("n", SnapshotValue::Int(n + 1))?;
                                let r = s.update().await;
                                if matches!(r, Err(ApiError::Conflict { .. })) {
                                    conflicts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                }
                                r
                            })
                            .await
                            .unwrap_or_else(|e| panic!("{name} {mode:?}: {e}"));
                        }
                    }));
                }
                for t in tasks {
                    t.await.unwrap();
                }
            });
            let mut c = setup.execute(&format!("SELECT n FROM {t} WHERE id = 1"), ()).unwrap().unwrap();
            let n: i64 = c.next_row().unwrap().unwrap().get(1).unwrap();
            drop(c);
            eprintln!(
                "async lost-update {} {mode:?}: n = {n}, {} conflicts retried, async emulated by the DM on {} of {TASKS} connections, {:.1} s",
                db.name,
                conflicts.load(std::sync::atomic::Ordering::Relaxed),
                async_emulated.load(std::sync::atomic::Ordering::Relaxed),
                started.elapsed().as_secs_f64()
            );
            assert_eq!(n, (TASKS * INCREMENTS) as i64, "{} {mode:?}", db.name);
            setup.execute(&format!("DROP TABLE {t}"), ()).unwrap();
        }
    }
}

/// Column-wise bound rowset of three rows of `(id, n, s)`.
struct Rowset3 {
    id: [i32; 3],
    id_ind: [SqlLen; 3],
    n: [i32; 3],
    n_ind: [SqlLen; 3],
    s: [[u8; 8]; 3],
    s_ind: [SqlLen; 3],
    status: [u16; 3],
    ops: [u16; 3],
    fetched: SqlULen,
}

/// §5.5 on a rowset: SQLSetPos(0, SQL_UPDATE) updates every row except the one marked
/// SQL_ROW_IGNORE, leaves out a column whose indicator is SQL_COLUMN_IGNORE, fills the row
/// status array; SQL_REFRESH re-reads a row another connection changed (and a later update
/// then pins the refreshed values) and reports a deleted row as SQL_ROW_DELETED.
#[test]
fn rowset_update_ignore_and_refresh_sec5_5() {
    // The reference driver fetches one row at a time (no block cursor).
    for db in dbs("rowset_update_ignore_and_refresh_sec5_5").into_iter().filter(|d| !d.name.starts_with("refdriver")) {
        let (env, a) = connect(&db.cs);
        let (env2, b) = connect(&db.cs);
        let t = common::unique_table("occ_rows");
        drop_table(a, &t);
        exec_on(a, &format!("CREATE TABLE {t} (id {i} NOT NULL PRIMARY KEY, n {i}, s {x})", i = db.int, x = db.text));
        exec_on(a, &format!("INSERT INTO {t} (id, n, s) VALUES (1, 10, 'a')"));
        exec_on(a, &format!("INSERT INTO {t} (id, n, s) VALUES (2, 20, 'b')"));
        exec_on(a, &format!("INSERT INTO {t} (id, n, s) VALUES (3, 30, 'c')"));
        let s = stmt(a);
        let mut r = Box::new(Rowset3 {
            id: [0; 3],
            id_ind: [0; 3],
            n: [0; 3],
            n_ind: [0; 3],
            s: [[0; 8]; 3],
            s_ind: [0; 3],
            status: [99; 3],
            ops: [SQL_ROW_PROCEED; 3],
            fetched: 0,
        });
        ok_stmt(set_stmt_attr(s, StmtAttr::SQL_ATTR_CONCURRENCY, SQL_CONCUR_VALUES), s, "VALUES");
        // SAFETY: live statement; the boxed arrays outlive the statement (freed below).
        unsafe {
            ok_stmt(SQLSetStmtAttr(s, StmtAttr::SQL_ATTR_ROW_ARRAY_SIZE, 3 as SqlPointer, 0), s, "ROW_ARRAY_SIZE");
            ok_stmt(SQLSetStmtAttr(s, StmtAttr::SQL_ATTR_ROW_STATUS_PTR, r.status.as_mut_ptr().cast(), 0), s, "ROW_STATUS_PTR");
            ok_stmt(
                SQLSetStmtAttr(s, StmtAttr::SQL_ATTR_ROWS_FETCHED_PTR, (&mut r.fetched as *mut SqlULen).cast(), 0),
                s,
                "ROWS_FETCHED_PTR",
            );
            let rc = SQLSetStmtAttr(s, StmtAttr::SQL_ATTR_ROW_OPERATION_PTR, r.ops.as_mut_ptr().cast(), 0);
            ok_stmt(rc, s, "ROW_OPERATION_PTR");
        }
        ok_stmt(exec_rc(s, &format!("SELECT id, n, s FROM {t} ORDER BY id")), s, "SELECT");
        // SAFETY: as above.
        unsafe {
            ok_stmt(SQLBindCol(s, 1, CDataType::SQL_C_SLONG, r.id.as_mut_ptr().cast(), 4, r.id_ind.as_mut_ptr()), s, "b1");
            ok_stmt(SQLBindCol(s, 2, CDataType::SQL_C_SLONG, r.n.as_mut_ptr().cast(), 4, r.n_ind.as_mut_ptr()), s, "b2");
            ok_stmt(SQLBindCol(s, 3, CDataType::SQL_C_CHAR, r.s.as_mut_ptr().cast(), 8, r.s_ind.as_mut_ptr()), s, "b3");
            ok_stmt(SQLFetch(s), s, "SQLFetch");
        }
        assert_eq!((r.fetched, r.id, r.n), (3, [1, 2, 3], [10, 20, 30]), "{}", db.name);
        r.n = [11, 21, 31];
        r.n_ind[2] = SQL_COLUMN_IGNORE;
        r.s[2][..2].copy_from_slice(b"C\0");
        r.s_ind[2] = 1;
        r.ops[1] = SQL_ROW_IGNORE;
        let before = r.status[1];
        // SAFETY: live statement; bound buffers alive.
        let rc = unsafe { SQLSetPos(s, 0, SetPosOperation::SQL_UPDATE, LockType::SQL_LOCK_NO_CHANGE) };
        assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{}: {}", db.name, diag_text(HandleType::SQL_HANDLE_STMT, s));
        assert_eq!(r.status, [SQL_ROW_UPDATED, before, SQL_ROW_UPDATED], "{}", db.name);
        let rows = query(b, &format!("SELECT id, n, s FROM {t} ORDER BY id"));
        let got: Vec<(String, String)> = rows.iter().map(|x| (x[1].clone().unwrap(), x[2].clone().unwrap())).collect();
        assert_eq!(got, [("11".into(), "a".into()), ("20".into(), "b".into()), ("30".into(), "C".into())], "{}", db.name);
        // Another connection changes row 2; SQL_REFRESH reads it into the buffers.
        exec_on(b, &format!("UPDATE {t} SET n = 99 WHERE id = 2"));
        r.ops = [SQL_ROW_PROCEED; 3];
        r.n_ind = [4; 3];
        // SAFETY: as above.
        let rc = unsafe { SQLSetPos(s, 2, SetPosOperation::SQL_REFRESH, LockType::SQL_LOCK_NO_CHANGE) };
        assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{}: {}", db.name, diag_text(HandleType::SQL_HANDLE_STMT, s));
        assert_eq!(r.n[1], 99, "{}", db.name);
        // The refreshed values are what the next update pins: no conflict.
        r.n[1] = 100;
        // SAFETY: as above.
        let rc = unsafe { SQLSetPos(s, 2, SetPosOperation::SQL_UPDATE, LockType::SQL_LOCK_NO_CHANGE) };
        assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{}: {}", db.name, diag_text(HandleType::SQL_HANDLE_STMT, s));
        assert_eq!(query_i64(b, &format!("SELECT n FROM {t} WHERE id = 2")), 100, "{}", db.name);
        // A row deleted elsewhere: SQL_REFRESH says SQL_ROW_DELETED.
        exec_on(b, &format!("DELETE FROM {t} WHERE id = 1"));
        // SAFETY: as above.
        let rc = unsafe { SQLSetPos(s, 1, SetPosOperation::SQL_REFRESH, LockType::SQL_LOCK_NO_CHANGE) };
        assert!(rc.is_success(), "{}: {}", db.name, diag_text(HandleType::SQL_HANDLE_STMT, s));
        assert_eq!(r.status[0], SQL_ROW_DELETED, "{}", db.name);
        // Row number past the rowset: HY107.
        // SAFETY: as above.
        let rc = unsafe { SQLSetPos(s, 4, SetPosOperation::SQL_UPDATE, LockType::SQL_LOCK_NO_CHANGE) };
        assert_eq!(rc, SqlReturn::SQL_ERROR);
        assert_eq!(states(s), ["HY107"], "{}", db.name);
        close(s);
        // SAFETY: live statement; unbind before the buffers go.
        unsafe { SQLFreeStmt(s, FreeStmtOption::SQL_UNBIND) };
        free_stmt(s);
        drop(r);
        drop_table(a, &t);
        disconnect(env2, b);
        disconnect(env, a);
    }
}

/// How a statement runs its asynchronous calls in `setpos_after_async_fetch_sec5_5`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum AsyncWay {
    /// SQL_ATTR_ASYNC_ENABLE only: the application repeats the call (§1.7).
    Polling,
    /// SQL_ATTR_ASYNC_STMT_EVENT too: wait for the event, SQLCompleteAsync (§2).
    Notify,
}

/// Runs one asynchronous call to its end: `(code, whether it returned SQL_STILL_EXECUTING
/// first)`.
fn drive(way: AsyncWay, ev: Option<&odbc_dm::AsyncEvent>, s: H, mut call: impl FnMut() -> SqlReturn) -> (SqlReturn, bool) {
    let first = call();
    if first != SqlReturn::SQL_STILL_EXECUTING {
        return (first, false);
    }
    match way {
        AsyncWay::Polling => (poll(call).0, true),
        AsyncWay::Notify => {
            let ev = ev.expect("event");
            assert!(ev.wait_timeout(std::time::Duration::from_secs(60)), "the event is set on completion (§2.12)");
            ev.reset();
            let (r, rc) = complete_async(HandleType::SQL_HANDLE_STMT, s);
            assert_eq!(r, SqlReturn::SQL_SUCCESS, "SQLCompleteAsync");
            (rc, true)
        }
    }
}

/// §5.5 after asynchronous fetches (decisions #84, #85): a statement under emulated
/// SQL_CONCUR_VALUES executes and fetches asynchronously (the DM's emulated polling and
/// notification on SQLite; the reference driver's native polling and notification), then
/// SQLSetPos SQL_UPDATE / SQL_REFRESH with async still on: the update is written, a
/// collision gives 01001 and SQL_ROW_ERROR, a refresh re-reads the row. Under
/// notification and emulated polling SQLSetPos returns SQL_STILL_EXECUTING and completes
/// through the usual path; under the driver's native polling it completes at once.
#[test]
fn setpos_after_async_fetch_sec5_5() {
    for db in dbs("setpos_after_async_fetch_sec5_5") {
        if db.name != "sqlite" && db.name != "refdriver" {
            continue;
        }
        for way in [AsyncWay::Polling, AsyncWay::Notify] {
            let (env, a) = connect(&db.cs);
            let (_env2, b) = connect(&db.cs);
            let dm_emulates = db.name == "sqlite";
            if dm_emulates {
                let emu = ConnAttr(odbc_dm::raw::SQL_ATTR_DM_ASYNC_EMULATION);
                // SAFETY: live connection; an integer attribute passed by value.
                assert!(unsafe { SQLSetConnectAttr(a, emu, 1 as SqlPointer, 0) }.is_success());
            }
            let t = common::unique_table("occ_async");
            setup_counter(&db, a, &t);
            let s = stmt(a);
            ok_stmt(set_stmt_attr(s, StmtAttr::SQL_ATTR_CONCURRENCY, SQL_CONCUR_VALUES), s, "SQL_ATTR_CONCURRENCY");
            let mut status = Box::new([99u16; 1]);
            // SAFETY: live statement; the boxed status array outlives the statement.
            ok_stmt(unsafe { SQLSetStmtAttr(s, StmtAttr::SQL_ATTR_ROW_STATUS_PTR, status.as_mut_ptr().cast(), 0) }, s, "ROW_STATUS_PTR");
            ok_stmt(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_ON), s, "ASYNC_ENABLE");
            let ev = (way == AsyncWay::Notify).then(|| {
                let ev = odbc_dm::AsyncEvent::new().unwrap();
                ok_stmt(set_stmt_attr(s, StmtAttr::SQL_ATTR_ASYNC_STMT_EVENT, ev.as_attr() as usize), s, "ASYNC_STMT_EVENT");
                ev
            });
            let what = format!("{} {way:?}", db.name);
            let sql = format!("SELECT id, n FROM {t} WHERE id = 1");
            // SAFETY: live statement; the text outlives the operation (we drive it to its end).
            let (rc, _) = drive(way, ev.as_ref(), s, || unsafe { SQLExecDirect(s, sql.as_ptr(), sql.len() as i32) });
            assert!(rc.is_success(), "{what}: execute {rc:?} {:?}", states(s));
            let mut id: Box<(i32, SqlLen)> = Box::new((0, 0));
            let mut n: Box<(i32, SqlLen)> = Box::new((0, 0));
            // SAFETY: live statement; boxed buffers that outlive the bindings.
            unsafe {
                ok_stmt(SQLBindCol(s, 1, CDataType::SQL_C_SLONG, (&mut id.0 as *mut i32).cast(), 4, &mut id.1), s, "bind 1");
                ok_stmt(SQLBindCol(s, 2, CDataType::SQL_C_SLONG, (&mut n.0 as *mut i32).cast(), 4, &mut n.1), s, "bind 2");
            }
            // SAFETY: live statement with bound buffers.
            let (rc, fetch_async) = drive(way, ev.as_ref(), s, || unsafe { SQLFetch(s) });
            assert!(rc.is_success(), "{what}: fetch {rc:?} {:?}", states(s));
            assert!(fetch_async, "{what}: the fetch ran asynchronously");
            assert_eq!((id.0, n.0), (1, 0));
            // Positioned update with async on.
            n.0 = 5;
            // SAFETY: live statement with bound buffers.
            let setpos = |op: SetPosOperation| unsafe { SQLSetPos(s, 1, op, LockType::SQL_LOCK_NO_CHANGE) };
            let (rc, went_async) = drive(way, ev.as_ref(), s, || setpos(SetPosOperation::SQL_UPDATE));
            assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{what}: SQLSetPos {:?}", states(s));
            let expect_async = way == AsyncWay::Notify || dm_emulates;
            assert_eq!(went_async, expect_async, "{what}: SQLSetPos returned SQL_STILL_EXECUTING first (decision #85)");
            assert_eq!(status[0], SQL_ROW_UPDATED, "{what}");
            assert_eq!(query_i64(b, &format!("SELECT n FROM {t} WHERE id = 1")), 5, "{what}");
            // Someone else changes the row: the next update collides (01001).
            exec_on(b, &format!("UPDATE {t} SET n = 7 WHERE id = 1"));
            n.0 = 9;
            let (rc, _) = drive(way, ev.as_ref(), s, || setpos(SetPosOperation::SQL_UPDATE));
            assert_eq!(rc, SqlReturn::SQL_SUCCESS_WITH_INFO, "{what}");
            assert!(states(s).contains(&"01001".to_string()), "{what}: {:?}", states(s));
            assert_eq!(status[0], SQL_ROW_ERROR, "{what}");
            assert_eq!(query_i64(b, &format!("SELECT n FROM {t} WHERE id = 1")), 7, "{what}: nothing written");
            // SQL_REFRESH re-reads the row; the update then goes through.
            let (rc, _) = drive(way, ev.as_ref(), s, || setpos(SetPosOperation::SQL_REFRESH));
            assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{what}: refresh {:?}", states(s));
            assert_eq!(n.0, 7, "{what}: refreshed value");
            n.0 = 8;
            let (rc, _) = drive(way, ev.as_ref(), s, || setpos(SetPosOperation::SQL_UPDATE));
            assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{what}: {:?}", states(s));
            assert_eq!(query_i64(b, &format!("SELECT n FROM {t} WHERE id = 1")), 8, "{what}");
            close(s);
            free_stmt(s);
            // The bound buffers go only after the statement is freed.
            drop((id, n, status));
            drop_table(a, &t);
            disconnect(env, a);
            disconnect(_env2, b);
        }
    }
}

/// §5.7 with parameter markers (decision #88): `UPDATE t SET n = ? WHERE CURRENT OF c`
/// executed with the application's bound parameter: the DM's rewritten statement carries
/// the application's parameter first and its own pinned values after it. Success writes the
/// parameter's value; after another connection changed the row, 01001 and nothing
/// written; a NULL parameter travels too; an unbound marker is 07002.
#[test]
fn positioned_update_with_parameters_sec5_7() {
    // The reference driver has no cursor names (SQLSetCursorName is IM001).
    for db in dbs("positioned_update_with_parameters_sec5_7").into_iter().filter(|d| !d.name.starts_with("refdriver")) {
        let (env, a) = connect(&db.cs);
        let (env2, b) = connect(&db.cs);
        let t = common::unique_table("occ_posp");
        setup_counter(&db, a, &t);
        let ca = IntCursor::open_named(a, &t, 1, SQL_CONCUR_VALUES, Some("occ_pa"));
        let u = stmt(a);
        let mut v: Box<(i32, SqlLen)> = Box::new((41, 0));
        // SAFETY: live statement; the boxed value outlives every execution below.
        let rc = unsafe {
            SQLBindParameter(
                u,
                1,
                ParamIoType::SQL_PARAM_INPUT,
                CDataType::SQL_C_SLONG,
                SqlDataType::SQL_INTEGER,
                0,
                0,
                (&mut v.0 as *mut i32).cast(),
                0,
                &mut v.1,
            )
        };
        ok_stmt(rc, u, "SQLBindParameter");
        let sql = format!("UPDATE {t} SET n = ? WHERE CURRENT OF occ_pa");
        let rc = exec_rc(u, &sql);
        assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{}: {}", db.name, diag_text(HandleType::SQL_HANDLE_STMT, u));
        assert_eq!(query_i64(b, &format!("SELECT n FROM {t} WHERE id = 1")), 41, "{}", db.name);
        // The cursor's cache followed the write: the same positioned update again succeeds.
        v.0 = 42;
        let rc = exec_rc(u, &sql);
        assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{}: {}", db.name, diag_text(HandleType::SQL_HANDLE_STMT, u));
        assert_eq!(query_i64(b, &format!("SELECT n FROM {t} WHERE id = 1")), 42, "{}", db.name);
        // Someone else changes the row: 01001, nothing written.
        exec_on(b, &format!("UPDATE {t} SET n = 7 WHERE id = 1"));
        v.0 = 43;
        let rc = exec_rc(u, &sql);
        assert_eq!(rc, SqlReturn::SQL_SUCCESS_WITH_INFO, "{}: {}", db.name, diag_text(HandleType::SQL_HANDLE_STMT, u));
        assert!(states(u).contains(&"01001".to_string()), "{}: {:?}", db.name, states(u));
        assert_eq!(query_i64(b, &format!("SELECT n FROM {t} WHERE id = 1")), 7, "{}", db.name);
        drop(ca);
        // A fresh cursor; a NULL parameter.
        let ca = IntCursor::open_named(a, &t, 1, SQL_CONCUR_VALUES, Some("occ_pa"));
        v.1 = SQL_NULL_DATA;
        let rc = exec_rc(u, &sql);
        assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{}: {}", db.name, diag_text(HandleType::SQL_HANDLE_STMT, u));
        let nulls = query_i64(b, &format!("SELECT COUNT(*) FROM {t} WHERE id = 1 AND n IS NULL"));
        assert_eq!(nulls, 1, "{}", db.name);
        drop(ca);
        // Two markers, one of them unbound: 07002 before anything runs.
        let ca = IntCursor::open_named(a, &t, 1, SQL_CONCUR_VALUES, Some("occ_pa"));
        let rc = exec_rc(u, &format!("UPDATE {t} SET n = ?, id = ? WHERE CURRENT OF occ_pa"));
        assert_eq!(rc, SqlReturn::SQL_ERROR, "{}", db.name);
        assert_eq!(states(u), vec!["07002".to_string()], "{}", db.name);
        free_stmt(u);
        drop((ca, v));
        drop_table(a, &t);
        disconnect(env2, b);
        disconnect(env, a);
    }
}

/// §5.5 with the columns bound and the row status array set *before* SQL_ATTR_CONCURRENCY
/// (binding order is free in ODBC; decision #89: the DM records every binding in the
/// statement object, whenever it is made). On every driver the update writes the bound
/// value and marks the row SQL_ROW_UPDATED, and a collision is 01001 with SQL_ROW_ERROR
/// and nothing written. After SQLFreeStmt(SQL_UNBIND) the DM knows no binding any more:
/// SQLSetPos(SQL_UPDATE) is refused (HY000) rather than a write that pins nothing.
#[test]
fn bound_before_concurrency_attr_sec5_5() {
    for db in dbs("bound_before_concurrency_attr_sec5_5") {
        let (env, a) = connect(&db.cs);
        let (env2, b) = connect(&db.cs);
        let t = common::unique_table("occ_bbc");
        setup_counter(&db, a, &t);
        let s = stmt(a);
        let mut id: Box<(i32, SqlLen)> = Box::new((0, 0));
        let mut n: Box<(i32, SqlLen)> = Box::new((0, 0));
        let mut status = Box::new([99u16; 1]);
        // SAFETY: live statement; boxed buffers that outlive the statement (freed first).
        unsafe {
            ok_stmt(SQLBindCol(s, 1, CDataType::SQL_C_SLONG, (&mut id.0 as *mut i32).cast(), 4, &mut id.1), s, "bind 1");
            ok_stmt(SQLBindCol(s, 2, CDataType::SQL_C_SLONG, (&mut n.0 as *mut i32).cast(), 4, &mut n.1), s, "bind 2");
            ok_stmt(SQLSetStmtAttr(s, StmtAttr::SQL_ATTR_ROW_STATUS_PTR, status.as_mut_ptr().cast(), 0), s, "ROW_STATUS_PTR");
        }
        ok_stmt(set_stmt_attr(s, StmtAttr::SQL_ATTR_CONCURRENCY, SQL_CONCUR_VALUES), s, "SQL_ATTR_CONCURRENCY");
        ok_stmt(exec_rc(s, &format!("SELECT id, n FROM {t} WHERE id = 1")), s, "SELECT");
        // SAFETY: live statement with bound buffers.
        ok_stmt(unsafe { SQLFetch(s) }, s, "SQLFetch");
        assert_eq!((id.0, n.0), (1, 0), "{}", db.name);
        n.0 = 5;
        // SAFETY: as above.
        let rc = unsafe { SQLSetPos(s, 1, SetPosOperation::SQL_UPDATE, LockType::SQL_LOCK_NO_CHANGE) };
        assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{}: {}", db.name, diag_text(HandleType::SQL_HANDLE_STMT, s));
        assert_eq!(status[0], SQL_ROW_UPDATED, "{}", db.name);
        assert_eq!(query_i64(b, &format!("SELECT n FROM {t} WHERE id = 1")), 5, "{}", db.name);
        exec_on(b, &format!("UPDATE {t} SET n = 7 WHERE id = 1"));
        n.0 = 9;
        // SAFETY: as above.
        let rc = unsafe { SQLSetPos(s, 1, SetPosOperation::SQL_UPDATE, LockType::SQL_LOCK_NO_CHANGE) };
        assert_eq!(rc, SqlReturn::SQL_SUCCESS_WITH_INFO, "{}: {}", db.name, diag_text(HandleType::SQL_HANDLE_STMT, s));
        assert!(states(s).contains(&"01001".to_string()), "{}: {:?}", db.name, states(s));
        assert_eq!(status[0], SQL_ROW_ERROR, "{}", db.name);
        assert_eq!(query_i64(b, &format!("SELECT n FROM {t} WHERE id = 1")), 7, "{}", db.name);
        if db.name != "refdriver-native" {
            // SQL_UNBIND: the DM forgets the bindings with the driver (the native driver
            // answers SQLSetPos itself).
            // SAFETY: live statement.
            ok_stmt(unsafe { SQLFreeStmt(s, FreeStmtOption::SQL_UNBIND) }, s, "SQL_UNBIND");
            // SAFETY: as above; nothing is bound any more.
            let rc = unsafe { SQLSetPos(s, 1, SetPosOperation::SQL_UPDATE, LockType::SQL_LOCK_NO_CHANGE) };
            assert_eq!(rc, SqlReturn::SQL_ERROR, "{}", db.name);
            assert_eq!(states(s), vec!["HY000".to_string()], "{}", db.name);
            assert_eq!(query_i64(b, &format!("SELECT n FROM {t} WHERE id = 1")), 7, "{}", db.name);
        }
        close(s);
        free_stmt(s);
        drop((id, n, status));
        drop_table(a, &t);
        disconnect(env2, b);
        disconnect(env, a);
    }
}

/// §5.7 with the application's parameter bound *before* any cursor used the DM's
/// optimistic concurrency (decisions #88, #89: input bindings are always recorded in the
/// statement object): the positioned update writes the parameter's value; after
/// SQLFreeStmt(SQL_RESET_PARAMS) the marker is unbound (07002) and nothing is written.
#[test]
fn param_bound_before_cursor_sec5_7() {
    // The reference driver has no cursor names (SQLSetCursorName is IM001).
    for db in dbs("param_bound_before_cursor_sec5_7").into_iter().filter(|d| !d.name.starts_with("refdriver")) {
        let (env, a) = connect(&db.cs);
        let (env2, b) = connect(&db.cs);
        let t = common::unique_table("occ_pbb");
        setup_counter(&db, a, &t);
        let u = stmt(a);
        let mut v: Box<(i32, SqlLen)> = Box::new((31, 0));
        // SAFETY: live statement; the boxed value outlives every execution below.
        let rc = unsafe {
            SQLBindParameter(
                u,
                1,
                ParamIoType::SQL_PARAM_INPUT,
                CDataType::SQL_C_SLONG,
                SqlDataType::SQL_INTEGER,
                0,
                0,
                (&mut v.0 as *mut i32).cast(),
                0,
                &mut v.1,
            )
        };
        ok_stmt(rc, u, "SQLBindParameter");
        let ca = IntCursor::open_named(a, &t, 1, SQL_CONCUR_VALUES, Some("occ_pbb"));
        let sql = format!("UPDATE {t} SET n = ? WHERE CURRENT OF occ_pbb");
        let rc = exec_rc(u, &sql);
        assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{}: {}", db.name, diag_text(HandleType::SQL_HANDLE_STMT, u));
        assert_eq!(query_i64(b, &format!("SELECT n FROM {t} WHERE id = 1")), 31, "{}", db.name);
        // SAFETY: live statement.
        ok_stmt(unsafe { SQLFreeStmt(u, FreeStmtOption::SQL_RESET_PARAMS) }, u, "SQL_RESET_PARAMS");
        v.0 = 32;
        let rc = exec_rc(u, &sql);
        assert_eq!(rc, SqlReturn::SQL_ERROR, "{}", db.name);
        assert_eq!(states(u), vec!["07002".to_string()], "{}", db.name);
        assert_eq!(query_i64(b, &format!("SELECT n FROM {t} WHERE id = 1")), 31, "{}", db.name);
        free_stmt(u);
        drop((ca, v));
        drop_table(a, &t);
        disconnect(env2, b);
        disconnect(env, a);
    }
}

/// §5.5 after SQLExtendedFetch (ODBC 2 style): SQL_ROWSET_SIZE 3, column-wise arrays, the
/// RowStatusArray passed to SQLExtendedFetch. SQLSetPos(2, SQL_UPDATE) writes row 2 and
/// marks it SQL_ROW_UPDATED in that array; after another connection changed row 3,
/// SQLSetPos(3, SQL_UPDATE) is 01001 with SQL_ROW_ERROR, nothing written; SQLSetPos(1,
/// SQL_DELETE) deletes row 1.
#[test]
fn extended_fetch_then_setpos_sec5_5() {
    for db in dbs("extended_fetch_then_setpos_sec5_5") {
        if !matches!(db.name, "sqlite" | "postgres" | "mariadb") {
            continue;
        }
        let (env, a) = connect(&db.cs);
        let (env2, b) = connect(&db.cs);
        let t = common::unique_table("occ_ext");
        setup_counter(&db, a, &t);
        exec_on(a, &format!("INSERT INTO {t} (id, n) VALUES (2, 20)"));
        exec_on(a, &format!("INSERT INTO {t} (id, n) VALUES (3, 30)"));
        let s = stmt(a);
        ok_stmt(set_stmt_attr(s, StmtAttr::SQL_ATTR_CONCURRENCY, SQL_CONCUR_VALUES), s, "SQL_ATTR_CONCURRENCY");
        ok_stmt(set_stmt_attr(s, StmtAttr::SQL_ROWSET_SIZE, 3), s, "SQL_ROWSET_SIZE");
        ok_stmt(exec_rc(s, &format!("SELECT id, n FROM {t} ORDER BY id")), s, "SELECT");
        let mut id: Box<([i32; 3], [SqlLen; 3])> = Box::new(([0; 3], [0; 3]));
        let mut n: Box<([i32; 3], [SqlLen; 3])> = Box::new(([0; 3], [0; 3]));
        let mut status = Box::new([99u16; 3]);
        let mut count: Box<SqlULen> = Box::new(0);
        // SAFETY: live statement; boxed arrays of the rowset size that outlive the statement.
        unsafe {
            ok_stmt(SQLBindCol(s, 1, CDataType::SQL_C_SLONG, id.0.as_mut_ptr().cast(), 4, id.1.as_mut_ptr()), s, "bind 1");
            ok_stmt(SQLBindCol(s, 2, CDataType::SQL_C_SLONG, n.0.as_mut_ptr().cast(), 4, n.1.as_mut_ptr()), s, "bind 2");
            let rc = SQLExtendedFetch(s, FetchOrientation::SQL_FETCH_NEXT, 0, &mut *count, status.as_mut_ptr());
            ok_stmt(rc, s, "SQLExtendedFetch");
        }
        assert_eq!((*count, id.0, n.0), (3, [1, 2, 3], [0, 20, 30]), "{}", db.name);
        // SAFETY: live statement with bound arrays.
        let setpos = |row: usize, op: SetPosOperation| unsafe { SQLSetPos(s, row, op, LockType::SQL_LOCK_NO_CHANGE) };
        n.0[1] = 21;
        let rc = setpos(2, SetPosOperation::SQL_UPDATE);
        assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{}: {:?}", db.name, states(s));
        assert_eq!(status[1], SQL_ROW_UPDATED, "{}", db.name);
        assert_eq!(query_i64(b, &format!("SELECT n FROM {t} WHERE id = 2")), 21, "{}", db.name);
        exec_on(b, &format!("UPDATE {t} SET n = 33 WHERE id = 3"));
        n.0[2] = 31;
        let rc = setpos(3, SetPosOperation::SQL_UPDATE);
        assert_eq!(rc, SqlReturn::SQL_SUCCESS_WITH_INFO, "{}", db.name);
        assert!(states(s).contains(&"01001".to_string()), "{}: {:?}", db.name, states(s));
        assert_eq!(status[2], SQL_ROW_ERROR, "{}", db.name);
        assert_eq!(query_i64(b, &format!("SELECT n FROM {t} WHERE id = 3")), 33, "{}", db.name);
        let rc = setpos(1, SetPosOperation::SQL_DELETE);
        assert_eq!(rc, SqlReturn::SQL_SUCCESS, "{}: {:?}", db.name, states(s));
        assert_eq!(status[0], SQL_ROW_DELETED, "{}", db.name);
        assert_eq!(query_i64(b, &format!("SELECT COUNT(*) FROM {t}")), 2, "{}", db.name);
        close(s);
        free_stmt(s);
        drop((id, n, status, count));
        drop_table(a, &t);
        disconnect(env2, b);
        disconnect(env, a);
    }
}

/// §5.3 through the asynchronous API: two `AsyncConnection`s read the same row as
/// `AsyncSnapshot`s and both update it: one succeeds, the other gets `Error::Conflict`;
/// a delete against a stale snapshot is a conflict too (pollster drives the futures: no
/// particular runtime is needed).
#[test]
fn async_snapshot_conflict_sec5_3() {
    use odbc_dm::api::AsyncConnection;
    for db in dbs("async_snapshot_conflict_sec5_3") {
        for mode in [Concurrency::Values, Concurrency::RowVersion] {
            let env = Environment::new().unwrap();
            let setup = env.connect_with_connection_string(&db.cs).unwrap();
            let t = common::unique_table("occ_aapi");
            let _ = setup.execute(&format!("DROP TABLE {t}"), ());
            for ddl in counter_ddl(&db, &t) {
                setup.execute(&ddl, ()).unwrap();
            }
            setup.execute(&format!("INSERT INTO {t} (id, n) VALUES (1, 0)"), ()).unwrap();
            let sql = counter_select(&db, &t, mode);
            pollster::block_on(async {
                let a = AsyncConnection::connect(&env, &db.cs).await.unwrap();
                let b = AsyncConnection::connect(&env, &db.cs).await.unwrap();
                let mut sa = a.read_snapshot(sql.clone(), mode).await.unwrap().expect("row");
                let mut sb = b.read_snapshot(sql.clone(), mode).await.unwrap().expect("row");
                sa.set("n", SnapshotValue::Int(1)).unwrap();
                sb.set("n", SnapshotValue::Int(2)).unwrap();
                sa.update().await.unwrap_or_else(|e| panic!("{} {mode:?}: {e}", db.name));
                match sb.update().await {
                    Err(ApiError::Conflict { records }) => assert!(records.iter().any(|r| r.state == "01001")),
                    other => panic!("{} {mode:?}: expected a conflict, got {other:?}", db.name),
                }
                let sd = b.read_snapshot(sql.clone(), mode).await.unwrap().expect("row");
                let mut sa = a.read_snapshot(sql.clone(), mode).await.unwrap().expect("row");
                sa.set("n", SnapshotValue::Int(3)).unwrap();
                sa.update().await.unwrap();
                assert!(matches!(sd.delete().await, Err(ApiError::Conflict { .. })), "{} {mode:?}", db.name);
                let sd = b.read_snapshot(sql.clone(), mode).await.unwrap().expect("row");
                assert_eq!(sd.get_i64("n"), Some(3), "{} {mode:?}", db.name);
                sd.delete().await.unwrap();
                assert!(b.read_snapshot(sql.clone(), mode).await.unwrap().is_none());
            });
            setup.execute(&format!("DROP TABLE {t}"), ()).unwrap();
        }
    }
}
