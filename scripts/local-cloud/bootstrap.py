"""Identity bootstrap of the local cloud (run by scripts/local-cloud/keystone.sh after Keystone
answers): roles, projects demo and service, users demo, glance and swift (with FK_COMPUTE=1 also
placement, nova, neutron and designate, with their services and endpoints), the image and
object-store services and their endpoints, and the demo user's application credential; writes
env, env.json and clouds.yaml into FK_STATE. Inputs: FK_STATE, FK_KS, FK_GLANCE,
FK_GLANCE_PLAIN, FK_SWIFT, FK_SWIFT_LOG, FK_COMPUTE, FK_PLACEMENT, FK_NOVA, FK_NEUTRON,
FK_DESIGNATE."""
import json
import os
import urllib.error
import urllib.request

KS = os.environ["FK_KS"]
GLANCE = os.environ["FK_GLANCE"]
GLANCE_PLAIN = os.environ["FK_GLANCE_PLAIN"]
SWIFT = os.environ["FK_SWIFT"]
STATE = os.environ["FK_STATE"]


def call(method, path, body=None, token=None, expect=(200, 201, 204), base=KS):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    req.add_header("Accept", "application/json")
    if token:
        req.add_header("X-Auth-Token", token)
    try:
        with urllib.request.urlopen(req, timeout=30) as rsp:
            raw = rsp.read()
            status, headers = rsp.status, rsp.headers
    except urllib.error.HTTPError as e:
        raw, status, headers = e.read(), e.code, e.headers
    if status not in expect:
        raise SystemExit(f"{method} {base}{path}: {status} {raw[:500]!r}")
    return status, headers, (json.loads(raw) if raw.strip() else None)


