"""The desk's actions on a roster row: what the row offers, take a payment, charge a plan, pay
later, check in or mark a no-show, check in all, undo, needs attention, reverse — htmx
fragments, 422 (bad input: the message next to the field, nothing changed), 409 (a business
rule said no), without JavaScript, roles, and the roster's queries with desk state on its rows."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bookings_app import forms
from bookings_app.models import (
    Attendance,
    AuditEntry,
    Booking,
    DeskAction,
    Service,
    Session,
)
from bookings_app.services import desk
from bookings_app.services.errors import BookingError
from tests import factories
from tests.views.desk_helpers import (
    HTMX,
    NOW,
    key,
    person,
    plan_for,
    reload,
    roster,
    row_of,
    url,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("desk_clock")]


def test_an_unpaid_row_offers_cash_card_cheque_part_later_and_check_in(desk_client, session):
    booking = person(session, "Cy", "Cole", payment_status="UNDEFINED")

    row = row_of(roster(desk_client, session), booking)

    assert "Cash £12.00" in row and ">Card<" in row and ">Cheque<" in row
    assert "Part payment…" in row and ">Pay later<" in row
    assert ">Check in<" in row and ">No-show<" in row
    assert "Plan ·" not in row  # no plan to offer
    # Cash, Card and Check in on the line; the rest behind the row's one "more" menu.
    line, menu = row.split('<details class="more">')
    assert "Cash £12.00" in line and ">Card<" in line and ">Check in<" in line
    assert ">Cheque<" in menu and "Part payment…" in menu and ">Pay later<" in menu and ">No-show<" in menu


def test_a_member_with_credit_is_offered_their_plan_with_credits_left(desk_client, session):
    booking = person(session, "Bo", "Baker")
    balance = plan_for(booking, credits="7", name="10-swim pass")
    other_service = plan_for(person(session, "Al", "Abel"), credits="3")
    other_service.covered_service_ids = ["some-other-service"]
    other_service.save()

    content = roster(desk_client, session)

    row = row_of(content, booking)
    assert "Plan · 7 left" in row and f'name="balance" value="{balance.pk}"' in row
    assert "Plan ·" not in row_of(content, other_service.member.contact.bookings.get())


def test_a_paid_and_checked_in_row_is_one_line_offering_only_no_show(desk_client, session):
    booking = person(session, "Ann", "Archer", payment_status="PAID")
    factories.AttendanceFactory(booking=booking, session=session)

    row = row_of(roster(desk_client, session), booking)

    assert "Cash £" not in row and "Part payment…" not in row and ">Check in<" not in row
    assert ">No-show<" in row.split('<details class="more">')[1] and 'class="extra"' not in row
    assert row.count("<tr") == 1


def test_every_action_form_posts_with_its_own_fresh_token(desk_client, session):
    bookings = [person(session, name, "Test") for name in ("Ann", "Bo", "Cy")]

    content = roster(desk_client, session)
    again = roster(desk_client, session)

    forms_html = re.findall(r"<form[^>]*hx-post[^>]*>", content)
    assert forms_html and all('method="post"' in f for f in forms_html)
    keys = re.findall(r'name="idempotency_key" value="([^"]+)"', content)
    assert len(keys) >= 3 + 1 and len(set(keys)) == len(keys)  # a row form each, and check-in-all
    for booking in bookings:  # the row's actions share one form (part payment comes on demand)
        assert row_of(content, booking).count('name="idempotency_key"') == 1
    assert not set(keys) & set(re.findall(r'name="idempotency_key" value="([^"]+)"', again))
    assert all(forms.KEY_RE.match(k) for k in keys)


def test_each_row_button_posts_to_its_own_action(desk_client, session):
    booking = person(session, "Cy", "Cole", payment_status="UNDEFINED")
    balance = plan_for(booking)

    row = row_of(roster(desk_client, session), booking)

    def attrs(pattern: str, html: str = row) -> str:
        return re.search(pattern, html).group(0)

    row_form = attrs(r'<form class="row-form"[^>]*>')
    assert f'action="{url("desk_attendance", session, booking.pk)}"' in row_form
    assert f'hx-post="{url("desk_attendance", session, booking.pk)}"' in row_form
    assert f'formaction="{url("desk_pay", session, booking.pk)}"' in attrs(r'<button[^>]*value="CASH" formaction[^>]*>')
    assert f'formaction="{url("desk_plan", session, booking.pk)}"' in attrs(rf'<button[^>]*value="{balance.pk}"[^>]*>')
    assert f'formaction="{url("desk_later", session, booking.pk)}"' in attrs(r"<button[^>]*>Pay later<")
    assert "formaction" not in attrs(r'<button[^>]*value="ATTENDED"[^>]*>')  # the form's own action
    # …every button of the row form, wherever it sits, belongs to it (form="rf-N")…
    row_form_id = re.search(r'id="(rf-\d+)"', row_form).group(1)
    buttons = re.findall(r"<button[^>]*>", row.split('<form class="menu-form"')[0])
    assert len(buttons) >= 7 and all(f'form="{row_form_id}"' in b for b in buttons)
    # Part payment: "Part payment…" fetches the row with its prompt (a link of its own without JS)…
    part_url = f"{url('roster_row', session, booking.pk)}?part=1"
    link = attrs(r'<a class="menu-item part-pay-open"[^>]*>')
    assert f'href="{part_url}"' in link and f'hx-get="{part_url}"' in link
    assert f'id="part-{booking.pk}"' not in row
    # …which is a form of its own, named by the amount and its buttons.
    opened = desk_client.get(part_url, headers=HTMX).content.decode()
    assert opened.lstrip().startswith(f'<tbody id="roster-row-{booking.pk}"')
    part_form = attrs(rf'<form id="part-{booking.pk}"[^>]*>', opened)
    assert f'action="{url("desk_pay", session, booking.pk)}"' in part_form and 'method="post"' in part_form
    start = opened.index(f'id="part-{booking.pk}"')
    prompt = opened[start : opened.index("</form>", start)]
    assert 'name="amount"' in prompt and "autofocus" in prompt
    assert [m for m in re.findall(r'name="method" value="(\w+)"', prompt)] == ["CASH", "CARD", "CHECK"]
    assert 'form="' not in prompt  # its own buttons: what is typed never rides along with the row's
    row_key = re.search(r'class="row-form".*?name="idempotency_key" value="([^"]+)"', opened, re.S).group(1)
    part_key = re.search(rf'id="part-{booking.pk}".*?name="idempotency_key" value="([^"]+)"', opened, re.S).group(1)
    assert row_key != part_key


def test_part_opens_as_a_page_of_its_own_without_javascript(desk_client, session):
    booking = person(session, "Cy", "Cole")

    response = desk_client.get(f"{url('roster_row', session, booking.pk)}?part=1")

    content = response.content.decode()
    assert response.status_code == 200 and "<html" in content and ">Cy Cole</h1>" in content
    assert f'<form id="part-{booking.pk}" method="post"' in content and 'name="amount"' in content
    assert f'href="{url("roster", session)}#booking-{booking.pk}"' in content  # back to the roster


def test_the_row_without_part_shows_it_as_on_the_roster(desk_client, session):
    booking = person(session, "Cy", "Cole")

    content = desk_client.get(url("roster_row", session, booking.pk), headers=HTMX).content.decode()

    assert content.lstrip().startswith(f'<tbody id="roster-row-{booking.pk}"') and "<html" not in content
    assert "Part payment…" in content and f'id="part-{booking.pk}"' not in content


def test_part_is_not_offered_when_nothing_is_due(desk_client, session):
    booking = person(session, "Ann", "Archer", payment_status="PAID")

    content = desk_client.get(f"{url('roster_row', session, booking.pk)}?part=1", headers=HTMX).content.decode()

    assert f'id="part-{booking.pk}"' not in content and 'name="amount"' not in content


def test_the_row_of_a_booking_not_on_this_session_is_404(desk_client, session):
    other = factories.SessionFactory(service=session.service)
    booking = person(other, "Cy", "Cole")

    assert desk_client.get(url("roster_row", session, booking.pk), headers=HTMX).status_code == 404
    assert desk_client.get(url("roster_row", session, 999_999)).status_code == 404


def test_cash_marks_the_row_paid_at_once_waiting_for_wix_with_undo(desk_client, session, desk_user):
    booking = person(session, "Cy", "Cole", payment_status="UNDEFINED")

    response = desk_client.post(
        url("desk_pay", session, booking.pk), {"method": "CASH", "idempotency_key": key()}, headers=HTMX
    )

    assert response.status_code == 200
    content = response.content.decode()
    assert content.lstrip().startswith(f'<tbody id="roster-row-{booking.pk}"') and "<html" not in content
    assert ">Paid<" in content and ">Cash<" in content and "waiting for Wix" in content
    assert "Undo payment" in content and 'data-expires-in="8"' in content
    assert "Cash £" not in content  # nothing left to take
    assert "rosterChanged" in response.headers["HX-Trigger"]
    action = DeskAction.objects.get()
    assert (action.kind, action.params["method"], action.params["amount"]) == ("PAYMENT", "CASH", "12.00")
    assert action.created_by == desk_user
    assert reload(booking).payment_status == "PAID" and booking.pending_sync
    assert AuditEntry.objects.filter(action="payment.cash", object_id=str(booking.pk)).exists()


@pytest.mark.parametrize(("method", "label"), [("CARD", "Card"), ("CHECK", "Cheque")])
def test_card_and_cheque_are_recorded_with_their_method(desk_client, session, method, label):
    booking = person(session, "Cy", "Cole")

    content = desk_client.post(
        url("desk_pay", session, booking.pk), {"method": method, "idempotency_key": key()}, headers=HTMX
    ).content.decode()

    assert f">{label}<" in content and ">Paid<" in content
    assert DeskAction.objects.get().params["method"] == method


def test_the_same_form_sent_twice_takes_the_money_once(desk_client, session):
    booking = person(session, "Cy", "Cole")
    token = key()

    first = desk_client.post(
        url("desk_pay", session, booking.pk), {"method": "CASH", "idempotency_key": token}, headers=HTMX
    )
    second = desk_client.post(
        url("desk_pay", session, booking.pk), {"method": "CASH", "idempotency_key": token}, headers=HTMX
    )

    assert first.status_code == second.status_code == 200
    assert DeskAction.objects.count() == 1


def test_a_part_payment_leaves_the_rest_due_on_the_row(desk_client, session):
    booking = person(session, "Cy", "Cole")

    content = desk_client.post(
        url("desk_pay", session, booking.pk), {"method": "CASH", "amount": "5", "idempotency_key": key()}, headers=HTMX
    ).content.decode()

    assert "Partly paid" in content and '<strong class="due">£7.00</strong>' in content and "Cash £7.00" in content
    assert reload(booking).payment_status == "PARTIALLY_PAID"
    # …and the rest is taken with the same one tap
    desk_client.post(url("desk_pay", session, booking.pk), {"method": "CARD", "idempotency_key": key()}, headers=HTMX)
    assert reload(booking).payment_status == "PAID"
    assert [a.params["amount"] for a in DeskAction.objects.order_by("pk")] == ["5.00", "7.00"]


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("20", "That is more than the £12.00 due."),
        ("0", "Enter an amount above zero."),
        ("five", "Enter an amount like 5 or 7.50."),
        ("1.234", "Enter an amount like 5 or 7.50."),
        ("1,2,3", "Enter an amount like 5 or 7.50."),
        ("", "Enter the amount taken (at most £12.00)."),
        ("  ", "Enter the amount taken (at most £12.00)."),
    ],
)
def test_a_bad_part_amount_is_422_next_to_the_field_and_changes_nothing(desk_client, session, amount, message):
    booking = person(session, "Cy", "Cole")

    response = desk_client.post(
        url("desk_pay", session, booking.pk),
        {"method": "CASH", "amount": amount, "part": "1", "idempotency_key": key()},
        headers=HTMX,
    )

    assert response.status_code == 422
    content = response.content.decode()
    assert f'<span class="field-error" id="amount-{booking.pk}-error">{message}</span>' in content
    assert f'<form id="part-{booking.pk}" method="post"' in content and 'aria-invalid="true"' in content
    assert "HX-Trigger" not in response.headers
    assert not DeskAction.objects.exists() and reload(booking).payment_status == "NOT_PAID"


@pytest.mark.parametrize(("typed", "taken"), [("7,50", "7.50"), ("£7,5", "7.50"), ("1,2", "1.20")])
def test_a_part_amount_with_a_decimal_comma_is_taken_as_pounds_and_pence(desk_client, session, typed, taken):
    booking = person(session, "Cy", "Cole")

    response = desk_client.post(
        url("desk_pay", session, booking.pk),
        {"method": "CASH", "amount": typed, "part": "1", "idempotency_key": key()},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert DeskAction.objects.get().params["amount"] == taken


def test_the_part_prompt_says_it_is_a_part_payment(desk_client, session):
    booking = person(session, "Cy", "Cole")

    opened = desk_client.get(f"{url('roster_row', session, booking.pk)}?part=1", headers=HTMX).content.decode()

    part_form = re.search(rf'<form id="part-{booking.pk}".*?</form>', opened, re.S).group(0)
    assert '<input type="hidden" name="part" value="1">' in part_form
    assert 'placeholder="at most £12.00"' in opened


def test_a_missing_token_or_method_is_422(desk_client, session):
    booking = person(session, "Cy", "Cole")

    no_token = desk_client.post(url("desk_pay", session, booking.pk), {"method": "CASH"}, headers=HTMX)
    no_method = desk_client.post(url("desk_pay", session, booking.pk), {"idempotency_key": key()}, headers=HTMX)

    assert no_token.status_code == no_method.status_code == 422
    assert "This form is out of date: reload the page and try again." in no_token.content.decode()
    assert "Choose cash, card or cheque." in no_method.content.decode()
    assert not DeskAction.objects.exists()


def test_nothing_due_is_422_in_the_row(desk_client, session):
    booking = person(session, "Ann", "Archer", payment_status="PAID")

    response = desk_client.post(
        url("desk_pay", session, booking.pk), {"method": "CASH", "idempotency_key": key()}, headers=HTMX
    )

    assert response.status_code == 422
    assert '<p class="row-error" role="alert">Nothing is due on this booking.</p>' in response.content.decode()


def test_a_booking_error_is_409_with_the_message_in_the_row(desk_client, session, monkeypatch):
    """Another desk took the money between this roster's render and the tap."""
    booking = person(session, "Cy", "Cole")

    def already_paid(**kwargs):
        raise BookingError("Cy Cole has just paid — it's on its way to Wix.", code="already_paid")

    monkeypatch.setattr(desk, "payment_record", already_paid)
    response = desk_client.post(
        url("desk_pay", session, booking.pk), {"method": "CASH", "idempotency_key": key()}, headers=HTMX
    )

    assert response.status_code == 409
    content = response.content.decode()
    assert content.lstrip().startswith(f'<tbody id="roster-row-{booking.pk}"')
    assert "Cy Cole has just paid — it's on its way to Wix." in html.unescape(content)
    assert "HX-Trigger" not in response.headers


