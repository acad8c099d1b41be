//! The traits every wire-encodable store implements, and the encoder and node readers
//! they use.

use flatbuffers::{FlatBufferBuilder, ForwardsUOffset, Vector, WIPOffset};

use super::DecodeError;
use super::tables::{NodeTable, RecordTable, ValuesTable, node, slot};
use super::value::{ValueRef, read_values, write_values};
use crate::{Dot, DotStore, ReplicaId};

/// A dot store with a wire encoding: one `Node` of the wire format.
///
/// Implemented by every CRDT of the kernel and by the stores `#[derive(Crdt)]` generates.
pub trait WireStore: DotStore + Default {
    /// Writes the store as a node.
    fn encode_node(&self, encoder: &mut Encoder) -> NodeOffset;

    /// Reads the store from a node of a received encoding.
    fn decode_node(node: NodeRef<'_>) -> Result<Self, DecodeError>;
}

/// A store that is a record of fields by id: the stores `#[derive(Crdt)]` generates. Its
/// record is the root of a document's encoding, and the `fields` of its node when nested.
pub trait WireRecord: WireStore {
    /// Writes the fields as a record.
    fn encode_record(&self, encoder: &mut Encoder) -> RecordOffset;

    /// Reads the fields from a record of a received encoding.
    fn decode_record(record: RecordRef<'_>) -> Result<Self, DecodeError>;
}

/// Where a node was written in an [`Encoder`]'s buffer.
#[derive(Clone, Copy)]
pub struct NodeOffset(pub(crate) WIPOffset<NodeTable<'static>>);

/// Where a record was written in an [`Encoder`]'s buffer.
#[derive(Clone, Copy)]
pub struct RecordOffset(pub(crate) WIPOffset<RecordTable<'static>>);

impl std::fmt::Debug for NodeOffset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NodeOffset({})", self.0.value())
    }
}

impl std::fmt::Debug for RecordOffset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RecordOffset({})", self.0.value())
    }
}

/// Builds one encoding, children before parents (FlatBuffers writes back to front).
pub struct Encoder {
    pub(crate) fbb: FlatBufferBuilder<'static>,
    /// A record's fields, gathered before its table starts.
    fields: Vec<(u16, NodeOffset)>,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("bytes", &self.fbb.unfinished_data().len())
            .finish()
    }
}

/// The parts of a node, each written beforehand; absent parts are left out of the table.
#[derive(Default)]
pub(crate) struct NodeParts {
    pub(crate) dots: Option<WIPOffset<Vector<'static, u64>>>,
    pub(crate) times: Option<WIPOffset<Vector<'static, u64>>>,
    pub(crate) values: Option<WIPOffset<ValuesTable<'static>>>,
    pub(crate) fields: Option<RecordOffset>,
    pub(crate) keys: Option<WIPOffset<ValuesTable<'static>>>,
    pub(crate) children: Option<WIPOffset<Vector<'static, ForwardsUOffset<NodeTable<'static>>>>>,
    pub(crate) removed: Option<WIPOffset<ValuesTable<'static>>>,
}

impl Encoder {
    pub(crate) fn new() -> Self {
        Self {
            fbb: FlatBufferBuilder::with_capacity(256),
            fields: Vec::new(),
        }
    }

    /// Writes a list of dots as `(replica, seq)` pairs; `None` when empty.
    pub(crate) fn dots(
        &mut self,
        dots: impl Iterator<Item = Dot>,
    ) -> Option<WIPOffset<Vector<'static, u64>>> {
        self.longs(dots.flat_map(|dot| [dot.replica().get(), dot.seq()]))
    }

    /// Writes a list of `u64`s; `None` when empty.
    pub(crate) fn longs(
        &mut self,
        longs: impl Iterator<Item = u64>,
    ) -> Option<WIPOffset<Vector<'static, u64>>> {
        let longs: smallvec::SmallVec<[u64; 8]> = longs.collect();
        (!longs.is_empty()).then(|| self.fbb.create_vector(&longs))
    }

    /// Writes a list of values; `None` when empty.
    pub(crate) fn values(
        &mut self,
        list: &[ValueRef<'_>],
    ) -> Option<WIPOffset<ValuesTable<'static>>> {
        write_values(&mut self.fbb, list)
    }

    /// Writes a list of nodes; `None` when empty.
    pub(crate) fn children(
        &mut self,
        nodes: &[NodeOffset],
    ) -> Option<WIPOffset<Vector<'static, ForwardsUOffset<NodeTable<'static>>>>> {
        let offsets: Vec<_> = nodes.iter().map(|node| node.0).collect();
        (!offsets.is_empty()).then(|| self.fbb.create_vector(&offsets))
    }

    pub(crate) fn node(&mut self, parts: NodeParts) -> NodeOffset {
        let fbb = &mut self.fbb;
        let start = fbb.start_table();
        if let Some(dots) = parts.dots {
            fbb.push_slot_always(slot(node::DOTS), dots);
        }
        if let Some(times) = parts.times {
            fbb.push_slot_always(slot(node::TIMES), times);
        }
        if let Some(values) = parts.values {
            fbb.push_slot_always(slot(node::VALUES), values);
        }
        if let Some(fields) = parts.fields {
            fbb.push_slot_always(slot(node::FIELDS), fields.0);
        }
        if let Some(keys) = parts.keys {
            fbb.push_slot_always(slot(node::KEYS), keys);
        }
        if let Some(children) = parts.children {
            fbb.push_slot_always(slot(node::CHILDREN), children);
        }
        if let Some(removed) = parts.removed {
            fbb.push_slot_always(slot(node::REMOVED), removed);
        }
        NodeOffset(WIPOffset::new(fbb.end_table(start).value()))
    }

    /// Writes `store`'s node as field `id` of the record being gathered, unless the store
    /// is bottom (an absent field decodes as bottom).
    pub fn field<S: WireStore>(&mut self, id: u16, store: &S) {
        if !store.is_bottom() {
            let node = store.encode_node(self);
            self.fields.push((id, node));
        }
    }

    /// Writes the record of the fields gathered by [`field`](Self::field) since the last
    /// record, from position `first` of the gathering (records nest, so each starts where
    /// its fields do: see [`fields_mark`](Self::fields_mark)).
    pub fn record(&mut self, first: usize) -> RecordOffset {
        let start = self.fbb.start_table();
        for (id, node) in self.fields.drain(first..) {
            self.fbb.push_slot_always(slot(id), node.0);
        }
        RecordOffset(WIPOffset::new(self.fbb.end_table(start).value()))
    }

    /// Where the fields of a record about to be gathered start.
    pub fn fields_mark(&self) -> usize {
        self.fields.len()
    }

    /// Writes a node whose only part is `record`: how a record is nested in another.
    pub fn record_node(&mut self, record: RecordOffset) -> NodeOffset {
        self.node(NodeParts {
            fields: Some(record),
            ..NodeParts::default()
        })
    }
}

