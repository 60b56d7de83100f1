//! Helpers shared by the generator's integration tests: paths into `testdata/generator/`, the
//! profiles under test, running the binary, and golden-file comparison (`UPDATE_GOLDEN=1`
//! rewrites the goldens instead of comparing; review the diff before committing).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use flatcar_kube::profile::{load_str, LoadedProfile};
use serde_json::Value;

/// The repository's root (the workspace).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/generator")
}

/// HOME for tests: holds `.ssh/id_ed25519.pub`, which every test profile names.
pub fn home() -> PathBuf {
    testdata().join("home")
}

/// The binary with the test HOME and without the caller's OpenStack variables: `generate`
/// looks flavor IDs up in Nova when `OS_*` is set, and the goldens are made offline.
pub fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flatcar-kube"));
    cmd.env("HOME", home());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("OS_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("run flatcar-kube");
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The profiles under test, by name: the two starters (written by `init` into `dir`) and the
/// committed ones in `testdata/generator/profiles/`.
pub fn profiles(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for cloud in ["jetstream2", "generic"] {
        let path = dir.join(format!("{cloud}.yaml"));
        if !path.exists() {
            run_ok(bin().args(["init", "--cloud", cloud, "-o"]).arg(&path));
        }
        out.push((cloud.to_string(), path));
    }
    let mut committed: Vec<PathBuf> = std::fs::read_dir(testdata().join("profiles"))
        .expect("testdata/generator/profiles")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    committed.sort();
    for path in committed {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        out.push((name, path));
    }
    out
}

/// Runs `generate PROFILE -o OUT`.
pub fn generate(profile: &Path, out: &Path) {
    run_ok(bin().arg("generate").arg(profile).arg("-o").arg(out));
}

/// Every file under `dir`, relative, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                out.push(path.strip_prefix(base).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out.sort();
    out
}

pub fn updating_golden() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1")
}

/// Compares `actual` with the golden file, or rewrites it under `UPDATE_GOLDEN=1`.
pub fn assert_golden(golden: &Path, actual: &str) {
    if updating_golden() {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(golden, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(golden).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run the tests with UPDATE_GOLDEN=1 to create it",
            golden.display()
        )
    });
    if expected != actual {
        let diff = similar::TextDiff::from_lines(&expected, actual)
            .unified_diff()
            .header("golden", "actual")
            .to_string();
        panic!(
            "{} differs from the generated output (UPDATE_GOLDEN=1 rewrites it):\n{diff}",
            golden.display()
        );
    }
}

/// Compares a whole generated directory with a golden directory (same file set, same bytes).
pub fn assert_golden_dir(golden: &Path, actual: &Path) {
    if updating_golden() {
        let _ = std::fs::remove_dir_all(golden);
    }
    let actual_files = files_under(actual);
    for f in &actual_files {
        let text = std::fs::read_to_string(actual.join(f)).unwrap();
        assert_golden(&golden.join(f), &text);
    }
    assert_eq!(
        files_under(golden),
        actual_files,
        "{}: the generated file set differs from the golden one",
        golden.display()
    );
}

pub fn cache_dir() -> PathBuf {
    match std::env::var_os("FLATCAR_KUBE_CACHE") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
            .join(".cache/flatcar-kube"),
    }
}

/// A tool the project's setup scripts install; fails (never skips) when it is missing.
pub fn required_tool(path: PathBuf, script: &str) -> PathBuf {
    assert!(
        path.is_file(),
        "{} is missing: run `bash scripts/setup.sh` (it runs {script}) first",
        path.display()
    );
    path
}

