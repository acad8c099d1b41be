//! Positive-negative counter.

use crate::{CausalContext, CausalDotStore, DotFun, ReplicaId};

/// A counter that sums the increments and decrements of every replica.
///
/// Each replica's running totals live under its latest dot; a replica's new totals replace
/// its old ones, so join never double-counts.
///
/// Removing the counter (an [`OrMap`](crate::OrMap) entry holding it) removes the totals it
/// observed. A replica that increments concurrently with the removal carries its running
/// total into its new dot, so that replica's whole total (not only the concurrent
/// increment) survives; the other replicas' observed totals are gone. All replicas agree on
/// the result.
///
/// ```
/// use crdtype::{CausalDotStore, PnCounter, ReplicaId};
///
/// let (alice, bob) = (ReplicaId::new(1), ReplicaId::new(2));
/// let mut a = CausalDotStore::<PnCounter>::new();
/// let mut b = CausalDotStore::<PnCounter>::new();
/// let from_a = a.store.increment(&mut a.context, alice, 5);
/// let from_b = b.store.decrement(&mut b.context, bob, 2);
/// a.join(from_b);
/// b.join(from_a);
/// assert_eq!((a.store.value(), b.store.value()), (3, 3));
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct PnCounter {
    /// Per live dot: that replica's (increments, decrements) so far.
    pub(crate) totals: DotFun<(u64, u64)>,
}

impl PnCounter {
    /// The sum of all increments minus all decrements, saturating at the `i64` bounds.
    pub fn value(&self) -> i64 {
        let sum = self.total();
        i64::try_from(sum).unwrap_or(if sum < 0 { i64::MIN } else { i64::MAX })
    }

    /// The sum of all increments minus all decrements, exactly: the per-replica totals are
    /// `u64`, so the sum of any realistic number of replicas fits an `i128`.
    pub fn total(&self) -> i128 {
        self.totals
            .iter()
            .map(|(_, &(up, down))| i128::from(up) - i128::from(down))
            .sum()
    }

    /// Adds `by` as `replica`; returns the delta.
    pub fn increment(
        &mut self,
        context: &mut CausalContext,
        replica: ReplicaId,
        by: u64,
    ) -> CausalDotStore<Self> {
        self.bump(context, replica, by, 0)
    }

    /// Subtracts `by` as `replica`; returns the delta.
    pub fn decrement(
        &mut self,
        context: &mut CausalContext,
        replica: ReplicaId,
        by: u64,
    ) -> CausalDotStore<Self> {
        self.bump(context, replica, 0, by)
    }

    fn bump(
        &mut self,
        context: &mut CausalContext,
        replica: ReplicaId,
        up: u64,
        down: u64,
    ) -> CausalDotStore<Self> {
        let mut totals = (up, down);
        let mut observed = CausalContext::new();
        self.totals.retain(|dot, &(old_up, old_down)| {
            if dot.replica() != replica {
                return true;
            }
            totals = (
                totals.0.saturating_add(old_up),
                totals.1.saturating_add(old_down),
            );
            observed.insert(dot);
            false
        });
        let dot = context.issue_dot(replica);
        observed.insert(dot);
        self.totals.insert(dot, totals);
        CausalDotStore {
            store: Self {
                totals: DotFun::single(dot, totals),
            },
            context: observed,
        }
    }
}

delegate_dot_store!(impl[] PnCounter => totals);
