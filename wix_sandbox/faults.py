"""Fault injection settings; :class:`~wix_sandbox.app.Sandbox` applies them to every request."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Faults:
    """What the sandbox does wrong on purpose (DESIGN.md §5).

    Rates are probabilities per request. ``rate_limit_per_minute`` answers 429 with
    ``Retry-After`` once more calls than that arrive within a sliding minute.
    ``lost_response_rate``: the request is applied, then the response is dropped.
    ``partial_bulk_rate``: a bulk write (``POST …/bulk/…``) applies only its first half of items
    (at least one) and then answers ``500 INTERNAL_ERROR`` — a bulk call that failed part way, the
    reason a 5xx on a non-idempotent write is "maybe applied" (``WixUnavailable.maybe_applied``).
    """

    latency_ms: float = 0.0
    error_5xx_rate: float = 0.0
    timeout_rate: float = 0.0
    lost_response_rate: float = 0.0
    partial_bulk_rate: float = 0.0
    rate_limit_per_minute: int | None = None
    seed: int | None = None

    @classmethod
    def parse(cls, spec: str | None) -> Faults:
        """From ``"latency_ms=150,error_5xx_rate=0.1,rate_limit_per_minute=200"``."""
        faults = cls()
        for item in filter(None, (spec or "").split(",")):
            key, _, value = item.partition("=")
            key = key.strip()
            if not hasattr(faults, key):
                raise ValueError(f"unknown sandbox fault {key!r}")
            caster = int if key in ("rate_limit_per_minute", "seed") else float
            setattr(faults, key, caster(value))
        return faults
