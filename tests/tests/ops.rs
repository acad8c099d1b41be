//! Operations under attack: each test is named after what it proves. A refused operation
//! leaves the log exactly as it was (state, heads, waiting buffer, clock).

use crdtype::Dot;
use crdtype::ops::{OpFields, OpKind, OpLog, PayloadKey, ReceiveError, Received, SigningKey};
use crdtype::{HighWaterMark, HybridClock, ManualClock, ReplicaId};
use crdtype_tests::CalendarEventCrdt;
use crdtype_tests::fuzzing::signed_with_torsion;
use proptest::prelude::*;

type Log = OpLog<CalendarEventCrdt, ManualClock>;

const SALT: [u8; 16] = [7; 16];

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn clock(replica: u64, wall: &ManualClock) -> HybridClock<ManualClock> {
    HybridClock::with_wall_clock(ReplicaId::new(replica), wall.clone())
}

/// A document made by replica 1, with replica 2 admitted, and replica 2's log of it.
struct World {
    wall: ManualClock,
    alice: Log,
    bob: Log,
    genesis: Vec<u8>,
}

fn world() -> World {
    let wall = ManualClock::new(1_000_000);
    let (mut alice, genesis) = Log::create(&key(1), SALT, clock(1, &wall));
    let admission = alice
        .admit(&key(1), ReplicaId::new(2), key(2).verifying_key())
        .unwrap();
    let mut bob = Log::open(alice.document(), clock(2, &wall));
    bob.receive(&genesis).unwrap();
    bob.receive(&admission).unwrap();
    World {
        wall,
        alice,
        bob,
        genesis,
    }
}

fn title(log: &mut Log, signer: &SigningKey, text: &str) -> Result<Vec<u8>, ReceiveError> {
    let op = log.edit(signer, |store, context, stamp| {
        store.set_title(context, stamp, text.to_owned())
    })?;
    Ok(op.expect("setting a title writes a delta"))
}

/// What must not change when an operation is refused.
fn snapshot(log: &Log) -> (String, [u8; 32], usize, HighWaterMark) {
    (
        format!("{:?}", log.state()),
        log.heads_digest(),
        log.waiting(),
        log.clock().high_water_mark(),
    )
}

#[test]
fn replicas_that_receive_each_others_operations_agree() {
    let World {
        mut alice, mut bob, ..
    } = world();
    let from_alice = title(&mut alice, &key(1), "Standup").unwrap();
    let from_bob = title(&mut bob, &key(2), "Retro").unwrap();
    assert_eq!(
        bob.receive(&from_alice).unwrap(),
        Received::Applied { released: 0 }
    );
    assert_eq!(
        alice.receive(&from_bob).unwrap(),
        Received::Applied { released: 0 }
    );
    assert_eq!(alice.state(), bob.state());
    assert_eq!(alice.heads_digest(), bob.heads_digest());
    assert_eq!(alice.heads().len(), 2, "two concurrent heads");
}

#[test]
fn every_prefix_and_single_byte_mutation_is_refused_without_panic_or_change() {
    let World {
        mut alice, mut bob, ..
    } = world();
    let op = title(&mut alice, &key(1), "Standup").unwrap();
    let before = snapshot(&bob);
    for end in 0..op.len() {
        assert!(bob.receive(&op[..end]).is_err(), "prefix of {end} bytes");
        assert_eq!(snapshot(&bob), before);
    }
    for index in 0..op.len() {
        for flip in [0x01, 0x80, 0xff] {
            let mut mutated = op.clone();
            mutated[index] ^= flip;
            match bob.receive(&mutated) {
                Err(_) => assert_eq!(snapshot(&bob), before, "byte {index}"),
                // A flip in bytes no part reads (padding) leaves the same operation.
                Ok(received) => {
                    assert_eq!(received, Received::Applied { released: 0 });
                    let mut fresh = world().bob;
                    fresh.receive(&op).unwrap();
                    assert_eq!(bob.state(), fresh.state(), "byte {index}");
                    bob = world().bob;
                }
            }
        }
    }
}

