//! SQLite glue: opening a connection (with the interruptible `sleep(ms)` SQL function),
//! executing SQL into a materialised result set, column type mapping, catalog queries.

use crate::diag::{from_sqlite, DiagRec};
use crate::handles::Conn;
use crate::util::lock;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn owned(v: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef as R;
    match v {
        R::Null => Value::Null,
        R::Integer(i) => Value::Integer(i),
        R::Real(f) => Value::Real(f),
        R::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        R::Blob(b) => Value::Blob(b.to_vec()),
    }
}

/// SQL type codes used here (sql.h / sqlext.h).
pub mod sqlt {
    pub const INTEGER: i16 = 4;
    pub const SMALLINT: i16 = 5;
    pub const DOUBLE: i16 = 8;
    pub const VARBINARY: i16 = -3;
    pub const BIGINT: i16 = -5;
    pub const WVARCHAR: i16 = -9;
}

/// What `sleep()` looks at: the executing statement's cancel flag and its deadline.
#[derive(Default)]
pub struct ExecCtx {
    pub cancel: Option<Arc<AtomicBool>>,
    pub deadline: Option<Instant>,
}

#[derive(Clone, Debug)]
pub struct ColMeta {
    pub name: String,
    pub type_name: String,
    pub sql_type: i16,
    pub column_size: usize,
    pub digits: i16,
    pub nullable: i16,
    pub table: String,
    /// Declared type told us the type (false: inferred from values).
    pub declared: bool,
}

impl ColMeta {
    pub fn fixed(name: &str, sql_type: i16, size: usize, nullable: bool) -> ColMeta {
        let type_name = match sql_type {
            sqlt::SMALLINT => "SMALLINT",
            sqlt::INTEGER => "INTEGER",
            sqlt::BIGINT => "BIGINT",
            sqlt::DOUBLE => "DOUBLE",
            sqlt::VARBINARY => "BLOB",
            _ => "TEXT",
        };
        ColMeta {
            name: name.into(),
            type_name: type_name.into(),
            sql_type,
            column_size: size,
            digits: 0,
            nullable: nullable as i16,
            table: String::new(),
            declared: true,
        }
    }

    /// Octet length a C buffer needs for the whole value (SQL_DESC_OCTET_LENGTH).
    pub fn octet_length(&self) -> usize {
        match self.sql_type {
            sqlt::SMALLINT => 2,
            sqlt::INTEGER => 4,
            sqlt::BIGINT | sqlt::DOUBLE => 8,
            sqlt::WVARCHAR => self.column_size * 2,
            _ => self.column_size,
        }
    }

    /// SQL_DESC_DISPLAY_SIZE.
    pub fn display_size(&self) -> usize {
        match self.sql_type {
            sqlt::SMALLINT => 6,
            sqlt::INTEGER => 11,
            sqlt::BIGINT => 20,
            sqlt::DOUBLE => 24,
            sqlt::VARBINARY => self.column_size * 2,
            _ => self.column_size,
        }
    }
}

fn paren_size(decl: &str) -> Option<usize> {
    let a = decl.find('(')?;
    let b = decl[a..].find([')', ','])? + a;
    decl[a + 1..b].trim().parse().ok()
}

/// Maps a declared SQLite column type to an ODBC SQL type (SQLite affinity rules).
pub fn meta_from_decl(name: &str, decl: &str) -> ColMeta {
    let u = decl.to_ascii_uppercase();
    let (t, size, digits) = if u.contains("INT") || u == "ROWVERSION" {
        (sqlt::BIGINT, 19, 0)
    } else if u.contains("CHAR") || u.contains("CLOB") || u.contains("TEXT") {
        (sqlt::WVARCHAR, paren_size(&u).unwrap_or(255), 0)
    } else if u.contains("BLOB") || u.contains("BINARY") {
        (sqlt::VARBINARY, paren_size(&u).unwrap_or(255), 0)
    } else if u.contains("REAL") || u.contains("FLOA") || u.contains("DOUB") || u.contains("NUMERIC") || u.contains("DECIMAL") {
        (sqlt::DOUBLE, 15, 0)
    } else if u.contains("DATE") || u.contains("TIME") {
        (sqlt::WVARCHAR, 32, 0)
    } else {
        (sqlt::WVARCHAR, 255, 0)
    };
    ColMeta {
        name: name.into(),
        type_name: if decl.is_empty() { "TEXT".into() } else { decl.to_string() },
        sql_type: t,
        column_size: size,
        digits,
        nullable: 2,
        table: String::new(),
        declared: !decl.is_empty(),
    }
}

