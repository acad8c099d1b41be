use crdtype::Crdt;

#[derive(Crdt)]
#[crdt(version = 0)]
struct Event {
    #[crdt(counter)]
    title: String,
    #[crdt(id = 0)]
    location: String,
}

fn main() {}
