"""The push run: claim what is due, phase by phase, round after round until nothing is due."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Min, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from bookings_app.models import DeskAction
from bookings_app.services.push.attendance import push_attendance
from bookings_app.services.push.changes import push_booking_changes
from bookings_app.services.push.contacts import push_contacts
from bookings_app.services.push.course_builds import push_course_builds
from bookings_app.services.push.course_cancels import push_course_cancels
from bookings_app.services.push.money import push_money
from bookings_app.services.push.packages import push_packages
from bookings_app.services.push.plan_sales import push_plan_sales
from bookings_app.services.push.reversals import push_reversals
from bookings_app.services.push.walk_ins import push_walk_ins
from bookings_app.services.push.worker import Push, PushReport
from bookings_app.wix import WixClient

Kind = DeskAction.Kind
Status = DeskAction.Status

CLAIM_BATCH = 400  # actions per phase per round


def push_desk_actions_now(
    *,
    wix: WixClient,
    limit: int | None = None,
    ignore_undo_window: bool = False,
    ignore_backoff: bool = False,
    max_rounds: int = 100,
) -> PushReport:
    """Push everything due, phase by phase, round after round until nothing is due (or ``limit``
    actions were claimed). ``ignore_undo_window`` / ``ignore_backoff`` push actions whose undo
    window / retry delay has not passed yet (tests, benchmarks). Raises nothing from Wix."""
    report = PushReport()
    push = Push(wix=wix, report=report, ignore_undo_window=ignore_undo_window, ignore_backoff=ignore_backoff)
    while report.rounds < max_rounds:
        report.rounds += 1
        before = report.claimed
        for kinds, phase in (
            ((Kind.CONTACT_CREATE,), push_contacts),
            ((Kind.WALK_IN,), push_walk_ins),
            # A package's bookings and its one payment; before money: a later payment of one of
            # its bookings waits on it.
            ((Kind.PACKAGE, Kind.PACKAGE_CANCEL), push_packages),
            # Before money: a visit charged to a plan sold at the desk waits on the sale.
            ((Kind.PLAN_SALE,), push_plan_sales),
            # Before money and attendance: a payment or a check-in follows the booking where it moved.
            ((Kind.RESCHEDULE, Kind.WAITLIST_PROMOTE), push_booking_changes),
            (DeskAction.MONEY_KINDS, push_money),
            ((Kind.ATTENDANCE,), push_attendance),
            (DeskAction.REVERSAL_KINDS, push_reversals),
            ((Kind.COURSE_BUILD,), push_course_builds),
            ((Kind.COURSE_CANCEL,), push_course_cancels),
        ):
            room = None if limit is None else limit - report.claimed
            if room is not None and room <= 0:
                break
            actions = push.claim(kinds, limit=min(CLAIM_BATCH, room) if room is not None else CLAIM_BATCH)
            if actions:
                report.claimed += len(actions)
                phase(push, actions)
        if report.claimed == before or (limit is not None and report.claimed >= limit):
            break
    return report


def push_next_due() -> datetime | None:
    """When the next push should run: when the earliest waiting action becomes due (its undo
    window and backoff passed, or a dead worker's lease expired), never before now. An action
    still waiting on another counts through that one (and not at all behind one that needs
    attention: staff decide first). None when nothing waits."""
    queued = (
        DeskAction.objects.filter(status=Status.QUEUED)
        .filter(Q(depends_on__isnull=True) | Q(depends_on__status=Status.SYNCED))
        .aggregate(due=Min(Greatest("run_after", Coalesce("next_attempt_at", "run_after"))))["due"]
    )
    lease = DeskAction.objects.filter(status=Status.RUNNING).aggregate(due=Min("next_attempt_at"))["due"]
    candidates = [d for d in (queued, lease) if d is not None]
    if not candidates:
        return None
    return max(min(candidates), timezone.now())
