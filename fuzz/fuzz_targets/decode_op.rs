//! Raw bytes as a received operation: `crdtype_tests::fuzzing::decode_op`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| crdtype_tests::fuzzing::decode_op(data));
