//! Signed operations: `cargo bench -p crdtype-tests --bench ops`, against bare Ed25519
//! signing and verification in the same run. The size of a one-field edit prints first.

use crdtype::ops::{OpLog, SigningKey};
use crdtype::{HybridClock, ManualClock, ReplicaId};
use crdtype_tests::CalendarEventCrdt;
use divan::{Bencher, black_box};
use ed25519_dalek::{Signer, Verifier};

type Log = OpLog<CalendarEventCrdt, ManualClock>;

fn main() {
    let (mut log, _) = world();
    let op = edit(&mut log, &SigningKey::from_bytes(&[1; 32]));
    eprintln!(
        "sizes: one-field edit with one parent, unencrypted: {} bytes",
        op.len()
    );
    divan::main();
}

fn world() -> (Log, Log) {
    let wall = ManualClock::new(1_000_000);
    let key = SigningKey::from_bytes(&[1; 32]);
    let (alice, genesis) = Log::create(
        &key,
        [7; 16],
        HybridClock::with_wall_clock(ReplicaId::new(1), wall.clone()),
    );
    let mut bob = Log::open(
        alice.document(),
        HybridClock::with_wall_clock(ReplicaId::new(2), wall),
    );
    bob.receive(&genesis).unwrap();
    (alice, bob)
}

fn edit(log: &mut Log, key: &SigningKey) -> Vec<u8> {
    log.edit(key, |store, context, stamp| {
        store.set_title(context, stamp, "Retro".to_owned())
    })
    .unwrap()
    .unwrap()
}

#[divan::bench]
fn bare_ed25519_sign_64_bytes(bencher: Bencher<'_, '_>) {
    let key = SigningKey::from_bytes(&[1; 32]);
    let message = [5u8; 64];
    bencher.bench_local(|| key.sign(black_box(&message)));
}

/// Strict verification, which receivers run: it also refuses weak keys and malleable
/// signatures.
#[divan::bench]
fn bare_ed25519_verify_strict_64_bytes(bencher: Bencher<'_, '_>) {
    let key = SigningKey::from_bytes(&[1; 32]);
    let message = [5u8; 64];
    let signature = key.sign(&message);
    let public = key.verifying_key();
    bencher.bench_local(|| {
        public
            .verify_strict(black_box(&message), &signature)
            .is_ok()
    });
}

#[divan::bench]
fn bare_ed25519_verify_64_bytes(bencher: Bencher<'_, '_>) {
    let key = SigningKey::from_bytes(&[1; 32]);
    let message = [5u8; 64];
    let signature = key.sign(&message);
    let public = key.verifying_key();
    bencher.bench_local(|| public.verify(black_box(&message), &signature).is_ok());
}

/// A one-field edit: mutator, encoded delta, header, signature, operation bytes, record.
#[divan::bench]
fn edit_sign_encode(bencher: Bencher<'_, '_>) {
    let (mut log, _) = world();
    let key = SigningKey::from_bytes(&[1; 32]);
    bencher.bench_local(|| edit(&mut log, &key));
}

/// Receiving that operation: verify structure and signature, decode, join, record.
#[divan::bench]
fn receive_verify_decode_apply(bencher: Bencher<'_, '_>) {
    let (mut alice, bob) = world();
    let op = edit(&mut alice, &SigningKey::from_bytes(&[1; 32]));
    bencher
        .with_inputs(|| bob.clone())
        .bench_local_refs(|bob| bob.receive(black_box(&op)).unwrap());
}

/// A batch of 1,000 one-field edits received together (signatures verified as one batch)
/// against the same 1,000 received one by one.
#[divan::bench(args = ["batch", "one_by_one"], sample_count = 10, sample_size = 1)]
fn receive_1000(bencher: Bencher<'_, '_>, how: &str) {
    let (mut alice, bob) = world();
    let key = SigningKey::from_bytes(&[1; 32]);
    let ops: Vec<Vec<u8>> = (0..1_000).map(|_| edit(&mut alice, &key)).collect();
    let batch: Vec<&[u8]> = ops.iter().map(Vec::as_slice).collect();
    bencher.with_inputs(|| bob.clone()).bench_local_refs(|bob| {
        if how == "batch" {
            bob.receive_batch(&batch).unwrap();
        } else {
            for op in &batch {
                bob.receive(op).unwrap();
            }
        }
    });
}
