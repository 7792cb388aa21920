"""Write the rendered draft and signed note pages of the bench clinic to a folder, one file a
page, so that two checkouts' renderings can be compared byte for byte (`diff -r old new`).

A change meant to make the note pages cheaper must leave their HTML as it was, or differ only
where it says so. Each page is rendered in-process (Django's test client, as
pages_profile.py), signed in as the note's author, in English and in Spanish, the drafts also
with `?sign=1` (the unmet rules listed), the clock stopped at one instant (`--at`: the
pages print the current minute in several places). What still differs between two renderings
of the same page in one checkout is blanked out: the CSRF token, the idle timer's starting
point and the catalogue's version digest (each checkout's compiled catalogue).

Run (against a copy of the bench database, never cn_bench itself: every page view writes its
audit row, and the Spanish pages set the authors' language, then put it back):
    DATABASE_URL=postgres://.../cn_bench_copy .venv/bin/python bench/note_pages_dump.py OUT \\
        [--drafts 60] [--signed 30]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.bench_settings"
os.environ.setdefault("DJANGO_ENV", "test")
os.environ.setdefault("EMAIL_URL", "dummymail://")
os.environ.setdefault("DEBUG", "false")

# What changes from one rendering of a page to the next in the same checkout.
_VOLATILE = [
    (re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*"'), r'\1CSRF"'),
    (re.compile(r'(<meta name="csrf-token" content=")[^"]*"'), r'\1CSRF"'),
    (re.compile(r'("X-CSRFToken": ")[^"]*"'), r'\1CSRF"'),
    (re.compile(r'(data-idle-[a-z-]+=")[^"]*"'), r'\1IDLE"'),
    (re.compile(r"(jsi18n/\?l=[a-z-]+&amp;v=)[0-9a-f]+"), r"\1VERSION"),
]


def scrub(html: str) -> str:
    for pattern, replacement in _VOLATILE:
        html = pattern.sub(replacement, html)
    return html


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--drafts", type=int, default=60)
    parser.add_argument("--signed", type=int, default=30)
    parser.add_argument("--at", default="2026-12-02T12:00:00+00:00", help="the pages' clock")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a copy of the pages bench's database.")

    from datetime import datetime

    import django
    import time_machine

    django.setup()
    with time_machine.travel(datetime.fromisoformat(args.at), tick=False):
        _dump(args)


def _dump(args: argparse.Namespace) -> None:
    from dataset import _set_authenticators
    from django.conf import settings
    from django.test import Client

    from crisisnotes.accounts.models import User
    from crisisnotes.warmup import warm
    from sessions.models import CrisisSession
    from sessions.models.notes import NoteStatus

    settings.ALLOWED_HOSTS = ["*"]
    warm()
    bench = User.objects.get(username="bench01")
    assert bench.clinic_id is not None
    _set_authenticators(clinic_id=bench.clinic_id)
    notes = CrisisSession.objects.filter(clinic_id=bench.clinic_id).order_by("pk")
    chosen = [
        *notes.filter(status=NoteStatus.DRAFT)[: args.drafts],
        *notes.exclude(status=NoteStatus.DRAFT)[: args.signed],
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    written = 0
    for note in chosen:
        author = User.objects.get(pk=note.author_id)
        language = author.language
        browser = Client()
        browser.force_login(author)
        queries = ["", "?sign=1"] if note.status == NoteStatus.DRAFT else [""]
        try:
            for code in ("en", "es"):
                User.objects.filter(pk=author.pk).update(language=code)
                for query in queries:
                    response = browser.get(f"/notes/{note.pk}/{query}")
                    if response.status_code != 200:
                        sys.exit(f"note {note.pk}{query}: HTTP {response.status_code}")
                    name = f"{note.status}-{note.pk}-{code}{'-sign' if query else ''}.html"
                    (args.out / name).write_text(scrub(response.content.decode()))
                    written += 1
        finally:
            User.objects.filter(pk=author.pk).update(language=language)
    print(f"{written} pages written to {args.out}")


if __name__ == "__main__":
    main()