/// A node of a received encoding, already verified.
#[derive(Clone, Copy)]
pub struct NodeRef<'a> {
    pub(crate) table: NodeTable<'a>,
}

impl std::fmt::Debug for NodeRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeRef").finish_non_exhaustive()
    }
}

impl<'a> NodeRef<'a> {
    /// The node's dot list.
    pub(crate) fn dots(&self) -> Result<Vec<Dot>, DecodeError> {
        pairs(self.table.dots(), "a dot list has an odd length").map(|pairs| {
            pairs
                .into_iter()
                .map(|(replica, seq)| Dot::new(ReplicaId::new(replica), seq))
                .collect()
        })
    }

    /// The node's `(wall_micros, logical)` list.
    pub(crate) fn times(&self) -> Result<Vec<(u64, u32)>, DecodeError> {
        pairs(self.table.times(), "a time list has an odd length")?
            .into_iter()
            .map(|(wall, logical)| {
                u32::try_from(logical)
                    .map(|logical| (wall, logical))
                    .map_err(|_| DecodeError::Invalid("a logical time is above `u32::MAX`"))
            })
            .collect()
    }

    pub(crate) fn values(&self) -> Result<Vec<ValueRef<'a>>, DecodeError> {
        read_values(self.table.values())
    }

    pub(crate) fn keys(&self) -> Result<Vec<ValueRef<'a>>, DecodeError> {
        read_values(self.table.keys())
    }

    pub(crate) fn removed(&self) -> Result<Vec<ValueRef<'a>>, DecodeError> {
        read_values(self.table.removed())
    }

    pub(crate) fn children(&self) -> Vec<NodeRef<'a>> {
        self.table
            .children()
            .map(|children| children.iter().map(|table| NodeRef { table }).collect())
            .unwrap_or_default()
    }

    /// The node's record: the fields of a nested struct.
    pub fn record(&self) -> Option<RecordRef<'a>> {
        self.table.fields().map(|table| RecordRef { table })
    }
}

fn pairs(list: Option<Vector<'_, u64>>, odd: &'static str) -> Result<Vec<(u64, u64)>, DecodeError> {
    let Some(list) = list else {
        return Ok(Vec::new());
    };
    if list.len() % 2 != 0 {
        return Err(DecodeError::Invalid(odd));
    }
    Ok((0..list.len() / 2)
        .map(|index| (list.get(2 * index), list.get(2 * index + 1)))
        .collect())
}

/// A record of a received encoding, already verified.
#[derive(Clone, Copy)]
pub struct RecordRef<'a> {
    pub(crate) table: RecordTable<'a>,
}

impl std::fmt::Debug for RecordRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordRef").finish_non_exhaustive()
    }
}

impl<'a> RecordRef<'a> {
    /// The field with id `id`, decoded; bottom when the record does not hold it.
    pub fn field<S: WireStore>(&self, id: u16) -> Result<S, DecodeError> {
        match self.table.field(id) {
            Some(table) => S::decode_node(NodeRef { table }).map_err(|error| error.in_field(id)),
            None => Ok(S::default()),
        }
    }

    /// The fields whose ids are not in `known`, kept opaque.
    pub fn unknown_fields(&self, known: &[u16]) -> Result<super::UnknownFields, DecodeError> {
        let mut unknown = super::UnknownFields::default();
        for id in self.table.slot_ids() {
            if known.contains(&id) {
                continue;
            }
            if let Some(table) = self.table.field(id) {
                let node = super::OpaqueNode::decode_node(NodeRef { table })
                    .map_err(|error| error.in_field(id))?;
                unknown.insert(id, node);
            }
        }
        Ok(unknown)
    }
}
