//! The wire format from the outside: what replicas on other versions read, and what
//! malformed bytes get (an error, never a panic, within bounded memory).

#![allow(unsafe_code)] // The counting allocator below: a thin wrapper around `System`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use crdtype::wire::{DecodeError, Limits};
use crdtype::{CausalContext, CausalDotStore, HybridClock, ManualClock, ReplicaId, Timestamp};
use crdtype_tests::versions::{meeting_v1, meeting_v2};
use crdtype_tests::{
    Attendee, CalendarEvent, CalendarEventCrdt, Hall, HallCrdt, Meeting, MeetingCrdt, Place, Seat,
};

fn stamp(micros: u64) -> Timestamp {
    HybridClock::with_wall_clock(ReplicaId::new(1), ManualClock::new(micros)).now()
}

fn meeting() -> Meeting {
    Meeting {
        title: "Planning".to_owned(),
        room: "Blue".to_owned(),
        views: -4,
        tags: ["q3".to_owned(), "team".to_owned()].into(),
        cancelled_dates: [20_260_101].into(),
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
        priority: 5,
    }
}

#[test]
fn an_encoding_carries_the_writers_schema_name_and_version() {
    let state = MeetingCrdt::from_value(&meeting(), stamp(1_000));
    let decoded =
        CausalDotStore::<MeetingCrdt>::decode_with(&state.encode(), &Limits::default()).unwrap();
    assert_eq!(decoded.writer_version, 3);
    assert_eq!(decoded.state, state);

    let old = meeting_v1::MeetingCrdt::from_value(&meeting_v1::Meeting::default(), stamp(1));
    let read = CausalDotStore::<MeetingCrdt>::decode_with(&old.encode(), &Limits::default());
    assert_eq!(read.unwrap().writer_version, 1);

    let event = CalendarEventCrdt::from_value(&CalendarEvent::default(), stamp(1));
    match CausalDotStore::<MeetingCrdt>::decode(&event.encode()) {
        Err(DecodeError::WrongSchema { expected, found }) => {
            assert_eq!((expected, found.as_str()), ("Meeting", "calendar.Event"));
        }
        other => panic!("expected a wrong-schema error, got {other:?}"),
    }
}

#[test]
fn a_newer_replica_reads_older_bytes_with_defaults_and_renamed_fields_by_id() {
    let v1 = meeting_v1::MeetingCrdt::from_value(
        &meeting_v1::Meeting {
            title: "Standup".to_owned(),
            views: 7,
        },
        stamp(1_000),
    );
    let read = CausalDotStore::<MeetingCrdt>::decode(&v1.encode()).unwrap();
    assert_eq!(
        read.store.to_value(),
        Meeting {
            title: "Standup".to_owned(),
            views: 7,
            // Added since: the declared default function, not `u8::default()`.
            priority: 3,
            ..Meeting::default()
        }
    );

    let v2 = meeting_v2::MeetingCrdt::from_value(
        &meeting_v2::Meeting {
            title: "Review".to_owned(),
            views: 1,
            pinned: true,
            importance: 8,
        },
        stamp(2_000),
    );
    let read = CausalDotStore::<MeetingCrdt>::decode(&v2.encode())
        .unwrap()
        .store
        .to_value();
    assert_eq!(
        (read.pinned, read.priority),
        (true, 8),
        "`importance` is `priority` by id"
    );
}

#[test]
fn an_older_replica_keeps_newer_fields_and_sends_them_back() {
    let new = MeetingCrdt::from_value(&meeting(), stamp(1_000));
    let old = CausalDotStore::<meeting_v1::MeetingCrdt>::decode(&new.encode()).unwrap();
    assert_eq!(old.store.to_value().title, "Planning");
    assert_eq!(
        old.store.unknown_fields.ids().collect::<Vec<_>>(),
        [1, 3, 4, 5, 6, 9, 10],
        "every field but the two it knows"
    );
    let back = CausalDotStore::<MeetingCrdt>::decode(&old.encode()).unwrap();
    assert_eq!(back, new);
    assert_eq!(back.store.to_value(), meeting());
}

