//! Replicas: one document on one device, its state, clock, key and history, durable in a
//! [`Store`] and kept in step with other replicas by [`sync`].
//!
//! A [`Replica`] wraps an [`OpLog`]: local edits become signed operations, and remote
//! bytes go through its receive pipeline. Every operation the log applies is appended to
//! the store, with the clock's high-water mark, before the call that applied it returns,
//! so an acknowledged edit survives a crash, and a restarted replica reuses neither a
//! timestamp nor an operation number. Opening a replica on a store restores what it holds.
//!
//! ```
//! use crdtype::ops::{OpLog, SigningKey};
//! use crdtype::replica::{MemoryStore, Replica};
//! use crdtype::{Crdt, HybridClock, ReplicaId};
//!
//! #[derive(Crdt, Debug, Clone, PartialEq, Default)]
//! struct Note {
//!     text: String,
//! }
//!
//! let key = SigningKey::from_bytes(&[7; 32]);
//! let (log, _genesis) = OpLog::create(&key, [1; 16], HybridClock::new(ReplicaId::new(1)));
//! let document = log.document();
//! let (mut replica, _) = Replica::<Note>::open(MemoryStore::new(), key.clone(), log)?;
//! let op = replica.edit(|note| note.text = "Buy milk".to_owned())?;
//! assert!(op.is_some());
//!
//! // Restart: the store holds everything.
//! let store = replica.into_store();
//! let fresh = OpLog::open(document, HybridClock::new(ReplicaId::new(1)));
//! let (replica, recovery) = Replica::<Note>::open(store, key, fresh)?;
//! assert_eq!(replica.read().text, "Buy milk");
//! assert_eq!(recovery.restored, 2);
//! # Ok::<(), crdtype::replica::ReplicaError>(())
//! ```

mod message;
#[cfg(feature = "sqlite")]
mod sqlite;
mod store;
pub mod sync;

#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;
pub use store::{
    Checkpoint, Loaded, MemoryStore, Record, Store, StoreError, StoredEvidence, StoredRecord,
};

use crate::ops::{OpLog, ReceiveError, Received, SigningKey, VerifyingKey};
use crate::{CausalContext, CausalDotStore, Crdt, ReplicaId, SystemClock, Timestamp, WallClock};

/// A replica failed: an operation was refused, or the store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplicaError {
    /// The operation (or snapshot) was refused; nothing changed.
    #[error(transparent)]
    Receive(#[from] ReceiveError),
    /// The store failed. What the replica applied in memory is stored with its next
    /// successful store (a snapshot first, if one was due), and is not sent to peers
    /// before; an edit that returns this error was not acknowledged.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// A restart restored fewer of this replica's own operations than it had stored (a
    /// corrupt record was dropped): it edits again once a peer sends them back, so that it
    /// never numbers two different operations the same.
    #[error(
        "this replica's own operations up to {stored} were stored, only {restored} restored: sync first"
    )]
    OwnOperationsMissing {
        /// The number of its last operation stored.
        stored: u64,
        /// The number of its last operation restored.
        restored: u64,
    },
    /// A new document's log, opened on a store that already holds operations.
    #[error("the store already holds a history: open it with an empty log of its document")]
    NotEmpty,
    /// A replica in compliance mode was sent a snapshot: adopting it would leave the
    /// operations it covers out of the history, which must hold them all.
    #[error("compliance mode keeps every operation, so it cannot adopt a peer's snapshot")]
    SnapshotInComplianceMode,
}

/// When a replica takes snapshots, and whether it keeps the operations they cover.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct HistoryPolicy {
    /// A snapshot is taken once this many operations were applied since the last one
    /// (0: never). Default 1,000.
    pub snapshot_every: usize,
    /// Compliance mode: every signed operation is kept forever, in the store and in
    /// memory, and [`Replica::verify_history`] re-derives the state from the first one.
    /// Off by default: operations a snapshot covers are pruned (compaction), the heads
    /// and the ids and hashes of all operations kept so that the DAG still links.
    pub keep_history: bool,
}

impl Default for HistoryPolicy {
    fn default() -> Self {
        Self {
            snapshot_every: 1_000,
            keep_history: false,
        }
    }
}

impl HistoryPolicy {
    /// Compliance mode: snapshots for fast restarts, and every operation kept.
    pub fn compliance() -> Self {
        Self {
            keep_history: true,
            ..Self::default()
        }
    }
}

