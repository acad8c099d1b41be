//! The tables of the wire format (`derive/model/src/wire.fbs`) as FlatBuffers accessors: the one place
//! that follows offsets in received bytes, and so the one place with `unsafe` code.
//!
//! Soundness rests on one rule: a table is only ever reached from a root that
//! [`verified_root`] has checked, and each table's [`Verifiable`] implementation below
//! visits every slot that its accessors read, as the type they read it as.

#![allow(unsafe_code)]

use flatbuffers::{
    Follow, ForwardsUOffset, InvalidFlatbuffer, Table, VOffsetT, Vector, Verifiable, Verifier,
    VerifierOptions,
};

/// The vtable byte offset of the field with id `id`.
pub(crate) const fn slot(id: u16) -> VOffsetT {
    4 + 2 * id
}

/// The most slots a record may have: one per field id up to the model's largest. Bounds
/// the work of verifying a record, whose vtable several records may share.
pub(crate) const MAX_RECORD_SLOTS: u16 = crdtype_model::MAX_FIELD_ID + 1;

/// Declares a FlatBuffers table type read through the verifier: the wire format's tables
/// here, and the operation's in `ops/format.rs`.
macro_rules! table {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy)]
        pub(crate) struct $name<'a>(::flatbuffers::Table<'a>);

        impl<'a> ::flatbuffers::Follow<'a> for $name<'a> {
            type Inner = Self;

            #[inline]
            unsafe fn follow(buf: &'a [u8], loc: usize) -> Self {
                // SAFETY: the caller guarantees a table at `loc`, reached from a root the
                // verifier checked as this table (see the module docs).
                Self(unsafe { ::flatbuffers::Table::new(buf, loc) })
            }
        }
    };
}

pub(crate) use table;

/// Reads slot `id` of `table` as `T`.
///
/// # Safety
///
/// `table` was reached from a verified root and its verifier visited slot `id` as `T`.
#[inline]
unsafe fn field<'a, T: Follow<'a> + 'a>(table: &Table<'a>, id: u16) -> Option<T::Inner> {
    // SAFETY: forwarded from the caller.
    unsafe { table.get::<T>(slot(id), None) }
}

type Offset<T> = ForwardsUOffset<T>;
type Longs<'a> = Vector<'a, u64>;

table!(
    /// The root: `table Document { schema: string (required); version: uint;
    /// context: [ulong]; state: Record; }`.
    DocumentTable
);

pub(crate) mod document {
    pub(crate) const SCHEMA: u16 = 0;
    pub(crate) const VERSION: u16 = 1;
    pub(crate) const CONTEXT: u16 = 2;
    pub(crate) const STATE: u16 = 3;
}

impl<'a> DocumentTable<'a> {
    pub(crate) fn schema(&self) -> &'a str {
        // SAFETY: verified below as a required string.
        unsafe { field::<Offset<&str>>(&self.0, document::SCHEMA) }.unwrap_or_default()
    }

    pub(crate) fn version(&self) -> u32 {
        // SAFETY: verified below as a `u32`.
        unsafe { field::<u32>(&self.0, document::VERSION) }.unwrap_or(0)
    }

    pub(crate) fn context(&self) -> Option<Longs<'a>> {
        // SAFETY: verified below as a vector of `u64`.
        unsafe { field::<Offset<Longs<'a>>>(&self.0, document::CONTEXT) }
    }

    pub(crate) fn state(&self) -> Option<RecordTable<'a>> {
        // SAFETY: verified below as a record.
        unsafe { field::<Offset<RecordTable<'a>>>(&self.0, document::STATE) }
    }
}

impl Verifiable for DocumentTable<'_> {
    fn run_verifier(v: &mut Verifier<'_, '_>, pos: usize) -> Result<(), InvalidFlatbuffer> {
        v.visit_table(pos)?
            .visit_field::<Offset<&str>>("schema", slot(document::SCHEMA), true)?
            .visit_field::<u32>("version", slot(document::VERSION), false)?
            .visit_field::<Offset<Longs<'_>>>("context", slot(document::CONTEXT), false)?
            .visit_field::<Offset<RecordTable<'_>>>("state", slot(document::STATE), false)?
            .finish();
        Ok(())
    }
}

