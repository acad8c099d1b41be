//! Reports as text, for people, and as JSON, for tools.

use std::fmt::Write;

use crate::check::{Mode, Report};
use crate::rules::Level;

/// How a report is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// One paragraph per finding, then a summary line.
    #[default]
    Text,
    /// `{"compatible": bool, "mode": "...", "findings": [...]}`.
    Json,
}

/// `report` checked in `mode`, printed in `format`.
pub fn render(report: &Report, mode: Mode, format: Format) -> String {
    match format {
        Format::Text => text(report, mode),
        Format::Json => {
            let json = serde_json::json!({
                "compatible": !report.fails(mode),
                "mode": format!("{mode:?}").to_lowercase(),
                "findings": report.findings,
            });
            serde_json::to_string_pretty(&json).unwrap_or_default() + "\n"
        }
    }
}

fn text(report: &Report, mode: Mode) -> String {
    let mut out = String::new();
    for finding in &report.findings {
        let level = match finding.level {
            Level::Error if mode.fails_on(finding.breaks) => "error",
            Level::Error => "note (not checked in this mode)",
            Level::Warning => "warning",
        };
        let place = match &finding.field {
            Some(field) => format!("{}.{field}", finding.schema),
            None => finding.schema.clone(),
        };
        let _ = writeln!(
            out,
            "{level}[{}]: {place}: {}",
            finding.rule, finding.message
        );
        let _ = writeln!(out, "  = {}", finding.breaks.describe(finding.level));
        // A finding about the new side alone has no old value.
        if !finding.old.is_empty() {
            let _ = writeln!(out, "  = old: {}", finding.old);
        }
        let _ = writeln!(out, "  = new: {}", finding.new);
        let _ = writeln!(out, "  = hint: {}", finding.hint);
    }
    let count = |level: Level| {
        report
            .findings
            .iter()
            .filter(|finding| {
                finding.level == level && (level == Level::Warning || mode.fails_on(finding.breaks))
            })
            .count()
    };
    let verdict = if report.fails(mode) {
        "incompatible"
    } else {
        "compatible"
    };
    let plural =
        |count: usize, noun: &str| format!("{count} {noun}{}", if count == 1 { "" } else { "s" });
    let _ = writeln!(
        out,
        "{verdict} ({} mode): {}, {}",
        format!("{mode:?}").to_lowercase(),
        plural(count(Level::Error), "error"),
        plural(count(Level::Warning), "warning")
    );
    out
}
