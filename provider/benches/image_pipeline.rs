//! Image pipeline figures, measured in one run against the local Keystone + Glance and
//! written into BENCHMARKS.md (run `bash scripts/bench.sh`, which starts the cloud):
//! for a 256 MiB and a 2 GiB real qcow2 (random content, so nothing compresses away),
//! (a) `terraform apply` of one `flatcar_image` (plain `PUT /file`, and stage + import),
//! (b) the manual sequence: download to a file, then `openstack image create --file`,
//! (c) each stage alone (download to /dev/null; `openstack image create` from a local file);
//! plus the provider's peak RSS and bytes it wrote to disk. Also renders the reliability
//! table from the fault tests' records (FLATCAR_KUBE_RELIABILITY_OUT).

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::benchmarks::{sample_processes, secs, write_section, ProcessPeak};
use support::cloud::{unique_name, LocalCloud};
use support::http_server::StaticServer;
use support::release_tree::{publish_files, SigningKey, IMAGE};
use support::terraform::Workspace;

const VERSION: &str = "4593.2.5";

fn run_ok(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn timed(cmd: &mut Command) -> Duration {
    let start = Instant::now();
    run_ok(cmd);
    start.elapsed()
}

/// A release directory whose image is a real qcow2 of `mib` MiB of random data.
fn big_release(key: &SigningKey, root: &Path, mib: u64) {
    let dir = root.join(format!("stable/amd64-usr/{VERSION}"));
    std::fs::create_dir_all(&dir).expect("dir");
    let raw = root.join("random.raw");
    run_ok(Command::new("sh").arg("-c").arg(format!(
        "head -c {}M /dev/urandom > {}",
        mib,
        raw.display()
    )));
    run_ok(
        Command::new("qemu-img")
            .args(["convert", "-q", "-f", "raw", "-O", "qcow2"])
            .arg(&raw)
            .arg(dir.join(IMAGE)),
    );
    std::fs::remove_file(&raw).expect("rm raw");
    publish_files(key, &dir, VERSION, false);
}

struct Figures {
    size: String,
    apply_plain: Duration,
    apply_direct: Duration,
    manual: Duration,
    download_alone: Duration,
    upload_alone: Duration,
    peak: ProcessPeak,
}

fn apply_image(
    cloud: &LocalCloud,
    server: &StaticServer,
    key: &SigningKey,
    glance: &str,
) -> (Duration, ProcessPeak) {
    let mut ws = Workspace::new();
    ws.extra_env.extend(cloud.password_env());
    let name = unique_name("fk-bench");
    ws.write_config(&format!(
        "provider \"flatcar\" {{\n  release_base_url = \"{}/{{channel}}\"\n  signing_key = <<-EOT\n{}  EOT\n  endpoint_overrides = {{ image = \"{glance}\" }}\n}}\nresource \"flatcar_image\" \"this\" {{\n  name = \"{name}\"\n  version = \"{VERSION}\"\n  import_method = \"stream\"\n}}\n",
        server.base_url, key.armored_public
    ));
    ws.init();
    let done = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&done);
    let sampler = std::thread::spawn(move || {
        sample_processes("terraform-provider-flatcar_v", || {
            flag.load(Ordering::SeqCst)
        })
    });
    let start = Instant::now();
    ws.apply().ok();
    let elapsed = start.elapsed();
    done.store(true, Ordering::SeqCst);
    let peak = sampler.join().expect("sampler");
    ws.run(&["destroy", "-auto-approve", "-input=false"]).ok();
    (elapsed, peak)
}

