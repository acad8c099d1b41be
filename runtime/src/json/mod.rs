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

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;
use smallvec::SmallVec;

use canonical::canonicalize_with;
pub use canonical::{Action, MAX_OPS, Op, canonicalize};
use fields::{ApplyCx, find_field};
pub use fields::{JsonDocument, JsonFieldInfo, ReadCx, WriteCx};

use crate::{CausalDotStore, DotStore, Timestamp};

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

impl<S: DotStore> Applied<S> {
    /// The application `fill` writes, from empty, or its error. The result is built where
    /// it is returned, rather than let-bound and moved into `Ok`, which copies the delta:
    /// hundreds of bytes for a document, just written and read back at once.
    #[inline]
    fn filled(fill: impl FnOnce(&mut Self) -> Result<(), InputError>) -> Result<Self, InputError> {
        let mut result = Ok(Self {
            delta: CausalDotStore::new(),
            dropped: Vec::new(),
        });
        if let Ok(applied) = &mut result
            && let Err(error) = fill(applied)
        {
            result = Err(error);
        }
        result
    }
}

/// Why an input was refused. Nothing was applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The input is not JSON (whatever else is wrong with it).
    #[error("not JSON: {0}")]
    Syntax(#[from] serde_json::Error),
    /// The input is JSON, but not of its format: a merge patch that is not an object or
    /// that names a field twice, a patch operation without a path.
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
        /// What serde said (for an object or merge patch, read as it is parsed, with the
        /// line and column in the input).
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
    #[inline]
    pub fn apply_json(
        &mut self,
        format: Format,
        input: &str,
        stamp: Timestamp,
        forbidden: Forbidden,
    ) -> Result<Applied<S>, InputError> {
        Applied::filled(|applied| self.apply_json_into(applied, format, input, stamp, forbidden))
    }

    /// [`apply_json`](Self::apply_json) into `applied`, empty before; on an error it may
    /// be left partly written.
    fn apply_json_into(
        &mut self,
        applied: &mut Applied<S>,
        format: Format,
        input: &str,
        stamp: Timestamp,
        forbidden: Forbidden,
    ) -> Result<(), InputError> {
        // The typed writes stay here, read and applied in place rather than moved from
        // step to step.
        let mut typed = S::JsonInput::default();
        match format {
            Format::Object | Format::MergePatch => {
                let whole_object = format == Format::Object;
                let mut check = Check::new(self, &mut typed, stamp, whole_object);
                read_members(&mut check, input)?;
                check.finish(forbidden, &mut applied.dropped)?;
                check.apply(applied)
            }
            Format::Patch => {
                let value: Value = serde_json::from_str(input)?;
                let document = self.to_json(None).map(|out| out.json).unwrap_or_default();
                let raw = canonical::patch_ops(&value, &document)?;
                // Every raw operation is checked, so that the transform, which drops moot
                // operations, cannot hide a forbidden path or a value of the wrong type.
                // Their typed writes are not kept: the canonical operations' are.
                let mut raw_typed = S::JsonInput::default();
                let mut raw_check = Check::new(self, &mut raw_typed, stamp, false);
                raw_check.ops(raw.iter().map(Cow::Borrowed))?;
                // The report names the raw operations' paths: an operation on a path input
                // may not write can be one the transform dropped as moot.
                raw_check.finish(forbidden, &mut applied.dropped)?;
                let canonical = canonicalize_with(raw, |path| S::combinable(path, 0))?;
                // The steps of `apply_ops`, written out again: shared through a function,
                // they made the merge patch above 5% slower (159 against 167 ns, in turn),
                // by the code laid out with it.
                let mut check = Check::new(self, &mut typed, stamp, false);
                check.ops(canonical.into_iter().map(Cow::Owned))?;
                check.finish(forbidden, &mut Vec::new())?;
                check.apply(applied)
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
        Applied::filled(|applied| {
            let mut typed = S::JsonInput::default();
            let mut check = Check::new(self, &mut typed, stamp, false);
            check.ops(ops.iter().map(Cow::Borrowed))?;
            check.finish(forbidden, &mut applied.dropped)?;
            check.apply(applied)
        })
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

/// The checks of one input, gathering what it will apply: every value typed, every path
/// checked, against the state as it is (checking writes nothing); then, if the input
/// passed, its application.
struct Check<'c, S: JsonDocument> {
    store: &'c mut S,
    cx: WriteCx<'c>,
    typed: &'c mut S::JsonInput,
    /// The operations on the fields that are not typed, in input order.
    ops: Vec<Op>,
    /// The fields an object or merge patch named, one bit per index: a name given twice
    /// is refused, and a whole object resets the writable fields it did not name.
    named: SmallVec<[u64; 2]>,
    whole_object: bool,
    /// Set once an operation on the whole document is seen: later writes to typed fields
    /// must apply after it, so they stay operations.
    in_order: bool,
    /// Why an object's member was refused, which stops its parse.
    refused: Option<InputError>,
}

impl<'c, S: JsonDocument> Check<'c, S> {
    /// A check of input to `document` that is a whole object, whose absent fields are
    /// reset, with `whole_object`; of a merge patch or operations otherwise.
    fn new(
        document: &'c mut CausalDotStore<S>,
        typed: &'c mut S::JsonInput,
        stamp: Timestamp,
        whole_object: bool,
    ) -> Self {
        Self {
            store: &mut document.store,
            cx: WriteCx::new(&mut document.context, stamp, false),
            typed,
            ops: Vec::new(),
            named: match S::JSON_FIELDS.len().div_ceil(64) {
                // Filled without a loop for up to 128 fields: nearly every document.
                ..=2 => SmallVec::from_buf([0; 2]),
                words => SmallVec::from_elem(0, words),
            },
            whole_object,
            in_order: false,
            refused: None,
        }
    }

    /// Checks operations in order, each with [`op`](Self::op).
    fn ops<'o>(&mut self, ops: impl IntoIterator<Item = Cow<'o, Op>>) -> Result<(), InputError> {
        ops.into_iter().try_for_each(|op| self.op(op))
    }

    /// Checks one operation; its value moves into the input if it is owned.
    fn op(&mut self, op: Cow<'_, Op>) -> Result<(), InputError> {
        let Some(name) = op.path.first() else {
            // The whole document: later writes to typed fields must apply after it.
            self.in_order = true;
            return self.check_op(op.into_owned());
        };
        let field = match find_field::<S>(name) {
            Some((field, info)) if info.writable => field,
            // Unknown or read-only, whatever the path goes on to.
            _ => {
                self.cx.forbid(&op.path);
                return Ok(());
            }
        };
        if !field.typed || self.in_order {
            return self.check_op(op.into_owned());
        }
        fields::no_members(&op.path, 1)?;
        let typed = &mut *self.typed;
        match op {
            Cow::Borrowed(op) => {
                let value = fields::written(&op.action).unwrap_or(&Value::Null);
                self.store
                    .json_type(typed, field.index, value)
                    .map_err(|error| error.at(op.pointer()))
            }
            Cow::Owned(Op { path, action }) => {
                let value = match action {
                    Action::Add(value) | Action::Modify(value) | Action::Merge(value) => value,
                    Action::Delete => Value::Null,
                };
                self.store
                    .json_type(typed, field.index, value)
                    .map_err(|error| error.at(canonical::pointer(&path)))
            }
        }
    }

    /// Checks a member of an object or merge patch: a field's name, and its value in
    /// `value`. A whole object's value replaces a nested struct or map rather than merging
    /// into it. A refusal is kept in `refused` and stops the parse with an error.
    #[inline]
    fn member<'de, D: Deserializer<'de>>(&mut self, name: &str, value: D) -> Result<(), D::Error> {
        let field = find_field::<S>(name);
        if let Some((field, _)) = field
            && let Some(word) = self.named.get_mut(field.index / 64)
        {
            let bit = 1 << (field.index % 64);
            if *word & bit != 0 {
                // JSON leaves repeated names to the reader; which one counts is not
                // worth guessing.
                return Err(self.refuse(InputError::Shape {
                    format: object_format(self.whole_object),
                    reason: format!("`{name}` is named twice"),
                }));
            }
            *word |= bit;
        }
        match field {
            Some((_, info)) if !info.writable => {}
            Some((field, _)) if field.typed => {
                return self
                    .store
                    .json_type(self.typed, field.index, value)
                    .map_err(|error| {
                        self.refused = Some(error.at(canonical::pointer(&[name.to_owned()])));
                        error.error
                    });
            }
            Some(_) => {
                let value = Value::deserialize(value)?;
                let action = match value {
                    Value::Null => Action::Delete,
                    value if self.whole_object => Action::Modify(value),
                    value => Action::Merge(value),
                };
                let op = Op {
                    path: vec![name.to_owned()],
                    action,
                };
                return self.check_op(op).map_err(|refusal| self.refuse(refusal));
            }
            None => {}
        }
        // Unknown or read-only: its value is skipped.
        IgnoredAny::deserialize(value)?;
        self.cx.forbid(&[name.to_owned()]);
        Ok(())
    }

    /// Keeps `refusal` as the reason the parse stops, and the error that stops it.
    fn refuse<E: serde::de::Error>(&mut self, refusal: InputError) -> E {
        self.refused = Some(refusal);
        E::custom("refused")
    }

    /// Checks an operation the typed fields do not take, and keeps it.
    fn check_op(&mut self, op: Op) -> Result<(), InputError> {
        let mut unchanged = CausalDotStore::new();
        self.store
            .json_write(&mut self.cx, &op.path, 0, &op.action, &mut unchanged)?;
        self.ops.push(op);
        Ok(())
    }

    /// After resetting the writable fields a whole object left out, the paths the input
    /// may not write, sorted, each once, into `dropped`; or, with [`Forbidden::Reject`],
    /// those paths as one error. Written in place: a result holding them is returned
    /// through memory and read back at once, which costs more than the check.
    #[inline]
    fn finish(
        &mut self,
        forbidden: Forbidden,
        dropped: &mut Vec<String>,
    ) -> Result<(), InputError> {
        if self.whole_object {
            let named = std::mem::take(&mut self.named);
            let absent = |(index, field): &(usize, &JsonFieldInfo)| {
                let named = named
                    .get(index / 64)
                    .is_some_and(|word| word & 1 << (index % 64) != 0);
                field.writable && !named
            };
            for (_, field) in S::JSON_FIELDS.iter().enumerate().filter(absent) {
                self.op(Cow::Owned(Op {
                    path: vec![field.name.to_owned()],
                    action: Action::Delete,
                }))?;
            }
        }
        *dropped = self.cx.take_dropped();
        if forbidden == Forbidden::Reject && !dropped.is_empty() {
            return Err(InputError::Forbidden {
                paths: std::mem::take(dropped),
            });
        }
        Ok(())
    }

    /// Applies the checked input into `applied`: its typed writes, then its operations,
    /// except those on the paths in `applied.dropped`, which [`finish`](Self::finish) has
    /// filled. Takes the check by reference: moved into a call, it is a copy of over a
    /// hundred bytes.
    fn apply(&mut self, applied: &mut Applied<S>) -> Result<(), InputError> {
        let delta = &mut applied.delta;
        let (context, stamp) = self.cx.document();
        let mut apply = ApplyCx::new(context, stamp);
        self.store
            .json_apply(self.typed, &mut apply, &mut delta.store);
        apply.finish_into(&mut delta.context);
        if self.ops.is_empty() {
            return Ok(());
        }
        let mut write = WriteCx::new(self.cx.document().0, stamp, true);
        for op in &self.ops {
            // An operation whose whole path input may not write is skipped, not applied
            // in part (inside a map entry, it would mark the entry present).
            if !applied.dropped.is_empty() && applied.dropped.binary_search(&op.pointer()).is_ok() {
                continue;
            }
            // Checked already, against the state before this input: these operations
            // touch no typed field, and `in_order` kept those after a write of the whole
            // document in their place, so each meets the state it was checked against.
            let written =
                self.store
                    .json_write(&mut write, &op.path, 0, &op.action, &mut applied.delta);
            debug_assert!(written.is_ok(), "a checked operation failed: {written:?}");
            written?;
        }
        Ok(())
    }
}

/// Reads the members of an object or merge patch in `input` into `check`, typing each
/// value as it is parsed.
fn read_members<S: JsonDocument>(check: &mut Check<'_, S>, input: &str) -> Result<(), InputError> {
    let mut deserializer = serde_json::Deserializer::from_str(input);
    let result = deserializer
        .deserialize_map(Members(check))
        .and_then(|()| deserializer.end());
    let Err(error) = result else {
        return Ok(());
    };
    // As when the input was parsed whole before anything was checked: input that is not
    // JSON is refused as such, wherever the first problem was.
    if let Err(syntax) = serde_json::from_str::<IgnoredAny>(input) {
        return Err(InputError::Syntax(syntax));
    }
    Err(check.refused.take().unwrap_or_else(|| {
        if error.is_data() {
            InputError::Shape {
                format: object_format(check.whole_object),
                reason: "expected an object of fields".to_owned(),
            }
        } else {
            InputError::Syntax(error)
        }
    }))
}

/// The name of an object input's format, for messages.
fn object_format(whole_object: bool) -> &'static str {
    if whole_object {
        "JSON object"
    } else {
        "JSON Merge Patch"
    }
}

/// The visitor of an object's members: each goes to [`Check::member`] as it is parsed.
struct Members<'a, 'c, S: JsonDocument>(&'a mut Check<'c, S>);

impl<'de, S: JsonDocument> Visitor<'de> for Members<'_, '_, S> {
    type Value = ();

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("an object of fields")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut members: A) -> Result<(), A::Error> {
        while let Some(Key(name)) = members.next_key()? {
            members.next_value_seed(Member {
                check: &mut *self.0,
                name: &name,
            })?;
        }
        Ok(())
    }
}

/// One member's value, read by [`Check::member`].
struct Member<'a, 'c, S: JsonDocument> {
    check: &'a mut Check<'c, S>,
    name: &'a str,
}

impl<'de, S: JsonDocument> DeserializeSeed<'de> for Member<'_, '_, S> {
    type Value = ();

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, value: D) -> Result<(), D::Error> {
        self.check.member(self.name, value)
    }
}

/// A member's name, borrowed from the input unless it has escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("a field name")
            }

            fn visit_borrowed_str<E>(self, name: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(name)))
            }

            fn visit_str<E>(self, name: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(name.to_owned())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}
