//! `set` (add-wins) and `two_phase_set` (removed stays removed) on a `BTreeSet<T>` field.

use super::{Field, FieldCode};
use quote::quote;

pub(super) fn code(field: &Field<'_, '_>, two_phase: bool) -> FieldCode {
    let crdt = if two_phase {
        quote!(::crdtype::TwoPhaseSet)
    } else {
        quote!(::crdtype::AwSet)
    };
    let Field { ident, name, .. } = field;
    let element = field.type_argument("BTreeSet", 0);
    let reader = field.reader();
    let insert = field.method("insert_into_{}");
    let remove = field.method("remove_from_{}");
    let insert_delta = field.wrap(quote!(self.#ident.insert(context, replica, value)));
    let remove_delta = field.wrap(quote!(self.#ident.remove(value)));
    let write = quote! {
        ::crdtype::__private::write_set(
            &mut store.#ident,
            context,
            stamp.replica,
            old.map(|old| &old.#ident),
            &new.#ident,
        )
    };
    FieldCode {
        checks: quote!(),
        store_type: quote!(#crdt<#element>),
        methods: quote! {
            #[doc = ::core::concat!("The set `", #name, "`.")]
            #[inline]
            pub fn #reader(&self) -> &#crdt<#element> {
                &self.#ident
            }

            #[doc = ::core::concat!("Adds `value` to `", #name, "` as `replica`; returns the delta.")]
            #[inline]
            pub fn #insert(
                &mut self,
                context: &mut ::crdtype::CausalContext,
                replica: ::crdtype::ReplicaId,
                value: #element,
            ) -> ::crdtype::CausalDotStore<Self> {
                #insert_delta
            }

            #[doc = ::core::concat!("Removes `value` from `", #name, "`; returns the delta.")]
            #[inline]
            pub fn #remove(&mut self, value: &#element) -> ::crdtype::CausalDotStore<Self> {
                #remove_delta
            }
        },
        read: quote!(::crdtype::__private::read_set(store.#ident.iter())),
        write,
        // A removal then an addition leaves a two-phase set's element removed; combined
        // into one write, it would add it.
        combinable: if two_phase {
            quote!(false)
        } else {
            quote!(true)
        },
        ..FieldCode::new(field)
    }
}
