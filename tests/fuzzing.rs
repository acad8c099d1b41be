//! The bodies of the fuzz targets in `fuzz/` (cargo-fuzz, outside the workspace). They
//! live here so that the ordinary test run compiles them and feeds them their seeds and
//! random inputs (`tests/tests/fuzzing.rs`).
//!
//! Each body panics only when a promise is broken: nothing may panic on any input; a
//! refused operation must leave the log exactly as it was; refused JSON input must leave
//! the state as it was, and applied input must return the delta of what it changed; a
//! decoded state must encode back to itself.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use crdtype::json::{Forbidden, Format};
use crdtype::ops::{OpFields, OpKind, OpLog, ReceiveError, Received, SigningKey};
use crdtype::{CausalDotStore, HybridClock, ManualClock, ReplicaId};

use crate::{Attendee, Meeting, MeetingCrdt};

type Log = OpLog<MeetingCrdt, ManualClock>;

/// The devices: 1 created the document and admitted 2; 3 was never admitted.
fn key(replica: u64) -> SigningKey {
    SigningKey::from_bytes(&[replica as u8; 32])
}

/// A receiver that holds the document's first operations, and valid operations it has
/// not received yet, and a snapshot, for the fuzzer to mutate.
struct World {
    receiver: Log,
    seeds: Vec<OpFields>,
    /// Alice's snapshot of her history, which covers an edit the receiver lacks.
    snapshot: OpFields,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let wall = ManualClock::new(1_000_000);
        let clock = |replica| HybridClock::with_wall_clock(ReplicaId::new(replica), wall.clone());
        let (mut alice, genesis) = Log::create(&key(1), [9; 16], clock(1));
        let admission = alice
            .admit(&key(1), ReplicaId::new(2), key(2).verifying_key())
            .expect("the creator admits a device");
        let mut bob = Log::open(alice.document(), clock(2));
        for op in [&genesis, &admission] {
            bob.receive(op).expect("the document's first operations");
        }
        // Operations that touch every kind of field, from both devices.
        let mut ops = Vec::new();
        let mut edit = |log: &mut Log, signer: u64, change: &dyn Fn(&mut Meeting)| {
            let op = log
                .edit(&key(signer), |store, context, stamp| {
                    store.edit(context, stamp, change)
                })
                .expect("a valid edit");
            ops.extend(op);
        };
        edit(&mut alice, 1, &|m| {
            m.title = "Standup".to_owned();
            m.room = "4".to_owned();
            m.views = 3;
            m.tags = BTreeSet::from(["a".to_owned(), "b".to_owned()]);
            m.cancelled_dates = BTreeSet::from([20_261_122]);
            m.pinned = true;
            m.place.name = "Hall".to_owned();
            m.place.seats = 40;
            m.attendees.insert(
                "ann".to_owned(),
                Attendee {
                    name: "Ann".to_owned(),
                    accepted: true,
                },
            );
            m.priority = 5;
        });
        edit(&mut bob, 2, &|m| {
            m.room = "5".to_owned();
            m.views = -2;
            m.tags.insert("c".to_owned());
        });
        edit(&mut alice, 1, &|m| {
            m.tags.remove("a");
            m.cancelled_dates.clear();
            m.attendees.clear();
            m.pinned = false;
        });
        // The receiver holds the document's first edit, so that the seeds it has not
        // received (Bob's edit, and Alice's removals, which follow her first edit) join
        // into a state with every kind of field.
        let mut receiver = Log::open(alice.document(), clock(4));
        for op in [&genesis, &admission, &ops[0]] {
            receiver
                .receive(op)
                .expect("the document's first operations");
        }
        let seeds = ops[1..]
            .iter()
            .chain([&ops[0], &genesis, &admission])
            .map(|op| OpFields::read(op).expect("a valid operation reads"))
            .collect();
        let snapshot = alice.snapshot(&key(1)).expect("Alice signs a snapshot");
        let snapshot = OpFields::read(&snapshot).expect("a valid snapshot reads");
        World {
            receiver,
            seeds,
            snapshot,
        }
    })
}

