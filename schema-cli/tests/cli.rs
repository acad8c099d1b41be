//! The `crdtype-schema` binary: exit statuses, errors with their place, JSON output, and
//! the history and lock workflows.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(rule: &str, side: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rule)
        .join(format!("{side}.rs"))
}

fn run(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_crdtype-schema"))
        .args(args)
        .output()
        .unwrap()
}

fn status(output: &Output) -> i32 {
    output.status.code().unwrap()
}

#[test]
fn check_exits_0_when_compatible_1_when_not_and_2_on_bad_input() {
    let compatible = run(&[
        "check".as_ref(),
        fixture("compatible", "old").as_os_str(),
        fixture("compatible", "new").as_os_str(),
    ]);
    assert_eq!(status(&compatible), 0);
    let broken = run(&[
        "check".as_ref(),
        fixture("field_type_changed", "old").as_os_str(),
        fixture("field_type_changed", "new").as_os_str(),
    ]);
    assert_eq!(status(&broken), 1);
    assert!(String::from_utf8_lossy(&broken.stdout).contains("error[field_type_changed]"));

    let scratch = tempfile::tempdir().unwrap();
    let invalid = scratch.path().join("invalid.rs");
    std::fs::write(
        &invalid,
        "use crdtype::Crdt;\n\n#[derive(Crdt)]\nstruct Event {\n    #[crdt(countr)]\n    views: i64,\n}\n",
    )
    .unwrap();
    let refused = run(&[
        "check".as_ref(),
        invalid.as_os_str(),
        fixture("compatible", "new").as_os_str(),
    ]);
    assert_eq!(status(&refused), 2);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr
            .contains("invalid.rs:5:12: unknown crdt attribute `countr`: did you mean `counter`?"),
        "{stderr}"
    );
    let missing = run(&[
        "check".as_ref(),
        "nowhere.rs".as_ref(),
        "nowhere.rs".as_ref(),
    ]);
    assert_eq!(status(&missing), 2);
}

#[test]
fn json_output_lists_every_finding() {
    let output = run(&[
        "check".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        fixture("field_id_changed", "old").as_os_str(),
        fixture("field_id_changed", "new").as_os_str(),
    ]);
    assert_eq!(status(&output), 1);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["compatible"], false);
    let rules: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| finding["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["field_id_changed", "field_id_changed", "id_reused"]);
}

#[test]
fn a_history_keeps_every_id_ever_used_retired() {
    let scratch = tempfile::tempdir().unwrap();
    let history = scratch.path().join("history");
    let source = |name: &str, text: &str| {
        let path = scratch.path().join(name);
        std::fs::write(&path, format!("use crdtype::Crdt;\n\n{text}")).unwrap();
        path
    };
    // v1 has `room` at id 1; v2 removes it and reserves the id; v3 forgets the reservation
    // and gives the id to `owner`. Against v2 alone that is a dropped reservation; the
    // history also knows whose id it was.
    let v1 = source(
        "v1.rs",
        "#[derive(Crdt)]\nstruct Event { title: String, room: String }\n",
    );
    let v2 = source(
        "v2.rs",
        "#[derive(Crdt)]\n#[crdt(version = 2, reserved(1))]\nstruct Event { title: String }\n",
    );
    let v3 = source(
        "v3.rs",
        "#[derive(Crdt)]\n#[crdt(version = 3)]\nstruct Event {\n    title: String,\n    \
         #[crdt(since = 3, default)]\n    owner: String,\n}\n",
    );
    for version in [&v1, &v2] {
        let export = run(&[
            "export".as_ref(),
            version.as_os_str(),
            "-o".as_ref(),
            history.as_os_str(),
        ]);
        assert_eq!(status(&export), 0);
    }
    let output = run(&[
        "check".as_ref(),
        "--history".as_ref(),
        history.as_os_str(),
        v3.as_os_str(),
    ]);
    assert_eq!(status(&output), 1);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("error[reserved_id_dropped]"), "{stdout}");
    assert!(
        stdout.contains("error[id_reused]: Event.owner: `owner` takes id 1, which `room` wrote"),
        "{stdout}"
    );
}

#[test]
fn the_lock_workflow_passes_until_the_sources_change() {
    let scratch = tempfile::tempdir().unwrap();
    let lock = scratch.path().join("crdtype-schema.lock");
    let sources = scratch.path().join("src");
    std::fs::create_dir(&sources).unwrap();
    std::fs::copy(fixture("compatible", "old"), sources.join("event.rs")).unwrap();
    let locked = run(&[
        "lock".as_ref(),
        sources.as_os_str(),
        "-o".as_ref(),
        lock.as_os_str(),
    ]);
    assert_eq!(status(&locked), 0);
    let check = || {
        run(&[
            "check".as_ref(),
            "--lock".as_ref(),
            lock.as_os_str(),
            sources.as_os_str(),
        ])
    };
    assert_eq!(status(&check()), 0);
    // A compatible change still fails until the lock is updated.
    std::fs::copy(fixture("compatible", "new"), sources.join("event.rs")).unwrap();
    let outdated = check();
    assert_eq!(status(&outdated), 1);
    assert!(String::from_utf8_lossy(&outdated.stdout).contains("error[lock_outdated]"));
    run(&[
        "lock".as_ref(),
        sources.as_os_str(),
        "-o".as_ref(),
        lock.as_os_str(),
    ]);
    assert_eq!(status(&check()), 0);
}

