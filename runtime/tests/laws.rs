//! Property tests of the join laws for every CRDT in the kernel, over one shared harness.
//!
//! For each type, proptest draws a random history on three replicas: local operations,
//! deltas delivered late, out of order or twice, and full-state syncs. From the resulting
//! states and deltas it checks:
//!
//! - join is commutative, associative and idempotent on the three final states;
//! - every state and delta passes `validate`, the check run on remote input;
//! - every delta, joined into any state that already has the state it was made from,
//!   gives the same result as joining the full state after the mutation;
//! - delivering every delta, in two random orders with duplicates, converges to the same
//!   state as joining all final states.

#[macro_use]
mod harness;

use std::fmt::Debug;

use crdtype::{
    AwSet, CausalContext, CausalDotStore, ContextBuilder, EwFlag, HybridClock, LwwRegister,
    ManualClock, MvRegister, OrMap, PnCounter, ReplicaId, TwoPhaseSet,
};
use harness::*;
use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;

laws! {
    lww_register: Lww;
    mv_register: Mv;
    pn_counter: Counter;
    aw_set: AddWins;
    two_phase_set: TwoPhase;
    ew_flag: Flag;
    or_map_of_registers: MapOfRegisters;
    or_map_of_sets: MapOfSets;
    or_map_of_maps_of_counters: MapOfMaps;
    or_map_of_two_phase_sets: MapOfTwoPhaseSets;
    or_map_of_flags: MapOfFlags;
    or_map_of_mv_registers: MapOfMvRegisters;
    lww_register_batches: LwwBatches;
}

/// Small domains, so that replicas touch the same values and keys.
fn small() -> impl Strategy<Value = u8> {
    0..4u8
}

#[derive(Clone, Debug)]
enum RegisterOp {
    Set(u8),
    Delete,
}

fn register_op() -> BoxedStrategy<RegisterOp> {
    prop_oneof![3 => small().prop_map(RegisterOp::Set), 1 => Just(RegisterOp::Delete)].boxed()
}

fn apply_lww(
    register: &mut LwwRegister<u8>,
    context: &mut CausalContext,
    clock: &mut HybridClock<ManualClock>,
    op: &RegisterOp,
) -> CausalDotStore<LwwRegister<u8>> {
    match op {
        RegisterOp::Set(value) => register.set(context, clock.now(), *value),
        RegisterOp::Delete => register.delete(),
    }
}

struct Lww;
impl Subject for Lww {
    type Store = LwwRegister<u8>;
    type Op = RegisterOp;
    fn op() -> BoxedStrategy<RegisterOp> {
        register_op()
    }
    fn apply(replica: &mut Replica<Self::Store>, op: &RegisterOp) -> CausalDotStore<Self::Store> {
        let state = &mut replica.state;
        apply_lww(&mut state.store, &mut state.context, &mut replica.clock, op)
    }
}

#[derive(Clone, Debug)]
enum CounterOp {
    Increment(u8),
    Decrement(u8),
}

fn counter_op() -> BoxedStrategy<CounterOp> {
    prop_oneof![
        any::<u8>().prop_map(CounterOp::Increment),
        any::<u8>().prop_map(CounterOp::Decrement)
    ]
    .boxed()
}

fn apply_counter(
    counter: &mut PnCounter,
    context: &mut CausalContext,
    replica: ReplicaId,
    op: &CounterOp,
) -> CausalDotStore<PnCounter> {
    match op {
        CounterOp::Increment(by) => counter.increment(context, replica, u64::from(*by)),
        CounterOp::Decrement(by) => counter.decrement(context, replica, u64::from(*by)),
    }
}

#[derive(Clone, Debug)]
enum SetOp {
    Insert(u8),
    Remove(u8),
}

fn set_op() -> BoxedStrategy<SetOp> {
    prop_oneof![2 => small().prop_map(SetOp::Insert), 1 => small().prop_map(SetOp::Remove)].boxed()
}

fn apply_aw_set(
    set: &mut AwSet<u8>,
    context: &mut CausalContext,
    replica: ReplicaId,
    op: &SetOp,
) -> CausalDotStore<AwSet<u8>> {
    match op {
        SetOp::Insert(value) => set.insert(context, replica, *value),
        SetOp::Remove(value) => set.remove(value),
    }
}

#[derive(Clone, Debug)]
enum FlagOp {
    Enable,
    Disable,
}

#[derive(Clone, Debug)]
enum MapOp<Inner> {
    Update(u8, Inner),
    Remove(u8),
}

fn map_op<Inner: Debug + 'static>(inner: BoxedStrategy<Inner>) -> BoxedStrategy<MapOp<Inner>> {
    prop_oneof![
        3 => (small(), inner).prop_map(|(key, op)| MapOp::Update(key, op)),
        1 => small().prop_map(MapOp::Remove),
    ]
    .boxed()
}

struct MapOfRegisters;
impl Subject for MapOfRegisters {
    type Store = OrMap<u8, LwwRegister<u8>>;
    type Op = MapOp<RegisterOp>;
    fn op() -> BoxedStrategy<Self::Op> {
        map_op(register_op())
    }
    fn apply(replica: &mut Replica<Self::Store>, op: &Self::Op) -> CausalDotStore<Self::Store> {
        let state = &mut replica.state;
        let clock = &mut replica.clock;
        match op {
            MapOp::Update(key, op) => state.store.update(&mut state.context, *key, |reg, ctx| {
                apply_lww(reg, ctx, clock, op)
            }),
            MapOp::Remove(key) => state.store.remove(key),
        }
    }
}

