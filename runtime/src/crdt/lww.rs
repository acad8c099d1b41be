//! Last-writer-wins register with observed-remove deletes.

use crate::{CausalContext, CausalDotStore, ContextBuilder, Dot, DotFun, Timestamp};

/// A register whose visible value is the latest write by [`Timestamp`] order, with deletes
/// that remove only what they have observed.
///
/// Each live write is kept under its dot. A write replaces the writes it has observed; a
/// delete (setting the register to null) removes only the writes it has observed, so an
/// update concurrent with a delete survives it. Concurrent writes both stay live (a later
/// delete may observe only one of them); the visible value is the greatest by
/// `(wall_micros, logical, replica)`.
///
/// ```
/// use crdtype::{CausalDotStore, HybridClock, LwwRegister, ReplicaId};
///
/// let mut clock = HybridClock::new(ReplicaId::new(1));
/// let mut title = CausalDotStore::<LwwRegister<String>>::new();
/// let delta = title.store.set(&mut title.context, clock.now(), "Standup".to_owned());
///
/// let mut elsewhere = CausalDotStore::new();
/// elsewhere.join(delta);
/// assert_eq!(elsewhere.store.get().map(String::as_str), Some("Standup"));
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct LwwRegister<T> {
    pub(crate) writes: DotFun<LwwWrite<T>>,
}

/// One live write: the rest of its timestamp (the replica is the dot's) and the value.
#[derive(PartialEq, Eq, Hash, Debug)]
pub(crate) struct LwwWrite<T> {
    pub(crate) wall_micros: u64,
    pub(crate) logical: u32,
    pub(crate) value: T,
}

impl<T: Clone> Clone for LwwWrite<T> {
    fn clone(&self) -> Self {
        Self {
            wall_micros: self.wall_micros,
            logical: self.logical,
            value: self.value.clone(),
        }
    }

    /// Through the value's own `clone_from`: a write over another keeps its buffer.
    fn clone_from(&mut self, source: &Self) {
        self.wall_micros = source.wall_micros;
        self.logical = source.logical;
        self.value.clone_from(&source.value);
    }
}

impl<T> LwwWrite<T> {
    fn at(stamp: Timestamp, value: T) -> Self {
        Self {
            wall_micros: stamp.wall_micros,
            logical: stamp.logical,
            value,
        }
    }
}

impl<T> Default for LwwRegister<T> {
    fn default() -> Self {
        Self {
            writes: DotFun::new(),
        }
    }
}

impl<T> LwwRegister<T> {
    /// The visible value: the latest live write, or `None` (null) when there is none. O(w)
    /// for w live writes, usually 1.
    #[inline]
    pub fn get(&self) -> Option<&T> {
        self.latest().map(|(_, _, value)| value)
    }

    /// The timestamp of the visible value.
    pub fn timestamp(&self) -> Option<Timestamp> {
        self.latest().map(|(_, stamp, _)| stamp)
    }

    /// Bytes held on the heap for the live writes: zero with one live write. Heap memory
    /// owned by the values themselves (a `String`'s bytes) is not counted.
    pub fn heap_bytes(&self) -> usize {
        self.writes.heap_bytes()
    }

    /// Every live write, sorted by dot: more than one after concurrent writes.
    pub fn writes(&self) -> impl Iterator<Item = (Dot, Timestamp, &T)> + '_ {
        self.writes.iter().map(|(dot, write)| {
            let stamp = Timestamp {
                wall_micros: write.wall_micros,
                logical: write.logical,
                replica: dot.replica(),
            };
            (dot, stamp, &write.value)
        })
    }

    /// Writes `value` at `stamp`, replacing every write this replica has observed, and
    /// returns the delta. The dot is the next one of `stamp.replica` in `context`, which
    /// records it. O(w) for w live writes; no heap allocation when w <= 1 but for the
    /// value's copy, which reuses the replaced value's buffer where it can (through
    /// `clone_from`: should that panic, the register is left with a value part copied).
    pub fn set(
        &mut self,
        context: &mut CausalContext,
        stamp: Timestamp,
        value: T,
    ) -> CausalDotStore<Self>
    where
        T: Clone,
    {
        self.writes
            .overwrite(context, stamp.replica, LwwWrite::at(stamp, value))
            .map_store(|writes| Self { writes })
    }

    /// [`set`](Self::set) within a batch of edits to the fields of one document, which
    /// share one delta: the write goes to the batch's `delta_store` for this register, its
    /// dots to the batch's [`ContextBuilder`].
    #[inline]
    pub fn set_into(
        &mut self,
        context: &mut CausalContext,
        stamp: Timestamp,
        value: T,
        delta_store: &mut Self,
        delta_context: &mut ContextBuilder,
    ) where
        T: Clone,
    {
        self.writes.overwrite_into(
            context,
            stamp.replica,
            LwwWrite::at(stamp, value),
            &mut delta_store.writes,
            delta_context,
        );
    }

    /// Sets the register to null: removes every write this replica has observed (a
    /// concurrent write elsewhere survives) and returns the delta.
    pub fn delete(&mut self) -> CausalDotStore<Self> {
        self.writes.clear().map_store(|writes| Self { writes })
    }

    /// [`delete`](Self::delete) within a batch: the removed dots go to the batch's
    /// builder, and the batch's own write to this register, if any, is dropped.
    pub fn delete_into(&mut self, delta_store: &mut Self, delta_context: &mut ContextBuilder) {
        self.writes.clear_into(delta_context);
        delta_store.writes.clear_into(delta_context);
    }

    fn latest(&self) -> Option<(Dot, Timestamp, &T)> {
        self.writes().max_by_key(|(_, stamp, _)| *stamp)
    }
}

delegate_dot_store!(impl[T] LwwRegister<T> => writes);
