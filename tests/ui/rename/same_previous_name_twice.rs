use crdtype::Crdt;

#[derive(Crdt)]
struct Task {
    #[crdt(renamed_from = "name")]
    title: String,
    #[crdt(renamed_from = "name")]
    label: String,
}

fn main() {}
