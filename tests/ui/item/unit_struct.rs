use crdtype::Crdt;

#[derive(Crdt)]
struct Event;

fn main() {}
