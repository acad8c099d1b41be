use crdtype::Crdt;

#[derive(Crdt, Clone, Debug, Default, PartialEq)]
struct Task {
    title: String,
    #[crdt(skip, default, was(id = 1, type = "String", upgrade = "minutes"))]
    minutes: u32,
}

fn minutes(text: String) -> u32 {
    text.len() as u32
}

fn main() {}
