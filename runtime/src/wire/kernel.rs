//! Wire encodings of the kernel's CRDTs: each is a node of dots, with times, values, keyed
//! children, removed values or a record, as its structure needs.

use super::DecodeError;
use super::codec::{Encoder, NodeOffset, NodeParts, NodeRef, WireRecord, WireStore};
use super::value::{ValueRef, WireValue};
use crate::crdt::lww::LwwWrite;
use crate::dot_store::DuplicateKey;
use crate::{
    AwSet, Dot, DotFun, DotMap, DotSet, Entry, EwFlag, LwwRegister, MvRegister, OrMap, PnCounter,
    TwoPhaseSet,
};

/// A write's `(wall_micros, logical)`: its timestamp but for the replica, which its dot has.
pub(crate) type Time = (u64, u32);

/// One entry of a dot function as a node lists it.
pub(crate) struct ListedEntry<'a> {
    pub(crate) dot: Dot,
    pub(crate) time: Time,
    pub(crate) value: Option<ValueRef<'a>>,
}

/// The parts of a dot function: its dots, and optionally a time and a value per dot.
pub(crate) fn dot_fun_parts<'v, V: 'v>(
    encoder: &mut Encoder,
    fun: &'v DotFun<V>,
    time: Option<fn(&V) -> Time>,
    value: Option<fn(&'v V) -> ValueRef<'v>>,
) -> NodeParts {
    let times = time.and_then(|time| {
        encoder.longs(fun.iter().flat_map(|(_, entry)| {
            let (wall, logical) = time(entry);
            [wall, u64::from(logical)]
        }))
    });
    let values = value.and_then(|value| {
        let list: Vec<ValueRef<'v>> = fun.iter().map(|(_, entry)| value(entry)).collect();
        encoder.values(&list)
    });
    NodeParts {
        dots: encoder.dots(fun.dots()),
        times,
        values,
        ..NodeParts::default()
    }
}

/// The entries of a dot function: dots with, when `with_times`/`with_values`, the time and
/// value of each (lists that must be as long as the dots).
pub(crate) fn dot_fun_entries<'a>(
    node: &NodeRef<'a>,
    with_times: bool,
    with_values: bool,
) -> Result<Vec<ListedEntry<'a>>, DecodeError> {
    let dots = node.dots()?;
    let times = if with_times {
        let times = node.times()?;
        if times.len() != dots.len() {
            return Err(DecodeError::Invalid("a node has not one time per dot"));
        }
        times
    } else {
        vec![(0, 0); dots.len()]
    };
    let values: Vec<Option<ValueRef<'a>>> = if with_values {
        let values = node.values()?;
        if values.len() != dots.len() {
            return Err(DecodeError::Invalid("a node has not one value per dot"));
        }
        values.into_iter().map(Some).collect()
    } else {
        vec![None; dots.len()]
    };
    Ok(dots
        .into_iter()
        .zip(times)
        .zip(values)
        .map(|((dot, time), value)| ListedEntry { dot, time, value })
        .collect())
}

pub(crate) fn dot_fun<V>(entries: Vec<(Dot, V)>) -> Result<DotFun<V>, DecodeError> {
    DotFun::from_entries(entries).map_err(|_| DecodeError::Invalid("a dot is listed twice"))
}

fn dot_set(node: &NodeRef<'_>) -> Result<DotSet, DecodeError> {
    dot_fun(node.dots()?.into_iter().map(|dot| (dot, ())).collect())
}

fn value_of(value: Option<ValueRef<'_>>) -> Result<ValueRef<'_>, DecodeError> {
    value.ok_or(DecodeError::Invalid("a node has not one value per dot"))
}

impl<T: WireValue + Clone> WireStore for LwwRegister<T> {
    fn encode_node(&self, encoder: &mut Encoder) -> NodeOffset {
        let parts = dot_fun_parts(
            encoder,
            &self.writes,
            Some(|write: &LwwWrite<T>| (write.wall_micros, write.logical)),
            Some(|write: &LwwWrite<T>| write.value.to_wire()),
        );
        encoder.node(parts)
    }

    fn decode_node(node: NodeRef<'_>) -> Result<Self, DecodeError> {
        let entries = dot_fun_entries(&node, true, true)?
            .into_iter()
            .map(
                |ListedEntry {
                     dot,
                     time: (wall_micros, logical),
                     value,
                 }| {
                    Ok((
                        dot,
                        LwwWrite {
                            wall_micros,
                            logical,
                            value: T::from_wire(value_of(value)?)?,
                        },
                    ))
                },
            )
            .collect::<Result<_, DecodeError>>()?;
        Ok(Self {
            writes: dot_fun(entries)?,
        })
    }
}

impl<T: WireValue + Clone> WireStore for MvRegister<T> {
    fn encode_node(&self, encoder: &mut Encoder) -> NodeOffset {
        let parts = dot_fun_parts(encoder, &self.values, None, Some(T::to_wire));
        encoder.node(parts)
    }

    fn decode_node(node: NodeRef<'_>) -> Result<Self, DecodeError> {
        let entries = dot_fun_entries(&node, false, true)?
            .into_iter()
            .map(|ListedEntry { dot, value, .. }| Ok((dot, T::from_wire(value_of(value)?)?)))
            .collect::<Result<_, DecodeError>>()?;
        Ok(Self {
            values: dot_fun(entries)?,
        })
    }
}

impl WireStore for PnCounter {
    fn encode_node(&self, encoder: &mut Encoder) -> NodeOffset {
        let parts = dot_fun_parts(
            encoder,
            &self.totals,
            None,
            Some(|&(up, down): &(u64, u64)| ValueRef::Counts(up, down)),
        );
        encoder.node(parts)
    }

    fn decode_node(node: NodeRef<'_>) -> Result<Self, DecodeError> {
        let entries = dot_fun_entries(&node, false, true)?
            .into_iter()
            .map(|ListedEntry { dot, value, .. }| match value_of(value)? {
                ValueRef::Counts(up, down) => Ok((dot, (up, down))),
                other => Err(DecodeError::ValueKind {
                    expected: super::ValueKind::Counts,
                    found: other.kind(),
                }),
            })
            .collect::<Result<_, DecodeError>>()?;
        Ok(Self {
            totals: dot_fun(entries)?,
        })
    }
}

impl WireStore for EwFlag {
    fn encode_node(&self, encoder: &mut Encoder) -> NodeOffset {
        let parts = dot_fun_parts(encoder, &self.enables, None, None);
        encoder.node(parts)
    }

    fn decode_node(node: NodeRef<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            enables: dot_set(&node)?,
        })
    }
}

