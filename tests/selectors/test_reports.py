"""The payment report's numbers against a week worked out by hand (``report_world``): every
booking status × every way of paying, the desk's payments on their way, a course, shared orders;
the drill-down's totals equal the report's, number by number; the filters; a fixed number of
queries whatever the week holds."""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings_app import roster_rows, selectors
from bookings_app.models import Booking
from bookings_app.selectors import reports_cache, reports_facts
from bookings_app.selectors.reports import METRIC_BY_NAME, METRICS, RowFilters
from tests import factories
from tests.selectors import report_world as world_module
from tests.selectors.report_world import ACTIVE, PRICE, Expected, week_scope

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def world() -> world_module.World:
    return world_module.build()


def _facts(scope: reports_facts.Scope) -> dict[tuple[int, int], dict[str, object]]:
    sql, params = reports_facts.facts_sql(scope)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM ({sql}) f", params)  # noqa: S608 - the test's own
        names = [c[0] for c in cursor.description]
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    return {(r["booking_id"], r["sess"]): r for r in rows}


def _money(value: object) -> Decimal:
    return D(str(value or 0)).quantize(D("0.01"))


def _hand_figures(rows: list[Expected]) -> dict[str, object]:
    """The report's figures added up from the rows worked out by hand."""
    ways = Counter(r.way for r in rows)
    collected = defaultdict(Decimal)
    for r in rows:
        for method, amount in r.collected.items():
            collected[method] += amount
    no_show_unpaid = [r for r in rows if r.att == "NOT_ATTENDED" and r.way in ("UNPAID", "PART")]
    return {
        "booked": len(rows),
        "people": sum(r.people for r in rows),
        "confirmed": sum(r.status == "CONFIRMED" for r in rows),
        "not_yet": sum(r.status in ("PENDING", "CREATED", "WAITING_LIST") for r in rows),
        "cancelled": sum(r.status in ("CANCELED", "DECLINED") for r in rows),
        **{f"paid_{m.lower()}": ways[m] for m in ("CASH", "CARD", "CHECK", "ONLINE", "PLAN", "OTHER")},
        "part": ways["PART"],
        "unpaid": ways["UNPAID"],
        "written_off": ways["WRITTEN_OFF"],
        "refunded": ways["REFUNDED"],
        "free": ways["FREE"],
        "nothing_due": ways["NOTHING"],
        "attended": sum(r.att == "ATTENDED" for r in rows),
        "no_show": sum(r.att == "NOT_ATTENDED" for r in rows),
        "unmarked": sum(r.att == "NOT_SET" and r.status in ACTIVE for r in rows),
        "due": sum((r.due for r in rows), D("0")),
        "collected": sum(collected.values(), D("0")),
        **{f"collected_{m.lower()}": collected[m] for m in ("CASH", "CARD", "CHECK", "ONLINE", "PLAN", "OTHER")},
        "no_show_unpaid": len(no_show_unpaid),
        "no_show_unpaid_due": sum((r.due for r in no_show_unpaid), D("0")),
    }


# --- every row, by hand ------------------------------------------------------------------------------


def test_every_row_says_what_was_worked_out_by_hand(world):
    facts = _facts(week_scope())
    expected = world_module.expected_rows(world)

    assert len(facts) == len(expected) == 108 + 5 + 4  # the late swim is outside the week
    for e in expected:
        row = facts[(e.booking.pk, e.session.pk)]
        got = (row["status"], row["way"], row["att"], _money(row["due"]), row["people"])
        assert got == (e.status, e.way, e.att, e.due, e.people), (e.booking.contact.first_name, e.status)
        for method in reports_facts.METHODS:
            assert _money(row[f"c_{method.lower()}"]) == e.collected.get(method, D("0")), (e.booking, method)
        assert _money(row["collected"]) == sum(e.collected.values(), D("0"))


