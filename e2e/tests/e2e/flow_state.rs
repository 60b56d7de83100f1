//! Issue 22: a cluster's Terraform state and deploy record in the object store, against the
//! local cloud (real Keystone with EC2 credentials, real Swift with its S3 API, Nova,
//! Neutron, Glance) with the real `terraform` and its `s3` backend, through `flatcar-kube up`:
//! create, recover from an empty directory (a plan without changes, the same `hosts.yaml`),
//! migrate a local state, two `up` at once (one applies, the other names the lock), no EC2
//! secret in any file, in `terraform show -json` or in a `TF_LOG=trace` run, and the state
//! objects removed by `up --destroy` only after the machines are gone.

use crate::flow::{flow_with, Flow};
use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use flatcar_cloud::openstack::identity::ec2_credential;
use flatcar_cloud::openstack::object_store::ObjectStore;
use support::acceptance::{self, Need};
use support::cloud::unique_name;
use support::release_tree::Release;

/// What every test here needs (`flatcar_testkit::acceptance`).
const NEEDS: &[Need] = &[Need::Terraform, Need::ComputeCloud, Need::Venv];

const VERSION: &str = "4593.2.5";

fn flow() -> Flow {
    flow_with(&[Release {
        channel: "stable",
        version: VERSION,
        current: true,
    }])
}

/// A unique container name (lowercase letters, digits and `-`).
fn container() -> String {
    unique_name("tfstate").to_ascii_lowercase()
}

/// A profile of one control plane machine; with `container`, its state in the object store.
fn profile(f: &Flow, container: Option<&str>) -> PathBuf {
    let state = container
        // The local Swift's s3api signs for the cloud's region (its `location`).
        .map(|c| {
            format!("state:\n  backend: object_store\n  container: {c}\n  s3_region: RegionOne\n")
        })
        .unwrap_or_default();
    let text = format!(
        "version: 1\nname: {name}\ncloud:\n  region: RegionOne\n  auth: password\naccess:\n  allowed_cidrs: [198.51.100.0/24]\nnetwork:\n  name: {network}\n  reuse: true\n  external_network: {public}\nflatcar:\n  channel: stable\n  version: {VERSION}\n  mirror_url: {base}/{{channel}}\n  signing_key_file: {key}\nssh:\n  public_key_file: {ssh}\npools:\n  control_plane:\n    count: 1\n    flavor: {flavor}\n  workers:\n    count: 0\n    flavor: {flavor}\nkubernetes:\n  openstack_cloud_provider: false\n  cinder_csi: false\n{state}",
        name = f.name,
        network = f.cloud.value("FK_NETWORK_NAME"),
        public = f.cloud.value("FK_EXTERNAL_NETWORK"),
        base = f.base_url(),
        key = f.home.path().join("signing.asc").display(),
        ssh = f.home.path().join("id.pub").display(),
        flavor = f.cloud.value("FK_FLAVOR_SMALL"),
    );
    let path = f.home.path().join(format!("{}.yaml", f.name));
    std::fs::write(&path, text).expect("profile");
    path
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

fn up(f: &Flow, profile: &Path, out: &Path, args: &[&str]) -> Output {
    f.up_cmd(profile, out, &support::terraform::binary())
        .args(args)
        .output()
        .expect("flatcar-kube up")
}

fn up_ok(f: &Flow, profile: &Path, out: &Path, args: &[&str]) -> String {
    let result = up(f, profile, out, args);
    let shown = text(&result);
    assert!(
        result.status.success(),
        "flatcar-kube up {args:?}:\n{shown}"
    );
    shown
}

/// The names of the cluster's objects in `container`.
fn objects(f: &Flow, container: &str) -> Vec<String> {
    let session = f.cloud.session(false);
    let mut names = f
        .cloud
        .block_on(ObjectStore::new(&session).list(container, &format!("{}/", f.name)))
        .expect("list the container");
    names.sort();
    names
}

fn state_object(f: &Flow) -> String {
    format!("{}/terraform.tfstate", f.name)
}

fn hosts(out: &Path) -> String {
    std::fs::read_to_string(out.join("inventory/hosts.yaml")).expect("hosts.yaml")
}

/// `up --destroy`, then nothing of the cluster is left: no server, no image, no state object.
fn destroy(f: &Flow, profile: &Path, out: &Path, container: &str) {
    let shown = up_ok(f, profile, out, &["--destroy"]);
    assert!(f.cloud.servers(&f.name).is_empty(), "{shown}");
    assert_eq!(f.images_named(&format!("flatcar-stable-{VERSION}")), 0);
    assert!(
        objects(f, container).is_empty(),
        "{:?}\n{shown}",
        objects(f, container)
    );
}

#[test]
fn state_in_the_object_store_recovers_in_an_empty_directory_and_destroys_last() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let f = flow();
    let container = container();
    let profile = profile(&f, Some(&container));
    let out = f.home.path().join("laptop");
    let shown = up_ok(&f, &profile, &out, &["--yes"]);
    assert!(
        shown.contains(&format!("created the object store container {container}")),
        "{shown}"
    );
    assert_eq!(f.cloud.servers(&f.name).len(), 1);
    // The state is in the container, not on this machine; up's lock is released.
    assert_eq!(objects(&f, &container), [state_object(&f)]);
    assert!(!out.join("terraform/terraform.tfstate").exists());
    let backend = std::fs::read_to_string(out.join("terraform/backend.tf")).expect("backend.tf");
    assert!(backend.contains("backend \"s3\""), "{backend}");

    // A teammate with the profile and credentials only, in an empty directory.
    let other = f.home.path().join("teammate");
    let shown = up_ok(&f, &profile, &other, &[]);
    assert!(
        shown.contains("no changes: the machines are as the profile describes"),
        "{shown}"
    );
    assert_eq!(hosts(&other), hosts(&out));
    assert_eq!(f.cloud.servers(&f.name).len(), 1);

    destroy(&f, &profile, &other, &container);
}

