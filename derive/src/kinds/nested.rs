//! `nested`: a field whose type derives `Crdt`, replicated field by field.

use super::{Field, FieldCode};
use quote::quote;

pub(super) fn code(field: &Field<'_, '_>) -> FieldCode {
    let Field {
        ident, ty, name, ..
    } = field;
    let store_type = field.store_of(ty);
    let reader = field.reader();
    let update = field.method("update_{}");
    let update_delta = field.wrap(quote!(mutate(&mut self.#ident, context)));
    let write = quote! {
        <<#store_type as ::crdtype::TypedStore>::Value as ::crdtype::Crdt>::write_changes(
            &mut store.#ident,
            context,
            stamp,
            old.map(|old| &old.#ident),
            &new.#ident,
        )
    };
    FieldCode {
        store_type: store_type.clone(),
        checks: field.assert_crdt(ty),
        methods: quote! {
            #[doc = ::core::concat!("The nested state `", #name, "`.")]
            #[inline]
            pub fn #reader(&self) -> &#store_type {
                &self.#ident
            }

            #[doc = ::core::concat!("Runs `mutate`, a mutator of the nested state, on `", #name, "`; returns the delta.")]
            #[inline]
            pub fn #update(
                &mut self,
                context: &mut ::crdtype::CausalContext,
                mutate: impl ::core::ops::FnOnce(
                    &mut #store_type,
                    &mut ::crdtype::CausalContext,
                ) -> ::crdtype::CausalDotStore<#store_type>,
            ) -> ::crdtype::CausalDotStore<Self> {
                #update_delta
            }
        },
        read: quote!(store.#ident.to_value()),
        write,
        json_write: quote! {
            ::crdtype::__private::nested_write(&mut self.#ident, cx, path, depth + 1, action)
        },
        json_read: quote! {
            <#store_type as ::crdtype::json::JsonDocument>::json_read(&self.#ident, cx, None)
        },
        combinable: quote! {
            <#store_type as ::crdtype::json::JsonDocument>::combinable(path, depth + 1)
        },
        ..FieldCode::new(field)
    }
}
