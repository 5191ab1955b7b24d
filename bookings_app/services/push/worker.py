"""One push run's worker: claiming due actions under a lease, making Wix calls, and the outcomes.

Outcomes delegate to the ``DeskAction`` model methods (``mark_synced``, ``mark_needs_attention``,
``retry_later``) and are counted in the ``PushReport``. ``Push.fail`` sorts any error: a step's
``Attention`` or a Wix business rejection needs staff (with a plain-language message, see
``push.messages``); ``Later``, a transient Wix failure (timeouts, 5xx, 429) or auth trouble goes
back in the queue with backoff.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from bookings_app import workers
from bookings_app.models import Booking, DeskAction
from bookings_app.services import mirror
from bookings_app.services.audit import audit_record
from bookings_app.services.mirror.values import Json
from bookings_app.services.push.messages import MESSAGES, is_business, message
from bookings_app.wix import WixClient, WixError, extended_bookings

logger = logging.getLogger("bookings_app.services.push")

Kind = DeskAction.Kind
Status = DeskAction.Status
T = TypeVar("T")

LEASE = timedelta(minutes=10)  # a RUNNING claim older than this belonged to a worker that died


def lease() -> timedelta:
    """How long a claim holds (``DESK_PUSH_LEASE_SECONDS``, default ``LEASE``): past it, the
    worker that claimed the action is taken for dead and the next push takes it over."""
    seconds = getattr(settings, "DESK_PUSH_LEASE_SECONDS", None)
    return timedelta(seconds=seconds) if seconds else LEASE


class Attention(Exception):
    """A step found a business reason to stop: the action needs staff."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Later(Exception):
    """Not now, try again later (e.g. Wix's search hasn't caught up yet)."""


@dataclass
class PushReport:
    rounds: int = 0
    claimed: int = 0
    synced: int = 0
    needs_attention: int = 0
    retrying: int = 0
    calls: int = 0  # typed Wix calls made (the client's own retries of one call are not counted)
    calls_by_operation: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rounds": self.rounds,
            "claimed": self.claimed,
            "synced": self.synced,
            "needs_attention": self.needs_attention,
            "retrying": self.retrying,
            "calls": self.calls,
            "calls_by_operation": dict(self.calls_by_operation),
        }


