//! One named test per semantic rule of the kernel's CRDTs: update against delete, ties,
//! enable wins, add wins, permanent removal, counters, and the checks on remote input.

use crdtype::{
    AwSet, CausalDotStore, EwFlag, HybridClock, LwwRegister, ManualClock, OrMap, PnCounter,
    ReplicaId, Timestamp, TwoPhaseSet,
};

const ALICE: ReplicaId = ReplicaId::new(1);
const BOB: ReplicaId = ReplicaId::new(2);
const CAROL: ReplicaId = ReplicaId::new(3);

fn clock(replica: ReplicaId, wall: &ManualClock) -> HybridClock<ManualClock> {
    HybridClock::with_wall_clock(replica, wall.clone())
}

/// Exchanges two deltas crosswise and checks that both replicas end equal.
fn exchange<S>(
    a: &mut CausalDotStore<S>,
    b: &mut CausalDotStore<S>,
    from_a: CausalDotStore<S>,
    from_b: CausalDotStore<S>,
) where
    S: crdtype::DotStore + PartialEq + std::fmt::Debug,
{
    a.join(from_b);
    b.join(from_a);
    assert_eq!(a, b, "replicas diverged");
}

#[test]
fn register_update_concurrent_with_delete_survives() {
    let wall = ManualClock::new(1_000);
    let mut alice_clock = clock(ALICE, &wall);
    let mut alice = CausalDotStore::<LwwRegister<String>>::new();
    alice
        .store
        .set(&mut alice.context, alice_clock.now(), "Draft".into());
    let mut bob = alice.clone();

    wall.advance(10);
    let update = alice
        .store
        .set(&mut alice.context, alice_clock.now(), "Final".into());
    // A delete carries no timestamp: what it removes is what it observed, not what is older.
    let delete = bob.store.delete();
    exchange(&mut alice, &mut bob, update, delete);
    assert_eq!(alice.store.get().map(String::as_str), Some("Final"));
}

/// A write copies its value over the replaced one's buffer: shorter, longer and equal texts
/// and lists come out whole, in the register and in the delta, under the new stamp.
#[test]
fn a_register_write_over_a_value_of_another_length_keeps_exactly_the_new_value() {
    let wall = ManualClock::new(1_000);
    let mut clock = clock(ALICE, &wall);
    let mut text = CausalDotStore::<LwwRegister<String>>::new();
    let mut list = CausalDotStore::<LwwRegister<Vec<u16>>>::new();
    let mut peer = CausalDotStore::<LwwRegister<String>>::new();
    for (word, items) in [
        ("a title of some length", vec![1, 2, 3, 4, 5]),
        ("x", vec![]),
        ("x", vec![9]),
        ("a title longer than the first one was", vec![7; 40]),
    ] {
        let stamp = clock.now();
        let delta = text.store.set(&mut text.context, stamp, word.to_owned());
        assert_eq!(text.store.get().map(String::as_str), Some(word));
        assert_eq!(delta.store.get().map(String::as_str), Some(word));
        assert_eq!(text.store.timestamp(), Some(stamp));
        peer.join(delta);
        assert_eq!(peer, text);
        list.store
            .set(&mut list.context, clock.now(), items.clone());
        assert_eq!(list.store.get(), Some(&items));
    }
}

#[test]
fn register_delete_removes_what_it_observed() {
    let wall = ManualClock::new(1_000);
    let mut alice_clock = clock(ALICE, &wall);
    let mut alice = CausalDotStore::<LwwRegister<i64>>::new();
    let write = alice.store.set(&mut alice.context, alice_clock.now(), 7);
    let mut bob = CausalDotStore::new();
    bob.join(write);
    let delete = bob.store.delete();
    alice.join(delete);
    assert_eq!(alice.store.get(), None);
    assert_eq!(alice, bob);
}

