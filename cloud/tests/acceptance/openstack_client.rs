//! The OpenStack client against real Keystone and Glance, with faults a real service does
//! not produce on demand injected by the proxy: a rejected token is re-issued, a dropped
//! connection on an idempotent call and a 429 with Retry-After are retried, a 4xx is not, and
//! a clean-up after StopProvider still re-authenticates. Errors never carry what a service
//! echoes back (real Nova's 400 for an oversized `user_data` quotes all of it).

use crate::support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use flatcar_cloud::http::StopSignal;
use flatcar_cloud::openstack::auth::CloudSettings;
use flatcar_cloud::openstack::glance::Glance;
use flatcar_cloud::openstack::session::ApiRequest;
use flatcar_cloud::openstack::{auth, CloudError, CloudSession};
use reqwest::Method;
use support::acceptance::{self, Need};
use support::cloud::LocalCloud;
use support::fault_proxy::{Fault, FaultProxy};

/// What every test here needs (`flatcar_testkit::acceptance`).
const NEEDS: &[Need] = &[Need::Cloud];

fn session(env: Vec<(String, String)>, image_url: &str) -> CloudSession {
    session_with_stop(env, image_url, StopSignal::default())
}

fn session_with_stop(
    env: Vec<(String, String)>,
    image_url: &str,
    stop: StopSignal,
) -> CloudSession {
    let env: BTreeMap<String, String> = env.into_iter().collect();
    let settings = CloudSettings {
        endpoint_overrides: [("image".to_string(), image_url.to_string())]
            .into_iter()
            .collect(),
        ..CloudSettings::default()
    };
    let profile = auth::resolve(&settings, &|k| env.get(k).cloned()).expect("credentials");
    CloudSession::new(profile, stop).expect("session")
}

fn get(method: &str, path: &str, fault: impl FnOnce(String, String) -> Fault) -> Fault {
    fault(method.to_string(), path.to_string())
}

/// Glance answers 401 to the next `times` image listings, as for a revoked token.
fn rejected_token(times: u32) -> Fault {
    Fault::Status {
        method: "GET".into(),
        path_contains: "/v2/images".into(),
        status: 401,
        headers: vec![],
        body: String::new(),
        times,
    }
}

#[tokio::test]
async fn a_rejected_token_is_issued_again_once() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let cloud = LocalCloud::get();
    let proxy = FaultProxy::start(&cloud.value("FK_GLANCE_URL"));
    proxy.add(rejected_token(1));
    let s = session(cloud.app_cred_env(), &proxy.url);
    Glance::new(&s)
        .list()
        .await
        .expect("listed after re-authenticating");
    assert_eq!(proxy.injected(), 1);
    // Twice in a row is an error, not a loop.
    proxy.add(rejected_token(2));
    let err = Glance::new(&s)
        .list()
        .await
        .expect_err("a token rejected twice is an error");
    assert_eq!(err.status(), Some(401), "{err}");
}

/// After Terraform's StopProvider, clean-up requests still run, including the token they may
/// have to fetch again; ordinary requests are cancelled.
#[tokio::test]
async fn a_clean_up_after_a_stop_re_authenticates_and_runs() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let cloud = LocalCloud::get();
    let proxy = FaultProxy::start(&cloud.value("FK_GLANCE_URL"));
    let stop = StopSignal::default();
    let s = session_with_stop(cloud.app_cred_env(), &proxy.url, stop.clone());
    Glance::new(&s)
        .list()
        .await
        .expect("listed before the stop");
    stop.stop();
    let cancelled = s
        .send(ApiRequest::new(Method::GET, "image", "/v2/images"))
        .await
        .expect_err("an ordinary request after a stop is cancelled");
    assert!(cancelled.to_string().contains("cancel"), "{cancelled}");
    proxy.add(rejected_token(1));
    s.send(ApiRequest::new(Method::GET, "image", "/v2/images").cleanup())
        .await
        .expect("the clean-up request re-authenticated after the stop");
    assert_eq!(proxy.injected(), 1);
}

#[tokio::test]
async fn a_dropped_connection_on_an_idempotent_call_is_retried() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let cloud = LocalCloud::get();
    let proxy = FaultProxy::start(&cloud.value("FK_GLANCE_URL"));
    proxy.add(get("GET", "/v2/info/import", |method, path_contains| {
        Fault::Drop {
            method,
            path_contains,
            times: 2,
        }
    }));
    let s = session(cloud.password_env(), &proxy.url);
    let methods = Glance::new(&s).import_methods().await.expect("retried");
    assert!(methods.iter().any(|m| m == "glance-direct"), "{methods:?}");
    assert_eq!(proxy.injected(), 2);
}

