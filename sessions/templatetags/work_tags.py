"""The rows of the counselor's "my work" lists of notes (open drafts, notes waiting for a
co-signature), built in Python: a counselor with 60 notes waiting had 60 rows of a
`{% url %}`-like link, a date and a blocktranslate each through the template engine, the
larger part of the page's time once the follow-ups were built in Python (bench/README.md,
issue 15). The same markup as the template loops they replace (tests/sessions/
test_views_work.py renders both and compares), escaped as autoescape does; the
blocktranslate's words stay unescaped as the tag leaves them."""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from crisisnotes.html import autoescaped, pk_url
from sessions.selectors.work import NoteRow
from sessions.templatetags.review_tags import local_date

register = template.Library()

_DRAFT = (
    '\n        <li class="list-group-item" data-testid="draft">'
    '\n          <a class="fw-semibold" href="{}">{}</a>{} · {}'
    "\n        </li>\n      "
)
_AWAITING = (
    '\n        <li class="list-group-item" data-testid="awaiting-cosign">'
    '\n          <a class="fw-semibold" href="{}">{}</a> · {}{}'
    "\n        </li>\n      "
)


@register.simple_tag
def my_note_items(notes: Iterable[NoteRow], kind: str) -> SafeString:
    """The <li> of each note of "my work" (sessions.selectors.work.my_note_rows): `kind` "draft"
    (with `returned`, the modality and start) or "awaiting" (the modality, signature time and
    why a co-signature is needed). The words and each modality's label are translated once per
    list, not once per note."""
    note_url = pk_url("crisis_sessions:note_detail")
    zone = timezone.get_current_timezone()
    returned = format_html(
        ' <span class="badge text-bg-warning" data-testid="returned-badge">{}</span>',
        _("Returned with comments"),
    )
    started_words = _("%(modality)s · started %(started_at)s")
    signed_words = _("%(modality)s · signed %(signed_at)s")
    modalities: dict[str, str] = {}
    items = []
    for note in notes:
        modality = modalities.get(note.modality)
        if modality is None:
            modality = modalities[note.modality] = autoescaped(note.get_modality_display())
        if kind == "draft":
            # blocktranslate's words, each value escaped
            words = started_words % {
                "modality": modality,
                "started_at": autoescaped(local_date(note.started_at, "Y-m-d H:i", zone)),
            }
            items.append(
                _DRAFT.format(
                    note_url(note.pk),
                    autoescaped(note.client_alias),
                    returned if note.returned else "",
                    words,
                )
            )
        else:
            words = signed_words % {
                "modality": modality,
                "signed_at": autoescaped(local_date(note.signed_at, "Y-m-d H:i", zone)),
            }
            reason = note.cosign_required_reason
            if reason:
                reason = f' · <span class="text-body-secondary">{autoescaped(reason)}</span>'
            items.append(
                _AWAITING.format(note_url(note.pk), autoescaped(note.client_alias), words, reason)
            )
    return mark_safe("".join(items))  # noqa: S308 — every value escaped by autoescaped