/// A history verification failed: the stored history does not re-derive the state.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    /// The replica compacts its history: only compliance mode keeps it to verify.
    #[error("this replica compacts its history: only compliance mode keeps it to verify")]
    NotKept,
    /// The store failed.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// A stored record's checksum does not match its bytes.
    #[error("the record at position {0} is corrupt")]
    Corrupt(u64),
    /// A stored operation was refused: a bad signature, a broken hash, a wrong payload.
    #[error("the operation at position {position} is refused: {error}")]
    Refused {
        /// Its position in the store.
        position: u64,
        /// Why.
        error: ReceiveError,
    },
    /// Stored operations whose parents are missing from the history.
    #[error("{0} stored operations link to parents missing from the history")]
    Unlinked(usize),
    /// The history re-derives another state or other heads than the replica's.
    #[error("the history re-derives another state than the replica's")]
    Diverged,
}

/// What opening a replica found in its store.
#[derive(Debug, Default)]
pub struct Recovery {
    /// Operations restored (applied again, or covered by the snapshot restored).
    pub restored: usize,
    /// Whether a snapshot was restored.
    pub from_snapshot: bool,
    /// The snapshot's checksum failed: it was not restored, and what it covered is
    /// missing until a peer sends it.
    pub corrupt_snapshot: bool,
    /// Records whose checksum failed (torn or corrupt): deleted from the store, never
    /// applied.
    pub corrupt: Vec<u64>,
    /// Records intact but refused by the log, by position, with why; they stay stored
    /// until a snapshot prunes the records before it.
    pub refused: Vec<(u64, ReceiveError)>,
    /// Evidence of equivocations restored.
    pub evidence: usize,
    /// Evidence not restored, by position: a checksum failed; or the two operations do
    /// not prove an equivocation against an operation this replica holds; or their device
    /// has a proof already.
    pub evidence_refused: Vec<u64>,
}

/// One document on one device: its typed state, clock, signing key and history, durable
/// in `D` (an [`SqliteStore`], or a [`MemoryStore`] in tests).
pub struct Replica<T: Crdt, D = MemoryStore, W = SystemClock> {
    log: OpLog<T::Store, W>,
    key: SigningKey,
    store: D,
    /// How many of the log's operations, in its order, are stored: only those are sent on.
    persisted: usize,
    policy: HistoryPolicy,
    /// How many operations the last snapshot covered.
    snapshot_covers: usize,
    /// A snapshot must be stored before anything else: one was adopted from a peer, and
    /// the operations it covered are nowhere in the store yet.
    snapshot_due: bool,
    /// The peer's snapshot last adopted, stored as is while this device cannot sign one.
    adopted: Option<Vec<u8>>,
    /// The number of this replica's own last operation stored, as the store said.
    own_seq_stored: u64,
    /// How many of the log's pieces of evidence are stored.
    evidence_stored: usize,
}

impl<T: Crdt, D, W> std::fmt::Debug for Replica<T, D, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replica")
            .field("log", &self.log)
            .field("persisted", &self.persisted)
            .finish_non_exhaustive()
    }
}

impl<T: Crdt, D: Store, W: WallClock> Replica<T, D, W> {
    /// A replica of `log`'s document signing with `key`, on `store`.
    ///
    /// With a new document's log (from [`OpLog::create`]) the store must be empty, and
    /// the genesis is stored. With an empty log (from [`OpLog::open`]) the store's records
    /// are restored into it, in order, and its clock restarts past the stored high-water
    /// mark: the returned [`Recovery`] says what was restored. A corrupt record is deleted
    /// and reported; the records after it still restore, or wait for what it held.
    pub fn open(
        store: D,
        key: SigningKey,
        log: OpLog<T::Store, W>,
    ) -> Result<(Self, Recovery), ReplicaError> {
        Self::open_with(store, key, log, HistoryPolicy::default())
    }

