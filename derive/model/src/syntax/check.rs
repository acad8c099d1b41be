//! Rules that look at more than one attribute or field, one `fn check_*` each. Every rule
//! reports all its findings; none stops the others.

use std::collections::BTreeMap;

use darling::error::Accumulator;
use proc_macro2::Span;

use super::model::{DefaultValue, FieldModel, Model, store_path, type_arguments, type_string};
use crate::Kind;

pub(crate) fn all(model: &Model<'_>, errors: &mut Accumulator) {
    check_version(model, errors);
    check_since(model, errors);
    check_skip(model, errors);
    check_ids(model, errors);
    check_reserved(model, errors);
    check_kind_fits_type(model, errors);
    check_renames(model, errors);
}

fn error(span: Span, message: String) -> darling::Error {
    darling::Error::custom(message).with_span(&span)
}

/// Versions count from 1, so that `since = 1` means "from the start".
fn check_version(model: &Model<'_>, errors: &mut Accumulator) {
    if model.version == 0 {
        errors.push(error(
            model.version_span,
            "schema versions start at 1: write `version = 1`".to_owned(),
        ));
    }
}

/// A field added by a later version must exist in the schema by then, and needs a default,
/// because replicas on older versions never write it.
fn check_since(model: &Model<'_>, errors: &mut Accumulator) {
    for field in &model.fields {
        let span = field.span_of(field.spans.since);
        if field.since == 0 {
            errors.push(error(
                span,
                "versions start at 1: write `since = 1`, or leave `since` out for a field \
                 present from the start"
                    .to_owned(),
            ));
        } else if model.version > 0 && field.since > model.version {
            errors.push(error(
                span,
                format!(
                    "`since = {}` is greater than the schema version {}: raise \
                     `#[crdt(version = {})]` on the struct, or lower `since`",
                    field.since, model.version, field.since
                ),
            ));
        }
        if field.since > 1 && matches!(field.default, DefaultValue::Unspecified) {
            errors.push(error(
                span,
                format!(
                    "`since = {}` needs a default, since replicas on older versions never \
                     write `{}`: add `default` or `default = \"path::to::function\"`",
                    field.since, field.ident
                ),
            ));
        }
    }
}

/// A skipped field is local only: it reads as its default and has no wire identity.
fn check_skip(model: &Model<'_>, errors: &mut Accumulator) {
    for field in model.fields.iter().filter(|field| field.kind.is_none()) {
        let skip = field.span_of(field.spans.skip);
        if matches!(field.default, DefaultValue::Unspecified) {
            errors.push(error(
                skip,
                format!(
                    "`skip` needs a default: `{}` is never replicated, so it reads as its \
                     default; write `skip, default` or `skip, default = \"path::to::function\"`",
                    field.ident
                ),
            ));
        }
        for (attribute, span) in [
            ("id", field.spans.id),
            ("since", field.spans.since),
            ("renamed_from", field.spans.renamed_from),
        ] {
            if let Some(span) = span {
                errors.push(error(
                    span,
                    format!(
                        "`skip` cannot be used together with `{attribute}`: a skipped field \
                         is not part of the schema; remove `{attribute}`"
                    ),
                ));
            }
        }
    }
}

/// Wire ids identify fields across versions, so two fields can never share one.
fn check_ids(model: &Model<'_>, errors: &mut Accumulator) {
    let mut seen: BTreeMap<u32, &FieldModel<'_>> = BTreeMap::new();
    for (field, _) in model.replicated() {
        if let Some(first) = seen.get(&field.id) {
            errors.push(error(
                field.span_of(field.spans.id),
                format!(
                    "duplicate field id {}: `{}` already has it; give `{}` an unused id, such \
                     as `id = {}`",
                    field.id,
                    first.ident,
                    field.ident,
                    unused_id(model)
                ),
            ));
        } else {
            seen.insert(field.id, field);
        }
    }
}

