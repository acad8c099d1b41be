//! Causal contexts: the set of dots a replica (or a delta) has seen.

use core::fmt;
use core::ops::RangeInclusive;

use smallvec::SmallVec;

use crate::{Dot, ReplicaId};

/// A set of dots: a version vector plus a cloud of dots seen out of order.
///
/// Stored as runs of consecutive sequence numbers per replica. A replica's run that starts
/// at 1 is its version-vector entry (dots `1..=n` all seen); every other run is part of the
/// dot cloud. The runs are kept canonical after every operation (sorted, disjoint, never
/// adjacent: a dot that closes a gap merges its neighbours at once, which is compaction),
/// so two contexts are equal exactly when they represent the same set.
///
/// Design decision: runs rather than single cloud dots, in one sorted array rather than
/// maps. A document is written by a handful of replicas, so a binary search over a
/// contiguous array beats hashing or a tree. The context of a delta holds the dots a change
/// replaced and the ones it issued, which are consecutive for a batch of edits by one
/// replica: as runs that is one or two entries, held inline without a heap allocation,
/// however many fields the batch wrote. Costs: `contains` and `insert` are O(log n) for n
/// runs; inserting a dot that opens a new run is O(n).
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct CausalContext {
    /// Sorted by `(replica, first)`; within a replica, disjoint and not adjacent.
    runs: SmallVec<[Run; 2]>,
}

/// Dots `first..=last` of `replica`, with `1 <= first <= last`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
struct Run {
    replica: ReplicaId,
    first: u64,
    last: u64,
}

impl Run {
    fn single(dot: Dot) -> Self {
        Self {
            replica: dot.replica(),
            first: dot.seq(),
            last: dot.seq(),
        }
    }

    /// Extends the run by `next` when `next` continues it (same replica, starting within
    /// the run or right after it), and says whether it did. A run starting before this
    /// one is never taken in: callers hold their runs in order of start.
    #[inline]
    fn absorb(&mut self, next: Run) -> bool {
        // `next.first >= 1`, so `next.first - 1` cannot underflow, where `self.last + 1`
        // could overflow.
        let continues =
            self.replica == next.replica && self.first <= next.first && next.first - 1 <= self.last;
        if continues {
            self.last = self.last.max(next.last);
        }
        continues
    }

    /// The run's start in `(replica, seq)` order, as one integer: one comparison instead
    /// of two on the hot paths.
    #[inline]
    fn key(&self) -> u128 {
        order_key(self.replica, self.first)
    }
}

impl CausalContext {
    /// The empty context.
    pub const fn new() -> Self {
        Self {
            runs: SmallVec::new_const(),
        }
    }

    /// True when the context holds no dot.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// Whether `dot` is in the set. O(log n). Sequence number 0 is the empty prefix, which
    /// every context contains: such a dot is never issued, and a store entry carrying one is
    /// dropped by the next join.
    #[inline]
    pub fn contains(&self, dot: Dot) -> bool {
        if dot.seq() == 0 {
            return true;
        }
        let after = self.runs_starting_at_or_before(dot);
        after > 0 && {
            let run = self.runs[after - 1];
            run.replica == dot.replica() && dot.seq() <= run.last
        }
    }

    /// Adds `dot` to the set, merging it into the runs it touches. O(log n), plus O(n) when
    /// it starts a new run in the middle.
    pub fn insert(&mut self, dot: Dot) {
        if dot.seq() == 0 {
            return;
        }
        let key = order_key(dot.replica(), dot.seq());
        let runs = self.runs.as_mut_slice();
        // Dots mostly arrive in order: check the last run before searching.
        let at = if runs.last().is_none_or(|last| last.key() <= key) {
            runs.len()
        } else {
            runs_starting_at_or_before(runs, dot)
        };
        let extends_previous = at > 0 && {
            let previous = runs[at - 1];
            // `seq >= 1` here, so `seq - 1` cannot underflow; `last + 1` could overflow.
            previous.replica == dot.replica() && dot.seq() - 1 <= previous.last
        };
        let joins_next = runs
            .get(at)
            .is_some_and(|next| next.replica == dot.replica() && next.first - 1 == dot.seq());
        match (extends_previous, joins_next) {
            (true, false) => runs[at - 1].last = runs[at - 1].last.max(dot.seq()),
            // Canonical runs leave a gap of at least one dot, so this dot is that gap.
            (true, true) => {
                runs[at - 1].last = runs[at].last;
                self.runs.remove(at);
            }
            (false, true) => runs[at].first = dot.seq(),
            (false, false) => self.runs.insert(at, Run::single(dot)),
        }
    }

