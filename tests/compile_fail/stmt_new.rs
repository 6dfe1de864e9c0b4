// `Stmt::new(dbc, link, hstmt)` wrapped an unchecked driver statement handle.
fn main() {
    let _ = odbc_dm::handles::Stmt::new;
}
