//! Shared fixtures of crdtype's integration tests: structs that exercise every field kind.

use std::collections::{BTreeMap, BTreeSet};

use crdtype::Crdt;

pub mod fuzzing;
pub mod versions;

/// The product's running example.
#[derive(Crdt, Debug, Clone, PartialEq, Default)]
#[crdt(name = "calendar.Event", version = 2)]
pub struct CalendarEvent {
    /// What the event is.
    pub title: String,
    /// Start, in microseconds since the Unix epoch.
    pub utc_time: i64,
    /// Offset of the organiser's time zone, in seconds.
    pub tz_offset: i32,
    /// Where it takes place; added in version 2.
    #[crdt(since = 2, default)]
    pub location: String,
}

/// An attendee, nested in [`Meeting`] as map values.
#[derive(Crdt, Debug, Clone, PartialEq, Default)]
pub struct Attendee {
    /// Display name.
    pub name: String,
    /// Whether they accepted.
    #[crdt(flag)]
    pub accepted: bool,
}

/// A place, nested in [`Meeting`].
#[derive(Crdt, Debug, Clone, PartialEq, Default)]
pub struct Place {
    /// Name of the place.
    pub name: String,
    /// Seats available.
    #[crdt(counter)]
    pub seats: u32,
}

/// A struct using every field kind.
#[derive(Crdt, Debug, Clone, PartialEq, Default)]
#[crdt(version = 3, reserved(11), views(summary))]
pub struct Meeting {
    /// A last-writer-wins register.
    #[crdt(view(summary))]
    pub title: String,
    /// A multi-value register.
    #[crdt(mv)]
    pub room: String,
    /// A counter, which only the server counts: input may not write it.
    #[crdt(counter, read_only)]
    pub views: i64,
    /// An add-wins set.
    #[crdt(set)]
    pub tags: BTreeSet<String>,
    /// A two-phase set.
    #[crdt(two_phase_set)]
    pub cancelled_dates: BTreeSet<u32>,
    /// An enable-wins flag.
    #[crdt(flag, view(summary))]
    pub pinned: bool,
    /// A nested struct.
    #[crdt(nested)]
    pub place: Place,
    /// A map of nested structs.
    #[crdt(map, id = 10)]
    pub attendees: BTreeMap<String, Attendee>,
    /// Local only.
    #[crdt(skip, default)]
    pub draft_note: String,
    /// Added later, with a default function and a previous name.
    #[crdt(since = 3, default = "default_priority", renamed_from = "importance")]
    pub priority: u8,
}

/// A meeting with a value in every replicated field (a tag, a cancelled date, a place, an
/// attendee), for tests and fuzz targets to start from.
pub fn sample_meeting() -> Meeting {
    Meeting {
        title: "Planning".to_owned(),
        room: "Blue".to_owned(),
        views: 7,
        tags: ["q3".to_owned()].into(),
        cancelled_dates: [1].into(),
        pinned: false,
        place: Place {
            name: "HQ".to_owned(),
            seats: 10,
        },
        attendees: [(
            "ada".to_owned(),
            Attendee {
                name: "Ada".to_owned(),
                accepted: false,
            },
        )]
        .into(),
        draft_note: String::new(),
        priority: 2,
    }
}

fn default_priority() -> u8 {
    3
}

/// A seat: only a flag and a two-phase set, so a fresh one holds no dots.
#[derive(Crdt, Debug, Clone, PartialEq, Default)]
pub struct Seat {
    /// Whether someone sits there.
    #[crdt(flag)]
    pub taken: bool,
    /// Rows this seat was retired from, for good.
    #[crdt(two_phase_set)]
    pub retired_rows: BTreeSet<u8>,
}

/// A hall of seats: a map whose values may hold no dots.
#[derive(Crdt, Debug, Clone, PartialEq, Default)]
pub struct Hall {
    /// Seats by number.
    #[crdt(map)]
    pub seats: BTreeMap<u32, Seat>,
}

/// Runs a sync session between `a` (which starts) and `b` in this process, as
/// [`sync_with`](crdtype::replica::sync::sync_with) does, but stops after `messages`
/// messages were delivered: a connection lost mid-session.
pub fn interrupted_sync<A: Crdt, B: Crdt, D, E, W, X>(
    a: &mut crdtype::replica::Replica<A, D, W>,
    b: &mut crdtype::replica::Replica<B, E, X>,
    limits: crdtype::replica::sync::SyncLimits,
    messages: usize,
) where
    D: crdtype::replica::Store,
    E: crdtype::replica::Store,
    W: crdtype::WallClock,
    X: crdtype::WallClock,
{
    use crdtype::replica::sync::SyncSession;
    let (mut a_side, mut b_side) = (
        SyncSession::with_limits(limits),
        SyncSession::with_limits(limits),
    );
    let mut flight = vec![a_side.start(a)];
    let mut delivered = 0;
    for to_b in [true, false].into_iter().cycle() {
        if flight.is_empty() {
            return;
        }
        let mut answers = Vec::new();
        for message in flight {
            if delivered == messages {
                return;
            }
            delivered += 1;
            answers.extend(if to_b {
                b_side.handle(b, &message).unwrap()
            } else {
                a_side.handle(a, &message).unwrap()
            });
        }
        flight = answers;
    }
}
