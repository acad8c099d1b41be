//! The schema descriptor as code: the model's [`Schema`] value, rebuilt at run time by
//! `T::schema()`, so the macro and the CLI produce the same descriptor.

use crdtype_model::{FieldDefault, Kind, PreviousType, Schema};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

pub(crate) fn schema_expr(schema: &Schema) -> TokenStream {
    let Schema {
        name,
        version,
        fields,
        reserved,
        views,
    } = schema;
    let fields = fields.iter().map(|field| {
        let name = &field.name;
        let id = field.id;
        let rust_type = &field.rust_type;
        let kind = kind_path(field.kind);
        let since = field.since;
        let default = match &field.default {
            FieldDefault::Unspecified => quote!(::crdtype::schema::FieldDefault::Unspecified),
            FieldDefault::DefaultTrait => quote!(::crdtype::schema::FieldDefault::DefaultTrait),
            FieldDefault::Function(path) => quote! {
                ::crdtype::schema::FieldDefault::Function(::std::string::String::from(#path))
            },
        };
        let renamed_from = match &field.renamed_from {
            Some(old) => quote!(::core::option::Option::Some(::std::string::String::from(#old))),
            None => quote!(::core::option::Option::None),
        };
        let read_only = field.read_only;
        let field_views = &field.views;
        let was = match &field.was {
            Some(PreviousType {
                id,
                rust_type,
                upgrade,
                downgrade,
            }) => {
                let downgrade = match downgrade {
                    Some(path) => {
                        quote!(::core::option::Option::Some(::std::string::String::from(#path)))
                    }
                    None => quote!(::core::option::Option::None),
                };
                quote! {
                    ::core::option::Option::Some(::crdtype::schema::PreviousType {
                        id: #id,
                        rust_type: ::std::string::String::from(#rust_type),
                        upgrade: ::std::string::String::from(#upgrade),
                        downgrade: #downgrade,
                    })
                }
            }
            None => quote!(::core::option::Option::None),
        };
        quote! {
            ::crdtype::schema::FieldSchema {
                name: ::std::string::String::from(#name),
                id: #id,
                rust_type: ::std::string::String::from(#rust_type),
                kind: #kind,
                since: #since,
                default: #default,
                renamed_from: #renamed_from,
                was: #was,
                read_only: #read_only,
                views: ::std::vec![#(::std::string::String::from(#field_views)),*],
            }
        }
    });
    quote! {
        ::crdtype::schema::Schema {
            name: ::std::string::String::from(#name),
            version: #version,
            fields: ::std::vec![#(#fields),*],
            reserved: ::std::vec![#(#reserved),*],
            views: ::std::vec![#(::std::string::String::from(#views)),*],
        }
    }
}

fn kind_path(kind: Kind) -> TokenStream {
    let variant = format_ident!("{}", format!("{kind:?}"));
    quote!(::crdtype::schema::Kind::#variant)
}
