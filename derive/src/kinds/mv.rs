//! `mv`: a multi-value register; concurrent writes are all kept until a later write.

use super::{Field, FieldCode};
use quote::quote;

pub(super) fn code(field: &Field<'_, '_>) -> FieldCode {
    let Field {
        ident, ty, name, ..
    } = field;
    let reader = field.reader();
    let set = field.method("set_{}");
    let delete = field.method("delete_{}");
    let set_delta = field.wrap(quote!(self.#ident.write(context, replica, value)));
    let delete_delta = field.wrap(quote!(self.#ident.clear()));
    let write = quote! {
        store.#ident.write(context, stamp.replica, ::core::clone::Clone::clone(&new.#ident))
    };
    FieldCode {
        checks: quote!(),
        store_type: quote!(::crdtype::MvRegister<#ty>),
        methods: quote! {
            #[doc = ::core::concat!("The live values of `", #name, "`, one per concurrent write, in dot order; none while it is null.")]
            #[inline]
            pub fn #reader(&self) -> impl ::core::iter::Iterator<Item = &#ty> + '_ {
                self.#ident.values()
            }

            #[doc = ::core::concat!("Writes `", #name, "` as `replica`, replacing the values observed here; returns the delta.")]
            #[inline]
            pub fn #set(
                &mut self,
                context: &mut ::crdtype::CausalContext,
                replica: ::crdtype::ReplicaId,
                value: #ty,
            ) -> ::crdtype::CausalDotStore<Self> {
                #set_delta
            }

            #[doc = ::core::concat!("Sets `", #name, "` to null, removing the values observed here; returns the delta.")]
            #[inline]
            pub fn #delete(&mut self) -> ::crdtype::CausalDotStore<Self> {
                #delete_delta
            }
        },
        // The plain struct holds one value: the first live one in dot order, the same on
        // every replica that has seen the same writes.
        read: field.shown_or_default(quote!(store.#ident.values().next())),
        write,
        ..FieldCode::new(field)
    }
}
