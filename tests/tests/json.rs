//! JSON input through the filter, and output through views, on the fixtures.

use crdtype::json::{Action, Forbidden, Format, InputError, Op, canonicalize};
use crdtype::{CausalDotStore, HybridClock, ManualClock, ReplicaId, Timestamp};
use crdtype_tests::versions::meeting_v1;
use crdtype_tests::{CalendarEvent, CalendarEventCrdt, MeetingCrdt, sample_meeting};
use proptest::prelude::*;
use serde_json::json;

fn stamp(micros: u64) -> Timestamp {
    HybridClock::with_wall_clock(ReplicaId::new(1), ManualClock::new(micros)).now()
}

fn event() -> CausalDotStore<CalendarEventCrdt> {
    CalendarEventCrdt::from_value(
        &CalendarEvent {
            title: "Standup".to_owned(),
            utc_time: 1_000,
            tz_offset: 3_600,
            location: "Room 4".to_owned(),
        },
        stamp(1_000),
    )
}

fn meeting() -> CausalDotStore<MeetingCrdt> {
    MeetingCrdt::from_value(&sample_meeting(), stamp(1_000))
}

#[test]
fn a_merge_patch_writes_the_fields_it_names_and_null_deletes() {
    let mut state = event();
    let before = state.clone();
    let applied = state
        .apply_json(
            Format::MergePatch,
            r#"{"title": "Retro", "location": null}"#,
            stamp(2_000),
            Forbidden::Reject,
        )
        .unwrap();
    assert!(applied.dropped.is_empty());
    assert_eq!(state.store.title().map(String::as_str), Some("Retro"));
    assert_eq!(
        state.store.location(),
        None,
        "deleted, not set to a default"
    );
    assert_eq!(state.store.utc_time(), Some(&1_000), "untouched");
    // The delta carries exactly that change to another replica.
    assert_eq!(before.joined(applied.delta), state);
}

#[test]
fn a_merge_patch_merges_into_nested_structs_and_maps() {
    let mut state = meeting();
    state
        .apply_json(
            Format::MergePatch,
            r#"{"place": {"name": "Annex"}, "attendees": {"bob": {"name": "Bob"}}}"#,
            stamp(2_000),
            Forbidden::Reject,
        )
        .unwrap();
    let value = state.store.to_value();
    assert_eq!(value.place.name, "Annex");
    assert_eq!(value.place.seats, 10, "the other nested field is kept");
    assert_eq!(value.attendees.len(), 2, "the other entry is kept");
    assert_eq!(value.attendees["bob"].name, "Bob");
}

#[test]
fn two_appends_to_a_set_add_two_elements() {
    let mut state = meeting();
    let patch = json!([
        {"op": "add", "path": "/tags/-", "value": "a"},
        {"op": "add", "path": "/tags/-", "value": "b"},
    ]);
    state
        .apply_json(
            Format::Patch,
            &patch.to_string(),
            stamp(2_000),
            Forbidden::Reject,
        )
        .unwrap();
    assert_eq!(
        state.store.to_value().tags,
        ["a".to_owned(), "b".to_owned(), "q3".to_owned()].into()
    );
}

#[test]
fn a_removal_then_an_addition_leaves_a_two_phase_element_removed() {
    let mut state = meeting();
    let patch = json!([
        {"op": "remove", "path": "/cancelled_dates/1"},
        {"op": "add", "path": "/cancelled_dates/1", "value": true},
    ]);
    state
        .apply_json(
            Format::Patch,
            &patch.to_string(),
            stamp(2_000),
            Forbidden::Reject,
        )
        .unwrap();
    assert!(state.store.to_value().cancelled_dates.is_empty());
}

#[test]
fn resetting_a_field_of_an_absent_map_entry_does_not_create_it() {
    let mut state = meeting();
    state
        .apply_json(
            Format::Patch,
            r#"[{"op": "remove", "path": "/attendees/zed/name"}]"#,
            stamp(2_000),
            Forbidden::Reject,
        )
        .unwrap();
    assert!(!state.store.to_value().attendees.contains_key("zed"));
}

