//! The bodies of the fuzz targets in `fuzz/` (cargo-fuzz, outside the workspace). They
//! live here so that the ordinary test run compiles them and feeds them their seeds and
//! random inputs (`tests/tests/fuzzing.rs`).
//!
//! Each body panics only when the receive pipeline breaks a promise: a refused operation
//! must leave the log exactly as it was, and nothing may panic on any input.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use crdtype::ops::{OpFields, OpKind, OpLog, ReceiveError, Received, SigningKey};
use crdtype::{HybridClock, ManualClock, ReplicaId};

use crate::{Attendee, Meeting, MeetingCrdt};

type Log = OpLog<MeetingCrdt, ManualClock>;

/// The devices: 1 created the document and admitted 2; 3 was never admitted.
fn key(replica: u64) -> SigningKey {
    SigningKey::from_bytes(&[replica as u8; 32])
}

/// A receiver that holds the document's first operations, and valid operations it has
/// not received yet, for the fuzzer to mutate.
struct World {
    receiver: Log,
    seeds: Vec<OpFields>,
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
        World { receiver, seeds }
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

/// Receives `bytes` on a copy of the receiver; panics if a refusal changed anything.
fn receive_checked(bytes: &[u8]) -> Result<Received, ReceiveError> {
    let mut log = world().receiver.clone();
    let before = observable(&log);
    let mark = log.clock().high_water_mark();
    let received = log.receive(bytes);
    if received.is_err() {
        assert_eq!(
            observable(&log),
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
    let (&pick, mut rest) = data.split_first().unwrap_or((&0, &[]));
    let mut fields = seeds[usize::from(pick) % seeds.len()].clone();
    while let [change, len, tail @ ..] = rest {
        let (bytes, next) = tail.split_at(usize::from(*len).min(tail.len()));
        apply_change(&mut fields, *change, bytes);
        rest = next;
    }
    // Signed by the device the id names (3 has no admission).
    let signed = fields.sign(&key(fields.id.replica().get().clamp(1, 3)));
    receive_checked(&signed)
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
    match change % 10 {
        // Bytes of the payload flipped: (offset, mask) pairs.
        0 => {
            for pair in bytes.chunks_exact(3) {
                let len = fields.payload.len().max(1);
                let at = usize::from(u16::from_le_bytes([pair[0], pair[1]])) % len;
                if let Some(byte) = fields.payload.get_mut(at) {
                    *byte ^= pair[2];
                }
            }
        }
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
