//! Operations: every change that leaves a replica is a signed operation that receivers
//! authenticate, order and apply exactly once.
//!
//! An operation has an id (a [`Dot`]: its device's replica id and a sequence number of
//! that device's operations), the document's id, a kind, the writer's schema name and
//! version, its hybrid-clock stamp, the hashes of the heads its writer had seen (its
//! parents), a payload (the encoded delta) and an Ed25519 signature. The signature covers
//! the header, which holds the BLAKE3 hash of the payload as sent; the operation's hash is
//! the BLAKE3 hash of its signed header bytes.
//!
//! Design decisions:
//! - **BLAKE3** for hashes: a 256-bit cryptographic hash several times faster than SHA-256
//!   in software, with no length-extension weakness; the operation's hash links the DAG,
//!   so its cost is paid on every operation.
//! - **Admission.** A document's id is derived from its creator's key and a salt
//!   ([`DocumentId::derive`]), so the first operation (the genesis: the creator admitting
//!   itself, the salt as its payload) is verifiable by anyone who knows the id, without
//!   trusting whoever sent it. Other devices are admitted by operations of kind
//!   [`OpKind::Admission`] signed by an already admitted device; they travel in the DAG
//!   like edits, so every replica derives the same set of devices from the same
//!   operations. An operation from a device not (yet) admitted waits while some of its
//!   parents are missing (its admission may be among them) and is refused once they are
//!   all here.
//! - **Receiving** runs one pipeline: verify structure (the FlatBuffers verifier) ->
//!   authenticate the device -> verify the signature (strict Ed25519, with the
//!   cofactored equation, so that alone and in a batch decide alike) -> check the
//!   payload's hash -> check clock skew -> deduplicate (an operation applied twice changes
//!   nothing; the same id with other content is an equivocation, refused, and kept as
//!   evidence) -> causal gate (parents and the device's earlier operations first; a
//!   bounded buffer per device holds what waits) -> migrate (decode the payload into the
//!   local schema version) -> join -> record. Every check runs before anything changes, so
//!   a refused operation leaves the state, heads, buffer and clock as they were.

pub(crate) mod format;
mod signature;

use std::collections::{BTreeMap, BTreeSet};

use ed25519_dalek::{Signature, Signer};
pub use ed25519_dalek::{SigningKey, VerifyingKey};
use flatbuffers::InvalidFlatbuffer;

use crate::wire::{DecodeError, Limits};
use crate::{
    CausalContext, CausalDotStore, ClockSkew, Dot, HybridClock, ReplicaId, SystemClock, Timestamp,
    TypedStore, WallClock,
};

/// A document's id: 16 bytes derived from its creator's key and a salt.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DocumentId([u8; 16]);

impl DocumentId {
    /// The id of the document that `creator` makes with `salt` (16 random bytes, so that
    /// one device makes many documents): the first 16 bytes of BLAKE3 of both, under a
    /// context string of its own.
    pub fn derive(creator: &VerifyingKey, salt: &[u8; 16]) -> Self {
        let mut hasher = blake3::Hasher::new_derive_key("crdtype 2026 document id");
        hasher.update(creator.as_bytes());
        hasher.update(salt);
        let mut id = [0; 16];
        hasher.finalize_xof().fill(&mut id);
        Self(id)
    }

    /// The id's bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl std::fmt::Display for DocumentId {
    /// As a UUID: `8-4-4-4-12` hexadecimal digits.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (index, byte) in self.0.iter().enumerate() {
            if matches!(index, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for DocumentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DocumentId({self})")
    }
}

/// An operation's hash: BLAKE3 of its signed header bytes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpHash(pub [u8; 32]);

impl std::fmt::Debug for OpHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OpHash(")?;
        for byte in &self.0[..6] {
            write!(f, "{byte:02x}")?;
        }
        write!(f, "…)")
    }
}

/// What an operation carries.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OpKind {
    /// A delta of the document.
    Patch,
    /// A whole state of the document.
    Snapshot,
    /// A device admitted to the document (the first one, the genesis, admits its creator).
    Admission,
}