class Push:
    def __init__(self, *, wix: WixClient, report: PushReport, ignore_undo_window: bool, ignore_backoff: bool) -> None:
        self.wix = wix
        self.report = report
        self.ignore_undo_window = ignore_undo_window
        self.ignore_backoff = ignore_backoff
        self.mode = getattr(settings.WIX, "payment_mode", "ecom")

    # -- claiming ------------------------------------------------------------------------------

    def claim(self, kinds: Iterable[str], *, limit: int) -> list[DeskAction]:
        now = timezone.now()
        waiting = Q(status=Status.QUEUED)
        if not self.ignore_undo_window:
            waiting &= Q(run_after__lte=now)
        if not self.ignore_backoff:
            waiting &= Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
        abandoned = Q(status=Status.RUNNING, next_attempt_at__lte=now)
        ready = Q(depends_on__isnull=True) | Q(depends_on__status=Status.SYNCED)
        with transaction.atomic():
            due = DeskAction.objects.filter(waiting | abandoned, ready, kind__in=list(kinds)).order_by(
                "created_at", "pk"
            )
            if connection.features.has_select_for_update_skip_locked:
                due = due.select_for_update(skip_locked=True, of=("self",))
            was = dict(due.values_list("pk", "status")[:limit])
            if was:
                DeskAction.objects.filter(pk__in=list(was)).update(
                    status=Status.RUNNING,
                    next_attempt_at=now + lease(),
                    claimed_by=workers.current_worker_id(),
                    updated_at=now,
                )
        if not was:
            return []
        claimed = list(
            DeskAction.objects.filter(pk__in=list(was))
            .select_related("booking__service", "booking__contact", "booking__session", "session", "contact")
            .order_by("created_at", "pk")
        )
        for action in claimed:
            # RUNNING before too: a worker died holding it, and its lease ran out. The saved steps
            # say where it stopped; the phase resumes from there.
            taken_over = was[action.pk] == Status.RUNNING
            action.log_change(was=was[action.pk], reason="lease expired: taken over" if taken_over else "")
        return claimed

    def call(self, fn: Callable[..., T], **kwargs: Any) -> T:
        self.report.calls += 1
        self.report.calls_by_operation[fn.__name__] += 1
        return fn(self.wix, **kwargs)

    # -- outcomes -------------------------------------------------------------------------------

    def synced(self, action: DeskAction, **steps: Any) -> None:
        action.mark_synced(**steps)
        self.report.synced += 1

    def attention(self, action: DeskAction, code: str, message: str, detail: str = "") -> None:
        action.mark_needs_attention(code=code, message=message, detail=detail)
        self.report.needs_attention += 1
        logger.info("desk push: action %s needs attention: %s (%s)", action.pk, message, code)
        audit_record(
            user="worker",
            action="desk.needs_attention",
            obj_type="booking" if action.booking_id else "desk_action",
            obj_id=action.booking_id or action.pk,
            summary=f"Wix refused {action.get_kind_display().lower()}: {message}",
            after={"action": action.pk, "error_code": code},
        )

    def later(self, action: DeskAction, detail: str, *, count: bool = True) -> None:
        action.retry_later(detail=detail, count=count)
        self.report.retrying += 1

    def fail(self, action: DeskAction, err: Exception) -> None:
        """Sort an error into retry-later or needs-attention."""
        if isinstance(err, Attention):
            self.attention(action, err.code, err.message)
        elif isinstance(err, Later):
            self.later(action, str(err))
        elif isinstance(err, WixError) and is_business(err):
            self.attention(action, err.code, message(err.code, action, err), str(err))
        elif isinstance(err, WixError):
            # Transient (timeout, 5xx, 429) — or auth/config trouble that staff can't fix from the roster.
            self.later(action, str(err))
        else:
            logger.exception("desk push: action %s failed", action.pk, exc_info=err)
            self.attention(action, "internal_error", "Something went wrong sending this to Wix — tap Retry.", repr(err))

    def save_steps(self, action: DeskAction, **steps: Any) -> None:
        action.steps = {**action.steps, **steps}
        DeskAction.objects.filter(pk=action.pk).update(steps=action.steps, updated_at=timezone.now())

    def save_steps_many(self, actions: list[DeskAction], **steps: Any) -> None:
        with transaction.atomic():
            for action in actions:
                self.save_steps(action, **steps)

    def extend_lease(self, actions: Iterable[DeskAction]) -> None:
        DeskAction.objects.filter(pk__in=[a.pk for a in actions], status=Status.RUNNING).update(
            next_attempt_at=timezone.now() + lease()
        )

    def guarded(self, action: DeskAction, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as err:  # noqa: BLE001 - every failure is sorted by fail()
            self.fail(action, err)


def booking_absorb(booking: Booking | None, found: Json) -> None:
    """Wix's answer about a booking: keep its revision; take its statuses when the desk has no
    other change of it on the way."""
    if booking is None:
        return
    others = DeskAction.objects.filter(
        booking=booking,
        status__in=(Status.QUEUED, Status.NEEDS_ATTENTION),
        kind__in=(*DeskAction.MONEY_KINDS, *DeskAction.REVERSAL_KINDS, *DeskAction.CHANGE_KINDS),
    ).exists()
    mirror.bookings.booking_absorb(booking=booking, found=found, statuses=not others)


def booking_read(push: Push, booking_id: str) -> Json:
    """The booking as Wix holds it now (Query Extended Bookings by id): what a change whose answer
    was lost looks at before it is sent again. Raises ``Attention`` BOOKING_NOT_FOUND."""
    answer = push.call(
        extended_bookings.query_extended_bookings,
        query={"filter": {"id": booking_id}, "cursorPaging": {"limit": 1}},
    )
    found = answer.get("extendedBookings") or []
    if not found:
        raise Attention("BOOKING_NOT_FOUND", MESSAGES["BOOKING_NOT_FOUND"])
    return found[0]["booking"]


def chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
