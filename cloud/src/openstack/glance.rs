//! Glance (image service v2): images, their data (plain upload or stage + import) and the
//! import methods a cloud offers. Bodies follow the Image API v2 reference.

use std::collections::BTreeMap;

use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value as Json};

use crate::openstack::session::ApiRequest;
use crate::openstack::{CloudError, CloudSession};

const SERVICE: &str = "image";
/// Image attributes that are Glance's own, not user properties.
const CORE_ATTRIBUTES: &[&str] = &[
    "id",
    "name",
    "status",
    "visibility",
    "protected",
    "os_hidden",
    "tags",
    "created_at",
    "updated_at",
    "file",
    "schema",
    "self",
    "size",
    "virtual_size",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "disk_format",
    "container_format",
    "min_disk",
    "min_ram",
    "owner",
    "direct_url",
    "locations",
    "stores",
];

/// An image as Glance reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    pub id: String,
    pub name: String,
    pub status: String,
    pub visibility: String,
    pub size: Option<i64>,
    pub checksum: Option<String>,
    pub os_hash_algo: Option<String>,
    pub os_hash_value: Option<String>,
    pub tags: Vec<String>,
    /// String-valued user properties (`os_distro`, `hw_qemu_guest_agent`, ...).
    pub properties: BTreeMap<String, String>,
    /// `os_hidden`: left out of the default image list (and of Horizon's).
    pub hidden: bool,
    /// `os_glance_failed_import`: the stores an import failed for (non-empty after a failure).
    pub failed_import: Option<String>,
}

