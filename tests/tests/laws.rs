//! The join laws for generated types, on `Meeting`, which uses every field kind, held by
//! the kernel's own harness: random histories on three replicas with late, reordered and
//! duplicated deliveries; join commutative, associative and idempotent; every delta acts
//! as the state it came from; every delivery order converges. Operations mix the typed
//! mutators with the plain-value edit closure, whose delta must reproduce the edited value.
//! Every state and delta of those histories also goes through the wire and back.

#[macro_use]
#[path = "../../runtime/tests/harness/mod.rs"]
mod harness;

use crdtype::{CausalDotStore, HybridClock, ManualClock, ReplicaId, TypedStore};
use crdtype_tests::versions::meeting_v1;
use crdtype_tests::{Attendee, Meeting, MeetingCrdt};
use harness::*;
use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;

#[derive(Clone, Debug)]
enum Op {
    SetTitle(u8),
    DeleteTitle,
    SetRoom(u8),
    DeleteRoom,
    Views(i8),
    InsertTag(u8),
    RemoveTag(u8),
    InsertCancelled(u8),
    RemoveCancelled(u8),
    Pin(bool),
    PlaceName(u8),
    PlaceSeats(i8),
    Accept(u8),
    RemoveAttendee(u8),
    /// Edits the plain value: the closure changes several fields of every kind at once.
    Edit(PlainEdit),
}

#[derive(Clone, Debug)]
struct PlainEdit {
    title: Option<u8>,
    views: i8,
    toggle_tag: u8,
    pinned: bool,
    seats: u8,
    attendee: (u8, u8, bool),
    drop_attendee: Option<u8>,
    priority: u8,
}

impl PlainEdit {
    fn apply(&self, meeting: &mut Meeting) {
        if let Some(title) = self.title {
            meeting.title = format!("t{title}");
        }
        meeting.views = meeting.views.saturating_add(i64::from(self.views));
        let tag = format!("tag{}", self.toggle_tag);
        if !meeting.tags.remove(&tag) {
            meeting.tags.insert(tag);
        }
        meeting.pinned = self.pinned;
        meeting.place.seats = u32::from(self.seats);
        let (key, name, accepted) = self.attendee;
        meeting.attendees.insert(
            format!("a{key}"),
            Attendee {
                name: format!("n{name}"),
                accepted,
            },
        );
        if let Some(key) = self.drop_attendee {
            meeting.attendees.remove(&format!("a{key}"));
        }
        meeting.priority = self.priority;
    }
}

fn small() -> impl Strategy<Value = u8> {
    0..4u8
}

fn plain_edit() -> impl Strategy<Value = PlainEdit> {
    (
        proptest::option::of(small()),
        any::<i8>(),
        small(),
        any::<bool>(),
        any::<u8>(),
        (small(), small(), any::<bool>()),
        proptest::option::of(small()),
        small(),
    )
        .prop_map(
            |(title, views, toggle_tag, pinned, seats, attendee, drop_attendee, priority)| {
                PlainEdit {
                    title,
                    views,
                    toggle_tag,
                    pinned,
                    seats,
                    attendee,
                    drop_attendee,
                    priority,
                }
            },
        )
}

struct Generated;

impl Subject for Generated {
    type Store = MeetingCrdt;
    type Op = Op;

    fn op() -> BoxedStrategy<Op> {
        prop_oneof![
            1 => small().prop_map(Op::SetTitle),
            1 => Just(Op::DeleteTitle),
            1 => small().prop_map(Op::SetRoom),
            1 => Just(Op::DeleteRoom),
            1 => any::<i8>().prop_map(Op::Views),
            1 => small().prop_map(Op::InsertTag),
            1 => small().prop_map(Op::RemoveTag),
            1 => small().prop_map(Op::InsertCancelled),
            1 => small().prop_map(Op::RemoveCancelled),
            1 => any::<bool>().prop_map(Op::Pin),
            1 => small().prop_map(Op::PlaceName),
            1 => any::<i8>().prop_map(Op::PlaceSeats),
            1 => small().prop_map(Op::Accept),
            1 => small().prop_map(Op::RemoveAttendee),
            3 => plain_edit().prop_map(Op::Edit),
        ]
        .boxed()
    }

