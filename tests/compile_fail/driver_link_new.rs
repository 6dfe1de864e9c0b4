// `DriverLink::new(driver, henv, hdbc, version)` built a link on unchecked driver handles.
fn main() {
    let _ = odbc_dm::handles::DriverLink::new;
}
