//! The fuzz targets' bodies (`crdtype_tests::fuzzing`) on every seed and on random
//! inputs. An input a fuzzer finds that breaks a target becomes a test here, named after
//! what it found, once fixed.

use crdtype::ops::Received;
use crdtype_tests::fuzzing::{
    decode_op, decode_state, json_input, receive_resigned, restore_store, seed_inputs,
    seed_json_inputs, seed_operations, seed_states, seed_stores, seed_sync_messages,
    snapshot_resigned, sync_message,
};
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
fn every_seed_operation_signed_with_a_torsion_component_is_received_as_without() {
    for (pick, seed) in seed_inputs().iter().enumerate() {
        let unchanged = receive_resigned(seed).unwrap();
        for torsion in 1..8 {
            // Change 10: the torsion point in the signature's `R`. The body also checks
            // that a batch of one decides as receiving alone does.
            let input = [pick as u8, 10, 1, torsion];
            assert_eq!(receive_resigned(&input).unwrap(), unchanged);
        }
    }
}

#[test]
fn a_seed_operation_signed_by_another_device_is_refused_alone_and_in_a_batch() {
    // Bob's edit (pick 0) signed by Alice (device 1), with and without torsion. The
    // body checks that a batch of one, whose signatures are verified together, refuses
    // it as receiving alone does.
    for torsion in 0..8 {
        assert!(receive_resigned(&[0, 10, 2, torsion, 1]).is_err());
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

#[test]
fn every_seed_json_input_is_applied_and_its_delta_moves_the_old_state_to_the_new() {
    let seeds = seed_json_inputs();
    assert_eq!(seeds.len(), 6);
    for seed in &seeds {
        let applied = json_input(seed).expect("the seeds are text");
        assert!(applied.is_ok(), "{applied:?}");
    }
}

#[test]
fn every_seed_state_decodes_and_encodes_back_to_itself() {
    for seed in seed_states() {
        assert!(crdtype::CausalDotStore::<crdtype_tests::MeetingCrdt>::decode(&seed).is_ok());
        decode_state(&seed);
    }
}

#[test]
fn alices_answers_bring_bob_her_snapshot_and_operations_and_his_hello_gets_an_answer() {
    let seeds = seed_sync_messages();
    assert!(seeds.len() >= 2, "a first message and at least one answer");
    let hello = sync_message(&seeds[0]).unwrap();
    assert_eq!(hello.messages_received, 1);
    let (mut snapshots, mut applied) = (0, 0);
    for answer in &seeds[1..] {
        let stats = sync_message(answer).unwrap();
        assert!(stats.refused.is_empty(), "{:?}", stats.refused);
        snapshots += stats.snapshots_received;
        applied += stats.applied;
    }
    assert!(snapshots >= 1, "Alice compacted: Bob needs her snapshot");
    assert!(applied >= 1, "and the operations after it");
}

#[test]
fn alices_snapshot_signed_again_unchanged_is_adopted_and_a_changed_one_refused() {
    assert!(
        snapshot_resigned(&[]).unwrap() >= 1,
        "it covers an edit the receiver lacks"
    );
    // Its payload cut to 10 bytes (change 2: the length, then a fill byte).
    assert!(snapshot_resigned(&[2, 9, 10, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
    // Numbered like an operation (change 3: device 1, sequence 5): not a snapshot.
    let mut renumbered = vec![3, 16];
    renumbered.extend(1u64.to_le_bytes());
    renumbered.extend(5u64.to_le_bytes());
    assert!(snapshot_resigned(&renumbered).is_err());
}

#[test]
fn alices_store_unchanged_restores_everything_and_each_record_cut_is_refused() {
    let unchanged = restore_store(&[]).unwrap();
    assert!(unchanged.from_snapshot);
    assert!(unchanged.corrupt.is_empty() && unchanged.refused.is_empty());
    assert_eq!(unchanged.evidence, 1, "Bob's equivocation");
    let seeds = seed_stores();
    assert!(seeds.len() > 10, "a record per operation");
    // Change 2: a record cut to nothing and checksummed again, which the log refuses.
    for seed in &seeds[1..] {
        let recovery = restore_store(seed).unwrap();
        assert!(recovery.corrupt.is_empty());
        assert_eq!(recovery.refused.len(), 1, "{recovery:?}");
    }
}

#[test]
fn a_record_changed_without_its_checksum_is_reported_corrupt() {
    // Change 0: record 3, byte 10 flipped, checksum left as it was.
    let recovery = restore_store(&[0, 3, 3, 10, 0, 0xff]).unwrap();
    assert_eq!(recovery.corrupt.len(), 1);
    // Change 1: the same, checksummed again: the log refuses it instead.
    let recovery = restore_store(&[1, 3, 3, 10, 0, 0xff]).unwrap();
    assert!(recovery.corrupt.is_empty());
}

/// One of `seeds` with up to 5 bytes changed.
fn mutated(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let changes = proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6);
    (prop::sample::select(seeds), changes).prop_map(|(mut data, changes)| {
        for (at, byte) in changes {
            let at = at.index(data.len());
            data[at] = byte;
        }
        data
    })
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
        ("json_input", seed_json_inputs()),
        ("decode_state", seed_states()),
        ("sync_message", seed_sync_messages()),
        ("snapshot_resigned", vec![Vec::new()]),
        ("restore_store", seed_stores()),
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
    fn random_changes_to_a_store_never_panic_nor_restore_a_foreign_operation(
        data in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let _ = restore_store(&data);
    }

    #[test]
    fn random_changes_to_signed_operations_never_panic_nor_change_a_refusing_log(
        data in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let _ = receive_resigned(&data);
    }

    #[test]
    fn seed_json_inputs_with_random_bytes_changed_keep_the_state_or_move_it_by_their_delta(
        data in mutated(seed_json_inputs()),
    ) {
        let _ = json_input(&data);
    }

    #[test]
    fn seed_states_with_random_bytes_changed_never_panic_nor_decode_unlike_themselves(
        data in mutated(seed_states()),
    ) {
        decode_state(&data);
    }

    #[test]
    fn seed_sync_messages_with_random_bytes_changed_apply_only_alices_operations(
        data in mutated(seed_sync_messages()),
    ) {
        let _ = sync_message(&data);
    }

    #[test]
    fn random_changes_to_a_signed_snapshot_never_panic_nor_change_a_refusing_log(
        data in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let _ = snapshot_resigned(&data);
    }
}
