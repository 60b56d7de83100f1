//! Done-when 3: real ansible-core (installed by scripts/setup.d/20-ansible.sh, the range
//! Kubespray requires) reads the generated `inventory/` (group_vars from `generate`, hosts.yaml
//! from `inventory` fed with our module's output for the profile's machines): the groups hold
//! the expected hosts; every host has `ansible_user: core`, `bin_dir: /opt/bin`,
//! `coreos_locksmithd_disable: true` and no
//! `ansible_python_interpreter`; the storage, kubeconfig and certificate variables sit on the
//! groups that read them.

use crate::common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use common::*;
use flatcar_kube::profile::machines::machines;
use flatcar_testkit::acceptance::{self, Need};
use serde_json::{json, Value};

/// What every test here needs (`flatcar_testkit::acceptance`).
const NEEDS: &[Need] = &[Need::Venv];

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
    if !acceptance::run(NEEDS) {
        return;
    }
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
            // Kubespray masks locksmithd: reboots are kured's (roles/bootstrap_os/tasks/flatcar.yml).
            assert_eq!(vars["coreos_locksmithd_disable"], true, "{name}: {host}");
            assert!(
                vars["ip"]
                    .as_str()
                    .is_some_and(|ip| ip.starts_with("10.0.0.")),
                "{name}: {host}"
            );
            // Current Kubespray finds Flatcar's Python itself; a fixed one breaks tasks
            // delegated to localhost (kubeconfig_localhost).
            assert!(
                vars.get("ansible_python_interpreter").is_none(),
                "{name}: {host}: {vars}"
            );
        }
        storage_and_kubeconfig_on_the_right_groups(&name, &loaded.profile, &list, &k8s);
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

/// The storage, kubeconfig and certificate variables, each on the hosts that read it.
fn storage_and_kubeconfig_on_the_right_groups(
    name: &str,
    profile: &flatcar_kube::profile::Profile,
    list: &Value,
    k8s: &BTreeSet<String>,
) {
    let hostvars = list["_meta"]["hostvars"].as_object().expect("hostvars");
    let cinder = profile.kubernetes.cinder_csi;
    let all_machines = machines(profile);
    let cp_floating: Vec<Value> = all_machines
        .iter()
        .enumerate()
        .filter(|(_, m)| m.groups.contains(&"kube_control_plane") && m.floating_ip)
        .map(|(i, _)| json!(format!("203.0.113.{}", 10 + i)))
        .collect();
    for (host, vars) in hostvars {
        let at = format!("{name}: {host}");
        // group_vars/k8s_cluster: the Kubernetes hosts only (not a bastion, not etcd alone).
        if k8s.contains(host) {
            assert_eq!(vars["kubeconfig_localhost"], true, "{at}");
            assert_eq!(vars["kubeconfig_localhost_ansible_host"], true, "{at}");
            assert_eq!(
                vars["artifacts_dir"], "{{ inventory_dir }}/../artifacts",
                "{at}"
            );
            assert_eq!(vars["auto_renew_certificates"], true, "{at}");
            assert_eq!(
                vars.get("persistent_volumes_enabled"),
                cinder.then_some(&json!(true)),
                "{at}"
            );
            assert_eq!(
                vars.get("expand_persistent_volumes"),
                cinder.then_some(&json!(true)),
                "{at}"
            );
        } else {
            for var in [
                "kubeconfig_localhost",
                "artifacts_dir",
                "persistent_volumes_enabled",
            ] {
                assert!(vars.get(var).is_none(), "{at}: {var} outside k8s_cluster");
            }
        }
        // group_vars/all/openstack.yml: every host.
        if cinder {
            assert_eq!(vars["cinder_csi_enabled"], true, "{at}");
            assert_eq!(vars["cinder_csi_ignore_volume_az"], true, "{at}");
            let classes = vars["storage_classes"].as_array().expect("storage_classes");
            assert_eq!(classes.len(), 1, "{at}");
            assert_eq!(classes[0]["name"], "cinder-csi", "{at}");
            assert_eq!(classes[0]["is_default"], true, "{at}");
            assert_eq!(
                classes[0]["parameters"]["availability"],
                json!(profile.cloud.availability_zone),
                "{at}"
            );
        } else {
            for var in ["cinder_csi_enabled", "storage_classes"] {
                assert!(vars.get(var).is_none(), "{at}: {var} without cinder_csi");
            }
        }
        // hosts.yaml's kube_control_plane vars: the control plane's floating IPs.
        let is_cp = all_machines
            .iter()
            .any(|m| &m.name == host && m.groups.contains(&"kube_control_plane"));
        if is_cp && !cp_floating.is_empty() {
            assert_eq!(
                vars["supplementary_addresses_in_ssl_keys"],
                json!(cp_floating),
                "{at}"
            );
        } else {
            assert!(
                vars.get("supplementary_addresses_in_ssl_keys").is_none(),
                "{at}"
            );
        }
    }
}

/// Ansible itself evaluates `artifacts_dir`: the kubeconfig lands in the output directory.
#[test]
fn ansible_puts_the_kubeconfig_into_the_output_directory() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let ansible = ansible_bin("ansible");
    let tmp = tempfile::tempdir().unwrap();
    let (_, profile_path) = profiles(tmp.path()).remove(0); // Jetstream2
    let out = tmp.path().join("out");
    generate(&profile_path, &out);
    let loaded = flatcar_kube::profile::load_str(
        &std::fs::read_to_string(&profile_path).unwrap(),
        "p.yaml",
        Some(&home()),
    )
    .unwrap();
    let tf_json = tmp.path().join("output.json");
    std::fs::write(&tf_json, module_output(&loaded.profile).to_string()).unwrap();
    run_ok(
        bin()
            .arg("inventory")
            .arg("--input")
            .arg(&tf_json)
            .arg("--output")
            .arg(out.join("inventory/hosts.yaml")),
    );
    // `debug` runs on the controller: no connection to the (imaginary) host.
    let result = Command::new(&ansible)
        .arg("-i")
        .arg(out.join("inventory/hosts.yaml"))
        .args([
            "demo-control-plane-1",
            "-m",
            "debug",
            "-a",
            "msg='{{ artifacts_dir }}/admin.conf {{ supplementary_addresses_in_ssl_keys | join(\",\") }}'",
        ])
        .env("ANSIBLE_CONFIG", out.join("ansible.cfg"))
        .env("KUBESPRAY_DIR", tmp.path())
        .env("ANSIBLE_LOCAL_TEMP", tmp.path().join("ansible-tmp"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        result.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let expected = format!(
        "\"msg\": \"{}/inventory/../artifacts/admin.conf 203.0.113.10\"",
        out.display()
    );
    assert!(stdout.contains(&expected), "{expected}\n{stdout}");
}

#[test]
fn ansible_reads_the_generated_ansible_cfg() {
    if !acceptance::run(NEEDS) {
        return;
    }
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
    if !acceptance::run(NEEDS) {
        return;
    }
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
        // Machines of Kubespray's own Terraform boot with cloud-init and locksmithd running:
        // Kubespray masks it when this is set.
        assert_eq!(vars["coreos_locksmithd_disable"], true, "{host}");
    }
}
