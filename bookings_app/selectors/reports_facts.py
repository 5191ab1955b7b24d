"""The payment report's facts: one row per booking at a session, with how it stands, as one SQL
query the report groups by session (``selectors.reports``) and its drill-down filters and pages
(``selectors.reports_rows``) — the same columns both ways, so a number and the rows behind it
cannot disagree.

**The row.** A class or appointment booking at its own session; a course booking (booked onto
the course, no session of its own) at every session of the course, as on each session's roster.
A course is paid for once, so a course booking's money — due and collected — counts at one
session only: the course's first that the mirror holds (``money_here``).

**The columns** (:data:`COLUMNS`), per row:

* ``status``, ``payment_status`` (Wix's words), ``people`` (participants);
* ``att`` — attendance at that session: ``ATTENDED``, ``NOT_ATTENDED`` or ``NOT_SET``;
* ``way`` — how it stands, one word per booking (:data:`WAYS`), so the words add up to the
  bookings: charged to a plan (as the desk sees it: ``queries.desk_plan_q``), free, written off
  (holding a place, not paid, and a manager wrote off what it owes: ``models.write_offs`` — as
  Today, the roster and the owes list count it, never unpaid), refunded, part paid, paid in
  full — then by the way that paid most: the desk's payment still on its way, else the mirror's
  biggest method, else the desk's payment Wix has (an order-less booking), else
  "another way" —, unpaid (a place held, nothing paid), or nothing due (cancelled, declined,
  waiting, with nothing paid);
* ``due`` — what is still to collect by the roster's rule (``money.roster_due`` less the desk's
  payments, ``money.roster_due_less_desk``) for a booking holding a place (confirmed, pending);
  nothing for one written off (the roster shows it nothing to collect);
* ``c_cash`` … ``c_plan`` and ``collected`` — the money in, by method: the mirror's standing
  payments on the booking's orders (a plan payment for its own line only; a payment for a whole
  order that holds several lines — a family's, a package's — split by each line's part of the
  order's total, rounded to the penny per booking), the desk's payments still on their way
  (and, for a booking with no order, those Wix has: booking-only mode keeps no payment rows), a
  plan charge on its way (at what it settles) and — charged to a plan, no order mirrored — the
  list price. Due plus collected is what the roster counts as the price.

**Cost.** A row's money comes from joins (its order lines, their orders and payments, its
attendance at the session) grouped by booking, not from a subquery per figure (those cost
several times more); the desk's actions from one grouped query over the actions of the rows'
bookings, joined in. The rows of one session are an index lookup (a few ms); a month of the
bench's season (14,000 bookings) takes about 100–200 ms of SQLite, most of it reading the
bookings' orders and payments — so the report and its drill-down do not read a month of them
each time: each session's rows are kept counted and summed (``selectors.reports_cache``), worked
out again only for the sessions something changed at, and the drill-down reads the rows of only
the sessions its page shows. See the report's figures in ``bench/README.md``.

These are twins of the Python rules in ``bookings_app.money`` and ``bookings_app.roster_rows``:
``tests/selectors/test_reports.py`` holds them to the same answers (the roster's amount due,
Today's plan count) and to a week worked out by hand, booking by booking.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Func,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, Round
from django.db.models.lookups import Exact, Lookup
from django.utils import timezone

from bookings_app.models import (
    Attendance,
    Booking,
    DeskAction,
    Order,
    OrderLineItem,
    Payment,
    Service,
    Session,
    WriteOff,
)
from bookings_app.selectors.precompiled import Ids, ids_in, ids_param
from bookings_app.selectors.queries import PLAN_OPTIONS

Kind = DeskAction.Kind
PS = Booking.PaymentStatus
MONEY = DecimalField(max_digits=12, decimal_places=2)
ZERO = Value(Decimal("0"), output_field=MONEY)

# How a booking stands (``way``): one word each, so that they add up to the bookings.
CASH, CARD, CHECK, ONLINE, PLAN, OTHER = "CASH", "CARD", "CHECK", "ONLINE", "PLAN", "OTHER"
PART, UNPAID, REFUNDED, FREE, NOTHING = "PART", "UNPAID", "REFUNDED", "FREE", "NOTHING"
WRITTEN_OFF = "WRITTEN_OFF"
WAYS = (CASH, CARD, CHECK, ONLINE, PLAN, OTHER, PART, UNPAID, WRITTEN_OFF, REFUNDED, FREE, NOTHING)
# The methods money comes in by (``Payment.Method``; the desk takes cash, card and cheque).
METHODS = (CASH, CARD, CHECK, ONLINE, PLAN, OTHER)
DESK_METHODS = (CASH, CARD, CHECK)
CANCELLED = (Booking.Status.CANCELED, Booking.Status.DECLINED)
NOT_YET = (Booking.Status.PENDING, Booking.Status.CREATED, Booking.Status.WAITING_LIST)

# The columns of a facts row, in order (the display columns follow when asked for).
COLUMNS = (
    "booking_id",
    "sess",
    "contact_id",
    "status",
    "payment_status",
    "people",
    "att",
    "way",
    "due",
    *(f"c_{m.lower()}" for m in METHODS),
    "collected",
)
# What the drill-down and the export show besides: the person, the session, the service.
DISPLAY_COLUMNS = ("start", "first_name", "last_name", "service_name", "title", "session_wix_id")


@dataclass(frozen=True)
class Scope:
    """Which sessions the rows come from: a range of session starts and the session filters."""

    start: datetime
    end: datetime  # exclusive
    service_id: int | None = None
    service_type: str | None = None
    staff_id: int | None = None
    session_id: int | None = None
    # Only these sessions (the report's kept figures work out the ones out of date: reports_cache).
    session_ids: tuple[int, ...] | Ids | None = None

    @property
    def first_day(self) -> date:
        return timezone.localdate(self.start)

    @property
    def last_day(self) -> date:
        return timezone.localdate(self.end - timedelta(microseconds=1))

    def sessions(self) -> QuerySet[Session]:
        return Session.objects.filter(*self.conditions())

    def conditions(self, prefix: str = "") -> tuple[Q | Lookup, ...]:
        """The scope's conditions on a session, for ``filter(*…)`` (``prefix`` as for
        :meth:`lookups`), with :attr:`session_ids` as one list parameter."""
        found: tuple[Q | Lookup, ...] = (Q(**self.lookups(prefix)),)
        if self.session_ids is not None:
            found += (ids_in(f"{prefix}pk", self.session_ids),)
        return found

    def lookups(self, prefix: str = "") -> dict[str, object]:
        """The scope's conditions on a session, as ``filter()`` keywords (``prefix``: the path to
        the session, e.g. ``"session__"``)."""
        found: dict[str, object] = {f"{prefix}start__gte": self.start, f"{prefix}start__lt": self.end}
        if self.service_id is not None:
            found[f"{prefix}service_id"] = self.service_id
        if self.service_type:
            found[f"{prefix}service__type"] = self.service_type
        if self.staff_id is not None:
            found[f"{prefix}staff_id"] = self.staff_id
        if self.session_id is not None:
            found[f"{prefix}pk"] = self.session_id
        return found


def facts_sql(scope: Scope, *, display: bool = False) -> tuple[str, tuple[object, ...]]:
    """The facts rows of ``scope`` as one SELECT (:data:`COLUMNS`, then :data:`DISPLAY_COLUMNS`
    when ``display``) and its parameters.

    Three layers: the own sessions' rows and the course sessions' rows, each one grouped query
    of raw columns built by the ORM (:func:`_facts`), joined to the desk's money (:func:`_desk`);
    over them, in SQL, whether the booking is on a plan and what the desk took (:data:`_STEP_1`);
    then its way, due and money (:data:`_STEP_2`). Layered rather than one expression per
    column: a column written in terms of the others would repeat their whole SQL every time it
    names them.

    Building that SQL with the ORM costs some 25 ms, so it is built once per shape of scope
    (which filters are set) with stand-in values, and the scope's own values are put in the
    parameters' places (:func:`_compiled`)."""
    shape = _Shape(
        service=scope.service_id is not None,
        service_type=bool(scope.service_type),
        staff=scope.staff_id is not None,
        session=scope.session_id is not None,
        ids=scope.session_ids is not None,
        display=display,
        vendor=connection.vendor,
    )
    sql, params = _compiled(shape)
    values = {
        _adapt(_STAND_IN.start): _adapt(scope.start),
        _adapt(_STAND_IN.end): _adapt(scope.end),
        _STAND_IN.service_id: scope.service_id,
        _STAND_IN.service_type: scope.service_type,
        _STAND_IN.staff_id: scope.staff_id,
        _STAND_IN.session_id: scope.session_id,
    }
    ids = ids_param(scope.session_ids or (), connection.vendor)
    return sql, tuple(
        ids if isinstance(p, Ids) else values.get(p, p) if isinstance(p, str | int | datetime) else p for p in params
    )


