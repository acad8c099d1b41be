//! Timing, medians and the tables.

use std::fmt;
use std::time::{Duration, Instant};

use crate::systems;
use crate::workloads;

/// One system's results on one workload.
pub(crate) struct Row {
    pub(crate) system: &'static str,
    pub(crate) cells: Vec<String>,
    /// The check of the final state: `Err` prints the row as failed.
    pub(crate) check: Result<(), String>,
}

impl Row {
    /// A W1 row: per-operation times with one commit, and with a commit (of what `each`
    /// names) per operation.
    pub(crate) fn w1(
        system: &'static str,
        batch: Duration,
        each: Option<(Duration, &str)>,
        check: Result<(), String>,
    ) -> Self {
        let each = each.map_or_else(
            || "n/a".to_owned(),
            |(time, what)| format!("{} ({what})", per(time, workloads::W1_OPS)),
        );
        Self {
            system,
            cells: vec![per(batch, workloads::W1_OPS), each],
            check,
        }
    }

    /// A W2 row: merge in memory and from B's bytes, B's encode time, and bytes per event.
    pub(crate) fn w2(
        system: &'static str,
        merge: [Duration; 2],
        encode: Duration,
        bytes: usize,
        check: Result<(), String>,
    ) -> Self {
        Self {
            system,
            cells: vec![
                took(merge[0]),
                took(merge[1]),
                took(encode),
                bytes_per(bytes, workloads::W2_EVENTS),
            ],
            check,
        }
    }

    /// A W3 row: bytes and time of the one-edit and the hundred-edit messages.
    pub(crate) fn w3(
        system: &'static str,
        one: (usize, Duration),
        hundred: (usize, Duration),
        check: Result<(), String>,
    ) -> Self {
        Self {
            system,
            cells: vec![
                one.0.to_string(),
                took(one.1),
                hundred.0.to_string(),
                took(hundred.1),
            ],
            check,
        }
    }

    /// A W4 row: per-event encode, decode and decode-and-read times, and bytes per event.
    pub(crate) fn w4(
        system: &'static str,
        times: [Duration; 3],
        bytes: usize,
        check: Result<(), String>,
    ) -> Self {
        let mut cells: Vec<String> = times
            .iter()
            .map(|time| per(*time, workloads::W4_EVENTS))
            .collect();
        cells.push(bytes_per(bytes, workloads::W4_EVENTS));
        Self {
            system,
            cells,
            check,
        }
    }
}

/// `Ok` when `ok`, else the failure.
pub(crate) fn verdict(ok: bool, failure: &str) -> Result<(), String> {
    if ok { Ok(()) } else { Err(failure.to_owned()) }
}

/// One workload's table.
pub(crate) struct Table {
    title: &'static str,
    columns: &'static [&'static str],
    rows: Vec<Row>,
}

impl Table {
    pub(crate) fn w1(reps: usize) -> Self {
        Self {
            title: "W1 local field update: 1,000,000 single-field assignments",
            columns: &["(a) per op, one commit", "(b) per op, a commit each"],
            rows: systems::all()
                .iter()
                .filter_map(|system| (system.w1)(reps))
                .collect(),
        }
    }

    pub(crate) fn w2(reps: usize) -> Self {
        Self {
            title: "W2 state merge: 10,000 events, about half edited on each side",
            columns: &[
                "merge in memory",
                "merge from bytes",
                "encode B",
                "bytes per event",
            ],
            rows: systems::all()
                .iter()
                .filter_map(|system| (system.w2)(reps))
                .collect(),
        }
    }

    pub(crate) fn w3(reps: usize) -> Self {
        Self {
            title: "W3 delta sync: after W2, 1 field of 1 event, then 100 fields of 100 events",
            columns: &[
                "1 edit: bytes",
                "1 edit: produce + apply",
                "100 edits: bytes",
                "100 edits: produce + apply",
            ],
            rows: systems::all()
                .iter()
                .filter_map(|system| (system.w3)(reps))
                .collect(),
        }
    }

    pub(crate) fn w4(reps: usize) -> Self {
        Self {
            title: "W4 snapshot: 100,000 events",
            columns: &["encode", "decode", "decode + read", "bytes per event"],
            rows: systems::all()
                .iter()
                .filter_map(|system| (system.w4)(reps))
                .collect(),
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "### {}\n", self.title)?;
        write!(f, "| system |")?;
        for column in self.columns {
            write!(f, " {column} |")?;
        }
        writeln!(f, " check |")?;
        write!(f, "|---|")?;
        for _ in self.columns {
            write!(f, "---|")?;
        }
        writeln!(f, "---|")?;
        for row in &self.rows {
            write!(f, "| {} |", row.system)?;
            for cell in &row.cells {
                write!(f, " {cell} |")?;
            }
            match &row.check {
                Ok(()) => writeln!(f, " ok |")?,
                Err(why) => writeln!(f, " FAILED: {why} |")?,
            }
        }
        Ok(())
    }
}

/// The median of `reps` runs of `run` on a fresh input from `setup` each (not timed),
/// and the last run's output.
pub(crate) fn median<I, O>(
    reps: usize,
    mut setup: impl FnMut() -> I,
    mut run: impl FnMut(I) -> O,
) -> (Duration, O) {
    let mut times = Vec::with_capacity(reps);
    let mut last = None;
    for _ in 0..reps.max(1) {
        let input = setup();
        let start = Instant::now();
        let output = std::hint::black_box(run(input));
        times.push(start.elapsed());
        last = Some(output);
    }
    times.sort();
    let output = last.unwrap_or_else(|| unreachable!("at least one run"));
    (times[times.len() / 2], output)
}

/// A duration per operation, in the unit that reads best.
pub(crate) fn per(duration: Duration, ops: usize) -> String {
    let nanos = duration.as_secs_f64() * 1e9 / ops.max(1) as f64;
    if nanos < 1_000.0 {
        format!("{nanos:.1} ns")
    } else if nanos < 1_000_000.0 {
        format!("{:.2} µs", nanos / 1e3)
    } else {
        format!("{:.2} ms", nanos / 1e6)
    }
}

/// A whole duration.
pub(crate) fn took(duration: Duration) -> String {
    per(duration, 1)
}

/// Bytes per item, with one decimal.
pub(crate) fn bytes_per(bytes: usize, items: usize) -> String {
    format!("{:.1}", bytes as f64 / items.max(1) as f64)
}
