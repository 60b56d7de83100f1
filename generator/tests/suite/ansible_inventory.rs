//! Done-when 3: real ansible-core (installed by scripts/setup.d/20-ansible.sh, the range
//! Kubespray requires) reads the generated `inventory/` (group_vars from `generate`, hosts.yaml
//! from `inventory` fed with our module's output for the profile's machines): the groups hold
//! the expected hosts and every host has `ansible_user: core` and `bin_dir: /opt/bin`.

use crate::common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use common::*;
use flatcar_kube::profile::machines::machines;
use serde_json::{json, Value};

fn ansible_bin(tool: &str) -> PathBuf {
    required_tool(
        cache_dir().join("ansible-venv/bin").join(tool),
        "scripts/setup.d/20-ansible.sh",
    )
}

/// What our module's `terraform output -json` would print for the profile's machines.
fn module_output(profile: &flatcar_kube::profile::Profile) -> Value {
    let mut hosts = serde_json::Map::new();
    for (i, m) in machines(profile).iter().enumerate() {
        hosts.insert(
            m.name.clone(),
            json!({
                "groups": m.groups,
                "ip": format!("10.0.0.{}", 10 + i),
                "access_ip": m.floating_ip.then(|| format!("203.0.113.{}", 10 + i)),
                "ansible_user": "core",
            }),
        );
    }
    json!({"kubespray_inventory": {"sensitive": false, "type": "object", "value": {"hosts": hosts}}})
}

fn group_hosts(list: &Value, group: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if let Some(hosts) = list[group]["hosts"].as_array() {
        out.extend(hosts.iter().filter_map(Value::as_str).map(str::to_string));
    }
    if let Some(children) = list[group]["children"].as_array() {
        for child in children.iter().filter_map(Value::as_str) {
            out.extend(group_hosts(list, child));
        }
    }
    out
}

#[test]
fn ansible_inventory_reads_groups_user_and_bin_dir() {
    let inventory_bin = ansible_bin("ansible-inventory");
    let tmp = tempfile::tempdir().unwrap();
    for (name, profile_path) in profiles(tmp.path()) {
        let out = tmp.path().join(&name);
        generate(&profile_path, &out);
        let loaded = flatcar_kube::profile::load_str(
            &std::fs::read_to_string(&profile_path).unwrap(),
            "p.yaml",
            Some(&home()),
        )
        .unwrap();
        let tf_json = tmp.path().join(format!("{name}-output.json"));
        std::fs::write(&tf_json, module_output(&loaded.profile).to_string()).unwrap();
        run_ok(
            bin()
                .arg("inventory")
                .arg("--input")
                .arg(&tf_json)
                .arg("--output")
                .arg(out.join("inventory/hosts.yaml")),
        );

        let result = Command::new(&inventory_bin)
            .arg("-i")
            .arg(out.join("inventory/hosts.yaml"))
            .arg("--list")
            .env("ANSIBLE_CONFIG", out.join("ansible.cfg"))
            .env("KUBESPRAY_DIR", tmp.path())
            .env("ANSIBLE_LOCAL_TEMP", tmp.path().join("ansible-tmp"))
            .env("ANSIBLE_INVENTORY_UNPARSED_FAILED", "true")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert!(
            result.status.success(),
            "{name}: ansible-inventory failed:\n{stderr}"
        );
        assert!(!stderr.contains("[WARNING]"), "{name}: {stderr}");
        let list: Value = serde_json::from_slice(&result.stdout).unwrap();

        let expected = |group: &str| -> BTreeSet<String> {
            machines(&loaded.profile)
                .iter()
                .filter(|m| m.groups.contains(&group))
                .map(|m| m.name.clone())
                .collect()
        };
        for group in ["kube_control_plane", "kube_node", "etcd", "bastion"] {
            assert_eq!(
                group_hosts(&list, group),
                expected(group),
                "{name}: group {group}"
            );
        }
        let k8s: BTreeSet<String> = expected("kube_control_plane")
            .union(&expected("kube_node"))
            .cloned()
            .collect();
        assert_eq!(
            group_hosts(&list, "k8s_cluster"),
            k8s,
            "{name}: k8s_cluster"
        );
        assert!(!expected("kube_control_plane").is_empty() && !expected("etcd").is_empty());

        let hostvars = list["_meta"]["hostvars"].as_object().expect("hostvars");
        assert_eq!(hostvars.len(), machines(&loaded.profile).len(), "{name}");
        for (host, vars) in hostvars {
            assert_eq!(vars["ansible_user"], "core", "{name}: {host}");
            assert_eq!(vars["bin_dir"], "/opt/bin", "{name}: {host}");
            assert!(
                vars["ip"]
                    .as_str()
                    .is_some_and(|ip| ip.starts_with("10.0.0.")),
                "{name}: {host}"
            );
        }
        if let Some(cp) = expected("kube_control_plane").into_iter().next() {
            if loaded.profile.kubernetes.openstack_cloud_provider {
                assert_eq!(hostvars[&cp]["cloud_provider"], "external", "{name}");
                assert_eq!(
                    hostvars[&cp]["external_cloud_provider"], "openstack",
                    "{name}"
                );
            }
            assert_eq!(
                hostvars[&cp]["resolvconf_mode"], "host_resolvconf",
                "{name}"
            );
        }
    }
}

