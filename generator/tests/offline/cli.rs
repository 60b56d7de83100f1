//! The command line teaches and behaves: help with examples, `init`, `schema`, exit codes; and
//! Done-when 7: the README's generator section walks a Jetstream2 user through the whole flow.

use crate::common;

use common::*;
use serde_json::Value;

fn stdout_of(args: &[&str]) -> String {
    String::from_utf8(run_ok(bin().args(args)).stdout).unwrap()
}

#[test]
fn help_teaches_with_examples() {
    let top = stdout_of(&["--help"]);
    for needle in [
        "init",
        "generate",
        "up",
        "flatcar-kube up cluster.yaml",
        "inventory",
        "schema",
        "flatcar-kube init --cloud jetstream2",
        "deploy.sh",
        "Exit codes",
    ] {
        assert!(top.contains(needle), "--help lacks `{needle}`:\n{top}");
    }
    for sub in ["init", "generate", "up", "inventory", "schema"] {
        let help = stdout_of(&[sub, "--help"]);
        assert!(
            help.contains("Example"),
            "{sub} --help has no example:\n{help}"
        );
    }
}

#[test]
fn init_prints_starters_that_generate_and_never_overwrites() {
    let jetstream2 = stdout_of(&["init"]);
    assert_eq!(jetstream2, stdout_of(&["init", "--cloud", "jetstream2"]));
    for needle in [
        "auth: application_credential",
        "name: auto_allocated_network",
        "reuse: true",
        "external_network: public",
        "m3.",
        "channel: stable",
        "count: 1",
        "count: 2",
        // A working way in, and how to narrow it.
        "allowed_cidrs: [0.0.0.0/0]",
        "curl -s https://ifconfig.me",
        "open_http: false",
        // A Kubespray release `up` can fetch (the newest known), not `master`.
        &format!(
            "  version: {}\n",
            flatcar_kube::profile::kubespray::NEWEST_RELEASE
        ),
    ] {
        assert!(
            jetstream2.contains(needle),
            "Jetstream2 starter lacks `{needle}`"
        );
    }
    for starter in [&jetstream2, &stdout_of(&["init", "--cloud", "generic"])] {
        assert!(!starter.contains("version: master"), "{starter}");
    }
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("cluster.yaml");
    run_ok(bin().args(["init", "--cloud", "generic", "-o"]).arg(&path));
    let again = bin().args(["init", "-o"]).arg(&path).output().unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        stdout_of(&["init", "--cloud", "generic"])
    );
}

#[test]
fn schema_describes_every_profile_key() {
    let schema: Value = serde_json::from_str(&stdout_of(&["schema"])).unwrap();
    let props = schema["properties"].as_object().expect("properties");
    let keys: Vec<&str> = props.keys().map(String::as_str).collect();
    for key in [
        "version",
        "name",
        "cloud",
        "network",
        "access",
        "flatcar",
        "ssh",
        "pools",
        "kubernetes",
        "kubespray",
    ] {
        assert!(keys.contains(&key), "schema lacks `{key}`");
    }
    let required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for key in ["version", "name", "cloud", "network", "ssh", "pools"] {
        assert!(required.contains(&key), "`{key}` must be required");
    }
    assert_eq!(
        schema["additionalProperties"],
        Value::Bool(false),
        "unknown keys are errors"
    );
    let access = &schema["$defs"]["Access"];
    assert_eq!(access["additionalProperties"], Value::Bool(false));
    assert_eq!(
        access["properties"]["allowed_cidrs"]["type"], "array",
        "{access}"
    );
    assert_eq!(access["properties"]["open_http"]["type"], "boolean");
    let text = schema.to_string();
    assert!(
        text.contains("m3.medium") && text.contains("auto_allocated_network"),
        "descriptions carry examples"
    );
}

#[test]
fn unreadable_profile_is_explained() {
    let tmp = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["generate", "no-such.yaml", "-o"])
        .arg(tmp.path().join("o"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("no-such.yaml:1:1: cannot read the profile"),
        "{stderr}"
    );
}

