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
pub use store::{Loaded, MemoryStore, Record, Store, StoreError, StoredRecord};

use crate::ops::{OpLog, ReceiveError, Received, SigningKey, VerifyingKey};
use crate::{CausalContext, CausalDotStore, Crdt, ReplicaId, SystemClock, Timestamp, WallClock};

/// A replica failed: an operation was refused, or the store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplicaError {
    /// The operation was refused; nothing changed.
    #[error(transparent)]
    Receive(#[from] ReceiveError),
    /// The store failed. What the replica applied in memory is appended again with the
    /// next operation, and is not sent to peers before it is stored.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// A new document's log, opened on a store that already holds operations.
    #[error("the store already holds a history: open it with an empty log of its document")]
    NotEmpty,
}

/// What opening a replica found in its store.
#[derive(Debug, Default)]
pub struct Recovery {
    /// Operations restored (applied again).
    pub restored: usize,
    /// Records whose checksum failed (torn or corrupt): deleted from the store, never
    /// applied.
    pub corrupt: Vec<u64>,
    /// Records intact but refused by the log, by position, with why; they stay stored.
    pub refused: Vec<(u64, ReceiveError)>,
}

/// One document on one device: its typed state, clock, signing key and history, durable
/// in `D` (an [`SqliteStore`], or a [`MemoryStore`] in tests).
pub struct Replica<T: Crdt, D = MemoryStore, W = SystemClock> {
    log: OpLog<T::Store, W>,
    key: SigningKey,
    store: D,
    /// How many of the log's operations, in its order, are stored: only those are sent on.
    persisted: usize,
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
        mut store: D,
        key: SigningKey,
        mut log: OpLog<T::Store, W>,
    ) -> Result<(Self, Recovery), ReplicaError> {
        let loaded = store.load()?;
        let mut recovery = Recovery::default();
        let new_document = !log.is_empty();
        if new_document {
            if !loaded.records.is_empty() {
                return Err(ReplicaError::NotEmpty);
            }
        } else {
            log.raise_clock(loaded.mark);
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
        }
        let persisted = if new_document { 0 } else { log.len() };
        let mut replica = Self {
            log,
            key,
            store,
            persisted,
        };
        replica.persist()?;
        Ok((replica, recovery))
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
        let op = self.log.edit(&self.key, update)?;
        self.persist()?;
        Ok(op)
    }

    /// Admits the device `replica` with `key` to the document; returns the operation.
    pub fn admit(
        &mut self,
        replica: ReplicaId,
        key: VerifyingKey,
    ) -> Result<Vec<u8>, ReplicaError> {
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

    /// Appends to the store the operations applied since the last append.
    fn persist(&mut self) -> Result<(), ReplicaError> {
        if self.persisted == self.log.len() {
            return Ok(());
        }
        let records: Vec<Record<'_>> = self
            .log
            .history(self.persisted)
            .map(|(_, bytes)| Record::new(bytes))
            .collect();
        self.store
            .append(&records, self.log.clock().high_water_mark())?;
        self.persisted = self.log.len();
        Ok(())
    }
}
