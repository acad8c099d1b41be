//! Replicas end to end: durable edits, restarts, corrupt records, and sync between
//! replicas on two schema versions, in memory, on SQLite and over TCP.

use std::collections::BTreeSet;

use crdtype::ops::{OpLog, ReceiveError, SigningKey};
use crdtype::replica::sync::{Role, SyncError, SyncLimits, SyncSession, SyncStats, sync_with};
use crdtype::replica::{
    Checkpoint, HistoryError, HistoryPolicy, Loaded, MemoryStore, Record, Recovery, Replica,
    ReplicaError, SqliteStore, Store, StoreError, StoredEvidence, StoredRecord,
};
use crdtype::{Crdt, HybridClock, ManualClock, ReplicaId, WallClock};
use crdtype_tests::versions::meeting_v2;
use crdtype_tests::{Meeting, interrupted_sync};

type Old = meeting_v2::Meeting;

const SALT: [u8; 16] = [3; 16];

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn clock(replica: u64, wall: &ManualClock) -> HybridClock<ManualClock> {
    HybridClock::with_wall_clock(ReplicaId::new(replica), wall.clone())
}

type Device<T, D = MemoryStore> = Replica<T, D, ManualClock>;

/// A new document on replica 1, which admits replicas 2 and 3.
fn creator<D: Store>(store: D, wall: &ManualClock) -> Device<Meeting, D> {
    creator_with(store, wall, HistoryPolicy::default())
}

fn creator_with<D: Store>(
    store: D,
    wall: &ManualClock,
    policy: HistoryPolicy,
) -> Device<Meeting, D> {
    let (log, _) = OpLog::create(&key(1), SALT, clock(1, wall));
    let (mut alice, _) = Replica::open_with(store, key(1), log, policy).unwrap();
    for seed in [2, 3] {
        alice
            .admit(ReplicaId::new(u64::from(seed)), key(seed).verifying_key())
            .unwrap();
    }
    alice
}

/// An empty replica `seed` of `alice`'s document, on `store`.
fn joiner<T: Crdt, D: Store>(
    alice: &Device<Meeting, impl Store>,
    seed: u8,
    store: D,
    wall: &ManualClock,
) -> Device<T, D> {
    joiner_with(alice, seed, store, wall, HistoryPolicy::default())
}

fn joiner_with<T: Crdt, D: Store>(
    alice: &Device<Meeting, impl Store>,
    seed: u8,
    store: D,
    wall: &ManualClock,
    policy: HistoryPolicy,
) -> Device<T, D> {
    let log = OpLog::open(alice.log().document(), clock(u64::from(seed), wall));
    Replica::open_with(store, key(seed), log, policy).unwrap().0
}

/// Replica 1 restarted on `store`, which holds `document`.
fn restart<D: Store>(
    store: D,
    document: crdtype::ops::DocumentId,
    wall: &ManualClock,
) -> (Device<Meeting, D>, Recovery) {
    restart_with(store, document, wall, HistoryPolicy::default())
}

fn restart_with<D: Store>(
    store: D,
    document: crdtype::ops::DocumentId,
    wall: &ManualClock,
    policy: HistoryPolicy,
) -> (Device<Meeting, D>, Recovery) {
    let log = OpLog::open(document, clock(1, wall));
    Replica::open_with(store, key(1), log, policy).unwrap()
}

/// No snapshots: every operation stays, to be sent as itself.
const NO_SNAPSHOTS: HistoryPolicy = HistoryPolicy {
    snapshot_every: 0,
    keep_history: false,
};

/// A whole session in memory, `a` starting; both sides' stats.
fn sync<A: Crdt, B: Crdt, D: Store, E: Store, W: WallClock>(
    a: &mut Replica<A, D, W>,
    b: &mut Replica<B, E, W>,
) -> (SyncStats, SyncStats) {
    let report = sync_with(a, b, SyncLimits::default()).unwrap();
    assert!(report.converged);
    (report.a, report.b)
}

#[test]
fn an_edit_survives_a_restart_and_the_clock_never_goes_back() {
    let wall = ManualClock::new(10_000_000_000);
    let mut alice = creator(MemoryStore::new(), &wall);
    alice.edit(|m| m.title = "Retro".to_owned()).unwrap();
    let before = alice.read();
    let mark = alice.log().clock().high_water_mark();
    let document = alice.log().document();

    // The device restarts with its wall clock an hour behind.
    wall.set(10_000_000_000 - 3_600_000_000);
    let store = alice.into_store();
    let (mut alice, recovery) = restart(store, document, &wall);
    assert_eq!(
        recovery.restored, 4,
        "the genesis, two admissions and the edit"
    );
    assert!(recovery.corrupt.is_empty() && recovery.refused.is_empty());
    assert_eq!(alice.read(), before);
    assert!(alice.log().clock().high_water_mark() >= mark);

    // Its next operation is numbered and stamped after everything before the restart, so
    // a peer that has the earlier ones accepts it.
    let op = alice.edit(|m| m.views += 1).unwrap().unwrap();
    let fields = crdtype::ops::OpFields::read(&op).unwrap();
    assert_eq!(fields.id.seq(), 5);
    assert!((fields.stamp.wall_micros, fields.stamp.logical) > (mark.wall_micros, mark.logical));
    // Bob's wall clock did not go back.
    let bob_wall = ManualClock::new(10_000_000_000);
    let mut bob = joiner::<Meeting, _>(&alice, 2, MemoryStore::new(), &bob_wall);
    let (_, bob_side) = sync(&mut alice, &mut bob);
    assert!(bob_side.refused.is_empty(), "{:?}", bob_side.refused);
    assert_eq!(bob.read(), alice.read());
}

