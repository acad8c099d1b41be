use crdtype::Crdt;

#[derive(Crdt)]
#[crdt(reserved(1))]
struct Event {
    title: String,
    #[crdt(id = 1)]
    location: String,
}

fn main() {}
