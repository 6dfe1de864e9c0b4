//! Link the cdylib with -Bsymbolic-functions so that calls between our own SQL* exports
//! (and from our code to them) bind inside the library, never to a DM's same-named symbols.
fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-Bsymbolic-functions");
    println!("cargo:rerun-if-changed=build.rs");
}
