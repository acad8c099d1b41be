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

    /// A W3 row from [`w3_syncs`]: bytes and time of the one-edit and the hundred-edit
    /// messages, each time the median of rounds on one converged pair (the bytes: the last
    /// round's); a failure prints no figures.
    pub(crate) fn w3(system: &'static str, syncs: Result<[(usize, Duration); 2], String>) -> Self {
        match syncs {
            Ok([one, hundred]) => Self {
                system,
                cells: vec![
                    one.0.to_string(),
                    took(one.1),
                    hundred.0.to_string(),
                    took(hundred.1),
                ],
                check: Ok(()),
            },
            Err(why) => Self {
                system,
                cells: vec!["n/a".to_owned(); 4],
                check: Err(why),
            },
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
    title: String,
    columns: &'static [&'static str],
    rows: Vec<Row>,
}

impl Table {
    pub(crate) fn w1(reps: usize) -> Self {
        Self {
            title: "W1 local field update: 1,000,000 single-field assignments".to_owned(),
            columns: &["(a) per op, one commit", "(b) per op, a commit each"],
            rows: systems::all()
                .iter()
                .filter_map(|system| (system.w1)(reps))
                .collect(),
        }
    }

    pub(crate) fn w2(reps: usize) -> Self {
        Self {
            title: "W2 state merge: 10,000 events, about half edited on each side".to_owned(),
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

    /// W3's times are steady-state: on one converged pair, after an untimed warm-up round,
    /// the median of repeated rounds, each A's edits and the message that brings B up to
    /// date (see [`median_of_rounds`]).
    pub(crate) fn w3(reps: usize) -> Self {
        Self {
            title: format!(
                "W3 delta sync after W2 and convergence: 1 field of 1 event, then 100 fields \
                 of 100 events (times: medians of {} rounds, unless a cell says otherwise, on \
                 one converged pair after an untimed warm-up round)",
                rounds(reps)
            ),
            columns: &[
                "1 edit: bytes",
                "1 edit: edit + produce + apply",
                "100 edits: bytes",
                "100 edits: edit + produce + apply",
            ],
            rows: systems::all()
                .iter()
                .filter_map(|system| (system.w3)(reps))
                .collect(),
        }
    }

    pub(crate) fn w4(reps: usize) -> Self {
        Self {
            title: "W4 snapshot: 100,000 events".to_owned(),
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

/// The fewest timed rounds [`median_of_rounds`] is given where a round is cheap: a median
/// of 5 one-edit syncs would still move with the machine's noise.
pub(crate) const MIN_ROUNDS: usize = 20;

/// How many timed rounds to run for `reps` runs: `reps`, and at least [`MIN_ROUNDS`].
pub(crate) fn rounds(reps: usize) -> usize {
    reps.max(MIN_ROUNDS)
}

/// Steady-state timing on one long-lived `state`: round 0 runs untimed, as a warm-up, then
/// rounds 1 to `rounds` (at least one) are each timed on their own, each on the state the
/// previous round left. `input` builds round `number`'s input before the round, untimed
/// (values distinct in every round, derived from the number, so that no library can skip
/// writing a value it already holds); `round` is what is timed. Returns the median of the
/// timed rounds and the last round's output, or the first error, which ends the rounds.
///
/// Unlike [`median`], nothing is rebuilt between rounds: no fresh clone of a large state
/// whose allocation, freeing and cold caches the measurement would pay for.
pub(crate) fn median_of_rounds<S, I, O, E>(
    rounds: usize,
    state: &mut S,
    mut input: impl FnMut(usize) -> I,
    mut round: impl FnMut(&mut S, &I) -> Result<O, E>,
) -> Result<(Duration, O), E> {
    let warm_up = input(0);
    std::hint::black_box(round(state, &warm_up)?);
    let rounds = rounds.max(1);
    let mut times = Vec::with_capacity(rounds);
    let mut last = None;
    for number in 1..=rounds {
        let input = input(number);
        let start = Instant::now();
        let output = std::hint::black_box(round(state, &input)?);
        times.push(start.elapsed());
        last = Some(output);
    }
    times.sort();
    let output = last.unwrap_or_else(|| unreachable!("at least one timed round"));
    Ok((times[times.len() / 2], output))
}

/// W3 on one converged `pair` of replicas: the one-edit syncs, then the hundred-edit syncs,
/// each series through [`median_of_rounds`] with round `number`'s edits from
/// [`workloads::w3_edits`]. `sync` makes the edits on A, produces the message that brings
/// B up to date, applies it on B and returns its length; `events` reads A's and B's
/// events, which must be equal after each series, A's holding the last round's edits. Returns each series' bytes (its last round's) and median
/// time, as [`Row::w3`] takes them.
pub(crate) fn w3_syncs<S>(
    rounds: usize,
    pair: &mut S,
    mut sync: impl FnMut(&mut S, &[workloads::Edit]) -> Result<usize, String>,
    events: impl Fn(&S) -> [Vec<workloads::Event>; 2],
) -> Result<[(usize, Duration); 2], String> {
    let mut series = |pair: &mut S, edits: fn(usize) -> Vec<workloads::Edit>, what: &str| {
        let (time, bytes) = median_of_rounds(rounds, pair, edits, |pair, edits| sync(pair, edits))?;
        let [a, b] = events(pair);
        verdict(a == b, &format!("B differs from A after the {what} syncs"))?;
        // A holds the last round's values, so the syncs carried real edits.
        let last = edits(rounds.max(1));
        let holds = last.iter().all(|edit| {
            a.get(edit.event).is_some_and(|event| {
                let mut expected = event.clone();
                edit.value.apply(&mut expected);
                expected == *event
            })
        });
        verdict(holds, &format!("A lacks the last of the {what} edits"))?;
        Ok::<_, String>((bytes, time))
    };
    let one = series(
        pair,
        |number| vec![workloads::w3_edits(number).0],
        "one-edit",
    )?;
    let hundred = series(pair, |number| workloads::w3_edits(number).1, "hundred-edit")?;
    Ok([one, hundred])
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
