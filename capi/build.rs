//! Link the cdylib as `libodbc.so.2` (its soname), the name every ODBC application on
//! Linux loads, and with -Bsymbolic-functions so that nothing inside the library ever
//! binds to a driver's same-named SQL* symbols.
fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libodbc.so.2");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-Bsymbolic-functions");
    println!("cargo:rerun-if-changed=build.rs");
}
