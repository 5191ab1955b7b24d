"""Wix webhooks (Wix-app mode, CONTRACT.md §16): verify the JWT, store each event once, apply
events to the mirror in ``entityEventSequence`` order per entity.

Receiving is quick and makes no Wix call: verify, parse, insert one ``WebhookEvent`` (its unique
``event_id`` is the deduplication), answer 200. Applying happens in the worker
(``tasks.process_webhook_event_task``) through the same newer-wins mirror writers as the sync
(``services.mirror``), so a replayed or late event can never put an entity back to an older state.

Webhooks exist only for a Wix app: API-key sites cannot subscribe (CONTRACT.md §16.1) and rely on
polling. They are enabled when a public key is configured, in ``app`` mode (or ``sandbox`` mode,
where the sandbox can sign webhooks for demos and tests).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings_app.models import WebhookEvent
from bookings_app.services import mirror
from bookings_app.wix import WixClient, WixConfig, WixError
from bookings_app.wix import orders as wix_orders

logger = logging.getLogger("bookings_app.webhooks")

ISSUER = "wix.com"
LEEWAY_SECONDS = 60  # clock skew between Wix and us when checking iat/exp
SEQUENCE_MIN, SEQUENCE_MAX = -(2**63), 2**63 - 1  # WebhookEvent.sequence is a BigIntegerField
Json = dict[str, Any]


class WebhookRejected(Exception):
    """The request is not a genuine Wix webhook for this site. ``status`` is the HTTP answer."""

    def __init__(self, message: str, *, status: int = 401) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class ParsedWebhook:
    event_id: str
    event_type: str
    instance_id: str
    entity_fqdn: str
    slug: str
    entity_id: str
    sequence: int | None
    event: Json  # the domain event


@dataclass(frozen=True)
class WebhookReceipt:
    event: WebhookEvent | None
    duplicate: bool = False  # this event id was received before: nothing stored, nothing to do
    ignored: str = ""  # why a genuine event is not for us (another app instance)


def webhooks_enabled(*, config: WixConfig) -> bool:
    return bool(config.webhook_public_key) and config.mode in ("app", "sandbox")


def webhook_verify(*, token: str, public_key: str) -> Json:
    """The JWT's claims, once its RS256 signature, issuer and expiry check out.

    Raises ``WebhookRejected`` (401) for a missing token, a bad signature (wrong key, tampered),
    an issuer other than ``wix.com``, an expired token, or one with no expiry (``exp``): Wix's
    tokens carry ``iat`` and ``exp`` (CONTRACT.md §16.1), and a signed token without an end would
    be good forever to whoever captured it. An ``iat`` in the future is refused too.
    """
    if not token:
        raise WebhookRejected("Missing webhook token.")
    try:
        return jwt.decode(
            token,
            public_key,
            algorithms=["RS256"],
            issuer=ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "data", "exp"], "verify_aud": False},
        )
    except jwt.ExpiredSignatureError:
        raise WebhookRejected("Webhook token expired.") from None
    except jwt.MissingRequiredClaimError as exc:
        raise WebhookRejected(f"Webhook token has no {exc.claim!r} claim.") from None
    except jwt.ImmatureSignatureError:
        raise WebhookRejected("Webhook token is issued in the future.") from None
    except jwt.InvalidIssuerError:
        raise WebhookRejected("Webhook token has the wrong issuer.") from None
    except jwt.InvalidSignatureError:
        raise WebhookRejected("Webhook signature does not verify.") from None
    except jwt.PyJWTError as exc:
        raise WebhookRejected(f"Invalid webhook token ({type(exc).__name__}).") from None


def webhook_parse(*, claims: Json) -> ParsedWebhook:
    """Unwrap the envelope: claim ``data`` (JSON string) → ``{eventType, instanceId, data (JSON
    string of the domain event)}``. Raises ``WebhookRejected`` (400) when it is malformed."""
    try:
        envelope = _json_object(claims.get("data"))
        event = _json_object(envelope.get("data"))
    except ValueError as exc:
        raise WebhookRejected(f"Malformed webhook payload: {exc}", status=400) from None
    event_id = str(event.get("id") or "")
    event_type = str(envelope.get("eventType") or "")
    if not event_id or not event_type:
        raise WebhookRejected("Malformed webhook payload: no event id or event type.", status=400)
    entity_fqdn = str(event.get("entityFqdn") or "")
    slug = str(event.get("slug") or "")
    if not entity_fqdn:
        entity_fqdn = _known_fqdn(event_type)
        slug = slug or event_type.removeprefix(f"{entity_fqdn}_") if entity_fqdn else slug
    return ParsedWebhook(
        event_id=event_id[:250],
        event_type=_text(event_type)[:200],
        instance_id=_text(str(envelope.get("instanceId") or "")),
        entity_fqdn=_text(entity_fqdn)[:200],
        slug=_text(slug),
        entity_id=_text(str(event.get("entityId") or ""))[:250],
        sequence=_sequence(event.get("entityEventSequence")),
        event=_without_nul(event),
    )


def _sequence(value: Any) -> int | None:
    """``entityEventSequence`` as a number the database holds (a signed 64-bit integer); anything
    else is no sequence (the event is applied in the order it arrives, as one without)."""
    try:
        number = int(value) if value not in (None, "") else None
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number is not None and SEQUENCE_MIN <= number <= SEQUENCE_MAX else None


def _text(value: str) -> str:
    return value.replace("\x00", "")


def _without_nul(value: Any) -> Any:
    """The event with every NUL character taken out of its strings and keys: PostgreSQL stores
    none in text or JSON, and no Wix value carries one."""
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, dict):
        return {_text(str(k)): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def _json_object(value: Any) -> Json:
    if isinstance(value, dict):
        return value
    if not isinstance(value, str):
        raise ValueError("expected a JSON string")
    parsed = json.loads(value)
    if not isinstance(parsed, dict):
        raise ValueError("expected a JSON object")
    return parsed


def webhook_receive(*, body: bytes, config: WixConfig) -> WebhookReceipt:
    """Verify and store one webhook; a repeat of a stored event id stores nothing.

    Raises ``WebhookRejected`` (401 not genuine, 400 malformed). Makes no Wix call.
    """
    try:
        token = body.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise WebhookRejected("Webhook body is not a token.") from None
    parsed = webhook_parse(claims=webhook_verify(token=token, public_key=config.webhook_public_key))
    # A genuine token that is not ours to apply is answered 200 all the same: Wix resends any
    # other answer, unchanged, for 48 hours (its resend policy).
    if config.instance_id and not parsed.instance_id:
        logger.warning("webhook %r names no app instance; ours is configured, so it is ignored", parsed.event_id)
        return WebhookReceipt(None, ignored="the event names no app instance")
    if config.instance_id and parsed.instance_id != config.instance_id:
        logger.info("webhook %s is for app instance %s, not ours; ignored", parsed.event_id, parsed.instance_id)
        return WebhookReceipt(None, ignored="another app instance")
    if "\x00" in parsed.event_id:
        # No database keeps it (PostgreSQL refuses NUL in text): there is no way to deduplicate it.
        logger.warning("webhook event id %r holds a NUL character; ignored", parsed.event_id)
        return WebhookReceipt(None, ignored="an event id that cannot be stored")
    if WebhookEvent.objects.filter(event_id=parsed.event_id).exists():
        return WebhookReceipt(None, duplicate=True)
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                event_id=parsed.event_id,
                event_type=parsed.event_type,
                entity_id=parsed.entity_id,
                entity_fqdn=parsed.entity_fqdn,
                sequence=parsed.sequence,
                payload=parsed.event,
            )
    except IntegrityError:  # the same event arrived twice at once
        return WebhookReceipt(None, duplicate=True)
    return WebhookReceipt(event)


# --- applying -------------------------------------------------------------------------------------


def webhook_event_process(*, wix: WixClient, event_pk: int) -> str:
    """Apply a stored event (and, first, any earlier unapplied events of the same entity).

    Returns what happened to ``event_pk``. A Wix failure is recorded on the event and the event
    is closed: the next poll brings the entity anyway (webhooks only make the mirror fresher).
    """
    event = WebhookEvent.objects.filter(pk=event_pk).first()
    if event is None:
        return "missing"
    if event.processed_at is not None:
        return "already processed"
    queue = [event]
    if event.sequence is not None and event.entity_id:
        earlier = WebhookEvent.objects.filter(
            entity_fqdn=event.entity_fqdn,
            entity_id=event.entity_id,
            processed_at__isnull=True,
            sequence__lt=event.sequence,
        ).order_by("sequence", "pk")
        queue = [*earlier, event]
    outcome = ""
    for item in queue:
        outcome = _process_one(wix, item)
    return outcome


def webhook_backlog_process(*, wix: WixClient, older_than: timedelta = timedelta(minutes=1), limit: int = 100) -> int:
    """Apply stored events nobody applied (their task was lost, say, in a worker restart).
    Returns how many were taken up. The poll calls this, so no event waits for long."""
    stuck = list(
        WebhookEvent.objects.filter(processed_at__isnull=True, received_at__lt=timezone.now() - older_than)
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in stuck:
        webhook_event_process(wix=wix, event_pk=pk)
    return len(stuck)


def _process_one(wix: WixClient, event: WebhookEvent) -> str:
    newer = (
        event.sequence is not None
        and event.entity_id
        and WebhookEvent.objects.filter(
            entity_fqdn=event.entity_fqdn,
            entity_id=event.entity_id,
            processed_at__isnull=False,
            sequence__gt=event.sequence,
        ).exists()
    )
    error = ""
    if newer:
        # A later state of this entity is already applied: this one is history, recorded only.
        outcome = "superseded"
    else:
        handler = _handler_for(event)
        if handler is None:
            outcome = "ignored"
        else:
            try:
                outcome = handler(wix, event) or "applied"
            except WixError as exc:
                error = f"Wix failed while applying this event: {exc}"
                outcome = "failed"
                logger.warning("webhook %s (%s): %s", event.event_id, event.event_type, exc)
    WebhookEvent.objects.filter(pk=event.pk, processed_at__isnull=True).update(processed_at=timezone.now(), error=error)
    return outcome


Handler = Callable[[WixClient, WebhookEvent], str | None]


def _entity(event: Json, body_key: str) -> Json | None:
    """The entity a domain event carries: created/updated entity, or the action body's ``body_key``."""
    for container, key in (("createdEvent", "entity"), ("updatedEvent", "currentEntity")):
        value = (event.get(container) or {}).get(key)
        if isinstance(value, dict) and value:
            return value
    body = (event.get("actionEvent") or {}).get("body") or {}
    value = body.get(body_key)
    return value if isinstance(value, dict) and value else None


