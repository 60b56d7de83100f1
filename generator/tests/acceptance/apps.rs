//! Issue 24, JupyterHub from the profile: the generated `apps/jupyterhub/values.yaml` of every
//! profile with `apps.jupyterhub` (the testdata profiles and variants made here), merged with
//! the chart's defaults as Helm merges them, validates against zero-to-jupyterhub 4.4.0's own
//! schema (`../shared/testdata/z2jh/`) with a real JSON-schema validator (python-jsonschema,
//! the one kubernetes-validate brings); `apps/install.yml` passes ansible-playbook's
//! `--syntax-check` and, run on this machine with a recording helm and kubectl, hands the
//! secret from the environment to Helm through a file that is gone afterwards; kured's
//! blocking selector (read back with PyYAML) matches the chart's user server pods and nothing
//! else of the release.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use flatcar_testkit::acceptance::{self, Need};
use serde_json::Value;

/// What every test here needs (`flatcar_testkit::acceptance`).
const NEEDS: &[Need] = &[Need::Venv];

fn z2jh() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/z2jh")
}

/// Reads VALUES (YAML) over the chart's defaults as Helm coalesces values (maps key by key,
/// the user's value winning, `null` deleting the key), then validates the result against the
/// chart's schema. Prints the errors, one per line, with their paths; exits 1 when any.
const VALIDATE: &str = r#"
import json, sys, yaml, jsonschema
chart, values_file = sys.argv[1], sys.argv[2]
defaults = yaml.safe_load(open(chart + "/values.yaml"))
schema = yaml.safe_load(open(chart + "/values.schema.yaml"))
values = yaml.safe_load(open(values_file)) or {}

def coalesce(base, over):
    for key, value in over.items():
        if value is None:
            base.pop(key, None)
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            coalesce(base[key], value)
        else:
            base[key] = value
    return base

merged = coalesce(defaults, values)
validator = jsonschema.validators.validator_for(schema)(schema)
errors = sorted(validator.iter_errors(merged), key=lambda e: list(e.absolute_path))
for e in errors:
    print("/".join(str(p) for p in e.absolute_path) + ": " + e.message)
print(json.dumps(merged), file=sys.stderr)
sys.exit(1 if errors else 0)
"#;

/// `Ok(merged values)` or `Err(the validator's findings)`.
fn validate_values(values: &Path) -> Result<Value, String> {
    let python = venv_bin("python", "scripts/setup.d/21-kubernetes-validate.sh");
    let out = Command::new(python)
        .arg("-c")
        .arg(VALIDATE)
        .arg(z2jh())
        .arg(values)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stderr).unwrap())
    } else {
        Err(stdout + &String::from_utf8_lossy(&out.stderr))
    }
}

/// The generic starter with `apps` appended, written into `dir` as NAME.yaml.
fn starter_with_apps(dir: &Path, name: &str, apps: &str) -> PathBuf {
    let starter = dir.join("starter.yaml");
    if !starter.exists() {
        run_ok(
            bin()
                .args(["init", "--cloud", "generic", "-o"])
                .arg(&starter),
        );
    }
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, std::fs::read_to_string(&starter).unwrap() + apps).unwrap();
    path
}

/// Every profile under test with JupyterHub: the testdata ones and variants of the starter.
fn jupyterhub_profiles(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = profiles(dir)
        .into_iter()
        .filter(|(_, p)| {
            std::fs::read_to_string(p)
                .unwrap()
                .contains("\n  jupyterhub:")
        })
        .collect();
    assert!(out.len() >= 2, "the testdata profiles with JupyterHub");
    let variants = [
        (
            "github-users-only",
            "apps:\n  jupyterhub:\n    host: hub.example.org\n    contact_email: a@example.org\n    authenticator:\n      type: github\n      client_id: abc\n      allowed_users: [alice, bob]\n",
        ),
        (
            "dummy-no-storage-admins",
            "apps:\n  jupyterhub:\n    host: hub.example.org\n    contact_email: a@example.org\n    storage: none\n    letsencrypt: production\n    admin_users: [teacher]\n    authenticator:\n      type: dummy\n      password_env: CLASS_PW\n      allowed_users: [s1, s2]\n",
        ),
        (
            "own-values-override-and-remove",
            "apps:\n  jupyterhub:\n    host: hub.example.org\n    contact_email: a@example.org\n    authenticator:\n      type: dummy\n    values:\n      singleuser:\n        memory: {limit: 2G, guarantee: 1G}\n        storage: {capacity: 5Gi}\n      proxy:\n        traefik:\n          tolerations: null\n      scheduling:\n        userScheduler: {enabled: false}\n",
        ),
    ];
    for (name, apps) in variants {
        out.push((name.to_string(), starter_with_apps(dir, name, apps)));
    }
    out
}

