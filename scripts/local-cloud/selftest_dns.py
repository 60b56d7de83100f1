"""Designate part of the local cloud's selftest (scripts/local-cloud/selftest.sh, after
`start --compute`): as user demo, an A recordset selftest.<FK_DNS_ZONE> -> 203.0.113.10 (TTL 60)
through the Designate v2 API; waits for ACTIVE and for named to answer it (dig), updates it to
203.0.113.11 and waits for dig to follow, deletes it and waits for NXDOMAIN. Prints how long
each step took. Reads the env.json of FK_STATE."""
import json
import os
import subprocess
import time
import urllib.error
import urllib.request

env = json.load(open(os.path.join(os.environ["FK_STATE"], "env.json")))
DESIGNATE = env["FK_DESIGNATE_URL"]
ZONE, ZONE_ID, PORT = env["FK_DNS_ZONE"], env["FK_DNS_ZONE_ID"], env["FK_DNS_PORT"]
NAME = "selftest." + ZONE
TIMEOUT = 60


def call(method, url, body=None, token=None, expect=(200, 201, 202, 204)):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    req.add_header("Accept", "application/json")
    if token:
        req.add_header("X-Auth-Token", token)
    try:
        with urllib.request.urlopen(req, timeout=60) as rsp:
            raw, status, hdrs = rsp.read(), rsp.status, rsp.headers
    except urllib.error.HTTPError as e:
        raw, status, hdrs = e.read(), e.code, e.headers
    if status not in expect:
        raise SystemExit(f"selftest: {method} {url}: {status} {raw[:500]!r}")
    return status, hdrs, (json.loads(raw) if raw.strip() else None)


body = {"auth": {
    "identity": {"methods": ["password"], "password": {"user": {
        "name": env["OS_USERNAME"], "domain": {"name": env["OS_USER_DOMAIN_NAME"]},
        "password": env["OS_PASSWORD"]}}},
    "scope": {"project": {"name": env["OS_PROJECT_NAME"],
                          "domain": {"name": env["OS_PROJECT_DOMAIN_NAME"]}}}}}
_, hdrs, _ = call("POST", env["OS_AUTH_URL"] + "/auth/tokens", body)
token = hdrs["X-Subject-Token"]
RS = f"{DESIGNATE}/v2/zones/{ZONE_ID}/recordsets"


def wait_for(what, check, start):
    while True:
        got = check()
        if got:
            return time.monotonic() - start
        if time.monotonic() - start > TIMEOUT:
            raise SystemExit(f"selftest: timed out after {TIMEOUT} s waiting for {what}")
        time.sleep(0.1)


def wait_both(what_api, api, what_dns, dns, start):
    """Polls the API and named together; seconds until each was first seen as wanted."""
    seen = {}
    while len(seen) < 2:
        for key, check in (("api", api), ("dns", dns)):
            if key not in seen and check():
                seen[key] = time.monotonic() - start
        if time.monotonic() - start > TIMEOUT:
            missing = [w for k, w in (("api", what_api), ("dns", what_dns)) if k not in seen]
            raise SystemExit(f"selftest: timed out after {TIMEOUT} s waiting for {missing}")
        time.sleep(0.05)
    return seen["api"], seen["dns"]


def dig():
    """(status, answers) of named for NAME A."""
    out = subprocess.run(["dig", "+norecurse", "+time=1", "+tries=1", "+noall", "+comments",
                          "+answer", "@127.0.0.1", "-p", PORT, NAME, "A"],
                         capture_output=True, text=True)
    status = ""
    for line in out.stdout.splitlines():
        if "status:" in line:
            status = line.split("status:")[1].split(",")[0].strip()
    answers = sorted(line.split()[-1] for line in out.stdout.splitlines()
                     if line and not line.startswith(";") and line.split()[3:4] == ["A"])
    return status, answers


def rs_status(rid):
    status, _, rs = call("GET", f"{RS}/{rid}", token=token, expect=(200, 404))
    if status == 404:
        return "GONE"
    if rs["status"] == "ERROR":
        raise SystemExit(f"selftest: recordset {NAME} went to ERROR: {rs}")
    return rs["status"]


# A recordset left by an interrupted selftest.
_, _, old = call("GET", f"{RS}?name={NAME}&type=A", token=token)
for rs in old["recordsets"]:
    call("DELETE", f"{RS}/{rs['id']}", token=token)
    wait_for("the old selftest recordset gone", lambda: rs_status(rs["id"]) == "GONE",
             time.monotonic())

def zone_active():
    _, _, z = call("GET", f"{DESIGNATE}/v2/zones/{ZONE_ID}", token=token)
    return z["status"] == "ACTIVE"


t = time.monotonic()
_, _, rs = call("POST", RS, {"name": NAME, "type": "A", "ttl": 60, "records": ["203.0.113.10"]},
                token=token)
rid = rs["id"]
active, seen = wait_both(f"{NAME} ACTIVE", lambda: rs_status(rid) == "ACTIVE",
                         f"dig {NAME} = 203.0.113.10",
                         lambda: dig() == ("NOERROR", ["203.0.113.10"]), t)
print(f"selftest: Designate: create {NAME} A 203.0.113.10: in dig after {seen:.1f} s, "
      f"ACTIVE after {active:.1f} s")

t = time.monotonic()
call("PUT", f"{RS}/{rid}", {"records": ["203.0.113.11"]}, token=token)
active, seen = wait_both(f"{NAME} ACTIVE after the update", lambda: rs_status(rid) == "ACTIVE",
                         f"dig {NAME} = 203.0.113.11",
                         lambda: dig() == ("NOERROR", ["203.0.113.11"]), t)
print(f"selftest: Designate: update to 203.0.113.11: in dig after {seen:.1f} s, "
      f"ACTIVE after {active:.1f} s")

t = time.monotonic()
call("DELETE", f"{RS}/{rid}", token=token)
gone = wait_for(f"{NAME} gone from the API", lambda: rs_status(rid) == "GONE", t)
active, seen = wait_both(f"zone {ZONE} ACTIVE after the delete", zone_active,
                         f"dig {NAME} NXDOMAIN", lambda: dig() == ("NXDOMAIN", []), t)
print(f"selftest: Designate: delete: gone from the API after {gone:.1f} s, NXDOMAIN in dig "
      f"after {seen:.1f} s, zone ACTIVE again after {active:.1f} s")