def test_the_report_adds_up_to_the_hand_worked_figures(world):
    report = selectors.report_read(scope=week_scope(), filters=RowFilters())
    hand = _hand_figures(world_module.expected_rows(world))

    assert {m.name: report.total[m.name] for m in METRICS} == hand
    # A few of them written out, to be sure the hand-worked rows say what they mean.
    assert report.total["booked"] == 117
    assert report.total["paid_plan"] == 3 * 6  # order, no order, on its way: whatever the status
    assert report.total["unpaid"] == 2 * 2 + 1 + 2  # two ways × confirmed/pending; the evening; the course (twice)
    assert report.total["collected_cash"] == (PRICE + 4 + PRICE + 3 + 4) * 6 + 2 * PRICE + PRICE + 50
    assert report.total["due"] == (6 + PRICE + PRICE + 7) * 2 + PRICE + 50
    assert report.total["no_show_unpaid"] == 4 + 1 + 1 + 1  # Dawn confirmed 4, pending 1; evening; the course
    assert report.total["no_show_unpaid_due"] == 6 + PRICE + PRICE + 7 + PRICE + PRICE  # the course's is at its first


def test_the_report_per_session(world):
    report = selectors.report_read(scope=week_scope(), filters=RowFilters())
    expected = world_module.expected_rows(world)

    assert [line.session for line in report.lines] == [world.dawn, world.course_1, world.evening, world.course_2]
    for line in report.lines:
        hand = _hand_figures([e for e in expected if e.session == line.session])
        assert {m.name: line.figures[m.name] for m in METRICS} == hand, line.session.title
    course_2 = next(line for line in report.lines if line.session == world.course_2)
    assert course_2.figures["booked"] == 2 and course_2.figures["collected"] == 0 and course_2.figures["due"] == 0


def test_the_ways_add_up_to_the_bookings(world):
    total = selectors.report_read(scope=week_scope(), filters=RowFilters()).total
    ways = ("paid_cash", "paid_card", "paid_check", "paid_online", "paid_plan", "paid_other")
    ways += ("part", "unpaid", "written_off", "refunded", "free", "nothing_due")

    assert sum(total[w] for w in ways) == total["booked"]
    assert total["collected"] == sum(total[f"collected_{m.lower()}"] for m in reports_facts.METHODS)


def test_collected_per_day_by_method_is_the_sessions_by_their_day(world):
    report = selectors.report_read(scope=week_scope(), filters=RowFilters())
    by_day = {d.day.day: d for d in report.days}

    assert [d.day.day for d in report.days] == list(range(16, 23))
    assert by_day[16].by_method["CASH"] == (PRICE + 4 + PRICE + 3 + 4) * 6
    assert by_day[17].by_method["CASH"] == D("50")  # the course's first session
    assert by_day[18].by_method == {**dict.fromkeys(reports_facts.METHODS, D("0")), "CARD": D("20"), "CASH": D("30")}
    assert by_day[19].total == 0 and by_day[20].total == 0
    assert sum((d.total for d in report.days), D("0")) == report.total["collected"]


# --- the same rules as the roster and Today -------------------------------------------------------


def test_due_is_what_the_roster_shows_still_to_take(world, rf):
    facts = _facts(week_scope(session_id=world.dawn.pk))
    rows = roster_rows.row_list(session=world.dawn, include_cancelled=True)
    roster_rows.desk_state_attach(rows=rows, session=world.dawn)

    checked = 0
    for row in rows:
        if row.booking.status in ACTIVE:
            assert _money(facts[(row.booking.pk, world.dawn.pk)]["due"]) == (row.amount_due or 0), row.name
            checked += 1
    assert checked == 36


def test_plan_and_unpaid_agree_with_today(world):
    today = next(s for s in selectors.session_day_list(day=world.dawn.start.date()) if s.pk == world.dawn.pk)
    facts = [f for f in _facts(week_scope(session_id=world.dawn.pk)).values() if f["status"] in ACTIVE]

    assert today.booked == len(facts)
    assert today.plan_count == sum(f["way"] == "PLAN" for f in facts)


