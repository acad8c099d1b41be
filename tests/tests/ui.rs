//! Compile-fail cases of `#[derive(Crdt)]` (`ui/<category>/<case>.rs` with the expected
//! `.stderr`) and cases that must compile (`pass/`). Regenerate the expected output with
//! `TRYBUILD=overwrite cargo test -p crdtype-tests --test ui` and read the diff.

#[test]
fn compile_fail() {
    trybuild::TestCases::new().compile_fail("ui/*/*.rs");
}

#[test]
fn pass() {
    trybuild::TestCases::new().pass("pass/*.rs");
}
