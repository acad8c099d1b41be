//! `map`: an observed-remove map from keys to values that derive `Crdt`, on a
//! `BTreeMap<K, V>` field. Each value is a `crdtype::Entry`, whose presence keeps
//! it in the map; an update concurrent with a removal keeps the entry.

use super::{Field, FieldCode};
use quote::quote;

pub(super) fn code(field: &Field<'_, '_>) -> FieldCode {
    let Field { ident, name, .. } = field;
    let key = field.type_argument("BTreeMap", 0);
    let value = field.type_argument("BTreeMap", 1);
    let value_type = field
        .model
        .type_arguments("BTreeMap")
        .and_then(|arguments| arguments.get(1).copied());
    let (value_store, checks) = match value_type {
        Some(value_type) => (field.store_of(value_type), field.assert_crdt(value_type)),
        None => (value.clone(), quote!()),
    };
    let map_type = quote!(::crdtype::OrMap<#key, ::crdtype::Entry<#value_store>>);
    let reader = field.reader();
    let update = field.method("update_{}");
    let remove = field.method("remove_from_{}");
    let update_delta = field.wrap(quote! {
        self.#ident.update(context, key, |entry, context| entry.update(context, replica, mutate))
    });
    let remove_delta = field.wrap(quote!(self.#ident.remove(key)));
    let write = quote! {
        ::crdtype::__private::write_map::<#key, #value_store>(
            &mut store.#ident,
            context,
            stamp,
            old.map(|old| &old.#ident),
            &new.#ident,
        )
    };
    FieldCode {
        store_type: map_type.clone(),
        checks,
        methods: quote! {
            #[doc = ::core::concat!("The map `", #name, "`.")]
            #[inline]
            pub fn #reader(&self) -> &#map_type {
                &self.#ident
            }

            #[doc = ::core::concat!("Runs `mutate`, a mutator of the value type, on the entry of `", #name, "` under `key` (created empty if absent) and marks the entry present as `replica`; returns the delta.")]
            #[inline]
            pub fn #update(
                &mut self,
                context: &mut ::crdtype::CausalContext,
                replica: ::crdtype::ReplicaId,
                key: #key,
                mutate: impl ::core::ops::FnOnce(
                    &mut #value_store,
                    &mut ::crdtype::CausalContext,
                ) -> ::crdtype::CausalDotStore<#value_store>,
            ) -> ::crdtype::CausalDotStore<Self> {
                #update_delta
            }

            #[doc = ::core::concat!("Removes the entry of `", #name, "` under `key`, as observed here; returns the delta.")]
            #[inline]
            pub fn #remove(&mut self, key: &#key) -> ::crdtype::CausalDotStore<Self> {
                #remove_delta
            }
        },
        read: quote!(::crdtype::__private::read_map::<#key, #value_store>(&store.#ident)),
        write,
        json_write: quote! {
            ::crdtype::__private::map_write(&mut self.#ident, cx, path, depth + 1, action)
        },
        json_read: quote!(::crdtype::__private::map_read(&self.#ident, cx)),
        // Inside an entry, a write also makes the entry present, which a later reset of
        // the same field does not undo: combining the two would drop that.
        combinable: quote!(path.len() <= depth + 2),
        ..FieldCode::new(field)
    }
}