def test_without_javascript_a_payment_redirects_back_to_the_row_with_a_message(desk_client, session):
    booking = person(session, "Cy", "Cole")

    response = desk_client.post(url("desk_pay", session, booking.pk), {"method": "CASH", "idempotency_key": key()})

    assert response.status_code == 302
    assert response.url == f"{url('roster', session)}#booking-{booking.pk}"
    page = desk_client.get(response.url).content.decode()
    assert "Cy Cole: cash taken." in page


def test_without_javascript_a_refusal_redirects_with_the_error(desk_client, session):
    booking = person(session, "Cy", "Cole")

    response = desk_client.post(
        url("desk_pay", session, booking.pk), {"method": "CASH", "amount": "99", "idempotency_key": key()}, follow=True
    )

    assert '<p class="message error">That is more than the £12.00 due.</p>' in response.content.decode()
    assert not DeskAction.objects.exists()


def test_plan_button_charges_the_plan_and_takes_a_credit(desk_client, session):
    booking = person(session, "Bo", "Baker")
    balance = plan_for(booking, credits="7")

    response = desk_client.post(
        url("desk_plan", session, booking.pk), {"balance": balance.pk, "idempotency_key": key()}, headers=HTMX
    )

    assert response.status_code == 200
    content = response.content.decode()
    assert "pay-plan" in content and ">Plan<" in content and "waiting for Wix" in content
    assert reload(balance).remaining_credits == Decimal("6")
    assert reload(booking).selected_payment_option == "MEMBERSHIP"


