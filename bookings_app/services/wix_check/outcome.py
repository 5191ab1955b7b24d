"""What the check found: one ``Check`` per line of the report, one ``Answer`` per open question
settled, one ``Leftover`` per thing it made in Wix and could not take back.

``judge_error`` turns a Wix error into the status a site owner reads (MISSING PERMISSION, NOT
INSTALLED …) with what it means and what to do; ``Unrouted`` is what Wix answers for a path it
has no route for, so a 404 for a made-up id is not taken for a missing route.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bookings_app.wix import (
    WixError,
    WixNotFound,
    WixPermissionDenied,
    WixRateLimited,
    WixUnauthenticated,
    WixUnavailable,
)


class Status(StrEnum):
    OK = "OK"
    BAD_KEY = "BAD KEY"
    WRONG_SITE = "WRONG SITE ID"
    MISSING_PERMISSION = "MISSING PERMISSION"
    NOT_INSTALLED = "NOT INSTALLED"
    ROUTE_MISSING = "ROUTE MISSING"
    NO_ANSWER = "NO ANSWER"
    UNEXPECTED = "UNEXPECTED"
    FAILED = "FAILED"
    UNKNOWN = "UNKNOWN"
    SKIPPED = "SKIPPED"


# A 404 with one of these codes (or none) says "no such endpoint", not "no such entity".
GENERIC_NOT_FOUND_CODES = frozenset({"", "NOT_FOUND", "UNKNOWN", "UNIMPLEMENTED"})


@dataclass
class Check:
    section: str
    name: str
    status: Status
    meaning: str
    todo: str = ""
    required: bool = True

    @property
    def failed(self) -> bool:
        return self.required and self.status not in (Status.OK, Status.SKIPPED, Status.UNKNOWN)


@dataclass
class Answer:
    """An open question the check settled; ``key`` is the stored fact (None: report only)."""

    question: str
    answer: str
    key: str | None = None
    value: Any = None
    detail: str = ""


@dataclass
class Leftover:
    """Something the check made in Wix and could not undo."""

    what: str
    wix_id: str
    todo: str


@dataclass
class CheckReport:
    target: str
    write: bool
    checks: list[Check] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    unsettled: list[str] = field(default_factory=list)
    leftovers: list[Leftover] = field(default_factory=list)
    stored: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, check: Check) -> Check:
        self.checks.append(check)
        return check

    def answer(self, answer: Answer) -> Answer:
        self.answers = [a for a in self.answers if not (answer.key and a.key == answer.key)]
        self.answers.append(answer)
        return answer

    @property
    def problems(self) -> list[Check]:
        return [c for c in self.checks if c.failed]

    @property
    def ok(self) -> bool:
        return not self.problems and not self.leftovers


@dataclass(frozen=True)
class Unrouted:
    """What Wix answered for a path it has no route for."""

    status: int | None
    code: str


def describe(err: WixError) -> str:
    """``HTTP 403 PERMISSION_DENIED: message`` — short, one line, no request details."""
    where = f"HTTP {err.status}" if err.status is not None else "no answer"
    message = " ".join(str(err.message or "").split())
    if len(message) > 140:
        message = message[:137] + "..."
    return f"{where} {err.code}" + (f": {message}" if message else "")


def error_data(err: WixError) -> dict[str, Any]:
    """``details.applicationError.data`` of a Wix error (e.g. CART_ALREADY_ORDERED's ``orderId``)."""
    app_error = err.details.get("applicationError") if isinstance(err.details, dict) else None
    data = app_error.get("data") if isinstance(app_error, dict) else None
    return data if isinstance(data, dict) else {}


def route_missing(err: WixError, unrouted: Unrouted | None) -> bool:
    """A 404 (or 405/501) that looks like Wix's "no such endpoint" rather than "no such entity"."""
    if err.status in (405, 501):
        return True
    if not isinstance(err, WixNotFound):
        return False
    if err.code in GENERIC_NOT_FOUND_CODES:
        return True
    return unrouted is not None and unrouted.status == 404 and unrouted.code == err.code


def refused_as_asked(err: WixError, unrouted: Unrouted | None) -> bool:
    """Wix got past the key, the permission and the route, and said no to the request itself."""
    if isinstance(err, WixUnauthenticated | WixPermissionDenied | WixUnavailable | WixRateLimited):
        return False
    if route_missing(err, unrouted) or not_installed(err):
        return False
    return err.status is not None and 400 <= err.status < 500


def not_installed(err: WixError) -> bool:
    return err.code.endswith("_NOT_INSTALLED") or err.code == "APP_NOT_INSTALLED"


def judge_error(err: WixError, *, unrouted: Unrouted | None, permission: str, area: str) -> tuple[Status, str, str]:
    """``(status, meaning, todo)`` for an error Wix gave where the call should have got through."""
    said = describe(err)
    if isinstance(err, WixUnauthenticated):
        return (
            Status.BAD_KEY,
            f"Wix did not accept the credentials ({said}).",
            "Check WIX_API_KEY (or the Wix-app credentials): copy the key again from the API Keys page.",
        )
    if isinstance(err, WixPermissionDenied):
        return (
            Status.MISSING_PERMISSION,
            f"the API key may not call it ({said}).",
            f"Add the {area} permission {permission} to the API key, then run the check again.",
        )
    if not_installed(err):
        return (
            Status.NOT_INSTALLED,
            f"the app behind it is not installed on the site ({said}).",
            f"Install {area} on the site from the Wix App Market, then run the check again.",
        )
    if route_missing(err, unrouted):
        return (
            Status.ROUTE_MISSING,
            f"Wix has no endpoint at this path ({said}).",
            "Wix may have moved or retired it: tell the developers (quote this line).",
        )
    if isinstance(err, WixUnavailable | WixRateLimited):
        return (
            Status.NO_ANSWER,
            f"Wix did not answer properly ({said}).",
            "Probably temporary: run the check again in a few minutes.",
        )
    return Status.UNEXPECTED, f"Wix answered in a way the check did not expect ({said}).", "Tell the developers."
