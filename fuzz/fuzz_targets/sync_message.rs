//! Raw bytes as a sync message to a replica: `crdtype_tests::fuzzing::sync_message`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = crdtype_tests::fuzzing::sync_message(data);
});