#[test]
fn an_unchanged_value_makes_no_operation() {
    let wall = ManualClock::new(1_000_000);
    let mut alice = creator(MemoryStore::new(), &wall);
    let before = alice.log().len();
    assert_eq!(
        alice.edit(|m| m.draft_note = "local".to_owned()).unwrap(),
        None
    );
    assert_eq!(alice.log().len(), before);
}

#[test]
fn a_corrupt_last_record_is_reported_and_dropped_never_applied() {
    let wall = ManualClock::new(1_000_000);
    let mut alice = creator(MemoryStore::new(), &wall);
    alice.edit(|m| m.title = "Kept".to_owned()).unwrap();
    let kept = alice.read();
    alice.edit(|m| m.title = "Torn".to_owned()).unwrap();
    let document = alice.log().document();
    let mut store = alice.into_store();
    let last = store.loaded_mut().records.last_mut().unwrap();
    let position = last.position;
    let middle = last.bytes.len() / 2;
    last.bytes[middle] ^= 0x40;

    let (alice, recovery) = restart(store, document, &wall);
    assert_eq!(recovery.corrupt, vec![position]);
    assert_eq!(alice.read(), kept);
    let mut store = alice.into_store();
    assert!(
        store
            .load()
            .unwrap()
            .records
            .iter()
            .all(|record| record.position != position)
    );
}

#[test]
fn a_truncated_last_record_is_dropped_too() {
    let wall = ManualClock::new(1_000_000);
    let mut alice = creator(MemoryStore::new(), &wall);
    let kept = alice.read();
    alice.edit(|m| m.title = "Torn".to_owned()).unwrap();
    let document = alice.log().document();
    let mut store = alice.into_store();
    let last = store.loaded_mut().records.last_mut().unwrap();
    last.bytes.truncate(last.bytes.len() / 3);
    let (alice, recovery) = restart(store, document, &wall);
    assert_eq!(recovery.corrupt.len(), 1);
    assert_eq!(alice.read(), kept);
}

#[test]
fn a_store_of_another_document_is_refused() {
    let wall = ManualClock::new(1_000_000);
    let alice = creator(MemoryStore::new(), &wall);
    let (other, _) =
        OpLog::<crdtype_tests::MeetingCrdt, _>::create(&key(1), [9; 16], clock(1, &wall));
    let opened = Replica::<Meeting, _, _>::open(
        alice.into_store(),
        key(1),
        OpLog::open(other.document(), clock(1, &wall)),
    );
    assert!(matches!(
        opened,
        Err(ReplicaError::Receive(ReceiveError::WrongDocument { .. }))
    ));
    let fresh = creator(MemoryStore::new(), &wall);
    let (log, _) = OpLog::create(&key(1), [9; 16], clock(1, &wall));
    assert!(matches!(
        Replica::<Meeting, _, _>::open(fresh.into_store(), key(1), log),
        Err(ReplicaError::NotEmpty)
    ));
}

#[test]
fn three_replicas_on_two_schema_versions_converge_by_sync_and_lose_nothing() {
    let wall = ManualClock::new(1_000_000);
    let mut alice = creator(MemoryStore::new(), &wall);
    let mut bob = joiner::<Meeting, _>(&alice, 2, MemoryStore::new(), &wall);
    let mut carol = joiner::<Old, _>(&alice, 3, MemoryStore::new(), &wall);
    sync(&mut alice, &mut bob);
    sync(&mut bob, &mut carol);

    // Concurrent edits; version 3's `priority` is unknown to Carol's version 2.
    wall.advance(1_000);
    alice
        .edit(|m| {
            m.title = "Planning".to_owned();
            m.priority = 9;
        })
        .unwrap();
    bob.edit(|m| {
        m.views += 2;
        m.tags.insert("q4".to_owned());
    })
    .unwrap();
    carol.edit(|m| m.pinned = true).unwrap();

    // Alice reaches Bob only through Carol.
    sync(&mut alice, &mut carol);
    sync(&mut carol, &mut bob);
    sync(&mut alice, &mut carol);

    let digests: BTreeSet<_> = [
        alice.log().heads_digest(),
        bob.log().heads_digest(),
        carol.log().heads_digest(),
    ]
    .into();
    assert_eq!(digests.len(), 1);
    assert_eq!(alice.read(), bob.read());
    let meeting = bob.read();
    assert_eq!(
        (meeting.title.as_str(), meeting.priority, meeting.views),
        ("Planning", 9, 2)
    );
    assert!(meeting.pinned);
    let old = carol.read();
    assert_eq!(
        (old.title.as_str(), old.views, old.pinned),
        ("Planning", 2, true)
    );
    assert!(
        carol.state().store.unknown_fields.ids().any(|id| id == 3),
        "Carol keeps Bob's tags, a field of version 3 she does not know"
    );
}

#[test]
fn a_new_replica_bootstraps_from_any_peer_and_a_second_sync_sends_nothing() {
    let wall = ManualClock::new(1_000_000);
    let mut alice = creator(MemoryStore::new(), &wall);
    for round in 0..20 {
        alice.edit(|m| m.views += round).unwrap();
    }
    let mut bob = joiner::<Meeting, _>(&alice, 2, MemoryStore::new(), &wall);
    let (from_alice, _) = sync(&mut bob, &mut alice);
    assert_eq!(bob.read(), alice.read());
    assert_eq!(from_alice.messages_received, 1);

    let mut carol = joiner::<Old, _>(&alice, 3, MemoryStore::new(), &wall);
    sync(&mut carol, &mut bob);
    assert_eq!(carol.read().views, alice.read().views);

    let (again, other) = sync(&mut alice, &mut carol);
    assert_eq!((again.ops_sent, other.ops_sent), (0, 0));
    assert_eq!(again.messages_sent + other.messages_sent, 3);
}

