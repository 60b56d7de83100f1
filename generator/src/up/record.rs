//! What `up --deploy` deployed, kept in `DIR/deployed.json` so the next run knows the
//! difference: the machines Kubespray set up, the Kubernetes version it installed (resolved:
//! Kubespray's default when the profile names none), the Kubespray release and commit that
//! installed it, and whether the reboot coordinator is in. Also the rules on moves: Kubernetes
//! one minor at a time and never down; Kubespray one release at a time
//! (docs/operations/upgrades.md, "Multiple upgrades").

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The file name inside the output directory.
pub const RECORD_FILE: &str = "deployed.json";

/// What Kubespray has set up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployed {
    /// Machines that are members of the cluster (by inventory name).
    pub nodes: BTreeSet<String>,
    /// The Kubernetes version of the last deploy or upgrade (the profile's, or the default of
    /// the Kubespray that ran); None in records of older `flatcar-kube` versions.
    pub kubernetes_version: Option<String>,
    /// The Kubespray that deployed it; None in records of older `flatcar-kube` versions.
    #[serde(default)]
    pub kubespray: Option<KubesprayRecord>,
    /// SHA-256 of the reboot coordinator's manifest last applied (None: not installed); a new
    /// reboot window changes it, and the next `up --deploy` applies it again.
    #[serde(default)]
    pub coordinator: Option<String>,
    /// Whether the last cluster-wide Kubespray run had `helm_enabled` (the apps' play uses
    /// Kubespray's helm).
    #[serde(default)]
    pub helm: bool,
    /// SHA-256 of the apps' values and play last installed (None: no apps installed); a
    /// change of the values installs them again (`helm upgrade`).
    #[serde(default)]
    pub apps: Option<String>,
}

/// Which Kubespray ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KubesprayRecord {
    /// The release (`v2.31.0`), or `master` for a checkout of one's own.
    pub release: String,
    /// The checkout's commit, when it is a git repository.
    pub commit: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("{path}: cannot read ({source}); it records what Kubespray deployed: restore it, or delete it to run cluster.yml on every machine again")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a deploy record ({source}); delete it to run cluster.yml on every machine again")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path}: cannot write ({source})")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Deployed {
    /// The record in `output`, or None before the first deploy.
    pub fn load(output: &Path) -> Result<Option<Deployed>, RecordError> {
        let path = output.join(RECORD_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|source| RecordError::Parse { path, source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(RecordError::Read { path, source }),
        }
    }

    /// Removes the record (after `up --destroy`: the next deploy is a first deploy).
    pub fn remove(output: &Path) -> Result<bool, RecordError> {
        let path = output.join(RECORD_FILE);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(RecordError::Write { path, source }),
        }
    }

    /// Writes the record (through a temporary file, so a crash leaves the old one).
    pub fn save(&self, output: &Path) -> Result<(), RecordError> {
        let path = output.join(RECORD_FILE);
        let tmp = output.join(format!(".{RECORD_FILE}.tmp"));
        let text = serde_json::to_string_pretty(self).unwrap_or_default() + "\n";
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|source| RecordError::Write { path, source })
    }
}

/// How the profile's Kubernetes version moved since the last deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionMove {
    Same,
    /// A patch release or the next minor: `upgrade-cluster.yml`.
    Upgrade {
        from: String,
        to: String,
    },
}

/// Kubespray is upgraded one release at a time, running `upgrade-cluster.yml` with each
/// (docs/operations/upgrades.md, "Multiple upgrades": "Do not skip minor releases ... upgrade by
/// one tag at a time"); a checkout whose commit moved runs it too.
pub fn kubespray_move(
    deployed: Option<&KubesprayRecord>,
    now: &KubesprayRecord,
) -> Result<bool, String> {
    let Some(before) = deployed else {
        return Ok(false);
    };
    if before.release == now.release {
        return Ok(matches!((&before.commit, &now.commit), (Some(a), Some(b)) if a != b));
    }
    use crate::profile::kubespray::minor_of;
    if let (Some(from), Some(to)) = (minor_of(&before.release), minor_of(&now.release)) {
        if to < from {
            return Err(format!(
                "kubespray.version {} is older than {}, which deployed this cluster: Kubespray does not downgrade; put back {} (or the next release)",
                now.release, before.release, before.release
            ));
        }
        if to > from + 1 {
            return Err(format!(
                "kubespray.version {} skips a release: the cluster was deployed by {}, and Kubespray upgrades one release at a time (docs/operations/upgrades.md, \"Multiple upgrades\"); set v2.{}.x first, run `flatcar-kube up --deploy`, then {}",
                now.release, before.release, from + 1, now.release
            ));
        }
    }
    Ok(true)
}