/// What a refused operation must leave as it was.
fn observable(log: &Log) -> (String, [u8; 32], usize, usize) {
    (
        format!("{:?}", log.state()),
        log.heads_digest(),
        log.waiting(),
        log.len(),
    )
}

/// Receives `bytes` on a copy of the receiver, and as a batch of one on another; panics
/// if a refusal changed anything, or if the two decide differently (a batch verifies
/// signatures together, by another check than a single verification).
fn receive_checked(bytes: &[u8]) -> Result<Received, ReceiveError> {
    let mut alone = world().receiver.clone();
    let mut in_batch = world().receiver.clone();
    let received = checked_on(&mut alone, bytes, Log::receive);
    let batch = checked_on(&mut in_batch, bytes, |log, bytes| {
        log.receive_batch(&[bytes])
    });
    assert_eq!(
        received.as_ref().ok(),
        batch.as_ref().ok().and_then(|received| received.first()),
        "an operation received alone and in a batch decided differently"
    );
    assert_eq!(
        observable(&alone),
        observable(&in_batch),
        "an operation received alone and in a batch left different logs"
    );
    received
}

/// `receive`s `bytes` on a copy of the receiver; panics if a refusal changed anything.
fn checked<T>(
    bytes: &[u8],
    receive: impl FnOnce(&mut Log, &[u8]) -> Result<T, ReceiveError>,
) -> Result<T, ReceiveError> {
    checked_on(&mut world().receiver.clone(), bytes, receive)
}

/// `receive`s `bytes` on `log`; panics if a refusal changed anything.
fn checked_on<T>(
    log: &mut Log,
    bytes: &[u8],
    receive: impl FnOnce(&mut Log, &[u8]) -> Result<T, ReceiveError>,
) -> Result<T, ReceiveError> {
    let before = observable(log);
    let mark = log.clock().high_water_mark();
    let received = receive(log, bytes);
    if received.is_err() {
        assert_eq!(
            observable(log),
            before,
            "a refused operation changed the log"
        );
        assert_eq!(
            log.clock().high_water_mark(),
            mark,
            "a refusal moved the clock"
        );
    }
    received
}

/// Raw bytes as an operation: read its fields and receive it.
pub fn decode_op(data: &[u8]) {
    let _ = OpFields::read(data);
    let _ = receive_checked(data);
}

/// A valid operation changed as `data` says, then signed again, so that what it carries
/// reaches the checks behind the signature: byte 0 picks the operation, and the rest is a
/// sequence of changes, each a byte saying what to change, a length `n`, and `n` bytes of
/// what to change it to. Returns what the receiver said.
pub fn receive_resigned(data: &[u8]) -> Result<Received, ReceiveError> {
    let seeds = &world().seeds;
    // An empty input is the first operation, unchanged.
    let (&pick, rest) = data.split_first().unwrap_or((&0, &[]));
    let mut fields = seeds[usize::from(pick) % seeds.len()].clone();
    let signing = apply_changes(&mut fields, rest);
    receive_checked(&signing.sign(&fields))
}

/// How an operation is signed again after its changes.
#[derive(Default)]
struct Signing {
    /// The torsion point in the signature's `R`: 0, none.
    torsion: usize,
    /// The device whose key signs; `None`, the one the id names.
    signer: Option<u64>,
}

impl Signing {
    /// `fields` signed by the device their id names (3 has no admission), or by the
    /// chosen one, with the chosen torsion point in the signature's `R`.
    fn sign(&self, fields: &OpFields) -> Vec<u8> {
        let key = key(self.signer.unwrap_or(fields.id.replica().get()).clamp(1, 3));
        match self.torsion {
            0 => fields.sign(&key),
            torsion => fields.sign_with(|header| signed_with_torsion(&key, header, torsion)),
        }
    }
}

