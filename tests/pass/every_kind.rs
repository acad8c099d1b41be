//! Every kind and attribute in one struct, in a user's crate with nothing but `crdtype`.

use std::collections::{BTreeMap, BTreeSet};

use crdtype::{CausalDotStore, Crdt, HybridClock, ReplicaId};

#[derive(Crdt, Clone, Debug, PartialEq, Default)]
struct Seat {
    #[crdt(flag)]
    taken: bool,
}

#[derive(Crdt, Clone, Debug, PartialEq, Default)]
struct Room {
    name: String,
}

#[derive(Crdt, Clone, Debug, PartialEq, Default)]
#[crdt(name = "app.Everything", version = 2, reserved(20, 21))]
pub struct Everything {
    #[crdt(lww, id = 15)]
    title: String,
    #[crdt(mv)]
    r#type: String,
    #[crdt(counter)]
    small: u8,
    #[crdt(counter)]
    large: usize,
    #[crdt(set)]
    tags: BTreeSet<String>,
    #[crdt(two_phase_set)]
    gone: std::collections::BTreeSet<u64>,
    #[crdt(flag)]
    done: bool,
    #[crdt(nested)]
    room: Room,
    #[crdt(map)]
    seats: BTreeMap<u32, Seat>,
    #[crdt(skip, default = "local_default")]
    local: Vec<u8>,
    #[crdt(since = 2, default, renamed_from = "colour")]
    color: Option<String>,
}

fn local_default() -> Vec<u8> {
    vec![1]
}

fn main() {
    let mut clock = HybridClock::new(ReplicaId::new(7));
    let mut state = EverythingCrdt::from_value(&Everything::default(), clock.now());
    let stamp = clock.now();
    let delta: CausalDotStore<EverythingCrdt> = state.store.edit(&mut state.context, stamp, |value| {
        value.r#type = "workshop".to_owned();
        value.color = Some("teal".to_owned());
    });
    assert_eq!(state.store.r#type().next().map(String::as_str), Some("workshop"));
    assert_eq!(state.store.to_value().local, vec![1]);
    assert!(!delta.context.is_empty());
    assert_eq!(Everything::schema().fields.len(), 10);
}
