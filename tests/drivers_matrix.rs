//! The DM against three real drivers (issue requirement "real drivers, no mocks"):
//! libsqlite3odbc (temp-file database), psqlODBC (psqlodbcw, PostgreSQL on 127.0.0.1:5432
//! db `test`) and MariaDB Connector/ODBC (127.0.0.1:3306 db `test`). One macro expands the
//! same tests for each driver; a server driver whose server is unreachable fails in the
//! test command and is a counted skip outside it (`common::skip`). Everything goes through `odbc_dm::raw` (the ODBC-shaped API).
//!
//! Requirements proved (test names say which):
//! - R1 connect by absolute driver path, by odbcinst.ini driver name and by DSN;
//! - R2 100,000 rows inserted with bound parameters (one prepare, one execute per row, one
//!   transaction) and read back both with SQLBindCol and with SQLGetData, every value checked;
//! - R3 data-at-execution parameters (SQL_LEN_DATA_AT_EXEC, SQLParamData/SQLPutData);
//! - R4 SQLEndTran commit / rollback as seen from a second connection;
//! - R5 catalog functions (SQLTables, SQLColumns, SQLPrimaryKeys) find table, columns, key;
//! - R6 a driver error reaches the application with the driver's own SQLSTATE and text.

mod common;

use common::rawh::{self, H};
use odbc_dm::abi::*;
use odbc_dm::raw::*;
use std::ptr::null_mut;
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Sqlite,
    Postgres,
    Mariadb,
}

/// One driver under test: three ways to reach the same database.
struct Spec {
    kind: Kind,
    driver: std::path::PathBuf,
    by_path: String,
    by_name: String,
    by_dsn: String,
}

fn spec(kind: Kind, test: &str) -> Option<Spec> {
    common::init();
    match kind {
        Kind::Sqlite => {
            let db = common::temp_db(test);
            Some(Spec {
                kind,
                driver: common::debian_driver("libsqlite3odbc.so"),
                by_path: common::sqlite_conn_str(&db),
                by_name: common::sqlite_conn_str_by_name(&db),
                // [sqlite-test] has its own database file (target/odbc-test/dsn.db).
                by_dsn: "DSN=sqlite-test".into(),
            })
        }
        Kind::Postgres => {
            let by_path = common::postgres_conn_str(test)?;
            Some(Spec {
                kind,
                driver: common::debian_driver("psqlodbcw.so"),
                by_path,
                by_name: format!(
                    "DRIVER={{PostgreSQL Unicode}};Servername=127.0.0.1;Port=5432;Database=test;Username={};CommLog=0;Debug=0",
                    common::pg_user()
                ),
                by_dsn: "DSN=pg-test".into(),
            })
        }
        Kind::Mariadb => {
            let by_path = common::mariadb_conn_str(test)?;
            Some(Spec {
                kind,
                driver: common::debian_driver("libmaodbc.so"),
                by_path,
                by_name: "DRIVER={MariaDB Unicode};Server=127.0.0.1;Port=3306;Database=test;User=root;Password=".into(),
                by_dsn: "DSN=maria-test".into(),
            })
        }
    }
}

const ROWS: i32 = 100_000;

fn txt_of(id: i32) -> String {
    format!("row-{id:06}-{}", "xyz".repeat((id % 5) as usize))
}

fn val_of(id: i32) -> f64 {
    // Exactly representable, so the round trip can be compared with ==.
    id as f64 * 0.5 + 0.25
}

#[allow(clippy::too_many_arguments)] // mirrors SQLBindParameter
fn bind_param(s: H, n: u16, c: CDataType, sql: SqlDataType, size: usize, value: SqlPointer, buf_len: isize, ind: *mut SqlLen) {
    // SAFETY: live statement; the caller keeps `value` and `ind` alive until the last execute.
    let rc = unsafe { SQLBindParameter(s, n, ParamIoType::SQL_PARAM_INPUT, c, sql, size, 0, value, buf_len, ind) };
    rawh::ok_stmt(rc, s, "SQLBindParameter");
}

// ---------------------------------------------------------------- R1