@dataclass(frozen=True)
class _Shape:
    service: bool
    service_type: bool
    staff: bool
    session: bool
    ids: bool
    display: bool
    vendor: str


# Stand-in values no real query holds, replaced by the scope's own in the compiled parameters.
_STAND_IN = Scope(
    start=datetime(1901, 2, 3, 4, 5, 6, tzinfo=UTC),
    end=datetime(1902, 3, 4, 5, 6, 7, tzinfo=UTC),
    service_id=-7_000_001,
    service_type="__SERVICE_TYPE__",
    staff_id=-7_000_002,
    session_id=-7_000_003,
)


def _adapt(value: datetime) -> object:
    """A datetime as the database's parameters hold it (SQLite: text in UTC)."""
    return connection.ops.adapt_datetimefield_value(value)


@functools.lru_cache(maxsize=64)
def _compiled(shape: _Shape) -> tuple[str, tuple[object, ...]]:
    scope = Scope(
        start=_STAND_IN.start,
        end=_STAND_IN.end,
        service_id=_STAND_IN.service_id if shape.service else None,
        service_type=_STAND_IN.service_type if shape.service_type else None,
        staff_id=_STAND_IN.staff_id if shape.staff else None,
        session_id=_STAND_IN.session_id if shape.session else None,
        session_ids=Ids("sessions") if shape.ids else None,
    )
    sql, params = _build(scope, display=shape.display)
    return sql, tuple(params)


