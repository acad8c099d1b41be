//! Values on the wire: the kinds a register, set element or map key is written as.

use flatbuffers::{FlatBufferBuilder, Push, UnionWIPOffset, Vector, WIPOffset};
use smallvec::SmallVec;

use super::DecodeError;
use super::tables::{ColumnsTable, columns, slot};

/// The code of a null in `kinds`: past every column's.
const NULL_CODE: u16 = 7;

/// How a value is written: one column of the wire format's `Values` table per kind.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum ValueKind {
    /// UTF-8 text (`string`).
    Text,
    /// A signed integer (`long`).
    Int,
    /// An unsigned integer (`ulong`).
    UInt,
    /// A boolean (`bool`).
    Bool,
    /// A floating-point number (`double`).
    Float,
    /// A counter's per-replica increments and decrements (two `ulong`s).
    Counts,
    /// No value (`None` of an `Option`): a code in `kinds`, with no column.
    Null,
}

impl ValueKind {
    /// The kind's column among the value columns, also its code in `kinds`.
    const fn column(self) -> u16 {
        match self {
            Self::Text => columns::TEXTS,
            Self::Int => columns::INTS,
            Self::UInt => columns::UINTS,
            Self::Bool => columns::BOOLS,
            Self::Float => columns::FLOATS,
            Self::Counts => columns::COUNTS,
            Self::Null => NULL_CODE,
        }
    }

    /// The code of the kind in `kinds`.
    #[allow(clippy::cast_possible_truncation)] // Every code is below 8.
    const fn code(self) -> u8 {
        self.column() as u8
    }

    const ALL: [Self; 6] = [
        Self::Text,
        Self::Int,
        Self::UInt,
        Self::Bool,
        Self::Float,
        Self::Counts,
    ];

    /// The kind's place in [`ALL`](Self::ALL), where per-kind counters keep it; `None` for
    /// a null, which has no column.
    fn index(self) -> Option<usize> {
        Self::ALL.iter().position(|kind| *kind == self)
    }

    fn from_code(code: u8) -> Option<Self> {
        Self::ALL
            .into_iter()
            .chain([Self::Null])
            .find(|kind| kind.column() == u16::from(code))
    }
}

/// A value as the wire format holds it, borrowed from the bytes or from the value it
/// encodes.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum ValueRef<'a> {
    /// Text.
    Text(&'a str),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer.
    UInt(u64),
    /// A boolean.
    Bool(bool),
    /// A floating-point number.
    Float(f64),
    /// A counter's increments and decrements.
    Counts(u64, u64),
    /// No value.
    Null,
}

impl ValueRef<'_> {
    /// The kind of the value.
    pub const fn kind(&self) -> ValueKind {
        match self {
            Self::Text(_) => ValueKind::Text,
            Self::Int(_) => ValueKind::Int,
            Self::UInt(_) => ValueKind::UInt,
            Self::Bool(_) => ValueKind::Bool,
            Self::Float(_) => ValueKind::Float,
            Self::Counts(..) => ValueKind::Counts,
            Self::Null => ValueKind::Null,
        }
    }
}

/// A type that a register, set or map key of a derived struct can hold: how it is written
/// on the wire and read back.
///
/// Implemented for `String`, `bool`, the integer types up to 64 bits, `f32`/`f64`, and
/// `Option` of them (`None` is written as null, so an `Option<Option<T>>` reads `Some(None)`
/// back as `None`). For a type of your own, write it as one of these kinds:
///
/// ```
/// use crdtype::wire::{DecodeError, ValueKind, ValueRef, WireValue};
///
/// #[derive(Clone, Default, PartialEq, Debug)]
/// struct Colour(u32);
///
/// impl WireValue for Colour {
///     const KIND: ValueKind = ValueKind::UInt;
///
///     fn to_wire(&self) -> ValueRef<'_> {
///         ValueRef::UInt(u64::from(self.0))
///     }
///
///     fn from_wire(value: ValueRef<'_>) -> Result<Self, DecodeError> {
///         u32::from_wire(value).map(Colour)
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no wire encoding",
    label = "this type must implement `WireValue`",
    note = "implement `crdtype::wire::WireValue` for `{Self}`, writing it as text, an integer, \
            a boolean or a float"
)]
pub trait WireValue: Sized {
    /// The kind the value is written as.
    const KIND: ValueKind;

    /// The value as the wire holds it.
    fn to_wire(&self) -> ValueRef<'_>;

