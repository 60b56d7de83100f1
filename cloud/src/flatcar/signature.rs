//! OpenPGP verification of release files against one trusted key.
//!
//! The trusted key is a primary key with signing subkeys that rotate (Flatcar's layout). A
//! signature is accepted when it verifies with the primary key or a subkey that was bound to
//! it, signing-capable, not revoked, and not expired at the signature's creation time.

use pgp::composed::{
    CleartextSignedMessage, Deserializable, DetachedSignature, SignedPublicKey, SignedPublicSubKey,
};
use pgp::packet::{Signature, SignatureType};
use pgp::types::KeyDetails;

/// The Flatcar image signing key (`F88C FEDE FF29 A5B4 D952 3864 E25D 9AED 0593 B34A`).
pub const FLATCAR_SIGNING_KEY: &str = include_str!("flatcar-image-signing-key.asc");

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("the trusted signing key cannot be read: {0}")]
    BadKey(String),
    #[error("{what} is not a valid OpenPGP signed message: {reason}")]
    Malformed { what: String, reason: String },
    #[error("{what} is signed by key {issuer}, which is not the trusted key {trusted} or one of its subkeys")]
    UnknownKey {
        what: String,
        issuer: String,
        trusted: String,
    },
    #[error("the signature on {what} by key {signer} does not match the content: the file was altered or corrupted")]
    BadSignature { what: String, signer: String },
    #[error("{what} is signed by subkey {signer}, which was revoked")]
    Revoked { what: String, signer: String },
    #[error("{what} was signed by subkey {signer} at {signed_at} (unix time), after the subkey expired at {expired_at}")]
    Expired {
        what: String,
        signer: String,
        signed_at: u32,
        expired_at: u32,
    },
    #[error("{what} is signed by subkey {signer}, which is not bound to the trusted key as a signing key")]
    NotSigningKey { what: String, signer: String },
}

/// A key we trust to sign releases.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    key: SignedPublicKey,
}

/// What a successful verification proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The signed text (for clear-signed messages), line endings as signed.
    pub text: String,
    /// Fingerprint (uppercase hex) of the key or subkey that made the signature.
    pub signer_fingerprint: String,
}

impl TrustedKey {
    pub fn flatcar() -> Result<TrustedKey, SignatureError> {
        TrustedKey::from_armored(FLATCAR_SIGNING_KEY)
    }

