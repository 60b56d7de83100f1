//! The reboot coordinator the generator installs for `updates.coordinator: kured`: the values
//! of `coordinator/kured.yaml` (kured's image, name and command line from the profile's reboot
//! window) and of `coordinator/install.yml` (the playbook that applies it after Kubespray's
//! deploy), and where that playbook is for `up`. kured's flags and their meaning come from
//! kubereboot/kured at the release of [`KURED_IMAGE`]; the templates hold the manifests.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::profile::{Coordinator, LoadedProfile, RebootWindow};

/// kured's newest release (1.23.0, tagged 2026-06-30), pinned: a tag that moves would change
/// the cluster under a profile that did not.
pub const KURED_IMAGE: &str = "ghcr.io/kubereboot/kured:1.23.0";

/// Where the coordinator's files go, relative to the output directory.
pub const DIR: &str = "coordinator";
/// The manifest's file name in [`DIR`].
pub const MANIFEST: &str = "kured.yaml";
/// The playbook's file name in [`DIR`].
pub const PLAYBOOK: &str = "install.yml";

/// Name of every kured object; the DaemonSet's name is also the lock's (`--ds-name`, and the
/// Role that lets kured update only that DaemonSet).
const NAME: &str = "kured";
const NAMESPACE: &str = "kube-system";

/// Whether a Flatcar node waits for a reboot, as a command on the host. kured splits it like
/// a shell (google/shlex) and executes `nsenter -m/proc/1/ns/mnt -- ARGS`: the host's files,
/// but no shell, so the pipe needs its own `sh -c`. Exit 0 means reboot, 1 means no (any other
/// code is logged and means no). update_engine reports
/// `CURRENT_OP=UPDATE_STATUS_UPDATED_NEED_REBOOT` once an update is on the other partition and
/// goes back to idle after the reboot, so a node reboots once per update. (Flatcar's postinst
/// also touches /run/reboot-required, kured's default file; asking update_engine needs no
/// hostPath mount and reads the engine's own state.)
pub const SENTINEL_COMMAND: &str = "/bin/sh -c \"/usr/bin/update_engine_client -status | /usr/bin/grep -q UPDATE_STATUS_UPDATED_NEED_REBOOT\"";

/// How often kured tries to take the lock while a reboot waits and the window is open: a
/// node takes about ten minutes (drain, reboot, uncordon), so a window of a few hours gets
/// through a dozen nodes. (The sentinel also runs every minute for kured's metric.)
const PERIOD: &str = "10m";
/// A drain that has not finished after this is given up (the node is uncordoned, the lock
/// released) and tried again later: a PodDisruptionBudget can hold a reboot back, not the cluster.
const DRAIN_TIMEOUT: &str = "15m";
/// A lock older than this is free again, so a node that dies holding it does not stop the
/// others for good. It must outlast a drain (at most [`DRAIN_TIMEOUT`]) and a reboot: a node
/// that comes back after its lock expired stays cordoned (kured uncordons only while it holds
/// the lock) until `kubectl uncordon`.
const LOCK_TTL: &str = "1h";

/// Kubespray's kubectl and admin kubeconfig on the control plane (`bin_dir` on Flatcar).
const KUBECTL: &str = "/opt/bin/kubectl";
const KUBECONFIG: &str = "/etc/kubernetes/admin.conf";
/// Where the playbook puts the manifest on that machine.
const REMOTE_DIR: &str = "/etc/kubernetes/flatcar-kube";
/// The Python of Kubespray's Flatcar bootstrap.
const PYTHON: &str = "/opt/bin/python";

