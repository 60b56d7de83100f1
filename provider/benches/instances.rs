//! `flatcar_instance` figures in one run, written into BENCHMARKS.md (run
//! `bash scripts/bench.sh`, which starts the local cloud with the compute stack):
//! - apply of 30 instances vs. the ideal: one instance's boot time x ceil(30 / parallelism);
//! - `terraform plan` of 100 `flatcar_instance` vs. 100 `terraform_data`, alternating runs.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use support::benchmarks::write_section;
use support::cloud::{unique_name, LocalCloud};
use support::http_server::StaticServer;
use support::release_tree::{Release, ReleaseTree, SigningKey};
use support::terraform::Workspace;

const PARALLELISM: usize = 10;
const PLANS: usize = 5;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

fn instances_config(base: &str, key: &str, cloud: &LocalCloud, name: &str, count: usize) -> String {
    format!(
        r#"provider "flatcar" {{
  release_base_url = "{base}/{{channel}}"
  signing_key      = <<-EOT
{key}  EOT
}}
resource "flatcar_image" "img" {{
  name    = "{name}-img"
  version = "4593.2.5"
}}
resource "flatcar_instance" "n" {{
  count       = {count}
  name        = "{name}-${{count.index}}"
  image_id    = flatcar_image.img.id
  flavor_name = "{flavor}"
  network {{
    name = "{network}"
  }}
}}
"#,
        flavor = cloud.value("FK_FLAVOR_SMALL"),
        network = cloud.value("FK_NETWORK_NAME"),
    )
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let count: usize = std::env::var("FLATCAR_KUBE_BENCH_INSTANCES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let tree = ReleaseTree::build(
        SigningKey::generate("Bench Instances"),
        &[Release {
            channel: "stable",
            version: "4593.2.5",
            current: true,
        }],
    );
    let server = StaticServer::start(tree.root.path());
    let cloud = LocalCloud::get();
    let name = unique_name("fk-bench-vm");

    // One instance: the boot time (image made first, not timed).
    let mut ws = Workspace::new();
    ws.extra_env.extend(cloud.password_env());
    ws.write_config(&instances_config(
        &server.base_url,
        &tree.key.armored_public,
        &cloud,
        &name,
        0,
    ));
    ws.init();
    ws.apply().ok();
    ws.write_config(&instances_config(
        &server.base_url,
        &tree.key.armored_public,
        &cloud,
        &name,
        1,
    ));
    let start = Instant::now();
    ws.apply().ok();
    let one = start.elapsed();
    ws.write_config(&instances_config(
        &server.base_url,
        &tree.key.armored_public,
        &cloud,
        &name,
        0,
    ));
    ws.apply().ok();

    // Many instances at Terraform's default parallelism.
    ws.write_config(&instances_config(
        &server.base_url,
        &tree.key.armored_public,
        &cloud,
        &name,
        count,
    ));
    let start = Instant::now();
    ws.apply().ok();
    let many = start.elapsed();
    ws.run(&["destroy", "-auto-approve", "-input=false"]).ok();
    let ideal = one * count.div_ceil(PARALLELISM) as u32;

    // Plans of 100 resources, ours vs Terraform's built-in terraform_data.
    let planned = Workspace::new();
    let mut config = String::from("provider \"flatcar\" {}\n");
    for i in 0..100 {
        config.push_str(&format!(
            "resource \"flatcar_instance\" \"n{i}\" {{\n  name = \"n{i}\"\n  image_id = \"00000000-0000-0000-0000-000000000000\"\n  flavor_name = \"m1.tiny\"\n  user_data = jsonencode({{ ignition = {{ version = \"3.4.0\" }} }})\n  network {{\n    name = \"private\"\n  }}\n}}\n"
        ));
    }
    planned.write_config(&config);
    planned.init();
    let baseline = Workspace::new();
    let mut config = String::new();
    for i in 0..100 {
        config.push_str(&format!(
            "resource \"terraform_data\" \"d{i}\" {{\n  input = \"{i}\"\n}}\n"
        ));
    }
    baseline.write_config(&config);
    baseline.init();
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..PLANS {
        let t = Instant::now();
        planned.run(&["plan", "-input=false"]).ok();
        ours.push(t.elapsed());
        let t = Instant::now();
        baseline.run(&["plan", "-input=false"]).ok();
        theirs.push(t.elapsed());
    }
    let (ours, theirs) = (median(ours), median(theirs));

    let section = format!(
        "## Instances (`flatcar_instance`)\n\n\
         Measured by `bash scripts/bench.sh` in one run ({} cores), real Nova (fake virt driver) and Neutron on 127.0.0.1.\n\n\
         | what | figure | target |\n|---|---|---|\n\
         | boot of one instance (`apply`, ACTIVE) | {} | |\n\
         | `apply` of {count} instances, parallelism {PARALLELISM} | {} | |\n\
         | ideal: boot time x ceil({count} / {PARALLELISM}) | {} | |\n\
         | ratio to ideal | {:.2} x | <= 1.2 x |\n\
         | `terraform plan`, 100 `flatcar_instance` (create), median of {PLANS} | {} | |\n\
         | `terraform plan`, 100 `terraform_data` (baseline), median of {PLANS} | {} | |\n\
         | ratio | {:.2} x | <= 1.5 x |\n",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        secs(one),
        secs(many),
        secs(ideal),
        many.as_secs_f64() / ideal.as_secs_f64(),
        secs(ours),
        secs(theirs),
        ours.as_secs_f64() / theirs.as_secs_f64()
    );
    println!("{section}");
    write_section("instances", &section);
}
