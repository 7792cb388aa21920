"""The C-SSRS screener (screen version): verbatim items, skip logic and risk, as pure functions.

Answers are a mapping item → True (yes) / False (no) / None (not asked or not yet answered).
The same rules run in the browser (static/js/cssrs.js) for live skip logic; the server is the
authority and rejects answers to items the skip logic does not ask (CLINICAL.md §1).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class CssrsVersion(models.TextChoices):
    RECENT = "recent", _("Recent (past month)")
    SINCE_LAST_CONTACT = "since_last_contact", _("Since last contact")


@dataclass(frozen=True)
class Item:
    key: str
    number: str
    loinc: str
    text: str


# The wording of a validated instrument: never edit these strings.
ITEMS: tuple[Item, ...] = (
    Item(
        "q1",
        "1",
        "93246-7",
        "Have you wished you were dead or wished you could go to sleep and not wake up?",
    ),
    Item("q2", "2", "93247-5", "Have you actually had any thoughts of killing yourself?"),
    Item("q3", "3", "93248-3", "Have you been thinking about how you might do this?"),
    Item(
        "q4",
        "4",
        "93249-1",
        "Have you had these thoughts and had some intention of acting on them?",
    ),
    Item(
        "q5",
        "5",
        "93250-9",
        "Have you started to work out or worked out the details of how to kill yourself? "
        "Do you intend to carry out this plan?",
    ),
    Item(
        "q6",
        "6",
        "93267-3",
        "Have you ever done anything, started to do anything, or prepared to do anything to end "
        "your life?",
    ),
    Item("q6b", "6b", "93269-9", "Was this within the past 3 months?"),
)
ITEM_KEYS: tuple[str, ...] = tuple(item.key for item in ITEMS)
ITEM_BY_KEY = {item.key: item for item in ITEMS}

# The "since last contact" version (CLINICAL.md §1): every item asks about the time since the
# last contact, item 6 included, and there is no 6b. Never "ever" or "lifetime" here: the
# wording and the scoring (6 = yes scores high) say the same thing.
SINCE_LAST_CONTACT_TEXT: dict[str, str] = {
    "q1": "Since last contact, have you wished you were dead or wished you could go to sleep "
    "and not wake up?",
    "q2": "Since last contact, have you actually had any thoughts of killing yourself?",
    "q3": "Since last contact, have you been thinking about how you might do this?",
    "q4": "Since last contact, have you had these thoughts and had some intention of acting on "
    "them?",
    "q5": "Since last contact, have you started to work out or worked out the details of how to "
    "kill yourself? Do you intend to carry out this plan?",
    "q6": "Since last contact, have you done anything, started to do anything, or prepared to "
    "do anything to end your life?",
}

# The time frame each version asks about, as the page says it above the items.
WINDOW_TEXT = {
    "recent": _("Items 1–5: in the past month; item 6: ever, with 6b: in the past 3 months."),
    "since_last_contact": _("Every item: since the last contact. There is no 6b."),
}

# The screener's examples for item 6 (preparatory behaviour and attempts), shown with it.
ITEM6_EXAMPLES = (
    "Examples: collected pills, obtained a gun, gave away valuables, wrote a will or suicide "
    "note, took out pills but did not swallow any, held a gun but changed their mind or it was "
    "grabbed from their hand, went to the roof but did not jump; or actually took pills, tried "
    "to shoot, cut or hang themselves."
)


def cssrs_items(version: str) -> tuple[Item, ...]:
    """The items of a version, in order, with that version's wording (no 6b in "since last
    contact")."""
    if version == CssrsVersion.SINCE_LAST_CONTACT:
        return tuple(
            Item(item.key, item.number, item.loinc, SINCE_LAST_CONTACT_TEXT[item.key])
            for item in ITEMS
            if item.key in SINCE_LAST_CONTACT_TEXT
        )
    return ITEMS


def cssrs_item_text(key: str, version: str) -> str:
    """One item's wording in a version ("" for 6b in "since last contact": not asked)."""
    if version == CssrsVersion.SINCE_LAST_CONTACT:
        return SINCE_LAST_CONTACT_TEXT.get(key, "")
    return ITEM_BY_KEY[key].text


