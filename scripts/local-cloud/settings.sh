# shellcheck shell=bash
# Settings of the local cloud: where its files live, its ports, its service lists and the
# environment variables that change them. Only assignments: sourced first, by every piece.
# The other pieces read these, which shellcheck cannot see from this file alone:
# shellcheck disable=SC2034

# Guard of the other pieces: they source this file only when it has not been sourced yet
# (so `start --compute` is not reset by a second sourcing after argument parsing).
local_cloud_settings=1
# This folder: pieces, Python scripts (*.py, wsgi/) and configuration templates (templates/).
local_cloud_dir=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
templates="$local_cloud_dir/templates"

cache=${FLATCAR_KUBE_CACHE:-$HOME/.cache/flatcar-kube}
venv="$cache/openstack-venv"
# Swift's own venv (scripts/setup.d/41-swift.sh).
swift_venv="$cache/swift-venv"
state=${FLATCAR_KUBE_CLOUD_DIR:-$cache/cloud}
logs="$state/logs"
run="$state/run"
# In stop order: the database last (compute services stop before these).
services=(keystone glance glance-plain swift-proxy swift-object swift-container swift-account mariadb)
# The compute stack (start --compute), in stop order: API users first, the bus last.
# Designate and its named go before Nova (they need the bus, not Nova).
compute_services=(designate-api designate-producer designate-worker designate-mdns designate-central named
  nova-compute nova-scheduler nova-conductor nova-api neutron placement rabbitmq epmd)
wait_seconds=${FLATCAR_KUBE_CLOUD_WAIT:-60}
# Ports (defaults 5000, 9292, 9293, 13306, Swift 8080, 6200-6202); another set lets a second cloud run beside the first
# (with its own FLATCAR_KUBE_CLOUD_DIR).
keystone_port=${FLATCAR_KUBE_KEYSTONE_PORT:-5000}
glance_port=${FLATCAR_KUBE_GLANCE_PORT:-9292}
glance_plain_port=${FLATCAR_KUBE_GLANCE_PLAIN_PORT:-9293}
mariadb_port=${FLATCAR_KUBE_MARIADB_PORT:-13306}
swift_port=${FLATCAR_KUBE_SWIFT_PORT:-8080}
swift_object_port=${FLATCAR_KUBE_SWIFT_OBJECT_PORT:-6200}
swift_container_port=${FLATCAR_KUBE_SWIFT_CONTAINER_PORT:-6201}
swift_account_port=${FLATCAR_KUBE_SWIFT_ACCOUNT_PORT:-6202}
keystone_url="http://127.0.0.1:$keystone_port/v3"
# Compute stack ports (start --compute).
placement_port=${FLATCAR_KUBE_PLACEMENT_PORT:-8778}
nova_port=${FLATCAR_KUBE_NOVA_PORT:-8774}
neutron_port=${FLATCAR_KUBE_NEUTRON_PORT:-9696}
rabbit_port=${FLATCAR_KUBE_RABBIT_PORT:-5672}
# Designate (start --compute): its API, designate-mdns (zone transfers to named) and the private
# named (bind9): DNS on 127.0.0.1:bind_port (UDP and TCP), its rndc control channel on rndc_port.
designate_port=${FLATCAR_KUBE_DESIGNATE_PORT:-9001}
mdns_port=${FLATCAR_KUBE_MDNS_PORT:-5354}
bind_port=${FLATCAR_KUBE_BIND_PORT:-5353}
rndc_port=${FLATCAR_KUBE_RNDC_PORT:-9530}
# The zone of project demo (one per project, like Jetstream2's <allocation>.projects.jetstream-cloud.org.).
dns_zone=demo.projects.fk.test.
# 1: also the compute stack (set by `start --compute` too).
compute=${FLATCAR_KUBE_CLOUD_COMPUTE:-0}
# The Nova host name of the fake compute node (also the host of the fake Open vSwitch agent).
compute_host=fk-compute
# Keystone token lifetime in seconds; a test of re-authentication may shorten it.
token_expiration=${FLATCAR_KUBE_CLOUD_TOKEN_EXPIRATION:-3600}
