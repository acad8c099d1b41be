use crdtype::Crdt;

#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
struct Colour(u8);

#[derive(Crdt, Clone, Debug, PartialEq)]
struct Event {
    colour: Colour,
}

fn main() {}
