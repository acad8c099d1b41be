//! After a mistake: the errors, plus an empty generated type, so that code naming it does
//! not add a cascade of "cannot find type" errors to the one that matters.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

pub(crate) fn derive(input: &syn::DeriveInput, errors: darling::Error) -> TokenStream {
    let errors = errors.write_errors();
    let vis = &input.vis;
    let store = format_ident!("{}Crdt", input.ident);
    quote! {
        #errors
        #[allow(dead_code)]
        #vis struct #store {}
    }
}
