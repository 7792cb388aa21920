#!/usr/bin/env bash
# `make run`: the whole app on the embedded default — SQLite file and a filesystem Celery broker
# under var/ (no PostgreSQL or Redis needed) — with a local worker and beat, so follow-up
# reminders and PDF exports work exactly as in production.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
# Everything written at run time lives in the var folder settings.py uses (CRISISNOTES_VAR_DIR).
VAR="${CRISISNOTES_VAR_DIR:-var}"
mkdir -p "$VAR/broker/processed"
export DJANGO_ENV="${DJANGO_ENV:-development}"
# The web process and the worker both send mail; keep it where a person can read it.
mkdir -p "$VAR/mail"
export EMAIL_URL="${EMAIL_URL:-filemail:///$(cd "$VAR" && pwd)/mail}"
PORT="${PORT:-8000}"

$BIN/python manage.py migrate --noinput >/dev/null
echo "Database ready ($VAR/crisisnotes.sqlite3)."

# The demo password: $DEMO_PASSWORD, else one generated on the first run and kept (readable
# only by you) in var/demo-password so that every later `make run` can show it again.
if [[ -z "${DEMO_PASSWORD:-}" ]]; then
  if [[ ! -s "$VAR/demo-password" ]]; then
    (umask 077; $BIN/python -c "import secrets; print(secrets.token_urlsafe(12))" > "$VAR/demo-password")
  fi
  DEMO_PASSWORD=$(cat "$VAR/demo-password")
fi
DEMO_PASSWORD="$DEMO_PASSWORD" $BIN/python manage.py seed_demo >/dev/null

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

$BIN/celery -A crisisnotes worker --pool=solo --loglevel=WARNING --without-heartbeat \
  --without-mingle --without-gossip >"$VAR/worker.log" 2>&1 &
pids+=($!)
# Beat sends the follow-up scan every minute and the export sweep (schedule in
# crisisnotes/celery.py); the worker runs them against the SQLite file.
$BIN/celery -A crisisnotes beat --loglevel=WARNING --schedule "$VAR/celerybeat-schedule" \
  >"$VAR/beat.log" 2>&1 &
pids+=($!)

cat <<MSG

  crisisnotes is running at http://127.0.0.1:${PORT}/  (Ctrl-C stops everything)

  Demo logins (invented people), password for each: ${DEMO_PASSWORD}
    counselor   — a counselor
    trainee     — a trainee counselor (notes need a co-signature)
    supervisor  — the team's supervisor
    admin       — the clinic admin

  E-mails (password resets, follow-up reminders) are saved as files in $VAR/mail/.
  Worker and scheduler logs: $VAR/worker.log, $VAR/beat.log.

MSG
$BIN/python manage.py runserver "127.0.0.1:${PORT}" --noreload &
pids+=($!)
wait "${pids[-1]}"
