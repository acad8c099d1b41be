use crdtype::Crdt;

#[derive(Crdt)]
#[crdt(version = 2)]
struct Event {
    title: String,
    #[crdt(since = 3, default)]
    location: String,
}

fn main() {}
