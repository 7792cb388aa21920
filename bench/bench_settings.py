"""Settings of the pages bench's gunicorn: the app's own settings (production when DJANGO_ENV
says so) plus one URL, the floor view, that only the bench serves."""

from crisisnotes.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bench_urls"