def _build(scope: Scope, *, display: bool) -> tuple[str, tuple[object, ...]]:
    display_columns = DISPLAY_COLUMNS if display else ()
    row_columns = (*_ROW_COLUMNS, *display_columns)
    parts, params = [], []
    own, course = _own(scope, display), _course(scope, display)
    for alias, queryset in (("own", own), ("course", course)):
        sql, part_params = queryset.query.sql_with_params()
        parts.append(f"SELECT {_columns(alias, row_columns)} FROM ({sql}) {alias}")  # noqa: S608 - our columns
        params.extend(part_params)
    desk_sql, desk_params = _desk(scope).query.sql_with_params()
    params.extend(desk_params)
    desk_columns = ", ".join(f"COALESCE(d.{c}, 0) AS {c}" for c in _DESK_COLUMNS[:-2])
    step_0 = (
        f"SELECT {_columns('o', row_columns)}, {desk_columns}, d.live_method, d.synced_method"  # noqa: S608
        f" FROM ({' UNION ALL '.join(parts)}) o LEFT JOIN ({desk_sql}) d ON d.booking_id = o.booking_id"
    )
    raw_columns = (*row_columns, *_DESK_COLUMNS)
    step_1 = f"SELECT {_columns('u', raw_columns)}, {_STEP_1} FROM ({step_0}) u"  # noqa: S608 - constants
    step_2 = f"SELECT {_columns('s1', (*_STEP_2_KEEP, *display_columns))}, {_STEP_2} FROM ({step_1}) s1"  # noqa: S608
    collected = " + ".join(f"s2.c_{m.lower()}" for m in METHODS)
    columns = _columns("s2", (*COLUMNS[:-1], *display_columns))
    return f"SELECT {columns}, {collected} AS collected FROM ({step_2}) s2", tuple(params)  # noqa: S608


def _columns(alias: str, names: tuple[str, ...]) -> str:
    return ", ".join(f"{alias}.{name}" for name in names)


def lit(*values: str) -> str:
    """Our own constants as SQL string literals: a comma-separated list of them."""
    for value in values:
        if not re.fullmatch(r"[A-Z_]+", value):
            raise ValueError(f"not a constant: {value!r}")
    return ", ".join(f"'{value}'" for value in values)


