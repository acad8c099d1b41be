//! Reading schemas: from `.rs` files and directories (every `#[derive(Crdt)]` struct,
//! parsed with syn and read by the same model as the derive macro, without compiling), and
//! from the JSON this tool exports.

use std::path::{Path, PathBuf};

use crdtype_model::Schema;
use crdtype_model::syntax::{Model, derives_crdt};
use serde::{Deserialize, Serialize};

/// A schema, where it came from, and what only its source knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The descriptor.
    pub schema: Schema,
    /// The file and line it was read from.
    pub origin: Origin,
    /// The Rust struct's name, when read from source.
    pub struct_name: Option<String>,
    /// The struct's `skip` fields (local only), when read from source.
    pub skipped: Vec<String>,
}

/// A place in an input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The file.
    pub path: PathBuf,
    /// Line, from 1 (0 when unknown).
    pub line: usize,
    /// Column, from 1 (0 when unknown).
    pub column: usize,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.path.display(), self.line, self.column)
    }
}

/// An input that could not be read, or is not a valid schema.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// Reading failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid Rust, or a `#[derive(Crdt)]` struct the derive would refuse, or JSON that
    /// is not an export of this tool.
    #[error("{origin}: {message}")]
    Invalid {
        /// Where.
        origin: Origin,
        /// What is wrong.
        message: String,
    },
    /// No schema in the input.
    #[error("{}: no `#[derive(Crdt)]` struct or exported schema found", .0.display())]
    Empty(PathBuf),
}

/// A schema as exported: its descriptor, the fingerprint of its replicated part, and the
/// Rust struct it was read from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exported {
    /// BLAKE3 of the replicated part (see [`fingerprint`]), 16 bytes in hex; empty in a
    /// bare descriptor.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub fingerprint: String,
    /// The Rust struct's name, to tell a renamed schema from a removed one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rust_struct: Option<String>,
    /// The descriptor.
    #[serde(flatten)]
    pub schema: Schema,
}

impl Exported {
    /// The export of `found`.
    pub fn new(found: &Found) -> Self {
        Self {
            fingerprint: fingerprint(&found.schema),
            rust_struct: found.struct_name.clone(),
            schema: found.schema.clone(),
        }
    }
}

/// The lock file: the schemas of a project as last locked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lock {
    /// The lock file's format, 1.
    pub crdtype_schema_lock: u32,
    /// The schemas, sorted by name.
    pub schemas: Vec<Exported>,
}

