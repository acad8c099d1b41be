use crdtype::Crdt;

#[derive(Crdt, Clone, Debug, Default, PartialEq)]
#[crdt(version = 2)]
struct Task {
    #[crdt(id = 2, since = 2, default, was(type = "String", upgrade = "minutes"))]
    minutes: u32,
}

fn minutes(text: String) -> u32 {
    text.len() as u32
}

fn main() {}