#[test]
fn jupyterhub_values_merged_with_the_chart_defaults_validate_against_its_schema() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    for (name, profile) in jupyterhub_profiles(tmp.path()) {
        let out = tmp.path().join(&name);
        generate(&profile, &out);
        let values = out.join("apps/jupyterhub/values.yaml");
        let merged = validate_values(&values).unwrap_or_else(|e| panic!("{name}: {e}"));
        // What the design rests on, after the merge.
        let https = &merged["proxy"]["https"];
        assert_eq!(https["enabled"], true, "{name}");
        assert_eq!(https["type"], "letsencrypt", "{name}");
        assert_eq!(merged["proxy"]["service"]["type"], "ClusterIP", "{name}");
        let ports = merged["proxy"]["traefik"]["extraPorts"].as_array().unwrap();
        let host_ports: Vec<(i64, i64)> = ports
            .iter()
            .map(|p| {
                (
                    p["hostPort"].as_i64().unwrap(),
                    p["containerPort"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(host_ports, [(80, 8080), (443, 8443)], "{name}");
        assert!(
            merged["proxy"]["traefik"]["nodeSelector"]["kubernetes.io/hostname"]
                .as_str()
                .is_some_and(|n| n.ends_with("-control-plane-1")),
            "{name}: {}",
            merged["proxy"]["traefik"]
        );
        // No secret in the file: the play adds it on the machine.
        let config = &merged["hub"]["config"];
        assert!(config["DummyAuthenticator"]["password"].is_null(), "{name}");
        assert!(
            config["GitHubOAuthenticator"]["client_secret"].is_null(),
            "{name}"
        );
        if name == "own-values-override-and-remove" {
            assert_eq!(merged["singleuser"]["storage"]["capacity"], "5Gi");
            // `null` removed the generated tolerations: the chart's default is left.
            assert_eq!(
                merged["proxy"]["traefik"]["tolerations"],
                serde_json::json!([])
            );
            assert_eq!(merged["scheduling"]["userScheduler"]["enabled"], false);
        }
    }
}

#[test]
fn the_schema_check_refuses_values_the_chart_does_not_know() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let profile = starter_with_apps(
        tmp.path(),
        "typo",
        "apps:\n  jupyterhub:\n    host: hub.example.org\n    contact_email: a@example.org\n    authenticator:\n      type: dummy\n    values:\n      singleuser:\n        startTimeOut: 900\n        storage: {capacity: 10}\n",
    );
    let out = tmp.path().join("out");
    generate(&profile, &out);
    let errors = validate_values(&out.join("apps/jupyterhub/values.yaml")).unwrap_err();
    assert!(errors.contains("startTimeOut"), "{errors}");
    assert!(errors.contains("singleuser/storage/capacity"), "{errors}");
}

#[test]
fn apps_play_passes_ansible_syntax_check() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    for (name, profile) in jupyterhub_profiles(tmp.path()) {
        let out = tmp.path().join(&name);
        generate(&profile, &out);
        assert_play_syntax(&out, "apps/install.yml", tmp.path(), &name);
    }
}

/// A helm that records its arguments and a copy of every values file it is given; a kubectl
/// that records its arguments and answers the patch.
const FAKE_HELM: &str = r#"#!/bin/sh
echo "helm $*" >> "$APPS_LOG"
prev=
for a in "$@"; do
  if [ "$prev" = --values ]; then cat "$a" >> "$APPS_LOG.values"; fi
  prev=$a
done
echo 'Release "jupyterhub" has been upgraded. Happy Helming!'
"#;
const FAKE_KUBECTL: &str = r#"#!/bin/sh
echo "kubectl $*" >> "$APPS_LOG"
echo 'deployment.apps/autohttps patched'
"#;

#[test]
fn apps_play_hands_the_secret_to_helm_and_leaves_no_file_behind() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let profile = testdata().join("profiles/jupyterhub-github.yaml");
    let out = tmp.path().join("out");
    generate(&profile, &out);
    std::fs::write(
        out.join("inventory/hosts.yaml"),
        "all:\n  children:\n    kube_control_plane:\n      hosts:\n        cp-1: {ansible_connection: local}\n        cp-2: {ansible_connection: local}\n",
    )
    .unwrap();
    let helm = tmp.path().join("helm");
    let kubectl = tmp.path().join("kubectl");
    executable(&helm, FAKE_HELM);
    executable(&kubectl, FAKE_KUBECTL);
    let log = tmp.path().join("apps.log");
    let remote = tmp.path().join("remote");
    let secret = "gh-oauth-s3cret-value";
    let run = |secret: Option<&str>| {
        let mut cmd = local_play_command(&out, "apps/install.yml", tmp.path());
        cmd.arg("-e")
            .arg(format!("apps_helm={}", helm.display()))
            .arg("-e")
            .arg(format!("apps_kubectl={}", kubectl.display()))
            .arg("-e")
            .arg(format!(
                "apps_kubeconfig={}",
                tmp.path().join("admin.conf").display()
            ))
            .arg("-e")
            .arg(format!("apps_dir={}", remote.display()))
            .env("APPS_LOG", &log)
            .env_remove("LAB_GITHUB_SECRET");
        if let Some(s) = secret {
            cmd.env("LAB_GITHUB_SECRET", s);
        }
        cmd.output().unwrap()
    };

    // Without the secret: stopped before anything reaches the machine.
    let missing = run(None);
    let text = String::from_utf8_lossy(&missing.stdout);
    assert!(!missing.status.success());
    assert!(
        text.contains("LAB_GITHUB_SECRET is empty or not set"),
        "{text}"
    );
    assert!(!remote.exists() && !log.exists());

    let result = run(Some(secret));
    let stdout = String::from_utf8_lossy(&result.stdout).into_owned();
    assert!(
        result.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&result.stderr)
    );
    // Only the first control plane machine; the secret never in Ansible's output.
    assert!(
        stdout.contains("cp-1 ") && !stdout.contains("cp-2 "),
        "{stdout}"
    );
    assert!(!stdout.contains(secret), "{stdout}");
    let calls = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = calls.lines().collect();
    let admin = tmp.path().join("admin.conf");
    assert_eq!(
        lines,
        [
            format!(
                "helm upgrade --install jupyterhub jupyterhub --repo https://hub.jupyter.org/helm-chart/ --version 4.4.0 --namespace jupyterhub --create-namespace --kubeconfig {} --values {} --values {} --wait --timeout 15m",
                admin.display(),
                remote.join("jupyterhub-values.yaml").display(),
                remote.join("jupyterhub-secret.yaml").display()
            ),
            format!(
                "kubectl --kubeconfig {} --namespace jupyterhub patch deployment/autohttps --type=merge --patch {{\"spec\": {{\"strategy\": {{\"type\": \"Recreate\", \"rollingUpdate\": null}}}}}}",
                admin.display()
            ),
        ]
    );
    // Helm got the generated values, then the secret at the authenticator's key.
    let given = std::fs::read_to_string(tmp.path().join("apps.log.values")).unwrap();
    let generated = std::fs::read_to_string(out.join("apps/jupyterhub/values.yaml")).unwrap();
    assert!(given.starts_with(&generated), "{given}");
    let secret_doc = &given[generated.len()..];
    let parsed: Value = {
        let f = tmp.path().join("secret-doc.yaml");
        std::fs::write(&f, secret_doc).unwrap();
        yaml_documents(&f).remove(0)
    };
    assert_eq!(
        parsed,
        serde_json::json!({"hub": {"config": {"GitHubOAuthenticator": {"client_secret": secret}}}})
    );
    // The values stay on the machine (0600); the secret's file is gone.
    assert!(remote.join("jupyterhub-values.yaml").exists());
    assert!(!remote.join("jupyterhub-secret.yaml").exists());
    for f in files_under(&out) {
        let text = String::from_utf8_lossy(&std::fs::read(out.join(&f)).unwrap()).into_owned();
        assert!(!text.contains(secret), "{} holds the secret", f.display());
    }
}