    fn apply(replica: &mut Replica<MeetingCrdt>, op: &Op) -> CausalDotStore<MeetingCrdt> {
        let id = replica.id();
        let stamp = replica.clock.now();
        let CausalDotStore { store, context } = &mut replica.state;
        match op {
            Op::SetTitle(n) => store.set_title(context, stamp, format!("t{n}")),
            Op::DeleteTitle => store.delete_title(),
            Op::SetRoom(n) => store.set_room(context, id, format!("r{n}")),
            Op::DeleteRoom => store.delete_room(),
            Op::Views(by) if *by < 0 => {
                store.decrement_views(context, id, u64::from(by.unsigned_abs()))
            }
            Op::Views(by) => store.increment_views(context, id, by.unsigned_abs().into()),
            Op::InsertTag(n) => store.insert_into_tags(context, id, format!("tag{n}")),
            Op::RemoveTag(n) => store.remove_from_tags(&format!("tag{n}")),
            Op::InsertCancelled(n) => store.insert_into_cancelled_dates(context, id, (*n).into()),
            Op::RemoveCancelled(n) => store.remove_from_cancelled_dates(&(*n).into()),
            Op::Pin(true) => store.enable_pinned(context, id),
            Op::Pin(false) => store.disable_pinned(),
            Op::PlaceName(n) => store.update_place(context, |place, context| {
                place.set_name(context, stamp, format!("p{n}"))
            }),
            Op::PlaceSeats(by) if *by < 0 => store.update_place(context, |place, context| {
                place.decrement_seats(context, id, u64::from(by.unsigned_abs()))
            }),
            Op::PlaceSeats(by) => store.update_place(context, |place, context| {
                place.increment_seats(context, id, u64::from(by.unsigned_abs()))
            }),
            Op::Accept(n) => {
                store.update_attendees(context, id, format!("a{n}"), |entry, context| {
                    entry.enable_accepted(context, id)
                })
            }
            Op::RemoveAttendee(n) => store.remove_from_attendees(&format!("a{n}")),
            Op::Edit(edit) => {
                let before = CausalDotStore {
                    store: store.clone(),
                    context: context.clone(),
                };
                let mut expected = store.to_value();
                edit.apply(&mut expected);
                let delta = store.edit(context, stamp, |meeting| edit.apply(meeting));
                assert_eq!(store.to_value(), expected, "the edit is applied in place");
                let elsewhere = before.joined(delta.clone());
                assert_eq!(
                    elsewhere.store.to_value(),
                    expected,
                    "the edit's delta, applied to the state it was made from, gives the edited value"
                );
                delta
            }
        }
    }
}

laws! {
    generated_struct_with_every_kind: Generated;
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Every state and delta of a random history, with every kind of field, decodes from
    /// its encoding as itself.
    #[test]
    fn every_state_and_delta_survives_the_wire(steps in steps::<Generated>()) {
        let history = run::<Generated>(&steps);
        for state in history.states_and_deltas() {
            match CausalDotStore::<MeetingCrdt>::decode(&state.encode()) {
                Ok(decoded) => prop_assert_eq!(&decoded, state),
                Err(error) => prop_assert!(false, "{error}"),
            }
        }
    }

    /// A replica on version 1, which knows two of the fields, receives every delta of a
    /// random history of version 3 and edits the fields it knows; its state then reaches
    /// a version-3 replica with nothing lost: every field of every kind, including those it
    /// joined without knowing them, equals what joining the deltas directly gives.
    #[test]
    fn an_older_replica_passes_on_what_it_does_not_know(steps in steps::<Generated>()) {
        let history = run::<Generated>(&steps);
        let mut old = CausalDotStore::<meeting_v1::MeetingCrdt>::new();
        for delta in history.deltas() {
            old.join(decoded(&delta.encode())?);
        }
        let mut clock = HybridClock::with_wall_clock(ReplicaId::new(9), ManualClock::new(2_000_000));
        let old_title = old.store.set_title(&mut old.context, clock.now(), "from v1".to_owned());
        let old_views = old.store.increment_views(&mut old.context, ReplicaId::new(9), 5);

        let mut direct: CausalDotStore<MeetingCrdt> =
            history.deltas().cloned().fold(CausalDotStore::new(), CausalDotStore::joined);
        direct.join(decoded(&old_title.encode())?);
        direct.join(decoded(&old_views.encode())?);
        let passed_on: CausalDotStore<MeetingCrdt> = decoded(&old.encode())?;
        prop_assert_eq!(&passed_on, &direct);
        // The unknown fields were joined as the typed ones were, not merely kept.
        let seen_as_old: CausalDotStore<meeting_v1::MeetingCrdt> = decoded(&direct.encode())?;
        prop_assert_eq!(&old, &seen_as_old);
        let (old_value, new_value) = (old.store.to_value(), direct.store.to_value());
        prop_assert_eq!(old_value.title, new_value.title);
        prop_assert_eq!(old_value.views, new_value.views);
    }
}

fn decoded<S: TypedStore>(bytes: &[u8]) -> Result<CausalDotStore<S>, TestCaseError> {
    CausalDotStore::decode(bytes).map_err(|error| TestCaseError::fail(error.to_string()))
}
