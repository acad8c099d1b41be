//! Where a replica keeps its history: the [`Store`] trait and the in-memory store.

use crate::HighWaterMark;

/// Durable storage of one replica of one document: the operations it applied, in the order
/// it applied them, its latest snapshot, its clock's high-water mark, and the evidence of
/// the equivocations it saw.
///
/// An implementation must make every [`append`](Self::append) atomic and durable before
/// it returns: a replica acknowledges a local edit only after that, and sends on only
/// operations it stored, so that a crash never makes it reuse an operation number.
pub trait Store {
    /// Everything stored, records in the order they were appended.
    fn load(&mut self) -> Result<Loaded, StoreError>;

    /// Appends `records` and sets the checkpoint, all in one transaction, committed when
    /// this returns.
    fn append(&mut self, records: &[Record<'_>], checkpoint: Checkpoint) -> Result<(), StoreError>;

    /// Deletes the records at `positions` (as [`load`](Self::load) numbered them): those
    /// found corrupt when a replica was restored.
    fn remove(&mut self, positions: &[u64]) -> Result<(), StoreError>;

    /// Replaces the snapshot with `snapshot`, which covers every record appended so far;
    /// with `prune`, deletes those records, in the same transaction. Positions of later
    /// records stay greater than those of every record ever appended.
    fn put_snapshot(&mut self, snapshot: Record<'_>, prune: bool) -> Result<(), StoreError>;

    /// Adds the evidence of an equivocation: the operation kept and the one refused
    /// (see [`Equivocation`](crate::ops::Equivocation)), committed when this returns.
    fn put_evidence(&mut self, kept: Record<'_>, refused: Record<'_>) -> Result<(), StoreError>;
}

/// What a replica stores with every append, besides operations: what it must never issue
/// again after a restart.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Checkpoint {
    /// The clock's high-water mark.
    pub mark: HighWaterMark,
    /// The number of this replica's own last operation. A restart that restores fewer (a
    /// corrupt record) refuses edits until a peer sends the missing ones back, rather than
    /// number a different operation the same.
    pub own_seq: u64,
}

/// An operation to store, with the checksum that lets a load tell a corrupt record.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    /// The operation's bytes, as signed.
    pub bytes: &'a [u8],
    /// BLAKE3 of the bytes.
    pub checksum: [u8; 32],
}

impl<'a> Record<'a> {
    /// A record of `bytes`, checksummed.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            checksum: *blake3::hash(bytes).as_bytes(),
        }
    }
}

/// A record as loaded back.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct StoredRecord {
    /// Its position in the store: increasing in the order of appends.
    pub position: u64,
    /// The operation's bytes.
    pub bytes: Vec<u8>,
    /// The checksum stored with them.
    pub checksum: Vec<u8>,
}

impl StoredRecord {
    /// Whether the bytes are the ones that were appended (their checksum matches): a torn
    /// or corrupt record is not.
    pub fn is_intact(&self) -> bool {
        blake3::hash(&self.bytes).as_bytes()[..] == self.checksum[..]
    }
}

/// What a store holds.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Loaded {
    /// The checkpoint as last appended.
    pub checkpoint: Checkpoint,
    /// The latest snapshot, its position that of the last record it covers.
    pub snapshot: Option<StoredRecord>,
    /// The records still stored, in the order appended: those after the snapshot, and
    /// those it covers unless they were pruned.
    pub records: Vec<StoredRecord>,
    /// The evidence of equivocations, in the order added.
    pub evidence: Vec<StoredEvidence>,
}

/// The evidence of an equivocation as loaded back: the two operations, each with the
/// position of the evidence and its own checksum.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct StoredEvidence {
    /// The operation kept (empty if compaction had dropped its bytes).
    pub kept: StoredRecord,
    /// The operation refused.
    pub refused: StoredRecord,
}

/// A store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite failed.
    #[cfg(feature = "sqlite")]
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The stored data is not what this version of crdtype writes.
    #[error("the store is not valid: {0}")]
    Invalid(&'static str),
}

/// A store in memory, for tests: "durable" for as long as the value lives. Take it back
/// from a replica with [`Replica::into_store`](super::Replica::into_store) to restart one.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    loaded: Loaded,
    /// The position of the last record appended; the first is 1.
    last_position: u64,
}

/// `record` as a stored one at `position`.
fn stored(position: u64, record: Record<'_>) -> StoredRecord {
    StoredRecord {
        position,
        bytes: record.bytes.to_vec(),
        checksum: record.checksum.to_vec(),
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// What the store holds, to inspect or to damage in a test.
    pub fn loaded_mut(&mut self) -> &mut Loaded {
        &mut self.loaded
    }
}

impl Store for MemoryStore {
    fn load(&mut self) -> Result<Loaded, StoreError> {
        Ok(self.loaded.clone())
    }

    fn append(&mut self, records: &[Record<'_>], checkpoint: Checkpoint) -> Result<(), StoreError> {
        for record in records {
            self.last_position += 1;
            self.loaded
                .records
                .push(stored(self.last_position, *record));
        }
        self.loaded.checkpoint = checkpoint;
        Ok(())
    }

    fn remove(&mut self, positions: &[u64]) -> Result<(), StoreError> {
        self.loaded
            .records
            .retain(|record| !positions.contains(&record.position));
        Ok(())
    }

    fn put_snapshot(&mut self, snapshot: Record<'_>, prune: bool) -> Result<(), StoreError> {
        self.loaded.snapshot = Some(stored(self.last_position, snapshot));
        if prune {
            self.loaded.records.clear();
        }
        Ok(())
    }

    fn put_evidence(&mut self, kept: Record<'_>, refused: Record<'_>) -> Result<(), StoreError> {
        let position = self.loaded.evidence.len() as u64 + 1;
        self.loaded.evidence.push(StoredEvidence {
            kept: stored(position, kept),
            refused: stored(position, refused),
        });
        Ok(())
    }
}
