//! `flatcar-kube up` on a living cluster, with the stateful fake `terraform` of `up` and a
//! recording stand-in for `ansible-playbook` that logs into the same file, so the order of
//! Terraform and Kubespray steps is visible: remove-node before the apply that destroys the
//! server, scale.yml limited to the new node after it, upgrade-cluster.yml for one Kubernetes
//! minor and a refusal for two, the disruption guard, and the confirmation (`--yes`, a real
//! terminal through `script`, no terminal). The real apply is the flow test's job.

use crate::common;
use crate::up::up_cmd;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const CLUSTER: &str = "ha-prod";

fn cp(n: u32) -> String {
    format!("{CLUSTER}-control-plane-{n}")
}

fn worker(n: u32) -> String {
    format!("{CLUSTER}-worker-{n}")
}

/// `terraform output -json` of a cluster of these machines.
fn output(machines: &[String]) -> String {
    let hosts: serde_json::Map<String, serde_json::Value> = machines
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let groups = if name.contains("control-plane") {
                serde_json::json!(["kube_control_plane", "etcd"])
            } else {
                serde_json::json!(["kube_node"])
            };
            (
                name.clone(),
                serde_json::json!({"groups": groups, "ip": format!("10.0.0.{}", 10 + i), "ansible_host": null, "access_ip": null, "ansible_user": "core"}),
            )
        })
        .collect();
    let images: serde_json::Map<String, serde_json::Value> = machines
        .iter()
        .map(|m| (m.clone(), serde_json::json!("stable-4230.2.1")))
        .collect();
    serde_json::json!({
        "kubespray_inventory": {"sensitive": false, "type": "object", "value": {"hosts": hosts}},
        "machine_images": {"sensitive": false, "type": "object", "value": images},
    })
    .to_string()
}

/// A saved plan's `show -json`: every machine with its actions.
fn plan(machines: &[(String, &[&str])]) -> String {
    let changes: Vec<serde_json::Value> = machines
        .iter()
        .map(|(name, actions)| {
            let groups = if name.contains("control-plane") {
                "kube_control_plane,etcd"
            } else {
                "kube_node"
            };
            let side = serde_json::json!({"name": name, "metadata": {"kubespray_groups": groups}});
            let create = actions == &["create"];
            let delete = actions == &["delete"];
            serde_json::json!({
                "address": format!("module.cluster.flatcar_instance.node[\"{name}\"]"),
                "mode": "managed", "type": "flatcar_instance", "name": "node", "index": name,
                "change": {"actions": actions,
                           "before": if create { serde_json::Value::Null } else { side.clone() },
                           "after": if delete { serde_json::Value::Null } else { side }}
            })
        })
        .collect();
    serde_json::json!({"format_version": "1.2", "resource_changes": changes}).to_string()
}

fn three_and_three() -> Vec<String> {
    vec![cp(1), cp(2), cp(3), worker(1), worker(2), worker(3)]
}

/// A recording `ansible-playbook`: `--version` as ansible-core 2.18 (Kubespray v2.31's range)
/// with a Python that has netaddr and jmespath; a run appends its arguments to $FAKE_TF_LOG
/// and writes the kubeconfig Kubespray would. With $FAKE_UNREACHABLE set, a graceful
/// `remove-node.yml` ends as ansible-playbook does when hosts are unreachable (exit 4).
fn recording_playbook(dir: &Path) -> PathBuf {
    let python = fake_python(dir, true);
    let path = dir.join("ansible-playbook");
    executable(
        &path,
        &format!(
            "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'ansible-playbook [core 2.18.4]'; echo '  python version = 3.11.7 (main) [GCC 12.2.0] ({})'; exit 0; fi\nprintf 'ansible-playbook %s\\n' \"$*\" >> \"$FAKE_TF_LOG\"\nmkdir -p \"$(dirname \"$2\")/../artifacts\" && echo kubeconfig > \"$(dirname \"$2\")/../artifacts/admin.conf\"\ncase \"${{FAKE_UNREACHABLE:-}}:$*\" in\n  :*) ;;\n  *allow_ungraceful_removal=true*) ;;\n  *remove-node.yml*) echo 'fatal: [gone]: UNREACHABLE!' >&2; exit 4 ;;\nesac\n",
            python.display()
        ),
    );
    path
}

