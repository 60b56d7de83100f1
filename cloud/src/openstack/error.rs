//! Errors of the OpenStack client and the messages in OpenStack's error bodies.

#[derive(Debug, Clone, thiserror::Error)]
pub enum CloudError {
    /// Credentials are missing or inconsistent; `hint` says what to set.
    #[error("{problem}. {hint}")]
    Config { problem: String, hint: String },
    #[error("authentication with {auth_url} failed: HTTP {status}: {message}")]
    Auth {
        auth_url: String,
        status: u16,
        message: String,
    },
    #[error("the service catalog has no {interface} endpoint of type {service}{}", region.as_ref().map(|r| format!(" in region {r}")).unwrap_or_default())]
    NoEndpoint {
        service: String,
        interface: String,
        region: Option<String>,
    },
    #[error("{method} {url}: HTTP {status}: {message}")]
    Api {
        method: String,
        url: String,
        status: u16,
        message: String,
    },
    #[error("{method} {url}: {reason}")]
    Transport {
        method: String,
        url: String,
        reason: String,
    },
    #[error("{0}: cancelled because Terraform asked the provider to stop")]
    Cancelled(String),
    #[error("unexpected answer from {url}: {reason}")]
    Decode { url: String, reason: String },
}

impl CloudError {
    pub fn status(&self) -> Option<u16> {
        match self {
            CloudError::Api { status, .. } | CloudError::Auth { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

/// Why a delete-and-wait did not finish.
#[derive(Debug, thiserror::Error)]
pub enum DeleteError {
    #[error(transparent)]
    Cloud(CloudError),
    #[error("{id} still exists after {limit:?}")]
    TimedOut {
        id: String,
        limit: std::time::Duration,
    },
}

/// How much of a service's message an error carries.
pub const MESSAGE_LIMIT: usize = 400;

/// A run of base64 characters this long is data (user data, a key, a token), not prose.
const DATA_RUN: usize = 40;

/// The human message from an OpenStack error body: Keystone's `{"error": {"message"}}`,
/// Nova's `{"badRequest": {"message"}}`, Neutron's `{"NeutronError": {"message"}}`, Glance's
/// `{"message"}` or plain text / HTML; shaped by [`shape_message`]. The one place where a
/// service's words enter our errors.
pub fn message_from_body(body: &str) -> String {
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(body) {
        let direct = json.get("message").and_then(|m| m.as_str());
        let nested = json.as_object().and_then(|o| {
            o.values()
                .find_map(|v| v.get("message").and_then(|m| m.as_str()))
        });
        if let Some(m) = direct.or(nested) {
            return shape_message(m);
        }
    }
    // Strip tags of an HTML error page and collapse whitespace.
    let mut text = String::with_capacity(body.len());
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    shape_message(&text)
}

/// A service's message as our errors carry it: whitespace collapsed, the values a service
/// echoes back left out (Nova's schema errors quote the whole field, e.g. the base64 of
/// `user_data`, which may hold secrets), long runs of base64 data cut, and at most
/// [`MESSAGE_LIMIT`] characters.
pub fn shape_message(message: &str) -> String {
    let collapsed = message.split_whitespace().collect::<Vec<_>>().join(" ");
    // jsonschema's "Invalid input for field/attribute X. Value: <the value>. <reason>": keep
    // the field and the reason, never the value.
    let without_value = match collapsed.find(". Value: ") {
        Some(at) => {
            let value_and_rest = &collapsed[at + ". Value: ".len()..];
            let reason = value_and_rest
                .rfind(". ")
                .map(|r| value_and_rest[r + 2..].to_string())
                .unwrap_or_default();
            let reason = redact_data(&reason);
            format!(
                "{}. Value: (not shown){}",
                &collapsed[..at],
                if reason.is_empty() {
                    String::new()
                } else {
                    format!(". {reason}")
                }
            )
        }
        None => collapsed,
    };
    let redacted = redact_data(&without_value);
    let mut shaped: String = redacted.chars().take(MESSAGE_LIMIT).collect();
    if redacted.chars().count() > MESSAGE_LIMIT {
        shaped.push_str(" [...]");
    }
    shaped
}

/// Replaces every run of at least [`DATA_RUN`] base64 characters with its length.
fn redact_data(text: &str) -> String {
    let is_data = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '_' | '-');
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let letters = run.chars().filter(|c| c.is_ascii_alphabetic()).count();
        // Long identifiers with dashes (UUIDs, names) are words; base64 blobs have no spaces
        // and mostly letters.
        if run.len() >= DATA_RUN && letters * 2 > run.len() && !run.contains('-') {
            out.push_str(&format!("[{} characters of data not shown]", run.len()));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if is_data(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::{message_from_body, shape_message};

    #[test]
    fn messages_from_every_service_shape() {
        assert_eq!(
            message_from_body(
                r#"{"error": {"message": "The request you have made requires authentication.", "code": 401}}"#
            ),
            "The request you have made requires authentication."
        );
        assert_eq!(
            message_from_body(r#"{"forbidden": {"message": "Quota exceeded", "code": 403}}"#),
            "Quota exceeded"
        );
        assert_eq!(
            message_from_body("<html><body><h1>409 Conflict</h1>Image is active</body></html>"),
            "409 Conflict Image is active"
        );
        assert_eq!(
            message_from_body(
                r#"{"NeutronError": {"type": "OverQuota", "message": "Quota exceeded for resources: ['floatingip'].", "detail": ""}}"#
            ),
            "Quota exceeded for resources: ['floatingip']."
        );
    }

    /// Nova's schema error quotes the whole value (user_data's base64): never carried on.
    #[test]
    fn echoed_values_and_data_are_not_carried() {
        use base64::Engine as _;
        let secret = base64::engine::general_purpose::STANDARD.encode(format!(
            "{{\"passwordHash\":\"SECRETHASH\"}}{}",
            " ".repeat(70_000)
        ));
        let body = serde_json::json!({"badRequest": {"code": 400, "message": format!(
            "Invalid input for field/attribute user_data. Value: {secret}. '{secret}' is too long"
        )}})
        .to_string();
        let shaped = message_from_body(&body);
        assert!(!shaped.contains(&secret[..40]), "{shaped}");
        assert!(shaped.len() < 600, "{} characters", shaped.len());
        assert!(
            shaped.starts_with("Invalid input for field/attribute user_data. Value: (not shown)"),
            "{shaped}"
        );
        // Plain prose, UUIDs and names stay.
        let prose = "Flavor 5f3c9a7e-1111-4222-8333-944455556666 could not be found.";
        assert_eq!(shape_message(prose), prose);
        // Anything else is cut at the limit.
        let long = "word ".repeat(200);
        assert!(shape_message(&long).ends_with(" [...]"));
        // A token-like run of base64 is cut wherever it appears.
        let token = "gAAAAABnY3Vyc2VkX3Rva2VuX3RoYXRfbXVzdF9ub3RfbGVha19hbnl3aGVyZQ";
        assert!(!shape_message(&format!("bad token {token}")).contains(token));
    }
}
