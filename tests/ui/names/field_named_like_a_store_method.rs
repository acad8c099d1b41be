use crdtype::Crdt;

#[derive(Crdt)]
struct Task {
    title: String,
    edit: bool,
}

fn main() {}