/// A Kubespray checkout shaped like v2.31 (playbooks, checksums for 1.33.0 to 1.35.4).
fn kubespray(dir: &Path) -> PathBuf {
    let k = dir.join("kubespray");
    if !k.exists() {
        flatcar_testkit::kubespray_tree::checkout("v2.31", &k);
    }
    k
}

struct Day2 {
    tmp: tempfile::TempDir,
    profile: PathBuf,
    out: PathBuf,
}

impl Day2 {
    /// The HA profile (3 + 3 machines, Kubernetes `kubernetes`), with a running cluster of
    /// `running` machines, deployed at `deployed_kubernetes` when given.
    fn new(kubernetes: &str, running: &[String], deployed_kubernetes: Option<&str>) -> Day2 {
        let tmp = tempfile::tempdir().unwrap();
        let text = std::fs::read_to_string(testdata().join("profiles/ha.yaml"))
            .unwrap()
            .replace("version: 1.34.3", &format!("version: {kubernetes}"));
        let profile = tmp.path().join("ha.yaml");
        std::fs::write(&profile, text).unwrap();
        let out = tmp.path().join("out");
        std::fs::create_dir_all(&out).unwrap();
        if !running.is_empty() {
            std::fs::write(tmp.path().join("state"), "").unwrap();
            std::fs::write(tmp.path().join("output.json"), output(running)).unwrap();
        }
        if let Some(v) = deployed_kubernetes {
            // Deployed with the coordinator of this profile: its manifest's digest, as up records it.
            generate(&profile, &out);
            let sha = Command::new("sha256sum")
                .arg(out.join("coordinator/kured.yaml"))
                .output()
                .unwrap();
            let sha = String::from_utf8_lossy(&sha.stdout)
                .split_whitespace()
                .next()
                .unwrap()
                .to_string();
            let record =
                serde_json::json!({"nodes": running, "kubernetes_version": v, "coordinator": sha});
            std::fs::write(out.join("deployed.json"), record.to_string()).unwrap();
        }
        Day2 { tmp, profile, out }
    }

    fn plan(&self, machines: &[(String, &[&str])]) {
        std::fs::write(self.tmp.path().join("plan.json"), plan(machines)).unwrap();
    }

    /// The cluster after the apply.
    fn after(&self, machines: &[String]) {
        std::fs::write(self.tmp.path().join("after.json"), output(machines)).unwrap();
    }

    fn cmd(&self, args: &[&str]) -> Command {
        fake_terraform(self.tmp.path());
        let mut cmd = up_cmd(self.tmp.path(), &self.profile, &self.out);
        cmd.args(args)
            .arg("--ansible-playbook")
            .arg(recording_playbook(self.tmp.path()))
            .arg("--kubespray")
            .arg(kubespray(self.tmp.path()))
            .env("FAKE_TF_OUTPUT_AFTER", self.tmp.path().join("after.json"))
            .env("OS_USERNAME", "demo")
            .env("OS_PASSWORD", "secret")
            .env("OS_PROJECT_NAME", "demo")
            .env("OS_USER_DOMAIN_NAME", "Default");
        cmd
    }

    /// Terraform steps ("plan", "apply", ...) and playbook runs ("remove-node.yml -e ..."), in order.
    fn steps(&self) -> Vec<String> {
        let log = std::fs::read_to_string(self.tmp.path().join("calls.log")).unwrap_or_default();
        log.lines()
            .map(|line| match line.strip_prefix("ansible-playbook ") {
                Some(rest) => rest
                    .split_once("--become ")
                    .map(|(_, p)| p.to_string())
                    .unwrap_or_else(|| rest.to_string()),
                None => line
                    .split(['|', ' '])
                    .nth(1)
                    .unwrap_or_default()
                    .to_string(),
            })
            .collect()
    }

    fn record(&self) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(self.out.join("deployed.json")).unwrap())
            .unwrap()
    }
}

