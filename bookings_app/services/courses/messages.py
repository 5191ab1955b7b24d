"""What the admin reads when Wix refuses a course's events: plain language, which sessions exist and
which don't."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bookings_app.wix import WixError, WixValidationError

# A field Wix named in a refusal → what it means for a course term. Matched on the field's end
# (``events[1].event.resources`` …) and, where the same field has several rules, the description.
FIELD_REASONS: list[tuple[str, str, str]] = [
    (".permissionRole", "", "the instructor was sent without a permission role"),
    (".resources", "", "an event was sent without its instructor (a calendar resource is required)"),
    (".start.localDate", "today or later", "a session is in the past — build the term again from today"),
    (".start.localDate", "", "a session's start time was not a local date-time"),
    (".end.localDate", "", "a session's end time was not valid"),
    (".recurrenceRule.days", "", "a weekly series named more than one weekday"),
    (".recurrenceRule", "", "a weekly series was not valid"),
    (".externalScheduleId", "", "the course's service id was missing or wrong"),
    (".scheduleId", "", "the course's calendar (schedule) was missing"),
    (".type", "", "the events were not of the course's type"),
    (".event", "", 'an event was not wrapped as {"event": …}'),
    ("events", "", "the request held no events, or more than 50"),
]

CODE_REASONS = {
    "SCHEDULE_NOT_FOUND": "this course's calendar no longer exists in Wix",
    "RESOURCE_NOT_FOUND": "the instructor's calendar resource no longer exists in Wix — sync, then build the term "
    "again with the instructor Wix has",
    "EVENT_NOT_FOUND": "Wix could not find the event",
    "PERMISSION_DENIED": "the Wix API key may not create calendar events (it needs the Calendar permission)",
}


def violation_reason(violation: dict[str, Any]) -> str:
    field = str(violation.get("field") or "")
    description = str(violation.get("description") or "")
    for suffix, says, reason in FIELD_REASONS:
        if field.endswith(suffix) and says in description:
            return reason
    return description or field or "a field was not valid"


def _unique(reasons: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for reason in reasons:
        if reason and reason not in seen:
            seen.append(reason)
    return seen


def wix_reason(err: WixError) -> str:
    """Why Wix refused a whole request, in a sentence's second half."""
    if isinstance(err, WixValidationError) and err.violations:
        return "; ".join(_unique(violation_reason(v) for v in err.violations))
    return CODE_REASONS.get(err.code) or f"Wix said “{err.message or err.code}” ({err.code})"


def item_reason(error: dict[str, Any]) -> tuple[str, str]:
    """The code and plain reason of one refused item of a bulk answer."""
    code = str(error.get("code") or "UNKNOWN")
    violations = (error.get("data") or {}).get("fieldViolations") or []
    if violations:
        return code, "; ".join(_unique(violation_reason(v) for v in violations))
    return code, CODE_REASONS.get(code) or f"Wix said “{error.get('description') or code}” ({code})"


def request_refused(err: WixError) -> str:
    """An event's reason when Wix refused its whole request (nothing of that request was made)."""
    return f"Wix refused the whole request — {wix_reason(err)}"


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def build_summary(*, created: int, failed: int, waiting: int, total: int, reasons: list[str]) -> str:
    """One paragraph: how many sessions exist in Wix, how many don't, and why."""
    if created == total:
        return f"All {plural(total, 'session')} are in Wix."
    parts = [f"{created} of {plural(total, 'session')} are in Wix."]
    if failed:
        why = "; ".join(_unique(reasons)) or "Wix refused them"
        verb = "was" if failed == 1 else "were"
        parts.append(f"{plural(failed, 'session')} {verb} not created ({why}). Retry creates only those.")
    if waiting:
        parts.append(f"{plural(waiting, 'session')} {'is' if waiting == 1 else 'are'} still on their way.")
    return " ".join(parts)
