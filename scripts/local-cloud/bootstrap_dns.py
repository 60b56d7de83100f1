"""DNS bootstrap of the local cloud (run by scripts/local-cloud/commands.sh once Designate answers
and its pool is loaded): creates the zone of project demo (FK_DNS_ZONE, as user demo, the way
Jetstream2 gives each allocation <allocation>.projects.jetstream-cloud.org.), waits until it is
ACTIVE in Designate and named answers its SOA (dig), then adds the Designate keys to env and
env.json in FK_STATE (under a lock: bootstrap_compute.py may write them at the same time).
Inputs: FK_STATE, FK_WAIT, FK_DNS_ZONE, FK_DNS_PORT, FK_DESIGNATE_LOG, FK_NAMED_LOG."""
import fcntl
import json
import os
import subprocess
import time
import urllib.error
import urllib.request

STATE = os.environ["FK_STATE"]
ZONE = os.environ["FK_DNS_ZONE"]
DNS_PORT = os.environ["FK_DNS_PORT"]
env = json.load(open(os.path.join(STATE, "env.json")))
KS = env["OS_AUTH_URL"]
DEADLINE = time.monotonic() + int(os.environ["FK_WAIT"])
t0 = time.monotonic()


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
        raise SystemExit(f"{method} {url}: {status} {raw[:500]!r}")
    return hdrs, (json.loads(raw) if raw.strip() else None)


def token(user, password, project):
    body = {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
    hdrs, rsp = call("POST", KS + "/auth/tokens", body)
    catalog = {s["type"]: next(e["url"] for e in s["endpoints"] if e["interface"] == "public")
               for s in rsp["token"]["catalog"]}
    return hdrs["X-Subject-Token"], catalog


def wait_for(what, check):
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > DEADLINE:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.2)


demo, cat = token("demo", "demo-secret", "demo")
DESIGNATE = cat["dns"]
_, zone = call("POST", DESIGNATE + "/v2/zones",
               {"name": ZONE, "email": "hostmaster@fk.test", "ttl": 300,
                "description": "zone of project demo"}, token=demo)
zone_id = zone["id"]


def zone_status():
    _, z = call("GET", f"{DESIGNATE}/v2/zones/{zone_id}", token=demo)
    if z["status"] == "ERROR":
        raise SystemExit(f"zone {ZONE} went to ERROR: {z}")
    return z["status"] == "ACTIVE"


wait_for(f"zone {ZONE} ACTIVE", zone_status)
t_active = time.monotonic()


def soa():
    out = subprocess.run(["dig", "+short", "+norecurse", "+time=1", "+tries=1", "@127.0.0.1",
                          "-p", DNS_PORT, ZONE, "SOA"], capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else ""


answer = wait_for(f"named answering the SOA of {ZONE}", soa)
print(f"zone {ZONE} {zone_id}: ACTIVE after {t_active - t0:.1f} s, SOA from named after "
      f"{time.monotonic() - t0:.1f} s: {answer}")

keys = {
    "FK_DESIGNATE_URL": DESIGNATE,
    "FK_DNS_ZONE": ZONE,
    "FK_DNS_ZONE_ID": zone_id,
    "FK_DNS_PORT": DNS_PORT,
    "FK_DESIGNATE_LOG": os.environ["FK_DESIGNATE_LOG"],
    "FK_NAMED_LOG": os.environ["FK_NAMED_LOG"],
}


def write(name, text):
    path = os.path.join(STATE, name)
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.chmod(path + ".tmp", 0o600)
    os.replace(path + ".tmp", path)


def sh_quote(v):
    return "'" + v.replace("'", "'\\''") + "'"


with open(os.path.join(STATE, "env.lock"), "w") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    env = json.load(open(os.path.join(STATE, "env.json")))
    env.update(keys)
    write("env.json", json.dumps(env, indent=2) + "\n")
    write("env", "".join(f"export {k}={sh_quote(v)}\n" for k, v in env.items()))
print("dns bootstrap done", zone_id)
