//! The machines a profile implies for our own Terraform module: their names, Kubespray groups
//! and whether they get a floating IP. The naming rules live here (and only here) so the module
//! of `generator/terraform/modules/cluster` and the generated files agree on them.

use super::{Arch, Pool, Profile};

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

/// One pool of the profile as our module sees it: machines `<cluster>-<role>-<n>`.
#[derive(Debug, Clone)]
pub struct PoolSpec<'a> {
    /// `control-plane`, `etcd`, `worker` or `bastion`: the pool's key in the module's `pools`.
    pub role: &'static str,
    pub count: u32,
    /// Kubespray groups, from `kube_control_plane`, `kube_node`, `etcd`, `bastion`.
    pub groups: Vec<&'static str>,
    pub floating_ip: bool,
    pub pool: &'a Pool,
}

/// The profile's pools in machine order: control plane, etcd, workers, bastion (those the
/// profile has, with any count).
pub fn pools(profile: &Profile) -> Vec<PoolSpec<'_>> {
    let pools = &profile.pools;
    let separate_etcd = pools.etcd.as_ref().is_some_and(|e| e.count > 0);
    let mut out = Vec::new();
    let cp = &pools.control_plane;
    out.push(PoolSpec {
        role: "control-plane",
        count: cp.count,
        groups: if separate_etcd {
            vec!["kube_control_plane"]
        } else {
            vec!["kube_control_plane", "etcd"]
        },
        floating_ip: cp.floating_ip.unwrap_or(true),
        pool: cp,
    });
    if let Some(etcd) = &pools.etcd {
        out.push(PoolSpec {
            role: "etcd",
            count: etcd.count,
            groups: vec!["etcd"],
            floating_ip: false,
            pool: etcd,
        });
    }
    let w = &pools.workers;
    out.push(PoolSpec {
        role: "worker",
        count: w.count,
        groups: vec!["kube_node"],
        floating_ip: w.floating_ip.unwrap_or(true),
        pool: w,
    });
    if let Some(b) = &pools.bastion {
        out.push(PoolSpec {
            role: "bastion",
            count: b.count,
            groups: vec!["bastion"],
            floating_ip: true,
            pool: b,
        });
    }
    out
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
    pools(profile)
        .into_iter()
        .flat_map(|spec| {
            (1..=spec.count).map(move |i| Machine {
                name: format!("{}-{}-{i}", profile.name, spec.role),
                groups: spec.groups.clone(),
                floating_ip: spec.floating_ip,
            })
        })
        .collect()
}