    /// The next dot `replica` should issue: one past the greatest of its dots in the set.
    /// O(log n).
    ///
    /// # Panics
    ///
    /// If `replica` has used every sequence number up to `u64::MAX`. Contexts received from
    /// other replicas never get there: [`CausalDotStore::validate`](crate::CausalDotStore::validate)
    /// refuses sequence numbers above [`MAX_SEQ`].
    #[inline]
    pub fn next_dot(&self, replica: ReplicaId) -> Dot {
        Dot::new(replica, successor_seq(self.max_seq(replica), replica))
    }

    /// Issues the next dot of `replica` and adds it to the set: [`next_dot`](Self::next_dot)
    /// then [`insert`](Self::insert) in one look-up. O(log n). Panics where `next_dot` does.
    #[inline]
    pub fn issue_dot(&mut self, replica: ReplicaId) -> Dot {
        let after = self.runs_of_replica_end(replica);
        match after.checked_sub(1).map(|index| &mut self.runs[index]) {
            Some(run) if run.replica == replica => {
                run.last = successor_seq(run.last, replica);
                Dot::new(replica, run.last)
            }
            _ => self.open_first_run(after, replica),
        }
    }

    /// The first dot of `replica`, in a new run at `index`: kept out of line so that the
    /// usual case of [`issue_dot`](Self::issue_dot) inlines into its callers.
    #[cold]
    #[inline(never)]
    fn open_first_run(&mut self, index: usize, replica: ReplicaId) -> Dot {
        let dot = Dot::new(replica, 1);
        self.runs.insert(index, Run::single(dot));
        dot
    }

    /// The greatest sequence number of `replica` in the set (0 when there is none).
    /// O(log n).
    pub fn max_seq(&self, replica: ReplicaId) -> u64 {
        let after = self.runs_of_replica_end(replica);
        match after.checked_sub(1).map(|index| self.runs[index]) {
            Some(run) if run.replica == replica => run.last,
            _ => 0,
        }
    }

    /// Adds every dot of `other` to the set (set union). O(n + m).
    pub fn join(&mut self, other: &CausalContext) {
        if other.is_empty() || self == other {
            return;
        }
        if self.is_empty() {
            self.clone_from(other);
            return;
        }
        *self = merge_runs(self.runs.iter().copied(), other.runs.iter().copied());
    }