impl Image {
    fn from_json(json: &Json) -> Option<Image> {
        let obj = json.as_object()?;
        let s = |k: &str| obj.get(k).and_then(Json::as_str).map(str::to_string);
        Some(Image {
            id: s("id")?,
            name: s("name").unwrap_or_default(),
            status: s("status").unwrap_or_default(),
            visibility: s("visibility").unwrap_or_default(),
            size: obj.get("size").and_then(Json::as_i64),
            checksum: s("checksum"),
            os_hash_algo: s("os_hash_algo"),
            os_hash_value: s("os_hash_value"),
            tags: obj
                .get("tags")
                .and_then(Json::as_array)
                .map(|t| {
                    t.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            properties: obj
                .iter()
                .filter(|(k, _)| {
                    !CORE_ATTRIBUTES.contains(&k.as_str()) && !k.starts_with("os_glance")
                })
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect(),
            hidden: obj
                .get("os_hidden")
                .and_then(Json::as_bool)
                .unwrap_or(false),
            failed_import: s("os_glance_failed_import").filter(|f| !f.is_empty()),
        })
    }
}

/// What to create.
#[derive(Debug, Clone)]
pub struct NewImage {
    pub name: String,
    /// Created with `os_hidden` (out of the default listing until un-hidden).
    pub hidden: bool,
    pub visibility: String,
    pub tags: Vec<String>,
    pub properties: BTreeMap<String, String>,
}

/// One JSON-patch change of an image.
#[derive(Debug, Clone, PartialEq)]
pub enum ImageChange {
    /// Replaces an existing attribute or property.
    Set(String, Json),
    /// Adds a property the image does not have yet.
    Add(String, Json),
    Remove(String),
}

pub struct Glance<'a> {
    session: &'a CloudSession,
}

fn decode_image(json: &Json, url: &str) -> Result<Image, CloudError> {
    Image::from_json(json).ok_or_else(|| CloudError::Decode {
        url: url.into(),
        reason: "not an image object".into(),
    })
}

impl<'a> Glance<'a> {
    pub fn new(session: &'a CloudSession) -> Glance<'a> {
        Glance { session }
    }

    /// Import methods the cloud offers (`GET /v2/info/import`); empty when it has none.
    pub async fn import_methods(&self) -> Result<Vec<String>, CloudError> {
        let response = self
            .session
            .send(ApiRequest::new(Method::GET, SERVICE, "/v2/info/import"))
            .await;
        let response = match response {
            Ok(r) => r,
            Err(e) if e.is_not_found() => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        #[derive(Deserialize)]
        struct Info {
            #[serde(rename = "import-methods")]
            import_methods: Methods,
        }
        #[derive(Deserialize)]
        struct Methods {
            #[serde(default)]
            value: Vec<String>,
        }
        let info: Info = self.session.json(response).await?;
        Ok(info.import_methods.value)
    }

    pub async fn create(&self, image: &NewImage) -> Result<Image, CloudError> {
        let mut body = json!({
            "name": image.name,
            "disk_format": "qcow2",
            "container_format": "bare",
            "visibility": image.visibility,
            "tags": image.tags,
        });
        if image.hidden {
            body["os_hidden"] = Json::Bool(true);
        }
        if let Some(obj) = body.as_object_mut() {
            for (k, v) in &image.properties {
                obj.insert(k.clone(), Json::String(v.clone()));
            }
        }
        let response = self
            .session
            .send(ApiRequest::new(Method::POST, SERVICE, "/v2/images").json(body))
            .await?;
        let url = response.url().to_string();
        decode_image(&self.session.json(response).await?, &url)
    }

    /// The image, or `None` when Glance does not know it (any more).
    pub async fn get(&self, id: &str) -> Result<Option<Image>, CloudError> {
        let path = format!("/v2/images/{id}");
        match self
            .session
            .send(ApiRequest::new(Method::GET, SERVICE, &path))
            .await
        {
            Ok(response) => {
                let url = response.url().to_string();
                let image = decode_image(&self.session.json(response).await?, &url)?;
                // A deleted image can linger in listings with status "deleted".
                Ok((image.status != "deleted").then_some(image))
            }
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every image the project sees, in any status (`GET /v2/images`, following `next`);
    /// like Glance's default listing, without hidden (`os_hidden`) images.
    pub async fn list(&self) -> Result<Vec<Image>, CloudError> {
        self.list_from("/v2/images?limit=200").await
    }

    /// The hidden (`os_hidden`) images only, e.g. a web-download not yet verified.
    pub async fn list_hidden(&self) -> Result<Vec<Image>, CloudError> {
        self.list_from("/v2/images?limit=200&os_hidden=true").await
    }

    /// The images, hidden or not, whose property `key` is `value` (Glance filters by any
    /// property given as a query parameter).
    pub async fn list_with_property(
        &self,
        key: &str,
        value: &str,
    ) -> Result<Vec<Image>, CloudError> {
        // Glance lists hidden images only when asked for them alone: two listings, at once.
        let filter = url::form_urlencoded::Serializer::new(String::new())
            .append_pair(key, value)
            .finish();
        let (visible, hidden) = (
            format!("/v2/images?limit=200&os_hidden=false&{filter}"),
            format!("/v2/images?limit=200&os_hidden=true&{filter}"),
        );
        let (mut images, hidden) =
            futures::try_join!(self.list_from(&visible), self.list_from(&hidden))?;
        images.extend(hidden);
        Ok(images)
    }

    async fn list_from(&self, first: &str) -> Result<Vec<Image>, CloudError> {
        let mut images = Vec::new();
        let mut path = first.to_string();
        loop {
            let response = self
                .session
                .send(ApiRequest::new(Method::GET, SERVICE, &path))
                .await?;
            let url = response.url().to_string();
            let page: Json = self.session.json(response).await?;
            for item in page
                .get("images")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
            {
                images.push(decode_image(item, &url)?);
            }
            match page.get("next").and_then(Json::as_str) {
                Some(next) => path = next.to_string(),
                None => return Ok(images),
            }
        }
    }

    pub async fn update(&self, id: &str, changes: &[ImageChange]) -> Result<Image, CloudError> {
        let ops: Vec<Json> = changes
            .iter()
            .map(|c| match c {
                ImageChange::Add(k, v) => json!({"op": "add", "path": format!("/{k}"), "value": v}),
                ImageChange::Set(k, v) => {
                    json!({"op": "replace", "path": format!("/{k}"), "value": v})
                }
                ImageChange::Remove(k) => json!({"op": "remove", "path": format!("/{k}")}),
            })
            .collect();
        let path = format!("/v2/images/{id}");
        let response = self
            .session
            .send(
                ApiRequest::new(Method::PATCH, SERVICE, &path)
                    .json(Json::Array(ops))
                    .content_type("application/openstack-images-v2.1-json-patch"),
            )
            .await?;
        let url = response.url().to_string();
        decode_image(&self.session.json(response).await?, &url)
    }

    /// Deletes the image; an image that is already gone is not an error.
    /// Runs even after Terraform asked the provider to stop: it cleans up half-made images.
    pub async fn delete(&self, id: &str) -> Result<(), CloudError> {
        let path = format!("/v2/images/{id}");
        self.session
            .delete(ApiRequest::new(Method::DELETE, SERVICE, &path))
            .await
    }

    /// `PUT /v2/images/{id}/file`: the image becomes active when the body completes.
    pub async fn upload(&self, id: &str, body: reqwest::Body) -> Result<(), CloudError> {
        self.session
            .send_stream(Method::PUT, SERVICE, &format!("/v2/images/{id}/file"), body)
            .await
            .map(drop)
    }

    /// `PUT /v2/images/{id}/stage`: the data waits in staging until `import`.
    pub async fn stage(&self, id: &str, body: reqwest::Body) -> Result<(), CloudError> {
        self.session
            .send_stream(
                Method::PUT,
                SERVICE,
                &format!("/v2/images/{id}/stage"),
                body,
            )
            .await
            .map(drop)
    }

    /// Starts a `web-download` import: Glance fetches `uri` itself (its import filtering
    /// decides which hosts and ports it may reach).
    pub async fn import_web_download(&self, id: &str, uri: &str) -> Result<(), CloudError> {
        let path = format!("/v2/images/{id}/import");
        self.session
            .send(
                ApiRequest::new(Method::POST, SERVICE, &path)
                    .json(json!({"method": {"name": "web-download", "uri": uri}})),
            )
            .await
            .map(drop)
    }

    /// The message of the image's latest import task (`GET /v2/images/{id}/tasks`, API 2.12),
    /// when Glance has one: why an import failed.
    pub async fn import_task_message(&self, id: &str) -> Option<String> {
        let path = format!("/v2/images/{id}/tasks");
        let response = self
            .session
            .send(ApiRequest::new(Method::GET, SERVICE, &path))
            .await
            .ok()?;
        let tasks: Json = self.session.json(response).await.ok()?;
        tasks
            .get("tasks")?
            .as_array()?
            .iter()
            .filter_map(|t| t.get("message").and_then(Json::as_str))
            .find(|m| !m.is_empty())
            .map(str::to_string)
    }

    /// Starts the `glance-direct` import of staged data.
    pub async fn import_staged(&self, id: &str) -> Result<(), CloudError> {
        let path = format!("/v2/images/{id}/import");
        self.session
            .send(
                ApiRequest::new(Method::POST, SERVICE, &path)
                    .json(json!({"method": {"name": "glance-direct"}})),
            )
            .await
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_from_the_api_reference_shape() {
        let body = json!({
            "status": "active", "name": "flatcar-stable-4593.2.5", "tags": ["flatcar"], "container_format": "bare",
            "created_at": "2026-11-24T10:00:00Z", "disk_format": "qcow2", "updated_at": "2026-11-24T10:01:00Z",
            "visibility": "private", "self": "/v2/images/1bea47ed", "min_disk": 0, "protected": false,
            "id": "1bea47ed-f6a9-463b-b423-14b9cca9ad27", "file": "/v2/images/1bea47ed/file",
            "checksum": "64d7c1cd2b6f60c92c14662941cb7913", "os_hash_algo": "sha512", "os_hash_value": "abc",
            "owner": "5ef70662f8b34079a6eddb8da9d75fe8", "size": 13167616, "min_ram": 0, "schema": "/v2/schemas/image",
            "virtual_size": null, "os_distro": "flatcar", "hw_qemu_guest_agent": "yes", "os_glance_import_task": "x"
        });
        let image = Image::from_json(&body).unwrap();
        assert_eq!(image.id, "1bea47ed-f6a9-463b-b423-14b9cca9ad27");
        assert_eq!(image.size, Some(13167616));
        assert_eq!(image.properties.len(), 2, "{:?}", image.properties);
        assert_eq!(image.properties["os_distro"], "flatcar");
    }
}
