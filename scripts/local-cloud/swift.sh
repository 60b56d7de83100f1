# shellcheck shell=bash
# Swift: a one-node object store with the Swift API and its S3 API on http://127.0.0.1:8080,
# started by every `start` (the venv of scripts/setup.d/41-swift.sh, not the other services').
#   swift-proxy      :8080  catch_errors gatekeeper healthcheck proxy-logging listing_formats
#                           bulk authtoken s3api s3token keystoneauth copy slo dlo
#                           versioned_writes symlink proxy-logging proxy-server;
#                           Swift API /v1/AUTH_<project id> (catalog type object-store),
#                           S3 API path-style at the root (region RegionOne; EC2 credentials
#                           of Keystone, POST /v3/users/{id}/credentials/OS-EC2), roles admin
#                           and member may write, GET /healthcheck without a token
#   swift-object     :6200, swift-container :6201, swift-account :6202
# Rings: part power 6, 1 replica, one device (d1 under $state/swift/devices, a plain directory:
# mount_check = false) on 127.0.0.1 per ring; no replicators, auditors, updaters or memcached.
# Each server is one process (workers = 0) run with -v: its log lines go to stderr, that is
# $logs/swift-{proxy,object,container,account}.log. Without /dev/log Swift's syslog handler
# falls back to UDP 127.0.0.1:514, where nothing listens (those copies are dropped).
# Ports: FLATCAR_KUBE_SWIFT_PORT (proxy), FLATCAR_KUBE_SWIFT_{OBJECT,CONTAINER,ACCOUNT}_PORT.
#
# Traps (met here):
# - authtoken must come BEFORE s3api/s3token in the pipeline (s3api's own docs; some older
#   samples put it after s3token). After them it strips the identity headers s3token set and
#   keystoneauth sees an anonymous request: every S3 call answers 403 SignatureDoesNotMatch
#   although keystone.log shows POST /v3/s3tokens 200.
# - Keystone 30 answers POST /v3/s3tokens only to admins and services (policy
#   identity:s3tokens_validate): s3token needs the swift service user's credentials
#   (auth_type = password ...), or every S3 call is refused.
# - No memcached: s3token's secret cache needs it (secret_cache_duration = 0), the proxy
#   caches no account/container info (each request HEADs them: fine on one node).
# - keystonemiddleware prints `The option "..." is not known to keystonemiddleware` for the
#   [DEFAULT] options and its auth plugin's options when the pipeline loads: noise.
#
# Measured here (swift 2.38.3, keystonemiddleware 13.0.1, keystone 30.0.0, boto3 1.44.8,
# Terraform 1.11.4):
# - Conditional PUT: s3api passes `If-None-Match: *` of PutObject on to Swift (other
#   conditional PUT headers answer 501 NotImplemented). First PUT of a key: 200; a PUT of an
#   existing key: 412, <Code>PreconditionFailed</Code><Message>At least one of the
#   preconditions you specified did not hold.</Message>. BUT it is not atomic: Swift checks
#   for the object when the PUT arrives, not when it commits, so PUTs of the same new key that
#   overlap in time (one PUT takes ~35-55 ms here) all get 200 and the last one wins. Two
#   clients released together: both won in 21 of 40 rounds (6 clients: several winners in 14
#   of 20 rounds); second PUT 10 ms later: both won 4/15, 20 ms 1/15, 50 ms and more 0/15.
#   So Terraform's lock file stops a run that starts while another holds the lock, but not
#   two runs that take it within the same few tens of milliseconds.
# - Terraform 1.11 `backend "s3"`: init, apply, plan (no changes, -detailed-exitcode 0) and
#   destroy work with exactly
#     bucket = "<container>"  key = "x/terraform.tfstate"  region = "RegionOne"
#     endpoints = { s3 = "<FK_S3_URL>" }  use_path_style = true  use_lockfile = true
#     skip_credentials_validation = true  skip_region_validation = true
#     skip_requesting_account_id = true
#   and AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY = an EC2 credential's access / secret.
#   Each skip is needed: without use_path_style the SDK calls http://<bucket>.127.0.0.1:8080
#   (no such host); without skip_region_validation "Invalid AWS Region: RegionOne"; without
#   skip_credentials_validation or skip_requesting_account_id it calls STS/IAM on AWS hosts.
#   region must equal s3api's `location`: region "us-east-1" gets 400
#   AuthorizationHeaderMalformed "the region 'us-east-1' is wrong; expecting 'RegionOne'".
#   NOT needed: skip_s3_checksum, skip_metadata_api_check (with the keys in the environment),
#   AWS_REQUEST_CHECKSUM_CALCULATION / AWS_RESPONSE_CHECKSUM_VALIDATION: Swift 2.38 accepts the
#   SDKs' default x-amz-checksum-crc32 (Terraform and boto3). The backend does not create the
#   bucket: make the container first (Swift PUT or S3 CreateBucket, both work).
# - Lock held (use_lockfile; <key>.tflock holds {"ID","Operation","Info","Who","Version",
#   "Created","Path"}): a second `terraform plan -lock-timeout=0s` fails, rc 1, with
#     Error: Error acquiring the state lock
#     Error message: operation error S3: PutObject, https response error
#     StatusCode: 412, RequestID: tx..., HostID: tx..., api error PreconditionFailed: At least
#     one of the preconditions you specified did not hold.
#     Lock Info:
#       ID:        e409870b-c4ec-e499-cde9-9a309526c254
#       Path:      tfstate/lock/terraform.tfstate
#       Operation: OperationTypeApply
#       Who:       root@vm
#       Version:   1.11.4
#       Created:   2026-12-04 18:23:25.316745857 +0000 UTC
#       Info:
#   (then Terraform's "Terraform acquires a state lock to protect the state ..." paragraph);
#   after the holder ends, only <key> is left (the .tflock is deleted).
# - DeleteObject of state and lock objects: 204 (of a missing key too), HEAD then 404;
#   DeleteObjects (multi-delete) 200; DeleteBucket of the emptied container 204.
# shellcheck source-path=SCRIPTDIR source=settings.sh
[ -n "${local_cloud_settings:-}" ] || . "$(dirname -- "${BASH_SOURCE[0]}")/settings.sh"

