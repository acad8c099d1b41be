use crdtype::Crdt;

#[derive(Crdt)]
struct Event {
    #[crdt(mv, counter)]
    attendees: i64,
}

fn main() {}
