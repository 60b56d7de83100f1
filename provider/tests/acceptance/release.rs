//! Acceptance tests of `flatcar_release` through the real terraform CLI against a local
//! release server over a tree signed by a key the test generates.

use crate::support;

use support::acceptance::{self, Need};
use support::http_server::StaticServer;
use support::release_tree::{Release, ReleaseTree, SigningKey, IMAGE};
use support::terraform::Workspace;

/// What every test here needs (`flatcar_testkit::acceptance`).
const NEEDS: &[Need] = &[Need::Terraform];

const STABLE: &str = "4593.2.5";
const OLDER_STABLE: &str = "4459.2.4";
const BETA: &str = "4628.1.0";

struct Fixture {
    tree: ReleaseTree,
    server: StaticServer,
}

fn fixture() -> Fixture {
    let tree = ReleaseTree::build(
        SigningKey::generate("Test Release Signing"),
        &[
            Release {
                channel: "stable",
                version: OLDER_STABLE,
                current: false,
            },
            Release {
                channel: "stable",
                version: STABLE,
                current: true,
            },
            Release {
                channel: "beta",
                version: BETA,
                current: true,
            },
        ],
    );
    let server = StaticServer::start(tree.root.path());
    Fixture { tree, server }
}

/// A provider block trusting the fixture's key, with a `{channel}` mirror URL.
fn provider_block(f: &Fixture) -> String {
    format!(
        "provider \"flatcar\" {{\n  release_base_url = \"{}/{{channel}}\"\n  signing_key      = <<-EOT\n{}  EOT\n}}\n",
        f.server.base_url,
        f.tree.key.armored_public
    )
}

fn release_config(f: &Fixture, data_body: &str) -> String {
    format!(
        "{}\ndata \"flatcar_release\" \"this\" {{\n{data_body}\n}}\n\noutput \"version\" {{ value = data.flatcar_release.this.version }}\noutput \"sha512\" {{ value = data.flatcar_release.this.sha512 }}\noutput \"image_url\" {{ value = data.flatcar_release.this.image_url }}\noutput \"fingerprint\" {{ value = data.flatcar_release.this.verified_fingerprint }}\n",
        provider_block(f)
    )
}

fn apply_and_check(f: &Fixture, body: &str, channel: &str, version: &str) -> Workspace {
    let ws = Workspace::new();
    ws.write_config(&release_config(f, body));
    ws.init();
    ws.apply().ok();
    assert_eq!(ws.output("version"), version);
    assert_eq!(ws.output("sha512"), f.tree.image_sha512(channel, version));
    assert_eq!(
        ws.output("image_url"),
        format!(
            "{}/{channel}/amd64-usr/{version}/{IMAGE}",
            f.server.base_url
        )
    );
    let second = ws.plan_exit_code();
    assert_eq!(
        second.code,
        0,
        "second plan is not empty:\n{}",
        second.all()
    );
    ws
}

#[test]
fn stable_current_resolves_to_the_exact_verified_release() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let f = fixture();
    let ws = apply_and_check(
        &f,
        "  channel = \"stable\"\n  version = \"current\"",
        "stable",
        STABLE,
    );
    // The fingerprint is the signing subkey's, which belongs to the trusted key.
    let fp = ws.output("fingerprint");
    let listing = f.tree.key.gpg(&["--list-keys", "--with-colons"]);
    assert!(
        listing.contains(fp.as_str().expect("string")),
        "{fp} not in {listing}"
    );
    assert!(f.server.requested("/stable/amd64-usr/current/version.txt"));
    // After resolving "current" everything is read from the exact version's directory.
    assert!(f
        .server
        .requested(&format!("/stable/amd64-usr/{STABLE}/{IMAGE}.DIGESTS.asc")));
}

#[test]
fn a_pinned_version_is_used_as_given() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let f = fixture();
    apply_and_check(
        &f,
        &format!("  version = \"{OLDER_STABLE}\""),
        "stable",
        OLDER_STABLE,
    );
}

#[test]
fn beta_through_the_channel_placeholder() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let f = fixture();
    apply_and_check(&f, "  channel = \"beta\"", "beta", BETA);
}

#[test]
fn a_mirror_without_placeholder_and_behind_a_redirect() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let f = fixture();
    let ws = Workspace::new();
    let body = format!("  base_url = \"{}/redirect/stable\"", f.server.base_url);
    ws.write_config(&release_config(&f, &body));
    ws.init();
    ws.apply().ok();
    assert_eq!(ws.output("version"), STABLE);
    assert!(f
        .server
        .requested("/redirect/stable/amd64-usr/current/version.txt"));
}

/// A mirror of stable without `{channel}` cannot serve beta: an error on `channel`, and the
/// mirror is never asked (it would answer with a stable release under the name beta).
#[test]
fn a_channel_the_mirror_url_cannot_serve_is_an_error() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let f = fixture();
    let body = format!(
        "  channel  = \"beta\"\n  base_url = \"{}/stable\"",
        f.server.base_url
    );
    let out = apply_fails(&f, &body);
    assert!(
        out.contains("serves stable (its URL names it), not beta") && out.contains("channel"),
        "{out}"
    );
    assert!(!f.server.requested("/stable/amd64-usr/current/version.txt"));
}

