//! Locates a cdylib built by this workspace from inside a test binary.
//! Copy this file into another crate's tests to find `libodbc_refdriver.so`.
//!
//! Test binaries live in `<target>/<profile>/deps/`. `cargo build` puts the cdylib in
//! `<target>/<profile>/`; `cargo test` (re)builds it only in `<target>/<profile>/deps/`
//! without copying it up. So both places are looked at and the newer file wins: a stale
//! library from an old `cargo build` is never tested by mistake.

use std::path::PathBuf;

/// Path of `lib<name>.so` in the profile directory of the running test binary.
/// Panics with a clear message if it is absent (build it with `cargo build -p <crate>`).
pub fn cdylib_path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("test binary has a parent dir");
    let profile = if deps.file_name().is_some_and(|n| n == "deps") { deps.parent().expect("profile dir") } else { deps };
    let file = format!("lib{name}.so");
    let candidates = [profile.join(&file), profile.join("deps").join(&file)];
    let newest = candidates
        .iter()
        .filter_map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok().map(|t| (t, p.clone())))
        .max_by_key(|(t, _)| *t)
        .map(|(_, p)| p);
    match newest {
        Some(p) => p,
        None => panic!(
            "{file} not found in {} or its deps/ (test binary: {}). Build it: cargo build -p odbc-refdriver",
            profile.display(),
            exe.display()
        ),
    }
}

/// The reference driver's shared library.
pub fn refdriver_so() -> PathBuf {
    cdylib_path("odbc_refdriver")
}