struct MapOfMaps;
impl Subject for MapOfMaps {
    type Store = OrMap<u8, OrMap<u8, PnCounter>>;
    type Op = MapOp<MapOp<CounterOp>>;
    fn op() -> BoxedStrategy<Self::Op> {
        map_op(map_op(counter_op()))
    }
    fn apply(replica: &mut Replica<Self::Store>, op: &Self::Op) -> CausalDotStore<Self::Store> {
        let id = replica.id();
        let state = &mut replica.state;
        match op {
            MapOp::Update(key, op) => {
                state
                    .store
                    .update(&mut state.context, *key, |inner, ctx| match op {
                        MapOp::Update(key, op) => inner.update(ctx, *key, |counter, ctx| {
                            apply_counter(counter, ctx, id, op)
                        }),
                        MapOp::Remove(key) => inner.remove(key),
                    })
            }
            MapOp::Remove(key) => state.store.remove(key),
        }
    }
}

fn apply_mv(
    register: &mut MvRegister<u8>,
    context: &mut CausalContext,
    replica: ReplicaId,
    op: &RegisterOp,
) -> CausalDotStore<MvRegister<u8>> {
    match op {
        RegisterOp::Set(value) => register.write(context, replica, *value),
        RegisterOp::Delete => register.clear(),
    }
}

fn apply_two_phase(
    set: &mut TwoPhaseSet<u8>,
    context: &mut CausalContext,
    replica: ReplicaId,
    op: &SetOp,
) -> CausalDotStore<TwoPhaseSet<u8>> {
    match op {
        SetOp::Insert(value) => set.insert(context, replica, *value),
        SetOp::Remove(value) => set.remove(value),
    }
}

fn apply_flag(
    flag: &mut EwFlag,
    context: &mut CausalContext,
    replica: ReplicaId,
    op: &FlagOp,
) -> CausalDotStore<EwFlag> {
    match op {
        FlagOp::Enable => flag.enable(context, replica),
        FlagOp::Disable => flag.disable(),
    }
}

fn flag_op() -> BoxedStrategy<FlagOp> {
    prop_oneof![Just(FlagOp::Enable), Just(FlagOp::Disable)].boxed()
}

/// A CRDT kind driven by its `apply_*` function.
macro_rules! subject {
    ($name:ident, $store:ty, $op:ty, $strategy:expr, $apply:ident) => {
        struct $name;
        impl Subject for $name {
            type Store = $store;
            type Op = $op;
            fn op() -> BoxedStrategy<Self::Op> {
                $strategy
            }
            fn apply(
                replica: &mut Replica<Self::Store>,
                op: &Self::Op,
            ) -> CausalDotStore<Self::Store> {
                let id = replica.id();
                let state = &mut replica.state;
                $apply(&mut state.store, &mut state.context, id, op)
            }
        }
    };
}

subject!(Mv, MvRegister<u8>, RegisterOp, register_op(), apply_mv);
subject!(Counter, PnCounter, CounterOp, counter_op(), apply_counter);
subject!(AddWins, AwSet<u8>, SetOp, set_op(), apply_aw_set);
subject!(TwoPhase, TwoPhaseSet<u8>, SetOp, set_op(), apply_two_phase);
subject!(Flag, EwFlag, FlagOp, flag_op(), apply_flag);

/// A map whose values are one CRDT kind, with that kind's operations on its entries.
macro_rules! map_subject {
    ($name:ident, $value:ty, $op:ty, $strategy:expr, $apply:ident) => {
        struct $name;
        impl Subject for $name {
            type Store = OrMap<u8, $value>;
            type Op = MapOp<$op>;
            fn op() -> BoxedStrategy<Self::Op> {
                map_op($strategy)
            }
            fn apply(
                replica: &mut Replica<Self::Store>,
                op: &Self::Op,
            ) -> CausalDotStore<Self::Store> {
                let id = replica.id();
                let state = &mut replica.state;
                match op {
                    MapOp::Update(key, op) => {
                        state.store.update(&mut state.context, *key, |value, ctx| {
                            $apply(value, ctx, id, op)
                        })
                    }
                    MapOp::Remove(key) => state.store.remove(key),
                }
            }
        }
    };
}

map_subject!(
    MapOfTwoPhaseSets,
    TwoPhaseSet<u8>,
    SetOp,
    set_op(),
    apply_two_phase
);
map_subject!(MapOfSets, AwSet<u8>, SetOp, set_op(), apply_aw_set);
map_subject!(MapOfFlags, EwFlag, FlagOp, flag_op(), apply_flag);
map_subject!(
    MapOfMvRegisters,
    MvRegister<u8>,
    RegisterOp,
    register_op(),
    apply_mv
);

/// Batches of register operations through `set_into` and `delete_into`: the batch's delta
/// must obey the same laws as single-edit deltas.
struct LwwBatches;
impl Subject for LwwBatches {
    type Store = LwwRegister<u8>;
    type Op = Vec<RegisterOp>;
    fn op() -> BoxedStrategy<Self::Op> {
        prop::collection::vec(register_op(), 1..4).boxed()
    }
    fn apply(replica: &mut Replica<Self::Store>, ops: &Self::Op) -> CausalDotStore<Self::Store> {
        let state = &mut replica.state;
        let stamp = replica.clock.now();
        let mut delta = CausalDotStore::new();
        let mut builder = ContextBuilder::new();
        for op in ops {
            match op {
                RegisterOp::Set(value) => state.store.set_into(
                    &mut state.context,
                    stamp,
                    *value,
                    &mut delta.store,
                    &mut builder,
                ),
                RegisterOp::Delete => state.store.delete_into(&mut delta.store, &mut builder),
            }
        }
        delta.context = builder.build();
        delta
    }
}
