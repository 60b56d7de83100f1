//! Day 2 on a living cluster, for real: the local cloud, real terraform, this provider and
//! `flatcar-kube up --deploy`, with recording stand-ins that log into one file: a wrapper
//! around the real terraform (its step) and `ansible-playbook` (the playbook and its
//! arguments), so the order of Terraform and Kubespray is visible.
//!
//! 1 control plane + 2 workers; then a newer Flatcar release, a second SSH key and a Butane
//! file: nothing is replaced, every server ID stays; a third worker: exactly one create, booted
//! from the new image, and scale.yml limited to it; the old image stays in Glance while servers
//! use it; removing that worker: remove-node.yml before the apply that destroys it; destroy
//! leaves no server and neither image.

use crate::flow::{flow_with, Flow};
use crate::support;

use std::path::{Path, PathBuf};

use support::release_tree::Release;

const OLD: &str = "4593.2.5";
const NEW: &str = "4593.2.6";

fn executable(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::write(path, text).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

struct Day2 {
    f: Flow,
    log: PathBuf,
    terraform: PathBuf,
    playbook: PathBuf,
    kubespray: PathBuf,
    out: PathBuf,
}

impl Day2 {
    fn new() -> Day2 {
        let f = flow_with(&[
            Release {
                channel: "stable",
                version: OLD,
                current: false,
            },
            Release {
                channel: "stable",
                version: NEW,
                current: true,
            },
        ]);
        let dir = f.home.path().to_path_buf();
        let log = dir.join("steps.log");
        let terraform = dir.join("terraform-wrapper");
        executable(
            &terraform,
            &format!(
                "#!/bin/sh\nprintf 'terraform %s\\n' \"$2\" >> {log}\nexec {tf} \"$@\"\n",
                log = log.display(),
                tf = support::terraform::binary().display()
            ),
        );
        let python = dir.join("python-ok");
        executable(
            &python,
            "#!/bin/sh\n[ \"$2\" = 'import netaddr, jmespath' ]\n",
        );
        let playbook = dir.join("ansible-playbook");
        executable(
            &playbook,
            &format!(
                "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'ansible-playbook [core 2.18.4]'; echo '  python version = 3.11.7 (main) ({python})'; exit 0; fi\nshift 3\nprintf 'ansible-playbook %s\\n' \"$*\" >> {log}\nmkdir -p {out}/artifacts && echo kubeconfig > {out}/artifacts/admin.conf\n",
                python = python.display(),
                log = log.display(),
                out = dir.join("out").display(),
            ),
        );
        let kubespray = flatcar_testkit::kubespray_tree::checkout("v2.31", &dir.join("kubespray"));
        let out = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "colleague", "-f"])
            .arg(dir.join("id2"))
            .output()
            .expect("ssh-keygen");
        assert!(out.status.success());
        std::fs::write(
            dir.join("extra.bu"),
            "variant: flatcar\nversion: 1.0.0\nstorage:\n  files:\n    - path: /etc/motd.d/course.conf\n      contents:\n        inline: Cluster of the semester\n",
        )
        .expect("butane");
        Day2 {
            out: dir.join("out"),
            f,
            log,
            terraform,
            playbook,
            kubespray,
        }
    }

    /// The profile: `workers` workers; `day2` adds the newer release, a second key and Butane.
    fn profile(&self, workers: u32, day2: bool) -> PathBuf {
        let home = self.f.home.path();
        let extra = if day2 {
            format!("  butane_file: {}\n", home.join("extra.bu").display())
        } else {
            String::new()
        };
        let keys = if day2 {
            format!(
                "  extra_public_key_files: [{}]\n",
                home.join("id2.pub").display()
            )
        } else {
            String::new()
        };
        let text = format!(
            "version: 1\nname: {name}\ncloud:\n  region: RegionOne\n  auth: password\naccess:\n  allowed_cidrs: [198.51.100.0/24]\nnetwork:\n  name: {network}\n  reuse: true\n  external_network: {public}\nflatcar:\n  channel: stable\n  version: {version}\n  mirror_url: {base}/{{channel}}\n  signing_key_file: {key}\n{extra}ssh:\n  public_key_file: {ssh}\n{keys}pools:\n  control_plane:\n    count: 1\n    flavor: {flavor}\n  workers:\n    count: {workers}\n    flavor: {flavor}\n    floating_ip: false\nkubernetes:\n  version: 1.34.3\n  openstack_cloud_provider: false\n  cinder_csi: false\nkubespray:\n  version: v2.31.0\n",
            name = self.f.name,
            network = self.f.cloud.value("FK_NETWORK_NAME"),
            public = self.f.cloud.value("FK_EXTERNAL_NETWORK"),
            version = if day2 { NEW } else { OLD },
            base = self.f.base_url(),
            key = home.join("signing.asc").display(),
            ssh = home.join("id.pub").display(),
            flavor = self.f.cloud.value("FK_FLAVOR_SMALL"),
        );
        let path = home.join("profile.yaml");
        std::fs::write(&path, text).expect("profile");
        path
    }

    /// `up --deploy --yes` (or `--destroy`); returns stdout and the steps it logged.
    fn up(&self, profile: &Path, args: &[&str]) -> (String, Vec<String>) {
        let _ = std::fs::remove_file(&self.log);
        let run = self
            .f
            .up_cmd(profile, &self.out, &self.terraform)
            .args(args)
            .arg("--ansible-playbook")
            .arg(&self.playbook)
            .arg("--kubespray")
            .arg(&self.kubespray)
            .output()
            .expect("flatcar-kube up");
        let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
        assert!(
            run.status.success(),
            "up {args:?} failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let steps = std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect();
        (stdout, steps)
    }

    /// Server name => (ID, image ID).
    fn servers(&self) -> BTreeMap<String, (String, String)> {
        self.f
            .cloud
            .servers(&self.f.name)
            .into_iter()
            .map(|s| {
                let image = s.image_id().unwrap_or_default();
                (s.name, (s.id, image))
            })
            .collect()
    }

    fn image_id(&self, version: &str) -> String {
        let name = format!("flatcar-stable-{version}");
        let images = self
            .f
            .cloud
            .images(&self.f.cloud.value("FK_GLANCE_URL"), &name);
        let ids: Vec<String> = images
            .into_iter()
            .filter(|i| i.name == name)
            .map(|i| i.id)
            .collect();
        assert_eq!(ids.len(), 1, "one image named {name}: {ids:?}");
        ids[0].clone()
    }
}

