//! The operation's bytes: a `SignedOp` table holding the signed header (itself a
//! FlatBuffer, so that the signature covers exactly the bytes received), the signature and
//! the payload. The one place in this module with `unsafe` code; see `wire/tables.rs`.
//!
//! ```text
//! table SignedOp { header: [ubyte] (required); signature: [ubyte] (required); payload: [ubyte]; }
//! table OpHeader {
//!   replica: ulong; seq: ulong;          // the op id
//!   document: [ubyte];                   // 16 bytes
//!   kind: ubyte;                         // 0 patch, 1 snapshot, 2 admission
//!   schema: string; version: uint;       // the writer's
//!   wall_micros: ulong; logical: uint;   // the writer's hybrid clock
//!   parents: [ubyte];                    // 32 bytes per parent hash
//!   payload_hash: [ubyte];               // BLAKE3 of the payload as sent
//!   admitted_replica: ulong; admitted_key: [ubyte];  // an admission's device
//!   encrypted: bool;                     // the payload is XChaCha20-Poly1305 ciphertext
//! }
//! table SnapshotPayload {                // a snapshot's payload
//!   state: [ubyte];                      // the state, in the wire format
//!   ids_replicas: [ulong]; ids_seqs: [ulong]; ids_hashes: [ubyte];  // every operation
//!                                        // it covers, in an order they applied in
//!   admissions: [OpBytes];               // the genesis and every admission, as signed
//! }
//! table OpBytes { bytes: [ubyte] (required); }
//! ```

#![allow(unsafe_code)]

use flatbuffers::{
    FlatBufferBuilder, Follow, ForwardsUOffset, InvalidFlatbuffer, Vector, Verifiable, Verifier,
    VerifierOptions, WIPOffset,
};

use crate::wire::{slot, table};

type Bytes<'a> = Vector<'a, u8>;
type Longs<'a> = Vector<'a, u64>;
type Offset<T> = ForwardsUOffset<T>;
pub(crate) type OpsVector<'a> = Vector<'a, Offset<OpBytesTable<'a>>>;

table!(
    /// The root of an operation's bytes.
    SignedOpTable
);

mod signed {
    pub(super) const HEADER: u16 = 0;
    pub(super) const SIGNATURE: u16 = 1;
    pub(super) const PAYLOAD: u16 = 2;
}

impl<'a> SignedOpTable<'a> {
    /// # Safety (for all accessors)
    ///
    /// The verifier below visits each slot as the type read.
    pub(crate) fn header(&self) -> &'a [u8] {
        // SAFETY: verified as a required byte vector.
        unsafe { self.0.get::<Offset<Bytes<'a>>>(slot(signed::HEADER), None) }
            .map_or(&[][..], |bytes| bytes.bytes())
    }

    pub(crate) fn signature(&self) -> &'a [u8] {
        // SAFETY: verified as a required byte vector.
        unsafe {
            self.0
                .get::<Offset<Bytes<'a>>>(slot(signed::SIGNATURE), None)
        }
        .map_or(&[][..], |bytes| bytes.bytes())
    }

    pub(crate) fn payload(&self) -> &'a [u8] {
        // SAFETY: verified as a byte vector.
        unsafe { self.0.get::<Offset<Bytes<'a>>>(slot(signed::PAYLOAD), None) }
            .map_or(&[][..], |bytes| bytes.bytes())
    }
}

impl Verifiable for SignedOpTable<'_> {
    fn run_verifier(v: &mut Verifier<'_, '_>, pos: usize) -> Result<(), InvalidFlatbuffer> {
        v.visit_table(pos)?
            .visit_field::<Offset<Bytes<'_>>>("header", slot(signed::HEADER), true)?
            .visit_field::<Offset<Bytes<'_>>>("signature", slot(signed::SIGNATURE), true)?
            .visit_field::<Offset<Bytes<'_>>>("payload", slot(signed::PAYLOAD), false)?
            .finish();
        Ok(())
    }
}

table!(
    /// The signed header of an operation.
    HeaderTable
);

mod header {
    pub(super) const REPLICA: u16 = 0;
    pub(super) const SEQ: u16 = 1;
    pub(super) const DOCUMENT: u16 = 2;
    pub(super) const KIND: u16 = 3;
    pub(super) const SCHEMA: u16 = 4;
    pub(super) const VERSION: u16 = 5;
    pub(super) const WALL_MICROS: u16 = 6;
    pub(super) const LOGICAL: u16 = 7;
    pub(super) const PARENTS: u16 = 8;
    pub(super) const PAYLOAD_HASH: u16 = 9;
    pub(super) const ADMITTED_REPLICA: u16 = 10;
    pub(super) const ADMITTED_KEY: u16 = 11;
    pub(super) const ENCRYPTED: u16 = 12;
}

