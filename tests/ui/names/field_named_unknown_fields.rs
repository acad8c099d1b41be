use crdtype::Crdt;

#[derive(Crdt, Clone, Debug, Default, PartialEq)]
struct Form {
    title: String,
    unknown_fields: String,
}

fn main() {}
