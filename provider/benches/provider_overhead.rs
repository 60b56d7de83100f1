//! Provider overhead, measured in one run and written into BENCHMARKS.md:
//! - start-up: process start to the go-plugin handshake line (AutoMTLS on, as under Terraform);
//! - `terraform plan` with 100 `flatcar_release` data sources vs. 100 `terraform_data`
//!   resources (Terraform's built-in provider, the baseline), alternating runs.
//!
//! Run with `bash scripts/bench.sh` (release build).

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::benchmarks::median;
use support::http_server::StaticServer;
use support::plugin_client::{ClientCert, MAGIC_COOKIE};
use support::release_tree::{Release, ReleaseTree, SigningKey};
use support::terraform::{provider_binary, Workspace};

const STARTS: usize = 30;
const PLANS: usize = 5;
const COUNT: usize = 100;

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn startup_times() -> Vec<Duration> {
    let pem = ClientCert::like_go_plugin().pem;
    (0..STARTS)
        .map(|_| {
            let start = Instant::now();
            let mut child = Command::new(provider_binary())
                .env(MAGIC_COOKIE.0, MAGIC_COOKIE.1)
                .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
                .env("PLUGIN_CLIENT_CERT", &pem)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn");
            let mut line = String::new();
            BufReader::new(child.stdout.take().expect("stdout"))
                .read_line(&mut line)
                .expect("handshake");
            let elapsed = start.elapsed();
            assert!(line.starts_with("1|6|unix|"), "handshake {line:?}");
            support::process::terminate(&mut child);
            elapsed
        })
        .collect()
}

fn timed_plan(ws: &Workspace) -> Duration {
    let start = Instant::now();
    ws.run(&["plan", "-input=false", "-refresh=true"]).ok();
    start.elapsed()
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return; // `cargo test --benches` probes; nothing to list.
    }
    let startup = startup_times();

    let tree = ReleaseTree::build(
        SigningKey::generate("Bench Signing"),
        &[Release {
            channel: "stable",
            version: "4593.2.5",
            current: true,
        }],
    );
    let server = StaticServer::start(tree.root.path());
    let releases = Workspace::new();
    let mut config = format!(
        "provider \"flatcar\" {{\n  release_base_url = \"{}/{{channel}}\"\n  signing_key = <<-EOT\n{}  EOT\n}}\n",
        server.base_url, tree.key.armored_public
    );
    for i in 0..COUNT {
        config.push_str(&format!(
            "data \"flatcar_release\" \"r{i}\" {{\n  version = \"current\"\n}}\n"
        ));
    }
    releases.write_config(&config);
    releases.init();
    let baseline = Workspace::new();
    let mut config = String::new();
    for i in 0..COUNT {
        config.push_str(&format!(
            "resource \"terraform_data\" \"d{i}\" {{\n  input = \"{i}\"\n}}\n"
        ));
    }
    baseline.write_config(&config);
    baseline.init();

    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..PLANS {
        ours.push(timed_plan(&releases));
        theirs.push(timed_plan(&baseline));
    }
    let (ours, theirs) = (median(ours), median(theirs));
    let min_start = *startup.iter().min().expect("runs");
    let max_start = *startup.iter().max().expect("runs");
    let section = format!(
        "## Provider overhead\n\n\
         Measured by `bash scripts/bench.sh` (release build, one run, {} cores).\n\n\
         | what | figure |\n|---|---|\n\
         | process start to handshake line (AutoMTLS), median of {STARTS} | {} (min {}, max {}) |\n\
         | `terraform plan`, {COUNT} `flatcar_release` data sources (each resolves version.txt + verifies DIGESTS.asc), median of {PLANS} | {} |\n\
         | `terraform plan`, {COUNT} `terraform_data` resources (baseline), median of {PLANS} | {} |\n\
         | ratio | {:.2} x |\n",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        ms(median(startup)),
        ms(min_start),
        ms(max_start),
        ms(ours),
        ms(theirs),
        ours.as_secs_f64() / theirs.as_secs_f64()
    );
    println!("{section}");
    support::benchmarks::write_section("provider-overhead", &section);
}