# What the ORM's grouped query gives per row (see _facts), and what the SQL layers make of it.
_ROW_COLUMNS = (
    "booking_id",
    "sess",
    "contact_id",
    "status",
    "payment_status",
    "people",
    "option",
    "price",
    "money_here",
    "written_off",
    "att",
    "first_line",
    "order_balance",
    "plan_payments",
    *(f"m_{m.lower()}" for m in METHODS),
)
# What the desk's actions give per booking (see _desk); a booking with none has no row (0s).
_DESK_COLUMNS = (
    "moving",
    "live_plan",
    *(f"live_{m.lower()}" for m in DESK_METHODS),
    *(f"synced_{m.lower()}" for m in DESK_METHODS),
    "live_plan_value",
    "live_method",
    "synced_method",
)
_SETTLED = lit(*Booking.SETTLED_PAYMENT_STATUSES)
_ACTIVE = lit(*Booking.ACTIVE_STATUSES)
_MIRROR_PLAN = f"""(u.plan_payments > 0 OR (u.first_line IS NULL AND u.option IN ({lit(*PLAN_OPTIONS)})
        AND u.payment_status IN ({_SETTLED})))"""
# The desk's money by method: on its way, and — no order, so no payment rows — what Wix has.
_DESK_BY_METHOD = ",\n    ".join(
    f"u.live_{m} + CASE WHEN u.first_line IS NULL THEN u.synced_{m} ELSE 0 END AS desk_{m}"
    for m in (m.lower() for m in DESK_METHODS)
)
_STEP_1 = f"""
    (u.live_plan > 0 OR (u.moving = 0 AND {_MIRROR_PLAN})) AS plan,
    {_MIRROR_PLAN} AS mirror_plan,
    {_DESK_BY_METHOD},
    CASE
        WHEN u.m_cash > 0 AND u.m_cash >= COALESCE(u.m_card, 0) AND u.m_cash >= COALESCE(u.m_check, 0)
            AND u.m_cash >= COALESCE(u.m_online, 0) THEN '{CASH}'
        WHEN u.m_card > 0 AND u.m_card >= COALESCE(u.m_check, 0) AND u.m_card >= COALESCE(u.m_online, 0)
            THEN '{CARD}'
        WHEN u.m_check > 0 AND u.m_check >= COALESCE(u.m_online, 0) THEN '{CHECK}'
        WHEN u.m_online > 0 THEN '{ONLINE}'
    END AS mirror_method
"""
_STEP_2_KEEP = ("booking_id", "sess", "contact_id", "status", "payment_status", "people", "att")
# Written off (a standing write-off), holding a place and not paid: what Today and the roster count
# as written off rather than unpaid (``roster_list.numbers_from_rows``).
_WRITTEN_OFF = f"s1.written_off AND s1.status IN ({_ACTIVE}) AND s1.payment_status <> '{PS.PAID}'"
_DESK_TAKEN = " + ".join(f"s1.desk_{m.lower()}" for m in DESK_METHODS)
_GROSS = f"""(CASE
            WHEN s1.first_line IS NOT NULL THEN s1.order_balance
            WHEN s1.mirror_plan OR s1.payment_status IN ({_SETTLED}) THEN 0
            ELSE s1.price
        END - ({_DESK_TAKEN}))"""
_PAID_BY = f"""COALESCE(s1.live_method, s1.mirror_method,
            CASE WHEN s1.first_line IS NULL THEN s1.synced_method END, '{OTHER}')"""
_COLLECTED_BY_DESK_METHOD = ",\n    ".join(
    f"CASE WHEN s1.money_here THEN COALESCE(s1.m_{m}, 0) + s1.desk_{m} ELSE 0 END AS c_{m}"
    for m in (m.lower() for m in DESK_METHODS)
)
_STEP_2 = f"""
    CASE
        WHEN s1.plan THEN '{PLAN}'
        WHEN s1.payment_status = '{PS.EXEMPT}' THEN '{FREE}'
        WHEN {_WRITTEN_OFF} THEN '{WRITTEN_OFF}'
        WHEN s1.payment_status = '{PS.REFUNDED}' THEN '{REFUNDED}'
        WHEN s1.payment_status = '{PS.PARTIALLY_PAID}' THEN '{PART}'
        WHEN s1.payment_status = '{PS.PAID}' THEN {_PAID_BY}
        WHEN s1.status IN ({_ACTIVE}) THEN '{UNPAID}'
        ELSE '{NOTHING}'
    END AS way,
    CASE WHEN s1.money_here AND NOT s1.written_off AND s1.status IN ({_ACTIVE}) AND {_GROSS} > 0
        THEN {_GROSS} ELSE 0 END AS due,
    {_COLLECTED_BY_DESK_METHOD},
    CASE WHEN s1.money_here THEN COALESCE(s1.m_online, 0) ELSE 0 END AS c_online,
    CASE WHEN s1.money_here THEN COALESCE(s1.m_plan, 0) + s1.live_plan_value
        + CASE WHEN s1.plan AND s1.first_line IS NULL AND s1.live_plan = 0 THEN s1.price ELSE 0 END
        ELSE 0 END AS c_plan,
    CASE WHEN s1.money_here THEN COALESCE(s1.m_other, 0) ELSE 0 END AS c_other
"""


