use crdtype::Crdt;

#[derive(Crdt)]
struct Event {
    #[crdt(flag)]
    done: u8,
}

fn main() {}
