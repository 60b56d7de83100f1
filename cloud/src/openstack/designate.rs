//! Designate (DNS v2): zones by name or ID and recordsets, with the waits Designate needs (a
//! change is `PENDING` until the pool's name servers have it, then `ACTIVE`; a deleted
//! recordset answers 404 once it is gone).

use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::http::StopSignal;
use crate::openstack::session::ApiRequest;
use crate::openstack::{CloudError, CloudSession};

const SERVICE: &str = "dns";

#[derive(Debug, Clone, Deserialize)]
pub struct Zone {
    pub id: String,
    /// Absolute, with the trailing dot.
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct RecordSet {
    pub id: String,
    pub zone_id: String,
    #[serde(default)]
    pub zone_name: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub records: Vec<String>,
    #[serde(default)]
    pub ttl: Option<i64>,
    #[serde(default)]
    pub description: Option<String>,
    /// `ACTIVE`, `PENDING` or `ERROR`.
    pub status: String,
}

/// What a recordset should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSetSpec {
    /// Absolute, with the trailing dot.
    pub name: String,
    pub kind: String,
    pub records: Vec<String>,
    pub ttl: Option<i64>,
    pub description: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    #[error(transparent)]
    Cloud(#[from] CloudError),
    #[error("Designate has no zone {0:?} in this project")]
    NoZone(String),
    #[error("recordset {name} is {status} in Designate{}", reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default())]
    Failed {
        name: String,
        status: String,
        reason: Option<String>,
    },
    #[error("recordset {name} is still {status} after {limit:?}")]
    TimedOut {
        name: String,
        status: String,
        limit: Duration,
    },
}

/// `name` made absolute (one trailing dot).
pub fn absolute(name: &str) -> String {
    format!("{}.", name.trim_end_matches('.'))
}

/// Whether `name` is `zone` or below it (both absolute or not; case does not matter).
pub fn within(name: &str, zone: &str) -> bool {
    let (name, zone) = (
        absolute(name).to_ascii_lowercase(),
        absolute(zone).to_ascii_lowercase(),
    );
    name == zone || name.ends_with(&format!(".{zone}"))
}

pub struct Designate<'a> {
    session: &'a CloudSession,
}

