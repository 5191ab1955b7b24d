"""The route table: handlers register with :func:`route`, the sandbox looks them up with :func:`match`.

Handlers live in ``handlers/`` (one module or package per Wix API area) and register with
:func:`route`, naming the SDK's primary ``METHOD /path``; every alias that ``endpoints.json`` lists
for that operation is routed to the same handler automatically.

This module imports no handler. Importing the ``wix_sandbox`` package imports ``handlers``, which
registers every route, so a :class:`~wix_sandbox.app.Sandbox` always finds them all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import Sandbox, SandboxRequest

_ENDPOINTS_FILE = Path(__file__).resolve().parent / "endpoints.json"

Handler = Callable[["Sandbox", "SandboxRequest"], dict[str, Any]]


@dataclass
class _Route:
    method: str
    template: str
    regex: re.Pattern[str]
    handler: Handler


_ROUTES: list[_Route] = []


def _load_aliases() -> dict[tuple[str, str], list[str]]:
    data = json.loads(_ENDPOINTS_FILE.read_text())
    aliases: dict[tuple[str, str], list[str]] = {}
    for op in data:
        key = (op["http_method"], op["path"])
        aliases.setdefault(key, []).extend(op.get("alt_paths") or [])
    return aliases


_ALIASES = _load_aliases()


def _compile(template: str) -> re.Pattern[str]:
    pattern = ""
    for part in re.split(r"(\{[^}]+\})", template):
        if part.startswith("{"):
            name = part[1:-1].replace(".", "_")
            pattern += f"(?P<{name}>[^/:]+)"
        else:
            pattern += re.escape(part)
    return re.compile(f"^{pattern}$")


def route(spec: str, *extra_paths: str) -> Callable[[Handler], Handler]:
    """Register a handler for ``"METHOD /path"`` plus its endpoints.json aliases."""
    method, path = spec.split(" ", 1)

    def decorator(fn: Handler) -> Handler:
        for template in (path, *_ALIASES.get((method, path), []), *extra_paths):
            _ROUTES.append(_Route(method, template, _compile(template), fn))
        return fn

    return decorator


def routed_templates() -> set[tuple[str, str]]:
    return {(r.method, r.template) for r in _ROUTES}


def match(method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
    """The handler of the first route that matches, with the path parameters it captured."""
    for r in _ROUTES:
        if r.method != method:
            continue
        m = r.regex.match(path)
        if m:
            return r.handler, m.groupdict()
    return None