/// The HA cluster, deployed, and a plan in which worker 3 leaves.
fn worker_3_leaves() -> Day2 {
    let d = Day2::new("1.34.3", &three_and_three(), Some("1.34.3"));
    let mut machines = unchanged(&three_and_three()[..5]);
    machines.push((worker(3), &["delete"]));
    d.plan(&machines);
    d.after(&three_and_three()[..5]);
    d
}

fn unchanged(names: &[String]) -> Vec<(String, &'static [&'static str])> {
    names.iter().map(|n| (n.clone(), &["no-op"][..])).collect()
}

#[test]
fn removing_a_worker_drains_it_before_its_server_is_destroyed() {
    let d = worker_3_leaves();
    run_ok(&mut d.cmd(&["--deploy", "--yes"]));
    assert_eq!(
        d.steps(),
        [
            "init",
            "output",
            "plan",
            "show",
            &format!(
                "remove-node.yml -e node={} -e skip_confirmation=yes",
                worker(3)
            ),
            "apply",
            "output",
        ]
    );
    let nodes = d.record()["nodes"].clone();
    assert_eq!(nodes, serde_json::json!(three_and_three()[..5]));
    // The running machines keep their release: the previous output went to the module.
    let images =
        std::fs::read_to_string(d.out.join("terraform/machine-images.auto.tfvars.json")).unwrap();
    assert!(
        images.contains(&format!("\"{}\": \"stable-4230.2.1\"", worker(3))),
        "{images}"
    );
}

#[test]
fn adding_a_worker_runs_scale_limited_to_it() {
    let d = Day2::new("1.34.3", &three_and_three(), Some("1.34.3"));
    let mut machines = unchanged(&three_and_three());
    machines.push((worker(4), &["create"]));
    d.plan(&machines);
    let mut after = three_and_three();
    after.push(worker(4));
    d.after(&after);
    let run = run_ok(&mut d.cmd(&["--deploy", "--yes"]));
    assert_eq!(
        d.steps(),
        [
            "init",
            "output",
            "plan",
            "show",
            "apply",
            "output",
            // nodes.md: facts.yml without the limit before any --limit.
            "playbooks/facts.yml",
            &format!("scale.yml --limit={}", worker(4)),
        ]
    );
    assert_eq!(d.record()["nodes"].as_array().map(Vec::len), Some(7));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains(&format!("create           {} (kube_node)", worker(4))),
        "{stdout}"
    );
    assert!(
        stdout
            .contains("1 to create, 0 to update in place, 0 to replace, 0 to destroy, 6 unchanged"),
        "{stdout}"
    );
}

#[test]
fn a_kubernetes_minor_bump_upgrades_and_a_skipped_minor_is_refused() {
    let d = Day2::new("1.34.3", &three_and_three(), Some("1.33.4"));
    d.plan(&unchanged(&three_and_three()));
    d.after(&three_and_three());
    run_ok(&mut d.cmd(&["--deploy", "--yes"]));
    assert_eq!(
        d.steps(),
        [
            "init",
            "output",
            "plan",
            "show",
            "output",
            "upgrade-cluster.yml"
        ]
    );
    assert_eq!(d.record()["kubernetes_version"], "1.34.3");

    let skip = Day2::new("1.35.1", &three_and_three(), Some("1.33.4"));
    skip.plan(&unchanged(&three_and_three()));
    let run = skip.cmd(&["--deploy", "--yes"]).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("kubernetes.version 1.35.1 skips a minor version: the cluster runs 1.33.4")
            && stderr.contains("set 1.34.x first"),
        "{stderr}"
    );
    assert!(
        skip.steps().is_empty(),
        "nothing may run: {:?}",
        skip.steps()
    );
    assert_eq!(skip.record()["kubernetes_version"], "1.33.4");
}

#[test]
fn replacing_a_control_plane_machine_needs_allow_disruption() {
    let d = Day2::new("1.34.3", &three_and_three(), None);
    let mut machines = unchanged(&three_and_three());
    machines[1] = (cp(2), &["delete", "create"]);
    d.plan(&machines);
    d.after(&three_and_three());
    let run = d.cmd(&["--yes"]).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains(&format!(
            "refusing to replace or destroy control-plane or etcd machines: {}",
            cp(2)
        )) && stderr.contains("--allow-disruption"),
        "{stderr}"
    );
    assert!(!d.steps().contains(&"apply".to_string()), "{:?}", d.steps());
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains(&format!("REPLACE          {}", cp(2))),
        "{stdout}"
    );

    run_ok(&mut d.cmd(&["--yes", "--allow-disruption"]));
    assert!(d.steps().contains(&"apply".to_string()), "{:?}", d.steps());
}

