"""Wix webhooks: JWT verification, deduplication, ordering, and what each event does to the mirror.

The sandbox signs real RS256 JWTs with a test key pair (``wix_sandbox.webhooks``),
and the app verifies them with the public half, as it would Wix's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from django.urls import reverse

from bookings_app import tasks
from bookings_app.models import BenefitBalance, Booking, Contact, Order, Payment, WebhookEvent
from bookings_app.services import sync, webhooks
from bookings_app.wix import bookings as wix_bookings
from bookings_app.wix import cart as wix_cart
from bookings_app.wix import order_transactions
from bookings_app.wix import orders as wix_orders
from bookings_app.wix.client import ApiKeyAuth, WixClient
from tests.wix_sandbox import builders, plan_builders
from wix_sandbox import BOOKINGS_APP_ID, DEFAULT_API_KEY, DEFAULT_SITE_ID, Sandbox
from wix_sandbox.transport import SandboxTransport
from wix_sandbox.webhooks import (
    KeyPair,
    WebhookEmitter,
    deliver,
    domain_event,
    generate_keypair,
    sign_webhook,
)

pytestmark = pytest.mark.django_db

INSTANCE = "8d5a4f0e-0000-4000-8000-000000000001"
BOOKING = "wix.bookings.v2.booking"
NOON = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def keys() -> KeyPair:
    return generate_keypair()


@pytest.fixture
def app_mode(settings, keys: KeyPair, sandbox: Sandbox, monkeypatch, clock) -> None:
    """Wix-app mode with the test public key; the worker (immediate) talks to the test sandbox."""
    settings.WIX = dataclasses.replace(
        settings.WIX,
        mode="app",
        app_id="app-id",
        app_secret="app-secret",
        instance_id=INSTANCE,
        webhook_public_key=keys.public_pem,
    )
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default", "sync"]}
    }

    def client() -> WixClient:
        return WixClient(
            base_url="https://www.wixapis.com",
            auth=ApiKeyAuth(DEFAULT_API_KEY, DEFAULT_SITE_ID),
            transport=SandboxTransport(sandbox),
            max_retries=0,
        )

    monkeypatch.setattr(tasks, "get_wix_client", client)


@pytest.fixture
def emitter(keys: KeyPair, sandbox: Sandbox) -> WebhookEmitter:
    return WebhookEmitter(private_key=keys.private_pem, instance_id=INSTANCE, clock=sandbox.state.now)


@pytest.fixture
def post(client, django_capture_on_commit_callbacks) -> Callable[[str], Any]:
    """Deliver a token to the webhook URL and run what the view queues once its transaction commits."""

    def send(token: str) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("webhook_wix"), data=token, content_type="text/plain")

    return send


@pytest.fixture
def club(sandbox: Sandbox, wix: WixClient) -> dict[str, Any]:
    """A small club, mirrored: tonight's swim with Jo booked on it (CONFIRMED, NOT_PAID, order)."""
    staff = builders.make_staff(sandbox)
    service = builders.make_service(sandbox, staff=[staff])
    event = builders.make_event(sandbox, service, datetime(2026, 11, 21, 18, 0), staff=staff)
    contact = builders.make_contact(sandbox, "Jo", "Swimmer")
    booking = wix_bookings.create_booking(
        wix,
        booking={
            "bookedEntity": {"slot": {"serviceId": service["id"], "eventId": event["id"]}},
            "contactDetails": {"contactId": contact["id"]},
            "totalParticipants": 1,
            "selectedPaymentOption": "OFFLINE",
        },
    )["booking"]
    cart = wix_cart.create_cart(
        wix,
        channel_type="BACKOFFICE_MERCHANT",
        catalog_items=[{"quantity": 1, "catalogReference": {"catalogItemId": booking["id"], "appId": BOOKINGS_APP_ID}}],
        customer_info={"firstName": "Jo", "lastName": "Swimmer", "email": contact["primaryInfo"]["email"]},
    )["cart"]
    order_id = wix_cart.place_order(wix, cart_id=cart["id"])["orderId"]
    assert sync.sync_full(wix=wix).ok
    return {
        "service": service,
        "event": event,
        "contact": contact,
        "booking_id": booking["id"],
        "order_id": order_id,
    }


