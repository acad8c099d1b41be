//! Fields a replica does not know, kept as they came and joined by the rules every node
//! follows, so that an older replica passes a newer one's data on intact.

use std::collections::BTreeSet;

use super::DecodeError;
use super::codec::{Encoder, NodeOffset, NodeRef, WireStore};
use super::codec::{ListedEntry, Time};
use super::kernel::{dot_fun, dot_map, dot_map_parts, timed_parts, untimed_parts};
use super::value::{ValueRef, WrittenColumns};
use crate::{CausalContext, Dot, DotFun, DotMap, DotStore};

/// A value of a field this replica does not know, owned.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
enum OpaqueValue {
    Text(String),
    Int(i64),
    UInt(u64),
    Bool(bool),
    /// The bits of an `f64`: compared and ordered exactly, as the bytes are.
    Float(u64),
    Counts(u64, u64),
    Null,
}

impl OpaqueValue {
    fn new(value: ValueRef<'_>) -> Self {
        match value {
            ValueRef::Text(text) => Self::Text(text.to_owned()),
            ValueRef::Int(int) => Self::Int(int),
            ValueRef::UInt(uint) => Self::UInt(uint),
            ValueRef::Bool(flag) => Self::Bool(flag),
            ValueRef::Float(float) => Self::Float(float.to_bits()),
            ValueRef::Counts(up, down) => Self::Counts(up, down),
            ValueRef::Null => Self::Null,
        }
    }

    fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Self::Text(text) => ValueRef::Text(text),
            Self::Int(int) => ValueRef::Int(*int),
            Self::UInt(uint) => ValueRef::UInt(*uint),
            Self::Bool(flag) => ValueRef::Bool(*flag),
            Self::Float(bits) => ValueRef::Float(f64::from_bits(*bits)),
            Self::Counts(up, down) => ValueRef::Counts(*up, *down),
            Self::Null => ValueRef::Null,
        }
    }
}

/// The state of a field this replica's schema does not have (added by a newer version),
/// kept without interpreting its values.
///
/// Every CRDT of the wire format is a product of the same parts: dot functions (dots, or
/// stamps: dots with a time, each with a value where the CRDT has values), a dot map of
/// child nodes by key, a grow-only set of removed keys, and a record of nodes by field id.
/// An opaque node keeps the parts as they came and joins each by its own rule, which is
/// the rule of whatever CRDT wrote it: so it converges with the replicas that know the
/// field, and is written back out with the same content (keys and values in this
/// replica's order, which may differ from the writer's for keys that are nulls or
/// floats).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct OpaqueNode {
    dots: DotFun<Option<OpaqueValue>>,
    stamps: DotFun<(Time, Option<OpaqueValue>)>,
    children: DotMap<OpaqueValue, OpaqueNode>,
    removed: BTreeSet<OpaqueValue>,
    fields: UnknownFields,
}

impl DotStore for OpaqueNode {
    fn is_bottom(&self) -> bool {
        self.dots.is_bottom()
            && self.stamps.is_bottom()
            && self.children.is_bottom()
            && self.removed.is_empty()
            && self.fields.is_bottom()
    }

    fn for_each_dot(&self, visit: &mut dyn FnMut(Dot)) {
        self.dots.for_each_dot(visit);
        self.stamps.for_each_dot(visit);
        self.children.for_each_dot(visit);
        self.fields.for_each_dot(visit);
    }

    fn join(&mut self, context: &CausalContext, other: Self, other_context: &CausalContext) {
        self.dots.join(context, other.dots, other_context);
        self.stamps.join(context, other.stamps, other_context);
        self.children.join(context, other.children, other_context);
        self.removed.extend(other.removed);
        if !self.removed.is_empty() {
            // Removed keys stay removed, as in a two-phase set, the one CRDT that has them.
            let removed = &self.removed;
            self.children.retain(|key, _| !removed.contains(key));
        }
        self.fields.join(context, other.fields, other_context);
    }
}

fn as_value(value: &Option<OpaqueValue>) -> ValueRef<'_> {
    value.as_ref().map_or(ValueRef::Null, OpaqueValue::as_ref)
}

