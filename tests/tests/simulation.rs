//! A seeded simulation: five replicas on three schema versions make 10,000 random edits
//! while the network partitions, loses, duplicates and reorders their operations and
//! replicas restart; once the partitions heal and one round of sync runs (everyone with
//! replica 0, twice: gather, then scatter), all replicas hold the same operations and the
//! same state, which equals that of one model replica that applied every operation.
//!
//! CI runs three seeds; `cargo test --release -p crdtype-tests --test simulation --
//! --ignored` runs fifty.

use std::collections::BTreeSet;

use crdtype::ops::{DocumentId, OpLog, ReceiveError, SigningKey};
use crdtype::replica::sync::{SyncLimits, sync_with};
use crdtype::replica::{HistoryPolicy, MemoryStore, Replica, ReplicaError};
use crdtype::{Crdt, HybridClock, ManualClock, ReplicaId};
use crdtype_tests::versions::{meeting_v1, meeting_v2};
use crdtype_tests::{Meeting, interrupted_sync};

const SALT: [u8; 16] = [11; 16];
const REPLICAS: usize = 5;

/// A small xorshift generator: the simulation depends on nothing but its seed.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 1000 < percent * 10
    }
}

type Device<T> = Replica<T, MemoryStore, ManualClock>;

/// A replica on one of three schema versions (five of them live in one `Vec`: boxing
/// would only add indirection).
#[allow(clippy::large_enum_variant)]
enum Node {
    V1(Device<meeting_v1::Meeting>),
    V2(Device<meeting_v2::Meeting>),
    V3(Device<Meeting>),
}

/// Runs `$body` with `$replica` bound to the node's replica, whatever its version.
macro_rules! each {
    ($node:expr, $replica:ident => $body:expr) => {
        match $node {
            Node::V1($replica) => $body,
            Node::V2($replica) => $body,
            Node::V3($replica) => $body,
        }
    };
}

fn key(index: usize) -> SigningKey {
    SigningKey::from_bytes(&[index as u8 + 1; 32])
}

fn clock(index: usize, wall: &ManualClock) -> HybridClock<ManualClock> {
    HybridClock::with_wall_clock(ReplicaId::new(index as u64 + 1), wall.clone())
}

impl Node {
    /// Restarts the replica on what its store holds.
    fn restart(&mut self, wall: &ManualClock) {
        fn again<T: Crdt>(replica: &mut Device<T>, wall: &ManualClock) {
            let index = replica.id().get() as usize - 1;
            let log = OpLog::open(replica.log().document(), clock(index, wall));
            let (restarted, recovery) =
                Replica::open_with(replica.store().clone(), key(index), log, policy(index))
                    .unwrap();
            assert!(recovery.corrupt.is_empty() && recovery.refused.is_empty());
            *replica = restarted;
        }
        each!(self, replica => again(replica, wall))
    }

    /// A random edit of the fields this version has; the operation, if it changed anything.
    fn edit(&mut self, random: &mut Random) -> Option<Vec<u8>> {
        let pick = random.below(6);
        let word = ["plan", "retro", "demo", "sync"][random.below(4)].to_owned();
        let count = random.below(5) as i64 - 2;
        let op = match self {
            Node::V1(replica) => replica.edit(|m| match pick % 2 {
                0 => m.title = word,
                _ => m.views += count,
            }),
            Node::V2(replica) => replica.edit(|m| match pick % 4 {
                0 => m.title = word,
                1 => m.views += count,
                2 => m.pinned = !m.pinned,
                _ => m.importance = count.unsigned_abs() as u8,
            }),
            Node::V3(replica) => replica.edit(|m| match pick {
                0 => m.title = word,
                1 => m.views += count,
                2 => m.pinned = !m.pinned,
                3 => m.priority = count.unsigned_abs() as u8,
                4 => {
                    if !m.tags.remove(&word) {
                        m.tags.insert(word);
                    }
                }
                _ => m.room = word,
            }),
        };
        op.unwrap()
    }

    fn receive(&mut self, bytes: &[u8]) {
        match each!(self, replica => replica.receive(bytes)) {
            Ok(_) | Err(ReplicaError::Receive(ReceiveError::BufferFull(_))) => {}
            Err(error) => panic!("refused: {error}"),
        }
    }

    fn digest(&self) -> [u8; 32] {
        each!(self, replica => replica.log().heads_digest())
    }

    /// The fields every version has.
    fn common(&self) -> (String, i64) {
        each!(self, replica => {
            let value = replica.read();
            (value.title, value.views)
        })
    }
}

/// What whole sessions sent, all together.
#[derive(Default)]
struct Sent {
    ops: usize,
    snapshots: usize,
}

/// A session between two nodes; `cut` stops it after that many messages.
fn sync(a: &mut Node, b: &mut Node, cut: Option<usize>, sent: &mut Sent) {
    fn run<A: Crdt, B: Crdt>(
        a: &mut Device<A>,
        b: &mut Device<B>,
        cut: Option<usize>,
        sent: &mut Sent,
    ) {
        let limits = SyncLimits {
            chunk_bytes: 16 << 10,
            ..SyncLimits::default()
        };
        match cut {
            Some(messages) => interrupted_sync(a, b, limits, messages),
            None => {
                let report = sync_with(a, b, limits).unwrap();
                assert!(report.a.refused.is_empty() && report.b.refused.is_empty());
                assert!(report.converged);
                sent.ops += report.a.ops_sent + report.b.ops_sent;
                sent.snapshots += report.a.snapshots_sent + report.b.snapshots_sent;
            }
        }
    }
    each!(a, a => each!(b, b => run(a, b, cut, sent)))
}