def current_booking(sb: Sandbox, booking_id: str) -> dict[str, Any]:
    return sb.state.get("bookings", booking_id)


# --- verification --------------------------------------------------------------------------------


def test_a_genuine_webhook_is_stored_answered_200_and_applied(app_mode, club, sandbox, wix, emitter, post):
    wix_bookings.cancel_booking(wix, booking_id=club["booking_id"], revision="2")
    booking = current_booking(sandbox, club["booking_id"])

    status, text = deliver(post, emitter.updated(BOOKING, booking))

    assert (status, text) == (200, "OK")
    event = WebhookEvent.objects.get()
    assert event.event_type == "wix.bookings.v2.booking_updated" and event.entity_id == club["booking_id"]
    assert event.sequence == 1 and event.processed_at is not None and event.error == ""
    assert Booking.objects.get(wix_id=club["booking_id"]).status == Booking.Status.CANCELED


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(
            lambda token, ev, other: sign_webhook(private_key=other.private_pem, event=ev, instance_id=INSTANCE),
            id="other-key",
        ),
        pytest.param(
            lambda token, ev, other: token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB"),
            id="tampered-signature",
        ),
        pytest.param(
            lambda token, ev, other: jwt.encode(
                jwt.decode(token, options={"verify_signature": False}),
                "a-shared-secret-that-is-long-enough!",
                algorithm="HS256",
            ),
            id="hs256-not-rs256",
        ),
        pytest.param(lambda token, ev, other: "", id="missing"),
        pytest.param(lambda token, ev, other: "not a jwt", id="garbage"),
    ],
)
def test_a_webhook_not_signed_with_the_app_key_is_refused_401(app_mode, keys, emitter, post, forge):
    event = emitter.event(BOOKING, "updated", "b-1", entity={"id": "b-1"})
    forged = forge(emitter.sign(event), event, generate_keypair())

    response = post(forged)

    assert response.status_code == 401 and response["Content-Type"].startswith("text/plain")
    assert not WebhookEvent.objects.exists()


def test_a_token_from_another_issuer_is_refused_401(app_mode, keys, emitter, post):
    event = emitter.event(BOOKING, "updated", "b-1", entity={"id": "b-1"})

    response = post(
        sign_webhook(private_key=keys.private_pem, event=event, instance_id=INSTANCE, issuer="evil.example")
    )

    assert response.status_code == 401 and b"issuer" in response.content
    assert not WebhookEvent.objects.exists()


def test_an_expired_token_is_refused_401(app_mode, keys, emitter, post):
    event = emitter.event(BOOKING, "updated", "b-1", entity={"id": "b-1"})
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)

    response = post(
        sign_webhook(private_key=keys.private_pem, event=event, instance_id=INSTANCE, issued_at=an_hour_ago)
    )

    assert response.status_code == 401 and b"expired" in response.content
    assert not WebhookEvent.objects.exists()


def _claims(emitter: WebhookEmitter, keys: KeyPair, **claims: Any) -> dict[str, Any]:
    event = emitter.event(BOOKING, "updated", "b-1", entity={"id": "b-1"})
    signed = jwt.decode(emitter.sign(event), keys.public_pem, algorithms=["RS256"], options={"verify_exp": False})
    return {**signed, **claims}


def test_a_token_without_an_expiry_is_refused_401(app_mode, keys, emitter, post):
    """Wix's tokens carry iat and exp; a signed token with no end would be good forever."""
    claims = _claims(emitter, keys)
    del claims["exp"]

    response = post(jwt.encode(claims, keys.private_pem, algorithm="RS256"))

    assert response.status_code == 401 and b"no 'exp' claim" in response.content
    assert not WebhookEvent.objects.exists()


