"""The action ledger (``services/ledger.py``): an idempotency key acts once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bookings_app.models import AuditEntry, Booking, Contact, DeskAction
from bookings_app.services import desk
from tests.services.conftest import World, key

pytestmark = pytest.mark.django_db

Status = DeskAction.Status
Kind = DeskAction.Kind


def test_the_same_idempotency_key_twice_makes_one_action(world: World, desk_user) -> None:
    jo = world.customer("Jo")
    world.mirror(jo)
    k = key()
    booking = desk.walk_in_create(user=desk_user, contact=world.contact(jo), session=world.session(), idempotency_key=k)
    again = desk.walk_in_create(user=desk_user, contact=world.contact(jo), session=world.session(), idempotency_key=k)
    assert again.pk == booking.pk
    pk = key()
    first = desk.payment_record(
        user=desk_user, booking=booking, method="CASH", amount=Decimal("12"), idempotency_key=pk
    )
    second = desk.payment_record(
        user=desk_user, booking=booking, method="CASH", amount=Decimal("12"), idempotency_key=pk
    )
    assert first.pk == second.pk
    assert DeskAction.objects.count() == 2
    assert Booking.objects.filter(contact__wix_id=jo["contact"]["id"]).count() == 1
    with pytest.raises(desk.BookingError) as excinfo:  # a new key: nothing left to pay
        desk.payment_record(user=desk_user, booking=booking, method="CASH", amount=Decimal("12"), idempotency_key=key())
    assert excinfo.value.code == "already_paid"
    with pytest.raises(desk.BookingError) as excinfo:  # the key of a walk-in, reused for a payment
        desk.payment_record(user=desk_user, booking=booking, method="CASH", amount=Decimal("1"), idempotency_key=k)
    assert excinfo.value.code == "duplicate_request"


# --- a key reused for something else is refused, loudly ------------------------------------------


def _refused(call, code: str = "key_reused") -> desk.BookingError:
    with pytest.raises(desk.BookingError) as excinfo:
        call()
    assert excinfo.value.code == code
    assert "already used for" in excinfo.value.message and "reload the page" in excinfo.value.message
    return excinfo.value


def test_a_walk_in_key_reused_for_another_new_customer_is_refused_not_answered_done(world: World, desk_user) -> None:
    """Issue 10: the panel's second new customer (Beta) came with the first one's (Alpha's) key
    and was answered as a repeat of Alpha: no customer, no booking, no message."""
    world.mirror()
    session = world.session()
    k = key()
    alpha = desk.walk_in_book(
        user=desk_user,
        new_customer=desk.NewCustomer(first_name="Alpha", last_name="One", email="alpha@example.com"),
        session=session,
        pay="LATER",
        idempotency_key=k,
    )
    before = (DeskAction.objects.count(), AuditEntry.objects.count(), Booking.objects.count())

    error = _refused(
        lambda: desk.walk_in_book(
            user=desk_user,
            new_customer=desk.NewCustomer(first_name="Beta", last_name="Two", email="beta@example.com"),
            session=session,
            pay="LATER",
            idempotency_key=k,
        )
    )

    assert "Alpha One" in error.message
    assert not Contact.objects.filter(first_name="Beta").exists()
    assert (DeskAction.objects.count(), AuditEntry.objects.count(), Booking.objects.count()) == before
    # The same form sent again (a double tap) is still answered with what it made, once.
    again = desk.walk_in_book(
        user=desk_user,
        new_customer=desk.NewCustomer(first_name="Alpha", last_name="One", email="alpha@example.com"),
        session=session,
        pay="LATER",
        idempotency_key=k,
    )
    assert again.pk == alpha.pk
    assert (DeskAction.objects.count(), AuditEntry.objects.count(), Booking.objects.count()) == before


def test_a_walk_in_key_reused_for_another_customer_or_group_size_is_refused(world: World, desk_user) -> None:
    jo, sam = world.customer("Jo"), world.customer("Sam")
    world.mirror(jo, sam)
    session = world.session()
    k = key()
    desk.walk_in_create(user=desk_user, contact=world.contact(jo), session=session, idempotency_key=k)

    _refused(
        lambda: desk.walk_in_create(user=desk_user, contact=world.contact(sam), session=session, idempotency_key=k)
    )
    _refused(
        lambda: desk.walk_in_create(
            user=desk_user, contact=world.contact(jo), session=session, participants=3, idempotency_key=k
        )
    )
    _refused(
        lambda: desk.walk_in_book(
            user=desk_user, contact=world.contact(sam), session=session, pay="CASH", idempotency_key=k
        )
    )

    assert not Booking.objects.filter(contact=world.contact(sam)).exists()
    assert DeskAction.objects.count() == 1


def test_a_payment_key_reused_for_another_booking_method_or_amount_is_refused(world: World, desk_user) -> None:
    jo, sam = world.customer("Jo"), world.customer("Sam")
    world.mirror(jo, sam)
    session = world.session()
    jo_booking = desk.walk_in_create(user=desk_user, contact=world.contact(jo), session=session, idempotency_key=key())
    sam_booking = desk.walk_in_create(
        user=desk_user, contact=world.contact(sam), session=session, idempotency_key=key()
    )
    k = key()
    paid = desk.payment_record(
        user=desk_user, booking=jo_booking, method="CASH", amount=Decimal("5"), idempotency_key=k
    )

    error = _refused(
        lambda: desk.payment_record(
            user=desk_user, booking=sam_booking, method="CASH", amount=Decimal("5"), idempotency_key=k
        )
    )
    assert "Jo Swimmer" in error.message
    _refused(
        lambda: desk.payment_record(
            user=desk_user, booking=jo_booking, method="CARD", amount=Decimal("5"), idempotency_key=k
        )
    )
    _refused(
        lambda: desk.payment_record(
            user=desk_user, booking=jo_booking, method="CASH", amount=Decimal("7"), idempotency_key=k
        )
    )
    _refused(lambda: desk.pay_later(user=desk_user, booking=sam_booking, idempotency_key=k), "duplicate_request")

    assert (
        desk.payment_record(
            user=desk_user, booking=jo_booking, method="CASH", amount=Decimal("5.00"), idempotency_key=k
        ).pk
        == paid.pk
    )
    assert DeskAction.objects.filter(kind=Kind.PAYMENT).count() == 1
    sam_booking.refresh_from_db()
    assert sam_booking.payment_status == Booking.PaymentStatus.UNDEFINED


def test_a_pay_later_or_plan_key_reused_on_another_booking_is_refused(world: World, desk_user) -> None:
    jo, sam = world.customer("Jo", credits=3), world.customer("Sam", credits=3)
    world.mirror(jo, sam)
    session = world.session()
    jo_booking = desk.walk_in_create(user=desk_user, contact=world.contact(jo), session=session, idempotency_key=key())
    sam_booking = desk.walk_in_create(
        user=desk_user, contact=world.contact(sam), session=session, idempotency_key=key()
    )
    later, plan = key(), key()
    desk.pay_later(user=desk_user, booking=jo_booking, idempotency_key=later)
    desk.plan_charge(user=desk_user, booking=sam_booking, balance=world.balance(sam), idempotency_key=plan)

    _refused(lambda: desk.pay_later(user=desk_user, booking=sam_booking, idempotency_key=later))
    _refused(
        lambda: desk.plan_charge(user=desk_user, booking=jo_booking, balance=world.balance(jo), idempotency_key=plan)
    )

    assert DeskAction.objects.filter(kind__in=(Kind.PAY_LATER, Kind.PLAN_CHARGE)).count() == 2
    assert world.balance(jo).remaining_credits == 3


def test_an_attendance_key_reused_for_another_booking_or_status_is_refused(world: World, desk_user) -> None:
    jo, sam = world.customer("Jo"), world.customer("Sam")
    world.mirror(jo, sam)
    session = world.session()
    jo_booking = desk.walk_in_create(user=desk_user, contact=world.contact(jo), session=session, idempotency_key=key())
    sam_booking = desk.walk_in_create(
        user=desk_user, contact=world.contact(sam), session=session, idempotency_key=key()
    )
    k = key()
    done = desk.attendance_mark(user=desk_user, booking=jo_booking, status="ATTENDED", idempotency_key=k)

    _refused(lambda: desk.attendance_mark(user=desk_user, booking=sam_booking, status="ATTENDED", idempotency_key=k))
    _refused(lambda: desk.attendance_mark(user=desk_user, booking=jo_booking, status="NOT_ATTENDED", idempotency_key=k))

    assert desk.attendance_mark(user=desk_user, booking=jo_booking, status="ATTENDED", idempotency_key=k).pk == done.pk
    assert DeskAction.objects.filter(kind=Kind.ATTENDANCE).count() == 1


def test_a_new_customer_key_reused_for_someone_else_is_refused(world: World, desk_user) -> None:
    k = key()
    first = desk.customer_create(user=desk_user, first_name="Alpha", email="alpha@example.com", idempotency_key=k)

    _refused(
        lambda: desk.customer_create(user=desk_user, first_name="Beta", email="beta@example.com", idempotency_key=k)
    )

    again = desk.customer_create(user=desk_user, first_name=" Alpha ", email="alpha@example.com", idempotency_key=k)
    assert again.pk == first.pk
    assert list(Contact.objects.values_list("first_name", flat=True)) == ["Alpha"]