impl OpKind {
    fn code(self) -> u8 {
        match self {
            Self::Patch => 0,
            Self::Snapshot => 1,
            Self::Admission => 2,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        [Self::Patch, Self::Snapshot, Self::Admission]
            .into_iter()
            .find(|kind| kind.code() == code)
    }
}

/// Why an operation was refused. The log is as it was (but for [`OpLog::evidence`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiveError {
    /// The bytes are longer than [`OpLimits::max_op_bytes`].
    #[error("an operation of {bytes} bytes, more than the limit of {limit}")]
    TooLarge {
        /// Its length.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The FlatBuffers verifier refused the bytes.
    #[error("not an operation: {0}")]
    Malformed(#[from] InvalidFlatbuffer),
    /// Well-formed, but not a valid operation.
    #[error("not a valid operation: {0}")]
    Invalid(&'static str),
    /// An operation of another document.
    #[error("an operation of document {found:?}, not {expected:?}")]
    WrongDocument {
        /// This log's document.
        expected: DocumentId,
        /// The operation's.
        found: Vec<u8>,
    },
    /// The device is not admitted to the document.
    #[error("replica {0} is not admitted to the document")]
    UnknownDevice(ReplicaId),
    /// Signed by an admitted device other than the one it names (found by the plain
    /// check of each other device's key: a signature with a torsion component by another
    /// device is a [`BadSignature`](Self::BadSignature)).
    #[error("an operation of replica {claimed} signed by replica {signer}")]
    SignedByAnotherDevice {
        /// The replica the operation names.
        claimed: ReplicaId,
        /// The replica whose key signed it.
        signer: ReplicaId,
    },
    /// The signature does not verify (strict Ed25519, cofactored) under the device's key.
    #[error("the signature of an operation of replica {0} does not verify")]
    BadSignature(ReplicaId),
    /// The payload is not the one the signed header hashes.
    #[error("the payload does not match the hash its signed header holds")]
    PayloadHashMismatch,
    /// Stamped too far in the future.
    #[error(transparent)]
    ClockSkew(#[from] ClockSkew),
    /// The same operation id with other content: the first is kept, this one refused, and
    /// both are in [`OpLog::evidence`] (if they are the device's first equivocation seen).
    #[error("replica {} issued two different operations numbered {}", id.replica(), id.seq())]
    Equivocation {
        /// The id used twice.
        id: Dot,
    },
    /// The buffer of operations waiting for their parents is full: that of this device,
    /// or, for replica 0, that of devices not admitted yet.
    #[error("too many operations of replica {0} wait for their parents")]
    BufferFull(ReplicaId),
    /// An admission of a device that is admitted with another key.
    #[error("replica {0} is admitted with another key")]
    KeyConflict(ReplicaId),
    /// An encrypted payload, and this log has no key to read it.
    #[error("the payload is encrypted and this replica has no key for it")]
    NoPayloadKey,
    /// An encrypted payload that the document's key does not open.
    #[error("the payload does not decrypt with the document's key")]
    Undecryptable,
    /// The payload does not decode as a state of this schema.
    #[error("the payload: {0}")]
    Payload(#[from] DecodeError),
}

/// An operation's fields: to read one without checking its signature, or to sign one.
/// Receivers never need it; tests and fuzzers use it to build operations a correct writer
/// would not.
#[derive(Clone, PartialEq, Debug)]
pub struct OpFields {
    /// The operation's id: its device and its number among that device's operations.
    pub id: Dot,
    /// The document's id bytes.
    pub document: [u8; 16],
    /// What it carries.
    pub kind: OpKind,
    /// The writer's schema name.
    pub schema: String,
    /// The writer's schema version.
    pub version: u32,
    /// The writer's hybrid-clock stamp (its replica is the id's).
    pub stamp: Timestamp,
    /// The heads the writer had seen.
    pub parents: Vec<OpHash>,
    /// The encoded delta or state; an admission's is empty, the genesis's is its salt.
    pub payload: Vec<u8>,
    /// The device an admission admits.
    pub admitted: Option<(ReplicaId, VerifyingKey)>,
    /// Whether the payload is encrypted with the document's key.
    pub encrypted: bool,
}

impl OpFields {
    /// The fields of an operation's bytes, structure checked, signature not.
    pub fn read(bytes: &[u8]) -> Result<Self, ReceiveError> {
        let signed = format::signed_op(bytes)?;
        let header = format::header(signed.header())?;
        let replica = ReplicaId::new(header.replica());
        Ok(Self {
            id: Dot::new(replica, header.seq()),
            document: header
                .document()
                .try_into()
                .map_err(|_| ReceiveError::Invalid("a document id is not 16 bytes"))?,
            kind: OpKind::from_code(header.kind())
                .ok_or(ReceiveError::Invalid("an unknown kind"))?,
            schema: header.schema().to_owned(),
            version: header.version(),
            stamp: Timestamp {
                wall_micros: header.wall_micros(),
                logical: header.logical(),
                replica,
            },
            parents: parents(header.parents())?,
            payload: signed.payload().to_vec(),
            admitted: admitted(&header)?,
            encrypted: header.encrypted(),
        })
    }

    /// The operation's bytes, signed with `key`.
    pub fn sign(&self, key: &SigningKey) -> Vec<u8> {
        self.sign_with_hash(key).0
    }

    /// The operation's bytes, with the signature that `sign` makes of its header: for a
    /// signature that [`SigningKey`] would not make.
    pub fn sign_with(&self, sign: impl FnOnce(&[u8]) -> [u8; 64]) -> Vec<u8> {
        self.signed_by(|header| Signature::from_bytes(&sign(header)))
            .0
    }

    fn sign_with_hash(&self, key: &SigningKey) -> (Vec<u8>, OpHash) {
        self.signed_by(|header| key.sign(header))
    }

    fn signed_by(&self, sign: impl FnOnce(&[u8]) -> Signature) -> (Vec<u8>, OpHash) {
        let parents: Vec<u8> = self.parents.iter().flat_map(|parent| parent.0).collect();
        let payload_hash = blake3::hash(&self.payload);
        let admitted_key = self
            .admitted
            .map(|(replica, key)| (replica.get(), key.to_bytes()));
        let header = format::write_header(&format::HeaderFields {
            replica: self.id.replica().get(),
            seq: self.id.seq(),
            document: &self.document,
            kind: self.kind.code(),
            schema: &self.schema,
            version: self.version,
            wall_micros: self.stamp.wall_micros,
            logical: self.stamp.logical,
            parents: &parents,
            payload_hash: payload_hash.as_bytes(),
            admitted: admitted_key
                .as_ref()
                .map(|(replica, key)| (*replica, &key[..])),
            encrypted: self.encrypted,
        });
        let signature = sign(&header);
        let hash = OpHash(*blake3::hash(&header).as_bytes());
        (
            format::write_signed(&header, &signature.to_bytes(), &self.payload),
            hash,
        )
    }
}

/// The parent hashes a header lists: 32 bytes each, none twice.
fn parents(bytes: &[u8]) -> Result<Vec<OpHash>, ReceiveError> {
    if !bytes.len().is_multiple_of(32) {
        return Err(ReceiveError::Invalid("a parent hash is not 32 bytes"));
    }
    let parents: Vec<OpHash> = bytes
        .chunks_exact(32)
        .filter_map(|chunk| chunk.try_into().ok().map(OpHash))
        .collect();
    if parents.iter().collect::<BTreeSet<_>>().len() != parents.len() {
        return Err(ReceiveError::Invalid("a parent is listed twice"));
    }
    Ok(parents)
}

/// The device an admission admits; `None` for other kinds.
fn admitted(
    header: &format::HeaderTable<'_>,
) -> Result<Option<(ReplicaId, VerifyingKey)>, ReceiveError> {
    if OpKind::from_code(header.kind()) != Some(OpKind::Admission) {
        return Ok(None);
    }
    let key: [u8; 32] = header
        .admitted_key()
        .try_into()
        .map_err(|_| ReceiveError::Invalid("an admission without a 32-byte key"))?;
    let key = VerifyingKey::from_bytes(&key)
        .map_err(|_| ReceiveError::Invalid("an admitted key is not a valid key"))?;
    Ok(Some((ReplicaId::new(header.admitted_replica()), key)))
}

/// A document's key for payloads (XChaCha20-Poly1305). The signature covers the hash of
/// the ciphertext, so a relay verifies operations without reading them. Each payload's
/// nonce is derived from the document and the operation's id, which no honest device
/// reuses; authenticated data binds the ciphertext to that id.
#[derive(Clone)]
pub struct PayloadKey([u8; 32]);

impl std::fmt::Debug for PayloadKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PayloadKey(…)")
    }
}

impl PayloadKey {
    /// The key of 32 secret bytes, shared by the document's devices out of band.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    fn nonce(document: &DocumentId, id: Dot) -> chacha20poly1305::XNonce {
        let mut hasher = blake3::Hasher::new_derive_key("crdtype 2026 payload nonce");
        hasher.update(&document.0);
        hasher.update(&id.replica().get().to_le_bytes());
        hasher.update(&id.seq().to_le_bytes());
        let mut nonce = [0; 24];
        hasher.finalize_xof().fill(&mut nonce);
        nonce.into()
    }

    fn cipher(&self) -> chacha20poly1305::XChaCha20Poly1305 {
        use chacha20poly1305::KeyInit;
        chacha20poly1305::XChaCha20Poly1305::new(&self.0.into())
    }

    fn seal(&self, document: &DocumentId, id: Dot, plain: &[u8]) -> Vec<u8> {
        use chacha20poly1305::aead::{Aead, Payload};
        let aad = [id.replica().get().to_le_bytes(), id.seq().to_le_bytes()].concat();
        self.cipher()
            .encrypt(
                &Self::nonce(document, id),
                Payload {
                    msg: plain,
                    aad: &aad,
                },
            )
            // Encryption fails only for messages beyond 256 GiB.
            .unwrap_or_default()
    }

    /// A snapshot's payload sealed: every snapshot of a replica has the id (replica, 0),
    /// so its nonce is derived from the plaintext under the key instead (two snapshots
    /// share a nonce only if they are equal), and sent in front of the ciphertext.
    fn seal_snapshot(&self, document: &DocumentId, plain: &[u8]) -> Vec<u8> {
        use chacha20poly1305::aead::{Aead, Payload};
        let mut hasher = blake3::Hasher::new_keyed(&self.0);
        hasher.update(b"crdtype 2026 snapshot nonce");
        hasher.update(plain);
        let mut nonce = [0; 24];
        hasher.finalize_xof().fill(&mut nonce);
        let sealed = self
            .cipher()
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: plain,
                    aad: &document.0,
                },
            )
            .unwrap_or_default();
        [&nonce[..], &sealed].concat()
    }