    /// The built-in Flatcar key, read and checked once per process on first use: verifying its
    /// self-signatures costs milliseconds that every ConfigureProvider would otherwise pay.
    pub fn flatcar_shared() -> Result<&'static TrustedKey, SignatureError> {
        static FLATCAR: std::sync::OnceLock<Result<TrustedKey, String>> =
            std::sync::OnceLock::new();
        FLATCAR
            .get_or_init(|| TrustedKey::flatcar().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| SignatureError::BadKey(e.clone()))
    }

    pub fn from_armored(armored: &str) -> Result<TrustedKey, SignatureError> {
        let (key, _) = SignedPublicKey::from_string(armored)
            .map_err(|e| SignatureError::BadKey(e.to_string()))?;
        key.verify_bindings().map_err(|e| {
            SignatureError::BadKey(format!("its self-signatures do not verify: {e}"))
        })?;
        Ok(TrustedKey { key })
    }

    /// Fingerprint of the primary key, uppercase hex.
    pub fn fingerprint(&self) -> String {
        format!("{:X}", self.key.primary_key.fingerprint())
    }

    /// Verifies a clear-signed message (e.g. `<file>.DIGESTS.asc`) and returns its text.
    pub fn verify_cleartext(&self, armored: &str, what: &str) -> Result<Verified, SignatureError> {
        let (message, _) = CleartextSignedMessage::from_string(armored).map_err(|e| {
            SignatureError::Malformed {
                what: what.to_string(),
                reason: e.to_string(),
            }
        })?;
        let text = message.signed_text();
        let mut first_error = None;
        for signature in message.signatures() {
            match self.verify_one(signature, text.as_bytes(), what) {
                Ok(signer_fingerprint) => {
                    return Ok(Verified {
                        text: message.text().to_string(),
                        signer_fingerprint,
                    })
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.unwrap_or_else(|| SignatureError::Malformed {
            what: what.to_string(),
            reason: "it carries no signature".into(),
        }))
    }

    /// Verifies a detached binary signature (e.g. `<file>.sig`) over `data`.
    pub fn verify_detached(
        &self,
        signature: &[u8],
        data: &[u8],
        what: &str,
    ) -> Result<String, SignatureError> {
        let detached =
            DetachedSignature::from_bytes(signature).map_err(|e| SignatureError::Malformed {
                what: what.to_string(),
                reason: e.to_string(),
            })?;
        self.verify_one(&detached.signature, data, what)
    }

    fn verify_one(
        &self,
        signature: &Signature,
        data: &[u8],
        what: &str,
    ) -> Result<String, SignatureError> {
        let issuers_fp: Vec<String> = signature
            .issuer_fingerprint()
            .iter()
            .map(|f| format!("{f:X}"))
            .collect();
        let issuers_id: Vec<String> = signature
            .issuer_key_id()
            .iter()
            .map(|k| hex::encode_upper(k.as_ref()))
            .collect();
        let matches = |fp: String, id: String| issuers_fp.contains(&fp) || issuers_id.contains(&id);
        let signed_at = signature.created().map(|t| t.as_secs()).unwrap_or(0);

        let primary = &self.key.primary_key;
        if matches(
            format!("{:X}", primary.fingerprint()),
            hex::encode_upper(primary.legacy_key_id().as_ref()),
        ) {
            let signer = format!("{:X}", primary.fingerprint());
            return signature
                .verify(primary, data)
                .map(|()| signer.clone())
                .map_err(|_| SignatureError::BadSignature {
                    what: what.into(),
                    signer,
                });
        }
        for subkey in &self.key.public_subkeys {
            let fp = format!("{:X}", subkey.key.fingerprint());
            if !matches(
                fp.clone(),
                hex::encode_upper(subkey.key.legacy_key_id().as_ref()),
            ) {
                continue;
            }
            self.check_subkey_valid_at(subkey, signed_at, &fp, what)?;
            return signature
                .verify(&subkey.key, data)
                .map(|()| fp.clone())
                .map_err(|_| SignatureError::BadSignature {
                    what: what.into(),
                    signer: fp,
                });
        }
        Err(SignatureError::UnknownKey {
            what: what.to_string(),
            issuer: issuers_fp
                .first()
                .or(issuers_id.first())
                .cloned()
                .unwrap_or_else(|| "(none named)".into()),
            trusted: self.fingerprint(),
        })
    }

    fn check_subkey_valid_at(
        &self,
        subkey: &SignedPublicSubKey,
        signed_at: u32,
        signer: &str,
        what: &str,
    ) -> Result<(), SignatureError> {
        let primary = &self.key.primary_key;
        let verified = |sig: &&Signature| sig.verify_subkey_binding(primary, &subkey.key).is_ok();
        if subkey
            .signatures
            .iter()
            .filter(|s| s.typ() == Some(SignatureType::SubkeyRevocation))
            .any(|s| verified(&s))
        {
            return Err(SignatureError::Revoked {
                what: what.into(),
                signer: signer.into(),
            });
        }
        // The binding in force at signing time decides: the newest one made no later than
        // the signature, or else (keyrings often keep only the latest self-signature, e.g.
        // after an expiry change) the newest one there is.
        let created = |s: &&&Signature| s.created().map(|t| t.as_secs()).unwrap_or(0);
        let bindings: Vec<&Signature> = subkey
            .signatures
            .iter()
            .filter(|s| s.typ() == Some(SignatureType::SubkeyBinding))
            .filter(verified)
            .filter(|s| {
                s.embedded_signature().is_some_and(|back| {
                    back.verify_primary_key_binding(&subkey.key, primary)
                        .is_ok()
                })
            })
            .collect();
        let binding = bindings
            .iter()
            .filter(|s| created(s) <= signed_at)
            .max_by_key(created)
            .or_else(|| bindings.iter().max_by_key(created))
            .copied();
        if signed_at < subkey.key.created_at().as_secs() {
            return Err(SignatureError::NotSigningKey {
                what: what.into(),
                signer: signer.into(),
            });
        }
        let Some(binding) = binding.filter(|b| b.key_flags().sign()) else {
            return Err(SignatureError::NotSigningKey {
                what: what.into(),
                signer: signer.into(),
            });
        };
        if let Some(lifetime) = binding.key_expiration_time().filter(|d| d.as_secs() > 0) {
            let expired_at = subkey
                .key
                .created_at()
                .as_secs()
                .saturating_add(lifetime.as_secs());
            if signed_at >= expired_at {
                return Err(SignatureError::Expired {
                    what: what.into(),
                    signer: signer.into(),
                    signed_at,
                    expired_at,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_flatcar_key_is_the_published_one() {
        let key = TrustedKey::flatcar().unwrap();
        assert_eq!(
            key.fingerprint(),
            "F88CFEDEFF29A5B4D9523864E25D9AED0593B34A"
        );
    }

    #[test]
    fn garbage_is_not_a_key() {
        assert!(matches!(
            TrustedKey::from_armored("nope"),
            Err(SignatureError::BadKey(_))
        ));
    }
}
