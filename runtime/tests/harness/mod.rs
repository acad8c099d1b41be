//! The shared harness of the join-law property tests: random histories on three replicas
//! and the checks run on them. Used by the kernel's `laws.rs` and, through `#[path]`, by
//! the tests of generated types, so that every CRDT is held to the same laws by the same
//! code.

#![allow(dead_code, unreachable_pub)]

use std::fmt::Debug;

use crdtype::{CausalDotStore, DotStore, HybridClock, ManualClock, ReplicaId};
use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;

pub const REPLICAS: usize = 3;

/// A CRDT under test: how to draw one of its operations and how to apply it locally.
pub trait Subject {
    type Store: DotStore + Clone + PartialEq + Debug;
    type Op: Clone + Debug + 'static;

    fn op() -> BoxedStrategy<Self::Op>;

    fn apply(replica: &mut Replica<Self::Store>, op: &Self::Op) -> CausalDotStore<Self::Store>;
}

/// One replica of the history: its state and its clock.
pub struct Replica<S> {
    pub state: CausalDotStore<S>,
    pub clock: HybridClock<ManualClock>,
}

impl<S: DotStore> Replica<S> {
    pub fn id(&self) -> ReplicaId {
        self.clock.replica()
    }
}

#[derive(Clone, Debug)]
pub enum Step<Op> {
    /// A local operation on a replica; its delta goes to that replica's outbox.
    Local { replica: usize, op: Op },
    /// Delivers one delta from one replica's outbox (index taken modulo its length).
    Deliver { from: usize, to: usize, pick: usize },
    /// Joins one replica's whole state into another.
    Sync { from: usize, to: usize },
    /// Moves the shared wall clock: forward, not at all, or back.
    Tick { micros: i8 },
}

pub fn steps<T: Subject>() -> impl Strategy<Value = Vec<Step<T::Op>>> {
    let replica = 0..REPLICAS;
    let step = prop_oneof![
        4 => (replica.clone(), T::op()).prop_map(|(replica, op)| Step::Local { replica, op }),
        2 => (replica.clone(), replica.clone(), any::<usize>())
            .prop_map(|(from, to, pick)| Step::Deliver { from, to, pick }),
        1 => (replica.clone(), replica).prop_map(|(from, to)| Step::Sync { from, to }),
        1 => any::<i8>().prop_map(|micros| Step::Tick { micros }),
    ];
    prop::collection::vec(step, 1..40)
}

/// A local mutation and what it did.
pub struct Mutation<S> {
    before: CausalDotStore<S>,
    delta: CausalDotStore<S>,
    after: CausalDotStore<S>,
}

pub struct History<S> {
    finals: Vec<CausalDotStore<S>>,
    mutations: Vec<Mutation<S>>,
}

impl<S> History<S> {
    /// Every delta of the history, in the order the mutations made them.
    pub fn deltas(&self) -> impl Iterator<Item = &CausalDotStore<S>> {
        self.mutations.iter().map(|mutation| &mutation.delta)
    }

    /// Every final state and every delta of the history.
    pub fn states_and_deltas(&self) -> impl Iterator<Item = &CausalDotStore<S>> {
        self.finals.iter().chain(self.deltas())
    }
}

pub fn run<T: Subject>(steps: &[Step<T::Op>]) -> History<T::Store> {
    let wall = ManualClock::new(1_000_000);
    let mut replicas: Vec<Replica<T::Store>> = (0..REPLICAS)
        .map(|index| Replica {
            state: CausalDotStore::new(),
            clock: HybridClock::with_wall_clock(ReplicaId::new(index as u64 + 1), wall.clone()),
        })
        .collect();
    let mut outboxes: Vec<Vec<CausalDotStore<T::Store>>> = vec![Vec::new(); REPLICAS];
    let mut mutations = Vec::new();
    for step in steps {
        match step {
            Step::Local { replica, op } => {
                let before = replicas[*replica].state.clone();
                let delta = T::apply(&mut replicas[*replica], op);
                let after = replicas[*replica].state.clone();
                outboxes[*replica].push(delta.clone());
                mutations.push(Mutation {
                    before,
                    delta,
                    after,
                });
            }
            Step::Deliver { from, to, pick } => {
                if let Some(delta) = outboxes[*from].get(pick % outboxes[*from].len().max(1)) {
                    replicas[*to].state.join(delta.clone());
                }
            }
            Step::Sync { from, to } => {
                let state = replicas[*from].state.clone();
                replicas[*to].state.join(state);
            }
            Step::Tick { micros } => {
                let now = wall_now(&wall);
                wall.set(now.saturating_add_signed(i64::from(*micros)));
            }
        }
    }
    History {
        finals: replicas.into_iter().map(|replica| replica.state).collect(),
        mutations,
    }
}

