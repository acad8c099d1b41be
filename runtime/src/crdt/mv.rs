//! Multi-value register.

use crate::{CausalContext, CausalDotStore, DotFun, ReplicaId};

/// A register that keeps every concurrent write until a later write observes them.
///
/// ```
/// use crdtype::{CausalDotStore, MvRegister, ReplicaId};
///
/// let (alice, bob) = (ReplicaId::new(1), ReplicaId::new(2));
/// let mut a = CausalDotStore::<MvRegister<&str>>::new();
/// let mut b = CausalDotStore::<MvRegister<&str>>::new();
/// let from_a = a.store.write(&mut a.context, alice, "blue");
/// let from_b = b.store.write(&mut b.context, bob, "green");
/// a.join(from_b);
/// b.join(from_a);
/// assert_eq!(a.store.values().collect::<Vec<_>>(), [&"blue", &"green"]);
/// assert_eq!(a, b);
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct MvRegister<T> {
    pub(crate) values: DotFun<T>,
}

impl<T> Default for MvRegister<T> {
    fn default() -> Self {
        Self {
            values: DotFun::new(),
        }
    }
}

impl<T> MvRegister<T> {
    /// The live values, one per concurrent write, in dot order.
    pub fn values(&self) -> impl Iterator<Item = &T> + '_ {
        self.values.iter().map(|(_, value)| value)
    }

    /// Writes `value` as `replica`, replacing every value observed; returns the delta.
    pub fn write(
        &mut self,
        context: &mut CausalContext,
        replica: ReplicaId,
        value: T,
    ) -> CausalDotStore<Self>
    where
        T: Clone,
    {
        self.values
            .overwrite(context, replica, value)
            .map_store(|values| Self { values })
    }

    /// Removes every value observed (set to null); returns the delta.
    pub fn clear(&mut self) -> CausalDotStore<Self> {
        self.values.clear().map_store(|values| Self { values })
    }
}

delegate_dot_store!(impl[T] MvRegister<T> => values);