# --- Translations: validated ones only ------------------------------------------------------
#
# The items are read to the client in the client's language (Client.language) only where a
# validated translation of that version of the screener exists; otherwise the English items
# stay, with a notice. Never machine- or ad-hoc-translated: the wording is the instrument.
# The answers are stored as the same item codes (q1…q6b) whatever language was used.
#
# Spanish, recent version ("Columbia-Escala de Severidad Suicida (C-SSRS), versión exploratoria
# reciente" — the screener with items 1–5 in the past month and item 6 with 6b), as published
# by the Columbia Lighthouse Project / The Research Foundation for Mental Hygiene
# (cssrs.columbia.edu). Transcribed word for word from two independent public transcriptions
# of the publisher's form, which agree on items 2–5 and 6b (docs/i18n.md: where they differ,
# and what to check before clinical use); spelling and grammar are the publisher's.
# Spanish, "since last contact" version: no published Spanish wording was found, so it is not
# validated here and the English items are shown with the notice.


@dataclass(frozen=True)
class Translation:
    items: Mapping[str, str]
    item6_examples: str
    source: str


VALIDATED_TRANSLATIONS: dict[tuple[str, str], Translation] = {
    ("es", "recent"): Translation(
        items={
            "q1": "¿Ha deseado estar muerto(a) o poder dormirse y no despertar?",
            "q2": "¿Ha tenido realmente la idea de suicidarse?",
            "q3": "¿Ha pensado en cómo llevaría esto a cabo?",
            "q4": "¿Ha tenido estas ideas y en cierto grado la intención de llevarlas a cabo?",
            "q5": "¿Ha comenzado a elaborar o ha elaborado los detalles sobre cómo suicidarse? "
            "¿Tenía intenciones de llevar a cabo este plan?",
            "q6": "¿Alguna vez ha hecho algo usted, comenzado a hacer algo o se ha preparado "
            "para hacer algo para terminar su vida?",
            "q6b": "¿Fue esto en los últimos 3 meses?",
        },
        item6_examples=(
            "Ejemplos: Colectar píldoras, obtener una arma, regalar cosas de valor, escribir un "
            "testamento o carta de suicidio, sacado píldoras de la botella pero no las tragado, "
            "agarrar una arma pero ha cambiado de mente de usarla o alguien se la ha quitado de "
            "sus manos, ha subido al techo pero no ha saltado al vacío; o realmente ha tomado "
            "píldoras, ha tratado de disparar una arma, se ha cortado, ha tratado de colgarse, "
            "etc."
        ),
        source="Columbia-Escala de Severidad Suicida (C-SSRS), versión exploratoria reciente "
        "(The Columbia Lighthouse Project)",
    ),
}


@dataclass(frozen=True)
class Wording:
    """What the counselor reads out for one version in one language."""

    language: str  # the language the items are actually in
    items: Mapping[str, str]  # item key → text (no q6b in "since last contact")
    item6_examples: str
    validated_translation: bool  # False: the client's language has none, items in English
    requested_language: str

    @property
    def fallback(self) -> bool:
        return self.language != self.requested_language


def cssrs_wording(version: str, language: str) -> Wording:
    """The items of `version` in `language` if a validated translation exists, else English
    (and `fallback` is True: the page says so)."""
    english = {item.key: cssrs_item_text(item.key, version) for item in cssrs_items(version)}
    if language == "en":
        return Wording("en", english, ITEM6_EXAMPLES, True, "en")
    translation = VALIDATED_TRANSLATIONS.get((language, str(version)))
    if translation is None:
        return Wording("en", english, ITEM6_EXAMPLES, False, language)
    items = {key: translation.items[key] for key in english}
    return Wording(language, items, translation.item6_examples, True, language)


Answers = Mapping[str, bool | None]

# Risk levels as stored on the note (sessions.models.notes.RiskLevel values), lowest first.
NONE, LOW, MODERATE, HIGH = "none", "low", "moderate", "high"
LEVELS = (NONE, LOW, MODERATE, HIGH)
LABELS = {NONE: _("None"), LOW: _("Low"), MODERATE: _("Moderate"), HIGH: _("High")}


def cssrs_asked(answers: Answers, version: str) -> list[str]:
    """The items the skip logic asks, given the answers so far, in order.

    Always 1 and 2. 2 = yes → 3, 4, 5, 6; 2 = no → 6 (while 2 is unanswered nothing after it is
    asked yet). 6b only in the recent version and only if 6 = yes."""
    asked = ["q1", "q2"]
    q2 = answers.get("q2")
    if q2 is True:
        asked += ["q3", "q4", "q5", "q6"]
    elif q2 is False:
        asked += ["q6"]
    if "q6" in asked and answers.get("q6") is True and version == CssrsVersion.RECENT:
        asked.append("q6b")
    return asked


def cssrs_validate(answers: Answers, version: str) -> dict[str, str]:
    """Errors for answers given to items the skip logic skips: {item: message}. Empty = consistent
    (possibly incomplete: see `cssrs_missing`)."""
    asked = set(cssrs_asked(answers, version))
    errors: dict[str, str] = {}
    for key in ITEM_KEYS:
        if key in asked or answers.get(key) is None:
            continue
        errors[key] = _skip_message(key, answers, version)
    return errors


