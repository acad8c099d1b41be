use crdtype::Crdt;

#[derive(Crdt)]
struct Event {
    title: String,
    #[crdt(id = 0)]
    location: String,
}

fn main() {}
