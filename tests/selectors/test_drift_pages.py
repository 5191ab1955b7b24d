"""The drift page's cases read together (``selectors.drift.drift_sections``): the rows of every kind
read from desk actions come from one query, yet every kind's cases are exactly what reading that
kind alone gives — the same cases, in the same order, with the same words, times and fixes — also
for a desk action that is a case of two kinds at once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings_app.models import DeskAction
from bookings_app.selectors import drift, drift_cases
from tests.factories import BenefitBalanceFactory, DeskActionFactory
from tests.selectors.test_drift import ago, paid_booking_on_order, plan_charge, plant_one_of_each

pytestmark = pytest.mark.django_db


def alone(kind: str, w: drift_cases.Window, size: int) -> list[drift_cases.DriftCase]:
    """The kind's first ``size`` cases read on their own, as the page read them before its kinds
    shared a query: its pks and times, then its rows by pk with what its words need."""
    base = drift.QUERIES[kind](w)
    fields = ("pk", "since", *drift._CARRIED.get(kind, ()))
    head = [dict(zip(fields, row, strict=True)) for row in base.order_by("since", "pk").values_list(*fields)[:size]]
    rows = {r.pk: r for r in drift_cases.related(kind, base.model.objects.filter(pk__in=[h["pk"] for h in head]))}
    found = []
    for carried in head:
        row = rows[carried["pk"]]
        for name, value in carried.items():
            setattr(row, name, value)
        found.append(row)
    return drift_cases.build(kind, found, w)


def described(case: drift_cases.DriftCase) -> tuple:
    return (
        case.kind,
        case.pk,
        case.since,
        case.what,
        case.fixes,
        case.due,
        case.currency,
        case.booking and case.booking.pk,
        case.session and case.session.pk,
        case.action and case.action.pk,
        case.wix_url,
        case.page_url,
        case.retry_blocked,
    )


def plant_a_plan_charge_of_two_kinds() -> DeskAction:
    """A plan charge Wix took whose order it left unpaid (paid at the desk, unpaid in Wix) and whose
    plan kept its credits (plan charged, credits did not go down)."""
    booking = paid_booking_on_order("NOT_PAID", synced_at=timezone.now())
    action = plan_charge(BenefitBalanceFactory(remaining_credits=Decimal("5")))
    DeskAction.objects.filter(pk=action.pk).update(booking=booking)
    action.refresh_from_db()
    return action


def test_every_kind_read_together_is_what_each_kind_read_alone_gives(monkeypatch):
    for _ in range(3):
        plant_one_of_each()
    both = plant_a_plan_charge_of_two_kinds()
    DeskActionFactory(run_after=ago(hours=2), attempts=1, last_error="Wix answered 503")
    now = timezone.now() + timedelta(seconds=1)
    w = drift_cases.Window.at(now)

    sections = drift.drift_sections(now=now)

    assert [s.kind.code for s in sections] == list(drift.QUERIES)
    for section in sections:
        expected = alone(section.kind.code, w, drift.OVERVIEW_SIZE)
        assert [described(c) for c in section.cases] == [described(c) for c in expected]
        assert section.count == drift.QUERIES[section.kind.code](w).count()
    pad, credits = (next(s for s in sections if s.kind.code == k) for k in (drift.PAID_AT_DESK, drift.PLAN_CREDITS))
    shared = [c for c in pad.cases + credits.cases if c.action.pk == both.pk]
    assert [c.kind for c in shared] == [drift.PAID_AT_DESK, drift.PLAN_CREDITS]
    assert "a credit of 10 Swim Pass was charged" in shared[0].what and "the plan still shows 5" in shared[1].what
    # One kind at a time, paged: the same as alone, page after page.
    monkeypatch.setattr(drift, "PAGE_SIZE", 2)
    for kind in drift.QUERIES:
        (section,) = drift.drift_sections(kind=kind, now=now)
        assert [described(c) for c in section.cases] == [described(c) for c in alone(kind, w, 2)]
        one = drift.drift_case_get(kind=kind, pk=section.cases[0].pk, now=now)
        assert described(one) == described(section.cases[0])


def test_the_kinds_read_from_desk_actions_share_one_query_for_their_rows():
    plant_one_of_each()
    action_rows = 'FROM "bookings_app_deskaction" LEFT OUTER JOIN'

    with CaptureQueriesContext(connection) as page:
        drift.drift_sections()

    assert sum(action_rows in q["sql"] for q in page.captured_queries) == 1
    # a narrow query a kind, a query of rows a model, and the words' three lookups
    assert len(page.captured_queries) == len(drift.QUERIES) + len(set(drift.QUERY_MODELS.values())) + 3


def test_each_kind_is_read_from_the_model_it_is_said_to_be():
    w = drift_cases.Window.at()

    assert {kind: query(w).model for kind, query in drift.QUERIES.items()} == drift.QUERY_MODELS
    assert set(drift_cases.ACTION_KINDS) == {k for k, model in drift.QUERY_MODELS.items() if model is DeskAction}


def test_the_page_of_every_kind_leaves_its_total_for_the_header():
    plant_one_of_each()
    drift.drift_forget()

    total = sum(s.count for s in drift.drift_sections())
    drift.drift_total_keep(total)
    plant_one_of_each()

    with CaptureQueriesContext(connection) as header:
        assert drift.drift_total_cached() == total == len(drift.QUERIES)
    assert header.captured_queries == []
