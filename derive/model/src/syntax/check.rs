//! Rules that look at more than one attribute or field, one `fn check_*` each. Every rule
//! reports all its findings; none stops the others.

use std::collections::BTreeMap;

use darling::error::Accumulator;
use proc_macro2::Span;

use super::model::{DefaultValue, FieldModel, Model, store_path, type_arguments, type_string};
use crate::{Kind, MAX_FIELD_ID};

pub(crate) fn all(model: &Model<'_>, errors: &mut Accumulator) {
    check_version(model, errors);
    check_since(model, errors);
    check_skip(model, errors);
    check_ids(model, errors);
    check_id_range(model, errors);
    check_reserved(model, errors);
    check_kind_fits_type(model, errors);
    check_renames(model, errors);
    check_defaults(model, errors);
    check_method_names(model, errors);
    check_was(model, errors);
    check_filters(model, errors);
}

/// The methods `#[derive(Crdt)]` generates for a field of each kind besides its reader
/// (named after the field), as templates in which `{}` stands for the field's name:
/// `set_{}` gives `set_title`. The code generator names its methods from this list, so
/// that the collision check below sees what it generates.
pub fn method_templates(kind: Kind) -> &'static [&'static str] {
    match kind {
        // `set_{}_into`: the write within a batch that shares one delta.
        Kind::Lww => &["set_{}", "delete_{}", "set_{}_into"],
        Kind::Mv => &["set_{}", "delete_{}"],
        Kind::Counter => &["increment_{}", "decrement_{}"],
        Kind::Set | Kind::TwoPhaseSet => &["insert_into_{}", "remove_from_{}"],
        Kind::Flag => &["enable_{}", "disable_{}"],
        Kind::Nested => &["update_{}"],
        Kind::Map => &["update_{}", "remove_from_{}"],
    }
}

/// The field of every generated store that keeps the fields of newer schema versions.
pub const UNKNOWN_FIELDS: &str = "unknown_fields";

/// The methods generated on every store, whatever its fields.
pub const STORE_METHODS: [&str; 3] = ["to_value", "from_value", "edit"];

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
                    field.since, field.name
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
                    field.name
                ),
            ));
        }
        for (attribute, span) in [
            ("id", field.spans.id),
            ("since", field.spans.since),
            ("renamed_from", field.spans.renamed_from),
            ("was", field.was.as_ref().map(|was| was.span)),
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
                    first.name,
                    field.name,
                    unused_id(model)
                ),
            ));
        } else {
            seen.insert(field.id, field);
        }
    }
}

/// Ids beyond what a FlatBuffers vtable can address cannot go on the wire.
fn check_id_range(model: &Model<'_>, errors: &mut Accumulator) {
    for (field, _) in model.replicated() {
        if field.id > u32::from(MAX_FIELD_ID) {
            errors.push(error(
                field.span_of(field.spans.id),
                format!(
                    "id {} of `{}` is too large: field ids go up to {MAX_FIELD_ID}, the \
                     largest the wire format carries; choose a smaller id, such as `id = {}`",
                    field.id,
                    field.name,
                    unused_id(model)
                ),
            ));
        }
    }
    for &(id, span) in &model.reserved_spans {
        if id > u32::from(MAX_FIELD_ID) {
            errors.push(error(
                span,
                format!(
                    "reserved id {id} is too large: field ids go up to {MAX_FIELD_ID}, so no \
                     field can have had it; remove it from `reserved`"
                ),
            ));
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
                    field.name,
                    field.name,
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
                field.name,
                type_string(ty)
            ),
        ));
    }
}

/// A previous name must be a name no current field has, nor another field's previous
/// name, and not the field's own.
fn check_renames(model: &Model<'_>, errors: &mut Accumulator) {
    let mut previous: BTreeMap<&str, &str> = BTreeMap::new();
    for field in &model.fields {
        let Some(old) = &field.renamed_from else {
            continue;
        };
        let span = field.span_of(field.spans.renamed_from);
        if field.name == *old {
            errors.push(error(
                span,
                format!(
                    "`renamed_from = \"{old}\"` names the field itself: write the field's \
                     previous name, or remove `renamed_from`"
                ),
            ));
        } else if model.fields.iter().any(|other| other.name == *old) {
            errors.push(error(
                span,
                format!(
                    "`renamed_from = \"{old}\"` names another current field: two fields \
                     cannot share a name across versions; remove `renamed_from` or rename \
                     `{old}`"
                ),
            ));
        } else if let Some(first) = previous.get(old.as_str()) {
            errors.push(error(
                span,
                format!(
                    "`renamed_from = \"{old}\"` is already the previous name of `{first}`: a \
                     field has one previous name; remove one of them"
                ),
            ));
        } else {
            previous.insert(old, &field.name);
        }
    }
}

/// `default = "path"` names the value of a null register; the other kinds are never null
/// (a counter reads as 0, a set as empty, a flag as off, a nested struct or map field by
/// field), so a function there would be silently ignored.
fn check_defaults(model: &Model<'_>, errors: &mut Accumulator) {
    for (field, kind) in model.replicated() {
        if matches!(kind, Kind::Lww | Kind::Mv) {
            continue;
        }
        if let DefaultValue::Function(_) = field.default {
            errors.push(error(
                field.span_of(field.spans.default),
                format!(
                    "`default = \"...\"` applies to `lww` and `mv` fields, which can be null; \
                     a `{}` field is never null, so write `default` alone",
                    kind.attribute()
                ),
            ));
        }
    }
}

