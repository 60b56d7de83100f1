//! `state.backend: object_store`: the cluster's Terraform state and deploy record in a
//! container of the cloud's object store, so that whoever of the project has the profile and
//! credentials can run `up`, and only one at a time.
//!
//! - the container is created when missing (Swift API, through the catalog);
//! - the project's EC2 credential is taken from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, or
//!   found or made (Keystone `OS-EC2`; newer Keystones refuse that to application credentials,
//!   and the error says what to do), and handed to Terraform's
//!   `s3` backend in its environment only (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, and
//!   `AWS_ENDPOINT_URL_S3` when the profile names no endpoint): never in a file, never printed;
//! - `up`'s own lock (`<cluster>/up.lock`, created only if absent) is held for the whole run, so
//!   a second `up` stops before it changes anything and names who holds it; Terraform's lock
//!   file (`use_lockfile`) guards plain `terraform` runs beside it;
//! - the deploy record is fetched before and stored after every run;
//! - after `up --destroy`, the state objects go, once the cloud resources are gone.

use std::path::{Path, PathBuf};
use std::time::Duration;

use flatcar_cloud::openstack::identity::{ec2_credential, Ec2Credential};
use flatcar_cloud::openstack::object_store::ObjectStore;
use flatcar_cloud::openstack::{CloudError, CloudSession};
use serde::{Deserialize, Serialize};

use crate::flavors::cloud_session;
use crate::profile::state::{StateBackend, StateObjects};
use crate::profile::LoadedProfile;
use crate::up::record::RECORD_FILE;

/// Swift checks `If-None-Match: *` when a PUT arrives, not when it is stored: PUTs that overlap
/// (measured here: started less than ~50 ms apart) all succeed and the last one stays. So a
/// taken lock is read back after this long, when every such PUT has ended, and only the run
/// whose lock is there goes on.
const LOCK_SETTLE: Duration = Duration::from_secs(1);

/// How long one call to the object store or Keystone may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(120);

/// The file in `.terraform/` where `terraform init` records the backend it set up.
const BACKEND_RECORD: &str = ".terraform/terraform.tfstate";

/// Where local state is, relative to the Terraform directory.
pub const LOCAL_STATE: &str = "terraform.tfstate";
/// What a migrated local state file is renamed to (kept: nothing is lost).
pub const MIGRATED_STATE: &str = "terraform.tfstate.moved-to-object-store";

#[derive(Debug, thiserror::Error)]
pub enum SharedStateError {
    #[error("the object store ({what}): {source}")]
    Cloud {
        what: &'static str,
        #[source]
        source: CloudError,
    },
    #[error("the object store ({what}) did not answer within {CALL_TIMEOUT:?}")]
    TimedOut { what: &'static str },
    #[error("cannot start the HTTP runtime: {0}")]
    Runtime(std::io::Error),
    #[error("Keystone does not let these credentials list or create EC2 credentials ({reason}). Newer Keystone releases refuse it to application credentials. Create one once with your password login (`openstack ec2 credentials create` with a password openrc), then export its access and secret as AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY before `flatcar-kube up`; nothing was changed.")]
    Ec2Refused { reason: String },
    #[error("another `flatcar-kube up` holds the lock of this cluster: {holder}. Nothing was changed; run again when it has finished. If that run is gone for good (a crash, a lost laptop), remove the lock with `openstack object delete {container} {object}` and run again.")]
    Locked {
        holder: String,
        container: String,
        object: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Who holds `up`'s lock, as written into it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LockInfo {
    pub who: String,
    pub host: String,
    pub pid: u32,
    /// Seconds since the Unix epoch.
    pub created: u64,
    pub operation: String,
    /// Tells this run's lock from another's written at the same moment.
    #[serde(default)]
    pub nonce: String,
}

impl std::fmt::Display for LockInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} on {} (pid {}), `{}`, since {} (Unix time; {} s ago)",
            self.who,
            self.host,
            self.pid,
            self.operation,
            self.created,
            now().saturating_sub(self.created)
        )
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown host".into())
}

/// The object store state of one cluster, connected.
pub struct SharedState {
    session: CloudSession,
    runtime: tokio::runtime::Runtime,
    container: String,
    objects: StateObjects,
    credential: Ec2Credential,
    /// The S3 API's root when the profile names none (from the catalog's object-store URL).
    s3_endpoint: Option<String>,
    locked: bool,
}

/// `scheme://authority` of a URL.
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split('/').next()?;
    Some(format!("{scheme}://{authority}"))
}

