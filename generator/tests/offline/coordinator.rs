//! Issue 12, updates coordinated: `coordinator: none` writes no coordinator files; `updates`
//! is in the schema with kured by default; a bad reboot window is refused at its
//! file:line:col. (The manifest and play checked by kubernetes-validate, ansible-playbook and
//! PyYAML, the window in kured's arguments: the acceptance suite's `coordinator`.)

use crate::common;

use common::*;
use flatcar_kube::profile::load_str;
use serde_json::Value;

#[test]
fn coordinator_none_generates_no_coordinator_files() {
    let tmp = tempfile::tempdir().unwrap();
    let (text, profile) = starter_with(tmp.path(), "updates:\n  coordinator: none\n");
    let out = tmp.path().join("out");
    generate(&profile, &out);
    assert!(out.join("deploy.sh").is_file());
    assert!(!out.join("coordinator").exists(), "{:?}", files_under(&out));
    assert_eq!(
        flatcar_kube::render::coordinator_playbook(&load(&text), &out),
        None
    );
}

#[test]
fn updates_is_in_the_schema_with_kured_by_default() {
    let out = run_ok(bin().arg("schema"));
    let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(schema["properties"]["updates"].is_object(), "{schema}");
    let window = &schema["$defs"]["RebootWindow"];
    assert_eq!(window["additionalProperties"], false);
    assert_eq!(window["properties"]["start"]["default"], "02:00");
    assert_eq!(window["properties"]["time_zone"]["default"], "UTC");
    let tmp = tempfile::tempdir().unwrap();
    let (text, _) = starter_with(tmp.path(), "");
    let w = &load(&text).profile.updates;
    assert_eq!(w.coordinator, flatcar_kube::profile::Coordinator::Kured);
}

#[test]
fn a_bad_reboot_window_is_refused_at_its_file_line_col() {
    let tmp = tempfile::tempdir().unwrap();
    let (starter, _) = starter_with(tmp.path(), "");
    let base = starter.lines().count();
    let errors = |extra: &str| -> Vec<String> {
        let text = format!("{starter}{extra}");
        match load_str(&text, "p.yaml", Some(&home())) {
            Ok(_) => panic!("accepted:\n{extra}"),
            Err(e) => e.0.iter().map(ToString::to_string).collect(),
        }
    };

    let found = errors(
        "updates:\n  reboot_window:\n    start: \"2:00\"\n    end: \"25:00\"\n    time_zone: Mars/Olympus Mons\n",
    );
    assert_eq!(
        found,
        [
            format!("p.yaml:{}:12: reboot window start `2:00` is not a time like `02:00`; write HH:MM on a 24-hour clock, from `00:00` to `23:59`, in quotes", base + 3),
            format!("p.yaml:{}:10: reboot window end `25:00` is not a time like `02:00`; write HH:MM on a 24-hour clock, from `00:00` to `23:59`, in quotes", base + 4),
            format!("p.yaml:{}:16: `Mars/Olympus Mons` is not an IANA time zone name; write a name like `UTC`, `Europe/Berlin` or `America/Indiana/Indianapolis`", base + 5),
        ]
    );

    // A day's name is checked while reading, with a suggestion.
    let found = errors("updates:\n  reboot_window:\n    days: [mon, tuesday]\n");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with(&format!("p.yaml:{}:17: ", base + 3))
            && found[0].contains("`tuesday`")
            && found[0].contains("`tue`"),
        "{found:?}"
    );

    let found = errors(
        "updates:\n  reboot_window:\n    days: []\n    start: \"03:00\"\n    end: \"03:00\"\n",
    );
    assert_eq!(
        found,
        [
            format!("p.yaml:{}:11: the reboot window has no days, so updates would never be applied; list days such as `[mon, tue, wed, thu, fri]`, or set `updates.coordinator: none`", base + 3),
            format!("p.yaml:{}:10: the reboot window starts and ends at 03:00; give it room for a drain and a reboot, e.g. `start: \"02:00\"`, `end: \"05:00\"`", base + 5),
        ]
    );

    // Without a coordinator the window is not read.
    let text =
        format!("{starter}updates:\n  coordinator: none\n  reboot_window:\n    start: \"2:00\"\n");
    assert!(load_str(&text, "p.yaml", Some(&home())).is_ok());
}
