"""Supervisor review: co-sign a note awaiting co-signature, or return it with comments.

Only these two decisions move a note out of "awaiting co-sign" (the database trigger of migration
0002 allows exactly awaiting_cosign → signed and awaiting_cosign → draft), and each one is a single
UPDATE of the note row taken under a row lock, audited in the same transaction, and announced to
the author once (the notification's event_key makes a retry or a double click send nothing new).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crisisnotes.accounts.models import User
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record
from crisisnotes.errors import DomainError
from crisisnotes.notifications.services import notification_send
from sessions import registry
from sessions.hashing import cosign_hash_compute, note_content_hash
from sessions.i18n import recipient_language
from sessions.models import CrisisSession, ReviewComment
from sessions.models.notes import NoteStatus
from sessions.policies import can_review
from sessions.services.notes import note_lock

WHOLE_NOTE = ""
MAX_COMMENT_LENGTH = 5000


class ReviewError(DomainError):
    """A review decision that cannot be made; the message is written for the supervisor."""


def _decision_store(locked: CrisisSession, fields: Mapping[str, Any]) -> None:
    """Store a decision in one UPDATE, status included: the trigger (migration 0002) allows
    leaving awaiting_cosign, not edits within it, so the row cannot be saved field by field."""
    CrisisSession.objects.filter(pk=locked.pk).update(**fields)
    for name, value in fields.items():
        setattr(locked, name, value)


class AlreadyDecided(ReviewError):
    """Another supervisor (or another tab, or a double click) decided first; nothing changed."""


def _already_decided_message(note: CrisisSession) -> str:
    if note.status == NoteStatus.SIGNED and note.cosigned_at is not None:
        return _(
            "This note was already co-signed by %(name)s at %(time)s. Nothing was changed."
        ) % {
            "name": note.cosigner_name,
            "time": f"{timezone.localtime(note.cosigned_at):%H:%M}",
        }
    if note.status == NoteStatus.DRAFT and ReviewComment.objects.filter(session=note).exists():
        return _("This note was already returned to its author with comments. Nothing was changed.")
    if note.status == NoteStatus.DRAFT:
        return _(
            "This note is not waiting for a co-signature any more: it is a draft with its "
            "author (returned, or not signed yet). Nothing was changed."
        )
    return _("This note is not waiting for a co-signature any more. Nothing was changed.")


def _lock_for_decision(*, note: CrisisSession, supervisor: User) -> CrisisSession:
    # Two supervisors (or two tabs) deciding at once: the row lock makes the second wait and then
    # see the first decision, so a note is never both co-signed and returned. The note is read
    # after the lock is granted (note_lock), so the decision runs on what is stored.
    locked = note_lock(note_id=note.pk, related=("author__team",))
    if not can_review(note=locked, user=supervisor):
        raise ReviewError(_("Only the supervisor of the author's team can review this note."))
    if locked.status != NoteStatus.AWAITING_COSIGN:
        raise AlreadyDecided(_already_decided_message(locked))
    return locked


def _note_url(note: CrisisSession) -> str:
    return reverse("crisis_sessions:note_detail", args=[note.pk])


@transaction.atomic
def note_cosign(
    *, note: CrisisSession, supervisor: User, request: HttpRequest | None = None
) -> CrisisSession:
    """Co-sign a note awaiting co-signature: it becomes signed and immutable.

    Invariant: only the supervisor of the author's team co-signs, only a note in "awaiting
    co-sign"; the co-signer's name, credential and licence are copied as they are now, with a
    co-sign hash over the author's content hash (see cosign_hash_compute)."""
    locked = _lock_for_decision(note=note, supervisor=supervisor)
    # The co-signature vouches for the content the author signed: refuse to put it on content
    # that no longer matches that signature (changed behind the application's back).
    if note_content_hash(locked) != locked.content_hash:
        raise ReviewError(
            _(
                "This record does not verify: its stored content no longer matches the content "
                "hash the author signed. It was not co-signed; tell the clinic admin."
            )
        )
    now = timezone.now()
    fields = {
        "status": NoteStatus.SIGNED,
        "cosigned_by": supervisor,
        "cosigned_at": now,
        "cosigner_name": supervisor.display_name,
        "cosigner_credential": supervisor.credential,
        "cosigner_licence": supervisor.licence_number,
        "cosign_hash": cosign_hash_compute(
            content_hash=locked.content_hash,
            cosigner_id=supervisor.pk,
            cosigner_name=supervisor.display_name,
            cosigner_credential=supervisor.credential,
            cosigner_licence=supervisor.licence_number,
            cosigned_at=now,
        ),
    }
    _decision_store(locked, fields)
    audit_record(
        action=Action.COSIGN,
        actor=supervisor,
        request=request,
        obj=locked,
        summary=f"Co-signed the note of {locked.author.display_name}",
    )
    with recipient_language(locked.author):
        message = _("%(supervisor)s co-signed your note of %(when)s. It is now locked.") % {
            "supervisor": supervisor.display_name,
            "when": f"{timezone.localtime(locked.started_at):%Y-%m-%d %H:%M}",
        }
    notification_send(
        recipient=locked.author,
        event_key=f"note:{locked.pk}:cosigned",
        kind="note_cosigned",
        message=message,
        url=_note_url(locked),
    )
    return locked


