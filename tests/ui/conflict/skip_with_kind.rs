use crdtype::Crdt;

#[derive(Crdt)]
struct Event {
    #[crdt(skip, default, set)]
    tags: std::collections::BTreeSet<String>,
}

fn main() {}