    fn open_snapshot(&self, document: &DocumentId, sealed: &[u8]) -> Option<Vec<u8>> {
        use chacha20poly1305::aead::{Aead, Payload};
        let (nonce, sealed) = sealed.split_first_chunk::<24>()?;
        self.cipher()
            .decrypt(
                &(*nonce).into(),
                Payload {
                    msg: sealed,
                    aad: &document.0,
                },
            )
            .ok()
    }

    fn open(&self, document: &DocumentId, id: Dot, sealed: &[u8]) -> Option<Vec<u8>> {
        use chacha20poly1305::aead::{Aead, Payload};
        let aad = [id.replica().get().to_le_bytes(), id.seq().to_le_bytes()].concat();
        self.cipher()
            .decrypt(
                &Self::nonce(document, id),
                Payload {
                    msg: sealed,
                    aad: &aad,
                },
            )
            .ok()
    }
}

/// What receiving an operation did.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Received {
    /// Applied, with this many operations that waited for it applied too.
    Applied {
        /// Buffered operations released by this one.
        released: usize,
    },
    /// Already applied, or already waiting: nothing changed.
    Duplicate,
    /// Waits for parents (or the device's earlier operations) that have not arrived.
    Buffered,
}

/// Bounds on what an [`OpLog`] accepts.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct OpLimits {
    /// The largest operation, in bytes. Default 4 MiB.
    pub max_op_bytes: usize,
    /// The most operations of one admitted device that may wait for their parents.
    /// Default 256.
    pub max_waiting_per_device: usize,
    /// The most operations of devices not admitted yet that may wait, all together (their
    /// signatures cannot be checked until an admission arrives). Default 256.
    pub max_waiting_unadmitted: usize,
    /// The largest snapshot, in bytes. Default 64 MiB.
    pub max_snapshot_bytes: usize,
}

impl Default for OpLimits {
    fn default() -> Self {
        Self {
            max_op_bytes: 4 << 20,
            max_waiting_per_device: 256,
            max_waiting_unadmitted: 256,
            max_snapshot_bytes: 64 << 20,
        }
    }
}

/// Two signed operations with the same id: proof that their device equivocated.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Equivocation {
    /// The id both carry.
    pub id: Dot,
    /// The operation applied first, as received; empty if a snapshot's compaction had
    /// dropped its bytes before the other one arrived.
    pub kept: Vec<u8>,
    /// The other one, as received.
    pub refused: Vec<u8>,
}

/// An operation that passed every check but the causal gate.
struct Checked<S> {
    hash: OpHash,
    id: Dot,
    stamp: Timestamp,
    parents: Vec<OpHash>,
    effect: Effect<S>,
    bytes: Vec<u8>,
}

enum Effect<S> {
    Join(CausalDotStore<S>),
    Admit(ReplicaId, VerifyingKey),
}

/// One document's verified history and state: the devices admitted, every operation
/// applied (as received, for sending on), the heads, the operations waiting for their
/// parents, and the state they add up to.
#[derive(Clone)]
pub struct OpLog<S, W = SystemClock> {
    document: DocumentId,
    state: CausalDotStore<S>,
    clock: HybridClock<W>,
    limits: OpLimits,
    devices: BTreeMap<ReplicaId, VerifyingKey>,
    applied: BTreeMap<OpHash, Vec<u8>>,
    ids: BTreeMap<Dot, OpHash>,
    last_seq: BTreeMap<ReplicaId, u64>,
    heads: BTreeSet<OpHash>,
    order: Vec<(Dot, OpHash)>,
    /// Applied operations whose bytes a snapshot's compaction dropped.
    pruned: BTreeSet<OpHash>,
    /// Operations waiting for their parents, with what was checked of them already.
    waiting: BTreeMap<ReplicaId, Vec<(Vec<u8>, Trust)>>,
    unadmitted: Vec<(Vec<u8>, Trust)>,
    evidence: Vec<Equivocation>,
    payload_key: Option<PayloadKey>,
}

impl<S, W> std::fmt::Debug for OpLog<S, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpLog")
            .field("document", &self.document)
            .field("devices", &self.devices.keys().collect::<Vec<_>>())
            .field("applied", &self.applied.len())
            .field("heads", &self.heads)
            .finish_non_exhaustive()
    }
}

impl<S: TypedStore, W: WallClock> OpLog<S, W> {
    /// A new document made by the device with `key`, whose clock is `clock` (and so whose
    /// replica id is the clock's), and the bytes of its genesis operation, which every
    /// other replica must receive first.
    pub fn create(key: &SigningKey, salt: [u8; 16], clock: HybridClock<W>) -> (Self, Vec<u8>) {
        let replica = clock.replica();
        let document = DocumentId::derive(&key.verifying_key(), &salt);
        let mut log = Self::open(document, clock);
        let stamp = log.clock.now();
        let admitted = Some((replica, key.verifying_key()));
        let genesis = log.sign_at(key, OpKind::Admission, &salt, admitted, stamp);
        log.devices.insert(replica, key.verifying_key());
        let genesis = log.record(genesis, &[]);
        (log, genesis)
    }

    /// An empty log of the document `document`, to receive its operations, starting with
    /// its genesis.
    pub fn open(document: DocumentId, clock: HybridClock<W>) -> Self {
        Self {
            document,
            state: CausalDotStore::new(),
            clock,
            limits: OpLimits::default(),
            devices: BTreeMap::new(),
            applied: BTreeMap::new(),
            ids: BTreeMap::new(),
            last_seq: BTreeMap::new(),
            heads: BTreeSet::new(),
            order: Vec::new(),
            pruned: BTreeSet::new(),
            waiting: BTreeMap::new(),
            unadmitted: Vec::new(),
            evidence: Vec::new(),
            payload_key: None,
        }
    }

