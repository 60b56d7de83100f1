//! `terraform plan` (a create plan, no state) of 100 resources, in one run, alternating, written
//! into BENCHMARKS.md ("plan-floor"):
//! - `terraform_data`: Terraform's built-in resource, no plugin at all;
//! - `noop_thing`: a resource that does nothing, served by tfplugin without the framework
//!   (`proto/examples/noop_provider.rs`): the floor of the plugin protocol as we serve it;
//! - `flatcar_instance`, this build ("after");
//! - `flatcar_instance`, an older build ("before"), when `FLATCAR_KUBE_BEFORE_PROVIDER` names
//!   its binary (e.g. built from a `git worktree` of the older commit).
//!
//! Besides wall time: the CPU of Terraform and its plugins together (children CPU of this
//! process, 10 ms resolution), the CPU of the provider processes alone (in extra runs under a
//! bash `time` wrapper, so the timed runs carry no wrapper), and, from one `TF_LOG=trace` run
//! each, how often Terraform starts the provider and which RPCs it makes.
//!
//! Needs no cloud. The no-op provider is a cargo example of tfplugin, built beforehand:
//! `cargo build --release -p tfplugin --example noop_provider` (scripts/bench.sh does), or
//! named by `FLATCAR_KUBE_NOOP_PROVIDER`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use support::benchmarks::{median, write_section};
use support::terraform::{provider_binary, Workspace, PROVIDER_SOURCE};

const PLANS: usize = 9;
const COUNT: usize = 100;
const NOOP_SOURCE: &str = "registry.terraform.io/flatcar-kube/noop";

