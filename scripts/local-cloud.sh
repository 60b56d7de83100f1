#!/usr/bin/env bash
# Real Keystone and Glance on 127.0.0.1 for the provider's acceptance tests.
#
#   bash scripts/local-cloud.sh start   # fresh databases, waits until all answer, prints the env path
#   bash scripts/local-cloud.sh stop    # stops what `start` started (pid files); idempotent
#   bash scripts/local-cloud.sh status  # what runs
#   bash scripts/local-cloud.sh env     # prints the env file path (fails when not started)
#
# Needs the venv of scripts/setup.d/40-openstack.sh (run `bash scripts/setup.sh` once).
# State lives in ${FLATCAR_KUBE_CLOUD_DIR:-$FLATCAR_KUBE_CACHE/cloud} (FLATCAR_KUBE_CACHE defaults
# to $HOME/.cache/flatcar-kube) and is wiped by every `start`.
#
# Services (gunicorn, 1 worker, 4 threads each):
#   Keystone     http://127.0.0.1:5000/v3  fernet tokens, sqlite, region RegionOne
#   Glance       http://127.0.0.1:9292     in the catalog (service type image);
#                enabled_import_methods = [glance-direct, web-download, copy-image],
#                import tasks run inside the API process
#   Glance plain http://127.0.0.1:9293     NOT in the catalog (reach it by endpoint override);
#                enabled_import_methods = [] so clients must use PUT /v2/images/{id}/file.
#                Own sqlite database and store: images made on one port are not seen on the other.
# Logs: $STATE/logs/{keystone,glance,glance-plain}.log (service log and gunicorn access log).
# Glance validates every token with Keystone (no cache), so revoking a token
# (DELETE /v3/auth/tokens) makes the next Glance call answer 401 at once.
# FLATCAR_KUBE_CLOUD_TOKEN_EXPIRATION (seconds, default 3600) sets Keystone's token lifetime;
# FLATCAR_KUBE_CLOUD_WAIT (seconds, default 60) bounds the wait for each service at start.
#
# Contract for the tests: after `start`, $STATE/env.json is one JSON object of strings
# (the same keys and values as the `export` lines of $STATE/env):
#   OS_AUTH_URL              http://127.0.0.1:5000/v3
#   OS_USERNAME, OS_PASSWORD demo / demo-secret (role member on project demo)
#   OS_PROJECT_NAME          demo
#   OS_USER_DOMAIN_NAME, OS_PROJECT_DOMAIN_NAME   Default
#   OS_REGION_NAME           RegionOne
#   OS_IDENTITY_API_VERSION  3
#   OS_INTERFACE             public
#   FK_APP_CRED_ID, FK_APP_CRED_SECRET  application credential of user demo on project demo
#                            (restricted; authenticate WITHOUT a scope)
#   FK_GLANCE_URL            http://127.0.0.1:9292 (glance-direct import; the catalog's image endpoint)
#   FK_GLANCE_PLAIN_URL      http://127.0.0.1:9293 (no import methods: plain PUT /file)
#   FK_ADMIN_USERNAME, FK_ADMIN_PASSWORD, FK_ADMIN_PROJECT_NAME   admin / admin / admin
#   FK_CLOUDS_YAML           $STATE/clouds.yaml, entries `demo-password` and `demo-appcred`
#   FK_STATE_DIR, FK_LOG_DIR state directory and its logs/ directory
#   FK_KEYSTONE_LOG, FK_GLANCE_LOG, FK_GLANCE_PLAIN_LOG   the three log files
set -euo pipefail

