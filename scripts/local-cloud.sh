#!/usr/bin/env bash
# Real Keystone, Glance and Swift (and with --compute Placement, Nova, Neutron, Designate with
# bind9) on 127.0.0.1 for the provider's acceptance tests.
#
#   bash scripts/local-cloud.sh start   # fresh databases, waits until all answer, prints the env path
#   bash scripts/local-cloud.sh start --compute   # also Placement, Nova, Neutron, Designate (below)
#   bash scripts/local-cloud.sh stop    # stops what `start` started (pid files); idempotent
#   bash scripts/local-cloud.sh status  # what runs
#   bash scripts/local-cloud.sh env     # prints the env file path (fails when not started)
#   bash scripts/local-cloud.sh selftest  # tokens, PUT /file on :9293, stage + import on :9292, hashes,
#                                         # Swift container + S3 PUT/conditional PUT/GET/LIST/DELETE;
#                                         # after --compute: Designate A recordset create/update/
#                                         # delete, each checked with dig on named
#
# This file parses the arguments and dispatches; the work is in scripts/local-cloud/: one file
# per service (mariadb.sh, rabbitmq.sh, keystone.sh, glance.sh, swift.sh, placement.sh, nova.sh,
# neutron.sh, designate.sh with named), settings.sh (paths, ports, environment), common.sh
# (shared helpers), commands.sh (start/stop/status/env: the order of it all), selftest.sh,
# selftest_swift.py and selftest_dns.py, the Python bootstrap (bootstrap.py,
# bootstrap_compute.py, bootstrap_dns.py), gunicorn's entry modules (wsgi/) and the
# configuration templates (templates/, @NAME@ placeholders filled by `render` of common.sh).
#
# Needs the venvs of scripts/setup.d/40-openstack.sh and 41-swift.sh, and for --compute the Debian
# packages of 42-designate.sh (designate in the first venv, bind9), 45-rabbitmq.sh and
# 46-mariadb.sh (run `bash scripts/setup.sh` once).
# State lives in ${FLATCAR_KUBE_CLOUD_DIR:-$FLATCAR_KUBE_CACHE/cloud} (FLATCAR_KUBE_CACHE defaults
# to $HOME/.cache/flatcar-kube) and is wiped by every `start`.
#
# Services (gunicorn, 1 worker, 4 threads each):
#   MariaDB      127.0.0.1:13306 private server: the databases of every service below
#   Keystone     http://127.0.0.1:5000/v3  fernet tokens, region RegionOne
#   Glance       http://127.0.0.1:9292     in the catalog (service type image); import methods
#   Glance plain http://127.0.0.1:9293     NOT in the catalog; no import methods (PUT /file)
#   Swift        http://127.0.0.1:8080     proxy (eventlet, one process): Swift API
#                /v1/AUTH_<project id> (service type object-store) and the S3 API (path-style,
#                region RegionOne, EC2 credentials of Keystone); account, container and object
#                servers on :6202, :6201, :6200, one replica. local-cloud/swift.sh: Terraform's
#                s3 backend settings, what its lock file does and does not guarantee here.
# Logs: $STATE/logs/{keystone,glance,glance-plain}.log (service log and gunicorn access log), mariadb.log,
# swift-{proxy,account,container,object}.log (the proxy's includes its access log), swift-rings.log.
# FLATCAR_KUBE_CLOUD_TOKEN_EXPIRATION (seconds, default 3600) sets Keystone's token lifetime;
# FLATCAR_KUBE_CLOUD_WAIT (seconds, default 60) bounds the wait for each service at start;
# FLATCAR_KUBE_{KEYSTONE,GLANCE,GLANCE_PLAIN,MARIADB}_PORT move the ports, and
# FLATCAR_KUBE_SWIFT_PORT (proxy), FLATCAR_KUBE_SWIFT_{OBJECT,CONTAINER,ACCOUNT}_PORT Swift's.
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
#   FK_SWIFT_URL             http://127.0.0.1:8080 (the proxy's root; the catalog's object-store
#                            endpoint is FK_SWIFT_URL/v1/AUTH_<project id>)
#   FK_S3_URL                http://127.0.0.1:8080 (S3, path-style only, region RegionOne; keys: POST
#                            /v3/users/{user id}/credentials/OS-EC2 {"tenant_id": <project id>})
#   FK_ADMIN_USERNAME, FK_ADMIN_PASSWORD, FK_ADMIN_PROJECT_NAME   admin / admin / admin
#   FK_CLOUDS_YAML           $STATE/clouds.yaml, entries `demo-password` and `demo-appcred`
#   FK_STATE_DIR, FK_LOG_DIR state directory and its logs/ directory
#   FK_KEYSTONE_LOG, FK_GLANCE_LOG, FK_GLANCE_PLAIN_LOG   the three log files
#   FK_SWIFT_LOG             $STATE/logs/swift-proxy.log (the Swift proxy's log with its access log)
#
# Compute stack: `start --compute` (or FLATCAR_KUBE_CLOUD_COMPUTE=1) also starts, fresh each time,
# a private RabbitMQ node (127.0.0.1:5672, user nova), Placement :8778, Nova :8774 (API, conductor,
# scheduler and compute with fake.FakeDriver on host fk-compute: 1000 vCPU, 800000 MB, no
# overcommit) and Neutron :9696 (ML2/openvswitch, vxlan + flat, router plugin, no L3/DHCP agent;
# a fake Open vSwitch agent row for fk-compute lets ML2 bind ports) and Designate :9001 (catalog
# type dns; designate-api, -central, -worker, -producer, and -mdns on :5354 UDP+TCP) whose pool
# target is a private named (bind9): DNS on 127.0.0.1:5353 (UDP and TCP, authoritative only, no
# recursion), rndc on :9530; Designate adds zones to it with rndc addzone and named transfers
# them from designate-mdns. A recordset change is ACTIVE and answered by named within ~1-3 s
# (local-cloud/designate.sh: measurements, tuning, traps).
# Ports: FLATCAR_KUBE_{PLACEMENT,NOVA,NEUTRON,RABBIT,MARIADB}_PORT,
# FLATCAR_KUBE_{DESIGNATE,MDNS,BIND,RNDC}_PORT (Designate API, designate-mdns, named's DNS, rndc).
# Resources: flavors m1.tiny (1 vCPU, 512 MB, 1 GB) and m1.huge (1 TiB RAM: ERROR "No valid host");
# network private + subnet 10.0.0.0/24 (project demo), external network public (flat) + subnet
# 172.24.4.0/24, router1 between them (floating IPs work), SSH and ICMP ingress in demo's default
# security group; demo quotas: 100 instances, unlimited cores and RAM, 100 floating IPs.
# Zone demo.projects.fk.test. of project demo (email hostmaster@fk.test, TTL 300; like
# Jetstream2's <allocation>.projects.jetstream-cloud.org.), ACTIVE and served by named; demo
# (role member) may create, update and delete recordsets in it (Designate quotas: 10 zones, 500
# recordsets per zone).
# No key pair. Logs: nova.log (all four Nova processes), neutron.log, placement.log, rabbitmq.log,
# designate.log (all five Designate processes), named.log, *-manage.log. env.json then also holds:
#   FK_COMPUTE               1
#   FK_NOVA_URL              http://127.0.0.1:8774/v2.1
#   FK_NEUTRON_URL           http://127.0.0.1:9696
#   FK_PLACEMENT_URL         http://127.0.0.1:8778
#   FK_NETWORK_ID, FK_NETWORK_NAME   the private network (name private)
#   FK_EXTERNAL_NETWORK      public (floating IP pool)
#   FK_FLAVOR_SMALL, FK_FLAVOR_HUGE  m1.tiny, m1.huge
#   FK_NOVA_LOG, FK_NEUTRON_LOG      the two log files
#   FK_DESIGNATE_URL         http://127.0.0.1:9001 (the catalog's dns endpoint; API under /v2)
#   FK_DNS_ZONE              demo.projects.fk.test. (with the trailing dot), project demo's zone
#   FK_DNS_ZONE_ID           its Designate id (/v2/zones/{id}/recordsets)
#   FK_DNS_PORT              5353: named's DNS port on 127.0.0.1, e.g.
#                            dig +short @127.0.0.1 -p $FK_DNS_PORT name.$FK_DNS_ZONE A
#   FK_DESIGNATE_LOG         $STATE/logs/designate.log (API with its access log, central, worker,
#                            producer, mdns)
#   FK_NAMED_LOG             $STATE/logs/named.log (rndc addzone/delzone, transfers, NOTIFYs)
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

