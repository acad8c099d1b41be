use crdtype::Crdt;

#[derive(Crdt)]
#[crdt(version = 2)]
#[crdt(version = 3)]
struct Event {
    title: String,
}

fn main() {}