    /// The value from what the wire holds: an error when it is of another kind or out of
    /// this type's range.
    fn from_wire(value: ValueRef<'_>) -> Result<Self, DecodeError>;
}

/// The error of a value of another kind than `expected`.
pub(crate) fn mismatch<T>(expected: ValueKind, value: ValueRef<'_>) -> Result<T, DecodeError> {
    Err(DecodeError::ValueKind {
        expected,
        found: value.kind(),
    })
}

fn out_of_range<T>(value: ValueRef<'_>) -> DecodeError {
    DecodeError::OutOfRange {
        rust_type: std::any::type_name::<T>(),
        value: format!("{value:?}"),
    }
}

impl WireValue for String {
    const KIND: ValueKind = ValueKind::Text;

    fn to_wire(&self) -> ValueRef<'_> {
        ValueRef::Text(self)
    }

    fn from_wire(value: ValueRef<'_>) -> Result<Self, DecodeError> {
        match value {
            ValueRef::Text(text) => Ok(text.to_owned()),
            other => mismatch(Self::KIND, other),
        }
    }
}

impl WireValue for bool {
    const KIND: ValueKind = ValueKind::Bool;

    fn to_wire(&self) -> ValueRef<'_> {
        ValueRef::Bool(*self)
    }

    fn from_wire(value: ValueRef<'_>) -> Result<Self, DecodeError> {
        match value {
            ValueRef::Bool(flag) => Ok(flag),
            other => mismatch(Self::KIND, other),
        }
    }
}

macro_rules! integers {
    ($variant:ident, $wide:ty, $kind:ident: $($type:ty),*) => {$(
        impl WireValue for $type {
            const KIND: ValueKind = ValueKind::$kind;

            #[allow(clippy::cast_lossless)]
            fn to_wire(&self) -> ValueRef<'_> {
                // Widening: every type here fits its kind.
                ValueRef::$variant(<$wide>::try_from(*self).unwrap_or_default())
            }

            fn from_wire(value: ValueRef<'_>) -> Result<Self, DecodeError> {
                match value {
                    ValueRef::$variant(wide) => {
                        <$type>::try_from(wide).map_err(|_| out_of_range::<$type>(value))
                    }
                    other => mismatch(Self::KIND, other),
                }
            }
        }
    )*};
}

integers!(Int, i64, Int: i8, i16, i32, i64, isize);
integers!(UInt, u64, UInt: u8, u16, u32, u64, usize);

impl WireValue for f64 {
    const KIND: ValueKind = ValueKind::Float;

    fn to_wire(&self) -> ValueRef<'_> {
        ValueRef::Float(*self)
    }

    fn from_wire(value: ValueRef<'_>) -> Result<Self, DecodeError> {
        match value {
            ValueRef::Float(float) => Ok(float),
            other => mismatch(Self::KIND, other),
        }
    }
}

impl WireValue for f32 {
    const KIND: ValueKind = ValueKind::Float;

    fn to_wire(&self) -> ValueRef<'_> {
        ValueRef::Float(f64::from(*self))
    }

    #[allow(clippy::cast_possible_truncation)]
    fn from_wire(value: ValueRef<'_>) -> Result<Self, DecodeError> {
        match value {
            // Exact for every value an `f32` wrote; others round, as `f32` arithmetic does.
            ValueRef::Float(float) => Ok(float as f32),
            other => mismatch(Self::KIND, other),
        }
    }
}

/// `None` is written as null; `Some` as the value.
impl<T: WireValue> WireValue for Option<T> {
    const KIND: ValueKind = T::KIND;

    fn to_wire(&self) -> ValueRef<'_> {
        self.as_ref().map_or(ValueRef::Null, T::to_wire)
    }

    fn from_wire(value: ValueRef<'_>) -> Result<Self, DecodeError> {
        match value {
            ValueRef::Null => Ok(None),
            other => T::from_wire(other).map(Some),
        }
    }
}

/// Value columns written into the builder, to be put in the slots of the table that has
/// them (a node, or a `Values` table).
#[derive(Default)]
pub(crate) struct WrittenColumns(SmallVec<[(u16, WIPOffset<UnionWIPOffset>); 2]>);

impl WrittenColumns {
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Puts the columns in the table being built, whose columns start at slot `first`.
    pub(crate) fn push_into(&self, fbb: &mut FlatBufferBuilder<'static>, first: u16) {
        for &(column, offset) in &self.0 {
            fbb.push_slot_always(slot(first + column), offset);
        }
    }
}

