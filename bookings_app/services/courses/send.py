"""The worker's part: send a build's events to Wix, step by step, each step's result saved first.

1. **Baseline** (once): Query Events of the course's schedule in the term's dates — the events
   already there, which a later lookup must never mistake for ours.
2. **Lost answers**: events marked sent whose answer was never saved (a timeout, a 5xx — a bulk
   create may apply in part —, a crash) are looked for in Wix and adopted; only the ones Wix does
   not have are sent again (``wix_reads.adopt_lost``).
3. **Create**: Bulk Create Event, at most 50 events a request; the events are marked sent (saved)
   before each request. A per-item refusal fails that event; a refused request (400 and the like:
   Wix validates the whole call first, so nothing of it was made) fails its events; a transient
   failure leaves them marked sent and raises, so the next attempt starts at step 2.
4. **Read back**: the sessions the new events made, written to the mirror exactly as the sync
   writes them (``services.mirror.sessions.events_write``: Today and rosters show them at once)
   and counted against the plan.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from bookings_app.models import CourseBuild, CourseBuildEvent
from bookings_app.services import mirror
from bookings_app.services.courses import messages, wix_reads
from bookings_app.services.courses.commit import MADE_ELSEWHERE
from bookings_app.services.courses.plan import EVENTS_PER_REQUEST
from bookings_app.services.mirror.run import MirrorRun
from bookings_app.wix import WixError, WixPermissionDenied, WixUnauthenticated, calendar

State = CourseBuildEvent.State
Call = Callable[..., Any]


class AnswerMissing(Exception):
    """Wix answered without a result for some event: look for it before sending it again."""


@dataclass
class SendOutcome:
    complete: bool  # every event is in Wix and every session was found
    message: str


def course_build_send(*, build: CourseBuild, call: Call, heartbeat: Callable[[], None] | None = None) -> SendOutcome:
    """Push ``build`` as far as it goes. Raises ``WixError`` (transient, or auth trouble) and
    ``AnswerMissing`` when the worker should try again later; Wix's refusals are saved on the events."""
    counted = _Counting(call, build)
    try:
        return _send(build, counted, heartbeat or (lambda: None))
    finally:
        counted.save()


class _Counting:
    """The Wix calls a build made, kept on the build (the result page shows them)."""

    def __init__(self, call: Call, build: CourseBuild) -> None:
        self.inner, self.build = call, build
        self.by_operation: Counter[str] = Counter(build.steps.get("calls") or {})

    def __call__(self, fn: Callable[..., Any], **kwargs: Any) -> Any:
        self.by_operation[fn.__name__] += 1
        return self.inner(fn, **kwargs)

    def save(self) -> None:
        self.build.save_steps(calls=dict(self.by_operation))


def _send(build: CourseBuild, call: Call, heartbeat: Callable[[], None]) -> SendOutcome:
    events = list(build.events.order_by("position"))
    if "baseline" not in build.steps:
        found = wix_reads.schedule_events(call, build, recurrence_type=wix_reads.MASTERS_AND_SINGLES)
        build.save_steps(baseline=sorted(e["id"] for e in found if e.get("id")))
    sent = [e for e in events if e.state == State.SENT]
    if sent:
        for event in wix_reads.adopt_lost(call, build, sent):
            _mark(event, State.PLANNED)
    pending = [e for e in events if e.state == State.PLANNED]
    for start in range(0, len(pending), EVENTS_PER_REQUEST):
        heartbeat()
        _create(call, pending[start : start + EVENTS_PER_REQUEST])
    if any(e.state == State.SENT for e in events):
        raise AnswerMissing("Wix's answer named no result for some events")
    created = [e for e in events if e.state == State.CREATED]
    if any(e.session_wix_ids is None for e in created):
        heartbeat()
        _read_back(call, build, created)
    return _outcome(build, events)


def _mark(event: CourseBuildEvent, state: str, **fields: Any) -> None:
    event.state = state
    for name, value in fields.items():
        setattr(event, name, value)
    event.save(update_fields=["state", *fields])


def _create(call: Call, chunk: list[CourseBuildEvent]) -> None:
    now = timezone.now()
    with transaction.atomic():
        for event in chunk:
            _mark(event, State.SENT, sent_at=now, error_code="", message="")
    try:
        answer = call(calendar.bulk_create_events, events=[e.payload for e in chunk])
    except (WixUnauthenticated, WixPermissionDenied):
        raise  # the key or the site, not the events: later, after someone fixes it (marked sent: looked up first)
    except WixError as err:
        if err.transient:
            raise  # may have applied in part: marked sent, looked up before anything is sent again
        text = messages.request_refused(err)
        with transaction.atomic():
            for event in chunk:
                _mark(event, State.FAILED, error_code=err.code[:64], message=text[:500])
        return
    with transaction.atomic():
        for result in answer.get("results") or []:
            meta = result.get("itemMetadata") or {}
            index = meta.get("originalIndex")
            if not isinstance(index, int) or not 0 <= index < len(chunk):
                continue
            event = chunk[index]
            if meta.get("success") and meta.get("id"):
                _mark(event, State.CREATED, wix_id=meta["id"])
            else:
                code, reason = messages.item_reason(meta.get("error") or {})
                _mark(event, State.FAILED, error_code=code[:64], message=reason[:500])


def _read_back(call: Call, build: CourseBuild, created: list[CourseBuildEvent]) -> None:
    found = wix_reads.schedule_events(call, build, recurrence_type=wix_reads.SESSIONS)
    by_event = wix_reads.sessions_by_event(found, created)
    ours = [s for sessions in by_event.values() for s in sessions]
    run = MirrorRun(wix=None, actor="worker")
    with transaction.atomic():
        if ours:
            mirror.sessions.events_write(run, ours)
        for event in created:
            sessions = sorted(by_event.get(event.pk, []), key=lambda s: (s.get("start") or {}).get("localDate") or "")
            _mark(event, event.state, session_wix_ids=[s["id"] for s in sessions])
    build.save_steps(read_back_at=timezone.now().isoformat())


def _outcome(build: CourseBuild, events: list[CourseBuildEvent]) -> SendOutcome:
    total = sum(len(e.sessions) for e in events)
    created = sum(len(e.sessions) for e in events if e.state == State.CREATED)
    # Refused here, then made by another build (a timetable uploaded again): in Wix, not ours to send.
    elsewhere = sum(len(e.sessions) for e in events if e.state == State.FAILED and e.error_code == MADE_ELSEWHERE)
    failed_events = [e for e in events if e.state == State.FAILED and e.error_code != MADE_ELSEWHERE]
    failed = sum(len(e.sessions) for e in failed_events)
    waiting = total - created - elsewhere - failed
    text = messages.build_summary(
        created=created + elsewhere,
        failed=failed,
        waiting=waiting,
        total=total,
        reasons=[e.message for e in failed_events],
    )
    if elsewhere:
        text += f" ({elsewhere} of them made by a later import or term.)"
    short = [e for e in events if e.state == State.CREATED and (e.sessions_found or 0) != len(e.sessions)]
    if short:
        found = sum(e.sessions_found or 0 for e in events if e.state == State.CREATED)
        text += (
            f" Wix shows {found} of the {created} sessions these events should have made: check the course's "
            "calendar in Wix."
        )
    return SendOutcome(complete=not failed and not waiting and not short, message=text[:500])