def test_a_token_issued_in_the_future_is_refused_401(app_mode, keys, emitter, post):
    claims = _claims(emitter, keys)
    claims["iat"] = int((datetime.now(UTC) + timedelta(hours=1)).timestamp())
    claims["exp"] = claims["iat"] + 300

    response = post(jwt.encode(claims, keys.private_pem, algorithm="RS256"))

    assert response.status_code == 401 and b"future" in response.content
    assert not WebhookEvent.objects.exists()


def test_an_event_naming_no_app_instance_is_not_stored_when_ours_is_configured(app_mode, keys, post):
    """Refused — not stored, not applied — and answered 200: any other answer makes Wix resend
    the same event for 48 hours."""
    event = domain_event(entity_fqdn=BOOKING, slug="updated", entity_id="b-1", entity={"id": "b-1"}, sequence=1)

    response = post(sign_webhook(private_key=keys.private_pem, event=event, instance_id=""))

    assert response.status_code == 200 and b"Ignored: the event names no app instance" in response.content
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("sequence", [2**63, 10**30, -(2**63) - 1])
def test_a_sequence_no_database_holds_is_no_sequence(app_mode, keys, post, sequence):
    event = domain_event(entity_fqdn=BOOKING, slug="updated", entity_id="b-1", entity={"id": "b-1"}, sequence=sequence)

    response = post(sign_webhook(private_key=keys.private_pem, event=event, instance_id=INSTANCE))

    assert response.status_code == 200
    stored = WebhookEvent.objects.get()
    assert stored.sequence is None and stored.processed_at is not None


def test_an_event_id_with_a_nul_is_acknowledged_and_ignored(app_mode, keys, post):
    event = domain_event(
        entity_fqdn=BOOKING, slug="updated", entity_id="b-1", entity={"id": "b-1"}, sequence=1, event_id="ev\x00il"
    )

    response = post(sign_webhook(private_key=keys.private_pem, event=event, instance_id=INSTANCE))

    assert response.status_code == 200 and b"Ignored" in response.content
    assert not WebhookEvent.objects.exists()


def test_nul_characters_elsewhere_in_an_event_are_taken_out(app_mode, keys, post):
    entity = {"id": "b-1", "contactDetails": {"firstName": "Jo\x00"}, "k\x00": ["a\x00b"]}
    event = domain_event(
        entity_fqdn=BOOKING, slug="updated", entity_id="b-\x001", entity=entity, sequence=1, event_id="ev-1"
    )

    response = post(sign_webhook(private_key=keys.private_pem, event=event, instance_id=INSTANCE))

    assert response.status_code == 200
    stored = WebhookEvent.objects.get()
    assert stored.entity_id == "b-1"
    assert stored.payload["updatedEvent"]["currentEntity"] == {
        "id": "b-1",
        "contactDetails": {"firstName": "Jo"},
        "k": ["ab"],
    }


def test_a_signed_but_malformed_envelope_is_refused_400(app_mode, keys, post):
    claims = {"iss": "wix.com", "data": "{not json", "exp": int((datetime.now(UTC) + timedelta(minutes=5)).timestamp())}
    token = jwt.encode(claims, keys.private_pem, algorithm="RS256")

    assert post(token).status_code == 400


def test_webhooks_are_refused_403_where_they_are_not_enabled(settings, client, keys, emitter):
    settings.WIX = dataclasses.replace(settings.WIX, mode="api_key", api_key="k", site_id="s", webhook_public_key="")
    token = emitter.sign(emitter.event(BOOKING, "updated", "b-1", entity={"id": "b-1"}))

    response = client.post(reverse("webhook_wix"), data=token, content_type="text/plain")

    assert response.status_code == 403 and b"not enabled" in response.content
    assert client.get(reverse("webhook_wix")).status_code == 405


