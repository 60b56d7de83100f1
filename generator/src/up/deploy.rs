//! The Kubespray side of `up --deploy`: the deploy target (checkout and Kubernetes version),
//! the Kubespray runner every playbook goes through (the generated deploy.sh), the removal of
//! leaving machines before their servers go, and [`Deploy`], which after the apply runs the
//! first deploy or the upgrades and membership changes nodes.md and upgrades.md describe, and
//! keeps the deploy record. When this runs is `up`'s steps' business.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::checksums::KubeVersion;
use super::exec::{progress, run};
use super::kubespray::KubesprayCheckout;
use super::record::{Deployed, KubesprayRecord, VersionMove};
use super::{UpError, UpOptions, ANSIBLE_UNREACHABLE, ETCD_LIMIT, FACTS_PLAYBOOK};
use crate::{inventory, render};

/// The Kubespray `up --deploy` runs, and the Kubernetes version it will install.
pub(super) struct DeployTarget {
    pub(super) checkout: KubesprayCheckout,
    pub(super) kubernetes: KubeVersion,
}

impl DeployTarget {
    pub(super) fn kubespray_record(&self) -> KubesprayRecord {
        KubesprayRecord {
            release: self.checkout.release.clone(),
            commit: self.checkout.commit.clone(),
        }
    }
}

pub(super) fn in_group(inv: &inventory::KubesprayInventory, name: &str, group: &str) -> bool {
    inv.hosts
        .get(name)
        .is_some_and(|h| h.groups.contains(group))
}

/// `remove-node.yml` for machines that leave: gracefully first; for unreachable machines (or
/// with `--ungraceful-removal`) with the variables Kubespray documents for nodes that are not
/// online (docs/operations/nodes.md, "Adding/replacing a worker node", 3).
pub(super) fn remove_nodes(
    log: &mut dyn Write,
    opts: &UpOptions,
    target: &DeployTarget,
    leaving: &[String],
) -> Result<(), UpError> {
    let kubespray = Kubespray::new(opts, target);
    let mut args = vec![
        "-e".to_string(),
        format!("node={}", leaving.join(",")),
        "-e".to_string(),
        "skip_confirmation=yes".to_string(),
    ];
    let ungraceful = [
        "-e",
        "reset_nodes=false",
        "-e",
        "allow_ungraceful_removal=true",
    ]
    .map(String::from);
    if opts.ungraceful_removal {
        progress(
            log,
            &format!(
                "removing {} from Kubernetes without reaching them (--ungraceful-removal): reset_nodes=false, allow_ungraceful_removal=true",
                leaving.join(", ")
            ),
        );
        args.extend(ungraceful);
        return kubespray.playbook(log, "remove-node.yml", &args);
    }
    progress(
        log,
        &format!(
            "removing {} from Kubernetes (drain, then reset) before their servers are destroyed",
            leaving.join(", ")
        ),
    );
    match kubespray.playbook(log, "remove-node.yml", &args) {
        Err(UpError::Failed {
            code: Some(ANSIBLE_UNREACHABLE),
            ..
        }) => {
            progress(
                log,
                &format!(
                    "{} could not be reached: removing them from Kubernetes without resetting them (reset_nodes=false, allow_ungraceful_removal=true, as Kubespray documents for nodes that are not online)",
                    leaving.join(", ")
                ),
            );
            args.extend(ungraceful);
            kubespray.playbook(log, "remove-node.yml", &args)
        }
        other => other,
    }
}

/// How the cluster moved since the record.
pub(super) struct Moves {
    pub(super) kubernetes: VersionMove,
    /// Another Kubespray release or commit than the one that deployed the cluster.
    pub(super) kubespray: bool,
    /// etcd members removed before this apply.
    pub(super) etcd_left: Vec<String>,
}

/// Kubespray after the apply: the first deploy, or upgrades and membership changes.
pub(super) struct Deploy<'a> {
    pub(super) opts: &'a UpOptions,
    pub(super) target: &'a DeployTarget,
    pub(super) kubespray: Kubespray,
    pub(super) log: &'a mut dyn Write,
    /// Whether the fact cache holds every host: after facts.yml or an unlimited playbook.
    pub(super) facts_fresh: bool,
}

