//! Reading schemas from Rust syntax: attributes -> model -> checks.
//!
//! [`Model::from_syntax`] is the one entry point, used by the derive macro on its input and
//! by the CLI on every `#[derive(Crdt)]` struct of a parsed file.

mod attr;
mod check;
mod model;

pub use check::{STORE_METHODS, UNKNOWN_FIELDS, method_templates};
pub use model::{DefaultValue, FieldModel, Model, Was, store_path};

/// Whether `attrs` include `#[derive(Crdt)]` (or `#[derive(crdtype::Crdt)]`): how the CLI
/// finds schemas in a file without compiling it.
pub fn derives_crdt(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("derive")
            && attr
                .parse_args_with(
                    syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
                )
                .is_ok_and(|paths| {
                    paths.iter().any(|path| {
                        path.segments
                            .last()
                            .is_some_and(|last| last.ident == "Crdt")
                    })
                })
    })
}
