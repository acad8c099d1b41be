use crdtype::Crdt;

#[derive(Crdt)]
struct Event {
    #[crdt(set)]
    tags: Vec<String>,
}

fn main() {}
