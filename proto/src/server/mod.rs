//! The go-plugin server: handshake with Terraform, transport (unix socket, AutoMTLS) and the
//! services Terraform expects beside the provider (health, controller, stdio, broker).

mod goplugin;
mod tls;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;
use tokio_stream::wrappers::{ReceiverStream, UnixListenerStream};
use tonic::transport::server::Connected;
use tonic::transport::Server;

use crate::grpc::ProviderService;
use crate::provider::Provider;
use crate::wire::goplugin as gp;
use crate::wire::tfplugin6::provider_server::ProviderServer;

pub use goplugin::ShutdownSignal;
pub use tls::AutoMtls;

/// go-plugin's magic cookie for Terraform providers.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// What go-plugin prints when a plugin binary is started by hand.
pub const NOT_A_COMMAND_MESSAGE: &str = "This binary is a plugin. These are not meant to be executed directly.\nPlease execute the program that consumes these plugins, which will\nload any plugins automatically\n";
/// The plugin protocol version this server speaks.
pub const PROTOCOL_VERSION: u32 = 6;
const CORE_PROTOCOL_VERSION: u32 = 1;
/// Terraform sends whole plans and states in one message.
const MAX_MESSAGE_SIZE: usize = 256 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("not started by Terraform")]
    NoMagicCookie,
    #[error("Terraform offered plugin protocol versions {offered:?}, but this provider speaks only protocol {PROTOCOL_VERSION}: use Terraform >= 1.0 or OpenTofu")]
    ProtocolVersion { offered: String },
    #[error("TLS set-up failed: {0}")]
    Tls(String),
    #[error("cannot listen on {path}: {source}")]
    Listen {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error("cannot write the handshake: {0}")]
    Handshake(std::io::Error),
}

/// How the server is started.
pub struct ServeOptions {
    /// Full provider source address, for the `--debug` reattach line.
    pub provider_address: String,
    /// Debug mode: no handshake checks, plaintext, prints a `TF_REATTACH_PROVIDERS` value.
    pub debug: bool,
}

/// Serves `provider` until Terraform shuts it down.
pub async fn serve(provider: Arc<dyn Provider>, options: ServeOptions) -> Result<(), ServeError> {
    if !options.debug {
        check_magic_cookie()?;
        negotiate_version(std::env::var("PLUGIN_PROTOCOL_VERSIONS").ok().as_deref())?;
    }
    let socket_dir = make_socket_dir()?;
    let socket_path = socket_dir.join("plugin.sock");
    let listener = UnixListener::bind(&socket_path).map_err(|source| ServeError::Listen {
        path: socket_path.clone(),
        source,
    })?;
    let shutdown = ShutdownSignal::default();
    handle_signals(shutdown.clone(), options.debug);

    let client_cert = std::env::var("PLUGIN_CLIENT_CERT")
        .ok()
        .filter(|c| !c.is_empty());
    let mtls = match (&client_cert, options.debug) {
        (Some(pem), false) => Some(AutoMtls::new(pem)?),
        _ => None,
    };

    // A debug provider is started by hand and outlives the shell that started it; Terraform
    // only attaches to it, so its parent says nothing about Terraform.
    if !options.debug {
        watch_parent(Arc::clone(&provider), shutdown.clone());
    }
    let router = router(provider, shutdown.clone()).await;
    let result = if let Some(mtls) = mtls {
        let cert = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&mtls.server_cert_der);
        announce(&socket_path, &cert, &options)?;
        let incoming = tls_incoming(listener, Arc::clone(&mtls.config));
        serve_until_shutdown(
            router.serve_with_incoming_shutdown(incoming, shutdown.clone().wait()),
            &shutdown,
        )
        .await
    } else {
        announce(&socket_path, "", &options)?;
        let incoming = UnixListenerStream::new(listener);
        serve_until_shutdown(
            router.serve_with_incoming_shutdown(incoming, shutdown.clone().wait()),
            &shutdown,
        )
        .await
    };
    let _ = std::fs::remove_dir_all(&socket_dir);
    result
}

/// How long in-flight operations get to clean up after Terraform vanished.
const ORPHAN_GRACE: Duration = Duration::from_secs(15);

/// Terraform gone without stopping us (SIGKILL, OOM, a closed laptop) re-parents the plugin:
/// then stop what runs, as StopProvider would (the provider deletes its half-made objects),
/// give that [`ORPHAN_GRACE`], and shut down, so no orphan keeps working for nobody.
fn watch_parent(provider: Arc<dyn Provider>, shutdown: ShutdownSignal) {
    let parent = std::os::unix::process::parent_id();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            if std::os::unix::process::parent_id() != parent {
                tracing::warn!(
                    parent,
                    "Terraform exited without stopping the provider; stopping"
                );
                let _ = provider.stop().await;
                tokio::time::sleep(ORPHAN_GRACE).await;
                shutdown.trigger();
                // Nobody waits for an orderly end: if work still holds the runtime, leave.
                tokio::time::sleep(Duration::from_secs(2)).await;
                std::process::exit(1);
            }
        }
    });
}

async fn router(
    provider: Arc<dyn Provider>,
    shutdown: ShutdownSignal,
) -> tonic::transport::server::Router {
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;
    let provider_service = ProviderServer::new(ProviderService::new(provider))
        .max_decoding_message_size(MAX_MESSAGE_SIZE)
        .max_encoding_message_size(MAX_MESSAGE_SIZE);
    Server::builder()
        .add_service(health_service)
        .add_service(gp::grpc_controller_server::GrpcControllerServer::new(
            goplugin::Controller(shutdown.clone()),
        ))
        .add_service(gp::grpc_stdio_server::GrpcStdioServer::new(
            goplugin::Stdio(shutdown.clone()),
        ))
        .add_service(gp::grpc_broker_server::GrpcBrokerServer::new(
            goplugin::Broker(shutdown),
        ))
        .add_service(provider_service)
}