#[test]
fn ansible_reads_the_generated_ansible_cfg() {
    let config_bin = ansible_bin("ansible-config");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    generate(&testdata().join("profiles/ha.yaml"), &out);
    let dump = |plugin_type: &str| -> Value {
        let result = Command::new(&config_bin)
            .args([
                "dump",
                "--only-changed",
                "-t",
                plugin_type,
                "--format",
                "json",
            ])
            .env("ANSIBLE_CONFIG", out.join("ansible.cfg"))
            .env("KUBESPRAY_DIR", tmp.path())
            .output()
            .unwrap();
        assert!(
            result.status.success(),
            "{}",
            String::from_utf8_lossy(&result.stderr)
        );
        serde_json::from_slice(&result.stdout).unwrap()
    };
    let find = |settings: &Value, name: &str| -> Value {
        settings
            .as_array()
            .and_then(|a| a.iter().find(|s| s["name"] == name))
            .map(|s| s["value"].clone())
            .unwrap_or(Value::Null)
    };
    let base = dump("base");
    // ha.yaml: 3 control planes + 3 workers = 6 machines.
    assert_eq!(find(&base, "DEFAULT_FORKS"), json!(6));
    assert_eq!(find(&base, "CACHE_PLUGIN"), json!("jsonfile"));
    // Kubespray's roles and modules, found through KUBESPRAY_DIR.
    assert_eq!(
        find(&base, "DEFAULT_ROLES_PATH"),
        json!([tmp.path().join("roles")])
    );

    let connections = dump("connection");
    let ssh = connections
        .as_array()
        .and_then(|a| a.iter().find_map(|p| p.get("ssh")))
        .cloned()
        .expect("ssh connection settings");
    assert_eq!(find(&ssh, "pipelining"), json!(true));
    assert!(find(&ssh, "ssh_args")
        .as_str()
        .unwrap_or_default()
        .contains("ControlPersist=30m"));
}

/// The inventory of a Kubespray contrib deployment, beside the generated group_vars.
#[test]
fn ansible_inventory_reads_the_contrib_inventory() {
    let inventory_bin = ansible_bin("ansible-inventory");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    generate(&testdata().join("profiles/bastion.yaml"), &out);
    run_ok(
        bin()
            .arg("inventory")
            .arg("--input")
            .arg(testdata().join("inventory/terraform-show.json"))
            .arg("--output")
            .arg(out.join("inventory/hosts.yaml")),
    );
    let result = Command::new(&inventory_bin)
        .arg("-i")
        .arg(out.join("inventory/hosts.yaml"))
        .arg("--list")
        .env("ANSIBLE_LOCAL_TEMP", tmp.path().join("ansible-tmp"))
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let list: Value = serde_json::from_slice(&result.stdout).unwrap();
    let set = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        group_hosts(&list, "kube_control_plane"),
        set(&[
            "demo-k8s-master-1",
            "demo-k8s-master-nf-1",
            "demo-k8s-master-nf-2"
        ])
    );
    assert_eq!(
        group_hosts(&list, "etcd"),
        group_hosts(&list, "kube_control_plane")
    );
    assert_eq!(
        group_hosts(&list, "kube_node"),
        set(&[
            "demo-k8s-node-1",
            "demo-k8s-node-nf-1",
            "demo-k8s-node-nf-2"
        ])
    );
    assert_eq!(group_hosts(&list, "bastion"), set(&["demo-bastion-1"]));
    assert_eq!(group_hosts(&list, "k8s_cluster").len(), 6);
    let hostvars = &list["_meta"]["hostvars"];
    assert_eq!(
        hostvars["demo-k8s-master-1"]["ansible_host"],
        "149.165.150.11"
    );
    assert_eq!(hostvars["demo-k8s-master-1"]["ip"], "10.0.0.11");
    assert_eq!(hostvars["demo-k8s-node-nf-1"]["ansible_host"], "10.0.0.22");
    assert_eq!(
        hostvars["demo-k8s-node-nf-1"]["ansible_ssh_common_args"],
        "-o ProxyJump=core@149.165.150.5"
    );
    for (host, vars) in hostvars.as_object().unwrap() {
        assert_eq!(vars["ansible_user"], "core", "{host}");
        assert_eq!(vars["bin_dir"], "/opt/bin", "{host}");
    }
}
