//! Issue 12, updates coordinated: with `updates.coordinator: kured` (the default) `generate`
//! writes `coordinator/kured.yaml` and `coordinator/install.yml`. The manifest passes
//! kubernetes-validate `--strict` (installed by scripts/setup.d/21-kubernetes-validate.sh) for
//! the Kubernetes minor the profile deploys; the playbook passes the real ansible-playbook's
//! `--syntax-check` and, run on this machine with a recording kubectl, copies, applies and
//! reports `changed` only when kubectl changed something. The profile's reboot window reaches
//! kured's arguments; the image is pinned; `coordinator: none` writes no coordinator files;
//! a bad window is refused at its file:line:col.

use crate::common;

use std::path::PathBuf;
use std::process::Command;

use common::*;
use flatcar_kube::profile::kubespray::kube_minor;
use flatcar_testkit::acceptance::{self, Need};
use serde_json::Value;

/// What every test here needs (`flatcar_testkit::acceptance`).
const NEEDS: &[Need] = &[Need::Venv];

fn kubernetes_validate() -> PathBuf {
    venv_bin(
        "kubernetes-validate",
        "scripts/setup.d/21-kubernetes-validate.sh",
    )
}

#[test]
fn kured_manifest_passes_kubernetes_validate_strict_for_the_deployed_minor() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let validate = kubernetes_validate();
    let tmp = tempfile::tempdir().unwrap();
    for (name, profile) in profiles(tmp.path()) {
        let out = tmp.path().join(&name);
        generate(&profile, &out);
        let loaded = load(&std::fs::read_to_string(&profile).unwrap());
        let p = &loaded.profile;
        // The profile's own Kubernetes version, else the default of its Kubespray release
        // (1.36 for master); kubernetes-validate 1.37.0 bundles the schemas of 1.25 to 1.37.
        let minor = kube_minor(&p.kubespray.version, p.kubernetes.version.as_deref())
            .unwrap_or_else(|| panic!("{name}: no Kubernetes minor"));
        let manifest = out.join("coordinator/kured.yaml");
        let result = Command::new(&validate)
            .args(["--strict", "--kubernetes-version", &minor])
            .arg(&manifest)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&result.stdout);
        assert!(
            result.status.success(),
            "{name}: kubernetes-validate {minor}:\n{stdout}{}",
            String::from_utf8_lossy(&result.stderr)
        );
        for resource in [
            "serviceaccount",
            "clusterrole",
            "clusterrolebinding",
            "role",
            "rolebinding",
            "daemonset",
        ] {
            assert!(
                stdout.contains(&format!(
                    "passed for resource {resource}/kured against version {minor}"
                )),
                "{name}: {resource} not validated:\n{stdout}"
            );
        }
    }

    // The check can fail: a field the schema does not know is refused with --strict.
    let out = tmp.path().join("generic");
    let broken = tmp.path().join("broken-kured.yaml");
    let text = std::fs::read_to_string(out.join("coordinator/kured.yaml"))
        .unwrap()
        .replace("hostPID: true", "hostPid: true");
    std::fs::write(&broken, text).unwrap();
    let result = Command::new(&validate)
        .args(["--strict", "--kubernetes-version", "1.36"])
        .arg(&broken)
        .output()
        .unwrap();
    assert!(!result.status.success());
    assert!(String::from_utf8_lossy(&result.stdout).contains("'hostPid' was unexpected"));
}

#[test]
fn install_playbook_passes_ansible_syntax_check() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    for (name, profile) in profiles(tmp.path()) {
        let out = tmp.path().join(&name);
        generate(&profile, &out);
        assert_play_syntax(&out, "coordinator/install.yml", tmp.path(), &name);
    }
}

/// A kubectl that records its arguments and prints what `apply` would: every object `created`
/// the first time, `unchanged` later, one `configured` when $KUBECTL_CONFIGURED is set.
const FAKE_KUBECTL: &str = r#"#!/bin/sh
echo "$*" >> "$KUBECTL_LOG"
case "$*" in
  *" apply "*)
    if [ -n "${KUBECTL_CONFIGURED:-}" ]; then
      printf 'serviceaccount/kured unchanged\ndaemonset.apps/kured configured\n'
    elif [ -e "$KUBECTL_LOG.applied" ]; then
      printf 'serviceaccount/kured unchanged\ndaemonset.apps/kured unchanged\n'
    else
      touch "$KUBECTL_LOG.applied"
      printf 'serviceaccount/kured created\ndaemonset.apps/kured created\n'
    fi ;;
  *" rollout status "*) echo 'daemon set "kured" successfully rolled out' ;;
  *) exit 1 ;;
esac
"#;

