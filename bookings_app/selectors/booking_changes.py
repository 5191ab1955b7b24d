"""The reads of changing a booking at the desk: what the booking change page shows (the service's
policy, where the booking could move to, its money, the changes of it still on their way) and the
roster's waiting list. A fixed number of queries each, whatever the number of sessions or people.

The service's booking policy is read from the mirrored service's payload (``Service.raw``):
CONTRACT.md §6 names ``bookingPolicy`` among a service's fields without its shape. The shape read
here is the Services V2 typings' ``BookingPolicy`` — ``cancellationPolicy{enabled,
limitLatestCancellation, latestCancellationInMinutes}``, ``reschedulePolicy{enabled,
limitLatestReschedule, latestRescheduleInMinutes}``, ``waitlistPolicy{enabled, capacity}``,
``cancellationFeePolicy{enabled}``, ``customPolicyDescription{enabled, description}``
(UNCONFIRMED: not in the contract). A field missing is shown as "not set in Wix", never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F

from bookings_app.models import Attendance, Booking, DeskAction, Payment, Service, Session
from bookings_app.selectors.packages import PackageInfo, booking_packages
from bookings_app.selectors.queries import session_roster_q
from bookings_app.selectors.sessions import session_upcoming_list

Kind = DeskAction.Kind
Status = DeskAction.Status

RESCHEDULE_DAYS = 62  # how far ahead the change page offers sessions (the sync mirrors two months)
RESCHEDULE_CHOICES = 16  # two weeks of a daily class, four rows on a tablet
DESK_MONEY_KINDS = (Kind.PAYMENT, Kind.PLAN_CHARGE)


def duration_text(minutes: int) -> str:
    """ "2 days", "1 day and 3 hours", "24 hours" for a day that is said in hours by Wix, "90 minutes"."""
    if minutes % 1440 == 0 and minutes >= 2880:
        days = minutes // 1440
        return f"{days} days"
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'' if hours == 1 else 's'}"
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


def _minutes(value: Any) -> int | None:
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        return None
    return minutes if minutes >= 0 else None


@dataclass(frozen=True)
class ServicePolicy:
    """What the service's booking policy in Wix says about cancelling and moving a booking. These
    are the rules customers meet online; the desk acts for the business (see
    ``services.desk.changes``) and shows them so staff can apply them."""

    known: bool  # the service carries a booking policy at all
    description: str = ""  # the business's own words (customPolicyDescription), when it has any
    cancel_online: bool | None = None  # customers may cancel online
    cancel_limit: int | None = None  # …until this many minutes before the start (None: any time)
    reschedule_online: bool | None = None
    reschedule_limit: int | None = None
    cancellation_fee: bool = False
    waitlist: bool = False

    def cancel_rule(self) -> str:
        if not self.known or self.cancel_online is None:
            return "No cancellation policy is set for this service in Wix."
        if not self.cancel_online:
            return "Customers can't cancel this service online: only the business cancels."
        if self.cancel_limit:
            return f"Customers may cancel online until {duration_text(self.cancel_limit)} before the start."
        return "Customers may cancel online at any time before the start."

    def reschedule_rule(self) -> str:
        if not self.known or self.reschedule_online is None:
            return "No reschedule policy is set for this service in Wix."
        if not self.reschedule_online:
            return "Customers can't move this booking online: only the business does."
        if self.reschedule_limit:
            return f"Customers may move a booking online until {duration_text(self.reschedule_limit)} before the start."
        return "Customers may move a booking online at any time before the start."

    def cancel_late(self, start: datetime | None, now: datetime) -> bool:
        """Past the time customers could still cancel online (staff cancel anyway, for the business)."""
        if start is None or not self.known or not self.cancel_online:
            return False
        return now >= start - timedelta(minutes=self.cancel_limit or 0)


def service_policy(service: Service) -> ServicePolicy:
    """The service's booking policy as the mirror holds it (its last Wix payload); no query."""
    policy = (service.raw or {}).get("bookingPolicy")
    if not isinstance(policy, dict):
        return ServicePolicy(known=False)

    def part(name: str) -> dict[str, Any]:
        value = policy.get(name)
        return value if isinstance(value, dict) else {}

    cancel, reschedule = part("cancellationPolicy"), part("reschedulePolicy")
    custom = part("customPolicyDescription")
    return ServicePolicy(
        known=True,
        description=str(custom.get("description") or "").strip()[:2000] if custom.get("enabled") else "",
        cancel_online=bool(cancel["enabled"]) if "enabled" in cancel else None,
        cancel_limit=_minutes(cancel.get("latestCancellationInMinutes"))
        if cancel.get("limitLatestCancellation")
        else None,
        reschedule_online=bool(reschedule["enabled"]) if "enabled" in reschedule else None,
        reschedule_limit=_minutes(reschedule.get("latestRescheduleInMinutes"))
        if reschedule.get("limitLatestReschedule")
        else None,
        cancellation_fee=bool(part("cancellationFeePolicy").get("enabled")),
        waitlist=bool(part("waitlistPolicy").get("enabled")),
    )


