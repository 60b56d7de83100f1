//! A stand-in OpenStack for the in-process tests: it replays answers recorded from the real
//! Keystone, Glance, Nova and Neutron of the local cloud (`testdata/openstack/*.json`, made
//! by `scripts/record-openstack-fixtures.py`), with every service on one address (their
//! paths do not overlap: `/v3`, `/v2/images`, `/v2.1`, `/v2.0`). It remembers deletes, so a
//! deleted server or image answers 404 afterwards, and logs every request.

use std::collections::BTreeSet;
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::http_server::{read_request, HttpRequest};

/// A recorded answer: status and JSON body, service URLs as `{{endpoint}}`.
pub fn recorded(name: &str) -> (u16, serde_json::Value) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/openstack")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (record it with scripts/record-openstack-fixtures.py)",
            path.display()
        )
    });
    let json: serde_json::Value = serde_json::from_str(&text).expect("fixture JSON");
    let status = json["status"].as_u64().expect("status") as u16;
    (status, json["body"].clone())
}

/// The `id` of a recorded image or server.
pub fn recorded_id(name: &str) -> String {
    let (_, body) = recorded(name);
    body.get("server").unwrap_or(&body)["id"]
        .as_str()
        .expect("recorded id")
        .to_string()
}

#[derive(Default)]
struct Shared {
    requests: Vec<String>,
    deleted: BTreeSet<String>,
}

pub struct FixtureCloud {
    pub url: String,
    shared: Arc<Mutex<Shared>>,
}

impl FixtureCloud {
    pub fn start() -> FixtureCloud {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let shared = Arc::new(Mutex::new(Shared::default()));
        let (endpoint, state) = (url.clone(), Arc::clone(&shared));
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (endpoint, state) = (endpoint.clone(), Arc::clone(&state));
                std::thread::spawn(move || serve(conn, &endpoint, &state));
            }
        });
        FixtureCloud { url, shared }
    }

    /// Every request as `METHOD path`.
    pub fn requests(&self) -> Vec<String> {
        self.shared.lock().expect("lock").requests.clone()
    }

    /// The provider block that points the provider at this cloud.
    pub fn provider_block(&self) -> tfplugin::Value {
        let s = |v: &str| tfplugin::Value::string(v);
        let mut block = tfplugin::Value::object(
            [
                "cloud",
                "auth_url",
                "region",
                "application_credential_id",
                "application_credential_secret",
                "username",
                "password",
                "project_name",
                "user_domain_name",
                "project_domain_name",
                "cacert_file",
                "insecure",
                "endpoint_overrides",
                "release_base_url",
                "signing_key",
            ]
            .map(|k| (k, tfplugin::Value::Null)),
        );
        block.set("auth_url", s(&format!("{}/v3", self.url)));
        block.set("username", s("demo"));
        block.set("password", s("demo-secret"));
        block.set("project_name", s("demo"));
        block.set("user_domain_name", s("Default"));
        block.set("project_domain_name", s("Default"));
        block.set("region", s("RegionOne"));
        block
    }
}

fn answer(method: &str, path: &str, shared: &Mutex<Shared>) -> (u16, Option<serde_json::Value>) {
    let path = path.split('?').next().unwrap_or(path);
    let id = path.rsplit('/').next().unwrap_or_default().to_string();
    let gone = |id: &str| {
        shared
            .lock()
            .map(|s| s.deleted.contains(id))
            .unwrap_or(false)
    };
    let replay = |name: &str| {
        let (status, body) = recorded(name);
        (status, Some(body))
    };
    match (method, path) {
        ("POST", "/v3/auth/tokens") => replay("keystone-token"),
        ("GET", "/v2/info/import") => replay("glance-import-info"),
        ("GET", p) if p.starts_with("/v2/images/") => {
            if id == recorded_id("glance-image") && !gone(&id) {
                replay("glance-image")
            } else {
                replay("glance-image-missing")
            }
        }
        ("GET", "/v2.1/flavors/detail") => replay("nova-flavors"),
        ("POST", "/v2.1/servers") => replay("nova-server-create"),
        ("GET", "/v2.1/servers") => replay("nova-servers"),
        ("PUT", p) if p.starts_with("/v2.1/servers/") && p.contains("/metadata/") => {
            replay("nova-server-metadata-item")
        }
        ("GET", p) if p.starts_with("/v2.1/servers/") => {
            if gone(&id) {
                replay("nova-server-missing")
            } else if id == recorded_id("nova-server-error") {
                replay("nova-server-error")
            } else if id == recorded_id("nova-server-active") {
                replay("nova-server-active")
            } else {
                replay("nova-server-missing")
            }
        }
        ("DELETE", p) if p.starts_with("/v2.1/servers/") || p.starts_with("/v2/images/") => {
            if let Ok(mut s) = shared.lock() {
                s.deleted.insert(id);
            }
            (204, None)
        }
        ("GET", "/v2.0/networks") => replay("neutron-networks"),
        ("GET", "/v2.0/ports") => replay("neutron-ports"),
        ("GET", "/v2.0/floatingips") => replay("neutron-floatingips"),
        _ => (
            501,
            Some(
                serde_json::json!({"message": format!("fixture cloud: no answer for {method} {path}")}),
            ),
        ),
    }
}

fn serve(conn: TcpStream, endpoint: &str, shared: &Mutex<Shared>) {
    let mut reader = BufReader::new(match conn.try_clone() {
        Ok(c) => c,
        Err(_) => return,
    });
    let mut writer = conn;
    loop {
        let Some(HttpRequest { method, path, .. }) = read_request(&mut reader) else {
            return;
        };
        if let Ok(mut s) = shared.lock() {
            s.requests.push(format!("{method} {path}"));
        }
        let (status, json) = answer(&method, &path, shared);
        let text = json
            .map(|j| j.to_string().replace("{{endpoint}}", endpoint))
            .unwrap_or_default();
        let response = format!(
            "HTTP/1.1 {status} Fixture\r\nContent-Type: application/json\r\nContent-Length: {}\r\nX-Subject-Token: fixture-token\r\n\r\n{text}",
            text.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}
