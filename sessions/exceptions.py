"""Domain errors of the session note. Services raise these; views turn them into responses."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crisisnotes.errors import DomainError

if TYPE_CHECKING:
    from django import forms

    from sessions.registry import SignProblem


class NoteError(DomainError):
    """Base class: the note could not be changed as asked."""


class NoteLocked(NoteError):
    """The note is not a draft (signed or awaiting co-sign): its content is frozen."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message or _("This note is signed and can no longer be edited."))


class NoteAlreadySigned(NoteLocked):
    """A sign request found the note already signed (another tab, window or a second click got
    there first). Nothing was changed; the answer is "already signed", not an error."""

    def __init__(self, *, signed_at: datetime | None = None, status: str = "") -> None:
        self.signed_at = signed_at
        self.status = status
        time = f"{timezone.localtime(signed_at):%H:%M}" if signed_at else ""
        waiting = status == "awaiting_cosign"
        if time and waiting:
            message = _(
                "This note was already signed at %(time)s and waits for a supervisor's "
                "co-signature (in another tab or window, or by a second click). Nothing was "
                "changed."
            )
        elif time:
            message = _(
                "This note was already signed at %(time)s (in another tab or window, or by a "
                "second click). Nothing was changed."
            )
        elif waiting:
            message = _(
                "This note was already signed and waits for a supervisor's co-signature (in "
                "another tab or window, or by a second click). Nothing was changed."
            )
        else:
            message = _(
                "This note was already signed (in another tab or window, or by a second click). "
                "Nothing was changed."
            )
        super().__init__(message % {"time": time} if time else message)


class NoteConflict(NoteError):
    """A save was based on an older version of the draft than the one stored: refusing it keeps
    two tabs or two people from silently overwriting each other."""

    def __init__(self, *, base_version: int, current_version: int) -> None:
        self.base_version = base_version
        self.current_version = current_version
        super().__init__(
            _(
                "This note was saved elsewhere (another tab or window) since you loaded it: your "
                "page is at version %(base)d, the saved note at version %(current)d. Nothing you "
                "typed was saved, and it is still on your page."
            )
            % {"base": base_version, "current": current_version}
        )


class NoteInvalid(NoteError):
    """Some field of the posted note is invalid. `forms` maps each section key (and "header") to
    its bound forms, errors included; nothing was saved."""

    def __init__(self, forms: dict[str, list[forms.BaseForm]]) -> None:
        self.forms = forms
        super().__init__(_("Some fields need fixing; nothing was saved."))

    @property
    def errors(self) -> dict[str, list[str]]:
        """Field HTML id → messages, for the autosave JSON answer."""
        result: dict[str, list[str]] = {}
        for section_forms in self.forms.values():
            for form in section_forms:
                for name, messages in form.errors.items():
                    key = form[name].auto_id if name in form.fields else f"{form.prefix}-form"
                    result[key] = [str(m) for m in messages]
        return result


class SignRefused(NoteError):
    """One or more sign-time rules are unmet; `problems` lists every one of them."""

    def __init__(self, problems: list[SignProblem]) -> None:
        self.problems = problems
        super().__init__(
            ngettext(
                "%(count)d thing to complete before signing.",
                "%(count)d things to complete before signing.",
                len(problems),
            )
            % {"count": len(problems)}
        )


class AddendumError(NoteError):
    """An addendum could not be added (e.g. the note is still a draft)."""