/// `key`'s signature of `message` with torsion point `torsion` (of the eight points of
/// small order; 0 is the identity) added to `R`: valid under the cofactored equation
/// that receivers check, refused by the plain one unless `torsion` is 0. Only the key's
/// holder can make one.
pub fn signed_with_torsion(key: &SigningKey, message: &[u8], torsion: usize) -> [u8; 64] {
    use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
    use curve25519_dalek::scalar::Scalar;
    use sha2::{Digest, Sha512};
    let hash = |parts: &[&[u8]]| {
        let mut hasher = Sha512::new();
        for part in parts {
            hasher.update(part);
        }
        Scalar::from_bytes_mod_order_wide(&hasher.finalize().into())
    };
    // A nonce of its own per key and message, as RFC 8032 derives one.
    let nonce = hash(&[&key.to_bytes(), message]);
    let r = (ED25519_BASEPOINT_POINT * nonce + EIGHT_TORSION[torsion % 8])
        .compress()
        .to_bytes();
    let challenge = hash(&[&r, key.verifying_key().as_bytes(), message]);
    let s = nonce + challenge * key.to_scalar();
    let mut signature = [0; 64];
    signature[..32].copy_from_slice(&r);
    signature[32..].copy_from_slice(s.as_bytes());
    signature
}

/// Alice's snapshot changed as `data` says (a sequence of changes, as for
/// [`receive_resigned`]), signed again by the device it names, and offered to the receiver
/// as a peer's snapshot. Returns what the receiver said.
pub fn snapshot_resigned(data: &[u8]) -> Result<usize, ReceiveError> {
    let mut fields = world().snapshot.clone();
    let signing = apply_changes(&mut fields, data);
    checked(&signing.sign(&fields), Log::receive_snapshot)
}

/// The changes `data` lists, each a byte saying what to change, a length `n`, and `n`
/// bytes of what to change it to, applied to `fields` in turn. Returns how to sign the
/// result, as the last change of signing (kind 10: a torsion point, then a signer) chose.
fn apply_changes(fields: &mut OpFields, mut data: &[u8]) -> Signing {
    let mut signing = Signing::default();
    while let [change, len, tail @ ..] = data {
        let (bytes, next) = tail.split_at(usize::from(*len).min(tail.len()));
        if change % 11 == 10 {
            signing = Signing {
                torsion: usize::from(bytes.first().copied().unwrap_or(1) % 8),
                signer: bytes.get(1).map(|signer| u64::from(*signer % 4)),
            };
        } else {
            apply_change(fields, *change, bytes);
        }
        data = next;
    }
    signing
}

