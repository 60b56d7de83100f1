//! Faults between the provider and Glance or the release server, injected by a proxy or the
//! release server itself. Each ends in success after retries or in a clear error, and
//! Glance never keeps an orphaned image. With `FLATCAR_KUBE_RELIABILITY_OUT` set, each test
//! appends `fault<TAB>injected<TAB>outcome` for the reliability table in BENCHMARKS.md.

use crate::support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use support::acceptance::{self, Need};
use support::cloud::{unique_name, LocalCloud};
use support::fault_proxy::{Fault, FaultProxy};
use support::http_server::{Fault as ServerFault, StaticServer};
use support::release_tree::{Release, ReleaseTree, SigningKey, IMAGE};
use support::reliability::record;
use support::terraform::{sigkill, wait_until, Victim, Workspace};

/// What every test here needs (`flatcar_testkit::acceptance`).
const NEEDS: &[Need] = &[Need::Terraform, Need::Cloud];

const VERSION: &str = "4593.2.5";

struct Env {
    name: String,
    tree: ReleaseTree,
    server: StaticServer,
    cloud: LocalCloud,
    proxy: FaultProxy,
    ws: Workspace,
}

fn env(glance_key: &str) -> Env {
    env_with(glance_key, "stream")
}

/// The release tree, its server, a proxy in front of Glance (`glance_key` names the catalog's
/// or the plain Glance) and an initialised workspace with one image by `import_method`.
fn env_with(glance_key: &str, import_method: &str) -> Env {
    let tree = ReleaseTree::build(
        SigningKey::generate("Faults"),
        &[Release {
            channel: "stable",
            version: VERSION,
            current: true,
        }],
    );
    let server = StaticServer::start(tree.root.path());
    let cloud = LocalCloud::get();
    let proxy = FaultProxy::start(&cloud.value(glance_key));
    let name = unique_name("fk-faults");
    let mut ws = Workspace::new();
    ws.extra_env.extend(cloud.password_env());
    ws.write_config(&format!(
        "provider \"flatcar\" {{\n  release_base_url = \"{}/{{channel}}\"\n  signing_key = <<-EOT\n{}  EOT\n  endpoint_overrides = {{ image = \"{}\" }}\n}}\nresource \"flatcar_image\" \"this\" {{\n  name = \"{name}\"\n  import_method = \"{import_method}\"\n}}\noutput \"hash\" {{ value = flatcar_image.this.os_hash_value }}\n",
        server.base_url, tree.key.armored_public, proxy.url
    ));
    ws.init();
    Env {
        name,
        tree,
        server,
        cloud,
        proxy,
        ws,
    }
}

impl Env {
    fn images_left(&self, key: &str) -> usize {
        self.cloud.images(&self.cloud.value(key), &self.name).len()
    }
}

#[test]
fn a_reset_mid_download_is_resumed() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env("FK_GLANCE_URL");
    e.server.add(ServerFault::ResetAfter {
        path_suffix: IMAGE.into(),
        bytes: 40_000,
        times: 2,
    });
    e.ws.apply().ok();
    assert_eq!(e.ws.output("hash"), e.tree.image_sha512("stable", VERSION));
    assert!(e.server.requested(&format!("{IMAGE} range=40000")));
    e.ws.run(&["destroy", "-auto-approve", "-input=false"]).ok();
    assert_eq!(e.images_left("FK_GLANCE_URL"), 0);
    record(
        "connection reset mid-download (release server), twice",
        2,
        "success: resumed with Range",
        "no image",
    );
}

#[test]
fn a_503_with_retry_after_on_image_create_is_retried() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env("FK_GLANCE_URL");
    e.proxy.add(Fault::Status {
        method: "POST".into(),
        path_contains: "/v2/images".into(),
        status: 503,
        headers: vec![("Retry-After".into(), "1".into())],
        body: String::new(),
        times: 2,
    });
    let started = Instant::now();
    e.ws.apply().ok();
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "Retry-After was not honoured"
    );
    assert_eq!(e.proxy.injected(), 2);
    assert_eq!(
        e.images_left("FK_GLANCE_URL"),
        1,
        "exactly one image, no duplicate from the retries"
    );
    e.ws.run(&["destroy", "-auto-approve", "-input=false"]).ok();
    assert_eq!(e.images_left("FK_GLANCE_URL"), 0);
    record(
        "503 + Retry-After on image create (Glance), twice",
        2,
        "success after retries",
        "no image",
    );
}

