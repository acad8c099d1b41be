//! Comparing schemas: every rule on every pair of schemas with the same name, all
//! findings reported.

use std::collections::{BTreeMap, BTreeSet};

use crdtype_model::{FieldSchema, Schema};
use serde::Serialize;

use crate::input::{Found, fingerprint};
use crate::rules::{Breaks, Level, RuleId};

/// Which directions must hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Mode {
    /// Both: old and new replicas exchange data both ways (the default).
    #[default]
    Full,
    /// New replicas read old data.
    Backward,
    /// Old replicas read new data.
    Forward,
    /// Report only; nothing fails.
    None,
}

impl Mode {
    /// Whether an error that breaks `breaks` fails a check in this mode.
    pub fn fails_on(self, breaks: Breaks) -> bool {
        match self {
            Mode::Full => true,
            Mode::Backward => breaks != Breaks::Forward,
            Mode::Forward => breaks != Breaks::Backward,
            Mode::None => false,
        }
    }
}

/// One thing a rule found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule's name.
    pub rule: &'static str,
    /// The rule's level.
    pub level: Level,
    /// Which replicas it breaks.
    pub breaks: Breaks,
    /// The schema.
    pub schema: String,
    /// The field, if the finding is about one.
    pub field: Option<String>,
    /// What the old side had.
    pub old: Option<String>,
    /// What the new side has.
    pub new: Option<String>,
    /// What happened, in a sentence.
    pub message: String,
    /// What to write instead.
    pub hint: &'static str,
}

/// The findings of a comparison, in a stable order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Every finding.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Whether the findings fail a check in `mode`.
    pub fn fails(&self, mode: Mode) -> bool {
        self.findings
            .iter()
            .any(|finding| finding.level == Level::Error && mode.fails_on(finding.breaks))
    }

    fn add(
        &mut self,
        id: RuleId,
        schema: &str,
        field: Option<&str>,
        old: Option<String>,
        new: Option<String>,
        message: String,
    ) {
        let rule = id.rule();
        let finding = Finding {
            rule: rule.name,
            level: rule.level,
            breaks: rule.breaks,
            schema: schema.to_owned(),
            field: field.map(str::to_owned),
            old,
            new,
            message,
            hint: rule.hint,
        };
        if !self.findings.contains(&finding) {
            self.findings.push(finding);
        }
    }
}

/// Compares every old schema with the new one of the same name.
pub fn compare(old: &[Found], new: &[Found]) -> Report {
    let mut report = Report::default();
    let new_by_name: BTreeMap<&str, &Found> = new
        .iter()
        .map(|found| (found.schema.name.as_str(), found))
        .collect();
    for old in old {
        match new_by_name.get(old.schema.name.as_str()) {
            Some(new) => compare_schema(old, new, &mut report),
            None => removed(old, new, &mut report),
        }
    }
    for new in new {
        check_alone(&new.schema, &mut report);
    }
    report
}

/// Compares `new` with every version of its schema in `history`, so that ids any version
/// ever used stay retired.
pub fn compare_with_history(history: &[Found], new: &[Found]) -> Report {
    let mut report = Report::default();
    let mut versions: Vec<&Found> = history.iter().collect();
    versions.sort_by_key(|found| (found.schema.name.clone(), found.schema.version));
    let names: BTreeSet<&str> = new.iter().map(|found| found.schema.name.as_str()).collect();
    for old in versions {
        if names.contains(old.schema.name.as_str()) {
            let pair = compare(std::slice::from_ref(old), new);
            let from_this_version = pair
                .findings
                .into_iter()
                .filter(|finding| finding.schema == old.schema.name);
            for finding in from_this_version {
                if !report.findings.contains(&finding) {
                    report.findings.push(finding);
                }
            }
        } else {
            removed(old, new, &mut report);
        }
    }
    for new in new {
        check_alone(&new.schema, &mut report);
    }
    report
}

/// A schema of the old side that the new side lacks: removed, or renamed.
fn removed(old: &Found, new: &[Found], report: &mut Report) {
    let name = &old.schema.name;
    let renamed = new
        .iter()
        .find(|found| found.struct_name.is_some() && found.struct_name == old.struct_name);
    match renamed {
        Some(renamed) => report.add(
            RuleId::SchemaRenamed,
            name,
            None,
            Some(name.clone()),
            Some(renamed.schema.name.clone()),
            format!(
                "struct `{}` is now schema `{}`",
                renamed.struct_name.as_deref().unwrap_or_default(),
                renamed.schema.name
            ),
        ),
        None => report.add(
            RuleId::SchemaRemoved,
            name,
            None,
            Some(name.clone()),
            None,
            format!("schema `{name}` is gone"),
        ),
    }
}

/// What is wrong with one schema whatever it is compared with.
fn check_alone(schema: &Schema, report: &mut Report) {
    for field in &schema.fields {
        if field.since > schema.version {
            report.add(
                RuleId::SinceBeyondVersion,
                &schema.name,
                Some(&field.name),
                None,
                Some(field.since.to_string()),
                format!(
                    "`since = {}` is above the schema's version {}",
                    field.since, schema.version
                ),
            );
        }
    }
}

