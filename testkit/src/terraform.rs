//! The real terraform CLI for the acceptance tests: where it is (`TERRAFORM`, else `PATH`),
//! the workspace's binaries beside the running test, and a [`Workspace`]: the provider
//! installed into a fresh filesystem mirror (a rebuild invalidates lock files, so every
//! workspace is new) with a CLI configuration that uses it. The one home of mirror set-up for
//! the provider's, the generator's and the end-to-end tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub use flatcar_cloud::PROVIDER_SOURCE;
pub const PROVIDER_VERSION: &str = "0.1.0";

/// The terraform CLI: `$TERRAFORM` when set, else the first `terraform` on `PATH`; `None`
/// when there is none.
pub fn find() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("TERRAFORM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("terraform"))
        .find(|candidate| candidate.is_file())
}

/// The terraform CLI (see [`find`]); panics with what to do when there is none.
pub fn binary() -> PathBuf {
    find().unwrap_or_else(|| {
        panic!("terraform is not on PATH: install terraform 1.11 (or point TERRAFORM at it)")
    })
}

/// A binary of this workspace's build, found beside the running test executable
/// (`target/<profile>/deps/<test>` -> `target/<profile>/<name>`). Cargo builds the binaries of
/// a package for its integration tests; the end-to-end tests need `cargo build --bins` first
/// (scripts/test.sh does).
pub fn workspace_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test executable lives in target/<profile>/deps");
    let bin = profile_dir.join(name);
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo build --workspace --bins` (scripts/test.sh does)",
        bin.display()
    );
    bin
}

/// The provider binary of this workspace's build.
pub fn provider_binary() -> PathBuf {
    workspace_bin("terraform-provider-flatcar")
}

/// A temporary directory with a filesystem mirror, a CLI config and a working directory.
pub struct Workspace {
    _root: tempfile::TempDir,
    pub dir: PathBuf,
    pub cli_config: PathBuf,
    pub extra_env: Vec<(String, String)>,
}

/// The result of one terraform command.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "terraform failed:\n{}", self.all());
        self
    }
}

impl Default for Workspace {
    fn default() -> Workspace {
        Workspace::new()
    }
}

impl Workspace {
    /// A workspace whose mirror holds this workspace's provider build.
    pub fn new() -> Workspace {
        Workspace::with_provider(&provider_binary())
    }

    /// A workspace whose mirror holds `binary` as the provider (e.g. a wrapper script).
    pub fn with_provider(binary: &Path) -> Workspace {
        Workspace::with_provider_at(PROVIDER_SOURCE, binary)
    }

    /// A workspace whose mirror holds `binary` as the provider `source`
    /// (`registry.terraform.io/<namespace>/<type>`), e.g. another provider built from tfplugin.
    /// `write_config` names only ours; for another provider, write main.tf into `dir` yourself.
    pub fn with_provider_at(source: &str, binary: &Path) -> Workspace {
        let root = tempfile::tempdir().expect("tempdir");
        let mirror = root.path().join("mirror");
        let plugin_dir = mirror.join(format!("{source}/{PROVIDER_VERSION}/linux_amd64"));
        std::fs::create_dir_all(&plugin_dir).expect("mirror dir");
        let type_name = source.rsplit('/').next().expect("provider type");
        std::fs::copy(
            binary,
            plugin_dir.join(format!(
                "terraform-provider-{type_name}_v{PROVIDER_VERSION}"
            )),
        )
        .expect("install provider into mirror");
        let cli_config = root.path().join("terraform.tfrc");
        std::fs::write(
            &cli_config,
            format!(
                "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"{source}\"]\n  }}\n  direct {{\n    exclude = [\"{source}\"]\n  }}\n}}\n",
                mirror.display()
            ),
        )
        .expect("cli config");
        let dir = root.path().join("work");
        std::fs::create_dir_all(&dir).expect("work dir");
        Workspace {
            _root: root,
            dir,
            cli_config,
            extra_env: Vec::new(),
        }
    }

    /// Writes main.tf with the required_providers block prepended.
    pub fn write_config(&self, body: &str) {
        let text = format!(
            "terraform {{\n  required_providers {{\n    flatcar = {{ source = \"{PROVIDER_SOURCE}\" }}\n  }}\n}}\n\n{body}"
        );
        std::fs::write(self.dir.join("main.tf"), text).expect("write main.tf");
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(binary());
        cmd.args(args)
            .current_dir(&self.dir)
            .env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env_remove("TF_LOG")
            .env_remove("TF_LOG_PATH");
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let mut full: Vec<&str> = args.to_vec();
        if !matches!(
            args.first(),
            Some(&"output") | Some(&"show") | Some(&"version")
        ) {
            full.push("-no-color");
        }
        Run::from(self.command(&full).output().expect("run terraform"))
    }

    pub fn init(&self) -> Run {
        self.run(&["init", "-input=false"]).ok()
    }

    pub fn apply(&self) -> Run {
        self.run(&["apply", "-auto-approve", "-input=false"])
    }

    /// `plan -detailed-exitcode`: 0 means no changes.
    pub fn plan_exit_code(&self) -> Run {
        self.run(&["plan", "-detailed-exitcode", "-input=false"])
    }

    /// One output value, as JSON.
    pub fn output(&self, name: &str) -> serde_json::Value {
        let run = self.run(&["output", "-json", name]).ok();
        serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("output {name}: {e}: {}", run.stdout))
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }
}

/// Who gets SIGKILL in the kill tests: the `terraform` process, or the provider it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Victim {
    Terraform,
    Provider,
}

impl Victim {
    /// The process's name, as a reliability row says it.
    pub fn name(self) -> &'static str {
        match self {
            Victim::Terraform => "terraform",
            Victim::Provider => "the provider",
        }
    }
}

impl Workspace {
    /// `terraform apply` in the background, output discarded (for tests that interrupt it).
    pub fn spawn_apply(&self) -> std::process::Child {
        self.command(&["apply", "-auto-approve", "-input=false", "-no-color"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("terraform")
    }
}

/// SIGKILLs `victim` of the running `terraform` and waits for terraform, which must fail.
/// When terraform is the victim, its provider is orphaned: it must stop what it was doing and
/// exit on its own (the orphan watch: a grace for clean-up, then exit), checked here with a
/// bound far above that grace.
pub fn sigkill(terraform: &mut std::process::Child, victim: Victim) {
    let found = Command::new("pgrep")
        .args([
            "-P",
            &terraform.id().to_string(),
            "-f",
            "terraform-provider-flatcar",
        ])
        .output()
        .expect("pgrep");
    let provider = String::from_utf8_lossy(&found.stdout)
        .lines()
        .next()
        .expect("the provider process")
        .trim()
        .to_string();
    let pid = match victim {
        Victim::Terraform => terraform.id().to_string(),
        Victim::Provider => provider.clone(),
    };
    assert!(Command::new("kill")
        .args(["-KILL", &pid])
        .status()
        .expect("kill")
        .success());
    let status = terraform.wait().expect("wait");
    assert!(!status.success(), "{victim:?} killed: the apply must fail");
    if victim == Victim::Terraform {
        wait_until(
            &format!("the exit of the provider (pid {provider}) orphaned by the kill"),
            std::time::Duration::from_secs(60),
            || has_exited(&provider),
        );
    }
}

/// Whether process `pid` is gone or a zombie (an orphan's new parent may never reap it).
fn has_exited(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
        Err(_) => true,
    }
}

/// Waits (up to `limit`) until `ready` holds, e.g. until a proxy saw the upload start.
pub fn wait_until(what: &str, limit: std::time::Duration, mut ready: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + limit;
    while !ready() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what} never happened"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
