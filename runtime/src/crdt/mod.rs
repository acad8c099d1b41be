//! The CRDTs built on the dot stores: one module per kind.

pub(crate) mod aw_set;
pub(crate) mod counter;
pub(crate) mod flag;
pub(crate) mod lww;
pub(crate) mod mv;
pub(crate) mod or_map;
pub(crate) mod two_phase_set;
