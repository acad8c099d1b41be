//! The traits every wire-encodable store implements, and the encoder and node readers
//! they use.

use flatbuffers::{FlatBufferBuilder, ForwardsUOffset, Vector, WIPOffset};

use smallvec::SmallVec;

use super::DecodeError;
use super::tables::{NodeTable, RecordTable, ValuesTable, node, slot};
use super::value::{ValueRef, Values, WrittenColumns, write_columns};
use crate::{Dot, DotStore, ReplicaId};

/// A write's `(wall_micros, logical)`: its timestamp but for the replica, which its dot has.
pub(crate) type Time = (u64, u32);

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

/// Builds encodings, children before parents (FlatBuffers writes back to front), in a
/// buffer kept from one encoding to the next: see
/// [`CausalDotStore::encode_with`](crate::CausalDotStore::encode_with).
pub struct Encoder {
    pub(crate) fbb: FlatBufferBuilder<'static>,
    /// A record's fields, gathered before its table starts.
    fields: Vec<(u16, NodeOffset)>,
    /// A vector of `u64`s, gathered to be written in one copy.
    longs: Vec<u64>,
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
    pub(crate) stamps: Option<WIPOffset<Vector<'static, u64>>>,
    pub(crate) values: WrittenColumns,
    pub(crate) fields: Option<RecordOffset>,
    pub(crate) keys: Option<WIPOffset<ValuesTable<'static>>>,
    pub(crate) children: Option<WIPOffset<Vector<'static, ForwardsUOffset<NodeTable<'static>>>>>,
    pub(crate) removed: Option<WIPOffset<ValuesTable<'static>>>,
}

impl Default for Encoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Encoder {
    /// An encoder with an empty buffer, which grows to the largest encoding made with it.
    pub fn new() -> Self {
        Self {
            fbb: FlatBufferBuilder::with_capacity(256),
            fields: Vec::new(),
            longs: Vec::new(),
        }
    }

    /// Empties the buffer and any fields gathered by an encoding that did not finish.
    pub(crate) fn reset(&mut self) {
        self.fbb.reset();
        self.fields.clear();
    }

