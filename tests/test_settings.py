"""Production settings refuse unsafe values, and `check --deploy` is clean with safe ones."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAFE = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "k" * 20 + "a-long-random-test-only-secret-value-0123456789",
    "DATABASE_URL": "postgres://crisis:pw@db.example.invalid:5432/crisisnotes",
    "ALLOWED_HOSTS": "crisisnotes.example.invalid",
    "REDIS_URL": "redis://redis.example.invalid:6379/0",
    "EMAIL_URL": "smtp+tls://mailer:pw@relay.example.invalid:587",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    dropped = {*SAFE, "DEBUG", "EMAIL_URL", "CELERY_BROKER_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **SAFE)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_secret_key():
    env = {k: v for k, v in SAFE.items() if k != "SECRET_KEY"}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "Refusing to start with DJANGO_ENV=production" in result.stderr
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_debug_and_sqlite():
    result = manage("check", **{**SAFE, "DEBUG": "true", "DATABASE_URL": "sqlite:////tmp/x.db"})
    assert result.returncode != 0
    assert "DEBUG must be off" in result.stderr
    assert "DATABASE_URL must point at PostgreSQL" in result.stderr


def test_unset_environment_gives_the_embedded_default(tmp_path):
    env = {"CRISISNOTES_VAR_DIR": str(tmp_path)}
    code = (
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.DEBUG)"
    )
    result = manage("shell", "-c", code, **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-3:] == ["django.db.backends.sqlite3", "filesystem://", "True"]


def test_production_refuses_the_console_mail_backend():
    result = manage("check", **{**SAFE, "EMAIL_URL": "consolemail://"})
    assert result.returncode != 0
    assert "EMAIL_URL must name a real mail relay" in result.stderr
    without = {k: v for k, v in SAFE.items() if k != "EMAIL_URL"}
    assert manage("check", **without).returncode != 0  # the unset default is the console


def test_production_refuses_seed_demo():
    # The settings are safe, so the command itself must refuse (before touching the database).
    result = manage("seed_demo", **SAFE)
    assert result.returncode != 0
    assert "seed_demo refuses to run with DJANGO_ENV=production" in result.stderr
