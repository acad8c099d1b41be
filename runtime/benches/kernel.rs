//! Kernel benchmarks: `cargo bench -p crdtype`. Medians are quoted in the README.

use crdtype::{
    CausalContext, CausalDotStore, ContextBuilder, Dot, HybridClock, LwwRegister, OrMap, ReplicaId,
    Timestamp,
};
use divan::{Bencher, black_box};

fn main() {
    divan::main();
}

const ALICE: ReplicaId = ReplicaId::new(1);
const BOB: ReplicaId = ReplicaId::new(2);

/// One local write as an app makes it: read the hybrid clock, take a dot, replace the
/// register's write and build the delta.
#[divan::bench]
fn lww_set_with_clock(bencher: Bencher<'_, '_>) {
    let mut clock = HybridClock::new(ALICE);
    let mut register = CausalDotStore::<LwwRegister<i64>>::new();
    let mut value = 0;
    bencher.bench_local(|| {
        value += 1;
        let stamp = clock.now();
        register
            .store
            .set(&mut register.context, stamp, black_box(value))
    });
}

/// A batch of edits to ten fields of one document sharing one clock read and one delta;
/// divide the median by 10 for the cost per field. (A fixed sample size: divan would
/// otherwise time single iterations, near its timer's precision. The delta is dropped in
/// the loop: divan's deferred drop would copy its 560 bytes into a buffer of every
/// sample's outputs, a cost of the measurement, about a tenth of the batch.)
#[divan::bench(sample_size = 256)]
fn lww_set_batch_of_10_fields(bencher: Bencher<'_, '_>) {
    let mut clock = HybridClock::new(ALICE);
    let mut document = CausalDotStore::<[LwwRegister<i64>; 10]>::default();
    let mut builder = ContextBuilder::new();
    let mut value = 0;
    bencher.counter(10u32).bench_local(|| {
        value += 1;
        let stamp = clock.now();
        let mut delta = CausalDotStore::<[LwwRegister<i64>; 10]>::default();
        for (field, delta_field) in document.store.iter_mut().zip(&mut delta.store) {
            field.set_into(
                &mut document.context,
                stamp,
                black_box(value),
                delta_field,
                &mut builder,
            );
        }
        delta.context = builder.build();
        drop(black_box(delta));
    });
}

type Map = CausalDotStore<OrMap<u32, LwwRegister<i64>>>;

/// Two replicas of a 10,000-entry map that share a synced base; each then edits the same
/// half of the entries concurrently.
fn concurrently_edited_maps() -> (Map, Map) {
    const ENTRIES: u32 = 10_000;
    let mut alice_clock = HybridClock::new(ALICE);
    let mut bob_clock = HybridClock::new(BOB);
    let mut alice = Map::new();
    for key in 0..ENTRIES {
        let stamp = alice_clock.now();
        alice
            .store
            .update(&mut alice.context, key, |reg, ctx| reg.set(ctx, stamp, 0));
    }
    let mut bob = alice.clone();
    for key in (0..ENTRIES).step_by(2) {
        let stamp = alice_clock.now();
        alice
            .store
            .update(&mut alice.context, key, |reg, ctx| reg.set(ctx, stamp, 1));
        let stamp = bob_clock.now();
        bob.store
            .update(&mut bob.context, key, |reg, ctx| reg.set(ctx, stamp, 2));
    }
    (alice, bob)
}

#[divan::bench]
fn or_map_join_10k_half_concurrent(bencher: Bencher<'_, '_>) {
    let (alice, bob) = concurrently_edited_maps();
    bencher
        .with_inputs(|| (alice.clone(), bob.clone()))
        .bench_local_values(|(mut alice, bob)| {
            alice.join(bob);
            alice
        });
}

/// A delta into a 10,000-entry map from a replica that edited the entry twice since the
/// last sync, sent only the second delta: its context covers the first write, which the
/// receiver never saw. The join visits the delta's one key.
#[divan::bench]
fn or_map_join_delta_replacing_an_unseen_write_10k(bencher: Bencher<'_, '_>) {
    let (alice, _) = concurrently_edited_maps();
    let mut editor = alice.clone();
    let mut clock = HybridClock::new(BOB);
    let mut edit = |value| {
        let stamp = clock.now();
        editor.store.update(&mut editor.context, 1, |reg, ctx| {
            reg.set(ctx, stamp, value)
        })
    };
    edit(3);
    let delta = edit(4);
    bencher
        .with_inputs(|| (alice.clone(), delta.clone()))
        .bench_local_values(|(mut alice, delta)| {
            alice.join(delta);
            alice
        });
}

/// A context that has seen 100 dots from each of 1,000 replicas, plus a few out of order.
fn context_of_1000_replicas() -> CausalContext {
    let mut context = CausalContext::new();
    for replica in 0..1_000 {
        for seq in 1..=100 {
            context.insert(Dot::new(ReplicaId::new(replica * 7919), seq));
        }
        if replica % 10 == 0 {
            context.insert(Dot::new(ReplicaId::new(replica * 7919), 150));
        }
    }
    context
}

#[divan::bench(sample_size = 1000)]
fn causal_context_insert_1000_replicas(bencher: Bencher<'_, '_>) {
    let mut context = context_of_1000_replicas();
    let mut replica = 0u64;
    bencher.bench_local(|| {
        replica = (replica + 389) % 1_000;
        let dot = context.next_dot(ReplicaId::new(replica * 7919));
        context.insert(black_box(dot));
    });
}

#[divan::bench(sample_size = 1000)]
fn causal_context_contains_1000_replicas(bencher: Bencher<'_, '_>) {
    let context = context_of_1000_replicas();
    let mut probe = 0u64;
    bencher.bench_local(|| {
        probe = probe.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let dot = Dot::new(ReplicaId::new((probe % 1_000) * 7919), probe % 200);
        context.contains(black_box(dot))
    });
}

/// Reference point: the hand-written `(value, stamp)` field with the same clock read.
#[divan::bench]
fn reference_value_and_stamp_field(bencher: Bencher<'_, '_>) {
    let mut clock = HybridClock::new(ALICE);
    let mut field: (i64, Timestamp) = (0, Timestamp::default());
    let mut value = 0;
    bencher.bench_local(|| {
        value += 1;
        field = (black_box(value), clock.now());
    });
}