/// nodes.md, "Adding/Removal of first `kube_control_plane` and etcd-master": Kubespray cannot
/// remove the first host, so even --allow-disruption does not replace it.
#[test]
fn the_first_control_plane_is_never_replaced_even_with_allow_disruption() {
    let d = Day2::new("1.34.3", &three_and_three(), Some("1.34.3"));
    let mut machines = unchanged(&three_and_three());
    machines[0] = (cp(1), &["delete", "create"]);
    d.plan(&machines);
    d.after(&three_and_three());
    let run = d
        .cmd(&["--deploy", "--yes", "--allow-disruption"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains(&format!(
            "refusing to replace or destroy {}: it is the first host of kube_control_plane and etcd",
            cp(1)
        )) && stderr.contains("docs/operations/nodes.md")
            && stderr.contains("PLAYBOOK=upgrade-cluster.yml"),
        "{stderr}"
    );
    let steps = d.steps();
    assert!(
        !steps.contains(&"apply".to_string()) && !steps.iter().any(|s| s.contains(".yml")),
        "{steps:?}"
    );
}

/// With ten control planes the first is cp-1 and cp-10 comes last (not `cp-1, cp-10, cp-2`):
/// hosts.yaml's groups and the plan summary are in natural order, and replacing cp-10 is not
/// taken for the first host.
#[test]
fn machine_names_are_in_natural_order() {
    let many: Vec<String> = (1..=11).map(cp).chain([worker(1)]).collect();
    let d = Day2::new("1.34.3", &many, Some("1.34.3"));
    let mut machines = unchanged(&many);
    machines[9] = (cp(10), &["delete", "create"]);
    d.plan(&machines);
    d.after(&many);
    let run = run_ok(&mut d.cmd(&["--deploy", "--yes", "--allow-disruption"]));
    let stdout = String::from_utf8_lossy(&run.stdout);
    let shown = |n: u32| {
        stdout
            .find(&format!(" {} (", cp(n)))
            .unwrap_or_else(|| panic!("{} not in the plan:\n{stdout}", cp(n)))
    };
    assert!(shown(2) < shown(10) && shown(9) < shown(10), "{stdout}");
    let hosts = std::fs::read_to_string(d.out.join("inventory/hosts.yaml")).unwrap();
    let control_plane = hosts
        .split("kube_control_plane:\n      hosts:\n")
        .nth(1)
        .unwrap();
    let order: Vec<&str> = control_plane
        .lines()
        .take(11)
        .map(|l| l.trim().trim_end_matches(": {}"))
        .collect();
    let expected: Vec<String> = (1..=11).map(cp).collect();
    assert_eq!(order, expected, "{hosts}");
}

#[test]
fn a_dead_machine_is_removed_ungracefully_after_the_graceful_attempt() {
    let d = worker_3_leaves();
    let run = run_ok(d.cmd(&["--deploy", "--yes"]).env("FAKE_UNREACHABLE", "1"));
    let graceful = format!(
        "remove-node.yml -e node={} -e skip_confirmation=yes",
        worker(3)
    );
    let ungraceful = format!("{graceful} -e reset_nodes=false -e allow_ungraceful_removal=true");
    assert_eq!(
        d.steps(),
        [
            "init",
            "output",
            "plan",
            "show",
            &graceful,
            &ungraceful,
            "apply",
            "output"
        ]
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(stdout.contains("could not be reached"), "{stdout}");

    // Asked for: no graceful attempt at all.
    let d = worker_3_leaves();
    run_ok(&mut d.cmd(&["--deploy", "--yes", "--ungraceful-removal"]));
    assert_eq!(
        d.steps(),
        [
            "init",
            "output",
            "plan",
            "show",
            &ungraceful,
            "apply",
            "output"
        ]
    );
}

#[test]
fn etcd_members_joining_or_leaving_get_kubesprays_follow_up() {
    let five: Vec<String> = (1..=5).map(cp).chain((1..=3).map(worker)).collect();
    let text = std::fs::read_to_string(testdata().join("profiles/ha.yaml"))
        .unwrap()
        .replace(
            "  control_plane:\n    count: 3",
            "  control_plane:\n    count: 5",
        );
    // Two control planes (with etcd on them) join.
    let d = Day2::new("1.34.3", &three_and_three(), Some("1.34.3"));
    std::fs::write(&d.profile, &text).unwrap();
    let mut machines = unchanged(&three_and_three());
    machines.push((cp(4), &["create"]));
    machines.push((cp(5), &["create"]));
    d.plan(&machines);
    d.after(&five);
    run_ok(&mut d.cmd(&["--deploy", "--yes"]));
    let limit = "--limit=etcd,kube_control_plane -e ignore_assert_errors=yes";
    assert_eq!(
        d.steps()[6..],
        [
            "playbooks/facts.yml".to_string(),
            format!("cluster.yml {limit} -e etcd_retries=10"),
            format!("upgrade-cluster.yml {limit}"),
        ]
    );
    assert_eq!(d.record()["nodes"].as_array().map(Vec::len), Some(8));

    // And leave again: removed before the apply, then cluster.yml everywhere and the upgrade.
    let d = Day2::new("1.34.3", &five, Some("1.34.3"));
    let mut machines = unchanged(&three_and_three());
    machines.push((cp(4), &["delete"]));
    machines.push((cp(5), &["delete"]));
    d.plan(&machines);
    d.after(&three_and_three());
    run_ok(&mut d.cmd(&["--deploy", "--yes", "--allow-disruption"]));
    assert_eq!(
        d.steps(),
        [
            "init".to_string(),
            "output".into(),
            "plan".into(),
            "show".into(),
            format!(
                "remove-node.yml -e node={},{} -e skip_confirmation=yes",
                cp(4),
                cp(5)
            ),
            "apply".into(),
            "output".into(),
            "cluster.yml".into(),
            format!("upgrade-cluster.yml {limit}"),
        ]
    );
}

#[test]
fn destroy_forgets_the_deploy_and_the_next_deploy_starts_from_the_beginning() {
    let d = Day2::new("1.34.3", &three_and_three(), Some("1.34.3"));
    run_ok(&mut d.cmd(&["--destroy"]));
    assert!(
        !d.out.join("deployed.json").exists(),
        "the record of a destroyed cluster stays"
    );
    d.plan(&[(cp(1), &["create"]), (worker(1), &["create"])]);
    d.after(&three_and_three());
    run_ok(&mut d.cmd(&["--deploy"]));
    assert!(
        d.steps().contains(&"cluster.yml".to_string()),
        "{:?}",
        d.steps()
    );

    // A record whose machines are gone (destroyed outside `up`) is not believed either.
    let stale = Day2::new("1.34.3", &[], Some("1.34.3"));
    std::fs::write(
        stale.out.join("deployed.json"),
        serde_json::json!({"nodes": three_and_three(), "kubernetes_version": "1.34.3"}).to_string(),
    )
    .unwrap();
    stale.plan(&[(cp(1), &["create"])]);
    stale.after(&three_and_three());
    let run = run_ok(&mut stale.cmd(&["--deploy"]));
    assert!(
        stale.steps().contains(&"cluster.yml".to_string()),
        "{:?}",
        stale.steps()
    );
    assert!(
        String::from_utf8_lossy(&run.stdout).contains("names machines that no longer exist"),
        "{}",
        String::from_utf8_lossy(&run.stdout)
    );
}

/// kubernetes.version is checked against the checksums of the Kubespray in use before any
/// Terraform runs, with the profile's file:line:col.
#[test]
fn a_kubernetes_version_kubespray_cannot_install_is_refused_before_terraform() {
    for version in ["1.99.0", "1.29.0", "1.32.5"] {
        let d = Day2::new(version, &[], None);
        let run = d.cmd(&["--deploy"]).output().unwrap();
        assert_eq!(run.status.code(), Some(2), "{version}");
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(
            stderr.contains("ha.yaml:33:12: Kubespray v2.31.0")
                && stderr.contains(&format!("cannot install Kubernetes {version}"))
                && stderr.contains("1.33.0 to 1.35.4")
                && stderr.contains("roles/kubespray_defaults/vars/main/checksums.yml"),
            "{version}: {stderr}"
        );
        assert!(d.steps().is_empty(), "{version}: {:?}", d.steps());
    }
}

/// Unpinned, the version is Kubespray's default (the first kubelet checksum) and recorded; a
/// Kubespray that moved on runs the upgrade path, or is refused when it skips a release.
#[test]
fn the_resolved_version_and_kubespray_are_recorded_and_a_move_upgrades() {
    let unpin = |d: &Day2| {
        let text = std::fs::read_to_string(&d.profile)
            .unwrap()
            .replace("  version: 1.34.3\n", "");
        std::fs::write(&d.profile, text).unwrap();
    };
    let d = Day2::new("1.34.3", &[], None);
    unpin(&d);
    d.plan(&[(cp(1), &["create"])]);
    d.after(&three_and_three());
    let run = run_ok(&mut d.cmd(&["--deploy"]));
    assert!(
        String::from_utf8_lossy(&run.stdout)
            .contains("kubernetes.version is not set: Kubespray v2.31.0 installs 1.35.4"),
        "{}",
        String::from_utf8_lossy(&run.stdout)
    );
    assert_eq!(d.record()["kubernetes_version"], "1.35.4");

    // Deployed by v2.30.0 at 1.34.3; now v2.31.0, whose default is 1.35.4: upgrade-cluster.yml.
    let d = Day2::new("1.34.3", &three_and_three(), Some("1.34.3"));
    unpin(&d);
    let mut record = d.record();
    record["kubespray"] = serde_json::json!({"release": "v2.30.0", "commit": null});
    std::fs::write(d.out.join("deployed.json"), record.to_string()).unwrap();
    d.plan(&unchanged(&three_and_three()));
    d.after(&three_and_three());
    run_ok(&mut d.cmd(&["--deploy", "--yes"]));
    assert_eq!(d.steps()[4..], ["output", "upgrade-cluster.yml"]);
    assert_eq!(d.record()["kubernetes_version"], "1.35.4");
    assert_eq!(d.record()["kubespray"]["release"], "v2.31.0");

    // Deployed by v2.29.1: v2.31.0 skips a release.
    let d = Day2::new("1.34.3", &three_and_three(), Some("1.34.3"));
    let mut record = d.record();
    record["kubespray"] = serde_json::json!({"release": "v2.29.1", "commit": null});
    std::fs::write(d.out.join("deployed.json"), record.to_string()).unwrap();
    d.plan(&unchanged(&three_and_three()));
    let run = d.cmd(&["--deploy", "--yes"]).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("kubespray.version v2.31.0 skips a release") && stderr.contains("v2.30.x"),
        "{stderr}"
    );
    assert!(d.steps().is_empty(), "{:?}", d.steps());
}

/// Paths given relative to where `up` runs stay right although deploy.sh changes directory.
#[test]
fn relative_ansible_playbook_and_kubespray_paths_work() {
    let d = Day2::new("1.34.3", &[], None);
    d.plan(&[(cp(1), &["create"])]);
    d.after(&three_and_three());
    let cmd = d.cmd(&["--deploy"]);
    // The same command, with the two paths relative to the test's directory.
    let args: Vec<std::ffi::OsString> = cmd
        .get_args()
        .map(|a| {
            let p = Path::new(a);
            match p.strip_prefix(d.tmp.path()) {
                Ok(rel) if p.ends_with("ansible-playbook") || p.ends_with("kubespray") => {
                    Path::new(".").join(rel).into_os_string()
                }
                _ => a.to_os_string(),
            }
        })
        .collect();
    assert!(
        args.iter().any(|a| a == "./ansible-playbook") && args.iter().any(|a| a == "./kubespray"),
        "{args:?}"
    );
    let mut relative = Command::new(cmd.get_program());
    relative.args(args).current_dir(d.tmp.path());
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            relative.env(k, v);
        }
    }
    run_ok(&mut relative);
    assert!(
        d.steps().contains(&"cluster.yml".to_string()),
        "{:?}",
        d.steps()
    );
}