pub fn executable(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// A fake Python for Ansible: `-c 'import netaddr, jmespath'` succeeds when `modules` is true.
pub fn fake_python(dir: &Path, modules: bool) -> PathBuf {
    let path = dir.join(if modules { "python-ok" } else { "python-bare" });
    executable(
        &path,
        &format!("#!/bin/sh\n[ \"$1\" = -c ] && [ \"$2\" = 'import netaddr, jmespath' ] && exit {}\nexit 3\n", if modules { 0 } else { 1 }),
    );
    path
}

/// A fake `ansible-playbook`: `--version` prints ansible-core's version and, with `python`,
/// the interpreter line real Ansible prints; a run records its arguments and, like Kubespray
/// with kubeconfig_localhost, writes `artifacts/admin.conf` beside the inventory directory.
pub fn fake_playbook(dir: &Path, version: &str, python: Option<&Path>) -> PathBuf {
    let path = dir.join(format!("ansible-playbook-{version}"));
    let python_line = python
        .map(|p| format!("echo '  python version = 3.11.7 (main, May  9 2026, 07:35:25) [GCC 12.2.0] ({})'\n", p.display()))
        .unwrap_or_default();
    executable(
        &path,
        &format!(
            "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'ansible-playbook [core {version}]'\n{python_line}exit 0; fi\necho \"ran in $(pwd): $* name=$OS_APPLICATION_CREDENTIAL_NAME\"\nmkdir -p \"$(dirname \"$2\")/../artifacts\" && echo kubeconfig > \"$(dirname \"$2\")/../artifacts/admin.conf\"\n"
        ),
    );
    path
}

/// A tool of the Ansible virtualenv (scripts/setup.d), or a panic naming the script that installs it.
pub fn venv_bin(tool: &str, script: &str) -> PathBuf {
    required_tool(cache_dir().join("ansible-venv/bin").join(tool), script)
}

pub fn ansible_playbook() -> PathBuf {
    venv_bin("ansible-playbook", "scripts/setup.d/20-ansible.sh")
}

/// Every object of a multi-document YAML file, read by PyYAML (the venv's, from ansible-core).
pub fn yaml_documents(path: &Path) -> Vec<serde_json::Value> {
    let python = venv_bin("python", "scripts/setup.d/20-ansible.sh");
    let out = Command::new(python)
        .arg("-c")
        .arg("import json, sys, yaml; print(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1])) if d is not None]))")
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `ansible-playbook --syntax-check` of the generated play `play` (e.g. `apps/install.yml`) in
/// `out`, run as `up` runs it (from a Kubespray checkout, with the generated ansible.cfg),
/// with a one-machine inventory; panics with the output, also on a warning.
/// The real `ansible-playbook` on the generated play `play` (e.g. `apps/install.yml`) in `out`,
/// with its inventory and the generated ansible.cfg, run from `work` as `up` runs it from a
/// Kubespray checkout.
pub fn play_command(out: &Path, play: &str, work: &Path) -> Command {
    let mut cmd = Command::new(ansible_playbook());
    cmd.arg("-i")
        .arg(out.join("inventory/hosts.yaml"))
        .arg(out.join(play))
        .current_dir(work)
        .env("ANSIBLE_CONFIG", out.join("ansible.cfg"))
        .env("KUBESPRAY_DIR", work)
        .env("ANSIBLE_LOCAL_TEMP", work.join("ansible-tmp"));
    cmd
}

/// [`play_command`] run on this machine: the venv's Python, no `become`.
pub fn local_play_command(out: &Path, play: &str, work: &Path) -> Command {
    let python = venv_bin("python", "scripts/setup.d/20-ansible.sh");
    let mut cmd = play_command(out, play, work);
    cmd.arg("-e")
        .arg(format!("ansible_python_interpreter={}", python.display()))
        .args(["-e", "ansible_become=false"]);
    cmd
}

pub fn assert_play_syntax(out: &Path, play: &str, work: &Path, what: &str) {
    std::fs::write(
        out.join("inventory/hosts.yaml"),
        "all:\n  children:\n    kube_control_plane:\n      hosts:\n        cp-1: {ansible_host: 10.0.0.10}\n",
    )
    .unwrap();
    let result = play_command(out, play, work)
        .arg("--syntax-check")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        result.status.success(),
        "{what}: ansible-playbook --syntax-check {play}:\n{}{stderr}",
        String::from_utf8_lossy(&result.stdout)
    );
    assert!(!stderr.contains("[WARNING]"), "{what}: {stderr}");
}

pub fn load(text: &str) -> LoadedProfile {
    load_str(text, "p.yaml", Some(&home())).unwrap_or_else(|e| panic!("{e}"))
}

pub fn object<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {objects:?}"))
}

