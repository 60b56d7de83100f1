//! The whole flow against the local cloud (real Keystone, Glance, Nova, Neutron): one
//! profile -> `flatcar-kube up` (generate, terraform init/apply through the reusable module
//! and this provider, inventory) -> a `hosts.yaml` that real ansible-core reads with the
//! expected groups and `ansible_user: core`; then `up --destroy` leaves no image, server or
//! floating IP. Also `up` with only the two installed binaries (the provider found beside
//! `flatcar-kube`, no Terraform CLI configuration).

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;

use flatcar_cloud::openstack::neutron::Neutron;
use support::acceptance::{self, Need};
use support::cloud::{unique_name, LocalCloud};
use support::http_server::StaticServer;
use support::release_tree::{Release, ReleaseTree, SigningKey};
use support::terraform::{workspace_bin, Workspace};

/// What every test here needs (`flatcar_testkit::acceptance`).
const NEEDS: &[Need] = &[Need::Terraform, Need::ComputeCloud, Need::Venv];

const VERSION: &str = "4593.2.5";

pub fn ansible_inventory() -> PathBuf {
    let bin = support::acceptance::cache_dir().join("ansible-venv/bin/ansible-inventory");
    assert!(
        bin.exists(),
        "{} is missing: run `bash scripts/setup.sh`",
        bin.display()
    );
    bin
}

pub struct Flow {
    _tree: ReleaseTree,
    _server: StaticServer,
    pub cloud: LocalCloud,
    pub ws: Workspace,
    pub home: tempfile::TempDir,
    pub name: String,
}

fn flow() -> Flow {
    flow_with(&[Release {
        channel: "stable",
        version: VERSION,
        current: true,
    }])
}

/// A local release server with `releases`, the local cloud, a HOME with the signing key and
/// an SSH key (`id.pub`), and a unique cluster name.
pub fn flow_with(releases: &[Release]) -> Flow {
    let tree = ReleaseTree::build(SigningKey::generate("Flow"), releases);
    let server = StaticServer::start(tree.root.path());
    let cloud = LocalCloud::get();
    assert_eq!(
        cloud.values.get("FK_COMPUTE").map(String::as_str),
        Some("1"),
        "start the local cloud with --compute"
    );
    let home = tempfile::tempdir().expect("home");
    std::fs::write(home.path().join("signing.asc"), &tree.key.armored_public).expect("key");
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(home.path().join("id"))
        .output()
        .expect("ssh-keygen");
    assert!(out.status.success());
    let mut ws = Workspace::new();
    ws.extra_env.extend(cloud.password_env());
    // The profile's mirror is the local release server.
    let base = server.base_url.clone();
    std::fs::write(home.path().join("base_url"), base).expect("url");
    Flow {
        _tree: tree,
        _server: server,
        cloud,
        ws,
        home,
        name: unique_name("fk")
            .replace('-', "")
            .chars()
            .take(14)
            .collect::<String>(),
    }
}

impl Flow {
    /// The local release server's URL.
    pub fn base_url(&self) -> String {
        std::fs::read_to_string(self.home.path().join("base_url")).expect("url")
    }

    fn profile(&self, control_planes: u32, workers: u32) -> PathBuf {
        let base = self.base_url();
        let text = format!(
            "version: 1\nname: {name}\ncloud:\n  region: RegionOne\n  auth: password\naccess:\n  allowed_cidrs: [198.51.100.0/24]\nnetwork:\n  name: {network}\n  reuse: true\n  external_network: {public}\nflatcar:\n  channel: stable\n  version: {VERSION}\n  mirror_url: {base}/{{channel}}\n  signing_key_file: {key}\nssh:\n  public_key_file: {ssh}\npools:\n  control_plane:\n    count: {control_planes}\n    flavor: {flavor}\n  workers:\n    count: {workers}\n    flavor: {flavor}\n    floating_ip: false\nkubernetes:\n  openstack_cloud_provider: false\n  cinder_csi: false\n",
            name = self.name,
            network = self.cloud.value("FK_NETWORK_NAME"),
            public = self.cloud.value("FK_EXTERNAL_NETWORK"),
            key = self.home.path().join("signing.asc").display(),
            ssh = self.home.path().join("id.pub").display(),
            flavor = self.cloud.value("FK_FLAVOR_SMALL"),
        );
        let path = self.home.path().join(format!("{}.yaml", self.name));
        std::fs::write(&path, text).expect("profile");
        path
    }

    fn up(&self, profile: &Path, out: &Path, destroy: bool) -> std::process::Output {
        let mut cmd = self.up_cmd(profile, out, &support::terraform::binary());
        if destroy {
            cmd.arg("--destroy");
        }
        cmd.output().expect("flatcar-kube up")
    }

