"""The production container wiring (Dockerfile, docker-compose.yml), checked offline.

No Docker engine is needed: the compose file is validated against the compose specification
schema vendored in check-jsonschema, then its meaning is checked against the code it runs.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
CADDYFILE = ROOT / "Caddyfile"
DOCKERFILE = ROOT / "Dockerfile"
APP_SERVICES = ("web", "worker", "beat")
# Runs to completion before the app services start; the only one that knows the owner role.
ONE_SHOT = ("migrate",)


@pytest.fixture(scope="module")
def compose() -> dict:
    return YAML(typ="safe").load(COMPOSE.read_text())


def env_of(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):  # the "KEY=value" list form
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def url(value: str):
    """Parse a URL after replacing ${VAR...} interpolations, whose ':?' would split it wrongly."""
    return urlsplit(re.sub(r"\$\{[^}]*\}", "placeholder", value))


def command_text(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def test_compose_file_matches_the_compose_specification():
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_services_volumes_and_healthchecks(compose):
    services = compose["services"]
    assert set(services) >= {"postgres", "redis", "migrate", "web", "worker", "beat", "proxy"}
    assert {"pgdata", "private", "caddy_data"} <= set(compose["volumes"])
    assert any(v.startswith("pgdata:") for v in services["postgres"]["volumes"])
    expected = {
        "postgres": "pg_isready",
        "redis": "ping",
        "web": "/readyz",
        "worker": "inspect ping",
        "beat": "/tmp/celerybeat-schedule",
        "proxy": "127.0.0.1:2019",
    }
    for name, needle in expected.items():
        test = " ".join(services[name]["healthcheck"]["test"])
        assert needle in test, name
    for name in compose["services"]:
        expected = "no" if name in ONE_SHOT else "unless-stopped"
        assert services[name].get("restart") == expected, name


@pytest.mark.parametrize("name", APP_SERVICES + ONE_SHOT)
def test_app_services_are_wired_to_postgres_and_redis(compose, name):
    service = compose["services"][name]
    env = env_of(service)
    assert env["DJANGO_ENV"] == "production"
    assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")  # required, never defaulted
    assert env["EMAIL_URL"].startswith("${EMAIL_URL:?")  # production refuses console mail
    database = url(env["DATABASE_URL"])
    assert (database.scheme, database.hostname) == ("postgres", "postgres")
    broker = url(env["CELERY_BROKER_URL"])
    assert (broker.scheme, broker.hostname) == ("redis", "redis")
    assert env["PRIVATE_STORAGE_DIR"]
    dependencies = ("postgres",) if name in ONE_SHOT else ("postgres", "redis")
    for dependency in dependencies:
        assert service["depends_on"][dependency]["condition"] == "service_healthy"


def test_web_and_worker_share_the_private_volume(compose):
    for name in ("web", "worker"):
        service = compose["services"][name]
        target = env_of(service)["PRIVATE_STORAGE_DIR"]
        assert f"private:{target}" in service["volumes"], name


S3_VARIABLES = [
    "PRIVATE_S3_BUCKET",
    "PRIVATE_S3_ENDPOINT_URL",
    "PRIVATE_S3_REGION",
    "PRIVATE_S3_ACCESS_KEY_ID",
    "PRIVATE_S3_SECRET_ACCESS_KEY",
    "PRIVATE_S3_ADDRESSING_STYLE",
]


def test_web_and_worker_may_share_an_s3_bucket_instead(compose):
    """Optional: empty by default (the volume), passed through the same to web and worker, and
    each one a variable the settings read."""
    settings_text = (ROOT / "crisisnotes" / "settings.py").read_text()
    for name in ("web", "worker"):
        env = env_of(compose["services"][name])
        for variable in S3_VARIABLES:
            assert env[variable] == f"${{{variable}:-}}", (name, variable)
            assert f'"{variable}"' in settings_text, variable
        assert env["EXPORT_DOWNLOAD"] == "${EXPORT_DOWNLOAD:-stream}"


def test_service_commands_use_modules_that_exist(compose):
    services = compose["services"]
    migrate = command_text(services["migrate"])
    assert "manage.py migrate --noinput" in migrate
    assert migrate.index("migrate --noinput") < migrate.index("manage.py db_roles")
    assert (ROOT / "crisisnotes" / "audit" / "management" / "commands" / "db_roles.py").is_file()
    assert command_text(services["web"]).startswith("gunicorn crisisnotes.wsgi:application")
    assert (ROOT / "crisisnotes" / "wsgi.py").is_file()
    celery_app = (ROOT / "crisisnotes" / "celery.py").read_text()
    assert re.search(r"^app = Celery\(", celery_app, re.MULTILINE)
    assert " worker" in command_text(services["worker"])
    assert " beat" in command_text(services["beat"])
    for name in ("worker", "beat"):
        assert command_text(services[name]).startswith("celery -A crisisnotes "), name


def test_migrations_run_as_the_owner_and_the_app_as_the_runtime_role(compose):
    services = compose["services"]
    owner = services["postgres"]["environment"]["POSTGRES_USER"]
    migrate = env_of(services["migrate"])
    owner_url = url(migrate["DATABASE_OWNER_URL"])
    assert (owner_url.username, owner_url.hostname) == (owner, "postgres")
    assert owner_url.path == f"/{services['postgres']['environment']['POSTGRES_DB']}"
    assert "${POSTGRES_PASSWORD:?" in migrate["DATABASE_OWNER_URL"]
    runtime_users = set()
    for name in (*APP_SERVICES, *ONE_SHOT):
        env = env_of(services[name])
        runtime = url(env["DATABASE_URL"])
        runtime_users.add(runtime.username)
        assert runtime.path == owner_url.path, name
        assert "${APP_DB_PASSWORD:?" in env["DATABASE_URL"], name  # required, never defaulted
    # One runtime role for every service, and it is not the owner: db_roles (run by migrate)
    # refuses a runtime role that is the owner, and sets up exactly DATABASE_URL's role.
    assert len(runtime_users) == 1 and owner not in runtime_users
    for name in APP_SERVICES:  # the running app never holds the owner's credentials
        env = env_of(services[name])
        assert "DATABASE_OWNER_URL" not in env, name
        assert not any("POSTGRES_PASSWORD" in value for value in env.values()), name
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully", name
    assert "migrate" not in command_text(services["web"])


def test_dockerfile_runs_gunicorn_as_a_non_root_user():
    text = DOCKERFILE.read_text()
    assert "FROM python:3.11-slim-bookworm" in text
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}
    assert "pip install -c constraints.txt ." in text
    assert "collectstatic --noinput" in text
    assert "libharfbuzz-subset0" in text
    cmd = re.search(r"^CMD\s+(\[.*?\])\s*$", text, re.MULTILINE | re.DOTALL)
    assert cmd and "crisisnotes.wsgi:application" in cmd.group(1)
    assert "--forwarded-allow-ips=*" in cmd.group(1)


def test_every_app_env_var_is_read_by_settings(compose):
    settings = (ROOT / "crisisnotes" / "settings.py").read_text()
    read = set(re.findall(r"""env(?:\.\w+)?\(\s*["']([A-Z0-9_]+)["']""", settings))
    assert {"DATABASE_URL", "SECRET_KEY"} <= read  # the pattern itself still matches
    for name in APP_SERVICES + ONE_SHOT:
        unknown = set(env_of(compose["services"][name])) - read
        assert not unknown, f"{name} sets variables settings.py never reads: {sorted(unknown)}"


def test_compose_file_passes_docker_compose_config():
    """Debian's docker-compose (v1) also checks meaning: anchors, depends_on targets, the bind
    mount of the Caddyfile. Skipped only where that package is not installed."""
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose (Debian package) is not installed")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "SECRET_KEY": "k" * 60,
        "POSTGRES_PASSWORD": "owner-test-only",
        "APP_DB_PASSWORD": "app-test-only",
        "EMAIL_URL": "smtp+tls://mailer:secret@relay.example.invalid:587",
    }
    result = subprocess.run(
        [binary, "-f", str(COMPOSE), "config", "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def caddy_directives() -> str:
    """The Caddyfile without its comments."""
    lines = CADDYFILE.read_text().splitlines()
    return "\n".join(line for line in lines if not line.strip().startswith("#"))


def _gunicorn_port(compose: dict) -> str:
    bind = re.search(r"--bind=[^:\s]+:(\d+)", command_text(compose["services"]["web"]))
    assert bind, "web's gunicorn binds no port"
    return bind.group(1)


def test_web_is_reached_only_through_the_proxy_and_scales(compose):
    web = compose["services"]["web"]
    # No host port: the proxy is web's only peer, which is what makes trusting its forwarded
    # headers (gunicorn --forwarded-allow-ips=*) safe.
    assert "ports" not in web
    assert str(web["expose"][0]) == _gunicorn_port(compose)
    assert web["deploy"]["replicas"] >= 2
    assert "container_name" not in web  # a fixed name would forbid --scale web=N
    assert "--forwarded-allow-ips=*" in command_text(web)
    assert compose["services"]["beat"]["deploy"]["replicas"] == 1  # one scheduler, always


def test_proxy_terminates_tls_and_forwards_to_every_web_replica(compose):
    proxy = compose["services"]["proxy"]
    assert proxy["image"].startswith("caddy:")
    assert "443:443" in proxy["ports"]
    assert proxy["depends_on"]["web"]["condition"] == "service_healthy"
    mount = next(v for v in proxy["volumes"] if v.endswith(":/etc/caddy/Caddyfile:ro"))
    assert (ROOT / mount.split(":")[0]).resolve() == CADDYFILE
    caddyfile = caddy_directives()
    assert re.search(r"^\s*tls internal\s*$", caddyfile, re.MULTILINE)
    # The upstream is the web service on gunicorn's port, resolved to every replica.
    upstream = re.search(r"dynamic a (\S+) (\d+)", caddyfile)
    assert upstream and upstream.groups() == ("web", _gunicorn_port(compose))
    # The site served is the name the app accepts by default.
    site = re.search(r"^\{\$SITE_ADDRESS:([^}]+)\}", caddyfile, re.MULTILINE)
    app_hosts = re.search(
        r"ALLOWED_HOSTS:-([^}]+)\}", env_of(compose["services"]["web"])["ALLOWED_HOSTS"]
    )
    assert site and app_hosts and site.group(1) in app_hosts.group(1).split(",")
    assert proxy["environment"]["SITE_ADDRESS"] == "${SITE_ADDRESS:-localhost}"


def test_proxy_sends_the_forwarded_headers_the_app_trusts(compose):
    caddyfile = caddy_directives()
    sent = dict(re.findall(r"header_up (\S+) (\S+)", caddyfile))
    assert sent["X-Forwarded-Proto"] == "{scheme}"
    assert sent["X-Forwarded-For"] == "{remote_host}"
    assert sent["X-Request-ID"] == "{http.request.uuid}"  # fresh per request, never the client's
    assert "trusted_proxies" not in caddyfile  # so Caddy replaces what a client sent
    settings_text = (ROOT / "crisisnotes" / "settings.py").read_text()
    assert 'SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")' in settings_text
    request_log = (ROOT / "crisisnotes" / "request_log.py").read_text()
    assert 'request.META.get("HTTP_X_REQUEST_ID"' in request_log
    # The id Caddy sends (a UUID) is one the app keeps rather than replaces.
    from crisisnotes.request_log import _VALID_ID

    assert _VALID_ID.match("0b4a8a7e-51c2-4b5e-9d3e-2f0c4a1e9b77")


def test_worker_and_beat_healthchecks_check_the_running_process(compose):
    services = compose["services"]
    worker = " ".join(services["worker"]["healthcheck"]["test"])
    # $$ is compose's escape for a literal $: the shell in the container expands HOSTNAME, the
    # worker's default node name being celery@<hostname>.
    assert "celery -A crisisnotes inspect ping -d celery@$$HOSTNAME" in worker
    assert "-n " not in command_text(services["worker"])  # the default node name is pinged
    beat = services["beat"]
    schedule = beat["command"][beat["command"].index("--schedule") + 1]
    check = " ".join(beat["healthcheck"]["test"])
    assert f'glob.glob("{schedule}*")' in check and "< 600" in check
