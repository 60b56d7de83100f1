//! Where a Flatcar release lives on the release server, and resolving it to an exact,
//! verified release.

use crate::flatcar::manifest::{self, ManifestError};
use crate::flatcar::signature::{SignatureError, TrustedKey};
use crate::http::{HttpClient, HttpError};

/// The OpenStack image file name on the release server.
pub const OPENSTACK_IMAGE: &str = "flatcar_production_openstack_image.img";
/// Default release server; `{channel}` is replaced by the channel name.
pub const DEFAULT_BASE_URL: &str = "https://{channel}.release.flatcar-linux.net";

/// An enum of fixed strings: `ALL` lists them (callers validate against it), serde and
/// `FromStr` use them.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }
        impl $name {
            pub const ALL: &'static [&'static str] = &[$($text),+];
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }
        impl ::std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!("{s:?} is not one of {}", $name::ALL.join(", "))),
                }
            }
        }
        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result { f.write_str(self.as_str()) }
        }
        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use string_enum;

string_enum!(Channel { Stable = "stable", Beta = "beta", Alpha = "alpha", Lts = "lts" });
string_enum!(Arch { Amd64 = "amd64", Arm64 = "arm64" });
string_enum!(Compression { None = "none", Gz = "gz", Bz2 = "bz2" });

impl Compression {
    /// The release file for this compression of the OpenStack image.
    pub fn file_name(self) -> String {
        match self {
            Compression::None => OPENSTACK_IMAGE.to_string(),
            Compression::Gz => format!("{OPENSTACK_IMAGE}.gz"),
            Compression::Bz2 => format!("{OPENSTACK_IMAGE}.bz2"),
        }
    }
}

/// Which release to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseQuery {
    pub channel: Channel,
    pub arch: Arch,
    /// `current` or an exact `MAJOR.MINOR.PATCH`.
    pub version: String,
    /// Base URL template (`{channel}` optional).
    pub base_url: String,
}

/// A release resolved to its exact version and verified digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRelease {
    pub version: String,
    pub image_url: String,
    pub digests_url: String,
    pub signature_url: String,
    /// SHA-512 of the uncompressed `.img`, lowercase hex, from the signed DIGESTS.
    pub sha512: String,
    /// Fingerprint of the (sub)key that signed the DIGESTS.
    pub signer_fingerprint: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("{url}: {source}")]
    Manifest { url: String, source: ManifestError },
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error("base URL {0:?} is not an http(s) URL")]
    BadBaseUrl(String),
    /// A setting of the query is invalid; `setting` names it (`channel`, `arch`, ...).
    #[error("{reason}")]
    Invalid {
        setting: &'static str,
        reason: String,
    },
}

/// Whether a base URL can serve `channel`: with `{channel}` any; without it, the channel its
/// URL names (a path segment or host label such as `/beta` or `beta.`), or stable when it names
/// none. Otherwise the mirror would answer with another channel's release under this one's name.
fn mirror_serves(base_url: &str, channel: Channel) -> Result<(), String> {
    if base_url.contains("{channel}") {
        return Ok(());
    }
    let named: Vec<Channel> = base_url
        .split(['/', '.', ':'])
        .filter_map(|part| part.parse::<Channel>().ok())
        .collect();
    match named.as_slice() {
        [] if channel == Channel::Stable => Ok(()),
        [] => Err(format!(
            "the release mirror {base_url:?} has no `{{channel}}` placeholder and names no channel, so it would serve its own releases as {channel}. Put `{{channel}}` where the mirror has the channel's directory (e.g. \"https://mirror.example.org/flatcar/{{channel}}\"), or leave the channel at stable."
        )),
        named if named.contains(&channel) => Ok(()),
        named => Err(format!(
            "the release mirror {base_url:?} serves {} (its URL names it), not {channel}. Use a mirror of {channel}, or write the URL with a `{{channel}}` placeholder.",
            named[0]
        )),
    }
}

/// Defaults of a release query.
pub const DEFAULT_CHANNEL: &str = Channel::DEFAULT.as_str();
pub const DEFAULT_ARCH: &str = Arch::DEFAULT.as_str();

impl Channel {
    pub const DEFAULT: Channel = Channel::Stable;
}

impl Arch {
    pub const DEFAULT: Arch = Arch::Amd64;
}
pub const DEFAULT_VERSION: &str = "current";

impl ReleaseQuery {
    /// The one place a query is built from user settings: unset ones take their defaults,
    /// `base_url` falls back to `default_base_url`. Errors name the setting.
    pub fn new(
        channel: Option<&str>,
        arch: Option<&str>,
        version: Option<&str>,
        base_url: Option<&str>,
        default_base_url: &str,
    ) -> Result<ReleaseQuery, ReleaseError> {
        let invalid = |setting| move |reason| ReleaseError::Invalid { setting, reason };
        let version = version.unwrap_or(DEFAULT_VERSION);
        if version != DEFAULT_VERSION && !manifest::is_exact_version(version) {
            return Err(ReleaseError::Invalid {
                setting: "version",
                reason: format!(
                    "{version:?} is neither \"current\" nor an exact version such as \"4593.2.5\"."
                ),
            });
        }
        let channel: Channel = channel
            .unwrap_or(DEFAULT_CHANNEL)
            .parse()
            .map_err(invalid("channel"))?;
        let base_url = base_url.unwrap_or(default_base_url).to_string();
        mirror_serves(&base_url, channel).map_err(invalid("channel"))?;
        Ok(ReleaseQuery {
            channel,
            arch: arch
                .unwrap_or(DEFAULT_ARCH)
                .parse()
                .map_err(invalid("arch"))?,
            version: version.to_string(),
            base_url,
        })
    }