fn r1_connect_three_ways(sp: &Spec) {
    for (how, cs) in [("absolute driver path", &sp.by_path), ("odbcinst.ini driver name", &sp.by_name), ("DSN", &sp.by_dsn)] {
        let env = rawh::env();
        let dbc = rawh::try_connect(env, cs).unwrap_or_else(|e| panic!("R1 {:?}: connect by {how} ({cs}) failed: {e}", sp.kind));
        let rows = rawh::query(dbc, "SELECT 1");
        assert_eq!(rows, vec![vec![Some("1".to_string())]], "R1 {:?} by {how}", sp.kind);
        rawh::disconnect(env, dbc);
    }
}

// ---------------------------------------------------------------- R2

fn create_bulk_table(dbc: H, table: &str) {
    rawh::exec_on(dbc, &format!("CREATE TABLE {table} (id INTEGER NOT NULL PRIMARY KEY, txt VARCHAR(64), val DOUBLE PRECISION)"));
}

fn r2_bulk(sp: &Spec) {
    let (env, dbc) = rawh::connect(&sp.by_path);
    let table = common::unique_table("drv_bulk");
    create_bulk_table(dbc, &table);

    // Insert: prepare once, bind once, all in one transaction. SQLite: one SQLExecute
    // per row. Server drivers: parameter arrays (SQLParamOptions, BATCH rows per
    // SQLExecute, column-wise) so the test does not spend 100,000 network round trips.
    let t0 = Instant::now();
    rawh::set_autocommit(dbc, false);
    let s = rawh::stmt(dbc);
    let sql = format!("INSERT INTO {table} (id, txt, val) VALUES (?, ?, ?)");
    // SAFETY: live statement; the text outlives the call.
    rawh::ok_stmt(unsafe { SQLPrepare(s, sql.as_ptr(), sql.len() as i32) }, s, "SQLPrepare");
    let batch: usize = if sp.kind == Kind::Sqlite { 1 } else { 1000 };
    let mut ids = vec![0i32; batch];
    let mut id_ind = vec![4 as SqlLen; batch];
    let mut txts = vec![0u8; 64 * batch];
    let mut txt_ind = vec![0 as SqlLen; batch];
    let mut vals = vec![0f64; batch];
    let mut val_ind = vec![8 as SqlLen; batch];
    let mut processed: SqlULen = 0;
    if batch > 1 {
        // SAFETY: live prepared statement; `processed` outlives every execute below.
        rawh::ok_stmt(unsafe { SQLParamOptions(s, batch, &mut processed) }, s, "SQLParamOptions");
    }
    bind_param(s, 1, CDataType::SQL_C_SLONG, SqlDataType::SQL_INTEGER, 10, ids.as_mut_ptr().cast(), 4, id_ind.as_mut_ptr());
    bind_param(s, 2, CDataType::SQL_C_CHAR, SqlDataType::SQL_VARCHAR, 64, txts.as_mut_ptr().cast(), 64, txt_ind.as_mut_ptr());
    bind_param(s, 3, CDataType::SQL_C_DOUBLE, SqlDataType::SQL_DOUBLE, 15, vals.as_mut_ptr().cast(), 8, val_ind.as_mut_ptr());
    let mut next = 1;
    while next <= ROWS {
        for k in 0..batch {
            let i = next + k as i32;
            ids[k] = i;
            let t = txt_of(i);
            txts[64 * k..64 * k + t.len()].copy_from_slice(t.as_bytes());
            txt_ind[k] = t.len() as SqlLen;
            vals[k] = val_of(i);
        }
        // SAFETY: live prepared statement; the bound arrays above are alive and unmoved.
        let rc = unsafe { SQLExecute(s) };
        if !rc.is_success() {
            rawh::ok_stmt(rc, s, &format!("SQLExecute rows {next}..{}", next + batch as i32 - 1));
        }
        if batch > 1 {
            assert_eq!(processed, batch, "R2 {:?}: parameter sets processed", sp.kind);
        }
        next += batch as i32;
    }
    rawh::free_stmt(s);
    rawh::end_tran(dbc, true);
    rawh::set_autocommit(dbc, true);
    let t_insert = t0.elapsed();

    // Read back with SQLBindCol.
    let t1 = Instant::now();
    let s = rawh::stmt(dbc);
    let q = format!("SELECT id, txt, val FROM {table} ORDER BY id");
    rawh::ok_stmt(rawh::exec_rc(s, &q), s, &q);
    let mut rid: i32 = 0;
    let mut rtxt = [0u8; 65];
    let mut rval: f64 = 0.0;
    let mut inds: [SqlLen; 3] = [0; 3];
    // SAFETY: live statement; the buffers outlive the fetch loop and the unbind below.
    unsafe {
        rawh::ok_stmt(SQLBindCol(s, 1, CDataType::SQL_C_SLONG, (&mut rid as *mut i32).cast(), 4, &mut inds[0]), s, "SQLBindCol 1");
        rawh::ok_stmt(
            SQLBindCol(s, 2, CDataType::SQL_C_CHAR, rtxt.as_mut_ptr().cast(), rtxt.len() as isize, &mut inds[1]),
            s,
            "SQLBindCol 2",
        );
        rawh::ok_stmt(SQLBindCol(s, 3, CDataType::SQL_C_DOUBLE, (&mut rval as *mut f64).cast(), 8, &mut inds[2]), s, "SQLBindCol 3");
    }
    let mut n = 0;
    loop {
        // SAFETY: live statement with bound columns.
        let rc = unsafe { SQLFetch(s) };
        if rc == SqlReturn::SQL_NO_DATA {
            break;
        }
        rawh::ok_stmt(rc, s, "SQLFetch (bound)");
        n += 1;
        let want = txt_of(n);
        assert_eq!(rid, n, "R2 {:?} bound id", sp.kind);
        assert_eq!(inds[1], want.len() as SqlLen, "R2 {:?} bound txt length of row {n}", sp.kind);
        assert_eq!(&rtxt[..want.len()], want.as_bytes(), "R2 {:?} bound txt of row {n}", sp.kind);
        assert_eq!(rval, val_of(n), "R2 {:?} bound val of row {n}", sp.kind);
    }
    assert_eq!(n, ROWS, "R2 {:?}: rows read back with SQLBindCol", sp.kind);
    // SAFETY: live statement.
    unsafe { SQLFreeStmt(s, FreeStmtOption::SQL_UNBIND) };
    rawh::close(s);
    let t_bound = t1.elapsed();

    // Read back with SQLGetData.
    let t2 = Instant::now();
    rawh::ok_stmt(rawh::exec_rc(s, &q), s, &q);
    let mut n = 0;
    loop {
        // SAFETY: live statement, no bound columns.
        let rc = unsafe { SQLFetch(s) };
        if rc == SqlReturn::SQL_NO_DATA {
            break;
        }
        rawh::ok_stmt(rc, s, "SQLFetch (getdata)");
        n += 1;
        let (mut gid, mut gval) = (0i32, 0f64);
        let (mut i1, mut i3) = (0 as SqlLen, 0 as SqlLen);
        // SAFETY: live statement on a row; buffers of the sizes passed.
        unsafe {
            rawh::ok_stmt(SQLGetData(s, 1, CDataType::SQL_C_SLONG, (&mut gid as *mut i32).cast(), 4, &mut i1), s, "SQLGetData 1");
        }
        let gtxt = rawh::get_text(s, 2).expect("txt is not NULL");
        // SAFETY: as above.
        unsafe {
            rawh::ok_stmt(SQLGetData(s, 3, CDataType::SQL_C_DOUBLE, (&mut gval as *mut f64).cast(), 8, &mut i3), s, "SQLGetData 3");
        }
        assert_eq!(gid, n, "R2 {:?} SQLGetData id", sp.kind);
        assert_eq!(gtxt, txt_of(n).into_bytes(), "R2 {:?} SQLGetData txt of row {n}", sp.kind);
        assert_eq!(gval, val_of(n), "R2 {:?} SQLGetData val of row {n}", sp.kind);
    }
    assert_eq!(n, ROWS, "R2 {:?}: rows read back with SQLGetData", sp.kind);
    rawh::close(s);
    rawh::free_stmt(s);
    let t_getdata = t2.elapsed();
    eprintln!("R2 {:?}: insert {t_insert:?}, SQLBindCol read {t_bound:?}, SQLGetData read {t_getdata:?}", sp.kind);

    rawh::drop_table(dbc, &table);
    rawh::disconnect(env, dbc);
}

