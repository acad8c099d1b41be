//! `map`: an observed-remove map from keys to values that derive `Crdt`, on a
//! `BTreeMap<K, V>` field. An update concurrent with a removal keeps the entry.

use super::{Field, FieldCode};
use quote::quote;

pub(super) fn code(field: &Field<'_, '_>) -> FieldCode {
    let Field { ident, name, .. } = field;
    let key = field.type_argument("BTreeMap", 0);
    let value = field.type_argument("BTreeMap", 1);
    let value_span = field
        .model
        .type_arguments("BTreeMap")
        .and_then(|arguments| arguments.get(1).map(syn::spanned::Spanned::span))
        .unwrap_or_else(|| field.model.type_span());
    let crdt = field.crdt_of(value.clone(), value_span);
    let map_type = quote!(::crdtype::OrMap<#key, #crdt::Store>);
    let reader = field.reader();
    let update = field.method("update");
    let remove = field.method("remove_from");
    let update_delta = field.wrap(quote!(self.#ident.update(context, key, mutate)));
    let remove_delta = field.wrap(quote!(self.#ident.remove(key)));
    let changed = field.changed();
    let absorb = field.absorb(quote! {
        ::crdtype::__private::write_map::<#key, #value>(
            &mut store.#ident,
            context,
            stamp,
            old.map(|old| &old.#ident),
            &new.#ident,
        )
    });
    FieldCode {
        store_type: map_type.clone(),
        methods: quote! {
            #[doc = concat!("The map `", #name, "`.")]
            pub fn #reader(&self) -> &#map_type {
                &self.#ident
            }

            #[doc = concat!("Runs `mutate`, a mutator of the value type, on the entry of `", #name, "` under `key` (created empty if absent); returns the delta.")]
            pub fn #update(
                &mut self,
                context: &mut ::crdtype::CausalContext,
                key: #key,
                mutate: impl ::core::ops::FnOnce(
                    &mut #crdt::Store,
                    &mut ::crdtype::CausalContext,
                ) -> ::crdtype::CausalDotStore<#crdt::Store>,
            ) -> ::crdtype::CausalDotStore<Self> {
                #update_delta
            }

            #[doc = concat!("Removes the entry of `", #name, "` under `key`, as observed here; returns the delta.")]
            pub fn #remove(&mut self, key: &#key) -> ::crdtype::CausalDotStore<Self> {
                #remove_delta
            }
        },
        read: quote!(::crdtype::__private::read_map::<#key, #value>(&store.#ident)),
        write: quote! {
            if #changed {
                #absorb
            }
        },
    }
}
