//! Enable-wins flag.

use crate::{CausalContext, CausalDotStore, DotSet, ReplicaId};

/// A boolean where an enable concurrent with a disable wins.
///
/// ```
/// use crdtype::{CausalDotStore, EwFlag, ReplicaId};
///
/// let mut a = CausalDotStore::<EwFlag>::new();
/// let on = a.store.enable(&mut a.context, ReplicaId::new(1));
/// let mut b = a.clone();
/// let off = b.store.disable();
/// let again = a.store.enable(&mut a.context, ReplicaId::new(1));
/// b.join(again);
/// a.join(off);
/// assert!(a.store.is_enabled() && b.store.is_enabled());
/// # drop(on);
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct EwFlag {
    pub(crate) enables: DotSet,
}

impl EwFlag {
    /// True while any enable that no disable has observed is live.
    pub fn is_enabled(&self) -> bool {
        !self.enables.is_empty()
    }

    /// Turns the flag on as `replica`; returns the delta.
    pub fn enable(
        &mut self,
        context: &mut CausalContext,
        replica: ReplicaId,
    ) -> CausalDotStore<Self> {
        self.enables
            .overwrite(context, replica, ())
            .map_store(|enables| Self { enables })
    }

    /// Turns the flag off: removes the enables observed; returns the delta.
    pub fn disable(&mut self) -> CausalDotStore<Self> {
        self.enables.clear().map_store(|enables| Self { enables })
    }
}

delegate_dot_store!(impl[] EwFlag => enables);
