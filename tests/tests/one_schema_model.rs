//! The macro and the schema CLI read schemas with the same model: the descriptor that
//! `T::schema()` returns at run time equals the one the model reads from the source text.

use crdtype::Crdt;
use crdtype::schema::Schema;
use crdtype_model::syntax::{Model, derives_crdt};
use crdtype_tests::versions::{meeting_v1, meeting_v2, task_v1, task_v2, task_v3};
use crdtype_tests::{Attendee, CalendarEvent, Hall, Meeting, Place, Seat};

#[test]
fn the_descriptor_read_from_source_equals_the_generated_one() {
    assert_eq!(
        schemas_in(include_str!("../lib.rs")),
        [
            CalendarEvent::schema(),
            Attendee::schema(),
            Place::schema(),
            Meeting::schema(),
            Seat::schema(),
            Hall::schema(),
        ]
    );
    assert_eq!(
        schemas_in(include_str!("../versions.rs")),
        [
            meeting_v1::Meeting::schema(),
            meeting_v2::Meeting::schema(),
            task_v1::Task::schema(),
            task_v2::Task::schema(),
            task_v3::Task::schema(),
        ]
    );
}

/// The schemas of the `#[derive(Crdt)]` structs in `source`, in order, modules included.
fn schemas_in(source: &str) -> Vec<Schema> {
    fn walk(items: &[syn::Item], schemas: &mut Vec<Schema>) {
        for item in items {
            match item {
                syn::Item::Struct(item) if derives_crdt(&item.attrs) => {
                    let input = syn::DeriveInput::from(item.clone());
                    schemas.push(Model::from_syntax(&input).unwrap().schema());
                }
                syn::Item::Mod(module) => {
                    if let Some((_, items)) = &module.content {
                        walk(items, schemas);
                    }
                }
                _ => {}
            }
        }
    }
    let mut schemas = Vec::new();
    walk(&syn::parse_file(source).unwrap().items, &mut schemas);
    schemas
}
