//! Schema descriptors: what a `#[derive(Crdt)]` struct replicates, as data.

use serde::{Deserialize, Serialize};

/// The replicated shape of one struct at one version: what `T::schema()` returns and what
/// the schema CLI exports and compares.
///
/// Fields marked `skip` are local only and do not appear.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Schema {
    /// Stable schema name (`#[crdt(name = "...")]`, by default the struct's name).
    pub name: String,
    /// Current schema version, from 1.
    pub version: u32,
    /// The replicated fields in declaration order.
    pub fields: Vec<FieldSchema>,
    /// Ids of removed fields, never to be reused; sorted.
    pub reserved: Vec<u32>,
    /// The named views of JSON output the struct declares (`views(...)`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub views: Vec<String>,
}

/// One replicated field of a [`Schema`]. Reading one refuses keys it does not have, so
/// that a misspelled key in a hand-edited export is an error, not a key silently dropped.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSchema {
    /// The field's name in Rust.
    pub name: String,
    /// Stable wire id.
    pub id: u32,
    /// The field's Rust type as written in the struct, spaced as rustfmt would
    /// (`BTreeSet<String>`, `BTreeMap<u32, Seat>`).
    pub rust_type: String,
    /// Which CRDT the field becomes.
    pub kind: Kind,
    /// The schema version that added the field (1 for fields present from the start).
    pub since: u32,
    /// What a null or absent field reads as.
    pub default: FieldDefault,
    /// The field's previous name, if it was renamed.
    pub renamed_from: Option<String>,
    /// The field's id and type before its type changed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub was: Option<PreviousType>,
    /// Whether external input may not write the field (`read_only`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
    /// The views that show the field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub views: Vec<String>,
}

/// A field's id and type before its type changed (`#[crdt(was(...))]`): its writes of the
/// old type stay under the old id, for older replicas. Unknown keys are refused.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviousType {
    /// The old id.
    pub id: u32,
    /// The old Rust type, as written.
    pub rust_type: String,
    /// Path of the function from the old type to the new.
    pub upgrade: String,
    /// Path of the function from the new type to the old, if values can go back.
    pub downgrade: Option<String>,
}

/// The CRDT a field becomes, chosen with `#[crdt(kind)]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Last-writer-wins register with observed-remove deletes (the default).
    Lww,
    /// Multi-value register: concurrent writes are all kept until a later write.
    Mv,
    /// Counter of increments and decrements from every replica.
    Counter,
    /// Add-wins set.
    Set,
    /// Two-phase set: a removed element stays removed.
    TwoPhaseSet,
    /// Enable-wins flag.
    Flag,
    /// A struct that derives `Crdt` itself, replicated field by field.
    Nested,
    /// Observed-remove map whose values derive `Crdt`.
    Map,
}

impl Kind {
    /// The attribute that selects this kind: `lww`, `two_phase_set`, ...
    pub fn attribute(self) -> &'static str {
        match self {
            Kind::Lww => "lww",
            Kind::Mv => "mv",
            Kind::Counter => "counter",
            Kind::Set => "set",
            Kind::TwoPhaseSet => "two_phase_set",
            Kind::Flag => "flag",
            Kind::Nested => "nested",
            Kind::Map => "map",
        }
    }
}

/// What a null or absent field reads as in the plain struct.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldDefault {
    /// No `default` attribute: the type's `Default` value, but the schema does not promise
    /// one, so the field cannot be added by a later version.
    Unspecified,
    /// `#[crdt(default)]`: the type's `Default` value.
    DefaultTrait,
    /// `#[crdt(default = "path")]`: the value returned by the named function.
    Function(String),
}

impl Schema {
    /// The replicated field with this name.
    pub fn field_by_name(&self, name: &str) -> Option<&FieldSchema> {
        self.fields.iter().find(|field| field.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json() {
        let schema = Schema {
            name: "calendar.Event".to_owned(),
            version: 2,
            fields: vec![FieldSchema {
                name: "location".to_owned(),
                id: 3,
                rust_type: "String".to_owned(),
                kind: Kind::Lww,
                since: 2,
                default: FieldDefault::Function("defaults::location".to_owned()),
                renamed_from: Some("place".to_owned()),
                was: None,
                read_only: false,
                views: Vec::new(),
            }],
            reserved: vec![7],
            views: Vec::new(),
        };
        let json = serde_json::to_string(&schema).unwrap();
        assert!(json.contains(r#""kind":"lww""#), "{json}");
        assert!(
            json.contains(r#""default":{"function":"defaults::location"}"#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Schema>(&json).unwrap(), schema);
    }
}
