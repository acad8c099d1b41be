//! JSON input and output: `cargo bench -p crdtype-tests --bench json`. End to end against
//! serde_json deserializing the same JSON into the plain struct, in the same run.

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
#[divan::bench]
fn merge_patch_of_three_fields(bencher: Bencher<'_, '_>) {
    let mut state = state();
    let at = stamp(2_000);
    bencher.bench_local(|| {
        state
            .apply_json(Format::MergePatch, black_box(PATCH), at, Forbidden::Reject)
            .unwrap()
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
#[divan::bench]
fn reference_serde_json_deserialize(bencher: Bencher<'_, '_>) {
    bencher.bench_local(|| serde_json::from_str::<PlainPatch>(black_box(PATCH)).unwrap());
}

/// The canonical transform of a batch of 10 operations on 4 paths: divide by 10.
#[divan::bench]
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

/// One parsed operation of each action applied (checked, then written): the cost per
/// field operation without parsing.
#[divan::bench(args = ["add", "modify", "delete"])]
fn apply_one_parsed_op(bencher: Bencher<'_, '_>, action: &str) {
    let mut state = state();
    let at = stamp(2_000);
    let op = Op {
        path: vec!["title".to_owned()],
        action: match action {
            "add" => Action::Add(json!("Retro")),
            "modify" => Action::Modify(json!("Retro")),
            _ => Action::Delete,
        },
    };
    let ops = [op];
    bencher.bench_local(|| {
        state
            .apply_ops(black_box(&ops), at, Forbidden::Reject)
            .unwrap()
    });
}

/// The input filter on one field input may not write (`Meeting::views` is read-only):
/// the operation is checked and dropped.
#[divan::bench]
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
#[divan::bench]
fn to_json(bencher: Bencher<'_, '_>) {
    let state = state();
    bencher.bench_local(|| state.to_json(None).unwrap());
}
