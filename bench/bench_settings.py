"""Settings of the pages bench's gunicorn: the app's own settings (production when DJANGO_ENV
says so) plus the floor view's URL and a timing header, which only the bench adds."""

from crisisnotes.settings import *  # noqa: F403
from crisisnotes.settings import MIDDLEWARE

ROOT_URLCONF = "bench.bench_urls"
# Outermost, so the time covers every middleware and the view: what the worker spent on the
# request once it took it, without the wait in gunicorn's backlog.
MIDDLEWARE = ["bench.bench_urls.server_time", *MIDDLEWARE]
