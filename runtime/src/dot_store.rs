//! Causal dot stores and their join (Almeida, Shoker and Baquero, "Delta State Replicated
//! Data Types", 2018, section 6; the layout follows DSON).
//!
//! A dot store holds values tagged with dots; paired with a [`CausalContext`] (what has been
//! seen) it becomes a [`CausalDotStore`], and the join of two of those is the one rule every
//! CRDT in this crate inherits: a dot present on one side survives unless the other side has
//! seen it (then the other side removed it); a dot present on both sides survives.

use std::collections::BTreeMap;

use smallvec::SmallVec;

use crate::{CausalContext, ContextBuilder, Dot, MAX_SEQ, ReplicaId};

/// A store of dot-tagged data that can be joined under causal contexts.
///
/// # Laws
///
/// For causal dot stores built from these (see [`CausalDotStore::join`]), join is
/// commutative, associative and idempotent, and the bottom element ([`Default`]) is its
/// identity. Implementations keep their representation canonical (sorted, no bottom
/// entries), so that structural equality is semantic equality.
pub trait DotStore: Default {
    /// True for the bottom element: no dots and no other state. A bottom value is the same
    /// as an absent one, and a [`DotMap`] never holds one.
    fn is_bottom(&self) -> bool;

    /// Calls `visit` with every dot in the store.
    fn for_each_dot(&self, visit: &mut dyn FnMut(Dot));

    /// Adds every dot in the store to `context`: the dots a removal of this value observes.
    fn collect_dots(&self, context: &mut CausalContext) {
        self.for_each_dot(&mut |dot| context.insert(dot));
    }

    /// Removes every dot from the store, keeping any state that is not tagged with dots
    /// (such as the permanent removals of a [`TwoPhaseSet`](crate::TwoPhaseSet)): the effect
    /// of a removal that observed all of it. Returns the removed dots.
    fn remove_dots(&mut self) -> CausalContext {
        let mut observed = CausalContext::new();
        self.collect_dots(&mut observed);
        self.join(&observed, Self::default(), &observed);
        observed
    }

    /// Joins `other`, whose context is `other_context`, into `self`, whose context is
    /// `context`. The contexts are not changed; the caller joins them afterwards. Both
    /// sides must be valid: each stores only dots its context holds, as every mutator,
    /// join and decode keeps (and [`CausalDotStore::validate`] checks); the shortcuts of
    /// the joins rely on it.
    fn join(&mut self, context: &CausalContext, other: Self, other_context: &CausalContext);
}

/// A dot store paired with the causal context that says which dots it has seen: the state of
/// a delta-state CRDT, and of each delta, which is a value of the same type.
#[derive(Clone, Default, PartialEq, Eq, Debug)]
pub struct CausalDotStore<S> {
    /// The live, dot-tagged data.
    pub store: S,
    /// Every dot seen, live or since removed.
    pub context: CausalContext,
}

impl<S: DotStore> CausalDotStore<S> {
    /// The bottom element: nothing stored, nothing seen.
    #[inline]
    pub fn new() -> Self {
        Self {
            store: S::default(),
            context: CausalContext::new(),
        }
    }

    /// Joins `other` (a full state or a delta) into `self`. Commutative, associative and
    /// idempotent; applying a delta equals joining the state it came from. `other` must be
    /// valid, as everything made here is and as [`validate`](Self::validate) checks of
    /// what comes from elsewhere.
    pub fn join(&mut self, other: Self) {
        if self.context.is_empty() && self.store.is_bottom() {
            // Bottom joined with anything is that thing: how a batch's delta starts.
            *self = other;
            return;
        }
        self.store.join(&self.context, other.store, &other.context);
        self.context.join(&other.context);
    }

    /// `self` joined with `other`, by value.
    #[must_use]
    pub fn joined(mut self, other: Self) -> Self {
        self.join(other);
        self
    }
}

