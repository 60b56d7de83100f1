//! Nova (compute v2.1): servers, flavors. Bodies follow the Compute API reference.

use std::collections::BTreeMap;

use base64::Engine;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value as Json};

use crate::openstack::session::ApiRequest;
use crate::openstack::{CloudError, CloudSession};

const SERVICE: &str = "compute";

#[derive(Debug, Clone, Deserialize)]
pub struct Flavor {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Fault {
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub code: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Address {
    pub addr: String,
    #[serde(default)]
    pub version: i64,
    #[serde(rename = "OS-EXT-IPS:type", default)]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct IdRef {
    #[serde(default)]
    id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Server {
    pub id: String,
    pub name: String,
    pub status: String,
    #[serde(default)]
    pub fault: Option<Fault>,
    #[serde(default)]
    pub addresses: BTreeMap<String, Vec<Address>>,
    #[serde(rename = "accessIPv4", default)]
    pub access_ipv4: String,
    #[serde(rename = "accessIPv6", default)]
    pub access_ipv6: String,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub key_name: Option<String>,
    #[serde(default)]
    image: Json,
    #[serde(default)]
    flavor: Option<IdRef>,
    #[serde(rename = "OS-EXT-AZ:availability_zone", default)]
    pub availability_zone: Option<String>,
    #[serde(default)]
    pub config_drive: Json,
    /// Only where the cloud's policy shows it (microversion 2.3, usually admins).
    #[serde(rename = "OS-EXT-SRV-ATTR:user_data", default)]
    pub user_data_base64: Option<String>,
}

impl Server {
    /// The image ID; empty when booted from a volume.
    pub fn image_id(&self) -> Option<String> {
        self.image
            .get("id")
            .and_then(Json::as_str)
            .map(str::to_string)
    }
    pub fn flavor_id(&self) -> Option<String> {
        self.flavor.as_ref().and_then(|f| f.id.clone())
    }
    pub fn user_data(&self) -> Option<String> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(self.user_data_base64.as_deref()?)
            .ok()?;
        String::from_utf8(bytes).ok()
    }
    /// The first fixed IPv4 address, the address Kubespray calls `ip`.
    pub fn fixed_ipv4(&self) -> Option<String> {
        self.addresses
            .values()
            .flatten()
            .find(|a| a.version == 4 && a.kind.as_deref() != Some("floating"))
            .map(|a| a.addr.clone())
    }
    pub fn fixed_ipv6(&self) -> Option<String> {
        self.addresses
            .values()
            .flatten()
            .find(|a| a.version == 6 && a.kind.as_deref() != Some("floating"))
            .map(|a| a.addr.clone())
    }
}

/// One network attachment of a new server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkAttachment {
    Network {
        uuid: String,
        fixed_ip_v4: Option<String>,
    },
    Port(String),
}

#[derive(Debug, Clone)]
pub struct NewServer {
    pub name: String,
    pub image_id: String,
    pub flavor_id: String,
    pub key_name: Option<String>,
    pub user_data: Option<String>,
    pub networks: Vec<NetworkAttachment>,
    pub security_groups: Vec<String>,
    pub metadata: BTreeMap<String, String>,
    pub availability_zone: Option<String>,
    pub config_drive: bool,
    /// Boot from a new volume of this size (GB) made from the image.
    pub root_volume_size: Option<i64>,
}

impl NewServer {
    /// The body of `POST /v2.1/servers` (inside `"server"`).
    pub fn body(&self) -> Result<Json, CloudError> {
        let mut body = json!({
            "name": self.name,
            "imageRef": self.image_id,
            "flavorRef": self.flavor_id,
            "metadata": self.metadata,
            "networks": self.networks.iter().map(|n| match n {
                NetworkAttachment::Network { uuid, fixed_ip_v4: Some(ip) } => json!({"uuid": uuid, "fixed_ip": ip}),
                NetworkAttachment::Network { uuid, fixed_ip_v4: None } => json!({"uuid": uuid}),
                NetworkAttachment::Port(port) => json!({"port": port}),
            }).collect::<Vec<_>>(),
            "security_groups": self.security_groups.iter().map(|g| json!({"name": g})).collect::<Vec<_>>(),
            "config_drive": self.config_drive,
        });
        let obj = body.as_object_mut().ok_or_else(|| CloudError::Decode {
            url: String::new(),
            reason: "body".into(),
        })?;
        if let Some(key) = &self.key_name {
            obj.insert("key_name".into(), json!(key));
        }
        if let Some(data) = &self.user_data {
            obj.insert(
                "user_data".into(),
                json!(base64::engine::general_purpose::STANDARD.encode(data)),
            );
        }
        if let Some(az) = &self.availability_zone {
            obj.insert("availability_zone".into(), json!(az));
        }
        if let Some(size) = self.root_volume_size {
            obj.insert("imageRef".into(), json!(""));
            obj.insert(
                "block_device_mapping_v2".into(),
                json!([{"boot_index": 0, "uuid": self.image_id, "source_type": "image",
                         "destination_type": "volume", "volume_size": size, "delete_on_termination": true}]),
            );
        }
        Ok(body)
    }
}

pub struct Nova<'a> {
    session: &'a CloudSession,
}