#[test]
fn a_change_to_a_running_cluster_is_confirmed_by_yes_or_at_the_terminal() {
    let d = Day2::new("1.34.3", &three_and_three(), None);
    let mut machines = unchanged(&three_and_three());
    machines.push((worker(4), &["create"]));
    d.plan(&machines);
    d.after(&three_and_three());

    // No terminal, no --yes: the plan is shown and nothing is applied.
    let run = d.cmd(&[]).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("run again with --yes"), "{stderr}");
    assert!(!d.steps().contains(&"apply".to_string()));

    // A real terminal (util-linux `script` gives the command a pty): "no", then "yes".
    for (answer, applies) in [("no", false), ("yes", true)] {
        let cmd = d.cmd(&[]);
        let mut line = vec![cmd.get_program().to_string_lossy().into_owned()];
        line.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
        let mut script = Command::new("script");
        script.args(["-qefc", &line.join(" "), "/dev/null"]);
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => script.env(k, v),
                None => script.env_remove(k),
            };
        }
        script.stdin(std::process::Stdio::piped());
        script.stdout(std::process::Stdio::piped());
        let mut child = script.spawn().expect("script (util-linux)");
        {
            use std::io::Write as _;
            let mut stdin = child.stdin.take().unwrap();
            writeln!(stdin, "{answer}").unwrap();
        }
        let result = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&result.stdout);
        assert!(
            text.contains("Apply this plan to the running cluster?"),
            "{text}"
        );
        assert_eq!(result.status.success(), applies, "{answer}: {text}");
        assert_eq!(
            d.steps().contains(&"apply".to_string()),
            applies,
            "{answer}: {:?}",
            d.steps()
        );
        if !applies {
            assert!(text.contains("not applied: nothing was changed"), "{text}");
        }
    }
}

