//! `lww` (the default): a last-writer-wins register with observed-remove deletes; with
//! `was(...)`, one whose type changed (`crdtype::Retyped`).

use super::{Field, FieldCode, default_value, path_span};
use crdtype_model::syntax::Was;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

pub(super) fn code(field: &Field<'_, '_>) -> FieldCode {
    if let Some(was) = &field.model.was {
        return retyped(field, was);
    }
    let Field {
        ident, ty, name, ..
    } = field;
    let reader = field.reader();
    let set_into = field.method("set_{}_into");
    let set_delta = field.wrap(quote!(self.#ident.set(context, stamp, value)));
    let write = quote! {
        store.#ident.set(context, stamp, ::core::clone::Clone::clone(&new.#ident))
    };
    FieldCode {
        store_type: quote!(::crdtype::LwwRegister<#ty>),
        methods: quote! {
            #[doc = ::core::concat!("The value of `", #name, "`, or `None` while it is null.")]
            #[inline]
            pub fn #reader(&self) -> ::core::option::Option<&#ty> {
                self.#ident.get()
            }

            #[doc = ::core::concat!(
                "Writes `", #name, "` at `stamp` within a batch of edits that share one delta: \
                 the write also goes to `delta`, the batch's store, and the dots it issues and \
                 replaces to `delta_context`. The batch's delta is \
                 `CausalDotStore { store: delta, context: delta_context.build() }`."
            )]
            #[inline]
            pub fn #set_into(
                &mut self,
                context: &mut ::crdtype::CausalContext,
                stamp: ::crdtype::Timestamp,
                value: #ty,
                delta: &mut Self,
                delta_context: &mut ::crdtype::ContextBuilder,
            ) {
                self.#ident.set_into(context, stamp, value, &mut delta.#ident, delta_context);
            }
        },
        read: field.shown_or_default(quote!(store.#ident.get())),
        write,
        ..FieldCode::new(field)
    }
    .with_setters(field, set_delta)
}

/// A register whose type changed: writes of the current type under the field's id, of
/// the previous type under `was.id`, converted by the user's functions.
fn retyped(field: &Field<'_, '_>, was: &Was) -> FieldCode {
    let Field {
        ident, ty, name, ..
    } = field;
    let previous = &was.ty;
    let upgrade = &was.upgrade;
    // The functions as constants of their declared types, checked at the attribute that
    // names them; the generated code calls the constants, so a wrong function is one
    // error, there.
    let store = field.store_ident;
    let upgrade_const = format_ident!("UPGRADE_{}", name.to_uppercase());
    let downgrade_const = format_ident!("DOWNGRADE_{}", name.to_uppercase());
    let upgrade_item = quote_spanned!(path_span(upgrade)=>
        const #upgrade_const: fn(#previous) -> #ty = #upgrade;
    );
    let downgrade_item = was.downgrade.as_ref().map(|path| {
        quote_spanned!(path_span(path)=> const #downgrade_const: fn(#ty) -> #previous = #path;)
    });
    let downgrade = match &was.downgrade {
        Some(_) => quote!(::core::option::Option::Some(#store::#downgrade_const)),
        None => quote!(::core::option::Option::None::<fn(#ty) -> #previous>),
    };
    let downgraded = was.downgrade.is_some();
    let json_downgrade = match &was.downgrade {
        Some(_) => quote!(::core::option::Option::Some(#store::#downgrade_const)),
        None => quote!(::core::option::Option::None),
    };
    let get = quote!(self.#ident.get(#store::#upgrade_const, #downgraded));
    let default = default_value(field.model);
    let reader = field.reader();
    let set_delta = field.wrap(quote!(self.#ident.set(context, stamp, value, #downgrade)));
    let (id, old_id) = (field.wire_id(field.model.id), field.wire_id(was.id));
    let span = field.model.type_span();
    let code = FieldCode {
        store_type: quote!(::crdtype::Retyped<#previous, #ty>),
        methods: quote! {
            #[doc = ::core::concat!(
                "The value of `", #name, "`, or `None` while it is null: the latest write, \
                 converted if a replica of an earlier version made it."
            )]
            #[inline]
            pub fn #reader(&self) -> ::core::option::Option<#ty> {
                #get
            }
        },
        read: quote! {
            match store.#ident.get(#store::#upgrade_const, #downgraded) {
                ::core::option::Option::Some(value) => value,
                ::core::option::Option::None => #default,
            }
        },
        write: quote! {
            store.#ident.set(context, stamp, ::core::clone::Clone::clone(&new.#ident), #downgrade)
        },
        checks: quote! {
            impl #store {
                #upgrade_item
                #downgrade_item
            }
        },
        encode: quote_spanned! {span=>
            encoder.field(#id, self.#ident.current());
            encoder.field(#old_id, self.#ident.previous());
        },
        decode: quote_spanned! {span=>
            #ident: ::crdtype::Retyped::from_parts(record.field(#old_id)?, record.field(#id)?),
        },
        ids: vec![id, old_id],
        json_write: quote! {
            ::crdtype::__private::retyped_write(
                &mut self.#ident, cx, path, depth + 1, action, #json_downgrade,
            )
        },
        json_read: quote! {
            ::crdtype::__private::retyped_read(&self.#ident, #store::#upgrade_const, #downgraded)
        },
        combinable: quote!(true),
    };
    code.with_setters(field, set_delta)
}

impl FieldCode {
    /// Adds `set_` (whose delta is `set_delta`) and `delete_` to the methods.
    fn with_setters(mut self, field: &Field<'_, '_>, set_delta: TokenStream) -> Self {
        let Field {
            ident, ty, name, ..
        } = field;
        let set = field.method("set_{}");
        let delete = field.method("delete_{}");
        let delete_delta = field.wrap(quote!(self.#ident.delete()));
        self.methods.extend(quote! {
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
        });
        self
    }
}
