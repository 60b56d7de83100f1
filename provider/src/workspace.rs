//! Which Terraform state this provider process works for, as far as a provider can tell: the
//! root module's directory (Terraform starts providers there, also with `-chdir`), its data
//! directory (`TF_DATA_DIR`, default `.terraform`) and the selected workspace (`TF_WORKSPACE`,
//! else the data directory's `environment` file, else `default`). Its digest goes into every
//! create marker, so an apply adopts or deletes only what an interrupted apply *of the same
//! workspace* left, never another workspace's (or another root module's) objects of the same
//! name that happen to be mid-create.
//!
//! Why not an identity in private state: a create that is killed before Terraform saved
//! anything leaves no private state behind, and the next apply must recognise its leftovers,
//! so the identity has to be derivable again from the workspace itself.

use std::path::{Path, PathBuf};

/// The identity of the workspace of a provider started in `cwd` with the environment `env`.
pub fn identity(cwd: &Path, env: &dyn Fn(&str) -> Option<String>) -> String {
    let data_dir = env("TF_DATA_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(".terraform"));
    let data_dir = if data_dir.is_absolute() {
        data_dir
    } else {
        cwd.join(data_dir)
    };
    let workspace = env("TF_WORKSPACE")
        .filter(|w| !w.is_empty())
        .or_else(|| {
            std::fs::read_to_string(data_dir.join("environment"))
                .ok()
                .map(|w| w.trim().to_string())
                .filter(|w| !w.is_empty())
        })
        .unwrap_or_else(|| "default".to_string());
    let root = std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    format!("{}#{workspace}", root.display())
}

/// The identity of this process's workspace.
pub fn current() -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    identity(&cwd, &|k| std::env::var(k).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspaces_and_root_modules_differ() {
        let a = tempfile::tempdir().expect("tmp");
        let b = tempfile::tempdir().expect("tmp");
        let none = |_: &str| None;
        assert_ne!(identity(a.path(), &none), identity(b.path(), &none));
        assert!(identity(a.path(), &none).ends_with("#default"));
        std::fs::create_dir_all(a.path().join(".terraform")).expect("mkdir");
        std::fs::write(a.path().join(".terraform/environment"), "course-b").expect("env");
        assert!(identity(a.path(), &none).ends_with("#course-b"));
        let chosen = |k: &str| (k == "TF_WORKSPACE").then(|| "staging".to_string());
        assert!(identity(a.path(), &chosen).ends_with("#staging"));
        let data = |k: &str| (k == "TF_DATA_DIR").then(|| "elsewhere".to_string());
        assert!(identity(a.path(), &data).ends_with("#default"));
    }
}
