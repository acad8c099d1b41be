//! JSON in and out: external input becomes field operations through the input filter,
//! and states leave through named views.
//!
//! Input is a JSON object (the document's new value: named fields are written, writable
//! fields it leaves out are reset), a JSON Merge Patch (RFC 7396: named fields are written,
//! `null` resets, objects merge into nested structs and maps) or a JSON Patch (RFC 6902:
//! `add`, `replace`, `remove`, `move`, `copy` and `test` on paths such as `/title`,
//! `/place/name`, `/tags/urgent` or `/attendees/ada/accepted`). Before anything is
//! applied, a JSON Patch's operations go through the [canonical transform](canonicalize),
//! and every operation is checked: paths that are unknown or that input may not write
//! (`#[crdt(read_only)]`) are refused together, or dropped and reported, as the caller
//! chooses ([`Forbidden`]); values of the wrong type are errors that name the path and
//! the expected type. A refused input changes nothing.
//!
//! ```
//! use crdtype::json::{Forbidden, Format};
//! use crdtype::{CausalDotStore, Crdt, HybridClock, ReplicaId};
//!
//! #[derive(Crdt, Clone, Debug, Default, PartialEq)]
//! #[crdt(views(public))]
//! struct Profile {
//!     #[crdt(view(public))]
//!     name: String,
//!     #[crdt(read_only)]
//!     karma: i64,
//! }
//!
//! let mut clock = HybridClock::new(ReplicaId::new(1));
//! let mut profile = CausalDotStore::<ProfileCrdt>::new();
//! let applied = profile.apply_json(
//!     Format::MergePatch,
//!     r#"{"name": "Ada", "karma": 1000}"#,
//!     clock.now(),
//!     Forbidden::Drop,
//! )?;
//! assert_eq!(applied.dropped, ["/karma"]);
//! assert_eq!(profile.store.name().map(String::as_str), Some("Ada"));
//!
//! let public = profile.to_json(Some("public")).unwrap();
//! assert_eq!(public.json, serde_json::json!({"name": "Ada"}));
//! # Ok::<(), crdtype::json::InputError>(())
//! ```

mod canonical;
pub(crate) mod fields;

use serde_json::Value;

use canonical::canonicalize_with;
pub use canonical::{Action, MAX_OPS, Op, canonicalize};
pub use fields::{JsonDocument, JsonFieldInfo, ReadCx, WriteCx};

use crate::{CausalDotStore, Timestamp};

/// The kind of JSON input.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Format {
    /// The document's new value: the fields it names are written, and the writable fields
    /// it leaves out are reset (registers to null, sets and maps emptied, flags off,
    /// counters to 0).
    Object,
    /// A JSON Merge Patch (RFC 7396): the fields it names are written, `null` resets.
    MergePatch,
    /// A JSON Patch (RFC 6902).
    Patch,
}

/// What happens to paths that input may not write: unknown fields, and fields marked
/// `#[crdt(read_only)]`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Forbidden {
    /// Refuse the whole input with [`InputError::Forbidden`], naming every such path.
    Reject,
    /// Apply the rest and list the dropped paths in [`Applied::dropped`].
    Drop,
}

/// An applied input.
#[derive(Clone, PartialEq, Debug)]
pub struct Applied<S> {
    /// The delta of the fields the input changed.
    pub delta: CausalDotStore<S>,
    /// The paths dropped by [`Forbidden::Drop`], sorted.
    pub dropped: Vec<String>,
}