impl Deploy<'_> {
    fn playbook(&mut self, name: &str, args: &[String]) -> Result<(), UpError> {
        let limited = args.iter().any(|a| a.starts_with("--limit"));
        if limited && !self.facts_fresh {
            self.kubespray.playbook(self.log, FACTS_PLAYBOOK, &[])?;
        }
        self.kubespray.playbook(self.log, name, args)?;
        self.facts_fresh = true;
        Ok(())
    }

    pub(super) fn run(
        &mut self,
        record: Option<Deployed>,
        moves: &Moves,
        inv: &inventory::KubesprayInventory,
        coordinator: Option<PathBuf>,
        apps: Option<PathBuf>,
    ) -> Result<(), UpError> {
        let all: BTreeSet<String> = inv.hosts.keys().cloned().collect();
        let wanted = Some(self.target.kubernetes.to_string());
        let kubespray = Some(self.target.kubespray_record());
        let mut rec = match record {
            None => {
                progress(
                    self.log,
                    "first deploy: Kubespray's cluster.yml on every machine",
                );
                self.playbook("cluster.yml", &[])?;
                Deployed {
                    nodes: all.clone(),
                    kubernetes_version: wanted,
                    kubespray,
                    coordinator: None,
                    helm: apps.is_some(),
                    apps: None,
                }
            }
            Some(mut rec) => {
                let joining: Vec<String> = sorted(all.difference(&rec.nodes).cloned());
                self.upgrade(&mut rec, moves, &joining)?;
                self.join(&mut rec, inv, &joining, &moves.etcd_left)?;
                rec
            }
        };
        rec.nodes = all;
        rec.save(&self.opts.output)?;
        if let Some(install) = coordinator {
            self.coordinator(&mut rec, install)?;
        }
        match apps {
            Some(install) => self.apps(&mut rec, install)?,
            None if rec.apps.is_some() => {
                // Uninstalling deletes the hub's database and stops every user's server: a
                // decision for a person, not a side effect of a profile edit.
                let first = inv
                    .members("kube_control_plane")
                    .first()
                    .and_then(|name| inv.hosts.get(*name))
                    .map(|h| h.ansible_host.clone())
                    .unwrap_or_else(|| "FIRST-CONTROL-PLANE".into());
                progress(
                    self.log,
                    &format!(
                        "the profile no longer lists apps.jupyterhub, and flatcar-kube leaves the installed JupyterHub alone from now on. To remove it (users' volumes stay until their claims are deleted): {}",
                        render::apps::uninstall_command(&first)
                    ),
                );
                rec.apps = None;
                rec.save(&self.opts.output)?;
            }
            None => {}
        }
        Ok(())
    }

    /// The apps (JupyterHub), installed again only when their values or play changed; first
    /// Kubespray's helm, when the cluster was deployed without it.
    fn apps(&mut self, rec: &mut Deployed, install: PathBuf) -> Result<(), UpError> {
        let dir = install.parent().map(Path::to_path_buf).unwrap_or_default();
        let values = dir.join(render::apps::JUPYTERHUB_VALUES);
        let digest = digest_of(&[&values, &install])?;
        if !rec.helm {
            // Group variables reach the machines through cluster.yml (helm_enabled).
            progress(
                self.log,
                "apps need Kubespray's helm, which this cluster was deployed without: Kubespray's cluster.yml with helm_enabled",
            );
            self.playbook("cluster.yml", &[])?;
            rec.helm = true;
            rec.save(&self.opts.output)?;
        }
        if rec.apps.as_deref() != Some(digest.as_str()) {
            self.generated_play(
                &install,
                &format!(
                    "installing JupyterHub with helm on the first control plane machine (apps/install.yml, values in {})",
                    values.display()
                ),
            )?;
            rec.apps = Some(digest);
            rec.save(&self.opts.output)?;
        }
        Ok(())
    }

    /// Runs one of the generated plays (`coordinator/install.yml`, `apps/install.yml`) with the
    /// deploy target's Ansible, from the Kubespray checkout.
    fn generated_play(&mut self, install: &Path, what: &str) -> Result<(), UpError> {
        progress(self.log, what);
        let absolute = std::path::absolute(install).unwrap_or_else(|_| install.to_path_buf());
        self.kubespray
            .playbook(self.log, &absolute.to_string_lossy(), &[])
    }

    /// `upgrade-cluster.yml` when Kubernetes or Kubespray moved (upgrades.md: one minor, one
    /// Kubespray release at a time), leaving out machines that join afterwards.
    fn upgrade(
        &mut self,
        rec: &mut Deployed,
        moves: &Moves,
        joining: &[String],
    ) -> Result<(), UpError> {
        let why = match (&moves.kubernetes, moves.kubespray) {
            (VersionMove::Upgrade { from, to }, _) => format!("Kubernetes {from} -> {to}"),
            (VersionMove::Same, true) => format!(
                "Kubespray {} -> {}",
                rec.kubespray
                    .as_ref()
                    .map(|k| k.release.as_str())
                    .unwrap_or("?"),
                self.target.checkout.release
            ),
            (VersionMove::Same, false) => return Ok(()),
        };
        progress(self.log, &format!("{why}: Kubespray's upgrade-cluster.yml"));
        let mut args = Vec::new();
        if !joining.is_empty() {
            // New machines join afterwards, at the new version.
            args.push(format!(
                "--limit=all:{}",
                joining
                    .iter()
                    .map(|n| format!("!{n}"))
                    .collect::<Vec<_>>()
                    .join(":")
            ));
        }
        self.playbook("upgrade-cluster.yml", &args)?;
        rec.kubernetes_version = Some(self.target.kubernetes.to_string());
        rec.kubespray = Some(self.target.kubespray_record());
        rec.save(&self.opts.output).map_err(UpError::from)
    }

    /// New machines join, and etcd membership changes are followed up as nodes.md says.
    fn join(
        &mut self,
        rec: &mut Deployed,
        inv: &inventory::KubesprayInventory,
        joining: &[String],
        etcd_left: &[String],
    ) -> Result<(), UpError> {
        let etcd_joining: Vec<&String> = joining
            .iter()
            .filter(|n| in_group(inv, n, "etcd"))
            .collect();
        let control_joining: Vec<&String> = joining
            .iter()
            .filter(|n| in_group(inv, n, "kube_control_plane"))
            .collect();
        let workers: Vec<&String> = joining
            .iter()
            .filter(|n| !in_group(inv, n, "etcd") && !in_group(inv, n, "kube_control_plane"))
            .collect();
        let ignore_asserts = ["-e".to_string(), "ignore_assert_errors=yes".to_string()];
        if !etcd_joining.is_empty() || !etcd_left.is_empty() {
            let mut cluster_args = Vec::new();
            if etcd_left.is_empty() {
                // nodes.md, "Adding an etcd node", 1: cluster.yml limited to etcd and the
                // control plane, then upgrade-cluster.yml to update every member's configuration.
                progress(
                    self.log,
                    &format!(
                        "{} join etcd: Kubespray's cluster.yml, then upgrade-cluster.yml, both limited to etcd,kube_control_plane (nodes.md, \"Adding an etcd node\")",
                        names(&etcd_joining)
                    ),
                );
                cluster_args.push(ETCD_LIMIT.to_string());
                cluster_args.extend(ignore_asserts.clone());
                if etcd_joining.len() > 1 {
                    // nodes.md: several members joining in one run need more retries.
                    cluster_args.extend(["-e".to_string(), "etcd_retries=10".to_string()]);
                }
            } else {
                // nodes.md, "Removing an etcd node", 3: cluster.yml regenerates the configuration
                // on every remaining node (and joins any replacement).
                progress(
                    self.log,
                    &format!(
                        "{} left etcd: Kubespray's cluster.yml on every machine, then upgrade-cluster.yml limited to etcd,kube_control_plane (nodes.md, \"Removing an etcd node\")",
                        etcd_left.join(", ")
                    ),
                );
            }
            self.playbook("cluster.yml", &cluster_args)?;
            let mut upgrade_args = vec![ETCD_LIMIT.to_string()];
            upgrade_args.extend(ignore_asserts);
            self.playbook("upgrade-cluster.yml", &upgrade_args)?;
        } else if !control_joining.is_empty() {
            // nodes.md, "Adding/replacing a control plane node", 1: cluster.yml, never scale.yml.
            progress(
                self.log,
                &format!(
                    "{} join the control plane: Kubespray's cluster.yml",
                    names(&control_joining)
                ),
            );
            self.playbook("cluster.yml", &[])?;
        }
        rec.nodes
            .extend(joining.iter().filter(|n| !workers.contains(n)).cloned());
        rec.save(&self.opts.output)?;
        if !workers.is_empty() {
            // nodes.md, "Adding/replacing a worker node", 2: scale.yml --limit, after facts.yml.
            progress(
                self.log,
                &format!("{} join as workers: Kubespray's scale.yml", names(&workers)),
            );
            let limit = format!(
                "--limit={}",
                workers
                    .iter()
                    .map(|n| n.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            );
            self.playbook("scale.yml", &[limit])?;
            rec.nodes.extend(workers.into_iter().cloned());
            rec.save(&self.opts.output)?;
        }
        Ok(())
    }

    /// The reboot coordinator's manifest, applied again only when it changed.
    fn coordinator(&mut self, rec: &mut Deployed, install: PathBuf) -> Result<(), UpError> {
        let digest = digest_of(&[&install.with_file_name("kured.yaml")])?;
        if rec.coordinator.as_deref() != Some(digest.as_str()) {
            self.generated_play(
                &install,
                "applying the reboot coordinator (kured, coordinator/kured.yaml)",
            )?;
            rec.coordinator = Some(digest);
            rec.save(&self.opts.output)?;
        }
        Ok(())
    }
}