// ---------------------------------------------------------------- R3

fn r3_data_at_exec(sp: &Spec) {
    let (env, dbc) = rawh::connect(&sp.by_path);
    let table = common::unique_table("drv_dae");
    rawh::exec_on(dbc, &format!("CREATE TABLE {table} (id INTEGER NOT NULL PRIMARY KEY, body TEXT)"));
    let body: String = (0..6000).map(|i| (b'a' + (i % 26) as u8) as char).collect();
    let s = rawh::stmt(dbc);
    let sql = format!("INSERT INTO {table} (id, body) VALUES (?, ?)");
    // SAFETY: live statement; the text outlives the call.
    rawh::ok_stmt(unsafe { SQLPrepare(s, sql.as_ptr(), sql.len() as i32) }, s, "SQLPrepare");
    let mut id: i32 = 7;
    let mut id_ind: SqlLen = 4;
    // The value pointer of a data-at-execution parameter is the token SQLParamData returns.
    let token = 0xDA7A_usize as SqlPointer;
    let mut body_ind: SqlLen = SQL_LEN_DATA_AT_EXEC_OFFSET - body.len() as SqlLen; // SQL_LEN_DATA_AT_EXEC(len)
    bind_param(s, 1, CDataType::SQL_C_SLONG, SqlDataType::SQL_INTEGER, 10, (&mut id as *mut i32).cast(), 4, &mut id_ind);
    bind_param(s, 2, CDataType::SQL_C_CHAR, SqlDataType::SQL_LONGVARCHAR, body.len(), token, 0, &mut body_ind);
    // SAFETY: live prepared statement.
    let rc = unsafe { SQLExecute(s) };
    assert_eq!(
        rc,
        SqlReturn::SQL_NEED_DATA,
        "R3 {:?}: SQLExecute with a DAE parameter returns SQL_NEED_DATA: {}",
        sp.kind,
        rawh::diag_text(HandleType::SQL_HANDLE_STMT, s)
    );
    let mut got: SqlPointer = null_mut();
    // SAFETY: live statement in NEED_DATA; valid out pointer.
    let rc = unsafe { SQLParamData(s, &mut got) };
    assert_eq!(rc, SqlReturn::SQL_NEED_DATA, "R3 {:?}: first SQLParamData: {}", sp.kind, rawh::diag_text(HandleType::SQL_HANDLE_STMT, s));
    assert_eq!(got, token, "R3 {:?}: SQLParamData hands back the parameter's token", sp.kind);
    for chunk in body.as_bytes().chunks(2500) {
        // SAFETY: live statement in S10; the chunk outlives the call.
        let rc = unsafe { SQLPutData(s, chunk.as_ptr() as SqlPointer, chunk.len() as SqlLen) };
        rawh::ok_stmt(rc, s, "SQLPutData");
    }
    // SAFETY: as above.
    let rc = unsafe { SQLParamData(s, &mut got) };
    rawh::ok_stmt(rc, s, "final SQLParamData");
    rawh::free_stmt(s);

    let s = rawh::stmt(dbc);
    let q = format!("SELECT id, body FROM {table}");
    rawh::ok_stmt(rawh::exec_rc(s, &q), s, &q);
    // SAFETY: live statement with a result set.
    rawh::ok_stmt(unsafe { SQLFetch(s) }, s, "SQLFetch");
    let mut gid = 0i32;
    let mut ind: SqlLen = 0;
    // SAFETY: live statement on a row.
    rawh::ok_stmt(unsafe { SQLGetData(s, 1, CDataType::SQL_C_SLONG, (&mut gid as *mut i32).cast(), 4, &mut ind) }, s, "SQLGetData");
    assert_eq!(gid, 7);
    let back = rawh::get_text(s, 2).expect("not NULL");
    assert_eq!(back.len(), body.len(), "R3 {:?}: length of the data sent in pieces", sp.kind);
    assert!(back == body.as_bytes(), "R3 {:?}: data sent with SQLPutData round-trips exactly", sp.kind);
    // SAFETY: live statement.
    assert_eq!(unsafe { SQLFetch(s) }, SqlReturn::SQL_NO_DATA, "exactly one row");
    rawh::free_stmt(s);
    rawh::drop_table(dbc, &table);
    rawh::disconnect(env, dbc);
}

