//! The validated model of one `#[derive(Crdt)]` struct, keeping references to the user's
//! syntax so that code generation and errors can use its spans.

use darling::FromAttributes;
use darling::util::{Override, SpannedValue};
use proc_macro2::Span;
use quote::ToTokens;
use syn::spanned::Spanned;

use super::attr::{FieldAttrs, StructAttrs};
use super::check;
use crate::{FieldDefault, FieldSchema, Kind, PreviousType, Schema};

/// A struct that derives `Crdt`, read and checked.
pub struct Model<'a> {
    /// The struct as the user wrote it.
    pub input: &'a syn::DeriveInput,
    /// Stable schema name.
    pub name: String,
    /// Current schema version.
    pub version: u32,
    /// Ids of removed fields, sorted.
    pub reserved: Vec<u32>,
    /// Every named field in declaration order, `skip` fields included.
    pub fields: Vec<FieldModel<'a>>,
    /// The views the struct declares (`views(...)`), with the span of each name.
    pub views: Vec<(String, Span)>,
    pub(crate) version_span: Span,
    pub(crate) reserved_spans: Vec<(u32, Span)>,
}

/// One field of a [`Model`].
pub struct FieldModel<'a> {
    /// The field as the user wrote it.
    pub field: &'a syn::Field,
    /// The field's name as written.
    pub ident: &'a syn::Ident,
    /// The field's name without `r#`: its name in the schema.
    pub name: String,
    /// Which CRDT the field becomes; `None` for a `skip` field (local only).
    pub kind: Option<Kind>,
    /// Stable wire id: `id = N`, or the field's position in declaration order.
    pub id: u32,
    /// The version that added the field.
    pub since: u32,
    /// What a null or absent field reads as.
    pub default: DefaultValue,
    /// The field's previous name.
    pub renamed_from: Option<String>,
    /// The field's id and type before its type changed, with the conversions.
    pub was: Option<Was>,
    /// Whether external input may not write the field (`read_only`).
    pub read_only: bool,
    /// The views that show the field (`view(...)`), with the span of each name.
    pub views: Vec<(String, Span)>,
    /// Spans of the attributes that set each property, or of the field when it was not
    /// written.
    pub(crate) spans: FieldSpans,
}

/// `#[crdt(was(...))]`: a field's id and type before its type changed, and the functions
/// that convert between the two types.
pub struct Was {
    /// The id the field had with its previous type: its old values are written there.
    pub id: u32,
    /// The previous type.
    pub ty: syn::Type,
    /// `fn(Previous) -> Current`.
    pub upgrade: syn::Path,
    /// `fn(Current) -> Previous`, if values can go back.
    pub downgrade: Option<syn::Path>,
    /// Span of the `was(...)` attribute.
    pub span: Span,
    pub(crate) id_span: Span,
}

/// What a null or absent field reads as.
#[derive(Clone)]
pub enum DefaultValue {
    /// No `default` attribute: `Default::default()`, not declared in the schema.
    Unspecified,
    /// `#[crdt(default)]`.
    DefaultTrait,
    /// `#[crdt(default = "path::to::fn")]`.
    Function(syn::Path),
}

#[derive(Clone, Copy)]
pub(crate) struct FieldSpans {
    pub(crate) default: Option<Span>,
    pub(crate) id: Option<Span>,
    pub(crate) since: Option<Span>,
    pub(crate) renamed_from: Option<Span>,
    pub(crate) kind: Option<Span>,
    pub(crate) skip: Option<Span>,
    pub(crate) read_only: Option<Span>,
}

impl<'a> Model<'a> {
    /// Reads and checks the struct, reporting every mistake at once.
    pub fn from_syntax(input: &'a syn::DeriveInput) -> darling::Result<Self> {
        let named = named_fields(input)?;
        let mut errors = darling::Error::accumulator();
        if let Some(param) = input.generics.params.first() {
            errors.push(
                darling::Error::custom(
                    "`#[derive(Crdt)]` does not support generic structs: a schema needs \
                     concrete field types; write a struct for each instantiation",
                )
                .with_span(param),
            );
        }
        let attrs = errors
            .handle(
                StructAttrs::from_attributes(&input.attrs)
                    .map_err(|error| restate(error, STRUCT_ATTRIBUTES)),
            )
            .unwrap_or_default();
        let version = attrs.version.as_ref().map_or(1, |version| **version);
        let version_span = attrs
            .version
            .as_ref()
            .map_or(input.ident.span(), |version| version.span());
        let reserved_spans = attrs.reserved.map(|ids| ids.0).unwrap_or_default();
        let mut reserved: Vec<u32> = reserved_spans.iter().map(|&(id, _)| id).collect();
        reserved.sort_unstable();
        reserved.dedup();
        let fields = named
            .iter()
            .enumerate()
            .filter_map(|(position, field)| {
                let attrs = errors.handle(
                    FieldAttrs::from_attributes(&field.attrs)
                        .map_err(|error| restate(error, FIELD_ATTRIBUTES)),
                )?;
                errors.handle(FieldModel::new(field, position, attrs))
            })
            .collect();
        let model = Model {
            input,
            name: attrs
                .name
                .map_or_else(|| input.ident.to_string(), |name| name.as_str().to_owned()),
            version,
            reserved,
            fields,
            views: attrs.views.map(|names| names.0).unwrap_or_default(),
            version_span,
            reserved_spans,
        };
        check::all(&model, &mut errors);
        errors.finish_with(model)
    }

