"""Conventions as lint errors: ruff is clean, httpx stays inside bookings_app/wix/, the Wix sandbox imports
neither Django nor the app, no import cycles."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUFF = [sys.executable, "-m", "ruff"]


def _ruff_stdin(code: str, filename: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RUFF, "check", "--stdin-filename", filename, "-"],
        cwd=ROOT,
        input=code,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_importing_httpx_outside_the_wix_package_is_a_lint_error() -> None:
    result = _ruff_stdin("import httpx\n\nhttpx.get('https://example.com', timeout=1)\n", "bookings_app/services/x.py")
    assert result.returncode == 1
    assert "TID251" in result.stdout


def test_importing_httpx_inside_the_wix_package_is_allowed() -> None:
    result = _ruff_stdin("import httpx\n\nhttpx.get('https://example.com', timeout=1)\n", "bookings_app/wix/x.py")
    assert result.returncode == 0, result.stdout


# --- the sandbox is plain Python (wix_sandbox/ruff.toml) ---------------------------------------------

SANDBOX_BANNED = (
    "from django.conf import settings\n\nprint(settings)\n",
    "import django.db\n\nprint(django.db)\n",
    "from bookings_app.wix import x\n\nprint(x)\n",
)


@pytest.mark.parametrize("code", SANDBOX_BANNED)
@pytest.mark.parametrize("filename", ["wix_sandbox/x.py", "wix_sandbox/handlers/x.py", "wix_sandbox/transport.py"])
def test_importing_django_or_the_app_inside_the_sandbox_is_a_lint_error(code: str, filename: str) -> None:
    result = _ruff_stdin(code, filename)
    assert result.returncode == 1
    assert "TID251" in result.stdout


@pytest.mark.parametrize("code", SANDBOX_BANNED)
@pytest.mark.parametrize("filename", ["bookings_app/services/x.py", "bookings_app/wix/x.py", "tests/x.py"])
def test_importing_django_or_the_app_outside_the_sandbox_is_allowed(code: str, filename: str) -> None:
    result = _ruff_stdin(code, filename)
    assert result.returncode == 0, result.stdout


def test_the_sandbox_imports_httpx_only_on_its_two_marked_lines() -> None:
    result = _ruff_stdin("import httpx\n\nprint(httpx)\n", "wix_sandbox/handlers/x.py")
    assert result.returncode == 1
    assert "TID251" in result.stdout
    marked = [
        (path.relative_to(ROOT).as_posix(), line.strip())
        for path in sorted((ROOT / "wix_sandbox").rglob("*.py"))
        for line in path.read_text().splitlines()
        if "noqa: TID251" in line
    ]
    assert [path for path, _ in marked] == ["wix_sandbox/transport.py", "wix_sandbox/webhooks.py"]
    assert all(line.startswith("import httpx  # noqa: TID251") for _, line in marked)


def test_the_sandbox_runs_without_django_or_the_app() -> None:
    modules = sorted(_module_name(path, ROOT) for path in (ROOT / "wix_sandbox").rglob("*.py"))
    code = (
        f"import {', '.join(modules)}\n"
        "import sys\n"
        "loaded = sorted(m for m in sys.modules if m == 'django' or m.startswith(('django.', 'bookings_app')))\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "wix_sandbox.seed" in modules and "wix_sandbox.server" in modules


def test_the_codebase_is_ruff_clean() -> None:
    result = subprocess.run([*RUFF, "check", "."], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]


# --- no import cycles ------------------------------------------------------------------------------

PACKAGES = ("backoffice", "bookings_app", "wix_sandbox")


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import the module can run, at any depth (a deferred import inside a function is
    still a dependency); ``if TYPE_CHECKING:`` blocks are left out, they never run."""
    stack = [tree]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                stack.extend(child.orelse)
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child
            stack.append(child)


def import_graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    """Module → the modules of ``packages`` it imports: the most specific module named
    (``from a.b import c`` is ``a.b.c`` when that is a module, else ``a.b``), and, as Python runs
    them first, the packages above it that the importing module is not itself inside (importing
    ``a.b.c`` from ``x`` runs ``a/b/__init__.py``, and whatever that package re-exports)."""
    files = {
        _module_name(path, root): path
        for package in packages
        for path in (root / package).rglob("*.py")
        if "migrations" not in path.parts
    }
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        for node in _imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = name.split(".") if is_package else name.split(".")[:-1]
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, *([base] if base else [])])
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base for alias in node.names]
            for target in targets:
                while target and target not in files:
                    target = target.rpartition(".")[0]
                while target:
                    if target != name and not name.startswith(target + "."):
                        graph[name].add(target)
                    target = target.rpartition(".")[0]
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_the_app_has_no_import_cycles() -> None:
    cycles = import_cycles(import_graph(ROOT, PACKAGES))
    assert cycles == [], "import cycles: " + "; ".join(" ↔ ".join(c) for c in cycles)


def test_the_sandbox_rules_import_no_handler() -> None:
    """Handlers call the cross-area rules in wix_sandbox/rules/; a rule importing a handler would tie them back."""
    graph = import_graph(ROOT, ("wix_sandbox",))
    handlers_imported = {
        module: sorted(target for target in targets if target.startswith("wix_sandbox.handlers"))
        for module, targets in graph.items()
        if module.startswith("wix_sandbox.rules")
    }
    assert handlers_imported and not any(handlers_imported.values()), handlers_imported


def test_the_cycle_check_finds_a_cycle_through_a_deferred_import(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "services").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "services" / "__init__.py").write_text("")
    (pkg / "services" / "desk.py").write_text("from pkg.services import push\n")
    (pkg / "services" / "push.py").write_text("def f():\n    from pkg import tasks\n")
    (pkg / "tasks.py").write_text("from .services.desk import x\n")
    (pkg / "typing_only.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import tasks\n"
    )

    graph = import_graph(tmp_path, ("pkg",))

    assert graph["pkg.tasks"] == {"pkg.services.desk", "pkg.services"}
    assert graph["pkg.typing_only"] == set()
    assert import_cycles(graph) == [["pkg.services.desk", "pkg.services.push", "pkg.tasks"]]


def test_the_cycle_check_sees_the_package_a_submodule_import_runs_first(tmp_path: Path) -> None:
    """``customers`` imports ``desk.ledger``, which runs ``desk/__init__.py``; that re-exports
    ``desk.walk_ins``, which imports ``customers``: a cycle, although no module names the other."""
    pkg = tmp_path / "pkg"
    (pkg / "desk").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "customers.py").write_text("from pkg.desk.ledger import new_action\n")
    (pkg / "desk" / "__init__.py").write_text("from pkg.desk.walk_ins import walk_in_book\n")
    (pkg / "desk" / "ledger.py").write_text("")
    (pkg / "desk" / "walk_ins.py").write_text("from pkg import customers\nfrom pkg.desk import ledger\n")

    graph = import_graph(tmp_path, ("pkg",))

    assert graph["pkg.desk.walk_ins"] == {"pkg.customers", "pkg.desk.ledger"}  # its own package is no edge
    assert import_cycles(graph) == [["pkg.customers", "pkg.desk", "pkg.desk.walk_ins"]]