#[test]
fn a_long_partition_streams_in_chunks_within_the_byte_budget() {
    let wall = ManualClock::new(1_000_000);
    let mut alice = creator_with(MemoryStore::new(), &wall, NO_SNAPSHOTS);
    let mut bob = joiner_with::<Meeting, _>(&alice, 2, MemoryStore::new(), &wall, NO_SNAPSHOTS);
    sync(&mut alice, &mut bob);
    for round in 0..1_000 {
        wall.advance(1);
        alice.edit(|m| m.title = format!("a{round}")).unwrap();
        bob.edit(|m| m.views += 1).unwrap();
    }
    let limits = SyncLimits {
        chunk_bytes: 64 << 10,
        ..SyncLimits::default()
    };
    let report = sync_with(&mut alice, &mut bob, limits).unwrap();
    let (a, b) = (report.a, report.b);
    assert_eq!(report.flights, 3, "one and a half round trips");
    assert_eq!(alice.log().heads_digest(), bob.log().heads_digest());
    assert_eq!(alice.read(), bob.read());
    assert_eq!((a.ops_sent, b.ops_sent), (1_000, 1_000));
    assert_eq!((a.applied, b.applied), (1_000, 1_000));
    assert!(a.messages_sent > 2, "the history streams in chunks");
    let sent = a.bytes_sent + b.bytes_sent;
    let ops = a.op_bytes_sent + b.op_bytes_sent;
    assert!(
        sent * 10 <= ops * 13,
        "{sent} bytes for {ops} bytes of operations"
    );
}

#[test]
fn a_session_cut_after_any_message_resumes_with_a_new_one() {
    let wall = ManualClock::new(1_000_000);
    let limits = SyncLimits {
        chunk_bytes: 4 << 10,
        ..SyncLimits::default()
    };
    let mut alice = creator(MemoryStore::new(), &wall);
    let mut bob = joiner::<Old, _>(&alice, 2, MemoryStore::new(), &wall);
    sync(&mut alice, &mut bob);
    for round in 0..40 {
        alice.edit(|m| m.title = format!("a{round}")).unwrap();
        bob.edit(|m| m.views += 1).unwrap();
    }
    let report = sync_with(
        &mut alice.clone_for_test(),
        &mut bob.clone_for_test(),
        limits,
    )
    .unwrap();
    let messages = report.a.messages_sent + report.b.messages_sent;
    assert!(messages > 4);
    for cut in 0..messages {
        let (mut alice, mut bob) = (alice.clone_for_test(), bob.clone_for_test());
        interrupted_sync(&mut alice, &mut bob, limits, cut);
        sync_with(&mut bob, &mut alice, limits).unwrap();
        assert_eq!(
            alice.log().heads_digest(),
            bob.log().heads_digest(),
            "cut after {cut}"
        );
        assert_eq!(alice.read().views, bob.read().views);
    }
}

/// Copies of a replica, to run several futures of one state.
trait CloneForTest {
    fn clone_for_test(&self) -> Self;
}

impl<T: Crdt> CloneForTest for Device<T> {
    fn clone_for_test(&self) -> Self {
        let log = OpLog::open(self.log().document(), self.log().clock().clone());
        Replica::open(self.store().clone(), key(self.id().get() as u8), log)
            .unwrap()
            .0
    }
}

#[test]
fn malformed_sync_messages_are_refused_or_apply_only_genuine_operations() {
    let wall = ManualClock::new(1_000_000);
    let mut alice = creator(MemoryStore::new(), &wall);
    alice.edit(|m| m.title = "x".to_owned()).unwrap();
    let mut bob = joiner::<Meeting, _>(&alice, 2, MemoryStore::new(), &wall);
    let hello = SyncSession::new().start(&bob);
    let reply = SyncSession::new()
        .handle(&mut alice, &hello)
        .unwrap()
        .remove(0);
    let before = bob.log().heads_digest();
    for end in 0..reply.len() {
        let mut session = SyncSession::new();
        session.start(&bob);
        assert!(
            session.handle(&mut bob, &reply[..end]).is_err(),
            "prefix {end}"
        );
    }
    assert_eq!(
        bob.log().heads_digest(),
        before,
        "a refused message changes nothing"
    );
    for index in 0..reply.len().min(400) {
        let mut mutated = reply.clone();
        mutated[index] ^= 0x5a;
        let mut session = SyncSession::new();
        session.start(&bob);
        // Either refused, or a message whose operations are refused one by one.
        let _ = session.handle(&mut bob, &mutated);
    }
    // Whatever a mutated message carried that applied is one of Alice's operations.
    assert!(
        bob.log()
            .applied()
            .keys()
            .all(|hash| alice.log().applied().contains_key(hash))
    );
    // Too large: beyond what any message may be, and operations beyond their bound.
    let limits = SyncLimits {
        max_message_bytes: reply.len() - 1,
        max_snapshot_bytes: 0,
        ..SyncLimits::default()
    };
    let mut session = SyncSession::with_limits(limits);
    session.start(&bob);
    let huge = vec![0; limits.frame_limit() + 1];
    assert!(matches!(
        session.handle(&mut bob, &huge),
        Err(SyncError::TooLarge { .. })
    ));
    assert!(matches!(
        session.handle(&mut bob, &reply),
        Err(SyncError::TooLarge { .. })
    ));
    // A message of another document.
    let (other_log, _) =
        OpLog::<crdtype_tests::MeetingCrdt, _>::create(&key(1), [8; 16], clock(1, &wall));
    let (stranger, _) =
        Replica::<Meeting, _, _>::open(MemoryStore::new(), key(1), other_log).unwrap();
    let foreign = SyncSession::new().start(&stranger);
    let mut session = SyncSession::new();
    assert!(matches!(
        session.handle(&mut bob, &foreign),
        Err(SyncError::WrongDocument)
    ));
}

/// A store whose appends fail while `failing` is set.
#[derive(Clone, Default)]
struct Flaky {
    inner: MemoryStore,
    failing: bool,
}