/// The fingerprint of what a schema replicates: its name, fields by id (name, type, kind,
/// `since`, the default they read as, previous type) and reserved ids; not its version,
/// filters, field order nor previous names. Two versions with the same fingerprint
/// replicate the same way.
pub fn fingerprint(schema: &Schema) -> String {
    let mut fields: Vec<_> = schema
        .fields
        .iter()
        .map(|field| {
            (
                field.id,
                &field.name,
                &field.rust_type,
                field.kind,
                field.since,
                crate::check::same_default(&field.default),
                &field.was,
            )
        })
        .collect();
    fields.sort_by_key(|field| field.0);
    let replicated = (&schema.name, fields, &schema.reserved);
    let json = serde_json::to_vec(&replicated).unwrap_or_default();
    blake3::hash(&json).as_bytes()[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Every schema in the Rust source `text`, as if read from a file at `path`.
pub fn read_source(path: impl Into<PathBuf>, text: &str) -> Result<Vec<Found>, Vec<InputError>> {
    let path = path.into();
    let mut found = Vec::new();
    let mut errors = Vec::new();
    read_rust(&path, text, &mut found, &mut errors);
    finish(&path, found, errors)
}

/// Every schema in `path`: a `.rs` file, a directory of them (recursively, skipping
/// `target`, hidden directories and symbolic links to directories), or an export or lock
/// file this tool wrote (any file not ending in `.rs` is read as one). Reports every
/// error found.
pub fn read(path: &Path) -> Result<Vec<Found>, Vec<InputError>> {
    read_files(path, "rs")
}

/// Every schema exported into the directory `path` (its `.json` files, recursively), or
/// in the export `path`: a history of released versions.
pub fn read_exports(path: &Path) -> Result<Vec<Found>, Vec<InputError>> {
    read_files(path, "json")
}

fn read_files(path: &Path, extension: &str) -> Result<Vec<Found>, Vec<InputError>> {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    read_into(path, extension, &mut found, &mut errors);
    finish(path, found, errors)
}

fn finish(
    path: &Path,
    found: Vec<Found>,
    mut errors: Vec<InputError>,
) -> Result<Vec<Found>, Vec<InputError>> {
    if errors.is_empty() && found.is_empty() {
        errors.push(InputError::Empty(path.to_owned()));
    }
    if errors.is_empty() {
        Ok(found)
    } else {
        Err(errors)
    }
}

fn read_into(path: &Path, extension: &str, found: &mut Vec<Found>, errors: &mut Vec<InputError>) {
    let io = |path: &Path, source| InputError::Io {
        path: path.to_owned(),
        source,
    };
    if path.is_dir() {
        let entries = match std::fs::read_dir(path) {
            Ok(entries) => entries,
            Err(error) => return errors.push(io(path, error)),
        };
        let mut wanted = Vec::new();
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    errors.push(io(path, error));
                    continue;
                }
            };
            let entry_path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            // `file_type` does not follow symbolic links: a link to a directory (perhaps
            // a loop) is not walked.
            let is_dir = entry.file_type().is_ok_and(|kind| kind.is_dir());
            let take = if is_dir {
                !name.starts_with('.') && name != "target"
            } else {
                entry_path
                    .extension()
                    .is_some_and(|found| found == extension)
            };
            if take {
                wanted.push(entry_path);
            }
        }
        wanted.sort();
        for entry in wanted {
            read_into(&entry, extension, found, errors);
        }
        return;
    }
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => return errors.push(io(path, error)),
    };
    if path.extension().is_some_and(|found| found == "rs") {
        read_rust(path, &text, found, errors);
    } else {
        read_json(path, &text, found, errors);
    }
}

fn read_json(path: &Path, text: &str, found: &mut Vec<Found>, errors: &mut Vec<InputError>) {
    let origin = |line, column| Origin {
        path: path.to_owned(),
        line,
        column,
    };
    let invalid = |error: serde_json::Error| InputError::Invalid {
        origin: origin(error.line(), error.column()),
        message: format!("not a schema export of crdtype-schema: {error}"),
    };
    // Chosen by shape, then parsed as that shape, and without `flatten` (which buffers),
    // so that an error keeps its place: the descriptors, then what an export adds.
    // `Extra` also lists the descriptor's own keys, so that any other key (a misspelled
    // `renamed_from`, say) is refused rather than dropped: `Schema` is read beside an
    // export's keys, so it cannot refuse them itself. `FieldSchema` does.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Extra {
        #[serde(default)]
        fingerprint: String,
        #[serde(default)]
        rust_struct: Option<String>,
        #[serde(default, rename = "name")]
        _name: serde::de::IgnoredAny,
        #[serde(default, rename = "version")]
        _version: serde::de::IgnoredAny,
        #[serde(default, rename = "fields")]
        _fields: serde::de::IgnoredAny,
        #[serde(default, rename = "reserved")]
        _reserved: serde::de::IgnoredAny,
        #[serde(default, rename = "views")]
        _views: serde::de::IgnoredAny,
    }
    #[derive(Deserialize)]
    struct LockOf<T> {
        crdtype_schema_lock: u32,
        schemas: Vec<T>,
    }
    fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<Vec<T>, serde_json::Error> {
        match text.trim_start().chars().next() {
            Some('[') => serde_json::from_str(text),
            _ if text.contains("\"crdtype_schema_lock\"") => {
                serde_json::from_str::<LockOf<T>>(text).map(|lock| lock.schemas)
            }
            _ => serde_json::from_str(text).map(|one| vec![one]),
        }
    }
    if let Ok(lock) = serde_json::from_str::<LockOf<serde::de::IgnoredAny>>(text)
        && lock.crdtype_schema_lock != 1
    {
        return errors.push(InputError::Invalid {
            origin: origin(1, 1),
            message: format!(
                "a lock file of format {}, which this version does not read",
                lock.crdtype_schema_lock
            ),
        });
    }
    let (schemas, extras) = match (parse::<Schema>(text), parse::<Extra>(text)) {
        (Ok(schemas), Ok(extras)) => (schemas, extras),
        (Err(error), _) | (_, Err(error)) => return errors.push(invalid(error)),
    };
    let exports = schemas
        .into_iter()
        .zip(extras)
        .map(|(schema, extra)| Exported {
            fingerprint: extra.fingerprint,
            rust_struct: extra.rust_struct,
            schema,
        });
    for export in exports {
        let fingerprint_problem = (!export.fingerprint.is_empty()
            && export.fingerprint != fingerprint(&export.schema))
        .then(|| "its fingerprint does not match it: it was edited by hand".to_owned());
        for message in validate(&export.schema)
            .into_iter()
            .chain(fingerprint_problem)
        {
            errors.push(InputError::Invalid {
                origin: origin(0, 0),
                message: format!("schema `{}`: {message}", export.schema.name),
            });
        }
        found.push(Found {
            schema: export.schema,
            origin: origin(0, 0),
            struct_name: export.rust_struct,
            skipped: Vec::new(),
        });
    }
}

