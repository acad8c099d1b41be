//! Wire encodings of the kernel's CRDTs: each is a node of dots or stamps with values,
//! keyed children, removed keys or a record, as its structure needs.

use smallvec::SmallVec;

use super::DecodeError;
use super::codec::{
    Encoder, ListedEntry, NodeOffset, NodeParts, NodeRef, Parts, Time, WireRecord, WireStore,
};
use super::value::{ValueKind, ValueRef, WireValue, mismatch};
use crate::crdt::lww::LwwWrite;
use crate::dot_store::DuplicateKey;
use crate::{
    AwSet, DotFun, DotMap, DotSet, Entry, EwFlag, LwwRegister, MvRegister, OrMap, PnCounter,
    TwoPhaseSet,
};

/// The parts of a dot function whose entries have a time: stamps, and a value each.
pub(crate) fn timed_parts<'v, V>(
    encoder: &mut Encoder,
    fun: &'v DotFun<V>,
    time: impl Fn(&V) -> Time,
    value: impl Fn(&'v V) -> ValueRef<'v>,
) -> NodeParts {
    NodeParts {
        stamps: encoder.stamps(fun.iter().map(|(dot, entry)| (dot, time(entry)))),
        values: encoder.columns(|| fun.iter().map(|(_, entry)| value(entry))),
        ..NodeParts::default()
    }
}

/// The parts of a dot function without times: dots, and a value each if `value` is given.
pub(crate) fn untimed_parts<'v, V>(
    encoder: &mut Encoder,
    fun: &'v DotFun<V>,
    value: Option<&dyn Fn(&'v V) -> ValueRef<'v>>,
) -> NodeParts {
    NodeParts {
        dots: encoder.dots(fun.dots()),
        values: value
            .map(|value| encoder.columns(|| fun.iter().map(|(_, entry)| value(entry))))
            .unwrap_or_default(),
        ..NodeParts::default()
    }
}

/// A dot function of a node's entries, each made into a value by `make`.
pub(crate) fn dot_fun<'a, V>(
    node: &NodeRef<'a>,
    mut make: impl FnMut(ListedEntry<'a>) -> Result<V, DecodeError>,
) -> Result<DotFun<V>, DecodeError> {
    let mut entries = SmallVec::new();
    node.for_each_entry(|entry| {
        entries.push((entry.dot, make(entry)?));
        Ok(())
    })?;
    unique_dots(entries)
}

/// A dot function of received entries, which must not list a dot twice.
pub(crate) fn unique_dots<V>(
    entries: SmallVec<[(crate::Dot, V); 1]>,
) -> Result<DotFun<V>, DecodeError> {
    DotFun::from_entries(entries).map_err(|_| DecodeError::Invalid("a dot is listed twice"))
}

fn dot_set(node: &NodeRef<'_>) -> Result<DotSet, DecodeError> {
    unique_dots(node.dots()?.map(|dot| (dot, ())).collect())
}

// The errors below are built only on failure (`let ... else`, not `ok_or`): an error
// built eagerly was also dropped on every entry of every register, a cost that clippy's
// `unnecessary_lazy_evaluations` does not see.

fn value_of<'a>(entry: &ListedEntry<'a>) -> Result<ValueRef<'a>, DecodeError> {
    let Some(value) = entry.value else {
        return Err(DecodeError::Invalid("a node has not one value per dot"));
    };
    Ok(value)
}

impl<T: WireValue + Clone> WireStore for LwwRegister<T> {
    fn encode_node(&self, encoder: &mut Encoder) -> NodeOffset {
        let parts = timed_parts(
            encoder,
            &self.writes,
            |write| (write.wall_micros, write.logical),
            |write| write.value.to_wire(),
        );
        encoder.node(parts)
    }

    fn decode_node(node: NodeRef<'_>) -> Result<Self, DecodeError> {
        node.only(Parts::STAMPS | Parts::VALUES)?;
        let writes = dot_fun(&node, |entry| {
            let Some((wall_micros, logical)) = entry.time else {
                return Err(DecodeError::Invalid("a register's write has no time"));
            };
            Ok(LwwWrite {
                wall_micros,
                logical,
                value: T::from_wire(value_of(&entry)?)?,
            })
        })?;
        Ok(Self { writes })
    }
}

impl<T: WireValue + Clone> WireStore for MvRegister<T> {
    fn encode_node(&self, encoder: &mut Encoder) -> NodeOffset {
        let parts = untimed_parts(encoder, &self.values, Some(&T::to_wire));
        encoder.node(parts)
    }

    fn decode_node(node: NodeRef<'_>) -> Result<Self, DecodeError> {
        node.only(Parts::DOTS | Parts::VALUES)?;
        let values = dot_fun(&node, |entry| T::from_wire(value_of(&entry)?))?;
        Ok(Self { values })
    }
}

impl WireStore for PnCounter {
    fn encode_node(&self, encoder: &mut Encoder) -> NodeOffset {
        let counts = |&(up, down): &(u64, u64)| ValueRef::Counts(up, down);
        let parts = untimed_parts(encoder, &self.totals, Some(&counts));
        encoder.node(parts)
    }

