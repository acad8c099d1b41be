use crdtype::Crdt;

#[derive(Crdt)]
struct Event {
    #[crdt(since = 0)]
    title: String,
}

fn main() {}
