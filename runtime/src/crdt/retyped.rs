//! A last-writer-wins register whose value type changed between schema versions.

use crate::{CausalContext, CausalDotStore, DotStore, LwwRegister, Timestamp};

/// A last-writer-wins register whose type changed from `P` (previous) to `C` (current),
/// for replicas on both sides of the change.
///
/// Writes of the current type go to a register under the field's new id. Replicas still on
/// the previous version read and write the register under the old id; a replica on the
/// current version converts their values with an upgrade function, and, given a downgrade
/// function, writes each of its own values there too, converted and at the same stamp (a
/// twin), so that older replicas see it. The visible value is the latest write of either
/// register (the current one on a tie: its twin only holds its conversion). A write
/// without a downgrade removes the previous-type writes it has observed, as one with a
/// downgrade replaces them with its twin; a delete removes the observed writes of both.
///
/// Every replica shows the same value (converted) on three conditions, which the schema
/// author keeps: every version with the current type has a downgrade, or none has (the
/// filter in [`get`](Self::get) depends on it); `upgrade(downgrade(c)) == c`; and
/// `upgrade` takes any previous-type value, since it runs on what older replicas wrote. A
/// second change of the same field's type keeps only the values of the type just before.
///
/// ```
/// use crdtype::{CausalDotStore, HybridClock, ReplicaId, Retyped};
///
/// let mut clock = HybridClock::new(ReplicaId::new(1));
/// let mut estimate = CausalDotStore::<Retyped<String, u32>>::new();
/// let minutes = |text: String| text.trim_end_matches('m').parse().unwrap_or(0);
/// let text = |minutes: u32| format!("{minutes}m");
///
/// let _ = estimate.store.set(&mut estimate.context, clock.now(), 90, Some(text));
/// assert_eq!(estimate.store.get(minutes, true), Some(90));
/// assert_eq!(estimate.store.previous().get().map(String::as_str), Some("90m"));
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Retyped<P, C> {
    pub(crate) previous: LwwRegister<P>,
    pub(crate) current: LwwRegister<C>,
}

impl<P, C> Default for Retyped<P, C> {
    fn default() -> Self {
        Self {
            previous: LwwRegister::default(),
            current: LwwRegister::default(),
        }
    }
}

impl<P, C> Retyped<P, C> {
    /// The two registers, as the wire carries them under the old and the new id.
    pub fn from_parts(previous: LwwRegister<P>, current: LwwRegister<C>) -> Self {
        Self { previous, current }
    }

    /// The register of previous-type writes.
    pub fn previous(&self) -> &LwwRegister<P> {
        &self.previous
    }

    /// The register of current-type writes.
    pub fn current(&self) -> &LwwRegister<C> {
        &self.current
    }

    /// The visible value: the latest write of either register, a previous-type one
    /// converted by `upgrade`; `None` while both are null.
    ///
    /// With `downgraded` (the schema has a downgrade function, so each current-type write
    /// has a converted twin at the same stamp), a current-type write counts only while its
    /// twin is live: an older replica that overwrote or deleted the twin has, as far as it
    /// could see, overwritten or deleted the value, and every replica shows the same.
    pub fn get(&self, upgrade: impl FnOnce(P) -> C, downgraded: bool) -> Option<C>
    where
        P: Clone,
        C: Clone,
    {
        let previous = self.previous.writes().max_by_key(|(_, stamp, _)| *stamp);
        let current = self
            .current
            .writes()
            .filter(|(_, stamp, _)| {
                !downgraded || self.previous.writes().any(|(_, twin, _)| twin == *stamp)
            })
            .max_by_key(|(_, stamp, _)| *stamp);
        match (previous, current) {
            (Some((_, previous_stamp, value)), current)
                if current.is_none_or(|(_, current_stamp, _)| previous_stamp > current_stamp) =>
            {
                Some(upgrade(value.clone()))
            }
            (_, current) => current.map(|(_, _, value)| value.clone()),
        }
    }

    /// Writes `value` at `stamp`, and its conversion by `downgrade`, if given, to the
    /// previous-type register at the same stamp (without one, removes the previous-type
    /// writes observed here); returns the delta.
    pub fn set(
        &mut self,
        context: &mut CausalContext,
        stamp: Timestamp,
        value: C,
        downgrade: Option<impl FnOnce(C) -> P>,
    ) -> CausalDotStore<Self>
    where
        P: Clone,
        C: Clone,
    {
        let mut delta = CausalDotStore::<Self>::new();
        let previous = match downgrade {
            Some(downgrade) => self.previous.set(context, stamp, downgrade(value.clone())),
            None => self.previous.delete(),
        };
        delta.store.previous = previous.store;
        delta.context.join(&previous.context);
        let part = self.current.set(context, stamp, value);
        delta.store.current = part.store;
        delta.context.join(&part.context);
        delta
    }

    /// Sets the register to null: removes the observed writes of both types; returns the
    /// delta.
    pub fn delete(&mut self) -> CausalDotStore<Self> {
        let previous = self.previous.delete();
        let current = self.current.delete();
        let mut context = previous.context;
        context.join(&current.context);
        CausalDotStore {
            store: Self {
                previous: previous.store,
                current: current.store,
            },
            context,
        }
    }
}

impl<P, C> DotStore for Retyped<P, C> {
    fn is_bottom(&self) -> bool {
        self.previous.is_bottom() && self.current.is_bottom()
    }

    fn for_each_dot(&self, visit: &mut dyn FnMut(crate::Dot)) {
        self.previous.for_each_dot(visit);
        self.current.for_each_dot(visit);
    }

    fn join(&mut self, context: &CausalContext, other: Self, other_context: &CausalContext) {
        self.previous.join(context, other.previous, other_context);
        self.current.join(context, other.current, other_context);
    }
}
