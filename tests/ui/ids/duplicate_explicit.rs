use crdtype::Crdt;

#[derive(Crdt)]
struct Event {
    #[crdt(id = 1)]
    title: String,
    #[crdt(id = 1)]
    location: String,
}

fn main() {}
