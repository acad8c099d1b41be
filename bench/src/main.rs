//! The comparison suite: `cargo run --release -p crdtype-bench` runs the workloads of
//! `WORKLOADS.md` on every system and prints one markdown table per workload, each cell
//! the median of several runs, each row with the check of its final state.
//!
//! `SYSTEMS=loro,yrs` runs only the systems whose names contain one of those
//! comma-separated parts, ignoring case (`SYSTEMS=reference` selects the reference points).
//!
//! `WORKLOADS=w3` runs only the workloads named in that comma-separated list, ignoring case
//! (`WORKLOADS=w1,w3`). `SCALE` (set to anything) runs only W4.

mod harness;
mod systems;
mod workloads;

use harness::Table;

/// A workload: its table for a number of runs.
type Workload = fn(usize) -> Table;

/// The workloads, by name, in the order they run.
const WORKLOADS: [(&str, Workload); 4] = [
    ("w1", Table::w1),
    ("w2", Table::w2),
    ("w3", Table::w3),
    ("w4", Table::w4),
];

/// The `WORKLOADS` environment variable's names, lowercase, when set and not blank.
fn workload_filter() -> Option<Vec<String>> {
    let filter = std::env::var("WORKLOADS").ok()?;
    let names: Vec<String> = filter
        .split(',')
        .map(|part| part.trim().to_lowercase())
        .filter(|part| !part.is_empty())
        .collect();
    (!names.is_empty()).then_some(names)
}

fn main() {
    let reps = std::env::args()
        .nth(1)
        .and_then(|reps| reps.parse().ok())
        .unwrap_or(5);
    println!("Medians of {reps} runs; `cargo run --release -p crdtype-bench [RUNS]`.\n");
    if let Some(filter) = systems::filter() {
        println!("Only the systems `SYSTEMS={filter}` selects.\n");
    }
    let only = workload_filter();
    if let Some(names) = &only {
        println!(
            "Only the workloads `WORKLOADS={}` names.\n",
            names.join(",")
        );
        for name in names {
            if !WORKLOADS.iter().any(|(known, _)| known == name) {
                eprintln!("WORKLOADS: no workload is called {name:?} (w1 to w4)");
            }
        }
    }
    let scale = std::env::var_os("SCALE").is_some();
    // Printed as each completes: the whole suite takes minutes.
    for (name, workload) in WORKLOADS {
        let selected = only
            .as_ref()
            .is_none_or(|names| names.iter().any(|wanted| wanted == name));
        if selected && (!scale || name == "w4") {
            println!("{}", workload(reps));
        }
    }
}
