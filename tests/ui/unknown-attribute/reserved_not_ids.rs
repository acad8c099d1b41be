use crdtype::Crdt;

#[derive(Crdt)]
#[crdt(reserved("title"))]
struct Event {
    title: String,
}

fn main() {}
