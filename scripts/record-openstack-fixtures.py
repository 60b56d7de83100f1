#!/usr/bin/env python3
"""Records the OpenStack answers the provider's in-process tests replay.

Run against the local cloud (`bash scripts/local-cloud.sh start --compute`):
    python3 scripts/record-openstack-fixtures.py
It asks the real Keystone, Glance, Nova and Neutron the questions the provider asks, and
writes their answers to testdata/openstack/<name>.json as {"status", "body"}, with every
service URL replaced by {{endpoint}} (the fixture server's own address) and secrets removed.
It creates one image, one server that fails to build (a flavor larger than the host) and one
that boots, and deletes them again.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "testdata", "openstack")
CACHE = os.environ.get("FLATCAR_KUBE_CACHE", os.path.expanduser("~/.cache/flatcar-kube"))
ENV = json.load(open(os.path.join(CACHE, "cloud", "env.json")))
URL = re.compile(r"http://127\.0\.0\.1:\d+")


def call(method, url, body=None, token=None, headers=None, data=None):
    req = urllib.request.Request(url, method=method)
    req.add_header("Accept", "application/json")
    if token:
        req.add_header("X-Auth-Token", token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    if body is not None:
        data = json.dumps(body).encode()
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, data=data) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def save(name, status, text):
    text = URL.sub("{{endpoint}}", text)
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = text
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump({"status": status, "body": body}, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"{name}: HTTP {status}")


def wait(what, probe, limit=120):
    deadline = time.time() + limit
    while time.time() < deadline:
        done = probe()
        if done is not None:
            return done
        time.sleep(1)
    sys.exit(f"timed out waiting for {what}")


def main():
    os.makedirs(OUT, exist_ok=True)
    auth = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": ENV["OS_USERNAME"], "password": ENV["OS_PASSWORD"],
        "domain": {"name": ENV["OS_USER_DOMAIN_NAME"]}}}},
        "scope": {"project": {"name": ENV["OS_PROJECT_NAME"],
                              "domain": {"name": ENV["OS_PROJECT_DOMAIN_NAME"]}}}}}
    status, headers, text = call("POST", ENV["OS_AUTH_URL"] + "/auth/tokens", auth)
    token = headers["X-Subject-Token"]
    save("keystone-token", status, text)
    glance, nova, neutron = ENV["FK_GLANCE_URL"], ENV["FK_NOVA_URL"], ENV["FK_NEUTRON_URL"]
    if not nova.rstrip("/").endswith("v2.1"):
        nova = nova.rstrip("/") + "/v2.1"

    save("glance-import-info", *drop_headers(call("GET", glance + "/v2/info/import", token=token)))
    save("glance-image-missing", *drop_headers(
        call("GET", glance + "/v2/images/00000000-0000-0000-0000-000000000000", token=token)))
    props = {"name": "fixture-flatcar", "disk_format": "qcow2", "container_format": "bare",
             "visibility": "private", "tags": ["k8s"], "hw_qemu_guest_agent": "yes",
             "os_distro": "flatcar", "os_version": "4593.2.5", "flatcar_channel": "stable",
             "flatcar_arch": "amd64", "flatcar_version": "current", "flatcar_compression": "none",
             "flatcar_verified_fingerprint": "F88CFEDEFF29A5B4D9523864E25D9AED0593B34A",
             "hw_disk_bus": "scsi"}
    status, _, text = call("POST", glance + "/v2/images", props, token=token)
    image = json.loads(text)
    with tempfile.TemporaryDirectory() as tmp:
        disk = os.path.join(tmp, "disk.qcow2")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", disk, "16M"], check=True)
        call("PUT", f"{glance}/v2/images/{image['id']}/file", token=token,
             headers={"Content-Type": "application/octet-stream"}, data=open(disk, "rb").read())
    wait("active image", lambda: (lambda s: s if json.loads(s[2])["status"] == "active" else None)(
        call("GET", f"{glance}/v2/images/{image['id']}", token=token)))
    save("glance-image", *drop_headers(call("GET", f"{glance}/v2/images/{image['id']}", token=token)))
    call("DELETE", f"{glance}/v2/images/{image['id']}", token=token)

    # The microversion the provider sends (cloud/src/openstack/nova.rs).
    micro = {"OpenStack-API-Version": "compute 2.3", "X-OpenStack-Nova-API-Version": "2.3"}
    save("nova-flavors", *drop_headers(call("GET", nova + "/flavors/detail", token=token, headers=micro)))
    save("nova-server-missing", *drop_headers(
        call("GET", nova + "/servers/00000000-0000-0000-0000-000000000000", token=token, headers=micro)))
    flavors = json.loads(call("GET", nova + "/flavors/detail", token=token, headers=micro)[2])["flavors"]
    by_name = {f["name"]: f["id"] for f in flavors}
    # An image to boot from: any active image of the project (the local cloud uploads none).
    status, _, text = call("POST", glance + "/v2/images", {"name": "fixture-boot", "disk_format": "qcow2", "container_format": "bare"}, token=token)
    boot = json.loads(text)
    with tempfile.TemporaryDirectory() as tmp:
        disk = os.path.join(tmp, "disk.qcow2")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", disk, "16M"], check=True)
        call("PUT", f"{glance}/v2/images/{boot['id']}/file", token=token,
             headers={"Content-Type": "application/octet-stream"}, data=open(disk, "rb").read())
    network = ENV["FK_NETWORK_ID"]

    def server(name, flavor):
        body = {"server": {"name": name, "imageRef": boot["id"], "flavorRef": by_name[flavor],
                           "networks": [{"uuid": network}], "metadata": {"role": "worker"}}}
        return call("POST", nova + "/servers", body, token=token, headers=micro)

    status, _, text = server("fixture-too-large", ENV["FK_FLAVOR_HUGE"])
    save("nova-server-create", status, text)
    failed = json.loads(text)["server"]["id"]
    wait("ERROR", lambda: (lambda s: s if json.loads(s[2])["server"]["status"] == "ERROR" else None)(
        call("GET", f"{nova}/servers/{failed}", token=token, headers=micro)))
    save("nova-server-error", *drop_headers(call("GET", f"{nova}/servers/{failed}", token=token, headers=micro)))
    call("DELETE", f"{nova}/servers/{failed}", token=token, headers=micro)

    status, _, text = server("fixture-node", ENV["FK_FLAVOR_SMALL"])
    active = json.loads(text)["server"]["id"]
    wait("ACTIVE", lambda: (lambda s: s if json.loads(s[2])["server"]["status"] == "ACTIVE" else None)(
        call("GET", f"{nova}/servers/{active}", token=token, headers=micro)))
    save("nova-server-active", *drop_headers(call("GET", f"{nova}/servers/{active}", token=token, headers=micro)))
    # A launch lists the servers (leftovers of a killed create) and marks its server created.
    save("nova-servers", *drop_headers(call("GET", nova + "/servers", token=token, headers=micro)))
    save("nova-server-metadata-item", *drop_headers(call(
        "PUT", f"{nova}/servers/{active}/metadata/flatcar_kube_state",
        {"meta": {"flatcar_kube_state": "created"}}, token=token, headers=micro)))
    save("neutron-networks", *drop_headers(
        call("GET", f"{neutron}/v2.0/networks?name={ENV['FK_NETWORK_NAME']}", token=token)))
    status, _, text = call("GET", f"{neutron}/v2.0/ports?device_id={active}", token=token)
    save("neutron-ports", status, text)
    port = json.loads(text)["ports"][0]["id"]
    save("neutron-floatingips", *drop_headers(call("GET", f"{neutron}/v2.0/floatingips?port_id={port}", token=token)))
    call("DELETE", f"{nova}/servers/{active}", token=token, headers=micro)
    wait("server gone", lambda: True if call("GET", f"{nova}/servers/{active}", token=token, headers=micro)[0] == 404 else None)
    call("DELETE", f"{glance}/v2/images/{boot['id']}", token=token)


def drop_headers(answer):
    status, _, text = answer
    return status, text


if __name__ == "__main__":
    main()
