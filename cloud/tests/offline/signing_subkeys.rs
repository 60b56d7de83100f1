//! Signing subkeys rotate: a signature is good when its subkey was valid at the signature's
//! creation time, and refused when the subkey was revoked or had expired by then. The keys
//! and signatures are made with GnuPG at faked times.

use std::process::Command;

use flatcar_cloud::flatcar::signature::{SignatureError, TrustedKey};

struct Gpg(tempfile::TempDir);

impl Gpg {
    fn new() -> Gpg {
        Gpg(tempfile::Builder::new()
            .prefix("gpg")
            .tempdir_in("/tmp")
            .expect("home"))
    }

    fn at(&self, time: &str, args: &[&str]) -> String {
        let out = Command::new("gpg")
            .env("GNUPGHOME", self.0.path())
            .args([
                "--batch",
                "--yes",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
            ])
            .args([
                "--ignore-time-conflict",
                "--faked-system-time",
                &format!("{time}!"),
            ])
            .args(args)
            .output()
            .expect("gpg");
        assert!(
            out.status.success(),
            "gpg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn fingerprints(&self) -> Vec<String> {
        self.at("20200101T000000", &["--list-keys", "--with-colons"])
            .lines()
            .filter(|l| l.starts_with("fpr:"))
            .filter_map(|l| l.split(':').nth(9).map(str::to_string))
            .collect()
    }

    fn clearsign(&self, time: &str, signer: &str, text: &str) -> String {
        let input = self.0.path().join("message.txt");
        std::fs::write(&input, text).expect("message");
        self.at(
            time,
            &[
                "--local-user",
                &format!("{signer}!"),
                "--clearsign",
                "--output",
                "-",
                input.to_str().expect("path"),
            ],
        )
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", self.0.path())
            .args(["--kill", "gpg-agent"])
            .output();
    }
}

#[test]
fn subkeys_are_judged_at_signing_time() {
    let gpg = Gpg::new();
    gpg.at(
        "20200101T000000",
        &[
            "--quick-gen-key",
            "Rotating <rotating@example.invalid>",
            "ed25519",
            "cert",
            "never",
        ],
    );
    let primary = gpg.fingerprints()[0].clone();
    gpg.at(
        "20200101T000000",
        &["--quick-add-key", &primary, "ed25519", "sign", "never"],
    );
    gpg.at(
        "20200101T000000",
        &["--quick-add-key", &primary, "ed25519", "sign", "never"],
    );
    let fps = gpg.fingerprints();
    let (expiring, revoked) = (fps[1].clone(), fps[2].clone());

    let before_expiry = gpg.clearsign("20200103T000000", &expiring, "signed while valid\n");
    let after_expiry = gpg.clearsign("20200111T000000", &expiring, "signed after expiry\n");
    let by_revoked = gpg.clearsign("20200103T000000", &revoked, "signed before revocation\n");
    // On Jan 6 the first subkey gets an expiry of one day (Jan 7); on Jan 7 the second is revoked.
    gpg.at(
        "20200106T000000",
        &["--quick-set-expire", &primary, "1d", &expiring],
    );
    let revoke = "key 2\nrevkey\ny\n0\n\ny\nsave\n";
    let mut child = Command::new("gpg")
        .env("GNUPGHOME", gpg.0.path())
        .args([
            "--batch",
            "--yes",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
            "--ignore-time-conflict",
        ])
        .args([
            "--faked-system-time",
            "20200107T000000!",
            "--command-fd",
            "0",
            "--edit-key",
            &primary,
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("gpg edit-key");
    std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), revoke.as_bytes())
        .expect("commands");
    assert!(child.wait().expect("wait").success());

    let key =
        TrustedKey::from_armored(&gpg.at("20200108T000000", &["--armor", "--export", &primary]))
            .expect("key");
    assert_eq!(key.fingerprint(), primary);

    let good = key
        .verify_cleartext(&before_expiry, "before.asc")
        .expect("valid at signing time");
    assert_eq!(good.signer_fingerprint, expiring);
    assert!(good.text.contains("signed while valid"));

    match key.verify_cleartext(&after_expiry, "after.asc") {
        Err(SignatureError::Expired { signer, .. }) => assert_eq!(signer, expiring),
        other => panic!("expected an expiry error, got {other:?}"),
    }
    match key.verify_cleartext(&by_revoked, "revoked.asc") {
        Err(SignatureError::Revoked { signer, .. }) => assert_eq!(signer, revoked),
        other => panic!("expected a revocation error, got {other:?}"),
    }
}

#[test]
fn the_real_flatcar_key_has_rotated_signing_subkeys() {
    // Read at run time: the shared test data is outside this crate (and the repository).
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/testdata/flatcar/Flatcar_Image_Signing_Key.asc");
    let armored =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let key = TrustedKey::from_armored(&armored).expect("the shared Flatcar key parses");
    assert_eq!(
        key.fingerprint(),
        "F88CFEDEFF29A5B4D9523864E25D9AED0593B34A"
    );
    // A message signed by anyone else names the Flatcar fingerprint in its refusal.
    let gpg = Gpg::new();
    gpg.at(
        "20250101T000000",
        &[
            "--quick-gen-key",
            "Other <o@example.invalid>",
            "ed25519",
            "sign",
            "never",
        ],
    );
    let fp = gpg.fingerprints()[0].clone();
    let signed = gpg.clearsign("20250102T000000", &fp, "x\n");
    match key.verify_cleartext(&signed, "x.asc") {
        Err(SignatureError::UnknownKey {
            trusted, issuer, ..
        }) => {
            assert_eq!(trusted, "F88CFEDEFF29A5B4D9523864E25D9AED0593B34A");
            assert_eq!(issuer, fp);
        }
        other => panic!("expected unknown key, got {other:?}"),
    }
}
