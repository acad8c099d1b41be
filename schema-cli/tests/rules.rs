//! Every rule on every fixture pair (`tests/fixtures/<rule>/{old,new}`), the reports
//! snapshotted in `expected.txt` (`UPDATE_EXPECT=1` rewrites them); every rule has its
//! fixture; and whatever `flatc --conform` refuses of the exported `.fbs`, the check
//! refuses too.

use std::path::{Path, PathBuf};
use std::process::Command;

use crdtype_schema::check::{Mode, Report, compare, compare_with_lock};
use crdtype_schema::input::{self, Found};
use crdtype_schema::report::{Format, render};
use crdtype_schema::rules::RULES;

fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// The file of `dir` named `stem` with any extension.
fn side(dir: &Path, stem: &str) -> PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.file_stem().is_some_and(|name| name == stem))
        .unwrap_or_else(|| panic!("{} has no {stem}.*", dir.display()))
}

fn read(path: &Path) -> Vec<Found> {
    input::read(path).unwrap_or_else(|errors| panic!("{}: {errors:?}", path.display()))
}

/// The report of a fixture: against a lock file when the old side is one.
fn report(dir: &Path) -> (Vec<Found>, Vec<Found>, Report) {
    let (old_path, new_path) = (side(dir, "old"), side(dir, "new"));
    let (old, new) = (read(&old_path), read(&new_path));
    let report = if old_path
        .extension()
        .is_some_and(|extension| extension == "lock")
    {
        compare_with_lock(&old, &new)
    } else {
        compare(&old, &new)
    };
    (old, new, report)
}

#[test]
fn every_rule_runs_on_every_fixture_pair_as_snapshotted() {
    for dir in fixtures() {
        let (_, _, report) = report(&dir);
        let text = render(&report, Mode::Full, Format::Text);
        expect_test::expect_file![dir.join("expected.txt")].assert_eq(&text);
    }
}

#[test]
fn every_rule_has_a_fixture_that_triggers_it() {
    let dirs = fixtures();
    for rule in &RULES {
        let dir = dirs
            .iter()
            .find(|dir| dir.file_name().is_some_and(|name| name == rule.name))
            .unwrap_or_else(|| panic!("rule `{}` has no fixture", rule.name));
        let (_, _, report) = report(dir);
        assert!(
            report
                .findings
                .iter()
                .any(|finding| finding.rule == rule.name),
            "the fixture of `{}` does not trigger it",
            rule.name
        );
    }
    let compatible = dirs.iter().find(|dir| dir.ends_with("compatible")).unwrap();
    assert!(report(compatible).2.findings.is_empty());
}

#[test]
fn the_modes_fail_on_the_directions_they_check() {
    let dirs = fixtures();
    let fixture = |name: &str| report(dirs.iter().find(|dir| dir.ends_with(name)).unwrap()).2;
    let forward_only = fixture("migration_without_downgrade");
    assert!(forward_only.fails(Mode::Full) && forward_only.fails(Mode::Forward));
    assert!(!forward_only.fails(Mode::Backward) && !forward_only.fails(Mode::None));
    let backward_only = fixture("input_filter_narrowed");
    assert!(backward_only.fails(Mode::Backward) && !backward_only.fails(Mode::Forward));
    assert!(
        !fixture("view_changed").fails(Mode::Full),
        "warnings never fail"
    );
}

fn flatc_available() -> bool {
    let found = Command::new("flatc").arg("--version").output().is_ok();
    assert!(
        found || std::env::var_os("CRDTYPE_REQUIRE_FLATC").is_none(),
        "flatc is required (CRDTYPE_REQUIRE_FLATC is set) but not installed"
    );
    if !found {
        eprintln!("flatc is not installed: skipping the comparison with flatc --conform");
    }
    found
}

