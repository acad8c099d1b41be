//! Two-phase set: an element once removed stays removed.

use std::collections::BTreeSet;

use crate::{AwSet, CausalContext, CausalDotStore, Dot, DotStore, ReplicaId};

/// A set whose removals are permanent: a removed element can never be added again, on any
/// replica, whatever the order in which adds and removes arrive.
///
/// Adds are tracked as in [`AwSet`] (so that an [`OrMap`](crate::OrMap) entry holding the set
/// can be removed by observation); removals are a grow-only set of tombstones that join by
/// union and hide the element from then on.
///
/// ```
/// use crdtype::{CausalDotStore, ReplicaId, TwoPhaseSet};
///
/// let mut a = CausalDotStore::<TwoPhaseSet<u32>>::new();
/// a.store.insert(&mut a.context, ReplicaId::new(1), 7);
/// let removed = a.store.remove(&7);
/// let mut b = CausalDotStore::<TwoPhaseSet<u32>>::new();
/// let late_add = b.store.insert(&mut b.context, ReplicaId::new(2), 7);
/// b.join(removed);
/// a.join(late_add);
/// assert!(!a.store.contains(&7) && !b.store.contains(&7));
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct TwoPhaseSet<T> {
    pub(crate) added: AwSet<T>,
    pub(crate) removed: BTreeSet<T>,
}

impl<T> Default for TwoPhaseSet<T> {
    fn default() -> Self {
        Self {
            added: AwSet::default(),
            removed: BTreeSet::new(),
        }
    }
}

impl<T: Ord> TwoPhaseSet<T> {
    /// Whether `value` is in the set: added and never removed. O(log n).
    pub fn contains(&self, value: &T) -> bool {
        self.added.contains(value)
    }

    /// Whether `value` was ever removed (and so can never be added again).
    pub fn is_removed(&self, value: &T) -> bool {
        self.removed.contains(value)
    }

    /// The elements, in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator + '_ {
        self.added.iter()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.added.len()
    }

    /// True when the set has no element.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
    }

    /// Adds `value` as `replica` and returns the delta. Adding a removed element does
    /// nothing and returns the empty delta.
    pub fn insert(
        &mut self,
        context: &mut CausalContext,
        replica: ReplicaId,
        value: T,
    ) -> CausalDotStore<Self>
    where
        T: Clone,
    {
        if self.removed.contains(&value) {
            return CausalDotStore::default();
        }
        self.added
            .insert(context, replica, value)
            .map_store(|added| Self {
                added,
                removed: BTreeSet::new(),
            })
    }

    /// Removes `value` for good; returns the delta.
    pub fn remove(&mut self, value: &T) -> CausalDotStore<Self>
    where
        T: Clone,
    {
        self.removed.insert(value.clone());
        self.added.remove(value).map_store(|added| Self {
            added,
            removed: BTreeSet::from([value.clone()]),
        })
    }
}

impl<T: Ord> DotStore for TwoPhaseSet<T> {
    fn is_bottom(&self) -> bool {
        self.added.is_bottom() && self.removed.is_empty()
    }

    fn for_each_dot(&self, visit: &mut dyn FnMut(Dot)) {
        self.added.for_each_dot(visit);
    }

    fn join(&mut self, context: &CausalContext, other: Self, other_context: &CausalContext) {
        self.added.join(context, other.added, other_context);
        self.removed.extend(other.removed);
        if !self.removed.is_empty() {
            let removed = &self.removed;
            self.added.retain(|value| !removed.contains(value));
        }
    }
}
