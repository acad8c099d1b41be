//! The macro and the schema CLI read schemas with the same model: the descriptor that
//! `T::schema()` returns at run time equals the one the model reads from the source text.

use crdtype::Crdt;
use crdtype_model::syntax::{Model, derives_crdt};
use crdtype_tests::{Attendee, CalendarEvent, Hall, Meeting, Place, Seat};

#[test]
fn the_descriptor_read_from_source_equals_the_generated_one() {
    let source = include_str!("../lib.rs");
    let file = syn::parse_file(source).unwrap();
    let from_source: Vec<_> = file
        .items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Struct(item) if derives_crdt(&item.attrs) => Some(item.clone()),
            _ => None,
        })
        .map(|item| {
            let input = syn::DeriveInput::from(item);
            Model::from_syntax(&input).unwrap().schema()
        })
        .collect();
    let generated = vec![
        CalendarEvent::schema(),
        Attendee::schema(),
        Place::schema(),
        Meeting::schema(),
        Seat::schema(),
        Hall::schema(),
    ];
    assert_eq!(from_source, generated);
}