def test_an_event_for_another_app_instance_is_acknowledged_and_ignored(app_mode, keys, post):
    event = domain_event(entity_fqdn=BOOKING, slug="updated", entity_id="b-1", entity={"id": "b-1"}, sequence=1)

    response = post(sign_webhook(private_key=keys.private_pem, event=event, instance_id="someone-else"))

    assert response.status_code == 200 and not WebhookEvent.objects.exists()


# --- deduplication and ordering --------------------------------------------------------------


def test_a_replayed_event_is_answered_200_and_applied_once(app_mode, club, sandbox, wix, emitter, post, monkeypatch):
    wix_bookings.cancel_booking(wix, booking_id=club["booking_id"], revision="2")
    token = emitter.updated(BOOKING, current_booking(sandbox, club["booking_id"]))
    applied: list[int] = []
    real = webhooks.webhook_event_process
    monkeypatch.setattr(webhooks, "webhook_event_process", lambda **kw: applied.append(kw["event_pk"]) or real(**kw))

    first, second = post(token), post(token)

    assert first.status_code == second.status_code == 200
    assert second.content.startswith(b"Duplicate")
    assert WebhookEvent.objects.count() == 1 and len(applied) == 1


def test_events_arriving_out_of_order_leave_the_newest_state(app_mode, club, sandbox, wix, emitter, post):
    confirmed_rev = current_booking(sandbox, club["booking_id"])  # revision 2, CONFIRMED
    older = emitter.event(BOOKING, "updated", club["booking_id"], entity=dict(confirmed_rev))
    wix_bookings.cancel_booking(wix, booking_id=club["booking_id"], revision="2")
    newer = emitter.event(
        BOOKING, "canceled", club["booking_id"], body={"booking": current_booking(sandbox, club["booking_id"])}
    )

    assert post(emitter.sign(newer)).status_code == 200  # sequence 2 first …
    assert post(emitter.sign(older)).status_code == 200  # … then sequence 1

    assert Booking.objects.get(wix_id=club["booking_id"]).status == Booking.Status.CANCELED
    late = WebhookEvent.objects.get(sequence=1)
    assert late.processed_at is not None and late.error == ""  # recorded, not applied


def test_processing_a_later_event_applies_earlier_stored_ones_first(club, sandbox, wix, emitter, settings, keys, clock):
    settings.WIX = dataclasses.replace(
        settings.WIX, mode="app", instance_id=INSTANCE, webhook_public_key=keys.public_pem
    )
    booking_id = club["booking_id"]
    first = emitter.event(
        BOOKING,
        "updated",
        booking_id,
        entity={**current_booking(sandbox, booking_id), "revision": "3", "totalParticipants": 2},
    )
    second = emitter.event(
        BOOKING,
        "updated",
        booking_id,
        entity={**current_booking(sandbox, booking_id), "revision": "4", "totalParticipants": 3},
    )
    stored = [
        webhooks.webhook_receive(body=emitter.sign(e).encode(), config=settings.WIX).event for e in (first, second)
    ]

    assert webhooks.webhook_event_process(wix=wix, event_pk=stored[1].pk) == "applied"

    assert Booking.objects.get(wix_id=booking_id).total_participants == 3
    assert WebhookEvent.objects.filter(processed_at__isnull=True).count() == 0
    assert webhooks.webhook_event_process(wix=wix, event_pk=stored[0].pk) == "already processed"


# --- what events do ---------------------------------------------------------------------------------


def test_a_new_booking_arrives_with_what_it_names(app_mode, club, sandbox, wix, emitter, post):
    newcomer = builders.make_contact(sandbox, "Ada", "Newcomer")
    booking = wix_bookings.create_booking(
        wix,
        booking={
            "bookedEntity": {"slot": {"serviceId": club["service"]["id"], "eventId": club["event"]["id"]}},
            "contactDetails": {"contactId": newcomer["id"]},
            "totalParticipants": 1,
            "selectedPaymentOption": "OFFLINE",
        },
    )["booking"]

    assert post(emitter.created(BOOKING, booking)).status_code == 200

    mirrored = Booking.objects.select_related("contact", "session").get(wix_id=booking["id"])
    assert mirrored.contact.first_name == "Ada" and mirrored.session.wix_id == club["event"]["id"]