pieces=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")/local-cloud" && pwd)
# shellcheck source=local-cloud/settings.sh
. "$pieces/settings.sh"
# shellcheck source=local-cloud/common.sh
. "$pieces/common.sh"
# shellcheck source=local-cloud/mariadb.sh
. "$pieces/mariadb.sh"
# shellcheck source=local-cloud/rabbitmq.sh
. "$pieces/rabbitmq.sh"
# shellcheck source=local-cloud/keystone.sh
. "$pieces/keystone.sh"
# shellcheck source=local-cloud/glance.sh
. "$pieces/glance.sh"
# shellcheck source=local-cloud/swift.sh
. "$pieces/swift.sh"
# shellcheck source=local-cloud/placement.sh
. "$pieces/placement.sh"
# shellcheck source=local-cloud/nova.sh
. "$pieces/nova.sh"
# shellcheck source=local-cloud/neutron.sh
. "$pieces/neutron.sh"
# shellcheck source=local-cloud/designate.sh
. "$pieces/designate.sh"
# shellcheck source=local-cloud/commands.sh
. "$pieces/commands.sh"
# shellcheck source=local-cloud/selftest.sh
. "$pieces/selftest.sh"

for arg in "${@:2}"; do
  case $arg in
    --compute) compute=1 ;;
    *) die "unknown option $arg" ;;
  esac
done

case ${1:-} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  selftest) cmd_selftest ;;
  *)
    echo "usage: $0 start [--compute]|stop|status|env|selftest" >&2
    exit 2
    ;;
esac
