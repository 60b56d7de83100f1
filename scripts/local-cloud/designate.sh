# shellcheck shell=bash
# Designate (start --compute): DNS as a service on http://127.0.0.1:9001 (catalog type dns) with a
# private named (bind9 from Debian, setup.d/42-designate.sh) as the pool's only target.
#   designate-api       :9001  gunicorn, designate.wsgi.api (v2 API; admin API with quotas)
#   designate-central          RPC (the compute stack's RabbitMQ), the database `designate`
#   designate-worker           rndc addzone/delzone on named, NOTIFY, serial polling
#   designate-producer         periodic tasks: increment_serial and delayed_notify every 1 s
#   designate-mdns      :5354  answers named's AXFR/IXFR and SOA queries (UDP and TCP)
#   named               :5353  DNS (UDP and TCP, 127.0.0.1 only, no recursion), rndc on :9530
#                              with a key generated each start; config, zones and pid file in
#                              $state/named
# Pool: designate-manage pool update of templates/designate-pools.yaml (the default pool: NS
# ns1.fk.test., nameserver and bind9 target 127.0.0.1:5353, master 127.0.0.1:5354).
# Logs: logs/designate.log (all five processes, and designate-manage.log), logs/named.log.
# Ports: FLATCAR_KUBE_DESIGNATE_PORT, FLATCAR_KUBE_MDNS_PORT, FLATCAR_KUBE_BIND_PORT,
# FLATCAR_KUBE_RNDC_PORT.
# Bootstrap (bootstrap_dns.py): zone demo.projects.fk.test. of project demo, ACTIVE and
# answered by named (SOA), like Jetstream2 gives each allocation
# <allocation>.projects.jetstream-cloud.org.
#
# Measured here (designate 23.0.0, bind9 9.18.49, 2 cores; selftest_dns.py, 4 runs), with the
# tuning of templates/designate.conf (increment_serial every 1 s, worker poll_delay 1 s):
#   create A recordset (API 201/202) -> answered by dig 0.5-1.3 s -> ACTIVE in the API 1.5-2.3 s
#   update (PUT records)             -> new address in dig 0.8-1.1 s -> ACTIVE 1.8-2.1 s
#   delete                           -> GET of the recordset 404 after 0.1 s (at once: it is
#                                       marked deleted), NXDOMAIN in dig 0.9-1.1 s, zone ACTIVE
#                                       again 1.9-2.1 s
#   zone create (bootstrap)          -> ACTIVE and SOA from named 2.2-2.4 s
#   So: wait for the recordset's ACTIVE (it implies named has the change), or for dig; after a
#   delete wait for dig or for the zone's ACTIVE, not for the 404.
# Start: Designate's schema syncs beside the compute schemas, its processes start with Nova's,
# and pool update + zone run beside bootstrap_compute.py: `start --compute` took 68-86 s (4 runs)
# against 69-80 s without Designate (2 runs) on this shared, busy 2-core machine: within the noise,
# a few seconds of CPU at most (RAM not measured: five more Python processes and named).
# With Designate's defaults (increment_serial every 5 s, poll_delay 5 s, poll_retry_interval
# 15 s) each change takes ~5-10 s and more.
#
# Traps (met here):
# - Designate's services run with `workers` = the CPU count by default: workers = 1 each.
# - The bind9 backend runs rndc "as root" through `sudo designate-rootwrap ...` (root_helper)
#   when the service is not root: root_helper = env makes it a plain call.
# - An RPC call sent before the receiver's queue exists is dropped by RabbitMQ and the caller
#   waits for rpc_response_timeout (60 s by default). The producer's periodic tasks call central
#   from their first second: started together with central (whose imports are slower), they
#   hung 60 s, and every recordset change in that minute stayed PENDING. So the producer starts
#   only once central has recorded its own heartbeat (service_statuses), and
#   rpc_response_timeout = 20 bounds such a wait. designate-manage pool update calls central too. The default pool (id 794ccc2c-...) exists after
#   the schema sync; the YAML updates it by name.
# - Defaults make every change take 5-20 s and more: the producer bumps the serial of a changed
#   zone every 5 s (increment_serial), the worker waits poll_delay = 5 s before asking named for
#   the serial and poll_retry_interval = 15 s between asks. Tuned to 1 s / 1 s / 1 s.
# - poll_delay = 0 breaks recordsets: the producer's increment_serial task passes the worker the
#   zone object it read BEFORE the increment (central increments it over RPC), so the worker
#   polls for the old serial; polled at once after its NOTIFY, named still has the old serial
#   (the transfer takes ~15 ms), the worker reports success at that serial and the new records
#   stay PENDING (the zone too) until the worker's periodic recovery much later. With 1 s named
#   has transferred and the worker reports the serial it found.
# - Pool target options reach the bind9 backend as strings: rndc_timeout: 10 makes every rndc
#   call fail ("unsupported operand type(s) for +: 'float' and 'str'"), zone ERROR. Left out.
# - designate-api: designate.wsgi.api reads OS_DESIGNATE_CONFIG_DIR (api-paste.ini and
#   designate.conf there) and parses an empty argv itself, so gunicorn's argv does no harm;
#   the entry module resets it anyway like the others'.
# - After a recordset DELETE the API answers 404 for it at once, while named still answers the
#   name for ~1 s (see above).
# - No coordination backend (tooz): the producer and central warn "No coordination backend
#   configured" at start; with one producer that is fine.
# shellcheck source-path=SCRIPTDIR source=settings.sh
[ -n "${local_cloud_settings:-}" ] || . "$(dirname -- "${BASH_SOURCE[0]}")/settings.sh"