def test_another_members_plan_is_not_a_choice(desk_client, session):
    booking = person(session, "Bo", "Baker")
    stranger = plan_for(person(session, "Al", "Abel"))

    response = desk_client.post(
        url("desk_plan", session, booking.pk), {"balance": stranger.pk, "idempotency_key": key()}, headers=HTMX
    )

    assert response.status_code == 422
    assert "That plan cannot pay for this booking." in response.content.decode()
    assert reload(stranger).remaining_credits == Decimal("7") and not DeskAction.objects.exists()


def test_later_puts_the_booking_on_the_owes_list(desk_client, session):
    booking = person(session, "Cy", "Cole", payment_status="UNDEFINED")

    response = desk_client.post(url("desk_later", session, booking.pk), {"idempotency_key": key()}, headers=HTMX)

    assert response.status_code == 200
    assert reload(booking).payment_status == "NOT_PAID" and "Not paid" in response.content.decode()
    assert DeskAction.objects.get().kind == "PAY_LATER"


def test_check_in_then_no_show(desk_client, session):
    booking = person(session, "Cy", "Cole")

    checked = desk_client.post(
        url("desk_attendance", session, booking.pk), {"status": "ATTENDED", "idempotency_key": key()}, headers=HTMX
    ).content.decode()
    assert "Checked in" in checked and ">Check in<" not in checked and ">No-show<" in checked

    missed = desk_client.post(
        url("desk_attendance", session, booking.pk), {"status": "NOT_ATTENDED", "idempotency_key": key()}, headers=HTMX
    ).content.decode()
    assert "No-show</span>" in missed and ">Check in<" in missed
    assert Attendance.objects.get(booking=booking).status == "NOT_ATTENDED"


