use crdtype::Crdt;

#[derive(Clone, Debug, PartialEq, Default)]
struct Place {
    name: String,
}

#[derive(Crdt, Clone, Debug, PartialEq)]
struct Event {
    #[crdt(nested)]
    place: Place,
}

fn main() {}
