//! Keystone beyond tokens: the EC2-style credentials that S3 clients (Terraform's `s3`
//! backend) use against the object store's S3 API. One credential per user and project is
//! found or made; its secret never reaches a log (`Debug` hides it).

use reqwest::Method;
use serde::Deserialize;

use crate::openstack::session::ApiRequest;
use crate::openstack::{CloudError, CloudSession};

/// An EC2 access key and its secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Ec2Credential {
    pub access: String,
    pub secret: String,
}

impl std::fmt::Debug for Ec2Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ec2Credential")
            .field("access", &self.access)
            .field("secret", &"(hidden)")
            .finish()
    }
}

#[derive(Deserialize)]
struct Listed {
    access: String,
    secret: String,
    #[serde(default)]
    tenant_id: Option<String>,
}

/// The session user's EC2 credential for the session's project: the first that exists, else a
/// new one. True in the second place when it was made now.
pub async fn ec2_credential(session: &CloudSession) -> Result<(Ec2Credential, bool), CloudError> {
    let scope = session.scope().await?;
    let path = format!("/v3/users/{}/credentials/OS-EC2", scope.user_id);
    #[derive(Deserialize)]
    struct List {
        credentials: Vec<Listed>,
    }
    let response = session
        .send(ApiRequest::new(Method::GET, "identity", &path))
        .await?;
    let list: List = session.json(response).await?;
    if let Some(found) = list
        .credentials
        .into_iter()
        .find(|c| c.tenant_id.as_deref() == Some(scope.project_id.as_str()))
    {
        return Ok((
            Ec2Credential {
                access: found.access,
                secret: found.secret,
            },
            false,
        ));
    }
    #[derive(Deserialize)]
    struct Created {
        credential: Listed,
    }
    let response = session
        .send(
            ApiRequest::new(Method::POST, "identity", &path)
                .json(serde_json::json!({"tenant_id": scope.project_id})),
        )
        .await?;
    let created: Created = session.json(response).await?;
    Ok((
        Ec2Credential {
            access: created.credential.access,
            secret: created.credential.secret,
        },
        true,
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn debug_hides_the_secret() {
        let c = super::Ec2Credential {
            access: "AK".into(),
            secret: "very-secret".into(),
        };
        let shown = format!("{c:?}");
        assert!(
            shown.contains("AK") && !shown.contains("very-secret"),
            "{shown}"
        );
    }
}
