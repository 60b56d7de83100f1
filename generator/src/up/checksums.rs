//! The Kubernetes versions a Kubespray checkout can install, read from its own files: the keys
//! of `kubelet_checksums.<arch>` (Kubespray downloads kubelet by checksum, so a version without
//! one fails mid-deploy), and the version it installs when the profile names none (its
//! `kube_version` default: a literal up to v2.27, the first checksum entry from v2.28 on).
//! Both layouts are read: `roles/kubespray_defaults/vars/main/` (v2.28 and later) and
//! `roles/kubespray-defaults/defaults/main/` (earlier).

use std::fmt;
use std::path::{Path, PathBuf};

use crate::profile::yaml;
use flatcar_yaml::Value;

/// Where releases keep the checksums, newest layout first.
pub const CHECKSUMS_FILES: &[&str] = &[
    "roles/kubespray_defaults/vars/main/checksums.yml",
    "roles/kubespray-defaults/defaults/main/checksums.yml",
];

/// Where releases keep `kube_version`'s default, newest layout first.
const DEFAULTS_FILES: &[&str] = &[
    "roles/kubespray_defaults/defaults/main/main.yml",
    "roles/kubespray-defaults/defaults/main/main.yml",
];

/// A Kubernetes version `major.minor.patch` (written with or without `v`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KubeVersion(pub u64, pub u64, pub u64);

impl KubeVersion {
    pub fn parse(text: &str) -> Option<KubeVersion> {
        let bare = text.trim().strip_prefix('v').unwrap_or(text.trim());
        let mut parts = bare.split('.').map(|p| {
            (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse::<u64>().ok())
                .flatten()
        });
        let version = KubeVersion(parts.next()??, parts.next()??, parts.next()??);
        parts.next().is_none().then_some(version)
    }
}

impl fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// What one Kubespray checkout can install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportedVersions {
    /// The checksums file read (inside the checkout).
    pub file: PathBuf,
    pub arch: String,
    /// Versions with a kubelet checksum, newest first.
    pub versions: Vec<KubeVersion>,
    /// What Kubespray installs when `kube_version` is not set.
    pub default: KubeVersion,
}

#[derive(Debug, thiserror::Error)]
pub enum ChecksumsError {
    #[error("{checkout}: no Kubespray checksums file ({}); is this a Kubespray checkout?", CHECKSUMS_FILES.join(" or "))]
    Missing { checkout: PathBuf },
    #[error("{file}: cannot read ({source})")]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: {message}")]
    Shape { file: PathBuf, message: String },
}

impl SupportedVersions {
    /// Reads the checkout's checksums (and `kube_version` default) for `arch` (`amd64`, `arm64`).
    pub fn read(checkout: &Path, arch: &str) -> Result<SupportedVersions, ChecksumsError> {
        let file = CHECKSUMS_FILES
            .iter()
            .map(|f| checkout.join(f))
            .find(|f| f.is_file())
            .ok_or_else(|| ChecksumsError::Missing {
                checkout: checkout.to_path_buf(),
            })?;
        let shape = |message: String| ChecksumsError::Shape {
            file: file.clone(),
            message,
        };
        let root = parse_file(&file)?;
        let Some(node) = root.get(&["kubelet_checksums", arch]) else {
            return Err(shape(format!("no `kubelet_checksums.{arch}`")));
        };
        let Value::Map(entries) = &node.value else {
            return Err(shape(format!(
                "`kubelet_checksums.{arch}` is not a mapping"
            )));
        };
        // Old releases list every version under every arch, with 0 where there is no binary.
        let versions: Vec<KubeVersion> = entries
            .iter()
            .filter(|e| e.value.scalar().is_some_and(|s| s.trim() != "0"))
            .filter_map(|e| KubeVersion::parse(&e.key))
            .collect();
        let Some(first) = versions.first().copied() else {
            return Err(shape(format!(
                "`kubelet_checksums.{arch}` lists no version with a checksum"
            )));
        };
        let default = literal_default(checkout)?.unwrap_or(first);
        let mut sorted = versions;
        sorted.sort_by(|a, b| b.cmp(a));
        sorted.dedup();
        Ok(SupportedVersions {
            file,
            arch: arch.to_string(),
            versions: sorted,
            default,
        })
    }

