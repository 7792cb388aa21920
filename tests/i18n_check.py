"""Finds user-facing text in Django templates that is not inside a translation tag.

Usage: python tests/i18n_check.py [templates_dir_or_file ...]   (default: ./templates)
Prints ``path:line: text`` for every untranslated string and exits 1 if there is any.
Importable: ``find_untranslated(paths)`` returns the findings; tests/test_i18n.py uses it.

What counts as user-facing (docs/i18n.md has the full rule):
- text between tags, in .html and .txt templates (a .txt template, an e-mail, is all text);
- the attributes a person reads: title, placeholder, aria-label, aria-description, alt, label,
  the confirm dialog's data-confirm / data-confirm-detail / data-confirm-button, and the value of
  <input type="submit|button|reset">;
- string literals a template passes as text: the argument of |default, |default_if_none and
  |yesno, and ``{% include ... with key="Some text" %}`` values that look like prose.

Text passes when it is produced by {% translate %} / {% blocktranslate %} (or the old
trans/blocktrans names), by a variable, or is only whitespace, digits, punctuation, symbols or
HTML entities. Template comments and the contents of <script> and <style> are ignored. A short
list of names that are never translated (the product name, instrument acronyms) is allowed.
The checker reads the template source only: it needs no Django settings.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

# Stands in for anything a template tag or variable produces: never user-facing text itself.
MARK = "\ue000"

TEMPLATE_SUFFIXES = (".html", ".txt")

# Attributes whose value a person reads (or a screen reader speaks).
TEXT_ATTRIBUTES = frozenset(
    {
        "title",
        "placeholder",
        "aria-label",
        "aria-description",
        "aria-roledescription",
        "aria-valuetext",
        "alt",
        "label",
        "data-confirm",
        "data-confirm-detail",
        "data-confirm-button",
    }
)
BUTTON_INPUT_TYPES = frozenset({"submit", "button", "reset"})

# Names that read the same in every language: the product and the clinical instruments'
# acronyms. Exact matches of a whole text node or attribute value only.
NEVER_TRANSLATED = frozenset(
    {"crisisnotes", "C-SSRS", "SAFE-T", "SUDS", "BARS", "FHIR", "LOINC", "PDF", "CSV", "JSON"}
)

TRANSLATE_TAGS = frozenset({"translate", "trans"})
BLOCK_TRANSLATE_OPEN = frozenset({"blocktranslate", "blocktrans"})
BLOCK_TRANSLATE_CLOSE = frozenset({"endblocktranslate", "endblocktrans"})

# {% ... %}, {{ ... }} and {# ... #}, as Django's Lexer splits them.
TAG_RE = re.compile(r"({%.*?%}|{{.*?}}|{#.*?#})", re.DOTALL)
FILTER_LITERAL_RE = re.compile(
    r"""\|\s*(?:default|default_if_none|yesno)\s*:\s*(?P<q>["'])(?P<text>(?:(?!(?P=q)).)*)(?P=q)"""
)
WITH_LITERAL_RE = re.compile(r"""\b[\w.]+=(?P<q>["'])(?P<text>(?:(?!(?P=q)).)*)(?P=q)""")
LETTER_RE = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text}"


def is_user_text(text: str) -> bool:
    """True if what is left after removing template output still reads as words."""
    words = [
        w for w in text.replace(MARK, " ").split() if w.strip(".,;:·()") not in NEVER_TRANSLATED
    ]
    return bool(LETTER_RE.search(" ".join(words)))


def _looks_like_prose(literal: str) -> bool:
    # include ... with active="audit" is a key, with label="Follow-ups overdue" is text.
    literal = literal.strip()
    if not is_user_text(literal):
        return False
    return any(c.isspace() for c in literal) or literal[0].isupper()