/// Writes the values `list()` gives as value columns, without copying them. One value
/// writes its column alone; several, one pass counts each kind, then each column is
/// written in turn, and `kinds` after them when they are of several kinds or nulls.
pub(crate) fn write_columns<'v, I>(
    fbb: &mut FlatBufferBuilder<'static>,
    list: impl Fn() -> I,
) -> WrittenColumns
where
    I: DoubleEndedIterator<Item = ValueRef<'v>>,
{
    let mut written = WrittenColumns::default();
    let mut values = list();
    if let (Some(only), None) = (values.next(), values.next()) {
        // The usual node, a register's one write: its value's column alone, without the
        // passes over every kind.
        let kind = only.kind();
        let slot = match kind {
            ValueKind::Null => columns::KINDS,
            kind => kind.column(),
        };
        written.0.push((slot, write_column(fbb, kind, 1, list)));
        return written;
    }
    let mut counts = [0usize; ValueKind::ALL.len()];
    let (mut total, mut nulls) = (0, 0);
    for value in list() {
        total += 1;
        match value.kind().index() {
            Some(index) => counts[index] += 1,
            None => nulls += 1,
        }
    }
    for (kind, count) in ValueKind::ALL.into_iter().zip(counts) {
        if count != 0 {
            written
                .0
                .push((kind.column(), write_column(fbb, kind, count, &list)));
        }
    }
    if nulls > 0 || written.0.len() > 1 {
        written
            .0
            .push((columns::KINDS, code_vector(fbb, total, &list)));
    }
    written
}

/// Writes the column of the `count` values of `kind` among those `list()` gives. Nulls
/// have no column: for them, it writes `kinds`, the code of every value in the list.
fn write_column<'v, I>(
    fbb: &mut FlatBufferBuilder<'static>,
    kind: ValueKind,
    count: usize,
    list: impl Fn() -> I,
) -> WIPOffset<UnionWIPOffset>
where
    I: DoubleEndedIterator<Item = ValueRef<'v>>,
{
    let backwards = list().rev();
    match kind {
        ValueKind::Text => {
            // Pushed one by one: `collect` through the filter reserves and grows step by
            // step, which costs more than a register's one text.
            let mut texts = SmallVec::<[WIPOffset<&str>; 4]>::with_capacity(count);
            for value in list() {
                if let ValueRef::Text(text) = value {
                    texts.push(fbb.create_string(text));
                }
            }
            fbb.create_vector(&texts).as_union_value()
        }
        ValueKind::Int => backwards_vector(
            fbb,
            count,
            backwards.filter_map(|value| match value {
                ValueRef::Int(int) => Some(int),
                _ => None,
            }),
        ),
        ValueKind::UInt => backwards_vector(
            fbb,
            count,
            backwards.filter_map(|value| match value {
                ValueRef::UInt(uint) => Some(uint),
                _ => None,
            }),
        ),
        ValueKind::Bool => backwards_vector(
            fbb,
            count,
            backwards.filter_map(|value| match value {
                ValueRef::Bool(flag) => Some(flag),
                _ => None,
            }),
        ),
        ValueKind::Float => backwards_vector(
            fbb,
            count,
            backwards.filter_map(|value| match value {
                ValueRef::Float(float) => Some(float),
                _ => None,
            }),
        ),
        ValueKind::Counts => backwards_vector(
            fbb,
            2 * count,
            backwards
                .flat_map(|value| match value {
                    ValueRef::Counts(up, down) => [Some(down), Some(up)],
                    _ => [None, None],
                })
                .flatten(),
        ),
        ValueKind::Null => {
            debug_assert_eq!(list().count(), count, "`kinds` has every value's code");
            code_vector(fbb, count, list)
        }
    }
}

/// Writes `kinds`, the code of each of the `total` values `list()` gives.
fn code_vector<'v, I>(
    fbb: &mut FlatBufferBuilder<'static>,
    total: usize,
    list: impl Fn() -> I,
) -> WIPOffset<UnionWIPOffset>
where
    I: DoubleEndedIterator<Item = ValueRef<'v>>,
{
    backwards_vector(fbb, total, list().rev().map(|value| value.kind().code()))
}

/// A vector of `len` items, given last first.
fn backwards_vector<T: Push + Copy + 'static>(
    fbb: &mut FlatBufferBuilder<'static>,
    len: usize,
    backwards: impl Iterator<Item = T>,
) -> WIPOffset<UnionWIPOffset> {
    fbb.start_vector::<T>(len);
    for item in backwards {
        fbb.push(item);
    }
    fbb.end_vector::<T>(len).as_union_value()
}

/// The values of a table's columns, validated, read in order without copying.
#[derive(Clone)]
pub(crate) struct Values<'a> {
    texts: Option<Vector<'a, flatbuffers::ForwardsUOffset<&'a str>>>,
    ints: Option<Vector<'a, i64>>,
    uints: Option<Vector<'a, u64>>,
    bools: Option<Vector<'a, bool>>,
    floats: Option<Vector<'a, f64>>,
    counts: Option<Vector<'a, u64>>,
    /// The kind of each value in turn, when the values are of several kinds or nulls.
    kinds: Option<Vector<'a, u8>>,
    /// The one kind, when there is no `kinds`.
    single: Option<ValueKind>,
    len: usize,
    /// How many values were read.
    read: usize,
    /// The next index in each column, by `ValueKind::ALL` order.
    next: [usize; ValueKind::ALL.len()],
}

