//! A fault-injecting HTTP/1.1 reverse proxy on 127.0.0.1, put between the provider and a
//! real service (through `endpoint_overrides`). Each request gets its own upstream
//! connection (`Connection: close` is forced), so faults apply per request:
//! - `Fault::Status`: answer the first `times` matching requests with a status and headers
//!   (e.g. 503 + `Retry-After`) without forwarding them;
//! - `Fault::ResetBody`: forward a matching request but cut the connection after `bytes` of
//!   its body (a reset mid-upload);
//! - `Fault::Throttle`: forward matching bodies at most `bytes_per_sec`;
//! - `Fault::Drop`: close the connection without an answer;
//! - `Fault::Stall`: hold matching requests unanswered until the fault is cleared, then close
//!   them (a kill test freezes the client at one step of a create this way).
//!
//! Every request line is logged, and the first 64 KiB of each forwarded request body kept
//! (`bodies_of`), so a test can check what the provider sent. Bounded: stops when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
pub enum Fault {
    Status {
        method: String,
        path_contains: String,
        status: u16,
        headers: Vec<(String, String)>,
        /// JSON body of the injected answer (may be empty).
        body: String,
        times: u32,
    },
    ResetBody {
        method: String,
        path_contains: String,
        bytes: usize,
        times: u32,
    },
    Throttle {
        method: String,
        path_contains: String,
        bytes_per_sec: usize,
    },
    /// Close the connection without any answer, `times` times.
    Drop {
        method: String,
        path_contains: String,
        times: u32,
    },
    /// Forward the request, then lose the service's answer: the client's connection closes
    /// without a response, `times` times (the service did act on the request).
    LoseAnswer {
        method: String,
        path_contains: String,
        times: u32,
    },
    /// Hold every matching request, unforwarded and unanswered, until the fault is removed
    /// (`FaultProxy::clear`); then close its connection.
    Stall {
        method: String,
        path_contains: String,
    },
}

impl Fault {
    fn matches(&self, method: &str, path: &str) -> bool {
        let (m, p, times) = match self {
            Fault::Status {
                method,
                path_contains,
                times,
                ..
            }
            | Fault::ResetBody {
                method,
                path_contains,
                times,
                ..
            }
            | Fault::Drop {
                method,
                path_contains,
                times,
            }
            | Fault::LoseAnswer {
                method,
                path_contains,
                times,
            } => (method, path_contains, *times),
            Fault::Throttle {
                method,
                path_contains,
                ..
            }
            | Fault::Stall {
                method,
                path_contains,
            } => (method, path_contains, 1),
        };
        times > 0 && m == method && path.contains(p.as_str())
    }
}

/// "METHOD path" of a forwarded request and the start of its body.
pub type CapturedBody = (String, Vec<u8>);

pub struct FaultProxy {
    pub url: String,
    pub faults: Arc<Mutex<Vec<Fault>>>,
    pub log: Arc<Mutex<Vec<String>>>,
    /// "METHOD path" and the start of the body of every forwarded request.
    pub bodies: Arc<Mutex<Vec<CapturedBody>>>,
    /// How many faults were injected so far.
    pub injected: Arc<Mutex<u32>>,
    stop: Arc<AtomicBool>,
    addr: std::net::SocketAddr,
}