#[test]
fn a_state_whose_dots_its_context_does_not_cover_is_refused() {
    let state = MeetingCrdt::from_value(&meeting(), stamp(1_000));
    let forged = CausalDotStore {
        store: state.store,
        context: CausalContext::new(),
    };
    assert!(matches!(
        CausalDotStore::<MeetingCrdt>::decode(&forged.encode()),
        Err(DecodeError::Delta(_))
    ));
}

#[test]
fn limits_are_enforced() {
    let bytes = MeetingCrdt::from_value(&meeting(), stamp(1_000)).encode();
    let decode = |limits: Limits| CausalDotStore::<MeetingCrdt>::decode_with(&bytes, &limits);
    assert!(decode(Limits::default()).is_ok());
    assert!(matches!(
        decode(Limits {
            max_bytes: bytes.len() - 1,
            ..Limits::default()
        }),
        Err(DecodeError::TooLarge { .. })
    ));
    for limits in [
        Limits {
            max_depth: 3,
            ..Limits::default()
        },
        Limits {
            max_tables: 10,
            ..Limits::default()
        },
        Limits {
            max_apparent_size: 64,
            ..Limits::default()
        },
    ] {
        assert!(
            matches!(decode(limits), Err(DecodeError::Malformed(_))),
            "{limits:?}"
        );
    }
}

#[test]
fn limits_for_a_length_accept_a_large_document_that_the_defaults_refuse() {
    let seats = (0..100_000u32)
        .map(|seat| {
            let taken = Seat {
                taken: true,
                ..Seat::default()
            };
            (seat, taken)
        })
        .collect();
    let hall = Hall { seats };
    let bytes = HallCrdt::from_value(&hall, stamp(1_000)).encode();
    assert!(CausalDotStore::<HallCrdt>::decode(&bytes).is_err());
    let decoded =
        CausalDotStore::<HallCrdt>::decode_with(&bytes, &Limits::for_length(bytes.len())).unwrap();
    assert_eq!(decoded.state.store.to_value(), hall);
}

#[test]
fn encodings_in_turn_on_one_thread_each_round_trip_whatever_their_sizes() {
    // `encode` builds in a buffer kept per thread, let go after an encoding past 64 KiB.
    let small = MeetingCrdt::from_value(&meeting(), stamp(1_000));
    let seats = (0..2_000u32).map(|seat| (seat, Seat::default())).collect();
    let large = HallCrdt::from_value(&Hall { seats }, stamp(1_000));
    for _ in 0..2 {
        let bytes = small.encode();
        assert_eq!(
            CausalDotStore::<MeetingCrdt>::decode(&bytes).unwrap(),
            small
        );
        let bytes = large.encode();
        assert!(bytes.len() > 64 << 10);
        assert_eq!(CausalDotStore::<HallCrdt>::decode(&bytes).unwrap(), large);
    }
}

/// Register values of every kind the wire has: nullable, boolean, floating point.
#[derive(crdtype::Crdt, Clone, Debug, Default, PartialEq)]
struct Reading {
    label: Option<String>,
    valid: bool,
    ratio: f64,
    scale: f32,
    #[crdt(mv)]
    offset: Option<i32>,
}

