"""The audit trail page (``views/audit.py``): managers only, read-only; filters in the query string
(bad ones answered 400, naming the field); keyset pages; the roster row's History link; the
export (CSV and XLSX: the screen's rows, formula injection neutralised, bad format or filters 400)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from bookings_app.models import AuditEntry, ExportJob
from bookings_app.selectors import audit as audit_read
from tests.factories import AuditEntryFactory, BookingFactory, ContactFactory, DeskActionFactory

pytestmark = pytest.mark.django_db

PAGE = "/audit/"
EXPORT = "/audit/export/"


def entry_for(booking, **fields) -> AuditEntry:
    return AuditEntryFactory(object_type="booking", object_id=str(booking.pk), **fields)


def test_front_desk_may_not_read_the_trail_nor_export_it(desk_client):
    AuditEntryFactory()

    assert desk_client.get(PAGE).status_code == 403
    assert desk_client.get(EXPORT).status_code == 403


def test_a_manager_reads_who_did_what_before_and_after_and_the_desk_action(manager_client):
    booking = BookingFactory(contact__first_name="Ann", contact__last_name="Archer", session__title="Dawn swim")
    action = DeskActionFactory(booking=booking, attempts=3, status="NEEDS_ATTENTION", message="Class full")
    entry_for(
        booking,
        actor="jo",
        summary="Took £12.00 cash from Ann Archer",
        before={"payment_status": "NOT_PAID"},
        after={"payment_status": "PAID", "action": action.pk},
    )

    for _ in range(2):
        response = manager_client.get(PAGE)
        page = unescape(response.content.decode())

        assert response.status_code == 200
        assert "Took £12.00 cash from Ann Archer" in page and "Cash taken" in page
        assert "<del>Not paid</del> → <ins>Paid</ins>" in page
        assert "Needs attention" in page and f"#{action.pk} Payment · 3 tries" in page and "Class full" in page
        assert f'href="/customers/{booking.contact_id}/"' in page
        assert f'href="/sessions/{booking.session.ref}/#booking-{booking.pk}"' in page
        assert 'method="post"' not in page.split('class="card audit-filters"')[1]  # read-only


def test_the_filters_narrow_the_trail_and_name_what_they_narrow_to(manager_client):
    ann = ContactFactory(first_name="Ann", last_name="Archer")
    booking = BookingFactory(contact=ann, session__title="Dawn swim")
    entry_for(booking, summary="Ann's entry", action="payment.card")
    entry_for(BookingFactory(), summary="Someone else's", action="payment.card")

    by_booking = unescape(manager_client.get(PAGE, {"booking": booking.pk}).content.decode())
    by_name = unescape(manager_client.get(PAGE, {"q": "archer", "kind": "payments"}).content.decode())
    by_session = unescape(manager_client.get(PAGE, {"session": booking.session_id}).content.decode())

    for page in (by_booking, by_name, by_session):
        assert "Ann's entry" in page and "Someone else's" not in page
    assert "Booking</span> Ann Archer, Dawn swim" in by_booking
    assert f'<a href="/customers/{ann.pk}/">Ann Archer</a>' in by_name
    assert "Session</span> Dawn swim" in by_session


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"date_from": "2026-13-40"}, "Enter a valid date"),
        ({"date_from": "2026-06-02", "date_to": "2026-06-01"}, "The last day comes before the first."),
        ({"who": "nobody-at-all"}, "Select a valid choice"),
        ({"kind": "gossip"}, "Select a valid choice"),
        ({"booking": "abc"}, "Enter a whole number"),
        ({"session": str(2**70)}, "less than or equal to"),
        ({"after": "not-a-cursor"}, "cannot be read"),
    ],
)
def test_filters_that_cannot_be_read_are_a_400_with_the_reason(manager_client, query, says):
    response = manager_client.get(PAGE, query)

    assert response.status_code == 400
    assert says in unescape(response.content.decode())


def test_a_customer_search_matching_too_many_asks_for_more(manager_client):
    ContactFactory.create_batch(audit_read.MAX_CUSTOMERS + 1, last_name="Smith")

    response = manager_client.get(PAGE, {"q": "smith"})

    assert response.status_code == 400 and "type more" in response.content.decode()


def test_older_entries_are_a_page_away_and_the_filters_stay(manager_client, monkeypatch):
    monkeypatch.setattr(audit_read, "PAGE_SIZE", 2)
    now = timezone.now()
    for i in range(3):
        AuditEntryFactory(at=now - timedelta(minutes=i), summary=f"entry {i}", action="payment.cash")

    first = manager_client.get(PAGE, {"kind": "payments"})
    (older,) = [a for a in first.content.decode().split('href="?')[1:] if 'rel="next"' in a]
    second = manager_client.get(PAGE + "?" + unescape(older.split('"')[0]))

    assert "entry 0" in first.content.decode() and "entry 2" not in first.content.decode()
    assert "entry 2" in second.content.decode() and "entry 0" not in second.content.decode()
    assert "kind=payments" in older and "Newest" in second.content.decode()


def test_the_roster_row_offers_the_booking_history_to_managers_only(manager_user, desk_user):
    booking = BookingFactory(session__start=timezone.now() + timedelta(hours=1))
    url = reverse("roster", args=[booking.session.ref])
    manager, desk = Client(), Client()
    manager.force_login(manager_user)
    desk.force_login(desk_user)

    managers = manager.get(url).content.decode()
    desks = desk.get(url).content.decode()

    assert f'href="/audit/?booking={booking.pk}"' in managers
    assert "/audit/" not in desks and "History and customer card" in desks


# --- the export -----------------------------------------------------------------------------------


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_the_csv_export_holds_the_screens_rows_with_formulas_neutralised(manager_client):
    booking = BookingFactory(contact__first_name="=HYPERLINK(evil)")
    entry_for(booking, summary="=1+1 took cash", action="payment.cash")
    entry_for(BookingFactory(), summary="not this one", action="attendance.mark")

    response = manager_client.get(EXPORT, {"kind": "payments", "format": "csv"})

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    header, *body = csv_rows(response)
    assert header == list(audit_read.EXPORT_HEADERS)
    assert len(body) == 1
    row = dict(zip(header, body[0], strict=True))
    assert row["What"] == "'=1+1 took cash" and row["Customer"].startswith("'=HYPERLINK")
    assert row["Kind"] == "Cash taken" and row["Code"] == "payment.cash"


def test_the_xlsx_export(manager_client):
    entry_for(BookingFactory(), summary="Took £12.00 cash", action="payment.cash")

    response = manager_client.get(EXPORT, {"format": "xlsx"})

    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = list(sheet.values)
    assert values[0] == audit_read.EXPORT_HEADERS and values[1][4] == "Took £12.00 cash"


@pytest.mark.parametrize(("query", "says"), [({"format": "pdf"}, "CSV or XLSX"), ({"kind": "gossip"}, "Kind")])
def test_an_export_with_a_bad_format_or_filter_is_a_400(manager_client, query, says):
    response = manager_client.get(EXPORT, query)

    assert response.status_code == 400 and says in unescape(response.content.decode())


def test_a_big_export_is_offered_in_the_background(manager_client, settings):
    settings.EXPORT_BACKGROUND_ROWS = 2
    for i in range(3):
        AuditEntryFactory(summary=f"e{i}")

    response = manager_client.get(EXPORT, {"format": "xlsx", "kind": ""})

    assert response.status_code == 200
    page = unescape(response.content.decode())
    assert "This export has <strong>3 rows</strong>" in page
    assert 'name="export" value="audit"' in page and 'name="format" value="xlsx"' in page
    assert 'name="query" value="kind="' in page
    assert not ExportJob.objects.exists()  # nothing is made until asked