/// Runs the server; once shutdown is requested, gives in-flight calls a moment to finish
/// and then returns even if a client keeps a stream open.
async fn serve_until_shutdown(
    server: impl std::future::Future<Output = Result<(), tonic::transport::Error>>,
    shutdown: &ShutdownSignal,
) -> Result<(), ServeError> {
    tokio::select! {
        result = server => Ok(result?),
        _ = async { shutdown.wait().await; tokio::time::sleep(Duration::from_millis(500)).await } => Ok(()),
    }
}

fn check_magic_cookie() -> Result<(), ServeError> {
    match std::env::var(MAGIC_COOKIE_KEY) {
        Ok(v) if v == MAGIC_COOKIE_VALUE => Ok(()),
        _ => Err(ServeError::NoMagicCookie),
    }
}

/// Picks protocol 6 from go-plugin's comma-separated offer (absent: 6).
pub fn negotiate_version(offered: Option<&str>) -> Result<u32, ServeError> {
    let Some(offered) = offered.filter(|s| !s.trim().is_empty()) else {
        return Ok(PROTOCOL_VERSION);
    };
    if offered
        .split(',')
        .any(|v| v.trim().parse::<u32>() == Ok(PROTOCOL_VERSION))
    {
        Ok(PROTOCOL_VERSION)
    } else {
        Err(ServeError::ProtocolVersion {
            offered: offered.to_string(),
        })
    }
}

fn make_socket_dir() -> Result<PathBuf, ServeError> {
    let base = std::env::var_os("PLUGIN_UNIX_SOCKET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    for attempt in 0..16u32 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = base.join(format!(
            "plugin-flatcar-{}-{nanos:x}-{attempt}",
            std::process::id()
        ));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(ServeError::Listen { path: dir, source }),
        }
    }
    Err(ServeError::Listen {
        path: base,
        source: std::io::Error::other("no free socket directory name"),
    })
}

/// Prints the handshake line (or, in debug mode, the reattach instructions) on stdout.
fn announce(socket: &Path, cert_b64: &str, options: &ServeOptions) -> Result<(), ServeError> {
    let mut stdout = std::io::stdout().lock();
    if options.debug {
        let reattach = serde_json::json!({
            options.provider_address.clone(): {
                "Protocol": "grpc",
                "ProtocolVersion": PROTOCOL_VERSION,
                "Pid": std::process::id(),
                "Test": true,
                "Addr": {"Network": "unix", "String": socket.display().to_string()},
            }
        });
        writeln!(
            stdout,
            "Provider started. To attach Terraform, set the TF_REATTACH_PROVIDERS environment variable:\n\n\tTF_REATTACH_PROVIDERS='{reattach}'\n"
        )
        .map_err(ServeError::Handshake)?;
    } else {
        writeln!(
            stdout,
            "{CORE_PROTOCOL_VERSION}|{PROTOCOL_VERSION}|unix|{}|grpc|{cert_b64}",
            socket.display()
        )
        .map_err(ServeError::Handshake)?;
    }
    stdout.flush().map_err(ServeError::Handshake)
}

/// Terraform forwards Ctrl-C to the whole process group and then asks us to stop through
/// StopProvider; the interrupt itself must not kill the provider mid-operation. A debug
/// provider runs in a terminal of its own, where Ctrl-C is how one ends it.
fn handle_signals(shutdown: ShutdownSignal, debug: bool) {
    use tokio::signal::unix::{signal, SignalKind};
    if let Ok(mut interrupts) = signal(SignalKind::interrupt()) {
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            while interrupts.recv().await.is_some() {
                if debug {
                    tracing::info!("interrupt received; the debug provider stops");
                    shutdown.trigger();
                    return;
                }
                tracing::debug!("interrupt received; waiting for terraform to stop the provider");
            }
        });
    }
    if let Ok(mut terms) = signal(SignalKind::terminate()) {
        tokio::spawn(async move {
            if terms.recv().await.is_some() {
                shutdown.trigger();
            }
        });
    }
}

/// A TLS connection over the unix socket, as tonic wants its connections.
struct TlsConnection(tokio_rustls::server::TlsStream<UnixStream>);

impl Connected for TlsConnection {
    type ConnectInfo = ();
    fn connect_info(&self) {}
}

impl AsyncRead for TlsConnection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsConnection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// Accepts connections and completes their TLS handshakes off the accept loop; a client
/// that fails the handshake (no or wrong certificate) is dropped and logged.
fn tls_incoming(
    listener: UnixListener,
    config: Arc<rustls::ServerConfig>,
) -> ReceiverStream<std::io::Result<TlsConnection>> {
    let (tx, rx) = mpsc::channel(16);
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    tokio::spawn(async move {
        loop {
            let socket = match listener.accept().await {
                Ok((socket, _)) => socket,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    continue;
                }
            };
            let acceptor = acceptor.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                match acceptor.accept(socket).await {
                    Ok(stream) => {
                        let _ = tx.send(Ok(TlsConnection(stream))).await;
                    }
                    Err(e) => tracing::warn!("refused a TLS client: {e}"),
                }
            });
        }
    });
    ReceiverStream::new(rx)
}