#[test]
fn an_operation_from_an_unknown_device_is_refused() {
    let World {
        mut bob, genesis, ..
    } = world();
    let wall = ManualClock::new(1_000_000);
    // Replica 3 builds on the genesis without ever being admitted.
    let mut mallory = Log::open(bob.document(), clock(3, &wall));
    mallory.receive(&genesis).unwrap();
    assert!(matches!(
        title(&mut mallory, &key(3), "x"),
        Err(ReceiveError::UnknownDevice(_))
    ));
    // Forged with its own key, naming itself: refused, since its parents are all here.
    // A forged one, signed with its own key but claiming its own id, is refused too.
    let forged = forge(&mut mallory, &key(3));
    assert!(matches!(
        bob.receive(&forged),
        Err(ReceiveError::UnknownDevice(replica)) if replica == ReplicaId::new(3)
    ));
}

/// An operation after the last of `log`, naming `log`'s replica, signed with `key`:
/// what a forger can build, whether or not the key is admitted.
fn forge(log: &mut Log, key: &SigningKey) -> Vec<u8> {
    let replica = log.clock().replica();
    let mut fields = OpFields::read(log.applied().values().next().unwrap()).unwrap();
    fields.id = Dot::new(replica, 1_000);
    fields.kind = OpKind::Patch;
    fields.admitted = None;
    fields.parents = log.heads().iter().copied().collect();
    fields.schema = "calendar.Event".to_owned();
    fields.version = 2;
    fields.stamp.replica = replica;
    fields.payload = log.state().encode();
    fields.sign(key)
}

#[test]
fn an_operation_signed_by_another_device_than_it_names_is_refused() {
    let World {
        mut alice, mut bob, ..
    } = world();
    // Bob's key signs an operation that names Alice.
    let forged = forge(&mut alice, &key(2));
    let before = snapshot(&bob);
    assert!(matches!(
        bob.receive(&forged),
        Err(ReceiveError::SignedByAnotherDevice { claimed, signer })
            if claimed == ReplicaId::new(1) && signer == ReplicaId::new(2)
    ));
    assert_eq!(snapshot(&bob), before);
}

#[test]
fn a_bit_flip_in_the_payload_is_refused() {
    let World {
        mut alice, mut bob, ..
    } = world();
    let op = title(&mut alice, &key(1), "Standup").unwrap();
    let at = find(&op, b"Standup");
    let mut flipped = op.clone();
    flipped[at] ^= 0x20;
    assert!(matches!(
        bob.receive(&flipped),
        Err(ReceiveError::PayloadHashMismatch)
    ));
}

fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
        .unwrap()
}

#[test]
fn a_non_canonical_signature_is_refused() {
    let World {
        mut alice, mut bob, ..
    } = world();
    let op = title(&mut alice, &key(1), "Standup").unwrap();
    // The signature's `s` plus the group order ℓ: the same equation, a non-canonical
    // encoding, which strict verification refuses.
    const ORDER: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let signature_at = signature_offset(&op);
    let mut altered = op.clone();
    let mut carry = 0u16;
    for (index, order_byte) in ORDER.iter().enumerate() {
        let at = signature_at + 32 + index;
        let sum = u16::from(altered[at]) + u16::from(*order_byte) + carry;
        altered[at] = sum as u8;
        carry = sum >> 8;
    }
    assert!(matches!(
        bob.receive(&altered),
        Err(ReceiveError::BadSignature(_))
    ));
}

/// Where the 64 signature bytes are: the only 64-byte vector.
fn signature_offset(op: &[u8]) -> usize {
    (0..op.len() - 68)
        .find(|&at| op[at..at + 4] == [64, 0, 0, 0])
        .map(|at| at + 4)
        .unwrap()
}

#[test]
fn an_altered_header_has_another_hash_and_fails_its_signature() {
    let World {
        mut alice, mut bob, ..
    } = world();
    let op = title(&mut alice, &key(1), "Standup").unwrap();
    // The document id is in the header; changing one byte of the header keeps the bytes
    // well-formed.
    let document = *alice.document().as_bytes();
    let at = find(&op, &document);
    let mut altered = op.clone();
    altered[at] ^= 1;
    let refused = bob.receive(&altered);
    assert!(
        matches!(refused, Err(ReceiveError::WrongDocument { .. })),
        "{refused:?}"
    );
    let at = signature_offset(&op) - 8;
    let mut altered = op.clone();
    altered[at - 20] ^= 1;
    assert!(bob.receive(&altered).is_err());
}

