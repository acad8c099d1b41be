//! The compatibility rules, as data: one entry per rule with its id, purpose, the
//! direction it breaks, its default level and a hint of what to write instead.

use serde::Serialize;

/// Which replicas a change breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Breaks {
    /// A new replica reading old data.
    Backward,
    /// An old replica reading new data.
    Forward,
    /// Both directions.
    Both,
    /// Neither: a problem of the schemas themselves (or of the lock file).
    Neither,
}

impl Breaks {
    /// In words, for reports of a finding of `level`.
    pub fn describe(self, level: Level) -> &'static str {
        match (self, level) {
            (Breaks::Backward, _) => "breaks backward: new replicas reading old data",
            (Breaks::Forward, _) => "breaks forward: old replicas reading new data",
            (Breaks::Both, _) => "breaks backward and forward",
            (Breaks::Neither, Level::Error) => "breaks no reader, but fails the check",
            (Breaks::Neither, Level::Warning) => "breaks no reader",
        }
    }
}

/// How serious a finding is by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Fails the check (in the modes whose direction it breaks).
    Error,
    /// Reported, never fails.
    Warning,
}

/// A rule's identity; [`RuleId::rule`] gives its entry in [`RULES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs)] // Each variant is documented by its entry in `RULES`.
pub enum RuleId {
    VersionNotIncremented,
    VersionDecreased,
    SchemaRemoved,
    SchemaRenamed,
    FieldRemovedUnreserved,
    ReservedIdDropped,
    IdReused,
    FieldIdChanged,
    FieldTypeChanged,
    MigrationWithoutDowngrade,
    FieldKindChanged,
    FieldRenamedUndeclared,
    FieldAddedWithoutSince,
    FieldAddedWithoutDefault,
    SinceBeyondVersion,
    DefaultChanged,
    FieldMadeSkip,
    InputFilterNarrowed,
    ViewChanged,
    LockOutdated,
    NestedSchemaUnchecked,
}

impl RuleId {
    /// The rule's entry.
    pub fn rule(self) -> &'static Rule {
        // `RULES` lists the rules in the order of this enum (a test checks it).
        &RULES[self as usize]
    }
}

/// One compatibility rule.
#[derive(Debug, Serialize)]
pub struct Rule {
    /// Its identity.
    #[serde(skip)]
    pub id: RuleId,
    /// Its name in reports, fixtures and configuration: snake case.
    pub name: &'static str,
    /// What it catches, in one sentence.
    pub summary: &'static str,
    /// Which replicas the change breaks.
    pub breaks: Breaks,
    /// Its default level.
    pub level: Level,
    /// What to write instead.
    pub hint: &'static str,
}