    /// The replicated (not `skip`) fields with their kinds.
    pub fn replicated(&self) -> impl Iterator<Item = (&FieldModel<'a>, Kind)> + '_ {
        self.fields
            .iter()
            .filter_map(|field| Some((field, field.kind?)))
    }

    /// The schema descriptor of this struct.
    pub fn schema(&self) -> Schema {
        Schema {
            name: self.name.clone(),
            version: self.version,
            fields: self
                .replicated()
                .map(|(field, kind)| FieldSchema {
                    name: field.name.clone(),
                    id: field.id,
                    rust_type: type_string(&field.field.ty),
                    kind,
                    since: field.since,
                    default: match &field.default {
                        DefaultValue::Unspecified => FieldDefault::Unspecified,
                        DefaultValue::DefaultTrait => FieldDefault::DefaultTrait,
                        DefaultValue::Function(path) => FieldDefault::Function(path_string(path)),
                    },
                    renamed_from: field.renamed_from.clone(),
                    was: field.was.as_ref().map(|was| PreviousType {
                        id: was.id,
                        rust_type: type_string(&was.ty),
                        upgrade: path_string(&was.upgrade),
                        downgrade: was.downgrade.as_ref().map(path_string),
                    }),
                    read_only: field.read_only,
                    views: field.views.iter().map(|(view, _)| view.clone()).collect(),
                })
                .collect(),
            reserved: self.reserved.clone(),
            views: self.views.iter().map(|(view, _)| view.clone()).collect(),
        }
    }
}

impl Was {
    fn new(attrs: &super::attr::WasAttrs, span: Span) -> darling::Result<Self> {
        const SHAPE: &str = "write `was(id = 4, type = \"String\", upgrade = \"path::to::fn\")`, \
                             with the field's old id and type and the function from the old \
                             type to the new, and optionally `downgrade = \"path::to::fn\"` for \
                             the way back";
        let missing = |part: &str| {
            darling::Error::custom(format!("`was` is missing its `{part}`: {SHAPE}"))
                .with_span(&span)
        };
        let mut errors = darling::Error::accumulator();
        let id = attrs.id.as_ref().ok_or_else(|| missing("id"));
        let ty = attrs
            .ty
            .as_ref()
            .ok_or_else(|| missing("type"))
            .and_then(|ty| {
                ty.parse::<syn::Type>().map_err(|_| {
                    darling::Error::custom(format!(
                        "`type = {:?}` is not a type: {SHAPE}",
                        ty.value()
                    ))
                    .with_span(ty)
                })
            });
        let upgrade = attrs
            .upgrade
            .as_ref()
            .ok_or_else(|| missing("upgrade"))
            .and_then(function_path);
        let downgrade = attrs.downgrade.as_ref().map(function_path).transpose();
        let (id, ty, upgrade, downgrade) = (
            errors.handle(id),
            errors.handle(ty),
            errors.handle(upgrade),
            errors.handle(downgrade),
        );
        errors.finish()?;
        match (id, ty, upgrade, downgrade) {
            (Some(id), Some(ty), Some(upgrade), Some(downgrade)) => Ok(Self {
                id: **id,
                ty,
                upgrade,
                downgrade,
                span,
                id_span: id.span(),
            }),
            _ => Err(missing("parts")),
        }
    }
}

/// A path as the user wrote it: `defaults::location`.
fn path_string(path: &syn::Path) -> String {
    path.to_token_stream().to_string().replace(' ', "")
}

/// A function path written as a string literal, spanned at the literal so that rustc's
/// errors about the function (missing, wrong signature) point there.
fn function_path(literal: &syn::LitStr) -> darling::Result<syn::Path> {
    literal.parse::<syn::Path>().map_err(|_| {
        darling::Error::custom(format!(
            "{:?} is not a path to a function: write \"path::to::function\"",
            literal.value()
        ))
        .with_span(literal)
    })
}

impl<'a> FieldModel<'a> {
    fn new(field: &'a syn::Field, position: usize, attrs: FieldAttrs) -> darling::Result<Self> {
        let ident = field
            .ident
            .as_ref()
            .ok_or_else(|| darling::Error::custom("expected a named field").with_span(field))?;
        let mut errors = darling::Error::accumulator();
        let chosen: Vec<(Kind, Span)> = [
            (Kind::Lww, &attrs.lww),
            (Kind::Mv, &attrs.mv),
            (Kind::Counter, &attrs.counter),
            (Kind::Set, &attrs.set),
            (Kind::TwoPhaseSet, &attrs.two_phase_set),
            (Kind::Flag, &attrs.flag),
            (Kind::Nested, &attrs.nested),
            (Kind::Map, &attrs.map),
        ]
        .into_iter()
        .filter(|(_, flag)| flag.is_present())
        .map(|(kind, flag)| (kind, flag.span()))
        .collect();
        for &(kind, span) in chosen.iter().skip(1) {
            errors.push(
                darling::Error::custom(format!(
                    "`{}` cannot be used together with `{}`: a field has one CRDT kind; \
                     keep one of them",
                    chosen[0].0.attribute(),
                    kind.attribute()
                ))
                .with_span(&span),
            );
        }
        let skip = attrs.skip.is_present().then(|| attrs.skip.span());
        if let (Some(_), Some(&(kind, span))) = (skip, chosen.first()) {
            errors.push(
                darling::Error::custom(format!(
                    "`skip` cannot be used together with `{}`: a skipped field is local only \
                     and has no CRDT kind; remove one of them",
                    kind.attribute()
                ))
                .with_span(&span),
            );
        }
        let default = match attrs.default.as_deref() {
            None => DefaultValue::Unspecified,
            Some(Override::Inherit) => DefaultValue::DefaultTrait,
            Some(Override::Explicit(path)) => match path.parse::<syn::Path>() {
                Ok(path) => DefaultValue::Function(path),
                Err(_) => {
                    errors.push(
                        darling::Error::custom(format!(
                            "`default = {:?}` is not a path to a function: write \
                             `default = \"path::to::function\"` or `default`",
                            path.value()
                        ))
                        .with_span(path),
                    );
                    DefaultValue::DefaultTrait
                }
            },
        };
        let kind = match skip {
            Some(_) => None,
            None => Some(chosen.first().map_or(Kind::Lww, |&(kind, _)| kind)),
        };
        let was = attrs
            .was
            .as_ref()
            .and_then(|was| errors.handle(Was::new(was, was.span())));
        let model = FieldModel {
            field,
            ident,
            name: syn::ext::IdentExt::unraw(ident).to_string(),
            kind,
            id: attrs
                .id
                .as_ref()
                .map_or(u32::try_from(position).unwrap_or(u32::MAX), |id| **id),
            since: attrs.since.as_ref().map_or(1, |since| **since),
            default,
            renamed_from: attrs.renamed_from.as_ref().map(|name| (**name).clone()),
            was,
            read_only: attrs.read_only.is_present(),
            views: attrs.view.map(|names| names.0).unwrap_or_default(),
            spans: FieldSpans {
                default: attrs.default.as_ref().map(SpannedValue::span),
                id: attrs.id.as_ref().map(SpannedValue::span),
                since: attrs.since.as_ref().map(SpannedValue::span),
                renamed_from: attrs.renamed_from.as_ref().map(SpannedValue::span),
                kind: chosen.first().map(|&(_, span)| span),
                skip,
                read_only: attrs.read_only.is_present().then(|| attrs.read_only.span()),
            },
        };
        errors.finish_with(model)
    }

