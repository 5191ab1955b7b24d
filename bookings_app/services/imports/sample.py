"""Files to start from: the downloadable template (the columns, and example rows naming this
business's own classes), and — in the sandbox only — a practice file: a few hundred rows from the
demo club as a front desk would have written them, with deliberate mistakes.

**The practice file** is written from the mirror as it is today (it must name sessions Front Desk
knows: the sync holds a week back to two months ahead): a sign-in sheet of today's busiest class —
the people booked online, paying cash, card, cheque or with their pass, a few owing, a few no-shows,
walk-ins, and new people —, another session of the last days, bookings for the next days, course
enrolments until the course is full, and some thirty rows with the mistakes people make (a class
misspelt, a day with no such session, a date that isn't one, an email that isn't one, two customers
of that name, an amount more than the price, a word for paying that isn't one, a formula, a very
long cell, a repeated row, a check-in for tomorrow …). ``manage.py setup_demo`` (``make run``) writes
it as ``tests/data/participants-sample.csv`` for the demo it has just set up;
``tests/data/participants-sample-2026-11-21.csv`` is this file for the demo club on the day the tests
pin (``tests/services/imports/test_sample.py``).
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q

from bookings_app.models import BenefitBalance, Booking, Contact, Service, Session
from bookings_app.services.imports.mapping import TEMPLATE_HEADERS
from bookings_app.services.imports.sheet import template_bytes

PRACTICE_HEADERS = (
    "First name",
    "Surname",
    "E-mail",
    "Mobile",
    "Class",
    "Date",
    "Time",
    "Paid",
    "Amount",
    "Plan",
    "Attended",
    "Notes",
)
NEW_PEOPLE = (
    ("Wren", "Ashby"),
    ("Idris", "Calloway"),
    ("Marta", "Quill"),
    ("Otto", "Brand"),
    ("Nia", "Fairbairn"),
    ("Cole", "Dunmore"),
    ("Esme", "Varga"),
    ("Rafe", "Linden"),
)
SEED = 13


def template_csv() -> bytes:
    """The template: the columns, and three example rows with a class and a course this business has."""
    tz = ZoneInfo(settings.TIME_ZONE)
    session = (
        Session.objects.filter(service__type=Service.Type.CLASS)
        .exclude(status__in=("CANCELLED", "CANCELED"))
        .select_related("service")
        .order_by("-start")
        .first()
    )
    course = Service.objects.filter(type=Service.Type.COURSE).order_by("name").first()
    name = session.service.name if session else "Open Water Swim"
    start = session.start.astimezone(tz) if session else datetime.combine(date.today(), time(7))
    price = f"{session.service.price:.2f}" if session and session.service.price else "12.00"
    examples = [
        [
            "Olivia",
            "Smith",
            "olivia.smith@example.com",
            "07700 900123",
            name,
            f"{start:%d/%m/%Y}",
            f"{start:%H:%M}",
            "cash",
            price,
            "",
            "yes",
        ],
        [
            "Jack",
            "Brown",
            "jack.brown@example.com",
            "",
            name,
            f"{start:%d/%m/%Y}",
            f"{start:%H:%M}",
            "plan",
            "",
            "",
            "yes",
        ],
        ["Ava", "Jones", "", "07700 900456", course.name if course else "Learn to Swim", "", "", "unpaid", "", "", ""],
    ]
    return template_bytes(headers=TEMPLATE_HEADERS, examples=examples)


def practice_csv(*, today: date, now: datetime | None = None) -> bytes:
    return template_bytes(headers=PRACTICE_HEADERS, examples=practice_rows(today=today, now=now))


class _Writer:
    def __init__(self, tz: ZoneInfo) -> None:
        self.tz, self.rows, self.rng = tz, [], random.Random(SEED)
        self.used: set[int] = set()  # contacts with a row already
        self.formats = ("%d/%m/%Y", "%Y-%m-%d", "%d %b %Y", "%d/%m/%y")

    def day(self, moment: datetime) -> str:
        return moment.astimezone(self.tz).strftime(self.rng.choice(self.formats))

    def person(
        self,
        contact: Contact,
        session: Session | None,
        service: Service,
        *,
        paid: str = "",
        amount: str = "",
        plan: str = "",
        attended: str = "",
        note: str = "",
        phone: bool = False,
    ) -> None:
        when = session.start if session else None
        self.rows.append(
            [
                contact.first_name,
                contact.last_name,
                contact.email,
                contact.phone if phone else "",
                service.name,
                self.day(when) if when else "",
                f"{when.astimezone(self.tz):%H:%M}" if when else "",
                paid,
                amount,
                plan,
                attended,
                note,
            ]
        )


def practice_rows(*, today: date, now: datetime | None = None) -> list[list[str]]:
    """The practice file's rows (see the module's docstring), written as at noon ``today`` — or at
    ``now`` if that is earlier (before today's first class, the sign-in sheet is yesterday's)."""
    tz = ZoneInfo(settings.TIME_ZONE)
    w = _Writer(tz)
    noon = datetime.combine(today, time(12), tzinfo=tz)
    now = min(noon, now) if now is not None else noon
    live = Session.objects.exclude(status__in=("CANCELLED", "CANCELED")).select_related("service")
    classes = live.filter(service__type=Service.Type.CLASS)
    busiest = (
        classes.filter(start__lt=now, start__gte=now - timedelta(days=3))
        .annotate(n=Count("bookings", filter=Q(bookings__status__in=Booking.ACTIVE_STATUSES)))
        .order_by("-n", "-start")
        .first()
    )
    if busiest is None:
        return []
    contacts = list(Contact.objects.exclude(email="").order_by("pk")[:400])
    with_plan = _plan_holders(busiest.service)
    booked = [
        b
        for b in Booking.objects.filter(session=busiest, status__in=Booking.ACTIVE_STATUSES)
        .select_related("contact")
        .order_by("pk")
    ]
    booked_ids = {b.contact_id for b in booked}
    price = f"{busiest.service.price or 0:.2f}"
    # Today's sign-in sheet: the people booked …
    for i, booking in enumerate(booked[:100]):
        attended = "no" if i % 13 == 5 else w.rng.choice(["yes", "Yes", "y", "✓"])
        if booking.payment_status == Booking.PaymentStatus.PAID:
            paid, amount, plan = "online", "", ""
        elif booking.contact_id in with_plan:
            paid, amount, plan = "plan", "", with_plan[booking.contact_id]
        else:
            paid, plan = w.rng.choice(["cash", "cash", "Cash", "card", "card", "cheque", "unpaid"]), ""
            amount = "" if paid == "unpaid" or i % 3 else price
        w.person(
            booking.contact,
            busiest,
            busiest.service,
            paid=paid,
            amount=amount,
            plan=plan,
            attended=attended,
            phone=i % 4 == 0,
        )
    # … walk-ins who are customers, and new people.
    walk_ins = [c for c in contacts if c.pk not in booked_ids and c.pk not in with_plan][:12]
    for contact in walk_ins:
        w.person(
            contact,
            busiest,
            busiest.service,
            paid=w.rng.choice(["cash", "card"]),
            amount=price,
            attended="yes",
            note="walk-in",
        )
    for first, last in NEW_PEOPLE[:6]:
        w.rows.append(
            [
                first,
                last,
                f"{first}.{last}@example.net".lower(),
                "",
                busiest.service.name,
                w.day(busiest.start),
                f"{busiest.start.astimezone(tz):%H:%M}",
                "cash",
                price,
                "",
                "yes",
                "first time",
            ]
        )
    _other_sessions(w, live, now, contacts, busiest)
    _course(w, contacts)
    _mistakes(w, busiest, contacts, now, live)
    return w.rows


def _plan_holders(service: Service) -> dict[int, str]:
    """Contact pk → the name of an active plan of theirs with credit that covers ``service``."""
    out: dict[int, str] = {}
    for balance in BenefitBalance.objects.filter(status__iexact="ACTIVE").select_related("member").order_by("pk"):
        covers = not balance.covered_service_ids or service.wix_id in balance.covered_service_ids
        if covers and (balance.unlimited or (balance.remaining_credits or 0) > 2) and balance.member.contact_id:
            out.setdefault(balance.member.contact_id, balance.name)
    return out


def _other_sessions(w: _Writer, live: Any, now: datetime, contacts: list[Contact], busiest: Session) -> None:
    # Yesterday's (or the day before's) other class, and bookings for the next days.
    earlier = (
        live.filter(
            service__type=Service.Type.CLASS, start__lt=now - timedelta(hours=12), start__gte=now - timedelta(days=3)
        )
        .exclude(pk=busiest.pk)
        .order_by("-start")
        .first()
    )
    if earlier is not None:
        for contact in contacts[100:130]:
            w.person(
                contact,
                earlier,
                earlier.service,
                paid=w.rng.choice(["cash", "card", "unpaid"]),
                attended=w.rng.choice(["yes", "yes", "no"]),
            )
    ahead = list(
        live.filter(service__type=Service.Type.CLASS, start__gt=now, start__lt=now + timedelta(days=3)).order_by(
            "start"
        )[:4]
    )
    for n, session in enumerate(ahead):
        for contact in contacts[140 + n * 25 : 165 + n * 25]:
            w.person(contact, session, session.service, paid=w.rng.choice(["", "cash", "unpaid"]))


def _course(w: _Writer, contacts: list[Contact]) -> None:
    course = Service.objects.filter(type=Service.Type.COURSE).order_by("name").first()
    if course is None:
        return
    enrolled = set(Booking.objects.filter(service=course, session__isnull=True).values_list("contact_id", flat=True))
    for contact in [c for c in contacts[200:] if c.pk not in enrolled][:4]:  # more than the places left
        w.person(contact, None, course, paid=w.rng.choice(["cash", "unpaid"]), note="course")


def _mistakes(w: _Writer, busiest: Session, contacts: list[Contact], now: datetime, live: Any) -> None:
    tz, svc = w.tz, busiest.service
    day, at = w.day(busiest.start), f"{busiest.start.astimezone(tz):%H:%M}"
    unused = [x for x in contacts if x.pk not in w.used and x.pk not in _booked(busiest)]
    pool = unused[-30:] or [Contact(first_name="Sam", last_name="Sample", email="sam.sample@example.net")]
    c = [pool[i % len(pool)] for i in range(30)]
    same_name = _shared_name()
    tomorrow = live.filter(service=svc, start__gt=now + timedelta(hours=12)).order_by("start").first()
    appointment = Service.objects.filter(type=Service.Type.APPOINTMENT).order_by("name").first()
    bad = [
        [c[0].first_name, c[0].last_name, c[0].email, "", svc.name + "m", day, at, "cash", "", "", "yes", ""],
        [c[1].first_name, c[1].last_name, c[1].email, "", svc.name, "31/02/2026", at, "cash", "", "", "yes", ""],
        [c[2].first_name, c[2].last_name, c[2].email, "", svc.name, day, "19:45", "cash", "", "", "yes", ""],
        [
            c[3].first_name,
            c[3].last_name,
            c[3].email.split("@")[0] + "@",
            "",
            svc.name,
            day,
            at,
            "card",
            "",
            "",
            "yes",
            "",
        ],
        [c[4].first_name, c[4].last_name, c[4].email, "", svc.name, day, at, "cash", "120", "", "yes", ""],
        [c[5].first_name, c[5].last_name, c[5].email, "", svc.name, day, at, "cash", "twelve", "", "yes", ""],
        [c[6].first_name, c[6].last_name, c[6].email, "", svc.name, day, at, "bitcoin", "", "", "yes", ""],
        [c[7].first_name, c[7].last_name, c[7].email, "", svc.name, day, at, "card", "", "", "maybe", ""],
        [
            '=HYPERLINK("http://example.com")',
            "Formula",
            "formula@example.net",
            "",
            svc.name,
            day,
            at,
            "cash",
            "",
            "",
            "yes",
            "",
        ],
        [c[8].first_name, "L" + "o" * 1200 + "ng", c[8].email, "", svc.name, day, at, "cash", "", "", "yes", ""],
        [c[9].first_name, c[9].last_name, c[9].email, "call me", svc.name, day, at, "cash", "", "", "yes", ""],
        [
            c[10].first_name,
            c[10].last_name,
            c[10].email,
            "",
            svc.name,
            day,
            at,
            "online",
            "",
            "",
            "yes",
            "says they paid online",
        ],
        [c[11].first_name, c[11].last_name, c[11].email, "", svc.name, day, at, "plan", "", "", "yes", "no pass"],
        ["Pip", "Unknown", "", "", svc.name, day, at, "cash", "", "", "yes", "no email or phone"],
    ]
    if same_name is not None:
        bad.append([same_name[0], same_name[1], "", "", svc.name, day, at, "cash", "", "", "yes", "which one?"])
    if tomorrow is not None:
        bad.append(
            [
                c[12].first_name,
                c[12].last_name,
                c[12].email,
                "",
                svc.name,
                w.day(tomorrow.start),
                f"{tomorrow.start.astimezone(tz):%H:%M}",
                "cash",
                "",
                "",
                "yes",
                "ticked in advance",
            ]
        )
    if appointment is not None:
        bad.append(
            [c[13].first_name, c[13].last_name, c[13].email, "", appointment.name, day, "10:00", "cash", "", "", "", ""]
        )
    sunday = busiest.start.astimezone(tz).date()
    while sunday.weekday() != 6:
        sunday += timedelta(days=1)
    other = live.filter(service__type=Service.Type.CLASS).exclude(service=svc).first()
    if other is not None:
        bad.append(
            [
                c[14].first_name,
                c[14].last_name,
                c[14].email,
                "",
                other.service.name,
                f"{sunday:%d/%m/%Y}",
                f"{other.start.astimezone(tz):%H:%M}",
                "cash",
                "",
                "",
                "",
                "no class that day?",
            ]
        )
    # A repeated row, and blank lines: spread through the sheet as they would be.
    positions = [23, 57, 88, 120, 141, 160, 175, 190, 205, 220, 231, 242, 250, 258, 266, 274, 282]
    for index, row in enumerate(bad):
        w.rows.insert(min(positions[index % len(positions)] + index, len(w.rows)), row)
    at = min(40, len(w.rows))
    w.rows.insert(at, list(w.rows[at - 1]))  # the row above, twice
    blank = min(100, len(w.rows))
    w.rows[blank:blank] = [[""] * len(PRACTICE_HEADERS)] * 2


def _booked(session: Session) -> set[int]:
    return set(Booking.objects.filter(session=session).values_list("contact_id", flat=True))


def _shared_name() -> tuple[str, str] | None:
    """A first name and surname two customers share (matched by name only: ambiguous)."""
    found = (
        Contact.objects.exclude(search_name="")
        .values("search_name")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .order_by("search_name")
        .first()
    )
    if found is None:
        return None
    contact = Contact.objects.filter(search_name=found["search_name"]).order_by("pk").first()
    return (contact.first_name, contact.last_name) if contact else None
