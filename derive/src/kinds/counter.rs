//! `counter`: increments and decrements from every replica, summed.

use super::{Field, FieldCode};
use quote::quote;

pub(super) fn code(field: &Field<'_, '_>) -> FieldCode {
    let Field {
        ident, ty, name, ..
    } = field;
    let reader = field.reader();
    let increment = field.method("increment_{}");
    let decrement = field.method("decrement_{}");
    let increment_delta = field.wrap(quote!(self.#ident.increment(context, replica, by)));
    let decrement_delta = field.wrap(quote!(self.#ident.decrement(context, replica, by)));
    let write = quote! {
        ::crdtype::__private::write_counter(&mut store.#ident, context, stamp.replica, new.#ident)
    };
    FieldCode {
        checks: quote!(),
        store_type: quote!(::crdtype::PnCounter),
        methods: quote! {
            #[doc = ::core::concat!("The value of `", #name, "`: every replica's increments minus decrements, saturated to the field's type.")]
            #[inline]
            pub fn #reader(&self) -> #ty {
                <#ty as ::crdtype::__private::CounterValue>::from_total(self.#ident.total())
            }

            #[doc = ::core::concat!("Adds `by` to `", #name, "` as `replica`; returns the delta.")]
            #[inline]
            pub fn #increment(
                &mut self,
                context: &mut ::crdtype::CausalContext,
                replica: ::crdtype::ReplicaId,
                by: u64,
            ) -> ::crdtype::CausalDotStore<Self> {
                #increment_delta
            }

            #[doc = ::core::concat!("Subtracts `by` from `", #name, "` as `replica`; returns the delta.")]
            #[inline]
            pub fn #decrement(
                &mut self,
                context: &mut ::crdtype::CausalContext,
                replica: ::crdtype::ReplicaId,
                by: u64,
            ) -> ::crdtype::CausalDotStore<Self> {
                #decrement_delta
            }
        },
        read: quote! {
            <#ty as ::crdtype::__private::CounterValue>::from_total(store.#ident.total())
        },
        // An edit of the plain value becomes the increment or decrement that moves the
        // counter there, so concurrent edits add up instead of overwriting each other.
        write,
        ..FieldCode::new(field)
    }
}
