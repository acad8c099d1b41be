//! Golden encodings: bytes written by every schema version of the test structs, checked in
//! under `tests/golden/`. Each must still decode, as its own version and as every later
//! one (migrated: defaults for added fields, upgrades for changed types), to the values it
//! was written from, and re-encode to a state that decodes the same. A change that breaks
//! old bytes fails here.
//!
//! The files are written from fixed values with a manual clock, so encoding them again
//! must give the same bytes; that is checked too. To write a missing file, run with
//! `UPDATE_GOLDEN=1`. When the encoder's output changes on purpose, add files under new
//! names rather than rewriting these: they are what replicas already wrote.

use std::path::PathBuf;

use crdtype::{CausalDotStore, HybridClock, ManualClock, ReplicaId, Timestamp, TypedStore};
use crdtype_tests::versions::{meeting_v1, meeting_v2, task_v1, task_v2, task_v3};
use crdtype_tests::{
    Attendee, CalendarEvent, CalendarEventCrdt, Hall, HallCrdt, Meeting, MeetingCrdt, Place, Seat,
};

/// The checked-in bytes of `name`, which `state` must still encode to.
fn golden<S: TypedStore>(name: &str, state: &CausalDotStore<S>) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("golden")
        .join(format!("{name}.bin"));
    let fresh = state.encode();
    if std::env::var_os("UPDATE_GOLDEN").is_some() && !path.exists() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|error| panic!("{}: {error}; run with UPDATE_GOLDEN=1", path.display()));
    assert!(
        fresh == bytes,
        "{name}: encoding the same state no longer gives the checked-in bytes"
    );
    bytes
}

/// `bytes` decoded as `S`, after checking that its encoding decodes the same.
fn decoded<S: TypedStore>(bytes: &[u8]) -> CausalDotStore<S> {
    let state = CausalDotStore::<S>::decode(bytes).unwrap();
    assert_eq!(CausalDotStore::<S>::decode(&state.encode()).unwrap(), state);
    state
}

fn stamp(replica: u64, micros: u64) -> Timestamp {
    HybridClock::with_wall_clock(ReplicaId::new(replica), ManualClock::new(micros)).now()
}

#[test]
fn calendar_event_v2() {
    let event = CalendarEvent {
        title: "Standup".to_owned(),
        utc_time: 1_767_225_600_000_000,
        tz_offset: 3_600,
        location: "Room 4".to_owned(),
    };
    let mut state = CalendarEventCrdt::from_value(&event, stamp(1, 1_000));
    let bytes = golden("calendar.Event-v2-state", &state);
    assert_eq!(decoded::<CalendarEventCrdt>(&bytes).store.to_value(), event);

    let delta = state
        .store
        .set_title(&mut state.context, stamp(2, 2_000), "Retro".to_owned());
    let bytes = golden("calendar.Event-v2-delta", &delta);
    assert_eq!(decoded::<CalendarEventCrdt>(&bytes), delta);
}

fn meeting_v1_value() -> meeting_v1::Meeting {
    meeting_v1::Meeting {
        title: "Kick-off".to_owned(),
        views: 3,
    }
}

#[test]
fn meeting_v1() {
    let state = meeting_v1::MeetingCrdt::from_value(&meeting_v1_value(), stamp(1, 1_000));
    let bytes = golden("Meeting-v1-state", &state);
    assert_eq!(
        decoded::<meeting_v1::MeetingCrdt>(&bytes).store.to_value(),
        meeting_v1_value()
    );
    assert_eq!(
        decoded::<meeting_v2::MeetingCrdt>(&bytes).store.to_value(),
        meeting_v2::Meeting {
            title: "Kick-off".to_owned(),
            views: 3,
            ..meeting_v2::Meeting::default()
        }
    );
    assert_eq!(
        decoded::<MeetingCrdt>(&bytes).store.to_value(),
        Meeting {
            title: "Kick-off".to_owned(),
            views: 3,
            priority: 3,
            ..Meeting::default()
        }
    );
}

#[test]
fn meeting_v2() {
    let value = meeting_v2::Meeting {
        title: "Review".to_owned(),
        views: -2,
        pinned: true,
        importance: 9,
    };
    let state = meeting_v2::MeetingCrdt::from_value(&value, stamp(1, 1_000));
    let bytes = golden("Meeting-v2-state", &state);
    assert_eq!(
        decoded::<meeting_v2::MeetingCrdt>(&bytes).store.to_value(),
        value
    );
    let old = decoded::<meeting_v1::MeetingCrdt>(&bytes);
    assert_eq!(old.store.to_value().title, "Review");
    assert_eq!(old.store.unknown_fields.ids().collect::<Vec<_>>(), [5, 9]);
    assert_eq!(
        decoded::<MeetingCrdt>(&bytes).store.to_value(),
        Meeting {
            title: "Review".to_owned(),
            views: -2,
            pinned: true,
            priority: 9,
            ..Meeting::default()
        }
    );
}