/// Each replica's history policy: compacting at several paces, or without snapshots, so
/// that sessions send operations and snapshots both. (Compliance mode needs peers that
/// keep every operation too: it refuses snapshots.)
fn policy(index: usize) -> HistoryPolicy {
    match index {
        0 => HistoryPolicy::default(),
        1 => HistoryPolicy {
            snapshot_every: 300,
            keep_history: false,
        },
        2 => HistoryPolicy {
            snapshot_every: 0,
            keep_history: false,
        },
        3 => HistoryPolicy {
            snapshot_every: 150,
            keep_history: false,
        },
        _ => HistoryPolicy {
            snapshot_every: 40,
            keep_history: false,
        },
    }
}

/// A new, empty replica `index` of `document`.
fn device<T: Crdt>(document: DocumentId, index: usize, wall: &ManualClock) -> Device<T> {
    let log = OpLog::open(document, clock(index, wall));
    Replica::open_with(MemoryStore::new(), key(index), log, policy(index))
        .unwrap()
        .0
}

fn pair(nodes: &mut [Node], a: usize, b: usize) -> (&mut Node, &mut Node) {
    let (low, high) = (a.min(b), a.max(b));
    let (left, right) = nodes.split_at_mut(high);
    let (first, second) = (&mut left[low], &mut right[0]);
    if a < b {
        (first, second)
    } else {
        (second, first)
    }
}

fn simulate(seed: u64, edits: usize) {
    let mut random = Random(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let wall = ManualClock::new(1_000_000);
    let (creator, _) = OpLog::create(&key(0), SALT, clock(0, &wall));
    let document = creator.document();
    let (mut first, _) =
        Replica::<Meeting, _, _>::open_with(MemoryStore::new(), key(0), creator, policy(0))
            .unwrap();
    for index in 1..REPLICAS {
        first
            .admit(ReplicaId::new(index as u64 + 1), key(index).verifying_key())
            .unwrap();
    }
    let mut model = Replica::<Meeting, _, _>::open(
        MemoryStore::new(),
        key(0),
        OpLog::open(document, clock(0, &ManualClock::new(u64::MAX / 4))),
    )
    .unwrap()
    .0;
    for (_, bytes) in first.log().history(0) {
        model.receive(bytes).unwrap();
    }
    let mut sent = Sent::default();
    let mut nodes = vec![Node::V3(first)];
    for index in 1..REPLICAS {
        nodes.push(match index {
            1 => Node::V3(device(document, index, &wall)),
            2 | 3 => Node::V2(device(document, index, &wall)),
            _ => Node::V1(device(document, index, &wall)),
        });
    }
    for index in 1..REPLICAS {
        let (a, b) = pair(&mut nodes, 0, index);
        sync(a, b, None, &mut sent);
    }

    let mut side = [0u8; REPLICAS];
    let mut in_flight: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut made = 0;
    while made < edits {
        wall.advance(random.below(50) as u64);
        let roll = random.below(1000);
        if roll < 700 {
            let from = random.below(REPLICAS);
            let Some(op) = nodes[from].edit(&mut random) else {
                continue;
            };
            made += 1;
            model.receive(&op).unwrap();
            for to in (0..REPLICAS).filter(|&to| to != from && side[to] == side[from]) {
                if random.chance(10) {
                    continue; // lost
                }
                let copies = if random.chance(10) { 2 } else { 1 };
                for _ in 0..copies {
                    let at = random.below(in_flight.len() + 1);
                    in_flight.insert(at, (to, op.clone()));
                }
            }
        } else if roll < 980 {
            for _ in 0..3 {
                if in_flight.is_empty() {
                    break;
                }
                let (to, bytes) = in_flight.swap_remove(random.below(in_flight.len()));
                nodes[to].receive(&bytes);
            }
        } else if roll < 990 {
            // Repartition: each replica on a random side; one side in three, all together.
            let together = random.chance(33);
            for side in &mut side {
                *side = if together { 0 } else { random.below(2) as u8 };
            }
        } else if roll < 999 {
            let (a, b) = (random.below(REPLICAS), random.below(REPLICAS));
            if a != b && side[a] == side[b] {
                let cut = random.chance(30).then(|| random.below(6));
                let (a, b) = pair(&mut nodes, a, b);
                sync(a, b, cut, &mut sent);
            }
        } else {
            nodes[random.below(REPLICAS)].restart(&wall);
        }
    }

    // Heal, and one round of sync: everyone with replica 0, then again.
    for _ in 0..2 {
        for index in 1..REPLICAS {
            let (a, b) = pair(&mut nodes, index, 0);
            sync(a, b, None, &mut sent);
        }
    }
    assert!(
        sent.ops > 0 && sent.snapshots > 0,
        "seed {seed}: sessions sent {} operations and {} snapshots",
        sent.ops,
        sent.snapshots
    );
    let digests: BTreeSet<[u8; 32]> = nodes.iter().map(Node::digest).collect();
    assert_eq!(
        digests.len(),
        1,
        "seed {seed}: replicas hold different operations"
    );
    assert_eq!(
        digests.first(),
        Some(&model.log().heads_digest()),
        "seed {seed}"
    );
    for node in &nodes {
        if let Node::V3(replica) = node {
            assert_eq!(replica.state(), model.state(), "seed {seed}");
        }
        let expected = model.read();
        assert_eq!(
            node.common(),
            (expected.title, expected.views),
            "seed {seed}"
        );
    }
}

#[test]
fn five_replicas_converge_under_partitions_loss_duplication_reordering_and_restarts() {
    for seed in 1..=3 {
        simulate(seed, 10_000);
    }
}

#[test]
#[ignore = "long: fifty seeds; run with --release"]
fn fifty_seeds() {
    for seed in 100..150 {
        simulate(seed, 10_000);
    }
}
