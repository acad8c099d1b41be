//! The durable default store: one SQLite file per replica, bundled SQLite.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::store::{Checkpoint, Loaded, Record, Store, StoreError, StoredEvidence, StoredRecord};
use crate::HighWaterMark;

/// The layout this version writes, as SQLite's `user_version`.
const FORMAT: i64 = 3;

/// The table of evidence, which format 3 added.
const EVIDENCE_TABLE: &str = "CREATE TABLE crdtype_evidence (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    kept BLOB NOT NULL,
    kept_checksum BLOB NOT NULL,
    refused BLOB NOT NULL,
    refused_checksum BLOB NOT NULL
);";

/// A [`Store`] in an SQLite database: write-ahead log, full synchronous commits, so an
/// append is on disk when it returns.
#[derive(Debug)]
pub struct SqliteStore {
    connection: Connection,
}

impl SqliteStore {
    /// Opens (creating if need be) the database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::setup(Connection::open(path)?)
    }

    /// A database in memory: SQLite's code paths without a file.
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::setup(Connection::open_in_memory()?)
    }

    fn setup(mut connection: Connection) -> Result<Self, StoreError> {
        // WAL with FULL sync: a commit returns once its log frames are on disk.
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        // The format is read and brought up to date under a write lock, so that two
        // processes opening an old file at once migrate it once.
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let format: i64 = transaction.pragma_query_value(None, "user_version", |row| row.get(0))?;
        let migration = match format {
            0 => format!(
                "CREATE TABLE crdtype_ops (
                     position INTEGER PRIMARY KEY AUTOINCREMENT,
                     bytes BLOB NOT NULL,
                     checksum BLOB NOT NULL
                 );
                 CREATE TABLE crdtype_snapshot (
                     id INTEGER PRIMARY KEY CHECK (id = 0),
                     covers INTEGER NOT NULL,
                     bytes BLOB NOT NULL,
                     checksum BLOB NOT NULL
                 );
                 CREATE TABLE crdtype_clock (
                     id INTEGER PRIMARY KEY CHECK (id = 0),
                     wall_micros INTEGER NOT NULL,
                     logical INTEGER NOT NULL,
                     own_seq INTEGER NOT NULL
                 );
                 {EVIDENCE_TABLE}"
            ),
            // Format 1 had no own sequence number in the clock's row, and perhaps no
            // snapshot table; format 2, no evidence.
            1 => format!(
                "CREATE TABLE IF NOT EXISTS crdtype_snapshot (
                     id INTEGER PRIMARY KEY CHECK (id = 0),
                     covers INTEGER NOT NULL,
                     bytes BLOB NOT NULL,
                     checksum BLOB NOT NULL
                 );
                 ALTER TABLE crdtype_clock ADD COLUMN own_seq INTEGER NOT NULL DEFAULT 0;
                 {EVIDENCE_TABLE}"
            ),
            2 => EVIDENCE_TABLE.to_owned(),
            FORMAT => String::new(),
            _ => return Err(StoreError::Invalid("a database of another crdtype format")),
        };
        if format != FORMAT {
            transaction.execute_batch(&migration)?;
            transaction.pragma_update(None, "user_version", FORMAT)?;
        }
        transaction.commit()?;
        Ok(Self { connection })
    }

    /// The underlying connection, to inspect the database in tests and tools.
    pub fn connection(&self) -> &Connection {
        &self.connection
    }
}