impl<S: DotStore> CausalDotStore<S> {
    /// Checks what every state and delta made by an honest replica satisfies; run it on
    /// anything received from another replica before joining it. Every stored dot must be
    /// in the context (the joins rely on it: such a dot would never be removed), no dot may
    /// be stored twice, and sequence numbers must lie in `1..=MAX_SEQ`.
    pub fn validate(&self) -> Result<(), InvalidDelta> {
        if let Some((replica, range)) = self
            .context
            .runs()
            .find(|(_, range)| *range.end() > MAX_SEQ)
        {
            return Err(InvalidDelta::SequenceTooLarge(Dot::new(
                replica,
                *range.end(),
            )));
        }
        let mut problem = None;
        // A delta's few dots stay on the stack.
        let mut dots: SmallVec<[Dot; 8]> = SmallVec::new();
        self.store.for_each_dot(&mut |dot| {
            dots.push(dot);
            if problem.is_some() {
                return;
            }
            problem = if dot.seq() == 0 {
                Some(InvalidDelta::ZeroSequence(dot))
            } else if dot.seq() > MAX_SEQ {
                Some(InvalidDelta::SequenceTooLarge(dot))
            } else {
                None
            };
        });
        problem
            .or_else(|| stored_dot_problem(&self.context, &mut dots))
            .map_or(Ok(()), Err)
    }
}

/// A dot of `dots` (those a store holds) that `context` lacks or that is stored twice, if
/// any. Up to 8 dots, by pairs; else with one bit per dot of the context when that takes
/// no more than 64 bits per stored dot (a snapshot's context is about as large as its
/// store), O(d log r) for d dots and r runs; else a sort, O(d log d).
fn stored_dot_problem(context: &CausalContext, dots: &mut [Dot]) -> Option<InvalidDelta> {
    if dots.len() <= 8 {
        // A delta's few dots: each looked up, and compared with those before it, without
        // the allocations of the bitmap or the sort.
        return dots.iter().enumerate().find_map(|(index, &dot)| {
            if !context.contains(dot) {
                Some(InvalidDelta::StoredDotNotInContext(dot))
            } else if dots[..index].contains(&dot) {
                Some(InvalidDelta::DotStoredTwice(dot))
            } else {
                None
            }
        });
    }
    let count = context.dot_count();
    if count <= (dots.len() as u64).saturating_mul(64) {
        let ranks = context.ranks();
        let mut seen = vec![0u64; count.div_ceil(64) as usize];
        for &dot in dots.iter() {
            let Some(rank) = ranks.rank(dot) else {
                return Some(InvalidDelta::StoredDotNotInContext(dot));
            };
            // `rank < count`, so the word exists.
            let word = &mut seen[(rank / 64) as usize];
            let bit = 1u64 << (rank % 64);
            if *word & bit != 0 {
                return Some(InvalidDelta::DotStoredTwice(dot));
            }
            *word |= bit;
        }
        return None;
    }
    if let Some(&dot) = dots.iter().find(|dot| !context.contains(**dot)) {
        return Some(InvalidDelta::StoredDotNotInContext(dot));
    }
    dots.sort_unstable();
    dots.windows(2)
        .find(|pair| pair[0] == pair[1])
        .map(|pair| InvalidDelta::DotStoredTwice(pair[0]))
}

/// Why a state or delta received from another replica was refused by
/// [`CausalDotStore::validate`].
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
pub enum InvalidDelta {
    /// A stored dot has sequence number 0, which no replica issues.
    #[error("dot {0} has sequence number 0, which no replica issues")]
    ZeroSequence(Dot),
    /// A dot's sequence number is above [`MAX_SEQ`].
    #[error("dot {0} has a sequence number above the limit of {MAX_SEQ}")]
    SequenceTooLarge(Dot),
    /// A stored dot is missing from the context that should cover it.
    #[error("dot {0} is stored but missing from the delta's context")]
    StoredDotNotInContext(Dot),
    /// A dot is stored twice (under two keys, say): every write has its own dot.
    #[error("dot {0} is stored twice")]
    DotStoredTwice(Dot),
}

impl<S> CausalDotStore<S> {
    /// The same context around `wrap(store)`: lifts the delta of a part into the delta of
    /// the type that wraps it.
    pub fn map_store<T>(self, wrap: impl FnOnce(S) -> T) -> CausalDotStore<T> {
        CausalDotStore {
            store: wrap(self.store),
            context: self.context,
        }
    }
}

/// A map from dots to values; a value is live while its dot is. Kept sorted by dot.
///
/// Inline storage for one entry: a register with one live write needs no heap allocation.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct DotFun<V> {
    entries: SmallVec<[(Dot, V); 1]>,
}

