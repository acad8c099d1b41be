use crdtype::Crdt;

#[derive(Crdt)]
struct Event<T> {
    payload: T,
}

fn main() {}