#[test]
fn no_ec2_secret_in_files_terraform_show_or_a_trace_log_with_an_application_credential() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let f = flow();
    let container = container();
    let profile = profile(&f, Some(&container));
    let out = f.home.path().join("out");
    // Jetstream2's kind of credential: an application credential.
    let app_cred_up = |extra: &[(&str, &str)]| {
        let mut cmd = f.up_cmd(&profile, &out, &support::terraform::binary());
        for (key, _) in f.cloud.password_env() {
            cmd.env_remove(key);
        }
        cmd.envs(f.cloud.app_cred_env())
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .envs(extra.iter().copied())
            .output()
            .expect("up")
    };
    // Keystone 30 refuses EC2 credentials to application credentials: up says what to do and
    // changes nothing.
    let refused = app_cred_up(&[]);
    let shown = text(&refused);
    assert!(!refused.status.success(), "{shown}");
    assert!(
        shown.contains("Delegated tokens cannot access credentials directly")
            && shown.contains("openstack ec2 credentials create")
            && shown.contains("AWS_ACCESS_KEY_ID"),
        "{shown}"
    );
    assert!(f.cloud.servers(&f.name).is_empty());

    // Made once with the password login, exported, then used with the application credential.
    let session = f.cloud.session(false);
    let (credential, _) = f
        .cloud
        .block_on(ec2_credential(&session))
        .expect("an EC2 credential with the password login");
    let secret = credential.secret.clone();
    assert!(secret.len() >= 16);
    let traced = app_cred_up(&[
        ("AWS_ACCESS_KEY_ID", credential.access.as_str()),
        ("AWS_SECRET_ACCESS_KEY", secret.as_str()),
        ("TF_LOG", "trace"),
    ]);
    let traced_text = text(&traced);
    assert!(traced.status.success(), "{traced_text}");
    assert_eq!(f.cloud.servers(&f.name).len(), 1);
    // TF_LOG=trace reached Terraform (the trace is in up's output), the secret did not.
    assert!(traced_text.contains("[TRACE]"), "no trace in the output");
    assert!(
        !traced_text.contains(&secret),
        "the secret is in the output"
    );
    for file in walk(&out) {
        let bytes = std::fs::read(&file).expect("read");
        assert!(
            !String::from_utf8_lossy(&bytes).contains(&secret),
            "{} holds the EC2 secret",
            file.display()
        );
    }
    // terraform show -json, with the credential in the environment as up gives it.
    let show = Command::new(support::terraform::binary())
        .arg(format!("-chdir={}", out.join("terraform").display()))
        .args(["show", "-json"])
        .env("TF_CLI_CONFIG_FILE", &f.ws.cli_config)
        .env("AWS_ACCESS_KEY_ID", &credential.access)
        .env("AWS_SECRET_ACCESS_KEY", &secret)
        .env("AWS_ENDPOINT_URL_S3", f.cloud.value("FK_S3_URL"))
        .envs(f.ws.extra_env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("terraform show");
    let show_text = text(&show);
    assert!(show.status.success(), "{show_text}");
    assert!(show_text.contains("flatcar_instance"), "{show_text}");
    assert!(!show_text.contains(&secret));

    destroy(&f, &profile, &out, &container);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => todo.push(path),
                Ok(t) if t.is_file() => files.push(path),
                _ => {}
            }
        }
    }
    files
}