#[test]
fn what_flatc_conform_refuses_the_check_refuses_too() {
    if !flatc_available() {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let mut flatc_refused = 0;
    for dir in fixtures() {
        let (old, new, report) = report(&dir);
        for old in &old {
            let Some(new) = new.iter().find(|new| new.schema.name == old.schema.name) else {
                continue;
            };
            let old_fbs = scratch.path().join("old.fbs");
            let new_fbs = scratch.path().join("new.fbs");
            std::fs::write(&old_fbs, crdtype_model::fbs::export(&old.schema)).unwrap();
            std::fs::write(&new_fbs, crdtype_model::fbs::export(&new.schema)).unwrap();
            let output = Command::new("flatc")
                .arg("-o")
                .arg(scratch.path())
                .arg("--conform")
                .arg(&old_fbs)
                .arg(&new_fbs)
                .output()
                .unwrap();
            if !output.status.success() {
                flatc_refused += 1;
                let refused = report.findings.iter().any(|finding| {
                    finding.schema == old.schema.name
                        && finding.level == crdtype_schema::rules::Level::Error
                });
                assert!(
                    refused,
                    "flatc refuses schema {} of {} but the check does not: {}",
                    old.schema.name,
                    dir.display(),
                    String::from_utf8_lossy(&output.stderr)
                );
            }
        }
    }
    assert!(flatc_refused > 0, "no fixture exercises flatc's own checks");
}

#[test]
fn the_readme_lists_every_rule_as_the_rules_say() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    for rule in &RULES {
        let breaks = format!("{:?}", rule.breaks).to_lowercase();
        let level = format!("{:?}", rule.level).to_lowercase();
        let row = format!("| `{}` | {breaks} | {level} |", rule.name);
        assert!(readme.contains(&row), "README lacks the row {row}");
    }
}

#[test]
fn the_readme_shows_the_check_of_its_example_as_it_is() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("../README.md")).unwrap();
    let expected =
        std::fs::read_to_string(root.join("tests/fixtures/readme_example/expected.txt")).unwrap();
    assert!(readme.contains(&expected), "README lacks:\n{expected}");
}

#[test]
fn a_nested_struct_is_unchecked_only_while_no_input_defines_it() {
    let meeting = r#"
        #[derive(Crdt)]
        pub struct Meeting {
            #[crdt(map)]
            pub attendees: BTreeMap<String, Attendee>,
        }
    "#;
    let attendee = r#"
        #[derive(Crdt)]
        #[crdt(name = "calendar.Attendee")]
        pub struct Attendee {
            pub name: String,
        }
    "#;
    let unchecked = |found: &[Found]| {
        compare(found, found)
            .findings
            .iter()
            .filter(|finding| finding.rule == "nested_schema_unchecked")
            .count()
    };
    let alone = input::read_source("meeting.rs", meeting).unwrap();
    assert_eq!(unchecked(&alone), 1);
    let both = [alone, input::read_source("attendee.rs", attendee).unwrap()].concat();
    assert_eq!(unchecked(&both), 0, "found by its struct");
    // Exports do not name their struct: the schema name ends with it.
    let exported: Vec<Found> = both
        .into_iter()
        .map(|found| Found {
            struct_name: None,
            ..found
        })
        .collect();
    assert_eq!(unchecked(&exported), 0, "found by its schema name");
}

/// An export with every key a schema can have reads back: the list of keys an export may
/// hold (which refuses any other) must not leave one out.
#[test]
fn an_export_with_every_key_reads_back_as_it_was() {
    let source = r#"
        #[derive(Crdt)]
        #[crdt(name = "calendar.Event", version = 3, reserved(9), views(public))]
        pub struct Event {
            #[crdt(view(public), read_only)]
            pub title: String,
            #[crdt(id = 4, since = 2, default = "defaults::offset", renamed_from = "tz",
                   was(id = 2, type = "i32", upgrade = "up", downgrade = "down"))]
            pub offset: i64,
        }
    "#;
    let found = input::read_source("event.rs", source).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    for (name, text) in crdtype_schema::export(&found, false) {
        let path = scratch.path().join(name);
        std::fs::write(&path, text).unwrap();
        let read = input::read(&path).unwrap_or_else(|errors| panic!("{errors:?}"));
        assert_eq!(read[0].schema, found[0].schema);
        let field = &read[0].schema.fields[1];
        assert!(field.was.is_some() && field.renamed_from.is_some());
        assert!(read[0].schema.fields[0].read_only && !read[0].schema.views.is_empty());
    }
}
