use crdtype::Crdt;

#[derive(Crdt, Clone, Debug, Default, PartialEq)]
#[crdt(views(public))]
struct Profile {
    #[crdt(view(public))]
    name: String,
    #[crdt(view(pubic))]
    bio: String,
}

fn main() {}
