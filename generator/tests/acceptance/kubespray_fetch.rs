//! `up --deploy` brings its own Kubespray: the profile's release tag cloned (real git) from a
//! local repository with tags into the cache, a virtualenv made by real pip from that tag's
//! `requirements.txt`, the playbooks run from the cached tag with that virtualenv's
//! `ansible-playbook`; a second run reuses both, even with the repository gone.
//!
//! The requirements name one wheel that the test builds: a recording `ansible-playbook`
//! console script (logs its arguments like the day-2 stand-in) and empty `netaddr` and
//! `jmespath` modules for deploy.sh's import check; pip installs it without an index.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use flatcar_testkit::acceptance::{self, Need};

/// What every test here needs (`flatcar_testkit::acceptance`).
const NEEDS: &[Need] = &[Need::Python];

/// A wheel (zip) with a console script `ansible-playbook`; pip installs it offline.
fn recorder_wheel(dir: &Path) -> PathBuf {
    let wheel = dir.join("kubespray_recorder-1.0-py3-none-any.whl");
    let script = r##"
import base64, hashlib, sys, zipfile
files = {
    "kubespray_recorder.py": '''import os, sys
def main():
    args = sys.argv[1:]
    if args[:1] == ["--version"]:
        print("ansible-playbook [core 2.18.4]")
        print("  python version = 3.11.7 (main) [GCC 12.2.0] (%s)" % sys.executable)
        return 0
    with open(os.environ["FAKE_TF_LOG"], "a") as log:
        log.write("ansible-playbook(venv %s) %s\\n" % (os.path.basename(os.path.dirname(os.path.dirname(sys.executable))), " ".join(args)))
    artifacts = os.path.join(os.path.dirname(args[1]), "..", "artifacts")
    os.makedirs(artifacts, exist_ok=True)
    open(os.path.join(artifacts, "admin.conf"), "w").write("kubeconfig")
    return 0
''',
    "netaddr.py": "# stand-in for the import check\n",
    "jmespath.py": "# stand-in for the import check\n",
    "kubespray_recorder-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: kubespray-recorder\nVersion: 1.0\n",
    "kubespray_recorder-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: flatcar-kube-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    "kubespray_recorder-1.0.dist-info/entry_points.txt": "[console_scripts]\nansible-playbook = kubespray_recorder:main\n",
}
record = []
with zipfile.ZipFile(sys.argv[1], "w") as z:
    for name, text in files.items():
        data = text.encode()
        z.writestr(name, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (name, digest, len(data)))
    record.append("kubespray_recorder-1.0.dist-info/RECORD,,")
    z.writestr("kubespray_recorder-1.0.dist-info/RECORD", "\n".join(record) + "\n")
"##;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&wheel)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wheel
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=test", "-c", "user.email=test@127.0.0.1"])
        .args(args)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A git repository shaped like Kubespray, with tags v2.30.0 (an older commit) and v2.31.0.
fn kubespray_repository(dir: &Path, wheel: &Path) -> PathBuf {
    let repo = dir.join("kubespray.git-source");
    flatcar_testkit::kubespray_tree::checkout("v2.31", &repo);
    git(&repo, &["init", "--quiet", "--initial-branch=master"]);
    std::fs::write(repo.join("requirements.txt"), "# v2.30.0\n").unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "--quiet", "-m", "v2.30.0"]);
    git(&repo, &["tag", "v2.30.0"]);
    // The tag pins its Ansible (the real one: ansible==11.13.0 and friends) in requirements.txt.
    std::fs::write(
        repo.join("requirements.txt"),
        format!(
            "# Kubespray's Ansible, for the tests\n{}\n",
            wheel.display()
        ),
    )
    .unwrap();
    git(&repo, &["commit", "--quiet", "-am", "v2.31.0"]);
    git(&repo, &["tag", "v2.31.0"]);
    git(
        &repo,
        &["commit", "--quiet", "--allow-empty", "-m", "after v2.31.0"],
    );
    repo
}

