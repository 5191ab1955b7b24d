"""Fault injection settings; :class:`~wix_sandbox.app.Sandbox` applies them to every request."""

from __future__ import annotations

from dataclasses import dataclass, fields

# When the membership payments Charge Memberships answers as PENDING are settled (``handlers/ecom_orders.py``).
SETTLE_ON_NEXT_CALL = "next_call"
SETTLE_MANUALLY = "manual"
MEMBERSHIP_SETTLEMENTS = (SETTLE_ON_NEXT_CALL, SETTLE_MANUALLY)


@dataclass
class Faults:
    """What the sandbox does wrong on purpose (DESIGN.md §5), and how it plays Wix's asynchronous parts.

    Rates are probabilities per request. ``rate_limit_per_minute`` answers 429 with
    ``Retry-After`` once more calls than that arrive within a sliding minute.
    ``lost_response_rate``: the request is applied, then the response is dropped.
    ``partial_bulk_rate``: a bulk write (``POST …/bulk/…``) applies only its first half of items
    (at least one) and then answers ``500 INTERNAL_ERROR`` — a bulk call that failed part way, the
    reason a 5xx on a non-idempotent write is "maybe applied" (``WixUnavailable.maybe_applied``).

    Membership charges (Order Billing Charge Memberships answers its payments PENDING; they settle
    later, CONTRACT.md §12.3, §20):

    - ``membership_settlement``: ``next_call`` (default) settles an order's pending membership
      payments at the start of the next eCommerce call on that order (get / search / update /
      cancel order, its transactions, add payment, payment status, refund, charge, mark paid, its
      cart) that succeeds — a rejected call changes nothing, its settling included; ``manual``
      leaves them PENDING until :func:`wix_sandbox.handlers.ecom_orders.settle_membership_payments`
      is called.
    - ``membership_decline_rate``: the share of settlements that end DECLINED although the plan
      has credit (``1`` = every one), as when the plan's provider refuses the charge.
    """

    latency_ms: float = 0.0
    error_5xx_rate: float = 0.0
    timeout_rate: float = 0.0
    lost_response_rate: float = 0.0
    partial_bulk_rate: float = 0.0
    rate_limit_per_minute: int | None = None
    seed: int | None = None
    membership_settlement: str = SETTLE_ON_NEXT_CALL
    membership_decline_rate: float = 0.0

    @classmethod
    def parse(cls, spec: str | None) -> Faults:
        """From ``"latency_ms=150,error_5xx_rate=0.1,rate_limit_per_minute=200,membership_settlement=manual"``."""
        faults = cls()
        names = {f.name for f in fields(cls)}
        for item in filter(None, (spec or "").split(",")):
            key, _, value = item.partition("=")
            key, value = key.strip(), value.strip()
            if key not in names:
                raise ValueError(f"unknown sandbox fault {key!r}")
            if key == "membership_settlement":
                if value not in MEMBERSHIP_SETTLEMENTS:
                    raise ValueError(f"membership_settlement is one of {', '.join(MEMBERSHIP_SETTLEMENTS)}")
                setattr(faults, key, value)
                continue
            caster = int if key in ("rate_limit_per_minute", "seed") else float
            setattr(faults, key, caster(value))
        return faults