impl Store for SqliteStore {
    fn load(&mut self) -> Result<Loaded, StoreError> {
        let checkpoint = self
            .connection
            .query_row(
                "SELECT wall_micros, logical, own_seq FROM crdtype_clock WHERE id = 0",
                [],
                |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, i64>(1)?,
                        row.get::<_, i64>(2)?,
                    ))
                },
            )
            .optional()?
            .map(|(wall, logical, own_seq)| Checkpoint {
                mark: HighWaterMark {
                    // Stored bit for bit as SQLite's signed integers.
                    wall_micros: wall as u64,
                    logical: u32::try_from(logical).unwrap_or(u32::MAX),
                },
                own_seq: own_seq as u64,
            })
            .unwrap_or_default();
        let snapshot = self
            .connection
            .query_row(
                "SELECT covers, bytes, checksum FROM crdtype_snapshot WHERE id = 0",
                [],
                |row| {
                    Ok(StoredRecord {
                        position: row.get::<_, i64>(0)? as u64,
                        bytes: row.get(1)?,
                        checksum: row.get(2)?,
                    })
                },
            )
            .optional()?;
        let mut select = self
            .connection
            .prepare("SELECT position, bytes, checksum FROM crdtype_ops ORDER BY position")?;
        let records = select
            .query_map([], |row| {
                Ok(StoredRecord {
                    position: row.get::<_, i64>(0)? as u64,
                    bytes: row.get(1)?,
                    checksum: row.get(2)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut select = self.connection.prepare(
            "SELECT position, kept, kept_checksum, refused, refused_checksum
             FROM crdtype_evidence ORDER BY position",
        )?;
        let evidence = select
            .query_map([], |row| {
                let position = row.get::<_, i64>(0)? as u64;
                Ok(StoredEvidence {
                    kept: StoredRecord {
                        position,
                        bytes: row.get(1)?,
                        checksum: row.get(2)?,
                    },
                    refused: StoredRecord {
                        position,
                        bytes: row.get(3)?,
                        checksum: row.get(4)?,
                    },
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Loaded {
            checkpoint,
            snapshot,
            records,
            evidence,
        })
    }

    fn append(&mut self, records: &[Record<'_>], checkpoint: Checkpoint) -> Result<(), StoreError> {
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut insert = transaction
                .prepare_cached("INSERT INTO crdtype_ops (bytes, checksum) VALUES (?1, ?2)")?;
            for record in records {
                insert.execute(params![record.bytes, &record.checksum[..]])?;
            }
        }
        transaction.execute(
            "INSERT INTO crdtype_clock (id, wall_micros, logical, own_seq) VALUES (0, ?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE SET wall_micros = ?1, logical = ?2, own_seq = ?3",
            params![
                checkpoint.mark.wall_micros as i64,
                i64::from(checkpoint.mark.logical),
                checkpoint.own_seq as i64
            ],
        )?;
        transaction.commit()?;
        Ok(())
    }

    fn remove(&mut self, positions: &[u64]) -> Result<(), StoreError> {
        let transaction = self.connection.transaction()?;
        {
            let mut delete =
                transaction.prepare_cached("DELETE FROM crdtype_ops WHERE position = ?1")?;
            for position in positions {
                delete.execute([*position as i64])?;
            }
        }
        transaction.commit()?;
        Ok(())
    }

    fn put_snapshot(&mut self, snapshot: Record<'_>, prune: bool) -> Result<(), StoreError> {
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let covers: i64 = transaction.query_row(
            "SELECT coalesce(max(position), 0) FROM crdtype_ops",
            [],
            |row| row.get(0),
        )?;
        transaction.execute(
            "INSERT INTO crdtype_snapshot (id, covers, bytes, checksum) VALUES (0, ?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE SET covers = ?1, bytes = ?2, checksum = ?3",
            params![covers, snapshot.bytes, &snapshot.checksum[..]],
        )?;
        if prune {
            transaction.execute("DELETE FROM crdtype_ops WHERE position <= ?1", [covers])?;
        }
        transaction.commit()?;
        Ok(())
    }

    fn put_evidence(&mut self, kept: Record<'_>, refused: Record<'_>) -> Result<(), StoreError> {
        self.connection.execute(
            "INSERT INTO crdtype_evidence (kept, kept_checksum, refused, refused_checksum)
             VALUES (?1, ?2, ?3, ?4)",
            params![
                kept.bytes,
                &kept.checksum[..],
                refused.bytes,
                &refused.checksum[..]
            ],
        )?;
        Ok(())
    }
}
