#!/usr/bin/env bash
# `make run`: the whole app on the embedded default — SQLite file and a filesystem Celery broker
# under var/ (no PostgreSQL or Redis needed) — with a local worker and beat, so follow-up
# reminders and PDF exports work exactly as in production.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
mkdir -p var/broker/processed
export DJANGO_ENV="${DJANGO_ENV:-development}"
# The web process and the worker both send mail; keep it where a person can read it.
mkdir -p var/mail
export EMAIL_URL="${EMAIL_URL:-filemail:///$PWD/var/mail}"
PORT="${PORT:-8000}"

$BIN/python manage.py migrate --noinput >/dev/null
echo "Database ready (var/crisisnotes.sqlite3)."

# The demo password: $DEMO_PASSWORD, else one generated on the first run and kept (readable
# only by you) in var/demo-password so that every later `make run` can show it again.
if [[ -z "${DEMO_PASSWORD:-}" ]]; then
  if [[ ! -s var/demo-password ]]; then
    (umask 077; $BIN/python -c "import secrets; print(secrets.token_urlsafe(12))" > var/demo-password)
  fi
  DEMO_PASSWORD=$(cat var/demo-password)
fi
DEMO_PASSWORD="$DEMO_PASSWORD" $BIN/python manage.py seed_demo >/dev/null

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

$BIN/celery -A crisisnotes worker --pool=solo --loglevel=WARNING --without-heartbeat \
  --without-mingle --without-gossip >var/worker.log 2>&1 &
pids+=($!)
$BIN/celery -A crisisnotes beat --loglevel=WARNING --schedule var/celerybeat-schedule \
  >var/beat.log 2>&1 &
pids+=($!)

cat <<MSG

  crisisnotes is running at http://127.0.0.1:${PORT}/  (Ctrl-C stops everything)

  Demo logins (invented people), password for each: ${DEMO_PASSWORD}
    counselor   — a counselor
    trainee     — a trainee counselor (notes need a co-signature)
    supervisor  — the team's supervisor
    admin       — the clinic admin

  E-mails (password resets, reminders) are saved as files in var/mail/.
  Worker and scheduler logs: var/worker.log, var/beat.log.

MSG
$BIN/python manage.py runserver "127.0.0.1:${PORT}" --noreload &
pids+=($!)
wait "${pids[-1]}"
