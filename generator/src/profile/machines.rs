//! The machines and images a profile implies for our own Terraform module: machine names,
//! Kubespray groups, floating IPs, the API machine, image keys and Glance names. The naming
//! rules live here (and only here): the module of `generator/terraform/modules/cluster` takes
//! every name as given and derives none, and the generated files use the same ones.

use super::{Arch, Channel, Pool, Profile};

/// A Flatcar release as the module's `images` takes it: channel and version ("current" or
/// exact), never a "<channel>-<version>" string to split.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Release {
    pub channel: String,
    pub version: String,
}

impl Release {
    /// The profile's release, with the version as the profile writes it.
    pub fn of(profile: &Profile) -> Release {
        Release {
            channel: profile.flatcar.channel.as_str().to_string(),
            version: profile.flatcar.version.clone(),
        }
    }

    /// The key of its image in the module's `images`, which machines record in their
    /// `flatcar_release` metadata: `<channel>-<version>`, e.g. `stable-4230.2.1`.
    pub fn key(&self) -> String {
        format!("{}-{}", self.channel, self.version)
    }

    /// The release a [`key`](Release::key) names, for states written before the module
    /// reported its `releases` (the key is all they kept); `None` when the key does not start
    /// with a channel. Channels have no `-`, so the first one ends the channel.
    pub fn from_key(key: &str) -> Option<Release> {
        let (channel, version) = key.split_once('-')?;
        let known = Channel::ALL.iter().any(|c| c.as_str() == channel);
        (known && !version.is_empty()).then(|| Release {
            channel: channel.to_string(),
            version: version.to_string(),
        })
    }

    /// Its Glance image name: `flatcar-<channel>-<version>` for amd64 and
    /// `flatcar-<channel>-<version>-arm64` for arm64 (`current` stays `current`). Kubespray's
    /// `cluster.tfvars` looks the image up by this name; our module uploads it under it.
    pub fn image_name(&self, arch: Arch) -> String {
        match arch {
            Arch::Amd64 => format!("flatcar-{}", self.key()),
            Arch::Arm64 => format!("flatcar-{}-{}", self.key(), arch.as_str()),
        }
    }
}

/// The Glance image name a profile implies (see [`Release::image_name`]).
pub fn image_name(profile: &Profile) -> String {
    Release::of(profile).image_name(profile.flatcar.arch)
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
#[derive(Debug, Clone)]
pub struct Machine<'a> {
    pub name: String,
    /// Kubespray groups, from `kube_control_plane`, `kube_node`, `etcd`, `bastion`.
    pub groups: Vec<&'static str>,
    pub floating_ip: bool,
    /// The pool's settings (flavor, root volume).
    pub pool: &'a Pool,
}

/// Every machine of the profile, control plane first, then etcd, workers, bastion.
pub fn machines(profile: &Profile) -> Vec<Machine<'_>> {
    pools(profile)
        .into_iter()
        .flat_map(|spec| {
            (1..=spec.count).map(move |i| Machine {
                name: format!("{}-{}-{i}", profile.name, spec.role),
                groups: spec.groups.clone(),
                floating_ip: spec.floating_ip,
                pool: spec.pool,
            })
        })
        .collect()
}

/// The first control plane machine: the API's address (reserved or not), the DNS records and,
/// with apps, the one machine that serves 80/443.
pub fn first_control_plane(profile: &Profile) -> Option<String> {
    machines(profile)
        .into_iter()
        .find(|m| m.groups.contains(&"kube_control_plane"))
        .map(|m| m.name)
}
