//! Hands Terraform our provider when it is installed beside `flatcar-kube` (or on `PATH`) and
//! the user's Terraform set-up does not already provide it: the binary is copied into a
//! filesystem mirror under `DIR/terraform/.provider-mirror/` (Terraform's "unpacked" layout) and
//! a CLI configuration naming that mirror for our provider only (`direct` for every other) is
//! passed as `TF_CLI_CONFIG_FILE`, which `terraform` and `tofu` both read. So one
//! `cargo install` of both binaries is the whole install.

use std::path::{Path, PathBuf};

use flatcar_cloud::PROVIDER_SOURCE;

/// The provider's binary name.
pub const PROVIDER_BINARY: &str = "terraform-provider-flatcar";

/// The CLI configuration `up` writes, inside `DIR/terraform`.
pub const CLI_CONFIG_FILE: &str = "provider-mirror.tfrc";

/// The version the mirror offers: the provider is released with the generator.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Why `up` leaves provider installation alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provided {
    /// `TF_CLI_CONFIG_FILE`, `~/.terraformrc` or `~/.tofurc` decides (it may name a mirror).
    ByCliConfig(PathBuf),
    /// Terraform's implied local mirror holds it (`~/.terraform.d/plugins/...`).
    ByImpliedMirror(PathBuf),
}

/// How the user's own Terraform set-up provides our provider, if it does.
pub fn provided_by_user(env: &dyn Fn(&str) -> Option<String>) -> Option<Provided> {
    // A CLI configuration that does not exist configures nothing (Terraform ignores it).
    if let Some(file) = env("TF_CLI_CONFIG_FILE").filter(|f| Path::new(f).is_file()) {
        return Some(Provided::ByCliConfig(PathBuf::from(file)));
    }
    let home = PathBuf::from(env("HOME")?);
    for rc in [".terraformrc", "terraform.rc", ".tofurc"] {
        if home.join(rc).is_file() {
            return Some(Provided::ByCliConfig(home.join(rc)));
        }
    }
    let implied = home.join(".terraform.d/plugins").join(PROVIDER_SOURCE);
    implied
        .is_dir()
        .then_some(Provided::ByImpliedMirror(implied))
}

/// `terraform-provider-flatcar` beside `flatcar_kube` (the running binary), else on `PATH`.
pub fn find_provider(flatcar_kube: Option<&Path>, path: Option<&str>) -> Option<PathBuf> {
    let beside = flatcar_kube
        .and_then(Path::parent)
        .map(|dir| dir.join(PROVIDER_BINARY))
        .filter(|p| p.is_file());
    beside.or_else(|| {
        std::env::split_paths(path?)
            .map(|dir| dir.join(PROVIDER_BINARY))
            .find(|p| p.is_file())
    })
}

/// Terraform's name for this platform (`linux_amd64`).
fn platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    format!("{}_{arch}", std::env::consts::OS)
}

/// Copies `provider` into the mirror under `terraform_dir` (unless the copy there is the same)
/// and writes the CLI configuration; returns its path for `TF_CLI_CONFIG_FILE`.
pub fn install(provider: &Path, terraform_dir: &Path) -> std::io::Result<PathBuf> {
    let mirror = terraform_dir.join(".provider-mirror");
    let package = mirror.join(PROVIDER_SOURCE).join(VERSION).join(platform());
    std::fs::create_dir_all(&package)?;
    let target = package.join(format!("{PROVIDER_BINARY}_v{VERSION}"));
    if !same_file(provider, &target) {
        // A hard link where it can be (no copy of a large binary on every run), else a copy;
        // placed beside and renamed, so Terraform never sees half a binary.
        let partial = package.join(format!(".{PROVIDER_BINARY}.partial"));
        let _ = std::fs::remove_file(&partial);
        if std::fs::hard_link(provider, &partial).is_err() {
            std::fs::copy(provider, &partial)?;
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o755))?;
        }
        std::fs::rename(&partial, &target)?;
    }
    let mirror = std::path::absolute(&mirror)?;
    let config = terraform_dir.join(CLI_CONFIG_FILE);
    let text = format!(
        "# Written by `flatcar-kube up`: the provider installed beside flatcar-kube ({}),\n\
         # from this directory's filesystem mirror; every other provider as usual.\n\
         provider_installation {{\n  filesystem_mirror {{\n    path    = {}\n    include = [\"{PROVIDER_SOURCE}\"]\n  }}\n  direct {{\n    exclude = [\"{PROVIDER_SOURCE}\"]\n  }}\n}}\n",
        provider.display(),
        serde_json::Value::String(mirror.display().to_string()),
    );
    std::fs::write(&config, text)?;
    std::path::absolute(config)
}

