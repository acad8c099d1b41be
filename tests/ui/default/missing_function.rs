use crdtype::Crdt;

#[derive(Crdt, Clone, Debug, PartialEq)]
struct Event {
    #[crdt(default = "no_such_function")]
    title: String,
}

fn main() {}
