use crdtype::Crdt;

#[derive(Crdt, Clone, Debug, Default, PartialEq)]
#[crdt(views(public, public))]
struct Profile {
    #[crdt(view(public))]
    name: String,
}

fn main() {}