fn compare_schema(old_found: &Found, new_found: &Found, report: &mut Report) {
    let (old, new) = (&old_found.schema, &new_found.schema);
    let name = old.name.as_str();
    let replicated_changed = fingerprint(old) != fingerprint(new);
    if new.version < old.version {
        report.add(
            RuleId::VersionDecreased,
            name,
            None,
            Some(old.version.to_string()),
            Some(new.version.to_string()),
            format!("version {} went down to {}", old.version, new.version),
        );
    } else if replicated_changed && new.version == old.version {
        report.add(
            RuleId::VersionNotIncremented,
            name,
            None,
            Some(old.version.to_string()),
            Some(new.version.to_string()),
            format!(
                "what it replicates changed, but it is still version {}",
                new.version
            ),
        );
    }
    if old.views != new.views {
        report.add(
            RuleId::ViewChanged,
            name,
            None,
            Some(old.views.join(", ")),
            Some(new.views.join(", ")),
            "its views changed".to_owned(),
        );
    }

    // Each old field's counterpart: the new field with its name (or renamed from it),
    // the one migrated from it, or the one with its id.
    let mut matched: BTreeSet<u32> = BTreeSet::new();
    for field in &old.fields {
        let by_name = new.fields.iter().find(|other| {
            other.name == field.name || other.renamed_from.as_deref() == Some(&field.name)
        });
        let migrated = new
            .fields
            .iter()
            .find(|other| other.was.as_ref().is_some_and(|was| was.id == field.id));
        let by_id = new.fields.iter().find(|other| other.id == field.id);
        match (by_name, migrated, by_id) {
            (Some(same), _, _) if same.id == field.id => {
                matched.insert(same.id);
                compare_field(old, field, same, report);
            }
            (_, Some(target), _) | (Some(target), None, _) => {
                matched.insert(target.id);
                compare_move(name, field, target, report);
            }
            (None, None, Some(same_id)) if same_id.since <= old.version => {
                matched.insert(same_id.id);
                compare_field(old, field, same_id, report);
            }
            _ => gone(name, field, new_found, report),
        }
    }

    let old_ids: BTreeSet<u32> = old.fields.iter().map(|field| field.id).collect();
    for id in &old.reserved {
        if !new.reserved.contains(id) {
            report.add(
                RuleId::ReservedIdDropped,
                name,
                None,
                Some(id.to_string()),
                None,
                format!("id {id} is no longer reserved"),
            );
        }
    }
    for field in &new.fields {
        if matched.contains(&field.id) {
            continue;
        }
        if old_ids.contains(&field.id) {
            let previous = old.fields.iter().find(|other| other.id == field.id);
            report.add(
                RuleId::IdReused,
                name,
                Some(&field.name),
                previous.map(|previous| format!("{} (id {})", previous.name, previous.id)),
                Some(field.name.clone()),
                format!(
                    "`{}` takes id {}, which `{}` had",
                    field.name,
                    field.id,
                    previous.map_or("", |previous| previous.name.as_str())
                ),
            );
        }
        added(old, new, field, report);
    }
}

fn compare_move(schema: &str, old: &FieldSchema, new: &FieldSchema, report: &mut Report) {
    match &new.was {
        Some(was) if was.id == old.id => {
            if was.rust_type != old.rust_type {
                report.add(
                    RuleId::FieldTypeChanged,
                    schema,
                    Some(&old.name),
                    Some(old.rust_type.clone()),
                    Some(was.rust_type.clone()),
                    format!(
                        "the migration of `{}` reads id {} as `{}`, but it held `{}`",
                        new.name, old.id, was.rust_type, old.rust_type
                    ),
                );
            }
            if was.downgrade.is_none() {
                report.add(
                    RuleId::MigrationWithoutDowngrade,
                    schema,
                    Some(&new.name),
                    Some(old.rust_type.clone()),
                    Some(new.rust_type.clone()),
                    format!(
                        "`{}` upgrades `{}` to `{}` with no way back for old replicas",
                        new.name, old.rust_type, new.rust_type
                    ),
                );
            }
        }
        _ => report.add(
            RuleId::FieldIdChanged,
            schema,
            Some(&new.name),
            Some(old.id.to_string()),
            Some(new.id.to_string()),
            format!("`{}` moved from id {} to id {}", new.name, old.id, new.id),
        ),
    }
}

/// An old field no new field has: removed, or made `skip`.
fn gone(schema: &str, field: &FieldSchema, new: &Found, report: &mut Report) {
    if new.skipped.contains(&field.name) {
        report.add(
            RuleId::FieldMadeSkip,
            schema,
            Some(&field.name),
            Some(field.kind.attribute().to_owned()),
            Some("skip".to_owned()),
            format!("`{}` (id {}) stops replicating", field.name, field.id),
        );
    }
    if !new.schema.reserved.contains(&field.id) {
        report.add(
            RuleId::FieldRemovedUnreserved,
            schema,
            Some(&field.name),
            Some(field.id.to_string()),
            None,
            format!(
                "`{}` is gone and its id {} is not reserved",
                field.name, field.id
            ),
        );
    }
}

