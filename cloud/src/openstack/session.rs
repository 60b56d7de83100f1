//! An authenticated session with one cloud: lazy Keystone authentication, the catalog,
//! endpoint overrides, and every request through the one retry policy; a 401 re-issues the
//! token once. Tokens and secrets are never logged.

use reqwest::header::{HeaderValue, CONTENT_TYPE};
use reqwest::{Method, Response};
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::http::{HttpClient, HttpError, Idempotency, StopSignal};
use crate::openstack::auth::CloudProfile;
use crate::openstack::error::message_from_body;
use crate::openstack::CloudError;

#[derive(Debug, Clone, Deserialize)]
struct CatalogEndpoint {
    interface: String,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    region_id: Option<String>,
    url: String,
}

#[derive(Debug, Clone, Deserialize)]
struct CatalogService {
    #[serde(rename = "type")]
    service_type: String,
    #[serde(default)]
    endpoints: Vec<CatalogEndpoint>,
}

#[derive(Clone)]
struct Token {
    value: String,
    catalog: Vec<CatalogService>,
    /// Who the token is for, and the project it is scoped to (application credentials are
    /// always project-scoped).
    user_id: Option<String>,
    project_id: Option<String>,
}

/// The user and project a session acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub user_id: String,
    pub project_id: String,
}

/// A request to an OpenStack service.
pub struct ApiRequest<'a> {
    pub method: Method,
    /// Catalog service type, e.g. `image`.
    pub service: &'a str,
    /// Path below the service's versionless root, e.g. `/v2/images`.
    pub path: &'a str,
    pub json: Option<serde_json::Value>,
    pub content_type: Option<&'static str>,
    pub idempotency: Idempotency,
    /// Clean-up (deleting what a failed operation made) runs even after a stop request.
    pub cleanup: bool,
    /// `OpenStack-API-Version` microversion for this service, if any.
    pub microversion: Option<&'static str>,
    /// A body that is not JSON (an object of the object store), sent as is.
    pub bytes: Option<Vec<u8>>,
    /// Further request headers, e.g. `If-None-Match`.
    pub headers: Vec<(&'static str, String)>,
}

impl<'a> ApiRequest<'a> {
    pub fn new(method: Method, service: &'a str, path: &'a str) -> ApiRequest<'a> {
        let idempotency = if method == Method::POST {
            Idempotency::NotIdempotent
        } else {
            Idempotency::Idempotent
        };
        ApiRequest {
            method,
            service,
            path,
            json: None,
            content_type: None,
            idempotency,
            cleanup: false,
            microversion: None,
            bytes: None,
            headers: Vec::new(),
        }
    }
    /// `body` as is, with `content_type`.
    pub fn bytes(mut self, body: Vec<u8>, content_type: &'static str) -> ApiRequest<'a> {
        self.bytes = Some(body);
        self.content_type = Some(content_type);
        self
    }
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> ApiRequest<'a> {
        self.headers.push((name, value.into()));
        self
    }
    pub fn microversion(mut self, version: &'static str) -> ApiRequest<'a> {
        self.microversion = Some(version);
        self
    }
    pub fn cleanup(mut self) -> ApiRequest<'a> {
        self.cleanup = true;
        self
    }
    pub fn json(mut self, body: serde_json::Value) -> ApiRequest<'a> {
        self.json = Some(body);
        self
    }
    pub fn content_type(mut self, content_type: &'static str) -> ApiRequest<'a> {
        self.content_type = Some(content_type);
        self
    }
}

pub struct CloudSession {
    profile: CloudProfile,
    http: HttpClient,
    token: Mutex<Option<Token>>,
}

fn from_http(e: HttpError) -> CloudError {
    match e {
        HttpError::Status {
            method,
            url,
            status,
            body,
        } => CloudError::Api {
            method,
            url,
            status,
            message: message_from_body(&body),
        },
        HttpError::Transport {
            method,
            url,
            reason,
        } => CloudError::Transport {
            method,
            url,
            reason,
        },
        HttpError::Cancelled { url } => CloudError::Cancelled(url),
    }
}

impl CloudSession {
    /// Prepares a session; nothing is sent until the first request.
    pub fn new(profile: CloudProfile, stop: StopSignal) -> Result<CloudSession, CloudError> {
        let cacert = match &profile.cacert_file {
            Some(path) => Some(std::fs::read(path).map_err(|e| CloudError::Config {
                problem: format!("cannot read cacert_file {path}: {e}"),
                hint: "Point cacert_file (OS_CACERT) at a PEM file of CA certificates.".into(),
            })?),
            None => None,
        };
        let http =
            HttpClient::with_tls(stop, cacert.as_deref(), profile.insecure).map_err(from_http)?;
        Ok(CloudSession {
            profile,
            http,
            token: Mutex::new(None),
        })
    }

