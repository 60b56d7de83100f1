//! Issue 6, done-when 4: the real `terraform validate` passes on the module
//! (generator/terraform/modules/cluster),
//! examples/jetstream2 and the `terraform/` that `generate` writes for testdata profiles, with
//! our provider installed from a filesystem mirror (no network). Also: `terraform fmt` finds
//! nothing to change in any of them.

use crate::common;

use std::path::Path;
use std::process::Command;

use common::*;
use flatcar_testkit::acceptance::{self, Need};
use flatcar_testkit::terraform::{self, Workspace};

/// What every test here needs (`flatcar_testkit::acceptance`).
const NEEDS: &[Need] = &[Need::Terraform, Need::IgnitionValidate];

/// The module, relative to the workspace.
const MODULE: &str = "generator/terraform/modules/cluster";

/// A filesystem mirror holding this workspace's provider and a CLI config that uses it.
fn mirror() -> Workspace {
    Workspace::new()
}

fn terraform(mirror: &Workspace, dir: &Path, args: &[&str]) -> (bool, String) {
    let out = mirror
        .command(args)
        .current_dir(dir)
        // The generated module and the Jetstream2 example read ~/.ssh/id_ed25519.pub.
        .env("HOME", home())
        .env_remove("TF_LOG")
        .output()
        .expect("run terraform");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn copy_dir(from: &Path, to: &Path) {
    for f in files_under(from) {
        let dest = to.join(&f);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(from.join(&f), dest).unwrap();
    }
}

/// `terraform init -backend=false` and `terraform validate` in `dir`; panics with the output.
fn assert_valid(mirror: &Workspace, dir: &Path, what: &str) {
    let (ok, text) = terraform(
        mirror,
        dir,
        &["init", "-backend=false", "-input=false", "-no-color"],
    );
    assert!(ok, "{what}: terraform init failed:\n{text}");
    let (ok, text) = terraform(mirror, dir, &["validate", "-no-color"]);
    assert!(ok, "{what}: terraform validate failed:\n{text}");
    assert!(
        text.contains("The configuration is valid"),
        "{what}: {text}"
    );
    let (ok, text) = terraform(
        mirror,
        dir,
        &["fmt", "-check", "-diff", "-recursive", "-no-color"],
    );
    assert!(ok, "{what}: terraform fmt would change files:\n{text}");
}

#[test]
fn module_and_jetstream2_example_validate() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let mirror = mirror();
    let tmp = tempfile::tempdir().unwrap();
    // The same layout as the repository: examples/jetstream2 calls the module by that path.
    for dir in [MODULE, "examples/jetstream2"] {
        copy_dir(&workspace().join(dir), &tmp.path().join(dir));
    }
    assert_valid(&mirror, &tmp.path().join(MODULE), MODULE);
    assert_valid(
        &mirror,
        &tmp.path().join("examples/jetstream2"),
        "examples/jetstream2",
    );
}

#[test]
fn generated_terraform_validates() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let mirror = mirror();
    let tmp = tempfile::tempdir().unwrap();
    for name in ["ha", "separate-etcd", "bastion", "local-mirror"] {
        let out = tmp.path().join(name);
        generate(&testdata().join(format!("profiles/{name}.yaml")), &out);
        assert_valid(
            &mirror,
            &out.join("terraform"),
            &format!("{name}: terraform/"),
        );
    }
}

/// `terraform validate` of a root that calls the module with `inputs`; returns validate's output.
fn validate_module_call(inputs: &str) -> String {
    let mirror = mirror();
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(
        &workspace().join(MODULE),
        &tmp.path().join("modules/cluster"),
    );
    let root = tmp.path().join("root");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(
        root.join("main.tf"),
        format!(
            "module \"cluster\" {{\n  source       = \"../modules/cluster\"\n  cluster_name = \"demo\"\n  network_name = \"net\"\n  image        = \"s\"\n  images       = {{ s = {{ name = \"flatcar-stable-current\", channel = \"stable\", version = \"current\" }} }}\n{inputs}}}\n"
        ),
    )
    .unwrap();
    let (ok, text) = terraform(
        &mirror,
        &root,
        &["init", "-backend=false", "-input=false", "-no-color"],
    );
    assert!(ok, "init: {text}");
    let (ok, text) = terraform(&mirror, &root, &["validate", "-no-color"]);
    assert!(!ok, "validate must fail:\n{text}");
    text
}

/// The module's own checks reject what the generator never writes: a machine without a flavor,
/// a missing or malformed `allowed_cidrs`.
#[test]
fn module_validation_rejects_a_pool_without_flavor_and_bad_cidrs() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let text = validate_module_call(
        "  allowed_cidrs = []\n  machines = { demo-worker-1 = { groups = [\"kube_node\"] } }\n",
    );
    assert!(
        text.contains("exactly one of flavor_name and flavor_id"),
        "{text}"
    );
    let machines =
        "  machines = { demo-worker-1 = { groups = [\"kube_node\"], flavor_name = \"m1\" } }\n";
    let text = validate_module_call(&format!(
        "  allowed_cidrs = [\"0.0.0.0/0\", \"my-laptop\"]\n{machines}"
    ));
    assert!(
        text.contains("Each entry of allowed_cidrs must be a CIDR"),
        "{text}"
    );
    // No default: the caller says who gets in.
    let text = validate_module_call(machines);
    assert!(text.contains("\"allowed_cidrs\" is required"), "{text}");
}

