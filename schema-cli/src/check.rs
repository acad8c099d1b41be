//! Comparing schemas: every rule on every pair of schemas with the same name, all
//! findings reported.

use std::collections::{BTreeMap, BTreeSet};

use crdtype_model::{FieldDefault, FieldSchema, Kind, Schema};
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
    pub old: String,
    /// What the new side has.
    pub new: String,
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
        at: At<'_>,
        old: impl ToString,
        new: impl ToString,
        message: String,
    ) {
        let rule = id.rule();
        let finding = Finding {
            rule: rule.name,
            level: rule.level,
            breaks: rule.breaks,
            schema: at.0.to_owned(),
            field: at.1.map(str::to_owned),
            old: old.to_string(),
            new: new.to_string(),
            message,
            hint: rule.hint,
        };
        if !self.findings.contains(&finding) {
            self.findings.push(finding);
        }
    }
}

/// A schema, and a field of it if the finding is about one.
type At<'a> = (&'a str, Option<&'a str>);

/// Compares every old schema with the new one of the same name.
pub fn compare(old: &[Found], new: &[Found]) -> Report {
    let mut report = Report::default();
    let (old, new) = (resolved(old), resolved(new));
    let new_by_name: BTreeMap<&str, &Found> = new
        .iter()
        .map(|found| (found.schema.name.as_str(), found))
        .collect();
    for old_found in &old {
        match new_by_name.get(old_found.schema.name.as_str()) {
            Some(new_found) => compare_schema(old_found, new_found, &mut report),
            None => removed(old_found, &old, &new, &mut report),
        }
    }
    for new in &new {
        check_alone(&new.schema, &mut report);
    }
    unchecked_nested(&new, &mut report);
    report
}

/// Compares `new` with every version of its schema in `history`, so that ids any version
/// ever used stay retired. Renames are checked against the latest version only: a field
/// renamed twice names only its last previous name.
pub fn compare_with_history(history: &[Found], new: &[Found]) -> Report {
    let mut report = Report::default();
    let mut versions: Vec<&Found> = history.iter().collect();
    versions.sort_by_key(|found| (found.schema.name.clone(), found.schema.version));
    let latest: BTreeMap<&str, u32> = versions
        .iter()
        .map(|found| (found.schema.name.as_str(), found.schema.version))
        .collect();
    for old in versions {
        let is_latest = latest.get(old.schema.name.as_str()) == Some(&old.schema.version);
        let pair = compare(std::slice::from_ref(old), new);
        for finding in pair.findings {
            let about_this_schema = finding.schema == old.schema.name;
            let rename_of_an_older_version =
                finding.rule == RuleId::FieldRenamedUndeclared.rule().name && !is_latest;
            if about_this_schema
                && !rename_of_an_older_version
                && !report.findings.contains(&finding)
            {
                report.findings.push(finding);
            }
        }
    }
    for new in new {
        check_alone(&new.schema, &mut report);
    }
    unchecked_nested(new, &mut report);
    report
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
            let describe =
                |schema: &Schema| format!("version {} ({})", schema.version, fingerprint(schema));
            report.add(
                RuleId::LockOutdated,
                (&schema.name, None),
                lock.map_or_else(|| "not locked".to_owned(), |lock| describe(lock)),
                describe(schema),
                "the sources differ from the lock file".to_owned(),
            );
        }
    }
    report
}