    fn decode_node(node: NodeRef<'_>) -> Result<Self, DecodeError> {
        node.only(Parts::DOTS | Parts::VALUES)?;
        let totals = dot_fun(&node, |entry| match value_of(&entry)? {
            ValueRef::Counts(up, down) => Ok((up, down)),
            other => mismatch(ValueKind::Counts, other),
        })?;
        Ok(Self { totals })
    }
}

impl WireStore for EwFlag {
    fn encode_node(&self, encoder: &mut Encoder) -> NodeOffset {
        let parts = untimed_parts(encoder, &self.enables, None);
        encoder.node(parts)
    }

    fn decode_node(node: NodeRef<'_>) -> Result<Self, DecodeError> {
        node.only(Parts::DOTS)?;
        Ok(Self {
            enables: dot_set(&node)?,
        })
    }
}

impl WireStore for DotSet {
    fn encode_node(&self, encoder: &mut Encoder) -> NodeOffset {
        let parts = untimed_parts(encoder, self, None);
        encoder.node(parts)
    }

    fn decode_node(node: NodeRef<'_>) -> Result<Self, DecodeError> {
        node.only(Parts::DOTS)?;
        dot_set(&node)
    }
}

/// The keys and child nodes of a dot map, each key written by `key`.
pub(crate) fn dot_map_parts<'m, K: Ord, V: WireStore>(
    encoder: &mut Encoder,
    map: &'m DotMap<K, V>,
    key: impl Fn(&'m K) -> ValueRef<'m>,
) -> NodeParts {
    let children: SmallVec<[NodeOffset; 8]> = map
        .iter()
        .map(|(_, value)| value.encode_node(encoder))
        .collect();
    NodeParts {
        keys: encoder.values(|| map.iter().map(|(k, _)| key(k))),
        children: encoder.children(&children),
        ..NodeParts::default()
    }
}

/// A dot map from a node's keys, each read by `key`, and child nodes, built entry by
/// entry (a received map costs memory only for the entries it keeps).
pub(crate) fn dot_map<K: Ord, V: WireStore>(
    node: &NodeRef<'_>,
    key: impl Fn(ValueRef<'_>) -> Result<K, DecodeError>,
) -> Result<DotMap<K, V>, DecodeError> {
    let keys = node.keys()?;
    let (count, children) = node.children();
    if keys.len() != count {
        return Err(DecodeError::Invalid("a node has not one child per key"));
    }
    let mut map = DotMap::new();
    for (k, child) in keys.zip(children) {
        map.insert_new(key(k)?, V::decode_node(child)?)
            .map_err(|DuplicateKey| {
                DecodeError::Invalid("a key is listed twice, or with an empty value")
            })?;
    }
    Ok(map)
}

impl<T: WireValue + Ord + Clone> WireStore for AwSet<T> {
    fn encode_node(&self, encoder: &mut Encoder) -> NodeOffset {
        let parts = dot_map_parts(encoder, &self.elements, T::to_wire);
        encoder.node(parts)
    }

    fn decode_node(node: NodeRef<'_>) -> Result<Self, DecodeError> {
        node.only(Parts::KEYS | Parts::CHILDREN)?;
        Ok(Self {
            elements: dot_map(&node, T::from_wire)?,
        })
    }
}

impl<T: WireValue + Ord + Clone> WireStore for TwoPhaseSet<T> {
    fn encode_node(&self, encoder: &mut Encoder) -> NodeOffset {
        let mut parts = dot_map_parts(encoder, &self.added.elements, T::to_wire);
        parts.removed = encoder.values(|| self.removed.iter().map(T::to_wire));
        encoder.node(parts)
    }

    fn decode_node(node: NodeRef<'_>) -> Result<Self, DecodeError> {
        node.only(Parts::KEYS | Parts::CHILDREN | Parts::REMOVED)?;
        let removed = node
            .removed()?
            .map(T::from_wire)
            .collect::<Result<std::collections::BTreeSet<T>, _>>()?;
        let mut added = AwSet {
            elements: dot_map(&node, T::from_wire)?,
        };
        // As a join would leave it: what was removed is not in the added set.
        added.retain(|element| !removed.contains(element));
        Ok(Self { added, removed })
    }
}

impl<K: WireValue + Ord + Clone, V: WireStore> WireStore for OrMap<K, V> {
    fn encode_node(&self, encoder: &mut Encoder) -> NodeOffset {
        let parts = dot_map_parts(encoder, &self.entries, K::to_wire);
        encoder.node(parts)
    }

    fn decode_node(node: NodeRef<'_>) -> Result<Self, DecodeError> {
        node.only(Parts::KEYS | Parts::CHILDREN)?;
        Ok(Self {
            entries: dot_map(&node, K::from_wire)?,
        })
    }
}

/// A map entry: its presence as dots, its value's record as the node's fields.
impl<S: WireRecord> WireStore for Entry<S> {
    fn encode_node(&self, encoder: &mut Encoder) -> NodeOffset {
        let mut parts = untimed_parts(encoder, &self.presence, None);
        if !self.value.is_bottom() {
            parts.fields = Some(self.value.encode_record(encoder));
        }
        encoder.node(parts)
    }

    fn decode_node(node: NodeRef<'_>) -> Result<Self, DecodeError> {
        node.only(Parts::DOTS | Parts::FIELDS)?;
        Ok(Self {
            presence: dot_set(&node)?,
            value: match node.record() {
                Some(record) => S::decode_record(record)?,
                None => S::default(),
            },
        })
    }
}