def test_a_bad_attendance_status_is_422(desk_client, session):
    booking = person(session, "Cy", "Cole")

    response = desk_client.post(
        url("desk_attendance", session, booking.pk), {"status": "MAYBE", "idempotency_key": key()}, headers=HTMX
    )

    assert response.status_code == 422 and not Attendance.objects.exists()


def test_checking_in_on_a_course_session_marks_that_session(desk_client):
    course = factories.ServiceFactory(type=Service.Type.COURSE, name="Learn to swim")
    week1 = factories.SessionFactory(service=course, start=NOW)
    week2 = factories.SessionFactory(service=course, start=NOW + timedelta(days=7))
    booking = factories.BookingFactory(session=None, service=course)

    response = desk_client.post(
        url("desk_attendance", week2, booking.pk), {"status": "ATTENDED", "idempotency_key": key()}, headers=HTMX
    )

    assert response.status_code == 200
    assert list(Attendance.objects.values_list("session", flat=True)) == [week2.pk]
    assert week1.pk != week2.pk


def test_check_in_all_checks_in_everyone_and_answers_with_the_rows(desk_client, session):
    people = [person(session, n, "Test") for n in ("Ann", "Bo", "Cy")]
    factories.AttendanceFactory(booking=people[0], session=session)

    response = desk_client.post(url("desk_check_in_all", session), {"idempotency_key": key()}, headers=HTMX)

    assert response.status_code == 200
    content = response.content.decode()
    assert content.lstrip().startswith('<section id="roster-rows"')
    assert content.count(">Checked in<") == 3 and "<strong>3</strong> of 3 in" in content
    assert "rosterChanged" in response.headers["HX-Trigger"]
    assert DeskAction.objects.filter(kind="ATTENDANCE").count() == 2  # Ann was in already