/// One change of [`receive_resigned`] to `fields`, as `bytes` say.
fn apply_change(fields: &mut OpFields, change: u8, bytes: &[u8]) {
    let number = |at: usize| {
        let mut number = [0; 8];
        for (to, from) in number.iter_mut().zip(bytes.iter().skip(at)) {
            *to = *from;
        }
        u64::from_le_bytes(number)
    };
    match change % 11 {
        // Bytes of the payload flipped: (offset, mask) pairs.
        0 => flip(&mut fields.payload, bytes),
        // Bytes inserted into the payload.
        1 => {
            let at = number(0) as usize % (fields.payload.len() + 1);
            let inserted = bytes.get(8..).unwrap_or_default();
            fields.payload.splice(at..at, inserted.iter().copied());
        }
        // The payload cut short, or grown.
        2 => {
            let len = number(0) as usize % (fields.payload.len() + 64);
            fields
                .payload
                .resize(len, bytes.get(8).copied().unwrap_or(0));
        }
        // Another id: device and sequence.
        3 => {
            fields.id = crdtype::Dot::new(ReplicaId::new(number(0) % 4), number(8) % 8);
            fields.stamp.replica = fields.id.replica();
        }
        // Another time.
        4 => {
            fields.stamp.wall_micros = number(0);
            fields.stamp.logical = number(8) as u32;
        }
        // Other parents: some of those listed, and some made up.
        5 => {
            let keep = number(0);
            let mut index = 0;
            fields.parents.retain(|_| {
                index += 1;
                keep & (1 << (index % 64)) != 0
            });
            for chunk in bytes.get(8..).unwrap_or_default().chunks_exact(32) {
                let mut hash = [0; 32];
                hash.copy_from_slice(chunk);
                fields.parents.push(crdtype::ops::OpHash(hash));
            }
        }
        // Another schema version, or kind.
        6 => {
            fields.version = number(0) as u32 % 8;
            fields.kind = match number(8) % 3 {
                0 => OpKind::Patch,
                1 => OpKind::Snapshot,
                _ => OpKind::Admission,
            };
        }
        // Another schema name.
        7 => fields.schema = String::from_utf8_lossy(bytes).into_owned(),
        // Another admitted device: one of the devices' keys, or none.
        8 => {
            fields.admitted = (!bytes.is_empty()).then(|| {
                let device = number(0) % 4;
                (ReplicaId::new(device), key(device.max(1)).verifying_key())
            });
        }
        // Encrypted, or not, whatever the payload.
        _ => fields.encrypted = !fields.encrypted,
    }
}

/// Flips bytes of `target` as `pairs` say: (offset, mask) triples, the offset two bytes
/// little-endian, taken modulo the length.
fn flip(target: &mut [u8], pairs: &[u8]) {
    for pair in pairs.chunks_exact(3) {
        let at = usize::from(u16::from_le_bytes([pair[0], pair[1]])) % target.len().max(1);
        if let Some(byte) = target.get_mut(at) {
            *byte ^= pair[2];
        }
    }
}

/// Inputs of [`receive_resigned`] that change nothing: one per operation it starts from.
pub fn seed_inputs() -> Vec<Vec<u8>> {
    (0..world().seeds.len())
        .map(|pick| vec![pick as u8])
        .collect()
}

/// The operations [`receive_resigned`] starts from, signed: inputs of [`decode_op`].
pub fn seed_operations() -> Vec<Vec<u8>> {
    world()
        .seeds
        .iter()
        .map(|fields| fields.sign(&key(fields.id.replica().get())))
        .collect()
}

/// The state JSON input and decoding start from: every kind of field, with a map entry.
fn meeting_state() -> &'static CausalDotStore<MeetingCrdt> {
    static STATE: OnceLock<CausalDotStore<MeetingCrdt>> = OnceLock::new();
    STATE.get_or_init(|| {
        let stamp = HybridClock::with_wall_clock(ReplicaId::new(1), ManualClock::new(1_000)).now();
        MeetingCrdt::from_value(&crate::sample_meeting(), stamp)
    })
}

/// External JSON input: byte 0 picks the format and what happens to forbidden paths, the
/// rest is the input. A refused input must leave the state as it was, and an applied one
/// must return the delta that moves the old state to the new one. Returns what
/// `apply_json` said, or `None` for bytes that are not UTF-8, which never reach it.
pub fn json_input(data: &[u8]) -> Option<Result<(), crdtype::json::InputError>> {
    let (&choice, text) = data.split_first().unwrap_or((&0, &[]));
    let text = std::str::from_utf8(text).ok()?;
    let format = [Format::Object, Format::MergePatch, Format::Patch][usize::from(choice % 3)];
    let forbidden = if choice & 4 == 0 {
        Forbidden::Reject
    } else {
        Forbidden::Drop
    };
    let before = meeting_state();
    let mut state = before.clone();
    let stamp = HybridClock::with_wall_clock(ReplicaId::new(2), ManualClock::new(2_000)).now();
    let applied = state.apply_json(format, text, stamp, forbidden);
    match &applied {
        Err(_) => assert!(state == *before, "a refused input changed the state"),
        Ok(applied) => {
            let mut joined = before.clone();
            joined.join(applied.delta.clone());
            assert!(
                joined == state,
                "the delta does not move the old state to the new one"
            );
        }
    }
    Some(applied.map(drop))
}