    /// [`open`](Self::open) with another [`HistoryPolicy`]. The snapshot, if the store
    /// has one, is restored first, then the records still stored (in compliance mode,
    /// all of them, whose bytes the log holds again).
    pub fn open_with(
        mut store: D,
        key: SigningKey,
        mut log: OpLog<T::Store, W>,
        policy: HistoryPolicy,
    ) -> Result<(Self, Recovery), ReplicaError> {
        let loaded = store.load()?;
        let mut recovery = Recovery::default();
        let new_document = !log.is_empty();
        if new_document {
            if !loaded.records.is_empty() || loaded.snapshot.is_some() {
                return Err(ReplicaError::NotEmpty);
            }
        } else {
            log.raise_clock(loaded.checkpoint.mark);
            if let Some(snapshot) = &loaded.snapshot {
                if snapshot.is_intact() {
                    log.restore_snapshot(&snapshot.bytes)?;
                    recovery.from_snapshot = true;
                } else {
                    recovery.corrupt_snapshot = true;
                }
            }
            for record in loaded.records {
                if !record.is_intact() {
                    recovery.corrupt.push(record.position);
                    continue;
                }
                match log.restore(&record.bytes) {
                    Ok(_) => {}
                    Err(ReceiveError::WrongDocument { expected, found }) => {
                        return Err(ReceiveError::WrongDocument { expected, found }.into());
                    }
                    Err(error) => recovery.refused.push((record.position, error)),
                }
            }
            recovery.restored = log.len();
            store.remove(&recovery.corrupt)?;
            for evidence in loaded.evidence {
                let intact = evidence.kept.is_intact() && evidence.refused.is_intact();
                let position = evidence.refused.position;
                if intact && log.restore_evidence(evidence.kept.bytes, evidence.refused.bytes) {
                    recovery.evidence += 1;
                } else {
                    recovery.evidence_refused.push(position);
                }
            }
        }
        let persisted = if new_document { 0 } else { log.len() };
        let log_evidence = log.evidence().len();
        let snapshot_covers = if recovery.from_snapshot { log.len() } else { 0 };
        let mut replica = Self {
            log,
            key,
            store,
            persisted,
            policy,
            snapshot_covers,
            snapshot_due: false,
            adopted: None,
            own_seq_stored: loaded.checkpoint.own_seq,
            // All the log holds is stored: restored, or, for a new document, none.
            evidence_stored: log_evidence,
        };
        replica.persist()?;
        Ok((replica, recovery))
    }

    /// The history policy.
    pub fn policy(&self) -> HistoryPolicy {
        self.policy
    }

    /// The document's verified history and state.
    pub fn log(&self) -> &OpLog<T::Store, W> {
        &self.log
    }

    /// The typed state.
    pub fn state(&self) -> &CausalDotStore<T::Store> {
        self.log.state()
    }

    /// The plain value of the state.
    pub fn read(&self) -> T {
        T::read(&self.log.state().store)
    }

    /// This replica's id.
    pub fn id(&self) -> ReplicaId {
        self.log.clock().replica()
    }

    /// The store.
    pub fn store(&self) -> &D {
        &self.store
    }

    /// The store back, to open another replica on it (a restart, in tests).
    pub fn into_store(self) -> D {
        self.store
    }

    /// Edits the plain value: `edit` changes it, and the fields it changed become one
    /// signed operation, stored before this returns. Returns the operation's bytes, to
    /// send to the other replicas, or `None` when nothing changed.
    pub fn edit(&mut self, edit: impl FnOnce(&mut T)) -> Result<Option<Vec<u8>>, ReplicaError>
    where
        T: Clone,
    {
        self.update(|store, context, stamp| {
            let old = T::read(store);
            let mut new = old.clone();
            edit(&mut new);
            T::write_changes(store, context, stamp, Some(&old), &new)
        })
    }

    /// Edits the typed state with its mutators: `update` gets the store, the context and
    /// a fresh stamp and returns the delta, which becomes one signed operation, stored
    /// before this returns. Returns its bytes, or `None` for an empty delta.
    pub fn update(
        &mut self,
        update: impl FnOnce(&mut T::Store, &mut CausalContext, Timestamp) -> CausalDotStore<T::Store>,
    ) -> Result<Option<Vec<u8>>, ReplicaError> {
        self.own_history_restored()?;
        let op = self.log.edit(&self.key, update)?;
        self.persist()?;
        Ok(op)
    }

    /// The number of this replica's own last operation applied.
    fn own_seq(&self) -> u64 {
        self.log
            .version_vector()
            .get(&self.id())
            .copied()
            .unwrap_or(0)
    }

    /// Refuses to issue an operation while some of this replica's own stored ones are
    /// missing (see [`ReplicaError::OwnOperationsMissing`]).
    fn own_history_restored(&self) -> Result<(), ReplicaError> {
        let restored = self.own_seq();
        if restored < self.own_seq_stored {
            return Err(ReplicaError::OwnOperationsMissing {
                stored: self.own_seq_stored,
                restored,
            });
        }
        Ok(())
    }

    /// Admits the device `replica` with `key` to the document; returns the operation.
    pub fn admit(
        &mut self,
        replica: ReplicaId,
        key: VerifyingKey,
    ) -> Result<Vec<u8>, ReplicaError> {
        self.own_history_restored()?;
        let op = self.log.admit(&self.key, replica, key)?;
        self.persist()?;
        Ok(op)
    }

    /// Receives one operation through the log's pipeline; what it applied (itself and
    /// any operations it released) is stored before this returns.
    pub fn receive(&mut self, bytes: &[u8]) -> Result<Received, ReplicaError> {
        let received = self.log.receive(bytes);
        self.persist()?;
        Ok(received?)
    }

