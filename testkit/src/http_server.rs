//! A small static HTTP/1.1 server over a directory, for the release-server fixture. It logs
//! request paths, answers `/redirect/<path>` with a 302 to `/<path>`, honours
//! `Range: bytes=N-` (206), can drop a connection mid-body (`Fault::ResetAfter`) to test
//! resumption, can hold a request unanswered until told to go on (`Fault::Stall`), and serves
//! one connection per thread. It stops when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A fault to inject on requests whose path ends with `path_suffix`.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Send only the first `bytes` of the body, then close the connection; `times` times.
    ResetAfter {
        path_suffix: String,
        bytes: usize,
        times: u32,
    },
    /// Hold every matching request until the fault is removed (`StaticServer::clear`), then
    /// answer it as usual: an importer that fetches the file waits mid-import meanwhile.
    Stall { path_suffix: String },
}

pub struct StaticServer {
    pub base_url: String,
    pub requests: Arc<Mutex<Vec<String>>>,
    pub faults: Arc<Mutex<Vec<Fault>>>,
    stop: Arc<AtomicBool>,
    addr: std::net::SocketAddr,
}

impl StaticServer {
    pub fn start(root: &Path) -> StaticServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let faults: Arc<Mutex<Vec<Fault>>> = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (root, log, flag) = (root.to_path_buf(), Arc::clone(&requests), Arc::clone(&stop));
        let fault_list = Arc::clone(&faults);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (root, log, faults) = (root.clone(), Arc::clone(&log), Arc::clone(&fault_list));
                std::thread::spawn(move || handle(conn, &root, &log, &faults));
            }
        });
        StaticServer {
            base_url: format!("http://{addr}"),
            requests,
            faults,
            stop,
            addr,
        }
    }

    pub fn add(&self, fault: Fault) {
        if let Ok(mut faults) = self.faults.lock() {
            faults.push(fault);
        }
    }

    /// Removes every fault; held requests are answered.
    pub fn clear(&self) {
        if let Ok(mut faults) = self.faults.lock() {
            faults.clear();
        }
    }

    pub fn requested(&self, needle: &str) -> bool {
        self.requests
            .lock()
            .map(|r| r.iter().any(|p| p.contains(needle)))
            .unwrap_or(false)
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

/// Takes one use of a reset fault matching `path`, returning after how many bytes to cut.
fn take_fault(faults: &Mutex<Vec<Fault>>, path: &str) -> Option<usize> {
    let mut faults = faults.lock().ok()?;
    for fault in faults.iter_mut() {
        let Fault::ResetAfter {
            path_suffix,
            bytes,
            times,
        } = fault
        else {
            continue;
        };
        if *times > 0 && path.ends_with(path_suffix.as_str()) {
            *times -= 1;
            return Some(*bytes);
        }
    }
    None
}

fn is_stalled(faults: &Mutex<Vec<Fault>>, path: &str) -> bool {
    faults
        .lock()
        .map(|f| {
            f.iter().any(|f| {
                matches!(f, Fault::Stall { path_suffix } if path.ends_with(path_suffix.as_str()))
            })
        })
        .unwrap_or(false)
}

fn handle(conn: TcpStream, root: &Path, log: &Mutex<Vec<String>>, faults: &Mutex<Vec<Fault>>) {
    let mut reader = BufReader::new(match conn.try_clone() {
        Ok(c) => c,
        Err(_) => return,
    });
    let mut conn = conn;
    // The head and the body go out as two writes: without TCP_NODELAY, Nagle holds the body
    // until the client's delayed ACK (40 ms per response on loopback), as no real server does.
    let _ = conn.set_nodelay(true);
    loop {
        let Some(request) = read_request(&mut reader) else {
            return;
        };
        let (method, path) = (request.method.as_str(), request.path.clone());
        let range_start: Option<usize> = request.header("range").and_then(|v| {
            v.strip_prefix("bytes=")
                .and_then(|r| r.trim_end_matches('-').parse().ok())
        });
        if let Ok(mut l) = log.lock() {
            match range_start {
                Some(start) => l.push(format!("{method} {path} range={start}")),
                None => l.push(format!("{method} {path}")),
            }
        }
        while is_stalled(faults, &path) {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let cut = take_fault(faults, &path);
        let response = if let Some(rest) = path.strip_prefix("/redirect/") {
            format!("HTTP/1.1 302 Found\r\nLocation: /{rest}\r\nContent-Length: 0\r\n\r\n")
                .into_bytes()
        } else {
            match resolve(root, &path).and_then(|p| std::fs::File::open(p).ok()) {
                Some(file) => {
                    // Streamed from disk: fixtures can be gigabytes.
                    if serve_file(&mut conn, file, method, range_start, cut).is_err()
                        || cut.is_some()
                    {
                        let _ = conn.shutdown(std::net::Shutdown::Both);
                        return;
                    }
                    continue;
                }
                None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found".to_vec(),
            }
        };
        if conn.write_all(&response).is_err() {
            return;
        }
    }
}

fn serve_file(
    conn: &mut TcpStream,
    mut file: std::fs::File,
    method: &str,
    range_start: Option<usize>,
    cut: Option<usize>,
) -> std::io::Result<()> {
    use std::io::{Seek, SeekFrom};
    let len = file.metadata()?.len();
    let start = (range_start.unwrap_or(0) as u64).min(len);
    let status = if range_start.is_some() {
        "206 Partial Content"
    } else {
        "200 OK"
    };
    write!(
        conn,
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nAccept-Ranges: bytes\r\nContent-Type: application/octet-stream\r\n\r\n",
        len - start
    )?;
    if method == "HEAD" {
        return Ok(());
    }
    file.seek(SeekFrom::Start(start))?;
    let limit = cut.map(|c| c as u64).unwrap_or(u64::MAX);
    std::io::copy(&mut file.take(limit), conn)?;
    Ok(())
}

fn resolve(root: &Path, path: &str) -> Option<PathBuf> {
    let clean = path.split('?').next()?.trim_start_matches('/');
    if clean.split('/').any(|c| c == "..") {
        return None;
    }
    let p = root.join(clean);
    p.is_file().then_some(p)
}

/// One HTTP/1.1 request as read off a connection.
pub struct HttpRequest {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// A header's value (names compared without case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads the next request (line, headers, `Content-Length` body); `None` at the end of the
/// connection.
pub fn read_request(reader: &mut impl BufRead) -> Option<HttpRequest> {
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return None;
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("/").to_string();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 {
            return None;
        }
        if header.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = header.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let mut request = HttpRequest {
        method,
        path,
        headers,
        body: Vec::new(),
    };
    let length = request
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    request.body = vec![0; length];
    reader.read_exact(&mut request.body).ok()?;
    Some(request)
}
