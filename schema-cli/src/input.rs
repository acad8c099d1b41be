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

/// A schema as exported: its descriptor and the fingerprint of its replicated part.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exported {
    /// BLAKE3 of the replicated part (see [`fingerprint`]), 16 bytes in hex.
    pub fingerprint: String,
    /// The descriptor.
    #[serde(flatten)]
    pub schema: Schema,
}

impl Exported {
    /// The export of `schema`.
    pub fn new(schema: Schema) -> Self {
        Self {
            fingerprint: fingerprint(&schema),
            schema,
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

/// The fingerprint of what a schema replicates: its name, fields (name, id, type, kind,
/// `since`, default, previous name and type) and reserved ids, not its version nor its
/// filters. Two versions with the same fingerprint replicate the same way.
pub fn fingerprint(schema: &Schema) -> String {
    let fields: Vec<_> = schema
        .fields
        .iter()
        .map(|field| {
            (
                &field.name,
                field.id,
                &field.rust_type,
                field.kind,
                field.since,
                &field.default,
                &field.renamed_from,
                &field.was,
            )
        })
        .collect();
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
    if errors.is_empty() && found.is_empty() {
        errors.push(InputError::Empty(path));
    }
    if errors.is_empty() {
        Ok(found)
    } else {
        Err(errors)
    }
}

/// Every schema in `path`: a `.rs` file, a directory of them (recursively, skipping
/// `target` and hidden directories), or a `.json` export, lock file, or directory of them.
/// Reports every error found, not just the first.
pub fn read(path: &Path) -> Result<Vec<Found>, Vec<InputError>> {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    read_into(path, &mut found, &mut errors);
    if errors.is_empty() && found.is_empty() {
        errors.push(InputError::Empty(path.to_owned()));
    }
    if errors.is_empty() {
        Ok(found)
    } else {
        Err(errors)
    }
}

fn read_into(path: &Path, found: &mut Vec<Found>, errors: &mut Vec<InputError>) {
    let io = |source| InputError::Io {
        path: path.to_owned(),
        source,
    };
    if path.is_dir() {
        let mut entries = match std::fs::read_dir(path) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .collect::<Vec<_>>(),
            Err(error) => return errors.push(io(error)),
        };
        entries.sort();
        for entry in entries {
            let name = entry
                .file_name()
                .and_then(|name| name.to_str())
                .unwrap_or("");
            let wanted = if entry.is_dir() {
                !name.starts_with('.') && name != "target"
            } else {
                name.ends_with(".rs") || name.ends_with(".json") || name.ends_with(".lock")
            };
            if wanted {
                read_into(&entry, found, errors);
            }
        }
        return;
    }
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => return errors.push(io(error)),
    };
    if path.extension().is_some_and(|extension| extension == "rs") {
        read_rust(path, &text, found, errors);
    } else {
        read_json(path, &text, found, errors);
    }
}

fn read_json(path: &Path, text: &str, found: &mut Vec<Found>, errors: &mut Vec<InputError>) {
    /// Every shape this tool writes, and a bare descriptor.
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Json {
        Lock(Lock),
        Many(Vec<Exported>),
        One(Exported),
        Bare(Schema),
    }
    let origin = |line, column| Origin {
        path: path.to_owned(),
        line,
        column,
    };
    // Parsed as a value first, so that a syntax error keeps its line and column.
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(error) => {
            return errors.push(InputError::Invalid {
                origin: origin(error.line(), error.column()),
                message: format!("not JSON: {error}"),
            });
        }
    };
    let schemas = match serde_json::from_value(value) {
        Ok(Json::Lock(lock)) => lock.schemas.into_iter().map(|e| e.schema).collect(),
        Ok(Json::Many(many)) => many.into_iter().map(|e| e.schema).collect(),
        Ok(Json::One(one)) => vec![one.schema],
        Ok(Json::Bare(schema)) => vec![schema],
        Err(_) => {
            return errors.push(InputError::Invalid {
                origin: origin(1, 1),
                message: "not a schema export, list of them, or lock file of crdtype-schema"
                    .to_owned(),
            });
        }
    };
    found.extend(schemas.into_iter().map(|schema| Found {
        schema,
        origin: origin(0, 0),
        struct_name: None,
        skipped: Vec::new(),
    }));
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
