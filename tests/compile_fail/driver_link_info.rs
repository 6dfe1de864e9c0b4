// `DriverLink::info_u32` / `async_caps` called the driver on the link's connection handle.
fn main() {
    let _ = odbc_dm::handles::DriverLink::info_u32;
    let _ = odbc_dm::handles::DriverLink::async_caps;
}