#[test]
fn the_first_deploy_runs_cluster_yml_and_records_the_cluster() {
    let d = Day2::new("1.34.3", &[], None);
    d.plan(&[(cp(1), &["create"]), (worker(1), &["create"])]);
    d.after(&three_and_three());
    run_ok(&mut d.cmd(&["--deploy"]));
    let steps = d.steps();
    assert_eq!(
        steps[..7],
        [
            "init",
            "output",
            "plan",
            "show",
            "apply",
            "output",
            "cluster.yml"
        ]
    );
    let record = d.record();
    assert_eq!(record["nodes"], serde_json::json!(three_and_three()));
    assert_eq!(record["kubernetes_version"], "1.34.3");
    // Which Kubespray deployed it (the test's copy is no git checkout: no commit).
    assert_eq!(
        record["kubespray"],
        serde_json::json!({"release": "v2.31.0", "commit": null})
    );
}

/// The apps block of the JupyterHub tests, with user volumes of `storage`.
fn jupyterhub_apps(storage: &str) -> String {
    format!(
        "apps:\n  jupyterhub:\n    host: hub.ha-prod.example.org\n    contact_email: ops@example.org\n    storage: {storage}\n    authenticator:\n      type: dummy\n"
    )
}

impl Day2 {
    /// The profile with `apps` appended (or none).
    fn set_apps(&self, apps: Option<&str>) {
        let text = std::fs::read_to_string(&self.profile).unwrap();
        let base = text.split("apps:\n").next().unwrap().to_string();
        std::fs::write(&self.profile, base + apps.unwrap_or_default()).unwrap();
    }

