//! The one schema model of crdtype.
//!
//! The derive macro and the `crdtype-schema` CLI must never disagree about a schema, so
//! both read `#[crdt(...)]` attributes with the code in this crate: `syntax` parses them
//! with darling into a validated `syntax::Model` (every mistake reported at once, each at
//! the span of the attribute or field that caused it), and the model produces the
//! [`Schema`] descriptor that the runtime returns from `T::schema()`.
//!
//! Without the `syntax` feature the crate holds only the descriptors, which is all the
//! runtime needs.

pub mod fbs;
mod schema;
#[cfg(feature = "syntax")]
pub mod syntax;

pub use schema::{FieldDefault, FieldSchema, Kind, PreviousType, Schema};

/// The largest field id. Ids are FlatBuffers field ids, one vtable slot each; capping them
/// keeps a record's vtable within 2 KiB, and so bounds what a decoder scans per record of
/// a received encoding (records may share one vtable).
pub const MAX_FIELD_ID: u16 = 1023;
