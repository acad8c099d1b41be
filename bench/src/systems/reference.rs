//! Reference points: a plain struct (the physical floor), a hand-written struct of
//! `(value, stamp)` per field merged field by field, and serde_json.

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
