//! The Terraform runner of `up`: `terraform -chdir=DIR/terraform ...` with the provider
//! mirror's CLI configuration and the state backend's environment, `init` (moving a local state
//! into the object store, or refusing to leave one there), `output -json` and the inventory
//! written from it. What to run when is `up`'s steps' business, not this module's.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::exec::{capture, progress, run};
use super::shared_state::{self, SharedState};
use super::{provider_mirror, UpError, UpOptions};
use crate::{inventory, render};

/// `terraform -chdir=DIR/terraform ...`: the runner every Terraform step of `up` goes through.
pub(super) struct Terraform<'a> {
    program: &'a Path,
    pub(super) dir: PathBuf,
    chdir: String,
    /// `TF_CLI_CONFIG_FILE` naming the mirror of the provider beside `flatcar-kube`, when the
    /// user's own set-up does not provide it.
    cli_config: Option<PathBuf>,
    /// More environment for every Terraform run (the S3 backend's credential).
    pub(super) env: Vec<(&'static str, String)>,
}

impl<'a> Terraform<'a> {
    pub(super) fn new(opts: &'a UpOptions, log: &mut dyn Write) -> Result<Terraform<'a>, UpError> {
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

    pub(super) fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(self.program);
        cmd.arg(&self.chdir).args(args);
        if let Some(config) = &self.cli_config {
            cmd.env("TF_CLI_CONFIG_FILE", config);
        }
        cmd.envs(self.env.iter().map(|(k, v)| (*k, v.as_str())));
        cmd
    }

    /// `terraform output -json` ({} before the first apply).
    pub(super) fn outputs(&self, log: &mut dyn Write) -> Result<Value, UpError> {
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
pub(super) fn init(
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
pub(super) fn write_inventory(
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
