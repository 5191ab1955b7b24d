"""The drift page's narrow queries compiled once and run again with each read's moments
(``selectors.drift_sql``): the same rows as the queryset itself gives, whatever the moments; a
query that works anything else out of the moments is never reused."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings_app.models import DeskAction
from bookings_app.selectors import drift, drift_cases, drift_sql
from tests.factories import DeskActionFactory
from tests.selectors.test_drift import ago, plant_one_of_each

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _compile_afresh():
    drift_sql.forget()
    yield
    drift_sql.forget()


def first_page(kind: str, size: int = 5):
    fields = ("pk", "since", *drift._CARRIED.get(kind, ()))
    return partial(drift._first_page, drift.QUERIES[kind], fields, size)


def test_every_kind_gives_the_rows_its_queryset_gives_at_every_moment():
    for _ in range(2):
        plant_one_of_each()
    # Moments that see different cases: now, and a week on (the sessions ended, the actions old).
    for now in (timezone.now(), timezone.now() + timedelta(days=8), timezone.now() + timedelta(minutes=20)):
        w = drift_cases.Window.at(now)
        for kind in drift.QUERIES:
            make = first_page(kind)
            assert drift_sql.narrow_rows((kind, 5), w, make) == list(make(w)), (kind, now)
    compiled = drift_sql._local.compiled
    assert all(compiled[(connection.alias, connection.vendor, kind, 5)] is not None for kind in drift.QUERIES)


def test_a_reused_query_costs_one_statement_and_sees_new_cases():
    w = drift_cases.Window.at()
    make = first_page(drift.STUCK_WAITING)
    assert drift_sql.narrow_rows(("w", 5), w, make) == []
    action = DeskActionFactory(run_after=ago(hours=1))

    with CaptureQueriesContext(connection) as read:
        rows = drift_sql.narrow_rows(("w", 5), drift_cases.Window.at(), make)

    assert [row[0] for row in rows] == [action.pk] and len(read.captured_queries) == 1


def test_a_query_that_works_something_else_out_of_the_moments_is_built_every_time():
    def a_day_before(w: drift_cases.Window):
        return (
            DeskAction.objects.filter(run_after__lte=w.stuck - timedelta(days=1))
            .annotate(since=F("run_after"))
            .order_by("since", "pk")
            .values_list("pk", "since")
        )

    old = DeskActionFactory(run_after=ago(days=2))
    DeskActionFactory(run_after=ago(hours=2))
    w = drift_cases.Window.at()

    assert [r[0] for r in drift_sql.narrow_rows(("day", 0), w, a_day_before)] == [old.pk]
    assert drift_sql._local.compiled[(connection.alias, connection.vendor, "day", 0)] is None
    later = drift_cases.Window.at(timezone.now() + timedelta(days=1))
    assert len(drift_sql.narrow_rows(("day", 0), later, a_day_before)) == 2


# --- the pages' rows, by pk ----------------------------------------------------------------------------


def snapshot(obj) -> dict:
    """An instance as read: its loaded fields and annotations, and what select_related cached."""
    if obj is None:
        return {}
    own = {k: v for k, v in vars(obj).items() if k != "_state"}
    joined = {name: snapshot(rel) for name, rel in obj._state.fields_cache.items()}
    return {"model": type(obj).__name__, **own, "joined": joined}


@pytest.mark.parametrize("count", [1, 3, 5, 7])
def test_the_pages_rows_are_the_instances_their_queryset_gives(count):
    for _ in range(count):
        plant_one_of_each()
    for shape, model in drift.QUERY_MODELS.items():
        pks = sorted(model.objects.values_list("pk", flat=True))[:count]
        make = partial(drift._related_rows, shape, model)
        for _ in range(2):  # compiled, then reused
            rows = drift_sql.page_rows((shape,), pks, make)
            assert [snapshot(r) for r in rows] == [snapshot(r) for r in make(pks)], shape
        assert drift_sql._local.compiled[(connection.alias, connection.vendor, shape, "pks", 5 * -(-count // 5))]


def test_reused_rows_cost_one_statement_and_read_other_pks():
    first, second = DeskActionFactory(), DeskActionFactory()
    make = partial(drift._related_rows, drift.PAID_AT_DESK, DeskAction)
    assert [a.pk for a in drift_sql.page_rows(("a",), [first.pk], make)] == [first.pk]

    with CaptureQueriesContext(connection) as read:
        rows = drift_sql.page_rows(("a",), [second.pk, first.pk], make)

    assert {a.pk for a in rows} == {first.pk, second.pk} and len(read.captured_queries) == 1
    assert rows[0].booking.contact == first.booking.contact  # what select_related joined
    assert drift_sql.page_rows(("a",), [], make) == []


def test_what_the_words_need_is_read_alike_with_a_booking_twice():
    plant_one_of_each()
    booking_ids = sorted(DeskAction.objects.exclude(booking=None).values_list("booking_id", flat=True))
    ids = [booking_ids[0], *booking_ids, booking_ids[-1]]  # two actions of one booking: its id twice
    for make in (drift_cases._orders, drift_cases._balances, drift_cases._synced):
        for _ in range(2):
            rows = drift_sql.page_rows((make.__name__,), ids, make)
            expected = list(make(ids))
            assert [snapshot(r) if hasattr(r, "_state") else r for r in rows] == [
                snapshot(r) if hasattr(r, "_state") else r for r in expected
            ]
