# syntax=docker/dockerfile:1
# Production image for crisisnotes: gunicorn (web), celery worker and celery beat all run from it.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint's runtime libraries. Without libharfbuzz-subset0 every PDF render is ~10x slower.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core gettext \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 --user-group app \
    && mkdir -p /app /data/private \
    && chown app:app /data/private
WORKDIR /app

# Dependencies first (pinned by constraints.txt) so code changes don't reinstall them.
COPY pyproject.toml constraints.txt ./
RUN pip install -c constraints.txt .

COPY . .

# The translation catalogues are compiled here (the .mo files are build products, not in git).
RUN python manage.py compilemessages --ignore=staticfiles -v 0

# Static files are collected at build time. The storage must be the production one
# (CompressedManifestStaticFilesStorage writes the manifest that production pages need), so the
# settings run with DJANGO_ENV=production and throwaway values that pass its checks. Nothing
# connects to the database or broker here, and none of these values stay in the image.
RUN DJANGO_ENV=production \
    SECRET_KEY=build-only-collectstatic-key-not-used-at-run-time-0123456789 \
    DATABASE_URL=postgres://build:build@127.0.0.1:5432/build \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/0 \
    ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput

USER app

ENV PRIVATE_STORAGE_DIR=/data/private
EXPOSE 8000

CMD ["gunicorn", "crisisnotes.wsgi:application", "--config=gunicorn.conf.py", \
     "--bind=0.0.0.0:8000", "--workers=3", "--forwarded-allow-ips=*"]
