//! Three versions of one schema in one program: `Task` v1 (a title and an estimate as
//! text), v2 (adds a `done` flag) and v3 (the estimate becomes minutes under a new id, with
//! upgrade and downgrade functions). Replicas on each version edit concurrently and
//! exchange encoded deltas and states in random order, with duplicates; the v2 replica
//! never sends to the v3 one directly, so its edits reach it only through the v1 replica,
//! which does not know the `done` field. After a final exchange every replica shows the
//! same values for the fields it knows, and all hold the same state.

use crdtype::{CausalDotStore, HybridClock, ManualClock, ReplicaId, TypedStore, WallClock};
use crdtype_tests::versions::task_v3::minutes_from_text;
use crdtype_tests::versions::{task_v1, task_v2, task_v3};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    Title(u8),
    Estimate(u8),
    DeleteEstimate,
    Done(bool),
}

#[derive(Clone, Debug)]
enum Step {
    Local { replica: usize, op: Op },
    Deliver { from: usize, to: usize, pick: usize },
    Sync { from: usize, to: usize },
    Tick { micros: i8 },
}

/// Replicas 0, 1 and 2 run versions 1, 2 and 3.
const V2: usize = 1;
const V3: usize = 2;

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..4u8).prop_map(Op::Title),
        (0..4u8).prop_map(Op::Estimate),
        Just(Op::DeleteEstimate),
        any::<bool>().prop_map(Op::Done),
    ]
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let replica = 0..3usize;
    let step = prop_oneof![
        4 => (replica.clone(), op()).prop_map(|(replica, op)| Step::Local { replica, op }),
        3 => (replica.clone(), replica.clone(), any::<usize>())
            .prop_map(|(from, to, pick)| Step::Deliver { from, to, pick }),
        1 => (replica.clone(), replica).prop_map(|(from, to)| Step::Sync { from, to }),
        1 => any::<i8>().prop_map(|micros| Step::Tick { micros }),
    ];
    prop::collection::vec(step, 1..60)
}

/// What a replica shows of the fields it knows; the estimate in minutes.
#[derive(Debug, PartialEq)]
struct View {
    title: Option<String>,
    estimate: Option<u32>,
    done: Option<bool>,
}

enum Task {
    V1(CausalDotStore<task_v1::TaskCrdt>),
    V2(CausalDotStore<task_v2::TaskCrdt>),
    V3(CausalDotStore<task_v3::TaskCrdt>),
}

fn received<S: TypedStore>(state: &mut CausalDotStore<S>, bytes: &[u8]) {
    let delta = CausalDotStore::<S>::decode(bytes).expect("every version reads every other");
    state.join(delta);
}

impl Task {
    fn receive(&mut self, bytes: &[u8]) {
        match self {
            Task::V1(state) => received(state, bytes),
            Task::V2(state) => received(state, bytes),
            Task::V3(state) => received(state, bytes),
        }
    }

    fn encode(&self) -> Vec<u8> {
        match self {
            Task::V1(state) => state.encode(),
            Task::V2(state) => state.encode(),
            Task::V3(state) => state.encode(),
        }
    }

    /// Applies `op` and returns the encoded delta; `None` when this version lacks the
    /// field.
    fn apply(&mut self, op: &Op, clock: &mut HybridClock<ManualClock>) -> Option<Vec<u8>> {
        let (stamp, id) = (clock.now(), clock.replica());
        let text = |minutes: u8| format!("{minutes}m");
        Some(match self {
            Task::V1(CausalDotStore { store, context }) => match op {
                Op::Title(n) => store.set_title(context, stamp, format!("t{n}")).encode(),
                Op::Estimate(n) => store.set_estimate(context, stamp, text(*n)).encode(),
                Op::DeleteEstimate => store.delete_estimate().encode(),
                Op::Done(_) => return None,
            },
            Task::V2(CausalDotStore { store, context }) => match op {
                Op::Title(n) => store.set_title(context, stamp, format!("t{n}")).encode(),
                Op::Estimate(n) => store.set_estimate(context, stamp, text(*n)).encode(),
                Op::DeleteEstimate => store.delete_estimate().encode(),
                Op::Done(true) => store.enable_done(context, id).encode(),
                Op::Done(false) => store.disable_done().encode(),
            },
            Task::V3(CausalDotStore { store, context }) => match op {
                Op::Title(n) => store.set_title(context, stamp, format!("t{n}")).encode(),
                Op::Estimate(n) => store
                    .set_estimate_minutes(context, stamp, u32::from(*n))
                    .encode(),
                Op::DeleteEstimate => store.delete_estimate_minutes().encode(),
                Op::Done(true) => store.enable_done(context, id).encode(),
                Op::Done(false) => store.disable_done().encode(),
            },
        })
    }

