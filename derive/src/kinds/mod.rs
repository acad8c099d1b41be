//! Per-kind code, behind one dispatch: what each field kind stores, which typed methods it
//! gets, and how it reads and writes the plain value.
//!
//! The generated code runs in two places. Methods go in `impl <Name>Crdt`, where `self` is
//! the store. `read` is an expression over `store: &<Name>Crdt`; `write` is a statement
//! inside `Crdt::write_changes`, with `store`, `context`, `stamp`, `old: Option<&Name>`,
//! `new: &Name` and the document delta `delta` in scope.

mod counter;
mod flag;
mod lww;
mod map;
mod mv;
mod nested;
mod set;

use crdtype_model::Kind;
use crdtype_model::syntax::{DefaultValue, FieldModel, method_templates, store_path};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};

/// The code of one replicated field.
pub(crate) struct FieldCode {
    /// The field's CRDT type in the generated store.
    pub(crate) store_type: TokenStream,
    /// Typed reads and mutators.
    pub(crate) methods: TokenStream,
    /// The plain value read from `store`.
    pub(crate) read: TokenStream,
    /// The field's delta that moves it from `old` to `new`: an expression, evaluated only
    /// when the field changed, whose value `field_code` absorbs into `delta`.
    pub(crate) write: TokenStream,
    /// Items that check the field's type at its span.
    pub(crate) checks: TokenStream,
    /// Statements adding the field's nodes to the record `encoder` is gathering, in
    /// `WireRecord::encode_record`.
    pub(crate) encode: TokenStream,
    /// The field's `name: value,` in the `Self { .. }` that `WireRecord::decode_record`
    /// reads from `record`.
    pub(crate) decode: TokenStream,
    /// The record ids the field's nodes take.
    pub(crate) ids: Vec<u16>,
    /// JSON input on the field, in `JsonDocument::json_write` (`cx`, `path`, `depth`,
    /// `action` in scope, `depth` at the field's own segment): an expression giving the
    /// field's delta. Empty for the kinds that take it through `JsonField`.
    pub(crate) json_write: TokenStream,
    /// The field as JSON, in `JsonDocument::json_read` (`cx` in scope). Empty for the
    /// kinds that give it through `JsonField`.
    pub(crate) json_read: TokenStream,
    /// Whether the canonical transform may combine operations inside the field, in
    /// `JsonDocument::combinable` (`path`, `depth` in scope, `depth` at the field).
    pub(crate) combinable: TokenStream,
}

impl FieldCode {
    /// Code with the wire encoding of a field that is one node under its own id; kinds
    /// fill in the rest.
    pub(crate) fn new(field: &Field<'_, '_>) -> Self {
        let ident = field.ident;
        let id = field.wire_id(field.model.id);
        // Spanned at the field's type, so that a type without a wire encoding is reported
        // there.
        let span = field.model.type_span();
        Self {
            store_type: TokenStream::new(),
            methods: TokenStream::new(),
            read: TokenStream::new(),
            write: TokenStream::new(),
            checks: TokenStream::new(),
            encode: quote_spanned!(span=> encoder.field(#id, &self.#ident);),
            decode: quote_spanned!(span=> #ident: record.field(#id)?,),
            ids: vec![id],
            json_write: TokenStream::new(),
            json_read: TokenStream::new(),
            combinable: quote!(true),
        }
    }
}

/// The code of `field`, one of the fields `all` (in declaration order) of `store`.
pub(crate) fn field_code<'a>(
    field: &FieldModel<'a>,
    kind: Kind,
    all: &[&'a syn::Ident],
    store: &syn::Ident,
) -> FieldCode {
    let field = Field::new(field, all, store);
    let mut code = match kind {
        Kind::Lww => lww::code(&field),
        Kind::Mv => mv::code(&field),
        Kind::Counter => counter::code(&field),
        Kind::Set => set::code(&field, false),
        Kind::TwoPhaseSet => set::code(&field, true),
        Kind::Flag => flag::code(&field),
        Kind::Nested => nested::code(&field),
        Kind::Map => map::code(&field),
    };
    if code.json_write.is_empty() {
        // Spanned at the field's type, where a type without serde support is reported.
        let (ident, ty) = (field.ident, field.ty);
        let span = field.model.type_span();
        code.json_write = quote_spanned! {span=>
            ::crdtype::__private::JsonField::<#ty>::json_write(
                &mut self.#ident, cx, path, depth + 1, action,
            )
        };
        code.json_read = quote_spanned! {span=>
            ::crdtype::__private::JsonField::<#ty>::json_read(&self.#ident, cx)
        };
    }
    let changed = field.changed();
    let absorb = field.absorb(&code.write);
    code.write = quote! {
        if #changed {
            #absorb
        }
    };
    code
}

/// What every kind's code needs to know about the field.
pub(crate) struct Field<'m, 'a> {
    pub(crate) model: &'m FieldModel<'a>,
    pub(crate) ident: &'a syn::Ident,
    pub(crate) ty: &'a syn::Type,
    /// The field's name without `r#`, for method names and docs.
    pub(crate) name: &'m str,
    /// Every field of the store, this one included.
    all: &'m [&'a syn::Ident],
    /// The generated store's name.
    pub(crate) store_ident: &'m syn::Ident,
}

