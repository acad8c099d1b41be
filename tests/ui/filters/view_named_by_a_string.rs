use crdtype::Crdt;

#[derive(Crdt, Clone, Debug, Default, PartialEq)]
#[crdt(views("public"))]
struct Profile {
    name: String,
}

fn main() {}
