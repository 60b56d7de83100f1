//! `flatcar-kube up`: generate, then Terraform on the generated `terraform/`, reviewed before
//! it acts, and optionally Kubespray (`--deploy`), so that later runs change a living cluster
//! safely:
//!
//! 1. the previous apply's output `machine_images` is handed back to the module (running
//!    machines keep their image, old images stay while used);
//! 2. `terraform plan -out`, then a per-machine summary of that saved plan ([`plan`]); replacing
//!    or destroying a control-plane or etcd machine is refused without `--allow-disruption`; on
//!    an existing cluster a change is confirmed on the terminal or by `--yes`;
//! 3. with `--deploy`, Kubespray's `remove-node.yml` for machines that leave, *before* the
//!    apply destroys them; the saved plan is applied; then `cluster.yml` the first time (and the
//!    reboot coordinator), `upgrade-cluster.yml` when `kubernetes.version` moved one minor,
//!    `scale.yml --limit` for new workers; `DIR/deployed.json` ([`record`]) remembers what was
//!    deployed. Playbooks run through the generated `deploy.sh` (`PLAYBOOK=...`).
//!
//! Terraform inherits the whole environment (`OS_*`, `TF_CLI_CONFIG_FILE`, ...).

pub mod exec;
pub mod plan;
pub mod record;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::{flavors, inventory, profile, render};
use exec::{capture, progress, run};
use plan::PlanSummary;
use record::{Deployed, VersionMove};

/// How many lines of a failed command's stderr an error shows.
pub const STDERR_TAIL_LINES: usize = 25;

/// The saved plan, inside `DIR/terraform`.
pub const PLAN_FILE: &str = "up.tfplan";

/// Where `up` hands the previous `machine_images` output to the root module.
pub const MACHINE_IMAGES_FILE: &str = "machine-images.auto.tfvars.json";

/// What `up` does.
#[derive(Debug, Clone, Default)]
pub struct UpOptions {
    pub profile: PathBuf,
    pub output: PathBuf,
    /// `terraform destroy` instead of apply (no inventory is written).
    pub destroy: bool,
    /// The Terraform (or OpenTofu) binary.
    pub terraform: PathBuf,
    /// Allow replacing or destroying control-plane and etcd machines.
    pub allow_disruption: bool,
    /// Apply changes to an existing cluster without asking.
    pub yes: bool,
    /// Run Kubespray too (cluster.yml, scale.yml, remove-node.yml, upgrade-cluster.yml).
    pub deploy: bool,
    /// `ANSIBLE_PLAYBOOK` for deploy.sh (default: its own, `ansible-playbook`).
    pub ansible_playbook: Option<PathBuf>,
    /// `KUBESPRAY_DIR` for deploy.sh (default: the profile's kubespray.path).
    pub kubespray_dir: Option<PathBuf>,
}

/// Asks the person at the terminal.
pub trait Confirm {
    /// `Some(answer)`, or None when nobody can be asked (stdin is not a terminal).
    fn confirm(&mut self, question: &str) -> Option<bool>;
}

/// What `up` leaves behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpResult {
    /// The machines exist; Kubespray's inventory is at this path.
    Applied { hosts_yaml: PathBuf, deployed: bool },
    /// Everything Terraform made is gone.
    Destroyed,
}

