"""Appointment availability for the desk's week grid and its "next available": Wix's free slots
(``selectors.appointment_slots``) with what the desk knows laid over them — every appointment in
the mirror that holds its time, the desk's own walk-ins not yet in Wix included — so a time booked
at one desk is never offered at another, whatever Wix still says. The overlay is read from the
database on every render; Wix's answer is kept a little while.

A slot is taken the way ``services.desk.walk_ins`` refuses it: by an active appointment of the
same staff member that overlaps it (of the same service, when the slot's staff member is not in
the mirror).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from bookings_app.models import Booking, Service, StaffMember
from bookings_app.selectors.appointment_slots import (
    FreeSlot,
    WixSlots,
    availability_list,
    business_zone,
    free_slot,
    week_slots,
)
from bookings_app.wix import WixClient

# The weeks a grid can show: Monday 8 January 0001 (the first whose Monday is a day the desk
# shows) to Monday 20 December 9999 (the last whose following Monday Python can still hold).
FIRST_WEEK = date(1, 1, 8)
LAST_WEEK = date(9999, 12, 20)
ASK_WEEKS_AHEAD = 104  # further out, Wix is not asked (the demo and most sites open weeks, not years)
NEXT_WEEKS = 8  # "next available" looks this far ahead
NEXT_PAGE_SIZE = 100
NEXT_PAGES = 10


# --- weeks ---------------------------------------------------------------------------------------


def week_monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Week:
    """Monday to Sunday, in the business's time zone."""

    start: date  # a Monday between FIRST_WEEK and LAST_WEEK

    @classmethod
    def of(cls, day: date) -> Week:
        """The week holding ``day``; ``ValueError`` outside the weeks a grid can show."""
        monday = week_monday(day)
        if not FIRST_WEEK <= monday <= LAST_WEEK:
            raise ValueError(day)
        return cls(monday)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range(7)]

    @property
    def last_day(self) -> date:
        return self.start + timedelta(days=6)

    @property
    def prev(self) -> date | None:
        return self.start - timedelta(days=7) if self.start > FIRST_WEEK else None

    @property
    def next(self) -> date | None:
        return self.start + timedelta(days=7) if self.start < LAST_WEEK else None

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """Monday 00:00 to the next Monday 00:00, local (a clock change makes it 167 or 169 hours)."""
        return (
            datetime.combine(self.start, clock_time.min, tzinfo=zone),
            datetime.combine(self.start + timedelta(days=7), clock_time.min, tzinfo=zone),
        )


# --- who gives the service -------------------------------------------------------------------------


def appointment_staff_list(*, service: Service) -> list[StaffMember]:
    """The staff members (with a calendar resource) who give ``service``: its ``staffMemberIds``
    as Wix sent them (staff member or resource ids), else whoever has given it. One query."""
    refs = [r for r in (service.raw or {}).get("staffMemberIds") or [] if isinstance(r, str) and r]
    staff = StaffMember.objects.exclude(resource_id="")
    if refs:
        staff = staff.filter(Q(wix_id__in=refs) | Q(resource_id__in=refs))
    else:
        staff = staff.filter(sessions__service=service).distinct()
    return list(staff.order_by("name", "pk"))


# --- what the desk knows is taken ----------------------------------------------------------------


@dataclass(frozen=True)
class TakenSlot:
    """An appointment holding a staff member's time: mirrored from Wix, or booked at a desk and
    on its way there (``pending``)."""

    booking_id: int
    session_ref: str
    key: str  # the staff member's resource id ("" when the appointment names none)
    service_id: int
    service_name: str
    start: datetime  # business-local
    end: datetime
    who: str
    pending: bool

    @property
    def label(self) -> str:
        return f"{self.start:%H:%M}"

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end


def _resource_of(booking: Booking) -> str:
    session = booking.session
    if session.staff is not None and session.staff.resource_id:
        return session.staff.resource_id
    slot = (session.raw or {}).get("slot") or {}
    # A desk walk-in keeps its slot as the desk picked it; a mirrored one as Wix booked it.
    return str(slot.get("resource_id") or (slot.get("resource") or {}).get("id") or "")


def appointments_taken(
    *, service: Service, start: datetime, end: datetime, resource_ids: set[str] | None = None
) -> list[TakenSlot]:
    """Active appointments (CONFIRMED or PENDING; a desk walk-in is CONFIRMED from its tap) that
    overlap ``[start, end)``: those of the staff in ``resource_ids`` — of any service, a person
    gives one appointment at a time — and every one of ``service`` (unless ``resource_ids`` names
    one person: then only theirs). One query."""
    zone = business_zone()
    mine = Q(session__staff__resource_id__in=resource_ids or set())
    if resource_ids is None or len(resource_ids) != 1:
        mine |= Q(session__service=service)
    bookings = (
        Booking.objects.filter(
            mine,
            status__in=Booking.ACTIVE_STATUSES,
            session__service__type=Service.Type.APPOINTMENT,
            session__start__lt=end,
            session__end__gt=start,
        )
        .select_related("session", "session__staff", "session__service", "contact")
        .order_by("session__start", "pk")
    )
    return [
        TakenSlot(
            booking_id=b.pk,
            session_ref=b.session.ref,
            key=_resource_of(b),
            service_id=b.session.service_id,
            service_name=b.session.service.name,
            start=b.session.start.astimezone(zone),
            end=b.session.end.astimezone(zone),
            who=b.contact.full_name or b.contact.email or b.contact.phone or "A customer",
            pending=b.pending_sync,
        )
        for b in bookings
    ]


