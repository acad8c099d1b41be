use crdtype::Crdt;

#[derive(Crdt)]
#[crdt(version = 2)]
struct Event {
    title: String,
    #[crdt(since = 2)]
    location: String,
}

fn main() {}