# --- the booking change page ----------------------------------------------------------------------


@dataclass
class BookingMoney:
    """What was paid for the booking, and by whom it can be taken back."""

    payment_status: str
    desk: list[DeskAction] = field(default_factory=list)  # the desk's payments and plan charges, standing
    reversible: list[DeskAction] = field(default_factory=list)  # …that Wix has and nothing reversed yet
    in_flight: list[DeskAction] = field(default_factory=list)  # …still on their way to Wix
    outside: list[Payment] = field(default_factory=list)  # payments on its order the desk didn't take

    @property
    def paid(self) -> bool:
        return self.payment_status in (Booking.PaymentStatus.PAID, Booking.PaymentStatus.PARTIALLY_PAID)

    @property
    def plan(self) -> bool:
        return any(a.kind == Kind.PLAN_CHARGE for a in self.desk) or any(
            p.method == Payment.Method.PLAN for p in self.outside
        )


@dataclass
class BookingChangeRead:
    booking: Booking
    policy: ServicePolicy
    sessions: list[Session]  # where a class booking may move: upcoming sessions, each with ``free``
    changes: list[DeskAction]  # changes of the booking on their way to Wix (or refused), oldest first
    money: BookingMoney
    checked_in: bool  # at its session (a checked-in booking stays where it is)
    walk_in: DeskAction | None  # the desk's walk-in that made the booking, if the desk made it
    package: PackageInfo | None = None  # the multi-service package it is part of: changed only as a whole

    @property
    def is_course(self) -> bool:
        return self.booking.service.type == Service.Type.COURSE

    @property
    def is_appointment(self) -> bool:
        return self.booking.service.type == Service.Type.APPOINTMENT


def booking_walk_in(*, booking: Booking) -> DeskAction | None:
    """The desk's walk-in that made ``booking`` (not undone or removed), or None. One query."""
    return (
        DeskAction.objects.filter(booking=booking, kind=Kind.WALK_IN)
        .exclude(status__in=(Status.UNDONE, Status.REMOVED))
        .order_by("-pk")
        .first()
    )


def booking_money_read(*, booking: Booking) -> BookingMoney:
    """The booking's payments: the desk's (two queries) and the others on its order (one)."""
    actions = list(
        DeskAction.objects.filter(booking=booking, kind__in=(*DESK_MONEY_KINDS, *DeskAction.REVERSAL_KINDS))
        .exclude(status__in=(Status.UNDONE, Status.REMOVED))
        .order_by("pk")
    )
    reversed_ids = {str((a.params or {}).get("reverses", "")) for a in actions if a.kind in DeskAction.REVERSAL_KINDS}
    money = BookingMoney(payment_status=booking.payment_status)
    for action in actions:
        if action.kind not in DESK_MONEY_KINDS:
            continue
        money.desk.append(action)
        if action.status == Status.SYNCED and str(action.pk) not in reversed_ids:
            money.reversible.append(action)
        elif action.status in DeskAction.LIVE_STATUSES:
            money.in_flight.append(action)
    taken_at_desk: set[str] = set()
    for action in money.desk:
        steps = action.steps or {}
        ids = [*(steps.get("payment_ids") or []), *(steps.get("charge_payment_ids") or [])]
        taken_at_desk.update(str(i) for i in ids)
    money.outside = [
        p
        for p in Payment.objects.filter(order__line_items__booking=booking, status__in=Payment.COUNTED_STATUSES)
        .distinct()
        .order_by("pk")
        if p.wix_id not in taken_at_desk
    ]
    return money


