use crdtype::Crdt;

#[derive(Crdt)]
struct Event {
    #[crdt(countr)]
    attendees: i64,
}

fn main() {}