#[test]
fn equivocation_is_refused_and_kept_as_evidence() {
    let World {
        mut alice, mut bob, ..
    } = world();
    let mut twin = alice.clone();
    let first = title(&mut alice, &key(1), "Standup").unwrap();
    let second = title(&mut twin, &key(1), "Retro").unwrap();
    bob.receive(&first).unwrap();
    let before = snapshot(&bob);
    assert!(matches!(
        bob.receive(&second),
        Err(ReceiveError::Equivocation { .. })
    ));
    assert_eq!(snapshot(&bob), before, "the first one is kept");
    assert_eq!(bob.evidence().len(), 1);
    assert_eq!(bob.evidence()[0].kept, first);
    assert_eq!(bob.evidence()[0].refused, second);
}

#[test]
fn an_equivocating_device_leaves_one_proof_however_often_it_equivocates() {
    let World {
        mut alice, mut bob, ..
    } = world();
    let twins: Vec<Log> = (0..5).map(|_| alice.clone()).collect();
    let first = title(&mut alice, &key(1), "Standup").unwrap();
    bob.receive(&first).unwrap();
    for (n, mut twin) in twins.into_iter().enumerate() {
        let other = title(&mut twin, &key(1), &format!("twin {n}")).unwrap();
        for _ in 0..3 {
            assert!(matches!(
                bob.receive(&other),
                Err(ReceiveError::Equivocation { .. })
            ));
        }
    }
    assert_eq!(bob.evidence().len(), 1, "the first proof, and no copies");
}

#[test]
fn an_operation_with_missing_parents_waits_and_is_applied_once_they_arrive() {
    let World {
        mut alice, mut bob, ..
    } = world();
    let one = title(&mut alice, &key(1), "one").unwrap();
    let two = title(&mut alice, &key(1), "two").unwrap();
    assert_eq!(bob.receive(&two).unwrap(), Received::Buffered);
    assert_eq!(
        bob.receive(&two).unwrap(),
        Received::Buffered,
        "once in the buffer"
    );
    assert_eq!(bob.waiting(), 1);
    assert_eq!(bob.state().store.title(), None, "invisible while it waits");
    assert_eq!(
        bob.receive(&one).unwrap(),
        Received::Applied { released: 1 }
    );
    assert_eq!(bob.waiting(), 0);
    assert_eq!(bob.state(), alice.state());
    assert_eq!(bob.receive(&two).unwrap(), Received::Duplicate);
}

#[test]
fn a_parent_that_never_comes_keeps_an_operation_waiting_in_a_bounded_buffer() {
    let World { alice, mut bob, .. } = world();
    // No operation can name itself as a parent (its hash covers its parents), nor form a
    // cycle; an operation whose parent never arrives waits, and the buffer is bounded.
    let mut ahead = alice;
    let mut waiting = Vec::new();
    let _lost = title(&mut ahead, &key(1), "lost").unwrap();
    for index in 0..300 {
        waiting.push(title(&mut ahead, &key(1), &format!("{index}")).unwrap());
    }
    let results: Vec<_> = waiting.iter().map(|op| bob.receive(op)).collect();
    assert!(
        results[..256]
            .iter()
            .all(|result| matches!(result, Ok(Received::Buffered)))
    );
    assert!(matches!(results[256], Err(ReceiveError::BufferFull(_))));
    assert_eq!(bob.waiting(), 256);
}

#[test]
fn replaying_an_operation_any_number_of_times_changes_nothing() {
    let World {
        mut alice, mut bob, ..
    } = world();
    let ops: Vec<_> = (0..5)
        .map(|index| title(&mut alice, &key(1), &format!("{index}")).unwrap())
        .collect();
    for op in &ops {
        bob.receive(op).unwrap();
    }
    let after = snapshot(&bob);
    for round in 1..=100 {
        let op = &ops[(round * 7) % ops.len()];
        assert_eq!(bob.receive(op).unwrap(), Received::Duplicate);
    }
    assert_eq!(snapshot(&bob), after);
}

#[test]
fn a_batch_with_one_bad_operation_applies_nothing() {
    let World {
        mut alice, mut bob, ..
    } = world();
    let good = title(&mut alice, &key(1), "one").unwrap();
    let mut bad = title(&mut alice, &key(1), "two").unwrap();
    let at = find(&bad, b"two");
    bad[at] ^= 1;
    let before = snapshot(&bob);
    assert!(bob.receive_batch(&[&good, &bad]).is_err());
    assert_eq!(snapshot(&bob), before);
    assert_eq!(bob.receive_batch(&[&good]).unwrap().len(), 1);
}