/// Every rule, in the order of [`RuleId`].
pub static RULES: [Rule; 21] = [
    Rule {
        id: RuleId::VersionNotIncremented,
        name: "version_not_incremented",
        summary: "What the schema replicates changed, but its version did not.",
        breaks: Breaks::Both,
        level: Level::Error,
        hint: "increment `#[crdt(version = N)]`",
    },
    Rule {
        id: RuleId::VersionDecreased,
        name: "version_decreased",
        summary: "The schema's version went down.",
        breaks: Breaks::Both,
        level: Level::Error,
        hint: "versions only go up: give it a version above the old one",
    },
    Rule {
        id: RuleId::SchemaRemoved,
        name: "schema_removed",
        summary: "A schema disappeared: old replicas still send it.",
        breaks: Breaks::Both,
        level: Level::Error,
        hint: "keep the struct deriving `Crdt`; renaming the struct is fine if it keeps \
               `#[crdt(name = \"...\")]`",
    },
    Rule {
        id: RuleId::SchemaRenamed,
        name: "schema_renamed",
        summary: "A struct's schema name changed: replicas match schemas by name.",
        breaks: Breaks::Both,
        level: Level::Error,
        hint: "keep the old name with `#[crdt(name = \"old\")]`",
    },
    Rule {
        id: RuleId::FieldRemovedUnreserved,
        name: "field_removed_unreserved",
        summary: "A field was removed without reserving its id, which a later field could \
                  then reuse.",
        breaks: Breaks::Both,
        level: Level::Error,
        hint: "add its id to `#[crdt(reserved(...))]`",
    },
    Rule {
        id: RuleId::ReservedIdDropped,
        name: "reserved_id_dropped",
        summary: "An id left the reserved list, so it could be reused.",
        breaks: Breaks::Both,
        level: Level::Error,
        hint: "keep every id ever reserved in `#[crdt(reserved(...))]`",
    },
    Rule {
        id: RuleId::IdReused,
        name: "id_reused",
        summary: "A field took an id that was reserved or belonged to another field.",
        breaks: Breaks::Both,
        level: Level::Error,
        hint: "give the field an id never used: `#[crdt(id = N)]`",
    },
    Rule {
        id: RuleId::FieldIdChanged,
        name: "field_id_changed",
        summary: "A field's id changed (an implicit id shifts when a field is inserted or \
                  removed before it).",
        breaks: Breaks::Both,
        level: Level::Error,
        hint: "pin the old id with `#[crdt(id = N)]`",
    },
    Rule {
        id: RuleId::FieldTypeChanged,
        name: "field_type_changed",
        summary: "A field's type changed in place (widening too: `i32` to `i64` is fixed width \
                  on the wire; so is `T` to `Option<T>`).",
        breaks: Breaks::Both,
        level: Level::Error,
        hint: "keep the type, or move the field to a new id with a migration: `#[crdt(id = \
               NEW, since = V, default, was(id = OLD, type = \"T\", upgrade = \"f\", downgrade \
               = \"g\"))]`",
    },
    Rule {
        id: RuleId::MigrationWithoutDowngrade,
        name: "migration_without_downgrade",
        summary: "A type change declares an upgrade but no downgrade, so old replicas cannot \
                  read the new values.",
        breaks: Breaks::Forward,
        level: Level::Error,
        hint: "add `downgrade = \"path\"` to `was(...)`, or check with `--mode backward`",
    },
    Rule {
        id: RuleId::FieldKindChanged,
        name: "field_kind_changed",
        summary: "A field's CRDT kind changed: the merge semantics differ.",
        breaks: Breaks::Both,
        level: Level::Error,
        hint: "keep the kind, or add a field of the new kind under a new name and id, and \
               reserve the old id",
    },
    Rule {
        id: RuleId::FieldRenamedUndeclared,
        name: "field_renamed_undeclared",
        summary: "A field's name changed at the same id without `renamed_from`: a rename and \
                  a removal plus an addition look the same.",
        breaks: Breaks::Both,
        level: Level::Error,
        hint: "say it is a rename: `#[crdt(renamed_from = \"old\")]`",
    },
    Rule {
        id: RuleId::FieldAddedWithoutSince,
        name: "field_added_without_since",
        summary: "A field was added without `since` the version that adds it.",
        breaks: Breaks::Backward,
        level: Level::Error,
        hint: "add `#[crdt(since = N)]` with the new version",
    },
    Rule {
        id: RuleId::FieldAddedWithoutDefault,
        name: "field_added_without_default",
        summary: "A field was added without a default, which new replicas need to read old \
                  data.",
        breaks: Breaks::Backward,
        level: Level::Error,
        hint: "add `#[crdt(default)]` or `#[crdt(default = \"path\")]`",
    },
    Rule {
        id: RuleId::SinceBeyondVersion,
        name: "since_beyond_version",
        summary: "A field's `since` is above its schema's version.",
        breaks: Breaks::Both,
        level: Level::Error,
        hint: "`since` is at most the schema's version",
    },
    Rule {
        id: RuleId::DefaultChanged,
        name: "default_changed",
        summary: "A field's default changed: replicas on each version would read an absent \
                  value differently.",
        breaks: Breaks::Both,
        level: Level::Error,
        hint: "keep the default",
    },
    Rule {
        id: RuleId::FieldMadeSkip,
        name: "field_made_skip",
        summary: "A replicated field became `skip`: it stops replicating, like a removal; old \
                  replicas' writes of it are kept but no longer read.",
        breaks: Breaks::Neither,
        level: Level::Warning,
        hint: "reserve its id, as for a removal",
    },
    Rule {
        id: RuleId::InputFilterNarrowed,
        name: "input_filter_narrowed",
        summary: "A field became `read_only`: new replicas refuse input that old ones accept.",
        breaks: Breaks::Backward,
        level: Level::Error,
        hint: "drop `read_only`, or accept that clients writing the field must upgrade",
    },
    Rule {
        id: RuleId::ViewChanged,
        name: "view_changed",
        summary: "The output views changed: JSON that clients read looks different.",
        breaks: Breaks::Neither,
        level: Level::Warning,
        hint: "tell the clients that read the view",
    },
    Rule {
        id: RuleId::LockOutdated,
        name: "lock_outdated",
        summary: "The sources differ from the lock file.",
        breaks: Breaks::Neither,
        level: Level::Error,
        hint: "run `crdtype-schema lock` and commit the lock file",
    },
    Rule {
        id: RuleId::NestedSchemaUnchecked,
        name: "nested_schema_unchecked",
        summary: "A `nested` or `map` field's struct has no schema among the inputs, so \
                  changes inside it go unchecked.",
        breaks: Breaks::Neither,
        level: Level::Warning,
        hint: "pass the file or directory that defines the struct too (or its export)",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_listed_in_the_order_of_their_ids_with_unique_names() {
        for (index, rule) in RULES.iter().enumerate() {
            assert_eq!(rule.id as usize, index, "{}", rule.name);
        }
        let names: std::collections::BTreeSet<_> = RULES.iter().map(|rule| rule.name).collect();
        assert_eq!(names.len(), RULES.len());
    }
}
