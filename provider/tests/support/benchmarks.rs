//! Writing benchmark figures into BENCHMARKS.md, one marked section per benchmark, and the
//! measurements the benchmarks share (peak RSS and disk writes of a running process).

use std::path::Path;
use std::time::Duration;

/// The median of the measured runs (the upper one of the middle two for an even count).
pub fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

/// A duration as the tables print seconds: `12.3 s`.
pub fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// Replaces the section `name` of BENCHMARKS.md (between its markers), keeping the others.
pub fn write_section(name: &str, section: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../BENCHMARKS.md");
    let (start, end) = (
        format!("<!-- {name}:start -->"),
        format!("<!-- {name}:end -->"),
    );
    let existing = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n\n".into());
    let block = format!("{start}\n{section}{end}");
    let updated = match (existing.find(&start), existing.find(&end)) {
        (Some(a), Some(b)) if a < b => {
            format!("{}{block}{}", &existing[..a], &existing[b + end.len()..])
        }
        _ => format!("{}\n\n{block}\n", existing.trim_end()),
    };
    std::fs::write(&path, updated).expect("write BENCHMARKS.md");
}

/// Peak resident memory (VmHWM) and bytes written to storage (`write_bytes`) of a process,
/// sampled until it exits.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessPeak {
    pub peak_rss_kib: u64,
    pub disk_write_bytes: u64,
}

impl ProcessPeak {
    /// The larger of each figure of two measurements, as one covering both.
    pub fn max(self, other: ProcessPeak) -> ProcessPeak {
        ProcessPeak {
            peak_rss_kib: self.peak_rss_kib.max(other.peak_rss_kib),
            disk_write_bytes: self.disk_write_bytes.max(other.disk_write_bytes),
        }
    }
}

fn field(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// The /proc directories of the processes whose command line contains `needle`.
fn matching_processes(needle: &str) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|dir| {
            let cmdline = std::fs::read(dir.join("cmdline")).unwrap_or_default();
            String::from_utf8_lossy(&cmdline).contains(needle)
        })
        .collect()
}

/// Samples every process whose command line contains `needle` and that started after the
/// sampling did (a provider left over from another test is not the one measured) until
/// `done()` says so.
pub fn sample_processes(needle: &str, done: impl Fn() -> bool) -> ProcessPeak {
    let before = matching_processes(needle);
    let mut peak = ProcessPeak::default();
    loop {
        for dir in matching_processes(needle) {
            if before.contains(&dir) {
                continue;
            }
            let status = std::fs::read_to_string(dir.join("status")).unwrap_or_default();
            let io = std::fs::read_to_string(dir.join("io")).unwrap_or_default();
            peak.peak_rss_kib = peak.peak_rss_kib.max(field(&status, "VmHWM:").unwrap_or(0));
            peak.disk_write_bytes = peak
                .disk_write_bytes
                .max(field(&io, "write_bytes:").unwrap_or(0));
        }
        if done() {
            return peak;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
