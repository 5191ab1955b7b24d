"""The payment report's kept figures (``selectors.reports_cache``): after every kind of write the
app (or anyone) makes to what the report reads, the report from kept figures is the report worked
out afresh — and the write did change what it shows, so each case means something."""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.apps import apps
from django.db import connection, models, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat

from bookings_app import selectors, tasks
from bookings_app.models import (
    Attendance,
    Booking,
    DeskAction,
    Order,
    OrderLineItem,
    Payment,
    ReportMark,
    ReportSessionFigures,
    Service,
    Session,
    WriteOff,
)
from bookings_app.selectors import reports_cache, reports_facts
from bookings_app.selectors.reports import RowFilters
from tests import factories
from tests.selectors import report_world as world_module
from tests.selectors.report_world import week_scope

pytestmark = pytest.mark.django_db
W = world_module.World


@pytest.fixture
def world() -> W:
    return world_module.build()


def _report(filters: RowFilters | None = None) -> tuple[dict[int, dict], dict]:
    report = selectors.report_read(scope=week_scope(), filters=filters or RowFilters())
    return {line.session.pk: dict(line.figures.values) for line in report.lines}, dict(report.total.values)


def _afresh(filters: RowFilters | None = None) -> tuple[dict[int, dict], dict]:
    reports_cache.figures_forget()
    return _report(filters)


def _dawn(world: W, status: str, scenario: str) -> Booking:
    return world.bookings[(status, scenario)]


def _order_of(booking: Booking) -> Order:
    return Order.objects.get(line_items__booking=booking)


# --- every kind of write ---------------------------------------------------------------------------


# Each write changes something the week's report shows; one that needs a row first makes it,
# yields (the report is kept then), and changes it.


def _booking_saved(world: W) -> None:
    booking = _dawn(world, "CONFIRMED", "cash")
    booking.status = Booking.Status.CANCELED
    booking.save()


def _booking_updated(world: W) -> None:
    Booking.objects.filter(pk=_dawn(world, "CONFIRMED", "unpaid_no_order").pk).update(payment_status="PAID")


def _booking_bulk_updated(world: W) -> None:
    bookings = [_dawn(world, "CONFIRMED", "card"), _dawn(world, "PENDING", "card")]
    for booking in bookings:
        booking.total_participants = 3
    Booking.objects.bulk_update(bookings, ["total_participants"])


def _booking_upserted(world: W) -> None:
    booking = _dawn(world, "CONFIRMED", "unpaid_order")
    found = Booking.objects.upsert_from_wix(
        booking.wix_id, revision=(booking.revision or 0) + 10, defaults={"status": "CANCELED"}
    )
    assert found.written


def _booking_moved(world: W) -> None:
    booking = _dawn(world, "CONFIRMED", "online")
    booking.session = world.evening
    booking.save(update_fields=["session"])


def _booking_option(world: W) -> None:
    Booking.objects.filter(pk=_dawn(world, "CONFIRMED", "plan_no_order").pk).update(selected_payment_option="OFFLINE")


def _booking_added(world: W) -> None:
    factories.BookingFactory(session=world.evening, service=world.evening.service, status="CONFIRMED")


def _booking_bulk_created(world: W) -> None:
    made = [factories.BookingFactory.build(session=world.dawn, service=world.dawn.service) for _ in range(2)]
    for booking in made:
        booking.contact.save()
    Booking.objects.bulk_create(made)


def _booking_deleted(world: W) -> Iterator[None]:
    booking = factories.BookingFactory(session=world.evening, service=world.evening.service, status="CONFIRMED")
    yield  # kept with it …
    booking.delete()  # … then gone


def _course_booking_added(world: W) -> None:
    factories.BookingFactory(session=None, service=world.course, status="CONFIRMED", payment_status="NOT_PAID")


def _attendance_added(world: W) -> None:
    booking = _dawn(world, "PENDING", "cash")
    factories.AttendanceFactory(booking=booking, session=booking.session, status="ATTENDED")


def _attendance_updated(world: W) -> None:
    Attendance.objects.filter(booking=_dawn(world, "CONFIRMED", "cash")).update(status="NOT_ATTENDED")


def _attendance_deleted(world: W) -> None:
    Attendance.objects.filter(booking=_dawn(world, "CONFIRMED", "card")).delete()


def _line_repriced(world: W) -> None:
    OrderLineItem.objects.filter(booking=_dawn(world, "CONFIRMED", "mixed")).update(price=Decimal("5.00"))


def _line_deleted(world: W) -> None:
    OrderLineItem.objects.filter(booking=_dawn(world, "CONFIRMED", "part")).delete()


def _order_balance(world: W) -> None:
    Order.objects.filter(pk=_order_of(_dawn(world, "CONFIRMED", "unpaid_order")).pk).update(balance=Decimal("2.50"))


def _payment_added(world: W) -> None:
    order = _order_of(_dawn(world, "CONFIRMED", "part"))
    factories.PaymentFactory(order=order, method="CARD", amount=Decimal("1.00"), status="APPROVED")


