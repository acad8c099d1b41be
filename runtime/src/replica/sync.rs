//! The sync protocol: two replicas of a document exchange messages (bytes in, bytes out,
//! over any transport) until each has every operation the other had.
//!
//! The side that starts sends its version vector (per device, the number of its last
//! operation applied: a device's operations apply in order, so the vector names them
//! all). The other answers with its own vector and, streamed in messages of at most
//! [`SyncLimits::chunk_bytes`] of operations, everything the starter lacks, in the order
//! it applied them, so that they apply on arrival; the last message says it is done. On
//! the first of those messages the starter streams back what the other lacks. So a
//! session takes one and a half round trips, however long the histories: three flights
//! of messages.
//!
//! Each side applies and stores what a message carries before it handles the next, and a
//! session holds no state that the replicas do not: an interrupted session is resumed by
//! starting a new one, which sends only what is still missing. A replica sends only
//! operations it has stored.
//!
//! [`sync`] runs a session between two replicas in one process; [`SyncSession::run_tcp`]
//! runs one side over a TCP connection; anything else drives [`SyncSession`] itself. With
//! its vector, each side sends its heads: after a whole session,
//! [`SyncSession::caught_up`] says whether this side has everything the other had (it
//! has not if the other sent operations this one refused, or equivocated).
//!
//! ```
//! use crdtype::ops::{OpLog, SigningKey};
//! use crdtype::replica::sync::sync;
//! use crdtype::replica::{MemoryStore, Replica};
//! use crdtype::{Crdt, HybridClock, ReplicaId};
//!
//! #[derive(Crdt, Debug, Clone, PartialEq, Default)]
//! struct Note {
//!     text: String,
//! }
//!
//! let key = SigningKey::from_bytes(&[7; 32]);
//! let (log, _) = OpLog::create(&key, [1; 16], HybridClock::new(ReplicaId::new(1)));
//! let empty = OpLog::open(log.document(), HybridClock::new(ReplicaId::new(2)));
//! let (mut alice, _) = Replica::<Note>::open(MemoryStore::new(), key, log)?;
//! alice.edit(|note| note.text = "Buy milk".to_owned())?;
//! let other_key = SigningKey::from_bytes(&[8; 32]);
//! let (mut bob, _) = Replica::<Note>::open(MemoryStore::new(), other_key, empty)?;
//!
//! let report = sync(&mut bob, &mut alice)?;
//! assert_eq!(report.flights, 3);
//! assert!(report.converged);
//! assert_eq!(bob.read(), alice.read());
//! assert_eq!(bob.log().heads_digest(), alice.log().heads_digest());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, VecDeque};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use flatbuffers::InvalidFlatbuffer;

use super::message::{self, MessageFields};
use super::{Replica, ReplicaError, Store};
use crate::ops::{OpHash, ReceiveError, Received};
use crate::{Crdt, WallClock};

/// Bounds on sync messages.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SyncLimits {
    /// The largest message of operations accepted, in bytes. Default 8 MiB: above the
    /// largest operation a log accepts by default (4 MiB), which a message must be able to
    /// carry alone.
    pub max_message_bytes: usize,
    /// The largest snapshot a message may carry (alone), in bytes. Default 64 MiB, as
    /// [`OpLimits::max_snapshot_bytes`](crate::ops::OpLimits::max_snapshot_bytes). A
    /// snapshot grows with the state and by 48 bytes per operation ever applied.
    pub max_snapshot_bytes: usize,
    /// The most operations in one message. Default 4,096.
    pub max_ops_per_message: usize,
    /// How many bytes of operations a message carries before the rest waits for the next
    /// one (a single larger operation goes alone). Default 256 KiB.
    pub chunk_bytes: usize,
    /// How long one blocking read or write of [`SyncSession::run_tcp`] waits for the peer
    /// to send or take any bytes before the session ends with [`SyncError::TimedOut`];
    /// `None` waits forever. Not a deadline for a whole message: a peer that keeps bytes
    /// moving keeps the session alive. It must exceed the longest time a peer spends on
    /// one message without reading or writing (adopting and storing a large snapshot).
    /// Must not be zero. Default 30 s.
    pub idle_timeout: Option<Duration>,
}

impl SyncLimits {
    /// The longest message a transport should accept: one carrying the largest snapshot.
    pub fn frame_limit(&self) -> usize {
        self.max_message_bytes
            .max(self.max_snapshot_bytes.saturating_add(64 << 10))
    }
}