#[test]
fn an_object_is_the_new_value_so_fields_it_leaves_out_are_reset() {
    let mut state = event();
    state
        .apply_json(
            Format::Object,
            r#"{"title": "Retro", "utc_time": 5}"#,
            stamp(2_000),
            Forbidden::Reject,
        )
        .unwrap();
    assert_eq!(state.store.title().map(String::as_str), Some("Retro"));
    assert_eq!(
        (state.store.tz_offset(), state.store.location()),
        (None, None)
    );
}

#[test]
fn a_json_patch_addresses_nested_fields_set_elements_and_map_entries() {
    let mut state = meeting();
    let patch = json!([
        {"op": "replace", "path": "/place/name", "value": "Annex"},
        {"op": "add", "path": "/tags/urgent", "value": true},
        {"op": "add", "path": "/tags/-", "value": "team"},
        {"op": "remove", "path": "/tags/q3"},
        {"op": "replace", "path": "/attendees/ada/accepted", "value": true},
        {"op": "add", "path": "/attendees/bob", "value": {"name": "Bob"}},
        {"op": "test", "path": "/room", "value": "Blue"},
        {"op": "copy", "from": "/room", "path": "/title"},
        {"op": "add", "path": "/cancelled_dates/7", "value": true},
        {"op": "replace", "path": "/pinned", "value": true},
    ]);
    state
        .apply_json(
            Format::Patch,
            &patch.to_string(),
            stamp(2_000),
            Forbidden::Reject,
        )
        .unwrap();
    let value = state.store.to_value();
    assert_eq!(value.place.name, "Annex");
    assert_eq!(value.tags, ["team".to_owned(), "urgent".to_owned()].into());
    assert!(value.attendees["ada"].accepted);
    assert_eq!(value.attendees["bob"].name, "Bob");
    assert_eq!(value.title, "Blue");
    assert_eq!(value.cancelled_dates, [1, 7].into());
    assert!(value.pinned);

    let failed = state.apply_json(
        Format::Patch,
        r#"[{"op": "test", "path": "/room", "value": "Red"}]"#,
        stamp(3_000),
        Forbidden::Reject,
    );
    assert!(
        matches!(failed, Err(InputError::Patch { .. })),
        "{failed:?}"
    );
}

#[test]
fn forbidden_paths_are_all_named_or_dropped_and_reported() {
    let input = r#"{"title": "Retro", "views": 1000, "colour": "red", "place": {"floor": 3}}"#;
    let mut state = meeting();
    let before = state.clone();
    match state.apply_json(Format::MergePatch, input, stamp(2_000), Forbidden::Reject) {
        Err(InputError::Forbidden { paths }) => {
            assert_eq!(paths, ["/colour", "/place/floor", "/views"]);
        }
        other => panic!("expected the forbidden paths, got {other:?}"),
    }
    assert_eq!(state, before, "a refused input changes nothing");

    let applied = state
        .apply_json(Format::MergePatch, input, stamp(2_000), Forbidden::Drop)
        .unwrap();
    assert_eq!(applied.dropped, ["/colour", "/place/floor", "/views"]);
    assert_eq!(state.store.title().map(String::as_str), Some("Retro"));
    assert_eq!(state.store.views(), 7, "read-only: input did not write it");
}

#[test]
fn a_value_of_the_wrong_type_names_the_path_and_type_and_nothing_is_applied() {
    let mut state = event();
    let before = state.clone();
    let error = state
        .apply_json(
            Format::MergePatch,
            r#"{"title": "Retro", "utc_time": "noon"}"#,
            stamp(2_000),
            Forbidden::Reject,
        )
        .unwrap_err();
    match &error {
        InputError::Type { path, expected, .. } => {
            assert_eq!((path.as_str(), expected.as_str()), ("/utc_time", "i64"));
        }
        other => panic!("expected a type error, got {other:?}"),
    }
    assert_eq!(state, before, "the valid title was not applied either");
}

