//! Named tests of the code `#[derive(Crdt)]` generates: each kind's operations and rule,
//! the conversions, the edit closure and the schema descriptor.

use std::collections::{BTreeMap, BTreeSet};

use crdtype::schema::{FieldDefault, Kind};
use crdtype::{
    CausalDotStore, ContextBuilder, Crdt, DotStore, HybridClock, ManualClock, ReplicaId,
};
use crdtype_tests::{
    Attendee, AttendeeCrdt, CalendarEvent, CalendarEventCrdt, Hall, HallCrdt, Meeting, MeetingCrdt,
    Place, Seat,
};

const ALICE: ReplicaId = ReplicaId::new(1);
const BOB: ReplicaId = ReplicaId::new(2);

fn clock(replica: ReplicaId) -> HybridClock<ManualClock> {
    HybridClock::with_wall_clock(replica, ManualClock::new(1_000_000))
}

fn standup() -> CalendarEvent {
    CalendarEvent {
        title: "Standup".to_owned(),
        utc_time: 1_700_000_000_000_000,
        tz_offset: 3600,
        location: "Room 4".to_owned(),
    }
}

#[test]
fn an_update_concurrent_with_a_delete_survives_it() {
    let mut alice_clock = clock(ALICE);
    let mut bob_clock = clock(BOB);
    let mut alice = CalendarEventCrdt::from_value(&standup(), alice_clock.now());
    let mut bob = alice.clone();
    let _ = bob_clock.now();

    let update = alice
        .store
        .set_title(&mut alice.context, alice_clock.now(), "Retro".to_owned());
    let delete = bob.store.delete_title();
    alice.join(delete);
    bob.join(update);

    assert_eq!(alice, bob);
    assert_eq!(bob.store.title().map(String::as_str), Some("Retro"));
}

#[test]
fn a_delete_that_observed_the_write_nulls_the_field_which_reads_as_its_default() {
    let mut alice_clock = clock(ALICE);
    let mut alice = CalendarEventCrdt::from_value(&standup(), alice_clock.now());
    let mut bob = alice.clone();
    alice.join(bob.store.delete_location());
    assert_eq!(alice.store.location(), None);
    assert_eq!(alice.store.to_value().location, String::new());
    assert_eq!(alice.store.to_value().title, "Standup");
}

#[test]
fn converts_to_and_from_the_plain_struct() {
    let mut clock = clock(ALICE);
    let event = CalendarEventCrdt::from_value(&standup(), clock.now());
    assert_eq!(event.store.to_value(), standup());
    assert_eq!(CalendarEvent::read(&event.store), standup());

    let meeting = full_meeting();
    let state = MeetingCrdt::from_value(&meeting, clock.now());
    assert_eq!(state.store.to_value(), meeting);
}

#[test]
fn a_skip_field_is_not_replicated_and_reads_as_its_default() {
    let mut clock = clock(ALICE);
    let mut meeting = full_meeting();
    meeting.draft_note = "local thoughts".to_owned();
    let state = MeetingCrdt::from_value(&meeting, clock.now());
    assert_eq!(state.store.to_value().draft_note, "");
    assert!(Meeting::schema().field_by_name("draft_note").is_none());
}

#[test]
fn a_null_field_reads_as_its_default_function() {
    let empty = MeetingCrdt::default();
    assert_eq!(empty.to_value().priority, 3);
    assert_eq!(empty.priority(), None);
}

#[test]
fn edit_returns_the_delta_of_exactly_the_changed_fields() {
    let mut clock = clock(ALICE);
    let mut event = CalendarEventCrdt::from_value(&standup(), clock.now());

    let nothing = event.store.edit(&mut event.context, clock.now(), |_| {});
    assert!(nothing.store.is_bottom());
    assert!(nothing.context.is_empty());

    let same = event.store.edit(&mut event.context, clock.now(), |e| {
        e.title = "Standup".to_owned()
    });
    assert!(same.store.is_bottom());

    let delta = event
        .store
        .edit(&mut event.context, clock.now(), |e| e.utc_time += 3600);
    assert_eq!(delta.store.title, Default::default());
    assert_eq!(delta.store.tz_offset, Default::default());
    assert_eq!(delta.store.location, Default::default());
    assert_eq!(
        delta.store.utc_time.get(),
        Some(&(standup().utc_time + 3600))
    );
    assert_eq!(
        delta.context.dot_count(),
        2,
        "the new dot and the one it replaced"
    );
}