use std::collections::BTreeMap;
use std::process::Command;
use support::acceptance::{self, Need};

/// What every test here needs (`flatcar_testkit::acceptance`).
const NEEDS: &[Need] = &[Need::Terraform, Need::ComputeCloud, Need::Venv];

fn position(steps: &[String], step: &str) -> usize {
    steps
        .iter()
        .position(|s| s == step)
        .unwrap_or_else(|| panic!("no `{step}` in {steps:#?}"))
}

#[test]
fn day_two_keeps_running_machines_scales_and_removes_in_kubesprays_order() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let d = Day2::new();
    let name = &d.f.name;
    let worker3 = format!("{name}-worker-3");

    // Day 0: 1 + 2 machines from the old release, then cluster.yml.
    let (_, steps) = d.up(&d.profile(2, false), &["--deploy"]);
    assert!(
        position(&steps, "terraform apply") < position(&steps, "ansible-playbook cluster.yml"),
        "{steps:#?}"
    );
    // Then the reboot coordinator (kured), whose manifests `generate` wrote.
    let coordinator = format!(
        "ansible-playbook {}",
        d.out.join("coordinator/install.yml").display()
    );
    assert!(
        position(&steps, "ansible-playbook cluster.yml") < position(&steps, &coordinator),
        "{steps:#?}"
    );
    let day0 = d.servers();
    assert_eq!(day0.len(), 3, "{day0:?}");
    let old_image = d.image_id(OLD);
    assert!(
        day0.values().all(|(_, image)| *image == old_image),
        "{day0:?}"
    );

    // A newer release, a second SSH key and Butane: nothing is replaced; a new image appears.
    let (stdout, steps) = d.up(&d.profile(2, true), &["--deploy", "--yes"]);
    assert!(
        stdout
            .contains("0 to create, 0 to update in place, 0 to replace, 0 to destroy, 3 unchanged"),
        "{stdout}"
    );
    assert!(
        !steps.iter().any(|s| s.starts_with("ansible-playbook")),
        "no playbook for a change that only reaches new machines: {steps:#?}"
    );
    assert_eq!(d.servers(), day0, "every server keeps its ID and image");
    let new_image = d.image_id(NEW);
    assert_eq!(d.image_id(OLD), old_image, "the old image stays while used");

    // One more worker: exactly one create, from the new image, then scale.yml for it alone.
    let (stdout, steps) = d.up(&d.profile(3, true), &["--deploy", "--yes"]);
    assert!(
        stdout.contains(&format!("create           {worker3} (kube_node)"))
            && stdout.contains(
                "1 to create, 0 to update in place, 0 to replace, 0 to destroy, 3 unchanged"
            ),
        "{stdout}"
    );
    let scale = format!("ansible-playbook scale.yml --limit={worker3}");
    assert!(
        position(&steps, "terraform apply") < position(&steps, &scale),
        "{steps:#?}"
    );
    // Kubespray refreshes every host's facts before a limited run (nodes.md).
    assert!(
        position(&steps, "terraform apply")
            < position(&steps, "ansible-playbook playbooks/facts.yml")
            && position(&steps, "ansible-playbook playbooks/facts.yml") < position(&steps, &scale),
        "{steps:#?}"
    );
    let day2 = d.servers();
    assert_eq!(day2.len(), 4);
    assert_eq!(
        day2[&worker3].1, new_image,
        "the new worker boots the new release"
    );
    for (server, ids) in &day0 {
        assert_eq!(&day2[server], ids, "{server} is unchanged");
    }
    assert_eq!(d.image_id(OLD), old_image, "the old image stays while used");

    // Removing that worker: Kubernetes lets it go before Terraform destroys its server.
    let (stdout, steps) = d.up(&d.profile(2, true), &["--deploy", "--yes"]);
    assert!(
        stdout.contains(&format!("DESTROY          {worker3}")),
        "{stdout}"
    );
    let remove =
        format!("ansible-playbook remove-node.yml -e node={worker3} -e skip_confirmation=yes");
    assert!(
        position(&steps, &remove) < position(&steps, "terraform apply"),
        "{steps:#?}"
    );
    assert_eq!(d.servers(), day0);
    let record: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.out.join("deployed.json")).expect("deployed.json"),
    )
    .expect("record");
    assert_eq!(
        record["nodes"].as_array().map(Vec::len),
        Some(3),
        "{record}"
    );

    // Destroy: no server, and neither image.
    d.up(&d.profile(2, true), &["--destroy"]);
    assert!(d.servers().is_empty());
    assert_eq!(d.f.images_named(&format!("flatcar-stable-{OLD}")), 0);
    assert_eq!(d.f.images_named(&format!("flatcar-stable-{NEW}")), 0);
}
