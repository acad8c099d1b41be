use crdtype::Crdt;

#[derive(Crdt)]
struct Task {
    #[crdt(id = 40000)]
    title: String,
}

fn main() {}