table!(
    /// A record (a derived struct's fields): slot `id` holds the `Node` of the field with
    /// that id. Its slots are not listed in `wire.fbs`: each schema's exported `.fbs`
    /// names them.
    RecordTable
);

impl<'a> RecordTable<'a> {
    /// The node of field `id`, if the record holds it.
    pub(crate) fn field(&self, id: u16) -> Option<NodeTable<'a>> {
        if id >= MAX_RECORD_SLOTS {
            return None;
        }
        // SAFETY: the verifier below visits every slot below `MAX_RECORD_SLOTS` as a node.
        unsafe { field::<Offset<NodeTable<'a>>>(&self.0, id) }
    }

    /// The ids of the slots the record's vtable has, present or not.
    pub(crate) fn slot_ids(&self) -> impl Iterator<Item = u16> + use<> {
        0..slot_count(&self.0).min(MAX_RECORD_SLOTS)
    }
}

impl Verifiable for RecordTable<'_> {
    fn run_verifier(v: &mut Verifier<'_, '_>, pos: usize) -> Result<(), InvalidFlatbuffer> {
        let slots = vtable_slots(v, pos)?;
        if slots > usize::from(MAX_RECORD_SLOTS) {
            // The verifier's errors have none for this; a record that big is as costly to
            // verify as many tables.
            return Err(InvalidFlatbuffer::TooManyTables);
        }
        let mut table = v.visit_table(pos)?;
        for id in 0..slots {
            let id = u16::try_from(id).unwrap_or(u16::MAX);
            table = table.visit_field::<Offset<NodeTable<'_>>>("field", slot(id), false)?;
        }
        table.finish();
        Ok(())
    }
}

/// How many field slots the vtable of the table at `pos` has, read with the verifier's
/// bounds-checked reads.
fn vtable_slots(v: &mut Verifier<'_, '_>, pos: usize) -> Result<usize, InvalidFlatbuffer> {
    // The table's signed offset to its vtable, read as the verifier reads it (aligned).
    let soffset = v.get_uoffset(pos)? as i32;
    let vtable = isize::try_from(pos)
        .ok()
        .and_then(|pos| pos.checked_sub(soffset as isize))
        .and_then(|vtable| usize::try_from(vtable).ok())
        .ok_or(InvalidFlatbuffer::SignedOffsetOutOfBounds {
            soffset,
            position: pos,
            error_trace: Default::default(),
        })?;
    let length = u16::from_le_bytes([v.get_u8(vtable)?, v.get_u8(vtable.saturating_add(1))?]);
    Ok(usize::from(length).saturating_sub(4) / 2)
}

table!(
    /// One field's CRDT state: `table Node { dots: [ulong]; stamps: [ulong]; <value
    /// columns>; fields: Record; keys: Values; children: [Node]; removed: Values; }`, the
    /// value columns (slots 2 to 8) as in `Values`.
    NodeTable
);

pub(crate) mod node {
    pub(crate) const DOTS: u16 = 0;
    pub(crate) const STAMPS: u16 = 1;
    /// The first of the value columns, in `Values` order.
    pub(crate) const COLUMNS: u16 = 2;
    pub(crate) const FIELDS: u16 = 9;
    pub(crate) const KEYS: u16 = 10;
    pub(crate) const CHILDREN: u16 = 11;
    pub(crate) const REMOVED: u16 = 12;
}

/// How many field slots `table`'s vtable has, present or not. (`VTable::num_fields`
/// underflows on a vtable shorter than its header, which the verifier lets through.)
fn slot_count(table: &Table<'_>) -> u16 {
    u16::try_from(table.vtable().num_bytes().saturating_sub(4) / 2).unwrap_or(u16::MAX)
}

/// The fields `table` holds among its first `count` (at most 16), one bit per id, read
/// from its vtable alone: a slot beyond the vtable's length is absent without a look.
fn present(table: &Table<'_>, count: u16) -> u16 {
    let vtable = table.vtable();
    (0..slot_count(table).min(count))
        .filter(|&id| vtable.get(slot(id)) != 0)
        .fold(0, |mask, id| mask | 1 << id)
}

impl<'a> NodeTable<'a> {
    /// The fields the node holds, one bit per id of `node`.
    pub(crate) fn present(&self) -> u16 {
        present(&self.0, node::REMOVED + 1)
    }

