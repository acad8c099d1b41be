//! The macro and the schema CLI read schemas with the same model: the descriptor that
//! `T::schema()` returns at run time equals the one `crdtype-schema` reads from the
//! source text.

use crdtype::Crdt;
use crdtype::schema::Schema;
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

/// The schemas of the `#[derive(Crdt)]` structs in `source`, in order, modules included,
/// as the schema CLI reads them.
fn schemas_in(source: &str) -> Vec<Schema> {
    crdtype_schema::input::read_source("source.rs", source)
        .unwrap()
        .into_iter()
        .map(|found| found.schema)
        .collect()
}
