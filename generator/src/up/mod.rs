//! `flatcar-kube up`: generate, then Terraform on the generated `terraform/`, reviewed before
//! it acts, and optionally Kubespray (`--deploy`), so that later runs change a living cluster
//! safely. Kubespray's node operations follow its `docs/operations/nodes.md` and
//! `upgrades.md`; each decision below names the section it follows.
//!
//! 0. with `--deploy`: the Kubespray to run ([`kubespray`]: a checkout of one's own, or the
//!    profile's release fetched with its own virtualenv) and the Kubernetes version checked
//!    against that Kubespray's checksums ([`checksums`]) before anything else runs;
//! 1. the previous apply's outputs `machine_images` and `releases` are handed back to the
//!    module ([`kept_images`]: running machines keep their image, old images stay while used);
//! 2. `terraform plan -out`, then a per-machine summary of that saved plan ([`plan`]); replacing
//!    or destroying a control-plane or etcd machine is refused without `--allow-disruption`,
//!    and the first of them always; on an existing cluster a change is confirmed on the
//!    terminal or by `--yes`;
//! 3. with `--deploy`, Kubespray's `remove-node.yml` for machines that leave, *before* the
//!    apply destroys them (ungracefully when they are unreachable); the saved plan is applied;
//!    then `cluster.yml` the first time (and the reboot coordinator), `upgrade-cluster.yml`
//!    when Kubernetes or Kubespray moved, the etcd membership follow-up, `scale.yml --limit`
//!    for new workers, `facts.yml` before any `--limit`; `DIR/deployed.json` ([`record`])
//!    remembers what was deployed. Playbooks run through the generated `deploy.sh`.
//!
//! Terraform inherits the whole environment (`OS_*`, `TF_CLI_CONFIG_FILE`, ...); when nothing
//! there provides our provider, [`provider_mirror`] hands it the one beside `flatcar-kube`.

pub mod checksums;
pub mod exec;
pub mod kept_images;
pub mod kubespray;
pub mod plan;
pub mod provider_mirror;
pub mod record;
pub mod shared_state;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::profile::{Diagnostic, LoadedProfile, ProfileErrors};
use crate::{flavors, inventory, profile, render};
use checksums::{KubeVersion, SupportedVersions};
use exec::{capture, progress, run};
use kubespray::KubesprayCheckout;
use plan::PlanSummary;
use record::{Deployed, KubesprayRecord, VersionMove};
use shared_state::SharedState;

/// How many lines of a failed command's stderr an error shows.
pub const STDERR_TAIL_LINES: usize = 25;

/// The saved plan, inside `DIR/terraform`.
pub const PLAN_FILE: &str = "up.tfplan";

/// Where `up` hands the previous `machine_images` and `releases` outputs to the root module.
pub const MACHINE_IMAGES_FILE: &str = "machine-images.auto.tfvars.json";

/// Kubespray's fact-gathering playbook (relative to the checkout). Kubespray requires it
/// "without the limit to refresh facts cache for all nodes" before any `--limit`
/// (docs/operations/nodes.md, "Adding/replacing a worker node", 2; upgrades.md, "Node-based upgrade").
pub const FACTS_PLAYBOOK: &str = "playbooks/facts.yml";

/// `ansible-playbook`'s exit status when hosts were unreachable (ansible-core's
/// `TaskQueueManager.RUN_UNREACHABLE_HOSTS`).
pub const ANSIBLE_UNREACHABLE: i32 = 4;

