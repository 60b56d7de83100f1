//! Neutron (network v2.0): network look-ups, ports, floating IPs, security groups and their
//! rules.

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::openstack::session::ApiRequest;
use crate::openstack::{CloudError, CloudSession};

const SERVICE: &str = "network";

#[derive(Debug, Clone, Deserialize)]
pub struct Network {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Port {
    pub id: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FloatingIp {
    pub id: String,
    pub floating_ip_address: String,
    #[serde(default)]
    pub port_id: Option<String>,
    #[serde(default)]
    pub floating_network_id: String,
    /// Free text; ours name the server the address was allocated for.
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// A security group as Neutron reports it, with its rules.
#[derive(Debug, Clone, Deserialize)]
pub struct SecurityGroup {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub security_group_rules: Vec<SecurityGroupRule>,
}

/// One rule of a security group; `None` means "any" (protocol, ports, remote).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct SecurityGroupRule {
    #[serde(default, skip_serializing)]
    pub id: String,
    pub direction: String,
    pub ethertype: String,
    #[serde(default)]
    pub protocol: Option<String>,
    #[serde(default)]
    pub port_range_min: Option<u16>,
    #[serde(default)]
    pub port_range_max: Option<u16>,
    #[serde(default)]
    pub remote_ip_prefix: Option<String>,
    #[serde(default)]
    pub remote_group_id: Option<String>,
}

pub struct Neutron<'a> {
    session: &'a CloudSession,
}

fn query_value(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

impl<'a> Neutron<'a> {
    pub fn new(session: &'a CloudSession) -> Neutron<'a> {
        Neutron { session }
    }

    /// The networks with this exact name.
    pub async fn networks_named(&self, name: &str) -> Result<Vec<Network>, CloudError> {
        #[derive(Deserialize)]
        struct List {
            networks: Vec<Network>,
        }
        let path = format!("/v2.0/networks?name={}", query_value(name));
        let response = self
            .session
            .send(ApiRequest::new(Method::GET, SERVICE, &path))
            .await?;
        Ok(self.session.json::<List>(response).await?.networks)
    }

    pub async fn ports_of_device(&self, device_id: &str) -> Result<Vec<Port>, CloudError> {
        #[derive(Deserialize)]
        struct List {
            ports: Vec<Port>,
        }
        let path = format!("/v2.0/ports?device_id={}", query_value(device_id));
        let response = self
            .session
            .send(ApiRequest::new(Method::GET, SERVICE, &path))
            .await?;
        Ok(self.session.json::<List>(response).await?.ports)
    }

    /// Allocates a floating IP from `network_id` and associates it with `port_id`;
    /// `description` tells whoever lists the project's addresses what it belongs to.
    pub async fn allocate_floating_ip(
        &self,
        network_id: &str,
        port_id: &str,
        description: &str,
    ) -> Result<FloatingIp, CloudError> {
        #[derive(Deserialize)]
        struct One {
            floatingip: FloatingIp,
        }
        let body = json!({"floatingip": {"floating_network_id": network_id, "port_id": port_id, "description": description}});
        let response = self
            .session
            .send(ApiRequest::new(Method::POST, SERVICE, "/v2.0/floatingips").json(body))
            .await?;
        Ok(self.session.json::<One>(response).await?.floatingip)
    }

    /// Allocates a floating IP from `network_id` that is not associated with anything (a
    /// reserved address), with `description` and `tags`.
    pub async fn reserve_floating_ip(
        &self,
        network_id: &str,
        description: &str,
        tags: &[String],
    ) -> Result<FloatingIp, CloudError> {
        #[derive(Deserialize)]
        struct One {
            floatingip: FloatingIp,
        }
        let body =
            json!({"floatingip": {"floating_network_id": network_id, "description": description}});
        let response = self
            .session
            .send(ApiRequest::new(Method::POST, SERVICE, "/v2.0/floatingips").json(body))
            .await?;
        let fip = self.session.json::<One>(response).await?.floatingip;
        if tags.is_empty() {
            return Ok(fip);
        }
        match self.set_floating_ip_tags(&fip.id, tags).await {
            Ok(()) => self
                .floating_ip(&fip.id)
                .await?
                .ok_or_else(|| CloudError::Decode {
                    url: format!("/v2.0/floatingips/{}", fip.id),
                    reason: "the new floating IP is gone".into(),
                }),
            Err(e) => {
                // Not half made: the address goes back.
                let _ = self.release_floating_ip(&fip.id).await;
                Err(e)
            }
        }
    }

    /// One floating IP, or None when it does not exist.
    pub async fn floating_ip(&self, id: &str) -> Result<Option<FloatingIp>, CloudError> {
        #[derive(Deserialize)]
        struct One {
            floatingip: FloatingIp,
        }
        let path = format!("/v2.0/floatingips/{}", query_value(id));
        match self
            .session
            .send(ApiRequest::new(Method::GET, SERVICE, &path))
            .await
        {
            Ok(response) => Ok(Some(self.session.json::<One>(response).await?.floatingip)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sets a floating IP's description.
    pub async fn describe_floating_ip(
        &self,
        id: &str,
        description: &str,
    ) -> Result<(), CloudError> {
        let path = format!("/v2.0/floatingips/{}", query_value(id));
        self.session
            .send(
                ApiRequest::new(Method::PUT, SERVICE, &path)
                    .json(json!({"floatingip": {"description": description}})),
            )
            .await
            .map(|_| ())
    }

    /// Associates a floating IP with `port_id` (moving it when it is on another port), or
    /// with nothing (`None`).
    pub async fn associate_floating_ip(
        &self,
        id: &str,
        port_id: Option<&str>,
    ) -> Result<FloatingIp, CloudError> {
        #[derive(Deserialize)]
        struct One {
            floatingip: FloatingIp,
        }
        let path = format!("/v2.0/floatingips/{}", query_value(id));
        let response = self
            .session
            .send(
                ApiRequest::new(Method::PUT, SERVICE, &path)
                    .json(json!({"floatingip": {"port_id": port_id}})),
            )
            .await?;
        Ok(self.session.json::<One>(response).await?.floatingip)
    }

    /// Replaces a floating IP's tags.
    pub async fn set_floating_ip_tags(&self, id: &str, tags: &[String]) -> Result<(), CloudError> {
        let path = format!("/v2.0/floatingips/{}/tags", query_value(id));
        self.session
            .send(ApiRequest::new(Method::PUT, SERVICE, &path).json(json!({ "tags": tags })))
            .await
            .map(|_| ())
    }

    /// The external network named `name` (or with that ID).
    pub async fn external_network(&self, name_or_id: &str) -> Result<Option<Network>, CloudError> {
        match self.network(name_or_id).await {
            Ok(network) => Ok(Some(network)),
            Err(e) if e.is_not_found() || e.status() == Some(400) => {
                Ok(self.networks_named(name_or_id).await?.into_iter().next())
            }
            Err(e) => Err(e),
        }
    }

    pub async fn floating_ips_at(&self, address: &str) -> Result<Vec<FloatingIp>, CloudError> {
        self.floating_ips(&format!("floating_ip_address={}", query_value(address)))
            .await
    }

    /// Every floating IP of the project.
    pub async fn all_floating_ips(&self) -> Result<Vec<FloatingIp>, CloudError> {
        self.floating_ips("").await
    }

    pub async fn network(&self, id: &str) -> Result<Network, CloudError> {
        #[derive(Deserialize)]
        struct One {
            network: Network,
        }
        let path = format!("/v2.0/networks/{}", query_value(id));
        let response = self
            .session
            .send(ApiRequest::new(Method::GET, SERVICE, &path))
            .await?;
        Ok(self.session.json::<One>(response).await?.network)
    }

    pub async fn floating_ips_on_port(&self, port_id: &str) -> Result<Vec<FloatingIp>, CloudError> {
        self.floating_ips(&format!("port_id={}", query_value(port_id)))
            .await
    }

    async fn floating_ips(&self, query: &str) -> Result<Vec<FloatingIp>, CloudError> {
        #[derive(Deserialize)]
        struct List {
            floatingips: Vec<FloatingIp>,
        }
        let path = format!("/v2.0/floatingips?{query}");
        let response = self
            .session
            .send(ApiRequest::new(Method::GET, SERVICE, &path))
            .await?;
        Ok(self.session.json::<List>(response).await?.floatingips)
    }

    /// Releases a floating IP (already gone is fine); runs even after a stop request.
    pub async fn release_floating_ip(&self, id: &str) -> Result<(), CloudError> {
        let path = format!("/v2.0/floatingips/{id}");
        self.session
            .delete(ApiRequest::new(Method::DELETE, SERVICE, &path))
            .await
    }

    pub async fn create_security_group(
        &self,
        name: &str,
        description: &str,
    ) -> Result<SecurityGroup, CloudError> {
        let body = json!({"security_group": {"name": name, "description": description}});
        let request = ApiRequest::new(Method::POST, SERVICE, "/v2.0/security-groups").json(body);
        self.one_security_group(request).await
    }

    /// The groups with this exact name.
    pub async fn security_groups_named(
        &self,
        name: &str,
    ) -> Result<Vec<SecurityGroup>, CloudError> {
        #[derive(Deserialize)]
        struct List {
            security_groups: Vec<SecurityGroup>,
        }
        let path = format!("/v2.0/security-groups?name={}", query_value(name));
        let response = self
            .session
            .send(ApiRequest::new(Method::GET, SERVICE, &path))
            .await?;
        Ok(self.session.json::<List>(response).await?.security_groups)
    }

    /// The group, or `None` when Neutron no longer has it.
    pub async fn security_group(&self, id: &str) -> Result<Option<SecurityGroup>, CloudError> {
        let path = format!("/v2.0/security-groups/{}", query_value(id));
        match self
            .one_security_group(ApiRequest::new(Method::GET, SERVICE, &path))
            .await
        {
            Ok(group) => Ok(Some(group)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn update_security_group(
        &self,
        id: &str,
        name: &str,
        description: &str,
    ) -> Result<SecurityGroup, CloudError> {
        let path = format!("/v2.0/security-groups/{}", query_value(id));
        let body = json!({"security_group": {"name": name, "description": description}});
        self.one_security_group(ApiRequest::new(Method::PUT, SERVICE, &path).json(body))
            .await
    }

    async fn one_security_group(
        &self,
        request: ApiRequest<'_>,
    ) -> Result<SecurityGroup, CloudError> {
        #[derive(Deserialize)]
        struct One {
            security_group: SecurityGroup,
        }
        let response = self.session.send(request).await?;
        Ok(self.session.json::<One>(response).await?.security_group)
    }

    /// Deletes the group (already gone is fine); Neutron answers 409 while ports use it.
    pub async fn delete_security_group(&self, id: &str) -> Result<(), CloudError> {
        let path = format!("/v2.0/security-groups/{}", query_value(id));
        self.session
            .delete(ApiRequest::new(Method::DELETE, SERVICE, &path))
            .await
    }

    /// Adds a rule to group `group_id`.
    pub async fn create_security_group_rule(
        &self,
        group_id: &str,
        rule: &SecurityGroupRule,
    ) -> Result<SecurityGroupRule, CloudError> {
        #[derive(Deserialize)]
        struct One {
            security_group_rule: SecurityGroupRule,
        }
        let mut fields = serde_json::to_value(rule).map_err(|e| CloudError::Decode {
            url: "/v2.0/security-group-rules".into(),
            reason: e.to_string(),
        })?;
        if let Some(map) = fields.as_object_mut() {
            map.retain(|_, v| !v.is_null());
            map.insert("security_group_id".into(), json!(group_id));
        }
        let body = json!({ "security_group_rule": fields });
        let request =
            ApiRequest::new(Method::POST, SERVICE, "/v2.0/security-group-rules").json(body);
        let response = self.session.send(request).await?;
        Ok(self
            .session
            .json::<One>(response)
            .await?
            .security_group_rule)
    }

    /// Deletes a rule (already gone is fine).
    pub async fn delete_security_group_rule(&self, id: &str) -> Result<(), CloudError> {
        let path = format!("/v2.0/security-group-rules/{}", query_value(id));
        self.session
            .delete(ApiRequest::new(Method::DELETE, SERVICE, &path))
            .await
    }
}
