//! Acceptance tests of `flatcar_image` through the real terraform CLI against real Keystone
//! and Glance on 127.0.0.1 (`scripts/local-cloud.sh`): the whole lifecycle with password and
//! application-credential authentication, both upload paths, every compression, tampering,
//! and faults injected between the provider and Glance or the release server.

use crate::support;

use support::acceptance::{self, Need};
use support::cloud::{unique_name, LocalCloud};
use support::fault_proxy::{Fault, FaultProxy};
use support::http_server::StaticServer;
use support::release_tree::{sha512sum, Release, ReleaseTree, SigningKey, IMAGE};
use support::reliability::record;
use support::terraform::{Run, Workspace};

/// What every test here needs (`flatcar_testkit::acceptance`).
const NEEDS: &[Need] = &[Need::Terraform, Need::Cloud];

const VERSION: &str = "4593.2.5";

struct Env {
    /// Prefix of every image name this test creates.
    name: String,
    tree: ReleaseTree,
    server: StaticServer,
    cloud: LocalCloud,
    ws: Workspace,
}

enum Auth {
    PasswordEnv,
    AppCredEnv,
    /// A clouds.yaml entry named in the provider block.
    CloudsYaml,
}

fn env(auth: Auth) -> Env {
    let tree = ReleaseTree::build(
        SigningKey::generate("Image Test"),
        &[Release {
            channel: "stable",
            version: VERSION,
            current: true,
        }],
    );
    let server = StaticServer::start(tree.root.path());
    let cloud = LocalCloud::get();
    let mut ws = Workspace::new();
    match auth {
        Auth::PasswordEnv => ws.extra_env.extend(cloud.password_env()),
        Auth::AppCredEnv => ws.extra_env.extend(cloud.app_cred_env()),
        Auth::CloudsYaml => ws.extra_env.push((
            "OS_CLIENT_CONFIG_FILE".into(),
            cloud.clouds_yaml().display().to_string(),
        )),
    }
    Env {
        name: unique_name("fk-image"),
        tree,
        server,
        cloud,
        ws,
    }
}

impl Env {
    fn image_sha512(&self) -> String {
        self.tree.image_sha512("stable", VERSION)
    }

    /// Writes the configuration; `provider_extra` and `image_extra` are HCL lines.
    fn configure(&self, provider_extra: &str, image_extra: &str) {
        self.configure_named(&self.name.clone(), provider_extra, image_extra);
    }

    fn configure_named(&self, name: &str, provider_extra: &str, image_extra: &str) {
        self.ws.write_config(&format!(
            "provider \"flatcar\" {{\n  release_base_url = \"{}/{{channel}}\"\n  signing_key      = <<-EOT\n{}  EOT\n{provider_extra}\n}}\n\nresource \"flatcar_image\" \"this\" {{\n  name = \"{name}\"\n{image_extra}\n}}\n\noutput \"id\" {{ value = flatcar_image.this.id }}\noutput \"os_hash_value\" {{ value = flatcar_image.this.os_hash_value }}\noutput \"status\" {{ value = flatcar_image.this.status }}\n",
            self.server.base_url, self.tree.key.armored_public
        ));
    }

    fn glance_images(&self, glance: &str) -> Vec<flatcar_cloud::openstack::glance::Image> {
        self.cloud.images(glance, &self.name)
    }

    #[track_caller]
    fn assert_no_images(&self, glance: &str) {
        let left = self.glance_images(glance);
        assert!(left.is_empty(), "Glance still holds images: {left:?}");
    }
}

fn flat(run: &Run) -> String {
    run.all().split_whitespace().collect::<Vec<_>>().join(" ")
}

fn direct_glance(e: &Env) -> String {
    e.cloud.value("FK_GLANCE_URL")
}

fn plain_glance(e: &Env) -> String {
    e.cloud.value("FK_GLANCE_PLAIN_URL")
}