impl FaultProxy {
    pub fn start(upstream: &str) -> FaultProxy {
        // host:port only: the path (e.g. Nova's `/v2.1`) is the client's business.
        let upstream = upstream
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = listener.local_addr().expect("addr");
        let proxy = FaultProxy {
            url: format!("http://{addr}"),
            faults: Arc::new(Mutex::new(Vec::new())),
            log: Arc::new(Mutex::new(Vec::new())),
            bodies: Arc::new(Mutex::new(Vec::new())),
            injected: Arc::new(Mutex::new(0)),
            stop: Arc::new(AtomicBool::new(false)),
            addr,
        };
        let (faults, log, bodies, injected, stop) = (
            proxy.faults.clone(),
            proxy.log.clone(),
            proxy.bodies.clone(),
            proxy.injected.clone(),
            proxy.stop.clone(),
        );
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let (faults, log, bodies, injected, upstream) = (
                    faults.clone(),
                    log.clone(),
                    bodies.clone(),
                    injected.clone(),
                    upstream.clone(),
                );
                std::thread::spawn(move || {
                    let _ = relay(client, &upstream, &faults, &log, &bodies, &injected);
                });
            }
        });
        proxy
    }

    /// Removes every fault: from now on the proxy only forwards.
    pub fn clear(&self) {
        if let Ok(mut faults) = self.faults.lock() {
            faults.clear();
        }
    }

    pub fn add(&self, fault: Fault) {
        if let Ok(mut f) = self.faults.lock() {
            f.push(fault);
        }
    }

    pub fn injected(&self) -> u32 {
        self.injected.lock().map(|n| *n).unwrap_or(0)
    }

    /// The bodies (as JSON) of forwarded requests whose "METHOD path" contains `needle`.
    pub fn json_bodies_of(&self, needle: &str) -> Vec<serde_json::Value> {
        self.bodies
            .lock()
            .map(|b| {
                b.iter()
                    .filter(|(request, _)| request.contains(needle))
                    .filter_map(|(_, body)| serde_json::from_slice(body).ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn saw(&self, needle: &str) -> bool {
        self.log
            .lock()
            .map(|l| l.iter().any(|r| r.contains(needle)))
            .unwrap_or(false)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

/// Takes one use of the first fault matching the request.
fn take(faults: &Mutex<Vec<Fault>>, method: &str, path: &str) -> Option<Fault> {
    let mut faults = faults.lock().ok()?;
    let fault = faults.iter_mut().find(|f| f.matches(method, path))?;
    let taken = fault.clone();
    match fault {
        Fault::Status { times, .. }
        | Fault::ResetBody { times, .. }
        | Fault::Drop { times, .. }
        | Fault::LoseAnswer { times, .. } => *times -= 1,
        Fault::Throttle { .. } | Fault::Stall { .. } => {}
    }
    Some(taken)
}

fn relay(
    client: TcpStream,
    upstream: &str,
    faults: &Mutex<Vec<Fault>>,
    log: &Mutex<Vec<String>>,
    bodies: &Mutex<Vec<CapturedBody>>,
    injected: &Mutex<u32>,
) -> std::io::Result<()> {
    // Heads and bodies are separate writes: no Nagle delay on loopback (see http_server).
    let _ = client.set_nodelay(true);
    let mut reader = BufReader::new(client.try_clone()?);
    let mut client_w = client;
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut parts = request_line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or("").to_string(),
        parts.next().unwrap_or("").to_string(),
    );
    let mut head = request_line.clone();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if line.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        head.push_str(&line);
    }
    head.push_str("Connection: close\r\n\r\n");
    if let Ok(mut l) = log.lock() {
        l.push(format!("{method} {path}"));
    }
    let fault = take(faults, &method, &path);
    if let Some(Fault::Status {
        status,
        headers,
        body,
        ..
    }) = &fault
    {
        if let Ok(mut n) = injected.lock() {
            *n += 1;
        }
        let mut response = format!(
            "HTTP/1.1 {status} Injected\r\nContent-Length: {}\r\nContent-Type: application/json\r\nConnection: close\r\n",
            body.len()
        );
        for (k, v) in headers {
            response.push_str(&format!("{k}: {v}\r\n"));
        }
        response.push_str("\r\n");
        response.push_str(body);
        client_w.write_all(response.as_bytes())?;
        return client_w.shutdown(Shutdown::Both);
    }
    if let Some(Fault::Stall { .. }) = &fault {
        if let Ok(mut n) = injected.lock() {
            *n += 1;
        }
        while faults
            .lock()
            .map(|f| {
                f.iter()
                    .any(|f| matches!(f, Fault::Stall { .. }) && f.matches(&method, &path))
            })
            .unwrap_or(false)
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        return client_w.shutdown(Shutdown::Both);
    }
    if let Some(Fault::Drop { .. }) = &fault {
        if let Ok(mut n) = injected.lock() {
            *n += 1;
        }
        return client_w.shutdown(Shutdown::Both);
    }
    let mut server = TcpStream::connect(upstream)?;
    let _ = server.set_nodelay(true);
    server.write_all(head.as_bytes())?;
    // Upstream -> client in its own thread.
    let mut server_r = server.try_clone()?;
    let mut client_back = client_w.try_clone()?;
    let lose_answer = matches!(fault, Some(Fault::LoseAnswer { .. }));
    if lose_answer {
        if let Ok(mut n) = injected.lock() {
            *n += 1;
        }
    }
    let back = std::thread::spawn(move || {
        if lose_answer {
            let _ = std::io::copy(&mut server_r, &mut std::io::sink());
            let _ = client_back.shutdown(Shutdown::Both);
        } else {
            let _ = std::io::copy(&mut server_r, &mut client_back);
            let _ = client_back.shutdown(Shutdown::Write);
        }
    });
    // Client body -> upstream, with the fault applied.
    let mut captured = Vec::new();
    let mut sent = 0usize;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        match &fault {
            Some(Fault::ResetBody { bytes, .. }) if sent + n >= *bytes => {
                let _ = server.write_all(&buf[..bytes.saturating_sub(sent)]);
                if let Ok(mut c) = injected.lock() {
                    *c += 1;
                }
                let _ = server.shutdown(Shutdown::Both);
                let _ = client_w.shutdown(Shutdown::Both);
                return Ok(());
            }
            Some(Fault::Throttle { bytes_per_sec, .. }) => {
                std::thread::sleep(Duration::from_secs_f64(n as f64 / *bytes_per_sec as f64));
            }
            _ => {}
        }
        if server.write_all(&buf[..n]).is_err() {
            break;
        }
        if captured.len() < 64 * 1024 {
            captured.extend_from_slice(&buf[..n.min(64 * 1024 - captured.len())]);
        }
        sent += n;
    }
    let _ = server.shutdown(Shutdown::Write);
    let _ = back.join();
    if let Ok(mut b) = bodies.lock() {
        b.push((format!("{method} {path}"), captured));
    }
    Ok(())
}
