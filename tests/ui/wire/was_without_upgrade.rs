use crdtype::Crdt;

#[derive(Crdt, Clone, Debug, Default, PartialEq)]
#[crdt(version = 2)]
struct Task {
    #[crdt(id = 2, since = 2, default, was(id = 1, type = "String"))]
    minutes: u32,
}

fn main() {}
