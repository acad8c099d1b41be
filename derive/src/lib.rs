//! `#[derive(Crdt)]`: the typed CRDT of a plain struct.
//!
//! Use it through the `crdtype` crate, which re-exports it and documents what it
//! generates. The stages: [`crdtype_model::syntax::Model::from_syntax`] reads and checks
//! the attributes (shared with the schema CLI), `expand` writes the code, one module per
//! field kind, and `fallback` keeps one mistake from cascading into many.

mod expand;
mod fallback;
mod kinds;
mod schema;
#[cfg(test)]
mod snapshots;

use crdtype_model::syntax::Model;
use proc_macro::TokenStream;

/// Generates `<Name>Crdt`, the typed CRDT of the struct, and implements `crdtype::Crdt`.
#[proc_macro_derive(Crdt, attributes(crdt))]
pub fn derive_crdt(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    match Model::from_syntax(&input) {
        Ok(model) => expand::derive(&model),
        Err(errors) => fallback::derive(&input, errors),
    }
    .into()
}
