//! A replica's store, changed, then opened: `crdtype_tests::fuzzing::restore_store`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = crdtype_tests::fuzzing::restore_store(data);
});
