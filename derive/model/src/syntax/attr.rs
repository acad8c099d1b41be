//! The `#[crdt(...)]` attributes as written, parsed by darling; nothing is checked here
//! beyond the shape of each attribute.

use darling::util::{Flag, Override, SpannedValue};
use darling::{FromAttributes, FromMeta};
use proc_macro2::Span;
use syn::spanned::Spanned;

/// Attributes on the struct.
#[derive(FromAttributes, Default)]
#[darling(attributes(crdt))]
pub(crate) struct StructAttrs {
    pub(crate) version: Option<SpannedValue<u32>>,
    pub(crate) name: Option<SpannedValue<String>>,
    pub(crate) reserved: Option<ReservedIds>,
    pub(crate) views: Option<Names>,
}

/// Attributes on a field.
#[derive(FromAttributes, Default)]
#[darling(attributes(crdt))]
pub(crate) struct FieldAttrs {
    pub(crate) id: Option<SpannedValue<u32>>,
    pub(crate) since: Option<SpannedValue<u32>>,
    pub(crate) default: Option<SpannedValue<Override<syn::LitStr>>>,
    pub(crate) renamed_from: Option<SpannedValue<String>>,
    pub(crate) was: Option<SpannedValue<WasAttrs>>,
    pub(crate) read_only: Flag,
    pub(crate) view: Option<Names>,
    pub(crate) skip: Flag,
    pub(crate) lww: Flag,
    pub(crate) mv: Flag,
    pub(crate) counter: Flag,
    pub(crate) set: Flag,
    pub(crate) two_phase_set: Flag,
    pub(crate) flag: Flag,
    pub(crate) nested: Flag,
    pub(crate) map: Flag,
}

/// `was(id = 4, type = "String", upgrade = "path", downgrade = "path")`: the field's id
/// and type before its type changed, and the conversions. Every part is optional here so
/// that the model can say which one is missing.
#[derive(FromMeta, Default)]
pub(crate) struct WasAttrs {
    pub(crate) id: Option<SpannedValue<u32>>,
    #[darling(rename = "type")]
    pub(crate) ty: Option<syn::LitStr>,
    pub(crate) upgrade: Option<syn::LitStr>,
    pub(crate) downgrade: Option<syn::LitStr>,
}

/// `views(public, summary)`: names with the span of each.
#[derive(Default)]
pub(crate) struct Names(pub(crate) Vec<(String, Span)>);

impl FromMeta for Names {
    fn from_list(items: &[darling::ast::NestedMeta]) -> darling::Result<Self> {
        let mut errors = darling::Error::accumulator();
        let mut names = Vec::new();
        for item in items {
            match item {
                darling::ast::NestedMeta::Meta(syn::Meta::Path(path))
                    if path.get_ident().is_some() =>
                {
                    if let Some(ident) = path.get_ident() {
                        names.push((ident.to_string(), ident.span()));
                    }
                }
                other => errors.push(
                    darling::Error::custom(
                        "views are named by identifiers: write `views(public, summary)`",
                    )
                    .with_span(other),
                ),
            }
        }
        errors.finish_with(Names(names))
    }
}

/// `reserved(3, 7)`: ids with the span of each.
#[derive(Default)]
pub(crate) struct ReservedIds(pub(crate) Vec<(u32, Span)>);

impl FromMeta for ReservedIds {
    fn from_list(items: &[darling::ast::NestedMeta]) -> darling::Result<Self> {
        let mut errors = darling::Error::accumulator();
        let mut ids = Vec::new();
        for item in items {
            let id = match item {
                darling::ast::NestedMeta::Lit(syn::Lit::Int(int)) => {
                    int.base10_parse::<u32>().map_err(darling::Error::from)
                }
                other => Err(darling::Error::custom(
                    "`reserved` takes field ids: write `reserved(3, 7)`",
                )
                .with_span(other)),
            };
            if let Some(id) = errors.handle(id) {
                ids.push((id, item.span()));
            }
        }
        errors.finish_with(ReservedIds(ids))
    }
}