/// Whether `b` is `a` (a hard link) or holds the same bytes.
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(ma), Ok(mb)) if ma.dev() == mb.dev() && ma.ino() == mb.ino() => true,
        (Ok(ma), Ok(mb)) if ma.len() == mb.len() => {
            matches!((std::fs::read(a), std::fs::read(b)), (Ok(x), Ok(y)) if x == y)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cli_config_or_the_implied_mirror_means_the_user_provides_it() {
        let home = tempfile::tempdir().expect("tmp");
        let h = home.path().display().to_string();
        let env = |vars: Vec<(&'static str, String)>| {
            move |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
        };
        assert_eq!(provided_by_user(&env(vec![("HOME", h.clone())])), None);
        assert_eq!(
            provided_by_user(&env(vec![
                ("HOME", h.clone()),
                ("TF_CLI_CONFIG_FILE", "/nonexistent/x.rc".into())
            ])),
            None,
            "a CLI configuration that does not exist provides nothing"
        );
        let rc = home.path().join("elsewhere.tfrc");
        std::fs::write(&rc, "").expect("rc");
        assert_eq!(
            provided_by_user(&env(vec![
                ("HOME", h.clone()),
                ("TF_CLI_CONFIG_FILE", rc.display().to_string())
            ])),
            Some(Provided::ByCliConfig(rc.clone()))
        );
        let implied = home
            .path()
            .join(".terraform.d/plugins")
            .join(PROVIDER_SOURCE);
        std::fs::create_dir_all(&implied).expect("mkdir");
        assert_eq!(
            provided_by_user(&env(vec![("HOME", h.clone())])),
            Some(Provided::ByImpliedMirror(implied))
        );
        std::fs::write(home.path().join(".terraformrc"), "").expect("rc");
        assert!(matches!(
            provided_by_user(&env(vec![("HOME", h)])),
            Some(Provided::ByCliConfig(_))
        ));
    }

    #[test]
    fn the_mirror_holds_the_binary_under_its_version_and_platform() {
        let tmp = tempfile::tempdir().expect("tmp");
        let bin = tmp.path().join("bin");
        std::fs::create_dir_all(&bin).expect("mkdir");
        std::fs::write(bin.join(PROVIDER_BINARY), b"#!/bin/sh\n").expect("write");
        std::fs::write(bin.join("flatcar-kube"), b"").expect("write");
        let found = find_provider(Some(&bin.join("flatcar-kube")), None).expect("beside");
        assert_eq!(found, bin.join(PROVIDER_BINARY));
        let on_path = find_provider(None, Some(&format!("/nonexistent:{}", bin.display())));
        assert_eq!(on_path, Some(bin.join(PROVIDER_BINARY)));
        assert_eq!(
            find_provider(Some(&tmp.path().join("x")), Some("/nonexistent")),
            None
        );

        let tf = tmp.path().join("terraform");
        let config = install(&found, &tf).expect("install");
        let text = std::fs::read_to_string(&config).expect("config");
        assert!(
            text.contains(&format!("include = [\"{PROVIDER_SOURCE}\"]")),
            "{text}"
        );
        let copied = tf
            .join(".provider-mirror")
            .join(PROVIDER_SOURCE)
            .join(VERSION)
            .join(platform())
            .join(format!("{PROVIDER_BINARY}_v{VERSION}"));
        assert_eq!(std::fs::read(copied).expect("copy"), b"#!/bin/sh\n");
    }
}
