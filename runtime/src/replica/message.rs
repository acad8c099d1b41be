//! The bytes of a sync message. The one place in this module with `unsafe` code; see
//! `wire/tables.rs`.
//!
//! ```text
//! table SyncMessage {
//!   document: [ubyte];                        // 16 bytes
//!   has_vector: bool;                         // the sender's first message
//!   vector_replicas: [ulong]; vector_seqs: [ulong];  // its version vector
//!   ops: [OpBytes];                           // operations, in an order they apply in
//!   done: bool;                               // the sender has sent all it will
//!   snapshot: [ubyte];                        // a signed snapshot, instead of operations
//!   heads: [ubyte];                           // with the vector: the sender's heads
//! }
//! table OpBytes { bytes: [ubyte] (required); }  // as in `ops/format.rs`
//! ```

#![allow(unsafe_code)]

use flatbuffers::{
    FlatBufferBuilder, ForwardsUOffset, InvalidFlatbuffer, Vector, Verifiable, Verifier,
    VerifierOptions,
};

use crate::ops::format::{OpsVector, write_ops};
use crate::wire::{slot, table};

type Bytes<'a> = Vector<'a, u8>;
type Longs<'a> = Vector<'a, u64>;
type Offset<T> = ForwardsUOffset<T>;

table!(
    /// The root of a sync message.
    MessageTable
);

mod slots {
    pub(super) const DOCUMENT: u16 = 0;
    pub(super) const HAS_VECTOR: u16 = 1;
    pub(super) const VECTOR_REPLICAS: u16 = 2;
    pub(super) const VECTOR_SEQS: u16 = 3;
    pub(super) const OPS: u16 = 4;
    pub(super) const DONE: u16 = 5;
    pub(super) const SNAPSHOT: u16 = 6;
    pub(super) const HEADS: u16 = 7;
}

impl<'a> MessageTable<'a> {
    fn bytes(&self, id: u16) -> &'a [u8] {
        // SAFETY: the verifier below visits every byte-vector slot as one.
        unsafe { self.0.get::<Offset<Bytes<'a>>>(slot(id), None) }
            .map_or(&[][..], |bytes| bytes.bytes())
    }

    fn flag(&self, id: u16) -> bool {
        // SAFETY: the verifier below visits every bool slot as one.
        unsafe { self.0.get::<bool>(slot(id), Some(false)) }.unwrap_or(false)
    }

    fn longs(&self, id: u16) -> impl ExactSizeIterator<Item = u64> + 'a {
        // SAFETY: the verifier below visits both vector slots as `[ulong]`.
        unsafe { self.0.get::<Offset<Longs<'a>>>(slot(id), None) }
            .unwrap_or_default()
            .iter()
    }

    pub(super) fn document(&self) -> &'a [u8] {
        self.bytes(slots::DOCUMENT)
    }

    /// The sender's version vector as (replica, last sequence) pairs, if the message
    /// carries one; an error when its two columns differ in length.
    pub(super) fn vector(&self) -> Result<Option<Vec<(u64, u64)>>, &'static str> {
        if !self.flag(slots::HAS_VECTOR) {
            return Ok(None);
        }
        let replicas = self.longs(slots::VECTOR_REPLICAS);
        let seqs = self.longs(slots::VECTOR_SEQS);
        if replicas.len() != seqs.len() {
            return Err("a version vector's columns differ in length");
        }
        Ok(Some(replicas.zip(seqs).collect()))
    }

    pub(super) fn ops(&self) -> impl Iterator<Item = &'a [u8]> {
        // SAFETY: the verifier below visits the slot as a vector of `OpBytes` tables.
        unsafe { self.0.get::<Offset<OpsVector<'a>>>(slot(slots::OPS), None) }
            .unwrap_or_default()
            .iter()
            .map(|op| op.bytes())
    }

    pub(super) fn done(&self) -> bool {
        self.flag(slots::DONE)
    }

    /// The sender's heads, 32 bytes each, sent with its vector.
    pub(super) fn heads(&self) -> &'a [u8] {
        self.bytes(slots::HEADS)
    }

    /// The snapshot the message carries, if any.
    pub(super) fn snapshot(&self) -> Option<&'a [u8]> {
        Some(self.bytes(slots::SNAPSHOT)).filter(|bytes| !bytes.is_empty())
    }
}