#[test]
fn values_of_every_kind_survive_the_wire_nulls_and_mixed_lists_included() {
    let reading = Reading {
        label: None,
        valid: true,
        ratio: -0.125,
        scale: 1.5,
        offset: Some(-3),
    };
    let mut state = ReadingCrdt::from_value(&reading, stamp(1_000));
    assert_eq!(
        CausalDotStore::<ReadingCrdt>::decode(&state.encode()).unwrap(),
        state
    );
    // Concurrent writes of a value and of a null: one list of values of two kinds.
    let mut other = state.clone();
    let bob = HybridClock::with_wall_clock(ReplicaId::new(2), ManualClock::new(2_000)).now();
    let ours = state
        .store
        .set_offset(&mut state.context, ReplicaId::new(1), Some(7));
    let theirs = other
        .store
        .set_offset(&mut other.context, bob.replica, None);
    state.join(theirs);
    assert_eq!(state.store.offset().count(), 2, "two concurrent values");
    let decoded = CausalDotStore::<ReadingCrdt>::decode(&state.encode()).unwrap();
    assert_eq!(decoded, state);
    assert_eq!(
        decoded.store.offset().cloned().collect::<Vec<_>>(),
        [Some(7), None]
    );
    drop(ours);
}

#[test]
fn encoding_into_a_reused_encoder_allocates_nothing() {
    let mut state = MeetingCrdt::from_value(&meeting(), stamp(1_000));
    let delta = state
        .store
        .set_title(&mut state.context, stamp(2_000), "Retro".to_owned());
    let mut encoder = crdtype::wire::Encoder::new();
    let first = delta.encode_with(&mut encoder).to_vec();
    let before = LIVE.get();
    PEAK.set(before);
    let again = delta.encode_with(&mut encoder).len();
    assert_eq!(PEAK.get(), before, "no allocation");
    assert_eq!(again, first.len());
}

/// An encoding whose many map entries all point at one shared child: verification counts
/// each visit, and decoding costs memory per entry, in proportion to the input (this
/// crafted shape is the costliest per byte known: about 32 bytes held per byte read, the
/// figure `Limits` documents), before validation refuses the one dot stored under every
/// key.
#[test]
fn shared_children_cost_memory_in_proportion_to_the_input() {
    use flatbuffers::{FlatBufferBuilder, WIPOffset};
    const ENTRIES: u64 = 50_000;
    let mut fbb = FlatBufferBuilder::new();
    // The child: a node with one dot, (1, 1).
    let dots = fbb.create_vector(&[1u64, 1]);
    let start = fbb.start_table();
    fbb.push_slot_always(4, dots);
    let child = fbb.end_table(start);
    let children = fbb.create_vector(&vec![child; ENTRIES as usize]);
    let keys: Vec<u64> = (0..ENTRIES).collect();
    let keys = fbb.create_vector(&keys);
    let start = fbb.start_table();
    fbb.push_slot_always(4 + 2 * 2, keys); // Values.uints
    let keys = fbb.end_table(start);
    let start = fbb.start_table();
    fbb.push_slot_always(4 + 2 * 10, keys); // Node.keys
    fbb.push_slot_always(4 + 2 * 11, children); // Node.children
    let node = fbb.end_table(start);
    let start = fbb.start_table();
    fbb.push_slot_always(4 + 2 * 20, node); // field 20, which `Meeting` does not have
    let record = fbb.end_table(start);
    let schema = fbb.create_string("Meeting");
    let context = fbb.create_vector(&[1u64, 1, 1]);
    let start = fbb.start_table();
    fbb.push_slot_always(4, schema);
    fbb.push_slot::<u32>(6, 9, 0);
    fbb.push_slot_always(8, context);
    fbb.push_slot_always::<WIPOffset<_>>(10, record);
    let root = fbb.end_table(start);
    fbb.finish_minimal(root);
    let bytes = fbb.finished_data();

    let (decoded, peak) = decode_measured::<MeetingCrdt>(bytes);
    assert!(!decoded, "refused: one dot stored under 50,000 keys");
    assert!(
        peak <= 40 * bytes.len(),
        "{peak} bytes held for {} bytes of input",
        bytes.len()
    );
    let limits = Limits {
        max_tables: 10_000,
        ..Limits::default()
    };
    assert!(CausalDotStore::<MeetingCrdt>::decode_with(bytes, &limits).is_err());
}

