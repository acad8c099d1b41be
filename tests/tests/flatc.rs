//! Other languages can read crdtype's bytes: `flatc`, given the `.fbs` that
//! `crdtype::schema::fbs::export` writes for a schema, decodes bytes from the Rust encoder
//! to JSON with the values they were written from.
//!
//! Needs `flatc` (Debian's `flatbuffers-compiler`, which `.ci/run` installs). Without it
//! the tests say so and pass, unless `CRDTYPE_REQUIRE_FLATC` is set, as `.ci/run` sets it.

use std::path::PathBuf;
use std::process::Command;

use crdtype::schema::fbs;
use crdtype::{Crdt, HybridClock, ManualClock, ReplicaId, Timestamp, TypedStore};
use crdtype_tests::versions::task_v3;
use crdtype_tests::{Attendee, CalendarEvent, CalendarEventCrdt, Meeting, MeetingCrdt, Place};
use serde_json::{Value, json};

fn flatc_available() -> bool {
    let found = Command::new("flatc").arg("--version").output().is_ok();
    assert!(
        found || std::env::var_os("CRDTYPE_REQUIRE_FLATC").is_none(),
        "flatc is required (CRDTYPE_REQUIRE_FLATC is set) but not installed"
    );
    if !found {
        eprintln!("flatc is not installed: skipping the interoperability check");
    }
    found
}

/// `state` encoded by crdtype and decoded to JSON by `flatc` with the exported `.fbs`.
fn through_flatc<T: Crdt>(name: &str, state: &crdtype::CausalDotStore<T::Store>) -> Value
where
    T::Store: TypedStore,
{
    let dir = std::env::temp_dir().join(format!("crdtype-flatc-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let schema: PathBuf = dir.join(format!("{name}.fbs"));
    let data: PathBuf = dir.join(format!("{name}.bin"));
    std::fs::write(&schema, fbs::export(&T::schema())).unwrap();
    std::fs::write(&data, state.encode()).unwrap();
    let output = Command::new("flatc")
        .args(["--json", "--strict-json", "--raw-binary", "-o"])
        .arg(&dir)
        .arg(&schema)
        .arg("--")
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "flatc failed on {name}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json = std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    serde_json::from_str(&json).unwrap()
}

fn stamp(micros: u64) -> Timestamp {
    HybridClock::with_wall_clock(ReplicaId::new(7), ManualClock::new(micros)).now()
}

#[test]
fn flatc_reads_a_calendar_event() {
    if !flatc_available() {
        return;
    }
    let event = CalendarEvent {
        title: "Standup".to_owned(),
        utc_time: 1_767_225_600_000_000,
        tz_offset: -3_600,
        location: "Room 4".to_owned(),
    };
    let json = through_flatc::<CalendarEvent>(
        "event",
        &CalendarEventCrdt::from_value(&event, stamp(5_000)),
    );
    assert_eq!(json["schema"], "calendar.Event");
    assert_eq!(json["version"], 2);
    let state = &json["state"];
    assert_eq!(
        state["title"],
        json!({"stamps": [7, 1, 5_000, 0], "texts": ["Standup"]})
    );
    assert_eq!(
        state["utc_time"]["ints"],
        json!([1_767_225_600_000_000_i64])
    );
    assert_eq!(state["tz_offset"]["ints"], json!([-3_600]));
    assert_eq!(state["location"]["texts"], json!(["Room 4"]));
    assert_eq!(
        json["context"],
        json!([7, 1, 4]),
        "one run: dots 1 to 4 of replica 7"
    );
}

#[test]
fn flatc_reads_every_kind_of_field() {
    if !flatc_available() {
        return;
    }
    let meeting = Meeting {
        title: "Planning".to_owned(),
        room: "Blue".to_owned(),
        views: -4,
        tags: ["q3".to_owned(), "team".to_owned()].into(),
        cancelled_dates: [20_260_101, 20_260_108].into(),
        pinned: true,
        place: Place {
            name: "HQ".to_owned(),
            seats: 12,
        },
        attendees: [(
            "ada".to_owned(),
            Attendee {
                name: "Ada".to_owned(),
                accepted: true,
            },
        )]
        .into(),
        draft_note: String::new(),
        priority: 1,
    };
    let mut state = MeetingCrdt::from_value(&meeting, stamp(5_000));
    let _ = state.store.remove_from_cancelled_dates(&20_260_108);
    let json = through_flatc::<Meeting>("meeting", &state);
    let state = &json["state"];
    assert_eq!(state["room"]["texts"], json!(["Blue"]), "mv");
    assert_eq!(state["views"]["counts"], json!([0, 4]), "counter");
    assert_eq!(state["tags"]["keys"]["texts"], json!(["q3", "team"]), "set");
    assert_eq!(
        state["cancelled_dates"]["keys"]["uints"],
        json!([20_260_101])
    );
    assert_eq!(
        state["cancelled_dates"]["removed"]["uints"],
        json!([20_260_108])
    );
    assert_eq!(
        state["pinned"]["dots"].as_array().map(Vec::len),
        Some(2),
        "flag"
    );
    assert_eq!(state["attendees"]["keys"]["texts"], json!(["ada"]), "map");
    assert_eq!(state["priority"]["uints"], json!([1]));
    assert!(state.get("draft_note").is_none(), "skip fields stay local");
}

#[test]
fn flatc_reads_both_sides_of_a_type_change() {
    if !flatc_available() {
        return;
    }
    let task = task_v3::Task {
        title: "Ship".to_owned(),
        estimate_minutes: 90,
        done: true,
    };
    let json =
        through_flatc::<task_v3::Task>("task", &task_v3::TaskCrdt::from_value(&task, stamp(5_000)));
    let state = &json["state"];
    assert_eq!(state["estimate_minutes"]["uints"], json!([90]));
    assert_eq!(state["estimate_minutes_previous"]["texts"], json!(["90m"]));
}
