"""What the desk's views share (``views/common.py``): a re-sent form is answered as done only
when it is the same form sent again — the same key for another row or another choice is refused
(409) with a message, and changes nothing."""

from __future__ import annotations

import html

import pytest

from bookings_app.models import Booking, DeskAction
from tests.views.desk_helpers import HTMX, key, person, reload, url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("desk_clock")]


def test_a_payment_key_used_again_on_another_row_is_409_not_answered_done(desk_client, session):
    ann, bo = person(session, "Ann", "Archer"), person(session, "Bo", "Baker")
    token = key()
    desk_client.post(url("desk_pay", session, ann.pk), {"method": "CASH", "idempotency_key": token}, headers=HTMX)

    response = desk_client.post(
        url("desk_pay", session, bo.pk), {"method": "CASH", "idempotency_key": token}, headers=HTMX
    )

    assert response.status_code == 409
    content = response.content.decode()
    assert f'id="roster-row-{bo.pk}"' in content
    assert "This form was already used for a payment by Ann Archer" in content
    assert reload(bo).payment_status == Booking.PaymentStatus.NOT_PAID
    assert DeskAction.objects.count() == 1


def test_a_payment_key_used_again_with_another_method_is_refused(desk_client, session):
    ann = person(session, "Ann", "Archer")
    token = key()
    desk_client.post(
        url("desk_pay", session, ann.pk), {"method": "CASH", "amount": "5", "idempotency_key": token}, headers=HTMX
    )

    response = desk_client.post(
        url("desk_pay", session, ann.pk), {"method": "CARD", "amount": "5", "idempotency_key": token}, headers=HTMX
    )

    assert response.status_code == 409 and "already used for" in response.content.decode()
    assert list(DeskAction.objects.values_list("params__method", flat=True)) == ["CASH"]


def test_the_same_payment_sent_twice_is_still_answered_with_the_row(desk_client, session):
    ann = person(session, "Ann", "Archer")
    data = {"method": "CASH", "amount": "5", "idempotency_key": key()}
    desk_client.post(url("desk_pay", session, ann.pk), data, headers=HTMX)

    again = desk_client.post(url("desk_pay", session, ann.pk), data, headers=HTMX)

    assert again.status_code == 200 and f'id="roster-row-{ann.pk}"' in again.content.decode()
    assert DeskAction.objects.count() == 1


def test_a_check_in_key_used_again_on_another_row_is_409(desk_client, session):
    ann, bo = person(session, "Ann", "Archer"), person(session, "Bo", "Baker")
    token = key()
    desk_client.post(
        url("desk_attendance", session, ann.pk), {"status": "ATTENDED", "idempotency_key": token}, headers=HTMX
    )

    response = desk_client.post(
        url("desk_attendance", session, bo.pk), {"status": "NOT_ATTENDED", "idempotency_key": token}, headers=HTMX
    )

    assert response.status_code == 409
    assert "already used for Ann Archer's attendance" in html.unescape(response.content.decode())
    assert DeskAction.objects.count() == 1 and not bo.attendances.exists()