/// Raw bytes as an encoded state: refused, or read into a state that encodes to bytes
/// that read back the same.
pub fn decode_state(data: &[u8]) {
    if let Ok(state) = CausalDotStore::<MeetingCrdt>::decode(data) {
        let again = CausalDotStore::<MeetingCrdt>::decode(&state.encode());
        assert!(
            again.as_ref().is_ok_and(|again| *again == state),
            "a decoded state does not encode back to itself: {again:?}"
        );
    }
}

/// Inputs of [`json_input`]: a merge patch and an object of every kind of field, and a
/// JSON Patch, each under every choice of byte 0 that fits it.
pub fn seed_json_inputs() -> Vec<Vec<u8>> {
    let object = r#"{"title": "Retro", "room": null, "pinned": false, "tags": ["a"], "cancelled_dates": [2], "place": {"seats": 4}, "attendees": {"bo": {"name": "Bo", "accepted": true}, "ada": null}, "priority": 9}"#;
    let patch = r#"[{"op": "add", "path": "/tags/-", "value": "x"}, {"op": "replace", "path": "/priority", "value": 9}, {"op": "remove", "path": "/room"}, {"op": "add", "path": "/attendees/ada/accepted", "value": true}, {"op": "copy", "from": "/title", "path": "/room"}, {"op": "test", "path": "/pinned", "value": false}]"#;
    let mut seeds = Vec::new();
    // Byte 0 modulo 3 is the format; its bit 2, whether forbidden paths are dropped.
    for choice in [0u8, 1, 4, 6] {
        seeds.push([&[choice], object.as_bytes()].concat());
    }
    for choice in [2u8, 5] {
        seeds.push([&[choice], patch.as_bytes()].concat());
    }
    seeds
}

/// Inputs of [`decode_state`]: the state of [`json_input`], and a delta of it.
pub fn seed_states() -> Vec<Vec<u8>> {
    let state = meeting_state();
    let mut edited = state.clone();
    let stamp = HybridClock::with_wall_clock(ReplicaId::new(2), ManualClock::new(2_000)).now();
    let delta = edited.store.edit(&mut edited.context, stamp, |meeting| {
        meeting.title = "Retro".to_owned();
        meeting.tags.insert("x".to_owned());
    });
    vec![state.encode(), delta.encode()]
}

type Device = crdtype::replica::Replica<Meeting, crdtype::replica::MemoryStore, ManualClock>;

/// The clock of device `replica` in the replica worlds, its wall clock stopped at 1 s.
fn device_clock(replica: u64) -> HybridClock<ManualClock> {
    HybridClock::with_wall_clock(ReplicaId::new(replica), ManualClock::new(1_000_000))
}

/// Alice's replica of a new document, in memory, under `policy`, with Bob (device 2)
/// admitted.
fn alice_admitting_bob(policy: crdtype::replica::HistoryPolicy) -> Device {
    let (log, _) = Log::create(&key(1), [9; 16], device_clock(1));
    let (mut alice, _) =
        Device::open_with(crdtype::replica::MemoryStore::new(), key(1), log, policy)
            .expect("a new store");
    alice
        .admit(ReplicaId::new(2), key(2).verifying_key())
        .expect("the creator admits a device");
    alice
}

/// Alice, who compacted her history into snapshots, and what Bob, who holds only the
/// document's first operations, stores: the world of [`sync_message`].
struct SyncWorld {
    document: crdtype::ops::DocumentId,
    bob: crdtype::replica::MemoryStore,
    /// The operations Alice holds: the admissions, and those after her last snapshot.
    alice: BTreeSet<crdtype::ops::OpHash>,
    /// Bob's first message, and Alice's answers to it (operations and a snapshot).
    messages: Vec<Vec<u8>>,
}

