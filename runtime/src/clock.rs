//! The hybrid logical clock that orders writes.
//!
//! A timestamp is `(wall_micros, logical, replica)`, compared in that order. The wall part
//! follows the device's clock so that "last writer wins" matches what people expect; the
//! logical part keeps the clock strictly monotonic when the wall clock stalls or steps back,
//! and moves the clock past every stamp it has observed from other replicas; the replica id
//! breaks the remaining ties, which makes the order total.

use core::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
use std::time::{SystemTime, UNIX_EPOCH};

use crate::ReplicaId;

/// A point in the total order of writes: `(wall_micros, logical, replica)`.
///
/// The derived order compares the fields in declaration order, which is the order fixed by
/// the design: wall time first, then the logical counter, then the replica id.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    /// Microseconds since the Unix epoch, as the writer's hybrid clock saw them.
    pub wall_micros: u64,
    /// Events at the same `wall_micros`, counted from 0.
    pub logical: u32,
    /// The replica that took the timestamp; breaks ties.
    pub replica: ReplicaId,
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Timestamp({}.{}@{})",
            self.wall_micros, self.logical, self.replica
        )
    }
}

/// A source of wall-clock time in microseconds since the Unix epoch.
///
/// Injectable so that tests can step time forward and back ([`ManualClock`]). Cloned
/// with the logs that stage a change on a copy (a handle to the same time source, as
/// [`ManualClock`]'s clones share theirs).
pub trait WallClock: Clone {
    /// The current wall time in microseconds since the Unix epoch.
    fn now_micros(&self) -> u64;
}

/// The operating system's real-time clock.
///
/// Design decision: on Linux and Android this reads `CLOCK_REALTIME_COARSE`, the time of
/// the last scheduler tick (1 to 4 ms resolution), in about 3 ns instead of the 20 to 30 ns
/// of a precise read; a local write is budgeted at 40 ns, clock included. Coarseness costs
/// nothing in ordering: the hybrid clock's logical counter orders the writes within one
/// tick, and clocks of different devices disagree by far more than a tick anyway.
/// Elsewhere it reads [`SystemTime`](std::time::SystemTime).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl WallClock for SystemClock {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[inline]
    fn now_micros(&self) -> u64 {
        use rustix::time::{ClockId, clock_gettime};
        let now = clock_gettime(ClockId::RealtimeCoarse);
        // Before 1970 reads as the epoch; the logical part keeps stamps monotonic anyway.
        let seconds = u64::try_from(now.tv_sec).unwrap_or(0);
        let micros = u64::try_from(now.tv_nsec).unwrap_or(0) / 1_000;
        seconds.saturating_mul(1_000_000).saturating_add(micros)
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn now_micros(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| {
                u64::try_from(since.as_micros()).unwrap_or(u64::MAX)
            })
    }
}

/// A wall clock that moves only when told to; clones share the same time.
#[derive(Clone, Debug, Default)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// A manual clock reading `micros`.
    pub fn new(micros: u64) -> Self {
        Self(Arc::new(AtomicU64::new(micros)))
    }

    /// Sets the time, forward or back.
    pub fn set(&self, micros: u64) {
        self.0.store(micros, Ordering::Relaxed);
    }

    /// Moves the time forward by `micros` (saturating).
    pub fn advance(&self, micros: u64) {
        // A read-modify-write that clones on other threads cannot interleave with.
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |now| {
                Some(now.saturating_add(micros))
            });
    }
}

impl WallClock for ManualClock {
    fn now_micros(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The part of a clock's state that must survive a restart: the greatest `(wall_micros,
/// logical)` it has issued or observed. A clock restored from it never issues a stamp at or
/// below it, even if the wall clock went back while the device was off.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct HighWaterMark {
    /// Wall part of the greatest stamp issued or observed.
    pub wall_micros: u64,
    /// Logical part of the greatest stamp issued or observed.
    pub logical: u32,
}

/// A remote timestamp was too far ahead of the local wall clock; it was not observed.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
#[error(
    "clock skew: remote timestamp {remote:?} is {ahead_micros} µs ahead of the local wall clock \
     ({local_wall_micros} µs), more than the allowed {max_skew_micros} µs"
)]
pub struct ClockSkew {
    /// The refused stamp.
    pub remote: Timestamp,
    /// The local wall time when it was refused.
    pub local_wall_micros: u64,
    /// How far ahead of local wall time the stamp was.
    pub ahead_micros: u64,
    /// The configured bound.
    pub max_skew_micros: u64,
}

/// A hybrid logical clock for one replica.
///
/// [`now`](Self::now) is strictly monotonic: every stamp is greater than every stamp this
/// clock issued or observed before, whatever the wall clock does. The logical counter never
/// wraps: when it is exhausted it carries into the wall part.
#[derive(Clone, Debug)]
pub struct HybridClock<W = SystemClock> {
    wall: W,
    replica: ReplicaId,
    last: HighWaterMark,
    max_skew_micros: u64,
}