/// Kubernetes supports upgrading one minor version at a time and never downgrading.
pub fn version_move(deployed: Option<&str>, wanted: Option<&str>) -> Result<VersionMove, String> {
    let (from, to) = match (deployed, wanted) {
        (a, b) if a == b => return Ok(VersionMove::Same),
        (Some(from), Some(to)) => (from, to),
        (None, Some(to)) => {
            return Ok(VersionMove::Upgrade {
                from: "Kubespray's default".to_string(),
                to: to.to_string(),
            })
        }
        (Some(from), None) => {
            return Err(format!(
                "kubernetes.version was removed from the profile, but the cluster runs {from}: write `version: {from}` (or the next minor) under `kubernetes:`"
            ))
        }
        (None, None) => return Ok(VersionMove::Same),
    };
    let parse = |v: &str| -> Option<(u64, u64, u64)> {
        let mut parts = v.trim_start_matches('v').split('.').map(str::parse::<u64>);
        Some((
            parts.next()?.ok()?,
            parts.next()?.ok()?,
            parts.next()?.ok()?,
        ))
    };
    let (Some(a), Some(b)) = (parse(from), parse(to)) else {
        return Err(format!(
            "cannot compare Kubernetes versions `{from}` and `{to}`: write versions like 1.32.5"
        ));
    };
    if b == a {
        return Ok(VersionMove::Same);
    }
    if b < a {
        return Err(format!(
            "kubernetes.version {to} is older than the deployed {from}: Kubernetes cannot be downgraded; put back {from} (or a newer version)"
        ));
    }
    if b.0 != a.0 || b.1 > a.1 + 1 {
        return Err(format!(
            "kubernetes.version {to} skips a minor version: the cluster runs {from}, and Kubernetes upgrades one minor at a time; set {}.{}.x first, run `flatcar-kube up --deploy`, then {to}",
            a.0,
            a.1 + 1
        ));
    }
    Ok(VersionMove::Upgrade {
        from: from.to_string(),
        to: to.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_minor_or_a_patch_is_an_upgrade() {
        assert_eq!(
            version_move(Some("1.32.5"), Some("1.33.1")),
            Ok(VersionMove::Upgrade {
                from: "1.32.5".into(),
                to: "1.33.1".into()
            })
        );
        assert!(matches!(
            version_move(Some("v1.32.5"), Some("1.32.7")),
            Ok(VersionMove::Upgrade { .. })
        ));
        assert_eq!(
            version_move(Some("1.32.5"), Some("v1.32.5")),
            Ok(VersionMove::Same)
        );
        assert_eq!(version_move(None, None), Ok(VersionMove::Same));
    }

    #[test]
    fn skipping_a_minor_or_going_down_is_refused() {
        let skip = version_move(Some("1.31.4"), Some("1.33.0")).unwrap_err();
        assert!(
            skip.contains("skips a minor") && skip.contains("1.32.x"),
            "{skip}"
        );
        let down = version_move(Some("1.32.5"), Some("1.31.9")).unwrap_err();
        assert!(down.contains("cannot be downgraded"), "{down}");
        assert!(version_move(Some("1.32.5"), None).is_err());
    }

    #[test]
    fn the_record_round_trips() {
        let dir = tempfile::tempdir().expect("tmp");
        assert_eq!(Deployed::load(dir.path()).expect("load"), None);
        let record = Deployed {
            nodes: ["a".to_string(), "b".to_string()].into(),
            kubernetes_version: Some("1.32.5".into()),
            kubespray: Some(KubesprayRecord {
                release: "v2.31.0".into(),
                commit: Some("abc".into()),
            }),
            coordinator: Some("ab12".into()),
            helm: true,
            apps: Some("cd34".into()),
        };
        record.save(dir.path()).expect("save");
        assert_eq!(Deployed::load(dir.path()).expect("load"), Some(record));
        assert!(Deployed::remove(dir.path()).expect("remove"));
        assert_eq!(Deployed::load(dir.path()).expect("load"), None);
        assert!(!Deployed::remove(dir.path()).expect("remove twice"));
        std::fs::write(dir.path().join(RECORD_FILE), "{").expect("write");
        let err = Deployed::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("delete it"), "{err}");
    }

    #[test]
    fn kubespray_moves_one_release_at_a_time() {
        let rec = |release: &str, commit: Option<&str>| KubesprayRecord {
            release: release.into(),
            commit: commit.map(String::from),
        };
        assert_eq!(kubespray_move(None, &rec("v2.31.0", None)), Ok(false));
        let same = rec("v2.31.0", Some("a"));
        assert_eq!(kubespray_move(Some(&same), &same), Ok(false));
        assert_eq!(
            kubespray_move(Some(&same), &rec("v2.31.0", Some("b"))),
            Ok(true)
        );
        assert_eq!(
            kubespray_move(Some(&rec("v2.30.0", None)), &rec("v2.31.0", None)),
            Ok(true)
        );
        let skip = kubespray_move(Some(&rec("v2.29.1", None)), &rec("v2.31.0", None)).unwrap_err();
        assert!(skip.contains("set v2.30.x first"), "{skip}");
        let down = kubespray_move(Some(&rec("v2.31.0", None)), &rec("v2.30.0", None)).unwrap_err();
        assert!(down.contains("does not downgrade"), "{down}");
    }
}
