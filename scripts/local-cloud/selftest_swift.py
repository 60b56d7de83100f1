"""Swift part of `bash scripts/local-cloud.sh selftest` (run with the Swift venv's Python, which
has boto3): with the demo user's token, the catalog's object-store endpoint, a container made
with the Swift API, an EC2 credential of demo on project demo (Keystone OS-EC2), then with
boto3 (path-style, region RegionOne) PUT, a conditional PUT `If-None-Match: *` of the same key
(must answer 412, the lock Terraform's s3 backend takes with use_lockfile), GET, LIST, DELETE;
then the container and the credential are deleted again. Inputs: the env of the local cloud
(OS_*, FK_SWIFT_URL, FK_S3_URL)."""
import json
import os
import sys
import urllib.error
import urllib.request
import uuid

import boto3
import botocore.client
import botocore.exceptions

KS = os.environ["OS_AUTH_URL"]
SWIFT = os.environ["FK_SWIFT_URL"]
S3 = os.environ["FK_S3_URL"]


def fail(msg):
    sys.exit(f"selftest: {msg}")


def call(method, url, body=None, token=None, expect=(200, 201, 202, 204)):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("X-Auth-Token", token)
    try:
        with urllib.request.urlopen(req, timeout=30) as rsp:
            raw, status, headers = rsp.read(), rsp.status, rsp.headers
    except urllib.error.HTTPError as e:
        raw, status, headers = e.read(), e.code, e.headers
    if status not in expect:
        fail(f"{method} {url}: {status} {raw[:300]!r}")
    return status, headers, raw


auth = {"auth": {
    "identity": {"methods": ["password"], "password": {"user": {
        "name": os.environ["OS_USERNAME"], "domain": {"name": os.environ["OS_USER_DOMAIN_NAME"]},
        "password": os.environ["OS_PASSWORD"]}}},
    "scope": {"project": {"name": os.environ["OS_PROJECT_NAME"],
                          "domain": {"name": os.environ["OS_PROJECT_DOMAIN_NAME"]}}}}}
_, headers, raw = call("POST", KS + "/auth/tokens", auth)
token = headers["X-Subject-Token"]
body = json.loads(raw)["token"]
project, user = body["project"]["id"], body["user"]["id"]
account = f"{SWIFT}/v1/AUTH_{project}"
endpoints = [e["url"] for s in body["catalog"] if s["type"] == "object-store"
             for e in s["endpoints"] if e["interface"] == "public"]
if endpoints != [account]:
    fail(f"catalog object-store endpoint {endpoints}, expected [{account}]")

# Our own names: tests may be using the same cloud at the same time.
bucket = f"fk-selftest-{uuid.uuid4().hex[:12]}"
key = "dir/terraform.tfstate"
call("PUT", f"{account}/{bucket}", token=token, expect=(201, 202))
_, _, raw = call("POST", f"{KS}/users/{user}/credentials/OS-EC2", {"tenant_id": project},
                 token=token)
cred = json.loads(raw)["credential"]
print(f"selftest: Swift container {bucket} made, EC2 credential {cred['access']}", file=sys.stderr)

s3 = boto3.client("s3", endpoint_url=S3, region_name=os.environ["OS_REGION_NAME"],
                  aws_access_key_id=cred["access"], aws_secret_access_key=cred["secret"],
                  config=botocore.client.Config(s3={"addressing_style": "path"},
                                                retries={"max_attempts": 1}))
data = os.urandom(4096)
s3.put_object(Bucket=bucket, Key=key, Body=data, IfNoneMatch="*")
try:
    s3.put_object(Bucket=bucket, Key=key, Body=b"second", IfNoneMatch="*")
    fail("a second PUT with If-None-Match: * of an existing key succeeded")
except botocore.exceptions.ClientError as e:
    if e.response["ResponseMetadata"]["HTTPStatusCode"] != 412:
        fail(f"a second PUT with If-None-Match: * answered {e.response}")
if s3.get_object(Bucket=bucket, Key=key)["Body"].read() != data:
    fail("GET returned other bytes than the PUT")
keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
if keys != [key]:
    fail(f"LIST of {bucket}: {keys}")
s3.delete_object(Bucket=bucket, Key=key)
if s3.list_objects_v2(Bucket=bucket).get("KeyCount") != 0:
    fail(f"{key} still listed after DELETE")
# Swift API view of the same container: empty, then gone.
_, _, raw = call("GET", f"{account}/{bucket}?format=json", token=token)
if json.loads(raw) != []:
    fail(f"Swift lists {raw[:200]!r} in {bucket} after the S3 DELETE")
call("DELETE", f"{account}/{bucket}", token=token)
call("DELETE", f"{KS}/users/{user}/credentials/OS-EC2/{cred['access']}", token=token)
print(f"selftest: {S3}: S3 PUT, conditional PUT (412), GET, LIST, DELETE with an EC2 credential; "
      "container and credential deleted", file=sys.stderr)
