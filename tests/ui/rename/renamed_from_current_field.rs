use crdtype::Crdt;

#[derive(Crdt)]
struct Event {
    #[crdt(renamed_from = "name")]
    title: String,
    name: String,
}

fn main() {}