    /// The span to blame for a property of the field: its attribute, or the field itself
    /// when the property took its default value.
    pub(crate) fn span_of(&self, attribute: Option<Span>) -> Span {
        attribute.unwrap_or(self.ident.span())
    }

    /// For a collection field type written `Name<A, B>` with the last path segment `name`,
    /// its type arguments.
    pub fn type_arguments(&self, name: &str) -> Option<Vec<&'a syn::Type>> {
        type_arguments(&self.field.ty, name)
    }

    /// Span of the field's type, where type errors about the field belong.
    pub fn type_span(&self) -> Span {
        self.field.ty.span()
    }
}

const STRUCT_ATTRIBUTES: &str = "`version`, `name`, `reserved`, `views`";
const FIELD_ATTRIBUTES: &str = "`id`, `since`, `default`, `renamed_from`, `was`, `read_only`, \
                                `view`, `skip`, or a kind: \
                                `lww`, `mv`, `counter`, `set`, `two_phase_set`, `flag`, \
                                `nested`, `map`";

/// darling's messages for unknown and duplicate attributes, in this crate's one message
/// shape (``unknown crdt attribute `x` ``), saying what to write instead.
fn restate(errors: darling::Error, expected: &str) -> darling::Error {
    darling::Error::multiple(
        errors
            .into_iter()
            .map(|error| {
                let message = error.to_string();
                let restated = if let Some(rest) = message.strip_prefix("Unknown field: ") {
                    match rest.split_once(". Did you mean ") {
                        Some((name, suggestion)) => format!(
                            "unknown crdt attribute {name}: did you mean {}?",
                            suggestion.trim_end_matches('?')
                        ),
                        None => format!("unknown crdt attribute {rest}: expected {expected}"),
                    }
                } else if let Some(name) = message.strip_prefix("Duplicate field ") {
                    format!("duplicate crdt attribute {name}: write it once")
                } else {
                    return error;
                };
                darling::Error::custom(restated).with_span(&error.span())
            })
            .collect(),
    )
}

