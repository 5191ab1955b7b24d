"""The ``--write`` round trip of ``wix_check`` (``write.py``, ``plan_charge.py``, ``undo.py``) against
the sandbox: it books, pays and plan-charges, settles what only a write can, and leaves nothing behind.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bookings_app.selectors import site_fact
from bookings_app.services.wix_check import Status, WriteTarget
from tests.services.wix_check.helpers import (
    FakeClock,
    answers,
    app_error,
    client,
    forward_with,
    line,
    run_check,
)
from wix_sandbox.handlers.bookings import order_of_booking

pytestmark = pytest.mark.django_db


def _target(world, person) -> WriteTarget:
    return WriteTarget(service=world.service["name"], member=person["member"]["loginEmail"])


def _bookings_of(world, person) -> list[dict[str, Any]]:
    return [b for b in world.sb.state.all("bookings") if b["contactDetails"]["contactId"] == person["contact"]["id"]]


def _not_probe(text: str) -> bool:
    return "front-desk-wix-check" not in text


def test_the_round_trip_books_pays_charges_and_leaves_nothing_behind(world) -> None:
    pat = world.customer("Pat", credits=5)
    contacts_before = world.sb.state.count("contacts")

    report = run_check(client(world.sb), write=_target(world, pat))

    assert report.ok, [(c.name, c.status, c.meaning) for c in report.problems] + report.leftovers
    made = _bookings_of(world, pat)
    assert len(made) == 2
    assert {b["status"] for b in made} == {"CANCELED"}
    assert world.wix_credits(pat) == "5"
    cash, plan = (order_of_booking(world.sb, b["id"]) for b in made)
    assert cash["paymentStatus"] == "FULLY_REFUNDED"
    assert plan["status"] == "CANCELED" or plan["paymentStatus"] not in ("NOT_PAID", "PARTIALLY_PAID")
    assert world.sb.state.count("contacts") == contacts_before
    # What the app adapts to is stored, and read back by the selector.
    assert site_fact("cart_channel", None) == "BACKOFFICE_MERCHANT"
    assert site_fact("membership_id_kind", None) == "pool"
    settled = answers(report)
    assert settled["booking_payment_follows_order"] is True
    assert settled["refund_returns_credit"] is True
    assert settled["membership_charge_takes_credit"] is True
    assert isinstance(settled["status.CART_ALREADY_ORDERED"], int)
    assert isinstance(settled["status.stale_revision"], int)
    assert settled["confirm_or_decline_on_confirmed"]
    # The sandbox's strict reading: Charge Memberships refuses a line sold to be paid offline.
    assert settled["charge_offline_line"] is False
    assert site_fact("charge_offline_line", None) is False
    assert line(report, "Plan credits as before").status == Status.OK
    assert not report.unsettled
    # Only public routes: the test credit goes back with Change Balance, not Cancel Redemption.
    called = [path for _method, path, _status in world.sb.call_log]
    assert not any(
        "cancel-redemption" in p or "void-memberships" in p or "/bulk/payments-collector" in p for p in called
    )
    assert any(p.endswith("/change") for p in called)


def test_a_pool_id_refused_falls_back_to_the_plan_order_id(world) -> None:
    pat = world.customer("Pat", credits=5)
    pool_id, plan_order_id = pat["sold"]["pool"]["id"], pat["sold"]["order"]["id"]

    def with_pool(request, forward):
        body = json.loads(request.content)
        body["memberships"][0]["membershipIdentifier"]["existingMembership"]["membershipId"] = pool_id
        return forward_with(request, forward, body)

    wix = client(
        world.sb,
        (
            "POST",
            r"/charge-memberships$",
            lambda text: pool_id in text,
            app_error(428, "MEMBERSHIP_NOT_ELIGIBLE"),
        ),
        ("POST", r"/charge-memberships$", lambda text: plan_order_id in text, with_pool),
    )

    report = run_check(wix, write=_target(world, pat))

    assert report.ok, [(c.name, c.meaning) for c in report.problems]
    assert site_fact("membership_id_kind", None) == "plan_order"
    assert "MEMBERSHIP_NOT_ELIGIBLE" in next(a.answer for a in report.answers if a.key == "membership_id_kind")
    assert world.wix_credits(pat) == "5"


def test_a_pending_plan_charge_is_followed_until_it_settles(world) -> None:
    pat = world.customer("Pat", credits=5)
    reads = {"pending": 2}

    def pending_answer(request, forward):
        answer = forward(request)
        body = answer.json()
        for payment in body.get("payments") or []:
            payment["status"] = "PENDING"
        return type(answer)(200, json=body, request=request)

    def pending_transactions(request, forward):
        answer = forward(request)
        body = answer.json()
        payments = (body.get("orderTransactions") or {}).get("payments") or []
        if reads["pending"] and any("membershipPaymentDetails" in p for p in payments):
            reads["pending"] -= 1
            for payment in payments:
                if "membershipPaymentDetails" in payment:
                    payment["status"] = "PENDING"
        return type(answer)(200, json=body, request=request)

    wix = client(
        world.sb,
        ("POST", r"/charge-memberships$", _not_probe, pending_answer),
        ("GET", r"^/ecom/v1/payments/orders/", _not_probe, pending_transactions),
    )

    report = run_check(wix, write=_target(world, pat))

    assert report.ok, [(c.name, c.meaning) for c in report.problems]
    assert site_fact("charge_memberships_async", None) is True
    assert reads["pending"] == 0, "the check read the transactions again until the payment left PENDING"
    assert world.wix_credits(pat) == "5"


def test_a_failed_step_still_undoes_what_was_made(world) -> None:
    pat = world.customer("Pat", credits=5)
    wix = client(world.sb, ("POST", r"/add-payment$", _not_probe, app_error(503, "UNAVAILABLE")))

    report = run_check(wix, write=_target(world, pat))

    assert line(report, "Cash payment").status != Status.OK
    assert not report.ok
    made = _bookings_of(world, pat)
    assert len(made) == 1 and made[0]["status"] == "CANCELED"
    assert order_of_booking(world.sb, made[0]["id"])["status"] == "CANCELED"
    assert not report.leftovers
    assert world.wix_credits(pat) == "5"


def test_what_could_not_be_undone_is_listed_with_its_wix_id(world) -> None:
    pat = world.customer("Pat", credits=5)
    wix = client(
        world.sb,
        ("POST", r"/refund-payments$", lambda text: "externalRefund" in text, app_error(500, "INTERNAL")),
    )

    report = run_check(wix, write=_target(world, pat))

    assert not report.ok
    order = order_of_booking(world.sb, _bookings_of(world, pat)[0]["id"])
    cash = next(p for p in world.sb.state.get("order_transactions", order["id"])["payments"])
    assert len(report.leftovers) == 1
    assert report.leftovers[0].wix_id == cash["id"]
    assert "cash payment" in report.leftovers[0].what and order["id"] in report.leftovers[0].what
    assert {b["status"] for b in _bookings_of(world, pat)} == {"CANCELED"}
    assert world.wix_credits(pat) == "5"


def test_a_member_without_a_plan_for_the_service_fails_that_step_and_undoes_the_rest(world) -> None:
    sam = world.customer("Sam", member=True)

    report = run_check(client(world.sb), write=_target(world, sam))

    assert line(report, "Member's plan").status == Status.FAILED
    assert "plan" in line(report, "Member's plan").todo
    assert {b["status"] for b in _bookings_of(world, sam)} == {"CANCELED"}
    assert not report.leftovers


def test_the_round_trip_is_not_run_when_a_check_failed(world) -> None:
    pat = world.customer("Pat", credits=5)
    wix = client(world.sb, ("POST", r"/add-payment$", None, app_error(403, "PERMISSION_DENIED")))

    report = run_check(wix, write=_target(world, pat), clock=FakeClock())

    assert not report.ok
    assert not _bookings_of(world, pat)
    assert not [c for c in report.checks if "--write" in c.section]
    assert any("not run" in note for note in report.notes)


def test_a_wix_that_charges_offline_lines_is_found_out_and_the_test_charge_refunded(world, monkeypatch) -> None:
    from wix_sandbox.handlers import ecom_payments

    monkeypatch.setattr(
        ecom_payments, "MEMBERSHIP_OPTIONS", (*ecom_payments.MEMBERSHIP_OPTIONS, "FULL_PAYMENT_OFFLINE")
    )
    pat = world.customer("Pat", credits=5)

    report = run_check(client(world.sb), write=_target(world, pat))

    assert report.ok, [(c.name, c.status, c.meaning) for c in report.problems] + report.leftovers
    assert answers(report)["charge_offline_line"] is True
    assert site_fact("charge_offline_line", None) is True
    assert world.wix_credits(pat) == "5"  # the test charge was refunded, like everything else
    assert {b["status"] for b in _bookings_of(world, pat)} == {"CANCELED"}