fn sync_world() -> &'static SyncWorld {
    use crdtype::replica::sync::SyncSession;
    use crdtype::replica::{HistoryPolicy, MemoryStore, Replica};
    static WORLD: OnceLock<SyncWorld> = OnceLock::new();
    WORLD.get_or_init(|| {
        let mut alice = alice_admitting_bob(HistoryPolicy {
            snapshot_every: 6,
            keep_history: false,
        });
        let (mut bob, _): (Device, _) = Replica::open(
            MemoryStore::new(),
            key(2),
            Log::open(alice.log().document(), device_clock(2)),
        )
        .expect("an empty store");
        // Bob holds the genesis and the admission: the first sync brings him those.
        crate::interrupted_sync(&mut bob, &mut alice, Default::default(), usize::MAX);
        for round in 0..10 {
            alice
                .edit(|m| {
                    m.views += 1;
                    m.tags.insert(format!("t{round}"));
                    m.attendees
                        .entry(format!("a{}", round % 3))
                        .or_default()
                        .accepted = round % 2 == 0;
                })
                .expect("an edit");
        }
        let hello = SyncSession::new().start(&bob);
        let answers = SyncSession::new()
            .handle(&mut alice, &hello)
            .expect("Alice answers Bob's first message");
        SyncWorld {
            document: alice.log().document(),
            alice: alice.log().applied().keys().copied().collect(),
            bob: bob.into_store(),
            messages: [vec![hello], answers].concat(),
        }
    })
}

/// Raw bytes as a sync message to Bob, whose session has started (byte 0 odd: it sent
/// its first message) or not (it waits for the peer's first). Whatever Bob applies must
/// be one of Alice's operations, or what her snapshot covers. Returns what the session
/// said, and what it did.
pub fn sync_message(
    data: &[u8],
) -> Result<crdtype::replica::sync::SyncStats, crdtype::replica::sync::SyncError> {
    use crdtype::replica::Replica;
    use crdtype::replica::sync::SyncSession;
    let world = sync_world();
    let (&choice, message) = data.split_first().unwrap_or((&0, &[]));
    let wall = ManualClock::new(1_000_000);
    let log = Log::open(
        world.document,
        HybridClock::with_wall_clock(ReplicaId::new(2), wall),
    );
    let (mut bob, _): (Device, _) =
        Replica::open(world.bob.clone(), key(2), log).expect("Bob's store opens");
    let mut session = SyncSession::new();
    if choice & 1 == 1 {
        session.start(&bob);
    }
    let handled = session.handle(&mut bob, message);
    let foreign = bob
        .log()
        .applied()
        .keys()
        .find(|hash| !world.alice.contains(hash));
    assert!(
        foreign.is_none(),
        "Bob applied an operation Alice never made"
    );
    handled.map(|_| session.into_stats())
}

/// Inputs of [`sync_message`]: Bob's first message to a session that waits for it, and
/// Alice's answers to a session that sent it.
pub fn seed_sync_messages() -> Vec<Vec<u8>> {
    let messages = &sync_world().messages;
    messages
        .iter()
        .enumerate()
        .map(|(n, message)| [&[u8::from(n > 0)], message.as_slice()].concat())
        .collect()
}

/// A store that holds what a replica loads from it, and forgets what it is given: the
/// store of [`restore_store`], whose content the fuzzer changes.
#[derive(Clone)]
struct LoadedStore(crdtype::replica::Loaded);

impl crdtype::replica::Store for LoadedStore {
    fn load(&mut self) -> Result<crdtype::replica::Loaded, crdtype::replica::StoreError> {
        Ok(self.0.clone())
    }

