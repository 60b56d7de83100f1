"""What the compute and DNS bootstraps of the local cloud share (bootstrap_compute.py,
bootstrap_dns.py): the cloud's state directory and env.json (FK_STATE), the deadline (FK_WAIT
seconds), a JSON call to an OpenStack API, a Keystone token with the catalog, waiting for a
condition, and adding keys to env and env.json under the lock both bootstraps take."""
import fcntl
import json
import os
import time
import urllib.error
import urllib.request

STATE = os.environ["FK_STATE"]
env = json.load(open(os.path.join(STATE, "env.json")))
KS = env["OS_AUTH_URL"]
DEADLINE = time.monotonic() + int(os.environ["FK_WAIT"])


def call(method, url, body=None, token=None, expect=(200, 201, 202, 204), headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    req.add_header("Accept", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
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
    """A project-scoped token of a password user: (token, project id, public catalog)."""
    body = {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
    hdrs, rsp = call("POST", KS + "/auth/tokens", body)
    catalog = {s["type"]: next(e["url"] for e in s["endpoints"] if e["interface"] == "public")
               for s in rsp["token"]["catalog"]}
    return hdrs["X-Subject-Token"], rsp["token"]["project"]["id"], catalog


def wait_for(what, check, every=0.5):
    """check()'s first truthy answer, asked every `every` seconds until the deadline."""
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > DEADLINE:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(every)


def _write(name, text):
    path = os.path.join(STATE, name)
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.chmod(path + ".tmp", 0o600)
    os.replace(path + ".tmp", path)


def _sh_quote(v):
    return "'" + v.replace("'", "'\\''") + "'"


def add_to_env(keys):
    """Adds `keys` to env.json and env (an openrc), read again under the lock: the other
    bootstrap adds its keys at the same time."""
    with open(os.path.join(STATE, "env.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = json.load(open(os.path.join(STATE, "env.json")))
        current.update(keys)
        _write("env.json", json.dumps(current, indent=2) + "\n")
        _write("env", "".join(f"export {k}={_sh_quote(v)}\n" for k, v in current.items()))
