//! Done-when 6: every generated deploy.sh passes shellcheck (Debian's package, installed by
//! scripts/setup.d/30-shellcheck.sh); its checks really gate the run (ansible-core's range,
//! netaddr and jmespath in Ansible's own Python) and it ends with the kubeconfig's path and a
//! `kubectl --kubeconfig ... get nodes` line.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use flatcar_testkit::acceptance::{self, Need};

/// What every test here needs (`flatcar_testkit::acceptance`).
const NEEDS: &[Need] = &[Need::Shellcheck];

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
    if !acceptance::run(NEEDS) {
        return;
    }
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
    if !acceptance::run(NEEDS) {
        return;
    }
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

#[test]
fn deploy_sh_checks_ansible_and_its_python_and_ends_with_the_kubeconfig() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (_, profile) = profiles(tmp.path()).remove(0); // Jetstream2: Kubespray master
    let out = tmp.path().join("out");
    generate(&profile, &out);
    std::fs::write(out.join("inventory/hosts.yaml"), "all: {}\n").unwrap();
    let kubespray = tmp.path().join("kubespray");
    std::fs::create_dir(&kubespray).unwrap();
    std::fs::write(kubespray.join("cluster.yml"), "").unwrap();
    let requirements = format!("pip install -r {}/requirements.txt", kubespray.display());

    let run = |playbook: PathBuf| {
        Command::new("bash")
            .arg(out.join("deploy.sh"))
            .env("KUBESPRAY_DIR", &kubespray)
            .env("ANSIBLE_PLAYBOOK", playbook)
            .env("OS_AUTH_URL", "https://js2.jetstream-cloud.org:5000/v3/")
            .env("OS_APPLICATION_CREDENTIAL_ID", "abc123")
            .env("OS_APPLICATION_CREDENTIAL_SECRET", "s3cret")
            .env_remove("OS_APPLICATION_CREDENTIAL_NAME")
            .output()
            .unwrap()
    };
    let good_python = fake_python(tmp.path(), true);
    let too_new = run(fake_playbook(tmp.path(), "2.19.1", Some(&good_python)));
    assert!(!too_new.status.success());
    let msg = String::from_utf8_lossy(&too_new.stderr);
    assert!(
        msg.contains("needs ansible-core >= 2.18.0, < 2.19.0; this is ansible-core 2.19.1"),
        "{msg}"
    );
    assert!(
        msg.contains(&requirements),
        "the install hint is Kubespray's requirements.txt: {msg}"
    );
    let too_old = run(fake_playbook(tmp.path(), "2.17.9", Some(&good_python)));
    assert!(
        !too_old.status.success(),
        "{}",
        String::from_utf8_lossy(&too_old.stdout)
    );

    // Ansible's Python (from `--version`) lacks netaddr / jmespath: stop before the playbook.
    let bare_python = fake_python(tmp.path(), false);
    let bare = run(fake_playbook(tmp.path(), "2.18.4", Some(&bare_python)));
    let msg = String::from_utf8_lossy(&bare.stderr);
    assert!(!bare.status.success(), "{msg}");
    assert!(
        msg.contains(&format!(
            "netaddr and jmespath do not import in Ansible's Python ({})",
            bare_python.display()
        )),
        "{msg}"
    );
    assert!(msg.contains("-m pip install -r"), "{msg}");
    assert!(!String::from_utf8_lossy(&bare.stdout).contains("ran in"));
    // The real ansible-playbook of the test venv (ansible-core alone, without netaddr): its
    // `--version` names the venv's Python, which is the one checked.
    let real = required_tool(
        cache_dir().join("ansible-venv/bin/ansible-playbook"),
        "scripts/setup.d/20-ansible.sh",
    );
    let venv_python = cache_dir().join("ansible-venv/bin/python");
    let real_run = run(real);
    let msg = String::from_utf8_lossy(&real_run.stderr);
    assert!(!real_run.status.success(), "{msg}");
    assert!(
        msg.contains(&format!(
            "do not import in Ansible's Python ({})",
            venv_python.display()
        )),
        "{msg}"
    );
    // No interpreter line: the playbook's shebang names the Python (here /bin/sh, which
    // cannot import them).
    let shebang = run(fake_playbook(tmp.path(), "2.18.5", None));
    let msg = String::from_utf8_lossy(&shebang.stderr);
    assert!(!shebang.status.success(), "{msg}");
    assert!(msg.contains("Ansible's Python (/bin/sh)"), "{msg}");

    let fine = run(fake_playbook(tmp.path(), "2.18.4", Some(&good_python)));
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
    let kubeconfig = out.join("artifacts/admin.conf");
    assert!(
        stdout.contains(&format!("Its kubeconfig: {}\n", kubeconfig.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "  kubectl --kubeconfig {} get nodes\n",
            kubeconfig.display()
        )),
        "{stdout}"
    );
}
