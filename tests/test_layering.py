"""The layers keep to their direction (docs/architecture.md, "Layers inside an app"), read from
the source with `ast`, so a violation fails here before it shows up as an import error at run time:

- no selectors module and no template tag module imports a services module, at any level (a
  read never reaches for the code that writes; what both need lives in a plain module such as
  sessions/hashing.py or sessions/policies.py);
- the module-level imports of the apps (sessions, safety, crisisnotes) form no cycle. Imports
  inside a function or under `if TYPE_CHECKING:` run later or never, so they are not edges;
- WeasyPrint is loaded only where a PDF is made: crisisnotes.pdf is its one importer, and no
  module imports crisisnotes.pdf at module level (loading it costs ~0.7 s of CPU, which every
  web worker, Celery worker and `manage.py` command would otherwise pay at start).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("sessions", "safety", "crisisnotes")


def _modules() -> dict[str, Path]:
    """Every app module by dotted name (a package by its own name), migrations left out."""
    found: dict[str, Path] = {}
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts:
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _absolute(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module if _is_package(module) else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """The modules an import statement loads, as dotted names ("from a import b" loads a.b when
    b is a module, and a itself otherwise)."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = _absolute(module, node)
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        yield sub if sub in MODULES else base


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str, *, module_level_only: bool) -> Iterator[str]:
    tree = ast.parse(MODULES[module].read_text(), filename=str(MODULES[module]))

    def walk(nodes: list[ast.stmt]) -> Iterator[str]:
        for node in nodes:
            if isinstance(node, ast.Import | ast.ImportFrom):
                yield from _targets(module, node)
            elif isinstance(node, ast.If) and _is_type_checking(node):
                if not module_level_only:
                    yield from walk(node.body)
                yield from walk(node.orelse)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if not module_level_only:
                    yield from walk(node.body)
            else:
                # Class bodies, try/with/if blocks run at import time too.
                for field in ("body", "orelse", "finalbody"):
                    children = getattr(node, field, None)
                    if isinstance(children, list):
                        yield from walk([c for c in children if isinstance(c, ast.stmt)])
                for handler in getattr(node, "handlers", []) or []:
                    yield from walk(handler.body)

    yield from walk(tree.body)


def _is_services(name: str) -> bool:
    return "services" in name.split(".") and name.split(".")[0] in APPS


READERS = sorted(
    name for name in MODULES if {"selectors", "templatetags"} & set(name.split(".")[1:])
)


def test_the_scan_sees_the_readers_and_the_services():
    """The scan has something to scan: a rename that hid every module would pass the rest."""
    assert {
        "sessions.selectors.notes",
        "safety.selectors",
        "sessions.templatetags.record_tags",
    } <= set(READERS)
    assert any(_is_services(name) for name in MODULES)


@pytest.mark.parametrize("module", READERS)
def test_a_reader_imports_no_services_module(module):
    offending = sorted({t for t in _imports(module, module_level_only=False) if _is_services(t)})
    assert not offending, f"{module} imports {offending}"


def _graph() -> dict[str, set[str]]:
    return {
        module: {
            t for t in _imports(module, module_level_only=True) if t in MODULES and t != module
        }
        for module in MODULES
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_check_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_the_apps_module_level_imports_have_no_cycle():
    assert _cycles(_graph()) == []


def test_weasyprint_is_loaded_only_where_a_pdf_is_made():
    importers = sorted(
        module
        for module in MODULES
        if any(t.split(".")[0] == "weasyprint" for t in _imports(module, module_level_only=False))
    )
    assert importers == ["crisisnotes.pdf"]
    graph = _graph()
    at_import = sorted(module for module, targets in graph.items() if "crisisnotes.pdf" in targets)
    assert at_import == [], f"{at_import} import crisisnotes.pdf when they load"
    used_later = {
        module
        for module in MODULES
        if "crisisnotes.pdf" in set(_imports(module, module_level_only=False))
    }
    assert {"safety.views", "sessions.services.exports.record"} <= used_later  # the scan sees them
