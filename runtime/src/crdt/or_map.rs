//! Observed-remove map of nested CRDTs.

use crate::{CausalContext, CausalDotStore, DotMap, DotStore};

/// A map from keys to nested CRDTs (any [`DotStore`]) where an update of an entry
/// concurrent with its removal keeps the entry.
///
/// A removal drops the dots of the value it observed; a concurrent update adds dots the
/// removal never saw, so they, and the entry, survive the join.
///
/// ```
/// use crdtype::{CausalDotStore, HybridClock, LwwRegister, OrMap, ReplicaId};
///
/// let mut clock = HybridClock::new(ReplicaId::new(1));
/// let mut a = CausalDotStore::<OrMap<&str, LwwRegister<i64>>>::new();
/// a.store.update(&mut a.context, "answer", |reg, ctx| reg.set(ctx, clock.now(), 41));
/// let mut b = a.clone();
/// let removed = b.store.remove(&"answer");
/// let updated = a.store.update(&mut a.context, "answer", |reg, ctx| reg.set(ctx, clock.now(), 42));
/// a.join(removed);
/// b.join(updated);
/// assert_eq!(a.store.get(&"answer").and_then(|reg| reg.get()), Some(&42));
/// assert_eq!(a, b);
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct OrMap<K, V> {
    pub(crate) entries: DotMap<K, V>,
}

impl<K, V> Default for OrMap<K, V> {
    fn default() -> Self {
        Self {
            entries: DotMap::default(),
        }
    }
}

impl<K: Ord, V: DotStore> OrMap<K, V> {
    /// The value under `key`. O(log n).
    pub fn get(&self, key: &K) -> Option<&V> {
        self.entries.get(key)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &K) -> bool {
        self.entries.contains_key(key)
    }

    /// The entries, sorted by key.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> + ExactSizeIterator + '_ {
        self.entries.iter()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the map has no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Runs `mutate`, a mutator of the value type, on the entry under `key` (created empty
    /// if absent) and returns the delta of the map.
    pub fn update(
        &mut self,
        context: &mut CausalContext,
        key: K,
        mutate: impl FnOnce(&mut V, &mut CausalContext) -> CausalDotStore<V>,
    ) -> CausalDotStore<Self>
    where
        K: Clone,
    {
        self.entries
            .apply(key, |value| mutate(value, context))
            .map_store(|entries| Self { entries })
    }

    /// Removes the entry under `key` as observed here; returns the delta.
    pub fn remove(&mut self, key: &K) -> CausalDotStore<Self> {
        self.entries
            .remove_observed(key)
            .map_store(|entries| Self { entries })
    }
}

delegate_dot_store!(impl[K: Ord, V: DotStore] OrMap<K, V> => entries);
