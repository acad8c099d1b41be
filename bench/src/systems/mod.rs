//! The systems compared: each gives a row per workload it can run.

mod automerge;
mod crdtype;
mod reference;
mod yrs;

use crate::harness::Row;

/// A system: one function per workload, `None` where it does not apply.
pub(crate) struct System {
    pub(crate) w1: fn(usize) -> Option<Row>,
    pub(crate) w2: fn(usize) -> Option<Row>,
    pub(crate) w3: fn(usize) -> Option<Row>,
    pub(crate) w4: fn(usize) -> Option<Row>,
}

fn none(_: usize) -> Option<Row> {
    None
}

/// Every system, crdtype first, then the other libraries, then the reference points.
pub(crate) fn all() -> Vec<System> {
    vec![
        System {
            w1: crdtype::w1,
            w2: crdtype::w2,
            w3: crdtype::w3,
            w4: crdtype::w4,
        },
        System {
            w1: automerge::w1,
            w2: automerge::w2,
            w3: automerge::w3,
            w4: automerge::w4,
        },
        System {
            w1: yrs::w1,
            w2: yrs::w2,
            w3: yrs::w3,
            w4: yrs::w4,
        },
        System {
            w1: reference::plain_w1,
            w2: none,
            w3: none,
            w4: none,
        },
        System {
            w1: reference::stamped_w1,
            w2: reference::stamped_w2,
            w3: none,
            w4: none,
        },
        System {
            w1: none,
            w2: none,
            w3: none,
            w4: reference::serde_json_w4,
        },
    ]
}