impl Store for Flaky {
    fn load(&mut self) -> Result<Loaded, StoreError> {
        self.inner.load()
    }

    fn append(&mut self, records: &[Record<'_>], checkpoint: Checkpoint) -> Result<(), StoreError> {
        if self.failing {
            return Err(StoreError::Invalid("the disk is full"));
        }
        self.inner.append(records, checkpoint)
    }

    fn remove(&mut self, positions: &[u64]) -> Result<(), StoreError> {
        self.inner.remove(positions)
    }

    fn put_snapshot(&mut self, snapshot: Record<'_>, prune: bool) -> Result<(), StoreError> {
        if self.failing {
            return Err(StoreError::Invalid("the disk is full"));
        }
        self.inner.put_snapshot(snapshot, prune)
    }

    fn put_evidence(&mut self, kept: Record<'_>, refused: Record<'_>) -> Result<(), StoreError> {
        self.inner.put_evidence(kept, refused)
    }
}

#[test]
fn an_operation_is_not_acknowledged_nor_sent_before_it_is_stored() {
    let wall = ManualClock::new(1_000_000);
    let mut alice = creator(Flaky::default(), &wall);
    let mut bob = joiner::<Meeting, _>(&alice, 2, MemoryStore::new(), &wall);
    sync(&mut alice, &mut bob);
    let document = alice.log().document();
    let reopen = |store| restart(store, document, &wall).0;

    let mut store = alice.into_store();
    store.failing = true;
    let mut alice = reopen(store);
    assert!(matches!(
        alice.edit(|m| m.title = "unstored".to_owned()),
        Err(ReplicaError::Store(_))
    ));
    // Alice cannot answer a sync without storing first: the operation stays home.
    let hello = SyncSession::new().start(&bob);
    assert!(matches!(
        SyncSession::new().handle(&mut alice, &hello),
        Err(SyncError::Replica(ReplicaError::Store(_)))
    ));
    assert_eq!(bob.read().title, "");

    // After a crash the unacknowledged edit is gone, and its number is free again: the
    // next edit takes it, and Bob, who never saw the first, accepts it.
    let mut store = alice.into_store();
    store.failing = false;
    let mut alice = reopen(store);
    assert_eq!(alice.read().title, "");
    alice.edit(|m| m.title = "stored".to_owned()).unwrap();
    sync(&mut alice, &mut bob);
    assert_eq!(bob.read().title, "stored");
}

/// Alice's next edit and two other operations with its id, as a device that equivocates
/// would sign them.
fn equivocations(alice: &mut Device<Meeting>) -> [Vec<u8>; 3] {
    let mut twins = [alice.log().clone(), alice.log().clone()];
    let first = alice
        .edit(|m| m.title = "first".to_owned())
        .unwrap()
        .unwrap();
    let [second, third] = [("second", 0), ("third", 1)].map(|(title, twin)| {
        twins[twin]
            .edit(&key(1), |store, context, stamp| {
                store.set_title(context, stamp, title.to_owned())
            })
            .unwrap()
            .unwrap()
    });
    [first, second, third]
}

#[test]
fn equivocation_evidence_is_stored_once_per_device_and_survives_reopening() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("bob.sqlite");
    let wall = ManualClock::new(1_000_000);
    let mut alice = creator(MemoryStore::new(), &wall);
    let mut bob = joiner::<Meeting, _>(&alice, 2, SqliteStore::open(&path).unwrap(), &wall);
    sync(&mut alice, &mut bob);
    let [first, second, third] = equivocations(&mut alice);
    bob.receive(&first).unwrap();
    for op in [&second, &second, &third] {
        assert!(matches!(
            bob.receive(op),
            Err(ReplicaError::Receive(ReceiveError::Equivocation { .. }))
        ));
    }
    assert_eq!(bob.log().evidence().len(), 1, "one proof of the device");
    let document = bob.log().document();
    drop(bob);