impl<'a> HeaderTable<'a> {
    fn scalar<T: Follow<'a, Inner = T> + Copy + 'a>(&self, id: u16, default: T) -> T {
        // SAFETY: the verifier below visits every scalar slot as the type each accessor
        // reads it as (see the accessors).
        unsafe { self.0.get::<T>(slot(id), Some(default)) }.unwrap_or(default)
    }

    fn bytes(&self, id: u16) -> &'a [u8] {
        // SAFETY: the verifier below visits every byte-vector slot as one.
        unsafe { self.0.get::<Offset<Bytes<'a>>>(slot(id), None) }
            .map_or(&[][..], |bytes| bytes.bytes())
    }

    pub(crate) fn replica(&self) -> u64 {
        self.scalar(header::REPLICA, 0)
    }

    pub(crate) fn seq(&self) -> u64 {
        self.scalar(header::SEQ, 0)
    }

    pub(crate) fn document(&self) -> &'a [u8] {
        self.bytes(header::DOCUMENT)
    }

    pub(crate) fn kind(&self) -> u8 {
        self.scalar(header::KIND, 0)
    }

    pub(crate) fn schema(&self) -> &'a str {
        // SAFETY: verified as a string.
        unsafe { self.0.get::<Offset<&str>>(slot(header::SCHEMA), None) }.unwrap_or_default()
    }

    pub(crate) fn version(&self) -> u32 {
        self.scalar(header::VERSION, 0)
    }

    pub(crate) fn wall_micros(&self) -> u64 {
        self.scalar(header::WALL_MICROS, 0)
    }

    pub(crate) fn logical(&self) -> u32 {
        self.scalar(header::LOGICAL, 0)
    }

    pub(crate) fn parents(&self) -> &'a [u8] {
        self.bytes(header::PARENTS)
    }

    pub(crate) fn payload_hash(&self) -> &'a [u8] {
        self.bytes(header::PAYLOAD_HASH)
    }

    pub(crate) fn admitted_replica(&self) -> u64 {
        self.scalar(header::ADMITTED_REPLICA, 0)
    }

    pub(crate) fn admitted_key(&self) -> &'a [u8] {
        self.bytes(header::ADMITTED_KEY)
    }

    pub(crate) fn encrypted(&self) -> bool {
        self.scalar(header::ENCRYPTED, false)
    }
}

impl Verifiable for HeaderTable<'_> {
    fn run_verifier(v: &mut Verifier<'_, '_>, pos: usize) -> Result<(), InvalidFlatbuffer> {
        v.visit_table(pos)?
            .visit_field::<u64>("replica", slot(header::REPLICA), false)?
            .visit_field::<u64>("seq", slot(header::SEQ), false)?
            .visit_field::<Offset<Bytes<'_>>>("document", slot(header::DOCUMENT), false)?
            .visit_field::<u8>("kind", slot(header::KIND), false)?
            .visit_field::<Offset<&str>>("schema", slot(header::SCHEMA), false)?
            .visit_field::<u32>("version", slot(header::VERSION), false)?
            .visit_field::<u64>("wall_micros", slot(header::WALL_MICROS), false)?
            .visit_field::<u32>("logical", slot(header::LOGICAL), false)?
            .visit_field::<Offset<Bytes<'_>>>("parents", slot(header::PARENTS), false)?
            .visit_field::<Offset<Bytes<'_>>>("payload_hash", slot(header::PAYLOAD_HASH), false)?
            .visit_field::<u64>("admitted_replica", slot(header::ADMITTED_REPLICA), false)?
            .visit_field::<Offset<Bytes<'_>>>("admitted_key", slot(header::ADMITTED_KEY), false)?
            .visit_field::<bool>("encrypted", slot(header::ENCRYPTED), false)?
            .finish();
        Ok(())
    }
}

table!(
    /// One operation's bytes, in a vector of them: a snapshot's admissions, a sync
    /// message's operations.
    OpBytesTable
);

impl<'a> OpBytesTable<'a> {
    pub(crate) fn bytes(&self) -> &'a [u8] {
        // SAFETY: verified as a required byte vector.
        unsafe { self.0.get::<Offset<Bytes<'a>>>(slot(0), None) }
            .map_or(&[][..], |bytes| bytes.bytes())
    }
}

impl Verifiable for OpBytesTable<'_> {
    fn run_verifier(v: &mut Verifier<'_, '_>, pos: usize) -> Result<(), InvalidFlatbuffer> {
        v.visit_table(pos)?
            .visit_field::<Offset<Bytes<'_>>>("bytes", slot(0), true)?
            .finish();
        Ok(())
    }
}

