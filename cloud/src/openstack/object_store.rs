//! The object store (Swift, catalog type `object-store`): containers, whole small objects
//! (Terraform state, the deploy record, a lock) and the exclusive create that a lock needs
//! (`If-None-Match: *`, which Swift answers with 412 when the object exists).

use reqwest::Method;
use serde::Deserialize;

use crate::openstack::session::ApiRequest;
use crate::openstack::{CloudError, CloudSession};

const SERVICE: &str = "object-store";

pub struct ObjectStore<'a> {
    session: &'a CloudSession,
}

/// Percent-encodes one path segment (container or object name; `/` kept in object names).
fn segment(name: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn object_path(container: &str, object: &str) -> String {
    format!("/{}/{}", segment(container, false), segment(object, true))
}

impl<'a> ObjectStore<'a> {
    pub fn new(session: &'a CloudSession) -> ObjectStore<'a> {
        ObjectStore { session }
    }

    /// The object store's endpoint (the account URL), e.g. `https://h:8080/v1/AUTH_p`.
    pub async fn endpoint(&self) -> Result<String, CloudError> {
        self.session.endpoint(SERVICE).await
    }

    /// Creates `container` unless it exists; true when it was created.
    pub async fn ensure_container(&self, container: &str) -> Result<bool, CloudError> {
        let path = format!("/{}", segment(container, false));
        match self
            .session
            .send(ApiRequest::new(Method::HEAD, SERVICE, &path))
            .await
        {
            Ok(_) => return Ok(false),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
        self.session
            .send(ApiRequest::new(Method::PUT, SERVICE, &path))
            .await?;
        Ok(true)
    }

    /// The object's bytes, or None when it does not exist.
    pub async fn get(&self, container: &str, object: &str) -> Result<Option<Vec<u8>>, CloudError> {
        let path = object_path(container, object);
        match self
            .session
            .send(ApiRequest::new(Method::GET, SERVICE, &path))
            .await
        {
            Ok(response) => {
                let url = response.url().to_string();
                let bytes = response.bytes().await.map_err(|e| CloudError::Decode {
                    url,
                    reason: e.to_string(),
                })?;
                Ok(Some(bytes.to_vec()))
            }
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes the whole object.
    pub async fn put(
        &self,
        container: &str,
        object: &str,
        body: Vec<u8>,
        content_type: &'static str,
    ) -> Result<(), CloudError> {
        let path = object_path(container, object);
        self.session
            .send(ApiRequest::new(Method::PUT, SERVICE, &path).bytes(body, content_type))
            .await
            .map(|_| ())
    }

    /// Writes the object only if it does not exist yet: true when written, false when another
    /// writer's object is there.
    pub async fn create_exclusive(
        &self,
        container: &str,
        object: &str,
        body: Vec<u8>,
        content_type: &'static str,
    ) -> Result<bool, CloudError> {
        let path = object_path(container, object);
        let request = ApiRequest::new(Method::PUT, SERVICE, &path)
            .bytes(body, content_type)
            .header("If-None-Match", "*");
        match self.session.send(request).await {
            Ok(_) => Ok(true),
            Err(e) if e.status() == Some(412) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Deletes the object; one that is already gone is not an error.
    pub async fn delete(&self, container: &str, object: &str) -> Result<(), CloudError> {
        let path = object_path(container, object);
        match self
            .session
            .send(ApiRequest::new(Method::DELETE, SERVICE, &path).cleanup())
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Names of the objects in `container` that start with `prefix`.
    pub async fn list(&self, container: &str, prefix: &str) -> Result<Vec<String>, CloudError> {
        #[derive(Deserialize)]
        struct Entry {
            name: String,
        }
        let path = format!(
            "/{}?format=json&prefix={}",
            segment(container, false),
            segment(prefix, false)
        );
        match self
            .session
            .send(ApiRequest::new(Method::GET, SERVICE, &path))
            .await
        {
            Ok(response) => {
                let entries: Vec<Entry> = self.session.json(response).await?;
                Ok(entries.into_iter().map(|e| e.name).collect())
            }
            Err(e) if e.is_not_found() => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_percent_encoded() {
        assert_eq!(
            super::object_path("tf state", "demo/terraform.tfstate"),
            "/tf%20state/demo/terraform.tfstate"
        );
        assert_eq!(super::segment("a/b?c", false), "a%2Fb%3Fc");
    }
}