#[test]
fn concurrent_register_writes_resolve_by_timestamp_then_replica_id() {
    let wall = ManualClock::new(1_000);
    let (mut alice_clock, mut bob_clock) = (clock(ALICE, &wall), clock(BOB, &wall));
    let mut alice = CausalDotStore::<LwwRegister<&str>>::new();
    let mut bob = CausalDotStore::<LwwRegister<&str>>::new();

    // Same wall time and logical counter: the greater replica id wins.
    let from_alice = alice
        .store
        .set(&mut alice.context, alice_clock.now(), "alice");
    let from_bob = bob.store.set(&mut bob.context, bob_clock.now(), "bob");
    exchange(&mut alice, &mut bob, from_alice, from_bob);
    assert_eq!(alice.store.get(), Some(&"bob"));
    // Both concurrent writes stay live under their dots.
    assert_eq!(alice.store.writes().count(), 2);

    // A later wall time beats a greater replica id.
    let later = Timestamp {
        wall_micros: 2_000,
        logical: 0,
        replica: ALICE,
    };
    let mut carol = CausalDotStore::<LwwRegister<&str>>::new();
    let from_carol = carol.store.set(
        &mut carol.context,
        Timestamp {
            wall_micros: 1_999,
            logical: 9,
            replica: CAROL,
        },
        "carol",
    );
    let mut dave = CausalDotStore::<LwwRegister<&str>>::new();
    let from_dave = dave.store.set(&mut dave.context, later, "later");
    exchange(&mut carol, &mut dave, from_carol, from_dave);
    assert_eq!(carol.store.get(), Some(&"later"));
}

#[test]
fn a_write_that_observed_concurrent_writes_replaces_them_all() {
    let wall = ManualClock::new(1_000);
    let (mut alice_clock, mut bob_clock) = (clock(ALICE, &wall), clock(BOB, &wall));
    let mut alice = CausalDotStore::<LwwRegister<i64>>::new();
    let mut bob = CausalDotStore::<LwwRegister<i64>>::new();
    let from_alice = alice.store.set(&mut alice.context, alice_clock.now(), 1);
    let from_bob = bob.store.set(&mut bob.context, bob_clock.now(), 2);
    exchange(&mut alice, &mut bob, from_alice, from_bob);
    wall.advance(5);
    let resolve = alice.store.set(&mut alice.context, alice_clock.now(), 3);
    bob.join(resolve);
    assert_eq!(bob.store.writes().count(), 1);
    assert_eq!(bob.store.get(), Some(&3));
}

#[test]
fn map_entry_update_concurrent_with_its_removal_keeps_the_entry() {
    let wall = ManualClock::new(1_000);
    let mut alice_clock = clock(ALICE, &wall);
    let mut alice = CausalDotStore::<OrMap<String, LwwRegister<i64>>>::new();
    let stamp = alice_clock.now();
    alice
        .store
        .update(&mut alice.context, "seats".into(), |reg, ctx| {
            reg.set(ctx, stamp, 10)
        });
    let mut bob = alice.clone();

    let stamp = alice_clock.now();
    let update = alice
        .store
        .update(&mut alice.context, "seats".into(), |reg, ctx| {
            reg.set(ctx, stamp, 12)
        });
    let removal = bob.store.remove(&"seats".into());
    exchange(&mut alice, &mut bob, update, removal);
    let seats = alice.store.get(&"seats".into()).and_then(|reg| reg.get());
    assert_eq!(seats, Some(&12));
}

#[test]
fn map_removal_that_observed_every_update_removes_the_entry() {
    let mut alice = CausalDotStore::<OrMap<u8, PnCounter>>::new();
    alice
        .store
        .update(&mut alice.context, 1, |c, ctx| c.increment(ctx, ALICE, 3));
    let mut bob = alice.clone();
    let removal = bob.store.remove(&1);
    alice.join(removal);
    assert!(alice.store.is_empty());
    assert_eq!(alice, bob);
}