/// A vector of operations, built from their bytes.
pub(crate) fn write_ops<'f>(
    fbb: &mut FlatBufferBuilder<'f>,
    ops: &[&[u8]],
) -> WIPOffset<Vector<'f, ForwardsUOffset<OpBytesTable<'f>>>> {
    let tables: Vec<WIPOffset<OpBytesTable<'f>>> = ops
        .iter()
        .map(|op| {
            let bytes = fbb.create_vector(op);
            let start = fbb.start_table();
            fbb.push_slot_always(slot(0), bytes);
            WIPOffset::new(fbb.end_table(start).value())
        })
        .collect();
    fbb.create_vector(&tables)
}

table!(
    /// A snapshot's payload.
    SnapshotTable
);

mod snapshot {
    pub(super) const STATE: u16 = 0;
    pub(super) const IDS_REPLICAS: u16 = 1;
    pub(super) const IDS_SEQS: u16 = 2;
    pub(super) const IDS_HASHES: u16 = 3;
    pub(super) const ADMISSIONS: u16 = 4;
}

impl<'a> SnapshotTable<'a> {
    fn bytes(&self, id: u16) -> &'a [u8] {
        // SAFETY: the verifier below visits every byte-vector slot as one.
        unsafe { self.0.get::<Offset<Bytes<'a>>>(slot(id), None) }
            .map_or(&[][..], |bytes| bytes.bytes())
    }

    fn longs(&self, id: u16) -> Longs<'a> {
        // SAFETY: the verifier below visits both slots as `[ulong]`.
        unsafe { self.0.get::<Offset<Longs<'a>>>(slot(id), None) }.unwrap_or_default()
    }

    pub(crate) fn state(&self) -> &'a [u8] {
        self.bytes(snapshot::STATE)
    }

    /// The ids' three columns: replicas, sequence numbers, hashes (32 bytes each).
    pub(crate) fn ids(&self) -> (Longs<'a>, Longs<'a>, &'a [u8]) {
        (
            self.longs(snapshot::IDS_REPLICAS),
            self.longs(snapshot::IDS_SEQS),
            self.bytes(snapshot::IDS_HASHES),
        )
    }

    pub(crate) fn admissions(&self) -> impl Iterator<Item = &'a [u8]> {
        // SAFETY: verified as a vector of `OpBytes` tables.
        unsafe {
            self.0
                .get::<Offset<OpsVector<'a>>>(slot(snapshot::ADMISSIONS), None)
        }
        .unwrap_or_default()
        .iter()
        .map(|op| op.bytes())
    }
}

impl Verifiable for SnapshotTable<'_> {
    fn run_verifier(v: &mut Verifier<'_, '_>, pos: usize) -> Result<(), InvalidFlatbuffer> {
        v.visit_table(pos)?
            .visit_field::<Offset<Bytes<'_>>>("state", slot(snapshot::STATE), false)?
            .visit_field::<Offset<Longs<'_>>>("ids_replicas", slot(snapshot::IDS_REPLICAS), false)?
            .visit_field::<Offset<Longs<'_>>>("ids_seqs", slot(snapshot::IDS_SEQS), false)?
            .visit_field::<Offset<Bytes<'_>>>("ids_hashes", slot(snapshot::IDS_HASHES), false)?
            .visit_field::<Offset<OpsVector<'_>>>("admissions", slot(snapshot::ADMISSIONS), false)?
            .finish();
        Ok(())
    }
}

/// A snapshot's payload bytes, verified: flat, one table per admission.
pub(crate) fn snapshot(bytes: &[u8]) -> Result<SnapshotTable<'_>, InvalidFlatbuffer> {
    let options = VerifierOptions {
        max_depth: 4,
        max_tables: 1 << 16,
        max_apparent_size: bytes.len().saturating_mul(2).max(1 << 16),
        ignore_missing_null_terminator: false,
    };
    flatbuffers::root_with_opts::<SnapshotTable<'_>>(&options, bytes)
}

/// What a snapshot's payload holds, to be written.
pub(crate) struct SnapshotFields<'a> {
    pub(crate) state: &'a [u8],
    pub(crate) ids_replicas: &'a [u64],
    pub(crate) ids_seqs: &'a [u64],
    pub(crate) ids_hashes: &'a [u8],
    pub(crate) admissions: &'a [&'a [u8]],
}

