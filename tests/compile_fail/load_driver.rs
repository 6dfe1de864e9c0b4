// `load_driver(path)` ran a library's initialisers from safe code.
fn main() {
    let _ = odbc_dm::driver::load_driver(std::path::Path::new("/tmp/not-a-driver.so"));
}
