//! Reference points: a plain struct (the physical floor), a hand-written struct of
//! `(value, stamp)` per field merged field by field, serde_json, and a hand-written
//! FlatBuffers table of the plain struct.
#![allow(unsafe_code)] // The hand-written FlatBuffers reader of the reference table.

use flatbuffers::{
    FlatBufferBuilder, Follow, ForwardsUOffset, Table, Vector, Verifiable, Verifier,
};

use crate::harness::{Row, bytes_per, median, per, took, verdict};
use crate::workloads::{self, Event, Value, Write};

pub(crate) fn plain_w1(reps: usize) -> Option<Row> {
    let titles = workloads::titles();
    let (time, event) = median(reps, Event::default, |mut event| {
        for i in 0..workloads::W1_OPS {
            match workloads::w1_op(&titles, i) {
                Write::Title(title) => event.title = title.to_owned(),
                Write::UtcTime(time) => event.utc_time = time,
                Write::TzOffset(offset) => event.tz_offset = offset,
            }
            std::hint::black_box(&event);
        }
        event
    });
    let check = verdict(event == workloads::w1_expected(), "the final event differs");
    Some(Row::w1("reference: plain struct", time, None, check))
}

/// Each field with the stamp of its last write; merge keeps the greater stamp.
#[derive(Clone, Debug, Default, PartialEq)]
struct Stamped {
    title: (String, u64),
    utc_time: (i64, u64),
    tz_offset: (i64, u64),
}

impl Stamped {
    fn merge(&mut self, other: &Self) {
        fn field<T: Clone>(mine: &mut (T, u64), theirs: &(T, u64)) {
            if theirs.1 > mine.1 {
                mine.clone_from(theirs);
            }
        }
        field(&mut self.title, &other.title);
        field(&mut self.utc_time, &other.utc_time);
        field(&mut self.tz_offset, &other.tz_offset);
    }

    fn event(&self) -> Event {
        Event {
            title: self.title.0.clone(),
            utc_time: self.utc_time.0,
            tz_offset: self.tz_offset.0,
        }
    }
}

pub(crate) fn stamped_w1(reps: usize) -> Option<Row> {
    let titles = workloads::titles();
    let (time, stamped) = median(reps, Stamped::default, |mut stamped| {
        for i in 0..workloads::W1_OPS {
            let stamp = i as u64 + 1;
            match workloads::w1_op(&titles, i) {
                Write::Title(title) => stamped.title = (title.to_owned(), stamp),
                Write::UtcTime(time) => stamped.utc_time = (time, stamp),
                Write::TzOffset(offset) => stamped.tz_offset = (offset, stamp),
            }
            std::hint::black_box(&stamped);
        }
        stamped
    });
    let check = verdict(
        stamped.event() == workloads::w1_expected(),
        "the final event differs",
    );
    Some(Row::w1(
        "reference: (value, stamp) struct",
        time,
        None,
        check,
    ))
}

pub(crate) fn stamped_w2(reps: usize) -> Option<Row> {
    let (a_edits, b_edits) = workloads::w2();
    let base: Vec<Stamped> = (0..workloads::W2_EVENTS)
        .map(|i| {
            let event = workloads::base_event(i);
            Stamped {
                title: (event.title, 1),
                utc_time: (event.utc_time, 1),
                tz_offset: (event.tz_offset, 1),
            }
        })
        .collect();
    // Stamps: A's even, B's odd, so concurrent writes order the same everywhere.
    let apply = |side: &[workloads::Edit], parity: u64| {
        let mut events = base.clone();
        for (n, edit) in side.iter().enumerate() {
            let stamp = 2 + 2 * n as u64 + parity;
            let event = &mut events[edit.event];
            match &edit.value {
                Value::Title(title) => event.title = (title.clone(), stamp),
                Value::UtcTime(time) => event.utc_time = (*time, stamp),
                Value::TzOffset(offset) => event.tz_offset = (*offset, stamp),
            }
        }
        events
    };
    let (a, b) = (apply(&a_edits, 0), apply(&b_edits, 1));
    let merge = |mut into: Vec<Stamped>, from: &[Stamped]| {
        for (mine, theirs) in into.iter_mut().zip(from) {
            mine.merge(theirs);
        }
        into
    };
    let (time, merged) = median(reps, || a.clone(), |a| merge(a, &b));
    let other_way = merge(b.clone(), &a);
    let check = if merged != other_way {
        Err("A and B differ after merging both ways".to_owned())
    } else {
        let events: Vec<Event> = merged.iter().map(Stamped::event).collect();
        workloads::w2_check(&a_edits, &b_edits, &events)
    };
    Some(Row {
        system: "reference: (value, stamp) struct",
        cells: vec![
            took(time),
            "n/a".to_owned(),
            "n/a".to_owned(),
            "n/a".to_owned(),
        ],
        check,
    })
}

pub(crate) fn serde_json_w4(reps: usize) -> Option<Row> {
    let events: Vec<Event> = (0..workloads::W4_EVENTS)
        .map(workloads::base_event)
        .collect();
    let (encode, bytes) = median(
        reps,
        || (),
        |()| serde_json::to_vec(&events).unwrap_or_default(),
    );
    let (decode, decoded) = median(
        reps,
        || (),
        |()| serde_json::from_slice::<Vec<Event>>(&bytes).unwrap_or_default(),
    );
    let check = verdict(decoded == events, "decoded events differ");
    Some(Row {
        system: "reference: serde_json",
        cells: vec![
            per(encode, workloads::W4_EVENTS),
            per(decode, workloads::W4_EVENTS),
            format!("{} (same)", per(decode, workloads::W4_EVENTS)),
            bytes_per(bytes.len(), workloads::W4_EVENTS),
        ],
        check,
    })
}

