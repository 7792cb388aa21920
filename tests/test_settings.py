"""Production settings refuse unsafe values, and `check --deploy` is clean with safe ones."""

import json
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


def test_the_embedded_default_checks_clean(tmp_path):
    """`make run` starts with no warning: the covering indexes' INCLUDE columns, which SQLite
    ignores, are not reported there (PostgreSQL, which has them, is checked as before)."""
    result = manage("check", "--database", "default", CRISISNOTES_VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "W040" not in result.stdout + result.stderr
    assert "no issues" in result.stdout


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


def _database_settings(**env: str) -> dict:
    code = (
        "import json; from django.conf import settings as s; d = s.DATABASES['default']; "
        "print(json.dumps({k: d[k] for k in "
        "('CONN_MAX_AGE', 'CONN_HEALTH_CHECKS', 'DISABLE_SERVER_SIDE_CURSORS')}))"
    )
    result = manage("shell", "-c", code, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_keeps_database_connections_and_checks_them():
    assert _database_settings(**SAFE) == {
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "DISABLE_SERVER_SIDE_CURSORS": False,
    }


def test_connection_settings_follow_the_environment(tmp_path):
    pooled = _database_settings(
        **SAFE, CONN_MAX_AGE="0", DATABASE_DISABLE_SERVER_SIDE_CURSORS="true"
    )
    assert pooled["CONN_MAX_AGE"] == 0 and pooled["DISABLE_SERVER_SIDE_CURSORS"] is True
    # Outside production a connection per request, as Django's default.
    embedded = _database_settings(CRISISNOTES_VAR_DIR=str(tmp_path))
    assert embedded["CONN_MAX_AGE"] == 0 and embedded["CONN_HEALTH_CHECKS"] is False


def test_exports_use_the_private_folder_unless_a_bucket_is_set(tmp_path):
    code = (
        "import json; from django.conf import settings as s; "
        "print(json.dumps(s.STORAGES['private']))"
    )
    local = manage("shell", "-c", code, CRISISNOTES_VAR_DIR=str(tmp_path))
    assert local.returncode == 0, local.stderr
    assert json.loads(local.stdout.strip().splitlines()[-1]) == {
        "BACKEND": "crisisnotes.storage.PrivateFileSystemStorage"
    }
    s3 = manage(
        "shell",
        "-c",
        code,
        CRISISNOTES_VAR_DIR=str(tmp_path),
        PRIVATE_S3_BUCKET="records",
        PRIVATE_S3_ENDPOINT_URL="https://s3.example.invalid",
        EXPORT_PRESIGNED_SECONDS="30",
    )
    assert s3.returncode == 0, s3.stderr
    config = json.loads(s3.stdout.strip().splitlines()[-1])
    assert config["BACKEND"] == "storages.backends.s3.S3Storage"
    options = config["OPTIONS"]
    assert options["bucket_name"] == "records"
    assert options["endpoint_url"] == "https://s3.example.invalid"
    assert options["default_acl"] == "private"
    assert options["object_parameters"] == {"ServerSideEncryption": "AES256"}
    assert options["querystring_auth"] is True and options["querystring_expire"] == 30


def test_presigned_downloads_need_a_bucket(tmp_path):
    result = manage("check", CRISISNOTES_VAR_DIR=str(tmp_path), EXPORT_DOWNLOAD="presigned")
    assert result.returncode != 0
    assert "needs the S3 storage" in result.stderr
    result = manage("check", CRISISNOTES_VAR_DIR=str(tmp_path), EXPORT_DOWNLOAD="sometimes")
    assert result.returncode != 0
    assert 'EXPORT_DOWNLOAD must be "stream" or "presigned"' in result.stderr