impl HybridClock<SystemClock> {
    /// A clock for `replica` on the system clock, with the default skew bound.
    pub fn new(replica: ReplicaId) -> Self {
        Self::with_wall_clock(replica, SystemClock)
    }
}

impl<W: WallClock> HybridClock<W> {
    /// How far ahead of local wall time a remote stamp may be by default: 5 minutes.
    ///
    /// Consumer devices drift by seconds to minutes; a stamp further ahead than this would
    /// let one device's wrong clock win every conflict until the others caught up.
    pub const DEFAULT_MAX_SKEW: Duration = Duration::from_secs(300);

    /// A clock for `replica` reading time from `wall`, with the default skew bound.
    pub fn with_wall_clock(replica: ReplicaId, wall: W) -> Self {
        Self {
            wall,
            replica,
            last: HighWaterMark::default(),
            max_skew_micros: duration_micros(Self::DEFAULT_MAX_SKEW),
        }
    }

    /// The largest skew bound [`with_max_skew`](Self::with_max_skew) accepts: 100 years.
    /// It keeps every observed stamp 580,000 years away from exhausting the wall part.
    pub const MAX_SKEW_LIMIT: Duration = Duration::from_secs(100 * 366 * 24 * 3600);

    /// Sets how far ahead of local wall time a remote stamp may be before
    /// [`observe`](Self::observe) refuses it; at most [`MAX_SKEW_LIMIT`](Self::MAX_SKEW_LIMIT).
    #[must_use]
    pub fn with_max_skew(mut self, max_skew: Duration) -> Self {
        self.max_skew_micros = duration_micros(max_skew.min(Self::MAX_SKEW_LIMIT));
        self
    }

    /// Restores the state persisted from [`high_water_mark`](Self::high_water_mark), so that
    /// a restarted replica never reuses a timestamp.
    #[must_use]
    pub fn with_high_water_mark(mut self, mark: HighWaterMark) -> Self {
        self.last = self.last.max(mark);
        self
    }

    /// The replica this clock stamps for.
    pub fn replica(&self) -> ReplicaId {
        self.replica
    }

    /// The greatest stamp issued or observed so far: persist it, and restore it with
    /// [`with_high_water_mark`](Self::with_high_water_mark) after a restart.
    pub fn high_water_mark(&self) -> HighWaterMark {
        self.last
    }

    /// A new timestamp, greater than every one issued or observed before. O(1): one read of
    /// the wall clock.
    ///
    /// # Panics
    ///
    /// When no greater timestamp exists: the high-water mark is at `u64::MAX` microseconds
    /// (the year 586,000) and the logical counter is exhausted. Observed stamps cannot get
    /// there (see [`MAX_SKEW_LIMIT`](Self::MAX_SKEW_LIMIT)); only a corrupt
    /// [`HighWaterMark`] restored with [`with_high_water_mark`](Self::with_high_water_mark)
    /// can.
    #[inline]
    pub fn now(&mut self) -> Timestamp {
        let wall = self.wall.now_micros();
        self.last = if wall > self.last.wall_micros {
            HighWaterMark {
                wall_micros: wall,
                logical: 0,
            }
        } else {
            successor(self.last)
        };
        Timestamp {
            wall_micros: self.last.wall_micros,
            logical: self.last.logical,
            replica: self.replica,
        }
    }

    /// Moves the clock past `remote`, so that the next [`now`](Self::now) is greater than
    /// it. A stamp more than the skew bound ahead of local wall time is refused and the clock
    /// does not move.
    pub fn observe(&mut self, remote: Timestamp) -> Result<(), ClockSkew> {
        self.check(remote)?;
        self.advance_past(remote);
        Ok(())
    }

    /// Moves the clock past `stamp` without the skew check: for stamps this replica
    /// accepted before, read back from its storage.
    pub(crate) fn advance_past(&mut self, stamp: Timestamp) {
        self.last = self.last.max(HighWaterMark {
            wall_micros: stamp.wall_micros,
            logical: stamp.logical,
        });
    }

    /// Whether [`observe`](Self::observe) would accept `remote`, without moving the clock:
    /// for a receiver that checks everything before it changes anything.
    pub fn check(&self, remote: Timestamp) -> Result<(), ClockSkew> {
        let local_wall_micros = self.wall.now_micros();
        let ahead_micros = remote.wall_micros.saturating_sub(local_wall_micros);
        if ahead_micros > self.max_skew_micros {
            return Err(ClockSkew {
                remote,
                local_wall_micros,
                ahead_micros,
                max_skew_micros: self.max_skew_micros,
            });
        }
        Ok(())
    }
}

/// The next `(wall, logical)` after `mark`: the logical counter carries into the wall part
/// instead of wrapping.
fn successor(mark: HighWaterMark) -> HighWaterMark {
    if let Some(logical) = mark.logical.checked_add(1) {
        return HighWaterMark {
            wall_micros: mark.wall_micros,
            logical,
        };
    }
    match mark.wall_micros.checked_add(1) {
        Some(wall_micros) => HighWaterMark {
            wall_micros,
            logical: 0,
        },
        None => panic!("hybrid clock exhausted: no timestamp after {mark:?}"),
    }
}