#[test]
fn up_deploy_fetches_the_release_and_its_ansible_then_reuses_both() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let wheel = recorder_wheel(tmp.path());
    let repo = kubespray_repository(tmp.path(), &wheel);
    let cache = tmp.path().join("cache");
    let text = std::fs::read_to_string(testdata().join("profiles/ha.yaml"))
        .unwrap()
        .replace(
            "  path: /srv/kubespray\n",
            &format!("  repository: file://{}\n", repo.display()),
        );
    assert!(!text.contains("path:"), "{text}");
    let profile = tmp.path().join("ha.yaml");
    std::fs::write(&profile, text).unwrap();
    let out = tmp.path().join("out");
    let tf = fake_terraform(tmp.path());
    let up = || {
        let mut cmd = bin();
        cmd.arg("up")
            .arg(&profile)
            .args(["-o"])
            .arg(&out)
            .arg("--terraform")
            .arg(&tf)
            .args(["--deploy", "--yes"])
            .env("FAKE_TF_LOG", tmp.path().join("calls.log"))
            .env("FAKE_TF_OUTPUT", tmp.path().join("output.json"))
            .env("FAKE_TF_PLAN", tmp.path().join("plan.json"))
            .env("FAKE_TF_STATE", tmp.path().join("state"))
            .env("FLATCAR_KUBE_CACHE", &cache)
            // Real pip, but nothing from an index: the requirements name a local wheel.
            .env("PIP_NO_INDEX", "1")
            .env("OS_AUTH_URL", "http://127.0.0.1:5000/v3")
            .env("OS_USERNAME", "demo")
            .env("OS_PASSWORD", "secret")
            .env("OS_PROJECT_NAME", "demo")
            .env("OS_USER_DOMAIN_NAME", "Default");
        cmd
    };
    let first = run_ok(&mut up());
    let stdout = String::from_utf8_lossy(&first.stdout);
    let checkout = cache.join("kubespray/v2.31.0");
    assert!(
        stdout.contains("Kubespray v2.31.0: fetching it from file://")
            && stdout.contains("making a virtualenv from its requirements.txt"),
        "{stdout}"
    );
    // The checkout is the tag, not the branch's newer commit.
    let tagged = Command::new("git")
        .arg("-C")
        .arg(&repo)
        .args(["rev-parse", "v2.31.0^{commit}"])
        .output()
        .unwrap();
    let tagged = String::from_utf8_lossy(&tagged.stdout).trim().to_string();
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("deployed.json")).unwrap()).unwrap();
    assert_eq!(
        record["kubespray"],
        serde_json::json!({"release": "v2.31.0", "commit": tagged})
    );
    let venv = std::fs::read_link(checkout.join(".venv")).expect("the checkout's .venv link");
    assert!(venv.join("bin/ansible-playbook").is_file());
    let log = std::fs::read_to_string(tmp.path().join("calls.log")).unwrap();
    let venv_name = venv.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        log.contains(&format!("ansible-playbook(venv {venv_name}) -i"))
            && log.contains("cluster.yml"),
        "{log}"
    );

    // Again, with the repository gone: the cached tag and virtualenv serve.
    std::fs::remove_dir_all(&repo).unwrap();
    std::fs::write(tmp.path().join("calls.log"), "").unwrap();
    let second = run_ok(&mut up());
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(
        stdout.contains("Kubespray v2.31.0: using the copy in")
            && stdout.contains("using the virtualenv")
            && !stdout.contains("making a virtualenv"),
        "{stdout}"
    );
    // The same machines, Kubernetes and Kubespray (same commit): Terraform runs, no playbook.
    let log = std::fs::read_to_string(tmp.path().join("calls.log")).unwrap();
    assert!(
        log.lines().any(|l| l.contains(" plan -input=false"))
            && !log.lines().any(|l| l.starts_with("ansible-playbook")),
        "{log}"
    );
}