impl Verifiable for MessageTable<'_> {
    fn run_verifier(v: &mut Verifier<'_, '_>, pos: usize) -> Result<(), InvalidFlatbuffer> {
        v.visit_table(pos)?
            .visit_field::<Offset<Bytes<'_>>>("document", slot(slots::DOCUMENT), false)?
            .visit_field::<bool>("has_vector", slot(slots::HAS_VECTOR), false)?
            .visit_field::<Offset<Longs<'_>>>(
                "vector_replicas",
                slot(slots::VECTOR_REPLICAS),
                false,
            )?
            .visit_field::<Offset<Longs<'_>>>("vector_seqs", slot(slots::VECTOR_SEQS), false)?
            .visit_field::<Offset<OpsVector<'_>>>("ops", slot(slots::OPS), false)?
            .visit_field::<bool>("done", slot(slots::DONE), false)?
            .visit_field::<Offset<Bytes<'_>>>("snapshot", slot(slots::SNAPSHOT), false)?
            .visit_field::<Offset<Bytes<'_>>>("heads", slot(slots::HEADS), false)?
            .finish();
        Ok(())
    }
}

/// A sync message's bytes, verified: at most `max_ops` operations (tables), flat.
pub(super) fn read(bytes: &[u8], max_ops: usize) -> Result<MessageTable<'_>, InvalidFlatbuffer> {
    let options = VerifierOptions {
        max_depth: 4,
        max_tables: max_ops.saturating_add(1),
        max_apparent_size: bytes.len().saturating_mul(2).max(1 << 16),
        ignore_missing_null_terminator: false,
    };
    flatbuffers::root_with_opts::<MessageTable<'_>>(&options, bytes)
}

/// What a message holds, to be written.
pub(super) struct MessageFields<'a> {
    pub(super) document: &'a [u8],
    /// The version vector's two columns and the heads.
    pub(super) vector: Option<(Vec<u64>, Vec<u64>, Vec<u8>)>,
    pub(super) ops: &'a [&'a [u8]],
    pub(super) done: bool,
    pub(super) snapshot: Option<&'a [u8]>,
}

/// A message's bytes.
pub(super) fn write(fields: &MessageFields<'_>) -> Vec<u8> {
    let size: usize = fields.ops.iter().map(|op| op.len() + 16).sum();
    let mut fbb = FlatBufferBuilder::with_capacity(size + 256);
    let ops = write_ops(&mut fbb, fields.ops);
    let vector = fields.vector.as_ref().map(|(replicas, seqs, heads)| {
        (
            fbb.create_vector(replicas),
            fbb.create_vector(seqs),
            fbb.create_vector(heads),
        )
    });
    let snapshot = fields.snapshot.map(|bytes| fbb.create_vector(bytes));
    let document = fbb.create_vector(fields.document);
    let start = fbb.start_table();
    fbb.push_slot_always(slot(slots::DOCUMENT), document);
    if let Some((replicas, seqs, heads)) = vector {
        fbb.push_slot::<bool>(slot(slots::HAS_VECTOR), true, false);
        fbb.push_slot_always(slot(slots::VECTOR_REPLICAS), replicas);
        fbb.push_slot_always(slot(slots::VECTOR_SEQS), seqs);
        fbb.push_slot_always(slot(slots::HEADS), heads);
    }
    fbb.push_slot_always(slot(slots::OPS), ops);
    fbb.push_slot::<bool>(slot(slots::DONE), fields.done, false);
    if let Some(snapshot) = snapshot {
        fbb.push_slot_always(slot(slots::SNAPSHOT), snapshot);
    }
    let root = fbb.end_table(start);
    fbb.finish_minimal(root);
    fbb.finished_data().to_vec()
}
