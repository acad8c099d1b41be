use crdtype::Crdt;

#[derive(Crdt)]
struct Event {
    #[crdt(map)]
    attendees: std::collections::BTreeSet<String>,
}

fn main() {}