    /// The version vector: `(replica, n)` for each replica whose dots `1..=n` are all in the
    /// set, sorted by replica.
    pub fn version_vector(&self) -> impl Iterator<Item = (ReplicaId, u64)> + '_ {
        self.runs
            .iter()
            .filter(|run| run.first == 1)
            .map(|run| (run.replica, run.last))
    }

    /// The dot cloud: the dots in the set beyond the version vector, sorted.
    pub fn cloud(&self) -> impl Iterator<Item = Dot> + '_ {
        self.runs
            .iter()
            .filter(|run| run.first > 1)
            .flat_map(|run| (run.first..=run.last).map(move |seq| Dot::new(run.replica, seq)))
    }

    /// The set as runs of consecutive dots per replica, sorted, disjoint and not adjacent:
    /// the compact form to encode.
    pub fn runs(&self) -> impl Iterator<Item = (ReplicaId, RangeInclusive<u64>)> + '_ {
        self.runs
            .iter()
            .map(|run| (run.replica, run.first..=run.last))
    }

    /// How many dots the set holds (saturating at `u64::MAX`).
    pub fn dot_count(&self) -> u64 {
        self.runs.iter().fold(0u64, |sum, run| {
            sum.saturating_add((run.last - run.first).saturating_add(1))
        })
    }

    /// Every dot in the set, sorted. Beware: a run of `n` dots yields `n` items; use
    /// [`runs`](Self::runs) to reason about large contexts.
    pub fn iter(&self) -> impl Iterator<Item = Dot> + '_ {
        self.runs
            .iter()
            .flat_map(|run| (run.first..=run.last).map(move |seq| Dot::new(run.replica, seq)))
    }

    /// The context of the runs `(replica, first, last)`, given in any order and possibly
    /// overlapping; `None` when a run starts at 0 or ends before it starts. O(n log n) for
    /// n runs, whatever their lengths.
    pub(crate) fn from_runs(runs: impl Iterator<Item = (ReplicaId, u64, u64)>) -> Option<Self> {
        let mut context = Self::new();
        // Checked and pushed one by one: `collect` reserves and grows through the
        // iterator's bounds, which costs more than a delta's few runs.
        for (replica, first, last) in runs {
            if first == 0 || first > last {
                return None;
            }
            context.runs.push(Run {
                replica,
                first,
                last,
            });
        }
        context.compact();
        Some(context)
    }

    /// How many runs start at or before `dot`, in `(replica, seq)` order.
    #[inline]
    fn runs_starting_at_or_before(&self, dot: Dot) -> usize {
        runs_starting_at_or_before(&self.runs, dot)
    }

    /// How many runs belong to replicas up to and including `replica`.
    #[inline]
    fn runs_of_replica_end(&self, replica: ReplicaId) -> usize {
        self.runs.partition_point(|run| run.replica <= replica)
    }

    /// Restores the canonical form from runs in any order, overlapping or adjacent, without
    /// changing the set of dots they represent: sorts, then merges.
    fn compact(&mut self) {
        // Received contexts come canonical from every encoder: checked in one pass, not
        // rebuilt.
        if self.is_canonical() {
            return;
        }
        let mut runs = core::mem::take(&mut self.runs);
        runs.retain(|run| run.first >= 1 && run.first <= run.last);
        runs.sort_unstable_by_key(Run::key);
        let mut builder = RunsBuilder::default();
        runs.into_iter().for_each(|run| builder.push(run));
        *self = builder.finish();
    }

    /// Whether the runs are valid, sorted, and neither overlap nor touch.
    pub(crate) fn is_canonical(&self) -> bool {
        self.runs
            .iter()
            .all(|run| run.first >= 1 && run.first <= run.last)
            && self.runs.windows(2).all(|pair| {
                let (a, b) = (pair[0], pair[1]);
                a.replica < b.replica
                    || (a.replica == b.replica && a.last.saturating_add(1) < b.first)
            })
    }
}

/// The dots of a delta that a batch of edits is building, recorded as the edits happen and
/// turned into a [`CausalContext`] once, when the batch is complete.
///
/// Recording a dot extends a run or opens one, without the searches that keep a context
/// canonical after every edit. The dots a batch of register writes issues are consecutive,
/// and the dots it replaces usually are too (the fields were last written in the same
/// order), so such a batch records two runs whatever its size, which
/// [`build`](Self::build) merges on a path of its own. [`build`](Self::build) keeps the
/// buffers, so one builder serves batch after batch.
#[derive(Clone, Debug, Default)]
pub struct ContextBuilder {
    observed: RecordedRuns,
    issued: RecordedRuns,
}

impl ContextBuilder {
    /// An empty builder.
    pub const fn new() -> Self {
        Self {
            observed: RecordedRuns::new(),
            issued: RecordedRuns::new(),
        }
    }

    /// Records a dot the batch observed: one its edits replace or remove. O(1).
    #[inline]
    pub fn observe(&mut self, dot: Dot) {
        self.observed.append(dot);
    }

    /// Records every dot of `context`: the context of a delta made apart from the batch
    /// (a counter's or a flag's write) and joined into it. Its dots are recorded with the
    /// observed ones, issued or not: the built context is their union either way. O(1) per
    /// run; a context of several runs sends [`build`](Self::build) to its general path.
    pub(crate) fn observe_context(&mut self, context: &CausalContext) {
        for run in &context.runs {
            self.observed.append_run(*run);
        }
    }

    /// Records a dot the batch issued. O(1).
    #[inline]
    pub fn issue(&mut self, dot: Dot) {
        self.issued.append(dot);
    }

