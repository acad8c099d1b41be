//! JSON input and output: `cargo bench -p crdtype-tests --bench json`. End to end against
//! serde_json deserializing the same JSON into the plain struct, in the same run.
//!
//! Every benchmark times samples of 1,000 iterations: left to choose, divan took a single
//! iteration per sample for some (after a slow first run), whose timing is as coarse as
//! the timer (18 ns here), and compared them unevenly with the others.

use crdtype::json::{Action, Forbidden, Format, Op, canonicalize};
use crdtype::{CausalDotStore, HybridClock, ManualClock, ReplicaId, Timestamp};
use crdtype_tests::{CalendarEvent, CalendarEventCrdt};
use divan::{Bencher, black_box};
use serde_json::json;

fn main() {
    divan::main();
}

fn stamp(micros: u64) -> Timestamp {
    HybridClock::with_wall_clock(ReplicaId::new(1), ManualClock::new(micros)).now()
}

fn state() -> CausalDotStore<CalendarEventCrdt> {
    CalendarEventCrdt::from_value(
        &CalendarEvent {
            title: "Standup".to_owned(),
            utc_time: 1_767_225_600_000_000,
            tz_offset: 3_600,
            location: "Room 4".to_owned(),
        },
        stamp(1_000),
    )
}

const PATCH: &str = r#"{"title": "Retro", "utc_time": 1767229200000000, "tz_offset": 7200}"#;

/// A merge patch of three fields, parsed, filtered, checked and applied, to the delta.
/// The delta is dropped in the timed loop, as the reference drops its struct: divan's
/// deferred drop of a large output adds a cost of its own (about 30 ns for this delta).
#[divan::bench(sample_size = 1000)]
fn merge_patch_of_three_fields(bencher: Bencher<'_, '_>) {
    let mut state = state();
    let at = stamp(2_000);
    bencher.bench_local(|| {
        let applied = state.apply_json(Format::MergePatch, black_box(PATCH), at, Forbidden::Reject);
        drop(black_box(applied.unwrap()));
    });
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct PlainPatch {
    title: String,
    utc_time: i64,
    tz_offset: i32,
}

/// The reference: serde_json deserializing the same JSON into a plain struct.
#[divan::bench(sample_size = 1000)]
fn reference_serde_json_deserialize(bencher: Bencher<'_, '_>) {
    bencher.bench_local(|| {
        drop(black_box(
            serde_json::from_str::<PlainPatch>(black_box(PATCH)).unwrap(),
        ));
    });
}

/// The canonical transform of a batch of 10 operations on 4 paths: divide by 10.
#[divan::bench(sample_size = 1000)]
fn canonicalize_10_ops(bencher: Bencher<'_, '_>) {
    let path = |name: &str| vec![name.to_owned()];
    let ops: Vec<Op> = (0..10)
        .map(|index| Op {
            path: path(["title", "utc_time", "tz_offset", "location"][index % 4]),
            action: match index % 3 {
                0 => Action::Delete,
                1 => Action::Add(json!(index)),
                _ => Action::Modify(json!(index)),
            },
        })
        .collect();
    bencher
        .with_inputs(|| ops.clone())
        .bench_local_values(canonicalize);
}

/// One parsed operation of each action, as a batch of its own (checked, then written):
/// the cost of a one-operation input without parsing.
#[divan::bench(args = ["add", "modify", "delete"], sample_size = 1000)]
fn apply_one_parsed_op(bencher: Bencher<'_, '_>, action: &str) {
    let mut state = state();
    let at = stamp(2_000);
    let ops = [parsed_op("title", action)];
    bencher.bench_local(|| {
        state
            .apply_ops(black_box(&ops), at, Forbidden::Reject)
            .unwrap()
    });
}

/// An operation on the event's field `field`, with a value of its type.
fn parsed_op(field: &str, action: &str) -> Op {
    let value = match field {
        "title" => json!("Retro"),
        "location" => json!("Room 5"),
        "utc_time" => json!(1_767_229_200_000_000_i64),
        _ => json!(7_200),
    };
    Op {
        path: vec![field.to_owned()],
        action: match action {
            "add" => Action::Add(value),
            "modify" => Action::Modify(value),
            _ => Action::Delete,
        },
    }
}

/// A patch of four parsed operations of one action, one per field of the event (two
/// strings, two integers), applied as one batch. Against `apply_one_parsed_op`, the cost
/// of an operation beyond the first: (this - that) / 3.
#[divan::bench(args = ["add", "modify", "delete"], sample_size = 1000)]
fn apply_4_parsed_ops(bencher: Bencher<'_, '_>, action: &str) {
    let mut state = state();
    let at = stamp(2_000);
    let ops: Vec<Op> = ["title", "utc_time", "tz_offset", "location"]
        .into_iter()
        .map(|field| parsed_op(field, action))
        .collect();
    bencher.bench_local(|| {
        state
            .apply_ops(black_box(&ops), at, Forbidden::Reject)
            .unwrap()
    });
}

/// The input filter alone, on the names of a merge patch to a `Meeting`: six writable
/// fields, one read-only, one unknown. Divide by 8 for the cost per field.
#[divan::bench(sample_size = 1000)]
fn input_filter_8_fields(bencher: Bencher<'_, '_>) {
    use crdtype::json::JsonDocument;
    let names = [
        "title",
        "room",
        "views",
        "tags",
        "pinned",
        "place",
        "attendees",
        "agenda",
    ];
    bencher.bench_local(|| {
        black_box(names)
            .into_iter()
            .filter(|name| {
                crdtype_tests::MeetingCrdt::input_field(name).is_some_and(|field| field.writable)
            })
            .count()
    });
}

/// The input filter on one field input may not write (`Meeting::views` is read-only),
/// in a batch of its own: the operation is checked and dropped, and the drop reported.
#[divan::bench(sample_size = 1000)]
fn filter_one_read_only_field(bencher: Bencher<'_, '_>) {
    let mut state = crdtype_tests::MeetingCrdt::from_value(&Default::default(), stamp(1_000));
    let ops = [Op {
        path: vec!["views".to_owned()],
        action: Action::Modify(json!(1000)),
    }];
    let at = stamp(2_000);
    bencher.bench_local(|| {
        state
            .apply_ops(black_box(&ops), at, Forbidden::Drop)
            .unwrap()
    });
}

/// Output of a whole event as JSON.
#[divan::bench(sample_size = 1000)]
fn to_json(bencher: Bencher<'_, '_>) {
    let state = state();
    bencher.bench_local(|| state.to_json(None).unwrap());
}