    /// Playbook steps that are not Terraform's, with the generated plays by their directory.
    fn playbooks(&self) -> Vec<String> {
        self.steps()
            .into_iter()
            .filter(|s| s.contains(".yml"))
            .map(|s| {
                if s.contains("/apps/install.yml") {
                    "apps/install.yml".into()
                } else if s.contains("/coordinator/install.yml") {
                    "coordinator/install.yml".into()
                } else {
                    s
                }
            })
            .collect()
    }

    fn clear_log(&self) {
        std::fs::write(self.tmp.path().join("calls.log"), "").unwrap();
    }
}

const HUB_PASSWORD: &str = "s3cret-workshop-pw";

#[test]
fn jupyterhub_is_installed_after_kured_and_upgraded_when_its_values_change() {
    let d = Day2::new("1.34.3", &[], None);
    d.set_apps(Some(&jupyterhub_apps("10Gi")));
    d.plan(&[(cp(1), &["create"]), (worker(1), &["create"])]);
    d.after(&three_and_three());
    run_ok(
        d.cmd(&["--deploy"])
            .env("JUPYTERHUB_PASSWORD", HUB_PASSWORD),
    );
    assert_eq!(
        d.playbooks(),
        ["cluster.yml", "coordinator/install.yml", "apps/install.yml"]
    );
    // The first deploy had helm_enabled (group_vars), so no extra Kubespray run is needed.
    assert!(std::fs::read_to_string(
        d.out
            .join("inventory/group_vars/k8s_cluster/k8s-cluster.yml")
    )
    .unwrap()
    .contains("\nhelm_enabled: true\n"));
    let record = d.record();
    assert_eq!(record["helm"], true);
    let installed = record["apps"].clone();
    assert!(installed.is_string(), "{record}");

    // Same profile again: nothing to install.
    d.clear_log();
    d.plan(&unchanged(&three_and_three()));
    run_ok(
        d.cmd(&["--deploy"])
            .env("JUPYTERHUB_PASSWORD", HUB_PASSWORD),
    );
    assert!(d.playbooks().is_empty(), "{:?}", d.playbooks());

    // Bigger homes: the values change, and only the apps' play runs (helm upgrade).
    d.clear_log();
    d.set_apps(Some(&jupyterhub_apps("20Gi")));
    run_ok(
        d.cmd(&["--deploy"])
            .env("JUPYTERHUB_PASSWORD", HUB_PASSWORD),
    );
    assert_eq!(d.playbooks(), ["apps/install.yml"]);
    let values = std::fs::read_to_string(d.out.join("apps/jupyterhub/values.yaml")).unwrap();
    assert!(values.contains("capacity: \"20Gi\""), "{values}");
    assert_ne!(d.record()["apps"], installed);

    // The secret is never written under DIR.
    for f in files_under(&d.out) {
        let bytes = std::fs::read(d.out.join(&f)).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(HUB_PASSWORD),
            "{} holds the password",
            f.display()
        );
    }

    // Apps removed from the profile: nothing is uninstalled, the output says how.
    d.clear_log();
    d.set_apps(None);
    let run = run_ok(&mut d.cmd(&["--deploy"]));
    let text =
        String::from_utf8_lossy(&run.stdout).into_owned() + &String::from_utf8_lossy(&run.stderr);
    // kured loses its blocking selector for user servers: its manifest is applied again.
    assert_eq!(d.playbooks(), ["coordinator/install.yml"]);
    assert!(
        text.contains("helm uninstall jupyterhub --namespace jupyterhub"),
        "{text}"
    );
    assert!(d.record()["apps"].is_null());
}