    /// The context of every dot recorded since the last build; empties the builder.
    /// O(n) for n runs recorded in order, O(n log n) otherwise.
    pub fn build(&mut self) -> CausalContext {
        let mut context = CausalContext::new();
        self.build_into(&mut context);
        context
    }

    /// Like [`build`](Self::build), but writes into `context`, replacing what it held:
    /// where the context has a place already (a delta being gathered), this saves
    /// returning it through memory and copying it there.
    pub(crate) fn build_into(&mut self, context: &mut CausalContext) {
        if self.observed.closed.is_empty() && self.issued.closed.is_empty() {
            // The usual batch: one run of dots replaced, one of dots issued. Merged
            // directly, without the iterators of the general case, which cost several
            // times more than the two runs.
            let (observed, issued) = (self.observed.open.take(), self.issued.open.take());
            let key = |run: Option<Run>| run.map(|run| run.key());
            let (low, high) = if key(issued) < key(observed) {
                (issued, observed)
            } else {
                (observed, issued)
            };
            // Built from an array rather than pushed: a push checks the capacity, which
            // costs more than the runs.
            let runs = match (low, high) {
                (Some(mut low), Some(high)) => {
                    if low.absorb(high) {
                        SmallVec::from_buf_and_len([low; 2], 1)
                    } else {
                        SmallVec::from_buf([low, high])
                    }
                }
                (Some(only), None) | (None, Some(only)) => SmallVec::from_buf_and_len([only; 2], 1),
                (None, None) => SmallVec::new_const(),
            };
            context.runs = runs;
            return;
        }
        let [observed, issued] = [&mut self.observed, &mut self.issued].map(RecordedRuns::close);
        *context = merge_runs(observed.drain(..), issued.drain(..));
    }
}

/// Runs recorded in arrival order: a dot extends the open run when it continues it (the
/// usual case: a batch's dots come in order), else it closes that run and opens one. The
/// open run stays out of the vector, so that extending it touches none.
#[derive(Clone, Debug, Default)]
struct RecordedRuns {
    open: Option<Run>,
    closed: SmallVec<[Run; 2]>,
}

impl RecordedRuns {
    const fn new() -> Self {
        Self {
            open: None,
            closed: SmallVec::new_const(),
        }
    }

    #[inline]
    fn append(&mut self, dot: Dot) {
        if dot.seq() != 0 {
            self.append_run(Run::single(dot));
        }
    }

    /// Records `run`: the open run takes it in if it continues it; otherwise the open run
    /// is closed and `run` opens the next.
    #[inline]
    fn append_run(&mut self, run: Run) {
        if let Some(open) = &mut self.open
            && open.absorb(run)
        {
            return;
        }
        if let Some(closed) = self.open.replace(run) {
            self.closed.push(closed);
        }
    }

    /// Every run recorded, sorted by start, in the vector (which `build` drains).
    fn close(&mut self) -> &mut SmallVec<[Run; 2]> {
        self.closed.extend(self.open.take());
        if !self.closed.is_sorted_by_key(Run::key) {
            self.closed.sort_unstable_by_key(Run::key);
        }
        &mut self.closed
    }
}

/// The greatest sequence number a dot may carry: contexts and stores received from other
/// replicas with anything above it are refused by
/// [`CausalDotStore::validate`](crate::CausalDotStore::validate), so that issuing the next
/// dot can never run out of numbers because of what a peer sent.
pub const MAX_SEQ: u64 = 1 << 62;

/// `seq + 1` for the next dot of `replica`.
#[inline]
fn successor_seq(seq: u64, replica: ReplicaId) -> u64 {
    match seq.checked_add(1) {
        Some(next) => next,
        None => panic!("replica {replica} has used every sequence number"),
    }
}

/// How many of the sorted `runs` start at or before `dot`. Two searches on plain integers
/// (the replica's runs, then the run within them) beat one on `(replica, seq)` pairs.
#[inline]
fn runs_starting_at_or_before(runs: &[Run], dot: Dot) -> usize {
    let replica_start = runs.partition_point(|run| run.replica < dot.replica());
    let within = runs[replica_start..]
        .partition_point(|run| run.replica == dot.replica() && run.first <= dot.seq());
    replica_start + within
}

