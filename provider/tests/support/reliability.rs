//! The reliability table of BENCHMARKS.md: fault tests append one row per injected fault to the
//! file named by `FLATCAR_KUBE_RELIABILITY_OUT` (when set, as `scripts/bench.sh` does), and the
//! benchmark renders the rows as one Markdown section.

use std::io::Write;

/// One fault a test injected and survived: what it was, how many faulty responses or events,
/// what the provider did, and what the cloud held afterwards (each test asserts it).
pub fn record(fault: &str, injected: u32, outcome: &str, left_behind: &str) {
    let Some(path) = std::env::var_os("FLATCAR_KUBE_RELIABILITY_OUT") else {
        return;
    };
    let line = format!("{fault}\t{injected}\t{outcome}\t{left_behind}\n");
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(line.as_bytes()));
    if let Err(e) = written {
        panic!("cannot append to {}: {e}", path.to_string_lossy());
    }
}

/// The section from the recorded rows, or None when nothing was recorded.
pub fn section() -> Option<String> {
    let path = std::env::var_os("FLATCAR_KUBE_RELIABILITY_OUT")?;
    let text = std::fs::read_to_string(path).ok()?;
    // Tests finish in any order: sorted rows keep the table's diff between runs to what changed.
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    let mut rows = String::new();
    let (mut faults, mut injected) = (0u32, 0u32);
    for line in lines {
        if let [fault, count, outcome, left] = line.split('\t').collect::<Vec<_>>()[..] {
            let n: u32 = count.parse().unwrap_or(0);
            faults += 1;
            injected += n;
            rows.push_str(&format!("| {fault} | {n} | {outcome} | {left} |\n"));
        }
    }
    if faults == 0 {
        return None;
    }
    Some(format!(
        "## Reliability (faults injected by the fault tests)\n\n\
         Recorded by the fault tests of `provider/tests/suite/` (`image_faults.rs`, `instance.rs`, \
         `image.rs`) in one `bash scripts/bench.sh` (or `bash scripts/bench.sh reliability`) run \
         against the local cloud. \"Left behind\" is what Glance, Nova \
         and Neutron list afterwards; each test asserts it. A row is written only after all of \
         the test's assertions passed, so every row is a fault that was handled.\n\n\
         | fault | injected | outcome | left behind |\n|---|---|---|---|\n{rows}\
         | **total: {faults} faults** | **{injected}** | all handled (success after retries, or a clear error with clean-up) | |\n"
    ))
}
