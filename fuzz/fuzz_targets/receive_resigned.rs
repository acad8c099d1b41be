//! Valid operations mutated and signed again, received:
//! `crdtype_tests::fuzzing::receive_resigned`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = crdtype_tests::fuzzing::receive_resigned(data);
});