/// The keys and child nodes of a dot map, each key written by `key`.
pub(crate) fn dot_map_parts<'m, K: Ord, V: WireStore>(
    encoder: &mut Encoder,
    map: &'m DotMap<K, V>,
    key: impl Fn(&'m K) -> ValueRef<'m>,
) -> NodeParts {
    let children: Vec<NodeOffset> = map
        .iter()
        .map(|(_, value)| value.encode_node(encoder))
        .collect();
    let keys: Vec<ValueRef<'_>> = map.iter().map(|(k, _)| key(k)).collect();
    NodeParts {
        keys: encoder.values(&keys),
        children: encoder.children(&children),
        ..NodeParts::default()
    }
}

/// A dot map from a node's keys, each read by `key`, and child nodes.
pub(crate) fn dot_map<K: Ord, V: WireStore>(
    node: &NodeRef<'_>,
    key: impl Fn(ValueRef<'_>) -> Result<K, DecodeError>,
) -> Result<DotMap<K, V>, DecodeError> {
    let keys = node.keys()?;
    let children = node.children();
    if keys.len() != children.len() {
        return Err(DecodeError::Invalid("a node has not one child per key"));
    }
    let entries = keys
        .into_iter()
        .zip(children)
        .map(|(k, child)| Ok((key(k)?, V::decode_node(child)?)))
        .collect::<Result<Vec<_>, DecodeError>>()?;
    DotMap::from_entries(entries)
        .map_err(|DuplicateKey| DecodeError::Invalid("a key is listed twice"))
}

impl<T: WireValue + Ord + Clone> WireStore for AwSet<T> {
    fn encode_node(&self, encoder: &mut Encoder) -> NodeOffset {
        let parts = dot_map_parts(encoder, &self.elements, T::to_wire);
        encoder.node(parts)
    }

    fn decode_node(node: NodeRef<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            elements: dot_map(&node, T::from_wire)?,
        })
    }
}

impl WireStore for DotSet {
    fn encode_node(&self, encoder: &mut Encoder) -> NodeOffset {
        let parts = dot_fun_parts(encoder, self, None, None);
        encoder.node(parts)
    }

    fn decode_node(node: NodeRef<'_>) -> Result<Self, DecodeError> {
        dot_set(&node)
    }
}

impl<T: WireValue + Ord + Clone> WireStore for TwoPhaseSet<T> {
    fn encode_node(&self, encoder: &mut Encoder) -> NodeOffset {
        let mut parts = dot_map_parts(encoder, &self.added.elements, T::to_wire);
        let removed: Vec<ValueRef<'_>> = self.removed.iter().map(T::to_wire).collect();
        parts.removed = encoder.values(&removed);
        encoder.node(parts)
    }

    fn decode_node(node: NodeRef<'_>) -> Result<Self, DecodeError> {
        let removed = node
            .removed()?
            .into_iter()
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
        Ok(Self {
            entries: dot_map(&node, K::from_wire)?,
        })
    }
}

/// A map entry: its presence as dots, its value's record as the node's fields.
impl<S: WireRecord> WireStore for Entry<S> {
    fn encode_node(&self, encoder: &mut Encoder) -> NodeOffset {
        let mut parts = dot_fun_parts(encoder, &self.presence, None, None);
        if !self.value.is_bottom() {
            parts.fields = Some(self.value.encode_record(encoder));
        }
        encoder.node(parts)
    }

    fn decode_node(node: NodeRef<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            presence: dot_set(&node)?,
            value: match node.record() {
                Some(record) => S::decode_record(record)?,
                None => S::default(),
            },
        })
    }
}