#[test]
fn modes_choose_the_directions_that_fail() {
    let check = |mode: &str| {
        status(&run(&[
            "check".as_ref(),
            "--mode".as_ref(),
            mode.as_ref(),
            fixture("migration_without_downgrade", "old").as_os_str(),
            fixture("migration_without_downgrade", "new").as_os_str(),
        ]))
    };
    assert_eq!(
        [
            check("full"),
            check("forward"),
            check("backward"),
            check("none")
        ],
        [1, 1, 0, 0]
    );
}

#[test]
fn json_inputs_are_checked_and_their_errors_placed() {
    let scratch = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = scratch.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let bare = r#"{"name": "Event", "version": 1, "reserved": [], "fields": [
        {"name": "title", "id": 0, "rust_type": "String", "kind": "lww", "since": 1,
         "default": "unspecified", "renamed_from": null}]}"#;
    let one = write("one.json", bare);
    let list = write("list.json", &format!("[{bare}]"));
    assert_eq!(
        status(&run(&["check".as_ref(), one.as_os_str(), list.as_os_str()])),
        0
    );

    let broken = write(
        "broken.json",
        "{\n  \"name\": \"Event\",\n  \"version\": 1,\n  \"fields\": [\n    {\"name\": \"title\", \"kind\": \"countr\"}\n  ]\n}\n",
    );
    let output = run(&["check".as_ref(), broken.as_os_str(), one.as_os_str()]);
    assert_eq!(status(&output), 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("broken.json:5:"), "{stderr}");

    let edited = write(
        "edited.json",
        &bare.replacen(
            '{',
            r#"{"fingerprint": "00000000000000000000000000000000", "#,
            1,
        ),
    );
    let output = run(&["check".as_ref(), edited.as_os_str(), one.as_os_str()]);
    assert_eq!(status(&output), 2);
    assert!(String::from_utf8_lossy(&output.stderr).contains("edited by hand"));

    // A misspelled key is refused, where it stands, not dropped: in a field, and at the top.
    for (name, text) in [
        ("field.json", bare.replace("renamed_from", "renamed_form")),
        (
            "top.json",
            bare.replacen('{', r#"{"rust_sturct": "Event", "#, 1),
        ),
    ] {
        let misspelled = write(name, &text);
        let output = run(&["check".as_ref(), misspelled.as_os_str(), one.as_os_str()]);
        assert_eq!(status(&output), 2, "{name}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("unknown field"), "{stderr}");
        assert!(stderr.contains(&format!("{name}:")), "{stderr}");
    }

    let duplicate_ids = write("duplicate.json", &bare.replace("]}", r#", {"name": "room", "id": 0, "rust_type": "String", "kind": "lww", "since": 1, "default": "unspecified", "renamed_from": null}]}"#));
    let output = run(&["check".as_ref(), duplicate_ids.as_os_str(), one.as_os_str()]);
    assert_eq!(status(&output), 2);
    assert!(String::from_utf8_lossy(&output.stderr).contains("id 0 is used twice"));

    let future = write(
        "future.lock",
        r#"{"crdtype_schema_lock": 9, "schemas": []}"#,
    );
    let output = run(&[
        "check".as_ref(),
        "--lock".as_ref(),
        future.as_os_str(),
        one.as_os_str(),
    ]);
    assert_eq!(status(&output), 2);
    assert!(String::from_utf8_lossy(&output.stderr).contains("format 9"));
}

#[test]
fn a_history_accepts_a_field_renamed_twice() {
    let scratch = tempfile::tempdir().unwrap();
    let history = scratch.path().join("history");
    let versions = [
        "#[derive(Crdt)]\nstruct Event { title: String }\n",
        "#[derive(Crdt)]\n#[crdt(version = 2)]\nstruct Event {\n    #[crdt(renamed_from = \"title\")]\n    name: String,\n}\n",
        "#[derive(Crdt)]\n#[crdt(version = 3)]\nstruct Event {\n    #[crdt(renamed_from = \"name\")]\n    label: String,\n}\n",
    ];
    let mut paths = Vec::new();
    for (index, text) in versions.iter().enumerate() {
        let path = scratch.path().join(format!("v{}.rs", index + 1));
        std::fs::write(&path, format!("use crdtype::Crdt;\n\n{text}")).unwrap();
        paths.push(path);
    }
    for path in &paths[..2] {
        run(&[
            "export".as_ref(),
            path.as_os_str(),
            "-o".as_ref(),
            history.as_os_str(),
        ]);
    }
    let output = run(&[
        "check".as_ref(),
        "--history".as_ref(),
        history.as_os_str(),
        paths[2].as_os_str(),
    ]);
    assert_eq!(
        status(&output),
        0,
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn source_directories_read_rust_files_only() {
    let scratch = tempfile::tempdir().unwrap();
    let crate_root = scratch.path();
    std::fs::write(crate_root.join("Cargo.lock"), "# not JSON\nversion = 4\n").unwrap();
    std::fs::write(crate_root.join("package.json"), "{\"name\": \"web\"}").unwrap();
    std::fs::copy(fixture("compatible", "old"), crate_root.join("event.rs")).unwrap();
    let lock = crate_root.join("crdtype-schema.lock");
    let locked = run(&[
        "lock".as_ref(),
        crate_root.as_os_str(),
        "-o".as_ref(),
        lock.as_os_str(),
    ]);
    assert_eq!(
        status(&locked),
        0,
        "{}",
        String::from_utf8_lossy(&locked.stderr)
    );
    let checked = run(&[
        "check".as_ref(),
        "--lock".as_ref(),
        lock.as_os_str(),
        crate_root.as_os_str(),
    ]);
    assert_eq!(
        status(&checked),
        0,
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
}