def password_token(user, password, project):
    body = {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
    _, headers, _ = call("POST", "/auth/tokens", body)
    return headers["X-Subject-Token"]


admin = password_token("admin", "admin", "admin")


def create(kind, body_key, attrs):
    _, _, rsp = call("POST", f"/{kind}", {body_key: attrs}, token=admin)
    return rsp[body_key]["id"]


def role_id(name):
    _, _, rsp = call("GET", f"/roles?name={name}", token=admin)
    if rsp["roles"]:
        return rsp["roles"][0]["id"]
    return create("roles", "role", {"name": name})


member, admin_role, service_role = role_id("member"), role_id("admin"), role_id("service")
demo_project = create("projects", "project", {"name": "demo", "domain_id": "default"})
service_project = create("projects", "project", {"name": "service", "domain_id": "default"})
demo_user = create("users", "user", {"name": "demo", "domain_id": "default",
                                     "password": "demo-secret", "default_project_id": demo_project})
glance_user = create("users", "user", {"name": "glance", "domain_id": "default",
                                       "password": "glance-secret"})
call("PUT", f"/projects/{demo_project}/users/{demo_user}/roles/{member}", token=admin)
for role in (admin_role, service_role):
    call("PUT", f"/projects/{service_project}/users/{glance_user}/roles/{role}", token=admin)
image_service = create("services", "service", {"type": "image", "name": "glance"})
for interface in ("public", "internal", "admin"):
    create("endpoints", "endpoint", {"service_id": image_service, "interface": interface,
                                     "region_id": "RegionOne", "url": GLANCE})
# Swift: its service user (authtoken, and s3token: Keystone answers /v3/s3tokens only to admins
# and services), the object-store service and its per-project account endpoints.
swift_user = create("users", "user", {"name": "swift", "domain_id": "default",
                                      "password": "swift-secret"})
for role in (admin_role, service_role):
    call("PUT", f"/projects/{service_project}/users/{swift_user}/roles/{role}", token=admin)
object_service = create("services", "service", {"type": "object-store", "name": "swift"})
for interface in ("public", "internal", "admin"):
    create("endpoints", "endpoint", {"service_id": object_service, "interface": interface,
                                     "region_id": "RegionOne",
                                     "url": SWIFT + "/v1/AUTH_%(project_id)s"})
if os.environ.get("FK_COMPUTE") == "1":
    # Service users (roles admin and service on project service), services and endpoints.
    for name, stype, url in (("placement", "placement", os.environ["FK_PLACEMENT"]),
                             ("nova", "compute", os.environ["FK_NOVA"]),
                             ("neutron", "network", os.environ["FK_NEUTRON"]),
                             ("designate", "dns", os.environ["FK_DESIGNATE"])):
        user = create("users", "user", {"name": name, "domain_id": "default",
                                        "password": f"{name}-secret"})
        for role in (admin_role, service_role):
            call("PUT", f"/projects/{service_project}/users/{user}/roles/{role}", token=admin)
        service = create("services", "service", {"type": stype, "name": name})
        for interface in ("public", "internal", "admin"):
            create("endpoints", "endpoint", {"service_id": service, "interface": interface,
                                             "region_id": "RegionOne", "url": url})

demo = password_token("demo", "demo-secret", "demo")
_, _, rsp = call("POST", f"/users/{demo_user}/application_credentials",
                 {"application_credential": {"name": "fk-tests", "unrestricted": False,
                                             "description": "flatcar-kube acceptance tests"}},
                 token=demo)
app_cred_id = rsp["application_credential"]["id"]
app_cred_secret = rsp["application_credential"]["secret"]

env = {
    "OS_AUTH_URL": KS,
    "OS_USERNAME": "demo",
    "OS_PASSWORD": "demo-secret",
    "OS_PROJECT_NAME": "demo",
    "OS_USER_DOMAIN_NAME": "Default",
    "OS_PROJECT_DOMAIN_NAME": "Default",
    "OS_REGION_NAME": "RegionOne",
    "OS_IDENTITY_API_VERSION": "3",
    "OS_INTERFACE": "public",
    "FK_APP_CRED_ID": app_cred_id,
    "FK_APP_CRED_SECRET": app_cred_secret,
    "FK_GLANCE_URL": GLANCE,
    "FK_GLANCE_PLAIN_URL": GLANCE_PLAIN,
    "FK_SWIFT_URL": SWIFT,
    "FK_S3_URL": SWIFT,
    "FK_ADMIN_USERNAME": "admin",
    "FK_ADMIN_PASSWORD": "admin",
    "FK_ADMIN_PROJECT_NAME": "admin",
    "FK_CLOUDS_YAML": f"{STATE}/clouds.yaml",
    "FK_STATE_DIR": STATE,
    "FK_LOG_DIR": f"{STATE}/logs",
    "FK_KEYSTONE_LOG": f"{STATE}/logs/keystone.log",
    "FK_GLANCE_LOG": f"{STATE}/logs/glance.log",
    "FK_GLANCE_PLAIN_LOG": f"{STATE}/logs/glance-plain.log",
    "FK_SWIFT_LOG": os.environ["FK_SWIFT_LOG"],
}
clouds = {"clouds": {
    "demo-password": {
        "auth_type": "password",
        "auth": {"auth_url": KS, "username": "demo", "password": "demo-secret",
                 "project_name": "demo", "user_domain_name": "Default",
                 "project_domain_name": "Default"},
        "region_name": "RegionOne", "interface": "public", "identity_api_version": 3},
    "demo-appcred": {
        "auth_type": "v3applicationcredential",
        "auth": {"auth_url": KS, "application_credential_id": app_cred_id,
                 "application_credential_secret": app_cred_secret},
        "region_name": "RegionOne", "interface": "public", "identity_api_version": 3},
}}


def write(name, text):
    path = os.path.join(STATE, name)
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.chmod(path + ".tmp", 0o600)
    os.replace(path + ".tmp", path)


def sh_quote(v):
    return "'" + v.replace("'", "'\\''") + "'"


# JSON is valid YAML; clouds.yaml readers accept it.
write("clouds.yaml", json.dumps(clouds, indent=2) + "\n")
write("env.json", json.dumps(env, indent=2) + "\n")
write("env", "".join(f"export {k}={sh_quote(v)}\n" for k, v in env.items()))
print("bootstrap done", app_cred_id)
