//! Crash safety's marks: every object a create makes carries, from birth, which resource it is
//! for ([`CREATE_KEY`]: a digest of what identifies it), which attempt made it
//! ([`CREATE_ATTEMPT`]) and [`CREATE_STATE`] `creating`, turned `created` when the create
//! finished. An object still `creating` under the key of a new create was left by an attempt
//! that was killed (SIGKILL, OOM, a closed laptop): the new create removes it first, so the
//! next apply after a kill ends with exactly one object. Images carry these as properties,
//! servers as metadata.

/// Which resource the object is for.
pub const CREATE_KEY: &str = "flatcar_kube_create";
/// Which create attempt made it.
pub const CREATE_ATTEMPT: &str = "flatcar_kube_attempt";
/// `creating` until the create finished, then `created`.
pub const CREATE_STATE: &str = "flatcar_kube_state";
/// What the object was built from (a digest of the request): a leftover that is complete and
/// was built from the same request can be adopted instead of deleted and built again.
pub const CREATE_REQUEST: &str = "flatcar_kube_request";
pub const CREATING: &str = "creating";
pub const CREATED: &str = "created";

/// The key of a resource from what identifies it (type, name, ...): the same for every attempt.
pub fn key(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hex::encode(&hash.finalize()[..12])
}

/// The marks of a new object of the resource `key`, for a fresh attempt.
pub fn marks(key: &str) -> [(String, String); 3] {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    [
        (CREATE_KEY.into(), key.into()),
        (
            CREATE_ATTEMPT.into(),
            format!("{:x}-{nanos:x}", std::process::id()),
        ),
        (CREATE_STATE.into(), CREATING.into()),
    ]
}

/// Whether the marks in `values` say: left by an interrupted create of the resource `key`.
pub fn is_leftover(values: &std::collections::BTreeMap<String, String>, key: &str) -> bool {
    values.get(CREATE_KEY).map(String::as_str) == Some(key)
        && values.get(CREATE_STATE).map(String::as_str) == Some(CREATING)
}

/// Whether `name` is one of these marks (not the user's property or metadata).
pub fn is_mark(name: &str) -> bool {
    [CREATE_KEY, CREATE_ATTEMPT, CREATE_STATE, CREATE_REQUEST].contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_stable_and_separates_its_parts() {
        assert_eq!(key(&["a", "bc"]), key(&["a", "bc"]));
        assert_ne!(key(&["a", "bc"]), key(&["ab", "c"]));
        assert_eq!(key(&["x"]).len(), 24);
    }

    #[test]
    fn only_a_creating_object_of_the_same_key_is_a_leftover() {
        let [k, a, s] = marks("k1");
        let mut values: std::collections::BTreeMap<String, String> =
            [k, a, s].into_iter().collect();
        assert!(is_leftover(&values, "k1"));
        assert!(!is_leftover(&values, "k2"));
        values.insert(CREATE_STATE.into(), CREATED.into());
        assert!(!is_leftover(&values, "k1"));
        assert!(is_mark(CREATE_ATTEMPT) && is_mark(CREATE_REQUEST) && !is_mark("os_distro"));
    }
}
