use crdtype::Crdt;

#[derive(Crdt)]
struct Event {
    #[crdt(default = "1 + 1")]
    title: String,
}

fn main() {}
