"""A batch of desk actions — a settle, a check in all — undone as one (the roster's bar, the
settle page) and reversed as one by a manager (a confirmation page): htmx fragment, without
JavaScript, 404, 409, 422, roles."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bookings_app.models import Attendance, AuditEntry, Booking, DeskAction, Session
from bookings_app.services import desk
from tests import factories
from tests.views.desk_helpers import HTMX, NOW, key, person, plan_for, roster, url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("desk_clock")]

Status = DeskAction.Status


def undo_url(session: Session, batch_id: str) -> str:
    return url("desk_batch_undo", session, batch_id)


def reverse_url(session: Session, batch_id: str) -> str:
    return url("desk_batch_reverse", session, batch_id)


def checked_in_all(client, session: Session, n: int = 3) -> str:
    for i in range(n):
        person(session, f"P{i}", "Test")
    k = key()
    assert client.post(url("desk_check_in_all", session), {"idempotency_key": k}, headers=HTMX).status_code == 200
    return k


def test_check_in_all_offers_one_undo_for_everyone_and_none_per_row(desk_client, session):
    k = checked_in_all(desk_client, session, 5)

    content = roster(desk_client, session)

    assert content.count(f'action="{undo_url(session, k)}"') == 1
    assert "Undo check-in of 5 people" in content
    assert "Undo attendance" not in content
    assert 'data-expires-in="8"' in content


def test_check_in_all_answers_with_its_undo_already_there(desk_client, session):
    for i in range(3):
        person(session, f"P{i}", "Test")
    k = key()

    response = desk_client.post(url("desk_check_in_all", session), {"idempotency_key": k}, headers=HTMX)

    assert response.content.decode().count(f'hx-post="{undo_url(session, k)}"') == 1


def test_undo_of_a_check_in_all_answers_with_the_rows_put_back(desk_client, session):
    k = checked_in_all(desk_client, session)

    response = desk_client.post(undo_url(session, k), {"next": "roster"}, headers=HTMX)

    assert response.status_code == 200
    content = response.content.decode()
    assert content.lstrip().startswith('<section id="roster-rows"')
    assert "Undone: check-in of 3 people." in content and ">Checked in<" not in content
    # the message the batch left at the top of the page goes: it no longer stands
    assert '<div id="messages" class="messages" aria-live="polite" hx-swap-oob="true"></div>' in content
    assert undo_url(session, k) not in content
    assert "rosterChanged" in response.headers["HX-Trigger"]
    assert not Attendance.objects.exists()
    assert set(DeskAction.objects.values_list("status", flat=True)) == {Status.UNDONE}
    assert not Booking.objects.filter(pending_sync=True).exists()


def test_undo_without_javascript_goes_back_where_it_came_from(desk_client, session):
    booking = person(session, "Ann", "Test")
    k = key()
    desk_client.post(
        url("desk_settle", session),
        {"idempotency_key": k, f"r{booking.pk}-resolution": "cash", f"r{booking.pk}-check_in": "on", "confirm": "1"},
    )

    response = desk_client.post(undo_url(session, k), {"next": "settle"}, follow=True)

    assert response.redirect_chain == [(url("desk_settle", session), 302)]
    assert "Undone: settle — £12.00 cash from 1 person, 1 checked in." in response.content.decode()
    booking.refresh_from_db()
    assert (booking.payment_status, booking.pending_sync) == ("NOT_PAID", False)


def test_undo_after_the_window_is_409_and_changes_nothing(desk_client, session, time_machine):
    k = checked_in_all(desk_client, session)
    time_machine.move_to(NOW + timedelta(seconds=9), tick=False)

    response = desk_client.post(undo_url(session, k), headers=HTMX)

    assert response.status_code == 409
    assert "Too late to undo" in response.content.decode()
    assert Attendance.objects.filter(status="ATTENDED").count() == 3
    without_js = desk_client.post(undo_url(session, k), follow=True)
    assert "Too late to undo" in without_js.content.decode()


def test_undo_of_an_unknown_batch_is_404(desk_client, session):
    k = checked_in_all(desk_client, session)
    other = factories.SessionFactory(start=NOW + timedelta(hours=3))

    assert desk_client.post(undo_url(session, "no-such-batch")).status_code == 404
    assert desk_client.post(undo_url(other, k)).status_code == 404
    assert Attendance.objects.filter(status="ATTENDED").count() == 3


@pytest.fixture
def synced_settle(session, desk_user) -> str:
    """A settle Wix has: Ann charged to her plan, Bo paid cash, Cy owes."""
    ann, bo, cy = (person(session, n, "Test") for n in ("Ann", "Bo", "Cy"))
    balance = plan_for(ann)
    k = key()
    desk.settle_commit(
        user=desk_user,
        session=session,
        rows=[
            desk.SettleChoice(booking_id=ann.pk, resolution="plan", balance_id=balance.pk, check_in=True),
            desk.SettleChoice(booking_id=bo.pk, resolution="cash", check_in=True),
            desk.SettleChoice(booking_id=cy.pk, resolution="owes", check_in=True),
        ],
        idempotency_key=k,
    )
    DeskAction.objects.update(status=Status.SYNCED)
    Booking.objects.update(pending_sync=False)
    return k


def test_reverse_asks_first_with_what_it_will_take_back(manager_client, session, synced_settle):
    response = manager_client.get(reverse_url(session, synced_settle))

    assert response.status_code == 200
    content = response.content.decode()
    assert "Refund £12.00 cash to 1 person and void 1 plan charge (the credit goes back)." in content
    assert "Check-ins and what people owe stay as they are." in content
    assert content.count(">Reverse this settle<") == 1 and 'method="post"' in content
    assert not DeskAction.objects.filter(kind__in=DeskAction.REVERSAL_KINDS).exists()


def test_reverse_confirmed_refunds_and_voids_and_goes_back_to_settle(manager_client, session, synced_settle):
    form = {"idempotency_key": key()}

    response = manager_client.post(reverse_url(session, synced_settle), form, follow=True)

    assert response.redirect_chain == [(url("desk_settle", session), 302)]
    assert "Reversed: 2 payments and plan charges on their way to Wix." in response.content.decode()
    assert sorted(DeskAction.objects.filter(kind__in=DeskAction.REVERSAL_KINDS).values_list("kind", flat=True)) == [
        "REFUND",
        "VOID_PLAN_CHARGE",
    ]
    manager_client.post(reverse_url(session, synced_settle), form)  # sent twice: nothing more
    assert DeskAction.objects.filter(kind__in=DeskAction.REVERSAL_KINDS).count() == 2
    assert AuditEntry.objects.filter(action="desk.reverse_batch").count() == 1


def test_reverse_without_a_form_token_is_422_and_changes_nothing(manager_client, session, synced_settle):
    response = manager_client.post(reverse_url(session, synced_settle), {})

    assert response.status_code == 422
    assert not DeskAction.objects.filter(kind__in=DeskAction.REVERSAL_KINDS).exists()


def test_reverse_of_what_wix_does_not_have_yet_is_409(manager_client, session, synced_settle):
    DeskAction.objects.update(status=Status.QUEUED)

    response = manager_client.post(reverse_url(session, synced_settle), {"idempotency_key": key()})

    assert response.status_code == 409
    assert "Nothing of this is in Wix to take back yet." in response.content.decode()
    assert not DeskAction.objects.filter(kind__in=DeskAction.REVERSAL_KINDS).exists()


def test_reverse_needs_a_manager_and_a_batch_of_this_session(client, desk_user, manager_user, session, synced_settle):
    client.force_login(desk_user)
    assert client.get(reverse_url(session, synced_settle)).status_code == 403
    assert client.post(reverse_url(session, synced_settle), {"idempotency_key": key()}).status_code == 403
    client.force_login(manager_user)
    assert client.get(reverse_url(session, "no-such-batch")).status_code == 404
    other = factories.SessionFactory(start=NOW + timedelta(hours=3))
    assert client.post(reverse_url(other, synced_settle), {"idempotency_key": key()}).status_code == 404
    assert not DeskAction.objects.filter(kind__in=DeskAction.REVERSAL_KINDS).exists()