def test_a_written_off_booking_counts_written_off_not_unpaid_as_on_today(world):
    scope = week_scope(session_id=world.dawn.pk)
    facts = _facts(scope)
    unpaid = sorted(pk for (pk, _), f in facts.items() if f["way"] == "UNPAID")
    part = sorted(pk for (pk, _), f in facts.items() if f["way"] == "PART" and f["status"] in ACTIVE)
    before = selectors.report_read(scope=scope, filters=RowFilters()).total
    written_off = [unpaid[0], part[0]]
    for pk in written_off:
        factories.WriteOffFactory(booking=Booking.objects.get(pk=pk))
    # One taken back: owed again, unpaid again.
    factories.WriteOffFactory(booking=Booking.objects.get(pk=unpaid[1]), reversed_at=timezone.now())

    after = selectors.report_read(scope=scope, filters=RowFilters()).total
    facts_after = _facts(scope)
    assert [facts_after[(pk, world.dawn.pk)]["way"] for pk in written_off] == ["WRITTEN_OFF", "WRITTEN_OFF"]
    assert [_money(facts_after[(pk, world.dawn.pk)]["due"]) for pk in written_off] == [0, 0]
    assert facts_after[(unpaid[1], world.dawn.pk)]["way"] == "UNPAID"
    assert (after["written_off"], after["unpaid"], after["part"]) == (2, before["unpaid"] - 1, before["part"] - 1)
    assert after["due"] == before["due"] - sum(_money(facts[(pk, world.dawn.pk)]["due"]) for pk in written_off)
    assert after["collected"] == before["collected"]  # what a part payment brought in still counts
    assert after["booked"] == before["booked"]
    # The rows behind the number are those two.
    page = selectors.drill_page(scope=scope, filters=RowFilters(), metric=METRIC_BY_NAME["written_off"])
    assert sorted(r.booking_id for r in page.rows) == sorted(written_off) and page.totals.measure == 2
    # Today counts them the same way: written off, not unpaid.
    today = next(s for s in selectors.session_day_list(day=world.dawn.start.date()) if s.pk == world.dawn.pk)
    people = Counter()
    for f in facts_after.values():
        if f["status"] in ACTIVE:
            people[f["way"]] += f["people"]
    assert today.written_off_count == people["WRITTEN_OFF"] == 2
    assert today.unpaid_count == people["UNPAID"] + people["PART"] + people["REFUNDED"]


# --- the drill-down's totals are the report's numbers -----------------------------------------------


def test_every_numbers_rows_add_up_to_it_in_total_and_per_session(world):
    scope = week_scope()
    report = selectors.report_read(scope=scope, filters=RowFilters())
    for metric in METRICS:
        page = selectors.drill_page(scope=scope, filters=RowFilters(), metric=metric)
        assert page.totals.measure == report.total[metric.name], metric.name
        for line in report.lines:
            one = selectors.drill_page(
                scope=week_scope(session_id=line.session.pk), filters=RowFilters(), metric=metric
            )
            assert one.totals.measure == line.figures[metric.name], (metric.name, line.session.title)


def test_the_rows_behind_a_number_are_those_rows_page_by_page(world):
    metric = selectors.METRIC_BY_NAME["collected_cash"]
    first = selectors.drill_page(scope=week_scope(), filters=RowFilters(), metric=metric, per_page=10)
    second = selectors.drill_page(scope=week_scope(), filters=RowFilters(), metric=metric, per_page=10, page=2)
    every = list(selectors.drill_rows_all(scope=week_scope(), filters=RowFilters(), metric=metric, chunk=3))

    # Dawn: cash, part, desk cash, desk part, mixed × 6 statuses; the evening's 3; the course's first
    assert first.totals.rows == 5 * 6 + 3 + 1 == len(every)
    assert (first.pages, second.page) == (4, 2)
    assert [r.booking_id for r in first.rows + second.rows] == [r.booking_id for r in every[:20]]
    assert sum((r.amount for r in every), D("0")) == first.totals.measure
    starts = [r.start for r in every]
    assert starts == sorted(starts)
    assert {r.way for r in every} == {"CASH", "PART", "CARD"}  # "mixed" is mostly card, some cash


@pytest.mark.parametrize("filters", [RowFilters(), RowFilters(method="CASH"), RowFilters(status="CONFIRMED")], ids=repr)
def test_every_numbers_pages_are_its_rows_in_order_with_their_totals(world, filters):
    # A second session starting with Dawn swim: its rows go among Dawn's, by name.
    twin = factories.SessionFactory(service=world.dawn.service, start=world.dawn.start, end=world.dawn.end)
    for name in ("Aaron", "Mmm", "Zed"):
        contact = factories.ContactFactory(last_name=name)
        factories.BookingFactory(session=twin, service=twin.service, contact=contact, status="CONFIRMED")
    for metric in METRICS:
        every = list(selectors.drill_rows_all(scope=week_scope(), filters=filters, metric=metric))
        first = selectors.drill_page(scope=week_scope(), filters=filters, metric=metric, per_page=7)
        pages = [first] + [
            selectors.drill_page(scope=week_scope(), filters=filters, metric=metric, per_page=7, page=n)
            for n in range(2, first.pages + 1)
        ]

        assert [(r.booking_id, r.sess) for p in pages for r in p.rows] == [(r.booking_id, r.sess) for r in every]
        assert first.totals.rows == len(every), metric.name
        amounts = [r.amount if metric.is_money else r.people if metric.measure else 1 for r in every]
        assert first.totals.measure == sum(amounts, D("0") if metric.is_money else 0), metric.name
        assert first.totals.due == sum((r.due for r in every), D("0"))


