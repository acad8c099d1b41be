//! `lww` (the default): a last-writer-wins register with observed-remove deletes.

use super::{Field, FieldCode};
use quote::quote;

pub(super) fn code(field: &Field<'_, '_>) -> FieldCode {
    let Field {
        ident, ty, name, ..
    } = field;
    let reader = field.reader();
    let set = field.method("set");
    let delete = field.method("delete");
    let set_delta = field.wrap(quote!(self.#ident.set(context, stamp, value)));
    let delete_delta = field.wrap(quote!(self.#ident.delete()));
    let write = quote! {
        store.#ident.set(context, stamp, ::core::clone::Clone::clone(&new.#ident))
    };
    FieldCode {
        checks: quote!(),
        store_type: quote!(::crdtype::LwwRegister<#ty>),
        methods: quote! {
            #[doc = ::core::concat!("The value of `", #name, "`, or `None` while it is null.")]
            #[inline]
            pub fn #reader(&self) -> ::core::option::Option<&#ty> {
                self.#ident.get()
            }

            #[doc = ::core::concat!("Writes `", #name, "` at `stamp`, replacing the writes observed here; returns the delta.")]
            #[inline]
            pub fn #set(
                &mut self,
                context: &mut ::crdtype::CausalContext,
                stamp: ::crdtype::Timestamp,
                value: #ty,
            ) -> ::crdtype::CausalDotStore<Self> {
                #set_delta
            }

            #[doc = ::core::concat!("Sets `", #name, "` to null, removing the writes observed here (a concurrent write survives); returns the delta.")]
            #[inline]
            pub fn #delete(&mut self) -> ::crdtype::CausalDotStore<Self> {
                #delete_delta
            }
        },
        read: field.shown_or_default(quote!(store.#ident.get())),
        write,
    }
}
