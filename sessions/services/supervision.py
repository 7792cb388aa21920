"""Live supervision writes: a supervisor's consult reply to a contact in progress, and telling the
team's supervisor that a note waits for their co-signature."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from crisisnotes.accounts.models import User
from crisisnotes.accounts.selectors import supervisor_for
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record
from crisisnotes.errors import DomainError
from crisisnotes.notifications.services import notification_send
from sessions import registry
from sessions.i18n import recipient_language
from sessions.models import ConsultReply, CrisisSession, ReviewComment
from sessions.models.notes import NoteStatus
from sessions.policies import can_supervise_draft

MAX_REPLY_LENGTH = 2000


class ConsultError(DomainError):
    """A consult reply that cannot be posted; the message is written for the supervisor."""


@transaction.atomic
def consult_reply_post(
    *, supervisor: User, note: CrisisSession, text: str, request: HttpRequest | None = None
) -> ConsultReply:
    """Post the supervisor's reply on a contact in progress. The supervision read rule
    (sessions.policies.can_supervise_draft) must hold on the note as it is now: the note row is
    locked first, so a reply never lands on a note that was signed in the meantime. Audited, and
    announced to the author in the bell (not by e-mail: they are on the call, in the app).
    Registered hooks run in the same transaction (the safety app completes the supervisor's
    pending "Notify supervisor" record with it)."""
    text = text.strip()
    if not text:
        raise ConsultError(_("Write your reply first."))
    if len(text) > MAX_REPLY_LENGTH:
        raise ConsultError(
            _("Keep the reply under %(limit)d characters.") % {"limit": MAX_REPLY_LENGTH}
        )
    locked = (
        CrisisSession.objects.select_for_update(of=("self",))
        .select_related("author__team")
        .get(pk=note.pk)
    )
    if locked.status != NoteStatus.DRAFT:
        raise ConsultError(_("The counselor has signed this note; talk to them directly."))
    if not can_supervise_draft(user=supervisor, note=locked):
        raise ConsultError(_("You can no longer reply on this contact."))
    reply = ConsultReply.objects.create(
        session=locked, author=supervisor, author_name=supervisor.signature_line, text=text
    )
    for section in registry.sections():
        section.consult_reply_saved(reply)
    audit_record(
        action=Action.CREATE,
        actor=supervisor,
        request=request,
        obj=locked,
        summary="Supervisor replied to a contact in progress (consult)",
    )
    with recipient_language(locked.author):
        message = _("%(supervisor)s replied on your session in progress.") % {
            "supervisor": supervisor.display_name
        }
    notification_send(
        recipient=locked.author,
        event_key=f"consult:reply:{reply.pk}",
        kind="consult_reply",
        message=message,
        url=reverse("crisis_sessions:note_detail", args=[locked.pk]),
        email=False,
    )
    return reply


def note_cosign_request_notify(*, note: CrisisSession) -> None:
    """Tell the author's team supervisor that `note` now waits for their co-signature, once per
    submission: the event key names the note and how many times it was returned before, so a
    retry or a double submit sends nothing new, and a note signed again after a return is a new
    request. No client name (the message may be e-mailed). Call inside the signing transaction."""
    supervisor = supervisor_for(user=note.author)
    if supervisor is None or supervisor.pk == note.author_id:
        return
    returns = ReviewComment.objects.filter(session=note).aggregate(n=Max("round"))["n"] or 0
    with recipient_language(supervisor):
        message = _("%(author)s signed a note that needs your co-signature.") % {
            "author": note.author.display_name
        }
    notification_send(
        recipient=supervisor,
        event_key=f"note:{note.pk}:awaiting_cosign:{returns}",
        kind="awaiting_cosign",
        message=message,
        url=reverse("crisis_sessions:review_note", args=[note.pk]),
    )