def _skip_message(key: str, answers: Answers, version: str) -> str:
    number = ITEM_BY_KEY[key].number
    if key == "q6b":
        if version != CssrsVersion.RECENT:
            return gettext(
                "Question 6b is not part of the since-last-contact version: leave it blank."
            )
        return gettext("Question 6b is asked only when question 6 is yes: leave it blank.")
    if answers.get("q2") is None:
        return gettext("Question %(number)s is asked only after question 2 is answered.") % {
            "number": number
        }
    return gettext("Question %(number)s is skipped when question 2 is no: leave it blank.") % {
        "number": number
    }


def cssrs_missing(answers: Answers, version: str) -> list[str]:
    """Items the skip logic asks that have no answer yet."""
    return [key for key in cssrs_asked(answers, version) if answers.get(key) is None]


def _risk_of_complete(answers: Answers, version: str) -> str:
    def yes(key: str) -> bool:
        return answers.get(key) is True

    if version == CssrsVersion.SINCE_LAST_CONTACT:
        if yes("q4") or yes("q5") or yes("q6"):
            return HIGH
        if yes("q3"):
            return MODERATE
    else:
        if yes("q4") or yes("q5") or (yes("q6") and yes("q6b")):
            return HIGH
        if yes("q3") or yes("q6"):
            return MODERATE
    if yes("q1") or yes("q2"):
        return LOW
    return NONE


def _completions(answers: dict[str, Any], version: str) -> Iterator[dict[str, Any]]:
    missing = cssrs_missing(answers, version)
    if not missing:
        yield answers
        return
    for value in (True, False):
        yield from _completions({**answers, missing[0]: value}, version)


def cssrs_risk(answers: Answers, version: str) -> str | None:
    """The screen's risk (none/low/moderate/high) as soon as the answers determine it: the level
    every way of finishing the screen would give. None while undetermined, or if inconsistent."""
    levels = _levels(_state(answers), str(version))
    return next(iter(levels)) if levels is not None and len(levels) == 1 else None


def cssrs_risk_floor(answers: Answers, version: str) -> str | None:
    """The lowest risk any way of finishing the screen could still give: what is already known
    while the risk itself is undetermined (items 1–3 yes → at least moderate before item 4).
    Equals `cssrs_risk` once that is determined. None if inconsistent. Display only: the stored
    risk stays `cssrs_risk`."""
    levels = _levels(_state(answers), str(version))
    return None if levels is None else min(levels, key=LEVELS.index)


# An answer other than True, False or None (never stored, but the functions take a mapping):
# every rule above asks only `is True`, `is False` or `is None` of an answer, so all such
# values behave alike and share one key.
_OTHER = "other"


def _state(answers: Answers) -> tuple[bool | str | None, ...]:
    """The answers as a key: one entry per item, in order."""
    state: list[bool | str | None] = []
    for key in ITEM_KEYS:
        value = answers.get(key)
        state.append(value if value is None or value is True or value is False else _OTHER)
    return tuple(state)


@lru_cache(maxsize=1024)
def _levels(state: tuple[bool | str | None, ...], version: str) -> frozenset[str] | None:
    """Every risk level some way of finishing the screen gives (None: inconsistent answers).
    Worked out once per process for each answer state (3^7 states a version): the note page
    asks for the screen's risk, floor and text several times a rendering, and each walked up
    to 32 completions. tests/safety/test_cssrs.py compares it with the walk for every state."""
    answers: dict[str, Any] = dict(zip(ITEM_KEYS, state, strict=True))
    if _skipped_answered(answers, version):
        return None
    return frozenset(_risk_of_complete(done, version) for done in _completions(answers, version))


def _skipped_answered(answers: Answers, version: str) -> bool:
    """Whether an item the skip logic skips has an answer (`cssrs_validate` non-empty)."""
    asked = cssrs_asked(answers, version)
    return any(key not in asked and answers.get(key) is not None for key in ITEM_KEYS)


def cssrs_risk_text(answers: Answers, version: str) -> str:
    """The screen risk as the page shows it while the counselor is asking (static/js/cssrs.js
    writes the same text)."""
    risk = cssrs_risk(answers, version)
    if risk:
        return str(LABELS[risk])
    floor = cssrs_risk_floor(answers, version)
    if floor and floor != NONE:
        return gettext("at least %(level)s so far") % {"level": LABELS[floor]}
    return gettext("not determined yet")


def cssrs_any_yes(answers: Answers) -> bool:
    return any(answers.get(key) is True for key in ITEM_KEYS)
