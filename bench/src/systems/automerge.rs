//! Automerge: an event is a map of three keys; a collection, a map of such maps by number.

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue};

use crate::harness::{self, Row, median, verdict};
use crate::workloads::{self, Edit, Event, Value, Write};

pub(super) const NAME: &str = "Automerge 0.12";

fn doc(actor: u8) -> AutoCommit {
    AutoCommit::new().with_actor(ActorId::from(&[actor; 16][..]))
}

fn read_event(doc: &AutoCommit, map: &ObjId) -> Event {
    let value = |key: &str| doc.get(map, key).ok().flatten().map(|(value, _)| value);
    Event {
        title: value("title")
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_default(),
        utc_time: value("utc_time")
            .and_then(|value| value.as_i64())
            .unwrap_or(i64::MIN),
        tz_offset: value("tz_offset")
            .and_then(|value| value.as_i64())
            .unwrap_or(i64::MIN),
    }
}

fn write(doc: &mut AutoCommit, map: &ObjId, value: &Value) {
    let _ = match value {
        Value::Title(title) => doc.put(map, "title", title.as_str()),
        Value::UtcTime(time) => doc.put(map, "utc_time", ScalarValue::Int(*time)),
        Value::TzOffset(offset) => doc.put(map, "tz_offset", ScalarValue::Int(*offset)),
    };
}

pub(crate) fn w1(reps: usize) -> Option<Row> {
    let titles = workloads::titles();
    let apply = |doc: &mut AutoCommit, i: usize| {
        let _ = match workloads::w1_op(&titles, i) {
            Write::Title(title) => doc.put(ROOT, "title", title),
            Write::UtcTime(time) => doc.put(ROOT, "utc_time", ScalarValue::Int(time)),
            Write::TzOffset(offset) => doc.put(ROOT, "tz_offset", ScalarValue::Int(offset)),
        };
    };
    let (batch, batched) = median(
        reps,
        || doc(1),
        |mut doc| {
            for i in 0..workloads::W1_OPS {
                apply(&mut doc, i);
            }
            doc.commit();
            doc
        },
    );
    let (each, committed) = median(
        reps,
        || doc(1),
        |mut doc| {
            let mut bytes = 0;
            for i in 0..workloads::W1_OPS {
                apply(&mut doc, i);
                doc.commit();
                bytes += doc.save_incremental().len();
            }
            std::hint::black_box(bytes);
            doc
        },
    );
    let expected = workloads::w1_expected();
    let ok = [batched, committed]
        .iter()
        .all(|doc| read_event(doc, &ROOT) == expected);
    let check = verdict(ok, "the final event differs");
    Some(Row::w1(
        NAME,
        batch,
        Some((each, "incremental save")),
        check,
    ))
}

fn events_map(doc: &AutoCommit) -> Option<ObjId> {
    doc.get(ROOT, "events").ok().flatten().map(|(_, id)| id)
}

fn event_map(doc: &AutoCommit, events: &ObjId, index: usize) -> Option<ObjId> {
    doc.get(events, index.to_string())
        .ok()
        .flatten()
        .map(|(_, id)| id)
}

/// A document with `events` base events, written by actor 1, committed.
fn base(count: usize) -> AutoCommit {
    let mut doc = doc(1);
    if let Ok(events) = doc.put_object(ROOT, "events", ObjType::Map) {
        for i in 0..count {
            let event = workloads::base_event(i);
            if let Ok(map) = doc.put_object(&events, i.to_string(), ObjType::Map) {
                write(&mut doc, &map, &Value::Title(event.title));
                write(&mut doc, &map, &Value::UtcTime(event.utc_time));
                write(&mut doc, &map, &Value::TzOffset(event.tz_offset));
            }
        }
    }
    doc.commit();
    doc
}

fn edit(doc: &mut AutoCommit, edits: &[Edit]) {
    if let Some(events) = events_map(doc) {
        for edit in edits {
            if let Some(map) = event_map(doc, &events, edit.event) {
                write(doc, &map, &edit.value);
            }
        }
    }
    doc.commit();
}

