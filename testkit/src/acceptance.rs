//! The switch between the two test tiers. Offline tests (unit, in-process, recorded fixtures)
//! always run. Acceptance tests need what only a prepared machine has: the real terraform
//! CLI, the local OpenStack, the Ansible virtualenv, shellcheck, ignition-validate. They run
//! when `FLATCAR_KUBE_ACCEPTANCE=1` (as `TF_ACC` does for Terraform providers); otherwise each
//! says in one line on stderr what it needs and passes without running. With the switch on,
//! a missing need is a failure, never a skip: `scripts/test.sh` (and so CI) turns it on.
//!
//! Every acceptance test starts with
//! `if !acceptance::run(&[Need::Terraform, Need::Cloud]) { return; }`.

use std::io::Write as _;
use std::path::PathBuf;

/// The environment variable that turns the acceptance tests on.
pub const SWITCH: &str = "FLATCAR_KUBE_ACCEPTANCE";

/// What an acceptance test needs besides Rust.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The terraform CLI (`TERRAFORM`, else `PATH`).
    Terraform,
    /// The local OpenStack (Keystone, Glance, Swift, Designate): `scripts/local-cloud.sh start`.
    Cloud,
    /// The local OpenStack with Nova and Neutron: `scripts/local-cloud.sh start --compute`.
    ComputeCloud,
    /// The virtualenv of scripts/setup.d (ansible-core, kubernetes-validate, jsonschema).
    Venv,
    /// Debian's shellcheck.
    Shellcheck,
    /// Debian's ignition-validate (Ignition 2.14).
    IgnitionValidate,
    /// python3 with venv and pip.
    Python,
    /// `dig` (bind9-dnsutils), to ask the local cloud's bind9.
    Dig,
}

impl Need {
    /// What it is and how to get it, for the skip line and the failure.
    pub fn how(self) -> &'static str {
        match self {
            Need::Terraform => "terraform 1.11 on PATH (or TERRAFORM)",
            Need::Cloud => "the local cloud (`bash scripts/local-cloud.sh start`)",
            Need::ComputeCloud => {
                "the local cloud with Nova and Neutron (`bash scripts/local-cloud.sh start --compute`)"
            }
            Need::Venv => "the Ansible virtualenv (`bash scripts/setup.sh`)",
            Need::Shellcheck => "shellcheck (`bash scripts/setup.sh`)",
            Need::IgnitionValidate => "ignition-validate (`bash scripts/setup.sh`)",
            Need::Python => "python3 with venv (`bash scripts/setup.sh`)",
            Need::Dig => "dig from bind9-dnsutils (`bash scripts/setup.sh`)",
        }
    }

    /// Whether this machine has it: `Err` with what it is and how to get it when it does not.
    fn present(self) -> Result<(), String> {
        let found = match self {
            Need::Terraform => crate::terraform::find().is_some_and(|p| p.is_file()),
            Need::Cloud => crate::cloud::env_json().is_file(),
            Need::ComputeCloud => crate::cloud::LocalCloud::try_get()
                .is_some_and(|c| c.values.get("FK_COMPUTE").map(String::as_str) == Some("1")),
            Need::Venv => cache_dir()
                .join("ansible-venv/bin/ansible-playbook")
                .is_file(),
            Need::Shellcheck => on_path("shellcheck"),
            Need::IgnitionValidate => on_path("ignition-validate"),
            Need::Python => on_path("python3"),
            Need::Dig => on_path("dig"),
        };
        if found {
            Ok(())
        } else {
            Err(self.how().to_string())
        }
    }
}

/// Whether the acceptance tests are switched on.
pub fn enabled() -> bool {
    std::env::var(SWITCH).is_ok_and(|v| v == "1")
}

/// Whether the calling acceptance test should run. Switched off: one line on stderr naming
/// the test and what it needs, and `false`. Switched on: `true`, after checking that every
/// need is there (a missing one fails the test with what to start).
#[track_caller]
pub fn run(needs: &[Need]) -> bool {
    let test = std::thread::current()
        .name()
        .unwrap_or("an acceptance test")
        .to_string();
    if !enabled() {
        let what: Vec<&str> = needs.iter().map(|n| n.how()).collect();
        // Straight to the process's stderr (the test harness captures eprintln!), in one
        // write so that tests running in parallel do not interleave their lines.
        let line = format!(
            "skipped acceptance test {test}: needs {}; set {SWITCH}=1 to run it (scripts/test.sh does)\n",
            what.join(", ")
        );
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
        return false;
    }
    let missing: Vec<String> = needs.iter().filter_map(|n| n.present().err()).collect();
    assert!(
        missing.is_empty(),
        "{SWITCH}=1 but acceptance test {test} is missing {}: start it, or unset {SWITCH} to skip the acceptance tests",
        missing.join(", ")
    );
    true
}

/// The project's cache (`FLATCAR_KUBE_CACHE`, else `~/.cache/flatcar-kube`): the virtualenv,
/// the local cloud's state.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("FLATCAR_KUBE_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/flatcar-kube")
        })
}

fn on_path(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(name).is_file()))
}
