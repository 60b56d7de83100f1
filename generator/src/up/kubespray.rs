//! The Kubespray that `up --deploy` runs: a checkout of one's own (`kubespray.path`,
//! `--kubespray`), or the profile's release tag fetched into the cache
//! (`git clone --depth 1 --branch TAG`) with a virtualenv made from that tag's own
//! `requirements.txt` (cached by the file's digest, so releases that pin the same Ansible
//! share one). Also what identifies it in the deploy record: the release and the commit.
//!
//! Cache layout (`$FLATCAR_KUBE_CACHE`, else `$XDG_CACHE_HOME/flatcar-kube`, else
//! `~/.cache/flatcar-kube`):
//! - `kubespray/<tag>/`: the checkout; `.venv` in it links to its virtualenv;
//! - `kubespray-venvs/<digest>/`: a virtualenv, usable once it holds `READY_MARK`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::exec::{capture, progress, run};
use super::UpError;

/// A virtualenv is complete (pip finished) when it holds this file.
pub const READY_MARK: &str = ".flatcar-kube-ready";

/// The checkout `up` runs playbooks from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubesprayCheckout {
    pub dir: PathBuf,
    /// The profile's `kubespray.version` (a release tag, or `master` for a checkout of one's own).
    pub release: String,
    /// `git rev-parse HEAD` of the checkout; None when it is not a git repository.
    pub commit: Option<String>,
    /// The virtualenv's `ansible-playbook`, when `up` made the virtualenv.
    pub ansible_playbook: Option<PathBuf>,
}

/// Where `up` caches what it fetches.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("FLATCAR_KUBE_CACHE").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("flatcar-kube");
    }
    PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/flatcar-kube")
}

/// A checkout of one's own, as it is.
pub fn existing(dir: &Path, release: &str, log: &mut dyn Write) -> KubesprayCheckout {
    KubesprayCheckout {
        dir: dir.to_path_buf(),
        release: release.to_string(),
        commit: head_commit(dir, log),
        ansible_playbook: None,
    }
}

/// The release `tag` from `repository`, fetched into `cache` unless it is there, with its
/// virtualenv.
pub fn fetch_release(
    tag: &str,
    repository: &str,
    cache: &Path,
    log: &mut dyn Write,
) -> Result<KubesprayCheckout, UpError> {
    let dir = cache.join("kubespray").join(tag);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| crate::render::RenderError::Io { path, source }
    };
    if dir.join("cluster.yml").is_file() {
        progress(
            log,
            &format!("Kubespray {tag}: using the copy in {}", dir.display()),
        );
    } else {
        let parent = cache.join("kubespray");
        std::fs::create_dir_all(&parent).map_err(io(&parent))?;
        // Cloned beside and renamed: a killed clone never looks like a checkout.
        let partial = parent.join(format!(".{tag}.partial"));
        if partial.exists() {
            std::fs::remove_dir_all(&partial).map_err(io(&partial))?;
        }
        progress(
            log,
            &format!(
                "Kubespray {tag}: fetching it from {repository} into {}",
                dir.display()
            ),
        );
        let mut clone = Command::new("git");
        clone
            .args([
                "-c",
                "advice.detachedHead=false",
                "clone",
                "--quiet",
                "--depth",
                "1",
                "--branch",
                tag,
                repository,
            ])
            .arg(&partial);
        run(log, clone)?;
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
        }
        std::fs::rename(&partial, &dir).map_err(io(&dir))?;
    }
    let venv = virtualenv(&dir, tag, cache, log)?;
    // deploy.sh run by hand finds the same Ansible through this link.
    let link = dir.join(".venv");
    if std::fs::read_link(&link).ok().as_deref() != Some(venv.as_path()) {
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&venv, &link).map_err(io(&link))?;
    }
    Ok(KubesprayCheckout {
        commit: head_commit(&dir, log),
        ansible_playbook: Some(venv.join("bin/ansible-playbook")),
        dir,
        release: tag.to_string(),
    })
}

/// The virtualenv for the checkout's `requirements.txt`: reused when one with the same digest
/// is complete, else made with `python3 -m venv` and `pip install -r`.
fn virtualenv(
    checkout: &Path,
    tag: &str,
    cache: &Path,
    log: &mut dyn Write,
) -> Result<PathBuf, UpError> {
    let requirements = checkout.join("requirements.txt");
    let bytes = std::fs::read(&requirements).map_err(|source| crate::render::RenderError::Io {
        path: requirements.clone(),
        source,
    })?;
    let digest = crate::render::written::digest(&bytes);
    let venv = cache.join("kubespray-venvs").join(&digest[..16]);
    if venv.join(READY_MARK).is_file() {
        progress(
            log,
            &format!(
                "Kubespray {tag}: using the virtualenv {} (same requirements.txt)",
                venv.display()
            ),
        );
        return Ok(venv);
    }
    if venv.exists() {
        // An interrupted pip: start over.
        std::fs::remove_dir_all(&venv).map_err(|source| crate::render::RenderError::Io {
            path: venv.clone(),
            source,
        })?;
    }
    progress(
        log,
        &format!(
            "Kubespray {tag}: making a virtualenv from its requirements.txt in {} (pip install; takes a minute or two)",
            venv.display()
        ),
    );
    let mut create = Command::new("python3");
    create.args(["-m", "venv"]).arg(&venv);
    run(log, create)?;
    let mut install = Command::new(venv.join("bin/python"));
    install
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(&requirements)
        .current_dir(checkout);
    run(log, install)?;
    let mark = venv.join(READY_MARK);
    std::fs::write(&mark, format!("{tag}\n"))
        .map_err(|source| crate::render::RenderError::Io { path: mark, source })?;
    Ok(venv)
}

/// `git rev-parse HEAD`, or None when `dir` is not a git checkout (or git is missing).
fn head_commit(dir: &Path, log: &mut dyn Write) -> Option<String> {
    if !dir.join(".git").exists() {
        return None;
    }
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(dir).args(["rev-parse", "HEAD"]);
    capture(log, cmd)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}
