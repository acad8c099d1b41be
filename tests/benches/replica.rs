//! Replicas: `cargo bench -p crdtype-tests --bench replica`. A durable local edit against
//! a bare SQLite insert-and-commit of the same bytes, in the same run; sync after a
//! partition of 10,000 operations on each side; recovery. The sync's round trips and
//! bytes print first.

use crdtype::ops::{OpLog, SigningKey};
use crdtype::replica::sync::SyncStats;
use crdtype::replica::{HistoryPolicy, MemoryStore, Replica, SqliteStore};
use crdtype::{HybridClock, ManualClock, ReplicaId};
use crdtype_tests::CalendarEvent;
use divan::Bencher;

type Device<D = MemoryStore> = Replica<CalendarEvent, D, ManualClock>;

const DIVERGED: usize = 10_000;

/// Every operation kept and sent as itself.
const NO_SNAPSHOTS: HistoryPolicy = HistoryPolicy {
    snapshot_every: 0,
    keep_history: false,
};

fn main() {
    let (mut alice, mut bob) = diverged(NO_SNAPSHOTS);
    let (a, b, flights) = sync(&mut alice, &mut bob);
    let ops = a.op_bytes_sent + b.op_bytes_sent;
    let sent = a.bytes_sent + b.bytes_sent;
    eprintln!(
        "sync after a partition of {DIVERGED} operations each, sent as operations: {} \
         messages in {flights} flights ({:.1} round trips), {sent} bytes for {ops} bytes of \
         operations ({:.3}x)",
        a.messages_sent + b.messages_sent,
        flights as f64 / 2.0,
        sent as f64 / ops as f64
    );
    let (mut alice, mut bob) = diverged(HistoryPolicy::default());
    let (a, b, flights) = sync(&mut alice, &mut bob);
    eprintln!(
        "the same with compaction (a snapshot every 1,000 operations): {} snapshots and {} \
         operations sent, {} bytes in {flights} flights",
        a.snapshots_sent + b.snapshots_sent,
        a.ops_sent + b.ops_sent,
        a.bytes_sent + b.bytes_sent,
    );
    divan::main();
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn clock(replica: u64, wall: &ManualClock) -> HybridClock<ManualClock> {
    HybridClock::with_wall_clock(ReplicaId::new(replica), wall.clone())
}

/// Alice's new document on `store`, with Bob admitted.
fn alice<D: crdtype::replica::Store>(
    store: D,
    wall: &ManualClock,
    policy: HistoryPolicy,
) -> Device<D> {
    let (log, _) = OpLog::create(&key(1), [7; 16], clock(1, wall));
    let mut alice = Replica::open_with(store, key(1), log, policy).unwrap().0;
    alice
        .admit(ReplicaId::new(2), key(2).verifying_key())
        .unwrap();
    alice
}

/// Two replicas that shared the document, then each made `DIVERGED` edits alone.
fn diverged(policy: HistoryPolicy) -> (Device, Device) {
    let wall = ManualClock::new(1_000_000);
    let mut alice = alice(MemoryStore::new(), &wall, policy);
    let log = OpLog::open(alice.log().document(), clock(2, &wall));
    let mut bob = Replica::open_with(MemoryStore::new(), key(2), log, policy)
        .unwrap()
        .0;
    sync(&mut alice, &mut bob);
    for round in 0..DIVERGED {
        wall.advance(1);
        alice
            .edit(|event| event.title = format!("a{round}"))
            .unwrap();
        bob.edit(|event| event.utc_time += 1).unwrap();
    }
    (alice, bob)
}

/// One whole session in memory; both sides' stats and the number of flights.
fn sync(a: &mut Device, b: &mut Device) -> (SyncStats, SyncStats, usize) {
    let report = crdtype::replica::sync::sync(a, b).unwrap();
    (report.a, report.b, report.flights)
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn sync_after_a_partition_of_10_000_operations_each(bencher: Bencher<'_, '_>) {
    let (alice, bob) = diverged(NO_SNAPSHOTS);
    bencher
        .with_inputs(|| (clone(&alice), clone(&bob)))
        .bench_local_values(|(mut alice, mut bob)| {
            sync(&mut alice, &mut bob);
            (alice, bob)
        });
}

/// A copy of a replica on memory, restored from its store.
fn clone(device: &Device) -> Device {
    let log = OpLog::open(device.log().document(), device.log().clock().clone());
    let seed = device.id().get() as u8;
    Replica::open_with(device.store().clone(), key(seed), log, device.policy())
        .unwrap()
        .0
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn open_sqlite_with_a_snapshot_and_10_000_later_operations(bencher: Bencher<'_, '_>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("recover.sqlite");
    let wall = ManualClock::new(1_000_000);
    let mut alice = alice(SqliteStore::open(&path).unwrap(), &wall, NO_SNAPSHOTS);
    for round in 0..1_000 {
        alice
            .edit(|event| event.title = format!("{round}"))
            .unwrap();
    }
    alice.snapshot().unwrap();
    for round in 0..DIVERGED as i64 {
        alice.edit(|event| event.utc_time = round).unwrap();
    }
    let document = alice.log().document();
    drop(alice);
    bencher.bench_local(|| {
        let log = OpLog::open(document, clock(1, &wall));
        let store = SqliteStore::open(&path).unwrap();
        let (alice, recovery) =
            Replica::<CalendarEvent, _, _>::open_with(store, key(1), log, NO_SNAPSHOTS).unwrap();
        assert!(recovery.from_snapshot);
        alice
    });
}

#[divan::bench(sample_count = 200)]
fn local_edit_durable_in_sqlite(bencher: Bencher<'_, '_>) {
    let dir = tempfile::tempdir().unwrap();
    let wall = ManualClock::new(1_000_000);
    let store = SqliteStore::open(dir.path().join("a.sqlite")).unwrap();
    let mut alice = alice(store, &wall, HistoryPolicy::default());
    let mut round = 0;
    bencher.bench_local(|| {
        round += 1;
        alice.edit(|event| event.utc_time = round).unwrap()
    });
}

#[divan::bench(sample_count = 200)]
fn bare_sqlite_insert_and_commit_of_the_same_bytes(bencher: Bencher<'_, '_>) {
    let dir = tempfile::tempdir().unwrap();
    let wall = ManualClock::new(1_000_000);
    let mut alice = alice(MemoryStore::new(), &wall, NO_SNAPSHOTS);
    let op = alice.edit(|event| event.utc_time = 1).unwrap().unwrap();
    let mut connection = rusqlite::Connection::open(dir.path().join("bare.sqlite")).unwrap();
    connection
        .pragma_update(None, "journal_mode", "WAL")
        .unwrap();
    connection
        .pragma_update(None, "synchronous", "FULL")
        .unwrap();
    connection
        .execute(
            "CREATE TABLE ops (position INTEGER PRIMARY KEY, bytes BLOB NOT NULL)",
            [],
        )
        .unwrap();
    bencher.bench_local(|| {
        let transaction = connection.transaction().unwrap();
        transaction
            .prepare_cached("INSERT INTO ops (bytes) VALUES (?1)")
            .unwrap()
            .execute([&op])
            .unwrap();
        transaction.commit().unwrap();
    });
}