def _clean_comments(comments: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    known = {section.key for section in registry.sections()}
    cleaned = []
    for section_key, text in comments:
        text = (text or "").strip()
        if not text:
            continue
        if section_key and section_key not in known:
            raise ReviewError(
                _("There is no section %(key)r to anchor a comment to.") % {"key": section_key}
            )
        if len(text) > MAX_COMMENT_LENGTH:
            raise ReviewError(
                _("A comment can be at most %(limit)d characters long.")
                % {"limit": MAX_COMMENT_LENGTH}
            )
        cleaned.append((section_key or WHOLE_NOTE, text))
    if not cleaned:
        raise ReviewError(_("Write at least one comment so the author knows what to change."))
    return cleaned


def _comments(count: int) -> str:
    # The author reads this in their notifications and e-mail: plain English, not "comment(s)".
    return ngettext("%(count)d comment", "%(count)d comments", count) % {"count": count}


@transaction.atomic
def note_return(
    *,
    note: CrisisSession,
    supervisor: User,
    comments: Iterable[tuple[str, str]],
    request: HttpRequest | None = None,
) -> list[ReviewComment]:
    """Return a note awaiting co-signature to its author as an editable draft, with comments.

    Invariant: at least one comment; the comments (append-only) and the note's return to draft
    happen together or not at all. The author's signature and content hash are cleared, because
    the content may change: the author signs again and the note comes back for co-signature."""
    cleaned = _clean_comments(comments)
    locked = _lock_for_decision(note=note, supervisor=supervisor)
    previous = ReviewComment.objects.filter(session=locked).aggregate(last=Max("round"))["last"]
    round_number = (previous or 0) + 1
    created = ReviewComment.objects.bulk_create(
        [
            ReviewComment(
                session=locked,
                author=supervisor,
                author_name=supervisor.display_name,
                section_key=section_key,
                text=text,
                round=round_number,
            )
            for section_key, text in cleaned
        ]
    )
    fields = {
        "status": NoteStatus.DRAFT,
        "signed_by": None,
        "signed_at": None,
        "signer_name": "",
        "signer_credential": "",
        "signer_licence": "",
        "content_hash": "",
        "late_entry": False,
        "cosign_required_reason": "",
        # A tab still holding the note from before it was signed must not autosave over the
        # returned draft unseen: it gets a version conflict and reloads.
        "version": locked.version + 1,
        "updated_at": timezone.now(),
    }
    _decision_store(locked, fields)
    with translation.override("en"):  # the audit log is in one language
        comment_count = _comments(len(created))
    audit_record(
        action=Action.RETURN,
        actor=supervisor,
        request=request,
        obj=locked,
        summary=f"Returned to {locked.author.display_name} with {comment_count}, "
        f"round {round_number}",
    )
    with recipient_language(locked.author):
        message = _(
            "%(supervisor)s returned your note of %(when)s with %(comments)s. Please review and "
            "sign again."
        ) % {
            "supervisor": supervisor.display_name,
            "when": f"{timezone.localtime(locked.started_at):%Y-%m-%d %H:%M}",
            "comments": _comments(len(created)),
        }
    notification_send(
        recipient=locked.author,
        event_key=f"note:{locked.pk}:returned:{round_number}",
        kind="note_returned",
        message=message,
        url=_note_url(locked),
    )
    return created