/// The labels of a pod, as `key=value` pairs.
fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Whether an equality-based label selector (`a=b,c=d`, what kured hands to the API) matches.
fn selects(selector: &str, pod: &[(String, String)]) -> bool {
    selector.split(',').all(|term| {
        let (k, v) = term.split_once('=').unwrap();
        pod.iter().any(|(pk, pv)| pk == k && pv == v)
    })
}

#[test]
fn kured_leaves_nodes_with_user_servers_alone() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    generate(&testdata().join("profiles/jupyterhub.yaml"), &out);
    let objects = yaml_documents(&out.join("coordinator/kured.yaml"));
    let ds = objects.iter().find(|o| o["kind"] == "DaemonSet").unwrap();
    let args: Vec<&str> = ds["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let selectors: Vec<&str> = args
        .iter()
        .filter_map(|a| a.strip_prefix("--blocking-pod-selector="))
        .collect();
    assert_eq!(selectors.len(), 1, "{args:?}");
    let selector = selectors[0];
    // kured lists pods by this selector in every namespace: its ClusterRole may list pods.
    let role = objects.iter().find(|o| o["kind"] == "ClusterRole").unwrap();
    assert!(role["rules"].as_array().unwrap().iter().any(|r| {
        r["resources"] == serde_json::json!(["pods"])
            && r["verbs"].as_array().unwrap().contains(&"list".into())
    }));

    // The labels of the release's pods in zero-to-jupyterhub-k8s 4.4.0: KubeSpawner's user
    // servers carry the chart's common labels (files/hub/jupyterhub_config.py, "common labels":
    // app, release, chart, heritage-like managed-by, and the modern app.kubernetes.io/*) and the
    // component label `singleuser-server`, which the chart's own NetworkPolicy selects them by
    // (templates/singleuser/netpol.yaml, jupyterhub.matchLabels: component, app, release); plus
    // singleuser.extraLabels of the chart's values.yaml. Placeholders, hub and proxies differ in
    // `component` (templates/scheduling/user-placeholder, hub, proxy deployments).
    let extra = std::fs::read_to_string(z2jh().join("values.yaml")).unwrap();
    assert!(
        extra.contains("hub.jupyter.org/network-access-hub: \"true\""),
        "singleuser.extraLabels of the chart"
    );
    let common = [
        ("app", "jupyterhub"),
        ("release", "jupyterhub"),
        ("chart", "jupyterhub-4.4.0"),
        ("app.kubernetes.io/name", "jupyterhub"),
        ("app.kubernetes.io/instance", "jupyterhub"),
        ("app.kubernetes.io/managed-by", "kubespawner"),
    ];
    let pod = |component: &str| {
        let mut l = labels(&common);
        l.extend(labels(&[
            ("component", component),
            ("app.kubernetes.io/component", component),
            ("hub.jupyter.org/network-access-hub", "true"),
        ]));
        l
    };
    assert!(selects(selector, &pod("singleuser-server")), "{selector}");
    for other in [
        "user-placeholder",
        "hub",
        "proxy",
        "autohttps",
        "user-scheduler",
        "image-puller",
    ] {
        assert!(
            !selects(selector, &pod(other)),
            "{selector} selects {other}"
        );
    }
    // Another release's user servers (another hub in the cluster) are not ours to judge.
    let mut elsewhere = pod("singleuser-server");
    elsewhere.retain(|(k, _)| k != "release");
    elsewhere.push(("release".into(), "other-hub".into()));
    assert!(!selects(selector, &elsewhere));

    // Without apps, no selector: kured drains as before.
    let bare = tmp.path().join("bare");
    generate(&testdata().join("profiles/ha.yaml"), &bare);
    let text = std::fs::read_to_string(bare.join("coordinator/kured.yaml")).unwrap();
    assert!(!text.contains("--blocking-pod-selector"));
}