fn query_value(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

/// Where a wait starts polling, and its cap.
const FIRST_POLL: Duration = Duration::from_millis(500);
const POLL_CAP: Duration = Duration::from_secs(5);

impl<'a> Designate<'a> {
    pub fn new(session: &'a CloudSession) -> Designate<'a> {
        Designate { session }
    }

    /// The zone named `name_or_id` (absolute or not), or with that ID.
    pub async fn zone(&self, name_or_id: &str) -> Result<Zone, DnsError> {
        #[derive(Deserialize)]
        struct List {
            zones: Vec<Zone>,
        }
        if name_or_id.contains('.') {
            let path = format!("/v2/zones?name={}", query_value(&absolute(name_or_id)));
            let response = self
                .session
                .send(ApiRequest::new(Method::GET, SERVICE, &path))
                .await?;
            let list: List = self.session.json(response).await?;
            return list
                .zones
                .into_iter()
                .next()
                .ok_or_else(|| DnsError::NoZone(absolute(name_or_id)));
        }
        let path = format!("/v2/zones/{}", query_value(name_or_id));
        match self
            .session
            .send(ApiRequest::new(Method::GET, SERVICE, &path))
            .await
        {
            Ok(response) => Ok(self.session.json(response).await?),
            Err(e) if e.is_not_found() || e.status() == Some(400) => {
                Err(DnsError::NoZone(name_or_id.to_string()))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn create(&self, zone_id: &str, spec: &RecordSetSpec) -> Result<RecordSet, DnsError> {
        let mut body = json!({
            "name": spec.name,
            "type": spec.kind,
            "records": spec.records,
            "description": spec.description,
        });
        if let Some(ttl) = spec.ttl {
            body["ttl"] = json!(ttl);
        }
        let path = format!("/v2/zones/{}/recordsets", query_value(zone_id));
        let response = self
            .session
            .send(ApiRequest::new(Method::POST, SERVICE, &path).json(body))
            .await?;
        Ok(self.session.json(response).await?)
    }

    pub async fn get(&self, zone_id: &str, id: &str) -> Result<Option<RecordSet>, DnsError> {
        let path = format!(
            "/v2/zones/{}/recordsets/{}",
            query_value(zone_id),
            query_value(id)
        );
        match self
            .session
            .send(ApiRequest::new(Method::GET, SERVICE, &path))
            .await
        {
            Ok(response) => Ok(Some(self.session.json(response).await?)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The recordsets of `zone_id` named `name` with type `kind`.
    pub async fn find(
        &self,
        zone_id: &str,
        name: &str,
        kind: &str,
    ) -> Result<Vec<RecordSet>, DnsError> {
        #[derive(Deserialize)]
        struct List {
            recordsets: Vec<RecordSet>,
        }
        let path = format!(
            "/v2/zones/{}/recordsets?name={}&type={}",
            query_value(zone_id),
            query_value(&absolute(name)),
            query_value(kind)
        );
        let response = self
            .session
            .send(ApiRequest::new(Method::GET, SERVICE, &path))
            .await?;
        Ok(self.session.json::<List>(response).await?.recordsets)
    }

    /// Records, TTL and description (name and type never change in place).
    pub async fn update(
        &self,
        zone_id: &str,
        id: &str,
        spec: &RecordSetSpec,
    ) -> Result<RecordSet, DnsError> {
        let body = json!({
            "records": spec.records,
            "ttl": spec.ttl,
            "description": spec.description,
        });
        let path = format!(
            "/v2/zones/{}/recordsets/{}",
            query_value(zone_id),
            query_value(id)
        );
        let response = self
            .session
            .send(ApiRequest::new(Method::PUT, SERVICE, &path).json(body))
            .await?;
        Ok(self.session.json(response).await?)
    }

    /// Waits until the recordset is `ACTIVE` (an `ERROR` ends the wait with its status).
    pub async fn wait_active(
        &self,
        zone_id: &str,
        id: &str,
        limit: Duration,
        stop: &StopSignal,
    ) -> Result<RecordSet, DnsError> {
        let started = std::time::Instant::now();
        let mut delay = FIRST_POLL;
        loop {
            let Some(set) = self.get(zone_id, id).await? else {
                return Err(DnsError::Failed {
                    name: id.to_string(),
                    status: "gone".into(),
                    reason: Some("it was deleted while Terraform waited for it".into()),
                });
            };
            match set.status.as_str() {
                "ACTIVE" => return Ok(set),
                "ERROR" => {
                    return Err(DnsError::Failed {
                        name: set.name,
                        status: set.status,
                        reason: Some(
                            "the pool's name servers did not take it; see Designate's worker log"
                                .into(),
                        ),
                    })
                }
                _ if started.elapsed() >= limit => {
                    return Err(DnsError::TimedOut {
                        name: set.name,
                        status: set.status,
                        limit,
                    })
                }
                _ => {}
            }
            // `sleep` is false when Terraform asked the provider to stop.
            if !stop.sleep(delay).await {
                return Err(CloudError::Cancelled(set.name).into());
            }
            delay = (delay * 2).min(POLL_CAP);
        }
    }

    /// Deletes the recordset and waits until Designate no longer has it (clean-up: not cut
    /// short by a stop request).
    pub async fn delete(&self, zone_id: &str, id: &str, limit: Duration) -> Result<(), DnsError> {
        let path = format!(
            "/v2/zones/{}/recordsets/{}",
            query_value(zone_id),
            query_value(id)
        );
        self.session
            .delete(ApiRequest::new(Method::DELETE, SERVICE, &path))
            .await?;
        let started = std::time::Instant::now();
        let mut delay = FIRST_POLL;
        loop {
            match self.get(zone_id, id).await? {
                None => return Ok(()),
                Some(set) if started.elapsed() >= limit => {
                    return Err(DnsError::TimedOut {
                        name: set.name,
                        status: format!("{} (being deleted)", set.status),
                        limit,
                    })
                }
                Some(_) => {}
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(POLL_CAP);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_within_a_zone() {
        assert!(within("hub.demo.example.org", "demo.example.org."));
        assert!(within("HUB.demo.example.org.", "demo.example.org"));
        assert!(within("demo.example.org.", "demo.example.org."));
        assert!(!within("hub.other.org.", "demo.example.org."));
        assert!(!within("xdemo.example.org.", "demo.example.org."));
        assert_eq!(absolute("a.b"), "a.b.");
        assert_eq!(absolute("a.b.."), "a.b.");
    }
}
