use crdtype::Crdt;

#[derive(Crdt)]
struct Event {
    #[crdt(id = 1, id = 2)]
    title: String,
}

fn main() {}