#[test]
fn a_batch_verified_together_still_finds_a_forged_signature() {
    let World {
        mut alice, mut bob, ..
    } = world();
    let honest: Vec<Vec<u8>> = (0..20)
        .map(|index| title(&mut alice, &key(1), &index.to_string()).unwrap())
        .collect();
    // The eleventh re-signed with a key that is not Alice's.
    let mut forged = honest.clone();
    forged[10] = OpFields::read(&forged[10]).unwrap().sign(&key(9));
    let before = snapshot(&bob);
    assert!(matches!(
        bob.receive_batch(&slices(&forged)),
        Err(ReceiveError::BadSignature(_))
    ));
    assert_eq!(snapshot(&bob), before);
    // The honest batch, verified together, applies whole.
    bob.receive_batch(&slices(&honest)).unwrap();
    assert_eq!(bob.state(), alice.state());
}

#[test]
fn a_devices_signature_with_a_torsion_component_is_accepted_alone_and_in_a_batch() {
    let World {
        mut alice, mut bob, ..
    } = world();
    let mut ops: Vec<Vec<u8>> = (0..5)
        .map(|index| title(&mut alice, &key(1), &index.to_string()).unwrap())
        .collect();
    // Alice signs the third again, with a torsion component in `R`. One rule (the
    // cofactored equation) decides it alone and in a batch (the unit tests of
    // `ops/signature.rs` compare the two checks directly), so replicas that receive it
    // either way agree.
    ops[2] = OpFields::read(&ops[2]).unwrap().sign_with(|header| {
        let signature = signed_with_torsion(&key(1), header, 1);
        let plain = ed25519_dalek::Verifier::verify(
            &key(1).verifying_key(),
            header,
            &ed25519_dalek::Signature::from_bytes(&signature),
        );
        assert!(
            plain.is_err(),
            "the plain equation refuses a torsion component"
        );
        signature
    });
    let mut bob_in_batch = bob.clone();
    for op in &ops {
        assert_eq!(bob.receive(op).unwrap(), Received::Applied { released: 0 });
    }
    assert_eq!(bob_in_batch.receive_batch(&slices(&ops)).unwrap().len(), 5);
    assert_eq!(bob.state(), alice.state());
    assert_eq!(bob_in_batch.state(), alice.state());
    assert_eq!(bob.heads_digest(), alice.heads_digest());
    assert_eq!(bob_in_batch.heads_digest(), alice.heads_digest());
}

fn slices(ops: &[Vec<u8>]) -> Vec<&[u8]> {
    ops.iter().map(Vec::as_slice).collect()
}

#[test]
fn a_stamp_beyond_the_skew_bound_is_refused_without_moving_the_clock() {
    let World { wall, .. } = world();
    // Alice's clock runs an hour ahead of Bob's, beyond the default bound of a minute...
    let ahead = ManualClock::new(1_000_000 + 3_600_000_000);
    let (alice, genesis) = Log::create(&key(1), SALT, clock(1, &ahead));
    let mut bob_of_alice = Log::open(alice.document(), clock(2, &wall));
    let before = snapshot(&bob_of_alice);
    assert!(matches!(
        bob_of_alice.receive(&genesis),
        Err(ReceiveError::ClockSkew(_))
    ));
    assert_eq!(snapshot(&bob_of_alice), before, "the clock did not move");
    // ... and once Bob's wall clock has caught up, the same operation is accepted.
    wall.set(1_000_000 + 3_600_000_000);
    assert!(bob_of_alice.receive(&genesis).is_ok());
}

#[test]
fn a_stamp_at_the_end_of_the_logical_counter_carries_into_wall_time() {
    let World { wall, .. } = world();
    let exhausted = clock(1, &wall).with_high_water_mark(HighWaterMark {
        wall_micros: 1_000_000,
        logical: u32::MAX - 1,
    });
    let (alice, genesis) = Log::create(&key(1), SALT, exhausted);
    let mut bob = Log::open(alice.document(), clock(2, &wall));
    bob.receive(&genesis).unwrap();
    assert_eq!(bob.clock().high_water_mark().logical, u32::MAX);
    let mut bob_clock = bob.clock().clone();
    let next = bob_clock.now();
    assert!(
        (next.wall_micros, next.logical) > (1_000_000, u32::MAX) || next.wall_micros > 1_000_000
    );
}

