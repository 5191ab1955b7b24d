"""Taking desk actions back end to end: needs attention (override, remove, cash instead), undo, reverse, refund."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings_app.models import Attendance, AuditEntry, BenefitBalance, Booking, DeskAction
from bookings_app.services import desk
from tests import factories
from tests.services.conftest import World, key
from tests.services.desk.helpers import assert_all_synced, full_class, settle_roster, settle_session

pytestmark = pytest.mark.django_db

Status = DeskAction.Status
Kind = DeskAction.Kind


def test_class_filled_online_meanwhile_needs_attention_then_override_or_remove(
    world: World, desk_user, manager_user
) -> None:
    full_class(world, 2)
    b, c, online1, online2 = world.customer("Ben"), world.customer("Cat"), world.customer("On"), world.customer("Line")
    world.mirror(b, c)
    session = world.session()
    first = desk.walk_in_create(user=desk_user, contact=world.contact(b), session=session, idempotency_key=key())
    paid = desk.payment_record(
        user=desk_user, booking=first, method="CASH", amount=Decimal("12"), idempotency_key=key()
    )
    second = desk.walk_in_create(user=desk_user, contact=world.contact(c), session=session, idempotency_key=key())
    world.online_booking(online1, order=False)  # meanwhile, online: the class is full in Wix
    world.online_booking(online2, order=False)

    world.push()

    walk_in = DeskAction.objects.get(booking=first, kind="WALK_IN")
    assert walk_in.status == Status.NEEDS_ATTENTION
    assert walk_in.error_code == "SESSION_CAPACITY_EXCEEDED"
    assert walk_in.message == "The class filled up online — override as manager, or remove."
    assert DeskAction.objects.get(pk=paid.pk).status == Status.QUEUED  # waits for its walk-in
    first.refresh_from_db()
    assert first.pending_sync and first.wix_id is None

    with pytest.raises(desk.BookingError) as excinfo:
        desk.action_resolve(user=desk_user, action=walk_in, choice="override")
    assert excinfo.value.code == "forbidden"
    desk.action_resolve(user=manager_user, action=walk_in, choice="override")
    world.push()
    first.refresh_from_db()
    assert DeskAction.objects.get(pk=walk_in.pk).status == Status.SYNCED
    assert DeskAction.objects.get(pk=paid.pk).status == Status.SYNCED
    assert world.wix_booking(first)["paymentStatus"] == "PAID"

    other = DeskAction.objects.get(booking=second, kind="WALK_IN")
    assert other.status == Status.NEEDS_ATTENTION
    assert desk.action_resolve(user=desk_user, action=other, choice="remove") is None
    second.refresh_from_db()
    assert second.status == Booking.Status.CANCELED and not second.pending_sync
    assert DeskAction.objects.get(pk=other.pk).status == Status.REMOVED
    assert AuditEntry.objects.filter(action="desk.remove").exists()


def test_plan_out_of_credit_in_wix_needs_attention_then_cash_instead(world: World, desk_user) -> None:
    sam = world.customer("Sam", credits=1)
    world.mirror(sam)
    with world.sb.state.transaction():  # the last credit was used online after the mirror read it
        balance = world.sb.state.edit("balances", sam["sold"]["pool"]["id"])
        balance["amount"]["available"] = "0"
        world.sb.state.put("balances", balance)
    booking = desk.walk_in_create(
        user=desk_user, contact=world.contact(sam), session=world.session(), idempotency_key=key()
    )
    charge = desk.plan_charge(user=desk_user, booking=booking, balance=world.balance(sam), idempotency_key=key())

    world.push()

    charge.refresh_from_db()
    assert charge.status == Status.NEEDS_ATTENTION
    assert charge.message == "Not enough credits left on 10 Swim Pass — take cash instead?"
    cash = desk.action_resolve(user=desk_user, action=charge, choice="cash_instead")
    assert cash is not None and cash.kind == "PAYMENT" and cash.params["amount"] == "12.00"
    assert world.balance(sam).remaining_credits == 1  # the local credit came back

    world.push()
    booking.refresh_from_db()
    assert DeskAction.objects.get(pk=cash.pk).status == Status.SYNCED
    assert world.wix_booking(booking)["paymentStatus"] == "PAID"
    assert world.wix_credits(sam) == "0"


def test_existing_order_plan_charge_without_credit_needs_attention(world: World, desk_user) -> None:
    sam = world.customer("Sam", credits=1)
    online = world.online_booking(sam)
    world.mirror(sam)
    with world.sb.state.transaction():
        balance = world.sb.state.edit("balances", sam["sold"]["pool"]["id"])
        balance["amount"]["available"] = "0"
        world.sb.state.put("balances", balance)
    charge = desk.plan_charge(
        user=desk_user, booking=world.booking(online), balance=world.balance(sam), idempotency_key=key()
    )
    world.push()
    charge.refresh_from_db()
    assert charge.status == Status.NEEDS_ATTENTION and charge.error_code == "NOT_ENOUGH_BALANCE"
    assert "take cash instead" in charge.message


def test_undo_within_the_window_restores_the_mirror_and_nothing_reaches_wix(world: World, desk_user) -> None:
    sam = world.customer("Sam", credits=3)
    world.mirror(sam)
    session = world.session()
    booking = desk.walk_in_create(user=desk_user, contact=world.contact(sam), session=session, idempotency_key=key())
    charge = desk.plan_charge(user=desk_user, booking=booking, balance=world.balance(sam), idempotency_key=key())
    desk.attendance_mark(user=desk_user, booking=booking, status="ATTENDED", idempotency_key=key())
    assert world.balance(sam).remaining_credits == 2

    desk.action_undo(user=desk_user, action=charge)
    booking.refresh_from_db()
    assert booking.payment_status == Booking.PaymentStatus.UNDEFINED
    assert world.balance(sam).remaining_credits == 3
    assert DeskAction.objects.get(pk=charge.pk).status == Status.UNDONE

    walk_in = DeskAction.objects.get(booking=booking, kind="WALK_IN")
    desk.action_undo(user=desk_user, action=walk_in)  # takes the check-in with it
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELED and not booking.pending_sync
    assert not Attendance.objects.filter(booking=booking).exists()
    assert set(DeskAction.objects.values_list("status", flat=True)) == {Status.UNDONE}

    calls = world.calls()
    world.push()
    assert world.calls() == calls
    assert world.sb.state.all("bookings") == []


def test_undo_after_the_window_is_refused(world: World, desk_user, settings) -> None:
    jo = world.customer("Jo")
    world.mirror(jo)
    settings.DESK_UNDO_SECONDS = 0
    booking = desk.walk_in_create(
        user=desk_user, contact=world.contact(jo), session=world.session(), idempotency_key=key()
    )
    action = DeskAction.objects.get(booking=booking)
    with pytest.raises(desk.BookingError) as excinfo:
        desk.action_undo(user=desk_user, action=action)
    assert excinfo.value.code == "too_late_to_undo"
    world.push()
    with pytest.raises(desk.BookingError) as excinfo:
        desk.action_undo(user=desk_user, action=action)
    assert excinfo.value.code == "too_late_to_undo"


def test_reverse_after_sync_cancels_the_booking_and_voids_the_plan_charge(
    world: World, desk_user, manager_user
) -> None:
    sam = world.customer("Sam", credits=3)
    world.mirror(sam)
    booking = desk.walk_in_create(
        user=desk_user, contact=world.contact(sam), session=world.session(), idempotency_key=key()
    )
    charge = desk.plan_charge(user=desk_user, booking=booking, balance=world.balance(sam), idempotency_key=key())
    world.push()
    assert world.wix_credits(sam) == "2"

    with pytest.raises(desk.BookingError) as excinfo:
        desk.action_reverse(user=desk_user, action=charge, idempotency_key=key())
    assert excinfo.value.code == "forbidden"
    void = desk.action_reverse(user=manager_user, action=DeskAction.objects.get(pk=charge.pk), idempotency_key=key())
    assert void.kind == "VOID_PLAN_CHARGE"
    assert world.balance(sam).remaining_credits == 3
    with pytest.raises(desk.BookingError) as excinfo:
        desk.action_reverse(user=manager_user, action=DeskAction.objects.get(pk=charge.pk), idempotency_key=key())
    assert excinfo.value.code == "already_reversed"
    world.push()
    assert DeskAction.objects.get(pk=void.pk).status == Status.SYNCED
    assert world.wix_credits(sam) == "3"
    booking.refresh_from_db()
    assert world.wix_booking(booking)["paymentStatus"] == "NOT_PAID"

    walk_in = DeskAction.objects.get(booking=booking, kind="WALK_IN")
    cancel = desk.action_reverse(user=desk_user, action=walk_in, idempotency_key=key())
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELED and booking.pending_sync
    world.push()
    assert DeskAction.objects.get(pk=cancel.pk).status == Status.SYNCED
    assert world.wix_booking(booking)["status"] == "CANCELED"
    assert AuditEntry.objects.filter(action__in=["booking.cancel", "payment.void_plan"]).count() == 2


@pytest.mark.usefixtures("booking_only")
def test_booking_only_void_gives_the_credit_back_and_refund_marks_refunded(
    world: World, desk_user, manager_user
) -> None:
    sam, jo = world.customer("Sam", credits=3), world.customer("Jo")
    world.mirror(sam, jo)
    session = world.session()
    b1 = desk.walk_in_create(user=desk_user, contact=world.contact(sam), session=session, idempotency_key=key())
    charge = desk.plan_charge(user=desk_user, booking=b1, balance=world.balance(sam), idempotency_key=key())
    b2 = desk.walk_in_create(user=desk_user, contact=world.contact(jo), session=session, idempotency_key=key())
    cash = desk.payment_record(user=desk_user, booking=b2, method="CASH", amount=Decimal("12"), idempotency_key=key())
    world.push()
    assert world.wix_credits(sam) == "2"

    desk.action_reverse(user=manager_user, action=DeskAction.objects.get(pk=charge.pk), idempotency_key=key())
    desk.action_reverse(user=manager_user, action=DeskAction.objects.get(pk=cash.pk), idempotency_key=key())
    world.push()

    assert_all_synced()
    assert world.wix_credits(sam) == "3"
    assert world.wix_booking(Booking.objects.get(pk=b1.pk))["paymentStatus"] == "NOT_PAID"
    assert world.wix_booking(Booking.objects.get(pk=b2.pk))["paymentStatus"] == "REFUNDED"


def test_refund_of_a_paid_order_is_recorded_in_wix_as_money_given_back(world: World, desk_user, manager_user) -> None:
    jo = world.customer("Jo")
    world.mirror(jo)
    booking = desk.walk_in_create(
        user=desk_user, contact=world.contact(jo), session=world.session(), idempotency_key=key()
    )
    cash = desk.payment_record(
        user=desk_user, booking=booking, method="CASH", amount=Decimal("12"), idempotency_key=key()
    )
    world.push()
    refund = desk.action_reverse(user=manager_user, action=DeskAction.objects.get(pk=cash.pk), idempotency_key=key())
    world.push()
    refund.refresh_from_db()
    assert refund.status == Status.SYNCED, refund.message
    booking.refresh_from_db()
    assert booking.payment_status == Booking.PaymentStatus.REFUNDED
    order = world.wix_order(booking)
    assert order["paymentStatus"] == "FULLY_REFUNDED"
    refunds = world.sb.state.get("order_transactions", order["id"])["refunds"]
    assert [t["externalRefund"] for r in refunds for t in r["transactions"]] == [True]
    assert AuditEntry.objects.filter(action="payment.refund").get().summary == "Refunded £12.00 cash to Jo Swimmer"


# --- a batch (a settle, a check in all) taken back as one --------------------------------------------


def _desk_state(session) -> dict:
    """Everything a settle can change, by booking: to compare before a settle and after its undo."""
    bookings = Booking.objects.filter(session=session).order_by("pk")
    return {
        "bookings": [(b.pk, b.status, b.payment_status, b.selected_payment_option, b.pending_sync) for b in bookings],
        "attendance": sorted(
            Attendance.objects.filter(session=session).values_list("booking_id", "status", "number_of_attendees")
        ),
        "credits": sorted(BenefitBalance.objects.values_list("pk", "remaining_credits")),
        "actions": sorted(DeskAction.objects.exclude(batch_id__gt="").values_list("pk", "status")),
    }


def test_a_settle_is_undone_as_one_within_its_window(desk_user) -> None:
    session = settle_session(1)
    choices = settle_roster(session, 33)
    before = _desk_state(session)
    k = key("settle")
    actions = desk.settle_commit(user=desk_user, session=session, rows=choices, idempotency_key=k)
    assert _desk_state(session) != before

    undone = desk.batch_undo(user=desk_user, session=session, batch_id=k)

    assert sorted(a.pk for a in undone) == sorted(a.pk for a in actions)
    assert set(DeskAction.objects.filter(batch_id=k).values_list("status", flat=True)) == {Status.UNDONE}
    assert _desk_state(session) == before
    [entry] = AuditEntry.objects.filter(action="desk.undo_batch")
    assert entry.after == {"batch": k, "undone": len(actions)}
    assert not AuditEntry.objects.filter(action="desk.undo").exists()  # one entry, not one per row
    assert desk.batch_undo(user=desk_user, session=session, batch_id=k) == []  # twice: nothing more
    assert AuditEntry.objects.filter(action="desk.undo_batch").count() == 1

    # Settled again with a new form: the same rows, as if the first had never been.
    again = desk.settle_commit(user=desk_user, session=session, rows=choices, idempotency_key=key("settle"))
    assert len(again) == len(actions)


def test_undoing_a_settle_costs_the_same_queries_for_10_or_100_rows(desk_user) -> None:
    counts = []
    for hours, n in ((1, 10), (3, 100)):
        session = settle_session(hours)
        k = key("settle")
        desk.settle_commit(user=desk_user, session=session, rows=settle_roster(session, n), idempotency_key=k)
        with CaptureQueriesContext(connection) as ctx:
            desk.batch_undo(user=desk_user, session=session, batch_id=k)
        counts.append(len(ctx.captured_queries))
    assert counts[1] - counts[0] <= (0 if connection.vendor == "postgresql" else 6), counts
    assert counts[1] <= 30, counts


def test_a_batch_undo_takes_what_waits_on_it_too(desk_user) -> None:
    session = settle_session(1)
    b = factories.BookingFactory(session=session)
    k = key("settle")
    desk.settle_commit(
        user=desk_user,
        session=session,
        rows=[desk.SettleChoice(booking_id=b.pk, resolution="cash", amount=Decimal("5"))],
        idempotency_key=k,
    )
    rest = desk.payment_record(user=desk_user, booking=b, method="CARD", amount=Decimal("7"), idempotency_key=key())
    assert rest.depends_on.batch_id == k

    desk.batch_undo(user=desk_user, session=session, batch_id=k)

    b.refresh_from_db()
    assert DeskAction.objects.get(pk=rest.pk).status == Status.UNDONE
    assert (b.payment_status, b.pending_sync) == (Booking.PaymentStatus.NOT_PAID, False)


def test_a_batch_undo_after_its_window_is_refused_and_changes_nothing(desk_user, time_machine, settings) -> None:
    session = settle_session(1)
    k = key("settle")
    desk.settle_commit(user=desk_user, session=session, rows=settle_roster(session, 11), idempotency_key=k)
    after_settle = _desk_state(session)
    time_machine.move_to(timezone.now() + timedelta(seconds=settings.DESK_UNDO_SECONDS + 1))

    with pytest.raises(desk.BookingError) as excinfo:
        desk.batch_undo(user=desk_user, session=session, batch_id=k)

    assert excinfo.value.code == "too_late_to_undo"
    assert _desk_state(session) == after_settle
    assert not DeskAction.objects.filter(batch_id=k, status=Status.UNDONE).exists()
    with pytest.raises(desk.BookingError) as excinfo:
        desk.batch_undo(user=desk_user, session=factories.SessionFactory(), batch_id=k)  # another session's
    assert excinfo.value.code == "batch_not_found"


def test_check_in_all_is_undone_as_one(desk_user) -> None:
    session = settle_session(1)
    came = factories.BookingFactory(session=session)
    factories.AttendanceFactory(booking=came, session=session, status=Attendance.Status.ATTENDED)
    no_show = factories.BookingFactory(session=session)
    factories.AttendanceFactory(booking=no_show, session=session, status=Attendance.Status.NOT_ATTENDED)
    factories.BookingFactory.create_batch(5, session=session)
    before = _desk_state(session)
    k = key("all")
    actions = desk.attendance_mark_all(user=desk_user, session=session, status="ATTENDED", idempotency_key=k)
    assert len(actions) == 6

    desk.batch_undo(user=desk_user, session=session, batch_id=k)

    assert _desk_state(session) == before
    assert AuditEntry.objects.filter(action="desk.undo_batch").count() == 1


def test_a_manager_reverses_a_synced_settle_as_one(world: World, desk_user, manager_user) -> None:
    pat, cas, ow = world.customer("Pat", credits=3), world.customer("Cas"), world.customer("Ow")
    for person in (pat, cas, ow):
        world.online_booking(person)
    world.mirror(pat)
    session = world.session()
    rows = {r.booking.contact.first_name: r for r in desk.settle_suggestions(session=session)}
    choices = [
        desk.SettleChoice(booking_id=rows["Pat"].booking.pk, resolution="plan", balance_id=rows["Pat"].balance.pk),
        desk.SettleChoice(booking_id=rows["Cas"].booking.pk, resolution="cash", check_in=True),
        desk.SettleChoice(booking_id=rows["Ow"].booking.pk, resolution="owes"),
    ]
    k = key("settle")
    desk.settle_commit(user=desk_user, session=session, rows=choices, idempotency_key=k)
    with pytest.raises(desk.BookingError) as excinfo:  # nothing of it in Wix yet
        desk.batch_reverse(user=manager_user, session=session, batch_id=k, idempotency_key=key())
    assert excinfo.value.code == "not_reversible"
    world.push(ignore_undo_window=True)
    assert_all_synced()
    assert world.wix_credits(pat) == "2"

    with pytest.raises(desk.BookingError) as excinfo:
        desk.batch_reverse(user=desk_user, session=session, batch_id=k, idempotency_key=key())
    assert excinfo.value.code == "forbidden"
    with pytest.raises(desk.BookingError) as excinfo:
        desk.batch_undo(user=manager_user, session=session, batch_id=k)
    assert excinfo.value.code == "too_late_to_undo"

    rk = key("reverse")
    reversals = desk.batch_reverse(user=manager_user, session=session, batch_id=k, idempotency_key=rk)

    assert sorted(a.kind for a in reversals) == [Kind.REFUND, Kind.VOID_PLAN_CHARGE]
    assert desk.batch_reverse(user=manager_user, session=session, batch_id=k, idempotency_key=rk) == reversals
    assert [e.after for e in AuditEntry.objects.filter(action="desk.reverse_batch")] == [
        {"batch": k, "reversals": [a.pk for a in reversals]}
    ]
    with pytest.raises(desk.BookingError) as excinfo:
        desk.batch_reverse(user=manager_user, session=session, batch_id=k, idempotency_key=key())
    assert excinfo.value.code == "already_reversed"
    world.push()
    assert_all_synced()
    assert world.wix_credits(pat) == "3"
    by_name = {b.contact.first_name: b for b in Booking.objects.select_related("contact")}
    assert by_name["Cas"].payment_status == Booking.PaymentStatus.REFUNDED
    assert world.wix_order(by_name["Cas"])["paymentStatus"] == "FULLY_REFUNDED"
    assert world.wix_attendance(by_name["Cas"])["status"] == "ATTENDED"  # check-ins stay


def test_undoing_a_check_in_all_takes_a_later_change_to_the_same_attendance_with_it(desk_user) -> None:
    """A no-show marked after a check in all built on it (its "before" is the check-in): undoing
    the batch takes it too, so nothing is left on its way to Wix that the mirror no longer shows."""
    session = settle_session(1)
    gone, stays = factories.BookingFactory.create_batch(2, session=session)
    k = key("all")
    desk.attendance_mark_all(user=desk_user, session=session, status="ATTENDED", idempotency_key=k)
    later = desk.attendance_mark(user=desk_user, booking=gone, status="NOT_ATTENDED", idempotency_key=key())

    desk.batch_undo(user=desk_user, session=session, batch_id=k)

    assert DeskAction.objects.get(pk=later.pk).status == Status.UNDONE
    assert not DeskAction.objects.filter(status__in=DeskAction.LIVE_STATUSES).exists()
    assert not Attendance.objects.exists()
    assert not Booking.objects.filter(pending_sync=True).exists()
    assert stays.pk != gone.pk
