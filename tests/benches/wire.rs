//! The wire format: encode and decode of a one-field delta, decode and read of whole
//! states, against serde_json and a hand-written FlatBuffers table of the plain struct in
//! the same run: `cargo bench -p crdtype-tests --bench wire`. Sizes are printed first.
//!
//! The benchmarks of one encoding or decoding time samples of 100 iterations: left to
//! choose, divan took a single iteration per sample for some (after a slow first run),
//! whose timing is as coarse as the timer (18 ns here).

#![allow(unsafe_code)] // The hand-written FlatBuffers reader of the reference table.

use crdtype::wire::Encoder;
use crdtype::{CausalDotStore, HybridClock, ManualClock, ReplicaId, Timestamp};
use crdtype_tests::{CalendarEvent, CalendarEventCrdt};
use divan::{Bencher, black_box};
use flatbuffers::{FlatBufferBuilder, Follow, ForwardsUOffset, Table, Verifiable, Verifier};

fn main() {
    let delta = one_field_delta();
    let state = CalendarEventCrdt::from_value(&event(0), stamp(1, 1_000));
    let three = three_field_state();
    eprintln!(
        "sizes: one-field delta {} bytes (title payload {}); full 4-field state {} bytes \
         (string payloads {}); 3-field state {} bytes (payload {}); plain table {} bytes; \
         plain JSON {} bytes",
        delta.encode().len(),
        "Retro".len(),
        state.encode().len(),
        "Standup".len() + "Room 4".len(),
        three.encode().len(),
        "Standup".len(),
        plain_table(&event(0)).len(),
        plain_json(&event(0)).len(),
    );
    divan::main();
}

fn stamp(replica: u64, micros: u64) -> Timestamp {
    HybridClock::with_wall_clock(ReplicaId::new(replica), ManualClock::new(micros)).now()
}

fn event(index: i64) -> CalendarEvent {
    CalendarEvent {
        title: "Standup".to_owned(),
        utc_time: 1_767_225_600_000_000 + index,
        tz_offset: 3_600,
        location: "Room 4".to_owned(),
    }
}

/// The delta of `set_title` on an event with one write per field.
fn one_field_delta() -> CausalDotStore<CalendarEventCrdt> {
    let mut state = CalendarEventCrdt::from_value(&event(0), stamp(1, 1_000));
    state
        .store
        .set_title(&mut state.context, stamp(1, 2_000), "Retro".to_owned())
}

/// The "3-field state": title, time and offset written, location null.
fn three_field_state() -> CausalDotStore<CalendarEventCrdt> {
    let mut state = CalendarEventCrdt::from_value(&event(0), stamp(1, 1_000));
    let _ = state.store.delete_location();
    state
}

#[divan::bench(sample_size = 100)]
fn delta_encode(bencher: Bencher<'_, '_>) {
    let delta = one_field_delta();
    bencher.bench_local(|| black_box(&delta).encode());
}

/// The same into a reused encoder: no allocation.
#[divan::bench(sample_size = 100)]
fn delta_encode_reusing_the_buffer(bencher: Bencher<'_, '_>) {
    let delta = one_field_delta();
    let mut encoder = Encoder::new();
    bencher.bench_local(|| black_box(black_box(&delta).encode_with(&mut encoder).len()));
}

#[divan::bench(sample_size = 100)]
fn delta_decode(bencher: Bencher<'_, '_>) {
    let bytes = one_field_delta().encode();
    bencher.bench_local(|| CausalDotStore::<CalendarEventCrdt>::decode(black_box(&bytes)));
}

const EVENTS: usize = 100_000;

/// Decodes 100,000 full events and reads every field of each: divide by 100,000.
#[divan::bench(sample_count = 20, sample_size = 1)]
fn state_decode_and_read_100k(bencher: Bencher<'_, '_>) {
    let encoded: Vec<Vec<u8>> = (0..EVENTS as i64)
        .map(|index| CalendarEventCrdt::from_value(&event(index), stamp(1, 1_000)).encode())
        .collect();
    bencher.bench_local(|| {
        for bytes in &encoded {
            let state = CausalDotStore::<CalendarEventCrdt>::decode(bytes).unwrap();
            black_box(state.store.to_value());
        }
    });
}