#[test]
fn an_edit_delta_applied_elsewhere_gives_the_edited_value() {
    let mut alice_clock = clock(ALICE);
    let mut alice = MeetingCrdt::from_value(&full_meeting(), alice_clock.now());
    let mut bob = alice.clone();
    let delta = alice
        .store
        .edit(&mut alice.context, alice_clock.now(), |m| {
            m.title = "Planning".to_owned();
            m.views -= 2;
            m.tags.remove("urgent");
            m.tags.insert("q3".to_owned());
            m.cancelled_dates.insert(20261224);
            m.pinned = false;
            m.place.seats = 12;
            m.attendees.remove("bob");
            m.attendees.get_mut("alice").unwrap().accepted = false;
            m.attendees.insert(
                "carol".to_owned(),
                Attendee {
                    name: "Carol".to_owned(),
                    accepted: true,
                },
            );
            m.priority = 1;
        });
    bob.join(delta);
    assert_eq!(bob.store.to_value(), alice.store.to_value());
    assert_eq!(bob.store.to_value().views, 5);
    assert_eq!(bob, alice);
}

#[test]
fn a_batch_of_writes_sharing_one_delta_equals_the_writes_made_one_by_one() {
    let mut alice_clock = clock(ALICE);
    let base = CalendarEventCrdt::from_value(&standup(), alice_clock.now());
    let mut bob = base.clone();
    let titles = ["Retro", "Planning", "Review"];

    let mut batched = base.clone();
    let stamp = alice_clock.now();
    let mut delta = CalendarEventCrdt::default();
    let mut delta_context = ContextBuilder::new();
    for (round, title) in titles.into_iter().enumerate() {
        let state = &mut batched;
        state.store.set_title_into(
            &mut state.context,
            stamp,
            title.to_owned(),
            &mut delta,
            &mut delta_context,
        );
        state.store.set_utc_time_into(
            &mut state.context,
            stamp,
            round as i64,
            &mut delta,
            &mut delta_context,
        );
    }
    let delta = CausalDotStore {
        store: delta,
        context: delta_context.build(),
    };

    let mut one_by_one = base.clone();
    let mut deltas = CausalDotStore::<CalendarEventCrdt>::new();
    for (round, title) in titles.into_iter().enumerate() {
        let state = &mut one_by_one;
        deltas.join(
            state
                .store
                .set_title(&mut state.context, stamp, title.to_owned()),
        );
        deltas.join(
            state
                .store
                .set_utc_time(&mut state.context, stamp, round as i64),
        );
    }

    assert_eq!(batched, one_by_one);
    assert_eq!(delta, deltas);
    assert_eq!(delta.store.title().map(String::as_str), Some("Review"));
    bob.join(delta);
    assert_eq!(bob, batched);
}

#[test]
fn counter_increments_from_every_replica_add_up() {
    let mut alice = CausalDotStore::<MeetingCrdt>::new();
    let mut bob = CausalDotStore::<MeetingCrdt>::new();
    let a = alice.store.increment_views(&mut alice.context, ALICE, 5);
    let b = bob.store.decrement_views(&mut bob.context, BOB, 2);
    let c = bob.store.increment_views(&mut bob.context, BOB, 10);
    alice.join(b);
    alice.join(c);
    bob.join(a);
    assert_eq!(alice.store.views(), 13);
    assert_eq!(bob.store.views(), 13);
}

#[test]
fn concurrent_counter_edits_through_the_plain_value_add_up() {
    let mut alice_clock = clock(ALICE);
    let mut bob_clock = clock(BOB);
    let mut alice = MeetingCrdt::from_value(&full_meeting(), alice_clock.now());
    let mut bob = alice.clone();
    let a = alice
        .store
        .edit(&mut alice.context, alice_clock.now(), |m| m.views += 1);
    let b = bob
        .store
        .edit(&mut bob.context, bob_clock.now(), |m| m.views += 1);
    alice.join(b);
    bob.join(a);
    assert_eq!(alice.store.views(), full_meeting().views + 2);
    assert_eq!(alice, bob);
}

#[test]
fn a_counter_reads_saturated_to_its_field_type() {
    let mut place = CausalDotStore::<<Place as Crdt>::Store>::new();
    let _ = place.store.decrement_seats(&mut place.context, ALICE, 7);
    assert_eq!(place.store.seats(), 0, "u32 cannot go below zero");
    let _ = place
        .store
        .increment_seats(&mut place.context, ALICE, u64::from(u32::MAX) + 100);
    assert_eq!(place.store.seats(), u32::MAX);
}