# The configuration of the four servers (in $state/swift/etc, their swift_dir) and the device.
write_swift_conf() {
  local dir="$state/swift" s
  mkdir -p "$dir/etc" "$dir/devices/d1"
  # A fresh hash suffix each start: the state is fresh too.
  render swift.conf "$dir/etc/swift.conf" "HASH=$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
  render swift-proxy-server.conf "$dir/etc/proxy-server.conf" \
    "PORT=$swift_port" \
    "SWIFT_DIR=$dir/etc" \
    "KEYSTONE_URL=$keystone_url"
  for s in object container account; do
    render swift-storage-server.conf "$dir/etc/$s-server.conf" \
      "SERVER=$s" \
      "PORT=$(port_of "swift-$s")" \
      "SWIFT_DIR=$dir/etc" \
      "DEVICES=$dir/devices"
  done
}

# The account, container and object rings: swift-ring-builder's create, add and rebalance,
# run in one Python process (nine separate runs take ~5 s, this one ~0.6 s).
build_swift_rings() {
  (
    cd "$state/swift/etc"
    "$swift_venv/bin/python" - "$swift_account_port" "$swift_container_port" "$swift_object_port" <<'PY'
import sys
from swift.cli.ringbuilder import main

ports = dict(zip(("account", "container", "object"), sys.argv[1:]))
for ring, port in ports.items():
    for args in (["create", "6", "1", "1"],
                 ["add", f"r1z1-127.0.0.1:{port}/d1", "100"],
                 ["rebalance"]):
        try:
            main(["swift-ring-builder", f"{ring}.builder"] + args)
            code = 0
        except SystemExit as e:
            code = e.code or 0
        if code != 0:
            sys.exit(f"swift-ring-builder {ring}.builder {' '.join(args)}: exit {code}")
PY
  ) >>"$logs/swift-rings.log" 2>&1 || die "building the Swift rings failed; see $logs/swift-rings.log"
}

# Configuration, rings and the four servers (the proxy last); does not wait for them.
start_swift() {
  local s
  write_swift_conf
  build_swift_rings
  for s in account container object proxy; do
    start_daemon "swift-$s" "$swift_venv/bin/swift-$s-server" "$state/swift/etc/$s-server.conf" -v
  done
}

# Waits for the storage servers and the proxy's /healthcheck, then one authenticated Swift call
# (proves authtoken, keystoneauth, the swift service user and the account autocreation).
wait_swift() {
  local s
  for s in account container object; do
    wait_tcp "swift-$s" "$(port_of "swift-$s")"
  done
  wait_http swift-proxy "http://127.0.0.1:$swift_port/healthcheck"
  # shellcheck disable=SC1091
  (
    . "$state/env"
    body=$(curl -sf -X POST -H 'Content-Type: application/json' -D "$state/swift/token-headers" \
      -d '{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"demo","domain":{"id":"default"},"password":"demo-secret"}}},"scope":{"project":{"name":"demo","domain":{"id":"default"}}}}}' \
      "$OS_AUTH_URL/auth/tokens") || die "demo token could not be issued; see $logs/keystone.log"
    token=$(tr -d '\r' <"$state/swift/token-headers" | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: //p')
    rm -f "$state/swift/token-headers"
    project=$(printf '%s' "$body" | "$swift_venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["token"]["project"]["id"])')
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $token" \
      "$FK_SWIFT_URL/v1/AUTH_$project")
    case $code in
      200 | 204) ;;
      *) die "swift-proxy answered $code to an authenticated GET of demo's account; see $logs/swift-proxy.log" ;;
    esac
  )
}
