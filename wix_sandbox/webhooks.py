"""Sign and deliver webhooks the way Wix delivers them to an app (CONTRACT.md §16). No Django.

Wix POSTs a JWT (RS256, signed with the app's key; the app verifies with its public key) as the
whole request body. Its ``data`` claim is a JSON *string*::

    {"eventType": "wix.bookings.v2.booking_updated", "instanceId": "…",
     "data": "<JSON string of the domain event>", "identity": "<JSON string>"}

and the domain event is ``{id, entityFqdn, slug, entityId, eventTime, entityEventSequence,
createdEvent{entity} | updatedEvent{currentEntity} | deletedEvent{deletedEntity} |
actionEvent{body}}``. ``eventType`` is ``<entityFqdn>_<slug>`` (``wix.ecom.v1.order`` +
``payment_status_updated``).

Typical use (tests, demos)::

    keys = generate_keypair()
    emitter = WebhookEmitter(private_key=keys.private_pem, instance_id="…")
    token = emitter.updated("wix.bookings.v2.booking", booking)
    status, body = deliver(client_post, token)  # a URL, or any callable taking the token
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "wix.com"
DEFAULT_TTL = timedelta(minutes=5)
Json = dict[str, Any]


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    public_pem: str


def generate_keypair(bits: int = 2048) -> KeyPair:
    """A fresh RSA key pair in PEM (private PKCS#8, public SubjectPublicKeyInfo, as Wix shows it)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return KeyPair(private_pem, public_pem)


def _iso(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def domain_event(
    *,
    entity_fqdn: str,
    slug: str,
    entity_id: str,
    sequence: int | None = None,
    entity: Json | None = None,
    body: Json | None = None,
    event_id: str | None = None,
    event_time: datetime | None = None,
) -> Json:
    """A Wix domain event. ``slug`` created/updated/deleted carry ``entity``; any other slug is an
    action event carrying ``body`` (e.g. ``confirmed`` with ``{booking, previousStatus}``)."""
    event: Json = {
        "id": event_id or str(uuid.uuid4()),
        "entityFqdn": entity_fqdn,
        "slug": slug,
        "entityId": entity_id,
        "eventTime": _iso(event_time or datetime.now(UTC)),
        "triggeredByAnonymizeRequest": False,
    }
    if sequence is not None:
        # Wix sends int64 values as strings.
        event["entityEventSequence"] = str(sequence)
    if slug == "created":
        event["createdEvent"] = {"entity": entity or {}}
    elif slug == "updated":
        event["updatedEvent"] = {"currentEntity": entity or {}}
    elif slug == "deleted":
        event["deletedEvent"] = {"deletedEntity": entity} if entity is not None else {}
    else:
        event["actionEvent"] = {"body": body if body is not None else {}}
    return event


def sign_webhook(
    *,
    private_key: str,
    event: Json,
    instance_id: str,
    event_type: str | None = None,
    identity: Json | None = None,
    issuer: str = ISSUER,
    issued_at: datetime | None = None,
    ttl: timedelta = DEFAULT_TTL,
    extra_claims: Json | None = None,
) -> str:
    """The JWT Wix would POST for ``event`` (RS256 with ``private_key``)."""
    now = issued_at or datetime.now(UTC)
    envelope = {
        "eventType": event_type or f"{event['entityFqdn']}_{event['slug']}",
        "instanceId": instance_id,
        "data": json.dumps(event),
        "identity": json.dumps(identity or {"identityType": "APP"}),
    }
    claims: Json = {
        "data": json.dumps(envelope),
        "iss": issuer,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        **(extra_claims or {}),
    }
    return jwt.encode(claims, private_key, algorithm="RS256")


@dataclass
class WebhookEmitter:
    """Signs events for one app instance, numbering ``entityEventSequence`` per entity as Wix does."""

    private_key: str
    instance_id: str
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    _sequences: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next_sequence(self, entity_id: str) -> int:
        with self._lock:
            self._sequences[entity_id] = self._sequences.get(entity_id, 0) + 1
            return self._sequences[entity_id]

    def event(
        self, entity_fqdn: str, slug: str, entity_id: str, *, entity: Json | None = None, body: Json | None = None
    ) -> Json:
        return domain_event(
            entity_fqdn=entity_fqdn,
            slug=slug,
            entity_id=entity_id,
            sequence=self.next_sequence(entity_id),
            entity=entity,
            body=body,
            event_time=self.clock(),
        )

    def sign(self, event: Json, **kwargs: Any) -> str:
        return sign_webhook(
            private_key=self.private_key, event=event, instance_id=self.instance_id, issued_at=self.clock(), **kwargs
        )

    def created(self, entity_fqdn: str, entity: Json) -> str:
        return self.sign(self.event(entity_fqdn, "created", entity["id"], entity=entity))

    def updated(self, entity_fqdn: str, entity: Json) -> str:
        return self.sign(self.event(entity_fqdn, "updated", entity["id"], entity=entity))

    def deleted(self, entity_fqdn: str, entity: Json) -> str:
        return self.sign(self.event(entity_fqdn, "deleted", entity["id"], entity=entity))

    def action(self, entity_fqdn: str, slug: str, entity_id: str, body: Json) -> str:
        return self.sign(self.event(entity_fqdn, slug, entity_id, body=body))


def deliver(target: str | Callable[[str], Any], token: str, *, timeout: float = 10.0) -> tuple[int, str]:
    """POST ``token`` as Wix does (the body is the JWT, ``text/plain``). ``target`` is a URL or a
    callable taking the token and returning ``(status, text)`` or a response with
    ``status_code``. Returns ``(status, text)``."""
    if callable(target):
        answer = target(token)
        if isinstance(answer, tuple):
            return int(answer[0]), str(answer[1])
        content = getattr(answer, "content", b"")
        return int(answer.status_code), content.decode() if isinstance(content, bytes) else str(content)
    import httpx  # noqa: TID251 - the sandbox posts webhooks, as Wix does

    response = httpx.post(target, content=token.encode(), headers={"Content-Type": "text/plain"}, timeout=timeout)
    return response.status_code, response.text
