//! Loro: an event is a map of three keys; a collection, a root map of such maps by
//! number, each made with `insert_container`.

use std::fmt::Display;

use loro::{Container, ExportMode, LoroDoc, LoroMap, LoroValue, ValueOrContainer};

use crate::harness::{self, Row, bytes_per, median, per, took, verdict};
use crate::workloads::{self, Edit, Event, Value, Write};

pub(super) const NAME: &str = "Loro 1.17";

fn text(error: impl Display) -> String {
    error.to_string()
}

fn doc(peer: u64) -> Result<LoroDoc, String> {
    let doc = LoroDoc::new();
    doc.set_peer_id(peer).map_err(text)?;
    Ok(doc)
}

/// A row whose setup failed: no figures, only why.
fn failed(columns: usize, why: String) -> Row {
    Row {
        system: NAME,
        cells: vec!["n/a".to_owned(); columns],
        check: Err(why),
    }
}

fn read_event(map: &LoroMap) -> Event {
    let value = |key| match map.get(key) {
        Some(ValueOrContainer::Value(value)) => value,
        _ => LoroValue::Null,
    };
    let number = |key| match value(key) {
        LoroValue::I64(value) => value,
        _ => i64::MIN,
    };
    Event {
        title: match value("title") {
            LoroValue::String(title) => title.to_string(),
            _ => String::new(),
        },
        utc_time: number("utc_time"),
        tz_offset: number("tz_offset"),
    }
}

fn write(map: &LoroMap, value: &Value) -> Result<(), String> {
    match value {
        Value::Title(title) => map.insert("title", title.as_str()),
        Value::UtcTime(time) => map.insert("utc_time", *time),
        Value::TzOffset(offset) => map.insert("tz_offset", *offset),
    }
    .map_err(text)
}

pub(crate) fn w1(reps: usize) -> Option<Row> {
    let titles = workloads::titles();
    let apply = |map: &LoroMap, i: usize| {
        match workloads::w1_op(&titles, i) {
            Write::Title(title) => map.insert("title", title),
            Write::UtcTime(time) => map.insert("utc_time", time),
            Write::TzOffset(offset) => map.insert("tz_offset", offset),
        }
        .map_err(text)
    };
    let (batch, batched) = median(
        reps,
        || doc(1),
        |doc| -> Result<LoroDoc, String> {
            let doc = doc?;
            let map = doc.get_map("event");
            for i in 0..workloads::W1_OPS {
                apply(&map, i)?;
            }
            doc.commit();
            Ok(doc)
        },
    );
    let (each, committed) = median(
        reps,
        || doc(1),
        |doc| -> Result<LoroDoc, String> {
            let doc = doc?;
            let map = doc.get_map("event");
            let mut version = doc.oplog_vv();
            let mut bytes = 0;
            for i in 0..workloads::W1_OPS {
                apply(&map, i)?;
                doc.commit();
                bytes += doc
                    .export(ExportMode::updates(&version))
                    .map_err(text)?
                    .len();
                version = doc.oplog_vv();
            }
            std::hint::black_box(bytes);
            Ok(doc)
        },
    );
    let expected = workloads::w1_expected();
    let check = [batched, committed].into_iter().try_for_each(|doc| {
        let doc = doc?;
        verdict(
            read_event(&doc.get_map("event")) == expected,
            "the final event differs",
        )
    });
    Some(Row::w1(NAME, batch, Some((each, "exported update")), check))
}

/// A document with `events` base events, written by peer 1.
fn base(events: usize) -> Result<LoroDoc, String> {
    let doc = doc(1)?;
    let root = doc.get_map("events");
    for i in 0..events {
        let event = workloads::base_event(i);
        let map = root
            .insert_container(&i.to_string(), LoroMap::new())
            .map_err(text)?;
        map.insert("title", event.title).map_err(text)?;
        map.insert("utc_time", event.utc_time).map_err(text)?;
        map.insert("tz_offset", event.tz_offset).map_err(text)?;
    }
    doc.commit();
    Ok(doc)
}

/// The snapshot: history and the encoded state.
fn snapshot(doc: &LoroDoc) -> Result<Vec<u8>, String> {
    doc.export(ExportMode::Snapshot).map_err(text)
}

fn apply(doc: &LoroDoc, bytes: &[u8]) -> Result<(), String> {
    let status = doc.import(bytes).map_err(text)?;
    // Loro accepts changes whose dependencies are missing and holds them back.
    match status.pending {
        Some(pending) => Err(format!("import left {pending:?} pending")),
        None => Ok(()),
    }
}

fn copy(doc: &LoroDoc, peer: u64) -> Result<LoroDoc, String> {
    let copy = self::doc(peer)?;
    apply(&copy, &snapshot(doc)?)?;
    Ok(copy)
}

fn edit(doc: &LoroDoc, edits: &[Edit]) -> Result<(), String> {
    let root = doc.get_map("events");
    for edit in edits {
        match root.get(&edit.event.to_string()) {
            Some(ValueOrContainer::Container(Container::Map(event))) => write(&event, &edit.value)?,
            _ => return Err(format!("event {} is missing", edit.event)),
        }
    }
    doc.commit();
    Ok(())
}

/// Events `0..count`, a default event where one is missing. One pass over the root map:
/// a quarter faster than a look-up per event.
fn events(doc: &LoroDoc, count: usize) -> Vec<Event> {
    let mut events = vec![Event::default(); count];
    doc.get_map("events").for_each(|key, value| {
        if let (Ok(i), ValueOrContainer::Container(Container::Map(event))) =
            (key.parse::<usize>(), value)
            && let Some(slot) = events.get_mut(i)
        {
            *slot = read_event(&event);
        }
    });
    events
}

