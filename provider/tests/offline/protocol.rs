//! The go-plugin contract seen from outside the binary: the magic-cookie check, the
//! protocol pick, the handshake line and AutoMTLS that refuses clients without the announced
//! certificate. (`--debug` reattach mode with the real terraform CLI: the acceptance suite.)

use crate::support;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use support::plugin_client::{AnnouncedServer, ClientCert, Launch, Plugin, MAGIC_COOKIE};
use support::process::terminate;
use support::terraform::provider_binary;

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