    fn append(
        &mut self,
        _: &[crdtype::replica::Record<'_>],
        _: crdtype::replica::Checkpoint,
    ) -> Result<(), crdtype::replica::StoreError> {
        Ok(())
    }

    fn remove(&mut self, _: &[u64]) -> Result<(), crdtype::replica::StoreError> {
        Ok(())
    }

    fn put_snapshot(
        &mut self,
        _: crdtype::replica::Record<'_>,
        _: bool,
    ) -> Result<(), crdtype::replica::StoreError> {
        Ok(())
    }

    fn put_evidence(
        &mut self,
        _: crdtype::replica::Record<'_>,
        _: crdtype::replica::Record<'_>,
    ) -> Result<(), crdtype::replica::StoreError> {
        Ok(())
    }
}

/// What Alice's store holds after she made a document, admitted Bob, received his
/// edits and an equivocation of his, and edited past a snapshot (in compliance mode, so
/// the snapshot's records stay too): the world of [`restore_store`].
struct RestoreWorld {
    document: crdtype::ops::DocumentId,
    loaded: crdtype::replica::Loaded,
    /// The hashes of every operation Alice applied.
    genuine: BTreeSet<crdtype::ops::OpHash>,
}

fn restore_world() -> &'static RestoreWorld {
    use crdtype::replica::{HistoryPolicy, Store};
    static WORLD: OnceLock<RestoreWorld> = OnceLock::new();
    WORLD.get_or_init(|| {
        let mut alice = alice_admitting_bob(HistoryPolicy {
            snapshot_every: 5,
            keep_history: true,
        });
        let mut bob = Log::open(alice.log().document(), device_clock(2));
        for (_, op) in alice.log().history(0) {
            bob.receive(op).expect("the document's first operations");
        }
        for round in 0..8 {
            alice
                .edit(|m| {
                    m.views += 1;
                    m.tags.insert(format!("t{round}"));
                })
                .expect("an edit");
        }
        // Bob edits the title twice under the same id (from the same state): the second
        // is an equivocation, refused and kept as evidence.
        let mut bob_twin = bob.clone();
        let title = |bob: &mut Log, title: &str| {
            bob.edit(&key(2), |store, context, stamp| {
                store.set_title(context, stamp, title.to_owned())
            })
            .expect("Bob's edit")
            .expect("a change")
        };
        let from_bob = title(&mut bob, "Retro");
        let twin = title(&mut bob_twin, "Planning");
        alice.receive(&from_bob).expect("Bob's edit");
        let refused = alice.receive(&twin);
        assert!(refused.is_err(), "an equivocation is refused: {refused:?}");
        alice.edit(|m| m.pinned = true).expect("an edit");
        let genuine = alice.log().applied().keys().copied().collect();
        let document = alice.log().document();
        let loaded = alice.into_store().load().expect("a memory store loads");
        assert!(loaded.snapshot.is_some() && !loaded.evidence.is_empty());
        RestoreWorld {
            document,
            loaded,
            genuine,
        }
    })
}

