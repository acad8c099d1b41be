use crdtype::Crdt;

#[derive(Crdt)]
struct Task {
    #[crdt(counter, default = "ten")]
    views: i64,
}

fn ten() -> i64 {
    10
}

fn main() {}
