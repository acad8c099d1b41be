//! `nested`: a field whose type derives `Crdt`, replicated field by field.

use super::{Field, FieldCode};
use quote::quote;

pub(super) fn code(field: &Field<'_, '_>) -> FieldCode {
    let Field {
        ident, ty, name, ..
    } = field;
    let crdt = field.crdt_of(quote!(#ty), field.model.type_span());
    let reader = field.reader();
    let update = field.method("update");
    let update_delta = field.wrap(quote!(mutate(&mut self.#ident, context)));
    let changed = field.changed();
    let absorb = field.absorb(quote! {
        #crdt::write_changes(&mut store.#ident, context, stamp, old.map(|old| &old.#ident), &new.#ident)
    });
    FieldCode {
        store_type: quote!(#crdt::Store),
        methods: quote! {
            #[doc = concat!("The nested state `", #name, "`.")]
            pub fn #reader(&self) -> &#crdt::Store {
                &self.#ident
            }

            #[doc = concat!("Runs `mutate`, a mutator of the nested state, on `", #name, "`; returns the delta.")]
            pub fn #update(
                &mut self,
                context: &mut ::crdtype::CausalContext,
                mutate: impl ::core::ops::FnOnce(
                    &mut #crdt::Store,
                    &mut ::crdtype::CausalContext,
                ) -> ::crdtype::CausalDotStore<#crdt::Store>,
            ) -> ::crdtype::CausalDotStore<Self> {
                #update_delta
            }
        },
        read: quote!(#crdt::read(&store.#ident)),
        write: quote! {
            if #changed {
                #absorb
            }
        },
    }
}
