"""Storing the answers the app adapts to (``WixSiteFact``), read back with ``selectors.site_fact``."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from bookings_app.models import WixSiteFact
from bookings_app.services.audit import audit_record

from .outcome import Answer

DETAIL_MAX = 2000


def site_facts_store(*, answers: list[Answer], actor: str = "wix_check") -> list[str]:
    """Save every answer that names a fact key (newest wins); returns the keys stored."""
    settled = [a for a in answers if a.key]
    if not settled:
        return []
    now = timezone.now()
    with transaction.atomic():
        for answer in settled:
            detail = answer.answer + (f" — {answer.detail}" if answer.detail else "")
            WixSiteFact.objects.update_or_create(
                key=answer.key,
                defaults={"value": answer.value, "settled_at": now, "detail": detail[:DETAIL_MAX]},
            )
        audit_record(
            user=actor,
            action="wix_check.facts",
            obj_type="WixSiteFact",
            obj_id=None,
            summary=f"wix_check settled {len(settled)} facts about the Wix site",
            after={a.key: a.value for a in settled if a.key},
        )
    return [a.key for a in settled if a.key]
