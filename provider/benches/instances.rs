//! `flatcar_instance` figures in one run, written into BENCHMARKS.md (run
//! `bash scripts/bench.sh`, which starts the local cloud with the compute stack):
//! - apply of 30 instances vs. the ideal: one instance's boot time x ceil(30 / parallelism);
//! - `terraform plan` of 100 `flatcar_instance` vs. 100 `terraform_data`, alternating runs.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use support::benchmarks::{median, secs, write_section};
use support::cloud::{unique_name, LocalCloud};
use support::http_server::StaticServer;
use support::release_tree::{Release, ReleaseTree, SigningKey};
use support::terraform::Workspace;

const PARALLELISM: usize = 10;
const PLANS: usize = 9;
/// Single-instance applies whose median is the boot time of the ideal.
const BOOTS: usize = 3;

fn millis(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
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
output "image_id" {{
  value = flatcar_image.img.id
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

/// Creates `count` servers at once straight through the Nova API, polls every 0.5 s until all
/// are ACTIVE, then deletes them: how fast this cloud itself boots that many (no Terraform,
/// no provider waits). Returns the time from the first create to the last ACTIVE.
fn cloud_floor(cloud: &LocalCloud, image_id: &str, prefix: &str, count: usize) -> Duration {
    use flatcar_cloud::openstack::nova::{NetworkAttachment, NewServer, Nova};
    let session = cloud.session(false);
    let nova = Nova::new(&session);
    cloud.block_on(async {
        let flavor = nova
            .flavors()
            .await
            .expect("flavors")
            .into_iter()
            .find(|f| f.name == cloud.value("FK_FLAVOR_SMALL"))
            .expect("small flavor");
        let new = |i: usize| NewServer {
            name: format!("{prefix}-{i}"),
            image_id: image_id.to_string(),
            flavor_id: flavor.id.clone(),
            key_name: None,
            user_data: None,
            networks: vec![NetworkAttachment::Network {
                uuid: cloud.value("FK_NETWORK_ID"),
                fixed_ip_v4: None,
            }],
            security_groups: Vec::new(),
            metadata: Default::default(),
            availability_zone: None,
            config_drive: false,
            root_volume_size: None,
        };
        let start = Instant::now();
        let servers: Vec<NewServer> = (0..count).map(new).collect();
        let ids: Vec<String> =
            futures::future::try_join_all(servers.iter().map(|s| nova.create(s)))
                .await
                .expect("create");
        loop {
            let listed = nova.list().await.expect("list");
            let active = listed
                .iter()
                .filter(|s| ids.contains(&s.id) && s.status == "ACTIVE")
                .count();
            assert!(
                !listed
                    .iter()
                    .any(|s| ids.contains(&s.id) && s.status == "ERROR"),
                "a floor server went to ERROR"
            );
            if active == count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let elapsed = start.elapsed();
        futures::future::try_join_all(ids.iter().map(|id| nova.delete(id)))
            .await
            .expect("delete");
        while nova
            .list()
            .await
            .expect("list")
            .iter()
            .any(|s| ids.contains(&s.id))
        {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        elapsed
    })
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
    let mut boots = Vec::new();
    for _ in 0..BOOTS {
        ws.write_config(&instances_config(
            &server.base_url,
            &tree.key.armored_public,
            &cloud,
            &name,
            1,
        ));
        let start = Instant::now();
        ws.apply().ok();
        boots.push(start.elapsed());
        ws.write_config(&instances_config(
            &server.base_url,
            &tree.key.armored_public,
            &cloud,
            &name,
            0,
        ));
        ws.apply().ok();
    }
    let one = median(boots);

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
    let image_id = ws
        .output("image_id")
        .as_str()
        .expect("image id")
        .to_string();

    // The cloud's own pace, without Terraform and the provider: one server, then all at once.
    let floor_one = cloud_floor(&cloud, &image_id, &format!("{name}-floor"), 1);
    let floor_many = cloud_floor(&cloud, &image_id, &format!("{name}-floor"), count);
    ws.run(&["destroy", "-auto-approve", "-input=false"]).ok();
    let ideal = one * count.div_ceil(PARALLELISM) as u32;

    // Plans of 100 resources, ours vs Terraform's built-in terraform_data. Our provider runs
    // under bash's `time`, which appends each process's CPU seconds (ms precision) to `cpu_log`
    // while the provider's own stderr still reaches Terraform.
    let wrapper_dir = tempfile::tempdir().expect("tmp");
    let cpu_log = wrapper_dir.path().join("provider-cpu.txt");
    let wrapper = wrapper_dir.path().join("terraform-provider-flatcar");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/bash\nTIMEFORMAT='%3U %3S'\n{{ time '{}' \"$@\" 2>&3; }} 3>&2 2>>'{}'\n",
            support::terraform::provider_binary().display(),
            cpu_log.display(),
        ),
    )
    .expect("wrapper");
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod wrapper");
    let planned = Workspace::with_provider(&wrapper);
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
    let _ = std::fs::remove_file(&cpu_log);
    for _ in 0..PLANS {
        let t = Instant::now();
        planned.run(&["plan", "-input=false"]).ok();
        ours.push(t.elapsed());
        let t = Instant::now();
        baseline.run(&["plan", "-input=false"]).ok();
        theirs.push(t.elapsed());
    }
    let (ours, theirs) = (median(ours), median(theirs));
    // CPU of the provider processes per plan (user + system), from the `time` lines.
    let provider_cpu: f64 = std::fs::read_to_string(&cpu_log)
        .unwrap_or_default()
        .lines()
        .flat_map(|l| {
            l.split_whitespace()
                .map(|v| v.parse::<f64>().unwrap_or(0.0))
        })
        .sum::<f64>()
        / PLANS as f64;

    let section = format!(
        "## Instances (`flatcar_instance`)\n\n\
         Measured by `bash scripts/bench.sh` in one run ({} cores), real Nova (fake virt driver) and Neutron on 127.0.0.1.\n\n\
         | what | figure | target |\n|---|---|---|\n\
         | boot of one instance (`apply` until ACTIVE), median of {BOOTS} | {} | |\n\
         | `apply` of {count} instances, parallelism {PARALLELISM} | {} | |\n\
         | ideal: boot time x ceil({count} / {PARALLELISM}) | {} | |\n\
         | ratio to ideal | {:.2} x | <= 1.2 x |\n\
         | the cloud alone: 1 server through the API, polled every 0.5 s | {} | |\n\
         | the cloud alone: {count} servers created at once through the API | {} | |\n\
         | `apply` of {count} / the cloud alone with {count} | {:.2} x | |\n\
         | `terraform plan`, 100 `flatcar_instance` (create), median of {PLANS} | {} | |\n\
         | `terraform plan`, 100 `terraform_data` (baseline), median of {PLANS} | {} | |\n\
         | ratio | {:.2} x | <= 1.5 x |\n\
         | CPU of our provider's processes per plan (Terraform starts it 3 times) | {:.0} ms | |\n",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        secs(one),
        secs(many),
        secs(ideal),
        many.as_secs_f64() / ideal.as_secs_f64(),
        secs(floor_one),
        secs(floor_many),
        many.as_secs_f64() / floor_many.as_secs_f64(),
        millis(ours),
        millis(theirs),
        ours.as_secs_f64() / theirs.as_secs_f64(),
        provider_cpu * 1000.0
    );
    println!("{section}");
    write_section("instances", &section);
}
