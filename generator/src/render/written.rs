//! The disk side of `generate`: writing the files with their modes (atomically, a secret never
//! wider than its mode), `--check`'s diffs, and what `generate` wrote, so that it never
//! overwrites a hand edit without a word: the SHA-256 of every generated file, kept in
//! `DIR/.flatcar-kube-written.json`. A file whose bytes are neither what was written last time
//! nor what would be written now was changed by hand; the write stops and names it (unless
//! forced). A directory without the record (made by an older `flatcar-kube`) is written as
//! before, and records from then on.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::{OutputFile, RenderError, PLAIN_MODE};

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

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> RenderError + '_ {
    move |source| RenderError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `files` under `dir` with their modes (replacing existing files atomically), and
/// records their digests ([`written`]). A file changed by hand since the last write stops it,
/// before anything is written, unless `force`.
pub fn write_files(dir: &Path, files: &[OutputFile], force: bool) -> Result<(), RenderError> {
    if let (Some(previous), false) = (load(dir), force) {
        let edited = hand_edited(dir, files, &previous);
        if !edited.is_empty() {
            return Err(HandEdited {
                dir: dir.to_path_buf(),
                files: edited,
            }
            .into());
        }
    }
    for f in files {
        let path = dir.join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        write_file(&path, f.contents.as_bytes(), f.mode)?;
    }
    let record = serde_json::to_string_pretty(&record(files)).unwrap_or_default() + "\n";
    write_file(&dir.join(WRITTEN_FILE), record.as_bytes(), PLAIN_MODE)
}

/// Writes one file with `mode`, via a temporary file so a secret never exists with a wider mode.
pub fn write_file(path: &Path, contents: &[u8], mode: u32) -> Result<(), RenderError> {
    use std::io::Write as _;
    let tmp = path.with_extension(format!(
        "{}.tmp-flatcar-kube",
        path.extension()
            .map(|e| e.to_string_lossy())
            .unwrap_or_default()
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(mode);
    }
    let mut file = options.open(&tmp).map_err(io_err(&tmp))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        // The umask may have narrowed the mode; set it exactly.
        file.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(io_err(&tmp))?;
    }
    file.write_all(contents).map_err(io_err(&tmp))?;
    file.sync_all().map_err(io_err(&tmp))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(io_err(path))
}

/// Unified diffs between `files` and what is under `dir` (a missing file diffs against empty);
/// empty when everything matches.
pub fn check_files(dir: &Path, files: &[OutputFile]) -> Result<String, RenderError> {
    let mut out = String::new();
    for f in files {
        let path = dir.join(&f.path);
        let on_disk = match std::fs::read(&path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(RenderError::Io { path, source: e }),
        };
        if on_disk != f.contents {
            let shown = f.path.display().to_string();
            let diff = similar::TextDiff::from_lines(&on_disk, &f.contents);
            let _ = write!(
                out,
                "{}",
                diff.unified_diff()
                    .context_radius(3)
                    .header(&format!("a/{shown}"), &format!("b/{shown}"))
            );
        }
    }
    Ok(out)
}