    /// Writes a vector of `longs`; `None` when there are none. Gathered first and written
    /// in one copy, several times faster than pushing each.
    pub(crate) fn longs(
        &mut self,
        longs: impl IntoIterator<Item = u64>,
    ) -> Option<WIPOffset<Vector<'static, u64>>> {
        self.longs.clear();
        self.longs.extend(longs);
        if self.longs.is_empty() {
            return None;
        }
        Some(self.fbb.create_vector(&self.longs))
    }

    /// Writes dots as `(replica, seq)` pairs; `None` when there are none.
    pub(crate) fn dots(
        &mut self,
        dots: impl IntoIterator<Item = Dot>,
    ) -> Option<WIPOffset<Vector<'static, u64>>> {
        self.longs(
            dots.into_iter()
                .flat_map(|dot| [dot.replica().get(), dot.seq()]),
        )
    }

    /// Writes the stamps of writes as `(replica, seq, wall_micros, logical)`; `None` when
    /// there are none.
    pub(crate) fn stamps(
        &mut self,
        stamps: impl IntoIterator<Item = (Dot, Time)>,
    ) -> Option<WIPOffset<Vector<'static, u64>>> {
        self.longs(stamps.into_iter().flat_map(|(dot, (wall, logical))| {
            [dot.replica().get(), dot.seq(), wall, u64::from(logical)]
        }))
    }

    /// Writes the values `list()` gives as a node's value columns.
    pub(crate) fn columns<'v, I>(&mut self, list: impl Fn() -> I) -> WrittenColumns
    where
        I: DoubleEndedIterator<Item = ValueRef<'v>>,
    {
        write_columns(&mut self.fbb, list)
    }

    /// Writes the values `list()` gives as a `Values` table; `None` when there are none.
    pub(crate) fn values<'v, I>(
        &mut self,
        list: impl Fn() -> I,
    ) -> Option<WIPOffset<ValuesTable<'static>>>
    where
        I: DoubleEndedIterator<Item = ValueRef<'v>>,
    {
        let columns = write_columns(&mut self.fbb, list);
        if columns.is_empty() {
            return None;
        }
        let start = self.fbb.start_table();
        columns.push_into(&mut self.fbb, 0);
        Some(WIPOffset::new(self.fbb.end_table(start).value()))
    }

    /// Writes a list of nodes; `None` when empty.
    pub(crate) fn children(
        &mut self,
        nodes: &[NodeOffset],
    ) -> Option<WIPOffset<Vector<'static, ForwardsUOffset<NodeTable<'static>>>>> {
        let offsets: SmallVec<[_; 8]> = nodes.iter().map(|node| node.0).collect();
        (!offsets.is_empty()).then(|| self.fbb.create_vector(&offsets))
    }

    pub(crate) fn node(&mut self, parts: NodeParts) -> NodeOffset {
        let fbb = &mut self.fbb;
        let start = fbb.start_table();
        if let Some(dots) = parts.dots {
            fbb.push_slot_always(slot(node::DOTS), dots);
        }
        if let Some(stamps) = parts.stamps {
            fbb.push_slot_always(slot(node::STAMPS), stamps);
        }
        parts.values.push_into(fbb, node::COLUMNS);
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
    /// is bottom (an absent field decodes as bottom). Ids above the largest field id are
    /// ignored: no schema has them.
    #[doc(hidden)]
    pub fn field<S: WireStore>(&mut self, id: u16, store: &S) {
        if id <= crdtype_model::MAX_FIELD_ID && !store.is_bottom() {
            let node = store.encode_node(self);
            self.fields.push((id, node));
        }
    }

    /// Writes the record of the fields gathered by [`field`](Self::field) since `mark`
    /// (records nest, so each starts where its fields do: see
    /// [`fields_mark`](Self::fields_mark)).
    #[doc(hidden)]
    pub fn record(&mut self, mark: usize) -> RecordOffset {
        let start = self.fbb.start_table();
        for (id, node) in self.fields.drain(mark.min(self.fields.len())..) {
            self.fbb.push_slot_always(slot(id), node.0);
        }
        RecordOffset(WIPOffset::new(self.fbb.end_table(start).value()))
    }

    /// Where the fields of a record about to be gathered start.
    #[doc(hidden)]
    pub fn fields_mark(&self) -> usize {
        self.fields.len()
    }

    /// Writes a node whose only part is `record`: how a record is nested in another.
    #[doc(hidden)]
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

/// The parts a node can have, as a set: what a kind writes, and so all it accepts.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Parts(u8);

impl Parts {
    pub(crate) const DOTS: Self = Self(1);
    pub(crate) const STAMPS: Self = Self(1 << 1);
    pub(crate) const VALUES: Self = Self(1 << 2);
    pub(crate) const FIELDS: Self = Self(1 << 3);
    pub(crate) const KEYS: Self = Self(1 << 4);
    pub(crate) const CHILDREN: Self = Self(1 << 5);
    pub(crate) const REMOVED: Self = Self(1 << 6);
}

impl std::ops::BitOr for Parts {
    type Output = Self;

    fn bitor(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

/// One entry of a node's dot function: its dot, its time if it has a stamp, its value if
/// the node has values.
pub(crate) struct ListedEntry<'a> {
    pub(crate) dot: Dot,
    pub(crate) time: Option<Time>,
    pub(crate) value: Option<ValueRef<'a>>,
}

impl<'a> NodeRef<'a> {
    /// The parts the node has.
    fn parts(&self) -> Parts {
        let present = self.table.present();
        let has = |id: u16| present & 1 << id != 0;
        let has_values = (node::COLUMNS..node::FIELDS).any(has);
        [
            (has(node::DOTS), Parts::DOTS),
            (has(node::STAMPS), Parts::STAMPS),
            (has_values, Parts::VALUES),
            (has(node::FIELDS), Parts::FIELDS),
            (has(node::KEYS), Parts::KEYS),
            (has(node::CHILDREN), Parts::CHILDREN),
            (has(node::REMOVED), Parts::REMOVED),
        ]
        .into_iter()
        .filter(|(present, _)| *present)
        .fold(Parts(0), |parts, (_, part)| parts | part)
    }

    /// Refuses a node with parts that the kind decoding it never writes: such a node was
    /// not written by that kind, and reading part of it would lose the rest.
    pub(crate) fn only(&self, allowed: Parts) -> Result<(), DecodeError> {
        if self.parts().0 & !allowed.0 != 0 {
            return Err(DecodeError::Invalid(
                "a node has parts that its field's kind never writes",
            ));
        }
        Ok(())
    }

    /// The record of a nested struct's node, which has nothing else.
    #[doc(hidden)]
    pub fn record_only(&self) -> Result<Option<RecordRef<'a>>, DecodeError> {
        self.only(Parts::FIELDS)?;
        Ok(self.record())
    }

    /// The node's dots: a dot set, or the dots of a dot function without times.
    pub(crate) fn dots(&self) -> Result<impl Iterator<Item = Dot> + 'a, DecodeError> {
        let list = self.table.dots();
        let len = dot_count(list)?;
        Ok(list
            .into_iter()
            .flat_map(move |list| (0..len).map(move |index| dot_at(list, index))))
    }

    /// Visits the entries of the node's dot function in order: its stamps if it has
    /// them, else its dots, each with its value when the node has values (one per entry,
    /// or an error). A visit rather than an iterator: the column readers stay in one
    /// place instead of moving, hundreds of bytes at a time, through each `Result`.
    pub(crate) fn for_each_entry(
        &self,
        mut visit: impl FnMut(ListedEntry<'a>) -> Result<(), DecodeError>,
    ) -> Result<(), DecodeError> {
        let stamps = self.table.stamps();
        let timed = stamps.map_or(0, |stamps| stamps.len());
        if !timed.is_multiple_of(4) {
            return Err(DecodeError::Invalid("a stamp list has a partial stamp"));
        }
        let dots = self.table.dots();
        if stamps.is_some() && dots.is_some() {
            return Err(DecodeError::Invalid("a node has both dots and stamps"));
        }
        let len = if stamps.is_some() {
            timed / 4
        } else {
            dot_count(dots)?
        };
        let mut values = Values::read(Some(self.table.values()))?;
        if values.len() != 0 && values.len() != len {
            return Err(DecodeError::Invalid("a node has not one value per dot"));
        }
        let with_values = values.len() != 0;
        for index in 0..len {
            let (dot, time) = match (stamps, dots) {
                (Some(stamps), _) => {
                    let at = |offset| stamps.get(4 * index + offset);
                    let Ok(logical) = u32::try_from(at(3)) else {
                        return Err(DecodeError::Invalid("a logical time is above `u32::MAX`"));
                    };
                    let dot = Dot::new(ReplicaId::new(at(0)), at(1));
                    (dot, Some((at(2), logical)))
                }
                (None, Some(dots)) => (dot_at(dots, index), None),
                // No entries: `len` is 0.
                (None, None) => break,
            };
            let value = if with_values { values.next() } else { None };
            visit(ListedEntry { dot, time, value })?;
        }
        Ok(())
    }

    /// The node's keys (a set's elements, a map's keys).
    pub(crate) fn keys(&self) -> Result<Values<'a>, DecodeError> {
        Values::read(self.table.keys())
    }

    /// A two-phase set's removed elements.
    pub(crate) fn removed(&self) -> Result<Values<'a>, DecodeError> {
        Values::read(self.table.removed())
    }

    /// How many child nodes there are, and each in order (the node of each key).
    pub(crate) fn children(&self) -> (usize, impl Iterator<Item = NodeRef<'a>> + 'a) {
        let children = self.table.children();
        let len = children.map_or(0, |children| children.len());
        let nodes = children
            .into_iter()
            .flat_map(|children| children.iter())
            .map(|table| NodeRef { table });
        (len, nodes)
    }

    /// The node's record: the fields of a nested struct.
    pub(crate) fn record(&self) -> Option<RecordRef<'a>> {
        self.table.fields().map(|table| RecordRef { table })
    }
}

/// How many dots a node's list of `(replica, seq)` pairs holds; an error for a list of odd
/// length.
fn dot_count(list: Option<Vector<'_, u64>>) -> Result<usize, DecodeError> {
    let len = list.map_or(0, |list| list.len());
    if !len.is_multiple_of(2) {
        return Err(DecodeError::Invalid("a dot list has an odd length"));
    }
    Ok(len / 2)
}

/// Dot `index` of a list that [`dot_count`] accepted.
fn dot_at(list: Vector<'_, u64>, index: usize) -> Dot {
    Dot::new(ReplicaId::new(list.get(2 * index)), list.get(2 * index + 1))
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
    #[doc(hidden)]
    pub fn field<S: WireStore>(&self, id: u16) -> Result<S, DecodeError> {
        match self.table.field(id) {
            Some(table) => S::decode_node(NodeRef { table }).map_err(|error| error.in_field(id)),
            None => Ok(S::default()),
        }
    }

    /// The fields whose ids are not in `known`, kept opaque.
    #[doc(hidden)]
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
