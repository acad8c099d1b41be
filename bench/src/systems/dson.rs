//! DSON (Helsing's delta-state JSON CRDT): an event is an `OrMap` of three registers; a
//! collection, a root `OrMap` of such maps by number. DSON has no wire format of its own:
//! states and deltas are serde values, written here with serde_json (the only serde format
//! the suite has).
//!
//! What costs what, from reading dson 0.3.0's source (and profiling it):
//! - `DotMap::join` (`src/dotstores.rs`, "we really shouldn't allocate a new Self here")
//!   rebuilds the whole map on every join, so joining a delta into a state is O(state),
//!   not O(delta).
//! - `MapTransaction::new` (`src/transaction/map_transaction.rs`) deep-clones the whole
//!   store, and `record_change` joins each operation's delta into that clone at once, so a
//!   transaction of k operations on a map of n keys costs O(k·n). On one event (W1) that is
//!   cheap; on the 10,000-event collection one transaction per event or per edit is
//!   quadratic (building 8,000 events that way took over two minutes), so the setup here
//!   builds and edits collections from raw deltas instead.
//! - A transaction also keeps every operation's delta until `commit` folds them: a
//!   1,000,000-write transaction finishes (linearly) but holds about 2 GB.

use std::time::{Duration, Instant};

use dson::crdts::mvreg::MvRegValue;
use dson::sentinel::DummySentinel;
use dson::{CausalContext, CausalDotStore, Delta, Identifier, OrMap};

use crate::harness::{self, Row, median, per, took, verdict};
use crate::workloads::{self, Edit, Event, Value, Write};

pub(super) const NAME: &str = "dson 0.3 (JSON)";

/// A document: an event (W1), or a collection of events by number.
type Store = CausalDotStore<OrMap<String>>;

/// How long the one-transaction variant of W1 may run before it counts as not finishing.
const W1_DEADLINE: Duration = Duration::from_secs(60);

fn replica(node: u8) -> Identifier {
    Identifier::new(node, 0)
}

/// The field `value` writes, and the register value.
fn field(value: &Value) -> (&'static str, MvRegValue) {
    match value {
        Value::Title(title) => ("title", MvRegValue::String(title.clone())),
        Value::UtcTime(time) => ("utc_time", MvRegValue::I64(*time)),
        Value::TzOffset(offset) => ("tz_offset", MvRegValue::I64(*offset)),
    }
}

fn w1_field(titles: &[String], i: usize) -> (&'static str, MvRegValue) {
    match workloads::w1_op(titles, i) {
        Write::Title(title) => ("title", MvRegValue::String(title.to_owned())),
        Write::UtcTime(time) => ("utc_time", MvRegValue::I64(time)),
        Write::TzOffset(offset) => ("tz_offset", MvRegValue::I64(offset)),
    }
}

/// An event's register: concurrent values are kept side by side, ordered by dot; take the
/// last, as dson's docs suggest, so that every replica reads the same one.
fn register(event: &OrMap<String>, key: &str) -> Option<MvRegValue> {
    event.get(key)?.reg.0.values().last().cloned()
}

fn read_event(event: &OrMap<String>) -> Event {
    let number = |key| match register(event, key) {
        Some(MvRegValue::I64(value)) => value,
        _ => i64::MIN,
    };
    Event {
        title: match register(event, "title") {
            Some(MvRegValue::String(title)) => title,
            _ => String::new(),
        },
        utc_time: number("utc_time"),
        tz_offset: number("tz_offset"),
    }
}

fn events(store: &Store, count: usize) -> Vec<Event> {
    (0..count)
        .map(|i| match store.store.get(&i.to_string()) {
            Some(event) => read_event(&event.map),
            None => Event::default(),
        })
        .collect()
}

fn join(mut store: Store, delta: Store) -> Store {
    let Ok(()) = store.join_with(delta.store, &delta.context, &mut DummySentinel);
    store
}

/// The join of `deltas`, pairwise: joining each into a growing accumulator would cost
/// O(accumulated) each (see the module's notes), this O(total · log count).
fn join_all(mut deltas: Vec<Store>) -> Store {
    while deltas.len() > 1 {
        let mut pairs = deltas.into_iter();
        let mut joined = Vec::with_capacity(pairs.len().div_ceil(2));
        while let Some(first) = pairs.next() {
            joined.push(match pairs.next() {
                Some(second) => join(first, second),
                None => first,
            });
        }
        deltas = joined;
    }
    deltas.pop().unwrap_or_default()
}