    /// The same log with the document's key for payloads: this replica encrypts the
    /// payloads of its edits with it, and decrypts those of others.
    pub fn with_payload_key(mut self, key: PayloadKey) -> Self {
        self.payload_key = Some(key);
        self
    }

    /// The same log with other limits.
    pub fn with_limits(mut self, limits: OpLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The document's id.
    pub fn document(&self) -> DocumentId {
        self.document
    }

    /// The state every applied operation adds up to.
    pub fn state(&self) -> &CausalDotStore<S> {
        &self.state
    }

    /// The clock of this replica.
    pub fn clock(&self) -> &HybridClock<W> {
        &self.clock
    }

    /// The devices admitted, with their keys.
    pub fn devices(&self) -> &BTreeMap<ReplicaId, VerifyingKey> {
        &self.devices
    }

    /// The operations no applied operation names as a parent.
    pub fn heads(&self) -> &BTreeSet<OpHash> {
        &self.heads
    }

    /// One digest of the heads: two replicas with the same digest have applied the same
    /// operations.
    pub fn heads_digest(&self) -> [u8; 32] {
        let mut hasher = blake3::Hasher::new();
        for head in &self.heads {
            hasher.update(&head.0);
        }
        *hasher.finalize().as_bytes()
    }

    /// Every applied operation whose bytes this log holds, as received, by hash: all of
    /// them, unless [`compact`](Self::compact) dropped those a snapshot covers.
    pub fn applied(&self) -> &BTreeMap<OpHash, Vec<u8>> {
        &self.applied
    }

    /// Whether the operation with this hash was applied (its bytes held or not).
    pub fn is_applied(&self, hash: &OpHash) -> bool {
        self.applied.contains_key(hash) || self.pruned.contains(hash)
    }

    /// How many operations were applied (their bytes held or not).
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether no operation was applied, not even the genesis.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The operations applied whose bytes this log holds, by id, in the order they were
    /// applied, from the `from`th applied on (0 for all): each after its parents and its
    /// device's earlier operations, so a receiver can apply them in this order.
    pub fn history(&self, from: usize) -> impl Iterator<Item = (Dot, &[u8])> + '_ {
        let order = self.order.get(from..).unwrap_or_default();
        order.iter().filter_map(|(id, hash)| {
            let bytes = self.applied.get(hash)?;
            Some((*id, bytes.as_slice()))
        })
    }

    /// The id of the `position`th operation applied, and its bytes if this log holds them.
    pub(crate) fn op_at(&self, position: usize) -> Option<(Dot, Option<&[u8]>)> {
        let (id, hash) = self.order.get(position)?;
        Some((*id, self.applied.get(hash).map(Vec::as_slice)))
    }

    /// Drops the bytes of every applied operation but the genesis and the admissions,
    /// which a snapshot ([`snapshot`](Self::snapshot)) replaces: the log still knows their
    /// ids and hashes, so it deduplicates them and links new operations to them, but can
    /// no longer send them on, nor prove an equivocation with them.
    pub fn compact(&mut self) {
        let kept: BTreeMap<OpHash, Vec<u8>> = std::mem::take(&mut self.applied)
            .into_iter()
            .filter(|(hash, bytes)| {
                let admission = is_admission(bytes);
                if !admission {
                    self.pruned.insert(*hash);
                }
                admission
            })
            .collect();
        self.applied = kept;
    }

    /// Per device, the number of its last applied operation. A device's operations apply
    /// in the order it numbered them, so this names every operation applied.
    pub fn version_vector(&self) -> &BTreeMap<ReplicaId, u64> {
        &self.last_seq
    }

    /// How many operations wait for their parents.
    pub fn waiting(&self) -> usize {
        self.waiting.values().map(Vec::len).sum::<usize>() + self.unadmitted.len()
    }

    /// The equivocations seen: the first of each device. One proves that the device
    /// signed two operations with one id; more would only repeat it, and an equivocating
    /// device could fill memory with them, since each holds two whole operations.
    pub fn evidence(&self) -> &[Equivocation] {
        &self.evidence
    }

    /// Puts back evidence read from this replica's own storage, after its operations: kept
    /// if the refused operation is of this document, under an id this log applied, and is
    /// not the operation applied under it; if the kept operation (unless compaction had
    /// dropped its bytes) is that one; and if their device has no proof yet.
    pub(crate) fn restore_evidence(&mut self, kept: Vec<u8>, refused: Vec<u8>) -> bool {
        let header_hash = |bytes: &[u8]| {
            format::signed_op(bytes)
                .ok()
                .map(|signed| OpHash(*blake3::hash(signed.header()).as_bytes()))
        };
        let Ok(second) = OpFields::read(&refused) else {
            return false;
        };
        let Some(&applied) = self.ids.get(&second.id) else {
            return false;
        };
        let proves = second.document == self.document.0
            && header_hash(&refused).is_some_and(|hash| hash != applied)
            && (kept.is_empty() || header_hash(&kept) == Some(applied))
            && !self.has_evidence(second.id.replica());
        if proves {
            self.evidence.push(Equivocation {
                id: second.id,
                kept,
                refused,
            });
        }
        proves
    }

    fn has_evidence(&self, replica: ReplicaId) -> bool {
        self.evidence
            .iter()
            .any(|evidence| evidence.id.replica() == replica)
    }

    /// Edits the state as this replica: `edit` gets the store, the context and a fresh
    /// stamp and returns the delta, which becomes an operation signed with `key`; returns
    /// its bytes, to send to the other replicas, or `None` when the delta is empty.
    pub fn edit(
        &mut self,
        key: &SigningKey,
        edit: impl FnOnce(&mut S, &mut CausalContext, Timestamp) -> CausalDotStore<S>,
    ) -> Result<Option<Vec<u8>>, ReceiveError> {
        self.own_key(key)?;
        let stamp = self.clock.now();
        let delta = edit(&mut self.state.store, &mut self.state.context, stamp);
        if delta.store.is_bottom() && delta.context.is_empty() {
            return Ok(None);
        }
        let parents: Vec<OpHash> = self.heads.iter().copied().collect();
        let signed = self.sign_at(key, OpKind::Patch, &delta.encode(), None, stamp);
        Ok(Some(self.record(signed, &parents)))
    }