cache=${FLATCAR_KUBE_CACHE:-$HOME/.cache/flatcar-kube}
venv="$cache/openstack-venv"
state=${FLATCAR_KUBE_CLOUD_DIR:-$cache/cloud}
logs="$state/logs"
run="$state/run"
services=(keystone glance glance-plain)
wait_seconds=${FLATCAR_KUBE_CLOUD_WAIT:-60}
# Ports (defaults 5000, 9292, 9293); another set lets a second cloud run beside the first
# (with its own FLATCAR_KUBE_CLOUD_DIR).
keystone_port=${FLATCAR_KUBE_KEYSTONE_PORT:-5000}
glance_port=${FLATCAR_KUBE_GLANCE_PORT:-9292}
glance_plain_port=${FLATCAR_KUBE_GLANCE_PLAIN_PORT:-9293}
keystone_url="http://127.0.0.1:$keystone_port/v3"
# Keystone token lifetime in seconds; a test of re-authentication may shorten it.
token_expiration=${FLATCAR_KUBE_CLOUD_TOKEN_EXPIRATION:-3600}

port_of() {
  case $1 in
    keystone) echo "$keystone_port" ;;
    glance) echo "$glance_port" ;;
    glance-plain) echo "$glance_plain_port" ;;
  esac
}

die() {
  echo "local-cloud: $*" >&2
  exit 1
}