    pub(crate) fn dots(&self) -> Option<Longs<'a>> {
        // SAFETY: verified below as a vector of `u64`.
        unsafe { field::<Offset<Longs<'a>>>(&self.0, node::DOTS) }
    }

    pub(crate) fn stamps(&self) -> Option<Longs<'a>> {
        // SAFETY: verified below as a vector of `u64`.
        unsafe { field::<Offset<Longs<'a>>>(&self.0, node::STAMPS) }
    }

    /// The values of the node's dots or stamps.
    pub(crate) fn values(&self) -> ColumnsTable<'a> {
        ColumnsTable {
            table: self.0,
            first: node::COLUMNS,
        }
    }

    pub(crate) fn fields(&self) -> Option<RecordTable<'a>> {
        // SAFETY: verified below as a record.
        unsafe { field::<Offset<RecordTable<'a>>>(&self.0, node::FIELDS) }
    }

    pub(crate) fn keys(&self) -> Option<ColumnsTable<'a>> {
        // SAFETY: verified below as values.
        unsafe { field::<Offset<ValuesTable<'a>>>(&self.0, node::KEYS) }.map(ValuesTable::columns)
    }

    pub(crate) fn children(&self) -> Option<Vector<'a, Offset<NodeTable<'a>>>> {
        // SAFETY: verified below as a vector of nodes.
        unsafe { field::<Offset<Vector<'a, Offset<NodeTable<'a>>>>>(&self.0, node::CHILDREN) }
    }

    pub(crate) fn removed(&self) -> Option<ColumnsTable<'a>> {
        // SAFETY: verified below as values.
        unsafe { field::<Offset<ValuesTable<'a>>>(&self.0, node::REMOVED) }
            .map(ValuesTable::columns)
    }
}

impl Verifiable for NodeTable<'_> {
    fn run_verifier(v: &mut Verifier<'_, '_>, pos: usize) -> Result<(), InvalidFlatbuffer> {
        let slots = vtable_slots(v, pos)?;
        let table = Slots::new(v.visit_table(pos)?, slots)
            .visit::<Offset<Longs<'_>>>("dots", node::DOTS)?
            .visit::<Offset<Longs<'_>>>("stamps", node::STAMPS)?;
        visit_columns(table, node::COLUMNS)?
            .visit::<Offset<RecordTable<'_>>>("fields", node::FIELDS)?
            .visit::<Offset<ValuesTable<'_>>>("keys", node::KEYS)?
            .visit::<Offset<Vector<'_, Offset<NodeTable<'_>>>>>("children", node::CHILDREN)?
            .visit::<Offset<ValuesTable<'_>>>("removed", node::REMOVED)?
            .finish();
        Ok(())
    }
}

/// A table being verified, and how many slots its vtable has: a slot beyond them is
/// absent, so it is not visited. Most nodes use two or three of their thirteen slots, and
/// each visit costs about as much as reading the vtable's length.
struct Slots<'v, 'o, 'b> {
    table: flatbuffers::TableVerifier<'v, 'o, 'b>,
    slots: usize,
}

impl<'v, 'o, 'b> Slots<'v, 'o, 'b> {
    fn new(table: flatbuffers::TableVerifier<'v, 'o, 'b>, slots: usize) -> Self {
        Self { table, slots }
    }

    /// Visits the optional field `id` as a `T`, if the vtable has its slot.
    fn visit<T: Verifiable>(self, name: &'static str, id: u16) -> Result<Self, InvalidFlatbuffer> {
        if usize::from(id) >= self.slots {
            return Ok(self);
        }
        Ok(Self {
            table: self.table.visit_field::<T>(name, slot(id), false)?,
            slots: self.slots,
        })
    }

    fn finish(self) {
        self.table.finish();
    }
}

table!(
    /// A list of values in columns: `table Values { texts: [string]; ints: [long];
    /// uints: [ulong]; bools: [bool]; floats: [double]; counts: [ulong]; kinds: [ubyte]; }`.
    /// With one column, it is the list; with several, or with nulls, `kinds` gives the
    /// column of each value in turn.
    ValuesTable
);