def test_check_in_all_costs_about_the_same_queries_for_10_or_100_people(desk_client):
    counts = []
    for size in (10, 100):
        big = factories.SessionFactory(start=NOW + timedelta(hours=2), capacity=120)
        for i in range(size):
            person(big, f"P{size}x{i}", "Test")
        with CaptureQueriesContext(connection) as ctx:
            response = desk_client.post(url("desk_check_in_all", big), {"idempotency_key": key()}, headers=HTMX)
        assert response.status_code == 200
        assert DeskAction.objects.filter(kind="ATTENDANCE", session=big).count() == size
        counts.append(len(ctx.captured_queries))
    # Bulk writes: only SQLite's cap on query variables splits 100 inserts into a few batches.
    assert counts[1] - counts[0] <= 3, counts


def test_check_in_all_without_javascript_redirects_with_the_head_count(desk_client, session):
    for n in ("Ann", "Bo"):
        person(session, n, "Test")

    response = desk_client.post(url("desk_check_in_all", session), {"idempotency_key": key()}, follow=True)

    assert "Checked in 2 people." in response.content.decode()


def test_check_in_all_says_what_it_did_with_javascript_too(desk_client, session):
    for n in ("Ann", "Bo"):
        person(session, n, "Test")

    content = desk_client.post(url("desk_check_in_all", session), {"idempotency_key": key()}, headers=HTMX).content
    message = re.search(r'<p id="roster-rows-message"[^>]*>(.*?)</p>', content.decode()).group(0)

    assert "Checked in 2 people." in message and "hidden" not in message