/// A plain event as a FlatBuffers table: title (slot 4), utc_time (6), tz_offset (8).
#[derive(Clone, Copy)]
struct EventTable<'a>(Table<'a>);

impl<'a> Follow<'a> for EventTable<'a> {
    type Inner = Self;

    unsafe fn follow(buf: &'a [u8], loc: usize) -> Self {
        // SAFETY: reached only from a verified root.
        Self(unsafe { Table::new(buf, loc) })
    }
}

impl Verifiable for EventTable<'_> {
    fn run_verifier(
        v: &mut Verifier<'_, '_>,
        pos: usize,
    ) -> Result<(), flatbuffers::InvalidFlatbuffer> {
        v.visit_table(pos)?
            .visit_field::<ForwardsUOffset<&str>>("title", 4, false)?
            .visit_field::<i64>("utc_time", 6, false)?
            .visit_field::<i64>("tz_offset", 8, false)?
            .finish();
        Ok(())
    }
}

impl EventTable<'_> {
    fn event(&self) -> Event {
        // SAFETY: the verifier checked each slot as the type read here.
        unsafe {
            Event {
                title: self
                    .0
                    .get::<ForwardsUOffset<&str>>(4, None)
                    .unwrap_or_default()
                    .to_owned(),
                utc_time: self.0.get::<i64>(6, Some(0)).unwrap_or_default(),
                tz_offset: self.0.get::<i64>(8, Some(0)).unwrap_or_default(),
            }
        }
    }
}

/// The collection: a root table whose slot 4 is the vector of event tables.
#[derive(Clone, Copy)]
struct EventsTable<'a>(Table<'a>);

impl<'a> Follow<'a> for EventsTable<'a> {
    type Inner = Self;

    unsafe fn follow(buf: &'a [u8], loc: usize) -> Self {
        // SAFETY: reached only from a verified root.
        Self(unsafe { Table::new(buf, loc) })
    }
}

impl Verifiable for EventsTable<'_> {
    fn run_verifier(
        v: &mut Verifier<'_, '_>,
        pos: usize,
    ) -> Result<(), flatbuffers::InvalidFlatbuffer> {
        v.visit_table(pos)?
            .visit_field::<ForwardsUOffset<Vector<'_, ForwardsUOffset<EventTable<'_>>>>>(
                "events", 4, false,
            )?
            .finish();
        Ok(())
    }
}

impl<'a> EventsTable<'a> {
    fn events(&self) -> Option<Vector<'a, ForwardsUOffset<EventTable<'a>>>> {
        // SAFETY: the verifier checked the slot as this vector.
        unsafe {
            self.0
                .get::<ForwardsUOffset<Vector<'a, ForwardsUOffset<EventTable<'a>>>>>(4, None)
        }
    }
}

fn flatbuffers_encode(events: &[Event]) -> Vec<u8> {
    let mut fbb = FlatBufferBuilder::with_capacity(events.len() * 64);
    let tables: Vec<_> = events
        .iter()
        .map(|event| {
            let title = fbb.create_string(&event.title);
            let start = fbb.start_table();
            fbb.push_slot_always(4, title);
            fbb.push_slot::<i64>(6, event.utc_time, 0);
            fbb.push_slot::<i64>(8, event.tz_offset, 0);
            fbb.end_table(start)
        })
        .collect();
    let vector = fbb.create_vector(&tables);
    let start = fbb.start_table();
    fbb.push_slot_always(4, vector);
    let root = fbb.end_table(start);
    fbb.finish_minimal(root);
    fbb.finished_data().to_vec()
}

/// The verifier's limits, sized for the whole collection.
fn verifier_options(bytes: &[u8]) -> flatbuffers::VerifierOptions {
    flatbuffers::VerifierOptions {
        max_tables: bytes.len() / 4,
        max_apparent_size: bytes.len() * 2,
        ..Default::default()
    }
}

fn flatbuffers_decode(bytes: &[u8]) -> Result<EventsTable<'_>, String> {
    flatbuffers::root_with_opts::<EventsTable<'_>>(&verifier_options(bytes), bytes)
        .map_err(|error| error.to_string())
}

pub(crate) fn flatbuffers_w4(reps: usize) -> Option<Row> {
    let events: Vec<Event> = (0..workloads::W4_EVENTS)
        .map(workloads::base_event)
        .collect();
    let (encode, bytes) = median(reps, || (), |()| flatbuffers_encode(&events));
    let (decode, _) = median(
        reps,
        || (),
        |()| flatbuffers_decode(&bytes).map(|root| root.events().map_or(0, |e| e.len())),
    );
    let (read, decoded) = median(
        reps,
        || (),
        |()| {
            flatbuffers_decode(&bytes).map(|root| {
                root.events()
                    .map(|tables| tables.iter().map(|table| table.event()).collect())
                    .unwrap_or_default()
            })
        },
    );
    let check =
        decoded.and_then(|decoded: Vec<Event>| verdict(decoded == events, "decoded events differ"));
    Some(Row::w4(
        "reference: FlatBuffers table",
        [encode, decode, read],
        bytes.len(),
        check,
    ))
}
