//! The wire format: FlatBuffers encodings of states and deltas, and how replicas on other
//! schema versions read them.
//!
//! [`CausalDotStore::encode`] writes a state or delta of a derived struct's store;
//! [`CausalDotStore::decode`] reads one from untrusted bytes: the FlatBuffers verifier
//! checks the whole buffer within [`Limits`] first, and every problem is a
//! [`DecodeError`], never a panic.
//!
//! ```
//! use crdtype::{CausalDotStore, Crdt, HybridClock, ReplicaId};
//!
//! #[derive(Crdt, Clone, Debug, Default, PartialEq)]
//! struct Note {
//!     text: String,
//! }
//!
//! let mut clock = HybridClock::new(ReplicaId::new(1));
//! let mut note = CausalDotStore::<NoteCrdt>::new();
//! let delta = note.store.set_text(&mut note.context, clock.now(), "hello".to_owned());
//!
//! let bytes = delta.encode();
//! let received = CausalDotStore::<NoteCrdt>::decode(&bytes)?;
//! assert_eq!(received, delta);
//! # Ok::<(), crdtype::wire::DecodeError>(())
//! ```
//!
//! # The format
//!
//! The root is a `Document` table: the writer's schema name and version, the causal
//! context as `(replica, first, last)` runs, and the state as a record, a table whose
//! field ids are the struct's field ids. Each field is a `Node`: dots (a flag's), or
//! stamps (a register's writes: dot and time), with a value each where the CRDT has them
//! (a register's values, a counter's per-replica totals) in columns by kind, keys with a
//! child node each (a set's elements, a map's entries), removed keys (a two-phase set's),
//! and a record of fields (a nested struct). [`fbs`](crate::schema::fbs)
//! writes the FlatBuffers schema of a struct's encodings, for readers in other languages.
//!
//! # Other versions
//!
//! Fields are found by id, so a renamed field reads as before, and a field that an older
//! writer did not have is absent, so it reads as null, then as its default. A field that a
//! newer writer added is unknown here: it is kept as an [`OpaqueNode`] in the store's
//! [`UnknownFields`], joined by the same rules as every node, and written back out, so
//! data passes through older replicas without loss.

use flatbuffers::{InvalidFlatbuffer, VerifierOptions};

use crate::{CausalContext, CausalDotStore, InvalidDelta, ReplicaId, TypedStore};

mod codec;
mod kernel;
mod opaque;
mod tables;
mod value;

pub use codec::{Encoder, NodeOffset, NodeRef, RecordOffset, RecordRef, WireRecord, WireStore};
pub use opaque::{OpaqueNode, UnknownFields};
pub use value::{ValueKind, ValueRef, WireValue};

use tables::document;
pub(crate) use tables::{slot, table};

/// Bounds on what decoding a received encoding may cost: every decode runs the FlatBuffers
/// verifier with them before reading anything. Decoding then holds memory in proportion
/// to the input: at most about 32 bytes per byte read, for a crafted map of many tiny
/// entries of an unknown field (measured in the tests), so `max_bytes` bounds it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Limits {
    /// The largest encoding accepted, in bytes. Default 4 MiB: a map of 10,000 entries of
    /// a struct of a text and a flag takes 1.6 MB.
    pub max_bytes: usize,
    /// The deepest nesting of tables: a nested struct adds two levels, a map entry three.
    /// Default 64.
    pub max_depth: usize,
    /// The most table visits in one encoding (a table reached twice counts twice).
    /// Default 2^18: a map of 10,000 entries of a struct of a text and a flag takes about
    /// 40,000.
    pub max_tables: usize,
    /// The most bytes the encoding may expand to, counting shared parts once per use.
    /// Default 16 MiB.
    pub max_apparent_size: usize,
}