#[test]
fn enable_wins_over_a_concurrent_disable() {
    let mut alice = CausalDotStore::<EwFlag>::new();
    alice.store.enable(&mut alice.context, ALICE);
    let mut bob = alice.clone();
    let enable = alice.store.enable(&mut alice.context, ALICE);
    let disable = bob.store.disable();
    exchange(&mut alice, &mut bob, enable, disable);
    assert!(alice.store.is_enabled());

    // A disable that observed every enable turns the flag off everywhere.
    let disable = bob.store.disable();
    alice.join(disable);
    assert!(!alice.store.is_enabled());
}

#[test]
fn add_wins_over_a_concurrent_remove() {
    let mut alice = CausalDotStore::<AwSet<&str>>::new();
    alice.store.insert(&mut alice.context, ALICE, "milk");
    let mut bob = alice.clone();
    let add = alice.store.insert(&mut alice.context, ALICE, "milk");
    let remove = bob.store.remove(&"milk");
    exchange(&mut alice, &mut bob, add, remove);
    assert!(alice.store.contains(&"milk"));

    let remove = bob.store.remove(&"milk");
    alice.join(remove);
    assert!(!alice.store.contains(&"milk"));
}

#[test]
fn two_phase_set_removal_is_permanent() {
    let mut alice = CausalDotStore::<TwoPhaseSet<&str>>::new();
    let mut bob = CausalDotStore::<TwoPhaseSet<&str>>::new();
    let add = alice.store.insert(&mut alice.context, ALICE, "ticket-1");
    bob.join(add);
    let remove = bob.store.remove(&"ticket-1");
    // Concurrent with the removal, Alice adds the element again.
    let re_add = alice.store.insert(&mut alice.context, ALICE, "ticket-1");
    exchange(&mut alice, &mut bob, re_add, remove);
    assert!(!alice.store.contains(&"ticket-1"));
    assert!(alice.store.is_removed(&"ticket-1"));

    // After the removal is known, adding again does nothing, locally or remotely.
    let late = alice.store.insert(&mut alice.context, ALICE, "ticket-1");
    assert!(late.store.is_empty() && late.context.is_empty());
    bob.join(late);
    assert!(!bob.store.contains(&"ticket-1"));
}

#[test]
fn counter_sums_increments_and_decrements_from_all_replicas() {
    let mut replicas: Vec<CausalDotStore<PnCounter>> = vec![CausalDotStore::new(); 3];
    let mut deltas = Vec::new();
    for (replica, (id, up, down)) in
        replicas
            .iter_mut()
            .zip([(ALICE, 10, 1), (BOB, 5, 7), (CAROL, 0, 4)])
    {
        deltas.push(replica.store.increment(&mut replica.context, id, up));
        deltas.push(replica.store.decrement(&mut replica.context, id, down));
        deltas.push(replica.store.increment(&mut replica.context, id, 1));
    }
    for replica in &mut replicas {
        for delta in deltas.iter().rev() {
            replica.join(delta.clone());
        }
    }
    for replica in &replicas {
        assert_eq!(replica.store.value(), (10 - 1 + 1) + (5 - 7 + 1) + (-4 + 1));
    }
}

#[test]
fn an_lww_register_of_an_i64_with_one_write_fits_in_64_bytes() {
    let wall = ManualClock::new(1_000);
    let mut alice_clock = clock(ALICE, &wall);
    let mut register = CausalDotStore::<LwwRegister<i64>>::new();
    register
        .store
        .set(&mut register.context, alice_clock.now(), 42);
    register
        .store
        .set(&mut register.context, alice_clock.now(), 43);
    let bytes = std::mem::size_of_val(&register.store) + register.store.heap_bytes();
    assert!(bytes <= 64, "{bytes} bytes");
    assert_eq!(register.store.heap_bytes(), 0);
}

