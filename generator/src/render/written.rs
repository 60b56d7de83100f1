//! What `generate` wrote, so that it never overwrites a hand edit without a word: the SHA-256
//! of every generated file, kept in `DIR/.flatcar-kube-written.json`. A file whose bytes are
//! neither what was written last time nor what would be written now was changed by hand; the
//! write stops and names it (unless forced). A directory without the record (made by an older
//! `flatcar-kube`) is written as before, and records from then on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::OutputFile;

/// The record's file name inside the output directory.
pub const WRITTEN_FILE: &str = ".flatcar-kube-written.json";

/// Generated files that changed since `generate` wrote them.
#[derive(Debug, thiserror::Error)]
#[error("{} changed since `flatcar-kube generate` wrote {}: {}. Nothing was written. Move the change into the profile (`kubespray.extra_vars` for Kubespray variables, `flatcar.butane_file` for the machines' configuration, the pools and keys for the rest) and run again, or run again with --force to overwrite {}.", dir.display(), if files.len() == 1 { "it" } else { "them" }, files.join(", "), if files.len() == 1 { "it" } else { "them" })]
pub struct HandEdited {
    pub dir: PathBuf,
    pub files: Vec<String>,
}

/// Digests by path (relative to the output directory, `/`-separated).
pub type Written = BTreeMap<String, String>;

pub fn digest(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// The record of `dir`, or None when there is none (or it is unreadable: then nothing is
/// known, as before the record existed).
pub fn load(dir: &Path) -> Option<Written> {
    let text = std::fs::read_to_string(dir.join(WRITTEN_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

/// The record after writing `files`.
pub fn record(files: &[OutputFile]) -> Written {
    files
        .iter()
        .map(|f| (key(&f.path), digest(f.contents.as_bytes())))
        .collect()
}

fn key(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// Files under `dir` that `files` would overwrite although they were changed by hand since the
/// last write recorded in `written`.
pub fn hand_edited(dir: &Path, files: &[OutputFile], written: &Written) -> Vec<String> {
    let mut edited = Vec::new();
    for f in files {
        let Ok(on_disk) = std::fs::read(dir.join(&f.path)) else {
            continue; // missing: nothing to lose
        };
        let now = digest(&on_disk);
        if now == digest(f.contents.as_bytes()) {
            continue;
        }
        if written.get(&key(&f.path)) != Some(&now) {
            edited.push(key(&f.path));
        }
    }
    edited
}