def test_the_roster_offers_check_in_all_with_a_head_count_and_a_header_that_refreshes(desk_client, session):
    booking = person(session, "Ann", "Archer")
    factories.AttendanceFactory(booking=booking, session=session)
    person(session, "Bo", "Baker")

    content = roster(desk_client, session)

    assert "<strong>1</strong> of 2 in" in content and ">Check in all<" in content
    assert f'hx-get="{url("roster_header", session)}" hx-trigger="rosterChanged from:body"' in content
    header = desk_client.get(url("roster_header", session), headers=HTMX).content.decode()
    assert header.lstrip().startswith('<div id="session-header"') and "<html" not in header
    # …and the head count beside "Check in all" comes with it, out of band.
    assert '<span id="head-count" class="head-count" title="Checked in / booked" hx-swap-oob="true">' in header
    assert "<strong>1</strong> of 2 in" in header


def test_undo_within_the_window_puts_the_row_back(desk_client, session):
    booking = person(session, "Cy", "Cole")
    desk_client.post(url("desk_pay", session, booking.pk), {"method": "CASH", "idempotency_key": key()}, headers=HTMX)
    action = DeskAction.objects.get()

    response = desk_client.post(url("desk_action_undo", session, action.pk), headers=HTMX)

    assert response.status_code == 200
    content = response.content.decode()
    assert "Cash £12.00" in content and "Undo" not in content and "waiting for Wix" not in content
    assert reload(booking).payment_status == "NOT_PAID" and reload(action).status == "UNDONE"


def test_undo_after_the_window_is_409_too_late(desk_client, session, time_machine):
    booking = person(session, "Cy", "Cole")
    desk_client.post(url("desk_pay", session, booking.pk), {"method": "CASH", "idempotency_key": key()}, headers=HTMX)
    time_machine.shift(timedelta(seconds=9))

    response = desk_client.post(url("desk_action_undo", session, DeskAction.objects.get().pk), headers=HTMX)

    assert response.status_code == 409
    assert "Too late to undo" in response.content.decode()
    assert reload(booking).payment_status == "PAID"