impl<'a> Values<'a> {
    /// The values of `table`'s columns (none when absent), after checking that they are
    /// consistent: one column, or columns that `kinds` accounts for exactly.
    pub(crate) fn read(table: Option<ColumnsTable<'a>>) -> Result<Self, DecodeError> {
        let mut values = Self {
            texts: table.and_then(|table| table.texts()),
            ints: table.and_then(|table| table.ints()),
            uints: table.and_then(|table| table.uints()),
            bools: table.and_then(|table| table.bools()),
            floats: table.and_then(|table| table.floats()),
            counts: table.and_then(|table| table.counts()),
            kinds: table.and_then(|table| table.kinds()),
            single: None,
            len: 0,
            read: 0,
            next: [0; ValueKind::ALL.len()],
        };
        if values.counts.is_some_and(|counts| counts.len() % 2 != 0) {
            return Err(DecodeError::Invalid("a counts column has an odd length"));
        }
        let lengths = ValueKind::ALL.map(|kind| values.column_len(kind));
        match values.kinds {
            Some(kinds) => {
                let mut listed = [0usize; ValueKind::ALL.len()];
                for code in kinds.iter() {
                    match ValueKind::from_code(code) {
                        Some(ValueKind::Null) => {}
                        Some(kind) => {
                            if let Some(index) = kind.index() {
                                listed[index] += 1;
                            }
                        }
                        None => return Err(DecodeError::Invalid("a value has an unknown kind")),
                    }
                }
                if listed != lengths {
                    return Err(DecodeError::Invalid(
                        "the values columns do not match their kinds",
                    ));
                }
                values.len = kinds.len();
            }
            None => {
                let mut present = ValueKind::ALL
                    .into_iter()
                    .zip(lengths)
                    .filter(|&(_, length)| length > 0);
                if let Some((kind, length)) = present.next() {
                    if present.next().is_some() {
                        return Err(DecodeError::Invalid(
                            "values of several kinds without their `kinds`",
                        ));
                    }
                    values.single = Some(kind);
                    values.len = length;
                }
            }
        }
        Ok(values)
    }

    /// How many values there are.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn column_len(&self, kind: ValueKind) -> usize {
        match kind {
            ValueKind::Text => self.texts.map_or(0, |column| column.len()),
            ValueKind::Int => self.ints.map_or(0, |column| column.len()),
            ValueKind::UInt => self.uints.map_or(0, |column| column.len()),
            ValueKind::Bool => self.bools.map_or(0, |column| column.len()),
            ValueKind::Float => self.floats.map_or(0, |column| column.len()),
            ValueKind::Counts => self.counts.map_or(0, |column| column.len() / 2),
            ValueKind::Null => 0,
        }
    }

    /// Value `index` of `kind`'s column; `read` checked that it is there.
    fn get(&self, kind: ValueKind, index: usize) -> Option<ValueRef<'a>> {
        if index >= self.column_len(kind) {
            return None;
        }
        Some(match kind {
            ValueKind::Text => ValueRef::Text(self.texts?.get(index)),
            ValueKind::Int => ValueRef::Int(self.ints?.get(index)),
            ValueKind::UInt => ValueRef::UInt(self.uints?.get(index)),
            ValueKind::Bool => ValueRef::Bool(self.bools?.get(index)),
            ValueKind::Float => ValueRef::Float(self.floats?.get(index)),
            ValueKind::Counts => {
                let counts = self.counts?;
                ValueRef::Counts(counts.get(2 * index), counts.get(2 * index + 1))
            }
            ValueKind::Null => ValueRef::Null,
        })
    }
}

impl<'a> Iterator for Values<'a> {
    type Item = ValueRef<'a>;

    fn next(&mut self) -> Option<ValueRef<'a>> {
        if self.read >= self.len {
            return None;
        }
        let position = self.read;
        self.read += 1;
        match (self.single, self.kinds) {
            (Some(kind), _) => self.get(kind, position),
            (None, Some(kinds)) => match ValueKind::from_code(kinds.get(position))? {
                ValueKind::Null => Some(ValueRef::Null),
                kind => {
                    let column = kind.index()?;
                    let index = self.next[column];
                    self.next[column] += 1;
                    self.get(kind, index)
                }
            },
            (None, None) => None,
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.len - self.read;
        (left, Some(left))
    }
}
