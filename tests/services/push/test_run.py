"""The push run across its phases: bulk endpoints and call counts, resuming after a crash,
backoff on transient failures, and the undo window."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings_app.models import DeskAction
from bookings_app.services import desk, push
from tests.services.conftest import World, key, walk_in_with_cash
from tests.services.push.conftest import Crash, Trouble, fewest, push_now, roster, settle, trouble_client

pytestmark = pytest.mark.django_db

Status = DeskAction.Status


# --- Wix calls per participant ---------------------------------------------------------------


@pytest.mark.parametrize("mode", ["ecom", "booking_only"])
def test_settling_a_100_person_roster_costs_at_most_the_fewest_calls_plus_ten_percent(
    world: World, desk_user, settings, mode: str, capsys
) -> None:
    import dataclasses

    settings.WIX = dataclasses.replace(settings.WIX, payment_mode=mode)
    with world.sb.state.transaction():  # room for 100
        event = world.sb.state.edit("events", world.event["id"])
        event["totalCapacity"] = 120
        world.sb.state.put("events", event)
    people = roster(world, n=100, plans=30, orders=mode == "ecom")
    world.mirror()
    actions = settle(world, desk_user, owes=10)
    kinds = [a.kind for a in actions]
    assert kinds.count("PAYMENT") == 60 and kinds.count("PLAN_CHARGE") == 30 and kinds.count("PAY_LATER") == 10
    assert kinds.count("ATTENDANCE") == 100

    before = world.calls()
    report = world.push()
    calls = world.calls() - before

    assert DeskAction.objects.exclude(status=Status.SYNCED).count() == 0
    least = fewest(mode=mode, n=100, cash=60, plan=30, owes=10, walk_ins=False)
    with capsys.disabled():
        print(
            f"\n[desk calls] settle 100 (60 cash, 30 plan, 10 owes, all checked in), {mode}: "
            f"{calls} calls = {calls / 100:.2f}/participant; fewest {least} = {least / 100:.2f}; "
            f"ratio {calls / least:.2f}; by operation {dict(report.calls_by_operation)}"
        )
    assert calls <= least * 1.10
    paid = [b for b in world.sb.state.all("bookings") if b["paymentStatus"] == "PAID"]
    assert len(paid) == 90
    assert all(world.wix_credits(p) == "4" for p in people["plan"])
    assert sum(1 for a in world.sb.state.all("attendances") if a["status"] == "ATTENDED") == 100


@pytest.mark.parametrize("mode", ["ecom", "booking_only"])
def test_100_walk_ins_settled_cost_at_most_the_fewest_calls_plus_ten_percent(
    world: World, desk_user, settings, mode: str, capsys
) -> None:
    import dataclasses

    settings.WIX = dataclasses.replace(settings.WIX, payment_mode=mode)
    with world.sb.state.transaction():
        event = world.sb.state.edit("events", world.event["id"])
        event["totalCapacity"] = 120
        world.sb.state.put("events", event)
    people = [world.customer(f"W{i:03d}", credits=5 if i < 30 else None) for i in range(100)]
    world.mirror(*people)
    session = world.session()
    for i, person in enumerate(people):
        booking = desk.walk_in_create(
            user=desk_user, contact=world.contact(person), session=session, idempotency_key=key()
        )
        if i < 30:
            desk.plan_charge(user=desk_user, booking=booking, balance=world.balance(person), idempotency_key=key())
        elif i < 90:
            desk.payment_record(
                user=desk_user, booking=booking, method="CASH", amount=Decimal("12"), idempotency_key=key()
            )
        else:
            desk.pay_later(user=desk_user, booking=booking, idempotency_key=key())
        desk.attendance_mark(user=desk_user, booking=booking, status="ATTENDED", idempotency_key=key())

    before = world.calls()
    report = world.push()
    calls = world.calls() - before

    assert DeskAction.objects.exclude(status=Status.SYNCED).count() == 0
    least = fewest(mode=mode, n=100, cash=60, plan=30, owes=10, walk_ins=True)
    with capsys.disabled():
        print(
            f"\n[desk calls] 100 walk-ins (60 cash, 30 plan, 10 owes, all checked in), {mode}: "
            f"{calls} calls = {calls / 100:.2f}/participant; fewest {least} = {least / 100:.2f}; "
            f"ratio {calls / least:.2f}; by operation {dict(report.calls_by_operation)}"
        )
    assert calls <= least * 1.10
    assert len(world.sb.state.all("bookings")) == 100


# --- lost answers, crashes, backoff ----------------------------------------------------------


@pytest.mark.parametrize(
    ("part", "what"),
    [
        ("/bulk/bookings/create", "booking"),
        ("/place-order", "order"),
        ("/add-payment", "payment"),
    ],
)
def test_a_lost_answer_is_looked_up_in_wix_not_sent_twice(world: World, desk_user, part: str, what: str) -> None:
    booking = walk_in_with_cash(world, desk_user)
    client = trouble_client(world, Trouble(world, part, "lost"))

    first = push_now(client)
    assert first.retrying >= 1
    waiting = DeskAction.objects.filter(status=Status.QUEUED)
    assert any(a.attempts == 1 and a.next_attempt_at > timezone.now() for a in waiting)
    assert push_now(client).claimed == 0  # backing off
    push_now(client, ignore_backoff=True)

    assert DeskAction.objects.exclude(status=Status.SYNCED).count() == 0
    booking.refresh_from_db()
    assert len(world.sb.state.all("bookings")) == 1
    assert len(world.sb.state.all("orders")) == 1
    payments = world.sb.state.get("order_transactions", world.wix_order(booking)["id"])["payments"]
    assert len(payments) == 1
    assert world.wix_booking(booking)["paymentStatus"] == "PAID"


def test_a_crash_after_an_order_was_made_resumes_from_the_saved_steps(world: World, desk_user) -> None:
    booking = walk_in_with_cash(world, desk_user)
    client = trouble_client(world, Trouble(world, "/place-order", "crash"))
    with pytest.raises(Crash):
        push_now(client)
    payment = DeskAction.objects.get(kind="PAYMENT")
    assert payment.status == Status.RUNNING  # the dead worker's claim
    assert payment.steps["cart_id"] and "order_id" not in payment.steps
    assert push_now(client).claimed == 0  # its lease still holds

    DeskAction.objects.filter(pk=payment.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    push_now(client)

    payment.refresh_from_db()
    assert payment.status == Status.SYNCED and payment.steps["order_id"]
    booking.refresh_from_db()
    assert len(world.sb.state.all("orders")) == 1
    assert world.wix_order(booking)["paymentStatus"] == "PAID"


def test_a_503_backs_off_and_keeps_the_action(world: World, desk_user) -> None:
    before = len(world.sb.state.all("bookings"))
    walk_in_with_cash(world, desk_user)
    client = trouble_client(world, Trouble(world, "/bulk/bookings/create", "503"))
    report = push_now(client)
    walk_in = DeskAction.objects.get(kind="WALK_IN")
    assert report.retrying == 1 and walk_in.status == Status.QUEUED
    assert walk_in.attempts == 1 and walk_in.next_attempt_at > timezone.now()
    # A 503 on a bulk create may have applied in part: the walk-in is looked up before it is sent again.
    assert walk_in.steps.get("create_sent_at") is not None
    assert DeskAction.objects.get(kind="PAYMENT").status == Status.QUEUED
    push_now(client, ignore_backoff=True)
    assert DeskAction.objects.exclude(status=Status.SYNCED).count() == 0
    assert len(world.sb.state.all("bookings")) == before + 1


def test_nothing_is_pushed_inside_the_undo_window(world: World, desk_user) -> None:
    walk_in_with_cash(world, desk_user)
    report = push.push_desk_actions_now(wix=world.wix)
    assert report.claimed == 0 and report.calls == 0


# --- one log line per state change -----------------------------------------------------------


def test_every_state_change_is_one_log_line_and_a_dead_workers_claim_is_taken_over(
    world: World, desk_user, caplog
) -> None:
    import logging

    def changes() -> list[tuple[str, str | None, str]]:
        return [
            (r.kind, r.status_from, r.status_to)
            for r in caplog.records
            if getattr(r, "event", None) == "desk_action.state"
        ]

    with caplog.at_level(logging.INFO, logger="bookings_app.desk_actions"):
        walk_in_with_cash(world, desk_user)
        assert changes() == [("WALK_IN", None, "QUEUED"), ("PAYMENT", None, "QUEUED")]
        caplog.clear()

        with pytest.raises(Crash):
            push_now(trouble_client(world, Trouble(world, "/place-order", "crash")))
        assert changes() == [
            ("WALK_IN", "QUEUED", "RUNNING"),
            ("WALK_IN", "RUNNING", "SYNCED"),
            ("PAYMENT", "QUEUED", "RUNNING"),  # ... and the worker died
        ]
        caplog.clear()

        DeskAction.objects.filter(kind="PAYMENT").update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        push_now(world.wix)

    assert changes() == [("PAYMENT", "RUNNING", "RUNNING"), ("PAYMENT", "RUNNING", "SYNCED")]
    taken = next(r for r in caplog.records if getattr(r, "status_from", None) == "RUNNING")
    assert taken.reason == "lease expired: taken over" and "taken over" in taken.getMessage()
    logged = [r for r in caplog.records if hasattr(r, "action_id")]
    assert all(isinstance(r.action_id, int) and r.levelname == "INFO" for r in logged)