fn apply_fails(f: &Fixture, body: &str) -> String {
    let ws = Workspace::new();
    ws.write_config(&release_config(f, body));
    ws.init();
    let run = ws.apply();
    assert_ne!(run.code, 0, "apply should fail:\n{}", run.all());
    // Terraform wraps long lines; compare on single spaces.
    run.all().split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn digests_changed_by_one_byte_fail_the_signature_check() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let f = fixture();
    let asc = f
        .tree
        .dir("stable", STABLE)
        .join(format!("{IMAGE}.DIGESTS.asc"));
    let text = std::fs::read_to_string(&asc).expect("asc");
    // Flip one hex digit of the SHA512 line inside the signed text.
    let pos = text.find("# SHA512 HASH\n").expect("sha512 section") + "# SHA512 HASH\n".len();
    let mut bytes = text.into_bytes();
    bytes[pos] = if bytes[pos] == b'0' { b'1' } else { b'0' };
    std::fs::write(&asc, bytes).expect("tamper");
    let out = apply_fails(&f, &format!("  version = \"{STABLE}\""));
    assert!(
        out.contains("Flatcar release signature verification failed"),
        "{out}"
    );
    assert!(out.contains("does not match the content"), "{out}");
}

#[test]
fn a_signature_by_an_unknown_key_names_both_keys() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let f = fixture();
    let stranger = SigningKey::generate("Someone Else");
    let dir = f.tree.dir("stable", STABLE);
    stranger.clearsign(
        &dir.join(format!("{IMAGE}.DIGESTS")),
        &dir.join(format!("{IMAGE}.DIGESTS.asc")),
    );
    let out = apply_fails(&f, &format!("  version = \"{STABLE}\""));
    assert!(out.contains("which is not the trusted key"), "{out}");
    assert!(
        out.contains(&f.tree.key.fingerprint),
        "trusted fingerprint missing: {out}"
    );
}

#[test]
fn a_missing_file_names_the_url_and_status() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let f = fixture();
    std::fs::remove_file(
        f.tree
            .dir("stable", STABLE)
            .join(format!("{IMAGE}.DIGESTS.asc")),
    )
    .expect("rm");
    let out = apply_fails(&f, &format!("  version = \"{STABLE}\""));
    assert!(out.contains("Cannot fetch the Flatcar release"), "{out}");
    assert!(
        out.contains(&format!(
            "/stable/amd64-usr/{STABLE}/{IMAGE}.DIGESTS.asc failed: HTTP 404"
        )),
        "{out}"
    );
}

#[test]
fn the_built_in_flatcar_key_rejects_a_release_signed_by_another_key() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let f = fixture();
    let ws = Workspace::new();
    ws.write_config(&format!(
        "provider \"flatcar\" {{\n  release_base_url = \"{}/{{channel}}\"\n}}\ndata \"flatcar_release\" \"this\" {{}}\n",
        f.server.base_url
    ));
    ws.init();
    let run = ws.apply();
    assert_ne!(run.code, 0);
    let out = run.all().split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        out.contains("F88CFEDEFF29A5B4D9523864E25D9AED0593B34A"),
        "{out}"
    );
}

#[test]
fn invalid_channel_and_arch_are_errors_at_their_attribute_during_validate() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let ws = Workspace::new();
    ws.write_config("data \"flatcar_release\" \"this\" {\n  channel = \"edge\"\n  arch    = \"x86\"\n  version = \"latest\"\n}\n");
    ws.init();
    let run = ws.run(&["validate"]);
    assert_ne!(run.code, 0);
    let out = run.all();
    for (summary, line) in [
        ("Invalid channel", ":   channel = \"edge\""),
        ("Invalid arch", ":   arch    = \"x86\""),
        ("Invalid version", ":   version = \"latest\""),
    ] {
        assert!(out.contains(summary), "{summary} missing:\n{out}");
        // Terraform quotes the attribute's own line when the diagnostic has its path.
        assert!(out.contains(line), "{line} not pointed at:\n{out}");
    }
    assert!(out.contains("stable, beta, alpha, lts"), "{out}");
}

#[test]
fn an_unknown_input_passes_through_plan() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let f = fixture();
    let ws = Workspace::new();
    ws.write_config(&format!(
        "{}\nresource \"terraform_data\" \"pick\" {{\n  input = \"current\"\n}}\n\ndata \"flatcar_release\" \"this\" {{\n  version = terraform_data.pick.output\n}}\n\noutput \"version\" {{ value = data.flatcar_release.this.version }}\n",
        provider_block(&f)
    ));
    ws.init();
    let plan = ws.run(&["plan", "-input=false"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(!plan.all().contains("invalid plan"), "{}", plan.all());
    assert!(
        plan.stdout.contains("(known after apply)"),
        "{}",
        plan.stdout
    );
    ws.apply().ok();
    assert_eq!(ws.output("version"), STABLE);
}

#[test]
fn providers_exit_gracefully_under_trace_logging() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let f = fixture();
    let ws = Workspace::new();
    ws.write_config(&release_config(&f, ""));
    ws.init();
    let mut cmd = ws.command(&["plan", "-no-color", "-input=false"]);
    let out = cmd.env("TF_LOG", "trace").output().expect("terraform");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(
        log.contains("provider: using plugin: version=6"),
        "handshake not seen in log"
    );
    assert!(
        !log.contains("plugin failed to exit gracefully"),
        "provider was killed:\n{log}"
    );
    assert!(log.contains("plugin exited"), "provider exit not logged");
}
