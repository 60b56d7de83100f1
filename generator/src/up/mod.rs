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
//! Each of these is one named step of `Steps` (in `up_with_state`, in order), over two small
//! runners: `terraform::Terraform` (every Terraform command, `init`, the inventory from its
//! outputs) and `deploy::Kubespray` (every playbook, through the generated deploy.sh; with
//! `deploy::Deploy` for what runs after the apply).
//!
//! Terraform inherits the whole environment (`OS_*`, `TF_CLI_CONFIG_FILE`, ...); when nothing
//! there provides our provider, [`provider_mirror`] hands it the one beside `flatcar-kube`.

pub mod checksums;
mod deploy;
pub mod exec;
pub mod kept_images;
pub mod kubespray;
pub mod plan;
pub mod provider_mirror;
pub mod record;
pub mod shared_state;
mod terraform;

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::profile::{Diagnostic, LoadedProfile, ProfileErrors};
use crate::{inventory, profile, render};
use checksums::{KubeVersion, SupportedVersions};
use deploy::{deploy_script, in_group, remove_nodes, Deploy, DeployTarget, Kubespray, Moves};
use exec::{capture, progress, run};
use kubespray::KubesprayCheckout;
use plan::PlanSummary;
use record::{Deployed, VersionMove};
use shared_state::SharedState;
use terraform::{write_inventory, Terraform};

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