# Designate's configuration, api-paste.ini, pools.yaml; named's configuration and rndc key.
write_designate_conf() {
  local d="$state/designate" n="$state/named" secret
  mkdir -p "$d/locks" "$n"
  cp "$venv/etc/designate/api-paste.ini" "$d/api-paste.ini"
  render designate.conf "$d/designate.conf" \
    "DESIGNATE_DIR=$d" \
    "TRANSPORT_URL=$(rabbit_url)" \
    "DATABASE_URL=$(db_url designate)" \
    "KEYSTONE_URL=$keystone_url" \
    "API_PORT=$designate_port" \
    "MDNS_PORT=$mdns_port"
  render designate-pools.yaml "$d/pools.yaml" \
    "DNS_PORT=$bind_port" \
    "MDNS_PORT=$mdns_port" \
    "RNDC_PORT=$rndc_port" \
    "RNDC_CONF=$n/rndc.conf"
  # A fresh rndc key each start (the state is fresh too).
  secret=$(head -c 32 /dev/urandom | base64)
  render named.conf "$n/named.conf" \
    "NAMED_DIR=$n" \
    "DNS_PORT=$bind_port" \
    "RNDC_PORT=$rndc_port" \
    "RNDC_SECRET=$secret"
  render rndc.conf "$n/rndc.conf" "RNDC_PORT=$rndc_port" "RNDC_SECRET=$secret"
  chmod 600 "$n/named.conf" "$n/rndc.conf"
  install_wsgi designate
}

designate_db_sync() {
  "$venv/bin/designate-manage" --config-file "$state/designate/designate.conf" database sync \
    >>"$logs/designate-manage.log" 2>&1
}

# named in the foreground (-g: its log to stderr, that is logs/named.log), own configuration.
start_named() {
  [ -x /usr/sbin/named ] || die "named missing: run 'bash scripts/setup.sh' (setup.d/42-designate.sh)"
  start_daemon named /usr/sbin/named -g -c "$state/named/named.conf"
}

# designate-central, -worker, -mdns and the API; does not wait for them. The producer comes
# later (wait_designate), once central listens.
start_designate() {
  local s
  for s in designate-central designate-worker designate-mdns; do
    start_daemon "$s" "$venv/bin/$s" --config-file "$state/designate/designate.conf"
  done
  start_gunicorn designate-api "$designate_port" fk_designate_wsgi:application \
    "OS_DESIGNATE_CONFIG_DIR=$state/designate"
}

# Waits for named (rndc status), mdns, the API, and central and worker listening on the bus;
# then starts the producer and loads the pool (through central).
wait_designate() {
  local deadline=$((SECONDS + wait_seconds)) s up
  wait_tcp named "$bind_port"
  until /usr/sbin/rndc -c "$state/named/rndc.conf" status >/dev/null 2>&1; do
    pid_alive named || die "named exited during start-up; see $logs/named.log"
    [ $SECONDS -lt $deadline ] || die "rndc status failed for ${wait_seconds}s; see $logs/named.log"
    sleep 0.2
  done
  wait_tcp designate-mdns "$mdns_port"
  wait_http designate-api "http://127.0.0.1:$designate_port/"
  # A service sends its first heartbeat to central once its own RPC server listens, and central
  # records it once it listens too: a row for central and one for worker mean both take calls.
  # (A call or cast sent before the receiver's queue exists is dropped: pool update would wait
  # for its RPC timeout, the zone would stay PENDING until the worker's periodic recovery.)
  while :; do
    up=$(mariadb_cli -N -e "SELECT service_name FROM designate.service_statuses" 2>/dev/null || true)
    [[ $'\n'$up$'\n' == *$'\n'central$'\n'* && $'\n'$up$'\n' == *$'\n'worker$'\n'* ]] && break
    for s in designate-central designate-worker; do
      pid_alive "$s" || { tail -n 30 "$(log_of "$s")" >&2; die "$s exited during start-up; see $(log_of "$s")"; }
    done
    [ $SECONDS -lt $deadline ] || die "designate-central and -worker did not report within ${wait_seconds}s; see $logs/designate.log"
    sleep 0.2
  done
  start_daemon designate-producer "$venv/bin/designate-producer" --config-file "$state/designate/designate.conf"
  "$venv/bin/designate-manage" --config-file "$state/designate/designate.conf" \
    pool update --file "$state/designate/pools.yaml" >>"$logs/designate-manage.log" 2>&1 ||
    die "designate-manage pool update failed; see $logs/designate-manage.log and $logs/designate.log"
}

# The zone of project demo, ACTIVE in Designate and answered by named; adds the Designate keys
# to env and env.json.
bootstrap_dns() {
  FK_STATE="$state" FK_WAIT="$wait_seconds" FK_DNS_ZONE="$dns_zone" FK_DNS_PORT="$bind_port" \
    FK_DESIGNATE_LOG="$(log_of designate-api)" FK_NAMED_LOG="$(log_of named)" \
    "$venv/bin/python" "$local_cloud_dir/bootstrap_dns.py" </dev/null \
    >>"$logs/bootstrap.log" 2>&1 || die "creating the DNS zone failed; see $logs/bootstrap.log"
}
