//! Done-when 4: `inventory` turns the committed `terraform output -json` fixture (our module)
//! and `terraform show -json` fixture (Kubespray contrib-shaped, with empty items in
//! `kubespray_groups` and floating-IP associations) into the expected hosts.yaml.

use crate::common;

use std::io::Write as _;
use std::process::Stdio;

use common::*;

fn inventory_from_stdin(input: &[u8]) -> std::process::Output {
    let mut child = bin()
        .arg("inventory")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn terraform_output_json_of_our_module() {
    let dir = testdata().join("inventory");
    let out = run_ok(
        bin()
            .arg("inventory")
            .arg("--input")
            .arg(dir.join("terraform-output.json")),
    );
    assert_golden(
        &dir.join("terraform-output.hosts.yaml"),
        &String::from_utf8(out.stdout).unwrap(),
    );
}

#[test]
fn terraform_show_json_of_kubespray_contrib() {
    let dir = testdata().join("inventory");
    let input = std::fs::read(dir.join("terraform-show.json")).unwrap();
    let out = inventory_from_stdin(&input);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml = String::from_utf8(out.stdout).unwrap();
    // Empty items of kubespray_groups never become groups; the unrelated VM is left out.
    assert!(!yaml.contains("unrelated"), "{yaml}");
    assert!(!yaml.contains("\"\":"), "{yaml}");
    assert_golden(&dir.join("terraform-show.hosts.yaml"), &yaml);
}

#[test]
fn output_file_is_written_and_bad_input_is_explained() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("hosts.yaml");
    run_ok(
        bin()
            .arg("inventory")
            .arg("-i")
            .arg(testdata().join("inventory/terraform-output.json"))
            .arg("-o")
            .arg(&target),
    );
    assert!(std::fs::read_to_string(&target)
        .unwrap()
        .contains("demo-control-plane-1"));

    for (input, expected) in [
        (&b"not json"[..], "the input is not JSON"),
        (&b"{\"other_output\": {\"value\": 1}}"[..], "neither `terraform output -json`"),
        (&b"{\"kubespray_inventory\": {\"value\": {\"hosts\": {\"a\": {\"ip\": \"10.0.0.1\"}}}}}"[..], "missing field `groups`"),
        (&b"{\"format_version\": \"1.0\", \"values\": {\"root_module\": {}}}"[..], "no hosts found"),
    ] {
        let out = inventory_from_stdin(input);
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with("stdin: ") && stderr.contains(expected), "{stderr}");
    }
}