    let reopen = || {
        let log = OpLog::open(document, clock(2, &wall));
        Replica::<Meeting, _, _>::open(SqliteStore::open(&path).unwrap(), key(2), log).unwrap()
    };
    let (bob, recovery) = reopen();
    assert_eq!((recovery.evidence, recovery.evidence_refused.len()), (1, 0));
    let evidence = &bob.log().evidence()[0];
    assert_eq!((&evidence.kept, &evidence.refused), (&first, &second));
    // Still one proof after a restart: the device's next equivocation adds none.
    let mut bob = bob;
    assert!(bob.receive(&third).is_err());
    let stored: i64 = bob
        .store()
        .connection()
        .query_row("SELECT count(*) FROM crdtype_evidence", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(stored, 1);

    // A damaged proof is reported and not restored.
    bob.store()
        .connection()
        .execute(
            "UPDATE crdtype_evidence SET refused = substr(refused, 1, 40)",
            [],
        )
        .unwrap();
    drop(bob);
    let (bob, recovery) = reopen();
    assert_eq!((recovery.evidence, recovery.evidence_refused.len()), (0, 1));
    assert!(bob.log().evidence().is_empty());
}

/// Stored evidence, as a store would load it, with intact checksums.
fn stored_evidence(position: u64, kept: &[u8], refused: &[u8]) -> StoredEvidence {
    let stored = |bytes: &[u8]| StoredRecord {
        position,
        bytes: bytes.to_vec(),
        checksum: Record::new(bytes).checksum.to_vec(),
    };
    StoredEvidence {
        kept: stored(kept),
        refused: stored(refused),
    }
}

#[test]
fn stored_evidence_is_restored_only_if_it_proves_an_equivocation_against_what_is_held() {
    let wall = ManualClock::new(1_000_000);
    let mut alice = creator(MemoryStore::new(), &wall);
    let mut bob = joiner::<Meeting, _>(&alice, 2, MemoryStore::new(), &wall);
    sync(&mut alice, &mut bob);
    let [first, second, third] = equivocations(&mut alice);
    let later = alice
        .edit(|m| m.title = "later".to_owned())
        .unwrap()
        .unwrap();
    bob.receive(&first).unwrap();
    let document = bob.log().document();
    let store = bob.into_store();
    let reopen = |evidence: Vec<StoredEvidence>| {
        let mut store = store.clone();
        store.loaded_mut().evidence = evidence;
        let log = OpLog::open(document, clock(2, &wall));
        let (bob, recovery) = Replica::<Meeting, _, _>::open(store, key(2), log).unwrap();
        (
            bob.log().evidence().len(),
            recovery.evidence,
            recovery.evidence_refused,
        )
    };
    // The kept operation's bytes may be gone (compaction); a second proof of the same
    // device adds nothing.
    assert_eq!(
        reopen(vec![
            stored_evidence(1, &[], &second),
            stored_evidence(2, &first, &third)
        ]),
        (1, 1, vec![2])
    );
    // Not proofs: the kept one is not the operation held under the id; the refused one
    // is; the refused one's id was never applied here.
    for (kept, refused) in [(&second, &third), (&first, &first), (&first, &later)] {
        assert_eq!(
            reopen(vec![stored_evidence(1, kept, refused)]),
            (0, 0, vec![1])
        );
    }
}

#[test]
fn a_database_of_an_earlier_format_is_brought_up_to_date_and_keeps_its_edits() {
    // What format 3 added (the evidence), and format 2 before it (the snapshot table and
    // the own sequence number), taken away again.
    for (format, downgrade) in [
        (2, "DROP TABLE crdtype_evidence;"),
        (
            1,
            "DROP TABLE crdtype_evidence; DROP TABLE crdtype_snapshot;
             ALTER TABLE crdtype_clock DROP COLUMN own_seq;",
        ),
    ] {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("alice.sqlite");
        let wall = ManualClock::new(1_000_000);
        let mut alice = creator(SqliteStore::open(&path).unwrap(), &wall);
        alice.edit(|m| m.title = "kept".to_owned()).unwrap();
        let document = alice.log().document();
        alice
            .store()
            .connection()
            .execute_batch(&format!("{downgrade} PRAGMA user_version = {format};"))
            .unwrap();
        drop(alice);

        let (mut alice, recovery) = restart(SqliteStore::open(&path).unwrap(), document, &wall);
        assert_eq!(recovery.restored, 4, "format {format}");
        assert_eq!(alice.read().title, "kept");
        let connection = alice.store().connection();
        let version: i64 = connection
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        let evidence: i64 = connection
            .query_row("SELECT count(*) FROM crdtype_evidence", [], |row| {
                row.get(0)
            })
            .unwrap();
        assert_eq!((version, evidence), (3, 0), "format {format}");
        // And it goes on storing edits.
        alice.edit(|m| m.title = "after".to_owned()).unwrap();
        drop(alice);
        let (alice, _) = restart(SqliteStore::open(&path).unwrap(), document, &wall);
        assert_eq!(alice.read().title, "after", "format {format}");
    }
}

#[test]
fn sqlite_keeps_every_acknowledged_edit_across_reopening() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("alice.sqlite");
    let wall = ManualClock::new(1_000_000);
    let mut alice = creator(SqliteStore::open(&path).unwrap(), &wall);
    for round in 0..10 {
        alice.edit(|m| m.views += round + 1).unwrap();
    }
    let before = alice.read();
    let digest = alice.log().heads_digest();
    let document = alice.log().document();
    drop(alice);

    let (alice, recovery) = restart(SqliteStore::open(&path).unwrap(), document, &wall);
    assert_eq!(recovery.restored, 13);
    assert_eq!(alice.read(), before);
    assert_eq!(alice.log().heads_digest(), digest);

    // Corrupt the last record on disk: it is reported, deleted and never applied.
    alice
        .store()
        .connection()
        .execute(
            "UPDATE crdtype_ops SET bytes = substr(bytes, 1, 40) \
             WHERE position = (SELECT max(position) FROM crdtype_ops)",
            [],
        )
        .unwrap();
    drop(alice);
    let (alice, recovery) = restart(SqliteStore::open(&path).unwrap(), document, &wall);
    assert_eq!(recovery.corrupt.len(), 1);
    assert_eq!(alice.read().views, before.views - 10);
}

#[test]
fn sync_runs_over_tcp_on_loopback_with_both_sides_streaming_at_once() {
    let wall = ManualClock::new(1_000_000);
    let mut alice = creator(MemoryStore::new(), &wall);
    let mut bob = joiner::<Old, _>(&alice, 2, MemoryStore::new(), &wall);
    sync(&mut bob, &mut alice);
    // More than a loopback socket buffers in each direction, so that writing and reading
    // must overlap.
    for round in 0..3_000 {
        alice.edit(|m| m.title = format!("t{round}")).unwrap();
        bob.edit(|m| m.views += 1).unwrap();
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let limits = SyncLimits {
        chunk_bytes: 8 << 10,
        ..SyncLimits::default()
    };
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        SyncSession::with_limits(limits)
            .run_tcp(&mut alice, &stream, Role::Responder)
            .unwrap();
        alice
    });
    let stream = std::net::TcpStream::connect(address).unwrap();
    SyncSession::with_limits(limits)
        .run_tcp(&mut bob, &stream, Role::Initiator)
        .unwrap();
    let alice = server.join().unwrap();
    assert_eq!(bob.log().heads_digest(), alice.log().heads_digest());
    assert_eq!(bob.read().title, "t2999");
    assert_eq!(alice.read().views, 3_000);
}

