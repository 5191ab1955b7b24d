"""The worker's package phase (``services.push.packages``): availability first, one Create
Multi-Service Booking, one cart and order with every booking as a line, one payment — and a lost
answer at any step found in Wix, never sent twice. Cancelling cancels the whole package."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from bookings_app.models import Booking, DeskAction, Order, OrderLineItem, Package
from bookings_app.services import desk
from tests.services.package_world import Spa, at, build_spa, key
from tests.services.push.conftest import Recorder, Trouble, push_now, trouble_client
from tests.wix_sandbox.builders import call
from wix_sandbox.handlers.bookings import order_of_booking
from wix_sandbox.transport import SandboxTransport

pytestmark = pytest.mark.django_db

Status = DeskAction.Status
MULTI = "/_api/bookings-service/v2/multi_service_bookings"


@pytest.fixture
def spa(db: None) -> Spa:
    world = build_spa()
    yield world
    world.wix.close()


def wix_bookings(spa: Spa, package: Package) -> list[dict]:
    return [spa.sb.state.get("bookings", b.wix_id) for b in Booking.objects.filter(package_item__package=package)]


def reload(package: Package) -> Package:
    return Package.objects.select_related("action", "cancel_action").get(pk=package.pk)


def test_a_cash_package_is_one_multi_service_booking_one_order_and_one_payment(spa: Spa, desk_user) -> None:
    package = spa.book(desk_user, spa.customer("Ash"), pay="CASH")

    report = spa.push()

    package = reload(package)
    assert package.action.status == Status.SYNCED, package.action.message
    (msb,) = spa.wix_msbs()
    assert package.wix_id == msb["id"]
    found = wix_bookings(spa, package)
    assert [b["bookedEntity"]["title"] for b in found] == ["Sports Massage", "Express Facial", "Classic Manicure"]
    assert {b["status"] for b in found} == {"CONFIRMED"}
    assert {b["multiServiceBookingInfo"]["id"] for b in found} == {msb["id"]}
    orders = {order_of_booking(spa.sb, b["id"])["id"] for b in found}
    assert len(orders) == 1  # one order, every booking a line of it
    order = spa.sb.state.get("orders", orders.pop())
    assert len(order["lineItems"]) == 3
    assert order["paymentStatus"] == "PAID"
    assert Decimal(order["balanceSummary"]["paid"]["amount"]) == Decimal("125")
    assert {b["paymentStatus"] for b in wix_bookings(spa, package)} == {"PAID"}
    assert report.calls_by_operation == Counter(
        {
            "chain_slots": 1,
            "create_multi_service_booking": 1,
            "create_cart": 1,
            "place_order": 1,
            "get_order": 1,
            "add_payments": 1,
        }
    )
    # The mirror: the bookings are Wix's, no longer waiting; the order with its three lines.
    bookings = Booking.objects.filter(package_item__package=package)
    assert all(b.wix_id and not b.pending_sync for b in bookings)
    mirrored = Order.objects.get(wix_id=order["id"])
    assert mirrored.paid == Decimal("125") and mirrored.balance == Decimal("0")
    assert set(OrderLineItem.objects.filter(order=mirrored).values_list("booking_id", flat=True)) == {
        b.pk for b in bookings
    }


def test_the_create_request_is_sequential_at_one_location_confirmed_and_paid_offline(spa: Spa, desk_user) -> None:
    chain = spa.chain()
    spa.book(desk_user, spa.customer(), chain=chain)
    transport = Recorder(SandboxTransport(spa.sb))

    push_now(trouble_client(spa, transport))

    (body,) = [b for b in transport.bodies("/multi_service_bookings") if "bookings" in b]
    assert body["multiServiceBookingType"] == "SEQUENTIAL_BOOKINGS"
    assert body["participantNotification"] == {"notifyParticipants": False}
    slots = [b["bookedEntity"]["slot"] for b in body["bookings"]]
    assert [(s["startDate"], s["endDate"]) for s in slots] == [(i["start"], i["end"]) for i in chain["items"]]
    assert {s["location"]["id"] for s in slots} == {spa.spa["id"]}
    assert {s["location"]["locationType"] for s in slots} == {"OWNER_BUSINESS"}
    assert [s["resource"]["id"] for s in slots] == [i["resource_id"] for i in chain["items"]]
    assert {(b["status"], b["selectedPaymentOption"]) for b in body["bookings"]} == {("CONFIRMED", "OFFLINE")}
    (check,) = transport.bodies("/multi-service-time-slots")
    assert check["location"] == {"id": spa.spa["id"], "locationType": "BUSINESS"}
    assert [s["resourceIds"] for s in check["services"]] == [[i["resource_id"]] for i in chain["items"]]
    cart_body = transport.bodies("/ecom/v2/carts")[0]  # then Place Order, on the cart
    assert [c["catalogReference"]["catalogItemId"] for c in cart_body["catalogItems"]] == [
        b.wix_id for b in Booking.objects.order_by("package_item__position")
    ]


def test_a_package_paid_later_has_an_unpaid_order_for_the_total(spa: Spa, desk_user) -> None:
    package = spa.book(desk_user, spa.customer(), pay="LATER")

    spa.push()

    assert reload(package).action.status == Status.SYNCED
    (order,) = spa.sb.state.all("orders")
    assert order["paymentStatus"] == "NOT_PAID"
    assert Decimal(order["balanceSummary"]["balance"]["amount"]) == Decimal("125")
    assert {b["paymentStatus"] for b in wix_bookings(spa, package)} == {"NOT_PAID"}


def test_a_plan_package_charges_every_line_to_the_plan_once(spa: Spa, desk_user) -> None:
    ash = spa.customer(credits=5)
    pool_id = spa.balance(ash).wix_id
    package = spa.book(desk_user, ash, pay="PLAN", balance=spa.balance(ash))

    report = spa.push(ignore_backoff=True)

    assert reload(package).action.status == Status.SYNCED, reload(package).action.message
    assert spa.sb.state.get("balances", pool_id)["amount"]["available"] == "2"
    (order,) = spa.sb.state.all("orders")
    assert order["paymentStatus"] == "PAID"
    assert report.calls_by_operation["charge_memberships"] == 1
    assert {b["paymentStatus"] for b in wix_bookings(spa, package)} == {"PAID"}


def test_a_time_taken_in_wix_meanwhile_needs_attention_and_creates_nothing(spa: Spa, desk_user) -> None:
    chain = spa.chain()
    package = spa.book(desk_user, spa.customer(), chain=chain)
    first = chain["items"][0]
    online = {
        "bookings": [
            {
                "bookedEntity": {
                    "slot": {
                        "scheduleId": spa.wix_services[index]["schedule"]["id"],
                        "startDate": start,
                        "endDate": end,
                        "resource": {"id": first["resource_id"]},
                        "location": {"id": spa.spa["id"], "locationType": "OWNER_BUSINESS"},
                    }
                },
                "contactDetails": {"firstName": "Online"},
                "totalParticipants": 1,
                "status": "CONFIRMED",
            }
            for index, start, end in ((2, at(spa, 9), at(spa, 9, 30)), (1, at(spa, 9, 30), at(spa, 10, 15)))
        ]
    }
    assert call(spa.sb, "POST", MULTI, online)[0] == 200  # booked online, the same therapist

    spa.push()

    action = reload(package).action
    assert (action.status, action.error_code) == (Status.NEEDS_ATTENTION, "SLOT_NOT_AVAILABLE")
    assert "cancel the package" in action.message
    assert len(spa.wix_msbs()) == 1 and reload(package).wix_id is None
    assert not spa.sb.state.all("orders")


def test_a_lost_create_answer_is_found_in_wix_not_sent_again(spa: Spa, desk_user) -> None:
    package = spa.book(desk_user, spa.customer(), pay="CASH")
    trouble = Trouble(spa, MULTI, "lost")

    push_now(trouble_client(spa, trouble))
    assert reload(package).action.status == Status.QUEUED  # retried after a backoff
    assert len(spa.wix_msbs()) == 1
    push_now(trouble_client(spa, trouble), ignore_backoff=True)

    package = reload(package)
    assert package.action.status == Status.SYNCED
    assert len(spa.wix_msbs()) == 1 and package.wix_id == spa.wix_msbs()[0]["id"]
    assert len(trouble.bodies(MULTI)) == 1  # never sent twice
    assert len(trouble.bodies("/extended-bookings/query")) == 1
    assert len(spa.sb.state.all("orders")) == 1


def test_a_lost_payment_answer_is_looked_up_in_the_order_not_paid_twice(spa: Spa, desk_user) -> None:
    package = spa.book(desk_user, spa.customer(), pay="CARD")
    trouble = Trouble(spa, "/add-payment", "lost")

    push_now(trouble_client(spa, trouble))
    push_now(trouble_client(spa, trouble), ignore_backoff=True)

    assert reload(package).action.status == Status.SYNCED
    (order,) = spa.sb.state.all("orders")
    assert Decimal(order["balanceSummary"]["paid"]["amount"]) == Decimal("125")
    assert len(trouble.bodies("/add-payment")) == 1


def test_a_payment_taken_on_a_package_booking_before_wix_has_it_waits_for_the_package(spa: Spa, desk_user) -> None:
    package = spa.book(desk_user, spa.customer(), pay="LATER")
    booking = package.items.get(position=2).booking

    payment = desk.payment_record(
        user=desk_user, booking=booking, method="CASH", amount=Decimal("40"), idempotency_key=key()
    )
    assert payment.depends_on == package.action

    spa.push()

    payment.refresh_from_db()
    assert payment.status == Status.SYNCED, payment.message
    (order,) = spa.sb.state.all("orders")  # the package's order: the payment went on it
    assert Decimal(order["balanceSummary"]["paid"]["amount"]) == Decimal("40")


def test_booking_only_mode_sets_every_payment_status_in_one_call(spa: Spa, desk_user, booking_only) -> None:
    package = spa.book(desk_user, spa.customer(), pay="CASH")

    report = spa.push()

    assert reload(package).action.status == Status.SYNCED
    assert {b["paymentStatus"] for b in wix_bookings(spa, package)} == {"PAID"}
    assert report.calls_by_operation["bulk_confirm_or_decline_booking"] == 1
    assert not spa.sb.state.all("orders")


# --- cancelling -------------------------------------------------------------------------------------


def test_cancelling_a_package_wix_has_cancels_the_multi_service_booking(spa: Spa, manager_user) -> None:
    package = spa.book(manager_user, spa.customer(), pay="CASH")
    spa.push()

    cancel = desk.package_cancel(user=manager_user, package=package, idempotency_key=key())
    report = spa.push()

    cancel.refresh_from_db()
    assert cancel.status == Status.SYNCED
    assert {b["status"] for b in wix_bookings(spa, package)} == {"CANCELED"}
    assert report.calls_by_operation["cancel_multi_service_booking"] == 1
    bookings = Booking.objects.filter(package_item__package=package)
    assert {(b.status, b.pending_sync) for b in bookings} == {("CANCELED", False)}
    assert {b.session.status for b in bookings} == {"CANCELLED"}


def test_a_lost_cancel_answer_is_read_back_not_sent_again(spa: Spa, manager_user) -> None:
    package = spa.book(manager_user, spa.customer(), pay="CASH")
    spa.push()
    cancel = desk.package_cancel(user=manager_user, package=package, idempotency_key=key())
    trouble = Trouble(spa, "/cancel", "lost")

    push_now(trouble_client(spa, trouble))
    push_now(trouble_client(spa, trouble), ignore_backoff=True)

    cancel.refresh_from_db()
    assert cancel.status == Status.SYNCED
    assert len(trouble.bodies("/cancel")) == 1
    assert {b["status"] for b in wix_bookings(spa, package)} == {"CANCELED"}


def test_cancelling_a_package_before_it_is_sent_sends_nothing(spa: Spa, desk_user) -> None:
    ash = spa.customer(credits=5)
    package = spa.book(desk_user, ash, pay="LATER")
    calls = len(spa.sb.call_log)

    cancel = desk.package_cancel(user=desk_user, package=package, idempotency_key=key())
    spa.push()

    package = reload(package)
    assert cancel.status == Status.SYNCED and package.action.status == Status.REMOVED
    assert not spa.wix_msbs() and len(spa.sb.call_log) == calls
    assert set(Booking.objects.values_list("status", "pending_sync")) == {("CANCELED", False)}


def test_cancelling_a_plan_package_before_it_is_sent_gives_the_credits_back(spa: Spa, manager_user) -> None:
    ash = spa.customer(credits=5)
    package = spa.book(manager_user, ash, pay="PLAN", balance=spa.balance(ash))
    assert spa.balance(ash).remaining_credits == Decimal("2")

    desk.package_cancel(user=manager_user, package=package, idempotency_key=key())

    assert spa.balance(ash).remaining_credits == Decimal("5")


def test_cancelling_while_the_worker_sends_it_waits_then_cancels_in_wix(spa: Spa, manager_user) -> None:
    package = spa.book(manager_user, spa.customer(), pay="CASH")
    action = package.action
    # The worker has claimed the package and its create answer was lost: Wix may have it.
    trouble = Trouble(spa, MULTI, "lost")
    push_now(trouble_client(spa, trouble))
    DeskAction.objects.filter(pk=action.pk).update(status=Status.RUNNING)

    desk.package_cancel(user=manager_user, package=package, idempotency_key=key())
    DeskAction.objects.filter(pk=action.pk).update(status=Status.QUEUED)  # the lease ran out
    push_now(trouble_client(spa, trouble), ignore_backoff=True)

    package = reload(package)
    assert package.action.status == Status.REMOVED
    assert package.cancel_action.status == Status.SYNCED
    (msb,) = spa.wix_msbs()
    assert package.wix_id == msb["id"]
    assert {b["status"] for b in wix_bookings(spa, package)} == {"CANCELED"}
    assert not spa.sb.state.all("orders")  # it stopped before the money


# --- the demo club ------------------------------------------------------------------------------------


def test_a_three_service_spa_package_in_the_demo_club_is_booked_and_paid_once(demo, wix, desk_user) -> None:
    # The "done when" of issue 11: massage → facial → manicure at the Boathouse Spa, one payment.
    from datetime import date

    from bookings_app.models import Contact, Service
    from bookings_app.services import sync
    from bookings_app.services.push import push_desk_actions_now

    assert sync.sync_full(wix=wix).ok
    services = [Service.objects.get(name=name) for name in ("Sports Massage", "Express Facial", "Classic Manicure")]
    monday = date(2026, 11, 23)
    chains = desk.package_chains(wix=wix, services=services, day=monday)
    assert chains and chains[0]["location"]["name"] == "The Boathouse Spa"
    customer = Contact.objects.filter(wix_id__isnull=False).order_by("pk").first()
    before = len(demo.state.all("orders"))

    package = desk.package_book(user=desk_user, contact=customer, chain=chains[0], pay="CASH", idempotency_key=key())
    report = push_desk_actions_now(wix=wix, ignore_undo_window=True)

    package = reload(package)
    assert package.action.status == Status.SYNCED, package.action.message
    found = [demo.state.get("bookings", b.wix_id) for b in Booking.objects.filter(package_item__package=package)]
    assert [b["bookedEntity"]["title"] for b in found] == ["Sports Massage", "Express Facial", "Classic Manicure"]
    orders = {order_of_booking(demo, b["id"])["id"] for b in found}
    assert len(orders) == 1 and len(demo.state.all("orders")) == before + 1
    order = demo.state.get("orders", orders.pop())
    assert order["paymentStatus"] == "PAID"
    assert Decimal(order["balanceSummary"]["paid"]["amount"]) == Decimal("125")
    print(f"\n[package] demo club, three services, cash: {report.calls} Wix calls {dict(report.calls_by_operation)}")