    /// `flatcar-kube up PROFILE -o OUT --terraform TERRAFORM` with the test's Terraform CLI
    /// configuration (the provider's filesystem mirror) and the cloud's credentials.
    pub fn up_cmd(&self, profile: &Path, out: &Path, terraform: &Path) -> Command {
        let mut cmd = Command::new(workspace_bin("flatcar-kube"));
        cmd.arg("up")
            .arg(profile)
            .arg("-o")
            .arg(out)
            .arg("--terraform")
            .arg(terraform);
        cmd.env("TF_CLI_CONFIG_FILE", &self.ws.cli_config)
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1");
        for (k, v) in &self.ws.extra_env {
            cmd.env(k, v);
        }
        cmd
    }

    /// The rules of the security group(s) named `name`, as "direction ethertype protocol[/port]
    /// remote", sorted; empty when there is no such group.
    fn cluster_group_rules(&self, name: &str) -> Vec<String> {
        let session = self.cloud.session(false);
        let groups = self
            .cloud
            .block_on(Neutron::new(&session).security_groups_named(name))
            .expect("security groups");
        let mut rules: Vec<String> = groups
            .iter()
            .flat_map(|g| {
                g.security_group_rules.iter().map(|r| {
                    let protocol = match (&r.protocol, r.port_range_min) {
                        (Some(p), Some(port)) => format!("{p}/{port}"),
                        (Some(p), None) => p.clone(),
                        (None, _) => "any".into(),
                    };
                    let remote = match (&r.remote_group_id, &r.remote_ip_prefix) {
                        (Some(id), _) if *id == g.id => "members".to_string(),
                        (Some(id), _) => id.clone(),
                        (None, Some(cidr)) => cidr.clone(),
                        (None, None) => "any".into(),
                    };
                    format!("{} {} {protocol} {remote}", r.direction, r.ethertype)
                })
            })
            .collect();
        rules.sort();
        rules
    }

    pub fn images_named(&self, name: &str) -> usize {
        self.cloud
            .images(&self.cloud.value("FK_GLANCE_URL"), name)
            .into_iter()
            .filter(|i| i.name == name)
            .count()
    }
}

fn run_flow(f: &Flow, control_planes: u32, workers: u32) {
    let profile = f.profile(control_planes, workers);
    let out = f
        .home
        .path()
        .join(format!("out-{control_planes}-{workers}"));
    let image = format!("flatcar-stable-{VERSION}");
    let up = f.up(&profile, &out, false);
    let text =
        String::from_utf8_lossy(&up.stdout).into_owned() + &String::from_utf8_lossy(&up.stderr);
    assert!(up.status.success(), "flatcar-kube up failed:\n{text}");
    assert!(
        text.contains("deploy.sh"),
        "the next step is not shown:\n{text}"
    );

    let hosts = out.join("inventory/hosts.yaml");
    let listed = Command::new(ansible_inventory())
        .arg("-i")
        .arg(&hosts)
        .arg("--list")
        .output()
        .expect("ansible-inventory");
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let inv: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("inventory JSON");
    let group = |g: &str| inv[g]["hosts"].as_array().map(|h| h.len()).unwrap_or(0);
    assert_eq!(
        group("kube_control_plane"),
        control_planes as usize,
        "{inv:#}"
    );
    assert_eq!(group("etcd"), control_planes as usize, "{inv:#}");
    assert_eq!(group("kube_node"), workers as usize, "{inv:#}");
    let hostvars = inv["_meta"]["hostvars"].as_object().expect("hostvars");
    assert_eq!(hostvars.len(), (control_planes + workers) as usize);
    let mut floating = Vec::new();
    for (host, vars) in hostvars {
        assert_eq!(vars["ansible_user"], "core", "{host}");
        assert!(
            vars["ip"].as_str().is_some_and(|ip| !ip.is_empty()),
            "{host} has no ip"
        );
        assert!(
            vars["access_ip"].is_null(),
            "{host}: machines talk over private addresses, which the cluster's group admits"
        );
        if vars["ansible_host"] != vars["ip"] {
            floating.push(
                vars["ansible_host"]
                    .as_str()
                    .expect("ansible_host")
                    .to_string(),
            );
        }
    }
    assert_eq!(
        floating.len(),
        control_planes as usize,
        "control planes have floating IPs, workers none"
    );
    let group = format!("{}-nodes", f.name);
    assert_eq!(
        f.cluster_group_rules(&group),
        vec![
            "egress IPv4 any any".to_string(),
            "egress IPv6 any any".into(),
            "ingress IPv4 any members".into(),
            "ingress IPv4 icmp 198.51.100.0/24".into(),
            "ingress IPv4 tcp/22 198.51.100.0/24".into(),
            "ingress IPv4 tcp/6443 198.51.100.0/24".into(),
            "ingress IPv6 any members".into(),
        ],
        "Neutron holds exactly the module's rules"
    );
    for server in f.cloud.servers(&f.name) {
        let json = f.cloud.openstack(&[
            "server",
            "show",
            &server.id,
            "-f",
            "json",
            "-c",
            "security_groups",
        ]);
        assert!(
            json.contains(&group),
            "{} is not in {group}: {json}",
            server.name
        );
    }
    assert_eq!(
        f.cloud.servers(&f.name).len(),
        (control_planes + workers) as usize
    );
    assert_eq!(f.images_named(&image), 1, "one verified image");

    let down = f.up(&profile, &out, true);
    assert!(
        down.status.success(),
        "up --destroy failed:\n{}{}",
        String::from_utf8_lossy(&down.stdout),
        String::from_utf8_lossy(&down.stderr)
    );
    assert!(
        f.cloud.servers(&f.name).is_empty(),
        "Nova still lists servers"
    );
    assert_eq!(f.images_named(&image), 0, "Glance still holds the image");
    let left: Vec<String> = f
        .cloud
        .floating_ips()
        .into_iter()
        .map(|i| i.floating_ip_address)
        .filter(|a| floating.contains(a))
        .collect();
    assert!(left.is_empty(), "Neutron still holds floating IPs {left:?}");
    assert!(
        f.cluster_group_rules(&group).is_empty(),
        "Neutron still holds the cluster's security group"
    );
}

