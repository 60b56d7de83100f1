//! `data:` URLs (RFC 2397) for inline contents, chosen as Butane chooses them: percent-encoded
//! text or base64, whichever is shorter, and (only when asked) gzip + base64 when that is
//! shorter still. Also the check that a `data:` URL written by hand decodes.

use std::io::Write;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use flate2::write::GzEncoder;
use flate2::Compression;

/// An encoded resource: the URL and whether its payload is gzip-compressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    pub url: String,
    pub gzipped: bool,
}

/// Encodes `contents` as a `data:` URL. With `compress`, gzip (best compression) is used when it
/// makes the URL shorter by more than the 4 bytes `"gzip"` costs.
pub fn encode(contents: &[u8], compress: bool) -> Encoded {
    let mut opaque = format!(",{}", escape(contents));
    let b64 = format!(";base64,{}", STANDARD.encode(contents));
    if b64.len() < opaque.len() {
        opaque = b64;
    }
    let mut gzipped = false;
    if compress {
        let gz = format!(";base64,{}", STANDARD.encode(gzip(contents)));
        if gz.len() + "gzip".len() < opaque.len() {
            opaque = gz;
            gzipped = true;
        }
    }
    Encoded {
        url: format!("data:{opaque}"),
        gzipped,
    }
}

fn gzip(contents: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(contents);
    encoder.finish().unwrap_or_default()
}

/// Percent-encodes every byte outside RFC 2396's unreserved set (letters, digits and
/// `-_.!~*'()`), as the Go `dataurl` package Butane uses does.
fn escape(contents: &[u8]) -> String {
    let mut out = String::with_capacity(contents.len());
    for &b in contents {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Why a `data:` URL does not decode, if it does not.
pub fn check(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("data:")
        .ok_or_else(|| "it does not start with `data:`".to_string())?;
    let (header, data) = rest
        .split_once(',')
        .ok_or_else(|| "it has no `,` between the media type and the data".to_string())?;
    let data = percent_decode(data)?;
    if header.ends_with(";base64") {
        let compact: Vec<u8> = data
            .into_iter()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        STANDARD
            .decode(compact)
            .map_err(|e| format!("its base64 data does not decode ({e})"))?;
    }
    Ok(())
}

fn percent_decode(data: &str) -> Result<Vec<u8>, String> {
    let bytes = data.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("`%` at byte {i} is not followed by two hex digits"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn text_is_percent_encoded_like_butane() {
        assert_eq!(encode(b"hello", false).url, "data:,hello");
        assert_eq!(
            encode(b"Hello, world!\n", false).url,
            "data:,Hello%2C%20world!%0A"
        );
    }

    #[test]
    fn binary_is_base64_when_shorter() {
        // ",%00%01%02%FF" (13) beats ";base64,AAEC/w==" (16); twelve 0xFF bytes go the other way.
        assert_eq!(encode(&[0, 1, 2, 255], false).url, "data:,%00%01%02%FF");
        assert_eq!(
            encode(&[255; 12], false).url,
            "data:;base64,////////////////"
        );
    }

    #[test]
    fn compression_only_when_asked_and_shorter() {
        let text = "a line that repeats\n".repeat(50);
        let plain = encode(text.as_bytes(), false);
        assert!(!plain.gzipped);
        let packed = encode(text.as_bytes(), true);
        assert!(packed.gzipped);
        assert!(packed.url.len() < plain.url.len());
        let payload = STANDARD
            .decode(packed.url.strip_prefix("data:;base64,").unwrap())
            .unwrap();
        let mut unpacked = String::new();
        flate2::read::GzDecoder::new(&payload[..])
            .read_to_string(&mut unpacked)
            .unwrap();
        assert_eq!(unpacked, text);
        assert!(!encode(b"short", true).gzipped);
    }

    #[test]
    fn checks_hand_written_urls() {
        assert!(check("data:,hello%20world").is_ok());
        assert!(check("data:text/plain;base64,aGk=").is_ok());
        assert!(check("data:;base64,!!").is_err());
        assert!(check("data:,100%").is_err());
        assert!(check("data:hello").is_err());
    }
}