pid_alive() {
  local f="$run/$1.pid" pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

cmd_stop() {
  local s pid i t pids=() names=()
  [ -d "$run" ] || return 0
  for s in "${services[@]}"; do
    [ -f "$run/$s.pid" ] || continue
    pid=$(cat "$run/$s.pid")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      # SIGINT: gunicorn's quick shutdown (the state is thrown away at the next start anyway).
      kill -INT "$pid" 2>/dev/null || true
      pids+=("$pid")
      names+=("$s")
    fi
  done
  for ((i = 0; i < ${#pids[@]}; i++)); do
    pid=${pids[$i]}
    for ((t = 0; t < 50; t++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      # Started with setsid: the process group is the master's pid and holds its workers.
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
    echo "local-cloud: stopped ${names[$i]} (pid $pid)" >&2
  done
  for s in "${services[@]}"; do
    rm -f "$run/$s.pid"
  done
}

cmd_status() {
  local s any=1
  for s in "${services[@]}"; do
    if pid_alive "$s"; then
      echo "$s: running (pid $(cat "$run/$s.pid"), http://127.0.0.1:$(port_of "$s"))"
      any=0
    else
      echo "$s: stopped"
    fi
  done
  [ -f "$state/env" ] && [ $any -eq 0 ] && echo "env: $state/env"
  return $any
}

cmd_env() {
  [ -f "$state/env" ] || die "no env file: run 'bash scripts/local-cloud.sh start' first"
  echo "$state/env"
}

# Waits until an unauthenticated GET answers with any HTTP status below 500.
wait_http() {
  local name=$1 url=$2 deadline=$((SECONDS + wait_seconds)) code
  while :; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)
    if [ -n "$code" ] && [ "$code" != 000 ] && [ "$code" -lt 500 ]; then
      return 0
    fi
    if ! pid_alive "$name"; then
      tail -n 30 "$logs/$name.log" >&2 || true
      die "$name exited during start-up; see $logs/$name.log"
    fi
    if [ $SECONDS -ge $deadline ]; then
      tail -n 30 "$logs/$name.log" >&2 || true
      die "$name did not answer on $url within ${wait_seconds}s; see $logs/$name.log"
    fi
    sleep 0.2
  done
}

write_keystone_conf() {
  mkdir -p "$state/keystone/fernet-keys" "$state/keystone/credential-keys" "$state/keystone/locks"
  chmod 700 "$state/keystone/fernet-keys" "$state/keystone/credential-keys"
  cat >"$state/keystone/keystone.conf" <<EOF
[DEFAULT]
use_stderr = true
debug = false

[database]
connection = sqlite:///$state/keystone/keystone.db

[token]
provider = fernet
expiration = $token_expiration

[fernet_tokens]
key_repository = $state/keystone/fernet-keys

[fernet_receipts]
key_repository = $state/keystone/fernet-keys

[credential]
key_repository = $state/keystone/credential-keys

[cache]
enabled = false

[oslo_concurrency]
lock_path = $state/keystone/locks
EOF
  mkdir -p "$state/wsgi"
  # Keystone reads gunicorn's argv as its own command line: reset it before importing the app.
  cat >"$state/wsgi/fk_keystone_wsgi.py" <<'EOF'
import sys
sys.argv = sys.argv[:1]
from keystone.server import wsgi  # noqa: E402
application = wsgi.initialize_public_application()
EOF
}

# write_glance_conf NAME PORT IMPORT_METHODS
write_glance_conf() {
  local name=$1 port=$2 methods=$3 dir="$state/$1"
  mkdir -p "$dir/conf" "$dir/images" "$dir/staging" "$dir/tasks" "$dir/locks"
  cp "$venv/etc/glance/glance-api-paste.ini" "$dir/conf/glance-api-paste.ini"
  cat >"$dir/conf/glance-api.conf" <<EOF
[DEFAULT]
use_stderr = true
debug = false
enabled_backends = fs:file
enabled_import_methods = $methods
worker_self_reference_url = http://127.0.0.1:$port

[database]
connection = sqlite:///$dir/glance.db

[glance_store]
default_backend = fs

[fs]
filesystem_store_datadir = $dir/images

[os_glance_staging_store]
filesystem_store_datadir = $dir/staging

[os_glance_tasks_store]
filesystem_store_datadir = $dir/tasks

[paste_deploy]
flavor = keystone
config_file = $dir/conf/glance-api-paste.ini

[keystone_authtoken]
www_authenticate_uri = $keystone_url
auth_url = $keystone_url
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = glance
password = glance-secret
region_name = RegionOne
# No token cache: a token revoked in Keystone is refused at once (tests can force a 401).
token_cache_time = -1

[oslo_messaging_notifications]
driver = noop

[oslo_concurrency]
lock_path = $dir/locks

[wsgi]
task_pool_threads = 4
EOF
}

# start_gunicorn NAME PORT APP [extra env assignments...]
start_gunicorn() {
  local name=$1 port=$2 app=$3
  shift 3
  # setsid: own process group, so `stop` can reap workers even if the master died oddly.
  env "$@" setsid "$venv/bin/gunicorn" \
    --workers 1 --threads 4 --worker-class gthread \
    --bind "127.0.0.1:$port" --timeout 600 --graceful-timeout 5 \
    --pythonpath "$state/wsgi" \
    --access-logfile - --error-logfile - \
    --name "fk-$name" \
    "$app" >>"$logs/$name.log" 2>&1 </dev/null &
  echo $! >"$run/$name.pid"
}

check_ports_free() {
  local s port
  for s in "${services[@]}"; do
    port=$(port_of "$s")
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      die "port $port (for $s) is already in use by a process this script did not start"
    fi
  done
}

cmd_start() {
  local t0=$SECONDS km gm s
  [ -x "$venv/bin/gunicorn" ] || die "no venv at $venv: run 'bash scripts/setup.sh' first"
  cmd_stop
  check_ports_free
  # Fresh state each start: new databases, keys, images and logs.
  rm -rf "$state"
  mkdir -p "$logs" "$run"
  chmod 700 "$state"
  write_keystone_conf
  write_glance_conf glance "$glance_port" '[glance-direct,web-download,copy-image]'
  write_glance_conf glance-plain "$glance_plain_port" '[]'

  # Glance schema in the background while Keystone is prepared; the plain API gets a copy.
  gm="$venv/bin/glance-manage"
  (
    "$gm" --config-file "$state/glance/conf/glance-api.conf" db_sync >>"$logs/glance-manage.log" 2>&1
    cp "$state/glance/glance.db" "$state/glance-plain/glance.db"
  ) &
  local glance_sync=$!

  km=("$venv/bin/keystone-manage" --config-file "$state/keystone/keystone.conf")
  {
    "${km[@]}" db_sync &&
      "${km[@]}" fernet_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)" &&
      "${km[@]}" credential_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)" &&
      "${km[@]}" bootstrap --bootstrap-password admin \
        --bootstrap-username admin --bootstrap-project-name admin \
        --bootstrap-region-id RegionOne \
        --bootstrap-admin-url "$keystone_url" \
        --bootstrap-internal-url "$keystone_url" \
        --bootstrap-public-url "$keystone_url"
  } >>"$logs/keystone-manage.log" 2>&1 || die "keystone-manage failed; see $logs/keystone-manage.log"

  start_gunicorn keystone "$keystone_port" fk_keystone_wsgi:application \
    "OS_KEYSTONE_CONFIG_FILES=$state/keystone/keystone.conf"

  wait "$glance_sync" || die "glance-manage db_sync failed; see $logs/glance-manage.log"
  for s in glance glance-plain; do
    start_gunicorn "$s" "$(port_of "$s")" glance.wsgi.api:application \
      "OS_GLANCE_CONFIG_DIR=$state/$s/conf"
  done

  wait_http keystone "$keystone_url"
  # Projects, users, roles, the image service and its endpoint, the application credential;
  # writes env, env.json and clouds.yaml.
  FK_STATE="$state" FK_KS="$keystone_url" FK_GLANCE="http://127.0.0.1:$glance_port" \
    FK_GLANCE_PLAIN="http://127.0.0.1:$glance_plain_port" "$venv/bin/python" - <<'PY' >>"$logs/bootstrap.log" 2>&1 || die "creating the demo project failed; see $logs/bootstrap.log"
import json
import os
import urllib.error
import urllib.request

KS = os.environ["FK_KS"]
GLANCE = os.environ["FK_GLANCE"]
GLANCE_PLAIN = os.environ["FK_GLANCE_PLAIN"]
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
    "FK_ADMIN_USERNAME": "admin",
    "FK_ADMIN_PASSWORD": "admin",
    "FK_ADMIN_PROJECT_NAME": "admin",
    "FK_CLOUDS_YAML": f"{STATE}/clouds.yaml",
    "FK_STATE_DIR": STATE,
    "FK_LOG_DIR": f"{STATE}/logs",
    "FK_KEYSTONE_LOG": f"{STATE}/logs/keystone.log",
    "FK_GLANCE_LOG": f"{STATE}/logs/glance.log",
    "FK_GLANCE_PLAIN_LOG": f"{STATE}/logs/glance-plain.log",
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
PY
  for s in glance glance-plain; do
    wait_http "$s" "http://127.0.0.1:$(port_of "$s")/versions"
  done
  # One authenticated call per Glance: proves keystonemiddleware and the glance service user work.
  # shellcheck disable=SC1091
  (
    . "$state/env"
    token=$(curl -sf -X POST -H 'Content-Type: application/json' -D - -o /dev/null \
      -d '{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"demo","domain":{"id":"default"},"password":"demo-secret"}}},"scope":{"project":{"name":"demo","domain":{"id":"default"}}}}}' \
      "$OS_AUTH_URL/auth/tokens" | tr -d '\r' | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: //p')
    [ -n "$token" ] || die "demo token could not be issued; see $logs/keystone.log"
    for s in glance glance-plain; do
      code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $token" \
        "http://127.0.0.1:$(port_of "$s")/v2/images")
      [ "$code" = 200 ] || die "$s answered $code to an authenticated GET /v2/images; see $logs/$s.log"
    done
  )
  echo "local-cloud: Keystone :$keystone_port, Glance :$glance_port (import) and :$glance_plain_port (plain) up in $((SECONDS - t0)) s" >&2
  echo "$state/env"
}

# Checks a started cloud end to end with curl: password and application-credential tokens,
# PUT /file on the plain Glance, stage + glance-direct import on the import Glance, Glance's
# os_hash_value against our SHA-512, delete, and no image left.
cmd_selftest() {
  local tmp img sha ctype=(-H 'Content-Type: application/json')
  [ -f "$state/env" ] || die "not started"
  # shellcheck disable=SC1091
  . "$state/env"
  command -v qemu-img >/dev/null || die "qemu-img missing (scripts/setup.d/10-system-tools.sh)"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  img="$tmp/t.qcow2"
  head -c 8M /dev/urandom >"$tmp/t.raw"
  qemu-img convert -f raw -O qcow2 "$tmp/t.raw" "$img"
  sha=$(sha512sum "$img" | cut -d' ' -f1)

  token_from() { curl -sf "${ctype[@]}" -D - -o /dev/null -d "$1" "$OS_AUTH_URL/auth/tokens" |
    tr -d '\r' | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: //p'; }
  local pw appcred
  pw=$(token_from "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"$OS_USERNAME\",\"domain\":{\"name\":\"$OS_USER_DOMAIN_NAME\"},\"password\":\"$OS_PASSWORD\"}}},\"scope\":{\"project\":{\"name\":\"$OS_PROJECT_NAME\",\"domain\":{\"name\":\"$OS_PROJECT_DOMAIN_NAME\"}}}}}")
  [ -n "$pw" ] || die "selftest: password token failed"
  appcred=$(token_from "{\"auth\":{\"identity\":{\"methods\":[\"application_credential\"],\"application_credential\":{\"id\":\"$FK_APP_CRED_ID\",\"secret\":\"$FK_APP_CRED_SECRET\"}}}}")
  [ -n "$appcred" ] || die "selftest: application credential token failed"
  echo "selftest: password and application-credential tokens issued" >&2

  local url id
  field() { "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$1"; }
  for url in "$FK_GLANCE_PLAIN_URL" "$FK_GLANCE_URL"; do
    id=$(curl -sf "${ctype[@]}" -H "X-Auth-Token: $appcred" -d '{"name":"fk-selftest","disk_format":"qcow2","container_format":"bare"}' \
      "$url/v2/images" | field id)
    [ -n "$id" ] || die "selftest: image create on $url failed"
    if [ "$url" = "$FK_GLANCE_PLAIN_URL" ]; then
      curl -sf -X PUT -H "X-Auth-Token: $appcred" -H 'Content-Type: application/octet-stream' \
        -H 'Transfer-Encoding: chunked' -T "$img" "$url/v2/images/$id/file" || die "selftest: PUT /file on $url failed"
    else
      curl -sf -X PUT -H "X-Auth-Token: $appcred" -H 'Content-Type: application/octet-stream' \
        -H 'Transfer-Encoding: chunked' -T "$img" "$url/v2/images/$id/stage" || die "selftest: stage on $url failed"
      curl -sf "${ctype[@]}" -H "X-Auth-Token: $appcred" -d '{"method":{"name":"glance-direct"}}' \
        "$url/v2/images/$id/import" || die "selftest: import on $url failed"
    fi
    local status="" hash="" i
    for ((i = 0; i < 100; i++)); do
      status=$(curl -sf -H "X-Auth-Token: $pw" "$url/v2/images/$id" | field status)
      [ "$status" = active ] && break
      sleep 0.1
    done
    [ "$status" = active ] || die "selftest: image $id on $url is '$status', not active"
    hash=$(curl -sf -H "X-Auth-Token: $pw" "$url/v2/images/$id" | field os_hash_value)
    [ "$hash" = "$sha" ] || die "selftest: os_hash_value on $url differs from our SHA-512"
    curl -sf -X DELETE -H "X-Auth-Token: $pw" "$url/v2/images/$id" || die "selftest: delete on $url failed"
    [ "$(curl -sf -H "X-Auth-Token: $pw" "$url/v2/images" | "$venv/bin/python" -c 'import json,sys; print(len(json.load(sys.stdin)["images"]))')" = 0 ] ||
      die "selftest: images left on $url"
    echo "selftest: $url: upload active, os_hash_value = SHA-512, deleted" >&2
  done
  echo "selftest: ok" >&2
}

case ${1:-} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  selftest) cmd_selftest ;;
  *)
    echo "usage: $0 start|stop|status|env|selftest" >&2
    exit 2
    ;;
esac