# --- the two kinds of rows -----------------------------------------------------------------------


def _own_bookings(scope: Scope) -> QuerySet[Booking]:
    """Bookings of the sessions in ``scope``, read from the index ``booking_session_facts``. On
    PostgreSQL joined to their session and filtered there (with a subquery of sessions, the
    drill-down's plan joined every booking's money before narrowing to the range: a month's rows
    took 300 ms, 120 ms this way); on SQLite by a subquery of sessions, which it reads first and
    then searches each one's bookings (joined, it scanned every booking: 30 % slower)."""
    if connection.vendor == "postgresql":
        return Booking.objects.filter(*scope.conditions("session__"))
    return Booking.objects.filter(session__in=scope.sessions().values("pk"))


def _course_bookings(scope: Scope) -> QuerySet[Booking]:
    """Course bookings joined to the course's sessions in ``scope``: one row per session (the
    session conditions in this one ``filter()`` call, so every later use shares the join)."""
    return Booking.objects.filter(
        session__isnull=True,
        service__type=Service.Type.COURSE,
        service__sessions__in=scope.sessions().filter(service__type=Service.Type.COURSE).values("pk"),
    )


def _own(scope: Scope, display: bool) -> QuerySet:
    """Class and appointment bookings at their sessions."""
    bookings = _own_bookings(scope).annotate(
        att_here=FilteredRelation("attendances", condition=Q(attendances__session_id=F("session_id")))
    )
    att = Coalesce(Max("att_here__status"), Value(Attendance.Status.NOT_SET), output_field=CharField())
    display_values = _display("session") if display else {}
    return _facts(bookings, sess=F("session_id"), att=att, money_here=Value(True), **display_values)


def _course(scope: Scope, display: bool) -> QuerySet:
    """Course bookings at every session of their course in ``scope``."""
    bookings = _course_bookings(scope)
    first = Session.objects.filter(service_id=OuterRef("service_id")).order_by("start", "pk").values("pk")[:1]
    money_here = ExpressionWrapper(Q(service__sessions__id=Subquery(first)), output_field=BooleanField())
    # A course's rows are few (its people × its sessions): a subquery each is cheap enough, and a
    # filtered join cannot name the session's join.
    attendance = Attendance.objects.filter(booking_id=OuterRef("pk"), session_id=OuterRef("service__sessions__id"))
    att = Coalesce(
        Subquery(attendance.values("status")[:1]), Value(Attendance.Status.NOT_SET), output_field=CharField()
    )
    display_values = _display("service__sessions") if display else {}
    return _facts(bookings, sess=F("service__sessions__id"), att=att, money_here=money_here, **display_values)