/// The dots of a context numbered `0..dot_count` in order, so that a bitmap can stand for
/// a set of them.
pub(crate) struct DotRanks<'c> {
    runs: &'c [Run],
    /// How many dots the runs before each run hold.
    before: Vec<u64>,
}

impl CausalContext {
    /// The numbering of this context's dots.
    pub(crate) fn ranks(&self) -> DotRanks<'_> {
        let mut total = 0u64;
        let before = self
            .runs
            .iter()
            .map(|run| {
                let at = total;
                total = total.saturating_add(run.last - run.first + 1);
                at
            })
            .collect();
        DotRanks {
            runs: &self.runs,
            before,
        }
    }
}

impl DotRanks<'_> {
    /// The number of `dot` among the context's dots, or `None` when the context lacks it.
    /// O(log n) for n runs.
    pub(crate) fn rank(&self, dot: Dot) -> Option<u64> {
        let at = runs_starting_at_or_before(self.runs, dot).checked_sub(1)?;
        let run = self.runs.get(at)?;
        if dot.seq() == 0 || run.replica != dot.replica() || dot.seq() > run.last {
            return None;
        }
        Some(self.before.get(at)? + (dot.seq() - run.first))
    }
}

/// `(replica, seq)` as one integer with the same order.
#[inline]
fn order_key(replica: ReplicaId, seq: u64) -> u128 {
    (u128::from(replica.get()) << 64) | u128::from(seq)
}

/// Coalesces runs arriving sorted by start, holding the open run in a local so that only
/// finished runs touch the vector.
#[derive(Default)]
struct RunsBuilder {
    done: SmallVec<[Run; 2]>,
    open: Option<Run>,
}

impl RunsBuilder {
    #[inline]
    fn push(&mut self, run: Run) {
        if let Some(open) = &mut self.open
            && open.absorb(run)
        {
            return;
        }
        if let Some(finished) = self.open.replace(run) {
            self.done.push(finished);
        }
    }

    fn finish(mut self) -> CausalContext {
        self.done.extend(self.open);
        CausalContext { runs: self.done }
    }
}

/// The canonical context of two run sequences, each sorted by start.
fn merge_runs(a: impl Iterator<Item = Run>, b: impl Iterator<Item = Run>) -> CausalContext {
    let mut runs = RunsBuilder::default();
    let mut b = b.peekable();
    for run in a {
        while let Some(before) = b.next_if(|other| other.key() < run.key()) {
            runs.push(before);
        }
        runs.push(run);
    }
    b.for_each(|run| runs.push(run));
    runs.finish()
}

impl fmt::Debug for CausalContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for run in &self.runs {
            list.entry(&format_args!(
                "{}:{}..={}",
                run.replica, run.first, run.last
            ));
        }
        list.finish()
    }
}

impl FromIterator<Dot> for CausalContext {
    /// The context of `dots`, in any order, with duplicates. O(n log n).
    fn from_iter<I: IntoIterator<Item = Dot>>(dots: I) -> Self {
        let mut context = Self {
            runs: dots.into_iter().map(Run::single).collect(),
        };
        context.compact();
        context
    }
}