/// The delta writing one field of event `event` of `state`, with the next dot of `context`,
/// which then records it. Raw mutators read only the state they are given, so deltas made
/// this way against one state must touch distinct registers (as W2's and W3's edits do).
fn write_delta(
    state: &OrMap<String>,
    context: &mut CausalContext,
    id: Identifier,
    event: String,
    (key, value): (&'static str, MvRegValue),
) -> Store {
    let delta = state.apply_to_map(
        |event, context, id| {
            event.apply_to_register(
                |register, context, id| register.write(value, context, id),
                key.to_owned(),
                context,
                id,
            )
        },
        event,
        context,
        id,
    );
    context.union(&delta.context);
    delta
}

/// Applies `edits` to `store` through raw mutators and returns their joined delta: one
/// O(state) join into `store` instead of one per edit.
fn edit_raw(store: &mut Store, id: Identifier, edits: &[Edit]) -> Store {
    let mut context = store.context.clone();
    let deltas = edits
        .iter()
        .map(|edit| {
            let event = edit.event.to_string();
            write_delta(&store.store, &mut context, id, event, field(&edit.value))
        })
        .collect();
    let delta = join_all(deltas);
    let Ok(()) = store.join_with(delta.store.clone(), &delta.context, &mut DummySentinel);
    delta
}

/// Applies `edits` to `store` in one transaction, the API dson recommends, and returns its
/// delta.
fn edit_transaction(store: &mut Store, id: Identifier, edits: &[Edit]) -> Delta<Store> {
    let mut transaction = store.transact(id);
    for edit in edits {
        let (key, value) = field(&edit.value);
        transaction.in_map(edit.event.to_string(), |event| {
            event.write_register(key, value);
        });
    }
    transaction.commit()
}

pub(crate) fn w1(reps: usize) -> Option<Row> {
    let titles = workloads::titles();
    let id = replica(1);
    // (a) The cheapest path: each write's delta, from the raw mutators that `dson::api`
    // wraps, joined straight into the state; no transaction (dson's transaction docs send
    // latency-critical single-field updates this way).
    let (batch, raw) = median(reps, Store::default, |mut store| {
        for i in 0..workloads::W1_OPS {
            let (key, value) = w1_field(&titles, i);
            let delta = store.store.apply_to_register(
                |register, context, id| register.write(value, context, id),
                key.to_owned(),
                &store.context,
                id,
            );
            store.join_or_replace_with(delta.store, &delta.context);
        }
        store
    });
    // One transaction around all the writes, for comparison: stopped if it overruns.
    let (transaction, transacted) = median(reps, Store::default, |mut store| {
        let start = Instant::now();
        let mut transaction = store.transact(id);
        for i in 0..workloads::W1_OPS {
            if i % 4096 == 0 && start.elapsed() > W1_DEADLINE {
                return Err(format!(
                    "one transaction of {} writes did not finish in {} s",
                    workloads::W1_OPS,
                    W1_DEADLINE.as_secs()
                ));
            }
            let (key, value) = w1_field(&titles, i);
            transaction.write_register(key, value);
        }
        let delta = transaction.commit();
        std::hint::black_box(&delta);
        Ok(store)
    });
    // (b) A transaction per write, its delta serialized as an app would send it.
    let (each, committed) = median(reps, Store::default, |mut store| {
        let mut bytes = 0;
        for i in 0..workloads::W1_OPS {
            let (key, value) = w1_field(&titles, i);
            let mut transaction = store.transact(id);
            transaction.write_register(key, value);
            let delta = transaction.commit();
            bytes += serde_json::to_vec(&delta)
                .map_err(|error| error.to_string())?
                .len();
        }
        std::hint::black_box(bytes);
        Ok::<_, String>(store)
    });
    let transaction = match &transacted {
        Ok(_) => per(transaction, workloads::W1_OPS),
        Err(_) => format!("did not finish in {} s", W1_DEADLINE.as_secs()),
    };
    let expected = workloads::w1_expected();
    let check = transacted.and_then(|transacted| {
        let committed = committed?;
        let ok = [raw, transacted, committed]
            .iter()
            .all(|store| read_event(&store.store) == expected);
        verdict(ok, "the final event differs")
    });
    Some(Row {
        system: NAME,
        cells: vec![
            format!(
                "{} (deltas joined, no transaction; one transaction: {transaction})",
                per(batch, workloads::W1_OPS)
            ),
            format!("{} (JSON delta)", per(each, workloads::W1_OPS)),
        ],
        check,
    })
}

/// A collection of `events` base events, written by replica 1: each event's delta made
/// from raw mutators, then all joined pairwise (see `join_all`).
fn base(events: usize) -> Store {
    let id = replica(1);
    let empty = OrMap::default();
    let mut context = CausalContext::new();
    let deltas = (0..events)
        .map(|i| {
            let event = workloads::base_event(i);
            let fields = [
                Value::Title(event.title),
                Value::UtcTime(event.utc_time),
                Value::TzOffset(event.tz_offset),
            ];
            let writes = fields
                .iter()
                .map(|value| write_delta(&empty, &mut context, id, i.to_string(), field(value)));
            join_all(writes.collect())
        })
        .collect();
    join_all(deltas)
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, String> {
    serde_json::to_vec(value).map_err(|error| error.to_string())
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    serde_json::from_slice(bytes).map_err(|error| error.to_string())
}

/// W2's two sides, each with its edits made.
fn diverged() -> (Store, Store, Vec<Edit>, Vec<Edit>) {
    let (a_edits, b_edits) = workloads::w2();
    let mut a = base(workloads::W2_EVENTS);
    let mut b = a.clone();
    edit_raw(&mut a, replica(1), &a_edits);
    edit_raw(&mut b, replica(2), &b_edits);
    (a, b, a_edits, b_edits)
}

pub(crate) fn w2(reps: usize) -> Option<Row> {
    let (a, b, a_edits, b_edits) = diverged();
    let (encode_time, bytes) = median(reps, || (), |()| encode(&b));
    let bytes = match bytes {
        Ok(bytes) => bytes,
        Err(error) => {
            return Some(Row::w2(
                NAME,
                [Duration::ZERO; 2],
                encode_time,
                0,
                Err(error),
            ));
        }
    };
    let (memory, merged) = median(reps, || (a.clone(), b.clone()), |(a, b)| join(a, b));
    let (from_bytes, from_bytes_merged) = median(
        reps,
        || a.clone(),
        |a| decode::<Store>(&bytes).map(|b| join(a, b)),
    );
    let b_merged = join(b, a);
    let check = from_bytes_merged.and_then(|from_bytes_merged| {
        let a_events = events(&merged, workloads::W2_EVENTS);
        if a_events != events(&b_merged, workloads::W2_EVENTS)
            || a_events != events(&from_bytes_merged, workloads::W2_EVENTS)
        {
            Err("A and B differ after merging both ways".to_owned())
        } else {
            workloads::w2_check(&a_edits, &b_edits, &a_events)
        }
    });
    Some(Row::w2(
        NAME,
        [memory, from_bytes],
        encode_time,
        bytes.len(),
        check,
    ))
}

pub(crate) fn w3(reps: usize) -> Option<Row> {
    let (a, b, _, _) = diverged();
    let a_merged = join(a.clone(), b.clone());
    let b = join(b, a);
    let a = a_merged;
    // A round costs a transaction's deep clone of the store and O(state) joins (see the
    // module's notes): `reps` rounds, not `harness::rounds(reps)`.
    let rounds = reps.max(1);
    // The edits on A, their delta serialized, deserialized and joined into B. The raw
    // deltas run on their own copy of the converged pair, so that each series writes
    // values no earlier round wrote.
    let sync = |transaction: bool, (a, b): &mut (Store, Store), edits: &[Edit]| {
        let message = if transaction {
            encode(&edit_transaction(a, replica(1), edits))?
        } else {
            encode(&Delta(edit_raw(a, replica(1), edits)))?
        };
        let delta = decode::<Delta<Store>>(&message)?;
        *b = join(std::mem::take(b), delta.0);
        Ok(message.len())
    };
    let same = |(a, b): &(Store, Store)| {
        [
            events(a, workloads::W2_EVENTS),
            events(b, workloads::W2_EVENTS),
        ]
    };
    let mut raw_pair = (a.clone(), b.clone());
    let transacted = harness::w3_syncs(
        rounds,
        &mut (a, b),
        |pair, edits| sync(true, pair, edits),
        same,
    );
    let raw = harness::w3_syncs(
        rounds,
        &mut raw_pair,
        |pair, edits| sync(false, pair, edits),
        same,
    );
    // The headline is dson's transaction API; raw deltas, the cheapest path, in brackets.
    let (cells, check) = match transacted.and_then(|transacted| Ok((transacted, raw?))) {
        Ok(([one, hundred], [one_raw, hundred_raw])) => (
            vec![
                format!("{} (raw: {})", one.0, one_raw.0),
                format!(
                    "{} (raw deltas: {}; {rounds} rounds)",
                    took(one.1),
                    took(one_raw.1)
                ),
                format!("{} (raw: {})", hundred.0, hundred_raw.0),
                format!(
                    "{} (raw deltas: {}; {rounds} rounds)",
                    took(hundred.1),
                    took(hundred_raw.1)
                ),
            ],
            Ok(()),
        ),
        Err(error) => (vec!["n/a".to_owned(); 4], Err(error)),
    };
    Some(Row {
        system: NAME,
        cells,
        check,
    })
}

pub(crate) fn w4(reps: usize) -> Option<Row> {
    let source = base(workloads::W4_EVENTS);
    let (encode_time, bytes) = median(reps, || (), |()| encode(&source));
    let bytes = match bytes {
        Ok(bytes) => bytes,
        Err(error) => {
            return Some(Row::w4(
                NAME,
                [encode_time, Duration::ZERO, Duration::ZERO],
                0,
                Err(error),
            ));
        }
    };
    let (decoding, _) = median(reps, || (), |()| decode::<Store>(&bytes));
    let (read, decoded) = median(
        reps,
        || (),
        |()| decode::<Store>(&bytes).map(|store| events(&store, workloads::W4_EVENTS)),
    );
    let check = decoded.and_then(|events| {
        let ok = events
            .iter()
            .enumerate()
            .all(|(i, event)| *event == workloads::base_event(i));
        verdict(ok, "decoded events differ")
    });
    Some(Row::w4(
        NAME,
        [encode_time, decoding, read],
        bytes.len(),
        check,
    ))
}