/// Refines the type of undeclared (expression) columns from the fetched values.
fn infer_types(cols: &mut [ColMeta], rows: &[Vec<Value>]) {
    for (i, c) in cols.iter_mut().enumerate() {
        if c.declared {
            continue;
        }
        let mut max_text = 0usize;
        let mut kind: Option<i16> = None;
        for r in rows {
            match &r[i] {
                Value::Null => {}
                Value::Integer(_) => kind = Some(kind.unwrap_or(sqlt::BIGINT)),
                Value::Real(_) => {
                    if kind.is_none() || kind == Some(sqlt::BIGINT) {
                        kind = Some(sqlt::DOUBLE)
                    }
                }
                Value::Text(s) => {
                    kind = Some(sqlt::WVARCHAR);
                    max_text = max_text.max(s.encode_utf16().count());
                }
                Value::Blob(b) => {
                    kind = Some(if kind == Some(sqlt::WVARCHAR) { sqlt::WVARCHAR } else { sqlt::VARBINARY });
                    max_text = max_text.max(b.len());
                }
            }
            if kind == Some(sqlt::WVARCHAR) && max_text > 255 {
                // keep scanning for size only
            }
        }
        match kind.unwrap_or(sqlt::WVARCHAR) {
            sqlt::BIGINT => {
                c.sql_type = sqlt::BIGINT;
                c.column_size = 19;
                c.type_name = "INTEGER".into();
            }
            sqlt::DOUBLE => {
                c.sql_type = sqlt::DOUBLE;
                c.column_size = 15;
                c.type_name = "REAL".into();
            }
            sqlt::VARBINARY => {
                c.sql_type = sqlt::VARBINARY;
                c.column_size = max_text.max(255);
                c.type_name = "BLOB".into();
            }
            _ => {
                c.sql_type = sqlt::WVARCHAR;
                c.column_size = max_text.max(255);
                c.type_name = "TEXT".into();
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct Prepared {
    pub sql: String,
    pub param_count: usize,
    pub cols: Vec<ColMeta>,
}

#[derive(Clone, Debug, Default)]
pub struct ResultSet {
    pub cols: Vec<ColMeta>,
    pub rows: Vec<Vec<Value>>,
}

/// Opens the SQLite database and registers `sleep(ms)`.
pub fn open(conn: &Conn, database: &str, busy_ms: u64) -> Result<(), DiagRec> {
    let db = rusqlite::Connection::open(database).map_err(|e| {
        let mut d = from_sqlite(&e, false);
        d.state = "08001".into();
        d
    })?;
    let ctx = conn.exec_ctx.clone();
    db.create_scalar_function("sleep", 1, FunctionFlags::SQLITE_UTF8, move |c| {
        let ms: i64 = c.get(0)?;
        let (cancel, deadline) = {
            let g = lock(&ctx);
            (g.cancel.clone(), g.deadline)
        };
        let end = Instant::now() + Duration::from_millis(ms.max(0) as u64);
        loop {
            if cancel.as_ref().is_some_and(|f| f.load(Ordering::SeqCst)) {
                return Err(rusqlite::Error::UserFunctionError("sleep() cancelled".into()));
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return Err(rusqlite::Error::UserFunctionError("sleep() query timeout expired".into()));
            }
            if now >= end {
                break;
            }
            std::thread::sleep((end - now).min(Duration::from_millis(2)));
        }
        Ok(ms)
    })
    .map_err(|e| from_sqlite(&e, false))?;
    db.busy_timeout(Duration::from_millis(busy_ms)).map_err(|e| from_sqlite(&e, false))?;
    *lock(&conn.interrupt) = Some(db.get_interrupt_handle());
    *lock(&conn.db) = Some(db);
    Ok(())
}

pub fn close(conn: &Conn) {
    *lock(&conn.interrupt) = None;
    let db = lock(&conn.db).take();
    drop(db);
}

fn is_txn_control(sql: &str) -> bool {
    let u = sql.trim_start().to_ascii_uppercase();
    ["BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"].iter().any(|k| u.starts_with(k))
}

/// Prepares `sql` to learn its parameter count and result columns.
pub fn prepare(conn: &Conn, sql: &str) -> Result<Prepared, DiagRec> {
    let g = lock(&conn.db);
    let db = g.as_ref().ok_or_else(|| DiagRec::new("08003", "Connection not open"))?;
    let st = db.prepare(sql).map_err(|e| from_sqlite(&e, false))?;
    let cols = st.columns().map(|c| meta_from_decl(c.name(), c.decl_type().unwrap_or(""))).collect();
    Ok(Prepared { sql: sql.to_string(), param_count: st.parameter_count(), cols })
}

/// Executes `sql` with `params`, materialising any result set. Returns (result set, row count).
/// `cancel` is honoured by `sleep()` and by sqlite3_interrupt (issued by SQLCancel).
pub fn execute(
    conn: &Conn,
    stmt_id: usize,
    cancel: &Arc<AtomicBool>,
    sql: &str,
    params: &[Value],
    timeout_s: usize,
    max_rows: usize,
) -> Result<(Option<ResultSet>, isize), DiagRec> {
    let autocommit = lock(&conn.attrs).autocommit;
    let g = lock(&conn.db);
    let db = g.as_ref().ok_or_else(|| DiagRec::new("08003", "Connection not open"))?;
    {
        let mut c = lock(&conn.exec_ctx);
        c.cancel = Some(cancel.clone());
        c.deadline = (timeout_s > 0).then(|| Instant::now() + Duration::from_secs(timeout_s as u64));
    }
    conn.executing_stmt.store(stmt_id, Ordering::SeqCst);
    let run = || -> Result<(Option<ResultSet>, isize), DiagRec> {
        if cancel.load(Ordering::SeqCst) {
            return Err(DiagRec::new("HY008", "Operation canceled"));
        }
        let m = |e: rusqlite::Error| from_sqlite(&e, cancel.load(Ordering::SeqCst));
        if !autocommit && db.is_autocommit() && !is_txn_control(sql) {
            db.execute_batch("BEGIN").map_err(m)?;
        }
        let mut st = db.prepare(sql).map_err(m)?;
        if st.parameter_count() != params.len() {
            return Err(DiagRec::new(
                "07002",
                format!("COUNT field incorrect: statement has {} parameters, {} supplied", st.parameter_count(), params.len()),
            ));
        }
        for (i, p) in params.iter().enumerate() {
            st.raw_bind_parameter(i + 1, p).map_err(m)?;
        }
        let mut cols: Vec<ColMeta> = st.columns().map(|c| meta_from_decl(c.name(), c.decl_type().unwrap_or(""))).collect();
        if st.column_count() == 0 {
            let n = st.raw_execute().map_err(m)?;
            return Ok((None, n as isize));
        }
        let ncol = cols.len();
        let mut rows = Vec::new();
        let mut q = st.raw_query();
        while let Some(r) = q.next().map_err(m)? {
            rows.push((0..ncol).map(|i| owned(r.get_ref_unwrap(i))).collect::<Vec<_>>());
            if max_rows > 0 && rows.len() >= max_rows {
                break;
            }
        }
        infer_types(&mut cols, &rows);
        Ok((Some(ResultSet { cols, rows }), -1))
    };
    let res = run();
    conn.executing_stmt.store(0, Ordering::SeqCst);
    {
        let mut c = lock(&conn.exec_ctx);
        c.cancel = None;
        c.deadline = None;
    }
    drop(g);
    match res {
        Err(_) if cancel.load(Ordering::SeqCst) => Err(DiagRec::new("HY008", "Operation canceled")),
        r => r,
    }
}

/// Runs a read-only helper query (catalog functions) and returns all rows.
pub fn query_rows(conn: &Conn, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, DiagRec> {
    let g = lock(&conn.db);
    let db = g.as_ref().ok_or_else(|| DiagRec::new("08003", "Connection not open"))?;
    let mut st = db.prepare(sql).map_err(|e| from_sqlite(&e, false))?;
    for (i, p) in params.iter().enumerate() {
        st.raw_bind_parameter(i + 1, p).map_err(|e| from_sqlite(&e, false))?;
    }
    let n = st.column_count();
    let mut q = st.raw_query();
    let mut out = Vec::new();
    while let Some(r) = q.next().map_err(|e| from_sqlite(&e, false))? {
        out.push((0..n).map(|i| owned(r.get_ref_unwrap(i))).collect());
    }
    Ok(out)
}

/// ODBC search pattern (`%`, `_`, `\` escape) match, case-insensitive like SQLite names.
pub fn pattern_match(pat: &str, s: &str) -> bool {
    fn rec(p: &[char], s: &[char]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some('%') => (0..=s.len()).any(|i| rec(&p[1..], &s[i..])),
            Some('_') => !s.is_empty() && rec(&p[1..], &s[1..]),
            Some('\\') if p.len() > 1 => !s.is_empty() && s[0].eq_ignore_ascii_case(&p[1]) && rec(&p[2..], &s[1..]),
            Some(c) => !s.is_empty() && s[0].eq_ignore_ascii_case(c) && rec(&p[1..], &s[1..]),
        }
    }
    let p: Vec<char> = pat.chars().collect();
    let s: Vec<char> = s.chars().collect();
    rec(&p, &s)
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}
fn int(i: i64) -> Value {
    Value::Integer(i)
}

/// User tables and views: (name, "TABLE"/"VIEW").
fn tables(conn: &Conn) -> Result<Vec<(String, String)>, DiagRec> {
    let rows = query_rows(
        conn,
        "SELECT name, upper(type) FROM sqlite_master WHERE type IN ('table','view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY type, name",
        &[],
    )?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let n = if let Value::Text(t) = &r[0] { t.clone() } else { String::new() };
            let k = if let Value::Text(t) = &r[1] { t.clone() } else { String::new() };
            (n, k)
        })
        .collect())
}

/// One column of `PRAGMA table_info`: (cid, name, decl, notnull, default, pk).
struct PCol {
    cid: i64,
    name: String,
    decl: String,
    notnull: bool,
    dflt: Value,
    pk: i64,
}

fn table_info(conn: &Conn, table: &str) -> Result<Vec<PCol>, DiagRec> {
    let rows = query_rows(conn, "SELECT cid, name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1)", &[text(table)])?;
    Ok(rows
        .into_iter()
        .map(|r| PCol {
            cid: if let Value::Integer(i) = r[0] { i } else { 0 },
            name: if let Value::Text(t) = &r[1] { t.clone() } else { String::new() },
            decl: if let Value::Text(t) = &r[2] { t.clone() } else { String::new() },
            notnull: matches!(r[3], Value::Integer(1)),
            dflt: r[4].clone(),
            pk: if let Value::Integer(i) = r[5] { i } else { 0 },
        })
        .collect())
}

fn name_col(n: &str) -> ColMeta {
    ColMeta::fixed(n, sqlt::WVARCHAR, 128, true)
}
fn small_col(n: &str, nullable: bool) -> ColMeta {
    ColMeta::fixed(n, sqlt::SMALLINT, 5, nullable)
}
fn int_col(n: &str, nullable: bool) -> ColMeta {
    ColMeta::fixed(n, sqlt::INTEGER, 10, nullable)
}

/// SQLTablesW.
pub fn cat_tables(
    conn: &Conn,
    cat: Option<&str>,
    schema: Option<&str>,
    table: Option<&str>,
    types: Option<&str>,
) -> Result<ResultSet, DiagRec> {
    let cols = vec![
        name_col("TABLE_CAT"),
        name_col("TABLE_SCHEM"),
        name_col("TABLE_NAME"),
        name_col("TABLE_TYPE"),
        ColMeta::fixed("REMARKS", sqlt::WVARCHAR, 254, true),
    ];
    let mut rows = Vec::new();
    let empty = |o: Option<&str>| o.is_none_or(|s| s.is_empty());
    if types == Some("%") && empty(cat) && empty(schema) && empty(table) {
        for t in ["TABLE", "VIEW"] {
            rows.push(vec![Value::Null, Value::Null, Value::Null, text(t), Value::Null]);
        }
        return Ok(ResultSet { cols, rows });
    }
    if cat == Some("%") && empty(schema) && empty(table) {
        rows.push(vec![text("main"), Value::Null, Value::Null, Value::Null, Value::Null]);
        return Ok(ResultSet { cols, rows });
    }
    if schema == Some("%") && empty(cat) && empty(table) {
        return Ok(ResultSet { cols, rows });
    }
    let wanted: Option<Vec<String>> = types
        .filter(|t| !t.is_empty())
        .map(|t| t.split(',').map(|x| x.trim().trim_matches('\'').to_ascii_uppercase()).filter(|x| !x.is_empty()).collect());
    for (name, kind) in tables(conn)? {
        if let Some(p) = table {
            if !pattern_match(p, &name) {
                continue;
            }
        }
        if let Some(w) = &wanted {
            if !w.iter().any(|x| x == &kind) {
                continue;
            }
        }
        rows.push(vec![Value::Null, Value::Null, text(&name), text(&kind), Value::Null]);
    }
    Ok(ResultSet { cols, rows })
}

/// SQLColumnsW.
pub fn cat_columns(conn: &Conn, table: Option<&str>, column: Option<&str>) -> Result<ResultSet, DiagRec> {
    let cols = vec![
        name_col("TABLE_CAT"),
        name_col("TABLE_SCHEM"),
        ColMeta::fixed("TABLE_NAME", sqlt::WVARCHAR, 128, false),
        ColMeta::fixed("COLUMN_NAME", sqlt::WVARCHAR, 128, false),
        small_col("DATA_TYPE", false),
        ColMeta::fixed("TYPE_NAME", sqlt::WVARCHAR, 128, false),
        int_col("COLUMN_SIZE", true),
        int_col("BUFFER_LENGTH", true),
        small_col("DECIMAL_DIGITS", true),
        small_col("NUM_PREC_RADIX", true),
        small_col("NULLABLE", false),
        ColMeta::fixed("REMARKS", sqlt::WVARCHAR, 254, true),
        ColMeta::fixed("COLUMN_DEF", sqlt::WVARCHAR, 254, true),
        small_col("SQL_DATA_TYPE", false),
        small_col("SQL_DATETIME_SUB", true),
        int_col("CHAR_OCTET_LENGTH", true),
        int_col("ORDINAL_POSITION", false),
        ColMeta::fixed("IS_NULLABLE", sqlt::WVARCHAR, 3, true),
    ];
    let mut rows = Vec::new();
    for (tname, _) in tables(conn)? {
        if let Some(p) = table {
            if !pattern_match(p, &tname) {
                continue;
            }
        }
        for c in table_info(conn, &tname)? {
            if let Some(p) = column {
                if !pattern_match(p, &c.name) {
                    continue;
                }
            }
            let m = meta_from_decl(&c.name, &c.decl);
            let nullable = !(c.notnull || c.pk > 0 && m.sql_type == sqlt::BIGINT && c.decl.eq_ignore_ascii_case("INTEGER"));
            let is_char = m.sql_type == sqlt::WVARCHAR;
            let dflt = match &c.dflt {
                Value::Null => Value::Null,
                Value::Text(t) => text(t),
                v => text(&format!("{v:?}")),
            };
            rows.push(vec![
                Value::Null,
                Value::Null,
                text(&tname),
                text(&c.name),
                int(m.sql_type as i64),
                text(&m.type_name),
                int(m.column_size as i64),
                int(m.octet_length() as i64),
                if m.sql_type == sqlt::BIGINT { int(0) } else { Value::Null },
                if m.sql_type == sqlt::BIGINT || m.sql_type == sqlt::DOUBLE { int(10) } else { Value::Null },
                int(nullable as i64),
                Value::Null,
                dflt,
                int(m.sql_type as i64),
                Value::Null,
                if is_char { int(m.octet_length() as i64) } else { Value::Null },
                int(c.cid + 1),
                text(if nullable { "YES" } else { "NO" }),
            ]);
        }
    }
    Ok(ResultSet { cols, rows })
}

/// SQLPrimaryKeysW.
pub fn cat_primary_keys(conn: &Conn, table: &str) -> Result<ResultSet, DiagRec> {
    let cols = vec![
        name_col("TABLE_CAT"),
        name_col("TABLE_SCHEM"),
        ColMeta::fixed("TABLE_NAME", sqlt::WVARCHAR, 128, false),
        ColMeta::fixed("COLUMN_NAME", sqlt::WVARCHAR, 128, false),
        small_col("KEY_SEQ", false),
        name_col("PK_NAME"),
    ];
    let mut pk: Vec<PCol> = table_info(conn, table)?.into_iter().filter(|c| c.pk > 0).collect();
    pk.sort_by_key(|c| c.pk);
    let rows = pk.iter().map(|c| vec![Value::Null, Value::Null, text(table), text(&c.name), int(c.pk), Value::Null]).collect();
    Ok(ResultSet { cols, rows })
}

/// True when a column is the table's row-version column (README "SQL_ROWVER convention").
pub fn is_rowver_column(name: &str, decl: &str) -> bool {
    decl.trim().eq_ignore_ascii_case("ROWVERSION") || name.eq_ignore_ascii_case("row_version")
}

/// SQLGetTypeInfo's result set (the 19 columns of ODBC 3), ordered by DATA_TYPE.
pub fn cat_type_info(data_type: i16) -> ResultSet {
    let cols = vec![
        ColMeta::fixed("TYPE_NAME", sqlt::WVARCHAR, 128, false),
        small_col("DATA_TYPE", false),
        int_col("COLUMN_SIZE", true),
        ColMeta::fixed("LITERAL_PREFIX", sqlt::WVARCHAR, 128, true),
        ColMeta::fixed("LITERAL_SUFFIX", sqlt::WVARCHAR, 128, true),
        ColMeta::fixed("CREATE_PARAMS", sqlt::WVARCHAR, 128, true),
        small_col("NULLABLE", false),
        small_col("CASE_SENSITIVE", false),
        small_col("SEARCHABLE", false),
        small_col("UNSIGNED_ATTRIBUTE", true),
        small_col("FIXED_PREC_SCALE", false),
        small_col("AUTO_UNIQUE_VALUE", true),
        ColMeta::fixed("LOCAL_TYPE_NAME", sqlt::WVARCHAR, 128, true),
        small_col("MINIMUM_SCALE", true),
        small_col("MAXIMUM_SCALE", true),
        small_col("SQL_DATA_TYPE", false),
        small_col("SQL_DATETIME_SUB", true),
        int_col("NUM_PREC_RADIX", true),
        small_col("INTERVAL_PRECISION", true),
    ];
    let null = || Value::Null;
    let opt = |s: Option<&str>| s.map(text).unwrap_or(Value::Null);
    // (name, type, size, prefix, suffix, create params, case sensitive, searchable,
    //  unsigned, radix)
    #[allow(clippy::type_complexity)]
    let types: [(&str, i16, i64, Option<&str>, Option<&str>, Option<&str>, i64, i64, Option<i64>, Option<i64>); 4] = [
        ("TEXT", sqlt::WVARCHAR, 1_000_000_000, Some("'"), Some("'"), Some("max length"), 1, 3, None, None),
        ("INTEGER", sqlt::BIGINT, 19, None, None, None, 0, 2, Some(0), Some(10)),
        ("BLOB", sqlt::VARBINARY, 1_000_000_000, Some("X'"), Some("'"), Some("max length"), 0, 0, None, None),
        ("REAL", sqlt::DOUBLE, 15, None, None, None, 0, 2, Some(0), Some(2)),
    ];
    let rows = types
        .iter()
        .filter(|t| data_type == 0 || t.1 == data_type)
        .map(|&(name, ty, size, prefix, suffix, params, case, search, unsigned, radix)| {
            vec![
                text(name),
                int(ty as i64),
                int(size),
                opt(prefix),
                opt(suffix),
                opt(params),
                int(1),
                int(case),
                int(search),
                unsigned.map(int).unwrap_or(Value::Null),
                int(0),
                if ty == sqlt::BIGINT { int(0) } else { null() },
                text(name),
                if ty == sqlt::BIGINT { int(0) } else { null() },
                if ty == sqlt::BIGINT { int(0) } else { null() },
                int(ty as i64),
                null(),
                radix.map(int).unwrap_or(Value::Null),
                null(),
            ]
        })
        .collect();
    ResultSet { cols, rows }
}

/// SQLSpecialColumnsW: SQL_BEST_ROWID (1) → primary key columns, else the `rowid` pseudo
/// column; SQL_ROWVER (2) → the ROWVERSION / row_version column, if any.
pub fn cat_special_columns(conn: &Conn, identifier: u16, table: &str) -> Result<ResultSet, DiagRec> {
    let cols = vec![
        small_col("SCOPE", true),
        ColMeta::fixed("COLUMN_NAME", sqlt::WVARCHAR, 128, false),
        small_col("DATA_TYPE", false),
        ColMeta::fixed("TYPE_NAME", sqlt::WVARCHAR, 128, false),
        int_col("COLUMN_SIZE", true),
        int_col("BUFFER_LENGTH", true),
        small_col("DECIMAL_DIGITS", true),
        small_col("PSEUDO_COLUMN", true),
    ];
    let info = table_info(conn, table)?;
    let mut rows = Vec::new();
    let row = |scope: Value, name: &str, m: &ColMeta, pseudo: i64| {
        vec![
            scope,
            text(name),
            int(m.sql_type as i64),
            text(&m.type_name),
            int(m.column_size as i64),
            int(m.octet_length() as i64),
            if m.sql_type == sqlt::BIGINT { int(0) } else { Value::Null },
            int(pseudo),
        ]
    };
    if info.is_empty() {
        return Ok(ResultSet { cols, rows });
    }
    if identifier == 1 {
        let mut pk: Vec<&PCol> = info.iter().filter(|c| c.pk > 0).collect();
        pk.sort_by_key(|c| c.pk);
        if pk.is_empty() {
            let m = ColMeta::fixed("rowid", sqlt::BIGINT, 19, false);
            rows.push(row(int(1), "rowid", &ColMeta { type_name: "INTEGER".into(), ..m }, 2));
        } else {
            for c in pk {
                rows.push(row(int(2), &c.name, &meta_from_decl(&c.name, &c.decl), 1));
            }
        }
    } else if identifier == 2 {
        for c in info.iter().filter(|c| is_rowver_column(&c.name, &c.decl)) {
            rows.push(row(Value::Null, &c.name, &meta_from_decl(&c.name, &c.decl), 1));
        }
    }
    Ok(ResultSet { cols, rows })
}

/// (name, part of the primary key, row-version column) of every column of `table`.
pub fn table_columns(conn: &Conn, table: &str) -> Result<Vec<(String, bool, bool)>, DiagRec> {
    Ok(table_info(conn, table)?.into_iter().map(|c| (c.name.clone(), c.pk > 0, is_rowver_column(&c.name, &c.decl))).collect())
}

/// Runs a data-changing statement with parameters; returns the rows it changed. With
/// `guard`, inside a savepoint that is rolled back unless exactly one row changed (the
/// count is still returned).
pub fn execute_changes(conn: &Conn, sql: &str, params: &[Value], guard: bool) -> Result<usize, DiagRec> {
    let g = lock(&conn.db);
    let db = g.as_ref().ok_or_else(|| DiagRec::new("08003", "Connection not open"))?;
    let m = |e: rusqlite::Error| from_sqlite(&e, false);
    if guard {
        db.execute_batch("SAVEPOINT refdriver_setpos").map_err(m)?;
    }
    let run = || -> Result<usize, DiagRec> {
        let mut st = db.prepare(sql).map_err(m)?;
        for (i, p) in params.iter().enumerate() {
            st.raw_bind_parameter(i + 1, p).map_err(m)?;
        }
        st.raw_execute().map_err(m)
    };
    let r = run();
    if guard {
        if !matches!(r, Ok(1)) {
            let _ = db.execute_batch("ROLLBACK TO SAVEPOINT refdriver_setpos");
        }
        let _ = db.execute_batch("RELEASE SAVEPOINT refdriver_setpos");
    }
    r
}
