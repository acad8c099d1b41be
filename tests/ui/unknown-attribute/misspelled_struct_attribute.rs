use crdtype::Crdt;

#[derive(Crdt)]
#[crdt(verison = 2)]
struct Event {
    title: String,
}

fn main() {}