#[test]
fn a_concurrent_add_wins_over_a_remove() {
    let mut alice = CausalDotStore::<MeetingCrdt>::new();
    let _ = alice
        .store
        .insert_into_tags(&mut alice.context, ALICE, "urgent".to_owned());
    let mut bob = alice.clone();
    let remove = alice.store.remove_from_tags(&"urgent".to_owned());
    let add = bob
        .store
        .insert_into_tags(&mut bob.context, BOB, "urgent".to_owned());
    alice.join(add);
    bob.join(remove);
    assert!(alice.store.tags().contains(&"urgent".to_owned()));
    assert_eq!(alice, bob);
}

#[test]
fn a_two_phase_removal_is_permanent() {
    let mut alice = CausalDotStore::<MeetingCrdt>::new();
    let mut bob = CausalDotStore::<MeetingCrdt>::new();
    let _ = alice
        .store
        .insert_into_cancelled_dates(&mut alice.context, ALICE, 1);
    let removed = alice.store.remove_from_cancelled_dates(&1);
    let late_add = bob
        .store
        .insert_into_cancelled_dates(&mut bob.context, BOB, 1);
    alice.join(late_add);
    bob.join(removed);
    assert!(!alice.store.cancelled_dates().contains(&1));
    assert!(!bob.store.cancelled_dates().contains(&1));
}

#[test]
fn a_concurrent_enable_wins_over_a_disable() {
    let mut alice = CausalDotStore::<MeetingCrdt>::new();
    let _ = alice.store.enable_pinned(&mut alice.context, ALICE);
    let mut bob = alice.clone();
    let disable = alice.store.disable_pinned();
    let enable = bob.store.enable_pinned(&mut bob.context, BOB);
    alice.join(enable);
    bob.join(disable);
    assert!(alice.store.pinned());
    assert!(bob.store.pinned());
}

#[test]
fn nested_fields_merge_field_by_field() {
    let mut alice_clock = clock(ALICE);
    let mut bob_clock = clock(BOB);
    let mut alice = MeetingCrdt::from_value(&full_meeting(), alice_clock.now());
    let mut bob = alice.clone();
    let stamp = alice_clock.now();
    let rename = alice
        .store
        .update_place(&mut alice.context, |place, context| {
            place.set_name(context, stamp, "Library".to_owned())
        });
    let more_seats = bob.store.update_place(&mut bob.context, |place, context| {
        place.increment_seats(context, bob_clock.now().replica, 2)
    });
    alice.join(more_seats);
    bob.join(rename);
    assert_eq!(alice, bob);
    assert_eq!(
        alice.store.place().to_value(),
        Place {
            name: "Library".to_owned(),
            seats: 10
        }
    );
}

#[test]
fn a_map_update_concurrent_with_the_entry_removal_keeps_the_entry() {
    let mut alice_clock = clock(ALICE);
    let mut alice = MeetingCrdt::from_value(&full_meeting(), alice_clock.now());
    let mut bob = alice.clone();
    let remove = alice.store.remove_from_attendees(&"bob".to_owned());
    let accept = bob.store.update_attendees(
        &mut bob.context,
        BOB,
        "bob".to_owned(),
        |attendee, context| attendee.enable_accepted(context, BOB),
    );
    alice.join(accept);
    bob.join(remove);
    assert_eq!(alice, bob);
    let entry: &AttendeeCrdt = alice
        .store
        .attendees()
        .get(&"bob".to_owned())
        .unwrap()
        .value();
    assert!(entry.accepted());
    assert_eq!(
        entry.name(),
        None,
        "the removal cleared the name it observed"
    );
}

#[test]
fn generated_join_is_the_join_of_every_field() {
    let mut alice_clock = clock(ALICE);
    let mut bob_clock = HybridClock::with_wall_clock(BOB, ManualClock::new(2_000_000));
    let mut alice = MeetingCrdt::from_value(&full_meeting(), alice_clock.now());
    let mut bob = alice.clone();
    let _ = alice
        .store
        .edit(&mut alice.context, alice_clock.now(), |m| {
            m.title = "A".to_owned()
        });
    let _ = bob.store.edit(&mut bob.context, bob_clock.now(), |m| {
        m.title = "B".to_owned()
    });
    let joined = alice.clone().joined(bob.clone());
    let mut title = CausalDotStore {
        store: alice.store.title.clone(),
        context: alice.context.clone(),
    };
    title.join(CausalDotStore {
        store: bob.store.title.clone(),
        context: bob.context.clone(),
    });
    assert_eq!(joined.store.title, title.store);
    assert_eq!(
        joined.store.title().map(String::as_str),
        Some("B"),
        "Bob's stamp is later"
    );
}