#[test]
fn a_local_state_moves_into_the_object_store_and_cannot_be_left_there_silently() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let f = flow();
    let container = container();
    let out = f.home.path().join("out");
    let local = profile(&f, None);
    up_ok(&f, &local, &out, &[]);
    let before = hosts(&out);
    assert!(out.join("terraform/terraform.tfstate").exists());

    let shared = profile(&f, Some(&container));
    let shown = up_ok(&f, &shared, &out, &[]);
    assert!(shown.contains("moving the Terraform state"), "{shown}");
    assert!(
        shown.contains("no changes: the machines are as the profile describes"),
        "{shown}"
    );
    assert_eq!(objects(&f, &container), [state_object(&f)]);
    assert!(!out.join("terraform/terraform.tfstate").exists());
    assert!(out
        .join("terraform/terraform.tfstate.moved-to-object-store")
        .exists());
    assert_eq!(hosts(&out), before);
    assert_eq!(f.cloud.servers(&f.name).len(), 1);

    // Taking `state:` out again is refused with the way back; nothing changes.
    let local = profile(&f, None);
    let refused = up(&f, &local, &out, &[]);
    let shown = text(&refused);
    assert!(!refused.status.success(), "{shown}");
    assert!(
        shown.contains("state is in the object store container")
            && shown.contains(&container)
            && shown.contains("terraform init -migrate-state"),
        "{shown}"
    );
    assert_eq!(objects(&f, &container), [state_object(&f)]);

    let shared = profile(&f, Some(&container));
    destroy(&f, &shared, &out, &container);
}

#[test]
fn two_ups_at_once_one_applies_and_the_other_names_the_lock() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let f = flow();
    let container = container();
    let profile = profile(&f, Some(&container));
    let first_out = f.home.path().join("first");
    let first = f
        .up_cmd(&profile, &first_out, &support::terraform::binary())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("first up");
    let lock = format!("{}/up.lock", f.name);
    let started = Instant::now();
    while !objects(&f, &container).contains(&lock) {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the first up never took the lock"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let second_out = f.home.path().join("second");
    let second = up(&f, &profile, &second_out, &[]);
    let shown = text(&second);
    assert!(!second.status.success(), "{shown}");
    assert!(
        shown.contains("another `flatcar-kube up` holds the lock")
            && shown.contains("flatcar-kube up`, since")
            && shown.contains(&lock),
        "{shown}"
    );
    // The second stopped before Terraform: it made nothing.
    assert!(!second_out.join("terraform/.terraform").exists());

    let first = first.wait_with_output().expect("first up");
    assert!(first.status.success(), "{}", text(&first));
    // Exactly the objects of one apply.
    assert_eq!(f.cloud.servers(&f.name).len(), 1);
    assert_eq!(f.images_named(&format!("flatcar-stable-{VERSION}")), 1);
    assert_eq!(objects(&f, &container), [state_object(&f)]);

    destroy(&f, &profile, &first_out, &container);
}
