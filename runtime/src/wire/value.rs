//! Values on the wire: the kinds a register, set element or map key is written as.

use flatbuffers::{FlatBufferBuilder, WIPOffset};

use super::DecodeError;
use super::tables::{ValuesTable, values};

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
    /// The column's slot in the `Values` table, also its code in `kinds`.
    const fn column(self) -> u16 {
        match self {
            Self::Text => values::TEXTS,
            Self::Int => values::INTS,
            Self::UInt => values::UINTS,
            Self::Bool => values::BOOLS,
            Self::Float => values::FLOATS,
            Self::Counts => values::COUNTS,
            Self::Null => NULL_CODE,
        }
    }

    const ALL: [Self; 6] = [
        Self::Text,
        Self::Int,
        Self::UInt,
        Self::Bool,
        Self::Float,
        Self::Counts,
    ];

    fn from_code(code: u8) -> Option<Self> {
        Self::ALL
            .into_iter()
            .chain([Self::Null])
            .find(|kind| kind.column() == u16::from(code))
    }

    /// The FlatBuffers type of the kind's column elements, as `.fbs` spells it.
    pub const fn fbs_type(self) -> &'static str {
        match self {
            Self::Text => "string",
            Self::Int => "long",
            Self::UInt | Self::Counts => "ulong",
            Self::Bool => "bool",
            Self::Float => "double",
            Self::Null => "null",
        }
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
/// Implemented for `String`, `bool`, every integer type and `f32`/`f64`. For a type of
/// your own, write it as one of these kinds:
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

fn mismatch<T>(expected: ValueKind, value: ValueRef<'_>) -> Result<T, DecodeError> {
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

/// Writes `list` as a `Values` table; `None` when it is empty.
pub(crate) fn write_values(
    fbb: &mut FlatBufferBuilder<'static>,
    list: &[ValueRef<'_>],
) -> Option<WIPOffset<ValuesTable<'static>>> {
    let first = list.first()?.kind();
    // A null takes no place in a column, so only `kinds` counts it.
    let mixed = list
        .iter()
        .any(|value| value.kind() != first || value.kind() == ValueKind::Null);
    let mut columns = Vec::with_capacity(if mixed { ValueKind::ALL.len() } else { 1 });
    for kind in ValueKind::ALL {
        if kind != first && !mixed {
            continue;
        }
        let column = list.iter().filter(|value| value.kind() == kind);
        let offset = match kind {
            ValueKind::Text => {
                let texts: Vec<_> = column
                    .filter_map(|value| match value {
                        ValueRef::Text(text) => Some(fbb.create_string(text)),
                        _ => None,
                    })
                    .collect();
                (!texts.is_empty()).then(|| fbb.create_vector(&texts).as_union_value())
            }
            ValueKind::Int => scalars(fbb, column, |value| match value {
                ValueRef::Int(int) => Some(*int),
                _ => None,
            }),
            ValueKind::UInt => scalars(fbb, column, |value| match value {
                ValueRef::UInt(uint) => Some(*uint),
                _ => None,
            }),
            ValueKind::Bool => scalars(fbb, column, |value| match value {
                ValueRef::Bool(flag) => Some(*flag),
                _ => None,
            }),
            ValueKind::Float => scalars(fbb, column, |value| match value {
                ValueRef::Float(float) => Some(*float),
                _ => None,
            }),
            ValueKind::Counts => {
                let counts: Vec<u64> = column
                    .flat_map(|value| match value {
                        ValueRef::Counts(up, down) => [*up, *down].to_vec(),
                        _ => Vec::new(),
                    })
                    .collect();
                (!counts.is_empty()).then(|| fbb.create_vector(&counts).as_union_value())
            }
            ValueKind::Null => None,
        };
        if let Some(offset) = offset {
            columns.push((kind.column(), offset));
        }
    }
    let kinds = mixed.then(|| {
        let codes: Vec<u8> = list
            .iter()
            .map(|value| u8::try_from(value.kind().column()).unwrap_or(u8::MAX))
            .collect();
        fbb.create_vector(&codes).as_union_value()
    });
    let start = fbb.start_table();
    for (column, offset) in columns {
        fbb.push_slot_always(super::tables::slot(column), offset);
    }
    if let Some(kinds) = kinds {
        fbb.push_slot_always(super::tables::slot(values::KINDS), kinds);
    }
    Some(WIPOffset::new(fbb.end_table(start).value()))
}

fn scalars<'v, T: flatbuffers::Push<Output = T> + Copy + 'static>(
    fbb: &mut FlatBufferBuilder<'static>,
    column: impl Iterator<Item = &'v ValueRef<'v>>,
    pick: impl Fn(&ValueRef<'_>) -> Option<T>,
) -> Option<WIPOffset<flatbuffers::UnionWIPOffset>> {
    let items: Vec<T> = column.filter_map(pick).collect();
    (!items.is_empty()).then(|| fbb.create_vector(&items).as_union_value())
}

/// The values of a `Values` table in order; an absent table is the empty list.
pub(crate) fn read_values<'a>(
    table: Option<ValuesTable<'a>>,
) -> Result<Vec<ValueRef<'a>>, DecodeError> {
    let Some(table) = table else {
        return Ok(Vec::new());
    };
    let mut columns = Columns::new(&table)?;
    match table.kinds() {
        Some(kinds) => {
            let mut list = Vec::with_capacity(kinds.len());
            for code in kinds.iter() {
                let kind = ValueKind::from_code(code)
                    .ok_or(DecodeError::Invalid("a value has an unknown kind"))?;
                let value = if kind == ValueKind::Null {
                    ValueRef::Null
                } else {
                    columns.next(kind).ok_or(DecodeError::Invalid(
                        "a values column is shorter than its kinds",
                    ))?
                };
                list.push(value);
            }
            if columns.remaining() > 0 {
                return Err(DecodeError::Invalid(
                    "a values column is longer than its kinds",
                ));
            }
            Ok(list)
        }
        None => {
            let present: Vec<ValueKind> = ValueKind::ALL
                .into_iter()
                .filter(|kind| columns.has(*kind))
                .collect();
            match present.as_slice() {
                [] => Ok(Vec::new()),
                [kind] => Ok(std::iter::from_fn(|| columns.next(*kind)).collect()),
                _ => Err(DecodeError::Invalid(
                    "values of several kinds without their `kinds`",
                )),
            }
        }
    }
}

