"""The worker's part of cancelling course sessions: Cancel Event per session, each step saved first.

For each session not cancelled yet, in date order:

1. **A lost answer first**: a session marked sent whose answer was never saved (a timeout, a 5xx, a
   crash) is read with Get Event before anything is sent again — cancelled there already, it is
   done; not cancelled, it goes back to "not sent".
2. **Cancel**: the session is marked sent (saved), then Cancel Event. The event Wix answers with is
   written to the mirror exactly as the sync writes events (``mirror.sessions.events_write``), so
   Today and the roster show the session cancelled at once.
3. **A refusal** (a 4xx other than a missing key): the event is read — cancelled there anyway (say
   in the Wix dashboard, or Wix refusing a second cancel: UNCONFIRMED whether it does, the sandbox
   answers a second cancel with the event) counts as done; a session Wix no longer has, or one Wix
   will not cancel, is refused with the reason. A transient failure raises: the worker tries
   again later, starting at step 1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from bookings_app.models import CourseCancel, CourseCancelSession
from bookings_app.services import mirror
from bookings_app.services.courses import messages
from bookings_app.services.courses.send import SendOutcome
from bookings_app.services.mirror.run import MirrorRun
from bookings_app.wix import WixError, WixNotFound, WixPermissionDenied, WixUnauthenticated, calendar

State = CourseCancelSession.State
Call = Callable[..., Any]
Json = dict[str, Any]
GONE = "This session is no longer in Wix (deleted there?): there is nothing to cancel."


def course_cancel_send(*, cancel: CourseCancel, call: Call, heartbeat: Callable[[], None] | None = None) -> SendOutcome:
    """Cancel ``cancel``'s sessions in Wix as far as it goes. Raises ``WixError`` (transient, or the
    key's trouble) when the worker should try again later; Wix's refusals are saved on the rows."""
    beat = heartbeat or (lambda: None)
    rows = list(cancel.sessions.select_related("session").order_by("session__start", "pk"))
    for row in rows:
        if row.state in (State.CANCELLED, State.FAILED):
            continue
        beat()
        if row.state == State.SENT and _settled_by_reading(call, row):
            continue
        _cancel(call, row)
    return _outcome(rows)


def _mark(row: CourseCancelSession, state: str, **fields: Any) -> None:
    row.state = state
    for name, value in fields.items():
        setattr(row, name, value)
    row.save(update_fields=["state", *fields])


def _is_cancelled(event: Json) -> bool:
    return str(event.get("status") or "").upper() in ("CANCELLED", "CANCELED")


def _mirror(event: Json) -> None:
    """The event as Wix answered it, into the mirror the way the sync writes it (newer wins)."""
    if event.get("id") and event.get("start") and event.get("end"):
        mirror.sessions.events_write(MirrorRun(wix=None, actor="worker"), [event])


def _read(call: Call, row: CourseCancelSession) -> Json | None:
    """The event as Wix holds it now; None when Wix has no such event."""
    try:
        return call(calendar.get_event, event_id=row.event_id).get("event") or {}
    except WixNotFound:
        return None


def _settled_by_reading(call: Call, row: CourseCancelSession) -> bool:
    """A cancel whose answer was lost: read the event. True when that settles it (cancelled there,
    or gone); False: not cancelled, send the cancel again."""
    event = _read(call, row)
    with transaction.atomic():
        if event is None:
            _mark(row, State.FAILED, error_code="EVENT_NOT_FOUND", message=GONE)
            return True
        if _is_cancelled(event):
            _mirror(event)
            _mark(row, State.CANCELLED, error_code="", message="")
            return True
        _mark(row, State.PLANNED)
    return False


def _cancel(call: Call, row: CourseCancelSession) -> None:
    _mark(row, State.SENT, sent_at=timezone.now(), error_code="", message="")
    try:
        answer = call(calendar.cancel_event, event_id=row.event_id)
    except (WixUnauthenticated, WixPermissionDenied):
        raise  # the key or the site: later, once someone fixes it (marked sent: read first)
    except WixError as err:
        if err.transient:
            raise  # may have applied: marked sent, read before it is sent again
        _refused(call, row, err)
        return
    event = answer.get("event") or {}
    if not (event.get("start") and event.get("end")):  # UNCONFIRMED: what Cancel Event answers with
        event = _read(call, row) or {}
    with transaction.atomic():
        _mirror(event)
        _mark(row, State.CANCELLED)


def _refused(call: Call, row: CourseCancelSession, err: WixError) -> None:
    event = None if isinstance(err, WixNotFound) else _read(call, row)
    with transaction.atomic():
        if event is not None and _is_cancelled(event):
            _mirror(event)
            _mark(row, State.CANCELLED)
        elif event is None:
            _mark(row, State.FAILED, error_code=(err.code or "EVENT_NOT_FOUND")[:64], message=GONE)
        else:
            reason = f"Wix refused to cancel it — {messages.wix_reason(err)}"
            _mark(row, State.FAILED, error_code=err.code[:64], message=reason[:500])


def _outcome(rows: list[CourseCancelSession]) -> SendOutcome:
    total = len(rows)
    done = sum(1 for r in rows if r.state == State.CANCELLED)
    failed = [r for r in rows if r.state == State.FAILED]
    if done == total:
        text = f"{'The session is' if total == 1 else f'All {total} sessions are'} cancelled in Wix."
        return SendOutcome(complete=True, message=text)
    reasons: list[str] = []
    for r in failed:
        if r.message and r.message not in reasons:
            reasons.append(r.message)
    text = f"{done} of {messages.plural(total, 'session')} cancelled in Wix."
    if failed:
        verb = "was" if len(failed) == 1 else "were"
        text += f" {messages.plural(len(failed), 'session')} {verb} not ({'; '.join(reasons)}). Retry sends only those."
    return SendOutcome(complete=False, message=text[:500])
