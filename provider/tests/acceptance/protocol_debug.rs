//! The go-plugin contract with the real terraform CLI: `--debug` reattach mode, and a debug
//! provider that outlives its shell and stops on Ctrl-C.

use crate::support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use support::acceptance::{self, Need};
use support::process::terminate;
use support::terraform::{provider_binary, Workspace};

/// What every test here needs (`flatcar_testkit::acceptance`).
const NEEDS: &[Need] = &[Need::Terraform];

#[test]
fn debug_mode_prints_a_reattach_value_that_terraform_uses() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let mut child = Command::new(provider_binary())
        .arg("--debug")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
    let mut reattach = None;
    for _ in 0..10 {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        if let Some(rest) = line.trim().strip_prefix("TF_REATTACH_PROVIDERS='") {
            reattach = Some(rest.trim_end_matches('\'').to_string());
            break;
        }
    }
    let reattach = reattach.expect("TF_REATTACH_PROVIDERS line");
    let parsed: serde_json::Value = serde_json::from_str(&reattach).expect("reattach JSON");
    let entry = &parsed[flatcar_cloud::PROVIDER_SOURCE];
    assert_eq!(entry["ProtocolVersion"], 6);
    assert_eq!(entry["Addr"]["Network"], "unix");

    let mut ws = Workspace::new();
    ws.extra_env
        .push(("TF_REATTACH_PROVIDERS".into(), reattach));
    ws.write_config("data \"flatcar_release\" \"this\" {\n  channel = \"nightly\"\n}\n");
    ws.init();
    let run = ws.run(&["validate"]);
    terminate(&mut child);
    assert_ne!(run.code, 0);
    assert!(
        run.all().contains("Invalid channel"),
        "the reattached provider answered:\n{}",
        run.all()
    );
}

/// A `--debug` provider started from a shell that then exits (its parent changes) keeps
/// serving: two applies through TF_REATTACH_PROVIDERS read a release after the shell is gone
/// (none is "cancelled because Terraform asked the provider to stop"), and Ctrl-C (SIGINT)
/// ends it, as in the terminal it was started from.
#[test]
fn a_debug_provider_outlives_its_shell_and_stops_on_ctrl_c() {
    if !acceptance::run(NEEDS) {
        return;
    }
    use support::http_server::StaticServer;
    use support::release_tree::{Release, ReleaseTree, SigningKey};
    let tree = ReleaseTree::build(
        SigningKey::generate("Debug"),
        &[Release {
            channel: "stable",
            version: "4593.2.5",
            current: true,
        }],
    );
    let server = StaticServer::start(tree.root.path());
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("provider.out");
    let started = Command::new("sh")
        .arg("-c")
        .arg("\"$0\" --debug >\"$1\" 2>/dev/null </dev/null & echo $!")
        .arg(provider_binary())
        .arg(&out)
        .output()
        .expect("sh");
    let pid: i32 = String::from_utf8_lossy(&started.stdout)
        .trim()
        .parse()
        .expect("the provider's pid");
    let mut reattach = None;
    for _ in 0..100 {
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        if let Some(line) = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("TF_REATTACH_PROVIDERS='"))
        {
            reattach = Some(line.trim_end_matches('\'').to_string());
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let reattach = reattach.expect("TF_REATTACH_PROVIDERS line");
    // The shell is gone; give a parent watch time to notice.
    std::thread::sleep(std::time::Duration::from_millis(1500));

    let mut ws = Workspace::new();
    ws.extra_env
        .push(("TF_REATTACH_PROVIDERS".into(), reattach));
    ws.write_config(&format!(
        "provider \"flatcar\" {{\n  release_base_url = \"{}/{{channel}}\"\n  signing_key      = <<-EOT\n{}  EOT\n}}\n\ndata \"flatcar_release\" \"this\" {{}}\n\noutput \"version\" {{ value = data.flatcar_release.this.version }}\n",
        server.base_url, tree.key.armored_public
    ));
    ws.init();
    for run in 1..=2 {
        let applied = ws.run(&["apply", "-auto-approve", "-input=false", "-refresh=true"]);
        assert_eq!(applied.code, 0, "apply {run}:\n{}", applied.all());
        assert_eq!(ws.output("version"), "4593.2.5", "apply {run}");
    }

    let alive = |pid: i32| {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
            && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .unwrap_or_default()
                .contains(") Z ")
    };
    assert!(alive(pid), "the debug provider ended by itself");
    Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("kill");
    let mut ended = false;
    for _ in 0..100 {
        if !alive(pid) {
            ended = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    if !ended {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
    assert!(ended, "Ctrl-C did not end the debug provider");
}