impl<'m, 'a> Field<'m, 'a> {
    fn new(
        model: &'m FieldModel<'a>,
        all: &'m [&'a syn::Ident],
        store_ident: &'m syn::Ident,
    ) -> Self {
        Self {
            model,
            ident: model.ident,
            ty: &model.field.ty,
            name: &model.name,
            all,
            store_ident,
        }
    }

    /// A field id as the wire format's `u16` (the model checks that it fits).
    pub(crate) fn wire_id(&self, id: u32) -> u16 {
        u16::try_from(id).unwrap_or(u16::MAX)
    }

    /// A method name from `template`, with the field's name for its `{}`: `set_{}` gives
    /// `set_title`. The templates come from the model's list, which its name-collision
    /// check reads.
    pub(crate) fn method(&self, template: &str) -> syn::Ident {
        debug_assert!(
            self.model
                .kind
                .is_some_and(|kind| method_templates(kind).contains(&template)),
            "`{template}` is missing from `method_templates`"
        );
        let name = template.replace("{}", self.name);
        format_ident!("{name}", span = self.ident.span())
    }

    /// The reader method: the field's own name.
    pub(crate) fn reader(&self) -> syn::Ident {
        self.ident.clone()
    }

    /// The plain value of a register field from `shown`, an `Option<&T>` of its shown
    /// value: a clone of it, or the field's default while it is null.
    pub(crate) fn shown_or_default(&self, shown: TokenStream) -> TokenStream {
        let default = default_value(self.model);
        quote! {
            match #shown {
                ::core::option::Option::Some(value) => ::core::clone::Clone::clone(value),
                ::core::option::Option::None => #default,
            }
        }
    }

    /// `old.is_none_or(|old| old.field != new.field)`: whether `write` has work to do.
    fn changed(&self) -> TokenStream {
        let ident = self.ident;
        quote!(old.is_none_or(|old| old.#ident != new.#ident))
    }

    /// A mutator's delta of this field as a delta of the whole store. Every field is
    /// written out (no `..Default::default()`), so that the delta is built in place rather
    /// than as a whole default value copied over: that copy was a third of a field write.
    pub(crate) fn wrap(&self, part: TokenStream) -> TokenStream {
        let fields = self.all.iter().map(|&other| {
            if other == self.ident {
                quote!(#other: part.store)
            } else {
                quote!(#other: ::core::default::Default::default())
            }
        });
        quote! {{
            let part = #part;
            ::crdtype::CausalDotStore {
                store: Self {
                    #(#fields,)*
                    unknown_fields: ::core::default::Default::default(),
                },
                context: part.context,
            }
        }}
    }

    /// Absorbs `part`, this field's delta, into the document's `delta`.
    fn absorb(&self, part: &TokenStream) -> TokenStream {
        let ident = self.ident;
        quote! {
            ::crdtype::__private::absorb(&mut delta.store.#ident, &mut delta.context, #part);
        }
    }

    /// The type argument `index` of the field's collection type (checked by the model).
    pub(crate) fn type_argument(&self, collection: &str, index: usize) -> TokenStream {
        match self
            .model
            .type_arguments(collection)
            .and_then(|arguments| arguments.get(index).copied())
        {
            Some(ty) => quote!(#ty),
            None => {
                quote_spanned!(self.model.type_span()=> ::core::compile_error!("unreachable: checked by the model"))
            }
        }
    }

    /// The generated store of a type that derives `Crdt`, found by its name (`geo::Place`
    /// -> `geo::PlaceCrdt`, checked by the model) rather than through the trait: a type that
    /// does not derive `Crdt` then gets two errors at the field ("cannot find type
    /// `PlaceCrdt`" and, from [`Self::assert_crdt`], "`Place` does not derive `Crdt`")
    /// instead of one in every generated use of the store. The cost: the type must be
    /// named by the struct's own name, not through an alias.
    pub(crate) fn store_of(&self, ty: &syn::Type) -> TokenStream {
        match store_path(ty) {
            Some(path) => {
                let span = syn::spanned::Spanned::span(ty);
                quote_spanned!(span=> #path)
            }
            None => quote!(#ty),
        }
    }

    /// `Crdt`'s "does not derive `Crdt`" error, at the user's type, unless it does.
    pub(crate) fn assert_crdt(&self, ty: &syn::Type) -> TokenStream {
        let span = syn::spanned::Spanned::span(ty);
        quote_spanned!(span=> const _: () = ::crdtype::__private::assert_crdt::<#ty>();)
    }
}

/// The value of a null or `skip` field: its declared default, else `Default::default()`,
/// spanned at the field so that a missing `Default` impl is reported there.
pub(crate) fn default_value(field: &FieldModel<'_>) -> TokenStream {
    match &field.default {
        DefaultValue::Function(path) => quote_spanned!(path_span(path)=> #path()),
        DefaultValue::Unspecified | DefaultValue::DefaultTrait => {
            let ty = &field.field.ty;
            quote_spanned!(field.type_span()=> <#ty as ::core::default::Default>::default())
        }
    }
}

pub(super) fn path_span(path: &syn::Path) -> Span {
    path.segments
        .last()
        .map_or_else(Span::call_site, |last| last.ident.span())
}
