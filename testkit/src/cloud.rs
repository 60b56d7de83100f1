//! The local OpenStack of the tests (real Keystone and Glance started by
//! `scripts/local-cloud.sh start`): its credentials from `env.json`, and a small admin view
//! of Glance for assertions.

use std::collections::BTreeMap;
use std::path::PathBuf;

pub struct LocalCloud {
    pub values: BTreeMap<String, String>,
    pub dir: PathBuf,
}

/// The local cloud's `env.json` (`FLATCAR_KUBE_CLOUD_DIR`, else `<cache>/cloud`).
pub fn env_json() -> PathBuf {
    std::env::var_os("FLATCAR_KUBE_CLOUD_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::acceptance::cache_dir().join("cloud"))
        .join("env.json")
}

impl LocalCloud {
    /// Reads the running cloud's env.json; fails (never skips) with what to run when absent.
    pub fn get() -> LocalCloud {
        let path = env_json();
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("the local cloud is not running ({}: {e}): run `bash scripts/setup.sh && bash scripts/local-cloud.sh start` (scripts/test.sh does)", path.display())
        });
        LocalCloud::parse(&path, &text)
    }

    /// The running cloud, or `None` when there is none.
    pub fn try_get() -> Option<LocalCloud> {
        let path = env_json();
        let text = std::fs::read_to_string(&path).ok()?;
        Some(LocalCloud::parse(&path, &text))
    }

    fn parse(path: &std::path::Path, text: &str) -> LocalCloud {
        let dir = path.parent().map(PathBuf::from).unwrap_or_default();
        let json: serde_json::Value = serde_json::from_str(text).expect("env.json");
        let values = json
            .as_object()
            .expect("env.json object")
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
            .collect();
        LocalCloud { values, dir }
    }

    pub fn value(&self, key: &str) -> String {
        self.values
            .get(key)
            .cloned()
            .unwrap_or_else(|| panic!("env.json has no {key}"))
    }

    /// OS_* variables of the password user (an openrc).
    pub fn password_env(&self) -> Vec<(String, String)> {
        self.values
            .iter()
            .filter(|(k, _)| k.starts_with("OS_"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// OS_* variables of the application credential (Jetstream2's openrc shape).
    pub fn app_cred_env(&self) -> Vec<(String, String)> {
        vec![
            ("OS_AUTH_TYPE".into(), "v3applicationcredential".into()),
            ("OS_AUTH_URL".into(), self.value("OS_AUTH_URL")),
            (
                "OS_APPLICATION_CREDENTIAL_ID".into(),
                self.value("FK_APP_CRED_ID"),
            ),
            (
                "OS_APPLICATION_CREDENTIAL_SECRET".into(),
                self.value("FK_APP_CRED_SECRET"),
            ),
            (
                "OS_REGION_NAME".into(),
                self.values
                    .get("OS_REGION_NAME")
                    .cloned()
                    .unwrap_or_else(|| "RegionOne".into()),
            ),
        ]
    }

    pub fn clouds_yaml(&self) -> PathBuf {
        self.dir.join("clouds.yaml")
    }
}

impl LocalCloud {
    /// The images of the demo project in Glance at `glance_url` whose name starts with
    /// `prefix` (tests run in parallel against one Glance), in any status, hidden ones too.
    pub fn images(
        &self,
        glance_url: &str,
        prefix: &str,
    ) -> Vec<flatcar_cloud::openstack::glance::Image> {
        let mut all = self.listed_images(glance_url, prefix, false);
        all.extend(self.listed_images(glance_url, prefix, true));
        all
    }

    /// What Glance's default listing (`hidden` false) or its hidden listing shows.
    pub fn listed_images(
        &self,
        glance_url: &str,
        prefix: &str,
        hidden: bool,
    ) -> Vec<flatcar_cloud::openstack::glance::Image> {
        use flatcar_cloud::http::StopSignal;
        use flatcar_cloud::openstack::auth::CloudSettings;
        use flatcar_cloud::openstack::{auth, glance::Glance, CloudSession};
        let env: BTreeMap<String, String> = self.password_env().into_iter().collect();
        let settings = CloudSettings {
            endpoint_overrides: [("image".to_string(), glance_url.to_string())]
                .into_iter()
                .collect(),
            ..CloudSettings::default()
        };
        let profile = auth::resolve(&settings, &|k| env.get(k).cloned()).expect("credentials");
        let session = CloudSession::new(profile, StopSignal::default()).expect("session");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let glance = Glance::new(&session);
        let all = runtime
            .block_on(async {
                if hidden {
                    glance.list_hidden().await
                } else {
                    glance.list().await
                }
            })
            .expect("list images");
        all.into_iter()
            .filter(|i| i.name.starts_with(prefix))
            .collect()
    }
}

/// A name no other test uses: `<what>-<pid>-<nanos>`.
pub fn unique_name(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{what}-{}-{nanos:x}", std::process::id())
}

impl LocalCloud {
    /// A session as the demo user (password), or as admin (who sees user_data).
    pub fn session(&self, admin: bool) -> flatcar_cloud::openstack::CloudSession {
        use flatcar_cloud::http::StopSignal;
        use flatcar_cloud::openstack::auth::CloudSettings;
        use flatcar_cloud::openstack::{auth, CloudSession};
        let mut env: BTreeMap<String, String> = self.password_env().into_iter().collect();
        if admin {
            env.insert("OS_USERNAME".into(), self.value("FK_ADMIN_USERNAME"));
            env.insert("OS_PASSWORD".into(), self.value("FK_ADMIN_PASSWORD"));
            env.insert(
                "OS_PROJECT_NAME".into(),
                self.value("FK_ADMIN_PROJECT_NAME"),
            );
        }
        let profile = auth::resolve(&CloudSettings::default(), &|k| env.get(k).cloned())
            .expect("credentials");
        CloudSession::new(profile, StopSignal::default()).expect("session")
    }

    /// Runs a future of the client to completion.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    /// The demo project's servers whose name starts with `prefix`.
    pub fn servers(&self, prefix: &str) -> Vec<flatcar_cloud::openstack::nova::Server> {
        let session = self.session(false);
        let all = self
            .block_on(flatcar_cloud::openstack::nova::Nova::new(&session).list())
            .expect("servers");
        all.into_iter()
            .filter(|s| s.name.starts_with(prefix))
            .collect()
    }

    /// The demo project's floating IPs.
    pub fn floating_ips(&self) -> Vec<flatcar_cloud::openstack::neutron::FloatingIp> {
        let session = self.session(false);
        self.block_on(flatcar_cloud::openstack::neutron::Neutron::new(&session).all_floating_ips())
            .expect("floating IPs")
    }

    /// Creates a key pair for the demo user with the venv's `openstack` CLI; returns its name.
    pub fn key_pair(&self, name: &str) -> String {
        let dir = tempfile::tempdir().expect("tmp");
        let key = dir.path().join("id");
        let out = std::process::Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&key)
            .output()
            .expect("ssh-keygen");
        assert!(out.status.success());
        let public = key.with_extension("pub");
        self.openstack(&[
            "keypair",
            "create",
            "--public-key",
            &public.to_string_lossy(),
            name,
        ]);
        name.to_string()
    }

    /// Runs the venv's `openstack` CLI as the demo user; its stdout (the call must succeed).
    pub fn openstack(&self, args: &[&str]) -> String {
        let openstack =
            std::path::PathBuf::from(std::env::var("FLATCAR_KUBE_CACHE").unwrap_or_else(|_| {
                format!(
                    "{}/.cache/flatcar-kube",
                    std::env::var("HOME").unwrap_or_default()
                )
            }))
            .join("openstack-venv/bin/openstack");
        let out = std::process::Command::new(openstack)
            .envs(self.password_env())
            .args(args)
            .output()
            .expect("openstack CLI");
        assert!(
            out.status.success(),
            "openstack {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}