#[test]
fn a_silent_peer_ends_a_tcp_session_after_the_idle_timeout() {
    let wall = ManualClock::new(1_000_000);
    let mut alice = creator(MemoryStore::new(), &wall);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    // Connects, then sends nothing until the test ends.
    let silent = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (stream, _) = listener.accept().unwrap();
    let idle = std::time::Duration::from_millis(200);
    let limits = SyncLimits {
        idle_timeout: Some(idle),
        ..SyncLimits::default()
    };
    let result = SyncSession::with_limits(limits).run_tcp(&mut alice, &stream, Role::Responder);
    assert!(
        matches!(result, Err(SyncError::TimedOut(waited)) if waited == idle),
        "{result:?}"
    );
    drop(silent);
}

#[test]
fn a_frame_cut_short_by_the_peer_ends_the_session_as_an_unexpected_end() {
    use std::io::Write;
    let wall = ManualClock::new(1_000_000);
    let mut alice = creator(MemoryStore::new(), &wall);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    // Claims a 60 MB message (within the frame limit), sends 3 bytes of it and leaves.
    peer.write_all(&60_000_000u32.to_le_bytes()).unwrap();
    peer.write_all(b"abc").unwrap();
    drop(peer);
    let (stream, _) = listener.accept().unwrap();
    let result = SyncSession::new().run_tcp(&mut alice, &stream, Role::Responder);
    assert!(
        matches!(&result, Err(SyncError::Io(io)) if io.kind() == std::io::ErrorKind::UnexpectedEof),
        "{result:?}"
    );
}

fn every(snapshot_every: usize) -> HistoryPolicy {
    HistoryPolicy {
        snapshot_every,
        keep_history: false,
    }
}

/// Restarts replica 1 on its store: from a snapshot and the few records after it, to the
/// same state, heads and count of operations.
fn restarts_from_a_snapshot<D: Store>(
    alice: Device<Meeting, D>,
    wall: &ManualClock,
    policy: HistoryPolicy,
) -> Device<Meeting, D> {
    let before = (alice.read(), alice.log().heads_digest(), alice.log().len());
    let document = alice.log().document();
    let mut store = alice.into_store();
    let loaded = store.load().unwrap();
    assert!(loaded.snapshot.is_some());
    assert!(
        loaded.records.len() < 10,
        "{} records",
        loaded.records.len()
    );
    let (alice, recovery) = restart_with(store, document, wall, policy);
    assert!(recovery.from_snapshot);
    let after = (alice.read(), alice.log().heads_digest(), alice.log().len());
    assert_eq!(after, before);
    alice
}

#[test]
fn a_snapshot_and_the_operations_after_it_restore_the_state_and_compaction_prunes() {
    let directory = tempfile::tempdir().unwrap();
    let wall = ManualClock::new(1_000_000);
    let sqlite = SqliteStore::open(directory.path().join("a.sqlite")).unwrap();
    let mut on_disk = creator_with(sqlite, &wall, every(10));
    let mut in_memory = creator_with(MemoryStore::new(), &wall, every(10));
    for round in 0..25 {
        on_disk.edit(|m| m.views += round + 1).unwrap();
        in_memory.edit(|m| m.views += round + 1).unwrap();
    }
    // Operations compacted away in memory still count as applied.
    assert!(in_memory.log().applied().len() < in_memory.log().len());
    restarts_from_a_snapshot(on_disk, &wall, every(10));
    let mut alice = restarts_from_a_snapshot(in_memory, &wall, every(10));
    alice.edit(|m| m.title = "after".to_owned()).unwrap();
    assert_eq!(alice.read().views, (1..=25).sum::<i64>());
}

#[test]
fn a_peer_lacking_compacted_operations_gets_a_snapshot_and_both_go_on_with_operations() {
    let wall = ManualClock::new(1_000_000);
    let mut alice = creator_with(MemoryStore::new(), &wall, every(8));
    for round in 0..30 {
        alice
            .edit(|m| {
                m.views += 1;
                m.tags.insert(format!("t{round}"));
            })
            .unwrap();
    }
    // Bob, new, bootstraps from a snapshot: the operations it covers are gone at Alice.
    let mut bob = joiner::<Meeting, _>(&alice, 2, MemoryStore::new(), &wall);
    let report = sync_with(&mut bob, &mut alice, SyncLimits::default()).unwrap();
    assert_eq!(report.b.snapshots_sent, 1);
    assert_eq!(report.a.snapshots_received, 1);
    assert!(report.a.refused.is_empty(), "{:?}", report.a.refused);
    assert_eq!(bob.read(), alice.read());
    assert_eq!(bob.log().heads_digest(), alice.log().heads_digest());

    // New operations on both sides link to compacted ones, and travel as themselves.
    alice.edit(|m| m.title = "from alice".to_owned()).unwrap();
    bob.edit(|m| m.pinned = true).unwrap();
    let report = sync_with(&mut alice, &mut bob, SyncLimits::default()).unwrap();
    assert_eq!((report.a.ops_sent, report.b.ops_sent), (1, 1));
    assert_eq!(bob.read(), alice.read());
    assert_eq!(bob.log().heads_digest(), alice.log().heads_digest());

    // Carol, on version 2, bootstraps from Bob (who compacted after adopting): she keeps
    // the fields she does not know, and passes them on in her own snapshot.
    let mut carol = joiner::<Old, _>(&alice, 3, MemoryStore::new(), &wall);
    sync_with(&mut carol, &mut bob, SyncLimits::default()).unwrap();
    assert_eq!(carol.log().heads_digest(), bob.log().heads_digest());
    assert_eq!(carol.read().views, 30);
    // Dave, on version 3 and not admitted, bootstraps from a snapshot of Carol's version
    // 2, stores it (he cannot sign his own), and restarts from it.
    carol.snapshot().unwrap();
    let mut dave = joiner_with::<Meeting, _>(&alice, 4, MemoryStore::new(), &wall, every(8));
    let report = sync_with(&mut dave, &mut carol, SyncLimits::default()).unwrap();
    assert_eq!(report.a.snapshots_received, 1);
    assert_eq!(
        dave.read(),
        alice.read(),
        "v3 fields survived a v2 snapshot"
    );
    for _ in 0..10 {
        alice.edit(|m| m.views += 1).unwrap();
    }
    let report = sync_with(&mut dave, &mut alice, SyncLimits::default()).unwrap();
    assert!(report.converged && report.a.refused.is_empty());
    let digest = dave.log().heads_digest();
    let log = OpLog::open(alice.log().document(), clock(4, &wall));
    let (dave, _) =
        Replica::<Meeting, _, _>::open_with(dave.into_store(), key(4), log, every(8)).unwrap();
    assert_eq!(dave.log().heads_digest(), digest);
    assert_eq!(dave.read(), alice.read());
}