#[test]
fn a_reset_mid_upload_is_a_clear_error_and_leaves_nothing() {
    if !acceptance::run(NEEDS) {
        return;
    }
    for (key, path) in [
        ("FK_GLANCE_URL", "/stage"),
        ("FK_GLANCE_PLAIN_URL", "/file"),
    ] {
        let e = env(key);
        e.proxy.add(Fault::ResetBody {
            method: "PUT".into(),
            path_contains: path.into(),
            bytes: 50_000,
            times: 1,
        });
        let run = e.ws.apply();
        assert_ne!(run.code, 0, "{}", run.all());
        let out = run.all().split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            out.contains("Uploading the image to Glance failed"),
            "{out}"
        );
        assert_eq!(e.proxy.injected(), 1);
        assert_eq!(
            e.images_left(key),
            0,
            "an orphaned image is left after a reset on {path}"
        );
        record(
            &format!("connection reset mid-upload (PUT {path})"),
            1,
            "clear error, image deleted",
            "no image",
        );
    }
}

#[test]
fn sigint_during_the_upload_stops_cleanly_and_leaves_nothing() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env("FK_GLANCE_URL");
    // Slow the staging upload so the interrupt lands in the middle of it.
    e.proxy.add(Fault::Throttle {
        method: "PUT".into(),
        path_contains: "/stage".into(),
        bytes_per_sec: 20_000,
    });
    let child =
        e.ws.command(&["apply", "-auto-approve", "-input=false", "-no-color"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("terraform");
    wait_until("the upload", Duration::from_secs(60), || {
        e.proxy.saw("/stage")
    });
    std::thread::sleep(Duration::from_millis(500));
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill")
        .success());
    let out = child.wait_with_output().expect("wait");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "apply should be interrupted:\n{text}"
    );
    assert!(
        text.contains("Image upload cancelled") || text.contains("Interrupt received"),
        "{text}"
    );
    assert_eq!(
        e.images_left("FK_GLANCE_URL"),
        0,
        "an image was left after SIGINT:\n{text}"
    );
    record(
        "SIGINT to terraform during the upload",
        1,
        "stopped, image deleted",
        "no image",
    );
}

#[test]
fn a_create_timeout_deletes_the_half_made_image() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env("FK_GLANCE_URL");
    e.proxy.add(Fault::Throttle {
        method: "PUT".into(),
        path_contains: "/stage".into(),
        bytes_per_sec: 10_000,
    });
    let config = std::fs::read_to_string(e.ws.path().join("main.tf")).expect("main.tf");
    let with_timeout = config.replacen(
        "resource \"flatcar_image\" \"this\" {\n",
        "resource \"flatcar_image\" \"this\" {\n  timeouts {\n    create = \"3s\"\n  }\n",
        1,
    );
    std::fs::write(e.ws.path().join("main.tf"), with_timeout).expect("write");
    let run = e.ws.apply();
    assert_ne!(run.code, 0);
    assert!(
        run.all().contains("Image upload timed out"),
        "{}",
        run.all()
    );
    assert_eq!(e.images_left("FK_GLANCE_URL"), 0);
    record(
        "upload slower than timeouts.create",
        1,
        "clear error, image deleted",
        "no image",
    );
}

/// Where in an image create the kill tests freeze the provider before the SIGKILL.
#[derive(Debug, Clone, Copy)]
enum Stage {
    /// Glance created the image (queued); not one byte was sent.
    AfterCreate,
    /// The bytes are flowing into Glance (throttled to 20 kB/s).
    MidUpload,
    /// Glance is fetching the release by web-download (the release server holds its request).
    DuringImport,
}

