use crdtype::Crdt;

#[derive(Crdt)]
#[crdt(reserved(3, 3))]
struct Event {
    title: String,
}

fn main() {}