/// Alice's store changed as `data` says, then opened: a sequence of changes, each a byte
/// saying what to change, a byte saying where, a length `n`, and `n` bytes. Opening must
/// not panic. A replica trusts what its own store holds under a valid checksum (it
/// checked each operation before storing it, and does not verify signatures again), so
/// only while no change wrote new bytes under a new checksum must it restore nothing but
/// operations Alice applied: corruption that the checksums catch never becomes an
/// operation. Returns what opening said.
pub fn restore_store(
    data: &[u8],
) -> Result<crdtype::replica::Recovery, crdtype::replica::ReplicaError> {
    use crdtype::replica::{Replica, StoredRecord};
    let world = restore_world();
    let mut loaded = world.loaded.clone();
    let mut rewritten = false;
    let mut rest = data;
    while let [change, at, len, tail @ ..] = rest {
        let (bytes, next) = tail.split_at(usize::from(*len).min(tail.len()));
        rest = next;
        let count = loaded.records.len();
        let index = usize::from(*at) % count.max(1);
        let number = |from: usize| {
            let mut number = [0; 8];
            for (to, byte) in number.iter_mut().zip(bytes.iter().skip(from)) {
                *to = *byte;
            }
            u64::from_le_bytes(number)
        };
        let resum = |record: &mut StoredRecord| {
            record.checksum = blake3_hash(&record.bytes).to_vec();
        };
        match change % 9 {
            // Bytes of a record flipped: (offset, mask) pairs; checksummed again when
            // the change's byte is odd, so that the change reaches the log.
            0 | 1 => {
                if let Some(record) = loaded.records.get_mut(index) {
                    flip(&mut record.bytes, bytes);
                    if change % 9 == 1 {
                        resum(record);
                        rewritten = true;
                    }
                }
            }
            // A record cut short, checksummed again.
            2 => {
                if let Some(record) = loaded.records.get_mut(index) {
                    let len = number(0) as usize % (record.bytes.len() + 1);
                    record.bytes.truncate(len);
                    resum(record);
                    rewritten = true;
                }
            }
            // A record lost.
            3 => {
                if index < count {
                    loaded.records.remove(index);
                }
            }
            // A record stored again, at a position of its own or another's.
            4 => {
                if let Some(record) = loaded.records.get(index).cloned() {
                    let position = number(0) % 64;
                    let at = usize::try_from(position).unwrap_or(0) % (count + 1);
                    loaded
                        .records
                        .insert(at, StoredRecord { position, ..record });
                }
            }
            // Records swapped.
            5 => {
                let other = usize::try_from(number(0)).unwrap_or(0) % count.max(1);
                if index < count && other < count {
                    loaded.records.swap(index, other);
                }
            }
            // Another checkpoint.
            6 => {
                loaded.checkpoint.mark = crdtype::HighWaterMark {
                    wall_micros: number(0),
                    logical: number(8) as u32,
                };
                loaded.checkpoint.own_seq = number(16) % 64;
            }
            // The snapshot dropped (no bytes), or its bytes flipped as records' are, and
            // checksummed again when the change's `where` byte is odd.
            7 => {
                if bytes.is_empty() {
                    loaded.snapshot = None;
                } else if let Some(snapshot) = &mut loaded.snapshot {
                    flip(&mut snapshot.bytes, bytes);
                    if at % 2 == 1 {
                        resum(snapshot);
                        rewritten = true;
                    }
                }
            }
            // Evidence made of two records, as stored.
            _ => {
                let other = usize::try_from(number(0)).unwrap_or(0) % count.max(1);
                if let (Some(kept), Some(refused)) =
                    (loaded.records.get(index), loaded.records.get(other))
                {
                    loaded.evidence.push(crdtype::replica::StoredEvidence {
                        kept: kept.clone(),
                        refused: refused.clone(),
                    });
                }
            }
        }
    }
    let log = Log::open(world.document, device_clock(1));
    let (alice, recovery): (Replica<Meeting, LoadedStore, ManualClock>, _) =
        Replica::open(LoadedStore(loaded), key(1), log)?;
    // By hash: the bytes around a signed header and payload (FlatBuffers padding) are
    // not signed, so one operation may be stored in other bytes.
    let foreign = alice
        .log()
        .applied()
        .keys()
        .find(|hash| !world.genuine.contains(*hash));
    assert!(
        rewritten || foreign.is_none(),
        "a restore applied an operation Alice never applied"
    );
    Ok(recovery)
}

fn blake3_hash(bytes: &[u8]) -> [u8; 32] {
    crdtype::replica::Record::new(bytes).checksum
}

/// Inputs of [`restore_store`]: the store unchanged, and each record cut to nothing.
pub fn seed_stores() -> Vec<Vec<u8>> {
    let records = restore_world().loaded.records.len();
    let cut = (0..records).map(|index| vec![2, index as u8, 1, 0]);
    std::iter::once(Vec::new()).chain(cut).collect()
}
