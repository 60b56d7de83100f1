"""DNS bootstrap of the local cloud (run by scripts/local-cloud/commands.sh once Designate answers
and its pool is loaded): creates the zone of project demo (FK_DNS_ZONE, as user demo, the way
Jetstream2 gives each allocation <allocation>.projects.jetstream-cloud.org.), waits until it is
ACTIVE in Designate and named answers its SOA (dig), then adds the Designate keys to env and
env.json in FK_STATE (under a lock: bootstrap_compute.py may write them at the same time).
Inputs: FK_STATE, FK_WAIT, FK_DNS_ZONE, FK_DNS_PORT, FK_DESIGNATE_LOG, FK_NAMED_LOG."""
import os
import subprocess
import time

from bootstrap_common import add_to_env, call, token, wait_for

ZONE = os.environ["FK_DNS_ZONE"]
DNS_PORT = os.environ["FK_DNS_PORT"]
t0 = time.monotonic()


demo, _, cat = token("demo", "demo-secret", "demo")
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


wait_for(f"zone {ZONE} ACTIVE", zone_status, every=0.2)
t_active = time.monotonic()


def soa():
    out = subprocess.run(["dig", "+short", "+norecurse", "+time=1", "+tries=1", "@127.0.0.1",
                          "-p", DNS_PORT, ZONE, "SOA"], capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else ""


answer = wait_for(f"named answering the SOA of {ZONE}", soa, every=0.2)
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


add_to_env(keys)
print("dns bootstrap done", zone_id)