// Malformed input: the cases the issue lists, on three entry points, with the memory each
// decode allocates at its peak measured by a counting allocator.

struct CountingAllocator;

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded to `System` unchanged; the counters are plain
// thread-local cells, which neither allocate nor re-enter the allocator.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.get() + layout.size();
        LIVE.set(live);
        PEAK.set(PEAK.get().max(live));
        // SAFETY: forwarded.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.set(LIVE.get().saturating_sub(layout.size()));
        // SAFETY: forwarded.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Decodes `bytes` as `S`, returning whether it decoded and the most memory the decode
/// held at once beyond what was live before it.
fn decode_measured<S: crdtype::TypedStore>(bytes: &[u8]) -> (bool, usize) {
    let before = LIVE.get();
    PEAK.set(before);
    let decoded = CausalDotStore::<S>::decode(bytes).is_ok();
    (decoded, PEAK.get() - before)
}

/// The memory a decode of `length` bytes may hold: a fixed allowance plus a multiple of
/// the input. Decoding's allocations grow with the bytes it reads (values, dots, nodes).
fn memory_bound(length: usize) -> usize {
    64 * 1024 + 64 * length
}

/// A small deterministic generator (xorshift64*), so that failures reproduce.
struct Bytes(u64);

impl Bytes {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn string(&mut self, max: usize) -> Vec<u8> {
        let length = usize::try_from(self.next()).unwrap_or(0) % (max + 1);
        (0..length).map(|_| self.next().to_le_bytes()[0]).collect()
    }
}

fn batter<S: crdtype::TypedStore>(valid: &[u8], seed: u64) {
    let check = |bytes: &[u8], what: &str| {
        let (_, peak) = decode_measured::<S>(bytes);
        assert!(
            peak <= memory_bound(bytes.len()),
            "{what}: {peak} bytes held for {} bytes of input",
            bytes.len()
        );
    };
    assert!(decode_measured::<S>(valid).0, "the valid encoding decodes");
    for end in 0..valid.len() {
        check(&valid[..end], "a prefix");
    }
    for index in 0..valid.len() {
        for value in [0x00, 0xff, 0x80, 0x01, valid[index] ^ 0x40] {
            let mut mutated = valid.to_vec();
            mutated[index] = value;
            check(&mutated, "a single-byte mutation");
        }
    }
    let mut random = Bytes(seed);
    for _ in 0..10_000 {
        let bytes = random.string(2 * valid.len());
        check(&bytes, "random bytes");
    }
    for _ in 0..2_000 {
        // Random bytes rarely get past the verifier; valid ones with a few bytes changed do.
        let mut mutated = valid.to_vec();
        for _ in 0..1 + random.next() % 4 {
            let index = usize::try_from(random.next()).unwrap_or(0) % mutated.len();
            mutated[index] = random.next().to_le_bytes()[0];
        }
        check(&mutated, "a few random mutations");
    }
}

#[test]
fn malformed_calendar_events_get_errors_never_panics() {
    let event = CalendarEvent {
        title: "Standup".to_owned(),
        utc_time: 1_790_000_000_000_000,
        tz_offset: 3_600,
        location: "Room 4".to_owned(),
    };
    let mut state = CalendarEventCrdt::from_value(&event, stamp(1_000));
    let delta = state
        .store
        .set_title(&mut state.context, stamp(2_000), "Retro".to_owned());
    batter::<CalendarEventCrdt>(&state.encode(), 1);
    batter::<CalendarEventCrdt>(&delta.encode(), 2);
}

#[test]
fn malformed_meetings_get_errors_never_panics() {
    batter::<MeetingCrdt>(
        &MeetingCrdt::from_value(&meeting(), stamp(1_000)).encode(),
        3,
    );
}

#[test]
fn malformed_halls_get_errors_never_panics() {
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
    batter::<HallCrdt>(&HallCrdt::from_value(&hall, stamp(1_000)).encode(), 4);
}