    /// Admits the device `replica` with `device_key`, as this replica (whose `key` must be
    /// admitted); returns the operation's bytes.
    pub fn admit(
        &mut self,
        key: &SigningKey,
        replica: ReplicaId,
        device_key: VerifyingKey,
    ) -> Result<Vec<u8>, ReceiveError> {
        self.own_key(key)?;
        if self
            .devices
            .get(&replica)
            .is_some_and(|known| *known != device_key)
        {
            return Err(ReceiveError::KeyConflict(replica));
        }
        let stamp = self.clock.now();
        let parents: Vec<OpHash> = self.heads.iter().copied().collect();
        let admitted = Some((replica, device_key));
        let signed = self.sign_at(key, OpKind::Admission, &[], admitted, stamp);
        self.devices.insert(replica, device_key);
        Ok(self.record(signed, &parents))
    }

    /// A snapshot of everything this log applied, signed with `key` (this replica's): the
    /// state, the id and hash of every operation applied, and the genesis and admissions
    /// as signed. It is not an operation of the DAG (its number is 0, and it has no
    /// effect but the state it carries): a replica that lacks operations a peer has
    /// compacted away adopts it with [`receive_snapshot`](Self::receive_snapshot) instead.
    pub fn snapshot(&self, key: &SigningKey) -> Result<Vec<u8>, ReceiveError> {
        self.own_key(key)?;
        let replica = self.clock.replica();
        let mut ids_replicas = Vec::with_capacity(self.order.len());
        let mut ids_seqs = Vec::with_capacity(self.order.len());
        let mut ids_hashes = Vec::with_capacity(self.order.len() * 32);
        let mut admissions = Vec::new();
        for (id, hash) in &self.order {
            ids_replicas.push(id.replica().get());
            ids_seqs.push(id.seq());
            ids_hashes.extend_from_slice(&hash.0);
            if let Some(bytes) = self.applied.get(hash).filter(|bytes| is_admission(bytes)) {
                admissions.push(bytes.as_slice());
            }
        }
        let payload = format::write_snapshot(&format::SnapshotFields {
            state: &self.state.encode(),
            ids_replicas: &ids_replicas,
            ids_seqs: &ids_seqs,
            ids_hashes: &ids_hashes,
            admissions: &admissions,
        });
        let id = Dot::new(replica, 0);
        let (payload, encrypted) = match &self.payload_key {
            Some(payload_key) => (payload_key.seal_snapshot(&self.document, &payload), true),
            None => (payload, false),
        };
        let mark = self.clock.high_water_mark();
        let fields = OpFields {
            id,
            document: self.document.0,
            kind: OpKind::Snapshot,
            schema: S::SCHEMA_NAME.to_owned(),
            version: S::SCHEMA_VERSION,
            stamp: Timestamp {
                wall_micros: mark.wall_micros,
                logical: mark.logical,
                replica,
            },
            parents: self.heads.iter().copied().collect(),
            payload,
            admitted: None,
            encrypted,
        };
        Ok(fields.sign(key))
    }

    /// Adopts a peer's [`snapshot`](Self::snapshot): its admissions are received as
    /// operations, then its signature is verified (strictly, with its device's key), and
    /// its state is joined and the operations it covers count as applied (their bytes not
    /// held). Returns how many operations it covered that this log had not applied.
    /// Refused, the log is as it was.
    ///
    /// An admitted device is trusted, as with every operation it signs, to report the
    /// state of the operations it lists; it could list other devices' future ids with
    /// made-up hashes, and their real operations would then be refused as equivocations.
    /// A snapshot that lists an id with another hash than this log knows is refused whole.
    pub fn receive_snapshot(&mut self, bytes: &[u8]) -> Result<usize, ReceiveError> {
        self.adopt(bytes, Trust::Nothing)
    }

    /// [`receive_snapshot`](Self::receive_snapshot) of a snapshot read back from this
    /// replica's own storage: neither its signature nor its stamp is checked again.
    pub(crate) fn restore_snapshot(&mut self, bytes: &[u8]) -> Result<usize, ReceiveError> {
        self.adopt(bytes, Trust::Stored)
    }

    fn adopt(&mut self, bytes: &[u8], trust: Trust) -> Result<usize, ReceiveError> {
        if bytes.len() > self.limits.max_snapshot_bytes {
            return Err(ReceiveError::TooLarge {
                bytes: bytes.len(),
                limit: self.limits.max_snapshot_bytes,
            });
        }
        let signed = format::signed_op(bytes)?;
        let header = format::header(signed.header())?;
        if header.document() != self.document.0 {
            return Err(ReceiveError::WrongDocument {
                expected: self.document,
                found: header.document().to_vec(),
            });
        }
        if header.kind() != OpKind::Snapshot.code() || header.seq() != 0 {
            return Err(ReceiveError::Invalid("not a snapshot"));
        }
        if header.schema() != S::SCHEMA_NAME {
            return Err(ReceiveError::Invalid("a snapshot of another schema"));
        }
        if blake3::hash(signed.payload()).as_bytes()[..] != *header.payload_hash() {
            return Err(ReceiveError::PayloadHashMismatch);
        }
        let replica = ReplicaId::new(header.replica());
        let stamp = Timestamp {
            wall_micros: header.wall_micros(),
            logical: header.logical(),
            replica,
        };
        if !trust.stamp_checked() {
            self.clock.check(stamp)?;
        }
        let opened;
        let payload = if header.encrypted() {
            let key = self
                .payload_key
                .as_ref()
                .ok_or(ReceiveError::NoPayloadKey)?;
            opened = key
                .open_snapshot(&self.document, signed.payload())
                .ok_or(ReceiveError::Undecryptable)?;
            &opened[..]
        } else {
            signed.payload()
        };
        let table = format::snapshot(payload)?;
        let covered = covered_ids(&table)?;
        for (id, hash) in &covered {
            if self.ids.get(id).is_some_and(|known| known != hash) {
                return Err(ReceiveError::Equivocation { id: *id });
            }
        }
        let covered_hashes: BTreeSet<OpHash> = covered.iter().map(|(_, hash)| *hash).collect();
        let snapshot_heads: BTreeSet<OpHash> = parents(header.parents())?.into_iter().collect();
        if !snapshot_heads.is_subset(&covered_hashes) {
            return Err(ReceiveError::Invalid(
                "a snapshot's heads are not operations it covers",
            ));
        }
        let mut admissions = BTreeMap::new();
        for admission in table.admissions() {
            let signed = format::signed_op(admission)?;
            let hash = OpHash(*blake3::hash(signed.header()).as_bytes());
            if !covered_hashes.contains(&hash) {
                return Err(ReceiveError::Invalid(
                    "a snapshot's admission it does not cover",
                ));
            }
            admissions.insert(hash, admission);
        }
        // Merge the covered history on a copy, in its order: admissions are received as
        // operations (they admit the devices, and the snapshot's signer among them), the
        // others count as applied without their bytes. The copy replaces this log only
        // if the snapshot's signature then verifies.
        let mut staged = self.clone();
        let mut adopted = 0;
        for (id, hash) in &covered {
            if staged.ids.contains_key(id) {
                continue;
            }
            if let Some(admission) = admissions.get(hash) {
                staged.receive_checked(admission, trust)?;
                if !staged.is_applied(hash) {
                    return Err(ReceiveError::Invalid(
                        "a snapshot's admission does not apply in the snapshot's order",
                    ));
                }
            } else {
                staged.ids.insert(*id, *hash);
                staged.pruned.insert(*hash);
                staged.order.push((*id, *hash));
                let last = staged.last_seq.entry(id.replica()).or_default();
                *last = (*last).max(id.seq());
            }
            adopted += 1;
        }
        let key = *staged
            .devices
            .get(&replica)
            .ok_or(ReceiveError::UnknownDevice(replica))?;
        let signature = Signature::from_slice(signed.signature())
            .map_err(|_| ReceiveError::Invalid("a signature is not 64 bytes"))?;
        if !trust.signature_checked() && !signature::verify(&key, signed.header(), &signature) {
            return Err(ReceiveError::BadSignature(replica));
        }
        // Decoded only once its signature verifies: a large state costs work to decode.
        let decoded = CausalDotStore::<S>::decode_with(
            table.state(),
            &Limits::for_length(table.state().len()),
        )?;
        if decoded.writer_version != header.version() {
            return Err(ReceiveError::Invalid(
                "a snapshot's state of another version than its header says",
            ));
        }
        // The heads: this log's, but those the snapshot covers and does not list as heads
        // (some operation it covers names them), and the snapshot's new to this log.
        let mut heads: BTreeSet<OpHash> = self
            .heads
            .iter()
            .filter(|head| !covered_hashes.contains(head) || snapshot_heads.contains(head))
            .copied()
            .collect();
        heads.extend(
            snapshot_heads
                .iter()
                .filter(|head| !self.is_applied(head))
                .copied(),
        );
        staged.heads = heads;
        staged.state.join(decoded.state);
        staged.clock.advance_past(stamp);
        staged.release();
        *self = staged;
        Ok(adopted)
    }