/// The schemas with the types of their `nested` and `map` fields naming schemas, not Rust
/// structs (`Place` -> `schema Place`), where the inputs hold the struct: renaming a
/// nested struct that keeps its schema name changes nothing replicated.
fn resolved(found: &[Found]) -> Vec<Found> {
    let schema_of: BTreeMap<&str, &str> = found
        .iter()
        .filter_map(|found| Some((found.struct_name.as_deref()?, found.schema.name.as_str())))
        .collect();
    let mut resolved = found.to_vec();
    for found in &mut resolved {
        for field in &mut found.schema.fields {
            if matches!(field.kind, Kind::Nested | Kind::Map) {
                field.rust_type = field
                    .rust_type
                    .split_inclusive(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .map(|token| {
                        let ident =
                            token.trim_end_matches(|c: char| !(c.is_alphanumeric() || c == '_'));
                        let rest = &token[ident.len()..];
                        match schema_of.get(ident) {
                            Some(schema) => format!("schema {schema}{rest}"),
                            None => token.to_owned(),
                        }
                    })
                    .collect();
            }
        }
    }
    resolved
}

/// A schema of the old side that the new side lacks: removed, or renamed.
fn removed(old: &Found, old_side: &[Found], new: &[Found], report: &mut Report) {
    let name = &old.schema.name;
    let old_names: BTreeSet<&str> = old_side
        .iter()
        .map(|found| found.schema.name.as_str())
        .collect();
    let renamed = new.iter().find(|found| {
        found.struct_name.is_some()
            && found.struct_name == old.struct_name
            && !old_names.contains(found.schema.name.as_str())
    });
    match renamed {
        Some(renamed) => report.add(
            RuleId::SchemaRenamed,
            (name, None),
            name,
            &renamed.schema.name,
            format!(
                "struct `{}` is now schema `{}`",
                renamed.struct_name.as_deref().unwrap_or_default(),
                renamed.schema.name
            ),
        ),
        None => report.add(
            RuleId::SchemaRemoved,
            (name, None),
            name,
            "no such schema",
            format!("schema `{name}` is gone"),
        ),
    }
}

/// The `nested` and `map` fields of `found` whose struct (the type's last identifier: a
/// nested struct's, or a map's value type's) is no schema of `found`: found by the struct
/// it was read from, or, for an export, by a schema name that is the struct's name or
/// ends with it (`calendar.Place`).
fn unchecked_nested(found: &[Found], report: &mut Report) {
    let names_a_schema = |ident: &str| {
        found.iter().any(|found| {
            found.struct_name.as_deref() == Some(ident)
                || found.schema.name.rsplit(['.', ':']).next() == Some(ident)
        })
    };
    for found in found {
        let schema = &found.schema;
        for field in &schema.fields {
            let ident = field
                .rust_type
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .rfind(|ident| !ident.is_empty());
            if matches!(field.kind, Kind::Nested | Kind::Map) && !ident.is_some_and(names_a_schema)
            {
                report.add(
                    RuleId::NestedSchemaUnchecked,
                    (&schema.name, Some(&field.name)),
                    "",
                    &field.rust_type,
                    format!(
                        "`{}` is a `{}`, and no input defines its struct: what that \
                         struct replicates was not compared",
                        field.name, field.rust_type
                    ),
                );
            }
        }
    }
}

/// What is wrong with one schema whatever it is compared with.
fn check_alone(schema: &Schema, report: &mut Report) {
    for field in &schema.fields {
        if field.since > schema.version {
            report.add(
                RuleId::SinceBeyondVersion,
                (&schema.name, Some(&field.name)),
                format!("version {}", schema.version),
                format!("since = {}", field.since),
                format!(
                    "`since = {}` is above the schema's version {}",
                    field.since, schema.version
                ),
            );
        }
    }
}

/// How an old field continues in the new schema.
enum Counterpart<'n> {
    /// The same field, at the same id.
    Same(&'n FieldSchema),
    /// Moved to another id by a declared migration (`was`).
    Migrated(&'n FieldSchema),
    /// Moved to another id without one.
    Moved(&'n FieldSchema),
    /// Another name at its id, added no later than the old version: renamed.
    RenamedAtId(&'n FieldSchema),
    /// None: removed (or made `skip`).
    Gone,
}

/// Each old field's counterpart. Names and declared migrations are matched first; an id
/// alone matches only a new field that no old field claims by name.
fn counterparts<'n>(old: &Schema, new: &'n Schema) -> Vec<Counterpart<'n>> {
    let by_name = |field: &FieldSchema| {
        new.fields.iter().find(|other| {
            other.name == field.name || other.renamed_from.as_deref() == Some(&field.name)
        })
    };
    let migrated = |field: &FieldSchema| {
        new.fields
            .iter()
            .find(|other| other.was.as_ref().is_some_and(|was| was.id == field.id))
    };
    let claimed: BTreeSet<u32> = old
        .fields
        .iter()
        .filter_map(|field| migrated(field).or_else(|| by_name(field)))
        .map(|field| field.id)
        .collect();
    old.fields
        .iter()
        .map(|field| {
            if let Some(target) = migrated(field) {
                return Counterpart::Migrated(target);
            }
            match by_name(field) {
                Some(same) if same.id == field.id => Counterpart::Same(same),
                // The same name at another id is a move, even with the old id reserved:
                // readers that match fields by name (FlatBuffers' own tools) would mix the
                // two. A kind changes under a new name.
                Some(other) => Counterpart::Moved(other),
                None => match new.fields.iter().find(|other| other.id == field.id) {
                    Some(at_id) if !claimed.contains(&at_id.id) && at_id.since <= old.version => {
                        Counterpart::RenamedAtId(at_id)
                    }
                    _ => Counterpart::Gone,
                },
            }
        })
        .collect()
}

fn compare_schema(old_found: &Found, new_found: &Found, report: &mut Report) {
    let (old, new) = (&old_found.schema, &new_found.schema);
    let name = old.name.as_str();
    if new.version < old.version {
        report.add(
            RuleId::VersionDecreased,
            (name, None),
            format!("version {}", old.version),
            format!("version {}", new.version),
            format!("version {} went down to {}", old.version, new.version),
        );
    } else if fingerprint(old) != fingerprint(new) && new.version == old.version {
        report.add(
            RuleId::VersionNotIncremented,
            (name, None),
            format!("version {}", old.version),
            format!("version {}", new.version),
            format!(
                "what it replicates changed, but it is still version {}",
                new.version
            ),
        );
    }
    if old.views != new.views {
        report.add(
            RuleId::ViewChanged,
            (name, None),
            format!("views({})", old.views.join(", ")),
            format!("views({})", new.views.join(", ")),
            "its views changed".to_owned(),
        );
    }

    let mut continued: BTreeSet<u32> = BTreeSet::new();
    for (field, counterpart) in old.fields.iter().zip(counterparts(old, new)) {
        match counterpart {
            Counterpart::Same(same) => {
                continued.insert(same.id);
                compare_field(name, field, same, true, report);
                compare_was(name, field, same, new, report);
            }
            Counterpart::RenamedAtId(renamed) => {
                continued.insert(renamed.id);
                compare_field(name, field, renamed, true, report);
            }
            Counterpart::Migrated(target) => {
                continued.insert(target.id);
                compare_migration(name, field, target, report);
            }
            Counterpart::Moved(target) => {
                continued.insert(target.id);
                report.add(
                    RuleId::FieldIdChanged,
                    (name, Some(&target.name)),
                    format!("id {}", field.id),
                    format!("id {}", target.id),
                    format!(
                        "`{}` moved from id {} to id {}",
                        target.name, field.id, target.id
                    ),
                );
                compare_field(name, field, target, false, report);
            }
            Counterpart::Gone => gone(name, field, new_found, report),
        }
    }

    for id in &old.reserved {
        if !new.reserved.contains(id) {
            report.add(
                RuleId::ReservedIdDropped,
                (name, None),
                format!("reserved({id})"),
                "not reserved",
                format!("id {id} is no longer reserved"),
            );
        }
    }
    // Every id the old version wrote: its fields' and their old types' (`was`).
    let mut old_ids: BTreeMap<u32, &str> = BTreeMap::new();
    for field in &old.fields {
        old_ids.insert(field.id, &field.name);
        if let Some(was) = &field.was {
            old_ids.insert(was.id, &field.name);
        }
    }
    for field in new
        .fields
        .iter()
        .filter(|field| !continued.contains(&field.id))
    {
        if let Some(previous) = old_ids.get(&field.id) {
            report.add(
                RuleId::IdReused,
                (name, Some(&field.name)),
                format!("id {} of `{previous}`", field.id),
                format!("id {} of `{}`", field.id, field.name),
                format!(
                    "`{}` takes id {}, which `{previous}` wrote",
                    field.name, field.id
                ),
            );
        }
        added(old, new, field, report);
    }
}

/// An old field moved to a new id by a declared migration.
fn compare_migration(schema: &str, old: &FieldSchema, new: &FieldSchema, report: &mut Report) {
    let Some(was) = &new.was else {
        return;
    };
    if old.kind != Kind::Lww {
        report.add(
            RuleId::FieldKindChanged,
            (schema, Some(&new.name)),
            old.kind.attribute(),
            "lww (read by `was`)",
            format!(
                "`was(id = {})` reads a `{}` field as a last-writer-wins register",
                was.id,
                old.kind.attribute()
            ),
        );
    }
    if was.rust_type != old.rust_type {
        report.add(
            RuleId::FieldTypeChanged,
            (schema, Some(&old.name)),
            &old.rust_type,
            &was.rust_type,
            format!(
                "the migration of `{}` reads id {} as `{}`, but it held `{}`",
                new.name, old.id, was.rust_type, old.rust_type
            ),
        );
    }
    if was.downgrade.is_none() {
        report.add(
            RuleId::MigrationWithoutDowngrade,
            (schema, Some(&new.name)),
            &old.rust_type,
            &new.rust_type,
            format!(
                "`{}` upgrades `{}` to `{}` with no way back for old replicas",
                new.name, old.rust_type, new.rust_type
            ),
        );
    }
}

/// A field that kept its id, and what its migration (`was`) became.
fn compare_was(
    schema: &str,
    old: &FieldSchema,
    new: &FieldSchema,
    new_schema: &Schema,
    report: &mut Report,
) {
    let Some(old_was) = &old.was else {
        return;
    };
    let at = (schema, Some(new.name.as_str()));
    match &new.was {
        None if !new_schema.reserved.contains(&old_was.id) => report.add(
            RuleId::FieldRemovedUnreserved,
            at,
            format!("was(id = {})", old_was.id),
            "no `was`",
            format!(
                "`{}` no longer writes its `{}` values to id {}, and the id is not reserved",
                new.name, old_was.rust_type, old_was.id
            ),
        ),
        None => {}
        Some(new_was) => {
            if new_was.id != old_was.id {
                report.add(
                    RuleId::FieldIdChanged,
                    at,
                    format!("was(id = {})", old_was.id),
                    format!("was(id = {})", new_was.id),
                    format!("`{}` moved its old-type values to another id", new.name),
                );
            }
            if new_was.rust_type != old_was.rust_type {
                report.add(
                    RuleId::FieldTypeChanged,
                    at,
                    &old_was.rust_type,
                    &new_was.rust_type,
                    format!("`{}` writes its old-type values as another type", new.name),
                );
            }
            if old_was.downgrade.is_some() && new_was.downgrade.is_none() {
                report.add(
                    RuleId::MigrationWithoutDowngrade,
                    at,
                    "downgrade",
                    "no downgrade",
                    format!("`{}` no longer converts back for old replicas", new.name),
                );
            }
        }
    }
}

/// An old field without a counterpart: removed, or made `skip`.
fn gone(schema: &str, field: &FieldSchema, new: &Found, report: &mut Report) {
    let at = (schema, Some(field.name.as_str()));
    if new.skipped.contains(&field.name) {
        report.add(
            RuleId::FieldMadeSkip,
            at,
            field.kind.attribute(),
            "skip",
            format!("`{}` (id {}) stops replicating", field.name, field.id),
        );
    }
    if !new.schema.reserved.contains(&field.id) {
        report.add(
            RuleId::FieldRemovedUnreserved,
            at,
            format!("id {}", field.id),
            "no field, not reserved",
            format!(
                "`{}` is gone and its id {} is not reserved",
                field.name, field.id
            ),
        );
    }
}

/// Two versions of one field. `check_name`: whether a name change must be declared (not
/// for a field matched by its name).
fn compare_field(
    schema: &str,
    old: &FieldSchema,
    new: &FieldSchema,
    check_name: bool,
    report: &mut Report,
) {
    let at = (schema, Some(new.name.as_str()));
    if check_name && old.name != new.name && new.renamed_from.as_deref() != Some(&old.name) {
        report.add(
            RuleId::FieldRenamedUndeclared,
            at,
            &old.name,
            &new.name,
            format!(
                "id {} was `{}` and is now `{}`, with no `renamed_from`",
                old.id, old.name, new.name
            ),
        );
    }
    if old.rust_type != new.rust_type {
        report.add(
            RuleId::FieldTypeChanged,
            at,
            &old.rust_type,
            &new.rust_type,
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
            at,
            old.kind.attribute(),
            new.kind.attribute(),
            format!(
                "`{}` changed from `{}` to `{}`",
                new.name,
                old.kind.attribute(),
                new.kind.attribute()
            ),
        );
    }
    if same_default(&old.default) != same_default(&new.default) {
        report.add(
            RuleId::DefaultChanged,
            at,
            describe_default(&old.default),
            describe_default(&new.default),
            format!("`{}` reads an absent value differently now", new.name),
        );
    }
    if !old.read_only && new.read_only {
        report.add(
            RuleId::InputFilterNarrowed,
            at,
            "input may write it",
            "read_only",
            format!("input may no longer write `{}`", new.name),
        );
    }
    if old.views != new.views {
        report.add(
            RuleId::ViewChanged,
            at,
            format!("view({})", old.views.join(", ")),
            format!("view({})", new.views.join(", ")),
            format!("`{}` is shown in other views", new.name),
        );
    }
}

/// A default as it reads: no `default` attribute and `default` both read `Default::default()`.
pub(crate) fn same_default(default: &FieldDefault) -> Option<&str> {
    match default {
        FieldDefault::Unspecified | FieldDefault::DefaultTrait => None,
        FieldDefault::Function(path) => Some(path),
    }
}

fn describe_default(default: &FieldDefault) -> String {
    match default {
        FieldDefault::Unspecified => "no default (Default::default())".to_owned(),
        FieldDefault::DefaultTrait => "default (Default::default())".to_owned(),
        FieldDefault::Function(path) => format!("default = \"{path}\""),
    }
}

/// Why a type change that looks harmless is not.
fn type_change_note(old: &str, new: &str) -> &'static str {
    let widths = [
        "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f32", "f64",
    ];
    let compact = |text: &str| text.replace(' ', "");
    let option_of = |outer: &str, inner: &str| {
        let outer = compact(outer);
        outer
            .strip_prefix("Option<")
            .or_else(|| outer.strip_prefix("std::option::Option<"))
            .and_then(|rest| rest.strip_suffix('>'))
            == Some(compact(inner).as_str())
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
    let at = (new.name.as_str(), Some(field.name.as_str()));
    if old.reserved.contains(&field.id) {
        report.add(
            RuleId::IdReused,
            at,
            format!("reserved({})", field.id),
            format!("id {} of `{}`", field.id, field.name),
            format!("`{}` takes id {}, which was reserved", field.name, field.id),
        );
    }
    if field.since <= old.version {
        report.add(
            RuleId::FieldAddedWithoutSince,
            at,
            format!("absent in version {}", old.version),
            format!("since = {}", field.since),
            format!(
                "`{}` was added after version {}, but says `since = {}`",
                field.name, old.version, field.since
            ),
        );
    }
    if field.default == FieldDefault::Unspecified {
        report.add(
            RuleId::FieldAddedWithoutDefault,
            at,
            format!("absent in version {}", old.version),
            "no default",
            format!("`{}` has no default to read old data with", field.name),
        );
    }
}
