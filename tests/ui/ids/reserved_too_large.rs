use crdtype::Crdt;

#[derive(Crdt)]
#[crdt(reserved(3, 50000))]
struct Task {
    title: String,
}

fn main() {}