/// Both profiles in one test, one after the other: they share the image name the profile
/// implies, so "no image left" can be checked exactly.
#[test]
fn up_and_destroy_two_profiles() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let f = flow();
    run_flow(&f, 1, 2);
    run_flow(&f, 3, 3);
}

/// One `cargo install` of both binaries is the whole install: on a machine with only
/// `flatcar-kube` and `terraform-provider-flatcar` in one directory (a HOME without
/// `~/.terraform.d` or `~/.terraformrc`, no `TF_CLI_CONFIG_FILE`), `up` hands Terraform the
/// provider beside itself, and the real apply and destroy work.
#[test]
fn up_finds_the_provider_installed_beside_it() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let f = flow();
    let bin = f.home.path().join("cargo-bin");
    std::fs::create_dir_all(&bin).expect("bin");
    for name in ["flatcar-kube", "terraform-provider-flatcar"] {
        std::fs::copy(workspace_bin(name), bin.join(name)).expect("install");
    }
    assert!(
        !f.home.path().join(".terraform.d").exists()
            && !f.home.path().join(".terraformrc").exists()
    );
    let profile = f.profile(1, 1);
    let out = f.home.path().join("out-installed");
    let up = |destroy: bool| {
        let mut cmd = Command::new(bin.join("flatcar-kube"));
        cmd.arg("up")
            .arg(&profile)
            .arg("-o")
            .arg(&out)
            .arg("--terraform")
            .arg(support::terraform::binary())
            .env("HOME", f.home.path())
            .env("PATH", "/usr/bin:/bin")
            .env_remove("TF_CLI_CONFIG_FILE")
            .env_remove("TF_PLUGIN_CACHE_DIR")
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1");
        if destroy {
            cmd.arg("--destroy");
        }
        for (k, v) in &f.ws.extra_env {
            cmd.env(k, v);
        }
        cmd.output().expect("flatcar-kube up")
    };
    let applied = up(false);
    let text = String::from_utf8_lossy(&applied.stdout).into_owned()
        + &String::from_utf8_lossy(&applied.stderr);
    assert!(applied.status.success(), "flatcar-kube up failed:\n{text}");
    assert!(
        text.contains(&format!(
            "using the provider {}",
            bin.join("terraform-provider-flatcar").display()
        )),
        "{text}"
    );
    assert_eq!(f.cloud.servers(&f.name).len(), 2, "{text}");
    let config = std::fs::read_to_string(out.join("terraform/provider-mirror.tfrc")).expect("tfrc");
    assert!(config.contains("filesystem_mirror"), "{config}");

    let destroyed = up(true);
    assert!(
        destroyed.status.success(),
        "up --destroy failed:\n{}{}",
        String::from_utf8_lossy(&destroyed.stdout),
        String::from_utf8_lossy(&destroyed.stderr)
    );
    assert!(
        f.cloud.servers(&f.name).is_empty(),
        "Nova still lists servers"
    );
    assert_eq!(f.images_named(&format!("flatcar-stable-{VERSION}")), 0);
}
