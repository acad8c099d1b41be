use crdtype::Crdt;

#[derive(Crdt)]
struct Event {
    #[crdt(counter)]
    title: String,
}

fn main() {}
