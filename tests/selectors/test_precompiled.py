"""Lookups by lists of ids (``ids_in``) and queries compiled once (``Precompiled``): the same
answers as the querysets they stand for, run as usual, however often and with whatever ids."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.db.models import Count, Q
from django.test.utils import CaptureQueriesContext

from bookings_app.models import Attendance, BenefitBalance, Booking, Contact, DeskAction
from bookings_app.selectors.precompiled import Ids, Precompiled, ids_in, precompiled
from tests import factories

pytestmark = pytest.mark.django_db


def test_ids_in_finds_what_field_in_finds():
    contacts = factories.ContactFactory.create_batch(4)
    wanted = [contacts[0].pk, contacts[2].pk, contacts[2].pk, 10**12]  # a repeat, and an id of nobody
    assert set(Contact.objects.filter(ids_in("pk", wanted))) == {contacts[0], contacts[2]}
    assert list(Contact.objects.filter(ids_in("pk", []))) == []
    assert set(Contact.objects.exclude(ids_in("pk", wanted))) == {contacts[1], contacts[3]}
    # a path through a relation, as the roster's plans are looked up by their member's contact
    member = factories.MemberFactory(contact=contacts[1])
    balance = factories.BenefitBalanceFactory(member=member)
    factories.BenefitBalanceFactory()
    assert list(BenefitBalance.objects.filter(ids_in("member__contact_id", {contacts[1].pk}))) == [balance]


def test_ids_in_sends_the_ids_as_one_parameter_on_postgresql():
    factories.ContactFactory()
    with CaptureQueriesContext(connection) as ctx:
        list(Contact.objects.filter(ids_in("pk", range(1, 200))))
    sql = ctx.captured_queries[0]["sql"]
    if connection.vendor == "postgresql":
        assert "= ANY(" in sql and " IN (" not in sql
    else:
        assert " IN (" in sql


@precompiled
def _bookings_of_contacts():
    return Booking.objects.filter(ids_in("contact_id", Ids("contacts"))).select_related("contact").order_by("pk")


@precompiled
def _attendance():
    return (
        Attendance.objects.filter(ids_in("booking_id", Ids("bookings")), ids_in("session_id", Ids("session")))
        .values_list("booking_id", "status", "number_of_attendees")
        .order_by("booking_id")
    )


def test_a_precompiled_query_answers_as_its_queryset_whatever_the_ids():
    contacts = factories.ContactFactory.create_batch(3)
    bookings = [factories.BookingFactory(contact=c) for c in contacts for _ in range(2)]
    for ids in ([contacts[0].pk], [contacts[1].pk, contacts[2].pk], [], [contacts[2].pk, 10**12], [contacts[0].pk]):
        usual = list(Booking.objects.filter(contact_id__in=ids).select_related("contact").order_by("pk"))
        with CaptureQueriesContext(connection) as ctx:
            found = _bookings_of_contacts.run(contacts=ids)
        assert found == usual
        assert len(ctx.captured_queries) == 1  # the contact came with its booking (select_related)
        assert [b.contact.last_name for b in found] == [b.contact.last_name for b in usual]
        assert all(b.pk and not b._state.adding for b in found)  # instances as the database gave them
    assert {b.pk for b in _bookings_of_contacts.run(contacts=[c.pk for c in contacts])} == {b.pk for b in bookings}


def test_a_precompiled_values_query_and_several_slots():
    session, other = factories.SessionFactory(), factories.SessionFactory()
    booked = [factories.BookingFactory(session=session) for _ in range(3)]
    factories.AttendanceFactory(booking=booked[0], session=session, status="ATTENDED", number_of_attendees=2)
    factories.AttendanceFactory(booking=booked[1], session=session, status="NOT_ATTENDED")
    factories.AttendanceFactory(booking=booked[1], session=other, status="ATTENDED")
    ids = [b.pk for b in booked]
    assert _attendance.run(bookings=ids, session=[session.pk]) == [
        (booked[0].pk, "ATTENDED", 2),
        (booked[1].pk, "NOT_ATTENDED", 1),
    ]
    assert _attendance.run(bookings=ids, session=[other.pk]) == [(booked[1].pk, "ATTENDED", 1)]
    assert _attendance.run(bookings=ids[2:], session=[session.pk]) == []


def test_a_precompiled_query_with_annotations_and_deferred_fields():
    action = factories.DeskActionFactory(steps={"wix": "answer"}, params={"amount": "12.00"})
    query = Precompiled(
        lambda: (
            DeskAction.objects.filter(ids_in("booking_id", Ids("bookings")))
            .defer("steps")
            .annotate(n=Count("pk"), is_queued=Q(status=DeskAction.Status.QUEUED))
            .order_by("pk")
        )
    )
    (found,) = query.run(bookings=[action.booking_id])
    assert found.n == 1 and found.params == {"amount": "12.00"} and found.is_queued is True
    assert found.get_deferred_fields() == {"steps"}
    assert found.steps == {"wix": "answer"}  # still there when read (one query)


@pytest.mark.django_db(transaction=True)
def test_a_precompiled_query_runs_on_each_threads_own_connection():
    contact = factories.ContactFactory()
    factories.BookingFactory(contact=contact)
    _bookings_of_contacts.run(contacts=[contact.pk])  # compiled here, on this thread's connection
    found: list[object] = []

    def elsewhere() -> None:
        try:
            found.extend(_bookings_of_contacts.run(contacts=[contact.pk]))
        finally:
            connection.close()

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    assert [b.contact_id for b in found] == [contact.pk]
