use crdtype::Crdt;

#[derive(Crdt)]
enum Event {
    Meeting,
}

fn main() {}