/// A set of dots: the dot store of flags and set elements.
pub type DotSet = DotFun<()>;

impl<V> Default for DotFun<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> DotFun<V> {
    /// The empty store.
    pub const fn new() -> Self {
        Self {
            entries: SmallVec::new_const(),
        }
    }

    /// A store of `entries` given in any order (sorted is cheapest); `Err` names a dot
    /// listed twice.
    pub(crate) fn from_entries(mut entries: SmallVec<[(Dot, V); 1]>) -> Result<Self, Dot> {
        let strictly_sorted = |entries: &[(Dot, V)]| {
            entries.windows(2).all(|pair| match pair {
                [(first, _), (second, _)] => first < second,
                _ => true,
            })
        };
        if !strictly_sorted(&entries) {
            entries.sort_unstable_by_key(|(dot, _)| *dot);
            let twice = entries.windows(2).find_map(|pair| match pair {
                [(first, _), (second, _)] if first == second => Some(*first),
                _ => None,
            });
            if let Some(dot) = twice {
                return Err(dot);
            }
        }
        Ok(Self { entries })
    }

    /// A store holding one entry. Allocates nothing.
    pub fn single(dot: Dot, value: V) -> Self {
        let mut entries = SmallVec::new();
        entries.push((dot, value));
        Self { entries }
    }

    /// Number of live entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no entry is live.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes this store holds on the heap for its entries: zero while one entry fits
    /// inline. Heap memory owned by the values themselves is not counted.
    pub fn heap_bytes(&self) -> usize {
        if self.entries.spilled() {
            self.entries.capacity() * core::mem::size_of::<(Dot, V)>()
        } else {
            0
        }
    }

    /// The live entries, sorted by dot.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (Dot, &V)> + ExactSizeIterator + '_ {
        self.entries.iter().map(|(dot, value)| (*dot, value))
    }

    /// The live dots, sorted.
    pub fn dots(&self) -> impl DoubleEndedIterator<Item = Dot> + ExactSizeIterator + '_ {
        self.entries.iter().map(|(dot, _)| *dot)
    }

    /// The value under `dot`, if live.
    pub fn get(&self, dot: Dot) -> Option<&V> {
        self.position(dot).ok().map(|at| &self.entries[at].1)
    }

    /// Sets the value under `dot`, returning the one it replaces.
    pub fn insert(&mut self, dot: Dot, value: V) -> Option<V> {
        match self.position(dot) {
            Ok(at) => Some(core::mem::replace(&mut self.entries[at].1, value)),
            Err(at) => {
                self.entries.insert(at, (dot, value));
                None
            }
        }
    }

    /// Removes the entry under `dot`.
    pub fn remove(&mut self, dot: Dot) -> Option<V> {
        self.position(dot).ok().map(|at| self.entries.remove(at).1)
    }

    /// Keeps only the entries for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(Dot, &V) -> bool) {
        self.entries.retain(|(dot, value)| keep(*dot, value));
    }

    /// Removes every entry; returns the delta of the removal: nothing stored, the removed
    /// dots as context.
    pub fn clear(&mut self) -> CausalDotStore<Self> {
        let context = self.dots().collect();
        self.entries.clear();
        CausalDotStore {
            store: Self::new(),
            context,
        }
    }

    /// [`clear`](Self::clear) within a batch: the removed dots go to the batch's builder.
    pub fn clear_into(&mut self, delta_context: &mut ContextBuilder) {
        for dot in self.dots() {
            delta_context.observe(dot);
        }
        self.entries.clear();
    }

    /// Replaces every entry with `value` under the next dot of `replica`, which `context`
    /// records; returns the delta: the new entry, with the replaced dots and the new one as
    /// context. The write that observes and supersedes, shared by registers and flags.
    /// O(1) and allocation-free when at most one entry is live.
    ///
    /// The stored copy of `value` is made with `clone_from` over the replaced entry's value,
    /// so that a text or a list reuses its buffer. Should `V`'s `clone_from` panic, the
    /// entry is left under the new dot with a value part copied.
    pub fn overwrite(
        &mut self,
        context: &mut CausalContext,
        replica: ReplicaId,
        value: V,
    ) -> CausalDotStore<Self>
    where
        V: Clone,
    {
        let mut delta_context = CausalContext::new();
        let dot = self.supersede(context, replica, &value, |seen| {
            delta_context.insert(seen);
        });
        delta_context.insert(dot);
        CausalDotStore {
            store: Self::single(dot, value),
            context: delta_context,
        }
    }

    /// [`overwrite`](Self::overwrite) within a batch: the new entry goes to the batch's
    /// delta store `delta_store` (replacing what the batch wrote there before), the dots to
    /// its builder.
    #[inline]
    pub fn overwrite_into(
        &mut self,
        context: &mut CausalContext,
        replica: ReplicaId,
        value: V,
        delta_store: &mut Self,
        delta_context: &mut ContextBuilder,
    ) where
        V: Clone,
    {
        let dot = self.supersede(context, replica, &value, |seen| {
            delta_context.observe(seen);
        });
        delta_context.issue(dot);
        delta_store.replace_all(dot, value);
    }

    /// Issues the next dot of `replica`, reports each live dot to `observe`, and leaves a
    /// copy of `value` under the new dot as the only entry.
    #[inline]
    fn supersede(
        &mut self,
        context: &mut CausalContext,
        replica: ReplicaId,
        value: &V,
        mut observe: impl FnMut(Dot),
    ) -> Dot
    where
        V: Clone,
    {
        let dot = context.issue_dot(replica);
        if let [only] = self.entries.as_mut_slice() {
            // The usual case: one live write, replaced in place, its value copied over the
            // old one's, so that a text keeps its buffer rather than freeing it and
            // allocating another (a buffer larger than the new text stays as large, as
            // with `String::clone_from`).
            observe(only.0);
            only.0 = dot;
            only.1.clone_from(value);
        } else {
            for seen in self.dots() {
                observe(seen);
            }
            self.replace_all(dot, value.clone());
        }
        dot
    }

    #[inline]
    fn replace_all(&mut self, dot: Dot, value: V) {
        if let [only] = self.entries.as_mut_slice() {
            *only = (dot, value);
        } else {
            self.entries.clear();
            self.entries.push((dot, value));
        }
    }

    fn position(&self, dot: Dot) -> Result<usize, usize> {
        self.entries.binary_search_by_key(&dot, |(d, _)| *d)
    }
}