def _payment_refunded(world: W) -> None:
    order = _order_of(_dawn(world, "CONFIRMED", "cheque"))
    Payment.objects.filter(order=order).update(status="REFUNDED")


def _payment_method(world: W) -> None:
    payment = Payment.objects.filter(order=_order_of(_dawn(world, "CONFIRMED", "card"))).first()
    payment.method = "CASH"
    payment.save()


def _payment_deleted(world: W) -> None:
    Payment.objects.filter(order=_order_of(_dawn(world, "CONFIRMED", "online"))).delete()


def _desk_payment_queued(world: W) -> None:
    factories.DeskActionFactory(
        booking=_dawn(world, "CONFIRMED", "unpaid_no_order"),
        kind=DeskAction.Kind.PAYMENT,
        status=DeskAction.Status.QUEUED,
        params={"method": "CASH", "amount": "10.00", "full": True},
    )


def _desk_payment_undone(world: W) -> None:
    DeskAction.objects.filter(booking=_dawn(world, "CONFIRMED", "desk_cash_pending")).update(
        status=DeskAction.Status.UNDONE
    )


def _desk_params(world: W) -> None:
    action = DeskAction.objects.filter(booking=_dawn(world, "CONFIRMED", "desk_part_pending")).first()
    action.params = {**action.params, "amount": "5.00"}
    action.save()


def _written_off(world: W) -> None:
    factories.WriteOffFactory(booking=_dawn(world, "CONFIRMED", "unpaid_order"))


def _write_off_reversed(world: W) -> Iterator[None]:
    write_off = factories.WriteOffFactory(booking=_dawn(world, "CONFIRMED", "unpaid_no_order"))
    yield
    WriteOff.objects.filter(pk=write_off.pk).update(reversed_at=write_off.created_at + timedelta(minutes=1))


def _service_repriced(world: W) -> None:
    Service.objects.filter(pk=world.dawn.service_id).update(price=Decimal("20.00"))


def _course_session_added(world: W) -> None:
    # Earlier than the course's first: the course's money moves to it (counted at its first session).
    factories.SessionFactory(service=world.course, start=world.course_1.start - timedelta(days=1))


def _course_session_moved(world: W) -> None:
    Session.objects.filter(pk=world.course_1.pk).update(start=world.course_2.start + timedelta(hours=2))


def _raw_sql(world: W) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Booking._meta.db_table} SET payment_status = %s WHERE id = %s",  # noqa: S608 - the test's own
            ["PARTIALLY_PAID", _dawn(world, "PENDING", "unpaid_order").pk],
        )


WRITES: dict[str, Callable[[W], None | Iterator[None]]] = {
    name.removeprefix("_"): write
    for name, write in dict(globals()).items()
    if name.startswith("_")
    and callable(write)
    and getattr(write, "__module__", "") == __name__
    and name not in ("_report", "_afresh", "_dawn", "_order_of")
}


def test_the_writes_are_all_here():  # the list above is read from the module: none slipped out
    assert {"booking_saved", "course_session_moved", "raw_sql"} <= set(WRITES) and len(WRITES) == 29


@pytest.mark.parametrize("name", sorted(WRITES))
def test_kept_figures_follow_every_write(world, name):
    write = WRITES[name]
    steps = write(world) if inspect.isgeneratorfunction(write) else None
    if steps is not None:
        next(steps)  # what the write needs first
    before = _report()  # kept now
    assert ReportSessionFigures.objects.exists()

    if steps is not None:
        next(steps, None)
    else:
        write(world)
    kept = _report()

    assert kept == _afresh()
    assert kept != before, "the write should change the report (else this case proves nothing)"


@pytest.mark.parametrize(
    "filters",
    [
        RowFilters(method="CASH"),
        RowFilters(method="PLAN"),
        RowFilters(status="PENDING"),
        RowFilters(payment_status="PARTIALLY_PAID"),
        RowFilters(attendance="NOT_ATTENDED", method="CARD"),
    ],
    ids=repr,
)
def test_filters_on_kept_figures_are_the_rows_filtered(world, filters):
    _report()
    _payment_added(world)
    _desk_payment_queued(world)
    kept = _report(filters)

    assert kept == _afresh(filters)
    # … and each figure is its drill-down's total, as the report promises.
    _, total = kept
    for metric in ("booked", "collected_cash", "due"):
        page = selectors.drill_page(
            scope=week_scope(), filters=filters, metric=selectors.METRIC_BY_NAME[metric], page=1
        )
        assert page.totals.measure == total.get(metric, 0)


def test_a_report_works_out_only_what_changed(world):
    _report()
    kept_at = dict(ReportSessionFigures.objects.values_list("session_id", "computed_at"))

    _attendance_updated(world)
    _report()

    now = dict(ReportSessionFigures.objects.values_list("session_id", "computed_at"))
    assert {pk for pk in now if now[pk] != kept_at.get(pk)} == {world.dawn.pk}


