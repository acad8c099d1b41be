use crdtype::Crdt;

#[derive(Crdt, Clone, Debug, Default, PartialEq)]
#[crdt(version = 2)]
struct Post {
    #[crdt(counter, id = 2, was(id = 1, type = "u32", upgrade = "widen"))]
    likes: i64,
}

fn widen(likes: u32) -> i64 {
    i64::from(likes)
}

fn main() {}
