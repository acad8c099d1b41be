//! A peer's snapshot, changed and signed again: `crdtype_tests::fuzzing::snapshot_resigned`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = crdtype_tests::fuzzing::snapshot_resigned(data);
});