/// Why an input was refused. Nothing was applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The input is not JSON.
    #[error("not JSON: {0}")]
    Syntax(#[from] serde_json::Error),
    /// The input is JSON, but not of its format: a merge patch that is not an object, a
    /// patch operation without a path.
    #[error("not a {format}: {reason}")]
    Shape {
        /// The format.
        format: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Paths that input may not write: unknown, or read-only.
    #[error("input may not write {}", paths.join(", "))]
    Forbidden {
        /// Every offending path, sorted.
        paths: Vec<String>,
    },
    /// A value of the wrong type.
    #[error("{path}: expected {expected}: {reason}")]
    Type {
        /// Where.
        path: String,
        /// The field's type, as Rust names it.
        expected: String,
        /// What serde said.
        reason: String,
    },
    /// A path that goes inside a field that has no members (a register, a counter).
    #[error("{path}: `{field}` has no members to address")]
    NoMembers {
        /// Where.
        path: String,
        /// The field.
        field: String,
    },
    /// A JSON Patch `test` that failed, or a `move`/`copy` from a path that has no value.
    #[error("{path}: {reason}")]
    Patch {
        /// Where.
        path: String,
        /// What failed.
        reason: String,
    },
    /// The canonical transform found an operation on a field the same batch deleted.
    #[error("{path}: cannot modify a field deleted earlier in the same input")]
    ModifiedAfterDelete {
        /// The field.
        path: String,
    },
}

/// A state as JSON, through a view.
#[derive(Clone, PartialEq, Debug)]
pub struct Output {
    /// The fields the view shows, by name; null registers as `null`.
    pub json: Value,
    /// How many fields of newer schema versions the state holds that no JSON shows:
    /// nonzero means the output is not all the state holds (the encoding keeps them).
    pub omitted_unknown_fields: usize,
}

/// A view name that the schema does not declare.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("no view named `{0}`")]
pub struct UnknownView(pub String);

impl<S: JsonDocument> CausalDotStore<S> {
    /// Applies external JSON input at `stamp` (one replica, one time for the whole input)
    /// and returns the delta, or refuses it whole.
    pub fn apply_json(
        &mut self,
        format: Format,
        input: &str,
        stamp: Timestamp,
        forbidden: Forbidden,
    ) -> Result<Applied<S>, InputError> {
        let value: Value = serde_json::from_str(input)?;
        match format {
            Format::Object => self.apply_ops(&object_ops::<S>(value, true)?, stamp, forbidden),
            Format::MergePatch => self.apply_ops(&object_ops::<S>(value, false)?, stamp, forbidden),
            Format::Patch => {
                let document = self.to_json(None).map(|out| out.json).unwrap_or_default();
                let raw = canonical::patch_ops(&value, &document)?;
                // Every raw operation is checked, so that the transform, which drops moot
                // operations, cannot hide a forbidden path or a value of the wrong type.
                let dropped = self.check_ops(&raw, stamp, forbidden)?;
                let canonical = canonicalize_with(raw, |path| S::combinable(path, 0))?;
                let mut applied = self.apply_ops(&canonical, stamp, forbidden)?;
                applied.dropped = dropped;
                Ok(applied)
            }
        }
    }

    /// Applies operations already read from input (and, for a patch, made canonical) at
    /// `stamp`, all or none, through the same checks as [`apply_json`](Self::apply_json).
    pub fn apply_ops(
        &mut self,
        ops: &[Op],
        stamp: Timestamp,
        forbidden: Forbidden,
    ) -> Result<Applied<S>, InputError> {
        // Check every operation first, so that a refused input changes nothing.
        let dropped = self.check_ops(ops, stamp, forbidden)?;
        let mut delta = CausalDotStore::new();
        let mut apply = WriteCx::new(&mut self.context, stamp, true);
        for op in ops {
            // An operation whose whole path input may not write is skipped, not applied
            // in part (inside a map entry, it would mark the entry present).
            if dropped.binary_search(&op.pointer()).is_ok() {
                continue;
            }
            self.store
                .json_write(&mut apply, &op.path, 0, &op.action, &mut delta)?;
        }
        Ok(Applied { delta, dropped })
    }

    /// Checks `ops` without applying them: the sorted paths input may not write, or the
    /// first error (and, with [`Forbidden::Reject`], those paths as one).
    fn check_ops(
        &mut self,
        ops: &[Op],
        stamp: Timestamp,
        forbidden: Forbidden,
    ) -> Result<Vec<String>, InputError> {
        let mut check = WriteCx::new(&mut self.context, stamp, false);
        let mut unchanged = CausalDotStore::new();
        for op in ops {
            self.store
                .json_write(&mut check, &op.path, 0, &op.action, &mut unchanged)?;
        }
        let dropped = check.into_dropped();
        if forbidden == Forbidden::Reject && !dropped.is_empty() {
            return Err(InputError::Forbidden { paths: dropped });
        }
        Ok(dropped)
    }

    /// The state as JSON through the view `view`, or every replicated field with `None`.
    pub fn to_json(&self, view: Option<&str>) -> Result<Output, UnknownView> {
        if let Some(view) = view.filter(|view| !S::VIEWS.contains(view)) {
            return Err(UnknownView(view.to_owned()));
        }
        let mut cx = ReadCx::default();
        let json = self.store.json_read(&mut cx, view);
        Ok(Output {
            json,
            omitted_unknown_fields: cx.omitted_unknown_fields,
        })
    }
}

/// The operations of an object or merge patch: one per member (a `null` resets), and with
/// `reset_absent`, a reset of every writable field the object leaves out.
fn object_ops<S: JsonDocument>(value: Value, reset_absent: bool) -> Result<Vec<Op>, InputError> {
    let Value::Object(members) = value else {
        return Err(InputError::Shape {
            format: if reset_absent {
                "JSON object"
            } else {
                "JSON Merge Patch"
            },
            reason: "expected an object of fields".to_owned(),
        });
    };
    let absent: Vec<Op> = if reset_absent {
        S::JSON_FIELDS
            .iter()
            .filter(|field| field.writable && !members.contains_key(field.name))
            .map(|field| Op {
                path: vec![field.name.to_owned()],
                action: Action::Delete,
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut ops: Vec<Op> = members
        .into_iter()
        .map(|(name, value)| Op {
            path: vec![name],
            action: match value {
                Value::Null => Action::Delete,
                // An object replaces what it names; a merge patch merges into it.
                value if reset_absent => Action::Modify(value),
                value => Action::Merge(value),
            },
        })
        .collect();
    ops.extend(absent);
    Ok(ops)
}
