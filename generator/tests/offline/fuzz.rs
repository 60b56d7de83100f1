//! Done-when 5 (robustness): arbitrary bytes, arbitrary YAML-shaped text and random mutations
//! of a valid profile go through the parser and the semantic checks without a panic, and every
//! rejection is a `file:line:col` diagnostic. Bounded: a fixed number of cases per property.

use crate::common;

use flatcar_kube::profile;
use proptest::prelude::*;

const VALID: &str = "version: 1
name: demo
cloud:
  region: IU
network:
  name: auto_allocated_network
  reuse: true
  external_network: public
access:
  allowed_cidrs: [203.0.113.0/24, 2001:db8::/32]
  open_http: true
ssh:
  public_key_file: ~/.ssh/id_ed25519.pub
pools:
  control_plane:
    count: 1
    flavor: m3.quad
  etcd:
    count: 3
    flavor: m3.small
  workers:
    count: 2
    flavor: m3.medium
    floating_ip: false
  bastion:
    count: 1
    flavor: m3.tiny
kubernetes:
  version: 1.32.5
  network_plugin: cilium
kubespray:
  version: v2.29.0
  extra_vars:
    helm_enabled: true
";

fn check(src: &str) {
    let home = common::home();
    match profile::load_str(src, "fuzz.yaml", Some(&home)) {
        Ok(loaded) => {
            // A profile that passes must also render.
            flatcar_kube::render::generate(&loaded, &Default::default())
                .expect("a valid profile renders");
        }
        Err(errors) => {
            assert!(!errors.0.is_empty());
            for d in &errors.0 {
                let text = d.to_string();
                assert!(
                    text.starts_with("fuzz.yaml:") && d.pos.line >= 1 && d.pos.col >= 1,
                    "{text}"
                );
            }
        }
    }
}

#[test]
fn the_valid_base_profile_passes() {
    profile::load_str(VALID, "fuzz.yaml", Some(&common::home())).unwrap();
}

fn yaml_token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\n".to_string()),
        Just("  ".to_string()),
        Just(": ".to_string()),
        Just("- ".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just(", ".to_string()),
        Just("&a ".to_string()),
        Just("*a".to_string()),
        Just("!!str ".to_string()),
        Just("---\n".to_string()),
        Just("\"".to_string()),
        Just("'".to_string()),
        Just("|\n".to_string()),
        Just("~".to_string()),
        Just("# c\n".to_string()),
        "[a-z_]{1,12}",
        "-?[0-9]{1,22}(\\.[0-9]{0,3})?",
        prop::sample::select(vec![
            "version",
            "name",
            "cloud",
            "network",
            "pools",
            "control_plane",
            "workers",
            "etcd",
            "bastion",
            "count",
            "flavor",
            "floating_ip",
            "ssh",
            "public_key_file",
            "kubespray",
            "extra_vars",
            "flatcar",
            "channel",
            "access",
            "allowed_cidrs",
            "open_http",
            "10.0.0.1/8",
            "::/0",
            "true",
            "null",
            "1",
        ])
        .prop_map(str::to_string),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn yaml_shaped_text_never_panics(tokens in prop::collection::vec(yaml_token(), 0..80)) {
        check(&tokens.concat());
    }

    #[test]
    fn mutated_profiles_never_panic(
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..4, yaml_token()), 1..6)
    ) {
        let mut lines: Vec<String> = VALID.lines().map(str::to_string).collect();
        for (index, op, token) in edits {
            if lines.is_empty() {
                break;
            }
            let i = index.index(lines.len());
            match op {
                0 => { lines.remove(i); }
                1 => lines.insert(i, token),
                2 => {
                    // Replace the value after `: ` with the token.
                    if let Some((key, _)) = lines[i].split_once(": ") {
                        lines[i] = format!("{key}: {token}");
                    }
                }
                _ => lines[i].push_str(&token),
            }
        }
        check(&lines.join("\n"));
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
    check(&deep);
    let deep_map = (0..500)
        .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
        .collect::<String>();
    check(&deep_map);
}
