use crdtype::Crdt;

#[derive(Crdt)]
struct Event {
    #[crdt(renamed_from = "title")]
    title: String,
}

fn main() {}