def test_marks_are_folded_in_without_a_report(world):
    _report()
    _attendance_updated(world)
    assert ReportMark.objects.exists()

    reports_cache.marks_fold()

    assert not ReportMark.objects.exists()
    assert not ReportSessionFigures.objects.filter(session_id=world.dawn.pk).exists()
    assert ReportSessionFigures.objects.filter(session_id=world.evening.pk).exists()


def test_a_worker_poll_folds_the_marks_in_and_works_out_this_month_and_last(world):
    late_next_month = factories.SessionFactory(service=world.dawn.service, start=datetime(2027, 1, 5, 9, tzinfo=UTC))
    factories.BookingFactory(session=late_next_month, service=world.dawn.service)
    _report()
    _attendance_updated(world)
    kept_at = ReportSessionFigures.objects.get(session_id=world.evening.pk).computed_at

    with time_machine.travel(datetime(2026, 12, 6, 12, tzinfo=UTC)):
        tasks.worker_recover()

    assert not ReportMark.objects.exists()
    # November's (last month's) sessions all kept: Dawn worked out again, the evening as it was …
    kept = dict(ReportSessionFigures.objects.values_list("session_id", "computed_at"))
    assert {world.dawn.pk, world.evening.pk, world.course_1.pk, world.course_2.pk} <= set(kept)
    assert kept[world.evening.pk] == kept_at
    assert _report() == _afresh()
    # … January's not (not this month or last).
    assert late_next_month.pk not in kept


def test_a_change_outside_the_facts_marks_nothing(world):
    _report()
    booking = _dawn(world, "CONFIRMED", "cash")
    Booking.objects.filter(pk=booking.pk).update(raw={"note": "re-read from Wix"}, synced_at=booking.synced_at)
    Order.objects.filter(line_items__booking=booking).update(number="10042", raw={})
    DeskAction.objects.filter(booking__session=world.dawn).update(attempts=3)

    assert not ReportMark.objects.exists()


def _triggered_tables() -> set[str]:
    if connection.vendor == "postgresql":
        sql = "SELECT DISTINCT event_object_table FROM information_schema.triggers WHERE trigger_name LIKE %s"
    else:
        sql = "SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, ["%report_mark%"])
        return {table for (table,) in cursor.fetchall()}


def test_every_table_the_facts_read_marks_its_changes():
    sql, _ = reports_facts.facts_sql(week_scope())
    read = set(re.findall(r'"(bookings_app_[a-z]+)"', sql))
    # Contacts give the drill-down's names only; the figures never read them.
    assert read - {"bookings_app_contact"} <= _triggered_tables()
    assert {"bookings_app_booking", "bookings_app_payment", "bookings_app_deskaction"} <= read


def _watched() -> dict[str, tuple[str, ...]]:
    """The columns each table's trigger watches, as the migration wrote them."""
    migration = importlib.import_module("bookings_app.migrations.0018_report_figures")
    return {table: columns for table, (columns, _, _) in migration.TABLES.items()}


def _changed(field: models.Field) -> list[object]:
    """Updates that change every row's ``field`` (an expression, or values to try in turn)."""
    if isinstance(field, models.BooleanField):
        return [Value(True), Value(False)]
    if isinstance(field, models.JSONField):
        return [Value({"changed": 1}, output_field=field)]
    if isinstance(field, models.DateTimeField):  # later, and set where it was empty
        return [F(field.attname) + timedelta(days=1), Value(datetime(2026, 11, 30, 12, tzinfo=UTC))]
    if isinstance(field, models.DecimalField | models.IntegerField):
        return [F(field.attname) + 1]
    if isinstance(field, models.CharField | models.TextField):  # a unique one kept unique
        return [Concat(F(field.attname), Value("z"), output_field=field) if field.unique else Value("Z")]
    return []


def test_what_the_triggers_do_not_watch_does_not_change_the_figures(world):
    """Guards the triggers' column lists: change every other column of every row of the nine
    tables, one column at a time, and the sessions' groups stay as they were. A column the facts
    start to read (a new ``F("…")`` in ``reports_facts``) fails here until its trigger watches it."""
    watched = _watched()
    factories.WriteOffFactory(booking=_dawn(world, "CONFIRMED", "unpaid_order"))  # a row in every table
    ids = [world.dawn.pk, world.evening.pk, world.course_1.pk, world.course_2.pk]
    baseline = reports_cache._work_out(week_scope(), ids)
    tried, changed = 0, []
    for model in apps.get_app_config("bookings_app").get_models():
        columns = watched.get(model._meta.db_table)
        if columns is None:
            continue
        for field in model._meta.concrete_fields:
            if field.primary_key or field.column in columns or field.is_relation:
                continue
            for value in _changed(field):
                with transaction.atomic():
                    model.objects.update(**{field.attname: value})
                    tried += 1
                    if reports_cache._work_out(week_scope(), ids) != baseline:
                        changed.append(f"{model._meta.db_table}.{field.column}")
                    transaction.set_rollback(True)

    assert changed == []
    assert tried > 40  # every table's other columns were tried