/// Cursors over the columns of one `Values` table.
struct Columns<'a> {
    texts: Option<flatbuffers::Vector<'a, flatbuffers::ForwardsUOffset<&'a str>>>,
    ints: Option<flatbuffers::Vector<'a, i64>>,
    uints: Option<flatbuffers::Vector<'a, u64>>,
    bools: Option<flatbuffers::Vector<'a, bool>>,
    floats: Option<flatbuffers::Vector<'a, f64>>,
    counts: Option<flatbuffers::Vector<'a, u64>>,
    /// The next index in each column, by `ValueKind::ALL` order.
    next: [usize; 6],
}

impl<'a> Columns<'a> {
    fn new(table: &ValuesTable<'a>) -> Result<Self, DecodeError> {
        let counts = table.counts();
        if counts.is_some_and(|counts| counts.len() % 2 != 0) {
            return Err(DecodeError::Invalid("a counts column has an odd length"));
        }
        Ok(Self {
            texts: table.texts(),
            ints: table.ints(),
            uints: table.uints(),
            bools: table.bools(),
            floats: table.floats(),
            counts,
            next: [0; 6],
        })
    }

    fn len(&self, kind: ValueKind) -> usize {
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

    fn has(&self, kind: ValueKind) -> bool {
        self.len(kind) > 0
    }

    fn remaining(&self) -> usize {
        ValueKind::ALL
            .into_iter()
            .zip(self.next)
            .map(|(kind, next)| self.len(kind) - next)
            .sum()
    }

    fn next(&mut self, kind: ValueKind) -> Option<ValueRef<'a>> {
        let slot = ValueKind::ALL.iter().position(|k| *k == kind)?;
        let index = self.next[slot];
        if index >= self.len(kind) {
            return None;
        }
        self.next[slot] += 1;
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
