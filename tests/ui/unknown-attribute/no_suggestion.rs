use crdtype::Crdt;

#[derive(Crdt)]
struct Event {
    #[crdt(replicated)]
    title: String,
}

fn main() {}