#[derive(Debug, thiserror::Error)]
pub enum UpError {
    #[error("{0}")]
    Profile(#[from] profile::ProfileErrors),
    #[error("{0}")]
    Render(#[from] render::RenderError),
    #[error(
        "`{command}` could not start ({source}); install Terraform >= 1.9 or pass --terraform PATH"
    )]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{command}` failed ({status}); its last lines of stderr:\n{tail}{hint}")]
    Failed {
        command: String,
        status: String,
        tail: String,
        /// What to do, when the failure is a known one (starts with a newline), else empty.
        hint: String,
    },
    #[error("`terraform output -json` of {dir}: {source}")]
    Inventory {
        dir: String,
        #[source]
        source: inventory::InventoryError,
    },
    #[error("`terraform output -json` of {dir} is not JSON ({source})")]
    Outputs {
        dir: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{0}")]
    Plan(#[from] plan::PlanError),
    #[error("{0}")]
    Record(#[from] record::RecordError),
    #[error("{0}")]
    KubernetesVersion(String),
    #[error("refusing to {what}: {machines} hold the control plane or etcd, and losing them can lose the cluster's data. Nothing was changed. If this is intended (e.g. one at a time in an HA control plane), run again with --allow-disruption; to keep them, undo the profile change.", machines = machines.join(", "))]
    Disruption { what: String, machines: Vec<String> },
    #[error("the plan above changes a running cluster and there is no terminal to confirm it; review it and run again with --yes. Nothing was changed.")]
    NotConfirmed,
    #[error("not applied: nothing was changed")]
    Declined,
}

/// Runs the whole flow, printing progress to `log`.
pub fn up(
    opts: &UpOptions,
    confirm: &mut dyn Confirm,
    log: &mut dyn Write,
) -> Result<UpResult, UpError> {
    let loaded = profile::load(&opts.profile)?;
    let flavor_ids = flavors::resolve(&loaded, &|key| std::env::var(key).ok())?;
    for warning in &flavor_ids.warnings {
        eprintln!("{warning}");
    }
    // What cannot be done is refused before anything runs.
    let record = if opts.deploy {
        Deployed::load(&opts.output)?
    } else {
        None
    };
    let wanted_kubernetes = loaded.profile.kubernetes.version.clone();
    let version_move = match &record {
        Some(r) if !opts.destroy => record::version_move(
            r.kubernetes_version.as_deref(),
            wanted_kubernetes.as_deref(),
        )
        .map_err(UpError::KubernetesVersion)?,
        _ => VersionMove::Same,
    };

    let files = render::generate(&loaded, &flavor_ids.ids)?;
    progress(
        log,
        &format!(
            "writing {} files into {}",
            files.len(),
            opts.output.display()
        ),
    );
    render::write_files(&opts.output, &files)?;

    let tf = Terraform::new(opts);
    run(log, tf.cmd(&["init", "-input=false", "-no-color"])).map_err(|e| lock_hint(e, &tf.dir))?;
    if opts.destroy {
        run(
            log,
            tf.cmd(&["destroy", "-auto-approve", "-input=false", "-no-color"]),
        )?;
        progress(
            log,
            "destroyed: no image, server or floating IP of the profile is left",
        );
        return Ok(UpResult::Destroyed);
    }

    // 1. Running machines keep the release they were built from.
    let previous = tf.outputs(log)?;
    let machine_images = previous
        .pointer("/machine_images/value")
        .filter(|v| v.is_object())
        .cloned()
        .unwrap_or_else(|| Value::Object(Default::default()));
    let existing_cluster = previous
        .pointer("/kubespray_inventory/value/hosts")
        .and_then(Value::as_object)
        .is_some_and(|hosts| !hosts.is_empty());
    if existing_cluster {
        // The inventory as the state has it: remove-node.yml still needs the leaving machines.
        write_inventory(opts, &tf, &previous.to_string(), log)?;
    }
    render::write_file(
        &tf.dir.join(MACHINE_IMAGES_FILE),
        (serde_json::to_string_pretty(&serde_json::json!({ "machine_images": machine_images }))
            .unwrap_or_default()
            + "\n")
            .as_bytes(),
        render::PLAIN_MODE,
    )?;

    // 2. A saved plan, shown per machine and checked.
    run(
        log,
        tf.cmd(&[
            "plan",
            "-input=false",
            "-no-color",
            &format!("-out={PLAN_FILE}"),
        ]),
    )?;
    let summary = PlanSummary::parse(&capture(log, tf.cmd(&["show", "-json", PLAN_FILE]))?)?;
    progress(
        log,
        &format!(
            "the saved plan {}:\n{summary}",
            tf.dir.join(PLAN_FILE).display()
        ),
    );
    let disruptions: Vec<String> = summary
        .disruptions()
        .iter()
        .map(|m| m.name.clone())
        .collect();
    if !disruptions.is_empty() && !opts.allow_disruption {
        return Err(UpError::Disruption {
            what: "replace or destroy control-plane or etcd machines".to_string(),
            machines: disruptions,
        });
    }
    let changes = summary.changes_anything();
    if changes && existing_cluster && !opts.yes {
        match confirm.confirm("Apply this plan to the running cluster? Only 'yes' is accepted") {
            Some(true) => {}
            Some(false) => return Err(UpError::Declined),
            None => return Err(UpError::NotConfirmed),
        }
    }

    // 3. Machines that leave are drained and removed from Kubernetes before their servers go.
    let mut record = record;
    if let Some(rec) = record.as_mut() {
        let leaving: Vec<String> = summary
            .machines
            .iter()
            .filter(|m| m.leaves() && rec.nodes.contains(&m.name))
            .map(|m| m.name.clone())
            .collect();
        if !leaving.is_empty() {
            progress(
                log,
                &format!(
                    "removing {} from Kubernetes before their servers are destroyed",
                    leaving.join(", ")
                ),
            );
            playbook(
                log,
                opts,
                "remove-node.yml",
                &[
                    "-e".to_string(),
                    format!("node={}", leaving.join(",")),
                    "-e".to_string(),
                    "skip_confirmation=yes".to_string(),
                ],
            )?;
            for name in &leaving {
                rec.nodes.remove(name);
            }
            rec.save(&opts.output)?;
        }
    }

    if changes {
        run(
            log,
            tf.cmd(&["apply", "-input=false", "-no-color", PLAN_FILE]),
        )?;
    } else {
        progress(log, "no changes: the machines are as the profile describes");
    }
    let outputs = capture(log, tf.cmd(&["output", "-json", "-no-color"]))?;
    let (hosts_yaml, inv) = write_inventory(opts, &tf, &outputs, log)?;

    if opts.deploy {
        let coordinator = render::coordinator_playbook(&loaded, &opts.output);
        deploy(
            opts,
            record,
            &version_move,
            wanted_kubernetes,
            &inv,
            coordinator,
            log,
        )?;
    }
    Ok(UpResult::Applied {
        hosts_yaml,
        deployed: opts.deploy,
    })
}

/// Kubespray after the apply: the first deploy, or an upgrade and new nodes.
fn deploy(
    opts: &UpOptions,
    record: Option<Deployed>,
    version_move: &VersionMove,
    wanted_kubernetes: Option<String>,
    inv: &inventory::KubesprayInventory,
    coordinator: Option<PathBuf>,
    log: &mut dyn Write,
) -> Result<(), UpError> {
    let all: BTreeSet<String> = inv.hosts.keys().cloned().collect();
    let mut rec = match record {
        None => {
            progress(
                log,
                "first deploy: Kubespray's cluster.yml on every machine",
            );
            playbook(log, opts, "cluster.yml", &[])?;
            Deployed {
                nodes: all.clone(),
                kubernetes_version: wanted_kubernetes.clone(),
                coordinator: None,
            }
        }
        Some(mut rec) => {
            let joining: Vec<String> = all.difference(&rec.nodes).cloned().collect();
            if let VersionMove::Upgrade { from, to } = version_move {
                progress(
                    log,
                    &format!("Kubernetes {from} -> {to}: Kubespray's upgrade-cluster.yml"),
                );
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
                playbook(log, opts, "upgrade-cluster.yml", &args)?;
                rec.kubernetes_version = wanted_kubernetes.clone();
                rec.save(&opts.output)?;
            }
            if !joining.is_empty() {
                let control = joining.iter().any(|n| {
                    inv.hosts.get(n).is_some_and(|h| {
                        h.groups.contains("kube_control_plane") || h.groups.contains("etcd")
                    })
                });
                if control {
                    // scale.yml adds workers only; a control-plane or etcd member needs cluster.yml.
                    progress(
                        log,
                        &format!(
                            "{} join the control plane or etcd: Kubespray's cluster.yml",
                            joining.join(", ")
                        ),
                    );
                    playbook(log, opts, "cluster.yml", &[])?;
                } else {
                    progress(
                        log,
                        &format!(
                            "{} join as workers: Kubespray's scale.yml",
                            joining.join(", ")
                        ),
                    );
                    playbook(
                        log,
                        opts,
                        "scale.yml",
                        &[format!("--limit={}", joining.join(","))],
                    )?;
                }
                rec.nodes.extend(joining);
                rec.save(&opts.output)?;
            }
            rec
        }
    };
    rec.nodes = all;
    rec.save(&opts.output)?;
    if let Some(install) = coordinator {
        // The manifest beside the playbook: applied again only when it changed.
        let manifest = install.with_file_name("kured.yaml");
        let digest = std::fs::read(&manifest)
            .map(|bytes| format!("{:x}", Sha256::digest(bytes)))
            .map_err(|source| render::RenderError::Io {
                path: manifest.clone(),
                source,
            })?;
        if rec.coordinator.as_deref() != Some(digest.as_str()) {
            progress(
                log,
                "applying the reboot coordinator (kured, coordinator/kured.yaml)",
            );
            let absolute = std::path::absolute(&install).unwrap_or(install);
            playbook(log, opts, &absolute.to_string_lossy(), &[])?;
            rec.coordinator = Some(digest);
            rec.save(&opts.output)?;
        }
    }
    Ok(())
}

/// Runs one Kubespray playbook through the generated deploy.sh.
fn playbook(
    log: &mut dyn Write,
    opts: &UpOptions,
    name: &str,
    args: &[String],
) -> Result<(), UpError> {
    let mut cmd = Command::new(deploy_script(&opts.output));
    cmd.env("PLAYBOOK", name).args(args);
    if let Some(p) = &opts.ansible_playbook {
        cmd.env("ANSIBLE_PLAYBOOK", p);
    }
    if let Some(k) = &opts.kubespray_dir {
        cmd.env("KUBESPRAY_DIR", k);
    }
    run(log, cmd)
}

fn deploy_script(output: &Path) -> PathBuf {
    let script = output.join("deploy.sh");
    if script.is_absolute() || script.starts_with(".") {
        script
    } else {
        Path::new(".").join(script)
    }
}

/// `terraform -chdir=DIR/terraform ...`.
struct Terraform<'a> {
    program: &'a Path,
    dir: PathBuf,
    chdir: String,
}

impl<'a> Terraform<'a> {
    fn new(opts: &'a UpOptions) -> Terraform<'a> {
        let dir = opts.output.join("terraform");
        Terraform {
            program: &opts.terraform,
            chdir: format!("-chdir={}", dir.display()),
            dir,
        }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(self.program);
        cmd.arg(&self.chdir).args(args);
        cmd
    }

    /// `terraform output -json` ({} before the first apply).
    fn outputs(&self, log: &mut dyn Write) -> Result<Value, UpError> {
        let json = capture(log, self.cmd(&["output", "-json", "-no-color"]))?;
        if json.trim().is_empty() {
            return Ok(Value::Object(Default::default()));
        }
        serde_json::from_str(&json).map_err(|source| UpError::Outputs {
            dir: self.dir.display().to_string(),
            source,
        })
    }
}

/// `terraform output -json` through the inventory reader into `DIR/inventory/hosts.yaml`.
fn write_inventory(
    opts: &UpOptions,
    tf: &Terraform<'_>,
    json: &str,
    log: &mut dyn Write,
) -> Result<(PathBuf, inventory::KubesprayInventory), UpError> {
    let source_name = format!("{}", tf.dir.display());
    let (inv, _) = inventory::read(json, &source_name).map_err(|source| UpError::Inventory {
        dir: source_name.clone(),
        source,
    })?;
    let yaml = inventory::to_hosts_yaml(&inv, "`terraform output -json` (flatcar-kube up)")?;
    let hosts_yaml = opts.output.join("inventory/hosts.yaml");
    if let Some(parent) = hosts_yaml.parent() {
        std::fs::create_dir_all(parent).map_err(|source| render::RenderError::Io {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    render::write_file(&hosts_yaml, yaml.as_bytes(), render::PLAIN_MODE)?;
    progress(
        log,
        &format!("wrote {} ({} hosts)", hosts_yaml.display(), inv.hosts.len()),
    );
    Ok((hosts_yaml, inv))
}

/// A provider rebuilt under the same version no longer matches `.terraform.lock.hcl`.
fn lock_hint(e: UpError, tf_dir: &Path) -> UpError {
    match e {
        UpError::Failed {
            command,
            status,
            tail,
            ..
        } if tail.contains("dependency lock file") => UpError::Failed {
            hint: format!(
                "\nThe provider installed now differs from the one recorded in {}: if you reinstalled it on purpose (same version, new build), delete that file and run `flatcar-kube up` again.",
                tf_dir.join(".terraform.lock.hcl").display()
            ),
            command,
            status,
            tail,
        },
        other => other,
    }
}

/// What to run after `up`: the generated `deploy.sh`.
pub fn next_steps(output: &Path, hosts_yaml: &Path) -> String {
    format!(
        "Kubespray inventory: {}\nNext (with the same OS_* variables; KUBESPRAY_DIR if Kubespray is elsewhere):\n  {}\n",
        hosts_yaml.display(),
        output.join("deploy.sh").display()
    )
}
