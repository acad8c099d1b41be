use crdtype::Crdt;

#[derive(Crdt, Clone, Debug, Default, PartialEq)]
struct Profile {
    name: String,
    #[crdt(skip, default, read_only)]
    cache: String,
}

fn main() {}
