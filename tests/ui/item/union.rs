use crdtype::Crdt;

#[derive(Crdt)]
union Event {
    start: i64,
}

fn main() {}
