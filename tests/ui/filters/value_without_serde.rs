use crdtype::Crdt;
use crdtype::wire::{DecodeError, ValueKind, ValueRef, WireValue};

#[derive(Clone, Debug, Default, PartialEq)]
struct Colour(u8);

impl WireValue for Colour {
    const KIND: ValueKind = ValueKind::UInt;

    fn to_wire(&self) -> ValueRef<'_> {
        ValueRef::UInt(u64::from(self.0))
    }

    fn from_wire(value: ValueRef<'_>) -> Result<Self, DecodeError> {
        u8::from_wire(value).map(Colour)
    }
}

#[derive(Crdt, Clone, Debug, PartialEq)]
struct Event {
    colour: Colour,
}

fn main() {}
