use crdtype::Crdt;

#[derive(Crdt)]
struct Event {
    title: String,
    #[crdt(skip)]
    draft: String,
}

fn main() {}
