//! The value of a `map` field's entry, with the presence that keeps it in the map.

use crate::{CausalContext, CausalDotStore, Dot, DotFun, DotStore, ReplicaId};

/// A map entry of a derived struct's `map` field: the entry's typed CRDT plus a presence
/// that every insertion or update of the entry sets, and that a removal clears as far as
/// it has observed it.
///
/// The map shows an entry while its presence is set. Without it, an entry whose value
/// holds no dots (a struct of flags that are all off, or of empty sets) could not be in the
/// map at all, and a removed entry that keeps dotless state (a two-phase set's removals)
/// could not leave it. An update concurrent with a removal sets a presence the removal has
/// not seen, so the entry stays: update wins, as in [`OrMap`](crate::OrMap).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Entry<S> {
    pub(crate) presence: DotFun<()>,
    pub(crate) value: S,
}

impl<S: Default> Default for Entry<S> {
    fn default() -> Self {
        Self {
            presence: DotFun::new(),
            value: S::default(),
        }
    }
}

impl<S> Entry<S> {
    /// Whether the entry is in the map: some insertion or update of it that no removal has
    /// observed is live.
    pub fn is_present(&self) -> bool {
        !self.presence.is_empty()
    }

    /// The entry's typed CRDT.
    pub fn value(&self) -> &S {
        &self.value
    }
}

impl<S: DotStore> Entry<S> {
    /// Runs `mutate`, a mutator of the value, and marks the entry present as `replica`;
    /// returns the delta.
    pub fn update(
        &mut self,
        context: &mut CausalContext,
        replica: ReplicaId,
        mutate: impl FnOnce(&mut S, &mut CausalContext) -> CausalDotStore<S>,
    ) -> CausalDotStore<Self> {
        let value = mutate(&mut self.value, context);
        let presence = self.presence.overwrite(context, replica, ());
        let mut delta_context = value.context;
        delta_context.join(&presence.context);
        CausalDotStore {
            store: Self {
                presence: presence.store,
                value: value.store,
            },
            context: delta_context,
        }
    }
}

impl<S: DotStore> DotStore for Entry<S> {
    fn is_bottom(&self) -> bool {
        self.presence.is_bottom() && self.value.is_bottom()
    }

    fn for_each_dot(&self, visit: &mut dyn FnMut(Dot)) {
        self.presence.for_each_dot(visit);
        self.value.for_each_dot(visit);
    }

    fn join(&mut self, context: &CausalContext, other: Self, other_context: &CausalContext) {
        self.presence.join(context, other.presence, other_context);
        self.value.join(context, other.value, other_context);
    }
}