def test_an_action_of_another_roster_is_404(desk_client, session):
    other = person(factories.SessionFactory(), "Ed", "Eve")
    desk_client.post(url("desk_pay", other.session, other.pk), {"method": "CASH", "idempotency_key": key()})

    assert desk_client.post(url("desk_action_undo", session, DeskAction.objects.get().pk)).status_code == 404
    assert desk_client.post(url("desk_pay", session, other.pk), {"method": "CASH"}).status_code == 404


def _needs_attention(booking: Booking, *, kind: str = "PAYMENT", message: str = "Wix said no.") -> DeskAction:
    action = DeskAction.objects.filter(booking=booking).latest("pk")
    action.status, action.message, action.error_code = "NEEDS_ATTENTION", message, "SOME_CODE"
    action.save()
    return action


def test_needs_attention_shows_the_message_and_the_choices_that_make_sense(desk_client, session):
    booking = person(session, "Bo", "Baker")
    balance = plan_for(booking)
    desk.plan_charge(user=None, booking=booking, balance=balance, idempotency_key=key())
    _needs_attention(booking, message="No credits left on 10-swim pass — take cash instead?")

    row = row_of(roster(desk_client, session), booking)

    assert "Needs attention:" in row and "No credits left on 10-swim pass — take cash instead?" in row
    assert 'value="retry"' in row and 'value="cash_instead"' in row and 'value="remove"' in row
    assert 'value="override"' not in row  # only for a walk-in, only for a manager
    # The payment badge says Wix refused it, not the desk's own "Paid · Plan" guess.
    assert "Refused by Wix" in row and "pay-refused" in row
    assert ">Paid<" not in row and ">Plan<" not in row


def test_cash_from_someone_who_booked_with_their_plan_counts_as_cash_not_plan(desk_client, session):
    from bookings_app import selectors

    booking = person(session, "Pat", "Planner", payment_status="UNDEFINED", selected_payment_option="MEMBERSHIP")
    plan_for(booking)

    response = desk_client.post(
        url("desk_pay", session, booking.pk), {"method": "CASH", "idempotency_key": key()}, headers=HTMX
    )

    assert response.status_code == 200
    content = response.content.decode()
    assert ">Cash<" in content and ">Plan<" not in content
    (stats,) = selectors.session_day_list(day=timezone.localdate(session.start))
    assert (stats.paid_count, stats.plan_count) == (1, 0)