    /// Receives operations each on its own (signatures verified together), and stores
    /// what they applied in one transaction.
    pub fn receive_each(
        &mut self,
        ops: &[&[u8]],
    ) -> Result<Vec<Result<Received, ReceiveError>>, ReplicaError> {
        let received = self.log.receive_each(ops);
        self.persist()?;
        Ok(received)
    }

    /// Adopts a peer's snapshot (see [`OpLog::receive_snapshot`]), and stores a snapshot
    /// that covers it before anything else is stored. Refused in compliance mode.
    pub fn receive_snapshot(&mut self, bytes: &[u8]) -> Result<usize, ReplicaError> {
        if self.policy.keep_history {
            return Err(ReplicaError::SnapshotInComplianceMode);
        }
        let adopted = self.log.receive_snapshot(bytes)?;
        if adopted > 0 {
            self.snapshot_due = true;
            self.adopted = Some(bytes.to_vec());
            self.persist()?;
        }
        Ok(adopted)
    }

    /// Takes a snapshot now and stores it; unless the policy keeps the history, the
    /// operations it covers are pruned from the store and their bytes from memory. A
    /// replica whose own device is not admitted (yet) cannot sign one: it does nothing.
    pub fn snapshot(&mut self) -> Result<(), ReplicaError> {
        self.persist()?;
        self.persist_snapshot()
    }

    /// Whether this replica's own key is admitted, so that it can sign.
    fn admitted(&self) -> bool {
        self.log.devices().get(&self.id()) == Some(&self.key.verifying_key())
    }

    /// Stores a snapshot of everything applied, pruning what it covers unless the policy
    /// keeps the history. While this device is not admitted (so cannot sign), a due
    /// snapshot is the peer's it adopted, stored as is and pruning nothing, since it may
    /// not cover everything this replica stored.
    fn persist_snapshot(&mut self) -> Result<(), ReplicaError> {
        if self.admitted() {
            let snapshot = self.log.snapshot(&self.key)?;
            let prune = !self.policy.keep_history;
            self.store.put_snapshot(Record::new(&snapshot), prune)?;
            if prune {
                self.log.compact();
            }
            // It holds everything applied: nothing older is left to append.
            self.persisted = self.log.len();
        } else if let Some(adopted) = self.adopted.as_ref().filter(|_| self.snapshot_due) {
            self.store.put_snapshot(Record::new(adopted), false)?;
        } else {
            return Ok(());
        }
        self.snapshot_due = false;
        self.adopted = None;
        self.snapshot_covers = self.log.len();
        Ok(())
    }

    /// Compliance mode: re-verifies the whole stored history from its first operation,
    /// every signature, every hash link and every state transition, and compares the state
    /// and heads it derives with this replica's.
    pub fn verify_history(&mut self) -> Result<usize, HistoryError> {
        if !self.policy.keep_history {
            return Err(HistoryError::NotKept);
        }
        let loaded = self.store.load()?;
        let mut replay = self.log.empty_like();
        for record in &loaded.records {
            if !record.is_intact() {
                return Err(HistoryError::Corrupt(record.position));
            }
            replay
                .replay(&record.bytes)
                .map_err(|error| HistoryError::Refused {
                    position: record.position,
                    error,
                })?;
        }
        if replay.waiting() > 0 {
            return Err(HistoryError::Unlinked(replay.waiting()));
        }
        if replay.state() != self.log.state() || replay.heads() != self.log.heads() {
            return Err(HistoryError::Diverged);
        }
        Ok(replay.len())
    }

    /// Stores what was applied since the last store: new evidence of equivocations; a
    /// snapshot first if one adopted from a peer is due, then the operations, then a
    /// snapshot if the policy says it is time.
    fn persist(&mut self) -> Result<(), ReplicaError> {
        // Evidence first: a refused operation changes nothing else.
        let new_evidence = self.log.evidence().get(self.evidence_stored..);
        for evidence in new_evidence.unwrap_or_default() {
            self.store
                .put_evidence(Record::new(&evidence.kept), Record::new(&evidence.refused))?;
            self.evidence_stored += 1;
        }
        if self.snapshot_due {
            // Before any record whose parents only it holds.
            self.persist_snapshot()?;
        }
        if self.persisted == self.log.len() {
            return Ok(());
        }
        let records: Vec<Record<'_>> = self
            .log
            .history(self.persisted)
            .map(|(_, bytes)| Record::new(bytes))
            .collect();
        let checkpoint = Checkpoint {
            mark: self.log.clock().high_water_mark(),
            own_seq: self.own_seq().max(self.own_seq_stored),
        };
        self.store.append(&records, checkpoint)?;
        self.persisted = self.log.len();
        let every = self.policy.snapshot_every;
        if every > 0 && self.log.len() - self.snapshot_covers >= every {
            self.persist_snapshot()?;
        }
        Ok(())
    }
}
