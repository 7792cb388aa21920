#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer on loopback, starting or installing them if not, and
# prints the `export` lines the test run needs (stdout); progress goes to stderr.
#
# PostgreSQL, in order: $DATABASE_URL if it already answers; the machine's server on
# 127.0.0.1:5432 with trust auth; that server after starting its Debian cluster; otherwise a
# private throwaway cluster with trust auth (installing the postgresql package if needed).
# Then the runtime database role (crisisnotes.db_roles): tests/test_db_roles.py sets it up on the
# test database with the production bootstrap (`manage.py db_roles`) and connects as it.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
log() { echo "[services] $*" >&2; }
SUDO=""; [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null && SUDO=sudo

apt_install() {
  log "installing Debian packages: $*"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

pg_ok() {
  $PY - "$1" <<'PY' >/dev/null 2>&1
import sys, psycopg
url = sys.argv[1].rsplit("/", 1)[0] + "/postgres"
with psycopg.connect(url, connect_timeout=3) as conn:
    conn.execute("select 1")
PY
}

redis_ok() {
  $PY - "$1" <<'PY' >/dev/null 2>&1
import sys, redis
redis.Redis.from_url(sys.argv[1], socket_connect_timeout=2).ping()
PY
}

# --- PostgreSQL -------------------------------------------------------------------------------
# CRISISNOTES_PRIVATE_PG=1 skips straight to the private cluster (to exercise that path).
db_url="${DATABASE_URL:-}"
if [[ -z "$db_url" ]] || ! pg_ok "$db_url"; then
  db_url="postgres://postgres@127.0.0.1:5432/crisisnotes"
  [[ "${CRISISNOTES_PRIVATE_PG:-}" == 1 ]] && db_url="postgres://nobody@127.0.0.1:1/none"
  if ! pg_ok "$db_url" && [[ "${CRISISNOTES_PRIVATE_PG:-}" != 1 ]] && command -v pg_ctlcluster >/dev/null && [[ -d /etc/postgresql ]]; then
    for version in $(ls /etc/postgresql); do
      log "starting PostgreSQL cluster $version/main"
      $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
    done
    sleep 1
  fi
  if ! pg_ok "$db_url"; then
    # The Debian cluster may want a password over TCP: a private cluster with trust auth,
    # owned by the postgres user, takes a second to create and never touches the machine's one.
    if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then apt_install postgresql; fi
    pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
    port=54329
    datadir=/tmp/crisisnotes-pg
    db_url="postgres://postgres@127.0.0.1:${port}/crisisnotes"
    if ! pg_ok "$db_url"; then
      id postgres >/dev/null 2>&1 || $SUDO useradd --system --home /var/lib/postgresql postgres
      runas=(); [[ $(id -un) != postgres ]] && runas=($SUDO runuser -u postgres --)
      if [[ ! -f $datadir/PG_VERSION ]]; then
        log "creating a private PostgreSQL cluster in $datadir"
        rm -rf "$datadir"; mkdir -p "$datadir"; chown postgres "$datadir" 2>/dev/null || true
        "${runas[@]}" "$pgbin/initdb" -D "$datadir" -U postgres --auth=trust >/dev/null
      fi
      log "starting the private PostgreSQL on port $port"
      "${runas[@]}" "$pgbin/pg_ctl" -D "$datadir" -l "$datadir/server.log" -w \
        -o "-p $port -c listen_addresses=127.0.0.1 -c fsync=off -c unix_socket_directories=$datadir" start >/dev/null
    fi
    pg_ok "$db_url" || { log "PostgreSQL did not come up"; exit 1; }
  fi
fi
log "PostgreSQL: $db_url"

# The runtime role: login, no superuser or other powers. Roles belong to the server, not to a
# database, so it is created here once; its grants are per database and come from db_roles.
runtime_role=crisisnotes_runtime
$PY - "$db_url" "$runtime_role" <<'PY' >&2
import sys, psycopg
from psycopg import sql
url = sys.argv[1].rsplit("/", 1)[0] + "/postgres"
with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
    if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [sys.argv[2]]).fetchone():
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER").format(sql.Identifier(sys.argv[2])))
        print(f"[services] created the runtime database role {sys.argv[2]}")
PY
log "runtime database role: $runtime_role"

# --- Redis ------------------------------------------------------------------------------------
redis_url="${REDIS_URL:-redis://127.0.0.1:6379/0}"
if ! redis_ok "$redis_url"; then
  redis_url="redis://127.0.0.1:6379/0"
  if ! redis_ok "$redis_url"; then
    command -v redis-server >/dev/null || apt_install redis-server
    log "starting redis-server on 127.0.0.1:6379 (keeps nothing on disk)"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /tmp >/dev/null
    for _ in $(seq 1 50); do redis_ok "$redis_url" && break; sleep 0.1; done
    redis_ok "$redis_url" || { log "Redis did not come up"; exit 1; }
  fi
fi
log "Redis: $redis_url"

echo "export DATABASE_URL='$db_url'"
echo "export REDIS_URL='$redis_url'"
echo "export CELERY_BROKER_URL='$redis_url'"
echo "export CRISISNOTES_RUNTIME_ROLE='$runtime_role'"
echo "export DJANGO_ENV=test"