def test_a_page_past_the_last_is_the_last(world):
    metric = selectors.METRIC_BY_NAME["free"]

    page = selectors.drill_page(scope=week_scope(), filters=RowFilters(), metric=metric, page=99)

    assert (page.page, page.pages, page.totals.rows, len(page.rows)) == (1, 1, 6, 6)


def test_the_rows_show_status_payment_and_attendance_side_by_side(world):
    metric = selectors.METRIC_BY_NAME["no_show_unpaid"]
    rows = selectors.drill_page(scope=week_scope(session_id=world.dawn.pk), filters=RowFilters(), metric=metric).rows

    labels = {(r.status_label, r.payment_label, r.way_label, r.attendance_label) for r in rows}
    assert ("Confirmed", "Partly paid", "Part paid", "No-show") in labels
    assert ("Pending approval", "Not paid", "Unpaid", "No-show") in labels
    assert all(r.session_ref == world.dawn.wix_id for r in rows)


# --- filters ------------------------------------------------------------------------------------------


def test_session_filters_limit_the_sessions(world):
    def booked(**filters: object) -> int:
        return selectors.report_read(scope=week_scope(**filters), filters=RowFilters()).total["booked"]

    assert booked(service_id=world.course.pk) == 4
    assert booked(service_type="COURSE") == 4
    assert booked(service_type="CLASS") == 113
    assert booked(staff_id=world.evening.staff_id) == 5
    assert booked(session_id=world.course_2.pk) == 2
    assert booked(session_id=world.late.pk) == 0


def test_row_filters_limit_the_rows(world):
    def total(name: str, **filters: str) -> object:
        return selectors.report_read(scope=week_scope(), filters=RowFilters(**filters)).total[name]

    assert total("booked", status="CANCELED") == 18
    assert total("booked", payment_status="PARTIALLY_PAID") == 12
    assert total("booked", attendance="ATTENDED") == 6 + 1
    assert total("booked", method="CHECK") == 6
    # Some cash in (the mixed booking's too), or paid by cash: the course's second session as well
    assert total("booked", method="CASH") == 5 * 6 + 3 + 1 + 1
    assert total("collected_card", method="CASH") == 6 * 6  # …and so does its card
    assert total("booked", method="PLAN") == 18
    assert total("no_show_unpaid", status="PENDING") == 1


def test_an_empty_week(db):
    report = selectors.report_read(scope=week_scope(), filters=RowFilters())

    assert report.lines == [] and report.total["booked"] == 0 and report.total["due"] == 0
    assert len(report.days) == 7 and all(d.total == 0 for d in report.days)


# --- cost -----------------------------------------------------------------------------------------------


def test_queries_do_not_grow_with_the_week(world):
    metric = selectors.METRIC_BY_NAME["collected_cash"]

    def queries(*, fresh: bool) -> int:
        if fresh:  # every session worked out again: the most a report asks
            reports_cache.figures_forget()
        with CaptureQueriesContext(connection) as captured:
            selectors.report_read(scope=week_scope(), filters=RowFilters(method="CASH"))
            selectors.drill_page(scope=week_scope(), filters=RowFilters(), metric=metric)
        return len(captured.captured_queries)

    fresh, kept = queries(fresh=True), queries(fresh=False)
    for _ in range(5):
        booking = factories.BookingFactory(session=world.evening, payment_status="PAID")
        factories.DeskActionFactory(booking=booking, params={"method": "CASH", "amount": "10.00", "full": True})
    one_changed = queries(fresh=False)  # the evening's figures forgotten and worked out again

    assert queries(fresh=True) == fresh <= 18  # 16 on SQLite; PostgreSQL takes the advisory lock twice
    assert queries(fresh=False) == kept < one_changed <= fresh + 1