impl Limits {
    /// Limits that grow with an encoding of `bytes` bytes, for a caller that bounds the
    /// length itself and knows the encoding's author (an operation's payload or a
    /// snapshot, decoded after their signatures verify): a table takes at least 4 bytes,
    /// and the apparent size may reach 32 bytes per byte, so the verifier's work stays
    /// linear in the length. Decoded memory follows the apparent size, up to 32 times the
    /// length for an encoding that shares its parts. Never below the defaults.
    pub fn for_length(bytes: usize) -> Self {
        let default = Self::default();
        Self {
            max_bytes: bytes.max(default.max_bytes),
            max_depth: default.max_depth,
            max_tables: (bytes / 4).max(default.max_tables),
            max_apparent_size: bytes.saturating_mul(32).max(default.max_apparent_size),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 4 << 20,
            max_depth: 64,
            max_tables: 1 << 18,
            max_apparent_size: 16 << 20,
        }
    }
}

/// Why received bytes were refused. Nothing was applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The encoding is longer than [`Limits::max_bytes`].
    #[error("the encoding is {bytes} bytes, more than the limit of {limit}")]
    TooLarge {
        /// Its length.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The FlatBuffers verifier refused the bytes, or they exceed a limit.
    #[error("not a valid encoding: {0}")]
    Malformed(#[from] InvalidFlatbuffer),
    /// The encoding is of another schema.
    #[error("an encoding of schema `{found}`, where `{expected}` was expected")]
    WrongSchema {
        /// This store's schema name.
        expected: &'static str,
        /// The writer's.
        found: String,
    },
    /// The tables are well-formed FlatBuffers but do not describe a valid state.
    #[error("not a valid encoding: {0}")]
    Invalid(&'static str),
    /// A value is of another kind than the field's type is written as.
    #[error("a value of kind {found:?} where {expected:?} was expected")]
    ValueKind {
        /// The kind of the field's type.
        expected: ValueKind,
        /// The kind received.
        found: ValueKind,
    },
    /// A value does not fit the field's type.
    #[error("{value} is out of range for `{rust_type}`")]
    OutOfRange {
        /// The field's type.
        rust_type: &'static str,
        /// The value received.
        value: String,
    },
    /// A problem within the field with this id.
    #[error("field {id}: {problem}")]
    Field {
        /// The field's id.
        id: u16,
        /// The problem.
        problem: Box<DecodeError>,
    },
    /// The state decoded, but it is not one an honest replica could have sent.
    #[error(transparent)]
    Delta(#[from] InvalidDelta),
}

impl DecodeError {
    fn in_field(self, id: u16) -> Self {
        Self::Field {
            id,
            problem: Box::new(self),
        }
    }
}

/// A decoded state or delta and the schema version its writer was on.
#[derive(Clone, PartialEq, Debug)]
pub struct Decoded<S> {
    /// The state or delta.
    pub state: CausalDotStore<S>,
    /// The writer's schema version.
    pub writer_version: u32,
}

impl<S: TypedStore> CausalDotStore<S> {
    /// The encoding of this state or delta, with the schema name and version of this
    /// replica: the bytes to send to another replica or to store.
    ///
    /// Builds in a buffer kept per thread, so that only the returned bytes are allocated
    /// (a new encoder allocates several buffers); a buffer grown past 64 KiB is let go
    /// after use rather than kept.
    pub fn encode(&self) -> Vec<u8> {
        const KEPT_BYTES: usize = 64 << 10;
        thread_local! {
            static ENCODER: std::cell::RefCell<Encoder> = std::cell::RefCell::new(Encoder::new());
        }
        ENCODER.with(|encoder| match encoder.try_borrow_mut() {
            Ok(mut encoder) => {
                let bytes = self.encode_with(&mut encoder).to_vec();
                if bytes.len() > KEPT_BYTES {
                    *encoder = Encoder::new();
                }
                bytes
            }
            // Never while encoding, which calls no outside code; but a fresh encoder
            // costs only time.
            Err(_) => self.encode_with(&mut Encoder::new()).to_vec(),
        })
    }

    /// [`encode`](Self::encode) into `encoder`'s buffer, which is kept for the next
    /// encoding: what a replica that sends many deltas uses, without allocating each time.
    ///
    /// ```
    /// # use crdtype::{CausalDotStore, Crdt, HybridClock, ReplicaId};
    /// # #[derive(Crdt, Clone, Debug, Default, PartialEq)]
    /// # struct Note { text: String }
    /// use crdtype::wire::Encoder;
    ///
    /// let mut clock = HybridClock::new(ReplicaId::new(1));
    /// let mut note = CausalDotStore::<NoteCrdt>::new();
    /// let mut encoder = Encoder::new();
    /// for text in ["a", "b"] {
    ///     let delta = note.store.set_text(&mut note.context, clock.now(), text.to_owned());
    ///     let bytes: &[u8] = delta.encode_with(&mut encoder);
    ///     assert_eq!(CausalDotStore::<NoteCrdt>::decode(bytes).unwrap(), delta);
    /// }
    /// ```
    pub fn encode_with<'e>(&self, encoder: &'e mut Encoder) -> &'e [u8] {
        encoder.reset();
        let state = (!self.store.is_bottom()).then(|| self.store.encode_record(encoder));
        let context = encoder.longs(
            self.context
                .runs()
                .flat_map(|(replica, seqs)| [replica.get(), *seqs.start(), *seqs.end()]),
        );
        let fbb = &mut encoder.fbb;
        let schema = fbb.create_string(S::SCHEMA_NAME);
        let start = fbb.start_table();
        fbb.push_slot_always(slot(document::SCHEMA), schema);
        fbb.push_slot::<u32>(slot(document::VERSION), S::SCHEMA_VERSION, 0);
        if let Some(context) = context {
            fbb.push_slot_always(slot(document::CONTEXT), context);
        }
        if let Some(state) = state {
            fbb.push_slot_always(slot(document::STATE), state.0);
        }
        let root = fbb.end_table(start);
        fbb.finish_minimal(root);
        fbb.finished_data()
    }

    /// Reads a state or delta from received bytes, within the default [`Limits`]: see
    /// [`decode_with`](Self::decode_with).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_with(bytes, &Limits::default()).map(|decoded| decoded.state)
    }

    /// Reads a state or delta from received bytes, of this schema and any version of it.
    /// The verifier checks the bytes within `limits` first; the result is
    /// [validated](CausalDotStore::validate), so it can be joined safely.
    pub fn decode_with(bytes: &[u8], limits: &Limits) -> Result<Decoded<S>, DecodeError> {
        if bytes.len() > limits.max_bytes {
            return Err(DecodeError::TooLarge {
                bytes: bytes.len(),
                limit: limits.max_bytes,
            });
        }
        let options = VerifierOptions {
            max_depth: limits.max_depth,
            max_tables: limits.max_tables,
            max_apparent_size: limits.max_apparent_size,
            ignore_missing_null_terminator: false,
        };
        let root = tables::verified_root(bytes, &options)?;
        if root.schema() != S::SCHEMA_NAME {
            return Err(DecodeError::WrongSchema {
                expected: S::SCHEMA_NAME,
                found: root.schema().to_owned(),
            });
        }
        let runs = root.context().map(|runs| {
            (0..runs.len() / 3).map(move |index| {
                (
                    ReplicaId::new(runs.get(3 * index)),
                    runs.get(3 * index + 1),
                    runs.get(3 * index + 2),
                )
            })
        });
        if root.context().is_some_and(|runs| runs.len() % 3 != 0) {
            return Err(DecodeError::Invalid("a context has a partial run"));
        }
        let context = match runs.map(CausalContext::from_runs) {
            Some(Some(context)) => context,
            Some(None) => {
                return Err(DecodeError::Invalid(
                    "a context run is empty or starts at 0",
                ));
            }
            None => CausalContext::new(),
        };
        let store = match root.state() {
            Some(table) => S::decode_record(RecordRef { table })?,
            None => S::default(),
        };
        let state = CausalDotStore { store, context };
        state.validate()?;
        Ok(Decoded {
            state,
            writer_version: root.version(),
        })
    }
}