/// A snapshot's payload bytes.
pub(crate) fn write_snapshot(fields: &SnapshotFields<'_>) -> Vec<u8> {
    let size = fields.state.len() + fields.ids_hashes.len() * 2;
    let mut fbb = FlatBufferBuilder::with_capacity(size + 1024);
    let admissions = write_ops(&mut fbb, fields.admissions);
    let hashes = fbb.create_vector(fields.ids_hashes);
    let seqs = fbb.create_vector(fields.ids_seqs);
    let replicas = fbb.create_vector(fields.ids_replicas);
    let state = fbb.create_vector(fields.state);
    let start = fbb.start_table();
    fbb.push_slot_always(slot(snapshot::STATE), state);
    fbb.push_slot_always(slot(snapshot::IDS_REPLICAS), replicas);
    fbb.push_slot_always(slot(snapshot::IDS_SEQS), seqs);
    fbb.push_slot_always(slot(snapshot::IDS_HASHES), hashes);
    fbb.push_slot_always(slot(snapshot::ADMISSIONS), admissions);
    let root = fbb.end_table(start);
    fbb.finish_minimal(root);
    fbb.finished_data().to_vec()
}

/// The limits of an operation's two FlatBuffers: small and flat.
fn options() -> VerifierOptions {
    VerifierOptions {
        max_depth: 4,
        max_tables: 4,
        max_apparent_size: 64 << 20,
        ignore_missing_null_terminator: false,
    }
}

/// The outer table of received bytes, verified.
pub(crate) fn signed_op(bytes: &[u8]) -> Result<SignedOpTable<'_>, InvalidFlatbuffer> {
    flatbuffers::root_with_opts::<SignedOpTable<'_>>(&options(), bytes)
}

/// The header bytes of an operation, verified.
pub(crate) fn header(bytes: &[u8]) -> Result<HeaderTable<'_>, InvalidFlatbuffer> {
    flatbuffers::root_with_opts::<HeaderTable<'_>>(&options(), bytes)
}

/// What a header holds, to be written.
pub(crate) struct HeaderFields<'a> {
    pub(crate) replica: u64,
    pub(crate) seq: u64,
    pub(crate) document: &'a [u8],
    pub(crate) kind: u8,
    pub(crate) schema: &'a str,
    pub(crate) version: u32,
    pub(crate) wall_micros: u64,
    pub(crate) logical: u32,
    pub(crate) parents: &'a [u8],
    pub(crate) payload_hash: &'a [u8],
    pub(crate) admitted: Option<(u64, &'a [u8])>,
    pub(crate) encrypted: bool,
}

/// The header's bytes.
pub(crate) fn write_header(fields: &HeaderFields<'_>) -> Vec<u8> {
    let mut fbb = FlatBufferBuilder::with_capacity(256);
    let document = fbb.create_vector(fields.document);
    let schema = fbb.create_string(fields.schema);
    let parents = fbb.create_vector(fields.parents);
    let payload_hash = fbb.create_vector(fields.payload_hash);
    let admitted_key = fields.admitted.map(|(_, key)| fbb.create_vector(key));
    let start = fbb.start_table();
    fbb.push_slot::<u64>(slot(header::REPLICA), fields.replica, 0);
    fbb.push_slot::<u64>(slot(header::SEQ), fields.seq, 0);
    fbb.push_slot_always(slot(header::DOCUMENT), document);
    fbb.push_slot::<u8>(slot(header::KIND), fields.kind, 0);
    fbb.push_slot_always(slot(header::SCHEMA), schema);
    fbb.push_slot::<u32>(slot(header::VERSION), fields.version, 0);
    fbb.push_slot::<u64>(slot(header::WALL_MICROS), fields.wall_micros, 0);
    fbb.push_slot::<u32>(slot(header::LOGICAL), fields.logical, 0);
    fbb.push_slot_always(slot(header::PARENTS), parents);
    fbb.push_slot_always(slot(header::PAYLOAD_HASH), payload_hash);
    if let (Some((replica, _)), Some(key)) = (fields.admitted, admitted_key) {
        fbb.push_slot::<u64>(slot(header::ADMITTED_REPLICA), replica, 0);
        fbb.push_slot_always(slot(header::ADMITTED_KEY), key);
    }
    fbb.push_slot::<bool>(slot(header::ENCRYPTED), fields.encrypted, false);
    let root = fbb.end_table(start);
    fbb.finish_minimal(root);
    fbb.finished_data().to_vec()
}

/// An operation's bytes: the header, its signature, the payload.
pub(crate) fn write_signed(header: &[u8], signature: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut fbb = FlatBufferBuilder::with_capacity(header.len() + payload.len() + 128);
    let payload = fbb.create_vector(payload);
    let signature = fbb.create_vector(signature);
    let header = fbb.create_vector(header);
    let start = fbb.start_table();
    fbb.push_slot_always(slot(signed::HEADER), header);
    fbb.push_slot_always(slot(signed::SIGNATURE), signature);
    fbb.push_slot_always(slot(signed::PAYLOAD), payload);
    let root = fbb.end_table(start);
    fbb.finish_minimal(root);
    fbb.finished_data().to_vec()
}
