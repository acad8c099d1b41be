use crdtype::Crdt;

#[derive(Crdt, Clone, Debug, Default, PartialEq)]
#[crdt(views(public))]
struct Profile {
    #[crdt(view(public))]
    name: String,
    #[crdt(skip, default, view(public))]
    cache: String,
}

fn main() {}
