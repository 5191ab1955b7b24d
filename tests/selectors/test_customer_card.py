"""The customer card's reads: what it holds of a customer, and a fixed number of queries however
long their history; the check-in alerts of many customers at once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from bookings_app import money, selectors
from bookings_app.models import Attendance, Booking, CustomerNote, EmergencyContact, Payment
from tests import factories
from tests.selectors.helpers import NOW

pytestmark = pytest.mark.django_db

# contact, notes, plan orders, balances, upcoming, recent, attendance, visit totals, open bookings,
# payments, their order lines, desk money on its way
CARD_QUERIES = 12


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)


def _history(contact, *, visits: int, service=None):
    """``visits`` past classes, every other one checked in and paid cash through an order, the
    rest unpaid; and two coming classes."""
    service = service or factories.ServiceFactory(price=Decimal("12.00"))
    for i in range(visits):
        session = factories.SessionFactory(service=service, start=NOW - timedelta(days=i + 1))
        booking = factories.BookingFactory(session=session, contact=contact)
        if i % 2 == 0:
            booking.payment_status = Booking.PaymentStatus.PAID
            booking.save()
            line = factories.OrderLineItemFactory(booking=booking, order__contact=contact, order__balance=0)
            factories.PaymentFactory(order=line.order, method=Payment.Method.CASH)
            factories.AttendanceFactory(booking=booking, session=session)
    for days in (1, 8):
        factories.BookingFactory(
            session=factories.SessionFactory(service=service, start=NOW + timedelta(days=days)), contact=contact
        )
    return service


def test_the_card_reads_a_members_plans_visits_payments_and_notes():
    contact = factories.ContactFactory(first_name="Ann", last_name="Archer")
    balance = factories.BenefitBalanceFactory(member__contact=contact, remaining_credits=Decimal("4"))
    ended = factories.PlanOrderFactory(member=balance.member, plan_name="Summer pass", status="ENDED")
    _history(contact, visits=4)
    factories.CustomerNoteFactory(contact=contact, text="Likes the deep end")
    medical = factories.CustomerNoteFactory(contact=contact, text="Asthma: inhaler in bag", alert="MEDICAL")
    factories.CustomerNoteFactory(contact=contact, text="Old waiver note", alert="WAIVER", archived_at=NOW)
    factories.EmergencyContactFactory(contact=contact, name="Bob Archer", phone="+44 7700 900001")

    card = selectors.customer_card_read(contact_id=contact.pk)

    assert card.contact == contact and card.member == balance.member
    assert card.emergency.name == "Bob Archer"
    assert [n.text for n in card.notes] == [medical.text, "Likes the deep end"]  # alerts first
    assert [n.text for n in card.archived_notes] == ["Old waiver note"]
    assert card.alert_labels == [("MEDICAL", "Medical")]  # an archived alert alerts nobody
    assert {o.plan_name for o in card.plan_orders} == {"10-swim pass", ended.plan_name}
    active = next(o for o in card.plan_orders if o.pk == balance.plan_order_id)
    assert active.card_balances == [balance]
    assert [v.when for v in card.upcoming] == sorted(v.when for v in card.upcoming) and len(card.upcoming) == 2
    assert [v.when.date() for v in card.recent] == [(NOW - timedelta(days=d)).date() for d in (1, 2, 3, 4)]
    assert [v.attendance for v in card.recent] == ["ATTENDED", "NOT_SET", "ATTENDED", "NOT_SET"]
    assert card.visits_attended == 2 and card.last_attended == NOW - timedelta(days=1)
    assert len(card.payments) == 2 and {p.payment.method for p in card.payments} == {"CASH"}
    assert len(card.open_bookings) == 6


def test_what_they_owe_is_the_desks_rule_over_their_open_bookings():
    contact = factories.ContactFactory()
    _history(contact, visits=4)  # 2 unpaid past visits, 2 coming ones, all at £12
    factories.BookingFactory(
        contact=contact, status=Booking.Status.CANCELED, session__start=NOW - timedelta(days=9)
    )  # a cancelled booking owes nothing

    card = selectors.customer_card_read(contact_id=contact.pk)
    due = money.amounts_due(card.open_bookings)

    assert sorted(due.values()) == [Decimal("0")] * 2 + [Decimal("12.00")] * 4
    assert Booking.Status.CANCELED not in {b.status for b in card.open_bookings}


@pytest.mark.parametrize("visits", [3, 40])
def test_the_card_costs_the_same_queries_however_long_the_history(visits, django_assert_num_queries):
    contact = factories.ContactFactory()
    factories.BenefitBalanceFactory(member__contact=contact)
    _history(contact, visits=visits)
    factories.CustomerNoteFactory.create_batch(3, contact=contact, alert="PAYMENT")
    factories.DeskActionFactory(
        booking=Booking.objects.filter(contact=contact).first(), params={"method": "CASH", "amount": "12.00"}
    )

    with django_assert_num_queries(CARD_QUERIES):
        card = selectors.customer_card_read(contact_id=contact.pk)
        card.alerts  # noqa: B018 — from what is loaded
        [(v.when, v.booking.service.name, v.attendance) for v in (*card.upcoming, *card.recent)]
        [(p.payment.order.number, p.what) for p in card.payments]
        [(a.booking.service.currency, a.booking.session.start) for a in card.payments_on_the_way]
        [(o.plan_name, [b.remaining_credits for b in o.card_balances]) for o in card.plan_orders]
        [(n.text, n.updated_by) for n in card.notes]
    with django_assert_num_queries(2):  # the desk's rule: order lines, desk actions on their way
        money.amounts_due(card.open_bookings)


def test_a_new_contact_who_is_not_a_member_costs_fewer_queries(django_assert_max_num_queries):
    contact = factories.ContactFactory()

    with django_assert_max_num_queries(CARD_QUERIES - 2):
        card = selectors.customer_card_read(contact_id=contact.pk)

    assert card.member is None and card.plan_orders == [] and card.emergency is None


def test_an_unknown_contact_has_no_card():
    assert selectors.customer_card_read(contact_id=987654) is None


def test_a_course_booking_counts_the_sessions_it_was_checked_in_at():
    contact = factories.ContactFactory()
    course = factories.ServiceFactory(type="COURSE")
    booking = factories.BookingFactory(session=None, service=course, contact=contact)
    for days in (14, 7):
        session = factories.SessionFactory(service=course, start=NOW - timedelta(days=days))
        factories.AttendanceFactory(booking=booking, session=session)

    card = selectors.customer_card_read(contact_id=contact.pk)

    assert [(v.booking, v.sessions_attended, v.when) for v in card.recent] == [(booking, 2, None)]


def test_a_plan_payment_says_which_line_it_paid_for():
    contact = factories.ContactFactory()
    order = factories.OrderFactory(contact=contact)
    mine = factories.OrderLineItemFactory(order=order, booking__contact=contact, name="Dawn swim")
    factories.OrderLineItemFactory(order=order, booking__contact=contact, name="Sunset swim")
    factories.PaymentFactory(order=order, method=Payment.Method.PLAN, line_item_id=mine.line_item_id)

    card = selectors.customer_card_read(contact_id=contact.pk)

    assert [p.what for p in card.payments] == ["Dawn swim"]


def test_alerts_of_many_customers_in_one_query(django_assert_num_queries):
    ann, bo, cy = factories.ContactFactory.create_batch(3)
    factories.CustomerNoteFactory(contact=ann, alert="PAYMENT")
    factories.CustomerNoteFactory(contact=ann, alert="MEDICAL")
    factories.CustomerNoteFactory(contact=ann, alert="MEDICAL")
    factories.CustomerNoteFactory(contact=bo, alert="WAIVER", archived_at=NOW)
    factories.CustomerNoteFactory(contact=cy, alert="")

    with django_assert_num_queries(1):
        alerts = selectors.customer_alerts(contact_ids=[ann.pk, bo.pk, cy.pk])

    assert alerts == {ann.pk: [("MEDICAL", "Medical"), ("PAYMENT", "Ask about payment")]}


def test_the_sign_in_sheet_reads_emergency_contacts_and_alert_texts_in_one_query(django_assert_num_queries):
    ann, bo, cy = factories.ContactFactory.create_batch(3)
    factories.EmergencyContactFactory(contact=ann)
    factories.CustomerNoteFactory(contact=bo, alert="OTHER", text="Ask for the new waiver")
    factories.CustomerNoteFactory(contact=bo, alert="MEDICAL", text="Epilepsy")
    factories.CustomerNoteFactory(contact=bo, alert="WAIVER", text="Old", archived_at=NOW)
    factories.CustomerNoteFactory(contact=cy, alert="", text="Just a note")

    with django_assert_num_queries(1):
        notes = selectors.sign_in_sheet_notes(contact_ids=[ann.pk, bo.pk, cy.pk])

    assert set(notes) == {ann.pk, bo.pk}
    emergency = EmergencyContact.objects.get(contact=ann)
    assert (notes[ann.pk].emergency.name, notes[ann.pk].emergency.phone) == (emergency.name, emergency.phone)
    assert notes[ann.pk].alerts == []
    assert notes[bo.pk].emergency is None
    assert [n.text for n in notes[bo.pk].alerts] == ["Epilepsy", "Ask for the new waiver"]
    assert notes[bo.pk].alerts[0].get_alert_display() == "Medical"


def test_attendance_labels_read_plainly():
    assert selectors.Visit(booking=Booking(), attendance=Attendance.Status.NOT_ATTENDED).attendance_label == "No-show"
    assert CustomerNote.Alert.PAYMENT.label == "Ask about payment"
