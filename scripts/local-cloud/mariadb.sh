# shellcheck shell=bash
# MariaDB: the private server (127.0.0.1:13306; data, socket and pid under $state/mariadb; the
# Debian package of setup.d/46-mariadb.sh) that holds the databases of every service, and the
# URL and client to reach it. sqlite was dropped: Glance answered 500 "database is locked" under
# parallel uploads, and so did Nova and Placement with 10 servers created at once.
# shellcheck source-path=SCRIPTDIR source=settings.sh
[ -n "${local_cloud_settings:-}" ] || . "$(dirname -- "${BASH_SOURCE[0]}")/settings.sh"

# db_url DATABASE: the SQLAlchemy URL of a database for the services' configuration.
db_url() { echo "mysql+pymysql://fk:fk-secret@127.0.0.1:$mariadb_port/$1?charset=utf8"; }
mariadb_cli() { mariadb --no-defaults --socket="$state/mariadb/mysqld.sock" -uroot "$@"; }

# Private MariaDB: own data dir, socket and port; fast, non-durable settings (state is thrown away).
# Creates every service's database and the user fk.
start_mariadb() {
  local d="$state/mariadb" deadline
  command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || die "mariadbd missing: run 'bash scripts/setup.sh' (setup.d/46-mariadb.sh)"
  mkdir -p "$d/data" "$d/tmp"
  mariadb-install-db --no-defaults --datadir="$d/data" --user="$(id -un)" --skip-test-db \
    --auth-root-authentication-method=socket >>"$logs/mariadb.log" 2>&1 ||
    die "mariadb-install-db failed; see $logs/mariadb.log"
  start_daemon mariadb /usr/sbin/mariadbd --no-defaults --datadir="$d/data" --tmpdir="$d/tmp" \
    --socket="$d/mysqld.sock" --pid-file="$d/mysqld.pid" --port="$mariadb_port" \
    --bind-address=127.0.0.1 --user="$(id -un)" --skip-name-resolve --max-connections=1000 \
    --character-set-server=utf8 --collation-server=utf8_general_ci \
    --innodb-buffer-pool-size=128M --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 \
    --sync-frm=0 --skip-log-bin --log-error="$logs/mariadb.log"
  deadline=$((SECONDS + wait_seconds))
  until mariadb-admin --no-defaults --socket="$d/mysqld.sock" -uroot ping >/dev/null 2>&1; do
    pid_alive mariadb || die "mariadbd exited during start-up; see $logs/mariadb.log"
    [ $SECONDS -lt $deadline ] || die "mariadbd not ready within ${wait_seconds}s; see $logs/mariadb.log"
    sleep 0.2
  done
  mariadb_cli -e "
    CREATE DATABASE keystone; CREATE DATABASE glance; CREATE DATABASE glance_plain;
    CREATE DATABASE placement; CREATE DATABASE nova_api; CREATE DATABASE nova_cell0;
    CREATE DATABASE nova; CREATE DATABASE neutron; CREATE DATABASE designate;
    CREATE USER 'fk'@'127.0.0.1' IDENTIFIED BY 'fk-secret';
    GRANT ALL PRIVILEGES ON *.* TO 'fk'@'127.0.0.1';" || die "creating the MariaDB databases failed"
}