impl<V> DotStore for DotFun<V> {
    fn is_bottom(&self) -> bool {
        self.entries.is_empty()
    }

    fn for_each_dot(&self, visit: &mut dyn FnMut(Dot)) {
        self.dots().for_each(visit);
    }

    /// `(s ∩ s') ∪ (s \ c') ∪ (s' \ c)`. O((n + m) log(n + m)) look-ups; inserting the
    /// entries only `other` has is O(n·m) in the worst case, for stores of a few entries.
    fn join(&mut self, context: &CausalContext, other: Self, other_context: &CausalContext) {
        if other.entries.is_empty() {
            if !other_context.is_empty() {
                self.entries
                    .retain(|(dot, _)| !other_context.contains(*dot));
            }
            return;
        }
        if self.dots().eq(other.dots()) {
            // Entries on both sides always survive: nothing changes.
            return;
        }
        // A dot names one write, so an entry on both sides holds the same value on both.
        self.entries
            .retain(|(dot, _)| other.position(*dot).is_ok() || !other_context.contains(*dot));
        let mut theirs = other.entries;
        theirs.retain(|(dot, _)| self.position(*dot).is_err() && !context.contains(*dot));
        if self.entries.is_empty() {
            self.entries = theirs;
            return;
        }
        // One exact allocation when the store grows past its inline entry.
        self.entries.reserve_exact(theirs.len());
        for (dot, value) in theirs {
            if let Err(at) = self.position(dot) {
                self.entries.insert(at, (dot, value));
            }
        }
    }
}

