//! Add-wins (observed-remove) set.

use crate::{CausalContext, CausalDotStore, DotMap, DotSet, ReplicaId};

/// A set where an add concurrent with a remove of the same element wins.
///
/// Each element is present while some add of it is live; a remove drops only the adds it
/// has observed.
///
/// ```
/// use crdtype::{AwSet, CausalDotStore, ReplicaId};
///
/// let mut a = CausalDotStore::<AwSet<&str>>::new();
/// a.store.insert(&mut a.context, ReplicaId::new(1), "milk");
/// let mut b = a.clone();
/// let removed = b.store.remove(&"milk");
/// let re_added = a.store.insert(&mut a.context, ReplicaId::new(1), "milk");
/// a.join(removed);
/// b.join(re_added);
/// assert!(a.store.contains(&"milk") && b.store.contains(&"milk"));
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct AwSet<T> {
    pub(crate) elements: DotMap<T, DotSet>,
}

impl<T> Default for AwSet<T> {
    fn default() -> Self {
        Self {
            elements: DotMap::default(),
        }
    }
}

impl<T: Ord> AwSet<T> {
    /// Whether `value` is in the set. O(log n).
    pub fn contains(&self, value: &T) -> bool {
        self.elements.contains_key(value)
    }

    /// The elements, in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator + '_ {
        self.elements.iter().map(|(value, _)| value)
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.elements.len()
    }

    /// True when the set has no element.
    pub fn is_empty(&self) -> bool {
        self.elements.is_empty()
    }

    /// Adds `value` as `replica`; returns the delta.
    pub fn insert(
        &mut self,
        context: &mut CausalContext,
        replica: ReplicaId,
        value: T,
    ) -> CausalDotStore<Self>
    where
        T: Clone,
    {
        self.elements
            .apply(value, |adds| adds.overwrite(context, replica, ()))
            .map_store(|elements| Self { elements })
    }

    /// Removes `value` (the adds of it observed here); returns the delta.
    pub fn remove(&mut self, value: &T) -> CausalDotStore<Self> {
        self.elements
            .remove_observed(value)
            .map_store(|elements| Self { elements })
    }

    /// Removes the elements for which `keep` is false, without a delta: for types that build
    /// on this one and must drop elements by their own rules during join.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        self.elements.retain(|value, _| keep(value));
    }
}

delegate_dot_store!(impl[T: Ord] AwSet<T> => elements);