fn duration_micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: ReplicaId = ReplicaId::new(1);
    const BOB: ReplicaId = ReplicaId::new(2);

    fn manual(at: u64) -> (ManualClock, HybridClock<ManualClock>) {
        let wall = ManualClock::new(at);
        (wall.clone(), HybridClock::with_wall_clock(ALICE, wall))
    }

    #[test]
    fn now_follows_the_wall_clock_when_it_moves_forward() {
        let (wall, mut clock) = manual(1_000);
        assert_eq!(clock.now().wall_micros, 1_000);
        wall.advance(5);
        let stamp = clock.now();
        assert_eq!((stamp.wall_micros, stamp.logical), (1_005, 0));
    }

    #[test]
    fn now_stays_monotonic_when_the_wall_clock_stalls_or_steps_back() {
        let (wall, mut clock) = manual(1_000);
        let first = clock.now();
        let second = clock.now();
        wall.set(10);
        let third = clock.now();
        assert!(first < second && second < third);
        assert_eq!((third.wall_micros, third.logical), (1_000, 2));
    }

    #[test]
    fn the_logical_counter_carries_into_wall_time_instead_of_wrapping() {
        let (_wall, clock) = manual(0);
        let mut clock = clock.with_high_water_mark(HighWaterMark {
            wall_micros: 7,
            logical: u32::MAX,
        });
        let stamp = clock.now();
        assert_eq!((stamp.wall_micros, stamp.logical), (8, 0));
    }

    #[test]
    fn the_skew_bound_is_capped_so_observed_stamps_never_exhaust_the_clock() {
        let (_wall, clock) = manual(1_000);
        let mut clock = clock.with_max_skew(Duration::MAX);
        let far = Timestamp {
            wall_micros: u64::MAX,
            logical: u32::MAX,
            replica: BOB,
        };
        assert!(clock.observe(far).is_err());
        assert!(clock.now().wall_micros < u64::MAX / 2);
    }

    #[test]
    #[should_panic(expected = "hybrid clock exhausted")]
    fn a_corrupt_high_water_mark_at_the_end_of_time_panics_rather_than_going_back() {
        let (_wall, clock) = manual(0);
        let mut clock = clock.with_high_water_mark(HighWaterMark {
            wall_micros: u64::MAX,
            logical: u32::MAX,
        });
        clock.now();
    }

    #[test]
    fn observe_moves_the_clock_past_a_remote_stamp() {
        let (_wall, mut clock) = manual(1_000);
        let remote = Timestamp {
            wall_micros: 2_000,
            logical: 4,
            replica: BOB,
        };
        clock.observe(remote).unwrap();
        let next = clock.now();
        assert!(next > remote);
        assert_eq!((next.wall_micros, next.logical), (2_000, 5));
    }

    #[test]
    fn a_stamp_beyond_the_skew_bound_is_refused_and_the_clock_does_not_move() {
        let (_wall, clock) = manual(1_000_000);
        let mut clock = clock.with_max_skew(Duration::from_secs(1));
        let before = clock.high_water_mark();
        let remote = Timestamp {
            wall_micros: 2_000_001,
            logical: 0,
            replica: BOB,
        };
        let err = clock.observe(remote).unwrap_err();
        assert_eq!(err.ahead_micros, 1_000_001);
        assert_eq!(err.max_skew_micros, 1_000_000);
        assert!(err.to_string().contains("clock skew"));
        assert_eq!(clock.high_water_mark(), before);
        // Exactly at the bound is accepted.
        clock
            .observe(Timestamp {
                wall_micros: 2_000_000,
                ..remote
            })
            .unwrap();
    }

    #[test]
    fn a_restored_clock_never_reuses_a_stamp_after_the_wall_clock_went_back() {
        let (wall, mut clock) = manual(5_000);
        let issued = clock.now();
        let mark = clock.high_water_mark();
        wall.set(1_000);
        let mut restarted = HybridClock::with_wall_clock(ALICE, wall).with_high_water_mark(mark);
        assert!(restarted.now() > issued);
    }

    #[test]
    fn the_system_clock_agrees_with_the_standard_library_within_a_tick() {
        let precise = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_micros() as u64;
        let coarse = SystemClock.now_micros();
        // One tick is at most 10 ms on any kernel configuration; the slack is for a loaded
        // machine descheduling the test between the two reads.
        assert!(
            precise.abs_diff(coarse) < 1_000_000,
            "{precise} vs {coarse}"
        );
        let mut clock = HybridClock::new(ALICE);
        assert!(clock.now() < clock.now());
    }

    #[test]
    fn ties_on_wall_and_logical_are_broken_by_replica_id() {
        let a = Timestamp {
            wall_micros: 1,
            logical: 0,
            replica: ALICE,
        };
        let b = Timestamp { replica: BOB, ..a };
        assert!(a < b);
    }
}