fn millis(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// The no-op provider: `FLATCAR_KUBE_NOOP_PROVIDER`, else the example beside this bench's
/// profile directory (target/release/examples/).
fn noop_binary() -> PathBuf {
    if let Ok(path) = std::env::var("FLATCAR_KUBE_NOOP_PROVIDER") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("bench path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let path = profile_dir.join("examples/noop_provider");
    assert!(
        path.is_file(),
        "{} is missing: build it first with `cargo build --release -p tfplugin --example noop_provider`",
        path.display()
    );
    path
}

/// The resources of one plan: `flatcar_instance` as the instances bench plans them, or the
/// same bodies as `noop_thing`.
fn instances_body(provider: &str, resource: &str) -> String {
    let mut config = format!("provider \"{provider}\" {{}}\n");
    for i in 0..COUNT {
        config.push_str(&format!(
            "resource \"{resource}\" \"n{i}\" {{\n  name = \"n{i}\"\n  image_id = \"00000000-0000-0000-0000-000000000000\"\n  flavor_name = \"m1.tiny\"\n  user_data = jsonencode({{ ignition = {{ version = \"3.4.0\" }} }})\n  network {{\n    name = \"private\"\n  }}\n}}\n"
        ));
    }
    config
}

fn main_tf(source: Option<(&str, &str)>, body: &str) -> String {
    match source {
        Some((local, source)) => format!(
            "terraform {{\n  required_providers {{\n    {local} = {{ source = \"{source}\" }}\n  }}\n}}\n\n{body}"
        ),
        None => body.to_string(),
    }
}

/// CPU time of this process's reaped children (Terraform and, through it, its plugins).
fn children_cpu(ticks_per_sec: f64) -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let fields: Vec<&str> = stat[stat.rfind(')').expect("comm") + 2..]
        .split_whitespace()
        .collect();
    // Fields 16 and 17 of proc(5) (cutime, cstime); `fields` starts at field 3.
    let ticks: f64 =
        fields[13].parse::<f64>().expect("cutime") + fields[14].parse::<f64>().expect("cstime");
    Duration::from_secs_f64(ticks / ticks_per_sec)
}

/// One configuration under test.
struct Subject {
    label: String,
    /// Timed runs: the provider as Terraform would run it.
    ws: Workspace,
    /// Runs with the provider under bash's `time` (CPU per process into `cpu_log`).
    wrapped: Option<Workspace>,
    cpu_log: PathBuf,
    _wrapper_dir: Option<tempfile::TempDir>,
    walls: Vec<Duration>,
    cpus: Vec<Duration>,
    /// Per wrapped plan, the CPU (user + system) of each provider process, in exit order.
    provider_cpus: Vec<Vec<Duration>>,
    rpcs: BTreeMap<String, usize>,
}

impl Subject {
    fn builtin(label: &str, main_tf: &str) -> Subject {
        let ws = Workspace::new();
        std::fs::write(ws.dir.join("main.tf"), main_tf).expect("main.tf");
        ws.init();
        Subject::new(label, ws)
    }

    fn plugin(label: &str, source: &str, binary: &Path, main_tf: &str) -> Subject {
        let binary = binary
            .canonicalize()
            .unwrap_or_else(|e| panic!("{}: {e}", binary.display()));
        let ws = Workspace::with_provider_at(source, &binary);
        std::fs::write(ws.dir.join("main.tf"), main_tf).expect("main.tf");
        ws.init();
        let wrapper_dir = tempfile::tempdir().expect("tmp");
        let cpu_log = wrapper_dir.path().join("provider-cpu.txt");
        let wrapper = wrapper_dir.path().join("provider-under-time");
        // `time` appends one line per provider process ("user system", ms precision) while
        // the provider's own stderr still reaches Terraform.
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/bash\nTIMEFORMAT='%3U %3S'\n{{ time '{}' \"$@\" 2>&3; }} 3>&2 2>>'{}'\n",
                binary.display(),
                cpu_log.display(),
            ),
        )
        .expect("wrapper");
        std::fs::set_permissions(
            &wrapper,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .expect("chmod wrapper");
        let wrapped = Workspace::with_provider_at(source, &wrapper);
        std::fs::write(wrapped.dir.join("main.tf"), main_tf).expect("main.tf");
        wrapped.init();
        Subject {
            wrapped: Some(wrapped),
            cpu_log,
            _wrapper_dir: Some(wrapper_dir),
            ..Subject::new(label, ws)
        }
    }

    fn new(label: &str, ws: Workspace) -> Subject {
        Subject {
            label: label.to_string(),
            ws,
            wrapped: None,
            cpu_log: PathBuf::new(),
            _wrapper_dir: None,
            walls: Vec::new(),
            cpus: Vec::new(),
            provider_cpus: Vec::new(),
            rpcs: BTreeMap::new(),
        }
    }

    fn plan(ws: &Workspace) {
        ws.run(&["plan", "-input=false"]).ok();
    }

    /// One timed plan, then (for plugins) one plan under the `time` wrapper.
    fn measure(&mut self, ticks_per_sec: f64) {
        let cpu = children_cpu(ticks_per_sec);
        let start = Instant::now();
        Subject::plan(&self.ws);
        self.walls.push(start.elapsed());
        self.cpus.push(children_cpu(ticks_per_sec) - cpu);
        if let Some(wrapped) = &self.wrapped {
            let _ = std::fs::remove_file(&self.cpu_log);
            Subject::plan(wrapped);
            let log = std::fs::read_to_string(&self.cpu_log).unwrap_or_default();
            self.provider_cpus.push(
                log.lines()
                    .map(|l| {
                        let secs: f64 = l
                            .split_whitespace()
                            .map(|v| v.parse::<f64>().unwrap_or(0.0))
                            .sum();
                        Duration::from_secs_f64(secs)
                    })
                    .collect(),
            );
        }
    }

    /// One plan with `TF_LOG=trace`: the RPCs Terraform makes, as it logs them.
    fn trace(&mut self) {
        let log = tempfile::NamedTempFile::new().expect("tmp");
        let kept = self.ws.extra_env.len();
        self.ws.extra_env.push(("TF_LOG".into(), "trace".into()));
        self.ws
            .extra_env
            .push(("TF_LOG_PATH".into(), log.path().display().to_string()));
        Subject::plan(&self.ws);
        self.ws.extra_env.truncate(kept);
        let text = std::fs::read_to_string(log.path()).unwrap_or_default();
        for line in text.lines() {
            if let Some(rest) = line.split("GRPCProvider.v6: ").nth(1) {
                let method: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .collect();
                // Method names only ("returning cached schema" is not an RPC).
                if method.starts_with(|c: char| c.is_ascii_uppercase()) {
                    *self.rpcs.entry(method).or_default() += 1;
                }
            }
        }
    }

    fn wall(&self) -> Duration {
        median(self.walls.clone())
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return; // `cargo test --benches` probes; nothing to list.
    }
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into());
    let ticks_per_sec: f64 = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0);
    let before = std::env::var("FLATCAR_KUBE_BEFORE_PROVIDER")
        .ok()
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);

    let mut terraform_data = String::new();
    for i in 0..COUNT {
        terraform_data.push_str(&format!(
            "resource \"terraform_data\" \"d{i}\" {{\n  input = \"{i}\"\n}}\n"
        ));
    }
    let flatcar_tf = main_tf(
        Some(("flatcar", PROVIDER_SOURCE)),
        &instances_body("flatcar", "flatcar_instance"),
    );
    let mut subjects = vec![
        Subject::builtin(
            &format!("{COUNT} `terraform_data` (built into Terraform, no plugin)"),
            &main_tf(None, &terraform_data),
        ),
        Subject::plugin(
            &format!("{COUNT} `noop_thing` (tfplugin, no framework, does nothing)"),
            NOOP_SOURCE,
            &noop_binary(),
            &main_tf(
                Some(("noop", NOOP_SOURCE)),
                &instances_body("noop", "noop_thing"),
            ),
        ),
        Subject::plugin(
            &format!("{COUNT} `flatcar_instance`, after (this build)"),
            PROVIDER_SOURCE,
            &provider_binary(),
            &flatcar_tf,
        ),
    ];
    if let Some(before) = &before {
        subjects.push(Subject::plugin(
            &format!("{COUNT} `flatcar_instance`, before (`FLATCAR_KUBE_BEFORE_PROVIDER`)"),
            PROVIDER_SOURCE,
            before,
            &flatcar_tf,
        ));
    }

    // One warm-up plan each (page cache, provider binaries), not counted.
    for s in &subjects {
        Subject::plan(&s.ws);
    }
    // Alternating: every round plans each configuration once, starting with a different one.
    for round in 0..PLANS {
        let n = subjects.len();
        for k in 0..n {
            subjects[(round + k) % n].measure(ticks_per_sec);
        }
    }
    for s in &mut subjects {
        s.trace();
    }

    let data = subjects[0].wall().as_secs_f64();
    let noop = subjects[1].wall().as_secs_f64();
    let mut times = String::new();
    let mut where_ = String::new();
    for s in &subjects {
        let wall = s.wall();
        let min = *s.walls.iter().min().expect("runs");
        let max = *s.walls.iter().max().expect("runs");
        times.push_str(&format!(
            "| {} | {} | {}–{} | {:.2} x | {:.2} x |\n",
            s.label,
            millis(wall),
            millis(min).trim_end_matches(" ms"),
            millis(max),
            wall.as_secs_f64() / data,
            wall.as_secs_f64() / noop,
        ));
        let all_cpu = median(s.cpus.clone());
        let provider_cpu = s
            .wrapped
            .as_ref()
            .map(|_| median(s.provider_cpus.iter().map(|p| p.iter().sum()).collect()));
        let terraform_cpu = all_cpu.saturating_sub(provider_cpu.unwrap_or_default());
        // Processes per plan, and the median CPU of the n-th process of a plan.
        let starts = median_count(s.provider_cpus.iter().map(Vec::len).collect());
        let per_start = (0..starts)
            .map(|n| {
                let nth = s.provider_cpus.iter().filter_map(|p| p.get(n).copied());
                format!("{:.0}", median(nth.collect()).as_secs_f64() * 1000.0)
            })
            .collect::<Vec<_>>()
            .join(" / ");
        let rpcs: usize = s.rpcs.values().sum();
        let per_method = s
            .rpcs
            .iter()
            .map(|(m, c)| format!("{m} {c}"))
            .collect::<Vec<_>>()
            .join(", ");
        where_.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            s.label,
            millis(all_cpu),
            provider_cpu.map_or("–".to_string(), |c| format!(
                "{} ({per_start})",
                millis(c)
            )),
            millis(terraform_cpu),
            starts,
            rpcs,
            if per_method.is_empty() {
                "–".to_string()
            } else {
                per_method
            },
        ));
    }
    if before.is_none() {
        times.push_str(&format!(
            "| {COUNT} `flatcar_instance`, before | not measured (`FLATCAR_KUBE_BEFORE_PROVIDER` unset) | | | |\n"
        ));
    }

    let section = format!(
        "## Plan floor: `terraform plan` of {COUNT} resources\n\n\
         Measured by `cargo bench -p terraform-provider-flatcar --bench plan_floor` (part of \
         `bash scripts/bench.sh`) in one run ({cores} cores, 1-minute load average {load} \
         at the start, release builds, Terraform {tf}): \
         a create plan (no state) of each configuration, alternating, median of {PLANS} after one \
         warm-up. `flatcar_instance` and `noop_thing` have the same {COUNT} bodies (name, image_id, \
         flavor_name, user_data, one `network` block); no cloud is asked.\n\n\
         | `terraform plan` of | median | min–max | ratio to `terraform_data` | ratio to no-op |\n\
         |---|---|---|---|---|\n\
         {times}\n\
         Where the time goes: CPU per plan of Terraform and its plugins together (children CPU \
         of the bench, 10 ms resolution, same runs as above); CPU of the provider processes \
         alone, in brackets per process in the order Terraform starts them (schema, validate \
         walk, plan walk), and how many Terraform starts (medians of {PLANS} further runs with \
         each provider under bash `time`); the RPCs Terraform logs in one `TF_LOG=trace` plan.\n\n\
         | `terraform plan` of | CPU, Terraform + provider | CPU, provider processes | CPU, Terraform (difference) | provider starts | RPCs | RPCs by method |\n\
         |---|---|---|---|---|---|---|\n\
         {where_}",
        cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        tf = terraform_version(),
    );
    println!("{section}");
    write_section("plan-floor", &section);
}

/// The median of counts (the upper one of the middle two); 0 for none.
fn median_count(mut counts: Vec<usize>) -> usize {
    counts.sort_unstable();
    counts.get(counts.len() / 2).copied().unwrap_or(0)
}

fn terraform_version() -> String {
    Command::new(support::terraform::binary())
        .arg("version")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("Terraform v").map(str::to_string))
        })
        .unwrap_or_else(|| "?".into())
}