impl SharedState {
    /// Connects when the profile keeps its state in the object store (None otherwise): the
    /// container exists afterwards and the EC2 credential is known.
    pub fn connect(
        loaded: &LoadedProfile,
        env: &dyn Fn(&str) -> Option<String>,
        log: &mut dyn std::io::Write,
    ) -> Result<Option<SharedState>, SharedStateError> {
        let p = &loaded.profile;
        if p.state.backend != StateBackend::ObjectStore {
            return Ok(None);
        }
        let container = p.state.container.clone().unwrap_or_default();
        let session = cloud_session(p, env).map_err(|source| SharedStateError::Cloud {
            what: "credentials",
            source,
        })?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(SharedStateError::Runtime)?;
        let mut state = SharedState {
            session,
            runtime,
            objects: StateObjects::for_cluster(&p.name),
            container,
            credential: Ec2Credential {
                access: String::new(),
                secret: String::new(),
            },
            s3_endpoint: None,
            locked: false,
        };
        // The EC2 credential first: a refusal then leaves nothing behind in the cloud.
        let credential = match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
            (Some(access), Some(secret)) if !access.is_empty() && !secret.is_empty() => {
                let _ = writeln!(
                    log,
                    "==> using the EC2 credential of AWS_ACCESS_KEY_ID ({access}) for Terraform's S3 backend"
                );
                Ec2Credential { access, secret }
            }
            _ => {
                let (credential, made) = state
                    .call("EC2 credential", |s| ec2_credential(&s.session))
                    .map_err(|e| match e {
                        SharedStateError::Cloud { source, .. } if source.status() == Some(403) => {
                            SharedStateError::Ec2Refused {
                                reason: source.to_string(),
                            }
                        }
                        other => other,
                    })?;
                if made {
                    let _ = writeln!(
                        log,
                        "==> made an EC2 credential (access key {}) for Terraform's S3 backend",
                        credential.access
                    );
                }
                credential
            }
        };
        state.credential = credential;
        let created = state.call("creating the container", |s| {
            let container = s.container.clone();
            async move {
                ObjectStore::new(&s.session)
                    .ensure_container(&container)
                    .await
            }
        })?;
        if created {
            let _ = writeln!(
                log,
                "==> created the object store container {} for the cluster's state",
                state.container
            );
        }
        if p.state.s3_endpoint.is_none() {
            let endpoint = state.call("catalog", |s| async move {
                ObjectStore::new(&s.session).endpoint().await
            })?;
            state.s3_endpoint = origin(&endpoint);
        }
        Ok(Some(state))
    }

    /// Runs one call to the cloud on this state's runtime, bounded by [`CALL_TIMEOUT`].
    fn call<'s, T, F>(
        &'s self,
        what: &'static str,
        f: impl FnOnce(&'s SharedState) -> F,
    ) -> Result<T, SharedStateError>
    where
        F: std::future::Future<Output = Result<T, CloudError>> + 's,
    {
        let future = f(self);
        match self
            .runtime
            .block_on(async { tokio::time::timeout(CALL_TIMEOUT, future).await })
        {
            Ok(result) => result.map_err(|source| SharedStateError::Cloud { what, source }),
            Err(_) => Err(SharedStateError::TimedOut { what }),
        }
    }

    pub fn container(&self) -> &str {
        &self.container
    }

    pub fn objects(&self) -> &StateObjects {
        &self.objects
    }

    /// Terraform's environment for the `s3` backend (the secret is only ever here).
    pub fn terraform_env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("AWS_ACCESS_KEY_ID", self.credential.access.clone()),
            ("AWS_SECRET_ACCESS_KEY", self.credential.secret.clone()),
        ];
        if let Some(url) = &self.s3_endpoint {
            env.push(("AWS_ENDPOINT_URL_S3", url.clone()));
        }
        env
    }

    /// Takes `up`'s lock for this cluster, or says who holds it.
    pub fn lock(&mut self, operation: &str) -> Result<(), SharedStateError> {
        let info = LockInfo {
            who: std::env::var("USER").unwrap_or_else(|_| "someone".into()),
            host: host_name(),
            pid: std::process::id(),
            created: now(),
            operation: operation.to_string(),
            nonce: format!(
                "{}-{}-{}",
                std::process::id(),
                now(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.subsec_nanos())
                    .unwrap_or(0)
            ),
        };
        let body = serde_json::to_vec_pretty(&info).unwrap_or_default();
        let taken = self.call("taking the lock", |s| {
            let (container, object) = (s.container.clone(), s.objects.up_lock.clone());
            async move {
                ObjectStore::new(&s.session)
                    .create_exclusive(&container, &object, body, "application/json")
                    .await
            }
        })?;
        let holder = if taken {
            // Overlapping PUTs all succeed: the one that is there once they ended holds it.
            std::thread::sleep(LOCK_SETTLE);
            match self.read_lock()? {
                Some(stored) if stored.nonce == info.nonce => {
                    self.locked = true;
                    return Ok(());
                }
                other => other,
            }
        } else {
            self.read_lock()?
        };
        Err(SharedStateError::Locked {
            holder: holder
                .map(|info| info.to_string())
                .unwrap_or_else(|| "a run that left no readable lock information".into()),
            container: self.container.clone(),
            object: self.objects.up_lock.clone(),
        })
    }

    /// The lock's contents, if there is a readable one.
    fn read_lock(&self) -> Result<Option<LockInfo>, SharedStateError> {
        Ok(self
            .call("reading the lock", |s| {
                let (container, object) = (s.container.clone(), s.objects.up_lock.clone());
                async move { ObjectStore::new(&s.session).get(&container, &object).await }
            })?
            .and_then(|bytes| serde_json::from_slice::<LockInfo>(&bytes).ok()))
    }

    /// Releases `up`'s lock (when this run holds it).
    pub fn unlock(&mut self) -> Result<(), SharedStateError> {
        if !self.locked {
            return Ok(());
        }
        self.call("releasing the lock", |s| {
            let (container, object) = (s.container.clone(), s.objects.up_lock.clone());
            async move {
                ObjectStore::new(&s.session)
                    .delete(&container, &object)
                    .await
            }
        })?;
        self.locked = false;
        Ok(())
    }

    /// Puts the container's deploy record into `output` (the container's wins; none there
    /// leaves a local one alone, e.g. of a cluster that moves to the object store now).
    pub fn fetch_record(&self, output: &Path) -> Result<bool, SharedStateError> {
        let bytes = self.call("reading the deploy record", |s| {
            let (container, object) = (s.container.clone(), s.objects.record.clone());
            async move { ObjectStore::new(&s.session).get(&container, &object).await }
        })?;
        let Some(bytes) = bytes else {
            return Ok(false);
        };
        let path = output.join(RECORD_FILE);
        std::fs::create_dir_all(output)
            .and_then(|()| std::fs::write(&path, bytes))
            .map_err(|source| SharedStateError::Io { path, source })?;
        Ok(true)
    }

    /// Stores `output`'s deploy record in the container; none on disk removes the container's.
    pub fn store_record(&self, output: &Path) -> Result<(), SharedStateError> {
        let path = output.join(RECORD_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => self.call("storing the deploy record", |s| {
                let (container, object) = (s.container.clone(), s.objects.record.clone());
                async move {
                    ObjectStore::new(&s.session)
                        .put(&container, &object, bytes, "application/json")
                        .await
                }
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.call("removing the deploy record", |s| {
                    let (container, object) = (s.container.clone(), s.objects.record.clone());
                    async move {
                        ObjectStore::new(&s.session)
                            .delete(&container, &object)
                            .await
                    }
                })
            }
            Err(source) => Err(SharedStateError::Io { path, source }),
        }
    }

    /// After `terraform destroy`: Terraform's state and lock and the deploy record go (`up`'s
    /// lock goes last, with [`SharedState::unlock`]).
    pub fn remove_state(&self) -> Result<(), SharedStateError> {
        for object in [
            self.objects.tfstate.clone(),
            self.objects.tflock.clone(),
            self.objects.record.clone(),
        ] {
            self.call("removing the state", |s| {
                let container = s.container.clone();
                async move {
                    ObjectStore::new(&s.session)
                        .delete(&container, &object)
                        .await
                }
            })?;
        }
        Ok(())
    }
}

