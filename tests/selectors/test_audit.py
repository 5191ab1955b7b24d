"""The audit trail, read (``selectors.audit``): each entry with the desk action it made (state,
attempts), the Wix ids it touched and before → after; filters by person, customer, booking,
session, kind and date; keyset pages; a fixed number of queries; the export's rows are the
screen's rows."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings_app.models import AuditEntry, DeskAction
from bookings_app.selectors import audit
from bookings_app.services import desk
from bookings_app.services.audit import audit_record
from tests.factories import (
    AuditEntryFactory,
    BookingFactory,
    ContactFactory,
    DeskActionFactory,
    OrderFactory,
    OrderLineItemFactory,
    SessionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

Filters = audit.AuditFilters


def entry_for(booking, *, action="payment.cash", **fields) -> AuditEntry:
    return AuditEntryFactory(object_type="booking", object_id=str(booking.pk), action=action, **fields)


def rows(filters: Filters | None = None) -> list[audit.AuditRow]:
    return audit.audit_page(filters=filters or Filters()).rows


# --- one entry, with what it touched --------------------------------------------------------------


def test_a_desk_payment_is_read_with_its_desk_action_and_before_after(staff_roles):
    user = UserFactory(username="jo", roles=["Front desk"])
    booking = BookingFactory(contact__first_name="Ann", contact__last_name="Archer", wix_id=None, pending_sync=True)
    action = desk.payment_record(
        user=user, booking=booking, method="CASH", amount=Decimal("12"), idempotency_key="k-audit-1"
    )

    (row,) = rows()

    assert row.entry.actor == "jo" and row.entry.user == user
    assert row.what == "Cash taken" and row.entry.summary == "Took £12.00 cash from Ann Archer"
    assert row.booking == booking and str(row.contact) == "Ann Archer" and row.session == booking.session
    assert [(c.field, c.before, c.after) for c in row.changes] == [
        ("payment status", "Not paid", "Paid"),
        ("amount", None, "12"),
    ]
    (linked,) = row.actions
    assert (linked.pk, linked.status, linked.status_label, linked.attempts) == (
        action.pk,
        "QUEUED",
        "Waiting for Wix",
        0,
    )


def test_the_wix_ids_an_action_touched_come_from_its_steps():
    booking = BookingFactory(wix_id="bk-1")
    action = DeskActionFactory(
        booking=booking,
        status=DeskAction.Status.SYNCED,
        attempts=2,
        steps={"order_id": "ord-1", "payment_ids": ["pay-1", "pay-2"], "charged": True, "line_item_id": "li-1"},
    )
    entry_for(booking, after={"payment_status": "PAID", "action": action.pk})

    (row,) = rows()

    assert row.wix_ids == [
        ("booking", "bk-1"),
        ("order", "ord-1"),
        ("payment", "pay-1"),
        ("payment", "pay-2"),
        ("order line", "li-1"),
    ]
    assert row.actions[0].status_label == "In Wix" and row.actions[0].attempts == 2


def test_an_entry_of_a_settle_batch_is_linked_to_the_batch_actions_of_its_booking():
    booking, other = BookingFactory(), BookingFactory()
    mine = DeskActionFactory(booking=booking, batch_id="b-1", kind="ATTENDANCE")
    DeskActionFactory(booking=other, batch_id="b-1")
    entry_for(booking, after={"payment_status": "PAID", "batch": "b-1"})

    (row,) = rows()

    assert [a.pk for a in row.actions] == [mine.pk]


def test_a_change_wix_made_names_the_booking_by_its_wix_id():
    booking = BookingFactory(wix_id="wix-b-9", contact__first_name="Bo")
    AuditEntryFactory(
        actor="sync",
        action="booking.changed_in_wix",
        object_type="booking",
        object_id="wix-b-9",
        before={"payment_status": "NOT_PAID"},
        after={"payment_status": "PAID"},
    )

    (row,) = rows()

    assert row.booking == booking and row.what == "Booking changed in Wix"
    assert row.wix_ids == [("booking", "wix-b-9")]


def test_words_for_any_action_code():
    assert audit.kind_label("course.cancel_sessions") == "Course: cancel sessions"
    assert audit.kind_label("order.changed_in_wix") == "Order changed in Wix"
    assert [(c.field, c.before, c.after) for c in audit.changes({"a": 1, "same": 2}, {"same": 2, "b": 3})] == [
        ("a", 1, None),
        ("b", None, 3),
    ]
    assert audit.changes(None, None) == []


# --- filters --------------------------------------------------------------------------------------


def test_by_person_a_staff_member_or_an_automatic_actor(staff_roles):
    jo, al = UserFactory(username="jo"), UserFactory(username="al")
    mine = audit_record(user=jo, action="payment.cash", obj_type="booking", obj_id=1, summary="Jo's")
    audit_record(user=al, action="payment.cash", obj_type="booking", obj_id=1, summary="Al's")
    synced = audit_record(user="sync", action="booking.changed_in_wix", obj_type="booking", obj_id="x", summary="s")

    assert [r.entry for r in rows(Filters(who=str(jo.pk)))] == [mine]
    assert [r.entry for r in rows(Filters(who="sync"))] == [synced]
    assert {("jo", "jo"), ("sync", "sync (automatic)")} <= {
        (label.split()[0], label) for _, label in audit.audit_people()
    }


def test_by_kind():
    pay = AuditEntryFactory(action="payment.plan")
    AuditEntryFactory(action="attendance.mark")
    note = AuditEntryFactory(action="customer_note.add", object_type="contact")

    assert [r.entry for r in rows(Filters(kind="payments"))] == [pay]
    assert [r.entry for r in rows(Filters(kind="customers"))] == [note]


def test_by_date_in_the_business_time_zone():
    tz = timezone.get_current_timezone()
    day = datetime(2026, 6, 1, tzinfo=tz)
    inside = AuditEntryFactory(at=day.replace(hour=23, minute=59))
    AuditEntryFactory(at=day + timedelta(days=1))
    AuditEntryFactory(at=day - timedelta(seconds=1))

    assert [r.entry for r in rows(Filters(date_from=day.date(), date_to=day.date()))] == [inside]


def test_by_booking_every_entry_about_it_its_actions_and_its_order():
    booking = BookingFactory(wix_id="wb-1")
    action = DeskActionFactory(booking=booking)
    order = OrderFactory(wix_id="wo-1")
    OrderLineItemFactory(booking=booking, order=order)
    wanted = [
        entry_for(booking),
        AuditEntryFactory(object_type="booking", object_id="wb-1", action="booking.changed_in_wix"),
        AuditEntryFactory(object_type="desk_action", object_id=str(action.pk), action="desk.retry"),
        AuditEntryFactory(object_type="order", object_id="wo-1", action="order.changed_in_wix"),
    ]
    entry_for(BookingFactory())  # someone else's

    assert {r.entry.pk for r in rows(Filters(booking=booking.pk))} == {e.pk for e in wanted}


def test_by_customer_their_bookings_and_their_own_entries_by_pk_or_by_name():
    ann = ContactFactory(first_name="Ann", last_name="Archer")
    booking = BookingFactory(contact=ann)
    wanted = {
        entry_for(booking).pk,
        AuditEntryFactory(object_type="contact", object_id=str(ann.pk), action="customer_note.add").pk,
    }
    entry_for(BookingFactory(contact__first_name="Bo"))

    assert {r.entry.pk for r in rows(Filters(customer=ann.pk))} == wanted
    page = audit.audit_page(filters=Filters(customer_text="archer"))
    assert {r.entry.pk for r in page.rows} == wanted and page.customers == [ann]


def test_a_customer_search_matching_too_many_asks_for_more():
    ContactFactory.create_batch(audit.MAX_CUSTOMERS + 1, last_name="Smith")

    with pytest.raises(audit.AuditFilterError, match="type more"):
        rows(Filters(customer_text="smith"))


def test_by_session_its_own_entries_and_its_roster_bookings_course_ones_too():
    session = SessionFactory(service__type="COURSE")
    on_it = BookingFactory(session=session)
    on_course = BookingFactory(session=None, service=session.service)
    wanted = {
        entry_for(on_it).pk,
        entry_for(on_course).pk,
        AuditEntryFactory(object_type="session", object_id=str(session.pk), action="settle.commit").pk,
    }
    entry_for(BookingFactory())

    assert {r.entry.pk for r in rows(Filters(session=session.pk))} == wanted
    assert rows(Filters(session=999999)) == []


# --- pages and queries ----------------------------------------------------------------------------


def test_pages_are_keyset_newest_first_even_with_equal_times(monkeypatch):
    monkeypatch.setattr(audit, "PAGE_SIZE", 2)
    moment = timezone.now()
    made = [AuditEntryFactory(at=moment) for _ in range(3)] + [AuditEntryFactory(at=moment - timedelta(hours=1))]

    first = audit.audit_page(filters=Filters())
    second = audit.audit_page(filters=Filters(), after=audit.cursor_parse(first.more))

    assert [r.entry.pk for r in first.rows] == [made[2].pk, made[1].pk]
    assert [r.entry.pk for r in second.rows] == [made[0].pk, made[3].pk]
    assert second.more == ""


@pytest.mark.parametrize("bad", ["", "x", "2026-01-01T00:00:00|1", "2026-01-01T00:00:00+00:00|-1", "z" * 81])
def test_a_cursor_that_cannot_be_read_is_none(bad):
    assert audit.cursor_parse(bad) is None


def plant(n: int) -> None:
    for _ in range(n):
        booking = BookingFactory()
        action = DeskActionFactory(booking=booking, steps={"order_id": "o"})
        entry_for(booking, after={"action": action.pk})
        AuditEntryFactory(object_type="contact", object_id=str(booking.contact_id))
        DeskActionFactory(booking=booking, batch_id=f"b{booking.pk}")
        entry_for(booking, after={"batch": f"b{booking.pk}"})


def test_a_page_costs_the_same_queries_however_many_entries():
    plant(2)
    with CaptureQueriesContext(connection) as few:
        audit.audit_page(filters=Filters())
    plant(15)
    with CaptureQueriesContext(connection) as many:
        page = audit.audit_page(filters=Filters())

    assert len(page.rows) == audit.PAGE_SIZE
    assert len(many.captured_queries) == len(few.captured_queries) <= 5


# --- the export -----------------------------------------------------------------------------------


def test_the_export_rows_are_the_screen_rows_in_chunks(monkeypatch):
    monkeypatch.setattr(audit, "EXPORT_CHUNK", 3)
    plant(3)

    exported = list(audit.audit_export_rows(Filters()))
    screen = [audit.export_cells(r) for r in rows()]

    assert exported == screen and len(exported) == 9 == audit.audit_export_count(Filters())
    assert len(exported[0]) == len(audit.EXPORT_HEADERS)
