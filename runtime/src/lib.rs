//! Typed conflict-free replicated data types: the causal kernel.
//!
//! Replicas of a document edit offline and exchange what they changed; every replica that
//! has received the same changes, in any order and any number of times, holds the same
//! state. This crate supplies the machinery that makes that true.
//!
//! # Concepts
//!
//! - **Dot.** Every write is tagged with a [`Dot`]: the pair (replica, sequence number), a
//!   name no other write shares. A [`ReplicaId`] identifies a device.
//! - **Causal context.** A [`CausalContext`] is the set of dots a replica has seen, stored
//!   as a version vector plus a cloud of dots seen out of order. Seeing a dot and no longer
//!   holding it means the write was overwritten or deleted.
//! - **Dot store.** A [`DotStore`] holds dot-tagged data: a [`DotFun`] (dot → value), a
//!   [`DotSet`], or a [`DotMap`] (key → nested store). With its context it forms a
//!   [`CausalDotStore`].
//! - **Join.** [`CausalDotStore::join`] merges two states: a dot held on one side survives
//!   unless the other side has seen it (and so removed it). Join is commutative,
//!   associative and idempotent, so replicas converge whatever the delivery order, and
//!   duplicates are harmless.
//! - **Deltas.** Every mutator applies its change in place and returns a *delta*: a small
//!   value of the same type holding just the change and the dots it observed. Joining the
//!   delta into another replica has the same effect as joining the whole state it came from,
//!   which is what makes sync cheap.
//! - **Order of writes.** A [`HybridClock`] issues [`Timestamp`]s `(wall_micros, logical,
//!   replica)`, strictly monotonic per replica even when the wall clock steps back;
//!   [`HybridClock::observe`] refuses a remote stamp too far in the future with
//!   [`ClockSkew`]. Joining does not look at timestamps: whatever receives remote data runs
//!   `observe` on its stamps, and [`CausalDotStore::validate`] on its dots, before joining.
//!
//! The CRDTs: [`LwwRegister`] (last writer wins, observed-remove deletes), [`MvRegister`],
//! [`PnCounter`], [`AwSet`] (add wins), [`TwoPhaseSet`] (removed stays removed), [`EwFlag`]
//! (enable wins) and [`OrMap`] (observed-remove map of nested CRDTs).
//!
//! # Example
//!
//! Alice updates a title while Bob, having seen the old title, deletes it; after they
//! exchange deltas both see Alice's update, because Bob's delete removed only the write it
//! had observed.
//!
//! ```
//! use crdtype::{CausalDotStore, HybridClock, LwwRegister, ReplicaId};
//!
//! let mut alice_clock = HybridClock::new(ReplicaId::new(1));
//! let mut alice = CausalDotStore::<LwwRegister<String>>::new();
//! alice.store.set(&mut alice.context, alice_clock.now(), "Draft".to_owned());
//! let mut bob = alice.clone();
//!
//! let update = alice.store.set(&mut alice.context, alice_clock.now(), "Launch".to_owned());
//! let delete = bob.store.delete();
//!
//! alice.join(delete);
//! bob.join(update);
//! assert_eq!(alice, bob);
//! assert_eq!(bob.store.get().map(String::as_str), Some("Launch"));
//! ```
//!
//! # Typed documents
//!
//! `#[derive(Crdt)]` on a plain struct generates its typed CRDT, `<Name>Crdt`: a dot store
//! with one CRDT per field (an [`LwwRegister`] unless the field asks for another kind),
//! typed reads and mutators that return deltas, and conversions to and from the plain
//! struct. [`Crdt::schema`] describes it, and [`TypedStore`] leads back from the store to
//! the struct.
//!
//! ```
//! use crdtype::{Crdt, HybridClock, ReplicaId};
//!
//! #[derive(Crdt, Debug, Clone, PartialEq, Default)]
//! struct Task {
//!     title: String,
//!     #[crdt(flag)]
//!     done: bool,
//! }
//!
//! let mut clock = HybridClock::new(ReplicaId::new(1));
//! let mut task = TaskCrdt::from_value(&Task { title: "Ship".into(), done: false }, clock.now());
//! let delta = task.store.edit(&mut task.context, clock.now(), |task| task.done = true);
//!
//! let mut elsewhere = crdtype::CausalDotStore::<TaskCrdt>::new();
//! elsewhere.join(task.clone());
//! elsewhere.join(delta);
//! assert!(elsewhere.store.done());
//! assert_eq!(Task::schema().fields.len(), 2);
//! ```
//!
//! # Out of scope
//!
//! Sequence and text CRDTs, and Byzantine fault tolerance beyond signatures.

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

mod causal_context;
mod clock;
mod crdt;
mod document;
mod dot;
mod dot_store;
pub mod json;
pub mod ops;
pub mod replica;
pub mod wire;

#[doc(hidden)]
#[path = "derive_support.rs"]
pub mod __private;

/// Schema descriptors, as returned by [`Crdt::schema`] and compared by the schema CLI.
pub mod schema {
    pub use crdtype_model::fbs;
    pub use crdtype_model::{FieldDefault, FieldSchema, Kind, PreviousType, Schema};
}

pub use causal_context::{CausalContext, ContextBuilder, MAX_SEQ};
pub use clock::{
    ClockSkew, HighWaterMark, HybridClock, ManualClock, SystemClock, Timestamp, WallClock,
};
pub use crdt::aw_set::AwSet;
pub use crdt::counter::PnCounter;
pub use crdt::entry::Entry;
pub use crdt::flag::EwFlag;
pub use crdt::lww::LwwRegister;
pub use crdt::mv::MvRegister;
pub use crdt::or_map::OrMap;
pub use crdt::retyped::Retyped;
pub use crdt::two_phase_set::TwoPhaseSet;
/// Generates the typed CRDT of a struct: see the [crate documentation](crate).
pub use crdtype_derive::Crdt;
pub use document::{Crdt, TypedStore};
pub use dot::{Dot, ReplicaId};
pub use dot_store::{CausalDotStore, DotFun, DotMap, DotSet, DotStore, InvalidDelta};
