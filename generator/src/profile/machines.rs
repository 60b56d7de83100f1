//! The machines a profile implies for our own Terraform module: their names, Kubespray groups
//! and whether they get a floating IP. The naming rules live here (and only here) so the module
//! of `examples/modules/cluster` and the generated files agree on them.

use super::{Arch, Profile};

/// The Glance image name a profile implies: `flatcar-<channel>-<version>` for amd64 and
/// `flatcar-<channel>-<version>-arm64` for arm64, with the version as the profile writes it
/// (`current` stays `current`). Kubespray's `cluster.tfvars` looks the image up by this name,
/// and our module's `flatcar_image` must upload it under this name.
pub fn image_name(profile: &Profile) -> String {
    let f = &profile.flatcar;
    match f.arch {
        Arch::Amd64 => format!("flatcar-{}-{}", f.channel.as_str(), f.version),
        Arch::Arm64 => format!(
            "flatcar-{}-{}-{}",
            f.channel.as_str(),
            f.version,
            f.arch.as_str()
        ),
    }
}

/// One machine: `<cluster>-<role>-<n>` (n from 1), e.g. `demo-control-plane-1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    pub name: String,
    /// Kubespray groups, from `kube_control_plane`, `kube_node`, `etcd`, `bastion`.
    pub groups: Vec<&'static str>,
    pub floating_ip: bool,
}

/// Every machine of the profile, control plane first, then etcd, workers, bastion.
pub fn machines(profile: &Profile) -> Vec<Machine> {
    let pools = &profile.pools;
    let separate_etcd = pools.etcd.as_ref().is_some_and(|e| e.count > 0);
    let mut out = Vec::new();
    let mut add = |role: &str, count: u32, groups: Vec<&'static str>, floating_ip: bool| {
        for i in 1..=count {
            out.push(Machine {
                name: format!("{}-{role}-{i}", profile.name),
                groups: groups.clone(),
                floating_ip,
            });
        }
    };
    let cp = &pools.control_plane;
    let cp_groups = if separate_etcd {
        vec!["kube_control_plane"]
    } else {
        vec!["kube_control_plane", "etcd"]
    };
    add(
        "control-plane",
        cp.count,
        cp_groups,
        cp.floating_ip.unwrap_or(true),
    );
    if let Some(etcd) = &pools.etcd {
        add("etcd", etcd.count, vec!["etcd"], false);
    }
    let w = &pools.workers;
    add(
        "worker",
        w.count,
        vec!["kube_node"],
        w.floating_ip.unwrap_or(true),
    );
    if let Some(b) = &pools.bastion {
        add("bastion", b.count, vec!["bastion"], true);
    }
    out
}
