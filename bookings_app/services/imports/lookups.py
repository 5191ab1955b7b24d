"""What the rows of one chunk (a few hundred) need from the mirror, read in a fixed number of queries
whatever the chunk holds: the customers their emails, phones and names could be, the services and
sessions they name, how full those are, the bookings those customers already have there (with what
is due on them and their check-ins), and the customers' plan balances.

Matching a customer (``contact_candidates``): by email, then phone, then exact name (``search_*``
columns, normalised as ``Contact.save`` writes them). A candidate found by phone or by name whose
email (or phone) says it is someone else is no candidate: a family shares a phone, two people share
a name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Q, Sum

from bookings_app import money
from bookings_app.models import (
    Attendance,
    BenefitBalance,
    Booking,
    Contact,
    DeskAction,
    Service,
    Session,
    normalise_phone,
    normalise_text,
)
from bookings_app.services.imports.cells import RowInput

Kind = DeskAction.Kind


def course_key(service_id: int) -> str:
    """Where a course enrolment takes its place: the course, not a session."""
    return f"course:{service_id}"


def session_key(session_id: int) -> str:
    return f"session:{session_id}"


@dataclass
class Lookups:
    tz: ZoneInfo
    by_email: dict[str, list[Contact]] = field(default_factory=dict)
    by_phone: dict[str, list[Contact]] = field(default_factory=dict)
    by_name: dict[str, list[Contact]] = field(default_factory=dict)
    sessions_by_wix_id: dict[str, Session] = field(default_factory=dict)
    sessions_by_day: dict[tuple[int, date], list[Session]] = field(default_factory=dict)  # (service, local day)
    taken: dict[str, int] = field(default_factory=dict)  # session_key / course_key → places held
    bookings: dict[tuple[int, str], Booking] = field(default_factory=dict)  # (contact, place key) → live booking
    dues: dict[int, Decimal] = field(default_factory=dict)  # booking → what a desk action may still take
    attendance: dict[tuple[int, int], str] = field(default_factory=dict)  # (booking, session) → status
    walk_in_attention: dict[int, DeskAction] = field(default_factory=dict)  # booking → its refused walk-in
    later: set[int] = field(default_factory=set)  # bookings with a "pay later" on its way or in Wix
    balances: dict[int, list[BenefitBalance]] = field(default_factory=dict)  # contact → active balances

    def contact_candidates(self, row: RowInput) -> tuple[str, list[Contact]]:
        """(how they were found, the contacts the row could be): "email", "phone", "name", or ""."""
        email = row.email.casefold()
        if email:
            found = self.by_email.get(email, [])
            if found:
                return "email", found
        phone = normalise_phone(row.phone)
        if phone:
            found = [c for c in self.by_phone.get(phone, []) if not email or not c.search_email]
            if found:
                return "phone", found
        name = normalise_text(row.full_name)
        if name and " " in name:  # a first name alone matches too many people
            found = [
                c
                for c in self.by_name.get(name, [])
                if (not email or not c.search_email) and (not phone or not c.search_phone or c.search_phone == phone)
            ]
            if found:
                return "name", found
        return "", []

    def sessions_on(self, service: Service, day: date) -> list[Session]:
        return self.sessions_by_day.get((service.pk, day), [])

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)


def lookups_load(*, rows: list[RowInput], services: dict[int, Service], tz: ZoneInfo) -> Lookups:
    """Everything ``rows`` can need from the mirror; ``services``: the services they name (pk → row)."""
    found = Lookups(tz=tz)
    _contacts(found, rows)
    _sessions(found, rows, services)
    contacts = {c.pk for group in (found.by_email, found.by_phone, found.by_name) for cs in group.values() for c in cs}
    sessions = list(found.sessions_by_wix_id.values()) + [s for ss in found.sessions_by_day.values() for s in ss]
    courses = {s.pk for s in services.values() if s.type == Service.Type.COURSE}
    courses |= {s.service_id for s in sessions if s.service.type == Service.Type.COURSE}
    _taken(found, sessions, courses)
    _bookings(found, contacts, sessions, courses)
    _balances(found, contacts)
    return found


def _contacts(found: Lookups, rows: list[RowInput]) -> None:
    emails = {r.email.casefold() for r in rows if r.email}
    phones = {normalise_phone(r.phone) for r in rows if r.phone}
    names = {normalise_text(r.full_name) for r in rows if r.full_name}
    q = Q(search_email__in=emails) | Q(search_phone__in=phones) | Q(search_name__in=names)
    if not (emails or phones or names):
        return
    by_email: dict[str, list[Contact]] = defaultdict(list)
    by_phone: dict[str, list[Contact]] = defaultdict(list)
    by_name: dict[str, list[Contact]] = defaultdict(list)
    for contact in Contact.objects.filter(q).order_by("pk"):
        if contact.search_email in emails:
            by_email[contact.search_email].append(contact)
        if contact.search_phone in phones:
            by_phone[contact.search_phone].append(contact)
        if contact.search_name in names:
            by_name[contact.search_name].append(contact)
    found.by_email, found.by_phone, found.by_name = by_email, by_phone, by_name


def _sessions(found: Lookups, rows: list[RowInput], services: dict[int, Service]) -> None:
    ids = {r.session_id for r in rows if r.session_id}
    if ids:
        found.sessions_by_wix_id = {
            s.wix_id: s for s in Session.objects.filter(wix_id__in=ids).select_related("service", "staff") if s.wix_id
        }
    days = {r.day for r in rows if r.day}
    if not days or not services:
        return
    start = datetime.combine(min(days), time.min, tzinfo=found.tz)
    end = datetime.combine(max(days), time.max, tzinfo=found.tz)
    by_day: dict[tuple[int, date], list[Session]] = defaultdict(list)
    for session in (
        Session.objects.filter(service_id__in=list(services), start__gte=start, start__lte=end)
        .select_related("service", "staff")
        .order_by("start", "pk")
    ):
        day = found.local(session.start).date()
        if day in days:
            by_day[(session.service_id, day)].append(session)
    found.sessions_by_day = by_day


def _taken(found: Lookups, sessions: list[Session], courses: set[int]) -> None:
    session_ids = {s.pk for s in sessions}
    taken: dict[str, int] = {}
    if session_ids:
        for session_id, n in (
            Booking.objects.filter(session_id__in=session_ids, status__in=Booking.ACTIVE_STATUSES)
            .values_list("session_id")
            .annotate(n=Sum("total_participants"))
        ):
            taken[session_key(session_id)] = n or 0
    if courses:
        for service_id, n in (
            Booking.objects.filter(service_id__in=courses, session__isnull=True, status__in=Booking.ACTIVE_STATUSES)
            .values_list("service_id")
            .annotate(n=Sum("total_participants"))
        ):
            taken[course_key(service_id)] = n or 0
    found.taken = taken


def _bookings(found: Lookups, contacts: set[int], sessions: list[Session], courses: set[int]) -> None:
    if not contacts or not (sessions or courses):
        return
    place = Q(session_id__in={s.pk for s in sessions}) | Q(service_id__in=courses, session__isnull=True)
    bookings = list(
        Booking.objects.filter(place, contact_id__in=contacts, status__in=Booking.ROSTER_STATUSES)
        .select_related("service", "session", "contact")
        .order_by("pk")
    )
    for booking in bookings:
        where = session_key(booking.session_id) if booking.session_id else course_key(booking.service_id)
        found.bookings[(booking.contact_id, where)] = booking
    live = [b for b in bookings if b.status in Booking.ACTIVE_STATUSES]
    if not live:
        return
    found.dues = money.amounts_due(live)
    ids = [b.pk for b in live]
    found.attendance = {
        (a.booking_id, a.session_id): a.status
        for a in Attendance.objects.filter(booking_id__in=ids).only("booking_id", "session_id", "status")
    }
    for action in DeskAction.objects.filter(booking_id__in=ids, kind__in=(Kind.WALK_IN, Kind.PAY_LATER)).exclude(
        status__in=(DeskAction.Status.UNDONE, DeskAction.Status.REMOVED)
    ):
        if action.kind == Kind.WALK_IN and action.status == DeskAction.Status.NEEDS_ATTENTION:
            found.walk_in_attention[action.booking_id] = action
        elif action.kind == Kind.PAY_LATER:
            found.later.add(action.booking_id)


def _balances(found: Lookups, contacts: Iterable[int]) -> None:
    ids = list(contacts)
    if not ids:
        return
    out: dict[int, list[BenefitBalance]] = defaultdict(list)
    for balance in (
        BenefitBalance.objects.filter(member__contact_id__in=ids, status__iexact="ACTIVE")
        .select_related("member", "plan_order")
        .order_by("pk")
    ):
        out[balance.member.contact_id].append(balance)
    found.balances = out