def test_an_order_paid_in_wix_updates_the_order_and_its_payments(app_mode, club, sandbox, wix, emitter, post, clock):
    clock(NOON)
    order = wix_orders.get_order(wix, order_id=club["order_id"])["order"]
    order_transactions.add_payments(
        wix,
        order_id=club["order_id"],
        payments=[
            {
                "amount": {"amount": order["balanceSummary"]["balance"]["amount"]},
                "status": "APPROVED",
                "regularPaymentDetails": {
                    "offlinePayment": True,
                    "paymentMethodName": {"userDefinedName": {"predefined": "CASH"}},
                },
            }
        ],
    )
    paid = wix_orders.get_order(wix, order_id=club["order_id"])["order"]

    token = emitter.action(
        "wix.ecom.v1.order", "payment_status_updated", paid["id"], {"order": paid, "previousPaymentStatus": "NOT_PAID"}
    )
    assert post(token).status_code == 200

    mirrored = Order.objects.get(wix_id=club["order_id"])
    assert mirrored.payment_status == "PAID" and mirrored.balance == 0
    assert mirrored.payments.get().method == Payment.Method.CASH


def test_an_order_that_is_no_booking_of_ours_is_not_mirrored(app_mode, club, emitter, post):
    shop_order = {
        "id": "shop-1",
        "lineItems": [{"id": "l", "catalogReference": {"catalogItemId": "sku", "appId": "stores"}}],
    }

    assert post(emitter.created("wix.ecom.v1.order", shop_order)).status_code == 200

    assert not Order.objects.filter(wix_id="shop-1").exists()
    assert WebhookEvent.objects.get().processed_at is not None


def test_a_plan_order_event_refreshes_that_members_credits(app_mode, club, sandbox, emitter, post, clock):
    clock(NOON)
    member = builders.make_member(sandbox, club["contact"])
    plan = plan_builders.make_plan(sandbox, "10 Swim Pass", 10, [club["service"]["id"]])
    sold = plan_builders.sell_plan(sandbox, member, plan, credits_left=4)
    service = sandbox.state.get("services", club["service"]["id"])  # now lists the plan

    assert post(emitter.updated("wix.bookings.services.v2.service", service)).status_code == 200
    assert post(emitter.created("wix.pricing_plans.v2.order", sold["order"])).status_code == 200

    balance = BenefitBalance.objects.select_related("member__contact", "plan_order").get()
    assert balance.remaining_credits == 4 and balance.total_credits == 10
    assert balance.member.contact.wix_id == club["contact"]["id"]
    assert balance.plan_order.wix_id == sold["order"]["id"]
    assert balance.covered_service_ids == [club["service"]["id"]]


def test_a_contact_updated_in_wix_is_updated_here(app_mode, club, sandbox, emitter, post):
    contact = sandbox.state.edit("contacts", club["contact"]["id"])
    contact["info"]["name"]["last"] = "Swimmer-Smith"
    contact["revision"] = 2
    contact["updatedDate"] = "2026-11-21T09:30:00.000Z"

    assert post(emitter.updated("wix.contacts.v4.contact", contact)).status_code == 200

    assert Contact.objects.get(wix_id=club["contact"]["id"]).last_name == "Swimmer-Smith"


def test_an_unknown_event_type_is_recorded_and_closed(app_mode, emitter, post):
    assert post(emitter.created("wix.stores.v1.product", {"id": "p-1"})).status_code == 200

    event = WebhookEvent.objects.get()
    assert event.event_type == "wix.stores.v1.product_created" and event.processed_at is not None