// ---------------------------------------------------------------- R4

fn r4_commit_rollback(sp: &Spec) {
    let (env_a, a) = rawh::connect(&sp.by_path);
    let (env_b, b) = rawh::connect(&sp.by_name);
    let table = common::unique_table("drv_tx");
    rawh::exec_on(a, &format!("CREATE TABLE {table} (id INTEGER NOT NULL PRIMARY KEY)"));
    let count = |dbc: H| rawh::query_i64(dbc, &format!("SELECT COUNT(*) FROM {table}"));

    rawh::set_autocommit(a, false);
    rawh::exec_on(a, &format!("INSERT INTO {table} (id) VALUES (1)"));
    assert_eq!(count(a), 1, "R4 {:?}: the writer sees its own uncommitted row", sp.kind);
    assert_eq!(count(b), 0, "R4 {:?}: a second connection does not see an uncommitted row", sp.kind);
    rawh::end_tran(a, true);
    assert_eq!(count(b), 1, "R4 {:?}: SQLEndTran(SQL_COMMIT) makes the row visible to a second connection", sp.kind);

    rawh::exec_on(a, &format!("INSERT INTO {table} (id) VALUES (2)"));
    assert_eq!(count(a), 2);
    rawh::end_tran(a, false);
    assert_eq!(count(a), 1, "R4 {:?}: SQLEndTran(SQL_ROLLBACK) discards the row for the writer", sp.kind);
    assert_eq!(count(b), 1, "R4 {:?}: the rolled-back row never reaches a second connection", sp.kind);
    rawh::end_tran(a, true);
    rawh::set_autocommit(a, true);

    rawh::drop_table(a, &table);
    rawh::disconnect(env_b, b);
    rawh::disconnect(env_a, a);
}

