// `Dbc::set_fast_info(link)` pointed the SQLGetInfo fast lane at any driver connection.
fn main() {
    let _ = odbc_dm::handles::Dbc::set_fast_info;
}
