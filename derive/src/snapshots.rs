//! Expansion snapshots of two representative structs, so that every change to the
//! generated code shows in review. Refresh with `UPDATE_EXPECT=1 cargo test -p
//! crdtype-derive` and read the diff.

use crdtype_model::syntax::Model;
use expect_test::{ExpectFile, expect_file};

fn assert_expansion(input: &str, expected: ExpectFile) {
    let input: syn::DeriveInput = syn::parse_str(input).unwrap();
    let model = Model::from_syntax(&input).unwrap_or_else(|errors| panic!("{errors}"));
    let file: syn::File = syn::parse2(crate::expand::derive(&model)).unwrap();
    expected.assert_eq(&prettyplease::unparse(&file));
}

#[test]
fn calendar_event() {
    assert_expansion(
        r#"
        #[crdt(name = "calendar.Event", version = 2)]
        pub struct CalendarEvent {
            pub title: String,
            pub utc_time: i64,
            pub tz_offset: i32,
            #[crdt(since = 2, default)]
            pub location: String,
        }
        "#,
        expect_file!["../snapshots/calendar_event.expanded.rs"],
    );
}

#[test]
fn every_kind() {
    assert_expansion(
        r#"
        #[crdt(version = 3, reserved(11))]
        pub struct Meeting {
            #[crdt(mv)]
            pub room: String,
            #[crdt(counter)]
            pub views: i64,
            #[crdt(set)]
            pub tags: BTreeSet<String>,
            #[crdt(two_phase_set)]
            pub cancelled_dates: BTreeSet<u32>,
            #[crdt(flag)]
            pub pinned: bool,
            #[crdt(nested)]
            pub place: Place,
            #[crdt(map, id = 10)]
            pub attendees: BTreeMap<String, Attendee>,
            #[crdt(skip, default)]
            pub draft_note: String,
            #[crdt(since = 3, default = "default_priority", renamed_from = "importance")]
            pub priority: u8,
        }
        "#,
        expect_file!["../snapshots/every_kind.expanded.rs"],
    );
}