impl<K: Ord, V: DotStore> DotMap<K, V> {
    /// Whether joining a small `other` may visit its keys only: whether no key this map
    /// alone has can change. Such a key changes only if `other_context` covers one of its
    /// dots. This map holds only dots its `context` has seen, and a dot lives under one
    /// key, so it suffices that every dot of `other_context` that `context` has seen is
    /// held by this map under a key `other` also has. (A dot stored under two keys is
    /// refused by [`validate`](CausalDotStore::validate) too, but this check does not need
    /// that: a seen dot counts only where it is found, never because `other` holds it.)
    /// Checked when `other` is small next to this map (a delta of some
    /// edits); then the join costs O(k log n) for its k keys instead of a walk of all n.
    fn join_small(
        &self,
        context: &CausalContext,
        other: &Self,
        other_context: &CausalContext,
    ) -> bool {
        let small = (self.entries.len() / 4).max(64);
        if other.entries.len() > small || other_context.dot_count() > small as u64 {
            return false;
        }
        // Sorted, so that each dot visited is looked up in O(log k).
        let mut covered: Vec<Dot> = other_context
            .iter()
            .filter(|dot| context.contains(*dot))
            .collect();
        if covered.is_empty() {
            return true;
        }
        covered.sort_unstable();
        let mut accounted = vec![false; covered.len()];
        for key in other.entries.keys() {
            if let Some(value) = self.entries.get(key) {
                value.for_each_dot(&mut |dot| {
                    if let Ok(at) = covered.binary_search(&dot) {
                        accounted[at] = true;
                    }
                });
            }
        }
        accounted.iter().all(|&accounted| accounted)
    }
}

/// A key listed twice, or with a bottom value, in a received map: no honest replica
/// writes either.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct DuplicateKey;

/// A map from keys to nested dot stores; a key is present while its value is not bottom.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct DotMap<K, V> {
    entries: BTreeMap<K, V>,
}

impl<K, V> Default for DotMap<K, V> {
    fn default() -> Self {
        Self {
            entries: BTreeMap::new(),
        }
    }
}

impl<K: Ord, V: DotStore> DotMap<K, V> {
    /// The empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key that the map does not have yet, with a value that is not bottom: how a
    /// received map is rebuilt, entry by entry. `Err` when either does not hold.
    pub(crate) fn insert_new(&mut self, key: K, value: V) -> Result<(), DuplicateKey> {
        if value.is_bottom() {
            return Err(DuplicateKey);
        }
        match self.entries.entry(key) {
            std::collections::btree_map::Entry::Occupied(_) => Err(DuplicateKey),
            std::collections::btree_map::Entry::Vacant(entry) => {
                entry.insert(value);
                Ok(())
            }
        }
    }

    /// The entries, by value.
    pub(crate) fn into_entries(self) -> impl Iterator<Item = (K, V)> {
        self.entries.into_iter()
    }

    /// Number of keys with a live value.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no key has a live value.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The live value under `key`.
    pub fn get(&self, key: &K) -> Option<&V> {
        self.entries.get(key)
    }

    /// Whether `key` has a live value.
    pub fn contains_key(&self, key: &K) -> bool {
        self.entries.contains_key(key)
    }

    /// The live entries, sorted by key.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> + ExactSizeIterator + '_ {
        self.entries.iter()
    }

    /// Sets the value under `key`; a bottom value removes the key.
    pub fn insert(&mut self, key: K, value: V) {
        if value.is_bottom() {
            self.entries.remove(&key);
        } else {
            self.entries.insert(key, value);
        }
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.entries.remove(key)
    }

    /// Runs `edit` on the value under `key` (bottom if absent) and keeps the map canonical:
    /// a value left bottom is removed.
    pub fn update<R>(&mut self, key: K, edit: impl FnOnce(&mut V) -> R) -> R {
        use std::collections::btree_map::Entry;
        match self.entries.entry(key) {
            Entry::Occupied(mut entry) => {
                let result = edit(entry.get_mut());
                if entry.get().is_bottom() {
                    entry.remove();
                }
                result
            }
            Entry::Vacant(entry) => {
                let mut value = V::default();
                let result = edit(&mut value);
                if !value.is_bottom() {
                    entry.insert(value);
                }
                result
            }
        }
    }

    /// Runs `mutate` (a mutator of the value type) on the value under `key` and lifts the
    /// delta it returns to a delta of the map.
    pub fn apply(
        &mut self,
        key: K,
        mutate: impl FnOnce(&mut V) -> CausalDotStore<V>,
    ) -> CausalDotStore<Self>
    where
        K: Clone,
    {
        let delta = self.update(key.clone(), mutate);
        delta.map_store(|value| {
            let mut map = Self::new();
            map.insert(key, value);
            map
        })
    }

    /// Removes the value under `key` as observed here; returns the delta of the removal:
    /// nothing stored, the dots of the removed value as context, so a concurrent update of
    /// the value survives. State of the value that is not tagged with dots stays, as it
    /// does on every replica that joins the delta.
    pub fn remove_observed(&mut self, key: &K) -> CausalDotStore<Self> {
        let mut context = CausalContext::new();
        if let Some(value) = self.entries.get_mut(key) {
            context = value.remove_dots();
            if value.is_bottom() {
                self.entries.remove(key);
            }
        }
        CausalDotStore {
            store: Self::new(),
            context,
        }
    }

    /// Keeps only the entries for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &V) -> bool) {
        self.entries.retain(|key, value| keep(key, value));
    }
}