def _booking(wix: WixClient, event: WebhookEvent) -> str | None:
    booking = _entity(event.payload, "booking")
    if booking is None or not booking.get("id"):
        return "ignored"
    changed = mirror.mirror_bookings(wix=wix, bookings=[booking])
    return "applied" if changed else "unchanged"


def _attendance(wix: WixClient, event: WebhookEvent) -> str | None:
    if "deletedEvent" in event.payload:
        entity = (event.payload.get("deletedEvent") or {}).get("deletedEntity") or {"id": event.entity_id}
        mirror.mirror_attendance(attendances=[entity], deleted=True)
        return "applied"
    attendance = _entity(event.payload, "attendance")
    if attendance is None:
        return "ignored"
    mirror.mirror_attendance(attendances=[attendance])
    return "applied"


def _order(wix: WixClient, event: WebhookEvent) -> str | None:
    order = _entity(event.payload, "order")
    if order is None:
        return "ignored"
    return "applied" if mirror.mirror_orders(wix=wix, orders=[order]) else "not ours"


def _order_transactions(wix: WixClient, event: WebhookEvent) -> str | None:
    # The payments of an order changed: re-read the order (one call) and mirror it with them.
    entity = _entity(event.payload, "orderTransactions") or {}
    order_id = entity.get("orderId") or event.entity_id
    if not order_id:
        return "ignored"
    order = wix_orders.get_order(wix, order_id=order_id).get("order")
    if not order:
        return "ignored"
    return "applied" if mirror.mirror_orders(wix=wix, orders=[order]) else "not ours"