/// One SHA-256 over the contents of `files`, in order: what the deploy record keeps of a
/// generated play and what it installs.
fn digest_of(files: &[&Path]) -> Result<String, UpError> {
    let mut bytes = Vec::new();
    for file in files {
        bytes.extend(
            std::fs::read(file).map_err(|source| render::RenderError::Io {
                path: file.to_path_buf(),
                source,
            })?,
        );
    }
    Ok(render::written::digest(&bytes))
}

fn sorted(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut names: Vec<String> = names.collect();
    crate::natural::sort(&mut names);
    names
}

fn names(list: &[&String]) -> String {
    list.iter()
        .map(|n| n.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `deploy.sh` with the deploy target's Kubespray and Ansible: the runner every playbook of
/// `up --deploy` goes through.
pub(super) struct Kubespray {
    output: PathBuf,
    kubespray_dir: PathBuf,
    ansible_playbook: Option<PathBuf>,
}

impl Kubespray {
    pub(super) fn new(opts: &UpOptions, target: &DeployTarget) -> Kubespray {
        Kubespray {
            output: opts.output.clone(),
            kubespray_dir: target.checkout.dir.clone(),
            ansible_playbook: opts
                .ansible_playbook
                .clone()
                .or_else(|| target.checkout.ansible_playbook.clone()),
        }
    }

    /// Runs one playbook (relative to the checkout, or absolute) through the generated deploy.sh.
    pub(super) fn playbook(
        &self,
        log: &mut dyn Write,
        name: &str,
        args: &[String],
    ) -> Result<(), UpError> {
        let mut cmd = Command::new(deploy_script(&self.output));
        cmd.env("PLAYBOOK", name).args(args);
        if let Some(p) = &self.ansible_playbook {
            cmd.env("ANSIBLE_PLAYBOOK", p);
        }
        cmd.env("KUBESPRAY_DIR", &self.kubespray_dir);
        run(log, cmd)
    }
}

pub(super) fn deploy_script(output: &Path) -> PathBuf {
    let script = output.join("deploy.sh");
    if script.is_absolute() || script.starts_with(".") {
        script
    } else {
        Path::new(".").join(script)
    }
}