/// Every generated method needs a name of its own: a field named `edit`, or `set_title`
/// next to `title`, would collide with one.
fn check_method_names(model: &Model<'_>, errors: &mut Accumulator) {
    for (field, _) in model.replicated() {
        if field.name == UNKNOWN_FIELDS {
            errors.push(error(
                field.ident.span(),
                format!(
                    "`{UNKNOWN_FIELDS}` is the generated store's own field, which keeps the \
                     fields of newer schema versions: rename this field (its id stays; add \
                     `renamed_from = \"{UNKNOWN_FIELDS}\"` if this schema has shipped)"
                ),
            ));
        }
    }
    let mut taken: BTreeMap<String, String> = STORE_METHODS
        .iter()
        .map(|&method| (method.to_owned(), "every store".to_owned()))
        .collect();
    for (field, kind) in model.replicated() {
        let methods = std::iter::once(field.name.clone()).chain(
            method_templates(kind)
                .iter()
                .map(|template| template.replace("{}", &field.name)),
        );
        for method in methods {
            if let Some(owner) = taken.get(&method) {
                let other = if owner == "every store" {
                    "the store's own method".to_owned()
                } else {
                    format!("the one generated for `{owner}`")
                };
                errors.push(error(
                    field.ident.span(),
                    format!(
                        "the method `{method}` generated for `{}` collides with {other}: rename \
                         `{}` (its id stays; add `renamed_from = \"{}\"` if this schema has \
                         shipped)",
                        field.name, field.name, field.name
                    ),
                ));
            } else {
                taken.insert(method, field.name.clone());
            }
        }
    }
}

/// The smallest id that no replicated field uses (now or, with a `was`, before its type
/// changed) and `reserved` does not list, for hints.
fn unused_id(model: &Model<'_>) -> u32 {
    (0..)
        .find(|id| {
            !model.reserved.contains(id)
                && !model.replicated().any(|(field, _)| {
                    field.id == *id || field.was.as_ref().is_some_and(|was| was.id == *id)
                })
        })
        .unwrap_or(u32::MAX)
}

/// A type change (`was`) converts register values, and keeps the old id for older
/// replicas: the old id must be the field's own, before, and no other field's.
fn check_was(model: &Model<'_>, errors: &mut Accumulator) {
    for (field, kind) in model.replicated() {
        let Some(was) = &field.was else { continue };
        if kind != Kind::Lww {
            errors.push(error(
                was.span,
                format!(
                    "`was` converts the values of a last-writer-wins register, and `{}` is a \
                     `{}` field: change its type only as an `lww` field, or add a new field \
                     and reserve the old one's id",
                    field.name,
                    kind.attribute()
                ),
            ));
        }
        let problem = if was.id == field.id {
            Some(format!(
                "`was(id = {})` is `{}`'s own id: a field whose type changed needs a new id, \
                 so that older replicas keep reading their type under the old one; give the \
                 field a new id, such as `id = {}`",
                was.id,
                field.name,
                unused_id(model)
            ))
        } else if let Some((other, _)) = model.replicated().find(|(other, _)| {
            other.id == was.id
                || (other.ident != field.ident
                    && other.was.as_ref().is_some_and(|other| other.id == was.id))
        }) {
            Some(format!(
                "`was(id = {})` is taken: `{}` uses that id; a field's old id must be its own \
                 and no other field's",
                was.id, other.name
            ))
        } else if model.reserved.contains(&was.id) {
            Some(format!(
                "`was(id = {})` is listed in `reserved`, but this field still writes its old \
                 values there for older replicas: remove it from `reserved`",
                was.id
            ))
        } else if was.id > u32::from(MAX_FIELD_ID) {
            Some(format!(
                "`was(id = {})` is too large: field ids go up to {MAX_FIELD_ID}",
                was.id
            ))
        } else {
            None
        };
        if let Some(message) = problem {
            errors.push(error(was.id_span, message));
        }
    }
}

/// Views are declared on the struct and named on the fields they show; `read_only` and
/// views are about input and output, which a `skip` field never takes part in.
fn check_filters(model: &Model<'_>, errors: &mut Accumulator) {
    let declared = || {
        model
            .views
            .iter()
            .map(|(name, _)| format!("`{name}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (index, (name, span)) in model.views.iter().enumerate() {
        if model.views[..index]
            .iter()
            .any(|(earlier, _)| earlier == name)
        {
            errors.push(error(
                *span,
                format!("view `{name}` is declared twice: remove one"),
            ));
        } else if !model
            .fields
            .iter()
            .any(|field| field.kind.is_some() && field.views.iter().any(|(view, _)| view == name))
        {
            errors.push(error(
                *span,
                format!(
                    "view `{name}` shows no field: add `#[crdt(view({name}))]` to the fields \
                     it shows, or remove it from `views`"
                ),
            ));
        }
    }
    for field in &model.fields {
        if field.kind.is_none() {
            let what = field
                .spans
                .read_only
                .map(|span| (span, "read_only"))
                .or_else(|| field.views.first().map(|(_, span)| (*span, "view")));
            if let Some((span, attribute)) = what {
                errors.push(error(
                    span,
                    format!(
                        "`{attribute}` on a `skip` field: a skipped field is local only, never \
                         read from input nor shown in output; remove `{attribute}` or `skip`"
                    ),
                ));
            }
            continue;
        }
        for (view, span) in &field.views {
            if !model.views.iter().any(|(declared, _)| declared == view) {
                let hint = if model.views.is_empty() {
                    format!("declare it on the struct with `#[crdt(views({view}))]`")
                } else {
                    format!(
                        "the struct declares {}; add `{view}` to its `views(...)` or use one \
                         of those",
                        declared()
                    )
                };
                errors.push(error(*span, format!("unknown view `{view}`: {hint}")));
            }
        }
    }
}
