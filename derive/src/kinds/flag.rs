//! `flag`: an enable-wins flag on a `bool` field.

use super::{Field, FieldCode};
use quote::quote;

pub(super) fn code(field: &Field<'_, '_>) -> FieldCode {
    let Field { ident, name, .. } = field;
    let reader = field.reader();
    let enable = field.method("enable_{}");
    let disable = field.method("disable_{}");
    let enable_delta = field.wrap(quote!(self.#ident.enable(context, replica)));
    let disable_delta = field.wrap(quote!(self.#ident.disable()));
    let write = quote! {
        if new.#ident {
            store.#ident.enable(context, stamp.replica)
        } else {
            store.#ident.disable()
        }
    };
    FieldCode {
        checks: quote!(),
        store_type: quote!(::crdtype::EwFlag),
        methods: quote! {
            #[doc = ::core::concat!("Whether `", #name, "` is on.")]
            #[inline]
            pub fn #reader(&self) -> bool {
                self.#ident.is_enabled()
            }

            #[doc = ::core::concat!("Turns `", #name, "` on as `replica`; returns the delta.")]
            #[inline]
            pub fn #enable(
                &mut self,
                context: &mut ::crdtype::CausalContext,
                replica: ::crdtype::ReplicaId,
            ) -> ::crdtype::CausalDotStore<Self> {
                #enable_delta
            }

            #[doc = ::core::concat!("Turns `", #name, "` off (a concurrent enable wins); returns the delta.")]
            #[inline]
            pub fn #disable(&mut self) -> ::crdtype::CausalDotStore<Self> {
                #disable_delta
            }
        },
        read: quote!(store.#ident.is_enabled()),
        write,
        ..FieldCode::new(field)
    }
}
