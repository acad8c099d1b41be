//! Raw bytes as an encoded state: `crdtype_tests::fuzzing::decode_state`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| crdtype_tests::fuzzing::decode_state(data));