def _desk(scope: Scope) -> QuerySet:
    """The desk's actions that change a row's money, per booking of the rows: payments, plan
    charges and reversals still on their way, and payments Wix has. A booking the desk never
    touched has no row. Found by the rows' bookings (an index lookup each), so it costs nothing
    for the bookings made online."""
    live = Q(status__in=DeskAction.LIVE_STATUSES)
    payment = Q(kind=Kind.PAYMENT)
    synced = Q(status=DeskAction.Status.SYNCED)
    actions = DeskAction.objects.filter(
        Q(booking_id__in=_own_bookings(scope).values("pk")) | Q(booking_id__in=_course_bookings(scope).values("pk")),
        live | (synced & payment),
    )
    amount = Cast(KT("params__amount"), MONEY)
    moving = live & Q(kind__in=(*DeskAction.MONEY_KINDS, *DeskAction.REVERSAL_KINDS))
    live_plan = live & Q(kind=Kind.PLAN_CHARGE)
    same_booking = DeskAction.objects.filter(booking_id=OuterRef("booking_id"), kind=Kind.PAYMENT).order_by("-pk")
    newest_live = same_booking.filter(status__in=DeskAction.LIVE_STATUSES).values(m=KT("params__method"))[:1]
    newest_synced = same_booking.filter(status=DeskAction.Status.SYNCED).values(m=KT("params__method"))[:1]
    return actions.values("booking_id").annotate(
        moving=Count("pk", filter=moving),
        live_plan=Count("pk", filter=live_plan),
        **{
            f"live_{m.lower()}": Coalesce(Sum(amount, filter=live & payment & Q(params__method=m)), ZERO)
            for m in DESK_METHODS
        },
        **{
            f"synced_{m.lower()}": Coalesce(Sum(amount, filter=synced & payment & Q(params__method=m)), ZERO)
            for m in DESK_METHODS
        },
        live_plan_value=Coalesce(Sum(Cast(KT("params__due"), MONEY), filter=live_plan), ZERO),
        live_method=Subquery(newest_live, output_field=CharField()),
        synced_method=Subquery(newest_synced, output_field=CharField()),
    )


def _display(session_path: str) -> dict[str, F]:
    return {
        "start": F(f"{session_path}__start"),
        "first_name": F("contact__first_name"),
        "last_name": F("contact__last_name"),
        "service_name": F("service__name"),
        "title": F(f"{session_path}__title"),
        "session_wix_id": F(f"{session_path}__wix_id"),
    }


# --- the facts -------------------------------------------------------------------------------------


def _facts(bookings: QuerySet[Booking], *, sess: F, att: object, money_here: object, **display: F) -> QuerySet:
    """``bookings`` grouped by booking (and session), with the raw columns (:data:`_RAW_COLUMNS`)."""
    line_condition = Q(line_items__order__payments__line_item_id="") | Q(
        line_items__order__payments__line_item_id=F("line_items__line_item_id")
    )
    standing = WriteOff.objects.filter(booking_id=OuterRef("pk"), reversed_at__isnull=True)
    rows = bookings.annotate(
        paid=FilteredRelation(
            "line_items__order__payments",
            condition=Q(line_items__order__payments__status__in=Payment.COUNTED_STATUSES) & line_condition,
        ),
    ).values(
        "contact_id",
        "status",
        "payment_status",
        booking_id=F("pk"),
        sess=sess,
        people=F("total_participants"),
        option=F("selected_payment_option"),
        price=ExpressionWrapper(Coalesce("service__price", ZERO) * F("total_participants"), output_field=MONEY),
        money_here=money_here,
        written_off=Exists(standing),
        **display,
    )
    # Per booking, from the joins: attendance, its orders' balance, the mirror's money by method.
    orders = Order.objects.filter(
        pk__in=OrderLineItem.objects.filter(booking_id=OuterRef(OuterRef("pk"))).values("order_id")
    )
    balances = Subquery(orders.order_by().values(v=Func(F("balance"), function="SUM", output_field=MONEY)))
    one_order = Q(Exact(Min("line_items__order_id"), Max("line_items__order_id")))
    return rows.annotate(
        att=att,
        first_line=Min("line_items__id"),
        order_balance=Case(
            When(one_order, then=Max("line_items__order__balance")), default=balances, output_field=MONEY
        ),
        plan_payments=Count("paid__id", filter=Q(paid__method=Payment.Method.PLAN)),
        **{f"m_{m.lower()}": Round(Sum(_share(), filter=Q(paid__method=m)), 2, output_field=MONEY) for m in METHODS},
    )


def _share() -> ExpressionWrapper:
    """One payment's part that is this line's: all of it for a plan payment (it names its line) or
    for a line worth the whole order; else the line's part of the order's total (an order that
    pays for several bookings: a family's, a package's)."""
    line_value = ExpressionWrapper(F("line_items__price") * F("line_items__quantity"), output_field=MONEY)
    share = Case(
        When(~Q(paid__line_item_id=""), then=F("paid__amount")),
        When(line_items__order__total__lte=line_value, then=F("paid__amount")),
        default=F("paid__amount") * line_value / F("line_items__order__total"),
        output_field=MONEY,
    )
    return ExpressionWrapper(share, output_field=MONEY)
