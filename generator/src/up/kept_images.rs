//! What one apply hands the next so running machines keep their images: the previous outputs
//! `machine_images` (machine name => image key) and `releases` (image key => {channel,
//! version}) become the root module's `machine_images` and `kept_images` (key => {name,
//! channel, version}), with each kept image named by the one rule in
//! [`crate::profile::machines`]. A state written before the module reported `releases` kept
//! only the keys; those are read back by the key rule's inverse, [`Release::from_key`], so
//! upgrading flatcar-kube under a running cluster replaces no machine.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::profile::machines::Release;
use crate::profile::Profile;

/// The variables `up` writes to `machine-images.auto.tfvars.json`, and the machines whose
/// image could not be kept (a state whose module did not report `releases`).
pub struct KeptImages {
    pub tfvars: Value,
    pub dropped: Vec<String>,
}

/// The tfvars for the next apply from the previous `terraform output -json` (`{}` before the
/// first apply).
pub fn from_outputs(profile: &Profile, previous: &Value) -> KeptImages {
    let current = Release::of(profile).key();
    let releases: BTreeMap<String, Release> = previous
        .pointer("/releases/value")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let mut machine_images = serde_json::Map::new();
    let mut kept = serde_json::Map::new();
    let mut dropped = Vec::new();
    let previous_images = previous
        .pointer("/machine_images/value")
        .and_then(Value::as_object);
    for (machine, key) in previous_images.into_iter().flatten() {
        let Some(key) = key.as_str() else { continue };
        // The current release is the module's own image, never a kept one.
        let release = releases
            .get(key)
            .cloned()
            .or_else(|| Release::from_key(key).filter(|_| key != current));
        if let Some(release) = release {
            kept.insert(
                key.to_string(),
                json!({
                    "name": release.image_name(profile.flatcar.arch),
                    "channel": release.channel,
                    "version": release.version,
                }),
            );
        } else if key != current {
            dropped.push(machine.clone());
            continue;
        }
        machine_images.insert(machine.clone(), json!(key));
    }
    KeptImages {
        tfvars: json!({ "machine_images": machine_images, "kept_images": kept }),
        dropped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previous_releases_and_keys_of_older_states_become_named_kept_images_and_unknown_ones_are_dropped(
    ) {
        let (profile, _) = crate::profile::parse(
            include_str!("../../templates/starter-generic.yaml"),
            "cluster.yaml",
        )
        .expect("starter parses");
        let current = Release::of(&profile).key();
        let previous = json!({
            "machine_images": {"value": {
                "old": "stable-1.2.3",
                "older": "beta-9.9.9",
                "lost": "custom",
                "new": current,
            }},
            "releases": {"value": {"stable-1.2.3": {"channel": "stable", "version": "1.2.3"}}},
        });
        let kept = from_outputs(&profile, &previous);
        assert_eq!(kept.dropped, ["lost"]);
        assert_eq!(
            kept.tfvars,
            json!({
                "machine_images": {"old": "stable-1.2.3", "older": "beta-9.9.9", "new": current},
                "kept_images": {
                    "stable-1.2.3": {
                        "name": "flatcar-stable-1.2.3", "channel": "stable", "version": "1.2.3",
                    },
                    // A state from before `releases`: the key alone.
                    "beta-9.9.9": {
                        "name": "flatcar-beta-9.9.9", "channel": "beta", "version": "9.9.9",
                    },
                },
            })
        );
        // Before the first apply: nothing to keep.
        assert_eq!(
            from_outputs(&profile, &json!({})).tfvars,
            json!({"machine_images": {}, "kept_images": {}})
        );
    }
}