    /// Records an operation this replica made and already applied; returns its bytes.
    fn record(&mut self, (bytes, hash): (Vec<u8>, OpHash), parents: &[OpHash]) -> Vec<u8> {
        let replica = self.clock.replica();
        let seq = self.last_seq.get(&replica).copied().unwrap_or(0) + 1;
        self.note_applied(hash, Dot::new(replica, seq), parents, bytes.clone());
        bytes
    }

    fn own_key(&self, key: &SigningKey) -> Result<(), ReceiveError> {
        let replica = self.clock.replica();
        match self.devices.get(&replica) {
            Some(admitted) if *admitted == key.verifying_key() => Ok(()),
            Some(_) => Err(ReceiveError::KeyConflict(replica)),
            None => Err(ReceiveError::UnknownDevice(replica)),
        }
    }

    fn sign_at(
        &self,
        key: &SigningKey,
        kind: OpKind,
        payload: &[u8],
        admitted: Option<(ReplicaId, VerifyingKey)>,
        stamp: Timestamp,
    ) -> (Vec<u8>, OpHash) {
        let replica = self.clock.replica();
        let seq = self.last_seq.get(&replica).copied().unwrap_or(0) + 1;
        let id = Dot::new(replica, seq);
        let (payload, encrypted) = match (&self.payload_key, kind) {
            (Some(payload_key), OpKind::Patch | OpKind::Snapshot) => {
                (payload_key.seal(&self.document, id, payload), true)
            }
            _ => (payload.to_vec(), false),
        };
        OpFields {
            id,
            document: self.document.0,
            kind,
            schema: S::SCHEMA_NAME.to_owned(),
            version: S::SCHEMA_VERSION,
            stamp,
            parents: self.heads.iter().copied().collect(),
            payload,
            admitted,
            encrypted,
        }
        .sign_with_hash(key)
    }

    /// Receives one operation's bytes through the whole pipeline. Refused, the log is as
    /// it was, but for [`evidence`](Self::evidence) of an equivocation.
    pub fn receive(&mut self, bytes: &[u8]) -> Result<Received, ReceiveError> {
        self.receive_checked(bytes, Trust::Nothing)
    }

    /// Receives operations read back from this replica's own storage, which received and
    /// checked them before it stored them: their signatures are not verified again, and
    /// their stamps move the clock even past the skew bound (the wall clock may have gone
    /// back since). Everything else is checked as [`receive`](Self::receive) does.
    pub(crate) fn restore(&mut self, bytes: &[u8]) -> Result<Received, ReceiveError> {
        self.receive_checked(bytes, Trust::Stored)
    }

    /// Receives an operation of a stored history replayed to verify it: everything is
    /// checked but clock skew, which was when the operation first arrived.
    pub(crate) fn replay(&mut self, bytes: &[u8]) -> Result<Received, ReceiveError> {
        self.receive_checked(bytes, Trust::Stamp)
    }

    /// An empty log of the same document, clock, limits and payload key.
    pub(crate) fn empty_like(&self) -> Self {
        let mut empty = Self::open(self.document, self.clock.clone()).with_limits(self.limits);
        empty.payload_key = self.payload_key.clone();
        empty
    }

    /// Moves the clock past a high-water mark restored from storage.
    pub(crate) fn raise_clock(&mut self, mark: crate::HighWaterMark) {
        self.clock.advance_past(Timestamp {
            wall_micros: mark.wall_micros,
            logical: mark.logical,
            replica: self.clock.replica(),
        });
    }

    /// Receives operations one by one, each applied or refused on its own, their
    /// signatures verified together as [`receive_batch`](Self::receive_batch) does.
    pub fn receive_each(&mut self, ops: &[&[u8]]) -> Vec<Result<Received, ReceiveError>> {
        let verified = self.verify_together(ops);
        ops.iter()
            .zip(verified)
            .map(|(bytes, verified)| self.receive_checked(bytes, Trust::from_verified(verified)))
            .collect()
    }

    /// [`receive`](Self::receive), trusting what `trust` says was checked already.
    fn receive_checked(&mut self, bytes: &[u8], trust: Trust) -> Result<Received, ReceiveError> {
        let checked = match self.check(bytes, trust)? {
            Gate::Duplicate(hash) => {
                // Read back from this replica's own storage, the bytes of an operation a
                // snapshot covered are held again (a relay's copy is not: only its header
                // was matched).
                if trust == Trust::Stored && self.pruned.remove(&hash) {
                    self.applied.insert(hash, bytes.to_vec());
                }
                return Ok(Received::Duplicate);
            }
            Gate::Wait(replica) => {
                self.wait(replica, bytes, trust.after_signature())?;
                return Ok(Received::Buffered);
            }
            Gate::WaitUnadmitted => {
                if !self.unadmitted.iter().any(|(other, _)| other == bytes) {
                    if self.unadmitted.len() >= self.limits.max_waiting_unadmitted {
                        return Err(ReceiveError::BufferFull(ReplicaId::new(0)));
                    }
                    self.unadmitted.push((bytes.to_vec(), trust));
                }
                return Ok(Received::Buffered);
            }
            Gate::Ready(checked) => checked,
        };
        self.commit(*checked);
        let released = self.release();
        Ok(Received::Applied { released })
    }