/// A merge patch is read as it is parsed: each failure is told as what it is, and none
/// applies anything.
#[test]
fn a_merge_patch_read_as_it_is_parsed_reports_each_failure_as_what_it_is() {
    let mut state = event();
    let before = state.clone();
    let mut refused = |input: &str| {
        state
            .apply_json(Format::MergePatch, input, stamp(2_000), Forbidden::Reject)
            .unwrap_err()
    };
    // Cut inside a typed value: the JSON is broken, whatever the field's type.
    assert!(matches!(
        refused(r#"{"title": "Ret"#),
        InputError::Syntax(_)
    ));
    // Not JSON, even after a value of the wrong type: refused as not JSON.
    assert!(matches!(
        refused(r#"{"utc_time": "noon", "title": }"#),
        InputError::Syntax(_)
    ));
    assert!(matches!(refused("12abc"), InputError::Syntax(_)));
    assert!(matches!(
        refused(r#"{"title": "Retro"} x"#),
        InputError::Syntax(_)
    ));
    assert!(matches!(refused(r#"["title"]"#), InputError::Shape { .. }));
    assert!(matches!(refused("12"), InputError::Shape { .. }));
    // A number that does not fit the field's type.
    assert!(matches!(
        refused(r#"{"tz_offset": 3000000000}"#),
        InputError::Type { .. }
    ));
    assert_eq!(state, before, "nothing refused was applied");
}

#[test]
fn a_merge_patch_reads_escaped_names_and_refuses_a_name_given_twice() {
    let mut state = event();
    state
        .apply_json(
            Format::MergePatch,
            r#"{"ti\u0074le": "Retro", "utc_time": 5}"#,
            stamp(2_000),
            Forbidden::Reject,
        )
        .unwrap();
    assert_eq!(state.store.title().map(String::as_str), Some("Retro"));
    assert_eq!(state.store.utc_time(), Some(&5));

    // Whichever of two values a reader took, another might take the other.
    let mut meeting = meeting();
    let before = meeting.clone();
    for input in [
        r#"{"priority": 5, "priority": 6}"#,
        r#"{"tags": null, "tags": ["a"]}"#,
        r#"{"attendees": {"bo": {}}, "attendees": {"cy": {}}}"#,
    ] {
        for format in [Format::Object, Format::MergePatch] {
            let refused = meeting.apply_json(format, input, stamp(2_000), Forbidden::Reject);
            assert!(
                matches!(&refused, Err(InputError::Shape { reason, .. }) if reason.contains("named twice")),
                "{input}: {refused:?}"
            );
        }
    }
    assert_eq!(meeting, before);
}

/// Operations that replace the whole document (a JSON Patch refuses the root, but
/// `apply_ops` takes it) and then a field: the field's write applies after the
/// replacement, not before it.
#[test]
fn a_field_written_after_the_whole_document_keeps_its_place_in_the_batch() {
    let mut state = event();
    let ops = [
        Op {
            path: vec![],
            action: Action::Modify(json!({"title": "Whole", "location": "Hall"})),
        },
        Op {
            path: vec!["title".to_owned()],
            action: Action::Modify(json!("Field")),
        },
    ];
    state
        .apply_ops(&ops, stamp(2_000), Forbidden::Reject)
        .unwrap();
    assert_eq!(state.store.title().map(String::as_str), Some("Field"));
    assert_eq!(state.store.location().map(String::as_str), Some("Hall"));
    assert_eq!(state.store.utc_time(), None, "the replacement reset it");
}

/// Operations on every single-valued kind, typed on reading, and their resets.
#[test]
fn registers_counters_and_flags_take_values_and_resets_from_every_format() {
    let mut state = meeting();
    state
        .apply_json(
            Format::MergePatch,
            r#"{"room": "Red", "pinned": true, "priority": 5}"#,
            stamp(2_000),
            Forbidden::Reject,
        )
        .unwrap();
    let value = state.store.to_value();
    assert_eq!(
        (value.room.as_str(), value.pinned, value.priority),
        ("Red", true, 5)
    );

    let ops = [
        Op {
            path: vec!["room".to_owned()],
            action: Action::Delete,
        },
        Op {
            path: vec!["pinned".to_owned()],
            action: Action::Modify(json!(null)),
        },
    ];
    let applied = state
        .apply_ops(&ops, stamp(3_000), Forbidden::Reject)
        .unwrap();
    let value = state.store.to_value();
    assert_eq!((value.room.as_str(), value.pinned), ("", false));
    // `views` is read-only; the nested `seats` counter resets to 0.
    state
        .apply_json(
            Format::MergePatch,
            r#"{"place": {"seats": null}}"#,
            stamp(3_500),
            Forbidden::Reject,
        )
        .unwrap();
    assert_eq!(state.store.to_value().place.seats, 0);
    assert!(
        !applied.delta.context.is_empty(),
        "the resets are in the delta"
    );

    let inside = [Op {
        path: vec!["pinned".to_owned(), "x".to_owned()],
        action: Action::Add(json!(true)),
    }];
    assert!(matches!(
        state.apply_ops(&inside, stamp(4_000), Forbidden::Reject),
        Err(InputError::NoMembers { .. })
    ));
}

#[test]
fn views_show_their_fields_and_output_says_what_it_left_out() {
    let state = meeting();
    let everything = state.to_json(None).unwrap();
    let fields: Vec<&String> = everything.json.as_object().unwrap().keys().collect();
    assert_eq!(
        fields.len(),
        9,
        "every replicated field, not `draft_note`: {fields:?}"
    );
    assert_eq!(everything.json["place"], json!({"name": "HQ", "seats": 10}));
    assert_eq!(everything.json["attendees"]["ada"]["name"], "Ada");
    assert_eq!(everything.omitted_unknown_fields, 0);

    let summary = state.to_json(Some("summary")).unwrap();
    assert_eq!(summary.json, json!({"title": "Planning", "pinned": false}));
    assert!(state.to_json(Some("secret")).is_err());

    // An older replica's JSON says that it holds fields it cannot show.
    let old = CausalDotStore::<meeting_v1::MeetingCrdt>::decode(&state.encode()).unwrap();
    let shown = old.to_json(None).unwrap();
    assert_eq!(shown.json, json!({"title": "Planning", "views": 7}));
    // Seven fields it does not know, less `pinned`, which is off, so holds nothing.
    assert_eq!(shown.omitted_unknown_fields, 6);
}

// The canonical transform keeps a batch's meaning: applying a batch (made canonical by the
// pipeline) gives the same value as applying it operation by operation, whenever it is
// valid; and the canonical batch is never longer.

fn op() -> impl Strategy<Value = Op> {
    let path = prop_oneof![
        Just(vec!["title".to_owned()]),
        Just(vec!["place".to_owned()]),
        Just(vec!["place".to_owned(), "name".to_owned()]),
        Just(vec!["tags".to_owned()]),
        Just(vec!["tags".to_owned(), "a".to_owned()]),
        Just(vec!["attendees".to_owned(), "ada".to_owned()]),
        Just(vec![
            "attendees".to_owned(),
            "ada".to_owned(),
            "name".to_owned()
        ]),
    ];
    let action = prop_oneof![
        (0..3u8).prop_map(|n| Action::Add(json!(n))),
        (0..3u8).prop_map(|n| Action::Modify(json!(n))),
        Just(Action::Delete),
    ];
    (path, action).prop_map(|(path, action)| {
        // A value of the path's type, from the drawn number.
        let action = match action {
            Action::Add(n) | Action::Modify(n)
                if path.len() == 2 && (path[0] == "tags" || path[0] == "cancelled_dates") =>
            {
                Action::Add(n)
            }
            Action::Add(n) => Action::Add(value_for(&path, &n)),
            Action::Modify(n) => Action::Modify(value_for(&path, &n)),
            other => other,
        };
        Op { path, action }
    })
}

fn value_for(path: &[String], n: &serde_json::Value) -> serde_json::Value {
    match path
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["place"] => json!({"name": format!("p{n}")}),
        ["tags"] => json!([format!("t{n}")]),
        ["cancelled_dates"] => json!([n]),
        ["attendees", _] => json!({"name": format!("n{n}")}),
        _ => json!(format!("v{n}")),
    }
}

fn patch(ops: &[Op]) -> String {
    let ops: Vec<serde_json::Value> = ops
        .iter()
        .map(|op| match &op.action {
            Action::Add(value) => json!({"op": "add", "path": op.pointer(), "value": value}),
            Action::Modify(value) | Action::Merge(value) => {
                json!({"op": "replace", "path": op.pointer(), "value": value})
            }
            Action::Delete => json!({"op": "remove", "path": op.pointer()}),
        })
        .collect();
    serde_json::Value::Array(ops).to_string()
}

/// Valid input of every kind of field, for the mangling property.
const OBJECT: &str = r#"{"title": "Retro", "room": null, "views": 3, "pinned": true, "tags": ["a"], "place": {"seats": 4}, "attendees": {"bo": {"accepted": true}}}"#;
const PATCH: &str = r#"[{"op": "add", "path": "/tags/-", "value": "x"}, {"op": "replace", "path": "/priority", "value": 9}, {"op": "remove", "path": "/room"}]"#;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_canonical_batch_means_what_the_raw_batch_means(
        ops in prop::collection::vec(op(), 1..8),
    ) {
        let Ok(canonical) = canonicalize(ops.clone()) else {
            return Ok(());
        };
        prop_assert!(canonical.len() <= ops.len());
        let mut raw = meeting();
        for op in &ops {
            raw.apply_json(Format::Patch, &patch(std::slice::from_ref(op)), stamp(2_000), Forbidden::Reject)
                .map_err(|error| TestCaseError::fail(error.to_string()))?;
        }
        // The whole raw batch through the pipeline, which makes it canonical knowing the
        // kinds (it does not combine inside a two-phase set).
        let mut batched = meeting();
        batched
            .apply_json(Format::Patch, &patch(&ops), stamp(2_000), Forbidden::Reject)
            .map_err(|error| TestCaseError::fail(error.to_string()))?;
        prop_assert_eq!(raw.store.to_value(), batched.store.to_value());
    }

    /// Untrusted JSON, mangled: every input is applied whole or refused with nothing
    /// changed, and none panics.
    #[test]
    fn mangled_input_is_applied_whole_or_refused_without_a_change(
        (base, format) in prop::sample::select(vec![
            (OBJECT, Format::Object),
            (OBJECT, Format::MergePatch),
            (PATCH, Format::Patch),
        ]),
        edits in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(
            vec!["", "\"", "{", "}", "[", "]", ",", ":", "null", "1e999", "-1", "\\u0000", "/", "~1", "\u{e9}"],
        )), 0..4),
        forbidden in prop::sample::select(vec![Forbidden::Reject, Forbidden::Drop]),
    ) {
        let mut input = base.to_owned();
        for (at, text) in edits {
            let mut at = at.index(input.len() + 1);
            while !input.is_char_boundary(at) {
                at -= 1;
            }
            // Replace one character, or insert where there is none.
            let end = input[at..].chars().next().map_or(at, |c| at + c.len_utf8());
            input.replace_range(at..end, text);
        }
        let mut state = meeting();
        let before = state.clone();
        match state.apply_json(format, &input, stamp(2_000), forbidden) {
            Err(_) => prop_assert_eq!(state, before),
            // Applied: the delta moves the old state to the new one.
            Ok(applied) => {
                let mut joined = before;
                joined.join(applied.delta);
                prop_assert_eq!(joined, state);
            }
        }
    }
}