#[test]
fn a_forged_or_foreign_snapshot_is_refused() {
    let wall = ManualClock::new(1_000_000);
    let mut alice = creator(MemoryStore::new(), &wall);
    alice.edit(|m| m.title = "real".to_owned()).unwrap();
    let snapshot = alice.log().snapshot(&key(1)).unwrap();
    let mut bob = joiner::<Meeting, _>(&alice, 2, MemoryStore::new(), &wall);
    let mut forged = crdtype::ops::OpFields::read(&snapshot).unwrap();
    forged.id = crdtype::Dot::new(ReplicaId::new(1), 0);
    let forged = forged.sign(&key(0x66));
    assert!(matches!(
        bob.receive_snapshot(&forged),
        Err(ReplicaError::Receive(ReceiveError::BadSignature(_)))
    ));
    assert_eq!(bob.read().title, "");
    // A snapshot is not an operation, and an operation is not a snapshot.
    assert!(bob.receive(&snapshot).is_err());
    let op = alice.edit(|m| m.title = "op".to_owned()).unwrap().unwrap();
    assert!(bob.receive_snapshot(&op).is_err());
    for end in 0..snapshot.len() {
        assert!(
            bob.receive_snapshot(&snapshot[..end]).is_err(),
            "prefix {end}"
        );
    }
    // Refused, nothing changed: not even the admissions it carries were received.
    assert!(bob.log().is_empty());
    // Another document's snapshot.
    let (other, _) =
        OpLog::<crdtype_tests::MeetingCrdt, _>::create(&key(1), [8; 16], clock(1, &wall));
    assert!(matches!(
        bob.receive_snapshot(&other.snapshot(&key(1)).unwrap()),
        Err(ReplicaError::Receive(ReceiveError::WrongDocument { .. }))
    ));
    assert_eq!(bob.receive_snapshot(&snapshot).unwrap(), 4);
    assert_eq!(bob.read().title, "real");
}

#[test]
fn a_device_admitted_after_edits_survives_compaction_restarts_and_bootstraps() {
    let wall = ManualClock::new(1_000_000);
    let mut alice = creator_with(MemoryStore::new(), &wall, every(5));
    for _ in 0..7 {
        alice.edit(|m| m.views += 1).unwrap();
    }
    // Admitted after edits: its admission's parents are compacted away.
    alice
        .admit(ReplicaId::new(4), key(4).verifying_key())
        .unwrap();
    for _ in 0..7 {
        alice.edit(|m| m.views += 1).unwrap();
    }
    let mut dave = joiner_with::<Meeting, _>(&alice, 4, MemoryStore::new(), &wall, every(5));
    let report = sync_with(&mut dave, &mut alice, SyncLimits::default()).unwrap();
    assert!(report.converged, "{:?}", report.a.refused);
    for _ in 0..7 {
        dave.edit(|m| m.views += 10).unwrap();
    }
    sync_with(&mut dave, &mut alice, SyncLimits::default()).unwrap();
    assert_eq!(alice.read().views, 84);

    // Both restart from their snapshots, and still know Dave's key.
    let document = alice.log().document();
    let (mut alice, _) = restart_with(alice.into_store(), document, &wall, every(5));
    let log = OpLog::open(document, clock(4, &wall));
    let (mut dave, _) =
        Replica::<Meeting, _, _>::open_with(dave.into_store(), key(4), log, every(5)).unwrap();
    dave.edit(|m| m.views += 100).unwrap();
    let report = sync_with(&mut alice, &mut dave, SyncLimits::default()).unwrap();
    assert!(report.converged);
    assert_eq!(alice.read().views, 184);
    // A fresh replica bootstraps from either.
    let mut bob = joiner::<Meeting, _>(&alice, 2, MemoryStore::new(), &wall);
    sync_with(&mut bob, &mut dave, SyncLimits::default()).unwrap();
    assert_eq!(bob.log().heads_digest(), alice.log().heads_digest());
}

#[test]
fn encrypted_snapshots_have_distinct_nonces_and_open_with_the_document_key() {
    use crdtype::ops::PayloadKey;
    let wall = ManualClock::new(1_000_000);
    let secret = PayloadKey::from_bytes([9; 32]);
    let (log, _) = OpLog::create(&key(1), SALT, clock(1, &wall));
    let log = log.with_payload_key(secret.clone());
    let (mut alice, _) =
        Replica::<Meeting, _, _>::open_with(MemoryStore::new(), key(1), log, every(4)).unwrap();
    alice
        .admit(ReplicaId::new(2), key(2).verifying_key())
        .unwrap();
    alice.edit(|m| m.title = "one".to_owned()).unwrap();
    let first = alice.log().snapshot(&key(1)).unwrap();
    alice.edit(|m| m.title = "two".to_owned()).unwrap();
    let second = alice.log().snapshot(&key(1)).unwrap();
    let nonce =
        |snapshot: &[u8]| crdtype::ops::OpFields::read(snapshot).unwrap().payload[..24].to_vec();
    assert_ne!(nonce(&first), nonce(&second));

    let document = alice.log().document();
    let keyed = OpLog::open(document, clock(2, &wall)).with_payload_key(secret);
    let (mut bob, _) =
        Replica::<Meeting, _, _>::open_with(MemoryStore::new(), key(2), keyed, every(4)).unwrap();
    assert!(bob.receive_snapshot(&second).unwrap() > 0);
    assert_eq!(bob.read().title, "two");
    let keyless = OpLog::open(document, clock(2, &wall));
    let (mut eve, _) = Replica::<Meeting, _, _>::open(MemoryStore::new(), key(2), keyless).unwrap();
    assert!(matches!(
        eve.receive_snapshot(&second),
        Err(ReplicaError::Receive(ReceiveError::NoPayloadKey))
    ));
}

