//! The go-plugin contract seen from outside the binary: the magic-cookie check, the
//! protocol pick, the handshake line, AutoMTLS that refuses clients without the announced
//! certificate, and `--debug` reattach mode used by the real terraform CLI.

use crate::support;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use support::plugin_client::{AnnouncedServer, ClientCert, Launch, Plugin, MAGIC_COOKIE};
use support::process::terminate;
use support::terraform::{provider_binary, Workspace};

const COOKIE: (&str, &str) = MAGIC_COOKIE;

fn provider() -> Command {
    let mut cmd = Command::new(provider_binary());
    cmd.env_remove(COOKIE.0)
        .env_remove("PLUGIN_CLIENT_CERT")
        .env_remove("PLUGIN_PROTOCOL_VERSIONS")
        .stdin(Stdio::null());
    cmd
}

#[test]
fn without_the_magic_cookie_it_exits_1_with_go_plugins_message() {
    let out = provider().output().expect("run provider");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing may be printed on stdout");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("This binary is a plugin. These are not meant to be executed directly.\nPlease execute the program that consumes these plugins, which will\nload any plugins automatically"),
        "{stderr}"
    );
}

#[test]
fn it_refuses_terraform_versions_without_protocol_6() {
    let out = provider()
        .env(COOKIE.0, COOKIE.1)
        .env("PLUGIN_PROTOCOL_VERSIONS", "4,5")
        .output()
        .expect("run provider");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("speaks only protocol 6"));
}

/// Connects, sends the HTTP/2 preface and reads the server's first frame header.
/// Ok(negotiated ALPN) when the server accepted us.
fn talk(
    served: &Plugin,
    client_cert: Option<(CertificateDer<'static>, PrivateKeyDer<'static>)>,
) -> Result<Vec<u8>, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(AnnouncedServer {
        der: served.server_cert.clone().expect("AutoMTLS certificate"),
        algorithms: provider.signature_verification_algorithms,
    });
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match client_cert {
        Some((cert, key)) => builder
            .with_client_auth_cert(vec![cert], key)
            .map_err(|e| e.to_string())?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    let conn = rustls::ClientConnection::new(
        Arc::new(config),
        ServerName::try_from("localhost").expect("name"),
    )
    .map_err(|e| e.to_string())?;
    let sock = UnixStream::connect(&served.socket).map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let mut tls = rustls::StreamOwned::new(conn, sock);
    tls.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
        .map_err(|e| e.to_string())?;
    let mut frame = [0u8; 9];
    tls.read_exact(&mut frame).map_err(|e| e.to_string())?;
    assert_eq!(frame[3], 4, "first server frame is SETTINGS");
    Ok(tls
        .conn
        .alpn_protocol()
        .map(<[u8]>::to_vec)
        .unwrap_or_default())
}

/// A provider ended with SIGTERM (as a supervisor or an impatient client ends it) shuts
/// down cleanly and leaves no socket directory behind.
#[test]
fn sigterm_shuts_down_and_removes_the_socket_directory() {
    let mut served = Launch::default().start();
    let dir = served.socket_dir().to_path_buf();
    assert!(dir.is_dir(), "{} missing while serving", dir.display());
    let status = terminate(&mut served.child).expect("exit status");
    assert!(status.success(), "SIGTERM ended the provider with {status}");
    assert!(!dir.exists(), "{} left behind", dir.display());
}

#[test]
fn automtls_accepts_only_the_announced_p521_client_certificate() {
    let served = Launch::default().start();
    let ours = served.client_cert.as_ref().expect("client certificate");

    let alpn = talk(&served, Some((ours.der.clone(), ours.key.clone_key())))
        .expect("the announced certificate is accepted");
    assert_eq!(alpn, b"h2", "grpc-go requires ALPN h2");

    let refused = talk(&served, None);
    assert!(
        refused.is_err(),
        "a client without certificate must be refused"
    );

    let other = ClientCert::like_go_plugin();
    let refused = talk(&served, Some((other.der, other.key)));
    assert!(
        refused.is_err(),
        "a client with another certificate must be refused"
    );
}

#[test]
fn debug_mode_prints_a_reattach_value_that_terraform_uses() {
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
