//! External JSON input of every format: `crdtype_tests::fuzzing::json_input`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = crdtype_tests::fuzzing::json_input(data);
});
