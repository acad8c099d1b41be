//! The systems compared: each gives a row per workload it can run.

mod automerge;
mod crdtype;
mod dson;
mod loro;
mod reference;
mod yrs;

use crate::harness::Row;

/// A system: one function per workload, `None` where it does not apply.
pub(crate) struct System {
    /// What its rows are called, for the `SYSTEMS` filter.
    pub(crate) name: &'static str,
    pub(crate) w1: fn(usize) -> Option<Row>,
    pub(crate) w2: fn(usize) -> Option<Row>,
    pub(crate) w3: fn(usize) -> Option<Row>,
    pub(crate) w4: fn(usize) -> Option<Row>,
}

fn none(_: usize) -> Option<Row> {
    None
}

/// Every system the `SYSTEMS` filter selects, crdtype first, then the other libraries,
/// then the reference points.
pub(crate) fn all() -> Vec<System> {
    let systems = vec![
        System {
            name: crdtype::NAME,
            w1: crdtype::w1,
            w2: crdtype::w2,
            w3: crdtype::w3,
            w4: crdtype::w4,
        },
        System {
            name: automerge::NAME,
            w1: automerge::w1,
            w2: automerge::w2,
            w3: automerge::w3,
            w4: automerge::w4,
        },
        System {
            name: yrs::NAME,
            w1: yrs::w1,
            w2: yrs::w2,
            w3: yrs::w3,
            w4: yrs::w4,
        },
        System {
            name: dson::NAME,
            w1: dson::w1,
            w2: dson::w2,
            w3: dson::w3,
            w4: dson::w4,
        },
        System {
            name: loro::NAME,
            w1: loro::w1,
            w2: loro::w2,
            w3: loro::w3,
            w4: loro::w4,
        },
        System {
            name: "reference: plain struct",
            w1: reference::plain_w1,
            w2: none,
            w3: none,
            w4: none,
        },
        System {
            name: "reference: (value, stamp) struct",
            w1: reference::stamped_w1,
            w2: reference::stamped_w2,
            w3: none,
            w4: none,
        },
        System {
            name: "reference: serde_json",
            w1: none,
            w2: none,
            w3: none,
            w4: reference::serde_json_w4,
        },
        System {
            name: "reference: FlatBuffers table",
            w1: none,
            w2: none,
            w3: none,
            w4: reference::flatbuffers_w4,
        },
    ];
    match filter() {
        Some(filter) => systems
            .into_iter()
            .filter(|system| selected(&filter, system.name))
            .collect(),
        None => systems,
    }
}

/// The `SYSTEMS` environment variable, when set and not blank.
pub(crate) fn filter() -> Option<String> {
    std::env::var("SYSTEMS")
        .ok()
        .filter(|filter| !filter.trim().is_empty())
}

/// Whether `name` contains one of the comma-separated `filter`'s parts, ignoring case.
fn selected(filter: &str, name: &str) -> bool {
    let name = name.to_lowercase();
    filter
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .any(|part| name.contains(&part.to_lowercase()))
}