/// What the derive would refuse in a descriptor read from JSON.
fn validate(schema: &Schema) -> Vec<String> {
    let mut problems = Vec::new();
    if schema.version == 0 {
        problems.push("versions start at 1".to_owned());
    }
    let mut ids = std::collections::BTreeSet::new();
    let mut names = std::collections::BTreeSet::new();
    for field in &schema.fields {
        let written = std::iter::once(field.id).chain(field.was.as_ref().map(|was| was.id));
        for id in written {
            if !ids.insert(id) {
                problems.push(format!("id {id} is used twice"));
            }
            if schema.reserved.contains(&id) {
                problems.push(format!("id {id} is reserved, but `{}` uses it", field.name));
            }
            if id > u32::from(crdtype_model::MAX_FIELD_ID) {
                problems.push(format!("id {id} is above {}", crdtype_model::MAX_FIELD_ID));
            }
        }
        if !names.insert(&field.name) {
            problems.push(format!("field `{}` appears twice", field.name));
        }
        if field.since == 0 {
            problems.push(format!(
                "`{}` has `since = 0`; versions start at 1",
                field.name
            ));
        }
        if field.since > 1 && field.default == crdtype_model::FieldDefault::Unspecified {
            problems.push(format!(
                "`{}` has `since = {}` but no default",
                field.name, field.since
            ));
        }
    }
    problems
}

fn read_rust(path: &Path, text: &str, found: &mut Vec<Found>, errors: &mut Vec<InputError>) {
    let origin = |span: proc_macro2::Span| Origin {
        path: path.to_owned(),
        line: span.start().line,
        column: span.start().column + 1,
    };
    let file = match syn::parse_file(text) {
        Ok(file) => file,
        Err(error) => {
            return errors.push(InputError::Invalid {
                origin: origin(error.span()),
                message: error.to_string(),
            });
        }
    };
    let mut items: Vec<&syn::Item> = file.items.iter().collect();
    while let Some(item) = items.pop() {
        match item {
            syn::Item::Mod(module) => {
                if let Some((_, inner)) = &module.content {
                    items.extend(inner.iter());
                }
            }
            syn::Item::Struct(item) if derives_crdt(&item.attrs) => {
                let input = syn::DeriveInput::from(item.clone());
                match Model::from_syntax(&input) {
                    Ok(model) => found.push(Found {
                        schema: model.schema(),
                        origin: origin(item.ident.span()),
                        struct_name: Some(item.ident.to_string()),
                        skipped: model
                            .fields
                            .iter()
                            .filter(|field| field.kind.is_none())
                            .map(|field| field.name.clone())
                            .collect(),
                    }),
                    Err(error) => errors.extend(error.flatten().into_iter().map(|error| {
                        InputError::Invalid {
                            origin: origin(error.span()),
                            message: error.to_string(),
                        }
                    })),
                }
            }
            syn::Item::Enum(item) if derives_crdt(&item.attrs) => {
                errors.push(InputError::Invalid {
                    origin: origin(item.ident.span()),
                    message: "`#[derive(Crdt)]` on an enum: only structs with named fields \
                              derive it"
                        .to_owned(),
                });
            }
            _ => {}
        }
    }
    found.sort_by_key(|found| (found.origin.path.clone(), found.origin.line));
}
