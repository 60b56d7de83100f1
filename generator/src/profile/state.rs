//! The profile's `state:`: where Terraform keeps the cluster's state and `up --deploy` its
//! deploy record. `local` (the default) is `DIR/terraform/terraform.tfstate` and
//! `DIR/deployed.json` on this machine; `object_store` is a container of the cloud's object
//! store (Swift), reached by Terraform's `s3` backend, so that anyone of the project with the
//! profile and credentials can run `up`, one at a time.

use schemars::JsonSchema;
use serde::Deserialize;

/// Where the cluster's Terraform state and deploy record live.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// `local` (default: files in the output directory of whoever runs `up`) or `object_store`
    /// (a container of the cloud's object store, shared by the project's members).
    #[serde(default)]
    pub backend: StateBackend,
    /// `object_store`: the container, e.g. `demo-tfstate`; `up` creates it when missing.
    #[serde(default)]
    pub container: Option<String>,
    /// `object_store`: the S3 API's URL when it is not on the object store's catalog host and
    /// port (e.g. `https://js2.jetstream-cloud.org:8001` on Jetstream2).
    #[serde(default)]
    pub s3_endpoint: Option<String>,
    /// `object_store`: the region the S3 API signs with (Swift's s3api `location`).
    #[serde(default = "default_s3_region")]
    pub s3_region: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StateBackend {
    #[default]
    Local,
    ObjectStore,
}

/// Swift's s3api default `location`.
fn default_s3_region() -> String {
    "us-east-1".to_string()
}

/// The object names of one cluster in the container, all under `<cluster>/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateObjects {
    /// Terraform's state (the `s3` backend's `key`).
    pub tfstate: String,
    /// Terraform's own lock beside it (`use_lockfile`).
    pub tflock: String,
    /// `up`'s deploy record.
    pub record: String,
    /// `up`'s lock, held for a whole run.
    pub up_lock: String,
}

impl StateObjects {
    pub fn for_cluster(name: &str) -> StateObjects {
        StateObjects {
            tfstate: format!("{name}/terraform.tfstate"),
            tflock: format!("{name}/terraform.tfstate.tflock"),
            record: format!("{name}/deployed.json"),
            up_lock: format!("{name}/up.lock"),
        }
    }
}

/// Whether `name` is a container name every S3 client accepts as a bucket: 3 to 63 of
/// lowercase letters, digits, `-` and `.`, starting and ending with a letter or digit.
pub fn is_bucket_name(name: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (3..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && edge(name.chars().next())
        && edge(name.chars().last())
        && !name.contains("..")
}

#[cfg(test)]
mod tests {
    #[test]
    fn bucket_names() {
        for ok in ["demo-tfstate", "abc", "a.b-c1"] {
            assert!(super::is_bucket_name(ok), "{ok}");
        }
        for bad in [
            "ab",
            "Demo",
            "demo_tfstate",
            "-demo",
            "demo-",
            "a..b",
            &"a".repeat(64),
        ] {
            assert!(!super::is_bucket_name(bad), "{bad}");
        }
    }
}