    /// Receives a batch: all of it, or none of it. The signatures of the operations of
    /// devices already admitted are verified together, one batch verification costing
    /// far less than as many single ones.
    pub fn receive_batch(&mut self, batch: &[&[u8]]) -> Result<Vec<Received>, ReceiveError> {
        let verified = self.verify_together(batch);
        let mut staged = self.clone();
        let received = batch
            .iter()
            .zip(verified)
            .map(|(bytes, verified)| staged.receive_checked(bytes, Trust::from_verified(verified)))
            .collect::<Result<Vec<_>, _>>();
        match received {
            Ok(received) => {
                *self = staged;
                Ok(received)
            }
            Err(error) => {
                // Keep what the batch proved about equivocating devices.
                self.evidence = staged.evidence;
                Err(error)
            }
        }
    }

    /// For each operation of `batch`, whether its signature is verified by its device's
    /// admitted key: all together by batch verification, which decides as verification
    /// alone does (see `signature.rs`). One whose device is not admitted yet, or whose
    /// signature's form fails the rule, is left out, to be verified alone as it is
    /// received; when the batch fails, none is verified.
    fn verify_together(&self, batch: &[&[u8]]) -> Vec<bool> {
        let mut signed = Vec::with_capacity(batch.len());
        let mut included = vec![false; batch.len()];
        for (index, bytes) in batch.iter().enumerate() {
            let checkable = self
                .signed_by_admitted(bytes)
                .and_then(|(message, signature, key)| {
                    signature::Checkable::new(&key, message, &signature)
                });
            if let Some(checkable) = checkable {
                signed.push(checkable);
                included[index] = true;
            }
        }
        if signed.is_empty() || !signature::verify_batch(&signed) {
            return vec![false; batch.len()];
        }
        included
    }

    /// The signed header, signature and admitted key of an operation, if its structure is
    /// valid and its device admitted.
    fn signed_by_admitted<'b>(
        &self,
        bytes: &'b [u8],
    ) -> Option<(&'b [u8], Signature, VerifyingKey)> {
        if bytes.len() > self.limits.max_op_bytes {
            return None;
        }
        let signed = format::signed_op(bytes).ok()?;
        let header = format::header(signed.header()).ok()?;
        let key = self.devices.get(&ReplicaId::new(header.replica()))?;
        let signature = Signature::from_slice(signed.signature()).ok()?;
        Some((signed.header(), signature, *key))
    }

    /// Every check, without changing anything but the evidence of an equivocation.
    fn check(&mut self, bytes: &[u8], trust: Trust) -> Result<Gate<S>, ReceiveError> {
        if bytes.len() > self.limits.max_op_bytes {
            return Err(ReceiveError::TooLarge {
                bytes: bytes.len(),
                limit: self.limits.max_op_bytes,
            });
        }
        let signed = format::signed_op(bytes)?;
        let header_bytes = signed.header();
        let header = format::header(header_bytes)?;
        if header.document() != self.document.0 {
            return Err(ReceiveError::WrongDocument {
                expected: self.document,
                found: header.document().to_vec(),
            });
        }
        let kind =
            OpKind::from_code(header.kind()).ok_or(ReceiveError::Invalid("an unknown kind"))?;
        let replica = ReplicaId::new(header.replica());
        if header.seq() == 0 {
            return Err(ReceiveError::Invalid("an operation numbered 0"));
        }
        let id = Dot::new(replica, header.seq());
        let hash = OpHash(*blake3::hash(header_bytes).as_bytes());
        if self.is_applied(&hash) {
            return Ok(Gate::Duplicate(hash));
        }
        let parents = parents(header.parents())?;
        let admitted = admitted(&header)?;
        let key = match self.devices.get(&replica) {
            Some(key) => *key,
            None => match admitted {
                // The genesis: the creator admitting itself, under the id its key derives.
                Some((admitted_replica, key))
                    if self.devices.is_empty()
                        && parents.is_empty()
                        && admitted_replica == replica
                        && signed
                            .payload()
                            .try_into()
                            .is_ok_and(|salt| DocumentId::derive(&key, salt) == self.document) =>
                {
                    key
                }
                _ if parents.iter().any(|parent| !self.is_applied(parent)) => {
                    return Ok(Gate::WaitUnadmitted);
                }
                _ => return Err(ReceiveError::UnknownDevice(replica)),
            },
        };
        let signature = Signature::from_slice(signed.signature())
            .map_err(|_| ReceiveError::Invalid("a signature is not 64 bytes"))?;
        if !trust.signature_checked() && !signature::verify(&key, header_bytes, &signature) {
            // Which device signed it, for the error: a refusal either way, so the plain
            // check of each other key, at half the cost of a full one on a bad signature.
            let signer = self.devices.iter().find(|(_, other)| {
                **other != key && signature::verify_plainly(other, header_bytes, &signature)
            });
            return Err(match signer {
                Some((signer, _)) => ReceiveError::SignedByAnotherDevice {
                    claimed: replica,
                    signer: *signer,
                },
                None => ReceiveError::BadSignature(replica),
            });
        }
        if blake3::hash(signed.payload()).as_bytes()[..] != *header.payload_hash() {
            return Err(ReceiveError::PayloadHashMismatch);
        }
        let stamp = Timestamp {
            wall_micros: header.wall_micros(),
            logical: header.logical(),
            replica,
        };
        if !trust.stamp_checked() {
            self.clock.check(stamp)?;
        }
        if let Some(kept) = self.ids.get(&id) {
            if !self.has_evidence(replica) {
                let kept = self.applied.get(kept).cloned().unwrap_or_default();
                self.evidence.push(Equivocation {
                    id,
                    kept,
                    refused: bytes.to_vec(),
                });
            }
            return Err(ReceiveError::Equivocation { id });
        }
        let next = self.last_seq.get(&replica).copied().unwrap_or(0) + 1;
        if id.seq() < next {
            return Err(ReceiveError::Invalid(
                "an operation numbered below its device's last",
            ));
        }
        if id.seq() > next || parents.iter().any(|parent| !self.is_applied(parent)) {
            return Ok(Gate::Wait(replica));
        }
        let effect = match (kind, admitted) {
            (OpKind::Admission, Some((admitted, key))) => {
                if self
                    .devices
                    .get(&admitted)
                    .is_some_and(|known| *known != key)
                {
                    return Err(ReceiveError::KeyConflict(admitted));
                }
                Effect::Admit(admitted, key)
            }
            _ => {
                if header.schema() != S::SCHEMA_NAME {
                    return Err(ReceiveError::Invalid("an operation of another schema"));
                }
                let payload = self.plain_payload(header.encrypted(), id, signed.payload())?;
                let decoded =
                    CausalDotStore::<S>::decode_with(&payload, &Limits::for_length(payload.len()))?;
                if decoded.writer_version != header.version() {
                    return Err(ReceiveError::Invalid(
                        "a payload of another version than its header says",
                    ));
                }
                Effect::Join(decoded.state)
            }
        };
        Ok(Gate::Ready(Box::new(Checked {
            hash,
            id,
            stamp,
            parents,
            effect,
            bytes: bytes.to_vec(),
        })))
    }

    /// The payload of the operation (or snapshot) `id` as written: decrypted with the
    /// document's key when `encrypted`.
    fn plain_payload<'p>(
        &self,
        encrypted: bool,
        id: Dot,
        payload: &'p [u8],
    ) -> Result<std::borrow::Cow<'p, [u8]>, ReceiveError> {
        if !encrypted {
            return Ok(payload.into());
        }
        let key = self
            .payload_key
            .as_ref()
            .ok_or(ReceiveError::NoPayloadKey)?;
        let opened = key
            .open(&self.document, id, payload)
            .ok_or(ReceiveError::Undecryptable)?;
        Ok(opened.into())
    }

    fn wait(&mut self, replica: ReplicaId, bytes: &[u8], trust: Trust) -> Result<(), ReceiveError> {
        let waiting = self.waiting.entry(replica).or_default();
        if waiting.iter().any(|(other, _)| other == bytes) {
            return Ok(());
        }
        if waiting.len() >= self.limits.max_waiting_per_device {
            return Err(ReceiveError::BufferFull(replica));
        }
        waiting.push((bytes.to_vec(), trust));
        Ok(())
    }

    fn commit(&mut self, checked: Checked<S>) {
        match checked.effect {
            Effect::Join(delta) => self.state.join(delta),
            Effect::Admit(replica, key) => {
                self.devices.insert(replica, key);
            }
        }
        // Checked (or restored from storage, which a clock going back must not refuse).
        self.clock.advance_past(checked.stamp);
        self.note_applied(checked.hash, checked.id, &checked.parents, checked.bytes);
    }

    /// Records an applied operation: in the log, the heads and its device's sequence.
    fn note_applied(&mut self, hash: OpHash, id: Dot, parents: &[OpHash], bytes: Vec<u8>) {
        for parent in parents {
            self.heads.remove(parent);
        }
        self.heads.insert(hash);
        self.ids.insert(id, hash);
        self.last_seq.insert(id.replica(), id.seq());
        self.applied.insert(hash, bytes);
        self.order.push((id, hash));
    }

    /// Applies the waiting operations that can go now, until none can; drops those that
    /// turn out invalid. Returns how many were applied.
    fn release(&mut self) -> usize {
        let mut released = 0;
        loop {
            let mut progressed = false;
            // Each waits with what was checked of it: an operation of an admitted device
            // waits only once its signature was verified with that device's key, which
            // never changes, so a release does not verify it again.
            let waiting = std::mem::take(&mut self.waiting).into_values().flatten();
            let unadmitted = std::mem::take(&mut self.unadmitted);
            for (bytes, trust) in waiting.chain(unadmitted) {
                match self.check(&bytes, trust) {
                    Ok(Gate::Ready(checked)) => {
                        self.commit(*checked);
                        released += 1;
                        progressed = true;
                    }
                    Ok(Gate::Wait(replica)) => self
                        .waiting
                        .entry(replica)
                        .or_default()
                        .push((bytes, trust.after_signature())),
                    Ok(Gate::WaitUnadmitted) => self.unadmitted.push((bytes, trust)),
                    Ok(Gate::Duplicate(_)) | Err(_) => {}
                }
            }
            if !progressed {
                return released;
            }
        }
    }
}