    fn view(&self) -> View {
        match self {
            Task::V1(state) => View {
                title: state.store.title().cloned(),
                estimate: state.store.estimate().cloned().map(minutes_from_text),
                done: None,
            },
            Task::V2(state) => View {
                title: state.store.title().cloned(),
                estimate: state.store.estimate().cloned().map(minutes_from_text),
                done: Some(state.store.done()),
            },
            Task::V3(state) => View {
                title: state.store.title().cloned(),
                estimate: state.store.estimate_minutes(),
                done: Some(state.store.done()),
            },
        }
    }
}

/// Whether messages may go `from` -> `to`: not to oneself, and not from the v2 replica to
/// the v3 one.
fn linked(from: usize, to: usize) -> bool {
    from != to && !(from == V2 && to == V3)
}

fn run(steps: &[Step]) -> Vec<Task> {
    let wall = ManualClock::new(1_000_000);
    let mut clocks: Vec<_> = (1..=3)
        .map(|id| HybridClock::with_wall_clock(ReplicaId::new(id), wall.clone()))
        .collect();
    let mut tasks = vec![
        Task::V1(CausalDotStore::new()),
        Task::V2(CausalDotStore::new()),
        Task::V3(CausalDotStore::new()),
    ];
    let mut outboxes: Vec<Vec<Vec<u8>>> = vec![Vec::new(); 3];
    for step in steps {
        match *step {
            Step::Local { replica, ref op } => {
                if let Some(delta) = tasks[replica].apply(op, &mut clocks[replica]) {
                    outboxes[replica].push(delta);
                }
            }
            Step::Deliver { from, to, pick } if linked(from, to) => {
                let outbox = &outboxes[from];
                if let Some(bytes) = outbox.get(pick % outbox.len().max(1)) {
                    tasks[to].receive(bytes);
                }
            }
            Step::Sync { from, to } if linked(from, to) => {
                let bytes = tasks[from].encode();
                tasks[to].receive(&bytes);
            }
            Step::Tick { micros } => {
                wall.set(wall.now_micros().saturating_add_signed(i64::from(micros)));
            }
            Step::Deliver { .. } | Step::Sync { .. } => {}
        }
    }
    // The final exchange, through the v1 replica.
    for (from, to) in [(1, 0), (2, 0), (0, 1), (0, 2)] {
        let bytes = tasks[from].encode();
        tasks[to].receive(&bytes);
    }
    tasks
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn replicas_on_three_versions_converge(steps in steps()) {
        let tasks = run(&steps);
        let [v1, v2, v3] = [0, 1, 2].map(|index| tasks[index].view());
        prop_assert_eq!(&v1.title, &v3.title);
        prop_assert_eq!(&v2.title, &v3.title);
        prop_assert_eq!(v1.estimate, v3.estimate, "v1 and v3 show the same estimate");
        prop_assert_eq!(v2.estimate, v3.estimate, "v2 and v3 show the same estimate");
        prop_assert_eq!(v2.done, v3.done, "v2's `done` reached v3 through v1");
        let states: Vec<_> = tasks
            .iter()
            .map(|task| CausalDotStore::<task_v3::TaskCrdt>::decode(&task.encode()).unwrap())
            .collect();
        prop_assert_eq!(&states[0], &states[2], "v1 holds all of v3's state");
        prop_assert_eq!(&states[1], &states[2], "v2 holds all of v3's state");
    }
}

#[test]
fn the_v3_replica_reads_v1_estimates_and_v1_reads_v3_ones() {
    let mut clock = HybridClock::with_wall_clock(ReplicaId::new(1), ManualClock::new(1_000));
    let v1 = task_v1::TaskCrdt::from_value(
        &task_v1::Task {
            title: "Write".to_owned(),
            estimate: "45m".to_owned(),
        },
        clock.now(),
    );
    let mut v3 = CausalDotStore::<task_v3::TaskCrdt>::decode(&v1.encode()).unwrap();
    assert_eq!(v3.store.estimate_minutes(), Some(45), "upgraded");
    let delta = v3
        .store
        .set_estimate_minutes(&mut v3.context, clock.now(), 90);
    let mut v1 = v1;
    v1.join(CausalDotStore::decode(&delta.encode()).unwrap());
    assert_eq!(v1.store.to_value().estimate, "90m", "downgraded");
}