#[test]
fn the_schema_describes_every_replicated_field() {
    let schema = Meeting::schema();
    assert_eq!(schema.name, "Meeting");
    assert_eq!(schema.version, 3);
    assert_eq!(schema.reserved, vec![11]);
    let kinds: Vec<(&str, u32, Kind)> = schema
        .fields
        .iter()
        .map(|field| (field.name.as_str(), field.id, field.kind))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("title", 0, Kind::Lww),
            ("room", 1, Kind::Mv),
            ("views", 2, Kind::Counter),
            ("tags", 3, Kind::Set),
            ("cancelled_dates", 4, Kind::TwoPhaseSet),
            ("pinned", 5, Kind::Flag),
            ("place", 6, Kind::Nested),
            ("attendees", 10, Kind::Map),
            ("priority", 9, Kind::Lww),
        ]
    );
    let priority = schema.field_by_name("priority").unwrap();
    assert_eq!(priority.since, 3);
    assert_eq!(
        priority.default,
        FieldDefault::Function("default_priority".to_owned())
    );
    assert_eq!(priority.renamed_from.as_deref(), Some("importance"));
    assert_eq!(
        schema.field_by_name("attendees").unwrap().rust_type,
        "BTreeMap<String, Attendee>"
    );

    let calendar = CalendarEvent::schema();
    assert_eq!(calendar.name, "calendar.Event");
    let location = calendar.field_by_name("location").unwrap();
    assert_eq!(
        (location.since, &location.default),
        (2, &FieldDefault::DefaultTrait)
    );
    assert_eq!(
        calendar.field_by_name("title").unwrap().default,
        FieldDefault::Unspecified
    );
}

#[test]
fn the_schema_serializes_to_json_and_back() {
    let schema = Meeting::schema();
    let json = serde_json::to_value(&schema).unwrap();
    assert_eq!(json["fields"][3]["kind"], "set");
    assert_eq!(json["fields"][4]["kind"], "two_phase_set");
    assert_eq!(json["fields"][8]["default"]["function"], "default_priority");
    assert_eq!(
        serde_json::from_value::<crdtype::schema::Schema>(json).unwrap(),
        schema
    );
}

fn full_meeting() -> Meeting {
    Meeting {
        title: "Kick-off".to_owned(),
        room: "4.01".to_owned(),
        views: 7,
        tags: BTreeSet::from(["urgent".to_owned(), "team".to_owned()]),
        cancelled_dates: BTreeSet::from([20261201]),
        pinned: true,
        place: Place {
            name: "HQ".to_owned(),
            seats: 8,
        },
        attendees: BTreeMap::from([
            (
                "alice".to_owned(),
                Attendee {
                    name: "Alice".to_owned(),
                    accepted: true,
                },
            ),
            (
                "bob".to_owned(),
                Attendee {
                    name: "Bob".to_owned(),
                    accepted: false,
                },
            ),
        ]),
        draft_note: String::new(),
        priority: 2,
    }
}

#[test]
fn a_map_entry_whose_value_holds_no_dots_is_still_in_the_map() {
    let mut clock = clock(ALICE);
    let hall = Hall {
        seats: BTreeMap::from([(1, Seat::default())]),
    };
    let state = HallCrdt::from_value(&hall, clock.now());
    assert_eq!(state.store.to_value(), hall);

    let mut state = CausalDotStore::<HallCrdt>::new();
    let delta = state.store.edit(&mut state.context, clock.now(), |hall| {
        hall.seats.insert(2, Seat::default());
    });
    let elsewhere = CausalDotStore::<HallCrdt>::new().joined(delta);
    assert_eq!(
        elsewhere.store.to_value().seats.keys().collect::<Vec<_>>(),
        [&2]
    );
}

#[test]
fn a_removed_map_entry_leaves_even_with_dotless_state() {
    let mut clock = clock(ALICE);
    let hall = Hall {
        seats: BTreeMap::from([(
            1,
            Seat {
                taken: true,
                retired_rows: BTreeSet::from([3]),
            },
        )]),
    };
    let mut state = HallCrdt::from_value(&hall, clock.now());
    let _ = state.store.edit(&mut state.context, clock.now(), |hall| {
        hall.seats.get_mut(&1).unwrap().retired_rows.remove(&3);
    });
    let elsewhere = state.clone();
    let delta = state.store.edit(&mut state.context, clock.now(), |hall| {
        hall.seats.remove(&1);
    });
    assert!(state.store.to_value().seats.is_empty());
    assert!(
        !state.store.seats().get(&1).unwrap().is_present(),
        "the removed rows stay as tombstones, hidden"
    );
    assert!(elsewhere.joined(delta).store.to_value().seats.is_empty());
}