    pub fn profile(&self) -> &CloudProfile {
        &self.profile
    }

    /// The same cloud and token for a clean-up: every request runs even after Terraform asked
    /// the provider to stop (a create that is stopped deletes what it made, and waits until the
    /// cloud confirms it).
    pub async fn for_cleanup(&self) -> CloudSession {
        CloudSession {
            profile: self.profile.clone(),
            http: self.http.uncancellable(),
            token: Mutex::new(self.token.lock().await.clone()),
        }
    }

    /// Issues a token with `http` (the clean-up client when a clean-up needs one).
    async fn authenticate(&self, http: &HttpClient) -> Result<Token, CloudError> {
        let url = format!("{}/auth/tokens", self.profile.auth_url);
        let body = self.profile.token_request();
        let response = http
            .send(Method::POST, &url, Idempotency::Idempotent, |b| {
                b.json(&body)
            })
            .await
            .map_err(|e| match e {
                HttpError::Status { status, body, .. } => CloudError::Auth {
                    auth_url: self.profile.auth_url.clone(),
                    status,
                    message: message_from_body(&body),
                },
                other => from_http(other),
            })?;
        let value = response
            .headers()
            .get("x-subject-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(|| CloudError::Decode {
                url: url.clone(),
                reason: "no X-Subject-Token header".into(),
            })?;
        #[derive(Deserialize)]
        struct Body {
            token: TokenBody,
        }
        #[derive(Deserialize)]
        struct TokenBody {
            #[serde(default)]
            catalog: Vec<CatalogService>,
            #[serde(default)]
            user: Option<IdOnly>,
            #[serde(default)]
            project: Option<IdOnly>,
        }
        #[derive(Deserialize)]
        struct IdOnly {
            id: String,
        }
        let parsed: Body = response.json().await.map_err(|e| CloudError::Decode {
            url,
            reason: e.to_string(),
        })?;
        tracing::debug!(auth_url = %self.profile.auth_url, "authenticated");
        Ok(Token {
            value,
            catalog: parsed.token.catalog,
            user_id: parsed.token.user.map(|u| u.id),
            project_id: parsed.token.project.map(|p| p.id),
        })
    }

    async fn token(&self, renew: bool) -> Result<Token, CloudError> {
        self.token_via(renew, &self.http).await
    }

    async fn token_via(&self, renew: bool, http: &HttpClient) -> Result<Token, CloudError> {
        let mut slot = self.token.lock().await;
        if renew || slot.is_none() {
            *slot = Some(self.authenticate(http).await?);
        }
        slot.clone().ok_or_else(|| CloudError::Decode {
            url: self.profile.auth_url.clone(),
            reason: "no token".into(),
        })
    }

    /// The user and project of this session's token (authenticating first if needed).
    pub async fn scope(&self) -> Result<Scope, CloudError> {
        let token = self.token(false).await?;
        match (token.user_id, token.project_id) {
            (Some(user_id), Some(project_id)) => Ok(Scope {
                user_id,
                project_id,
            }),
            _ => Err(CloudError::Config {
                problem: "the credentials are not scoped to a project".into(),
                hint: "Set OS_PROJECT_NAME (or OS_PROJECT_ID) with the project's domain, or use an application credential.".into(),
            }),
        }
    }

    /// The versionless root of a service: an override, or the catalog's endpoint for the
    /// profile's interface and region.
    pub async fn endpoint(&self, service: &str) -> Result<String, CloudError> {
        if let Some(url) = self.profile.endpoint_overrides.get(service) {
            return Ok(versionless(url));
        }
        let token = self.token(false).await?;
        let region = self.profile.region.as_deref();
        token
            .catalog
            .iter()
            .filter(|s| s.service_type == service)
            .flat_map(|s| &s.endpoints)
            .find(|e| {
                e.interface == self.profile.interface
                    && region.is_none_or(|r| {
                        e.region.as_deref() == Some(r) || e.region_id.as_deref() == Some(r)
                    })
            })
            .map(|e| versionless(&e.url))
            .ok_or_else(|| CloudError::NoEndpoint {
                service: service.into(),
                interface: self.profile.interface.clone(),
                region: self.profile.region.clone(),
            })
    }

    /// Sends a request; 2xx answers are returned, others become `CloudError::Api`.
    pub async fn send(&self, request: ApiRequest<'_>) -> Result<Response, CloudError> {
        let url = format!("{}{}", self.endpoint(request.service).await?, request.path);
        let mut renewed = false;
        let http = if request.cleanup {
            self.http.uncancellable()
        } else {
            self.http.clone()
        };
        loop {
            // A clean-up that must re-authenticate does so even after a stop, too.
            let token = self.token_via(renewed, &http).await?;
            let result = http
                .send(request.method.clone(), &url, request.idempotency, |b| {
                    let mut b = b.header("X-Auth-Token", &token.value);
                    if let Some(v) = request.microversion {
                        b = b.header("OpenStack-API-Version", format!("{} {v}", request.service));
                    }
                    for (name, value) in &request.headers {
                        b = b.header(*name, value);
                    }
                    if let Some(bytes) = &request.bytes {
                        b = b.body(bytes.clone()).header(
                            CONTENT_TYPE,
                            HeaderValue::from_static(
                                request.content_type.unwrap_or("application/octet-stream"),
                            ),
                        );
                    }
                    if let Some(json) = &request.json {
                        b = b.body(json.to_string());
                        b = b.header(
                            CONTENT_TYPE,
                            HeaderValue::from_static(
                                request.content_type.unwrap_or("application/json"),
                            ),
                        );
                    }
                    b
                })
                .await;
            match result {
                Err(HttpError::Status { status: 401, .. }) if !renewed => {
                    tracing::debug!("token rejected; authenticating again");
                    renewed = true;
                }
                other => return other.map_err(from_http),
            }
        }
    }

    /// Deletes what `request` names; an object that is already gone is not an error. A
    /// clean-up request: it runs even after Terraform asked the provider to stop.
    ///
    /// A DELETE retried after a 5xx may find the object already deleting (Glance answers
    /// 400 "deleted to deleted", Nova 409): when a GET then finds it gone, that is success.
    pub async fn delete(&self, request: ApiRequest<'_>) -> Result<(), CloudError> {
        let (service, path) = (request.service, request.path);
        match self.send(request.cleanup()).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => match self
                .send(ApiRequest::new(Method::GET, service, path).cleanup())
                .await
            {
                Err(gone) if gone.is_not_found() => Ok(()),
                Ok(response) => match is_deleted(response).await {
                    true => Ok(()),
                    false => Err(e),
                },
                Err(_) => Err(e),
            },
        }
    }

    /// Sends a streaming body once (a stream cannot be replayed); the token is checked first.
    pub async fn send_stream(
        &self,
        method: Method,
        service: &str,
        path: &str,
        body: reqwest::Body,
    ) -> Result<Response, CloudError> {
        let url = format!("{}{path}", self.endpoint(service).await?);
        let token = self.token(false).await?;
        let once = std::sync::Mutex::new(Some(body));
        self.http
            .send(method, &url, Idempotency::Once, |b| {
                let b = b
                    .header("X-Auth-Token", &token.value)
                    .header(CONTENT_TYPE, "application/octet-stream");
                match once.lock().ok().and_then(|mut slot| slot.take()) {
                    Some(body) => b.body(body),
                    None => b,
                }
            })
            .await
            .map_err(from_http)
    }

    /// Decodes a JSON answer.
    pub async fn json<T: serde::de::DeserializeOwned>(
        &self,
        response: Response,
    ) -> Result<T, CloudError> {
        let url = response.url().to_string();
        let bytes = response.bytes().await.map_err(|e| CloudError::Decode {
            url: url.clone(),
            reason: e.to_string(),
        })?;
        serde_json::from_slice(&bytes).map_err(|e| CloudError::Decode {
            url,
            reason: e.to_string(),
        })
    }
}

