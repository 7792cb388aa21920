"""The C-SSRS screener (screen version): verbatim items, skip logic and risk, as pure functions.

Answers are a mapping item → True (yes) / False (no) / None (not asked or not yet answered).
The same rules run in the browser (static/js/cssrs.js) for live skip logic; the server is the
authority and rejects answers to items the skip logic does not ask (CLINICAL.md §1).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from django.db import models


class CssrsVersion(models.TextChoices):
    RECENT = "recent", "Recent (past month)"
    SINCE_LAST_CONTACT = "since_last_contact", "Since last contact"


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
    "recent": "Items 1–5: in the past month; item 6: ever, with 6b: in the past 3 months.",
    "since_last_contact": "Every item: since the last contact. There is no 6b.",
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


Answers = Mapping[str, bool | None]

# Risk levels as stored on the note (sessions.models.notes.RiskLevel values), lowest first.
NONE, LOW, MODERATE, HIGH = "none", "low", "moderate", "high"
LEVELS = (NONE, LOW, MODERATE, HIGH)
LABELS = {NONE: "None", LOW: "Low", MODERATE: "Moderate", HIGH: "High"}


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
            return "Question 6b is not part of the since-last-contact version: leave it blank."
        return "Question 6b is asked only when question 6 is yes: leave it blank."
    if answers.get("q2") is None:
        return f"Question {number} is asked only after question 2 is answered."
    return f"Question {number} is skipped when question 2 is no: leave it blank."


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


def _completions(answers: dict[str, bool | None], version: str) -> Iterator[dict[str, bool | None]]:
    missing = cssrs_missing(answers, version)
    if not missing:
        yield answers
        return
    for value in (True, False):
        yield from _completions({**answers, missing[0]: value}, version)


def cssrs_risk(answers: Answers, version: str) -> str | None:
    """The screen's risk (none/low/moderate/high) as soon as the answers determine it: the level
    every way of finishing the screen would give. None while undetermined, or if inconsistent."""
    if cssrs_validate(answers, version):
        return None
    clean = {key: answers.get(key) for key in ITEM_KEYS}
    levels = {_risk_of_complete(done, version) for done in _completions(clean, version)}
    return levels.pop() if len(levels) == 1 else None


def cssrs_risk_floor(answers: Answers, version: str) -> str | None:
    """The lowest risk any way of finishing the screen could still give: what is already known
    while the risk itself is undetermined (items 1–3 yes → at least moderate before item 4).
    Equals `cssrs_risk` once that is determined. None if inconsistent. Display only: the stored
    risk stays `cssrs_risk`."""
    if cssrs_validate(answers, version):
        return None
    clean = {key: answers.get(key) for key in ITEM_KEYS}
    levels = {_risk_of_complete(done, version) for done in _completions(clean, version)}
    return min(levels, key=LEVELS.index)


def cssrs_risk_text(answers: Answers, version: str) -> str:
    """The screen risk as the page shows it while the counselor is asking (static/js/cssrs.js
    writes the same text)."""
    risk = cssrs_risk(answers, version)
    if risk:
        return LABELS[risk]
    floor = cssrs_risk_floor(answers, version)
    if floor and floor != NONE:
        return f"at least {LABELS[floor]} so far"
    return "not determined yet"


def cssrs_any_yes(answers: Answers) -> bool:
    return any(answers.get(key) is True for key in ITEM_KEYS)
