//! What the local cloud's bind9 answers (`dig`, from bind9-dnsutils of
//! scripts/setup.d/42-designate.sh): proof that a Designate record reached the name server,
//! not only the API.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::cloud::LocalCloud;

/// `dig +short @127.0.0.1 -p FK_DNS_PORT NAME A`, sorted.
pub fn dig(cloud: &LocalCloud, name: &str) -> Vec<String> {
    let out = Command::new("dig")
        .args(["+short", "+time=2", "+tries=1", "@127.0.0.1", "-p"])
        .arg(cloud.value("FK_DNS_PORT"))
        .args([name, "A"])
        .output()
        .expect("dig (bind9-dnsutils, scripts/setup.d/42-designate.sh)");
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect();
    lines.sort();
    lines
}

/// Waits (at most a minute) until bind9 answers `name` with exactly `want` (sorted).
pub fn dig_until(cloud: &LocalCloud, name: &str, want: &[String]) {
    let started = Instant::now();
    loop {
        let got = dig(cloud, name);
        if got == want {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "bind9 answers {got:?} for {name}, not {want:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}
