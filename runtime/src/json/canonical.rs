//! Operations on paths, the canonical transform of a batch of them, and JSON Patch
//! (RFC 6902) read into operations.

use serde_json::Value;

use super::InputError;

/// What an operation does to the value at its path.
#[derive(Clone, PartialEq, Debug)]
pub enum Action {
    /// Writes a value where there was none (JSON Patch `add`): replaces the whole value.
    Add(Value),
    /// Replaces the value (JSON Patch `replace`).
    Modify(Value),
    /// Merges an object into the value, member by member (JSON Merge Patch); other values
    /// replace it.
    Merge(Value),
    /// Resets the value: a register to null, a set or map to empty, a flag off, a counter
    /// to 0, a nested struct field by field.
    Delete,
}

/// An operation on one path: a field, or a member of a nested struct, set or map.
#[derive(Clone, PartialEq, Debug)]
pub struct Op {
    /// The path's segments, unescaped: `/place/name` is `["place", "name"]`.
    pub path: Vec<String>,
    /// What it does there.
    pub action: Action,
}

impl Op {
    /// The path as a JSON Pointer (RFC 6901), for messages.
    pub fn pointer(&self) -> String {
        pointer(&self.path)
    }
}

/// `segments` as a JSON Pointer.
pub(crate) fn pointer(segments: &[String]) -> String {
    segments
        .iter()
        .map(|segment| format!("/{}", segment.replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// The most operations one batch may hold: the transform compares each with those before
/// it.
pub const MAX_OPS: usize = 10_000;

/// The most bytes of values that `copy` and `move` may take, all together, in one patch.
const MAX_COPIED: usize = 1 << 20;

/// The smallest batch equivalent to `ops`, per path: delete then add is a modify, add then
/// modify a modify, modify then delete a delete, repeated deletes one delete, repeated
/// modifies the last; a modify after a delete of the same path is an error. An operation
/// that replaces or deletes a value also makes earlier operations inside it moot, and an
/// operation is merged only with the last one that touched an overlapping path, so the
/// batch keeps its meaning when paths nest.
///
/// ```
/// use crdtype::json::{Action, Op, canonicalize};
/// use serde_json::json;
///
/// let op = |path: &str, action| Op { path: vec![path.to_owned()], action };
/// let batch = vec![
///     op("title", Action::Delete),
///     op("title", Action::Add(json!("Retro"))),
///     op("title", Action::Modify(json!("Review"))),
/// ];
/// assert_eq!(canonicalize(batch)?, [op("title", Action::Modify(json!("Review")))]);
/// # Ok::<(), crdtype::json::InputError>(())
/// ```
pub fn canonicalize(ops: Vec<Op>) -> Result<Vec<Op>, InputError> {
    canonicalize_with(ops, |_| true)
}

/// [`canonicalize`], combining operations only on paths where `combinable` says that
/// combining keeps their meaning: not inside a two-phase set, where a removal followed by
/// an addition leaves the element removed.
pub(crate) fn canonicalize_with(
    ops: Vec<Op>,
    combinable: impl Fn(&[String]) -> bool,
) -> Result<Vec<Op>, InputError> {
    if ops.len() > MAX_OPS {
        return Err(InputError::Shape {
            format: "batch of operations",
            reason: format!("{} operations, more than {MAX_OPS}", ops.len()),
        });
    }
    let mut batch: Vec<Op> = Vec::with_capacity(ops.len());
    for op in ops {
        if !combinable(&op.path) {
            batch.push(op);
            continue;
        }
        if !matches!(op.action, Action::Merge(_)) {
            // Whatever `op` replaces or deletes, earlier operations inside it are moot.
            batch.retain(|earlier| !is_inside(&earlier.path, &op.path));
        }
        let last_overlapping = batch
            .iter_mut()
            .rev()
            .find(|earlier| is_inside(&op.path, &earlier.path) || earlier.path == op.path);
        match last_overlapping {
            Some(earlier) if earlier.path == op.path => {
                earlier.action = combine(&earlier.action, op.action, &op.path)?;
            }
            _ => batch.push(op),
        }
    }
    Ok(batch)
}

/// Whether `path` is strictly inside `outer`.
fn is_inside(path: &[String], outer: &[String]) -> bool {
    path.len() > outer.len() && path.starts_with(outer)
}

/// One action for `first` followed by `then` on the same path.
fn combine(first: &Action, then: Action, path: &[String]) -> Result<Action, InputError> {
    Ok(match (first, then) {
        (Action::Delete, Action::Add(value)) => Action::Modify(value),
        (Action::Delete, Action::Modify(_) | Action::Merge(_)) => {
            return Err(InputError::ModifiedAfterDelete {
                path: pointer(path),
            });
        }
        (_, Action::Delete) => Action::Delete,
        (Action::Add(_) | Action::Modify(_), Action::Add(value) | Action::Modify(value)) => {
            Action::Modify(value)
        }
        (Action::Merge(_), Action::Add(value) | Action::Modify(value)) => Action::Modify(value),
        // Merges do not come from JSON Patch; kept in order, the later one applies last.
        (_, merge @ Action::Merge(_)) => merge,
    })
}

/// The operations of a JSON Patch, against `document`, the state as JSON, for `test`,
/// `move` and `copy`, which read values; each operation is also applied to that copy so
/// that later ones read what earlier ones wrote.
pub(crate) fn patch_ops(patch: &Value, document: &Value) -> Result<Vec<Op>, InputError> {
    let shape = |reason: String| InputError::Shape {
        format: "JSON Patch",
        reason,
    };
    let Value::Array(operations) = patch else {
        return Err(shape("expected an array of operations".to_owned()));
    };
    if operations.len() > MAX_OPS {
        return Err(shape(format!(
            "{} operations, more than {MAX_OPS}",
            operations.len()
        )));
    }
    let mut document = document.clone();
    let mut ops = Vec::with_capacity(operations.len());
    let mut copied = 0usize;
    for (index, operation) in operations.iter().enumerate() {
        let member = |name: &str| operation.get(name);
        let text = |name: &str| {
            member(name)
                .and_then(Value::as_str)
                .ok_or_else(|| shape(format!("operation {index} has no `{name}` string")))
        };
        let mut path = segments(text("path")?).map_err(shape)?;
        // `/tags/-` with a value is the element's own path, `/tags/<value>`, so that two
        // appends are two paths and an append and a removal of one element are one.
        if let (Some("-"), Some(value)) = (path.last().map(String::as_str), member("value")) {
            path.pop();
            path.push(match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            });
        }
        let value = || {
            member("value")
                .cloned()
                .ok_or_else(|| shape(format!("operation {index} has no `value`")))
        };
        let mut from = || -> Result<(Vec<String>, Value), InputError> {
            let from = segments(text("from")?).map_err(shape)?;
            let found = lookup(&document, &from).ok_or_else(|| InputError::Patch {
                path: pointer(&from),
                reason: "no value to take".to_owned(),
            })?;
            // Each copy may double what the next one copies: bounded, they stay cheap.
            copied = copied.saturating_add(found.to_string().len());
            if copied > MAX_COPIED {
                return Err(InputError::Patch {
                    path: pointer(&from),
                    reason: format!("copies and moves take more than {MAX_COPIED} bytes"),
                });
            }
            Ok((from, found.clone()))
        };
        match text("op")? {
            "add" => ops.push(Op {
                path,
                action: Action::Add(value()?),
            }),
            "replace" => ops.push(Op {
                path,
                action: Action::Modify(value()?),
            }),
            "remove" => ops.push(Op {
                path,
                action: Action::Delete,
            }),
            "move" => {
                let (from, found) = from()?;
                ops.push(Op {
                    path: from,
                    action: Action::Delete,
                });
                ops.push(Op {
                    path,
                    action: Action::Add(found),
                });
            }
            "copy" => {
                let (_, found) = from()?;
                ops.push(Op {
                    path,
                    action: Action::Add(found),
                });
            }
            "test" => {
                let expected = value()?;
                if lookup(&document, &path) != Some(&expected) {
                    return Err(InputError::Patch {
                        path: pointer(&path),
                        reason: format!("test failed: expected {expected}"),
                    });
                }
            }
            other => return Err(shape(format!("operation {index}: unknown op `{other}`"))),
        }
        for op in &ops[ops.len().saturating_sub(2)..] {
            simulate(&mut document, op);
        }
    }
    Ok(ops)
}

/// The segments of a JSON Pointer; the root (`""`) is refused: input writes fields.
fn segments(pointer: &str) -> Result<Vec<String>, String> {
    match pointer.strip_prefix('/') {
        Some(rest) => Ok(rest
            .split('/')
            .map(|segment| segment.replace("~1", "/").replace("~0", "~"))
            .collect()),
        None => Err(format!(
            "path {pointer:?} does not name a field: write `/field`"
        )),
    }
}

fn lookup<'v>(document: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter()
        .try_fold(document, |value, segment| match value {
            Value::Object(members) => members.get(segment),
            Value::Array(items) => items.iter().find(|item| match item {
                Value::String(text) => text == segment,
                other => other.to_string() == *segment,
            }),
            _ => None,
        })
}

/// Applies `op` to the JSON copy of the document, as far as objects go: enough for later
/// `test`, `move` and `copy` operations to read what it wrote.
fn simulate(document: &mut Value, op: &Op) {
    let Some((last, parents)) = op.path.split_last() else {
        return;
    };
    let parent = parents
        .iter()
        .try_fold(document, |value, segment| value.get_mut(segment));
    if let Some(Value::Object(members)) = parent {
        match &op.action {
            Action::Delete => {
                members.remove(last);
            }
            Action::Add(value) | Action::Modify(value) | Action::Merge(value) => {
                members.insert(last.clone(), value.clone());
            }
        }
    }
}