/// kured's command line for `window`, leaving alone nodes where a pod matches one of
/// `blocking_selectors` (kured 1.23.0 `--blocking-pod-selector`, repeatable: it lists the
/// node's running pods by each label selector, in every namespace, before taking the lock).
pub fn kured_args(window: &RebootWindow, blocking_selectors: &[String]) -> Vec<String> {
    let days: Vec<&str> = window.days.iter().map(|d| d.as_str()).collect();
    let mut args = vec![
        format!("--ds-namespace={NAMESPACE}"),
        format!("--ds-name={NAME}"),
        format!("--period={PERIOD}"),
        format!("--drain-timeout={DRAIN_TIMEOUT}"),
        format!("--lock-ttl={LOCK_TTL}"),
        format!("--start-time={}", window.start),
        format!("--end-time={}", window.end),
        format!("--reboot-days={}", days.join(",")),
        format!("--time-zone={}", window.time_zone),
        format!("--reboot-sentinel-command={SENTINEL_COMMAND}"),
    ];
    args.extend(
        blocking_selectors
            .iter()
            .map(|s| format!("--blocking-pod-selector={s}")),
    );
    args
}

/// Whether the profile installs a coordinator (and so whether [`DIR`] is generated).
pub fn enabled(loaded: &LoadedProfile) -> bool {
    loaded.profile.updates.coordinator == Coordinator::Kured
}

/// The playbook that installs the coordinator into the cluster generated into `output_dir`,
/// to run after Kubespray's `cluster.yml` as
/// `ansible-playbook -i OUTPUT_DIR/inventory/hosts.yaml PLAYBOOK` from the Kubespray checkout;
/// `None` when the profile has no coordinator.
pub fn playbook(loaded: &LoadedProfile, output_dir: &Path) -> Option<PathBuf> {
    enabled(loaded).then(|| output_dir.join(DIR).join(PLAYBOOK))
}

/// The templates' `coordinator` value.
pub fn context(loaded: &LoadedProfile) -> Value {
    let window = &loaded.profile.updates.reboot_window;
    let days: Vec<&str> = window.days.iter().map(|d| d.as_str()).collect();
    let jinja = |var: &str| format!("{{{{ {var} }}}}");
    json!({
        "name": NAME,
        "namespace": NAMESPACE,
        "daemonset": format!("daemonset/{NAME}"),
        "image": KURED_IMAGE,
        "version": KURED_IMAGE.rsplit(':').next().unwrap_or(KURED_IMAGE),
        "args": kured_args(window, &super::apps::blocking_pod_selectors(&loaded.profile)),
        "window": format!(
            "{} to {} {}, {}",
            window.start,
            window.end,
            window.time_zone,
            days.join(" ")
        ),
        "manifest": MANIFEST,
        "python": PYTHON,
        "kubectl": KUBECTL,
        "kubeconfig": KUBECONFIG,
        "remote_dir": REMOTE_DIR,
        // The play's variables as its tasks read them.
        "jinja": {
            "kubectl": jinja("kured_kubectl"),
            "kubeconfig": jinja("kured_kubeconfig"),
            "remote_dir": jinja("kured_manifest_dir"),
            "remote_manifest": format!("{}/{MANIFEST}", jinja("kured_manifest_dir")),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Weekday;

    #[test]
    fn the_window_becomes_kureds_flags() {
        let window = RebootWindow {
            start: "22:30".into(),
            end: "04:00".into(),
            days: vec![Weekday::Sat, Weekday::Sun],
            time_zone: "Europe/Berlin".into(),
        };
        let args = kured_args(&window, &[]);
        for flag in [
            "--start-time=22:30",
            "--end-time=04:00",
            "--reboot-days=sat,sun",
            "--time-zone=Europe/Berlin",
            "--lock-ttl=1h",
        ] {
            assert!(args.iter().any(|a| a == flag), "{flag} in {args:?}");
        }
    }

    #[test]
    fn the_image_is_pinned() {
        let tag = KURED_IMAGE.rsplit_once(':').map(|(_, t)| t);
        assert!(
            tag.is_some_and(|t| t != "latest" && t.split('.').count() == 3),
            "{KURED_IMAGE}"
        );
    }
}