#[tokio::test]
async fn too_many_requests_waits_for_retry_after() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let cloud = LocalCloud::get();
    let proxy = FaultProxy::start(&cloud.value("FK_GLANCE_URL"));
    proxy.add(get("GET", "/v2/images", |method, path_contains| {
        Fault::Status {
            method,
            path_contains,
            status: 429,
            headers: vec![("Retry-After".into(), "2".into())],
            body: String::new(),
            times: 1,
        }
    }));
    let s = session(cloud.password_env(), &proxy.url);
    let started = Instant::now();
    Glance::new(&s).list().await.expect("retried after 429");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "Retry-After not honoured: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_client_error_is_not_retried_and_names_the_call() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let cloud = LocalCloud::get();
    let s = session(cloud.password_env(), &cloud.value("FK_GLANCE_URL"));
    let err = Glance::new(&s)
        .update("00000000-0000-0000-0000-000000000000", &[])
        .await
        .expect_err("no such image");
    assert!(matches!(err, CloudError::Api { status: 404, .. }), "{err}");
    assert!(err.to_string().contains("PATCH http://"), "{err}");
}

#[tokio::test]
async fn wrong_credentials_are_an_auth_error_that_does_not_echo_the_secret() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let cloud = LocalCloud::get();
    let mut env = cloud.app_cred_env();
    for (k, v) in env.iter_mut() {
        if k == "OS_APPLICATION_CREDENTIAL_SECRET" {
            *v = "wrong".into();
        }
    }
    let s = session(env, &cloud.value("FK_GLANCE_URL"));
    let err = Glance::new(&s).list().await.expect_err("bad secret");
    assert!(matches!(err, CloudError::Auth { status: 401, .. }), "{err}");
    // The provider's diagnostic is this message plus what to check (provider/src/errors.rs).
    assert!(
        !err.to_string().contains("wrong"),
        "the secret must not be echoed: {err}"
    );
}

/// Real Nova answers an oversized `user_data` with a 400 whose message quotes the whole base64
/// value (secrets of a write-only `user_data_wo` included): the error names the field and the
/// reason and carries none of it.
#[tokio::test]
async fn novas_echo_of_user_data_never_reaches_the_error() {
    if !acceptance::run(NEEDS) {
        return;
    }
    use base64::Engine as _;
    use flatcar_cloud::openstack::nova::{NewServer, Nova};
    let cloud = LocalCloud::get();
    assert_eq!(
        cloud.values.get("FK_COMPUTE").map(String::as_str),
        Some("1"),
        "start the local cloud with --compute"
    );
    let s = session(cloud.password_env(), &cloud.value("FK_GLANCE_URL"));
    let user_data = format!(
        r#"{{"ignition":{{"version":"3.4.0"}},"passwd":{{"users":[{{"name":"core","passwordHash":"SECRETHASH"}}]}},"pad":"{}"}}"#,
        " ".repeat(50_000)
    );
    let encoded = base64::engine::general_purpose::STANDARD.encode(&user_data);
    let server = NewServer {
        name: "too-much-user-data".into(),
        image_id: "00000000-0000-0000-0000-000000000000".into(),
        flavor_id: "1".into(),
        key_name: None,
        user_data: Some(user_data),
        networks: vec![],
        security_groups: vec![],
        metadata: BTreeMap::new(),
        availability_zone: None,
        config_drive: false,
        root_volume_size: None,
    };
    let err = Nova::new(&s)
        .create(&server)
        .await
        .expect_err("Nova refuses it");
    let text = err.to_string();
    assert!(
        matches!(err, CloudError::Api { status: 400, .. }),
        "{text:.600}"
    );
    assert!(text.contains("user_data"), "{text:.600}");
    for piece in encoded.as_bytes().chunks(40).take(50) {
        let piece = std::str::from_utf8(piece).expect("base64 is ASCII");
        assert!(
            !text.contains(piece),
            "the error carries user data: {text:.600}"
        );
    }
    assert!(text.len() < 1_000, "{} characters: {text:.600}", text.len());
    assert!(!text.contains("SECRETHASH"));
}