// ---------------------------------------------------------------- R5

fn r5_catalog(sp: &Spec) {
    let (env, dbc) = rawh::connect(&sp.by_path);
    let table = common::unique_table("drv_cat");
    create_bulk_table(dbc, &table);
    let s = rawh::stmt(dbc);
    let t = table.as_bytes();
    let nul = std::ptr::null::<u8>();

    // SAFETY: live statement; null catalog/schema/type mean "any"; the name outlives the call.
    let rc = unsafe { SQLTables(s, nul, 0, nul, 0, t.as_ptr(), t.len() as i16, nul, 0) };
    rawh::ok_stmt(rc, s, "SQLTables");
    let rows = rawh::fetch_all_text(s);
    let hits: Vec<_> = rows.iter().filter(|r| r[2].as_deref() == Some(table.as_str())).collect();
    assert_eq!(hits.len(), 1, "R5 {:?}: SQLTables finds the table once: {rows:?}", sp.kind);
    assert_eq!(hits[0][3].as_deref(), Some("TABLE"), "R5 {:?}: TABLE_TYPE", sp.kind);

    // SAFETY: as above.
    let rc = unsafe { SQLColumns(s, nul, 0, nul, 0, t.as_ptr(), t.len() as i16, nul, 0) };
    rawh::ok_stmt(rc, s, "SQLColumns");
    let rows = rawh::fetch_all_text(s);
    let cols: Vec<(String, String)> = rows
        .iter()
        .filter(|r| r[2].as_deref() == Some(table.as_str()))
        .map(|r| (r[3].clone().unwrap_or_default().to_lowercase(), r[16].clone().unwrap_or_default()))
        .collect();
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["id", "txt", "val"], "R5 {:?}: SQLColumns lists the columns in order: {rows:?}", sp.kind);
    let positions: Vec<&str> = cols.iter().map(|c| c.1.as_str()).collect();
    assert_eq!(positions, ["1", "2", "3"], "R5 {:?}: ORDINAL_POSITION", sp.kind);

    // SAFETY: as above.
    let rc = unsafe { SQLPrimaryKeys(s, nul, 0, nul, 0, t.as_ptr(), t.len() as i16) };
    rawh::ok_stmt(rc, s, "SQLPrimaryKeys");
    let rows = rawh::fetch_all_text(s);
    assert_eq!(rows.len(), 1, "R5 {:?}: one key column: {rows:?}", sp.kind);
    assert_eq!(rows[0][2].as_deref(), Some(table.as_str()), "R5 {:?}: key's TABLE_NAME", sp.kind);
    assert_eq!(rows[0][3].as_deref().map(str::to_lowercase).as_deref(), Some("id"), "R5 {:?}: key's COLUMN_NAME", sp.kind);
    assert_eq!(rows[0][4].as_deref(), Some("1"), "R5 {:?}: KEY_SEQ", sp.kind);
    rawh::free_stmt(s);
    rawh::drop_table(dbc, &table);
    rawh::disconnect(env, dbc);
}