/// An object whose status says it is deleted (Glance keeps them visible for a while).
async fn is_deleted(response: Response) -> bool {
    let Ok(json) = response.json::<serde_json::Value>().await else {
        return false;
    };
    let status = json
        .get("status")
        .or_else(|| json.get("server").and_then(|s| s.get("status")))
        .and_then(|s| s.as_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    matches!(
        status.as_str(),
        "deleted" | "pending_delete" | "soft_deleted"
    )
}

/// `http://h:9292/v2/` -> `http://h:9292`: our paths carry the version.
fn versionless(url: &str) -> String {
    let trimmed = url.trim_end_matches('/');
    match trimmed.rsplit_once('/') {
        Some((root, last))
            if last.starts_with('v')
                && last[1..].chars().all(|c| c.is_ascii_digit() || c == '.')
                && last.len() > 1 =>
        {
            root.to_string()
        }
        _ => trimmed.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn versionless_roots() {
        assert_eq!(super::versionless("http://h:9292/v2/"), "http://h:9292");
        assert_eq!(super::versionless("http://h:9292"), "http://h:9292");
        assert_eq!(
            super::versionless("https://js2.jetstream-cloud.org:9292/v2.1"),
            "https://js2.jetstream-cloud.org:9292"
        );
        assert_eq!(super::versionless("http://h/image"), "http://h/image");
    }
}