fn compare_field(old_schema: &Schema, old: &FieldSchema, new: &FieldSchema, report: &mut Report) {
    let schema = old_schema.name.as_str();
    let field = Some(new.name.as_str());
    let renamed = old.name != new.name && new.renamed_from.as_deref() != Some(&old.name);
    if renamed {
        report.add(
            RuleId::FieldRenamedUndeclared,
            schema,
            field,
            Some(old.name.clone()),
            Some(new.name.clone()),
            format!(
                "id {} was `{}` and is now `{}`, with no `renamed_from`",
                old.id, old.name, new.name
            ),
        );
    }
    if old.rust_type != new.rust_type {
        report.add(
            RuleId::FieldTypeChanged,
            schema,
            field,
            Some(old.rust_type.clone()),
            Some(new.rust_type.clone()),
            format!(
                "`{}` changed type from `{}` to `{}`{}",
                new.name,
                old.rust_type,
                new.rust_type,
                type_change_note(&old.rust_type, &new.rust_type)
            ),
        );
    }
    if old.kind != new.kind {
        report.add(
            RuleId::FieldKindChanged,
            schema,
            field,
            Some(old.kind.attribute().to_owned()),
            Some(new.kind.attribute().to_owned()),
            format!(
                "`{}` changed from `{}` to `{}`",
                new.name,
                old.kind.attribute(),
                new.kind.attribute()
            ),
        );
    }
    if old.default != new.default {
        report.add(
            RuleId::DefaultChanged,
            schema,
            field,
            Some(format!("{:?}", old.default)),
            Some(format!("{:?}", new.default)),
            format!("`{}` reads an absent value differently now", new.name),
        );
    }
    if !old.read_only && new.read_only {
        report.add(
            RuleId::InputFilterNarrowed,
            schema,
            field,
            None,
            Some("read_only".to_owned()),
            format!("input may no longer write `{}`", new.name),
        );
    }
    if old.views != new.views {
        report.add(
            RuleId::ViewChanged,
            schema,
            field,
            Some(old.views.join(", ")),
            Some(new.views.join(", ")),
            format!("`{}` is shown in other views", new.name),
        );
    }
}

/// Why a type change that looks harmless is not.
fn type_change_note(old: &str, new: &str) -> &'static str {
    let widths = [
        "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f32", "f64",
    ];
    let option_of = |outer: &str, inner: &str| {
        outer
            .strip_prefix("Option < ")
            .and_then(|rest| rest.strip_suffix(" >"))
            == Some(inner)
    };
    if widths.contains(&old) && widths.contains(&new) {
        " (numbers are fixed width on the wire: widening in place is a break too)"
    } else if option_of(new, old) || option_of(old, new) {
        " (`T` and `Option<T>` encode differently)"
    } else {
        ""
    }
}

/// A field the old schema did not have.
fn added(old: &Schema, new: &Schema, field: &FieldSchema, report: &mut Report) {
    let name = Some(field.name.as_str());
    if old.reserved.contains(&field.id) {
        report.add(
            RuleId::IdReused,
            &new.name,
            name,
            Some(format!("reserved {}", field.id)),
            Some(field.name.clone()),
            format!("`{}` takes id {}, which was reserved", field.name, field.id),
        );
    }
    if field.since <= old.version {
        report.add(
            RuleId::FieldAddedWithoutSince,
            &new.name,
            name,
            None,
            Some(field.since.to_string()),
            format!(
                "`{}` was added after version {}, but says `since = {}`",
                field.name, old.version, field.since
            ),
        );
    }
    if field.default == crdtype_model::FieldDefault::Unspecified {
        report.add(
            RuleId::FieldAddedWithoutDefault,
            &new.name,
            name,
            None,
            None,
            format!("`{}` has no default to read old data with", field.name),
        );
    }
}

/// Compares the sources `new` with the lock file's schemas `locked`: every rule, and
/// [`lock_outdated`](RuleId::LockOutdated) for each schema that differs from its lock.
pub fn compare_with_lock(locked: &[Found], new: &[Found]) -> Report {
    let mut report = compare(locked, new);
    let locked_by_name: BTreeMap<&str, &Schema> = locked
        .iter()
        .map(|found| (found.schema.name.as_str(), &found.schema))
        .collect();
    for new in new {
        let schema = &new.schema;
        let lock = locked_by_name.get(schema.name.as_str());
        if lock != Some(&schema) {
            report.add(
                RuleId::LockOutdated,
                &schema.name,
                None,
                lock.map(|lock| format!("version {} ({})", lock.version, fingerprint(lock))),
                Some(format!(
                    "version {} ({})",
                    schema.version,
                    fingerprint(schema)
                )),
                "the sources differ from the lock file".to_owned(),
            );
        }
    }
    report
}