/// Ids of removed fields stay retired: old replicas would read a new field's data as the
/// removed one's.
fn check_reserved(model: &Model<'_>, errors: &mut Accumulator) {
    let mut listed = Vec::new();
    for &(id, span) in &model.reserved_spans {
        if listed.contains(&id) {
            errors.push(error(
                span,
                format!("id {id} is listed twice in `reserved`: remove one"),
            ));
        }
        listed.push(id);
    }
    for (field, _) in model.replicated() {
        if model.reserved.contains(&field.id) {
            errors.push(error(
                field.span_of(field.spans.id),
                format!(
                    "id {} of `{}` is reserved: it belonged to a removed field, and old \
                     replicas would read this field as that one; give `{}` an unused id, \
                     such as `id = {}`",
                    field.id,
                    field.ident,
                    field.ident,
                    unused_id(model)
                ),
            ));
        }
    }
}

const INTEGER_TYPES: [&str; 10] = [
    "i8", "i16", "i32", "i64", "isize", "u8", "u16", "u32", "u64", "usize",
];

/// Each kind needs a field type it can represent: a counter an integer, a set a `BTreeSet`,
/// and so on. (Whether a `nested` type derives `Crdt` is left to the compiler, which knows.)
fn check_kind_fits_type(model: &Model<'_>, errors: &mut Accumulator) {
    for (field, kind) in model.replicated() {
        let ty = &field.field.ty;
        let last_ident = match ty {
            syn::Type::Path(path) => path.path.segments.last().map(|last| last.ident.to_string()),
            _ => None,
        };
        let is = |name: &str| last_ident.as_deref() == Some(name);
        let arguments = |name: &str, count: usize| {
            type_arguments(ty, name).is_some_and(|arguments| arguments.len() == count)
        };
        let needs = match kind {
            Kind::Counter if !INTEGER_TYPES.iter().any(|name| is(name)) => {
                "an integer type (`i64`, `i32`, `u32`, ...)"
            }
            Kind::Flag if !is("bool") => "`bool`",
            Kind::Set | Kind::TwoPhaseSet if !arguments("BTreeSet", 1) => "`BTreeSet<T>`",
            Kind::Map
                if !type_arguments(ty, "BTreeMap").is_some_and(|arguments| {
                    arguments.len() == 2 && store_path(arguments[1]).is_some()
                }) =>
            {
                "`BTreeMap<K, V>` where `V` is a struct that derives `Crdt`"
            }
            Kind::Nested if store_path(ty).is_none() => {
                "a struct that derives `Crdt`, named by its path (`Place`, `geo::Place`)"
            }
            _ => continue,
        };
        errors.push(error(
            field.span_of(field.spans.kind),
            format!(
                "`{}` needs a field of {needs}, but `{}` is `{}`: change the type, or use \
                 `lww` to replicate the whole value as a register",
                kind.attribute(),
                field.ident,
                type_string(ty)
            ),
        ));
    }
}

/// A previous name must be a name no current field has, and not the field's own.
fn check_renames(model: &Model<'_>, errors: &mut Accumulator) {
    for field in &model.fields {
        let Some(old) = &field.renamed_from else {
            continue;
        };
        let span = field.span_of(field.spans.renamed_from);
        if field.ident == old {
            errors.push(error(
                span,
                format!(
                    "`renamed_from = \"{old}\"` names the field itself: write the field's \
                     previous name, or remove `renamed_from`"
                ),
            ));
        } else if model.fields.iter().any(|other| other.ident == old) {
            errors.push(error(
                span,
                format!(
                    "`renamed_from = \"{old}\"` names another current field: two fields \
                     cannot share a name across versions; remove `renamed_from` or rename \
                     `{old}`"
                ),
            ));
        }
    }
}

/// The smallest id that no field uses and `reserved` does not list, for hints.
fn unused_id(model: &Model<'_>) -> u32 {
    (0..)
        .find(|id| {
            !model.reserved.contains(id) && !model.fields.iter().any(|field| field.id == *id)
        })
        .unwrap_or(u32::MAX)
}