fn meeting_value() -> Meeting {
    Meeting {
        title: "Planning".to_owned(),
        room: "Blue".to_owned(),
        views: 17,
        tags: ["q3".to_owned(), "team".to_owned()].into(),
        cancelled_dates: [20_260_101, 20_260_108].into(),
        pinned: true,
        place: Place {
            name: "HQ".to_owned(),
            seats: 12,
        },
        attendees: [
            (
                "ada".to_owned(),
                Attendee {
                    name: "Ada".to_owned(),
                    accepted: true,
                },
            ),
            (
                "alan".to_owned(),
                Attendee {
                    name: "Alan".to_owned(),
                    accepted: false,
                },
            ),
        ]
        .into(),
        draft_note: String::new(),
        priority: 1,
    }
}

#[test]
fn meeting_v3() {
    let mut state = MeetingCrdt::from_value(&meeting_value(), stamp(1, 1_000));
    // A removal, so that the two-phase set's removed elements are in the bytes too.
    let _ = state.store.remove_from_cancelled_dates(&20_260_108);
    let bytes = golden("Meeting-v3-state", &state);
    let mut expected = meeting_value();
    expected.cancelled_dates.remove(&20_260_108);
    let current = decoded::<MeetingCrdt>(&bytes);
    assert_eq!(current.store.to_value(), expected);
    // Older versions keep what they do not know, and give it back.
    let old = decoded::<meeting_v1::MeetingCrdt>(&bytes);
    assert_eq!(old.store.to_value().views, 17);
    assert_eq!(decoded::<MeetingCrdt>(&old.encode()), current);
}

#[test]
fn tasks_v1_v2_v3() {
    let v1 = task_v1::Task {
        title: "Write".to_owned(),
        estimate: "45m".to_owned(),
    };
    let bytes = golden(
        "Task-v1-state",
        &task_v1::TaskCrdt::from_value(&v1, stamp(1, 1_000)),
    );
    assert_eq!(decoded::<task_v1::TaskCrdt>(&bytes).store.to_value(), v1);
    assert_eq!(
        decoded::<task_v2::TaskCrdt>(&bytes).store.to_value(),
        task_v2::Task {
            title: "Write".to_owned(),
            estimate: "45m".to_owned(),
            done: false,
        }
    );
    assert_eq!(
        decoded::<task_v3::TaskCrdt>(&bytes).store.to_value(),
        task_v3::Task {
            title: "Write".to_owned(),
            estimate_minutes: 45,
            done: false,
        },
        "upgraded"
    );

    let v2 = task_v2::Task {
        title: "Test".to_owned(),
        estimate: "30m".to_owned(),
        done: true,
    };
    let bytes = golden(
        "Task-v2-state",
        &task_v2::TaskCrdt::from_value(&v2, stamp(1, 1_000)),
    );
    assert_eq!(decoded::<task_v2::TaskCrdt>(&bytes).store.to_value(), v2);
    let read = decoded::<task_v3::TaskCrdt>(&bytes).store.to_value();
    assert_eq!((read.estimate_minutes, read.done), (30, true));

    let v3 = task_v3::Task {
        title: "Ship".to_owned(),
        estimate_minutes: 90,
        done: false,
    };
    let bytes = golden(
        "Task-v3-state",
        &task_v3::TaskCrdt::from_value(&v3, stamp(1, 1_000)),
    );
    assert_eq!(decoded::<task_v3::TaskCrdt>(&bytes).store.to_value(), v3);
    assert_eq!(
        decoded::<task_v1::TaskCrdt>(&bytes)
            .store
            .to_value()
            .estimate,
        "90m",
        "downgraded"
    );
}

#[test]
fn hall_v1() {
    let hall = Hall {
        seats: [
            (
                1,
                Seat {
                    taken: true,
                    retired_rows: [2].into(),
                },
            ),
            (2, Seat::default()),
        ]
        .into(),
    };
    let bytes = golden(
        "Hall-v1-state",
        &HallCrdt::from_value(&hall, stamp(1, 1_000)),
    );
    assert_eq!(decoded::<HallCrdt>(&bytes).store.to_value(), hall);
}
