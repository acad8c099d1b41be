//! Yrs (the Rust port of Yjs): an event is a map of three keys; a collection, a map of
//! such maps by number.

use yrs::updates::decoder::Decode;
use yrs::{Any, Doc, Map, MapPrelim, MapRef, Number, Out, ReadTxn, StateVector, Transact, Update};

use crate::harness::{self, Row, bytes_per, median, took, verdict};
use crate::workloads::{self, Edit, Event, Value, Write};

pub(super) const NAME: &str = "Yrs 0.28";

fn doc(client: u64) -> Doc {
    Doc::with_client_id(client)
}

fn int(value: i64) -> Any {
    Any::Number(Number::Int(value))
}

fn read_event<T: ReadTxn>(txn: &T, map: &MapRef) -> Event {
    let text = |key| match map.get(txn, key) {
        Some(Out::Any(Any::String(text))) => text.to_string(),
        _ => String::new(),
    };
    let number = |key| match map.get(txn, key) {
        Some(Out::Any(Any::Number(Number::Int(value)))) => value,
        Some(Out::Any(Any::Number(Number::Float(value)))) => value as i64,
        _ => i64::MIN,
    };
    Event {
        title: text("title"),
        utc_time: number("utc_time"),
        tz_offset: number("tz_offset"),
    }
}

fn write(txn: &mut yrs::TransactionMut<'_>, map: &MapRef, value: &Value) {
    match value {
        Value::Title(title) => map.insert(txn, "title", title.as_str()),
        Value::UtcTime(time) => map.insert(txn, "utc_time", int(*time)),
        Value::TzOffset(offset) => map.insert(txn, "tz_offset", int(*offset)),
    };
}

pub(crate) fn w1(reps: usize) -> Option<Row> {
    let titles = workloads::titles();
    let apply = |txn: &mut yrs::TransactionMut<'_>, map: &MapRef, i: usize| match workloads::w1_op(
        &titles, i,
    ) {
        Write::Title(title) => map.insert(txn, "title", title),
        Write::UtcTime(time) => map.insert(txn, "utc_time", int(time)),
        Write::TzOffset(offset) => map.insert(txn, "tz_offset", int(offset)),
    };
    let (batch, batched) = median(
        reps,
        || doc(1),
        |doc| {
            let map = doc.get_or_insert_map("event");
            {
                let mut txn = doc.transact_mut();
                for i in 0..workloads::W1_OPS {
                    apply(&mut txn, &map, i);
                }
            }
            doc
        },
    );
    let (each, committed) = median(
        reps,
        || doc(1),
        |doc| {
            let map = doc.get_or_insert_map("event");
            let mut bytes = 0;
            for i in 0..workloads::W1_OPS {
                let mut txn = doc.transact_mut();
                apply(&mut txn, &map, i);
                bytes += txn.encode_update_v1().len();
            }
            std::hint::black_box(bytes);
            doc
        },
    );
    let expected = workloads::w1_expected();
    let ok = [batched, committed].iter().all(|doc| {
        let map = doc.get_or_insert_map("event");
        read_event(&doc.transact(), &map) == expected
    });
    let check = verdict(ok, "the final event differs");
    Some(Row::w1(NAME, batch, Some((each, "encoded update")), check))
}

/// A document with `events` base events, written by client 1.
fn base(events: usize) -> Doc {
    let doc = doc(1);
    let root = doc.get_or_insert_map("events");
    {
        let mut txn = doc.transact_mut();
        for i in 0..events {
            let event = workloads::base_event(i);
            let prelim = MapPrelim::from([
                ("title", yrs::In::from(Any::from(event.title))),
                ("utc_time", yrs::In::from(int(event.utc_time))),
                ("tz_offset", yrs::In::from(int(event.tz_offset))),
            ]);
            root.insert(&mut txn, i.to_string(), prelim);
        }
    }
    doc
}

fn full_state(doc: &Doc) -> Vec<u8> {
    doc.transact()
        .encode_state_as_update_v1(&StateVector::default())
}

fn apply(doc: &Doc, update: &[u8]) -> Result<(), String> {
    let update = Update::decode_v1(update).map_err(|error| error.to_string())?;
    doc.transact_mut()
        .apply_update(update)
        .map_err(|error| error.to_string())
}