fn events(doc: &AutoCommit, count: usize) -> Vec<Event> {
    let Some(events) = events_map(doc) else {
        return Vec::new();
    };
    (0..count)
        .map(|i| match event_map(doc, &events, i) {
            Some(map) => read_event(doc, &map),
            None => Event::default(),
        })
        .collect()
}

/// W2's two sides, each with its edits made.
fn diverged() -> (AutoCommit, AutoCommit, Vec<Edit>, Vec<Edit>) {
    let (a_edits, b_edits) = workloads::w2();
    let mut a = base(workloads::W2_EVENTS);
    let mut b = a.fork().with_actor(ActorId::from(&[2; 16][..]));
    edit(&mut a, &a_edits);
    edit(&mut b, &b_edits);
    (a, b, a_edits, b_edits)
}

pub(crate) fn w2(reps: usize) -> Option<Row> {
    let (a, b, a_edits, b_edits) = diverged();
    let (in_memory, merged) = median(
        reps,
        || (a.clone(), b.clone()),
        |(mut a, mut b)| {
            let merged = a
                .merge(&mut b)
                .map(|_| ())
                .map_err(|error| error.to_string());
            (a, merged)
        },
    );
    let (encode, bytes) = median(reps, || b.clone(), |mut b| b.save());
    let (from_bytes, loaded) = median(
        reps,
        || a.clone(),
        |mut a| {
            let loaded = a
                .load_incremental(&bytes)
                .map(|_| ())
                .map_err(|error| error.to_string());
            (a, loaded)
        },
    );
    let (a_merged, merged) = merged;
    let (a_loaded, loaded) = loaded;
    let mut b_merged = b.clone();
    let merged_back = b_merged
        .merge(&mut a.clone())
        .map(|_| ())
        .map_err(|error| error.to_string());
    let (a_events, b_events) = (
        events(&a_merged, workloads::W2_EVENTS),
        events(&b_merged, workloads::W2_EVENTS),
    );
    let check = merged.and(loaded).and(merged_back).and_then(|()| {
        if a_events != b_events {
            Err("A and B differ after merging both ways".to_owned())
        } else if events(&a_loaded, workloads::W2_EVENTS) != a_events {
            Err("merging from bytes differs from merging in memory".to_owned())
        } else {
            workloads::w2_check(&a_edits, &b_edits, &a_events)
        }
    });
    Some(Row::w2(
        NAME,
        [in_memory, from_bytes],
        encode,
        bytes.len(),
        check,
    ))
}

pub(crate) fn w3(reps: usize) -> Option<Row> {
    let (mut a, mut b, _, _) = diverged();
    let converged = a
        .merge(&mut b.clone())
        .and_then(|_| b.merge(&mut a.clone()))
        .map_err(|error| format!("the pair did not converge: {error}"));
    if let Err(why) = converged {
        return Some(Row::w3(NAME, Err(why)));
    }
    // What was saved so far is known to both: incremental saves start here.
    a.save_incremental();
    let syncs = harness::w3_syncs(
        harness::rounds(reps),
        &mut (a, b),
        |(a, b), edits| {
            edit(a, edits);
            let message = a.save_incremental();
            b.load_incremental(&message)
                .map_err(|error| error.to_string())?;
            Ok(message.len())
        },
        |(a, b)| {
            [
                events(a, workloads::W2_EVENTS),
                events(b, workloads::W2_EVENTS),
            ]
        },
    );
    Some(Row::w3(NAME, syncs))
}

pub(crate) fn w4(reps: usize) -> Option<Row> {
    let source = base(workloads::W4_EVENTS);
    let (encode, bytes) = median(reps, || source.clone(), |mut source| source.save());
    let (decoding, _) = median(reps, || (), |()| AutoCommit::load(&bytes));
    let (read, events) = median(
        reps,
        || (),
        |()| {
            AutoCommit::load(&bytes)
                .map(|doc| events(&doc, workloads::W4_EVENTS))
                .unwrap_or_default()
        },
    );
    let ok = events.len() == workloads::W4_EVENTS
        && events
            .iter()
            .enumerate()
            .all(|(i, event)| *event == workloads::base_event(i));
    let check = verdict(ok, "decoded events differ");
    Some(Row::w4(NAME, [encode, decoding, read], bytes.len(), check))
}