fn wall_now(wall: &ManualClock) -> u64 {
    use crdtype::WallClock;
    wall.now_micros()
}

pub fn join_all<S: DotStore + Clone>(states: &[CausalDotStore<S>]) -> CausalDotStore<S> {
    states
        .iter()
        .cloned()
        .fold(CausalDotStore::new(), CausalDotStore::joined)
}

/// A deterministic shuffle with duplicates, driven by proptest's seed.
fn delivery_order(count: usize, seed: u64) -> Vec<usize> {
    let mut state = seed | 1;
    let mut next = move || {
        // xorshift64*
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let mut order: Vec<usize> = (0..count).collect();
    for _ in 0..count / 3 + 1 {
        if count > 0 {
            order.push(next() as usize % count);
        }
    }
    for i in (1..order.len()).rev() {
        order.swap(i, next() as usize % (i + 1));
    }
    order
}

pub fn check_join_laws<S: DotStore + Clone + PartialEq + Debug>(
    history: &History<S>,
) -> Result<(), TestCaseError> {
    let [a, b, c] = [0, 1, 2].map(|i| history.finals[i].clone());
    prop_assert_eq!(
        a.clone().joined(b.clone()),
        b.clone().joined(a.clone()),
        "commutativity"
    );
    prop_assert_eq!(
        a.clone().joined(b.clone()).joined(c.clone()),
        a.clone().joined(b.clone().joined(c.clone())),
        "associativity"
    );
    prop_assert_eq!(a.clone().joined(a.clone()), a.clone(), "idempotence");
    prop_assert_eq!(
        a.clone().joined(CausalDotStore::new()),
        a,
        "bottom is the identity"
    );
    Ok(())
}

pub fn check_deltas<S: DotStore + Clone + PartialEq + Debug>(
    history: &History<S>,
) -> Result<(), TestCaseError> {
    for state in &history.finals {
        prop_assert_eq!(state.validate(), Ok(()), "honest states validate");
    }
    for mutation in &history.mutations {
        prop_assert_eq!(mutation.delta.validate(), Ok(()), "honest deltas validate");
        prop_assert_eq!(
            &mutation.before.clone().joined(mutation.delta.clone()),
            &mutation.after,
            "the mutation equals joining its delta"
        );
        for other in &history.finals {
            let knows_before = other.clone().joined(mutation.before.clone());
            prop_assert_eq!(
                knows_before.clone().joined(mutation.delta.clone()),
                knows_before.joined(mutation.after.clone()),
                "joining a delta equals joining the state it came from"
            );
        }
    }
    Ok(())
}

pub fn check_convergence<S: DotStore + Clone + PartialEq + Debug>(
    history: &History<S>,
    seeds: (u64, u64),
) -> Result<(), TestCaseError> {
    let everything = join_all(&history.finals);
    let deltas: Vec<_> = history.mutations.iter().map(|m| m.delta.clone()).collect();
    for seed in [seeds.0, seeds.1] {
        let mut replica = CausalDotStore::new();
        for index in delivery_order(deltas.len(), seed) {
            replica.join(deltas[index].clone());
        }
        prop_assert_eq!(&replica, &everything, "every delivery order converges");
    }
    Ok(())
}

/// Three property tests per subject: join laws, deltas, convergence.
macro_rules! laws {
    ($($name:ident: $subject:ty;)*) => {$(
        mod $name {
            use super::*;

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(256))]

                #[test]
                fn join_is_commutative_associative_and_idempotent(steps in steps::<$subject>()) {
                    check_join_laws(&run::<$subject>(&steps))?;
                }

                #[test]
                fn a_delta_acts_as_the_state_it_came_from(steps in steps::<$subject>()) {
                    check_deltas(&run::<$subject>(&steps))?;
                }

                #[test]
                fn any_delivery_order_with_duplicates_converges(
                    steps in steps::<$subject>(),
                    seeds in (any::<u64>(), any::<u64>()),
                ) {
                    check_convergence(&run::<$subject>(&steps), seeds)?;
                }
            }
        }
    )*};
}