fn copy(doc: &Doc, client: u64) -> Doc {
    let copy = self::doc(client);
    let _ = apply(&copy, &full_state(doc));
    copy
}

fn edit(doc: &Doc, edits: &[Edit]) -> Vec<u8> {
    let root = doc.get_or_insert_map("events");
    let mut txn = doc.transact_mut();
    for edit in edits {
        if let Some(Out::YMap(event)) = root.get(&txn, &edit.event.to_string()) {
            write(&mut txn, &event, &edit.value);
        }
    }
    txn.encode_update_v1()
}

fn events(doc: &Doc, count: usize) -> Vec<Event> {
    let root = doc.get_or_insert_map("events");
    let txn = doc.transact();
    (0..count)
        .map(|i| match root.get(&txn, &i.to_string()) {
            Some(Out::YMap(event)) => read_event(&txn, &event),
            _ => Event::default(),
        })
        .collect()
}

/// W2's two sides, each with its edits made.
fn diverged() -> (Doc, Doc, Vec<Edit>, Vec<Edit>) {
    let (a_edits, b_edits) = workloads::w2();
    let a = base(workloads::W2_EVENTS);
    let b = copy(&a, 2);
    edit(&a, &a_edits);
    edit(&b, &b_edits);
    (a, b, a_edits, b_edits)
}

pub(crate) fn w2(reps: usize) -> Option<Row> {
    let (a, b, a_edits, b_edits) = diverged();
    let (encode, bytes) = median(reps, || (), |()| full_state(&b));
    // Yrs merges through updates only: merging B into A is applying B's state.
    let (merge, merged) = median(
        reps,
        || copy(&a, 1),
        |a| {
            let applied = apply(&a, &bytes);
            (a, applied)
        },
    );
    let (a_merged, applied) = merged;
    let b_merged = copy(&b, 2);
    let _ = apply(&b_merged, &full_state(&a));
    let (a_events, b_events) = (
        events(&a_merged, workloads::W2_EVENTS),
        events(&b_merged, workloads::W2_EVENTS),
    );
    let check = applied.and_then(|()| {
        if a_events != b_events {
            Err("A and B differ after merging both ways".to_owned())
        } else {
            workloads::w2_check(&a_edits, &b_edits, &a_events)
        }
    });
    Some(Row {
        system: NAME,
        cells: vec![
            format!("{} (from bytes)", took(merge)),
            took(merge),
            took(encode),
            bytes_per(bytes.len(), workloads::W2_EVENTS),
        ],
        check,
    })
}

pub(crate) fn w3(reps: usize) -> Option<Row> {
    let (a, b, _, _) = diverged();
    let syncs = apply(&a, &full_state(&b))
        .and_then(|()| apply(&b, &full_state(&a)))
        .and_then(|()| {
            harness::w3_syncs(
                harness::rounds(reps),
                &mut (a, b),
                |(a, b), edits| {
                    let message = edit(a, edits);
                    apply(b, &message)?;
                    Ok(message.len())
                },
                |(a, b)| {
                    [
                        events(a, workloads::W2_EVENTS),
                        events(b, workloads::W2_EVENTS),
                    ]
                },
            )
        });
    Some(Row::w3(NAME, syncs))
}

pub(crate) fn w4(reps: usize) -> Option<Row> {
    let source = base(workloads::W4_EVENTS);
    let (encode, bytes) = median(reps, || (), |()| full_state(&source));
    let (decoding, _) = median(
        reps,
        || doc(3),
        |decoded| {
            let _ = apply(&decoded, &bytes);
            decoded
        },
    );
    let (read, events) = median(
        reps,
        || doc(3),
        |decoded| {
            let _ = apply(&decoded, &bytes);
            events(&decoded, workloads::W4_EVENTS)
        },
    );
    let ok = events
        .iter()
        .enumerate()
        .all(|(i, event)| *event == workloads::base_event(i));
    let check = verdict(ok, "decoded events differ");
    Some(Row::w4(NAME, [encode, decoding, read], bytes.len(), check))
}
