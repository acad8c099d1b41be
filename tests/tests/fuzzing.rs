//! The fuzz targets' bodies (`crdtype_tests::fuzzing`) on every seed, on random inputs,
//! and on every input the fuzzers kept as a regression (`fuzz/regressions/<target>/`).

use crdtype_tests::fuzzing::{decode_op, receive_resigned, seed_inputs, seed_operations};
use proptest::prelude::*;

#[test]
fn every_seed_operation_signed_again_unchanged_is_received() {
    let seeds = seed_inputs();
    assert!(seeds.len() >= 5);
    for seed in seeds {
        assert!(receive_resigned(&seed).is_ok(), "seed {seed:?}");
    }
}

#[test]
fn every_seed_operation_decodes_as_it_was_signed() {
    for op in seed_operations() {
        decode_op(&op);
        assert!(crdtype::ops::OpFields::read(&op).is_ok());
    }
}

#[test]
fn a_mutated_payload_signed_again_is_refused_with_the_log_unchanged() {
    // Every byte of the first edit's payload inverted: still signed by its device.
    let flips: Vec<u8> = (0..=u16::MAX / 64)
        .flat_map(|at| {
            let [low, high] = (at * 64).to_le_bytes();
            [low, high, 0xff]
        })
        .collect();
    let input = [&[0, 0][..], &flips].concat();
    assert!(receive_resigned(&input).is_err());
}

#[test]
fn every_input_kept_by_the_fuzzers_still_passes() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions");
    type Body = fn(&[u8]);
    let targets: [(&str, Body); 2] = [
        ("decode_op", decode_op),
        ("receive_resigned", |data| drop(receive_resigned(data))),
    ];
    for (target, body) in targets {
        let Ok(entries) = std::fs::read_dir(root.join(target)) else {
            continue;
        };
        for entry in entries.flatten() {
            let data = std::fs::read(entry.path()).unwrap();
            body(&data);
        }
    }
}

/// Writes the fuzzers' starting corpus, `fuzz/corpus/<target>/seed-N`:
/// `cargo test -p crdtype-tests --test fuzzing -- --ignored`.
#[test]
#[ignore = "writes files into fuzz/corpus"]
fn write_the_fuzz_corpus() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    for (target, inputs) in [
        ("decode_op", seed_operations()),
        ("receive_resigned", seed_inputs()),
    ] {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        for (n, input) in inputs.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{n}")), input).unwrap();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic_as_an_operation(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        decode_op(&data);
    }

    #[test]
    fn random_changes_to_signed_operations_never_panic_nor_change_a_refusing_log(
        pick in any::<u8>(),
        change in any::<u8>(),
        rest in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let input = [&[pick, change][..], &rest].concat();
        let _ = receive_resigned(&input);
    }
}
