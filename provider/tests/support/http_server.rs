//! A small static HTTP/1.1 server over a directory, for the release-server fixture. It logs
//! request paths, can answer `/redirect/<path>` with a 302 to `/<path>`, and serves one
//! connection per thread. Bounded: it stops when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

pub struct StaticServer {
    pub base_url: String,
    pub requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    addr: std::net::SocketAddr,
}

impl StaticServer {
    pub fn start(root: &Path) -> StaticServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (root, log, flag) = (root.to_path_buf(), Arc::clone(&requests), Arc::clone(&stop));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (root, log) = (root.clone(), Arc::clone(&log));
                std::thread::spawn(move || handle(conn, &root, &log));
            }
        });
        StaticServer {
            base_url: format!("http://{addr}"),
            requests,
            stop,
            addr,
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

fn handle(conn: TcpStream, root: &Path, log: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(match conn.try_clone() {
        Ok(c) => c,
        Err(_) => return,
    });
    let mut conn = conn;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = request_line.split_whitespace();
        let (method, path) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or("/").to_string(),
        );
        let mut content_length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            if header.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = header.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    content_length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; content_length];
        let _ = reader.read_exact(&mut body);
        if let Ok(mut l) = log.lock() {
            l.push(format!("{method} {path}"));
        }
        let response = if let Some(rest) = path.strip_prefix("/redirect/") {
            format!("HTTP/1.1 302 Found\r\nLocation: /{rest}\r\nContent-Length: 0\r\n\r\n")
                .into_bytes()
        } else {
            match resolve(root, &path).and_then(|p| std::fs::read(p).ok()) {
                Some(data) => {
                    let mut r = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\n\r\n", data.len()).into_bytes();
                    if method != "HEAD" {
                        r.extend(data);
                    }
                    r
                }
                None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found".to_vec(),
            }
        };
        if conn.write_all(&response).is_err() {
            return;
        }
    }
}

fn resolve(root: &Path, path: &str) -> Option<PathBuf> {
    let clean = path.split('?').next()?.trim_start_matches('/');
    if clean.split('/').any(|c| c == "..") {
        return None;
    }
    let p = root.join(clean);
    p.is_file().then_some(p)
}