    /// `<base>/<arch>-usr/<version>/` with `{channel}` filled in.
    pub fn directory_url(&self, version: &str) -> Result<String, ReleaseError> {
        let base = self.base_url.replace("{channel}", self.channel.as_str());
        let parsed =
            url::Url::parse(&base).map_err(|_| ReleaseError::BadBaseUrl(self.base_url.clone()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ReleaseError::BadBaseUrl(self.base_url.clone()));
        }
        Ok(format!(
            "{}/{}-usr/{version}/",
            base.trim_end_matches('/'),
            self.arch
        ))
    }

    /// Resolves `current` to an exact version, fetches the clear-signed DIGESTS of the
    /// OpenStack image and verifies it with `key`.
    pub async fn resolve(
        &self,
        http: &HttpClient,
        key: &TrustedKey,
    ) -> Result<VerifiedRelease, ReleaseError> {
        let version = if manifest::is_exact_version(&self.version) {
            self.version.clone()
        } else {
            let url = format!("{}version.txt", self.directory_url(&self.version)?);
            let text = http.get_text(&url).await?;
            manifest::parse_version_txt(&text)
                .map_err(|source| ReleaseError::Manifest { url, source })?
                .version
        };
        let (sha512, signer_fingerprint) = self
            .signed_digest(http, key, &version, OPENSTACK_IMAGE)
            .await?;
        let image_url = format!("{}{OPENSTACK_IMAGE}", self.directory_url(&version)?);
        Ok(VerifiedRelease {
            version,
            signature_url: format!("{image_url}.sig"),
            digests_url: format!("{image_url}.DIGESTS.asc"),
            image_url,
            sha512,
            signer_fingerprint,
        })
    }

    /// The SHA-512 of `file` of an exact version, from its verified `<file>.DIGESTS.asc`,
    /// and the fingerprint of the key that signed it.
    pub async fn signed_digest(
        &self,
        http: &HttpClient,
        key: &TrustedKey,
        version: &str,
        file: &str,
    ) -> Result<(String, String), ReleaseError> {
        let digests_url = format!("{}{file}.DIGESTS.asc", self.directory_url(version)?);
        let armored = http.get_text(&digests_url).await?;
        let verified = key.verify_cleartext(&armored, &digests_url)?;
        let sha512 = manifest::sha512_for(&verified.text, file).map_err(|source| {
            ReleaseError::Manifest {
                url: digests_url.clone(),
                source,
            }
        })?;
        Ok((sha512, verified.signer_fingerprint))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(base: &str) -> ReleaseQuery {
        ReleaseQuery {
            channel: Channel::Beta,
            arch: Arch::Arm64,
            version: "current".into(),
            base_url: base.into(),
        }
    }

    #[test]
    fn directory_with_and_without_placeholder() {
        assert_eq!(
            query(DEFAULT_BASE_URL).directory_url("current").unwrap(),
            "https://beta.release.flatcar-linux.net/arm64-usr/current/"
        );
        assert_eq!(
            query("http://127.0.0.1:8080/mirror/")
                .directory_url("1.2.3")
                .unwrap(),
            "http://127.0.0.1:8080/mirror/arm64-usr/1.2.3/"
        );
        assert_eq!(
            query("http://m/{channel}").directory_url("1.2.3").unwrap(),
            "http://m/beta/arm64-usr/1.2.3/"
        );
        assert!(query("ftp://x").directory_url("1.2.3").is_err());
        assert!(query("not a url").directory_url("1.2.3").is_err());
    }

    #[test]
    fn a_mirror_without_placeholder_serves_only_the_channel_it_names() {
        let q = |channel: &str, base: &str| {
            ReleaseQuery::new(Some(channel), None, None, Some(base), DEFAULT_BASE_URL)
        };
        assert!(q("beta", "http://m/{channel}").is_ok());
        assert!(q("beta", "http://m/flatcar/beta").is_ok());
        assert!(q("stable", "http://127.0.0.1:8080/mirror").is_ok());
        assert!(q("beta", DEFAULT_BASE_URL).is_ok());
        let other = q("beta", "http://m/flatcar/stable").unwrap_err();
        assert!(
            matches!(&other, ReleaseError::Invalid { setting: "channel", reason } if reason.contains("serves stable") && reason.contains("not beta")),
            "{other}"
        );
        let none = q("lts", "http://127.0.0.1:8080/mirror").unwrap_err();
        assert!(
            none.to_string().contains("no `{channel}` placeholder"),
            "{none}"
        );
    }

    #[test]
    fn channel_and_arch_parse() {
        assert_eq!("lts".parse::<Channel>(), Ok(Channel::Lts));
        assert!("edge"
            .parse::<Channel>()
            .unwrap_err()
            .contains("stable, beta, alpha, lts"));
        assert!("x86".parse::<Arch>().is_err());
    }
}
