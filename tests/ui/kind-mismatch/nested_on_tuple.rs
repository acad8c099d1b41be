use crdtype::Crdt;

#[derive(Crdt)]
struct Event {
    #[crdt(nested)]
    places: (String, String),
}

fn main() {}