#[test]
fn a_missing_authenticator_secret_stops_up_before_anything_runs() {
    let d = Day2::new("1.34.3", &[], None);
    d.set_apps(Some(&jupyterhub_apps("10Gi")));
    let out = d
        .cmd(&["--deploy"])
        .env_remove("JUPYTERHUB_PASSWORD")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("JUPYTERHUB_PASSWORD is not set") && stderr.contains("nothing was changed"),
        "{stderr}"
    );
    assert!(d.steps().is_empty(), "{:?}", d.steps());
}

#[test]
fn apps_added_to_a_cluster_deployed_without_helm_run_cluster_yml_first() {
    let d = Day2::new("1.34.3", &three_and_three(), Some("1.34.3"));
    d.plan(&unchanged(&three_and_three()));
    d.after(&three_and_three());
    d.set_apps(Some(&jupyterhub_apps("10Gi")));
    run_ok(
        d.cmd(&["--deploy"])
            .env("JUPYTERHUB_PASSWORD", HUB_PASSWORD),
    );
    // kured gains the blocking selector for user servers; Kubespray installs its helm
    // (helm_enabled reaches the machines through cluster.yml); then the hub.
    assert_eq!(
        d.playbooks(),
        ["coordinator/install.yml", "cluster.yml", "apps/install.yml"]
    );
    assert_eq!(d.record()["helm"], true);
}