def booking_changes_live(*, booking: Booking) -> list[DeskAction]:
    """The changes of ``booking`` (reschedule, move off the waiting list, cancel) still on their way
    to Wix or refused by it, oldest first. One query."""
    return list(
        DeskAction.objects.filter(
            booking=booking, kind__in=DeskAction.CHANGE_KINDS, status__in=DeskAction.LIVE_STATUSES
        ).order_by("pk")
    )


def reschedule_sessions(*, booking: Booking, now: datetime) -> list[Session]:
    """Where a class booking may move: the service's sessions from ``now`` on (the next two
    months, not cancelled, already in Wix, not its own), each with ``free`` — the places left,
    counting the desk's own changes (None: no limit known). One query."""
    sessions = session_upcoming_list(
        service_id=booking.service_id,
        after=now,
        until=now + timedelta(days=RESCHEDULE_DAYS),
        exclude_pk=booking.session_id,
        limit=RESCHEDULE_CHOICES,
    )
    for session in sessions:
        session.free = None if session.places is None else max(session.places - session.booked, 0)
    return sessions


def booking_change_read(*, booking: Booking, now: datetime) -> BookingChangeRead:
    """Everything the booking change page shows of ``booking`` (loaded with its contact, service
    and session): eight queries at most."""
    sessions: list[Session] = []
    if booking.service.type == Service.Type.CLASS:
        sessions = reschedule_sessions(booking=booking, now=now)
    checked_in = bool(
        booking.session_id
        and Attendance.objects.filter(
            booking=booking, session_id=booking.session_id, status=Attendance.Status.ATTENDED
        ).exists()
    )
    return BookingChangeRead(
        booking=booking,
        policy=service_policy(booking.service),
        sessions=sessions,
        changes=booking_changes_live(booking=booking),
        money=booking_money_read(booking=booking),
        checked_in=checked_in,
        walk_in=booking_walk_in(booking=booking),
        package=(
            booking_packages(booking_ids=[booking.pk]).get(booking.pk)
            if booking.service.type == Service.Type.APPOINTMENT  # only appointments come in packages
            else None
        ),
    )


# --- the roster's waiting list --------------------------------------------------------------------


@dataclass
class WaitingEntry:
    booking: Booking
    position: int
    fits: bool  # a free place (or enough of them for the group) is there now


@dataclass
class WaitingList:
    entries: list[WaitingEntry]
    free: int | None  # places left, counting the desk's own changes (None: no limit known)

    def __bool__(self) -> bool:
        return bool(self.entries)


def waitlist_read(*, session: Session) -> WaitingList:
    """The session's waiting list in the order people joined it (Wix's createdDate, then ours),
    and whether each would fit now. ``session`` comes from ``session_get`` (its ``places`` and
    ``booked`` count the desk's own changes). One query."""
    bookings = list(
        Booking.objects.filter(session_roster_q(session), status=Booking.Status.WAITING_LIST)
        .select_related("contact")
        .defer("raw")
        .order_by(F("wix_created_at").asc(nulls_last=True), "pk")
    )
    places = getattr(session, "places", None)
    free = None if places is None else max(places - getattr(session, "booked", 0), 0)
    entries = [
        WaitingEntry(booking=b, position=i, fits=free is None or b.total_participants <= free)
        for i, b in enumerate(bookings, start=1)
    ]
    return WaitingList(entries=entries, free=free)