def _flatten(source: str) -> tuple[str, list[tuple[int, str]]]:
    """Replaces every template construct by MARK (keeping its newlines, so lines still match).

    Translated text disappears; comments disappear. Returns the HTML left and the literal-string
    findings (line, text) met inside template tags on the way.
    """
    out: list[str] = []
    literals: list[tuple[int, str]] = []
    line = 1
    in_blocktranslate = False
    in_comment = False
    for piece in TAG_RE.split(source):
        newlines = piece.count("\n")
        if piece.startswith("{%") and piece.endswith("%}"):
            words = piece[2:-2].split()
            name = words[0] if words else ""
            if in_comment:
                in_comment = name != "endcomment"
            elif name == "comment":
                in_comment = True
            elif name in BLOCK_TRANSLATE_OPEN:
                in_blocktranslate = True
            elif name in BLOCK_TRANSLATE_CLOSE:
                in_blocktranslate = False
            elif name not in TRANSLATE_TAGS and not in_blocktranslate:
                literals.extend(
                    (line, m["text"])
                    for m in FILTER_LITERAL_RE.finditer(piece)
                    if _looks_like_prose(m["text"])
                )
                if name in {"include", "with"}:
                    literals.extend(
                        (line, m["text"])
                        for m in WITH_LITERAL_RE.finditer(piece)
                        if _looks_like_prose(m["text"])
                    )
            out.append(MARK + "\n" * newlines)
        elif piece.startswith("{{") and piece.endswith("}}"):
            if not in_comment and not in_blocktranslate:
                literals.extend(
                    (line, m["text"])
                    for m in FILTER_LITERAL_RE.finditer(piece)
                    if _looks_like_prose(m["text"])
                )
            out.append(MARK + "\n" * newlines)
        elif (piece.startswith("{#") and piece.endswith("#}")) or in_comment:
            out.append("\n" * newlines)
        elif in_blocktranslate:
            out.append(MARK + "\n" * newlines)
        else:
            out.append(piece)
        line += newlines
    return "".join(out), [(ln, t) for ln, t in literals if is_user_text(t)]


class _TextFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)  # entities arrive apart, and are ignored
        self.found: list[tuple[int, str]] = []
        self._raw_depth = 0  # inside <script> or <style>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        values = dict(attrs)
        for name, value in attrs:
            if value is None:
                continue
            user_facing = name in TEXT_ATTRIBUTES or (
                name == "value"
                and tag == "input"
                and (values.get("type") or "").lower() in BUTTON_INPUT_TYPES
            )
            if user_facing and is_user_text(_strip_entities(value)):
                self.found.append((line, value))
        if tag in {"script", "style"}:
            self._raw_depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in {"script", "style"}:
            self._raw_depth -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"} and self._raw_depth:
            self._raw_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._raw_depth or not is_user_text(data):
            return
        line = self.getpos()[0] + data[: len(data) - len(data.lstrip())].count("\n")
        self.found.append((line, data))


def _strip_entities(text: str) -> str:
    return re.sub(r"&(#\d+|#x[0-9a-fA-F]+|\w+);", " ", text)


def _clean(text: str) -> str:
    return " ".join(text.replace(MARK, "…").split())


def check_source(source: str, path: str, *, plain_text: bool = False) -> list[Finding]:
    html, literals = _flatten(source)
    findings = [
        Finding(path, ln, f'"{t}" (string literal in a template tag)') for ln, t in literals
    ]
    if plain_text:
        # An e-mail body: every line is text a person reads.
        for number, text in enumerate(html.splitlines(), start=1):
            if is_user_text(_strip_entities(text)):
                findings.append(Finding(path, number, _clean(text)))
    else:
        finder = _TextFinder()
        finder.feed(html)
        finder.close()
        findings.extend(Finding(path, ln, _clean(t)) for ln, t in finder.found)
    return sorted(findings, key=lambda f: f.line)


def check_file(path: Path) -> list[Finding]:
    source = path.read_text(encoding="utf-8")
    return check_source(source, str(path), plain_text=path.suffix == ".txt")


def template_files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in TEMPLATE_SUFFIXES)
        elif path.suffix in TEMPLATE_SUFFIXES:
            yield path


def find_untranslated(paths: Iterable[Path | str]) -> list[Finding]:
    findings: list[Finding] = []
    for path in template_files(Path(p) for p in paths):
        findings.extend(check_file(path))
    return findings


def main(argv: list[str]) -> int:
    findings = find_untranslated(argv or ["templates"])
    for finding in findings:
        print(finding)
    if findings:
        print(f"{len(findings)} untranslated string(s)", file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