def test_take_cash_instead_of_a_plan_that_had_no_credit(desk_client, session):
    booking = person(session, "Bo", "Baker")
    desk.plan_charge(user=None, booking=booking, balance=plan_for(booking), idempotency_key=key())
    action = _needs_attention(booking)

    response = desk_client.post(
        url("desk_action_resolve", session, action.pk),
        {"choice": "cash_instead", "idempotency_key": key()},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert ">Cash<" in response.content.decode()
    assert DeskAction.objects.filter(kind="PAYMENT", params__method="CASH").exists()


def test_override_is_for_managers_only(client, desk_user, manager_user, session):
    full = factories.SessionFactory(capacity=1, service=session.service, start=session.start)
    walk_in = desk.walk_in_create(user=None, contact=factories.ContactFactory(), session=full, idempotency_key=key())
    action = _needs_attention(walk_in, message="The class filled up online — override as manager, or remove.")
    client.force_login(desk_user)
    assert 'value="override"' not in row_of(roster(client, full), walk_in)

    refused = client.post(url("desk_action_resolve", full, action.pk), {"choice": "override", "idempotency_key": key()})
    assert refused.status_code == 403

    client.force_login(manager_user)
    assert 'value="override"' in row_of(roster(client, full), walk_in)
    allowed = client.post(
        url("desk_action_resolve", full, action.pk), {"choice": "override", "idempotency_key": key()}, headers=HTMX
    )
    assert allowed.status_code == 200
    assert reload(action).status == "QUEUED" and action.params["override_capacity"] is True


def test_resolving_what_no_longer_needs_attention_is_409(desk_client, session):
    booking = person(session, "Cy", "Cole")
    desk.payment_record(user=None, booking=booking, method="CASH", amount=Decimal("12"), idempotency_key=key())

    response = desk_client.post(
        url("desk_action_resolve", session, DeskAction.objects.get().pk),
        {"choice": "remove", "idempotency_key": key()},
        headers=HTMX,
    )

    assert response.status_code == 409
    assert "This doesn't need attention any more." in html.unescape(response.content.decode())


def test_reverse_needs_the_void_payments_permission(client, desk_user, manager_user, session):
    booking = person(session, "Cy", "Cole")
    desk.payment_record(user=None, booking=booking, method="CASH", amount=Decimal("12"), idempotency_key=key())
    action = DeskAction.objects.get()
    action.status = "SYNCED"
    action.save()
    booking.pending_sync = False
    booking.save()

    client.force_login(desk_user)
    assert "Reverse…" not in row_of(roster(client, session), booking)
    assert client.post(url("desk_action_reverse", session, action.pk), {"idempotency_key": key()}).status_code == 403

    client.force_login(manager_user)
    assert "Record a refund" in row_of(roster(client, session), booking)
    response = client.post(url("desk_action_reverse", session, action.pk), {"idempotency_key": key()}, headers=HTMX)
    assert response.status_code == 200
    assert reload(booking).payment_status == "REFUNDED"
    assert "Record a refund" not in response.content.decode()  # already reversed


DESK_POSTS = ["desk_pay", "desk_plan", "desk_later", "desk_attendance"]


@pytest.mark.parametrize("name", DESK_POSTS)
def test_row_actions_need_login_and_the_front_desk_role(client, no_role_user, session, name):
    booking = person(session, "Cy", "Cole")
    target = url(name, session, booking.pk)

    anonymous = client.post(target, {"method": "CASH", "idempotency_key": key()})
    assert anonymous.status_code == 302 and anonymous.url.startswith(reverse("login"))
    htmx = client.post(target, {"idempotency_key": key()}, headers={**HTMX, "HX-Current-URL": "http://x/today/"})
    assert htmx.status_code == 401 and htmx.headers["X-Desk-Problem"] == "signed-out"

    client.force_login(no_role_user)
    assert client.post(target, {"method": "CASH", "idempotency_key": key()}).status_code == 403
    assert not DeskAction.objects.exists()


def test_get_on_an_action_is_405(desk_client, session):
    booking = person(session, "Cy", "Cole")

    assert desk_client.get(url("desk_pay", session, booking.pk)).status_code == 405


def _busy(session: Session, n: int) -> None:
    """n people: a third with a plan balance, a third with a desk payment waiting for Wix, one
    needing attention — every kind of desk state a row can show."""
    for i in range(n):
        booking = factories.BookingFactory(session=session, payment_status="NOT_PAID")
        if i % 3 == 0:
            plan_for(booking)
        elif i % 3 == 1:
            desk.payment_record(user=None, booking=booking, method="CASH", amount=Decimal("5"), idempotency_key=key())
        if i % 2:
            factories.AttendanceFactory(booking=booking, session=session)
    _needs_attention(DeskAction.objects.first().booking)


def _count(client, session: Session, *, htmx: bool) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url("roster", session), headers=HTMX if htmx else {})
        assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("htmx", [False, True])
def test_roster_queries_with_desk_actions_do_not_grow_with_rows(client, desk_user, htmx):
    small = factories.SessionFactory(start=NOW)
    big = factories.SessionFactory(start=NOW)
    _busy(small, 9)
    _busy(big, 90)
    client.force_login(desk_user)

    ten, hundred = _count(client, small, htmx=htmx), _count(client, big, htmx=htmx)

    assert ten == hundred <= 14  # the full page: with the header's sync status and desk backlog
