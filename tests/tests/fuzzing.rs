//! The fuzz targets' bodies (`crdtype_tests::fuzzing`) on every seed and on random
//! inputs. An input a fuzzer finds that breaks a target becomes a test here, named after
//! what it found, once fixed.

use crdtype::ops::Received;
use crdtype_tests::fuzzing::{decode_op, receive_resigned, seed_inputs, seed_operations};
use proptest::prelude::*;

#[test]
fn every_seed_operation_signed_again_unchanged_is_received() {
    let seeds = seed_inputs();
    assert_eq!(seeds.len(), 5);
    let received: Vec<Received> = seeds
        .iter()
        .map(|seed| receive_resigned(seed).unwrap())
        .collect();
    // Bob's edit and Alice's removals join into the receiver's state; it holds the rest.
    assert_eq!(
        received,
        [
            Received::Applied { released: 0 },
            Received::Applied { released: 0 },
            Received::Duplicate,
            Received::Duplicate,
            Received::Duplicate,
        ]
    );
}

#[test]
fn every_seed_operation_decodes_as_it_was_signed() {
    for op in seed_operations() {
        decode_op(&op);
        assert!(crdtype::ops::OpFields::read(&op).is_ok());
    }
}

#[test]
fn a_payload_cut_short_signed_again_is_refused_with_the_log_unchanged() {
    // Bob's edit, its payload cut to 10 bytes (change 2: the length, then a fill byte).
    let input = [0, 2, 9, 10, 0, 0, 0, 0, 0, 0, 0, 0];
    assert!(receive_resigned(&input).is_err());
}

#[test]
fn changes_apply_in_sequence() {
    // Bob's edit renumbered to sequence 7 (change 3), then timed at 0 (change 4): a gap
    // in Bob's numbers, so it waits.
    let mut input = vec![0, 3, 16];
    input.extend(2u64.to_le_bytes());
    input.extend(7u64.to_le_bytes());
    input.extend([4, 16]);
    input.extend([0; 16]);
    assert_eq!(receive_resigned(&input).unwrap(), Received::Buffered);
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
        data in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let _ = receive_resigned(&data);
    }
}
