//! `flatcar-kube up` drives Terraform in the generated `terraform/`: init, apply, output -json
//! into `inventory/hosts.yaml`, or destroy; a failing step is named with its stderr tail.
//! Terraform is a recording stand-in script here (the real apply against the local Nova is the
//! flow test's job); it checks the arguments and that the environment reaches it.

use crate::common;

use std::path::Path;

use common::*;

pub fn up_cmd(tmp: &Path, profile: &Path, out: &Path) -> std::process::Command {
    let tf = fake_terraform(tmp);
    let mut cmd = bin();
    cmd.arg("up")
        .arg(profile)
        .arg("-o")
        .arg(out)
        .arg("--terraform")
        .arg(tf)
        .env("FAKE_TF_LOG", tmp.join("calls.log"))
        .env("FAKE_TF_OUTPUT", tmp.join("output.json"))
        .env("FAKE_TF_PLAN", tmp.join("plan.json"))
        .env("FAKE_TF_STATE", tmp.join("state"))
        .env("OS_AUTH_URL", "http://127.0.0.1:5000/v3");
    cmd
}

#[test]
fn up_generates_applies_and_writes_the_inventory() {
    let tmp = tempfile::tempdir().unwrap();
    let profile = tmp.path().join("jetstream2.yaml");
    run_ok(
        bin()
            .args(["init", "--cloud", "jetstream2", "-o"])
            .arg(&profile),
    );
    let out = tmp.path().join("out");
    let run = run_ok(&mut up_cmd(tmp.path(), &profile, &out));
    let stdout = String::from_utf8(run.stdout).unwrap();

    let calls = std::fs::read_to_string(tmp.path().join("calls.log")).unwrap();
    let chdir = format!("-chdir={}", out.join("terraform").display());
    let expected = [
        format!("{chdir} init -input=false -no-color|http://127.0.0.1:5000/v3"),
        format!("{chdir} output -json -no-color|http://127.0.0.1:5000/v3"),
        format!("{chdir} plan -input=false -no-color -out=up.tfplan|http://127.0.0.1:5000/v3"),
        format!("{chdir} show -json up.tfplan|http://127.0.0.1:5000/v3"),
        format!("{chdir} apply -input=false -no-color up.tfplan|http://127.0.0.1:5000/v3"),
        format!("{chdir} output -json -no-color|http://127.0.0.1:5000/v3"),
    ];
    // Before the first apply there is no machine to keep: an empty map for the module.
    let images =
        std::fs::read_to_string(out.join("terraform/machine-images.auto.tfvars.json")).unwrap();
    assert_eq!(
        images,
        "{\n  \"kept_images\": {},\n  \"machine_images\": {}\n}\n"
    );
    assert_eq!(calls.lines().collect::<Vec<_>>(), expected);

    assert!(out.join("terraform/main.tf").is_file());
    assert!(out.join("terraform/modules/cluster/main.tf").is_file());
    let hosts = std::fs::read_to_string(out.join("inventory/hosts.yaml")).unwrap();
    for needle in [
        "demo-control-plane-1:",
        "ansible_host: \"192.0.2.11\"",
        "ip: \"10.0.0.22\"",
        "ansible_user: core",
        "kube_control_plane:",
    ] {
        assert!(
            hosts.contains(needle),
            "hosts.yaml lacks `{needle}`:\n{hosts}"
        );
    }
    // Progress, terraform's own output, and what to do next.
    for needle in [
        "flatcar-kube up: running",
        "create           demo-control-plane-1 (kube_control_plane, etcd)",
        "create           module.cluster.flatcar_image.release[\"stable-current\"]",
        "Apply complete!",
        "(3 hosts)",
        &out.join("inventory/hosts.yaml").display().to_string(),
        &out.join("deploy.sh").display().to_string(),
    ] {
        assert!(
            stdout.contains(needle),
            "stdout lacks `{needle}`:\n{stdout}"
        );
    }
}

#[test]
fn up_destroy_runs_destroy_and_no_apply() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run_ok(up_cmd(tmp.path(), &testdata().join("profiles/bastion.yaml"), &out).arg("--destroy"));
    let calls = std::fs::read_to_string(tmp.path().join("calls.log")).unwrap();
    let steps: Vec<&str> = calls
        .lines()
        .map(|l| l.split(' ').nth(1).unwrap())
        .collect();
    assert_eq!(steps, ["init", "destroy"]);
    assert!(calls.contains("destroy -auto-approve"));
    assert!(!out.join("inventory/hosts.yaml").exists());
}

#[test]
fn a_failed_step_is_named_with_its_stderr_tail() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = up_cmd(tmp.path(), &testdata().join("profiles/ha.yaml"), &out)
        .env("FAKE_TF_FAIL", "apply")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8(run.stderr).unwrap();
    assert!(
        stderr.contains("apply -input=false -no-color up.tfplan` failed"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Error: Unable to authenticate: 401 from keystone"),
        "{stderr}"
    );
    // Only the tail: the first noise lines are echoed but not repeated in the error.
    let error = &stderr[stderr.find("flatcar-kube up: `").unwrap()..];
    assert!(!error.contains("noise line 0\n"), "{error}");
    assert!(error.contains("noise line 39"), "{error}");
    assert!(!out.join("inventory/hosts.yaml").exists());
}

#[test]
fn a_missing_terraform_is_reported_with_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let run = bin()
        .arg("up")
        .arg(testdata().join("profiles/ha.yaml"))
        .arg("-o")
        .arg(tmp.path().join("out"))
        .arg("--terraform")
        .arg(tmp.path().join("no-such-terraform"))
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8(run.stderr).unwrap();
    assert!(stderr.contains("could not start"), "{stderr}");
    assert!(stderr.contains("--terraform PATH"), "{stderr}");
}

#[test]
fn a_rebuilt_provider_gets_the_lock_file_hint() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = up_cmd(tmp.path(), &testdata().join("profiles/ha.yaml"), &out)
        .env("FAKE_TF_FAIL", "init")
        .env(
            "FAKE_TF_ERR",
            format!("the local package for {} 0.1.0 doesn't match any of the checksums previously recorded in the dependency lock file", flatcar_cloud::PROVIDER_SOURCE),
        )
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8(run.stderr).unwrap();
    assert!(
        stderr.contains("init -input=false -no-color` failed"),
        "{stderr}"
    );
    let lock = out.join("terraform/.terraform.lock.hcl");
    assert!(
        stderr.contains(&format!(
            "recorded in {}: if you reinstalled it",
            lock.display()
        )),
        "{stderr}"
    );
}
