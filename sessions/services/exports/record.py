"""One signed record as HTML and PDF: every registered section through its read-only template,
the quick notes, follow-ups, addenda, review comments and the signature blocks. A template that
is missing is an error (TemplateDoesNotExist reaches the caller): a legal record is printed
whole or not at all."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from crisisnotes.accounts.models import User
from crisisnotes.errors import DomainError
from sessions.models import CrisisSession, FollowUpAttempt, FollowUpTask, ReviewComment
from sessions.models.notes import NoteStatus
from sessions.registry import sections
from sessions.risk import risk_label
from sessions.selectors.exports import record_queryset

if TYPE_CHECKING:
    from crisisnotes.pdf import StaticOnlyURLFetcher

# The whole page and the read-only partial of every registered section.
RECORD_TEMPLATE = "pdf/session_record.html"


class ExportError(DomainError):
    """The export could not be requested or produced as asked; the message says why."""


def record_templates() -> list[str]:
    """Every template a record's PDF renders: the check in CI loads each of them."""
    return [RECORD_TEMPLATE] + [
        section.readonly_template_name for section in sections() if section.readonly_template_name
    ]


def record_context(
    *, note: CrisisSession, generated_by: User | None, generated_at: datetime
) -> dict[str, Any]:
    """Everything the record's PDF shows: every registered section through its read-only
    template (the same partial the locked note page shows), the quick notes, follow-ups,
    addenda, review comments and the signature blocks. Every field of the content hash is
    printed (tests/sessions/test_pdf_record_complete.py proves it field by field)."""
    blocks = []
    for section in sections():
        if not section.readonly_template_name:
            continue
        context = {
            "note": note,
            "section": section,
            "pdf": True,
            **section.readonly_context(note=note),
        }
        html = render_to_string(section.readonly_template_name, context)
        blocks.append({"section": section, "html": html})
    tasks = list(
        FollowUpTask.objects.filter(session=note)
        .select_related("assigned_to")
        .order_by("due_at", "id")
    )
    attempts: dict[int, list[FollowUpAttempt]] = {}
    for attempt in FollowUpAttempt.objects.filter(task__session=note).select_related("by"):
        attempts.setdefault(attempt.task_id, []).append(attempt)
    for task in tasks:
        task.attempt_list = attempts.get(task.pk, [])  # type: ignore[attr-defined]
    return {
        "note": note,
        "clinic": note.clinic,
        "client": note.client,
        "blocks": blocks,
        # Part of the signed content (and of its hash), so part of the printed record.
        "quick_notes": list(note.quick_notes.order_by("created_at", "id")),
        "followups": tasks,
        "addenda": list(note.addenda.all().order_by("created_at", "id")),
        "review_comments": list(
            ReviewComment.objects.filter(session=note).order_by("created_at", "pk")
        ),
        "record_status": record_status_label(note),
        "risk_level_label": risk_label(note.risk_level),
        "generated_by": generated_by,
        "generated_at": generated_at,
    }


def record_status_label(note: CrisisSession) -> str:
    return (
        pgettext("note status", "Co-signed")
        if note.cosigned_at
        else pgettext("note status", "Signed")
    )


def record_html(
    *, note: CrisisSession, generated_by: User | None, generated_at: datetime | None = None
) -> str:
    if note.status != NoteStatus.SIGNED:
        raise ExportError(_("Only signed records are exported; drafts never are."))
    context = record_context(
        note=note, generated_by=generated_by, generated_at=generated_at or timezone.now()
    )
    # In the clinic's zone wherever it renders: a worker has no request to activate it.
    with timezone.override(note.clinic.zone):
        return render_to_string(RECORD_TEMPLATE, context)


def record_pdf(
    *,
    note: CrisisSession,
    generated_by: User | None,
    generated_at: datetime | None = None,
    fetcher: StaticOnlyURLFetcher | None = None,
) -> bytes:
    """The signed record as PDF bytes. Refuses anything not signed."""
    from crisisnotes.pdf import pdf_render  # WeasyPrint loads where a PDF is made

    html = record_html(note=note, generated_by=generated_by, generated_at=generated_at)
    return pdf_render(html=html, fetcher=fetcher)


def record_for_job(*, clinic_id: int, session_id: int) -> CrisisSession:
    """A record an export job names, re-read when the job runs: still in the job's clinic and
    signed, or ExportError saying why not."""
    note = record_queryset().filter(pk=session_id, clinic_id=clinic_id).first()
    if note is None:
        raise ExportError("the record no longer exists in this clinic")
    if note.status != NoteStatus.SIGNED:
        raise ExportError("the record is not signed (drafts are never exported)")
    return note
