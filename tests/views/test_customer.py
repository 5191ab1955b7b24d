"""The customer card: the page and its htmx panel, notes and alerts (kept in Front Desk, audited),
the emergency contact and the sign-in sheet, what they owe by the desk's rule, 404 / 405 / 422,
escaping, roles, and a fixed number of queries."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bookings_app.models import AuditEntry, Booking, CustomerNote, EmergencyContact
from tests import factories
from tests.views.desk_helpers import HTMX, NOW, key, person, reload, url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("desk_clock")]


def card_url(contact, *args) -> str:
    return reverse("customer_card", args=[contact.pk, *args])


def note_url(name: str, note: CustomerNote) -> str:
    return reverse(name, args=[note.contact_id, note.pk])


@pytest.fixture
def ann(session):
    """Ann Archer: booked on the session at £12 (unpaid), a member with 4 credits left."""
    booking = person(session, "Ann", "Archer")
    booking.contact.phone = "+44 (0)7700 900123"
    booking.contact.save()
    factories.BenefitBalanceFactory(member__contact=booking.contact, remaining_credits=Decimal("4"))
    return booking.contact


# --- the page and the panel ----------------------------------------------------------------------


def test_the_card_page_shows_contact_details_plans_visits_and_what_they_owe(desk_client, session, ann):
    past = factories.SessionFactory(service=session.service, start=NOW - timedelta(days=2), title="Dusk swim")
    booking = factories.BookingFactory(session=past, contact=ann)
    factories.AttendanceFactory(booking=booking, session=past)

    response = desk_client.get(card_url(ann))

    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" in content and '<h1 class="card-name">Ann Archer</h1>' in content
    assert 'href="tel:+447700900123"' in content and 'href="mailto:ann.archer@example.com"' in content
    assert ">Member<" in content and "10-swim pass" in content and "4 left of 10" in content
    assert "Owes £24.00" in content and "£24.00</strong> owed" in content  # the past visit and today's
    assert "Dusk swim" in content and "Checked in" in content and "1 checked in" in content
    assert "Kept in Front Desk, not in Wix" in content
    assert "Close</button>" not in content  # a page, not a panel


def test_the_panel_is_the_card_fragment_with_a_close_button(desk_client, ann):
    response = desk_client.get(card_url(ann), {"panel": "1"}, headers=HTMX)

    assert response.status_code == 200
    content = response.content.decode()
    assert content.lstrip().startswith('<section class="customer-card is-panel"') and "<html" not in content
    assert '<h2 class="card-name">Ann Archer</h2>' in content
    assert "Close</button>" in content and f'href="{card_url(ann)}"' in content
    assert 'name="panel" value="1"' in content  # its forms keep it a panel
    assert response["Vary"] == "HX-Request, Cookie" or "HX-Request" in response["Vary"]


def test_panel_without_htmx_is_the_page(desk_client, ann):
    content = desk_client.get(card_url(ann), {"panel": "1"}).content.decode()

    assert "<html" in content and "Close</button>" not in content


def test_an_unknown_customer_is_404(desk_client):
    assert desk_client.get(reverse("customer_card", args=[987654])).status_code == 404
    assert desk_client.get("/customers/99999999999999999999999/").status_code == 404
    assert desk_client.post("/customers/99999999999999999999999/notes/", {"text": "x"}).status_code == 404


def test_another_customers_note_is_404(desk_client, ann):
    other = factories.CustomerNoteFactory()

    response = desk_client.post(reverse("customer_note_edit", args=[ann.pk, other.pk]), {"text": "mine now"})

    assert response.status_code == 404
    assert reload(other).text == "Prefers the slow lane"


def test_the_forms_only_post(desk_client, ann):
    note = factories.CustomerNoteFactory(contact=ann)

    assert desk_client.get(reverse("customer_note_add", args=[ann.pk])).status_code == 405
    assert desk_client.get(note_url("customer_note_archive", note)).status_code == 405
    assert desk_client.get(reverse("customer_emergency", args=[ann.pk])).status_code == 405


def test_names_and_notes_are_escaped(desk_client, session):
    contact = factories.ContactFactory(first_name="<script>alert(1)</script>", last_name="O'Neil & Co")
    factories.CustomerNoteFactory(contact=contact, text="<b>bold</b> claim", alert="MEDICAL")
    factories.EmergencyContactFactory(contact=contact, name="<img src=x onerror=alert(2)>")

    content = desk_client.get(card_url(contact)).content.decode()

    assert "<script>alert(1)" not in content and "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert "O&#x27;Neil &amp; Co" in content
    assert "<b>bold</b>" not in content and "&lt;b&gt;bold&lt;/b&gt; claim" in content
    assert "<img src=x" not in content


def test_anonymous_is_sent_to_login_and_staff_without_the_desk_role_are_refused(client, ann, staff_roles):
    response = client.get(card_url(ann))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))

    client.force_login(factories.UserFactory(username="nobody"))
    assert client.get(card_url(ann)).status_code == 403
    refused = client.post(reverse("customer_note_add", args=[ann.pk]), {"text": "x", "idempotency_key": key()})
    assert refused.status_code == 403
    assert not CustomerNote.objects.exists()


def test_a_manager_reads_the_card_too(manager_client, ann):
    assert manager_client.get(card_url(ann)).status_code == 200


# --- notes and alerts --------------------------------------------------------------------------------


def test_front_desk_adds_an_alert_which_is_audited_and_shows_as_a_badge(desk_client, desk_user, ann):
    response = desk_client.post(
        reverse("customer_note_add", args=[ann.pk]),
        {"text": "Asthma: inhaler in the red bag", "alert": "MEDICAL", "idempotency_key": key()},
    )

    assert response.status_code == 302 and response.url == card_url(ann)
    note = CustomerNote.objects.get()
    assert (note.contact, note.alert, note.created_by) == (ann, "MEDICAL", desk_user)
    entry = AuditEntry.objects.get(action="customer_note.add")
    assert (entry.object_type, entry.object_id, entry.actor) == ("contact", str(ann.pk), desk_user.username)
    assert entry.after == {"note": note.pk, "text": note.text, "alert": "MEDICAL", "archived": False}
    content = desk_client.get(response.url).content.decode()
    assert "Note added." in content
    assert '<span class="badge alert-medical">Medical</span>' in content and "inhaler in the red bag" in content


def test_adding_a_note_with_htmx_answers_the_card_with_what_changed(desk_client, ann):
    response = desk_client.post(
        reverse("customer_note_add", args=[ann.pk]),
        {"text": "Ask about March", "alert": "PAYMENT", "idempotency_key": key(), "panel": "1"},
        headers=HTMX,
    )

    assert response.status_code == 200
    content = response.content.decode()
    assert content.lstrip().startswith('<section class="customer-card is-panel"')
    assert "Note added." in content and "Ask about payment" in content and "Ask about March" in content


def test_a_note_sent_twice_is_added_once(desk_client, ann):
    token = key()
    for _ in range(2):
        desk_client.post(reverse("customer_note_add", args=[ann.pk]), {"text": "Twice", "idempotency_key": token})

    assert CustomerNote.objects.count() == 1
    assert AuditEntry.objects.filter(action="customer_note.add").count() == 1


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"text": "   "}, "Write the note."),
        ({"text": "x" * 1001}, "Keep the note under 1000 characters."),
        ({"text": "ok", "alert": "VIP"}, "Choose one of the alerts offered."),
    ],
)
def test_a_bad_note_is_refused_with_422_and_changes_nothing(desk_client, ann, data, error):
    response = desk_client.post(
        reverse("customer_note_add", args=[ann.pk]), {**data, "idempotency_key": key()}, headers=HTMX
    )

    assert response.status_code == 422
    content = response.content.decode()
    assert error in content and 'class="note-add" open' in content
    assert not CustomerNote.objects.exists() and not AuditEntry.objects.exists()


def test_a_bad_note_without_javascript_is_the_page_with_422(desk_client, ann):
    response = desk_client.post(reverse("customer_note_add", args=[ann.pk]), {"text": "", "idempotency_key": key()})

    assert response.status_code == 422 and "<html" in response.content.decode()


def test_editing_a_note_is_audited_before_and_after(desk_client, ann):
    note = factories.CustomerNoteFactory(contact=ann, text="Waiver not signed", alert="WAIVER")

    response = desk_client.post(note_url("customer_note_edit", note), {"text": "Waiver signed 21 Nov", "alert": ""})

    assert response.status_code == 302
    note = reload(note)
    assert (note.text, note.alert) == ("Waiver signed 21 Nov", "")
    entry = AuditEntry.objects.get(action="customer_note.edit")
    assert entry.before["text"] == "Waiver not signed" and entry.before["alert"] == "WAIVER"
    assert entry.after["text"] == "Waiver signed 21 Nov" and entry.after["alert"] == ""


def test_a_bad_edit_reopens_that_notes_form_with_422(desk_client, ann):
    note = factories.CustomerNoteFactory(contact=ann)

    response = desk_client.post(note_url("customer_note_edit", note), {"text": ""}, headers=HTMX)

    assert response.status_code == 422
    content = response.content.decode()
    assert 'class="note-edit" open' in content and "Write the note." in content
    assert reload(note).text == "Prefers the slow lane"


def test_archiving_an_alert_stops_it_alerting_and_restoring_brings_it_back(desk_client, ann):
    note = factories.CustomerNoteFactory(contact=ann, text="Ask about March", alert="PAYMENT")

    desk_client.post(note_url("customer_note_archive", note))
    content = desk_client.get(card_url(ann)).content.decode()
    assert reload(note).is_archived
    assert '<span class="badge alert-payment">' not in content and "Earlier notes (1)" in content

    desk_client.post(note_url("customer_note_restore", note))
    assert not reload(note).is_archived
    assert list(AuditEntry.objects.order_by("pk").values_list("action", flat=True)) == [
        "customer_note.archive",
        "customer_note.restore",
    ]


def test_an_archived_note_cannot_be_edited(desk_client, ann):
    note = factories.CustomerNoteFactory(contact=ann, archived_at=NOW)

    response = desk_client.post(note_url("customer_note_edit", note), {"text": "changed"}, headers=HTMX)

    assert response.status_code == 409
    assert "restore it to change it" in response.content.decode()
    assert reload(note).text == "Prefers the slow lane"


# --- emergency contact and the sign-in sheet ------------------------------------------------------


def test_setting_the_emergency_contact_is_audited_and_printed_on_the_sign_in_sheet(desk_client, session, ann):
    response = desk_client.post(
        reverse("customer_emergency", args=[ann.pk]),
        {"name": "Bob Archer", "phone": "07700 900999", "relationship": "Husband"},
    )

    assert response.status_code == 302
    assert EmergencyContact.objects.get(contact=ann).name == "Bob Archer"
    assert AuditEntry.objects.get(action="emergency_contact.set").after == {
        "name": "Bob Archer",
        "phone": "07700 900999",
        "relationship": "Husband",
    }
    factories.CustomerNoteFactory(contact=ann, alert="MEDICAL", text="Epilepsy <severe>")
    person(session, "Bo", "Baker")

    sheet = desk_client.get(url("roster_print", session)).content.decode()

    assert "Emergency contacts and alerts" in sheet
    assert "Bob Archer (Husband) · 07700 900999" in sheet
    assert "Medical:</strong> Epilepsy &lt;severe&gt;" in sheet
    assert "No emergency contact on file for: Bo Baker." in sheet


def test_the_sign_in_sheet_costs_one_more_query_whoever_is_on_it(desk_client, session):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert desk_client.get(url("roster_print", session)).status_code == 200
        return len(queries)

    person(session, "Ann", "Archer")
    few = count()
    for i in range(8):
        booking = person(session, f"P{i}", "Swimmer")
        factories.EmergencyContactFactory(contact=booking.contact)
        factories.CustomerNoteFactory(contact=booking.contact, alert="WAIVER")

    assert count() == few


@pytest.mark.parametrize(
    ("data", "field_error"),
    [
        ({"name": "Bob", "phone": ""}, "Enter their phone number."),
        ({"name": "", "phone": "07700 900999"}, "Enter their name."),
        ({"name": "Bob", "phone": "call me<"}, "A phone number has digits"),
    ],
)
def test_a_bad_emergency_contact_is_refused_with_422(desk_client, ann, data, field_error):
    response = desk_client.post(reverse("customer_emergency", args=[ann.pk]), data, headers=HTMX)

    assert response.status_code == 422
    assert field_error in response.content.decode()
    assert not EmergencyContact.objects.exists()


def test_a_phone_number_too_short_is_refused_by_the_service(desk_client, ann):
    response = desk_client.post(reverse("customer_emergency", args=[ann.pk]), {"name": "Bob", "phone": "12"})

    assert response.status_code == 409
    assert "doesn&#x27;t look like a phone number" in response.content.decode()


def test_clearing_every_field_removes_the_emergency_contact(desk_client, ann):
    factories.EmergencyContactFactory(contact=ann)

    desk_client.post(reverse("customer_emergency", args=[ann.pk]), {"name": "", "phone": "", "relationship": ""})

    assert not EmergencyContact.objects.exists()
    assert AuditEntry.objects.get().action == "emergency_contact.remove"


# --- what they owe: the desk's rule ------------------------------------------------------------------


def test_money_the_desk_took_that_is_not_in_wix_yet_is_not_owed(desk_client, session, ann):
    booking = Booking.objects.get(contact=ann)
    factories.DeskActionFactory(booking=booking, params={"method": "CASH", "amount": "12.00"})

    content = desk_client.get(card_url(ann)).content.decode()

    assert "Nothing owed." in content and "Owes £" not in content
    assert "Taken at the desk, on its way to Wix: Payment (cash) £12.00" in content


def test_bookings_after_today_are_to_pay_then_not_owed(desk_client, ann):
    Booking.objects.filter(contact=ann).update(payment_status="PAID")
    factories.BookingFactory(contact=ann, session__start=NOW + timedelta(days=3), session__service__price=Decimal("9"))

    content = desk_client.get(card_url(ann)).content.decode()

    assert "Nothing owed." in content and "To pay at coming visits: £9.00" in content


# --- the search hit, and the number of queries ------------------------------------------------------


def test_a_search_hit_shows_the_alerts_and_opens_the_card_in_a_panel(desk_client, session, ann):
    factories.CustomerNoteFactory(contact=ann, alert="WAIVER", text="Waiver missing")

    content = desk_client.get(url("desk_walk_in", session), {"q": "archer"}, headers=HTMX).content.decode()

    assert '<span class="badge alert-waiver">Waiver</span>' in content
    assert f'href="{card_url(ann)}" hx-get="{card_url(ann)}?panel=1" hx-target="next .customer-panel"' in content
    assert '<div class="customer-panel"></div>' in content


def test_the_card_costs_the_same_queries_however_many_bookings(desk_client, session, ann):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert desk_client.get(card_url(ann)).status_code == 200
        return len(queries)

    def visit(days: int) -> None:
        past = factories.SessionFactory(service=session.service, start=NOW - timedelta(days=days))
        booking = factories.BookingFactory(session=past, contact=ann, payment_status="PARTIALLY_PAID")
        line = factories.OrderLineItemFactory(booking=booking, order__contact=ann, order__balance=Decimal("4"))
        factories.PaymentFactory(order=line.order, amount=Decimal("8"))
        factories.AttendanceFactory(booking=booking, session=past)
        factories.DeskActionFactory(booking=booking, params={"method": "CARD", "amount": "4.00"})

    factories.CustomerNoteFactory(contact=ann, alert="MEDICAL")
    factories.EmergencyContactFactory(contact=ann)
    visit(1)
    few = count()
    for days in range(2, 41):
        visit(days)

    assert count() == few


def test_the_card_page_stays_within_its_query_budget(desk_client, ann, django_assert_max_num_queries):
    # session and user (2), the sync widget (1), the card (12), the desk's amount due (3 at most)
    with django_assert_max_num_queries(19):  # with the header's sync status and desk backlog
        assert desk_client.get(card_url(ann)).status_code == 200