// ---------------------------------------------------------------- R6

/// (SQL, expected SQLSTATE, text the driver's message contains) per driver.
fn r6_cases(kind: Kind) -> [(&'static str, &'static str, &'static str); 2] {
    match kind {
        // libsqlite3odbc reports every sqlite3_prepare failure as HY000 with SQLite's text.
        Kind::Sqlite => {
            [("SELECT * FROM no_such_table_r6", "HY000", "no such table: no_such_table_r6"), ("SELEC 1", "HY000", "syntax error")]
        }
        Kind::Postgres => [
            ("SELECT * FROM no_such_table_r6", "42P01", "relation \"no_such_table_r6\" does not exist"),
            ("SELEC 1", "42601", "syntax error at or near \"SELEC\""),
        ],
        Kind::Mariadb => [
            ("SELECT * FROM no_such_table_r6", "42S02", "Table 'test.no_such_table_r6' doesn't exist"),
            ("SELEC 1", "42000", "You have an error in your SQL syntax"),
        ],
    }
}

fn r6_driver_error(sp: &Spec) {
    let (env, dbc) = rawh::connect(&sp.by_path);
    for (sql, want_state, want_text) in r6_cases(sp.kind) {
        let s = rawh::stmt(dbc);
        let rc = rawh::exec_rc(s, sql);
        assert_eq!(rc, SqlReturn::SQL_ERROR, "R6 {:?}: {sql} fails", sp.kind);
        let recs = rawh::diag_recs(HandleType::SQL_HANDLE_STMT, s);
        let plain = rawh::plain_driver_error(&sp.driver, &sp.by_path, sql);
        assert!(!recs.is_empty(), "R6 {:?}: {sql}: no diagnostic through the DM", sp.kind);
        let first = &recs[0];
        // The DM passes the driver's record through unchanged: same state, native code and
        // text as the same statement gives when the driver is called without the DM.
        assert_eq!(first, &plain, "R6 {:?}: {sql}: DM record differs from the driver's own record", sp.kind);
        assert_eq!(first.state, want_state, "R6 {:?}: {sql}: SQLSTATE (message: {})", sp.kind, first.message);
        assert!(
            first.message.contains(want_text),
            "R6 {:?}: {sql}: message {:?} lacks the driver's text {want_text:?}",
            sp.kind,
            first.message
        );
        rawh::free_stmt(s);
    }
    rawh::disconnect(env, dbc);
}

macro_rules! driver_tests {
    ($module:ident, $kind:expr) => {
        mod $module {
            use super::*;

            fn sp(test: &str) -> Option<Spec> {
                spec($kind, test)
            }

            #[test]
            fn r1_connect_by_absolute_driver_path_odbcinst_name_and_dsn() {
                let Some(s) = sp("r1_connect") else { return };
                r1_connect_three_ways(&s);
            }

            #[test]
            fn r2_100k_rows_bound_parameters_read_back_with_bindcol_and_getdata() {
                let Some(s) = sp("r2_bulk") else { return };
                r2_bulk(&s);
            }

            #[test]
            fn r3_data_at_execution_parameters_paramdata_putdata() {
                let Some(s) = sp("r3_dae") else { return };
                r3_data_at_exec(&s);
            }

            #[test]
            fn r4_commit_and_rollback_seen_from_a_second_connection() {
                let Some(s) = sp("r4_tx") else { return };
                r4_commit_rollback(&s);
            }

            #[test]
            fn r5_catalog_tables_columns_primary_keys_find_the_table() {
                let Some(s) = sp("r5_catalog") else { return };
                r5_catalog(&s);
            }

            #[test]
            fn r6_driver_error_keeps_the_drivers_sqlstate_and_text() {
                let Some(s) = sp("r6_error") else { return };
                r6_driver_error(&s);
            }
        }
    };
}

driver_tests!(sqlite, Kind::Sqlite);
driver_tests!(postgres, Kind::Postgres);
driver_tests!(mariadb, Kind::Mariadb);