/// Runs the whole flow, printing progress to `log`.
pub fn up(
    opts: &UpOptions,
    confirm: &mut dyn Confirm,
    log: &mut dyn Write,
) -> Result<UpResult, UpError> {
    let opts = &absolute_paths(opts);
    let env = |key: &str| std::env::var(key).ok();
    // What `generate` would write: `up` writes the same files, later, in its own step.
    let generated = render::generate_profile(&opts.profile, &env, &mut std::io::stderr())?;
    let loaded = &generated.loaded;
    if opts.deploy {
        missing_app_secret(loaded)?;
    }
    // State in the object store: one `up` at a time, whoever runs it.
    let mut shared = SharedState::connect(loaded, &env, log)?;
    let Some(state) = shared.as_mut() else {
        return up_with_state(opts, confirm, log, &generated, None);
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
    let result = up_with_state(opts, confirm, log, &generated, Some(state));
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

impl From<render::GenerateError> for UpError {
    fn from(e: render::GenerateError) -> UpError {
        match e {
            render::GenerateError::Profile(e) => UpError::Profile(e),
            render::GenerateError::Render(e) => UpError::Render(e),
        }
    }
}

/// `up` once the state is reachable (and, in the object store, locked): the steps, in order.
fn up_with_state(
    opts: &UpOptions,
    confirm: &mut dyn Confirm,
    log: &mut dyn Write,
    generated: &render::Generated,
    shared: Option<&mut SharedState>,
) -> Result<UpResult, UpError> {
    let mut up = Steps {
        opts,
        log,
        loaded: &generated.loaded,
        shared,
    };
    let mut deploying = up.refuse_what_cannot_be_deployed()?;
    up.write_files(&generated.files)?;
    let tf = up.init_terraform()?;
    if opts.destroy {
        return up.destroy(&tf);
    }
    let running = up.keep_running_machines_images(&tf, deploying.as_mut())?;
    let summary = up.review_plan(&tf, &running, confirm)?;
    let etcd_left = up.remove_leaving_machines(&summary, &running, deploying.as_mut())?;
    let (hosts_yaml, inv) = up.apply(&tf, &summary)?;
    if let Some(deploying) = deploying {
        up.deploy(deploying, etcd_left, &inv)?;
    }
    Ok(UpResult::Applied {
        hosts_yaml,
        deployed: opts.deploy,
    })
}

/// What `up --deploy` knows before anything runs: the Kubespray and Kubernetes version to
/// deploy, the deploy record and how the cluster moves since it.
struct Deploying {
    target: DeployTarget,
    record: Option<Deployed>,
    version_move: VersionMove,
    kubespray_moved: bool,
}

/// The cluster as the previous apply left it.
struct Running {
    /// Whether machines exist.
    existing: bool,
    /// Their inventory (remove-node.yml still needs the leaving machines).
    inventory: Option<inventory::KubesprayInventory>,
}

/// The steps of `up`, each printing its progress to `log`.
struct Steps<'a> {
    opts: &'a UpOptions,
    log: &'a mut dyn Write,
    loaded: &'a LoadedProfile,
    shared: Option<&'a mut SharedState>,
}

impl<'a> Steps<'a> {
    /// What cannot be done is refused before anything runs: Kubespray and the versions first;
    /// then the deploy record (from the object store, when the state is there).
    fn refuse_what_cannot_be_deployed(&mut self) -> Result<Option<Deploying>, UpError> {
        let (opts, log) = (self.opts, &mut *self.log);
        let target = if opts.deploy {
            Some(deploy_target(opts, self.loaded, log)?)
        } else {
            None
        };
        if let Some(state) = &self.shared {
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
        let Some(target) = target else {
            return Ok(None);
        };
        let record = Deployed::load(&opts.output)?;
        let (version_move, kubespray_moved) = match &record {
            Some(r) => (
                record::version_move(
                    r.kubernetes_version.as_deref(),
                    Some(&target.kubernetes.to_string()),
                )
                .map_err(UpError::KubernetesVersion)?,
                record::kubespray_move(r.kubespray.as_ref(), &target.kubespray_record())
                    .map_err(UpError::KubernetesVersion)?,
            ),
            None => (VersionMove::Same, false),
        };
        Ok(Some(Deploying {
            target,
            record,
            version_move,
            kubespray_moved,
        }))
    }

    /// `generate`'s files into the output directory (never over a hand edit without `--force`).
    fn write_files(&mut self, files: &[render::OutputFile]) -> Result<(), UpError> {
        progress(
            self.log,
            &format!(
                "writing {} files into {}",
                files.len(),
                self.opts.output.display()
            ),
        );
        render::write_files(&self.opts.output, files, self.opts.force)?;
        Ok(())
    }

    /// The Terraform runner, with the state backend's environment, after `terraform init`.
    fn init_terraform(&mut self) -> Result<Terraform<'a>, UpError> {
        let mut tf = Terraform::new(self.opts, self.log)?;
        if let Some(state) = &self.shared {
            tf.env = state.terraform_env();
        }
        terraform::init(self.log, &tf, self.shared.as_deref())?;
        Ok(tf)
    }

    /// `--destroy`: everything Terraform made, then the deploy record and the state objects.
    fn destroy(&mut self, tf: &Terraform<'_>) -> Result<UpResult, UpError> {
        let (opts, log) = (self.opts, &mut *self.log);
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
        if let Some(state) = &self.shared {
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
        Ok(UpResult::Destroyed)
    }

    /// Step 1: Running machines keep the release they were built from: the previous apply's
    /// outputs go back to the module ([`kept_images`]).
    fn keep_running_machines_images(
        &mut self,
        tf: &Terraform<'_>,
        deploying: Option<&mut Deploying>,
    ) -> Result<Running, UpError> {
        let (opts, log) = (self.opts, &mut *self.log);
        let previous = tf.outputs(log)?;
        let kept = kept_images::from_outputs(&self.loaded.profile, &previous);
        if !kept.dropped.is_empty() {
            progress(
                log,
                &format!(
                    "these machines record an image key that names no Flatcar release (`<channel>-<version>`), so their images are not kept and the plan below may replace them: {}",
                    kept.dropped.join(", ")
                ),
            );
        }
        let existing = previous
            .pointer("/kubespray_inventory/value/hosts")
            .and_then(Value::as_object)
            .is_some_and(|hosts| !hosts.is_empty());
        let inventory = if existing {
            // The inventory as the state has it: remove-node.yml still needs the leaving machines.
            Some(write_inventory(opts, tf, &previous.to_string(), log)?.1)
        } else {
            if deploying.and_then(|d| d.record.take()).is_some() {
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
        Ok(Running {
            existing,
            inventory,
        })
    }

    /// Step 2: A saved plan, shown per machine and checked: the first host, disruptions, and a
    /// change to a running cluster confirmed.
    fn review_plan(
        &mut self,
        tf: &Terraform<'_>,
        running: &Running,
        confirm: &mut dyn Confirm,
    ) -> Result<PlanSummary, UpError> {
        let (opts, log) = (self.opts, &mut *self.log);
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
        if let Some(inv) = &running.inventory {
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
        if summary.changes_anything() && running.existing && !opts.yes {
            match confirm.confirm("Apply this plan to the running cluster? Only 'yes' is accepted")
            {
                Some(true) => {}
                Some(false) => return Err(UpError::Declined),
                None => return Err(UpError::NotConfirmed),
            }
        }
        Ok(summary)
    }

    /// Step 3: Machines that leave are drained and removed from Kubernetes before their servers go;
    /// returns those that were etcd members.
    fn remove_leaving_machines(
        &mut self,
        summary: &PlanSummary,
        running: &Running,
        deploying: Option<&mut Deploying>,
    ) -> Result<Vec<String>, UpError> {
        let (Some(deploying), Some(inv)) = (deploying, &running.inventory) else {
            return Ok(Vec::new());
        };
        let Some(rec) = deploying.record.as_mut() else {
            return Ok(Vec::new());
        };
        let leaving: Vec<String> = summary
            .machines
            .iter()
            .filter(|m| m.leaves() && rec.nodes.contains(&m.name))
            .map(|m| m.name.clone())
            .collect();
        if leaving.is_empty() {
            return Ok(Vec::new());
        }
        remove_nodes(self.log, self.opts, &deploying.target, &leaving)?;
        let etcd_left = leaving
            .iter()
            .filter(|n| in_group(inv, n, "etcd"))
            .cloned()
            .collect();
        for name in &leaving {
            rec.nodes.remove(name);
        }
        rec.save(&self.opts.output)?;
        Ok(etcd_left)
    }

    /// Step 4: The saved plan applied (when it changes anything), and the inventory from the outputs.
    fn apply(
        &mut self,
        tf: &Terraform<'_>,
        summary: &PlanSummary,
    ) -> Result<(PathBuf, inventory::KubesprayInventory), UpError> {
        let log = &mut *self.log;
        if summary.changes_anything() {
            run(
                log,
                tf.cmd(&["apply", "-input=false", "-no-color", PLAN_FILE]),
            )?;
        } else {
            progress(log, "no changes: the machines are as the profile describes");
        }
        let outputs = capture(log, tf.cmd(&["output", "-json", "-no-color"]))?;
        write_inventory(self.opts, tf, &outputs, log)
    }

    /// Step 5: Kubespray after the apply: the first deploy, or upgrades and membership changes; then
    /// the reboot coordinator and the apps.
    fn deploy(
        &mut self,
        deploying: Deploying,
        etcd_left: Vec<String>,
        inv: &inventory::KubesprayInventory,
    ) -> Result<(), UpError> {
        let opts = self.opts;
        let coordinator = render::coordinator_playbook(self.loaded, &opts.output);
        let apps = render::apps_playbook(self.loaded, &opts.output);
        let mut deploy = Deploy {
            opts,
            target: &deploying.target,
            kubespray: Kubespray::new(opts, &deploying.target),
            log: &mut *self.log,
            facts_fresh: false,
        };
        deploy.run(
            deploying.record,
            &Moves {
                kubernetes: deploying.version_move,
                kubespray: deploying.kubespray_moved,
                etcd_left,
            },
            inv,
            coordinator,
            apps,
        )
    }
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

/// What to run after `up`: the generated `deploy.sh`.
pub fn next_steps(output: &Path, hosts_yaml: &Path) -> String {
    format!(
        "Kubespray inventory: {}\nNext (with the same OS_* variables; KUBESPRAY_DIR if Kubespray is elsewhere):\n  {}\n",
        hosts_yaml.display(),
        output.join("deploy.sh").display()
    )
}
