use crdtype::Crdt;

#[derive(Crdt)]
struct Event {
    #[crdt(skip, default, id = 4)]
    draft: String,
}

fn main() {}
