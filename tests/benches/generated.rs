//! Generated code against the kernel it expands to, measured in the same run:
//! `cargo bench -p crdtype-tests`. Medians are quoted in the README.
//!
//! The write benchmarks drop each delta inside the timed closure, after `black_box`: a
//! returned output would be stored by divan until the sample ends, which charges the
//! document's larger delta (one slot per field) for cache traffic that a real caller,
//! who encodes and drops it, never pays.

use crdtype::{CausalDotStore, HybridClock, LwwRegister, ManualClock, ReplicaId};
use crdtype_tests::{CalendarEvent, CalendarEventCrdt};
use divan::{Bencher, black_box};

fn main() {
    divan::main();
}

const ALICE: ReplicaId = ReplicaId::new(1);
const BOB: ReplicaId = ReplicaId::new(2);

/// The kernel's register set, clock read included: the baseline of `set_title`.
#[divan::bench(sample_size = 256)]
fn kernel_lww_set(bencher: Bencher<'_, '_>) {
    let mut clock = HybridClock::new(ALICE);
    let mut title = CausalDotStore::<LwwRegister<i64>>::new();
    let mut value = 0;
    bencher.bench_local(|| {
        value += 1;
        let stamp = clock.now();
        let delta = title.store.set(&mut title.context, stamp, black_box(value));
        black_box(&delta);
    });
}

/// The generated `set_utc_time` on a `CalendarEventCrdt`: the same register write plus
/// wrapping the delta in the document type.
#[divan::bench(sample_size = 256)]
fn generated_set_field(bencher: Bencher<'_, '_>) {
    let mut clock = HybridClock::new(ALICE);
    let mut event = CausalDotStore::<CalendarEventCrdt>::new();
    let mut value = 0;
    bencher.bench_local(|| {
        value += 1;
        let stamp = clock.now();
        let delta = event
            .store
            .set_utc_time(&mut event.context, stamp, black_box(value));
        black_box(&delta);
    });
}

/// The kernel's register set of a text, clock read included: the baseline of
/// `set_title`, the issue's own example. Each write's text is a fresh `String`, as a
/// caller's would be.
#[divan::bench(sample_size = 256)]
fn kernel_lww_set_text(bencher: Bencher<'_, '_>) {
    let mut clock = HybridClock::new(ALICE);
    let mut title = CausalDotStore::<LwwRegister<String>>::new();
    bencher.bench_local(|| {
        let stamp = clock.now();
        let text = black_box("Retro").to_owned();
        let delta = title.store.set(&mut title.context, stamp, text);
        black_box(&delta);
    });
}

/// The generated `set_title` on a `CalendarEventCrdt`: the same register write plus
/// wrapping the delta in the document type.
#[divan::bench(sample_size = 256)]
fn generated_set_title(bencher: Bencher<'_, '_>) {
    let mut clock = HybridClock::new(ALICE);
    let mut event = CausalDotStore::<CalendarEventCrdt>::new();
    bencher.bench_local(|| {
        let stamp = clock.now();
        let text = black_box("Retro").to_owned();
        let delta = event.store.set_title(&mut event.context, stamp, text);
        black_box(&delta);
    });
}

/// Two replicas of an event that each edited every field concurrently.
fn concurrent_events() -> (
    CausalDotStore<CalendarEventCrdt>,
    CausalDotStore<CalendarEventCrdt>,
) {
    let mut alice_clock = HybridClock::with_wall_clock(ALICE, ManualClock::new(1));
    let mut bob_clock = HybridClock::with_wall_clock(BOB, ManualClock::new(1));
    let base = CalendarEvent {
        title: "Standup".to_owned(),
        utc_time: 1,
        tz_offset: 0,
        location: "Room 1".to_owned(),
    };
    let mut alice = CalendarEventCrdt::from_value(&base, alice_clock.now());
    let mut bob = alice.clone();
    let _ = alice
        .store
        .edit(&mut alice.context, alice_clock.now(), |event| {
            event.title = "Retro".to_owned();
            event.utc_time = 2;
            event.tz_offset = 60;
            event.location = "Room 2".to_owned();
        });
    let _ = bob.store.edit(&mut bob.context, bob_clock.now(), |event| {
        event.title = "Planning".to_owned();
        event.utc_time = 3;
        event.tz_offset = -60;
        event.location = "Room 3".to_owned();
    });
    (alice, bob)
}

/// The generated join of two concurrently edited `CalendarEventCrdt`s.
#[divan::bench(sample_size = 256)]
fn generated_join(bencher: Bencher<'_, '_>) {
    let (alice, bob) = concurrent_events();
    bencher
        .with_inputs(|| (alice.clone(), bob.clone()))
        .bench_local_values(|(mut alice, bob)| {
            alice.join(bob);
            alice
        });
}

/// The four field joins the generated join is made of, each a register with a context of
/// its own: the baseline of `generated_join`.
#[divan::bench(sample_size = 256)]
fn sum_of_field_joins(bencher: Bencher<'_, '_>) {
    let (alice, bob) = concurrent_events();
    let split = |state: &CausalDotStore<CalendarEventCrdt>| {
        let field = |store| CausalDotStore {
            store,
            context: state.context.clone(),
        };
        (
            field(state.store.title.clone()),
            CausalDotStore {
                store: state.store.utc_time.clone(),
                context: state.context.clone(),
            },
            CausalDotStore {
                store: state.store.tz_offset.clone(),
                context: state.context.clone(),
            },
            field(state.store.location.clone()),
        )
    };
    let (alice, bob) = (split(&alice), split(&bob));
    bencher
        .with_inputs(|| (alice.clone(), bob.clone()))
        .bench_local_values(|(mut alice, bob)| {
            alice.0.join(bob.0);
            alice.1.join(bob.1);
            alice.2.join(bob.2);
            alice.3.join(bob.3);
            alice
        });
}