/// create -> empty plan -> refresh -> in-place change -> import -> empty plan -> destroy.
fn full_lifecycle(e: &Env, provider_extra: &str, glance: &str, compression: &str) {
    e.configure(
        provider_extra,
        &format!("  compression = \"{compression}\"\n  properties = {{ hw_disk_bus = \"scsi\" }}"),
    );
    e.ws.init();
    e.ws.apply().ok();
    let id = e.ws.output("id").as_str().expect("id").to_string();
    assert_eq!(e.ws.output("status"), "active");
    assert_eq!(e.ws.output("os_hash_value"), e.image_sha512());
    let images = e.glance_images(glance);
    assert_eq!(images.len(), 1, "{images:?}");
    assert_eq!(images[0].id, id);
    assert_eq!(images[0].status, "active");
    assert_eq!(
        images[0].os_hash_value.as_deref(),
        Some(e.image_sha512().as_str()),
        "Glance stored exactly the signed bytes"
    );
    assert_eq!(
        images[0]
            .properties
            .get("hw_qemu_guest_agent")
            .map(String::as_str),
        Some("yes")
    );
    assert_eq!(
        images[0].properties.get("os_version").map(String::as_str),
        Some(VERSION)
    );
    // auto: Glance downloads an uncompressed file itself where it offers web-download.
    let by = if glance == direct_glance(e) && compression == "none" {
        "web-download"
    } else {
        "stream"
    };
    assert_eq!(
        images[0]
            .properties
            .get("flatcar_import_method")
            .map(String::as_str),
        Some(by),
        "{compression} via {glance}"
    );
    assert!(!images[0].hidden, "a verified image is visible");
    assert_eq!(
        images[0]
            .properties
            .get("flatcar_kube_state")
            .map(String::as_str),
        Some("created"),
        "{by}: a finished create is marked so; another create of the same image would take it for a leftover"
    );

    let second = e.ws.plan_exit_code();
    assert_eq!(second.code, 0, "second plan not empty:\n{}", second.all());
    e.ws.run(&["apply", "-refresh-only", "-auto-approve", "-input=false"])
        .ok();

    // Rename and change a property: in place, same ID.
    e.configure_named(
        &format!("{}-renamed", e.name),
        provider_extra,
        &format!("  compression = \"{compression}\"\n  properties = {{ hw_disk_bus = \"virtio\", os_require_quiesce = \"yes\" }}"),
    );
    let plan = e.ws.run(&["plan", "-input=false"]).ok();
    assert!(
        plan.stdout.contains("1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    e.ws.apply().ok();
    assert_eq!(e.ws.output("id"), id.as_str());
    let images = e.glance_images(glance);
    assert_eq!(images.len(), 1);
    assert_eq!(images[0].name, format!("{}-renamed", e.name));
    assert_eq!(
        images[0].properties.get("hw_disk_bus").map(String::as_str),
        Some("virtio")
    );
    assert_eq!(
        images[0]
            .properties
            .get("os_require_quiesce")
            .map(String::as_str),
        Some("yes")
    );

    // Import by ID, then nothing to change.
    e.ws.run(&["state", "rm", "flatcar_image.this"]).ok();
    e.ws.run(&["import", "-input=false", "flatcar_image.this", &id])
        .ok();
    let after_import = e.ws.plan_exit_code();
    assert_eq!(
        after_import.code,
        0,
        "plan after import not empty:\n{}",
        after_import.all()
    );

    e.ws.run(&["destroy", "-auto-approve", "-input=false"]).ok();
    e.assert_no_images(glance);
}

/// The catalog's Glance offers web-download and the file is uncompressed: `auto` lets Glance
/// fetch the release itself.
#[test]
fn password_openrc_web_download_uncompressed() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env(Auth::PasswordEnv);
    let glance = direct_glance(&e);
    full_lifecycle(&e, "", &glance, "none");
}

#[test]
fn application_credential_clouds_yaml_plain_upload_gz() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env(Auth::CloudsYaml);
    let glance = plain_glance(&e);
    full_lifecycle(
        &e,
        &format!("  cloud = \"demo-appcred\"\n  endpoint_overrides = {{ image = \"{glance}\" }}"),
        &glance,
        "gz",
    );
}