    pub fn contains(&self, version: KubeVersion) -> bool {
        self.versions.contains(&version)
    }

    /// "1.33.0 to 1.35.4".
    pub fn range(&self) -> String {
        match (self.versions.last(), self.versions.first()) {
            (Some(low), Some(high)) => format!("{low} to {high}"),
            _ => "none".to_string(),
        }
    }

    /// The newest patch of `minor` (`1.34`) this checkout has, if any.
    pub fn newest_of_minor(&self, major: u64, minor: u64) -> Option<KubeVersion> {
        self.versions
            .iter()
            .find(|v| v.0 == major && v.1 == minor)
            .copied()
    }
}

/// `kube_version: v1.28.6` in the defaults (releases up to v2.27); None where it is a template.
/// Only the top-level line is read: the defaults file is long and mostly Jinja.
fn literal_default(checkout: &Path) -> Result<Option<KubeVersion>, ChecksumsError> {
    let Some(file) = DEFAULTS_FILES
        .iter()
        .map(|f| checkout.join(f))
        .find(|f| f.is_file())
    else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&file).map_err(|source| ChecksumsError::Read {
        file: file.clone(),
        source,
    })?;
    Ok(text
        .lines()
        .find_map(|line| line.strip_prefix("kube_version:"))
        .map(|v| v.trim().trim_matches(|c| c == '"' || c == '\''))
        .and_then(KubeVersion::parse))
}

fn parse_file(file: &Path) -> Result<yaml::Node, ChecksumsError> {
    let text = std::fs::read_to_string(file).map_err(|source| ChecksumsError::Read {
        file: file.to_path_buf(),
        source,
    })?;
    yaml::parse(&text).map_err(|e| ChecksumsError::Shape {
        file: file.to_path_buf(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_with_or_without_v() {
        assert_eq!(KubeVersion::parse("v1.29.1"), Some(KubeVersion(1, 29, 1)));
        assert_eq!(KubeVersion::parse("1.35.4"), Some(KubeVersion(1, 35, 4)));
        for bad in ["1.35", "1.35.4.1", "1.x.0", "", "v", "1..2"] {
            assert_eq!(KubeVersion::parse(bad), None, "{bad}");
        }
        assert!(KubeVersion(1, 35, 0) > KubeVersion(1, 34, 9));
    }

    fn tree(release: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata/generator/kubespray")
            .join(release)
    }

    #[test]
    fn the_v2_28_and_later_layout_defaults_to_the_first_entry() {
        let s = SupportedVersions::read(&tree("v2.31"), "amd64").expect("v2.31 tree");
        assert!(s
            .file
            .ends_with("roles/kubespray_defaults/vars/main/checksums.yml"));
        assert_eq!(s.default, KubeVersion(1, 35, 4));
        assert_eq!(s.range(), "1.33.0 to 1.35.4");
        assert!(s.contains(KubeVersion(1, 34, 3)));
        assert!(!s.contains(KubeVersion(1, 32, 5)) && !s.contains(KubeVersion(1, 99, 0)));
        assert_eq!(s.newest_of_minor(1, 34), Some(KubeVersion(1, 34, 7)));
        let arm = SupportedVersions::read(&tree("v2.31"), "arm64").expect("arm64");
        assert_eq!(arm.range(), "1.35.0 to 1.35.4");
    }

    #[test]
    fn the_older_layout_has_v_keys_zeros_and_a_literal_default() {
        let s = SupportedVersions::read(&tree("v2.27"), "amd64").expect("v2.27 tree");
        assert!(s
            .file
            .ends_with("roles/kubespray-defaults/defaults/main/checksums.yml"));
        assert_eq!(s.default, KubeVersion(1, 30, 8));
        assert_eq!(s.range(), "1.29.0 to 1.31.4");
        // `0` marks a version without an arm64 binary.
        let arm = SupportedVersions::read(&tree("v2.27"), "arm64").expect("arm64");
        assert_eq!(arm.range(), "1.31.0 to 1.31.4");
    }

    #[test]
    fn a_directory_that_is_not_kubespray_says_so() {
        let tmp = tempfile::tempdir().expect("tmp");
        let err = SupportedVersions::read(tmp.path(), "amd64")
            .unwrap_err()
            .to_string();
        assert!(err.contains("is this a Kubespray checkout?"), "{err}");
    }
}