impl<'a> Nova<'a> {
    pub fn new(session: &'a CloudSession) -> Nova<'a> {
        Nova { session }
    }

    fn request(method: Method, path: &str) -> ApiRequest<'_> {
        ApiRequest::new(method, SERVICE, path).microversion("2.3")
    }

    pub async fn flavors(&self) -> Result<Vec<Flavor>, CloudError> {
        #[derive(Deserialize)]
        struct List {
            flavors: Vec<Flavor>,
        }
        let response = self
            .session
            .send(Nova::request(
                Method::GET,
                "/v2.1/flavors/detail?is_public=None",
            ))
            .await?;
        Ok(self.session.json::<List>(response).await?.flavors)
    }

    pub async fn create(&self, server: &NewServer) -> Result<String, CloudError> {
        let body = server.body()?;
        #[derive(Deserialize)]
        struct Created {
            server: CreatedServer,
        }
        #[derive(Deserialize)]
        struct CreatedServer {
            id: String,
        }
        let response = self
            .session
            .send(Nova::request(Method::POST, "/v2.1/servers").json(json!({"server": body})))
            .await?;
        Ok(self.session.json::<Created>(response).await?.server.id)
    }

    /// Every server of the project, with details.
    pub async fn list(&self) -> Result<Vec<Server>, CloudError> {
        #[derive(Deserialize)]
        struct List {
            servers: Vec<Server>,
        }
        let response = self
            .session
            .send(Nova::request(Method::GET, "/v2.1/servers/detail"))
            .await?;
        Ok(self.session.json::<List>(response).await?.servers)
    }

    /// The IDs of the project's servers named exactly `name` (`GET /v2.1/servers`, which lists
    /// IDs and names only).
    pub async fn ids_named(&self, name: &str) -> Result<Vec<String>, CloudError> {
        #[derive(Deserialize)]
        struct Brief {
            id: String,
            name: String,
        }
        #[derive(Deserialize)]
        struct List {
            servers: Vec<Brief>,
        }
        let response = self
            .session
            .send(Nova::request(Method::GET, "/v2.1/servers"))
            .await?;
        Ok(self
            .session
            .json::<List>(response)
            .await?
            .servers
            .into_iter()
            .filter(|s| s.name == name)
            .map(|s| s.id)
            .collect())
    }

    /// The server, or `None` once Nova no longer knows it.
    pub async fn get(&self, id: &str) -> Result<Option<Server>, CloudError> {
        #[derive(Deserialize)]
        struct One {
            server: Server,
        }
        let path = format!("/v2.1/servers/{id}");
        match self.session.send(Nova::request(Method::GET, &path)).await {
            Ok(response) => {
                let server = self.session.json::<One>(response).await?.server;
                Ok((server.status != "DELETED").then_some(server))
            }
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn rename(&self, id: &str, name: &str) -> Result<(), CloudError> {
        let path = format!("/v2.1/servers/{id}");
        self.session
            .send(Nova::request(Method::PUT, &path).json(json!({"server": {"name": name}})))
            .await
            .map(drop)
    }

    /// Replaces all metadata.
    pub async fn set_metadata(
        &self,
        id: &str,
        metadata: &BTreeMap<String, String>,
    ) -> Result<(), CloudError> {
        let path = format!("/v2.1/servers/{id}/metadata");
        self.session
            .send(Nova::request(Method::PUT, &path).json(json!({"metadata": metadata})))
            .await
            .map(drop)
    }

    /// Sets one metadata item, keeping the others.
    pub async fn set_metadata_item(
        &self,
        id: &str,
        key: &str,
        value: &str,
    ) -> Result<(), CloudError> {
        let path = format!("/v2.1/servers/{id}/metadata/{key}");
        self.session
            .send(Nova::request(Method::PUT, &path).json(json!({"meta": {key: value}})))
            .await
            .map(drop)
    }

    /// Adds the server's ports to a security group (by name or ID), on the running server.
    pub async fn add_security_group(&self, id: &str, group: &str) -> Result<(), CloudError> {
        self.action(id, json!({"addSecurityGroup": {"name": group}}))
            .await
    }

    /// Removes the server's ports from a security group (by name or ID).
    pub async fn remove_security_group(&self, id: &str, group: &str) -> Result<(), CloudError> {
        self.action(id, json!({"removeSecurityGroup": {"name": group}}))
            .await
    }

    async fn action(&self, id: &str, body: Json) -> Result<(), CloudError> {
        let path = format!("/v2.1/servers/{id}/action");
        self.session
            .send(Nova::request(Method::POST, &path).json(body))
            .await
            .map(drop)
    }

    /// Deletes the server (already gone is fine); runs even after a stop request.
    pub async fn delete(&self, id: &str) -> Result<(), CloudError> {
        let path = format!("/v2.1/servers/{id}");
        self.session
            .delete(Nova::request(Method::DELETE, &path))
            .await
    }
}
