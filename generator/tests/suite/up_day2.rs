//! `flatcar-kube up` on a living cluster, with the stateful fake `terraform` of `up` and a
//! recording stand-in for `ansible-playbook` that logs into the same file, so the order of
//! Terraform and Kubespray steps is visible: remove-node before the apply that destroys the
//! server, scale.yml limited to the new node after it, upgrade-cluster.yml for one Kubernetes
//! minor and a refusal for two, the disruption guard, and the confirmation (`--yes`, a real
//! terminal through `script`, no terminal). The real apply is the flow test's job.

use crate::common;
use crate::up::{fake_terraform, up_cmd};

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
/// and writes the kubeconfig Kubespray would.
fn recording_playbook(dir: &Path) -> PathBuf {
    let python = fake_python(dir, true);
    let path = dir.join("ansible-playbook");
    executable(
        &path,
        &format!(
            "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'ansible-playbook [core 2.18.4]'; echo '  python version = 3.11.7 (main) [GCC 12.2.0] ({})'; exit 0; fi\nprintf 'ansible-playbook %s\\n' \"$*\" >> \"$FAKE_TF_LOG\"\nmkdir -p \"$(dirname \"$2\")/../artifacts\" && echo kubeconfig > \"$(dirname \"$2\")/../artifacts/admin.conf\"\n",
            python.display()
        ),
    );
    path
}

/// A Kubespray checkout with the playbooks deploy.sh looks for.
fn kubespray(dir: &Path) -> PathBuf {
    let k = dir.join("kubespray");
    std::fs::create_dir_all(&k).unwrap();
    for p in [
        "cluster.yml",
        "scale.yml",
        "remove-node.yml",
        "upgrade-cluster.yml",
    ] {
        std::fs::write(k.join(p), "").unwrap();
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
            .replace("version: 1.32.5", &format!("version: {kubernetes}"));
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

fn unchanged(names: &[String]) -> Vec<(String, &'static [&'static str])> {
    names.iter().map(|n| (n.clone(), &["no-op"][..])).collect()
}

#[test]
fn removing_a_worker_drains_it_before_its_server_is_destroyed() {
    let d = Day2::new("1.32.5", &three_and_three(), Some("1.32.5"));
    let mut machines = unchanged(&three_and_three()[..5]);
    machines.push((worker(3), &["delete"]));
    d.plan(&machines);
    d.after(&three_and_three()[..5]);
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
    let d = Day2::new("1.32.5", &three_and_three(), Some("1.32.5"));
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
    let d = Day2::new("1.32.5", &three_and_three(), Some("1.31.4"));
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
    assert_eq!(d.record()["kubernetes_version"], "1.32.5");

    let skip = Day2::new("1.33.1", &three_and_three(), Some("1.31.4"));
    skip.plan(&unchanged(&three_and_three()));
    let run = skip.cmd(&["--deploy", "--yes"]).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("kubernetes.version 1.33.1 skips a minor version: the cluster runs 1.31.4")
            && stderr.contains("set 1.32.x first"),
        "{stderr}"
    );
    assert!(
        skip.steps().is_empty(),
        "nothing may run: {:?}",
        skip.steps()
    );
    assert_eq!(skip.record()["kubernetes_version"], "1.31.4");
}

#[test]
fn replacing_a_control_plane_machine_needs_allow_disruption() {
    let d = Day2::new("1.32.5", &three_and_three(), None);
    let mut machines = unchanged(&three_and_three()[1..]);
    machines.push((cp(1), &["delete", "create"]));
    d.plan(&machines);
    d.after(&three_and_three());
    let run = d.cmd(&["--yes"]).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains(&format!(
            "refusing to replace or destroy control-plane or etcd machines: {}",
            cp(1)
        )) && stderr.contains("--allow-disruption"),
        "{stderr}"
    );
    assert!(!d.steps().contains(&"apply".to_string()), "{:?}", d.steps());
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains(&format!("REPLACE          {}", cp(1))),
        "{stdout}"
    );

    run_ok(&mut d.cmd(&["--yes", "--allow-disruption"]));
    assert!(d.steps().contains(&"apply".to_string()), "{:?}", d.steps());
}

#[test]
fn a_change_to_a_running_cluster_is_confirmed_by_yes_or_at_the_terminal() {
    let d = Day2::new("1.32.5", &three_and_three(), None);
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
    let d = Day2::new("1.32.5", &[], None);
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
    assert_eq!(record["kubernetes_version"], "1.32.5");
}
