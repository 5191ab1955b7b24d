"""A week of payments for the report's tests, with every figure worked out by hand.

The week of Mon 16 – Sun 22 Nov 2026 (London). Prices are £10 a person (the course: £50).

* **Dawn swim** (Mon 16 Nov 07:00): one booking for every booking status × every way of paying
  (:data:`SCENARIOS` × :data:`STATUSES`: 18 × 6 = 108), and attendance marked on a few.
* **Evening swim** (Wed 18 Nov 19:00, another coach): a family of two on one card payment, two
  bookings sharing one cash order, an unpaid no-show, a paid no-show.
* **Learn to swim**, a course (Tue 17 and Thu 19 Nov): one booking paid £50 cash, one unpaid —
  each on both sessions' rosters, their money counted at the first.
* **Late swim** (Wed 25 Nov): outside the week, never counted.

Every booking's expected way, due and money are written down here (:data:`SCENARIOS`,
:func:`expected_rows`), not worked out by the code under test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from bookings_app.models import Attendance, Booking, DeskAction, Payment, Service, Session
from bookings_app.selectors import day_bounds
from bookings_app.selectors.reports_facts import Scope
from tests import factories

LONDON = ZoneInfo("Europe/London")
FIRST_DAY, LAST_DAY = date(2026, 11, 16), date(2026, 11, 22)
PRICE = Decimal("10.00")
D = Decimal
ACTIVE = ("CONFIRMED", "PENDING")
STATUSES = ("CONFIRMED", "PENDING", "CREATED", "WAITING_LIST", "CANCELED", "DECLINED")
M = Payment.Method
Kind = DeskAction.Kind


def week_scope(**filters: object) -> Scope:
    start, _ = day_bounds(FIRST_DAY)
    _, end = day_bounds(LAST_DAY)
    return Scope(start=start, end=end, **filters)


@dataclass(frozen=True)
class Scenario:
    """A way of paying: how it is built, and what the report must say of it (by hand)."""

    name: str
    way: str  # for a booking holding a place (confirmed, pending)
    due: Decimal  # likewise; any other status owes nothing
    collected: dict[str, Decimal] = field(default_factory=dict)  # method → amount, whatever the status
    way_without_place: str = ""  # the way of a booking not holding a place, if it differs


SCENARIOS = (
    Scenario("cash", "CASH", D("0"), {"CASH": PRICE}),
    Scenario("card", "CARD", D("0"), {"CARD": PRICE}),
    Scenario("cheque", "CHECK", D("0"), {"CHECK": PRICE}),
    Scenario("online", "ONLINE", D("0"), {"ONLINE": PRICE}),
    Scenario("plan_order", "PLAN", D("0"), {"PLAN": PRICE}),
    Scenario("plan_no_order", "PLAN", D("0"), {"PLAN": PRICE}),
    Scenario("part", "PART", D("6"), {"CASH": D("4")}),
    Scenario("unpaid_order", "UNPAID", PRICE, way_without_place="NOTHING"),
    Scenario("unpaid_no_order", "UNPAID", PRICE, way_without_place="NOTHING"),
    Scenario("refunded", "REFUNDED", D("0")),
    Scenario("free", "FREE", D("0")),
    Scenario("desk_cash_pending", "CASH", D("0"), {"CASH": PRICE}),
    Scenario("desk_card_synced", "CARD", D("0"), {"CARD": PRICE}),
    Scenario("desk_plan_pending", "PLAN", D("0"), {"PLAN": PRICE}),
    Scenario("desk_part_pending", "PART", D("7"), {"CASH": D("3")}),
    Scenario("mixed", "CARD", D("0"), {"CASH": D("4"), "CARD": D("6")}),
    Scenario("other", "OTHER", D("0"), {"OTHER": PRICE}),
    Scenario("paid_no_record", "OTHER", D("0")),
)
# Attendance at Dawn swim, by (status, scenario): checked in, or a no-show.
ATTENDED = {("CONFIRMED", s) for s in ("cash", "card", "cheque", "online", "plan_order", "free")}
NO_SHOW = {("CONFIRMED", s) for s in ("part", "unpaid_order", "unpaid_no_order", "desk_part_pending", "mixed")}
NO_SHOW |= {("PENDING", "unpaid_order"), ("CANCELED", "unpaid_no_order")}


@dataclass
class World:
    dawn: Session
    evening: Session
    course_1: Session
    course_2: Session
    late: Session
    course: Service
    bookings: dict[tuple[str, str], Booking]  # Dawn swim: (status, scenario) → booking
    others: dict[str, Booking]  # the other sessions' bookings, by name


def _at(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=LONDON)


def build() -> World:
    coach, other_coach = factories.StaffMemberFactory(name="Cora Coach"), factories.StaffMemberFactory(name="Ned Night")
    swim = factories.ServiceFactory(name="Open-water swim", price=PRICE, currency="GBP")
    dawn = factories.SessionFactory(service=swim, title="Dawn swim", start=_at(16, 7), staff=coach)
    evening = factories.SessionFactory(service=swim, title="Evening swim", start=_at(18, 19), staff=other_coach)
    late = factories.SessionFactory(service=swim, title="Late swim", start=_at(25, 19), staff=coach)
    course = factories.ServiceFactory(name="Learn to swim", type=Service.Type.COURSE, price=D("50.00"))
    course_1 = factories.SessionFactory(service=course, title="Learn to swim", start=_at(17, 10), staff=coach)
    course_2 = factories.SessionFactory(service=course, title="Learn to swim", start=_at(19, 10), staff=coach)

    bookings = {}
    for status in STATUSES:
        for scenario in SCENARIOS:
            contact = factories.ContactFactory(
                first_name=scenario.name.replace("_", " ").title(), last_name=status.title()
            )
            booking = factories.BookingFactory(session=dawn, status=status, contact=contact)
            _BUILDERS[scenario.name](booking)
            bookings[(status, scenario.name)] = booking
            if (status, scenario.name) in ATTENDED | NO_SHOW:
                factories.AttendanceFactory(
                    booking=booking,
                    session=dawn,
                    status=Attendance.Status.ATTENDED if (status, scenario.name) in ATTENDED else "NOT_ATTENDED",
                )

    others = {}
    # Evening swim: a family of two on one card payment; two friends on one cash order; two no-shows.
    family = factories.BookingFactory(session=evening, total_participants=2, payment_status="PAID")
    _order(family, total=D("20"), paid=D("20"), payments=[(M.CARD, D("20"))], quantity=2)
    friend_a = factories.BookingFactory(session=evening, payment_status="PAID")
    friend_b = factories.BookingFactory(session=evening, payment_status="PAID")
    shared = factories.OrderFactory(total=D("20"), paid=D("20"), balance=D("0"), payment_status="PAID")
    for friend in (friend_a, friend_b):
        factories.OrderLineItemFactory(order=shared, booking=friend, price=PRICE)
    factories.PaymentFactory(order=shared, method=M.CASH, amount=D("20"))
    no_show_unpaid = factories.BookingFactory(session=evening, payment_status="NOT_PAID")
    factories.AttendanceFactory(booking=no_show_unpaid, session=evening, status="NOT_ATTENDED")
    no_show_paid = factories.BookingFactory(session=evening, payment_status="PAID")
    _order(no_show_paid, total=PRICE, paid=PRICE, payments=[(M.CASH, PRICE)])
    factories.AttendanceFactory(booking=no_show_paid, session=evening, status="NOT_ATTENDED")
    others.update(family=family, friend_a=friend_a, friend_b=friend_b, no_show_unpaid=no_show_unpaid)
    others["no_show_paid"] = no_show_paid

    # The course: booked onto the course (no session), on both sessions' rosters.
    course_paid = factories.BookingFactory(session=None, service=course, payment_status="PAID")
    _order(course_paid, total=D("50"), paid=D("50"), payments=[(M.CASH, D("50"))], price=D("50"))
    course_unpaid = factories.BookingFactory(session=None, service=course, payment_status="NOT_PAID")
    factories.AttendanceFactory(booking=course_paid, session=course_1, status="ATTENDED")
    factories.AttendanceFactory(booking=course_paid, session=course_2, status="NOT_ATTENDED")
    factories.AttendanceFactory(booking=course_unpaid, session=course_2, status="NOT_ATTENDED")
    others.update(course_paid=course_paid, course_unpaid=course_unpaid)

    # Outside the week.
    late_booking = factories.BookingFactory(session=late, payment_status="PAID")
    _order(late_booking, total=PRICE, paid=PRICE, payments=[(M.CASH, PRICE)])
    others["late"] = late_booking
    return World(dawn, evening, course_1, course_2, late, course, bookings, others)


# --- the ways of paying ------------------------------------------------------------------------------


def _order(
    booking: Booking,
    *,
    total: Decimal,
    paid: Decimal,
    payments: list[tuple[str, Decimal]] = (),
    status: str = "APPROVED",
    payment_status: str = "APPROVED",
    price: Decimal = PRICE,
    quantity: int = 1,
    option: str = "FULL_PAYMENT_OFFLINE",
    plan_line: bool = False,
) -> None:
    order = factories.OrderFactory(total=total, paid=paid, balance=total - paid, status=status)
    line = factories.OrderLineItemFactory(
        order=order, booking=booking, price=price, quantity=quantity, payment_option=option
    )
    for method, amount in payments:
        factories.PaymentFactory(
            order=order,
            method=method,
            amount=amount,
            status=payment_status,
            line_item_id=line.line_item_id if plan_line else "",
        )


def _paid(booking: Booking, payment_status: str = "PAID", option: str = "OFFLINE") -> None:
    Booking.objects.filter(pk=booking.pk).update(payment_status=payment_status, selected_payment_option=option)
    booking.refresh_from_db()


def _desk(booking: Booking, kind: str, status: str, params: dict[str, object]) -> None:
    factories.DeskActionFactory(booking=booking, kind=kind, status=status, params=params)
    Booking.objects.filter(pk=booking.pk).update(pending_sync=status in DeskAction.LIVE_STATUSES)


def _by(method: str):
    def build(booking: Booking) -> None:
        _paid(booking, option="ONLINE" if method == M.ONLINE else "OFFLINE")
        _order(booking, total=PRICE, paid=PRICE, payments=[(method, PRICE)])

    return build


_BUILDERS = {
    "cash": _by(M.CASH),
    "card": _by(M.CARD),
    "cheque": _by(M.CHECK),
    "online": _by(M.ONLINE),
    "other": _by(M.OTHER),
    "plan_order": lambda b: (
        _paid(b, option="MEMBERSHIP"),
        _order(b, total=PRICE, paid=PRICE, payments=[(M.PLAN, PRICE)], option="MEMBERSHIP", plan_line=True),
    ),
    "plan_no_order": lambda b: _paid(b, option="MEMBERSHIP_OFFLINE"),
    "part": lambda b: (_paid(b, "PARTIALLY_PAID"), _order(b, total=PRICE, paid=D("4"), payments=[(M.CASH, D("4"))])),
    "unpaid_order": lambda b: _order(b, total=PRICE, paid=D("0")),
    "unpaid_no_order": lambda b: _paid(b, "UNDEFINED"),
    "refunded": lambda b: (
        _paid(b, "REFUNDED"),
        _order(b, total=PRICE, paid=PRICE, payments=[(M.CARD, PRICE)], status="CANCELED", payment_status="REFUNDED"),
    ),
    "free": lambda b: _paid(b, "EXEMPT"),
    "desk_cash_pending": lambda b: (
        _paid(b),
        _desk(b, Kind.PAYMENT, "QUEUED", {"method": "CASH", "amount": "10.00", "full": True, "due": "10.00"}),
    ),
    "desk_card_synced": lambda b: (
        _paid(b),
        _desk(b, Kind.PAYMENT, "SYNCED", {"method": "CARD", "amount": "10.00", "full": True, "due": "10.00"}),
    ),
    "desk_plan_pending": lambda b: (
        _paid(b, option="MEMBERSHIP"),
        _desk(b, Kind.PLAN_CHARGE, "QUEUED", {"balance_id": 1, "pool_id": "pool", "due": "10.00"}),
    ),
    "desk_part_pending": lambda b: (
        _paid(b, "PARTIALLY_PAID"),
        _desk(b, Kind.PAYMENT, "QUEUED", {"method": "CASH", "amount": "3.00", "full": False, "due": "10.00"}),
    ),
    "mixed": lambda b: (
        _paid(b),
        _order(b, total=PRICE, paid=PRICE, payments=[(M.CASH, D("4")), (M.CARD, D("6"))]),
    ),
    "paid_no_record": lambda b: _paid(b),
}


# --- what the report must say, by hand -------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """One facts row as worked out by hand."""

    booking: Booking
    session: Session
    status: str
    way: str
    att: str
    due: Decimal
    collected: dict[str, Decimal]
    people: int = 1


def expected_rows(world: World) -> list[Expected]:
    """Every row of the week, by hand."""
    rows = []
    for (status, name), booking in world.bookings.items():
        scenario = next(s for s in SCENARIOS if s.name == name)
        active = status in ACTIVE
        att = "ATTENDED" if (status, name) in ATTENDED else "NOT_ATTENDED" if (status, name) in NO_SHOW else "NOT_SET"
        rows.append(
            Expected(
                booking=booking,
                session=world.dawn,
                status=status,
                way=scenario.way if active or not scenario.way_without_place else scenario.way_without_place,
                att=att,
                due=scenario.due if active else D("0"),
                collected=scenario.collected,
            )
        )
    o = world.others
    rows += [
        Expected(o["family"], world.evening, "CONFIRMED", "CARD", "NOT_SET", D("0"), {"CARD": D("20")}, people=2),
        Expected(o["friend_a"], world.evening, "CONFIRMED", "CASH", "NOT_SET", D("0"), {"CASH": PRICE}),
        Expected(o["friend_b"], world.evening, "CONFIRMED", "CASH", "NOT_SET", D("0"), {"CASH": PRICE}),
        Expected(o["no_show_unpaid"], world.evening, "CONFIRMED", "UNPAID", "NOT_ATTENDED", PRICE, {}),
        Expected(o["no_show_paid"], world.evening, "CONFIRMED", "CASH", "NOT_ATTENDED", D("0"), {"CASH": PRICE}),
        # The course: on both sessions; its money at the first only.
        Expected(o["course_paid"], world.course_1, "CONFIRMED", "CASH", "ATTENDED", D("0"), {"CASH": D("50")}),
        Expected(o["course_paid"], world.course_2, "CONFIRMED", "CASH", "NOT_ATTENDED", D("0"), {}),
        Expected(o["course_unpaid"], world.course_1, "CONFIRMED", "UNPAID", "NOT_SET", D("50"), {}),
        Expected(o["course_unpaid"], world.course_2, "CONFIRMED", "UNPAID", "NOT_ATTENDED", D("0"), {}),
    ]
    return rows
