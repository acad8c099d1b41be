use crdtype::Crdt;

#[derive(Crdt)]
struct Task {
    title: String,
    set_title: String,
}

fn main() {}
