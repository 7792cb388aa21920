"""The one extension point of the session note: its sections. Other apps (safety) plug a stage
into the note without this app importing them: the dependency runs one way, safety → sessions.

Each stage of the one-page note is a `NoteSection` (this app registers exploration, rapport,
problem-solving and follow-up; the safety app registers safety). The note page, autosave,
completion badges, the content hash, the PDF and the FHIR Bundle iterate `sections()` in order,
and a section answers for everything of its stage:

- `sign_problems(note)`: its unmet sign-time rules; `note_sign` lists them with the header's and
  refuses with every problem at once (CLINICAL.md §9);
- `cosign_reasons(note)`: any reason sends the signed note to "awaiting co-sign";
- `client_panels()`: blocks it adds to the client page (the safety plan, disclosures);
- `consult_reply_saved(reply)`: runs in the transaction that saves a supervisor's consult reply;
- `fhir_resources()`: its FHIR R4 resources in the signed record's Bundle (docs/fhir.md).

The sessions app's own rules that belong to no stage (the header's sign rules, the trainee and
clinic-policy co-sign reasons) are plain code in sessions/sign_rules.py, called by the signing
service directly. Tests swap the registered sections with `override(...)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django import forms
from django.db import models
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from crisisnotes.prepared import Statement
    from sessions.fhir import FhirRefs
    from sessions.models import Client, ConsultReply, CrisisSession


class Completion(StrEnum):
    EMPTY = "empty"
    IN_PROGRESS = "in_progress"
    COMPLETE = "complete"


@dataclass(frozen=True)
class SignProblem:
    """One unmet sign-time rule. `field_id` is the HTML id of the field to fix (the page links to
    `#field_id`); `section` is the key of the section it belongs to."""

    message: str
    section: str
    field_id: str
    code: str = ""


class NoteSection:
    """One stage of the note. Subclasses set the class attributes and may override any method.

    The default implementation fits a stage stored in one row (a model with a one-to-one
    `session` primary key, created with the note): `form_class` is a ModelForm over it, and
    `required_fields` decides completion (empty: nothing filled; complete: all required filled).
    """

    key: str = ""
    title: StrOrPromise = ""
    order: int = 0
    model: type[models.Model] | None = None
    form_class: type[forms.ModelForm] | None = None
    required_fields: tuple[str, ...] = ()
    # Editable partial. Context: note, section, forms, completion, last_edited, problems (the
    # section's unmet sign rules) and whatever edit_context() adds.
    template_name: str = ""
    # Read-only partial for locked notes and the PDF (no JS, no external URLs). Context: note,
    # section, pdf (bool) and whatever readonly_context() adds.
    readonly_template_name: str = ""
    related_name: str = ""  # the accessor on CrisisSession for this section's row

    # --- data -----------------------------------------------------------------------------

    def select_related(self) -> tuple[str, ...]:
        """Relations of CrisisSession to join when loading a note page (query budget)."""
        return (self.related_name,) if self.related_name else ()

    def edit_context(self, *, note: CrisisSession, forms: list[forms.BaseForm]) -> dict[str, Any]:
        return {}

    def edit_reads(self, *, note: CrisisSession) -> list[Statement]:
        """The statements of the reads the section's edit forms and context make (each as
        its `PreparedRead.statement` gives it), for the note page to read ahead together
        (crisisnotes/prepared.py `read_ahead`). One missing here is only read on its own."""
        return []

    def readonly_reads(self, *, note: CrisisSession) -> list[Statement]:
        """As `edit_reads`, for the reads of `readonly_context` (the locked note's page)."""
        return []

    def content_reads(self, *, note: CrisisSession) -> list[Statement]:
        """As `edit_reads`, for the reads of `content` (the content hash: signing, the record's
        verification on its page, PDF and periodic check), which `sessions.hashing` sends
        together before it builds the payload."""
        return []

    def readonly_context(self, *, note: CrisisSession) -> dict[str, Any]:
        return {"row": self.row(note)} if self.related_name else {}

    def row(self, note: CrisisSession) -> Any:
        return getattr(note, self.related_name)

    def create_rows(self, *, note: CrisisSession) -> None:
        """Create the section's rows for a new note (inside note_create's transaction)."""
        if self.model is not None:
            self.model._default_manager.create(session=note)

    def get_forms(self, *, note: CrisisSession, data: Any = None) -> list[forms.BaseForm]:
        assert self.form_class is not None
        return [self.form_class(data=data, instance=self.row(note), prefix=self.key)]

    def save(self, *, note: CrisisSession, forms: list[forms.BaseForm]) -> bool:
        """Save valid forms (inside the caller's transaction); return True if anything changed."""
        changed = False
        for form in forms:
            if form.has_changed():
                form.save()  # type: ignore[attr-defined]
                changed = True
        return changed

    def completion(self, *, note: CrisisSession) -> Completion:
        row = self.row(note)
        filled = [f for f in self.required_fields if _filled(getattr(row, f))]
        if not filled:
            return Completion.EMPTY
        return (
            Completion.COMPLETE
            if len(filled) == len(self.required_fields)
            else Completion.IN_PROGRESS
        )

    def last_edited(self, *, note: CrisisSession) -> datetime | None:
        row = self.row(note)
        return getattr(row, "updated_at", None)

    def content(self, *, note: CrisisSession) -> dict[str, Any]:
        """The section's record content as plain JSON-able values, for the content hash. Must be
        stable: same content → same dict, keys in a fixed order."""
        assert self.form_class is not None
        row = self.row(note)
        return {name: _plain(getattr(row, name)) for name in self.form_class._meta.fields or ()}

    def sign_problems(self, note: CrisisSession) -> Iterable[SignProblem]:
        """The section's unmet sign-time rules (a problem may link into another stage, e.g. the
        safety rules that require a follow-up task)."""
        return ()

    def cosign_reasons(self, note: CrisisSession) -> list[str]:
        """Why this section sends a signed note to a supervisor's co-signature (none: signed)."""
        return []

    def client_panels(self) -> list[ClientPanel]:
        """Blocks this section adds to the client page."""
        return []

    def consult_reply_saved(self, reply: ConsultReply) -> None:
        """Runs in the transaction that saves a supervisor's consult reply on a live draft."""

    def fhir_resources(self, *, note: CrisisSession, refs: FhirRefs) -> list[dict[str, Any]]:
        """FHIR R4 resources (plain JSON-able dicts) this section adds to the signed record's
        Bundle; `refs` gives the references of the Patient, Encounter and signers. Pure: reads
        the stored rows, writes nothing. A stage with nothing to map adds nothing."""
        return []

    def render_readonly(
        self, *, note: CrisisSession, request: HttpRequest | None = None, pdf: bool = False
    ) -> SafeString:
        """The section read-only (locked note, review, supervision board; PDF with pdf=True).
        A missing template raises: a record is never shown in a degraded form."""
        context = {"note": note, "section": self, "pdf": pdf, **self.readonly_context(note=note)}
        return mark_safe(  # noqa: S308 — our own templates, autoescaped
            render_to_string(self.readonly_template_name, context, request=request)
        )

    def field_id(self, field: str) -> str:
        """The HTML id Django gives a field of this section's form: "id_<prefix>-<field>"."""
        return f"id_{self.key}-{field}"


def _filled(value: Any) -> bool:
    return value not in (None, "", [], {}, False)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    return value


_sections: dict[str, NoteSection] = {}


@dataclass(frozen=True)
class ClientPanel:
    """A block on the client page: `context(client, user)` returns the template's context."""

    key: str
    order: int
    template_name: str
    context: Callable[[Client, Any], dict[str, Any]]


def register_section(section: NoteSection) -> NoteSection:
    if section.key in _sections and type(_sections[section.key]) is not type(section):
        raise ValueError(f"Two note sections with the key {section.key!r}")
    _sections[section.key] = section
    return section


def sections() -> list[NoteSection]:
    return sorted(_sections.values(), key=lambda s: s.order)


def section(key: str) -> NoteSection:
    return _sections[key]


@contextmanager
def override(*replacements: NoteSection) -> Iterator[None]:
    """Within the block, the registered sections are exactly `replacements` (tests: a section
    whose rules are silenced, or a made-up one); the registry is restored afterwards."""
    saved = dict(_sections)
    _sections.clear()
    try:
        for replacement in replacements:
            register_section(replacement)
        yield
    finally:
        _sections.clear()
        _sections.update(saved)
