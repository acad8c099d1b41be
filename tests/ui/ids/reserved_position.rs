use crdtype::Crdt;

#[derive(Crdt)]
#[crdt(reserved(0))]
struct Event {
    title: String,
}

fn main() {}