/// The limit and variables Kubespray documents for etcd membership changes
/// (docs/operations/nodes.md, "Adding an etcd node", 1).
const ETCD_LIMIT: &str = "--limit=etcd,kube_control_plane";

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
    /// Remove leaving machines with Kubespray's variables for unreachable nodes, without first
    /// trying gracefully.
    pub ungraceful_removal: bool,
    /// Overwrite generated files that were changed by hand.
    pub force: bool,
    /// `ANSIBLE_PLAYBOOK` for deploy.sh (default: the fetched release's virtualenv, else
    /// deploy.sh's own `ansible-playbook`).
    pub ansible_playbook: Option<PathBuf>,
    /// `KUBESPRAY_DIR` for deploy.sh (default: the profile's kubespray.path, else the release
    /// fetched into the cache).
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
        /// The exit code, when the command exited (rather than being killed).
        code: Option<i32>,
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
    #[error("{0}")]
    Checksums(#[from] checksums::ChecksumsError),
    #[error("refusing to {what}: {machines} hold the control plane or etcd, and losing them can lose the cluster's data. Nothing was changed. If this is intended (e.g. one at a time in an HA control plane), run again with --allow-disruption; to keep them, undo the profile change.", machines = machines.join(", "))]
    Disruption { what: String, machines: Vec<String> },
    #[error("refusing to replace or destroy {machine}: it is the first host of {groups}, which Kubespray cannot remove (docs/operations/nodes.md, \"Adding/Removal of first `kube_control_plane` and etcd-master\"). Nothing was changed. Replace another control-plane machine instead, or follow that section by hand: in {hosts}, move {machine} to the end of kube_control_plane and etcd, run `PLAYBOOK=upgrade-cluster.yml {deploy}`, then `PLAYBOOK=remove-node.yml {deploy} -e node={machine}`, point the cluster-info ConfigMap (kube-public) at a live control plane, and only then run `flatcar-kube up --allow-disruption`.")]
    FirstHost {
        machine: String,
        groups: String,
        hosts: String,
        deploy: String,
    },
    #[error("the plan above changes a running cluster and there is no terminal to confirm it; review it and run again with --yes. Nothing was changed.")]
    NotConfirmed,
    #[error("{env} is not set: `up --deploy` hands it to JupyterHub's authenticator (apps.jupyterhub.authenticator) and never writes it to a file. Export it and run again; nothing was changed.")]
    MissingSecret { env: String },
    #[error("{0}")]
    SharedState(#[from] shared_state::SharedStateError),
    #[error("the profile has no `state:`, but this cluster's Terraform state is in the object store container {container} ({dir} was set up for it). Nothing was changed. Put `state: {{backend: object_store, container: {container}}}` back into the profile. To keep the state on this machine instead: in {dir}, with the project's EC2 credential in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (`openstack ec2 credentials list`) and, unless the profile named `s3_endpoint`, the S3 API's URL in AWS_ENDPOINT_URL_S3, delete backend.tf and run `terraform init -migrate-state -force-copy` (Terraform copies the state out of the container), then `flatcar-kube up` again.")]
    StateInObjectStore { dir: PathBuf, container: String },
    #[error("not applied: nothing was changed")]
    Declined,
}

/// The Kubespray `up --deploy` runs, and the Kubernetes version it will install.
struct DeployTarget {
    checkout: KubesprayCheckout,
    kubernetes: KubeVersion,
}

impl DeployTarget {
    fn kubespray_record(&self) -> KubesprayRecord {
        KubesprayRecord {
            release: self.checkout.release.clone(),
            commit: self.checkout.commit.clone(),
        }
    }
}

/// Runs the whole flow, printing progress to `log`.
pub fn up(
    opts: &UpOptions,
    confirm: &mut dyn Confirm,
    log: &mut dyn Write,
) -> Result<UpResult, UpError> {
    let opts = &absolute_paths(opts);
    let loaded = profile::load(&opts.profile)?;
    let env = |key: &str| std::env::var(key).ok();
    let flavor_ids = flavors::resolve(&loaded, &env)?;
    for warning in &flavor_ids.warnings {
        eprintln!("{warning}");
    }
    if opts.deploy {
        missing_app_secret(&loaded)?;
    }
    // State in the object store: one `up` at a time, whoever runs it.
    let mut shared = SharedState::connect(&loaded, &env, log)?;
    let Some(state) = shared.as_mut() else {
        return up_with_state(opts, confirm, log, &loaded, &flavor_ids, None);
    };
    let operation = match (opts.destroy, opts.deploy) {
        (true, _) => "flatcar-kube up --destroy",
        (false, true) => "flatcar-kube up --deploy",
        (false, false) => "flatcar-kube up",
    };
    state.lock(operation)?;
    progress(
        log,
        &format!(
            "holding the cluster's lock in the object store container {} ({})",
            state.container(),
            state.objects().up_lock
        ),
    );
    let result = up_with_state(opts, confirm, log, &loaded, &flavor_ids, Some(state));
    // What was deployed is kept beside the state, also after a failure half-way.
    let stored = if opts.output.join(record::RECORD_FILE).exists() {
        state.store_record(&opts.output)
    } else {
        Ok(())
    };
    let unlocked = state.unlock();
    let result = result?;
    stored?;
    unlocked?;
    Ok(result)
}

/// `up` once the state is reachable (and, in the object store, locked).
fn up_with_state(
    opts: &UpOptions,
    confirm: &mut dyn Confirm,
    log: &mut dyn Write,
    loaded: &LoadedProfile,
    flavor_ids: &flavors::FlavorResolution,
    shared: Option<&mut SharedState>,
) -> Result<UpResult, UpError> {
    // What cannot be done is refused before anything runs: Kubespray and the versions first.
    let target = if opts.deploy {
        Some(deploy_target(opts, loaded, log)?)
    } else {
        None
    };
    if let Some(state) = &shared {
        if state.fetch_record(&opts.output)? {
            progress(
                log,
                &format!(
                    "the deploy record is {}/{} (copied to {})",
                    state.container(),
                    state.objects().record,
                    opts.output.join(record::RECORD_FILE).display()
                ),
            );
        }
    }
    let mut record = if opts.deploy {
        Deployed::load(&opts.output)?
    } else {
        None
    };
    let (version_move, kubespray_moved) = match (&record, &target) {
        (Some(r), Some(t)) => (
            record::version_move(
                r.kubernetes_version.as_deref(),
                Some(&t.kubernetes.to_string()),
            )
            .map_err(UpError::KubernetesVersion)?,
            record::kubespray_move(r.kubespray.as_ref(), &t.kubespray_record())
                .map_err(UpError::KubernetesVersion)?,
        ),
        _ => (VersionMove::Same, false),
    };

    let files = render::generate(loaded, &flavor_ids.ids)?;
    progress(
        log,
        &format!(
            "writing {} files into {}",
            files.len(),
            opts.output.display()
        ),
    );
    render::write_files(&opts.output, &files, opts.force)?;

    let mut tf = Terraform::new(opts, log)?;
    if let Some(state) = &shared {
        tf.env = state.terraform_env();
    }
    init(log, &tf, shared.as_deref())?;
    if opts.destroy {
        run(
            log,
            tf.cmd(&["destroy", "-auto-approve", "-input=false", "-no-color"]),
        )?;
        // The machines are gone, and Kubernetes with them: the next deploy is a first deploy.
        if Deployed::remove(&opts.output)? {
            progress(
                log,
                &format!(
                    "removed {}: the next `up --deploy` deploys Kubernetes from the start",
                    opts.output.join(record::RECORD_FILE).display()
                ),
            );
        }
        if let Some(state) = &shared {
            // Only now that the cloud resources are gone: the state objects.
            state.remove_state()?;
            progress(
                log,
                &format!(
                    "removed the cluster's Terraform state and deploy record from the object store container {}",
                    state.container()
                ),
            );
        }
        progress(
            log,
            "destroyed: no image, server or floating IP of the profile is left",
        );
        return Ok(UpResult::Destroyed);
    }

    // 1. Running machines keep the release they were built from.
    let previous = tf.outputs(log)?;
    let kept = kept_images::from_outputs(&loaded.profile, &previous);
    if !kept.dropped.is_empty() {
        progress(
            log,
            &format!(
                "the previous apply did not report the releases of these machines' images (output releases), so their images are not kept: {}",
                kept.dropped.join(", ")
            ),
        );
    }
    let existing_cluster = previous
        .pointer("/kubespray_inventory/value/hosts")
        .and_then(Value::as_object)
        .is_some_and(|hosts| !hosts.is_empty());
    let running = if existing_cluster {
        // The inventory as the state has it: remove-node.yml still needs the leaving machines.
        Some(write_inventory(opts, &tf, &previous.to_string(), log)?.1)
    } else {
        if record.take().is_some() {
            // No machine of the record exists (destroyed outside `up`, or state lost).
            progress(
                log,
                &format!(
                    "{} names machines that no longer exist: this deploy starts from the beginning",
                    opts.output.join(record::RECORD_FILE).display()
                ),
            );
        }
        None
    };
    render::write_file(
        &tf.dir.join(MACHINE_IMAGES_FILE),
        (serde_json::to_string_pretty(&kept.tfvars).unwrap_or_default() + "\n").as_bytes(),
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
    if let Some(inv) = &running {
        refuse_first_host(opts, &summary, inv)?;
    }
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
    let mut etcd_left = Vec::new();
    if let (Some(rec), Some(inv), Some(target)) = (record.as_mut(), &running, &target) {
        let leaving: Vec<String> = summary
            .machines
            .iter()
            .filter(|m| m.leaves() && rec.nodes.contains(&m.name))
            .map(|m| m.name.clone())
            .collect();
        if !leaving.is_empty() {
            remove_nodes(log, opts, target, &leaving)?;
            etcd_left = leaving
                .iter()
                .filter(|n| in_group(inv, n, "etcd"))
                .cloned()
                .collect();
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

    if let Some(target) = &target {
        let coordinator = render::coordinator_playbook(loaded, &opts.output);
        let apps = render::apps_playbook(loaded, &opts.output);
        let mut deploy = Deploy {
            opts,
            target,
            log,
            facts_fresh: false,
        };
        deploy.run(
            record,
            &Moves {
                kubernetes: version_move,
                kubespray: kubespray_moved,
                etcd_left,
            },
            &inv,
            coordinator,
            apps,
        )?;
    }
    Ok(UpResult::Applied {
        hosts_yaml,
        deployed: opts.deploy,
    })
}

/// The apps' secret must be in the environment before anything runs: found missing only
/// after Kubespray's hour, it would leave the cluster half done.
fn missing_app_secret(loaded: &LoadedProfile) -> Result<(), UpError> {
    let Some(hub) = &loaded.profile.apps.jupyterhub else {
        return Ok(());
    };
    let env = hub.authenticator.secret_env();
    match std::env::var(env) {
        Ok(value) if !value.is_empty() => Ok(()),
        _ => Err(UpError::MissingSecret {
            env: env.to_string(),
        }),
    }
}

/// Paths the user gave relative to the working directory, made absolute: deploy.sh runs
/// playbooks from the Kubespray checkout and resolves `KUBESPRAY_DIR` against `DIR`.
fn absolute_paths(opts: &UpOptions) -> UpOptions {
    let absolute = |p: &PathBuf| std::path::absolute(p).unwrap_or_else(|_| p.clone());
    let mut opts = opts.clone();
    // A bare name (`ansible-playbook`) is looked up on PATH, as the shell would.
    if let Some(p) = &opts.ansible_playbook {
        if p.components().count() > 1 {
            opts.ansible_playbook = Some(absolute(p));
        }
    }
    opts.kubespray_dir = opts.kubespray_dir.as_ref().map(absolute);
    opts
}

/// The Kubespray to run and the Kubernetes version it installs, checked against its checksums.
fn deploy_target(
    opts: &UpOptions,
    loaded: &LoadedProfile,
    log: &mut dyn Write,
) -> Result<DeployTarget, UpError> {
    let k = &loaded.profile.kubespray;
    let checkout = match (&opts.kubespray_dir, &k.path) {
        (Some(dir), _) => kubespray::existing(dir, &k.version, log),
        (None, Some(path)) => {
            // Relative to the generated directory, as deploy.sh reads it.
            let dir = std::path::absolute(opts.output.join(path))
                .unwrap_or_else(|_| opts.output.join(path));
            kubespray::existing(&dir, &k.version, log)
        }
        (None, None) => {
            kubespray::fetch_release(&k.version, &k.repository, &kubespray::cache_dir(), log)?
        }
    };
    let supported = SupportedVersions::read(&checkout.dir, loaded.profile.flatcar.arch.as_str())?;
    let kubernetes = match &loaded.profile.kubernetes.version {
        None => {
            progress(
                log,
                &format!(
                    "kubernetes.version is not set: Kubespray {} installs {} (its default)",
                    checkout.release, supported.default
                ),
            );
            supported.default
        }
        Some(text) => match KubeVersion::parse(text).filter(|v| supported.contains(*v)) {
            Some(v) => v,
            None => return Err(unsupported_version(loaded, text, &checkout, &supported).into()),
        },
    };
    Ok(DeployTarget {
        checkout,
        kubernetes,
    })
}

/// `file:line:col` of `kubernetes.version`, with the range this Kubespray supports.
fn unsupported_version(
    loaded: &LoadedProfile,
    text: &str,
    checkout: &KubesprayCheckout,
    supported: &SupportedVersions,
) -> ProfileErrors {
    let suggestion = KubeVersion::parse(text)
        .and_then(|v| supported.newest_of_minor(v.0, v.1))
        .unwrap_or(supported.default);
    ProfileErrors(vec![Diagnostic {
        file: loaded.file.clone(),
        pos: loaded.root.pos_of(&["kubernetes", "version"]),
        message: format!(
            "Kubespray {} ({}) cannot install Kubernetes {text}: it has {} checksums for {} only ({})",
            checkout.release,
            checkout.dir.display(),
            supported.arch,
            supported.range(),
            supported.file.display()
        ),
        hint: format!(
            "write `version: {suggestion}`, or pick the Kubespray release that supports {text}; nothing was changed"
        ),
    }])
}

/// Kubespray cannot remove the first `kube_control_plane` or `etcd` host.
fn refuse_first_host(
    opts: &UpOptions,
    summary: &PlanSummary,
    running: &inventory::KubesprayInventory,
) -> Result<(), UpError> {
    for m in summary.machines.iter().filter(|m| m.leaves()) {
        let groups: Vec<&str> = ["kube_control_plane", "etcd"]
            .into_iter()
            .filter(|g| running.members(g).first().map(|n| n.as_str()) == Some(m.name.as_str()))
            .collect();
        if !groups.is_empty() {
            return Err(UpError::FirstHost {
                machine: m.name.clone(),
                groups: groups.join(" and "),
                hosts: opts
                    .output
                    .join("inventory/hosts.yaml")
                    .display()
                    .to_string(),
                deploy: deploy_script(&opts.output).display().to_string(),
            });
        }
    }
    Ok(())
}

fn in_group(inv: &inventory::KubesprayInventory, name: &str, group: &str) -> bool {
    inv.hosts
        .get(name)
        .is_some_and(|h| h.groups.contains(group))
}

/// `remove-node.yml` for machines that leave: gracefully first; for unreachable machines (or
/// with `--ungraceful-removal`) with the variables Kubespray documents for nodes that are not
/// online (docs/operations/nodes.md, "Adding/replacing a worker node", 3).
fn remove_nodes(
    log: &mut dyn Write,
    opts: &UpOptions,
    target: &DeployTarget,
    leaving: &[String],
) -> Result<(), UpError> {
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
        return playbook_with(log, opts, target, "remove-node.yml", &args);
    }
    progress(
        log,
        &format!(
            "removing {} from Kubernetes (drain, then reset) before their servers are destroyed",
            leaving.join(", ")
        ),
    );
    match playbook_with(log, opts, target, "remove-node.yml", &args) {
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
            playbook_with(log, opts, target, "remove-node.yml", &args)
        }
        other => other,
    }
}

/// How the cluster moved since the record.
struct Moves {
    kubernetes: VersionMove,
    /// Another Kubespray release or commit than the one that deployed the cluster.
    kubespray: bool,
    /// etcd members removed before this apply.
    etcd_left: Vec<String>,
}

/// Kubespray after the apply: the first deploy, or upgrades and membership changes.
struct Deploy<'a> {
    opts: &'a UpOptions,
    target: &'a DeployTarget,
    log: &'a mut dyn Write,
    /// Whether the fact cache holds every host: after facts.yml or an unlimited playbook.
    facts_fresh: bool,
}

impl Deploy<'_> {
    fn playbook(&mut self, name: &str, args: &[String]) -> Result<(), UpError> {
        let limited = args.iter().any(|a| a.starts_with("--limit"));
        if limited && !self.facts_fresh {
            playbook_with(self.log, self.opts, self.target, FACTS_PLAYBOOK, &[])?;
        }
        playbook_with(self.log, self.opts, self.target, name, args)?;
        self.facts_fresh = true;
        Ok(())
    }

    fn run(
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
        playbook_with(
            self.log,
            self.opts,
            self.target,
            &absolute.to_string_lossy(),
            &[],
        )
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

/// A playbook with the deploy target's Kubespray and Ansible.
fn playbook_with(
    log: &mut dyn Write,
    opts: &UpOptions,
    target: &DeployTarget,
    name: &str,
    args: &[String],
) -> Result<(), UpError> {
    let mut opts = opts.clone();
    opts.kubespray_dir = Some(target.checkout.dir.clone());
    if opts.ansible_playbook.is_none() {
        opts.ansible_playbook = target.checkout.ansible_playbook.clone();
    }
    playbook(log, &opts, name, args)
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
    /// `TF_CLI_CONFIG_FILE` naming the mirror of the provider beside `flatcar-kube`, when the
    /// user's own set-up does not provide it.
    cli_config: Option<PathBuf>,
    /// More environment for every Terraform run (the S3 backend's credential).
    env: Vec<(&'static str, String)>,
}

impl<'a> Terraform<'a> {
    fn new(opts: &'a UpOptions, log: &mut dyn Write) -> Result<Terraform<'a>, UpError> {
        let dir = opts.output.join("terraform");
        let env = |key: &str| std::env::var(key).ok();
        let cli_config = match provider_mirror::provided_by_user(&env) {
            Some(_) => None,
            None => match provider_mirror::find_provider(
                std::env::current_exe().ok().as_deref(),
                env("PATH").as_deref(),
            ) {
                Some(provider) => {
                    let config = provider_mirror::install(&provider, &dir).map_err(|source| {
                        render::RenderError::Io {
                            path: dir.join(provider_mirror::CLI_CONFIG_FILE),
                            source,
                        }
                    })?;
                    progress(
                        log,
                        &format!(
                            "using the provider {} (TF_CLI_CONFIG_FILE={})",
                            provider.display(),
                            config.display()
                        ),
                    );
                    Some(config)
                }
                None => None,
            },
        };
        Ok(Terraform {
            program: &opts.terraform,
            chdir: format!("-chdir={}", dir.display()),
            dir,
            cli_config,
            env: Vec::new(),
        })
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(self.program);
        cmd.arg(&self.chdir).args(args);
        if let Some(config) = &self.cli_config {
            cmd.env("TF_CLI_CONFIG_FILE", config);
        }
        cmd.envs(self.env.iter().map(|(k, v)| (*k, v.as_str())));
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

/// `terraform init`: with the object store, a local state with resources in it is moved there
/// first (`-migrate-state`) and kept under another name; without it, a state that lives in the
/// object store is not left behind silently.
fn init(
    log: &mut dyn Write,
    tf: &Terraform<'_>,
    shared: Option<&SharedState>,
) -> Result<(), UpError> {
    let backend = shared_state::initialized_backend(&tf.dir);
    let mut args = vec!["init", "-input=false", "-no-color"];
    match shared {
        None => {
            if let Some(("s3", config)) = backend.as_ref().map(|(k, c)| (k.as_str(), c)) {
                return Err(UpError::StateInObjectStore {
                    dir: tf.dir.clone(),
                    container: config
                        .get("bucket")
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                        .to_string(),
                });
            }
        }
        Some(state) => {
            let migrate = shared_state::local_state_in_use(&tf.dir);
            if migrate {
                progress(
                    log,
                    &format!(
                        "moving the Terraform state of {} into the object store container {} (terraform init -migrate-state)",
                        tf.dir.display(),
                        state.container()
                    ),
                );
                args.extend(["-migrate-state", "-force-copy"]);
            } else if backend.as_ref().is_some_and(|(kind, _)| kind != "s3") {
                // Set up for another backend before, with nothing in its state to move.
                args.push("-reconfigure");
            }
            run(log, tf.cmd(&args)).map_err(|e| lock_hint(e, &tf.dir))?;
            if migrate {
                let from = tf.dir.join(shared_state::LOCAL_STATE);
                let to = tf.dir.join(shared_state::MIGRATED_STATE);
                std::fs::rename(&from, &to).map_err(|source| render::RenderError::Io {
                    path: from.clone(),
                    source,
                })?;
                progress(
                    log,
                    &format!(
                        "the state is in the object store now; the local copy is kept as {}",
                        to.display()
                    ),
                );
            }
            return Ok(());
        }
    }
    run(log, tf.cmd(&args)).map_err(|e| lock_hint(e, &tf.dir))
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
            code,
            tail,
            ..
        } if tail.contains("dependency lock file") => UpError::Failed {
            code,
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
