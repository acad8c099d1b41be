use crdtype::Crdt;

#[derive(Clone, Debug, PartialEq, Default)]
struct Attendee {
    name: String,
}

#[derive(Crdt, Clone, Debug, PartialEq)]
struct Event {
    #[crdt(map)]
    attendees: std::collections::BTreeMap<String, Attendee>,
}

fn main() {}