#[test]
fn application_credential_openrc_glance_direct_bz2() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env(Auth::AppCredEnv);
    let glance = direct_glance(&e);
    full_lifecycle(&e, "", &glance, "bz2");
}

#[test]
fn password_clouds_yaml_plain_upload_bz2_and_direct_gz() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env(Auth::CloudsYaml);
    for (glance, compression) in [(plain_glance(&e), "bz2"), (direct_glance(&e), "gz")] {
        e.configure(
            &format!(
                "  cloud = \"demo-password\"\n  endpoint_overrides = {{ image = \"{glance}\" }}"
            ),
            &format!("  compression = \"{compression}\""),
        );
        e.ws.init();
        e.ws.apply().ok();
        assert_eq!(
            e.ws.output("os_hash_value"),
            e.image_sha512(),
            "{compression} via {glance}"
        );
        e.ws.run(&["destroy", "-auto-approve", "-input=false"]).ok();
        e.assert_no_images(&glance);
    }
}

fn tamper_image(e: &Env) -> (String, String) {
    let path = e.tree.dir("stable", VERSION).join(IMAGE);
    let expected = sha512sum(&path);
    let mut bytes = std::fs::read(&path).expect("image");
    let at = bytes.len() / 3;
    bytes[at] ^= 0x40;
    std::fs::write(&path, bytes).expect("tamper");
    (expected, sha512sum(&path))
}

#[test]
fn a_flipped_byte_fails_with_both_digests_and_leaves_no_image_on_either_path() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env(Auth::PasswordEnv);
    let (expected, actual) = tamper_image(&e);
    for glance in [direct_glance(&e), plain_glance(&e)] {
        e.configure(
            &format!("  endpoint_overrides = {{ image = \"{glance}\" }}"),
            "  import_method = \"stream\"",
        );
        e.ws.init();
        let run = e.ws.apply();
        assert_ne!(run.code, 0);
        let out = flat(&run);
        assert!(out.contains("Flatcar image verification failed"), "{out}");
        assert!(
            out.contains(&format!("expected {expected}")) && out.contains(&format!("got {actual}")),
            "{out}"
        );
        e.assert_no_images(&glance);
    }
}

/// web-download with bytes that differ from the signed DIGESTS: Glance stores them, but the
/// image never shows in Glance's listing (it is hidden until verified) and is deleted, with an
/// error naming both digests. Meanwhile a poller watches the default listing.
#[test]
fn web_download_of_tampered_bytes_is_never_visible_and_leaves_nothing() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env(Auth::PasswordEnv);
    let (expected, actual) = tamper_image(&e);
    let glance = direct_glance(&e);
    e.configure(
        &format!("  endpoint_overrides = {{ image = \"{glance}\" }}"),
        "  import_method = \"web-download\"",
    );
    e.ws.init();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (done, cloud, glance, name) = (
            done.clone(),
            LocalCloud::get(),
            glance.clone(),
            e.name.clone(),
        );
        std::thread::spawn(move || {
            let mut visible = Vec::new();
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                visible.extend(cloud.listed_images(&glance, &name, false));
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            visible
        })
    };
    let run = e.ws.apply();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let visible = watcher.join().expect("watcher");
    assert_ne!(run.code, 0);
    let out = flat(&run);
    assert!(out.contains("Flatcar image verification failed"), "{out}");
    assert!(
        out.contains(&format!("stored SHA-512 {actual}"))
            && out.contains(&format!("the signed DIGESTS say {expected}")),
        "{out}"
    );
    assert!(
        visible.is_empty(),
        "an unverified image was visible: {visible:?}"
    );
    e.assert_no_images(&glance);
}

