"""Cash-up screens: a session's (from its roster's header), a staff member's day, the whole day, and
a manager's list of the day's; the count saved and shown as over/short with its lines; bad input
422; a signed-off count read-only (a count sent then is 409); sign-off and the list managers'."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from bookings_app.models import CashUp
from bookings_app.services import desk
from tests import factories
from tests.views.desk_helpers import NOW, key

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("desk_clock")]


@pytest.fixture
def swim(desk_user):
    """This morning's swim: £12 cash from Ann, £12 by card from Bob (taken by the desk user)."""
    session = factories.SessionFactory(start=NOW - timedelta(hours=2), title="Dawn swim", service__price=Decimal("12"))
    for first, method in (("Ann", "CASH"), ("Bob", "CARD")):
        booking = factories.BookingFactory(session=session, contact=factories.ContactFactory(first_name=first))
        desk.payment_record(user=desk_user, booking=booking, method=method, amount=Decimal("12"), idempotency_key=key())
    return session


def _url(session) -> str:
    return reverse("cashup_session", args=[session.ref])


def test_the_roster_header_links_to_the_sessions_cash_up(desk_client, swim) -> None:
    page = desk_client.get(reverse("roster", args=[swim.ref])).content.decode()
    assert _url(swim) in page


def test_the_desk_counts_a_session_and_sees_over_short_traced_to_the_rows(desk_client, swim, desk_user) -> None:
    page = desk_client.get(_url(swim))
    body = page.content.decode()
    assert page.status_code == 200 and "Not counted" in body
    assert 'name="n_20"' in body and 'name="n_0_01"' in body  # notes and coins of pounds
    assert body.count('<tr id="line-') == 2 and "Ann" in body and "Bob" in body

    saved = desk_client.post(_url(swim), {"n_10": "1", "n_1": "1", "card": "12", "check": "", "note": "bag 3"})

    assert saved.status_code == 302 and saved.url == _url(swim)
    cashup = CashUp.objects.get()
    assert (cashup.counted_cash, cashup.counted_card, cashup.over_short) == (
        Decimal("11"),
        Decimal("12"),
        Decimal("-1"),
    )
    assert cashup.counted_by == desk_user and cashup.session == swim
    body = desk_client.get(_url(swim)).content.decode()
    assert "£1.00 short" in body and "Count saved: £1.00 short." in body
    assert "Count again" in body and 'value="1"' in body  # the count shown again to correct
    # twice in a row: the second count replaces the first
    assert desk_client.post(_url(swim), {"cash": "12", "card": "12"}).status_code == 302
    assert CashUp.objects.get().over_short == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"card": "12"}, "Enter the cash counted"),
        ({"cash": "twelve"}, "Enter an amount like 5 or 7.50."),
        ({"n_20": "1.5"}, "Count whole notes and coins."),
        ({"n_20": "-1"}, "Count 0 or more."),
        ({"cash": "12", "card": "-3"}, "Enter 0 or more."),
        ({"cash": "12", "note": "x" * 1001}, "at most 1000 characters"),
        ({"n_10": "1", "cash": "12"}, "The notes and coins come to £10.00 but the cash total says £12.00"),
    ],
)
def test_a_count_that_cannot_be_read_is_422_and_nothing_is_kept(desk_client, swim, data, message) -> None:
    response = desk_client.post(_url(swim), data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not CashUp.objects.exists()


def test_a_manager_signs_off_then_the_count_is_read_only(desk_client, swim, client, manager_user) -> None:
    desk_client.post(_url(swim), {"cash": "12", "card": "12"})
    cashup = CashUp.objects.get()
    sign_off = reverse("cashup_sign_off", args=[cashup.pk])
    assert desk_client.post(sign_off).status_code == 403

    client.force_login(manager_user)
    assert client.post(sign_off).status_code == 302
    body = client.get(_url(swim)).content.decode()
    assert "Signed off by manager-user" in body and "Save the count" not in body

    refused = client.post(_url(swim), {"cash": "1", "card": "0"})
    assert refused.status_code == 409 and "signed off" in refused.content.decode()
    assert CashUp.objects.get().counted_cash == Decimal("12")
    assert client.post(sign_off).status_code == 409
    assert client.post(reverse("cashup_sign_off", args=[999_999])).status_code == 404


def test_sign_off_is_refused_while_the_takings_differ_from_the_count(
    desk_client, swim, client, manager_user, desk_user
):
    desk_client.post(_url(swim), {"cash": "12", "card": "12"})
    late = factories.BookingFactory(session=swim)
    desk.payment_record(user=desk_user, booking=late, method="CASH", amount=Decimal("12"), idempotency_key=key())
    client.force_login(manager_user)

    response = client.post(reverse("cashup_sign_off", args=[CashUp.objects.get().pk]))

    assert response.status_code == 409
    assert "count again" in response.content.decode() and "changed since this was counted" in response.content.decode()
    assert not CashUp.objects.get().is_signed_off


def test_a_staff_members_and_the_days_cash_up(desk_client, swim, desk_user) -> None:
    staff = reverse("cashup_staff", args=[desk_user.pk])
    assert desk_client.get(staff, {"date": "2026-11-21"}).status_code == 200
    assert desk_client.post(staff + "?date=2026-11-21", {"cash": "12", "card": "12"}).status_code == 302
    assert CashUp.objects.get(scope="STAFF").staff == desk_user
    assert desk_client.get(staff, {"date": "21/11/2026"}).status_code == 422
    assert desk_client.get(reverse("cashup_staff", args=[999_999])).status_code == 404
    day = desk_client.get(reverse("cashup_day"), {"date": "2026-11-21"})
    assert day.status_code == 200 and "The whole day" in day.content.decode()
    assert desk_client.post(reverse("cashup_day") + "?date=nope", {"cash": "1"}).status_code == 422
    assert CashUp.objects.count() == 1


def test_the_days_list_is_a_managers(client, desk_user, manager_user, swim) -> None:
    client.force_login(desk_user)
    assert client.get(reverse("cashups")).status_code == 403
    manager_client = Client()
    manager_client.force_login(manager_user)
    page = manager_client.get(reverse("cashups"), {"date": "2026-11-21"})
    body = page.content.decode()
    assert page.status_code == 200 and "Dawn swim" in body and _url(swim) in body
    assert manager_client.get(reverse("cashups"), {"date": "soon"}).status_code == 422


def test_today_links_the_cash_up_for_managers_only(client, desk_user, manager_user) -> None:
    client.force_login(manager_user)
    assert reverse("cashups") in client.get(reverse("today")).content.decode()
    client.force_login(desk_user)
    assert reverse("cashups") not in client.get(reverse("today")).content.decode()