impl WireStore for OpaqueNode {
    fn encode_node(&self, encoder: &mut Encoder) -> NodeOffset {
        let stamped = !self.stamps.is_bottom();
        let mut parts = if stamped {
            let with_values = self.stamps.iter().any(|(_, (_, value))| value.is_some());
            let mut parts = timed_parts(
                encoder,
                &self.stamps,
                |(time, _)| *time,
                |(_, value)| as_value(value),
            );
            if !with_values {
                parts.values = WrittenColumns::default();
            }
            parts.dots = encoder.dots(self.dots.dots());
            parts
        } else {
            let with_values = self.dots.iter().any(|(_, value)| value.is_some());
            let value: &dyn Fn(&Option<OpaqueValue>) -> ValueRef<'_> = &as_value;
            untimed_parts(encoder, &self.dots, with_values.then_some(value))
        };
        let map = dot_map_parts(encoder, &self.children, OpaqueValue::as_ref);
        parts.keys = map.keys;
        parts.children = map.children;
        parts.removed = encoder.values(|| self.removed.iter().map(OpaqueValue::as_ref));
        if !self.fields.is_bottom() {
            let mark = encoder.fields_mark();
            self.fields.encode_fields(encoder);
            parts.fields = Some(encoder.record(mark));
        }
        encoder.node(parts)
    }

    fn decode_node(node: NodeRef<'_>) -> Result<Self, DecodeError> {
        let value = |entry: &ListedEntry<'_>| entry.value.map(OpaqueValue::new);
        let (dots, stamps) = if node.table.stamps().is_some() {
            let stamps = dot_fun(&node, |entry| {
                let time = entry.time.unwrap_or_default();
                Ok((time, value(&entry)))
            })?;
            (DotFun::default(), stamps)
        } else {
            (
                dot_fun(&node, |entry| Ok(value(&entry)))?,
                DotFun::default(),
            )
        };
        let removed: BTreeSet<OpaqueValue> = node.removed()?.map(OpaqueValue::new).collect();
        let mut children: DotMap<OpaqueValue, Self> =
            dot_map(&node, |key| Ok(OpaqueValue::new(key)))?;
        // As a join would leave it, and as the typed two-phase set decodes.
        children.retain(|key, _| !removed.contains(key));
        Ok(Self {
            dots,
            stamps,
            children,
            removed,
            fields: match node.record() {
                Some(record) => record.unknown_fields(&[])?,
                None => UnknownFields::default(),
            },
        })
    }
}

/// The fields of a record that this replica's schema does not have, by field id: kept,
/// joined and written back out, so that no replica loses what a newer one wrote.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct UnknownFields {
    /// `None` while there are none (never an empty map), so that the many stores and
    /// deltas without unknown fields build and drop them for nothing: an empty map's drop
    /// still walked the tree, about 40 instructions in every delta a write returned.
    fields: Option<Box<DotMap<u16, OpaqueNode>>>,
}

impl UnknownFields {
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.fields.is_none()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.fields.as_ref().map_or(0, |fields| fields.len())
    }

    /// The ids of the unknown fields.
    pub fn ids(&self) -> impl Iterator<Item = u16> + '_ {
        self.iter().map(|(id, _)| *id)
    }

    fn iter(&self) -> impl Iterator<Item = (&u16, &OpaqueNode)> {
        self.fields.iter().flat_map(|fields| fields.iter())
    }

    pub(crate) fn insert(&mut self, id: u16, node: OpaqueNode) {
        let mut fields = self.fields.take().unwrap_or_default();
        fields.insert(id, node);
        self.keep(fields);
    }

    /// Keeps `fields`, or none if it is empty.
    fn keep(&mut self, fields: Box<DotMap<u16, OpaqueNode>>) {
        self.fields = (!fields.is_empty()).then_some(fields);
    }

    /// Adds each unknown field to the record `encoder` is gathering.
    #[doc(hidden)]
    pub fn encode_fields(&self, encoder: &mut Encoder) {
        for (id, node) in self.iter() {
            encoder.field(*id, node);
        }
    }
}

impl DotStore for UnknownFields {
    fn is_bottom(&self) -> bool {
        self.fields.as_ref().is_none_or(|fields| fields.is_bottom())
    }

    fn for_each_dot(&self, visit: &mut dyn FnMut(Dot)) {
        if let Some(fields) = &self.fields {
            fields.for_each_dot(visit);
        }
    }

    fn join(&mut self, context: &CausalContext, other: Self, other_context: &CausalContext) {
        if self.fields.is_none() && other.fields.is_none() {
            return;
        }
        // Joined even when the other side has none: its context may remove fields here.
        let mut fields = self.fields.take().unwrap_or_default();
        fields.join(
            context,
            other.fields.map_or_else(DotMap::default, |other| *other),
            other_context,
        );
        self.keep(fields);
    }
}