/// `auto` where Glance may not fetch the URL (its import filtering allows 127.0.0.1, not
/// `localhost`: like a private mirror): the image is streamed instead. `web-download` asked
/// for explicitly fails with Glance's reason and leaves nothing.
#[test]
fn auto_falls_back_to_stream_when_glance_cannot_fetch_and_web_download_says_why() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env(Auth::PasswordEnv);
    let glance = direct_glance(&e);
    let unreachable_for_glance = e.server.base_url.replace("127.0.0.1", "localhost");
    let write = |method: &str| {
        e.ws.write_config(&format!(
            "provider \"flatcar\" {{\n  release_base_url = \"{unreachable_for_glance}/{{channel}}\"\n  signing_key = <<-EOT\n{}  EOT\n  endpoint_overrides = {{ image = \"{glance}\" }}\n}}\nresource \"flatcar_image\" \"this\" {{\n  name = \"{}\"\n  import_method = \"{method}\"\n}}\noutput \"imported_by\" {{ value = flatcar_image.this.imported_by }}\n",
            e.tree.key.armored_public, e.name
        ))
    };
    write("web-download");
    e.ws.init();
    let run = e.ws.apply();
    assert_ne!(run.code, 0);
    let out = flat(&run);
    assert!(
        out.contains("Glance could not download the Flatcar image")
            && out.contains("by web-download"),
        "{out}"
    );
    e.assert_no_images(&glance);

    write("auto");
    e.ws.apply().ok();
    assert_eq!(e.ws.output("imported_by"), "stream");
    let images = e.glance_images(&glance);
    assert_eq!(images.len(), 1, "exactly one image: {images:?}");
    assert_eq!(
        images[0].os_hash_value.as_deref(),
        Some(e.image_sha512().as_str())
    );
    e.ws.run(&["destroy", "-auto-approve", "-input=false"]).ok();
    e.assert_no_images(&glance);
}

#[test]
fn a_bad_signature_fails_before_any_glance_call() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env(Auth::PasswordEnv);
    let proxy = FaultProxy::start(&direct_glance(&e));
    let stranger = SigningKey::generate("Stranger");
    let dir = e.tree.dir("stable", VERSION);
    stranger.clearsign(
        &dir.join(format!("{IMAGE}.DIGESTS")),
        &dir.join(format!("{IMAGE}.DIGESTS.asc")),
    );
    e.configure(
        &format!("  endpoint_overrides = {{ image = \"{}\" }}", proxy.url),
        "  version = \"4593.2.5\"",
    );
    e.ws.init();
    let run = e.ws.apply();
    assert_ne!(run.code, 0);
    assert!(
        flat(&run).contains("Flatcar release signature verification failed"),
        "{}",
        run.all()
    );
    assert!(
        proxy.log.lock().map(|l| l.is_empty()).unwrap_or(false),
        "Glance was called: {:?}",
        proxy.log.lock().map(|l| l.clone())
    );
    e.assert_no_images(&direct_glance(&e));
}

#[test]
fn trace_logs_carry_no_secret_and_no_token() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env(Auth::PasswordEnv);
    e.configure("", "");
    e.ws.init();
    let out =
        e.ws.command(&["apply", "-auto-approve", "-input=false", "-no-color"])
            .env("TF_LOG", "trace")
            .output()
            .expect("terraform");
    let log =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{log}");
    // Logged on either import path, after the release was verified.
    assert!(
        log.contains("verified release; uploading image"),
        "provider logs not captured"
    );
    for secret in [
        e.cloud.value("OS_PASSWORD"),
        e.cloud.value("FK_APP_CRED_SECRET"),
    ] {
        assert!(!log.contains(&secret), "a secret appears in the trace log");
    }
    assert!(
        !log.contains("gAAAAA"),
        "a Fernet token appears in the trace log"
    );
    e.ws.run(&["destroy", "-auto-approve", "-input=false"]).ok();
}