/// The backend `terraform init` last set up in `tf_dir` (`s3`, `local`, ...), if any.
pub fn initialized_backend(tf_dir: &Path) -> Option<(String, serde_json::Value)> {
    let text = std::fs::read_to_string(tf_dir.join(BACKEND_RECORD)).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    let backend = value.get("backend")?;
    let kind = backend.get("type")?.as_str()?.to_string();
    Some((kind, backend.get("config").cloned().unwrap_or_default()))
}

/// Whether `tf_dir` holds a local state with something in it (resources or outputs).
pub fn local_state_in_use(tf_dir: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(tf_dir.join(LOCAL_STATE)) else {
        return false;
    };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else {
        // Unreadable is not empty: migrating it keeps it for Terraform to judge.
        return !text.trim().is_empty();
    };
    let non_empty = |key: &str| match value.get(key) {
        Some(serde_json::Value::Array(a)) => !a.is_empty(),
        Some(serde_json::Value::Object(o)) => !o.is_empty(),
        _ => false,
    };
    non_empty("resources") || non_empty("outputs")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_s3_root_is_the_object_store_origin() {
        assert_eq!(
            origin("http://127.0.0.1:8080/v1/AUTH_abc").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(
            origin("https://js2.jetstream-cloud.org:8001/swift/v1/AUTH_x").as_deref(),
            Some("https://js2.jetstream-cloud.org:8001")
        );
    }

    #[test]
    fn local_state_in_use_needs_resources_or_outputs() {
        let dir = tempfile::tempdir().expect("tmp");
        assert!(!local_state_in_use(dir.path()));
        std::fs::write(
            dir.path().join(LOCAL_STATE),
            r#"{"version":4,"resources":[],"outputs":{}}"#,
        )
        .expect("write");
        assert!(!local_state_in_use(dir.path()));
        std::fs::write(
            dir.path().join(LOCAL_STATE),
            r#"{"version":4,"resources":[{"type":"flatcar_image"}]}"#,
        )
        .expect("write");
        assert!(local_state_in_use(dir.path()));
    }
}