/// Every `up` flag the README's generator section names exists in `up --help`.
#[test]
fn the_readmes_up_flags_are_real() {
    let readme = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"),
    )
    .unwrap();
    let help = String::from_utf8(run_ok(bin().args(["up", "--help"])).stdout).unwrap();
    for flag in [
        "--deploy",
        "--yes",
        "--allow-disruption",
        "--destroy",
        "--terraform",
        "--ansible-playbook",
        "--kubespray",
    ] {
        assert!(readme.contains(flag), "README lacks {flag}");
        assert!(help.contains(flag), "`up --help` lacks {flag}:\n{help}");
    }
    assert!(
        help.contains("remove-node.yml") && help.contains("scale.yml --limit=NEW"),
        "{help}"
    );
}

#[test]
fn readme_walks_a_jetstream2_user_through_the_flow() {
    let readme = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"),
    )
    .unwrap();
    let start = readme
        .find("## Generator: from a profile to a Kubespray deployment")
        .expect("README has the generator section");
    let section = &readme[start..];
    let section = match section[3..].find("\n## ") {
        Some(end) => &section[..end + 3],
        None => section,
    };
    // The Jetstream2 flow is five steps: install, credentials, init, up --deploy, kubectl, and
    // its shell blocks hold those commands and nothing else.
    let flow_start = section
        .find("### The whole flow on Jetstream2")
        .expect("the Jetstream2 flow");
    let flow = &section[flow_start..];
    let flow = &flow[..flow[4..].find("\n### ").map_or(flow.len(), |end| end + 4)];
    let numbered: Vec<&str> = flow
        .lines()
        .filter(|l| l.len() > 2 && l.as_bytes()[0].is_ascii_digit() && &l[1..3] == ". ")
        .collect();
    assert_eq!(numbered.len(), 5, "{numbered:#?}");
    let commands: Vec<&str> = flow
        .split("```sh\n")
        .skip(1)
        .flat_map(|block| block.split("```").next().unwrap_or_default().lines())
        .map(|l| l.split('#').next().unwrap_or_default().trim())
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(
        commands,
        [
            "cargo install --path generator && cargo install --path provider",
            "source app-cred-mycluster-openrc.sh",
            "flatcar-kube init --cloud jetstream2 -o cluster.yaml",
            "flatcar-kube up cluster.yaml -o out --deploy",
            "kubectl --kubeconfig out/artifacts/admin.conf get nodes",
        ]
    );
    // Kubespray's own Terraform route, in order: generate, terraform, inventory, deploy.
    let steps = [
        "OS_APPLICATION_CREDENTIAL",
        "access.allowed_cidrs",
        "flatcar-kube generate",
        "terraform apply",
        "flatcar-kube inventory",
        "deploy.sh",
    ];
    let mut at = 0;
    for step in steps {
        let found = section[at..]
            .find(step)
            .unwrap_or_else(|| panic!("README: `{step}` missing after the previous step"));
        at += found + step.len();
    }
    for needle in [
        "kubespray_inventory",
        "\"hosts\"",
        "flatcar-<channel>-<version>",
        "bin_dir: /opt/bin",
        "UPDATE_GOLDEN=1",
        "flatcar-kube up cluster.yaml -o out",
        "--destroy",
        "generator/terraform/modules/cluster",
        "flatcar.mirror_url",
        "flatcar.signing_key_file",
        "cloud.endpoint_overrides",
        // Issue 11: the way in, flavor IDs, current Kubespray, storage and the kubeconfig.
        "access.allowed_cidrs",
        "access.open_http",
        "openstack flavor list",
        "use_access_ip = 0",
        "pip install -r kubespray/requirements.txt",
        "netaddr and jmespath",
        "group_vars/all/openstack.yml",
        "kubectl --kubeconfig out/artifacts/admin.conf get nodes",
        "supplementary_addresses_in_ssl_keys",
        // Issue 12: day 2.
        "### Day 2",
        "remove-node.yml",
        "scale.yml --limit",
        "upgrade-cluster.yml",
        "machine_images",
        "updates.reboot_window",
        "deployed.json",
        // Issue 21: Kubespray's node operations, its release and the provider brought by `up`.
        "playbooks/facts.yml",
        "allow_ungraceful_removal=true",
        "--limit=etcd,kube_control_plane",
        "coreos_locksmithd_disable: true",
        "checksums.yml",
        "provider-mirror.tfrc",
        "--ungraceful-removal",
    ] {
        assert!(
            section.contains(needle),
            "README generator section lacks `{needle}`"
        );
    }
}
