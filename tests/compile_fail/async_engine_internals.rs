// The async engine's slots, hosts and `drive_by_polling` are the DM's, not the application's
// (`odbc_dm::AsyncEvent` is the one public item).
fn main() {
    let _ = odbc_dm::async_engine::drive_by_polling;
}
