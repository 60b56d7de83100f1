//! `flatcar-kube up`: generate, then Terraform on the generated `terraform/` (init, apply or
//! destroy), then `terraform output -json` through the inventory reader into
//! `inventory/hosts.yaml`. Terraform inherits the whole environment (`OS_*`,
//! `TF_CLI_CONFIG_FILE`, ...); its stdout is passed through, its stderr is echoed and the last
//! lines are kept for the error message.

use std::collections::VecDeque;
use std::io::{BufRead as _, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{flavors, inventory, profile, render};

/// How many lines of a failed command's stderr an error shows.
pub const STDERR_TAIL_LINES: usize = 25;

/// What `up` does.
#[derive(Debug, Clone)]
pub struct UpOptions {
    pub profile: PathBuf,
    pub output: PathBuf,
    /// `terraform destroy` instead of apply (no inventory is written).
    pub destroy: bool,
    /// The Terraform (or OpenTofu) binary.
    pub terraform: PathBuf,
}

/// What `up` leaves behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpResult {
    /// The machines exist; Kubespray's inventory is at this path.
    Applied { hosts_yaml: PathBuf },
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
}

/// Runs the whole flow, printing progress to `log`.
pub fn up(opts: &UpOptions, log: &mut dyn Write) -> Result<UpResult, UpError> {
    let loaded = profile::load(&opts.profile)?;
    let flavor_ids = flavors::resolve(&loaded, &|key| std::env::var(key).ok())?;
    for warning in &flavor_ids.warnings {
        eprintln!("{warning}");
    }
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

    let tf_dir = opts.output.join("terraform");
    let chdir = format!("-chdir={}", tf_dir.display());
    let tf = |args: &[&str]| {
        let mut cmd = Command::new(&opts.terraform);
        cmd.arg(&chdir).args(args);
        cmd
    };

    run(log, tf(&["init", "-input=false", "-no-color"])).map_err(|e| lock_hint(e, &tf_dir))?;
    if opts.destroy {
        run(
            log,
            tf(&["destroy", "-auto-approve", "-input=false", "-no-color"]),
        )?;
        progress(
            log,
            "destroyed: no image, server or floating IP of the profile is left",
        );
        return Ok(UpResult::Destroyed);
    }
    run(
        log,
        tf(&["apply", "-auto-approve", "-input=false", "-no-color"]),
    )?;
    let json = capture(log, tf(&["output", "-json", "-no-color"]))?;
    let source_name = format!("{}", tf_dir.display());
    let (inv, _) = inventory::read(&json, &source_name).map_err(|source| UpError::Inventory {
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
    Ok(UpResult::Applied { hosts_yaml })
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

fn progress(log: &mut dyn Write, message: &str) {
    let _ = writeln!(log, "flatcar-kube up: {message}");
    let _ = log.flush();
}

fn shown(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

/// Runs `cmd` with stdout passed through (or captured) and stderr echoed to ours; on failure
/// the error carries the tail of stderr.
fn execute(log: &mut dyn Write, mut cmd: Command, capture_stdout: bool) -> Result<String, UpError> {
    let command = shown(&cmd);
    progress(log, &format!("running {command}"));
    cmd.stdin(Stdio::null())
        .stdout(if capture_stdout {
            Stdio::piped()
        } else {
            Stdio::inherit()
        })
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|source| UpError::Spawn {
        command: command.clone(),
        source,
    })?;
    let stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut out) = stdout {
            let _ = std::io::Read::read_to_string(&mut out, &mut text);
        }
        text
    });
    let mut tail: VecDeque<String> = VecDeque::new();
    if let Some(err) = child.stderr.take() {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            eprintln!("{line}");
            if tail.len() == STDERR_TAIL_LINES {
                tail.pop_front();
            }
            tail.push_back(line);
        }
    }
    let status = child.wait().map_err(|source| UpError::Spawn {
        command: command.clone(),
        source,
    })?;
    let out = reader.join().unwrap_or_default();
    if !status.success() {
        let tail: Vec<String> = tail.into_iter().collect();
        return Err(UpError::Failed {
            command,
            status: status.to_string(),
            hint: String::new(),
            tail: if tail.is_empty() {
                "(nothing on stderr)".to_string()
            } else {
                tail.join("\n")
            },
        });
    }
    Ok(out)
}

fn run(log: &mut dyn Write, cmd: Command) -> Result<(), UpError> {
    execute(log, cmd, false).map(|_| ())
}

fn capture(log: &mut dyn Write, cmd: Command) -> Result<String, UpError> {
    execute(log, cmd, true)
}

/// What to run after `up`: the generated `deploy.sh`.
pub fn next_steps(output: &Path, hosts_yaml: &Path) -> String {
    format!(
        "Kubespray inventory: {}\nNext (with the same OS_* variables; KUBESPRAY_DIR if Kubespray is elsewhere):\n  {}\n",
        hosts_yaml.display(),
        output.join("deploy.sh").display()
    )
}
