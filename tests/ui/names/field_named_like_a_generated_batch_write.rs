use crdtype::Crdt;

#[derive(Crdt)]
struct Task {
    title: String,
    title_into: String,
}

fn main() {}