impl Default for SyncLimits {
    fn default() -> Self {
        Self {
            max_message_bytes: 8 << 20,
            max_snapshot_bytes: 64 << 20,
            max_ops_per_message: 4096,
            chunk_bytes: 256 << 10,
            idle_timeout: Some(Duration::from_secs(30)),
        }
    }
}

/// A session failed. What was applied before the failure is stored; start a new session.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// A message longer than [`SyncLimits::max_message_bytes`] (or, for one that carries
    /// a snapshot, [`SyncLimits::max_snapshot_bytes`] and a little).
    #[error("a message of {bytes} bytes, more than the limit of {limit}")]
    TooLarge {
        /// Its length.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The FlatBuffers verifier refused a message.
    #[error("not a sync message: {0}")]
    Malformed(#[from] InvalidFlatbuffer),
    /// Well-formed, but not a valid message at this point of the session.
    #[error("not a valid sync message: {0}")]
    Invalid(&'static str),
    /// A message about another document.
    #[error("a sync message of another document")]
    WrongDocument,
    /// The replica failed (its store).
    #[error(transparent)]
    Replica(#[from] ReplicaError),
    /// The peer sent nothing, or took nothing, for [`SyncLimits::idle_timeout`].
    #[error("the peer was silent for {0:?}")]
    TimedOut(Duration),
    /// The transport failed.
    #[error("transport: {0}")]
    Io(#[from] std::io::Error),
}

/// What a session did so far.
#[derive(Debug, Default)]
pub struct SyncStats {
    /// Messages sent.
    pub messages_sent: usize,
    /// Messages received.
    pub messages_received: usize,
    /// Bytes of messages sent (without a transport's framing).
    pub bytes_sent: usize,
    /// Bytes of messages received.
    pub bytes_received: usize,
    /// Operations sent.
    pub ops_sent: usize,
    /// Bytes of the operations sent, themselves.
    pub op_bytes_sent: usize,
    /// Operations received and applied, with those they released.
    pub applied: usize,
    /// Operations received that were already here.
    pub duplicates: usize,
    /// Operations received that wait for their parents.
    pub buffered: usize,
    /// Snapshots sent, instead of operations compacted away.
    pub snapshots_sent: usize,
    /// Snapshots received and adopted.
    pub snapshots_received: usize,
    /// Operations received and refused (or a snapshot), with why.
    pub refused: Vec<ReceiveError>,
}

/// Which side of a session a replica is, over a stream.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Role {
    /// Sends the first message.
    Initiator,
    /// Waits for it.
    Responder,
}

/// One side of a sync session.
#[derive(Debug, Default)]
pub struct SyncSession {
    limits: SyncLimits,
    /// What the peer lacks, still to send; known once the peer's vector arrives.
    outbox: Option<Outbox>,
    sent_vector: bool,
    /// The heads the peer had when the session started.
    peer_heads: Vec<OpHash>,
    sent_done: bool,
    peer_done: bool,
    stats: SyncStats,
}

impl SyncSession {
    /// A session with the default limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// A session with other limits.
    pub fn with_limits(limits: SyncLimits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// Whether both sides have sent everything: the session is over.
    pub fn is_finished(&self) -> bool {
        self.sent_done && self.peer_done
    }

    /// Whether `replica` has applied every head the peer had when the session started:
    /// after a whole session, whether it caught up with the peer. (Not when the peer sent
    /// operations that were refused, or equivocated.)
    pub fn caught_up<T: Crdt, D, W: WallClock>(&self, replica: &Replica<T, D, W>) -> bool {
        self.outbox.is_some()
            && self
                .peer_heads
                .iter()
                .all(|head| replica.log.is_applied(head))
    }

    /// What the session did so far.
    pub fn stats(&self) -> &SyncStats {
        &self.stats
    }

    /// What the session did, once it is over.
    pub fn into_stats(self) -> SyncStats {
        self.stats
    }

    /// The first message of the session, from the side that starts it.
    pub fn start<T: Crdt, D: Store, W: WallClock>(
        &mut self,
        replica: &Replica<T, D, W>,
    ) -> Vec<u8> {
        self.reply(replica, Vec::new(), None, false)
    }

    /// Handles a message from the peer: applies and stores the operations it carries, and
    /// returns the messages to send in answer, in order: after the peer's first message,
    /// everything the peer lacks; after the others, nothing.
    pub fn handle<T: Crdt, D: Store, W: WallClock>(
        &mut self,
        replica: &mut Replica<T, D, W>,
        bytes: &[u8],
    ) -> Result<Vec<Vec<u8>>, SyncError> {
        if bytes.len() > self.limits.frame_limit() {
            return Err(SyncError::TooLarge {
                bytes: bytes.len(),
                limit: self.limits.frame_limit(),
            });
        }
        let received = message::read(bytes, self.limits.max_ops_per_message)?;
        if received.snapshot().is_none() && bytes.len() > self.limits.max_message_bytes {
            return Err(SyncError::TooLarge {
                bytes: bytes.len(),
                limit: self.limits.max_message_bytes,
            });
        }
        if received.document() != replica.log.document().as_bytes() {
            return Err(SyncError::WrongDocument);
        }
        let vector = received.vector().map_err(SyncError::Invalid)?;
        if vector.is_some() == self.outbox.is_some() {
            return Err(SyncError::Invalid(
                "a version vector in a message other than the peer's first",
            ));
        }
        if self.peer_done {
            return Err(SyncError::Invalid(
                "a message after the peer said it was done",
            ));
        }
        if vector.is_some() {
            let heads = received.heads();
            if !heads.len().is_multiple_of(32) {
                return Err(SyncError::Invalid("a head is not 32 bytes"));
            }
            self.peer_heads = heads
                .chunks_exact(32)
                .filter_map(|head| head.try_into().ok().map(OpHash))
                .collect();
        }
        self.stats.messages_received += 1;
        self.stats.bytes_received += bytes.len();
        let ops: Vec<&[u8]> = received.ops().collect();
        for result in replica.receive_each(&ops)? {
            match result {
                Ok(Received::Applied { released }) => self.stats.applied += 1 + released,
                Ok(Received::Duplicate) => self.stats.duplicates += 1,
                Ok(Received::Buffered) => self.stats.buffered += 1,
                Err(error) => self.stats.refused.push(error),
            }
        }
        if let Some(snapshot) = received.snapshot() {
            match replica.receive_snapshot(snapshot) {
                Ok(adopted) => {
                    self.stats.snapshots_received += 1;
                    self.stats.applied += adopted;
                }
                Err(ReplicaError::Receive(error)) => self.stats.refused.push(error),
                Err(error) => return Err(error.into()),
            }
        }
        self.peer_done = received.done();
        let Some(vector) = vector else {
            return Ok(Vec::new());
        };
        let outbox = lacking(replica, &vector.into_iter().collect());
        if let Outbox::Snapshot = outbox {
            let snapshot = replica
                .log
                .snapshot(&replica.key)
                .map_err(ReplicaError::from)?;
            if snapshot.len() > self.limits.max_snapshot_bytes {
                return Err(SyncError::TooLarge {
                    bytes: snapshot.len(),
                    limit: self.limits.max_snapshot_bytes,
                });
            }
            self.outbox = Some(Outbox::Ops(VecDeque::new()));
            self.stats.snapshots_sent += 1;
            return Ok(vec![self.reply(replica, Vec::new(), Some(&snapshot), true)]);
        }
        self.outbox = Some(outbox);
        let mut replies = Vec::new();
        while !self.sent_done {
            let chunk = self.next_chunk(replica);
            let done = matches!(&self.outbox, Some(Outbox::Ops(outbox)) if outbox.is_empty());
            replies.push(self.reply(replica, chunk, None, done));
        }
        Ok(replies)
    }

    /// Positions of the next operations to send, within the chunk limits.
    fn next_chunk<T: Crdt, D, W: WallClock>(&mut self, replica: &Replica<T, D, W>) -> Vec<usize> {
        let mut chunk = Vec::new();
        let mut size = 0;
        let Some(Outbox::Ops(outbox)) = &mut self.outbox else {
            return chunk;
        };
        while let Some(&position) = outbox.front() {
            let len = replica
                .log
                .op_at(position)
                .and_then(|(_, bytes)| bytes)
                .map_or(0, <[u8]>::len);
            let full = size + len > self.limits.chunk_bytes
                || chunk.len() >= self.limits.max_ops_per_message;
            if !chunk.is_empty() && full {
                break;
            }
            chunk.push(position);
            size += len;
            outbox.pop_front();
        }
        chunk
    }

    fn reply<T: Crdt, D, W: WallClock>(
        &mut self,
        replica: &Replica<T, D, W>,
        chunk: Vec<usize>,
        snapshot: Option<&[u8]>,
        done: bool,
    ) -> Vec<u8> {
        let ops: Vec<&[u8]> = chunk
            .iter()
            .filter_map(|&position| replica.log.op_at(position)?.1)
            .collect();
        let vector = (!self.sent_vector).then(|| {
            let (replicas, seqs) = replica
                .log
                .version_vector()
                .iter()
                .map(|(replica, seq)| (replica.get(), *seq))
                .unzip();
            let heads = replica.log.heads().iter().flat_map(|head| head.0).collect();
            (replicas, seqs, heads)
        });
        let bytes = message::write(&MessageFields {
            document: replica.log.document().as_bytes(),
            vector,
            ops: &ops,
            done,
            snapshot,
        });
        self.sent_vector = true;
        self.sent_done |= done;
        self.stats.messages_sent += 1;
        self.stats.bytes_sent += bytes.len();
        self.stats.ops_sent += ops.len();
        self.stats.op_bytes_sent += ops.iter().map(|op| op.len()).sum::<usize>();
        bytes
    }

    /// Runs this side of a session over a TCP connection, each message framed by its
    /// length as 4 little-endian bytes. A second thread writes while this one reads, so
    /// that two sides streaming long histories at each other never both block writing.
    /// A peer that stalls for [`SyncLimits::idle_timeout`] ends the session with
    /// [`SyncError::TimedOut`]; the stream keeps that read and write timeout afterwards.
    pub fn run_tcp<T: Crdt, D: Store, W: WallClock>(
        &mut self,
        replica: &mut Replica<T, D, W>,
        stream: &TcpStream,
        role: Role,
    ) -> Result<(), SyncError> {
        let idle = self.limits.idle_timeout;
        stream.set_read_timeout(idle)?;
        stream.set_write_timeout(idle)?;
        let timed_out = |error: SyncError| match (error, idle) {
            (SyncError::Io(io), Some(idle))
                if matches!(
                    io.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                SyncError::TimedOut(idle)
            }
            (error, _) => error,
        };
        let (outgoing, to_write) = std::sync::mpsc::channel::<Vec<u8>>();
        // Which side failed first, so that the session reports that cause and not the
        // other side's failure that the shutdown brought on.
        let writer_failed_first = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            let mut writer = stream.try_clone()?;
            let writer_failed_first = &writer_failed_first;
            let writing = scope.spawn(move || -> Result<(), SyncError> {
                for message in to_write {
                    if let Err(error) = write_frame(&mut writer, &message) {
                        writer_failed_first.store(true, std::sync::atomic::Ordering::SeqCst);
                        // Unblocks the reader at once, and tells the peer.
                        let _ = writer.shutdown(std::net::Shutdown::Both);
                        return Err(timed_out(error));
                    }
                }
                Ok(())
            });
            let read = self
                .read_loop(replica, stream, role, &outgoing)
                .map_err(timed_out);
            // Read before the shutdown below, which may fail a write in progress.
            let writer_failed_first = writer_failed_first.load(std::sync::atomic::Ordering::SeqCst);
            if read.is_err() {
                // Unblocks the writer, and tells the peer, who would wait forever.
                let _ = stream.shutdown(std::net::Shutdown::Both);
            }
            drop(outgoing);
            let written = writing
                .join()
                .unwrap_or(Err(SyncError::Invalid("the writing thread panicked")));
            if writer_failed_first {
                written.and(read)
            } else {
                read.and(written)
            }
        })
    }

    fn read_loop<T: Crdt, D: Store, W: WallClock>(
        &mut self,
        replica: &mut Replica<T, D, W>,
        mut stream: &TcpStream,
        role: Role,
        outgoing: &std::sync::mpsc::Sender<Vec<u8>>,
    ) -> Result<(), SyncError> {
        let send = |message| {
            outgoing
                .send(message)
                .map_err(|_| SyncError::Invalid("the writing thread stopped"))
        };
        if role == Role::Initiator {
            send(self.start(replica))?;
        }
        while !self.is_finished() {
            let message = read_frame(&mut stream, self.limits.frame_limit())?;
            for reply in self.handle(replica, &message)? {
                send(reply)?;
            }
        }
        Ok(())
    }
}

/// What [`sync`] did.
#[derive(Debug)]
pub struct SyncReport {
    /// The starting side's stats.
    pub a: SyncStats,
    /// The other side's.
    pub b: SyncStats,
    /// How many times the direction of messages changed, plus one: 3 for a whole session
    /// (one and a half round trips).
    pub flights: usize,
    /// Whether each side has applied every head the other had when it started.
    pub converged: bool,
}

/// Runs a whole session between two replicas in this process: `a` starts.
pub fn sync<A: Crdt, B: Crdt, D: Store, E: Store, W: WallClock, X: WallClock>(
    a: &mut Replica<A, D, W>,
    b: &mut Replica<B, E, X>,
) -> Result<SyncReport, SyncError> {
    sync_with(a, b, SyncLimits::default())
}

/// [`sync`] with other limits.
pub fn sync_with<A: Crdt, B: Crdt, D: Store, E: Store, W: WallClock, X: WallClock>(
    a: &mut Replica<A, D, W>,
    b: &mut Replica<B, E, X>,
    limits: SyncLimits,
) -> Result<SyncReport, SyncError> {
    let (mut a_side, mut b_side) = (
        SyncSession::with_limits(limits),
        SyncSession::with_limits(limits),
    );
    let mut flight = vec![a_side.start(a)];
    let mut flights = 0;
    while !flight.is_empty() {
        flights += 1;
        let mut answers = Vec::new();
        for message in flight {
            answers.extend(if flights % 2 == 1 {
                b_side.handle(b, &message)?
            } else {
                a_side.handle(a, &message)?
            });
        }
        flight = answers;
    }
    let converged = a_side.caught_up(a) && b_side.caught_up(b);
    Ok(SyncReport {
        converged,
        a: a_side.into_stats(),
        b: b_side.into_stats(),
        flights,
    })
}

/// What a session still has to send.
#[derive(Debug)]
enum Outbox {
    /// Positions in the replica's history of the operations the peer lacks.
    Ops(VecDeque<usize>),
    /// The peer lacks operations compacted away: a snapshot instead.
    Snapshot,
}

/// What a peer with `vector` lacks of `replica`'s stored history.
fn lacking<T: Crdt, D, W: WallClock>(
    replica: &Replica<T, D, W>,
    vector: &BTreeMap<u64, u64>,
) -> Outbox {
    let mut positions = VecDeque::new();
    for position in 0..replica.persisted {
        let Some((id, bytes)) = replica.log.op_at(position) else {
            break;
        };
        if id.seq() > vector.get(&id.replica().get()).copied().unwrap_or(0) {
            if bytes.is_none() {
                return Outbox::Snapshot;
            }
            positions.push_back(position);
        }
    }
    Outbox::Ops(positions)
}

fn write_frame(stream: &mut impl Write, message: &[u8]) -> Result<(), SyncError> {
    let len = u32::try_from(message.len()).map_err(|_| SyncError::TooLarge {
        bytes: message.len(),
        limit: u32::MAX as usize,
    })?;
    stream.write_all(&len.to_le_bytes())?;
    stream.write_all(message)?;
    stream.flush()?;
    Ok(())
}

fn read_frame(stream: &mut impl Read, limit: usize) -> Result<Vec<u8>, SyncError> {
    let mut len = [0; 4];
    stream.read_exact(&mut len)?;
    let len = u32::from_le_bytes(len) as usize;
    if len > limit {
        return Err(SyncError::TooLarge { bytes: len, limit });
    }
    // Grown as bytes arrive, a chunk at a time, not allocated at the length a peer
    // claims (nor doubled past it).
    let mut message = Vec::new();
    while message.len() < len {
        let chunk = (len - message.len()).min(FRAME_CHUNK);
        message.reserve_exact(chunk);
        let read = (&mut *stream)
            .take(chunk as u64)
            .read_to_end(&mut message)?;
        if read < chunk {
            return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into());
        }
    }
    Ok(message)
}

/// How much of a frame [`read_frame`] reserves at a time.
const FRAME_CHUNK: usize = 1 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes to read, recording the largest buffer a read was handed.
    struct Source {
        bytes: Vec<u8>,
        at: usize,
        largest_buffer: usize,
    }

    impl Read for Source {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.largest_buffer = self.largest_buffer.max(buf.len());
            let n = buf.len().min(self.bytes.len() - self.at);
            buf[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn source(claimed: u32, body: &[u8]) -> Source {
        Source {
            bytes: [&claimed.to_le_bytes()[..], body].concat(),
            at: 0,
            largest_buffer: 0,
        }
    }

    #[test]
    fn a_frame_claiming_60_mb_of_which_3_bytes_arrive_is_refused_without_a_60_mb_buffer() {
        let mut stream = source(60_000_000, b"abc");
        let read = read_frame(&mut stream, 64 << 20);
        assert!(
            matches!(&read, Err(SyncError::Io(io)) if io.kind() == std::io::ErrorKind::UnexpectedEof),
            "{read:?}"
        );
        assert!(
            stream.largest_buffer <= FRAME_CHUNK,
            "{}",
            stream.largest_buffer
        );
    }

    #[test]
    fn a_frame_longer_than_a_chunk_is_read_whole() {
        let body: Vec<u8> = (0..3 * FRAME_CHUNK + 5).map(|i| i as u8).collect();
        let mut stream = source(body.len() as u32, &body);
        assert_eq!(read_frame(&mut stream, 64 << 20).unwrap(), body);
    }
}