impl<K: Ord, V: DotStore> DotStore for DotMap<K, V> {
    fn is_bottom(&self) -> bool {
        self.entries.is_empty()
    }

    fn for_each_dot(&self, visit: &mut dyn FnMut(Dot)) {
        for value in self.entries.values() {
            value.for_each_dot(visit);
        }
    }

    /// Key by key, the join of the nested stores under the same two contexts; keys whose
    /// joined value is bottom are dropped. One ordered walk over both maps that joins shared
    /// keys in place: O(n + m), plus O(k log n) for k keys only `other` has (or O(n + k)
    /// when k is large).
    fn join(&mut self, context: &CausalContext, other: Self, other_context: &CausalContext) {
        if other.entries.is_empty() && (other_context.is_empty() || self.entries.is_empty()) {
            return;
        }
        if self.join_small(context, &other, other_context) {
            for (key, their_value) in other.entries {
                match self.entries.entry(key) {
                    std::collections::btree_map::Entry::Occupied(mut mine) => {
                        mine.get_mut().join(context, their_value, other_context);
                        if mine.get().is_bottom() {
                            mine.remove();
                        }
                    }
                    std::collections::btree_map::Entry::Vacant(slot) => {
                        let mut value = V::default();
                        value.join(context, their_value, other_context);
                        if !value.is_bottom() {
                            slot.insert(value);
                        }
                    }
                }
            }
            return;
        }
        let mut theirs = other.entries.into_iter().peekable();
        let mut only_theirs = Vec::new();
        let mut emptied = false;
        let take_only_theirs = |their_value: V| {
            let mut value = V::default();
            value.join(context, their_value, other_context);
            (!value.is_bottom()).then_some(value)
        };
        for (key, value) in self.entries.iter_mut() {
            while let Some((their_key, their_value)) =
                theirs.next_if(|(their_key, _)| their_key < key)
            {
                if let Some(value) = take_only_theirs(their_value) {
                    only_theirs.push((their_key, value));
                }
            }
            let their_value = theirs
                .next_if(|(their_key, _)| their_key == key)
                .map_or_else(V::default, |(_, their_value)| their_value);
            value.join(context, their_value, other_context);
            emptied |= value.is_bottom();
        }
        for (their_key, their_value) in theirs {
            if let Some(value) = take_only_theirs(their_value) {
                only_theirs.push((their_key, value));
            }
        }
        if emptied {
            self.entries.retain(|_, value| !value.is_bottom());
        }
        if only_theirs.len() > self.entries.len() / 8 {
            // Sorted input: `collect` bulk-builds, and `append` merges in O(n + k).
            let mut added: BTreeMap<K, V> = only_theirs.into_iter().collect();
            self.entries.append(&mut added);
        } else {
            self.entries.extend(only_theirs);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dot(replica: u64, seq: u64) -> Dot {
        Dot::new(ReplicaId::new(replica), seq)
    }

    fn dot_set(dots: &[Dot]) -> CausalDotStore<DotSet> {
        let mut store = DotSet::new();
        for &dot in dots {
            store.insert(dot, ());
        }
        CausalDotStore {
            store,
            context: dots.iter().copied().collect(),
        }
    }

    #[test]
    fn a_dot_seen_by_the_other_side_but_absent_there_is_removed() {
        let mut left = dot_set(&[dot(1, 1), dot(2, 1)]);
        // The right side saw 1:1 and dropped it; it never saw 2:1.
        let right = CausalDotStore {
            store: DotSet::single(dot(1, 2), ()),
            context: [dot(1, 1), dot(1, 2)].into_iter().collect(),
        };
        left.join(right);
        assert_eq!(
            left.store.dots().collect::<Vec<_>>(),
            [dot(1, 2), dot(2, 1)]
        );
    }

    #[test]
    fn a_dot_map_drops_keys_whose_value_became_bottom() {
        let mut left = CausalDotStore::<DotMap<&str, DotSet>>::new();
        left.store.insert("a", DotSet::single(dot(1, 1), ()));
        left.context.insert(dot(1, 1));
        let remover = CausalDotStore {
            store: DotMap::new(),
            context: [dot(1, 1)].into_iter().collect(),
        };
        left.join(remover);
        assert!(left.store.is_empty());
        assert!(left.context.contains(dot(1, 1)));
    }

    #[test]
    fn validate_finds_a_dot_stored_twice_or_outside_the_context_in_small_and_large_contexts() {
        // A valid state of 1 stored dot and its faulty copies of 2 are compared by pairs;
        // 9 and 10 dots in a context of 20 take the bitmap; in one of 10,000, the sort.
        for (context_dots, stored) in [(20, 2), (20, 10), (10_000, 10)] {
            let mut state = CausalDotStore::<DotMap<u64, DotSet>>::new();
            for seq in 1..=context_dots {
                state.context.insert(dot(1, seq));
            }
            for key in 1..stored {
                state.store.insert(key, DotSet::single(dot(1, key), ()));
            }
            let case = format!("{stored} dots in {context_dots}");
            assert_eq!(state.validate(), Ok(()), "{case}");
            let mut twice = state.clone();
            twice.store.insert(stored, DotSet::single(dot(1, 1), ()));
            assert_eq!(
                twice.validate(),
                Err(InvalidDelta::DotStoredTwice(dot(1, 1))),
                "{case}"
            );
            let mut outside = state.clone();
            outside.store.insert(stored, DotSet::single(dot(2, 1), ()));
            assert_eq!(
                outside.validate(),
                Err(InvalidDelta::StoredDotNotInContext(dot(2, 1))),
                "{case}"
            );
        }
    }

    #[test]
    fn a_delta_covering_dots_never_seen_here_changes_only_its_keys() {
        // The delta's context covers (1, 2), a write this side never saw and so holds
        // nowhere: the join may visit the delta's key alone.
        let mut left = CausalDotStore::<DotMap<&str, DotSet>>::new();
        for (key, dot) in [("x", dot(1, 1)), ("y", dot(2, 1))] {
            left.store.insert(key, DotSet::single(dot, ()));
            left.context.insert(dot);
        }
        let mut delta = CausalDotStore::<DotMap<&str, DotSet>>::new();
        delta.store.insert("x", DotSet::single(dot(1, 3), ()));
        delta.context.insert(dot(1, 2));
        delta.context.insert(dot(1, 3));
        left.join(delta);
        let dots = |key| -> Vec<Dot> {
            left.store
                .get(&key)
                .map_or_else(Vec::new, |set| set.dots().collect())
        };
        assert_eq!(dots("x"), [dot(1, 1), dot(1, 3)]);
        assert_eq!(dots("y"), [dot(2, 1)]);
    }

    #[test]
    fn a_delta_holding_a_seen_dot_under_another_key_takes_the_full_join() {
        // A malformed delta (`validate` refuses it): the dot `b` holds, under `a`. The
        // full join removes `b` (its dot is covered and absent there) and does not add
        // `a` (its dot was seen); the join of the delta's keys alone would keep `b`.
        let mut left = CausalDotStore::<DotMap<&str, DotSet>>::new();
        left.store.insert("b", DotSet::single(dot(1, 1), ()));
        left.context.insert(dot(1, 1));
        let mut delta = CausalDotStore::<DotMap<&str, DotSet>>::new();
        delta.store.insert("a", DotSet::single(dot(1, 1), ()));
        delta.context.insert(dot(1, 1));
        assert!(delta.validate().is_ok(), "one dot, once");
        let mut twice = left.clone();
        twice.store.insert("a", DotSet::single(dot(1, 1), ()));
        assert!(matches!(
            twice.validate(),
            Err(InvalidDelta::DotStoredTwice(_))
        ));
        left.join(delta);
        assert!(left.store.is_empty());
    }
}
