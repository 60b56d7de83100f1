"""Compute bootstrap of the local cloud (run by scripts/local-cloud/commands.sh once Placement,
Nova and Neutron answer): waits for the compute node, maps it into cell1, waits for the Nova
services; then flavors, quotas, networks, router and security group rules; adds the compute keys
to env and env.json in FK_STATE (under a lock: bootstrap_dns.py may write them at the same time). Inputs: FK_STATE, FK_NOVA_MANAGE, FK_NOVA_CONF, FK_WAIT."""
import os
import subprocess

from bootstrap_common import STATE, add_to_env, call, token, wait_for



admin, _, cat = token("admin", "admin", "admin")
demo, demo_project, _ = token("demo", "demo-secret", "demo")
NOVA, NEUTRON, PLACEMENT = cat["compute"], cat["network"], cat["placement"]


# The fake compute node reports its resource provider to Placement.
wait_for("the compute node in Placement", lambda: call(
    "GET", PLACEMENT + "/resource_providers", token=admin)[1]["resource_providers"])
out = subprocess.run([os.environ["FK_NOVA_MANAGE"], "--config-file", os.environ["FK_NOVA_CONF"],
                      "cell_v2", "discover_hosts", "--verbose"],
                     capture_output=True, text=True, check=True)
print(out.stdout, out.stderr)
wait_for("nova-compute, nova-scheduler and nova-conductor up", lambda: {
    s["binary"] for s in call("GET", NOVA + "/os-services", token=admin)[1]["services"]
    if s["state"] == "up"} >= {"nova-compute", "nova-scheduler", "nova-conductor"})
wait_for("the hypervisor", lambda: call(
    "GET", NOVA + "/os-hypervisors", token=admin)[1]["hypervisors"])

for fid, name, vcpus, ram, disk in (("1", "m1.tiny", 1, 512, 1),
                                    # More RAM than the fake host (800000 MB): NoValidHost.
                                    ("99", "m1.huge", 1, 1048576, 1)):
    call("POST", NOVA + "/flavors", {"flavor": {"id": fid, "name": name, "vcpus": vcpus,
                                                "ram": ram, "disk": disk}}, token=admin)
# Room for the benchmark's 30 servers; m1.huge must reach the scheduler (not a quota 403).
call("PUT", f"{NOVA}/os-quota-sets/{demo_project}",
     {"quota_set": {"instances": 100, "cores": -1, "ram": -1}}, token=admin)
call("PUT", f"{NEUTRON}/v2.0/quotas/{demo_project}",
     {"quota": {"floatingip": 100, "port": 1000}}, token=admin)

_, rsp = call("POST", NEUTRON + "/v2.0/networks", {"network": {
    "name": "public", "router:external": True, "provider:network_type": "flat",
    "provider:physical_network": "public"}}, token=admin)
public = rsp["network"]["id"]
call("POST", NEUTRON + "/v2.0/subnets", {"subnet": {
    "name": "public-subnet", "network_id": public, "ip_version": 4, "cidr": "172.24.4.0/24",
    "gateway_ip": "172.24.4.1", "enable_dhcp": False,
    "allocation_pools": [{"start": "172.24.4.10", "end": "172.24.4.250"}]}}, token=admin)

_, rsp = call("POST", NEUTRON + "/v2.0/networks", {"network": {"name": "private"}}, token=demo)
private = rsp["network"]["id"]
_, rsp = call("POST", NEUTRON + "/v2.0/subnets", {"subnet": {
    "name": "private-subnet", "network_id": private, "ip_version": 4, "cidr": "10.0.0.0/24",
    "gateway_ip": "10.0.0.1"}}, token=demo)
private_subnet = rsp["subnet"]["id"]
_, rsp = call("POST", NEUTRON + "/v2.0/routers", {"router": {
    "name": "router1", "external_gateway_info": {"network_id": public}}}, token=demo)
router = rsp["router"]["id"]
call("PUT", f"{NEUTRON}/v2.0/routers/{router}/add_router_interface",
     {"subnet_id": private_subnet}, token=demo)

# Listing as demo creates the project's default security group; add SSH and ICMP ingress.
_, rsp = call("GET", NEUTRON + "/v2.0/security-groups?name=default", token=demo)
default_sg = rsp["security_groups"][0]["id"]
for rule in ({"protocol": "tcp", "port_range_min": 22, "port_range_max": 22},
             {"protocol": "icmp"}):
    call("POST", NEUTRON + "/v2.0/security-group-rules", {"security_group_rule": dict(
        rule, direction="ingress", ethertype="IPv4", remote_ip_prefix="0.0.0.0/0",
        security_group_id=default_sg)}, token=demo)

keys = {
    "FK_COMPUTE": "1",
    "FK_NOVA_URL": NOVA,
    "FK_NEUTRON_URL": NEUTRON,
    "FK_PLACEMENT_URL": PLACEMENT,
    "FK_NETWORK_ID": private,
    "FK_NETWORK_NAME": "private",
    "FK_EXTERNAL_NETWORK": "public",
    "FK_FLAVOR_SMALL": "m1.tiny",
    "FK_FLAVOR_HUGE": "m1.huge",
    "FK_NOVA_LOG": f"{STATE}/logs/nova.log",
    "FK_NEUTRON_LOG": f"{STATE}/logs/neutron.log",
}


add_to_env(keys)
print("compute bootstrap done", private)
