use crdtype::Crdt;

#[derive(Crdt)]
struct Event(String, i64);

fn main() {}
