//! Compile-fail tests (trybuild): the items through which safe code could reach a driver
//! with an unchecked handle, or run a library's initialisers, are not reachable from
//! outside the crate (issue 10 item 1, decision #53). Each file in tests/compile_fail/
//! names one item as an application would have on cc5efd6, where it compiled; its
//! `.stderr` is the expected error.
//!
//! Regenerate the `.stderr` files after a deliberate change with
//! `TRYBUILD=overwrite cargo test --test compile_fail`.

#[test]
fn sealed_internals_do_not_compile() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/compile_fail/*.rs");
}