impl Stage {
    fn import_method(self) -> &'static str {
        match self {
            Stage::DuringImport => "web-download",
            Stage::AfterCreate | Stage::MidUpload => "stream",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Stage::AfterCreate => "after the image create",
            Stage::MidUpload => "mid-upload",
            Stage::DuringImport => "during a web-download import",
        }
    }

    /// Puts the fault in place that stops the create at this stage.
    fn arrange(self, e: &Env) {
        match self {
            Stage::AfterCreate => e.proxy.add(Fault::Stall {
                method: "PUT".into(),
                path_contains: "/v2/images/".into(),
            }),
            Stage::MidUpload => e.proxy.add(Fault::Throttle {
                method: "PUT".into(),
                path_contains: "/stage".into(),
                bytes_per_sec: 20_000,
            }),
            Stage::DuringImport => e.server.add(ServerFault::Stall {
                path_suffix: IMAGE.into(),
            }),
        }
    }

    /// Whether the running create has reached this stage.
    fn reached(self, e: &Env) -> bool {
        match self {
            Stage::AfterCreate => e.proxy.injected() > 0,
            Stage::MidUpload => e.proxy.saw("/stage"),
            // Only Glance fetches the image file by web-download, after the import call.
            // (not its DIGESTS or signature, whose names start with the image's).
            Stage::DuringImport => e
                .server
                .requests
                .lock()
                .is_ok_and(|r| r.iter().any(|p| p.ends_with(IMAGE))),
        }
    }
}

/// SIGKILL to terraform, and separately to the provider, at `stage` of the image create: the
/// next `terraform apply` succeeds and Glance then holds exactly one image of that name (hidden
/// ones included), the one in state: the create deletes what the interrupted attempt left,
/// found by its marker properties.
fn a_kill_then_apply_leaves_exactly_one_image(stage: Stage) {
    for victim in [Victim::Terraform, Victim::Provider] {
        let e = env_with("FK_GLANCE_URL", stage.import_method());
        stage.arrange(&e);
        let mut child = e.ws.spawn_apply();
        wait_until(stage.describe(), Duration::from_secs(60), || {
            stage.reached(&e)
        });
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            e.images_left("FK_GLANCE_URL") > 0,
            "{victim:?}: no image in Glance {}",
            stage.describe()
        );
        // With terraform killed, the orphaned provider may delete the image itself (it stops
        // and cleans up before it exits); with the provider killed, the next apply must.
        sigkill(&mut child, victim);

        // The next apply, with nothing in the way, as a user would run it.
        e.proxy.clear();
        e.server.clear();
        let run = e.ws.apply();
        assert_eq!(
            run.code,
            0,
            "{victim:?} {}: the next apply fails:\n{}",
            stage.describe(),
            run.all()
        );
        let state =
            e.ws.run(&["state", "show", "-no-color", "flatcar_image.this"]);
        let images = e.cloud.images(&e.cloud.value("FK_GLANCE_URL"), &e.name);
        assert_eq!(
            images.len(),
            1,
            "{victim:?} {}: Glance holds {images:#?}",
            stage.describe()
        );
        assert!(
            state.all().contains(&images[0].id),
            "{victim:?} {}: the image left is the one in state:\n{}",
            stage.describe(),
            state.all()
        );
        e.ws.run(&["destroy", "-auto-approve", "-input=false"]).ok();
        assert_eq!(e.images_left("FK_GLANCE_URL"), 0);
        record(
            &format!(
                "SIGKILL to {} {}, then apply",
                victim.name(),
                stage.describe()
            ),
            1,
            "next apply succeeds, leftover deleted",
            "exactly one image",
        );
    }
}

#[test]
fn a_kill_after_the_image_create_then_apply_leaves_exactly_one_image() {
    if !acceptance::run(NEEDS) {
        return;
    }
    a_kill_then_apply_leaves_exactly_one_image(Stage::AfterCreate);
}

#[test]
fn a_kill_mid_upload_then_apply_leaves_exactly_one_image() {
    if !acceptance::run(NEEDS) {
        return;
    }
    a_kill_then_apply_leaves_exactly_one_image(Stage::MidUpload);
}

#[test]
fn a_kill_during_a_web_download_import_then_apply_leaves_exactly_one_image() {
    if !acceptance::run(NEEDS) {
        return;
    }
    a_kill_then_apply_leaves_exactly_one_image(Stage::DuringImport);
}