#[test]
fn install_playbook_copies_applies_and_reports_changes_only_when_kubectl_made_some() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (_, profile) = starter_with(tmp.path(), "");
    let out = tmp.path().join("out");
    generate(&profile, &out);
    // The first control plane machine is this one; Flatcar's paths become the test's.
    std::fs::write(
        out.join("inventory/hosts.yaml"),
        "all:\n  children:\n    kube_control_plane:\n      hosts:\n        cp-1: {ansible_connection: local}\n        cp-2: {ansible_connection: local}\n",
    )
    .unwrap();
    let kubectl = tmp.path().join("kubectl");
    executable(&kubectl, FAKE_KUBECTL);
    let log = tmp.path().join("kubectl.log");
    let remote = tmp.path().join("remote");
    let run = |configured: bool| -> String {
        let mut cmd = local_play_command(&out, "coordinator/install.yml", tmp.path());
        cmd.arg("-e")
            .arg(format!("kured_kubectl={}", kubectl.display()))
            .arg("-e")
            .arg(format!(
                "kured_kubeconfig={}",
                tmp.path().join("admin.conf").display()
            ))
            .arg("-e")
            .arg(format!("kured_manifest_dir={}", remote.display()))
            .env("KUBECTL_LOG", &log);
        if configured {
            cmd.env("KUBECTL_CONFIGURED", "1");
        }
        let result = cmd.output().unwrap();
        let stdout = String::from_utf8_lossy(&result.stdout).into_owned();
        assert!(
            result.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&result.stderr)
        );
        stdout
    };

    let first = run(false);
    // Directory, copy and apply changed; the rollout wait never does. Only the first control
    // plane machine runs it.
    assert!(
        first.contains("cp-1 ") && first.contains("changed=3"),
        "{first}"
    );
    assert!(!first.contains("cp-2 "), "{first}");
    assert_eq!(
        std::fs::read(remote.join("kured.yaml")).unwrap(),
        std::fs::read(out.join("coordinator/kured.yaml")).unwrap()
    );
    let calls = std::fs::read_to_string(&log).unwrap();
    let admin = tmp.path().join("admin.conf");
    assert_eq!(
        calls.lines().collect::<Vec<_>>(),
        [
            format!(
                "--kubeconfig {} apply --filename {}",
                admin.display(),
                remote.join("kured.yaml").display()
            ),
            format!(
                "--kubeconfig {} --namespace kube-system rollout status daemonset/kured --timeout=5m",
                admin.display()
            ),
        ]
    );
    let again = run(false);
    assert!(again.contains("changed=0"), "{again}");
    let configured = run(true);
    assert!(configured.contains("changed=1"), "{configured}");
}

#[test]
fn reboot_window_reaches_the_daemonset_and_the_image_is_pinned() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (text, profile) = starter_with(
        tmp.path(),
        "updates:\n  reboot_window:\n    start: \"22:30\"\n    end: \"04:00\"\n    days: [sat, sun]\n    time_zone: America/Indiana/Indianapolis\n",
    );
    let out = tmp.path().join("out");
    generate(&profile, &out);
    let objects = yaml_documents(&out.join("coordinator/kured.yaml"));
    let kinds: Vec<&str> = objects.iter().filter_map(|o| o["kind"].as_str()).collect();
    assert_eq!(
        kinds,
        [
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "Role",
            "RoleBinding",
            "DaemonSet"
        ]
    );
    let ds = object(&objects, "DaemonSet");
    assert_eq!(ds["metadata"]["namespace"], "kube-system");
    let pod = &ds["spec"]["template"]["spec"];
    assert_eq!(pod["hostPID"], true);
    let container = &pod["containers"][0];
    assert_eq!(container["securityContext"]["privileged"], true);
    let args: Vec<&str> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for flag in [
        "--start-time=22:30",
        "--end-time=04:00",
        "--reboot-days=sat,sun",
        "--time-zone=America/Indiana/Indianapolis",
        "--ds-name=kured",
        "--ds-namespace=kube-system",
    ] {
        assert!(args.contains(&flag), "{flag} not in {args:?}");
    }
    for prefix in ["--period=", "--drain-timeout=", "--lock-ttl="] {
        let value = args
            .iter()
            .find_map(|a| a.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("{prefix} not in {args:?}"));
        assert!(
            !value.is_empty() && value != "0" && value != "0s",
            "{prefix}{value}"
        );
    }
    // What kured hands to nsenter after splitting like a shell: sh -c and one script.
    let sentinel = args
        .iter()
        .find_map(|a| a.strip_prefix("--reboot-sentinel-command="))
        .expect("a sentinel command");
    assert_eq!(
        sentinel,
        "/bin/sh -c \"/usr/bin/update_engine_client -status | /usr/bin/grep -q UPDATE_STATUS_UPDATED_NEED_REBOOT\""
    );
    // The lock is the DaemonSet's annotation: the Role may update exactly that DaemonSet.
    let role = object(&objects, "Role");
    assert_eq!(role["rules"][0]["resourceNames"][0], ds["metadata"]["name"]);
    assert_eq!(role["rules"][0]["verbs"][0], "update");
    let tolerations = pod["tolerations"].as_array().unwrap();
    assert!(
        tolerations
            .iter()
            .any(|t| t["key"] == "node-role.kubernetes.io/control-plane"),
        "control plane machines reboot too: {tolerations:?}"
    );

    let image = container["image"].as_str().unwrap();
    let (repo, tag) = image.rsplit_once(':').expect("a tag");
    assert!(repo.ends_with("kubereboot/kured"), "{image}");
    assert!(
        tag != "latest" && tag.split('.').all(|n| n.parse::<u32>().is_ok()),
        "{image}: pin a release"
    );
    assert!(
        !std::fs::read_to_string(out.join("coordinator/kured.yaml"))
            .unwrap()
            .contains(":latest"),
        "no latest image anywhere"
    );

    // `up` finds the playbook through the library.
    let loaded = load(&text);
    assert_eq!(
        flatcar_kube::render::coordinator_playbook(&loaded, &out),
        Some(out.join("coordinator/install.yml"))
    );
}