#[test]
fn oversized_input_is_refused_with_a_typed_error() {
    let World { mut bob, .. } = world();
    let huge = vec![0u8; 5 << 20];
    assert!(matches!(
        bob.receive(&huge),
        Err(ReceiveError::TooLarge { .. })
    ));
    // A vector whose length field claims far more than the buffer holds.
    let mut lying = world().alice.applied().values().next().unwrap().clone();
    let at = signature_offset(&lying) - 4;
    lying[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        bob.receive(&lying),
        Err(ReceiveError::Malformed(_))
    ));
}

// Convergence: three replicas, random edits, random delivery with duplicates and
// reordering; in the end every replica has the same heads and the same state.

#[derive(Clone, Debug)]
enum Step {
    Edit { replica: usize, value: u8 },
    Deliver { from: usize, to: usize, pick: usize },
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        (0..3usize, any::<u8>()).prop_map(|(replica, value)| Step::Edit { replica, value }),
        (0..3usize, 0..3usize, any::<usize>()).prop_map(|(from, to, pick)| Step::Deliver {
            from,
            to,
            pick
        }),
    ];
    prop::collection::vec(step, 1..40)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn three_replicas_converge_under_any_delivery(steps in steps()) {
        let wall = ManualClock::new(1_000_000);
        let (mut first, genesis) = Log::create(&key(1), SALT, clock(1, &wall));
        let mut sent: Vec<Vec<Vec<u8>>> = vec![vec![genesis], Vec::new(), Vec::new()];
        for replica in [2, 3] {
            sent[0].push(first.admit(&key(1), ReplicaId::new(replica), key(replica as u8).verifying_key()).unwrap());
        }
        let mut logs = vec![first];
        for replica in [2u64, 3] {
            let mut log = Log::open(logs[0].document(), clock(replica, &wall));
            for op in &sent[0] {
                log.receive(op).unwrap();
            }
            logs.push(log);
        }
        for step in &steps {
            match *step {
                Step::Edit { replica, value } => {
                    let op = title(&mut logs[replica], &key(replica as u8 + 1), &value.to_string()).unwrap();
                    sent[replica].push(op);
                }
                Step::Deliver { from, to, pick } => {
                    if let Some(op) = sent[from].get(pick % sent[from].len().max(1)).cloned() {
                        logs[to].receive(&op).map_err(|error| TestCaseError::fail(error.to_string()))?;
                    }
                }
            }
        }
        for log in &mut logs {
            for op in sent.iter().flat_map(|ops| ops.iter().rev()) {
                log.receive(op).map_err(|error| TestCaseError::fail(error.to_string()))?;
            }
        }
        for log in &logs[1..] {
            prop_assert_eq!(log.heads_digest(), logs[0].heads_digest());
            prop_assert_eq!(log.state(), logs[0].state());
            prop_assert_eq!(log.waiting(), 0);
        }
    }
}

// Encrypted payloads.

#[test]
fn encrypted_payloads_are_read_with_the_document_key_and_verified_without_it() {
    let wall = ManualClock::new(1_000_000);
    let payload_key = || PayloadKey::from_bytes([42; 32]);
    let (alice, genesis) = Log::create(&key(1), SALT, clock(1, &wall));
    let mut alice = alice.with_payload_key(payload_key());
    let mut bob = Log::open(alice.document(), clock(2, &wall)).with_payload_key(payload_key());
    let mut relay = Log::open(alice.document(), clock(3, &wall));
    let mut stranger = Log::open(alice.document(), clock(4, &wall))
        .with_payload_key(PayloadKey::from_bytes([7; 32]));
    for log in [&mut bob, &mut relay, &mut stranger] {
        log.receive(&genesis).unwrap();
    }
    let op = title(&mut alice, &key(1), "Secret standup").unwrap();
    assert!(
        !op.windows(6).any(|window| window == b"Secret"),
        "the title is not in the clear"
    );
    bob.receive(&op).unwrap();
    assert_eq!(bob.state(), alice.state());
    // Without the key, the signature and the ciphertext's hash are still checked...
    let mut flipped = op.clone();
    let last = flipped.len() - 20;
    flipped[last] ^= 1;
    assert!(matches!(
        relay.receive(&flipped),
        Err(ReceiveError::PayloadHashMismatch)
    ));
    // ... and an intact operation is refused only for want of the key.
    assert!(matches!(
        relay.receive(&op),
        Err(ReceiveError::NoPayloadKey)
    ));
    assert!(matches!(
        stranger.receive(&op),
        Err(ReceiveError::Undecryptable)
    ));
}