#[test]
fn compliance_replicas_restart_with_every_operation_and_still_sync_operations() {
    let wall = ManualClock::new(1_000_000);
    let policy = HistoryPolicy {
        snapshot_every: 4,
        keep_history: true,
    };
    let mut alice = creator_with(MemoryStore::new(), &wall, policy);
    for _ in 0..10 {
        alice.edit(|m| m.views += 1).unwrap();
    }
    let document = alice.log().document();
    let (mut alice, recovery) = restart_with(alice.into_store(), document, &wall, policy);
    assert!(recovery.from_snapshot);
    assert_eq!(
        alice.log().applied().len(),
        alice.log().len(),
        "every operation held"
    );
    let mut auditor = joiner_with::<Meeting, _>(&alice, 2, MemoryStore::new(), &wall, policy);
    let report = sync_with(&mut auditor, &mut alice, SyncLimits::default()).unwrap();
    assert_eq!((report.b.snapshots_sent, report.b.ops_sent), (0, 13));
    assert_eq!(auditor.verify_history().unwrap(), 13);
}

#[test]
fn a_lost_own_record_blocks_edits_until_a_peer_returns_it() {
    let wall = ManualClock::new(1_000_000);
    let mut alice = creator_with(MemoryStore::new(), &wall, NO_SNAPSHOTS);
    let mut bob = joiner::<Meeting, _>(&alice, 2, MemoryStore::new(), &wall);
    alice.edit(|m| m.title = "sent".to_owned()).unwrap();
    sync(&mut alice, &mut bob);
    let document = alice.log().document();
    let mut store = alice.into_store();
    let last = store.loaded_mut().records.last_mut().unwrap();
    last.bytes.truncate(10);
    let (mut alice, recovery) = restart_with(store, document, &wall, NO_SNAPSHOTS);
    assert_eq!(recovery.corrupt.len(), 1);
    assert!(matches!(
        alice.edit(|m| m.title = "reused number".to_owned()),
        Err(ReplicaError::OwnOperationsMissing {
            stored: 4,
            restored: 3
        })
    ));
    sync(&mut alice, &mut bob);
    assert_eq!(alice.read().title, "sent");
    alice.edit(|m| m.title = "next".to_owned()).unwrap();
    sync(&mut alice, &mut bob);
    assert_eq!(bob.read().title, "next");
}

#[test]
fn compliance_mode_keeps_every_operation_and_its_verification_finds_any_tampering() {
    let wall = ManualClock::new(1_000_000);
    let policy = HistoryPolicy {
        snapshot_every: 5,
        keep_history: true,
    };
    let mut alice = creator_with(MemoryStore::new(), &wall, policy);
    for round in 0..12 {
        alice.edit(|m| m.views += round + 1).unwrap();
    }
    assert_eq!(alice.verify_history().unwrap(), 15);
    let document = alice.log().document();
    let mut store = alice.into_store();
    assert_eq!(Store::load(&mut store).unwrap().records.len(), 15);
    assert!(Store::load(&mut store).unwrap().snapshot.is_some());

    let positions = store.loaded_mut().records.len();
    for index in 0..positions {
        // An attacker who rewrites a record, checksum included.
        let mut tampered = store.clone();
        let record = &mut tampered.loaded_mut().records[index];
        let middle = record.bytes.len() / 2;
        record.bytes[middle] ^= 1;
        record.checksum = Record::new(&record.bytes).checksum.to_vec();
        let (mut replica, _) = restart_with(tampered, document, &wall, policy);
        assert!(replica.verify_history().is_err(), "tampered record {index}");

        let mut deleted = store.clone();
        deleted.loaded_mut().records.remove(index);
        let (mut replica, _) = restart_with(deleted, document, &wall, policy);
        assert!(
            matches!(
                replica.verify_history(),
                Err(HistoryError::Unlinked(_)
                    | HistoryError::Diverged
                    | HistoryError::Refused { .. })
            ),
            "deleted record {index}"
        );
    }
    let (mut intact, _) = restart_with(store, document, &wall, policy);
    assert_eq!(intact.verify_history().unwrap(), 15);
    let (mut compacting, _) = restart_with(intact.into_store(), document, &wall, every(5));
    assert!(matches!(
        compacting.verify_history(),
        Err(HistoryError::NotKept)
    ));
}

#[test]
fn compliance_mode_refuses_a_snapshot_rather_than_lose_history() {
    let wall = ManualClock::new(1_000_000);
    let mut alice = creator_with(MemoryStore::new(), &wall, every(4));
    for _ in 0..10 {
        alice.edit(|m| m.views += 1).unwrap();
    }
    let mut auditor = joiner_with::<Meeting, _>(
        &alice,
        2,
        MemoryStore::new(),
        &wall,
        HistoryPolicy::compliance(),
    );
    assert!(matches!(
        sync_with(&mut auditor, &mut alice, SyncLimits::default()),
        Err(SyncError::Replica(ReplicaError::SnapshotInComplianceMode))
    ));
    assert!(auditor.log().len() <= 3, "at most the admissions");
}
