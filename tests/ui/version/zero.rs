use crdtype::Crdt;

#[derive(Crdt)]
#[crdt(version = 0)]
struct Event {
    title: String,
}

fn main() {}