/// A type as the user would write it: `BTreeMap<String, Attendee>`, not the token
/// printer's `BTreeMap < String , Attendee >`.
pub(crate) fn type_string(ty: &syn::Type) -> String {
    const NO_SPACE_AFTER: [&str; 5] = ["<", "::", "&", "(", "["];
    const NO_SPACE_BEFORE: [&str; 7] = ["<", ">", "::", ",", ")", "]", ";"];
    let printed = ty.to_token_stream().to_string();
    let mut out = String::with_capacity(printed.len());
    let mut previous: Option<&str> = None;
    for token in printed.split(' ') {
        if let Some(previous) = previous {
            let call = token.starts_with('(') && previous.ends_with(|c: char| c.is_alphanumeric());
            if !(NO_SPACE_AFTER.contains(&previous) || NO_SPACE_BEFORE.contains(&token) || call) {
                out.push(' ');
            }
        }
        out.push_str(token);
        previous = Some(token);
    }
    out
}

/// The path of the typed CRDT that `#[derive(Crdt)]` generates for the struct named by
/// `ty`: `geo::Place` -> `geo::PlaceCrdt`. `None` when `ty` is not a plain path to a
/// struct (generic arguments, references, tuples).
pub fn store_path(ty: &syn::Type) -> Option<syn::Path> {
    let syn::Type::Path(syn::TypePath { qself: None, path }) = ty else {
        return None;
    };
    let mut path = path.clone();
    let last = path.segments.last_mut()?;
    if !last.arguments.is_none() {
        return None;
    }
    last.ident = quote::format_ident!("{}Crdt", last.ident, span = last.ident.span());
    Some(path)
}

/// The type arguments of `ty` when it is a path type whose last segment is `name`.
pub(crate) fn type_arguments<'t>(ty: &'t syn::Type, name: &str) -> Option<Vec<&'t syn::Type>> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let syn::PathArguments::AngleBracketed(arguments) = &last.arguments else {
        return Some(Vec::new());
    };
    Some(
        arguments
            .args
            .iter()
            .filter_map(|argument| match argument {
                syn::GenericArgument::Type(ty) => Some(ty),
                _ => None,
            })
            .collect(),
    )
}

fn named_fields(
    input: &syn::DeriveInput,
) -> darling::Result<&syn::punctuated::Punctuated<syn::Field, syn::token::Comma>> {
    let unsupported = |what: &str, span: Span| {
        darling::Error::custom(format!(
            "`#[derive(Crdt)]` supports structs with named fields, not {what}: write \
             `struct {} {{ field: Type, ... }}`",
            input.ident
        ))
        .with_span(&span)
    };
    match &input.data {
        syn::Data::Struct(data) => match &data.fields {
            syn::Fields::Named(fields) => Ok(&fields.named),
            syn::Fields::Unnamed(fields) => Err(unsupported("tuple structs", fields.span())),
            syn::Fields::Unit => Err(unsupported("unit structs", input.ident.span())),
        },
        syn::Data::Enum(data) => Err(unsupported("enums", data.enum_token.span)),
        syn::Data::Union(data) => Err(unsupported("unions", data.union_token.span)),
    }
}

#[cfg(test)]
mod tests {
    use super::type_string;

    #[test]
    fn prints_types_as_written() {
        for written in [
            "String",
            "BTreeSet<String>",
            "BTreeMap<String, Attendee>",
            "std::collections::BTreeMap<u32, Vec<Option<i64>>>",
            "&'static str",
            "[u8; 4]",
            "(i32, bool)",
            "Option<Box<dyn Fn(u8) -> u8>>",
        ] {
            let ty: syn::Type = syn::parse_str(written).unwrap();
            assert_eq!(type_string(&ty), written);
        }
    }
}
