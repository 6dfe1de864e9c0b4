// `Dbc::link()` handed out the driver link, which outlives SQLDisconnect.
fn main() {
    let _ = odbc_dm::handles::Dbc::link;
}