/// Whether applied bytes are an admission (or the genesis), which compaction keeps.
fn is_admission(bytes: &[u8]) -> bool {
    format::signed_op(bytes)
        .and_then(|signed| format::header(signed.header()))
        .is_ok_and(|header| header.kind() == OpKind::Admission.code())
}

/// The ids and hashes a snapshot lists, checked to be every device's first operations,
/// each once: a set of operations closed under each device's order.
fn covered_ids(table: &format::SnapshotTable<'_>) -> Result<Vec<(Dot, OpHash)>, ReceiveError> {
    let (replicas, seqs, hashes) = table.ids();
    if replicas.len() != seqs.len() || hashes.len() != seqs.len() * 32 {
        return Err(ReceiveError::Invalid(
            "a snapshot's id columns differ in length",
        ));
    }
    let covered: Vec<(Dot, OpHash)> = replicas
        .iter()
        .zip(seqs.iter())
        .zip(hashes.chunks_exact(32))
        .filter_map(|((replica, seq), hash)| {
            let hash = OpHash(hash.try_into().ok()?);
            Some((Dot::new(ReplicaId::new(replica), seq), hash))
        })
        .collect();
    let mut per_device: BTreeMap<ReplicaId, (u64, u64)> = BTreeMap::new();
    let distinct: BTreeSet<Dot> = covered.iter().map(|(id, _)| *id).collect();
    for (id, _) in &covered {
        let (count, last) = per_device.entry(id.replica()).or_default();
        *count += 1;
        *last = (*last).max(id.seq());
    }
    let closed = per_device.values().all(|(count, last)| count == last);
    if distinct.len() != covered.len() || !closed || distinct.iter().any(|id| id.seq() == 0) {
        return Err(ReceiveError::Invalid(
            "a snapshot's operations are not each device's first ones, each once",
        ));
    }
    Ok(covered)
}

/// What was checked before an operation reached [`OpLog::check`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Trust {
    Nothing,
    /// Its signature, by batch verification.
    Signature,
    /// Its stamp, when it was first received: a history replayed for verification.
    Stamp,
    /// Everything: it comes from this replica's storage.
    Stored,
}

impl Trust {
    fn signature_checked(self) -> bool {
        matches!(self, Self::Signature | Self::Stored)
    }

    fn stamp_checked(self) -> bool {
        matches!(self, Self::Stamp | Self::Stored)
    }

    /// What was checked once the signature was verified too.
    fn after_signature(self) -> Self {
        if self.stamp_checked() {
            Self::Stored
        } else {
            Self::Signature
        }
    }
}

impl Trust {
    fn from_verified(verified: bool) -> Self {
        if verified {
            Self::Signature
        } else {
            Self::Nothing
        }
    }
}

enum Gate<S> {
    Duplicate(OpHash),
    /// Verified, waiting for its parents or its device's earlier operations.
    Wait(ReplicaId),
    /// Of a device not admitted yet, waiting for parents that may admit it.
    WaitUnadmitted,
    Ready(Box<Checked<S>>),
}