def _plan_order(wix: WixClient, event: WebhookEvent) -> str | None:
    order = _entity(event.payload, "order") or {}
    member_id = (order.get("buyer") or {}).get("memberId")
    if not member_id:
        return "ignored"
    mirror.member_plans_refresh(wix=wix, member_ids=[member_id])
    return "applied"


def _contact(wix: WixClient, event: WebhookEvent) -> str | None:
    contact = _entity(event.payload, "contact")
    if contact is None or not contact.get("id"):
        return "ignored"
    mirror.mirror_contacts(wix=wix, contacts=[contact])
    return "applied"


def _service(wix: WixClient, event: WebhookEvent) -> str | None:
    service = _entity(event.payload, "service")
    if service is None or not service.get("id"):
        return "ignored"
    mirror.mirror_services(wix=wix, services=[service])
    return "applied"


# Entity FQDN -> handler. Event types are ``<fqdn>_<slug>`` (CONTRACT.md §16.2).
HANDLERS: dict[str, Handler] = {
    "wix.bookings.v2.booking": _booking,
    "wix.bookings.v2.attendance": _attendance,
    "wix.ecom.v1.order": _order,
    "wix.ecom.v1.order_transactions": _order_transactions,
    "wix.pricing_plans.v2.order": _plan_order,
    "wix.contacts.v4.contact": _contact,
    "wix.bookings.services.v2.service": _service,
}


def _known_fqdn(event_type: str) -> str:
    """The entity FQDN an event type starts with (the longest: ``…order_transactions`` over ``…order``)."""
    for fqdn in sorted(HANDLERS, key=len, reverse=True):
        if event_type.startswith(f"{fqdn}_"):
            return fqdn
    return ""


def _handler_for(event: WebhookEvent) -> Handler | None:
    return HANDLERS.get(event.entity_fqdn) or HANDLERS.get(_known_fqdn(event.event_type))