def slot_blocked(
    slot_key: str, start: datetime, end: datetime, *, taken: list[TakenSlot], known: set[str], service: Service
) -> bool:
    """Whether a free slot from Wix is taken locally: by its staff member's appointment when the
    mirror knows them (``known`` resource ids), else by any appointment of ``service`` then."""
    if slot_key and slot_key in known:
        return any(t.key == slot_key and t.overlaps(start, end) for t in taken)
    return any(t.service_id == service.pk and t.overlaps(start, end) for t in taken)


def appointment_slots_untaken(*, service: Service, slots: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``slots`` (``services.desk.appointment_slots``: Wix's free slots of a day) without those the
    desk knows are taken — the day view's overlay, the same as the grid's. Two queries."""
    zone = business_zone()
    parsed = [(slot, free_slot(slot, zone)) for slot in slots]
    found = [f for _, f in parsed if f is not None]
    if not found:
        return slots
    keys = {f.key for f in found if f.key}
    taken = appointments_taken(
        service=service, start=min(f.start for f in found), end=max(f.end for f in found), resource_ids=keys
    )
    if not taken:
        return slots
    known = set(StaffMember.objects.filter(resource_id__in=keys).values_list("resource_id", flat=True))
    return [
        slot
        for slot, f in parsed
        if f is None or not slot_blocked(f.key, f.start, f.end, taken=taken, known=known, service=service)
    ]


# --- the week grid ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffColumn:
    """One column group of the grid: a staff member (``key``: their resource id)."""

    key: str
    name: str
    staff_pk: int | None


@dataclass
class GridCell:
    column: StaffColumn
    day: date
    free: list[FreeSlot] = field(default_factory=list)
    taken: list[TakenSlot] = field(default_factory=list)
    is_past: bool = False
    is_today: bool = False


@dataclass
class GridRow:
    time: str  # "HH:MM", business-local wall clock
    cells: list[GridCell]  # column by column, Monday to Sunday in each


@dataclass
class AppointmentWeek:
    """A week of one appointment service for the grid: free slots and taken ones per staff
    member, day and time."""

    service: Service
    week: Week
    staff: StaffMember | None  # the filter (None: everyone who gives the service)
    staff_choices: list[StaffMember]
    columns: list[StaffColumn]
    rows: list[GridRow]
    free: list[FreeSlot]
    taken: list[TakenSlot]
    today: date
    wix_error: str = ""
    notice: str = ""  # why Wix was not asked (the week is over, or too far ahead)
    partial: bool = False
    more_staff: bool = False
    digest: str = ""  # what the grid shows: its refresh gets a 204 while this stays the same

    @property
    def is_this_week(self) -> bool:
        return self.week.start <= self.today <= self.week.last_day


def _columns(
    staff_choices: list[StaffMember], staff: StaffMember | None, free: list[FreeSlot], taken: list[TakenSlot]
) -> list[StaffColumn]:
    if staff is not None:
        return [StaffColumn(staff.resource_id, staff.name, staff.pk)]
    columns = {s.resource_id: StaffColumn(s.resource_id, s.name, s.pk) for s in staff_choices}
    for f in free:
        columns.setdefault(f.key, StaffColumn(f.key, f.slot.get("staff_name") or "Any staff member", None))
    extra = {t.key for t in taken} - set(columns)
    if extra:
        named = dict(StaffMember.objects.filter(resource_id__in=extra).values_list("resource_id", "name"))
        for key in sorted(extra, key=lambda k: (not k, named.get(k, ""))):
            columns[key] = StaffColumn(key, named.get(key) or "Any staff member", None)
    return list(columns.values())


def _rows(
    columns: list[StaffColumn], week: Week, today: date, free: list[FreeSlot], taken: list[TakenSlot]
) -> list[GridRow]:
    placed: dict[tuple[str, date, str], GridCell] = {}
    times: set[str] = set()
    column_of = {c.key: c for c in columns}

    def cell(key: str, day: date, at: str) -> GridCell | None:
        column = column_of.get(key)
        if column is None or not week.start <= day <= week.last_day:
            return None
        times.add(at)
        return placed.setdefault((key, day, at), GridCell(column, day, is_past=day < today, is_today=day == today))

    for f in free:
        found = cell(f.key, f.start.date(), f.label)
        if found is not None:
            found.free.append(f)
    for t in taken:
        found = cell(t.key, t.start.date(), t.label)
        if found is not None:
            found.taken.append(t)
    return [
        GridRow(
            time=at,
            cells=[
                placed.get((c.key, day, at)) or GridCell(c, day, is_past=day < today, is_today=day == today)
                for c in columns
                for day in week.days
            ],
        )
        for at in sorted(times)
    ]


def _digest(week: AppointmentWeek) -> str:
    shown = (
        [(c.key, c.name) for c in week.columns],
        [(f.key, f.slot.get("start"), f.slot.get("location_id")) for f in week.free],
        [(t.booking_id, t.key, t.start.isoformat(), t.end.isoformat(), t.who, t.pending) for t in week.taken],
        week.wix_error,
        week.notice,
        week.partial,
        week.more_staff,
        week.today.isoformat(),
    )
    return hashlib.sha1(repr(shown).encode(), usedforsecurity=False).hexdigest()[:16]


def appointment_week_read(
    *, wix: WixClient | None, service: Service, week: Week, staff: StaffMember | None = None
) -> AppointmentWeek:
    """The grid of ``service`` for ``week`` (of ``staff`` only, if given): Wix's free slots from
    now on, minus every locally taken time, plus the taken appointments themselves.

    Wix is not asked for a week that is over or more than ``ASK_WEEKS_AHEAD`` weeks ahead (or
    with no ``wix``); when it cannot answer, the grid still shows what the mirror holds."""
    zone = business_zone()
    now = timezone.now().astimezone(zone)
    today = now.date()
    start, end = week.bounds(zone)
    staff_choices = appointment_staff_list(service=service)
    resource_id = staff.resource_id if staff is not None else None
    answer = WixSlots()
    notice = ""
    if end <= now:
        notice = "This week is over: there is nothing left to book in it."
    elif week.start > week_monday(today) + timedelta(weeks=ASK_WEEKS_AHEAD):
        notice = f"Free times are shown up to {ASK_WEEKS_AHEAD // 52} years ahead: this week is further out."
    elif wix is not None:
        answer = week_slots(
            wix=wix, service=service, week_start=week.start, resource_id=resource_id, start=max(start, now), end=end
        )
    free = [
        f
        for f in (free_slot(s, zone) for s in answer.slots)
        if f is not None and f.start >= now and start <= f.start < end and (resource_id is None or f.key == resource_id)
    ]
    keys = {s.resource_id for s in staff_choices} | {f.key for f in free if f.key}
    taken = appointments_taken(
        service=service, start=start, end=end, resource_ids={resource_id} if resource_id else keys
    )
    known = (
        set(StaffMember.objects.filter(resource_id__in=keys).values_list("resource_id", flat=True)) if keys else set()
    )
    free = [f for f in free if not slot_blocked(f.key, f.start, f.end, taken=taken, known=known, service=service)]
    columns = _columns(staff_choices, staff, free, taken)
    grid = AppointmentWeek(
        service=service,
        week=week,
        staff=staff,
        staff_choices=staff_choices,
        columns=columns,
        rows=_rows(columns, week, today, free, taken),
        free=free,
        taken=taken,
        today=today,
        wix_error=answer.error,
        notice=notice,
        partial=answer.partial,
        more_staff=answer.more_staff and staff is None,
    )
    grid.digest = _digest(grid)
    return grid


# --- next available -------------------------------------------------------------------------------


@dataclass
class NextFree:
    """The earliest free slot from now (``slot``: for the book step), or why there is none."""

    slot: dict[str, Any] | None = None
    start: datetime | None = None
    error: str = ""
    partial: bool = False  # Wix's pages ran out before a free slot was found
    weeks: int = NEXT_WEEKS


def appointment_next_free(*, wix: WixClient, service: Service, staff: StaffMember | None = None) -> NextFree:
    """The earliest slot of ``service`` (with ``staff``, or anyone) from now to ``NEXT_WEEKS``
    weeks ahead that Wix offers and the desk has not taken: one List Availability Time Slots
    call (sorted by start), paged while every slot of a page is taken locally."""
    zone = business_zone()
    now = timezone.now().astimezone(zone).replace(second=0, microsecond=0) + timedelta(minutes=1)
    until = datetime.combine(now.date() + timedelta(weeks=NEXT_WEEKS, days=1), clock_time.min, tzinfo=zone)
    staff_choices = appointment_staff_list(service=service)
    resource_id = staff.resource_id if staff is not None else None
    keys = {resource_id} if resource_id else {s.resource_id for s in staff_choices}
    taken = appointments_taken(service=service, start=now, end=until, resource_ids=keys)
    known = set(StaffMember.objects.filter(resource_id__in=keys).values_list("resource_id", flat=True))
    chosen: list[FreeSlot] = []

    def first_free(slots: list[dict[str, Any]]) -> bool:
        for slot in slots:
            found = free_slot(slot, zone)
            if found is None or found.start < now or (resource_id and found.key != resource_id):
                continue
            if not slot_blocked(found.key, found.start, found.end, taken=taken, known=known, service=service):
                chosen.append(found)
                return True
        return False

    answer = availability_list(
        wix=wix,
        service=service,
        start=now,
        end=until,
        resource_id=resource_id,
        page_size=NEXT_PAGE_SIZE,
        pages=NEXT_PAGES,
        stop=first_free,
    )
    if chosen:
        return NextFree(slot=chosen[0].slot, start=chosen[0].start)
    return NextFree(error=answer.error, partial=answer.partial)