/// The generic starter with `extra` appended (its `updates:` block is commented out).
pub fn starter_with(dir: &Path, extra: &str) -> (String, PathBuf) {
    let starter = dir.join("starter.yaml");
    if !starter.exists() {
        run_ok(
            bin()
                .args(["init", "--cloud", "generic", "-o"])
                .arg(&starter),
        );
    }
    let text = std::fs::read_to_string(&starter).unwrap() + extra;
    let path = dir.join(format!("p{}.yaml", text.len()));
    std::fs::write(&path, &text).unwrap();
    (text, path)
}

// ---- A recording stand-in for terraform (`up` without the real CLI). ----

pub const FAKE_TERRAFORM: &str = r#"#!/bin/sh
printf '%s|%s\n' "$*" "${OS_AUTH_URL:-}" >> "$FAKE_TF_LOG"
step=$2
if [ "$step" = "${FAKE_TF_FAIL:-}" ]; then
  i=0
  while [ $i -lt 40 ]; do echo "noise line $i" >&2; i=$((i+1)); done
  echo "${FAKE_TF_ERR:-Error: Unable to authenticate: 401 from keystone}" >&2
  exit 1
fi
case $step in
  init) echo "Terraform has been successfully initialized!" ;;
  plan) echo "Saved the plan to: up.tfplan" ;;
  show) cat "$FAKE_TF_PLAN" ;;
  apply)
    touch "$FAKE_TF_STATE"
    if [ -n "${FAKE_TF_OUTPUT_AFTER:-}" ]; then cp "$FAKE_TF_OUTPUT_AFTER" "$FAKE_TF_OUTPUT"; fi
    echo "Apply complete! Resources: 4 added, 0 changed, 0 destroyed." ;;
  destroy)
    rm -f "$FAKE_TF_STATE"
    echo "Destroy complete! Resources: 4 destroyed." ;;
  output) if [ -f "$FAKE_TF_STATE" ]; then cat "$FAKE_TF_OUTPUT"; else echo '{}'; fi ;;
esac
"#;

pub const OUTPUT_JSON: &str = r#"{
  "image_id": {"sensitive": false, "type": "string", "value": "img-1"},
  "kubespray_inventory": {"sensitive": false, "type": ["object", {}], "value": {"hosts": {
    "demo-control-plane-1": {"groups": ["kube_control_plane", "etcd"], "ip": "10.0.0.11", "access_ip": "192.0.2.11", "ansible_user": "core"},
    "demo-worker-1": {"groups": ["kube_node"], "ip": "10.0.0.21", "access_ip": "192.0.2.21", "ansible_user": "core"},
    "demo-worker-2": {"groups": ["kube_node"], "ip": "10.0.0.22", "access_ip": null, "ansible_user": "core"}
  }}}
}"#;

/// The plan of a first apply: three machines to create.
pub const FIRST_PLAN: &str = r#"{"format_version": "1.2", "resource_changes": [
  {"address": "module.cluster.flatcar_instance.node[\"demo-control-plane-1\"]", "mode": "managed", "type": "flatcar_instance", "index": "demo-control-plane-1",
   "change": {"actions": ["create"], "before": null, "after": {"name": "demo-control-plane-1", "metadata": {"kubespray_groups": "kube_control_plane,etcd"}}}},
  {"address": "module.cluster.flatcar_image.release[\"stable-current\"]", "mode": "managed", "type": "flatcar_image", "index": "stable-current",
   "change": {"actions": ["create"], "before": null, "after": {"name": "flatcar-stable-current"}}}
]}"#;

/// A fake `terraform` with a state: appends its arguments and OS_AUTH_URL to $FAKE_TF_LOG;
/// `output -json` prints {} before the first apply ($FAKE_TF_STATE absent), else
/// $FAKE_TF_OUTPUT; `show -json` prints the plan $FAKE_TF_PLAN; `apply` creates the state and,
/// with $FAKE_TF_OUTPUT_AFTER, makes that the new output; `destroy` removes the state; the step in $FAKE_TF_FAIL fails with
/// stderr lines (the last one $FAKE_TF_ERR).
pub fn fake_terraform(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("terraform");
    executable(&path, FAKE_TERRAFORM);
    if !dir.join("output.json").exists() {
        std::fs::write(dir.join("output.json"), OUTPUT_JSON).unwrap();
    }
    if !dir.join("plan.json").exists() {
        std::fs::write(dir.join("plan.json"), FIRST_PLAN).unwrap();
    }
    path
}