fn measure(cloud: &LocalCloud, key: &SigningKey, mib: u64) -> Figures {
    let root = tempfile::tempdir().expect("root");
    big_release(key, root.path(), mib);
    let server = StaticServer::start(root.path());
    let url = format!("{}/stable/amd64-usr/{VERSION}/{IMAGE}", server.base_url);

    let (apply_plain, peak) = apply_image(cloud, &server, key, &cloud.value("FK_GLANCE_PLAIN_URL"));
    let (apply_direct, direct_peak) =
        apply_image(cloud, &server, key, &cloud.value("FK_GLANCE_URL"));

    let openstack = Path::new(&std::env::var("FLATCAR_KUBE_CACHE").unwrap_or_else(|_| {
        format!(
            "{}/.cache/flatcar-kube",
            std::env::var("HOME").unwrap_or_default()
        )
    }))
    .join("openstack-venv/bin/openstack");
    let file = root.path().join("downloaded.img");
    let upload = |name: &str| {
        let mut cmd = Command::new(&openstack);
        cmd.envs(cloud.password_env())
            .args([
                "image",
                "create",
                "--disk-format",
                "qcow2",
                "--container-format",
                "bare",
                "--file",
            ])
            .arg(&file)
            .arg(name);
        cmd
    };
    let delete = |name: &str| {
        run_ok(
            Command::new(&openstack)
                .envs(cloud.password_env())
                .args(["image", "delete", name]),
        )
    };

    // (b) the manual sequence, then (c) each stage alone.
    let manual_name = unique_name("fk-bench-manual");
    let manual = timed(
        Command::new("curl")
            .args(["-sSf", "-o"])
            .arg(&file)
            .arg(&url),
    ) + timed(&mut upload(&manual_name));
    delete(&manual_name);
    let download_alone = timed(Command::new("curl").args(["-sSf", "-o", "/dev/null", &url]));
    let alone_name = unique_name("fk-bench-alone");
    let upload_alone = timed(&mut upload(&alone_name));
    delete(&alone_name);

    Figures {
        size: if mib >= 1024 {
            format!("{} GiB", mib / 1024)
        } else {
            format!("{mib} MiB")
        },
        apply_plain,
        apply_direct,
        manual,
        download_alone,
        upload_alone,
        peak: ProcessPeak {
            peak_rss_kib: peak.peak_rss_kib.max(direct_peak.peak_rss_kib),
            disk_write_bytes: peak.disk_write_bytes.max(direct_peak.disk_write_bytes),
        },
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    if let Some(section) = support::reliability::section() {
        println!("{section}");
        write_section("reliability", &section);
    }
    let cloud = LocalCloud::get();
    let key = SigningKey::generate("Bench Image");
    let sizes: Vec<u64> = std::env::var("FLATCAR_KUBE_BENCH_SIZES_MIB")
        .ok()
        .map(|s| s.split(',').filter_map(|v| v.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![256, 2048]);
    let figures: Vec<Figures> = sizes
        .iter()
        .map(|&mib| measure(&cloud, &key, mib))
        .collect();
    let mut rows = String::new();
    for f in &figures {
        let slowest = f.download_alone.max(f.upload_alone);
        rows.push_str(&format!(
            "| {} | {} | {} | {} | {} / {} | {:.2} x | {:.1} MiB | {} B |\n",
            f.size,
            secs(f.apply_plain),
            secs(f.apply_direct),
            secs(f.manual),
            secs(f.download_alone),
            secs(f.upload_alone),
            f.apply_plain.as_secs_f64() / slowest.as_secs_f64(),
            f.peak.peak_rss_kib as f64 / 1024.0,
            f.peak.disk_write_bytes
        ));
    }
    let section = format!(
        "## Image pipeline (`flatcar_image` create)\n\n\
         Measured by `bash scripts/bench.sh` in one run ({} cores), real Keystone + Glance on 127.0.0.1 \
         (MariaDB, filesystem store), the release served locally, random-content qcow2 fixtures.\n\
         (a) `terraform apply` of one `flatcar_image`: plain `PUT /file` Glance, and the glance-direct \
         Glance (stage + import, import copies the staged data once more inside Glance); \
         (b) manual: `curl -o file` then `openstack image create --file`; (c) each stage alone: \
         `curl -o /dev/null`, and `openstack image create --file` from a local file (Glance's write speed). \
         Peak RSS and disk writes are the provider process's (VmHWM, `write_bytes` from /proc), over both applies; the pipeline opens no file, so a disk-write figure that does not grow with the image (a few KiB of process bookkeeping) means no image byte touched the disk, where a temporary file would show the image's size.\n\n\
         | image | (a) apply, PUT /file | (a) apply, stage + import | (b) manual | (c) download / upload alone | (a) / slowest stage | provider peak RSS | provider disk writes |\n\
         |---|---|---|---|---|---|---|---|\n{rows}",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    println!("{section}");
    write_section("image-pipeline", &section);
}