impl Extend<Dot> for CausalContext {
    fn extend<I: IntoIterator<Item = Dot>>(&mut self, dots: I) {
        for dot in dots {
            self.insert(dot);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;

    fn dot(replica: u64, seq: u64) -> Dot {
        Dot::new(ReplicaId::new(replica), seq)
    }

    /// Dots of 4 replicas, mostly small sequence numbers (so that runs meet), sometimes at
    /// the top of the range (so that arithmetic at `u64::MAX` is exercised).
    fn dots() -> impl Strategy<Value = Vec<Dot>> {
        let seq = prop_oneof![8 => 1..12u64, 1 => (u64::MAX - 3)..=u64::MAX];
        prop::collection::vec((0..4u64, seq).prop_map(|(r, s)| dot(r, s)), 0..40)
    }

    /// The dots of one run, possibly empty: consecutive sequence numbers of one replica,
    /// some at the top of the range.
    fn run() -> impl Strategy<Value = Vec<Dot>> {
        let first = prop_oneof![8 => 1..12u64, 1 => (u64::MAX - 3)..=u64::MAX];
        (0..3u64, first, 0..5u64).prop_map(|(replica, first, len)| {
            (first..=first.saturating_add(len))
                .take(len as usize)
                .map(|seq| dot(replica, seq))
                .collect()
        })
    }

    fn represented(context: &CausalContext) -> BTreeSet<Dot> {
        context.iter().collect()
    }

    #[test]
    fn out_of_order_dots_wait_in_the_cloud_until_the_gap_closes() {
        let mut context = CausalContext::new();
        context.insert(dot(1, 1));
        context.insert(dot(1, 3));
        context.insert(dot(1, 4));
        assert_eq!(context.cloud().collect::<Vec<_>>(), [dot(1, 3), dot(1, 4)]);
        assert_eq!(
            context.version_vector().collect::<Vec<_>>(),
            [(ReplicaId::new(1), 1)]
        );
        assert!(!context.contains(dot(1, 2)));
        context.insert(dot(1, 2));
        assert_eq!(
            context.version_vector().collect::<Vec<_>>(),
            [(ReplicaId::new(1), 4)]
        );
        assert_eq!(context.cloud().count(), 0);
        assert_eq!(context.next_dot(ReplicaId::new(1)), dot(1, 5));
        assert_eq!(context.next_dot(ReplicaId::new(9)), dot(9, 1));
    }

    #[test]
    fn received_runs_are_refused_when_empty_or_from_0_and_made_canonical_otherwise() {
        let replica = ReplicaId::new(1);
        assert_eq!(
            CausalContext::from_runs([(replica, 0, 3)].into_iter()),
            None
        );
        assert_eq!(
            CausalContext::from_runs([(replica, 5, 4)].into_iter()),
            None
        );
        // A bad run after good ones refuses the whole context.
        let runs = [(replica, 1, 2), (replica, 3, 2)];
        assert_eq!(CausalContext::from_runs(runs.into_iter()), None);
        let runs = [(ReplicaId::new(2), 1, 1), (replica, 4, 6), (replica, 1, 4)];
        let context = CausalContext::from_runs(runs.into_iter()).unwrap();
        assert!(context.is_canonical());
        assert_eq!(
            context.runs().collect::<Vec<_>>(),
            [(replica, 1..=6), (ReplicaId::new(2), 1..=1)]
        );
    }

    #[test]
    fn the_dots_of_a_batch_by_one_replica_stay_inline() {
        let mut context = CausalContext::new();
        // A batch replacing writes 11..=20 with writes 21..=30, recorded interleaved.
        for field in 0..10 {
            context.insert(dot(1, 11 + field));
            context.insert(dot(1, 21 + field));
        }
        assert_eq!(
            context.runs().collect::<Vec<_>>(),
            [(ReplicaId::new(1), 11..=30)]
        );
        assert!(!context.runs.spilled());
    }

    #[test]
    fn next_dot_looks_past_cloud_dots() {
        let context: CausalContext = [dot(1, 5)].into_iter().collect();
        assert_eq!(context.next_dot(ReplicaId::new(1)), dot(1, 6));
    }

    proptest! {
        #[test]
        fn insert_keeps_the_represented_set_and_the_canonical_form(dots in dots()) {
            let mut context = CausalContext::new();
            let mut model = BTreeSet::new();
            for dot in dots {
                context.insert(dot);
                model.insert(dot);
                prop_assert!(context.is_canonical());
                prop_assert_eq!(&represented(&context), &model);
                for probe in (0..14).chain((u64::MAX - 4)..=u64::MAX) {
                    let probe = Dot::new(dot.replica(), probe);
                    prop_assert_eq!(context.contains(probe), probe.seq() == 0 || model.contains(&probe));
                }
            }
            prop_assert_eq!(context.dot_count(), model.len() as u64);
            for replica in (0..4).filter(|&r| context.max_seq(ReplicaId::new(r)) < u64::MAX) {
                let next = context.next_dot(ReplicaId::new(replica));
                prop_assert!(!context.contains(next));
                let max = model.iter().filter(|d| d.replica().get() == replica).map(|d| d.seq()).max();
                prop_assert_eq!(next.seq(), max.unwrap_or(0) + 1);
                let mut issued = context.clone();
                prop_assert_eq!(issued.issue_dot(ReplicaId::new(replica)), next);
                let mut inserted = context.clone();
                inserted.insert(next);
                prop_assert_eq!(issued, inserted);
            }
        }

        #[test]
        fn a_builder_builds_the_context_of_the_dots_it_recorded(
            observed in dots(),
            issued in dots(),
            rounds in 1..3usize,
        ) {
            let mut builder = ContextBuilder::new();
            for _ in 0..rounds {
                for &dot in &observed {
                    builder.observe(dot);
                }
                for &dot in &issued {
                    builder.issue(dot);
                }
                let built = builder.build();
                prop_assert!(built.is_canonical());
                let expected: CausalContext = observed.iter().chain(&issued).copied().collect();
                prop_assert_eq!(built, expected);
            }
        }

        /// Whole contexts recorded between single dots: the contexts of parts made apart
        /// from the batch, scattered or of one run.
        #[test]
        fn a_builder_builds_the_context_of_the_contexts_it_recorded(
            before in dots(),
            part in dots(),
            part_run in run(),
            after in dots(),
            issued in dots(),
        ) {
            let mut builder = ContextBuilder::new();
            before.iter().for_each(|&dot| builder.observe(dot));
            issued.iter().for_each(|&dot| builder.issue(dot));
            for part in [&part, &part_run] {
                let part_context: CausalContext = part.iter().copied().collect();
                builder.observe_context(&part_context);
            }
            after.iter().for_each(|&dot| builder.observe(dot));
            let expected: CausalContext =
                [&before, &part, &part_run, &after, &issued].into_iter().flatten().copied().collect();
            // Into a context that held other dots, on the general path: they are replaced.
            let mut into: CausalContext = [dot(9, 1), dot(9, 5)].into_iter().collect();
            builder.build_into(&mut into);
            prop_assert!(into.is_canonical());
            prop_assert_eq!(into, expected);
        }

        /// The usual batch, which `build` merges on a path of its own: at most one run of
        /// dots observed and one issued, overlapping, adjacent or apart.
        #[test]
        fn a_builder_of_one_run_each_builds_the_context_of_its_dots(
            observed in run(),
            issued in run(),
        ) {
            let mut builder = ContextBuilder::new();
            observed.iter().for_each(|&dot| builder.observe(dot));
            issued.iter().for_each(|&dot| builder.issue(dot));
            let built = builder.build();
            prop_assert!(built.is_canonical());
            let expected: CausalContext = observed.iter().chain(&issued).copied().collect();
            prop_assert_eq!(&built, &expected);
            // Into a context that held other dots: they are replaced.
            observed.iter().for_each(|&dot| builder.observe(dot));
            issued.iter().for_each(|&dot| builder.issue(dot));
            let mut into: CausalContext = [dot(9, 1), dot(9, 5)].into_iter().collect();
            builder.build_into(&mut into);
            prop_assert_eq!(into, expected);
        }

        #[test]
        fn join_is_set_union_and_keeps_the_canonical_form(a in dots(), b in dots()) {
            let left: CausalContext = a.iter().copied().collect();
            let right: CausalContext = b.iter().copied().collect();
            let mut joined = left.clone();
            joined.join(&right);
            prop_assert!(joined.is_canonical());
            let union: BTreeSet<Dot> = a.iter().chain(&b).copied().collect();
            prop_assert_eq!(represented(&joined), union);
            let mut other_way = right.clone();
            other_way.join(&left);
            prop_assert_eq!(&joined, &other_way);
        }

        #[test]
        fn compaction_never_changes_the_set_of_dots(
            raw in prop::collection::vec((0..3u64, 1..12u64, 0..4u64), 0..12),
        ) {
            // Runs in any order, overlapping and adjacent: a deliberately raw context.
            let mut context = CausalContext::new();
            let mut model = BTreeSet::new();
            for (replica, first, length) in raw {
                let run = Run { replica: ReplicaId::new(replica), first, last: first + length };
                model.extend((run.first..=run.last).map(|seq| Dot::new(run.replica, seq)));
                context.runs.push(run);
            }
            context.compact();
            prop_assert!(context.is_canonical());
            prop_assert_eq!(represented(&context), model.clone());
            let rebuilt: CausalContext = model.into_iter().collect();
            prop_assert_eq!(context, rebuilt);
        }
    }
}