#[test]
fn a_batch_delta_equals_the_join_of_the_deltas_of_its_edits() {
    use crdtype::{CausalContext, ContextBuilder, DotStore};

    let wall = ManualClock::new(1_000);
    let mut alice_clock = clock(ALICE, &wall);
    // Three fields with history, including a concurrent write from Bob on field 1.
    let mut fields: [LwwRegister<i64>; 3] = Default::default();
    let mut context = CausalContext::new();
    for (value, field) in fields.iter_mut().enumerate() {
        field.set(&mut context, alice_clock.now(), value as i64);
    }
    let mut bob = CausalDotStore::<LwwRegister<i64>>::new();
    let from_bob = bob.store.set(
        &mut bob.context,
        Timestamp {
            wall_micros: 900,
            logical: 0,
            replica: BOB,
        },
        -1,
    );
    fields[1].join(&context, from_bob.store, &from_bob.context);
    context.join(&from_bob.context);

    // The same edits, once one by one and once as a batch.
    let edits: [(usize, Option<i64>); 5] = [
        (0, Some(10)),
        (1, Some(11)),
        (0, Some(12)),
        (2, None),
        (1, None),
    ];
    let mut one_by_one = (fields.clone(), context.clone());
    let mut joined = CausalDotStore::<[LwwRegister<i64>; 3]>::default();
    let stamp = alice_clock.now();
    for &(index, value) in &edits {
        let delta = match value {
            Some(value) => one_by_one.0[index].set(&mut one_by_one.1, stamp, value),
            None => one_by_one.0[index].delete(),
        };
        joined.store[index].join(&joined.context, delta.store, &delta.context);
        joined.context.join(&delta.context);
    }

    let mut batch = CausalDotStore::<[LwwRegister<i64>; 3]>::default();
    let mut builder = ContextBuilder::new();
    for &(index, value) in &edits {
        match value {
            Some(value) => fields[index].set_into(
                &mut context,
                stamp,
                value,
                &mut batch.store[index],
                &mut builder,
            ),
            None => fields[index].delete_into(&mut batch.store[index], &mut builder),
        }
    }
    batch.context = builder.build();

    assert_eq!(fields, one_by_one.0);
    assert_eq!(context, one_by_one.1);
    assert_eq!(batch, joined);
}

#[test]
fn removing_a_map_entry_keeps_the_permanent_removals_of_a_two_phase_set_in_it() {
    let mut alice = CausalDotStore::<OrMap<u8, TwoPhaseSet<u8>>>::new();
    alice
        .store
        .update(&mut alice.context, 1, |set, ctx| set.insert(ctx, ALICE, 7));
    alice
        .store
        .update(&mut alice.context, 1, |set, _| set.remove(&7));
    let before = alice.clone();
    let removal = alice.store.remove(&1);
    assert_eq!(before.joined(removal), alice);
    // The tombstone survived the entry's removal, here as on every replica.
    let again = alice
        .store
        .update(&mut alice.context, 1, |set, ctx| set.insert(ctx, ALICE, 7));
    assert!(again.store.is_empty());
    assert!(alice.store.get(&1).is_some_and(|set| set.is_removed(&7)));
}

#[test]
fn validate_refuses_what_no_honest_replica_sends() {
    use crdtype::{CausalContext, Dot, InvalidDelta, MAX_SEQ};

    let wall = ManualClock::new(1_000);
    let mut alice_clock = clock(ALICE, &wall);
    let mut honest = CausalDotStore::<LwwRegister<i64>>::new();
    let delta = honest.store.set(&mut honest.context, alice_clock.now(), 1);
    assert_eq!(delta.validate(), Ok(()));
    assert_eq!(honest.validate(), Ok(()));

    // A stored dot the context does not cover would never be removed by anyone.
    let outside = CausalDotStore {
        store: delta.store.clone(),
        context: CausalContext::new(),
    };
    assert_eq!(
        outside.validate(),
        Err(InvalidDelta::StoredDotNotInContext(Dot::new(ALICE, 1)))
    );

    // A sequence number near the end of the range would exhaust the replica's dots.
    let huge = Dot::new(BOB, MAX_SEQ + 1);
    let forged = CausalDotStore::<LwwRegister<i64>> {
        store: LwwRegister::default(),
        context: [huge].into_iter().collect(),
    };
    assert_eq!(forged.validate(), Err(InvalidDelta::SequenceTooLarge(huge)));
    assert!(
        forged
            .validate()
            .unwrap_err()
            .to_string()
            .contains("above the limit")
    );
}