/// Two workspaces of one configuration create the image of the same name at the same time
/// (uploads slowed so that they overlap): each create's marks carry its workspace, so neither
/// takes the other's half-made image for a leftover of its own. Both applies succeed, Glance
/// holds exactly their two images, visible and finished, and `-replace` in one workspace
/// leaves the other's image alone; destroy of both leaves nothing.
#[test]
fn two_workspaces_creating_the_same_image_at_once_never_touch_each_other() {
    if !acceptance::run(NEEDS) {
        return;
    }
    use flatcar_cloud::create_marker;
    let e = env(Auth::PasswordEnv);
    let size = std::fs::metadata(e.tree.dir("stable", VERSION).join(IMAGE))
        .expect("image")
        .len() as usize;
    let proxy = FaultProxy::start(&plain_glance(&e));
    proxy.add(Fault::Throttle {
        method: "PUT".into(),
        path_contains: "/file".into(),
        bytes_per_sec: (size / 4).max(1),
    });
    e.configure(
        &format!("  endpoint_overrides = {{ image = \"{}\" }}", proxy.url),
        "  import_method = \"stream\"",
    );
    e.ws.init();
    for w in ["a", "b"] {
        e.ws.run(&["workspace", "new", w]).ok();
    }
    let in_workspace = |w: &str, args: &[&str]| {
        let mut cmd = e.ws.command(args);
        cmd.env("TF_WORKSPACE", w);
        cmd
    };
    let apply = ["apply", "-auto-approve", "-input=false", "-no-color"];
    let a = in_workspace("a", &apply)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("terraform a");
    std::thread::sleep(std::time::Duration::from_secs(1));
    let b = in_workspace("b", &apply).output().expect("terraform b");
    let a = a.wait_with_output().expect("terraform a");
    for (w, out) in [("a", &a), ("b", &b)] {
        assert!(
            out.status.success(),
            "workspace {w}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let id = |w: &str| {
        let out = in_workspace(w, &["output", "-raw", "id"])
            .output()
            .expect("output");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let (id_a, id_b) = (id("a"), id("b"));
    assert_ne!(id_a, id_b);
    let mut images = e.glance_images(&plain_glance(&e));
    images.sort_by(|x, y| x.id.cmp(&y.id));
    let mut expected = vec![id_a.clone(), id_b.clone()];
    expected.sort();
    assert_eq!(
        images.iter().map(|i| i.id.clone()).collect::<Vec<_>>(),
        expected,
        "Glance holds {images:#?}"
    );
    for image in &images {
        assert!(!image.hidden, "{image:?}");
        assert_eq!(
            image
                .properties
                .get(create_marker::CREATE_STATE)
                .map(String::as_str),
            Some(create_marker::CREATED),
            "{image:?}"
        );
    }

    let replaced = in_workspace(
        "b",
        &[
            "apply",
            "-auto-approve",
            "-input=false",
            "-no-color",
            "-replace=flatcar_image.this",
        ],
    )
    .output()
    .expect("replace");
    assert!(
        replaced.status.success(),
        "{}",
        String::from_utf8_lossy(&replaced.stderr)
    );
    let after: Vec<String> = e
        .glance_images(&plain_glance(&e))
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert!(after.contains(&id_a), "workspace a's image went: {after:?}");
    assert_eq!(after.len(), 2, "{after:?}");

    for w in ["a", "b"] {
        let out = in_workspace(
            w,
            &["destroy", "-auto-approve", "-input=false", "-no-color"],
        )
        .output()
        .expect("destroy");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    e.assert_no_images(&plain_glance(&e));
    record(
        "two workspaces create one image name at once (uploads overlapping)",
        2,
        "both applies succeed; neither takes the other's image for its leftover; -replace leaves the other's",
        "exactly the two workspaces' images; none after destroy",
    );
}