/// W2's two sides, each with its edits made.
fn diverged() -> Result<(LoroDoc, LoroDoc, Vec<Edit>, Vec<Edit>), String> {
    let (a_edits, b_edits) = workloads::w2();
    let a = base(workloads::W2_EVENTS)?;
    let b = copy(&a, 2)?;
    edit(&a, &a_edits)?;
    edit(&b, &b_edits)?;
    Ok((a, b, a_edits, b_edits))
}

pub(crate) fn w2(reps: usize) -> Option<Row> {
    Some(run_w2(reps).unwrap_or_else(|why| failed(4, why)))
}

fn run_w2(reps: usize) -> Result<Row, String> {
    let (a, b, a_edits, b_edits) = diverged()?;
    // B's full state is all its updates: complete, and smaller than a snapshot, which adds
    // the encoded state. Encoded on a fresh B each run: Loro caches encoded blocks, so a
    // second export of the same document costs next to nothing.
    let (encode, bytes) = median(
        reps,
        || diverged().map(|(_, b, _, _)| b),
        |b| b?.export(ExportMode::all_updates()).map_err(text),
    );
    let bytes = bytes?;
    let b_snapshot = snapshot(&b)?;
    // Loro merges through imports only: merging B into A is importing B's state.
    let (merge, merged) = median(
        reps,
        || {
            // Read once, untimed: a copy loads its state lazily, which the merge would pay.
            copy(&a, 1).inspect(|a| drop(events(a, workloads::W2_EVENTS)))
        },
        |a| -> Result<LoroDoc, String> {
            let a = a?;
            apply(&a, &bytes)?;
            Ok(a)
        },
    );
    let a_merged = merged?;
    let b_merged = copy(&b, 2)?;
    apply(&b_merged, &snapshot(&a)?)?;
    let (a_events, b_events) = (
        events(&a_merged, workloads::W2_EVENTS),
        events(&b_merged, workloads::W2_EVENTS),
    );
    let check = if a_events != b_events {
        Err("A and B differ after merging both ways".to_owned())
    } else {
        workloads::w2_check(&a_edits, &b_edits, &a_events)
    };
    Ok(Row {
        system: NAME,
        cells: vec![
            format!("{} (from bytes)", took(merge)),
            took(merge),
            took(encode),
            format!(
                "{} (all updates; snapshot {})",
                bytes_per(bytes.len(), workloads::W2_EVENTS),
                bytes_per(b_snapshot.len(), workloads::W2_EVENTS),
            ),
        ],
        check,
    })
}

pub(crate) fn w3(reps: usize) -> Option<Row> {
    Some(run_w3(reps).unwrap_or_else(|why| failed(4, why)))
}

fn run_w3(reps: usize) -> Result<Row, String> {
    let (a, b, _, _) = diverged()?;
    apply(&a, &snapshot(&b)?)?;
    apply(&b, &snapshot(&a)?)?;
    // B was loaded from a snapshot and A imported one: Loro pays several milliseconds on
    // such a document's first edit of an event and its first import, which the harness's
    // untimed warm-up round takes (round 0 edits the same events as the timed rounds).
    // Each message starts at A's version at the last sync, which B holds too; A keeping
    // that version up to date is part of producing the message, so it is timed.
    let since = a.oplog_vv();
    let syncs = harness::w3_syncs(
        harness::rounds(reps),
        &mut (a, b, since),
        |(a, b, since), edits| {
            edit(a, edits)?;
            let message = a.export(ExportMode::updates(since)).map_err(text)?;
            apply(b, &message)?;
            *since = a.oplog_vv();
            Ok(message.len())
        },
        |(a, b, _)| {
            [
                events(a, workloads::W2_EVENTS),
                events(b, workloads::W2_EVENTS),
            ]
        },
    );
    Ok(Row::w3(NAME, syncs))
}

pub(crate) fn w4(reps: usize) -> Option<Row> {
    Some(run_w4(reps).unwrap_or_else(|why| failed(4, why)))
}

fn run_w4(reps: usize) -> Result<Row, String> {
    // Encoded from a fresh document each run: Loro caches encoded blocks, so a second
    // export of the same document costs next to nothing.
    let (encode, bytes) = median(
        reps,
        || base(workloads::W4_EVENTS),
        |source| snapshot(&source?),
    );
    let bytes = bytes?;
    let source = base(workloads::W4_EVENTS)?;
    let updates = source.export(ExportMode::all_updates()).map_err(text)?;
    let state_only = source.export(ExportMode::state_only(None)).map_err(text)?;
    let (decoding, decoded) = median(
        reps,
        || doc(3),
        |decoded| -> Result<LoroDoc, String> {
            let decoded = decoded?;
            apply(&decoded, &bytes)?;
            Ok(decoded)
        },
    );
    decoded?;
    let (read, events) = median(
        reps,
        || doc(3),
        |decoded| -> Result<Vec<Event>, String> {
            let decoded = decoded?;
            apply(&decoded, &bytes)?;
            Ok(events(&decoded, workloads::W4_EVENTS))
        },
    );
    let ok = events?
        .iter()
        .enumerate()
        .all(|(i, event)| *event == workloads::base_event(i));
    let check = verdict(ok, "decoded events differ");
    let per_event = |bytes: &[u8]| bytes_per(bytes.len(), workloads::W4_EVENTS);
    Ok(Row {
        system: NAME,
        cells: vec![
            per(encode, workloads::W4_EVENTS),
            // Importing a snapshot decodes the state only when it is read.
            format!("{} (lazy)", per(decoding, workloads::W4_EVENTS)),
            per(read, workloads::W4_EVENTS),
            format!(
                "{} (snapshot; all updates {}, state-only {})",
                per_event(&bytes),
                per_event(&updates),
                per_event(&state_only),
            ),
        ],
        check,
    })
}
