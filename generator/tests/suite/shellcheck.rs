//! Done-when 6: every generated deploy.sh passes shellcheck (Debian's package, installed by
//! scripts/setup.d/30-shellcheck.sh), and its ansible-core range check really gates the run.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn shellcheck() -> PathBuf {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("shellcheck"))
        .find(|p| p.is_file());
    found.unwrap_or_else(|| panic!("shellcheck is missing: run `bash scripts/setup.sh` (it runs scripts/setup.d/30-shellcheck.sh) first"))
}

#[test]
fn deploy_sh_passes_shellcheck() {
    let sc = shellcheck();
    let tmp = tempfile::tempdir().unwrap();
    for (name, profile) in profiles(tmp.path()) {
        let out = tmp.path().join(&name);
        generate(&profile, &out);
        let result = Command::new(&sc)
            .arg("--shell=bash")
            .arg("--severity=style")
            .arg(out.join("deploy.sh"))
            .output()
            .unwrap();
        assert!(
            result.status.success(),
            "{name}: shellcheck:\n{}",
            String::from_utf8_lossy(&result.stdout)
        );
    }
}

/// The project's own scripts (setup, local cloud, test, demo, bench, CI entry) pass too.
#[test]
fn project_scripts_pass_shellcheck() {
    let sc = shellcheck();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut scripts = vec![root.join(".ci/run")];
    for dir in ["scripts", "scripts/setup.d", "scripts/local-cloud"] {
        let mut found: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "sh"))
            .collect();
        found.sort();
        scripts.extend(found);
    }
    assert!(scripts.len() > 10, "scripts not found: {scripts:?}");
    for script in scripts {
        let result = Command::new(&sc)
            .arg("--shell=bash")
            .arg("--external-sources")
            .arg(&script)
            .current_dir(&root)
            .output()
            .unwrap();
        assert!(
            result.status.success(),
            "{}: {}",
            script.display(),
            String::from_utf8_lossy(&result.stdout)
        );
    }
}

/// A fake `ansible-playbook` that prints a version and records its arguments.
fn fake_playbook(dir: &Path, version: &str) -> PathBuf {
    let path = dir.join("ansible-playbook");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'ansible-playbook [core {version}]'; exit 0; fi\necho \"ran in $(pwd): $* name=$OS_APPLICATION_CREDENTIAL_NAME\"\n"
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    path
}

#[test]
fn deploy_sh_checks_the_ansible_core_range_and_exports_the_credential_name() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, profile) = profiles(tmp.path()).remove(0); // Jetstream2: Kubespray master
    let out = tmp.path().join("out");
    generate(&profile, &out);
    std::fs::write(out.join("inventory/hosts.yaml"), "all: {}\n").unwrap();
    let kubespray = tmp.path().join("kubespray");
    std::fs::create_dir(&kubespray).unwrap();
    std::fs::write(kubespray.join("cluster.yml"), "").unwrap();

    let run = |version: &str| {
        Command::new("bash")
            .arg(out.join("deploy.sh"))
            .env("KUBESPRAY_DIR", &kubespray)
            .env("ANSIBLE_PLAYBOOK", fake_playbook(tmp.path(), version))
            .env("OS_AUTH_URL", "https://js2.jetstream-cloud.org:5000/v3/")
            .env("OS_APPLICATION_CREDENTIAL_ID", "abc123")
            .env("OS_APPLICATION_CREDENTIAL_SECRET", "s3cret")
            .env_remove("OS_APPLICATION_CREDENTIAL_NAME")
            .output()
            .unwrap()
    };
    let too_new = run("2.19.1");
    assert!(!too_new.status.success());
    let msg = String::from_utf8_lossy(&too_new.stderr);
    assert!(
        msg.contains("needs ansible-core >= 2.18.0, < 2.19.0; this is ansible-core 2.19.1"),
        "{msg}"
    );
    let too_old = run("2.17.9");
    assert!(
        !too_old.status.success(),
        "{}",
        String::from_utf8_lossy(&too_old.stdout)
    );

    let fine = run("2.18.4");
    let stdout = String::from_utf8_lossy(&fine.stdout);
    assert!(
        fine.status.success(),
        "{}",
        String::from_utf8_lossy(&fine.stderr)
    );
    assert!(
        stdout.contains(&format!("ran in {}", kubespray.display())),
        "{stdout}"
    );
    assert!(stdout.contains("--become cluster.yml"), "{stdout}");
    assert!(stdout.contains("inventory/hosts.yaml"), "{stdout}");
    assert!(
        stdout.contains("name=abc123"),
        "OS_APPLICATION_CREDENTIAL_NAME from the ID: {stdout}"
    );
}
