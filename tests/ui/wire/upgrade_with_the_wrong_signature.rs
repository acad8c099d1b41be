use crdtype::Crdt;

#[derive(Crdt, Clone, Debug, Default, PartialEq)]
#[crdt(version = 2)]
struct Task {
    #[crdt(
        id = 2,
        since = 2,
        default,
        was(id = 1, type = "String", upgrade = "minutes", downgrade = "text")
    )]
    minutes: u32,
}

fn minutes(text: &str) -> u32 {
    text.len() as u32
}

fn text(minutes: u32) -> u64 {
    u64::from(minutes)
}

fn main() {}
