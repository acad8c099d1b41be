//! The workloads' data, shared by every system: the operations, the seeds and the checks.

use serde::{Deserialize, Serialize};

/// The document of every workload.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub(crate) struct Event {
    pub(crate) title: String,
    pub(crate) utc_time: i64,
    pub(crate) tz_offset: i64,
}

pub(crate) const W1_OPS: usize = 1_000_000;
pub(crate) const W2_EVENTS: usize = 10_000;
pub(crate) const W4_EVENTS: usize = 100_000;

/// The 100 titles W1 writes, built beforehand.
pub(crate) fn titles() -> Vec<String> {
    (0..100).map(|i| format!("meeting-{i}")).collect()
}

/// W1's operation `i`: which field it writes, and the value.
pub(crate) enum Write<'a> {
    Title(&'a str),
    UtcTime(i64),
    TzOffset(i64),
}

pub(crate) fn w1_op(titles: &[String], i: usize) -> Write<'_> {
    match i % 3 {
        0 => Write::Title(&titles[i % 100]),
        1 => Write::UtcTime(i as i64),
        _ => Write::TzOffset((i % 24) as i64),
    }
}

/// The event after all of W1's operations.
pub(crate) fn w1_expected() -> Event {
    let last = |field: usize| (0..W1_OPS).rev().find(|i| i % 3 == field).unwrap_or(0);
    Event {
        title: format!("meeting-{}", last(0) % 100),
        utc_time: last(1) as i64,
        tz_offset: (last(2) % 24) as i64,
    }
}

/// Event `i` of the synced base.
pub(crate) fn base_event(i: usize) -> Event {
    Event {
        title: format!("event-{i}"),
        utc_time: 1_767_225_600_000_000 + i as i64 * 60_000_000,
        tz_offset: (i % 24) as i64 * 3600,
    }
}

/// One field edit of W2 and W3.
#[derive(Clone, Debug)]
pub(crate) struct Edit {
    pub(crate) event: usize,
    pub(crate) value: Value,
}

/// A field and its new value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Value {
    Title(String),
    UtcTime(i64),
    TzOffset(i64),
}

impl Value {
    pub(crate) fn apply(&self, event: &mut Event) {
        match self {
            Value::Title(title) => event.title.clone_from(title),
            Value::UtcTime(time) => event.utc_time = *time,
            Value::TzOffset(offset) => event.tz_offset = *offset,
        }
    }
}

/// A small xorshift generator: the workloads depend on nothing but their seeds.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The edits of one side of W2: one random field on about half of the events.
pub(crate) fn w2_edits(seed: u64, side: &str) -> Vec<Edit> {
    let mut random = Random(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    (0..W2_EVENTS)
        .filter_map(|event| {
            let roll = random.next();
            if roll.is_multiple_of(2) {
                return None;
            }
            let value = match (roll >> 8) % 3 {
                0 => Value::Title(format!("{side}-{event}")),
                1 => Value::UtcTime((roll >> 16) as i64 % 1_000_000_000),
                _ => Value::TzOffset(((roll >> 16) % 24) as i64 * 1800),
            };
            Some(Edit { event, value })
        })
        .collect()
}

/// W2's two sides' edits.
pub(crate) fn w2() -> (Vec<Edit>, Vec<Edit>) {
    (w2_edits(1, "a"), w2_edits(2, "b"))
}

/// Whether every field of the merged events is the base value, the single editor's, or
/// one of the two concurrent ones.
pub(crate) fn w2_check(a: &[Edit], b: &[Edit], merged: &[Event]) -> Result<(), String> {
    if merged.len() != W2_EVENTS {
        return Err(format!("{} events, not {W2_EVENTS}", merged.len()));
    }
    let by_event = |edits: &[Edit]| -> std::collections::HashMap<usize, Value> {
        edits
            .iter()
            .map(|edit| (edit.event, edit.value.clone()))
            .collect()
    };
    let (a, b) = (by_event(a), by_event(b));
    for (index, event) in merged.iter().enumerate() {
        let base = base_event(index);
        let mut allowed = vec![base.clone()];
        for edit in [a.get(&index), b.get(&index)].into_iter().flatten() {
            let mut edited = base.clone();
            edit.apply(&mut edited);
            allowed.push(edited);
        }
        let ok = allowed.iter().any(|c| c.title == event.title)
            && allowed.iter().any(|c| c.utc_time == event.utc_time)
            && allowed.iter().any(|c| c.tz_offset == event.tz_offset);
        if !ok {
            return Err(format!("event {index} is {event:?}"));
        }
    }
    Ok(())
}

/// W3's edits in round `round` of its repeated syncs: 1 field of event 0, then 100 fields
/// of events 1 to 100. Every round writes values no other round (and no W2 edit) wrote, so
/// that no library can skip a write of the value it holds; the values keep one length (a
/// six-digit round in the title, times of sixteen digits), so that every round's message
/// is the same size.
pub(crate) fn w3_edits(round: usize) -> (Edit, Vec<Edit>) {
    let one = Edit {
        event: 0,
        value: Value::Title(format!("moved-{round:06}")),
    };
    let hundred = (1..=100)
        .map(|event| Edit {
            event,
            value: Value::UtcTime(1_800_000_000_000_000 + round as i64 * 1_000 + event as i64),
        })
        .collect();
    (one, hundred)
}