/// `up` with the real terraform and provider: the generated root module plans (Ignition
/// user_data checked, machines made) and apply reaches the provider, which reports the
/// unreachable release mirror; `up` names the failed apply of its saved plan with that message. Then
/// `up --destroy` on the empty state succeeds. No cloud is contacted.
#[test]
fn up_drives_real_terraform_until_the_release_mirror() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let mirror = mirror();
    let tmp = tempfile::tempdir().unwrap();
    // A port nobody listens on.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let profile = tmp.path().join("local.yaml");
    let text = std::fs::read_to_string(testdata().join("profiles/local-mirror.yaml"))
        .unwrap()
        .replace(
            "http://127.0.0.1:8080/flatcar/{channel}",
            &format!("http://127.0.0.1:{port}/flatcar/{{channel}}"),
        );
    std::fs::write(&profile, text).unwrap();
    let out = tmp.path().join("out");
    let up = |extra: &[&str]| {
        bin()
            .arg("up")
            .arg(&profile)
            .arg("-o")
            .arg(&out)
            .arg("--terraform")
            .arg(terraform::binary())
            .args(extra)
            .env("TF_CLI_CONFIG_FILE", &mirror.cli_config)
            .env("CHECKPOINT_DISABLE", "1")
            .env("OS_AUTH_URL", format!("http://127.0.0.1:{port}/v3"))
            .env("OS_USERNAME", "nobody")
            .env("OS_PASSWORD", "nothing")
            .env("OS_PROJECT_NAME", "none")
            .env_remove("OS_CLOUD")
            .output()
            .unwrap()
    };
    let run = up(&[]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("module.cluster.flatcar_instance.node[\"local-worker-2\"] will be created"),
        "{stdout}"
    );
    assert!(
        stderr.contains("apply -input=false -no-color up.tfplan` failed"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Cannot fetch the Flatcar release") && stderr.contains(&port.to_string()),
        "{stderr}"
    );
    assert!(!out.join("inventory/hosts.yaml").exists());

    let run = up(&["--destroy"]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("Destroy complete!"), "{stdout}");
}

/// The Ignition the module gives every machine, evaluated by the real `terraform console`
/// (the Butane input through the provider's own function), passes the real
/// `ignition-validate` (Debian's Ignition 2.14: specs 3.0-3.3): alone, with the caller's
/// Ignition merged in, and with Butane merged in.
#[test]
fn the_modules_ignition_passes_ignition_validate() {
    if !acceptance::run(NEEDS) {
        return;
    }
    use base64::Engine;
    use std::io::Write;

    let validator = "/usr/bin/ignition-validate";
    assert!(
        Path::new(validator).is_file(),
        "{validator} is missing: run `bash scripts/setup.sh` (scripts/setup.d/35-ignition.sh installs Debian's ignition)"
    );
    let mirror = mirror();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cluster");
    copy_dir(&workspace().join(MODULE), &dir);
    let (ok, text) = terraform(
        &mirror,
        &dir,
        &["init", "-backend=false", "-input=false", "-no-color"],
    );
    assert!(ok, "terraform init failed:\n{text}");
    let base = serde_json::json!({
        "cluster_name": "demo",
        "machines": {"demo-cp-1": {"flavor_name": "m1.small", "groups": ["kube_control_plane", "etcd"]}},
        "images": {"s": {"name": "flatcar-stable-current", "channel": "stable", "version": "current"}},
        "image": "s",
        "network_name": "private",
        "allowed_cidrs": ["203.0.113.7/32"],
        "ssh_public_keys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG7ZpWmbcTqnZG+2x2wHUyZZj9rQK3Kd1S0y2w3D0m4x demo"],
    });
    let cases = [
        ("alone", serde_json::json!({})),
        (
            "with user_data",
            serde_json::json!({"user_data": r#"{"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":"/etc/motd","contents":{"source":"data:,hello"}}]}}"#}),
        ),
        (
            "with butane",
            serde_json::json!({"butane": "variant: flatcar\nversion: 1.0.0\nsystemd:\n  units:\n    - name: hello.service\n      enabled: true\n      contents: |\n        [Service]\n        Type=oneshot\n        ExecStart=/usr/bin/echo hello\n        [Install]\n        WantedBy=multi-user.target\n"}),
        ),
    ];
    for (case, extra) in cases {
        let mut vars = base.clone();
        if let (Some(all), Some(more)) = (vars.as_object_mut(), extra.as_object()) {
            all.extend(more.clone());
        }
        std::fs::write(dir.join("terraform.tfvars.json"), vars.to_string()).unwrap();
        let mut console = Command::new(terraform::binary())
            .args(["console", "-no-color"])
            .current_dir(&dir)
            .env("TF_CLI_CONFIG_FILE", &mirror.cli_config)
            .env("CHECKPOINT_DISABLE", "1")
            .env_remove("TF_LOG")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("terraform console");
        console
            .stdin
            .take()
            .expect("stdin")
            .write_all(b"base64encode(local.ignition)\n")
            .unwrap();
        let out = console.wait_with_output().expect("console output");
        let printed = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(
            out.status.success(),
            "{case}: {printed}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ignition = base64::engine::general_purpose::STANDARD
            .decode(printed.trim_matches('"'))
            .unwrap_or_else(|e| panic!("{case}: {e}: {printed}"));
        let json: serde_json::Value = serde_json::from_slice(&ignition).expect("Ignition JSON");
        assert_eq!(json["ignition"]["version"], "3.3.0", "{case}");
        let file = tmp.path().join("node.ign");
        std::fs::write(&file, &ignition).unwrap();
        let checked = Command::new(validator)
            .arg(&file)
            .output()
            .expect("ignition-validate");
        assert!(
            checked.status.success() && checked.stdout.is_empty(),
            "{case}: ignition-validate refused the module's Ignition:\n{}{}\n{}",
            String::from_utf8_lossy(&checked.stdout),
            String::from_utf8_lossy(&checked.stderr),
            String::from_utf8_lossy(&ignition)
        );
    }
}