// References: the plain struct, without any CRDT metadata.

#[derive(serde::Serialize, serde::Deserialize)]
struct PlainEvent {
    title: String,
    utc_time: i64,
    tz_offset: i32,
    location: String,
}

fn plain_json(event: &CalendarEvent) -> Vec<u8> {
    serde_json::to_vec(&PlainEvent {
        title: event.title.clone(),
        utc_time: event.utc_time,
        tz_offset: event.tz_offset,
        location: event.location.clone(),
    })
    .unwrap()
}

#[divan::bench(sample_count = 20, sample_size = 1)]
fn reference_serde_json_decode_100k(bencher: Bencher<'_, '_>) {
    let encoded: Vec<Vec<u8>> = (0..EVENTS as i64)
        .map(|index| plain_json(&event(index)))
        .collect();
    bencher.bench_local(|| {
        for bytes in &encoded {
            black_box(serde_json::from_slice::<PlainEvent>(bytes).unwrap());
        }
    });
}

/// `table Event { title: string; utc_time: long; tz_offset: int; location: string; }`
#[derive(Clone, Copy)]
struct PlainTable<'a>(Table<'a>);

impl<'a> Follow<'a> for PlainTable<'a> {
    type Inner = Self;

    unsafe fn follow(buf: &'a [u8], loc: usize) -> Self {
        // SAFETY: reached only from a verified root.
        Self(unsafe { Table::new(buf, loc) })
    }
}

impl Verifiable for PlainTable<'_> {
    fn run_verifier(
        v: &mut Verifier<'_, '_>,
        pos: usize,
    ) -> Result<(), flatbuffers::InvalidFlatbuffer> {
        v.visit_table(pos)?
            .visit_field::<ForwardsUOffset<&str>>("title", 4, false)?
            .visit_field::<i64>("utc_time", 6, false)?
            .visit_field::<i32>("tz_offset", 8, false)?
            .visit_field::<ForwardsUOffset<&str>>("location", 10, false)?
            .finish();
        Ok(())
    }
}

fn plain_table(event: &CalendarEvent) -> Vec<u8> {
    let mut fbb = FlatBufferBuilder::new();
    let title = fbb.create_string(&event.title);
    let location = fbb.create_string(&event.location);
    let start = fbb.start_table();
    fbb.push_slot_always(4, title);
    fbb.push_slot::<i64>(6, event.utc_time, 0);
    fbb.push_slot::<i32>(8, event.tz_offset, 0);
    fbb.push_slot_always(10, location);
    let root = fbb.end_table(start);
    fbb.finish_minimal(root);
    fbb.finished_data().to_vec()
}

fn read_plain_table(bytes: &[u8]) -> CalendarEvent {
    let table = flatbuffers::root::<PlainTable<'_>>(bytes).unwrap().0;
    // SAFETY: each slot was verified as the type read here.
    unsafe {
        CalendarEvent {
            title: table
                .get::<ForwardsUOffset<&str>>(4, None)
                .unwrap_or_default()
                .to_owned(),
            utc_time: table.get::<i64>(6, Some(0)).unwrap_or_default(),
            tz_offset: table.get::<i32>(8, Some(0)).unwrap_or_default(),
            location: table
                .get::<ForwardsUOffset<&str>>(10, None)
                .unwrap_or_default()
                .to_owned(),
        }
    }
}

#[divan::bench(sample_count = 20, sample_size = 1)]
fn reference_plain_flatbuffers_decode_and_read_100k(bencher: Bencher<'_, '_>) {
    let encoded: Vec<Vec<u8>> = (0..EVENTS as i64)
        .map(|index| plain_table(&event(index)))
        .collect();
    bencher.bench_local(|| {
        for bytes in &encoded {
            black_box(read_plain_table(bytes));
        }
    });
}

#[divan::bench(sample_size = 100)]
fn reference_plain_flatbuffers_encode(bencher: Bencher<'_, '_>) {
    let event = event(0);
    bencher.bench_local(|| plain_table(black_box(&event)));
}

#[divan::bench(sample_size = 100)]
fn reference_serde_json_encode(bencher: Bencher<'_, '_>) {
    let event = event(0);
    bencher.bench_local(|| plain_json(black_box(&event)));
}
