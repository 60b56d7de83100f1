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

/// The human message from an OpenStack error body: Keystone's `{"error": {"message"}}`,
/// Nova's `{"badRequest": {"message"}}`, Glance's `{"message"}` or plain text / HTML.
pub fn message_from_body(body: &str) -> String {
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(body) {
        let direct = json.get("message").and_then(|m| m.as_str());
        let nested = json.as_object().and_then(|o| {
            o.values()
                .find_map(|v| v.get("message").and_then(|m| m.as_str()))
        });
        if let Some(m) = direct.or(nested) {
            return m.trim().to_string();
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
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed.chars().take(400).collect()
}

#[cfg(test)]
mod tests {
    use super::message_from_body;

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
    }
}