impl<'a> ValuesTable<'a> {
    fn columns(self) -> ColumnsTable<'a> {
        ColumnsTable {
            table: self.0,
            first: 0,
        }
    }
}

impl Verifiable for ValuesTable<'_> {
    fn run_verifier(v: &mut Verifier<'_, '_>, pos: usize) -> Result<(), InvalidFlatbuffer> {
        let slots = vtable_slots(v, pos)?;
        visit_columns(Slots::new(v.visit_table(pos)?, slots), 0)?.finish();
        Ok(())
    }
}

/// The slots of the value columns, after the first: each kind's, then `kinds`.
pub(crate) mod columns {
    pub(crate) const TEXTS: u16 = 0;
    pub(crate) const INTS: u16 = 1;
    pub(crate) const UINTS: u16 = 2;
    pub(crate) const BOOLS: u16 = 3;
    pub(crate) const FLOATS: u16 = 4;
    pub(crate) const COUNTS: u16 = 5;
    pub(crate) const KINDS: u16 = 6;
}

fn visit_columns<'v, 'o, 'b>(
    table: Slots<'v, 'o, 'b>,
    first: u16,
) -> Result<Slots<'v, 'o, 'b>, InvalidFlatbuffer> {
    table
        .visit::<Offset<Vector<'_, Offset<&str>>>>("texts", first + columns::TEXTS)?
        .visit::<Offset<Vector<'_, i64>>>("ints", first + columns::INTS)?
        .visit::<Offset<Longs<'_>>>("uints", first + columns::UINTS)?
        .visit::<Offset<Vector<'_, bool>>>("bools", first + columns::BOOLS)?
        .visit::<Offset<Vector<'_, f64>>>("floats", first + columns::FLOATS)?
        .visit::<Offset<Longs<'_>>>("counts", first + columns::COUNTS)?
        .visit::<Offset<Vector<'_, u8>>>("kinds", first + columns::KINDS)
}

/// The value columns of a node or of a `Values` table, from slot `first` on.
#[derive(Clone, Copy)]
pub(crate) struct ColumnsTable<'a> {
    table: Table<'a>,
    first: u16,
}

impl<'a> ColumnsTable<'a> {
    pub(crate) fn texts(&self) -> Option<Vector<'a, Offset<&'a str>>> {
        // SAFETY: both tables with columns verify them with `visit_columns`.
        unsafe {
            field::<Offset<Vector<'a, Offset<&'a str>>>>(&self.table, self.first + columns::TEXTS)
        }
    }

    pub(crate) fn ints(&self) -> Option<Vector<'a, i64>> {
        // SAFETY: as above.
        unsafe { field::<Offset<Vector<'a, i64>>>(&self.table, self.first + columns::INTS) }
    }

    pub(crate) fn uints(&self) -> Option<Longs<'a>> {
        // SAFETY: as above.
        unsafe { field::<Offset<Longs<'a>>>(&self.table, self.first + columns::UINTS) }
    }

    pub(crate) fn bools(&self) -> Option<Vector<'a, bool>> {
        // SAFETY: as above.
        unsafe { field::<Offset<Vector<'a, bool>>>(&self.table, self.first + columns::BOOLS) }
    }

    pub(crate) fn floats(&self) -> Option<Vector<'a, f64>> {
        // SAFETY: as above.
        unsafe { field::<Offset<Vector<'a, f64>>>(&self.table, self.first + columns::FLOATS) }
    }

    pub(crate) fn counts(&self) -> Option<Longs<'a>> {
        // SAFETY: as above.
        unsafe { field::<Offset<Longs<'a>>>(&self.table, self.first + columns::COUNTS) }
    }

    pub(crate) fn kinds(&self) -> Option<Vector<'a, u8>> {
        // SAFETY: as above.
        unsafe { field::<Offset<Vector<'a, u8>>>(&self.table, self.first + columns::KINDS) }
    }
}

/// The document at the root of `bytes`, after the verifier has checked the whole buffer
/// within `options`.
pub(crate) fn verified_root<'a>(
    bytes: &'a [u8],
    options: &VerifierOptions,
) -> Result<DocumentTable<'a>, InvalidFlatbuffer> {
    flatbuffers::root_with_opts::<DocumentTable<'a>>(options, bytes)
}
