//! The comparison suite: `cargo run --release -p crdtype-bench` runs the workloads of
//! `WORKLOADS.md` on every system and prints one markdown table per workload, each cell
//! the median of several runs, each row with the check of its final state.
//!
//! `SYSTEMS=loro,yrs` runs only the systems whose names contain one of those
//! comma-separated parts, ignoring case (`SYSTEMS=reference` selects the reference points).

mod harness;
mod systems;
mod workloads;

use harness::Table;

fn main() {
    let reps = std::env::args()
        .nth(1)
        .and_then(|reps| reps.parse().ok())
        .unwrap_or(5);
    println!("Medians of {reps} runs; `cargo run --release -p crdtype-bench [RUNS]`.\n");
    if let Some(filter) = systems::filter() {
        println!("Only the systems `SYSTEMS={filter}` selects.\n");
    }
    // Printed as each completes: the whole suite takes minutes.
    let workloads: [fn(usize) -> Table; 4] = [Table::w1, Table::w2, Table::w3, Table::w4];
    let skip = if std::env::var_os("SCALE").is_some() {
        3
    } else {
        0
    };
    for workload in workloads.into_iter().skip(skip) {
        println!("{}", workload(reps));
    }
}
