//! `crdtype-schema`: checks that a new version of crdtype schemas stays compatible with
//! the old one, as `buf breaking` does for protobuf.
//!
//! Schemas are read from `.rs` sources without compiling them (every `#[derive(Crdt)]`
//! struct, through the same model as the derive macro, so the two never disagree) or from
//! this tool's JSON exports. [`check::compare`] runs every rule of [`rules::RULES`] on
//! every pair of schemas with the same name and reports every finding.
//!
//! ```
//! use crdtype_schema::check::{Mode, compare};
//! use crdtype_schema::input::read_source;
//!
//! let old = read_source("old.rs", "#[derive(Crdt)] struct Event { title: String, at: i32 }")?;
//! let new = read_source(
//!     "new.rs",
//!     "#[derive(Crdt)] #[crdt(version = 2)] struct Event { title: String, at: i64 }",
//! )?;
//! let report = compare(&old, &new);
//! assert!(report.fails(Mode::Full));
//! assert_eq!(report.findings[0].rule, "field_type_changed");
//! # Ok::<(), Vec<crdtype_schema::input::InputError>>(())
//! ```

pub mod check;
pub mod input;
pub mod report;
pub mod rules;

use std::path::Path;

use input::{Exported, Found, InputError, Lock};

/// The exports of `found`: one JSON descriptor per schema (named `<name>.v<version>.json`)
/// and, with `fbs`, its FlatBuffers schema (`<name>.v<version>.fbs`), as (file name,
/// contents) pairs.
pub fn export(found: &[Found], fbs: bool) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for found in found {
        let schema = &found.schema;
        // Only characters safe in a file name: a schema name is not a path.
        let name: String = schema
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let stem = format!("{}.v{}", name.trim_start_matches('.'), schema.version);
        let json = serde_json::to_string_pretty(&Exported::new(found)).unwrap_or_default();
        files.push((format!("{stem}.json"), json + "\n"));
        if fbs {
            files.push((format!("{stem}.fbs"), crdtype_model::fbs::export(schema)));
        }
    }
    files
}

/// The lock file of `found`: every schema with its fingerprint, sorted by name.
pub fn lock(found: &[Found]) -> String {
    let mut schemas: Vec<Exported> = found.iter().map(Exported::new).collect();
    schemas.sort_by(|a, b| a.schema.name.cmp(&b.schema.name));
    let lock = Lock {
        crdtype_schema_lock: 1,
        schemas,
    };
    serde_json::to_string_pretty(&lock).unwrap_or_default() + "\n"
}

/// The schemas of every path, every error reported.
pub fn read_all(paths: &[impl AsRef<Path>]) -> Result<Vec<Found>, Vec<InputError>> {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        match input::read(path.as_ref()) {
            Ok(more) => found.extend(more),
            Err(more) => errors.extend(more),
        }
    }
    if errors.is_empty() {
        Ok(found)
    } else {
        Err(errors)
    }
}

/// The schemas of every path, one version per schema name: a name found twice is an
/// error naming both places.
pub fn read_one_version_each(paths: &[impl AsRef<Path>]) -> Result<Vec<Found>, Vec<InputError>> {
    let found = read_all(paths)?;
    let mut errors = Vec::new();
    for (index, first) in found.iter().enumerate() {
        if let Some(again) = found[index + 1..]
            .iter()
            .find(|other| other.schema.name == first.schema.name)
        {
            errors.push(InputError::Invalid {
                origin: again.origin.clone(),
                message: format!(
                    "schema `{}` is also defined at {} (versions {} and {}): give each side \
                     one version",
                    first.schema.name, first.origin, first.schema.version, again.schema.version
                ),
            });
        }
    }
    if errors.is_empty() {
        Ok(found)
    } else {
        Err(errors)
    }
}
