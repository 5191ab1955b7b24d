"""Batches of desk actions read as one — a settle, a check in all (the actions share a
``batch_id``): what each did, whether it can still be undone, what a manager could reverse."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from bookings_app.models import Attendance, DeskAction, Session

Kind = DeskAction.Kind
Status = DeskAction.Status
METHODS = {"CASH": "cash", "CARD": "card", "CHECK": "check"}


@dataclass
class BatchTotals:
    """How many people pay how, and how much: a settle's choices before they are committed (the
    Settle screen, its confirmation) or a batch's actions after."""

    cash: Decimal = Decimal("0")
    cash_count: int = 0
    card: Decimal = Decimal("0")
    card_count: int = 0
    check: Decimal = Decimal("0")
    check_count: int = 0
    plan_count: int = 0
    owes: Decimal = Decimal("0")
    owes_count: int = 0
    check_ins: int = 0
    no_shows: int = 0
    people: int = 0

    def add(self, resolution: str, amount: Decimal) -> None:
        """One person's money choice: "cash" | "card" | "check" (``amount``), "plan", "owes"
        (``amount`` owed); anything else ("paid", "skip") takes nothing."""
        if resolution in ("cash", "card", "check", "owes"):
            setattr(self, resolution, getattr(self, resolution) + amount)
            setattr(self, f"{resolution}_count", getattr(self, f"{resolution}_count") + 1)
        elif resolution == "plan":
            self.plan_count += 1

    @property
    def moves_money(self) -> bool:
        return bool(self.cash_count or self.card_count or self.check_count or self.plan_count)


@dataclass
class Batch:
    """One batch: what it did (its actions that still stand), when and by whom."""

    batch_id: str
    created_at: datetime
    created_by: str
    run_after: datetime  # the end of its undo window
    totals: BatchTotals = field(default_factory=BatchTotals)  # what its standing actions did
    reversible: BatchTotals = field(default_factory=BatchTotals)  # in Wix, not reversed yet: a manager may
    actions: int = 0
    standing: int = 0  # not undone or removed
    queued: int = 0  # waiting for the undo window or the worker
    waiting: int = 0  # not in Wix yet (queued, sending, needs attention)
    reversed: int = 0  # payments and plan charges taken back since

    @property
    def is_settle(self) -> bool:
        """A settle moves money; a check in all (or a settle of people who had paid) only checks in."""
        return self.totals.moves_money or bool(self.totals.owes_count)

    def undoable(self, now: datetime | None = None) -> bool:
        """Every standing action still in the undo window: ``corrections.batch_undo`` takes it back."""
        return bool(self.standing) and self.queued == self.standing and (now or timezone.now()) < self.run_after

    @property
    def undo_seconds(self) -> int:
        return max(0, round((self.run_after - timezone.now()).total_seconds()))

    @property
    def undone(self) -> bool:
        return not self.standing


def session_batches(*, session: Session, batch_id: str | None = None) -> list[Batch]:
    """The session's batches (or the one ``batch_id`` names), newest first, with what each did
    and what of it a manager could reverse. Two queries however many actions."""
    actions = DeskAction.objects.filter(session=session).exclude(batch_id="")
    if batch_id is not None:
        actions = actions.filter(batch_id=batch_id)
    return _batches(actions)


def batch_read(*, batch_id: str) -> Batch | None:
    """One batch of any sessions (a settle from the owes list) with what it did, or None. Two
    queries."""
    found = _batches(DeskAction.objects.filter(batch_id=batch_id)) if batch_id else []
    return found[0] if found else None


def session_batches_undoable(*, session: Session, now: datetime | None = None) -> list[Batch]:
    """The session's batches still in their undo window, newest first. One query."""
    now = now or timezone.now()
    open_ids = (
        DeskAction.objects.filter(session=session, status=Status.QUEUED, run_after__gt=now)
        .exclude(batch_id="")
        .values("batch_id")
    )
    found = _batches(DeskAction.objects.filter(session=session, batch_id__in=open_ids), reversals=False)
    return [b for b in found if b.undoable(now)]


def _batches(actions: QuerySet[DeskAction], *, reversals: bool = True) -> list[Batch]:
    """``actions`` grouped by batch, newest batch first; with ``reversals``, one more query for
    the payments and plan charges of theirs reversed since."""
    actions_list = list(actions.select_related("created_by").order_by("pk"))
    synced = [a for a in actions_list if a.kind in (Kind.PAYMENT, Kind.PLAN_CHARGE) and a.status == Status.SYNCED]
    reversed_ids = reversed_action_ids(booking_ids={a.booking_id for a in synced}) if reversals and synced else set()
    batches: dict[str, Batch] = {}
    for action in actions_list:
        batch = batches.get(action.batch_id)
        if batch is None:
            batch = batches[action.batch_id] = Batch(
                batch_id=action.batch_id,
                created_at=action.created_at,
                created_by=action.created_by.get_username() if action.created_by else "",
                run_after=action.run_after,
            )
        _count(batch, action, reversed=action.pk in reversed_ids)
    return sorted(batches.values(), key=lambda b: (b.created_at, b.batch_id), reverse=True)


def reversed_action_ids(*, booking_ids: set[int]) -> set[int]:
    """The desk actions of these bookings that a reversal takes back (a refund, a void, a
    cancel on its way to Wix or in it). One query."""
    return {
        int(pk)
        for pk in DeskAction.objects.filter(
            kind__in=DeskAction.REVERSAL_KINDS,
            booking_id__in=booking_ids,
            status__in=(*DeskAction.LIVE_STATUSES, Status.SYNCED),
        ).values_list("params__reverses", flat=True)
        if pk is not None
    }


def _count(batch: Batch, action: DeskAction, *, reversed: bool) -> None:
    """Add ``action`` to ``batch``'s counts."""
    batch.actions += 1
    if action.status in (Status.UNDONE, Status.REMOVED):
        return
    batch.standing += 1
    batch.queued += action.status == Status.QUEUED
    batch.waiting += action.status in DeskAction.LIVE_STATUSES
    params = action.params or {}
    resolution = ""
    if action.kind == Kind.PAYMENT:
        resolution = METHODS.get(str(params.get("method", "")).upper(), "cash")
        amount = Decimal(str(params.get("amount") or "0"))
    elif action.kind == Kind.PLAN_CHARGE:
        resolution, amount = "plan", Decimal("0")
    elif action.kind == Kind.PAY_LATER:
        resolution, amount = "owes", Decimal(str(params.get("due") or "0"))
    elif action.kind == Kind.ATTENDANCE:
        if params.get("status") == Attendance.Status.ATTENDED:
            batch.totals.check_ins += 1
        else:
            batch.totals.no_shows += 1
    if resolution:
        batch.totals.add(resolution, amount)
        if reversed:
            batch.reversed += 1
        elif action.status == Status.SYNCED and resolution != "owes":
            batch.reversible.add(resolution, amount)
